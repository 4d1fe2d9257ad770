"""The asyncsense language server: `asyncsense server` (stdio, or `--tcp` for debugging).

See docs/server.md for what it does and docs/neovim.md for editor setup.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asyncsense server",
        description="Run the asyncsense language server (LSP over stdio by default).",
    )
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)")
    parser.add_argument("--tcp", action="store_true", help="listen on TCP instead (for debugging)")
    parser.add_argument("--host", default="127.0.0.1", help="TCP host (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2087, help="TCP port (default: 2087)")
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="what the server writes to stderr (the client also gets window/logMessage)",
    )
    parser.add_argument("--log-file", metavar="FILE", help="write the log to FILE instead of stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `asyncsense server`; returns the exit status."""
    try:
        args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exc:  # --help or a usage error
        return exc.code if isinstance(exc.code, int) else 2
    handler: logging.Handler = logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler], force=True)
    logging.getLogger("asyncsense").setLevel(args.log_level)

    from .app import create_server
    from .worker import _Heap

    _Heap.enabled = True  # this process is the server: tune the collector for it
    server = create_server()
    if args.tcp:
        server.start_tcp(args.host, args.port)
    else:
        server.start_io()
    return 0


__all__ = ["main"]

"""The `asyncsense` command: `check`, `server`, `rules`, `--version`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from . import __version__

_DESCRIPTION = "Finds asyncio mistakes that freeze event loops, lose exceptions and drop work."


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from .analyzers.output import OUTPUT_FORMATS

    parser = argparse.ArgumentParser(prog="asyncsense", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"asyncsense {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = commands.add_parser(
        "check",
        help="check files and directories (default: the current directory)",
        description="Check Python files and notebooks for asyncio mistakes. Exit status: 0 no problems,"
        " 1 problems found, 2 usage or config error or a file that could not be read.",
    )
    check.add_argument("paths", nargs="*", metavar="PATH", help="files or directories to check (default: .)")
    rules = check.add_argument_group("rule selection")
    rules.add_argument(
        "--select",
        action="append",
        metavar="RULES",
        help="comma-separated rule names or codes (or code prefixes, or ALL) to report;"
        " replaces the config's select and ignore",
    )
    rules.add_argument("--ignore", action="append", metavar="RULES", help="comma-separated rule names or codes to skip")
    out = check.add_argument_group("output")
    out.add_argument(
        "--output-format",
        choices=OUTPUT_FORMATS,
        default=None,
        help="text (default; or $ASYNCSENSE_OUTPUT_FORMAT), json, sarif (code scanning) or github (Actions annotations)",
    )
    out.add_argument("-o", "--output-file", metavar="FILE", help="write the report to FILE instead of stdout")
    out.add_argument("--statistics", action="store_true", help="print the number of problems per rule")
    out.add_argument("-q", "--quiet", action="store_true", help="print the problems and errors, nothing else")
    out.add_argument("--show-files", action="store_true", help="list the files that would be checked, and stop")
    out.add_argument("--exit-zero", action="store_true", help="exit with status 0 even when problems are found")
    fixes = check.add_argument_group("fixes")
    fixes.add_argument("--fix", action="store_true", help="apply the safe fixes to the files")
    fixes.add_argument("--unsafe-fixes", action="store_true", help="with --fix or --diff: apply unsafe fixes as well")
    fixes.add_argument("--diff", action="store_true", help="print the changes --fix would make, write nothing")
    settings = check.add_argument_group("settings")
    settings.add_argument("--config", metavar="FILE", help="use this pyproject.toml or TOML file instead of searching")
    settings.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    settings.add_argument("--python", metavar="PATH", help="interpreter whose installed packages are analysed")
    settings.add_argument(
        "--no-respect-gitignore",
        dest="respect_gitignore",
        action="store_false",
        help="check files that .gitignore files exclude",
    )
    settings.add_argument("--no-jedi", action="store_true", help="skip type inference (faster, finds less)")
    perf = check.add_argument_group("performance")
    perf.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    perf.add_argument("--cache-dir", metavar="DIR", help="cache directory (default: .asyncsense_cache in the project root)")
    perf.add_argument("-j", "--jobs", type=_positive_int, metavar="N", help="number of worker processes")

    commands.add_parser(
        "server",
        help="run the language server (stdio; --tcp --host H --port P for TCP)",
        add_help=False,
    )
    rules_cmd = commands.add_parser("rules", help="list the rules", description="List every rule with its code.")
    rules_cmd.add_argument("--output-format", choices=("text", "json"), default="text")
    return parser


def _run_server(argv: list[str], stderr: TextIO) -> int:
    try:
        from .server import main as server_main  # type: ignore[attr-defined]
    except ImportError as exc:
        print(f"asyncsense: error: the language server is not available: {exc}", file=stderr)
        return 2
    result = server_main(argv)
    return result if isinstance(result, int) else 0


def _run_rules(output_format: str, stdout: TextIO) -> int:
    from .analyzers.config import all_rules
    from .analyzers.output import rule_url

    rules = sorted(all_rules(), key=lambda r: r.code)
    if output_format == "json":
        data = [
            {
                "code": r.code,
                "name": r.name,
                "summary": r.summary,
                "default_severity": getattr(r.default_severity, "value", str(r.default_severity)),
                "url": rule_url(r.name),
            }
            for r in rules
        ]
        stdout.write(json.dumps(data, indent=2) + "\n")
        return 0
    width = max((len(r.name) for r in rules), default=0)
    for r in rules:
        stdout.write(f"{r.code}  {r.name:<{width}}  {r.summary}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    stdout, stderr = sys.stdout, sys.stderr
    if args_list and args_list[0] == "server":
        return _run_server(args_list[1:], stderr)

    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, --version, or a usage error (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)

    from .check import UsageError, internal_error, run_check

    try:
        if args.command == "check":
            if argv is None:  # the program itself, not a caller in its process (tests)
                from .analyzers.batch import tune_collector

                tune_collector()
            return run_check(args, stdout, stderr)
        if args.command == "rules":
            return _run_rules(args.output_format, stdout)
        parser.print_help(stderr)
        return 2
    except UsageError as exc:
        print(f"asyncsense {args.command}: error: {exc}", file=stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `asyncsense check | head`: stop quietly; keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception:
        return internal_error(stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

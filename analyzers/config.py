"""Settings: what the CLI flags, `[tool.asyncsense]` and the editor send.

`Config` is plain data that the engine reads; `load_config` and friends turn the
user's TOML into it with clear errors for unknown keys and bad values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .diagnostics import Severity


class ConfigError(Exception):
    """A setting the user wrote is wrong; the message names the key and the file."""


@dataclass(frozen=True)
class ExtraBlockingCall:
    """A user's own catalog entry: `{ name = "mylib.fetch", category = "network" }`."""

    name: str
    category: str = "custom"
    replacement: str | None = None


@dataclass
class Config:
    # Rule names or codes; None means every rule.
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    # glob pattern -> rule names or codes ignored in matching files
    per_file_ignores: dict[str, frozenset[str]] = field(default_factory=dict)
    # Paths (gitignore-style patterns) that `check DIR` skips.
    exclude: tuple[str, ...] = ()
    extend_exclude: tuple[str, ...] = ()
    extra_blocking_calls: tuple[ExtraBlockingCall, ...] = ()
    # Catalog entries the user declares non-blocking (qualified names).
    allowed_calls: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    # Python interpreter whose site-packages jedi reads (None: auto-detect).
    python: str | None = None
    # gather-lost-exceptions: flag every multi-awaitable gather, not only caught ones.
    strict_gather: bool = False
    # Framework profiles that mark loop-bound sync code (see docs/profiles.md).
    profiles: tuple[str, ...] = ()
    # Python version the code targets, e.g. (3, 11): decides TaskGroup suggestions.
    target_version: tuple[int, int] | None = None

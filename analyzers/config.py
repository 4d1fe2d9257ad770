"""Settings: what the CLI flags, `[tool.asyncsense]` and the editor send.

`Config` is plain data that the engine reads; `load_config` and friends turn the
user's TOML into it with clear errors for unknown keys and bad values.

* `find_config(start)` walks up from `start` to the first `pyproject.toml` that
  has a `[tool.asyncsense]` table.
* `load_config(path)` reads a `pyproject.toml` (its `[tool.asyncsense]` table) or
  a standalone TOML file whose top level holds the same keys.
* `config_from_settings(settings)` validates the editor's JSON settings (camelCase
  keys) the same way; the language server calls it.
* `apply_config(diagnostics, config)` keeps the selected rules, drops the
  per-file ignores and applies severity overrides: the engine reports every
  finding and leaves this to the front ends.

Every problem raises `ConfigError` whose message names the file and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from .diagnostics import Diagnostic, Severity

# Directories `check DIR` never walks into unless `exclude` is set (then the
# user's list replaces this one; `extend-exclude` adds to it).
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".asyncsense_cache",
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pycache__",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
)


class ConfigError(Exception):
    """A setting the user wrote is wrong; the message names the key and the file."""

    def __init__(self, message: str, *, key: str | None = None, source: str | None = None) -> None:
        super().__init__(message)
        self.key = key
        self.source = source


@dataclass(frozen=True)
class ExtraBlockingCall:
    """A user's own catalog entry: `{ name = "mylib.fetch", category = "network" }`."""

    name: str
    category: str = "custom"
    replacement: str | None = None


@dataclass
class Config:
    # Rule names or codes; None means every rule.  `load_config` stores rule names.
    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    # glob pattern -> rule names or codes ignored in matching files
    per_file_ignores: dict[str, frozenset[str]] = field(default_factory=dict)
    # Paths (gitignore-style patterns) that `check DIR` skips.  Setting `exclude`
    # replaces the defaults; `extend-exclude` adds to them.
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
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
    # Follow calls into installed libraries (see docs/libraries.md).
    follow_libraries: bool = True
    # Python version the code targets, e.g. (3, 11): decides TaskGroup suggestions.
    target_version: tuple[int, int] | None = None
    # Where the settings came from: the config file, and the directory that its
    # relative paths and patterns (exclude, per-file-ignores, python) are relative to.
    config_file: Path | None = None
    root: Path | None = None

    def is_enabled(self, rule: str, code: str | None = None, path: str | os.PathLike[str] | None = None) -> bool:
        """Whether findings of `rule` (name, with its code) are reported, in `path` if given."""
        if self.select is not None and not _selected(self.select, rule, code):
            return False
        if _selected(self.ignore, rule, code):
            return False
        if path is not None and self.per_file_ignores:
            relative = _relative_posix(path, self.root)
            for pattern, rules in self.per_file_ignores.items():
                if _selected(rules, rule, code) and _glob_matches(pattern, relative):
                    return False
        return True

    def severity_for(self, rule: str, code: str | None = None) -> Severity | None:
        for key, level in self.severity.items():
            if _selected((key,), rule, code):
                return level
        return None


# ---------------------------------------------------------------------------
# Rules: names, codes and selectors


@dataclass(frozen=True)
class RuleInfo:
    """Stand-in for `analyzers.rules.Rule` when the rule modules are not importable."""

    name: str
    code: str
    summary: str
    default_severity: Severity = Severity.WARNING


_BUILTIN_RULES: tuple[RuleInfo, ...] = (
    RuleInfo("blocking-call", "ASN001", "A blocking call inside a coroutine freezes the event loop."),
    RuleInfo("unawaited-coroutine", "ASN002", "A coroutine is created but never awaited."),
    RuleInfo("dangling-task", "ASN003", "A task is created but no reference to it is kept."),
    RuleInfo("gather-lost-exceptions", "ASN004", "asyncio.gather loses the exceptions of the other awaitables."),
    RuleInfo("nested-asyncio-run", "ASN005", "asyncio.run is called while an event loop is already running."),
    RuleInfo("loop-starvation", "ASN006", "A long loop in a coroutine never yields to the event loop."),
    RuleInfo("unclosed-async-resource", "ASN007", "An async resource is opened but never closed."),
)


def all_rules() -> list[Any]:
    """Every rule (objects with `.name`, `.code`, `.summary`, `.default_severity`)."""
    try:
        from .rules import RULES  # type: ignore[attr-defined]
    except ImportError:
        return list(_BUILTIN_RULES)
    rules = list(RULES)
    return rules or list(_BUILTIN_RULES)


def _selected(entries: Iterable[str], rule: str, code: str | None) -> bool:
    """Does one of `entries` (names, codes, code prefixes or ALL) denote `rule`?"""
    for entry in entries:
        if entry == rule:
            return True
        upper = entry.upper()
        if upper == "ALL":
            return True
        if code is not None and _CODE_PREFIX.fullmatch(upper) and code.upper().startswith(upper):
            return True
        if code is None and entry.lower() == rule.lower():
            return True
    return False


_CODE_PREFIX = re.compile(r"[A-Z]+[0-9]*")


def resolve_rules(selectors: Iterable[str], *, what: str = "rule") -> frozenset[str]:
    """Rule names denoted by names, codes, code prefixes (`ASN00`) or `ALL`.

    Raises ConfigError (without a file; callers add it) for an unknown selector.
    """
    rules = all_rules()
    by_name = {r.name: r.name for r in rules}
    by_code = {r.code.upper(): r.name for r in rules}
    names: set[str] = set()
    for selector in selectors:
        text = selector.strip()
        upper = text.upper()
        if upper == "ALL":
            names.update(by_name)
        elif text.lower() in by_name:
            names.add(by_name[text.lower()])
        elif upper in by_code:
            names.add(by_code[upper])
        elif _CODE_PREFIX.fullmatch(upper) and any(c.startswith(upper) for c in by_code):
            names.update(name for c, name in by_code.items() if c.startswith(upper))
        else:
            candidates = list(by_name) + [r.code for r in rules]
            raise ConfigError(f"unknown {what} {selector!r}{_did_you_mean(text, candidates)}", key=selector)
    return frozenset(names)


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    candidates = list(candidates)
    lowered = {c.lower(): c for c in candidates}
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return f" (did you mean {lowered[match[0]]!r}?)" if match else ""


# ---------------------------------------------------------------------------
# Applying a config to the engine's findings


def apply_config(
    diagnostics: Iterable[Diagnostic], config: Config, *, root: Path | None = None
) -> list[Diagnostic]:
    """Keep the diagnostics the config selects (select/ignore/per-file-ignores)
    and apply its severity overrides.  `root` defaults to `config.root`."""
    if root is not None and config.root is None:
        config = dataclasses.replace(config, root=root)
    kept: list[Diagnostic] = []
    for diagnostic in diagnostics:
        if not config.is_enabled(diagnostic.rule, diagnostic.code, diagnostic.path):
            continue
        level = config.severity_for(diagnostic.rule, diagnostic.code)
        if level is not None and level is not diagnostic.severity:
            diagnostic = dataclasses.replace(diagnostic, severity=level)
        kept.append(diagnostic)
    return kept


def _relative_posix(path: str | os.PathLike[str], root: Path | None) -> str:
    """`path` relative to `root` (or the working directory) in `/` form."""
    p = Path(path)
    base = Path(root) if root is not None else Path.cwd()
    if p.is_absolute():
        try:
            p = p.relative_to(base.absolute())
        except ValueError:
            # Outside the root: only unanchored patterns (`test_*.py`) can match.
            return PurePosixPath(*p.parts[1:]).as_posix()
    return p.as_posix().removeprefix("./")


_GLOB_CACHE: dict[str, Any] = {}


def _glob_matches(pattern: str, relative_posix: str) -> bool:
    """gitignore semantics: `tests/` or `tests/*` anchor at the root, `test_*.py` matches anywhere."""
    compiled = _GLOB_CACHE.get(pattern)
    if compiled is None:
        try:
            compiled = compile_gitignore(pattern)
        except ValueError:
            # load_config refuses such patterns; a Config built in code may still hold one.
            compiled = None
        _GLOB_CACHE[pattern] = compiled
    return compiled is not None and bool(compiled.match_file(relative_posix))


def compile_gitignore(pattern: str) -> Any:
    """A one-pattern `pathspec.GitIgnoreSpec`; ValueError (with the reason) for a pattern git
    would not understand (`!`, `\\`, `[z-a]`)."""
    import pathspec

    try:
        return pathspec.GitIgnoreSpec.from_lines([pattern])
    except (ValueError, re.error) as exc:  # GitIgnorePatternError is a ValueError
        reason = getattr(exc, "msg", None) or str(exc)
        raise ValueError(reason) from None


# ---------------------------------------------------------------------------
# Finding and loading TOML


def find_config(start: str | os.PathLike[str]) -> Path | None:
    """The first `pyproject.toml` with a `[tool.asyncsense]` table in `start` or above."""
    here = Path(start).absolute()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _has_our_table(candidate):
            return candidate
    return None


def _has_our_table(pyproject: Path) -> bool:
    try:
        # Undecodable bytes still count when the file has our table: load_config
        # then reports the encoding error instead of the settings being skipped.
        text = pyproject.read_bytes().decode("utf-8", errors="replace")
    except OSError:
        return False
    if "asyncsense" not in text:
        return False
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        # Broken TOML that mentions us: let load_config report the error.
        return bool(re.search(r"^\s*\[\s*tool\s*\.\s*asyncsense\b", text, re.MULTILINE))
    tool = data.get("tool")
    return isinstance(tool, dict) and "asyncsense" in tool


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read `[tool.asyncsense]` from a pyproject.toml, or the top level of another TOML file."""
    path = Path(path)
    try:
        data_bytes = path.read_bytes()
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file", source=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc.strerror or exc}", source=str(path)) from None
    try:
        text = data_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not valid UTF-8: {exc.reason}", source=str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}", source=str(path)) from None

    tool = data.get("tool")
    if path.name == "pyproject.toml" or (isinstance(tool, dict) and "asyncsense" in tool):
        table = tool.get("asyncsense", {}) if isinstance(tool, dict) else {}
        where = "[tool.asyncsense]"
    else:
        table = data
        where = ""
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: 'tool.asyncsense' must be a table", key="tool.asyncsense", source=str(path))
    root = path.absolute().parent
    config = _from_table(table, _TOML_KEYS, source=str(path), where=where, base_dir=root, strict=True)
    config.config_file = path.absolute()
    config.root = root
    return config


# Settings keys: TOML spelling -> Config attribute.
_TOML_KEYS: dict[str, str] = {
    "select": "select",
    "ignore": "ignore",
    "per-file-ignores": "per_file_ignores",
    "exclude": "exclude",
    "extend-exclude": "extend_exclude",
    "extra-blocking-calls": "extra_blocking_calls",
    "allowed-calls": "allowed_calls",
    "severity": "severity",
    "python": "python",
    "strict-gather": "strict_gather",
    "profiles": "profiles",
    "target-version": "target_version",
    "follow-libraries": "follow_libraries",
}

# Editor settings (JSON, camelCase) -> Config attribute.
_SETTINGS_KEYS: dict[str, str] = {
    "select": "select",
    "ignore": "ignore",
    "severity": "severity",
    "interpreter": "python",
    "extraBlockingCalls": "extra_blocking_calls",
    "strictGather": "strict_gather",
    "perFileIgnores": "per_file_ignores",
    "exclude": "exclude",
    "extendExclude": "extend_exclude",
    "allowedCalls": "allowed_calls",
    "profiles": "profiles",
    "targetVersion": "target_version",
    "followLibraries": "follow_libraries",
}


def config_from_settings(
    settings: Mapping[str, Any] | None,
    *,
    base: Config | None = None,
    strict: bool = False,
    source: str = "settings",
) -> Config:
    """A Config from the editor's JSON settings, validated like the TOML.

    Keys: `select`, `ignore`, `severity`, `interpreter` (a path, or a list whose
    first item is one), `extraBlockingCalls`, `strictGather`, and also
    `perFileIgnores`, `exclude`, `extendExclude`, `allowedCalls`, `profiles`,
    `targetVersion`.  A key set to null counts as absent.  Settings present
    override `base` (e.g. the project's pyproject config).  Unknown keys are
    ignored (editors send their own settings in the same section) unless
    `strict`.  Raises ConfigError.
    """
    if settings is None:
        settings = {}
    if not isinstance(settings, Mapping):
        raise ConfigError(f"{source}: expected an object, got {_type_name(settings)}", source=source)
    values = {k: v for k, v in settings.items() if v is not None}
    if "interpreter" in values and isinstance(values["interpreter"], list):
        interpreter = values["interpreter"]
        values["interpreter"] = interpreter[0] if interpreter else None
        if values["interpreter"] is None:
            del values["interpreter"]
    base_dir = base.root if base is not None else None
    overrides = _from_table(values, _SETTINGS_KEYS, source=source, where="", base_dir=base_dir, strict=strict)
    result = dataclasses.replace(base) if base is not None else Config()
    for key, attr in _SETTINGS_KEYS.items():
        if key in values:
            setattr(result, attr, getattr(overrides, attr))
    return result


def _from_table(
    table: Mapping[str, Any],
    keys: Mapping[str, str],
    *,
    source: str,
    where: str,
    base_dir: Path | None,
    strict: bool,
) -> Config:
    def error(key: str, problem: str) -> ConfigError:
        prefix = f"{where} " if where else ""
        return ConfigError(f"{source}: {prefix}'{key}': {problem}", key=key, source=source)

    if strict:
        for key in table:
            if key not in keys:
                prefix = f" in {where}" if where else ""
                raise ConfigError(
                    f"{source}: unknown key {key!r}{prefix}{_did_you_mean(key, keys)}", key=key, source=source
                )

    config = Config()
    for key, value in table.items():
        attr = keys.get(key)
        if attr is None:
            continue
        try:
            setattr(config, attr, _CONVERTERS[attr](value, base_dir))
        except ConfigError as exc:
            raise error(key, str(exc)) from None
    return config


# ---------------------------------------------------------------------------
# Value converters: raise ConfigError("<problem>") and _from_table adds file and key.


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "table"
    return type(value).__name__


def _string_list(value: Any, what: str = "strings") -> list[str]:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"expected an array of {what}, got {_type_name(value)}")
    for item in value:
        if not isinstance(item, str):
            raise ConfigError(f"expected an array of {what}, but it contains {_type_name(item)}")
    return list(value)


def _rules(value: Any, base_dir: Path | None = None) -> frozenset[str]:
    return resolve_rules(_string_list(value, "rule names or codes"))


def _per_file_ignores(value: Any, base_dir: Path | None) -> dict[str, frozenset[str]]:
    if not isinstance(value, dict):
        raise ConfigError(f"expected a table of glob = [rules], got {_type_name(value)}")
    result: dict[str, frozenset[str]] = {}
    for pattern, rules in value.items():
        _check_pattern(pattern)
        try:
            result[pattern] = resolve_rules(_string_list(rules, "rule names or codes"))
        except ConfigError as exc:
            raise ConfigError(f"{pattern!r}: {exc}") from None
    return result


def _patterns(value: Any, base_dir: Path | None) -> tuple[str, ...]:
    patterns = _string_list(value, "path patterns")
    for pattern in patterns:
        _check_pattern(pattern)
    return tuple(patterns)


def _check_pattern(pattern: str) -> None:
    """Refuse a glob that would otherwise fail (or be dropped) while the files are walked."""
    try:
        compile_gitignore(pattern)
    except ValueError as exc:
        raise ConfigError(f"{pattern!r} is not a valid gitignore-style pattern ({exc})") from None


_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_EXTRA_CALL_KEYS = ("name", "category", "replacement")


def _extra_blocking_calls(value: Any, base_dir: Path | None) -> tuple[ExtraBlockingCall, ...]:
    if not isinstance(value, list | tuple):
        raise ConfigError(f"expected an array of names or {{ name, category, replacement }} tables, got {_type_name(value)}")
    calls: list[ExtraBlockingCall] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, dict):
            raise ConfigError(
                f"item {index + 1}: expected a qualified name or a {{ name, category, replacement }} table,"
                f" got {_type_name(item)}"
            )
        for key in item:
            if key not in _EXTRA_CALL_KEYS:
                raise ConfigError(f"item {index + 1}: unknown key {key!r}{_did_you_mean(key, _EXTRA_CALL_KEYS)}")
        name = item.get("name")
        if name is None:
            raise ConfigError(f"item {index + 1}: missing 'name'")
        if not isinstance(name, str) or not _DOTTED_NAME.fullmatch(name):
            raise ConfigError(
                f"item {index + 1}: 'name' must be a qualified name like 'mylib.fetch', got {_type_name(name)}"
            )
        category = item.get("category", "custom")
        if not isinstance(category, str) or not category:
            raise ConfigError(f"item {index + 1}: 'category' must be a non-empty string, got {_type_name(category)}")
        replacement = item.get("replacement")
        if replacement is not None and not isinstance(replacement, str):
            raise ConfigError(f"item {index + 1}: 'replacement' must be a string, got {_type_name(replacement)}")
        calls.append(ExtraBlockingCall(name, category, replacement))
    return tuple(calls)


def _allowed_calls(value: Any, base_dir: Path | None) -> frozenset[str]:
    names = _string_list(value, "qualified names")
    for name in names:
        if not _DOTTED_NAME.fullmatch(name):
            raise ConfigError(f"{name!r} is not a qualified name like 'mylib.fetch'")
    return frozenset(names)


_LEVELS = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "information": Severity.INFORMATION,
    "info": Severity.INFORMATION,
    "hint": Severity.HINT,
}


def _severity(value: Any, base_dir: Path | None) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise ConfigError(f"expected a table of rule = level, got {_type_name(value)}")
    result: dict[str, Severity] = {}
    for rule, level in value.items():
        names = resolve_rules([rule])
        if not isinstance(level, str) or level.lower() not in _LEVELS:
            got = _type_name(level)
            hint = _did_you_mean(level, _LEVELS) if isinstance(level, str) else ""
            raise ConfigError(
                f"{rule!r}: level must be one of 'error', 'warning', 'information', 'hint', got {got}{hint}"
            )
        for name in names:
            result[name] = _LEVELS[level.lower()]
    return result


def _python(value: Any, base_dir: Path | None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"expected the path of a Python interpreter, got {_type_name(value)}")
    value = os.path.expanduser(value)
    if base_dir is not None and ("/" in value or os.sep in value) and not os.path.isabs(value):
        value = str(base_dir / value)
    return value


def _bool(value: Any, base_dir: Path | None) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"expected true or false, got {_type_name(value)}")
    return value


# A bundled profile's name, or the path of a profile file (`*.toml`).
_PROFILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*|[^\s].*\.toml")


def _profiles(value: Any, base_dir: Path | None) -> tuple[str, ...]:
    # Loaded here, not only when the engine selects them: an unknown name or a
    # broken profile file is the user's config error (file, key, exit 2), not a
    # profile silently left out.
    from .profiles import AUTO, NONE, load_profile

    names = _string_list(value, "profile names")
    for name in names:
        if not _PROFILE_NAME.fullmatch(name):
            raise ConfigError(f"{name!r} is not a profile name")
        if name not in (AUTO, NONE):
            load_profile(name, base_dir)  # raises ConfigError with the reason
    return tuple(names)


_TARGET_VERSION = re.compile(r"py3(\d{1,2})")


def _target_version(value: Any, base_dir: Path | None) -> tuple[int, int]:
    match = _TARGET_VERSION.fullmatch(value) if isinstance(value, str) else None
    if match is None or not 7 <= int(match.group(1)) <= 99:
        raise ConfigError(f"expected a version like 'py311', got {_type_name(value)}")
    return (3, int(match.group(1)))


_CONVERTERS: dict[str, Any] = {
    "select": _rules,
    "ignore": _rules,
    "per_file_ignores": _per_file_ignores,
    "exclude": _patterns,
    "extend_exclude": _patterns,
    "extra_blocking_calls": _extra_blocking_calls,
    "allowed_calls": _allowed_calls,
    "severity": _severity,
    "python": _python,
    "strict_gather": _bool,
    "profiles": _profiles,
    "target_version": _target_version,
    "follow_libraries": _bool,
}

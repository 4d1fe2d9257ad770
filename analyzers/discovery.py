"""Which files `asyncsense check PATH ...` analyses.

* Directories are walked for `*.py` files and `*.ipynb` notebooks.
* `.gitignore` files are honoured the way git does: the ones in the walked
  directories and their ancestors up to the repository root (the directory
  holding `.git`), nested files refining outer ones, `!` re-including, plus
  `.git/info/exclude`.  A directory that is ignored is not entered.
* `exclude` (defaults: `.git`, `.venv`, `venv`, `node_modules`, `__pycache__`,
  `build`, `dist`, `.tox`, ...) and `extend-exclude` are gitignore-style
  patterns relative to the project root (the config file's directory).
* Paths named explicitly are always analysed, whatever their suffix and even if
  ignored or excluded; a missing path is an error for that path only.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from .config import Config

SOURCE_SUFFIXES = (".py", ".ipynb")
_PLAIN_NAME = re.compile(r"[^/*?\[\]!\\#\s]+/?")


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    # (path as the user wrote it, message) for paths that do not exist
    errors: list[tuple[str, str]] = field(default_factory=list)


class _Ignore:
    """One gitignore-style pattern list, relative to `base`."""

    def __init__(self, base: Path, lines: Iterable[str]) -> None:
        self.base = base
        self.base_str = str(base)
        self._set_patterns([p for p in _compile_lines(list(lines)) if p.include is not None])

    def _set_patterns(self, patterns: list) -> None:
        self.patterns = patterns
        # Fast path for the common case (`build`, `.venv/`, ...): without `!` patterns,
        # a bare name matches an entry by its own name alone, since the walk already
        # checked every directory above it.
        self._names: set[str] = set()
        self._dir_names: set[str] = set()
        self._others = patterns
        if all(p.include for p in patterns):
            others = []
            for p in patterns:
                text = getattr(p, "pattern", None)
                if isinstance(text, str) and _PLAIN_NAME.fullmatch(text):
                    (self._dir_names if text.endswith("/") else self._names).add(text.rstrip("/"))
                else:
                    others.append(p)
            self._others = others

    def check(self, path: str, name: str, is_dir: bool, base: str | None = None) -> bool | None:
        """True: ignored, False: re-included by `!`, None: no pattern applies.

        `path` is absolute, `name` its last part.  Call it for each entry of a
        walk, parents first: a bare-name pattern is only compared with `name`."""
        relative = _relative(path, base or self.base_str)
        if not relative:
            return None
        if name in self._names or (is_dir and name in self._dir_names):
            return True
        if is_dir:
            relative += "/"
        verdict: bool | None = None
        for pattern in self._others:
            if pattern.match_file(relative) is not None:
                verdict = bool(pattern.include)
        return verdict

    def sparing(self, top: Path) -> _Ignore:
        """Without the patterns that exclude `top` or a directory above it: a directory
        named on the command line is walked even if it is excluded."""
        if not top.is_relative_to(self.base) or top == self.base:
            return self
        above = [top, *top.parents]
        above = above[: above.index(self.base)]
        dirs = [a.relative_to(self.base).as_posix() + "/" for a in above]
        kept = [p for p in self.patterns if not (p.include and any(p.match_file(d) is not None for d in dirs))]
        if len(kept) == len(self.patterns):
            return self
        spared = _Ignore(self.base, [])
        spared._set_patterns(kept)
        return spared


def _compile_lines(lines: list[str]) -> list:
    """The patterns of a gitignore-style list; a line pathspec refuses (`!`, `[z-a]`) is
    skipped, as git skips it, instead of failing the whole walk."""
    try:
        return list(pathspec.GitIgnoreSpec.from_lines(lines).patterns)
    except (ValueError, re.error):
        patterns = []
        for line in lines:
            try:
                patterns.extend(pathspec.GitIgnoreSpec.from_lines([line]).patterns)
            except (ValueError, re.error):
                continue
        return patterns


def _relative(path: str, base: str) -> str | None:
    """`path` below `base` in `/` form; None when it is not below."""
    prefix = base if base.endswith(os.sep) else base + os.sep
    if not path.startswith(prefix):
        return None
    relative = path[len(prefix) :]
    return relative.replace(os.sep, "/") if os.sep != "/" else relative


def _read_ignore_file(path: Path) -> list[str] | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None


def _git_root(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return None


class _Walker:
    def __init__(self, config: Config, root: Path, respect_gitignore: bool) -> None:
        self.root = root
        self.respect_gitignore = respect_gitignore
        patterns = [*config.exclude, *config.extend_exclude]
        self.exclude = _Ignore(root, patterns) if patterns else None
        self._gitignores: dict[str, _Ignore | None] = {}
        # (path, message): directories that could not be listed, files that are none
        self.errors: list[tuple[str, str]] = []

    def _gitignore(self, directory: str) -> _Ignore | None:
        if directory not in self._gitignores:
            lines = _read_ignore_file(Path(directory, ".gitignore"))
            self._gitignores[directory] = _Ignore(Path(directory), lines) if lines else None
        return self._gitignores[directory]

    def ancestors_ignores(self, top: Path) -> list[_Ignore]:
        """The .gitignore files that apply above `top` (outermost first), and info/exclude."""
        if not self.respect_gitignore:
            return []
        git_root = _git_root(top)
        if git_root is None:
            return []
        ignores: list[_Ignore] = []
        info = _read_ignore_file(git_root / ".git" / "info" / "exclude")
        if info:
            ignores.append(_Ignore(git_root, info))
        chain = [top, *top.parents]
        for directory in reversed(chain[1 : chain.index(git_root) + 1] if git_root in chain else []):
            ignore = self._gitignore(str(directory))
            if ignore is not None:
                ignores.append(ignore)
        return ignores

    def is_excluded(
        self, path: str, name: str, is_dir: bool, ignores: Sequence[_Ignore], top: str, exclude: _Ignore | None
    ) -> bool:
        if exclude is not None:
            if _relative(path, exclude.base_str) is not None:
                verdict = exclude.check(path, name, is_dir)
            else:
                # Outside the project root: match the patterns relative to the walked directory.
                verdict = exclude.check(path, name, is_dir, base=top)
            if verdict:
                return True
        verdict = None
        for ignore in ignores:  # innermost decides
            result = ignore.check(path, name, is_dir)
            if result is not None:
                verdict = result
        return bool(verdict)

    def walk(self, top: Path, out: list[Path]) -> None:
        base_ignores = [ignore.sparing(top) for ignore in self.ancestors_ignores(top)]
        exclude = self.exclude.sparing(top) if self.exclude is not None else None
        self._walk_dir(str(top), str(top), base_ignores, exclude, out)

    def _walk_dir(
        self, top: str, directory: str, ignores: list[_Ignore], exclude: _Ignore | None, out: list[Path]
    ) -> None:
        if self.respect_gitignore:
            own = self._gitignore(directory)
            if own is not None:
                ignores = [*ignores, own]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            self.errors.append((directory, f"could not read directory: {_reason(exc)}"))
            return
        for entry in entries:
            path = entry.path
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name == ".git" or self.is_excluded(path, entry.name, True, ignores, top, exclude):
                    continue
                self._walk_dir(top, path, ignores, exclude, out)
            elif entry.name.endswith(SOURCE_SUFFIXES):
                # Symlinked directories are not followed (no loops); a symlink
                # to a directory named *.py is no source file either.
                if entry.is_symlink() and os.path.isdir(path):
                    continue
                if self.is_excluded(path, entry.name, False, ignores, top, exclude):
                    continue
                # A regular file needs no system call here (the directory entry says so).
                problem = None if _is_regular(entry) else not_a_source_file(path)
                if problem is not None:
                    self.errors.append((path, problem))
                else:
                    out.append(Path(path))


def discover(
    paths: Sequence[str | os.PathLike[str]],
    config: Config,
    *,
    root: Path | None = None,
    respect_gitignore: bool = True,
) -> Discovery:
    """The files to analyse for `paths` (absolute, sorted, without duplicates)."""
    root = (root or config.root or Path.cwd()).absolute()
    walker = _Walker(config, root, respect_gitignore)
    result = Discovery()
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw).absolute()
        found: list[Path] = []
        if path.is_dir():
            walker.walk(path, found)
        elif path.exists() or path.is_symlink():
            problem = not_a_source_file(str(path))
            if problem is not None:
                result.errors.append((str(raw), problem))
                continue
            found.append(path)  # named explicitly: always analysed
        else:
            result.errors.append((str(raw), "No such file or directory"))
            continue
        for file in found:
            if file not in seen:
                seen.add(file)
                result.files.append(file)
    result.errors.extend(walker.errors)
    result.files.sort()
    return result


def _is_regular(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def not_a_source_file(path: str) -> str | None:
    """Why ``path`` cannot be read as a source file, or None.

    Opening a named pipe blocks until something writes to it (``check .`` would
    hang), and a symlink loop is no broken link: both are reported here.  A
    missing file or a broken link is left to the reader, which says so.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "could not read file: symbolic link loop"
        return None
    for test, kind in _SPECIAL_FILES:
        if test(mode):
            return f"could not read file: not a regular file ({kind})"
    return None


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower() if exc.strerror else str(exc)

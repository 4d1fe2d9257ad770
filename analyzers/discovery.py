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

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from .config import Config

SOURCE_SUFFIXES = (".py", ".ipynb")


@dataclass
class Discovery:
    files: list[Path] = field(default_factory=list)
    # (path as the user wrote it, message) for paths that do not exist
    errors: list[tuple[str, str]] = field(default_factory=list)


class _Ignore:
    """One gitignore-style pattern list, relative to `base`."""

    def __init__(self, base: Path, lines: Iterable[str]) -> None:
        self.base = base
        self.patterns = [p for p in pathspec.GitIgnoreSpec.from_lines(list(lines)).patterns if p.include is not None]

    def check(self, path: Path, is_dir: bool, base: Path | None = None) -> bool | None:
        """True: ignored, False: re-included by `!`, None: no pattern applies."""
        try:
            relative = path.relative_to(base or self.base).as_posix()
        except ValueError:
            return None
        if relative == ".":
            return None
        if is_dir:
            relative += "/"
        verdict: bool | None = None
        for pattern in self.patterns:
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
        spared.patterns = kept
        return spared


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
        self._gitignores: dict[Path, _Ignore | None] = {}

    def _gitignore(self, directory: Path) -> _Ignore | None:
        if directory not in self._gitignores:
            lines = _read_ignore_file(directory / ".gitignore")
            self._gitignores[directory] = _Ignore(directory, lines) if lines else None
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
            ignore = self._gitignore(directory)
            if ignore is not None:
                ignores.append(ignore)
        return ignores

    def is_excluded(
        self, path: Path, is_dir: bool, ignores: Sequence[_Ignore], top: Path, exclude: _Ignore | None
    ) -> bool:
        if exclude is not None:
            verdict = exclude.check(path, is_dir)
            if verdict is None and not path.is_relative_to(exclude.base):
                # Outside the project root: match the patterns relative to the walked directory.
                verdict = exclude.check(path, is_dir, base=top)
            if verdict:
                return True
        verdict = None
        for ignore in ignores:  # innermost decides
            result = ignore.check(path, is_dir)
            if result is not None:
                verdict = result
        return bool(verdict)

    def walk(self, top: Path, out: list[Path]) -> None:
        base_ignores = [ignore.sparing(top) for ignore in self.ancestors_ignores(top)]
        exclude = self.exclude.sparing(top) if self.exclude is not None else None
        self._walk_dir(top, top, base_ignores, exclude, out)

    def _walk_dir(
        self, top: Path, directory: Path, ignores: list[_Ignore], exclude: _Ignore | None, out: list[Path]
    ) -> None:
        if self.respect_gitignore:
            own = self._gitignore(directory)
            if own is not None:
                ignores = [*ignores, own]
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            path = directory / entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                if entry.name == ".git" or self.is_excluded(path, True, ignores, top, exclude):
                    continue
                self._walk_dir(top, path, ignores, exclude, out)
            elif entry.name.endswith(SOURCE_SUFFIXES):
                # Symlinked directories are not followed (no loops); a symlink
                # to a directory named *.py is no source file either.
                if entry.is_symlink() and os.path.isdir(path):
                    continue
                if not self.is_excluded(path, False, ignores, top, exclude):
                    out.append(path)


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
            found.append(path)  # named explicitly: always analysed
        else:
            result.errors.append((str(raw), "No such file or directory"))
            continue
        for file in found:
            if file not in seen:
                seen.add(file)
                result.files.append(file)
    result.files.sort()
    return result

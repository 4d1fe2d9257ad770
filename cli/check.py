"""`asyncsense check`: find the files, run the engine, filter, fix, print.

Exit codes: 0 no findings, 1 findings, 2 a usage or config error, or a file
that could not be read or decoded (the other files are still checked and
reported).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import shutil
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from . import __version__
from .analyzers import output
from .analyzers.config import Config, ConfigError, all_rules, apply_config, find_config, load_config, resolve_rules
from .analyzers.diagnostics import Diagnostic, Fix
from .analyzers.output import CellMap
from .analyzers.discovery import discover
from .analyzers.suppression import filter_suppressed
from .sources import apply_fixes_to_text, read_notebook, read_source

CACHE_DIR_NAME = ".asyncsense_cache"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
MAX_FIX_PASSES = 10
_ROOT_MARKERS = (".git", "pyproject.toml", "setup.py", "setup.cfg")


class UsageError(Exception):
    pass


def split_rules(values: Sequence[str] | None) -> list[str]:
    """`--select a,b --select c` -> ["a", "b", "c"]."""
    out: list[str] = []
    for value in values or ():
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def guess_root(first_path: Path) -> Path:
    """Without a config file: the enclosing repository or project, else the working directory."""
    start = first_path.absolute()
    if not start.is_dir():
        start = start.parent
    for directory in (start, *start.parents):
        if any((directory / marker).exists() for marker in _ROOT_MARKERS):
            return directory
    cwd = Path.cwd()
    return cwd if start.is_relative_to(cwd) else start


class _Reporter:
    def __init__(self, stderr: TextIO, cwd: Path) -> None:
        self.stderr = stderr
        self.cwd = cwd
        self.errors: list[tuple[str, str]] = []

    @property
    def unchecked(self) -> int:
        return len({path for path, _ in self.errors})

    def error(self, path: str, message: str) -> None:
        self.errors.append((path, message))
        print(f"{output.display_path(path, self.cwd)}: error: {message}", file=self.stderr)

    def warning(self, path: str, message: str) -> None:
        print(f"{output.display_path(path, self.cwd)}: warning: {message}", file=self.stderr)


def load_settings(args: Any, paths: Sequence[str]) -> Config:
    if args.isolated:
        config = Config()
    elif args.config:
        config = load_config(Path(args.config))
    else:
        found = find_config(Path(paths[0]))
        config = load_config(found) if found is not None else Config()
    select = split_rules(args.select)
    ignore = split_rules(args.ignore)
    try:
        cli_select = resolve_rules(select) if args.select is not None else None
    except ConfigError as exc:
        raise UsageError(f"--select: {exc}") from None
    try:
        cli_ignore = resolve_rules(ignore)
    except ConfigError as exc:
        raise UsageError(f"--ignore: {exc}") from None
    if cli_select is not None:
        # As in ruff: --select on the command line replaces the config's select and ignore.
        config = dataclasses.replace(config, select=cli_select, ignore=cli_ignore)
    elif cli_ignore:
        config = dataclasses.replace(config, ignore=config.ignore | cli_ignore)
    if args.python:
        if not _interpreter_exists(args.python):
            raise UsageError(f"--python: no Python interpreter at {args.python!r}")
        config = dataclasses.replace(config, python=args.python)
    return config


def _interpreter_exists(python: str) -> bool:
    if os.sep in python or "/" in python:
        return os.path.exists(python)
    return shutil.which(python) is not None


def _readable(path: Path) -> str | None:
    """Why `path` cannot be read, or None."""
    if path.is_symlink() and not path.exists():
        return "could not read file: broken symbolic link"
    if path.is_dir():
        return "could not read file: is a directory"
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        return f"could not read file: {exc.strerror or exc}"
    return None


class _Sources:
    """Lines of the analysed files, read once, for suppression comments."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str] | None] = {}

    def set_text(self, path: str, text: str) -> None:
        self._lines[path] = _LINE_BREAK.split(text)

    def lines(self, path: str) -> list[str] | None:
        if path not in self._lines:
            try:
                self._lines[path] = read_source(Path(path)).lines
            except OSError:
                self._lines[path] = None
        return self._lines[path]

    def forget(self, path: str) -> None:
        self._lines.pop(path, None)


def _postprocess(results: Sequence[Any], config: Config, sources: _Sources) -> dict[str, list[Diagnostic]]:
    """path -> the diagnostics that survive select/ignore/per-file-ignores and suppression comments."""
    by_path: dict[str, list[Diagnostic]] = {}
    for result in results:
        kept = apply_config(result.diagnostics, config)
        grouped: dict[str, list[Diagnostic]] = {}
        for diagnostic in kept:
            grouped.setdefault(diagnostic.path, []).append(diagnostic)
        survivors: list[Diagnostic] = []
        for path, diagnostics in grouped.items():
            lines = sources.lines(path)
            survivors.extend(filter_suppressed(diagnostics, lines) if lines is not None else diagnostics)
        by_path[str(result.path)] = survivors
    return by_path


def _usable_fix(diagnostic: Diagnostic, unsafe: bool) -> Fix | None:
    fix = diagnostic.fix
    if fix is None or not fix.edits or diagnostic.path.endswith(".ipynb"):  # notebooks are not rewritten
        return None
    return fix if (unsafe or fix.is_safe) else None


def _plan_fixes(diagnostics: Sequence[Diagnostic], unsafe: bool) -> dict[str, list[Fix]]:
    plan: dict[str, list[Fix]] = {}
    for d in diagnostics:
        fix = _usable_fix(d, unsafe)
        if fix is not None:
            plan.setdefault(d.path, []).append(fix)
    return plan


def run_check(args: Any, stdout: TextIO, stderr: TextIO) -> int:
    cwd = Path.cwd()
    paths = list(args.paths) or ["."]
    output_format = args.output_format or os.environ.get("ASYNCSENSE_OUTPUT_FORMAT") or "text"
    if output_format not in output.OUTPUT_FORMATS:
        raise UsageError(
            f"invalid output format {output_format!r} (from ASYNCSENSE_OUTPUT_FORMAT);"
            f" choose from {', '.join(output.OUTPUT_FORMATS)}"
        )
    try:
        config = load_settings(args, paths)
    except ConfigError as exc:
        print(f"asyncsense: error: {exc}", file=stderr)
        return 2
    if config.python and not args.python and not _interpreter_exists(config.python):
        if not args.quiet:
            where = config.config_file or "config"
            print(
                f"{where}: warning: 'python': no interpreter at {config.python!r}; using the auto-detected one",
                file=stderr,
            )
        config = dataclasses.replace(config, python=None)
    root = (config.root or guess_root(Path(paths[0]))).absolute()
    if config.root is None:
        config = dataclasses.replace(config, root=root)
    reporter = _Reporter(stderr, cwd)

    found = discover(paths, config, root=root, respect_gitignore=args.respect_gitignore)
    for path, message in found.errors:
        reporter.error(path, message)
    if args.show_files:
        for file in found.files:
            print(output.display_path(file, cwd), file=stdout)
        return 2 if reporter.errors else 0

    files: list[Path] = []
    for file in found.files:
        problem = _readable(file)
        if problem is not None:
            reporter.error(str(file), problem)
        else:
            files.append(file)

    if args.no_cache:
        cache_dir = None
    elif args.cache_dir:
        cache_dir = Path(args.cache_dir).absolute()
    elif os.environ.get("ASYNCSENSE_CACHE_DIR"):
        cache_dir = Path(os.environ["ASYNCSENSE_CACHE_DIR"]).absolute()
    else:
        cache_dir = root / CACHE_DIR_NAME

    from .analyzers.project import Project

    project = Project(
        root,
        config,
        python=config.python,
        cache_dir=cache_dir,
        use_jedi=not args.no_jedi,
        jobs=args.jobs,
    )
    # Notebooks: the engine analyses the code cells, joined, in place of the JSON.
    sources = _Sources()
    notebooks: dict[str, CellMap] = {}
    for file in [f for f in files if f.suffix == ".ipynb"]:
        try:
            text, cells = read_notebook(file)
        except (OSError, ValueError) as exc:
            reporter.error(str(file), str(exc) if isinstance(exc, ValueError) else f"could not read file: {exc}")
            files.remove(file)
            continue
        project.set_source(file, text)
        notebooks[str(file)] = cells
        sources.set_text(str(file), text)

    results = project.check(files) if files else []
    for result in results:
        for message in result.errors:
            reporter.error(str(result.path), message)
        if result.partial and not args.quiet:
            reporter.warning(str(result.path), "parts of the file could not be parsed and were skipped")

    by_path = _postprocess(results, config, sources)

    if args.diff:
        return _show_diff(by_path, args, stdout, stderr, reporter)

    fixed = None
    if args.fix:
        fixed = _fix(project, by_path, config, sources, args, reporter)

    diagnostics = output.sort_diagnostics(d for ds in by_path.values() for d in ds)
    fixable = sum(1 for d in diagnostics if _usable_fix(d, args.unsafe_fixes))
    hidden = 0 if args.unsafe_fixes else sum(1 for d in diagnostics if _usable_fix(d, True) and not _usable_fix(d, False))

    out = stdout
    handle = None
    if args.output_file:
        try:
            handle = out = open(args.output_file, "w", encoding="utf-8")
        except OSError as exc:
            print(f"asyncsense: error: cannot write {args.output_file}: {exc.strerror or exc}", file=stderr)
            return 2
    try:
        _emit(diagnostics, output_format, args, out, root, reporter, fixable, hidden, fixed, cwd, notebooks)
    finally:
        if handle is not None:
            handle.close()

    if args.fix and fixed == 0 and diagnostics and not any(d.fixes for d in diagnostics) and not args.quiet:
        print("asyncsense: no fixes available yet for these problems", file=stderr)

    if reporter.errors:
        return 2
    if diagnostics and not args.exit_zero:
        return 1
    return 0


def _emit(
    diagnostics: list[Diagnostic],
    output_format: str,
    args: Any,
    out: TextIO,
    root: Path,
    reporter: _Reporter,
    fixable: int,
    hidden: int,
    fixed: int | None,
    cwd: Path,
    notebooks: dict[str, CellMap],
) -> None:
    if args.statistics:
        rows = output.statistics(diagnostics, unsafe_fixes=args.unsafe_fixes)
        out.write(output.format_statistics(rows, "json" if output_format == "json" else "text"))
        if output_format != "json" and not args.quiet:
            out.write(output.summary(len(diagnostics), fixable, hidden, fixed=fixed, unchecked=reporter.unchecked))
        return
    if output_format == "json":
        out.write(output.format_json(diagnostics, notebooks=notebooks))
    elif output_format == "sarif":
        out.write(
            output.format_sarif(
                diagnostics, all_rules(), root=root, version=__version__, errors=reporter.errors, notebooks=notebooks
            )
        )
    elif output_format == "github":
        out.write(output.format_github(diagnostics, cwd=cwd, notebooks=notebooks))
    else:
        out.write(output.format_text(diagnostics, cwd=cwd, notebooks=notebooks))
        if not args.quiet:
            if diagnostics:
                out.write("\n")
            out.write(output.summary(len(diagnostics), fixable, hidden, fixed=fixed, unchecked=reporter.unchecked))


def _fix(project: Any, by_path: dict[str, list[Diagnostic]], config: Config, sources: _Sources, args: Any, reporter: _Reporter) -> int:
    """Apply the fixes (several passes while fixes apply), re-checking what changed; returns the count fixed."""
    fixed = 0
    unwritable: set[str] = set()  # reported once, not tried again in the next passes
    for passes in range(1, MAX_FIX_PASSES + 1):
        plan = _plan_fixes([d for ds in by_path.values() for d in ds], args.unsafe_fixes)
        changed: list[str] = []
        for path, fixes in sorted(plan.items()):
            if path in unwritable:
                continue
            try:
                source = read_source(Path(path))
                new_text, applied = apply_fixes_to_text(source.text, fixes)
                if new_text != source.text:
                    source.write(new_text)
                    changed.append(path)
                    fixed += applied
            except OSError as exc:
                unwritable.add(path)
                reporter.error(path, f"could not write fixes: {exc.strerror or exc}")
        if not changed:
            break
        for path in changed:
            sources.forget(path)
            if hasattr(project, "drop_source"):
                project.drop_source(path)  # the engine caches modules until told
        results = project.check([Path(p) for p in changed])
        refreshed = _postprocess(results, config, sources)
        for path in changed:
            by_path.pop(path, None)
        by_path.update(refreshed)
        if passes == MAX_FIX_PASSES and _plan_fixes([d for ds in by_path.values() for d in ds], args.unsafe_fixes):
            print(
                f"asyncsense: warning: fixes did not settle after {MAX_FIX_PASSES} passes; the remaining problems are"
                " reported (please report this)",
                file=reporter.stderr,
            )
    return fixed


def _show_diff(by_path: dict[str, list[Diagnostic]], args: Any, stdout: TextIO, stderr: TextIO, reporter: _Reporter) -> int:
    """--diff: print what --fix would change, write nothing; exit 1 when something would change."""
    diagnostics = [d for ds in by_path.values() for d in ds]
    plan = _plan_fixes(diagnostics, args.unsafe_fixes)
    would_fix = 0
    for path, fixes in sorted(plan.items()):
        try:
            source = read_source(Path(path))
        except OSError as exc:
            reporter.error(path, f"could not read file: {exc.strerror or exc}")
            continue
        new_text, applied = apply_fixes_to_text(source.text, fixes)
        if new_text == source.text:
            continue
        would_fix += applied
        shown = output.display_path(path, reporter.cwd)
        for line in difflib.unified_diff(
            source.text.splitlines(keepends=True),
            new_text.splitlines(keepends=True),
            fromfile=f"a/{shown}" if not os.path.isabs(shown) else shown,
            tofile=f"b/{shown}" if not os.path.isabs(shown) else shown,
        ):
            stdout.write(line if line.endswith(("\n", "\r")) else line + "\n\\ No newline at end of file\n")
    if not args.quiet:
        if would_fix:
            noun = "problem" if would_fix == 1 else "problems"
            print(f"Would fix {would_fix} {noun}.", file=stderr)
        elif diagnostics and not any(d.fixes for d in diagnostics):
            print("asyncsense: no fixes available yet for these problems", file=stderr)
        else:
            print("No fixes to apply.", file=stderr)
    if reporter.errors:
        return 2
    return 1 if would_fix and not args.exit_zero else 0


def internal_error(stderr: TextIO) -> int:
    print("asyncsense: internal error (please report it with this traceback):", file=stderr)
    traceback.print_exc(file=stderr)
    return 2


__all__ = ["UsageError", "internal_error", "run_check"]

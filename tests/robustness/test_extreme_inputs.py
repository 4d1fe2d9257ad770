"""Pathological files: deep nesting, huge files, long lines, odd bytes, Python 2.

The engine must analyse each without an exception, within a time bound, with
every diagnostic inside the file and every fix keeping a parsing file parsing;
through the CLI the same files give exit code 0, 1 or 2 and no traceback, and
``--fix`` leaves a file that Python still compiles when it compiled before.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from asyncsense.analyzers.parsing import decode_source
from asyncsense.analyzers.project import Project

from ._cli import run_check
from ._extreme import CYCLIC_INPUTS, ENCODING_INPUTS, PYTHON2_INPUTS, deep_inputs, huge_inputs, long_line_inputs
from ._support import TALLY, assert_diagnostics_inside, check_invariants

# Seconds one pathological input may take on a CI core (the real figures are far
# lower, see docs/robustness.md): the language server gives an analysis 30 s.
TIME_BOUND = 15.0


def _timed_check(project: Project, path: Path, text: str, label: str):
    started = time.perf_counter()
    checked = check_invariants(project, path, text, label=label)
    elapsed = time.perf_counter() - started
    assert elapsed < TIME_BOUND, f"{label}: {elapsed:.1f} s"
    return checked


DEEP = deep_inputs()


@pytest.mark.parametrize("name, text", DEEP, ids=[name for name, _ in DEEP])
def test_deep_nesting(plain_project: Project, fuzz_root: Path, name: str, text: str) -> None:
    """1,000 levels of every kind of nesting the grammar has."""
    _timed_check(plain_project, fuzz_root / "pkg" / "deep.py", text, name)
    TALLY["deep inputs"] += 1


@pytest.mark.parametrize("name", ["lambdas in a coroutine", "elif chain", "nested async defs", "method chain in a coroutine"])
def test_deep_nesting_with_jedi(jedi_project: Project, fuzz_root: Path, name: str) -> None:
    _timed_check(jedi_project, fuzz_root / "pkg" / "deep_jedi.py", dict(DEEP)[name], name)


def test_code_beyond_the_depth_limit_is_reported_as_skipped(plain_project: Project, fuzz_root: Path) -> None:
    """Skipping too-deep code is said (the file is "analysed in part"), and the rest is analysed."""
    text = dict(DEEP)["lambdas in a coroutine"]
    checked = check_invariants(plain_project, fuzz_root / "pkg" / "deep_rest.py", text)
    assert checked.result.partial
    assert [d.span.start.line for d in checked.result.diagnostics if d.rule == "blocking-call"] == [5]


@pytest.mark.parametrize("name, text", CYCLIC_INPUTS, ids=[name for name, _ in CYCLIC_INPUTS])
def test_names_defined_through_themselves(plain_project: Project, jedi_project: Project, fuzz_root: Path, name: str, text: str) -> None:
    """Found by the LSP soak: `x: x = 1` sent name resolution into endless recursion."""
    _timed_check(plain_project, fuzz_root / "pkg" / "cyclic.py", text, name)
    _timed_check(jedi_project, fuzz_root / "pkg" / "cyclic_jedi.py", text, name)


@pytest.mark.parametrize("name, text", long_line_inputs(), ids=[name for name, _ in long_line_inputs()])
def test_long_lines(plain_project: Project, fuzz_root: Path, name: str, text: str) -> None:
    _timed_check(plain_project, fuzz_root / "pkg" / "long.py", text, name)
    TALLY["long-line inputs"] += 1


@pytest.mark.parametrize("name, text", PYTHON2_INPUTS, ids=[name for name, _ in PYTHON2_INPUTS])
def test_python2_files(plain_project: Project, fuzz_root: Path, name: str, text: str) -> None:
    checked = _timed_check(plain_project, fuzz_root / "pkg" / "py2.py", text, name)
    assert checked.result.partial, "Python 2 syntax is not Python 3: the lines must be reported as skipped"


@pytest.mark.slow
@pytest.mark.parametrize("name, text", huge_inputs(), ids=[name for name, _ in huge_inputs()])
def test_fifty_thousand_line_files(plain_project: Project, fuzz_root: Path, name: str, text: str) -> None:
    """50,000 lines, valid and broken: analysed, and in time linear in the size.

    The same input at a tenth of the size sets the pace; the full size may take
    at most 20 times as long (linear would be 10): a quadratic step shows as 100.
    """
    path = fuzz_root / "pkg" / "huge.py"
    lines = text.splitlines(keepends=True)
    small = "".join(lines[: len(lines) // 10])
    started = time.perf_counter()
    check_invariants(plain_project, path, small, label=f"{name} (a tenth)")
    small_time = time.perf_counter() - started
    started = time.perf_counter()
    check_invariants(plain_project, path, text, label=name)
    full_time = time.perf_counter() - started
    TALLY["50,000-line files"] += 1
    assert full_time < max(20 * small_time, 5.0), f"{name}: {full_time:.1f} s for all, {small_time:.2f} s for a tenth"


# -- bytes on disk, through the engine and the CLI -------------------------------------


@pytest.mark.parametrize("name, data", ENCODING_INPUTS, ids=[name for name, _ in ENCODING_INPUTS])
def test_odd_bytes_through_the_engine(plain_project: Project, fuzz_root: Path, name: str, data: bytes) -> None:
    path = fuzz_root / "pkg" / "odd_bytes.py"
    path.write_bytes(data)
    plain_project.drop_source(path)
    [result] = plain_project.check([path])
    text, problem = decode_source(data)
    assert_diagnostics_inside(result.diagnostics, path, text, f"{name}: ")
    if problem:
        assert result.errors, f"{name}: decoding failed ({problem}) but nothing was reported"
    TALLY["odd byte files"] += 1


def _compiles(data: bytes) -> bool:
    try:
        compile(data, "<fixed>", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


@pytest.mark.parametrize("name, data", ENCODING_INPUTS, ids=[name for name, _ in ENCODING_INPUTS])
def test_odd_bytes_through_the_cli_and_fix(tmp_path: Path, name: str, data: bytes) -> None:
    """The CLI reports, then ``--fix --unsafe-fixes`` rewrites: the file still compiles if it did."""
    path = tmp_path / "odd.py"
    path.write_bytes(data)
    run = run_check(path, "--isolated", "--no-jedi", "--no-cache", "--output-format", "json", cwd=tmp_path)
    for finding in run.json():
        assert finding["location"]["row"] >= 1
    if run.code == 2:
        assert "odd.py" in run.stderr, f"{name}: exit 2 without naming the file:\n{run.stderr}"
    fixed = run_check(path, "--isolated", "--no-jedi", "--no-cache", "--fix", "--unsafe-fixes", cwd=tmp_path)
    after = path.read_bytes()
    if _compiles(data):
        assert _compiles(after), f"{name}: --fix broke a file Python compiled:\n{after!r}"
    assert fixed.code in (0, 1, 2)
    TALLY["odd byte files through the CLI"] += 1


def test_shebang_and_cookie_survive_a_fix(tmp_path: Path) -> None:
    """An import added by a fix must not push the encoding declaration past line 2."""
    path = tmp_path / "latin.py"
    data = b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\nNAME = '\xe9t\xe9'\nasync def f():\n    time.sleep(1)\n"
    path.write_bytes(data)
    run_check(path, "--isolated", "--no-jedi", "--no-cache", "--fix", cwd=tmp_path)
    after = path.read_bytes()
    assert after != data, "the blocking call was not fixed"
    assert after.startswith(b"#!/usr/bin/env python\n# -*- coding: latin-1 -*-\n")
    assert _compiles(after)

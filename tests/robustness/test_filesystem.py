"""What a repository can hold besides Python files, through ``asyncsense check``.

Unreadable files, permission denied, broken symlinks, symlink loops,
directories named ``*.py``, named pipes, files that vanish while being read:
each is reported once with a message naming it, every other file is still
checked, and the exit code is 2.

Permission denied is real, not simulated: the tests run as root, for whom
``chmod 000`` denies nothing, so the CLI runs in a subprocess whose capability
bounding set lacks CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (``setpriv``,
util-linux): root without them is refused like anyone else.  Files that
vanish are made to vanish in-process, at each step between finding a file and
reading it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from asyncsense.analyzers import discovery
from asyncsense.analyzers.project import Project

from ._cli import Run, assert_no_traceback, run_check

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"


def _as_unprivileged(command: list[str]) -> list[str]:
    """``command`` run so that file permissions apply (see the module docstring)."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    assert setpriv is not None, "running as root: setpriv (util-linux) is needed to drop CAP_DAC_OVERRIDE"
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]


def _run_cli(cwd: Path, *args: str) -> Run:
    completed = subprocess.run(
        _as_unprivileged([sys.executable, "-m", "asyncsense", "check", *args]),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,  # a named pipe that is opened blocks forever: fail instead of hanging
    )
    run = Run(completed.returncode, completed.stdout, completed.stderr)
    assert_no_traceback(run)
    return run


@pytest.fixture
def odd_tree(tmp_path: Path) -> Path:
    """A tree with two good files and one of every odd entry."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "good.py").write_text(BLOCKING)
    (root / "pkg").mkdir()
    (root / "pkg" / "also_good.py").write_text(BLOCKING)
    (root / "unreadable.py").write_text(BLOCKING)
    (root / "unreadable.py").chmod(0)
    (root / "locked").mkdir()
    (root / "locked" / "hidden.py").write_text(BLOCKING)
    (root / "locked").chmod(0)
    os.symlink(root / "nowhere.py", root / "broken.py")
    os.symlink(root / "loop_b.py", root / "loop_a.py")
    os.symlink(root / "loop_a.py", root / "loop_b.py")
    os.symlink(root / "self.py", root / "self.py")
    (root / "folder.py").mkdir()  # a directory named *.py: walked like any directory
    (root / "folder.py" / "inside.py").write_text(BLOCKING)
    os.symlink(root / "folder.py", root / "link_to_folder.py")  # not followed: no loops
    os.mkfifo(root / "pipe.py")
    yield root
    (root / "locked").chmod(0o755)


EXPECTED_ERRORS = {
    "unreadable.py": "permission denied",
    "locked": "permission denied",
    "broken.py": "broken symbolic link",
    "loop_a.py": "symbolic link loop",
    "loop_b.py": "symbolic link loop",
    "self.py": "symbolic link loop",
    "pipe.py": "not a regular file",
}
CHECKED = {"good.py", "pkg/also_good.py", "folder.py/inside.py"}


def _assert_report(run: Run, root: Path, expected_errors: dict[str, str], checked: set[str]) -> None:
    errors = [line for line in run.stderr.splitlines() if ": error: " in line]
    named = Counter(line.split(": error: ")[0] for line in errors)
    for path, reason in expected_errors.items():
        assert named[path] == 1, f"{path} reported {named[path]} times:\n{run.stderr}"
        [line] = [line for line in errors if line.startswith(f"{path}: error: ")]
        assert reason in line.lower(), f"unclear message for {path}: {line}"
    assert set(named) == set(expected_errors), f"unexpected errors:\n{run.stderr}"
    findings = json.loads(run.stdout)
    assert {Path(f["filename"]).resolve().relative_to(root.resolve()).as_posix() for f in findings} == checked
    assert run.code == 2


def test_walking_a_tree_of_odd_entries(odd_tree: Path) -> None:
    run = _run_cli(odd_tree, ".", "--no-jedi", "--no-cache", "--output-format", "json")
    _assert_report(run, odd_tree, EXPECTED_ERRORS, CHECKED)


def test_naming_odd_entries_explicitly(odd_tree: Path) -> None:
    names = ["good.py", "unreadable.py", "broken.py", "loop_a.py", "self.py", "pipe.py", "folder.py", "missing.py"]
    run = _run_cli(odd_tree, *names, "--no-jedi", "--no-cache", "--output-format", "json")
    expected = {name: EXPECTED_ERRORS[name] for name in names if name in EXPECTED_ERRORS}
    expected["missing.py"] = "no such file"
    _assert_report(run, odd_tree, expected, {"good.py", "folder.py/inside.py"})


def test_fix_with_odd_entries_fixes_the_rest(odd_tree: Path) -> None:
    run = _run_cli(odd_tree, ".", "--no-jedi", "--no-cache", "--fix")
    assert run.code == 2
    assert "await asyncio.sleep(1)" in (odd_tree / "good.py").read_text()
    assert "await asyncio.sleep(1)" in (odd_tree / "folder.py" / "inside.py").read_text()


# -- files that vanish between two steps ------------------------------------------------


def _three_files(root: Path) -> list[Path]:
    paths = [root / name for name in ("a.py", "b.py", "c.py")]
    for path in paths:
        path.write_text(BLOCKING)
    return paths


def _vanish_check(root: Path, vanished: Path) -> Run:
    run = run_check(".", "--no-jedi", "--no-cache", "--output-format", "json", cwd=root)
    errors = [line for line in run.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{vanished.name}: error: "), run.stderr
    assert "no such file" in errors[0].lower()
    assert {Path(f["filename"]).name for f in run.json()} == {"a.py", "b.py", "c.py"} - {vanished.name}
    assert run.code == 2
    return run


def test_file_vanishing_after_discovery(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, vanishing, _ = _three_files(tmp_path)
    real = discovery.discover

    def discover_then_delete(*args, **kwargs):
        found = real(*args, **kwargs)
        vanishing.unlink()
        return found

    monkeypatch.setattr("asyncsense.check.discover", discover_then_delete)
    _vanish_check(tmp_path, vanishing)


def test_file_vanishing_just_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, vanishing, _ = _three_files(tmp_path)
    real = Project.load

    def load_after_delete(self, path):
        if Path(path).name == vanishing.name and vanishing.exists():
            vanishing.unlink()
        return real(self, path)

    monkeypatch.setattr(Project, "load", load_after_delete)
    _vanish_check(tmp_path, vanishing)


def test_file_vanishing_while_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Gone between stat and read: ``read_bytes`` itself fails."""
    _, vanishing, _ = _three_files(tmp_path)
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == vanishing.name:
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    _vanish_check(tmp_path, vanishing)


def test_file_vanishing_before_its_fix_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, vanishing, _ = _three_files(tmp_path)
    import asyncsense.check as check

    real = check.read_source

    def read_source(path):
        if Path(path).name == vanishing.name and vanishing.exists():
            vanishing.unlink()
        return real(path)

    monkeypatch.setattr(check, "read_source", read_source)
    run = run_check(".", "--no-jedi", "--no-cache", "--fix", cwd=tmp_path)
    errors = [line for line in run.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith(f"{vanishing.name}: error: "), run.stderr
    assert run.code == 2
    assert "await asyncio.sleep(1)" in (tmp_path / "a.py").read_text()
    assert "await asyncio.sleep(1)" in (tmp_path / "c.py").read_text()


def test_permission_denied_between_check_and_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Readable when the CLI looked, refused when the engine reads (in-process)."""
    _, refused, _ = _three_files(tmp_path)
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == refused.name:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    run = run_check(".", "--no-jedi", "--no-cache", "--output-format", "json", cwd=tmp_path)
    errors = [line for line in run.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and errors[0].startswith("b.py: error: ") and "permission denied" in errors[0].lower()
    assert {Path(f["filename"]).name for f in run.json()} == {"a.py", "c.py"}
    assert run.code == 2

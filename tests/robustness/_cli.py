"""Running ``asyncsense check`` in-process and checking what a user would see."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from asyncsense.main import main


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> list[dict]:
        return json.loads(self.stdout)


def run_check(*args: str | os.PathLike[str], cwd: Path | None = None) -> Run:
    out, err = io.StringIO(), io.StringIO()
    previous = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(["check", *map(str, args)])
    finally:
        os.chdir(previous)
    run = Run(code, out.getvalue(), err.getvalue())
    assert_no_traceback(run)
    return run


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr and "internal error" not in run.stderr, f"the CLI crashed:\n{run.stderr}"
    assert run.code in (0, 1, 2), f"exit code {run.code}\n{run.stderr}"

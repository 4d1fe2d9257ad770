"""`asyncsense` end to end, with the real engine: exit codes, config, discovery, errors, fixes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from asyncsense import __version__
from asyncsense.main import main

BLOCKING = "import time\n\n\nasync def f():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def f():\n    await asyncio.sleep(1)\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project directory (a git repository) that is the working directory."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASYNCSENSE_OUTPUT_FORMAT", raising=False)
    return tmp_path


def write(root: Path, name: str, text: str | bytes) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- the basic contract ---------------------------------------------------------


def test_blocking_call_is_found(project: Path, capsys) -> None:
    write(project, "a.py", BLOCKING)
    code, out, err = run(capsys, "check")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("a.py:5:5: ASN001 [blocking-call] ")
    assert "time.sleep" in lines[0]
    assert lines[-1] == "Found 1 problem (1 fixable with --fix)"
    assert err == ""


def test_clean_project(project: Path, capsys) -> None:
    write(project, "a.py", CLEAN)
    assert run(capsys, "check") == (0, "All checks passed!\n", "")


def test_exit_zero(project: Path, capsys) -> None:
    write(project, "a.py", BLOCKING)
    code, out, _ = run(capsys, "check", "--exit-zero")
    assert code == 0 and "ASN001" in out


def test_quiet(project: Path, capsys) -> None:
    write(project, "a.py", BLOCKING)
    code, out, _ = run(capsys, "check", "-q")
    assert code == 1 and len(out.splitlines()) == 1
    write(project, "a.py", CLEAN)
    assert run(capsys, "check", "-q") == (0, "", "")


def test_json_real_engine(project: Path, capsys) -> None:
    write(project, "b.py", BLOCKING)
    write(project, "a.py", BLOCKING + "\n\nasync def g():\n    time.sleep(2)\n")
    code, out, _ = run(capsys, "check", "--output-format", "json")
    assert code == 1
    items = json.loads(out)
    assert [(Path(i["filename"]).name, i["location"]["row"]) for i in items] == [("a.py", 5), ("a.py", 9), ("b.py", 5)]
    first = items[0]
    assert first["code"] == "ASN001" and first["rule"] == "blocking-call"
    assert first["location"] == {"row": 5, "column": 5}
    assert first["fix"]["applicability"] == "safe"


def test_paths_default_to_current_directory_and_accept_files_and_dirs(project: Path, capsys) -> None:
    write(project, "pkg/a.py", BLOCKING)
    write(project, "other/b.py", BLOCKING)
    code, out, _ = run(capsys, "check", "pkg")
    assert code == 1 and "pkg/a.py:5:5" in out and "other" not in out
    code, out, _ = run(capsys, "check", "other/b.py", "pkg/a.py")
    assert out.count("ASN001") == 2


# -- select / ignore --------------------------------------------------------------


def test_select_and_ignore(project: Path, capsys) -> None:
    write(project, "a.py", BLOCKING)
    assert run(capsys, "check", "--ignore", "blocking-call")[0] == 0
    assert run(capsys, "check", "--ignore", "ASN003,ASN001")[0] == 0
    assert run(capsys, "check", "--select", "dangling-task")[0] == 0
    assert run(capsys, "check", "--select", "ASN001")[0] == 1
    assert run(capsys, "check", "--select", "ASN")[0] == 1
    assert run(capsys, "check", "--select", "ALL", "--ignore", "ASN001")[0] == 0


def test_unknown_rule_is_a_usage_error(project: Path, capsys) -> None:
    write(project, "a.py", BLOCKING)
    code, out, err = run(capsys, "check", "--select", "blocking-cal")
    assert code == 2 and out == ""
    assert "--select: unknown rule 'blocking-cal' (did you mean 'blocking-call'?)" in err
    code, _, err = run(capsys, "check", "--ignore", "ASN1234")
    assert code == 2 and "--ignore: unknown rule 'ASN1234'" in err


def test_cli_select_overrides_config(project: Path, capsys) -> None:
    write(project, "pyproject.toml", '[tool.asyncsense]\nignore = ["blocking-call"]\n')
    write(project, "a.py", BLOCKING)
    assert run(capsys, "check")[0] == 0
    assert run(capsys, "check", "--select", "blocking-call")[0] == 1


# -- config -------------------------------------------------------------------------


def test_config_is_found_from_the_first_path(project: Path, capsys, monkeypatch) -> None:
    write(project, "proj/pyproject.toml", '[tool.asyncsense]\nselect = ["dangling-task"]\n')
    write(project, "proj/src/a.py", BLOCKING)
    monkeypatch.chdir(project)
    assert run(capsys, "check", "proj/src")[0] == 0
    assert run(capsys, "check", "--isolated", "proj/src")[0] == 1


def test_explicit_config(project: Path, capsys) -> None:
    write(project, "pyproject.toml", '[tool.asyncsense]\nselect = ["dangling-task"]\n')
    write(project, "strict.toml", 'select = ["ALL"]\n')
    write(project, "a.py", BLOCKING)
    assert run(capsys, "check")[0] == 0
    assert run(capsys, "check", "--config", "strict.toml")[0] == 1


def test_per_file_ignores(project: Path, capsys) -> None:
    write(project, "pyproject.toml", '[tool.asyncsense.per-file-ignores]\n"tests/*" = ["ASN001"]\n"legacy_*.py" = ["blocking-call"]\n')
    write(project, "tests/test_a.py", BLOCKING)
    write(project, "src/legacy_b.py", BLOCKING)
    write(project, "src/c.py", BLOCKING)
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines() if "ASN001" in line] == ["src/c.py"]


def test_severity_override(project: Path, capsys) -> None:
    write(project, "pyproject.toml", '[tool.asyncsense.severity]\nblocking-call = "error"\n')
    write(project, "a.py", BLOCKING)
    _, out, _ = run(capsys, "check", "--output-format", "json")
    assert json.loads(out)[0]["severity"] == "error"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[tool.asyncsense]\nselect = [\n", "pyproject.toml: invalid TOML"),
        ("[tool.asyncsense]\nselct = []\n", "unknown key 'selct' in [tool.asyncsense] (did you mean 'select'?)"),
        ("[tool.asyncsense]\nstrict-gather = 'yes'\n", "'strict-gather': expected true or false, got string 'yes'"),
        ("[tool.asyncsense]\nignore = ['nope']\n", "'ignore': unknown rule 'nope'"),
    ],
)
def test_config_errors_exit_2_without_traceback(project: Path, capsys, toml: str, message: str) -> None:
    write(project, "pyproject.toml", toml)
    write(project, "a.py", BLOCKING)
    code, out, err = run(capsys, "check")
    assert code == 2 and out == ""
    assert message in err and str(project / "pyproject.toml") in err
    assert "Traceback" not in err


def test_missing_explicit_config(project: Path, capsys) -> None:
    code, _, err = run(capsys, "check", "--config", "nope.toml")
    assert code == 2 and "nope.toml: cannot read config file" in err


# -- files that cannot be analysed --------------------------------------------------


def test_broken_symlink_is_reported_and_others_still_checked(project: Path, capsys) -> None:
    write(project, "a.py", BLOCKING)
    os.symlink(project / "gone.py", project / "broken.py")
    code, out, err = run(capsys, "check")
    assert code == 2
    assert "a.py:5:5: ASN001" in out
    assert err.strip() == "broken.py: error: could not read file: broken symbolic link"
    assert out.splitlines()[-2:] == ["Found 1 problem (1 fixable with --fix)", "1 file could not be checked (see the errors)."]


def test_missing_path(project: Path, capsys) -> None:
    write(project, "a.py", BLOCKING)
    code, out, err = run(capsys, "check", "a.py", "missing.py")
    assert code == 2 and "ASN001" in out
    assert "missing.py: error: No such file or directory" in err


def test_non_utf8_file(project: Path, capsys) -> None:
    write(project, "latin.py", b"# caf\xe9\nx = 1\n")
    write(project, "late.py", b"x = 1\ny = 2\nz = '\xff'\n")  # past the lines a coding cookie could be on
    write(project, "a.py", BLOCKING)
    code, out, err = run(capsys, "check")
    assert code == 2
    assert "a.py:5:5: ASN001" in out
    assert sorted(line.split(":")[0] for line in err.splitlines()) == ["late.py", "latin.py"]
    assert all(": error: " in line for line in err.splitlines())


def test_syntax_error_file_does_not_stop_the_others(project: Path, capsys) -> None:
    write(project, "broken.py", "def f(:\n    pass\n\nasync def g():\n    import time\n    time.sleep(1)\n")
    write(project, "a.py", BLOCKING)
    code, out, err = run(capsys, "check")
    assert code == 1
    assert "a.py:5:5: ASN001" in out
    assert "broken.py: warning: parts of the file could not be parsed" in err
    assert "broken.py:6:5: ASN001" in out  # the parsable part is still analysed


def test_directory_named_like_a_file(project: Path, capsys) -> None:
    write(project, "x.py/inner.py", BLOCKING)  # a directory called x.py is walked, not read
    code, out, _ = run(capsys, "check", "x.py")
    assert code == 1 and "x.py/inner.py:5:5" in out


# -- discovery through the CLI -------------------------------------------------------


def test_gitignore_and_exclude(project: Path, capsys) -> None:
    write(project, ".gitignore", "generated/\n")
    write(project, "pyproject.toml", '[tool.asyncsense]\nextend-exclude = ["legacy"]\n')
    for name in ("generated/a.py", "legacy/b.py", ".venv/lib/c.py", "node_modules/d.py", "build/e.py", "ok.py"):
        write(project, name, BLOCKING)
    code, out, _ = run(capsys, "check")
    assert [line.split(":")[0] for line in out.splitlines() if "ASN001" in line] == ["ok.py"]
    code, out, _ = run(capsys, "check", "--show-files")
    assert (code, out) == (0, "ok.py\n")
    code, out, _ = run(capsys, "check", "--show-files", "--no-respect-gitignore")
    assert out.splitlines() == ["generated/a.py", "ok.py"]
    # named explicitly: always checked
    assert run(capsys, "check", "legacy/b.py")[0] == 1


def test_notebook(project: Path, capsys) -> None:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title"]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["import time\n", "%matplotlib inline"]},
            {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["async def f():\n", "    time.sleep(1)\n"]},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    write(project, "nb.ipynb", json.dumps(notebook))
    code, out, err = run(capsys, "check")
    assert code == 1, err
    assert out.splitlines()[0].startswith("nb.ipynb:cell 3:2:5: ASN001 [blocking-call]")
    _, out, _ = run(capsys, "check", "--output-format", "json")
    item = json.loads(out)[0]
    assert item["cell"] == 3 and item["location"] == {"row": 2, "column": 5}
    write(project, "bad.ipynb", "{not json")
    code, _, err = run(capsys, "check")
    assert code == 2 and "bad.ipynb: error: not a valid notebook" in err


# -- suppression through the CLI -------------------------------------------------


def test_suppression_comments(project: Path, capsys) -> None:
    write(project, "a.py", BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # asyncsense: ignore[blocking-call]"))
    write(project, "b.py", BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: ASN001"))
    write(project, "c.py", BLOCKING.replace("time.sleep(1)", "time.sleep(1)  # noqa: ASN003"))
    write(project, "d.py", "# asyncsense: ignore-file\n" + BLOCKING)
    code, out, _ = run(capsys, "check")
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines() if "ASN001" in line] == ["c.py"]


# -- fixes ---------------------------------------------------------------------------


def test_fix_rewrites_the_file(project: Path, capsys) -> None:
    path = write(project, "a.py", BLOCKING)
    code, out, _ = run(capsys, "check", "--fix")
    assert code == 0
    assert out.strip() == "Found 1 problem (1 fixed, 0 remaining)."
    fixed = path.read_text()
    assert "await asyncio.sleep(1)" in fixed and "import asyncio" in fixed
    assert run(capsys, "check")[0] == 0


def test_fix_keeps_crlf_and_bom(project: Path, capsys) -> None:
    path = write(project, "a.py", b"\xef\xbb\xbf" + BLOCKING.replace("\n", "\r\n").encode())
    run(capsys, "check", "--fix")
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"await asyncio.sleep(1)\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_diff_writes_nothing(project: Path, capsys) -> None:
    path = write(project, "a.py", BLOCKING)
    code, out, err = run(capsys, "check", "--diff")
    assert code == 1
    assert out.startswith("--- a/a.py\n+++ b/a.py\n")
    assert "-    time.sleep(1)\n+    await asyncio.sleep(1)\n" in out
    assert "Would fix 1 problem." in err
    assert path.read_text() == BLOCKING
    write(project, "a.py", CLEAN)
    assert run(capsys, "check", "--diff")[0] == 0


# -- other commands ------------------------------------------------------------------


def test_version(capsys) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.strip() == f"asyncsense {__version__}"


def test_rules(capsys) -> None:
    code, out, _ = run(capsys, "rules")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 7 and lines[0].startswith("ASN001  blocking-call")
    code, out, _ = run(capsys, "rules", "--output-format", "json")
    rules = json.loads(out)
    assert rules[6]["name"] == "unclosed-async-resource" and rules[6]["code"] == "ASN007"
    assert rules[0]["url"].endswith("/docs/rules/blocking-call.md")


def test_server_dispatch(monkeypatch) -> None:
    calls = []
    fake = types.ModuleType("asyncsense.server")
    fake.main = lambda argv: calls.append(argv) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "asyncsense.server", fake)
    monkeypatch.setattr(sys.modules["asyncsense"], "server", fake, raising=False)
    assert main(["server", "--tcp", "--host", "127.0.0.1", "--port", "2087"]) == 0
    assert calls == [["--tcp", "--host", "127.0.0.1", "--port", "2087"]]


def test_server_missing(monkeypatch, capsys) -> None:
    fake = types.ModuleType("asyncsense.server")  # no main()
    monkeypatch.setitem(sys.modules, "asyncsense.server", fake)
    monkeypatch.setattr(sys.modules["asyncsense"], "server", fake, raising=False)
    code, _, err = run(capsys, "server")
    assert code == 2 and "language server is not available" in err


def test_usage_errors(capsys) -> None:
    code, _, err = run(capsys)
    assert code == 2 and "usage: asyncsense" in err
    code, _, err = run(capsys, "check", "--output-format", "xml")
    assert code == 2 and "invalid choice" in err
    code, _, err = run(capsys, "check", "--jobs", "0")
    assert code == 2 and "--jobs" in err
    code, _, err = run(capsys, "frobnicate")
    assert code == 2


def test_output_format_from_environment(project: Path, capsys, monkeypatch) -> None:
    write(project, "a.py", BLOCKING)
    monkeypatch.setenv("ASYNCSENSE_OUTPUT_FORMAT", "github")
    _, out, _ = run(capsys, "check")
    assert out.startswith("::warning file=a.py,line=5,col=5,")
    monkeypatch.setenv("ASYNCSENSE_OUTPUT_FORMAT", "yaml")
    code, _, err = run(capsys, "check")
    assert code == 2 and "invalid output format 'yaml'" in err


def test_output_file(project: Path, capsys) -> None:
    write(project, "a.py", BLOCKING)
    code, out, _ = run(capsys, "check", "--output-format", "sarif", "-o", "report.sarif")
    assert code == 1 and out == ""
    log = json.loads((project / "report.sarif").read_text())
    assert log["runs"][0]["results"][0]["ruleId"] == "ASN001"


def test_python_module_entry_point(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(BLOCKING)
    done = subprocess.run(
        [sys.executable, "-m", "asyncsense", "check", "--output-format", "json", "a.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)[0]["code"] == "ASN001"


def test_the_bundled_example_shows_every_rule(tmp_path: Path, monkeypatch, capsys) -> None:
    """The README's first command checks docs/example: it must show all seven pitfalls."""
    from asyncsense.analyzers.rules import RULES_BY_NAME

    example = Path(__file__).resolve().parents[1] / "docs" / "example"
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--no-cache", "--output-format", "json", str(example)]) == 1
    found = {finding["rule"] for finding in json.loads(capsys.readouterr().out)}
    assert found == set(RULES_BY_NAME)

"""Output formats, statistics, fixes and engine options, with a small fake engine.

The fake reports, wherever a line calls one of these markers:
    blocking()   blocking-call ASN001 with a related place and a safe fix (-> `await nonblocking()`)
    task()       dangling-task ASN003 with an unsafe fix (-> `keep(t)`)
    lost()       gather-lost-exceptions ASN004, no fix, severity error
so that every format can be checked field by field, whatever the real rules do.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import asyncsense.analyzers.project as project_module
from asyncsense import __version__
from asyncsense.analyzers.diagnostics import Applicability, Diagnostic, Edit, Fix, Related, Severity, Span
from asyncsense.main import main

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class FakeResult:
    def __init__(self, path: str, diagnostics: list[Diagnostic], errors: list[str] | None = None) -> None:
        self.path = path
        self.diagnostics = diagnostics
        self.errors = errors or []
        self.partial = False


class FakeProject:
    instances: list[FakeProject] = []

    def __init__(self, root: Path, config: Any, **options: Any) -> None:
        self.root = root
        self.config = config
        self.options = options
        self.checked: list[list[str]] = []
        self.overrides: dict[str, str] = {}
        FakeProject.instances.append(self)

    def set_source(self, path: Path, text: str) -> None:
        self.overrides[str(path)] = text

    def drop_source(self, path: Path) -> None:
        self.overrides.pop(str(path), None)

    def check(self, paths: list[Path]) -> list[FakeResult]:
        self.checked.append([str(p) for p in paths])
        results = []
        for path in paths:
            text = self.overrides.get(str(path)) or Path(path).read_text(encoding="utf-8")
            results.append(FakeResult(str(path), list(self._diagnostics(str(path), text))))
        return results

    def _diagnostics(self, path: str, text: str):
        for number, line in enumerate(_LINE_BREAK.split(text), start=1):
            for match in re.finditer(r"\b(blocking|task|lost)\(\)", line):
                span = Span.of(number, match.start(), number, match.end())
                kind = match.group(1)
                if kind == "blocking":
                    yield Diagnostic(
                        "blocking-call",
                        "ASN001",
                        'Blocking call `blocking` in coroutine, see "helper"',
                        path,
                        span,
                        related=[Related(path, Span.of(1, 0, 1, 3), "the blocking call is here, 100% sure")],
                        fixes=[Fix("Await nonblocking()", Applicability.SAFE, (Edit(span, "await nonblocking()"),))],
                    )
                elif kind == "task":
                    yield Diagnostic(
                        "dangling-task",
                        "ASN003",
                        "Task may be garbage collected",
                        path,
                        span,
                        fixes=[Fix("Keep a reference", Applicability.UNSAFE, (Edit(span, "keep(t)"),))],
                    )
                else:
                    yield Diagnostic(
                        "gather-lost-exceptions", "ASN004", "gather loses exceptions", path, span, Severity.ERROR
                    )


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(project_module, "Project", FakeProject)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASYNCSENSE_OUTPUT_FORMAT", raising=False)
    (tmp_path / ".git").mkdir()
    FakeProject.instances.clear()
    return tmp_path


SAMPLE = "async def f():\n    blocking()\n    task(); lost()\n"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- text --------------------------------------------------------------------------


def test_text(fake: Path, capsys) -> None:
    write(fake, "b.py", SAMPLE)
    write(fake, "a.py", "async def g():\n    lost()\n")
    code, out, err = run(capsys, "check")
    assert code == 1 and err == ""
    assert out == (
        "a.py:2:5: ASN004 [gather-lost-exceptions] gather loses exceptions\n"
        'b.py:2:5: ASN001 [blocking-call] Blocking call `blocking` in coroutine, see "helper"\n'
        "    b.py:1:1: the blocking call is here, 100% sure\n"
        "b.py:3:5: ASN003 [dangling-task] Task may be garbage collected\n"
        "b.py:3:13: ASN004 [gather-lost-exceptions] gather loses exceptions\n"
        "\n"
        "Found 4 problems (1 fixable with --fix)\n"
        "1 hidden fix can be enabled with --unsafe-fixes.\n"
    )


def test_text_with_unsafe_fixes(fake: Path, capsys) -> None:
    write(fake, "a.py", SAMPLE)
    _, out, _ = run(capsys, "check", "--unsafe-fixes")
    assert out.splitlines()[-1] == "Found 3 problems (2 fixable with --fix)"


# -- json ----------------------------------------------------------------------------


def test_json(fake: Path, capsys) -> None:
    write(fake, "b.py", SAMPLE)
    write(fake, "a.py", "async def g():\n    lost()\n")
    code, out, _ = run(capsys, "check", "--output-format", "json")
    assert code == 1
    items = json.loads(out)
    assert [(Path(i["filename"]).name, i["location"]["row"], i["location"]["column"], i["code"]) for i in items] == [
        ("a.py", 2, 5, "ASN004"),
        ("b.py", 2, 5, "ASN001"),
        ("b.py", 3, 5, "ASN003"),
        ("b.py", 3, 13, "ASN004"),
    ]
    blocking = items[1]
    assert blocking["end_location"] == {"row": 2, "column": 15}
    assert blocking["fix"]["edits"][0]["content"] == "await nonblocking()"
    assert blocking["related"][0]["location"] == {"row": 1, "column": 1}
    assert items[0]["severity"] == "error"


def test_json_empty(fake: Path, capsys) -> None:
    write(fake, "a.py", "x = 1\n")
    assert run(capsys, "check", "--output-format", "json") == (0, "[]\n", "")


# -- sarif ---------------------------------------------------------------------------


def test_sarif(fake: Path, capsys) -> None:
    write(fake, "src/a.py", SAMPLE)
    code, out, _ = run(capsys, "check", "--output-format", "sarif")
    assert code == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    assert log["$schema"].endswith("sarif-2.1.0.json")
    run_ = log["runs"][0]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "asyncsense" and driver["version"] == __version__
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {f"ASN00{i}" for i in range(1, 8)}
    assert rules["ASN001"]["name"] == "blocking-call"
    assert rules["ASN001"]["helpUri"] == "https://github.com/asyncsense/asyncsense/blob/main/docs/rules/blocking-call.md"
    assert rules["ASN001"]["shortDescription"]["text"]
    assert run_["columnKind"] == "unicodeCodePoints"
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == fake.as_uri() + "/"

    results = run_["results"]
    assert [r["ruleId"] for r in results] == ["ASN001", "ASN003", "ASN004"]
    for result in results:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
    blocking, task, lost = results
    location = blocking["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/a.py", "uriBaseId": "%SRCROOT%"}
    assert location["region"] == {"startLine": 2, "startColumn": 5, "endLine": 2, "endColumn": 15}
    assert blocking["level"] == "warning" and lost["level"] == "error"
    assert blocking["message"]["text"].startswith("Blocking call")
    related = blocking["relatedLocations"][0]
    assert related["message"]["text"] == "the blocking call is here, 100% sure"
    assert related["physicalLocation"]["region"]["startLine"] == 1
    assert blocking["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == "await nonblocking()"
    assert "relatedLocations" not in task
    assert run_["invocations"][0]["executionSuccessful"] is True


def test_sarif_reports_unreadable_files(fake: Path, capsys) -> None:
    write(fake, "a.py", SAMPLE)
    (fake / "broken.py").symlink_to(fake / "nowhere.py")
    code, out, _ = run(capsys, "check", "--output-format", "sarif")
    assert code == 2
    invocation = json.loads(out)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notification = invocation["toolExecutionNotifications"][0]
    assert "broken symbolic link" in notification["message"]["text"]


# -- github --------------------------------------------------------------------------


def test_github(fake: Path, capsys) -> None:
    write(fake, "dir,x/a.py", SAMPLE)
    code, out, _ = run(capsys, "check", "--output-format", "github")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        "::warning file=dir%2Cx/a.py,line=2,col=5,endLine=2,endColumn=15,title=asyncsense (ASN001)::"
        'Blocking call `blocking` in coroutine, see "helper"%0Adir,x/a.py:1:1: the blocking call is here, 100%25 sure'
    )
    assert lines[1].startswith("::warning file=dir%2Cx/a.py,line=3,col=5,endLine=3,endColumn=11,title=asyncsense (ASN003)::")
    assert lines[2].startswith("::error ")
    assert len(lines) == 3  # no summary line


# -- statistics ----------------------------------------------------------------------


def test_statistics(fake: Path, capsys) -> None:
    write(fake, "a.py", SAMPLE + "    lost()\n")
    code, out, _ = run(capsys, "check", "--statistics")
    assert code == 1
    assert out.splitlines()[:3] == [
        "2\tASN004\t[ ] gather-lost-exceptions",
        "1\tASN001\t[*] blocking-call",
        "1\tASN003\t[ ] dangling-task",
    ]
    _, out, _ = run(capsys, "check", "--statistics", "--output-format", "json")
    assert json.loads(out) == [
        {"code": "ASN004", "name": "gather-lost-exceptions", "count": 2, "fixable": False},
        {"code": "ASN001", "name": "blocking-call", "count": 1, "fixable": True},
        {"code": "ASN003", "name": "dangling-task", "count": 1, "fixable": False},
    ]


# -- filtering ------------------------------------------------------------------------


def test_select_ignore_severity_and_suppression(fake: Path, capsys) -> None:
    write(fake, "pyproject.toml", '[tool.asyncsense]\nignore = ["ASN003"]\n[tool.asyncsense.severity]\nASN001 = "hint"\n')
    write(fake, "a.py", SAMPLE.replace("lost()", "lost()  # noqa: ASN004"))
    _, out, _ = run(capsys, "check", "--output-format", "json")
    items = json.loads(out)
    assert [(i["code"], i["severity"]) for i in items] == [("ASN001", "hint")]


# -- fixes ------------------------------------------------------------------------------


def test_fix_applies_safe_fixes_only(fake: Path, capsys) -> None:
    path = write(fake, "a.py", SAMPLE)
    code, out, _ = run(capsys, "check", "--fix")
    assert code == 1
    assert path.read_text() == "async def f():\n    await nonblocking()\n    task(); lost()\n"
    assert out.splitlines()[-2] == "Found 3 problems (1 fixed, 2 remaining)."
    project = FakeProject.instances[-1]
    assert project.checked == [[str(path)], [str(path)]]  # re-checked after the fix


def test_fix_unsafe(fake: Path, capsys) -> None:
    path = write(fake, "a.py", SAMPLE)
    code, out, _ = run(capsys, "check", "--fix", "--unsafe-fixes")
    assert code == 1
    assert path.read_text() == "async def f():\n    await nonblocking()\n    keep(t); lost()\n"
    assert out.splitlines()[-1] == "Found 3 problems (2 fixed, 1 remaining)."


def test_fix_that_never_converges_stops(fake: Path, capsys, monkeypatch) -> None:
    path = write(fake, "a.py", "async def f():\n    blocking()\n")
    original = FakeProject._diagnostics

    def regrowing(self, path, text):  # the fix output is reported again: fixed again and again
        for d in original(self, path, text.replace("await nonblocking()", "blocking()")):
            yield d

    monkeypatch.setattr(FakeProject, "_diagnostics", regrowing)
    code, _, err = run(capsys, "check", "--fix")
    assert code == 1
    assert "fixes did not settle after 10 passes" in err
    assert "await nonblocking()" in path.read_text()


def test_fix_without_any_fix(fake: Path, capsys) -> None:
    write(fake, "a.py", "async def g():\n    lost()\n")
    code, out, err = run(capsys, "check", "--fix")
    assert code == 1
    assert "no fixes available yet" in err
    write(fake, "a.py", "x = 1\n")
    code, _, err = run(capsys, "check", "--fix")
    assert code == 0 and "no fixes" not in err


def test_diff(fake: Path, capsys) -> None:
    path = write(fake, "a.py", SAMPLE)
    code, out, err = run(capsys, "check", "--diff")
    assert code == 1
    assert out == (
        "--- a/a.py\n+++ b/a.py\n@@ -1,3 +1,3 @@\n async def f():\n-    blocking()\n+    await nonblocking()\n"
        "     task(); lost()\n"
    )
    assert path.read_text() == SAMPLE
    assert "Would fix 1 problem." in err


def test_diff_file_without_final_newline(fake: Path, capsys) -> None:
    write(fake, "a.py", "async def f():\n    blocking()")
    _, out, _ = run(capsys, "check", "--diff")
    assert out.endswith("+    await nonblocking()\n\\ No newline at end of file\n")


# -- options reach the engine ---------------------------------------------------------


def test_engine_options(fake: Path, capsys) -> None:
    write(fake, "a.py", "x = 1\n")
    python = write(fake, "py/bin/python", "")
    run(capsys, "check", "--python", str(python), "--jobs", "3", "--cache-dir", "cache", "--no-jedi")
    project = FakeProject.instances[-1]
    assert project.root == fake
    assert project.options == {
        "python": str(python),
        "cache_dir": fake / "cache",
        "use_jedi": False,
        "jobs": 3,
    }
    assert project.config.python == str(python)
    run(capsys, "check", "--no-cache")
    assert FakeProject.instances[-1].options["cache_dir"] is None
    run(capsys, "check")
    assert FakeProject.instances[-1].options["cache_dir"] == fake / ".asyncsense_cache"
    assert FakeProject.instances[-1].options["use_jedi"] is True


def test_python_from_config(fake: Path, capsys) -> None:
    write(fake, "pyproject.toml", '[tool.asyncsense]\npython = ".venv/bin/python"\n')
    write(fake, "a.py", "x = 1\n")
    code, _, err = run(capsys, "check")
    assert code == 0 and "warning: 'python': no interpreter at" in err
    assert FakeProject.instances[-1].options["python"] is None
    write(fake, ".venv/bin/python", "")
    code, _, err = run(capsys, "check")
    assert (code, err) == (0, "")
    assert FakeProject.instances[-1].options["python"] == str(fake / ".venv/bin/python")


def test_missing_python_flag_is_a_usage_error(fake: Path, capsys) -> None:
    code, _, err = run(capsys, "check", "--python", "/no/such/python")
    assert code == 2 and "--python: no Python interpreter at '/no/such/python'" in err


def test_engine_file_errors_exit_2(fake: Path, capsys, monkeypatch) -> None:
    write(fake, "a.py", SAMPLE)

    def failing_check(self, paths):
        return [FakeResult(str(p), [], ["could not decode as UTF-8"]) for p in paths]

    monkeypatch.setattr(FakeProject, "check", failing_check)
    code, out, err = run(capsys, "check")
    assert code == 2
    assert err == "a.py: error: could not decode as UTF-8\n"
    assert out == "No problems found, but 1 file could not be checked (see the errors).\n"


def test_unwritable_output_file(fake: Path, capsys) -> None:
    write(fake, "a.py", SAMPLE)
    code, _, err = run(capsys, "check", "-o", "no/such/dir/report.json")
    assert code == 2 and "cannot write no/such/dir/report.json" in err


def test_internal_error_is_reported(fake: Path, capsys, monkeypatch) -> None:
    write(fake, "a.py", SAMPLE)

    def crash(self, paths):
        raise RuntimeError("boom")

    monkeypatch.setattr(FakeProject, "check", crash)
    code, _, err = run(capsys, "check")
    assert code == 2 and "internal error" in err and "RuntimeError: boom" in err

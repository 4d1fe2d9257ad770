"""nested-asyncio-run (ASN005): loop runners reachable from a running event loop."""

from __future__ import annotations

import ast
import re
import textwrap
from pathlib import Path

import pytest

from asyncsense.analyzers.diagnostics import Applicability
from asyncsense.analyzers.fixes import apply_fixes
from asyncsense.analyzers.project import Project
from asyncsense.analyzers.rules import nested_asyncio_run

from .helpers_b import (
    FIXTURES,
    assert_docs_match,
    assert_fixes_settle,
    check_file,
    copy_fixture,
    expected_lines,
    flagged_lines,
    notebook_json,
    of_code,
    seed_examples,
    write_module,
)

CODE = "ASN005"
ROOT = FIXTURES / "nested"


@pytest.fixture(scope="module")
def project() -> Project:
    return Project(ROOT)


@pytest.mark.parametrize("module", ["positives.py", "negatives.py"])
def test_fixture_marks_match(project: Project, module: str) -> None:
    path = ROOT / "app" / module
    diagnostics = check_file(ROOT, path, project)
    assert flagged_lines(diagnostics, CODE) == expected_lines(path, CODE)


def test_positives_fixture_has_cases() -> None:
    # guards the test above against an emptied fixture
    assert len(expected_lines(ROOT / "app" / "positives.py", CODE)) >= 12


def test_chain_across_modules_is_named_and_related(project: Project) -> None:
    path = ROOT / "app" / "positives.py"
    [diagnostic] = [d for d in of_code(check_file(ROOT, path, project), CODE) if "three_steps()`" in d.message]
    assert "three_steps() -> two_steps() -> run_inner() -> asyncio.run()" in diagnostic.message
    assert [Path(r.path).name for r in diagnostic.related] == ["deep.py", "helpers.py", "helpers.py"]
    assert diagnostic.related[-1].message == "starts an event loop: `asyncio.run()`"
    helpers = (ROOT / "app" / "helpers.py").read_text().splitlines()
    assert "asyncio.run(inner())" in helpers[diagnostic.related[-1].span.start.line - 1]
    assert diagnostic.fix is None  # the chain must be made async by hand


def test_direct_call_reported_at_the_call(project: Project) -> None:
    path = ROOT / "app" / "positives.py"
    lines = path.read_text().splitlines()
    for diagnostic in of_code(check_file(ROOT, path, project), CODE):
        span = diagnostic.span
        line = lines[span.start.line - 1]
        called = line[span.start.column : span.end.column] if span.start.line == span.end.line else line
        assert called.endswith(")"), called  # the span is the call expression


def test_guard_refinement_is_not_fooled_by_any_none_test(tmp_path: Path) -> None:
    # the engine's old guard test took any `is None` in a module mentioning
    # get_running_loop for a guard
    path = write_module(
        tmp_path,
        """
        import asyncio

        async def inner():
            return 1

        def probe():
            return asyncio.get_running_loop()

        def helper(value):
            if value is None:
                return asyncio.run(inner())

        async def main():
            helper(None)
        """,
    )
    assert flagged_lines(check_file(tmp_path, path), CODE) == {15}


# -- seed examples -------------------------------------------------------------------


def _seed(section: str, verdict: str) -> list[str]:
    return [e.code for e in seed_examples() if e.section == section and e.verdict == verdict]


def test_seed_wrong_example_flagged(tmp_path: Path) -> None:
    [wrong] = _seed("Mixing Sync and Async Code Incorrectly", "wrong")
    path = write_module(tmp_path, wrong)
    [diagnostic] = of_code(check_file(tmp_path, path), CODE)
    assert "result = sync_helper()" in wrong.splitlines()[diagnostic.span.start.line - 1]
    assert "sync_helper() -> asyncio.run()" in diagnostic.message


def test_seed_right_example_clean(tmp_path: Path) -> None:
    [right] = _seed("Mixing Sync and Async Code Incorrectly", "right")
    assert of_code(check_file(tmp_path, write_module(tmp_path, right)), CODE) == []


def test_every_seed_right_example_is_clean_of_these_rules(tmp_path: Path) -> None:
    rights = [e for e in seed_examples() if e.verdict == "right"]
    assert len(rights) >= 6
    for number, example in enumerate(rights):
        path = write_module(tmp_path, example.code, f"right_{number}.py")
        found = [d for d in check_file(tmp_path, path) if d.code in ("ASN005", "ASN006", "ASN007")]
        assert found == [], (example.section, found)


def _jupyter_block() -> str:
    [block] = _seed("Running asyncio.run() from Async Context", "wrong")
    return block


def test_seed_jupyter_example_as_notebook(tmp_path: Path) -> None:
    wrong, right = re.split(r"\n\s*\n(?=# Right)", _jupyter_block())
    path = tmp_path / "analysis.ipynb"
    path.write_text(
        notebook_json(
            [
                ("markdown", "# Fetching data\n"),
                ("code", "import asyncio\n\nasync def main():\n    return 42\n"),
                ("code", wrong),
                ("code", right),
            ]
        ),
        encoding="utf-8",
    )
    [result] = Project(tmp_path).check([path])
    assert result.path == str(path)
    [diagnostic] = of_code(result.diagnostics, CODE)
    assert diagnostic.cell == 3  # the markdown cell counts
    assert "top level of a notebook" in diagnostic.message
    assert diagnostic.path == str(path)
    fixed = apply_fixes(Project(tmp_path).load(path).model.text, [diagnostic.fix]).text
    assert "\nawait main()  # RuntimeError" in fixed


def test_seed_guard_example_clean_as_script_and_notebook(tmp_path: Path) -> None:
    [guard] = [e.code for e in seed_examples() if "get_running_loop" in e.code]
    script = write_module(tmp_path, "import asyncio\n\nasync def main():\n    pass\n\n" + guard)
    assert of_code(check_file(tmp_path, script), CODE) == []
    notebook = tmp_path / "both.ipynb"
    notebook.write_text(notebook_json([("code", "import asyncio\n\nasync def main():\n    pass\n"), ("code", guard)]))
    [result] = Project(tmp_path).check([notebook])
    assert of_code(result.diagnostics, CODE) == []


def test_notebook_helper_cell_reached_from_top_level(tmp_path: Path) -> None:
    notebook = tmp_path / "chain.ipynb"
    notebook.write_text(
        notebook_json(
            [
                ("code", "import asyncio\n\nasync def load():\n    return 1\n"),
                ("code", "def load_sync():\n    return asyncio.run(load())\n"),
                ("markdown", "Call it:"),
                ("code", "%time value = 1\nvalue = load_sync()\n"),
            ]
        )
    )
    [result] = Project(tmp_path).check([notebook])
    [diagnostic] = of_code(result.diagnostics, CODE)
    assert diagnostic.cell == 4
    assert "load_sync() -> asyncio.run()" in diagnostic.message
    assert diagnostic.fix is None


def test_main_guard_does_not_help_in_a_notebook(tmp_path: Path) -> None:
    notebook = tmp_path / "main.ipynb"
    source = "import asyncio\n\nasync def main():\n    pass\n\nif __name__ == \"__main__\":\n    asyncio.run(main())\n"
    notebook.write_text(notebook_json([("code", source)]))
    [result] = Project(tmp_path).check([notebook])
    assert [d.span.start.line for d in of_code(result.diagnostics, CODE)] == [7]
    script = write_module(tmp_path, source)
    assert of_code(check_file(tmp_path, script), CODE) == []


def test_top_level_of_a_script_is_not_a_running_loop(tmp_path: Path) -> None:
    path = write_module(tmp_path, "import asyncio\n\nasync def main():\n    pass\n\nasyncio.run(main())\n")
    assert of_code(check_file(tmp_path, path), CODE) == []


# -- the fix ---------------------------------------------------------------------------


def test_fix_text(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        import asyncio

        async def inner():
            return 1

        async def main():
            value = asyncio.run(inner())
            loop = asyncio.get_event_loop()
            other = loop.run_until_complete(inner()) + 1
            debug = asyncio.run(inner(), debug=True)
            return asyncio.run(inner()).real, asyncio.run(inner() if value else inner())
        """,
    )
    diagnostics = of_code(check_file(tmp_path, path), CODE)
    applicability = {d.span.start.line: d.fix.applicability for d in diagnostics}
    assert applicability == {
        8: Applicability.SAFE,
        10: Applicability.SAFE,
        11: Applicability.UNSAFE,  # debug=True is dropped
        12: Applicability.SAFE,
    }
    fixed = apply_fixes(path.read_text(), [d.fix for d in diagnostics]).text
    assert fixed == textwrap.dedent(
        """
        import asyncio

        async def inner():
            return 1

        async def main():
            value = await inner()
            loop = asyncio.get_event_loop()
            other = await inner() + 1
            debug = await inner()
            return (await inner()).real, await (inner() if value else inner())
        """
    )


def test_fix_unsafe_with_nest_asyncio_and_runner(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        import asyncio
        import nest_asyncio

        nest_asyncio.apply()

        async def main(coro):
            asyncio.run(coro)
            with asyncio.Runner() as runner:
                runner.run(coro)
        """,
    )
    diagnostics = of_code(check_file(tmp_path, path), CODE)
    assert [d.fix.applicability for d in diagnostics] == [Applicability.UNSAFE, Applicability.UNSAFE]
    fixed = apply_fixes(path.read_text(), [d.fix for d in diagnostics]).text
    assert "    await coro\n" in fixed and "        await coro\n" in fixed


def test_no_fix_in_generator_expression_or_for_run_forever(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        import asyncio

        async def main(coros):
            total = sum(asyncio.run(c) for c in coros)
            asyncio.get_event_loop().run_forever()
            return total
        """,
    )
    diagnostics = of_code(check_file(tmp_path, path), CODE)
    assert len(diagnostics) == 2
    assert all(d.fix is None for d in diagnostics)


def test_fixes_settle_on_the_positive_fixture(tmp_path: Path) -> None:
    root = copy_fixture("nested", tmp_path)
    assert assert_fixes_settle(root, root / "app" / "positives.py") >= 5


def test_fixes_settle_on_the_seed_wrong_example(tmp_path: Path) -> None:
    [wrong] = _seed("Mixing Sync and Async Code Incorrectly", "wrong")
    path = write_module(tmp_path, wrong)
    assert_fixes_settle(tmp_path, path)
    ast.parse(path.read_text())


def test_docs_match_module_docstring() -> None:
    assert_docs_match(nested_asyncio_run)

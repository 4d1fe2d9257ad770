"""gather-lost-exceptions (ASN004): asyncio.gather keeps only the first exception."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from asyncsense.analyzers.config import Config
from asyncsense.analyzers.diagnostics import Applicability
from asyncsense.analyzers.project import Project
from asyncsense.analyzers.rules import gather_lost_exceptions

from .helpers_a import (
    FIXTURES,
    GATHER_TEMPLATES,
    assert_cli_fix_matches_engine,
    assert_docs_match,
    assert_fixes_settle,
    check_source,
    copy_fixture,
    expected,
    fixed,
    found,
    last_fix,
    modules,
    of_code,
    seed_example,
    seed_examples,
    settle_source,
    shop_files,
)

CODE = "ASN004"
SECTION = "Exception Handling in Gathered Tasks"
STRICT = Config(strict_gather=True)


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_fixture_marks(strict: bool) -> None:
    config = STRICT if strict else None
    variants = frozenset({"strict"}) if strict else frozenset()
    results = Project(FIXTURES, config).check(shop_files())
    for result in results:
        path = Path(result.path)
        assert found(result.diagnostics, CODE) == expected(path, CODE, variants), path.name


def test_fixture_has_cases() -> None:
    gathering = FIXTURES / "shop" / "gathering.py"
    assert expected(gathering, CODE).total() >= 4
    assert expected(gathering, CODE, frozenset({"strict"})).total() >= 8


def test_message_names_what_is_lost_and_both_remedies(tmp_path: Path) -> None:
    _, diagnostics = check_source(tmp_path, seed_example(SECTION, "wrong").module)
    [diagnostic] = of_code(diagnostics, CODE)
    message = diagnostic.message
    assert "2 awaitables" in message and "only the first exception" in message and "lost" in message
    assert "`return_exceptions=True`" in message and "inspect the results" in message
    assert "`asyncio.TaskGroup`" in message and "3.11" in message


# -- the seed document --------------------------------------------------------------


def test_seed_wrong_example_is_flagged(tmp_path: Path) -> None:
    path, diagnostics = check_source(tmp_path, seed_example(SECTION, "wrong").module)
    [diagnostic] = of_code(diagnostics, CODE)
    line = path.read_text().splitlines()[diagnostic.span.start.line - 1]
    assert line.strip() == "results = await asyncio.gather("


@pytest.mark.parametrize(
    "example",
    [e for e in seed_examples() if not (e.section == SECTION and e.verdict == "wrong")],
    ids=lambda e: f"{e.section}-{e.verdict}",
)
@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_other_seed_examples_are_clean(tmp_path: Path, example, strict: bool) -> None:
    _, diagnostics = check_source(tmp_path, example.module, STRICT if strict else None)
    assert of_code(diagnostics, CODE) == []


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe-only", "unsafe"])
def test_cli_fix_matches_the_engine_on_the_seed_example(tmp_path: Path, unsafe: bool) -> None:
    """The fix is unsafe: ``--fix`` alone leaves the file as it is."""
    wrong = seed_example(SECTION, "wrong").module
    after = assert_cli_fix_matches_engine(tmp_path, wrong, CODE, unsafe=unsafe)
    assert ("return_exceptions=True" in after) is unsafe


def test_seed_fix_adds_what_the_right_example_has(tmp_path: Path) -> None:
    wrong = seed_example(SECTION, "wrong")
    path, diagnostics = check_source(tmp_path, wrong.module)
    after = fixed(path.read_text(), of_code(diagnostics, CODE))
    expected_call = (
        "        results = await asyncio.gather(\n"
        "            task_that_raises_connection_error(),\n"
        "            task_that_raises_value_error(),\n"
        "            return_exceptions=True,\n"
        "        )\n"
    )
    assert expected_call in after
    # The Right example's call, one level less indented (it has no try).
    assert textwrap.indent(textwrap.dedent(expected_call), "    ") in seed_example(SECTION, "right").code


# -- fix 1: return_exceptions=True, layout kept ------------------------------------------

_PRELUDE = """\
import asyncio


async def a(): ...
async def b(): ...


async def main(jobs):
    try:
{call}
    except ValueError:
        pass
"""

RETURN_EXCEPTIONS_CASES = [
    ("        await asyncio.gather(a(), b())", "        await asyncio.gather(a(), b(), return_exceptions=True)"),
    ("        await asyncio.gather(a(), b(),)", "        await asyncio.gather(a(), b(), return_exceptions=True,)"),
    ("        await asyncio.gather(a(), (b()))", "        await asyncio.gather(a(), (b()), return_exceptions=True)"),
    ("        await asyncio.gather(*jobs)", "        await asyncio.gather(*jobs, return_exceptions=True)"),
    (
        "        await asyncio.gather(*jobs, return_exceptions=False)",
        "        await asyncio.gather(*jobs, return_exceptions=True)",
    ),
    (
        "        await asyncio.gather(\n            a(),\n            b(),  # the slow one\n        )",
        "        await asyncio.gather(\n            a(),\n            b(),  # the slow one\n"
        "            return_exceptions=True,\n        )",
    ),
    (
        "        await asyncio.gather(\n            a(),\n            b()  # the slow one\n        )",
        "        await asyncio.gather(\n            a(),\n            b(),  # the slow one\n"
        "            return_exceptions=True\n        )",
    ),
    (
        "        await asyncio.gather(a(),\n                             b())",
        "        await asyncio.gather(a(),\n                             b(), return_exceptions=True)",
    ),
    (
        "        await asyncio.gather(a(), b(\n            1,\n        ))",
        "        await asyncio.gather(a(), b(\n            1,\n        ), return_exceptions=True)",
    ),
]


@pytest.mark.parametrize("before, after", RETURN_EXCEPTIONS_CASES, ids=[c[0].strip() for c in RETURN_EXCEPTIONS_CASES])
def test_return_exceptions_fix(tmp_path: Path, before: str, after: str) -> None:
    path, diagnostics = check_source(tmp_path, _PRELUDE.format(call=before))
    [diagnostic] = of_code(diagnostics, CODE)
    assert diagnostic.fix is not None and diagnostic.fix.applicability is Applicability.UNSAFE
    assert "return_exceptions=True" in diagnostic.fix.title
    assert fixed(path.read_text(), [diagnostic]) == _PRELUDE.format(call=after)


# -- fix 2: asyncio.TaskGroup ---------------------------------------------------------

TASK_GROUP_CASES = [
    (
        "        results = await asyncio.gather(a(), b())",
        "        async with asyncio.TaskGroup() as tg:\n"
        "            t1 = tg.create_task(a())\n"
        "            t2 = tg.create_task(b())\n"
        "        results = [t1.result(), t2.result()]",
    ),
    (
        "        await asyncio.gather(\n            a(),\n            b(),\n        )",
        "        async with asyncio.TaskGroup() as tg:\n"
        "            t1 = tg.create_task(a())\n"
        "            t2 = tg.create_task(b())",
    ),
    (
        "        first, second = await asyncio.gather(a(), b(1))  # both",
        "        async with asyncio.TaskGroup() as tg:\n"
        "            t1 = tg.create_task(a())\n"
        "            t2 = tg.create_task(b(1))\n"
        "        first, second = [t1.result(), t2.result()]  # both",
    ),
]


@pytest.mark.parametrize("before, after", TASK_GROUP_CASES, ids=[c[0].strip() for c in TASK_GROUP_CASES])
def test_task_group_fix(tmp_path: Path, before: str, after: str) -> None:
    path, diagnostics = check_source(tmp_path, _PRELUDE.format(call=before), Config(target_version=(3, 11)))
    [diagnostic] = of_code(diagnostics, CODE)
    assert len(diagnostic.fixes) == 2
    assert "return_exceptions=True" in diagnostic.fixes[0].title
    assert "TaskGroup" in diagnostic.fixes[1].title and "except*" in diagnostic.fixes[1].title
    assert diagnostic.fixes[1].applicability is Applicability.UNSAFE
    assert fixed(path.read_text(), [diagnostic], last_fix) == _PRELUDE.format(call=after)


def test_task_group_fix_picks_free_names_and_the_indentation_unit(tmp_path: Path) -> None:
    path, diagnostics = check_source(
        tmp_path,
        "import asyncio as aio\n\nasync def a(): ...\n\nasync def main(tg, t1):\n"
        "  try:\n    x = await aio.gather(a(), a())\n  except OSError:\n    pass\n",
    )
    [diagnostic] = of_code(diagnostics, CODE)
    after = fixed(path.read_text(), [diagnostic], last_fix)
    assert (
        "    async with aio.TaskGroup() as tg_2:\n"
        "      task1 = tg_2.create_task(a())\n"
        "      task2 = tg_2.create_task(a())\n"
        "    x = [task1.result(), task2.result()]\n"
    ) in after
    ast.parse(after)


@pytest.mark.parametrize(
    "call",
    [
        "        await asyncio.gather(*jobs)",  # how many tasks?
        "        print(await asyncio.gather(a(), b()))",  # not a simple statement
        "        await asyncio.gather(\n            a(),  # first\n            b(),\n        )",  # comment would be lost
        "        x = 1; await asyncio.gather(a(), b())",  # shares its line
    ],
)
def test_no_task_group_fix_for_other_shapes(tmp_path: Path, call: str) -> None:
    _, diagnostics = check_source(tmp_path, _PRELUDE.format(call=call), Config(target_version=(3, 12)))
    [diagnostic] = of_code(diagnostics, CODE)
    assert len(diagnostic.fixes) == 1


def test_no_task_group_fix_before_python_3_11(tmp_path: Path) -> None:
    call = "        await asyncio.gather(a(), b())"
    _, diagnostics = check_source(tmp_path, _PRELUDE.format(call=call), Config(target_version=(3, 10)))
    [diagnostic] = of_code(diagnostics, CODE)
    assert [f.title for f in diagnostic.fixes] == [
        "Add `return_exceptions=True` (then inspect the results for exceptions)"
    ]


# -- the fix properties -------------------------------------------------------------


@pytest.mark.parametrize("alternative", [False, True], ids=["return_exceptions", "task_group"])
def test_fixes_of_the_fixture_project_settle(tmp_path: Path, alternative: bool) -> None:
    root = copy_fixture(tmp_path)
    pick = last_fix if alternative else (lambda d: d.fix)
    total = sum(assert_fixes_settle(root, path, (CODE,), pick, STRICT) for path in sorted((root / "shop").glob("*.py")))
    assert total >= 10


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules(GATHER_TEMPLATES))
def test_return_exceptions_fixes_settle_on_generated_modules(source: str) -> None:
    settle_source(source, (CODE,), config=STRICT)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules(GATHER_TEMPLATES))
def test_task_group_fixes_settle_on_generated_modules(source: str) -> None:
    settle_source(source, (CODE,), pick=last_fix, config=STRICT)


def test_generated_modules_have_findings() -> None:
    source = "import asyncio\n\nasync def fetch(url): ...\n\nasync def main(flag):\n"
    body = [t.text.format(n=i, aio="asyncio", u="    ") for i, t in enumerate(GATHER_TEMPLATES)]
    source += "\n".join(textwrap.indent(text, "    ") for text in body) + "\n"
    assert settle_source(source, (CODE,)) == 7
    assert settle_source(source, (CODE,), config=STRICT) == 8
    assert settle_source(source, (CODE,), pick=last_fix, config=Config(target_version=(3, 11))) == 7


def test_docs_page_matches_the_docstring() -> None:
    assert_docs_match(gather_lost_exceptions)

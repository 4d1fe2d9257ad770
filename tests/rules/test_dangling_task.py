"""dangling-task (ASN003): tasks nobody keeps a reference to."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from asyncsense.analyzers.project import Project
from asyncsense.analyzers.rules import dangling_task

from .helpers_a import (
    DANGLING_TEMPLATES,
    FIXTURES,
    assert_cli_fix_matches_engine,
    assert_docs_match,
    assert_fixes_settle,
    check_source,
    copy_fixture,
    expected,
    fixed,
    found,
    modules,
    of_code,
    seed_example,
    seed_examples,
    settle_source,
    shop_files,
)

CODE = "ASN003"
SECTION = "Fire-and-Forget Tasks Getting Garbage Collected"


@pytest.fixture(scope="module")
def shop() -> dict[Path, list]:
    return {Path(r.path): r.diagnostics for r in Project(FIXTURES).check(shop_files())}


@pytest.mark.parametrize("path", shop_files(), ids=lambda p: p.name)
def test_fixture_marks(shop, path: Path) -> None:
    assert found(shop[path], CODE) == expected(path, CODE)


@pytest.mark.parametrize("path", shop_files(), ids=lambda p: p.name)
def test_fixture_marks_without_jedi(path: Path) -> None:
    [result] = Project(FIXTURES, use_jedi=False).check([path])
    assert found(result.diagnostics, CODE) == expected(path, CODE)


def test_fixture_has_cases() -> None:
    assert sum(expected(FIXTURES / "shop" / "tasks.py", CODE).values()) >= 12


def test_messages(shop) -> None:
    path = FIXTURES / "shop" / "tasks.py"
    lines = path.read_text().splitlines()
    messages = {lines[d.span.start.line - 1].strip(): d.message for d in of_code(shop[path], CODE)}
    assert "`asyncio.create_task(...)` is not kept" in messages['asyncio.create_task(notify("a"))  # expect: ASN003']
    assert "assigned to `_`" in messages['_ = asyncio.create_task(notify("g"))  # expect: ASN003']
    held = messages['never_read = asyncio.create_task(notify("h"))  # expect: ASN003']
    assert "held only in `never_read`, which is never used, so not beyond `dropped`" in held
    assert all("garbage-collected" in message for message in messages.values())


# -- the seed document --------------------------------------------------------------


def test_seed_wrong_example_is_flagged(tmp_path: Path) -> None:
    path, diagnostics = check_source(tmp_path, seed_example(SECTION, "wrong").module)
    [diagnostic] = of_code(diagnostics, CODE)
    line = path.read_text().splitlines()[diagnostic.span.start.line - 1]
    assert line.strip() == 'asyncio.create_task(send_email("user@example.com"))'


@pytest.mark.parametrize(
    "example",
    [e for e in seed_examples() if not (e.section == SECTION and e.verdict == "wrong")],
    ids=lambda e: f"{e.section}-{e.verdict}",
)
def test_other_seed_examples_are_clean(tmp_path: Path, example) -> None:
    _, diagnostics = check_source(tmp_path, example.module)
    assert of_code(diagnostics, CODE) == []


def test_cli_fix_matches_the_engine_on_the_seed_example(tmp_path: Path) -> None:
    after = assert_cli_fix_matches_engine(tmp_path, seed_example(SECTION, "wrong").module, CODE, unsafe=False)
    assert "_background_tasks.add(task)" in after


def test_seed_fix_is_the_right_example(tmp_path: Path) -> None:
    """The fix writes the seed's own "Right" pattern."""
    path, diagnostics = check_source(tmp_path, seed_example(SECTION, "wrong").module)
    after = fixed(path.read_text(), of_code(diagnostics, CODE))
    right = seed_example(SECTION, "right").code
    for line in right.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            assert line.split("  #")[0] in after, line


# -- the fix: text before and after ----------------------------------------------------

_BEFORE = '''\
"""Jobs."""

from __future__ import annotations

import asyncio
from asyncio import create_task

from jobs import send


async def main(flag):
{body}
'''


def _after(body: str, declaration: str = "_background_tasks: set[asyncio.Task] = set()") -> str:
    return _BEFORE.replace("from jobs import send\n", f"from jobs import send\n\n{declaration}\n").format(body=body)


FIX_CASES = [
    (
        "    create_task(send())",
        "    task = create_task(send())\n    _background_tasks.add(task)\n    task.add_done_callback(_background_tasks.discard)",
    ),
    (
        "    _ = asyncio.ensure_future(send())  # fire and forget",
        "    task = asyncio.ensure_future(send())  # fire and forget\n"
        "    _background_tasks.add(task)\n    task.add_done_callback(_background_tasks.discard)",
    ),
    (
        "    job = asyncio.get_running_loop().create_task(send())",
        "    job = asyncio.get_running_loop().create_task(send())\n"
        "    _background_tasks.add(job)\n    job.add_done_callback(_background_tasks.discard)",
    ),
    (
        "    if flag: create_task(send())",
        "    if flag: task = create_task(send()); _background_tasks.add(task); "
        "task.add_done_callback(_background_tasks.discard)",
    ),
    (
        "    flag = 1; create_task(send()); flag = 2",
        "    flag = 1; task = create_task(send()); _background_tasks.add(task); "
        "task.add_done_callback(_background_tasks.discard); flag = 2",
    ),
    (
        "    for task in range(3):\n        create_task(\n            send(task),\n        )",
        "    for task in range(3):\n        task_2 = create_task(\n            send(task),\n        )\n"
        "        _background_tasks.add(task_2)\n        task_2.add_done_callback(_background_tasks.discard)",
    ),
    (
        "\tif flag:\n\t\tcreate_task(send())",
        "\tif flag:\n\t\ttask = create_task(send())\n\t\t_background_tasks.add(task)\n"
        "\t\ttask.add_done_callback(_background_tasks.discard)",
    ),
]


@pytest.mark.parametrize("before, after", FIX_CASES, ids=[c[0].strip() for c in FIX_CASES])
def test_fix(tmp_path: Path, before: str, after: str) -> None:
    path, diagnostics = check_source(tmp_path, _BEFORE.format(body=before))
    [diagnostic] = of_code(diagnostics, CODE)
    assert diagnostic.fix is not None and diagnostic.fix.is_safe
    assert fixed(path.read_text(), [diagnostic]) == _after(after)


def test_fix_declares_the_set_once_and_imports_asyncio(tmp_path: Path) -> None:
    path, diagnostics = check_source(
        tmp_path,
        """\
        from asyncio import ensure_future as spawn

        async def job(): ...

        async def main():
            spawn(job())
            spawn(job())
        """,
    )
    after = fixed(path.read_text(), of_code(diagnostics, CODE))
    assert after.startswith(
        "import asyncio\nfrom asyncio import ensure_future as spawn\n\n"
        "_background_tasks: set[asyncio.Task] = set()\n\n"
    )
    assert after.count("_background_tasks: set") == 1
    assert after.count("_background_tasks.add(task)") == 2
    ast.parse(after)


def test_fix_uses_an_existing_set_and_the_asyncio_alias(tmp_path: Path) -> None:
    path, diagnostics = check_source(
        tmp_path,
        """\
        import asyncio as aio

        _background_tasks = set()

        async def job(): ...

        async def main(task):
            aio.create_task(job())
            return task
        """,
    )
    after = fixed(path.read_text(), of_code(diagnostics, CODE))
    assert "_background_tasks: set" not in after
    assert "    task_2 = aio.create_task(job())\n    _background_tasks.add(task_2)\n" in after


# -- the fix properties -------------------------------------------------------------


def test_fixes_of_the_fixture_project_settle(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    total = sum(assert_fixes_settle(root, path, (CODE,)) for path in sorted((root / "shop").glob("*.py")))
    assert total == sum(expected(path, CODE).total() for path in shop_files())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules(DANGLING_TEMPLATES))
def test_fixes_settle_on_generated_modules(source: str) -> None:
    settle_source(source, (CODE,))


def test_generated_modules_have_findings() -> None:
    source = "import asyncio\n\nasync def fetch(url): ...\ndef helper(value=None): ...\n\nasync def main(flag):\n"
    body = [t.text.format(n=i, aio="asyncio", u="    ") for i, t in enumerate(DANGLING_TEMPLATES)]
    source += "\n".join(textwrap.indent(text, "    ") for text in body) + "\n"
    assert settle_source(source, (CODE,)) == 7


def test_docs_page_matches_the_docstring() -> None:
    assert_docs_match(dangling_task)


class _CountingAst:
    """Stands in for the ``ast`` module inside the rule: counts the nodes its walks visit."""

    def __init__(self) -> None:
        self.visited = 0

    def __getattr__(self, name: str):
        return getattr(ast, name)

    def walk(self, node: ast.AST):
        for child in ast.walk(node):
            self.visited += 1
            yield child


def test_fresh_names_in_a_module_with_thousands_of_names(tmp_path: Path, monkeypatch) -> None:
    # Every finding's fix asks for a fresh name; the names in use are gathered once
    # per function, not once per finding (which made such a module quadratic).
    count = 2000
    body = "\n".join(f"    value_{i} = {i}\n    asyncio.create_task(work(value_{i}))" for i in range(count))
    path = tmp_path / "many.py"
    path.write_text(f"import asyncio\n\n\nasync def work(x):\n    return x\n\n\nasync def main():\n{body}\n")
    nodes = sum(1 for _ in ast.walk(ast.parse(path.read_text())))
    counting = _CountingAst()
    monkeypatch.setattr(dangling_task, "ast", counting)
    [result] = Project(tmp_path, use_jedi=False).check([path])
    fixes = [d.fix for d in result.diagnostics if d.code == CODE and d.fix is not None]
    assert len(fixes) == count
    # every fix names its task `task`: the name is free in the module
    assert all(any("task = " in edit.new_text for edit in fix.edits) for fix in fixes)
    assert counting.visited < 3 * nodes, (counting.visited, nodes)


def test_fresh_names_in_a_module_with_thousands_of_functions(tmp_path: Path, monkeypatch) -> None:
    # One unkept task in each of thousands of functions: the module's names are
    # gathered once, not copied for every function (quadratic in the functions).
    count = 2000
    body = "".join(f"async def handler_{i}():\n    asyncio.create_task(work())\n\n\n" for i in range(count))
    path = tmp_path / "handlers.py"
    path.write_text(f"import asyncio\n\n\nasync def work():\n    return 1\n\n\n{body}")
    copies: list[int] = []
    real_frozenset = frozenset

    def counting_frozenset(items=()):
        made = real_frozenset(items)
        copies.append(len(made))
        return made

    monkeypatch.setattr(dangling_task, "frozenset", counting_frozenset, raising=False)
    [result] = Project(tmp_path, use_jedi=False).check([path])
    fixes = [d.fix for d in result.diagnostics if d.code == CODE and d.fix is not None]
    assert len(fixes) == count
    # the module's ~2,000 names are collected once; each function adds only its own few
    assert sum(copies) < 5 * count, (len(copies), sum(copies))

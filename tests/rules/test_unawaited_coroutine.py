"""unawaited-coroutine (ASN002): coroutines that are created and go nowhere."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from asyncsense.analyzers.diagnostics import Applicability
from asyncsense.analyzers.project import Project
from asyncsense.analyzers.rules import unawaited_coroutine

from .helpers_a import (
    FIXTURES,
    UNAWAITED_TEMPLATES,
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

CODE = "ASN002"
SECTION = "Forgetting to Await Coroutines"


@pytest.fixture(scope="module")
def shop_with_jedi() -> dict[Path, list]:
    results = Project(FIXTURES).check(shop_files())
    return {Path(r.path): r.diagnostics for r in results}


@pytest.fixture(scope="module")
def shop_without_jedi() -> dict[Path, list]:
    results = Project(FIXTURES, use_jedi=False).check(shop_files())
    return {Path(r.path): r.diagnostics for r in results}


# -- the fixture project: positives and look-alikes, across modules ---------------


@pytest.mark.parametrize("path", shop_files(), ids=lambda p: p.name)
def test_fixture_marks_with_jedi(shop_with_jedi, path: Path) -> None:
    assert found(shop_with_jedi[path], CODE) == expected(path, CODE, frozenset({"jedi"}))


@pytest.mark.parametrize("path", shop_files(), ids=lambda p: p.name)
def test_fixture_marks_without_jedi(shop_without_jedi, path: Path) -> None:
    """Cheap resolution finds every cross-module case; only unlisted library coroutines need jedi."""
    assert found(shop_without_jedi[path], CODE) == expected(path, CODE)


def test_fixture_has_cases_of_every_kind() -> None:
    marked = expected(FIXTURES / "shop" / "unawaited.py", CODE, frozenset({"jedi"}))
    assert sum(marked.values()) >= 25


def test_messages_say_why_it_is_a_coroutine(shop_without_jedi) -> None:
    diagnostics = of_code(shop_without_jedi[FIXTURES / "shop" / "unawaited.py"], CODE)
    messages = {d.span.start.line: d.message for d in diagnostics}
    text = (FIXTURES / "shop" / "unawaited.py").read_text().splitlines()

    def line_of(fragment: str) -> int:
        return next(i for i, line in enumerate(text, 1) if fragment in line)

    assert "`Mailer.send` is `async def`" in messages[line_of('mailer.send("c")')]
    assert "`later` returns `Awaitable`" in messages[line_of('later("h")')]
    assert "`Job` is a `Coroutine` subclass" in messages[line_of("Job()  #")]
    assert "`asyncio.sleep` is a coroutine function" in messages[line_of("asyncio.sleep(1)")]
    assert "`aiohttp.ClientSession.close` is a coroutine function" in messages[line_of("session.close()  #")]
    assert "assigned to `result`" in messages[line_of('result = fetch("a")')]
    assert "always true" in messages[line_of("if is_ready():")]
    assert "passed to `log.info`" in messages[line_of('log.info("state')]
    assert "formatted" in messages[line_of("label = f")]
    assert "compared" in messages[line_of('if fetch("a") == b""')]
    sync_message = messages[line_of('notify("x")')]
    assert "`sync_caller` is not a coroutine" in sync_message
    assert "asyncio.run" in sync_message and "create_task" in sync_message


def test_assigned_coroutine_points_at_the_uses(shop_without_jedi) -> None:
    path = FIXTURES / "shop" / "unawaited.py"
    [diagnostic] = [
        d for d in of_code(shop_without_jedi[path], CODE) if "assigned to `result`" in d.message
    ]
    [related] = diagnostic.related
    assert path.read_text().splitlines()[related.span.start.line - 1].strip() == "print(result)"


# -- the seed document --------------------------------------------------------------


def test_seed_wrong_example_is_flagged(tmp_path: Path) -> None:
    example = seed_example(SECTION, "wrong")
    path, diagnostics = check_source(tmp_path, example.module)
    [diagnostic] = of_code(diagnostics, CODE)
    line = path.read_text().splitlines()[diagnostic.span.start.line - 1]
    assert line.strip().startswith('result = fetch("https://api.example.com")')


@pytest.mark.parametrize(
    "example",
    [e for e in seed_examples() if not (e.section == SECTION and e.verdict == "wrong")],
    ids=lambda e: f"{e.section}-{e.verdict}",
)
def test_other_seed_examples_are_clean(tmp_path: Path, example) -> None:
    _, diagnostics = check_source(tmp_path, example.module)
    assert of_code(diagnostics, CODE) == []


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe-only", "unsafe"])
def test_cli_fix_matches_the_engine_on_the_seed_example(tmp_path: Path, unsafe: bool) -> None:
    """The seed's `result` is printed, so awaiting changes what is printed: an unsafe fix."""
    after = assert_cli_fix_matches_engine(tmp_path, seed_example(SECTION, "wrong").module, CODE, unsafe=unsafe)
    assert ("result = await fetch(" in after) is unsafe


def test_cli_fix_applies_the_safe_await_fix(tmp_path: Path) -> None:
    source = "async def send_email(to): ...\n\nasync def main():\n    send_email('ops@example.com')\n"
    after = assert_cli_fix_matches_engine(tmp_path, source, CODE, unsafe=False)
    assert "    await send_email('ops@example.com')\n" in after


def test_seed_fix_gives_the_right_example(tmp_path: Path) -> None:
    wrong = seed_example(SECTION, "wrong")
    path, diagnostics = check_source(tmp_path, wrong.module)
    after = fixed(path.read_text(), of_code(diagnostics, CODE))
    assert 'result = await fetch("https://api.example.com")  # Missing await!' in after
    assert seed_example(SECTION, "right").code.replace("# Right: await the coroutine.\n", "").splitlines()[1] in after


# -- resolution, not names ----------------------------------------------------------


def test_same_method_name_on_a_sync_class_is_not_flagged(tmp_path: Path) -> None:
    _, diagnostics = check_source(
        tmp_path,
        """
        class Async:
            async def close(self): ...

        class Sync:
            def close(self): ...

        async def main(a: Async, s: Sync):
            s.close()
            Sync().close()
            a.close()
        """,
    )
    assert [d.span.start.line for d in of_code(diagnostics, CODE)] == [11]


def test_library_coroutine_the_catalog_does_not_list_needs_jedi(tmp_path: Path) -> None:
    source = """
        from contextlib import AsyncExitStack

        async def main():
            stack = AsyncExitStack()
            stack.aclose()
            stack.pop_all()
    """
    _, with_jedi = check_source(tmp_path, source, use_jedi=True)
    assert [d.span.start.line for d in of_code(with_jedi, CODE)] == [6]
    assert "`contextlib.AsyncExitStack.aclose` is a coroutine function" in of_code(with_jedi, CODE)[0].message
    _, without = check_source(tmp_path, source, use_jedi=False)
    assert of_code(without, CODE) == []


def test_decorators_that_make_a_sync_function(tmp_path: Path) -> None:
    _, diagnostics = check_source(
        tmp_path,
        """
        import asyncio
        from asgiref.sync import async_to_sync

        def blocking(function):
            def wrapper(*args):
                return asyncio.run(function(*args))
            return wrapper

        @blocking
        async def one(): ...

        @async_to_sync
        async def two(): ...

        @staticmethod
        async def three(): ...

        def main():
            one()
            two()
            three()
        """,
    )
    assert [d.span.start.line for d in of_code(diagnostics, CODE)] == [22]


def test_async_generators_and_tasks_are_not_coroutines(tmp_path: Path) -> None:
    _, diagnostics = check_source(
        tmp_path,
        """
        import asyncio

        async def ticks():
            yield 1

        def start() -> asyncio.Task:
            return asyncio.ensure_future(asyncio.sleep(1))

        async def main():
            ticks()
            start()
            asyncio.get_running_loop().run_in_executor(None, print)
            async for tick in ticks():
                print(tick)
        """,
    )
    assert of_code(diagnostics, CODE) == []


def test_coroutine_attributes_are_fine(tmp_path: Path) -> None:
    _, diagnostics = check_source(
        tmp_path,
        """
        async def job(): ...

        def main():
            job().close()
            coro = job()
            coro.send(None)
        """,
    )
    assert of_code(diagnostics, CODE) == []


# -- the fix: text before and after ----------------------------------------------------


FIX_CASES = [
    # (before, after, applicability)
    ("fetch(url)", "await fetch(url)", Applicability.SAFE),
    ("_ = fetch(url)", "_ = await fetch(url)", Applicability.SAFE),
    ("data = fetch(url)", "data = await fetch(url)", Applicability.SAFE),
    ("data = fetch(url)\n    print(data)", "data = await fetch(url)\n    print(data)", Applicability.UNSAFE),
    ("if is_ready():\n        pass", "if await is_ready():\n        pass", Applicability.UNSAFE),
    ("if not is_ready() and url:\n        pass", "if not await is_ready() and url:\n        pass", Applicability.UNSAFE),
    ("return box().value", "return (await box()).value", Applicability.UNSAFE),
    ("return (box()).value", "return (await box()).value", Applicability.UNSAFE),
    ("return box()[0]", "return (await box())[0]", Applicability.UNSAFE),
    ("return size() ** 2", "return (await size()) ** 2", Applicability.UNSAFE),
    ("return size() + 2", "return await size() + 2", Applicability.UNSAFE),
    ('print(f"{fetch(url)}")', 'print(f"{await fetch(url)}")', Applicability.UNSAFE),
    ("print(fetch(url))", "print(await fetch(url))", Applicability.UNSAFE),
    ("return [u for u in url if is_ready()]", "return [u for u in url if await is_ready()]", Applicability.UNSAFE),
    (
        "fetch(\n        url,  # the page\n    )",
        "await fetch(\n        url,  # the page\n    )",
        Applicability.SAFE,
    ),
]

_FIX_PRELUDE = """\
async def fetch(url): ...
async def is_ready(): ...
async def box(): ...
async def size(): ...

async def main(url):
    {statement}
"""


@pytest.mark.parametrize("before, after, applicability", FIX_CASES, ids=[c[0] for c in FIX_CASES])
def test_await_fix(tmp_path: Path, before: str, after: str, applicability: Applicability) -> None:
    path, diagnostics = check_source(tmp_path, _FIX_PRELUDE.format(statement=before))
    [diagnostic] = of_code(diagnostics, CODE)
    assert diagnostic.fix is not None
    assert diagnostic.fix.applicability is applicability
    assert fixed(path.read_text(), [diagnostic]) == _FIX_PRELUDE.format(statement=after)


@pytest.mark.parametrize(
    "statement",
    [
        "return any(u for u in url if is_ready())",  # await would make an async generator expression
        "return lambda: is_ready() == 1",  # a lambda is not a coroutine
    ],
)
def test_no_await_fix_where_await_is_not_allowed(tmp_path: Path, statement: str) -> None:
    _, diagnostics = check_source(tmp_path, _FIX_PRELUDE.format(statement=statement))
    [diagnostic] = of_code(diagnostics, CODE)
    assert diagnostic.fixes == []


def test_no_fix_in_sync_function_and_module_level(tmp_path: Path) -> None:
    _, diagnostics = check_source(
        tmp_path,
        """
        async def main(): ...

        def run():
            main()

        main()
        """,
    )
    in_function, at_module = of_code(diagnostics, CODE)
    assert in_function.fixes == [] and at_module.fixes == []
    assert "make it `async def`" in in_function.message
    assert "at module level, run it with `asyncio.run(...)`" in at_module.message


# -- the fix properties -------------------------------------------------------------


def test_fixes_of_the_fixture_project_settle(tmp_path: Path) -> None:
    root = copy_fixture(tmp_path)
    total = sum(assert_fixes_settle(root, path, (CODE,)) for path in sorted((root / "shop").glob("*.py")))
    assert total >= 20


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(modules(UNAWAITED_TEMPLATES))
def test_fixes_settle_on_generated_modules(source: str) -> None:
    settle_source(source, (CODE,))


def test_generated_modules_have_findings() -> None:
    """The generator's positive templates are findings (else the property proves nothing)."""
    source = "import asyncio\n" + textwrap.dedent(
        """
        async def fetch(url): ...
        async def is_ready(): ...
        def helper(value=None): ...
        class Box:
            value = 1
        async def get_box(): ...

        async def main(flag):
        """
    )
    body = [t.text.format(n=i, aio="asyncio", u="    ") for i, t in enumerate(UNAWAITED_TEMPLATES)]
    source += "\n".join(textwrap.indent(text, "    ") for text in body) + "\n"
    assert settle_source(source, (CODE,)) == 12


def test_docs_page_matches_the_docstring() -> None:
    assert_docs_match(unawaited_coroutine)

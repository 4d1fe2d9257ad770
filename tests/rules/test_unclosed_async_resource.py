"""unclosed-async-resource (ASN007): async resources not closed on every path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from asyncsense.analyzers.diagnostics import Applicability
from asyncsense.analyzers.project import Project
from asyncsense.analyzers.rules import unclosed_async_resource

from .helpers_b import (
    FIXTURES,
    assert_docs_match,
    assert_fixes_settle,
    check_file,
    copy_fixture,
    expected_lines,
    fixed_text,
    flagged_lines,
    of_code,
    seed_examples,
    write_module,
)

CODE = "ASN007"
ROOT = FIXTURES / "resources"
SECTION = "Not Cleaning Up Resources"


@pytest.fixture(scope="module")
def project() -> Project:
    return Project(ROOT)


@pytest.mark.parametrize("module", ["positives.py", "negatives.py"])
def test_fixture_marks_match(project: Project, module: str) -> None:
    path = ROOT / "store" / module
    diagnostics = check_file(ROOT, path, project)
    assert flagged_lines(diagnostics, CODE) == expected_lines(path, CODE)


def test_positives_fixture_has_cases() -> None:
    assert len(expected_lines(ROOT / "store" / "positives.py", CODE)) >= 12


def test_reported_at_the_creating_call(project: Project) -> None:
    path = ROOT / "store" / "positives.py"
    lines = path.read_text().splitlines()
    for diagnostic in of_code(check_file(ROOT, path, project), CODE):
        span = diagnostic.span
        created = lines[span.start.line - 1][span.start.column :]
        assert not created.startswith(("await", "session =", "client =")), created
        assert "(" in created


def test_messages(project: Project) -> None:
    path = ROOT / "store" / "positives.py"
    messages = [d.message for d in of_code(check_file(ROOT, path, project), CODE)]

    def one(fragment: str) -> str:
        [message] = [m for m in messages if fragment in m]
        return message

    assert "is never closed, so `session` leaks" in one("coroutine `never_closed`")
    assert "closed only when no exception is raised before `client.aclose()`" in one("`happy_path_only`")
    assert one("`database`").endswith("use `try`/`finally`")  # asyncpg connections have no `async with`
    assert "`PooledConnection()`" in one("`project_class`")  # __aexit__ and aclose found through the base class
    assert "`TracingSession()`" in one("`library_subclass`")
    assert "`make_client()`" in one("`factory`")
    assert "created and dropped" in one("`dropped`")


def test_seed_wrong_flagged_and_right_clean(tmp_path: Path) -> None:
    [wrong] = [e.code for e in seed_examples() if e.section == SECTION and e.verdict == "wrong"]
    [right] = [e.code for e in seed_examples() if e.section == SECTION and e.verdict == "right"]
    wrong_path = write_module(tmp_path, wrong, "wrong.py")
    [diagnostic] = of_code(check_file(tmp_path, wrong_path), CODE)
    assert "session = aiohttp.ClientSession()" in wrong.splitlines()[diagnostic.span.start.line - 1]
    assert of_code(check_file(tmp_path, write_module(tmp_path, right, "right.py")), CODE) == []


def test_user_class_needs_an_async_close(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        class SyncClose:
            async def __aenter__(self):
                return self

            async def __aexit__(self, *exc):
                self.close()

            def close(self):
                pass

        class AsyncClose(SyncClose):
            async def close(self):
                pass

        async def main():
            first = SyncClose()
            second = AsyncClose()
            return first, second.close
        """,
    )
    assert flagged_lines(check_file(tmp_path, path), CODE) == {18}


# -- the fix ---------------------------------------------------------------------------


def test_fix_wraps_the_uses_in_async_with(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        '''
        import aiohttp


        async def fetch_all(urls):
            session = aiohttp.ClientSession(
                headers={"x": "1"},
            )  # one session for all
            results = []
            # fetch them one by one
            for url in urls:
                async with session.get(url) as resp:
                    results.append(await resp.text())
                    note = """keep
        this text
          as it is"""

            await session.close()
            return results
        ''',
    )
    fixed, [diagnostic] = fixed_text(path, CODE)
    assert diagnostic.fix.applicability is Applicability.UNSAFE
    assert fixed == textwrap.dedent(
        '''
        import aiohttp


        async def fetch_all(urls):
            async with aiohttp.ClientSession(
                headers={"x": "1"},
            ) as session:  # one session for all
                results = []
                # fetch them one by one
                for url in urls:
                    async with session.get(url) as resp:
                        results.append(await resp.text())
                        note = """keep
        this text
          as it is"""

            return results
        '''
    )


def test_fix_drops_the_await_of_an_awaited_creation(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        import aiofiles

        async def read(path):
            handle = await aiofiles.open(path)
            text = await handle.read()
            await handle.close()
            return text
        """,
    )
    fixed, _ = fixed_text(path, CODE)
    assert fixed == textwrap.dedent(
        """
        import aiofiles

        async def read(path):
            async with aiofiles.open(path) as handle:
                text = await handle.read()
            return text
        """
    )


def test_fix_try_finally_where_async_with_does_not_fit(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        import asyncio
        import asyncpg

        async def ping(host):
            reader, writer = await asyncio.open_connection(host, 80)
            writer.write(b"PING")
            reply = await reader.readline()
            writer.close()
            await writer.wait_closed()
            return reply

        async def rows(dsn):
            connection = await asyncpg.connect(dsn)
            return await connection.fetch("SELECT 1")
        """,
    )
    fixed, _ = fixed_text(path, CODE)
    assert fixed == textwrap.dedent(
        """
        import asyncio
        import asyncpg

        async def ping(host):
            reader, writer = await asyncio.open_connection(host, 80)
            try:
                writer.write(b"PING")
                reply = await reader.readline()
            finally:
                writer.close()
                await writer.wait_closed()
            return reply

        async def rows(dsn):
            connection = await asyncpg.connect(dsn)
            try:
                return await connection.fetch("SELECT 1")
            finally:
                await connection.close()
        """
    )


def test_fix_at_the_end_of_a_file_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "end.py"
    path.write_text("import httpx\n\nasync def get(url):\n    client = httpx.AsyncClient()\n    await client.get(url)")
    fixed, _ = fixed_text(path, CODE)
    assert fixed == (
        "import httpx\n\nasync def get(url):\n    async with httpx.AsyncClient() as client:\n        await client.get(url)"
    )


def test_no_fix_when_the_shape_does_not_allow_it(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        import aiohttp

        async def used_after_its_block(flag):
            if flag:
                session = aiohttp.ClientSession()
                await session.get("a")
            await session.get("b")

        async def reassigned():
            session = aiohttp.ClientSession()
            await session.get("a")
            session = None

        async def closed_twice(flag):
            session = aiohttp.ClientSession()
            if flag:
                await session.close()
                return None
            data = await session.get("a")
            await session.close()
            return data

        async def same_line():
            session = aiohttp.ClientSession(); await session.get("a")
        """,
    )
    diagnostics = of_code(check_file(tmp_path, path), CODE)
    assert len(diagnostics) == 4
    assert [d.fix for d in diagnostics] == [None, None, None, None]


def test_fixes_settle_on_the_positive_fixture(tmp_path: Path) -> None:
    root = copy_fixture("resources", tmp_path)
    # every marked case has a fix but `dropped`, whose session is never bound to a name
    assert assert_fixes_settle(root, root / "store" / "positives.py") == len(
        expected_lines(root / "store" / "positives.py", CODE)
    ) - 1


def test_fixes_settle_on_the_seed_wrong_example(tmp_path: Path) -> None:
    [wrong] = [e.code for e in seed_examples() if e.section == SECTION and e.verdict == "wrong"]
    assert assert_fixes_settle(tmp_path, write_module(tmp_path, wrong)) == 1


def test_docs_match_module_docstring() -> None:
    assert_docs_match(unclosed_async_resource)


# -- methods that hand back what the object keeps (false alarms on real trees, docs/findings.md) --


_POOL_CLASSES = """
class Conn:
    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.aclose()

    async def aclose(self):
        pass


class Client(Conn):
    def __init__(self):
        self._default = Conn()
        self._mounts = {}
        self._pool = {}

    def transport_for(self, key) -> Conn:
        for pattern, transport in self._mounts.items():
            if pattern == key:
                return self._default if transport is None else transport
        return self._default

    def cached(self, key) -> Conn:
        try:
            return self._pool[key]
        except KeyError:
            conn = Conn()
            self._pool[key] = conn
            return conn

    async def ensure(self, key) -> Conn:
        if key not in self._pool:
            self._pool[key] = Conn()
        return self._pool[key]

    async def initialize(self) -> "Client":
        if not self._pool:
            return await self.initialize()
        return self

    def queue(self, *args) -> "Client":
        return self._queue(*args)

    def _queue(self, *args) -> "Client":
        self._pool[args] = None
        return self

    def fresh(self) -> Conn:
        return Conn()

    def fresh_local(self) -> Conn:
        conn = Conn()
        return conn
"""


def test_methods_that_hand_back_what_the_object_keeps_are_no_factories(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        _POOL_CLASSES
        + """

class User(Client):
    async def run(self, key):
        transport = self.transport_for(key)
        print(transport)
        conn = self.cached(key)
        print(conn)
        other = await self.ensure(key)
        print(other)
        await self.initialize()
        self.queue("GET", key)
""",
    )
    assert of_code(check_file(tmp_path, path), CODE) == []


def test_methods_that_make_a_new_one_are_still_factories(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        _POOL_CLASSES
        + """

class User(Client):
    async def run(self):
        first = self.fresh()  # flagged
        print(first)
        second = self.fresh_local()  # flagged
        print(second)
""",
    )
    marked = {i for i, line in enumerate(path.read_text().splitlines(), start=1) if line.endswith("# flagged")}
    assert len(marked) == 2
    assert flagged_lines(check_file(tmp_path, path), CODE) == marked


def test_a_method_returning_its_own_class_hands_back_its_object(tmp_path: Path) -> None:
    # The method lives in another module (its body is not read): its declared return
    # type is its own class, so it is taken as fluent - the object it is called on.
    (tmp_path / "pipes.py").write_text(
        textwrap.dedent(
            """
            from typing import Awaitable, Union


            class Pipeline:
                async def __aenter__(self):
                    return self

                async def __aexit__(self, *exc):
                    await self.aclose()

                async def aclose(self):
                    pass

                def execute_command(self, *args) -> Union["Pipeline", Awaitable["Pipeline"]]:
                    return self.queue(*args)

                @classmethod
                def create(cls) -> "Pipeline":
                    return cls()
            """
        )
    )
    path = write_module(
        tmp_path,
        """
        from pipes import Pipeline


        class Batch(Pipeline):
            async def discard(self):
                await self.execute_command("DISCARD")


        async def run(pipe: Pipeline, commands):
            for command in commands:
                pipe.execute_command(*command)


        async def make():
            made = Pipeline.create()  # flagged
            print(made)
        """,
        "user.py",
    )
    marked = {i for i, line in enumerate(path.read_text().splitlines(), start=1) if line.endswith("# flagged")}
    assert flagged_lines(check_file(tmp_path, path), CODE) == marked


def test_fix_and_a_line_another_fix_inserts_in_the_block_do_not_both_go_in(tmp_path: Path) -> None:
    """Found by the glued-snippet search: loop-starvation inserts `await asyncio.sleep(0)`
    at a line start inside the statements this fix indents. Both applied together left
    the inserted line at the old indentation (an IndentationError); now they conflict
    and the second is skipped, to be applied on the next run."""
    import ast

    from asyncsense.analyzers.fixes import apply_fixes

    path = write_module(
        tmp_path,
        '''
        import asyncio

        import aiohttp


        async def fetch_all(urls, rows):
            session = aiohttp.ClientSession()
            for row in rows:
                transform(row)
            for url in urls:
                async with session.get(url) as resp:
                    await resp.text()
        ''',
    )
    diagnostics = check_file(tmp_path, path)
    fixes = [d.fix for d in diagnostics if d.fix is not None]
    assert {d.code for d in diagnostics if d.fix is not None} >= {"ASN006", "ASN007"}, diagnostics
    text = path.read_text()
    for ordered in (fixes, fixes[::-1]):
        applied = apply_fixes(text, ordered)
        ast.parse(applied.text)
        assert applied.skipped >= 1


def test_two_resources_one_inside_the_others_block_are_fixed_one_at_a_time(tmp_path: Path) -> None:
    """Found by the glued-snippet search: a coroutine pasted into another, each with an
    unclosed client. Both fixes re-indent the line after the inner client the same way,
    and identical edits were merged, so the inner `async with` lost its body (it was
    indented once, not twice).  Identical replacements from two fixes now conflict."""
    import ast

    from asyncsense.analyzers.fixes import apply_fixes

    path = write_module(
        tmp_path,
        '''
        import aiohttp
        import httpx


        async def fetch_all(urls):
            session = aiohttp.ClientSession()

            async def setup():
                client = httpx.AsyncClient()
                client.build_request("GET", "/")

            for url in urls:
                async with session.get(url) as resp:
                    await resp.text()
        ''',
    )
    diagnostics = check_file(tmp_path, path)
    fixes = [d.fix for d in diagnostics if d.code == CODE and d.fix is not None]
    assert len(fixes) == 2, diagnostics
    text = path.read_text()
    for ordered in (fixes, fixes[::-1]):
        applied = apply_fixes(text, ordered)
        ast.parse(applied.text)
        assert (applied.applied, applied.skipped) == (1, 1)

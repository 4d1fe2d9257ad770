"""loop-starvation (ASN006): loops in coroutines that can run long without an await point."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from asyncsense.analyzers.diagnostics import Applicability
from asyncsense.analyzers.project import Project
from asyncsense.analyzers.rules import loop_starvation

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

CODE = "ASN006"
ROOT = FIXTURES / "starvation"


@pytest.fixture(scope="module")
def project() -> Project:
    return Project(ROOT)


@pytest.mark.parametrize("module", ["positives.py", "negatives.py"])
def test_fixture_marks_match(project: Project, module: str) -> None:
    path = ROOT / "work" / module
    diagnostics = check_file(ROOT, path, project)
    assert flagged_lines(diagnostics, CODE) == expected_lines(path, CODE)


def test_positives_fixture_has_cases() -> None:
    assert len(expected_lines(ROOT / "work" / "positives.py", CODE)) >= 14


def test_span_is_the_loop_header(project: Project) -> None:
    path = ROOT / "work" / "positives.py"
    lines = path.read_text().splitlines()
    for diagnostic in of_code(check_file(ROOT, path, project), CODE):
        span = diagnostic.span
        header = lines[span.start.line - 1][span.start.column :]
        assert header.startswith(("for ", "while ")), header
        if span.start.line == span.end.line:
            assert lines[span.end.line - 1][: span.end.column].endswith(":")
        else:  # `for item in zip(\n ... \n):` ends on the colon's line
            assert lines[span.end.line - 1][: span.end.column].strip() == "):"


def test_messages_say_why(project: Project) -> None:
    path = ROOT / "work" / "positives.py"
    by_line = {d.span.start.line: d.message for d in of_code(check_file(ROOT, path, project), CODE)}
    lines = path.read_text().splitlines()

    def message_at(fragment: str) -> str:
        [number] = [i for i, line in enumerate(lines, start=1) if fragment in line]
        return by_line[number]

    assert "calls `transform()` for every item of `data`" in message_at("for item in data:")
    assert "calls `accumulator.add_row()`" in message_at("for row in rows:")  # a method in another module
    assert "busy-waits on `not self.ready`" in message_at("while not self.ready:")
    assert "busy-waits on `time.monotonic() < deadline`" in message_at("while time.monotonic()")


def test_while_true_kinds(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        async def spin(self):
            while True:
                if self.ready:
                    break

        async def forever(self):
            while True:
                self.handle()

        async def reader(stream, handle):
            while True:
                line = stream.readline()
                if not line:
                    break
                handle(line)
        """,
    )
    messages = {d.span.start.line: d.message for d in of_code(check_file(tmp_path, path), CODE)}
    assert "busy-waits on `self.ready`" in messages[3]
    assert "never awaits and never ends" in messages[8]
    assert "calls `stream.readline()` for every pass" in messages[12]


def test_seed_wrong_flagged_and_right_clean(tmp_path: Path) -> None:
    section = "Starvation from Long-Running Coroutines"
    [wrong] = [e.code for e in seed_examples() if e.section == section and e.verdict == "wrong"]
    [right] = [e.code for e in seed_examples() if e.section == section and e.verdict == "right"]
    wrong_path = write_module(tmp_path, wrong, "wrong.py")
    [diagnostic] = of_code(check_file(tmp_path, wrong_path), CODE)
    assert wrong.splitlines()[diagnostic.span.start.line - 1].strip().startswith("for item in data:")
    assert "expensive_transform()" in diagnostic.message
    assert of_code(check_file(tmp_path, write_module(tmp_path, right, "right.py")), CODE) == []


def test_notebook_top_level_loops_are_not_reported(tmp_path: Path) -> None:
    from .helpers_b import notebook_json

    notebook = tmp_path / "loops.ipynb"
    notebook.write_text(notebook_json([("code", "for row in rows:\n    process(row)\n")]))
    [result] = Project(tmp_path).check([notebook])
    assert of_code(result.diagnostics, CODE) == []


# -- the fix ---------------------------------------------------------------------------


def test_fix_text_end_of_body_and_import(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        '''
        """Docs."""
        from __future__ import annotations

        import time


        async def compute_heavy(data):
            result = []
            for item in data:  # millions of items
                result.append(expensive_transform(item))
                # keep going
            return result


        async def wait_ready(self):
            while not self.ready: pass
        ''',
    )
    fixed, diagnostics = fixed_text(path, CODE)
    assert {d.fix.applicability for d in diagnostics} == {Applicability.UNSAFE}
    assert fixed == textwrap.dedent(
        '''
        """Docs."""
        from __future__ import annotations

        import asyncio
        import time


        async def compute_heavy(data):
            result = []
            for item in data:  # millions of items
                result.append(expensive_transform(item))
                await asyncio.sleep(0)
                # keep going
            return result


        async def wait_ready(self):
            while not self.ready: await asyncio.sleep(0)
        '''
    )


def test_fix_text_start_of_body_when_a_continue_would_skip_it(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        import asyncio as aio

        async def process(items):
        \tfor item in items:
        \t\tif item is None:
        \t\t\tcontinue
        \t\ttransform(item)
        \telse:
        \t\tdone()

        async def drain(queue):
            while queue:
                transform(queue.pop()); continue
        """.replace("\\t", "\t"),
    )
    fixed, _ = fixed_text(path, CODE)
    assert fixed == textwrap.dedent(
        """
        import asyncio as aio

        async def process(items):
        \tfor item in items:
        \t\tawait aio.sleep(0)
        \t\tif item is None:
        \t\t\tcontinue
        \t\ttransform(item)
        \telse:
        \t\tdone()

        async def drain(queue):
            while queue:
                await aio.sleep(0)
                transform(queue.pop()); continue
        """.replace("\\t", "\t")
    )


def test_fix_on_the_last_line_without_newline_and_crlf(tmp_path: Path) -> None:
    path = tmp_path / "crlf.py"
    path.write_bytes(b"import asyncio\r\nasync def f(items):\r\n    for item in items:\r\n        work(item)")
    fixed, _ = fixed_text(path, CODE)
    assert fixed == (
        "import asyncio\r\nasync def f(items):\r\n    for item in items:\r\n        work(item)\r\n"
        "        await asyncio.sleep(0)"
    )


def test_fixes_settle_on_the_positive_fixture(tmp_path: Path) -> None:
    root = copy_fixture("starvation", tmp_path)
    assert assert_fixes_settle(root, root / "work" / "positives.py") == len(
        expected_lines(root / "work" / "positives.py", CODE)
    )


def test_fixes_settle_on_the_seed_wrong_example(tmp_path: Path) -> None:
    [wrong] = [
        e.code
        for e in seed_examples()
        if e.section == "Starvation from Long-Running Coroutines" and e.verdict == "wrong"
    ]
    assert assert_fixes_settle(tmp_path, write_module(tmp_path, wrong)) == 1


def test_docs_match_module_docstring() -> None:
    assert_docs_match(loop_starvation)


# -- cost of what a pass calls (false alarms found on real trees, docs/findings.md) ----


def test_cheap_helpers_of_the_module_are_cheap(tmp_path: Path) -> None:
    # A sync helper of the module that neither loops nor calls anything costly
    # costs about what the builtins it calls cost: the loop is cheap.
    path = write_module(
        tmp_path,
        """
        def as_text(value):
            return value.decode("utf-8") if isinstance(value, bytes) else value


        def settle(fut, result):
            if not fut.done():
                fut.set_result(result)


        def label(value):
            return as_text(value).strip().lower()


        async def decode_all(items):
            return [as_text(item) for item in items]


        async def labels(items):
            out = []
            for item in items:
                out.append(label(item))
            return out


        async def wake(waiters, result):
            for fut in waiters:
                settle(fut, result)
        """,
    )
    assert of_code(check_file(tmp_path, path), CODE) == []


def test_cheap_helpers_of_other_modules_are_cheap(tmp_path: Path) -> None:
    # The summary of another module says its helper is cheap (and what it calls
    # in turn): a one-line helper there costs what it costs here.
    write_module(
        tmp_path,
        """
        def str_if_bytes(value):
            return value.decode("utf-8") if isinstance(value, bytes) else value


        def safe_str(value):
            return str(str_if_bytes(value))


        def set_result(fut, result):
            if not fut.done():
                fut.set_result(result)


        class Record:
            def label(self, value):
                return safe_str(value).lower()
        """,
        name="helpers.py",
    )
    path = write_module(
        tmp_path,
        """
        from helpers import Record, safe_str, set_result


        async def names(items):
            out = []
            for item in items:
                out.append(safe_str(item))
            return out


        async def wake(waiters, result):
            for fut in waiters:
                set_result(fut, result)


        async def labels(record: Record, items):
            for item in items:
                print(record.label(item))
        """,
    )
    assert of_code(check_file(tmp_path, path), CODE) == []


def test_costly_helpers_of_other_modules_still_count(tmp_path: Path) -> None:
    write_module(
        tmp_path,
        """
        import time

        from unknown_lib import heavy


        def total(values):
            return sum(value * 2 for value in values)


        def wait_a_bit(value):
            time.sleep(0.1)
            return value


        def opaque(value):
            return heavy(value)


        def cheap_but_calls(value):
            return opaque(value).strip()


        def forever(value):
            return forever(value - 1) if value else 0
        """,
        name="costs.py",
    )
    path = write_module(
        tmp_path,
        """
        from costs import cheap_but_calls, forever, opaque, total, wait_a_bit


        async def a(rows):
            for row in rows:
                print(total(row))


        async def b(rows):
            for row in rows:
                print(wait_a_bit(row))


        async def c(rows):
            for row in rows:
                print(opaque(row))


        async def d(rows):
            for row in rows:
                print(cheap_but_calls(row))


        async def e(rows):
            for row in rows:
                print(forever(row))
        """,
    )
    messages = [d.message for d in of_code(check_file(tmp_path, path), CODE)]
    for callee in ("total(row)", "wait_a_bit(row)", "opaque(row)", "cheap_but_calls(row)", "forever(row)"):
        name = callee.split("(")[0]
        assert any(f"calls `{name}()`" in m for m in messages), (name, messages)
    assert len(messages) == 5


def test_costly_helpers_of_the_module_still_count(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        def explode(item):
            return [part * 2 for part in item]


        def spin(item):
            total = 0
            while total < item:
                total += 1
            return total


        def unknown(item):
            return score(item)  # noqa: F821 - defined nowhere: may cost anything


        def recursive(item):
            return recursive(item[1:]) if item else 0


        def indirect(item):
            return explode(item)


        async def first(items):
            for item in items:  # flagged
                explode(item)


        async def second(items):
            for item in items:  # flagged
                spin(item)


        async def third(items):
            for item in items:  # flagged
                unknown(item)


        async def fourth(items):
            for item in items:  # flagged
                recursive(item)


        async def fifth(items):
            for item in items:  # flagged
                indirect(item)
        """,
    )
    marked = {i for i, line in enumerate(path.read_text().splitlines(), start=1) if line.endswith("# flagged")}
    assert len(marked) == 5
    assert flagged_lines(check_file(tmp_path, path), CODE) == marked


def test_methods_of_library_containers_are_cheap(tmp_path: Path) -> None:
    # `deque.popleft()` resolved to collections.deque is as cheap as list.pop().
    path = write_module(
        tmp_path,
        """
        import collections
        from collections import deque


        class Reader:
            def __init__(self):
                self.splits: deque[int] = deque()
                self.done = collections.deque()

            async def drain(self, out):
                while self.splits:
                    out.append(self.splits.popleft())

            async def keep(self, items):
                for item in items:
                    self.done.append(item)
        """,
    )
    assert of_code(check_file(tmp_path, path), CODE) == []


def test_starting_tasks_in_a_task_group_is_cheap(tmp_path: Path) -> None:
    path = write_module(
        tmp_path,
        """
        async def run_all(task_group, jobs):
            for job in jobs:
                task_group.start_soon(job)
        """,
    )
    assert of_code(check_file(tmp_path, path), CODE) == []


def test_calls_in_a_return_run_once_not_every_pass(tmp_path: Path) -> None:
    # `return self.read(n)` ends the loop: its cost is paid once, not per pass.
    path = write_module(
        tmp_path,
        """
        class Reader:
            async def readchunk(self):
                while self.splits:
                    pos = self.splits.pop()
                    if pos > self.cursor:
                        return self.read(pos - self.cursor)
                    self.log.warning("skipping")

            async def first_match(self, items):
                for item in items:
                    if item.ok:
                        return self.transform(item)
        """,
    )
    assert of_code(check_file(tmp_path, path), CODE) == []
    # the same call outside the return still counts
    path = write_module(
        tmp_path,
        """
        class Reader:
            async def readall(self, items):
                for item in items:
                    self.read(item)
        """,
        "other.py",
    )
    assert len(of_code(check_file(tmp_path, path), CODE)) == 1


def test_a_regular_expression_per_item_is_cheap(tmp_path: Path) -> None:
    # like str.split or str.replace: linear in one string, not work of unknown size
    path = write_module(
        tmp_path,
        """
        import re

        HEADER_RE = re.compile(r"[\\x00-\\x1F\\x7F()<>@,;:[]={} \\t\\\\\\"]")


        async def send(headers):
            for name, value in headers:
                if HEADER_RE.search(name):
                    raise RuntimeError("Invalid HTTP header name.")
                if re.match(r"\\s", value):
                    raise RuntimeError("Invalid HTTP header value.")
        """,
    )
    assert of_code(check_file(tmp_path, path), CODE) == []


def test_constructors_of_other_modules_are_judged_by_their_init(tmp_path: Path) -> None:
    # aiohttp's `for h in host: sites.append(TCPSite(runner, h, ...))`: the class's
    # __init__ (and its base's, through super()) only stores what it is given and
    # may warn; a constructor that does real work per item still counts.
    write_module(
        tmp_path,
        """
        import warnings


        class BaseSite:
            def __init__(self, runner, *, timeout=60.0):
                if timeout != 60.0:
                    warnings.warn("timeout is deprecated", DeprecationWarning, stacklevel=2)
                self._runner = runner


        class TCPSite(BaseSite):
            def __init__(self, runner, host=None):
                super().__init__(runner)
                self._host = host


        class Index:
            def __init__(self, rows):
                self.rows = sorted(rows)
                for row in rows:
                    self.rows.append(row)
        """,
        name="sites.py",
    )
    path = write_module(
        tmp_path,
        """
        from sites import Index, TCPSite


        async def start(runner, hosts):
            sites = []
            for host in hosts:
                sites.append(TCPSite(runner, host))
            return sites


        async def build(tables):
            for rows in tables:
                Index(rows)
        """,
    )
    assert [d.span.start.line for d in of_code(check_file(tmp_path, path), CODE)] == [13]

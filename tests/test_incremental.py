"""Editor buffers are analysed incrementally; the results must be those of a fresh analysis.

* reparse.py rescans strings and brackets around the edit only: its blocks are
  parsing.py's chunking of the whole text;
* semantics.py reuses what the model builder found in unchanged blocks: the
  model is the one a whole-module walk builds, down to the order of parents,
  scopes, calls, imports and bindings (orders decide which chain a rule reports);
* project.py, end to end: after random edit sequences the diagnostics of
  ``analyze_open_document`` equal those of a fresh ``Project`` given the same text.
"""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asyncsense.analyzers.parsing import _lines_outside_strings_and_brackets, _top_level_chunks
from asyncsense.analyzers.project import Project
from asyncsense.analyzers.reparse import BufferParse, BufferParser
from asyncsense.analyzers.semantics import ModuleModel

SOURCE = '''\
"""A module with a bit of everything the model builder records."""

import asyncio
import json as js, os.path
import subprocess
import time
from concurrent import futures
from . import sibling
from .storage import Store as Storage

LIMIT = 3; RETRIES = (lambda: time.sleep(2))
handler_table = {}
(first := os.path.join("a", "b"))
callback = lambda request: time.sleep(1)
PATTERN = """text
def not_a_function():
    pass
"""


def load(path: str) -> dict:
    with open(path) as f:
        return js.load(f)


class Service(Storage):
    timeout: float = 2.0
    lock = asyncio.Lock()

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.session = Storage()
        self.items: dict[str, int] = {}

    @property
    def size(self) -> int:
        time.sleep(0.1)
        return len(self.items)

    async def fetch(self, key):
        async with self.lock:
            value = self.size
            data = load(key)
            self.loop.call_soon(self.refresh)
            return [x for x in data if (y := x)]

    def refresh(self):
        subprocess.run(["true"])


def decorate(fn):
    return fn


@decorate
async def handler(request: dict) -> dict:
    global LIMIT
    payload = js.dumps(request)
    service = Service(asyncio.get_running_loop())
    await service.fetch(payload)
    asyncio.create_task(service.fetch(payload))
    for item in range(LIMIT):
        time.sleep(item)
    while False:
        yield_ = None
    def inner():
        nonlocal payload
        return load(payload)
    return inner()


async def gather_all(*handlers):
    await asyncio.gather(*(h({}) for h in handlers))
    asyncio.run(handler({}))


def main():
    asyncio.run(handler({}))


if __name__ == "__main__":
    main()
'''

EXTRA_LINES = [
    "",
    "    time.sleep(1)",
    "    await asyncio.sleep(1)",
    "    asyncio.create_task(handler({}))",
    "    yield 1",
    "    global LIMIT",
    "x = 1",
    "a = 1; b = (lambda: time.sleep(2)); asyncio.run(handler({}))",
    "import threading",
    "import asyncio as time",
    "from subprocess import run as load",
    "js = None",
    "def load(path): return path",
    "class Storage: pass",
    "from .other import thing",
    "def added():",
    "async def g(",
    "    ):",
    "class Added(Service):",
    "    def method(self): self.loop.run_until_complete(handler({}))",
    "@decorate",
    "else:",
    '"""',
    '    """doc',
    "text in column 0",
    "(",
    ")",
    "handler_table['x'] = lambda: load('p')",
    "    return [z for z in range(3) if (w := z)]",
]
LINES = SOURCE.split("\n")

line_edits = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(LINES) + 10),
        st.sampled_from(["replace", "insert", "delete", "insert-text"]),
        st.sampled_from(EXTRA_LINES + LINES),
        st.integers(min_value=0, max_value=40),
    ),
    min_size=1,
    max_size=10,
)


def _apply(lines: list[str], row: int, action: str, text: str, column: int) -> None:
    row = min(row, len(lines) - 1)
    if action == "replace":
        lines[row] = text
    elif action == "insert":
        lines.insert(row, text)
    elif action == "insert-text":  # characters typed into a line (quotes and brackets too)
        line = lines[row]
        column = min(column, len(line))
        lines[row] = line[:column] + text[: 1 + column % 4] + line[column:]
    elif len(lines) > 1:
        del lines[row]


def _model_facts(model: ModuleModel) -> dict:
    """The model's structure, nodes by identity (both models share the parser's trees)."""

    def binding(value: object) -> object:
        if isinstance(value, ast.AST):
            return ("node", id(value))
        if isinstance(value, tuple):  # ("self.x" bindings) (binding, method scope)
            inner, scope = value
            return (binding(inner), id(scope.node))
        return value

    def scope_facts(scope) -> tuple:
        return (
            id(scope.node),
            scope.qualname,
            scope.kind,
            scope.is_async,
            scope.is_generator,
            scope.class_qualname,
            id(scope.parent.node) if scope.parent is not None else None,
            scope.parent.kind if scope.parent is not None else None,
            [(name, [binding(b) for b in items]) for name, items in scope.bindings.items()],
            [(name, [id(n) for n in nodes]) for name, nodes in scope.loads.items()],
            scope.decl,
        )

    return {
        "parents": [(id(child), id(parent)) for child, parent in model.parents.items()],
        "scopes": [scope_facts(scope) for scope in model.scopes],
        "scope_of": [(id(node), scope.qualname) for node, scope in model.scope_of.items()],
        "module scope": model.scopes[0] is model.module_scope,
        "calls": [(id(c.node), id(c.scope.node), c.scope.kind, c.in_coroutine, c.awaited) for c in model.calls],
        "imports": list(model.imports),
        "loops": [id(loop) for loop in model.loops],
        "decl": model.decl,
        "skipped": sorted(model.parsed.skipped_lines),
        # remembered per block from one version to the next (semantics.py)
        "enclosing": [(id(node), id(model.enclosing_scope(node).node)) for node in model.parents],
    }


@settings(max_examples=200, deadline=None)
@given(line_edits)
def test_blocks_and_models_are_those_of_the_whole_text(steps):
    parser = BufferParser()
    cache: dict = {}
    lines = list(LINES)
    for step in [None, *steps]:
        if step is not None:
            _apply(lines, *step)
        text = "\n".join(lines)
        parsed = parser.parse(text, "/project/pkg/mod.py")
        if not isinstance(parsed, BufferParse):
            cache.clear()
            continue  # broken text: parse_module's recovery (test_parsing.py)
        index_lines = parsed.index.lines
        assert _top_level_chunks(index_lines, parser._outside) == _top_level_chunks(index_lines)
        assert parser._outside == _lines_outside_strings_and_brackets(index_lines)
        model = ModuleModel(parsed, "/project/pkg/mod.py", "pkg.mod", False, _catalog(), "", parsed.blocks, cache)
        fresh = ModuleModel(parsed, "/project/pkg/mod.py", "pkg.mod", False, _catalog())
        assert _model_facts(model) == _model_facts(fresh)


def test_unchanged_blocks_are_not_walked_again():
    parser = BufferParser()
    cache: dict = {}
    first = parser.parse(SOURCE)
    ModuleModel(first, "/p/m.py", "m", False, _catalog(), "", first.blocks, cache)
    before = dict(cache)
    second = parser.parse(SOURCE.replace("time.sleep(item)", "time.sleep(item + 1)"))
    model = ModuleModel(second, "/p/m.py", "m", False, _catalog(), "", second.blocks, cache)
    handler = next(s for s in model.scopes if s.qualname == "m.handler")
    service = next(s for s in model.scopes if s.qualname == "m.Service")
    assert service.parent is model.module_scope
    assert any(record.scopes and record.scopes[0] is service for record in before.values())  # reused
    assert not any(handler in record.scopes for record in before.values())  # walked again


def test_a_lexical_rescan_stays_near_the_edit():
    lines = LINES + [f"def f{n}():\n    return {n}" for n in range(200)]
    text = "\n".join(lines)
    parser = BufferParser()
    parser.parse(text)
    calls = []
    import asyncsense.analyzers.reparse as reparse

    original = reparse._scan
    reparse._scan = lambda rows, *rest: calls.append(len(rows)) or original(rows, *rest)
    try:
        parser.parse(text.replace("    return 7\n", "    return (7\n    )\n"))
    finally:
        reparse._scan = original
    assert calls and max(calls) < 10


_CATALOG = None


def _catalog():
    global _CATALOG
    if _CATALOG is None:
        from asyncsense.analyzers.catalog import default_catalog

        _CATALOG = default_catalog()
    return _CATALOG


# -- end to end ----------------------------------------------------------------

STORAGE = '''\
import time


class Store:
    def save(self, item):
        time.sleep(0.1)

    async def load(self):
        return {}


def slow_helper():
    time.sleep(1)
'''


def _diagnostics(result) -> tuple:
    return result.diagnostics, result.partial, result.skipped_lines


@pytest.fixture
def package(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "storage.py").write_text(STORAGE)
    (root / "pkg" / "sibling.py").write_text("def ping():\n    return 1\n")
    (root / "pkg" / "mod.py").write_text(SOURCE)
    return root


@pytest.mark.parametrize("seed", range(6))
def test_edit_sequences_match_a_fresh_analysis(package: Path, seed: int):
    rng = random.Random(seed)
    path = package / "pkg" / "mod.py"
    project = Project(package, use_jedi=seed % 2 == 0, library_cache_dir=False)
    lines = list(LINES)
    for step in range(25):
        if step:
            _apply(
                lines,
                rng.randrange(len(lines) + 5),
                rng.choice(["replace", "insert", "delete", "insert-text", "replace"]),
                rng.choice(EXTRA_LINES + LINES),
                rng.randrange(40),
            )
        text = "\n".join(lines)
        got = project.analyze_open_document(path, text)
        fresh = Project(package, use_jedi=seed % 2 == 0, library_cache_dir=False)
        expected = fresh.analyze_open_document(path, text)
        assert _diagnostics(got) == _diagnostics(expected), f"seed {seed}, step {step}:\n{text}"


def test_code_nested_too_deeply_stays_cut_out_after_edits(package: Path):
    """The model cuts such statements out of the parser's trees in place: the next
    versions of the buffer must not reuse those trees as if nothing was cut."""
    path = package / "pkg" / "mod.py"
    deep = "def deep():\n    return " + "lambda: " * 160 + "time.sleep(1)\n"
    project = Project(package, use_jedi=False, library_cache_dir=False)
    for n in range(3):
        text = SOURCE + "\n\n" + deep + f"\n\nasync def edited():\n    time.sleep({n})\n"
        got = project.analyze_open_document(path, text)
        expected = Project(package, use_jedi=False, library_cache_dir=False).analyze_open_document(path, text)
        assert got.partial and _diagnostics(got) == _diagnostics(expected)


@pytest.mark.parametrize(
    "edit",
    [
        ("import time", "import asyncio as time"),  # the binding a function's calls resolve through
        ("import time", "import time\ntime = asyncio"),  # a second binding of the name
        ("def load(path: str) -> dict:", "async def load(path: str) -> dict:"),  # a declaration
        ("from . import sibling", "from . import sibling\nfrom os import *"),  # a star import
    ],
)
def test_answers_carried_over_follow_what_they_depend_on(package: Path, edit):
    """Resolutions carried from a buffer's last version (unchanged blocks) must not
    survive a change of the bindings, declarations or imports they used."""
    path = package / "pkg" / "mod.py"
    project = Project(package, use_jedi=False, library_cache_dir=False)
    project.analyze_open_document(path, SOURCE)
    edited = SOURCE.replace(*edit)
    got = project.analyze_open_document(path, edited)
    expected = Project(package, use_jedi=False, library_cache_dir=False).analyze_open_document(path, edited)
    assert _diagnostics(got) == _diagnostics(expected)


# -- findings by block (block_findings.py) ------------------------------------------

BLOCKS = '''\
import asyncio
import time

from .storage import Store, slow_helper


def helper():
    return 1


def per_item(x):
    return x + 1


async def calls_helper():
    helper()


async def calls_other_module():
    Store().save(1)


async def loops():
    for item in range(10_000_000):
        per_item(item)


async def edited():
    await asyncio.sleep(0)
'''


def _checked(project: Project, path: Path) -> tuple[int, int]:
    found = project._block_findings[str(path.resolve())]
    return found.checked_blocks, found.reused_blocks


def _same_as_fresh(package: Path, path: Path, text: str, got) -> None:
    expected = Project(package, use_jedi=False, library_cache_dir=False).analyze_open_document(path, text)
    assert _diagnostics(got) == _diagnostics(expected)


def test_an_edit_inside_one_function_checks_that_block_only(package: Path):
    path = package / "pkg" / "mod.py"
    project = Project(package, use_jedi=False, library_cache_dir=False)
    project.analyze_open_document(path, BLOCKS)
    assert _checked(project, path) == (6, 0)
    text = BLOCKS.replace("    await asyncio.sleep(0)", "    time.sleep(0)")
    got = project.analyze_open_document(path, text)
    assert _checked(project, path) == (1, 5)
    assert [d.span.start.line for d in got.diagnostics if d.rule == "blocking-call"][-1] == text.count("\n")
    _same_as_fresh(package, path, text, got)


@pytest.mark.parametrize(
    "edit, rule, line",
    [
        # a helper of this module starts blocking: its async caller (another block) lights up
        (("def helper():\n    return 1", "def helper():\n    time.sleep(1)"), "blocking-call", 16),
        # a per-item helper starts looping itself: the loop calling it is no longer cheap per item
        (("    return x + 1", "    while x: x -= 1"), "loop-starvation", 24),
    ],
)
def test_findings_of_unchanged_blocks_follow_the_functions_they_use(package: Path, edit, rule, line):
    path = package / "pkg" / "mod.py"
    project = Project(package, use_jedi=False, library_cache_dir=False)
    before = project.analyze_open_document(path, BLOCKS)
    assert (rule, line) not in {(d.rule, d.span.start.line) for d in before.diagnostics}
    text = BLOCKS.replace(*edit)
    got = project.analyze_open_document(path, text)
    assert _checked(project, path) == (2, 4)  # the edited helper, and its user: its findings were not kept
    assert (rule, line) in {(d.rule, d.span.start.line) for d in got.diagnostics}
    _same_as_fresh(package, path, text, got)
    # and back: the finding goes away again
    got = project.analyze_open_document(path, BLOCKS)
    assert (rule, line) not in {(d.rule, d.span.start.line) for d in got.diagnostics}


def test_findings_of_unchanged_blocks_follow_other_modules(package: Path):
    """A helper module edited in another buffer: the caller's unchanged block lights up."""
    path = package / "pkg" / "mod.py"
    storage = package / "pkg" / "storage.py"
    project = Project(package, use_jedi=False, library_cache_dir=False)
    project.analyze_open_document(storage, STORAGE.replace("        time.sleep(0.1)", "        pass"))
    before = project.analyze_open_document(path, BLOCKS)
    assert not [d for d in before.diagnostics if d.span.start.line == 20]
    project.analyze_open_document(storage, STORAGE)
    got = project.analyze_open_document(path, BLOCKS)
    assert [d.rule for d in got.diagnostics if d.span.start.line == 20] == ["blocking-call"]
    _same_as_fresh(package, path, BLOCKS, got)


def test_summaries_of_unchanged_functions_are_kept_and_of_changed_ones_redone(package: Path):
    """summarise() takes over the facts of functions whose definition did not change: a helper
    nobody calls yet is edited to block, then called - the caller must see the new helper."""
    path = package / "pkg" / "mod.py"
    project = Project(package, use_jedi=False, library_cache_dir=False)
    first = BLOCKS + "\n\ndef lonely():\n    return 1\n"
    project.analyze_open_document(path, first)
    second = first.replace("    return 1\n", "    time.sleep(1)\n")
    project.analyze_open_document(path, second)
    third = second.replace("    await asyncio.sleep(0)", "    lonely()")
    got = project.analyze_open_document(path, third)
    assert ("blocking-call", 29) in {(d.rule, d.span.start.line) for d in got.diagnostics}
    _same_as_fresh(package, path, third, got)

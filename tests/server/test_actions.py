"""Code actions: quick fixes, "Ignore <rule> on this line", source.fixAll.asyncsense, applied and checked."""

from __future__ import annotations

import pytest
from lsprotocol import types

from asyncsense.analyzers.fixes import apply_fixes
from asyncsense.analyzers.project import Project

from .conftest import Client, write

pytestmark = pytest.mark.asyncio(loop_scope="module")

TWO_PROBLEMS = """
import asyncio
import time


async def first():
    time.sleep(1)


async def second():
    label = 'é😀'; time.sleep(2)
"""


def blocking(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.code == "blocking-call"]


async def test_quick_fix_is_preferred_and_fixes_the_code(client: Client):
    path = write(client.root, {"quick.py": TWO_PROBLEMS})["quick.py"]
    uri = client.open(path)
    found = blocking(await client.diagnostics(uri, lambda d: len(blocking(d)) == 2))
    target = next(d for d in found if d.range.start.line == 9)  # after the non-ASCII text
    actions = await client.code_actions(uri, target)
    quick = [a for a in actions if a.kind == types.CodeActionKind.QuickFix]
    preferred = [a for a in quick if a.is_preferred]
    assert len(preferred) == 1, [a.title for a in quick]
    fix = await client.resolved(preferred[0])
    assert fix.diagnostics and fix.diagnostics[0].code == "blocking-call"
    new_text = client.apply(fix.edit)[uri]
    assert "label = 'é😀'; await asyncio.sleep(2)" in new_text
    assert "    time.sleep(1)" in new_text  # the other problem is left alone
    # the edited buffer goes back to the server: one problem is left
    client.edit(uri, [types.TextEdit(_whole(client.texts[uri]), new_text)])
    assert len(blocking(await client.diagnostics(uri, lambda d: len(blocking(d)) == 1))) == 1


async def test_ignore_on_this_line_is_honoured(client: Client):
    path = write(client.root, {"ignore.py": TWO_PROBLEMS})["ignore.py"]
    uri = client.open(path)
    found = blocking(await client.diagnostics(uri, lambda d: len(blocking(d)) == 2))
    target = next(d for d in found if d.range.start.line == 5)
    actions = await client.code_actions(uri, target)
    ignore = [a for a in actions if a.title == "Ignore blocking-call on this line"]
    assert len(ignore) == 1
    assert not ignore[0].is_preferred
    new_text = client.apply(ignore[0].edit)[uri]
    assert "    time.sleep(1)  # asyncsense: ignore[blocking-call]" in new_text
    client.edit(uri, [types.TextEdit(_whole(client.texts[uri]), new_text)])
    left = blocking(await client.diagnostics(uri, lambda d: len(blocking(d)) == 1))
    assert [d.range.start.line for d in left] == [9]


async def test_fix_all_applies_every_safe_fix(client: Client):
    path = write(client.root, {"fixall.py": TWO_PROBLEMS})["fixall.py"]
    uri = client.open(path)
    await client.diagnostics(uri, lambda d: len(blocking(d)) == 2)
    actions = await client.code_actions(uri, only=["source.fixAll.asyncsense"], whole=True)
    assert [a.kind for a in actions] == ["source.fixAll.asyncsense"]
    action = await client.resolved(actions[0])
    assert action.edit is not None
    new_text = client.apply(action.edit)[uri]
    # the same result as the engine's own apply_fixes on the same file
    project = Project(client.root)
    result = project.check([path])[0]
    expected = apply_fixes(client.texts[uri], [d.fix for d in result.diagnostics if d.fix and d.fix.is_safe]).text
    assert new_text == expected
    assert "time.sleep" not in new_text
    client.edit(uri, [types.TextEdit(_whole(client.texts[uri]), new_text)])
    assert not blocking(await client.diagnostics(uri, lambda d: not blocking(d)))


async def test_source_actions_only_when_asked(client: Client):
    path = write(client.root, {"kinds.py": TWO_PROBLEMS})["kinds.py"]
    uri = client.open(path)
    found = blocking(await client.diagnostics(uri, lambda d: len(blocking(d)) == 2))
    only_quick = await client.code_actions(uri, found[0], only=[types.CodeActionKind.QuickFix])
    assert only_quick and all(a.kind == types.CodeActionKind.QuickFix for a in only_quick)
    source = await client.code_actions(uri, found[0], only=[types.CodeActionKind.Source])
    assert [a.kind for a in source] == ["source.fixAll.asyncsense"]


def _whole(text: str) -> types.Range:
    lines = text.split("\n")
    # a range past the end is clamped by the server: it covers the whole document
    return types.Range(types.Position(0, 0), types.Position(len(lines), 0))

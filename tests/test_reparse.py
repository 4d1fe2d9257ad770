"""Re-parsing editor buffers block by block gives the tree a whole-file parse gives."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from asyncsense.analyzers.reparse import BufferParser

SOURCE = (Path(__file__).parent.parent / "docs" / "example" / "shop" / "handlers.py").read_text()
LINES = SOURCE.split("\n")
EXTRA_LINES = [
    "    time.sleep(1)",
    "    await asyncio.sleep(1)",
    "",
    "x = 1",
    "def added():",
    '    """doc',
    'text in column 0 inside a string',
    '"""',
    "    pass",
    "async def g(",
    "@decorator",
    "else:",
]


def _dump(tree: ast.AST) -> str:
    return ast.dump(tree, include_attributes=True)


edits = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(LINES) - 1),
        st.sampled_from(["replace", "insert", "delete"]),
        st.sampled_from(EXTRA_LINES + LINES),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=150, deadline=None)
@given(edits)
def test_every_version_parses_like_the_whole_file(steps):
    parser = BufferParser()
    lines = list(LINES)
    parser.parse("\n".join(lines))
    for row, action, text in steps:
        row = min(row, len(lines) - 1)
        if action == "replace":
            lines[row] = text
        elif action == "insert":
            lines.insert(row, text)
        elif len(lines) > 1:
            del lines[row]
        version = "\n".join(lines)
        parsed = parser.parse(version)
        try:
            expected = ast.parse(version)
        except SyntaxError:
            continue  # broken text goes to parse_module's recovery: tested in test_parsing.py
        assert _dump(parsed.tree) == _dump(expected)
        assert not parsed.skipped_lines


def test_an_unchanged_block_is_not_parsed_again():
    parser = BufferParser()
    first = parser.parse(SOURCE)
    edited = SOURCE.replace("time.sleep(0.5)", "time.sleep(0.6)")
    second = parser.parse(edited)
    by_name = lambda tree: {n.name: n for n in tree.body if isinstance(n, ast.AsyncFunctionDef)}  # noqa: E731
    before, after = by_name(first.tree), by_name(second.tree)
    assert after["order_handler"] is before["order_handler"]  # reused as is
    assert after["profile_handler"] is not before["profile_handler"]  # the edited block
    assert _dump(second.tree) == _dump(ast.parse(edited))

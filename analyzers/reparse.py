"""Re-parsing an editor buffer after an edit: only the top-level blocks that changed.

An edit inside one function leaves every other top-level statement's text -
and line numbers - as they were.  ``BufferParser`` parses each top-level block
on its own and keeps the trees of the previous version by (text, first line),
so a keystroke costs the parse of one block instead of the whole module.

Finding the blocks needs to know which lines begin outside strings and
brackets: that lexical scan is redone only from the last clean line above the
edit to the first clean line below it that was clean before too (the state of
the scan there is "nothing open" both times, so the rest is as it was).

The result is the tree a whole-file parse gives: blocks are split where a
statement starts in column 0 outside strings and brackets (parsing.py's
chunking).  When any block fails to parse, the buffer goes to
``parse_module``, whose recovery handles broken code.  The statements of each
block are handed on (``BufferParse.blocks``) so that the model builder can
reuse what it found in the blocks that did not change (semantics.py).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .parsing import (
    LineIndex,
    ParsedModule,
    _lines_outside_strings_and_brackets,
    _scan,
    _top_level_chunks,
    parse_module,
    parse_quietly,
)

_PARSER_FAILURES = (SyntaxError, ValueError, RecursionError, MemoryError)
# Below the edit, how many lines that were clean before the scan may pass
# without coming back to "nothing open" before it rescans the whole buffer.
_MAX_RESUME_TRIES = 8


@dataclass
class BufferParse(ParsedModule):
    # The statements of each top-level block, in order (their concatenation is tree.body).
    blocks: list[list[ast.stmt]] = field(default_factory=list)


class BufferParser:
    """Parses successive versions of one buffer, reusing unchanged blocks."""

    def __init__(self) -> None:
        self._blocks: dict[tuple[str, int], list[ast.stmt]] = {}
        # The last version's lines and which of them begin outside strings and
        # brackets, when its scan found no string left open at the end.
        self._lines: list[str] | None = None
        self._outside: list[bool] | None = None

    def reset(self) -> None:
        """Forget the previous version (its trees were changed in place, say)."""
        self._blocks = {}
        self._lines = self._outside = None

    def parse(self, text: str, filename: str = "<buffer>") -> ParsedModule:
        index = LineIndex(text)
        lines = index.lines
        body: list[ast.stmt] = []
        blocks: dict[tuple[str, int], list[ast.stmt]] = {}
        ordered: list[list[ast.stmt]] = []
        for start, end in _top_level_chunks(lines, self._lines_outside(lines)):
            key = ("\n".join(lines[start:end]), start)
            statements = self._blocks.get(key)
            if statements is None:
                try:
                    tree = parse_quietly(key[0])  # the user's code must not warn (parsing.py)
                except _PARSER_FAILURES:
                    self.reset()
                    return parse_module(text, filename)
                if start:
                    ast.increment_lineno(tree, start)
                statements = tree.body
            blocks[key] = statements
            ordered.append(statements)
            body.extend(statements)
        self._blocks = blocks
        return BufferParse(ast.Module(body=body, type_ignores=[]), text, index, blocks=ordered)

    # -- the lexical scan, redone around the edit only --------------------------
    def _lines_outside(self, lines: list[str]) -> list[bool]:
        outside = self._rescan_edit(lines)
        if outside is None:
            states = _scan(lines)
            if states.open_string is None:
                outside = states.outside
            else:  # a string being typed: parsing.py's rescans decide
                self._lines = self._outside = None
                return _lines_outside_strings_and_brackets(lines)
        self._lines, self._outside = lines, outside
        return outside

    def _rescan_edit(self, lines: list[str]) -> list[bool] | None:
        old_lines, old_outside = self._lines, self._outside
        if old_lines is None or old_outside is None:
            return None
        old_count, new_count = len(old_lines), len(lines)
        shortest = min(old_count, new_count)
        prefix = 0
        while prefix < shortest and lines[prefix] == old_lines[prefix]:
            prefix += 1
        if prefix == old_count == new_count:
            return old_outside
        suffix = 0
        while suffix < shortest - prefix and lines[new_count - 1 - suffix] == old_lines[old_count - 1 - suffix]:
            suffix += 1
        shift = new_count - old_count
        # Resume at the last line above the edit that began with nothing open.
        start = prefix if prefix < old_count else old_count - 1
        while start > 0 and not old_outside[start]:
            start -= 1
        # Stop at a line below the edit that begins with nothing open, now and before.
        candidates = [row for row in range(new_count - suffix, new_count) if old_outside[row - shift]]
        for stop in candidates[:_MAX_RESUME_TRIES]:
            if stop <= start:
                continue
            scanned = _scan(lines[start : stop + 1]).outside
            if scanned[-1]:
                return old_outside[:start] + scanned[:-1] + old_outside[stop - shift :]
        return None



"""Re-parsing an editor buffer after an edit: only the top-level blocks that changed.

An edit inside one function leaves every other top-level statement's text -
and line numbers - as they were.  ``BufferParser`` parses each top-level block
on its own and keeps the trees of the previous version by (text, first line),
so a keystroke costs the parse of one block instead of the whole module.

The result is the tree a whole-file parse gives: blocks are split where a
statement starts in column 0 outside strings and brackets (parsing.py's
chunking).  When any block fails to parse, the buffer goes to
``parse_module``, whose recovery handles broken code.
"""

from __future__ import annotations

import ast

from .parsing import LineIndex, ParsedModule, _top_level_chunks, parse_module

_PARSER_FAILURES = (SyntaxError, ValueError, RecursionError, MemoryError)


class BufferParser:
    """Parses successive versions of one buffer, reusing unchanged blocks."""

    def __init__(self) -> None:
        self._blocks: dict[tuple[str, int], list[ast.stmt]] = {}

    def parse(self, text: str, filename: str = "<buffer>") -> ParsedModule:
        index = LineIndex(text)
        lines = index.lines
        body: list[ast.stmt] = []
        blocks: dict[tuple[str, int], list[ast.stmt]] = {}
        for start, end in _top_level_chunks(lines):
            key = ("\n".join(lines[start:end]), start)
            statements = self._blocks.get(key)
            if statements is None:
                try:
                    tree = ast.parse(key[0], filename=filename)
                except _PARSER_FAILURES:
                    self._blocks = {}
                    return parse_module(text, filename)
                if start:
                    ast.increment_lineno(tree, start)
                statements = tree.body
            blocks[key] = statements
            body.extend(statements)
        self._blocks = blocks
        return ParsedModule(ast.Module(body=body, type_ignores=[]), text, index)

"""Columns between the engine and the client.

The engine counts columns in characters (code points).  An LSP client counts
UTF-16 code units (the protocol's default, VS Code, Neovim before 0.10) or
bytes of UTF-8 (modern Neovim), as negotiated at ``initialize``.  Every
column that crosses the wire is converted here, using the text of its line:
``'é😀'`` is 2 characters, 3 UTF-16 units and 6 UTF-8 bytes.

A ``SourceMap`` ties the text the engine analysed to the client documents it
came from: one text document, or the code cells of a notebook, each cell a
document of its own whose lines are a run of the analysed text's lines.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Sequence

from lsprotocol import types

from ..analyzers.diagnostics import Edit, Position, Span

UTF8 = "utf-8"
UTF16 = "utf-16"
UTF32 = "utf-32"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Lines without their breaks, split where Python and LSP clients split them."""
    return _LINE_BREAK.split(text)


def _width(char: str, encoding: str) -> int:
    code = ord(char)
    if encoding == UTF8:
        return 1 if code < 0x80 else 2 if code < 0x800 else 3 if code < 0x10000 else 4
    if encoding == UTF16:
        return 2 if code >= 0x10000 else 1
    return 1


def to_client_column(line: str, column: int, encoding: str) -> int:
    """A character column of ``line`` -> the client's units (clamped to the line)."""
    column = max(0, min(column, len(line)))
    if encoding == UTF32 or line.isascii():
        return column
    prefix = line[:column]
    if encoding == UTF8:
        return len(prefix.encode("utf-8", "surrogatepass"))
    return len(prefix.encode("utf-16-le", "surrogatepass")) // 2


def from_client_column(line: str, units: int, encoding: str) -> int:
    """A column in the client's units -> characters of ``line`` (clamped; a position
    inside a multi-unit character moves to the character's end)."""
    units = max(units, 0)
    if encoding == UTF32 or line.isascii():
        return min(units, len(line))
    count = 0
    for index, char in enumerate(line):
        if count >= units:
            return index
        count += _width(char, encoding)
    return len(line)


@dataclass(frozen=True)
class Segment:
    """A client document holding lines ``first_line .. first_line + line_count - 1``
    (1-based) of the analysed text: the whole text, or one notebook cell."""

    uri: str
    first_line: int
    line_count: int
    version: int | None = None

    @property
    def last_line(self) -> int:
        return self.first_line + self.line_count - 1


class SourceMap:
    """The analysed text and the client documents its lines belong to."""

    def __init__(self, text: str, segments: Sequence[Segment], encoding: str) -> None:
        self.text = text
        self.lines = split_lines(text)
        self.segments = sorted(segments, key=lambda s: s.first_line)
        self.encoding = encoding
        self._starts = [s.first_line for s in self.segments]
        self._by_uri = {s.uri: s for s in self.segments}

    @classmethod
    def single(cls, uri: str, text: str, encoding: str, version: int | None = None) -> SourceMap:
        return cls(text, [Segment(uri, 1, len(split_lines(text)), version)], encoding)

    @property
    def uris(self) -> list[str]:
        return [s.uri for s in self.segments]

    def segment(self, uri: str) -> Segment | None:
        return self._by_uri.get(uri)

    def segment_at(self, line: int) -> Segment:
        index = bisect.bisect_right(self._starts, line) - 1
        return self.segments[max(index, 0)]

    def line_text(self, line: int) -> str:
        return self.lines[line - 1] if 1 <= line <= len(self.lines) else ""

    # -- engine -> client ------------------------------------------------------
    def _client_position(self, segment: Segment, position: Position) -> types.Position:
        line = min(max(position.line, segment.first_line), segment.last_line)
        column = position.column if line == position.line else (0 if line > position.line else 10**9)
        text = self.line_text(line)
        return types.Position(line - segment.first_line, to_client_column(text, column, self.encoding))

    def to_client(self, span: Span) -> tuple[str, types.Range]:
        """(uri, range) of a span; a span running past its segment is cut at its end."""
        segment = self.segment_at(span.start.line)
        return segment.uri, types.Range(
            self._client_position(segment, span.start), self._client_position(segment, span.end)
        )

    def edit_to_client(self, edit: Edit) -> tuple[str, types.TextEdit] | None:
        """An engine edit as a client edit, or None when it crosses documents (cells)."""
        start = self.segment_at(edit.span.start.line)
        end_line = edit.span.end.line
        if end_line > len(self.lines):  # an insertion after the last line
            end_line = len(self.lines)
        if not start.first_line <= end_line <= start.last_line:
            return None
        uri, client_range = self.to_client(edit.span)
        return uri, types.TextEdit(client_range, edit.new_text)

    # -- client -> engine ------------------------------------------------------
    def to_engine(self, uri: str, position: types.Position) -> Position:
        segment = self._by_uri.get(uri) or self.segments[0]
        line = min(segment.first_line + max(position.line, 0), max(segment.last_line, segment.first_line))
        return Position(line, from_client_column(self.line_text(line), position.character, self.encoding))

    def range_to_engine(self, uri: str, client_range: types.Range) -> Span:
        return Span(self.to_engine(uri, client_range.start), self.to_engine(uri, client_range.end))


def column_in(text_lines: Sequence[str], position: Position, encoding: str) -> types.Position:
    """A position of another file (relatedInformation), converted with that file's lines."""
    line = max(position.line, 1)
    text = text_lines[line - 1] if line <= len(text_lines) else ""
    return types.Position(line - 1, to_client_column(text, position.column, encoding))

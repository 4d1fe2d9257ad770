"""A fix for pygls's incremental text sync, installed when the server starts.

LSP: a position whose character is past the end of its line means the end of
that line.  pygls clamps such a position to the line *with* its line break, so
an edit there swallows the break (or lands after it) and the server's text
drifts from the client's.  We clamp to the line's length without the break
before pygls applies the change.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.workspace.text_document import TextDocument

_INSTALLED = False


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    original = TextDocument._apply_incremental_change

    def apply_incremental_change(self: TextDocument, change: types.TextDocumentContentChangePartial) -> None:
        lines = self.lines
        codec = self._position_codec

        def clamp(position: types.Position) -> types.Position:
            if position.line >= len(lines):
                return position
            line = lines[position.line].rstrip("\r\n")
            end = codec.client_num_units(line)
            return types.Position(position.line, end) if position.character > end else position

        clamped = types.Range(clamp(change.range.start), clamp(change.range.end))
        if clamped != change.range:
            change = types.TextDocumentContentChangePartial(range=clamped, text=change.text)
        original(self, change)

    TextDocument._apply_incremental_change = apply_incremental_change  # type: ignore[method-assign]
    _INSTALLED = True

"""Reading and writing source files the way the engine reads them.

Text is decoded as Python does (BOM, PEP 263 coding cookie, default UTF-8) and
split into lines at ``\\r\\n``, ``\\r`` and ``\\n``; positions are 1-based lines
and 0-based character columns into those lines (see analyzers/diagnostics.py).
Writing back keeps the BOM, the encoding and every line ending that no edit
touched.
"""

from __future__ import annotations

import codecs
import dataclasses
import io
import re
import tokenize
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .analyzers import notebooks
from .analyzers.diagnostics import Fix
from .analyzers.fixes import apply_fixes
from .analyzers.output import CellMap

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class SourceFile:
    path: Path
    text: str
    encoding: str = "utf-8"
    bom: bool = False

    @property
    def lines(self) -> list[str]:
        return _LINE_BREAK.split(self.text)

    def write(self, text: str) -> None:
        data = text.encode(self.encoding)
        if self.bom:
            data = codecs.BOM_UTF8 + data
        self.path.write_bytes(data)


def read_source(path: Path) -> SourceFile:
    """Read and decode `path`; undecodable bytes become U+FFFD (the engine reports them)."""
    data = path.read_bytes()
    bom = data.startswith(codecs.BOM_UTF8)
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:
        encoding = "utf-8"
    if encoding == "utf-8-sig":
        encoding = "utf-8"
    if bom:
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode(encoding, errors="replace")
    except LookupError:
        encoding = "utf-8"
        text = data.decode(encoding, errors="replace")
    return SourceFile(path, text, encoding, bom)


def read_notebook(path: Path) -> tuple[str, CellMap]:
    """The code cells of a Jupyter notebook as one Python text, and where each cell starts.

    The engine's notebook reader (analyzers/notebooks.py) joins the cells and
    neutralises IPython magics line for line.  Raises OSError, or ValueError
    for a file that is no notebook.
    """
    source = notebooks.read_notebook(path.read_bytes())
    return source.text, CellMap([(cell.first_line, cell.number) for cell in source.cells])


# ---------------------------------------------------------------------------
# Applying fixes


def _line_ending(text: str) -> str:
    match = _LINE_BREAK.search(text)
    return match.group() if match else "\n"


def _with_line_ending(fixes: list[Fix], ending: str) -> list[Fix]:
    """Fixes whose inserted line breaks are the file's own (`\r\n` files stay `\r\n`)."""
    if ending == "\n":
        return fixes
    return [
        dataclasses.replace(
            fix, edits=tuple(dataclasses.replace(e, new_text=_LINE_BREAK.sub(ending, e.new_text)) for e in fix.edits)
        )
        for fix in fixes
    ]


def apply_fixes_to_text(text: str, fixes: Sequence[Fix]) -> tuple[str, int]:
    """Apply `fixes` (in order, skipping any that overlaps one taken): (new text, fixes applied).

    Line breaks the fixes insert become the file's own (`\r\n` files stay `\r\n`).
    """
    result = apply_fixes(text, _with_line_ending(list(fixes), _line_ending(text)))
    return result.text, result.applied


__all__ = ["SourceFile", "apply_fixes_to_text", "read_notebook", "read_source"]

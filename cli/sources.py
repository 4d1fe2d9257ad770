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
import json
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .analyzers.diagnostics import Fix, Position
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


_KEEP_CELL_MAGICS = ("%%time", "%%timeit", "%%capture", "%%prun")
_LINE_MAGIC = re.compile(r"^(\s*)(%|!|\w+\s*=\s*[%!])")


def read_notebook(path: Path) -> tuple[str, CellMap]:
    """The code cells of a Jupyter notebook as one Python text, and where each cell starts.

    IPython magics and shell escapes become `pass` (cell magics other than
    timing ones blank their cell) so that every line keeps its number.
    Raises OSError, or ValueError for a file that is no notebook.
    """
    try:
        notebook = json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a valid notebook (JSON): {exc}") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError("not a valid notebook: no 'cells' list")
    lines: list[str] = []
    starts: list[tuple[int, int]] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        cell_lines = _LINE_BREAK.split(str(source))
        if cell_lines and cell_lines[0].startswith("%%"):
            if cell_lines[0].split()[0] in _KEEP_CELL_MAGICS:
                cell_lines[0] = "pass"
            else:
                cell_lines = ["" for _ in cell_lines]
        for i, line in enumerate(cell_lines):
            match = _LINE_MAGIC.match(line)
            if match:
                cell_lines[i] = f"{match.group(1)}pass"
        starts.append((len(lines) + 1, number))
        lines.extend(cell_lines)
    return "\n".join(lines) + "\n", CellMap(starts)


# ---------------------------------------------------------------------------
# Applying fixes


def _offsets(text: str) -> tuple[list[int], list[int]]:
    starts = [0]
    lengths = []
    previous = 0
    for match in _LINE_BREAK.finditer(text):
        lengths.append(match.start() - previous)
        starts.append(match.end())
        previous = match.end()
    lengths.append(len(text) - previous)
    return starts, lengths


def _offset(starts: list[int], lengths: list[int], text_length: int, position: Position) -> int:
    if position.line < 1:
        return 0
    if position.line > len(starts):
        return text_length
    start = starts[position.line - 1]
    return start + min(max(position.column, 0), lengths[position.line - 1])


def fix_ranges(text: str, fix: Fix) -> list[tuple[int, int, str]]:
    starts, lengths = _offsets(text)
    return [
        (
            _offset(starts, lengths, len(text), edit.span.start),
            _offset(starts, lengths, len(text), edit.span.end),
            edit.new_text,
        )
        for edit in fix.edits
    ]


def non_overlapping(text: str, fixes: Iterable[Fix]) -> list[Fix]:
    """The fixes to apply together: in position order, skipping any that overlaps one already taken
    (those are left for another pass)."""
    taken: list[Fix] = []
    claimed: list[tuple[int, int]] = []
    ordered = sorted(fixes, key=lambda f: min((e.span.start for e in f.edits), default=Position(0, 0)))
    for fix in ordered:
        ranges = [(start, end) for start, end, _ in fix_ranges(text, fix)]
        if not ranges:
            continue
        if any(_overlaps(r, c) for r in ranges for c in claimed):
            continue
        if any(_overlaps(a, b) for i, a in enumerate(ranges) for b in ranges[i + 1 :]):
            continue
        taken.append(fix)
        claimed.extend(ranges)
    return taken


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    if a == b and a[0] == a[1]:
        return True  # two insertions at one place: their order would be arbitrary
    return a[0] < b[1] and b[0] < a[1]


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

    Uses the engine's `analyzers.fixes.apply_fixes` when it is there.
    """
    fixes = _with_line_ending(list(fixes), _line_ending(text))
    try:
        from .analyzers.fixes import apply_fixes
    except ImportError:
        apply_fixes = None
    if apply_fixes is not None:
        result = apply_fixes(text, list(fixes))
        if isinstance(result, str):
            return result, (len(fixes) if result != text else 0)
        return result.text, result.applied
    chosen = non_overlapping(text, fixes)
    edits: list[tuple[int, int, str]] = []
    for fix in chosen:
        edits.extend(fix_ranges(text, fix))
    for start, end, new_text in sorted(edits, key=lambda e: (e[0], e[1]), reverse=True):
        text = text[:start] + new_text + text[end:]
    return text, len(chosen)


__all__ = ["SourceFile", "apply_fixes_to_text", "non_overlapping", "read_notebook", "read_source"]

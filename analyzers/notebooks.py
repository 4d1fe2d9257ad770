"""Jupyter notebooks as Python modules.

A notebook (``.ipynb``, JSON) is analysed as one module: the sources of its
code cells, one after the other, in notebook order - which is how the kernel
usually runs them.  Markdown and raw cells are left out.  IPython syntax that
is not Python is neutralised line by line, so every line keeps its number and
a diagnostic can be mapped back to its cell:

* line magics and shell escapes (``%pip install x``, ``!ls``, ``files = !ls``,
  ``%time f()``) become ``pass`` at their indentation;
* help requests (``obj?``, ``??obj``) become ``pass``;
* a cell magic (``%%bash``, ``%%html`` ...) blanks its whole cell, except the
  timing and capture magics whose body is Python (``%%time``, ``%%timeit``,
  ``%%capture``, ``%%prun``): only their first line is blanked.

Top-level ``await``, ``async for`` and ``async with`` need no rewriting: the
``ast`` parser accepts them (only the compiler rejects them), and IPython runs
cells on its own event loop, which the rules take into account
(``ModuleModel.notebook``).

Positions in the combined text are the engine's usual ones; ``NotebookSource``
maps them to (cell, position in the cell) and back.  A cell is named by its
``number``: its 1-based position among *all* cells of the notebook (markdown
included), the order a notebook UI shows; ``index`` is the same, 0-based.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from .diagnostics import Position, Span

NOTEBOOK_SUFFIX = ".ipynb"

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
# Cell magics whose body is ordinary Python: keep the body, blank the magic line.
_PYTHON_CELL_MAGICS = frozenset({"%%time", "%%timeit", "%%capture", "%%prun", "%%debug"})
# `%magic ...`, `!cmd`, `x = %magic`, `a, b = !cmd`
_LINE_MAGIC = re.compile(r"^(\s*)(?:[\w.]+(?:\s*,\s*[\w.]+)*\s*=\s*)?[%!]")
# `obj?`, `obj.attr??`, `?obj`, `??obj`
_HELP = re.compile(r"^(\s*)(?:\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")


def is_notebook(path: str | Path) -> bool:
    return str(path).endswith(NOTEBOOK_SUFFIX)


@dataclass(frozen=True)
class Cell:
    """A code cell of the notebook and where its lines are in the combined text."""

    number: int  # 1-based position among all cells of the notebook
    first_line: int  # 1-based line of the cell's first line in the combined text
    line_count: int

    @property
    def index(self) -> int:
        """0-based position among all cells (notebook APIs, LSP notebook documents)."""
        return self.number - 1

    @property
    def last_line(self) -> int:
        return self.first_line + self.line_count - 1


@dataclass
class NotebookSource:
    """The code cells of a notebook as one Python text, with the way back to the cells."""

    text: str
    cells: list[Cell] = field(default_factory=list)

    def cell_at(self, line: int) -> Cell | None:
        """The cell holding a 1-based line of the combined text."""
        starts = [cell.first_line for cell in self.cells]
        position = bisect.bisect_right(starts, line) - 1
        if position < 0:
            return None
        cell = self.cells[position]
        return cell if line <= cell.last_line else None

    def to_cell(self, position: Position) -> tuple[Cell, Position] | None:
        """A position of the combined text -> (its cell, the position inside the cell)."""
        cell = self.cell_at(position.line)
        if cell is None:
            return None
        return cell, Position(position.line - cell.first_line + 1, position.column)

    def span_in_cell(self, span: Span) -> tuple[Cell, Span] | None:
        """A span -> (the cell it starts in, the span in that cell's coordinates).

        A span running past the end of its cell is cut at the cell's last line.
        """
        start = self.to_cell(span.start)
        if start is None:
            return None
        cell, start_position = start
        end_line = min(span.end.line, cell.last_line)
        end_column = span.end.column if end_line == span.end.line else len(self._line(end_line))
        return cell, Span(start_position, Position(end_line - cell.first_line + 1, end_column))

    def from_cell(self, number: int, position: Position) -> Position | None:
        """(cell number, position inside the cell) -> position in the combined text."""
        for cell in self.cells:
            if cell.number == number:
                return Position(cell.first_line + position.line - 1, position.column)
        return None

    def _line(self, line: int) -> str:
        lines = _LINE_BREAK.split(self.text)
        return lines[line - 1] if 1 <= line <= len(lines) else ""


def read_notebook(data: bytes | str) -> NotebookSource:
    """Parse notebook JSON into its combined Python source; ValueError if it is no notebook."""
    try:
        notebook = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not a valid notebook (JSON): {exc}") from None
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        raise ValueError("not a valid notebook: no 'cells' list")
    code: list[tuple[int, str]] = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(str(part) for part in source)
        code.append((number, str(source)))
    return from_cells(code)


def from_cells(cells: Iterable[tuple[int, str]] | Sequence[str]) -> NotebookSource:
    """Combine cell sources: ``[(number, source), ...]``, or plain sources numbered 1, 2, ...

    For editors that hold a notebook's cells as separate documents.
    """
    lines: list[str] = []
    found: list[Cell] = []
    for position, item in enumerate(cells, start=1):
        number, source = (position, item) if isinstance(item, str) else item
        cell_lines = neutralise(_LINE_BREAK.split(source))
        found.append(Cell(number, len(lines) + 1, len(cell_lines)))
        lines.extend(cell_lines)
    return NotebookSource("\n".join(lines) + "\n", found)


def neutralise(lines: list[str]) -> list[str]:
    """The lines of one cell with IPython-only syntax made into Python, line for line."""
    lines = list(lines)
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].split()[0]
        if magic in _PYTHON_CELL_MAGICS:
            lines[0] = ""
        else:
            return ["" for _ in lines]  # another language (bash, html, sql ...)
    continued = False  # the line above ends inside brackets or with a backslash
    in_magic = False  # the line above is a magic continued with a backslash
    depth = 0
    quote: str | None = None
    for row, line in enumerate(lines):
        if in_magic:
            lines[row] = ""
            in_magic = line.rstrip().endswith("\\")
            continue
        if not continued and quote is None:
            match = _LINE_MAGIC.match(line) or _HELP.match(line)
            if match:
                lines[row] = f"{match.group(1)}pass"
                in_magic = line.rstrip().endswith("\\")
                continue
        depth, quote, backslash = _scan(line, depth, quote)
        continued = depth > 0 or backslash
    return lines


def _scan(line: str, depth: int, quote: str | None) -> tuple[int, str | None, bool]:
    """Bracket depth and open triple quote after ``line``; whether it ends with a backslash."""
    column, length = 0, len(line)
    while column < length:
        if quote is not None:
            end = line.find(quote, column)
            while end > 0 and line[end - 1] == "\\":
                end = line.find(quote, end + 1)
            if end < 0:
                return depth, quote, False
            column, quote = end + 3, None
            continue
        char = line[column]
        if char == "#":
            break
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char in "\"'":
            if line.startswith(char * 3, column):
                quote = char * 3
                column += 3
                continue
            column += 1
            while column < length and line[column] != char:
                column += 2 if line[column] == "\\" else 1
        column += 1
    return depth, quote, line.endswith("\\") and quote is None


def notebook_source(text: str, from_editor: bool = False) -> NotebookSource:
    """The module of a notebook file's text: its JSON, or (from an editor or the CLI,
    which may hand over the cells already joined) Python text, taken as it is.

    Raises ValueError for a file on disk that is no notebook.
    """
    try:
        return read_notebook(text)
    except ValueError:
        if not from_editor:
            raise
        return NotebookSource(text, [])

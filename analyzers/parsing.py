"""Reading and parsing source files, with recovery.

We parse with the standard library's ``ast``: it is twice as fast as parso and
its nodes are what the rules walk.  ``ast`` has no error recovery and knows only
the grammar of the running Python, so when a whole-file parse fails we recover
piecewise:

1. split the file into top-level chunks (a ``def``/``class``/statement starting
   in column 0, with its decorators and indented body) and parse each chunk on
   its own, so a broken function costs that function, not the file;
2. inside a chunk that still fails, neutralise the offending line and retry a
   few times: newer-Python syntax is rewritten to an equivalent the running
   parser accepts where that is cheap (``def f[T](x)`` -> ``def f   (x)``,
   ``except A, B:`` -> ``except(A, B):``), anything else becomes ``pass``.

Every line keeps its number and (except on rewritten lines) its columns, so
diagnostics land where the user's code is.  The lines that were dropped are
reported, and a file with any is "analysed in part".
"""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
from dataclasses import dataclass, field

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MAX_REPAIRS_PER_CHUNK = 25


class DecodeError(Exception):
    pass


def decode_source(data: bytes) -> tuple[str, str | None]:
    """Decode bytes as Python does (BOM, PEP 263 cookie, default UTF-8).

    Returns the text and an error message when the bytes could not be decoded
    cleanly; then the text holds U+FFFD for the bad bytes and is still analysed.
    """
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:  # unknown or conflicting cookie
        return data.decode("utf-8", errors="replace"), f"bad encoding declaration: {exc.msg}"
    if encoding == "utf-8-sig" or data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):] if data.startswith(codecs.BOM_UTF8) else data
        encoding = "utf-8"
    try:
        return data.decode(encoding), None
    except (UnicodeDecodeError, LookupError) as exc:
        return (
            data.decode(encoding if encoding != "utf-8" else "utf-8", errors="replace"),
            f"not valid {encoding}: {exc.reason if isinstance(exc, UnicodeDecodeError) else exc}"
            " (analysed with replacement characters)",
        )


def split_lines(text: str) -> list[str]:
    """Lines without their terminators, split the way Python's tokenizer does."""
    return _LINE_BREAK.split(text)


class LineIndex:
    """Converts between ``ast`` byte columns, character columns and offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = split_lines(text)
        self._offsets: list[int] | None = None

    def char_col(self, line: int, byte_col: int) -> int:
        """``ast`` col_offset (UTF-8 bytes) -> column in characters."""
        if not 1 <= line <= len(self.lines):
            return byte_col
        text = self.lines[line - 1]
        if text.isascii():
            return byte_col
        return len(text.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))

    def line_offsets(self) -> list[int]:
        if self._offsets is None:
            offsets = [0]
            for match in _LINE_BREAK.finditer(self.text):
                offsets.append(match.end())
            self._offsets = offsets
        return self._offsets

    def offset(self, line: int, col: int) -> int:
        """(1-based line, character column) -> offset into the text (clamped)."""
        offsets = self.line_offsets()
        if line < 1:
            return 0
        if line > len(offsets):
            return len(self.text)
        start = offsets[line - 1]
        return min(start + max(col, 0), start + len(self.lines[line - 1]))


@dataclass
class ParsedModule:
    tree: ast.Module
    text: str
    index: LineIndex
    # 1-based line numbers whose code could not be parsed and was skipped.
    skipped_lines: set[int] = field(default_factory=set)
    syntax_error: str | None = None  # the first error, for messages

    @property
    def partial(self) -> bool:
        return bool(self.skipped_lines)


def parse_module(text: str, filename: str = "<unknown>") -> ParsedModule:
    index = LineIndex(text)
    normalised = "\n".join(index.lines)
    try:
        tree = ast.parse(normalised, filename=filename, type_comments=False)
        return ParsedModule(tree, text, index)
    except (SyntaxError, ValueError) as exc:  # ValueError: null bytes
        first_error = _describe(exc)
    lines = list(index.lines)
    body: list[ast.stmt] = []
    skipped: set[int] = set()
    for start, end in _top_level_chunks(lines):
        chunk_lines = lines[start:end]
        stmts, dropped = _parse_chunk(chunk_lines, start)
        body.extend(stmts)
        skipped.update(line + start + 1 for line in dropped)
    tree = ast.Module(body=body, type_ignores=[])
    return ParsedModule(tree, text, index, skipped, first_error)


def _describe(exc: Exception) -> str:
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {exc.msg}"
    return str(exc)


_CHUNK_START = re.compile(r"[^\s#]")
_CONTINUATION_KEYWORDS = re.compile(r"(else|elif|except|finally|case)\b")


def _top_level_chunks(lines: list[str]) -> list[tuple[int, int]]:
    """Half-open line ranges of top-level statements (0-based), decorators kept with their def."""
    starts: list[int] = []
    in_decorators = False
    for number, line in enumerate(lines):
        if not _CHUNK_START.match(line[:1] or " "):
            continue
        if _CONTINUATION_KEYWORDS.match(line) or line.startswith((")", "]", "}")):
            continue  # part of the statement above
        if in_decorators:
            in_decorators = line.startswith("@")
            continue
        starts.append(number)
        in_decorators = line.startswith("@")
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(lines)]
    return [(bounds[i], bounds[i + 1]) for i in range(len(starts)) if bounds[i] < bounds[i + 1]]


def _parse_chunk(lines: list[str], first_line: int) -> tuple[list[ast.stmt], set[int]]:
    """Parse one chunk, repairing lines until it parses; returns statements and dropped lines."""
    dropped: set[int] = set()
    lines = list(lines)
    for _ in range(_MAX_REPAIRS_PER_CHUNK):
        try:
            tree = ast.parse("\n".join(lines))
        except (SyntaxError, ValueError) as exc:
            lineno = getattr(exc, "lineno", None) or 1
            lineno = min(max(lineno, 1), len(lines))
            if not _repair(lines, lineno - 1, exc, dropped):
                break
            continue
        ast.increment_lineno(tree, first_line)
        return tree.body, dropped
    return [], set(range(len(lines)))


_TYPE_PARAMS = re.compile(r"^(\s*(?:async\s+)?(?:def|class)\s+\w+\s*)(\[)")
_EXCEPT_TUPLE = re.compile(r"^(\s*except\*?)\s+([^():]+,[^():]+?)(\s+as\s+\w+)?\s*:")
_TYPE_ALIAS = re.compile(r"^(\s*)type\s+\w+")


def _repair(lines: list[str], row: int, exc: Exception, dropped: set[int]) -> bool:
    """Make line ``row`` acceptable to the running parser; False when nothing more can be done."""
    line = lines[row]
    msg = getattr(exc, "msg", "") or ""
    if msg.startswith("expected an indented block"):
        # A header with no body (being typed, or its body was neutralised):
        # give it an inline `pass`; the lines below keep their numbers.
        header = row - 1
        while header > 0 and not lines[header].strip():
            header -= 1
        if lines[header].rstrip().endswith(":"):
            lines[header] = lines[header].rstrip() + " pass"
            return True
    match = _TYPE_PARAMS.match(line)
    if match:  # PEP 695 generics: blank the [..] so the def survives
        end = _matching_bracket(line, match.end(2) - 1)
        if end is not None:
            lines[row] = line[: match.end(1)] + " " * (end - match.end(1) + 1) + line[end + 1 :]
            return True
    match = _EXCEPT_TUPLE.match(line)
    if match:  # PEP 758: except A, B:
        name = match.group(3) or ""
        lines[row] = f"{match.group(1)}({match.group(2)}){name}:" + line[match.end() :]
        return True
    if row in dropped:
        # Already neutralised and still failing: the real culprit is above (an open bracket).
        for above in range(row - 1, -1, -1):
            if above not in dropped and lines[above].strip():
                return _neutralise(lines, above, dropped)
        return False
    return _neutralise(lines, row, dropped)


def _neutralise(lines: list[str], row: int, dropped: set[int]) -> bool:
    line = lines[row]
    indent = _indent(line)
    stripped = line.strip()
    if stripped.endswith(":") and not stripped.startswith("#"):
        keyword = stripped.split(None, 1)[0].rstrip(":")
        replacement = {
            "elif": "elif True:",
            "else": "else:",
            "except": "except Exception:",
            "finally": "finally:",
            "try": "try:",
            "case": "case _:",
        }.get(keyword, "if True:")
        lines[row] = indent + replacement
    else:
        lines[row] = indent + "pass" if stripped else ""
    if lines[row] == line:
        # Nothing changed: drop the line entirely to make progress.
        lines[row] = ""
        if line == "":
            return False
    dropped.add(row)
    return True


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _matching_bracket(line: str, open_at: int) -> int | None:
    depth = 0
    for position in range(open_at, len(line)):
        char = line[position]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return position
    return None

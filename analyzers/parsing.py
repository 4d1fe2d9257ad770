"""Reading and parsing source files, with recovery.

We parse with the standard library's ``ast``: it is twice as fast as parso and
its nodes are what the rules walk.  ``ast`` has no error recovery and knows only
the grammar of the running Python, so when a whole-file parse fails we recover
piecewise:

1. split the file into top-level chunks (a ``def``/``class``/statement starting
   in column 0, with its decorators and indented body) and parse each chunk on
   its own, so a broken function costs that function, not the file.  Lines
   inside strings or brackets are never chunk starts (a docstring's column-0
   text is not code), nor is a line typed in column 0 amid an indented block;
2. inside a chunk that still fails, repair the offending line and retry:
   newer-Python syntax is rewritten to an equivalent the running parser
   accepts where that is cheap (``def f[T](x)`` -> ``def f   (x)``,
   ``except A, B:`` -> ``except(A, B):``, an f-string reusing its quotes ->
   a plain string of spaces); a bracket left open loses the bracket; a broken
   block header becomes one that fits its clauses (``try:`` before an
   ``except``); anything else is blanked, keeping multi-line strings whole.

Every line keeps its number and (except on rewritten lines) its columns, so
diagnostics land where the user's code is.  The lines that were changed or
dropped (beyond the like-for-like rewrites of newer syntax) are reported, and
a file with any is "analysed in part".  Null bytes, which Python refuses
anywhere, are blanked and their lines reported the same way.
"""

from __future__ import annotations

import ast
import codecs
import io
import re
import tokenize
import warnings
from dataclasses import dataclass, field

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_MAX_REPAIRS_PER_CHUNK = 40


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


# Warnings the parser emits about the user's code (DeprecationWarning or, from 3.12,
# SyntaxWarning for "\d"; SyntaxWarning for `0in x`) are not ours to print: on stderr
# they garble the CLI's output and the server's log, and under `-W error` they turn
# valid code into a syntax error.  `warnings.catch_warnings` swaps process-wide state
# and is not thread-safe (the server parses in a worker thread while the loop runs),
# so every parse names the same pseudo-file and one permanent "ignore" filter, first
# in the list, silences exactly the warnings about that file.
_PARSE_FILENAME = "<asyncsense-parse>"
_QUIET_MODULE = re.escape(_PARSE_FILENAME) + r"\Z"


def _keep_parser_quiet() -> None:
    """Put our filter first if it is not (pytest, ``-W error`` or another library's
    ``catch_warnings`` may have pushed or dropped filters since the last parse)."""
    filters = warnings.filters
    first = filters[0] if filters else None
    if first is None or first[0] != "ignore" or first[3] is None or first[3].pattern != _QUIET_MODULE:
        warnings.filterwarnings("ignore", module=_QUIET_MODULE)


def parse_quietly(source: str, mode: str = "exec") -> ast.AST:
    """``ast.parse`` that never warns about the source (see above); raises what ast.parse raises."""
    _keep_parser_quiet()
    return ast.parse(source, filename=_PARSE_FILENAME, mode=mode)


def parse_module(text: str, filename: str = "<unknown>") -> ParsedModule:
    # `filename` is kept for callers; the parser itself is given _PARSE_FILENAME.
    index = LineIndex(text)
    normalised = "\n".join(index.lines)
    try:
        tree = parse_quietly(normalised)
        return ParsedModule(tree, text, index)
    except _PARSER_FAILURES as exc:
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


# What ast.parse raises for text it cannot turn into a tree: SyntaxError; ValueError
# for null bytes and lone surrogates; RecursionError and MemoryError for code nested
# too deeply for CPython's parser (`-` * 50_000 + `1`, a thousand nested tuples).
_PARSER_FAILURES = (SyntaxError, ValueError, RecursionError, MemoryError)


def _describe(exc: Exception) -> str:
    if isinstance(exc, SyntaxError):
        return f"line {exc.lineno}: {exc.msg}"
    if isinstance(exc, (RecursionError, MemoryError)):
        return "code nested too deeply for the parser"
    return str(exc)


_CHUNK_START = re.compile(r"[^\s#]")
_CONTINUATION_KEYWORDS = re.compile(r"(else|elif|except|finally|case)\b")
# A line in column 0 that starts a definition ends whatever bracket was left open above it.
_DEFINITION_START = re.compile(r"(@|def\s|class\s|async\s+def\s)")
_MAX_RESCANS = 10


def _top_level_chunks(lines: list[str], outside: list[bool] | None = None) -> list[tuple[int, int]]:
    """Half-open line ranges of top-level statements (0-based), decorators kept with their def.

    ``outside`` (whether each line starts outside strings and brackets) can be passed by a
    caller that keeps it up to date itself (reparse.BufferParser)."""
    if outside is None:
        outside = _lines_outside_strings_and_brackets(lines)
    starts: list[int] = []
    in_decorators = False
    for number, line in enumerate(lines):
        if not outside[number] or not _CHUNK_START.match(line[:1] or " "):
            continue
        if _CONTINUATION_KEYWORDS.match(line) or line.startswith((")", "]", "}")):
            continue  # part of the statement above
        if _stray_in_block(lines, number):
            continue
        if in_decorators:
            in_decorators = line.startswith("@")
            continue
        starts.append(number)
        in_decorators = line.startswith("@")
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(lines)]
    return [(bounds[i], bounds[i + 1]) for i in range(len(starts)) if bounds[i] < bounds[i + 1]]


def _stray_in_block(lines: list[str], number: int) -> bool:
    """A line in column 0 amid an indented block (being typed there), not a new statement."""
    line = lines[number]
    if _DEFINITION_START.match(line) or line.rstrip().endswith(":"):
        return False
    return _indented(_neighbour(lines, number, -1)) and _indented(_neighbour(lines, number, 1))


def _neighbour(lines: list[str], number: int, step: int) -> str:
    number += step
    while 0 <= number < len(lines):
        stripped = lines[number].strip()
        if stripped and not stripped.startswith("#"):
            return lines[number]
        number += step
    return ""


def _indented(line: str) -> bool:
    return line[:1] in (" ", "\t")


def _lines_outside_strings_and_brackets(lines: list[str]) -> list[bool]:
    """For each line: whether it begins outside a string, a bracket and a backslash continuation.

    A line in column 0 of a docstring or of an SQL string is not a statement.
    A triple-quoted string still open at the end of the file is being typed:
    its opening quotes are taken for ordinary text and the file scanned again,
    so one unclosed string does not swallow the rest of the file.
    """
    ignored: set[tuple[int, int]] = set()
    for _ in range(_MAX_RESCANS):
        states = _scan(lines, ignored)
        if states.open_string is None:
            return states.outside
        ignored.add(states.open_string)
    return [True] * len(lines)


@dataclass
class _LineStates:
    """Where each line begins, lexically."""

    outside: list[bool] = field(default_factory=list)  # outside strings, brackets, continuations
    bracket_row: list[int | None] = field(default_factory=list)  # row of the innermost open bracket
    in_string: list[str | None] = field(default_factory=list)  # the triple quote it begins inside
    opens_string_at: list[int | None] = field(default_factory=list)  # column of a string left open
    open_string: tuple[int, int] | None = None  # a triple-quoted string open at the end


_SCAN_STOP = re.compile(r"[#()\[\]{}\"'\\]")


def _scan(lines: list[str], ignored: set[tuple[int, int]] | frozenset = frozenset()) -> _LineStates:
    states = _LineStates()
    brackets: list[int] = []  # rows of the open brackets, innermost last
    quote: str | None = None  # the triple quote we are inside
    opener: tuple[int, int] | None = None
    continued = False
    for row, line in enumerate(lines):
        starts_outside = quote is None and not brackets and not continued
        if quote is None and brackets and _DEFINITION_START.match(line):
            brackets, starts_outside = [], True
        states.outside.append(starts_outside)
        states.bracket_row.append(brackets[-1] if brackets and quote is None else None)
        states.in_string.append(quote)
        states.opens_string_at.append(None)
        continued = False
        column, length = 0, len(line)
        while column < length:
            if quote is not None:
                end = _string_end(line, column, quote)
                if end is None:
                    break
                column, quote, opener = end, None, None
                continue
            # Jump to the next character that matters (in C: a long line or deep
            # indentation costs nothing here, and recovery scans once per repair).
            found = _SCAN_STOP.search(line, column)
            if found is None:
                break
            column = found.start()
            char = line[column]
            if char == "#":
                break
            if char in "([{":
                brackets.append(row)
            elif char in ")]}":
                if brackets:
                    brackets.pop()
            elif char in "\"'":
                triple = char * 3
                if line.startswith(triple, column):
                    if (row, column) not in ignored:
                        quote, opener = triple, (row, column)
                    column += 3
                    continue
                end = _string_end(line, column + 1, char)
                # A quote never closed on its line is a stray one (being typed):
                # what follows it is still read, triple quotes included.
                column = end if end is not None else column + 1
                continue
            elif char == "\\" and column == length - 1:
                continued = True
            column += 1
        if quote is not None and opener is not None and opener[0] == row:
            states.opens_string_at[row] = opener[1]
    states.open_string = opener if quote is not None else None
    return states


def _string_end(line: str, column: int, quote: str) -> int | None:
    """Column just after the closing ``quote`` at or after ``column`` (None: not on this line)."""
    while True:
        end = line.find(quote, column)
        if end == -1:
            return None
        escape = line.find("\\", column, end)
        if escape == -1:
            return end + len(quote)
        column = escape + 2  # the escaped character cannot close the string


def _parse_chunk(lines: list[str], first_line: int) -> tuple[list[ast.stmt], set[int]]:
    """Parse one chunk, repairing lines until it parses; returns statements and dropped lines."""
    dropped: set[int] = set()
    blanked_nulls: set[int] = set()
    original, lines = lines, list(lines)
    for _ in range(_MAX_REPAIRS_PER_CHUNK):
        try:
            tree = parse_quietly("\n".join(lines))
        except (RecursionError, MemoryError):
            break  # too deep for the parser, and it does not say where: skip the chunk
        except (SyntaxError, ValueError) as exc:
            if "null bytes" in str(exc):
                # Python refuses the whole file; we blank the null bytes and
                # count their lines as not parsed as written.
                for row, line in enumerate(lines):
                    if "\0" in line:
                        # in the indentation a space would change it: drop those
                        indent = _LEADING_SPACE.match(line).group()  # type: ignore[union-attr]
                        lines[row] = indent.replace("\0", "") + line[len(indent) :].replace("\0", " ")
                        blanked_nulls.add(row)
                continue
            lineno = getattr(exc, "lineno", None) or 1
            lineno = min(max(lineno, 1), len(lines))
            if not _repair(lines, lineno - 1, exc, dropped):
                break
            continue
        _keep_inside_text(tree, original, lines)
        ast.increment_lineno(tree, first_line)
        return tree.body, dropped | blanked_nulls
    return [], set(range(len(lines)))


def _keep_inside_text(tree: ast.AST, original: list[str], rewritten: list[str]) -> None:
    """Clamp node columns on rewritten lines to the user's line: the ``pass`` given to a
    header without a body, the ``except Exception:`` standing for a broken clause are
    not in the file, and a diagnostic or a fix must never point past its line's end."""
    limits = {
        row + 1: len(before.encode("utf-8", "surrogatepass"))
        for row, (before, after) in enumerate(zip(original, rewritten))
        if before != after
    }
    if not limits:
        return
    for node in ast.walk(tree):
        for line_field, column_field in (("lineno", "col_offset"), ("end_lineno", "end_col_offset")):
            limit = limits.get(getattr(node, line_field, None))
            if limit is not None and getattr(node, column_field) > limit:
                setattr(node, column_field, limit)


_TYPE_PARAMS = re.compile(r"^(\s*(?:async\s+)?(?:def|class)\s+\w+\s*)(\[)")
_EXCEPT_TUPLE = re.compile(r"^(\s*except\*?)\s+([^():]+,[^():]+?)(\s+as\s+\w+)?\s*:")
_TYPE_ALIAS = re.compile(r"^(\s*)type\s+\w+")


def _repair(lines: list[str], row: int, exc: Exception, dropped: set[int]) -> bool:
    """Make line ``row`` acceptable to the running parser; False when nothing more can be done."""
    line = lines[row]
    msg = getattr(exc, "msg", "") or ""
    if msg.startswith("expected an indented block"):
        # A header with no body (being typed, or its body was neutralised):
        # give it an inline `pass`; the lines below keep their numbers.  The
        # message names the header's line (the error's line is the header's
        # own when it is the last line of the chunk).
        named = _HEADER_LINE.search(msg)
        header = int(named.group(1)) - 1 if named else row - 1
        if not 0 <= header < len(lines):
            header = row - 1
        while header > 0 and not lines[header].strip():
            header -= 1
        code, comment = _split_comment(lines[header])
        if code.rstrip().endswith(":"):
            lines[header] = code.rstrip() + " pass" + (" " + comment if comment else "")
            return True
    if msg.startswith(_MISSING_HANDLER):
        # A `try:` whose handler is not typed yet (or was blanked, half typed):
        # keep its body as that of an `if True:`.
        header = _try_without_handler(lines, row)
        if header is not None:
            text = lines[header]
            width = len(_indent(text))
            match = _TRY_HEADER.match(text, width)
            lines[header] = text[:width] + "if True:" + text[match.end() :]  # type: ignore[union-attr]
            dropped.add(header)
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
    blanked = _blank_fstrings(line)
    if blanked != line:  # PEP 701: quotes reused inside an f-string
        lines[row] = blanked
        dropped.add(row)  # what the f-strings interpolate is not analysed
        return True
    states = _scan(lines)
    quote = states.in_string[row]
    if quote is not None:
        # The line ends a multi-line string: keep the string, drop the code after it.
        end = _string_end(line, 0, quote)
        if end is not None and line[end:].strip():
            lines[row] = line[:end]
            dropped.add(row)
            return True
    unclosed = _UNCLOSED.match(msg)
    if unclosed and row not in dropped:
        # A bracket typed and not closed yet: drop the bracket, keep the line.
        column = _unclosed_bracket(line, unclosed.group(1), getattr(exc, "offset", None))
        if column is not None:
            # A space where the indentation ends would change the indentation.
            filler = "_" if column == len(_indent(line)) else " "
            rest = line[:column] + filler + line[column + 1 :]
            lines[row] = "" if not rest.strip(" _\t") else rest
            dropped.add(row)
            return True
    opens_at = states.opens_string_at[row]
    if opens_at is not None:
        # The line opens a multi-line string: the error may be the code after
        # the string's end (reported here, where the statement starts) or
        # the code before its opening quotes.
        closing = _closing_row(lines, states, row)
        if closing is None:  # never closed: the string is being typed
            return _neutralise(lines, row, dropped)
        end = _string_end(lines[closing], 0, states.in_string[closing] or '"""')
        if end is not None and lines[closing][end:].strip():
            lines[closing] = lines[closing][:end]
            dropped.add(closing)
            return True
        if line[:opens_at].strip():
            lines[row] = _indent(line) + line[opens_at:]
            dropped.add(row)
            return True
    if _CLAUSE.match(line.lstrip()) and msg.startswith("invalid syntax"):
        # `except`/`finally` whose `try:` header above was damaged (`if xtry:`).
        header = _header_above(lines, row)
        # A definition is never a damaged `try:` (`except:` typed in column 0 below a function).
        definition = header is not None and _DEFINITION_START.match(lines[header].lstrip()) is not None
        if header is not None and not definition and not _TRY_FAMILY.match(lines[header].lstrip()):
            lines[header] = _indent(lines[header]) + "try:"
            dropped.add(header)
            return True
        # `except` after an `else:`/`finally:`, `finally` after a `finally:`: never valid.
        out_of_order = header is not None and re.match(
            r"(else|finally)\b" if line.lstrip().startswith("except") else r"finally\b", lines[header].lstrip()
        )
        if (header is None or definition or out_of_order) and row not in dropped:
            # A clause with no statement to belong to (typed below plain code or
            # a definition): its body is still code, under an `if True:`.
            comment = _split_comment(line)[1]
            lines[row] = _indent(line) + "if True:" + (" " + comment if comment else "")
            dropped.add(row)
            return True
    if msg.startswith("unexpected indent"):
        stray = _stray_above(lines, row)
        if stray is not None and _blankable(lines, states, stray):
            # A line typed in column 0 inside the block ended it early.
            return _neutralise(lines, stray, dropped)
    if (
        msg.startswith(("unexpected indent", "unindent does not match"))
        and line.strip()
        and _blankable(lines, states, row)
    ):
        lines[row] = ""  # `pass` would be just as unexpected
        dropped.add(row)
        return True
    opened_at = states.bracket_row[row]
    if (
        opened_at is not None
        and opened_at not in dropped
        and line.strip()
        and len(_indent(line)) <= len(_indent(lines[opened_at]))
        and _blankable(lines, states, opened_at)
    ):
        # The line reads as a statement of its own, inside a bracket left open
        # above: the open bracket is the mistake, not this line.
        return _neutralise(lines, opened_at, dropped)
    if (row in dropped and _neutral(line)) or not _blankable(lines, states, row):
        # Already neutralised and still failing, or part of a multi-line string:
        # the real culprit is above (an open bracket, a broken header).
        for above in range(row - 1, -1, -1):
            if above not in dropped and lines[above].strip() and _blankable(lines, states, above):
                return _neutralise(lines, above, dropped)
        return False
    return _neutralise(lines, row, dropped)


_UNCLOSED = re.compile(r"'([(\[{])' was never closed")
_HEADER_LINE = re.compile(r"statement on line (\d+)")
_MISSING_HANDLER = "expected 'except' or 'finally' block"
_TRY_HEADER = re.compile(r"try\s*:")


def _split_comment(line: str) -> tuple[str, str]:
    """(code, comment) of a line: the comment starts at a ``#`` outside strings."""
    column, quote = 0, None
    while column < len(line):
        char = line[column]
        if quote is not None:
            if char == "\\":
                column += 2
                continue
            if line.startswith(quote, column):
                column += len(quote)
                quote = None
                continue
        elif char == "#":
            return line[:column], line[column:]
        elif char in "\"'":
            quote = char * 3 if line.startswith(char * 3, column) else char
            column += len(quote)
            continue
        column += 1
    return line, ""


def _try_without_handler(lines: list[str], row: int) -> int | None:
    """The nearest ``try:`` at or above ``row`` whose body reaches ``row`` and is not
    followed by an ``except``/``finally`` at its level."""
    for above in range(min(row, len(lines) - 1), -1, -1):
        text = lines[above]
        width = len(_indent(text))
        if not _TRY_HEADER.match(text, width):
            continue
        end = _code_row(lines, above, 1)
        while end is not None and len(_indent(lines[end])) > width:
            end = _code_row(lines, end, 1)
        if end is not None and len(_indent(lines[end])) == width and _CLAUSE.match(lines[end].lstrip()):
            continue  # this one has its handler
        if end is None or end >= row:
            return above
    return None


def _unclosed_bracket(line: str, bracket: str, offset: int | None) -> int | None:
    """Column of the bracket the parser says is never closed (its offset, or the last one)."""
    if offset is not None and 0 < offset <= len(line) and line[offset - 1] == bracket:
        return offset - 1
    column = line.rfind(bracket)
    return column if column >= 0 else None


_CLAUSE = re.compile(r"(except|finally)\b")
_TRY_FAMILY = re.compile(r"(try|except|else|finally)\b")


def _header_above(lines: list[str], row: int) -> int | None:
    """The nearest line above at the same indentation, if it is a block header."""
    width = len(_indent(lines[row]))
    for above in range(row - 1, -1, -1):
        text = lines[above]
        if not text.strip() or text.lstrip().startswith("#") or len(_indent(text)) > width:
            continue
        if len(_indent(text)) == width and text.rstrip().endswith(":"):
            return above
        return None
    return None


def _stray_above(lines: list[str], row: int) -> int | None:
    """A less indented non-header line just above ``row``, inside a more indented block."""
    above = _code_row(lines, row, -1)
    if above is None or lines[above].rstrip().endswith(":"):
        return None
    before = _code_row(lines, above, -1)
    width = len(_indent(lines[above]))
    if before is None or width >= len(_indent(lines[row])) or width >= len(_indent(lines[before])):
        return None
    return above


def _code_row(lines: list[str], row: int, step: int) -> int | None:
    row += step
    while 0 <= row < len(lines):
        stripped = lines[row].strip()
        if stripped and not stripped.startswith("#"):
            return row
        row += step
    return None


def _neutral(line: str) -> bool:
    """Whether the line is already what neutralising makes of a line."""
    stripped = line.strip().removesuffix(" pass")
    return not stripped or stripped == "if True:" or stripped in _HEADERS.values()


def _closing_row(lines: list[str], states: _LineStates, row: int) -> int | None:
    """The row where the multi-line string opened on ``row`` ends."""
    for below in range(row + 1, len(lines)):
        quote = states.in_string[below]
        if quote is None:
            return None
        if _string_end(lines[below], 0, quote) is not None:
            return below
    return None


def _blankable(lines: list[str], states: _LineStates, row: int) -> bool:
    """Whether blanking the line leaves every multi-line string as it was."""
    after = states.in_string[row + 1] if row + 1 < len(lines) else states.open_string
    return states.in_string[row] is None and after is None


_LEADING_SPACE = re.compile(r"[ \t\f\0]*")
_FIRST_WORD = re.compile(r"\W*(\w*)")
_HEADERS = {
    "elif": "elif True:",
    "else": "else:",
    "except": "except Exception:",
    "finally": "finally:",
    "try": "try:",
    "case": "case _:",
}


def _neutralise(lines: list[str], row: int, dropped: set[int]) -> bool:
    line = lines[row]
    indent = _indent(line)
    stripped = line.strip()
    # A header is followed by a deeper block, and not itself stranded below a deeper one.
    below, above = _code_row(lines, row, 1), _code_row(lines, row, -1)
    opens_block = (
        below is not None
        and len(_indent(lines[below])) > len(indent)
        and (
            above is None
            or len(_indent(lines[above])) <= len(indent)
            or lines[above].rstrip().endswith(":")
            or _CONTINUATION_KEYWORDS.match(stripped) is not None  # `except`, `else` follow a deeper block
        )
    )
    if (stripped.endswith(":") or opens_block) and not stripped.startswith("#"):
        # A broken header: a header that fits its body and the clauses after it.
        keyword = _FIRST_WORD.match(stripped).group(1)  # type: ignore[union-attr]
        replacement = _HEADERS.get(keyword) or _header_before_clause(lines, row)
        if indent + replacement == line:
            replacement = "if True:"  # a clause without its statement (`except` without `try`)
        lines[row] = indent + replacement
    else:
        # Blank: always valid where a statement or a continuation line was; a
        # block left empty gets its `pass` from the "expected an indented block" repair.
        lines[row] = ""
    if lines[row] == line:
        # Nothing changed: drop the line entirely to make progress.
        lines[row] = ""
        if line == "":
            return False
    dropped.add(row)
    return True


def _header_before_clause(lines: list[str], row: int) -> str:
    """``try:`` when the block is followed by ``except``/``finally`` at its level, else ``if True:``."""
    width = len(_indent(lines[row]))
    for below in range(row + 1, len(lines)):
        text = lines[below]
        if not text.strip() or text.lstrip().startswith("#") or len(_indent(text)) > width:
            continue
        if len(_indent(text)) == width and re.match(r"(except|finally)\b", text.lstrip()):
            return "try:"
        break
    return "if True:"


_FSTRING_PREFIX = re.compile(r"(?<![\w])(?:[fF][rR]?|[rR][fF])(?=[\"'])")
_STRING_PREFIX_LETTERS = frozenset("rRbBuUfF")


def _blank_fstrings(line: str) -> str:
    """Replace every f-string of ``line`` by a plain string of spaces of the same length.

    Before Python 3.12 an f-string cannot reuse its quotes inside ``{...}``
    (``f"{d["key"]}"``); blanking it keeps the rest of the line - and its
    columns - for the parser.  What the f-string interpolates is lost.
    """
    position = 0
    while True:
        match = _FSTRING_PREFIX.search(line, position)
        if match is None:
            return line
        end = _fstring_end(line, match.end())
        if end is None:
            return line
        start = match.start()
        line = line[:start] + '"' + " " * (end - start - 2) + '"' + line[end:]
        position = end


def _fstring_end(line: str, quote_at: int) -> int | None:
    """Column after the f-string whose quote starts at ``quote_at``, PEP 701 nesting allowed."""
    quote = line[quote_at] * 3 if line.startswith(line[quote_at] * 3, quote_at) else line[quote_at]
    column = quote_at + len(quote)
    depth = 0
    while column < len(line):
        char = line[column]
        if depth == 0:
            if line.startswith(quote, column):
                return column + len(quote)
            if char == "\\":
                column += 2
                continue
            if line.startswith("{{", column):
                column += 2
                continue
            if char == "{":
                depth = 1
            column += 1
            continue
        if char in "\"'":
            prefix_start = column
            while prefix_start > 0 and line[prefix_start - 1] in _STRING_PREFIX_LETTERS:
                prefix_start -= 1
            if "f" in line[prefix_start:column].lower():
                end = _fstring_end(line, column)
            else:
                inner = char * 3 if line.startswith(char * 3, column) else char
                end = _string_end(line, column + len(inner), inner)
            if end is None:
                return None
            column = end
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        column += 1
    return None


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

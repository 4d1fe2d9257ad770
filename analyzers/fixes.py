"""The edit model: building fixes as precise text edits, and applying them.

A fix replaces exact character ranges and never regenerates a file, so the
user's formatting and comments survive.  Fixes that need ``import asyncio``
or a module-level declaration carry an insertion edit for it; identical
insertions from several fixes are applied once.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import re
import weakref
from dataclasses import dataclass
from typing import Iterable

from .diagnostics import Applicability, Edit, Fix, Position, Span
from .parsing import LineIndex
from .semantics import ImportBinding, ModuleModel


def insertion(line: int, column: int, text: str) -> Edit:
    return Edit(Span(Position(line, column), Position(line, column)), text)


def replacement(span: Span, text: str) -> Edit:
    return Edit(span, text)


def make_fix(title: str, edits: Iterable[Edit | None], safe: bool) -> Fix:
    return Fix(
        title,
        Applicability.SAFE if safe else Applicability.UNSAFE,
        tuple(edit for edit in edits if edit is not None),
    )


# -- imports and module-level declarations ------------------------------------


def module_alias(model: ModuleModel, module: str) -> str | None:
    """The name under which ``module`` is imported at module level, if it is."""
    return _header_of(model).aliases.get(module)


def header_end_line(model: ModuleModel) -> int:
    """First line after the docstring and ``from __future__`` imports (1-based)."""
    return _header_of(model).end_line


def ensure_import(model: ModuleModel, module: str = "asyncio") -> tuple[str, Edit | None]:
    """(name to use, edit adding ``import module`` or None when already imported)."""
    alias = module_alias(model, module)
    if alias is not None:
        return alias, None
    return module, insertion(_header_of(model).import_line, 0, f"import {module}\n")


def ensure_module_declaration(model: ModuleModel, name: str, declaration: str) -> Edit | None:
    """Insert ``declaration`` (defining ``name``) after the imports, once per module."""
    if name in model.module_scope.bindings:
        return None
    return insertion(_header_of(model).declaration_line, 0, f"\n{declaration}\n")


# PEP 263: an encoding declaration counts on line 1 or 2 only; pushed further
# down by an inserted import, it is ignored and a non-UTF-8 file no longer decodes.
_CODING_COOKIE = re.compile(r"^[ \t\f]*#.*?coding[:=][ \t]*[-\w.]+")


def _after_magic_comments(lines: list[str]) -> int:
    """The first line after a shebang and an encoding declaration (1-based)."""
    first_is_comment = bool(lines) and (not lines[0].strip() or lines[0].lstrip().startswith("#"))
    if len(lines) > 1 and first_is_comment and _CODING_COOKIE.match(lines[1]):
        return 3
    if lines and (lines[0].startswith("#!") or _CODING_COOKIE.match(lines[0])):
        return 2
    return 1


@dataclass(frozen=True)
class _Header:
    """Where a module's imports are, computed once per model: a file with thousands
    of findings asks for every one of them, and each scan is as long as the module."""

    aliases: dict[str, str]  # module -> the first name it is imported under at module level
    end_line: int  # after the docstring and the `from __future__` imports
    import_line: int  # where a new `import` goes: before the first import after end_line
    declaration_line: int  # where a module-level declaration goes: after the imports


_HEADERS: weakref.WeakKeyDictionary[ModuleModel, _Header] = weakref.WeakKeyDictionary()


def _header_of(model: ModuleModel) -> _Header:
    header = _HEADERS.get(model)
    if header is None:
        header = _HEADERS[model] = _scan_header(model)
    return header


def _scan_header(model: ModuleModel) -> _Header:
    aliases: dict[str, str] = {}
    for name, bindings in model.module_scope.bindings.items():
        for binding in bindings:
            if isinstance(binding, ImportBinding) and binding.is_module:
                aliases.setdefault(binding.target, name)
    end_line = _after_magic_comments(model.lines)
    for statement in model.tree.body:
        is_docstring = (
            statement is model.tree.body[0]
            and isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        )
        is_future = isinstance(statement, ast.ImportFrom) and statement.module == "__future__"
        if is_docstring or is_future:
            end_line = (statement.end_lineno or statement.lineno) + 1
            continue
        break
    import_line = end_line
    for statement in model.tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)) and statement.lineno >= end_line:
            if not (isinstance(statement, ast.ImportFrom) and statement.module == "__future__"):
                import_line = statement.lineno
                break
    declaration_line = end_line
    for statement in model.tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            declaration_line = max(declaration_line, (statement.end_lineno or statement.lineno) + 1)
        elif statement.lineno > declaration_line:
            break
    return _Header(aliases, end_line, import_line, declaration_line)


def needs_parentheses(model: ModuleModel, node: ast.expr) -> bool:
    """Whether ``await <node>`` must be parenthesised where ``node`` stands."""
    parent = model.parent(node)
    if isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is node:
        return True
    if isinstance(parent, ast.Call) and parent.func is node:
        return True
    if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Pow) and parent.left is node:
        return True
    return False


def awaited(model: ModuleModel, node: ast.expr, text: str) -> str:
    expression = f"await {text}"
    return f"({expression})" if needs_parentheses(model, node) else expression


# -- applying -----------------------------------------------------------------


@dataclass
class Applied:
    text: str
    applied: int  # fixes applied
    skipped: int  # fixes left out because they overlapped another


def apply_fixes(text: str, fixes: Iterable[Fix]) -> Applied:
    """Apply whole fixes, in order, skipping any that overlaps one already taken."""
    index = LineIndex(text)
    taken = _TakenEdits()
    applied = skipped = 0
    for fix in fixes:
        ranges = []
        for edit in fix.edits:
            start = index.offset(edit.span.start.line, edit.span.start.column)
            end = index.offset(edit.span.end.line, edit.span.end.column)
            ranges.append((start, end, edit.new_text))
        if any(taken.conflicts(r) for r in ranges):
            skipped += 1
            continue
        for item in ranges:
            taken.add(item)  # the same import from two fixes goes in once
        applied += 1
    # Front to back, joined once (a file with thousands of fixes stays linear);
    # insertions at one point go in the order they were taken (``import asyncio``
    # before a declaration that uses it).
    pieces: list[str] = []
    position = 0
    for start, end, new_text in taken.in_text_order():
        pieces.append(text[position:start])
        pieces.append(new_text)
        position = max(position, end)
    pieces.append(text[position:])
    return Applied("".join(pieces), applied, skipped)


class _TakenEdits:
    """The edits of the fixes taken so far, sorted by position for the overlap checks."""

    def __init__(self) -> None:
        self._order: list[tuple[int, int, str]] = []  # as taken
        self._sorted: list[tuple[int, int, str]] = []  # by position
        self._replacements: list[tuple[int, int, str]] = []  # the non-empty ones, by position
        self._known: set[tuple[int, int, str]] = set()

    def add(self, item: tuple[int, int, str]) -> None:
        if item not in self._known:
            self._known.add(item)
            self._order.append(item)
            bisect.insort(self._sorted, item)
            if item[0] < item[1]:
                bisect.insort(self._replacements, item)

    def conflicts(self, item: tuple[int, int, str]) -> bool:
        start, end, _ = item
        edits = self._sorted
        # Edits starting inside `item`, or at its start.
        for position in range(bisect.bisect_left(edits, (start,)), len(edits)):
            other = edits[position]
            if other[0] >= end and other[0] != start:
                break
            if _conflicts(item, other):
                return True
        # Edits starting before it: only the nearest non-empty one can reach into it
        # (the edits of different fixes never overlap one another).
        before = bisect.bisect_left(self._replacements, (start,)) - 1
        return before >= 0 and _conflicts(item, self._replacements[before])

    def in_text_order(self) -> list[tuple[int, int, str]]:
        taken_at = {item: number for number, item in enumerate(self._order)}
        return sorted(self._order, key=lambda item: (item[0], item[1], taken_at[item]))


def _conflicts(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    if a == b:
        # The same insertion (an import two fixes need) goes in once.  The same
        # replacement from two fixes does not: each counted on the other's text
        # being there (two re-indentations of one line must not collapse into one).
        return a[0] < a[1]
    (a_start, a_end, _), (b_start, b_end, _) = a, b
    if a_start == a_end == b_start == b_end:
        return False  # two insertions at one point: both go in, in order
    return a_start < b_end and b_start < a_end or (a_start == b_start and (a_start == a_end or b_start == b_end))


def unified_diff(path: str, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{path}",
            tofile=f"b/{path}",
        )
    )

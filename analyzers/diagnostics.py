"""The data every part of asyncsense speaks: positions, diagnostics, fixes.

Positions are 1-based lines and 0-based columns counted in *characters*
(Unicode code points) of the decoded source.  Python's ``ast`` counts UTF-8
bytes and LSP clients count UTF-16 code units or bytes; those conversions
happen at the edges (``analyzers.parsing.LineIndex`` and the server), never
inside the rules.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, order=True)
class Position:
    line: int  # 1-based
    column: int  # 0-based, in characters


@dataclass(frozen=True, order=True)
class Span:
    start: Position
    end: Position

    @classmethod
    def of(cls, line: int, col: int, end_line: int, end_col: int) -> Span:
        return cls(Position(line, col), Position(end_line, end_col))

    def contains(self, other: Span) -> bool:
        return self.start <= other.start and other.end <= self.end


class Applicability(str, enum.Enum):
    """How much a user must review a fix before accepting it (as in ruff)."""

    SAFE = "safe"  # behaviour kept, only the bug removed
    UNSAFE = "unsafe"  # changes behaviour in a way the user must review


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"
    HINT = "hint"


@dataclass(frozen=True)
class Edit:
    """Replace the text in ``span`` by ``new_text`` (an insertion when empty)."""

    span: Span
    new_text: str


@dataclass(frozen=True)
class Fix:
    title: str
    applicability: Applicability
    edits: tuple[Edit, ...]

    @property
    def is_safe(self) -> bool:
        return self.applicability is Applicability.SAFE


@dataclass(frozen=True)
class Related:
    """Another place that explains a diagnostic: the real blocking call inside a helper."""

    path: str
    span: Span
    message: str


@dataclass
class Diagnostic:
    rule: str  # stable name, e.g. "blocking-call"
    code: str  # short code, e.g. "ASN001"
    message: str
    path: str
    span: Span
    severity: Severity = Severity.WARNING
    related: list[Related] = field(default_factory=list)
    # Fixes in order of preference; the first one is "the" fix of the diagnostic.
    fixes: list[Fix] = field(default_factory=list)
    # In a notebook: the 1-based number of the cell (among all cells) the span starts in;
    # the span itself is in the coordinates of the code cells joined (notebooks.py maps it).
    cell: int | None = None

    @property
    def fix(self) -> Fix | None:
        return self.fixes[0] if self.fixes else None

    def sort_key(self) -> tuple:
        return (self.path, self.span.start, self.code, self.message)

    def to_json(self) -> dict[str, Any]:
        """The CLI's JSON object (1-based columns, like ruff)."""
        found: dict[str, Any] = {
            "rule": self.rule,
            "code": self.code,
            "message": self.message,
            "severity": self.severity.value,
            "filename": self.path,
            "location": _json_position(self.span.start),
            "end_location": _json_position(self.span.end),
            "fix": _fix_to_json(self.fix),
            "alternative_fixes": [_fix_to_json(f) for f in self.fixes[1:]],
            "related": [
                {
                    "filename": r.path,
                    "location": _json_position(r.span.start),
                    "end_location": _json_position(r.span.end),
                    "message": r.message,
                }
                for r in self.related
            ],
        }
        if self.cell is not None:
            found["cell"] = self.cell
        return found


def _json_position(pos: Position) -> dict[str, int]:
    return {"row": pos.line, "column": pos.column + 1}


def _fix_to_json(fix: Fix | None) -> dict[str, Any] | None:
    if fix is None:
        return None
    return {
        "title": fix.title,
        "applicability": fix.applicability.value,
        "edits": [
            {
                "location": _json_position(e.span.start),
                "end_location": _json_position(e.span.end),
                "content": e.new_text,
            }
            for e in fix.edits
        ],
    }


def replace(diagnostic: Diagnostic, **changes: Any) -> Diagnostic:
    return dataclasses.replace(diagnostic, **changes)

"""Printing diagnostics: text, JSON, SARIF 2.1.0 and GitHub Actions annotations.

Columns are printed 1-based everywhere (as ruff and editors show them); the
data model's columns are 0-based characters.
"""

from __future__ import annotations

import bisect
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .diagnostics import Diagnostic, Position, Severity, Span

OUTPUT_FORMATS = ("text", "json", "sarif", "github")
DOCS_URL = "https://github.com/asyncsense/asyncsense/blob/main/docs/rules/{rule}.md"
TOOL_URL = "https://github.com/asyncsense/asyncsense"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def rule_url(rule: str) -> str:
    return DOCS_URL.format(rule=rule)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


def display_path(path: str | os.PathLike[str], cwd: Path | None = None) -> str:
    """`path` relative to the working directory when it is below it, else as given."""
    text = os.fspath(path)
    if os.path.isabs(text):
        base = os.fspath(cwd) if cwd is not None else os.getcwd()
        prefix = base if base.endswith(os.sep) else base + os.sep
        if text.startswith(prefix):
            return text[len(prefix) :].replace(os.sep, "/")
    return text


class CellMap:
    """Where the code cells of a notebook start in the text the engine analysed.

    `starts` holds (first line of the cell in that text, cell number), the cell
    number counting every cell of the notebook from 1.
    """

    def __init__(self, starts: Sequence[tuple[int, int]]) -> None:
        self.starts = sorted(starts)
        self._lines = [line for line, _ in self.starts]

    def locate(self, line: int) -> tuple[int, int]:
        """(cell number, line within the cell) of a line of the analysed text."""
        i = bisect.bisect_right(self._lines, line) - 1
        if i < 0:
            return (self.starts[0][1] if self.starts else 1), line
        first, cell = self.starts[i]
        return cell, line - first + 1


Notebooks = Mapping[str, CellMap]


def _locate(path: str, position: Position, notebooks: Notebooks | None) -> tuple[int | None, int, int]:
    """(cell or None, 1-based line, 1-based column) as shown to users."""
    cells = notebooks.get(path) if notebooks else None
    if cells is None:
        return None, position.line, position.column + 1
    cell, line = cells.locate(position.line)
    return cell, line, position.column + 1


def _where(path: str, position: Position, notebooks: Notebooks | None, cwd: Path | None) -> str:
    cell, line, column = _locate(path, position, notebooks)
    shown = display_path(path, cwd)
    return f"{shown}:{line}:{column}" if cell is None else f"{shown}:cell {cell}:{line}:{column}"


# ---------------------------------------------------------------------------
# text


def format_text(diagnostics: Sequence[Diagnostic], *, cwd: Path | None = None, notebooks: Notebooks | None = None) -> str:
    """`path:line:col: CODE [rule] message`, related places indented below.

    In a notebook the place reads `path:cell N:line:col`."""
    lines: list[str] = []
    for d in diagnostics:
        lines.append(f"{_where(d.path, d.span.start, notebooks, cwd)}: {d.code} [{d.rule}] {d.message}")
        for related in d.related:
            lines.append(f"    {_where(related.path, related.span.start, notebooks, cwd)}: {related.message}")
    return "".join(line + "\n" for line in lines)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def summary(
    total: int, fixable: int = 0, hidden_unsafe: int = 0, *, fixed: int | None = None, unchecked: int = 0
) -> str:
    """The closing line(s) of the text format.

    `fixed` is given after --fix; `unchecked` counts the files that could not
    be read or decoded (their errors are printed on stderr)."""
    if total == 0 and not fixed:
        if unchecked:
            return f"No problems found, but {_plural(unchecked, 'file')} could not be checked (see the errors).\n"
        return "All checks passed!\n"
    if fixed is not None:
        text = f"Found {_plural(total + fixed, 'problem')} ({fixed} fixed, {total} remaining)."
    else:
        text = f"Found {_plural(total, 'problem')}"
        if fixable:
            text += f" ({fixable} fixable with --fix)"
    text += "\n"
    if unchecked:
        text += f"{_plural(unchecked, 'file')} could not be checked (see the errors).\n"
    if hidden_unsafe:
        noun = "fix" if hidden_unsafe == 1 else "fixes"
        text += f"{hidden_unsafe} hidden {noun} can be enabled with --unsafe-fixes.\n"
    return text


# ---------------------------------------------------------------------------
# json


def format_json(diagnostics: Sequence[Diagnostic], *, notebooks: Notebooks | None = None) -> str:
    """A list of `Diagnostic.to_json()` objects; in notebooks rows count within the cell named by `cell`."""
    items = []
    for d in diagnostics:
        item = d.to_json()
        if notebooks and d.path in notebooks:
            _json_cells(item, d.path, notebooks[d.path])
        items.append(item)
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


def _json_cells(item: dict[str, Any], path: str, cells: CellMap) -> None:
    def move(location: dict[str, int]) -> int:
        cell, location["row"] = cells.locate(location["row"])
        return cell

    item["cell"] = move(item["location"])
    move(item["end_location"])
    for fix in [item.get("fix"), *item.get("alternative_fixes", [])]:
        for edit in (fix or {}).get("edits", []):
            move(edit["location"])
            move(edit["end_location"])
    for related in item.get("related", []):
        if related.get("filename") == path:
            related["cell"] = move(related["location"])
            move(related["end_location"])


# ---------------------------------------------------------------------------
# statistics


def statistics(diagnostics: Sequence[Diagnostic], *, unsafe_fixes: bool = False) -> list[dict[str, Any]]:
    """Count per rule, most frequent first (as `ruff --statistics`)."""
    counts: Counter[tuple[str, str]] = Counter((d.code, d.rule) for d in diagnostics)
    fixable: set[tuple[str, str]] = {
        (d.code, d.rule) for d in diagnostics if d.fix is not None and (unsafe_fixes or d.fix.is_safe)
    }
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0][0]))
    return [{"code": code, "name": rule, "count": count, "fixable": (code, rule) in fixable} for (code, rule), count in rows]


def format_statistics(rows: Sequence[dict[str, Any]], output_format: str = "text") -> str:
    if output_format == "json":
        return json.dumps(list(rows), indent=2) + "\n"
    if not rows:
        return ""
    count_width = max(len(str(r["count"])) for r in rows)
    code_width = max(len(r["code"]) for r in rows)
    any_fixable = any(r["fixable"] for r in rows)
    out = []
    for r in rows:
        marker = ("[*] " if r["fixable"] else "[ ] ") if any_fixable else ""
        out.append(f"{r['count']:>{count_width}}\t{r['code']:<{code_width}}\t{marker}{r['name']}\n")
    return "".join(out)


# ---------------------------------------------------------------------------
# GitHub Actions workflow commands


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


_GITHUB_LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFORMATION: "notice",
    Severity.HINT: "notice",
}


def format_github(diagnostics: Sequence[Diagnostic], *, cwd: Path | None = None, notebooks: Notebooks | None = None) -> str:
    """`::warning file=...,line=...,col=...,endLine=...,endColumn=...,title=asyncsense (CODE)::message`."""
    out: list[str] = []
    for d in diagnostics:
        cell, line, column = _locate(d.path, d.span.start, notebooks)
        _, end_line, end_column = _locate(d.path, d.span.end, notebooks)
        props = {
            "file": display_path(d.path, cwd),
            "line": str(line),
            "col": str(column),
            "endLine": str(end_line),
            "endColumn": str(end_column),
            "title": f"asyncsense ({d.code})",
        }
        message = d.message if cell is None else f"cell {cell}: {d.message}"
        for related in d.related:
            message += f"\n{_where(related.path, related.span.start, notebooks, cwd)}: {related.message}"
        rendered = ",".join(f"{key}={_escape_property(value)}" for key, value in props.items())
        out.append(f"::{_GITHUB_LEVEL.get(d.severity, 'warning')} {rendered}::{_escape_data(message)}\n")
    return "".join(out)


# ---------------------------------------------------------------------------
# SARIF 2.1.0


_SARIF_LEVEL = {
    Severity.ERROR: "error",
    Severity.WARNING: "warning",
    Severity.INFORMATION: "note",
    Severity.HINT: "note",
}


def _artifact(path: str, root: Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_absolute():
        p = Path.cwd() / p
    try:
        relative = p.absolute().relative_to(root)
    except ValueError:
        return {"uri": p.absolute().as_uri()}
    return {"uri": quote(relative.as_posix()), "uriBaseId": "%SRCROOT%"}


def _region(span: Span, path: str = "", notebooks: Notebooks | None = None) -> dict[str, int]:
    # SARIF columns are 1-based and the end column is the one after the region.
    _, line, column = _locate(path, span.start, notebooks)
    _, end_line, end_column = _locate(path, span.end, notebooks)
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


def format_sarif(
    diagnostics: Sequence[Diagnostic],
    rules: Sequence[Any],
    *,
    root: Path,
    version: str,
    errors: Sequence[tuple[str, str]] = (),
    notebooks: Notebooks | None = None,
) -> str:
    """A SARIF 2.1.0 log for GitHub code scanning.

    `rules` are the rule objects (name, code, summary, default_severity);
    `errors` are (path, message) pairs for files that could not be analysed,
    reported as tool execution notifications.
    """
    root = root.absolute()
    rule_list = list(rules)
    known = {r.code for r in rule_list}
    for d in diagnostics:  # a rule the table does not know still needs a descriptor
        if d.code not in known:
            known.add(d.code)
            rule_list.append(_AdHocRule(d.rule, d.code))
    index = {r.code: i for i, r in enumerate(rule_list)}

    sarif_rules = []
    for r in rule_list:
        summary_text = getattr(r, "summary", "") or r.name
        level = _SARIF_LEVEL.get(getattr(r, "default_severity", Severity.WARNING), "warning")
        sarif_rules.append(
            {
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": summary_text},
                "fullDescription": {"text": summary_text},
                "help": {"text": f"{summary_text} See {rule_url(r.name)}"},
                "helpUri": rule_url(r.name),
                "defaultConfiguration": {"level": level},
                "properties": {"tags": ["asyncio"]},
            }
        )

    results = []
    for d in diagnostics:
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index[d.code],
            "level": _SARIF_LEVEL.get(d.severity, "warning"),
            "message": {"text": d.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact(d.path, root),
                        "region": _region(d.span, d.path, notebooks),
                    }
                }
            ],
        }
        if d.related:
            result["relatedLocations"] = [
                {
                    "id": i,
                    "message": {"text": related.message},
                    "physicalLocation": {
                        "artifactLocation": _artifact(related.path, root),
                        "region": _region(related.span, related.path, notebooks),
                    },
                }
                for i, related in enumerate(d.related)
            ]
        if d.fixes:
            result["fixes"] = [
                {
                    "description": {"text": fix.title},
                    "artifactChanges": [
                        {
                            "artifactLocation": _artifact(d.path, root),
                            "replacements": [
                                {"deletedRegion": _region(edit.span, d.path, notebooks), "insertedContent": {"text": edit.new_text}}
                                for edit in fix.edits
                            ],
                        }
                    ],
                }
                for fix in d.fixes
            ]
        cell = _locate(d.path, d.span.start, notebooks)[0]
        if cell is not None:
            result["message"]["text"] = f"cell {cell}: {d.message}"
            result["properties"] = {"cell": cell}
        results.append(result)

    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "asyncsense",
                "version": version,
                "semanticVersion": version,
                "informationUri": TOOL_URL,
                "rules": sarif_rules,
            }
        },
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri().rstrip("/") + "/"}},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "invocations": [
            {
                "executionSuccessful": not errors,
                "toolExecutionNotifications": [
                    {
                        "level": "error",
                        "message": {"text": message},
                        "locations": [{"physicalLocation": {"artifactLocation": _artifact(path, root)}}],
                    }
                    for path, message in errors
                ],
            }
        ],
    }
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


class _AdHocRule:
    def __init__(self, name: str, code: str) -> None:
        self.name = name
        self.code = code
        self.summary = name
        self.default_severity = Severity.WARNING

"""Shared machinery of the robustness tests: budgets, corpora and the invariants.

The invariants every input must keep, whatever it is:

* no exception escapes the engine;
* every diagnostic (its span, its related places in the same file, its fix
  edits) lies inside the file;
* every fix applies on its own, its edits do not overlap, and when the input
  parsed the fixed text parses too (each fix alone and all first fixes together).

Budgets: the default run is sized for ~90 s on two cores.  ``ASYNCSENSE_LONG_FUZZ=1``
(or ``pytest tests/robustness --hypothesis-profile=long``) multiplies every
budget for a longer campaign (and truncates at every line);
``ASYNCSENSE_FUZZ_FACTOR=N`` multiplies the hypothesis searches' budgets by N; docs/robustness.md records the numbers of the
campaigns run so far.
"""

from __future__ import annotations

import os
import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings

from asyncsense.analyzers.diagnostics import Diagnostic, Span
from asyncsense.analyzers.fixes import apply_fixes
from asyncsense.analyzers.parsing import LineIndex, parse_quietly, split_lines
from asyncsense.analyzers.project import FileResult, Project

REPO = Path(__file__).resolve().parents[2]
SEED = REPO.parent / "shared" / "seed" / "asyncio-pitfalls.md"
LONG_FACTOR = 40

settings.register_profile("long", deadline=None, suppress_health_check=list(HealthCheck))


def long_campaign() -> bool:
    return os.environ.get("ASYNCSENSE_LONG_FUZZ") == "1" or settings.get_current_profile_name() == "long"


def fuzz_factor() -> int:
    """How many times the default budget: ``ASYNCSENSE_FUZZ_FACTOR=N`` (a campaign of a
    chosen size, the searches only), else ``LONG_FACTOR`` in a long campaign, else 1."""
    chosen = os.environ.get("ASYNCSENSE_FUZZ_FACTOR", "")
    if chosen.isdigit() and int(chosen) >= 1:
        return int(chosen)
    return LONG_FACTOR if long_campaign() else 1


def budget(examples: int) -> int:
    """``examples`` in the default run, ``fuzz_factor()`` times more in a longer campaign."""
    return examples * fuzz_factor()


def fuzz(examples: int, **extra) -> settings:
    """Hypothesis settings for a search: no deadline (the first jedi call is slow), all
    health checks off (big generated inputs are the point), examples scaled by ``budget``."""
    return settings(
        max_examples=budget(examples),
        deadline=None,
        suppress_health_check=list(HealthCheck),
        **extra,
    )


# -- tally: what the searches tried, printed at the end of the run -------------------

TALLY: Counter[str] = Counter()


# -- corpora --------------------------------------------------------------------------

_CODE_BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def markdown_blocks(path: Path) -> list[str]:
    return [textwrap.dedent(block) for block in _CODE_BLOCK.findall(path.read_text(encoding="utf-8"))]


def corpus() -> list[tuple[str, str]]:
    """(name, source) of every fixture, example and seed snippet: the inputs to mutate."""
    found: list[tuple[str, str]] = []
    markdown = [SEED] if SEED.is_file() else []
    markdown += sorted((REPO / "tests" / "fixtures").rglob("*.md"))
    for path in markdown:
        for number, block in enumerate(markdown_blocks(path), start=1):
            found.append((f"{path.name}#{number}", block))
    for folder in (REPO / "tests" / "fixtures", REPO / "docs" / "example"):
        for path in sorted(folder.rglob("*.py")):
            found.append((str(path.relative_to(REPO)), path.read_text(encoding="utf-8", errors="replace")))
    return found


def own_sources() -> list[tuple[str, str]]:
    """asyncsense's own modules: large, real, varied Python."""
    return [
        (str(path.relative_to(REPO)), path.read_text(encoding="utf-8"))
        for folder in ("analyzers", "cli", "server")
        for path in sorted((REPO / folder).rglob("*.py"))
    ]


# -- the invariants -------------------------------------------------------------------


def parses(text: str) -> bool:
    """Whether the running Python accepts ``text`` (line endings normalised as the engine does)."""
    try:
        parse_quietly("\n".join(split_lines(text)))  # ast.parse without the warnings about the text
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def span_problem(span: Span, lines: list[str]) -> str | None:
    """Why ``span`` does not lie inside a file of ``lines`` (None: it does)."""
    for name, position in (("start", span.start), ("end", span.end)):
        if not 1 <= position.line <= len(lines):
            return f"{name} line {position.line} outside 1..{len(lines)}"
        if not 0 <= position.column <= len(lines[position.line - 1]):
            return f"{name} column {position.column} outside 0..{len(lines[position.line - 1])} of line {position.line}"
    if span.end < span.start:
        return "ends before it starts"
    return None


def _edits_overlap(ranges: list[tuple[int, int]]) -> bool:
    ordered = sorted(ranges)
    return any(b_start < a_end for (_, a_end), (b_start, _) in zip(ordered, ordered[1:]))


@dataclass
class Checked:
    result: FileResult
    parsed: bool
    fixes_tried: int


def check_invariants(project: Project, path: Path, text: str, *, label: str = "") -> Checked:
    """Analyse ``text`` as the editor buffer of ``path`` and assert every invariant."""
    project.set_source(path, text)
    [result] = project.check([path])
    TALLY["inputs analysed"] += 1
    where = f"{label}: " if label else ""
    assert_diagnostics_inside(result.diagnostics, path, text, where)
    parsed = parses(text)
    fixes_tried = assert_fixes_apply(result.diagnostics, text, parsed, where)
    return Checked(result, parsed, fixes_tried)


def assert_diagnostics_inside(diagnostics: list[Diagnostic], path: Path, text: str, where: str = "") -> None:
    lines = split_lines(text)
    same_file = {str(path), str(path.resolve())}
    for diagnostic in diagnostics:
        problem = span_problem(diagnostic.span, lines)
        assert problem is None, f"{where}{diagnostic.code} {diagnostic.message!r}: span {problem}"
        for related in diagnostic.related:
            if related.path in same_file:
                problem = span_problem(related.span, lines)
                assert problem is None, f"{where}{diagnostic.code} related {related.message!r}: span {problem}"
        for fix in diagnostic.fixes:
            for edit in fix.edits:
                problem = span_problem(edit.span, lines)
                assert problem is None, f"{where}{diagnostic.code} fix {fix.title!r}: edit {problem}"


# Fixes applied one by one per input (spread evenly over the file): a 50,000-line
# input has 20,000 fixes, and each check re-parses the whole file; a big file gets
# fewer, so that these re-parses stay around 2 MB of text per input.
MAX_FIXES_ALONE = 40
REPARSE_BUDGET = 2_000_000


def assert_fixes_apply(diagnostics: list[Diagnostic], text: str, parsed: bool, where: str = "") -> int:
    """Some fixes alone (see MAX_FIXES_ALONE), then every diagnostic's first fix together;
    returns the fixes tried alone."""
    tried = 0
    every = [(diagnostic, fix) for diagnostic in diagnostics for fix in diagnostic.fixes]
    alone = max(3, min(MAX_FIXES_ALONE, REPARSE_BUDGET // max(len(text), 1)))
    step = max(1, len(every) // alone)
    index = LineIndex(text)
    for diagnostic, fix in every[::step]:
        tried += 1
        TALLY["fixes applied alone"] += 1
        replaced = [
            (index.offset(e.span.start.line, e.span.start.column), index.offset(e.span.end.line, e.span.end.column))
            for e in fix.edits
            if e.span.start != e.span.end
        ]
        assert not _edits_overlap(sorted(set(replaced))), (
            f"{where}{diagnostic.code} fix {fix.title!r}: its own edits overlap: {fix.edits}"
        )
        applied = apply_fixes(text, [fix])
        assert (applied.applied, applied.skipped) == (1, 0), (
            f"{where}{diagnostic.code} fix {fix.title!r} did not apply on its own: {applied}"
        )
        if parsed:
            assert parses(applied.text), (
                f"{where}{diagnostic.code} fix {fix.title!r} broke the file:\n{_excerpt(applied.text, fix)}"
            )
    firsts = [d.fix for d in diagnostics if d.fix is not None]
    if firsts:
        together = apply_fixes(text, firsts)
        assert together.applied + together.skipped == len(firsts)
        if parsed:
            assert parses(together.text), f"{where}the fixes applied together broke the file:\n{together.text[:5000]}"
    return tried


def _excerpt(text: str, fix) -> str:
    lines = split_lines(text)
    first = max(min(e.span.start.line for e in fix.edits) - 3, 0)
    last = max(e.span.end.line for e in fix.edits) + 5
    return "\n".join(f"{n + 1:5d} {line}" for n, line in enumerate(lines[first:last], start=first))

"""``apply_fixes`` against a plain reference, on random texts and random fixes.

``apply_fixes`` sorts the edits taken to check overlaps and joins the text once,
so that a file with thousands of fixes stays linear.  The reference below is the
obvious quadratic version (compare with every edit taken, splice back to front);
both must agree on every input, and big inputs must stay fast.
"""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from asyncsense.analyzers.diagnostics import Applicability, Edit, Fix, Position, Span
from asyncsense.analyzers.fixes import apply_fixes
from asyncsense.analyzers.parsing import LineIndex

from ._support import TALLY, fuzz


def reference_apply(text: str, fixes: list[Fix]) -> tuple[str, int, int]:
    index = LineIndex(text)
    taken: list[tuple[int, int, str]] = []
    applied = skipped = 0
    for fix in fixes:
        ranges = [
            (
                index.offset(e.span.start.line, e.span.start.column),
                index.offset(e.span.end.line, e.span.end.column),
                e.new_text,
            )
            for e in fix.edits
        ]
        if any(_conflicts(r, t) for r in ranges for t in taken):
            skipped += 1
            continue
        for item in ranges:
            if item not in taken:
                taken.append(item)
        applied += 1
    result = text
    ordered = sorted(enumerate(taken), key=lambda item: (item[1][0], item[1][1], item[0]), reverse=True)
    for _, (start, end, new_text) in ordered:
        result = result[:start] + new_text + result[end:]
    return result, applied, skipped


def _conflicts(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    if a == b:
        return a[0] < a[1]  # one insertion twice goes in once; one replacement twice conflicts
    (a_start, a_end, _), (b_start, b_end, _) = a, b
    if a_start == a_end == b_start == b_end:
        return False
    return a_start < b_end and b_start < a_end or (a_start == b_start and (a_start == a_end or b_start == b_end))


@st.composite
def texts_and_fixes(draw) -> tuple[str, list[Fix]]:
    lines = draw(st.lists(st.text(alphabet="ab \t", max_size=8), min_size=1, max_size=6))
    text = draw(st.sampled_from(["\n", "\r\n", "\r"])).join(lines)

    def position() -> Position:
        line = draw(st.integers(1, len(lines)))
        return Position(line, draw(st.integers(0, len(lines[line - 1]))))

    fixes = []
    for _ in range(draw(st.integers(0, 8))):
        edits = []
        # A fix's own edits never overlap (the invariant tests check that of every rule),
        # so the reference and the fast version may differ only for broken fixes.
        for _ in range(draw(st.integers(1, 3))):
            first, second = sorted([position(), position()])
            if draw(st.booleans()):
                second = first  # an insertion
            edits.append(Edit(Span(first, second), draw(st.sampled_from(["", "X", "import asyncio\n", "await "]))))
        spans = sorted((e.span.start, e.span.end) for e in edits)
        if any(b_start < a_end or (b_start == a_start) for (a_start, a_end), (b_start, _) in zip(spans, spans[1:])):
            edits = edits[:1]
        fixes.append(Fix("fix", Applicability.SAFE, tuple(edits)))
    # The same fix twice, as two diagnostics' shared `import asyncio` would be (its
    # insertions go in once; with a replacement in it, the second is skipped).
    if fixes and draw(st.booleans()):
        fixes.append(draw(st.sampled_from(fixes)))
    return text, fixes


@fuzz(500)
@given(case=texts_and_fixes())
def test_apply_fixes_agrees_with_the_reference(case: tuple[str, list[Fix]]) -> None:
    text, fixes = case
    applied = apply_fixes(text, fixes)
    assert (applied.text, applied.applied, applied.skipped) == reference_apply(text, fixes)
    TALLY["fix sets compared with the reference"] += 1


def test_twenty_thousand_fixes_apply_in_linear_time() -> None:
    """One fix per line of a 20,000-line file (the 50,000-line inputs have that many)."""
    lines = [f"    time.sleep({n})" for n in range(20_000)]
    text = "\n".join(lines) + "\n"
    fixes = [
        Fix("await", Applicability.SAFE, (
            Edit(Span(Position(n + 1, 4), Position(n + 1, 4)), "await "),
            Edit(Span(Position(1, 0), Position(1, 0)), "import asyncio\n"),
        ))
        for n in range(len(lines))
    ]
    started = time.perf_counter()
    applied = apply_fixes(text, fixes)
    elapsed = time.perf_counter() - started
    assert applied.applied == 20_000 and applied.text.count("import asyncio\n") == 1
    assert applied.text.count("await time.sleep(") == 20_000
    assert elapsed < 5, f"applying 20,000 fixes took {elapsed:.1f} s (quadratic?)"

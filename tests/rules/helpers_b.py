"""Shared helpers of the tests of nested-asyncio-run, loop-starvation,
unclosed-async-resource and notebooks (fixtures under tests/fixtures/rules_b).

Fixture files mark the lines that must carry a diagnostic with
``# expect: ASN00N``; ``expected_lines`` reads the marks, ``flagged_lines``
what the engine reports, and the tests compare the two.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from asyncsense.analyzers.diagnostics import Diagnostic
from asyncsense.analyzers.fixes import apply_fixes
from asyncsense.analyzers.project import Project

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules_b"
SEED = FIXTURES / "seed" / "asyncio-pitfalls.md"
MY_CODES = ("ASN005", "ASN006", "ASN007")
_EXPECT = re.compile(r"#\s*expect:\s*((?:ASN\d{3}[,\s]*)+)$")


def copy_fixture(name: str, tmp_path: Path) -> Path:
    """A private copy of a fixture project (fixes write to it; the engine caches nothing stale)."""
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def check_file(root: Path, path: Path, project: Project | None = None) -> list[Diagnostic]:
    project = project or Project(root)
    [result] = project.check([path])
    assert not result.errors, result.errors
    return result.diagnostics


def of_code(diagnostics: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == code]


def expected_lines(path: Path, code: str) -> set[int]:
    lines = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _EXPECT.search(line)
        if match and code in match.group(1):
            lines.add(number)
    return lines


def flagged_lines(diagnostics: list[Diagnostic], code: str) -> set[int]:
    return {d.span.start.line for d in diagnostics if d.code == code}


def write_module(tmp_path: Path, source: str, name: str = "snippet.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def fixed_text(path: Path, code: str, root: Path | None = None) -> tuple[str, list[Diagnostic]]:
    """The module's text after applying the first fix of every diagnostic of ``code``."""
    diagnostics = of_code(check_file(root or path.parent, path), code)
    fixes = [d.fix for d in diagnostics if d.fix is not None]
    applied = apply_fixes(read_exactly(path), fixes)
    assert applied.skipped == 0, "fixes of one round overlap"
    return applied.text, diagnostics


def read_exactly(path: Path) -> str:
    """The text with its own line endings (``read_text`` would turn ``\\r\\n`` into ``\\n``)."""
    return path.read_bytes().decode("utf-8")


# -- notebooks --------------------------------------------------------------------


def notebook_json(cells: list[tuple[str, str]]) -> str:
    """An nbformat 4 notebook: cells as (kind, source), kind "code" | "markdown" | "raw"."""
    return json.dumps(
        {
            "cells": [
                {
                    "cell_type": kind,
                    "metadata": {},
                    "source": textwrap.dedent(source).splitlines(keepends=True),
                    **({"execution_count": None, "outputs": []} if kind == "code" else {}),
                }
                for kind, source in cells
            ],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        },
        indent=1,
    )


# -- the seed document ------------------------------------------------------------


@dataclass
class SeedExample:
    section: str
    verdict: str  # "wrong" | "right" | "other" (code without a verdict comment)
    code: str


def seed_examples() -> list[SeedExample]:
    """The Python examples of the pitfalls document, by section, verbatim."""
    examples = []
    section = ""
    text = SEED.read_text(encoding="utf-8")
    for match in re.finditer(r"^## ([^\n]+)$|^```python\n(.*?)^```", text, re.M | re.S):
        if match.group(1):
            section = match.group(1).strip()
            continue
        code = match.group(2)
        first = code.lstrip().splitlines()[0].lower()
        verdict = "wrong" if first.startswith("# wrong") else "right" if first.startswith("# right") else "other"
        examples.append(SeedExample(section, verdict, code))
    return examples


# -- the fix property ---------------------------------------------------------------


def message_counts(diagnostics: list[Diagnostic]) -> Counter[tuple[str, str]]:
    """Diagnostics as (code, message): fixes move lines, messages name no line."""
    return Counter((d.code, d.message) for d in diagnostics)


def assert_fixes_settle(root: Path, path: Path, codes: tuple[str, ...] = MY_CODES) -> int:
    """Apply every fix of ``codes`` once, then check what the brief asks of fixes.

    The fixed file parses; each fixed diagnostic is gone; nothing new appears
    (of any rule); a second round of fixes changes nothing.  Returns the
    number of fixes applied, so callers can insist there were some.
    """
    before = check_file(root, path)
    mine = [d for d in before if d.code in codes]
    fixes = [d.fix for d in mine if d.fix is not None]
    original = read_exactly(path)
    applied = apply_fixes(original, fixes)
    assert applied.skipped == 0, "fixes of one round overlap"
    assert applied.applied == len(fixes)
    ast.parse(applied.text)  # still Python
    path.write_bytes(applied.text.encode("utf-8"))

    after = check_file(root, path, Project(root))
    unfixed = message_counts([d for d in before if d.code not in codes or d.fix is None])
    new = message_counts(after) - unfixed
    assert not new, f"new or remaining diagnostics after the fixes: {sorted(new)}\n---\n{applied.text}"

    again = [d.fix for d in after if d.code in codes and d.fix is not None]
    assert apply_fixes(applied.text, again).text == applied.text, "a second round of fixes changed the file"
    return len(fixes)


# -- docs --------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text)


def assert_docs_match(module) -> None:
    """docs/rules/<name>.md says what the rule module's docstring says (markup aside)."""
    rule = module.RULE
    page = Path(__file__).resolve().parents[2] / "docs" / "rules" / f"{rule.name}.md"
    text = page.read_text(encoding="utf-8")
    assert text.startswith(f"# {rule.name} ({rule.code})\n")
    for section in ("What it finds", "Why it is bad", "Example", "Fix", "Not caught yet"):
        assert f"\n## {section}\n" in text, section
    assert _words(text) == _words(module.__doc__)

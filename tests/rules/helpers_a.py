"""Shared helpers of the tests of unawaited-coroutine, dangling-task and
gather-lost-exceptions (fixtures under tests/fixtures/rules_a).

Fixture files mark the lines that must carry a diagnostic with
``# expect: ASN00N`` (``# expect-jedi:`` found only with jedi,
``# expect-strict:`` only with ``strict_gather``); ``expected`` reads the
marks, ``found`` what the engine reports, and the tests compare the two.
``modules()`` is a hypothesis strategy of whole modules built from positive
and negative statement templates, for the fix properties.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from hypothesis import strategies as st

from asyncsense.analyzers.config import Config
from asyncsense.analyzers.diagnostics import Diagnostic, Fix
from asyncsense.analyzers.fixes import apply_fixes
from asyncsense.analyzers.project import Project

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules_a"
SHOP = FIXTURES / "shop"
SEED = FIXTURES / "seed" / "asyncio-pitfalls.md"
CODES = ("ASN002", "ASN003", "ASN004")
_EXPECT = re.compile(r"#\s*expect(?:-(?P<variant>[\w-]+))?:\s*(?P<codes>(?:ASN\d{3}\s*)+)")

# The seed's examples call functions they never define: stubs go above each one.
SEED_STUBS = '''\
import asyncio


async def fetch(url):
    return url


async def send_email(address):
    return address


async def task_that_raises_connection_error():
    raise ConnectionError


async def task_that_raises_value_error():
    raise ValueError


def blocking_function():
    return None


def expensive_transform(item):
    return item

'''


# -- markers and results ----------------------------------------------------------


def expected(path: Path, code: str, variants: frozenset[str] = frozenset()) -> Counter[int]:
    """Lines marked for ``code`` (plain marks, plus marks of the given variants)."""
    lines: Counter[int] = Counter()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for match in _EXPECT.finditer(line):
            variant = match.group("variant")
            if variant is None or variant in variants:
                lines[number] += match.group("codes").split().count(code)
    return +lines


def found(diagnostics: list[Diagnostic], code: str) -> Counter[int]:
    return Counter(d.span.start.line for d in diagnostics if d.code == code)


def of_code(diagnostics: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in diagnostics if d.code == code]


def shop_files() -> list[Path]:
    return sorted(SHOP.glob("*.py"))


def copy_fixture(tmp_path: Path) -> Path:
    """A private copy of the fixture project (fixes write to it)."""
    target = tmp_path / "rules_a"
    shutil.copytree(FIXTURES, target)
    return target


def check_path(root: Path, path: Path, config: Config | None = None, use_jedi: bool = False) -> list[Diagnostic]:
    [result] = Project(root, config, use_jedi=use_jedi).check([path])
    assert not result.errors, result.errors
    return result.diagnostics


def check_source(
    tmp_path: Path, source: str, config: Config | None = None, use_jedi: bool = False, name: str = "snippet.py"
) -> tuple[Path, list[Diagnostic]]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path, check_path(tmp_path, path, config, use_jedi)


# -- fixes --------------------------------------------------------------------------

Pick = Callable[[Diagnostic], "Fix | None"]


def first_fix(diagnostic: Diagnostic) -> Fix | None:
    return diagnostic.fix


def last_fix(diagnostic: Diagnostic) -> Fix | None:
    """The alternative fix where there is one (TaskGroup for gather)."""
    return diagnostic.fixes[-1] if diagnostic.fixes else None


def fixed(text: str, diagnostics: list[Diagnostic], pick: Pick = first_fix) -> str:
    fixes = [f for f in map(pick, diagnostics) if f is not None]
    applied = apply_fixes(text, fixes)
    assert applied.skipped == 0, "fixes of one round overlap"
    return applied.text


def message_counts(diagnostics: list[Diagnostic]) -> Counter[tuple[str, str]]:
    """Diagnostics as (code, message): fixes move lines, messages name none."""
    return Counter((d.code, d.message) for d in diagnostics)


def assert_fixes_settle(
    root: Path,
    path: Path,
    codes: tuple[str, ...] = CODES,
    pick: Pick = first_fix,
    config: Config | None = None,
) -> int:
    """Apply the fixes of ``codes`` once and check what the brief asks of fixes.

    The fixed file parses; each fixed diagnostic is gone; nothing new appears
    (of any rule); a second round of fixes changes nothing.  Returns the
    number of fixes applied, so that callers can insist there were some.
    """
    before = check_path(root, path, config)
    mine = [d for d in before if d.code in codes]
    fixes = [f for f in map(pick, mine) if f is not None]
    original = path.read_text(encoding="utf-8")
    applied = apply_fixes(original, fixes)
    assert applied.skipped == 0, "fixes of one round overlap"
    assert applied.applied == len(fixes)
    try:
        ast.parse(applied.text)
    except SyntaxError as exc:  # pragma: no cover - the message is the point
        raise AssertionError(f"fixed text does not parse: {exc}\n---\n{applied.text}") from exc
    path.write_text(applied.text, encoding="utf-8")

    after = check_path(root, path, config)
    unfixed = message_counts([d for d in before if d.code not in codes or pick(d) is None])
    new = message_counts(after) - unfixed
    assert not new, f"new or remaining diagnostics after the fixes: {sorted(new)}\n---\n{applied.text}"

    again = [f for f in map(pick, (d for d in after if d.code in codes)) if f is not None]
    assert apply_fixes(applied.text, again).text == applied.text, "a second round of fixes changed the file"
    return len(fixes)


def settle_source(source: str, codes: tuple[str, ...], pick: Pick = first_fix, config: Config | None = None) -> int:
    """``assert_fixes_settle`` for a module given as text (in a fresh directory)."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        path = root / "generated.py"
        path.write_text(source, encoding="utf-8")
        return assert_fixes_settle(root, path, codes, pick, config)


def cli_fix(path: Path, code: str, unsafe: bool = False) -> subprocess.CompletedProcess:
    """``asyncsense check PATH --select CODE --fix`` on the file, in its directory."""
    command = [sys.executable, "-m", "asyncsense", "check", path.name, "--select", code, "--fix", "--isolated", "--no-cache"]
    if unsafe:
        command.append("--unsafe-fixes")
    return subprocess.run(command, cwd=path.parent, capture_output=True, text=True, timeout=120)


def assert_cli_fix_matches_engine(tmp_path: Path, source: str, code: str, unsafe: bool) -> str:
    """``check --fix`` writes what applying the engine's fixes gives; returns that text."""
    engine_dir = tmp_path / "engine"
    cli_dir = tmp_path / "cli"
    engine_dir.mkdir()
    cli_dir.mkdir()
    path, diagnostics = check_source(engine_dir, source)
    mine = of_code(diagnostics, code)
    assert mine, "nothing to fix"
    usable = [d for d in mine if d.fix is not None and (unsafe or d.fix.is_safe)]
    expected_text = fixed(path.read_text(encoding="utf-8"), usable)

    cli_path = cli_dir / path.name
    cli_path.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    run = cli_fix(cli_path, code, unsafe)
    assert run.returncode in (0, 1), run.stderr
    assert cli_path.read_text(encoding="utf-8") == expected_text, run.stdout + run.stderr
    return expected_text


# -- the seed document --------------------------------------------------------------


@dataclass
class SeedExample:
    section: str
    verdict: str  # "wrong" | "right" | "other" (code without a verdict comment)
    code: str

    @property
    def module(self) -> str:
        """The example, verbatim, below stubs of the functions it calls."""
        return SEED_STUBS + self.code


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


def seed_example(section: str, verdict: str) -> SeedExample:
    [example] = [e for e in seed_examples() if e.section == section and e.verdict == verdict]
    return example


# -- docs ---------------------------------------------------------------------------


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


# -- generated modules ----------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A statement (or a few) with placeholders: {n} a unique number, {aio} the asyncio
    name, {u} one indentation unit.  ``awaits``: only valid inside ``async def``."""

    text: str
    awaits: bool = False


UNAWAITED_TEMPLATES = [
    Template("fetch('a')"),
    Template("result{n} = fetch('a')\nprint(result{n})"),
    Template("if is_ready():\n{u}helper()"),
    Template("box{n} = get_box().value"),
    Template("box{n} = (get_box()).value"),
    Template("same{n} = fetch('z') == 'z'"),
    Template("print(f\"{{fetch('y')}}\")"),
    Template("_ = fetch('w')"),
    Template("unused{n} = fetch('v')"),
    Template("helper(not is_ready())"),
    Template("fetch(\n{u}'multi',\n)"),
    Template("if flag: fetch('one-liner')"),
    # look-alikes that must stay quiet
    Template("await fetch('x')", awaits=True),
    Template("coro{n} = fetch('x')\nawait coro{n}", awaits=True),
    Template("helper(fetch('q'))"),
    Template("Box().value"),
    Template("if await is_ready():\n{u}helper()", awaits=True),
    Template("pending{n} = [fetch(u) for u in 'ab']\nawait {aio}.gather(*pending{n}, return_exceptions=True)", awaits=True),
]

DANGLING_TEMPLATES = [
    Template("{aio}.create_task(fetch('t'))"),
    Template("_ = {aio}.ensure_future(fetch('t'))"),
    Template("unused{n} = {aio}.get_running_loop().create_task(fetch('t'))"),
    Template("if flag: {aio}.create_task(fetch('t'))"),
    Template("{aio}.create_task(fetch('t'))  # keep going"),
    Template("helper(1); {aio}.create_task(fetch('t'))"),
    Template("{aio}.create_task(\n{u}fetch('t'),\n)"),
    Template("task = {aio}.ensure_future(fetch('t'))\nhelper(task)"),
    # look-alikes that must stay quiet
    Template("kept{n} = {aio}.create_task(fetch('t'))\nhelper(kept{n})"),
    Template("await {aio}.create_task(fetch('t'))", awaits=True),
    Template("helper({aio}.create_task(fetch('t')))"),
]

GATHER_TEMPLATES = [
    Template("try:\n{u}got{n} = await {aio}.gather(fetch('a'), fetch('b'))\nexcept ValueError:\n{u}pass", True),
    Template("try:\n{u}await {aio}.gather(\n{u}{u}fetch('a'),\n{u}{u}fetch('b'),\n{u})\nexcept ValueError:\n{u}pass", True),
    Template(
        "try:\n{u}await {aio}.gather(\n{u}{u}fetch('a'),\n{u}{u}fetch('b')  # last\n{u})\nexcept ValueError:\n{u}pass",
        True,
    ),
    Template("try:\n{u}x{n}, y{n} = await {aio}.gather(fetch('a'),\n{u}{u}fetch('b'))\nexcept ValueError:\n{u}pass", True),
    Template(
        "try:\n{u}await {aio}.gather(*[fetch('a'), fetch('b')], return_exceptions=False)\nexcept ValueError:\n{u}pass",
        True,
    ),
    Template("try:\n{u}await {aio}.gather(fetch('a'), (fetch('b')),)\nexcept ValueError:\n{u}pass", True),
    Template("try:\n{u}got{n} = await {aio}.gather(fetch('a'), fetch('b'), fetch('c'))\nexcept* ValueError:\n{u}pass", True),
    # look-alikes that must stay quiet
    Template("try:\n{u}await {aio}.gather(fetch('a'), fetch('b'), return_exceptions=True)\nexcept ValueError:\n{u}pass", True),
    Template("await {aio}.gather(fetch('a'), fetch('b'))", True),
    Template("try:\n{u}await {aio}.gather(fetch('a'))\nexcept ValueError:\n{u}pass", True),
]

_HEADERS = {
    "asyncio": "import asyncio\n",
    "aio": "import asyncio as aio\n",
}
_PRELUDE = '''
async def fetch(url):
    return url


async def is_ready():
    return True


def helper(value=None):
    return value


class Box:
    value = 1


async def get_box():
    return Box()
'''
# Blocks a statement can sit in: (header, footer), both at the statement's level.
_WRAPPERS = [
    (None, None),
    ("if flag:", None),
    ("for item in range(2):", None),
    ("while flag:", "{u}break"),
    ("try:", "except OSError:\n{u}pass"),
]


def _indented(text: str, prefix: str) -> list[str]:
    return [prefix + line if line else line for line in text.split("\n")]


@st.composite
def modules(draw, templates: list[Template]) -> str:
    """A module of one to three functions whose bodies are drawn from ``templates``."""
    aio = draw(st.sampled_from(sorted(_HEADERS)))
    unit = draw(st.sampled_from(["    ", "  ", "\t"]))
    docstring = draw(st.booleans())
    lines = ['"""Generated."""'] if docstring else []
    lines.append(_HEADERS[aio].rstrip("\n"))
    lines.extend(_PRELUDE.replace("    ", unit).split("\n"))
    counter = 0
    for number in range(draw(st.integers(1, 3))):
        # Templates that all await need coroutines.
        is_async = draw(st.booleans()) or all(t.awaits for t in templates)
        lines.append("")
        lines.append(f"{'async def' if is_async else 'def'} function_{number}(flag):")
        usable = [t for t in templates if is_async or not t.awaits]
        body = draw(st.lists(st.tuples(st.sampled_from(usable), st.sampled_from(_WRAPPERS)), min_size=1, max_size=5))
        for template, (header, footer) in body:
            counter += 1
            text = template.text.format(n=counter, aio=aio, u=unit)
            if header is None:
                lines.extend(_indented(text, unit))
                continue
            lines.append(unit + header)
            lines.extend(_indented(text, unit * 2))
            if footer:
                lines.extend(_indented(footer.format(u=unit), unit))
    return "\n".join(lines) + "\n"

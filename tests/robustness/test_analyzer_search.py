"""Searches for inputs that break the analyser: generated programs, truncations, edits.

Each test feeds the engine inputs it was not written for and checks the
invariants of ``_support.check_invariants``: no exception escapes, every
diagnostic lies inside the file, every fix applies cleanly and keeps a file
that parsed parsing.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from asyncsense.analyzers.parsing import decode_source, parse_module, parse_quietly, split_lines
from asyncsense.analyzers.project import Project

from ._programs import asyncio_programs
from ._support import TALLY, assert_diagnostics_inside, check_invariants, corpus, fuzz, long_campaign, own_sources

CORPUS = corpus()
CORPUS_TEXTS = [text for _, text in CORPUS]
# Every line of every corpus file in a long campaign; the default run cuts at
# every k-th line, k chosen so that about this many prefixes are analysed in all.
DEFAULT_TRUNCATIONS = 600
_CORPUS_LINES = sum(text.count("\n") + 1 for text in CORPUS_TEXTS)
TRUNCATION_STRIDE = 1 if long_campaign() else max(1, -(-_CORPUS_LINES // DEFAULT_TRUNCATIONS))


def _target(root: Path, name: str = "target") -> Path:
    return root / "pkg" / f"{name}.py"


@pytest.mark.parametrize("name, text", CORPUS, ids=[name for name, _ in CORPUS])
def test_corpus_truncated_at_every_line(plain_project: Project, fuzz_root: Path, name: str, text: str) -> None:
    """Every prefix of every fixture, example and seed snippet: code being typed from the top."""
    lines = text.splitlines(keepends=True)
    # Offset by the file's name, so that default runs on different files cut at different lines.
    first = sum(map(ord, name)) % TRUNCATION_STRIDE
    cuts = sorted({*range(first, len(lines) + 1, TRUNCATION_STRIDE), len(lines)})
    path = _target(fuzz_root, "truncated")
    for cut in cuts:
        prefix = "".join(lines[:cut])
        check_invariants(plain_project, path, prefix, label=f"{name} cut after line {cut}")
        # The same prefix with the next line half typed.
        if cut < len(lines) and len(lines[cut]) > 2:
            half = prefix + lines[cut][: len(lines[cut]) // 2]
            check_invariants(plain_project, path, half, label=f"{name} cut inside line {cut + 1}")
        TALLY["truncations"] += 1


# Constructs half typed at the end of the file (each tried in column 0, at the
# indentation of the last line, and one level deeper after a header).
HALF_TYPED_TAILS = [
    "except:", "except", "except ValueError as", "finally:", "else:", "elif", "async with x as",
    "for x in", "if cond:", "try:", "foo(", "[1, 2,", "@decorator", "with open(", "return (", "x = {", "'''", 'f"{',
]


def _calls(tree: ast.AST) -> set[tuple[int, int]]:
    return {(node.lineno, node.col_offset) for node in ast.walk(tree) if isinstance(node, ast.Call)}


@pytest.mark.parametrize("name, text", CORPUS, ids=[name for name, _ in CORPUS])
def test_corpus_prefixes_with_a_construct_half_typed_after_them(name: str, text: str) -> None:
    """A prefix that parses keeps every call it has when a construct is half typed below it."""
    lines = text.splitlines(keepends=True)
    first = sum(map(ord, name)) % TRUNCATION_STRIDE
    for cut in range(max(first, 1), len(lines) + 1, TRUNCATION_STRIDE):
        prefix = "".join(lines[:cut])
        prefix += "" if prefix.endswith("\n") else "\n"
        try:
            before = _calls(parse_quietly(prefix))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        last = next((line for line in reversed(lines[:cut]) if line.strip() and not line.lstrip().startswith("#")), "")
        indent = last[: len(last) - len(last.lstrip())]
        indents = {"", indent, indent + "    " if last.rstrip().endswith(":") else indent}
        tails = HALF_TYPED_TAILS if long_campaign() else HALF_TYPED_TAILS[cut % len(HALF_TYPED_TAILS) :][:3]
        for tail in tails:
            for where in sorted(indents):
                typed = prefix + where + tail
                lost = before - _calls(parse_module(typed).tree)
                assert not lost, f"{name} cut after line {cut}, {where + tail!r} typed below: lost calls at {sorted(lost)}"
                TALLY["half-typed constructs below a prefix"] += 1


def test_own_sources_truncated_parse(fuzz_root: Path) -> None:
    """asyncsense's own modules (big, real code) truncated at every line: the parser alone."""
    for name, text in own_sources():
        lines = text.splitlines(keepends=True)
        step = 1 if long_campaign() else max(1, len(lines) // 6)
        for cut in range(0, len(lines) + 1, step):
            prefix = "".join(lines[:cut])
            parsed = parse_module(prefix, name)
            assert all(1 <= line <= max(len(split_lines(prefix)), 1) for line in parsed.skipped_lines)
            TALLY["parser truncations"] += 1


@fuzz(30)
@given(program=hypothesmith.from_grammar())
def test_grammar_generated_programs(plain_project: Project, fuzz_root: Path, program: str) -> None:
    """Random valid programs from Python's grammar (hypothesmith)."""
    checked = check_invariants(plain_project, _target(fuzz_root, "grammar"), program)
    TALLY["grammar programs"] += 1
    assert checked.result.partial is False or not checked.parsed, "a program Python parses was analysed only in part"


@fuzz(8)
@given(program=hypothesmith.from_node())
def test_cst_generated_programs(plain_project: Project, fuzz_root: Path, program: str) -> None:
    """Random valid programs from libcst's node types (hypothesmith.from_node)."""
    check_invariants(plain_project, _target(fuzz_root, "cst"), program)
    TALLY["cst programs"] += 1


@fuzz(300)
@given(program=asyncio_programs())
def test_asyncio_programs(plain_project: Project, fuzz_root: Path, program: str) -> None:
    """asyncio-flavoured valid programs: the rules fire and every fix is applied."""
    checked = check_invariants(plain_project, _target(fuzz_root, "programs"), program)
    TALLY["asyncio programs"] += 1
    TALLY["asyncio program diagnostics"] += len(checked.result.diagnostics)
    assert checked.parsed, "the generator made a program Python rejects (fix _programs.py)"


@fuzz(15)
@given(program=asyncio_programs())
def test_asyncio_programs_with_jedi(jedi_project: Project, fuzz_root: Path, program: str) -> None:
    """The same programs through jedi, as the CLI and the editor analyse them."""
    check_invariants(jedi_project, _target(fuzz_root, "jedi_programs"), program)
    TALLY["asyncio programs (jedi)"] += 1


# -- random edits ---------------------------------------------------------------------

# What editing inserts: Python's punctuation, keywords, indentation, line breaks of
# every kind, and the characters that break decoders and tokenizers.
SNIPPETS = [
    "(", ")", "[", "]", "{", "}", ":", ",", ".", "=", "'", '"', '"""', "'''", "#", "\\", "@", "*", "**",
    "\n", "\r\n", "\r", "\t", "    ", " ", "\x00", "\x0c", "\ufeff", "\u2028", "\x85", "\udcff", "é", "𝔘",
    "async ", "await ", "def ", "class ", "lambda", "yield", "return", "if ", "else", "elif ", "try:", "except",
    "finally:", "with ", "for ", "while ", "import ", "from ", "asyncio.", "create_task(", "gather(", "run(",
    "time.sleep(1)", "f'{", "}'", "b'", "match ", "case ", "type ", "[T]", "print ", ":=", "->", "...",
]


@st.composite
def edited(draw, texts: list[str]) -> str:
    text = draw(st.sampled_from(texts))
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        if kind == "insert":
            text = text[:position] + draw(st.sampled_from(SNIPPETS) | st.text(max_size=4)) + text[position:]
        else:
            end = min(len(text), position + draw(st.integers(1, 40)))
            new = draw(st.sampled_from(SNIPPETS)) if kind == "replace" else ""
            text = text[:position] + new + text[end:]
    return text


@fuzz(300)
@given(text=edited(CORPUS_TEXTS))
def test_random_text_edits(plain_project: Project, fuzz_root: Path, text: str) -> None:
    """Corpus files with random insertions, deletions and replacements (a buffer mid-edit)."""
    check_invariants(plain_project, _target(fuzz_root, "edited"), text)
    TALLY["text edits"] += 1


@st.composite
def byte_edited(draw, texts: list[str]) -> bytes:
    data = bytearray(draw(st.sampled_from(texts)).encode("utf-8"))
    prefix = draw(
        st.sampled_from(
            [b"", b"\xef\xbb\xbf", b"# -*- coding: latin-1 -*-\n", b"# coding: cp1252\n", b"# coding: klingon\n",
             b"\xef\xbb\xbf# coding: latin-1\n", b"#!/usr/bin/env python\n# vim: set fileencoding=utf-16 :\n"]
        )
    )
    for _ in range(draw(st.integers(1, 10))):
        position = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "flip"]))
        if kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=4) | st.sampled_from([b"\x00", b"\r", b"\xff\xfe", b"\xc3", b"\xed\xa0\x80"]))
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 8))]
        elif data:
            data[min(position, len(data) - 1)] = draw(st.integers(0, 255))
    return prefix + bytes(data)


@fuzz(80)
@given(data=byte_edited(CORPUS_TEXTS))
def test_random_byte_edits_from_disk(plain_project: Project, fuzz_root: Path, data: bytes) -> None:
    """Random byte edits and encoding cookies, read from disk as the CLI reads files."""
    path = _target(fuzz_root, "bytes")
    path.write_bytes(data)
    plain_project.drop_source(path)
    [result] = plain_project.check([path])
    TALLY["byte edits"] += 1
    # The engine analyses the text it decoded; the invariants hold for that text.
    text, problem = decode_source(data)
    note(f"decoded with problem: {problem}")
    assert_diagnostics_inside(result.diagnostics, path, text)


@fuzz(40)
@given(
    first=st.sampled_from(CORPUS_TEXTS),
    second=st.sampled_from(CORPUS_TEXTS),
    indent=st.sampled_from(["", "    ", "\t", "        "]),
)
def test_glued_snippets(plain_project: Project, fuzz_root: Path, first: str, second: str, indent: str) -> None:
    """One snippet pasted, indented, into another (paste into the middle of a function)."""
    lines = first.splitlines(keepends=True)
    middle = len(lines) // 2
    pasted = "".join(indent + line if line.strip() else line for line in second.splitlines(keepends=True))
    check_invariants(plain_project, _target(fuzz_root, "glued"), "".join(lines[:middle]) + pasted + "".join(lines[middle:]))
    TALLY["glued snippets"] += 1

"""Reading and parsing source files: encodings, line endings, columns, recovery.

The engine must analyse whatever it is given: a file being typed, a file in
newer Python than the one running, odd encodings.  Each test checks both the
parse (what ``parse_module`` kept) and, where it matters, the diagnostics a
whole ``Project`` reports for such a file.
"""

from __future__ import annotations

import ast
import asyncio.queues
import codecs
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncsense.analyzers.parsing import LineIndex, decode_source, parse_module, split_lines

PY312 = sys.version_info >= (3, 12)


def called_lines(source: str) -> list[int]:
    """Lines of every ``time.sleep(...)`` call the parser kept."""
    tree = parse_module(source).tree
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "time.sleep"
    )


def blocking_lines(engine, files) -> list[int]:
    return sorted(d.span.start.line for d in engine.check(files))


# -- recovery from syntax errors ------------------------------------------------


BROKEN_HALFWAY = """\
import time

async def above():
    time.sleep(1)

def broken(:
    return

async def below():
    time.sleep(2)
"""


def test_a_syntax_error_halfway_keeps_the_code_above_and_below():
    parsed = parse_module(BROKEN_HALFWAY)
    assert called_lines(BROKEN_HALFWAY) == [4, 10]
    assert parsed.partial
    assert 6 in parsed.skipped_lines
    assert parsed.syntax_error and "line 6" in parsed.syntax_error


def test_a_syntax_error_halfway_is_reported_as_partial_and_still_flagged(engine):
    case = engine.case(BROKEN_HALFWAY)
    assert case.result.partial and case.result.skipped_lines >= 1
    assert not case.result.errors
    assert sorted(d.span.start.line for d in case.rule("blocking-call")) == [4, 10]


def test_a_valid_file_is_not_partial():
    parsed = parse_module("import time\n\nasync def f():\n    time.sleep(1)\n")
    assert not parsed.partial and parsed.syntax_error is None


def test_a_statement_being_typed_inside_a_function_costs_only_that_line():
    source = (
        "import time\n"
        "async def f():\n"
        "    time.sleep(1)\n"
        "    requests.\n"
        "    time.sleep(2)\n"
        "async def g():\n"
        "    if x\n"
        "    time.sleep(3)\n"
    )
    parsed = parse_module(source)
    assert called_lines(source) == [3, 5, 8]
    assert parsed.skipped_lines == {4, 7}


def test_an_unclosed_bracket_does_not_swallow_the_next_definitions():
    source = (
        "import time\n"
        "async def f():\n"
        "    x = call(1,\n"
        "    time.sleep(1)\n"
        "\n"
        "items = [1,\n"
        "async def g():\n"
        "    time.sleep(2)\n"
    )
    assert called_lines(source) == [4, 8]


def test_an_error_in_a_continuation_line_costs_only_that_statement():
    source = "import time\nasync def f():\n    x = call(1,\n        2 3)\n    time.sleep(1)\n"
    assert called_lines(source) == [5]
    assert parse_module(source).skipped_lines == {3, 4}


def test_an_unexpected_indent_costs_only_its_line():
    source = "import time\nasync def f():\n    time.sleep(0)\n        x = 1\n    time.sleep(1)\n"
    assert called_lines(source) == [3, 5]
    assert parse_module(source).skipped_lines == {4}


def test_column_zero_lines_inside_strings_are_not_statements():
    # A module docstring and an SQL string with lines in column 0 that look like code.
    source = (
        '"""Module docstring.\n'
        "\n"
        "def not_code():\n"
        '"""\n'
        "import time\n"
        "\n"
        "async def f():\n"
        '    query = """\n'
        "SELECT *\n"
        "FROM t\n"
        '"""\n'
        "    time.sleep(1)\n"
        "\n"
        "def broken(:\n"
        "    pass\n"
        "\n"
        "async def g():\n"
        "    time.sleep(2)\n"
    )
    parsed = parse_module(source)
    assert called_lines(source) == [12, 18]
    assert parsed.skipped_lines == {14}
    first = parsed.tree.body[0]
    assert isinstance(first, ast.Expr) and "def not_code" in first.value.value


def test_a_docstring_being_typed_does_not_swallow_the_rest_of_the_file():
    source = (
        "import time\n"
        "\n"
        "async def f():\n"
        '    """Docstring being typed\n'
        "    time.sleep(1)\n"
        "\n"
        "async def g():\n"
        "    time.sleep(2)\n"
    )
    assert called_lines(source) == [5, 8]


def test_an_error_after_a_backslash_continuation_keeps_the_statement_whole():
    source = "import time\nx = 1 + \\\n2\ndef broken(:\n    pass\nasync def f():\n    time.sleep(3)\n"
    parsed = parse_module(source)
    assert called_lines(source) == [7]
    assert parsed.skipped_lines == {4}
    assert any(isinstance(s, ast.Assign) for s in parsed.tree.body)


def test_a_hash_inside_a_string_is_not_a_comment():
    source = 'import time\nx = "#(" + "\'"\ndef broken(:\n    pass\nasync def f():\n    time.sleep(3)\n'
    assert called_lines(source) == [6]


def test_every_line_of_a_hopeless_file_is_reported_and_nothing_raises():
    source = ")))\n(((\n]]]\n'''\n"
    parsed = parse_module(source)
    assert parsed.partial
    assert isinstance(parsed.tree, ast.Module)


# -- newer syntax on an older Python ------------------------------------------


NEW_SYNTAX = """\
import time

type Alias = int

def identity[T](x: T) -> T:
    time.sleep(1)
    return x

class Box[T]:
    async def get(self):
        time.sleep(2)

async def generic[T](x: T):
    time.sleep(3)

async def handler():
    try:
        pass
    except ValueError, TypeError:
        pass
    time.sleep(4)

async def nested_quotes(d):
    message = f"{d["key"] + f"{d["other"]}"}"
    time.sleep(5)

async def same_line(d):
    text = f"{d["key"]}"; time.sleep(6)

async def after_all():
    time.sleep(7)
"""


def test_python_312_to_314_syntax_does_not_stop_the_analysis():
    assert called_lines(NEW_SYNTAX) == [6, 11, 14, 21, 25, 28, 31]


def test_generic_functions_and_classes_keep_their_definitions():
    tree = parse_module(NEW_SYNTAX).tree
    functions = {n.name: n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert {"identity", "get", "generic", "handler", "nested_quotes", "same_line", "after_all"} <= set(functions)
    assert [a.arg for a in functions["identity"].args.args] == ["x"]
    assert isinstance(functions["generic"], ast.AsyncFunctionDef)
    # Lines and columns are those of the user's file.
    assert functions["generic"].lineno == 13 and functions["generic"].col_offset == 0
    if not PY312:
        assert parse_module(NEW_SYNTAX).partial


def test_new_syntax_file_is_flagged_where_it_blocks(engine):
    # identity() is sync: its sleep is not on the event loop; the coroutines' are.
    assert blocking_lines(engine, NEW_SYNTAX) == [11, 14, 21, 25, 28, 31]


def test_except_tuple_without_parentheses_keeps_its_handler_body():
    source = "import time\ntry:\n    pass\nexcept ValueError, TypeError:\n    time.sleep(1)\n"
    tree = parse_module(source).tree
    [handler] = [n for n in ast.walk(tree) if isinstance(n, ast.ExceptHandler)]
    assert isinstance(handler.type, ast.Tuple) and len(handler.type.elts) == 2
    assert called_lines(source) == [5]


def test_an_fstring_reusing_its_quotes_keeps_the_rest_of_its_line_in_its_columns():
    source = 'import time\nasync def f(d):\n    text = f"{d["k"]}"; time.sleep(1)\n'
    tree = parse_module(source).tree
    [call] = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    assert (call.lineno, call.col_offset) == (3, source.splitlines()[2].index("time.sleep"))


# -- encodings, line endings, odd bytes -------------------------------------------


SLEEPER = "import time\nasync def f():\n    time.sleep(1)\n"


def test_a_utf8_bom_is_dropped():
    text, error = decode_source(codecs.BOM_UTF8 + SLEEPER.encode())
    assert error is None and text == SLEEPER


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\n"], ids=["crlf", "cr", "lf"])
def test_line_endings(newline):
    source = SLEEPER.replace("\n", newline)
    text, error = decode_source(source.encode())
    assert error is None
    parsed = parse_module(text)
    assert not parsed.partial
    assert called_lines(text) == [3]
    assert split_lines(text)[:3] == ["import time", "async def f():", "    time.sleep(1)"]
    index = LineIndex(text)
    # offsets point into the text as it is, line breaks included
    assert text[index.offset(3, 4) :].startswith("time.sleep")


@pytest.mark.parametrize("newline", ["\r\n", "\r"], ids=["crlf", "cr"])
def test_line_endings_in_a_project(engine, newline):
    case = engine.case({"main.py": ""})
    case.path.write_bytes(b"import time\nasync def f():\n    x = 1\n    time.sleep(1)\n".replace(b"\n", newline.encode()))
    engine.project.drop_source(case.path)
    [result] = engine.project.check([case.path])
    [diagnostic] = result.diagnostics
    assert (diagnostic.span.start.line, diagnostic.span.start.column) == (4, 4)


def test_a_pep263_cookie_decodes_latin1():
    source = "# -*- coding: latin-1 -*-\nimport time\nasync def f():\n    s = 'caf\xe9'; time.sleep(1)\n"
    text, error = decode_source(source.encode("latin-1"))
    assert error is None
    assert "café" in text


def test_a_latin1_file_with_its_cookie_is_analysed_with_character_columns(engine):
    case = engine.case({"main.py": ""})
    source = "# -*- coding: latin-1 -*-\nimport time\nasync def f():\n    s = 'caf\xe9'; time.sleep(1)\n"
    case.path.write_bytes(source.encode("latin-1"))
    engine.project.drop_source(case.path)
    [result] = engine.project.check([case.path])
    assert not result.errors
    [diagnostic] = result.diagnostics
    assert diagnostic.span.start.column == source.splitlines()[3].index("time.sleep")


def test_a_non_utf8_file_without_cookie_is_an_error_but_still_analysed(engine):
    case = engine.case({"main.py": ""})
    case.path.write_bytes(b"import time\nasync def f():\n    s = 'caf\xe9'; time.sleep(1)\n")
    engine.project.drop_source(case.path)
    [result] = engine.project.check([case.path])
    assert result.errors and "utf-8" in result.errors[0].lower()
    [diagnostic] = result.diagnostics
    # 'caf\ufffd' has one replacement character where the byte was
    assert (diagnostic.span.start.line, diagnostic.span.start.column) == (3, 16)


def test_an_unknown_encoding_cookie_is_an_error():
    text, error = decode_source(b"# coding: no-such-codec\nx = 1\n")
    assert error is not None and "encoding" in error
    assert "x = 1" in text


def test_null_bytes_cost_only_their_line():
    source = "import time\nasync def f():\n    s = 'a\x00b'; time.sleep(1)\nasync def g():\n    time.sleep(2)\n"
    parsed = parse_module(source)
    assert called_lines(source) == [3, 5]
    assert parsed.partial and parsed.skipped_lines == {3}


def test_null_bytes_in_a_project_file(engine):
    case = engine.case({"main.py": ""})
    case.path.write_bytes(b"import time\nasync def f():\n    x = 1\x00\n    time.sleep(1)\n")
    engine.project.drop_source(case.path)
    [result] = engine.project.check([case.path])
    assert result.partial
    assert [d.span.start.line for d in result.diagnostics] == [4]


def test_columns_after_non_ascii_text_are_in_characters(engine):
    line = "    label = 'é😀'; time.sleep(1)"
    [diagnostic] = engine.check(f"import time\nasync def f():\n{line}\n")
    assert diagnostic.span.start.column == line.index("time.sleep")
    assert diagnostic.span.end.column == len(line)


def test_line_index_converts_byte_columns_to_characters():
    index = LineIndex("x = 'é😀'; y\n")
    byte_col = len("x = 'é😀'; ".encode())
    assert index.char_col(1, byte_col) == len("x = 'é😀'; ")
    assert index.char_col(1, 2) == 2


# -- robustness: any damage to a real file -----------------------------------------

# A real asyncio module of the running Python, as typed code to damage.
REAL_SOURCE = Path(asyncio.queues.__file__).read_text(encoding="utf-8")
REAL_LINES = split_lines(REAL_SOURCE)
DAMAGE = ["(", ")", "[", "'", "def f(:", "if x", "x = ", "\x00", 'f"{x["k"]}"', "lambda", ":", "é😀", "return ("]


# Derandomized: CI runs the same 80 damages every time.  A random search in CI found
# damage this recovery handles badly (three edits, 198 lines skipped: the case
# below) and, in the full test process, spent over ten minutes in the search.
@settings(max_examples=80, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.integers(0, len(REAL_LINES) - 1), st.integers(0, 40), st.sampled_from(DAMAGE)),
        min_size=1,
        max_size=3,
    )
)
def test_damaged_source_parses_and_keeps_lines_and_columns(edits):
    lines = list(REAL_LINES)
    for row, offset, text in edits:
        # typed where code is typed: after the indentation
        indent = len(lines[row]) - len(lines[row].lstrip())
        column = min(indent + offset, len(lines[row]))
        lines[row] = lines[row][:column] + text + lines[row][column:]
    source = "\n".join(lines)
    parsed = parse_module(source)
    index = parsed.index
    damaged = {row + 1 for row, _, _ in edits}
    # Every call kept on an untouched line stands where it stands in the text.
    for node in ast.walk(parsed.tree):
        if not isinstance(node, ast.Call) or node.lineno in damaged or node.lineno in parsed.skipped_lines:
            continue
        if not isinstance(node.func, ast.Name):
            continue
        column = index.char_col(node.lineno, node.col_offset)
        assert lines[node.lineno - 1][column:].startswith(node.func.id)
    # A damaged line costs its statement (at worst the rest of its block), not the file.
    assert len(parsed.skipped_lines) <= 25 * len(edits)


@pytest.mark.xfail(strict=True, reason="known limitation: an unclosed bracket early in a class skips to its end")
def test_damage_found_by_the_random_search_costs_few_lines():
    lines = list(REAL_LINES)
    for row, offset, text in [(243, 17, 'f"{x["k"]}"'), (212, 40, "("), (114, 23, "(")]:
        indent = len(lines[row]) - len(lines[row].lstrip())
        column = min(indent + offset, len(lines[row]))
        lines[row] = lines[row][:column] + text + lines[row][column:]
    assert len(parse_module("\n".join(lines)).skipped_lines) <= 25 * 3


# -- warnings about the user's code ------------------------------------------------

# What the running parser warns about: "\d" (DeprecationWarning before 3.12,
# SyntaxWarning after), `0in x` (SyntaxWarning: invalid decimal literal).
WARNED = 'import time\nPATTERN = "\\d+"\nFOUND = 0in [1]\n\nasync def handler():\n    time.sleep(1)\n'


def test_the_sample_does_warn_when_parsed_plainly():
    """Guard: if the parser stops warning about WARNED, the tests below prove nothing."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ast.parse(WARNED)
    assert {w.category for w in caught} & {DeprecationWarning, SyntaxWarning}


@pytest.mark.parametrize("option", ["always", "error"])
def test_parsing_user_code_prints_no_warning_and_under_error_still_parses(tmp_path: Path, option: str):
    import subprocess

    (tmp_path / "app.py").write_text(WARNED)
    done = subprocess.run(
        [sys.executable, "-W", option, "-m", "asyncsense", "check", "--no-cache", "--no-jedi", "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr == "", done.stderr  # no warning, and not "could not be parsed"
    assert done.returncode == 1 and "app.py:6:5: ASN001" in done.stdout, done.stdout


def test_string_annotations_are_parsed_quietly_too(tmp_path: Path):
    """A string annotation is parsed again when a receiver's type is read from it."""
    import subprocess

    (tmp_path / "app.py").write_text(
        'import time\n\n\nasync def handler(client: "\'\\\\d\'"):\n    client.fetch()\n    time.sleep(1)\n'
    )
    done = subprocess.run(
        [sys.executable, "-W", "always", "-m", "asyncsense", "check", "--no-cache", "--no-jedi", "app.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stderr == "", done.stderr
    assert "app.py:6:5: ASN001" in done.stdout, done.stdout


def test_parsing_in_a_thread_is_quiet_whatever_the_filters_of_the_others():
    """The server parses in a worker thread: nothing there may depend on catch_warnings,
    and a caller's `always` filter (pushed after ours) must not bring the warnings back."""
    import threading
    import warnings

    parsed: list = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        threads = [threading.Thread(target=lambda: parsed.append(parse_module(WARNED))) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        parsed.append(parse_module(WARNED + "x = (\n"))  # the recovery's parses too
    assert [str(w.message) for w in caught] == []
    assert [p.partial for p in parsed] == [False] * 4 + [True]


# -- half-typed constructs at the end of the file ----------------------------------

BEFORE_TAIL = """\
import time

async def before():
    time.sleep(1)

async def typing():
    time.sleep(2)
"""
INSIDE_TRY = BEFORE_TAIL.replace("    time.sleep(2)\n", "    try:\n        time.sleep(2)\n")

HALF_TYPED = [
    "    except:",
    "    except",
    "    except ValueError as",
    "    except:  # later",
    "    except ValueError:\n",
    "    finally:",
    "    async with x as",
    "    async with x as y:",
    "    for x in",
    "    if cond:",
    "    if cond:\n",
    "    try:",
    "    foo(",
    "    [1, 2,",
    "    @decorator",
    "@decorator",
    "@decorator\n",
    "def",
    "async def g(",
    "except:",  # column 0, below a function: no damaged `try:` to restore
    "except",
    "finally:",
]


@pytest.mark.parametrize("tail", HALF_TYPED)
@pytest.mark.parametrize("body", [BEFORE_TAIL, INSIDE_TRY], ids=["after-a-body", "inside-a-try"])
def test_a_construct_half_typed_at_the_end_keeps_what_is_above(body: str, tail: str):
    """Typing at the end of a function: the function above and the code already
    typed in this one (also in a `try:` whose handler is being typed) are kept."""
    written = [number for number, line in enumerate(body.splitlines(), start=1) if "time.sleep(" in line]
    assert called_lines(body + tail) == written, "lost code above the line being typed"
    parsed = parse_module(body + tail)
    defined = {n.name for n in ast.walk(parsed.tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    assert {"before", "typing"} <= defined, "a function above the line being typed was lost"
    assert max(parsed.skipped_lines, default=0) <= len(split_lines(body + tail))


def test_a_try_being_completed_is_flagged_in_its_body(engine):
    case = engine.case(INSIDE_TRY + "    except:")
    assert sorted(d.span.start.line for d in case.rule("blocking-call")) == [4, 8]


def test_a_clause_without_a_statement_keeps_its_body():
    source = "import time\n\nasync def f():\n    x = 1\n    except ValueError:\n        time.sleep(1)\n    time.sleep(2)\n"
    assert called_lines(source) == [6, 7]


def test_a_clause_typed_after_an_else_keeps_the_if_above():
    source = "import time\nif x:\n    time.sleep(1)\nelse:\n    time.sleep(2)\nexcept:"
    assert called_lines(source) == [3, 5]

"""Suppression comments: `# asyncsense: ignore[...]`, `# noqa`, `# asyncsense: ignore-file`."""

from __future__ import annotations

import pytest

from asyncsense.analyzers.diagnostics import Diagnostic, Span
from asyncsense.analyzers.suppression import (
    comment_of_line,
    comments_by_line,
    filter_suppressed,
    suppression_edit,
    suppression_text_edit,
)


def d(line: int, rule: str = "blocking-call", code: str = "ASN001") -> Diagnostic:
    return Diagnostic(rule, code, "m", "a.py", Span.of(line, 4, line, 10))


def kept(source: str, *diagnostics: Diagnostic) -> list[tuple[int, str]]:
    lines = source.splitlines()
    return [(x.span.start.line, x.code) for x in filter_suppressed(list(diagnostics), lines)]


@pytest.mark.parametrize(
    ("comment", "suppressed"),
    [
        ("# asyncsense: ignore", True),
        ("# asyncsense: ignore[blocking-call]", True),
        ("# asyncsense: ignore[ASN001]", True),
        ("# asyncsense: ignore[asn001]", True),
        ("# asyncsense: ignore[dangling-task, blocking-call]", True),
        ("# asyncsense: ignore[dangling-task]", False),
        ("#asyncsense:ignore[ASN003,ASN001]", True),
        ("# ASYNCSENSE: IGNORE", True),
        ("# noqa", True),
        ("# NOQA", True),
        ("# noqa: ASN001", True),
        ("# noqa:ASN002,ASN001", True),
        ("# noqa: E501 ASN001", True),
        ("# noqa: E501", False),
        ("# noqa: ASN002", False),
        ("# noqa: blocking-call", True),
        ("# noqa:", True),  # flake8: no codes at all is a blanket noqa
        ("# type: ignore  # asyncsense: ignore[blocking-call]", True),
        ("# type: ignore[attr-defined]  # noqa: ASN001", True),
        ("# type: ignore", False),
        ("# asyncsense: ignored", False),
        ("# just a comment", False),
    ],
)
def test_line_comments(comment: str, suppressed: bool) -> None:
    source = f"import time\nasync def f():\n    time.sleep(1)  {comment}\n"
    assert kept(source, d(3)) == ([] if suppressed else [(3, "ASN001")])


def test_only_the_start_line_counts() -> None:
    source = "async def f():\n    x = 1  # noqa\n    time.sleep(1)\n"
    assert kept(source, d(3), d(2)) == [(3, "ASN001")]


def test_comment_sign_inside_a_string_is_no_comment() -> None:
    source = 'async def f():\n    time.sleep("# noqa")\n    requests.get("x")  # asyncsense: ignore\n'
    assert kept(source, d(2), d(3)) == [(2, "ASN001")]


def test_multiline_string_contents_are_no_comments() -> None:
    source = 'async def f():\n    x = """\n    # noqa\n    """\n    time.sleep(1)\n'
    assert kept(source, d(3), d(5)) == [(3, "ASN001"), (5, "ASN001")]


def test_file_level() -> None:
    source = "# asyncsense: ignore-file\nasync def f():\n    time.sleep(1)\n"
    assert kept(source, d(3), d(2, "dangling-task", "ASN003")) == []
    source = "# asyncsense: ignore-file[dangling-task]\nasync def f():\n    time.sleep(1)\n"
    assert kept(source, d(3), d(2, "dangling-task", "ASN003")) == [(3, "ASN001")]


def test_broken_code_still_finds_comments() -> None:
    source = "async def f(:\n    time.sleep(1)  # noqa: ASN001\n    x = ('unclosed\n    y()  # asyncsense: ignore\n"
    assert kept(source, d(2), d(4)) == []


def test_lines_with_line_breaks_and_crlf() -> None:
    lines = ["async def f():\r\n", "    time.sleep(1)  # noqa\r\n"]
    assert filter_suppressed([d(2)], lines) == []


def test_comments_by_line() -> None:
    assert comments_by_line(["x = 1  # a", "y = '#'", "# b"]) == {1: "# a", 3: "# b"}


def test_comment_of_line() -> None:
    assert comment_of_line("x = '#' + \"#\"  # c") == "# c"
    assert comment_of_line("x = '''#'''") is None
    assert comment_of_line("x = 'it\\'s # no'  # yes") == "# yes"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("    time.sleep(1)", "    time.sleep(1)  # asyncsense: ignore[blocking-call]"),
        ("    time.sleep(1)   ", "    time.sleep(1)  # asyncsense: ignore[blocking-call]"),
        ("    time.sleep(1)\n", "    time.sleep(1)  # asyncsense: ignore[blocking-call]\n"),
        ("    time.sleep(1)\r\n", "    time.sleep(1)  # asyncsense: ignore[blocking-call]\r\n"),
        (
            "    time.sleep(1)  # type: ignore",
            "    time.sleep(1)  # type: ignore  # asyncsense: ignore[blocking-call]",
        ),
        (
            "    time.sleep(1)  # asyncsense: ignore[dangling-task]",
            "    time.sleep(1)  # asyncsense: ignore[dangling-task, blocking-call]",
        ),
        (
            "    time.sleep(1)  # asyncsense: ignore[dangling-task]  # why",
            "    time.sleep(1)  # asyncsense: ignore[dangling-task, blocking-call]  # why",
        ),
        ("    time.sleep(1)  # asyncsense: ignore", "    time.sleep(1)  # asyncsense: ignore"),
        ("    time.sleep(1)  # asyncsense: ignore[blocking-call]", "    time.sleep(1)  # asyncsense: ignore[blocking-call]"),
        ("    time.sleep(1)  # noqa: ASN001", "    time.sleep(1)  # noqa: ASN001"),
        ("    time.sleep(1)  # noqa", "    time.sleep(1)  # noqa"),
        ('    print("# not a comment")', '    print("# not a comment")  # asyncsense: ignore[blocking-call]'),
    ],
)
def test_suppression_edit(line: str, expected: str) -> None:
    assert suppression_edit(line, "blocking-call") == expected


def test_suppression_edit_round_trip() -> None:
    line = "    asyncio.create_task(work())  # keep"
    edited = suppression_edit(suppression_edit(line, "dangling-task"), "ASN002")
    assert edited == "    asyncio.create_task(work())  # keep  # asyncsense: ignore[dangling-task, ASN002]"
    source = f"async def f():\n{edited}\n"
    assert kept(source, d(2, "dangling-task", "ASN003"), d(2, "unawaited-coroutine", "ASN002")) == []


def test_suppression_text_edit() -> None:
    edit = suppression_text_edit("    time.sleep(1)\n", 7, "blocking-call")
    assert edit is not None
    assert edit.span == Span.of(7, 0, 7, 17)
    assert edit.new_text == "    time.sleep(1)  # asyncsense: ignore[blocking-call]"
    assert suppression_text_edit("x()  # noqa", 1, "blocking-call") is None

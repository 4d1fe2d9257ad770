"""Suppression comments.

On the line where a finding starts:

* ``# asyncsense: ignore`` silences every finding there;
* ``# asyncsense: ignore[blocking-call, ASN003]`` silences those rules (names or codes);
* ``# noqa`` silences everything (as in flake8), ``# noqa: ASN001,ASN002`` only
  those codes (rule names work too; other tools' codes are skipped).

Anywhere in a file, a comment ``# asyncsense: ignore-file`` silences the whole
file, and ``# asyncsense: ignore-file[rule, ...]`` those rules in it.

Several directives can share a comment: ``# type: ignore  # noqa: ASN001``.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .diagnostics import Diagnostic, Edit, Span

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_ASYNCSENSE = re.compile(r"asyncsense\s*:\s*(?P<kind>ignore-file|ignore)\b\s*(?:\[(?P<rules>[^\]]*)\])?", re.I)
_NOQA = re.compile(r"noqa\b(?P<colon>\s*:\s*(?P<codes>.*))?", re.I)
_CODE_LIKE = re.compile(r"[A-Za-z]+[0-9]+")
_TOKEN_SPLIT = re.compile(r"[,\s]+")

# A directive's rule list: None means "every rule".
RuleSet = frozenset[str] | None


@dataclass(frozen=True)
class _Directive:
    file_level: bool
    rules: RuleSet  # lower-cased names/codes, None = all


def _parse_comment(comment: str) -> list[_Directive]:
    """Directives in one comment (text starting with `#`)."""
    directives: list[_Directive] = []
    for segment in comment.split("#")[1:]:
        text = segment.strip()
        match = _ASYNCSENSE.match(text)
        if match:
            rules = match.group("rules")
            directives.append(
                _Directive(match.group("kind").lower() == "ignore-file", _split_rules(rules) if rules is not None else None)
            )
            continue
        match = _NOQA.match(text)
        if match:
            if match.group("colon") is None:
                directives.append(_Directive(False, None))
                continue
            tokens = [t for t in _TOKEN_SPLIT.split(match.group("codes")) if t]
            codes = [t for t in tokens if _CODE_LIKE.fullmatch(t) or "-" in t]
            # flake8: `# noqa:` followed by no code at all is a blanket noqa.
            directives.append(_Directive(False, frozenset(c.lower() for c in codes) if codes else None))
    return directives


def _split_rules(text: str) -> frozenset[str]:
    return frozenset(t.lower() for t in _TOKEN_SPLIT.split(text) if t)


def _covers(rules: RuleSet, diagnostic: Diagnostic) -> bool:
    return rules is None or diagnostic.rule.lower() in rules or diagnostic.code.lower() in rules


def comment_of_line(line: str) -> str | None:
    """The comment of one line (from its `#`), skipping `#` inside string literals.

    Looks at the line alone: a line inside a multi-line string is read as code.
    """
    quote: str | None = None
    i = 0
    n = len(line)
    while i < n:
        ch = line[i]
        if quote is None:
            if ch == "#":
                return line[i:].rstrip("\r\n")
            if ch in "'\"":
                quote = line[i : i + 3] if line[i : i + 3] in ("'''", '"""') else ch
                i += len(quote)
                continue
        else:
            if ch == "\\":
                i += 2
                continue
            if line.startswith(quote, i):
                i += len(quote)
                quote = None
                continue
        i += 1
    return None


def comments_by_line(source_lines: Sequence[str]) -> dict[int, str]:
    """1-based line number -> comment text, using Python's tokenizer where it can."""
    lines = [_LINE_BREAK.sub("", line) for line in source_lines]
    comments: dict[int, str] = {}
    done_until = 0
    text = "\n".join(lines) + "\n"
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string
            done_until = max(done_until, token.end[0])
        return comments
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass
    # The tokenizer gave up (broken code): the lines it did not reach are read one by one.
    for number in range(max(done_until, 1), len(lines) + 1):
        if number in comments:
            continue
        comment = comment_of_line(lines[number - 1])
        if comment is not None:
            comments[number] = comment
    return comments


class Suppressions:
    """The suppression comments of one file."""

    def __init__(self, source_lines: Sequence[str]) -> None:
        self._by_line: dict[int, list[_Directive]] = {}
        self._file: list[_Directive] = []
        for number, comment in comments_by_line(source_lines).items():
            if "noqa" not in comment.lower() and "asyncsense" not in comment.lower():
                continue
            for directive in _parse_comment(comment):
                if directive.file_level:
                    self._file.append(directive)
                else:
                    self._by_line.setdefault(number, []).append(directive)

    def is_suppressed(self, diagnostic: Diagnostic) -> bool:
        for directive in self._file:
            if _covers(directive.rules, diagnostic):
                return True
        for directive in self._by_line.get(diagnostic.span.start.line, ()):
            if _covers(directive.rules, diagnostic):
                return True
        return False


def filter_suppressed(diagnostics: Iterable[Diagnostic], source_lines: Sequence[str]) -> list[Diagnostic]:
    """The diagnostics that no suppression comment in `source_lines` silences.

    `source_lines` are the file's lines (with or without their line breaks);
    diagnostic line numbers are 1-based indexes into them.
    """
    diagnostics = list(diagnostics)
    if not diagnostics:
        return diagnostics
    suppressions = Suppressions(source_lines)
    return [d for d in diagnostics if not suppressions.is_suppressed(d)]


_OUR_DIRECTIVE = re.compile(r"(#\s*asyncsense\s*:\s*ignore)(?!-)\b(\s*\[(?P<rules>[^\]]*)\])?", re.I)


def suppression_edit(line_text: str, rule: str) -> str:
    """`line_text` with `rule` silenced by a `# asyncsense: ignore[...]` comment.

    Adds the rule to an existing `# asyncsense: ignore[...]` list, leaves a
    line that is already silenced for every rule alone, and otherwise appends
    the directive after the code (and after an existing comment).  The line
    break at the end, if any, is kept.
    """
    body = line_text.rstrip("\r\n")
    ending = line_text[len(body) :]
    comment = comment_of_line(body)
    if comment is not None:
        code_part = body[: len(body) - len(comment)]
        aliases = _aliases(rule)
        for directive in _parse_comment(comment):
            if not directive.file_level and (directive.rules is None or aliases & directive.rules):
                return line_text
        match = _OUR_DIRECTIVE.search(comment)
        if match:
            if match.group(2) is None:
                return line_text  # bare ignore: already silences everything
            rules = [r.strip() for r in match.group("rules").split(",") if r.strip()]
            rules.append(rule)
            replaced = f"{match.group(1)}[{', '.join(rules)}]"
            comment = comment[: match.start()] + replaced + comment[match.end() :]
            return code_part + comment + ending
        return f"{body.rstrip()}  # asyncsense: ignore[{rule}]{ending}"
    stripped = body.rstrip()
    if not stripped:
        return f"{body}# asyncsense: ignore[{rule}]{ending}"
    return f"{stripped}  # asyncsense: ignore[{rule}]{ending}"


def _aliases(rule: str) -> frozenset[str]:
    """`rule` and its other spelling (name <-> code), lower-cased."""
    from .config import all_rules

    for info in all_rules():
        if rule.lower() in (info.name.lower(), info.code.lower()):
            return frozenset((info.name.lower(), info.code.lower()))
    return frozenset((rule.lower(),))


def suppression_text_edit(line_text: str, line: int, rule: str) -> Edit | None:
    """The Edit (replacing line `line`'s text) that adds the suppression, or None if it is there."""
    body = line_text.rstrip("\r\n")
    new = suppression_edit(body, rule)
    if new == body:
        return None
    return Edit(Span.of(line, 0, line, len(body)), new)

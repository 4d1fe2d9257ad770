"""gather-lost-exceptions (ASN004): asyncio.gather loses all exceptions but the first.

(Being written: see the rule's issue.  Until then this rule reports nothing.)
"""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic
from .base import Rule, RuleContext


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    return iter(())


RULE = Rule(
    name="gather-lost-exceptions",
    code="ASN004",
    summary="asyncio.gather loses all exceptions but the first",
    check=check,
)

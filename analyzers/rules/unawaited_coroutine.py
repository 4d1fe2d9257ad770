"""unawaited-coroutine (ASN002): A coroutine is created and never awaited.

(Being written: see the rule's issue.  Until then this rule reports nothing.)
"""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic
from .base import Rule, RuleContext


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    return iter(())


RULE = Rule(
    name="unawaited-coroutine",
    code="ASN002",
    summary="A coroutine is created and never awaited",
    check=check,
)

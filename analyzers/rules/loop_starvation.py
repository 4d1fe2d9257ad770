"""loop-starvation (ASN006): A loop in a coroutine that never yields to the event loop.

(Being written: see the rule's issue.  Until then this rule reports nothing.)
"""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic
from .base import Rule, RuleContext


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    return iter(())


RULE = Rule(
    name="loop-starvation",
    code="ASN006",
    summary="A loop in a coroutine that never yields to the event loop",
    check=check,
)

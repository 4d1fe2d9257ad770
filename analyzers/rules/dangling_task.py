"""dangling-task (ASN003): A task is created and no reference to it is kept.

(Being written: see the rule's issue.  Until then this rule reports nothing.)
"""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic
from .base import Rule, RuleContext


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    return iter(())


RULE = Rule(
    name="dangling-task",
    code="ASN003",
    summary="A task is created and no reference to it is kept",
    check=check,
)

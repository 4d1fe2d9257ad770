"""unclosed-async-resource (ASN007): An async client, session or connection not closed on every path.

(Being written: see the rule's issue.  Until then this rule reports nothing.)
"""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic
from .base import Rule, RuleContext


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    return iter(())


RULE = Rule(
    name="unclosed-async-resource",
    code="ASN007",
    summary="An async client, session or connection not closed on every path",
    check=check,
)

"""nested-asyncio-run (ASN005): asyncio.run() or run_until_complete() reachable from a running event loop.

(Being written: see the rule's issue.  Until then this rule reports nothing.)
"""

from __future__ import annotations

from typing import Iterator

from ..diagnostics import Diagnostic
from .base import Rule, RuleContext


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    return iter(())


RULE = Rule(
    name="nested-asyncio-run",
    code="ASN005",
    summary="asyncio.run() or run_until_complete() reachable from a running event loop",
    check=check,
)

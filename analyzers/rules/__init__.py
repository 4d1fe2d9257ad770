"""The rules, one module each, in the order of their codes."""

from __future__ import annotations

from .base import Rule, RuleContext
from . import (
    blocking_call,
    dangling_task,
    gather_lost_exceptions,
    loop_starvation,
    nested_asyncio_run,
    unawaited_coroutine,
    unclosed_async_resource,
)

RULES: list[Rule] = [
    blocking_call.RULE,
    unawaited_coroutine.RULE,
    dangling_task.RULE,
    gather_lost_exceptions.RULE,
    nested_asyncio_run.RULE,
    loop_starvation.RULE,
    unclosed_async_resource.RULE,
]

RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in RULES}
RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}


def rule_for(name_or_code: str) -> Rule | None:
    return RULES_BY_NAME.get(name_or_code) or RULES_BY_CODE.get(name_or_code.upper())


__all__ = ["RULES", "RULES_BY_CODE", "RULES_BY_NAME", "Rule", "RuleContext", "rule_for"]

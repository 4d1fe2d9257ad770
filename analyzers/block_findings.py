"""Findings of an editor buffer, re-checked only in the blocks an edit can change.

After a keystroke in one function the rules need not read the rest of a big
module again.  ``reparse.BufferParser`` keeps the syntax trees of the top-level
blocks whose text and first line did not change, and the resolver carries over
how their calls resolve when the module's names, declarations and imports are
as they were (``Project._carry_resolutions``).  The findings of such a ``def``
or ``class`` block can then change only through what the rules learn outside
of it, and each of those is written down when the block is checked:

* the summaries of functions elsewhere (does ``fetch()`` block, is ``parse()``
  cheap?): every question the block's rules ask ``ProjectFacts``, with its
  answer; the findings are reused while each question gets the same answer;
* functions of this module whose bodies the rules read (a helper that closes
  what it is given): reused while each is the same syntax tree;
* jedi: a block where jedi answered for one of its calls is checked every time
  (its answer may depend on code anywhere in the module);
* the settings and the catalog: the same objects.

Everything else - statements at module level, changed blocks, blocks whose
answers changed - is checked as before.  Module-level code is checked every
time: in a notebook, top-level code in one cell works with names of another.
``tests/test_incremental.py`` compares the result with a fresh analysis.
"""

from __future__ import annotations

import ast
import logging
from dataclasses import dataclass
from typing import Any

from .catalog import Catalog
from .config import Config
from .diagnostics import Diagnostic
from .inference import JediInference
from .rules import RULES
from .rules.base import ModulePart, RuleContext, function_nodes
from .semantics import CallSite, ModuleModel, Resolver
from .summary import ProjectFacts

log = logging.getLogger(__name__)

# The ProjectFacts questions rules ask (a name in, a comparable answer out).
_QUESTIONS = ("blocking_chain", "loop_runner_chain", "loop_bound", "library_returns", "extra_blocking", "cost_of")


class RecordingFacts:
    """``ProjectFacts`` as one block's rules see it: each question and its answer is kept."""

    def __init__(self, facts: ProjectFacts) -> None:
        self._facts = facts
        self.answers: list[tuple[str, str, Any]] = []
        self.volatile = False  # the block's findings depend on something not written down

    def __getattr__(self, name: str) -> Any:
        if name in _QUESTIONS:
            method = getattr(self._facts, name)

            def ask(argument: str) -> Any:
                answer = method(argument)
                self.answers.append((name, argument, answer))
                return answer

            return ask
        if name == "cut_off":
            return _RecordedMembership(self, self._facts.cut_off)
        if name in ("cut_off_paths", "functions"):
            self.volatile = True  # a library chain cut short, or facts read around the questions
        return getattr(self._facts, name)


class _RecordedMembership:
    def __init__(self, recorder: RecordingFacts, names: set[str]) -> None:
        self._recorder = recorder
        self._names = names

    def __contains__(self, name: object) -> bool:
        answer = name in self._names
        self._recorder.answers.append(("cut_off", str(name), answer))
        return answer


def _ask(facts: ProjectFacts, question: str, argument: str) -> Any:
    if question == "cut_off":
        return argument in facts.cut_off
    return getattr(facts, question)(argument)


@dataclass
class _Entry:
    first: ast.stmt  # the block's first statement: the same object while the block is reused
    findings: list[Diagnostic]
    answers: list[tuple[str, str, Any]]
    functions_read: dict[str, ast.AST | None]


class BlockFindings:
    """The findings of one editor buffer's ``def`` and ``class`` blocks, by block."""

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}  # id of the block's first statement -> entry
        self._config: Config | None = None
        self._catalog: Catalog | None = None
        self._resolver: int | None = None  # serial of the resolver of the last check
        self.checked_blocks = 0  # of the last check (for tests and the benchmark's curiosity)
        self.reused_blocks = 0

    def check(
        self,
        model: ModuleModel,
        blocks: list[list[ast.stmt]],
        resolver: Resolver,
        facts: ProjectFacts,
        config: Config,
        catalog: Catalog,
    ) -> list[Diagnostic]:
        # Only answers carried over from the resolver of the last check keep the entries good
        # (a version analysed in between but not checked - superseded - breaks the chain).
        entries = self._entries
        if (
            self._resolver is None
            or self._resolver not in (resolver.serial, resolver.carried_from)
            or config is not self._config
            or catalog is not self._catalog
        ):
            entries = {}
        self._config, self._catalog, self._resolver = config, catalog, resolver.serial
        self._entries = {}
        functions = function_nodes(model)
        calls, loops = _by_block(model, blocks)
        found: list[Diagnostic] = []
        module_level = ModulePart([], [], [])
        self.checked_blocks = self.reused_blocks = 0
        for number, block in enumerate(blocks):
            if not block:  # comments only
                continue
            if not all(isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for s in block):
                module_level.statements.extend(block)
                module_level.calls.extend(calls[number])
                module_level.loops.extend(loops[number])
                continue
            key = id(block[0])
            entry = entries.get(key)
            if entry is not None and entry.first is block[0] and _still_valid(entry, facts, functions):
                self._entries[key] = entry
                found.extend(entry.findings)
                self.reused_blocks += 1
                continue
            recorder = RecordingFacts(facts)
            ctx = RuleContext(model, resolver, recorder, config, catalog, ModulePart(block, calls[number], loops[number]))  # type: ignore[arg-type]
            findings = run_rules(ctx)
            found.extend(findings)
            self.checked_blocks += 1
            if not recorder.volatile and not _asked_jedi(model, resolver, calls[number]):
                self._entries[key] = _Entry(block[0], findings, recorder.answers, ctx.functions_read)
        if module_level.statements:
            found.extend(run_rules(RuleContext(model, resolver, facts, config, catalog, module_level)))
        return found

def run_rules(ctx: RuleContext) -> list[Diagnostic]:
    """Every rule's findings in the context's module (or part of it)."""
    found: list[Diagnostic] = []
    for rule in RULES:
        try:
            found.extend(rule.check(ctx))
        except RecursionError:
            log.warning("%s: rule %s gave up (code nested too deeply)", ctx.path, rule.name)
    return found


def _still_valid(entry: _Entry, facts: ProjectFacts, functions: dict[str, ast.AST]) -> bool:
    for qualname, node in entry.functions_read.items():
        if functions.get(qualname) is not node:
            return False
    return all(_ask(facts, question, argument) == answer for question, argument, answer in entry.answers)


def _by_block(model: ModuleModel, blocks: list[list[ast.stmt]]) -> tuple[list[list[CallSite]], list[list[ast.AST]]]:
    """The model's calls and sync loops, by the top-level block they are in (in source order)."""
    block_of = {id(statement): number for number, block in enumerate(blocks) for statement in block}
    parents = model.parents
    tree = model.tree

    def block_number(node: ast.AST) -> int | None:
        while True:
            parent = parents.get(node)
            if parent is None:
                return None
            if parent is tree:
                return block_of.get(id(node))
            node = parent

    calls: list[list[CallSite]] = [[] for _ in blocks]
    loops: list[list[ast.AST]] = [[] for _ in blocks]
    for site in model.calls:
        number = block_number(site.node)
        if number is not None:
            calls[number].append(site)
    for loop in model.loops:
        number = block_number(loop)
        if number is not None:
            loops[number].append(loop)
    return calls, loops


def _asked_jedi(model: ModuleModel, resolver: Resolver, calls: list[CallSite]) -> bool:
    """Did jedi answer for a call of the block (in the rules or in the summaries)?"""
    inference: JediInference | None = resolver.inference
    if inference is None:
        return False
    inferred = resolver.inferred_calls
    return any(site.node in inferred or inference.answered(model, site.node) for site in calls)

"""What a rule is and what it gets to look at.

A rule is a function from a ``RuleContext`` (one module, resolved against the
whole project) to diagnostics.  The context hides the engine: rules ask
``ctx.callee(call)``, ``ctx.blocking_chain(name)``, ``ctx.span(node)`` and never
touch jedi, the index or other modules directly.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Iterable

from ..catalog import Catalog
from ..config import Config
from ..diagnostics import Diagnostic, Fix, Related, Severity, Span
from ..index import FunctionDecl, Value
from ..semantics import CallSite, ModuleModel, Resolver, Scope
from ..summary import ProjectFacts, Site, span_of

DOCS_URL = "https://github.com/asyncsense/asyncsense/blob/main/docs/rules/{name}.md"


@dataclass(frozen=True)
class Rule:
    name: str  # stable, e.g. "blocking-call"
    code: str  # e.g. "ASN001"
    summary: str
    check: Callable[[RuleContext], Iterable[Diagnostic]]
    default_severity: Severity = Severity.WARNING

    @property
    def docs_url(self) -> str:
        return DOCS_URL.format(name=self.name)


class RuleContext:
    def __init__(
        self,
        model: ModuleModel,
        resolver: Resolver,
        facts: ProjectFacts,
        config: Config,
        catalog: Catalog,
        part: ModulePart | None = None,
    ) -> None:
        self.model = model
        self.resolver = resolver
        self.facts = facts
        self.config = config
        self.catalog = catalog
        self.index = resolver.index
        self.path = model.path
        # None: the rules check the whole module; else only this part of it (block_findings.py).
        self.part = part
        # Per-module answers rules compute once and look up many times (names in
        # use, cost of helpers): keyed by the rule, valid for this context only.
        self.memo: dict[object, object] = {}
        # The module's functions by qualname, and which of them the rules read (block_findings.py).
        self._functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] | None = None
        self.functions_read: dict[str, ast.AST | None] = {}

    # -- looking at code ----------------------------------------------------
    @property
    def calls(self) -> list[CallSite]:
        """The calls to check: the module's, or those of the part being checked."""
        return self.model.calls if self.part is None else self.part.calls

    @property
    def loops(self) -> list[ast.For | ast.While]:
        """The sync loops to check (``ModuleModel.loops``), of the module or of the part."""
        return self.model.loops if self.part is None else self.part.loops

    def nodes(self) -> Iterable[ast.AST]:
        """Every node to check (the module's but the module itself, or the part's)."""
        if self.part is None:
            return self.model.parents
        return (node for statement in self.part.statements for node in ast.walk(statement))

    def function_node(self, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The definition of a function of this module (a helper whose body a rule reads)."""
        if self._functions is None:
            self._functions = function_nodes(self.model)
        node = self._functions.get(qualname)
        self.functions_read[qualname] = node
        return node

    def span(self, node: ast.AST) -> Span:
        return span_of(self.model, node)

    def source_of(self, node: ast.AST) -> str:
        # Sliced from the model's lines: ast.get_source_segment re-splits the
        # whole file on every call, which made big modules quadratic.
        return _segment(self.model.lines, node) or ast.unparse(node)

    def scope_of(self, node: ast.AST) -> Scope:
        return self.model.enclosing_scope(node)

    def in_coroutine(self, node: ast.AST) -> bool:
        function = self.scope_of(node).function
        return function is not None and function.is_async

    # -- resolution ---------------------------------------------------------
    def callee(self, call: ast.Call) -> Value:
        return self.resolver.callee(call)

    def target(self, call: ast.Call) -> str | None:
        """Qualified name of what ``call`` calls (project qualname or canonical library name)."""
        return self.resolver.target_name(self.resolver.callee(call))

    def value_of(self, node: ast.expr) -> Value:
        return self.resolver.value_of(node, self.scope_of(node))

    def function_decl(self, qualname: str | None) -> FunctionDecl | None:
        return self.index.functions.get(qualname) if qualname else None

    def blocking_chain(self, qualname: str) -> list[Site] | None:
        return self.facts.blocking_chain(qualname)

    def loop_runner_chain(self, qualname: str) -> list[Site] | None:
        return self.facts.loop_runner_chain(qualname)

    # -- reporting ----------------------------------------------------------
    def diagnostic(
        self,
        rule: Rule,
        where: ast.AST | Span,
        message: str,
        related: Iterable[Related] = (),
        fixes: Iterable[Fix] = (),
    ) -> Diagnostic:
        span = where if isinstance(where, Span) else self.span(where)
        severity = self.config.severity.get(rule.name, rule.default_severity)
        return Diagnostic(
            rule=rule.name,
            code=rule.code,
            message=message,
            path=self.path,
            span=span,
            severity=severity,
            related=list(related),
            fixes=[f for f in fixes if f is not None],
        )


@dataclass
class ModulePart:
    """Some top-level statements of a module, with their calls and sync loops."""

    statements: list[ast.stmt]
    calls: list[CallSite]
    loops: list[ast.For | ast.While]


def function_nodes(model: ModuleModel) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    return {
        scope.qualname: scope.node  # type: ignore[misc]
        for scope in model.scopes
        if scope.kind == "function" and isinstance(scope.node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def _segment(lines: list[str], node: ast.AST) -> str | None:
    """The source text of ``node`` (ast columns are UTF-8 byte offsets)."""
    try:
        first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[attr-defined]
        start, end = node.col_offset, node.end_col_offset  # type: ignore[attr-defined]
    except AttributeError:
        return None
    if end is None or last is None or not 0 <= first <= last < len(lines):
        return None
    if first == last:
        return lines[first].encode("utf-8")[start:end].decode("utf-8", errors="replace")
    head = lines[first].encode("utf-8")[start:].decode("utf-8", errors="replace")
    tail = lines[last].encode("utf-8")[:end].decode("utf-8", errors="replace")
    return "\n".join([head, *lines[first + 1 : last], tail])

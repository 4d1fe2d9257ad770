"""Per-module summaries of behaviour: what each function does that matters to the rules.

For every function of a module (and its top-level code): the blocking calls it
makes itself, the project functions it calls, and the event-loop runners it
starts.  ``ProjectFacts`` links the summaries of all modules and answers the
interprocedural questions - "does this sync helper block, and through which
chain of calls?", "can this helper reach ``asyncio.run``?" - once per function,
memoised, so rules never re-walk other modules.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable

from .diagnostics import Span
from .index import ProjectIndex
from .semantics import ModuleModel, Resolver

MODULE_CODE = "<module>"

# Calls that start an event loop and so must not run inside one.
LOOP_RUNNERS = frozenset(
    {
        "asyncio.run",
        "asyncio.AbstractEventLoop.run_until_complete",
        "asyncio.AbstractEventLoop.run_forever",
        "asyncio.Runner.run",
    }
)


@dataclass(frozen=True)
class Site:
    """A call inside a function: what it calls and where."""

    target: str
    path: str
    span: Span
    category: str = ""


@dataclass
class FunctionFacts:
    qualname: str
    is_async: bool
    path: str
    blocking: list[Site] = field(default_factory=list)
    calls: list[Site] = field(default_factory=list)
    runs_loop: list[Site] = field(default_factory=list)
    # Calls cheap resolution could not type have been put to jedi.  Coroutines
    # are refined at once; sync functions only when a chain query reaches them.
    refined: bool = False


@dataclass
class ModuleFacts:
    module: str
    path: str
    functions: dict[str, FunctionFacts] = field(default_factory=dict)


def span_of(model: ModuleModel, node: ast.AST) -> Span:
    index = model.parsed.index
    line = node.lineno  # type: ignore[attr-defined]
    end_line = getattr(node, "end_lineno", None) or line
    end_col = getattr(node, "end_col_offset", None)
    return Span.of(
        line,
        index.char_col(line, node.col_offset),  # type: ignore[attr-defined]
        end_line,
        index.char_col(end_line, end_col) if end_col is not None else 0,
    )


def function_key(model: ModuleModel, scope) -> str:
    function = scope.function
    return function.qualname if function is not None else f"{model.name}.{MODULE_CODE}"


def summarise(model: ModuleModel, resolver: Resolver) -> ModuleFacts:
    facts = ModuleFacts(model.name, model.path)
    for scope in model.scopes:
        if scope.kind == "function":
            facts.functions[scope.qualname] = FunctionFacts(scope.qualname, scope.is_async, model.path)
    module_key = f"{model.name}.{MODULE_CODE}"
    facts.functions[module_key] = FunctionFacts(module_key, False, model.path)
    for site in model.calls:
        if site.awaited:
            continue
        # Cheap resolution only: jedi is asked later, where a rule or a chain needs it.
        callee = resolver.callee(site.node, site.scope, infer=False)
        record_call(facts.functions[function_key(model, site.scope)], model, resolver, site.node, callee)
    return facts


def refine(function: FunctionFacts, model: ModuleModel, resolver: Resolver) -> None:
    """Put the calls of a sync function that cheap resolution left open to jedi."""
    function.refined = True
    for site in model.calls:
        if site.awaited or function_key(model, site.scope) != function.qualname:
            continue
        if resolver.callee(site.node, site.scope, infer=False).known:
            continue
        callee = resolver.callee(site.node, site.scope, infer=True)
        if callee.known:
            record_call(function, model, resolver, site.node, callee)


def record_call(owner: FunctionFacts, model: ModuleModel, resolver: Resolver, call: ast.Call, callee) -> None:
    target = resolver.target_name(callee)
    if target is None:
        return
    entry = resolver.catalog.blocking_entry(target)
    if entry is not None:
        owner.blocking.append(Site(entry.name, model.path, span_of(model, call), entry.category))
    elif target in resolver.index.functions:
        owner.calls.append(Site(target, model.path, span_of(model, call)))
    elif target in LOOP_RUNNERS and not is_guarded_runner(model, call):
        owner.runs_loop.append(Site(target, model.path, span_of(model, call)))


def is_guarded_runner(model: ModuleModel, call: ast.Call, main_guard: bool = True) -> bool:
    """Whether a loop runner only runs where no event loop is running.

    Recognised: ``if __name__ == "__main__":``; the handler of a ``try`` that
    probes ``asyncio.get_running_loop()`` and catches ``RuntimeError``; an
    ``if`` branch taken only without a running loop (``loop is None``,
    ``not loop``, ``not loop.is_running()``, the ``else`` of ``if loop:``) where
    ``loop`` comes from such a probe; and code after an early exit
    (``if loop is not None: raise ...``).  ``main_guard=False``: the
    ``__main__`` guard does not count (a notebook's ``__name__`` is ``"__main__"``).
    """
    probes = _loop_probe_names(model, call)
    child: ast.AST = call
    for ancestor in model.ancestors(call):
        if isinstance(ancestor, ast.If):
            if main_guard and _is_main_guard(ancestor.test):
                return True
            branch = "body" if child in ancestor.body else "orelse" if child in ancestor.orelse else None
            if branch is not None and _no_loop_branch(ancestor.test, probes) == branch:
                return True
        elif isinstance(ancestor, _TRY_NODES):
            if child in ancestor.handlers and _catches_runtime_error(child) and _probes_loop(ancestor.body):
                return True
        if _after_early_exit(ancestor, child, probes):
            return True
        child = ancestor
    return False


_TRY_NODES = (ast.Try, getattr(ast, "TryStar", ast.Try))
_PROBES = frozenset({"get_running_loop", "_get_running_loop", "get_event_loop"})


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)):
        return False
    sides = [test.left, test.comparators[0]]
    return any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides) and any(
        isinstance(s, ast.Constant) and s.value == "__main__" for s in sides
    )


def _is_probe_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    return name in _PROBES


def _loop_probe_names(model: ModuleModel, call: ast.Call) -> set[str]:
    """Names the call's scope binds to a loop probe (``loop = asyncio.get_running_loop()``)."""
    scope = model.enclosing_scope(call)
    return {
        name
        for name, bindings in scope.bindings.items()
        if any(_is_probe_call(binding) for binding in bindings)
    }


def _no_loop_branch(test: ast.expr, probes: set[str]) -> str | None:
    """Which branch of ``if test`` runs without a running loop: "body", "orelse" or None."""

    def is_probe(node: ast.expr) -> bool:
        return (isinstance(node, ast.Name) and node.id in probes) or _is_probe_call(node)

    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _no_loop_branch(test.operand, probes)
        return {"body": "orelse", "orelse": "body"}.get(inner or "")
    if is_probe(test):
        return "orelse"  # `if loop:` - the loop is there
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Attribute) and test.func.attr == "is_running":
        return "orelse"
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and is_probe(test.left):
        other = test.comparators[0]
        if isinstance(other, ast.Constant) and other.value is None:
            if isinstance(test.ops[0], (ast.Is, ast.Eq)):
                return "body"
            if isinstance(test.ops[0], (ast.IsNot, ast.NotEq)):
                return "orelse"
    if isinstance(test, ast.BoolOp):
        branches = {_no_loop_branch(value, probes) for value in test.values}
        if isinstance(test.op, ast.Or) and branches == {"body"}:
            return "body"
        if isinstance(test.op, ast.And) and branches == {"orelse"}:
            return "orelse"
    return None


def _catches_runtime_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = {t.attr if isinstance(t, ast.Attribute) else getattr(t, "id", "") for t in types}
    return bool(names & {"RuntimeError", "Exception", "BaseException"})


def _probes_loop(body: list[ast.stmt]) -> bool:
    return any(_is_probe_call(node) for statement in body for node in ast.walk(statement))


def _after_early_exit(block: ast.AST, child: ast.AST, probes: set[str]) -> bool:
    """``child`` follows, in ``block``, an ``if <loop running>: raise/return`` with no else."""
    for field_name in ("body", "orelse", "finalbody"):
        statements = getattr(block, field_name, None)
        if not isinstance(statements, list) or child not in statements:
            continue
        for statement in statements[: statements.index(child)]:
            if (
                isinstance(statement, ast.If)
                and not statement.orelse
                and _no_loop_branch(statement.test, probes) == "orelse"
                and isinstance(statement.body[-1], (ast.Raise, ast.Return))
            ):
                return True
    return False


class ProjectFacts:
    """The summaries of all modules, linked: interprocedural answers, memoised."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.functions: dict[str, FunctionFacts] = {}
        self._blocking: dict[str, list[Site] | None] = {}
        self._runs_loop: dict[str, list[Site] | None] = {}
        # Set by the project: refines a sync function's facts with jedi on demand.
        self.refine: Callable[[FunctionFacts], None] | None = None

    def add(self, facts: ModuleFacts) -> None:
        self.functions.update(facts.functions)
        self._blocking.clear()
        self._runs_loop.clear()

    def remove_module(self, path: str) -> None:
        self.functions = {k: v for k, v in self.functions.items() if v.path != path}
        self._blocking.clear()
        self._runs_loop.clear()

    def interesting_names(self) -> set[str]:
        """Names of project functions that matter to a rule: worth inferring calls by."""
        names: set[str] = set()
        for qualname, facts in self.functions.items():
            decl = self.index.functions.get(qualname)
            if decl is None:
                continue
            if decl.creates_coroutine or facts.blocking or facts.runs_loop or decl.is_property:
                names.add(decl.name)
        return names

    def blocking_chain(self, qualname: str) -> list[Site] | None:
        """For a sync project function that blocks: the calls down to the blocking one."""
        return self._chain(qualname, "blocking", self._blocking, set())

    def loop_runner_chain(self, qualname: str) -> list[Site] | None:
        """For a sync project function that can start an event loop: the calls down to it."""
        return self._chain(qualname, "runs_loop", self._runs_loop, set())

    def _chain(
        self, qualname: str, attribute: str, memo: dict[str, list[Site] | None], visiting: set[str]
    ) -> list[Site] | None:
        if qualname in memo:
            return memo[qualname]
        facts = self.functions.get(qualname)
        decl = self.index.functions.get(qualname)
        if facts is None or facts.is_async or (decl is not None and decl.creates_coroutine):
            return None  # coroutines are checked where they are; awaiting them does not block
        if qualname in visiting:
            return None  # recursion: decided by the outer frame
        visiting.add(qualname)
        if not facts.refined and self.refine is not None:
            self.refine(facts)
        direct: list[Site] = getattr(facts, attribute)
        result: list[Site] | None = [direct[0]] if direct else None
        if result is None:
            for call in facts.calls:
                below = self._chain(call.target, attribute, memo, visiting)
                if below is not None:
                    result = [call, *below]
                    break
        visiting.discard(qualname)
        memo[qualname] = result
        return result

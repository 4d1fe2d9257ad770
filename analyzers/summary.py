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
    catalog = resolver.catalog
    index = resolver.index
    for site in model.calls:
        if site.awaited:
            continue
        callee = resolver.callee(site.node, site.scope)
        target = resolver.target_name(callee)
        if target is None:
            continue
        owner = facts.functions[function_key(model, site.scope)]
        entry = catalog.blocking_entry(target)
        if entry is not None:
            owner.blocking.append(Site(entry.name, model.path, span_of(model, site.node), entry.category))
        elif target in index.functions:
            owner.calls.append(Site(target, model.path, span_of(model, site.node)))
        elif target in LOOP_RUNNERS and not is_guarded_runner(model, site.node):
            owner.runs_loop.append(Site(target, model.path, span_of(model, site.node)))
    return facts


def is_guarded_runner(model: ModuleModel, call: ast.Call) -> bool:
    """``asyncio.run`` under ``if __name__ == "__main__":`` or the seed's no-running-loop guard."""
    for ancestor in model.ancestors(call):
        if isinstance(ancestor, ast.If):
            test = ast.unparse(ancestor.test).replace("'", '"')
            if "__name__" in test and '"__main__"' in test:
                return True
            if (" is None" in test or "not " in test) and "get_running_loop" in model.text:
                # `if loop is None: asyncio.run(...)` after a get_running_loop() probe
                return True
        if isinstance(ancestor, ast.Try):
            handlers = [ast.unparse(h.type) for h in ancestor.handlers if h.type is not None]
            if any("RuntimeError" in h for h in handlers) and "get_running_loop" in ast.unparse(ancestor):
                return True
    return False


class ProjectFacts:
    """The summaries of all modules, linked: interprocedural answers, memoised."""

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.functions: dict[str, FunctionFacts] = {}
        self._blocking: dict[str, list[Site] | None] = {}
        self._runs_loop: dict[str, list[Site] | None] = {}

    def add(self, facts: ModuleFacts) -> None:
        self.functions.update(facts.functions)
        self._blocking.clear()
        self._runs_loop.clear()

    def remove_module(self, path: str) -> None:
        self.functions = {k: v for k, v in self.functions.items() if v.path != path}
        self._blocking.clear()
        self._runs_loop.clear()

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

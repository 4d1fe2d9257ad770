"""nested-asyncio-run (ASN005): asyncio.run() or run_until_complete() reachable from a running event loop.

What it finds
    A call that starts an event loop - ``asyncio.run(...)``,
    ``loop.run_until_complete(...)``, ``loop.run_forever()``,
    ``asyncio.Runner().run(...)`` - made where a loop is already running: in the
    body of an ``async def``, or at the top level of a Jupyter notebook (IPython
    runs its cells on an event loop).  Also a call, made there, of a sync
    function of the project that starts a loop, directly or through further
    sync calls, in any module: the diagnostic is reported at the call in the
    coroutine, its message names the chain (``sync_helper() -> asyncio.run``)
    and the related information points at each step down to the runner.
    Not reported: runners under ``if __name__ == "__main__":`` (except in a
    notebook, where ``__name__`` is ``"__main__"``), runners that
    only run when no loop is running (``asyncio.get_running_loop()`` probed in
    a ``try``/``except RuntimeError``, then ``asyncio.run`` in the handler or
    under ``if loop is None:``) or off the loop's thread (``if loop_thread_id !=
    threading.get_ident():``), sync functions only called from sync code,
    calls handed to a thread (``asyncio.to_thread(sync_helper)``), and
    ``asyncio.run_coroutine_threadsafe``, which is meant for this.

Why it is bad
    An event loop cannot be started inside a running one: ``asyncio.run``
    raises ``RuntimeError: asyncio.run() cannot be called from a running event
    loop`` and ``run_until_complete`` raises ``This event loop is already
    running``.  The coroutine handed over never runs ("coroutine was never
    awaited").  The bridge "async -> sync helper -> asyncio.run -> async" only
    works as long as nothing up the stack is async; in a notebook, a FastAPI
    handler or a pytest-asyncio test it fails at once.

Example
    ```python
    async def inner():
        return "data"

    def sync_helper():
        return asyncio.run(inner())

    async def main():
        result = sync_helper()        # reported: sync_helper() -> asyncio.run
        data = asyncio.run(inner())   # reported, fix: data = await inner()
    ```

    In a notebook cell, ``asyncio.run(main())`` at the top level is reported;
    write ``await main()``.

Fix
    In a coroutine, ``asyncio.run(c)``, ``loop.run_until_complete(c)`` and
    ``runner.run(c)`` become ``await c``; at the top level of a notebook,
    ``asyncio.run(c)`` becomes the top-level ``await c`` IPython accepts.  The
    fix is safe when the call has just the coroutine for argument: the
    original code can only raise ``RuntimeError``, the fixed code runs the
    coroutine on the loop that is already there.  It is unsafe when it drops
    other arguments (``debug=True``, ``loop_factory=``), for ``Runner.run`` (the
    runner's own loop and context are no longer used), and in modules that
    import ``nest_asyncio``, where nested loops are made to work on purpose.
    No fix is offered inside a generator expression (``await`` there would
    turn it into an async generator) nor for ``run_forever()``.  A call
    through sync helpers has no automatic fix: make the helpers async down to
    the runner and await them, or, as a last resort, run the helper in a
    thread (``await asyncio.to_thread(sync_helper)``), where no loop runs.

Not caught yet
    Loops run through a loop object the engine cannot resolve (a parameter
    without annotation, ``get_loop()`` of a third-party framework); runners
    reached through callbacks, properties or dynamic dispatch; other
    environments that run a loop around sync code (a sync function that is
    only ever called by an async framework is not known to run on the loop).
"""

from __future__ import annotations

import ast
from typing import Iterator

from ..diagnostics import Diagnostic, Fix, Related
from ..fixes import awaited, make_fix, replacement
from ..summary import LOOP_RUNNERS, Site, is_guarded_runner
from .base import Rule, RuleContext

# Runners whose first argument is the coroutine (or future) to run.
_RUNS_ARGUMENT = frozenset(
    {"asyncio.run", "asyncio.AbstractEventLoop.run_until_complete", "asyncio.Runner.run"}
)
_SHORT = {
    "asyncio.run": "asyncio.run",
    "asyncio.AbstractEventLoop.run_until_complete": "run_until_complete",
    "asyncio.AbstractEventLoop.run_forever": "run_forever",
    "asyncio.Runner.run": "asyncio.Runner.run",
}


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    in_notebook = ctx.model.notebook is not None
    for site in ctx.calls:
        if site.awaited:
            continue
        notebook_top_level = in_notebook and site.scope.kind == "module"
        if not (site.in_coroutine or notebook_top_level):
            continue
        call = site.node
        target = ctx.target(call)
        if target is None:
            continue
        if target in LOOP_RUNNERS:
            if not is_guarded_runner(ctx.model, call, main_guard=not notebook_top_level):
                yield _direct(ctx, call, target, notebook_top_level)
            continue
        decl = ctx.function_decl(target)
        if decl is None or decl.creates_coroutine:
            continue
        chain = ctx.loop_runner_chain(target)
        if chain:
            yield _indirect(ctx, call, target, chain, notebook_top_level)


def _where(ctx: RuleContext, call: ast.Call, notebook_top_level: bool) -> tuple[str, str]:
    """(where the call is, why a loop is running there)."""
    if notebook_top_level:
        return "at the top level of a notebook", "IPython already runs an event loop"
    function = ctx.scope_of(call).function
    name = getattr(function.node, "name", None) if function is not None else None
    where = f"inside coroutine `{name}`" if name else "inside a coroutine"
    return where, "an event loop is already running"


def _direct(ctx: RuleContext, call: ast.Call, target: str, notebook_top_level: bool) -> Diagnostic:
    where, why = _where(ctx, call, notebook_top_level)
    message = f"`{_SHORT.get(target, target)}()` {where} raises RuntimeError: {why}"
    fix = _await_fix(ctx, call, target, notebook_top_level)
    if fix is not None:
        argument = ctx.source_of(call.args[0])
        message += f"; use {'top-level ' if notebook_top_level else ''}`await {argument}`"
    return ctx.diagnostic(RULE, call, message, fixes=[fix])


def _indirect(
    ctx: RuleContext, call: ast.Call, target: str, chain: list[Site], notebook_top_level: bool
) -> Diagnostic:
    last = chain[-1]
    names = [_short(ctx, target), *(_short(ctx, site.target) for site in chain)]
    where, why = _where(ctx, call, notebook_top_level)
    message = (
        f"`{ctx.source_of(call.func)}()` {where} starts an event loop ({'() -> '.join(names)}()),"
        f" which raises RuntimeError: {why}; make the chain async and await it"
    )
    related = [Related(site.path, site.span, f"calls `{_short(ctx, site.target)}()`") for site in chain[:-1]]
    related.append(Related(last.path, last.span, f"starts an event loop: `{_short(ctx, last.target)}()`"))
    return ctx.diagnostic(RULE, call, message, related=related)


def _await_fix(ctx: RuleContext, call: ast.Call, target: str, notebook_top_level: bool) -> Fix | None:
    if target not in _RUNS_ARGUMENT or not call.args or isinstance(call.args[0], ast.Starred):
        return None
    if any(isinstance(node, ast.GeneratorExp) for node in ctx.model.ancestors(call)):
        return None
    span = ctx.span(call)
    if any(line in ctx.model.parsed.skipped_lines for line in range(span.start.line, span.end.line + 1)):
        return None  # a line parse recovery rewrote: its columns are not the file's
    argument = ctx.source_of(call.args[0])
    extra_arguments = len(call.args) > 1 or bool(call.keywords)
    nested_on_purpose = "nest_asyncio" in ctx.model.decl.imports
    safe = not extra_arguments and not nested_on_purpose and target != "asyncio.Runner.run"
    text = awaited(ctx.model, call, _parenthesised(call.args[0], argument))
    title = f"Replace with {'top-level ' if notebook_top_level else ''}`await {argument}`"
    return make_fix(title, [replacement(ctx.span(call), text)], safe=safe)


def _parenthesised(node: ast.expr, text: str) -> str:
    """``await`` binds tighter than most operators: ``await (a or b)``, not ``await a or b``."""
    if isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript, ast.Constant)):
        return text
    return f"({text})"


def _short(ctx: RuleContext, qualname: str) -> str:
    """Project functions by their local name (`Repo.fetch`); library names stay whole."""
    decl = ctx.function_decl(qualname)
    if decl is None:
        return _SHORT.get(qualname, qualname)
    if decl.class_qualname:
        return f"{decl.class_qualname.rsplit('.', 1)[-1]}.{decl.name}"
    return decl.name


RULE = Rule(
    name="nested-asyncio-run",
    code="ASN005",
    summary="asyncio.run() or run_until_complete() reachable from a running event loop",
    check=check,
)

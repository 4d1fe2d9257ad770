"""dangling-task (ASN003): a task is created and no reference to it is kept.

What it finds
    ``asyncio.create_task(...)``, ``asyncio.ensure_future(...)`` and
    ``loop.create_task(...)`` - the loop from ``asyncio.get_running_loop()``,
    ``get_event_loop()``, ``new_event_loop()``, a parameter typed
    ``AbstractEventLoop``, or ``asyncio.get_running_loop().create_task(...)``
    directly - whose result is

    - discarded (a bare call statement),
    - assigned to ``_``, or
    - held only in a local variable of the function that is never read.

    The calls are recognised by resolution (imports, aliases such as
    ``from asyncio import create_task as spawn``, inferred loop objects), not by
    name.  A task that is kept - added to a set or list, stored in an
    attribute or a global, awaited, returned, passed on, given a done callback
    (``asyncio.create_task(job()).add_done_callback(...)``) - is not reported,
    and neither is ``TaskGroup.create_task``: the group holds its tasks.

Why it is bad
    The event loop keeps only a weak reference to a task.  A task that nobody
    references can be garbage-collected before it finishes, and its coroutine
    is then abandoned silently, mid-way: the email half sent, the cleanup never
    done.  The Python documentation asks you to keep a reference to every
    background task.

Example
    ```python
    async def main():
        asyncio.create_task(send_email("user@example.com"))
    ```

Fix
    The pattern the Python documentation recommends: a module-level set of
    background tasks (declared once per module, after the imports), the task
    added to it and removed by a done callback:

    ```python
    _background_tasks: set[asyncio.Task] = set()

    async def main():
        task = asyncio.create_task(send_email("user@example.com"))
        _background_tasks.add(task)
        task.add_done_callback(_background_tasks.discard)
    ```

    The fix keeps the statement's indentation (or joins with ``;`` on a line
    it shares with other code), keeps the name of a local that was never read,
    replaces ``_`` by a fresh name, and picks a name that clashes with nothing
    in the function.  It is *safe*: the task runs exactly as before, it just
    can no longer be collected while it runs.

Not caught yet
    Tasks stored in a container that is itself dropped; a local that is read
    but whose task is still lost (``t = create_task(...); print(t)``); tasks
    created by wrappers of your own around ``create_task`` (report the wrapper's
    callers by hand, or keep the reference inside the wrapper); other
    libraries' spawn functions (``anyio``, ``trio`` nurseries keep their tasks
    and are fine).
"""

from __future__ import annotations

import ast
from typing import Iterator

from ..diagnostics import Diagnostic, Fix
from ..fixes import ensure_import, ensure_module_declaration, insertion, make_fix, replacement
from .base import Rule, RuleContext

TASK_FACTORIES = frozenset({"asyncio.create_task", "asyncio.ensure_future", "asyncio.AbstractEventLoop.create_task"})
_FACTORY_NAMES = frozenset(name.rsplit(".", 1)[-1] for name in TASK_FACTORIES)
BACKGROUND_TASKS = "_background_tasks"


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    loads: dict[ast.AST, set[str]] = {}
    for site in ctx.calls:
        if site.awaited:
            continue
        call = site.node
        parent = ctx.model.parent(call)
        if not isinstance(parent, (ast.Expr, ast.Assign, ast.AnnAssign)):
            continue  # kept, awaited, passed on: only statements can drop a task
        if not _creates_task(ctx, call):
            continue
        how = _how_dropped(ctx, call, parent, loads)
        if how is None:
            continue
        kept_name = how if how not in ("", "_") else None
        message = _message(ctx, call, how)
        yield ctx.diagnostic(RULE, call, message, fixes=[_fix(ctx, call, parent, kept_name)])


def _creates_task(ctx: RuleContext, call: ast.Call) -> bool:
    """Resolution decides; jedi is asked only about calls spelled like a task factory."""
    resolver = ctx.resolver
    callee = resolver.callee(call, infer=False)
    if not callee.known and _called_name(call) in _FACTORY_NAMES:
        callee = resolver.callee(call, infer=True)
    target = resolver.target_name(callee)
    return target is not None and ctx.catalog.canonical(target) in TASK_FACTORIES


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _how_dropped(
    ctx: RuleContext, call: ast.Call, statement: ast.stmt, loads: dict[ast.AST, set[str]]
) -> str | None:
    """"" when discarded, "_" when assigned to `_`, a local's name when never read; None when kept."""
    if isinstance(statement, ast.Expr):
        return ""
    if statement.value is not call:  # type: ignore[attr-defined]
        return None
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    if len(targets) != 1 or not isinstance(targets[0], ast.Name):
        return None  # attributes, subscripts, tuples: kept somewhere
    name = targets[0].id
    scope = ctx.scope_of(call)
    if scope.kind != "function":
        return None  # a global or class attribute keeps it
    if name == "_":
        return "_"
    if "global" in scope.bindings.get(name, ()) or any(
        isinstance(node, ast.Nonlocal) and name in node.names for node in ast.walk(scope.node)
    ):
        return None
    read = loads.get(scope.node)
    if read is None:
        read = loads[scope.node] = {
            node.id for node in ast.walk(scope.node) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
        }
    return None if name in read else name


def _message(ctx: RuleContext, call: ast.Call, how: str) -> str:
    shown = f"`{_func_text(ctx, call)}(...)`"
    if how == "":
        where = f"The task from {shown} is not kept"
    elif how == "_":
        where = f"The task from {shown} is assigned to `_` and not kept"
    else:
        function = ctx.scope_of(call).function
        name = getattr(function.node, "name", "the function") if function else "the function"
        where = f"The task from {shown} is held only in `{how}`, which is never used, so not beyond `{name}`"
    return (
        f"{where}: the event loop holds tasks weakly, so it can be garbage-collected before it finishes; "
        f"keep a reference (add it to a set and discard it when done)"
    )


def _func_text(ctx: RuleContext, call: ast.Call) -> str:
    text = ctx.source_of(call.func)
    return text if "\n" not in text and len(text) <= 60 else "create_task"


# -- the fix ------------------------------------------------------------------


def _fix(ctx: RuleContext, call: ast.Call, statement: ast.stmt, kept_name: str | None) -> Fix | None:
    model = ctx.model
    lines = model.lines
    span = ctx.span(statement)
    asyncio_name, import_edit = ensure_import(model, "asyncio")
    declaration = ensure_module_declaration(
        model, BACKGROUND_TASKS, f"{BACKGROUND_TASKS}: set[{asyncio_name}.Task] = set()"
    )
    name = kept_name or fresh_name(ctx, call, "task")
    follow_up = [f"{BACKGROUND_TASKS}.add({name})", f"{name}.add_done_callback({BACKGROUND_TASKS}.discard)"]

    edits = [import_edit, declaration]
    call_span = ctx.span(call)
    if isinstance(statement, ast.Expr):
        edits.append(insertion(call_span.start.line, call_span.start.column, f"{name} = "))
    elif kept_name is None:  # `_ = create_task(...)`: name the task
        target_span = ctx.span(statement.targets[0] if isinstance(statement, ast.Assign) else statement.target)  # type: ignore[attr-defined]
        edits.append(replacement(target_span, name))

    start_line = lines[span.start.line - 1]
    before = start_line[: span.start.column]
    end_line = lines[span.end.line - 1]
    after = end_line[span.end.column :]
    if before.strip() == "" and (after.strip() == "" or after.lstrip().startswith("#")):
        # The statement has its lines to itself: new lines with its indentation,
        # after any comment that ends the line.
        text = "".join(f"\n{before}{line}" for line in follow_up)
        edits.append(insertion(span.end.line, len(end_line), text))
    else:
        # `if ready: create_task(...)` or `a = 1; create_task(...)`: stay on the line.
        edits.append(insertion(span.end.line, span.end.column, "".join(f"; {line}" for line in follow_up)))
    return make_fix(f"Keep a reference to the task in `{BACKGROUND_TASKS}`", edits, safe=True)


def fresh_name(ctx: RuleContext, node: ast.AST, base: str) -> str:
    """``base``, ``base_2``, ... : the first name nothing in the function or module uses."""
    module_names, local_names = _names_in_use(ctx, node)

    def taken(name: str) -> bool:
        return name in module_names or name in local_names

    if not taken(base):
        return base
    number = 2
    while taken(f"{base}_{number}"):
        number += 1
    return f"{base}_{number}"


def _names_in_use(ctx: RuleContext, node: ast.AST) -> tuple[frozenset[str], frozenset[str]]:
    """The module's names, and those of the function around ``node`` (of the whole module
    outside functions).  Each is gathered once per analysis: asked afresh for every finding,
    a module with thousands of findings (or of functions) took quadratic time."""
    module_names = ctx.memo.get("names-in-use:module")
    if module_names is None:
        module_names = ctx.memo["names-in-use:module"] = frozenset(ctx.model.module_scope.bindings)
    function = ctx.scope_of(node).function
    where = function.node if function is not None else ctx.model.tree
    key = ("names-in-use", id(where))
    local_names = ctx.memo.get(key)
    if local_names is None:
        names = set()
        for child in ast.walk(where):
            if isinstance(child, ast.Name):
                names.add(child.id)
            elif isinstance(child, ast.arg):
                names.add(child.arg)
        local_names = ctx.memo[key] = frozenset(names)
    return module_names, local_names  # type: ignore[return-value]


RULE = Rule(
    name="dangling-task",
    code="ASN003",
    summary="A task is created and no reference to it is kept",
    check=check,
)

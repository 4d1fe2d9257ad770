"""gather-lost-exceptions (ASN004): asyncio.gather loses all exceptions but the first.

What it finds
    ``asyncio.gather(...)`` of two or more awaitables, or of a starred
    collection (``gather(*jobs)``), without ``return_exceptions=True``, inside
    the ``try`` block of a ``try``/``except`` (or ``except*``) of the same
    function: the code means to handle the failures, but only the first one
    reaches the handler.  With ``strict-gather = true`` every such ``gather``
    is reported, caught or not (``[tool.asyncsense]`` setting).  ``gather`` is recognised by resolution
    (``from asyncio import gather``, ``import asyncio as aio``), not by name.

Why it is bad
    By default ``gather`` raises the first exception any of its awaitables
    raises.  The exceptions of the others are never raised anywhere: a
    ``ValueError`` from the second task is silently dropped while the handler
    deals with the first task's ``ConnectionError`` (and the other awaitables
    keep running, unsupervised).

Example
    ```python
    async def main():
        try:
            results = await asyncio.gather(
                task_that_raises_connection_error(),
                task_that_raises_value_error(),
            )
        except ConnectionError:
            print("Only this one is caught")
    ```

Fix
    1. Add ``return_exceptions=True`` (after the last argument, keeping the
       layout: a trailing comma and one argument per line stay that way).
       *Unsafe*: ``gather`` then returns exceptions among the results instead
       of raising, so the caller must inspect them
       (``isinstance(result, Exception)``); the ``except`` no longer fires.
    2. On Python 3.11+ (``target-version``, or the running Python when none is
       set), for the simple shapes ``await asyncio.gather(a(), b())`` and
       ``x = await asyncio.gather(a(), b())``, rewrite to ``asyncio.TaskGroup``:

       ```python
       async with asyncio.TaskGroup() as tg:
           t1 = tg.create_task(a())
           t2 = tg.create_task(b())
       x = [t1.result(), t2.result()]
       ```

       *Unsafe*: a failure now cancels the other tasks, and the failures
       arrive together as an ``ExceptionGroup``, which ``except ConnectionError``
       does not catch - handle them with ``except*``.

    The first fix is the diagnostic's fix; the TaskGroup rewrite is the alternative.

Not caught yet
    A ``gather`` created outside the ``try`` and awaited inside it
    (``fut = gather(...)`` ... ``try: await fut``); handlers in a caller of the
    function (use ``strict-gather``); ``asyncio.wait`` and
    ``asyncio.as_completed`` loops that read only the first failure.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from typing import Iterator

from ..diagnostics import Diagnostic, Fix
from ..fixes import ensure_import, insertion, make_fix, replacement
from .base import Rule, RuleContext
from .dangling_task import fresh_name

GATHER = "asyncio.gather"
_TRY_NODES = tuple(t for t in (ast.Try, getattr(ast, "TryStar", None)) if t is not None)
_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    for site in ctx.calls:
        call = site.node
        awaitables = _awaitables(call)
        if awaitables is None:
            continue
        if not _is_gather(ctx, call):
            continue
        handler = _enclosing_try(ctx, call)
        if handler is None and not ctx.config.strict_gather:
            continue
        yield ctx.diagnostic(
            RULE,
            call,
            _message(awaitables, handler),
            fixes=[_return_exceptions_fix(ctx, call), _task_group_fix(ctx, call)],
        )


def _is_gather(ctx: RuleContext, call: ast.Call) -> bool:
    """Resolution decides; jedi is asked only about calls spelled ``gather``."""
    resolver = ctx.resolver
    callee = resolver.callee(call, infer=False)
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if not callee.known and name == "gather":
        callee = resolver.callee(call, infer=True)
    target = resolver.target_name(callee)
    return target is not None and ctx.catalog.canonical(target) == GATHER


def _awaitables(call: ast.Call) -> str | None:
    """How many awaitables the gather gets ("2", "`*jobs`"), when it could lose exceptions."""
    for keyword in call.keywords:
        if keyword.arg is None:
            return None  # **options may hold return_exceptions
        if keyword.arg == "return_exceptions" and not (
            isinstance(keyword.value, ast.Constant) and keyword.value.value is False
        ):
            return None  # True, or decided at run time
    starred = [arg for arg in call.args if isinstance(arg, ast.Starred)]
    if starred:
        text = ast.unparse(starred[0])
        return f"`{text}`" if len(text) <= 40 else "a starred collection"
    return str(len(call.args)) if len(call.args) >= 2 else None


def _enclosing_try(ctx: RuleContext, call: ast.Call) -> ast.stmt | None:
    """The try/except of the same function whose ``try`` block holds the call."""
    child: ast.AST = call
    for ancestor in ctx.model.ancestors(call):
        if isinstance(ancestor, _SCOPE_NODES):
            return None
        if isinstance(ancestor, _TRY_NODES) and ancestor.handlers and child in ancestor.body:
            return ancestor
        child = ancestor
    return None


def _message(awaitables: str, handler: ast.stmt | None) -> str:
    what = f"{awaitables} awaitables" if awaitables.isdigit() else f"the awaitables of {awaitables}"
    if handler is not None:
        lost = (
            f"`asyncio.gather` of {what} raises only the first exception; the `except` around it "
            "never sees the others, which are lost"
        )
    else:
        lost = f"`asyncio.gather` of {what} raises only the first exception; the others are lost"
    return (
        f"{lost}. Pass `return_exceptions=True` (and inspect the results for exceptions), "
        "or on Python 3.11+ use `asyncio.TaskGroup`, which raises them all in an `ExceptionGroup`"
    )


# -- fix 1: return_exceptions=True --------------------------------------------


def _return_exceptions_fix(ctx: RuleContext, call: ast.Call) -> Fix | None:
    for keyword in call.keywords:
        if keyword.arg == "return_exceptions":  # `return_exceptions=False`
            return make_fix(
                "Set `return_exceptions=True` (then inspect the results for exceptions)",
                [replacement(ctx.span(keyword.value), "True")],
                safe=False,
            )
    arguments: list[ast.AST] = [*call.args, *call.keywords]
    if not arguments:
        return None
    last = max(arguments, key=lambda node: (node.end_lineno, node.end_col_offset))  # type: ignore[attr-defined]
    edits = _append_argument(ctx, call, last, "return_exceptions=True")
    if edits is None:
        return None
    return make_fix("Add `return_exceptions=True` (then inspect the results for exceptions)", edits, safe=False)


def _append_argument(ctx: RuleContext, call: ast.Call, last: ast.AST, argument: str) -> list | None:
    """Edits adding ``argument`` after ``last`` the way the call is laid out."""
    lines = ctx.model.lines
    arg_span = ctx.span(last)
    call_span = ctx.span(call)
    # Walk from the end of the last argument to the call's closing parenthesis:
    # only parentheses around the argument, a trailing comma, comments and
    # blanks can be there.
    after_arg = (arg_span.end.line, arg_span.end.column)
    comma: tuple[int, int] | None = None
    line, column = after_arg
    closing = (call_span.end.line, call_span.end.column - 1)
    while (line, column) < closing:
        text = lines[line - 1]
        if column >= len(text) or text[column] == "#" or text[column] == "\\":
            line, column = line + 1, 0
            continue
        char = text[column]
        if char == ")" and comma is None:
            after_arg = (line, column + 1)
        elif char == ",":
            comma = (line, column)
        elif not char.isspace():
            return None  # something we do not understand: no fix
        column += 1
    indent = _leading_space(lines[arg_span.start.line - 1])
    own_line = lines[arg_span.start.line - 1][: arg_span.start.column].strip() == ""
    multi_line = closing[0] > after_arg[0]
    if comma is not None:
        if closing[0] > comma[0]:
            # `    b(),  # note` then `)` below: a new line after the comma's line
            end_of_line = len(lines[comma[0] - 1])
            return [insertion(comma[0], end_of_line, f"\n{indent}{argument},")]
        return [insertion(comma[0], comma[1] + 1, f" {argument},")]
    if multi_line and own_line:  # one argument per line, no trailing comma
        end_of_line = len(lines[after_arg[0] - 1])
        return [
            insertion(after_arg[0], after_arg[1], ","),
            insertion(after_arg[0], end_of_line, f"\n{indent}{argument}"),
        ]
    return [insertion(after_arg[0], after_arg[1], f", {argument}")]


def _leading_space(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


# -- fix 2: asyncio.TaskGroup -------------------------------------------------


def _targets_task_group(ctx: RuleContext) -> bool:
    version = ctx.config.target_version or sys.version_info[:2]
    return tuple(version) >= (3, 11)


def _task_group_fix(ctx: RuleContext, call: ast.Call) -> Fix | None:
    if not _targets_task_group(ctx):
        return None
    if call.keywords or len(call.args) < 2 or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    model = ctx.model
    awaiting = model.parent(call)
    statement = model.parent(awaiting) if isinstance(awaiting, ast.Await) else None
    if isinstance(statement, ast.Expr):
        target_text = None
    elif isinstance(statement, ast.Assign) and len(statement.targets) == 1 and statement.value is awaiting:
        target_text = ctx.source_of(statement.targets[0])
    else:
        return None
    scope = ctx.scope_of(call)
    if scope.kind != "function" or not scope.is_async:
        return None
    lines = model.lines
    span = ctx.span(statement)
    indent = lines[span.start.line - 1][: span.start.column]
    if indent.strip() or _has_comment(ctx, statement):
        return None  # shares its line, or comments inside would be lost
    if lines[span.end.line - 1][span.end.column :].strip().startswith(";"):
        return None
    asyncio_name, import_edit = ensure_import(model, "asyncio")
    unit = _indent_unit(ctx, statement, indent)
    group = fresh_name(ctx, call, "tg")
    tasks = _task_names(ctx, call, len(call.args))
    body = [f"async with {asyncio_name}.TaskGroup() as {group}:"]
    for name, argument in zip(tasks, call.args):
        body.append(f"{indent}{unit}{name} = {group}.create_task({ctx.source_of(argument)})")
    if target_text is not None:
        body.append(f"{indent}{target_text} = [{', '.join(f'{name}.result()' for name in tasks)}]")
    return make_fix(
        f"Rewrite with `{asyncio_name}.TaskGroup` (failures then arrive as an `ExceptionGroup`: handle them with `except*`)",
        [replacement(span, "\n".join(body)), import_edit],
        safe=False,
    )


def _task_names(ctx: RuleContext, node: ast.AST, count: int) -> list[str]:
    for prefix in ("t", "task", "gathered_"):
        names = [f"{prefix}{i}" for i in range(1, count + 1)]
        if all(fresh_name(ctx, node, name) == name for name in names):
            return names
    base = fresh_name(ctx, node, "gathered_task")
    return [f"{base}_{i}" for i in range(1, count + 1)]


def _indent_unit(ctx: RuleContext, statement: ast.stmt, indent: str) -> str:
    """One level of indentation as the file writes it, taken from the enclosing block."""
    if "\t" in indent:
        return "\t"
    for ancestor in ctx.model.ancestors(statement):
        if isinstance(ancestor, ast.stmt):
            outer = _leading_space(ctx.model.lines[ancestor.lineno - 1])
            if indent.startswith(outer) and len(indent) > len(outer):
                return indent[len(outer) :]
            break
    return "    "


def _has_comment(ctx: RuleContext, statement: ast.stmt) -> bool:
    source = ctx.source_of(statement)
    try:
        return any(
            token.type == tokenize.COMMENT for token in tokenize.generate_tokens(io.StringIO(source).readline)
        )
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return True


RULE = Rule(
    name="gather-lost-exceptions",
    code="ASN004",
    summary="asyncio.gather loses all exceptions but the first",
    check=check,
)

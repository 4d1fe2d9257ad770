"""blocking-call (ASN001): synchronous blocking work inside a coroutine.

What it finds
    A call made on the event loop - in the body of an ``async def``, not awaited,
    not inside a nested sync ``def`` or ``lambda`` - to something that blocks:
    an API in the catalog (``time.sleep``, ``requests``, sockets, files,
    subprocesses, database drivers, locks, CPU-heavy hashing, ...), resolved
    through imports, instances, annotations and ``self`` attributes, or a sync
    function of the project that blocks, directly or through further sync calls,
    in any module.  For such an indirect call the message names the chain
    (``load_profile() -> requests.get``) and the diagnostic points at the real
    blocking call as related information.

Why it is bad
    The event loop runs in one thread: while the call blocks, no other
    coroutine, timer or I/O callback runs.  One ``requests.get`` with a slow
    server stalls every connection the process serves.

Example
    ```python
    async def handler():
        time.sleep(2)
        return requests.get(URL).json()
    ```

Fix
    ``time.sleep(x)`` becomes ``await asyncio.sleep(x)`` (safe).  Any other
    blocking call ``f(a, b=c)`` becomes ``await asyncio.to_thread(f, a, b=c)``
    (unsafe: the function now runs in a worker thread, so it must be
    thread-safe).  Where an async library does the job (httpx.AsyncClient,
    aiohttp, asyncio.create_subprocess_exec, aiosqlite ...) the message says so;
    swapping libraries is left to you.

Not caught yet
    Blocking work in C extensions the catalog does not list; calls through
    dynamic dispatch that neither the import table nor jedi can resolve
    (``getattr(obj, name)()``); properties that block (see the docs on profiles).
"""

from __future__ import annotations

import ast
from typing import Iterator

from ..catalog import BlockingEntry
from ..diagnostics import Diagnostic, Fix, Related
from ..fixes import awaited, ensure_import, make_fix, replacement
from ..summary import Site
from .base import Rule, RuleContext


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    for site in ctx.calls:
        if not site.in_coroutine or site.awaited:
            continue
        call = site.node
        target = ctx.target(call)
        if target is None:
            continue
        entry = ctx.catalog.blocking_entry(target)
        if entry is not None:
            yield _direct(ctx, call, entry)
            continue
        decl = ctx.function_decl(target)
        if decl is None or decl.creates_coroutine:
            continue
        chain = ctx.blocking_chain(target)
        if chain:
            yield _indirect(ctx, call, target, chain)


def _direct(ctx: RuleContext, call: ast.Call, entry: BlockingEntry) -> Diagnostic:
    function = ctx.scope_of(call).function
    where = f" in coroutine `{function.node.name}`" if function and hasattr(function.node, "name") else ""
    message = f"Blocking call `{entry.name}`{where} freezes the event loop ({entry.category})"
    if entry.replacement:
        message += f"; use {entry.replacement}"
    return ctx.diagnostic(RULE, call, message, fixes=[_fix(ctx, call, entry)])


def _indirect(ctx: RuleContext, call: ast.Call, target: str, chain: list[Site]) -> Diagnostic:
    last = chain[-1]
    names = [_short(ctx, target), *(_short(ctx, site.target) for site in chain)]
    entry = ctx.catalog.blocking_entry(last.target)
    category = f" ({entry.category})" if entry else ""
    message = f"`{_call_text(ctx, call)}` blocks the event loop: {' -> '.join(names)}{category}"
    if entry is not None and entry.replacement:
        message += f"; use {entry.replacement} there, or offload the call"
    related = [
        Related(site.path, site.span, f"calls `{_short(ctx, site.target)}`") for site in chain[:-1]
    ]
    related.append(Related(last.path, last.span, f"blocking call `{last.target}`{category}"))
    return ctx.diagnostic(RULE, call, message, related=related, fixes=[_to_thread_fix(ctx, call)])


def _fix(ctx: RuleContext, call: ast.Call, entry: BlockingEntry) -> Fix | None:
    if entry.fix == "asyncio-sleep":
        asyncio_name, import_edit = ensure_import(ctx.model, "asyncio")
        arguments = _arguments_text(ctx, call)
        text = awaited(ctx.model, call, f"{asyncio_name}.sleep({arguments})")
        return make_fix(
            f"Replace with `await {asyncio_name}.sleep(...)`",
            [replacement(ctx.span(call), text), import_edit],
            safe=True,
        )
    return _to_thread_fix(ctx, call)


def _to_thread_fix(ctx: RuleContext, call: ast.Call) -> Fix | None:
    asyncio_name, import_edit = ensure_import(ctx.model, "asyncio")
    function_text = ctx.source_of(call.func)
    arguments = _arguments_text(ctx, call)
    inner = f"{asyncio_name}.to_thread({function_text}{', ' + arguments if arguments else ''})"
    return make_fix(
        f"Run `{function_text}` in a worker thread with `{asyncio_name}.to_thread`",
        [replacement(ctx.span(call), awaited(ctx.model, call, inner)), import_edit],
        safe=False,
    )


def _arguments_text(ctx: RuleContext, call: ast.Call) -> str:
    """The call's arguments exactly as written (comments and layout inside kept)."""
    if not call.args and not call.keywords:
        return ""
    func_span = ctx.span(call.func)
    call_span = ctx.span(call)
    lines = ctx.model.lines
    text = _slice(lines, func_span.end.line, func_span.end.column, call_span.end.line, call_span.end.column)
    text = text.strip()
    # text is "( ... )" possibly with whitespace before "(": drop the outer parentheses
    if text.startswith("(") and text.endswith(")"):
        return text[1:-1].strip().rstrip(",").strip() if "\n" not in text else text[1:-1].strip()
    return ", ".join(ast.unparse(a) for a in [*call.args, *call.keywords])


def _slice(lines: list[str], line: int, col: int, end_line: int, end_col: int) -> str:
    if line == end_line:
        return lines[line - 1][col:end_col]
    parts = [lines[line - 1][col:]]
    parts.extend(lines[line : end_line - 1])
    parts.append(lines[end_line - 1][:end_col])
    return "\n".join(parts)


def _call_text(ctx: RuleContext, call: ast.Call) -> str:
    return f"{ctx.source_of(call.func)}()"


def _short(ctx: RuleContext, qualname: str) -> str:
    """Project functions by their local name (`Repo.fetch`); library names stay whole."""
    decl = ctx.function_decl(qualname)
    if decl is None:
        return qualname
    if decl.class_qualname:
        return f"{decl.class_qualname.rsplit('.', 1)[-1]}.{decl.name}"
    return decl.name


RULE = Rule(
    name="blocking-call",
    code="ASN001",
    summary="Synchronous blocking call on the event loop (directly or through the project's helpers)",
    check=check,
)

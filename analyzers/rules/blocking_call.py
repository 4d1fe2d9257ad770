"""blocking-call (ASN001): synchronous blocking work on the event loop.

What it finds
    A call made on the event loop - in the body of an ``async def``, not awaited,
    not inside a nested sync ``def`` or ``lambda`` - to something that blocks:
    an API in the catalog (``time.sleep``, ``requests``, sockets, files,
    subprocesses, database drivers, locks, CPU-heavy hashing, imports, TLS
    set-up, ...), resolved through imports, instances, annotations, return
    annotations and ``self`` attributes; or a sync function, method,
    constructor or property of the project that blocks, directly or through
    further sync calls, in any module; or a sync function of an installed
    library that blocks deep inside (``api.get_devices() ->
    requests.Session.request``), when the library is installed in the
    project's environment (docs/libraries.md).  For such an indirect call the
    message names the chain and the diagnostic points at the real blocking
    call as related information.  Reading a project ``@property`` whose getter
    blocks is a blocking call site too.

    And a blocking call inside a sync function that runs on the loop: a
    callback handed to ``loop.call_soon``/``call_later``/``call_at``/
    ``call_soon_threadsafe``/``add_signal_handler``/``add_reader``/
    ``add_writer``/``add_done_callback``, a function a framework profile marks
    loop-bound (Home Assistant's ``@callback``, ``Entity`` properties;
    docs/profiles.md), and the project's sync functions those call.  It is
    reported at the blocking line, with why the function runs on the loop and,
    as related information, where it is registered and the calls leading there.
    Not reported: blocking calls of helpers made only off the loop's thread
    (``if hass.loop_thread_id != threading.get_ident():``) or where no loop
    runs (the guards of nested-asyncio-run, ``summary.is_guarded_runner``).

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
    swapping libraries is left to you.  In loop-bound sync code there is no
    automatic fix (it cannot ``await``): the message says how the framework
    offloads work (``hass.async_add_executor_job``, ``loop.run_in_executor``).

Not caught yet
    Blocking work in C extensions the catalog does not list (mark them with
    ``extra-blocking-calls``); calls through dynamic dispatch that neither the
    import table nor jedi can resolve (``getattr(obj, name)()``); library calls
    on receivers whose type only a library's return value gives
    (``lib.connect().fetch()``); library properties; loop-bound code
    registered in a module the run did not load (in an editor, only the open
    files and what they import are loaded).
"""

from __future__ import annotations

import ast
from typing import Iterator

from ..catalog import BlockingEntry
from ..diagnostics import Diagnostic, Fix, Related
from ..fixes import awaited, ensure_import, make_fix, replacement
from ..profiles import LoopBinding
from ..semantics import CallSite, Scope
from ..summary import Site, function_key, property_reads
from .base import Rule, RuleContext


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    # Library chains the analysis budget cut short: asked again once the rest
    # of the module is done (the budget grows with the time the run has taken).
    deferred: list[tuple[ast.Call, str]] = []
    for site in ctx.calls:
        if site.awaited:
            continue
        if not site.in_coroutine:
            yield from _in_loop_bound_code(ctx, site)
            continue
        call = site.node
        target = ctx.target(call) or _library_method(ctx, call, site.scope)
        if target is None:
            continue
        entry = _blocking_entry(ctx, target)
        if entry is not None:
            yield _direct(ctx, call, entry)
            continue
        decl = ctx.function_decl(target)
        if decl is not None and decl.creates_coroutine:
            continue
        # A project function, or (decl None) a library function followed into its code.
        chain = ctx.blocking_chain(target)
        if chain:
            yield _indirect(ctx, call, target, chain)
        elif target in ctx.facts.cut_off:
            deferred.append((call, target))
    for call, target in deferred:
        chain = ctx.blocking_chain(target)
        if chain:
            yield _indirect(ctx, call, target, chain)
        elif target in ctx.facts.cut_off:
            ctx.facts.cut_off_paths.add(ctx.path)  # the project may look again at the end of the run
    yield from _property_reads(ctx)


def _blocking_entry(ctx: RuleContext, target: str) -> BlockingEntry | None:
    """The catalog's entry, or a config ``extra-blocking-calls`` module/class containing ``target``."""
    return ctx.catalog.blocking_entry(target) or ctx.facts.extra_blocking(target)


def _library_method(ctx: RuleContext, call: ast.Call, scope: Scope) -> str | None:
    """``api.get_devices()`` where ``api = lib.login(...)``: typed by the library's return annotation."""
    func = call.func
    if not isinstance(func, ast.Attribute) or ctx.facts.libraries is None:
        return None
    owner = _library_type(ctx, func.value, scope, 3)
    return f"{owner}.{func.attr}" if owner else None


def _library_type(ctx: RuleContext, node: ast.expr, scope: Scope, depth: int) -> str | None:
    if depth <= 0:
        return None
    if isinstance(node, ast.Call):
        # Cheap resolution only: this is a guess at a receiver, not worth a jedi query.
        resolver = ctx.resolver
        target = resolver.target_name(resolver.callee(node, scope, infer=False)) or _library_method(ctx, node, scope)
        return ctx.facts.library_returns(target) if target else None
    found = _single_binding(ctx, node, scope)
    if found is None:
        return None
    expression, where = found
    return _library_type(ctx, expression, where, depth - 1)


def _single_binding(ctx: RuleContext, node: ast.expr, scope: Scope) -> tuple[ast.expr, Scope] | None:
    """The one expression a name (or ``self.name``) is assigned from, with its scope."""
    if isinstance(node, ast.Name):
        current: Scope | None = scope
        while current is not None:
            bindings = current.bindings.get(node.id)
            if bindings is not None:
                expressions = [b for b in bindings if isinstance(b, ast.expr)]
                return (expressions[0], current) if len(expressions) == 1 == len(bindings) else None
            current = current.parent
        return None
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self":
        function = scope.function
        if function is None or function.class_qualname is None:
            return None
        class_scope = next((s for s in ctx.model.scopes if s.qualname == function.class_qualname), None)
        bindings = class_scope.bindings.get("self." + node.attr, []) if class_scope is not None else []
        expressions = [(b, s) for b, s in bindings if isinstance(b, ast.expr)]  # type: ignore[misc]
        return expressions[0] if len(expressions) == 1 == len(bindings) else None
    return None


# -- properties -----------------------------------------------------------------


def _property_reads(ctx: RuleContext) -> Iterator[Diagnostic]:
    """``self.cert`` in a coroutine, where the property's getter blocks."""
    if not any(scope.is_async for scope in ctx.model.scopes):
        return
    for node, scope, getter in property_reads(ctx.model, ctx.resolver, ctx.nodes()):
        function = scope.function
        if function is None or not function.is_async:
            continue  # in sync code a property read is a call edge: loop-bound code propagates through it
        chain = ctx.blocking_chain(getter)
        if not chain:
            continue
        last = chain[-1]
        entry = ctx.catalog.blocking_entry(last.target)
        category = f" ({entry.category})" if entry else ""
        names = [_short(ctx, getter), *(_short(ctx, site.target) for site in chain)]
        message = (
            f"Reading property `{ctx.source_of(node)}` blocks the event loop: its getter"
            f" {' -> '.join(names)}{category}; compute it off the loop or make it a coroutine method"
        )
        yield ctx.diagnostic(RULE, node, message, related=_chain_related(ctx, chain))


# -- sync code that runs on the loop ---------------------------------------------


def _in_loop_bound_code(ctx: RuleContext, site: CallSite) -> Iterator[Diagnostic]:
    if site.scope.function is None:
        return
    binding = ctx.facts.loop_bound(function_key(ctx.model, site.scope))
    if binding is None:
        return
    call = site.node
    target = ctx.target(call) or _library_method(ctx, call, site.scope)
    if target is None:
        return
    entry = _blocking_entry(ctx, target)
    if entry is not None:
        function = _short(ctx, binding.function)
        message = (
            f"Blocking call `{entry.name}` in `{function}` freezes the event loop ({entry.category}):"
            f" {_why(ctx, binding)}{_advice(binding)}"
        )
        yield ctx.diagnostic(RULE, call, message, related=_binding_related(ctx, binding))
        return
    if target in ctx.index.functions or target in ctx.index.classes:
        return  # the project's own sync code is loop-bound too: reported where it blocks
    chain = ctx.blocking_chain(target)  # into an installed library
    if not chain:
        return
    last = chain[-1]
    last_entry = ctx.catalog.blocking_entry(last.target)
    category = f" ({last_entry.category})" if last_entry else ""
    names = [_short(ctx, target), *(_short(ctx, s.target) for s in chain)]
    message = (
        f"`{_call_text(ctx, call)}` blocks the event loop: {' -> '.join(names)}{category};"
        f" {_why(ctx, binding)}{_advice(binding)}"
    )
    related = [*_binding_related(ctx, binding), *_chain_related(ctx, chain)]
    yield ctx.diagnostic(RULE, call, message, related=related)


def _why(ctx: RuleContext, binding: LoopBinding) -> str:
    root = binding.root
    function = _short(ctx, binding.function)
    if not binding.chain:
        return f"`{function}` runs on the event loop because {root.reason}"
    return (
        f"`{function}` runs on the event loop: it is called from `{_short(ctx, root.function)}`,"
        f" which runs there because {root.reason}"
    )


def _advice(binding: LoopBinding) -> str:
    advice = binding.root.advice
    return f"; offload the blocking work with {advice}" if advice else ""


def _binding_related(ctx: RuleContext, binding: LoopBinding) -> list[Related]:
    related = [binding.root.where] if binding.root.where is not None else []
    related += [Related(site.path, site.span, f"calls `{_short(ctx, site.target)}`") for site in binding.chain]
    return related


def _chain_related(ctx: RuleContext, chain: list[Site]) -> list[Related]:
    last = chain[-1]
    entry = ctx.catalog.blocking_entry(last.target)
    category = f" ({entry.category})" if entry else ""
    related = [Related(site.path, site.span, f"calls `{_short(ctx, site.target)}`") for site in chain[:-1]]
    related.append(Related(last.path, last.span, f"blocking call `{last.target}`{category}"))
    return related


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
    related = _chain_related(ctx, chain)
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
    inner = f"{asyncio_name}.to_thread({_join_arguments(function_text, arguments)})"
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
    if not (text.startswith("(") and text.endswith(")")):
        return ", ".join(ast.unparse(a) for a in [*call.args, *call.keywords])
    inner = text[1:-1]
    if "\n" not in inner:
        return inner.strip().rstrip(",").strip()
    # Several lines: keep them verbatim, so comments stay where they are and the
    # closing parenthesis keeps its own line.
    return inner


def _join_arguments(first: str, arguments: str) -> str:
    """``first`` followed by the call's own arguments (as ``_arguments_text`` gives them)."""
    if not arguments:
        return first
    separator = "," if arguments.startswith("\n") else ", "
    return f"{first}{separator}{arguments}"


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
    last = qualname.rsplit(".", 1)[-1]
    if last.startswith("<lambda:"):
        return f"lambda (line {last[len('<lambda:'):].split(':')[0]})"
    decl = ctx.function_decl(qualname)
    if decl is None:
        return qualname
    if decl.class_qualname:
        return f"{decl.class_qualname.rsplit('.', 1)[-1]}.{decl.name}"
    return decl.name


RULE = Rule(
    name="blocking-call",
    code="ASN001",
    summary="Synchronous blocking call on the event loop (directly, through helpers and libraries, or in loop-bound sync code)",
    check=check,
)

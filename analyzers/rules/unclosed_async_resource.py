"""unclosed-async-resource (ASN007): an async resource that is not closed on every path.

What it finds
    In the body of an ``async def``, a call that creates an async resource -
    ``aiohttp.ClientSession()``, ``httpx.AsyncClient()``, ``asyncpg.connect()``
    and ``create_pool()``, ``aiofiles.open()``, the writer of
    ``asyncio.open_connection()``, the others listed under ``[async_resources]``
    in the catalog (``catalog/names.toml``), and any class of the project
    whose methods, through its bases, include ``__aexit__`` and an
    ``async def aclose``/``close`` (or that derives from a listed library
    class) - when the resource is

    * never closed: no ``async with``, no close call, or created inline and
      dropped (``await aiohttp.ClientSession().get(url)``);
    * closed only on the happy path: ``await session.close()`` is there, but
      not in a ``finally:``, so any exception before it skips it.

    Not reported: ``async with`` (on the call or, later, on the name); a close
    in a ``finally:``; a resource entered into an ``AsyncExitStack``
    (``enter_async_context``, ``push_async_callback(s.close)``), wrapped in
    ``contextlib.aclosing``, handed to a constructor or stored in a container;
    a resource returned or yielded to the caller, stored on ``self`` or another
    object, or kept in a global - its owner closes it; what a method of the
    same module returns when its every ``return`` hands back the object
    itself or something it keeps (``return self``, ``return self._transport``,
    ``return self._pool[key]``, a new one stored in ``self._pool[key]``
    first), or a method declared to return its own class: no factory,
    the object that keeps it closes it.  The diagnostic
    is reported at the call that creates the resource.

Why it is bad
    These objects hold sockets, connection pools and file descriptors, and
    releasing them is a coroutine.  Garbage collection cannot run a coroutine,
    so an unclosed session leaks its connections ("Unclosed client session"
    warnings, exhausted pools, "too many open files"), and a close that only
    runs when nothing failed leaks on exactly the paths that are already in
    trouble.

Example
    ```python
    async def fetch_all(urls):
        session = aiohttp.ClientSession()     # reported: never closed
        results = []
        for url in urls:
            async with session.get(url) as resp:
                results.append(await resp.text())
        return results
    ```

Fix
    ``s = aiohttp.ClientSession(...)`` followed by the statements that use
    ``s`` becomes ``async with aiohttp.ClientSession(...) as s:`` with those
    statements inside: the lines from the creation down to the last statement
    that uses ``s`` are indented by exactly four spaces (a tab in a file
    indented with tabs), comments included, lines inside multi-line strings
    untouched; a trailing ``await s.close()`` is dropped.  An awaited creation
    loses its ``await`` (``f = await aiofiles.open(p)`` -> ``async with
    aiofiles.open(p) as f:``).  Where ``async with`` does not fit - the
    resource has no context manager (``asyncpg.connect``, the writer of
    ``open_connection``), or is one element of a tuple - the same statements
    go into ``try:`` with the close in ``finally:`` (``writer.close()`` then
    ``await writer.wait_closed()``).  No fix is offered when ``s`` is also
    used after the block it was created in, is assigned again, is closed in
    more places than a trailing close, or shares its line with other
    statements.  The fix is unsafe: the resource is now also closed when an
    exception escapes (the point), ``async with`` calls ``__aenter__``, which
    for a project class is assumed to return the object itself, and a close
    that used to run after some other statements now runs before them.

Not caught yet
    Resources created in sync functions, at module level or in notebook
    cells; resources passed to a helper that may or may not close them
    (they count as used, not handed over); closes in an ``except`` clause
    that re-raises; resources kept in a local list and closed in a loop;
    aliases (``other = s``) are taken as a hand-over; creations the import
    table cannot resolve whose name is no catalog resource's
    (``self.factory.make()``).

    Reported though the caller does not own it: what a method defined in
    another module hands back from the object's own state (only methods of
    the module being checked are read).  Missed: a method declared to
    return its own class is taken as fluent (it returns the object it is
    called on), so a ``copy()`` that makes a new resource is not reported.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterator

from ..diagnostics import Diagnostic, Edit, Fix, Position, Span
from ..fixes import make_fix, replacement
from ..semantics import Scope
from .base import Rule, RuleContext

_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
# Calls that take over a resource: whoever they belong to closes it.
_HAND_OVER_METHODS = frozenset(
    {
        "enter_async_context", "push_async_callback", "push_async_exit", "enter_context", "callback",
        "push", "append", "appendleft", "add", "extend", "insert", "put", "put_nowait", "setdefault",
        "register", "aclosing", "closing",
    }
)


# Methods so named store what they are given: `set_writer`, `add_session`, `register_client`.
_HAND_OVER_PREFIXES = ("set_", "add_", "register", "attach", "push", "enter_", "put_", "append_", "keep")


@dataclass(frozen=True)
class Resource:
    name: str  # what the message calls it, e.g. "aiohttp.ClientSession"
    close: tuple[str, ...]  # the methods that release it
    with_: bool  # `async with <call> as x:` works
    element: int | None = None  # for calls returning a tuple: the resource's position


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    for site in ctx.calls:
        if not site.in_coroutine or site.scope.function is not site.scope or isinstance(site.scope.node, ast.Lambda):
            continue
        call = site.node
        resource = _resource_of(ctx, call)
        if resource is None:
            continue
        finding = _examine(ctx, site.scope, call, resource)
        if finding is not None:
            yield finding


# -- what is a resource -----------------------------------------------------------


def _resource_of(ctx: RuleContext, call: ast.Call) -> Resource | None:
    callee = ctx.resolver.callee(call, infer=False)
    if not callee.known and _called_name(call) in _library_names(ctx):
        callee = ctx.callee(call)  # jedi, only for names a library resource could have
    if callee.kind == "class" and callee.name in ctx.index.classes:
        return _project_class_resource(ctx, callee.name)
    target = ctx.resolver.target_name(callee)
    if target is None:
        return None
    entry = ctx.catalog.async_resources.get(target) or ctx.catalog.async_resources.get(
        ctx.catalog.canonical(target)
    )
    if entry is not None:
        return _from_entry(target, entry)
    decl = ctx.function_decl(target)
    if decl is not None and decl.returns:
        # a factory of the project: `async def make_client() -> httpx.AsyncClient`
        made = _type_resource(ctx, decl.returns)
        if made is not None and not _returns_its_object(ctx, decl) and not _hands_back_what_it_holds(ctx, target, set()):
            with_ = made.with_ and not decl.creates_coroutine
            return Resource(f"{decl.name}", made.close, with_)
    return None


def _returns_its_object(ctx: RuleContext, decl) -> bool:
    """A method (not a class or static method) declared to return its own class:
    ``def execute_command(self, ...) -> "Pipeline"`` on a pipeline - a fluent
    method handing back the object it is called on, which its owner closes.  (A
    ``copy()`` that makes a new resource is missed.)"""
    if decl.class_qualname is None or decl.is_static or decl.is_classmethod:
        return False
    return decl.returns == decl.class_qualname


def _hands_back_what_it_holds(ctx: RuleContext, qualname: str, visiting: set[str]) -> bool:
    """A method of this module whose every ``return`` hands back the object itself or
    something it keeps (``return self``, ``return self._transport``, ``return
    self._pool[key]``, a new one stored in ``self._pool[key]`` first): it is no factory,
    what it returns is closed by the object that keeps it, not by the caller."""
    if qualname in visiting:
        return True  # `return await self.initialize()` inside `initialize`: its other returns decide
    function = ctx.function_node(qualname)
    decl = ctx.function_decl(qualname)
    if function is None or decl is None or decl.class_qualname is None:
        return False  # a plain function: its first parameter is no owner
    if not function.args.args or _is_static(function):
        return False
    visiting.add(qualname)
    owner = function.args.args[0].arg  # self, or cls
    values = [
        node.value
        for node in _own_nodes(function)
        if isinstance(node, ast.Return)
        and node.value is not None
        and not (isinstance(node.value, ast.Constant) and node.value.value is None)
    ]
    return bool(values) and all(_held(ctx, function, owner, value, visiting) for value in values)


def _held(ctx: RuleContext, function: ast.AST, owner: str, value: ast.expr, visiting: set[str]) -> bool:
    if isinstance(value, ast.Await):
        value = value.value
    if isinstance(value, ast.IfExp):
        return all(_held(ctx, function, owner, branch, visiting) for branch in (value.body, value.orelse))
    if isinstance(value, ast.Name):
        if value.id == owner:
            return True
        return _kept_local(ctx, function, owner, value.id, visiting)
    if isinstance(value, (ast.Attribute, ast.Subscript)):
        return _rooted_at(value, owner)
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        func = value.func
        if func.attr in ("get", "setdefault", "items", "values", "keys") and _rooted_at(func.value, owner):
            return True  # `self._pool.get(key)`
        if isinstance(func.value, ast.Name) and func.value.id == owner:
            # `return self.pipeline_execute_command(...)`: another method of the object
            callee = ctx.resolver.target_name(ctx.resolver.callee(value, infer=False))
            return callee is not None and _hands_back_what_it_holds(ctx, callee, visiting)
    return False


def _kept_local(ctx: RuleContext, function: ast.AST, owner: str, name: str, visiting: set[str]) -> bool:
    """A local that is stored on the object, or only ever bound to what the object keeps."""
    bound: list[ast.expr] = []
    for node in _own_nodes(function):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if isinstance(node.value, ast.Name) and node.value.id == name:
                if any(isinstance(t, (ast.Attribute, ast.Subscript)) and _rooted_at(t, owner) for t in targets):
                    return True  # `self._pool[key] = pubsub`: the object keeps it
            for target in targets:
                if isinstance(target, ast.Name) and target.id == name and node.value is not None:
                    bound.append(node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor)) and any(
            isinstance(n, ast.Name) and n.id == name for n in ast.walk(node.target)
        ):
            bound.append(node.iter)  # `for pattern, transport in self._mounts.items():`
        elif isinstance(node, (ast.NamedExpr, ast.withitem, ast.comprehension)):
            targets = [getattr(node, "target", None), getattr(node, "optional_vars", None)]
            if any(t is not None and any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(t)) for t in targets):
                return False  # bound some way we do not follow
    return bool(bound) and all(_held(ctx, function, owner, value, visiting) for value in bound)


def _rooted_at(node: ast.expr, owner: str) -> bool:
    """``self.a``, ``self.a[k]``, ``self.a.b[k].c``: reached from ``owner``."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name) and node.id == owner


def _own_nodes(function: ast.AST):
    """The nodes of a function's own body (nested functions, lambdas and classes left out)."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, _NESTED_SCOPES))


def _is_static(function: ast.AST) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in getattr(function, "decorator_list", ()))


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None


def _library_names(ctx: RuleContext) -> frozenset[str]:
    return frozenset(name.rsplit(".", 1)[-1] for name in ctx.catalog.async_resources)


def _from_entry(name: str, entry: dict) -> Resource:
    close = tuple(entry.get("close", ("close",)))
    return Resource(name, close, bool(entry.get("with", False)), entry.get("element"))


def _type_resource(ctx: RuleContext, type_name: str) -> Resource | None:
    if type_name in ctx.index.classes:
        return _project_class_resource(ctx, type_name)
    entry = ctx.catalog.async_resources.get(type_name)
    return _from_entry(type_name, entry) if entry is not None and "element" not in entry else None


def _project_class_resource(ctx: RuleContext, class_name: str) -> Resource | None:
    for base in ctx.index.library_bases(class_name):
        entry = ctx.catalog.async_resources.get(base) or ctx.catalog.async_resources.get(ctx.catalog.canonical(base))
        if entry is not None and "element" not in entry:
            return Resource(class_name.rsplit(".", 1)[-1], tuple(entry.get("close", ("close",))), True)
    if _method(ctx, class_name, "__aexit__") is None:
        return None
    closers = [name for name in ("aclose", "close") if (m := _method(ctx, class_name, name)) and m.is_async]
    if not closers:
        return None
    return Resource(class_name.rsplit(".", 1)[-1], (closers[0],), True)


def _method(ctx: RuleContext, class_name: str, name: str):
    found = ctx.index.lookup_member(class_name, name)
    if found is None or found[1].kind != "function":
        return None
    return ctx.function_decl(found[1].name)


# -- how it is used -------------------------------------------------------------


@dataclass
class _Binding:
    statement: ast.Assign | ast.AnnAssign
    name: str


def _examine(ctx: RuleContext, scope: Scope, call: ast.Call, resource: Resource) -> Diagnostic | None:
    model = ctx.model
    created: ast.expr = call
    parent = model.parent(call)
    if isinstance(parent, ast.Await):
        created, parent = parent, model.parent(parent)
    if isinstance(parent, ast.withitem):
        return None  # `async with X() as s:` (a sync `with` is another mistake)
    if isinstance(parent, (ast.Attribute, ast.Subscript)) and parent.value is created:
        return _report(ctx, call, resource, "never", None)  # X().get(...): the object is dropped
    if isinstance(parent, ast.Expr):
        return _report(ctx, call, resource, "never", None)
    binding = _binding(created, parent, resource)
    if binding is None:
        return None  # returned, stored, passed on, kept in a container: someone else owns it
    name = binding.name
    if _declared_global(scope.node, name):
        return None  # module state: closed elsewhere
    verdict = _verdict(ctx, scope, binding, resource)
    if verdict is None:
        return None
    return _report(ctx, call, resource, verdict, binding, scope)


def _binding(created: ast.expr, parent: ast.AST | None, resource: Resource) -> _Binding | None:
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        target = parent.targets[0]
        if resource.element is not None:
            if isinstance(target, (ast.Tuple, ast.List)) and len(target.elts) > resource.element:
                target = target.elts[resource.element]
            else:
                return None
        if isinstance(target, ast.Name):
            return _Binding(parent, target.id)
    if isinstance(parent, ast.AnnAssign) and isinstance(parent.target, ast.Name) and resource.element is None:
        return _Binding(parent, parent.target.id)
    return None


def _declared_global(function: ast.AST, name: str) -> bool:
    return any(
        isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names for node in ast.walk(function)
    )


def _uses(function: ast.AST, name: str) -> list[ast.Name]:
    return [
        node
        for node in ast.walk(function)
        if isinstance(node, ast.Name) and node.id == name and node is not function
    ]


def _verdict(ctx: RuleContext, scope: Scope, binding: _Binding, resource: Resource) -> str | None:
    """"never", "happy-path", or None when it is closed on every path or handed over."""
    function = scope.node
    name = binding.name
    model = ctx.model
    closes: list[ast.Call] = []
    for node in _uses(function, name):
        if model.enclosing_scope(node) is not scope:
            return None  # a closure uses it (a callback may close it)
        if not isinstance(node.ctx, ast.Load):
            continue
        parent = model.parent(node)
        if isinstance(parent, ast.withitem) and isinstance(model.parent(parent), ast.AsyncWith):
            return None  # `async with s:`
        if isinstance(parent, ast.Attribute):
            grand = model.parent(parent)
            if isinstance(grand, ast.Call) and grand.func is parent:
                if parent.attr in _closers(resource):
                    if _in_finally(model, grand, function):
                        return None
                    closes.append(grand)
                continue
            if isinstance(grand, ast.Call) and parent in grand.args and parent.attr in _closers(resource):
                return None  # stack.push_async_callback(s.close)
            continue
        if _flows_out(ctx, node):
            return None
    return "happy-path" if closes else "never"


def _closers(resource: Resource) -> set[str]:
    """The methods that count as closing it (``close``/``aclose`` whatever the catalog says)."""
    return {*resource.close, "close", "aclose"}


def _in_finally(model, node: ast.AST, function: ast.AST) -> bool:
    child = node
    for ancestor in model.ancestors(node):
        if ancestor is function:
            return False
        if isinstance(ancestor, (ast.Try, getattr(ast, "TryStar", ast.Try))) and child in ancestor.finalbody:
            return True
        child = ancestor
    return False


def _flows_out(ctx: RuleContext, name: ast.Name) -> bool:
    """Whether the object itself (not something computed from it) leaves the function's hands."""
    model = ctx.model
    node: ast.AST = name
    parent = model.parent(node)
    while isinstance(parent, (ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Starred, ast.keyword)):
        node, parent = parent, model.parent(parent)
    if isinstance(parent, (ast.Return, ast.Yield, ast.YieldFrom)):
        return True
    if isinstance(parent, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and parent.value is node:
        return True  # stored on an object, in a container or under another name
    if isinstance(parent, ast.Call) and parent.func is not node:
        func = parent.func
        if isinstance(func, ast.Attribute) and (
            func.attr in _HAND_OVER_METHODS or func.attr.startswith(_HAND_OVER_PREFIXES)
        ):
            return True  # `stack.enter_async_context(s)`, `self.protocol.set_writer(writer)`
        if isinstance(func, ast.Name) and func.id in _HAND_OVER_METHODS:
            return True
        callee = ctx.callee(parent)
        if callee.kind == "class":
            return True  # wrapped in an object that owns it
        target = ctx.target(parent) or ""
        return target.rsplit(".", 1)[-1][:1].isupper() and not callee.bound
    return False


# -- reporting ------------------------------------------------------------------


def _report(
    ctx: RuleContext,
    call: ast.Call,
    resource: Resource,
    verdict: str,
    binding: _Binding | None,
    scope: Scope | None = None,
) -> Diagnostic:
    function = ctx.scope_of(call).function
    where = f" in coroutine `{getattr(function.node, 'name', '?')}`" if function is not None else ""
    created = f"`{resource.name}()`"
    form = "`async with`" if resource.with_ and resource.element is None else "`try`/`finally`"
    if verdict == "never" and binding is None:
        message = f"{created}{where} is created and dropped without being closed: it leaks; use {form}"
    elif verdict == "never":
        message = f"{created}{where} is never closed, so `{binding.name}` leaks what it holds; use {form}"
    else:
        assert binding is not None
        message = (
            f"{created}{where} is closed only when no exception is raised before"
            f" `{binding.name}.{resource.close[0]}()`; use {form}"
        )
    fixes: list[Fix | None] = []
    if binding is not None and scope is not None:
        fixes.append(_fix(ctx, scope, call, resource, binding))
    return ctx.diagnostic(RULE, call, message, fixes=fixes)


# -- fixing ---------------------------------------------------------------------


def _fix(ctx: RuleContext, scope: Scope, call: ast.Call, resource: Resource, binding: _Binding) -> Fix | None:
    model = ctx.model
    statement = binding.statement
    name = binding.name
    block = _block_of(model, statement)
    if block is None or not _alone_on_lines(model, block, statement):
        return None
    rest = block[block.index(statement) + 1 :]
    # `reader, writer = ...`: the statements using the reader need the writer open too
    names = {n.id for t in _targets(statement) for n in ast.walk(t) if isinstance(n, ast.Name)}
    using = [i for i, s in enumerate(rest) if _mentions(s, names)]
    # every other mention of the names must be in the statements that follow in this block
    inside = {id(n) for s in [statement, *rest] for n in ast.walk(s)}
    if any(id(n) not in inside for other in names for n in _uses(scope.node, other)):
        return None
    if not using:
        return None
    # trailing closes: `await s.close()` (and `writer.close()` + `await writer.wait_closed()`)
    trailing: list[ast.stmt] = []
    last = using[-1]
    while last >= 0 and _is_close_statement(rest[last], name, resource):
        trailing.insert(0, rest[last])
        last -= 1
    wrapped = list(rest[: last + 1])
    while wrapped and not _mentions(wrapped[-1], names):
        wrapped.pop()
    if not wrapped:
        return None
    for s in wrapped:
        for node in ast.walk(s):
            if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
                return None  # assigned again
            if _is_close_call(node, name, resource):
                return None  # closed in the middle as well
    if any(not _alone_on_lines(model, block, s) for s in trailing):
        return None
    end_of_change = (trailing[-1] if trailing else wrapped[-1]).end_lineno or statement.lineno
    if any(line in model.parsed.skipped_lines for line in range(statement.lineno, end_of_change + 2)):
        return None  # parse recovery dropped some of these lines: their text is not what the tree says

    lines = model.lines
    newline = "\r\n" if "\r\n" in model.text else "\n"
    indent = _indent(lines[statement.lineno - 1])
    unit = "\t" if "\t" in indent else "    "
    first_line = (statement.end_lineno or statement.lineno) + 1
    last_line = wrapped[-1].end_lineno or wrapped[-1].lineno
    edits: list[Edit] = []
    use_with = resource.with_ and resource.element is None
    if use_with:
        header = f"async with {ctx.source_of(call)} as {name}:"
        edits.append(replacement(ctx.span(statement), header))
        closing = ""
    else:
        edits.append(replacement(ctx.span(statement), f"{ctx.source_of(statement)}{newline}{indent}try:"))
        closing = f"{indent}finally:{newline}" + "".join(
            f"{indent}{unit}{_close_text(ctx, name, method, resource)}{newline}" for method in resource.close
        )
    string_lines = _string_interior_lines(wrapped)
    for number in range(first_line, last_line + 1):
        text = lines[number - 1]
        if number in string_lines or not text.strip():
            continue
        # The line's indentation is replaced, not inserted before: another fix's line
        # inserted at this line's start then conflicts with this one (it would keep
        # the old indentation inside the new block) instead of going in beside it.
        leading = len(text) - len(text.lstrip(" \t"))
        edits.append(Edit(Span(Position(number, 0), Position(number, leading)), unit + text[:leading]))
    # the trailing closes go; a finally takes their place (or follows the block)
    deleted_start = trailing[0].lineno if trailing else None
    deleted_end = (trailing[-1].end_lineno or trailing[-1].lineno) if trailing else None
    if trailing and deleted_start == last_line + 1:
        edits.append(_delete_lines(lines, deleted_start, deleted_end, closing, newline))
    else:
        if trailing:
            edits.append(_delete_lines(lines, deleted_start, deleted_end, "", newline))
        if closing:
            if last_line < len(lines):
                edits.append(Edit(Span(Position(last_line + 1, 0), Position(last_line + 1, 0)), closing))
            else:
                end = Position(last_line, len(lines[last_line - 1]))
                edits.append(Edit(Span(end, end), newline + closing.rstrip("\r\n")))
    title = (
        f"Use `async with ... as {name}:` for the statements that use it"
        if use_with
        else f"Close `{name}` in `try`/`finally`"
    )
    return make_fix(title, edits, safe=False)


def _close_text(ctx: RuleContext, name: str, method: str, resource: Resource) -> str:
    if method == "close" and "wait_closed" in resource.close:
        return f"{name}.close()"  # StreamWriter.close() is sync; wait_closed() is awaited
    return f"await {name}.{method}()"


def _delete_lines(lines: list[str], start: int, end: int, text: str, newline: str) -> Edit:
    if end < len(lines):
        return Edit(Span(Position(start, 0), Position(end + 1, 0)), text)
    # the last line of the file: take the line break before it instead
    if start > 1:
        before = Position(start - 1, len(lines[start - 2]))
        return Edit(Span(before, Position(end, len(lines[end - 1]))), (newline + text.rstrip("\r\n")) if text else "")
    return Edit(Span(Position(start, 0), Position(end, len(lines[end - 1]))), text.rstrip("\r\n"))


def _block_of(model, statement: ast.stmt) -> list[ast.stmt] | None:
    parent = model.parent(statement)
    if parent is None:
        return None
    for field_name in ("body", "orelse", "finalbody", "handlers"):
        block = getattr(parent, field_name, None)
        if isinstance(block, list) and statement in block:
            return block
    return None


def _alone_on_lines(model, block: list[ast.stmt], statement: ast.stmt) -> bool:
    index = block.index(statement)
    end = statement.end_lineno or statement.lineno
    if index > 0 and (block[index - 1].end_lineno or block[index - 1].lineno) >= statement.lineno:
        return False
    if index + 1 < len(block) and block[index + 1].lineno <= end:
        return False
    line = model.lines[statement.lineno - 1]
    # nothing before it on its line (`if x: s = X()`)
    return model.parsed.index.char_col(statement.lineno, statement.col_offset) == len(_indent(line))


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _mentions(statement: ast.stmt, names: set[str]) -> bool:
    return any(isinstance(node, ast.Name) and node.id in names for node in ast.walk(statement))


def _targets(statement: ast.Assign | ast.AnnAssign) -> list[ast.expr]:
    return statement.targets if isinstance(statement, ast.Assign) else [statement.target]


def _is_close_call(node: ast.AST, name: str, resource: Resource) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == name
        and node.func.attr in _closers(resource)
    )


def _is_close_statement(statement: ast.stmt, name: str, resource: Resource) -> bool:
    if not isinstance(statement, ast.Expr):
        return False
    value = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
    return _is_close_call(value, name, resource)


def _string_interior_lines(statements: list[ast.stmt]) -> set[int]:
    """Lines that begin inside a multi-line string literal: re-indenting them would change the string."""
    inside: set[int] = set()
    for statement in statements:
        for node in ast.walk(statement):
            is_string = isinstance(node, ast.JoinedStr) or (
                isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes))
            )
            if is_string:
                end = getattr(node, "end_lineno", None) or node.lineno
                inside.update(range(node.lineno + 1, end + 1))
    return inside


RULE = Rule(
    name="unclosed-async-resource",
    code="ASN007",
    summary="Async resource (session, connection, file) not closed on every path",
    check=check,
)

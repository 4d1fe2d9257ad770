"""unawaited-coroutine (ASN002): a coroutine is created and never awaited.

What it finds
    A call that creates a coroutine object which then goes nowhere:

    - a bare call statement, ``send_email(user)`` or ``asyncio.sleep(1)``;
    - an assignment whose name is never awaited or handed on
      (``result = fetch(url); print(result)``), or an assignment to ``_``;
    - a use where a plain value is expected: a condition (``if is_ready():``,
      ``while``, ``assert``, ``not``, ``and``/``or``), a comparison, an
      f-string, arithmetic, indexing or attribute access, a sync ``for`` or
      ``with``, or an argument of a function that takes no awaitables
      (``print``, ``str``, ``len``, ``logging`` calls ...).

    It looks in coroutines and in sync functions alike.  Whether a call creates a
    coroutine is decided by resolution, never by its name: an ``async def`` of
    the project (local, imported from another module, or a method reached
    through an inferred or annotated receiver such as ``mailer.send()``), a
    function annotated to return ``Coroutine``/``Awaitable``, a subclass of
    ``Coroutine``, a library coroutine function the catalog lists
    (``asyncio.sleep``, ``aiohttp.ClientSession.close``, ...) and, for other
    library calls at the places above, jedi's view of the installed library.
    A sync method that shares its name with an async one of another class is
    not reported.

    A coroutine that is awaited, returned, yielded, stored in an attribute,
    list, dict or comprehension, used in ``async with``/``async for``, or
    passed to any other function (``create_task``, ``gather``, ``wait_for``,
    ``asyncio.run``, ``run_coroutine_threadsafe``, ``TaskGroup.create_task``,
    a parameter typed ``Awaitable``, your own scheduler ...) is not reported.

Why it is bad
    Calling an ``async def`` function only creates a coroutine object; its body
    runs when the object is awaited or scheduled.  Forget the ``await`` and the
    email is never sent, the row never written; Python's "coroutine ... was
    never awaited" warning comes late, if at all.  In a condition the object is
    always true, in a comparison or an f-string it is compared or printed as
    ``<coroutine object ...>``.

Example
    ```python
    async def main():
        result = fetch("https://api.example.com")  # never runs
        print(result)  # <coroutine object fetch at 0x...>
        if is_ready():  # always true
            send_email(user)  # never sent
    ```

Fix
    Inside a coroutine: insert ``await`` at the call (``result = await
    fetch(...)``, ``if await is_ready():``, ``(await load()).name``), adding
    parentheses where the grammar needs them.  The fix is *safe* for a bare
    call statement and for an assignment whose name is never read: the
    statement then does what it says, and nothing else in the function sees a
    different value (the only change is that the awaited work now runs, and
    takes its time, at that point).  It is *unsafe* where the object was used
    as a value - a condition, comparison, f-string or argument - because the
    code around it now sees the real result and may take another branch:
    review it.  No ``await`` is offered inside a generator expression (it
    would become an async generator) or a class body.

    In a sync function (or at module level) there is no automatic fix: make
    the function ``async def`` and await the call (then await the function
    where it is called), run the coroutine with ``asyncio.run(...)`` when no
    event loop is running, or schedule it with ``asyncio.create_task(...)``
    (keeping a reference) from code running on the loop.

Not caught yet
    Coroutines stored in a container or attribute that is never awaited
    later; coroutines passed to your own functions whose parameter wants a
    plain value (only builtins and ``logging`` are known to take no
    awaitables); calls through dynamic dispatch neither the import table nor
    jedi can resolve; a coroutine held in a variable and awaited only on some
    paths (the check does not follow control flow).
"""

from __future__ import annotations

import ast
import sys
import weakref
from dataclasses import dataclass
from typing import Iterator

from ..diagnostics import Diagnostic, Fix, Related
from ..fixes import insertion, make_fix, needs_parentheses
from ..index import FunctionDecl, Value
from .base import Rule, RuleContext

# -- where a coroutine object goes --------------------------------------------

BARE = "bare"  # a call statement: the object is dropped at once
DISCARDED = "discarded"  # assigned to `_`
ASSIGNED = "assigned"  # bound to a name: what happens to the name decides
CONDITION = "condition"  # tested for truth: always true
COMPARISON = "comparison"
FORMATTED = "formatted"  # an f-string field
ARGUMENT = "argument"  # passed to a function that wants a plain value
VALUE = "value"  # arithmetic, indexing, attribute access, sync for/with
HANDED_ON = "handed-on"  # awaited, returned, stored, scheduled, passed on: fine

# Where jedi may be asked: the places a dropped coroutine usually hides.
_JEDI_SITES = frozenset({BARE, DISCARDED, ASSIGNED, CONDITION})

# Uses that do something with the object without running it.
_DEAD_END = frozenset({BARE, DISCARDED, CONDITION, COMPARISON, FORMATTED, ARGUMENT, VALUE})

# Attributes of a coroutine object that are legitimate to touch.
_COROUTINE_ATTRIBUTES = frozenset(
    {"send", "throw", "close", "cr_await", "cr_code", "cr_frame", "cr_running", "cr_origin", "__await__"}
)

# Functions that take a plain value: a coroutine passed to them is a bug.
_VALUE_TAKING = frozenset(
    {
        "builtins.print", "builtins.str", "builtins.repr", "builtins.format", "builtins.int",
        "builtins.float", "builtins.bool", "builtins.len", "builtins.round", "builtins.abs",
        "builtins.sum", "builtins.min", "builtins.max", "builtins.sorted", "builtins.bytes",
        "builtins.str.format",
    }
    | {
        f"{owner}.{level}"
        for owner in ("logging", "logging.Logger")
        for level in ("debug", "info", "warning", "warn", "error", "exception", "critical", "log")
    }
)

# Return annotations that are awaitable but stand for work already scheduled:
# dropping a Task is dangling-task's business, not an unawaited coroutine.
_SCHEDULED_TYPES = frozenset({"asyncio.Task", "asyncio.Future"})
_COROUTINE_TYPES = frozenset({"typing.Coroutine", "collections.abc.Coroutine", "types.CoroutineType"})

# The standard library's coroutine functions live in these modules only.
_STDLIB_MODULES = frozenset(getattr(sys, "stdlib_module_names", ())) | {"builtins"}
_STDLIB_WITH_COROUTINES = frozenset({"asyncio", "contextlib", "unittest"})

# Library decorators that turn an ``async def`` into a sync callable.
_SYNCIFYING_DECORATORS = frozenset({"asgiref.sync.async_to_sync", "unsync.unsync"})


@dataclass(frozen=True)
class Use:
    kind: str
    detail: str = ""  # the name assigned to
    receiver: ast.Call | None = None  # ARGUMENT: the call the object is passed to


def use_of(ctx: RuleContext, node: ast.expr) -> Use:
    """What the code does with the value of ``node`` (a call or a name)."""
    model = ctx.model
    parent = model.parent(node)
    if isinstance(parent, ast.Await):
        return Use(HANDED_ON)
    if isinstance(parent, ast.Expr):
        return Use(BARE)
    if isinstance(parent, (ast.Assign, ast.AnnAssign)) and parent.value is node:
        targets = parent.targets if isinstance(parent, ast.Assign) else [parent.target]
        if len(targets) == 1 and isinstance(targets[0], ast.Name):
            name = targets[0].id
            return Use(DISCARDED) if name == "_" else Use(ASSIGNED, name)
        return Use(HANDED_ON)
    if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is node:
        return Use(CONDITION)
    if isinstance(parent, ast.comprehension) and node in parent.ifs:
        return Use(CONDITION)
    if isinstance(parent, ast.UnaryOp):
        return Use(CONDITION if isinstance(parent.op, ast.Not) else VALUE)
    if isinstance(parent, ast.BoolOp):
        # `a() or b()`: a() is tested for truth; the last operand is the result.
        return Use(CONDITION) if node is not parent.values[-1] else use_of(ctx, parent)
    if isinstance(parent, ast.IfExp):
        return use_of(ctx, parent)
    if isinstance(parent, ast.Compare):
        return Use(COMPARISON)
    if isinstance(parent, ast.FormattedValue):
        return Use(FORMATTED)
    if isinstance(parent, ast.BinOp):
        return Use(VALUE)
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return Use(VALUE)
    if isinstance(parent, ast.Attribute):
        return Use(HANDED_ON if parent.attr in _COROUTINE_ATTRIBUTES else VALUE)
    if isinstance(parent, ast.For) and parent.iter is node:
        return Use(VALUE)
    if isinstance(parent, ast.withitem) and isinstance(model.parent(parent), ast.With):
        return Use(VALUE)
    if isinstance(parent, ast.Call):
        if parent.func is node:
            return Use(VALUE)
        return Use(ARGUMENT, receiver=parent)
    if isinstance(parent, ast.keyword):
        call = model.parent(parent)
        if isinstance(call, ast.Call):
            return Use(ARGUMENT, receiver=call)
    return Use(HANDED_ON)


def takes_plain_value(ctx: RuleContext, call: ast.Call) -> bool:
    """Whether ``call`` is to a function known to want plain values, not awaitables.

    Anything else - create_task, gather, wait_for, asyncio.run, a parameter
    typed Awaitable, a function we cannot see into - may take a coroutine.
    """
    target = ctx.resolver.target_name(ctx.resolver.callee(call, infer=False))
    return target is not None and (target in _VALUE_TAKING or ctx.catalog.canonical(target) in _VALUE_TAKING)


# -- the check ----------------------------------------------------------------


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    checker = _Checker(ctx)
    for site in ctx.calls:
        if site.awaited:
            continue
        diagnostic = checker.check_call(site.node)
        if diagnostic is not None:
            yield diagnostic


# jedi's answers per library name, kept as long as the jedi instance lives.
_JEDI_ANSWERS: weakref.WeakKeyDictionary[object, dict[str, bool | None]] = weakref.WeakKeyDictionary()


class _Checker:
    def __init__(self, ctx: RuleContext) -> None:
        self.ctx = ctx
        self.inference = ctx.resolver.inference
        self._loads: dict[ast.AST, dict[str, list[ast.Name]]] = {}
        self._syncifying: dict[str, bool] = {}
        self._answers: dict[str, bool | None] = {}  # jedi's, for names of the project

    def check_call(self, call: ast.Call) -> Diagnostic | None:
        ctx = self.ctx
        use = use_of(ctx, call)
        if use.kind == HANDED_ON:
            return None
        # Cheap resolution first; the name's uses, the receiving function and
        # jedi are consulted only for calls that may still be coroutines, and
        # jedi only where a dropped coroutine is likely: statements and conditions.
        reason = self.coroutine_reason(call, use_jedi=False)
        if reason is None and not (use.kind in _JEDI_SITES and self.inference is not None):
            return None
        if use.kind == ARGUMENT and not (use.receiver is not None and takes_plain_value(ctx, use.receiver)):
            return None
        related: list[Related] = []
        if use.kind == ASSIGNED:
            dead_ends = self._dead_end_uses(call, use.detail)
            if dead_ends is None:
                return None
            related = [
                Related(ctx.path, ctx.span(load), f"`{use.detail}` is used here as a coroutine object")
                for load in dead_ends[:3]
            ]
        if reason is None:
            reason = self.coroutine_reason(call, use_jedi=True)
            if reason is None:
                return None
        return ctx.diagnostic(
            RULE, call, _message(ctx, call, use, reason), related=related, fixes=[self._await_fix(call, use)]
        )

    # -- is it a coroutine? ---------------------------------------------------
    def coroutine_reason(self, call: ast.Call, use_jedi: bool) -> str | None:
        """Why calling ``call`` creates a coroutine (for the message), or None if it does not."""
        ctx = self.ctx
        callee = ctx.resolver.callee(call, infer=use_jedi)
        if callee.kind == "function":
            return self._decl_reason(ctx.function_decl(callee.name))
        if callee.kind == "class":
            if self._is_coroutine_class(callee.name):
                return f"`{_short(callee.name)}` is a `Coroutine` subclass"
            return None
        if callee.kind == "instance":
            found = ctx.index.lookup_member(callee.name, "__call__")
            if found is not None and found[1].kind == "function":
                return self._decl_reason(ctx.function_decl(found[1].name))
            return None
        if callee.kind == "ref":
            name = callee.name
            if ctx.catalog.returns.get(name) in _SCHEDULED_TYPES:
                return None  # `loop.run_in_executor(...)`: the work is submitted already
            if name in ctx.catalog.coroutines or ctx.catalog.canonical(name) in ctx.catalog.coroutines:
                return f"`{name}` is a coroutine function"
            if not use_jedi or self._known_not_coroutine(callee):
                return None
            return f"`{name}` is a coroutine function" if self._jedi_says_coroutine(call, name) else None
        # An unresolved callee stays unknown: the resolver already asked jedi
        # about the names that matter, and asking at every call is too slow.
        return None

    def _decl_reason(self, decl: FunctionDecl | None) -> str | None:
        if decl is None:
            return None
        name = _decl_name(decl)
        if decl.is_async and not decl.is_generator:
            if any(self._is_syncifying(d) for d in decl.decorators):
                return None
            return f"`{name}` is `async def`"
        if decl.returns_awaitable and decl.returns not in _SCHEDULED_TYPES:
            return f"`{name}` returns `{_short(decl.returns or 'Awaitable')}`"
        if decl.returns and self._is_coroutine_class(decl.returns):
            return f"`{name}` returns a `Coroutine` (`{_short(decl.returns)}`)"
        return None

    def _is_coroutine_class(self, name: str) -> bool:
        if name in _COROUTINE_TYPES:
            return True
        if name not in self.ctx.index.classes:
            return False
        return any(base in _COROUTINE_TYPES for base in self.ctx.index.mro(name))

    def _is_syncifying(self, decorator: str) -> bool:
        """Whether a decorator turns the coroutine function into a sync callable.

        Library decorators are taken to keep the function async unless listed.
        A project decorator that wraps with a nested sync function only
        (``def wrapper(*a): return asyncio.run(fn(*a))``) makes it sync.
        """
        if not decorator:
            return False
        if decorator in _SYNCIFYING_DECORATORS:
            return True
        cached = self._syncifying.get(decorator)
        if cached is not None:
            return cached
        index = self.ctx.index
        module = decorator
        while module and module not in index.modules:
            module = module.rpartition(".")[0]
        result = False
        if decorator in index.functions and module:
            # Its nested functions live in its own module's declarations.
            prefix = f"{decorator}.<locals>."
            nested = [f for q, f in index.modules[module].functions.items() if q.startswith(prefix)]
            result = bool(nested) and not any(f.is_async for f in nested)
        self._syncifying[decorator] = result
        return result

    def _known_not_coroutine(self, callee: Value) -> bool:
        """Library names the catalog (or the standard library's layout) tells enough about to skip jedi."""
        catalog = self.ctx.catalog
        name = callee.name
        top = name.split(".", 1)[0]
        if top in _STDLIB_MODULES and top not in _STDLIB_WITH_COROUTINES:
            return True
        if catalog.blocking_entry(name) is not None or name in catalog.returns:
            return True
        if name in catalog.offload or name in catalog.loop_callbacks:
            return True
        last = name.rsplit(".", 1)[-1]
        return last[:1].isupper() and not callee.bound  # a class being instantiated

    def _jedi_says_coroutine(self, call: ast.Call, name: str) -> bool:
        if self.inference is None:
            return False
        # Library answers hold while jedi lives; a name of the project's own
        # packages (a module not loaded yet) may change with the next edit.
        top = name.split(".", 1)[0]
        project_packages = {module.split(".", 1)[0] for module in self.ctx.index.modules}
        answers = self._answers if top in project_packages else _JEDI_ANSWERS.setdefault(self.inference, {})
        if name not in answers:
            answers[name] = self.inference.is_coroutine_function(self.ctx.model, call)
        return bool(answers[name])

    # -- what happens to an assigned coroutine --------------------------------
    def _dead_end_uses(self, call: ast.Call, name: str) -> list[ast.Name] | None:
        """The reads of ``name`` if none of them awaits or hands on the object, else None."""
        ctx = self.ctx
        scope = ctx.scope_of(call)
        if scope.kind != "function":
            return None  # module globals and class attributes may be used elsewhere
        if any(marker in scope.bindings.get(name, ()) for marker in ("global", "nonlocal")):
            return None
        dead_ends = []
        for load in self._loads_in(scope.node).get(name, ()):
            if ctx.scope_of(load) is not scope:
                return None  # a nested function may await it
            load_use = use_of(ctx, load)
            if load_use.kind not in _DEAD_END:
                return None
            if load_use.kind == ARGUMENT and not (
                load_use.receiver is not None and takes_plain_value(ctx, load_use.receiver)
            ):
                return None
            dead_ends.append(load)
        return dead_ends

    def _loads_in(self, function: ast.AST) -> dict[str, list[ast.Name]]:
        scope = self.ctx.model.scope_of.get(function)
        if scope is not None:
            return scope.loads  # recorded by the engine's walk
        loads = self._loads.get(function)
        if loads is None:
            loads = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                    loads.setdefault(node.id, []).append(node)
            self._loads[function] = loads
        return loads

    # -- the fix --------------------------------------------------------------
    def _await_fix(self, call: ast.Call, use: Use) -> Fix | None:
        ctx = self.ctx
        scope = ctx.scope_of(call)
        if scope.kind != "function" or not scope.is_async:
            return None
        for ancestor in ctx.model.ancestors(call):
            if ancestor is scope.node:
                break
            if isinstance(ancestor, ast.GeneratorExp):
                return None  # `await` would make it an async generator expression
        span = ctx.span(call)
        if needs_parentheses(ctx.model, call) and not _parenthesised(ctx, call):
            edits = [insertion(span.start.line, span.start.column, "(await "), insertion(span.end.line, span.end.column, ")")]
        else:
            edits = [insertion(span.start.line, span.start.column, "await ")]
        # Safe where nothing reads the value: the statement then just does what it says.
        safe = use.kind in (BARE, DISCARDED) or (
            use.kind == ASSIGNED and not self._loads_in(scope.node).get(use.detail)
        )
        return make_fix(f"Await `{_call_name(ctx, call)}()`", edits, safe=safe)


def _parenthesised(ctx: RuleContext, node: ast.expr) -> bool:
    """``(f()).x``: the call already sits in parentheses of its own.

    Only asked where ``await`` would need parentheses - before ``.``, ``[``,
    ``(`` or ``**`` - so a ``)`` right after the call closes parentheses around it.
    """
    span = ctx.span(node)
    lines = ctx.model.lines
    after = lines[span.end.line - 1][span.end.column :].lstrip()
    before = lines[span.start.line - 1][: span.start.column].rstrip()
    return after.startswith(")") and before.endswith("(")


# -- messages -----------------------------------------------------------------


def _message(ctx: RuleContext, call: ast.Call, use: Use, reason: str) -> str:
    shown = f"`{_call_name(ctx, call)}()`"
    kind = use.kind
    if kind == BARE:
        message = f"Coroutine {shown} is created and never awaited, so it never runs ({reason})"
    elif kind == DISCARDED:
        message = f"Coroutine {shown} is assigned to `_` and never awaited, so it never runs ({reason})"
    elif kind == ASSIGNED:
        message = (
            f"Coroutine {shown} is assigned to `{use.detail}` but never awaited or handed on, "
            f"so it never runs ({reason})"
        )
    elif kind == CONDITION:
        message = f"Coroutine {shown} is used as a condition, where it is always true; it is never awaited ({reason})"
    elif kind == COMPARISON:
        message = f"Coroutine {shown} is compared as a coroutine object; it is never awaited ({reason})"
    elif kind == FORMATTED:
        message = f"Coroutine {shown} is formatted as `<coroutine object ...>`; it is never awaited ({reason})"
    elif kind == ARGUMENT:
        receiver = _call_name(ctx, use.receiver) if use.receiver is not None else "a function"
        message = f"Coroutine {shown} is passed to `{receiver}`, which takes no awaitables; it is never awaited ({reason})"
    else:
        message = f"Coroutine {shown} is used as a plain value; it is never awaited ({reason})"
    scope = ctx.scope_of(call)
    function = scope.function
    if function is None or scope.kind == "class":
        message += "; at module level, run it with `asyncio.run(...)`"
    elif not function.is_async:
        name = getattr(function.node, "name", "lambda")
        message += (
            f"; `{name}` is not a coroutine: make it `async def` and await the call, "
            "or run the coroutine with `asyncio.run(...)` (no event loop running) "
            "or schedule it with `asyncio.create_task(...)` (on a running loop)"
        )
    return message


def _call_name(ctx: RuleContext, call: ast.Call) -> str:
    func = call.func
    if isinstance(func, (ast.Name, ast.Attribute)):
        text = ctx.source_of(func)
        if "\n" not in text and len(text) <= 60:
            return text
        if isinstance(func, ast.Attribute):
            return f"....{func.attr}"
    return "..."


def _decl_name(decl: FunctionDecl) -> str:
    if decl.class_qualname:
        return f"{_short(decl.class_qualname)}.{decl.name}"
    return decl.name


def _short(qualname: str) -> str:
    return qualname.rsplit(".", 1)[-1]


RULE = Rule(
    name="unawaited-coroutine",
    code="ASN002",
    summary="A coroutine is created and never awaited",
    check=check,
)

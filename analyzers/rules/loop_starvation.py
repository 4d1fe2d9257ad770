"""loop-starvation (ASN006): a loop in a coroutine that can run long without an await point.

What it finds
    A ``for`` or ``while`` loop in the body of an ``async def`` that has no
    await point - no ``await``, ``async for``, ``async with`` or ``yield`` in its
    body (nor in the condition of a ``while``) - and that can run long:

    * busy waiting: a ``while`` loop that waits for a condition nothing in the
      loop can change (``while not self.ready:``, ``while time.monotonic() <
      deadline:``, ``while True:`` whose only ways out test such a
      condition), or a ``while True:`` with no way out at all;
    * work of unknown length: a ``for`` loop over a collection whose size is
      not known (a parameter, an attribute, a call's result) whose body calls
      something non-trivial, or a ``while`` loop that calls something
      non-trivial on every pass.

    The heuristic stays quiet on cheap loops: loops over literal collections,
    over ``range()`` of at most 100 items with literal (or constant) bounds and
    over ``enumerate``/``zip``/``sorted``/``.items()`` of those; loops whose
    body only calls cheap things (builtins such as ``len``/``int``/``isinstance``,
    methods of ``list``/``dict``/``set``/``str``, ``math``, ``operator``,
    ``logging``, ``asyncio.create_task``, ``task_group.start_soon`` and the
    like, methods of ``collections`` containers such as ``deque.popleft``,
    regular expressions (``pattern.search(name)``), coroutine functions -
    calling one only creates the coroutine -, constructors of project classes
    without ``__init__``, sync functions of the project that neither loop
    nor call anything costly themselves, read three helpers deep) or only
    assigns and stores attributes (``for k, v in headers.items():
    result[k.lower()] = v``); calls in a ``return`` or ``raise`` (they run
    once, on the way out); loops whose body ends on the first pass (an
    unconditional ``return``, ``break`` or ``raise``, and no ``continue``).  Of nested loops the innermost one that
    qualifies is reported.  The diagnostic spans the loop's header line
    (``for ... in ...:`` / ``while ...:``), not its body.

Why it is bad
    The event loop only switches tasks at await points.  A coroutine that
    loops over a million items, or spins waiting for a flag, holds the loop
    for the whole time: other requests, timers, heartbeats and I/O callbacks
    all wait.  A busy wait is worse: the flag it waits for is set by another
    coroutine, which cannot run while it spins, so it may never end.

Example
    ```python
    async def compute_heavy(data):
        result = []
        for item in data:          # reported: expensive_transform() per item, no await
            result.append(expensive_transform(item))
        return result

    async def wait_ready(self):
        while not self.ready:      # reported: busy wait
            pass
    ```

Fix
    Inserts ``await asyncio.sleep(0)`` as a yield point in the loop body, at
    its indentation, and ``import asyncio`` when the module lacks it.  It goes
    at the end of the body - like the seed's right example - or at the start
    when the body has a ``continue`` or ends with ``return``/``break``/
    ``continue``/``raise`` (which would skip it).  The fix is unsafe: each pass
    now lets other tasks run, so shared state may change between passes, and
    an event-loop round trip per pass costs a few microseconds; in a hot loop
    yield every N items instead (``if i % 1000 == 0: await asyncio.sleep(0)``).
    For a busy wait the real fix is an ``asyncio.Event`` or ``Condition``;
    for CPU-heavy work, ``await loop.run_in_executor(process_pool, ...)``.

Not caught yet
    Comprehensions and generator expressions over long inputs; recursion;
    long loops inside sync helpers called from the coroutine; loops whose
    expensive part is an attribute read (a property) or an operator
    (``big_a @ big_b``); ``range(n)`` with a large ``n`` computed at run time
    whose body is cheap.

    Reported though cheap: a loop over a collection that is small in
    practice (the listening sockets, the configured hosts) calling something
    whose cost is not known - a method of an unresolved object, a constructor with an ``__init__``.
"""

from __future__ import annotations

import ast
from typing import Iterable, Iterator

from ..diagnostics import Diagnostic, Fix, Position, Span
from ..fixes import ensure_import, insertion, make_fix, replacement
from .base import Rule, RuleContext

# Most passes of a loop over a literal range that still count as "a few".
SMALL_RANGE = 100

_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_TRY_NODES = (ast.Try, getattr(ast, "TryStar", ast.Try))
_JUMPS = (ast.Return, ast.Break, ast.Continue, ast.Raise)
_EXPENSIVE_BUILTINS = frozenset(
    {"open", "input", "exec", "eval", "compile", "__import__", "help", "breakpoint"}
)
_BUILTIN_TYPES = frozenset(
    {"list", "dict", "set", "frozenset", "tuple", "str", "bytes", "bytearray", "int", "float", "bool", "complex"}
)
# Library modules whose functions are cheap per call.
_CHEAP_MODULES = frozenset(
    {
        "math", "cmath", "operator", "logging", "string", "typing", "dataclasses", "itertools", "functools",
        "asyncio",
        # a registry lookup per call; shown once per place by default
        "warnings",
    }
)
_CHEAP_FUNCTIONS = frozenset(
    {
        "time.time", "time.monotonic", "time.perf_counter", "time.time_ns", "collections.deque",
        # a regular expression over one string costs about what a str method costs
        "re.Pattern.search", "re.Pattern.match", "re.Pattern.fullmatch", "re.Pattern.sub",
        "re.Pattern.split", "re.Pattern.findall", "re.search", "re.match", "re.fullmatch", "re.sub",
        "re.split", "re.findall", "re.Match.group", "re.Match.groups", "re.Match.groupdict",
        "re.Match.start", "re.Match.end", "re.Match.span",
    }
)
# Methods that are cheap whatever the receiver, when it cannot be resolved.
_CHEAP_METHODS = frozenset(
    {
        "append", "appendleft", "extend", "add", "update", "get", "setdefault", "pop", "popleft", "items",
        "keys", "values", "strip", "lstrip", "rstrip", "lower", "upper", "title", "split", "rsplit",
        "splitlines", "join", "startswith", "endswith", "format", "replace", "encode", "decode", "copy",
        "count", "index", "insert", "remove", "discard", "clear", "put_nowait", "get_nowait", "set_result",
        "set_exception", "set", "is_set", "done", "result", "cancel", "cancelled", "add_done_callback",
        "debug", "info", "warning", "warn", "error", "exception", "critical", "isoformat", "group",
        "groups", "groupdict", "isdigit", "isalpha", "isalnum", "isspace", "zfill", "partition", "rpartition",
        "find", "rfind", "casefold", "call_soon", "call_soon_threadsafe", "call_later", "call_at",
        "create_task", "create_future", "ensure_future", "remove_done_callback", "release", "notify",
        "notify_all", "start_soon",
    }
)
# Library classes whose methods named in _CHEAP_METHODS are cheap (``deque.popleft``):
# containers, like the builtin ones.
_CHEAP_CLASSES = frozenset(
    {
        "collections.deque", "collections.OrderedDict", "collections.defaultdict", "collections.Counter",
        "collections.ChainMap", "collections.UserDict", "collections.UserList",
    }
)
# How deep a sync helper of the module is read to judge its cost (helpers it calls, and theirs).
_HELPER_DEPTH = 3
_SIZE_PRESERVING = frozenset({"enumerate", "reversed", "sorted", "list", "tuple", "set", "frozenset", "iter"})


def check(ctx: RuleContext) -> Iterator[Diagnostic]:
    verdicts: dict[ast.AST, _Verdict] = {}
    for node in ctx.loops:
        scope = ctx.scope_of(node)
        if scope.kind != "function" or not scope.is_async or _partly_unparsed(ctx, node):
            continue
        verdict = _assess(ctx, node)
        if verdict is not None:
            verdicts[node] = verdict
    for loop, verdict in verdicts.items():
        # Of nested loops, the innermost that qualifies: its yield point serves the outer ones too.
        if any(inner is not loop and inner in verdicts for inner in _loops_inside(loop)):
            continue
        yield ctx.diagnostic(RULE, _header_span(ctx, loop), verdict.message(ctx, loop), fixes=[_fix(ctx, loop)])


class _Verdict:
    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind  # "busy-wait" | "forever" | "work"
        self.detail = detail  # the condition waited on, or the call made per pass

    def message(self, ctx: RuleContext, loop: ast.For | ast.While) -> str:
        function = ctx.scope_of(loop)
        name = getattr(function.node, "name", "?")
        keyword = "for" if isinstance(loop, ast.For) else "while"
        if self.kind == "forever":
            return (
                f"`while True` loop in coroutine `{name}` never awaits and never ends:"
                " it holds the event loop for good; add an await point"
            )
        if self.kind == "busy-wait":
            return (
                f"`{keyword}` loop in coroutine `{name}` busy-waits on `{self.detail}` without an await point:"
                " no other task can run (and change it) while it spins; await an asyncio.Event or sleep"
            )
        what = f"every item of `{_source(ctx, loop.iter)}`" if isinstance(loop, ast.For) else "every pass"
        return (
            f"`{keyword}` loop in coroutine `{name}` calls `{self.detail}` for {what} without an await point:"
            " a long run starves the event loop; yield with `await asyncio.sleep(0)` or offload the work"
        )


def _assess(ctx: RuleContext, loop: ast.For | ast.While) -> _Verdict | None:
    if _has_yield_point(loop):
        return None
    if _ends_on_first_pass(loop):
        return None
    if isinstance(loop, ast.While):
        if isinstance(loop.test, ast.Constant) and not loop.test.value:
            return None  # `while False:`
        waited = _busy_wait_condition(ctx, loop)
        if waited == "":
            return _Verdict("forever", "")
        if waited is not None:
            return _Verdict("busy-wait", waited)
        costly = _first_costly_call(ctx, [loop.test, *loop.body])
        return _Verdict("work", costly) if costly else None
    if _is_small(ctx, loop.iter):
        return None
    costly = _first_costly_call(ctx, loop.body)
    return _Verdict("work", costly) if costly else None


def _partly_unparsed(ctx: RuleContext, loop: ast.For | ast.While) -> bool:
    """Parse recovery dropped lines of the loop (its body may be a stand-in ``pass``)."""
    skipped = ctx.model.parsed.skipped_lines
    if not skipped:
        return False
    end = loop.end_lineno or loop.lineno
    if any(line in skipped for line in range(loop.lineno, end + 2)):
        return True
    last = ctx.span(loop.body[-1]).end
    return last.column > len(ctx.model.lines[last.line - 1])


# -- walking loop bodies ------------------------------------------------------


def _walk(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every node under ``nodes`` that runs as part of them (nested defs and lambdas left out)."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _NESTED_SCOPES):
                stack.append(child)


def _loop_parts(loop: ast.For | ast.While) -> list[ast.AST]:
    """What runs on every pass: the body, and the condition of a ``while``."""
    parts: list[ast.AST] = list(loop.body)
    if isinstance(loop, ast.While):
        parts.append(loop.test)
    return parts


def _has_yield_point(loop: ast.For | ast.While) -> bool:
    for node in _walk(_loop_parts(loop)):
        if isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith, ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, ast.comprehension) and node.is_async:
            return True
    return False


def _loops_inside(loop: ast.For | ast.While) -> Iterator[ast.AST]:
    for node in _walk(loop.body):
        if isinstance(node, (ast.For, ast.While)):
            yield node


def _own_jumps(loop: ast.For | ast.While, kinds: tuple[type, ...]) -> Iterator[ast.stmt]:
    """Jumps that leave or restart *this* loop (``break``/``continue`` of inner loops excluded)."""
    stack: list[ast.AST] = list(loop.body)
    while stack:
        node = stack.pop()
        if isinstance(node, kinds):
            yield node  # type: ignore[misc]
        for child in ast.iter_child_nodes(node):
            if isinstance(child, _NESTED_SCOPES):
                continue
            if isinstance(child, (ast.For, ast.While, ast.AsyncFor)):
                # inside an inner loop only return/raise still concern us
                stack.extend(n for n in _walk(child.body) if isinstance(n, (ast.Return, ast.Raise)) and isinstance(n, kinds))
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _ends_on_first_pass(loop: ast.For | ast.While) -> bool:
    """The body leaves the loop on its first pass - or, for a fallback loop (``try: ...; break``
    / ``except OSError: ...``), on its first pass that does not fail."""
    restarts = any(True for _ in _own_jumps(loop, (ast.Continue,)))
    for statement in loop.body:
        if isinstance(statement, (ast.Return, ast.Break, ast.Raise)) and not restarts:
            return True
        if isinstance(statement, _TRY_NODES) and statement.body and isinstance(
            statement.body[-1], (ast.Return, ast.Break)
        ):
            return True  # a `continue` before it only skips a candidate
    return False


# -- busy waiting -------------------------------------------------------------


def _busy_wait_condition(ctx: RuleContext, loop: ast.While) -> str | None:
    """The condition a ``while`` loop waits on when nothing in it can change it.

    "" for a ``while True`` with no way out; None when the loop is not a busy wait.
    """
    conditions: list[ast.expr] = []
    if not (isinstance(loop.test, ast.Constant) and loop.test.value):
        conditions.append(loop.test)
    for exit_node in _own_jumps(loop, (ast.Break, ast.Return, ast.Raise)):
        tests = _guarding_tests(loop, exit_node)
        if tests is None:
            return None  # a way out we cannot read (an exception, an inner loop)
        if not tests:
            return None  # an unconditional way out after some work: not a wait
        conditions.extend(tests)
    if not conditions:
        return ""
    if any(isinstance(node, ast.NamedExpr) for c in conditions for node in ast.walk(c)):
        return None
    changed = _changed_paths(ctx, loop.body)
    read = {path for condition in conditions for path in _read_paths(condition)}
    if any(_affects(c, r) for c in changed for r in read):
        return None
    return ast.unparse(conditions[0]) if len(conditions) == 1 else " / ".join(ast.unparse(c) for c in conditions)


def _guarding_tests(loop: ast.While, exit_node: ast.stmt) -> list[ast.expr] | None:
    """The ``if`` tests on the way from the loop to an exit; None when something else decides."""
    tests: list[ast.expr] = []
    parents = {child: parent for parent in _walk(loop.body) for child in ast.iter_child_nodes(parent)}
    node: ast.AST = exit_node
    while node not in loop.body:
        parent = parents.get(node)
        if parent is None:
            return None
        if isinstance(parent, ast.If):
            if node is parent.test:
                return None
            tests.append(parent.test)
        elif isinstance(parent, (ast.ExceptHandler, ast.For, ast.While, ast.AsyncFor, ast.match_case)):
            return None
        node = parent
    return tests


def _path(node: ast.AST) -> str | None:
    """``self.state.ready`` -> "self.state.ready"; None for anything but names and attributes."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _read_paths(condition: ast.expr) -> set[str]:
    paths: set[str] = set()
    for node in ast.walk(condition):
        if isinstance(node, (ast.Name, ast.Attribute)):
            path = _path(node)
            if path is not None:
                paths.add(path)
    return paths


def _changed_paths(ctx: RuleContext, body: list[ast.stmt]) -> set[str]:
    """What the body may change: assigned names and attributes, containers stored into,
    receivers of method calls (modules aside), objects passed to non-trivial calls."""
    changed: set[str] = set()
    for node in _walk(body):
        if isinstance(node, (ast.Name, ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            target = node.value if isinstance(node, ast.Subscript) else node
            path = _path(target)
            if path is not None:
                changed.add(path)
        elif isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute):
                path = _path(node.func.value)
                if path is not None and ctx.value_of(node.func.value).kind != "module":
                    changed.add(path)
            if _is_cheap(ctx, node):
                continue  # `result.append(x)`, `len(x)`, `logger.debug(x)` leave x alone
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                path = _path(argument.value if isinstance(argument, ast.Starred) else argument)
                if path is not None:
                    changed.add(path)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            changed.update(node.names)
    return changed


def _affects(changed: str, read: str) -> bool:
    return changed == read or read.startswith(changed + ".") or changed.startswith(read + ".")


# -- cost of a pass -----------------------------------------------------------


def _first_costly_call(ctx: RuleContext, parts: list[ast.AST]) -> str | None:
    """The first call of a pass that is not cheap (error paths - ``except``, ``raise`` - left out,
    and calls in a ``return``: they run once, on the way out, not on every pass)."""
    calls = [node for node in _walk(_normal_paths(parts, leaving=True)) if isinstance(node, ast.Call)]
    calls.sort(key=lambda call: (call.lineno, call.col_offset))
    for call in calls:
        if not _is_cheap(ctx, call):
            return f"{_source(ctx, call.func)}()"
    return None


def _normal_paths(parts: list[ast.AST], leaving: bool = False) -> Iterator[ast.AST]:
    """``parts`` with ``except`` handlers and ``raise`` statements cut off (and with
    ``leaving``, ``return`` statements: of a loop body, they end the loop)."""
    for node in parts:
        if isinstance(node, (ast.Raise, *_NESTED_SCOPES)):
            continue  # an error path; a definition (its body does not run here)
        if leaving and isinstance(node, ast.Return):
            continue
        if isinstance(node, _TRY_NODES):
            yield from _normal_paths([*node.body, *node.orelse, *node.finalbody], leaving)
            continue
        if isinstance(node, ast.stmt):
            # compound statements: look inside their blocks the same way
            blocks = [getattr(node, name, None) for name in ("body", "orelse", "finalbody")]
            if any(isinstance(block, list) for block in blocks):
                header = [
                    child for child in ast.iter_child_nodes(node) if isinstance(child, (ast.expr, ast.withitem))
                ]
                yield from header
                for block in blocks:
                    if isinstance(block, list):
                        yield from _normal_paths(block, leaving)
                continue
        yield node


def _is_cheap(ctx: RuleContext, call: ast.Call, depth: int = _HELPER_DEPTH) -> bool:
    cheap, helper = _call_cost(ctx, call)
    return _helper_is_cheap(ctx, helper, depth) if helper is not None else cheap


def _call_cost(ctx: RuleContext, call: ast.Call) -> tuple[bool, str | None]:
    """(cheap, None) for a call whose cost is known here; (False, qualname) for a sync
    function of the project: its cost is that of its body, judged by ``_helper_is_cheap``."""
    # cheap resolution (and what other rules already asked jedi): a guess of cost needs no more
    callee = ctx.resolver.callee(call, infer=False)
    target = ctx.resolver.target_name(callee)
    if target is None:
        func = call.func
        return isinstance(func, ast.Attribute) and func.attr in _CHEAP_METHODS, None
    if target.startswith("builtins."):
        rest = target[len("builtins.") :]
        owner = rest.split(".", 1)[0]
        return rest not in _EXPENSIVE_BUILTINS and (owner in _BUILTIN_TYPES or "." not in rest), None
    decl = ctx.function_decl(target)
    if decl is not None:
        if decl.creates_coroutine or decl.is_generator:
            return True, None  # calling it only creates the coroutine (or generator)
        return False, target
    if callee.kind == "class" and target in ctx.index.classes:
        # a project class without __init__: a dataclass, a NamedTuple, a plain record
        return all(ctx.index.lookup_member(target, m) is None for m in ("__new__", "__post_init__")), None
    if target in ctx.catalog.coroutines or target in _CHEAP_FUNCTIONS:
        return True, None
    owner, _, method = target.rpartition(".")
    if owner in _CHEAP_CLASSES and method in _CHEAP_METHODS:
        return True, None
    return target.split(".", 1)[0] in _CHEAP_MODULES and ctx.catalog.blocking_entry(target) is None, None


def local_cost(ctx: RuleContext, node: ast.FunctionDef) -> tuple[bool, tuple[str, ...]]:
    """Whether the body of a sync function is cheap per call on its own - it neither loops
    (over more than a few items) nor calls anything costly - and the project functions it
    calls, whose cost is its cost too.  ``summary.summarise`` stores this per function
    (``FunctionFacts.locally_cheap``), so other modules can judge a helper they cannot read."""
    if _loops_over_unknown(ctx, node.body):
        return False, ()
    helpers: list[str] = []
    for call in _walk(_normal_paths(node.body)):
        if not isinstance(call, ast.Call):
            continue
        cheap, helper = _call_cost(ctx, call)
        if helper is not None:
            helpers.append(helper)
        elif not cheap:
            return False, ()
    return True, tuple(dict.fromkeys(helpers))


def _helper_is_cheap(ctx: RuleContext, qualname: str, depth: int) -> bool:
    """A sync function of the project is cheap per call when it neither loops (over more
    than a few items) nor calls anything that is not cheap - read up to ``_HELPER_DEPTH``
    helpers deep.  A function of this module is read from its body; one of another module
    from its summary (``FunctionFacts.locally_cheap`` and ``cheap_if``)."""
    if depth <= 0:
        return False
    key = ("loop-starvation:cheap", qualname, depth)
    known = ctx.memo.get(key)
    if known is not None:
        return bool(known)
    ctx.memo[key] = False  # a helper that calls itself: recursion is not cheap
    node = ctx.function_node(qualname)
    if isinstance(node, ast.FunctionDef):
        local, helpers = local_cost(ctx, node)
    else:
        cost = ctx.facts.cost_of(qualname) if ctx.facts is not None and node is None else None
        local, helpers = cost if cost is not None else (False, ())
    cheap = (
        local
        and ctx.blocking_chain(qualname) is None
        and all(_helper_is_cheap(ctx, helper, depth - 1) for helper in helpers)
    )
    ctx.memo[key] = cheap
    return cheap


def _loops_over_unknown(ctx: RuleContext, body: list[ast.stmt]) -> bool:
    """A loop or comprehension in ``body`` that may run for many items."""
    for node in _walk(body):
        if isinstance(node, ast.While):
            return True
        if isinstance(node, (ast.For, ast.comprehension)) and not _is_small(ctx, node.iter):
            return True
    return False


# -- size of what a for loop iterates over ----------------------------------------


def _is_small(ctx: RuleContext, node: ast.expr, depth: int = 3) -> bool:
    if depth <= 0:
        return False
    if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
        return True
    if isinstance(node, ast.Constant):
        return isinstance(node.value, (str, bytes))
    if isinstance(node, ast.Name):
        return _bound_to_small(ctx, node, depth)
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else None
    if name == "range":
        bounds = [_constant_int(ctx, argument) for argument in node.args]
        if not node.args or node.keywords or any(b is None for b in bounds):
            return False
        try:
            return len(range(*bounds)) <= SMALL_RANGE  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return False
    if name in _SIZE_PRESERVING and len(node.args) == 1:
        return _is_small(ctx, node.args[0], depth - 1)
    if name == "zip":
        return any(_is_small(ctx, argument, depth - 1) for argument in node.args)
    if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values") and not node.args:
        return _is_small(ctx, func.value, depth - 1)
    return False


def _bindings(ctx: RuleContext, name: ast.Name) -> list[object] | None:
    scope = ctx.scope_of(name)
    current = scope
    while current is not None:
        if current.kind == "class" and current is not scope:
            current = current.parent
            continue
        if name.id in current.bindings:
            return current.bindings[name.id]
        current = current.parent
    return None


def _bound_to_small(ctx: RuleContext, name: ast.Name, depth: int) -> bool:
    bindings = _bindings(ctx, name)
    return bool(bindings) and all(
        isinstance(binding, ast.expr) and _is_small(ctx, binding, depth - 1) for binding in bindings
    )


def _constant_int(ctx: RuleContext, node: ast.expr) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _constant_int(ctx, node.operand)
        return -inner if inner is not None else None
    if isinstance(node, ast.Name):
        bindings = _bindings(ctx, node)
        if bindings and len(bindings) == 1 and isinstance(bindings[0], ast.Constant):
            return _constant_int(ctx, bindings[0])
    return None


# -- reporting and fixing -----------------------------------------------------


def _source(ctx: RuleContext, node: ast.AST) -> str:
    text = ctx.source_of(node)
    return text if len(text) <= 60 and "\n" not in text else ast.unparse(node)[:60]


def _header_span(ctx: RuleContext, loop: ast.For | ast.While) -> Span:
    """From ``for``/``while`` to the colon ending the header."""
    start = ctx.span(loop).start
    last = loop.iter if isinstance(loop, ast.For) else loop.test
    end = ctx.span(last).end
    line = ctx.model.lines[end.line - 1]
    column = end.column
    while column < len(line) and line[column] in " \t)":
        column += 1
    if column < len(line) and line[column] == ":":
        end = Position(end.line, column + 1)
    return Span(start, end)


def _fix(ctx: RuleContext, loop: ast.For | ast.While) -> Fix | None:
    asyncio_name, import_edit = ensure_import(ctx.model, "asyncio")
    statement = f"await {asyncio_name}.sleep(0)"
    body = loop.body
    lines = ctx.model.lines
    at_start = any(True for _ in _own_jumps(loop, (ast.Continue,))) or isinstance(body[-1], _JUMPS)
    header_end = _header_span(ctx, loop).end.line
    if len(body) == 1 and isinstance(body[0], ast.Pass):
        # `while not self.ready: pass` -> the yield point takes the place of `pass`
        edit = replacement(ctx.span(body[0]), statement)
    elif body[0].lineno == header_end:
        # `while True: pass` - the body shares the header's line
        if at_start:
            first = ctx.span(body[0]).start
            edit = insertion(first.line, first.column, f"{statement}; ")
        else:
            last = ctx.span(body[-1]).end
            edit = insertion(last.line, last.column, f"; {statement}")
    else:
        first_line = lines[body[0].lineno - 1]
        indent = first_line[: len(first_line) - len(first_line.lstrip())]
        newline = "\r\n" if "\r\n" in ctx.model.text else "\n"
        if at_start:
            edit = insertion(body[0].lineno, 0, f"{indent}{statement}{newline}")
        else:
            end_line = body[-1].end_lineno or body[-1].lineno
            if end_line < len(lines):
                edit = insertion(end_line + 1, 0, f"{indent}{statement}{newline}")
            else:
                edit = insertion(end_line, len(lines[end_line - 1]), f"{newline}{indent}{statement}")
    return make_fix(f"Insert `{statement}` as a yield point in the loop", [edit, import_edit], safe=False)


RULE = Rule(
    name="loop-starvation",
    code="ASN006",
    summary="Loop in a coroutine that can run long without an await point",
    check=check,
)

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
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Iterator
from weakref import WeakKeyDictionary

from .diagnostics import Span
from .index import ProjectIndex, Value
from .semantics import DefBinding, ImportBinding, ModuleModel, Resolver, Scope

if TYPE_CHECKING:
    from .catalog import BlockingEntry, Catalog
    from .config import Config
    from .libraries import LibraryFollower
    from .profiles import LoopBinding, ProfileSet

log = logging.getLogger(__name__)

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


class InterestingNames(set):
    """``ProjectFacts.interesting_names``: a set of names, with the subset that matters as coroutines only."""

    coroutine_only: set[str] = set()


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
    # Calls of names that may live in an installed library (``api.get_devices``):
    # followed lazily by ``ProjectFacts`` through ``libraries.LibraryFollower``.
    library_calls: list[Site] = field(default_factory=list)
    # For a library function: its declared return type (``-> Api``), to type receivers.
    returns: str | None = None
    # Cost per call, for loop-starvation: the body of this sync function neither loops
    # over more than a few items nor calls anything costly, except the project
    # functions in ``cheap_if`` - cheap when they are (``ProjectFacts`` reads them at
    # rule time, with the blocking chain).  Criteria: ``rules.loop_starvation.local_cost``.
    locally_cheap: bool = False
    cheap_if: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    """A project function handed, uncalled, to a call: ``loop.call_soon(self._tick)``.

    Whether that runs it on the event loop is decided later (``profiles.py``),
    from the receiver, the argument's position and the active profiles.
    """

    function: str  # qualname of the function passed (a lambda's scope qualname)
    receiver: str | None  # qualified name of what it is passed to, if resolved
    method: str  # the receiver's last name as written (``call_soon``)
    position: int  # positional index of the argument; -1 for a keyword argument
    text: str  # the receiver as written (``loop.call_soon``)
    site: Site  # the call


@dataclass
class ModuleFacts:
    module: str
    path: str
    functions: dict[str, FunctionFacts] = field(default_factory=dict)
    references: list[Reference] = field(default_factory=list)
    # Where things are declared, for related information: decorators (per
    # function, in order), and the (line, start, end) of class and def headers.
    decorators: dict[str, tuple[Span, ...]] = field(default_factory=dict)
    classes: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    definitions: dict[str, tuple[int, int, int]] = field(default_factory=dict)


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
    if function is None:
        return f"{model.name}.{MODULE_CODE}"
    if _is_accessor(function.node):
        # `@x.setter def x(...)` has the getter's qualname: keep the getter's facts apart.
        return f"{function.qualname}.<{function.node.decorator_list[0].attr}>"
    return function.qualname


def _is_accessor(node: ast.AST) -> bool:
    decorators = getattr(node, "decorator_list", None)
    return bool(decorators) and any(
        isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter") for d in decorators[:1]
    )


def summarise(
    model: ModuleModel, resolver: Resolver, previous: tuple[ModuleFacts, ModuleModel] | None = None
) -> ModuleFacts:
    """The facts of a module's functions.

    ``previous``: an editor buffer's last version (its facts and model), given when
    the resolver carried that version's answers over (``Project._carry_resolutions``):
    the facts of a function whose definition is the same syntax tree (its block did
    not change) and that jedi has not refined are taken over instead of recomputed -
    its calls resolve as they did, to the same positions.
    """
    facts = ModuleFacts(model.name, model.path)
    definitions = _definitions_by_key(model)
    for key, (_, scope) in definitions.items():
        facts.functions[key] = FunctionFacts(key, scope.is_async, model.path)
    module_key = f"{model.name}.{MODULE_CODE}"
    facts.functions[module_key] = FunctionFacts(module_key, False, model.path)
    kept: set[str] = set()
    if previous is not None:
        old_facts, old_model = previous
        old_nodes = {key: node for key, (node, _) in _definitions_by_key(old_model).items()}
        for key, (node, _) in definitions.items():
            old = old_facts.functions.get(key)
            if node is not None and old_nodes.get(key) is node and old is not None and not old.refined:
                facts.functions[key] = old
                kept.add(key)
    for site in model.calls:
        if site.awaited:
            continue
        key = function_key(model, site.scope)
        if key in kept:
            continue
        # Cheap resolution only: jedi is asked later, where a rule or a chain needs it.
        callee = resolver.callee(site.node, site.scope, infer=False)
        record_call(facts.functions[key], model, resolver, site.node, callee)
    _record_structure(model, resolver, facts, kept)
    _record_cost(model, resolver, facts, kept)
    return facts


def _definitions_by_key(model: ModuleModel) -> dict[str, tuple[ast.AST | None, Scope]]:
    """Each function's facts key: its definition (None when several share the key) and
    the last scope so keyed (whose facts the key holds)."""
    found: dict[str, tuple[ast.AST | None, Scope]] = {}
    for scope in model.scopes:
        if scope.kind == "function":
            key = function_key(model, scope)
            found[key] = (scope.node if key not in found else None, scope)
    return found


def _record_cost(model: ModuleModel, resolver: Resolver, facts: ModuleFacts, kept: set[str] = frozenset()) -> None:
    """``FunctionFacts.locally_cheap`` / ``cheap_if`` of the module's sync functions."""
    # The rule owns the one definition of "cheap"; imported here to avoid an import cycle.
    from .rules.base import RuleContext
    from .rules.loop_starvation import local_cost

    ctx = RuleContext(model, resolver, None, None, resolver.catalog)  # type: ignore[arg-type]
    for scope in model.scopes:
        if scope.kind != "function" or not isinstance(scope.node, ast.FunctionDef):
            continue
        function = facts.functions.get(function_key(model, scope))
        if function is None or function.qualname != scope.qualname:
            continue  # an accessor: its facts are kept apart, not looked up by callers
        if function.qualname in kept:
            continue
        function.locally_cheap, function.cheap_if = local_cost(ctx, scope.node)


def refine(function: FunctionFacts, model: ModuleModel, resolver: Resolver) -> None:
    """Put the calls of a sync function that cheap resolution left open to jedi."""
    function.refined = True
    for site in _sites_by_function(model).get(function.qualname, ()):
        if site.awaited:
            continue
        if resolver.callee(site.node, site.scope, infer=False).known:
            continue
        callee = resolver.callee(site.node, site.scope, infer=True)
        if callee.known:
            record_call(function, model, resolver, site.node, callee)


# The call sites of a model by function key: a check refines hundreds of a module's
# functions, and scanning every call of the module for each was quadratic.
_SITES: WeakKeyDictionary[ModuleModel, dict[str, list]] = WeakKeyDictionary()


def _sites_by_function(model: ModuleModel) -> dict[str, list]:
    found = _SITES.get(model)
    if found is None:
        found = {}
        for site in model.calls:
            found.setdefault(function_key(model, site.scope), []).append(site)
        _SITES[model] = found
    return found


def record_call(owner: FunctionFacts, model: ModuleModel, resolver: Resolver, call: ast.Call, callee) -> None:
    target = resolver.target_name(callee)
    if target is None:
        return
    entry = resolver.catalog.blocking_entry(target)
    if entry is not None:
        # A call made only where no loop runs, or off the loop's thread, blocks no loop.
        if not is_guarded_runner(model, call, main_guard=False):
            owner.blocking.append(Site(entry.name, model.path, span_of(model, call), entry.category))
    elif target in resolver.index.functions:
        owner.calls.append(Site(target, model.path, span_of(model, call)))
    elif target in LOOP_RUNNERS and not is_guarded_runner(model, call):
        owner.runs_loop.append(Site(target, model.path, span_of(model, call)))
    elif target not in LOOP_RUNNERS and _library_candidate(target, resolver):
        owner.library_calls.append(Site(target, model.path, span_of(model, call)))


def _library_candidate(target: str, resolver: Resolver) -> bool:
    """A name outside the project and the standard library that the catalog does not know."""
    from .libraries import is_library_name

    catalog = resolver.catalog
    return (
        is_library_name(target)
        and target not in resolver.index.classes
        and target not in catalog.coroutines
        and target not in catalog.offload
        and target not in catalog.loop_callbacks
    )


# ---------------------------------------------------------------------------
# Structure: function references, property reads, declaration sites


def _record_structure(model: ModuleModel, resolver: Resolver, facts: ModuleFacts, kept: set[str] = frozenset()) -> None:
    for scope in model.scopes:
        node = scope.node
        if scope.kind == "function" and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            key = function_key(model, scope)
            facts.definitions[key] = header(node)
            if node.decorator_list:
                facts.decorators[key] = tuple(span_of(model, d) for d in node.decorator_list)
        elif scope.kind == "class" and isinstance(node, ast.ClassDef):
            facts.classes[scope.qualname] = header(node)
    # A property read runs the getter: an edge like a call.
    for node, scope, getter in property_reads(model, resolver):
        key = function_key(model, scope)
        owner = facts.functions.get(key)
        if owner is not None and key not in kept:  # kept facts have their edges
            owner.calls.append(Site(getter, model.path, span_of(model, node), "property"))
    for site in model.calls:
        call = site.node
        if site.awaited or not (call.args or call.keywords):
            continue
        arguments = [*enumerate(call.args), *((-1, keyword.value) for keyword in call.keywords)]
        for position, argument in arguments:
            function = function_reference(model, resolver, argument, site.scope)
            if function is None:
                continue
            callee = resolver.callee(call, site.scope, infer=False)
            receiver = resolver.target_name(callee) if callee.known else None
            func = call.func
            method = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            span = span_of(model, call)
            facts.references.append(
                Reference(
                    function, receiver, method, position, ast.unparse(func), Site(receiver or method, model.path, span)
                )
            )


_KEYWORDS = {ast.FunctionDef: "def ", ast.AsyncFunctionDef: "async def ", ast.ClassDef: "class "}


def header(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> tuple[int, int, int]:
    """(line, start, end) of ``def name`` / ``class Name``: where to point at a declaration."""
    # A def starts after indentation only, so its byte column is its character column.
    start = node.col_offset
    return node.lineno, start, start + len(_KEYWORDS[type(node)]) + len(node.name)


def header_span(header: tuple[int, int, int]) -> Span:
    line, start, end = header
    return Span.of(line, start, line, end)


def function_reference(model: ModuleModel, resolver: Resolver, node: ast.expr, scope: Scope) -> str | None:
    """The project function an argument denotes without calling it (a lambda, ``self.f``, ``partial(f)``)."""
    if isinstance(node, ast.Lambda):
        lambda_scope = model.scope_of.get(node)
        return lambda_scope.qualname if lambda_scope is not None else None
    if isinstance(node, ast.Call):
        if node.args and resolver.target_name(resolver.callee(node, scope, infer=False)) == "functools.partial":
            return function_reference(model, resolver, node.args[0], scope)
        return None
    index = resolver.index
    if isinstance(node, ast.Name):
        if node.id not in index.function_names or not _bound_by_definition(node.id, scope):
            return None
    elif isinstance(node, ast.Attribute):
        if node.attr not in index.function_names or node.attr in property_names(index):
            return None
    else:
        return None
    value = resolver.value_of(node, scope)
    if value.kind == "function" and value.name in resolver.index.functions:
        return value.name
    return None


_PROPERTY_NAMES: dict[int, tuple[set[str], set[str]]] = {}


def property_names(index: ProjectIndex) -> set[str]:
    """Simple names of the project's properties, recomputed when the index changes."""
    # ``function_names`` is a new set object after every change of the index: a change token.
    token = index.function_names
    cached = _PROPERTY_NAMES.get(id(index))
    if cached is not None and cached[0] is token:
        return cached[1]
    names = {decl.name for decl in index.functions.values() if decl.is_property}
    if len(_PROPERTY_NAMES) > 16:
        _PROPERTY_NAMES.clear()
    _PROPERTY_NAMES[id(index)] = (token, names)
    return names


def _bound_by_definition(name: str, scope: Scope) -> bool:
    """Is ``name`` a ``def`` or an import where it is used (not a parameter or a variable)?"""
    current: Scope | None = scope
    first = True
    while current is not None:
        if current.kind != "class" or first:
            bindings = current.bindings.get(name)
            if bindings is not None:
                return any(isinstance(b, (DefBinding, ImportBinding)) for b in bindings)
        first = False
        current = current.parent
    return False


def property_reads(
    model: ModuleModel, resolver: Resolver, nodes: Iterable[ast.AST] | None = None
) -> Iterator[tuple[ast.Attribute, Scope, str]]:
    """Reads of the project's properties (``self.cert_path``): (node, scope, getter qualname),
    among ``nodes`` (default: the whole module)."""
    index = resolver.index
    names = property_names(index)
    if not names:
        return
    attribute = ast.Attribute
    parents = model.parents
    for node in parents if nodes is None else nodes:  # every node but the module: cheaper than ast.walk
        if type(node) is not attribute or node.attr not in names or type(node.ctx) is not ast.Load:
            continue
        parent = parents[node]
        if type(parent) is ast.Call and parent.func is node:
            continue  # `obj.method()`: a call, summarised as such
        scope = model.enclosing_scope(node)
        base = resolver.value_of(node.value, scope)
        if base.kind != "instance":
            continue
        class_name = base.name if base.name in index.classes else index.normalize(Value("ref", base.name)).name
        found = index.lookup_member(class_name, node.attr)
        if found is None or found[1].kind != "function":
            continue
        decl = index.functions.get(found[1].name)
        if decl is not None and decl.is_property and not decl.is_async:
            yield node, scope, decl.qualname


def is_guarded_runner(model: ModuleModel, call: ast.Call, main_guard: bool = True) -> bool:
    """Whether a loop runner only runs where no event loop is running.

    Recognised: ``if __name__ == "__main__":``; the handler of a ``try`` that
    probes ``asyncio.get_running_loop()`` and catches ``RuntimeError``; an
    ``if`` branch taken only without a running loop (``loop is None``,
    ``not loop``, ``not loop.is_running()``, the ``else`` of ``if loop:``) where
    ``loop`` comes from such a probe, or only off the loop's thread
    (``if hass.loop_thread_id != threading.get_ident():``); and code after an early exit
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
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and _compares_loop_thread(test):
        # `if hass.loop_thread_id != threading.get_ident():` - another thread than the loop's
        if isinstance(test.ops[0], (ast.NotEq, ast.IsNot)):
            return "body"
        if isinstance(test.ops[0], (ast.Eq, ast.Is)):
            return "orelse"
    if isinstance(test, ast.BoolOp):
        branches = {_no_loop_branch(value, probes) for value in test.values}
        if isinstance(test.op, ast.Or) and branches == {"body"}:
            return "body"
        if isinstance(test.op, ast.And) and branches == {"orelse"}:
            return "orelse"
    return None


_THREAD_IDS = frozenset({"get_ident", "get_native_id"})


def _compares_loop_thread(test: ast.Compare) -> bool:
    """``threading.get_ident()`` compared with the event loop's thread (a name with "loop" in it)."""
    sides = [test.left, test.comparators[0]]
    calls = [
        side
        for side in sides
        if isinstance(side, ast.Call)
        and (getattr(side.func, "attr", None) in _THREAD_IDS or getattr(side.func, "id", None) in _THREAD_IDS)
    ]
    if len(calls) != 1:
        return False
    other = sides[1] if calls[0] is sides[0] else sides[0]
    return "loop" in ast.unparse(other).lower()


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
    if isinstance(block, (ast.Module, ast.ClassDef)):
        # No early exit there; and scanning every statement before each of
        # thousands of definitions would make a long module quadratic.
        return False
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
    """The summaries of all modules, linked: interprocedural answers, memoised.

    Chains cross into installed libraries when the project sets ``libraries``
    (``libraries.LibraryFollower``): a library name met on the way is
    summarised on demand, up to ``MAX_LIBRARY_DEPTH`` calls into library code.
    ``loop_bound(q)`` says whether a sync function runs on the event loop
    (callbacks, profile hooks, and what they call; see ``profiles.py``).
    """

    MAX_LIBRARY_DEPTH = 6

    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.functions: dict[str, FunctionFacts] = {}
        self.modules: dict[str, ModuleFacts] = {}  # by path
        self._blocking: dict[str, list[Site] | None] = {}
        self._runs_loop: dict[str, list[Site] | None] = {}
        # Set by the project: refines a sync function's facts with jedi on demand.
        self.refine: Callable[[FunctionFacts], None] | None = None
        # Set by the project (all optional): settings, catalog, root for relative
        # profile paths, and the follower of calls into installed libraries.
        self.config: Config | None = None
        self.catalog: Catalog | None = None
        self.root: Path | None = None
        self.libraries: LibraryFollower | None = None
        self._profiles: ProfileSet | None = None
        self._loop_bound: dict[str, LoopBinding] | None = None
        # Chains the library budget cut short: not memoised, worth asking again later;
        # and the modules whose findings missed one (``take_cut_off``).
        self.cut_off: set[str] = set()
        self.cut_off_paths: set[str] = set()
        self._cycle_cuts = 0  # times a chain query met a function still being explored

    def add(self, facts: ModuleFacts) -> None:
        self.functions.update(facts.functions)
        self.modules[facts.path] = facts
        self._blocking.clear()
        self._runs_loop.clear()
        self._forget_derived()

    def remove_module(self, path: str) -> None:
        self.functions = {k: v for k, v in self.functions.items() if v.path != path}
        self.modules.pop(path, None)
        self._blocking.clear()
        self._runs_loop.clear()
        self._forget_derived()

    def _forget_derived(self) -> None:
        self._profiles = None  # the imports decide which profiles are on
        self._loop_bound = None

    # -- loop-bound sync code -------------------------------------------------
    @property
    def profiles(self) -> ProfileSet:
        """The framework profiles in effect: the config's, or those the imports switch on."""
        if self._profiles is None:
            from .config import Config, ConfigError
            from .profiles import select_profiles

            imported: set[str] = set()
            for decl in self.index.modules.values():
                imported.update(decl.imports)
            errors: list[ConfigError] = []
            self._profiles = select_profiles(self.config or Config(), imported, self.root, errors)
            for error in errors:
                log.warning("profile left out: %s", error)
            if self.libraries is not None:
                self.libraries.extra_async_safe = self._profiles.async_safe
        return self._profiles

    def loop_bound(self, qualname: str) -> LoopBinding | None:
        """Why the sync function ``qualname`` runs on the event loop, or None."""
        if self._loop_bound is None:
            from .profiles import find_loop_bound

            self._loop_bound = find_loop_bound(self, self.profiles)
        return self._loop_bound.get(qualname)

    def loop_bound_key(self, path: str) -> tuple:
        """What a module's findings owe to code elsewhere that calls it (for result caches).

        A blocking line in a loop-bound function is reported because of a
        registration, decorator or caller that may live in another module, and
        the active profiles depend on the whole project's imports: the
        summaries a module's own calls reach do not capture that.
        """
        module = self.modules.get(path)
        if module is None:
            return ()
        bindings = []
        for qualname in sorted(module.functions):
            binding = self.loop_bound(qualname)
            if binding is not None:
                root = binding.root
                where = (root.where.path, root.where.span) if root.where is not None else None
                bindings.append((qualname, root.function, root.reason, where, binding.chain))
        return (self.profiles.names, tuple(bindings))

    def result_key(self, path: str) -> tuple:
        """For result caches: what a module's findings depend on beyond its own summary
        and the summaries its calls reach - loop-bound bindings (``loop_bound_key``) and
        library analysis (its settings: summaries are fixed by the installed libraries, and
        a run the library budget cut short is not cached at all, see ``final``)."""
        libraries = self.libraries.state_key() if self.libraries is not None else ()
        return (self.loop_bound_key(path), libraries)

    def take_cut_off(self, path: str) -> bool:
        """Did the library budget cut a chain short for the findings of ``path``? (Forgets it.)"""
        if path in self.cut_off_paths:
            self.cut_off_paths.discard(path)
            return True
        return False

    @property
    def final(self) -> bool:
        """False when library analysis ran out of budget in this run: findings may grow next run."""
        return self.libraries is None or not self.libraries.stats.exhausted

    # -- installed libraries --------------------------------------------------
    def library_facts(self, name: str) -> FunctionFacts | None:
        """The summary of a library function (analysed now, or from the cache), or None."""
        if self.libraries is None:
            return None
        self.profiles  # noqa: B018 - hands the profiles' async-safe names to the follower
        return self.libraries.facts_for(name)

    def library_returns(self, name: str) -> str | None:
        """The declared return type of a library function: ``api = lib.login(); api.get_devices()``."""
        if self.libraries is None:
            return None
        self.profiles  # noqa: B018 - hands the profiles' async-safe names to the follower
        return self.libraries.returns_of(name)

    def extra_blocking(self, name: str) -> BlockingEntry | None:
        """A config ``extra-blocking-calls`` entry that names a module or class containing ``name``."""
        from .libraries import config_blocking_entry

        return config_blocking_entry(self.config, name)

    def interesting_names(self) -> set[str]:
        """Names of project functions that matter to a rule: worth inferring calls by.

        The set's ``coroutine_only`` names matter only as coroutines (every
        function so named that matters creates one): a call of such a name
        matters to unawaited-coroutine alone, where the call's result is
        dropped or used as a plain value (see ``inference._may_matter``).
        """
        names = InterestingNames()
        other: set[str] = set()
        for qualname, facts in self.functions.items():
            decl = self.index.functions.get(qualname)
            if decl is None:
                continue
            if facts.blocking or facts.runs_loop or decl.is_property:
                names.add(decl.name)
                other.add(decl.name)
            elif decl.creates_coroutine:
                names.add(decl.name)
        names.coroutine_only = names - other
        return names

    def cost_of(self, qualname: str) -> tuple[bool, tuple[str, ...]] | None:
        """Whether a sync project function is cheap per call on its own, and the helpers it
        is cheap only if they are (loop-starvation's question; None: not a summarised function)."""
        facts = self.functions.get(qualname)
        if facts is None:
            return None
        return (not facts.is_async and facts.locally_cheap, tuple(facts.cheap_if))

    def blocking_chain(self, qualname: str) -> list[Site] | None:
        """For a sync function (project, or library) that blocks: the calls down to the blocking one."""
        return self._chain(qualname, "blocking", self._blocking, set())

    def loop_runner_chain(self, qualname: str) -> list[Site] | None:
        """For a sync function (project, or library) that can start an event loop: the calls down to it."""
        return self._chain(qualname, "runs_loop", self._runs_loop, set())

    def _chain(
        self,
        qualname: str,
        attribute: str,
        memo: dict[str, list[Site] | None],
        visiting: set[str],
        library_depth: int = 0,
        provisional: dict[str, None] | None = None,
    ) -> list[Site] | None:
        if qualname in memo:
            return memo[qualname]
        # "No chain" answers cut by a cycle hold for the rest of this query only.
        provisional = {} if provisional is None else provisional
        if qualname in provisional:
            return None
        facts = self.functions.get(qualname)
        decl = self.index.functions.get(qualname)
        if facts is None and decl is None and library_depth <= self.MAX_LIBRARY_DEPTH:
            before = self.libraries.cutoffs if self.libraries is not None else 0
            facts = self.library_facts(qualname)
            library_depth = max(library_depth, 1)
            if facts is None and self.libraries is not None and self.libraries.cutoffs != before:
                self.cut_off.add(qualname)
                return None
        if facts is None or facts.is_async or (decl is not None and decl.creates_coroutine):
            return None  # coroutines are checked where they are; awaiting them does not block
        if qualname in visiting:
            self._cycle_cuts += 1
            return None  # recursion: decided by the outer frame
        visiting.add(qualname)
        cutoffs = self.libraries.cutoffs if self.libraries is not None else 0
        cycle_cuts = self._cycle_cuts
        if not facts.refined and self.refine is not None:
            self.refine(facts)
        direct: list[Site] = getattr(facts, attribute)
        # The call that runs first: of `conn.execute(...).fetchall()`, `execute`.
        first = min(direct, key=lambda site: (site.span.start, site.span.end)) if direct else None
        result: list[Site] | None = [first] if first is not None else None
        if result is None and attribute == "blocking":
            for call in facts.library_calls:
                entry = self.extra_blocking(call.target)
                if entry is not None:
                    result = [Site(entry.name, call.path, call.span, entry.category)]
                    break
        if result is None:
            for call in facts.calls:
                below = self._chain(call.target, attribute, memo, visiting, library_depth, provisional)
                if below is not None:
                    result = [call, *below]
                    break
        if result is None:
            for call in facts.library_calls:
                below = self._chain(call.target, attribute, memo, visiting, library_depth + 1, provisional)
                if below is not None:
                    result = [call, *below]
                    break
        visiting.discard(qualname)
        if result is None and self.libraries is not None and self.libraries.cutoffs != cutoffs:
            self.cut_off.add(qualname)  # the library budget ran out on the way: not an answer
        elif result is None and visiting and self._cycle_cuts != cycle_cuts:
            # A cycle back into a caller still being explored: only the outermost query knows.
            provisional[qualname] = None
        else:
            self.cut_off.discard(qualname)
            memo[qualname] = result
        return result

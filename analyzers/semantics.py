"""The model of one module: scopes, bindings, call sites and name resolution.

One walk over the ``ast`` records, for every function, the names it binds
(parameters with annotations, assignments, imports, ``with ... as``), and for
every call whether it runs in a coroutine body and whether it is awaited.
``Resolver`` then answers "what does this expression denote?" cheaply, through
the import table, local types, annotations, ``self`` attributes and the other
modules' declarations, and asks jedi (``inference.py``) only when that fails
for a call whose name could matter.
"""

from __future__ import annotations

import ast
import builtins
import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterator

from .catalog import Catalog
from .index import UNKNOWN, ClassDecl, FunctionDecl, ModuleDecl, ProjectIndex, Value
from .parsing import _PARSER_FAILURES, ParsedModule, parse_quietly

if TYPE_CHECKING:
    from .inference import JediInference
    from .notebooks import NotebookSource

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
_BUILTIN_NAMES = frozenset(dir(builtins))
_AWAITABLE_ANNOTATIONS = frozenset(
    {
        "typing.Coroutine", "typing.Awaitable", "collections.abc.Coroutine",
        "collections.abc.Awaitable", "asyncio.Future", "asyncio.Task", "types.CoroutineType",
        "typing.Optional[typing.Awaitable]",
    }
)
# Binary operators whose result type the catalog can give (``path / "name"``).
_OPERATOR_METHODS: dict[type, str] = {ast.Div: "__truediv__", ast.Add: "__add__", ast.Mod: "__mod__"}
_OPTIONAL_WRAPPERS = frozenset({"typing.Optional", "typing.Annotated", "typing.Final", "typing.ClassVar"})


@dataclass
class Scope:
    """A function (or the module, or a class body) and the names it binds."""

    node: ast.AST
    qualname: str
    parent: Scope | None
    kind: str  # "module" | "function" | "class"
    is_async: bool = False
    is_generator: bool = False  # a `yield` in its own body
    # name -> the Name nodes that read it, in this function and the ones nested in it
    loads: dict[str, list[ast.Name]] = field(default_factory=dict)
    class_qualname: str | None = None  # for methods: the class they belong to
    # name -> expressions / markers that bind it (flow-insensitive)
    bindings: dict[str, list[object]] = field(default_factory=dict)
    decl: FunctionDecl | None = None

    def bind(self, name: str, binding: object) -> None:
        self.bindings.setdefault(name, []).append(binding)

    @property
    def function(self) -> Scope | None:
        """The innermost enclosing function scope (self if a function)."""
        scope: Scope | None = self
        while scope is not None and scope.kind != "function":
            scope = scope.parent
        return scope


@dataclass(frozen=True)
class ImportBinding:
    target: str  # the module or module.attribute imported
    is_module: bool  # `import x` (a module) vs `from m import x` (module or attribute)


@dataclass(frozen=True)
class ParamBinding:
    annotation: ast.expr | None
    position: int
    scope_node: ast.AST


@dataclass(frozen=True)
class WithBinding:
    context: ast.expr
    is_async: bool


@dataclass(frozen=True)
class DefBinding:
    qualname: str
    is_class: bool


@dataclass(frozen=True)
class AnnBinding:
    annotation: ast.expr


@dataclass(frozen=True)
class IterBinding:
    iterable: ast.expr


@dataclass
class CallSite:
    node: ast.Call
    scope: Scope  # the innermost scope the call runs in
    # The call runs on the event loop as part of a coroutine body.
    in_coroutine: bool
    awaited: bool


class ModuleModel:
    """Everything the rules need to know about one module."""

    # Set for a Jupyter notebook (its code cells as one module, see notebooks.py):
    # its top-level code runs on IPython's event loop.
    notebook: NotebookSource | None = None

    def __init__(
        self,
        parsed: ParsedModule,
        path: str,
        module_name: str,
        is_package: bool,
        catalog: Catalog,
        content_hash: str = "",
        blocks: list[list[ast.stmt]] | None = None,
        block_cache: dict[int, _BlockModel] | None = None,
    ) -> None:
        self.parsed = parsed
        self.tree = parsed.tree
        self.text = parsed.text
        self.lines = parsed.index.lines
        self.path = path
        self.name = module_name
        self.is_package = is_package
        self.catalog = catalog
        self.content_hash = content_hash
        self.parents: dict[ast.AST, ast.AST] = {}
        self.scope_of: dict[ast.AST, Scope] = {}  # function/class/lambda node -> its scope
        self.calls: list[CallSite] = []
        self.imports: set[str] = set()  # every module imported anywhere in the file
        self.loops: list[ast.For | ast.While] = []  # sync `for` and `while` loops, in source order
        self.module_scope = Scope(self.tree, module_name, None, "module")
        self.scopes: list[Scope] = [self.module_scope]
        self._enclosing: dict[ast.AST, Scope] = {}
        self._block_of: dict[ast.stmt, _BlockModel] = {}  # top statement -> its block (built from blocks)
        # Code nested too deeply was cut out of the tree (which a buffer parser must not reuse).
        self.dropped_deep = False
        self.star_import: bool | None = None  # a `from m import *` anywhere (None: not known yet)
        if blocks is None or block_cache is None or not _build_by_blocks(self, blocks, block_cache):
            _Builder(self).run()
        self.decl = _declare(self)

    # -- navigation ---------------------------------------------------------
    def parent(self, node: ast.AST) -> ast.AST | None:
        return self.parents.get(node)

    def ancestors(self, node: ast.AST) -> Iterator[ast.AST]:
        current = self.parents.get(node)
        while current is not None:
            yield current
            current = self.parents.get(current)

    def enclosing_scope(self, node: ast.AST) -> Scope:
        # Asked for the same nodes by every rule: remembered (the model does not change).
        found = self._enclosing.get(node)
        if found is not None:
            return found
        found = self.module_scope
        for ancestor in self.ancestors(node):
            scope = self.scope_of.get(ancestor)
            if scope is not None and not _in_header(node, ancestor, self):
                found = scope
                break
        self._enclosing[node] = found
        if self._block_of and not isinstance(node, _SHARED_NODES):
            # Built from blocks: the answer holds for as long as the node's block is reused.
            top, parents, tree = node, self.parents, self.tree
            while (parent := parents.get(top)) is not None and parent is not tree:
                top = parent
            record = self._block_of.get(top)
            if record is not None:
                if found is self.module_scope:
                    record.at_module.append(node)
                else:
                    record.enclosing[node] = found
        return found

    def statement_of(self, node: ast.AST) -> ast.stmt | None:
        current: ast.AST | None = node
        while current is not None and not isinstance(current, ast.stmt):
            current = self.parents.get(current)
        return current

    def resolve_relative(self, module: str | None, level: int) -> str:
        if level == 0:
            return module or ""
        package = self.name if self.is_package else self.name.rpartition(".")[0]
        for _ in range(level - 1):
            package = package.rpartition(".")[0]
        if module:
            return f"{package}.{module}" if package else module
        return package


# ast.parse gives one shared instance of each of these (every `Load()` is the same
# object): they belong to no block, and their parent is whichever was linked last.
_SHARED_NODES = (ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def _in_header(node: ast.AST, scope_node: ast.AST, model: ModuleModel) -> bool:
    """Decorators, defaults and annotations of a def run in the enclosing scope."""
    if isinstance(scope_node, ast.Lambda):
        return False
    if not isinstance(scope_node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return False
    # Find the direct child of scope_node on the path to node.
    child = node
    while model.parents.get(child) is not scope_node:
        child = model.parents[child]
    # The only statements directly under a def or class are its body; the header
    # holds expressions and arguments.  (Not `child in body`: that is linear, and
    # quadratic over a body of thousands of statements.)
    return not isinstance(child, ast.stmt)


# Code nested deeper than this (1,000 lambdas, an `a + b + ...` of thousands of
# terms, a chain of 500 `elif`s) would exceed Python's recursion limit in the
# recursive walks of the model, the summaries and the rules.  The statements that
# hold it are left out, like unparsable code, and the module is "analysed in part".
MAX_TREE_DEPTH = 150


def _drop_deep_statements(model: ModuleModel, too_deep: list[ast.AST]) -> None:
    """Remove the innermost statement around each node of ``too_deep`` (a body left
    empty gets a ``pass`` where the statement began); their lines count as skipped."""
    parents = model.parents
    dropped: set[int] = set()
    for node in too_deep:
        statement = node
        while not isinstance(statement, ast.stmt) and statement in parents:
            statement = parents[statement]
        if not isinstance(statement, ast.stmt) or id(statement) in dropped:
            continue
        dropped.add(id(statement))
        for _, value in ast.iter_fields(parents[statement]):
            if isinstance(value, list) and any(item is statement for item in value):
                value[:] = [item for item in value if item is not statement]
                if not value:
                    value.append(
                        ast.Pass(
                            lineno=statement.lineno,
                            col_offset=statement.col_offset,
                            end_lineno=statement.lineno,
                            end_col_offset=statement.col_offset,
                        )
                    )
                break
        end = statement.end_lineno or statement.lineno
        model.parsed.skipped_lines.update(range(statement.lineno, end + 1))
        model.dropped_deep = True


def _link_parents(parents: dict[ast.AST, ast.AST], tree: ast.AST, depth: int) -> list[ast.AST]:
    """Record the parent of every node below ``tree`` (at ``depth``); returns the nodes
    at ``MAX_TREE_DEPTH`` (not entered)."""
    # ast.iter_child_nodes is a generator over iter_fields: this inlined
    # loop is about twice as fast, and it runs on every node of every file.
    node_type = ast.AST
    too_deep: list[ast.AST] = []
    stack = [(tree, depth)]
    pop, push = stack.pop, stack.append
    while stack:
        node, depth = pop()
        if depth == MAX_TREE_DEPTH:
            too_deep.append(node)
            continue
        depth += 1
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, node_type):
                        parents[item] = node
                        push((item, depth))
            elif isinstance(value, node_type):
                parents[value] = node
                push((value, depth))
    return too_deep


class _Builder(ast.NodeVisitor):
    """One walk: parents, scopes, bindings and call sites."""

    def __init__(self, model: ModuleModel) -> None:
        self.model = model
        self.scope = model.module_scope
        self.parents = model.parents

    def run(self) -> None:
        self._set_parents(self.model.tree)
        self.visit(self.model.tree)

    # ast.NodeVisitor looks the method up by name on every node and walks the
    # fields through generators; this walk runs on every node of every file (and
    # on every keystroke in the editor), so dispatch is cached per node type.
    _dispatch: dict[type, object] = {}

    def visit(self, node: ast.AST) -> None:
        kind = node.__class__
        method = self._dispatch.get(kind)
        if method is None:
            method = getattr(type(self), f"visit_{kind.__name__}", _Builder.generic_visit)
            self._dispatch[kind] = method
        method(self, node)  # type: ignore[operator]

    def generic_visit(self, node: ast.AST) -> None:
        node_type = ast.AST
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, node_type):
                        self.visit(item)
            elif isinstance(value, node_type):
                self.visit(value)

    def _set_parents(self, tree: ast.AST) -> None:
        too_deep = self._link_parents(tree)
        if too_deep:
            _drop_deep_statements(self.model, too_deep)
            self.parents.clear()
            self._link_parents(tree)

    def _link_parents(self, tree: ast.AST) -> list[ast.AST]:
        return _link_parents(self.parents, tree, 0)

    # -- scopes -------------------------------------------------------------
    def _enter(self, node: ast.AST, name: str, kind: str, is_async: bool = False) -> Scope:
        parent = self.scope
        if parent.kind == "module":
            qualname = f"{self.model.name}.{name}" if self.model.name else name
        elif parent.kind == "class":
            qualname = f"{parent.qualname}.{name}"
        else:
            qualname = f"{parent.qualname}.<locals>.{name}"
        scope = Scope(node, qualname, parent, kind, is_async)
        if kind == "function" and parent.kind == "class":
            scope.class_qualname = parent.qualname
        self.model.scope_of[node] = scope
        self.model.scopes.append(scope)
        return scope

    def _visit_header(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                self.visit(base)
            for keyword in node.keywords:
                self.visit(keyword)
            return
        args = node.args
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                self.visit(default)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._visit_header(node)
        is_async = isinstance(node, ast.AsyncFunctionDef)
        scope = self._enter(node, node.name, "function", is_async)
        self.scope.bind(node.name, DefBinding(scope.qualname, False))
        self._bind_params(scope, node.args, node)
        outer, self.scope = self.scope, scope
        for statement in node.body:
            self.visit(statement)
        self.scope = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if default is not None:
                self.visit(default)
        scope = self._enter(node, f"<lambda:{node.lineno}:{node.col_offset}>", "function")
        self._bind_params(scope, node.args, node)
        outer, self.scope = self.scope, scope
        self.visit(node.body)
        self.scope = outer

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._visit_header(node)
        scope = self._enter(node, node.name, "class")
        self.scope.bind(node.name, DefBinding(scope.qualname, True))
        outer, self.scope = self.scope, scope
        for statement in node.body:
            self.visit(statement)
        self.scope = outer

    def _bind_params(self, scope: Scope, args: ast.arguments, node: ast.AST) -> None:
        every = [*args.posonlyargs, *args.args]
        for position, arg in enumerate(every):
            scope.bind(arg.arg, ParamBinding(arg.annotation, position, node))
        for arg in args.kwonlyargs:
            scope.bind(arg.arg, ParamBinding(arg.annotation, -1, node))
        if args.vararg:
            scope.bind(args.vararg.arg, ParamBinding(None, -1, node))
        if args.kwarg:
            scope.bind(args.kwarg.arg, ParamBinding(None, -1, node))

    # -- bindings -----------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        self.model.imports.update(alias.name for alias in node.names)
        for alias in node.names:
            if alias.asname:
                self.scope.bind(alias.asname, ImportBinding(alias.name, True))
            else:
                top = alias.name.split(".")[0]
                self.scope.bind(top, ImportBinding(top, True))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = self.model.resolve_relative(node.module, node.level)
        self.model.imports.add(module)
        self.model.imports.update(f"{module}.{alias.name}" for alias in node.names if alias.name != "*")
        for alias in node.names:
            if alias.name == "*":
                continue
            target = f"{module}.{alias.name}" if module else alias.name
            self.scope.bind(alias.asname or alias.name, ImportBinding(target, False))

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self._bind_target(target, node.value)
            self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.scope.bind(node.target.id, AnnBinding(node.annotation))
        elif _is_self_attribute(node.target):
            self._bind_self_attribute(node.target, AnnBinding(node.annotation))
        self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        scope = self.scope
        self._bind_target(node.target, node.value, scope)

    def _bind_target(self, target: ast.expr, value: ast.expr | None, scope: Scope | None = None) -> None:
        scope = scope or self.scope
        if isinstance(target, ast.Name):
            scope.bind(target.id, value)
        elif _is_self_attribute(target) and value is not None:
            self._bind_self_attribute(target, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind_target(element.value if isinstance(element, ast.Starred) else element, None, scope)

    def _bind_self_attribute(self, target: ast.Attribute, binding: object) -> None:
        function = self.scope.function
        if function is None or function.class_qualname is None:
            return
        class_scope = self.model.scope_of.get(_class_node_of(self.model, function))
        if class_scope is not None:
            class_scope.bind("self." + target.attr, (binding, function))

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        if isinstance(node, ast.For):
            self.model.loops.append(node)
        self.visit(node.iter)
        self._bind_loop_target(node.target, node.iter)
        self.visit(node.target)
        for statement in [*node.body, *node.orelse]:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_While(self, node: ast.While) -> None:
        self.model.loops.append(node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            # Recorded in every enclosing function: rules ask "where is this name read?"
            scope: Scope | None = self.scope
            while scope is not None and scope.kind != "module":
                if scope.kind == "function":
                    scope.loads.setdefault(node.id, []).append(node)
                scope = scope.parent

    def _bind_loop_target(self, target: ast.expr, iterable: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.scope.bind(target.id, IterBinding(iterable))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._bind_target(element, None)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                if isinstance(item.optional_vars, ast.Name):
                    self.scope.bind(
                        item.optional_vars.id, WithBinding(item.context_expr, isinstance(node, ast.AsyncWith))
                    )
                else:
                    self._bind_target(item.optional_vars, None)
                self.visit(item.optional_vars)
        for statement in node.body:
            self.visit(statement)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.scope.bind(node.name, None)
        for statement in node.body:
            self.visit(statement)

    def visit_Global(self, node: ast.Global) -> None:
        for name in node.names:
            self.scope.bind(name, "global")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        for name in node.names:
            self.scope.bind(name, "nonlocal")

    def visit_Yield(self, node: ast.Yield | ast.YieldFrom) -> None:
        function = self.scope.function
        if function is not None:
            function.is_generator = True
        self.generic_visit(node)

    visit_YieldFrom = visit_Yield

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.visit(node.iter)
        self._bind_loop_target(node.target, node.iter)
        for condition in node.ifs:
            self.visit(condition)

    # -- calls --------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        function = self.scope.function
        in_coroutine = function is not None and function.is_async
        parent = self.parents.get(node)
        awaited = isinstance(parent, ast.Await)
        self.model.calls.append(CallSite(node, self.scope, in_coroutine, awaited))
        self.generic_visit(node)


@dataclass
class _BlockModel:
    """What the builder found in one top-level block of an editor buffer.

    ``BufferParser`` hands back the very statements of the blocks an edit did
    not touch; what the walk found in them depends on nothing outside the block
    (qualnames on the module's name, bindings go to the module's scope in
    order), so the next model of the buffer reuses it instead of walking again.
    """

    module: tuple[str, bool]  # (name, is package): qualnames and relative imports depend on it
    statements: list[ast.stmt]
    parents: list[dict[ast.AST, ast.AST]]  # per statement: its descendants' parents, in walk order
    stand_in: Scope | None = None  # the module's scope while the block was walked
    scopes: list[Scope] = field(default_factory=list)
    top_scopes: list[Scope] = field(default_factory=list)  # defined directly in the module
    calls: list[CallSite] = field(default_factory=list)
    loops: list[ast.For | ast.While] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)  # in the order the walk added them
    bindings: dict[str, list[object]] = field(default_factory=dict)  # made in the module's scope
    star_import: bool = False  # a `from m import *` in the block
    # ModuleModel.enclosing_scope's answers for nodes of the block: a scope of the
    # block, or (at_module) the module's scope.
    enclosing: dict[ast.AST, Scope] = field(default_factory=dict)
    at_module: list[ast.AST] = field(default_factory=list)


class _RecordingSet(set):
    """A set that also keeps the order things were added (a set's iteration order depends on it)."""

    def __init__(self) -> None:
        super().__init__()
        self.order: list[str] = []

    def add(self, item: str) -> None:
        self.order.append(item)
        super().add(item)

    def update(self, *iterables) -> None:  # type: ignore[override]
        for iterable in iterables:
            for item in iterable:
                self.add(item)


def _build_by_blocks(model: ModuleModel, blocks: list[list[ast.stmt]], cache: dict[int, _BlockModel]) -> bool:
    """Build the model from per-block pieces, walking only the blocks not in ``cache``.

    The result is what ``_Builder(model).run()`` gives, down to the order of
    ``parents``, ``scopes``, ``calls``, ``imports`` and the module's bindings.
    False (nothing built, cache emptied): a block is nested too deeply, which
    the whole-module walk handles by cutting statements out.
    """
    body = model.tree.body
    flat = [statement for block in blocks for statement in block]
    if len(flat) != len(body) or any(a is not b for a, b in zip(flat, body)):
        cache.clear()
        return False
    module = (model.name, model.is_package)
    chosen: list[_BlockModel] = []
    fresh: list[_BlockModel] = []
    for block in blocks:
        if not block:
            continue
        record = cache.get(id(block[0]))
        if (
            record is not None
            and record.module == module
            and len(record.statements) == len(block)
            and all(a is b for a, b in zip(record.statements, block))
        ):
            chosen.append(record)
            continue
        per_statement: list[dict[ast.AST, ast.AST]] = []
        for statement in block:
            found: dict[ast.AST, ast.AST] = {}
            if _link_parents(found, statement, 1):
                cache.clear()
                return False
            per_statement.append(found)
        record = _BlockModel(module, block, per_statement)
        chosen.append(record)
        fresh.append(record)
    # The whole-module walk links the top statements first, then goes depth first
    # from the last statement back to the first.
    parents = model.parents
    tree = model.tree
    for statement in body:
        parents[statement] = tree
    for record in reversed(chosen):
        for found in reversed(record.parents):
            parents.update(found)
    for record in fresh:
        _walk_block(model, record)
    module_scope = model.module_scope
    bindings = module_scope.bindings
    scope_of: dict[ast.AST, Scope] = {}
    star_import = False
    enclosing = model._enclosing
    block_of = model._block_of
    for record in chosen:
        for scope in record.top_scopes:
            scope.parent = module_scope
        for scope in record.scopes:
            scope_of[scope.node] = scope
        model.scopes.extend(record.scopes)
        stand_in = record.stand_in
        model.calls.extend(
            site if site.scope is not stand_in else CallSite(site.node, module_scope, site.in_coroutine, site.awaited)
            for site in record.calls
        )
        model.loops.extend(record.loops)
        star_import = star_import or record.star_import
        enclosing.update(record.enclosing)
        enclosing.update(dict.fromkeys(record.at_module, module_scope))
        for statement in record.statements:
            block_of[statement] = record
        model.imports.update(record.imports)
        for name, items in record.bindings.items():
            bindings.setdefault(name, []).extend(items)
    model.scope_of = scope_of
    model.star_import = star_import
    cache.clear()
    for record in chosen:
        cache[id(record.statements[0])] = record
    return True


def _walk_block(model: ModuleModel, record: _BlockModel) -> None:
    """The builder's walk of one block, on its own: the module's scope is a stand-in."""
    stand_in = Scope(model.tree, model.module_scope.qualname, None, "module")
    builder = _Builder(model)
    builder.scope = stand_in
    saved = model.scopes, model.calls, model.loops, model.imports
    imports = _RecordingSet()
    model.scopes, model.calls, model.loops, model.imports = [], [], [], imports
    try:
        for statement in record.statements:
            builder.visit(statement)
        record.scopes, record.calls, record.loops = model.scopes, model.calls, model.loops
    finally:
        model.scopes, model.calls, model.loops, model.imports = saved
    record.imports = imports.order
    record.stand_in = stand_in
    record.top_scopes = [scope for scope in record.scopes if scope.parent is stand_in]
    record.bindings = stand_in.bindings
    record.star_import = any(
        _is_star_import(node) for node in (*record.statements, *(n for found in record.parents for n in found))
    )


def _is_star_import(node: ast.AST) -> bool:
    return type(node) is ast.ImportFrom and any(alias.name == "*" for alias in node.names)


def _is_self_attribute(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("self", "cls")
    )


def _class_node_of(model: ModuleModel, function: Scope) -> ast.AST | None:
    node = model.parents.get(function.node)
    return node if isinstance(node, ast.ClassDef) else None


# ---------------------------------------------------------------------------
# Declarations (pass 1)
# ---------------------------------------------------------------------------


def _declare(model: ModuleModel) -> ModuleDecl:
    """What this module offers to the others, resolved with its own imports only."""
    resolver = Resolver(model, ProjectIndex(), inference=None)
    decl = ModuleDecl(model.name, model.path, model.content_hash, is_package=model.is_package)
    for scope in model.scopes:
        node = scope.node
        if scope.kind == "function" and not isinstance(node, ast.Lambda):
            assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            function = _declare_function(model, resolver, scope, node)
            scope.decl = function
            # `@x.setter def x(...)` shares the getter's qualname: the getter's declaration stays.
            accessor = any(isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter") for d in node.decorator_list)
            if not (accessor and function.qualname in decl.functions):
                decl.functions[function.qualname] = function
        elif scope.kind == "class":
            assert isinstance(node, ast.ClassDef)
            decl.classes[scope.qualname] = _declare_class(model, resolver, scope, node)
    for name, bindings in model.module_scope.bindings.items():
        value = resolver.value_of_bindings(name, bindings, model.module_scope, depth=3)
        if value.known:
            decl.globals[name] = value
    decl.imports = set(model.imports)
    return decl


def _declare_function(
    model: ModuleModel, resolver: Resolver, scope: Scope, node: ast.FunctionDef | ast.AsyncFunctionDef
) -> FunctionDecl:
    decorators = tuple(
        resolver.qualified_name_of(d.func if isinstance(d, ast.Call) else d, scope.parent or scope) or ""
        for d in node.decorator_list
    )
    returns = awaitable = None
    if node.returns is not None:
        returns, awaitable = resolver.annotation_type(node.returns, scope.parent or model.module_scope)
    is_generator = scope.is_generator
    params = tuple(
        (arg.arg, resolver.annotation_type(arg.annotation, scope)[0] if arg.annotation is not None else None)
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    )
    simple = {d.rsplit(".", 1)[-1] for d in decorators}
    return FunctionDecl(
        qualname=scope.qualname,
        name=node.name,
        path=model.path,
        line=node.lineno,
        column=model.parsed.index.char_col(node.lineno, node.col_offset),
        is_async=isinstance(node, ast.AsyncFunctionDef),
        is_generator=is_generator,
        is_property="property" in simple or "cached_property" in simple,
        is_static="staticmethod" in simple,
        is_classmethod="classmethod" in simple,
        class_qualname=scope.class_qualname,
        returns=returns,
        returns_awaitable=bool(awaitable),
        decorators=decorators,
        params=params,
    )


def _declare_class(model: ModuleModel, resolver: Resolver, scope: Scope, node: ast.ClassDef) -> ClassDecl:
    outer = scope.parent or model.module_scope
    # A generic base (``Handler[Protocol]``, ``dict[str, int]``) is its class.
    bases = tuple(
        name
        for name in (
            resolver.qualified_name_of(base.value if isinstance(base, ast.Subscript) else base, outer)
            for base in node.bases
        )
        if name
    )
    decl = ClassDecl(scope.qualname, node.name, model.path, node.lineno, bases)
    for statement in node.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decl.methods[statement.name] = f"{scope.qualname}.{statement.name}"
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            type_name, _ = resolver.annotation_type(statement.annotation, outer)
            if type_name:
                decl.attributes[statement.target.id] = type_name
        elif (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            # `TABLE = {...}` / `PATTERN = re.compile(...)` in a class body: typed by its value.
            value = resolver.value_of(statement.value, outer, depth=3)
            if value.kind == "instance":
                decl.attributes.setdefault(statement.targets[0].id, value.name)
    for key, bindings in scope.bindings.items():
        if not key.startswith("self."):
            continue
        attr = key[len("self.") :]
        if attr in decl.attributes:
            continue
        for binding, method_scope in bindings:  # type: ignore[misc]
            value = resolver.value_of_binding(binding, method_scope, depth=3)
            if value.kind == "instance":
                decl.attributes[attr] = value.name
                break
    return decl


# ---------------------------------------------------------------------------
# Resolution
# ---------------------------------------------------------------------------


_resolver_serials = itertools.count()


class Resolver:
    """Cheap, flow-insensitive resolution of names and expressions in one module."""

    def __init__(self, model: ModuleModel, index: ProjectIndex, inference: JediInference | None) -> None:
        self.model = model
        self.index = index
        self.catalog = model.catalog
        self.inference = inference
        # (call, depth) -> callee.  By depth: a call reached through a binding is
        # resolved with less depth left than when it is asked for itself, and keyed by
        # call alone the answer depended on which came first.  Keyed so, an entry
        # made by cheap resolution depends only on the call's code, the module's
        # bindings and the index - which lets the next version of an editor
        # buffer start from this cache (``carry_over``).
        self._call_cache: dict[tuple[ast.Call, int], Value] = {}
        self._star_import: bool | None = model.star_import
        self._inferred: set[ast.Call] = set()
        self.serial = next(_resolver_serials)
        # The serial of the resolver whose answers this one started from (carry_over).
        self.carried_from: int | None = None
        self._receiver_memo: dict[tuple[int, str, str], Value | None] = {}
        # Annotations being resolved: `x: x = 1` (or `a: b` with `b: a`) names itself.
        self._annotations_in_progress: set[int] = set()

    # -- names --------------------------------------------------------------
    def lookup(self, name: str, scope: Scope, depth: int = 6) -> Value:
        current: Scope | None = scope
        first = True
        while current is not None:
            if current.kind == "class" and not first:
                current = current.parent
                continue
            bindings = current.bindings.get(name)
            if bindings is not None and "global" not in bindings and "nonlocal" not in bindings:
                return self.value_of_bindings(name, bindings, current, depth)
            first = False
            current = current.parent
        if name in _BUILTIN_NAMES:
            return Value("ref", f"builtins.{name}")
        if name in self.catalog.library_modules and not self._has_star_import():
            # Unbound, and spelled like a library module: a snippet whose `import` was left out.
            return Value("module", name)
        return UNKNOWN

    def _has_star_import(self) -> bool:
        if self._star_import is None:
            self._star_import = any(
                isinstance(node, ast.ImportFrom) and any(alias.name == "*" for alias in node.names)
                for node in ast.walk(self.model.tree)
            )
        return self._star_import

    def value_of_bindings(self, name: str, bindings: list[object], scope: Scope, depth: int) -> Value:
        # In source order, so that the answer never depends on hashing.
        known: list[Value] = []
        for binding in bindings:
            value = self.value_of_binding(binding, scope, depth)
            if value.known and value not in known:
                known.append(value)
        if len(known) == 1:
            return known[0]
        # Several kinds of objects: prefer the first thing a definition or import says.
        for value in known:
            if value.kind in ("class", "function", "module"):
                return value
        return UNKNOWN

    def value_of_binding(self, binding: object, scope: Scope, depth: int) -> Value:
        if depth <= 0 or binding is None:
            return UNKNOWN
        if isinstance(binding, ast.expr):
            return self.value_of(binding, scope, depth - 1)
        if isinstance(binding, ImportBinding):
            return self._import_value(binding)
        if isinstance(binding, DefBinding):
            return Value("class" if binding.is_class else "function", binding.qualname)
        if isinstance(binding, ParamBinding):
            return self._param_value(binding, scope)
        if isinstance(binding, AnnBinding):
            return self._annotated_instance(binding.annotation, scope)
        if isinstance(binding, WithBinding):
            value = self.value_of(binding.context, scope, depth - 1)
            return value if value.kind == "instance" else UNKNOWN
        if isinstance(binding, IterBinding) and isinstance(binding.iterable, ast.Call):
            callee = self.callee(binding.iterable, scope, depth - 1, infer=False)
            element = self.catalog.elements.get(callee.name) if callee.kind == "ref" else None
            return Value("instance", element) if element else UNKNOWN
        return UNKNOWN

    def _import_value(self, binding: ImportBinding) -> Value:
        target = binding.target
        if binding.is_module or target in self.index.modules:
            return Value("module", target)
        module, _, attr = target.rpartition(".")
        decl = self.index.modules.get(module)
        if decl is not None:
            value = decl.globals.get(attr)
            return self.index.normalize(value) if value is not None else UNKNOWN
        return Value("ref", self.catalog.canonical(target))

    def _param_value(self, binding: ParamBinding, scope: Scope) -> Value:
        if binding.annotation is not None:
            return self._annotated_instance(binding.annotation, scope.parent or scope)
        if binding.position == 0 and scope.class_qualname and isinstance(
            binding.scope_node, (ast.FunctionDef, ast.AsyncFunctionDef)
        ):
            decorators = {
                d.id if isinstance(d, ast.Name) else getattr(d, "attr", "")
                for d in binding.scope_node.decorator_list
            }
            if "staticmethod" in decorators:
                return UNKNOWN
            if "classmethod" in decorators:
                return Value("class", scope.class_qualname)
            return Value("instance", scope.class_qualname)
        return UNKNOWN

    # -- annotations --------------------------------------------------------
    def _annotated_instance(self, annotation: ast.expr, scope: Scope) -> Value:
        """An instance of the type ``annotation`` names; unknown while that very
        annotation is being resolved (a cycle, which would never end)."""
        key = id(annotation)
        if key in self._annotations_in_progress:
            return UNKNOWN
        self._annotations_in_progress.add(key)
        try:
            type_name, _ = self.annotation_type(annotation, scope)
        finally:
            self._annotations_in_progress.discard(key)
        return Value("instance", type_name) if type_name else UNKNOWN

    def annotation_type(self, node: ast.expr | None, scope: Scope) -> tuple[str | None, bool]:
        """(qualified type, is awaitable) of an annotation; Optional[X] and X | None give X."""
        if node is None:
            return None, False
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                parsed = parse_quietly(node.value, mode="eval").body
            except _PARSER_FAILURES:  # not only SyntaxError: `x: "\\0"`, `x: "((((...int))))"`
                return None, False
            return self.annotation_type(parsed, scope)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            for side in (node.left, node.right):
                if not (isinstance(side, ast.Constant) and side.value is None):
                    return self.annotation_type(side, scope)
            return None, False
        if isinstance(node, ast.Subscript):
            outer = self.qualified_name_of(node.value, scope)
            if outer is None:
                return None, False
            outer = _typing_name(outer)
            if outer in _AWAITABLE_ANNOTATIONS:
                return outer, True
            if outer in _OPTIONAL_WRAPPERS or outer == "typing.Union":
                inner = node.slice
                first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
                return self.annotation_type(first, scope)
            return outer, False
        name = self.qualified_name_of(node, scope)
        if name is None:
            return None, False
        name = _typing_name(name)
        return name, name in _AWAITABLE_ANNOTATIONS

    def qualified_name_of(self, node: ast.expr, scope: Scope) -> str | None:
        """The qualified name a Name/Attribute expression refers to (classes, functions, refs)."""
        value = self.value_of(node, scope, depth=4)
        if value.kind in ("class", "function", "ref", "module"):
            return value.name
        return None

    # -- expressions --------------------------------------------------------
    def value_of(self, node: ast.expr, scope: Scope, depth: int = 6) -> Value:
        if depth <= 0:
            return UNKNOWN
        if isinstance(node, ast.Name):
            return self.lookup(node.id, scope, depth)
        if isinstance(node, ast.Attribute):
            return self.attribute(self.value_of(node.value, scope, depth - 1), node.attr)
        if isinstance(node, ast.Call):
            return self.call_result(node, scope, depth)
        if isinstance(node, ast.Constant):
            return Value("instance", f"builtins.{type(node.value).__name__}")
        if isinstance(node, (ast.JoinedStr,)):
            return Value("instance", "builtins.str")
        if isinstance(node, ast.Dict):
            return Value("instance", "builtins.dict")
        if isinstance(node, ast.List):
            return Value("instance", "builtins.list")
        if isinstance(node, ast.NamedExpr):
            return self.value_of(node.value, scope, depth - 1)
        if isinstance(node, ast.Await):
            return self._awaited(node.value, scope, depth)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATOR_METHODS:
            return self._operator_result(node.left, _OPERATOR_METHODS[type(node.op)], scope, depth)
        if isinstance(node, ast.Subscript):
            return self._operator_result(node.value, "__getitem__", scope, depth)
        return UNKNOWN

    def attribute(self, base: Value, attr: str) -> Value:
        kind = base.kind
        if kind == "module":
            qualified = f"{base.name}.{attr}"
            if qualified in self.index.modules:
                return Value("module", qualified)
            decl = self.index.modules.get(base.name)
            if decl is not None:
                return self.index.normalize(decl.globals.get(attr, UNKNOWN))
            return Value("ref", self.catalog.canonical(qualified))
        if kind in ("class", "instance") and base.name not in self.index.classes:
            resolved = self.index.normalize(Value("ref", base.name))
            if resolved.kind == "class":
                base = Value(kind, resolved.name)
        if kind == "class":
            found = self.index.lookup_member(base.name, attr)
            if found is not None:
                return found[1]
            return self._library_member(base.name, attr, bound=False)
        if kind == "instance":
            found = self.index.lookup_member(base.name, attr)
            if found is not None:
                value = found[1]
                if value.kind == "function":
                    function = self.index.functions.get(value.name)
                    if function is not None and function.is_property:
                        return Value("instance", function.returns) if function.returns else UNKNOWN
                    return Value("function", value.name, bound=True)
                return value
            return self._library_member(base.name, attr, bound=True)
        if kind == "ref":
            return Value("ref", self.catalog.canonical(f"{base.name}.{attr}"))
        return UNKNOWN

    def _library_member(self, class_name: str, attr: str, bound: bool) -> Value:
        """``attr`` on a library class (or a project class with library bases)."""
        candidates = (
            self.index.library_bases(class_name) if class_name in self.index.classes else [class_name]
        )
        owners = [
            self.catalog.canonical(owner)
            for candidate in candidates
            for owner in [candidate, *self.catalog.bases.get(candidate, ())]
        ]
        if not owners:
            return UNKNOWN
        # The first owner the catalog knows the member of (a base may define it).
        for owner in owners:
            member = self.catalog.canonical(f"{owner}.{attr}")
            if self._catalog_knows(member):
                return Value("ref", member, bound=bound)
        if bound and not attr.startswith("__"):
            # Classes whose attributes are computed (pymongo: client.db.collection).
            for owner in owners:
                dynamic = self.catalog.returns.get(f"{owner}.__getattr__")
                if dynamic:
                    return Value("instance", dynamic)
        return Value("ref", self.catalog.canonical(f"{owners[0]}.{attr}"), bound=bound)

    def _catalog_knows(self, name: str) -> bool:
        catalog = self.catalog
        return (
            catalog.blocking_entry(name) is not None
            or name in catalog.returns
            or name in catalog.coroutines
            or name in catalog.offload
            or name in catalog.loop_callbacks
        )

    def _operator_result(self, operand: ast.expr, method: str, scope: Scope, depth: int) -> Value:
        """The value of ``a / b`` or ``a[b]``: what ``type(a).__truediv__`` (...) returns."""
        base = self.value_of(operand, scope, depth - 1)
        if base.kind != "instance":
            return UNKNOWN
        return self.result_of(self.attribute(base, method))

    def call_result(self, node: ast.Call, scope: Scope, depth: int) -> Value:
        if isinstance(node.func, ast.Name) and node.func.id == "super" and not node.args:
            return self._super(scope)
        callee = self.callee(node, scope, depth, infer=False)
        return self.result_of(callee)

    def result_of(self, callee: Value) -> Value:
        if callee.kind == "class":
            return Value("instance", callee.name)
        if callee.kind == "function":
            function = self.index.functions.get(callee.name)
            if function is not None and function.returns and not function.creates_coroutine:
                return Value("instance", function.returns)
            return UNKNOWN
        if callee.kind == "ref":
            name = callee.name
            returned = self.catalog.returns.get(name)
            if returned:
                return Value("instance", returned)
            last = name.rsplit(".", 1)[-1]
            if last[:1].isupper() and not callee.bound:
                return Value("instance", name)
        return UNKNOWN

    def _awaited(self, node: ast.expr, scope: Scope, depth: int) -> Value:
        """``await f()``: what the project's coroutine function ``f`` is annotated to
        return (``async def connect(...) -> Connection``)."""
        if not isinstance(node, ast.Call):
            return UNKNOWN
        callee = self.callee(node, scope, depth, infer=False)
        if callee.kind != "function":
            return UNKNOWN
        function = self.index.functions.get(callee.name)
        if (
            function is None
            or not function.is_async
            or function.is_generator
            or function.returns_awaitable
            or not function.returns
        ):
            return UNKNOWN
        return Value("instance", function.returns)

    def _super(self, scope: Scope) -> Value:
        """``super()`` in a method: an instance of the first base class."""
        function = scope.function
        if function is None or function.class_qualname is None:
            return UNKNOWN
        decl = self.index.classes.get(function.class_qualname)
        if decl is None or not decl.bases:
            return UNKNOWN
        base = self.index.normalize(Value("ref", decl.bases[0]))
        return Value("instance", base.name)

    def callee(
        self, node: ast.Call, scope: Scope | None = None, depth: int = 6, infer: bool = True
    ) -> Value:
        """What a call calls: a project function or class, or a library name.

        ``infer=False`` keeps to cheap resolution; jedi is asked at most once per
        call, and only when ``infer`` is set and the call's name could matter.
        """
        key = (node, depth)
        cached = self._call_cache.get(key)
        if cached is not None and (cached.known or not infer or node in self._inferred):
            return cached
        if scope is None:
            scope = self.model.enclosing_scope(node)
        value = cached if cached is not None else self.value_of(node.func, scope, depth)
        if not value.known and infer and self.inference is not None and self._worth_inferring(node, scope):
            self._inferred.add(node)
            value = self._infer_callee(node, scope) or UNKNOWN
        self._call_cache[key] = value
        return value

    def carry_over(self, previous: Resolver) -> None:
        """Start from what ``previous`` - the resolver of the buffer's last version -
        found by cheap resolution for calls still in the tree.  Only when nothing
        those answers depend on changed: the caller checks the module's bindings,
        declarations and the index (``Project._carry_resolutions``)."""
        self.carried_from = previous.serial
        parents = self.model.parents
        inferred = previous._inferred
        cache = self._call_cache
        for key, value in previous._call_cache.items():
            node = key[0]
            if node in parents and node not in inferred:
                cache[key] = value

    @property
    def inferred_calls(self) -> set[ast.Call]:
        """The calls jedi was asked about."""
        return self._inferred

    def _infer_callee(self, node: ast.Call, scope: Scope) -> Value | None:
        """jedi's answer, shared by calls of one method on the same receiver in a scope."""
        assert self.inference is not None
        func = node.func
        if not isinstance(func, ast.Attribute):
            return self.inference.infer_callee(self.model, node)
        key = (id(scope), ast.dump(func.value), func.attr)
        if key not in self._receiver_memo:
            self._receiver_memo[key] = self.inference.infer_callee(self.model, node)
        return self._receiver_memo[key]

    def _worth_inferring(self, node: ast.Call, scope: Scope) -> bool:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name is None:
            return False
        if name not in self.catalog.method_names and name not in self.index.inference_names:
            return False
        # jedi cannot type an unannotated parameter either (dynamic params are off).
        root = func.value if isinstance(func, ast.Attribute) else None
        while isinstance(root, ast.Attribute):
            root = root.value
        if isinstance(root, ast.Name) and root.id not in ("self", "cls"):
            bindings = self._bindings_of(root.id, scope)
            if bindings and all(
                isinstance(b, ParamBinding) and b.annotation is None for b in bindings
            ):
                return False
        return True

    def _bindings_of(self, name: str, scope: Scope) -> list[object] | None:
        current: Scope | None = scope
        while current is not None:
            if name in current.bindings:
                return current.bindings[name]
            current = current.parent
        return None

    def target_name(self, callee: Value) -> str | None:
        """The qualified name to look up in the catalog or the project for a callee."""
        if callee.kind in ("function", "ref"):
            return callee.name
        if callee.kind == "class":
            if callee.name in self.index.classes:
                found = self.index.lookup_member(callee.name, "__init__")
                if found is not None and found[1].kind == "function":
                    return found[1].name
            return callee.name
        return None


def _typing_name(name: str) -> str:
    if name.startswith("typing_extensions."):
        return "typing." + name[len("typing_extensions.") :]
    if name.startswith("builtins.") and name[9:] in ("list", "dict", "set", "tuple"):
        return name
    return name


def decl_for(index: ProjectIndex, qualname: str) -> FunctionDecl | ClassDecl | None:
    return index.functions.get(qualname) or index.classes.get(qualname)

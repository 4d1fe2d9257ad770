"""Declarations: what each module of the project defines, as plain picklable data.

The first pass over a module records its functions (async or not, return
annotation, property), classes (bases, methods, attribute types) and top-level
names.  Together they form the ``ProjectIndex`` that resolution consults to look
across modules: ``repo.fetch()`` in one file finds ``Repo.fetch`` in another.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Value:
    """What an expression denotes, as far as cheap resolution can tell.

    kind: "module" | "class" | "function" | "instance" | "ref" | "unknown"
      - ref: a qualified name outside the project whose kind is not known
        (``requests.get``, ``requests.Session``), canonicalised by the catalog.
      - function: a project function (``name`` is its qualname) or, with
        ``bound``, a method reached through an instance.
      - instance: an object whose class is ``name`` (project or library).
    """

    kind: str
    name: str = ""
    bound: bool = False

    @property
    def known(self) -> bool:
        return self.kind != "unknown"


UNKNOWN = Value("unknown")


@dataclass
class FunctionDecl:
    qualname: str
    name: str
    path: str
    line: int
    column: int
    is_async: bool
    is_generator: bool = False
    is_property: bool = False
    is_static: bool = False
    is_classmethod: bool = False
    class_qualname: str | None = None
    # Qualified type name of the return annotation (None when absent).
    returns: str | None = None
    # The return annotation says Coroutine/Awaitable/Future/Task.
    returns_awaitable: bool = False
    decorators: tuple[str, ...] = ()
    # (parameter name, qualified annotation or None), in order.
    params: tuple[tuple[str, str | None], ...] = ()

    @property
    def creates_coroutine(self) -> bool:
        """Calling it gives something that must be awaited."""
        return (self.is_async and not self.is_generator) or self.returns_awaitable


@dataclass
class ClassDecl:
    qualname: str
    name: str
    path: str
    line: int
    bases: tuple[str, ...] = ()
    methods: dict[str, str] = field(default_factory=dict)  # name -> function qualname
    attributes: dict[str, str] = field(default_factory=dict)  # name -> type qualname
    decorators: tuple[str, ...] = ()


@dataclass
class ModuleDecl:
    name: str
    path: str
    content_hash: str
    # top-level name -> Value (classes, functions, imports, typed globals)
    globals: dict[str, Value] = field(default_factory=dict)
    functions: dict[str, FunctionDecl] = field(default_factory=dict)
    classes: dict[str, ClassDecl] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)  # modules this one imports
    is_package: bool = False


class ProjectIndex:
    """All declarations of the project's modules, with lookups across them."""

    def __init__(self) -> None:
        self.modules: dict[str, ModuleDecl] = {}
        self.functions: dict[str, FunctionDecl] = {}
        self.classes: dict[str, ClassDecl] = {}
        self._names: set[str] | None = None
        # Names of project functions worth a jedi query when cheap resolution
        # fails (set by the project once summaries exist; None: every name).
        self.inference_names_override: set[str] | None = None

    @property
    def inference_names(self) -> set[str]:
        if self.inference_names_override is not None:
            return self.inference_names_override
        return self.function_names

    def add(self, decl: ModuleDecl) -> None:
        old = self.modules.get(decl.name)
        if old is not None:
            self.remove(decl.name)
        self.modules[decl.name] = decl
        self.functions.update(decl.functions)
        self.classes.update(decl.classes)
        self._names = None

    def remove(self, module: str) -> None:
        old = self.modules.pop(module, None)
        if old is None:
            return
        for name in old.functions:
            self.functions.pop(name, None)
        for name in old.classes:
            self.classes.pop(name, None)
        self._names = None

    @property
    def function_names(self) -> set[str]:
        """Simple names of every project function: calls so named may need inference."""
        if self._names is None:
            self._names = {f.name for f in self.functions.values()} | {
                c.name for c in self.classes.values()
            }
        return self._names

    def normalize(self, value: Value) -> Value:
        """Turn a ``ref`` that names something of the project into what it is.

        Declarations are made per module before the others are known, so an
        import of a project class is first a ``ref``; re-exports
        (``from .models import Repo`` in a package ``__init__``) are followed.
        """
        if value.kind != "ref":
            return value
        name = value.name
        for _ in range(5):
            if name in self.classes:
                return Value("class", name)
            if name in self.functions:
                return Value("function", name, value.bound)
            if name in self.modules:
                return Value("module", name)
            module, _, attr = name.rpartition(".")
            decl = self.modules.get(module)
            if decl is None or attr not in decl.globals:
                return value
            target = decl.globals[attr]
            if target.kind != "ref":
                return target
            name = target.name
        return value

    def mro(self, class_qualname: str) -> list[str]:
        """Project classes first, depth-first left-to-right; library bases included by name."""
        order: list[str] = []
        stack = [class_qualname]
        seen: set[str] = set()
        while stack:
            name = stack.pop(0)
            if name in seen:
                continue
            seen.add(name)
            order.append(name)
            decl = self.classes.get(name)
            if decl is not None:
                stack[0:0] = [self.normalize(Value("ref", base)).name for base in decl.bases]
        return order

    def lookup_member(self, class_qualname: str, attr: str) -> tuple[str, Value] | None:
        """Find ``attr`` on a class through its bases: (owner class, value)."""
        for owner in self.mro(class_qualname):
            decl = self.classes.get(owner)
            if decl is None:
                continue
            method = decl.methods.get(attr)
            if method is not None:
                return owner, Value("function", method)
            attribute = decl.attributes.get(attr)
            if attribute is not None:
                return owner, Value("instance", attribute)
        return None

    def library_bases(self, class_qualname: str) -> list[str]:
        """Bases of a project class (transitively) that are not project classes."""
        return [name for name in self.mro(class_qualname) if name not in self.classes]

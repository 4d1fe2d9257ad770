"""jedi, used where cheap resolution cannot tell what a call is.

jedi infers through return values, assignments and installed libraries
(``get_client().fetch()``), but a query costs tens to hundreds of
milliseconds (its first in a process up to a second or more).  So: one jedi
``Project`` per workspace, kept warm for the life of the process; one
``Script`` per module version; answers memoised per call position; the
resolver asks only about calls whose name matters (a catalog name or a
project function name); and of the catalog's method names only those whose
class can occur here (``_may_matter``).  Whether a library function is an
``async def`` is read from its source (``libraries.DefinitionFinder``), never
asked of jedi.

jedi is not thread-safe: an instance of this class must be used from one
thread (the language server gives it a dedicated worker).
"""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import subprocess
import sys
import warnings
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .index import ProjectIndex, Value
from .libraries import STDLIB_MODULES, DefinitionFinder

if TYPE_CHECKING:
    from .semantics import ModuleModel

log = logging.getLogger(__name__)


_COMMENT = re.compile(r"#[^\n]*")
_IMPORT = re.compile(r"^[ \t]*(?:import|from)[ \t]+([A-Za-z_][\w.]*)", re.MULTILINE)
# Cheap resolvers kept for callee_name (of the modules asked about last; rules ask module by module).
_CHEAP_RESOLVERS_KEPT = 8
_MAX_LIBRARY_FILES_SCANNED = 5000  # a count: answers never depend on timing

# Where unawaited-coroutine asks jedi: the call's result is dropped, assigned or a condition.
_DROPPED_OR_PLAIN = (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr, ast.If, ast.While,
                     ast.IfExp, ast.Assert, ast.BoolOp, ast.UnaryOp, ast.Compare)


def _result_may_be_dropped(model: ModuleModel, call: ast.Call) -> bool:
    """Over-approximates unawaited-coroutine's jedi sites by the call's parent node."""
    parent = model.parents.get(call)
    return parent is None or isinstance(parent, _DROPPED_OR_PLAIN)


def _in_loop_of_coroutine(model: ModuleModel, call: ast.Call) -> bool:
    in_loop = False
    node = model.parents.get(call)
    while node is not None:
        if isinstance(node, (ast.For, ast.While, ast.AsyncFor)):
            in_loop = True
        elif isinstance(node, (ast.FunctionDef, ast.Lambda, ast.ClassDef)):
            return False
        elif isinstance(node, ast.AsyncFunctionDef):
            return in_loop
        node = model.parents.get(node)
    return False


# Modules whose classes a project meets without importing them (``open()`` gives io objects).
_ALWAYS_AVAILABLE = frozenset({"builtins", "io", "_io"})


def _typeshed_stub_roots(jedi) -> list[Path]:
    """jedi's bundled typeshed third-party stubs (``stubs/<distribution>``)."""
    stubs = Path(jedi.__file__).parent / "third_party" / "typeshed" / "stubs"
    try:
        return sorted(path for path in stubs.iterdir() if path.is_dir())
    except OSError:
        return []


def detect_python(root: Path, explicit: str | None = None) -> str | None:
    """The interpreter of the user's project: explicit, $VIRTUAL_ENV, .venv, venv."""
    if explicit:
        return explicit
    candidates = []
    virtual_env = os.environ.get("VIRTUAL_ENV")
    if virtual_env:
        candidates.append(Path(virtual_env))
    candidates += [root / ".venv", root / "venv"]
    for env in candidates:
        for binary in (env / "bin" / "python", env / "Scripts" / "python.exe"):
            if binary.exists():
                return str(binary)
    return None


def _same_environment(python: str) -> bool:
    """Whether ``python`` is the running interpreter with the running site-packages.

    A virtual environment's ``bin/python`` is a symbolic link to its base
    interpreter, so the resolved binaries of two environments are often the
    same file: an environment is told by its ``pyvenv.cfg``, not its binary.
    """
    environment = Path(os.path.abspath(python)).parent.parent
    if (environment / "pyvenv.cfg").is_file():
        return os.path.realpath(environment) == os.path.realpath(sys.prefix)
    return sys.prefix == sys.base_prefix and os.path.realpath(python) == os.path.realpath(sys.executable)


@lru_cache(maxsize=8)
def interpreter_sys_path(python: str) -> tuple[str, ...]:
    """The import path of another interpreter (its site-packages), asked once."""
    if _same_environment(python):
        return ()
    try:
        output = subprocess.run(
            [python, "-c", "import sys, json; print(json.dumps(sys.path))"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout
        return tuple(p for p in json.loads(output) if p and os.path.isdir(p))
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.warning("could not read sys.path of %s: %s", python, exc)
        return ()


def _without_stdlib_sources(paths) -> list[str]:
    """The import path without the standard library's source folder.

    jedi answers from typeshed's stubs for the standard library, but it parses
    each module's source as well, next to its stub: for ``asyncio`` every
    submodule twice.  Without the sources on its path it reads the stubs
    alone - a third fewer modules per process (0.3 s of a worker's 3 s on
    aiohttp) and the same answers (the tests, and the findings on the five
    benchmark trees).  The folder is told by its ``os.py``; compiled modules
    (``lib-dynload``) and ``site-packages`` stay.
    """
    return [path for path in paths if path and not os.path.isfile(os.path.join(path, "os.py"))]


def _script_with_state(jedi, state, code: str, path: str, project):
    """A ``jedi.Script`` that uses the shared inference state (jedi makes a new one each time)."""
    import jedi.api as api

    original = api.InferenceState
    api.InferenceState = lambda *args, **kwargs: state
    try:
        return jedi.Script(code=code, path=path, project=project)
    finally:
        api.InferenceState = original


def _callee_name_position(model: ModuleModel, call: ast.Call) -> tuple[int, int] | None:
    """(line, character column) of the name a call calls: where jedi is asked."""
    func = call.func
    if isinstance(func, ast.Attribute):
        line = func.end_lineno or func.lineno
        byte_col = (func.end_col_offset or 0) - len(func.attr.encode("utf-8"))
    elif isinstance(func, ast.Name):
        line, byte_col = func.lineno, func.col_offset
    else:
        return None
    return line, model.parsed.index.char_col(line, byte_col)


class JediInference:
    def __init__(self, root: Path, index: ProjectIndex, catalog, python: str | None = None) -> None:
        import jedi  # imported here: start-up of the CLI without inference stays fast

        # Searching every call site of a function to type its parameters costs
        # seconds on a big module and rarely pays off for our questions.
        jedi.settings.dynamic_params = False
        jedi.settings.dynamic_params_for_other_modules = False
        self._jedi = jedi
        self.index = index
        self.catalog = catalog
        extra = list(interpreter_sys_path(python)) if python else []
        # The in-process environment avoids a subprocess per query; the user's
        # interpreter contributes its import path.
        self.environment = jedi.InterpreterEnvironment()
        self.project = jedi.Project(
            path=str(root),
            environment_path=None,
            sys_path=_without_stdlib_sources(self.environment.get_sys_path()),
            added_sys_path=_without_stdlib_sources(extra),
            smart_sys_path=True,
            load_unsafe_extensions=False,
        )
        # A compiled module that imports standard-library code (``_asyncio``)
        # cannot be loaded without those sources; jedi warns and uses its stub.
        warnings.filterwarnings("ignore", message=r"Module \S+ not importable in path", category=UserWarning)
        # One inference state for the whole project: what jedi learns about a
        # library (typeshed, requests, ...) while answering for one module is
        # reused for every other, instead of re-inferred per Script.
        from jedi.inference import InferenceState

        self._state = InferenceState(self.project, environment=self.environment, script_path=root)
        self._scripts: dict[str, tuple[str, object]] = {}
        self._answers: dict[tuple[str, str, int, int], Value | None] = {}
        # The same answers by receiver text (the resolver shares one answer among
        # the calls of a method on one receiver in a scope, asking jedi once).
        self._by_receiver: dict[tuple[str, str, str, str], Value | None] = {}
        self.queries = 0
        self.root = Path(root)
        self.python = python
        self._finder: DefinitionFinder | None = None
        self._cheap: dict[str, tuple[str, object]] = {}  # path -> (content hash, cheap Resolver)
        self._method_owners: tuple[object, dict[str, bool]] | None = None
        self._spelled: dict[str, tuple[tuple[int, int], set[str]]] = {}  # path -> (stamp, class names)
        self._library_imports_memo: dict[frozenset[str], set[str]] = {}

    def _script(self, model: ModuleModel):
        key = model.path
        cached = self._scripts.get(key)
        if cached is not None and cached[0] == model.content_hash:
            return cached[1]
        if cached is not None:
            self._forget_module(model)
        self._preload(model)
        script = _script_with_state(self._jedi, self._state, model.text, model.path, self.project)
        self._scripts[key] = (model.content_hash, script)
        return script

    def _preload(self, model: ModuleModel) -> None:
        """Put the module's parso tree in parso's memory cache from its disk cache.

        ``jedi.Script`` parses its code without parso's disk cache (0.1-0.3 s for
        a big module, in every process); loading the pickled tree of an
        unchanged file takes a tenth of that, and the Script's diff parse of the
        same text against it is nearly free.  Editor buffers that differ from
        the file are parsed as before.
        """
        try:
            with open(model.path, "rb") as handle:
                on_disk = handle.read()
            if on_disk.decode("utf-8") != model.text:
                return
            from jedi.file_io import FileIO

            self._state.parse(
                file_io=FileIO(model.path),
                cache=True,
                diff_cache=True,
                cache_path=self._jedi.settings.cache_directory,
            )
        except Exception as exc:  # noqa: BLE001 - only an optimisation
            log.debug("could not preload %s: %s", model.path, exc)

    def _forget_module(self, model: ModuleModel) -> None:
        """Drop jedi's cached value of a module whose text changed."""
        names = tuple(model.name.split("."))
        cache = getattr(self._state.module_cache, "_name_cache", None)
        if isinstance(cache, dict):
            cache.pop(names, None)

    def shed(self) -> None:
        """Let go of what jedi has loaded and inferred; the answers given so far stay.

        jedi keeps the parse tree of every module it inferred in, and values
        that point into them: a worker checking thousands of modules grows by
        about 50 MiB a CPU-minute.  The next query starts from an empty state
        (typeshed's builtins and typing are read again).
        """
        import parso.cache

        from jedi.inference import InferenceState

        # parso's memory cache is the process's, not this instance's: drop only
        # the trees of the modules this state loaded.  Another jedi instance in
        # the same process may share those trees: shed only where there is one
        # (a CLI worker).
        loaded = {*self.parsed_paths(), *self._scripts}
        for trees in parso.cache.parser_cache.values():
            for path in [path for path in trees if str(path) in loaded]:
                del trees[path]
        self._state = InferenceState(self.project, environment=self.environment, script_path=self.root)
        self._scripts.clear()

    def parsed_paths(self) -> list[str]:
        """The files of the modules jedi has loaded so far (sources and stubs)."""
        from jedi.inference.base_value import ValueSet

        caches = [getattr(self._state.module_cache, "_name_cache", {}), self._state.stub_module_cache]
        paths = []
        for cache in caches:
            for entry in cache.values():
                # the module cache holds value sets, the stub cache single values or None
                values = list(entry) if isinstance(entry, ValueSet) else [entry] if entry is not None else []
                for value in values:
                    path = getattr(value, "py__file__", lambda: None)()
                    if path is not None:
                        paths.append(str(path))
        return sorted(set(paths))

    def forget(self, path: str) -> None:
        self._scripts.pop(path, None)
        self._cheap.pop(path, None)
        self._answers = {k: v for k, v in self._answers.items() if k[0] != path}
        self._by_receiver = {k: v for k, v in self._by_receiver.items() if k[0] != path}

    def infer_callee(self, model: ModuleModel, call: ast.Call) -> Value | None:
        position = _callee_name_position(model, call)
        if position is None:
            return None
        line, column = position
        key = (model.path, model.content_hash, line, column)
        if key in self._answers:
            return self._answers[key]
        if not self._may_matter(model, call):
            self._answers[key] = None
            return None
        answer = self._infer(model, line, column)
        func = call.func
        if isinstance(func, ast.Attribute) and (answer is None or not self._catalog_knows(answer)):
            # jedi names an inherited method after the base defining it
            # (``io._TextIOBase.read`` for a file): the receiver's class may
            # be the name the catalog knows.
            through = self._infer_through_receiver(model, func)
            if through is not None and (answer is None or self._catalog_knows(through)):
                answer = through
        self._answers[key] = answer
        if isinstance(func, ast.Attribute):
            self._by_receiver[(model.path, model.content_hash, ast.dump(func.value), func.attr)] = answer
        return answer

    # -- which queries can change a finding -----------------------------------
    def _may_matter(self, model: ModuleModel, call: ast.Call) -> bool:
        """Can jedi's answer for this call be something a rule acts on?

        The resolver asks about calls named like a project function that
        matters (``index.inference_names``) or like a method of a catalog
        class (``catalog.method_names``).  Two things narrow that down here:

        * A coroutine matters only to unawaited-coroutine, which asks jedi only
          where the call's result is dropped, assigned or used as a condition
          (its ``_JEDI_SITES``).  Elsewhere (an argument, an attribute's
          receiver, a ``return``) names that matter only as coroutines - a
          project ``async def close`` or the catalog's ``asyncio.Queue.get`` -
          are not worth a query (blocking-call and the chains skip coroutines).
        * jedi can only answer with a catalog class that can occur in this
          project: one of an installed library (a library call may return it),
          of ``builtins``/``io`` (``open()`` needs no import), or of a standard
          module the project imports *and* whose class name the project's code
          spells somewhere (``Queue``, ``Path``).  Classes of the project
          itself are left to the first rule (``inference_names``).
          ``get`` is a catalog method of ``requests.Session`` and
          ``queue.Queue``: without requests installed and without ``Queue``
          in the code, ``headers.get(...)`` is neither, and jedi is not asked.
          (Missed: a standard-library object that a library hands over
          without the project naming its class.)
        """
        func = call.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
        if name is None:
            return True
        project_names = self.index.inference_names
        catalog_method = name in self.catalog.method_names
        if name not in project_names and not catalog_method:
            return True  # not a question the resolver's name filter lets through: asked directly
        if _in_loop_of_coroutine(model, call):
            # loop-starvation weighs the calls of such loops with what other rules asked jedi
            # (``asyncio.Server.close`` is cheap, an unknown ``server.close()`` is not).
            return True
        coroutines_matter = _result_may_be_dropped(model, call)
        if name in project_names and (coroutines_matter or name not in getattr(project_names, "coroutine_only", ())):
            return True
        return catalog_method and self._method_can_occur(model, name, coroutines_matter)

    def _method_can_occur(self, model: ModuleModel, method: str, coroutines_matter: bool) -> bool:
        token = self.index.function_names  # a new set object whenever the index changes
        if self._method_owners is None or self._method_owners[0] is not token:
            self._method_owners = (token, {})
        memo = self._method_owners[1]
        libraries = self._libraries_of(model)
        key = (method, coroutines_matter, libraries)
        if key not in memo:
            memo[key] = any(
                self._class_can_occur(owner, libraries)
                for owner, is_coroutine in self._catalog_owners().get(method, ())
                if coroutines_matter or not is_coroutine
            )
        return memo[key]

    def _libraries_of(self, model: ModuleModel) -> frozenset[str]:
        """The installed third-party libraries a module imports."""
        project = self._project_tops()
        return frozenset(
            top
            for top in {name.split(".", 1)[0] for name in model.decl.imports}
            if top not in STDLIB_MODULES and top not in project and self._installed(top)
        )

    def _catalog_owners(self) -> dict[str, list[tuple[str, bool]]]:
        """Method name -> (catalog class, whether the entry is a coroutine only)."""
        owners = getattr(self, "_owners_cache", None)
        if owners is None:
            owners = {}
            catalog = self.catalog
            classes = set(catalog.returns.values()) | set(catalog.bases)
            other = {*catalog.blocking, *catalog.offload, *catalog.loop_callbacks}
            for name in sorted({*other, *catalog.coroutines}):
                owner, _, method = name.rpartition(".")
                if owner and (owner.rsplit(".", 1)[-1][:1].isupper() or owner in classes):
                    owners.setdefault(method, []).append((owner, name not in other))
            self._owners_cache = owners
        return owners

    def _class_can_occur(self, owner: str, libraries: frozenset[str]) -> bool:
        top = owner.split(".", 1)[0]
        if top in _ALWAYS_AVAILABLE:
            return True
        if top in self._project_tops():
            return False  # the project's own classes: ``inference_names`` decides
        if top in STDLIB_MODULES:
            if top in self._imported_tops() and owner.rsplit(".", 1)[-1] in self._spelled_names():
                return True
            # An installed library the module imports may hand one over (``netkit.open_channel()``
            # returning a socket): if it, or a library it imports, imports the class's module.
            return top in self._library_imports(libraries)
        return self._installed(top)

    def _library_imports(self, libraries: frozenset[str]) -> set[str]:
        """Top-level modules imported by these installed libraries, transitively."""
        memo = self._library_imports_memo
        if libraries in memo:
            return memo[libraries]
        found: set[str] = set()
        seen: set[str] = set()
        pending = sorted(libraries)
        budget = [_MAX_LIBRARY_FILES_SCANNED]
        while pending:
            top = pending.pop()
            if top in seen or not self._installed(top):
                continue
            seen.add(top)
            for imported in self._imports_of_library(top, budget):
                found.add(imported)
                if imported not in STDLIB_MODULES and imported not in seen:
                    pending.append(imported)
        memo[libraries] = found
        return found

    def _imports_of_library(self, top: str, budget: list[int]) -> set[str]:
        imported: set[str] = set()
        for site in self.finder.paths:
            package = site / top
            files = sorted(package.rglob("*.py")) if package.is_dir() else [site / f"{top}.py"]
            for path in files:
                if budget[0] <= 0:
                    return imported
                try:
                    text = path.read_text(encoding="utf-8", errors="replace")
                except OSError:
                    continue
                budget[0] -= 1
                imported.update(match.split(".", 1)[0] for match in _IMPORT.findall(text))
            if files and files[0].exists():
                break
        return imported

    def _project_tops(self) -> set[str]:
        return {name.split(".", 1)[0] for name in self.index.modules}

    def _spelled_names(self) -> set[str]:
        """The catalog's class names that the project's code spells (comments aside)."""
        token = self.index.function_names  # a new set object whenever the index changes
        cached = getattr(self, "_spelled_names_cache", None)
        if cached is not None and cached[0] is token:
            return cached[1]
        owners = {owner.rsplit(".", 1)[-1] for pairs in self._catalog_owners().values() for owner, _ in pairs}
        found: set[str] = set()
        pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, owners))) + r")\b")
        for decl in self.index.modules.values():
            found.update(self._spelled_in(decl.path, pattern))
        self._spelled_names_cache = (token, found)
        return found

    def _spelled_in(self, path: str, pattern: re.Pattern) -> set[str]:
        try:
            stat = os.stat(path)
        except OSError:
            return set()
        stamp = (stat.st_mtime_ns, stat.st_size)
        cached = self._spelled.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        except OSError:
            return set()
        names = set(pattern.findall(_COMMENT.sub("", text)))
        self._spelled[path] = (stamp, names)
        return names

    def _imported_tops(self) -> set[str]:
        token = self.index.function_names
        cached = getattr(self, "_tops_cache", None)
        if cached is None or cached[0] is not token:
            tops: set[str] = set()
            for decl in self.index.modules.values():
                tops.update(module.split(".", 1)[0] for module in decl.imports)
            cached = (token, tops)
            self._tops_cache = cached
        return cached[1]

    def _installed(self, top: str) -> bool:
        installed = getattr(self, "_installed_cache", None)
        if installed is None:
            installed = self._installed_cache = {}
        if top not in installed:
            installed[top] = any(
                (path / top / "__init__.py").is_file() or (path / f"{top}.py").is_file() or (path / top).is_dir()
                for path in self.finder.paths
            )
        return installed[top]

    # -- coroutine functions, from source -------------------------------------
    @property
    def finder(self) -> DefinitionFinder:
        if self._finder is None:
            self._finder = DefinitionFinder(self.python, self.root, _typeshed_stub_roots(self._jedi))
        return self._finder

    def answered(self, model: ModuleModel, call: ast.Call) -> bool:
        """Has jedi an answer that ``callee_name`` gives for this call (in this version of the module)?"""
        position = _callee_name_position(model, call)
        if position is not None and (model.path, model.content_hash, *position) in self._answers:
            return True
        func = call.func
        return isinstance(func, ast.Attribute) and (
            (model.path, model.content_hash, ast.dump(func.value), func.attr) in self._by_receiver
        )

    def callee_name(self, model: ModuleModel, call: ast.Call) -> str | None:
        """The qualified name the resolver gave a call: jedi's answer if jedi was asked, else cheap resolution."""
        position = _callee_name_position(model, call)
        answer = None
        if position is not None:
            answer = self._answers.get((model.path, model.content_hash, *position))
        func = call.func
        if answer is None and isinstance(func, ast.Attribute):
            answer = self._by_receiver.get((model.path, model.content_hash, ast.dump(func.value), func.attr))
        if answer is None:
            cached = self._cheap.get(model.path)
            if cached is None or cached[0] != model.content_hash:
                from .semantics import Resolver

                cached = (model.content_hash, Resolver(model, self.index, None))
                if len(self._cheap) >= _CHEAP_RESOLVERS_KEPT:  # each holds a model: keep a few
                    del self._cheap[next(iter(self._cheap))]
                self._cheap[model.path] = cached
            resolver = cached[1]
            answer = resolver.callee(call, infer=False)  # type: ignore[attr-defined]
        if answer is None or not answer.known:
            return None
        if answer.kind in ("function", "ref"):
            return answer.name
        return None

    def _catalog_knows(self, value: Value) -> bool:
        if value.kind != "ref":
            return True  # a project function or class
        name, catalog = value.name, self.catalog
        return (
            catalog.blocking_entry(name) is not None
            or name in catalog.coroutines
            or name in catalog.returns
            or name in catalog.offload
            or name in catalog.loop_callbacks
        )

    def _infer_through_receiver(self, model: ModuleModel, func: ast.Attribute) -> Value | None:
        """``receiver.attr`` when jedi types the receiver but not the method.

        jedi often knows an object's class yet not the methods of its C
        implementation (``socket.socket().recv``): the method is then named
        after the receiver's class.
        """
        receiver = func.value
        line = receiver.end_lineno or receiver.lineno
        column = model.parsed.index.char_col(line, receiver.end_col_offset or 0)
        self.queries += 1
        try:
            names = self._script(model).infer(line, column)
        except Exception as exc:  # noqa: BLE001 - jedi raises many things on odd code
            log.debug("jedi failed at %s:%s:%s: %s", model.path, line, column, exc)
            return None
        for name in names:
            full_name = name.full_name
            if not full_name or name.type not in ("instance", "class", "module"):
                continue
            if full_name in self.index.classes:
                found = self.index.lookup_member(full_name, func.attr)
                if found is not None and found[1].kind == "function":
                    return Value("function", found[1].name, bound=name.type == "instance")
                continue
            owner = self.catalog.canonical(full_name)
            return Value("ref", self.catalog.canonical(f"{owner}.{func.attr}"), bound=name.type == "instance")
        return None

    def _infer(self, model: ModuleModel, line: int, column: int) -> Value | None:
        self.queries += 1
        try:
            names = self._script(model).infer(line, column)
        except Exception as exc:  # jedi raises many things on odd code; never fatal
            log.debug("jedi failed at %s:%s:%s: %s", model.path, line, column, exc)
            return None
        for name in names:
            full_name = name.full_name
            if not full_name:
                continue
            if full_name in self.index.functions:
                return Value("function", full_name, bound=name.parent().type == "class")
            if full_name in self.index.classes:
                return Value("class", full_name)
            canonical = self.catalog.canonical(full_name)
            if name.type == "class":
                return Value("class" if canonical in self.index.classes else "ref", canonical)
            if name.type == "function":
                is_method = False
                try:
                    is_method = name.parent().type == "class"
                except Exception:  # noqa: BLE001 - jedi internals on compiled objects
                    pass
                if is_method:
                    owner = self.catalog.canonical(full_name.rsplit(".", 1)[0])
                    canonical = f"{owner}.{full_name.rsplit('.', 1)[1]}"
                return Value("ref", canonical, bound=is_method)
        return None

    def is_coroutine_function(self, model: ModuleModel, call: ast.Call) -> bool | None:
        """Whether the callee is an ``async def`` (None: unknown).

        Read from the source that defines it (the project's declarations, else
        the library or standard-library module on the interpreter's path, else
        a stub jedi bundles), not asked of jedi: the same answer for a fraction
        of the cost.  An async generator function is not a coroutine function.
        """
        name = self.callee_name(model, call)
        if name is None:
            return None
        decl = self.index.functions.get(name)
        if decl is not None:
            return decl.is_async and not decl.is_generator
        found = self._project_member(name)
        if found is not None:
            return found
        return self.finder.is_coroutine_function(name)

    def _project_member(self, name: str) -> bool | None:
        """``pkg.mod.Class.method`` of a project class (its own or inherited method)."""
        owner, _, attr = name.rpartition(".")
        if owner not in self.index.classes:
            return None
        found = self.index.lookup_member(owner, attr)
        if found is not None and found[1].kind == "function":
            decl = self.index.functions.get(found[1].name)
            if decl is not None:
                return decl.is_async and not decl.is_generator
        for base in self.index.mro(owner):
            if base not in self.index.classes:
                answer = self.finder.is_coroutine_function(f"{base}.{attr}")
                if answer is not None:
                    return answer
        return None

"""jedi, used where cheap resolution cannot tell what a call is.

jedi infers through return values, assignments and installed libraries
(``get_client().fetch()``), but its first inference in a big library costs up to
a second and later ones milliseconds.  So: one jedi ``Project`` per workspace,
kept warm for the life of the process; one ``Script`` per module version;
answers memoised per call position; and the resolver asks only about calls
whose name matters (a catalog name or a project function name).

jedi is not thread-safe: an instance of this class must be used from one
thread (the language server gives it a dedicated worker).
"""

from __future__ import annotations

import ast
import json
import logging
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from .index import ProjectIndex, Value

if TYPE_CHECKING:
    from .semantics import ModuleModel

log = logging.getLogger(__name__)


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
        self.project = jedi.Project(
            path=str(root),
            environment_path=None,
            added_sys_path=extra,
            smart_sys_path=True,
            load_unsafe_extensions=False,
        )
        self.environment = jedi.InterpreterEnvironment()
        # One inference state for the whole project: what jedi learns about a
        # library (typeshed, requests, ...) while answering for one module is
        # reused for every other, instead of re-inferred per Script.
        from jedi.inference import InferenceState

        self._state = InferenceState(self.project, environment=self.environment, script_path=root)
        self._scripts: dict[str, tuple[str, object]] = {}
        self._answers: dict[tuple[str, str, int, int], Value | None] = {}
        self.queries = 0

    def _script(self, model: ModuleModel):
        key = model.path
        cached = self._scripts.get(key)
        if cached is not None and cached[0] == model.content_hash:
            return cached[1]
        if cached is not None:
            self._forget_module(model)
        script = _script_with_state(self._jedi, self._state, model.text, model.path, self.project)
        self._scripts[key] = (model.content_hash, script)
        return script

    def _forget_module(self, model: ModuleModel) -> None:
        """Drop jedi's cached value of a module whose text changed."""
        names = tuple(model.name.split("."))
        cache = getattr(self._state.module_cache, "_name_cache", None)
        if isinstance(cache, dict):
            cache.pop(names, None)

    def forget(self, path: str) -> None:
        self._scripts.pop(path, None)
        self._answers = {k: v for k, v in self._answers.items() if k[0] != path}

    def infer_callee(self, model: ModuleModel, call: ast.Call) -> Value | None:
        position = _callee_name_position(model, call)
        if position is None:
            return None
        line, column = position
        key = (model.path, model.content_hash, line, column)
        if key in self._answers:
            return self._answers[key]
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
        return answer

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
        """Whether jedi's definition of the callee is an ``async def`` (None: unknown)."""
        position = _callee_name_position(model, call)
        if position is None:
            return None
        line, column = position
        try:
            names = self._script(model).infer(line, column)
        except Exception:  # noqa: BLE001
            return None
        for name in names:
            tree_name = getattr(name._name, "tree_name", None)  # jedi keeps the parso leaf here
            if tree_name is None:
                continue
            definition = tree_name.get_definition()
            if definition is None or definition.type != "funcdef":
                continue
            parent = definition.parent
            return parent is not None and parent.type in ("async_funcdef", "async_stmt")
        return None

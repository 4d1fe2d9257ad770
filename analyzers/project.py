"""The engine's front door: a project of modules, analysed together.

    project = Project(root, config)
    results = project.check([path, ...])

Three steps, each reusable on its own by the language server:

1. ``load``: read, decode, parse and model a module; its declarations go into
   the ``ProjectIndex``.  Project modules it imports are loaded too, so calls
   can be followed into them.
2. ``summarise``: resolve every call of every loaded module once (cheap
   resolution, then jedi where it matters) into per-function summaries, linked
   by ``ProjectFacts``.
3. ``check``: run the rules on the requested modules.

``set_source`` replaces a module's text (an editor buffer); only that module's
declarations and summary are rebuilt, plus the summaries of the modules that
import it.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from .catalog import Catalog, default_catalog
from .config import Config
from .diagnostics import Diagnostic
from .index import ProjectIndex
from .inference import JediInference, detect_python
from .libraries import LibraryFollower
from .notebooks import is_notebook, notebook_source
from .parsing import decode_source, parse_module
from .reparse import BufferParse, BufferParser
from .block_findings import BlockFindings, run_rules
from .rules import RuleContext
from .semantics import ModuleModel, Resolver
from .summary import FunctionFacts, ModuleFacts, ProjectFacts, refine, summarise

log = logging.getLogger(__name__)

# A streaming worker lets jedi's state go each time it has grown by this much.
JEDI_MEMORY_STEP = 600 * 2**20


def _resident_bytes() -> int:
    """This process's resident memory (0 where /proc is not there: never measured)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0

# Files larger than this are not analysed (generated code, data dumps).
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass
class FileResult:
    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # could not read / decode: exit code 2
    partial: bool = False  # some lines could not be parsed and were skipped
    skipped_lines: int = 0


@dataclass
class _Module:
    model: ModuleModel
    facts: ModuleFacts | None = None
    decode_error: str | None = None
    resolver: Resolver | None = None  # kept: its cache holds the module's resolved calls
    # The other modules' declarations when the resolver was made (what its answers used).
    index_state: dict | None = None
    # An editor buffer's last version (facts, model) when its answers were carried over:
    # summarise() takes over the facts of unchanged functions.
    previous: tuple[ModuleFacts, ModuleModel] | None = None


class Project:
    def __init__(
        self,
        root: Path | str,
        config: Config | None = None,
        *,
        python: str | None = None,
        cache_dir: Path | None = None,
        use_jedi: bool = True,
        jobs: int | None = None,
        library_cache_dir: Path | None | bool = None,
        overrides: dict[str, str] | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self.config = config or Config()
        self.catalog: Catalog = default_catalog().with_config(self.config)
        self.index = ProjectIndex()
        self.facts = ProjectFacts(self.index)
        self.facts.refine = self._refine
        self.python = detect_python(self.root, python or self.config.python)
        # Loop-bound code (profiles.py) and calls followed into installed
        # libraries (libraries.py; cache: None = the shared default, False = none).
        self.facts.config = self.config
        self.facts.catalog = self.catalog
        self.facts.root = self.config.root or self.root
        if self.config.follow_libraries:
            self.facts.libraries = LibraryFollower(
                self.catalog,
                self.config,
                python=self.python,
                project_root=self.root,
                cache_dir=library_cache_dir,
                project_modules=lambda: self.index.modules,
            )
        self.cache_dir = cache_dir
        self.use_jedi = use_jedi
        self.jobs = jobs
        self._modules: dict[str, _Module] = {}  # by absolute path
        self._by_name: dict[str, str] = {}  # module name -> path
        self._overrides: dict[str, str] = dict(overrides or {})  # path -> editor text
        self._adopted_facts: list[ModuleFacts] = []
        self._buffer_parsers: dict[str, BufferParser] = {}
        self._block_models: dict[str, dict] = {}  # path -> what the model builder found per block
        self._block_findings: dict[str, BlockFindings] = {}  # path -> an editor buffer's findings by block
        self._previous: dict[str, _Module] = {}  # path -> an editor buffer's last version, for its resolver
        self._inference: JediInference | None = None
        self._source_roots: set[Path] = {self.root, self.root / "src"}
        self._stale_facts: set[str] = set()
        self._streaming = False  # a worker with a big shard: no models kept between steps (load_shard)
        self._jedi_memory_mark: int | None = None  # resident size after jedi last let go (streaming)
        self.jedi_sheds = 0

    # -- inference ------------------------------------------------------------
    @property
    def inference(self) -> JediInference | None:
        if self._inference is None and self.use_jedi:
            try:
                self._inference = JediInference(self.root, self.index, self.catalog, self.python)
            except Exception as exc:  # noqa: BLE001 - a broken jedi must not stop the checks
                log.warning("jedi unavailable, using import-table resolution only: %s", exc)
                self.use_jedi = False
        return self._inference

    # -- module names ---------------------------------------------------------
    def module_name_for(self, path: Path) -> tuple[str, bool]:
        """Dotted module name from the package structure (``__init__.py`` files)."""
        path = path.resolve()
        is_package = path.name == "__init__.py"
        parts = [] if is_package else [path.stem]
        directory = path.parent
        while (directory / "__init__.py").exists() and directory != directory.parent:
            parts.insert(0, directory.name)
            directory = directory.parent
        self._source_roots.add(directory)
        return ".".join(parts) or path.stem, is_package

    def _find_module(self, name: str) -> Path | None:
        if not name or any(not part.isidentifier() for part in name.split(".")):
            return None  # `from .. import x` above the top package, or a broken name
        relative = Path(*name.split("."))
        for root in list(self._source_roots):
            for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
                if candidate.is_file():
                    return candidate
        return None

    # -- step 1: load ---------------------------------------------------------
    def set_source(self, path: Path | str, text: str) -> None:
        """An editor buffer: analyse this text instead of the file on disk."""
        key = str(Path(path).resolve())
        self._overrides[key] = text
        self._invalidate(key)

    def drop_source(self, path: Path | str) -> None:
        key = str(Path(path).resolve())
        self._overrides.pop(key, None)
        self._previous.pop(key, None)
        self._buffer_parsers.pop(key, None)
        self._block_models.pop(key, None)
        self._block_findings.pop(key, None)
        self._invalidate(key)

    def _invalidate(self, key: str) -> None:
        old = self._modules.pop(key, None)
        self._previous.pop(key, None)
        if old is None:
            return
        if key in self._overrides and old.resolver is not None and old.index_state == self._index_state(old.model):
            self._previous[key] = old  # its resolver may seed the next version's (_carry_resolutions)
        if self._by_name.get(old.model.name) == key:
            del self._by_name[old.model.name]
        self.index.remove(old.model.name)
        self.facts.remove_module(key)
        if self._inference is not None:
            self._inference.forget(key)
        # Modules importing this one resolve against its declarations: re-summarise them.
        for other in self._modules.values():
            if old.model.name in _imported_modules(other.model):
                other.facts = None
                other.resolver = None
                self._stale_facts.add(other.model.path)

    def load(self, path: Path | str, *, declare: bool = True) -> _Module:
        """Read and model a module (cached until its text changes); raises OSError.

        ``declare=False``: its declarations are in the index already (a module a
        worker released between the steps of a check, parsed again)."""
        resolved = Path(path).resolve()
        key = str(resolved)
        cached = self._modules.get(key)
        if cached is not None:
            return cached
        decode_error = None
        if key in self._overrides:
            text = self._overrides[key]
        else:
            size = resolved.stat().st_size
            if size > MAX_FILE_BYTES:
                raise OSError(f"file too large to analyse ({size} bytes)")
            data = resolved.read_bytes()
            text, decode_error = decode_source(data)
        # A notebook is analysed as the Python of its code cells (see notebooks.py).
        notebook = notebook_source(text, from_editor=key in self._overrides) if is_notebook(resolved) else None
        if notebook is not None:
            text = notebook.text
        name, is_package = self.module_name_for(resolved)
        blocks = block_cache = None
        if key in self._overrides:
            # An editor buffer: re-parse only the top-level blocks the edit touched,
            # and re-walk only those blocks to build the model.
            buffer_parser = self._buffer_parsers.setdefault(key, BufferParser())
            parsed = buffer_parser.parse(text, key)
            if isinstance(parsed, BufferParse):
                blocks = parsed.blocks
                block_cache = self._block_models.setdefault(key, {})
        else:
            parsed = parse_module(text, key)
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        model = ModuleModel(parsed, key, name, is_package, self.catalog, digest, blocks, block_cache)
        if model.dropped_deep and key in self._buffer_parsers:
            # Statements of the parser's trees were cut out in place: not reusable.
            self._buffer_parsers[key].reset()
            self._block_models.pop(key, None)
        model.notebook = notebook
        module = _Module(model, decode_error=decode_error)
        self._modules[key] = module
        self._by_name[name] = key
        if declare:
            self.index.add(model.decl)
        return module

    def _load_imports(self, module: _Module, depth: int = 64) -> None:
        """Load the project modules a module imports (transitively), so calls can be followed into them."""
        pending = [(module, depth)]
        while pending:
            current, remaining = pending.pop()
            if remaining <= 0:
                continue
            for name in sorted(_imported_modules(current.model)):
                if name in self._by_name or name in self.index.modules:
                    continue
                found = self._find_module(name)
                if found is None or not _inside(found, self.root):
                    continue
                try:
                    loaded = self.load(found)
                except (OSError, ValueError) as exc:
                    log.debug("could not load %s: %s", found, exc)
                    continue
                pending.append((loaded, remaining - 1))

    # -- step 2: summarise ----------------------------------------------------
    def resolver_for(self, model: ModuleModel) -> Resolver:
        module = self._modules.get(model.path)
        if module is None or module.model is not model:
            return Resolver(model, self.index, self.inference)
        if module.resolver is None:
            module.resolver = Resolver(model, self.index, self.inference)
            module.index_state = self._index_state(model)
            previous = self._previous.pop(model.path, None)
            if previous is not None:
                self._carry_resolutions(previous, module)
        return module.resolver

    def _index_state(self, model: ModuleModel) -> dict:
        """The other modules' declarations (compared by identity: a reloaded module has a new one)."""
        return {name: id(decl) for name, decl in self.index.modules.items() if name != model.name}

    def _carry_resolutions(self, previous: _Module, module: _Module) -> None:
        """An editor buffer's new version: its resolver starts from the last one's answers
        for the calls of unchanged blocks, when nothing else those answers depend on
        changed - the module's bindings and declarations, the other modules'
        declarations, star imports and the catalog (see ``Resolver.carry_over``)."""
        old, new = previous.model, module.model
        if (
            previous.resolver is None
            or old.catalog is not new.catalog
            or (old.name, old.is_package) != (new.name, new.is_package)
            or new.star_import is None
            or old.star_import != new.star_import
            or previous.index_state != module.index_state
            or not _same_declarations(old.decl, new.decl)
            or old.module_scope.bindings != new.module_scope.bindings  # AST nodes compare by identity
        ):
            return
        module.resolver.carry_over(previous.resolver)
        if previous.facts is not None:
            module.previous = (previous.facts, previous.model)

    def _summarise_all(self) -> None:
        for module in list(self._modules.values()):
            if module.facts is None:
                self._summarise(module)
        self._stale_facts.clear()
        self.index.inference_names_override = self.facts.interesting_names()

    def _summarise(self, module: _Module) -> None:
        resolver = self.resolver_for(module.model)  # may carry over: sets module.previous
        module.facts = summarise(module.model, resolver, module.previous)
        module.previous = None
        self.facts.add(module.facts)

    def _refine(self, function: FunctionFacts) -> None:
        if self.inference is None:
            function.refined = True  # nothing to ask: refining adds jedi's answers only
            return
        module = self._modules.get(function.path)
        loaded_here = module is None
        if module is None:
            # A module summarised elsewhere (another worker, the cache): load it
            # here, so the answer does not depend on where it was summarised.
            try:
                # (in a streaming worker every module's declarations are in the index already)
                module = self.load(function.path, declare=not self._streaming)
            except (OSError, ValueError):
                function.refined = True
                return
        refine(function, module.model, self.resolver_for(module.model))
        if loaded_here and self._streaming:
            self._modules.pop(function.path, None)

    # -- step 3: check --------------------------------------------------------
    def check(self, paths: Iterable[Path | str]) -> list[FileResult]:
        """Check files: from the on-disk cache where possible, in worker processes when many."""
        from . import batch

        paths = list(paths)
        if self.cache_dir is not None:
            return batch.check_with_cache(self, paths)
        return batch.check_files(self, paths)

    # -- the steps of a check, for worker processes (batch.py) ----------------
    def worker_settings(self) -> dict:
        return {
            "root": self.root,
            "config": self.config,
            "python": self.python,
            "use_jedi": self.use_jedi,
            "jobs": 1,
            "overrides": dict(self._overrides),
        }

    def load_shard(self, paths: list[str], stream: bool = False) -> list:
        """Step 1 in a worker: parse a shard; returns its declarations.

        ``stream`` (a big shard, see ``batch.STREAM_SOURCE_BYTES``): keep no models
        between the steps: each module is parsed again to be summarised and again
        to be checked, and let go after each (a model takes about a hundred times
        its source in memory: half of Home Assistant's were 7 GiB per worker)."""
        self._shard: dict[str, FileResult] = {}
        self._shard_keys: list[str] = []
        declarations = []
        self._streaming = stream
        for path in paths:
            key = str(Path(path).resolve())
            try:
                module = self.load(key)
            except (OSError, ValueError) as exc:
                self._shard[key] = FileResult(str(path), errors=[_describe_os_error(exc)])
                continue
            self._shard_keys.append(key)
            self._shard[key] = FileResult(str(path))
            declarations.append(module.model.decl)
            self._release(key)
        return declarations

    def _release(self, key: str) -> None:
        """A streaming worker lets a shard module's model go (its declarations and facts stay)."""
        if self._streaming:
            self._modules.pop(key, None)
            self._bound_jedi_memory()

    def _bound_jedi_memory(self) -> None:
        """A streaming worker lets jedi's trees go whenever it has grown by ``JEDI_MEMORY_STEP``.

        Measured from the size after the last time: memory the allocator keeps
        is reused rather than given back, so the process stops growing instead
        of shrinking."""
        if self._inference is None:
            return
        resident = _resident_bytes()
        if self._jedi_memory_mark is None:
            self._jedi_memory_mark = resident
        elif resident - self._jedi_memory_mark > JEDI_MEMORY_STEP:
            self._inference.shed()
            gc.collect()  # parse trees are cycles (parent links)
            self._jedi_memory_mark = _resident_bytes()
            self.jedi_sheds += 1

    def _shard_module(self, key: str) -> _Module | None:
        module = self._modules.get(key)
        if module is None:
            try:
                module = self.load(key, declare=False)
            except (OSError, ValueError):
                return None
        return module

    def adopt_declarations(self, declarations: list) -> None:
        for declaration in declarations:
            if declaration.path not in self._modules:
                self.index.add(declaration)

    def summarise_shard(self) -> list[ModuleFacts]:
        """Step 2 in a worker: summaries of the shard (and the project modules it imports)."""
        summaries: dict[str, ModuleFacts] = {}
        for key in self._shard_keys:
            module = self._shard_module(key)
            if module is None:
                continue
            self._load_imports(module)
            if self._streaming:
                if module.facts is None:
                    self._summarise(module)
                summaries[key] = module.facts
                self._release(key)
        self._summarise_all()
        for module in self._modules.values():
            if module.facts is not None:
                summaries[module.model.path] = module.facts
        return list(summaries.values())

    def adopt_facts(self, summaries: list[ModuleFacts]) -> None:
        self._adopted_facts.extend(summaries)
        for facts in summaries:
            if facts.path not in self._modules or self._modules[facts.path].facts is None:
                self.facts.add(facts)
        self.index.inference_names_override = self.facts.interesting_names()

    def summarise_loaded(self) -> None:
        self._summarise_all()

    def check_shard(self) -> list[FileResult]:
        """Step 3 in a worker: the findings of the shard."""
        self._report(self._shard, self._shard_keys, time.perf_counter())
        return list(self._shard.values())

    def last_facts_by_path(self) -> dict[str, ModuleFacts]:
        """The summaries this process holds, by file (for the cache)."""
        by_path: dict[str, ModuleFacts] = {}
        for facts in self._adopted_facts:
            by_path[facts.path] = facts
        for module in self._modules.values():
            if module.facts is not None:
                by_path[module.model.path] = module.facts
        return by_path

    def check_in_process(self, paths: Iterable[Path | str]) -> list[FileResult]:
        started = time.perf_counter()
        results: dict[str, FileResult] = {}
        loaded: list[_Module] = []
        for path in paths:
            key = str(Path(path).resolve())
            display = str(path)
            try:
                module = self.load(key)
            except (OSError, ValueError) as exc:
                results[key] = FileResult(display, errors=[_describe_os_error(exc)])
                continue
            loaded.append(module)
            results[key] = FileResult(display)
        for module in loaded:
            self._load_imports(module)
        self._summarise_all()
        self._report(results, [module.model.path for module in loaded], started)
        return list(results.values())

    def _report(self, results: dict[str, FileResult], keys: list[str], started: float) -> None:
        libraries = self.facts.libraries
        if libraries is not None:
            # Library analysis may take as long as the rest of this run (libraries.py).
            libraries.begin(started)
        for key in keys:
            module = self._shard_module(key)
            if module is None:
                continue
            result = results[key]
            if module.decode_error:
                result.errors.append(module.decode_error)
            result.partial = module.model.parsed.partial
            result.skipped_lines = len(module.model.parsed.skipped_lines)
            result.diagnostics = self.diagnostics_for(module.model, display_path=result.path)
            self._release(key)
        if libraries is not None:
            # The library budget grows with the run: modules whose library chains it
            # cut short get a second look now that all the other work is done.
            for key in [k for k in keys if self.facts.take_cut_off(k)]:
                if not libraries.has_budget():
                    break
                module = self._shard_module(key)
                if module is None:
                    continue
                result = results[key]
                result.diagnostics = self.diagnostics_for(module.model, display_path=result.path)
                self._release(key)
            libraries.save()

    # -- editor buffers (the language server) ---------------------------------
    def analyze_open_document(
        self, path: Path | str, text: str, checkpoint: Callable[[], None] | None = None
    ) -> FileResult:
        """``check([path])`` on an editor buffer's ``text``.

        Unchanged text reuses what earlier calls built (model, summaries, jedi);
        changed text re-models only this module and re-summarises its importers.
        ``checkpoint()`` runs between the steps and may raise to abandon the work
        (a newer version of the buffer arrived); the project stays consistent.
        """
        started = time.perf_counter()
        key = str(Path(path).resolve())
        if self._overrides.get(key) != text or key not in self._modules:
            self.set_source(key, text)
        step = checkpoint or (lambda: None)
        module = self.load(key)
        step()
        self._load_imports(module)
        self._summarise_all()
        step()
        result = FileResult(str(path), partial=module.model.parsed.partial)
        result.skipped_lines = len(module.model.parsed.skipped_lines)
        libraries = self.facts.libraries
        if libraries is not None:
            libraries.begin(started)  # a run of its own: a fresh library budget (libraries.py)
        result.diagnostics = self.diagnostics_for(module.model, display_path=str(path))
        if libraries is not None:
            libraries.save()
        return result

    def dependents_of(self, path: Path | str) -> set[str]:
        """Paths of the loaded modules that import ``path``'s module, directly or not."""
        key = str(Path(path).resolve())
        module = self._modules.get(key)
        if module is None:
            return set()
        names = {module.model.name}
        found: set[str] = set()
        changed = True
        while changed:
            changed = False
            for other_path, other in self._modules.items():
                if other_path in found or other_path == key:
                    continue
                if names & _imported_modules(other.model):
                    found.add(other_path)
                    names.add(other.model.name)
                    changed = True
        return found

    def diagnostics_for(self, model: ModuleModel, display_path: str | None = None) -> list[Diagnostic]:
        resolver = self.resolver_for(model)
        module = self._modules.get(model.path)
        if isinstance(model.parsed, BufferParse) and model.path in self._overrides and module is not None and module.model is model:
            # An editor buffer: only the blocks an edit can change are checked again.
            by_block = self._block_findings.setdefault(model.path, BlockFindings())
            found = by_block.check(model, model.parsed.blocks, resolver, self.facts, self.config, self.catalog)
        else:
            ctx = RuleContext(model, resolver, self.facts, self.config, self.catalog)
            found = run_rules(ctx)
        if model.notebook is not None:
            for diagnostic in found:
                cell = model.notebook.cell_at(diagnostic.span.start.line)
                diagnostic.cell = cell.number if cell is not None else None
        if display_path is not None and display_path != model.path:
            for diagnostic in found:
                diagnostic.path = display_path
        found.sort(key=Diagnostic.sort_key)
        return found


def _same_declarations(old, new) -> bool:
    """Two versions of a module declare the same (whatever their text's hash)."""
    return (
        old.globals == new.globals
        and old.functions == new.functions
        and old.classes == new.classes
        and old.imports == new.imports
        and old.is_package == new.is_package
    )


def _imported_modules(model: ModuleModel) -> set[str]:
    return model.decl.imports


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root)
        return True
    except ValueError:
        return False


def _describe_os_error(exc: Exception) -> str:
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a Python file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file (or a broken symbolic link)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc) or exc.__class__.__name__

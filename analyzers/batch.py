"""Checking many files: worker processes over shards, and the on-disk cache.

Cold runs split the files into one shard per worker process.  Each worker
keeps its shard's parsed modules for the whole run, and the three steps of
``Project.check`` are spread over the workers:

1. each worker parses its shard and sends back the declarations;
2. every worker gets all declarations (the project index) and summarises its
   shard; the summaries are merged and sent to all;
3. each worker runs the rules on its shard.

Results are the same as a single-process run: a worker that needs a module of
another shard (jedi refining a helper's calls) loads it itself.

The cache (``--cache-dir``, default ``.asyncsense_cache``) keeps, per file,
the declarations, the summary and the findings, keyed by what each depends on:
the file's own text; the declarations of the modules it imports; the summaries
of every function its calls can reach; the settings, the catalog and this
version of asyncsense.  An unchanged tree costs a read and a hash per file;
after an edit, the edited file and the files that depend on it are re-analysed.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import pickle
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .index import ModuleDecl
from .summary import FunctionFacts, ModuleFacts

if TYPE_CHECKING:
    from .project import FileResult, Project

log = logging.getLogger(__name__)

# Below this many files, starting workers costs more than it saves.
MIN_FILES_PER_WORKER = 8
CACHE_FORMAT = 2

# A worker's shard with more source than this is checked without keeping its models
# between the steps (``Project.load_shard``).
STREAM_SOURCE_BYTES = 16_000_000
# Marks a worker's pickled list among the messages (an exception is pickled bare).
_LIST_PREFIX = b"list:"
# Collections of the youngest generation every 100,000 allocations (default 700).
_BATCH_GC_THRESHOLD = (100_000, 20, 10)


def tune_collector() -> None:
    """The cyclic garbage collector's policy for a batch check (the CLI and its workers).

    A check allocates millions of objects that live until the process ends
    (syntax trees, models, jedi's parso trees and values) and makes little
    cyclic garbage.  With the default thresholds the collector kept scanning
    them: a third of a cold check's CPU time on aiohttp (4.7-5.6 s wall with
    the defaults, 2.5-2.8 s with these; peak memory the same, 174 MB).
    ``gc.freeze`` leaves what exists now (in a worker: what it inherited
    from the parent) out of every later collection.  Reference counting
    still frees everything; cycles are still collected, less often.
    """
    gc.freeze()
    first, second, third = gc.get_threshold()
    if first and first < _BATCH_GC_THRESHOLD[0]:
        gc.set_threshold(*_BATCH_GC_THRESHOLD)


# ---------------------------------------------------------------------------
# The cache
# ---------------------------------------------------------------------------


def _digest(*parts: Any) -> str:
    hasher = hashlib.blake2b(digest_size=16)
    for part in parts:
        hasher.update(repr(part).encode("utf-8", "surrogatepass"))
        hasher.update(b"\0")
    return hasher.hexdigest()


class Cache:
    """Pickled entries under ``root/<kind>/<key>``, written atomically."""

    def __init__(self, root: Path, salt: str) -> None:
        self.root = root
        self.salt = salt
        self.hits = self.misses = 0

    def get(self, kind: str, key: str) -> Any | None:
        path = self.root / kind / key[:2] / key
        try:
            with open(path, "rb") as handle:
                value = pickle.load(handle)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def put(self, kind: str, key: str, value: Any) -> None:
        directory = self.root / kind / key[:2]
        try:
            if not self.root.exists():
                self.root.mkdir(parents=True)
                # Like .ruff_cache: the cache ignores itself, so it never shows in git.
                (self.root / ".gitignore").write_text("# Created by asyncsense\n*\n")
            directory.mkdir(parents=True, exist_ok=True)
            temporary = directory / f".{key}.{os.getpid()}"
            with open(temporary, "wb") as handle:
                pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, directory / key)
        except OSError as exc:  # a read-only or full disk must not fail the check
            log.debug("cache write failed: %s", exc)

    @staticmethod
    def for_project(project: Project) -> Cache | None:
        if project.cache_dir is None:
            return None
        from . import __name__ as package  # noqa: F401 - the version lives in the root package

        try:
            from asyncsense import __version__
        except ImportError:  # pragma: no cover
            __version__ = "dev"
        catalog = project.catalog
        salt = _digest(
            CACHE_FORMAT,
            __version__,
            sys.version_info[:2],
            project.python,
            project.use_jedi,
            repr(project.config),
            sorted(catalog.blocking),
            sorted(catalog.aliases.items()),
            _source_fingerprint(),
            _environment_fingerprint(project.python),
        )
        root = Path(project.cache_dir)
        return Cache(root, salt)


def _environment_fingerprint(python: str | None) -> str:
    """Changes when packages are installed or upgraded (jedi reads them)."""
    from .inference import interpreter_sys_path

    directories = list(interpreter_sys_path(python)) if python else list(sys.path)
    stamps = []
    for directory in directories:
        # Installs change site-packages; other entries (the current directory under
        # ``python -m``, where the cache directory itself may just have been created)
        # would only make the next run miss.
        if not ({"site-packages", "dist-packages"} & set(Path(directory).parts)):
            continue
        try:
            stamps.append((directory, os.stat(directory).st_mtime_ns))
        except OSError:
            continue
    return _digest(stamps)


def _source_fingerprint() -> str:
    """Changes whenever asyncsense's own code changes (a development install)."""
    package = Path(__file__).parent
    stamps = []
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".toml"):
            stat = path.stat()
            stamps.append((path.name, stat.st_size, stat.st_mtime_ns))
    return _digest(stamps)


@dataclass
class _Entry:
    path: str  # absolute
    display: str
    text_hash: str | None = None  # None: could not be read
    decl_key: str = ""
    decl: ModuleDecl | None = None
    facts_key: str = ""
    facts: ModuleFacts | None = None
    result_key: str = ""


def check_with_cache(project: Project, paths: list[Path | str]) -> list[FileResult]:
    """``Project.check`` with the on-disk cache: only what changed is re-analysed."""
    cache = Cache.for_project(project)
    if cache is None:
        return check_files(project, paths)
    entries = [_entry(project, path) for path in paths]
    readable = [e for e in entries if e.text_hash is not None]
    for entry in readable:
        name, is_package = project.module_name_for(Path(entry.path))
        entry.decl_key = _digest(cache.salt, entry.text_hash, name, is_package)
        entry.decl = cache.get("decl", entry.decl_key)
    if not any(e.decl is not None for e in readable):
        return _cold(project, cache, entries)
    # Warm or partly warm: parse only the files whose text changed.
    for entry in readable:
        if entry.decl is None:
            entry.decl = project.load(entry.path).model.decl
            cache.put("decl", entry.decl_key, entry.decl)  # else the next run parses it again
        else:
            project.index.add(entry.decl)
    _facts_keys(readable)
    stale = []
    for entry in readable:
        entry.facts = cache.get("facts", entry.facts_key)
        if entry.facts is None:
            stale.append(entry)
            project.load(entry.path)
    project.adopt_facts([e.facts for e in readable if e.facts is not None])
    project.summarise_loaded()
    by_path = project.last_facts_by_path()
    for entry in stale:
        entry.facts = by_path[entry.path]
        cache.put("facts", entry.facts_key, entry.facts)
    results: dict[str, FileResult] = {}
    reach = _reachable_facts_keys(readable)
    todo = []
    for entry in readable:
        # Loop-bound code and library summaries: dependencies the reach does not capture.
        entry.result_key = _digest(entry.facts_key, reach[entry.path], project.facts.result_key(entry.path))
        result = cache.get("result", entry.result_key)
        if result is None:
            todo.append(entry)
            continue
        result.path = entry.display
        for diagnostic in result.diagnostics:
            diagnostic.path = entry.display
        results[entry.path] = result
    unreadable = [e for e in entries if e.text_hash is None]
    for entry, result in zip(todo + unreadable, project.check_in_process([e.display for e in todo + unreadable])):
        results[entry.path] = result
        if entry.text_hash is not None and not result.errors and project.facts.final:
            cache.put("result", entry.result_key, result)
    log.info("cache: %d hits, %d misses", cache.hits, cache.misses)
    return [results[e.path] for e in entries]


def _cold(project: Project, cache: Cache, entries: list[_Entry]) -> list[FileResult]:
    """Nothing cached: check everything (in workers), then store it all."""
    fresh = dict(zip([e.path for e in entries], check_files(project, [e.display for e in entries])))
    readable = [e for e in entries if e.text_hash is not None]
    declared = {d.path: d for d in project.index.modules.values()}
    facts_by_path = project.last_facts_by_path()
    for entry in readable:
        entry.decl = declared.get(entry.path)
        entry.facts = facts_by_path.get(entry.path)
    readable = [e for e in readable if e.decl is not None and e.facts is not None]
    _facts_keys(readable)
    reach = _reachable_facts_keys(readable)
    # Every summary is stored before any result key is computed: a result key
    # (loop-bound bindings) may refine summaries with jedi, and a warm run
    # computes its keys from the summaries as they were stored.  (Interleaved,
    # the first warm run after a cold one missed nearly every result.)
    for entry in readable:
        cache.put("decl", entry.decl_key, entry.decl)
        cache.put("facts", entry.facts_key, entry.facts)
    for entry in readable:
        result = fresh[entry.path]
        if not result.errors:  # files with errors are re-read and reported every time
            key = _digest(entry.facts_key, reach[entry.path], project.facts.result_key(entry.path))
            cache.put("result", key, result)
    return [fresh[e.path] for e in entries]


def _facts_keys(entries: list[_Entry]) -> None:
    """A summary depends on the file and on the declarations of what it imports.

    Declarations are compared without their line numbers: an edit that only
    moves code (or touches a comment) does not invalidate the importers.
    """
    by_name = {e.decl.name: e for e in entries}  # type: ignore[union-attr]
    for entry in entries:
        imported = sorted(
            _signature(by_name[m].decl) for m in entry.decl.imports if m in by_name  # type: ignore[union-attr]
        )
        entry.facts_key = _digest(entry.decl_key, imported)


def _signature(decl: ModuleDecl | None) -> str:
    assert decl is not None
    functions = sorted(
        (q, f.is_async, f.is_generator, f.is_property, f.returns, f.returns_awaitable, f.decorators, f.params)
        for q, f in decl.functions.items()
    )
    classes = sorted((q, c.bases, sorted(c.methods.items()), sorted(c.attributes.items())) for q, c in decl.classes.items())
    return _digest(decl.name, functions, classes, sorted(decl.globals.items()), sorted(decl.imports))


def _entry(project: Project, path: Path | str) -> _Entry:
    resolved = str(Path(path).resolve())
    entry = _Entry(resolved, str(path))
    override = project._overrides.get(resolved)
    try:
        data = override.encode("utf-8", "surrogatepass") if override is not None else Path(resolved).read_bytes()
    except OSError:
        return entry
    entry.text_hash = hashlib.blake2b(data, digest_size=16).hexdigest()
    return entry


def _reachable_facts_keys(entries: list[_Entry]) -> dict[str, str]:
    """Per file: a digest of the facts keys of every module its calls can reach."""
    module_of_function: dict[str, _Entry] = {}
    for entry in entries:
        for qualname in entry.facts.functions:  # type: ignore[union-attr]
            module_of_function[qualname] = entry
    by_name = {e.decl.name: e for e in entries}  # type: ignore[union-attr]
    fingerprints = {e.path: _digest(e.facts) for e in entries}
    keys: dict[str, str] = {}
    for entry in entries:
        seen = {entry.path: entry}
        stack = [entry]
        while stack:
            current = stack.pop()
            neighbours = [by_name[m] for m in current.decl.imports if m in by_name]  # type: ignore[union-attr]
            for function in current.facts.functions.values():  # type: ignore[union-attr]
                for call in function.calls:
                    owner = module_of_function.get(call.target)
                    if owner is not None:
                        neighbours.append(owner)
            for other in neighbours:
                if other.path not in seen:
                    seen[other.path] = other
                    stack.append(other)
        # The summaries' content (with positions: chains point into them), not their keys.
        keys[entry.path] = _digest(sorted(fingerprints[e.path] for e in seen.values()))
    return keys


# ---------------------------------------------------------------------------
# Worker processes
# ---------------------------------------------------------------------------


def worker_count(project: Project, files: int) -> int:
    jobs = project.jobs or (os.cpu_count() or 1)
    return max(1, min(jobs, files // MIN_FILES_PER_WORKER))


def check_files(project: Project, paths: list[Path | str]) -> list[FileResult]:
    """Check ``paths``, in worker processes when there are enough of them."""
    workers = worker_count(project, len(paths))
    if workers <= 1:
        return project.check_in_process(paths)
    shards: list[list[Path | str]] = [[] for _ in range(workers)]
    # Largest files first, each to the lightest shard: shards finish together.
    sizes = []
    for path in paths:
        try:
            sizes.append((os.path.getsize(path), str(path)))
        except OSError:
            sizes.append((0, str(path)))
    loads = [0] * workers
    for size, path in sorted(sizes, reverse=True):
        lightest = loads.index(min(loads))
        shards[lightest].append(path)
        loads[lightest] += size
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    settings = project.worker_settings()
    pipes, processes = [], []
    for shard, load in zip(shards, loads):
        parent, child = context.Pipe()
        stream = load > STREAM_SOURCE_BYTES
        process = context.Process(target=_worker, args=(child, settings, shard, stream), daemon=True)
        process.start()
        child.close()
        pipes.append(parent)
        processes.append(process)
    try:
        # What one worker found is what every worker needs for the next step: the
        # parent forwards the pickled parts as they came and unpickles its own copy
        # while the workers go on (pickling the merged list again held them up).
        declarations: list[ModuleDecl] = [d for part in _exchange(pipes) for d in _unpickle(part)]
        summaries: list[ModuleFacts] = [s for part in _exchange(pipes) for s in _unpickle(part)]
        by_path: dict[str, FileResult] = {}
        for pipe in pipes:
            for result in _receive(pipe):
                by_path[result.path] = result
        refined: list[FunctionFacts] = []
        for pipe in pipes:
            refined.extend(_receive(pipe))
        _merge_refined(summaries, refined)
        # The main process keeps the merged view (the cache stores it).
        for declaration in declarations:
            project.index.add(declaration)
        project.adopt_facts(summaries)
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    return [by_path[str(path)] for path in paths]


def _merge_refined(summaries: list[ModuleFacts], refined: list[FunctionFacts]) -> None:
    """Put the workers' jedi refinements (made while checking) into the merged summaries.

    The cache then stores refined summaries, and a warm run that needs them
    (loop-bound bindings in a result key) finds them done instead of loading
    modules and asking jedi again.
    """
    by_path = {facts.path: facts for facts in summaries}
    for function in sorted(refined, key=lambda f: (f.path, f.qualname)):
        module = by_path.get(function.path)
        if module is None:
            continue
        current = module.functions.get(function.qualname)
        if current is not None and not current.refined:
            module.functions[function.qualname] = function


def _receive(pipe) -> Any:
    message = pipe.recv()
    if isinstance(message, BaseException):
        raise message
    return message


def _exchange(pipes) -> list[bytes]:
    """Every worker's pickled list, sent on to every worker (``_gather`` there)."""
    parts = [pipe.recv_bytes() for pipe in pipes]
    for part in parts:
        if not part.startswith(_LIST_PREFIX):  # the worker failed: its exception
            raise _unpickle(part)
    for pipe in pipes:
        pipe.send(parts)
    return parts


def _gather(pipe) -> list:
    return [item for part in _receive(pipe) for item in _unpickle(part)]


def _send_list(pipe, items: list) -> None:
    pipe.send_bytes(_LIST_PREFIX + pickle.dumps(items, protocol=pickle.HIGHEST_PROTOCOL))


def _unpickle(part: bytes) -> Any:
    return pickle.loads(part[len(_LIST_PREFIX):] if part.startswith(_LIST_PREFIX) else part)


def _worker(pipe, settings: dict, shard: list[str], stream: bool) -> None:
    from .project import Project

    tune_collector()  # inherited through fork; not through spawn
    if not stream:
        # A shard this size makes little cyclic garbage (50-75 thousand objects
        # per worker on aiohttp and redis) and the process ends with the check;
        # collecting it took 0.2-0.4 s of a worker's CPU there (20-30 ms per
        # young-generation pass over jedi's fresh trees).  A streaming worker keeps collecting:
        # it lets go of every model it parses.  (A zero threshold, not
        # ``gc.disable()``: parso enables the collector after each cache load.)
        gc.set_threshold(0)
    try:
        project = Project(**settings)
        _send_list(pipe, project.load_shard(shard, stream))
        project.adopt_declarations(_gather(pipe))
        _send_list(pipe, project.summarise_shard())
        project.adopt_facts(_gather(pipe))
        pipe.send(project.check_shard())
        pipe.send([f for f in project.facts.functions.values() if f.refined and f.path in project.facts.modules])
    except BaseException as exc:  # noqa: BLE001 - reported in the parent
        try:
            pipe.send(RuntimeError(f"worker failed: {exc!r}"))
        except (OSError, ValueError):
            pass
    finally:
        pipe.close()

"""The analysis worker: one dedicated thread that owns the engine.

jedi is not thread-safe, so every engine call - and every ``Project``, one per
workspace root, kept warm for the life of the server - lives in this thread.
The event loop only sends it jobs and awaits their futures, so the server
keeps answering while an analysis runs.

Two ways to stop work that is no longer wanted:

* stale work (a newer version of the document arrived) stops cooperatively:
  the job calls ``checkpoint()`` between the engine's steps, which raises
  ``Superseded``; the engine's state stays consistent;
* a job that exceeds its time budget is interrupted: an exception is raised
  asynchronously in the worker thread (``PyThreadState_SetAsyncExc``, taken at
  the next bytecode), the engine state it may have left half-updated is thrown
  away (the next job starts a fresh ``Project``), and if the thread does not
  come back (stuck in C code) it is abandoned and a new worker takes over.
"""

from __future__ import annotations

import concurrent.futures
import ctypes
import dataclasses
import gc
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from lsprotocol import types

from ..analyzers.config import Config, ConfigError, apply_config, config_from_settings, find_config, load_config
from ..analyzers.diagnostics import Diagnostic
from ..analyzers.project import Project
from ..analyzers.suppression import filter_suppressed
from .convert import path_uri, to_lsp
from .positions import Segment, SourceMap

log = logging.getLogger(__name__)

# Settings whose change needs a new Project (they shape the catalog or jedi);
# the others only change which findings are reported and how.
_ENGINE_FIELDS = ("extra_blocking_calls", "allowed_calls", "python", "profiles", "target_version")

# Fault injection for the robustness tests (off unless this is set).
FAULTS_ENV = "ASYNCSENSE_SERVER_FAULTS"


class Superseded(Exception):
    """A newer version of the document arrived: this analysis was abandoned."""


class Interrupted(BaseException):
    """Raised asynchronously in the worker thread when a job exceeds its budget.

    A BaseException, so that the engine's and jedi's ``except Exception`` do not
    swallow it."""


class BudgetExceeded(Exception):
    """The job took longer than its time budget and was interrupted."""


# ---------------------------------------------------------------------------
# The thread


class _Job:
    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.future: concurrent.futures.Future[Any] = concurrent.futures.Future()


class WorkerThread:
    """A single thread running jobs one at a time, interruptible."""

    def __init__(self, name: str = "asyncsense-analysis") -> None:
        self._queue: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running: _Job | None = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future[Any]:
        job = _Job(fn, args)
        self._queue.put(job)
        return job.future

    def stop(self) -> None:
        self._queue.put(None)

    def interrupt(self, future: concurrent.futures.Future[Any]) -> bool:
        """Raise ``Interrupted`` in the thread if it is still running this job."""
        with self._lock:
            if self._running is None or self._running.future is not future or self._thread.ident is None:
                return False
            return _async_raise(self._thread.ident, Interrupted) == 1

    def _finish(self) -> None:
        with self._lock:
            self._running = None
            if self._thread.ident is not None:
                _async_raise(self._thread.ident, None)  # drop an interruption that came too late

    def _loop(self) -> None:
        while True:
            try:
                job = self._queue.get()
                if job is None:
                    return
                if not job.future.set_running_or_notify_cancel():
                    continue
                with self._lock:
                    self._running = job
                try:
                    result = job.fn(*job.args)
                except Interrupted:
                    self._finish()
                    job.future.set_exception(BudgetExceeded("interrupted"))
                except BaseException as exc:  # noqa: BLE001 - reported to the awaiting side
                    self._finish()
                    job.future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
                else:
                    self._finish()
                    job.future.set_result(result)
            except Interrupted:
                continue  # arrived between jobs
            except BaseException:  # noqa: BLE001 - the worker must survive anything
                log.exception("analysis worker: unexpected error")


def _async_raise(thread_id: int, exception: type[BaseException] | None) -> int:
    return ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception) if exception is not None else ctypes.c_void_p(0)
    )


# ---------------------------------------------------------------------------
# What the loop sends and gets back


@dataclass(frozen=True)
class Snapshot:
    """One version of an open document (or notebook), as the worker analyses it."""

    key: str  # the document's uri, or the notebook's
    path: str  # the file it stands for
    version: int
    text: str
    segments: tuple[Segment, ...]
    encoding: str
    notebook: bool = False


@dataclass
class Analysis:
    key: str
    path: str
    version: int
    smap: SourceMap
    diagnostics: list[Diagnostic]
    # (engine diagnostic, uri, LSP diagnostic), in order
    items: list[tuple[Diagnostic, str, types.Diagnostic]]
    dependents: set[str] = field(default_factory=set)
    seconds: float = 0.0
    partial: bool = False
    resolved: str | None = None  # `path` with symlinks resolved

    def for_uri(self, uri: str) -> list[types.Diagnostic]:
        return [lsp for _, item_uri, lsp in self.items if item_uri == uri]


@dataclass
class FileCheck:
    """A closed file checked by ``asyncsense.checkWorkspace``."""

    path: str
    diagnostics: list[types.Diagnostic]
    count: int
    error: str | None = None


# ---------------------------------------------------------------------------
# The engine state, used only from the worker thread


def _meaningful(settings: dict[str, Any] | None) -> dict[str, Any]:
    """Editor settings minus those at their empty defaults, which must not
    override the project's pyproject.toml (VS Code sends every key)."""
    if not isinstance(settings, dict):
        return {}
    kept: dict[str, Any] = {}
    for key, value in settings.items():
        if value is None or value == [] or value == {} or value == "":
            continue
        if key == "strictGather" and value is False:
            continue
        kept[key] = value
    return kept


class _Heap:
    """The cyclic garbage collector, tuned for a long-lived engine that allocates a lot.

    After the first analysis the heap holds some hundred thousand long-lived
    objects (jedi's state, the catalog, module models) and each edit allocates
    tens of thousands more, none of them in reference cycles (measured: a full
    collection after 20 edits finds nothing).  With the default thresholds a
    full collection - every object scanned, tens of milliseconds - ran every
    few edits and made the slowest edits twice as slow.  So: a larger first
    generation, and the heap as it is after the first analysis of a project
    frozen (``gc.freeze``: left out of collections; those objects are still
    freed by reference counting).  When projects are thrown away the heap is
    unfrozen again, so the cycles in their jedi state can be collected.
    """

    # Only in a server process of its own (``server.main`` turns it on): a test or a
    # program that runs the engine in its process keeps its own collector settings.
    enabled = False
    frozen = False
    tuned = False

    @classmethod
    def tune(cls) -> None:
        if cls.enabled and not cls.tuned:
            cls.tuned = True
            first, second, third = gc.get_threshold()
            if first and first < 20_000:
                gc.set_threshold(20_000, max(second, 20), max(third, 20))

    @classmethod
    def settle(cls) -> None:
        """After a cold analysis: collect the young generations (where the first analysis
        left its garbage: a full collection finds no more and takes three times as
        long, delaying the first diagnostics), then keep what survived out of later
        collections."""
        if cls.enabled and not cls.frozen and gc.isenabled():
            gc.collect(1)
            gc.freeze()
            cls.frozen = True

    @classmethod
    def release(cls) -> None:
        """Projects are being dropped: let the collector see every object again."""
        if cls.frozen:
            gc.unfreeze()
            cls.frozen = False


class Engine:
    def __init__(self, report: Callable[[str, types.MessageType], None]) -> None:
        self.report = report
        self.roots: list[str] = []
        self.global_settings: dict[str, Any] = {}
        self.root_settings: dict[str, dict[str, Any]] = {}
        self.projects: dict[str, Project] = {}
        self.configs: dict[str, Config] = {}
        self._root_of: dict[str, str] = {}
        self._config_errors: set[str] = set()
        _Heap.tune()
        _Heap.release()  # a new engine: the projects of an older one may be dropped
        self._settle = True  # after the next analysis, the heap is settled (_Heap)

    # -- settings and projects --------------------------------------------------
    def set_workspace(self, roots: Sequence[str], global_settings: dict | None, root_settings: dict[str, dict]) -> None:
        self.roots = sorted({str(Path(r).resolve()) for r in roots}, key=len, reverse=True)
        self.global_settings = dict(global_settings or {})
        self.root_settings = {str(Path(r).resolve()): dict(s) for r, s in root_settings.items()}
        self._root_of.clear()
        self.reload_configs()

    def reload_configs(self) -> None:
        """Settings or a pyproject.toml changed: recompute every config (lazily)."""
        self.configs.clear()
        self._config_errors.clear()

    def root_for(self, path: str) -> str:
        cached = self._root_of.get(path)
        if cached is not None:
            return cached
        resolved = Path(path).resolve()
        root = None
        for candidate in self.roots:
            if resolved == Path(candidate) or Path(candidate) in resolved.parents:
                root = candidate
                break
        if root is None:  # a file outside every workspace folder: its project's root
            found = find_config(resolved.parent)
            root = str(found.parent if found is not None else resolved.parent)
        self._root_of[path] = root
        return root

    def config_for(self, root: str) -> Config:
        config = self.configs.get(root)
        if config is not None:
            return config
        base = Config(root=Path(root))
        try:
            found = find_config(root)
            if found is not None:
                base = load_config(found)
        except ConfigError as exc:
            self._complain(f"asyncsense: {exc} (using the defaults)")
        settings = _meaningful(self.root_settings.get(root, self.global_settings))
        try:
            config = config_from_settings(settings, base=base)
        except ConfigError as exc:
            self._complain(f"asyncsense: editor {exc} (these settings are ignored)")
            config = base
        if config.root is None:
            config = dataclasses.replace(config, root=Path(root))
        self.configs[root] = config
        return config

    def _complain(self, message: str) -> None:
        if message not in self._config_errors:
            self._config_errors.add(message)
            self.report(message, types.MessageType.Error)

    def project_for(self, root: str) -> Project:
        config = self.config_for(root)
        project = self.projects.get(root)
        if project is not None and any(
            getattr(project.config, name) != getattr(config, name) for name in _ENGINE_FIELDS
        ):
            project = None
        if project is None:
            if root in self.projects:
                _Heap.release()  # the old project goes
            project = Project(root, config, python=config.python)
            self.projects[root] = project
            self._settle = True
        else:
            project.config = config
        return project

    def reset(self) -> None:
        """Throw away every Project (after an interrupted job left them inconsistent)."""
        self.projects.clear()
        _Heap.release()
        self._settle = True

    # -- open documents ---------------------------------------------------------
    def analyse(self, snap: Snapshot, is_stale: Callable[[], bool]) -> Analysis:
        started = time.perf_counter()

        def checkpoint() -> None:
            if is_stale():
                raise Superseded()

        if os.environ.get(FAULTS_ENV):
            _injected_faults(snap.text)
        checkpoint()
        root = self.root_for(snap.path)
        project = self.project_for(root)
        result = project.analyze_open_document(snap.path, snap.text, checkpoint=checkpoint)
        checkpoint()
        smap = SourceMap(snap.text, snap.segments, snap.encoding)
        diagnostics = self._postprocess(result.diagnostics, project.config, root, smap.lines)
        items = self._convert(diagnostics, smap, snap.path, project, snap.version)
        dependents = project.dependents_of(snap.path)
        if self._settle:
            self._settle = False
            _Heap.settle()
        return Analysis(
            snap.key,
            snap.path,
            snap.version,
            smap,
            diagnostics,
            items,
            dependents,
            time.perf_counter() - started,
            result.partial,
            str(Path(snap.path).resolve()),
        )

    def _postprocess(self, diagnostics: list[Diagnostic], config: Config, root: str, lines: Sequence[str]) -> list[Diagnostic]:
        kept = apply_config(diagnostics, config, root=Path(root))
        if not kept:
            return kept
        # Tokenizing for comments costs as much as a rule on a big file: only when
        # a directive can be there at all.
        if not any("noqa" in line.lower() or "asyncsense" in line.lower() for line in lines if "#" in line):
            return kept
        return filter_suppressed(kept, lines)

    def _convert(
        self, diagnostics: list[Diagnostic], smap: SourceMap, path: str, project: Project, version: int | None
    ) -> list[tuple[Diagnostic, str, types.Diagnostic]]:
        items = []
        for diagnostic in diagnostics:
            uri, lsp = to_lsp(diagnostic, smap, path, lambda p: _lines_of(project, p), version)
            items.append((diagnostic, uri, lsp))
        return items

    def close(self, path: str) -> set[str]:
        """An editor closed the buffer: the file on disk is the truth again."""
        return self.file_changed(path)

    def file_changed(self, path: str) -> set[str]:
        """A file changed outside the editor's buffers: forget it, return its dependents."""
        dependents: set[str] = set()
        for project in self.projects.values():
            found = project.dependents_of(path)
            dependents |= found
            project.drop_source(path)
            if found:
                # Load the new text now: the importers' next analysis would take the
                # module as known (by name) and not look at the disk again.
                try:
                    project.load(path)
                except (OSError, ValueError):
                    pass  # deleted or unreadable: its importers see it gone
        return dependents

    # -- the whole workspace ----------------------------------------------------
    def workspace_files(self) -> list[str]:
        from ..analyzers.discovery import discover

        files: list[str] = []
        for root in self.roots:
            config = self.config_for(root)
            found = discover([root], config, root=Path(root))
            files.extend(str(f) for f in found.files if f.suffix == ".py")
        return sorted(set(files))

    def check_file(self, path: str, encoding: str) -> FileCheck:
        root = self.root_for(path)
        project = self.project_for(root)
        results = project.check([path])
        result = results[0]
        if result.errors:
            return FileCheck(path, [], 0, "; ".join(result.errors))
        lines = _lines_of(project, path) or []
        text = "\n".join(lines)
        smap = SourceMap(text, [Segment(path_uri(path), 1, len(lines))], encoding)
        diagnostics = self._postprocess(result.diagnostics, project.config, root, lines)
        items = self._convert(diagnostics, smap, path, project, None)
        return FileCheck(path, [lsp for _, _, lsp in items], len(items))


def _lines_of(project: Project, path: str) -> list[str] | None:
    try:
        return project.load(path).model.lines
    except (OSError, ValueError):
        return None


def _injected_faults(text: str) -> None:
    """Test hooks: a document containing these markers makes its analysis fail."""
    if "asyncsense-fault: raise" in text:
        raise RuntimeError("injected fault: the analysis raised")
    if "asyncsense-fault: hang" in text:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:  # pure-Python wait: interruptible
            time.sleep(0.01)

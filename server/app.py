"""The asyncsense language server (pygls 2).

The event loop never analyses and never touches the disk: it keeps the open
documents (pygls' workspace applies the incremental changes), decides what
to analyse next, and hands snapshots to the worker thread (``worker.py``).

Scheduling
    Every open or change records the document's newest version and wakes the
    scheduler, which analyses one document at a time (jedi has one thread):
    documents the user just edited first, then background work (files that
    depend on a changed one, settings changes).  An analysis whose document
    got a newer version stops at its next checkpoint, or its result is
    dropped; diagnostics are only ever published for the current version, with
    that version.  There is no debounce: a stale analysis is cancelled instead.

Diagnostics: push or pull, one per client
    A client that can pull (``textDocument.diagnostic``) *and* can be asked to
    pull again when another file changed (``workspace.diagnostics.refreshSupport``)
    gets pull diagnostics: ``textDocument/diagnostic`` for open documents,
    ``workspace/diagnostic`` for the files ``asyncsense.checkWorkspace`` checked,
    ``workspace/diagnostic/refresh`` after cross-file changes.  Every other
    client gets ``textDocument/publishDiagnostics`` only.  Never both: a client
    shows pushed and pulled diagnostics side by side, so each would show twice.

Cross-file
    The engine knows which loaded modules import which.  When a module changes
    (an edit in its buffer, a close, a save, a watched-file event), the open
    documents that depend on it are analysed again, so a helper that starts
    blocking lights up its async callers.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import traceback
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from . import pygls_fixes
from .. import __version__
from ..analyzers.fixes import apply_fixes
from ..analyzers.suppression import suppression_text_edit
from .convert import diff_edits, fix_edits, path_uri, workspace_edit
from .positions import UTF8, UTF16, UTF32, Segment
from .protocol import WORK_DONE_TOKEN, AsyncsenseProtocol
from .worker import Analysis, BudgetExceeded, Engine, FileCheck, Snapshot, Superseded, WorkerThread

log = logging.getLogger("asyncsense.server")

FIX_ALL_KIND = "source.fixAll.asyncsense"
CHECK_WORKSPACE = "asyncsense.checkWorkspace"
DEFAULT_TIME_BUDGET = 30.0  # seconds for one analysis of one document
_GRACE = 3.0  # seconds an interrupted worker gets to come back before it is replaced
_SETTINGS_WAIT = 5.0  # seconds the first analysis waits for the client's settings


@dataclass
class OpenDocument:
    key: str  # the text document's uri, or the notebook's uri
    path: str
    notebook: bool = False
    resolved: str | None = None  # the path with symlinks resolved (by the worker: no I/O here)


class Session:
    """All the server's state; lives on the event loop."""

    def __init__(self, server: AsyncsenseServer) -> None:
        self.server = server
        self.pull = False
        self.encoding = UTF16
        self.capabilities = types.ClientCapabilities()
        self.time_budget = DEFAULT_TIME_BUDGET
        self.init_settings: dict[str, Any] = {}
        self.roots: list[str] = []
        self.documents: dict[str, OpenDocument] = {}
        self.versions: dict[str, int] = {}  # key -> newest version
        self.results: dict[str, Analysis] = {}  # key -> analysis of the newest version
        self.result_ids: dict[str, tuple[int, list]] = {}  # key -> (serial, content fingerprint)
        self.skipped: dict[str, int] = {}  # key -> version whose analysis failed or timed out
        self.published: dict[str, set[str]] = {}  # key -> uris we pushed diagnostics for
        self.closed_results: dict[str, tuple[str, list[types.Diagnostic]]] = {}  # uri -> (result id, items)
        self._urgent: dict[str, None] = {}
        self._background: dict[str, None] = {}
        self._wake: asyncio.Event | None = None
        self._changed: asyncio.Condition | None = None
        self._settings_ready: asyncio.Event | None = None
        self._scheduler: asyncio.Task[None] | None = None
        self._busy_key: str | None = None
        self._refresh_pending = False
        self._serial = 0
        self._settings_epoch = 0  # bumped by every settings change: older workspace-check results are stale
        self._workspace_news: asyncio.Event | None = None  # set (and replaced) when closed_results change
        self._recheck: asyncio.Task[None] | None = None
        self.stats: deque[float] = deque(maxlen=1000)  # recent analysis times; bounded: the server runs for days
        self.worker = WorkerThread()
        self.engine = Engine(self._report_from_worker)
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- logging ----------------------------------------------------------------
    def log(self, message: str, level: types.MessageType = types.MessageType.Info) -> None:
        {types.MessageType.Error: log.error, types.MessageType.Warning: log.warning}.get(level, log.info)(message)
        try:
            self.server.window_log_message(types.LogMessageParams(level, message))
        except Exception:  # noqa: BLE001 - no transport (yet): stderr has it
            pass

    def _report_from_worker(self, message: str, level: types.MessageType) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.log, message, level)

    # -- initialize ---------------------------------------------------------------
    def initialize(self, params: types.InitializeParams) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._changed = asyncio.Condition()
        self._settings_ready = asyncio.Event()
        self._workspace_news = asyncio.Event()
        self.capabilities = params.capabilities
        caps = params.capabilities
        can_pull = caps.text_document is not None and caps.text_document.diagnostic is not None
        can_refresh = bool(caps.workspace and caps.workspace.diagnostics and caps.workspace.diagnostics.refresh_support)
        self.pull = can_pull and can_refresh
        encoding = str(getattr(self.server.workspace.position_encoding, "value", self.server.workspace.position_encoding))
        self.encoding = encoding if encoding in (UTF8, UTF16, UTF32) else UTF16
        options = params.initialization_options if isinstance(params.initialization_options, dict) else {}
        settings = options.get("settings")
        self.init_settings = settings if isinstance(settings, dict) else {}
        budget = options.get("timeBudget")
        if isinstance(budget, (int, float)) and not isinstance(budget, bool) and budget > 0:
            self.time_budget = float(budget)
        roots = [to_fs_path(f.uri) for f in params.workspace_folders or []]
        if not roots and params.root_uri:
            roots = [to_fs_path(params.root_uri)]
        if not roots and params.root_path:
            roots = [params.root_path]
        self.roots = [r for r in roots if r]
        self._scheduler = asyncio.ensure_future(self._schedule())
        log.info("initialized: %s diagnostics, %s positions", "pull" if self.pull else "push", self.encoding)

    def adjust_capabilities(self, capabilities: types.ServerCapabilities) -> None:
        if not self.pull:
            capabilities.diagnostic_provider = None

    @property
    def supports_configuration(self) -> bool:
        return bool(self.capabilities.workspace and self.capabilities.workspace.configuration)

    @property
    def supports_progress(self) -> bool:
        return bool(self.capabilities.window and self.capabilities.window.work_done_progress)

    @property
    def document_changes(self) -> bool:
        workspace = self.capabilities.workspace
        return bool(workspace and workspace.workspace_edit and workspace.workspace_edit.document_changes)

    @property
    def resolves_edits(self) -> bool:
        action = self.capabilities.text_document and self.capabilities.text_document.code_action
        support = action.resolve_support if action else None
        return bool(support and "edit" in (support.properties or []))

    async def initialized(self) -> None:
        await self._register_watchers()
        await self.load_settings()

    async def _register_watchers(self) -> None:
        workspace = self.capabilities.workspace
        dynamic = workspace and workspace.did_change_watched_files and workspace.did_change_watched_files.dynamic_registration
        if not dynamic:
            return
        watchers = [types.FileSystemWatcher(glob_pattern=g) for g in ("**/*.py", "**/pyproject.toml")]
        try:
            await asyncio.wait_for(
                self.server.client_register_capability_async(
                    types.RegistrationParams(
                        [
                            types.Registration(
                                id=f"asyncsense-watch-{uuid.uuid4()}",
                                method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                                register_options=types.DidChangeWatchedFilesRegistrationOptions(watchers=watchers),
                            )
                        ]
                    )
                ),
                10,
            )
        except Exception as exc:  # noqa: BLE001 - watching is a nicety
            self.log(f"could not register file watchers: {exc}", types.MessageType.Warning)

    async def load_settings(self, pushed: Any = None) -> None:
        """Settings from workspace/configuration (when the client has it), else the
        pushed or initial ones; pyproject.toml is read by the worker."""
        self._settings_epoch += 1  # a check running now answers for the old settings
        global_settings: dict[str, Any] = dict(self.init_settings)
        root_settings: dict[str, dict[str, Any]] = {}
        if isinstance(pushed, dict):
            section = pushed.get("asyncsense", pushed)
            if isinstance(section, dict):
                global_settings = section
        if self.supports_configuration:
            items = [types.ConfigurationItem(section="asyncsense")]
            items += [types.ConfigurationItem(scope_uri=from_fs_path(r), section="asyncsense") for r in self.roots]
            try:
                answer = await asyncio.wait_for(
                    self.server.workspace_configuration_async(types.ConfigurationParams(items)), 10
                )
            except Exception as exc:  # noqa: BLE001 - a client that fails to answer keeps the defaults
                self.log(f"workspace/configuration failed: {exc}", types.MessageType.Warning)
                answer = None
            if answer:
                if isinstance(answer[0], dict):
                    global_settings = answer[0]
                for root, value in zip(self.roots, answer[1:]):
                    if isinstance(value, dict):
                        root_settings[root] = value
        await self.run(self.engine.set_workspace, self.roots, global_settings, root_settings)
        self._settings_epoch += 1
        first = self._settings_ready is not None and not self._settings_ready.is_set()
        if self._settings_ready is not None:
            self._settings_ready.set()
        if not first:
            self.queue_all()
            if self.closed_results:
                self._recheck_closed()

    # -- the worker -----------------------------------------------------------------
    async def run(self, fn: Callable[..., Any], *args: Any, budget: float | None = None) -> Any:
        """Run ``fn`` in the worker thread; interrupt it past ``budget`` seconds."""
        worker = self.worker
        future = worker.submit(fn, *args)
        waiting = asyncio.wrap_future(future)
        try:
            if budget is None:
                return await waiting
            return await asyncio.wait_for(asyncio.shield(waiting), budget)
        except asyncio.TimeoutError:
            worker.interrupt(future)
            try:
                await asyncio.wait_for(asyncio.shield(waiting), _GRACE)
            except BudgetExceeded:
                pass
            except asyncio.TimeoutError:
                # Stuck outside Python code: leave that thread behind, start afresh.
                self.log("the analysis worker did not stop; starting a new one", types.MessageType.Warning)
                worker.stop()
                self.worker = WorkerThread()
                self.engine = self._fresh_engine()
                raise BudgetExceeded("abandoned") from None
            except Exception:  # noqa: BLE001 - it finished with an error after all
                pass
            # The engine may have been interrupted mid-update: start from clean projects.
            await asyncio.wrap_future(self.worker.submit(self.engine.reset))
            raise BudgetExceeded("interrupted") from None

    def _fresh_engine(self) -> Engine:
        old = self.engine
        engine = Engine(self._report_from_worker)
        engine.roots, engine.global_settings, engine.root_settings = old.roots, old.global_settings, old.root_settings
        return engine

    # -- documents ----------------------------------------------------------------
    def open_text(self, uri: str, version: int) -> None:
        path = self._path_for(uri)
        self.documents[uri] = OpenDocument(uri, path)
        self.closed_results.pop(uri, None)
        self.touch(uri, version)

    def open_notebook(self, uri: str, version: int) -> None:
        path = self._path_for(uri)
        self.documents[uri] = OpenDocument(uri, path, notebook=True)
        self.touch(uri, version)

    def _path_for(self, uri: str) -> str:
        path = to_fs_path(uri)
        if path:
            return path
        # untitled buffers and other schemes: a name inside the first workspace folder
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in uri.rsplit("/", 1)[-1]) or "untitled"
        base = Path(self.roots[0]) if self.roots else Path.cwd()
        return str(base / ".asyncsense-untitled" / f"{name}.py")

    def touch(self, key: str, version: int | None) -> None:
        if version is None:
            version = self.versions.get(key, 0) + 1
        self.versions[key] = version
        self._background.pop(key, None)
        self._urgent.pop(key, None)
        self._urgent[key] = None  # the newest edit goes last and is taken first
        if self._wake is not None:
            self._wake.set()

    def queue_background(self, keys) -> None:
        for key in keys:
            if key in self.documents and key not in self._urgent:
                self._background[key] = None
        if self._wake is not None:
            self._wake.set()

    def queue_all(self) -> None:
        self.queue_background(list(self.documents))

    def close(self, key: str) -> None:
        document = self.documents.pop(key, None)
        self.versions.pop(key, None)
        self.results.pop(key, None)
        self.skipped.pop(key, None)
        self.result_ids.pop(key, None)
        self._urgent.pop(key, None)
        self._background.pop(key, None)
        if not self.pull:
            for uri in self.published.pop(key, set()):
                self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, []))
        if document is not None:
            asyncio.ensure_future(self._after_close(document.path))

    async def _after_close(self, path: str) -> None:
        try:
            dependents = await self.run(self.engine.close, path)
        except Exception as exc:  # noqa: BLE001
            self.log(f"closing {path}: {exc}", types.MessageType.Warning)
            return
        self.queue_background(self._keys_for_paths(dependents))

    def _keys_for_paths(self, paths: set[str]) -> list[str]:
        wanted = {os.path.normpath(p) for p in paths}
        return [
            key
            for key, doc in self.documents.items()
            if os.path.normpath(doc.path) in wanted or (doc.resolved is not None and doc.resolved in wanted)
        ]

    def key_for_uri(self, uri: str) -> str | None:
        if uri in self.documents:
            return uri
        try:
            notebook = self.server.workspace.get_notebook_document(cell_uri=uri)
        except Exception:  # noqa: BLE001
            notebook = None
        if notebook is not None and notebook.uri in self.documents:
            return notebook.uri
        return None

    def snapshot(self, key: str) -> Snapshot | None:
        document = self.documents.get(key)
        if document is None:
            return None
        workspace = self.server.workspace
        if not document.notebook:
            text_document = workspace.get_text_document(key)
            text = text_document.source
            version = self.versions[key]
            lines = text.count("\n") + text.count("\r") - text.count("\r\n") + 1
            segments = (Segment(key, 1, lines, version),)
            return Snapshot(key, document.path, version, text, segments, self.encoding)
        notebook = workspace.get_notebook_document(notebook_uri=key)
        if notebook is None:
            return None
        sources: list[tuple[int, str]] = []
        uris: list[tuple[str, int | None]] = []
        for number, cell in enumerate(notebook.cells, start=1):
            if cell.kind != types.NotebookCellKind.Code:
                continue
            # pygls keys documents by the unquoted uri; VS Code quotes cell fragments (`%3D`).
            cell_document = workspace.text_documents.get(unquote(cell.document))
            if cell_document is None or (cell_document.language_id or "python") != "python":
                continue
            sources.append((number, cell_document.source))
            uris.append((cell.document, cell_document.version))
        text, cells = _combine_cells(sources)
        segments = tuple(Segment(uri, first, count, version) for (uri, version), (first, count) in zip(uris, cells))
        if not segments:
            segments = (Segment(key, 1, 1, notebook.version),)
        return Snapshot(key, document.path, self.versions[key], text, segments, self.encoding, notebook=True)

    # -- the scheduler ------------------------------------------------------------
    async def _schedule(self) -> None:
        assert self._wake is not None and self._settings_ready is not None
        try:
            await asyncio.wait_for(self._settings_ready.wait(), _SETTINGS_WAIT)
        except asyncio.TimeoutError:
            self.log("no settings from the client yet; analysing with the defaults", types.MessageType.Warning)
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._urgent or self._background:
                queue = self._urgent if self._urgent else self._background
                key = next(reversed(queue))
                queue.pop(key)
                try:
                    await self._analyse(key)
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - the scheduler must survive anything
                    self.log(f"internal error while analysing {key}:\n{traceback.format_exc()}", types.MessageType.Error)
            if self._refresh_pending:
                self._refresh_pending = False
                self._request_refresh()

    async def _analyse(self, key: str) -> None:
        snap = self.snapshot(key)
        if snap is None:
            return
        versions = self.versions

        def is_stale() -> bool:  # read from the worker thread: a dict lookup is atomic
            return versions.get(key) != snap.version

        self._busy_key = key
        started = time.perf_counter()
        try:
            analysis: Analysis = await self.run(self.engine.analyse, snap, is_stale, budget=self.time_budget)
        except Superseded:
            return
        except BudgetExceeded:
            self._skip(
                snap,
                f"analysis of {snap.path} (version {snap.version}) took longer than {self.time_budget:g} s;"
                " skipped for this version",
            )
            return
        except Exception as exc:  # noqa: BLE001 - one document's failure must not stop the others
            detail = "".join(traceback.format_exception(exc)).rstrip()
            self._skip(snap, f"analysis of {snap.path} (version {snap.version}) failed; skipped:\n{detail}")
            return
        finally:
            self._busy_key = None
        if self.versions.get(key) != snap.version:
            return  # outdated while it ran: never published
        self.stats.append(time.perf_counter() - started)
        self.skipped.pop(key, None)
        document = self.documents.get(key)
        if document is not None:
            document.resolved = analysis.resolved
        changed = self._store(key, analysis)
        if self.pull:
            if changed and key not in self._urgent:
                self._refresh_pending = True
        else:
            self._publish(key, analysis)
        if analysis.dependents:
            self.queue_background(k for k in self._keys_for_paths(analysis.dependents) if k != key)

    def _skip(self, snap: Snapshot, message: str) -> None:
        self.skipped[snap.key] = snap.version
        self.log(message, types.MessageType.Error)
        if self._changed is not None:
            asyncio.ensure_future(self._notify())

    def _store(self, key: str, analysis: Analysis) -> bool:
        # What a client shows: the engine's findings stand for their LSP form (repr of those costs a millisecond).
        fingerprint = [(uri, d.span, d.code, d.message, d.severity) for d, uri, _ in analysis.items]
        previous = self.result_ids.get(key)
        changed = previous is None or previous[1] != fingerprint
        if changed:
            self._serial += 1
            self.result_ids[key] = (self._serial, fingerprint)
        self.results[key] = analysis
        asyncio.ensure_future(self._notify())
        return changed

    async def _notify(self) -> None:
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    def _publish(self, key: str, analysis: Analysis) -> None:
        sent: set[str] = set()
        for segment in analysis.smap.segments:
            self.server.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(segment.uri, analysis.for_uri(segment.uri), version=segment.version)
            )
            sent.add(segment.uri)
        for gone in self.published.get(key, set()) - sent:  # cells that were removed
            self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(gone, []))
        self.published[key] = sent

    def _request_refresh(self) -> None:
        try:
            self.server.workspace_diagnostic_refresh(None)
        except Exception as exc:  # noqa: BLE001
            self.log(f"workspace/diagnostic/refresh failed: {exc}", types.MessageType.Warning)

    def result_id(self, key: str, uri: str) -> str:
        serial = self.result_ids.get(key, (0, ""))[0]
        return f"{serial}:{uri}"

    async def current(self, key: str, timeout: float | None = None) -> Analysis | None:
        """The analysis of the document's newest version; waits for it (None: it
        failed or timed out, or the document was closed)."""
        assert self._changed is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            version = self.versions.get(key)
            if version is None:
                return None
            result = self.results.get(key)
            if result is not None and result.version == version:
                return result
            if self.skipped.get(key) == version:
                return None
            if key not in self._urgent and key not in self._background and self._busy_key != key:
                self._urgent[key] = None
                if self._wake is not None:
                    self._wake.set()
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            async with self._changed:
                try:
                    await asyncio.wait_for(self._changed.wait(), left if left is not None else 1.0)
                except asyncio.TimeoutError:
                    pass

    # -- files changed on disk ----------------------------------------------------
    async def files_changed(self, changes: list[types.FileEvent]) -> None:
        config_changed = False
        paths: list[str] = []
        created = False
        for change in changes:
            path = to_fs_path(change.uri)
            if not path:
                continue
            if Path(path).name == "pyproject.toml":
                config_changed = True
            elif path.endswith(".py") and not self._keys_for_paths({path}):
                paths.append(path)
                created = created or change.type == types.FileChangeType.Created
        if config_changed:
            await self.run(self.engine.reload_configs)
            self.queue_all()
        dependents: set[str] = set()
        for path in paths:
            dependents |= await self.run(self.engine.file_changed, path)
        if created:
            self.queue_all()  # a new module can resolve imports that failed before
        elif dependents:
            self.queue_background(self._keys_for_paths(dependents))

    # -- code actions ---------------------------------------------------------------
    async def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        key = self.key_for_uri(uri)
        if key is None:
            return None
        analysis = await self.current(key, timeout=self.time_budget)
        if analysis is None:
            return None
        only = params.context.only
        actions: list[types.CodeAction] = []
        if _wanted(only, types.CodeActionKind.QuickFix):
            actions += self._quick_fixes(analysis, uri, params)
        if _wanted(only, FIX_ALL_KIND) and any(d.fix is not None and d.fix.is_safe for d in analysis.diagnostics):
            action = types.CodeAction(
                title="asyncsense: fix all safe problems",
                kind=FIX_ALL_KIND,
                data={"key": key, "uri": uri, "version": analysis.version},
            )
            if not self.resolves_edits:
                action.edit = self._fix_all_edit(analysis, uri)
            actions.append(action)
        return actions

    def _quick_fixes(self, analysis: Analysis, uri: str, params: types.CodeActionParams) -> list[types.CodeAction]:
        smap = analysis.smap
        wanted = smap.range_to_engine(uri, params.range)
        asked = {(d.range.start.line, d.range.start.character, str(d.code), d.message) for d in params.context.diagnostics}
        versions = {s.uri: s.version for s in smap.segments}
        actions: list[types.CodeAction] = []
        ignored: set[tuple[str, int]] = set()
        for diagnostic, item_uri, lsp in analysis.items:
            if item_uri != uri:
                continue
            key = (lsp.range.start.line, lsp.range.start.character, str(lsp.code), lsp.message)
            overlaps = diagnostic.span.start <= wanted.end and wanted.start <= diagnostic.span.end
            if not overlaps and key not in asked:
                continue
            for index, fix in enumerate(diagnostic.fixes):
                edits = fix_edits(fix, smap)
                if not edits:
                    continue
                actions.append(
                    types.CodeAction(
                        title=fix.title,
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[lsp],
                        is_preferred=index == 0 and fix.is_safe,
                        edit=workspace_edit(edits, versions, self.document_changes),
                    )
                )
            line = diagnostic.span.start.line
            if (diagnostic.rule, line) in ignored:
                continue
            ignored.add((diagnostic.rule, line))
            edit = suppression_text_edit(smap.line_text(line), line, diagnostic.rule)
            converted = smap.edit_to_client(edit) if edit is not None else None
            if converted is not None:
                edit_uri, text_edit = converted
                actions.append(
                    types.CodeAction(
                        title=f"Ignore {diagnostic.rule} on this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[lsp],
                        edit=workspace_edit({edit_uri: [text_edit]}, versions, self.document_changes),
                    )
                )
        return actions

    def _fix_all_edit(self, analysis: Analysis, uri: str) -> types.WorkspaceEdit:
        smap = analysis.smap
        versions = {s.uri: s.version for s in smap.segments}
        fixes = [d.fix for d in analysis.diagnostics if d.fix is not None and d.fix.is_safe]
        if len(smap.segments) == 1:
            fixed = apply_fixes(smap.text, fixes).text
            return workspace_edit({uri: diff_edits(smap.text, fixed, smap, uri)}, versions, self.document_changes)
        # A notebook: each fix's edits go to their cells; overlapping fixes wait for the next round.
        edits: dict[str, list[types.TextEdit]] = {}
        taken: list[tuple[Any, Any]] = []
        seen: set[tuple[str, int, int, int, int, str]] = set()
        for fix in fixes:
            spans = [(e.span.start, e.span.end) for e in fix.edits]
            if any(a < d and c < b for a, b in spans for c, d in taken):
                continue
            converted = fix_edits(fix, smap)
            if converted is None:
                continue
            taken += spans
            for cell_uri, cell_edits in converted.items():
                for edit in cell_edits:
                    mark = (cell_uri, edit.range.start.line, edit.range.start.character, edit.range.end.line,
                            edit.range.end.character, edit.new_text)
                    if mark not in seen:
                        seen.add(mark)
                        edits.setdefault(cell_uri, []).append(edit)
        return workspace_edit(edits, versions, self.document_changes)

    async def resolve_code_action(self, action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        key, uri = data.get("key"), data.get("uri")
        if action.kind != FIX_ALL_KIND or not isinstance(key, str) or not isinstance(uri, str):
            return action
        analysis = await self.current(key, timeout=self.time_budget)
        if analysis is not None:
            action.edit = self._fix_all_edit(analysis, uri)
        return action

    # -- the whole workspace -------------------------------------------------------
    async def settings_ready(self) -> None:
        if self._settings_ready is not None and not self._settings_ready.is_set():
            try:
                await asyncio.wait_for(self._settings_ready.wait(), _SETTINGS_WAIT)
            except asyncio.TimeoutError:
                pass

    async def check_workspace(self) -> dict[str, Any]:
        token = WORK_DONE_TOKEN.get()
        protocol = self.server.protocol
        request_id = protocol.msg_id  # this executeCommand request's id (a context variable)

        def request_cancelled() -> bool:
            # $/cancelRequest: pygls cancels and forgets the request's future, but
            # the command's own task runs on; it stops here instead.
            future = protocol._request_futures.get(request_id) if request_id is not None else None
            return request_id is not None and (future is None or future.cancelled())

        await self.settings_ready()
        progress = self.server.work_done_progress
        if token is None and self.supports_progress:
            token = f"asyncsense-check-{uuid.uuid4()}"
            try:
                await asyncio.wait_for(progress.create_async(token), 10)
            except Exception:  # noqa: BLE001 - no progress then
                token = None
        files: list[str] = await self.run(self.engine.workspace_files)
        if token is not None:
            progress.begin(
                token,
                types.WorkDoneProgressBegin(
                    title="asyncsense: checking the workspace", cancellable=True, percentage=0,
                    message=f"{len(files)} files",
                ),
            )
        checked = problems = 0
        cancelled = False
        changed = False
        try:
            for index, path in enumerate(files):
                if request_cancelled() or (
                    token is not None and progress.tokens.get(token) is not None and progress.tokens[token].cancelled()
                ):
                    cancelled = True
                    break
                uri = path_uri(path)
                if self._keys_for_paths({path}):
                    key = self._keys_for_paths({path})[0]
                    open_result = self.results.get(key)
                    problems += len(open_result.items) if open_result else 0
                else:
                    checked_file = await self._check_closed(path)
                    if checked_file is None:
                        continue
                    problems += checked_file[0].count
                    changed = checked_file[1] or changed
                checked += 1
                if token is not None:
                    progress.report(
                        token,
                        types.WorkDoneProgressReport(
                            message=f"{index + 1}/{len(files)} {Path(path).name}",
                            percentage=int(100 * (index + 1) / max(len(files), 1)),
                        ),
                    )
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            if token is not None:
                summary = f"{checked} files, {problems} problems" + (" (cancelled)" if cancelled else "")
                progress.end(token, types.WorkDoneProgressEnd(message=summary))
            if self.pull and changed:
                self._request_refresh()
        return {"files": checked, "problems": problems, "cancelled": cancelled}

    async def _check_closed(self, path: str) -> tuple[FileCheck, bool] | None:
        """Check a closed file, keep (and push) its diagnostics: (the check, whether
        they changed); None: it failed.

        A result computed under settings that changed while it ran is stale: it
        is dropped and the file checked again with the new ones."""
        for _ in range(3):
            epoch = self._settings_epoch
            try:
                result: FileCheck = await self.run(self.engine.check_file, path, self.encoding, budget=self.time_budget)
            except BudgetExceeded:
                self.log(f"checking {path} took longer than {self.time_budget:g} s; skipped", types.MessageType.Error)
                return None
            except Exception as exc:  # noqa: BLE001
                self.log(f"checking {path} failed: {exc}", types.MessageType.Error)
                return None
            if epoch == self._settings_epoch:
                break
        else:
            return None  # the settings keep changing: the last change rechecks it
        if result.error:
            self.log(f"{path}: {result.error}", types.MessageType.Warning)
        changed = False
        if not self._keys_for_paths({path}):  # still closed
            changed = self._keep_closed(path_uri(path), result.diagnostics)
        return result, changed

    def _keep_closed(self, uri: str, diagnostics: list[types.Diagnostic]) -> bool:
        """Store a closed file's diagnostics (push them too); True when they changed."""
        previous = self.closed_results.get(uri)
        if not self.pull:
            self.server.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri, diagnostics))
        if previous is not None and previous[1] == diagnostics:
            return False
        self._serial += 1
        self.closed_results[uri] = (f"w{self._serial}", diagnostics)
        self._workspace_changed()
        return True

    def _workspace_changed(self) -> None:
        # Wakes the held workspace/diagnostic requests; the next ones wait on a fresh event.
        if self._workspace_news is not None:
            self._workspace_news.set()
            self._workspace_news = asyncio.Event()

    def _recheck_closed(self) -> None:
        """The settings changed: what the workspace check found is stale; check those files again."""
        if self._recheck is not None:
            self._recheck.cancel()
        self._recheck = asyncio.ensure_future(self._recheck_files(sorted(self.closed_results)))

    async def _recheck_files(self, uris: list[str]) -> None:
        changed = False
        for uri in uris:
            path = to_fs_path(uri)
            if not path or self.key_for_uri(uri) is not None or uri not in self.closed_results:
                continue
            checked_file = await self._check_closed(path)
            if checked_file is None and uri in self.closed_results:
                changed = self._keep_closed(uri, []) or changed  # stale: shown no more
            elif checked_file is not None:
                changed = checked_file[1] or changed
        if self.pull and changed:
            self._request_refresh()

    async def workspace_report(self, params: types.WorkspaceDiagnosticParams) -> types.WorkspaceDiagnosticReport:
        """The closed files' diagnostics (from asyncsense.checkWorkspace).

        A client that asks for partial results (VS Code) streams: when it already
        has every report, the request is held open until one changes, instead of
        being answered at once and polled again every 2 seconds.  It ends with
        the client's $/cancelRequest or shutdown.  Other clients get the answer
        at once."""
        previous = {p.uri: p.value for p in params.previous_result_ids or []}
        hold = params.partial_result_token is not None
        while True:
            news = self._workspace_news
            items: list[Any] = []
            for uri, (result_id, diagnostics) in self.closed_results.items():
                if self.key_for_uri(uri) is not None:
                    continue
                if previous.get(uri) == result_id:
                    items.append(types.WorkspaceUnchangedDocumentDiagnosticReport(uri=uri, result_id=result_id, version=None))
                else:
                    items.append(
                        types.WorkspaceFullDocumentDiagnosticReport(uri=uri, items=diagnostics, version=None, result_id=result_id)
                    )
            fresh = any(isinstance(item, types.WorkspaceFullDocumentDiagnosticReport) for item in items)
            if fresh or not hold or news is None:
                return types.WorkspaceDiagnosticReport(items=items)
            await news.wait()

    async def document_report(self, params: types.DocumentDiagnosticParams) -> Any:
        uri = params.text_document.uri
        key = self.key_for_uri(uri)
        if key is None:
            closed = self.closed_results.get(uri)
            if closed is not None:
                return types.RelatedFullDocumentDiagnosticReport(items=closed[1], result_id=closed[0])
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        analysis = await self.current(key)
        if analysis is None:
            if params.previous_result_id:
                return types.RelatedUnchangedDocumentDiagnosticReport(result_id=params.previous_result_id)
            return types.RelatedFullDocumentDiagnosticReport(items=[])
        result_id = self.result_id(key, uri)
        if params.previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=analysis.for_uri(uri), result_id=result_id)

    def shutdown(self) -> None:
        if self._scheduler is not None:
            self._scheduler.cancel()
        if self._recheck is not None:
            self._recheck.cancel()
        self.worker.stop()


def _wanted(only: list[str] | None, kind: str) -> bool:
    if not only:
        return True
    return any(kind == k or kind.startswith(f"{k}.") for k in only)


def _combine_cells(sources: list[tuple[int, str]]) -> tuple[str, list[tuple[int, int]]]:
    """The cells as one module: (text, [(first line, line count) per cell])."""
    try:
        from ..analyzers.notebooks import from_cells
    except ImportError:  # pragma: no cover - the notebook module is part of the engine
        from_cells = None
    if from_cells is not None:
        combined = from_cells(sources)
        return combined.text, [(cell.first_line, cell.line_count) for cell in combined.cells]
    lines: list[str] = []
    cells = []
    for _, source in sources:
        cell_lines = source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        cells.append((len(lines) + 1, len(cell_lines)))
        lines.extend(cell_lines)
    return "\n".join(lines) + "\n", cells


class AsyncsenseServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "asyncsense",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                # any notebook type ("*"), its Python cells
                notebook_selector=[
                    types.NotebookDocumentFilterWithNotebook(notebook="*", cells=[types.NotebookCellLanguage("python")])
                ],
                save=True,
            ),
            protocol_cls=AsyncsenseProtocol,
            max_workers=2,
        )
        self.session = Session(self)

    def report_server_error(self, error: Exception, source) -> None:
        """Errors outside a request (bad JSON, a failing notification handler): logged,
        answered when the message had no readable id, never fatal."""
        if isinstance(error, (ValueError, TypeError, AttributeError)) and source.__name__ == "JsonRpcException":
            try:
                self.protocol.send_parse_error(error)  # type: ignore[attr-defined]
            except Exception:  # noqa: BLE001
                pass
        message = f"{getattr(source, '__name__', source)}: {error}"
        if source.__name__ == "FeatureRequestError":
            log.debug(message)  # already answered as an error response
            return
        self.session.log(message, types.MessageType.Error)


def create_server() -> AsyncsenseServer:
    pygls_fixes.install()
    server = AsyncsenseServer()
    session = server.session

    @server.feature(types.INITIALIZE)
    def on_initialize(ls: AsyncsenseServer, params: types.InitializeParams) -> None:
        session.initialize(params)

    @server.feature(types.INITIALIZED)
    async def on_initialized(ls: AsyncsenseServer, params: types.InitializedParams) -> None:
        await session.initialized()

    @server.feature(types.SHUTDOWN)
    def on_shutdown(ls: AsyncsenseServer, params: None) -> None:
        session.shutdown()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: AsyncsenseServer, params: types.DidOpenTextDocumentParams) -> None:
        session.open_text(params.text_document.uri, params.text_document.version)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AsyncsenseServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if uri in session.documents:
            session.touch(uri, params.text_document.version)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: AsyncsenseServer, params: types.DidSaveTextDocumentParams) -> None:
        # The buffer was analysed already; its dependents may have been waiting for a
        # quiet moment (background work), nothing more to do.
        pass

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AsyncsenseServer, params: types.DidCloseTextDocumentParams) -> None:
        session.close(params.text_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_open(ls: AsyncsenseServer, params: types.DidOpenNotebookDocumentParams) -> None:
        session.open_notebook(params.notebook_document.uri, params.notebook_document.version)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_change(ls: AsyncsenseServer, params: types.DidChangeNotebookDocumentParams) -> None:
        uri = params.notebook_document.uri
        if uri in session.documents:
            session.touch(uri, params.notebook_document.version)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_save(ls: AsyncsenseServer, params: types.DidSaveNotebookDocumentParams) -> None:
        pass

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_close(ls: AsyncsenseServer, params: types.DidCloseNotebookDocumentParams) -> None:
        session.close(params.notebook_document.uri)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(ls: AsyncsenseServer, params: types.DidChangeConfigurationParams) -> None:
        await session.load_settings(params.settings)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    async def did_change_watched_files(ls: AsyncsenseServer, params: types.DidChangeWatchedFilesParams) -> None:
        await session.files_changed(list(params.changes))

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    async def did_change_folders(ls: AsyncsenseServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        session.roots = [to_fs_path(uri) or uri for uri in ls.workspace.folders]
        await session.load_settings()

    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier="asyncsense", inter_file_dependencies=True, workspace_diagnostics=True),
    )
    async def document_diagnostic(ls: AsyncsenseServer, params: types.DocumentDiagnosticParams):
        return await session.document_report(params)

    @server.feature(types.WORKSPACE_DIAGNOSTIC)
    async def workspace_diagnostic(ls: AsyncsenseServer, params: types.WorkspaceDiagnosticParams):
        return await session.workspace_report(params)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL_KIND], resolve_provider=True
        ),
    )
    async def code_action(ls: AsyncsenseServer, params: types.CodeActionParams):
        return await session.code_actions(params)

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: AsyncsenseServer, params: types.CodeAction):
        return await session.resolve_code_action(params)

    @server.command(CHECK_WORKSPACE)
    async def check_workspace(ls: AsyncsenseServer, *args: Any):
        return await session.check_workspace()

    return server


__all__ = ["AsyncsenseServer", "Session", "create_server"]

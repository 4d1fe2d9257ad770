"""End-to-end fixtures: `asyncsense server` as a subprocess, driven by pytest-lsp.

Every client profile is a set of real client capabilities (pytest-lsp's
captured presets), adjusted only where the real client differs from the
preset:

* ``vscode``: VS Code as the extension runs it (vscode-languageclient 9 adds
  pull diagnostics with refresh support and notebook sync to the 1.65 preset):
  pull diagnostics, UTF-16 columns;
* ``neovim``: Neovim 0.11 with docs/neovim.md's configuration, which adds the
  ``workspace/diagnostic/refresh`` handler Neovim only ships from 0.12:
  pull diagnostics, UTF-8 columns;
* ``neovim-plain``: Neovim 0.11 without it: push diagnostics, UTF-8;
* ``neovim-0.7``: push diagnostics, UTF-16.

``Client`` wraps the pytest-lsp client with what the tests need: the
diagnostics of a document whichever way they arrive, edits, code actions.
"""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from lsprotocol.converters import get_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

SERVER = [sys.executable, "-m", "asyncsense", "server"]
TIMEOUT = 60.0
_converter = get_converter()


def _caps(preset: str, **patches: Any) -> types.ClientCapabilities:
    data = _converter.unstructure(client_capabilities(preset))
    for path, value in patches.items():
        node = data
        *parents, last = path.split("__")
        for name in parents:
            node = node.setdefault(name, {})
        node[last] = value
    return _converter.structure(data, types.ClientCapabilities)


@dataclass(frozen=True)
class Profile:
    name: str
    preset: str
    patches: dict[str, Any]
    pull: bool
    encoding: str

    def capabilities(self) -> types.ClientCapabilities:
        return _caps(self.preset, **self.patches)


PROFILES = {
    "vscode": Profile(
        "vscode",
        "visual-studio-code",
        {
            "textDocument__diagnostic": {"dynamicRegistration": True, "relatedDocumentSupport": False},
            "workspace__diagnostics": {"refreshSupport": True},
            "notebookDocument": {"synchronization": {"dynamicRegistration": True, "executionSummarySupport": True}},
        },
        pull=True,
        encoding="utf-16",
    ),
    "neovim": Profile(
        "neovim", "neovim@0.11.0", {"workspace__diagnostics": {"refreshSupport": True}}, pull=True, encoding="utf-8"
    ),
    "neovim-plain": Profile("neovim-plain", "neovim@0.11.0", {}, pull=False, encoding="utf-8"),
    "neovim-0.7": Profile("neovim-0.7", "neovim@0.7.0", {}, pull=False, encoding="utf-16"),
}


@dataclass
class Published:
    uri: str
    version: int | None
    diagnostics: list[types.Diagnostic]
    at: float


class RecordingClient(LanguageClient):
    """pytest-lsp's client, also keeping every publishDiagnostics with its version."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.published: list[Published] = []
        self.refresh_requests = 0
        self.registrations: list[types.Registration] = []


def make_client() -> RecordingClient:
    from pygls.protocol import default_converter

    client = RecordingClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    features.pop(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    features.pop(types.WORKSPACE_DIAGNOSTIC_REFRESH)
    register_lsp_features(client, features)

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(ls: RecordingClient, params: types.PublishDiagnosticsParams) -> None:
        ls.diagnostics[params.uri] = params.diagnostics
        ls.published.append(Published(params.uri, params.version, list(params.diagnostics), time.monotonic()))

    @client.feature(types.WORKSPACE_DIAGNOSTIC_REFRESH)
    def on_refresh(ls: RecordingClient, params: None) -> None:
        ls.refresh_requests += 1
        ls.diagnostic_refresh_count += 1

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def on_register(ls: RecordingClient, params: types.RegistrationParams) -> None:
        ls.registrations.extend(params.registrations)

    return client


def server_config(env: dict[str, str] | None = None) -> ClientServerConfig:
    import os

    return ClientServerConfig(server_command=SERVER, client_factory=make_client, server_env={**os.environ, **(env or {})})


def write(root: Path, files: dict[str, str]) -> dict[str, Path]:
    paths = {}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        paths[name] = path
    return paths


@dataclass
class Client:
    """A session with one server: open documents, edit them, read what the server says."""

    lsp: RecordingClient
    profile: Profile
    root: Path
    init: types.InitializeResult
    texts: dict[str, str] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)

    @property
    def pull(self) -> bool:
        return self.init.capabilities.diagnostic_provider is not None

    # -- documents -----------------------------------------------------------
    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.resolve().as_uri()
        text = path.read_text(encoding="utf-8") if text is None else textwrap.dedent(text).lstrip("\n")
        self.texts[uri] = text
        self.versions[uri] = 1
        self.lsp.text_document_did_open(
            types.DidOpenTextDocumentParams(types.TextDocumentItem(uri, "python", 1, text))
        )
        return uri

    def close(self, uri: str) -> None:
        self.lsp.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))

    def edit(self, uri: str, edits: list[types.TextEdit]) -> int:
        """Send `edits` as one incremental didChange (ranges in the client's units)."""
        text = self.texts[uri]
        changes = []
        for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
            text = apply_edit(text, edit, self.profile.encoding)
            changes.append(types.TextDocumentContentChangePartial(range=edit.range, text=edit.new_text))
        self.texts[uri] = text
        self.versions[uri] += 1
        self.lsp.text_document_did_change(
            types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=self.versions[uri]), changes
            )
        )
        return self.versions[uri]

    def replace_line(self, uri: str, line: int, new_text: str) -> int:
        old = self.texts[uri].split("\n")[line]
        end = types.Position(line, units(old, len(old), self.profile.encoding))
        return self.edit(uri, [types.TextEdit(types.Range(types.Position(line, 0), end), new_text)])

    def change_settings(self, settings: dict[str, Any]) -> None:
        """What an editor does when the user edits the settings: the new values are in
        workspace/configuration's answers, and didChangeConfiguration carries them too."""
        self.lsp.set_configuration(settings, section="asyncsense")
        self.lsp.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings={"asyncsense": settings})
        )

    # -- diagnostics -------------------------------------------------------------
    async def diagnostics(
        self,
        uri: str,
        until: Callable[[list[types.Diagnostic]], bool] = lambda d: True,
        timeout: float = TIMEOUT,
    ) -> list[types.Diagnostic]:
        """The document's diagnostics for its current version, once `until` holds."""
        deadline = time.monotonic() + timeout
        version = self.versions.get(uri)
        last: list[types.Diagnostic] | None = None
        while time.monotonic() < deadline:
            if self.pull:
                report = await asyncio.wait_for(
                    self.lsp.text_document_diagnostic_async(
                        types.DocumentDiagnosticParams(types.TextDocumentIdentifier(uri))
                    ),
                    max(deadline - time.monotonic(), 1),
                )
                last = list(getattr(report, "items", None) or [])
                if until(last):
                    return last
                await asyncio.sleep(0.1)
            else:
                for published in reversed(self.lsp.published):
                    if published.uri == uri:
                        if version is None or published.version in (version, None):
                            last = published.diagnostics
                        break
                if last is not None and until(last):
                    return last
                await asyncio.sleep(0.05)
        raise AssertionError(f"diagnostics of {uri} (version {version}) never satisfied the test; last: {last}")

    async def code_actions(
        self, uri: str, diagnostic: types.Diagnostic | None = None, only: list[str] | None = None, whole: bool = False
    ) -> list[types.CodeAction]:
        if whole or diagnostic is None:
            code_range = types.Range(types.Position(0, 0), types.Position(0, 0))
        else:
            code_range = diagnostic.range
        actions = await self.lsp.text_document_code_action_async(
            types.CodeActionParams(
                types.TextDocumentIdentifier(uri),
                code_range,
                types.CodeActionContext(diagnostics=[diagnostic] if diagnostic else [], only=only),
            )
        )
        return [a for a in actions or [] if isinstance(a, types.CodeAction)]

    async def resolved(self, action: types.CodeAction) -> types.CodeAction:
        if action.edit is None and action.data is not None:
            action = await self.lsp.code_action_resolve_async(action)
        return action

    def apply(self, edit: types.WorkspaceEdit) -> dict[str, str]:
        """Apply a workspace edit to our copies of the documents (not sent yet)."""
        result: dict[str, str] = {}
        for uri, edits in edits_by_uri(edit).items():
            text = self.texts[uri]
            for one in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
                text = apply_edit(text, one, self.profile.encoding)
            result[uri] = text
        return result


def edits_by_uri(edit: types.WorkspaceEdit) -> dict[str, list[types.TextEdit]]:
    found: dict[str, list[types.TextEdit]] = {}
    for uri, edits in (edit.changes or {}).items():
        found.setdefault(uri, []).extend(edits)
    for change in edit.document_changes or []:
        if isinstance(change, types.TextDocumentEdit):
            found.setdefault(change.text_document.uri, []).extend(change.edits)
    return found


def units(line: str, chars: int, encoding: str) -> int:
    prefix = line[:chars]
    if encoding == "utf-8":
        return len(prefix.encode("utf-8"))
    if encoding == "utf-16":
        return len(prefix.encode("utf-16-le")) // 2
    return len(prefix)


def chars(line: str, count: int, encoding: str) -> int:
    """Client units -> characters."""
    for index in range(len(line) + 1):
        if units(line, index, encoding) >= count:
            return index
    return len(line)


def offset(text: str, position: types.Position, encoding: str) -> int:
    lines = text.split("\n")
    start = sum(len(line) + 1 for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    return start + chars(line, position.character, encoding)


def apply_edit(text: str, edit: types.TextEdit, encoding: str) -> str:
    start = offset(text, edit.range.start, encoding)
    end = offset(text, edit.range.end, encoding)
    return text[:start] + edit.new_text + text[end:]


async def start(
    lsp: RecordingClient, profile: Profile, root: Path, settings: dict | None = None, options: dict | None = None
) -> Client:
    init = await lsp.initialize_session(
        types.InitializeParams(
            capabilities=profile.capabilities(),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)],
            initialization_options={"settings": settings or {}, **(options or {})},
        )
    )
    return Client(lsp, profile, root, init)


def session_fixture(
    files: dict[str, str] | None = None,
    settings: dict | None = None,
    options: dict | None = None,
    env: dict[str, str] | None = None,
    profiles: list[str] | None = None,
    scope: str = "module",
):
    """A pytest-lsp fixture: a server per `scope` and profile, its workspace holding `files`."""

    @pytest_lsp.fixture(config=server_config(env), params=profiles or list(PROFILES), scope=scope)
    async def fixture(request, lsp_client: RecordingClient, tmp_path_factory: pytest.TempPathFactory):
        root = tmp_path_factory.mktemp(request.param)
        write(root, files or {})
        lsp_client.session = await start(lsp_client, PROFILES[request.param], root, settings, options)
        yield
        await lsp_client.shutdown_session()

    return fixture


@pytest_lsp.fixture(config=server_config(), params=list(PROFILES), scope="module")
async def lsp(request, lsp_client: RecordingClient, tmp_path_factory: pytest.TempPathFactory):
    """A server per test module and client profile (tests use files of their own),
    initialized with that profile's capabilities."""
    root = tmp_path_factory.mktemp(request.param)
    lsp_client.session = await start(lsp_client, PROFILES[request.param], root)
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def client(lsp: RecordingClient) -> Client:
    return lsp.session

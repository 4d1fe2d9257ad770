"""workspace/diagnostic without a busy poll, and workspace-check results that follow the settings.

* A client that asks for partial results (VS Code) and already has every
  report gets no answer until one changes: the request is held, answered
  when a check finds something new, and ends on $/cancelRequest.  Before,
  it was answered at once and VS Code asked again every 2 seconds.  Clients
  that do not stream (Neovim, pytest-lsp by default) are answered at once.
* What asyncsense.checkWorkspace found under settings that changed since is
  stale: a check running during the change drops what it computed with the
  old settings, and the files checked before are checked again.
"""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from .conftest import Client, RecordingClient, session_fixture

pytestmark = pytest.mark.asyncio(loop_scope="module")

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"

lsp = session_fixture(files={"a.py": BLOCKING, "b.py": CLEAN})
# Only clients that pull have workspace/diagnostic: VS Code (streams) and Neovim (does not).
pull_lsp = session_fixture(files={"a.py": BLOCKING, "b.py": CLEAN}, profiles=["vscode", "neovim"])


@pytest.fixture
def client(lsp: RecordingClient) -> Client:
    return lsp.session


@pytest.fixture
def pull_client(pull_lsp: RecordingClient) -> Client:
    return pull_lsp.session


async def check(client: Client, token: str | None = None) -> dict:
    if token is not None:
        client.lsp.progress_reports[token] = []
    return await asyncio.wait_for(
        client.lsp.workspace_execute_command_async(
            types.ExecuteCommandParams(command="asyncsense.checkWorkspace", arguments=[], work_done_token=token)
        ),
        180,
    )


def workspace_pull(client: Client, previous: dict[str, str], token: str | None = None, msg_id: str | None = None):
    params = types.WorkspaceDiagnosticParams(
        previous_result_ids=[types.PreviousResultId(uri, value) for uri, value in previous.items()],
        partial_result_token=token,
    )
    return asyncio.ensure_future(
        client.lsp.protocol.send_request_async(types.WORKSPACE_DIAGNOSTIC, params, msg_id=msg_id)
    )


async def closed_codes(client: Client, uri: str) -> list[str]:
    """The codes the client shows for a closed file after a workspace check."""
    if client.pull:
        report = await workspace_pull(client, {})
        items = [item for item in report.items if item.uri == uri]
        return [str(d.code) for d in items[0].items] if items else []
    published = [p for p in client.lsp.published if p.uri == uri]
    return [str(d.code) for d in published[-1].diagnostics] if published else []


def rewrite(client: Client, name: str, text: str) -> None:
    """Change a file on disk, and tell the server as an editor's file watcher does."""
    path = client.root / name
    path.write_text(text)
    client.lsp.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams([types.FileEvent(path.resolve().as_uri(), types.FileChangeType.Changed)])
    )


async def eventually(probe, expected, timeout: float = 60):
    got = None
    for _ in range(int(timeout / 0.1)):
        got = await probe()
        if got == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"expected {expected}, last got {got}")


async def test_workspace_pull_is_held_until_something_changes(pull_client: Client):
    client = pull_client
    assert client.pull
    rewrite(client, "b.py", CLEAN)
    await check(client)
    first = await workspace_pull(client, {}, token="first")  # nothing known yet: answered at once
    ids = {item.uri: item.result_id for item in first.items}
    a_uri, b_uri = (client.root / "a.py").resolve().as_uri(), (client.root / "b.py").resolve().as_uri()
    assert {a_uri, b_uri} <= set(ids)

    held = workspace_pull(client, ids, token="held")
    await asyncio.sleep(2.5)  # longer than VS Code's 2 s between polls
    assert not held.done(), f"answered although nothing changed: {held.result() if held.done() else None}"

    # A client that does not stream gets its (unchanged) answer at once.
    plain = await asyncio.wait_for(workspace_pull(client, ids), 10)
    assert {item.kind for item in plain.items} == {"unchanged"}

    rewrite(client, "b.py", BLOCKING)
    await check(client)
    report = await asyncio.wait_for(held, 30)
    by_uri = {item.uri: item for item in report.items}
    assert by_uri[b_uri].kind == "full" and [str(d.code) for d in by_uri[b_uri].items] == ["blocking-call"]
    assert by_uri[a_uri].kind == "unchanged"

    # $/cancelRequest ends a held request (VS Code cancels it on refresh and on close).
    ids = {item.uri: item.result_id for item in report.items}
    cancelled = workspace_pull(client, ids, token="cancelled", msg_id="held-then-cancelled")
    await asyncio.sleep(0.5)
    assert not cancelled.done()
    client.lsp.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="held-then-cancelled"))
    with pytest.raises(Exception) as raised:
        await asyncio.wait_for(cancelled, 10)
    assert not isinstance(raised.value, asyncio.TimeoutError), "the cancelled request was never answered"
    rewrite(client, "b.py", CLEAN)


async def test_settings_change_drops_stale_workspace_results(client: Client):
    a_uri = (client.root / "a.py").resolve().as_uri()
    rewrite(client, "a.py", BLOCKING)
    await check(client)
    assert await closed_codes(client, a_uri) == ["blocking-call"]
    # Ignored now: what the check found before is stale; the file is checked again.
    client.change_settings({"ignore": ["blocking-call"]})
    await eventually(lambda: closed_codes(client, a_uri), [])
    client.change_settings({})
    await eventually(lambda: closed_codes(client, a_uri), ["blocking-call"])


async def test_settings_change_during_a_check(client: Client):
    for i in range(150):
        path = client.root / "many" / f"m{i:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BLOCKING.replace("handler", f"handler_{i}"))
    running = asyncio.ensure_future(check(client, "during"))
    for _ in range(600):  # some files checked with the old settings, the others not yet
        if sum(isinstance(r, types.WorkDoneProgressReport) for r in client.lsp.progress_reports.get("during", [])) >= 10:
            break
        await asyncio.sleep(0.05)
    assert not running.done(), "the check ended before the settings changed"
    client.change_settings({"ignore": ["blocking-call"]})
    await running
    uris = [(client.root / "many" / f"m{i:03d}.py").resolve().as_uri() for i in range(150)]

    async def stale() -> list[str]:
        found = []
        for uri in uris:
            if await closed_codes(client, uri):
                found.append(uri)
        return found

    await eventually(stale, [], timeout=90)
    client.change_settings({})

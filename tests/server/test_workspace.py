"""asyncsense.checkWorkspace: every file, work-done progress, cancellable; results pushed or pulled."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from .conftest import Client, RecordingClient, session_fixture

pytestmark = pytest.mark.asyncio(loop_scope="module")

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
CLEAN = "import asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n"

FILES = {"a.py": BLOCKING, "b.py": CLEAN, "pkg/__init__.py": "", "pkg/c.py": BLOCKING}
FILES.update({f"many/m{i:02d}.py": BLOCKING for i in range(40)})
FILES["many/__init__.py"] = ""

lsp = session_fixture(files=FILES)


@pytest.fixture
def client(lsp: RecordingClient) -> Client:
    return lsp.session


async def run_check(client: Client, token: str | None):
    if token is not None:
        client.lsp.progress_reports[token] = []  # a token the client made for this request
    return await client.lsp.workspace_execute_command_async(
        types.ExecuteCommandParams(command="asyncsense.checkWorkspace", arguments=[], work_done_token=token)
    )


async def test_check_workspace_reports_progress_and_closed_files(client: Client):
    result = await asyncio.wait_for(run_check(client, "check-1"), 120)
    assert result["files"] == len([f for f in FILES if f.endswith(".py")])
    assert result["problems"] == 42
    assert result["cancelled"] is False
    kinds = [type(v).__name__ for v in client.lsp.progress_reports["check-1"]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    assert "WorkDoneProgressReport" in kinds
    a_uri = (client.root / "a.py").resolve().as_uri()
    b_uri = (client.root / "b.py").resolve().as_uri()
    if client.pull:
        report = await client.lsp.workspace_diagnostic_async(types.WorkspaceDiagnosticParams(previous_result_ids=[]))
        by_uri = {item.uri: item for item in report.items}
        assert [d.code for d in by_uri[a_uri].items] == ["blocking-call"]
        assert list(by_uri[b_uri].items) == []
        assert client.lsp.refresh_requests >= 1
        # asked again with the result ids: nothing changed
        again = await client.lsp.workspace_diagnostic_async(
            types.WorkspaceDiagnosticParams(
                previous_result_ids=[types.PreviousResultId(uri, item.result_id) for uri, item in by_uri.items()]
            )
        )
        assert {item.kind for item in again.items} == {"unchanged"}
        assert not [p for p in client.lsp.published if p.uri == a_uri], "pull clients are never pushed to"
    else:
        assert [d.code for d in client.lsp.diagnostics[a_uri]] == ["blocking-call"]
        assert list(client.lsp.diagnostics[b_uri]) == []


def add_unchecked_files(client: Client, folder: str, count: int = 300) -> None:
    """Files the server has not analysed yet: a check of them takes long enough to cancel.

    (The files of FILES are analysed by the first test and stay warm, so a
    check of them alone can end before a cancellation arrives.)
    """
    for i in range(count):
        path = client.root / folder / f"m{i:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(BLOCKING.replace("handler", f"handler_{i}"))


async def test_check_workspace_can_be_cancelled(client: Client):
    add_unchecked_files(client, "unchecked_a")
    token = "check-cancel"
    task = asyncio.ensure_future(run_check(client, token))
    for _ in range(400):
        if client.lsp.progress_reports.get(token):
            break
        await asyncio.sleep(0.01)
    client.lsp.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token))
    result = await asyncio.wait_for(task, 120)
    assert result["cancelled"] is True
    assert result["files"] < len([f for f in FILES if f.endswith(".py")]) + 300
    assert type(client.lsp.progress_reports[token][-1]).__name__ == "WorkDoneProgressEnd"


async def test_check_workspace_stops_on_cancel_request(client: Client):
    add_unchecked_files(client, "unchecked_b")
    token = "check-cancel-request"
    client.lsp.progress_reports[token] = []
    request = asyncio.ensure_future(
        client.lsp.protocol.send_request_async(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command="asyncsense.checkWorkspace", arguments=[], work_done_token=token),
            msg_id="check-request-1",
        )
    )
    for _ in range(400):
        if client.lsp.progress_reports.get(token):
            break
        await asyncio.sleep(0.01)
    client.lsp.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="check-request-1"))
    with pytest.raises(Exception, match="cancel"):
        await asyncio.wait_for(request, 60)
    for _ in range(1000):
        reports = client.lsp.progress_reports[token]
        if reports and type(reports[-1]).__name__ == "WorkDoneProgressEnd":
            break
        await asyncio.sleep(0.05)
    end = client.lsp.progress_reports[token][-1]
    assert type(end).__name__ == "WorkDoneProgressEnd"
    assert "(cancelled)" in end.message


async def test_check_workspace_creates_its_own_progress_token(client: Client):
    before = set(client.lsp.progress_reports)
    result = await asyncio.wait_for(run_check(client, None), 120)
    assert result["cancelled"] is False
    created = set(client.lsp.progress_reports) - before
    assert len(created) == 1  # window/workDoneProgress/create, then begin ... end
    reports = client.lsp.progress_reports[created.pop()]
    assert type(reports[-1]).__name__ == "WorkDoneProgressEnd"

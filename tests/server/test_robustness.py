"""Bad input gets LSP errors; a failing or endless analysis is logged and skipped; the server goes on."""

from __future__ import annotations

import asyncio
import json
import sys

import pytest
from lsprotocol import types

from .conftest import SERVER, Client, RecordingClient, session_fixture, write

pytestmark = pytest.mark.asyncio(loop_scope="module")

lsp = session_fixture(
    env={"ASYNCSENSE_SERVER_FAULTS": "1"}, options={"timeBudget": 3}, profiles=["vscode", "neovim-0.7"]
)


@pytest.fixture
def client(lsp: RecordingClient) -> Client:
    return lsp.session


GOOD = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


async def wait_for_log(client: Client, text: str, timeout: float = 30) -> str:
    for _ in range(int(timeout / 0.05)):
        for message in client.lsp.log_messages:
            if text in message.message:
                return message.message
        await asyncio.sleep(0.05)
    raise AssertionError(f"no log message with {text!r}: {[m.message for m in client.lsp.log_messages]}")


async def test_an_analysis_that_raises_is_logged_and_skipped(client: Client):
    paths = write(client.root, {"raises.py": GOOD + "# asyncsense-fault: raise\n", "fine.py": GOOD})
    broken = client.open(paths["raises.py"])
    message = await wait_for_log(client, "raises.py (version 1) failed; skipped")
    assert "injected fault" in message
    fine = client.open(paths["fine.py"])
    assert [d.code for d in await client.diagnostics(fine, lambda d: bool(d))] == ["blocking-call"]
    # the next version of the broken document is analysed again
    client.replace_line(broken, 5, "")
    assert [d.code for d in await client.diagnostics(broken, lambda d: bool(d))] == ["blocking-call"]


async def test_an_analysis_over_budget_is_interrupted(client: Client):
    paths = write(client.root, {"hangs.py": GOOD + "# asyncsense-fault: hang\n", "after.py": GOOD})
    client.open(paths["hangs.py"])
    await wait_for_log(client, "hangs.py (version 1) took longer than 3 s; skipped")
    after = client.open(paths["after.py"])
    assert [d.code for d in await client.diagnostics(after, lambda d: bool(d))] == ["blocking-call"]


async def test_out_of_order_and_unknown_messages(client: Client):
    # a change for a document that was never opened, a close of one never opened
    client.lsp.text_document_did_change(
        types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(version=3, uri=(client.root / "ghost.py").as_uri()),
            [types.TextDocumentContentChangeWholeDocument("x = 1\n")],
        )
    )
    client.lsp.text_document_did_close(
        types.DidCloseTextDocumentParams(types.TextDocumentIdentifier((client.root / "ghost2.py").as_uri()))
    )
    with pytest.raises(Exception, match="[Mm]ethod [Nn]ot [Ff]ound"):
        await client.lsp.protocol.send_request_async("asyncsense/noSuchMethod", {})
    path = write(client.root, {"still.py": GOOD})["still.py"]
    uri = client.open(path)
    assert [d.code for d in await client.diagnostics(uri, lambda d: bool(d))] == ["blocking-call"]


# -- raw JSON-RPC: messages no well-behaved client library would send ----------------


class Raw:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def send_bytes(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        await self.process.stdin.drain()

    async def send(self, message: dict) -> None:
        await self.send_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())

    async def receive(self) -> dict:
        assert self.process.stdout is not None
        length = 0
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), 30)
            if not line.strip():
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(await self.process.stdout.readexactly(length))

    async def answer_to(self, request_id) -> dict:
        while True:
            message = await self.receive()
            if message.get("id") == request_id and "method" not in message:
                return message


async def test_malformed_messages_get_errors_not_crashes(tmp_path):
    process = await asyncio.create_subprocess_exec(
        *SERVER, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    raw = Raw(process)
    try:
        await raw.send({"id": 1, "method": "textDocument/codeAction", "params": {}})
        assert (await raw.answer_to(1))["error"]["code"] == -32002  # not initialized
        await raw.send(
            {"id": 2, "method": "initialize", "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}}
        )
        assert "capabilities" in (await raw.answer_to(2))["result"]
        await raw.send({"method": "initialized", "params": {}})
        await raw.send({"id": 3, "method": "textDocument/codeAction", "params": {"textDocument": 42}})
        assert (await raw.answer_to(3))["error"]["code"] == -32602  # invalid params
        await raw.send_bytes(b"{this is not json")
        assert (await raw.answer_to(None))["error"]["code"] == -32700  # parse error, id null
        await raw.send({"id": 4, "method": "initialize", "params": {"processId": None, "capabilities": {}}})
        assert (await raw.answer_to(4))["error"]["code"] == -32600  # a second initialize
        await raw.send({"id": 5, "method": "shutdown"})
        assert (await raw.answer_to(5))["result"] is None
        await raw.send({"method": "exit"})
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_server_command_is_wired_into_the_cli():
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "asyncsense", "server", "--help", stdout=asyncio.subprocess.PIPE
    )
    output, _ = await process.communicate()
    assert process.returncode == 0
    assert b"--tcp" in output


async def test_shutdown_while_checking_the_workspace(tmp_path):
    # pygls cancelled the pending requests while iterating over its table, and the
    # running checkWorkspace's cancellation removed itself from it: the shutdown
    # answer was an internal error ("dictionary changed size during iteration").
    for i in range(200):
        (tmp_path / f"m{i:03d}.py").write_text(GOOD.replace("handler", f"handler_{i}"))
    process = await asyncio.create_subprocess_exec(
        *SERVER, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    raw = Raw(process)
    try:
        await raw.send(
            {"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}}
        )
        await raw.answer_to(1)
        await raw.send({"method": "initialized", "params": {}})
        await raw.send({"id": 2, "method": "workspace/executeCommand",
                        "params": {"command": "asyncsense.checkWorkspace", "arguments": []}})
        while (await raw.receive()).get("method") != "textDocument/publishDiagnostics":
            pass  # the check is under way
        await raw.send({"id": 3, "method": "shutdown"})
        answer = await raw.answer_to(3)
        assert "error" not in answer and answer["result"] is None, answer
        await raw.send({"method": "exit"})
        assert await asyncio.wait_for(process.wait(), 30) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

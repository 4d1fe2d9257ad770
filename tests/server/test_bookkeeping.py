"""The server keeps nothing per message once the message is handled.

pygls files every handler's future in ``_request_futures`` and removed only
requests' futures: each didChange left one behind (~1 KiB), so a long editing
session grew without bound (issue #5; the 10,000-edit soak in
tests/robustness measures the memory).  These tests drive the real protocol
object in this process, message by message, and look at its tables.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from asyncsense.server.app import create_server

pytestmark = pytest.mark.asyncio


class _Collect:
    """A writer that keeps what the server sends."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        body = data.split(b"\r\n\r\n", 1)[-1]
        self.sent.append(json.loads(body))

    def close(self) -> None:
        pass


async def _settle(protocol, condition, timeout: float = 60) -> None:
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not settled; pending futures: {list(protocol._request_futures)[:5]}")


@pytest_asyncio.fixture
async def served(tmp_path: Path):
    server = create_server()
    protocol = server.protocol
    writer = _Collect()
    protocol.set_writer(writer)

    def send(message: dict[str, Any]) -> None:
        protocol.handle_message(protocol.structure_message({"jsonrpc": "2.0", **message}))

    send({"id": 1, "method": "initialize", "params": {"processId": None, "rootUri": tmp_path.as_uri(), "capabilities": {}}})
    send({"method": "initialized", "params": {}})
    yield protocol, send, writer, tmp_path
    server.session.shutdown()


async def test_edits_leave_no_futures_behind(served):
    protocol, send, writer, root = served
    uri = (root / "edited.py").as_uri()
    send({"method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": "import time\n"}}})
    for version in range(2, 2002):
        send({"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": {"start": {"line": 1, "character": 0}, "end": {"line": 1, "character": 0}},
                                "text": "x = 1\n"}],
        }})
        if version % 100 == 0:
            await asyncio.sleep(0)  # let the loop run the handlers' callbacks
    for request_id in range(10, 20):  # requests too: answered, then forgotten
        send({"id": request_id, "method": "textDocument/codeAction", "params": {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
            "context": {"diagnostics": []}}})
    await _settle(protocol, lambda: {m.get("id") for m in writer.sent} >= set(range(10, 20)))
    # Whatever is still in flight (the initialized handler waits for settings) is a
    # handful; before the fix there were more than 2,000 finished futures here.
    await _settle(protocol, lambda: len(protocol._request_futures) <= 5)
    assert all(not future.done() for future in protocol._request_futures.values())


async def test_cancelling_a_finished_request_is_not_a_warning(served, caplog):
    protocol, send, writer, root = served
    send({"id": 7, "method": "textDocument/codeAction", "params": {
        "textDocument": {"uri": (root / "unopened.py").as_uri()},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}},
        "context": {"diagnostics": []}}})
    await _settle(protocol, lambda: any(m.get("id") == 7 for m in writer.sent))
    with caplog.at_level(logging.DEBUG):
        send({"method": "$/cancelRequest", "params": {"id": 7}})
        await asyncio.sleep(0.05)
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert not noisy, [r.getMessage() for r in noisy]

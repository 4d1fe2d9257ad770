"""Settings: initializationOptions, workspace/configuration, didChangeConfiguration, pyproject.toml."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from .conftest import Client, RecordingClient, session_fixture, write

pytestmark = pytest.mark.asyncio(loop_scope="module")

PYPROJECT = """
[tool.asyncsense]
severity = { blocking-call = "error" }
"""

SOURCE = """
import time

import mylib


async def handler():
    time.sleep(1)
    mylib.fetch("x")
"""

lsp = session_fixture(files={"pyproject.toml": PYPROJECT}, settings={"select": [], "ignore": []})


@pytest.fixture
def client(lsp: RecordingClient) -> Client:
    return lsp.session


def codes(diagnostics: list[types.Diagnostic]) -> list[str]:
    return [str(d.code) for d in diagnostics]


async def test_settings_sequence(client: Client):
    # One file through a series of settings changes, in one server.
    path = write(client.root, {"app.py": SOURCE})["app.py"]
    uri = client.open(path)

    # 1. pyproject.toml applies; the editor's empty defaults do not override it
    found = await client.diagnostics(uri, lambda d: "blocking-call" in codes(d))
    assert [d.severity for d in found if d.code == "blocking-call"] == [types.DiagnosticSeverity.Error]

    # 2. the editor's severity wins over pyproject's
    client.change_settings({"severity": {"blocking-call": "hint"}})
    found = await client.diagnostics(
        uri, lambda d: [x.severity for x in d if x.code == "blocking-call"] == [types.DiagnosticSeverity.Hint]
    )

    # 3. extra blocking calls: the user's own catalog entry
    client.change_settings({"extraBlockingCalls": [{"name": "mylib.fetch", "category": "network"}]})
    found = await client.diagnostics(uri, lambda d: codes(d).count("blocking-call") == 2)
    assert sorted(d.range.start.line for d in found if d.code == "blocking-call") == [6, 7]

    # 4. ignoring the rule
    client.change_settings({"ignore": ["blocking-call"]})
    await client.diagnostics(uri, lambda d: "blocking-call" not in codes(d))

    # 5. select by code brings it back
    client.change_settings({"select": ["ASN001"]})
    found = await client.diagnostics(uri, lambda d: "blocking-call" in codes(d))
    assert set(codes(found)) == {"blocking-call"}


async def test_bad_settings_are_reported_not_fatal(client: Client):
    path = write(client.root, {"bad.py": SOURCE})["bad.py"]
    uri = client.open(path)
    client.change_settings({"severity": {"blocking-call": "loud"}})
    for _ in range(200):
        messages = [m.message for m in client.lsp.log_messages if m.type == types.MessageType.Error]
        if any("loud" in m for m in messages):
            break
        await asyncio.sleep(0.05)
    assert any("'loud'" in m and "severity" in m for m in messages), messages
    # the server goes on with the other settings
    assert "blocking-call" in codes(await client.diagnostics(uri, lambda d: "blocking-call" in codes(d)))
    client.change_settings({})

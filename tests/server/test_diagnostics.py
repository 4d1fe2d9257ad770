"""Open, edit, read diagnostics: with VS Code's and Neovim's capabilities (see conftest)."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from .conftest import Client, units, write

pytestmark = pytest.mark.asyncio(loop_scope="module")

APP = """
import asyncio
import time


async def handler():
    time.sleep(1)
    await asyncio.sleep(0)
"""


def blocking(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.code == "blocking-call"]


async def test_initialize_negotiates_per_client(client: Client):
    caps = client.init.capabilities
    assert client.init.server_info is not None and client.init.server_info.name == "asyncsense"
    assert caps.position_encoding == client.profile.encoding
    sync = caps.text_document_sync
    assert isinstance(sync, types.TextDocumentSyncOptions) and sync.change == types.TextDocumentSyncKind.Incremental
    # pull for clients that pull and can be told to pull again, push for the others: never both
    assert (caps.diagnostic_provider is not None) == client.profile.pull
    assert caps.execute_command_provider is not None
    assert "asyncsense.checkWorkspace" in caps.execute_command_provider.commands
    assert isinstance(caps.code_action_provider, types.CodeActionOptions)
    assert "source.fixAll.asyncsense" in caps.code_action_provider.code_action_kinds


async def test_open_reports_blocking_call_with_everything(client: Client):
    path = write(client.root, {"app.py": APP})["app.py"]
    uri = client.open(path)
    found = blocking(await client.diagnostics(uri, lambda d: bool(blocking(d))))
    assert len(found) == 1
    diagnostic = found[0]
    assert diagnostic.source == "asyncsense"
    assert diagnostic.range.start == types.Position(5, 4)
    assert diagnostic.range.end == types.Position(5, 17)
    assert diagnostic.severity == types.DiagnosticSeverity.Warning
    assert diagnostic.code_description is not None
    assert diagnostic.code_description.href.endswith("docs/rules/blocking-call.md")
    assert diagnostic.data["code"] == "ASN001"
    assert diagnostic.data["fixes"] and diagnostic.data["fixes"][0]["safe"] is True
    if not client.pull:
        published = [p for p in client.lsp.published if p.uri == uri]
        assert published and all(p.version == 1 for p in published)
    else:
        assert not [p for p in client.lsp.published if p.uri == uri], "a pull client must not be pushed to"


async def test_columns_after_non_ascii_text(client: Client):
    source = """
    import time


    async def handler():
        label = 'é😀'; time.sleep(1)
    """
    path = write(client.root, {"unicode.py": source})["unicode.py"]
    uri = client.open(path)
    found = blocking(await client.diagnostics(uri, lambda d: bool(blocking(d))))
    line = client.texts[uri].split("\n")[4]
    start_chars = line.index("time.sleep")
    end_chars = line.index("(1)") + 3
    expected_start = units(line, start_chars, client.profile.encoding)
    expected_end = units(line, end_chars, client.profile.encoding)
    # 'é😀' is 2 characters, 3 UTF-16 units, 6 UTF-8 bytes
    assert expected_start - start_chars == (1 if client.profile.encoding == "utf-16" else 4)
    assert found[0].range == types.Range(types.Position(4, expected_start), types.Position(4, expected_end))


async def test_incremental_edits_update_diagnostics_with_versions(client: Client):
    path = write(client.root, {"edit.py": APP})["edit.py"]
    uri = client.open(path)
    await client.diagnostics(uri, lambda d: len(blocking(d)) == 1)
    # fix the blocking line by an incremental edit in the middle of the line
    client.replace_line(uri, 5, "    await asyncio.sleep(1)")
    assert not blocking(await client.diagnostics(uri, lambda d: not blocking(d)))
    # add a line with non-ASCII text and a blocking call after it
    version = client.edit(
        uri,
        [
            types.TextEdit(
                types.Range(types.Position(6, 0), types.Position(6, 0)), "    s = 'ñ'; time.sleep(2)\n"
            )
        ],
    )
    found = blocking(await client.diagnostics(uri, lambda d: len(blocking(d)) == 1))
    line = client.texts[uri].split("\n")[6]
    assert found[0].range.start == types.Position(6, units(line, line.index("time"), client.profile.encoding))
    if not client.pull:
        assert client.lsp.published[-1].version == version


# Enough code below the edited handler that one analysis takes longer than the client
# needs to send the whole burst: stale versions then exist whatever the machine's speed.
BURST_PADDING = "".join(
    f"\n\nasync def handler_{n}(items):\n    for item in items:\n        await asyncio.sleep(0)\n    return len(items)\n"
    for n in range(400)
)


async def test_stale_versions_are_dropped_not_published(client: Client):
    path = write(client.root, {"burst.py": APP + BURST_PADDING})["burst.py"]
    uri = client.open(path)
    await client.diagnostics(uri)
    sent_before = len(client.lsp.published)
    # 30 edits without waiting: each toggles the blocking line
    for index in range(30):
        client.replace_line(uri, 5, "    time.sleep(1)" if index % 2 else "    await asyncio.sleep(1)")
    final = client.versions[uri]  # the last edit left the line blocking
    found = await client.diagnostics(uri, lambda d: len(blocking(d)) == 1)
    assert len(blocking(found)) == 1
    if not client.pull:
        await asyncio.sleep(0.5)
        burst = [p for p in client.lsp.published[sent_before:] if p.uri == uri]
        versions = [p.version for p in burst]
        assert versions == sorted(versions), f"published out of order: {versions}"
        assert versions[-1] == final
        # stale versions were cancelled or discarded, not analysed and published one by one
        assert len(versions) < 30, versions


async def test_close_clears_pushed_diagnostics(client: Client):
    path = write(client.root, {"closing.py": APP})["closing.py"]
    uri = client.open(path)
    await client.diagnostics(uri, lambda d: bool(blocking(d)))
    client.close(uri)
    if not client.pull:
        for _ in range(100):
            if client.lsp.published[-1].uri == uri and client.lsp.published[-1].diagnostics == []:
                break
            await asyncio.sleep(0.05)
        assert client.lsp.published[-1].diagnostics == []

"""Cross-file: a helper that starts blocking makes its async callers light up."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .conftest import Client, units, write

pytestmark = pytest.mark.asyncio(loop_scope="module")


def blocking(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.code == "blocking-call"]


def caller(helper: str) -> str:
    return f"""
from {helper} import load


async def handler():
    return load()
"""


QUIET = """
def load():
    return 1
"""


async def test_edit_in_helper_buffer_updates_open_caller(client: Client):
    paths = write(client.root, {"helper_edit.py": QUIET, "caller_edit.py": caller("helper_edit")})
    app = client.open(paths["caller_edit.py"])
    assert not blocking(await client.diagnostics(app))
    helper = client.open(paths["helper_edit.py"])
    await client.diagnostics(helper)
    refreshes = client.lsp.refresh_requests
    client.edit(
        helper,
        [
            types.TextEdit(types.Range(types.Position(0, 0), types.Position(0, 0)), "import time\n\n\n"),
            types.TextEdit(types.Range(types.Position(1, 4), types.Position(1, 12)), "time.sleep(1)\n    return 1"),
        ],
    )
    found = blocking(await client.diagnostics(app, lambda d: bool(blocking(d))))
    assert found[0].range.start == types.Position(4, 11)
    related = found[0].related_information
    assert related, "the diagnostic points at the real blocking call"
    assert related[-1].location.uri == helper
    line = client.texts[helper].split("\n")[4]
    assert related[-1].location.range.start == types.Position(4, units(line, line.index("time"), client.profile.encoding))
    if client.pull:
        assert client.lsp.refresh_requests > refreshes, "the client was asked to pull again"


async def test_watched_file_change_updates_open_caller(client: Client):
    paths = write(client.root, {"helper_disk.py": QUIET, "caller_disk.py": caller("helper_disk")})
    app = client.open(paths["caller_disk.py"])
    assert not blocking(await client.diagnostics(app))
    paths["helper_disk.py"].write_text("import subprocess\n\n\ndef load():\n    return subprocess.run(['true'])\n")
    client.lsp.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            [types.FileEvent(paths["helper_disk.py"].resolve().as_uri(), types.FileChangeType.Changed)]
        )
    )
    found = blocking(await client.diagnostics(app, lambda d: bool(blocking(d))))
    assert "subprocess.run" in found[0].message or any(
        "subprocess" in r.message for r in found[0].related_information or []
    )


async def test_closing_edited_helper_goes_back_to_disk(client: Client):
    paths = write(client.root, {"helper_close.py": QUIET, "caller_close.py": caller("helper_close")})
    app = client.open(paths["caller_close.py"])
    helper = client.open(paths["helper_close.py"])
    client.replace_line(helper, 1, "    return __import__('time').sleep(1) or open('x').read()")
    client.close(helper)  # never saved: the file on disk does not block
    await client.diagnostics(app)
    assert not blocking(await client.diagnostics(app, lambda d: not blocking(d)))

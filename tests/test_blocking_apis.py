"""The blocking APIs that Home Assistant's "Detected blocking call" reports name.

tests/fixtures/issue9/reported_apis/apis.py has one line per API, marked
``# blocks: NAME`` (reported, naming NAME) or ``# ok`` (not reported):
imports, TLS set-up, directory listings and ``os.path`` probes, ``pathlib``
I/O (with receivers typed by return annotations and properties), http.client,
archives, ``shutil`` trees, ``json``/``pickle`` on files, ``mimetypes``, and
offloaded calls.  Checked with jedi and with cheap resolution alone.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from asyncsense.analyzers.catalog import default_catalog
from asyncsense.analyzers.diagnostics import Diagnostic
from asyncsense.analyzers.project import Project

ROOT = Path(__file__).parent / "fixtures" / "issue9" / "reported_apis"
SOURCE = ROOT / "apis.py"


def _markers() -> tuple[list[tuple[int, str]], list[int]]:
    blocks: list[tuple[int, str]] = []
    fine: list[int] = []
    for token in tokenize.generate_tokens(io.StringIO(SOURCE.read_text()).readline):
        if token.type == tokenize.COMMENT:
            found = re.match(r"# blocks: (\S+)", token.string)
            if found:
                blocks.append((token.start[0], found.group(1)))
            elif token.string.startswith("# ok"):
                fine.append(token.start[0])
    return blocks, fine


BLOCKS, FINE = _markers()


@pytest.fixture(scope="module", params=[True, False], ids=["jedi", "import-table"])
def found(request: pytest.FixtureRequest) -> dict[int, list[Diagnostic]]:
    project = Project(ROOT, use_jedi=request.param, library_cache_dir=False)
    [result] = project.check([SOURCE])
    assert not result.errors and not result.partial
    by_line: dict[int, list[Diagnostic]] = {}
    for diagnostic in result.diagnostics:
        if diagnostic.rule == "blocking-call":
            by_line.setdefault(diagnostic.span.start.line, []).append(diagnostic)
    return by_line


def test_the_fixture_covers_the_issue_list() -> None:
    named = {name for _, name in BLOCKS}
    required = {
        "importlib.import_module", "builtins.__import__", "importlib.reload",
        "ssl.create_default_context", "ssl.SSLContext.load_verify_locations", "ssl.SSLContext.load_default_certs",
        "ssl.SSLContext.set_default_verify_paths", "ssl.SSLContext.load_cert_chain",
        "os.listdir", "os.scandir", "os.walk", "os.stat", "os.path.exists", "os.path.isfile", "os.path.isdir",
        "os.path.getsize", "glob.glob", "glob.iglob",
        "pathlib.Path.glob", "pathlib.Path.rglob", "pathlib.Path.iterdir", "pathlib.Path.stat",
        "pathlib.Path.exists", "pathlib.Path.is_file", "pathlib.Path.is_dir", "pathlib.Path.read_text",
        "pathlib.Path.read_bytes", "pathlib.Path.write_text", "pathlib.Path.write_bytes", "pathlib.Path.mkdir",
        "pathlib.Path.unlink", "pathlib.Path.open",
        "http.client.HTTPConnection.request", "http.client.HTTPConnection.putrequest",
        "http.client.HTTPConnection.getresponse",
        "zipfile.ZipFile", "tarfile.open", "shutil.copy", "shutil.move", "shutil.rmtree",
        "json.load", "pickle.load", "mimetypes.guess_type",
    }  # fmt: skip
    assert required <= named, required - named
    assert all(default_catalog().blocking_entry(name) for name in named)


@pytest.mark.parametrize(("line", "name"), BLOCKS, ids=[f"{name}@{line}" for line, name in BLOCKS])
def test_reported(found: dict[int, list[Diagnostic]], line: int, name: str) -> None:
    messages = [d.message for d in found.get(line, [])]
    assert any(f"`{name}`" in message for message in messages), messages


@pytest.mark.parametrize("line", FINE)
def test_not_reported(found: dict[int, list[Diagnostic]], line: int) -> None:
    assert line not in found, [d.message for d in found[line]]


def test_receiver_typed_by_return_annotation_gets_a_fix(found: dict[int, list[Diagnostic]]) -> None:
    lines = SOURCE.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "integration.cert_path().read_bytes()" in text)
    [diagnostic] = found[line]
    assert diagnostic.fixes and "asyncio.to_thread" in diagnostic.fixes[0].title

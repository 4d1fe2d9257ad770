"""Following calls into installed libraries (analyzers/libraries.py, docs/libraries.md).

The library is real code in a real environment: a venv made with
``python -m venv --without-pip`` whose site-packages gets the fake packages of
tests/fixtures/issue9/fakelibs (a sync cloud client that blocks two and three
calls down, impostors of async-safe libraries, a C-extension stand-in).  The
project, tests/fixtures/issue9/library_project, marks what must be reported
with ``# blocks: NAME`` and what must not with ``# ok``.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import subprocess
import sys
import time
import tokenize
from pathlib import Path

import pytest

from asyncsense.analyzers import libraries
from asyncsense.analyzers.config import Config, ExtraBlockingCall, load_config
from asyncsense.analyzers.diagnostics import Diagnostic
from asyncsense.analyzers.project import Project
from asyncsense.analyzers.summary import ProjectFacts

FIXTURES = Path(__file__).parent / "fixtures" / "issue9"
PROJECT = FIXTURES / "library_project"
FAKELIBS = FIXTURES / "fakelibs"


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with the fake libraries installed; returns its python."""
    env = tmp_path_factory.mktemp("env") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site_packages = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    for entry in FAKELIBS.iterdir():
        if entry.is_dir():
            shutil.copytree(entry, site_packages / entry.name)
    # The C extension stand-in: nothing the analysis can read.
    (site_packages / "fastserial.cpython-311-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    return python


@pytest.fixture()
def project_dir(tmp_path: Path) -> Path:
    """A copy of the fixture project (so that tests can add a config)."""
    target = tmp_path / "project"
    shutil.copytree(PROJECT, target)
    return target


def check(root: Path, python: Path, cache: Path | bool, config: Config | None = None) -> tuple[Project, list[Diagnostic]]:
    project = Project(root, config, python=str(python), library_cache_dir=cache)
    results = project.check(sorted(root.glob("*.py")))
    assert not any(result.errors for result in results)
    return project, [d for result in results for d in result.diagnostics if d.rule == "blocking-call"]


def markers(path: Path) -> tuple[dict[int, str], set[int]]:
    """``# blocks: NAME`` lines (line -> NAME) and ``# ok`` lines of a fixture file."""
    blocks: dict[int, str] = {}
    fine: set[int] = set()
    for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
        if token.type != tokenize.COMMENT:
            continue
        found = re.match(r"# blocks: (\S+)", token.string)
        if found:
            blocks[token.start[0]] = found.group(1)
        elif token.string.startswith("# ok"):
            fine.add(token.start[0])
    return blocks, fine


def by_line(diagnostics: list[Diagnostic]) -> dict[int, list[Diagnostic]]:
    found: dict[int, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        found.setdefault(diagnostic.span.start.line, []).append(diagnostic)
    return found


def test_fixture_markers_hold(venv: Path, project_dir: Path, tmp_path: Path) -> None:
    _, diagnostics = check(project_dir, venv, tmp_path / "cache")
    blocks, fine = markers(project_dir / "integration.py")
    found = by_line(diagnostics)
    assert len(blocks) >= 7 and len(fine) >= 6
    for line, name in blocks.items():
        messages = [d.message for d in found.get(line, [])]
        assert any(name in message for message in messages), (line, name, messages)
    for line in fine:
        assert line not in found, (line, [d.message for d in found[line]])


def test_report_names_the_chain_into_the_library(venv: Path, project_dir: Path, tmp_path: Path) -> None:
    _, diagnostics = check(project_dir, venv, tmp_path / "cache")
    source = (project_dir / "integration.py").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if "return self.api.get_devices()" in text)
    [diagnostic] = by_line(diagnostics)[line]
    assert "fakecloud.Api.get_devices -> fakecloud.api.Api._request -> fakecloud.transport.Transport.send" in (
        diagnostic.message
    )
    assert diagnostic.message.endswith("or offload the call")
    # Related information walks into the installed library, down to the blocking line.
    files = [Path(r.path).name for r in diagnostic.related]
    assert files == ["api.py", "api.py", "transport.py"]
    last = diagnostic.related[-1]
    assert "site-packages" in last.path
    transport = Path(last.path).read_text().splitlines()
    assert "connection.request(" in transport[last.span.start.line - 1]
    assert diagnostic.fixes and "to_thread" in diagnostic.fixes[0].title


def test_loop_bound_callback_calling_a_library(venv: Path, project_dir: Path, tmp_path: Path) -> None:
    _, diagnostics = check(project_dir, venv, tmp_path / "cache")
    source = (project_dir / "integration.py").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if "self.api.get_devices()  #" in text and "return" not in text)
    [diagnostic] = by_line(diagnostics)[line]
    assert "`Coordinator.on_done` runs on the event loop because it is a callback registered with" in (
        diagnostic.message
    )
    registered = diagnostic.related[0]
    assert "add_done_callback" in registered.message
    assert "task.add_done_callback(coordinator.on_done)" in source[registered.span.start.line - 1]


def test_without_library_analysis_nothing_in_libraries_is_reported(
    venv: Path, project_dir: Path, tmp_path: Path
) -> None:
    project, diagnostics = check(project_dir, venv, tmp_path / "cache", Config(follow_libraries=False))
    assert project.facts.libraries is None
    assert not [d for d in diagnostics if "fakecloud" in d.message or "httpx" in d.message]


def test_follow_libraries_is_a_config_key(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.asyncsense]\nfollow-libraries = false\n")
    assert load_config(pyproject).follow_libraries is False
    pyproject.write_text("[tool.asyncsense]\n")
    assert load_config(pyproject).follow_libraries is True


# -- the cache ----------------------------------------------------------------------


def test_summaries_are_cached_per_distribution_and_reused(venv: Path, project_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first, first_found = check(project_dir, venv, cache)
    stats = first.facts.libraries.stats
    assert stats.modules_parsed >= 3 and stats.functions_analysed >= 5 and not stats.exhausted
    [cached] = cache.glob("*/fakecloud-1.2.3.json")
    data = json.loads(cached.read_text())
    assert data["distribution"] == "fakecloud" and data["version"] == "1.2.3"
    assert "fakecloud.transport.Transport.send" in data["functions"]
    assert data["names"]["fakecloud.Api.get_devices"] == "fakecloud.api.Api.get_devices"
    # Paths are stored relative to site-packages: the cache is valid in any environment.
    assert data["functions"]["fakecloud.transport.Transport.send"]["file"] == "fakecloud/transport.py"

    # A later run - here of another project with the same environment - parses no library code.
    other = tmp_path / "other"
    shutil.copytree(project_dir, other)
    second, second_found = check(other, venv, cache)
    again = second.facts.libraries.stats
    assert again.modules_parsed == 0 and again.functions_analysed == 0
    assert again.functions_from_cache >= stats.functions_analysed
    assert [(d.span, d.message) for d in second_found] == [(d.span, d.message) for d in first_found]


def test_cached_summaries_follow_the_current_config(venv: Path, project_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    check(project_dir, venv, cache)
    # The cache holds call targets, not verdicts: allowing a call takes effect at once.
    config = Config(allowed_calls=frozenset({"http.client.HTTPSConnection.request", "fakecloud.deep"}))
    project, diagnostics = check(project_dir, venv, cache, config)
    assert project.facts.libraries.stats.modules_parsed == 0
    messages = " ".join(d.message for d in diagnostics)
    assert "HTTPSConnection.request" not in messages and "level1" not in messages
    assert "ssl.create_default_context" in messages


def test_no_disk_cache(venv: Path, project_dir: Path, tmp_path: Path) -> None:
    project, diagnostics = check(project_dir, venv, False)
    assert project.facts.libraries.cache_dir is None
    assert any("fakecloud.transport.Transport.send" in d.message for d in diagnostics)


def test_default_cache_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ASYNCSENSE_LIBRARY_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert libraries.default_cache_dir() == tmp_path / "xdg" / "asyncsense" / "libraries"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert libraries.default_cache_dir() == Path.home() / ".cache" / "asyncsense" / "libraries"
    monkeypatch.setenv("ASYNCSENSE_LIBRARY_CACHE", str(tmp_path / "mine"))
    assert libraries.default_cache_dir() == tmp_path / "mine"


def test_unreadable_cache_is_ignored(venv: Path, project_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    check(project_dir, venv, cache)
    [cached] = cache.glob("*/fakecloud-1.2.3.json")
    cached.write_text("{not json")
    project, diagnostics = check(project_dir, venv, cache)
    assert project.facts.libraries.stats.functions_analysed > 0
    assert any("fakecloud.transport.Transport.send" in d.message for d in diagnostics)


# -- marks: async-safe, allowed, blocking, C extensions --------------------------------


def test_async_safe_catalog() -> None:
    entries = libraries.async_safe_catalog()
    names = {entry.pattern for entry in entries}
    assert {"aiohttp", "httpx.AsyncClient", "asyncpg", "aiofiles"} <= names
    client = next(entry for entry in entries if entry.pattern == "httpx.AsyncClient")
    assert client.follow_constructors
    assert not client.covers("httpx.AsyncClient") and not client.covers("httpx.AsyncClient._init_transport")
    assert client.covers("httpx.AsyncClient.build_request")
    aiohttp = next(entry for entry in entries if entry.pattern == "aiohttp")
    assert aiohttp.covers("aiohttp.ClientSession.__init__") and not aiohttp.covers("aiohttp_foo.x")


def test_allowed_calls_mark_a_library_non_blocking(venv: Path, project_dir: Path, tmp_path: Path) -> None:
    _, diagnostics = check(project_dir, venv, tmp_path / "cache", Config(allowed_calls=frozenset({"fakecloud"})))
    assert not [d for d in diagnostics if "fakecloud" in d.message]
    assert any("httpx" in d.message for d in diagnostics)


def test_allowed_calls_mark_one_function_non_blocking(venv: Path, project_dir: Path, tmp_path: Path) -> None:
    config = Config(allowed_calls=frozenset({"fakecloud.Api.get_devices"}))
    _, diagnostics = check(project_dir, venv, tmp_path / "cache", config)
    assert not [d for d in diagnostics if "get_devices" in d.message]
    assert any("fakecloud.login" in d.message for d in diagnostics)


def test_extra_blocking_calls_mark_a_c_extension_blocking(venv: Path, project_dir: Path, tmp_path: Path) -> None:
    source = (project_dir / "integration.py").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if "fastserial.read_port" in text)
    _, quiet = check(project_dir, venv, tmp_path / "cache")
    assert line not in by_line(quiet)  # a C extension: nothing to read
    config = Config(extra_blocking_calls=(ExtraBlockingCall("fastserial", "serial", "pyserial-asyncio"),))
    _, diagnostics = check(project_dir, venv, tmp_path / "cache", config)
    [diagnostic] = by_line(diagnostics)[line]
    assert "`fastserial`" in diagnostic.message and "(serial)" in diagnostic.message


# -- bounds ---------------------------------------------------------------------------


def test_depth_bound(venv: Path, project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = (project_dir / "integration.py").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if "fakecloud.level1()" in text)
    _, diagnostics = check(project_dir, venv, tmp_path / "cache")
    [deep] = by_line(diagnostics)[line]
    assert "fakecloud.level1 -> fakecloud.deep.level2 -> fakecloud.deep.level3 -> fakecloud.deep.level4" in deep.message
    monkeypatch.setattr(ProjectFacts, "MAX_LIBRARY_DEPTH", 2)
    _, shallow = check(project_dir, venv, tmp_path / "cache2")
    assert line not in by_line(shallow)


def test_byte_budget_cuts_off_and_nothing_wrong_is_cached(
    venv: Path, project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    monkeypatch.setattr(libraries, "MAX_LIBRARY_BYTES_PER_RUN", 1)
    starved, starved_found = check(project_dir, venv, cache)
    stats = starved.facts.libraries.stats
    assert stats.exhausted and stats.bytes_used == 0
    assert stats.functions_analysed == 0
    assert not [d for d in starved_found if "fakecloud" in d.message]
    assert not starved.facts.final  # findings of a cut-short run are not cached
    monkeypatch.undo()
    # Nothing wrong was cached: with the normal budget, everything is found.
    _, found = check(project_dir, venv, cache)
    assert any("fakecloud.transport.Transport.send" in d.message for d in found)


def test_byte_budget_does_not_depend_on_the_library_cache(
    venv: Path, project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget counts a module's size whether its summaries are analysed or read
    from the disk cache: a cold and a warm library cache cut at the same place."""
    full, _ = check(project_dir, venv, tmp_path / "probe")
    used = full.facts.libraries.stats.bytes_used
    assert used > 0
    monkeypatch.setattr(libraries, "MAX_LIBRARY_BYTES_PER_RUN", used // 2)
    cache = tmp_path / "cache"
    runs = [check(project_dir, venv, cache) for _ in range(2)]
    (cold, cold_found), (warm, warm_found) = runs
    assert cold.facts.libraries.stats.exhausted and warm.facts.libraries.stats.exhausted
    assert warm.facts.libraries.stats.functions_analysed == 0  # all read from the cache
    assert cold.facts.libraries.stats.bytes_used == warm.facts.libraries.stats.bytes_used
    assert [(d.rule, d.span, d.message) for d in cold_found] == [(d.rule, d.span, d.message) for d in warm_found]


def test_module_bound(venv: Path, project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(libraries, "MAX_MODULES_PER_RUN", 1)
    project, _ = check(project_dir, venv, tmp_path / "cache")
    assert project.facts.libraries.stats.modules_parsed <= 1
    assert project.facts.libraries.stats.exhausted


def test_distribution_metadata(venv: Path) -> None:
    paths = libraries.library_paths(str(venv), None)
    [site] = paths
    packages = libraries.SitePackages(paths)
    assert packages.distribution("fakecloud") == libraries.Distribution("fakecloud", "1.2.3", site)
    # fastserial is only a C extension: its metadata (RECORD) is found, its code is not.
    assert packages.top_site("fastserial") is None
    assert libraries._top_levels(site / "fastserial-0.1.dist-info") == {"fastserial"}
    assert packages.distribution("httpx") == libraries.Distribution("httpx", "0.0.1", site)  # from RECORD
    # No metadata: analysed, never cached.
    assert not packages.distribution("aiohttp").cacheable
    assert packages.module_file("fakecloud.api") == (site / "fakecloud" / "api.py", False)
    assert packages.module_file("fakecloud") == (site / "fakecloud" / "__init__.py", True)
    assert packages.module_file("json") is None  # the standard library is not a library here


# -- the budget, measured on real installed libraries ------------------------------------

REAL_PROJECT = '''
import asyncio
import jedi
import parso
import pluggy
from pygments.lexers import get_lexer_by_name


async def handler(path):
    script = jedi.Script(path=path)
    grammar = parso.load_grammar()
    manager = pluggy.PluginManager("demo")
    manager.load_setuptools_entrypoints("demo")
    lexer = get_lexer_by_name("python")
    return script, grammar, lexer
'''


def test_budget_on_installed_libraries(tmp_path: Path) -> None:
    """Libraries of this environment (jedi, parso, pluggy, pygments: asyncsense's and pytest's own).

    Every run finds the same (the budget counts bytes of library source, not
    seconds); runs after the first read the cache and parse no library code.
    """
    root = tmp_path / "real"
    root.mkdir()
    (root / "handlers.py").write_text(REAL_PROJECT)
    python = Path(sys.executable)
    cache = tmp_path / "cache"
    runs = []
    for _ in range(3):
        project, found = check(root, python, cache)
        stats = project.facts.libraries.stats
        assert not stats.exhausted and stats.bytes_used <= libraries.MAX_LIBRARY_BYTES_PER_RUN, stats
        runs.append((stats, [(d.rule, d.span, d.message) for d in found]))
    first, later = runs[0], runs[1:]
    assert first[0].modules_parsed > 0
    for stats, found in later:
        assert stats.modules_parsed == 0 and stats.functions_analysed == 0, stats
        assert stats.bytes_used == first[0].bytes_used
        assert found == first[1]
    messages = " ".join(message for _, _, message in first[1])
    assert "jedi.Script" in messages and "get_lexer_by_name" in messages
    assert "load_setuptools_entrypoints" in messages and "parso.load_grammar" in messages


def test_project_names_are_never_looked_up_as_libraries(venv: Path, tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "fakecloud").mkdir(parents=True)
    (root / "fakecloud" / "__init__.py").write_text("def login(user, password):\n    return None\n")
    (root / "main.py").write_text(
        "import fakecloud\n\nasync def main():\n    fakecloud.login('u', 'p')\n"
    )
    project = Project(root, python=str(venv), library_cache_dir=False)
    [result] = project.check([root / "main.py"])
    assert not result.diagnostics
    assert project.facts.libraries.stats.modules_parsed == 0


def test_stats_are_plain_data() -> None:
    assert dataclasses.asdict(libraries.LibraryStats())["modules_parsed"] == 0


def test_a_run_out_of_budget_is_not_checked_again(
    venv: Path, project_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The budget is counted in work and does not grow with the run: once spent, the
    cut-short modules get no second pass, and the run's findings are not final."""
    original_diagnostics = Project.diagnostics_for
    passes = []

    def diagnostics_for(self, model, display_path=None):
        passes.append(model.path)
        return original_diagnostics(self, model, display_path)

    monkeypatch.setattr(libraries, "MAX_LIBRARY_BYTES_PER_RUN", 1)
    monkeypatch.setattr(Project, "diagnostics_for", diagnostics_for)
    project, diagnostics = check(project_dir, venv, tmp_path / "cache")
    assert passes == [str(project_dir / "integration.py")]
    assert not any("fakecloud.transport.Transport.send" in d.message for d in diagnostics)
    assert not project.facts.final  # cut short: not a result to cache

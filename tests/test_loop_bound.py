"""Sync code that runs on the loop: callbacks, what they call, properties, helpers.

A blocking call in a sync function is reported when the function runs on the
event loop - handed to ``loop.call_soon`` and friends, or called by such a
function - at the blocking line, saying why, with the registration as related
information.  Properties read in a coroutine are call sites; sync helpers
called from a coroutine are reported at the call with the blocking line as
related information.  Offloaded functions stay quiet.
"""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest

from asyncsense.analyzers.diagnostics import Diagnostic
from asyncsense.analyzers.project import Project


class Snippets:
    """One warm project; each case is a fresh package of modules."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.project = Project(root, library_cache_dir=False)
        self.numbers = itertools.count()

    def check(self, files: str | dict[str, str]) -> Case:
        if isinstance(files, str):
            files = {"main.py": files}
        package = self.root / f"case_{next(self.numbers)}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        sources = {}
        for name, source in files.items():
            text = textwrap.dedent(source)
            (package / name).write_text(text)
            sources[name] = text
        results = self.project.check([package / name for name in files])
        diagnostics = {
            Path(result.path).name: [d for d in result.diagnostics if d.rule == "blocking-call"] for result in results
        }
        return Case(sources, diagnostics)


class Case:
    def __init__(self, sources: dict[str, str], diagnostics: dict[str, list[Diagnostic]]) -> None:
        self.sources = sources
        self.diagnostics = diagnostics

    def line(self, fragment: str, module: str = "main.py") -> int:
        [found] = [i for i, text in enumerate(self.sources[module].splitlines(), 1) if fragment in text]
        return found

    def at(self, fragment: str, module: str = "main.py") -> list[Diagnostic]:
        line = self.line(fragment, module)
        return [d for d in self.diagnostics[module] if d.span.start.line == line]

    def one(self, fragment: str, module: str = "main.py") -> Diagnostic:
        found = self.at(fragment, module)
        assert len(found) == 1, (fragment, [d.message for d in self.diagnostics[module]])
        return found[0]

    def text_at(self, related_path: str, line: int) -> str:
        return Path(related_path).read_text().splitlines()[line - 1]


@pytest.fixture(scope="module")
def snippets(tmp_path_factory: pytest.TempPathFactory) -> Snippets:
    return Snippets(tmp_path_factory.mktemp("loop_bound"))


# -- callbacks handed to the loop -------------------------------------------------------

REGISTRARS = {
    "call_soon": "loop.call_soon(on_ready)",
    "call_soon_threadsafe": "loop.call_soon_threadsafe(on_ready)",
    "call_later": "loop.call_later(5, on_ready)",
    "call_at": "loop.call_at(loop.time() + 5, on_ready)",
    "add_signal_handler": "loop.add_signal_handler(signal.SIGHUP, on_ready)",
    "add_reader": "loop.add_reader(sock.fileno(), on_ready)",
    "add_writer": "loop.add_writer(sock.fileno(), on_ready)",
    "Future.add_done_callback": "loop.create_future().add_done_callback(on_ready)",
    "Task.add_done_callback": "asyncio.create_task(work()).add_done_callback(on_ready)",
}


@pytest.mark.parametrize("registration", REGISTRARS.values(), ids=list(REGISTRARS))
def test_blocking_in_a_callback_is_reported_at_the_blocking_line(snippets: Snippets, registration: str) -> None:
    case = snippets.check(
        f"""
        import asyncio
        import signal
        import socket
        import time

        def on_ready(*args):
            time.sleep(1)

        async def work():
            pass

        async def main(sock: socket.socket):
            loop = asyncio.get_running_loop()
            {registration}
        """
    )
    diagnostic = case.one("time.sleep(1)")
    assert "`on_ready` runs on the event loop because it is a callback registered with" in diagnostic.message
    assert diagnostic.message.startswith("Blocking call `time.sleep` in `on_ready` freezes the event loop (sleep)")
    [registered] = diagnostic.related
    assert registered.span.start.line == case.line(registration)
    assert "registered with" in registered.message
    assert not diagnostic.fixes  # sync code cannot await: no automatic fix


def test_callback_forms(snippets: Snippets) -> None:
    case = snippets.check(
        """
        import asyncio
        import functools
        import os

        class Poller:
            def __init__(self, hass):
                self.hass = hass

            def _tick(self):
                os.listdir("/media")

            def _report(self, name):
                open(name).close()

            def start(self):
                self.hass.loop.call_soon(self._tick)
                self.hass.loop.call_later(1, functools.partial(self._report, "log"))

        async def main():
            asyncio.get_running_loop().call_soon(lambda: os.stat("/"))
        """
    )
    # A bound method, with the loop typed no further than `self.hass.loop`.
    assert "registered with `self.hass.loop.call_soon`" in case.one('os.listdir("/media")').message
    # functools.partial(...) and a lambda.
    assert "`Poller._report` runs on the event loop" in case.one("open(name)").message
    assert "`lambda (line" in case.one('os.stat("/")').message


def test_loop_bound_propagates_to_the_functions_a_callback_calls(snippets: Snippets) -> None:
    case = snippets.check(
        {
            "main.py": """
            import asyncio
            from .helpers import refresh

            def on_timer():
                refresh("/config")

            async def main():
                asyncio.get_running_loop().call_later(30, on_timer)
            """,
            "helpers.py": """
            import json

            def refresh(folder):
                return _load(folder + "/state.json")

            def _load(path):
                with open(path) as handle:
                    return json.load(handle)
            """,
        }
    )
    assert not case.diagnostics["main.py"]  # reported where it blocks, not at the call
    diagnostic = case.one("with open(path)", "helpers.py")
    assert "`_load` runs on the event loop: it is called from `on_timer`" in diagnostic.message
    registered, first, second = diagnostic.related
    assert "call_later" in registered.message and registered.span.start.line == case.line("call_later")
    assert first.message == "calls `refresh`" and first.span.start.line == case.line('refresh("/config")')
    assert second.message == "calls `_load`"
    assert "json.load" in case.one("json.load(handle)", "helpers.py").message


@pytest.mark.parametrize(
    "handoff",
    [
        "await loop.run_in_executor(None, on_ready)",
        "await asyncio.to_thread(on_ready)",
        "threading.Thread(target=on_ready).start()",
        "concurrent.futures.ThreadPoolExecutor().submit(on_ready)",
        "concurrent.futures.ThreadPoolExecutor().submit(work).add_done_callback(on_ready)",
        "on_ready",
    ],
)
def test_functions_run_off_the_loop_stay_quiet(snippets: Snippets, handoff: str) -> None:
    case = snippets.check(
        f"""
        import asyncio
        import concurrent.futures
        import threading
        import time

        def work():
            pass

        def on_ready(*args):
            time.sleep(1)

        async def main():
            loop = asyncio.get_running_loop()
            {handoff}
        """
    )
    assert not case.diagnostics["main.py"], [d.message for d in case.diagnostics["main.py"]]


def test_callback_that_offloads_is_quiet(snippets: Snippets) -> None:
    case = snippets.check(
        """
        import asyncio
        import time

        def blocking():
            time.sleep(1)

        def on_ready(loop):
            loop.run_in_executor(None, blocking)

        async def main():
            loop = asyncio.get_running_loop()
            loop.call_soon(on_ready, loop)
        """
    )
    assert not case.diagnostics["main.py"]


# -- properties ----------------------------------------------------------------------


def test_reading_a_blocking_property_in_a_coroutine(snippets: Snippets) -> None:
    case = snippets.check(
        """
        from functools import cached_property
        from pathlib import Path

        class Device:
            @property
            def certificate(self) -> str:
                return Path("/config/cert.pem").read_text()

            @certificate.setter
            def certificate(self, value: str) -> None:
                self._certificate = value

            @cached_property
            def serial(self) -> str:
                return open("/sys/serial").read()

            @property
            def name(self) -> str:
                return "device"

        async def main(device: Device):
            pem = device.certificate
            number = device.serial
            label = device.name
            device.certificate = "x"
        """
    )
    diagnostic = case.one("pem = device.certificate")
    assert diagnostic.message.startswith("Reading property `device.certificate` blocks the event loop")
    assert "Device.certificate -> pathlib.Path.read_text" in diagnostic.message
    [blocking] = diagnostic.related
    assert blocking.span.start.line == case.line('Path("/config/cert.pem").read_text()')
    assert case.one("number = device.serial")
    assert not case.at("label = device.name")
    assert not case.at('device.certificate = "x"')


def test_property_reads_propagate_loop_bound(snippets: Snippets) -> None:
    case = snippets.check(
        """
        import asyncio
        import os

        class Disk:
            @property
            def free(self) -> int:
                return os.statvfs("/").f_bavail

        def on_tick(disk: Disk):
            return disk.free

        async def main(disk: Disk):
            asyncio.get_running_loop().call_soon(on_tick, disk)
        """
    )
    diagnostic = case.one('os.statvfs("/")')
    assert "`Disk.free` runs on the event loop: it is called from `on_tick`" in diagnostic.message


# -- sync helpers called from a coroutine: the blocking line as related information --------


def test_helpers_methods_and_constructors_called_from_a_coroutine(snippets: Snippets) -> None:
    case = snippets.check(
        {
            "main.py": """
            from .store import Store, load_all

            async def main():
                store = Store("/data")
                store.flush()
                load_all()
            """,
            "store.py": """
            import os
            import shutil

            class Store:
                def __init__(self, root):
                    self.entries = os.listdir(root)

                def flush(self):
                    shutil.rmtree("/tmp/store")

            def load_all():
                return Store("/data")
            """,
        }
    )
    constructor = case.one('store = Store("/data")')
    assert "Store.__init__ -> os.listdir" in constructor.message
    [blocking] = constructor.related
    assert blocking.path.endswith("store.py")
    assert blocking.span.start.line == case.line("os.listdir(root)", "store.py")
    assert constructor.fixes and "to_thread" in constructor.fixes[0].title
    method = case.one("store.flush()")
    assert method.related[-1].span.start.line == case.line("shutil.rmtree", "store.py")
    helper = case.one("load_all()")
    assert "load_all -> Store.__init__ -> os.listdir" in helper.message
    assert [r.message for r in helper.related] == ["calls `Store.__init__`", "blocking call `os.listdir` (file)"]
    # Not loop-bound by themselves: the helpers' own lines are not reported.
    assert not case.diagnostics["store.py"]



def test_recursion_does_not_hide_a_blocking_call(snippets: Snippets) -> None:
    # `b` is explored first from `a`, while `a` is still open: its "no chain" must not stick.
    case = snippets.check(
        """
        import time

        def a():
            b()
            c()

        def b():
            a()

        def c():
            time.sleep(1)

        async def handler():
            a()
            b()
        """
    )
    handler = case.line("async def handler")
    found = {d.span.start.line: d.message for d in case.diagnostics["main.py"]}
    assert sorted(found) == [handler + 1, handler + 2]
    assert "a -> c -> time.sleep" in found[handler + 1]
    assert "b -> a -> c -> time.sleep" in found[handler + 2]


def test_the_findings_cache_knows_where_a_function_is_registered(tmp_path: Path) -> None:
    # A helper's blocking line is reported because another module registers it:
    # a cached finding must go when the registration goes.
    root = tmp_path / "app"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "helpers.py").write_text("import time\n\n\ndef tick():\n    time.sleep(1)\n")
    registration = "    asyncio.get_running_loop().call_soon(tick)\n"
    (root / "pkg" / "main.py").write_text(
        "import asyncio\nfrom .helpers import tick\n\n\nasync def main():\n" + registration
    )

    def run() -> list[int]:
        project = Project(root, use_jedi=False, library_cache_dir=False, cache_dir=tmp_path / "cache")
        results = project.check(sorted((root / "pkg").glob("*.py")))
        return [d.span.start.line for r in results if r.path.endswith("helpers.py") for d in r.diagnostics]

    assert run() == [5]
    assert run() == [5]  # from the cache
    main = root / "pkg" / "main.py"
    main.write_text(main.read_text().replace(registration, "    pass\n"))
    assert run() == []

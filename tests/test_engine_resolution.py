"""Resolution: how the engine learns what a call calls.

Cheap resolution (imports, instances, annotations, ``self`` attributes, return
types, context managers, the project's own modules) is checked through the
blocking-call rule, each with a look-alike that must stay unresolved or clean.
Then the import-table fallback without jedi, jedi on receivers only it can
type (with a throw-away virtual environment holding fake packages), the
catalog's mapping of jedi's names, and a fixture project of several modules.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from asyncsense.analyzers.catalog import default_catalog
from asyncsense.analyzers.project import Project

FIXTURE = Path(__file__).parent / "fixtures" / "project_blocking"


def names_flagged(diagnostics) -> list[tuple[int, str]]:
    """(line, catalog name or chain) of each blocking-call diagnostic."""
    found = []
    for d in diagnostics:
        match = re.match(r"Blocking call `([^`]+)`", d.message) or re.search(r": (\S+( -> \S+)+)", d.message)
        found.append((d.span.start.line, match.group(1) if match else d.message))
    return sorted(found)


# -- imports --------------------------------------------------------------------------


def test_import_as_and_from_import_as(engine):
    source = """\
        import requests as rq
        import urllib.request as ur
        from subprocess import run as sh
        from time import sleep as nap

        async def handler():
            rq.get("u")
            ur.urlopen("u")
            sh(["ls"])
            nap(1)
    """
    assert names_flagged(engine.check(source)) == [
        (7, "requests.get"),
        (8, "urllib.request.urlopen"),
        (9, "subprocess.run"),
        (10, "time.sleep"),
    ]


def test_look_alike_names_bound_to_something_else(engine):
    source = """\
        import asyncio as time
        from asyncio import sleep as nap

        class requests:
            @staticmethod
            def get(url):
                return url

        async def handler():
            await time.sleep(1)
            await nap(1)
            requests.get("u")
    """
    assert engine.check(source) == []


def test_function_local_imports(engine):
    source = """\
        async def handler():
            import shutil
            from os import path as p
            shutil.rmtree("build")
            p.exists("x")

    """
    assert names_flagged(engine.check(source)) == [(4, "shutil.rmtree"), (5, "os.path.exists")]


def test_dotted_import_and_submodule_from_import(engine):
    source = """\
        import os.path
        import http.client
        from os import path

        async def handler():
            os.path.getsize("x")
            path.isdir("x")
            http.client.HTTPConnection("h").request("GET", "/")
    """
    assert names_flagged(engine.check(source)) == [
        (6, "os.path.getsize"),
        (7, "os.path.isdir"),
        (8, "http.client.HTTPConnection.request"),
    ]


# -- instances, annotations, self attributes ----------------------------------------------


def test_instances_from_constructors_and_reassignments(engine):
    source = """\
        import requests

        async def handler():
            s = requests.Session()
            s.get("u")
            t = s
            t.post("u")
            d = {}
            d.get("u")
    """
    assert names_flagged(engine.check(source)) == [(5, "requests.Session.get"), (7, "requests.Session.post")]


ANNOTATIONS = [
    "requests.Session",
    "Optional[requests.Session]",
    "typing.Optional[requests.Session]",
    "Union[requests.Session, None]",
    "requests.Session | None",
    "None | requests.Session",
    "'requests.Session'",
    "'Optional[requests.Session]'",
    "Session",
    "Annotated[Session, 'doc']",
]


@pytest.mark.parametrize("annotation", ANNOTATIONS)
def test_parameter_and_variable_annotations(engine, annotation):
    source = f"""\
        import typing
        from typing import Annotated, Optional, Union
        import requests
        from requests import Session

        async def handler(session: {annotation}):
            session.get("u")

        async def variable():
            session: {annotation} = make()
            session.post("u")
    """
    assert names_flagged(engine.check(source)) == [(7, "requests.Session.get"), (11, "requests.Session.post")]


def test_an_unannotated_parameter_is_not_guessed(engine):
    source = """\
        async def handler(session, cache: dict):
            session.get("u")
            cache.get("u")
    """
    assert engine.check(source) == []


def test_self_attributes_from_init_class_annotations_and_parameters(engine):
    source = """\
        import httpx
        import socket
        import requests
        from pathlib import Path

        class Client:
            session: requests.Session

            def __init__(self, http: httpx.Client, root: Path):
                self.http = http
                self.root = root
                self.sock = socket.socket()
                self.cache = {}

            async def run(self):
                self.session.get("u")
                self.http.get("u")
                self.sock.recv(1)
                (self.root / "x").read_text()
                self.cache.get("u")
    """
    assert names_flagged(engine.check(source)) == [
        (16, "requests.Session.get"),
        (17, "httpx.Client.get"),
        (18, "socket.socket.recv"),
        (19, "pathlib.Path.read_text"),
    ]


def test_self_attribute_through_a_base_class(engine):
    source = """\
        import sqlite3

        class Base:
            def __init__(self):
                self.conn = sqlite3.connect("x")

        class Child(Base):
            async def run(self):
                self.conn.commit()
    """
    assert names_flagged(engine.check(source)) == [(9, "sqlite3.Connection.commit")]


def test_return_types_of_library_calls(engine):
    source = """\
        import sqlite3
        import psycopg2

        async def handler():
            sqlite3.connect("x").execute("select 1").fetchall()
            psycopg2.connect("").cursor().fetchone()
    """
    found = names_flagged(engine.check(source))
    assert (5, "sqlite3.Cursor.fetchall") in found and (5, "sqlite3.Connection.execute") in found
    assert (6, "psycopg2.extensions.cursor.fetchone") in found


def test_context_managers(engine):
    source = """\
        import requests, sqlite3, ftplib

        async def handler():
            with requests.Session() as s:
                s.get("u")
            with open("f") as handle, sqlite3.connect("db") as conn:
                handle.readline()
                conn.execute("q")
            async with lock as acquired:
                acquired.get("u")
    """
    found = names_flagged(engine.check(source))
    assert (5, "requests.Session.get") in found
    assert (7, "io.TextIOWrapper.readline") in found
    assert (8, "sqlite3.Connection.execute") in found
    assert not [line for line, _ in found if line == 10]


def test_return_annotations_of_project_functions_and_methods(engine):
    source = """\
        from pathlib import Path
        from typing import Optional
        import requests

        def session() -> requests.Session:
            return requests.Session()

        def maybe_path() -> "Optional[Path]":
            return None

        class Settings:
            def cert_path(self) -> Path:
                return Path("cert.pem")

            @property
            def key_path(self) -> Path:
                return Path("key.pem")

            async def load(self):
                self.cert_path().read_text()
                self.key_path.read_bytes()

        async def handler():
            session().get("u")
            maybe_path().exists()
    """
    assert names_flagged(engine.check(source)) == [
        (20, "pathlib.Path.read_text"),
        (21, "pathlib.Path.read_bytes"),
        (24, "requests.Session.get"),
        (25, "pathlib.Path.exists"),
    ]


def test_awaited_results_of_annotated_project_coroutines(plain_engine):
    """Without jedi: ``x = await f()`` is what the coroutine function ``f`` says it returns."""
    source = """\
        from pathlib import Path

        async def config_path() -> Path:
            return Path("c")

        async def unannotated():
            return Path("c")

        async def handler():
            path = await config_path()
            path.read_text()
            (await config_path()).read_bytes()
            other = await unannotated()
            other.read_text()
    """
    assert names_flagged(plain_engine.check(source)) == [
        (11, "pathlib.Path.read_text"),
        (12, "pathlib.Path.read_bytes"),
    ]


def test_loop_variables_string_methods_and_generic_bases_without_jedi(plain_engine):
    """Cheap resolution types what a loop over a known call yields, the result of a
    str/bytes method, and a class whose base is written with type arguments."""
    source = """\
        import re
        import time
        from pathlib import Path
        from typing import Generic, TypeVar

        T = TypeVar("T")
        PAIRS = re.compile(r"(\\w+)=(\\w+)")

        class Store(Generic[T]):
            def load(self):
                time.sleep(1)

        class Users(Store[int]):
            pass

        async def handler(users: Users, text: str, folder: Path):
            users.load()
            for match in PAIRS.finditer(text):
                match.group(1)
            text.strip().replace("a", "b").replace("c", "d")
            for child in folder.iterdir():
                child.read_text()
    """
    case = plain_engine.case(source)
    model = plain_engine.project.load(case.path).model
    resolver = plain_engine.project.resolver_for(model)
    callees = {
        ast.unparse(site.node.func): resolver.callee(site.node, site.scope, infer=False).name for site in model.calls
    }
    assert callees["match.group"] == "re.Match.group"
    assert callees["text.strip().replace('a', 'b').replace"] == "builtins.str.replace"
    assert callees["child.read_text"] == "pathlib.Path.read_text"
    assert names_flagged(plain_engine.check(source)) == [
        (17, "Store.load -> time.sleep"),  # through the generic base
        (21, "pathlib.Path.iterdir"),
        (22, "pathlib.Path.read_text"),  # a loop variable
    ]


def test_a_return_annotation_saying_awaitable_is_not_an_instance(engine):
    source = """\
        import asyncio
        from typing import Awaitable

        def later() -> Awaitable[None]:
            return asyncio.sleep(1)

        async def handler():
            await later()
            later()
    """
    assert engine.check(source) == []


def test_project_subclass_of_a_library_class(engine):
    source = """\
        import requests
        from concurrent.futures import ThreadPoolExecutor

        class ApiSession(requests.Session):
            def login(self):
                return None

        async def handler(pool: ThreadPoolExecutor):
            api = ApiSession()
            api.login()
            api.get("u")
            pool.map(print, [1])
    """
    assert names_flagged(engine.check(source)) == [(11, "requests.Session.get"), (12, "concurrent.futures.Executor.map")]


def test_project_class_shadowing_a_library_method_name(engine):
    source = """\
        import requests

        class Session(requests.Session):
            def get(self, url):
                return url

        async def handler():
            Session().get("u")
            Session().post("u")
    """
    assert names_flagged(engine.check(source)) == [(9, "requests.Session.post")]


# -- the project's own modules ------------------------------------------------------------


def test_relative_absolute_and_reexported_imports_across_modules(engine):
    case = engine.case(
        {
            "main.py": """\
                from . import store
                from .store import load as load_relative
                from .pkg import load as load_reexported
                from .pkg.impl import Store

                async def handler(s: Store):
                    store.load()
                    load_relative()
                    load_reexported()
                    s.read()
            """,
            "store.py": "import time\n\ndef load():\n    time.sleep(1)\n",
            "pkg/__init__.py": "from .impl import load\n",
            "pkg/impl.py": (
                "import os\n\ndef load():\n    os.listdir('.')\n\n"
                "class Store:\n    def read(self):\n        return load()\n"
            ),
        }
    )
    assert names_flagged(case.rule("blocking-call")) == [
        (7, "load -> time.sleep"),
        (8, "load -> time.sleep"),
        (9, "load -> os.listdir"),
        (10, "Store.read -> load -> os.listdir"),
    ]
    # absolute imports name the package as a top-level one: case_N.store
    absolute = engine.case({"main.py": "", "store.py": "import time\n\ndef load():\n    time.sleep(1)\n"})
    package = absolute.package.name
    absolute.path.write_text(f"from {package}.store import load\nimport {package}.store as st\n\nasync def h():\n    load()\n    st.load()\n")
    engine.project.drop_source(absolute.path)
    [result] = engine.project.check([absolute.path])
    assert names_flagged(result.diagnostics) == [(5, "load -> time.sleep"), (6, "load -> time.sleep")]


def test_a_chain_four_modules_deep_is_found_when_checking_one_file(engine):
    case = engine.case(
        {
            "main.py": "from .a import fa\n\nasync def h():\n    fa()\n",
            "a.py": "from .b import fb\n\ndef fa():\n    fb()\n",
            "b.py": "from .c import fc\n\ndef fb():\n    fc()\n",
            "c.py": "from .d import fd\n\ndef fc():\n    fd()\n",
            "d.py": "import time\n\ndef fd():\n    time.sleep(1)\n",
        }
    )
    assert names_flagged(case.rule("blocking-call")) == [(4, "fa -> fb -> fc -> fd -> time.sleep")]


# -- without jedi: the import table ---------------------------------------------------------


def test_import_table_fallback_without_jedi(plain_engine):
    source = """\
        import requests
        from requests import Session

        async def handler():
            requests.get("u")
            Session().post("u")
            requests.Session().patch("u")
    """
    case = plain_engine.case(source)
    assert plain_engine.project.inference is None
    assert names_flagged(case.diagnostics) == [
        (5, "requests.get"),
        (6, "requests.Session.post"),
        (7, "requests.Session.patch"),
    ]


def test_import_table_fallback_with_jedi_on_asks_jedi_nothing(engine):
    # Whether or not requests is installed, the import table answers first:
    # jedi is not asked (a library that is not installed needs no jedi).
    engine.check("import time\n\nasync def warm_up():\n    time.sleep(1)\n")
    before = engine.project.inference.queries
    case = engine.case("import requests\nimport not_installed_sdk as sdk\n\nasync def handler():\n    requests.get('u')\n    sdk.get('u')\n")
    assert names_flagged(case.diagnostics) == [(5, "requests.get")]
    assert engine.project.inference.queries == before


def test_a_library_that_is_not_installed_is_found_by_its_imports(tmp_path):
    from asyncsense.analyzers.config import Config, ExtraBlockingCall

    (tmp_path / "app.py").write_text(
        "from not_installed_sdk.client import Client as C\n\nasync def handler():\n    C().fetch()\n"
    )
    config = Config(extra_blocking_calls=(ExtraBlockingCall("not_installed_sdk.client.Client.fetch", "network"),))
    for use_jedi in (True, False):
        [result] = Project(tmp_path, config, use_jedi=use_jedi).check([tmp_path / "app.py"])
        assert names_flagged(result.diagnostics) == [(4, "not_installed_sdk.client.Client.fetch")]


# -- jedi ----------------------------------------------------------------------------------------


def test_a_receiver_only_jedi_can_type(engine, plain_engine):
    source = """\
        import threading
        import socket

        def make_lock():
            return threading.Lock()

        def make_socket():
            return socket.socket()

        async def handler():
            make_lock().acquire()
            make_socket().recv(1)
            lock = make_lock()
            lock.acquire()
    """
    assert names_flagged(engine.check(source)) == [
        (11, "threading.Lock.acquire"),
        (12, "socket.socket.recv"),
        (14, "threading.Lock.acquire"),
    ]
    assert plain_engine.check(source) == []


def test_a_file_object_jedi_names_after_its_base_class(engine):
    source = """\
        import io

        def log_file():
            return open("app.log")

        def buffer():
            return io.StringIO()

        async def handler():
            log_file().write("x")
            buffer().write("x")
    """
    found = names_flagged(engine.check(source))
    assert (10, "io.TextIOWrapper.write") in found
    assert not [line for line, _ in found if line == 11]


FAKE_REQUESTS = {
    "requests/__init__.py": "from .api import get, post\nfrom .sessions import Session, session\n",
    "requests/api.py": textwrap.dedent(
        """\
        from . import sessions

        def request(method, url, **kwargs):
            with sessions.Session() as session:
                return session.request(method=method, url=url, **kwargs)

        def get(url, params=None, **kwargs):
            return request("get", url, params=params, **kwargs)

        def post(url, data=None, **kwargs):
            return request("post", url, data=data, **kwargs)
        """
    ),
    "requests/sessions.py": textwrap.dedent(
        """\
        class Session:
            def __enter__(self):
                return self

            def __exit__(self, *args):
                return None

            def request(self, method, url, **kwargs):
                return None

            def get(self, url, **kwargs):
                return self.request("GET", url, **kwargs)

        def session():
            return Session()
        """
    ),
    "netkit/__init__.py": textwrap.dedent(
        """\
        import socket
        import threading

        def open_channel(host):
            return socket.create_connection((host, 80))

        def raw_socket():
            return socket.socket()

        def make_lock():
            return threading.Lock()

        class Pool:
            def checkout(self):
                return raw_socket()

        def pool():
            return Pool()
        """
    ),
}


@pytest.fixture(scope="module")
def fake_venv(tmp_path_factory) -> str:
    """A virtual environment (no pip: fast) with fake `requests` and `netkit` installed."""
    env = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for relative, text in FAKE_REQUESTS.items():
        path = Path(site) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(python)


@pytest.fixture(scope="module")
def venv_project_result(fake_venv, tmp_path_factory):
    root = tmp_path_factory.mktemp("venv_project")
    (root / "app.py").write_text(
        textwrap.dedent(
            """\
            import requests
            import netkit
            from requests.api import get as api_get

            def make():
                return requests.Session()

            async def handler():
                make().get("u")
                requests.session().get("u")
                api_get("u")
                netkit.open_channel("h").sendall(b"x")
                netkit.raw_socket().recv(1)
                netkit.make_lock().acquire()
                netkit.pool().checkout().recv(1)
                requests.get("u")
            """
        )
    )
    with_venv = Project(root, python=fake_venv).check([root / "app.py"])[0]
    without = Project(root, use_jedi=False).check([root / "app.py"])[0]
    return with_venv, without


def test_jedi_types_receivers_through_an_installed_package(venv_project_result):
    with_venv, without = venv_project_result
    found = names_flagged(with_venv.diagnostics)
    # (The library's own functions may be reported too, as chains, when the
    # engine follows installed libraries: `netkit.open_channel -> socket.create_connection`.)
    assert {
        (9, "requests.Session.get"),
        (10, "requests.Session.get"),
        (11, "requests.get"),
        (12, "socket.socket.sendall"),
        (13, "socket.socket.recv"),
        (14, "threading.Lock.acquire"),
        (15, "socket.socket.recv"),
        (16, "requests.get"),
    } <= set(found), found
    # Without jedi only the names the import table can see are found.
    assert {(11, "requests.get"), (16, "requests.get")} <= set(names_flagged(without.diagnostics))
    assert not {line for line, _ in names_flagged(without.diagnostics)} & {9, 13, 14, 15}


def test_a_venv_interpreter_is_not_mistaken_for_the_running_one(fake_venv):
    from asyncsense.analyzers.inference import interpreter_sys_path

    # The venv's python is a symbolic link to the same binary as ours, but its
    # site-packages are its own.
    paths = interpreter_sys_path(fake_venv)
    assert any(Path(p, "netkit").is_dir() for p in paths)
    assert interpreter_sys_path(sys.executable) == ()


# jedi's spelling -> the catalog's name
JEDI_NAMES = [
    ("requests.api.get", "requests.get"),
    ("requests.sessions.Session.get", "requests.Session.get"),
    ("_thread.LockType.acquire", "threading.Lock.acquire"),
    ("_thread.RLock.acquire", "threading.RLock.acquire"),
    ("asyncio.tasks.sleep", "asyncio.sleep"),
    ("asyncio.events.AbstractEventLoop.run_in_executor", "asyncio.AbstractEventLoop.run_in_executor"),
    ("asyncio.base_events.BaseEventLoop.run_until_complete", "asyncio.AbstractEventLoop.run_until_complete"),
    ("_socket.socket.recv", "socket.socket.recv"),
    ("posixpath.exists", "os.path.exists"),
    ("genericpath.isfile", "os.path.isfile"),
    ("posix.listdir", "os.listdir"),
    ("_io.TextIOWrapper.read", "io.TextIOWrapper.read"),
    ("io.open", "builtins.open"),
    ("pathlib.PosixPath.read_text", "pathlib.Path.read_text"),
    ("_sqlite3.connect", "sqlite3.connect"),
    ("httpx._api.get", "httpx.get"),
    ("httpx._client.Client.get", "httpx.Client.get"),
    ("urllib3.poolmanager.PoolManager.request", "urllib3.PoolManager.request"),
    ("redis.client.Redis.get", "redis.Redis.get"),
    ("concurrent.futures._base.Future.result", "concurrent.futures.Future.result"),
    ("queue._PySimpleQueue.get", "queue.SimpleQueue.get"),
    ("pymongo.synchronous.collection.Collection.find_one", "pymongo.collection.Collection.find_one"),
]


@pytest.mark.parametrize("jedi_name, public", JEDI_NAMES)
def test_jedi_names_map_onto_catalog_names(jedi_name, public):
    catalog = default_catalog()
    assert catalog.canonical(jedi_name) == public
    entry = catalog.blocking_entry(jedi_name)
    if public.startswith("asyncio."):
        assert entry is None
        assert public in catalog.coroutines or public in catalog.offload or "run_until_complete" in public
    else:
        assert entry is not None and entry.name in (public, jedi_name)


def test_every_alias_rewrites_its_whole_prefix_only():
    catalog = default_catalog()
    for alias, public in catalog.aliases.items():
        assert catalog.canonical(f"{alias}.member") == f"{public}.member"
    # whole dotted components only: a name that merely starts with an alias is left alone
    assert catalog.canonical("requests.apix.get") == "requests.apix.get"
    assert catalog.canonical("posixpathx.exists") == "posixpathx.exists"
    assert catalog.canonical("my_thread.LockType.acquire") == "my_thread.LockType.acquire"


def test_what_jedi_says_about_the_standard_library_maps_onto_the_catalog(engine):
    # Ask jedi itself (no cheap resolution) about stdlib calls and check the names it gives.
    case = engine.case(
        """\
        import os, queue, shutil, subprocess, threading, time
        from pathlib import Path

        async def handler():
            time.sleep(1)
            threading.Lock().acquire()
            threading.Event().wait()
            queue.Queue().get()
            os.path.exists("x")
            subprocess.run(["ls"])
            shutil.copy("a", "b")
            Path("x").read_text()
            open("x")
        """
    )
    inference = engine.project.inference
    model = engine.project.load(case.path).model
    expected = [
        "time.sleep",
        "threading.Lock.acquire",
        "threading.Event.wait",
        "queue.Queue.get",
        "os.path.exists",
        "subprocess.run",
        "shutil.copy",
        "pathlib.Path.read_text",
        "builtins.open",
    ]
    [handler] = [node for node in model.tree.body if isinstance(node, ast.AsyncFunctionDef)]
    calls = [statement.value for statement in handler.body]  # one call per line
    catalog = engine.project.catalog
    named = []
    for call in calls:
        value = inference.infer_callee(model, call)
        entry = catalog.blocking_entry(value.name) if value is not None else None
        named.append(entry.name if entry else value)
    assert named == expected


STUBS_ONLY_PROBE = """
import ast, json, sys, sysconfig
from pathlib import Path
from asyncsense.analyzers.project import Project

root = Path(sys.argv[1])
project = Project(root)
model = project.load(root / "app.py").model
[handler] = [node for node in model.tree.body if isinstance(node, ast.AsyncFunctionDef)]
names = [project.inference.infer_callee(model, statement.value).name for statement in handler.body]
stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
parsed = [Path(path).resolve() for path in project.inference.parsed_paths()]
print(json.dumps({
    "names": names,
    "stubs": sum(path.suffix == ".pyi" for path in parsed),
    "asyncio_sources": [str(p) for p in parsed if p.suffix == ".py" and p.parent == stdlib / "asyncio"],
}))
"""


def test_jedi_reads_the_standard_library_from_its_stubs_only(tmp_path):
    # The answers above come from typeshed; jedi need not parse the sources too.
    # (A fresh interpreter, as in the CLI: jedi finds a module this process has
    # imported - asyncio, for pytest - through ``sys.modules`` whatever its path.)
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """\
            import asyncio, time

            async def handler(loop: asyncio.AbstractEventLoop):
                time.sleep(1)
                loop.run_until_complete(handler(loop))
            """
        )
    )
    probe = subprocess.run(
        [sys.executable, "-c", STUBS_ONLY_PROBE, str(tmp_path)], capture_output=True, text=True, check=True
    )
    found = json.loads(probe.stdout)
    assert found["names"] == ["time.sleep", "asyncio.AbstractEventLoop.run_until_complete"]
    assert found["stubs"] > 10  # builtins, asyncio's, ...
    assert found["asyncio_sources"] == []
    assert "not importable" not in probe.stderr  # jedi's warning about compiled modules is silenced


# -- a project of several modules ---------------------------------------------------------------


def expected_markers(root: Path) -> dict[tuple[str, int], list[str]]:
    found: dict[tuple[str, int], list[str]] = {}
    for path in sorted(root.rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "# expect: " in line:
                found[(str(path.resolve()), number)] = line.split("# expect: ", 1)[1].split(" || ")
    return found


@pytest.fixture(scope="module", params=[True, False], ids=["jedi", "import-table"])
def fixture_results(request):
    project = Project(FIXTURE, use_jedi=request.param)
    return project.check(sorted(FIXTURE.rglob("*.py")))


def test_fixture_project_matches_its_markers(fixture_results):
    expected = expected_markers(FIXTURE)
    assert expected, "the fixture has markers"
    seen: dict[tuple[str, int], list[str]] = {}
    for result in fixture_results:
        assert not result.errors and not result.partial
        for d in result.diagnostics:
            if d.rule == "blocking-call":
                seen.setdefault((str(Path(result.path).resolve()), d.span.start.line), []).append(d.message)
    assert sorted(seen) == sorted(expected)
    for key, parts in expected.items():
        for part in parts:
            assert any(part in message for message in seen[key]), (key, part, seen[key])


def test_fixture_chain_points_at_every_hop(fixture_results):
    handlers = next(r for r in fixture_results if r.path.endswith("handlers.py"))
    [diagnostic] = [d for d in handlers.diagnostics if d.span.start.line == 16]
    hops = [(Path(r.path).name, r.span.start.line, r.span.start.column) for r in diagnostic.related]
    assert hops == [("profiles.py", 5, 11), ("profiles.py", 9, 11), ("transport.py", 10, 11)]


def test_fixture_file_checked_alone_gives_the_same_diagnostics():
    # The editor checks one file: the modules it imports are loaded for it.
    handlers = FIXTURE / "app" / "handlers.py"
    [alone] = Project(FIXTURE, use_jedi=False).check([handlers])
    [together] = [r for r in Project(FIXTURE, use_jedi=False).check(sorted(FIXTURE.rglob("*.py"))) if r.path == str(handlers)]
    assert [(d.span, d.message) for d in alone.diagnostics] == [(d.span, d.message) for d in together.diagnostics]


def _edit_transport(project: Project, check_edited_first: bool):
    handlers = FIXTURE / "app" / "handlers.py"
    transport = FIXTURE / "app" / "services" / "transport.py"
    before = project.check([handlers])[0].diagnostics
    assert any("http_get -> requests.get" in d.message for d in before)
    project.set_source(transport, transport.read_text().replace("return rq.get(url, timeout=5)", "return url"))
    if check_edited_first:
        project.check([transport])  # the editor checks the buffer it changed
    return project.check([handlers])[0].diagnostics


def test_editing_a_helper_updates_its_callers():
    after = _edit_transport(Project(FIXTURE, use_jedi=False), check_edited_first=True)
    assert not any("http_get" in d.message for d in after)
    assert any("session_get -> requests.Session.get" in d.message for d in after)


def test_editing_a_helper_updates_its_callers_even_if_it_is_not_checked():
    after = _edit_transport(Project(FIXTURE, use_jedi=False), check_edited_first=False)
    assert any("session_get -> requests.Session.get" in d.message for d in after)

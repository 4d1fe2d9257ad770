"""blocking-call (ASN001): what it flags, what it must leave alone, what it says.

Every positive has a look-alike negative next to it.  Snippets run through one
warm session-wide ``Project`` (see ``conftest.py``); the libraries named here
(requests, httpx, psycopg, redis ...) are not installed, so these tests also
pin the import-table resolution that works without them.
"""

from __future__ import annotations

import textwrap

import pytest

from asyncsense.analyzers.config import Config, ExtraBlockingCall, load_config
from asyncsense.analyzers.project import Project


def coroutine(setup: str, body: str, params: str = "") -> str:
    """A module: ``setup`` at top level, ``body`` inside ``async def handler``."""
    return (
        textwrap.dedent(setup).strip()
        + "\n\nURL = 'https://example.com'\n\n\nasync def handler("
        + params
        + "):\n"
        + textwrap.indent(textwrap.dedent(body).strip(), "    ")
        + "\n"
    )


def last_line(source: str) -> int:
    return len(source.rstrip("\n").splitlines())


def found_on(diagnostics, line: int) -> list[str]:
    return [d.message for d in diagnostics if d.span.start.line == line]


# -- the catalog: one case per category and library family ------------------------------

CATALOG_CASES = [
    # (catalog name, module setup, coroutine body whose last line is the blocking call)
    ("time.sleep", "import time", "time.sleep(1)"),
    ("time.sleep", "from time import sleep", "sleep(0.5)"),
    # requests: module functions and Session methods
    ("requests.get", "import requests", "requests.get(URL)"),
    ("requests.post", "import requests", "requests.post(URL, json={})"),
    ("requests.request", "import requests", "requests.request('GET', URL)"),
    ("requests.Session.get", "import requests", "session = requests.Session()\nsession.get(URL)"),
    ("requests.Session.send", "import requests", "session = requests.Session()\nsession.send(None)"),
    ("requests.Session.post", "import requests", "requests.Session().post(URL)"),
    # urllib.request, http.client
    ("urllib.request.urlopen", "import urllib.request", "urllib.request.urlopen(URL)"),
    ("urllib.request.urlretrieve", "from urllib.request import urlretrieve", "urlretrieve(URL, 'out')"),
    (
        "http.client.HTTPConnection.request",
        "import http.client",
        "conn = http.client.HTTPConnection('example.com')\nconn.request('GET', '/')",
    ),
    (
        "http.client.HTTPSConnection.getresponse",
        "from http.client import HTTPSConnection",
        "conn = HTTPSConnection('example.com')\nconn.getresponse()",
    ),
    ("http.client.HTTPResponse.read", "import urllib.request", "urllib.request.urlopen(URL).read()"),
    # httpx sync API and Client methods
    ("httpx.get", "import httpx", "httpx.get(URL)"),
    ("httpx.stream", "import httpx", "httpx.stream('GET', URL)"),
    ("httpx.Client.get", "import httpx", "client = httpx.Client()\nclient.get(URL)"),
    ("httpx.Client.send", "import httpx", "with httpx.Client() as client:\n    client.send(None)"),
    # urllib3
    ("urllib3.request", "import urllib3", "urllib3.request('GET', URL)"),
    ("urllib3.PoolManager.request", "import urllib3", "http = urllib3.PoolManager()\nhttp.request('GET', URL)"),
    # socket functions and socket methods, ssl sockets
    ("socket.create_connection", "import socket", "socket.create_connection(('example.com', 80))"),
    ("socket.getaddrinfo", "import socket", "socket.getaddrinfo('example.com', 80)"),
    ("socket.gethostbyname", "import socket", "socket.gethostbyname('example.com')"),
    ("socket.socket.connect", "import socket", "sock = socket.socket()\nsock.connect(('example.com', 80))"),
    ("socket.socket.recv", "import socket", "sock = socket.socket()\nsock.recv(1024)"),
    ("socket.socket.sendall", "import socket", "sock = socket.create_connection(('h', 1))\nsock.sendall(b'x')"),
    ("socket.socket.accept", "import socket", "server = socket.create_server(('', 80))\nserver.accept()"),
    (
        "ssl.SSLSocket.recv",
        "import socket\nimport ssl",
        "context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)\ntls = context.wrap_socket(socket.socket())\ntls.recv(1)",
    ),
    (
        "ssl.SSLSocket.do_handshake",
        "import ssl",
        "def wrap(raw) -> ssl.SSLSocket: ...\n\nwrap(None).do_handshake()",
    ),
    ("ssl.create_default_context", "import ssl", "ssl.create_default_context()"),
    # subprocesses: subprocess and os
    ("subprocess.run", "import subprocess", "subprocess.run(['ls'])"),
    ("subprocess.check_output", "import subprocess as sp", "sp.check_output(['ls'])"),
    ("subprocess.Popen.wait", "import subprocess", "proc = subprocess.Popen(['ls'])\nproc.wait()"),
    ("subprocess.Popen.communicate", "from subprocess import Popen", "Popen(['ls']).communicate()"),
    ("os.system", "import os", "os.system('ls')"),
    ("os.popen", "import os", "os.popen('ls')"),
    ("os.spawnl", "import os", "os.spawnl(os.P_WAIT, '/bin/ls', 'ls')"),
    ("os.spawnvp", "import os", "os.spawnvp(os.P_WAIT, 'ls', ['ls'])"),
    ("os.wait", "import os", "os.wait()"),
    ("os.waitpid", "import os", "os.waitpid(1, 0)"),
    # files: open, io.open and the file objects they return
    ("builtins.open", "", "open('data.txt')"),
    ("builtins.open", "import io", "io.open('data.txt')"),
    ("io.TextIOWrapper.read", "", "handle = open('data.txt')\nhandle.read()"),
    ("io.TextIOWrapper.write", "", "with open('data.txt', 'w') as handle:\n    handle.write('x')"),
    ("io.TextIOWrapper.readlines", "import io", "io.open('data.txt').readlines()"),
    # blocking os / os.path file operations
    ("os.listdir", "import os", "os.listdir('.')"),
    ("os.stat", "import os", "os.stat('data.txt')"),
    ("os.remove", "import os", "os.remove('data.txt')"),
    ("os.makedirs", "import os", "os.makedirs('out', exist_ok=True)"),
    ("os.walk", "import os", "os.walk('.')"),
    ("os.path.exists", "import os", "os.path.exists('data.txt')"),
    ("os.path.getsize", "import os.path", "os.path.getsize('data.txt')"),
    ("os.path.isfile", "from os import path", "path.isfile('data.txt')"),
    # pathlib.Path I/O
    ("pathlib.Path.read_text", "from pathlib import Path", "Path('data.txt').read_text()"),
    ("pathlib.Path.write_bytes", "import pathlib", "pathlib.Path('out').write_bytes(b'')"),
    ("pathlib.Path.exists", "from pathlib import Path", "Path('data.txt').exists()"),
    ("pathlib.Path.mkdir", "from pathlib import Path", "Path('out').mkdir()"),
    ("pathlib.Path.iterdir", "from pathlib import Path", "Path('.').iterdir()"),
    ("pathlib.Path.open", "from pathlib import Path", "Path('data.txt').open()"),
    ("pathlib.Path.read_text", "from pathlib import Path", "base = Path('.')\n(base / 'data.txt').read_text()"),
    # shutil
    ("shutil.copy", "import shutil", "shutil.copy('a', 'b')"),
    ("shutil.copytree", "import shutil", "shutil.copytree('a', 'b')"),
    ("shutil.rmtree", "from shutil import rmtree", "rmtree('out')"),
    ("shutil.move", "import shutil", "shutil.move('a', 'b')"),
    # other file readers
    ("json.load", "import json", "json.load(None)"),
    ("tempfile.NamedTemporaryFile", "import tempfile", "tempfile.NamedTemporaryFile()"),
    ("glob.glob", "import glob", "glob.glob('*.py')"),
    ("importlib.import_module", "import importlib", "importlib.import_module('json')"),
    # sqlite3: module, connection and cursor methods
    ("sqlite3.connect", "import sqlite3", "sqlite3.connect('app.db')"),
    ("sqlite3.Connection.execute", "import sqlite3", "sqlite3.connect('app.db').execute('select 1')"),
    ("sqlite3.Connection.commit", "import sqlite3", "conn = sqlite3.connect('app.db')\nconn.commit()"),
    ("sqlite3.Cursor.execute", "import sqlite3", "conn = sqlite3.connect('app.db')\ncur = conn.cursor()\ncur.execute('q')"),
    (
        "sqlite3.Cursor.fetchall",
        "import sqlite3",
        "conn = sqlite3.connect('app.db')\nrows = conn.execute('select 1')\nrows.fetchall()",
    ),
    # psycopg2 and psycopg (sync)
    ("psycopg2.connect", "import psycopg2", "psycopg2.connect('dbname=app')"),
    (
        "psycopg2.extensions.cursor.execute",
        "import psycopg2",
        "conn = psycopg2.connect('dbname=app')\ncur = conn.cursor()\ncur.execute('select 1')",
    ),
    ("psycopg2.extensions.connection.commit", "import psycopg2", "psycopg2.connect('').commit()"),
    ("psycopg.connect", "import psycopg", "psycopg.connect('dbname=app')"),
    ("psycopg.Connection.execute", "import psycopg", "with psycopg.connect('') as conn:\n    conn.execute('q')"),
    ("psycopg.Cursor.fetchall", "import psycopg", "conn = psycopg.connect('')\nconn.cursor().fetchall()"),
    # pymysql, mysql.connector
    ("pymysql.connect", "import pymysql", "pymysql.connect(host='db')"),
    ("pymysql.cursors.Cursor.execute", "import pymysql", "pymysql.connect().cursor().execute('q')"),
    ("mysql.connector.connect", "import mysql.connector", "mysql.connector.connect(host='db')"),
    (
        "mysql.connector.cursor.MySQLCursor.execute",
        "import mysql.connector",
        "conn = mysql.connector.connect()\nconn.cursor().execute('q')",
    ),
    # redis-py sync client
    ("redis.Redis.get", "import redis", "r = redis.Redis()\nr.get('key')"),
    ("redis.Redis.set", "from redis import Redis", "Redis(host='cache').set('key', 1)"),
    ("redis.Redis.hgetall", "import redis", "r = redis.from_url('redis://')\nr.hgetall('key')"),
    ("redis.Redis.get", "import redis", "redis.StrictRedis().get('key')"),
    ("redis.client.Pipeline.execute", "import redis", "redis.Redis().pipeline().execute()"),
    # pymongo
    ("pymongo.collection.Collection.find_one", "import pymongo", "client = pymongo.MongoClient()\nclient.app.users.find_one({})"),
    ("pymongo.collection.Collection.insert_one", "from pymongo import MongoClient", "MongoClient()['app']['users'].insert_one({})"),
    (
        "pymongo.collection.Collection.update_one",
        "from pymongo.collection import Collection",
        "users.update_one({}, {})",
    ),
    # smtplib, ftplib
    ("smtplib.SMTP", "import smtplib", "smtplib.SMTP('mail.example.com')"),
    ("smtplib.SMTP.sendmail", "import smtplib", "server = smtplib.SMTP('mail')\nserver.sendmail('a', 'b', 'c')"),
    ("ftplib.FTP.login", "from ftplib import FTP", "ftp = FTP('ftp.example.com')\nftp.login()"),
    ("ftplib.FTP.retrbinary", "import ftplib", "ftplib.FTP('h').retrbinary('RETR x', print)"),
    # console input
    ("builtins.input", "", "input('name? ')"),
    ("getpass.getpass", "import getpass", "getpass.getpass()"),
    # threads, locks, queues, futures
    ("threading.Lock.acquire", "import threading", "lock = threading.Lock()\nlock.acquire()"),
    ("threading.RLock.acquire", "from threading import RLock", "RLock().acquire()"),
    ("threading.Event.wait", "import threading", "done = threading.Event()\ndone.wait()"),
    ("threading.Thread.join", "import threading", "worker = threading.Thread(target=print)\nworker.join()"),
    ("threading.Semaphore.acquire", "import threading", "threading.Semaphore(2).acquire()"),
    ("threading.Condition.wait", "import threading", "threading.Condition().wait()"),
    ("queue.Queue.get", "import queue", "jobs = queue.Queue()\njobs.get()"),
    ("queue.Queue.put", "from queue import Queue", "Queue().put(1)"),
    (
        "concurrent.futures.Future.result",
        "from concurrent.futures import ThreadPoolExecutor",
        "pool = ThreadPoolExecutor()\npool.submit(print).result()",
    ),
    ("concurrent.futures.Future.result", "import concurrent.futures", "future.result()"),
    ("concurrent.futures.Executor.map", "from concurrent.futures import ThreadPoolExecutor", "ThreadPoolExecutor().map(print, [])"),
    ("concurrent.futures.wait", "import concurrent.futures", "concurrent.futures.wait([])"),
    # CPU-heavy hashing
    ("hashlib.pbkdf2_hmac", "import hashlib", "hashlib.pbkdf2_hmac('sha256', b'pw', b'salt', 100_000)"),
    ("hashlib.scrypt", "import hashlib", "hashlib.scrypt(b'pw', salt=b'salt', n=2**14, r=8, p=1)"),
    ("bcrypt.hashpw", "import bcrypt", "bcrypt.hashpw(b'pw', bcrypt.gensalt())"),
    ("bcrypt.checkpw", "import bcrypt", "bcrypt.checkpw(b'pw', b'hash')"),
]

# Parameters some cases type their receivers with.
CATALOG_PARAMS = {
    "users.update_one": "users: Collection",
    "future.result": "future: concurrent.futures.Future",
}


def _params_for(body: str) -> str:
    return next((params for key, params in CATALOG_PARAMS.items() if key in body), "")


@pytest.mark.parametrize(
    "name, setup, body", CATALOG_CASES, ids=[f"{i}-{case[0]}" for i, case in enumerate(CATALOG_CASES)]
)
def test_catalog_entry_is_flagged(engine, name, setup, body):
    source = coroutine(setup, body, _params_for(body))
    diagnostics = engine.check(source)
    messages = found_on(diagnostics, last_line(source))
    assert any(f"Blocking call `{name}`" in m for m in messages), (messages, source)


def test_the_catalog_table_covers_every_category():
    from asyncsense.analyzers.catalog import default_catalog

    catalog = default_catalog()
    tested = {catalog.blocking_entry(name).category for name, _, _ in CATALOG_CASES}
    assert tested == {entry.category for entry in catalog.blocking.values()}


# -- look-alikes: the async or harmless twin of each family -----------------------------

LOOK_ALIKES = [
    ("asyncio.sleep", "import asyncio", "await asyncio.sleep(1)"),
    ("time functions that do not block", "import time", "time.time()\ntime.monotonic()\ntime.perf_counter()"),
    ("dict.get", "", "settings = {'a': 1}\nsettings.get('a')"),
    ("dict parameter .get", "", "params.get('a')\nparams.items()"),
    (
        "user class with get and sleep",
        "class Cache:\n    def get(self, key):\n        return key\n\n    def sleep(self):\n        return None",
        "cache = Cache()\ncache.get('k')\ncache.sleep()",
    ),
    ("httpx.AsyncClient", "import httpx", "client = httpx.AsyncClient()\nawait client.get(URL)\nawait client.post(URL)"),
    ("async with httpx.AsyncClient", "import httpx", "async with httpx.AsyncClient() as client:\n    await client.get(URL)"),
    (
        "aiohttp",
        "import aiohttp",
        "async with aiohttp.ClientSession() as session:\n    async with session.get(URL) as response:\n        await response.text()",
    ),
    ("aiofiles.open", "import aiofiles", "async with aiofiles.open('f') as handle:\n    await handle.read()"),
    (
        "asyncio.create_subprocess_exec",
        "import asyncio",
        "proc = await asyncio.create_subprocess_exec('ls')\nawait proc.communicate()\nawait proc.wait()",
    ),
    ("asyncio.Lock", "import asyncio", "lock = asyncio.Lock()\nawait lock.acquire()\nlock.release()"),
    ("async with asyncio.Lock", "import asyncio", "async with asyncio.Lock():\n    pass"),
    ("asyncio.Event", "import asyncio", "done = asyncio.Event()\nawait done.wait()\ndone.set()"),
    ("asyncio.Queue", "import asyncio", "jobs = asyncio.Queue()\nawait jobs.put(1)\nawait jobs.get()\njobs.put_nowait(2)"),
    (
        "asyncio streams",
        "import asyncio",
        "reader, writer = await asyncio.open_connection('h', 80)\nwriter.write(b'x')\nawait writer.drain()\nawait reader.read(10)",
    ),
    (
        "loop socket methods",
        "import asyncio\nimport socket",
        "loop = asyncio.get_running_loop()\nsock = socket.socket()\nsock.setblocking(False)\nawait loop.sock_recv(sock, 10)",
    ),
    ("redis.asyncio", "import redis.asyncio as aioredis", "r = aioredis.Redis()\nawait r.get('k')"),
    ("os.path.join and os.environ", "import os", "os.path.join('a', 'b')\nos.environ.get('X')\nos.getpid()"),
    ("pure paths", "from pathlib import Path, PurePath", "PurePath('a').with_suffix('.b')\nPath('a') / 'b'\nPath('a').name"),
    ("cheap hashing and json", "import hashlib\nimport json", "hashlib.sha256(b'x').hexdigest()\njson.dumps({})\njson.loads('{}')"),
    ("non-blocking queue calls", "import queue", "jobs = queue.Queue()\njobs.put_nowait(1)\njobs.get_nowait()\njobs.qsize()"),
    ("lock release and future polling", "import threading", "lock = threading.Lock()\nlock.release()\nlock.locked()"),
    ("socket helpers", "import socket", "socket.htons(1)\nsocket.gethostname()"),
    ("a sync function reference", "import requests", "handler = requests.get\ncallbacks = [requests.post]"),
]


@pytest.mark.parametrize("what, setup, body", LOOK_ALIKES, ids=[case[0] for case in LOOK_ALIKES])
def test_look_alike_is_not_flagged(engine, what, setup, body):
    source = coroutine(setup, body, "params: dict" if "params." in body else "")
    assert engine.check(source) == []


# -- coroutine context -------------------------------------------------------------------


def test_only_code_running_on_the_event_loop_is_flagged(engine):
    source = """\
        import time
        import requests

        time.sleep(1)  # module level: not in a coroutine

        def sync_function():
            time.sleep(1)

        async def handler():
            def nested_sync():
                time.sleep(1)

            callback = lambda: requests.get("u")

            class Local:
                def method(self):
                    time.sleep(1)

            time.sleep(2)  # flagged
    """
    diagnostics = engine.check(source)
    assert [d.span.start.line for d in diagnostics] == [19]


def test_a_helper_that_blocks_only_off_the_loop_thread_is_not_flagged(engine):
    # Home Assistant's report_usage: waits for the loop only when called from another thread.
    source = """\
        import threading
        import time
        from concurrent.futures import Future

        class Hub:
            loop_thread_id = 0

        def report(hub: Hub, future: Future):
            if hub.loop_thread_id != threading.get_ident():
                future.result()
                return
            print("on the loop")

        def report_after_exit(hub: Hub, future: Future):
            if hub.loop_thread_id == threading.get_ident():
                return
            future.result()

        def wait(hub: Hub, future: Future):
            if hub.loop_thread_id == threading.get_ident():
                future.result()  # on the loop's own thread: blocks it

        async def handler(hub: Hub, future: Future):
            report(hub, future)
            report_after_exit(hub, future)
            wait(hub, future)
    """
    diagnostics = engine.check(source)
    assert [(d.span.start.line, "wait" in d.message) for d in diagnostics] == [(26, True)]


def test_nested_sync_function_called_from_the_coroutine_is_flagged_at_the_call(engine):
    source = """\
        import time

        async def handler():
            def nested_sync():
                time.sleep(1)

            nested_sync()
    """
    [diagnostic] = engine.check(source)
    assert diagnostic.span.start.line == 7
    assert "nested_sync -> time.sleep" in diagnostic.message


def test_defaults_and_decorators_of_a_nested_def_run_in_the_coroutine(engine):
    source = """\
        import time

        async def handler():
            def nested(delay=time.sleep(1)):
                time.sleep(2)
    """
    assert [d.span.start.line for d in engine.check(source)] == [4]


def test_comprehensions_async_generators_and_async_blocks_are_on_the_loop(engine):
    source = """\
        import time

        async def stream(items):
            [time.sleep(0) for _ in items]
            async for item in items:
                time.sleep(1)
            async with items:
                time.sleep(2)
            yield time.sleep(3)
    """
    assert [d.span.start.line for d in engine.check(source)] == [4, 6, 8, 9]


OFFLOADED = [
    ("asyncio.to_thread", "import asyncio\nimport time", "await asyncio.to_thread(time.sleep, 1)"),
    (
        "loop.run_in_executor",
        "import asyncio\nimport requests",
        "loop = asyncio.get_running_loop()\nawait loop.run_in_executor(None, requests.get, URL)",
    ),
    ("anyio.to_thread.run_sync", "import anyio\nimport requests", "await anyio.to_thread.run_sync(requests.get, URL)"),
    (
        "starlette run_in_threadpool",
        "from starlette.concurrency import run_in_threadpool\nimport time",
        "await run_in_threadpool(time.sleep, 1)",
    ),
    ("functools.partial", "import asyncio, functools, requests", "await asyncio.to_thread(functools.partial(requests.get, URL))"),
    ("a lambda", "import asyncio, time", "await asyncio.to_thread(lambda: time.sleep(1))"),
    (
        "executor.submit",
        "from concurrent.futures import ThreadPoolExecutor\nimport time",
        "pool = ThreadPoolExecutor()\nfuture = pool.submit(time.sleep, 1)",
    ),
    (
        "a blocking project helper",
        "import asyncio, time\n\ndef helper():\n    time.sleep(1)",
        "await asyncio.to_thread(helper)\nloop = asyncio.get_running_loop()\nawait loop.run_in_executor(None, helper)",
    ),
]


@pytest.mark.parametrize("how, setup, body", OFFLOADED, ids=[case[0] for case in OFFLOADED])
def test_a_function_passed_by_reference_to_a_thread_is_not_flagged(engine, how, setup, body):
    assert engine.check(coroutine(setup, body)) == []


def test_anything_awaited_is_not_flagged(engine):
    source = coroutine(
        "import asyncio, requests, time",
        """
        await asyncio.wait_for(asyncio.to_thread(requests.get, URL), 1)
        await asyncio.gather(asyncio.to_thread(time.sleep, 1))
        await requests.get(URL)  # wrong in another way, but not a blocking call on the loop
        await session.get(URL)
        """,
        "session: requests.Session",
    )
    assert engine.check(source) == []


def test_calling_a_blocking_function_as_an_argument_is_flagged(engine):
    # The argument is evaluated on the loop, before to_thread starts.
    source = coroutine("import asyncio, requests", "await asyncio.to_thread(print, requests.get(URL))")
    [diagnostic] = engine.check(source)
    assert "`requests.get`" in diagnostic.message


# -- the message --------------------------------------------------------------------------


def test_direct_message_names_the_call_the_coroutine_category_and_the_alternative(engine):
    source = coroutine("import requests", "requests.get(URL)")
    [diagnostic] = engine.check(source)
    assert diagnostic.rule == "blocking-call" and diagnostic.code == "ASN001"
    assert diagnostic.message.startswith("Blocking call `requests.get` in coroutine `handler`")
    assert "(network)" in diagnostic.message and "httpx.AsyncClient" in diagnostic.message
    line = source.splitlines()[diagnostic.span.start.line - 1]
    assert line[diagnostic.span.start.column : diagnostic.span.end.column] == "requests.get(URL)"


# -- interprocedural ---------------------------------------------------------------------------


def test_a_sync_helper_in_the_same_module_is_followed(engine):
    source = """\
        import requests

        def load_profile(user_id):
            return requests.get(f"https://api/{user_id}").json()

        async def handler(user_id):
            return load_profile(user_id)
    """
    [diagnostic] = engine.check(source)
    assert diagnostic.span.start.line == 7
    assert "load_profile -> requests.get" in diagnostic.message
    [related] = diagnostic.related
    assert (related.span.start.line, related.span.start.column) == (4, 11)
    assert "requests.get" in related.message


def test_a_chain_through_further_sync_calls_in_another_module(engine):
    case = engine.case(
        {
            "main.py": """\
                from .profiles import load_profile

                async def handler(user_id):
                    profile = load_profile(user_id)
                    return profile
            """,
            "profiles.py": """\
                from . import transport

                def load_profile(user_id):
                    return _fetch(user_id)

                def _fetch(user_id):
                    return transport.get_json(f"/users/{user_id}")
            """,
            "transport.py": """\
                import urllib.request

                def get_json(path):
                    with urllib.request.urlopen("https://api" + path) as response:
                        return response.read()
            """,
        }
    )
    [diagnostic] = case.rule("blocking-call")
    assert diagnostic.span.start.line == 4
    assert "load_profile -> _fetch -> get_json -> urllib.request.urlopen" in diagnostic.message
    where = [(r.path.rsplit("/", 1)[-1], r.span.start.line) for r in diagnostic.related]
    assert where == [("profiles.py", 4), ("profiles.py", 7), ("transport.py", 4)]


def test_a_method_through_an_annotated_or_inferred_receiver(engine):
    source = """\
        import sqlite3

        class Repo:
            def __init__(self):
                self.conn = sqlite3.connect("app.db")

            def fetch(self, key):
                return self.conn.execute("select ?", (key,))

        def make_repo():
            return Repo()

        async def annotated(repo: Repo):
            repo.fetch(1)

        async def constructed():
            repo = Repo()
            repo.fetch(2)

        async def through_a_factory():
            make_repo().fetch(3)
    """
    diagnostics = engine.check(source)
    fetches = [d for d in diagnostics if "Repo.fetch -> sqlite3.Connection.execute" in d.message]
    assert sorted(d.span.start.line for d in fetches) == [14, 18, 21]
    # Repo() itself connects in __init__
    assert any(d.span.start.line == 17 and "Repo.__init__ -> sqlite3.connect" in d.message for d in diagnostics)


def test_helpers_that_do_not_block_are_not_flagged(engine):
    source = """\
        import asyncio, time

        def pure(x):
            return x * 2

        def offloads():
            return asyncio.to_thread(time.sleep, 1)

        def calls_pure(x):
            return pure(x) + 1

        async def handler():
            calls_pure(1)
            await offloads()
            pure(2)
    """
    assert engine.check(source) == []


def test_recursion_between_helpers_terminates_and_still_finds_the_blocking_call(engine):
    source = """\
        import time

        def ping(n):
            return pong(n - 1) if n else time.sleep(1)

        def pong(n):
            return ping(n)

        def spin(n):
            return spin(n - 1) if n else 0

        async def handler():
            ping(3)
            pong(3)
            spin(3)
    """
    diagnostics = engine.check(source)
    assert [d.span.start.line for d in diagnostics] == [13, 14]
    assert "ping -> time.sleep" in diagnostics[0].message
    assert "pong -> ping -> time.sleep" in diagnostics[1].message


def test_a_cycle_explored_first_from_another_entry_does_not_hide_the_blocking_call(engine):
    # b() is first reached inside the cycle a -> b -> a; its answer then must not be memoised as "clean".
    source = """\
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
    diagnostics = engine.check(source)
    assert [d.span.start.line for d in diagnostics] == [14, 15]


def test_an_async_helper_that_blocks_is_reported_inside_it_not_at_the_caller(engine):
    case = engine.case(
        {
            "main.py": """\
                from .helpers import slow_async

                async def handler():
                    await slow_async()
                    slow_async()  # a coroutine object, not a blocking call
            """,
            "helpers.py": """\
                import time

                async def slow_async():
                    time.sleep(1)
            """,
        }
    )
    assert case.rule("blocking-call") == []
    [helper] = engine.project.check([case.paths[1]])
    assert [(d.span.start.line, "time.sleep" in d.message) for d in helper.diagnostics if d.rule == "blocking-call"] == [
        (4, True)
    ]


# -- the seed's examples ("Blocking the Event Loop") -------------------------------------------

SEED_WRONG = '''\
# Wrong: blocks the entire event loop for 2 seconds.
import time

async def bad_handler():
    time.sleep(2)  # No other coroutine can run during this.
    return "done"
'''

SEED_RIGHT = '''\
# Right: use async equivalents or offload to a thread.
import asyncio

async def good_handler():
    await asyncio.sleep(2)  # Event loop runs other coroutines during this.
    return "done"

async def good_handler_blocking_lib():
    # For unavoidably synchronous code, offload to a thread.
    result = await asyncio.to_thread(blocking_function)
    return result
'''

# The "Right" examples of the seed's other sections hold no blocking call either.
SEED_OTHER_RIGHT = [
    """\
async def main():
    result = await fetch("https://api.example.com")
    print(result)  # Prints the actual response.
""",
    """\
_background_tasks: set[asyncio.Task] = set()

async def main():
    task = asyncio.create_task(send_email("user@example.com"))
    _background_tasks.add(task)
    task.add_done_callback(_background_tasks.discard)
""",
    """\
async def compute_heavy(data):
    result = []
    for i, item in enumerate(data):
        result.append(expensive_transform(item))
        if i % 1000 == 0:
            await asyncio.sleep(0)  # Yield to the event loop.
    return result
""",
    """\
async def fetch_all(urls):
    async with aiohttp.ClientSession() as session:
        results = []
        for url in urls:
            async with session.get(url) as resp:
                results.append(await resp.text())
        return results
""",
]


def test_seed_wrong_example_is_flagged(engine):
    [diagnostic] = engine.check(SEED_WRONG)
    assert diagnostic.span.start.line == 5
    assert "`time.sleep` in coroutine `bad_handler`" in diagnostic.message
    assert diagnostic.fix is not None and diagnostic.fix.is_safe


def test_seed_right_example_is_clean(engine):
    assert engine.check(SEED_RIGHT) == []


@pytest.mark.parametrize("source", SEED_OTHER_RIGHT, ids=["await", "tasks", "yield", "cleanup"])
def test_seed_other_right_examples_hold_no_blocking_call(engine, source):
    assert engine.check("import asyncio\nimport aiohttp\n" + source) == []


# -- configuration: extra-blocking-calls and allowed-calls -------------------------------------


def _configured_project(tmp_path, config: Config, files: dict[str, str]):
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    project = Project(tmp_path, config, use_jedi=False)
    [result] = project.check([tmp_path / next(iter(files))])
    return [d for d in result.diagnostics if d.rule == "blocking-call"]


def test_extra_blocking_calls_add_library_and_project_functions(tmp_path):
    config = Config(
        extra_blocking_calls=(
            ExtraBlockingCall("legacy_sdk.Client.fetch", "network", "legacy_sdk.AsyncClient"),
            ExtraBlockingCall("helpers.crunch"),
        )
    )
    diagnostics = _configured_project(
        tmp_path,
        config,
        {
            "main.py": """\
                import legacy_sdk
                from helpers import crunch

                async def handler(client: legacy_sdk.Client):
                    client.fetch()
                    crunch()
                    client.close()
            """,
            "helpers.py": "def crunch():\n    return sum(range(10**8))\n",
        },
    )
    assert [(d.span.start.line, d.message.split(" freezes")[0]) for d in diagnostics] == [
        (5, "Blocking call `legacy_sdk.Client.fetch` in coroutine `handler`"),
        (6, "Blocking call `helpers.crunch` in coroutine `handler`"),
    ]
    assert "(network); use legacy_sdk.AsyncClient" in diagnostics[0].message
    assert "(custom)" in diagnostics[1].message


def test_allowed_calls_silence_catalog_entries_by_public_or_internal_name(tmp_path):
    config = Config(allowed_calls=frozenset({"time.sleep", "requests.api.get"}))
    diagnostics = _configured_project(
        tmp_path,
        config,
        {
            "main.py": """\
                import time, requests

                async def handler():
                    time.sleep(0)
                    requests.get("u")
                    requests.post("u")
            """
        },
    )
    assert [d.span.start.line for d in diagnostics] == [6]


def test_allowed_calls_also_silence_chains_through_helpers(tmp_path):
    config = Config(allowed_calls=frozenset({"os.path.exists"}))
    diagnostics = _configured_project(
        tmp_path,
        config,
        {
            "main.py": """\
                import os

                def has_config():
                    return os.path.exists("app.toml")

                async def handler():
                    has_config()
            """
        },
    )
    assert diagnostics == []


def test_extra_blocking_calls_and_allowed_calls_from_pyproject(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [tool.asyncsense]
            extra-blocking-calls = [
                "vendor.sync_fetch",
                { name = "vendor.Store.load", category = "database", replacement = "vendor.AsyncStore" },
            ]
            allowed-calls = ["shutil.which"]
            """
        )
    )
    config = load_config(tmp_path / "pyproject.toml")
    diagnostics = _configured_project(
        tmp_path,
        config,
        {
            "main.py": """\
                import shutil
                import vendor

                async def handler(store: vendor.Store):
                    vendor.sync_fetch()
                    store.load()
                    shutil.which("git")
            """
        },
    )
    assert [d.span.start.line for d in diagnostics] == [5, 6]
    assert "(database); use vendor.AsyncStore" in diagnostics[1].message

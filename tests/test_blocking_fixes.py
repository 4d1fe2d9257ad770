"""The fixes of blocking-call: exact texts, imports, parentheses, layout, and round trips.

``time.sleep(x)`` becomes ``await asyncio.sleep(x)`` (safe); any other blocking
call ``f(a, b=c)`` becomes ``await asyncio.to_thread(f, a, b=c)`` (unsafe).
Applying every fix of a file must give a file that compiles, has none of the
fixed diagnostics and no new ones, and settles: another round changes nothing.
"""

from __future__ import annotations

import ast
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asyncsense.analyzers.fixes import apply_fixes


def fix_all(engine, source: str, safe_only: bool = False):
    """(fixed text, diagnostics before) after one round of every blocking-call fix."""
    case = engine.case(source)
    diagnostics = case.rule("blocking-call")
    fixes = [d.fix for d in diagnostics if d.fix and (d.fix.is_safe or not safe_only)]
    text = case.path.read_text()
    return apply_fixes(text, fixes).text, diagnostics


def fixed(engine, source: str, safe_only: bool = False) -> str:
    return fix_all(engine, textwrap.dedent(source), safe_only)[0]


def dedent(text: str) -> str:
    return textwrap.dedent(text)


# -- time.sleep -> await asyncio.sleep ---------------------------------------------------------


def test_time_sleep_becomes_asyncio_sleep_and_imports_asyncio_once(engine):
    source = """\
        import time

        async def handler(delay):
            time.sleep(delay)
            time.sleep(0.5)
    """
    case = engine.case(dedent(source))
    [first, second] = case.rule("blocking-call")
    assert first.fix.is_safe and first.fix.title == "Replace with `await asyncio.sleep(...)`"
    assert apply_fixes(case.path.read_text(), [first.fix, second.fix]).text == dedent(
        """\
        import asyncio
        import time

        async def handler(delay):
            await asyncio.sleep(delay)
            await asyncio.sleep(0.5)
        """
    )


def test_import_goes_after_the_docstring_and_future_imports(engine):
    source = '''\
        """Module docstring."""
        from __future__ import annotations

        import time

        async def handler():
            time.sleep(1)
    '''
    assert fixed(engine, source) == dedent(
        '''\
        """Module docstring."""
        from __future__ import annotations

        import asyncio
        import time

        async def handler():
            await asyncio.sleep(1)
        '''
    )


def test_import_after_a_docstring_when_the_module_has_no_imports(engine):
    source = '''\
        """Docstring
        on two lines."""
        from time import sleep

        async def handler():
            sleep(1)
    '''
    assert fixed(engine, source) == dedent(
        '''\
        """Docstring
        on two lines."""
        import asyncio
        from time import sleep

        async def handler():
            await asyncio.sleep(1)
        '''
    )


def test_an_existing_asyncio_import_and_its_alias_are_used(engine):
    assert fixed(engine, "import asyncio as aio\nimport time\n\nasync def f():\n    time.sleep(1)\n") == (
        "import asyncio as aio\nimport time\n\nasync def f():\n    await aio.sleep(1)\n"
    )
    assert fixed(engine, "import time\nimport asyncio\n\nasync def f():\n    time.sleep(1)\n") == (
        "import time\nimport asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n"
    )


def test_the_import_stays_below_a_shebang_and_an_encoding_line(engine):
    source = "#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nasync def f():\n    time.sleep(1)\n"
    assert fixed(engine, source).startswith("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\n")


# -- other calls -> await asyncio.to_thread -------------------------------------------------------


TO_THREAD = [
    ("requests.get(URL)", "await asyncio.to_thread(requests.get, URL)"),
    ("requests.post(URL, json=body, timeout=3)", "await asyncio.to_thread(requests.post, URL, json=body, timeout=3)"),
    ("session.get(URL)", "await asyncio.to_thread(session.get, URL)"),  # a bound method
    ("input()", "await asyncio.to_thread(input)"),
    ("requests.get(*args, **kwargs)", "await asyncio.to_thread(requests.get, *args, **kwargs)"),
    ("data = requests.get(URL).json()", "data = (await asyncio.to_thread(requests.get, URL)).json()"),
    ("status = requests.get(URL).status_code", "status = (await asyncio.to_thread(requests.get, URL)).status_code"),
    ("first = requests.get(URL)['a']", "first = (await asyncio.to_thread(requests.get, URL))['a']"),
    ("total = 1 + requests.get(URL)", "total = 1 + await asyncio.to_thread(requests.get, URL)"),
    ("ok = requests.get(URL) or None", "ok = await asyncio.to_thread(requests.get, URL) or None"),
    ("[requests.get(u) for u in urls]", "[await asyncio.to_thread(requests.get, u) for u in urls]"),
    ("power = time.sleep(1) ** 2", "power = (await asyncio.sleep(1)) ** 2"),
]


@pytest.mark.parametrize("before, after", TO_THREAD, ids=[b for b, _ in TO_THREAD])
def test_to_thread_fix_text(engine, before, after):
    source = (
        "import asyncio\nimport requests\nimport time\n\n"
        "async def handler(session: requests.Session, args, kwargs, body, urls):\n"
        f"    URL = 'u'\n    {before}\n"
    )
    text = fixed(engine, source)
    assert text.splitlines()[6] == f"    {after}"
    compile(text, "<fixed>", "exec")


def test_to_thread_fix_is_unsafe_and_says_what_runs_in_a_thread(engine):
    case = engine.case("import requests\n\nasync def f(s: requests.Session):\n    s.get('u')\n")
    [diagnostic] = case.rule("blocking-call")
    assert not diagnostic.fix.is_safe
    assert diagnostic.fix.title == "Run `s.get` in a worker thread with `asyncio.to_thread`"


def test_a_blocking_helper_is_run_in_a_thread_with_its_arguments(engine):
    source = """\
        import requests

        def load_profile(user_id, *, fresh=False):
            return requests.get(f"/users/{user_id}")

        async def handler(user_id):
            profile = load_profile(user_id, fresh=True)
            return profile
    """
    assert fixed(engine, source).splitlines()[7:9] == [
        "    profile = await asyncio.to_thread(load_profile, user_id, fresh=True)",
        "    return profile",
    ]


# -- layout --------------------------------------------------------------------------------------


def test_a_multi_line_call_without_comments_still_compiles(engine):
    source = """\
        import requests

        async def handler(url):
            requests.post(
                url,
                json={"a": 1},
            )
    """
    text = fixed(engine, source)
    compile(text, "<fixed>", "exec")
    # The arguments keep their own lines; no trailing space after the function.
    assert text.splitlines()[4] == "    await asyncio.to_thread(requests.post,"
    assert text.splitlines()[5] == "        url,"


def test_a_multi_line_call_with_comments_gives_code_that_compiles(engine):
    source = """\
        import time

        async def handler():
            time.sleep(
                1.5  # long enough
            )
    """
    text = fixed(engine, source)
    compile(text, "<fixed>", "exec")
    assert "# long enough" in text


def test_a_multi_line_call_keeps_its_layout_and_comments(engine):
    source = """\
        import asyncio
        import requests

        async def handler(url):
            requests.post(
                url,  # the endpoint
                json={"a": 1},
            )
    """
    text = fixed(engine, source)
    compile(text, "<fixed>", "exec")
    lines = text.splitlines()
    assert "        url,  # the endpoint" in lines
    assert '        json={"a": 1},' in lines
    assert lines[-1] == "    )"


# -- the seed -----------------------------------------------------------------------------------

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
'''


def _functions(text: str) -> list[str]:
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.AsyncFunctionDef):
            node.name = "handler"
    return [ast.dump(node) for node in tree.body if not isinstance(node, (ast.Import, ast.ImportFrom))]


def test_the_seeds_wrong_example_fixed_safely_is_the_right_example(engine):
    text = fixed(engine, SEED_WRONG, safe_only=True)
    assert "await asyncio.sleep(2)  # No other coroutine can run during this." in text
    assert _functions(text) == _functions(SEED_RIGHT)
    assert "import asyncio" in text.splitlines()
    assert engine.check(text) == []


# -- round trips ---------------------------------------------------------------------------------


def settle(engine, source: str, rounds: int = 4):
    """Apply every blocking-call fix, round after round; returns (texts per round, final case)."""
    texts = [source]
    for _ in range(rounds):
        text, diagnostics = fix_all(engine, texts[-1])
        if text == texts[-1]:
            break
        texts.append(text)
    return texts, engine.case(texts[-1])


def check_round_trip(engine, source: str) -> None:
    before = engine.case(source)
    texts, after = settle(engine, source)
    final = texts[-1]
    compile(final, "<fixed>", "exec")  # parses, and every await is in a coroutine
    assert after.rule("blocking-call") == [], final
    assert not after.result.partial
    # no new diagnostics of any rule (spans move, so compare rule and message)
    old = {(d.rule, d.message) for d in before.diagnostics}
    new = {(d.rule, d.message) for d in after.diagnostics}
    assert new <= old, (new - old, final)
    # settled: one more round changes nothing
    assert fix_all(engine, final)[0] == final


ROUND_TRIP_SOURCES = [
    """\
    import time, requests, sqlite3, subprocess
    from pathlib import Path

    def helper(path):
        return Path(path).read_text()

    async def handler(urls, session: requests.Session):
        time.sleep(1)
        rows = sqlite3.connect("db").execute("select 1").fetchall()
        body = requests.get(urls[0]).json()["key"]
        text = helper("a.txt") + helper("b.txt")
        subprocess.run(
            ["ls", "-l"],
            check=True,
        )
        results = [session.get(u) for u in urls]
        if urls and requests.head(urls[0]).ok:
            return f"{requests.get(urls[1]).text}"
        return rows, body, text, results
    """,
    '''\
    """A module with a docstring and no asyncio import."""
    from __future__ import annotations

    import threading, queue

    class Worker:
        def __init__(self):
            self.lock = threading.Lock()
            self.jobs = queue.Queue()

        async def run(self):
            with open("log.txt", "a") as log:
                log.write("start")
            self.lock.acquire()
            item = self.jobs.get()
            return item
    ''',
]


@pytest.mark.parametrize("source", ROUND_TRIP_SOURCES, ids=["handlers", "worker"])
def test_applying_every_fix_round_trips(engine, source):
    check_round_trip(engine, textwrap.dedent(source))


# Statements a generated coroutine is made of: blocking ones and clean ones.
STATEMENTS = [
    "time.sleep(delay)",
    "value = requests.get(url).json()",
    "rows = sqlite3.connect('db').execute('select 1').fetchall()",
    "text = Path(url).read_text()",
    "subprocess.run(['ls'], check=True)",
    "session.post(url, json={'a': 1})",
    "data = helper(url) + 1",
    "items = [requests.get(u).status_code for u in urls]",
    "await asyncio.sleep(0)",
    "value = {'a': 1}.get('a')",
    "total = sum(range(3))",
]
WRAPPERS = [
    "{statement}",
    "if delay:\n    {statement}",
    "for u in urls:\n    {statement}",
    "try:\n    {statement}\nexcept OSError:\n    pass",
    "async with lock:\n    {statement}",
]
HEADER = """\
import asyncio, subprocess, sqlite3, time
import requests
from pathlib import Path

def helper(url):
    return requests.get(url).status_code

async def handler(url, urls, delay, lock, session: requests.Session):
"""


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.sampled_from(STATEMENTS), st.sampled_from(WRAPPERS)), min_size=1, max_size=5)
)
def test_applying_every_fix_round_trips_on_generated_coroutines(engine, body):
    lines = [wrapper.format(statement=statement) for statement, wrapper in body]
    source = HEADER + textwrap.indent("\n".join(lines), "    ") + "\n"
    check_round_trip(engine, source)

"""A Hypothesis strategy for valid, asyncio-flavoured Python programs.

hypothesmith's grammar-generated programs are valid but almost never contain
``asyncio``, so no rule fires and no fix is built.  These programs are made of
the calls the rules look for (blocking calls, tasks, gathers, ``asyncio.run``,
async resources, long loops, unawaited coroutines) in every syntactic position
where a fix has to get the text right: one-line bodies after ``:``, statements
joined by ``;``, lambdas, comprehensions, default arguments, decorators,
f-strings, walrus targets, calls spread over several lines, backslash
continuations, comments, ``else``/``except``/``finally`` bodies, nested
functions and methods.
"""

from __future__ import annotations

from hypothesis import strategies as st

HEADER = (
    "import asyncio\nimport time\nimport subprocess\nimport requests\nimport aiohttp\n"
    "from asyncio import create_task as spawn\n\n\n"
    "async def fetch(url=None):\n    return url\n\n\n"
    "def helper():\n    time.sleep(0.1)\n\n\n"
)

CALLS = [
    "time.sleep(1)",
    "requests.get(url)",
    "subprocess.run(['ls'])",
    "open('data.txt').read()",
    "helper()",
    "fetch()",
    "fetch(url)",
    "asyncio.sleep(1)",
    "asyncio.create_task(fetch())",
    "spawn(fetch())",
    "asyncio.ensure_future(fetch())",
    "asyncio.get_running_loop().create_task(fetch())",
    "asyncio.gather(fetch(), fetch())",
    "asyncio.gather(*[fetch() for _ in range(3)])",
    "asyncio.run(fetch())",
    "aiohttp.ClientSession()",
    "self.method()",
    "asyncio.wait_for(fetch(), 1)",
    "asyncio.create_task(fetch()).add_done_callback(print)",
]

EXPRESSIONS = CALLS + [
    "await fetch()",
    "await asyncio.gather(fetch(), helper())",
    "(yield)",
    "lambda: time.sleep(1)",
    "[time.sleep(i) for i in range(3)]",
    "{k: fetch() for k in 'ab'}",
    "f'{time.sleep(1)}'",
    "time.sleep(1) if url else fetch()",
    "(task := asyncio.create_task(fetch()))",
    "print(time.sleep(1), fetch())",
    "fetch\\\n()",
    "asyncio.gather(\n    fetch(),\n    fetch(),\n)",
    "time.sleep(\n    1)",
    "x.y[0](fetch())",
    "not fetch()",
    "-helper()",
    "fetch() + fetch()",
]

SIMPLE_STATEMENTS = [
    "{expr}",
    "x = {expr}",
    "x: object = {expr}",
    "_ = {expr}",
    "self.attr = {expr}",
    "return {expr}",
    "await {expr}",
    "async with {expr} as session: pass",
    "{expr}  # a comment",
    "{expr}; {expr}",
    "x = 1; {expr}",
    "pass",
    "del x",
    "global g",
    "assert {expr}",
    "tasks.add({expr})",
    "raise ValueError({expr})",
]

COMPOUND_HEADERS = [
    "async def coro{n}(url=None):",
    "def sync{n}(url=None):",
    "async def with_default{n}(cb=lambda: time.sleep(1)):",
    "@decorator({expr})\nasync def decorated{n}():",
    "class Service{n}:",
    "if {expr}:",
    "while True:",
    "for i in range(1_000_000):",
    "async for item in {expr}:",
    "with open('f') as handle:",
    "async with aiohttp.ClientSession() as session:",
    "try:",
]

# Headers that need a partner clause after their body.
PARTNERS = {"try:": ["except Exception:", "except (ValueError, TypeError) as error:", "finally:"]}
OPTIONAL_PARTNERS = {"if {expr}:": ["else:", "elif {expr}:"], "for i in range(1_000_000):": ["else:"]}


_COMPOUND_KEYWORDS = frozenset({"async", "def", "class", "if", "while", "for", "with", "try", "@decorator"})


def _indent(lines: list[str], by: str = "    ") -> list[str]:
    return [by + line if line else line for line in lines]


@st.composite
def _simple(draw) -> list[str]:
    template = draw(st.sampled_from(SIMPLE_STATEMENTS))
    expr = draw(st.sampled_from(EXPRESSIONS))
    if template.startswith(("await", "async with")) and expr not in CALLS:
        expr = f"({expr})"  # `await await x` and `async with lambda: ...` are not Python
    text = template.format(expr=expr)
    # `{expr}` used twice draws once; multi-line expressions stay valid inside brackets.
    return text.split("\n")


def _block(body: st.SearchStrategy[list[str]]) -> st.SearchStrategy[list[str]]:
    @st.composite
    def compound(draw) -> list[str]:
        header = draw(st.sampled_from(COMPOUND_HEADERS))
        n = draw(st.integers(0, 99))
        expr = draw(st.sampled_from(CALLS))
        lines = header.format(n=n, expr=expr).split("\n")
        inner = draw(body)
        if draw(st.booleans()) and len(inner) == 1 and inner[0].split()[0] not in _COMPOUND_KEYWORDS:
            lines[-1] += " " + inner[0]  # a one-line body after the colon
        else:
            lines += _indent(inner)
        for partner in PARTNERS.get(header, []) or (
            [draw(st.sampled_from(OPTIONAL_PARTNERS[header]))] if header in OPTIONAL_PARTNERS and draw(st.booleans()) else []
        ):
            lines.append(partner.format(expr=expr))
            lines += _indent(draw(body))
            if header == "try:":
                break
        return lines

    return compound()


statements = st.recursive(
    _simple(),
    lambda inner: st.one_of(_block(st.lists(inner, min_size=1, max_size=4).map(lambda parts: sum(parts, []))), inner),
    max_leaves=12,
)


@st.composite
def asyncio_programs(draw) -> str:
    parts = draw(st.lists(statements, min_size=1, max_size=5))
    body: list[str] = []
    for part in parts:
        # Most code lives in coroutines: wrap some top-level parts in one.
        if draw(st.booleans()):
            body += ["async def main(url=None):", *_indent(part), ""]
        else:
            body += [*part, ""]
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    text = HEADER + "\n".join(body) + "\n"
    return text.replace("\n", ending) if ending != "\n" else text

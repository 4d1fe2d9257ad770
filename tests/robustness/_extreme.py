"""Pathological inputs: deep nesting, huge files, long lines, odd bytes and line endings.

Each entry is (name, source); ``DEPTH`` levels of nesting by default, as the
issue asks (1,000 nested parentheses or blocks), in module code and inside a
coroutine, where the rules look.
"""

from __future__ import annotations

DEPTH = 1000


def _in_coroutine(body: str) -> str:
    indented = "".join("    " + line if line.strip() else line for line in body.splitlines(keepends=True))
    return "import asyncio, time\n\nasync def main():\n" + indented + "    time.sleep(1)\n"


def _nested_blocks(header: str, depth: int = DEPTH, body: str = "time.sleep(1)") -> str:
    return "".join(" " * i + header + "\n" for i in range(depth)) + " " * depth + body + "\n"


def deep_inputs(depth: int = DEPTH) -> list[tuple[str, str]]:
    expressions = {
        "parentheses": "(" * depth + "time.sleep(1)" + ")" * depth,
        "unclosed parentheses": "(" * depth + "time.sleep(1)",
        "brackets": "[" * depth + "]" * depth,
        "braces": "{" * depth + "}" * depth,
        "mixed brackets": "([{" * (depth // 3) + "}])" * (depth // 3),
        "dict values": "{1: " * depth + "1" + "}" * depth,
        "calls": "f(" * depth + ")" * depth,
        "lambdas": "lambda: " * depth + "time.sleep(1)",
        "not": "not " * depth + "x",
        "unary minus": "-" * depth + "1",
        "power": "**".join(["2"] * depth),
        "binary operators": " + ".join(["time.sleep(1)"] * depth),
        "comparisons": " < ".join(["a"] * depth),
        "boolean operators": " and ".join(["a"] * depth),
        "attributes": "a" + ".b" * depth,
        "method chain": "a" + ".b()" * depth,
        "subscripts": "a" + "[0]" * depth,
        "conditional expressions": "a if b else " * depth + "c",
        "awaits": "await " * depth + "asyncio.sleep(0)",
        "starred": "[" + "*[" * depth + "]" * depth + "]",
        "generators": "(x " + "for x in (" * depth + "y" + ")" * depth + ")",
        "f-strings": "f'{" * 10 + "x" + "}'" * 10,
        "string concatenation": " ".join(["'a'"] * depth),
        "walrus": "(a := " * depth + "1" + ")" * depth,
        "tuples": "(1," * depth + ")" * depth,
        "slices": "a[" + "b[1:2][" * depth + "0" + "]" * depth + "]",
    }
    inputs: list[tuple[str, str]] = []
    for name, expression in expressions.items():
        inputs.append((f"{name} at module level", f"x = {expression}\n"))
        inputs.append((f"{name} in a coroutine", _in_coroutine(f"x = {expression}\n")))
    blocks = {
        "if blocks": "if x:",
        "for blocks": "for x in y:",
        "while blocks": "while x:",
        "with blocks": "with x:",
        "try blocks": "try:",
        "async with blocks": "async with x:",
        "defs": "def f():",
        "async defs": "async def f():",
        "classes": "class C:",
    }
    for name, header in blocks.items():
        inputs.append((f"nested {name}", _nested_blocks(header, depth)))
    inputs += [
        ("elif chain", "import time\nasync def f(x):\n    if x == 0:\n        pass\n"
         + "".join(f"    elif x == {i}:\n        time.sleep({i})\n" for i in range(1, depth)) + "    else:\n        pass\n"),
        ("else-if ladder", "".join(" " * i + "if x:\n" + " " * (i + 1) + "pass\n" + " " * i + "else:\n" for i in range(depth)) + " " * depth + "pass\n"),
        ("decorators", "@d\n" * depth + "async def f():\n    time.sleep(1)\n"),
        ("arguments", "f(" + ", ".join(f"a{i}" for i in range(depth * 10)) + ")\n"),
        ("parameters", "async def f(" + ", ".join(f"a{i}=time.sleep(1)" for i in range(depth)) + "):\n    pass\n"),
        ("statements on one line", "async def f(): " + "; ".join(["time.sleep(1)"] * depth) + "\n"),
        ("comprehension clauses", "x = [1 " + " ".join(f"for a{i} in b" for i in range(depth)) + "]\n"),
        ("backslash continuations", "x = 1" + " \\\n + 1" * depth + "\n"),
        ("nested functions calling each other", "".join(
            " " * (4 * i) + f"async def f{i}():\n" + " " * (4 * i + 4) + f"await f{i + 1}()\n" for i in range(90)
        ) + " " * 360 + "pass\n"),
        ("class hierarchy", "".join(f"class C{i}(C{i - 1}):\n    pass\n" for i in range(1, depth)) + "class C0:\n    pass\n"),
        ("import chain", "".join(f"import m{i}\n" for i in range(depth))),
    ]
    return inputs


def long_line_inputs() -> list[tuple[str, str]]:
    return [
        ("one-megabyte string", "x = '" + "a" * 1_000_000 + "'\n"),
        ("long line of calls", "async def f():\n    " + "; ".join(["time.sleep(1)"] * 5_000) + "\n"),
        ("long line of tokens", "x = " + " + ".join(f"a{i}" for i in range(50_000)) + "\n"),
        ("long comment", "# " + "x" * 1_000_000 + "\nasync def f():\n    time.sleep(1)\n"),
        ("long line unbalanced", "x = (" + "a, " * 100_000 + "\n"),
        ("long non-ASCII line", "x = '" + "é𝔘" * 200_000 + "'; time.sleep(1)\n"),
        ("long indentation", " " * 100_000 + "x = 1\n"),
    ]


def huge_inputs(lines: int = 50_000) -> list[tuple[str, str]]:
    unit = (
        "async def handler_{n}(request):\n"
        "    time.sleep(1)\n"
        "    asyncio.create_task(work())\n"
        "    return await asyncio.gather(work(), work())\n"
        "\n"
    )
    units = lines // 5
    valid = "import asyncio\nimport time\n\n" + "".join(unit.format(n=n) for n in range(units))
    broken = "".join(unit.format(n=n) + ("def broken(:\n" if n % 100 == 0 else "") for n in range(units))
    return [
        ("50,000 valid lines", valid),
        ("50,000 lines with a syntax error every 500", broken),
        ("50,000 lines after an unclosed triple quote", '"""\n' + valid),
        ("50,000 lines after an unclosed bracket", "x = (\n" + valid),
        ("50,000 lines of one expression", "x = [\n" + "    1,\n" * lines + "]\n"),
        ("50,000 blank lines then code", "\n" * lines + "async def f():\n    time.sleep(1)\n"),
    ]


# Byte-level inputs: read from disk, decoded the way Python decodes source.
ENCODING_INPUTS: list[tuple[str, bytes]] = [
    ("null bytes", b"import time\x00\nasync def f():\n    time.sleep(1)\x00\n\x00"),
    ("only null bytes", b"\x00" * 1000),
    ("BOM", b"\xef\xbb\xbfimport time\nasync def f():\n    time.sleep(1)\n"),
    ("BOM only", b"\xef\xbb\xbf"),
    ("two BOMs", b"\xef\xbb\xbf\xef\xbb\xbfimport time\n"),
    ("BOM and latin-1 cookie", b"\xef\xbb\xbf# coding: latin-1\nimport time\n"),
    ("BOM and utf-8 cookie", b"\xef\xbb\xbf# coding: utf-8\nasync def f():\n    time.sleep(1)\n"),
    ("CRLF", b"import time\r\nasync def f():\r\n    time.sleep(1)\r\n    asyncio.create_task(f())\r\n"),
    ("CR", b"import time\rasync def f():\r    time.sleep(1)\r    asyncio.create_task(f())\r"),
    ("mixed line endings", b"import time\r\nasync def f():\r    time.sleep(1)\n    asyncio.create_task(f())\r\n"),
    ("CR inside a string", b"x = 'a\rb'\nasync def f():\n    time.sleep(1)\n"),
    ("latin-1 cookie", b"# -*- coding: latin-1 -*-\nx = '\xe9'\nasync def f():\n    time.sleep(1)\n"),
    ("cp1252 cookie on line 2", b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx = '\x93'\nimport time\nasync def f(): time.sleep(1)\n"),
    ("cookie on line 3 (ignored)", b"\n\n# coding: latin-1\nx = '\xe9'\n"),
    ("unknown codec cookie", b"# coding: klingon\nimport time\nasync def f():\n    time.sleep(1)\n"),
    ("utf-16 cookie", b"# coding: utf-16\nimport time\n"),
    ("utf-16 text", "import time\nasync def f():\n    time.sleep(1)\n".encode("utf-16")),
    ("shift_jis cookie", "# coding: shift_jis\nx = 'テスト'\nasync def f():\n    time.sleep(1)\n".encode("shift_jis")),
    ("euc-jp without cookie", "x = 'テスト'\nasync def f():\n    time.sleep(1)\n".encode("euc-jp")),
    ("latin-1 without cookie", b"x = '\xe9\xe8'\nimport time\nasync def f():\n    time.sleep(1)\n"),
    ("truncated UTF-8", "x = 'é'".encode()[:-2] + b"\nasync def f():\n    time.sleep(1)\n"),
    ("encoded surrogate", b"x = '\xed\xa0\x80'\n"),
    ("invalid start bytes", bytes(range(128, 256)) + b"\nasync def f():\n    time.sleep(1)\n"),
    ("all bytes", bytes(range(256)) * 4),
    ("form feeds", b"\x0cimport time\n\x0casync def f():\n\x0c    time.sleep(1)\n"),
    ("vertical tab", b"import time\x0b\nasync def f():\n    time.sleep(1)\n"),
    ("NEL and line separators", "x = 1\x85y = 2\u2028z = 3\u2029\nasync def f():\n    time.sleep(1)\n".encode()),
    ("tabs and spaces", b"async def f():\n\tif x:\n        time.sleep(1)\n\ttime.sleep(2)\n"),
    ("non-BMP identifiers", "async def 𝔣():\n    𝔵 = time.sleep(1)\n    asyncio.create_task(𝔣())\n".encode()),
    ("combining characters", "async def f():\n    x = 'é'; time.sleep(1)\n    asyncio.create_task(f())\n".encode()),
    ("empty", b""),
    ("only newlines", b"\n" * 10_000),
    ("only whitespace", b"   \t  \x0c \n  \n\t"),
    ("no final newline", b"import time\nasync def f():\n    time.sleep(1)"),
    ("binary garbage", bytes((i * 7919) % 256 for i in range(20_000))),
]

PYTHON2_INPUTS: list[tuple[str, str]] = [
    ("print statement", "import time\nprint 'hello'\nprint >>sys.stderr, 'x'\nasync def f():\n    time.sleep(1)\n"),
    ("exec statement", "exec 'x = 1' in globals()\n"),
    ("old except", "try:\n    pass\nexcept ValueError, e:\n    print e\n"),
    ("backticks", "x = `1 + 1`\n"),
    ("not-equal", "if 1 <> 2:\n    pass\n"),
    ("octal and long", "x = 0777 + 10L + 0xFFL\n"),
    ("ur strings", "x = ur'abc'\n"),
    ("raise with comma", "raise ValueError, 'bad'\n"),
    ("tuple parameters", "def f((a, b), c):\n    return a\n"),
    ("old-style class and print", "class A:\n    def f(self):\n        print self.x,\n"),
    ("mixed tabs", "def f():\n\tif x:\n\t\tpass\n        return 1\n"),
    ("a whole Python 2 module", """#!/usr/bin/env python
# -*- coding: utf-8 -*-
import urllib2, time
class Fetcher(object):
    def fetch(self, url):
        try:
            return urllib2.urlopen(url).read()
        except urllib2.URLError, e:
            print >>sys.stderr, "failed: %s" % e
            raise IOError, "bad"
    def wait(self):
        time.sleep(0777)
        exec "x = 1"
        print `self`, 10L
if __name__ == '__main__':
    print Fetcher().fetch(u'http://example.com')
"""),
]


# Names defined through themselves: resolution must stop, not recurse forever.
CYCLIC_INPUTS: list[tuple[str, str]] = [
    ("annotation naming itself", "x: x = 1\nasync def f():\n    x.run()\n"),
    ("two annotations naming each other", "a: b = 1\nb: a = 2\nasync def f():\n    a.run(); b.run()\n"),
    ("string annotation naming itself", "x: 'x' = 1\nasync def f():\n    x.run()\n"),
    ("string annotation of a string annotation", "x: \"'x'\" = 1\nasync def f():\n    x.run()\n"),
    ("string annotation with a null byte", "x: '\\0' = 1\nasync def f():\n    x.run()\n"),
    ("string annotation nested too deeply", "x: '" + "(" * 300 + "int" + ")" * 300 + "' = 1\nx.run()\n"),
    ("local annotation naming itself", "async def f():\n    x: x\n    x.run()\n    await x.run()\n"),
    ("parameter annotated with its function", "async def f(x: f):\n    x.run()\n"),
    ("assignment from itself", "x = x\ny = z\nz = y\nasync def f():\n    x.run(); y.run()\n"),
    ("attribute cycle", "class A:\n    def __init__(self):\n        self.a = self.a.b\n        self.b = self.a\n    async def f(self):\n        self.a.run()\n"),
    ("class inheriting from itself", "class A(A):\n    async def f(self):\n        self.f()\n"),
    ("classes inheriting from each other", "class A(B):\n    pass\nclass B(A):\n    async def f(self):\n        self.g()\n"),
    ("import cycle of names", "import a as b\nimport b as a\nasync def f():\n    a.run(); b.run()\n"),
    ("relative star import", "from . import *\nfrom .. import *\nasync def f():\n    run()\n"),
    ("function returning itself", "def f() -> f:\n    return f\nasync def g():\n    f().run()\n"),
    ("with target naming itself", "async def f():\n    async with x as x:\n        x.run()\n"),
]

"""A raw LSP client over pipes: Content-Length frames written by hand.

No client library stands between the test and the server, so the tests can
send what no well-behaved library would (edits past the end, versions out of
order, a close twice, garbage) and watch everything that comes back.  Requests
from the server (``workspace/configuration``, registrations, progress) are
answered at once, with nothing in particular.
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SERVER = [sys.executable, "-m", "asyncsense", "server"]
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class Published:
    version: int | None
    diagnostics: list[dict]
    at: float


@dataclass
class RawServer:
    process: subprocess.Popen
    root: Path
    messages: queue.Queue = field(default_factory=queue.Queue)
    answers: dict[Any, dict] = field(default_factory=dict)
    published: dict[str, list[Published]] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)
    lock: threading.Condition = field(default_factory=threading.Condition)
    next_id: int = 1000
    encoding: str = "utf-16"

    @classmethod
    def start(cls, root: Path, *args: str, env: dict[str, str] | None = None) -> RawServer:
        process = subprocess.Popen(
            [*SERVER, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=root,
            env={**os.environ, **(env or {})},
        )
        server = cls(process, root)
        threading.Thread(target=server._read, daemon=True).start()
        return server

    # -- sending -------------------------------------------------------------------
    def send_bytes(self, body: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_bytes(json.dumps({"jsonrpc": "2.0", **message}).encode())

    def notify(self, method: str, params: Any = None) -> None:
        self.send({"method": method, "params": params})

    def request(self, method: str, params: Any = None) -> int:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        return self.next_id

    def call(self, method: str, params: Any = None, timeout: float = 60) -> dict:
        return self.answer(self.request(method, params), timeout)

    def answer(self, request_id: Any, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        with self.lock:
            while request_id not in self.answers:
                left = deadline - time.monotonic()
                assert left > 0, f"no answer to request {request_id} in {timeout} s (server alive: {self.alive})"
                self.lock.wait(left)
            return self.answers.pop(request_id)

    def initialize(self, capabilities: dict | None = None) -> dict:
        capabilities = capabilities or {"general": {"positionEncodings": ["utf-32", "utf-16"]}}
        reply = self.call(
            "initialize", {"processId": os.getpid(), "rootUri": self.root.as_uri(), "capabilities": capabilities}
        )
        self.encoding = reply["result"]["capabilities"].get("positionEncoding", "utf-16")
        self.notify("initialized", {})
        return reply

    # -- receiving -----------------------------------------------------------------
    def _read(self) -> None:
        stream = self.process.stdout
        assert stream is not None
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    with self.lock:
                        self.lock.notify_all()
                    return
                if not line.strip():
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if length is None:
                continue
            message = json.loads(stream.read(length))
            self._dispatch(message)

    def _dispatch(self, message: dict) -> None:
        method = message.get("method")
        if method is not None and "id" in message:  # a request from the server
            result: Any = None
            if method == "workspace/configuration":
                result = [None for _ in message.get("params", {}).get("items", [])]
            self.send({"id": message["id"], "result": result})
            return
        with self.lock:
            if method == "textDocument/publishDiagnostics":
                params = message["params"]
                self.published.setdefault(params["uri"], []).append(
                    Published(params.get("version"), params["diagnostics"], time.monotonic())
                )
            elif method in ("window/logMessage", "window/showMessage"):
                self.logs.append(message["params"]["message"])
            elif method is None:
                self.answers[message.get("id")] = message
            self.lock.notify_all()

    def wait_for_diagnostics(self, uri: str, version: int, timeout: float = 60) -> Published:
        """The diagnostics published for ``version`` of ``uri``, or the skip logged for it."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for published in reversed(self.published.get(uri, [])):
                    if published.version == version:
                        return published
                left = deadline - time.monotonic()
                assert left > 0, (
                    f"no diagnostics for version {version} of {uri} in {timeout} s;"
                    f" got versions {[p.version for p in self.published.get(uri, [])][-5:]};"
                    f" server alive: {self.alive}; log: {self.logs[-3:]}"
                )
                self.lock.wait(min(left, 1.0))

    # -- lifetime ------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def shutdown(self, timeout: float = 30) -> int:
        self.call("shutdown", None, timeout)
        self.notify("exit")
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
            self.process.wait()


# -- the client's copy of a document ---------------------------------------------------


def offset_of(text: str, line: int, character: int, encoding: str) -> int:
    """LSP position -> offset, clamped as the LSP specification says: a character past
    the line's end means the line's end, a line past the last means the end of the text."""
    starts, ends = [0], []
    for match in _LINE_BREAK.finditer(text):  # \r\n, \r and \n all end a line (LSP)
        ends.append(match.start())
        starts.append(match.end())
    ends.append(len(text))
    if line >= len(starts):
        return len(text)
    start, end = starts[line], ends[line]
    units = 0
    for offset in range(start, end):
        if units >= character:
            return offset
        code = ord(text[offset])
        units += (2 if code > 0xFFFF else 1) if encoding == "utf-16" else (
            len(text[offset].encode("utf-8", "surrogatepass")) if encoding == "utf-8" else 1
        )
    return end


def apply_change(text: str, change: dict, encoding: str) -> str:
    if "range" not in change:
        return change["text"]
    start = offset_of(text, change["range"]["start"]["line"], change["range"]["start"]["character"], encoding)
    end = offset_of(text, change["range"]["end"]["line"], change["range"]["end"]["character"], encoding)
    if end < start:
        start, end = end, start
    return text[:start] + change["text"] + text[end:]

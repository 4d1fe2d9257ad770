"""Helpers shared by the benchmark scripts: tools venv, timed runs, asyncsense flags."""

from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".bench-cache"
TOOLS_VENV = CACHE / "tools-venv"
RESULTS = CACHE / "results"

# Competitors, pinned on 2026-11-26.
TOOL_PINS = {
    "basedpyright": ["basedpyright==1.40.2"],
    "flake8-async": ["flake8==7.5.0", "flake8-async==26.8.1"],
    "ruff": ["ruff==0.17.6"],
}

TIME_BIN = "/usr/bin/time"


def default_python() -> str:
    """The interpreter that runs asyncsense: the dev venv if present."""
    dev = Path("/work/venv/bin/python")
    env = os.environ.get("ASYNCSENSE_PYTHON")
    if env:
        return env
    return str(dev) if dev.exists() else sys.executable


def tools_bin(name: str) -> Path:
    return TOOLS_VENV / "bin" / name


def ensure_tools_venv(wanted: list[str], install: bool = True) -> dict[str, str]:
    """Create `.bench-cache/tools-venv` and install the pinned competitors.

    Returns {tool: reason} for the tools that are not usable.
    """
    missing: dict[str, str] = {}
    py = tools_bin("python")
    if not py.exists():
        if not install:
            return {t: "tools venv not created" for t in wanted}
        print(f"creating {TOOLS_VENV.relative_to(REPO)} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS_VENV)
    exe = {"basedpyright": "basedpyright", "flake8-async": "flake8", "ruff": "ruff"}
    for tool in wanted:
        reqs = TOOL_PINS[tool]
        if _installed(py, reqs):
            continue
        if not install:
            missing[tool] = "not installed in tools venv"
            continue
        print(f"installing {' '.join(reqs)} into the tools venv ...", flush=True)
        r = subprocess.run(
            [str(py), "-m", "pip", "install", "--disable-pip-version-check", "-q", *reqs],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0 or not tools_bin(exe[tool]).exists():
            missing[tool] = "pip install failed: " + (r.stderr.strip().splitlines() or ["?"])[-1]
    return missing


def _installed(py: Path, reqs: list[str]) -> bool:
    code = (
        "import sys\n"
        "from importlib.metadata import version, PackageNotFoundError\n"
        "ok = True\n"
        "for r in sys.argv[1:]:\n"
        "    n, v = r.split('==')\n"
        "    try:\n"
        "        ok &= version(n) == v\n"
        "    except PackageNotFoundError:\n"
        "        ok = False\n"
        "sys.exit(0 if ok else 1)\n"
    )
    return subprocess.run([str(py), "-c", code, *reqs], capture_output=True).returncode == 0


def tools_env() -> dict[str, str]:
    """Environment for competitor runs: the tools venv first on PATH."""
    env = dict(os.environ)
    env["PATH"] = f"{TOOLS_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(TOOLS_VENV)
    env.pop("PYTHONPATH", None)
    return env


@dataclass
class RunResult:
    cmd: list[str]
    wall: float  # seconds
    rss_kib: int | None  # peak RSS of the largest process in the tree
    returncode: int | None  # None: timed out
    stdout: str
    stderr: str
    timed_out: bool = False
    cpu: float | None = None  # user + system seconds of the whole process tree
    tree_rss_kib: int | None = None  # peak of the summed RSS of all its processes (sampled)


    @property
    def rss_mib(self) -> float | None:
        return None if self.rss_kib is None else self.rss_kib / 1024


def run_measured(
    cmd: list[str],
    cwd: Path | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    stdin_data: str | None = None,
) -> RunResult:
    """Run `cmd`, measuring wall time and peak RSS.

    Peak RSS comes from `/usr/bin/time -v` when present ("Maximum resident set
    size"), else from `os.wait4`'s rusage of the child; both are the largest
    RSS of any one process of the tree (the kernel's ru_maxrss), not a sum.
    """
    # Every tool runs as installed: with its bytecode cache (a shell that sets
    # PYTHONDONTWRITEBYTECODE would make each Python tool recompile itself per run).
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    use_time = os.path.exists(TIME_BIN)
    tfile = None
    full = list(cmd)
    if use_time:
        fd, tfile = tempfile.mkstemp(prefix="bench-time-")
        os.close(fd)
        full = [TIME_BIN, "-v", "-o", tfile, *cmd]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(
            full,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=err,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            start_new_session=True,
        )
        if stdin_data is not None:
            p.stdin.write(stdin_data.encode())
            p.stdin.close()
        timed_out = False
        rusage = None
        deadline = None if timeout is None else t0 + timeout
        status = None
        tree_peak = 0
        next_sample = t0
        while True:
            pid, status, rusage = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            now = time.perf_counter()
            if now >= next_sample:
                tree_peak = max(tree_peak, tree_rss_kib(p.pid))
                next_sample = now + 0.25
            if deadline is not None and time.perf_counter() > deadline:
                timed_out = True
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                _, status, rusage = os.wait4(p.pid, 0)
                break
            time.sleep(0.01)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    rss = None
    cpu = None
    rc: int | None = None if timed_out else p.returncode
    if use_time and tfile:
        try:
            text = Path(tfile).read_text()
            m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
            if m:
                rss = int(m.group(1))
            mu = re.search(r"User time \(seconds\): ([\d.]+)", text)
            ms = re.search(r"System time \(seconds\): ([\d.]+)", text)
            if mu and ms:
                cpu = float(mu.group(1)) + float(ms.group(1))
            m = re.search(r"Exit status: (\d+)", text)
            if m and not timed_out:
                rc = int(m.group(1))
            if "Command terminated by signal" in text and not timed_out:
                m = re.search(r"Command terminated by signal (\d+)", text)
                rc = -int(m.group(1)) if m else rc
        finally:
            os.unlink(tfile)
    if rss is None and rusage is not None:
        rss = int(rusage.ru_maxrss)  # KiB on Linux
    if cpu is None and rusage is not None:
        cpu = rusage.ru_utime + rusage.ru_stime
    # Short runs end between samples: the largest single process is a floor.
    tree_peak = max(tree_peak, rss or 0)
    return RunResult(full if not use_time else cmd, wall, rss, rc, stdout, stderr, timed_out, cpu, tree_peak or None)


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (from /proc/<pid>/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(k) for k in f.read().split()]
        except OSError:
            pass
    return out


def tree_rss_kib(pid: int) -> int:
    """Summed VmRSS of a process tree, KiB (0 if gone)."""
    total = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


@dataclass
class AsyncsenseCli:
    """What `python -m asyncsense check --help` says the CLI supports."""

    python: str
    available: bool
    help_text: str = ""
    error: str = ""
    flags: set[str] = field(default_factory=set)

    def has(self, flag: str) -> bool:
        return flag in self.flags


def probe_asyncsense(python: str) -> AsyncsenseCli:
    try:
        r = subprocess.run(
            [python, "-m", "asyncsense", "check", "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tempfile.gettempdir(),
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return AsyncsenseCli(python, False, error=str(e))
    if r.returncode != 0:
        tail = (r.stderr.strip().splitlines() or ["(no output)"])[-1]
        return AsyncsenseCli(python, False, r.stdout + r.stderr, error=tail)
    flags = set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", r.stdout))
    return AsyncsenseCli(python, True, r.stdout, flags=flags)


def git_describe() -> str:
    """The asyncsense commit measured (with '+dirty' when the work tree has changes)."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no",
                                "--", "cli", "analyzers", "server"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "commit unknown"
    return f"commit {head or '?'}{'+dirty' if dirty else ''}"


def ensure_snapshot(ref: str = "HEAD") -> str:
    """Install asyncsense as committed at `ref` into its own venv; returns its python.

    The dev install is editable, and its on-disk cache is salted with the
    mtimes of asyncsense's own files: in a work tree others are editing, the
    cache is invalidated under the benchmark's feet.  A snapshot (`git archive`,
    a plain non-editable install under .bench-cache/) is stable.
    """
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref],
                            capture_output=True, text=True, check=True).stdout.strip()
    venv_dir = CACHE / f"asyncsense-{commit}-venv"
    py = venv_dir / "bin" / "python"
    if py.exists() and subprocess.run([str(py), "-c", "import asyncsense"], capture_output=True).returncode == 0:
        return str(py)
    src = CACHE / f"asyncsense-{commit}-src"
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    print(f"snapshot of asyncsense {commit} -> {venv_dir.relative_to(REPO)} ...", flush=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", commit],
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(src)], check=True)
    return str(py)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[k]


def median(values: list[float]) -> float:
    return statistics.median(values)


def fmt_secs(s: float | None) -> str:
    if s is None:
        return "-"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    return f"{s:.2f} s"


def fmt_mib(m: float | None) -> str:
    return "-" if m is None else f"{m:,.0f} MiB"


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    """A GitHub-flavoured markdown table (also readable in a terminal)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    out = [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return "\n".join(out)


def copy_tree(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)

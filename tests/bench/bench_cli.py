#!/usr/bin/env python3
"""CLI benchmark: asyncsense against basedpyright, flake8-async and ruff on one tree.

    python tests/bench/bench_cli.py --tree aiohttp --repeat 3
    python tests/bench/bench_cli.py --tree homeassistant --repeat 1 --timeout 1800
    python tests/bench/bench_cli.py --tree aiohttp --tools asyncsense,ruff

The tree is fetched first if needed (see fetch.py; any folder path works too).
Competitors run from `.bench-cache/tools-venv`, created and filled with the
pinned versions on first use (`--no-install` to skip that).

Measured per tool and mode: wall time (median of --repeat runs, and the
fastest), ratio to asyncsense's same mode, peak RSS (the largest single
process, from `/usr/bin/time -v` or `os.wait4`), lines per second, findings.

The cold runs of the tools take turns (asyncsense, basedpyright, flake8-async,
asyncsense, ...): the machine's speed drifts, and ratios are only meaningful
between runs made at the same time (`--sequential` for tool after tool).

Modes:
  cold        asyncsense `--no-cache`, ruff `--no-cache`; flake8 and
              basedpyright have no cache, so every run of theirs is cold.
  cache-fill  first run with an empty `--cache-dir` (cold + writing the cache).
  warm        the same again with nothing changed.
  touch-mtime on a copy of the tree with a warm cache: bump one file's mtime.
  edit-1-file on that copy: append a comment line to one file (new content).

asyncsense is run as `<python> -m asyncsense check --output-format json
--exit-zero --no-cache TREE`; the flags are taken from `check --help` so the
script adapts while the CLI is young.  Findings are counted per rule from the
JSON (`rule`, `filename`, `location.row`); ruff's via `--output-format json`,
flake8's from its text, basedpyright's from its `(reportX)` tags and summary.
Results are also written to `.bench-cache/results/cli-<tree>-<stamp>.json`.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _benchlib as bl  # noqa: E402
import fetch  # noqa: E402

ALL_TOOLS = ["asyncsense", "basedpyright", "flake8-async", "ruff"]
# File appended to / touched in the touch modes, per tree; else the largest file.
TOUCH_FILES = {
    "aiohttp": "aiohttp/client.py",
    "homeassistant": "homeassistant/core.py",
    "httpx": "httpx/_client.py",
    "uvicorn": "uvicorn/main.py",
    "starlette": "starlette/routing.py",
    "redis": "redis/asyncio/client.py",
}


@dataclass
class Row:
    tool: str
    mode: str
    runs: list[bl.RunResult] = field(default_factory=list)
    findings: int | None = None
    by_rule: dict[str, int] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok_runs(self) -> list[bl.RunResult]:
        return [r for r in self.runs if not r.timed_out]

    @property
    def wall(self) -> float | None:
        ok = self.ok_runs
        return bl.median([r.wall for r in ok]) if ok else None

    @property
    def wall_min(self) -> float | None:
        ok = self.ok_runs
        return min(r.wall for r in ok) if ok else None

    @property
    def cpu(self) -> float | None:
        vals = [r.cpu for r in self.ok_runs if r.cpu is not None]
        return bl.median(vals) if vals else None

    @property
    def tree_rss_mib(self) -> float | None:
        vals = [r.tree_rss_kib / 1024 for r in self.runs if r.tree_rss_kib]
        return max(vals) if vals else None

    @property
    def rss_mib(self) -> float | None:
        vals = [r.rss_mib for r in self.runs if r.rss_mib is not None]
        return max(vals) if vals else None


# ---------------------------------------------------------------- parsers


def _json_payload(stdout: str):
    text = stdout.strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        # Tolerate a banner before the JSON.
        i = min((i for i in (text.find("["), text.find("{")) if i >= 0), default=-1)
        if i > 0:
            try:
                return json.loads(text[i:])
            except ValueError:
                return None
        return None


PARTIAL_KEYS = ("partial", "in_part", "in-part", "partially")


def parse_asyncsense(res: bl.RunResult) -> tuple[int | None, dict[str, int], dict, str | None]:
    """(findings, per-rule counts, statistics, error) from one asyncsense run."""
    payload = _json_payload(res.stdout)
    stats: dict = {}
    diags = None
    if isinstance(payload, list):
        diags = payload
    elif isinstance(payload, dict):
        for key in ("diagnostics", "results", "findings", "messages"):
            if isinstance(payload.get(key), list):
                diags = payload[key]
                break
        stats = {k: v for k, v in payload.items() if not isinstance(v, list) or k != "diagnostics"}
        for key in ("statistics", "stats", "summary"):
            if isinstance(payload.get(key), dict):
                stats = payload[key]
    if diags is None:
        err = _error_tail(res)
        return None, {}, stats, err or "no JSON on stdout"
    by_rule = collections.Counter(str(d.get("rule", d.get("code", "?"))) for d in diags if isinstance(d, dict))
    files = {d.get("filename") for d in diags if isinstance(d, dict)}
    stats = dict(stats)
    stats.setdefault("_files_with_findings", len(files))
    stats.update(_stderr_stats(res.stderr))
    return len(diags), dict(by_rule), stats, None


PARTIAL_WARNING = re.compile(r"^(.*?): warning: parts of the file could not be parsed", re.M)
FILE_ERROR = re.compile(r"^(.*?): error: (.*)$", re.M)


def _stderr_stats(stderr: str) -> dict:
    """What the CLI reports on stderr: files analysed in part, per-file errors."""
    out: dict = {}
    partial = PARTIAL_WARNING.findall(stderr)
    out["partial_files"] = len(partial)
    if partial:
        out["partial_examples"] = partial[:10]
    errors = FILE_ERROR.findall(stderr)
    if errors:
        out["file_errors"] = len(errors)
        out["file_error_examples"] = [f"{p}: {m}" for p, m in errors[:10]]
    if "Traceback (most recent call last)" in stderr:
        out["traceback"] = stderr[stderr.rindex("Traceback (most recent call last)"):][-3000:]
    return out


def partial_count(stats: dict) -> int | None:
    """The number of files analysed only in part, wherever the CLI reports it."""
    def walk(obj, path=""):
        if isinstance(obj, dict):
            for k, v in obj.items():
                yield from walk(v, f"{path}.{k}")
        else:
            yield path, obj

    for path, value in walk(stats):
        low = path.lower()
        if any(k in low for k in PARTIAL_KEYS):
            if isinstance(value, bool):
                continue
            if isinstance(value, int):
                return value
            if isinstance(value, list):
                return len(value)
    return None


def parse_ruff(res: bl.RunResult):
    payload = _json_payload(res.stdout)
    if not isinstance(payload, list):
        return None, {}, {}, _error_tail(res) or "no JSON"
    c = collections.Counter(str(d.get("code") or "syntax-error") for d in payload)
    return len(payload), dict(c), {}, None


FLAKE8_LINE = re.compile(r"^.+?:\d+:\d+: ([A-Z]+\d+) ", re.M)


def parse_flake8(res: bl.RunResult):
    if res.returncode not in (0, 1):
        return None, {}, {}, _error_tail(res)
    c = collections.Counter(FLAKE8_LINE.findall(res.stdout))
    return sum(c.values()), dict(c), {}, None


PYRIGHT_SUMMARY = re.compile(r"(\d+) errors?, (\d+) warnings?, (\d+) (?:notes?|informations?)")
PYRIGHT_RULE = re.compile(r"\((report\w+)\)\s*$", re.M)
PYRIGHT_DIAG = re.compile(r"^\s+\S.*?:\d+:\d+ - (error|warning|note|information):", re.M)


def parse_basedpyright(res: bl.RunResult):
    m = PYRIGHT_SUMMARY.search(res.stdout)
    if not m:
        return None, {}, {}, _error_tail(res) or "no summary line"
    errors, warnings, notes = map(int, m.groups())
    c = collections.Counter(PYRIGHT_RULE.findall(res.stdout))
    untagged = errors + warnings + notes - sum(c.values())
    if untagged > 0:
        c["(no rule: syntax/other)"] = untagged
    files = re.search(r"(\d+) files?", res.stdout[-2000:])
    stats = {"errors": errors, "warnings": warnings, "notes": notes}
    return errors + warnings + notes, dict(c), stats, None


def _error_tail(res: bl.RunResult, n: int = 12) -> str:
    lines = (res.stderr or res.stdout).strip().splitlines()
    return "\n".join(lines[-n:])


# ---------------------------------------------------------------- commands


def asyncsense_cmd(cli: bl.AsyncsenseCli, tree: str, cache: str | None, extra: list[str]) -> list[str]:
    cmd = [cli.python, "-m", "asyncsense", "check"]
    if cli.has("--output-format"):
        cmd += ["--output-format", "json"]
    elif cli.has("--format"):
        cmd += ["--format", "json"]
    if cli.has("--exit-zero"):
        cmd.append("--exit-zero")
    if cli.has("--no-respect-gitignore"):
        # The trees live in .bench-cache/, which the repository's .gitignore
        # excludes; asyncsense honours ancestors' .gitignore files even for a
        # folder named on the command line (it would check 0 files).
        cmd.append("--no-respect-gitignore")
    if cache is None:
        if cli.has("--no-cache"):
            cmd.append("--no-cache")
    elif cli.has("--cache-dir"):
        cmd += ["--cache-dir", cache]
    return cmd + extra + [tree]


def ruff_cmd(tree: str, cache: str | None) -> list[str]:
    cmd = [str(bl.tools_bin("ruff")), "check", "--select", "ASYNC", "--output-format", "json", "--exit-zero"]
    cmd += ["--no-cache"] if cache is None else ["--cache-dir", cache]
    return cmd + [tree]


def flake8_cmd(tree: str) -> list[str]:
    return [str(bl.tools_bin("flake8")), "--select", "ASYNC", "--exit-zero", tree]


def basedpyright_cmd(tree: Path, tree_name: str) -> list[str]:
    # basedpyright would take /work/main/pyproject.toml as its project and
    # auto-exclude `**/.*`, i.e. the whole `.bench-cache/` tree.  A config
    # that only names the tree keeps every default setting otherwise.
    cfg_dir = bl.CACHE / "pyright" / tree_name
    cfg_dir.mkdir(parents=True, exist_ok=True)
    cfg = cfg_dir / "pyrightconfig.json"
    cfg.write_text(json.dumps({"include": [str(tree)]}) + "\n")
    return [str(bl.tools_bin("basedpyright")), "-p", str(cfg)]


# ---------------------------------------------------------------- runner


class Bench:
    def __init__(self, args, tree: Path, tree_name: str, lines: int, files: int):
        self.args = args
        self.tree = tree
        self.tree_name = tree_name
        self.lines = lines
        self.files = files
        self.rows: list[Row] = []
        self.load_start = tuple(round(x, 2) for x in os.getloadavg())
        self.started = dt.datetime.now().isoformat(timespec="seconds")
        self.commit = bl.git_describe()
        if args.snapshot:
            self.commit = f"snapshot of {args.snapshot} ({Path(args.python).parents[1].name})"
        self.work = bl.CACHE / "work"
        self.work.mkdir(parents=True, exist_ok=True)

    def log(self, msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    def measure(self, row: Row, cmd: list[str], parser, repeat: int, cwd: Path, env=None, before=None) -> None:
        for i in range(repeat):
            if before:
                before(i)
            self.log(f"  [{row.tool} {row.mode} {i + 1}/{repeat}] {' '.join(cmd)}")
            res = bl.run_measured(cmd, cwd=cwd, env=env, timeout=self.args.timeout)
            row.runs.append(res)
            if res.timed_out:
                row.notes.append(f"timeout after {self.args.timeout:.0f} s")
                self.log(f"    timeout after {self.args.timeout:.0f} s")
                break
            n, by_rule, stats, err = parser(res)
            self.log(f"    {res.wall:.2f} s (cpu {res.cpu or 0:.2f} s), rc {res.returncode}, {bl.fmt_mib(res.rss_mib)}, findings {n}")
            if err and n is None:
                row.error = f"rc {res.returncode}: {err}"
                self.log("    ERROR: " + err.replace("\n", "\n    "))
                break
            if row.findings is not None and n != row.findings:
                row.notes.append(f"findings differ between runs: {row.findings} vs {n}")
            row.findings, row.by_rule, row.extra = n, by_rule, stats
            if res.wall > self.args.max_repeat_seconds and i + 1 < repeat:
                row.notes.append(f"{i + 1} run(s): one took > {self.args.max_repeat_seconds:.0f} s")
                break
        if not any(existing is row for existing in self.rows):
            self.rows.append(row)

    def cold_rounds(self, jobs: list[tuple[Row, list[str], object, dict | None]]) -> None:
        """The cold runs of all tools in turns (A B C, A B C, ...), not tool after tool:
        the machine's speed drifts by a third within an hour here, and a drift
        between one tool's block of runs and the next would show up in the ratios."""
        stopped: set[int] = set()
        for i in range(self.args.repeat):
            self.log(f"round {i + 1}/{self.args.repeat}")
            for row, cmd, parser, env in jobs:
                if id(row) in stopped:
                    continue
                self.measure(row, cmd, parser, 1, self.tree, env)
                last = row.runs[-1] if row.runs else None
                if row.error or last is None or last.timed_out:
                    stopped.add(id(row))
                elif last.wall > self.args.max_repeat_seconds and i + 1 < self.args.repeat:
                    row.notes.append(f"{i + 1} run(s): one took > {self.args.max_repeat_seconds:.0f} s")
                    stopped.add(id(row))

    # -- touch modes -------------------------------------------------
    def touch_copy(self) -> tuple[Path, Path]:
        copy = self.work / f"{self.tree_name}-touch"
        if not (copy / fetch.MARKER).exists() or (copy / fetch.MARKER).read_text() != (
            (self.tree / fetch.MARKER).read_text() if (self.tree / fetch.MARKER).exists() else ""
        ):
            self.log(f"  copying {self.tree} -> {copy}")
            bl.copy_tree(self.tree, copy)
        for extra in (fetch.ROOT_FILE,):
            if (self.tree / extra).exists() and (
                not (copy / extra).exists() or (copy / extra).read_bytes() != (self.tree / extra).read_bytes()
            ):
                shutil.copy2(self.tree / extra, copy / extra)
        rel = self.args.touch_file or TOUCH_FILES.get(self.tree_name)
        if not rel or not (copy / rel).exists():
            rel = max(
                (p for p in copy.rglob("*.py")), key=lambda p: p.stat().st_size
            ).relative_to(copy).as_posix()
        return copy, copy / rel

    def touch_modes(self, tool: str, make_cmd, parser, env=None) -> None:
        """touch-mtime and edit-1-file on a private copy with a warm cache."""
        copy, target = self.touch_copy()
        original = (self.tree / target.relative_to(copy)).read_bytes()
        target.write_bytes(original)
        cache = self.work / f"{tool}-cache-{self.tree_name}-touch"
        shutil.rmtree(cache, ignore_errors=True)
        cmd = make_cmd(str(copy), str(cache))
        self.log(f"  [{tool} prime cache on copy] {' '.join(cmd)}")
        prime = bl.run_measured(cmd, cwd=copy, env=env, timeout=self.args.timeout)
        if prime.timed_out:
            r = Row(tool, "touch-mtime")
            r.notes.append(f"cache prime timed out after {self.args.timeout:.0f} s")
            self.rows.append(r)
            return
        rel = target.relative_to(copy).as_posix()

        def bump(i):
            t = time.time() + 1 + i
            os.utime(target, (t, t))

        r = Row(tool, "touch-mtime")
        r.notes.append(f"file: {rel}")
        self.measure(r, cmd, parser, self.args.repeat, copy, env, before=bump)

        def edit(i):
            target.write_bytes(original + f"\n# asyncsense bench edit {i} {time.time_ns()}\n".encode())

        r = Row(tool, "edit-1-file")
        r.notes.append(f"file: {rel}")
        self.measure(r, cmd, parser, self.args.repeat, copy, env, before=edit)
        target.write_bytes(original)

    # -- tools -------------------------------------------------------
    def run_asyncsense(self, cli: bl.AsyncsenseCli) -> None:
        tree = str(self.tree)
        extra = self.args.asyncsense_arg or []
        if not cli.available:
            r = Row("asyncsense", "cold")
            r.error = f"not runnable: {cli.error}"
            self.rows.append(r)
            return
        modes = set(self.args.modes.split(","))
        if self.args.interleave:
            modes.discard("cold")  # measured in cold_rounds
        if ("cold" in modes) and (cli.has("--no-cache") or not cli.has("--cache-dir")):
            r = Row("asyncsense", "cold")
            if not cli.has("--no-cache"):
                r.notes.append("no --no-cache flag: default caching")
            self.measure(r, asyncsense_cmd(cli, tree, None, extra), parse_asyncsense, self.args.repeat, self.tree)
        if self.args.cold_only:
            return
        if not cli.has("--cache-dir"):
            self.rows.append(Row("asyncsense", "warm", notes=["no --cache-dir flag in `check --help`"]))
            return
        cache = self.work / f"asyncsense-cache-{self.tree_name}"

        def wipe(_i):
            shutil.rmtree(cache, ignore_errors=True)

        cmd = asyncsense_cmd(cli, tree, str(cache), extra)
        if not modes & {"cache-fill", "warm", "touch"}:
            return
        r = Row("asyncsense", "cache-fill")
        # Without "cache-fill" in --modes: one run fills the cache, not reported.
        self.measure(r, cmd, parse_asyncsense, self.args.repeat if "cache-fill" in modes else 1, self.tree, before=wipe)
        if "cache-fill" not in modes:
            self.rows.remove(r)
        if r.error or not r.ok_runs:
            return
        if not cache.exists() or not any(cache.iterdir()):
            r.notes.append("cache dir empty after the run: nothing cached on disk")
        if "warm" not in modes:
            return
        r = Row("asyncsense", "warm")
        self.measure(r, cmd, parse_asyncsense, self.args.repeat, self.tree)
        if not self.args.no_touch and "touch" in modes:
            self.touch_modes("asyncsense", lambda t, c: asyncsense_cmd(cli, t, c, extra), parse_asyncsense)

    def run_ruff(self) -> None:
        env = bl.tools_env()
        tree = str(self.tree)
        if not self.args.interleave:
            self.measure(Row("ruff", "cold"), ruff_cmd(tree, None), parse_ruff, self.args.repeat, self.tree, env)
        if self.args.cold_only:
            return
        cache = self.work / f"ruff-cache-{self.tree_name}"
        shutil.rmtree(cache, ignore_errors=True)
        self.measure(Row("ruff", "cache-fill"), ruff_cmd(tree, str(cache)), parse_ruff, 1, self.tree, env)
        self.measure(Row("ruff", "warm"), ruff_cmd(tree, str(cache)), parse_ruff, self.args.repeat, self.tree, env)
        if not self.args.no_touch:
            self.touch_modes("ruff", ruff_cmd, parse_ruff, env)

    def run_flake8(self) -> None:
        if self.args.interleave:
            return
        row = Row("flake8-async", "cold")
        self.measure(row, flake8_cmd(str(self.tree)), parse_flake8, self.args.repeat, self.tree, bl.tools_env())

    def run_basedpyright(self) -> None:
        if self.args.interleave:
            return
        row = Row("basedpyright", "cold")
        cmd = basedpyright_cmd(self.tree, self.tree_name)
        self.measure(row, cmd, parse_basedpyright, self.args.repeat, self.tree, bl.tools_env())


# ---------------------------------------------------------------- report


def report(bench: Bench, cli: bl.AsyncsenseCli, skipped: dict[str, str]) -> str:
    ref = {r.mode: r.wall for r in bench.rows if r.tool == "asyncsense" and r.wall}
    ref_cold = ref.get("cold") or ref.get("cache-fill")
    ref_cpu = {r.mode: r.cpu for r in bench.rows if r.tool == "asyncsense" and r.cpu}
    headers = ["tool", "mode", "wall (median)", "fastest", "CPU user+sys", "runs", "× asyncsense", "CPU × asyncsense", "peak RSS", "peak RSS, all processes", "lines/s", "findings", "notes"]
    rows = []
    tools = list(dict.fromkeys(r.tool for r in bench.rows))
    for r in sorted(bench.rows, key=lambda r: tools.index(r.tool)):  # stable: modes in run order
        wall = r.wall
        if wall is None:
            wall_s = "timeout" if any(x.timed_out for x in r.runs) else "-"
        else:
            wall_s = bl.fmt_secs(wall)
        same = ref.get(r.mode) or (ref_cold if r.mode == "cold" else None)
        ratio = "-" if (wall is None or not same) else f"{wall / same:.3g}"
        same_cpu = ref_cpu.get(r.mode) or (ref_cpu.get("cold") if r.mode == "cold" else None)
        cpu_ratio = "-" if (r.cpu is None or not same_cpu) else f"{r.cpu / same_cpu:.3g}"
        if r.tool == "asyncsense" and wall is not None and same:
            ratio = cpu_ratio = "1.00"
        lps = "-" if not wall else f"{bench.lines / wall:,.0f}"
        notes = list(r.notes)
        cpus = [x.cpu for x in r.ok_runs if x.cpu]
        if len(cpus) > 1 and max(cpus) > 3 * min(cpus):
            notes.append("runs' CPU: " + ", ".join(f"{c:.2f}" for c in cpus) + " s")
        if r.error:
            notes.append("ERROR: " + r.error.splitlines()[-1][:160])
        if r.tool == "asyncsense" and r.findings is not None:
            pc = partial_count(r.extra)
            notes.append(f"files analysed in part: {pc}" if pc is not None else "files analysed in part: not reported by the CLI")
            if r.extra.get("file_errors"):
                notes.append(f"file errors: {r.extra['file_errors']}")
            if r.extra.get("traceback"):
                notes.append("TRACEBACK on stderr")
        rows.append([
            r.tool, r.mode, wall_s, bl.fmt_secs(r.wall_min), bl.fmt_secs(r.cpu), str(len(r.ok_runs)), ratio, cpu_ratio,
            bl.fmt_mib(r.rss_mib), bl.fmt_mib(r.tree_rss_mib), lps, "-" if r.findings is None else f"{r.findings:,}", "; ".join(dict.fromkeys(notes)),
        ])
    for tool, why in skipped.items():
        rows.append([tool, "-", "-", "-", "-", "0", "-", "-", "-", "-", "-", "-", f"skipped: {why}"])
    out = [
        f"tree: {bench.tree_name} ({bench.files:,} files, {bench.lines:,} lines) at {bench.tree}",
        f"started: {bench.started}, {os.cpu_count()} CPUs, repeat {bench.args.repeat}",
        f"asyncsense: {cli.python} ({'CLI available' if cli.available else 'CLI NOT available: ' + cli.error}),"
        f" {bench.commit}",
        f"load average at start / end: {bench.load_start} / {tuple(round(x, 2) for x in os.getloadavg())}",
        "",
        bl.render_table(headers, rows),
        "",
        "findings per rule:",
    ]
    seen = set()
    for r in bench.rows:
        if r.by_rule and r.tool not in seen:
            seen.add(r.tool)
            top = sorted(r.by_rule.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = ", ".join(f"{k} {v:,}" for k, v in top[:15])
            more = f", … {len(top) - 15} more rules" if len(top) > 15 else ""
            out.append(f"  {r.tool}: {shown}{more}")
    for r in bench.rows:
        if r.tool == "asyncsense" and r.extra:
            shown = {k: v for k, v in r.extra.items() if k != "traceback"}
            out.append(f"asyncsense statistics ({r.mode}): {json.dumps(shown, sort_keys=True)[:3000]}")
            if r.extra.get("traceback"):
                out.append("asyncsense traceback:\n" + r.extra["traceback"])
            break
    errs = [r for r in bench.rows if r.error]
    if errs:
        out.append("")
        out.append("errors:")
        for r in errs:
            out.append(f"--- {r.tool} {r.mode}:\n{r.error}")
    return "\n".join(out)


def save_json(bench: Bench, text: str) -> Path:
    bl.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    path = bl.RESULTS / f"cli-{bench.tree_name}-{stamp}.json"
    data = {
        "tree": bench.tree_name,
        "commit": bench.commit,
        "files": bench.files,
        "lines": bench.lines,
        "report": text,
        "rows": [
            {
                "tool": r.tool,
                "mode": r.mode,
                "walls": [x.wall for x in r.runs],
                "cpus": [x.cpu for x in r.runs],
                "timed_out": [x.timed_out for x in r.runs],
                "rss_mib": [x.rss_mib for x in r.runs],
                "tree_rss_mib": [x.tree_rss_kib and x.tree_rss_kib / 1024 for x in r.runs],
                "returncodes": [x.returncode for x in r.runs],
                "findings": r.findings,
                "by_rule": r.by_rule,
                "stats": r.extra,
                "notes": r.notes,
                "error": r.error,
                "cmd": r.runs[0].cmd if r.runs else None,
                "stderr_tail": r.runs[-1].stderr[-4000:] if r.runs else None,
            }
            for r in bench.rows
        ],
    }
    path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", default="aiohttp", help=f"a pinned tree ({', '.join(fetch.PINNED)}) or a folder")
    ap.add_argument("--repeat", type=int, default=3, help="runs per tool and mode (median reported)")
    ap.add_argument("--tools", default=",".join(ALL_TOOLS), help=f"comma list of {ALL_TOOLS}")
    ap.add_argument("--python", default=bl.default_python(), help="interpreter that runs asyncsense")
    ap.add_argument("--snapshot", nargs="?", const="HEAD", metavar="REF",
                    help="run asyncsense from a non-editable install of REF (default HEAD) in .bench-cache/,"
                    " so that edits to the work tree neither change nor invalidate what is measured")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds before one run is killed")
    ap.add_argument("--max-repeat-seconds", type=float, default=300,
                    help="stop repeating a tool/mode once one run took longer than this")
    ap.add_argument("--touch-file", help="file (relative to the tree) for the touch modes")
    ap.add_argument("--no-touch", action="store_true", help="skip the touch-mtime / edit-1-file modes")
    ap.add_argument("--cold-only", action="store_true", help="only the cold mode (no cache-fill/warm/touch)")
    ap.add_argument("--modes", default="cold,cache-fill,warm,touch",
                    help="asyncsense modes to run, comma list of cold, cache-fill, warm, touch (touch needs warm)")
    ap.add_argument("--no-install", action="store_true", help="do not create/fill the tools venv")
    ap.add_argument("--sequential", dest="interleave", action="store_false",
                    help="cold runs tool after tool instead of in turns (the default: A B C, A B C, ...)")
    ap.add_argument("--asyncsense-arg", action="append", help="extra argument for `asyncsense check` (repeatable)")
    args = ap.parse_args(argv)

    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    bad = [t for t in tools if t not in ALL_TOOLS]
    if bad:
        ap.error(f"unknown tools {bad}; known: {ALL_TOOLS}")

    if args.tree in fetch.PINNED:
        marker = fetch.ensure(fetch.PINNED[args.tree])
        tree, name = fetch.PINNED[args.tree].path, args.tree
        files, lines = marker["files"], marker["lines"]
    else:
        tree = Path(args.tree).resolve()
        name = tree.name
        files, lines = fetch.tree_stats(tree)

    competitors = [t for t in tools if t != "asyncsense"]
    skipped = bl.ensure_tools_venv(competitors, install=not args.no_install) if competitors else {}

    if args.snapshot:
        args.python = bl.ensure_snapshot(args.snapshot)
    cli = bl.probe_asyncsense(args.python)
    bench = Bench(args, tree, name, lines, files)
    print(f"benchmarking {name}: {files:,} files, {lines:,} lines; tools {tools}", file=sys.stderr)
    if not cli.available:
        print(f"asyncsense CLI not available yet: {cli.error}", file=sys.stderr)
    modes = set(args.modes.split(","))
    args.interleave = args.interleave and "cold" in modes and cli.available
    if args.interleave:
        cold = {
            "asyncsense": (Row("asyncsense", "cold"), asyncsense_cmd(cli, str(tree), None, args.asyncsense_arg or []), parse_asyncsense, None),
            "basedpyright": (Row("basedpyright", "cold"), basedpyright_cmd(tree, name), parse_basedpyright, bl.tools_env()),
            "flake8-async": (Row("flake8-async", "cold"), flake8_cmd(str(tree)), parse_flake8, bl.tools_env()),
            "ruff": (Row("ruff", "cold"), ruff_cmd(str(tree), None), parse_ruff, bl.tools_env()),
        }
        bench.cold_rounds([cold[tool] for tool in tools if tool not in skipped])
    for tool in tools:
        if tool in skipped:
            continue
        {
            "asyncsense": lambda: bench.run_asyncsense(cli),
            "ruff": bench.run_ruff,
            "flake8-async": bench.run_flake8,
            "basedpyright": bench.run_basedpyright,
        }[tool]()
    text = report(bench, cli, skipped)
    print(text)
    path = save_json(bench, text)
    print(f"\n(saved {path.relative_to(bl.REPO)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Which files cost asyncsense the most: per-file timing of one in-process check.

    /work/venv/bin/python tests/bench/profile_files.py --tree aiohttp
    /work/venv/bin/python tests/bench/profile_files.py --tree homeassistant --top 20 --pyinstrument

Runs the same steps as `asyncsense check --no-cache TREE` (discovery with the
tree as project root, then `Project.check(files)`) in this process, with
timers wrapped around the engine's per-module steps:

  load        read + decode + parse + model (`Project.load`)
  summarise   call resolution and summaries, jedi included (`summary.summarise`)
  rules       the rules on one module (`Project.diagnostics_for`)

and prints the slowest files with each step's share, the files analysed in
part, and any exception (with its traceback) instead of hiding it.  Must run
with the interpreter that has asyncsense installed.  `--pyinstrument` also
writes a pyinstrument text profile of the whole check to .bench-cache/results/.
These are internal entry points: if they are renamed, the script says which.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import functools
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _benchlib as bl  # noqa: E402
import fetch  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", default="aiohttp", help="a pinned tree or a folder")
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--no-jedi", action="store_true", help="as `check --no-jedi`")
    ap.add_argument("--pyinstrument", action="store_true", help="also profile with pyinstrument")
    ap.add_argument("--interval", type=float, default=0.005, help="pyinstrument sampling interval, s")
    args = ap.parse_args(argv)

    if args.tree in fetch.PINNED:
        fetch.ensure(fetch.PINNED[args.tree])
        tree = fetch.PINNED[args.tree].path
    else:
        tree = Path(args.tree).resolve()

    from asyncsense.analyzers import project as project_mod
    from asyncsense.analyzers.config import Config, find_config, load_config
    from asyncsense.analyzers.discovery import discover

    found_cfg = find_config(tree)
    config = load_config(found_cfg) if found_cfg else Config()
    root = tree
    try:
        import dataclasses

        config = dataclasses.replace(config, root=root)
    except (TypeError, ValueError):
        pass
    found = discover([str(tree)], config, root=root, respect_gitignore=False)
    files = list(found.files)

    times: dict[str, dict[str, float]] = collections.defaultdict(lambda: collections.defaultdict(float))
    missing: list[str] = []

    def timed(phase, key_of):
        def deco(fn):
            @functools.wraps(fn)
            def wrapper(*a, **kw):
                t0 = time.perf_counter()
                try:
                    return fn(*a, **kw)
                finally:
                    try:
                        key = key_of(*a, **kw)
                    except Exception:  # noqa: BLE001
                        key = "?"
                    times[str(key)][phase] += time.perf_counter() - t0

            return wrapper

        return deco

    P = project_mod.Project
    if hasattr(P, "load"):
        P.load = timed("load", lambda self, path, *a, **k: Path(path).resolve())(P.load)
    else:
        missing.append("Project.load")
    if hasattr(project_mod, "summarise"):
        project_mod.summarise = timed("summarise", lambda model, *a, **k: model.path)(project_mod.summarise)
    else:
        missing.append("project.summarise")
    if hasattr(P, "diagnostics_for"):
        P.diagnostics_for = timed("rules", lambda self, model, *a, **k: model.path)(P.diagnostics_for)
    else:
        missing.append("Project.diagnostics_for")

    try:
        project = P(root, config, python=config.python, cache_dir=None, use_jedi=not args.no_jedi, jobs=1)
    except TypeError:
        project = P(root, config, python=config.python, cache_dir=None, use_jedi=not args.no_jedi)
    # One process, so that the timers see the work (the CLI shards big runs over workers).
    run_check = getattr(project, "check_in_process", None) or project.check
    print(f"asyncsense {bl.git_describe()}; checking with {run_check.__qualname__} (one process)")
    profiler = None
    if args.pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=args.interval)
        profiler.start()
    t0 = time.perf_counter()
    c0 = time.process_time()
    error = None
    results = []
    try:
        results = run_check(files)
    except Exception:  # noqa: BLE001
        error = traceback.format_exc()
    total = time.perf_counter() - t0
    cpu = time.process_time() - c0
    if profiler is not None:
        profiler.stop()

    lines_of = {}
    for key in set(times) | {str(Path(f).resolve()) for f in files}:
        try:
            lines_of[key] = Path(key).read_bytes().count(b"\n")
        except OSError:
            lines_of[key] = 0
    rows = sorted(times.items(), key=lambda kv: -sum(kv[1].values()))
    phase_tot = collections.Counter()
    for _, ph in times.items():
        phase_tot.update(ph)

    import resource

    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    nlines = sum(lines_of.get(str(Path(f).resolve()), 0) for f in files) or 1
    print(f"peak RSS of this process: {peak_mib:,.0f} MiB; CPU {cpu:.1f} s; "
          f"{nlines / total:,.0f} lines per wall s, {nlines / max(cpu, 1e-9):,.0f} per CPU s")
    print(f"tree {tree}: {len(files):,} files, check took {total:.2f} s in-process "
          f"(load {phase_tot['load']:.2f} s, summarise {phase_tot['summarise']:.2f} s, rules {phase_tot['rules']:.2f} s; "
          f"the rest is discovery of imports, jedi start-up and bookkeeping)")
    if missing:
        print(f"not timed (entry point not found): {', '.join(missing)}")
    table = []
    for key, ph in rows[: args.top]:
        rel = Path(key)
        try:
            rel = rel.relative_to(tree)
        except ValueError:
            pass
        tot = sum(ph.values())
        table.append([
            str(rel), f"{lines_of.get(key, 0):,}", f"{tot:.2f} s", f"{ph.get('load', 0):.2f}",
            f"{ph.get('summarise', 0):.2f}", f"{ph.get('rules', 0):.2f}",
        ])
    print()
    print(bl.render_table(["file", "lines", "total", "load s", "summarise s", "rules s"], table))
    partial = [r.path for r in results if getattr(r, "partial", False)]
    errors = [(r.path, e) for r in results for e in getattr(r, "errors", [])]
    ndiag = sum(len(getattr(r, "diagnostics", [])) for r in results)
    print(f"\nfindings: {ndiag:,}; files analysed in part: {len(partial)}; files with errors: {len(errors)}")
    for p in partial[:20]:
        print(f"  partial: {p}")
    for p, e in errors[:20]:
        print(f"  error: {p}: {e}")
    if error:
        print("\nEXCEPTION during check:\n" + error)

    bl.RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    if profiler is not None:
        out = bl.RESULTS / f"pyinstrument-{tree.name}-{stamp}.txt"
        out.write_text(profiler.output_text(unicode=True, color=False, show_all=False))
        print(f"\n(pyinstrument profile: {out.relative_to(bl.REPO)})")
    return 1 if error else 0


if __name__ == "__main__":
    sys.exit(main())

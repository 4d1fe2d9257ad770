"""The on-disk cache: the first run after a cold one hits, and an edit re-checks only what depends on it."""

from __future__ import annotations

import collections
import textwrap
from pathlib import Path

import pytest

from asyncsense.analyzers import batch
from asyncsense.analyzers.project import Project

HELPER = textwrap.dedent(
    """\
    import time


    class Store:
        def load(self):
            time.sleep(1)


    def make_store():
        return Store()


    def refresh(store):
        store.load()
    """
)

HANDLER = textwrap.dedent(
    """\
    import asyncio
    from pkg.helper import Store, make_store, refresh


    def on_tick():
        refresh(make_store())


    async def handler_{n}():
        store = make_store()
        store.load()
        asyncio.get_running_loop().call_soon(on_tick)
        await asyncio.sleep(0)
    """
)


def make_project(root: Path, modules: int = 17) -> list[Path]:
    package = root / "pkg"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.asyncsense]\n")
    (package / "__init__.py").write_text("")
    (package / "helper.py").write_text(HELPER)
    for n in range(modules):
        (package / f"handler_{n}.py").write_text(HANDLER.format(n=n))
    return sorted(package.glob("*.py"))


def run(root: Path, files: list[Path], cache: Path) -> tuple[collections.Counter, list[tuple]]:
    counts: collections.Counter = collections.Counter()
    original = batch.Cache.get

    def counting_get(self, kind, key):
        value = original(self, kind, key)
        counts[(kind, value is not None)] += 1
        return value

    batch.Cache.get = counting_get  # type: ignore[method-assign]
    try:
        results = Project(root, cache_dir=cache, jobs=2, library_cache_dir=False).check(files)
    finally:
        batch.Cache.get = original  # type: ignore[method-assign]
    found = sorted((Path(d.path).name, d.rule, d.span.start.line, d.message) for r in results for d in r.diagnostics)
    return counts, found


@pytest.mark.parametrize("use_workers", [True])
def test_first_warm_run_hits_and_an_edit_rechecks_its_dependents(tmp_path: Path, use_workers: bool) -> None:
    root = tmp_path / "project"
    files = make_project(root)
    cache = tmp_path / "cache"
    assert batch.worker_count(Project(root, jobs=2), len(files)) == 2
    cold_counts, cold = run(root, files, cache)
    assert cold  # the blocking calls are found
    warm_counts, warm = run(root, files, cache)
    assert warm == cold
    assert warm_counts[("result", True)] == len(files) and warm_counts[("result", False)] == 0, warm_counts
    # A comment appended to one handler: only that file is parsed, summarised and checked again.
    edited = root / "pkg" / "handler_3.py"
    edited.write_text(edited.read_text() + "# a comment\n")
    edit_counts, after_edit = run(root, files, cache)
    assert after_edit == cold
    assert edit_counts[("decl", False)] == 1 and edit_counts[("facts", False)] == 1, edit_counts
    assert edit_counts[("result", False)] == 1, edit_counts
    again_counts, _ = run(root, files, cache)
    assert again_counts[("decl", False)] == 0 and again_counts[("result", False)] == 0, again_counts


def test_a_worker_with_a_big_shard_keeps_no_models_and_finds_the_same(tmp_path: Path) -> None:
    """Big shards are checked without keeping models between the steps (each module parsed
    again per step); the findings must be those of a worker that keeps them."""
    root = tmp_path / "project"
    files = [str(f) for f in make_project(root, modules=6)]

    def worker_steps(stream: bool) -> tuple[list[tuple], int]:
        project = Project(root, library_cache_dir=False)
        project.adopt_declarations(project.load_shard(files, stream))
        project.adopt_facts(project.summarise_shard())
        results = project.check_shard()
        found = sorted((Path(d.path).name, d.rule, d.span.start.line, d.message) for r in results for d in r.diagnostics)
        return found, len(project._modules)

    kept, kept_models = worker_steps(stream=False)
    streamed, streamed_models = worker_steps(stream=True)
    assert kept and streamed == kept
    assert kept_models == len(files) and streamed_models == 0


def test_workers_find_what_one_process_finds_and_report_a_failed_step(tmp_path: Path, monkeypatch) -> None:
    """Two workers exchange their declarations and summaries through the parent: the
    findings are those of one process, and a worker that fails a step is an error
    in the parent (not a hang, not a partial result)."""
    root = tmp_path / "project"
    files = make_project(root)

    def found(results) -> list[tuple]:
        return sorted((Path(d.path).name, d.rule, d.span.start.line, d.message) for r in results for d in r.diagnostics)

    alone = found(Project(root, library_cache_dir=False).check_in_process(files))
    workers = Project(root, jobs=2, library_cache_dir=False)
    assert batch.worker_count(workers, len(files)) == 2
    assert alone and found(batch.check_files(workers, files)) == alone

    def broken(self):
        raise ValueError("summaries went wrong")

    monkeypatch.setattr(Project, "summarise_shard", broken)  # inherited by the forked workers
    with pytest.raises(RuntimeError, match="summaries went wrong"):
        batch.check_files(Project(root, jobs=2, library_cache_dir=False), files)


def _streaming_worker_steps(root: str, files: list[str], step: int) -> tuple[list[tuple], int]:
    from asyncsense.analyzers import project as project_module

    project_module.JEDI_MEMORY_STEP = step
    project = Project(Path(root), library_cache_dir=False)
    project.adopt_declarations(project.load_shard(files, stream=True))
    project.adopt_facts(project.summarise_shard())
    results = project.check_shard()
    found = sorted((Path(d.path).name, d.rule, d.span.start.line, d.message) for r in results for d in r.diagnostics)
    return found, project.jedi_sheds


def test_a_streaming_worker_that_lets_jedi_go_finds_the_same(tmp_path: Path) -> None:
    """A streaming worker sheds jedi's state whenever it has grown by a step; with
    a step of nothing it sheds after every module, and finds what it found without.
    (In a process of its own, as a worker is: shedding drops trees from parso's
    process-wide cache, which other jedi instances in the test process share.)"""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    root = tmp_path / "project"
    files = [str(f) for f in make_project(root, modules=6)]
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        kept, kept_sheds = pool.submit(_streaming_worker_steps, str(root), files, 600 * 2**20).result()
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork")) as pool:
        shed, sheds = pool.submit(_streaming_worker_steps, str(root), files, -1).result()
    assert kept and shed == kept
    assert kept_sheds == 0 and sheds >= len(files) - 1

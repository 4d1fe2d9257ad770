#!/usr/bin/env python3
"""Fetch the pinned benchmark trees from PyPI into ``.bench-cache/trees/``.

Each tree is one distribution downloaded with ``pip download --no-deps`` (a wheel:
no build step runs) and unpacked *only* for its package source, i.e. the
``.py``/``.pyi`` files under the import package's folder.  Nothing here is ever
committed: ``.bench-cache/`` is in ``.gitignore``.

    python tests/bench/fetch.py              # every tree
    python tests/bench/fetch.py aiohttp      # some trees
    python tests/bench/fetch.py --list       # what is cached, no network

Idempotent: a tree whose ``.bench-tree.json`` marker names the same pin is
left alone (``--force`` re-unpacks it).  Prints files / lines per tree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".bench-cache"
DOWNLOADS = CACHE / "downloads"
TREES = CACHE / "trees"
MARKER = ".bench-tree.json"
# A real checkout has its project file at the root.  Without one, asyncsense
# would take /work/main (the enclosing repository, whose pyproject.toml has a
# [tool.asyncsense] table) as the project root and name every module
# `.bench-cache.trees....`.  An empty [tool.asyncsense] table makes the tree's
# folder the project root, with default settings.
ROOT_FILE = "pyproject.toml"
ROOT_TEXT = (
    "# Written by tests/bench/fetch.py: this folder is the project root for the\n"
    "# benchmarked tools (default settings).\n"
    "[tool.asyncsense]\n"
)
SOURCE_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True)
class Tree:
    name: str
    project: str
    version: str
    packages: tuple[str, ...]  # top-level folders in the wheel to keep
    # Extra `pip download` arguments: which wheel to pick.  The package source
    # of a platform wheel is the same on every platform; pinning the tags makes
    # the download the same on every machine.
    pip_args: tuple[str, ...] = ()
    note: str = ""

    @property
    def pin(self) -> str:
        return f"{self.project}=={self.version}"

    @property
    def path(self) -> Path:
        return TREES / self.name


# Versions pinned on 2026-11-26 (the latest on PyPI that day).
PINNED: dict[str, Tree] = {
    t.name: t
    for t in [
        Tree(
            "aiohttp",
            "aiohttp",
            "3.14.5",
            ("aiohttp",),
            # aiohttp ships only platform wheels; pin one set of tags.
            (
                "--platform", "manylinux_2_17_x86_64",
                "--python-version", "3.11",
                "--implementation", "cp",
                "--abi", "cp311",
            ),
            "54 files / 28,467 lines",
        ),
        Tree(
            "homeassistant",
            "homeassistant",
            "2026.11.0",
            ("homeassistant",),
            # Requires-Python >=3.14.2: ask pip for the wheel a 3.14.2 would get.
            ("--python-version", "3.14.2"),
            "10,913 files / 1,657,888 lines; written for Python 3.14",
        ),
        Tree("httpx", "httpx", "0.28.1", ("httpx",)),
        Tree("uvicorn", "uvicorn", "0.54.0", ("uvicorn",)),
        Tree("starlette", "starlette", "1.10.0", ("starlette",)),
        Tree("redis", "redis", "8.1.0", ("redis",)),
    ]
}


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _find_wheel(tree: Tree) -> Path | None:
    prefix = f"{tree.project.replace('-', '_')}-{tree.version}-"
    hits = sorted(p for p in DOWNLOADS.glob("*.whl") if p.name.lower().startswith(prefix.lower()))
    return hits[0] if hits else None


def download(tree: Tree, python: str) -> Path:
    wheel = _find_wheel(tree)
    if wheel is not None:
        return wheel
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    cmd = [
        python, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
        "--disable-pip-version-check", "-d", str(DOWNLOADS), *tree.pip_args, tree.pin,
    ]
    print(f"  $ {' '.join(cmd)}", flush=True)
    subprocess.run(cmd, check=True)
    wheel = _find_wheel(tree)
    if wheel is None:
        raise SystemExit(f"pip download of {tree.pin} left no wheel in {DOWNLOADS}")
    return wheel


def tree_stats(root: Path) -> tuple[int, int]:
    files = lines = 0
    for p in root.rglob("*"):
        if p.suffix in SOURCE_SUFFIXES and p.is_file():
            files += 1
            lines += p.read_bytes().count(b"\n")
    return files, lines


def read_marker(tree: Tree) -> dict | None:
    try:
        return json.loads((tree.path / MARKER).read_text())
    except (OSError, ValueError):
        return None


def unpack(tree: Tree, wheel: Path) -> dict:
    tmp = tree.path.with_name(tree.path.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    files = lines = 0
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            name = info.filename
            top = name.split("/", 1)[0]
            if top not in tree.packages or not name.endswith(SOURCE_SUFFIXES) or info.is_dir():
                continue
            dest = tmp / name
            if ".." in Path(name).parts:
                raise SystemExit(f"refusing path {name!r} in {wheel.name}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            data = z.read(info)
            dest.write_bytes(data)
            files += 1
            lines += data.count(b"\n")
    marker = {
        "pin": tree.pin,
        "wheel": wheel.name,
        "sha256": _sha256(wheel),
        "packages": list(tree.packages),
        "files": files,
        "lines": lines,
    }
    (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
    (tmp / ROOT_FILE).write_text(ROOT_TEXT)
    shutil.rmtree(tree.path, ignore_errors=True)
    tmp.rename(tree.path)
    return marker


def ensure(tree: Tree, python: str = sys.executable, force: bool = False) -> dict:
    marker = read_marker(tree)
    if marker and marker.get("pin") == tree.pin and not force:
        root_file = tree.path / ROOT_FILE
        if not root_file.exists() or root_file.read_text() != ROOT_TEXT:
            root_file.write_text(ROOT_TEXT)
        return marker
    print(f"fetching {tree.pin} ...", flush=True)
    return unpack(tree, download(tree, python))


def tree_path(name: str) -> Path:
    """The folder to give the tools for a pinned tree name, or a path as is."""
    if name in PINNED:
        return PINNED[name].path
    return Path(name).resolve()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("trees", nargs="*", help=f"tree names (default: all): {', '.join(PINNED)}")
    ap.add_argument("--list", action="store_true", help="only print what is cached")
    ap.add_argument("--force", action="store_true", help="unpack again even if present")
    ap.add_argument("--python", default=sys.executable, help="interpreter whose pip downloads")
    args = ap.parse_args(argv)

    names = args.trees or list(PINNED)
    unknown = [n for n in names if n not in PINNED]
    if unknown:
        ap.error(f"unknown tree(s) {unknown}; known: {list(PINNED)}")

    print(f"{'tree':<15} {'pin':<28} {'files':>7} {'lines':>11}  path")
    rc = 0
    for name in names:
        tree = PINNED[name]
        if args.list:
            marker = read_marker(tree)
            if not marker or marker.get("pin") != tree.pin:
                print(f"{name:<15} {tree.pin:<28} {'-':>7} {'-':>11}  (not fetched)")
                continue
        else:
            try:
                marker = ensure(tree, args.python, args.force)
            except (subprocess.CalledProcessError, SystemExit) as e:
                print(f"{name:<15} {tree.pin:<28} FAILED: {e}")
                rc = 1
                continue
        rel = tree.path.relative_to(REPO)
        print(f"{name:<15} {tree.pin:<28} {marker['files']:>7,} {marker['lines']:>11,}  {rel}")
    return rc


if __name__ == "__main__":
    sys.exit(main())

"""Shared fixtures: one warm engine for snippets of code.

``engine.check(source)`` writes the snippet (or several modules, as a dict of
relative paths) into a fresh package of one session-wide project and returns
the diagnostics of the first module.  Every case gets its own package, so
module names never collide, and the project - with jedi - stays warm across
tests.  Tests that need a project of their own build a ``Project`` directly.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

# Library summaries (libraries.py) go to a throw-away directory, not ~/.cache:
# the tests stay hermetic, and the language-server subprocesses inherit it.
os.environ.setdefault("ASYNCSENSE_LIBRARY_CACHE", tempfile.mkdtemp(prefix="asyncsense-libraries-"))

from asyncsense.analyzers.diagnostics import Diagnostic  # noqa: E402
from asyncsense.analyzers.project import FileResult, Project  # noqa: E402


@dataclass
class Case:
    """The files of one snippet case and the result for its first module."""

    package: Path
    paths: list[Path]
    result: FileResult

    @property
    def path(self) -> Path:
        return self.paths[0]

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.result.diagnostics

    def rule(self, name: str) -> list[Diagnostic]:
        return [d for d in self.result.diagnostics if d.rule == name]


class Engine:
    def __init__(self, root: Path, use_jedi: bool = True) -> None:
        self.root = root
        self.project = Project(root, use_jedi=use_jedi)
        self._numbers = itertools.count()

    def case(self, files: str | dict[str, str]) -> Case:
        if isinstance(files, str):
            files = {"main.py": files}
        package = self.root / f"case_{next(self._numbers)}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        paths = []
        for relative, source in files.items():
            path = package / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source), encoding="utf-8")
            paths.append(path)
        [result] = self.project.check([paths[0]])
        return Case(package, paths, result)

    def check(self, files: str | dict[str, str], rule: str | None = "blocking-call") -> list[Diagnostic]:
        """Diagnostics of the first module (of ``rule``; all rules with ``rule=None``)."""
        found = self.case(files).diagnostics
        return [d for d in found if rule is None or d.rule == rule]


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """A project with jedi, shared by the whole session."""
    return Engine(tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="session")
def plain_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """A project resolving through the import table only (``use_jedi=False``)."""
    return Engine(tmp_path_factory.mktemp("plain_engine"), use_jedi=False)

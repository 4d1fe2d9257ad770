"""Fixtures of the robustness tests (see _support.py for budgets and invariants)."""

from __future__ import annotations

from pathlib import Path

import pytest

from asyncsense.analyzers.project import Project

from ._support import TALLY, fuzz_factor, long_campaign


@pytest.fixture(scope="session")
def fuzz_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    return root


@pytest.fixture(scope="session")
def plain_project(fuzz_root: Path) -> Project:
    """One project without jedi for the fast searches (import-table resolution only)."""
    return Project(fuzz_root, use_jedi=False)


@pytest.fixture(scope="session")
def jedi_project(fuzz_root: Path) -> Project:
    """One project with jedi, as the CLI and the server run it."""
    return Project(fuzz_root, use_jedi=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    if TALLY:
        campaign = "long campaign" if long_campaign() else "default budget"
        if fuzz_factor() != 1:
            campaign += f", searches x{fuzz_factor()}"
        counts = ", ".join(f"{count} {what}" for what, count in sorted(TALLY.items()))
        terminalreporter.write_line(f"robustness ({campaign}): {counts}")

"""Jupyter notebooks as modules: conversion, positions back to cells, the engine's use of them."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from asyncsense.analyzers.diagnostics import Position, Span
from asyncsense.analyzers.notebooks import Cell, from_cells, is_notebook, neutralise, notebook_source, read_notebook
from asyncsense.analyzers.project import Project

from .helpers_b import notebook_json


def test_code_cells_joined_markdown_left_out() -> None:
    source = read_notebook(
        notebook_json(
            [
                ("markdown", "# Title\nsome *text*\n"),
                ("code", "import asyncio\nx = 1"),
                ("raw", "raw text"),
                ("code", "y = 2\n"),
            ]
        )
    )
    assert source.text == "import asyncio\nx = 1\ny = 2\n\n"
    assert source.cells == [Cell(number=2, first_line=1, line_count=2), Cell(number=4, first_line=3, line_count=2)]
    assert [cell.index for cell in source.cells] == [1, 3]


def test_source_as_one_string_and_empty_cells() -> None:
    data = {"cells": [{"cell_type": "code", "source": "a = 1"}, {"cell_type": "code", "source": []}]}
    source = read_notebook(json.dumps(data).encode("utf-8"))
    assert source.text == "a = 1\n\n"
    assert [c.line_count for c in source.cells] == [1, 1]


def test_positions_map_to_cells_and_back() -> None:
    source = from_cells([(1, "a = 1\nb = 2\n"), (3, "c = 3\nd = 4")])
    assert source.cell_at(1).number == 1
    assert source.cell_at(3).number == 1  # the empty line after "b = 2\n" belongs to cell 1
    assert source.cell_at(4).number == 3
    assert source.cell_at(99) is None
    cell, position = source.to_cell(Position(5, 2))
    assert (cell.number, position) == (3, Position(2, 2))
    assert source.from_cell(3, Position(2, 2)) == Position(5, 2)
    assert source.from_cell(7, Position(1, 0)) is None
    cell, span = source.span_in_cell(Span(Position(2, 0), Position(5, 1)))
    assert cell.number == 1 and span == Span(Position(2, 0), Position(3, 0))  # cut at the cell's end


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("%matplotlib inline", "pass"),
        ("  %time f()", "  pass"),
        ("!pip install aiohttp", "pass"),
        ("files = !ls -la", "pass"),
        ("a, b = %sx echo 1", "pass"),
        ("obj?", "pass"),
        ("??obj.attr", "pass"),
        ("x = a % b", "x = a % b"),
        ("y = a != b", "y = a != b"),
        ("print('%s' % x)", "print('%s' % x)"),
    ],
)
def test_magics_neutralised_line_for_line(line: str, expected: str) -> None:
    assert neutralise([line]) == [expected]


def test_magics_inside_brackets_and_strings_are_code() -> None:
    lines = ["total = (a", "% b)", 'query = """', "%s", '"""', "!ls \\", "  -la", "z = 1"]
    assert neutralise(lines) == ["total = (a", "% b)", 'query = """', "%s", '"""', "pass", "", "z = 1"]


def test_cell_magics() -> None:
    assert neutralise(["%%bash", "ls -la", "echo hi"]) == ["", "", ""]
    assert neutralise(["%%time", "x = f()"]) == ["", "x = f()"]


def test_result_parses_with_top_level_await_and_magics() -> None:
    source = read_notebook(
        notebook_json(
            [
                ("code", "%load_ext autoreload\nimport asyncio\n"),
                ("code", "async def main():\n    return 1\n"),
                ("code", "result = await main()\nasync with lock:\n    pass\nasync for x in stream:\n    print(x)\n"),
                ("code", "%%html\n<b>not python</b>\n"),
                ("code", "if True:\n    !echo hi\n"),
            ]
        )
    )
    tree = ast.parse(source.text)
    assert any(isinstance(node, ast.Await) for node in ast.walk(tree))
    assert len(source.text.splitlines()) == sum(cell.line_count for cell in source.cells)


@pytest.mark.parametrize("data", ["not json", "[1, 2]", '{"metadata": {}}'])
def test_not_a_notebook(data: str) -> None:
    with pytest.raises(ValueError):
        read_notebook(data)


def test_editor_text_may_be_python_already() -> None:
    # the CLI and the language server hand over the cells already joined
    source = notebook_source("x = await f()\n", from_editor=True)
    assert source.text == "x = await f()\n" and source.cells == []
    with pytest.raises(ValueError):
        notebook_source("x = 1\n", from_editor=False)


def test_is_notebook() -> None:
    assert is_notebook("a/b.ipynb") and is_notebook(Path("c.ipynb")) and not is_notebook("d.py")


# -- through the engine ------------------------------------------------------------------


def _notebook(tmp_path: Path, cells: list[tuple[str, str]], name: str = "nb.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(notebook_json(cells), encoding="utf-8")
    return path


def test_project_reports_per_cell(tmp_path: Path) -> None:
    path = _notebook(
        tmp_path,
        [
            ("markdown", "intro"),
            ("code", "import asyncio\n\nasync def main():\n    return 1\n"),
            ("markdown", "run it"),
            ("code", "%time 1\nasyncio.run(main())\n"),
        ],
    )
    [result] = Project(tmp_path).check([path])
    assert result.path == str(path) and not result.errors
    [diagnostic] = [d for d in result.diagnostics if d.code == "ASN005"]
    assert diagnostic.cell == 4
    assert diagnostic.to_json()["cell"] == 4
    notebook = Project(tmp_path).load(path).model.notebook
    cell, span = notebook.span_in_cell(diagnostic.span)
    assert cell.number == 4 and span.start == Position(2, 0)


def test_python_files_carry_no_cell(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("import asyncio\n\nasync def main():\n    asyncio.run(main())\n")
    [diagnostic] = [d for d in Project(tmp_path).check([path])[0].diagnostics if d.code == "ASN005"]
    assert diagnostic.cell is None and "cell" not in diagnostic.to_json()


def test_invalid_notebook_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "broken.ipynb"
    path.write_text("{ not json")
    [result] = Project(tmp_path).check([path])
    assert result.errors and "notebook" in result.errors[0]
    assert result.diagnostics == []


def test_editor_buffer_of_joined_cells_is_still_a_notebook(tmp_path: Path) -> None:
    path = _notebook(tmp_path, [("code", "x = 1\n")])
    project = Project(tmp_path)
    project.set_source(path, "import asyncio\nasync def main():\n    pass\nasyncio.run(main())\n")
    [result] = project.check([path])
    [diagnostic] = [d for d in result.diagnostics if d.code == "ASN005"]
    assert diagnostic.span.start.line == 4
    assert diagnostic.cell is None  # the editor maps its own cells

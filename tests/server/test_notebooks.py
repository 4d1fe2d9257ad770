"""LSP 3.17 notebook documents: the code cells analysed together, positions mapped back to cells."""

from __future__ import annotations

import pytest
from lsprotocol import types

from .conftest import Client, RecordingClient, session_fixture

pytestmark = pytest.mark.asyncio(loop_scope="module")

# Only VS Code syncs notebooks (Neovim has no notebook documents).
lsp = session_fixture(profiles=["vscode"])


@pytest.fixture
def client(lsp: RecordingClient) -> Client:
    return lsp.session


CELLS = [
    (types.NotebookCellKind.Code, "python", "import asyncio\nimport time\n"),
    (types.NotebookCellKind.Markup, "markdown", "# Not code: asyncio.run(x)"),
    (types.NotebookCellKind.Code, "python", "async def main():\n    s = 'é😀'; time.sleep(1)\n\nasyncio.run(main())"),
]


def open_notebook(client: Client, name: str, fragment: str = "cell{i}") -> tuple[str, list[str]]:
    notebook_uri = (client.root / name).as_uri()
    cell_uris = [f"vscode-notebook-cell:{client.root / name}#{fragment.format(i=i)}" for i in range(len(CELLS))]
    client.lsp.notebook_document_did_open(
        types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=notebook_uri,
                notebook_type="jupyter-notebook",
                version=1,
                cells=[types.NotebookCell(kind, uri) for (kind, _, _), uri in zip(CELLS, cell_uris)],
            ),
            cell_text_documents=[
                types.TextDocumentItem(uri, language, 1, text) for (_, language, text), uri in zip(CELLS, cell_uris)
            ],
        )
    )
    for (_, _, text), uri in zip(CELLS, cell_uris):
        client.texts[uri] = text
        client.versions[uri] = 1
    return notebook_uri, cell_uris


async def test_cells_analysed_as_one_module(client: Client):
    _, cells = open_notebook(client, "analysis.ipynb")
    found = await client.diagnostics(cells[2], lambda d: len(d) >= 2)
    by_code = {str(d.code): d for d in found}
    # time is imported in cell 1 and used in cell 3: one module
    sleep = by_code["blocking-call"]
    assert sleep.range.start == types.Position(1, len("    s = 'é😀'; ") + 1)  # UTF-16: 😀 is 2 units
    # the notebook rule of nested-asyncio-run: IPython already runs a loop
    assert by_code["nested-asyncio-run"].range.start == types.Position(3, 0)
    assert await client.diagnostics(cells[0]) == []


async def test_cells_with_the_quoted_fragments_vscode_sends(client: Client):
    # VS Code's cell uris end in base64 with `=` quoted: `#W1sZmlsZQ%3D%3D`.
    _, cells = open_notebook(client, "quoted.ipynb", fragment="W{i}sZmlsZQ%3D%3D")
    found = await client.diagnostics(cells[2], lambda d: len(d) >= 2)
    assert {str(d.code) for d in found} == {"blocking-call", "nested-asyncio-run"}


async def test_cell_edit_and_quick_fix(client: Client):
    notebook_uri, cells = open_notebook(client, "edit.ipynb")
    found = await client.diagnostics(cells[2], lambda d: any(x.code == "blocking-call" for x in d))
    sleep = next(d for d in found if d.code == "blocking-call")
    actions = await client.code_actions(cells[2], sleep)
    preferred = [a for a in actions if a.is_preferred]
    assert preferred, [a.title for a in actions]
    new_text = client.apply(preferred[0].edit)[cells[2]]
    assert "await asyncio.sleep(1)" in new_text
    # send the fix as a cell content change of the notebook
    client.lsp.notebook_document_did_change(
        types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(version=2, uri=notebook_uri),
            change=types.NotebookDocumentChangeEvent(
                cells=types.NotebookDocumentCellChanges(
                    text_content=[
                        types.NotebookDocumentCellContentChanges(
                            document=types.VersionedTextDocumentIdentifier(version=2, uri=cells[2]),
                            changes=[types.TextDocumentContentChangeWholeDocument(text=new_text)],
                        )
                    ]
                )
            ),
        )
    )
    client.texts[cells[2]] = new_text
    client.versions[cells[2]] = 2
    left = await client.diagnostics(cells[2], lambda d: not any(x.code == "blocking-call" for x in d))
    assert [str(d.code) for d in left] == ["nested-asyncio-run"]

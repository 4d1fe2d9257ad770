"""The engine's diagnostics and fixes as LSP objects.

Each LSP diagnostic carries:

* ``code``: the rule name (``blocking-call``), ``source``: ``asyncsense``,
  ``codeDescription.href``: the rule's documentation;
* ``severity`` from the settings (already applied by ``apply_config``);
* ``relatedInformation``: the places that explain it, e.g. the real blocking
  call inside the helper a coroutine calls, in whatever file it is;
* ``data``: the rule's code (``ASN001``), the document version it was
  computed for and the titles of its fixes, so a client (or a code action
  request) can tell what the quick fixes will be.
"""

from __future__ import annotations

import difflib
from typing import Callable, Sequence

from lsprotocol import types
from pygls.uris import from_fs_path

from ..analyzers.diagnostics import Diagnostic, Fix, Severity
from ..analyzers.rules import rule_for
from .positions import _LINE_BREAK, SourceMap, column_in, to_client_column

SOURCE = "asyncsense"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFORMATION: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}

# path -> that file's lines (for related places in other files), or None if unknown
LinesOf = Callable[[str], "Sequence[str] | None"]


def docs_url(rule: str) -> str | None:
    found = rule_for(rule)
    return found.docs_url if found is not None else None


def path_uri(path: str) -> str:
    return from_fs_path(path) or path


def to_lsp(
    diagnostic: Diagnostic,
    smap: SourceMap,
    analysed_path: str,
    lines_of: LinesOf,
    version: int | None,
) -> tuple[str, types.Diagnostic]:
    """(uri of the document it belongs to, the LSP diagnostic)."""
    uri, client_range = smap.to_client(diagnostic.span)
    related = []
    for place in diagnostic.related:
        if place.path == analysed_path:
            place_uri, place_range = smap.to_client(place.span)
        else:
            lines = lines_of(place.path) or ()
            place_uri = path_uri(place.path)
            place_range = types.Range(
                column_in(lines, place.span.start, smap.encoding), column_in(lines, place.span.end, smap.encoding)
            )
        related.append(
            types.DiagnosticRelatedInformation(types.Location(place_uri, place_range), place.message)
        )
    href = docs_url(diagnostic.rule)
    return uri, types.Diagnostic(
        range=client_range,
        message=diagnostic.message,
        severity=_SEVERITY.get(diagnostic.severity, types.DiagnosticSeverity.Warning),
        code=diagnostic.rule,
        code_description=types.CodeDescription(href=href) if href else None,
        source=SOURCE,
        related_information=related or None,
        data={
            "rule": diagnostic.rule,
            "code": diagnostic.code,
            "version": version,
            "fixes": [{"title": fix.title, "safe": fix.is_safe} for fix in diagnostic.fixes],
        },
    )


def fix_edits(fix: Fix, smap: SourceMap) -> dict[str, list[types.TextEdit]] | None:
    """The fix's edits per client document, or None when an edit crosses cells."""
    edits: dict[str, list[types.TextEdit]] = {}
    for edit in fix.edits:
        converted = smap.edit_to_client(edit)
        if converted is None:
            return None
        uri, text_edit = converted
        edits.setdefault(uri, []).append(text_edit)
    return edits


def diff_edits(before: str, after: str, smap: SourceMap, uri: str) -> list[types.TextEdit]:
    """Line-level edits turning ``before`` into ``after`` (one per changed hunk)."""
    old = _keep_ends(before)
    new = _keep_ends(after)
    edits: list[types.TextEdit] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = types.Position(i1, 0)
        if i2 >= len(old) and old and not old[-1].endswith(("\n", "\r")):
            # The hunk runs to the end of a file without a final line break.
            end = types.Position(len(old) - 1, _units(old[-1], smap))
        else:
            end = types.Position(i2, 0)
        edits.append(types.TextEdit(types.Range(start, end), "".join(new[j1:j2])))
    return edits


def _keep_ends(text: str) -> list[str]:
    """Lines with their breaks, split only at \\r\\n, \\r and \\n (as LSP clients do)."""
    lines: list[str] = []
    start = 0
    for match in _LINE_BREAK.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        lines.append(text[start:])
    return lines


def _units(line: str, smap: SourceMap) -> int:
    return to_client_column(line, len(line), smap.encoding)


def workspace_edit(
    edits: dict[str, list[types.TextEdit]],
    versions: dict[str, int | None],
    document_changes: bool,
) -> types.WorkspaceEdit:
    """Versioned ``documentChanges`` when the client supports them (an edit computed for
    an older version is then refused instead of garbling the file), else ``changes``."""
    if document_changes:
        return types.WorkspaceEdit(
            document_changes=[
                types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=versions.get(uri)),
                    edits=list(uri_edits),
                )
                for uri, uri_edits in edits.items()
            ]
        )
    return types.WorkspaceEdit(changes={uri: list(uri_edits) for uri, uri_edits in edits.items()})

// Integration: the real asyncsense server, started exactly as the extension's
// serverOptions would start it, driven over LSP like VS Code drives it.
//
// Two runs: the interpreter in $PYTHON (default python3) resolved as the
// extension resolves it (asyncsense from that environment when importable, else
// the bundled copy), and the bundled server (importStrategy "useBundled"), which
// is what the .vsix ships. Nothing is skipped: if the server cannot start, the
// test fails and says why.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import {
    CodeAction,
    Command,
    Diagnostic,
    DocumentDiagnosticReport,
    InitializeResult,
    TextEdit,
    WorkDoneProgress,
    WorkspaceDiagnosticReport,
    WorkspaceEdit,
} from 'vscode-languageserver-protocol/node';
import { ImportStrategy } from '../../common/constants';
import { bundledLibsPath } from '../../common/server';
import { toInitializationOptions } from '../../common/settings';
import { EXTENSION_ROOT, makeWorkspace, PYTHON, ServerUnderTest } from './harness';

const TIMEOUT = 180_000;

/** VS Code's capabilities that matter here. */
const CLIENT_CAPABILITIES = {
    workspace: {
        applyEdit: true,
        workspaceEdit: { documentChanges: true },
        didChangeConfiguration: { dynamicRegistration: true },
        configuration: true,
        workspaceFolders: true,
        executeCommand: { dynamicRegistration: true },
        diagnostics: { refreshSupport: true },
    },
    textDocument: {
        synchronization: { dynamicRegistration: true, didSave: true, willSave: true, willSaveWaitUntil: true },
        publishDiagnostics: { relatedInformation: true, versionSupport: false, codeDescriptionSupport: true, dataSupport: true },
        codeAction: {
            dynamicRegistration: true,
            isPreferredSupport: true,
            disabledSupport: true,
            dataSupport: true,
            resolveSupport: { properties: ['edit'] },
            codeActionLiteralSupport: {
                codeActionKind: {
                    valueSet: ['', 'quickfix', 'refactor', 'refactor.extract', 'refactor.inline', 'refactor.rewrite', 'source', 'source.organizeImports', 'source.fixAll'],
                },
            },
        },
        diagnostic: { dynamicRegistration: true, relatedDocumentSupport: false },
    },
    window: { workDoneProgress: true, showMessage: {}, showDocument: { support: true } },
    general: { positionEncodings: ['utf-16'] },
};

function offsetAt(text: string, line: number, character: number): number {
    const lines = text.split('\n');
    let offset = 0;
    for (let i = 0; i < line; i++) {
        offset += lines[i].length + 1;
    }
    return offset + character;
}

function applyEdits(text: string, edits: TextEdit[]): string {
    const sorted = [...edits].sort(
        (a, b) => offsetAt(text, b.range.start.line, b.range.start.character) - offsetAt(text, a.range.start.line, a.range.start.character),
    );
    let out = text;
    for (const e of sorted) {
        const start = offsetAt(text, e.range.start.line, e.range.start.character);
        const end = offsetAt(text, e.range.end.line, e.range.end.character);
        out = out.slice(0, start) + e.newText + out.slice(end);
    }
    return out;
}

function editsFor(edit: WorkspaceEdit | undefined, uri: string): TextEdit[] {
    if (!edit) {
        return [];
    }
    const out: TextEdit[] = [...(edit.changes?.[uri] ?? [])];
    for (const change of edit.documentChanges ?? []) {
        if ('textDocument' in change && change.textDocument.uri === uri) {
            out.push(...(change.edits as TextEdit[]));
        }
    }
    return out;
}

function isCodeAction(a: CodeAction | Command): a is CodeAction {
    return !('command' in a && typeof a.command === 'string');
}

function runScenario(label: string, importStrategy: ImportStrategy): void {
    describe(label, { timeout: TIMEOUT }, () => {
        const ws = makeWorkspace();
        const appUri = pathToFileURL(ws.appPath).href;
        const jobsUri = pathToFileURL(ws.jobsPath).href;
        let server: ServerUnderTest | undefined;
        let init: InitializeResult | undefined;
        let blocking: Diagnostic | undefined;

        const srv = (): ServerUnderTest => {
            assert.ok(server, 'the server did not start (see the first failure)');
            assert.equal(server.exitCode, undefined, `the server is not running (exit code ${String(server.exitCode)}): see the first failure`);
            return server;
        };

        /** The document's asyncsense diagnostics: pulled if the server offers pull, else pushed. */
        async function diagnosticsFor(
            uri: string,
            until: (d: Diagnostic[]) => boolean,
            what: string,
            timeoutMs = 60_000,
        ): Promise<Diagnostic[]> {
            const s = srv();
            if (init?.capabilities.diagnosticProvider) {
                const deadline = Date.now() + timeoutMs;
                for (;;) {
                    const report = await s.request<DocumentDiagnosticReport>('textDocument/diagnostic', { textDocument: { uri } });
                    const items = report.kind === 'full' ? report.items : [];
                    if (until(items) || Date.now() > deadline) {
                        return items;
                    }
                    await new Promise((r) => setTimeout(r, 300));
                }
            }
            return s.waitFor(
                what,
                () => {
                    const d = s.diagnostics.get(uri);
                    return d && until(d) ? d : undefined;
                },
                timeoutMs,
            );
        }

        before(async () => {
            server = await ServerUnderTest.start({ python: PYTHON, importStrategy, cwd: ws.root });
        });

        after(() => {
            server?.kill();
            fs.rmSync(ws.root, { recursive: true, force: true });
        });

        test('initialize with the options the extension sends', async () => {
            const s = srv();
            if (importStrategy === 'useBundled') {
                assert.equal(s.plan.mode, 'bundled');
                assert.ok(s.plan.launch.options.env.PYTHONPATH?.startsWith(bundledLibsPath(EXTENSION_ROOT)));
            }
            assert.deepEqual(s.plan.launch.args, ['-m', 'asyncsense', 'server']);
            init = await s.request<InitializeResult>('initialize', {
                processId: process.pid,
                clientInfo: { name: 'Visual Studio Code', version: '1.82.0' },
                locale: 'en',
                rootUri: pathToFileURL(ws.root).href,
                rootPath: ws.root,
                workspaceFolders: [{ uri: pathToFileURL(ws.root).href, name: path.basename(ws.root) }],
                capabilities: CLIENT_CAPABILITIES,
                initializationOptions: toInitializationOptions(s.settings),
                trace: 'off',
            });
            assert.ok(init.capabilities, 'initialize returned capabilities');
            assert.ok(init.capabilities.codeActionProvider, 'the server offers code actions');
            await s.connection.sendNotification('initialized', {});
        });

        test('a blocking call in a coroutine gets a blocking-call diagnostic', async () => {
            const s = srv();
            await s.connection.sendNotification('textDocument/didOpen', {
                textDocument: { uri: appUri, languageId: 'python', version: 1, text: ws.appText },
            });
            const diags = await diagnosticsFor(appUri, (d) => d.some((x) => x.code === 'blocking-call'), 'a blocking-call diagnostic on app.py');
            blocking = diags.find((d) => d.code === 'blocking-call');
            assert.ok(blocking, `no blocking-call diagnostic in ${JSON.stringify(diags)}`);
            assert.equal(blocking.source, 'asyncsense');
            assert.equal(blocking.range.start.line, 4, 'on the time.sleep(1) line');
        });

        test('the diagnostic has a quick fix that changes the code', async () => {
            const s = srv();
            assert.ok(blocking);
            const actions = await s.request<(CodeAction | Command)[] | null>('textDocument/codeAction', {
                textDocument: { uri: appUri },
                range: blocking.range,
                context: { diagnostics: [blocking], triggerKind: 1 },
            });
            const fixes = (actions ?? []).filter(isCodeAction).filter((a) => a.kind?.startsWith('quickfix'));
            assert.ok(fixes.length > 0, `no quickfix among ${JSON.stringify(actions)}`);
            let fix = fixes.find((a) => a.diagnostics?.some((d) => d.code === 'blocking-call')) ?? fixes[0];
            if (!fix.edit && fix.data !== undefined) {
                fix = await s.request<CodeAction>('codeAction/resolve', fix);
            }
            const edits = editsFor(fix.edit, appUri);
            assert.ok(edits.length > 0, `the quick fix "${fix.title}" has no edit for app.py`);
            const fixed = applyEdits(ws.appText, edits);
            assert.notEqual(fixed, ws.appText);
            assert.ok(!/^\s+time\.sleep\(1\)$/m.test(fixed), `the blocking call is still there:\n${fixed}`);
        });

        test('source.fixAll.asyncsense is offered for the file', async () => {
            const s = srv();
            const actions = await s.request<(CodeAction | Command)[] | null>('textDocument/codeAction', {
                textDocument: { uri: appUri },
                range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
                context: { diagnostics: [], only: ['source.fixAll.asyncsense'], triggerKind: 2 },
            });
            const fixAll = (actions ?? []).filter(isCodeAction).find((a) => a.kind === 'source.fixAll.asyncsense');
            assert.ok(fixAll, `no source.fixAll.asyncsense action in ${JSON.stringify(actions)}`);
        });

        test('Check Workspace (asyncsense.checkWorkspace) reports progress and checks unopened files', async () => {
            const s = srv();
            const token = 'it-check-workspace';
            s.connection.onProgress(WorkDoneProgress.type, token, (value) => {
                s.progress.push({ token, value });
            });
            const result = await s.request<{ files?: number; problems?: number }>('workspace/executeCommand', {
                command: 'asyncsense.checkWorkspace',
                arguments: [],
                workDoneToken: token,
            });
            const kinds = s.progress.filter((p) => p.token === token).map((p) => p.value.kind);
            assert.equal(kinds[0], 'begin', `work-done progress on the client's token: ${JSON.stringify(s.progress)}`);
            assert.equal(kinds[kinds.length - 1], 'end');
            assert.equal(result.files, 2, `both files checked: ${JSON.stringify(result)}`);
            assert.ok((result.problems ?? 0) >= 2, `a problem in each file: ${JSON.stringify(result)}`);
            let jobs: Diagnostic[] | undefined;
            if (init?.capabilities.diagnosticProvider) {
                // Pull mode (what VS Code gets): the closed file's problems come from workspace/diagnostic.
                const report = await s.request<WorkspaceDiagnosticReport>('workspace/diagnostic', { previousResultIds: [] });
                const item = report.items.find((i) => i.uri === jobsUri);
                jobs = item?.kind === 'full' ? item.items : undefined;
            } else {
                jobs = await s.waitFor('diagnostics for the unopened jobs.py', () => s.diagnostics.get(jobsUri));
            }
            assert.ok(jobs?.some((d) => d.code === 'blocking-call'), `jobs.py (never opened) has its blocking-call: ${JSON.stringify(jobs)}`);
        });

        test('a settings change reaches the server without a restart', async () => {
            const s = srv();
            s.settings = { ...s.settings, ignore: ['blocking-call'] };
            await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { asyncsense: s.settings } });
            const diags = await diagnosticsFor(appUri, (d) => !d.some((x) => x.code === 'blocking-call'), 'blocking-call to disappear after ignoring it');
            assert.ok(!diags.some((d) => d.code === 'blocking-call'), `still reported after ignore: ${JSON.stringify(diags)}`);
            assert.equal(s.exitCode, undefined, 'the server is still the same process');
        });

        test(
            'a notebook (cell URIs as VS Code makes them) gets its diagnostics in the right cell',
            async () => {
                const s = srv();
                // The previous test ignored blocking-call: back to the defaults, or the cell's
                // blocking call is (rightly) not reported.
                s.settings = { ...s.settings, ignore: [] };
                await s.connection.sendNotification('workspace/didChangeConfiguration', { settings: { asyncsense: s.settings } });
                const nbPath = path.join(ws.root, 'demo.ipynb');
                const notebookUri = pathToFileURL(nbPath).href;
                // VS Code's cell URIs: scheme vscode-notebook-cell, the notebook path, an encoded fragment.
                const cellUri = (i: number) => `vscode-notebook-cell:${nbPath}#W${String(i)}sZmlsZQ%3D%3D`;
                const cells = ['import asyncio\nimport time\n', 'async def fetch():\n    time.sleep(2)\n    return 1\n'];
                await s.connection.sendNotification('notebookDocument/didOpen', {
                    notebookDocument: {
                        uri: notebookUri,
                        notebookType: 'jupyter-notebook',
                        version: 1,
                        cells: cells.map((_, i) => ({ kind: 2, document: cellUri(i) })),
                    },
                    cellTextDocuments: cells.map((text, i) => ({ uri: cellUri(i), languageId: 'python', version: 1, text })),
                });
                const diags = await diagnosticsFor(cellUri(1), (d) => d.some((x) => x.code === 'blocking-call'), 'a blocking-call in the second cell', 15_000);
                const sleep = diags.find((d) => d.code === 'blocking-call');
                assert.ok(sleep, `no blocking-call for the cell: ${JSON.stringify(diags)}`);
                assert.equal(sleep.range.start.line, 1, 'on the cell\'s own line numbers');
            },
        );

        test('shuts down cleanly', async () => {
            const s = srv();
            const code = await s.shutdown();
            assert.equal(code, 0, s.tail());
        });
    });
}

runScenario(`server resolved like the extension does, with ${PYTHON}`, 'fromEnvironment');
runScenario('bundled server (bundled/libs, as shipped in the .vsix)', 'useBundled');

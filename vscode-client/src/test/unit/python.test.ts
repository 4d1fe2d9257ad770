// The Python extension adapter (@vscode/python-extension) against a fake
// ms-python.python, and the whole chain: selecting another interpreter in the
// Python extension restarts the server with it.
import * as mock from './vscode-mock';

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import { ClientState, ManagedClient, ServerManager } from '../../common/manager';
import { PythonExtensionProvider } from '../../common/python';
import { ServerPlan } from '../../common/server';

/** A fake ms-python.python exposing the environments API. */
function fakePythonExtension(initial: string | undefined) {
    const changed = new mock.EventEmitter<{ id: string; path: string; resource: undefined }>();
    const ext = {
        selected: initial,
        activations: 0,
        isActive: false,
        exports: {
            environments: {
                getActiveEnvironmentPath: () => ({ id: ext.selected ?? 'none', path: ext.selected ?? '' }),
                resolveEnvironment: (env: { path: string }) =>
                    Promise.resolve(env.path ? { executable: { uri: mock.Uri.file(env.path) } } : undefined),
                onDidChangeActiveEnvironmentPath: changed.event,
            },
        },
        activate() {
            ext.activations++;
            ext.isActive = true;
            return Promise.resolve(ext.exports);
        },
        select(path: string) {
            ext.selected = path;
            changed.fire({ id: path, path, resource: undefined });
        },
    };
    return ext;
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('Python extension adapter', () => {
    beforeEach(() => mock.reset());

    test('absent: not present, no interpreter', async () => {
        const p = new PythonExtensionProvider(() => undefined);
        assert.equal(p.isPresent(), false);
        assert.equal(await p.getActiveInterpreter(), undefined);
        p.dispose();
    });

    test('present: activates it and returns the selected executable', async () => {
        const ext = fakePythonExtension('/envs/a/bin/python');
        mock.state.extensions['ms-python.python'] = ext;
        const p = new PythonExtensionProvider(() => undefined);
        assert.equal(p.isPresent(), true);
        assert.equal(await p.getActiveInterpreter(), mock.Uri.file('/envs/a/bin/python').fsPath);
        assert.equal(ext.activations, 1);
        p.dispose();
    });

    test('fires when the selection changes, and when the extension is installed later', async () => {
        const logs: string[] = [];
        const p = new PythonExtensionProvider((m) => logs.push(m));
        let fired = 0;
        p.onDidChangeInterpreter(() => fired++);
        const ext = fakePythonExtension('/envs/a/bin/python');
        mock.setExtension('ms-python.python', ext);
        assert.equal(fired, 1);
        assert.equal(p.isPresent(), true);
        await p.getActiveInterpreter();
        ext.select('/envs/b/bin/python');
        assert.equal(fired, 2);
        assert.equal(await p.getActiveInterpreter(), mock.Uri.file('/envs/b/bin/python').fsPath);
        mock.setExtension('ms-python.python', undefined);
        assert.equal(fired, 3);
        assert.equal(p.isPresent(), false);
        assert.ok(logs.some((l) => l.includes('selected /envs/b/bin/python')));
        p.dispose();
    });

    test('selecting another interpreter in the Python extension restarts the server with it', async () => {
        mock.state.workspaceFolders = [{ uri: mock.Uri.file('/work/project'), name: 'project', index: 0 }];
        const ext = fakePythonExtension('/envs/a/bin/python');
        mock.state.extensions['ms-python.python'] = ext;
        const python = new PythonExtensionProvider(() => undefined);
        const started: ServerPlan[] = [];
        const stopped: ServerPlan[] = [];
        const manager = new ServerManager({
            extensionPath: '/ext',
            logger: { info: () => undefined, warn: () => undefined, error: () => undefined, show: () => undefined },
            python,
            probe: (command) =>
                Promise.resolve({
                    ok: true,
                    info: { executable: command, version: [3, 12, 0], asyncsense: { version: '0.1.0', file: null }, asyncsenseError: null },
                }),
            bundledExists: () => true,
            createClient: (plan): ManagedClient => {
                const states = new mock.EventEmitter<ClientState>();
                return {
                    start: () => {
                        started.push(plan);
                        states.fire('running');
                        return Promise.resolve();
                    },
                    stop: () => {
                        stopped.push(plan);
                        return Promise.resolve();
                    },
                    sendNotification: () => Promise.resolve(),
                    sendRequest: () => Promise.resolve(null as never),
                    onProgress: () => new mock.Disposable(),
                    onDidChangeState: (l) => states.event(l),
                };
            },
        });
        await manager.start();
        assert.equal(started.length, 1);
        assert.equal(started[0].launch.command, mock.Uri.file('/envs/a/bin/python').fsPath);
        ext.select('/envs/b/bin/python');
        await settle();
        await manager.whenIdle();
        assert.equal(stopped.length, 1);
        assert.equal(started.length, 2);
        assert.equal(started[1].launch.command, mock.Uri.file('/envs/b/bin/python').fsPath);
        assert.equal(manager.state, 'ready');
        await manager.dispose();
        python.dispose();
    });
});

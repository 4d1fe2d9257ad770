// ServerManager with a mocked `vscode` module and a fake language client:
// interpreter changes restart the server, other settings are pushed without a restart.
import * as mock from './vscode-mock';

import assert from 'node:assert/strict';
import { beforeEach, describe, test } from 'node:test';
import type * as vscode from 'vscode';
import { ProbeFn } from '../../common/interpreter';
import { ClientHooks, ClientState, ManagedClient, ServerManager, ServerState, WorkDoneProgressValue } from '../../common/manager';
import { PythonEnvironmentProvider } from '../../common/python';
import { ServerPlan } from '../../common/server';
import { InitializationOptions } from '../../common/settings';
import { createStatusItem } from '../../common/status';

class FakeClient implements ManagedClient {
    started = false;
    stopped = false;
    failStart: Error | undefined;
    notifications: { method: string; params: any }[] = [];
    requests: { method: string; params: any }[] = [];
    requestHandler: ((method: string, params: any, token?: vscode.CancellationToken) => Promise<unknown>) | undefined;
    private readonly states = new mock.EventEmitter<ClientState>();
    readonly progress = new Map<string, (v: WorkDoneProgressValue) => void>();

    constructor(
        readonly plan: ServerPlan,
        readonly init: InitializationOptions,
        readonly hooks: ClientHooks,
    ) {}

    start(): Promise<void> {
        this.states.fire('starting');
        if (this.failStart) {
            this.states.fire('stopped');
            return Promise.reject(this.failStart);
        }
        this.started = true;
        this.states.fire('running');
        return Promise.resolve();
    }
    stop(): Promise<void> {
        this.stopped = true;
        this.states.fire('stopped');
        return Promise.resolve();
    }
    sendNotification(method: string, params: unknown): Promise<void> {
        this.notifications.push({ method, params });
        return Promise.resolve();
    }
    sendRequest<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R> {
        this.requests.push({ method, params });
        return (this.requestHandler ? this.requestHandler(method, params, token) : Promise.resolve(null)) as Promise<R>;
    }
    onProgress(token: string, handler: (value: WorkDoneProgressValue) => void): vscode.Disposable {
        this.progress.set(token, handler);
        return new mock.Disposable(() => this.progress.delete(token));
    }
    onDidChangeState(listener: (state: ClientState) => void): vscode.Disposable {
        return this.states.event(listener);
    }
    /** Simulates a crash the client does not recover from. */
    crash(): void {
        this.states.fire('stopped');
    }
}

class FakePython implements PythonEnvironmentProvider {
    present = true;
    interpreter: string | undefined = '/envs/a/bin/python';
    private readonly emitter = new mock.EventEmitter<void>();
    readonly onDidChangeInterpreter = this.emitter.event;
    isPresent(): boolean {
        return this.present;
    }
    getActiveInterpreter(): Promise<string | undefined> {
        return Promise.resolve(this.interpreter);
    }
    select(interpreter: string | undefined): void {
        this.interpreter = interpreter;
        this.emitter.fire();
    }
    dispose(): void {
        this.emitter.dispose();
    }
}

/** Every interpreter exists, is Python 3.12 and has asyncsense, except paths containing "nopkg". */
const probe: ProbeFn = (command, options) =>
    Promise.resolve(
        command.includes('missing')
            ? { ok: false, error: `${command} was not found.` }
            : {
                  ok: true,
                  info: {
                      executable: command === 'python3' ? '/usr/bin/python3' : command,
                      version: [3, 12, 0],
                      asyncsense:
                          command.includes('nopkg') && !options.env.PYTHONPATH
                              ? null
                              : { version: '0.1.0', file: null },
                      asyncsenseError: command.includes('nopkg') ? 'ModuleNotFoundError' : null,
                  },
              },
    );

interface Harness {
    manager: ServerManager;
    python: FakePython;
    clients: FakeClient[];
    logs: string[];
    states: ServerState[];
    nextStartFails?: Error;
}

function setup(): Harness {
    const h: Harness = {
        python: new FakePython(),
        clients: [],
        logs: [],
        states: [],
        manager: undefined as unknown as ServerManager,
    };
    h.manager = new ServerManager({
        extensionPath: '/ext',
        logger: {
            info: (m) => h.logs.push(`info: ${m}`),
            warn: (m) => h.logs.push(`warn: ${m}`),
            error: (m) => h.logs.push(`error: ${m}`),
            show: () => h.logs.push('show'),
        },
        python: h.python,
        createClient: (plan, init, hooks) => {
            const c = new FakeClient(plan, init, hooks);
            if (h.nextStartFails) {
                c.failStart = h.nextStartFails;
                h.nextStartFails = undefined;
            }
            h.clients.push(c);
            return c;
        },
        probe,
        baseEnv: { PATH: '/usr/bin' },
        bundledExists: () => true,
    });
    h.manager.onDidChangeState((s) => h.states.push(s));
    return h;
}

const last = <T>(xs: T[]): T => xs[xs.length - 1];

describe('ServerManager', () => {
    beforeEach(() => {
        mock.reset();
        mock.state.workspaceFolders = [{ uri: mock.Uri.file('/work/project'), name: 'project', index: 0 }];
    });

    test('starts the server with the Python extension interpreter and the settings as initializationOptions', async () => {
        mock.state.config = { select: ['blocking-call'], interpreter: '/from/setting/python', fixAll: true };
        const h = setup();
        await h.manager.start();
        assert.equal(h.clients.length, 1);
        const c = h.clients[0];
        assert.deepEqual(c.plan.launch.command, '/envs/a/bin/python');
        assert.deepEqual(c.plan.launch.args, ['-m', 'asyncsense', 'server']);
        assert.equal(c.plan.launch.options.cwd, '/work/project');
        assert.deepEqual(c.init, {
            settings: {
                select: ['blocking-call'],
                ignore: [],
                severity: {},
                interpreter: '/envs/a/bin/python',
                extraBlockingCalls: [],
                strictGather: false,
            },
        });
        assert.deepEqual(h.states, ['starting', 'ready']);
        assert.equal(h.manager.state, 'ready');
        // workspace/configuration answers with the same object.
        assert.deepEqual(c.hooks.serverSettings(), c.init.settings);
    });

    test('restarts the server when the selected interpreter changes', async () => {
        const h = setup();
        await h.manager.start();
        h.python.select('/envs/b/bin/python');
        await h.manager.whenIdle();
        assert.equal(h.clients.length, 2);
        assert.equal(h.clients[0].stopped, true);
        assert.equal(h.clients[1].started, true);
        assert.equal(h.clients[1].plan.launch.command, '/envs/b/bin/python');
        assert.equal(h.clients[1].init.settings.interpreter, '/envs/b/bin/python');
        assert.equal(h.manager.state, 'ready');
        assert.ok(h.logs.some((l) => l.includes('Restarting the server: the selected Python interpreter changed')));
    });

    test('does not restart when the interpreter event leaves the command unchanged', async () => {
        const h = setup();
        await h.manager.start();
        h.python.select('/envs/a/bin/python');
        await h.manager.whenIdle();
        assert.equal(h.clients.length, 1);
        assert.equal(h.clients[0].stopped, false);
        assert.equal(last(h.clients[0].notifications).method, 'workspace/didChangeConfiguration');
    });

    test('switches to the bundled server when the new interpreter lacks asyncsense', async () => {
        const h = setup();
        await h.manager.start();
        h.python.select('/envs/nopkg/bin/python');
        await h.manager.whenIdle();
        const c = last(h.clients);
        assert.equal(c.plan.mode, 'bundled');
        assert.equal(c.plan.launch.command, '/envs/nopkg/bin/python');
        assert.equal(c.plan.launch.options.env.PYTHONPATH, '/ext/bundled/libs');
        assert.equal(c.init.settings.interpreter, '/envs/nopkg/bin/python');
        assert.ok(h.logs.some((l) => l.includes('bundled with the extension')));
    });

    test('rule settings are sent to the running server without a restart', async () => {
        const h = setup();
        await h.manager.start();
        mock.updateConfig({ ignore: ['dangling-task'], severity: { 'blocking-call': 'error' }, strictGather: true });
        await h.manager.whenIdle();
        assert.equal(h.clients.length, 1);
        assert.equal(h.clients[0].stopped, false);
        const n = last(h.clients[0].notifications);
        assert.equal(n.method, 'workspace/didChangeConfiguration');
        assert.deepEqual(n.params.settings.asyncsense.ignore, ['dangling-task']);
        assert.deepEqual(n.params.settings.asyncsense.severity, { 'blocking-call': 'error' });
        assert.equal(n.params.settings.asyncsense.strictGather, true);
        assert.equal(n.params.settings.asyncsense.interpreter, '/envs/a/bin/python');
        assert.deepEqual(h.clients[0].hooks.serverSettings(), n.params.settings.asyncsense);
    });

    test('fixAll is client-side: read on each request, nothing sent to the server', async () => {
        const h = setup();
        await h.manager.start();
        assert.equal(h.clients[0].hooks.fixAllEnabled(), true);
        mock.updateConfig({ fixAll: false });
        await h.manager.whenIdle();
        assert.equal(h.clients[0].hooks.fixAllEnabled(), false);
        assert.equal('fixAll' in last(h.clients[0].notifications).params.settings.asyncsense, false);
    });

    test('without the Python extension, changing asyncsense.interpreter restarts the server', async () => {
        const h = setup();
        h.python.present = false;
        mock.state.config = { interpreter: '/from/setting/python' };
        await h.manager.start();
        assert.equal(h.clients[0].plan.launch.command, '/from/setting/python');
        mock.updateConfig({ interpreter: '/other/python' });
        await h.manager.whenIdle();
        assert.equal(h.clients.length, 2);
        assert.equal(h.clients[0].stopped, true);
        assert.equal(h.clients[1].plan.launch.command, '/other/python');
    });

    test('falls back to python3 on PATH and sends its absolute path for jedi', async () => {
        const h = setup();
        h.python.present = false;
        await h.manager.start();
        assert.equal(h.clients[0].plan.launch.command, 'python3');
        assert.equal(h.clients[0].init.settings.interpreter, '/usr/bin/python3');
    });

    test('no usable interpreter: error state, error message, then recovers when one is selected', async () => {
        const h = setup();
        h.python.interpreter = '/envs/missing/bin/python';
        await h.manager.start();
        assert.equal(h.clients.length, 0);
        assert.equal(h.manager.state, 'error');
        assert.match(mock.state.messages[0].text, /missing\/bin\/python was not found/);
        h.python.select('/envs/a/bin/python');
        await h.manager.whenIdle();
        assert.equal(h.clients.length, 1);
        assert.equal(h.manager.state, 'ready');
    });

    test('a server that fails to start, or crashes, puts the state in error', async () => {
        const h = setup();
        h.nextStartFails = new Error('exit code 1');
        await h.manager.start();
        assert.equal(h.manager.state, 'error');
        assert.match(h.manager.detail, /did not start: exit code 1/);
        await h.manager.restart('test');
        assert.equal(h.manager.state, 'ready');
        last(h.clients).crash();
        assert.equal(h.manager.state, 'error');
    });

    test('the status bar item follows the state and opens the logs', async () => {
        const h = setup();
        const d = createStatusItem(h.manager);
        const item = mock.state.statusItems[0];
        assert.equal(item.command, 'asyncsense.showLogs');
        assert.equal(item.visible, true);
        await h.manager.start();
        assert.match(item.text, /\$\(check\) asyncsense/);
        assert.match(item.tooltip ?? '', /ready[\s\S]*Python 3\.12\.0/);
        last(h.clients).crash();
        assert.match(item.text, /\$\(error\)/);
        d.dispose();
    });

    test('Check Workspace runs the server command with a work-done token and reports progress', async () => {
        const h = setup();
        await h.manager.start();
        const c = h.clients[0];
        c.requestHandler = (_method, params: { workDoneToken: string }) => {
            const report = c.progress.get(params.workDoneToken);
            assert.ok(report, 'progress handler registered before the request');
            report({ kind: 'begin', title: 'Checking', percentage: 0 });
            report({ kind: 'report', message: '10/20 files', percentage: 50 });
            report({ kind: 'end' });
            return Promise.resolve({ files: 20, diagnostics: 3 });
        };
        await h.manager.checkWorkspace();
        const req = last(c.requests);
        assert.equal(req.method, 'workspace/executeCommand');
        assert.equal(req.params.command, 'asyncsense.checkWorkspace');
        assert.equal(typeof req.params.workDoneToken, 'string');
        assert.deepEqual(mock.state.progressReports, [
            { message: undefined, increment: 0 },
            { message: '10/20 files', increment: 50 },
        ]);
        assert.ok(mock.state.executedCommands.includes('workbench.actions.view.problems'));
        assert.match(last(mock.state.messages).text, /20 files, 3 problems/);
    });

    test('cancelling Check Workspace cancels the request and the progress', async () => {
        const h = setup();
        await h.manager.start();
        const c = h.clients[0];
        c.requestHandler = (_m, _p, token) =>
            new Promise((_resolve, reject) => {
                token?.onCancellationRequested(() => reject(new Error('Request cancelled')));
            });
        mock.state.cancelNextProgress = true;
        await h.manager.checkWorkspace();
        assert.ok(c.notifications.some((n) => n.method === 'window/workDoneProgress/cancel'));
        assert.match(last(mock.state.messages).text, /cancelled/);
    });

    test('Check Workspace with no server running says so', async () => {
        const h = setup();
        await h.manager.checkWorkspace();
        assert.match(last(mock.state.messages).text, /server is not running/);
    });
});

// Starts the asyncsense server exactly as the extension would (same plan:
// interpreter, mode, command, args, env, cwd) and speaks LSP to it over stdio.

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
    createProtocolConnection,
    Diagnostic,
    InitializeResult,
    ProtocolConnection,
    PublishDiagnosticsParams,
    StreamMessageReader,
    StreamMessageWriter,
    WorkDoneProgress,
    WorkDoneProgressBegin,
    WorkDoneProgressEnd,
    WorkDoneProgressReport,
} from 'vscode-languageserver-protocol/node';
import { ImportStrategy } from '../../common/constants';
import { probeInterpreter } from '../../common/interpreter';
import { planServer, ServerPlan } from '../../common/server';
import { readSettings, ServerSettings, toServerSettings } from '../../common/settings';

/** vscode-client/ (tests run from out/test-build/test/integration). */
export const EXTENSION_ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const PYTHON = process.env.PYTHON ?? 'python3';

/** The asyncsense settings VS Code returns with only the package.json defaults, plus overrides. */
export function settingsAsVsCodeWould(overrides: Record<string, unknown> = {}): ReturnType<typeof readSettings> {
    const pkg = JSON.parse(fs.readFileSync(path.join(EXTENSION_ROOT, 'package.json'), 'utf8')) as {
        contributes: { configuration: { properties: Record<string, { default: unknown }> } };
    };
    const values: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(pkg.contributes.configuration.properties)) {
        values[key.slice('asyncsense.'.length)] = schema.default;
    }
    Object.assign(values, overrides);
    return readSettings({ get: (k: string) => values[k] });
}

export type AnyProgress = WorkDoneProgressBegin | WorkDoneProgressReport | WorkDoneProgressEnd;

export class ServerUnderTest {
    readonly diagnostics = new Map<string, Diagnostic[]>();
    readonly progress: { token: string | number; value: AnyProgress }[] = [];
    readonly logMessages: string[] = [];
    stderr = '';
    refreshRequests = 0;
    exitCode: number | null | undefined;
    initializeResult: InitializeResult | undefined;
    private readonly waiters: (() => void)[] = [];
    private readonly exited: Promise<number | null>;

    private constructor(
        readonly plan: ServerPlan,
        readonly proc: ChildProcess,
        readonly connection: ProtocolConnection,
        public settings: ServerSettings,
    ) {
        this.exited = new Promise((resolve) => {
            proc.on('exit', (code) => {
                this.exitCode = code;
                this.notify();
                resolve(code);
            });
        });
        proc.stderr?.on('data', (d: Buffer) => {
            this.stderr += d.toString();
        });
        connection.onRequest('workspace/configuration', (params: { items: { section?: string }[] }) =>
            params.items.map((i) => (i.section === 'asyncsense' ? this.settings : null)),
        );
        connection.onRequest('client/registerCapability', () => null);
        connection.onRequest('client/unregisterCapability', () => null);
        connection.onRequest('window/workDoneProgress/create', (p: { token: string | number }) => {
            connection.onProgress(WorkDoneProgress.type, p.token, (value) => {
                this.progress.push({ token: p.token, value });
                this.notify();
            });
            return null;
        });
        connection.onRequest('workspace/applyEdit', () => ({ applied: false }));
        connection.onRequest('workspace/diagnostic/refresh', () => {
            this.refreshRequests++;
            this.notify();
            return null;
        });
        connection.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
            this.diagnostics.set(p.uri, p.diagnostics);
            this.notify();
        });
        connection.onNotification('window/logMessage', (p: { message: string }) => {
            this.logMessages.push(p.message);
        });
        connection.onNotification('window/showMessage', (p: { message: string }) => {
            this.logMessages.push(p.message);
        });
        connection.onNotification('$/logTrace', () => undefined);
        connection.onNotification('window/workDoneProgress/cancel', () => undefined);
        connection.listen();
    }

    /**
     * Plans like the extension (ServerManager.makePlan) for interpreter `python`
     * (as if set in asyncsense.interpreter, no Python extension) and starts it.
     */
    static async start(opts: { python: string; importStrategy: ImportStrategy; cwd: string }): Promise<ServerUnderTest> {
        const read = settingsAsVsCodeWould({ interpreter: opts.python, importStrategy: opts.importStrategy });
        const result = await planServer({
            resolve: { pythonExtensionPresent: false, setting: read.client.interpreterSetting, workspaceFolder: opts.cwd },
            importStrategy: read.client.importStrategy,
            extensionPath: EXTENSION_ROOT,
            cwd: opts.cwd,
            baseEnv: process.env,
            probe: probeInterpreter,
        });
        if (!result.ok) {
            throw new Error(
                `The extension could not plan the asyncsense server with ${opts.python} ` +
                    `(importStrategy ${opts.importStrategy}): ${result.error}\n${result.log.join('\n')}`,
            );
        }
        const { launch } = result.plan;
        const proc = spawn(launch.command, launch.args, {
            cwd: launch.options.cwd,
            env: launch.options.env,
            stdio: ['pipe', 'pipe', 'pipe'],
        });
        const connection = createProtocolConnection(
            new StreamMessageReader(proc.stdout),
            new StreamMessageWriter(proc.stdin),
        );
        return new ServerUnderTest(result.plan, proc, connection, toServerSettings(read, result.plan.userInterpreter));
    }

    private notify(): void {
        for (const w of this.waiters.splice(0)) {
            w();
        }
    }

    /** Waits until `check` returns a value (re-checked on every server message). */
    async waitFor<T>(what: string, check: () => T | undefined, timeoutMs = 60_000): Promise<T> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const value = check();
            if (value !== undefined) {
                return value;
            }
            if (this.exitCode !== undefined) {
                throw new Error(`The server exited (code ${String(this.exitCode)}) while waiting for ${what}.\n${this.tail()}`);
            }
            const left = deadline - Date.now();
            if (left <= 0) {
                throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.\n${this.tail()}`);
            }
            await new Promise<void>((resolve) => {
                const timer = setTimeout(resolve, Math.min(left, 250));
                this.waiters.push(() => {
                    clearTimeout(timer);
                    resolve();
                });
            });
        }
    }

    /** Sends a request; fails with the server's stderr if the server dies first. */
    async request<R>(method: string, params: unknown, timeoutMs = 60_000): Promise<R> {
        if (this.exitCode !== undefined) {
            throw new Error(`The server is not running (it exited with code ${String(this.exitCode)}); cannot send ${method}.`);
        }
        let timer: NodeJS.Timeout | undefined;
        try {
            return await Promise.race([
                this.connection.sendRequest<R>(method, params),
                this.exited.then(() => {
                    throw new Error(`The server exited (code ${String(this.exitCode)}) during ${method}.\n${this.tail()}`);
                }),
                new Promise<never>((_r, reject) => {
                    timer = setTimeout(() => reject(new Error(`${method} timed out after ${timeoutMs} ms.\n${this.tail()}`)), timeoutMs);
                }),
            ]);
        } finally {
            clearTimeout(timer);
        }
    }

    tail(): string {
        const err = this.stderr.trim().split('\n').slice(-25).join('\n');
        return `Server command: ${this.plan.launch.command} ${this.plan.launch.args.join(' ')} (mode ${this.plan.mode}, cwd ${this.plan.launch.options.cwd})\nServer stderr (last lines):\n${err || '(empty)'}`;
    }

    async shutdown(): Promise<number | null> {
        await this.request('shutdown', null, 15_000);
        await this.connection.sendNotification('exit');
        const code = await Promise.race([
            this.exited,
            new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000)),
        ]);
        if (code === 'timeout') {
            this.kill();
            throw new Error('The server did not exit within 10 s after shutdown/exit.');
        }
        this.connection.dispose();
        return code;
    }

    kill(): void {
        if (this.exitCode === undefined) {
            this.proc.kill();
        }
        this.connection.dispose();
    }
}

/** A throw-away workspace with a coroutine that makes a blocking call. */
export function makeWorkspace(): { root: string; appPath: string; appText: string; jobsPath: string } {
    const root = fs.mkdtempSync(path.join(fs.realpathSync(os.tmpdir()), 'asyncsense-it-'));
    const appText = [
        'import time',
        '',
        '',
        'async def handler():',
        '    time.sleep(1)',
        '    return 42',
        '',
    ].join('\n');
    const appPath = path.join(root, 'app.py');
    fs.writeFileSync(appPath, appText);
    const jobsPath = path.join(root, 'jobs.py');
    fs.writeFileSync(
        jobsPath,
        ['import time', '', '', 'async def job():', '    time.sleep(5)', ''].join('\n'),
    );
    return { root, appPath, appText, jobsPath };
}

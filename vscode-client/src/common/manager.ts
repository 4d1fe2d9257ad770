// The server's life: plan (interpreter + mode), start, restart when the
// interpreter changes, push settings without a restart, run "Check Workspace".
// The language client itself comes from a factory, so unit tests can drive this
// class with a mocked `vscode` module and a fake client.

import * as vscode from 'vscode';
import { CONFIG_SECTION, SERVER_CHECK_WORKSPACE } from './constants';
import { errorMessage, ProbeFn } from './interpreter';
import { PythonEnvironmentProvider } from './python';
import { describeLaunch, launchKey, planServer, ServerPlan } from './server';
import {
    InitializationOptions,
    readSettings,
    ReadSettings,
    ServerSettings,
    toDidChangeConfigurationParams,
    toInitializationOptions,
    toServerSettings,
} from './settings';

export type ServerState = 'stopped' | 'starting' | 'ready' | 'error';
export type ClientState = 'starting' | 'running' | 'stopped';

export interface Logger {
    info(msg: string): void;
    warn(msg: string): void;
    error(msg: string): void;
    show(): void;
}

/** What the manager needs from a language client (vscode-languageclient in the extension). */
export interface ManagedClient {
    start(): Promise<void>;
    stop(): Promise<void>;
    sendNotification(method: string, params: unknown): Promise<void>;
    sendRequest<R>(method: string, params: unknown, token?: vscode.CancellationToken): Promise<R>;
    onProgress(token: string, handler: (value: WorkDoneProgressValue) => void): vscode.Disposable;
    onDidChangeState(listener: (state: ClientState) => void): vscode.Disposable;
}

export interface WorkDoneProgressValue {
    kind: 'begin' | 'report' | 'end';
    title?: string;
    message?: string;
    percentage?: number;
}

/** Called by the client for workspace/configuration and code actions. */
export interface ClientHooks {
    serverSettings(): ServerSettings;
    fixAllEnabled(resource?: vscode.Uri): boolean;
    /** The client gave up restarting a crashed server. */
    onFatalError(message: string): void;
}

export type ClientFactory = (plan: ServerPlan, init: InitializationOptions, hooks: ClientHooks) => ManagedClient;

export interface ManagerDeps {
    extensionPath: string;
    logger: Logger;
    python: PythonEnvironmentProvider;
    createClient: ClientFactory;
    probe: ProbeFn;
    baseEnv?: NodeJS.ProcessEnv;
    bundledExists?: (libs: string) => boolean;
}

function workspaceFolder(): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.[0];
}

export class ServerManager implements vscode.Disposable {
    private client: ManagedClient | undefined;
    private clientDisposables: vscode.Disposable[] = [];
    private plan: ServerPlan | undefined;
    private queue: Promise<unknown> = Promise.resolve();
    private stopping = false;
    private lastShownError: string | undefined;
    private _state: ServerState = 'stopped';
    private _detail = '';
    private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
    readonly onDidChangeState = this.stateEmitter.event;
    private readonly disposables: vscode.Disposable[] = [];

    constructor(private readonly deps: ManagerDeps) {
        this.disposables.push(
            this.stateEmitter,
            vscode.workspace.onDidChangeConfiguration((e) => this.onDidChangeConfiguration(e)),
            deps.python.onDidChangeInterpreter(() => {
                void this.refresh('the selected Python interpreter changed');
            }),
        );
    }

    get state(): ServerState {
        return this._state;
    }

    /** One line about the running server (status bar tooltip). */
    get detail(): string {
        return this._detail;
    }

    get currentPlan(): ServerPlan | undefined {
        return this.plan;
    }

    private setState(state: ServerState, detail?: string): void {
        if (detail !== undefined) {
            this._detail = detail;
        }
        if (state !== this._state) {
            this._state = state;
            this.stateEmitter.fire(state);
        }
    }

    private settings(): ReadSettings {
        const config = vscode.workspace.getConfiguration(CONFIG_SECTION, workspaceFolder()?.uri);
        return readSettings(config);
    }

    /** The server settings object S for the current configuration. */
    serverSettings(): ServerSettings {
        return toServerSettings(this.settings(), this.plan?.userInterpreter);
    }

    /** Runs one start/stop/restart at a time, in order. */
    private enqueue<T>(job: () => Promise<T>): Promise<T> {
        const next = this.queue.then(job, job);
        this.queue = next.catch(() => undefined);
        return next;
    }

    /** Resolves when every queued start/stop/restart/settings push has run. */
    async whenIdle(): Promise<void> {
        let current: Promise<unknown> | undefined;
        while (current !== this.queue) {
            current = this.queue;
            await current;
        }
    }

    start(): Promise<void> {
        return this.enqueue(() => this.doStart());
    }

    restart(reason = 'restart requested'): Promise<void> {
        return this.enqueue(async () => {
            this.deps.logger.info(`Restarting the server: ${reason}.`);
            await this.doStop();
            await this.doStart();
        });
    }

    stop(): Promise<void> {
        return this.enqueue(() => this.doStop());
    }

    /**
     * Re-plans (interpreter, mode). Restarts only when the process would be
     * started differently; otherwise sends the new settings to the running server.
     */
    refresh(reason: string): Promise<void> {
        return this.enqueue(async () => {
            if (!this.client) {
                this.deps.logger.info(`Starting the server: ${reason}.`);
                await this.doStart();
                return;
            }
            const result = await this.makePlan();
            if (!result) {
                await this.doStop();
                return;
            }
            if (this.plan && launchKey(result) === launchKey(this.plan) && result.userInterpreter === this.plan.userInterpreter) {
                this.deps.logger.info(`${reason[0].toUpperCase()}${reason.slice(1)}; the server command is unchanged.`);
                await this.pushSettings();
                return;
            }
            this.deps.logger.info(`Restarting the server: ${reason}.`);
            await this.doStop();
            await this.doStart(result);
        });
    }

    private async makePlan(): Promise<ServerPlan | undefined> {
        const read = this.settings();
        for (const w of read.warnings) {
            this.deps.logger.warn(w);
        }
        const folder = workspaceFolder();
        const result = await planServer({
            resolve: {
                pythonExtensionPresent: this.deps.python.isPresent(),
                getPythonExtensionInterpreter: () => this.deps.python.getActiveInterpreter(folder?.uri),
                setting: read.client.interpreterSetting,
                workspaceFolder: folder?.uri.fsPath,
            },
            importStrategy: read.client.importStrategy,
            extensionPath: this.deps.extensionPath,
            cwd: folder?.uri.fsPath ?? this.deps.extensionPath,
            baseEnv: this.deps.baseEnv ?? process.env,
            probe: this.deps.probe,
            bundledExists: this.deps.bundledExists,
        });
        for (const line of result.ok ? result.plan.log : result.log) {
            this.deps.logger.info(line);
        }
        if (!result.ok) {
            this.fail(result.error);
            return undefined;
        }
        return result.plan;
    }

    private fail(message: string): void {
        this.deps.logger.error(message);
        this.setState('error', message);
        if (message !== this.lastShownError) {
            this.lastShownError = message;
            void vscode.window.showErrorMessage(`asyncsense: ${message}`, 'Show Logs').then((choice) => {
                if (choice === 'Show Logs') {
                    this.deps.logger.show();
                }
            });
        }
    }

    private async doStart(prepared?: ServerPlan): Promise<void> {
        this.setState('starting', 'Starting the asyncsense server…');
        const plan = prepared ?? (await this.makePlan());
        if (!plan) {
            return;
        }
        this.plan = plan;
        const modeText = plan.mode === 'bundled' ? 'the bundled server' : 'asyncsense from the environment';
        this.deps.logger.info(`Server command: ${describeLaunch(plan.launch)}`);
        const init = toInitializationOptions(this.serverSettings());
        const client = this.deps.createClient(plan, init, {
            serverSettings: () => this.serverSettings(),
            fixAllEnabled: () => this.settings().client.fixAll,
            onFatalError: (msg) => this.fail(msg),
        });
        this.client = client;
        this.stopping = false;
        this.clientDisposables.push(
            client.onDidChangeState((s) => {
                if (client !== this.client) {
                    return;
                }
                if (s === 'starting') {
                    this.setState('starting');
                } else if (s === 'running') {
                    this.lastShownError = undefined;
                    this.setState('ready', `Python ${plan.pythonVersion} (${plan.userInterpreter}), ${modeText}`);
                } else if (!this.stopping) {
                    this.setState('error', 'The asyncsense server stopped. See the logs.');
                }
            }),
        );
        try {
            await client.start();
            this.lastShownError = undefined;
            this.setState('ready', `Python ${plan.pythonVersion} (${plan.userInterpreter}), ${modeText}`);
            this.deps.logger.info(`Server ready (${modeText}, asyncsense ${plan.serverVersion ?? 'unknown version'}).`);
        } catch (err) {
            this.fail(`The server did not start: ${errorMessage(err)}`);
        }
    }

    private async doStop(): Promise<void> {
        const client = this.client;
        if (!client) {
            return;
        }
        this.stopping = true;
        this.client = undefined;
        try {
            await client.stop();
        } catch (err) {
            this.deps.logger.warn(`Stopping the server: ${errorMessage(err)}`);
        } finally {
            for (const d of this.clientDisposables) {
                d.dispose();
            }
            this.clientDisposables = [];
            this.setState('stopped', 'The asyncsense server is stopped.');
        }
    }

    /** Sends the current settings to the running server (no restart). */
    async pushSettings(): Promise<void> {
        const client = this.client;
        if (!client || this._state !== 'ready') {
            return;
        }
        const settings = this.serverSettings();
        try {
            await client.sendNotification('workspace/didChangeConfiguration', toDidChangeConfigurationParams(settings));
            this.deps.logger.info(`Sent the settings to the running server: ${JSON.stringify(settings)}`);
        } catch (err) {
            this.deps.logger.warn(`Could not send the settings to the server: ${errorMessage(err)}`);
        }
    }

    /** Exposed for tests; wired to vscode.workspace.onDidChangeConfiguration. */
    onDidChangeConfiguration(e: vscode.ConfigurationChangeEvent): void {
        if (!e.affectsConfiguration(CONFIG_SECTION)) {
            return;
        }
        if (
            e.affectsConfiguration(`${CONFIG_SECTION}.interpreter`) ||
            e.affectsConfiguration(`${CONFIG_SECTION}.importStrategy`)
        ) {
            void this.refresh('the asyncsense interpreter settings changed');
            return;
        }
        // trace.server is applied by vscode-languageclient itself; fixAll is read
        // by the client on each code action request.
        for (const w of this.settings().warnings) {
            this.deps.logger.warn(w);
        }
        void this.enqueue(() => this.pushSettings());
    }

    /** "Check Workspace": runs the server command with a cancellable progress notification. */
    async checkWorkspace(): Promise<void> {
        await this.whenIdle();
        const client = this.client;
        if (!client || this._state !== 'ready') {
            const choice = await vscode.window.showWarningMessage(
                'asyncsense: the server is not running.',
                'Restart Server',
                'Show Logs',
            );
            if (choice === 'Restart Server') {
                await this.restart('requested from Check Workspace');
            } else if (choice === 'Show Logs') {
                this.deps.logger.show();
            }
            return;
        }
        const token = `asyncsense-check-workspace-${Date.now()}`;
        await vscode.window.withProgress(
            { location: vscode.ProgressLocation.Notification, title: 'asyncsense: checking the workspace', cancellable: true },
            async (progress, cancellation) => {
                let lastPercentage = 0;
                const sub = client.onProgress(token, (value) => {
                    if (value.kind === 'end') {
                        return;
                    }
                    let increment: number | undefined;
                    if (typeof value.percentage === 'number') {
                        increment = Math.max(0, value.percentage - lastPercentage);
                        lastPercentage = value.percentage;
                    }
                    progress.report({ message: value.message, increment });
                });
                const cancelSub = cancellation.onCancellationRequested(() => {
                    void client.sendNotification('window/workDoneProgress/cancel', { token }).catch(() => undefined);
                });
                const started = Date.now();
                try {
                    const result = await client.sendRequest<unknown>(
                        'workspace/executeCommand',
                        { command: SERVER_CHECK_WORKSPACE, arguments: [], workDoneToken: token },
                        cancellation,
                    );
                    const seconds = ((Date.now() - started) / 1000).toFixed(1);
                    const summary = summarizeCheckResult(result);
                    this.deps.logger.info(`Check Workspace finished in ${seconds} s${summary ? `: ${summary}` : ''}.`);
                    if (cancellation.isCancellationRequested) {
                        void vscode.window.showInformationMessage('asyncsense: workspace check cancelled.');
                    } else {
                        await vscode.commands.executeCommand('workbench.actions.view.problems');
                        void vscode.window.showInformationMessage(
                            `asyncsense: workspace checked${summary ? ` (${summary})` : ''}.`,
                        );
                    }
                } catch (err) {
                    if (cancellation.isCancellationRequested) {
                        this.deps.logger.info('Check Workspace cancelled.');
                        void vscode.window.showInformationMessage('asyncsense: workspace check cancelled.');
                    } else {
                        this.deps.logger.error(`Check Workspace failed: ${errorMessage(err)}`);
                        void vscode.window.showErrorMessage(`asyncsense: Check Workspace failed: ${errorMessage(err)}`);
                    }
                } finally {
                    sub.dispose();
                    cancelSub.dispose();
                }
            },
        );
    }

    async dispose(): Promise<void> {
        for (const d of this.disposables) {
            d.dispose();
        }
        await this.stop();
    }
}

/** Turns the server's answer to asyncsense.checkWorkspace into a short summary, whatever its shape. */
export function summarizeCheckResult(result: unknown): string {
    if (!result || typeof result !== 'object') {
        return '';
    }
    const r = result as Record<string, unknown>;
    const parts: string[] = [];
    const num = (...keys: string[]) => {
        for (const k of keys) {
            const v = r[k];
            if (typeof v === 'number') {
                return v;
            }
        }
        return undefined;
    };
    const files = num('files', 'filesChecked', 'checked');
    const problems = num('diagnostics', 'problems', 'findings');
    if (files !== undefined) {
        parts.push(`${files} file${files === 1 ? '' : 's'}`);
    }
    if (problems !== undefined) {
        parts.push(`${problems} problem${problems === 1 ? '' : 's'}`);
    }
    if (r.cancelled === true) {
        parts.push('cancelled');
    }
    return parts.join(', ');
}

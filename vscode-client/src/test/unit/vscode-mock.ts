// A small stand-in for the `vscode` module, installed into Node's module loader
// so that `import * as vscode from 'vscode'` works in unit tests. Import this
// file before any module under test.

import Module from 'node:module';
import * as path from 'path';

type Listener<T> = (e: T) => unknown;

export class Disposable {
    constructor(private readonly fn: () => void = () => undefined) {}
    static from(...items: { dispose(): unknown }[]): Disposable {
        return new Disposable(() => {
            for (const i of items) {
                i.dispose();
            }
        });
    }
    dispose(): void {
        this.fn();
    }
}

export class EventEmitter<T> {
    private listeners: Listener<T>[] = [];
    readonly event = (listener: Listener<T>): Disposable => {
        this.listeners.push(listener);
        return new Disposable(() => {
            this.listeners = this.listeners.filter((l) => l !== listener);
        });
    };
    fire(e: T): void {
        for (const l of [...this.listeners]) {
            l(e);
        }
    }
    dispose(): void {
        this.listeners = [];
    }
}

export class Uri {
    private constructor(
        readonly scheme: string,
        readonly fsPath: string,
    ) {}
    static file(p: string): Uri {
        return new Uri('file', path.resolve(p));
    }
    toString(): string {
        return `${this.scheme}://${this.fsPath}`;
    }
}

export class ThemeColor {
    constructor(readonly id: string) {}
}

export class CancellationTokenSource {
    private readonly emitter = new EventEmitter<void>();
    readonly token = {
        isCancellationRequested: false,
        onCancellationRequested: this.emitter.event,
    };
    cancel(): void {
        this.token.isCancellationRequested = true;
        this.emitter.fire();
    }
    dispose(): void {
        this.emitter.dispose();
    }
}

export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 };
export const StatusBarAlignment = { Left: 1, Right: 2 };

/** What tests inspect and steer. */
export const state = {
    config: {} as Record<string, unknown>,
    workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
    messages: [] as { level: 'error' | 'warning' | 'info'; text: string }[],
    executedCommands: [] as string[],
    progressReports: [] as { message?: string; increment?: number }[],
    /** Set to cancel the next withProgress task right after it starts. */
    cancelNextProgress: false,
    statusItems: [] as { text: string; tooltip?: string; command?: string; visible: boolean }[],
    /** Installed extensions by id (for vscode.extensions.getExtension). */
    extensions: {} as Record<string, { isActive: boolean; exports: unknown; activate(): Promise<unknown> }>,
};

const configEmitter = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();

export function reset(): void {
    state.config = {};
    state.workspaceFolders = undefined;
    state.messages = [];
    state.executedCommands = [];
    state.progressReports = [];
    state.cancelNextProgress = false;
    state.statusItems = [];
    state.extensions = {};
}

/** Sets `asyncsense.<key>` values and fires onDidChangeConfiguration for them. */
export function updateConfig(values: Record<string, unknown>): void {
    Object.assign(state.config, values);
    const changed = Object.keys(values).map((k) => `asyncsense.${k}`);
    configEmitter.fire({
        affectsConfiguration: (section: string) =>
            changed.some((c) => c === section || c.startsWith(`${section}.`)),
    });
}

export const workspace = {
    get workspaceFolders() {
        return state.workspaceFolders;
    },
    getConfiguration(section?: string) {
        return {
            get(key: string, defaultValue?: unknown) {
                const full = section ? `${section}.${key}` : key;
                const short = full.startsWith('asyncsense.') ? full.slice('asyncsense.'.length) : full;
                return short in state.config ? state.config[short] : defaultValue;
            },
        };
    },
    onDidChangeConfiguration: configEmitter.event,
};

export const window = {
    showErrorMessage(text: string) {
        state.messages.push({ level: 'error', text });
        return Promise.resolve(undefined);
    },
    showWarningMessage(text: string) {
        state.messages.push({ level: 'warning', text });
        return Promise.resolve(undefined);
    },
    showInformationMessage(text: string) {
        state.messages.push({ level: 'info', text });
        return Promise.resolve(undefined);
    },
    async withProgress<R>(
        _options: unknown,
        task: (progress: { report(v: { message?: string; increment?: number }): void }, token: unknown) => Promise<R>,
    ): Promise<R> {
        const source = new CancellationTokenSource();
        const running = task({ report: (v) => state.progressReports.push(v) }, source.token);
        if (state.cancelNextProgress) {
            state.cancelNextProgress = false;
            source.cancel();
        }
        return running;
    },
    createStatusBarItem() {
        const item = {
            text: '',
            tooltip: undefined as string | undefined,
            command: undefined as string | undefined,
            name: '',
            visible: false,
            backgroundColor: undefined as unknown,
            accessibilityInformation: undefined as unknown,
            show() {
                item.visible = true;
            },
            hide() {
                item.visible = false;
            },
            dispose() {
                item.visible = false;
            },
        };
        state.statusItems.push(item);
        return item;
    },
};

export const commands = {
    executeCommand(command: string) {
        state.executedCommands.push(command);
        return Promise.resolve(undefined);
    },
    registerCommand() {
        return new Disposable();
    },
};

const extensionsEmitter = new EventEmitter<void>();
export const extensions = {
    getExtension: (id: string) => state.extensions[id],
    onDidChange: extensionsEmitter.event,
};

/** Installs or removes a fake extension and fires extensions.onDidChange. */
export function setExtension(id: string, ext: (typeof state.extensions)[string] | undefined): void {
    const next = { ...state.extensions };
    if (ext) {
        next[id] = ext;
    } else {
        state.extensions = Object.fromEntries(Object.entries(next).filter(([key]) => key !== id));
        extensionsEmitter.fire();
        return;
    }
    state.extensions = next;
    extensionsEmitter.fire();
}

const mock = {
    Disposable,
    EventEmitter,
    Uri,
    ThemeColor,
    CancellationTokenSource,
    ProgressLocation,
    StatusBarAlignment,
    workspace,
    window,
    commands,
    extensions,
    version: '1.82.0-mock',
};

// Route require('vscode') to the mock.
const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
const originalLoad = loader._load;
loader._load = function (request: string, ...rest: unknown[]) {
    if (request === 'vscode') {
        return mock;
    }
    return originalLoad.call(this, request, ...rest);
};

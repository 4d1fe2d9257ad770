// The interpreter selected in the Python extension, through @vscode/python-extension.

import { PythonExtension } from '@vscode/python-extension';
import * as vscode from 'vscode';
import { PYTHON_EXTENSION_ID } from './constants';
import { errorMessage } from './interpreter';

export interface PythonEnvironmentProvider extends vscode.Disposable {
    /** Whether ms-python.python is installed and enabled. */
    isPresent(): boolean;
    /** The selected interpreter's executable for a folder, if any. */
    getActiveInterpreter(resource?: vscode.Uri): Promise<string | undefined>;
    /** Fires when the selected interpreter changes (or the extension appears or goes). */
    readonly onDidChangeInterpreter: vscode.Event<void>;
}

export class PythonExtensionProvider implements PythonEnvironmentProvider {
    private readonly emitter = new vscode.EventEmitter<void>();
    readonly onDidChangeInterpreter = this.emitter.event;
    private api: PythonExtension | undefined;
    private apiPromise: Promise<PythonExtension | undefined> | undefined;
    private readonly disposables: vscode.Disposable[] = [];
    private present: boolean;

    constructor(private readonly log: (msg: string) => void) {
        this.present = vscode.extensions.getExtension(PYTHON_EXTENSION_ID) !== undefined;
        this.disposables.push(
            vscode.extensions.onDidChange(() => {
                const now = vscode.extensions.getExtension(PYTHON_EXTENSION_ID) !== undefined;
                if (now !== this.present) {
                    this.present = now;
                    this.api = undefined;
                    this.apiPromise = undefined;
                    this.log(`The Python extension was ${now ? 'enabled' : 'disabled or removed'}.`);
                    this.emitter.fire();
                }
            }),
        );
    }

    isPresent(): boolean {
        return this.present;
    }

    private getApi(): Promise<PythonExtension | undefined> {
        if (!this.present) {
            return Promise.resolve(undefined);
        }
        if (!this.apiPromise) {
            this.apiPromise = PythonExtension.api().then(
                (api) => {
                    this.api = api;
                    this.disposables.push(
                        api.environments.onDidChangeActiveEnvironmentPath((e) => {
                            this.log(`The Python extension selected ${e.path}.`);
                            this.emitter.fire();
                        }),
                    );
                    return api;
                },
                (err: unknown) => {
                    this.log(`The Python extension API is not available: ${errorMessage(err)}`);
                    this.apiPromise = undefined;
                    return undefined;
                },
            );
        }
        return this.apiPromise;
    }

    async getActiveInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
        const api = this.api ?? (await this.getApi());
        if (!api) {
            return undefined;
        }
        const envPath = api.environments.getActiveEnvironmentPath(resource);
        const env = await api.environments.resolveEnvironment(envPath);
        return env?.executable.uri?.fsPath;
    }

    dispose(): void {
        this.emitter.dispose();
        for (const d of this.disposables) {
            d.dispose();
        }
    }
}

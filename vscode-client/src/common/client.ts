// The real language client: vscode-languageclient over stdio.

import * as vscode from 'vscode';
import {
    CloseAction,
    CloseHandlerResult,
    ErrorAction,
    ErrorHandlerResult,
    Executable,
    LanguageClient,
    LanguageClientOptions,
    ResponseError,
    RevealOutputChannelOn,
    State,
    WorkDoneProgress,
} from 'vscode-languageclient/node';
import { EXTENSION_ID, SERVER_NAME } from './constants';
import { ClientFactory, ClientState, ManagedClient } from './manager';
import { answerConfiguration, isFixAllKind, RestartPolicy, withoutFixAll } from './middleware';

/** Python files, untitled buffers and notebook cells. */
export const DOCUMENT_SELECTOR = [
    { scheme: 'file', language: 'python' },
    { scheme: 'untitled', language: 'python' },
    { scheme: 'vscode-notebook-cell', language: 'python' },
    { notebook: '*', language: 'python' },
];


export function makeClientFactory(outputChannel: vscode.LogOutputChannel): ClientFactory {
    return (plan, init, hooks) => {
        const executable: Executable = {
            command: plan.launch.command,
            args: plan.launch.args,
            options: { cwd: plan.launch.options.cwd, env: plan.launch.options.env },
        };
        const restarts = new RestartPolicy();
        const clientOptions: LanguageClientOptions = {
            documentSelector: DOCUMENT_SELECTOR,
            outputChannel,
            revealOutputChannelOn: RevealOutputChannelOn.Never,
            initializationOptions: init,
            middleware: {
                workspace: {
                    // The server asks for section "asyncsense": answer with the same
                    // object S as in initializationOptions (interpreter resolved).
                    configuration: async (params, token, next): Promise<unknown[] | ResponseError> => {
                        const result = (await next(params, token)) as unknown[] | ResponseError;
                        if (result instanceof ResponseError) {
                            return result;
                        }
                        return answerConfiguration(params.items, result, () => hooks.serverSettings());
                    },
                },
                provideCodeActions: async (document, range, context, token, next) => {
                    if (hooks.fixAllEnabled(document.uri)) {
                        return next(document, range, context, token);
                    }
                    // asyncsense.fixAll is off: nothing for codeActionsOnSave, quick fixes stay.
                    if (isFixAllKind(context.only?.value)) {
                        return [];
                    }
                    const actions = await next(document, range, context, token);
                    return actions && withoutFixAll(actions, (a) => (a instanceof vscode.CodeAction ? a.kind?.value : undefined));
                },
            },
            errorHandler: {
                error: (): ErrorHandlerResult => ({ action: ErrorAction.Continue }),
                closed: (): CloseHandlerResult => {
                    if (restarts.shouldRestart()) {
                        outputChannel.warn('The asyncsense server exited; restarting it.');
                        return { action: CloseAction.Restart, handled: true };
                    }
                    hooks.onFatalError(
                        `The asyncsense server crashed ${restarts.recentCrashes} times in 3 minutes and will not be restarted. ` +
                            'See the logs, then run "asyncsense: Restart Server".',
                    );
                    return { action: CloseAction.DoNotRestart, handled: true };
                },
            },
        };
        const client = new LanguageClient(EXTENSION_ID, SERVER_NAME, executable, clientOptions);
        return adapt(client);
    };
}

function adapt(client: LanguageClient): ManagedClient {
    const mapState = (s: State): ClientState =>
        s === State.Running ? 'running' : s === State.Starting ? 'starting' : 'stopped';
    return {
        start: () => client.start(),
        stop: async () => {
            if (client.state !== State.Stopped) {
                await client.stop(5000);
            }
            await client.dispose();
        },
        sendNotification: (method, params) => client.sendNotification(method, params),
        sendRequest: <R>(method: string, params: unknown, token?: vscode.CancellationToken) =>
            token ? client.sendRequest<R>(method, params, token) : client.sendRequest<R>(method, params),
        onProgress: (token, handler) =>
            client.onProgress(WorkDoneProgress.type, token, (value) => handler(value)),
        onDidChangeState: (listener) => client.onDidChangeState((e) => listener(mapState(e.newState))),
    };
}

// asyncsense for VS Code: a thin client over `python -m asyncsense server`.

import * as vscode from 'vscode';
import { makeClientFactory } from './common/client';
import { Commands } from './common/constants';
import { probeInterpreter } from './common/interpreter';
import { Logger, ServerManager } from './common/manager';
import { PythonExtensionProvider } from './common/python';
import { createStatusItem } from './common/status';

let manager: ServerManager | undefined;

export function activate(context: vscode.ExtensionContext): void {
    const channel = vscode.window.createOutputChannel('asyncsense', { log: true });
    const logger: Logger = {
        info: (m) => channel.info(m),
        warn: (m) => channel.warn(m),
        error: (m) => channel.error(m),
        show: () => channel.show(true),
    };
    const version = (context.extension.packageJSON as { version?: string }).version ?? '';
    logger.info(`asyncsense extension ${version} activating (VS Code ${vscode.version}).`);

    const python = new PythonExtensionProvider((m) => logger.info(m));
    manager = new ServerManager({
        extensionPath: context.extensionPath,
        logger,
        python,
        createClient: makeClientFactory(channel),
        probe: probeInterpreter,
    });
    const m = manager;
    context.subscriptions.push(
        channel,
        python,
        createStatusItem(m),
        { dispose: () => void m.dispose() },
        vscode.commands.registerCommand(Commands.restart, () => m.restart('"asyncsense: Restart Server" was run')),
        vscode.commands.registerCommand(Commands.checkWorkspace, () => m.checkWorkspace()),
        vscode.commands.registerCommand(Commands.showLogs, () => channel.show()),
    );
    // Not awaited: activation returns at once; the status bar shows "starting".
    void m.start();
}

export async function deactivate(): Promise<void> {
    if (manager) {
        await manager.dispose();
        manager = undefined;
    }
}

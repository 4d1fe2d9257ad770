// Status bar item: server state, click for the logs.

import * as vscode from 'vscode';
import { Commands } from './constants';
import { ServerManager, ServerState } from './manager';

const TEXT: Record<ServerState, string> = {
    stopped: '$(circle-slash) asyncsense',
    starting: '$(sync~spin) asyncsense',
    ready: '$(check) asyncsense',
    error: '$(error) asyncsense',
};

const LABEL: Record<ServerState, string> = {
    stopped: 'stopped',
    starting: 'starting',
    ready: 'ready',
    error: 'error',
};

export function createStatusItem(manager: ServerManager): vscode.Disposable {
    const item = vscode.window.createStatusBarItem('asyncsense.status', vscode.StatusBarAlignment.Right, 100);
    item.name = 'asyncsense';
    item.command = Commands.showLogs;
    const update = (state: ServerState) => {
        item.text = TEXT[state];
        item.tooltip = `asyncsense server: ${LABEL[state]}\n${manager.detail}\nClick to show the logs.`;
        item.backgroundColor =
            state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
        item.accessibilityInformation = { label: `asyncsense server ${LABEL[state]}` };
    };
    update(manager.state);
    item.show();
    const sub = manager.onDidChangeState(update);
    return { dispose: () => { sub.dispose(); item.dispose(); } };
}

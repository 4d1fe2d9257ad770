// Names shared by the client, its tests and package.json. Keep them in sync with
// "contributes" in package.json (a unit test checks that they agree).

export const EXTENSION_ID = 'asyncsense';
export const SERVER_NAME = 'asyncsense';
export const CONFIG_SECTION = 'asyncsense';
export const PYTHON_EXTENSION_ID = 'ms-python.python';

/** The code action kind the server offers for "fix everything in this file". */
export const FIX_ALL_KIND = 'source.fixAll.asyncsense';

/** Server-side command (workspace/executeCommand). */
export const SERVER_CHECK_WORKSPACE = 'asyncsense.checkWorkspace';

/**
 * Client commands. The server's own command id (asyncsense.checkWorkspace) is
 * registered by vscode-languageclient when the server announces it, so the
 * client's palette command needs a different id.
 */
export const Commands = {
    restart: 'asyncsense.restart',
    checkWorkspace: 'asyncsense.runCheckWorkspace',
    showLogs: 'asyncsense.showLogs',
} as const;

export interface RuleInfo {
    readonly name: string;
    readonly code: string;
    readonly summary: string;
}

/** Stable rule names and codes (the server's contract). */
export const RULES: readonly RuleInfo[] = [
    { name: 'blocking-call', code: 'ASN001', summary: 'A blocking call (file, network, sleep, subprocess...) inside a coroutine.' },
    { name: 'unawaited-coroutine', code: 'ASN002', summary: 'A coroutine is created but never awaited.' },
    { name: 'dangling-task', code: 'ASN003', summary: 'A task is created and no reference is kept, so it can be garbage-collected mid-flight.' },
    { name: 'gather-lost-exceptions', code: 'ASN004', summary: 'asyncio.gather loses exceptions or leaves siblings running.' },
    { name: 'nested-asyncio-run', code: 'ASN005', summary: 'asyncio.run() called while an event loop is already running.' },
    { name: 'loop-starvation', code: 'ASN006', summary: 'A loop in a coroutine that never yields to the event loop.' },
    { name: 'unclosed-async-resource', code: 'ASN007', summary: 'An async resource (session, stream, ...) is opened and never closed.' },
];

export const SEVERITIES = ['error', 'warning', 'information', 'hint'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const IMPORT_STRATEGIES = ['fromEnvironment', 'useBundled'] as const;
export type ImportStrategy = (typeof IMPORT_STRATEGIES)[number];

export const TRACE_LEVELS = ['off', 'messages', 'verbose'] as const;
export type TraceLevel = (typeof TRACE_LEVELS)[number];

/** Minimum Python that can run the server (asyncsense requires-python). */
export const MIN_PYTHON: readonly [number, number] = [3, 10];

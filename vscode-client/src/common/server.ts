// How the server is started: `<python> -m asyncsense server` over stdio, either
// with asyncsense from the user's environment or with the copy bundled in the
// .vsix (bundled/libs on PYTHONPATH). Shared by the extension and by the Node
// integration test, so the test starts the server exactly as the extension does.
// No `vscode` import here.

import * as fs from 'fs';
import * as path from 'path';
import { ImportStrategy, MIN_PYTHON } from './constants';
import { InterpreterSource, ProbeFn, ProbeInfo, ResolveInput, resolveInterpreter } from './interpreter';

export type ServerMode = 'environment' | 'bundled';

/** What vscode-languageclient's Executable needs (command, args, options.cwd/env). */
export interface ServerLaunch {
    command: string;
    args: string[];
    options: { cwd: string; env: NodeJS.ProcessEnv };
}

export interface ServerPlan {
    launch: ServerLaunch;
    mode: ServerMode;
    /** The user's interpreter (absolute), sent to the server for jedi. */
    userInterpreter: string;
    source: InterpreterSource;
    pythonVersion: string;
    /** asyncsense version that will run (null when unknown). */
    serverVersion: string | null;
    /** Human-readable lines for the output channel. */
    log: string[];
}

export type PlanResult = { ok: true; plan: ServerPlan } | { ok: false; error: string; log: string[] };

export const SERVER_ARGS: readonly string[] = ['-m', 'asyncsense', 'server'];

export function bundledLibsPath(extensionPath: string): string {
    return path.join(extensionPath, 'bundled', 'libs');
}

/** The server command line and environment for a given interpreter and mode. */
export function buildServerLaunch(opts: {
    python: string;
    mode: ServerMode;
    extensionPath: string;
    cwd: string;
    baseEnv: NodeJS.ProcessEnv;
}): ServerLaunch {
    const env: NodeJS.ProcessEnv = { ...opts.baseEnv };
    if (opts.mode === 'bundled') {
        const libs = bundledLibsPath(opts.extensionPath);
        // Bundled libraries first so that an old asyncsense (or pygls) in the
        // user's environment does not shadow them.
        env.PYTHONPATH = env.PYTHONPATH ? `${libs}${path.delimiter}${env.PYTHONPATH}` : libs;
    }
    return { command: opts.python, args: [...SERVER_ARGS], options: { cwd: opts.cwd, env } };
}

/** A key that changes exactly when the server process must be restarted. */
export function launchKey(plan: ServerPlan): string {
    const { command, args, options } = plan.launch;
    return JSON.stringify([command, args, options.cwd, plan.mode, options.env.PYTHONPATH ?? null]);
}

function versionString(info: ProbeInfo): string {
    return info.version.join('.');
}

function atLeast(version: readonly number[], min: readonly number[]): boolean {
    for (let i = 0; i < min.length; i++) {
        const v = version[i] ?? 0;
        if (v !== min[i]) {
            return v > min[i];
        }
    }
    return true;
}

export interface PlanInput {
    resolve: ResolveInput;
    importStrategy: ImportStrategy;
    extensionPath: string;
    cwd: string;
    baseEnv: NodeJS.ProcessEnv;
    probe: ProbeFn;
    /** Checked before using the bundled server (tests may replace it). */
    bundledExists?: (libs: string) => boolean;
}

const SOURCE_TEXT: Record<InterpreterSource, string> = {
    'python-extension': 'selected in the Python extension',
    setting: 'from the asyncsense.interpreter setting',
    default: 'default, found on PATH',
};

/**
 * Resolves the interpreter, probes it and decides how to start the server:
 * with asyncsense from that environment when it is importable there (and the
 * import strategy allows it), else with the bundled copy.
 */
export async function planServer(input: PlanInput): Promise<PlanResult> {
    const log: string[] = [];
    const resolved = await resolveInterpreter(input.resolve);
    for (const note of resolved.notes) {
        log.push(note);
    }
    log.push(`Python interpreter: ${resolved.command} (${SOURCE_TEXT[resolved.source]}).`);

    const probe = await input.probe(resolved.command, { cwd: input.cwd, env: input.baseEnv });
    if (!probe.ok) {
        const hint =
            resolved.source === 'default'
                ? 'Install Python 3.10+ and select it with "Python: Select Interpreter", or set "asyncsense.interpreter".'
                : resolved.source === 'setting'
                  ? 'Fix the "asyncsense.interpreter" setting.'
                  : 'Select another interpreter with "Python: Select Interpreter".';
        return { ok: false, error: `${probe.error} ${hint}`, log };
    }
    const info = probe.info;
    const userInterpreter = info.executable || resolved.command;
    if (!atLeast(info.version, MIN_PYTHON)) {
        return {
            ok: false,
            error:
                `asyncsense needs Python ${MIN_PYTHON.join('.')} or newer; ${userInterpreter} is ` +
                `Python ${versionString(info)}. Select a newer interpreter.`,
            log,
        };
    }
    log.push(`It is Python ${versionString(info)} at ${userInterpreter}.`);

    let mode: ServerMode;
    let serverVersion: string | null;
    if (input.importStrategy === 'fromEnvironment' && info.asyncsense) {
        mode = 'environment';
        serverVersion = info.asyncsense.version;
        log.push(
            `Using asyncsense ${serverVersion ?? '(unknown version)'} installed in that environment` +
                (info.asyncsense.file ? ` (${info.asyncsense.file}).` : '.'),
        );
    } else {
        if (input.importStrategy === 'useBundled') {
            log.push('asyncsense.importStrategy is "useBundled".');
        } else {
            log.push(`asyncsense is not importable there (${info.asyncsenseError ?? 'not installed'}).`);
        }
        const libs = bundledLibsPath(input.extensionPath);
        const exists = input.bundledExists ?? ((p: string) => fs.existsSync(path.join(p, 'asyncsense')));
        if (!exists(libs)) {
            return {
                ok: false,
                error:
                    `asyncsense is not installed for ${userInterpreter} and this extension has no bundled server ` +
                    `(${libs} is missing). Run "${userInterpreter} -m pip install asyncsense" or reinstall the extension.`,
                log,
            };
        }
        mode = 'bundled';
        // Check that the bundled copy imports with this interpreter too.
        const bundledEnv = buildServerLaunch({
            python: resolved.command,
            mode,
            extensionPath: input.extensionPath,
            cwd: input.cwd,
            baseEnv: input.baseEnv,
        }).options.env;
        const bundledProbe = await input.probe(resolved.command, { cwd: input.cwd, env: bundledEnv });
        if (!bundledProbe.ok || !bundledProbe.info.asyncsense) {
            const why = bundledProbe.ok ? bundledProbe.info.asyncsenseError : bundledProbe.error;
            return {
                ok: false,
                error: `The bundled asyncsense server does not import with ${userInterpreter}: ${why ?? 'unknown error'}`,
                log,
            };
        }
        serverVersion = bundledProbe.info.asyncsense.version;
        log.push(`Using the asyncsense ${serverVersion ?? ''} server bundled with the extension (${libs}).`.replace('  ', ' '));
    }
    log.push(`jedi reads the user's code with ${userInterpreter} (sent as the "interpreter" setting).`);

    const launch = buildServerLaunch({
        python: resolved.command,
        mode,
        extensionPath: input.extensionPath,
        cwd: input.cwd,
        baseEnv: input.baseEnv,
    });
    return {
        ok: true,
        plan: {
            launch,
            mode,
            userInterpreter,
            source: resolved.source,
            pythonVersion: versionString(info),
            serverVersion,
            log,
        },
    };
}

/** The command line as one would type it (for the log). */
export function describeLaunch(launch: ServerLaunch): string {
    const quote = (s: string) => (/[\s"']/.test(s) ? JSON.stringify(s) : s);
    const pythonPath = launch.options.env.PYTHONPATH;
    const prefix = pythonPath ? `PYTHONPATH=${quote(pythonPath)} ` : '';
    return `${prefix}${[launch.command, ...launch.args].map(quote).join(' ')} (cwd: ${launch.options.cwd})`;
}

// Which Python runs asyncsense, in this order:
//   1. the interpreter selected in the Python extension (when it is installed);
//   2. the `asyncsense.interpreter` setting;
//   3. `python3` on PATH (`python` on Windows).
// Then a probe asks that interpreter what it is and whether it can import the
// asyncsense server. No `vscode` import here: unit tests run without VS Code.

import { execFile } from 'child_process';
import * as os from 'os';
import * as path from 'path';

export type InterpreterSource = 'python-extension' | 'setting' | 'default';

export interface ResolvedInterpreter {
    /** Executable (absolute path, or a bare command looked up on PATH). */
    command: string;
    source: InterpreterSource;
    /** Notes for the output channel (why a step was skipped). */
    notes: string[];
}

export interface ResolveInput {
    /** Whether the Python extension (ms-python.python) is installed and enabled. */
    pythonExtensionPresent: boolean;
    /** Asks the Python extension for the selected interpreter's executable. */
    getPythonExtensionInterpreter?: () => Promise<string | undefined>;
    /** The `asyncsense.interpreter` setting as written. */
    setting: string;
    /** First workspace folder (for `${workspaceFolder}` and relative paths). */
    workspaceFolder?: string;
    platform?: NodeJS.Platform;
    env?: NodeJS.ProcessEnv;
    homedir?: string;
}

export function defaultPythonCommand(platform: NodeJS.Platform = process.platform): string {
    return platform === 'win32' ? 'python' : 'python3';
}

/** Expands `${workspaceFolder}`, `${userHome}`, `${env:NAME}` and a leading `~` in a setting path. */
export function expandPath(
    value: string,
    opts: { workspaceFolder?: string; env?: NodeJS.ProcessEnv; homedir?: string } = {},
): string {
    const home = opts.homedir ?? os.homedir();
    const env = opts.env ?? process.env;
    let out = value.trim();
    out = out.replace(/\$\{env:([^}]+)\}/g, (_m, name: string) => env[name] ?? '');
    out = out.replace(/\$\{userHome\}/g, home);
    if (opts.workspaceFolder !== undefined) {
        out = out.replace(/\$\{workspaceFolder\}/g, opts.workspaceFolder);
    }
    if (out === '~' || out.startsWith('~/') || out.startsWith('~\\')) {
        out = path.join(home, out.slice(1));
    }
    // A relative path with a separator is taken from the workspace folder; a bare
    // name ("python3.12") is left for PATH lookup.
    const hasSeparator = out.includes('/') || out.includes('\\');
    if (hasSeparator && !path.isAbsolute(out) && opts.workspaceFolder !== undefined) {
        out = path.join(opts.workspaceFolder, out);
    }
    return out;
}

export async function resolveInterpreter(input: ResolveInput): Promise<ResolvedInterpreter> {
    const notes: string[] = [];
    if (input.pythonExtensionPresent && input.getPythonExtensionInterpreter) {
        try {
            const selected = await input.getPythonExtensionInterpreter();
            if (selected && selected.trim() !== '') {
                return { command: selected, source: 'python-extension', notes };
            }
            notes.push('The Python extension has no interpreter selected.');
        } catch (err) {
            notes.push(`Could not ask the Python extension for its interpreter: ${errorMessage(err)}`);
        }
    } else {
        notes.push('The Python extension is not installed.');
    }
    if (input.setting !== '') {
        const expanded = expandPath(input.setting, {
            workspaceFolder: input.workspaceFolder,
            env: input.env,
            homedir: input.homedir,
        });
        if (expanded !== '') {
            return { command: expanded, source: 'setting', notes };
        }
    }
    return { command: defaultPythonCommand(input.platform), source: 'default', notes };
}

export interface ProbeInfo {
    /** sys.executable: an absolute path even when the command was "python3". */
    executable: string;
    version: [number, number, number];
    /** asyncsense as that interpreter sees it (null: not importable). */
    asyncsense: { version: string | null; file: string | null } | null;
    /** Why asyncsense is not usable there, when it is not. */
    asyncsenseError: string | null;
}

export type ProbeResult = { ok: true; info: ProbeInfo } | { ok: false; error: string };

export type ProbeFn = (command: string, options: { cwd: string; env: NodeJS.ProcessEnv }) => Promise<ProbeResult>;

// Run with `python -c`: prints one JSON line. It imports the server module the
// same way `python -m asyncsense server` will, so a broken install is found here.
export const PROBE_SCRIPT = [
    'import json, sys',
    'info = {"executable": sys.executable, "version": list(sys.version_info[:3]), "asyncsense": None, "asyncsenseError": None}',
    'try:',
    '    import asyncsense, importlib.util',
    '    if importlib.util.find_spec("asyncsense.server") is None or importlib.util.find_spec("asyncsense.__main__") is None:',
    '        raise ImportError("this asyncsense has no language server (asyncsense.server)")',
    '    info["asyncsense"] = {"version": getattr(asyncsense, "__version__", None), "file": getattr(asyncsense, "__file__", None)}',
    'except Exception as exc:',
    '    info["asyncsenseError"] = "%s: %s" % (type(exc).__name__, exc)',
    'sys.stdout.write(json.dumps(info) + "\\n")',
].join('\n');

export const probeInterpreter: ProbeFn = (command, options) =>
    new Promise((resolve) => {
        execFile(
            command,
            ['-c', PROBE_SCRIPT],
            { cwd: options.cwd, env: options.env, timeout: 30_000, windowsHide: true },
            (err, stdout, stderr) => {
                if (err) {
                    const code = (err as NodeJS.ErrnoException).code;
                    if (code === 'ENOENT') {
                        resolve({ ok: false, error: `${command} was not found.` });
                    } else {
                        const detail = (stderr || err.message).trim().split('\n').slice(-3).join(' | ');
                        resolve({ ok: false, error: `${command} could not run: ${detail}` });
                    }
                    return;
                }
                const line = stdout.trim().split('\n').pop() ?? '';
                try {
                    const info = JSON.parse(line) as ProbeInfo;
                    if (typeof info.executable !== 'string' || !Array.isArray(info.version)) {
                        throw new Error('unexpected output');
                    }
                    resolve({ ok: true, info });
                } catch {
                    resolve({ ok: false, error: `${command} did not answer the probe (output: ${line.slice(0, 200)})` });
                }
            },
        );
    });

export function errorMessage(err: unknown): string {
    return err instanceof Error ? err.message : String(err);
}

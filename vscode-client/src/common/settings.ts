// Reading the "asyncsense" settings section and turning it into what the server
// receives: initializationOptions {settings: S} and the answer to
// workspace/configuration for section "asyncsense" (the same S).
//
// No `vscode` import here: a ConfigurationLike is enough, so unit tests can run
// without a VS Code window.

import { IMPORT_STRATEGIES, ImportStrategy, SEVERITIES, Severity, TRACE_LEVELS, TraceLevel } from './constants';

/** The subset of vscode.WorkspaceConfiguration this module needs. */
export interface ConfigurationLike {
    get(section: string): unknown;
}

export interface ExtraBlockingCall {
    name: string;
    category?: string;
    replacement?: string;
}

/** What the server understands (initializationOptions.settings and workspace/configuration). */
export interface ServerSettings {
    select: string[];
    ignore: string[];
    severity: Record<string, Severity>;
    /** The Python whose site-packages jedi reads for the user's code. */
    interpreter: string | null;
    extraBlockingCalls: ExtraBlockingCall[];
    strictGather: boolean;
}

/** Settings only the client uses. */
export interface ClientSettings {
    /** The `asyncsense.interpreter` setting as written (may be empty). */
    interpreterSetting: string;
    importStrategy: ImportStrategy;
    fixAll: boolean;
    trace: TraceLevel;
}

export interface ReadSettings {
    server: Omit<ServerSettings, 'interpreter'>;
    client: ClientSettings;
    /** Values that were ignored because they were malformed (shown in the log). */
    warnings: string[];
}

export interface InitializationOptions {
    settings: ServerSettings;
}

function stringList(value: unknown, key: string, warnings: string[]): string[] {
    if (value === undefined || value === null) {
        return [];
    }
    if (!Array.isArray(value)) {
        warnings.push(`asyncsense.${key} should be a list of rule names or codes; ignored.`);
        return [];
    }
    const out: string[] = [];
    for (const item of value) {
        if (typeof item !== 'string' || item.trim() === '') {
            warnings.push(`asyncsense.${key}: ${JSON.stringify(item)} is not a rule name or code; ignored.`);
            continue;
        }
        const trimmed = item.trim();
        if (!out.includes(trimmed)) {
            out.push(trimmed);
        }
    }
    return out;
}

function severityMap(value: unknown, warnings: string[]): Record<string, Severity> {
    const out: Record<string, Severity> = {};
    if (value === undefined || value === null) {
        return out;
    }
    if (typeof value !== 'object' || Array.isArray(value)) {
        warnings.push('asyncsense.severity should be an object {rule: severity}; ignored.');
        return out;
    }
    for (const [rule, sev] of Object.entries(value as Record<string, unknown>)) {
        if (typeof sev === 'string' && (SEVERITIES as readonly string[]).includes(sev)) {
            out[rule] = sev as Severity;
        } else {
            warnings.push(
                `asyncsense.severity.${rule}: ${JSON.stringify(sev)} is not one of ${SEVERITIES.join(', ')}; ignored.`,
            );
        }
    }
    return out;
}

function extraCalls(value: unknown, warnings: string[]): ExtraBlockingCall[] {
    if (value === undefined || value === null) {
        return [];
    }
    if (!Array.isArray(value)) {
        warnings.push('asyncsense.extraBlockingCalls should be a list; ignored.');
        return [];
    }
    const out: ExtraBlockingCall[] = [];
    for (const item of value) {
        if (typeof item === 'string' && item.trim() !== '') {
            out.push({ name: item.trim() });
            continue;
        }
        if (item && typeof item === 'object' && typeof (item as { name?: unknown }).name === 'string') {
            const raw = item as { name: string; category?: unknown; replacement?: unknown };
            if (raw.name.trim() === '') {
                warnings.push('asyncsense.extraBlockingCalls: an entry has an empty name; ignored.');
                continue;
            }
            const call: ExtraBlockingCall = { name: raw.name.trim() };
            if (typeof raw.category === 'string' && raw.category !== '') {
                call.category = raw.category;
            }
            if (typeof raw.replacement === 'string' && raw.replacement !== '') {
                call.replacement = raw.replacement;
            }
            out.push(call);
            continue;
        }
        warnings.push(`asyncsense.extraBlockingCalls: ${JSON.stringify(item)} has no "name"; ignored.`);
    }
    return out;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
    return typeof value === 'string' && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

/** Reads and validates the asyncsense section. */
export function readSettings(config: ConfigurationLike): ReadSettings {
    const warnings: string[] = [];
    const interpreter = config.get('interpreter');
    return {
        server: {
            select: stringList(config.get('select'), 'select', warnings),
            ignore: stringList(config.get('ignore'), 'ignore', warnings),
            severity: severityMap(config.get('severity'), warnings),
            extraBlockingCalls: extraCalls(config.get('extraBlockingCalls'), warnings),
            strictGather: config.get('strictGather') === true,
        },
        client: {
            interpreterSetting: typeof interpreter === 'string' ? interpreter.trim() : '',
            importStrategy: oneOf(config.get('importStrategy'), IMPORT_STRATEGIES, 'fromEnvironment'),
            fixAll: config.get('fixAll') !== false,
            trace: oneOf(config.get('trace.server'), TRACE_LEVELS, 'off'),
        },
        warnings,
    };
}

/** The server's settings object S, with the user's interpreter for jedi. */
export function toServerSettings(read: ReadSettings, userInterpreter: string | undefined): ServerSettings {
    return {
        select: [...read.server.select],
        ignore: [...read.server.ignore],
        severity: { ...read.server.severity },
        interpreter: userInterpreter && userInterpreter !== '' ? userInterpreter : null,
        extraBlockingCalls: read.server.extraBlockingCalls.map((c) => ({ ...c })),
        strictGather: read.server.strictGather,
    };
}

export function toInitializationOptions(settings: ServerSettings): InitializationOptions {
    return { settings };
}

/** Payload of workspace/didChangeConfiguration (the usual {settings: {section: S}} shape). */
export function toDidChangeConfigurationParams(settings: ServerSettings): { settings: { asyncsense: ServerSettings } } {
    return { settings: { asyncsense: settings } };
}

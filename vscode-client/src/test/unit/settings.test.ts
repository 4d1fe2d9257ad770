import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Commands, RULES, SERVER_CHECK_WORKSPACE } from '../../common/constants';
import {
    ConfigurationLike,
    readSettings,
    toDidChangeConfigurationParams,
    toInitializationOptions,
    toServerSettings,
} from '../../common/settings';

function config(values: Record<string, unknown>): ConfigurationLike {
    return { get: (key: string) => values[key] };
}

// out/test-build/test/unit -> vscode-client
const packageJson = JSON.parse(
    fs.readFileSync(path.join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8'),
) as {
    contributes: {
        configuration: { properties: Record<string, { default: unknown; description?: string; markdownDescription?: string; properties?: Record<string, unknown> }> };
        commands: { command: string; title: string }[];
    };
    activationEvents: string[];
};
const properties = packageJson.contributes.configuration.properties;

/** Settings as VS Code would return them with only package.json defaults. */
function defaults(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, schema] of Object.entries(properties)) {
        out[key.slice('asyncsense.'.length)] = schema.default;
    }
    return out;
}

describe('settings -> initializationOptions', () => {
    test('package.json defaults give the server an empty, permissive configuration', () => {
        const read = readSettings(config(defaults()));
        assert.deepEqual(read.warnings, []);
        const init = toInitializationOptions(toServerSettings(read, '/venv/bin/python'));
        assert.deepEqual(init, {
            settings: {
                select: [],
                ignore: [],
                severity: {},
                interpreter: '/venv/bin/python',
                extraBlockingCalls: [],
                strictGather: false,
            },
        });
        assert.deepEqual(read.client, {
            interpreterSetting: '',
            importStrategy: 'fromEnvironment',
            fixAll: true,
            trace: 'off',
        });
    });

    test('the server object has exactly the contract keys (fixAll and trace stay client-side)', () => {
        const s = toServerSettings(
            readSettings(config({ ...defaults(), fixAll: false, 'trace.server': 'verbose' })),
            undefined,
        );
        assert.deepEqual(Object.keys(s).sort(), [
            'extraBlockingCalls',
            'ignore',
            'interpreter',
            'select',
            'severity',
            'strictGather',
        ]);
        assert.equal(s.interpreter, null);
    });

    test('values are mapped and normalised', () => {
        const read = readSettings(
            config({
                select: ['blocking-call', ' ASN003 ', 'blocking-call'],
                ignore: ['loop-starvation'],
                severity: { 'dangling-task': 'error', ASN006: 'hint' },
                extraBlockingCalls: [
                    { name: 'mylib.fetch', category: 'network', replacement: 'mylib.afetch' },
                    { name: 'mylib.crunch' },
                    'mylib.legacy',
                ],
                strictGather: true,
                interpreter: '  ~/venv/bin/python ',
                importStrategy: 'useBundled',
                fixAll: false,
                'trace.server': 'messages',
            }),
        );
        assert.deepEqual(read.warnings, []);
        const s = toServerSettings(read, '/usr/bin/python3.12');
        assert.deepEqual(s, {
            select: ['blocking-call', 'ASN003'],
            ignore: ['loop-starvation'],
            severity: { 'dangling-task': 'error', ASN006: 'hint' },
            interpreter: '/usr/bin/python3.12',
            extraBlockingCalls: [
                { name: 'mylib.fetch', category: 'network', replacement: 'mylib.afetch' },
                { name: 'mylib.crunch' },
                { name: 'mylib.legacy' },
            ],
            strictGather: true,
        });
        assert.deepEqual(read.client, {
            interpreterSetting: '~/venv/bin/python',
            importStrategy: 'useBundled',
            fixAll: false,
            trace: 'messages',
        });
        assert.deepEqual(toDidChangeConfigurationParams(s), { settings: { asyncsense: s } });
    });

    test('malformed values are dropped with a warning instead of reaching the server', () => {
        const read = readSettings(
            config({
                select: 'blocking-call',
                ignore: ['', 42, 'dangling-task'],
                severity: { 'blocking-call': 'fatal', 'dangling-task': 'warning' },
                extraBlockingCalls: [{ category: 'network' }, { name: '' }, 7],
                strictGather: 'yes',
                importStrategy: 'sometimes',
                'trace.server': 'loud',
            }),
        );
        const s = toServerSettings(read, undefined);
        assert.deepEqual(s.select, []);
        assert.deepEqual(s.ignore, ['dangling-task']);
        assert.deepEqual(s.severity, { 'dangling-task': 'warning' });
        assert.deepEqual(s.extraBlockingCalls, []);
        assert.equal(s.strictGather, false);
        assert.equal(read.client.importStrategy, 'fromEnvironment');
        assert.equal(read.client.trace, 'off');
        assert.equal(read.warnings.length, 7, read.warnings.join('\n'));
        assert.ok(read.warnings.some((w) => w.includes('asyncsense.severity.blocking-call')));
    });

    test('the returned object is a copy (mutating it does not change later answers)', () => {
        const read = readSettings(config({ select: ['blocking-call'] }));
        const a = toServerSettings(read, undefined);
        a.select.push('x');
        assert.deepEqual(toServerSettings(read, undefined).select, ['blocking-call']);
    });
});

describe('package.json contributions', () => {
    test('every setting the client reads is contributed, with a description', () => {
        const expected = [
            'asyncsense.select',
            'asyncsense.ignore',
            'asyncsense.severity',
            'asyncsense.interpreter',
            'asyncsense.importStrategy',
            'asyncsense.extraBlockingCalls',
            'asyncsense.strictGather',
            'asyncsense.fixAll',
            'asyncsense.trace.server',
        ];
        assert.deepEqual(Object.keys(properties).sort(), [...expected].sort());
        for (const [key, schema] of Object.entries(properties)) {
            assert.ok(schema.description ?? schema.markdownDescription, `${key} has no description`);
        }
    });

    test('severity lists every rule', () => {
        const sev = properties['asyncsense.severity'].properties ?? {};
        assert.deepEqual(Object.keys(sev).sort(), RULES.map((r) => r.name).sort());
    });

    test('the client commands are contributed', () => {
        const contributed: string[] = packageJson.contributes.commands.map((c) => c.command).sort();
        // The server's own command id must not be contributed: vscode-languageclient registers it.
        assert.equal(contributed.indexOf(SERVER_CHECK_WORKSPACE), -1);
        assert.deepEqual(contributed, Object.values(Commands).sort());
    });

    test('activates on Python files and notebooks', () => {
        assert.ok(packageJson.activationEvents.includes('onLanguage:python'));
        assert.ok(packageJson.activationEvents.some((e) => e.startsWith('onNotebook:')));
    });
});

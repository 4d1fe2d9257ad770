import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ProbeFn, ProbeInfo } from '../../common/interpreter';
import { buildServerLaunch, bundledLibsPath, describeLaunch, launchKey, planServer, PlanInput, SERVER_ARGS } from '../../common/server';

const EXT = '/ext/asyncsense-0.1.0';
const LIBS = path.join(EXT, 'bundled', 'libs');

function info(overrides: Partial<ProbeInfo> = {}): ProbeInfo {
    return {
        executable: '/venv/bin/python',
        version: [3, 12, 1],
        asyncsense: { version: '0.1.0', file: '/venv/lib/python3.12/site-packages/asyncsense/__init__.py' },
        asyncsenseError: null,
        ...overrides,
    };
}

/** A probe that answers `withoutBundle` normally and `withBundle` when bundled/libs is on PYTHONPATH. */
function fakeProbe(withoutBundle: ProbeInfo | string, withBundle?: ProbeInfo): { probe: ProbeFn; calls: { command: string; pythonPath?: string }[] } {
    const calls: { command: string; pythonPath?: string }[] = [];
    const probe: ProbeFn = (command, options) => {
        calls.push({ command, pythonPath: options.env.PYTHONPATH });
        const bundled = options.env.PYTHONPATH?.startsWith(LIBS) === true;
        const answer = bundled && withBundle ? withBundle : withoutBundle;
        return Promise.resolve(typeof answer === 'string' ? { ok: false, error: answer } : { ok: true, info: answer });
    };
    return { probe, calls };
}

function input(probe: ProbeFn, overrides: Partial<PlanInput> = {}): PlanInput {
    return {
        resolve: { pythonExtensionPresent: false, setting: '/venv/bin/python' },
        importStrategy: 'fromEnvironment',
        extensionPath: EXT,
        cwd: '/work/project',
        baseEnv: { PATH: '/usr/bin', HOME: '/home/u' },
        probe,
        bundledExists: () => true,
        ...overrides,
    };
}

describe('server command line', () => {
    test('is `<python> -m asyncsense server` over stdio', () => {
        assert.deepEqual(SERVER_ARGS, ['-m', 'asyncsense', 'server']);
        const launch = buildServerLaunch({ python: '/venv/bin/python', mode: 'environment', extensionPath: EXT, cwd: '/p', baseEnv: { A: '1' } });
        assert.deepEqual(launch, { command: '/venv/bin/python', args: ['-m', 'asyncsense', 'server'], options: { cwd: '/p', env: { A: '1' } } });
    });

    test('the bundled server puts bundled/libs first on PYTHONPATH', () => {
        const a = buildServerLaunch({ python: 'python3', mode: 'bundled', extensionPath: EXT, cwd: '/p', baseEnv: {} });
        assert.equal(a.options.env.PYTHONPATH, LIBS);
        assert.equal(bundledLibsPath(EXT), LIBS);
        const b = buildServerLaunch({ python: 'python3', mode: 'bundled', extensionPath: EXT, cwd: '/p', baseEnv: { PYTHONPATH: '/mine' } });
        assert.equal(b.options.env.PYTHONPATH, `${LIBS}${path.delimiter}/mine`);
        assert.match(describeLaunch(b), /^PYTHONPATH=.* python3 -m asyncsense server \(cwd: \/p\)$/);
    });

    test('does not modify the environment it is given', () => {
        const env = { PYTHONPATH: '/mine' };
        buildServerLaunch({ python: 'python3', mode: 'bundled', extensionPath: EXT, cwd: '/p', baseEnv: env });
        assert.deepEqual(env, { PYTHONPATH: '/mine' });
    });
});

describe('server plan', () => {
    test('asyncsense importable in the environment: run it from there', async () => {
        const { probe, calls } = fakeProbe(info());
        const r = await planServer(input(probe));
        assert.ok(r.ok);
        assert.equal(r.plan.mode, 'environment');
        assert.equal(r.plan.launch.command, '/venv/bin/python');
        assert.equal(r.plan.launch.options.env.PYTHONPATH, undefined);
        assert.equal(r.plan.userInterpreter, '/venv/bin/python');
        assert.equal(calls.length, 1);
        assert.match(r.plan.log.join('\n'), /installed in that environment/);
    });

    test('not importable: the bundled server, run by the same interpreter, and jedi still reads the user environment', async () => {
        const { probe, calls } = fakeProbe(
            info({ asyncsense: null, asyncsenseError: "ModuleNotFoundError: No module named 'asyncsense'" }),
            info({ asyncsense: { version: '0.1.0', file: `${LIBS}/asyncsense/__init__.py` } }),
        );
        const r = await planServer(input(probe));
        assert.ok(r.ok, r.ok ? '' : r.error);
        assert.equal(r.plan.mode, 'bundled');
        assert.equal(r.plan.launch.command, '/venv/bin/python');
        assert.deepEqual(r.plan.launch.args, ['-m', 'asyncsense', 'server']);
        assert.equal(r.plan.launch.options.env.PYTHONPATH, LIBS);
        assert.equal(r.plan.userInterpreter, '/venv/bin/python');
        assert.deepEqual(calls.map((c) => c.pythonPath), [undefined, LIBS]);
        const log = r.plan.log.join('\n');
        assert.match(log, /not importable there \(ModuleNotFoundError/);
        assert.match(log, /bundled with the extension/);
    });

    test('importStrategy useBundled: bundled even when the environment has asyncsense', async () => {
        const { probe } = fakeProbe(info());
        const r = await planServer(input(probe, { importStrategy: 'useBundled' }));
        assert.ok(r.ok);
        assert.equal(r.plan.mode, 'bundled');
    });

    test('python3 on PATH: the server gets the absolute interpreter for jedi', async () => {
        const { probe } = fakeProbe(info({ executable: '/usr/bin/python3.11', version: [3, 11, 2] }));
        const r = await planServer(input(probe, { resolve: { pythonExtensionPresent: false, setting: '', platform: 'linux' } }));
        assert.ok(r.ok);
        assert.equal(r.plan.launch.command, 'python3');
        assert.equal(r.plan.userInterpreter, '/usr/bin/python3.11');
        assert.equal(r.plan.source, 'default');
    });

    test('errors are explicit: no interpreter, old Python, no bundle, broken bundle', async () => {
        const missing = await planServer(input(fakeProbe('python3 was not found.').probe, { resolve: { pythonExtensionPresent: false, setting: '' } }));
        assert.ok(!missing.ok);
        assert.match(missing.error, /not found\. Install Python 3\.10\+/);

        const old = await planServer(input(fakeProbe(info({ version: [3, 9, 18] })).probe));
        assert.match(old.ok ? '' : old.error, /needs Python 3\.10 or newer; .* is Python 3\.9\.18/);

        const notImportable = info({ asyncsense: null, asyncsenseError: 'ModuleNotFoundError' });
        const noBundle = await planServer(input(fakeProbe(notImportable).probe, { bundledExists: () => false }));
        assert.match(noBundle.ok ? '' : noBundle.error, /no bundled server/);

        const broken = await planServer(input(fakeProbe(notImportable, info({ asyncsense: null, asyncsenseError: 'SyntaxError: bad' })).probe));
        assert.match(broken.ok ? '' : broken.error, /bundled asyncsense server does not import .*SyntaxError: bad/);
    });

    test('the launch key changes with the interpreter and the mode only', async () => {
        const a = await planServer(input(fakeProbe(info()).probe));
        const b = await planServer(input(fakeProbe(info()).probe));
        const c = await planServer(input(fakeProbe(info()).probe, { resolve: { pythonExtensionPresent: false, setting: '/other/python' } }));
        const d = await planServer(input(fakeProbe(info()).probe, { importStrategy: 'useBundled' }));
        assert.ok(a.ok && b.ok && c.ok && d.ok);
        assert.equal(launchKey(a.plan), launchKey(b.plan));
        assert.notEqual(launchKey(a.plan), launchKey(c.plan));
        assert.notEqual(launchKey(a.plan), launchKey(d.plan));
    });
});

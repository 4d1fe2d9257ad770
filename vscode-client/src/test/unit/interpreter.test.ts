import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { defaultPythonCommand, expandPath, probeInterpreter, resolveInterpreter } from '../../common/interpreter';

const PYTHON = process.env.PYTHON ?? 'python3';

describe('interpreter resolution order', () => {
    test('1. the interpreter selected in the Python extension wins over the setting', async () => {
        const r = await resolveInterpreter({
            pythonExtensionPresent: true,
            getPythonExtensionInterpreter: () => Promise.resolve('/envs/selected/bin/python'),
            setting: '/from/setting/python',
            platform: 'linux',
        });
        assert.deepEqual([r.command, r.source], ['/envs/selected/bin/python', 'python-extension']);
    });

    test('2. the asyncsense.interpreter setting when the Python extension is absent', async () => {
        let asked = false;
        const r = await resolveInterpreter({
            pythonExtensionPresent: false,
            getPythonExtensionInterpreter: () => {
                asked = true;
                return Promise.resolve('/should/not/be/used');
            },
            setting: '/from/setting/python',
            platform: 'linux',
        });
        assert.deepEqual([r.command, r.source], ['/from/setting/python', 'setting']);
        assert.equal(asked, false);
    });

    test('2. the setting when the Python extension has no interpreter selected, or fails', async () => {
        const none = await resolveInterpreter({
            pythonExtensionPresent: true,
            getPythonExtensionInterpreter: () => Promise.resolve(undefined),
            setting: '/from/setting/python',
        });
        assert.equal(none.source, 'setting');
        assert.match(none.notes.join(' '), /no interpreter selected/);
        const failing = await resolveInterpreter({
            pythonExtensionPresent: true,
            getPythonExtensionInterpreter: () => Promise.reject(new Error('API not ready')),
            setting: '/from/setting/python',
        });
        assert.equal(failing.source, 'setting');
        assert.match(failing.notes.join(' '), /API not ready/);
    });

    test('3. python3 on PATH (python on Windows) when nothing else is set', async () => {
        const linux = await resolveInterpreter({ pythonExtensionPresent: false, setting: '', platform: 'linux' });
        assert.deepEqual([linux.command, linux.source], ['python3', 'default']);
        const win = await resolveInterpreter({ pythonExtensionPresent: false, setting: '', platform: 'win32' });
        assert.equal(win.command, 'python');
        assert.equal(defaultPythonCommand('darwin'), 'python3');
    });

    test('setting paths expand ${workspaceFolder}, ${userHome}, ${env:X}, ~ and relative paths', async () => {
        const opts = { workspaceFolder: '/ws', homedir: '/home/u', env: { VENV: '/opt/venv' } };
        assert.equal(expandPath('${workspaceFolder}/.venv/bin/python', opts), '/ws/.venv/bin/python');
        assert.equal(expandPath('${userHome}/py/bin/python', opts), '/home/u/py/bin/python');
        assert.equal(expandPath('${env:VENV}/bin/python', opts), '/opt/venv/bin/python');
        assert.equal(expandPath('~/venv/bin/python', opts), path.join('/home/u', 'venv/bin/python'));
        assert.equal(expandPath('.venv/bin/python', opts), path.join('/ws', '.venv/bin/python'));
        assert.equal(expandPath('python3.12', opts), 'python3.12');
        const r = await resolveInterpreter({
            pythonExtensionPresent: false,
            setting: '${workspaceFolder}/.venv/bin/python',
            workspaceFolder: '/ws',
        });
        assert.equal(r.command, '/ws/.venv/bin/python');
    });
});

describe('interpreter probe', () => {
    test(`reports executable, version and asyncsense for ${PYTHON}`, async () => {
        const r = await probeInterpreter(PYTHON, { cwd: os.tmpdir(), env: process.env });
        assert.ok(r.ok, r.ok ? '' : r.error);
        assert.ok(path.isAbsolute(r.info.executable));
        assert.equal(r.info.version.length, 3);
        // Either importable (with a version) or with a reason.
        assert.ok(r.info.asyncsense !== null || r.info.asyncsenseError !== null);
    });

    test('says why when asyncsense is not importable there', async () => {
        // A broken `asyncsense`, first on PYTHONPATH.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asyncsense-probe-'));
        fs.mkdirSync(path.join(dir, 'asyncsense'));
        fs.writeFileSync(path.join(dir, 'asyncsense', '__init__.py'), 'raise ImportError("broken install")\n');
        try {
            const r = await probeInterpreter(PYTHON, { cwd: os.tmpdir(), env: { ...process.env, PYTHONPATH: dir } });
            assert.ok(r.ok);
            assert.equal(r.info.asyncsense, null);
            assert.match(r.info.asyncsenseError ?? '', /ImportError: broken install/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    test('a missing interpreter gives a clear error, not an exception', async () => {
        const r = await probeInterpreter('/no/such/python3', { cwd: os.tmpdir(), env: process.env });
        assert.ok(!r.ok);
        assert.match(r.error, /\/no\/such\/python3 was not found/);
    });
});

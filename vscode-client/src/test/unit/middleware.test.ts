import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { answerConfiguration, isFixAllKind, RestartPolicy, withoutFixAll } from '../../common/middleware';
import { ServerSettings } from '../../common/settings';

const S: ServerSettings = {
    select: [],
    ignore: ['dangling-task'],
    severity: {},
    interpreter: '/venv/bin/python',
    extraBlockingCalls: [],
    strictGather: false,
};

describe('client middleware', () => {
    test('workspace/configuration: the asyncsense section is answered with S, other sections pass through', () => {
        const answer = answerConfiguration(
            [{ section: 'asyncsense' }, { section: 'python' }, { section: 'asyncsense' }, {}],
            [{ raw: 'vscode view' }, { pythonPath: 'x' }, { raw: 'scoped' }, { all: true }],
            () => S,
        );
        assert.deepEqual(answer, [S, { pythonPath: 'x' }, S, { all: true }]);
    });

    test('fix-all kinds', () => {
        assert.equal(isFixAllKind('source.fixAll.asyncsense'), true);
        assert.equal(isFixAllKind('source.fixAll.asyncsense.sub'), true);
        assert.equal(isFixAllKind('source.fixAll'), false);
        assert.equal(isFixAllKind('source.fixAll.asyncsenseX'), false);
        assert.equal(isFixAllKind('quickfix'), false);
        assert.equal(isFixAllKind(undefined), false);
    });

    test('with fixAll off, fix-all actions are dropped and quick fixes kept', () => {
        const actions = [
            { title: 'Replace with await asyncio.sleep', kind: 'quickfix' },
            { title: 'Fix all asyncsense problems', kind: 'source.fixAll.asyncsense' },
            { title: 'a command', kind: undefined },
        ];
        assert.deepEqual(
            withoutFixAll(actions, (a) => a.kind).map((a) => a.title),
            ['Replace with await asyncio.sleep', 'a command'],
        );
    });

    test('a crashing server is restarted 4 times in 3 minutes, then left stopped', () => {
        const policy = new RestartPolicy();
        const t0 = 1_000_000;
        assert.deepEqual(
            [0, 1, 2, 3, 4].map((i) => policy.shouldRestart(t0 + i * 1000)),
            [true, true, true, true, false],
        );
        assert.equal(policy.recentCrashes, 5);
        // Crashes older than the window are forgotten.
        const spaced = new RestartPolicy();
        for (let i = 0; i < 10; i++) {
            assert.equal(spaced.shouldRestart(t0 + i * 60_000), true, `crash ${i} one minute apart`);
        }
    });
});

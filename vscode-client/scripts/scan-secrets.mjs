// vsce's secret scan (secretlint), run on the extension's own files only.
//
// `vsce package` would scan every packaged file, including the ~6,000 files of
// the bundled Python server (jedi's typeshed stubs...), which takes more than
// ten minutes on two cores. Those are third-party packages installed from PyPI
// at package time, so `npm run package` skips vsce's scan
// (--allow-package-all-secrets) and this script scans everything else that goes
// into the .vsix, with the same rules, failing like vsce would.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const { lintFiles, prettyPrintLintResult } = require('@vscode/vsce/out/secretLint');

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
const listed = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('bundled/') && !/\.(png|jpe?g|gif|svg)$/i.test(l));
const result = await lintFiles(
    listed.map((f) => path.join(root, f)),
    true,
    true,
);
if (!result.ok) {
    console.error('scan-secrets: the extension files contain secrets or .env files:');
    for (const r of result.results) {
        console.error(prettyPrintLintResult(r));
    }
    process.exit(1);
}
console.log(`scan-secrets: no secrets in ${listed.length} files (${listed.join(', ')})`);

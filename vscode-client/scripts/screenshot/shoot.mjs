// Drives code-server in headless Chromium: opens service.py, waits for the
// asyncsense diagnostics, opens the Problems panel and the quick-fix menu, and
// takes screenshots. Usage: node shoot.mjs OUTDIR
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';

const out = process.argv[2] ?? '/tmp/shot/out';
fs.mkdirSync(out, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--window-size=1200,700'],
    defaultViewport: { width: 980, height: 600, deviceScaleFactor: 1 },
});
const page = await browser.newPage();
page.on('console', (m) => { if (m.type() === 'error') console.log('page error:', m.text().slice(0, 200)); });
await page.goto('http://127.0.0.1:8080/?folder=/tmp/demo-ws', { waitUntil: 'domcontentloaded' });
await page.waitForSelector('.monaco-workbench', { timeout: 120000 });
await sleep(5000);
// Hide the side bar: the editor and the Problems panel are the subject.
await page.keyboard.down('Control'); await page.keyboard.press('KeyB'); await page.keyboard.up('Control');
await sleep(1000);
await page.screenshot({ path: `${out}/00-workbench.png` });

// Open the file with Quick Open.
await page.keyboard.down('Control'); await page.keyboard.press('KeyP'); await page.keyboard.up('Control');
await sleep(1000);
await page.keyboard.type('service.py', { delay: 30 });
await sleep(1000);
await page.keyboard.press('Enter');
await page.waitForSelector('.monaco-editor .view-lines', { timeout: 60000 });
console.log('file open; waiting for squiggles');
try {
    await page.waitForSelector('.squiggly-warning, .squiggly-error, .squiggly-info', { timeout: 90000 });
} catch (e) {
    console.log('no squiggles:', e.message);
}
await sleep(2000);
await page.screenshot({ path: `${out}/01-diagnostics.png` });

// Problems panel: Ctrl+Shift+M.
await page.keyboard.down('Control'); await page.keyboard.down('Shift'); await page.keyboard.press('KeyM');
await page.keyboard.up('Shift'); await page.keyboard.up('Control');
await sleep(2000);
// Back to the editor, go to line 7, column 9 (time.sleep).
await page.keyboard.down('Control'); await page.keyboard.press('Digit1'); await page.keyboard.up('Control');
await sleep(500);
await page.keyboard.down('Control'); await page.keyboard.press('KeyG'); await page.keyboard.up('Control');
await sleep(700);
await page.keyboard.type('7:9', { delay: 30 });
await page.keyboard.press('Enter');
await sleep(1500);
await page.screenshot({ path: `${out}/02-problems.png` });

// Hover the diagnostic: Ctrl+K Ctrl+I.
await page.keyboard.down('Control'); await page.keyboard.press('KeyK'); await page.keyboard.press('KeyI'); await page.keyboard.up('Control');
await sleep(2500);
await page.screenshot({ path: `${out}/03-hover.png` });
await page.keyboard.press('Escape');
await sleep(500);

// Quick fix menu: Ctrl+.
await page.keyboard.down('Control'); await page.keyboard.press('Period'); await page.keyboard.up('Control');
await sleep(3000);
await page.screenshot({ path: `${out}/04-quickfix.png` });

// Apply the first (preferred) fix.
await page.keyboard.press('Enter');
await sleep(4000);
await page.screenshot({ path: `${out}/05-fixed.png` });

// Output channel for the record.
await page.keyboard.down('Control'); await page.keyboard.down('Shift'); await page.keyboard.press('KeyP');
await page.keyboard.up('Shift'); await page.keyboard.up('Control');
await sleep(800);
await page.keyboard.type('asyncsense: Show Output', { delay: 20 });
await sleep(1000);
await page.keyboard.press('Enter');
await sleep(2500);
await page.screenshot({ path: `${out}/06-output.png` });
await browser.close();
console.log('done');

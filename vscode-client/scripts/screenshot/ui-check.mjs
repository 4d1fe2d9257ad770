// Manual UI check in code-server: Check Workspace, a settings change, Restart Server.
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';

const out = process.argv[2] ?? '/tmp/shot/ui';
fs.mkdirSync(out, { recursive: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu'], defaultViewport: { width: 1100, height: 650 },
});
const page = await browser.newPage();
const chord = async (...keys) => {
    for (const k of keys.slice(0, -1)) await page.keyboard.down(k);
    await page.keyboard.press(keys[keys.length - 1]);
    for (const k of keys.slice(0, -1).reverse()) await page.keyboard.up(k);
};
const command = async (name) => {
    await chord('Control', 'Shift', 'KeyP');
    await sleep(800);
    await page.keyboard.type(name, { delay: 15 });
    await sleep(800);
    await page.keyboard.press('Enter');
};
await page.goto('http://127.0.0.1:8080/?folder=/tmp/demo-ws', { waitUntil: 'domcontentloaded' });
await page.waitForSelector('.monaco-workbench', { timeout: 120000 });
await sleep(4000);
await chord('Control', 'KeyP'); await sleep(800);
await page.keyboard.type('service.py', { delay: 20 }); await sleep(800); await page.keyboard.press('Enter');
await page.waitForSelector('.squiggly-warning, .squiggly-error, .squiggly-info', { timeout: 90000 });
await sleep(1500);
await page.screenshot({ path: `${out}/10-status.png` });
await command('asyncsense: Check Workspace');
await sleep(400);
await page.screenshot({ path: `${out}/11-checking.png` });
await sleep(5000);
await page.screenshot({ path: `${out}/12-checked.png` });
fs.writeFileSync('/tmp/demo-ws/.vscode/settings.json', JSON.stringify({ 'asyncsense.ignore': ['blocking-call'] }));
await sleep(5000);
await page.screenshot({ path: `${out}/13-ignored.png` });
fs.writeFileSync('/tmp/demo-ws/.vscode/settings.json', '{}');
await sleep(4000);
await command('asyncsense: Restart Server');
await sleep(6000);
await page.screenshot({ path: `${out}/14-restarted.png` });
await browser.close();

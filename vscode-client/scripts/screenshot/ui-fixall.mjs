// Manual check: "editor.codeActionsOnSave": {"source.fixAll.asyncsense": "explicit"} fixes on save,
// and asyncsense.fixAll=false turns it off. Prints the file after each save.
import puppeteer from 'puppeteer-core';
import fs from 'node:fs';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const FILE = '/tmp/demo-ws/service.py';
const ORIGINAL = [
    'import asyncio', 'import time', '', '', 'async def poll_health(url: str) -> None:', '    while True:',
    '        time.sleep(5)', '        print("checking", url)', '', '', 'async def main() -> None:',
    '    asyncio.create_task(poll_health("http://localhost:8000/health"))', '    await asyncio.sleep(60)', '',
].join('\n');
const settings = (extra) => fs.writeFileSync('/tmp/demo-ws/.vscode/settings.json', JSON.stringify({
    '[python]': { 'editor.codeActionsOnSave': { 'source.fixAll.asyncsense': 'explicit' } }, ...extra }));
const browser = await puppeteer.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'], defaultViewport: { width: 1000, height: 600 } });
const page = await browser.newPage();
const key = async (...k) => { for (const x of k.slice(0, -1)) await page.keyboard.down(x); await page.keyboard.press(k[k.length - 1]); for (const x of k.slice(0, -1).reverse()) await page.keyboard.up(x); };
for (const [label, extra] of [['fixAll off', { 'asyncsense.fixAll': false }], ['fixAll on', {}]]) {
    fs.writeFileSync(FILE, ORIGINAL);
    settings(extra);
    await page.goto('http://127.0.0.1:8080/?folder=/tmp/demo-ws', { waitUntil: 'domcontentloaded' });
    await page.waitForSelector('.monaco-workbench', { timeout: 120000 });
    await sleep(3000);
    await key('Control', 'KeyP'); await sleep(700); await page.keyboard.type('service.py', { delay: 20 }); await sleep(700); await page.keyboard.press('Enter');
    await page.waitForSelector('.squiggly-warning, .squiggly-error, .squiggly-info', { timeout: 90000 });
    await sleep(1500);
    console.log(`    before save, on disk: ${fs.readFileSync(FILE, 'utf8').includes('time.sleep(5)') ? 'original' : 'CHANGED'}`);
    const shown = await page.evaluate(() => document.querySelector('.view-lines')?.textContent ?? '');
    console.log(`    before save, in the editor: ${shown.includes('time.sleep(5)') ? 'original' : 'CHANGED'}`);
    // Make the buffer dirty (type a space at the end and delete it), then save.
    await key('Control', 'End'); await page.keyboard.type(' '); await page.keyboard.press('Backspace');
    await key('Control', 'KeyS');
    await sleep(4000);
    const text = fs.readFileSync(FILE, 'utf8');
    console.log(`--- ${label}: time.sleep ${text.includes('time.sleep(5)') ? 'still there' : 'fixed'}; task kept: ${text.includes('_background_tasks') || text.includes('task =')}`);
}
fs.writeFileSync(FILE, ORIGINAL);
fs.writeFileSync('/tmp/demo-ws/.vscode/settings.json', '{}');
await browser.close();

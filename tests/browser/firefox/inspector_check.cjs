// The inspector in Firefox, for tests/browser/test_inspector_firefox.py.
//
// Playwright drives only its own patched Firefox build, which cannot be downloaded here; stock
// Firefox (Debian's firefox-esr) speaks WebDriver BiDi, which puppeteer-core drives. The test
// (Python) owns serve and the origin; this script owns the browser. They talk in lines:
//   script → test: "ready"   (the Requests view is live and empty: send the traffic now)
//   test → script: "sent"
//   script → test: one JSON line {"ok": true} or {"ok": false, "error": "..."} at the end.
//
// usage: node inspector_check.cjs FIREFOX ADMIN_URL SCREENSHOT_DIR

'use strict';

const path = require('node:path');
const readline = require('node:readline');
const puppeteer = require('puppeteer-core');

const [firefox, admin, shots] = process.argv.slice(2);
const TIMEOUT = 15000;
const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

function check(condition, what) {
  if (!condition) throw new Error(what);
}

async function text(page, selector) {
  return page.$eval(selector, (el) => el.textContent);
}

// Polls from Node: puppeteer's own waitForFunction compiles its predicate in the page with
// eval, which the inspector's Content-Security-Policy (default-src 'self') rightly refuses.
async function waitFor(page, predicate, what, ...args) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    if (await page.evaluate(predicate, ...args)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitText(page, selector, expected) {
  await waitFor(
    page,
    (sel, want) => {
      const el = document.querySelector(sel);
      return el !== null && el.textContent.includes(want);
    },
    `${selector} to contain ${JSON.stringify(expected)}`,
    selector,
    expected,
  );
}

async function rowCount(page) {
  return page.$$eval('#rows tbody tr', (rows) => rows.filter((r) => r.querySelector('a')).length);
}

async function requestsAppearLive(page) {
  await page.goto(admin);
  await waitText(page, '#live', 'live');
  check((await rowCount(page)) === 0, 'rows before any traffic');
  process.stdout.write('ready\n');
  const reply = await lines.next();
  check(reply.value === 'sent', `expected "sent" from the test, got ${reply.value}`);
  // Without reloading: the rows arrive over the live stream.
  await waitFor(
    page,
    () => [...document.querySelectorAll('#rows tbody tr')].filter((r) => r.querySelector('a')).length === 3,
    'three rows',
  );
  const rows = await page.$$eval('#rows tbody tr', (all) => all.map((r) => r.textContent));
  check(rows[0].includes('/about') && rows[0].includes('Hit'), `newest row: ${rows[0]}`);
  check(rows[2].includes('/old/page') && rows[2].includes('Miss'), `oldest row: ${rows[2]}`);
  await page.screenshot({ path: path.join(shots, 'requests-firefox.png') });

  // One request: what the function changed.
  const links = await page.$$('#rows tbody tr a');
  await links[links.length - 1].click();
  await waitText(page, 'h2', '/old/page');
  const changes = await page.$$eval('tr.change', (all) => all.map((r) => r.textContent));
  check(changes.some((c) => c.includes('uri') && c.includes('/old/page') && c.includes('/new/page')),
    `the URI change is not shown: ${JSON.stringify(changes)}`);
  check(changes.some((c) => c.includes('x-greeting') && c.includes('hello')),
    `the added header is not shown: ${JSON.stringify(changes)}`);
  check((await text(page, 'pre.logs')).includes('greeting hello for /new/page'), 'the function log');
  await page.screenshot({ path: path.join(shots, 'request-firefox.png') });
}

async function viewsByKeyboard(page) {
  await page.goto(admin);
  await waitText(page, '#live', 'live');
  for (let i = 0; i < 3; i += 1) await page.keyboard.press('Tab'); // Requests, Functions, KVS
  await page.keyboard.press('Enter');
  await waitFor(page, () => location.hash === '#/kvs', 'the KVS view');
  await waitText(page, 'h2', 'KeyValueStores');
}

async function kvsPutFromThePage(page) {
  // A state-changing request from the page itself: same origin, with the per-process token.
  await waitText(page, 'tr[data-key="greeting"]', 'hello');
  await page.type('#kvs-key', 'greeting');
  await page.type('#kvs-value', 'bonjour');
  await page.keyboard.press('Enter');
  await waitText(page, '#kvs-note', 'acknowledged');
  await page.screenshot({ path: path.join(shots, 'kvs-firefox.png') });
}

async function main() {
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: firefox,
    headless: true,
    defaultViewport: { width: 1280, height: 800 },
  });
  const errors = [];
  try {
    const page = await browser.newPage();
    page.on('pageerror', (error) => {
      // Firefox reports an EventSource still open when the page navigates away (our second
      // page.goto) as an error of the page; that is the browser's note, not a fault of ours.
      if (!/stream\S* was interrupted while the page was loading/.test(String(error))) {
        errors.push(String(error));
      }
    });
    await requestsAppearLive(page);
    await viewsByKeyboard(page);
    await kvsPutFromThePage(page);
    check(errors.length === 0, `JavaScript errors on the page: ${errors.join('; ')}`);
    process.stdout.write(`${JSON.stringify({ ok: true, browser: await browser.version() })}\n`);
  } catch (error) {
    // What the page showed when the check failed, for the test's message and the artifacts.
    const pages = await browser.pages();
    const page = pages[pages.length - 1];
    await page.screenshot({ path: path.join(shots, 'failure-firefox.png') }).catch(() => {});
    const live = await page.$eval('#live', (el) => el.textContent).catch(() => '(no #live)');
    throw new Error(`${error.message}\n#live: ${live}; page errors: ${errors.join('; ') || 'none'}`);
  } finally {
    await browser.close();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stdout.write(`${JSON.stringify({ ok: false, error: String(error && error.stack || error) })}\n`);
    process.exit(1);
  },
);

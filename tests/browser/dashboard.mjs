// dashboard.mjs: drives bb-serve's dashboard in headless chromium for
// tests/bb-serve.bats (run through scripts/browser-local). Prints one line
// per finding for the suite to compare; exits 1 on the first failure.
//   BB_URL          the server, e.g. http://127.0.0.1:19548
//   BB_TOKEN        the acknowledge token
//   BB_OUT          where the screenshots go
//   BB_STORE_CMD    a shell command storing a notification that changes…
//   BB_CHANGE_ASIN  …this ASIN's row to…
//   BB_CHANGE_TO    …this severity
//   BB_ACK_ASIN     the ASIN whose alert is acknowledged through the page
//   BB_SNOOZE_ASIN  the ASIN whose alert is snoozed (no second token prompt)
import { execSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

const env = (k) => {
  if (!process.env[k]) { console.error(`dashboard.mjs: ${k} is not set`); process.exit(64); }
  return process.env[k];
};
const url = env('BB_URL'), tokenValue = env('BB_TOKEN'), out = env('BB_OUT');
mkdirSync(out, { recursive: true });

const browser = await puppeteer.launch({
  executablePath: env('BB_CHROMIUM'),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
});
const problems = [];
let dialogs = 0;
try {
  const page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('requestfailed', (r) => { if (!r.url().includes('/stream')) problems.push('request failed: ' + r.url()); });
  page.on('request', (r) => { if (!r.url().startsWith(url)) problems.push('outside request: ' + r.url()); });
  page.on('dialog', async (d) => { dialogs++; await d.accept(tokenValue); });
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(url + '/', { waitUntil: 'load' });
  await page.waitForSelector('#live.on', { timeout: 5000 });
  console.log('live ' + await page.$eval('#live', (e) => e.textContent));
  await page.waitForSelector('tr.row', { timeout: 5000 });

  // every tab: its count and its rows
  for (const t of ['CRITICAL', 'HIGH', 'WARNING', 'SUCCESS', 'STABLE', 'ALL']) {
    await page.click(`button[data-tab="${t}"]`);
    const found = await page.$$eval('tr.row', (rs) => rs.map((r) => r.getAttribute('data-key').split('|')[0]));
    const count = await page.$eval(`button[data-tab="${t}"] .n`, (e) => e.textContent);
    console.log(`tab ${t} ${count}: ${found.join(' ')}`);
  }
  const crit = await page.$eval('tr.row[data-severity="CRITICAL"]', (r) =>
    [...r.querySelectorAll('td')].slice(0, 8).map((td) => td.textContent).join(' | '));
  console.log('row ' + crit);
  await page.waitForSelector('svg.spark polyline', { timeout: 5000 });
  console.log('sparklines ' + await page.$$eval('svg.spark polyline.ours', (l) => l.length));
  await page.click('tr.row[data-severity="CRITICAL"] td.c-asin');
  console.log('reasons ' + await page.$eval('tr.detail li', (e) => e.textContent));
  await page.screenshot({ path: out + '/dashboard-1280.png', fullPage: true });

  // the pipeline stores a notification: the row follows within a second
  const asin = env('BB_CHANGE_ASIN'), to = env('BB_CHANGE_TO');
  execSync(env('BB_STORE_CMD'), { stdio: ['ignore', 'ignore', 'inherit'], shell: '/bin/bash' });
  const t0 = Date.now();
  await page.waitForFunction((a, s) => [...document.querySelectorAll('tr.row')].some((r) =>
    r.getAttribute('data-key').startsWith(a + '|') && r.getAttribute('data-severity') === s), { timeout: 1000 }, asin, to);
  console.log(`changed ${asin} ${to} within 1 s`);
  if (Date.now() - t0 > 1000) problems.push('the change took ' + (Date.now() - t0) + ' ms');

  // acknowledge through the page: the token is asked once, then kept
  const act = async (a, action, status) => {
    await page.click('button[data-tab="ALL"]');
    await page.click(`tr.row[data-key^="${a}|"] button[data-action="${action}"]`);
    await page.waitForFunction((a, s) => {
      const r = document.querySelector(`tr.row[data-key^="${a}|"] .status`);
      return r && r.textContent === s;
    }, { timeout: 3000 }, a, status);
    console.log(`${action} ${a} ${status}`);
  };
  await act(env('BB_ACK_ASIN'), 'ack', 'acknowledged');
  await act(env('BB_SNOOZE_ASIN'), 'snooze', 'snoozed');
  console.log('token asked ' + dialogs + ' time(s), kept: ' +
    await page.evaluate((t) => sessionStorage.getItem('bb-token') === t, tokenValue));

  // a phone's width: no sideways scrolling
  await page.setViewport({ width: 375, height: 800 });
  await page.click('button[data-tab="ALL"]');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  console.log(width <= 375 ? 'fits 375 px' : `too wide at 375 px: ${width}`);
  await page.screenshot({ path: out + '/dashboard-375.png', fullPage: true });
} catch (e) {
  problems.push(e.message);
} finally {
  await browser.close();
}
for (const p of problems) console.log('problem: ' + p);
process.exit(problems.length ? 1 : 0);

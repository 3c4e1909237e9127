// What the browser tests share: headless Chromium through playwright-core,
// TAP-like result lines that tests/cli/lib.sh's node_tap turns into checks,
// sign-in, screenshots, and axe-core's accessibility audit.
//
//   BATON_CHROMIUM  the browser (default /usr/bin/chromium)
//   BATON_SHOTS     where screenshots go (default: none taken)
import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

let n = 0;
let failed = 0;

// One result: "ok - DESC", or "not ok - DESC" and the detail as "#" lines.
export function ok(cond, desc, detail) {
  n++;
  if (cond) {
    console.log('ok - ' + desc);
    return true;
  }
  failed++;
  console.log('not ok - ' + desc);
  if (detail !== undefined)
    for (const l of String(typeof detail === 'string' ? detail : JSON.stringify(detail)).split('\n'))
      console.log('#   ' + l);
  return false;
}

export function is(got, want, desc) {
  return ok(got === want, desc, 'got:  ' + JSON.stringify(got) + '\nwant: ' + JSON.stringify(want));
}

// The last line: how many results, so that a script that stopped early fails.
export function done() {
  console.log('done ' + n);
}

// args: more Chromium switches (a fake camera, for one).
export async function launch(args = []) {
  const browser = await chromium.launch({
    executablePath: process.env.BATON_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--disable-dev-shm-usage', ...args],
  });
  return browser;
}

// A page of its own (cookies apart). axe's script is added through the
// test's own channel, not the page's, so the console's CSP stays as it is.
export async function newPage(browser, opts = {}) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, ...opts });
  const page = await ctx.newPage();
  page.on('pageerror', e => ok(false, 'no script error on the page', e.message));
  return page;
}

export async function shot(page, name) {
  const dir = process.env.BATON_SHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, name + '.png'), fullPage: true });
}

export async function signIn(page, base, user, password) {
  await page.goto(base + '/');
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who-name').filter({ hasText: user }).waitFor();
}

// Runs axe-core on the page as it is now: the WCAG 2 A and AA rules. Returns
// the violations, each as "rule: what (n elements)".
export async function audit(page) {
  const src = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Runtime.evaluate', { expression: src });
  const r = await cdp.send('Runtime.evaluate', {
    expression: `axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})
      .then(r => JSON.stringify(r.violations.map(v => v.id + ': ' + v.help + ' (' + v.nodes.length + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ') + ')')))`,
    awaitPromise: true, returnByValue: true,
  });
  await cdp.detach();
  return JSON.parse(r.result.value);
}

// Checks the page as a person with a keyboard, at 200% zoom and with axe.
export async function accessible(page, name) {
  const v = await audit(page);
  ok(v.length === 0, name + ': no WCAG 2 A/AA violations (axe-core)', v.join('\n'));
}

export function failures() { return failed; }

// The count of what locator finds once it is n, or what it is after a
// bounded wait (a page re-renders after an answer: no fixed sleep).
export async function countOnce(locator, n, ms = 60000) {
  const end = Date.now() + ms;
  let c = await locator.count();
  while (c !== n && Date.now() < end) {
    await new Promise(r => setTimeout(r, 100));
    c = await locator.count();
  }
  return c;
}

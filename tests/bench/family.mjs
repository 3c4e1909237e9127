// The family's page in headless Chromium at phone size (390x844), against a
// running node: the time to make and encrypt a key in the page (Argon2id at
// the command line's cost, BatonCrypto.makeKey), to sign in (the passphrase
// typed, the key unlocked, the challenge signed, the session opened, the
// home view shown), and to show the disclosures of a student with many
// audit entries (from following the link to the last entry on screen, and
// the API's answer alone, fetched in the page); and
// the bytes the page's first load transfers (compressed, as on the wire).
// Prints one "NAME VALUE" line per measure; each time is the median of RUNS.
//
//   node tests/bench/family.mjs BASE KEYFILE PASSPHRASE STUDENT DISCLOSURES [RUNS]
// KEYFILE is a guardian key linked to STUDENT, who has DISCLOSURES entries.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');
const [base, keyFile, pass, student, ndisc, nruns] = process.argv.slice(2);
const RUNS = +(nruns || 3);
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'en-US' };
const median = a => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

const browser = await chromium.launch({
  executablePath: process.env.BATON_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  // First load: every byte on the wire, from an empty cache.
  let ctx = await browser.newContext(PHONE);
  let page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0, raw = 0;
  cdp.on('Network.loadingFinished', e => { bytes += e.encodedDataLength; });
  cdp.on('Network.dataReceived', e => { raw += e.dataLength; });
  const t0 = Date.now();
  await page.goto(base + '/family/');
  await page.locator('h1').waitFor();
  const firstView = Date.now() - t0;
  await page.waitForLoadState('networkidle');
  console.log('load_bytes ' + bytes);
  console.log('load_raw_bytes ' + raw);
  console.log('load_ms ' + firstView);

  // Making a key: BatonCrypto.makeKey, in the page, as enrolment calls it.
  const make = [];
  for (let i = 0; i < RUNS; i++) {
    make.push(await page.evaluate(async () => {
      const t = performance.now();
      const k = await BatonCrypto.makeKey('a passphrase of some length');
      if (k.file.length !== 112) throw new Error('not a key file');
      return performance.now() - t;
    }));
  }
  console.log('keygen_ms ' + median(make).toFixed(0));
  await ctx.close();

  // Sign-in with the key on the device, then the disclosures.
  const file = readFileSync(keyFile);
  ctx = await browser.newContext(PHONE);
  page = await ctx.newPage();
  await page.goto(base + '/family/');
  const line = await page.evaluate(async ([b64, p]) => {
    await BatonCrypto.ready();
    const f = BatonCrypto.fromBase64(b64);
    const k = BatonCrypto.publicKey(f, p);
    localStorage.setItem('baton-family-key', JSON.stringify({ file: b64, line: k.line, fingerprint: k.fingerprint }));
    return k.line;
  }, [file.toString('base64'), pass]);
  if (!/^baton-gk1-/.test(line)) throw new Error('the key did not open');
  const signin = [], disc = [], api = [];
  for (let i = 0; i < RUNS; i++) {
    await page.goto(base + '/family/#/');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sign in', exact: true }).waitFor();
    await page.getByLabel('Your passphrase').fill(pass);
    let t = Date.now();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Your children' }).waitFor({ timeout: 120000 });
    signin.push(Date.now() - t);

    t = Date.now();
    await page.locator(`a[href="#/s/${student}/disclosures"]`).first().click();
    await page.locator('#disclosures > li').nth(+ndisc - 1).waitFor({ timeout: 300000 });
    disc.push(Date.now() - t);
    api.push(await page.evaluate(async id => {
      const t = performance.now();
      const r = await fetch('/api/v1/family/students/' + id + '/disclosures',
        { headers: { 'X-CSRF-Token': sessionStorage.getItem('baton-family-token') } });
      await r.json();
      return performance.now() - t;
    }, student));
    const n = await page.locator('#disclosures > li').count();
    if (n !== +ndisc) throw new Error(`${n} disclosures shown, expected ${ndisc}`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in', exact: true }).waitFor();
  }
  console.log('signin_ms ' + median(signin));
  console.log('disclosures_ms ' + median(disc));
  console.log('disclosures_api_ms ' + median(api).toFixed(0));
  console.log('disclosures_n ' + ndisc);
  await ctx.close();
} finally {
  await browser.close();
}

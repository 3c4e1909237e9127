// The family's signed copy of the disclosures, from the family's page: the
// parent loads a key file and signs in, opens a child's disclosures, reads
// how to check the copy, downloads it with "Download a signed copy", and
// the downloaded file verifies with 'baton audit check' (offline, the key
// line the page shows; and against the school's own log). A copy changed by
// one byte is refused. A key not linked to the child gets no copy.
//
//   node family_copy.mjs BASE BATON LHS_DIR TMP KEYFILE PASSPHRASE
// BASE is LHS's console (http://127.0.0.1:PORT); S-1001 (Jonah) has one
// disclosure to RAS-204 and KEYFILE is linked to S-1001.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ok, is, done, launch, shot, accessible } from './lib.mjs';

const [base, baton, lhs, tmp, keyfile, pass] = process.argv.slice(2);
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

function run(args) {
  const r = spawnSync(baton, args, { encoding: 'utf8', env: { ...process.env, BATON_DIR: '' } });
  return { code: r.status, out: r.stdout || '', err: r.stderr || '' };
}

const browser = await launch();
try {
  const ctx = await browser.newContext({ ...PHONE, acceptDownloads: true, locale: 'en-US' });
  const page = await ctx.newPage();
  page.on('pageerror', e => ok(false, 'no script error on the page', e.message));
  await page.goto(base + '/family/');
  await page.getByRole('heading', { level: 1, name: 'Sign in', exact: true }).waitFor();
  await page.getByLabel('Key file', { exact: true }).setInputFiles(keyfile);
  await page.getByLabel('The key file\'s passphrase').fill(pass);
  await page.getByRole('button', { name: 'Use this key file' }).click();
  await page.getByRole('heading', { level: 1, name: 'Your children', exact: true }).waitFor();
  ok(true, 'the parent signs in with the key file');

  await page.getByRole('link', { name: 'Disclosures' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Who received Jonah\'s record', exact: true }).waitFor();
  await page.locator('.disclosure').first().waitFor();
  const box = page.locator('#disc-copy');
  await box.waitFor();
  ok(/signed by Lincoln High School/.test(await box.textContent()), 'the disclosures view offers a copy signed by the school',
     await box.textContent());
  const cmd = (await page.locator('#disc-copy-cmd').textContent()).trim();
  const m = /^baton audit check (\S+) --key (baton-sid1-[a-z2-7]{55})$/.exec(cmd);
  ok(m, 'and shows the command that checks it, with the school\'s key line', cmd);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  ok(wide <= PHONE.viewport.width, 'on a phone the long command wraps: the page is no wider than the screen',
     `${wide} > ${PHONE.viewport.width}`);
  await accessible(page, 'disclosures with the signed copy');
  await shot(page, 'family-disclosures-copy');

  const [dl] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download a signed copy' }).click(),
  ]);
  is(dl.suggestedFilename(), 'disclosures-S-1001.baton-disclosures', 'the download is named for the child');
  const file = join(tmp, 'page.baton-disclosures');
  await dl.saveAs(file);
  await page.locator('#disc-copy-status').filter({ hasText: 'Saved as' }).waitFor();
  ok(true, 'the page says it was saved');

  let c = run(['audit', 'check', file, '--key', m ? m[2] : '', '--dir', join(tmp, 'no-node')]);
  is(c.code, 0, 'baton audit check verifies the downloaded copy with the key line the page shows', c.err);
  ok(/^OK: /m.test(c.out), 'and says OK', c.out);
  ok(/Record of disclosures of student S-1001/.test(c.out) && /to Riverside Academy \(RAS-204\)/.test(c.out),
     'it is S-1001\'s record of disclosures, naming Riverside Academy', c.out);
  ok(/receipt: received/.test(c.out) && /basis: consent, consent [0-9a-f]{32}/.test(c.out),
     'with the receipt and the consent as the page shows them', c.out);
  ok(!existsSync(join(tmp, 'no-node')), 'checking it needs no node directory');
  c = run(['audit', 'check', file, '--card', join(tmp, 'LHS-001.card')]);
  is(c.code, 0, 'it verifies with the school\'s card', c.err);
  c = run(['audit', 'check', file, '--against', lhs]);
  is(c.code, 0, 'and against the school\'s own log: every entry in it, unchanged', c.err);
  c = run(['audit', 'check', file, '--card', join(tmp, 'RAS-204.card')]);
  is(c.code, 2, 'another school\'s card is refused (exit 2)', c.out + c.err);

  const bytes = readFileSync(file);
  bytes[bytes.length - 5] ^= 1;
  writeFileSync(join(tmp, 'changed.baton-disclosures'), bytes);
  c = run(['audit', 'check', join(tmp, 'changed.baton-disclosures'), '--key', m ? m[2] : '']);
  ok(c.code === 2 && /REFUSED \(EHASH\)/.test(c.err), 'a downloaded copy changed by one byte is refused, naming why', c.err);

  // Another child's copy, by the route: not this key's child, so not found.
  const other = await page.evaluate(async () => {
    const r = await fetch('/api/v1/family/students/S-1002/disclosures/copy', {
      credentials: 'same-origin', headers: { 'X-CSRF-Token': sessionStorage.getItem('baton-family-token') || '' } });
    return r.status;
  });
  is(other, 404, 'a child the key is not linked to gets no copy: not found');
  await ctx.close();
} catch (e) {
  ok(false, 'the browser test ran without an exception', e.stack || String(e));
} finally {
  await browser.close();
  done();
}

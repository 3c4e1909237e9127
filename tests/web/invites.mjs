// Invitations on the Guardians page: the registrar invites a parent; the
// code shows large, with the URL and a QR code that decodes (jsQR, from the
// pixels on screen) to that URL; printing shows the invitation alone. A
// claim made over HTTP, as the family page makes it, shows up with the
// key's fingerprint; "Confirm link" links the key, "Refuse" cancels. At
// desktop size and on a 390x844 phone.
//
//   node invites.mjs BASE KEYLINE FINGERPRINT KEYLINE2 FINGERPRINT2
import { createRequire } from 'node:module';
import { ok, is, done, launch, newPage, shot, signIn, accessible, countOnce } from './lib.mjs';

const require = createRequire(import.meta.url);
const jsQR = require('jsqr');
const [base, keyLine, fpr, keyLine2, fpr2] = process.argv.slice(2);

// What jsQR reads from the pixels of the QR code as the browser drew it.
async function decodeShown(browser, locator) {
  const png = await locator.screenshot();
  const blank = await newPage(browser);
  const img = await blank.evaluate(async b64 => {
    const im = new Image();
    im.src = 'data:image/png;base64,' + b64;
    await im.decode();
    const c = document.createElement('canvas');
    c.width = im.width;
    c.height = im.height;
    const ctx = c.getContext('2d');
    ctx.drawImage(im, 0, 0);
    return { w: c.width, h: c.height, data: Array.from(ctx.getImageData(0, 0, c.width, c.height).data) };
  }, png.toString('base64'));
  await blank.context().close();
  const code = jsQR(Uint8ClampedArray.from(img.data), img.w, img.h);
  return code ? code.data : null;
}

// The family page's enrolment, as it is sent: the code and the public key.
async function enrol(code, key) {
  const r = await fetch(base + '/api/v1/family/enrol', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'Origin': base },
    body: JSON.stringify({ code, key }),
  });
  return { status: r.status, data: await r.json() };
}

async function invite(page, relation) {
  await page.getByLabel('Who is invited').selectOption(relation);
  await page.getByRole('button', { name: 'Invite a parent' }).click();
  await page.locator('#iv-panel').waitFor();
  return { code: await page.locator('#iv-code').textContent(), url: await page.locator('#iv-url').textContent() };
}

async function studentPage(page, id) {
  const url = base + '/#/guardians/' + id;
  if (page.url() === url) await page.reload(); else await page.goto(url);
  await page.getByRole('heading', { level: 1, name: 'Guardians of ' + id }).waitFor();
  await page.locator('#iv-list').locator('table, #iv-none').first().waitFor();
}

const browser = await launch();
try {
  const page = await newPage(browser);
  await signIn(page, base, 'maria', process.env.MARIA_PW);
  await studentPage(page, 'S-1001');
  ok(await page.locator('#iv-none').isVisible(), 'S-1001 has no invitation yet, and the page says so');

  const one = await invite(page, 'mother');
  ok(/^[ABCDEFGHJKMNPQRSTVWXYZ2-9]{4}(-[ABCDEFGHJKMNPQRSTVWXYZ2-9]{4}){2}$/.test(one.code),
    'the code shows as XXXX-XXXX-XXXX', one.code);
  is(one.url, base + '/family/#invite=' + one.code, 'the URL is this console\'s origin, the code after #');
  const size = await page.locator('#iv-code').evaluate(e => parseFloat(getComputedStyle(e).fontSize));
  ok(size >= 28, 'the code is in large type', size);
  is(await decodeShown(browser, page.locator('#iv-panel svg.iv-qr')), one.url, 'the QR code on screen decodes to the URL');
  await accessible(page, 'an invitation shown');
  await shot(page, 'invites-made');
  const row = page.locator('#iv-list tr', { hasText: one.code.slice(0, 4) });
  await row.waitFor();
  ok(/open/.test(await row.textContent()), 'the list shows it, open');

  // Printing shows the invitation alone.
  await page.emulateMedia({ media: 'print' });
  const vis = await page.evaluate(() => ({
    nav: getComputedStyle(document.getElementById('nav')).visibility,
    code: getComputedStyle(document.getElementById('iv-code')).visibility,
    form: getComputedStyle(document.getElementById('gd-link')).visibility,
    print: document.getElementById('iv-print').getClientRects().length,
  }));
  ok(vis.nav === 'hidden' && vis.form === 'hidden' && vis.code === 'visible' && vis.print === 0,
    'printed, only the invitation shows (no menu, form or buttons)', vis);
  await shot(page, 'invites-print');
  await page.emulateMedia({ media: 'screen' });

  // The parent's phone enrols a key with the code.
  const e = await enrol(one.code.toLowerCase(), keyLine);
  ok(e.status === 200 && e.data.state === 'claimed' && e.data.fingerprint === fpr, 'the enrolment over HTTP is claimed', e);
  await studentPage(page, 'S-1001');
  const claimed = page.locator('#iv-list tr', { hasText: one.code.slice(0, 4) });
  await claimed.filter({ hasText: 'claimed' }).waitFor();
  ok((await claimed.textContent()).includes(fpr), 'the claim shows up with the key\'s fingerprint');
  is(await page.locator('#gd-list', { hasText: fpr }).count(), 0, 'and the key is not linked yet');
  await accessible(page, 'a claimed invitation');
  await shot(page, 'invites-claimed');
  await claimed.getByRole('button', { name: 'Confirm link' }).click();
  await page.locator('#gd-list', { hasText: fpr }).waitFor();
  ok(true, 'Confirm link: the key appears among the linked keys');
  await page.locator('#iv-list tr', { hasText: one.code.slice(0, 4) }).filter({ hasText: 'linked' }).waitFor();
  ok(true, 'and the invitation is linked');

  // A second one, refused.
  const two = await invite(page, 'father');
  const e2 = await enrol(two.code, keyLine2);
  is(e2.status, 200, 'a second enrolment is claimed');
  await studentPage(page, 'S-1001');
  const r2 = page.locator('#iv-list tr', { hasText: two.code.slice(0, 4) });
  await r2.filter({ hasText: fpr2 }).waitFor();
  await r2.getByRole('button', { name: 'Refuse' }).click();
  await r2.filter({ hasText: 'cancelled' }).waitFor();
  ok(true, 'Refuse: the invitation is cancelled');
  is(await page.locator('#gd-list', { hasText: fpr2 }).count(), 0, 'and its key is not linked');
  const e3 = await enrol(two.code, keyLine2);
  is(e3.status, 404, 'its code enrols nothing after');

  // Keyboard: the relation picker and the button are reached with Tab and work with Enter.
  await page.getByLabel('Who is invited').focus();
  await page.keyboard.press('Tab');
  is(await page.evaluate(() => document.activeElement.id), 'iv-make', 'Tab goes from the picker to "Invite a parent"');
  await page.keyboard.press('Enter');
  await page.locator('#iv-panel').waitFor();
  is(await page.evaluate(() => document.activeElement.id), 'iv-panel', 'Enter makes one, and focus moves to it');
  await page.context().close();

  // A phone.
  const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
  await signIn(phone, base, 'maria', process.env.MARIA_PW);
  await studentPage(phone, 'S-1002');
  const p = await invite(phone, 'guardian');
  const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
  ok(wide <= 390, 'at 390 px nothing is wider than the screen', wide);
  is(await decodeShown(browser, phone.locator('#iv-panel svg.iv-qr')), p.url, 'on a phone too, the QR code decodes to the URL');
  await accessible(phone, 'an invitation on a phone');
  await shot(phone, 'invites-phone');
  is(await countOnce(phone.locator('#iv-list tr', { hasText: p.code.slice(0, 4) }), 1), 1, 'the phone\'s list shows it');
  await phone.context().close();
} catch (err) {
  ok(false, 'the test ran without an exception', err.stack);
} finally {
  await browser.close();
}
done();

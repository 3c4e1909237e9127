// The Guardians page as a registrar uses it: a pasted key line that is not
// one is refused in words; the parent's key line pasted, its fingerprint
// shown large to read back, linked only once the read-back is ticked; and
// a second parent's key read from the QR code on their screen through the
// computer's camera (Chromium's fake camera playing a video of that code).
//
//   node guardians.mjs BASE KEYLINE FINGERPRINT QR_TEXT FINGERPRINT2 Y4M
// QR_TEXT is what 'baton guardian keygen --qr' printed (its half-block QR
// code); it becomes the video Y4M, which the fake camera plays.
import { readFileSync, writeFileSync } from 'node:fs';
import { ok, is, done, launch, newPage, shot, accessible } from './lib.mjs';

const [base, keyLine, fpr, qrText, fpr2, y4m] = process.argv.slice(2);

// The modules of the QR code drawn with half blocks: two rows per line.
function qrModules(text) {
  const lines = readFileSync(text, 'utf8').split('\n')
    .filter(l => l.includes('\x1b[47;30m'))
    .map(l => [...l.replace(/\x1b\[[0-9;]*m/g, '')]);
  const rows = [];
  for (const l of lines) {
    rows.push(l.map(c => c === '\u2588' || c === '\u2580'));
    rows.push(l.map(c => c === '\u2588' || c === '\u2584'));
  }
  return rows;
}

// A few frames of the code, dark on white, as a YUV4MPEG2 (I420) video.
function writeY4m(rows, path) {
  const W = 640, H = 480, n = Math.max(rows.length, rows[0].length);
  const px = Math.floor((H - 40) / n), x0 = (W - px * rows[0].length) >> 1, y0 = (H - px * rows.length) >> 1;
  const y = Buffer.alloc(W * H, 235);
  rows.forEach((r, i) => r.forEach((dark, j) => {
    if (!dark) return;
    for (let a = 0; a < px; a++) y.fill(16, (y0 + i * px + a) * W + x0 + j * px, (y0 + i * px + a) * W + x0 + (j + 1) * px);
  }));
  const uv = Buffer.alloc((W / 2) * (H / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), y, uv]);
  const head = Buffer.from(`YUV4MPEG2 W${W} H${H} F5:1 Ip A1:1 C420jpeg\n`);
  writeFileSync(path, Buffer.concat([head, ...Array(5).fill(frame)]));
}

async function signIn(page, hash, user, password) {
  await page.goto(base + '/#/' + hash);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who-name').filter({ hasText: user }).waitFor();
}

writeY4m(qrModules(qrText), y4m);
const browser = await launch(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--use-file-for-fake-video-capture=' + y4m]);
try {
  const page = await newPage(browser);
  await signIn(page, 'guardians', 'maria', process.env.MARIA_PW);
  await page.getByRole('heading', { level: 1, name: 'Guardians' }).waitFor();
  await accessible(page, 'the guardians page (a student to choose)');
  await page.getByLabel('Student id').fill('S-1001');
  await page.getByRole('button', { name: 'Show this student\'s guardians' }).click();
  await page.getByRole('heading', { level: 1, name: 'Guardians of S-1001' }).waitFor();
  await page.locator('#gd-none').waitFor();
  ok(true, 'S-1001 has no guardian key linked yet, and the page says so');
  await shot(page, 'guardians-none');
  await accessible(page, 'a student\'s guardians');

  // A line that is not a key.
  await page.getByLabel('The parent\'s public key line').fill('baton-gk1-notakeyatall');
  await page.getByRole('button', { name: 'Check the key' }).click();
  const err = page.locator('#gd-error');
  await err.filter({ hasText: 'key:' }).waitFor();
  ok(/key: "baton-gk1-notakeyatall" is not a guardian's public key line/.test(await err.textContent()),
     'a malformed line is refused beside the form, naming the key', await err.textContent());
  is(await page.locator('#gd-confirm').count(), 0, 'and no fingerprint is offered for it');
  await shot(page, 'guardians-bad-key');

  // The parent's line, pasted.
  await page.getByLabel('The parent\'s public key line').fill(keyLine);
  await page.getByLabel('Relation to the student').selectOption('mother');
  await page.getByRole('button', { name: 'Check the key' }).click();
  await page.locator('#gd-fingerprint').waitFor();
  is(await page.locator('#gd-fingerprint').textContent(), fpr, 'the key\'s fingerprint is shown to read to the parent');
  ok(await page.getByText('Read this to the parent: it must match the one on their screen').isVisible(),
     'with what to do with it');
  const linkBtn = page.getByRole('button', { name: 'Link this key to S-1001' });
  ok(await linkBtn.isDisabled(), '"Link this key" waits for the read-back to be ticked');
  const size = await page.locator('#gd-fingerprint').evaluate(e => parseFloat(getComputedStyle(e).fontSize));
  ok(size >= 24, 'the fingerprint is in large type', String(size));
  await shot(page, 'guardians-read-back');
  await accessible(page, 'the fingerprint to read back');
  // With the keyboard: the read-back box has the focus; Space ticks it, Tab and Enter link.
  is(await page.evaluate(() => document.activeElement.id), 'gd-readback', 'the focus moves to the read-back box');
  await page.keyboard.press('Space');
  ok(await linkBtn.isEnabled(), 'ticking it enables "Link this key"');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.locator('#message').filter({ hasText: 'Linked mother key ' + fpr + ' to S-1001' }).waitFor();
  ok(true, 'linked with the keyboard: the message says which key, as what, to whom');
  const row = await page.locator('#gd-list tbody tr').first().textContent();
  ok(row.includes(fpr) && row.includes('mother'), 'the linked key is listed with its relation', row);
  await shot(page, 'guardians-linked');

  // A second parent's key, from the camera.
  await page.goto(base + '/#/guardians/S-1002');
  await page.getByRole('heading', { level: 1, name: 'Guardians of S-1002' }).waitFor();
  await page.getByRole('button', { name: 'Scan the QR code' }).click();
  await page.locator('#gd-fingerprint').waitFor({ timeout: 60000 });
  is(await page.locator('#gd-fingerprint').textContent(), fpr2, 'the camera reads the QR code: its key\'s fingerprint is shown');
  ok((await page.getByLabel('The parent\'s public key line').inputValue()).startsWith('baton-gk1-'),
     'and the key line it encodes is filled in');
  await shot(page, 'guardians-camera');
  await page.getByLabel('Relation to the student').selectOption('father');
  await page.getByLabel('The parent read back the same fingerprint').check();
  await page.getByRole('button', { name: 'Link this key to S-1002' }).click();
  await page.locator('#message').filter({ hasText: 'Linked father key ' + fpr2 + ' to S-1002' }).waitFor();
  ok(true, 'the scanned key is linked');

  await page.goto(base + '/#/guardians/S-NOPE');
  await page.locator('#page .error').waitFor();
  ok(/no student "S-NOPE"/.test(await page.locator('#page .error').textContent()),
     'an unknown student says so');

  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await signIn(phone, 'guardians/S-1001', 'maria', process.env.MARIA_PW);
  await phone.getByRole('heading', { level: 1, name: 'Guardians of S-1001' }).waitFor();
  await phone.locator('#gd-list tbody tr').first().waitFor();
  ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'on a phone, the guardians page fits its width');
  await shot(phone, 'guardians-phone');

  const zoom = await newPage(browser, { viewport: { width: 640, height: 800 } });
  await signIn(zoom, 'guardians/S-1001', 'maria', process.env.MARIA_PW);
  await zoom.locator('#gd-list tbody tr').first().waitFor();
  await zoom.getByLabel('The parent\'s public key line').fill(keyLine);
  await zoom.getByRole('button', { name: 'Check the key' }).click();
  await zoom.locator('#gd-fingerprint').waitFor();
  ok(await zoom.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'at 200% zoom, the fingerprint to read back needs no sideways scrolling');
} finally {
  await browser.close();
}
done();

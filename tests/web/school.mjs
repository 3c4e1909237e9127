// The "This school" page. A registrar sees the card, its fingerprint and
// endpoints, and downloads the card, but no admin form. The admin moves the
// school to a new endpoint (a bad one is refused beside the form) and
// downloads the new card; at the other school the admin takes that newer
// card; afterwards the heads other schools sent are listed, and the log's
// signed state is shown.
//   node school.mjs BASE main NEW_ENDPOINT SAVE_DIR  (env IAN_PW, MARIA_PW)
//   node school.mjs BASE update CARD                 (env IAN_PW)
//   node school.mjs BASE held CODE                   (env IAN_PW)
//   node school.mjs BASE rekey - SAVE_DIR            (env IAN_PW)
import { join } from 'node:path';
import { ok, is, done, launch, newPage, shot, accessible } from './lib.mjs';

async function signInAt(page, base, hash, user, password) {
  await page.goto(base + '/#/' + hash);
  await page.locator('#user').fill(user);
  await page.locator('#password').fill(password);
  await page.locator('#login-form button[type="submit"]').click();
  await page.locator('#who-name').filter({ hasText: user }).waitFor();
}

async function save(page, link, path) {
  const [dl] = await Promise.all([page.waitForEvent('download'), link.click()]);
  await dl.saveAs(path);
  return dl.suggestedFilename();
}

const [base, mode, arg, saveDir] = process.argv.slice(2);
const env = process.env;
const browser = await launch();

async function registrar() {
  const page = await newPage(browser);
  await signInAt(page, base, 'school', 'maria', env.MARIA_PW);
  await page.getByRole('heading', { level: 1, name: 'This school' }).waitFor();
  ok(await page.getByRole('link', { name: 'This school' }).count() > 0, 'a registrar has "This school" in the menu');
  is(await page.locator('#school-code').textContent(), 'LHS-001', 'the page names the school\'s code');
  ok(/^[A-Z0-9]{5}(-[A-Z0-9]{5})+$/.test(await page.locator('#school-fingerprint').textContent()),
     'the page shows the fingerprint');
  is(await page.locator('#endpoints').count(), 0, 'a registrar has no endpoint form');
  is(await page.locator('#update-file').count(), 0, '... nor the newer-card form');
  const name = await save(page, page.getByRole('link', { name: /Download the card/ }), join(saveDir, 'maria.card'));
  is(name, 'lhs-001.card', 'the card downloads as lhs-001.card');
  await shot(page, 'school-registrar');
  await accessible(page, 'the This school page (registrar)');
  const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
  await signInAt(phone, base, 'school', 'maria', env.MARIA_PW);
  await phone.locator('#school-fingerprint').waitFor();
  ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'on a phone, the page fits its width');
  await shot(phone, 'school-phone');
}

async function admin() {
  const page = await newPage(browser);
  await signInAt(page, base, 'school', 'ian', env.IAN_PW);
  const eps = page.getByLabel('Endpoints, one a line');
  await eps.waitFor();
  await shot(page, 'school-admin');
  await accessible(page, 'the This school page (admin)');
  const sign = page.getByRole('button', { name: 'Sign a new card naming these endpoints' });
  await eps.fill('tcp://10.0.0.9');
  await sign.click();
  await page.locator('#endpoint-error').filter({ hasText: 'endpoints:' }).waitFor();
  ok(true, 'a bad endpoint is refused beside the form, naming the field');
  await shot(page, 'school-endpoint-error');
  await eps.fill(arg);
  await sign.click();
  await page.getByRole('heading', { name: 'Give this new card to every school you exchange records with' }).waitFor();
  ok((await page.locator('#endpoint-done').textContent()).includes(arg), 'the new card names the new endpoint');
  await save(page, page.locator('#new-card-download'), join(saveDir, 'new.card'));
  ok(true, 'the new card downloads');
  await shot(page, 'school-endpoint-moved');
}

async function update() {
  const page = await newPage(browser);
  await signInAt(page, base, 'school', 'ian', env.IAN_PW);
  await page.getByLabel('The school\'s new card file').setInputFiles(arg);
  await page.getByRole('button', { name: 'Take the newer card' }).click();
  await page.locator('#update-done').filter({ hasText: 'Updated Lincoln High School (LHS-001)' }).waitFor();
  ok(true, 'the other school takes the newer card and says where it is now reached');
  await shot(page, 'school-peer-updated');
}

async function held() {
  const page = await newPage(browser);
  await signInAt(page, base, 'school', 'ian', env.IAN_PW);
  await page.locator('#held tbody tr', { hasText: arg }).waitFor();
  ok(true, 'the head kept from ' + arg + ' is listed');
  await page.getByRole('button', { name: 'Sign the log\'s last entry' }).click();
  await page.locator('#message').filter({ hasText: 'signed to its last entry' }).waitFor();
  ok((await page.locator('#signed-state').textContent()).includes('Every entry is covered by a signed head'),
     'the log\'s signed state is shown');
  await shot(page, 'school-held');
  await accessible(page, 'the This school page with heads held');
}

// Ask before: a wrong code is refused beside the form; the right one rekeys.
async function rekey() {
  const page = await newPage(browser);
  await signInAt(page, base, 'school', 'ian', env.IAN_PW);
  const confirm = page.getByLabel('Type the school code (LHS-001) to confirm');
  const go = page.getByRole('button', { name: 'Change the keys of Lincoln High School' });
  await confirm.fill('LHS-002');
  await go.click();
  await page.locator('#rekey-error').filter({ hasText: 'confirm: type the school code LHS-001' }).waitFor();
  ok(true, 'a rekey with the wrong code typed is refused beside the form');
  await confirm.fill('LHS-001');
  await go.click();
  await page.locator('#rekey-fingerprint').waitFor();
  const fpr = await page.locator('#rekey-fingerprint').textContent();
  is(await page.locator('#school-fingerprint').textContent(), fpr, 'the card shows the new fingerprint');
  await save(page, page.locator('#rekey-card'), join(saveDir, 'rekey.card'));
  await save(page, page.locator('#rekey-rotation'), join(saveDir, 'rekey.rot'));
  ok(true, 'the new card and the rotation statement download');
  console.log('# new fingerprint ' + fpr);
  await shot(page, 'school-rekeyed');
  await accessible(page, 'the This school page after a rekey');
}

try {
  if (mode === 'update') await update();
  else if (mode === 'rekey') await rekey();
  else if (mode === 'held') await held();
  else {
    await registrar();
    await admin();
  }
} catch (e) {
  ok(false, 'the browser test ran without an exception', e.stack);
} finally {
  await browser.close();
}
done();

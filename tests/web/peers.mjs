// The Peers page as the admin meets it: the pinned schools, then a third
// school's card chosen from a file; the fingerprint step keeps "Pin" off
// until the typed fingerprint matches the card's; then the school is
// pinned. A registrar has no Peers in the menu and the API refuses her.
// With "rotate", the school's new card after its key changed: Pin stays
// off until the rotation statement is chosen too; then it is rotated.
//   node peers.mjs BASE  (env IAN_PW, MARIA_PW, MMS_CARD, MMS_FPR)
//   node peers.mjs BASE rotate CARD ROTATION FINGERPRINT  (env IAN_PW)
import { ok, is, done, launch, newPage, shot, accessible } from './lib.mjs';


// Signs in on the page at #/HASH: the console's home page belongs to
// another area, and these tests need only their own.
async function signInAt(page, base, hash, user, password) {
  await page.goto(base + '/#/' + hash);
  await page.locator('#user').fill(user);
  await page.locator('#password').fill(password);
  await page.locator('#login-form button[type="submit"]').click();
  await page.locator('#who-name').filter({ hasText: user }).waitFor();
}

const [base, mode, newCard, rotation, newFpr] = process.argv.slice(2);
const env = process.env;
const browser = await launch();

async function rotate() {
  const page = await newPage(browser);
  await signInAt(page, base, 'peers', 'ian', env.IAN_PW);
  await page.getByLabel('The school\'s card file').setInputFiles(newCard);
  await page.getByRole('heading', { name: 'This school\'s key has changed' }).waitFor();
  ok(true, 'a card of a pinned school with another key asks for its rotation statement');
  const pin = page.getByRole('button', { name: 'Pin Maple Middle School', exact: true });
  await page.getByLabel('The fingerprint they read to you').fill(newFpr);
  ok(await pin.isDisabled(), 'the right fingerprint alone does not enable Pin for a changed key');
  await page.getByLabel('Rotation statement file').setInputFiles(rotation);
  await page.waitForFunction(() => !document.querySelector('form.confirm button[type="submit"]').disabled);
  ok(true, 'with the rotation statement chosen, Pin is enabled');
  await shot(page, 'peers-rotation');
  await accessible(page, 'the rotation step');
  await pin.click();
  await page.locator('#message').filter({ hasText: 'is rotated' }).waitFor();
  await page.locator('table tbody tr', { hasText: newFpr }).waitFor();
  ok(true, 'the school is rotated to its new key, and listed with it');
}

try {
  if (mode === 'rotate') {
    await rotate();
  } else {
  const page = await newPage(browser);
  await signInAt(page, base, 'peers', 'ian', env.IAN_PW);
  await page.getByRole('heading', { level: 1, name: 'Schools this node trusts' }).waitFor();
  const rows = await page.locator('table tbody tr').allTextContents();
  ok(rows.length === 1 && rows[0].includes('Riverside Academy') && rows[0].includes('RAS-204'),
     'the pinned school is listed with its code', rows);
  await shot(page, 'peers-list');
  await accessible(page, 'the Peers page');

  await page.getByLabel('The school\'s card file').setInputFiles(env.MMS_CARD);
  await page.locator('#card-fingerprint').waitFor();
  is(await page.locator('#card-fingerprint').textContent(), env.MMS_FPR,
     'the card\'s fingerprint is shown before anything is stored');
  const details = await page.locator('#card-check dl').textContent();
  ok(details.includes('Maple Middle School') && details.includes('MMS-310') &&
     details.includes('tcp://'), 'the card\'s name, code and endpoint are shown', details);
  const pin = page.getByRole('button', { name: 'Pin Maple Middle School', exact: true });
  ok(await pin.isDisabled(), 'nothing typed: Pin is disabled');
  await accessible(page, 'the fingerprint step');

  const typed = page.getByLabel('The fingerprint they read to you');
  // One character wrong, as a misheard letter would be.
  const last = env.MMS_FPR.slice(-1);
  const wrong = env.MMS_FPR.slice(0, -1) + (last === 'A' ? 'B' : 'A');
  await typed.fill(wrong);
  ok(await pin.isDisabled(), 'a wrong fingerprint keeps Pin disabled');
  ok((await page.locator('#expect-state').textContent()).includes('does not match'),
     'the page says the fingerprint does not match');
  await shot(page, 'peers-wrong-fingerprint');

  // Read aloud: lower case and spaces instead of dashes.
  await typed.fill(env.MMS_FPR.toLowerCase().replace(/-/g, ' '));
  ok(await pin.isEnabled(), 'the fingerprint as read aloud (any case, spaces) enables Pin');
  await shot(page, 'peers-fingerprint-matches');
  await pin.click();
  await page.locator('#message').filter({ hasText: 'is pinned' }).waitFor();
  ok(true, 'pinning says so');
  await page.getByRole('heading', { level: 1, name: 'Schools this node trusts' }).waitFor();
  await page.locator('table tbody tr', { hasText: 'MMS-310' }).waitFor();
  ok(true, 'the new school is in the list');
  await shot(page, 'peers-pinned');

  const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
  await signInAt(phone, base, 'peers', 'ian', env.IAN_PW);
  await phone.locator('table tbody tr', { hasText: 'MMS-310' }).waitFor();
  ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'on a phone, the Peers page fits its width');
  await shot(phone, 'peers-phone');

  const maria = await newPage(browser);
  await signInAt(maria, base, 'audit', 'maria', env.MARIA_PW);
  const nav = await maria.locator('#nav-list a').allTextContents();
  ok(!nav.includes('Peers') && !nav.includes('Users') && nav.includes('Audit'),
     'a registrar has Audit in the menu, not Peers or Users', nav.join(', '));
  const st = await maria.evaluate(async () => {
    const tok = sessionStorage.getItem('baton-token');
    const r = await fetch('/api/v1/peers', { method: 'POST', headers: { 'X-CSRF-Token': tok, 'Content-Type': 'application/json' }, body: '{}' });
    return r.status;
  });
  is(st, 403, 'a registrar\'s POST /api/v1/peers is 403');
  }
} finally {
  await browser.close();
}
done();

// The Audit page as a registrar reads it: filtered by student and by
// person, one student's record of disclosures, and "Verify the log" with
// its result in words. With "broken", only the verification, after the
// log was rewritten: it names the first bad entry.
//   node audit.mjs BASE [broken ENTRY]  (env MARIA_PW)
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

const [base, mode, entry] = process.argv.slice(2);
const env = process.env;
const browser = await launch();

async function verify(page) {
  await page.getByRole('button', { name: 'Verify the log' }).click();
  await page.locator('#verify-message').waitFor();
  return page.locator('#verify-message').textContent();
}

async function column(page, head) {
  const heads = await page.locator('#audit-entries thead th').allTextContents();
  const i = heads.indexOf(head);
  return page.locator(`#audit-entries tbody tr td:nth-child(${i + 1})`).allTextContents();
}

try {
  const page = await newPage(browser);
  await signInAt(page, base, 'audit', 'maria', env.MARIA_PW);
  await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
  await page.locator('#audit-entries tbody tr').first().waitFor();

  if (mode === 'broken') {
    const words = await verify(page);
    ok(words.includes('BROKEN at entry ' + entry), 'Verify names the first bad entry, ' + entry, words);
    is(await page.locator('#verify-result .tag').textContent(), 'BROKEN', 'the result is tagged BROKEN');
    await shot(page, 'audit-broken');
  } else {
    const seqs = (await column(page, 'Entry')).map(Number);
    ok(seqs.length > 5 && seqs.every((s, i) => i === 0 || s < seqs[i - 1]), 'entries are newest first', seqs);
    await shot(page, 'audit-all');
    await accessible(page, 'the Audit page');

    await page.getByLabel('Student id').fill('S-2');
    await page.getByRole('button', { name: 'Show entries' }).click();
    await page.locator('#audit-entries tbody tr', { hasText: 'guardian-link' }).waitFor();
    const students = await column(page, 'Student');
    ok(students.length > 0 && students.every(s => s === 'S-2'), 'filtered by student: only S-2', students);
    await shot(page, 'audit-student-filter');

    await page.getByLabel('Student id').fill('');
    await page.getByLabel('Person').fill('maria');
    await page.getByRole('button', { name: 'Show entries' }).click();
    await page.locator('#audit-entries tbody tr', { hasText: 'login' }).first().waitFor();
    const by = await column(page, 'By');
    ok(by.length > 0 && by.every(b => b === 'maria'), 'filtered by person: only entries by maria', by);
    const actions = await column(page, 'Action');
    ok(actions.includes('login'), 'maria\'s sign-in is there, by maria', actions);
    await shot(page, 'audit-by-maria');

    await page.getByLabel('Person').fill('');
    await page.getByLabel('Action').fill('user-add');
    await page.getByRole('button', { name: 'Show entries' }).click();
    await page.locator('#audit-entries tbody tr', { hasText: 'ian admin' }).waitFor();
    const acts = await column(page, 'Action');
    ok(acts.length === 2 && acts.every(a => a === 'user-add'), 'filtered by action: the two accounts added', acts);

    const words = await verify(page);
    ok(/^The log is intact: \d+ entries/.test(words), 'Verify says the log is intact, with the count', words);
    is(await page.locator('#verify-result .tag').textContent(), 'Verified', 'the result is tagged Verified');
    await shot(page, 'audit-verified');
    console.log('# ' + words);

    await page.goto(base + '/#/audit/S-2');
    await page.getByRole('heading', { level: 1, name: 'Record of disclosures: S-2' }).waitFor();
    await page.locator('#audit-entries tbody tr').first().waitFor();
    const txt = await page.locator('#audit-entries tbody').textContent();
    ok(txt.includes('guardian-link'), 'the student\'s page holds that student\'s entries', txt.slice(0, 400));
    await shot(page, 'audit-student-page');
    await accessible(page, 'a student\'s record of disclosures');

    const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await signInAt(phone, base, 'audit', 'maria', env.MARIA_PW);
    await phone.locator('#audit-entries tbody tr').first().waitFor();
    ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
       'on a phone, the Audit page fits its width (the table scrolls in its box)');
    await shot(phone, 'audit-phone');
  }
} finally {
  await browser.close();
}
done();

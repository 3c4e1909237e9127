// The Send page as a registrar uses it: a consent the parent gave, uploaded,
// every release rule checked (all pass), the record sent; consents that
// fail one rule each (another school, another student, revoked)
// show that rule in words and keep Send disabled (an expired one is
// tested with curl in console_send.sh, by a node whose clock is moved on); a class's consent files
// sent one by one with a progress bar and each student's outcome.
//   node send.mjs BASE TMP  (TMP/c holds the consents, TMP/class the class's;
//   the packet id sent is written to TMP/packet)
import { writeFileSync } from 'node:fs';
import { ok, is, done, launch, newPage, shot, accessible } from './lib.mjs';

// Signs in on the page at hash (the console opens there once signed in).
async function signInAt(page, base, hash) {
  await page.goto(base + '/' + hash);
  await page.getByLabel('User name').fill('maria');
  await page.getByLabel('Password').fill(process.env.MARIA_PW);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who-name').filter({ hasText: 'maria' }).waitFor();
}

const [base, tmp] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await newPage(browser);
  await signInAt(page, base, '#/send/S-1001');
  await page.getByRole('heading', { level: 1, name: 'Send a record' }).waitFor();
  is(await page.getByLabel('Student id').inputValue(), 'S-1001', 'the student in the address is preselected');
  await page.locator('#send-to').selectOption('RAS-204');
  const send = page.getByRole('button', { name: 'Send the record to Riverside Academy' });
  ok(await send.isDisabled(), 'Send is disabled before the rules are checked');
  await shot(page, 'send-empty');
  await accessible(page, 'the Send page');

  // check(FILE, STUDENT): uploads the consent file and checks; the verdict rows.
  async function check(file, student) {
    await page.getByLabel('Student id').fill(student);
    await page.getByLabel('Student id').dispatchEvent('change');
    await page.getByLabel('Or the family\'s consent file').setInputFiles(tmp + '/c/' + file);
    await page.locator('#send-consent option').first().filter({ hasText: 'Use the uploaded file (' + file + ')' }).waitFor({ state: 'attached' });
    await page.locator('#send-consent').selectOption('');
    await page.getByRole('button', { name: 'Check the release rules' }).click();
    await page.locator('#send-verdict table').waitFor();
    return page.locator('#send-verdict tbody tr').evaluateAll(rows =>
      rows.map(r => [...r.cells].map(c => c.textContent)));
  }
  const failing = rows => rows.filter(r => r[1].includes('fails')).map(r => r[0] + ': ' + r[2]);

  // The failures first: each names its rule, and Send stays disabled.
  const cases = [
    ['other-school.consent', 'S-1001', 'Names the receiving school', /the consent names OAK-900 .* as the receiving school/],
    ['other-student.consent', 'S-1001', 'The consent is for the student chosen', /the consent is for student S-1002, not S-1001/],
    ['revoked.consent', 'S-1002', 'Not revoked', /the consent was revoked on /],
  ];
  for (const [file, student, rule, why] of cases) {
    const rows = await check(file, student);
    const f = failing(rows);
    ok(f.length === 1 && f[0].startsWith(rule) && why.test(f[0]), file + ': the rule "' + rule + '" fails, in words', f);
    ok(await send.isDisabled(), file + ': Send stays disabled');
    await shot(page, 'send-refused-' + file.replace('.consent', ''));
  }

  const rows = await check('S-1001.consent', 'S-1001');
  is(rows.length, 11, 'a verdict for every rule');
  ok(failing(rows).length === 0 && rows.every(r => r[1].includes('passes')), 'every rule passes', rows);
  ok(rows.some(r => r[0].startsWith('Signed by a key linked') && /linked to student S-1001 as mother/.test(r[2])),
     'the signer rule says who signed');
  ok(/Every rule passes\. Would release to Riverside Academy: .*identity.*transcript/.test(await page.locator('#send-verdict').textContent()),
     'what would be released is shown');
  ok(await send.isEnabled(), 'Send is enabled once every rule passes');
  await shot(page, 'send-checked');
  await accessible(page, 'the Send page with its verdict');
  await send.click();
  const packet = page.locator('#send-packet');
  await packet.waitFor();
  const id = await packet.textContent();
  ok(/^[0-9a-f]{32}$/.test(id), 'the packet id is shown', id);
  writeFileSync(tmp + '/packet', id);
  ok(await page.getByRole('link', { name: 'the Transfers page' }).getAttribute('href') === '#/transfers',
     'a link leads to the Transfers page');
  ok((await page.locator('#message').textContent()).includes('sealed and queued for Riverside Academy'), 'success is said');
  await shot(page, 'send-sent');

  // The consent is now on file: it can be chosen instead of uploaded.
  await page.reload();
  await page.locator('#send-consent option').nth(1).waitFor({ state: 'attached' });
  const opts = await page.locator('#send-consent option').allTextContents();
  ok(opts.some(o => /^valid: to RAS-204/.test(o)), 'the consent on file is offered for S-1001', opts);

  // A class: three consents, one for a student the parent is not linked to.
  await page.locator('#cohort-to').selectOption('RAS-204');
  await page.getByLabel('Consent files', { exact: true }).setInputFiles(
    ['S-1002', 'S-1003', 'S-1004'].map(s => tmp + '/class/' + s + '.consent'));
  const go = page.getByRole('button', { name: 'Send 3 records to Riverside Academy' });
  await go.click();
  await shot(page, 'send-class-progress');
  const status = page.locator('#cohort-status');
  await status.filter({ hasText: '3 of 3 done: 2 sent, 1 refused' }).waitFor();
  is(await page.locator('#cohort-progress').evaluate(p => p.value + '/' + p.max), '3/3', 'the progress bar is full');
  const out = await page.locator('#cohort-results tbody tr').evaluateAll(rows =>
    rows.map(r => [...r.cells].map(c => c.textContent)));
  is(out.length, 3, 'an outcome for each student');
  ok(out.filter(r => r[2] === 'sent').length === 2, 'two were sent', out);
  const refused = out.find(r => r[2] === 'refused');
  ok(refused && refused[0] === 'S-1004.consent' && refused[1] === 'S-1004' && /not linked to student S-1004/.test(refused[3]),
     'S-1004 is refused, with the reason', out);
  await shot(page, 'send-class-done');
  await accessible(page, 'the Send page after a class');

  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await signInAt(phone, base, '#/send');
  await phone.getByRole('heading', { level: 1, name: 'Send a record' }).waitFor();
  ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'on a phone, the Send page fits its width');
  await shot(phone, 'send-phone');

  // At 200% zoom (a 1280 px window seen as 640 px), with the keyboard only:
  // Tab from the student to "Check", Enter; the verdict's table scrolls in its own box.
  const zoom = await newPage(browser, { viewport: { width: 640, height: 800 } });
  await signInAt(zoom, base, '#/send/S-1001');
  await zoom.getByRole('heading', { level: 1, name: 'Send a record' }).waitFor();
  await zoom.locator('#send-consent option').nth(1).waitFor({ state: 'attached' });
  await zoom.locator('#send-student').focus();
  let tabs = 0;
  while (tabs < 4 && await zoom.evaluate(() => document.activeElement.id) !== 'send-consent') {
    await zoom.keyboard.press('Tab');
    tabs++;
  }
  is(await zoom.evaluate(() => document.activeElement.id), 'send-consent', 'Tab reaches the consent on file');
  await zoom.keyboard.press('ArrowDown'); // the first consent on file
  while (tabs < 12 && await zoom.evaluate(() => document.activeElement.id) !== 'send-check') {
    await zoom.keyboard.press('Tab');
    tabs++;
  }
  is(await zoom.evaluate(() => document.activeElement.id), 'send-check', 'Tab reaches "Check the release rules"');
  await zoom.keyboard.press('Enter');
  await zoom.locator('#send-verdict table').waitFor();
  const sent = await zoom.locator('#send-verdict tbody tr').evaluateAll(rows =>
    rows.map(r => [...r.cells].map(c => c.textContent)).filter(r => r[1].includes('fails')).map(r => r[2]));
  ok(sent.length === 1 && /already sent to RAS-204 under this consent \(packet [0-9a-f]{32}, /.test(sent[0]),
     'with the keyboard: the consent on file, already used, fails only "already sent", naming the packet', sent);
  ok(await zoom.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'at 200% zoom, the page with its verdict needs no sideways scrolling');
  await shot(zoom, 'send-zoom-keyboard');
} catch (e) {
  ok(false, 'the Send page test ran', e.stack);
} finally {
  await browser.close();
  done();
}

// The Review page as a registrar uses it: the queue of held records, one
// record beside the student on file with each difference named in words,
// and the three decisions: accept as the next version, file as another
// student (a refusal first, shown beside the form), reject. On a phone too.
import { ok, is, done, launch, newPage, shot, accessible, countOnce } from './lib.mjs';

const base = process.argv[2];

// Signs in on the page at #/hash, which the console shows once signed in.
async function signIn(page, hash, user, password) {
  await page.goto(base + '/#/' + hash);
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who-name').filter({ hasText: user }).waitFor();
}
const browser = await launch();
try {
  const page = await newPage(browser);
  await signIn(page, 'review', 'maria', process.env.MARIA_PW);
  await page.getByRole('link', { name: 'Review', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Records held for review' }).waitFor();
  const rows = page.locator('#page table tbody tr');
  await rows.first().waitFor();
  is(await rows.count(), 4, 'the queue lists the four held records');
  const first = (await rows.nth(0).textContent()) || '';
  ok(/S-1001/.test(first) && /Given name/.test(first) && /a file import/.test(first),
     'each says which student it names, where it came from and why it is held', first);
  await shot(page, 'review-queue');
  await accessible(page, 'the review queue');

  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await signIn(phone, 'review', 'maria', process.env.MARIA_PW);
  await phone.locator('#page table tbody tr').first().waitFor();
  ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'on a phone, the review queue fits its width');
  await shot(phone, 'review-phone');

  const zoom = await newPage(browser, { viewport: { width: 640, height: 800 } });
  await signIn(zoom, 'review', 'maria', process.env.MARIA_PW);
  await zoom.goto(base + '/#/review/1');
  await zoom.getByRole('heading', { level: 1, name: 'Held record 1, naming S-1001' }).waitFor();
  ok(await zoom.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'at 200% zoom, a held record\'s page needs no sideways scrolling');

  // Record 1: another given name; accepted as S-1001's next version.
  await page.getByRole('link', { name: 'Review record 1' }).click();
  await page.getByRole('heading', { level: 1, name: 'Held record 1, naming S-1001' }).waitFor();
  const cells = async (field) => page.locator('#page table tbody tr', { hasText: field })
    .locator('td').allTextContents();
  const given = await cells('Given name');
  is(given.join(' | '), 'Given name | Jonah | Jonas | differs', 'the given names side by side, marked "differs" in words');
  const family = await cells('Family name');
  is(family.join(' | '), 'Family name | Fitzgerald | Fitzgerald | same', 'the family names marked "same"');
  await shot(page, 'review-detail');
  await accessible(page, 'a held record');
  await page.getByRole('button', { name: 'Accept as the next version of S-1001' }).click();
  await page.locator('#message').filter({ hasText: 'Held record 1 is now S-1001 version 2' }).waitFor();
  ok(true, 'accepting says the record is now S-1001 version 2');
  await page.getByRole('heading', { level: 1, name: 'Records held for review' }).waitFor();
  is(await countOnce(rows, 3), 3, 'and it leaves the queue');
  await shot(page, 'review-accepted');

  // Record 2: another birth date; rejected, with the keyboard only.
  await page.getByRole('link', { name: 'Review record 2' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Held record 2, naming S-1002' }).waitFor();
  const born = await cells('Birth date');
  is(born.join(' | '), 'Birth date | 2009-12-19 | 2009-12-20 | differs', 'the birth dates differ');
  let tabs = 0;
  while (tabs < 20 && await page.evaluate(() => document.activeElement.textContent) !== 'Reject') {
    await page.keyboard.press('Tab');
    tabs++;
  }
  is(await page.evaluate(() => document.activeElement.textContent), 'Reject', 'Tab reaches "Reject"');
  await page.keyboard.press('Enter');
  await page.locator('#message').filter({ hasText: 'Discarded held record 2; student S-1002 is unchanged' }).waitFor();
  ok(true, 'rejecting says the record was discarded and S-1002 is unchanged');

  // Record 3: another child; filed under a new id, after the one it names is refused.
  await page.getByRole('link', { name: 'Review record 3' }).click();
  await page.getByRole('button', { name: 'File as another student…' }).click();
  await page.getByLabel('File it as the student with id').fill('S-1001');
  await page.getByRole('button', { name: 'File as that student' }).click();
  const err = page.locator('#review-error');
  await err.filter({ hasText: 'is not this child either' }).waitFor();
  ok(/S-1001/.test(await err.textContent()), 'a student on file who is another child is refused beside the form',
     await err.textContent());
  await shot(page, 'review-file-as-refused');
  await page.getByLabel('File it as the student with id').fill('S-9003');
  await page.getByRole('button', { name: 'File as that student' }).click();
  await page.locator('#message').filter({ hasText: 'Held record 3 is now S-9003 version 1 (a new student)' }).waitFor();
  ok(true, 'filed as S-9003: a new student');
  // Record 4: from RAS, another child under S-1004's statewide id; filed as a new student.
  await page.getByRole('link', { name: 'Review record 4' }).click();
  await page.getByRole('heading', { level: 1, name: 'Held record 4, naming S-1004' }).waitFor();
  const facts = await page.locator('#page dl.kv dd').allTextContents();
  ok(facts.includes('RAS-204 (their id S-500)') && facts.some(f => /^[0-9a-f]{32}$/.test(f)),
     'a record from a school names the school, its id for the child and the packet', facts.join(' | '));
  is((await cells('Statewide id')).join(' | '), 'Statewide id | ST-2686-5996 | ST-2686-5996 | same',
     'the statewide id it was held under is the same');
  await shot(page, 'review-from-school');
  await page.getByRole('button', { name: 'File as another student…' }).click();
  await page.getByLabel('File it as the student with id').fill('S-9004');
  await page.getByRole('button', { name: 'File as that student' }).click();
  await page.locator('#message').filter({ hasText: 'Held record 4 is now S-9004 version 1 (a new student). Filed without its statewide id, which stays with S-1004' }).waitFor();
  ok(true, 'filed as S-9004, and told that the statewide id stays with S-1004');
  await page.locator('#review-empty').waitFor();
  is(await page.locator('#review-empty').textContent(), 'Nothing is held for review.', 'the queue is empty');
  await shot(page, 'review-empty');

  await page.goto(base + '/#/review/1');
  await page.locator('#page .error').waitFor();
  ok(/no held record 1/.test(await page.locator('#page .error').textContent()),
     'a decided record\'s page says there is no such held record');

} finally {
  await browser.close();
}
done();

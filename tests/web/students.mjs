// The Students area as a registrar meets it: search by part of a name, by
// id and by state id; a record section by section with its versions, an
// attachment downloaded, and a held record's notice; a file with two bad
// records previewed (both errors beside their record and field, the import
// button disabled), then a good file previewed and imported, and found.
//
//   node students.mjs URL BAD.json GOOD.json ATTACHMENT-FILE
import { readFileSync } from 'node:fs';
import { ok, is, done, launch, newPage, shot, accessible } from './lib.mjs';

const [base, badFile, goodFile, attachment, manyFile] = process.argv.slice(2);
const browser = await launch();

async function searchFor(page, term) {
  await page.getByLabel('Search by name, id or state id').fill(term);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#found').filter({ hasText: '"' + term + '"' }).waitFor();
  return page.locator('#student-results tbody tr').allTextContents();
}

// Signs in where the registrar means to go: the page opens after the sign-in.
async function signInAt(page, hash) {
  await page.goto(base + '/#/' + hash);
  await page.getByLabel('User name').fill('maria');
  await page.getByLabel('Password').fill(process.env.MARIA_PW);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who-name').filter({ hasText: 'maria' }).waitFor();
}

try {
  const page = await newPage(browser, { acceptDownloads: true });
  await signInAt(page, 'students');
  await page.locator('#found').waitFor();
  ok(await page.locator('#nav-students').getAttribute('aria-current') === 'page', 'Students is in the menu, marked as the page shown');
  ok(/240 students on file/.test(await page.locator('#found').textContent()),
     'the students page opens on the students on file, counted',
     await page.locator('#found').textContent());
  is(await page.locator('#student-results tbody tr').count(), 100, 'a page of 100 students at first');
  ok(await page.getByRole('button', { name: /Show the next 100 of 140 more/ }).isVisible(),
     'a button shows the next ones');
  await shot(page, 'students-list');
  await accessible(page, 'the students page');

  let rows = await searchFor(page, 'kai lev');
  ok(rows.length === 1 && rows[0].includes('S-1018') && rows[0].includes('Kai Levi'),
     'part of a name, in lower case, finds Kai Levi', rows);
  await shot(page, 'students-search-name');
  rows = await searchFor(page, 'S-1018');
  ok(rows.length === 1 && rows[0].includes('Kai Levi'), 'the student id finds her', rows);
  rows = await searchFor(page, 'ST-1831');
  ok(rows.length === 1 && rows[0].includes('S-1018'), 'part of the state id finds her', rows);
  rows = await searchFor(page, 'nobody-has-this');
  ok(rows.length === 0 && await page.getByText('No student matches "nobody-has-this".').isVisible(),
     'a search that finds no one says so');

  await searchFor(page, 'S-1018');
  await page.getByRole('link', { name: 'S-1018' }).click();
  await page.locator('#page h1').filter({ hasText: 'Kai Levi' }).waitFor();
  ok(true, 'the link opens the record');
  const heads = await page.locator('section.card h2').allTextContents();
  for (const h of ['Identity', 'Guardians', 'Enrollment', 'Transcript', 'Attendance', 'Attachments', 'Versions'])
    ok(heads.some(x => x.startsWith(h)), 'the record shows its ' + h + ' section', heads);
  ok(/Sensitive/.test(await page.locator('#section-health h2').textContent()) &&
     !/Sensitive/.test(await page.locator('#section-transcript h2').textContent()),
     'the health section is marked sensitive, the transcript not');
  ok(await page.locator('#section-transcript table tbody tr').count() >= 3,
     'the transcript is a table of courses');
  ok(await page.locator('#section-transcript').getByText('Algebra I').isVisible(), 'a course is in it');
  is(await page.getByRole('link', { name: 'Send this record' }).getAttribute('href'), '#/send/S-1018',
     '"Send this record" leads to sending this student');
  is(await page.locator('#guardian-keys').getByRole('link', { name: "Link a parent's key" }).getAttribute('href'),
     '#/guardians/S-1018', "\"Link a parent's key\" leads to the guardians page");
  ok(/Version 1/.test(await page.locator('#versions').textContent()) &&
     /a file import/.test(await page.locator('#versions').textContent()),
     'the versions say version 1 came from a file import');
  ok(await page.locator('#held').count() === 1 &&
     await page.locator('#held').getByRole('link', { name: 'Open the review' }).getAttribute('href') === '#/review',
     'a record held for this student is announced, with a link to the review');
  await shot(page, 'students-record');
  await accessible(page, 'a student record');

  const [dl] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('link', { name: 'transcript.pdf' }).click()]);
  is(dl.suggestedFilename(), 'transcript.pdf', 'the attachment downloads under its name');
  const got = readFileSync(await dl.path());
  ok(got.equals(readFileSync(attachment)), 'the downloaded bytes are the file imported', got.length);

  const [ex] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download the record (JSON)' }).click()]);
  is(ex.suggestedFilename(), 'S-1018.json', 'the record downloads as S-1018.json');
  const rec = JSON.parse(readFileSync(await ex.path(), 'utf8'));
  ok(rec.student_id === 'S-1018' && rec.attachments[0].path === 'S-1018-files/transcript.pdf' &&
     rec.attachments[0].hash === undefined, 'as baton student export writes it, its attachment at S-1018-files/',
     JSON.stringify(rec.attachments));

  // An older version, picked from the list.
  await page.goto(base + '/#/students/S-1018');
  await page.locator('#versions').waitFor();
  const v1 = page.locator('#versions').getByRole('link', { name: 'Version 1' });
  await v1.click();
  await page.locator('#old-version').waitFor();
  ok(/version 1 of 2/.test(await page.locator('#old-version').textContent()),
     'picking version 1 shows it, marked as older', await page.locator('#old-version').textContent());
  ok(/Kai Levi/.test(await page.locator('#page h1').textContent()), 'the old version is her record too');
  await shot(page, 'students-old-version');

  // The import: a file with two bad records.
  await page.goto(base + '/#/import');
  await page.getByLabel('File of student records (JSON)').setInputFiles(badFile);
  await page.locator('#import-summary').waitFor();
  const prev = await page.locator('#import-preview tbody tr').allTextContents();
  is(prev.length, 3, 'the preview has a row for each record', prev);
  ok(/identity\.birth_date/.test(prev[1]) && /^2/.test(prev[1]) && /not a date/.test(prev[1]),
     'record 2: its error beside its number and field', prev[1]);
  ok(/identity\.family_name/.test(prev[2]) && /^3/.test(prev[2]) && /required field missing/.test(prev[2]),
     'record 3: its error beside its number and field', prev[2]);
  ok(/new student/.test(prev[0]), 'the good record says what it would become', prev[0]);
  ok(await page.locator('#import-preview td .error').first().evaluate(e => getComputedStyle(e).color) === 'rgb(165, 29, 45)',
     'errors are in red');
  const go = page.locator('#import-go');
  ok(await go.isDisabled(), 'the import button is disabled while there are errors');
  ok(/Correct the 2 records/.test(await page.locator('#import-why').textContent()),
     'the page says why', await page.locator('#import-why').textContent());
  await shot(page, 'students-import-errors');
  await accessible(page, 'the import page');

  // A large file: the table lists its first 1,000 records, and says the rest are only counted.
  await page.getByLabel('File of student records (JSON)').setInputFiles(manyFile);
  await page.locator('#import-more').waitFor();
  ok(/^20000 records in the file, 20000 new/.test(await page.locator('#import-summary').textContent()),
     'the preview of 20,000 records counts them all', await page.locator('#import-summary').textContent());
  is(await page.locator('#import-preview tbody tr').count(), 1000, 'its table lists the first 1,000');
  ok(/first 1000 good records; 19000 more are counted above but not listed/.test(await page.locator('#import-more').textContent()),
     'and says 19,000 more are not listed', await page.locator('#import-more').textContent());
  await shot(page, 'students-import-many');

  // A good file: preview, import, found.
  await page.getByLabel('File of student records (JSON)').setInputFiles(goodFile);
  await page.locator('#import-summary').filter({ hasText: '2 new' }).waitFor();
  ok(/2 records in the file, 2 new/.test(await page.locator('#import-summary').textContent()),
     'the preview of the good file: two new students');
  is(await go.textContent(), 'Import 2 records', 'the button says how many it imports');
  ok(await go.isEnabled(), 'and it can be pressed');
  await shot(page, 'students-import-preview');
  await go.click();
  await page.locator('#import-done').waitFor();
  ok(/Imported 2 records: 2 new/.test(await page.locator('#import-done').textContent()), 'the import is confirmed');
  await shot(page, 'students-import-done');
  await page.getByRole('link', { name: 'Find them among the students' }).click();
  rows = await searchFor(page, 'Quill');
  ok(rows.length === 2 && rows.some(r => r.includes('N-9001')) && rows.some(r => r.includes('N-9002')),
     'the imported students are found by search', rows);

  // On a phone: the record fits, its wide tables scroll in their own box.
  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await (async () => {
    await phone.goto(base + '/#/students/S-1018');
    await phone.getByLabel('User name').fill('maria');
    await phone.getByLabel('Password').fill(process.env.MARIA_PW);
    await phone.getByRole('button', { name: 'Sign in' }).click();
  })();
  await phone.locator('#section-transcript').waitFor();
  ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'on a phone, the record fits its width');
  await shot(phone, 'students-record-phone');
  await phone.goto(base + '/#/students');
  await phone.locator('#found').waitFor();
  ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'on a phone, the search fits its width');

  // Keyboard only: from the search box to a record.
  await page.goto(base + '/#/students');
  await page.locator('#found').waitFor();
  await page.getByLabel('Search by name, id or state id').focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type('S-1030');
  await page.keyboard.press('Enter');
  await page.locator('#found').filter({ hasText: 'S-1030' }).waitFor();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  is(await page.evaluate(() => document.activeElement.textContent), 'S-1030', 'Tab reaches the result');
  await page.keyboard.press('Enter');
  await page.locator('#page h1 .mono').filter({ hasText: 'S-1030' }).waitFor();
  ok(true, 'Enter opens it');
} finally {
  await browser.close();
}
done();

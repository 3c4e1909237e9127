// A parent files a statement of disagreement (34 CFR 99.21) from the
// family's pages, on a phone: signed in with a key file from 'baton
// guardian keygen', the parent opens the record, asks to disagree with the
// transcript, is refused an empty statement, reads the summary made from
// the very bytes to be signed, signs with the passphrase and sees the
// statement under the section; the school's command line has it, signed by
// that key; the registrar's console shows it with the section. axe-core on
// each view.
//
//   node dissent.mjs BASE BATON LHS_DIR KEYFILE
// BASE is LHS's console; KEYFILE the parent's key file (linked to S-1001),
// its passphrase in BATON_PASSPHRASE; MARIA_PW the registrar's password.
import { spawnSync } from 'node:child_process';
import { ok, is, done, launch, shot, accessible, signIn, newPage } from './lib.mjs';

const [base, baton, lhs, keyfile] = process.argv.slice(2);
const PASS = process.env.BATON_PASSPHRASE;
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };
const TEXT = 'The transcript lists Algebra I as failed.\nHe passed the retake in June.';

function cli(args) {
  const r = spawnSync(baton, [...args, '--dir', lhs], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout || '', err: r.stderr || '' };
}

async function view(page, name, ms = 60000) {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor({ timeout: ms });
}

const browser = await launch();
try {
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const page = await ctx.newPage();
  page.on('pageerror', e => ok(false, 'no script error on the page', e.message));
  const csp = [];
  page.on('console', m => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
  const posted = [];
  page.on('request', q => {
    if (/\/api\/v1\/family\/statements$/.test(q.url()) && q.method() === 'POST') posted.push(q.postDataJSON());
  });

  await page.goto(base + '/family/');
  await view(page, 'Sign in');
  await page.getByLabel('Key file', { exact: true }).setInputFiles(keyfile);
  await page.getByLabel('The key file\'s passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Use this key file' }).click();
  await view(page, 'Your children');
  ok(true, 'the parent signs in with the key file');

  await page.getByRole('link', { name: 'The record' }).first().click();
  await view(page, 'Jonah\'s record');
  const part = page.locator('#dissent-transcript');
  await part.waitFor();
  is(await part.locator('.statement-text').count(), 0, 'the transcript has no statement yet');
  await accessible(page, 'the record with the way to disagree');

  // Empty: refused in the page, nothing sent.
  await page.locator('#dis-open-transcript').click();
  await page.getByRole('button', { name: 'Review' }).click();
  await page.locator('#dis-error-transcript').filter({ hasText: 'Write what you disagree with first' }).waitFor();
  ok(posted.length === 0, 'an empty statement is refused in the page, nothing sent');

  await page.getByLabel('What is wrong with Courses and grades, in your words').fill(TEXT);
  await page.getByRole('button', { name: 'Review' }).click();
  const sum = page.locator('#dis-summary-transcript');
  await sum.waitFor();
  const lines = await sum.locator('li').allTextContents();
  ok(lines.some(l => l === 'You disagree with: Courses and grades.') && lines.some(l => /Jonah Fitzgerald's record at Lincoln High School/.test(l)),
     'the summary names the child, the school and the section, read from the bytes to be signed', lines);
  is((await page.locator('#dissent-transcript blockquote.statement-text').textContent()), TEXT,
     'and shows the text exactly as it will be signed');
  await accessible(page, 'the statement\'s summary before signing');
  await shot(page, 'family-dissent-summary');

  // A wrong passphrase: refused, nothing sent.
  await page.locator('#dis-sign-transcript-pass').fill('not the passphrase at all');
  await page.getByRole('button', { name: 'Sign and file the statement' }).click();
  await page.locator('#dis-sign-transcript-error').filter({ hasText: /does not open/ }).waitFor();
  ok(posted.length === 0, 'a wrong passphrase signs nothing and sends nothing');

  await page.locator('#dis-sign-transcript-pass').fill(PASS);
  await page.getByRole('button', { name: 'Sign and file the statement' }).click();
  await page.locator('#status').filter({ hasText: 'Your statement is filed with the record.' }).waitFor();
  await page.locator('#dissent-transcript .statement-text').filter({ hasText: 'He passed the retake' }).waitFor();
  ok(true, 'the statement is filed and shown under the transcript');
  ok(posted.length === 1 && /^[0-9a-f]+$/.test(posted[0].statement) && !JSON.stringify(posted).includes(PASS),
     'the page posted the signed statement, never the passphrase', JSON.stringify(posted));
  await accessible(page, 'the record with the statement');
  await shot(page, 'family-dissent-filed');
  ok(csp.length === 0, 'no Content Security Policy violation', csp.join('\n'));

  // The school's side: kept, signed by this key, audited.
  const shown = cli(['student', 'show', 'S-1001', '--json']);
  let st = [];
  try { st = JSON.parse(shown.out).statements; } catch (e) { /* checked below */ }
  ok(st.length === 1 && st[0].section === 'transcript' && st[0].text === TEXT && st[0].role === 'guardian',
     'baton student show --json has the statement, its text byte for byte', shown.out + shown.err);
  const pub = spawnSync(baton, ['guardian', 'pubkey', keyfile], { encoding: 'utf8' });
  ok(st.length === 1 && (pub.stdout + pub.stderr).includes(st[0].signer),
     'signed by the parent\'s key', st[0] && st[0].signer);
  const a = cli(['audit', '--student', 'S-1001']);
  ok(/dissent .*statement of disagreement [0-9a-f]{32} with transcript/.test(a.out), 'the school\'s audit log has the filing', a.out);
  await ctx.close();

  // The registrar's console shows it with the section.
  const cp = await newPage(browser);
  await signIn(cp, base, 'maria', process.env.MARIA_PW);
  await cp.goto(base + '/#/students/S-1001');
  const cs = cp.locator('#section-transcript #statements-transcript');
  await cs.waitFor();
  ok((await cs.textContent()).includes('The parent disagrees with this section') &&
     (await cs.locator('.statement-text').textContent()) === TEXT,
     'the console\'s student page shows the statement in the transcript\'s card');
  await accessible(cp, 'the console\'s student page with a statement');
  await shot(cp, 'console-student-dissent');
} finally {
  await browser.close();
}
done();

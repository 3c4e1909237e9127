// The family's pages as a family lives them, on a phone (390x844): the
// registrar invites a parent in the console; the parent opens the link,
// makes a key in the page and reads its fingerprint to the registrar, who
// confirms it in the console; the parent signs in, reads the record,
// grants a consent after reading its summary; the registrar sends the
// record under it, the other school's receipt comes back, and the parent
// sees that disclosure with its receipt; the parent revokes the consent in
// the page, and a new send with it is refused EREVOKED. On the way: the
// consent made in the page verifies with 'baton consent show'; the key made
// in the page signs a consent with 'baton consent grant --key'; a key made
// by 'baton guardian keygen' is loaded into the page and signs in; a child
// who now holds the rights is shown so; Spanish, chosen and from the
// browser's language; a sign-in with the keyboard alone; axe-core on every
// view; a screenshot of each.
//
//   node family.mjs BASE BATON LHS_DIR TMP
// BASE is LHS's console (http://127.0.0.1:PORT); BATON the binary; TMP a
// scratch directory; MARIA_PW in the environment (the registrar).
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { ok, is, done, launch, newPage, shot, accessible, countOnce } from './lib.mjs';

const [base, baton, lhs, tmp] = process.argv.slice(2);
const PASS = 'plum kettle under the bridge';
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

// baton ARGS... in LHS's directory: {code, out, err}.
function cli(args, env = {}) {
  const r = spawnSync(baton, [...args, '--dir', lhs], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout || '', err: r.stderr || '' };
}
function cliFree(args, env = {}) {
  const r = spawnSync(baton, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout || '', err: r.stderr || '' };
}

// The registrar's console, as maria: api(method, path, body) -> {status, data}.
const reg = { cookie: '', csrf: '' };
async function api(method, path, body) {
  const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': reg.csrf, Cookie: reg.cookie,
    Origin: base };
  const r = await fetch(base + '/api/v1/' + path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  if (r.headers.getSetCookie) for (const c of r.headers.getSetCookie()) reg.cookie = c.split(';')[0];
  let data = null;
  try { data = await r.json(); } catch (e) { /* no JSON */ }
  return { status: r.status, data };
}

// The heading of the view now shown (level 1), once it reads name.
async function view(page, name, ms = 60000) {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor({ timeout: ms });
}

// Where the keyboard's focus is: the element's id, or its tag.
async function focused(page) {
  return page.evaluate(() => document.activeElement ? (document.activeElement.id || document.activeElement.tagName) : '');
}

const browser = await launch();
try {
  let r = await api('POST', 'session', { user: 'maria', password: process.env.MARIA_PW });
  is(r.status, 200, 'the registrar signs in to the console');
  reg.csrf = r.data.csrf;

  // ---- the invitation, made in the console ----
  r = await api('POST', 'students/S-1001/invites', { relation: 'mother' });
  is(r.status, 201, 'the registrar invites S-1001\'s mother in the console');
  const inv = r.data;
  writeFileSync(join(tmp, 'invite.code'), inv.code + '\n'); // for the log check after
  ok(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/.test(inv.code) && inv.url === base + '/family/#invite=' + inv.code,
     'the invitation has a code and the URL of the family page with the code after #', inv);

  // ---- the parent, on a phone ----
  const ctx = await browser.newContext({ ...PHONE, acceptDownloads: true, locale: 'en-US' });
  const page = await ctx.newPage();
  page.on('pageerror', e => ok(false, 'no script error on the page', e.message));
  const csp = [];
  page.on('console', m => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
  const posted = {};
  page.on('request', q => {
    const m = /\/api\/v1\/family\/(consents|revocations|session|enrol)$/.exec(q.url());
    if (m && q.method() === 'POST') posted[m[1]] = q.postDataJSON();
  });
  await page.goto(inv.url);
  await view(page, 'Set up your family key');
  is(await focused(page), 'H1', 'enrolment: the focus is on the view\'s heading');
  await accessible(page, 'enrolment');
  await shot(page, 'family-enrol');
  ok(/[0-9a-f]{64}/.test(await page.locator('#bundle').textContent()), 'the footer shows the page\'s bundle hash',
     await page.locator('#bundle').textContent());
  const hash = cliFree(['web', 'hash']);
  is((await page.locator('#bundle').textContent()).trim(), hash.out.trim(), 'and it is what baton web hash prints');

  // Too short, then two that differ: refused in words, nothing made.
  await page.getByLabel('Passphrase', { exact: true }).fill('short');
  ok(/Too short/.test(await page.locator('#pass-meter').textContent()), 'the strength hint says a short passphrase is too short');
  await page.getByLabel('Passphrase', { exact: true }).fill('aaaaaaaaaaaa');
  ok(/Easy to guess/.test(await page.locator('#pass-meter').textContent()), 'and one that repeats a character easy to guess');
  await page.getByLabel('Passphrase', { exact: true }).fill('short');
  await page.getByLabel('The same passphrase again').fill('short');
  await page.getByRole('button', { name: 'Make my key' }).click();
  await page.locator('#enrol-error').filter({ hasText: 'at least 10 characters' }).waitFor();
  ok(true, 'a passphrase under 10 characters is refused, naming the field');
  await page.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await page.getByLabel('The same passphrase again').fill(PASS + 'x');
  await page.getByRole('button', { name: 'Make my key' }).click();
  await page.locator('#enrol-error').filter({ hasText: 'do not match' }).waitFor();
  ok(true, 'two passphrases that differ are refused');
  is(await page.evaluate(() => localStorage.getItem('baton-family-key')), null, 'and no key was made');
  ok(/Strong/.test(await page.locator('#pass-meter').textContent()), 'a long passphrase is called strong');

  await page.getByLabel('The same passphrase again').fill(PASS);
  // Every words the progress region takes, however briefly.
  await page.evaluate(() => {
    window.statuses = [];
    new MutationObserver(() => window.statuses.push(document.getElementById('status').textContent))
      .observe(document.getElementById('status'), { childList: true, characterData: true, subtree: true });
  });
  await page.getByRole('button', { name: 'Make my key' }).click();
  await view(page, 'Read your key\'s fingerprint to the registrar');
  const said = await page.evaluate(() => window.statuses);
  ok(said.some(x => /^Making your key/.test(x)) && said.some(x => /^Sending the public half/.test(x)),
     'the progress region said the key was being made, then sent', said);
  is(await page.getAttribute('#status', 'aria-live'), 'polite', 'and a screen reader hears it (aria-live)');
  is(await focused(page), 'H1', 'the fingerprint view: the focus is on its heading');
  const fpr = (await page.locator('#my-fpr').textContent()).trim().split(/\s+/).join('-');
  ok(/^[A-Z2-7]{5}(-[A-Z2-7]{5}){4}$/.test(fpr), 'the key\'s fingerprint is shown large, in five groups', fpr);
  const stored = await page.evaluate(() => JSON.parse(localStorage.getItem('baton-family-key')));
  ok(stored && /^baton-gk1-/.test(stored.line) && stored.file.length > 100, 'the encrypted key file and its line are in localStorage', stored);
  ok(!JSON.stringify(posted.enrol).includes(stored.file), 'the enrolment sent the public line, not the key file');
  is(posted.enrol.key, stored.line, 'the enrolment sent the key\'s public line');
  await accessible(page, 'the fingerprint to read');
  await shot(page, 'family-enrolled');
  await page.getByLabel('Language').selectOption('es');
  await view(page, 'Lea la huella de su clave al secretario o la secretaria');
  is((await page.locator('#my-fpr').textContent()).trim().split(/\s+/).join('-'), fpr,
     'switched to Spanish, the same fingerprint stays on screen');
  await accessible(page, 'the fingerprint to read, in Spanish');
  await shot(page, 'family-enrolled-es');
  await page.getByLabel('Idioma').selectOption('en');
  await view(page, 'Read your key\'s fingerprint to the registrar');

  // The registrar's console shows the claimed key: the same fingerprint.
  r = await api('GET', 'invites?student=S-1001');
  const claimed = (r.data || []).find(x => x.id === inv.id);
  ok(claimed && claimed.state === 'claimed' && claimed.fingerprint === fpr,
     'the console lists the invitation as claimed, with the fingerprint the parent reads', claimed);

  // The backup: guardian.key.
  const dl = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Save my key file (guardian.key)' }).click();
  const d = await dl;
  is(d.suggestedFilename(), 'guardian.key', 'the key file is offered as guardian.key');
  const keyPath = join(tmp, 'page.key');
  await d.saveAs(keyPath);
  chmodSync(keyPath, 0o600);
  is(readFileSync(keyPath).length, 112, 'it is a 112-byte guardian key file');

  // Not yet confirmed: the key cannot sign in.
  await page.getByRole('button', { name: 'Go to sign in' }).click();
  await view(page, 'Sign in');
  await accessible(page, 'sign-in');
  await shot(page, 'family-signin');
  await page.getByLabel('Your passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#signin-error').filter({ hasText: 'registrar must first confirm' }).waitFor();
  ok(true, 'before the registrar confirms, sign-in is refused in plain words');
  await shot(page, 'family-not-confirmed');

  // A wrong passphrase: refused in the page, nothing sent.
  await page.getByLabel('Your passphrase').fill('not the passphrase at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#signin-error').filter({ hasText: 'does not open this key' }).waitFor();
  ok(true, 'a wrong passphrase is refused: it does not open the key');

  r = await api('POST', 'invites/' + inv.id + '/confirm');
  is(r.status, 200, 'the registrar confirms the fingerprint in the console');
  const linked = cli(['student', 'show', 'S-1001']);
  ok(linked.out.includes(fpr), 'S-1001 has the key made in the page linked', linked.out + linked.err);

  // ---- sign in ----
  await page.getByLabel('Your passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await view(page, 'Your children');
  ok(posted.session && /^[0-9a-f]{128}$/.test(posted.session.signature) && posted.session.key === stored.line,
     'the sign-in sent the key line, the nonce and a signature, never the passphrase',
     JSON.stringify(posted.session));
  ok(!JSON.stringify(posted).includes(PASS), 'the passphrase never left the page');
  is(await focused(page), 'H1', 'home: the focus is on its heading');
  await page.getByRole('heading', { level: 2, name: 'Jonah Fitzgerald' }).waitFor();
  ok(true, 'home lists S-1001, Jonah Fitzgerald');
  await accessible(page, 'home');
  await shot(page, 'family-home');

  // ---- the record ----
  // The record as the school's answer gives it, with two sections of record schema
  // version 2 added on the way (custody and graduation): how the page shows them.
  const recordUrl = /\/api\/v1\/family\/students\/S-1001$/;
  await page.route(recordUrl, async route => {
    const res = await route.fetch();
    const rec = await res.json();
    rec.sections = { ...rec.sections, graduation: { credits_earned: 22.5, expected_year: 2027 },
      custody: [{ name: 'Pat Doe', restriction: 'May not pick up the student' }] };
    await route.fulfill({ response: res, json: rec });
  });
  await page.getByRole('link', { name: 'The record' }).first().click();
  await view(page, 'Jonah\'s record');
  await page.getByRole('heading', { level: 2, name: 'Identity' }).waitFor();
  ok(true, 'the record shows its sections, Identity among them');
  ok(await page.getByText('Fitzgerald', { exact: true }).count() > 0, 'with the family name in it');
  await page.getByRole('heading', { level: 2, name: 'Courses and grades' }).waitFor();
  ok(true, 'and the transcript, under a plain name');
  const cards = await page.locator('section.card.section').evaluateAll(l =>
    l.map(e => e.getAttribute('aria-labelledby')).filter(id => id !== 'sec-ids'));
  is(cards[0], 'sec-custody', 'custody comes before every other section', cards.join(' '));
  ok(await page.locator('section.safety[aria-labelledby="sec-custody"]').count() === 1 &&
     /Read this first/.test(await page.locator('section[aria-labelledby="sec-custody"]').textContent()) &&
     /Pat Doe/.test(await page.locator('section[aria-labelledby="sec-custody"]').textContent()),
     'and stands out, saying to read it first, with the person it names');
  ok(/sensitive/.test(await page.locator('#sec-custody').textContent()), 'custody is marked sensitive');
  ok(await page.getByRole('heading', { level: 2, name: 'Progress to graduation' }).count() === 1 &&
     !/sensitive/.test(await page.locator('#sec-graduation').textContent()),
     'graduation is shown under a plain name, not marked sensitive');
  await accessible(page, 'the record');
  await shot(page, 'family-record');
  await page.unroute(recordUrl);

  // ---- requests (none here) ----
  await page.getByRole('link', { name: 'Requests waiting' }).click();
  await view(page, 'Requests about Jonah');
  await page.locator('#req-none').waitFor();
  ok(true, 'no school is waiting for a consent, and the page says so');
  await accessible(page, 'requests');

  // ---- grant a consent ----
  await page.getByRole('link', { name: 'Grant a consent' }).click();
  await view(page, 'Grant a consent for Jonah');
  await page.getByLabel('The school that will receive it').selectOption({ label: 'Riverside Academy (RAS-204)' });
  for (const s of ['Health', 'Special education', 'Discipline', 'Custody and pick-up restrictions',
    'English learner', 'Housing (McKinney-Vento)', 'Section 504 plan'])
    is(await page.getByLabel(s, { exact: true }).isChecked(), false, s + ' (sensitive) is not ticked');
  ok(/sensitive/.test(await page.locator('#sec-health-hint').textContent()), 'and the page says in words why');
  for (const s of ['custody', 'english_learner', 'homeless', 'section_504'])
    ok(/sensitive: it is not ticked/.test(await page.locator('#sec-' + s + '-hint').textContent()),
       'the page explains ' + s + ' in plain words, and why it is not ticked');
  ok(/may not pick up/.test(await page.locator('#sec-custody-hint').textContent()),
     'custody says what it holds: who may not pick the child up');
  is(await page.getByLabel('Progress to graduation', { exact: true }).isChecked(), true,
     'graduation is not sensitive and is ticked, as "all" includes it');
  is(await page.getByLabel('Identity', { exact: true }).isChecked(), true, 'identity is always sent');
  await page.getByLabel('Tests and exams', { exact: true }).uncheck();
  await page.getByLabel('Why (both schools will see this)').fill('Enrolment at Riverside Academy');
  await accessible(page, 'the consent form');
  await shot(page, 'family-grant');
  await page.getByRole('button', { name: 'Check before signing' }).click();
  await page.getByRole('heading', { level: 2, name: 'Check what you are about to sign' }).waitFor();
  const summary = await page.locator('#summary').textContent();
  ok(/Riverside Academy \(RAS-204\)/.test(summary) && /Lincoln High School \(LHS-001\)/.test(summary),
     'the summary names both schools', summary);
  ok(/What may be sent: Identity, Enrolment, Courses and grades, Progress to graduation, Attendance, Family contacts\./.test(summary),
     'the summary lists the sections ticked, not the one unticked', summary);
  ok(/Why: Enrolment at Riverside Academy/.test(summary), 'and the purpose', summary);
  await accessible(page, 'the summary before signing');
  await shot(page, 'family-summary');
  await page.getByLabel('Your passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign and give this consent' }).click();
  await view(page, 'Your consents for Jonah');
  await page.locator('.consent .tag.ok').first().waitFor();
  ok(true, 'the consent is listed as active');
  ok(posted.consents && /^[0-9a-f]+$/.test(posted.consents.consent), 'the page posted the signed consent');
  const consentPath = join(tmp, 'page.consent');
  writeFileSync(consentPath, Buffer.from(posted.consents.consent, 'hex'));
  let c = cliFree(['consent', 'show', consentPath]);
  is(c.code, 0, 'baton consent show verifies the consent made in the page');
  ok(c.out.includes(fpr) && /S-1001/.test(c.out) && /RAS-204/.test(c.out) && !/assessments/.test(c.out),
     'it names S-1001, RAS-204, the page\'s key, and not the section left out', c.out + c.err);
  const consentId = await page.locator('.consent').first().getAttribute('data-id');
  await accessible(page, 'consents');
  await shot(page, 'family-consents');

  // ---- the registrar sends it; the receipt comes back ----
  r = await api('POST', 'send', { student: 'S-1001', to: 'RAS-204', consent: consentId });
  ok(r.status === 200 && r.data.sent === true, 'the registrar sends S-1001 to RAS-204 under it, in the console', r);
  let receipted = false;
  for (let i = 0; i < 120 && !receipted; i++) {
    const o = cli(['outbox']);
    receipted = o.out.split('\n').some(l => l.includes(r.data.packet) && /receipted/.test(l));
    if (!receipted) await new Promise(res => setTimeout(res, 1000));
  }
  ok(receipted, 'RAS-204\'s receipt came back');
  await page.getByRole('link', { name: 'Disclosures' }).click();
  await view(page, 'Who received Jonah\'s record');
  const disc = page.locator('.disclosure').first();
  await disc.waitFor();
  const dt = await disc.textContent();
  ok(/Riverside Academy \(RAS-204\)/.test(dt), 'the disclosure names the school', dt);
  const ras = cli(['peer', 'list']).out.split('\n').find(l => l.startsWith('RAS-204')) || '';
  const rasFpr = (/[A-Z2-7]{5}(-[A-Z2-7]{5}){4}/.exec(ras) || [''])[0];
  ok(rasFpr && dt.replace(/\s+/g, '').includes(rasFpr.replace(/-/g, '')), 'and its fingerprint', rasFpr + ' in ' + dt);
  ok(/received by the school/.test(dt), 'and that the receipt came back', dt);
  ok(/a signed consent/.test(dt) && dt.includes(consentId), 'under the parent\'s consent, by its number', dt);
  ok(/maria/.test(dt), 'released by maria', dt);
  ok(/Enrolment/.test(dt) && /Identity/.test(dt), 'with the sections sent', dt);
  await accessible(page, 'disclosures');
  await shot(page, 'family-disclosures');

  // ---- revoke in the page ----
  await page.getByRole('link', { name: 'Consents' }).click();
  await view(page, 'Your consents for Jonah');
  await page.getByRole('button', { name: 'Revoke' }).click();
  ok((await focused(page)).startsWith('revoke-'), 'Revoke asks for the passphrase, with the focus there');
  await page.getByLabel('Your passphrase').fill(PASS);
  await page.getByRole('button', { name: 'Sign and revoke this consent' }).click();
  await page.locator(`.consent[data-id="${consentId}"] .tag.bad`).waitFor();
  ok(true, 'the consent is shown revoked');
  ok(posted.revocations && /^[0-9a-f]+$/.test(posted.revocations.revocation), 'the page posted a signed revocation');
  await accessible(page, 'a revoked consent');
  await shot(page, 'family-revoked');
  c = cli(['send', 'S-1001', '--to', 'RAS-204', '--consent', consentPath, '--again', '--out', join(tmp, 'after.packet')]);
  ok(c.code !== 0 && /EREVOKED|revoked/.test(c.err), 'baton send with the revoked consent is refused EREVOKED', c.err);
  ok(!existsSync(join(tmp, 'after.packet')), 'and writes no packet');

  // ---- the key made in the page, used by the command line ----
  c = cliFree(['consent', 'grant', '--key', keyPath, '--student', 'S-1001', '--from', join(tmp, 'LHS-001.card'),
    '--to', join(tmp, 'RAS-204.card'), '--sections', 'transcript', '--yes', '--out', join(tmp, 'cli.consent')],
    { BATON_PASSPHRASE: PASS });
  is(c.code, 0, 'baton consent grant --key opens the key file the page made', c.err);
  c = cliFree(['consent', 'show', join(tmp, 'cli.consent')]);
  ok(c.code === 0 && c.out.includes(fpr), 'and the consent it signs carries that key', c.out + c.err);

  // ---- a request from the other school, approved: the grant form filled from it ----
  c = cliFree(['request', '--from', 'LHS-001', '--consent', join(tmp, 'cli.consent'), '--note', 'enrolling Monday',
    '--dir', join(tmp, 'ras')]);
  is(c.code, 0, 'RAS-204 asks LHS-001 for S-1001\'s transcript', c.err);
  let asked = 0;
  for (let i = 0; i < 60 && !asked; i++) {
    await page.goto(base + '/family/#/s/S-1001/requests');
    await page.reload(); // the view anew, with the node's answer of now
    await view(page, 'Requests about Jonah');
    await page.locator('#req-none, .request').first().waitFor();
    asked = await page.locator('.request').count();
    if (!asked) await new Promise(res => setTimeout(res, 1000));
  }
  ok(asked === 1, 'the request waits in the parent\'s Requests view',
     'LHS holds: ' + cli(['requests', '--json']).out + '\nthe family API answers: ' + await page.evaluate(() =>
       fetch('/api/v1/family/students/S-1001/requests', { headers: { 'X-CSRF-Token': sessionStorage.getItem('baton-family-token') } })
         .then(r => r.status + ' ' + r.statusText).catch(e => e.message)));
  const rq = await page.locator('.request').first().textContent();
  ok(/Riverside Academy \(RAS-204\)/.test(rq) && /Courses and grades/.test(rq), 'naming the school and what it asks for', rq);
  await accessible(page, 'a request waiting');
  await shot(page, 'family-requests');
  await page.getByRole('link', { name: 'Approve: grant a consent' }).click();
  await view(page, 'Grant a consent for Jonah');
  await page.locator('#grant-from-request').waitFor();
  is(await page.getByLabel('The school that will receive it').inputValue(),
     (await page.locator('#grant-to option', { hasText: 'RAS-204' }).getAttribute('value')), 'approving fills in the school that asked');
  is(await page.getByLabel('Courses and grades', { exact: true }).isChecked(), true, 'and the section it asks for');
  is(await page.getByLabel('Attendance', { exact: true }).isChecked(), false, 'and not one it does not');
  await shot(page, 'family-grant-from-request');

  // ---- a child who now holds the rights ----
  c = cli(['guardian', 'link', 'S-1014', stored.line, '--relation', 'mother']);
  is(c.code, 0, 'the registrar links the same key to S-1014, who is 18', c.err);
  await page.getByRole('link', { name: 'All your children' }).click();
  await view(page, 'Your children');
  const adult = page.locator('li.child').filter({ hasText: 'now holds the rights' });
  is(await countOnce(adult, 1), 1, 'home says that S-1014 now holds the rights to the record');
  is(await adult.getByRole('link').count(), 0, 'and offers no way into that record');
  await shot(page, 'family-home-eligible');

  // ---- sign out ----
  await page.getByRole('button', { name: 'Sign out' }).click();
  await view(page, 'Sign in');
  ok(true, 'signing out comes back to the sign-in view');
  ok(csp.length === 0, 'no Content Security Policy violation on the way', csp.join('\n'));
  await ctx.close();

  // ---- a key made by the command line, loaded into the page ----
  c = cliFree(['guardian', 'keygen', '--out', join(tmp, 'cli.key')], { BATON_PASSPHRASE: PASS });
  is(c.code, 0, 'a parent makes a key with baton guardian keygen', c.err);
  const cliLine = readFileSync(join(tmp, 'cli.key.pub'), 'utf8').trim();
  c = cli(['guardian', 'link', 'S-1006', cliLine, '--relation', 'father']);
  is(c.code, 0, 'and the registrar links it to S-1006', c.err);
  const ctx2 = await browser.newContext({ ...PHONE, acceptDownloads: true, locale: 'es-ES' });
  const p2 = await ctx2.newPage();
  p2.on('pageerror', e => ok(false, 'no script error on the page', e.message));
  await p2.goto(base + '/family/');
  await view(p2, 'Iniciar sesión');
  is(await p2.evaluate(() => document.documentElement.lang), 'es', 'a browser set to Spanish gets the page in Spanish');
  await accessible(p2, 'sign-in in Spanish');
  await shot(p2, 'family-signin-es');
  await p2.getByLabel('Archivo de clave', { exact: true }).setInputFiles(join(tmp, 'cli.key'));
  await p2.getByLabel('La frase de contraseña del archivo').fill(PASS);
  await p2.getByRole('button', { name: 'Usar este archivo de clave' }).click();
  await view(p2, 'Sus hijos');
  ok(true, 'the key file from baton guardian keygen, loaded into the page, signs in');
  await p2.getByRole('heading', { level: 2, name: 'Marisol Murphy' }).waitFor();
  ok(true, 'and sees S-1006');
  is(await p2.evaluate(() => JSON.parse(localStorage.getItem('baton-family-key')).line), cliLine,
     'the loaded key is kept on the device with its line');
  await p2.getByRole('link', { name: 'El expediente' }).click();
  await view(p2, 'Expediente de Marisol');
  await p2.getByRole('heading', { level: 2, name: /Educación especial/ }).waitFor();
  ok(true, 'the record, in Spanish, with its special education section marked');
  await accessible(p2, 'the record in Spanish');
  await shot(p2, 'family-record-es');
  const file = p2.locator('ul.files button').first();
  if (await file.count()) {
    const dl2 = p2.waitForEvent('download');
    await file.click();
    const got = await dl2;
    const path = await got.path();
    ok(path && readFileSync(path).length > 0, 'an attachment downloads, through the session\'s token', got.suggestedFilename());
  } else {
    ok(false, 'S-1006\'s record lists its attachment');
  }
  await p2.getByLabel('Idioma').selectOption('en');
  await view(p2, 'Marisol\'s record');
  is(await p2.evaluate(() => document.documentElement.lang), 'en', 'choosing English turns the page to English');
  await ctx2.close();

  // ---- a code that is not one; then a second child's invitation, with the key already here ----
  const ctx4 = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const p4 = await ctx4.newPage();
  p4.on('pageerror', e => ok(false, 'no script error on the page', e.message));
  await p4.goto(base + '/family/#invite=AAAA-BBBB-CCCC');
  await view(p4, 'Set up your family key');
  await p4.getByLabel('Passphrase', { exact: true }).fill(PASS);
  await p4.getByLabel('The same passphrase again').fill(PASS);
  await p4.getByRole('button', { name: 'Make my key' }).click();
  await p4.locator('#enrol-error').filter({ hasText: 'This invitation is not known, was already used, or has expired' }).waitFor();
  ok(true, 'a code that is not an invitation is refused in plain words');
  const kept = await p4.evaluate(() => JSON.parse(localStorage.getItem('baton-family-key')));
  ok(kept && /^baton-gk1-/.test(kept.line), 'and the key made stays on the device');
  r = await api('POST', 'students/S-1003/invites', { relation: 'father' });
  is(r.status, 201, 'the registrar invites a parent of S-1003');
  await p4.goto(r.data.url);
  await view(p4, 'Set up your family key');
  await p4.getByRole('button', { name: 'Use this key for the invitation' }).click();
  await view(p4, 'Read your key\'s fingerprint to the registrar');
  is((await p4.locator('#my-fpr').textContent()).trim().split(/\s+/).join('-'), kept.fingerprint,
     'the key already on the device enrols, with its fingerprint shown');
  const inv2 = (await api('GET', 'invites?student=S-1003')).data.find(x => x.id === r.data.id);
  ok(inv2 && inv2.state === 'claimed' && inv2.key === kept.line, 'the console has that key claimed for S-1003', inv2);
  await accessible(p4, 'a second invitation, the key already here');
  await ctx4.close();

  // ---- sign-in with the keyboard alone ----
  const ctx3 = await browser.newContext({ ...PHONE, locale: 'en-US' });
  await ctx3.addInitScript(([k, v]) => { if (!localStorage.getItem(k)) localStorage.setItem(k, v); },
    ['baton-family-key', JSON.stringify(stored)]);
  const p3 = await ctx3.newPage();
  await p3.goto(base + '/family/');
  await view(p3, 'Sign in');
  let where = '';
  for (let i = 0; i < 20 && where !== 'signin-pass'; i++) {
    await p3.keyboard.press('Tab');
    where = await focused(p3);
  }
  is(where, 'signin-pass', 'Tab reaches the passphrase');
  await p3.keyboard.type(PASS);
  await p3.keyboard.press('Enter');
  await view(p3, 'Your children');
  ok(true, 'and Enter signs in: no pointer needed');
  for (let i = 0; i < 20 && !/The record/.test(await p3.evaluate(() => document.activeElement.textContent)); i++)
    await p3.keyboard.press('Tab');
  await p3.keyboard.press('Enter');
  await view(p3, 'Jonah\'s record');
  ok(true, 'the record opens from the keyboard');
  await ctx3.close();
} finally {
  done();
  await browser.close();
}

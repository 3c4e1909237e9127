// The family's email address in its own page, on a phone (390x844): a
// parent signs in with a key made by 'baton guardian keygen', sees that no
// address is on file, is told why a mistyped address is refused (and
// nothing is kept), saves an address that the registrar then sees with
// 'baton guardian email', finds it again after a reload, and removes it;
// axe-core on the section, a screenshot of it.
//
//   node notify.mjs BASE BATON LHS_DIR KEYFILE PASSPHRASE STUDENT
import { spawnSync } from 'node:child_process';
import { ok, is, done, launch, shot, accessible } from './lib.mjs';

const [base, baton, lhs, keyFile, pass, student] = process.argv.slice(2);
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

// What 'baton guardian email' says of the key at the school.
function onFile() {
  const r = spawnSync(baton, ['guardian', 'email', student, keyFile + '.pub', '--dir', lhs], { encoding: 'utf8' });
  return (r.stdout || '') + (r.stderr || '');
}

async function view(page, name) {
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor({ timeout: 60000 });
}

const browser = await launch();
try {
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const page = await ctx.newPage();
  page.on('pageerror', e => ok(false, 'no script error on the page', e.message));
  await page.goto(base + '/family/');
  await view(page, 'Sign in');
  await page.getByLabel('Key file', { exact: true }).setInputFiles(keyFile);
  await page.getByLabel('The key file\'s passphrase').fill(pass);
  await page.getByRole('button', { name: 'Use this key file' }).click();
  await view(page, 'Your children');
  ok(true, 'the parent signs in with the key file');

  const card = page.locator('#email-card');
  await card.getByRole('heading', { level: 2, name: 'Tell me by email' }).waitFor();
  await page.locator('#email-now', { hasText: 'No email address is on file' }).waitFor();
  ok(true, 'the page says no address is on file');
  ok(/No email address/.test(onFile()), 'and the school has none', onFile());

  const input = card.getByLabel('Email address');
  await input.fill('dad@@family.example');
  await card.getByRole('button', { name: 'Save the address' }).click();
  await page.locator('#email-err', { hasText: 'exactly one' }).waitFor();
  ok(true, 'a mistyped address is refused with the reason');
  is(await input.getAttribute('aria-invalid'), 'true', 'and the field is marked invalid');
  ok(/No email address/.test(onFile()), 'nothing was kept at the school', onFile());

  await input.fill('dad@family.example');
  await card.getByRole('button', { name: 'Save the address' }).click();
  await page.locator('#email-now', { hasText: 'Messages go to dad@family.example.' }).waitFor();
  ok(true, 'a good address is saved and shown');
  is(await page.locator('#status').textContent(), 'The address is saved.', 'the status line says so');
  ok(/dad@family\.example/.test(onFile()), 'the registrar sees it with baton guardian email', onFile());
  await accessible(page, 'the email section');
  await card.scrollIntoViewIfNeeded();
  await shot(page, 'family-email');

  await page.reload();
  await view(page, 'Your children');
  await page.locator('#email-now', { hasText: 'Messages go to dad@family.example.' }).waitFor();
  is(await card.getByLabel('Email address').inputValue(), 'dad@family.example', 'after a reload the address is still there');

  await card.getByRole('button', { name: 'Remove the address' }).click();
  await page.locator('#email-now', { hasText: 'No email address is on file' }).waitFor();
  ok(true, 'removing it is shown');
  ok(/No email address/.test(onFile()), 'and the school has none again', onFile());
  ok(await card.getByRole('button', { name: 'Remove the address' }).isHidden(), 'with nothing left to remove');
  await ctx.close();
} catch (e) {
  ok(false, 'the browser test ran to its end', e.stack);
} finally {
  await browser.close();
}
done();

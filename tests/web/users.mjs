// The Users page: the admin adds a registrar "joe", joe signs in, the admin
// removes joe, and joe's next call to the API is refused (401): removing a
// user ends their sessions. The admin cannot remove themselves.
//   node users.mjs BASE  (env IAN_PW, JOE_PW)
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

const base = process.argv[2];
const env = process.env;
const browser = await launch();
try {
  const page = await newPage(browser);
  await signInAt(page, base, 'users', 'ian', env.IAN_PW);
  await page.getByRole('heading', { level: 1, name: 'Users of the console' }).waitFor();
  const names = await page.locator('table tbody tr td:first-child').allTextContents();
  ok(names.includes('ian (you)') && names.includes('maria'), 'the accounts are listed', names);
  ok(await page.getByRole('button', { name: 'Remove ian…' }).count() === 0,
     'the admin is offered no button to remove themselves');
  await shot(page, 'users-list');
  await accessible(page, 'the Users page');

  await page.locator('#u-name').fill('joe');
  await page.getByLabel('Role').selectOption('registrar');
  await page.locator('#u-password').fill('short');
  await page.getByRole('button', { name: 'Add the user' }).click();
  await page.locator('#add-error').filter({ hasText: 'password' }).waitFor();
  ok(true, 'a short password is refused beside the form: ' + await page.locator('#add-error').textContent());
  await shot(page, 'users-short-password');

  await page.locator('#u-password').fill(env.JOE_PW);
  await page.getByRole('button', { name: 'Add the user' }).click();
  await page.locator('#message').filter({ hasText: 'joe is added as registrar' }).waitFor();
  await page.locator('table tbody tr', { hasText: 'joe' }).waitFor();
  ok(true, 'joe is added, and listed');
  await shot(page, 'users-added');

  const joe = await newPage(browser);
  await signInAt(joe, base, 'audit', 'joe', env.JOE_PW);
  is(await joe.locator('#who-role').textContent(), 'registrar', 'joe signs in as a registrar');
  is(await joe.evaluate(() => fetch('/api/v1/me', { headers: { 'X-CSRF-Token': sessionStorage.getItem('baton-token') } }).then(r => r.status)), 200, 'joe\'s session works');

  await page.getByRole('button', { name: 'Remove joe…' }).click();
  await page.getByRole('button', { name: 'Yes, remove joe' }).click();
  await page.locator('#message').filter({ hasText: 'joe is removed' }).waitFor();
  await page.getByRole('heading', { level: 1, name: 'Users of the console' }).waitFor();
  ok(!(await page.locator('table tbody').textContent()).includes('joe'), 'joe is gone from the list');
  await shot(page, 'users-removed');

  is(await joe.evaluate(() => fetch('/api/v1/peers', { headers: { 'X-CSRF-Token': sessionStorage.getItem('baton-token') } }).then(r => r.status)), 401,
     'joe\'s next API call is 401: his session ended with his account');
  is(await joe.evaluate(() => fetch('/api/v1/me', { headers: { 'X-CSRF-Token': sessionStorage.getItem('baton-token') } }).then(r => r.status)), 401,
     '... and stays ended');
} finally {
  await browser.close();
}
done();

// The console's frame, as a registrar meets it: sign in (a wrong password
// first), the school named at the top, the pages in the menu, a reload that
// keeps the session, sign out; on a phone's screen too; with a keyboard only.
import { ok, is, done, launch, newPage, shot, signIn, accessible } from './lib.mjs';

const base = process.argv[2];
const browser = await launch();
try {
  const page = await newPage(browser);
  await page.goto(base + '/');
  await shot(page, 'console-sign-in');
  await accessible(page, 'the sign-in page');
  await page.getByLabel('User name').fill('maria');
  await page.getByLabel('Password').fill('not her password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const msg = page.locator('#message');
  await msg.filter({ hasText: 'wrong user or password' }).waitFor();
  ok(true, 'a wrong password is refused in words');

  await signIn(page, base, 'maria', process.env.MARIA_PW);
  is(await page.locator('#school').textContent(), 'Lincoln High School · LHS-001',
     'the school and its code are at the top');
  is(await page.locator('#who-role').textContent(), 'registrar', 'the role is shown');
  const nav = await page.locator('#nav-list a').allTextContents();
  ok(nav.length >= 5 && !nav.includes('Peers'), 'the menu holds the registrar\'s pages, not the admin\'s', nav.join(', '));
  await shot(page, 'console-home');
  await accessible(page, 'the home page');

  await page.reload();
  await page.locator('#who-name').filter({ hasText: 'maria' }).waitFor();
  ok(true, 'a reload keeps the session');

  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('User name').waitFor();
  const me = await page.evaluate(() => fetch('/api/v1/me').then(r => r.status));
  is(me, 401, 'signed out: the API answers 401');

  // Keyboard only: Tab to the first field (past the skip link), type, Enter.
  let tabs = 0;
  while (tabs < 5 && await page.evaluate(() => document.activeElement.id) !== 'user') {
    await page.keyboard.press('Tab');
    tabs++;
  }
  is(await page.evaluate(() => document.activeElement.id), 'user', 'Tab reaches the user name');
  await page.keyboard.type('ian');
  await page.keyboard.press('Tab');
  await page.keyboard.type(process.env.IAN_PW);
  await page.keyboard.press('Enter');
  await page.locator('#who-name').filter({ hasText: 'ian' }).waitFor();
  const adminNav = await page.locator('#nav-list a').allTextContents();
  ok(adminNav.includes('Peers'), 'an admin signed in with the keyboard sees Peers', adminNav.join(', '));

  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
  await signIn(phone, base, 'maria', process.env.MARIA_PW);
  const wide = await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
  ok(wide, 'on a phone, the page fits its width');
  await shot(phone, 'console-phone');

  const zoom = await newPage(browser, { viewport: { width: 640, height: 800 } });
  await signIn(zoom, base, 'maria', process.env.MARIA_PW);
  ok(await zoom.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
     'at 200% zoom (a 1280 px window seen as 640 px), nothing needs sideways scrolling');
} finally {
  await browser.close();
}
done();

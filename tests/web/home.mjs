// The console's Home as a registrar meets it: where it opens, what needs
// her (a card per kind, with its count and a link to where it is done), or
// "Nothing needs you" when nothing does.
//   node home.mjs BASE none|busy
import { ok, is, done, launch, newPage, shot, signIn, accessible } from './lib.mjs';

const [base, mode] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await newPage(browser);
  await signIn(page, base, 'maria', process.env.MARIA_PW);
  const nav = await page.locator('#nav-list a').allTextContents();
  is(nav[0], 'Home', 'Home is first in the menu');
  await page.locator('h1').filter({ hasText: 'What needs you' }).waitFor();
  ok(true, 'the console opens on Home');
  if (mode === 'none') {
    const none = page.locator('#home-none');
    await none.waitFor();
    ok((await none.textContent()).startsWith('Nothing needs you'), 'with nothing to do, Home says "Nothing needs you"');
    is(await page.locator('section.card').count(), 0, 'and shows no card');
    await shot(page, 'home-nothing');
    await accessible(page, 'the home page with nothing to do');
  } else {
    const req = page.locator('#home-requests');
    await req.waitFor();
    is(await req.locator('.count').textContent(), '1', 'Home counts 1 request held for release');
    ok((await req.textContent()).includes('S-1018'), 'and names its student', await req.textContent());
    is(await req.locator('a[href="#/requests"]').count() >= 1, true, 'with a link to the requests');
    const cons = page.locator('#home-consents');
    is(await cons.locator('.count').textContent(), '1', 'Home counts 1 consent about to expire');
    is(await cons.locator('a[href="#/students/S-1018"]').count(), 1, 'linked to the student it is for');
    is(await page.locator('#home-none').count(), 0, 'and does not say nothing needs her');
    await shot(page, 'home-todo');
    await accessible(page, 'the home page with things to do');
    await req.locator('a[href="#/requests"]').first().click();
    await page.locator('h1').filter({ hasText: 'Requests from other schools' }).waitFor();
    ok(true, 'the link leads to the requests page');

    const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await signIn(phone, base, 'maria', process.env.MARIA_PW);
    await phone.locator('#home-requests').waitFor();
    ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
       'on a phone, Home fits its width');
    await shot(phone, 'home-phone');
  }
} finally {
  await browser.close();
}
done();

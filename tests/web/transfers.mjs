// Inbox & outbox as a registrar follows a delivery: a packet queued while
// the other school is down, its attempts and next attempt; once that school
// is back, "Retry now", and the page shows it receipted.
//   node transfers.mjs BASE queued|retry
import { ok, is, done, launch, newPage, shot, signIn, accessible } from './lib.mjs';

const [base, mode] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await newPage(browser);
  await signIn(page, base, 'maria', process.env.MARIA_PW);
  await page.getByRole('link', { name: 'Inbox & outbox' }).click();
  await page.locator('h1').filter({ hasText: 'Inbox & outbox' }).waitFor();
  const row = page.locator('tr', { hasText: 'S-1022' });
  await row.first().waitFor();
  const cells = await row.first().locator('td').allTextContents();
  if (mode === 'queued') {
    is(cells[4], 'queued', 'the record of S-1022 shows queued', cells);
    ok(Number(cells[5]) >= 2, 'with its attempts climbing', cells);
    ok(/^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(cells[6]), 'and the date of its next attempt', cells);
    ok(cells[7].length > 0, 'and its last error', cells);
    is(await row.first().getByRole('button', { name: /^Retry now/ }).count(), 1, 'a queued entry has "Retry now"');
    const recv = page.locator('tr', { hasText: 'RAS-204' }).filter({ has: page.locator('.tag.ok') });
    ok(await recv.count() >= 1, 'entries answered by RAS-204 show their state as a tag');
    await shot(page, 'transfers-queued');
    await accessible(page, 'the inbox and outbox page');
    await page.getByRole('link', { name: 'Home' }).click();
    const trouble = page.locator('#home-outbox');
    await trouble.waitFor();
    is(await trouble.locator('.count').textContent(), '1', 'Home counts the packet that keeps failing');
    ok((await trouble.textContent()).includes('S-1022'), 'and names its student', await trouble.textContent());
    await shot(page, 'home-trouble');
  } else {
    await row.first().getByRole('button', { name: /^Retry now/ }).click();
    await page.locator('#message.okay').filter({ hasText: 'tried again now' }).waitFor();
    ok(true, '"Retry now" is taken');
    let state = '';
    for (let i = 0; i < 300 && state !== 'receipted'; i++) {
      await page.waitForTimeout(200);
      await page.reload();
      const r = page.locator('tr', { hasText: 'S-1022' }).first();
      await r.waitFor();
      state = await r.locator('.tag').textContent();
    }
    is(state, 'receipted', 'reloading, the page shows the packet receipted');
    const r = page.locator('tr', { hasText: 'S-1022' }).first();
    is(await r.getByRole('button', { name: /^Retry now/ }).count(), 0, 'and no longer offers "Retry now"');
    ok((await r.textContent()).includes('accepted'), 'with the receipt\'s answer', await r.textContent());
    await shot(page, 'transfers-receipted');
    const phone = await newPage(browser, { viewport: { width: 390, height: 844 } });
    await signIn(phone, base, 'maria', process.env.MARIA_PW);
    await phone.goto(base + '/#/transfers');
    await phone.locator('h1').filter({ hasText: 'Inbox & outbox' }).waitFor();
    await phone.locator('table').first().waitFor();
    ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1),
       'on a phone, the page fits its width (the tables scroll in their own box)');
    await shot(phone, 'transfers-phone');
  }
} finally {
  await browser.close();
}
done();

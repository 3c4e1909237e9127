// Requests as a registrar answers them: a held request with its purpose and
// note, released with one button; another denied with a reason, which the
// page asks for in a labelled field and will not do without.
//   node requests.mjs BASE release|deny
import { ok, is, done, launch, newPage, shot, signIn, accessible } from './lib.mjs';

const [base, mode] = process.argv.slice(2);
const browser = await launch();
try {
  if (mode === 'policy') {
    const page = await newPage(browser);
    await signIn(page, base, 'ian', process.env.IAN_PW);
    await page.goto(base + '/#/requests');
    const box = page.getByLabel(/^Release the record at once/);
    await box.waitFor();
    is(await box.isChecked(), true, 'an admin sees the release policy as set (on)');
    await box.uncheck();
    await page.getByRole('button', { name: 'Save the release policy' }).click();
    await page.locator('#message.okay').filter({ hasText: 'wait for a registrar' }).waitFor();
    ok(true, 'the admin turns auto-release off');
    await shot(page, 'requests-policy');
    await accessible(page, 'the requests page of an admin');
    const maria = await newPage(browser);
    await signIn(maria, base, 'maria', process.env.MARIA_PW);
    await maria.goto(base + '/#/requests');
    await maria.locator('h1').filter({ hasText: 'Requests from other schools' }).waitFor();
    is(await maria.locator('#policy').count(), 0, 'a registrar is not shown the policy');
  } else {
    const page = await newPage(browser);
    await signIn(page, base, 'maria', process.env.MARIA_PW);
    await page.getByRole('link', { name: 'Requests', exact: true }).click();
    await page.locator('h1').filter({ hasText: 'Requests from other schools' }).waitFor();
    const held = page.locator('section.request');
    await held.first().waitFor();
    is(await held.count(), 1, 'one request is held');
    const card = held.first();
    const text = await card.textContent();
    if (mode === 'release') {
      ok(text.includes('S-1018') && text.includes('Riverside Academy (RAS-204)'), 'it names the student and the school that asked', text);
      ok(text.includes('enrolling Monday'), 'it shows the requester\'s note', text);
      ok(text.includes('Purpose'), 'and the consent\'s purpose', text);
      await shot(page, 'requests-held');
      await accessible(page, 'the requests page');
      await card.getByRole('button', { name: 'Release the record to Riverside Academy' }).click();
      await page.locator('#message.okay').waitFor();
      ok((await page.locator('#message').textContent()).includes('on its way to Riverside Academy'), 'the page says the record is on its way',
         await page.locator('#message').textContent());
      await page.getByText('No request waits for you.').waitFor();
      ok(true, 'nothing waits any more');
      const row = page.locator('tr', { hasText: 'S-1018' });
      is(await row.locator('.tag').textContent(), 'released', 'the answered table shows it released');
      await shot(page, 'requests-released');
    } else {
      ok(text.includes('S-1019'), 'the second request is for S-1019', text);
      await card.getByRole('button', { name: /^Deny…/ }).click();
      const reason = page.getByLabel('Reason for denying');
      await reason.waitFor();
      is(await page.evaluate(() => document.activeElement.id.startsWith('reason-')), true, 'the reason field takes the focus');
      await page.getByRole('button', { name: 'Deny the request' }).click();
      const err = card.locator('form.deny .error');
      await err.filter({ hasText: 'reason' }).waitFor();
      ok((await err.textContent()).startsWith('reason:'), 'denying without a reason is refused beside the form, naming the field',
         await err.textContent());
      await shot(page, 'requests-deny-form');
      await accessible(page, 'the deny form');
      await reason.fill('the student stays with us this year');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.locator('#message.okay').filter({ hasText: 'Denied' }).waitFor();
      ok(true, 'the request is denied with the keyboard');
      const row = page.locator('tr', { hasText: 'S-1019' });
      await row.waitFor();
      is(await row.locator('.tag').textContent(), 'denied', 'the answered table shows it denied');
      ok((await row.textContent()).includes('the student stays with us this year'), 'with the reason');
      await shot(page, 'requests-denied');
    }
  }
} finally {
  await browser.close();
}
done();

// The enrolment exception in the console: an admin sees the annual notice
// kept and sets the exception on, with a new notice and a sensitive section,
// on the requests page; a registrar is not shown it.
//   node enrolment.mjs BASE
import { ok, is, done, launch, newPage, shot, signIn, accessible } from './lib.mjs';

const [base] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await newPage(browser);
  await signIn(page, base, 'ian', process.env.IAN_PW);
  await page.goto(base + '/#/requests');
  const box = page.getByLabel(/^Enrolling: send the record/);
  await box.waitFor();
  is(await box.isChecked(), false, 'an admin sees the enrolment exception off');
  const notice = page.getByLabel(/^Annual notice to families/);
  ok((await notice.inputValue()).includes('Notice-Web-7'), 'the page shows the annual notice kept', await notice.inputValue());
  await box.check();
  await notice.fill('Lincoln sends records to the school where a student enrols. Notice-Page-3.');
  await page.getByLabel(/^Sensitive sections released too/).fill('health');
  await page.getByRole('button', { name: 'Save the enrolment exception' }).click();
  await page.locator('#message.okay').filter({ hasText: 'The enrolment exception is on.' }).waitFor();
  ok(true, 'the admin turns it on with the notice and names health');
  await shot(page, 'requests-enrolment');
  await accessible(page, 'the requests page with the enrolment exception');
  const maria = await newPage(browser);
  await signIn(maria, base, 'maria', process.env.MARIA_PW);
  await maria.goto(base + '/#/requests');
  await maria.locator('h1').filter({ hasText: 'Requests from other schools' }).waitFor();
  is(await maria.locator('#enrolment-policy').count(), 0, 'a registrar is not shown the enrolment exception');
} finally {
  await browser.close();
}
done();

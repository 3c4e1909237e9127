// A record of schema version 2 in the console: custody restrictions are a
// red alert, the first thing on the student's page (on a phone 390 px wide
// and on a desktop) and on a held record's review page; the new sections
// are shown; allergies "not recorded" are told apart from "none known".
//
//   node custody.mjs URL RECEIVER-URL
import { join } from 'node:path';
import { ok, is, done, launch, newPage, shot, accessible } from './lib.mjs';

const [base, receiver] = process.argv.slice(2);
const browser = await launch();
const RED = 'rgb(165, 29, 45)';

// The whole page, and what the screen shows first (NAME-top).
async function shots(page, name) {
  await shot(page, name);
  if (process.env.BATON_SHOTS) await page.screenshot({ path: join(process.env.BATON_SHOTS, name + '-top.png') });
}

async function signInAt(page, hash) {
  await page.goto(base + '/#/' + hash);
  await page.getByLabel('User name').fill('maria');
  await page.getByLabel('Password').fill(process.env.MARIA_PW);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('#who-name').filter({ hasText: 'maria' }).waitFor();
}

// The custody alert is visible, red, above the fold, and the first card of the page.
async function alertFirst(page, where) {
  const alert = page.locator('#custody-alert');
  await alert.waitFor();
  ok(await alert.isVisible(), where + ': the custody alert is visible');
  is(await alert.getAttribute('role'), 'alert', where + ': it is announced as an alert');
  const firstCard = await page.locator('#page .card').first().getAttribute('id');
  is(firstCard, 'custody-alert', where + ': it is the first card on the page');
  const box = await alert.boundingBox();
  const view = page.viewportSize();
  ok(box && box.y >= 0 && box.y < view.height / 2 && box.width <= view.width,
     where + ': it is at the top of the screen, inside its width', { box, view });
  const h1 = await page.locator('#page h1').boundingBox();
  const others = await page.locator('#page .card:not(#custody-alert), #page table').evaluateAll(
    els => els.filter(e => e.getBoundingClientRect().height > 0).map(e => e.getBoundingClientRect().top));
  ok(others.every(t => t > box.y) && h1.y < box.y,
     where + ': under the heading, above every other card and table', { alert: box.y, h1: h1.y, others });
  const style = await alert.evaluate(e => {
    const s = getComputedStyle(e);
    return { border: s.borderTopColor, title: getComputedStyle(e.querySelector('h2')).color };
  });
  ok(style.border === RED && style.title === RED, where + ': in red', style);
  return alert;
}

try {
  // ---- desktop ----
  const page = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  await signInAt(page, 'students/S-2001');
  await page.locator('#page h1').filter({ hasText: 'Mateo Ruiz Jr.' }).waitFor();
  ok(true, 'the student page names the student with the suffix');
  const alert = await alertFirst(page, 'desktop');
  is(await alert.locator('h2').textContent(), '2 custody restrictions', 'the alert counts the restrictions');
  const rows = await alert.locator('li').allTextContents();
  is(rows[0], 'May not pick up the student: Carlos Ruiz (father; court order Sangamon County Circuit Court 2025-FL-0118; since 2025-06-30)',
     'the first restriction: what, who, relation, court order, since');
  is(rows[1], 'No contact with the student at school: Dale Perkins', 'the second restriction');
  ok(await page.locator('#section-custody').count() === 0, 'custody is not repeated as a section further down');
  // Each new section shown, marked sensitive as the node says it is (PROTOCOL.md §2.9).
  const api = await page.evaluate(async () => (await Baton.api('GET', 'students/S-2001')).sections);
  for (const [id, name] of [['graduation', 'Graduation'], ['section_504', 'Section 504'],
    ['english_learner', 'English learner'], ['homeless', 'Homeless']]) {
    const h = page.locator('#section-' + id + '-h');
    ok(await h.isVisible(), 'the ' + name + ' section is shown');
    const sensitive = (api.find(s => s.name === id) || {}).sensitive;
    is(/Sensitive/.test(await h.textContent()), sensitive,
       'the ' + name + ' section is marked sensitive as the node says (' + sensitive + ')');
  }
  const grad = await page.locator('#section-graduation').textContent();
  ok(/Expected year\s*2029/.test(grad) && /GPA weighted\s*3\.85/.test(grad) && /Middle school certificate/.test(grad),
     'graduation shows its year, GPA and diploma', grad);
  const el = await page.locator('#section-english_learner').textContent();
  ok(/Home language\s*Spanish/.test(el) && /Content-based ESL/.test(el), 'the English learner section shows its programs', el);
  const dd = async (sec, term) => page.locator('#section-' + sec + ' dl.kv > dt').filter({ hasText: new RegExp('^' + term + '$') })
    .locator('xpath=following-sibling::dd[1]').textContent();
  is(await dd('health', 'Conditions'), 'None known', 'health: conditions [] read "None known"');
  ok(/Peanuts/.test(await dd('health', 'Allergies')), 'health: the allergy is listed');
  await shots(page, 'custody-desktop');
  await accessible(page, 'the student page with custody restrictions');

  // A student whose allergies are not recorded and with no restriction known.
  await page.goto(base + '/#/students/S-2002');
  await page.locator('#page h1').filter({ hasText: 'S-2002' }).waitFor();
  is(await dd('health', 'Allergies'), 'Not recorded', 'health: allergies left out read "Not recorded"');
  is(await dd('health', 'Conditions'), 'Not recorded', 'health: conditions left out read "Not recorded"');
  is(await page.locator('#custody-alert').count(), 0, 'no alert when no restriction is known');
  is(await page.locator('#custody-none').textContent(), 'Custody: no restriction known.',
     'an empty custody list says "no restriction known"');
  await shot(page, 'custody-none-desktop');

  // The held record's review page: its custody alert first.
  await page.goto(base + '/#/review');
  await page.getByRole('heading', { level: 1, name: 'Records held for review' }).waitFor();
  await page.locator('tr').filter({ hasText: 'S-2001' }).getByRole('link').click();
  await page.getByRole('heading', { level: 1, name: /naming S-2001/ }).waitFor();
  await alertFirst(page, 'review');
  is(await page.locator('#custody-alert h2').textContent(), '2 custody restrictions in the held record',
     'the review page says the restrictions are the held record\'s');
  await shots(page, 'custody-review-desktop');
  await accessible(page, 'the review page with custody restrictions');

  // At the school that received the record, its inbox row opens the student's page.
  const rpage = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  await rpage.goto(receiver + '/#/transfers');
  await rpage.getByLabel('User name').fill('maria');
  await rpage.getByLabel('Password').fill(process.env.MARIA_PW);
  await rpage.getByRole('button', { name: 'Sign in' }).click();
  await rpage.locator('h1').filter({ hasText: 'Inbox & outbox' }).waitFor();
  const inRow = rpage.locator('table[aria-label], table').filter({ hasText: 'LHS-001' }).locator('tr', { hasText: 'S-2001' });
  await inRow.first().getByRole('link', { name: 'S-2001' }).click();
  await rpage.locator('#page h1 .mono').filter({ hasText: 'S-2001' }).waitFor();
  ok(await rpage.locator('#section-identity').isVisible(), 'the inbox row of a received record opens the student page');
  const received = await rpage.evaluate(async () => (await Baton.api('GET', 'students/S-2001')).sections.map(s => s.name));
  ok(received.includes('custody'), 'the received record carries the custody section the consent named');
  is(await rpage.locator('#custody-alert').count(), 1, 'the received record shows its custody alert');

  // ---- a phone, 390 px wide ----
  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await signInAt(phone, 'students/S-2001');
  await phone.locator('#page h1').filter({ hasText: 'Mateo Ruiz Jr.' }).waitFor();
  await alertFirst(phone, 'phone');
  const wide = await phone.evaluate(() => [...document.querySelectorAll('#page *')]
    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .filter(e => !e.closest('.scroll'))
    .map(e => e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right)).slice(0, 8));
  ok(wide.length === 0, 'phone: nothing but a scrolling table is wider than the screen', wide);
  await shots(phone, 'custody-phone');
} catch (e) {
  ok(false, 'the browser test ran without an exception', e.stack);
}
await browser.close();
done();

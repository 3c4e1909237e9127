// Files carried by hand, as two registrars use them: maria at Lincoln High
// downloads S-1001's record as a packet file under the parent's consent;
// maria at Riverside imports that file and downloads the receipt; maria at
// Lincoln records the receipt. The same packet again at Riverside is seen
// before and imports nothing. Riverside asks Lincoln for a record as a
// request file, which Lincoln imports and holds for release.
//   node files.mjs LHS-BASE RAS-BASE TMP  (TMP/c/S-1001.consent the consent;
//   the packet goes to TMP/S-1001.baton, the receipt to TMP/S-1001.receipt,
//   the request to TMP/request.baton)
import { ok, is, done, launch, newPage, shot, signIn, accessible } from './lib.mjs';

const [lhs, ras, tmp] = process.argv.slice(2);
const browser = await launch();
try {
  // Each school in a page of its own: the cookies of 127.0.0.1 do not tell ports apart.
  const a = await newPage(browser, { acceptDownloads: true });
  const b = await newPage(browser, { acceptDownloads: true });
  await signIn(a, lhs, 'maria', process.env.MARIA_PW);
  await a.goto(lhs + '/#/files');
  await a.getByRole('heading', { level: 1, name: 'Files carried by hand' }).waitFor();
  ok(await a.getByRole('link', { name: 'Files' }).count() > 0, 'the menu has Files');
  await shot(a, 'files-empty');
  await accessible(a, 'the Files page');

  // A consent missing: the form says so beside it, and nothing downloads.
  await a.getByLabel('Student id').fill('S-1001');
  await a.getByRole('button', { name: 'Download the record as a packet file' }).click();
  await a.locator('#files-send-error').filter({ hasText: 'consent:' }).waitFor();
  ok(true, 'without a consent file the form names the consent');

  // The record of S-1001 as a file for Riverside.
  await a.locator('#files-to').selectOption('RAS-204');
  await a.locator('#files-consent').setInputFiles(tmp + '/c/S-1001.consent');
  const [dl] = await Promise.all([
    a.waitForEvent('download'),
    a.getByRole('button', { name: 'Download the record as a packet file' }).click(),
  ]);
  await dl.saveAs(tmp + '/S-1001.baton');
  ok(/^S-1001-RAS-204\.baton$/.test(dl.suggestedFilename()), 'the packet file is named for the student and school', dl.suggestedFilename());
  const sent = await a.locator('#files-send-result').textContent();
  ok(sent.includes('sent as a file') && sent.includes('RAS-204'), 'the page shows the packet sent as a file', sent);
  await shot(a, 'files-sent');

  // At Riverside: the packet file imported, the receipt downloaded.
  await signIn(b, ras, 'maria', process.env.MARIA_PW);
  await b.goto(ras + '/#/files');
  await b.getByRole('heading', { level: 1, name: 'Files carried by hand' }).waitFor();
  await b.getByLabel('Packet file').setInputFiles(tmp + '/S-1001.baton');
  await b.getByRole('button', { name: 'Import the record' }).click();
  await b.locator('#files-import-result dl').waitFor();
  const got = await b.locator('#files-import-result').textContent();
  ok(got.includes('imported') && got.includes('LHS-001') && got.includes('S-1001'), 'Riverside shows the record imported from LHS-001', got);
  is(await b.locator('#message').textContent(), 'The record of S-1001 from LHS-001: imported.', 'the message says what happened');
  const [rd] = await Promise.all([
    b.waitForEvent('download'),
    b.getByRole('link', { name: 'Download the receipt to send back' }).click(),
  ]);
  await rd.saveAs(tmp + '/S-1001.receipt');
  ok(true, 'the receipt downloads');
  await shot(b, 'files-imported');
  await accessible(b, 'the Files page with an import\'s outcome');

  // The same file again: seen before, nothing imported twice.
  await b.getByRole('button', { name: 'Import the record' }).click();
  await b.locator('#files-import-result').filter({ hasText: 'seen before' }).waitFor();
  ok(true, 'the same packet again is seen before');
  await shot(b, 'files-seen-before');

  // Not a packet: the error beside the form names the file.
  await b.getByLabel('Packet file').setInputFiles(tmp + '/c/S-1001.consent');
  await b.getByRole('button', { name: 'Import the record' }).click();
  await b.locator('#files-import-error').filter({ hasText: 'file: refused' }).waitFor();
  ok(await b.locator('#files-import-result dl').count() === 0, 'a consent given as a packet is refused, no outcome shown');
  await shot(b, 'files-not-a-packet');

  // Back at Lincoln: the receipt recorded.
  await a.getByLabel('Receipt file').setInputFiles(tmp + '/S-1001.receipt');
  await a.getByRole('button', { name: 'Record the receipt' }).click();
  await a.locator('#files-receipt-result dl').waitFor();
  const rc = await a.locator('#files-receipt-result').textContent();
  ok(rc.includes('receipted') && rc.includes('accepted'), 'Lincoln shows the packet receipted', rc);
  await shot(a, 'files-receipted');

  // Riverside asks Lincoln for a record, as a file to carry; Lincoln imports it.
  await b.locator('#files-from').selectOption('LHS-001');
  await b.locator('#files-req-consent').setInputFiles(tmp + '/c/S-1001.consent');
  await b.getByLabel('Note to their registrar (optional)').fill('S-1001 enrolled here this week');
  await b.getByLabel('Download the request as a file to carry, instead of sending it over the network').check();
  const [qd] = await Promise.all([
    b.waitForEvent('download'),
    b.getByRole('button', { name: 'Ask for the record' }).click(),
  ]);
  await qd.saveAs(tmp + '/request.baton');
  const asked = await b.locator('#files-request-result').textContent();
  ok(asked.includes('LHS-001') && asked.includes('sent as a file'), 'Riverside shows the request sent as a file', asked);
  await shot(b, 'files-requested');
  await a.getByLabel('Packet file').setInputFiles(tmp + '/request.baton');
  await a.getByRole('button', { name: 'Import the record' }).click();
  await a.locator('#files-import-result dl').waitFor();
  const held = await a.locator('#files-import-result').textContent();
  ok(held.includes('held for release') && held.includes('RAS-204'), 'Lincoln holds the request from RAS-204 for release', held);
  await shot(a, 'files-request-held');

  // On a phone: nothing scrolls sideways.
  await a.setViewportSize({ width: 390, height: 800 });
  const wide = await a.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  ok(!wide, 'at 390 px the page does not scroll sideways');
  await shot(a, 'files-phone');
} catch (e) {
  ok(false, 'the browser test ran', e.stack);
} finally {
  await browser.close();
  done();
}

// What the family's page is, as served: its message files agree (the same
// keys in every language, none empty, Spanish with its accents), every key
// family.js asks for is in them, and every word the enrolment and sign-in
// views show comes from them (the page is loaded with a message file whose
// every message is its own key, in brackets, and no other word shows); and
// the page's first load, in Chromium, transfers under 500 KB (its assets
// gzip-compressed), with no Content Security Policy violation.
//
//   node family_page.mjs BASE WEB_FAMILY_DIR
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ok, is, done, launch } from './lib.mjs';

const [base, dir] = process.argv.slice(2);
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

const langs = readdirSync(join(dir, 'i18n')).filter(f => f.endsWith('.json')).sort();
ok(langs.includes('en.json') && langs.includes('es.json'), 'English and Spanish message files', langs);
const msgs = Object.fromEntries(langs.map(f => [f, JSON.parse(readFileSync(join(dir, 'i18n', f), 'utf8'))]));
const en = msgs['en.json'];
for (const f of langs) {
  const a = Object.keys(en).sort(), b = Object.keys(msgs[f]).sort();
  is(JSON.stringify(b), JSON.stringify(a), f + ' has exactly the keys of en.json');
  const empty = Object.entries(msgs[f]).filter(([, v]) => typeof v !== 'string' || !v.trim()).map(([k]) => k);
  ok(empty.length === 0, f + ': no message is empty', empty.join(', '));
  const vars = Object.keys(en).filter(k => msgs[f][k] !== undefined &&
    JSON.stringify((en[k].match(/\{\w+\}/g) || []).sort()) !== JSON.stringify((msgs[f][k].match(/\{\w+\}/g) || []).sort()));
  ok(vars.length === 0, f + ': every message has the placeholders of its English one', vars.join(', '));
}
const es = Object.values(msgs['es.json']).join(' ');
ok(/[áéíóú]/.test(es) && /ñ/.test(es) && /sesión/.test(es) && /contraseña/.test(es),
   'the Spanish is written with its accents (sesión, contraseña)');
const same = Object.keys(en).filter(k => en[k] === msgs['es.json'][k] && /[a-z]{4}/.test(en[k]));
ok(same.length <= 3, 'Spanish messages are translated, not copied from English', same.join(', '));

// Every key family.js names, whole or as a prefix with the names it completes.
const src = readFileSync(join(dir, 'family.js'), 'utf8').replace(/^\s*\/\/.*$/gm, '');
const picker = [.../const LANGS = \{([^}]*)\}/.exec(src)[1].matchAll(/([a-z-]+)\s*:/g)].map(m => m[1] + '.json').sort();
is(JSON.stringify(picker), JSON.stringify(langs), 'the language picker offers exactly the message files there are');
const used = [...src.matchAll(/\bt\('([a-z0-9_.]+)'(?!\s*\+)/g)].map(m => m[1]);
const missing = [...new Set(used)].filter(k => !(k in en));
ok(missing.length === 0, 'every message family.js asks for is in en.json', missing.join(', '));
const sections = ['assessments', 'attendance', 'custody', 'discipline', 'english_learner', 'enrollment',
  'graduation', 'guardians', 'health', 'homeless', 'identity', 'section_504', 'special_education', 'transcript'];
const need = [...sections.map(s => 'section.' + s), ...sections.map(s => 'help.' + s),
  ...['mother', 'father', 'guardian', 'self'].map(r => 'relation.' + r),
  ...['record', 'disclosures', 'requests', 'consents', 'grant'].flatMap(v => ['nav.' + v, 'title.' + v]),
  ...['active', 'expired', 'revoked'].map(s => 'status.' + s),
  ...['received', 'waiting', 'refused'].map(s => 'receipt.' + s)];
const lack = need.filter(k => !(k in en));
ok(lack.length === 0, 'every section, its help, relation, view, status and receipt has its words', lack.join(', '));

const browser = await launch();
try {
  // Each message replaced by its key in brackets: any other word shown is not from the files.
  const ctx = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const page = await ctx.newPage();
  page.on('pageerror', e => ok(false, 'no script error on the page', e.message));
  const keyed = Object.fromEntries(Object.keys(en).map(k => [k, '\u27e6' + k + '\u27e7']));
  await page.route('**/family/i18n/en.json', route => route.fulfill({
    status: 200, contentType: 'application/json', body: JSON.stringify(keyed) }));
  // Words not from the message files: the school's name, fingerprints, the
  // bundle hash, each language's own name, the logo's letter (hidden from
  // screen readers), and ⟦…⟧ messages.
  const stray = () => page.evaluate(() => {
    const out = [];
    const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = w.nextNode(); n; n = w.nextNode()) {
      const e = n.parentElement;
      if (!n.textContent.trim() || e.closest('#bundle, .fpr, #school-name, option, [hidden], [aria-hidden="true"]')) continue;
      if (getComputedStyle(e).display === 'none') continue;
      const rest = n.textContent.replace(/\u27e6[^\u27e7]*\u27e7/g, '').replace(/[\s.,:;()]/g, '');
      if (rest) out.push(n.textContent.trim());
    }
    for (const e of document.querySelectorAll('[aria-label], [placeholder], [title]'))
      for (const a of ['aria-label', 'placeholder', 'title'])
        if (e.getAttribute(a) && !/^\u27e6[^\u27e7]*\u27e7$/.test(e.getAttribute(a))) out.push(a + '=' + e.getAttribute(a));
    return out;
  });
  await page.goto(base + '/family/#invite=AAAA-BBBB-CCCC');
  await page.locator('h1', { hasText: '\u27e6enrol.title\u27e7' }).waitFor();
  let s = await stray();
  ok(s.length === 0, 'enrolment: every word shown comes from the message file', s.join(' | '));
  await page.goto(base + '/family/#/');
  await page.locator('h1', { hasText: '\u27e6signin.title\u27e7' }).waitFor();
  s = await stray();
  ok(s.length === 0, 'sign-in: every word shown comes from the message file', s.join(' | '));
  is(await page.title(), '\u27e6signin.title\u27e7 · ' + (await page.locator('#school-name').textContent()),
     'and the window\'s title');
  await ctx.close();

  // The first load: what crosses the network, from a fresh browser profile.
  const ctx2 = await browser.newContext({ ...PHONE, locale: 'en-US' });
  const p2 = await ctx2.newPage();
  const cdp = await ctx2.newCDPSession(p2);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  let bytes = 0;
  const enc = {};
  const urls = {};
  cdp.on('Network.responseReceived', e => {
    urls[e.requestId] = e.response.url;
    enc[e.response.url] = (e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '');
  });
  cdp.on('Network.loadingFinished', e => { bytes += e.encodedDataLength; });
  const csp = [];
  p2.on('console', m => { if (/Content Security Policy/i.test(m.text())) csp.push(m.text()); });
  await p2.goto(base + '/family/');
  await p2.locator('h1').waitFor();
  await p2.waitForLoadState('networkidle');
  const sodium = Object.keys(enc).find(u => /libsodium-sumo\.js$/.test(u));
  is(sodium && enc[sodium], 'gzip', 'libsodium comes gzip-compressed');
  ok(Object.keys(enc).filter(u => new URL(u).pathname.startsWith('/family/')).every(u => enc[u] === 'gzip'),
     'every asset of /family/ comes gzip-compressed', enc);
  ok(bytes > 0 && bytes < 500 * 1024, `the first load transfers ${(bytes / 1024).toFixed(1)} KB, under 500 KB`, bytes);
  ok(csp.length === 0, 'no Content Security Policy violation', csp.join('\n'));
  await ctx2.close();
} finally {
  done();
  await browser.close();
}

// The family page's library in a real headless Chromium, served by a node
// under the CSP of /family/: libsodium's WebAssembly compiles (no CSP
// violation, no fallback), a key is made and encrypted at the CLI's cost, a
// consent and a login are signed. The key file and the consent are written
// out for tests/cli/family_crypto_web.sh to check with the CLI.
//
//   node family_crypto_web.mjs BASE OUTDIR   (BATON_PASSPHRASE: the key's passphrase)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ok, is, done, launch, newPage } from './lib.mjs';

const [base, outdir] = process.argv.slice(2);
const pass = process.env.BATON_PASSPHRASE;

const browser = await launch();
const page = await newPage(browser);
const problems = [];
page.on('console', (m) => {
  // The browser's own request of /favicon.ico (not the page's) is not the page's error.
  if (/\/favicon\.ico$/.test(m.location().url || '')) return;
  if (m.type() === 'error' || /Content Security Policy|wasm/i.test(m.text())) problems.push(m.text() + ' ' + (m.location().url || ''));
});
const missing = [];
const encodings = {};
page.on('response', (res) => {
  if (res.status() >= 400) missing.push(res.status() + ' ' + res.url());
  encodings[new URL(res.url()).pathname] = res.headers()['content-encoding'] || 'identity';
});
// Seen from inside the page: CSP violations, and whether WebAssembly instantiated.
await page.addInitScript(() => {
  window.__violations = [];
  window.__wasm = { tried: 0, made: 0 };
  document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
  const inst = WebAssembly.instantiate;
  WebAssembly.instantiate = function (...a) {
    window.__wasm.tried++;
    return inst.apply(this, a).then((r) => { window.__wasm.made++; return r; });
  };
});
const resp = await page.goto(base + '/family/');
is(resp.status(), 200, '/family/ answers 200');
ok(/'wasm-unsafe-eval'/.test(resp.headers()['content-security-policy'] || ''), "/family/ has script-src 'wasm-unsafe-eval'", resp.headers()['content-security-policy']);
await page.waitForFunction(() => window.BatonCrypto && window.sodium, null, { timeout: 60000 });
is(['/family/', '/family/libsodium-sumo.js', '/family/libsodium-wrappers-sumo.js', '/family/crypto.js'].map((u) => encodings[u]).join(' '),
   'gzip gzip gzip gzip', 'Chromium gets the page, libsodium and the library gzip-compressed');
const r = await page.evaluate(async ([pass]) => {
  const C = window.BatonCrypto;
  await C.ready();
  const t0 = performance.now();
  const k = C.makeKey(pass);
  const ms = Math.round(performance.now() - t0);
  const from = sodium.crypto_sign_keypair().publicKey;
  const to = sodium.crypto_sign_keypair().publicKey;
  const now = Math.floor(Date.now() / 1000);
  const env = C.signConsent(k.file, pass, {
    student: 'S-1001', from, from_code: 'LHS-001', to, to_code: 'RAS-204',
    sections: ['transcript', 'identity'], purpose: 'Enrollment at Riverside', issued: now, expires: now + 86400,
  });
  const d = C.describeConsent(env);
  const nonce = sodium.randombytes_buf(32);
  const sig = C.signLogin(k.file, pass, { school: from, origin: location.origin, nonce });
  let login = 'no';
  try {
    C.verifyLogin(sig, k.pk, { school: from, origin: location.origin, nonce });
    login = 'verifies';
  } catch (e) { login = e.code; }
  let wrong = 'OK';
  try { C.openKey(k.file, pass + '!'); } catch (e) { wrong = e.code; }
  return { ms, file: C.toBase64(k.file), line: k.line, fpr: k.fingerprint, consent: C.hex(env), signer: d.signer.line, login, wrong,
           violations: window.__violations, wasm: window.__wasm };
}, [pass]);
is(r.violations.join('; '), '', 'no CSP violation on /family/');
ok(r.wasm.tried > 0 && r.wasm.made === r.wasm.tried, "libsodium's WebAssembly instantiated under the CSP (no fallback)", r.wasm);
is(missing.join('; '), '', 'every file the page asks for is served');
is(problems.join('; '), '', 'no error in the browser console');
ok(/^baton-gk1-/.test(r.line), 'a key made in the browser (Argon2id at the CLI cost: ' + r.ms + ' ms)', r.line);
is(r.signer, r.line, 'the consent signed in the browser names that key as its signer');
is(r.login, 'verifies', 'a login signed in the browser for the page\'s own origin verifies');
is(r.wrong, 'EPASSPHRASE', 'a wrong passphrase is EPASSPHRASE in the browser');
writeFileSync(join(outdir, 'browser.key'), Buffer.from(r.file, 'base64'), { mode: 0o600 });
writeFileSync(join(outdir, 'browser.key.line'), r.line + '\n');
writeFileSync(join(outdir, 'browser.consent'), Buffer.from(r.consent, 'hex'));
await browser.close();
done();

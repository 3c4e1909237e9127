// The family page's cryptography (web/family/crypto.js) in Node.js, on the
// libsodium build the page loads, against the statement-of-disagreement test
// vectors (tests/vectors/statement-*.json, kind "statement"): the same
// result as the C library for every case, the valid one re-encoding from its
// fields to the same bytes; and a statement the page's library signs is
// read back by it with its fields.
//
//   node dissent_crypto.mjs DIR
import { createRequire } from 'node:module';
import { readFileSync, readdirSync } from 'node:fs';
import { runInThisContext } from 'node:vm';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ok, is, done } from './lib.mjs';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
globalThis.sodium = require('libsodium-wrappers-sumo');
runInThisContext(readFileSync(join(here, '../../web/family/crypto.js'), 'utf8'), { filename: 'crypto.js' });
const C = globalThis.BatonCrypto;
await C.ready();

function outcome(fn) {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (!e.code) throw e;
    return e.code;
  }
}

const dir = process.argv[2];
let n = 0;
for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
  const v = JSON.parse(readFileSync(join(dir, name), 'utf8'));
  if (v.kind !== 'statement') continue;
  n++;
  let extra = '';
  const got = outcome(() => {
    const d = C.decodeStatement(C.fromHex(v.input));
    if (C.hex(C.encodeStatementBody(d.fields)) !== C.hex(d.body)) extra = ' (re-encoded body differs)';
    const s = C.describeStatement(C.fromHex(v.input));
    if (s.signer.key !== v.signer_pk || s.section !== v.section || s.text !== v.text)
      extra += ' (fields differ: ' + JSON.stringify(s) + ')';
  });
  is(got + extra, v.expect, 'vector ' + v.name + ' gives ' + v.expect);
}
ok(n >= 10, 'the statement vectors were found (' + n + ')');

// Signed by the page's library with a key made as the page makes it.
const k = C.makeKey('a passphrase for this test');
const school = sodium.crypto_sign_keypair().publicKey;
const fields = { role: 'guardian', school, section: 'attendance', signer: k.pk, student: 'S-1001',
  text: 'Line one.\nLine two.', time: 1796600000 };
const body = C.encodeStatementBody(fields);
const env = C.signStatementBody(k.file, 'a passphrase for this test', body);
const d = C.describeStatement(env);
ok(d.section === 'attendance' && d.text === fields.text && d.signer.key === C.hex(k.pk) &&
   d.school.key === C.hex(school), 'a statement signed in the page reads back with its fields');
is(outcome(() => C.encodeStatementBody({ ...fields, text: 'a\tb' })), 'EVALUE', 'a tab in the text is refused before signing');
is(outcome(() => C.encodeStatementBody({ ...fields, section: 'grades' })), 'EVALUE', 'an unknown section is refused');
is(outcome(() => C.encodeStatementBody({ ...fields, text: 'x'.repeat(4001) })), 'EVALUE', 'a text over 4000 bytes is refused');
const m = env.slice();
m[m.length - 1] ^= 1;
is(outcome(() => C.decodeStatement(m)), 'EBADSIG', 'its signature flipped is EBADSIG');
done();

// The family page's cryptography (web/family/crypto.js) in Node.js, on the
// same libsodium build the page loads: Baton's own test vectors, and the
// files the CLI exchanges with it. One step per run; tests/cli/family_crypto.sh
// drives the CLI around them. The passphrase is BATON_PASSPHRASE.
//
//   node family_crypto.mjs vectors DIR           every vector of the kinds the library reads
//   node family_crypto.mjs makekey OUT           a key made as the page makes it (OUT, OUT.pub)
//   node family_crypto.mjs keys CLI.KEY          a CLI-made key: opens, its line, refusals
//   node family_crypto.mjs consent KEY LIKE OUT  signs a consent like the CLI's LIKE
//   node family_crypto.mjs revoke KEY CONSENT OUT  signs a revocation of CONSENT
//   node family_crypto.mjs mutate CONSENT        every byte flipped: refused
import { createRequire } from 'node:module';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
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

const pass = process.env.BATON_PASSPHRASE || '';
const [mode, ...args] = process.argv.slice(2);
const bytes = (p) => new Uint8Array(readFileSync(p));

// The error name a call throws, or 'OK'.
function outcome(fn) {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (!e.code) throw e;
    return e.code;
  }
}

function vectors(dir) {
  const kinds = { consent: 0, revocation: 0, keyfile: 0, msgpack: 0, login: 0 };
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    const v = JSON.parse(readFileSync(join(dir, name), 'utf8'));
    if (!(v.kind in kinds)) continue;
    kinds[v.kind]++;
    const input = C.fromHex(v.input);
    let extra = '';
    const got = outcome(() => {
      if (v.kind === 'login') {
        const msg = C.verifyLogin(input, v.key, { school: v.school_pk, origin: v.origin, nonce: v.nonce });
        if (v.message !== undefined && C.hex(msg) !== v.message) extra = ' (message ' + C.hex(msg) + ', not ' + v.message + ')';
      } else if (v.kind === 'msgpack') {
        C.walk(input);
      } else if (v.kind === 'keyfile') {
        // Any kind of §7.1 (the family's pages open only guardian keys, with openKey).
        const secret = C.readKeyFile(input, v.passphrase === null ? undefined : v.passphrase);
        const pk = sodium.crypto_sign_seed_keypair(secret.subarray(0, 32)).publicKey;
        C.wipe(secret);
        if (C.hex(pk) !== v.id_pk) extra = ' (public key ' + C.hex(pk) + ', not ' + v.id_pk + ')';
      } else {
        const d = C.decodeEnvelope(input, v.kind === 'consent' ? 2 : 3);
        if (v.kind === 'consent' && v.now !== undefined) C.checkValidity(d.fields, v.now, v.skew || 0);
        // A consent that passes names the case's sections, in wire order.
        if (v.kind === 'consent' && v.sections !== undefined && d.fields.sections.join(',') !== v.sections)
          extra = ' (sections ' + d.fields.sections.join(',') + ', not ' + v.sections + ')';
        // A valid object re-encodes from its fields to the same bytes.
        const again = v.kind === 'consent' ? C.encodeConsentBody(d.fields) : C.encodeRevocationBody(d.fields);
        if (C.hex(again) !== C.hex(d.body)) extra = ' (re-encoded body differs)';
      }
    });
    is(got + extra, v.expect, 'vector ' + v.name + ' gives ' + v.expect);
  }
  // The encoder's shortest forms, at each boundary (§2.2).
  const cases = [
    [{ t: 'uint', v: 127 }, '7f'], [{ t: 'uint', v: 128 }, 'cc80'], [{ t: 'uint', v: 255 }, 'ccff'],
    [{ t: 'uint', v: 256 }, 'cd0100'], [{ t: 'uint', v: 65535 }, 'cdffff'], [{ t: 'uint', v: 65536 }, 'ce00010000'],
    [{ t: 'uint', v: 4294967295 }, 'ceffffffff'], [{ t: 'uint', v: 4294967296 }, 'cf0000000100000000'],
    [{ t: 'str', v: 'a'.repeat(31) }, 'bf' + '61'.repeat(31)], [{ t: 'str', v: 'a'.repeat(32) }, 'd920' + '61'.repeat(32)],
    [{ t: 'str', v: 'a'.repeat(256) }, 'da0100' + '61'.repeat(256)], [{ t: 'bin', v: new Uint8Array(0) }, 'c400'],
    [{ t: 'bin', v: new Uint8Array(256) }, 'c50100' + '00'.repeat(256)],
    [{ t: 'array', v: Array(16).fill({ t: 'uint', v: 1 }) }, 'dc0010' + '01'.repeat(16)],
    [{ t: 'map', v: [['b', { t: 'uint', v: 2 }], ['a', { t: 'uint', v: 1 }], ['aa', { t: 'uint', v: 3 }]] }, '83a16101a2616103a16202'],
  ];
  const wrong = cases.filter(([v, h]) => C.hex(C.encode(v)) !== h || C.hex(C.encode(C.walk(C.fromHex(h)))) !== h);
  is(wrong.map(([, h]) => h.slice(0, 12)).join(' '), '', 'the encoder writes the shortest form at each boundary, keys sorted bytewise, and re-encodes what it walks');
  for (const k in kinds) ok(kinds[k] > 0, 'vectors of kind ' + k + ' were found (' + kinds[k] + ')');
}

function makekey(out) {
  const t0 = Date.now();
  const k = C.makeKey(pass);
  is(k.file.length, 112, 'makeKey: a 112-byte key file (' + (Date.now() - t0) + ' ms)');
  const info = C.keyInfo(k.file);
  is(JSON.stringify(info), JSON.stringify({ kind: 2, protection: 1, opslimit: 2, memlimit: 67108864 }),
     'makeKey: kind 2, protection 1, Argon2id at the CLI cost');
  ok(/^baton-gk1-[a-z2-7]{55}$/.test(k.line), 'makeKey: its key line', k.line);
  is(C.hex(C.parsePkLine(k.line)), C.hex(k.pk), 'the line parses back to the key');
  is(C.fingerprint(k.pk), k.fingerprint, 'makeKey: its fingerprint');
  const seed = C.openKey(k.file, pass);
  is(C.hex(sodium.crypto_sign_seed_keypair(seed).publicKey), C.hex(k.pk), 'openKey gives the seed of that key');
  C.wipe(seed);
  ok(seed.every((x) => x === 0), 'wipe zeroes the seed');
  writeFileSync(out, k.file, { mode: 0o600 });
  writeFileSync(out + '.line', k.line + '\n');
  writeFileSync(out + '.fpr', k.fingerprint + '\n');
}

function keys(file) {
  const k = bytes(file);
  const info = C.keyInfo(k);
  is(info.kind, 2, 'a key of baton guardian keygen is a guardian key (kind 2)');
  is(info.protection, 1, 'encrypted (protection 1)');
  const p = C.publicKey(k, pass);
  is(p.line, readFileSync(file + '.line', 'utf8').trim(), 'openKey: the public line the CLI prints for it');
  is(outcome(() => C.openKey(k, pass + 'x')), 'EPASSPHRASE', 'a wrong passphrase is EPASSPHRASE');
  is(outcome(() => C.openKey(k, undefined)), 'EPASSPHRASE', 'no passphrase is EPASSPHRASE');
  // Bytes of the file flipped (the header's each, then every 7th: each costs an
  // Argon2id): refused, by the check of §7.1 that the byte falls under.
  const bad = [];
  let tried = 0;
  for (let i = 0; i < k.length; i += i < 8 ? 1 : 7) {
    const m = k.slice();
    m[i] ^= 0x01;
    const got = outcome(() => C.openKey(m, pass));
    const want = i < 8 ? ['EKEYFILE'] : i < 24 ? ['EKEYFILE', 'EPASSPHRASE'] : ['EPASSPHRASE'];
    if (!want.includes(got)) bad.push(i + ':' + got);
    tried++;
  }
  is(bad.join(' '), '', 'each of ' + tried + ' one-byte changes of the key file is refused (EKEYFILE in the header, else EPASSPHRASE)');
  is(outcome(() => C.openKey(k.subarray(0, 111), pass)), 'EKEYFILE', 'a truncated key file is EKEYFILE');
  is(outcome(() => C.openKey(new Uint8Array(112), pass)), 'EKEYFILE', 'zeros are EKEYFILE');
  const school = k.slice();
  school[5] = 1;
  is(outcome(() => C.openKey(school, pass)), 'EKEYFILE', 'kind 1 at the guardian length is EKEYFILE');
  // Key lines (§7.4).
  const line = p.line;
  is(outcome(() => C.parsePkLine('  ' + line.toUpperCase() + '\r\n')), 'OK', 'a key line in capitals, with space around, parses');
  is(outcome(() => C.parsePkLine(line.replace('gk1', 'sid1'))), 'EVALUE', 'another prefix is EVALUE');
  is(outcome(() => C.parsePkLine(line.slice(0, -1))), 'EVALUE', 'a short line is EVALUE');
  is(outcome(() => C.parsePkLine(line + 'a')), 'EVALUE', 'text after the key is EVALUE');
  const i = 20;
  const other = line.slice(0, i) + (line[i] === 'a' ? 'b' : 'a') + line.slice(i + 1);
  is(outcome(() => C.parsePkLine(other)), 'EHASH', 'one character changed is EHASH');
  const small = new Uint8Array(32);
  small[0] = 1; // the identity point: small order
  is(outcome(() => C.parsePkLine(C.pkLine(small))), 'EBADKEY', 'a small-order key is EBADKEY');
  // The example of PROTOCOL.md §7.4.
  const sid = C.fromHex('05cccf1a17aba0382c6e5b9bf7f33103e09340fcccda835116aff6a9825c2e4d');
  is(C.fingerprint(sid), 'KRPOR-2ARPC-HEZ37-2Y33A-O46CB', 'the fingerprint of §7.4\'s example');
  is(C.pkLine(sid, 'sid1'), 'baton-sid1-axgm6gqxvoqdqldolon7p4zrapqjgqh4ztniguiwv73ktas4fzgrfvi', 'the identity line of §7.4\'s example');
  const sek = C.fromHex('e5f763d97c71f557fd148c3a9443cde70e9ebf953fd02fe26dc15edda12e6d5a');
  is(C.pkLine(sek, 'sek1'), 'baton-sek1-4x3whwl4oh2vp7iurq5jiq6n44hj5p4vh7ic7ytnyfpn3ijonvnnjci', 'the encryption line of §7.4\'s example');
  // The login message: its exact bytes.
  const nonce = new Uint8Array(32).fill(7);
  const msg = C.loginMessage({ fingerprint: 'KRPOR-2ARPC-HEZ37-2Y33A-O46CB', origin: 'https://school.example:8443', nonce });
  is(C.hex(msg), C.hex(new TextEncoder().encode('BATON-LOGIN-v1\0KRPOR-2ARPC-HEZ37-2Y33A-O46CB\x1bhttps://school.example:8443')) + '07'.repeat(32),
     'the login message is prefix, fingerprint, origin length, origin, nonce');
  const sig = C.signLogin(k, pass, { fingerprint: 'KRPOR-2ARPC-HEZ37-2Y33A-O46CB', origin: 'https://school.example:8443', nonce: C.hex(nonce) });
  ok(sodium.crypto_sign_verify_detached(sig, msg, p.pk), 'signLogin: Ed25519 over that message, with the key');
  ok(!sodium.crypto_sign_verify_detached(sig, sigMsgOf(msg), p.pk),
     'a login signature does not verify as a consent or revocation (another domain)');
  is(outcome(() => C.loginMessage({ fingerprint: 'x', origin: 'https://a', nonce })), 'EVALUE', 'a bad fingerprint is refused');
  is(outcome(() => C.loginMessage({ fingerprint: 'KRPOR-2ARPC-HEZ37-2Y33A-O46CB', origin: 'https://a b', nonce })), 'EVALUE', 'an origin with a space is refused');
  is(C.hex(C.loginMessage({ school: sid, origin: 'https://school.example:8443', nonce })), C.hex(msg), 'the school\'s identity key in place of its fingerprint gives the same message');
  is(outcome(() => C.signLogin(k, 'wrong', { fingerprint: 'KRPOR-2ARPC-HEZ37-2Y33A-O46CB', origin: 'https://a', nonce })), 'EPASSPHRASE', 'signLogin with a wrong passphrase is EPASSPHRASE');
}

// The signature message of a signed object of type 2 with the login message as body.
function sigMsgOf(msg) {
  return new Uint8Array([...new TextEncoder().encode('BATON-SIG-v1\0'), 2, ...msg]);
}

function consent(keyFile, likeFile, out) {
  const k = bytes(keyFile);
  const like = C.decodeConsent(bytes(likeFile)).fields;
  const t = Math.floor(Date.now() / 1000);
  const fields = {
    student: like.student, from: like.from, from_code: like.from_code, to: C.hex(like.to), to_code: like.to_code,
    sections: ['transcript', 'identity', 'health'], purpose: 'Enrollment at ' + like.to_code + ', signed in the page',
    issued: t, expires: t + 30 * 86400,
  };
  const env = C.signConsent(k, pass, fields);
  const d = C.describeConsent(env);
  is(d.sections.join(','), 'health,identity,transcript', 'signConsent: the sections in protocol order');
  is(d.sensitive.join(','), 'health', 'describeConsent names the sensitive sections');
  is(d.signer.line, C.publicKey(k, pass).line, 'the signer is the key\'s public half');
  is(d.from.fingerprint, C.fingerprint(like.from), 'describeConsent: the sending school\'s fingerprint');
  is(d.to.code, like.to_code, 'describeConsent: the receiving school\'s code');
  is(d.expires - d.issued, 30 * 86400, 'describeConsent: issued and expires');
  is(outcome(() => C.signConsent(k, pass + 'x', fields)), 'EPASSPHRASE', 'signConsent with a wrong passphrase is EPASSPHRASE');
  is(outcome(() => C.signConsent(k, pass, { ...fields, to: like.from })), 'EVALUE', 'a consent from a school to itself is refused');
  is(outcome(() => C.signConsent(k, pass, { ...fields, sections: ['grades'] })), 'EVALUE', 'an unknown section is refused');
  is(outcome(() => C.signConsent(k, pass, { ...fields, to_code: 'R A' })), 'EVALUE', 'a bad school code is refused');
  is(outcome(() => C.signConsent(k, pass, { ...fields, expires: t })), 'EVALUE', 'expires not after issued is refused');
  is(outcome(() => C.signConsent(k, pass, { ...fields, purpose: 'a\nb' })), 'EVALUE', 'a control character in the purpose is refused');
  // The page's way: the body first, its summary shown, then exactly those bytes signed.
  const pk = C.publicKey(k, pass).pk;
  const body = C.encodeConsentBody({ ...fields, signer: pk, purpose: 'Inscripción en ' + like.to_code + ' — año 2027' });
  const shown = C.describeConsentBody(body);
  is(shown.purpose, 'Inscripción en ' + like.to_code + ' — año 2027', 'describeConsentBody: the summary of the body (non-ASCII text)');
  const env2 = C.signConsentBody(k, pass, body);
  is(C.hex(C.decodeConsent(env2).body), C.hex(body), 'signConsentBody signs exactly the bytes summarised');
  is(JSON.stringify(C.describeConsent(env2)), JSON.stringify(shown), 'and the signed consent describes as the body did');
  const other = C.encodeConsentBody({ ...fields, signer: C.fromHex(C.hex(like.from)) });
  is(outcome(() => C.signConsentBody(k, pass, other)), 'EVALUE', 'signConsentBody refuses a body naming another signer');
  is(outcome(() => C.signConsentBody(k, pass, Uint8Array.from([0xde, 0x00, 0x0c, ...body.subarray(1)]))), 'ENONCANON',
     'signConsentBody refuses a body that is not canonical (map16 for 12 entries)');
  writeFileSync(out, env);
  writeFileSync(out + '.id', d.id + '\n');
  writeFileSync(out + '.utf8', env2);
}

function revoke(keyFile, consentFile, out) {
  const k = bytes(keyFile);
  const c = C.decodeConsent(bytes(consentFile)).fields;
  const env = C.signRevocation(k, pass, { consent: c.id, time: Math.floor(Date.now() / 1000) });
  const d = C.decodeRevocation(env).fields;
  is(C.hex(d.consent), C.hex(c.id), 'signRevocation names the consent');
  is(C.hex(d.signer), C.hex(C.publicKey(k, pass).pk), 'signed by the key');
  is(outcome(() => C.signRevocation(k, pass, { consent: new Uint8Array(15) })), 'EINVAL', 'a consent id that is not 16 bytes is refused');
  writeFileSync(out, env);
}

function mutate(file) {
  const env = bytes(file);
  is(outcome(() => C.decodeConsent(env)), 'OK', 'the consent decodes');
  const bad = [];
  for (let i = 0; i < env.length; i++)
    for (const mask of [0x01, 0x80, 0xff]) {
      const m = env.slice();
      m[i] ^= mask;
      if (outcome(() => C.decodeConsent(m)) === 'OK') bad.push(i + '^' + mask);
    }
  is(bad.join(' '), '', 'each of the ' + 3 * env.length + ' one-byte changes of the consent fails to decode or verify');
  const cut = [];
  for (let i = 0; i < env.length; i++)
    if (outcome(() => C.decodeConsent(env.subarray(0, i))) === 'OK') cut.push(i);
  is(cut.join(' '), '', 'each of its ' + env.length + ' truncations is refused');
  is(outcome(() => C.decodeRevocation(env)), 'EMAGIC', 'a consent read as a revocation is EMAGIC');
}

const steps = { vectors, makekey, keys, consent, revoke, mutate };
if (!steps[mode]) throw new Error('family_crypto.mjs: unknown step ' + mode);
steps[mode](...args);
done();

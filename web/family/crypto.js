/*
 * BatonCrypto: the family page's cryptography (proto/PROTOCOL.md), on
 * libsodium (libsodium-wrappers-sumo, loaded before this file as the global
 * `sodium`). A plain script: it defines one global, BatonCrypto.
 *
 *   await BatonCrypto.ready()            once, before anything else
 *
 * Bytes are Uint8Array. Where a key or id is taken, a Uint8Array or its
 * lower/upper-case hex string is accepted. Times are integer seconds since
 * the epoch (Number; a decoded uint above 2^53 - 1 comes back as a BigInt).
 * Every refusal throws an Error whose .code is the protocol's error name
 * (Appendix A: ETRUNC, ENONCANON, EVALUE, EBADSIG, EKEYFILE, EPASSPHRASE...,
 * or EINVAL for a bad argument) and whose .message names the field.
 *
 * Keys (§7.1, §7.3, §7.4):
 *   makeKey(pass) -> {file, pk, line, fingerprint}
 *       file: the 112-byte key file (kind 2 guardian, protection 1,
 *       Argon2id opslimit 2, memlimit 67108864: the CLI's cost), which opens
 *       with `baton consent grant --key`; pk: 32 bytes; line: "baton-gk1-...";
 *       fingerprint: "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX". pass: a non-empty string.
 *   openKey(file, pass) -> Uint8Array(32), the Ed25519 seed; the caller wipes
 *       it (wipe(seed)). Checks in §7.1's order: EKEYFILE (not a key file, a
 *       school key, bad length/cost...), then EPASSPHRASE (none given, wrong,
 *       or the file is damaged).
 *   readKeyFile(file, pass) -> Uint8Array, the secret of a key file of any
 *       kind (32 bytes; a school key's 64), by the same checks; the caller wipes it.
 *   keyInfo(file) -> {kind: 1|2|3, protection: 0|1, opslimit, memlimit}
 *       the header checks of §7.1 (EKEYFILE), no passphrase needed.
 *   publicKey(file, pass) -> {pk, line, fingerprint} (unlocks, derives, wipes)
 *   pkLine(pk, kind = 'gk1') -> "baton-gk1-..." ('gk1' | 'sid1' | 'sek1')
 *   parsePkLine(line, kind = 'gk1') -> pk (32 bytes); EVALUE, EHASH, EBADKEY
 *   fingerprint(pk) -> "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"
 *
 * Signing (the key is unlocked for one signature and wiped right after):
 *   signLogin(file, pass, {fingerprint, origin, nonce}) -> Uint8Array(64)
 *       Ed25519 (PROTOCOL.md §7.5) over "BATON-LOGIN-v1\0" || fingerprint
 *       (the node's, 29 ASCII characters as printed) || len(origin) (1 byte)
 *       || origin (1..255 bytes 0x21-0x7e, e.g. location.origin) || nonce
 *       (32 bytes, bytes or 64 hex). Instead of fingerprint, school: the
 *       node's identity key (32 bytes or hex, /challenge's school.id).
 *   loginMessage({fingerprint | school, origin, nonce}) -> the message above.
 *   verifyLogin(signature, pk, {fingerprint | school, origin, nonce}) -> the
 *       message; throws EVALUE, EBADKEY, EBADSIG in §7.5's order.
 *   signConsent(file, pass, fields) -> envelope bytes of a consent (§3.5),
 *       fields: {student, from, from_code, to, to_code, sections (names, any
 *       order; sorted here), purpose, expires, issued (default now),
 *       role ('guardian' default | 'student'), id (16 bytes, default random)}.
 *       The signer is the key's public half. The envelope is decoded again
 *       (every rule, signature included) before it is returned.
 *   signConsentBody(file, pass, body) -> envelope bytes: signs exactly the
 *       body bytes given (from encodeConsentBody, after the page showed
 *       describeConsentBody(body)), once they pass every rule of §3.5 and
 *       re-encode to themselves, and their signer is this key (else EVALUE).
 *   signRevocation(file, pass, {consent (16-byte id), time (default now)})
 *       -> envelope bytes of a revocation (§3.6), checked the same way.
 *
 * Canonical msgpack and envelopes (§2, §3):
 *   encodeConsentBody(fields) / encodeRevocationBody(fields) -> body bytes
 *       (the fields of signConsent / signRevocation, and signer: the public
 *       key, 32 bytes or hex), read back with every rule before returning.
 *   decodeConsent(bytes), decodeRevocation(bytes) -> {type, body, signature,
 *       fields} after every check of §3.3 (EBADSIG last); the body re-encoded
 *       from the fields must be the same bytes, and so must the envelope.
 *   decodeEnvelope(bytes, type) -> the same, for type 2 or 3.
 *   walk(bytes) -> the value, after §2.6's walk with the signed-object limits.
 *   encode(value) -> the canonical bytes of a value shaped as walk returns it
 *       ({t: 'uint'|'str'|'bin'|'array'|'map', v}; map keys sorted here).
 *   checkValidity(fields, now, skew = 0) -> throws ENOTYET / EEXPIRED (§3.9).
 *   describeConsent(envelopeBytes) -> {id (hex), student, role,
 *       from: {code, key (hex), fingerprint}, to: {code, key, fingerprint},
 *       sections: [names], sensitive: [the sensitive names among them],
 *       purpose, issued, expires, signer: {key, line, fingerprint}}
 *       from a fully checked consent (signature included).
 *   describeConsentBody(body) -> the same from body bytes (no signature yet):
 *       what the page shows before signing those bytes.
 *   SECTIONS, SENSITIVE: the section names of §2.9 in wire order (bytewise
 *       by name, not by index), the sensitive.
 *
 * Helpers: hex(bytes), fromHex(text), wipe(bytes), toBase64(bytes),
 * fromBase64(text) (standard alphabet, with padding).
 */
(function (root) {
	'use strict';

	let S = null; /* libsodium, once ready */

	const OPSLIMIT = 2;
	const MEMLIMIT = 67108864;
	const KEYFILE_GUARDIAN_LEN = 112;
	const LIMIT = { bytes: 16384, depth: 8, items: 1024 };
	/* PROTOCOL.md §2.9, in bytewise name order: every list on the wire ascends in it. */
	const SECTIONS = [
		'assessments', 'attendance', 'custody', 'discipline', 'english_learner',
		'enrollment', 'graduation', 'guardians', 'health', 'homeless', 'identity',
		'section_504', 'special_education', 'transcript',
	];
	const SENSITIVE = [
		'custody', 'discipline', 'english_learner', 'health', 'homeless', 'section_504',
		'special_education',
	];
	const TYPE_CONSENT = 2;
	const TYPE_REVOCATION = 3;
	const TYPE_STATEMENT = 7;
	const STATEMENT_TEXT_MAX = 4000;
	const enc = new TextEncoder();
	const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
	const PREFIX = { gk1: 'baton-gk1-', sid1: 'baton-sid1-', sek1: 'baton-sek1-' };

	function fail(code, message) {
		const e = new Error(message);
		e.code = code;
		return e;
	}

	function need() {
		if (!S)
			throw fail('EINVAL', 'BatonCrypto: call and await BatonCrypto.ready() first');
	}

	async function ready() {
		if (S)
			return;
		const s = root.sodium;
		if (!s || !s.ready)
			throw fail('EINVAL', 'libsodium (libsodium-wrappers-sumo) is not loaded');
		await s.ready;
		S = s;
	}

	/* ---- bytes ---- */

	function cat(...parts) {
		let n = 0;
		for (const p of parts)
			n += p.length;
		const out = new Uint8Array(n);
		let o = 0;
		for (const p of parts) {
			out.set(p, o);
			o += p.length;
		}
		return out;
	}

	function hex(b) {
		let s = '';
		for (const x of b)
			s += (x < 16 ? '0' : '') + x.toString(16);
		return s;
	}

	function fromHex(t) {
		if (typeof t !== 'string' || t.length % 2 || !/^[0-9a-fA-F]*$/.test(t))
			throw fail('EINVAL', 'not hex: ' + String(t).slice(0, 80));
		const out = new Uint8Array(t.length / 2);
		for (let i = 0; i < out.length; i++)
			out[i] = parseInt(t.substr(2 * i, 2), 16);
		return out;
	}

	/* A Uint8Array of n bytes from bytes or hex, for the field named. */
	function bytesOf(v, n, name) {
		let b = v;
		if (typeof v === 'string') {
			try {
				b = fromHex(v);
			} catch (e) {
				throw fail('EINVAL', name + ': not hex');
			}
		}
		if (!(b instanceof Uint8Array))
			throw fail('EINVAL', name + ': expected bytes or hex');
		if (n !== undefined && b.length !== n)
			throw fail('EINVAL', name + ': expected ' + n + ' bytes, got ' + b.length);
		return b;
	}

	function wipe(b) {
		if (b instanceof Uint8Array) {
			if (S)
				S.memzero(b);
			else
				b.fill(0);
		}
	}

	function equal(a, b) {
		if (a.length !== b.length)
			return false;
		let d = 0;
		for (let i = 0; i < a.length; i++)
			d |= a[i] ^ b[i];
		return d === 0;
	}

	function toBase64(b) {
		need();
		return S.to_base64(b, S.base64_variants.ORIGINAL);
	}

	function fromBase64(t) {
		need();
		try {
			return S.from_base64(String(t).trim(), S.base64_variants.ORIGINAL);
		} catch (e) {
			throw fail('EINVAL', 'not base64');
		}
	}

	function u64be(b, off) {
		let v = 0n;
		for (let i = 0; i < 8; i++)
			v = (v << 8n) | BigInt(b[off + i]);
		return v;
	}

	function putU64be(b, off, v) {
		let x = BigInt(v);
		for (let i = 7; i >= 0; i--) {
			b[off + i] = Number(x & 0xffn);
			x >>= 8n;
		}
	}

	function now() {
		return Math.floor(Date.now() / 1000);
	}

	/* ---- base32, fingerprints and key lines (§7.3, §7.4) ---- */

	function base32(bytes, nbits) {
		let s = '';
		for (let i = 0; i < nbits; i += 5) {
			let v = 0;
			for (let k = 0; k < 5; k++) {
				const b = i + k;
				const bit = b < nbits ? (bytes[b >> 3] >> (7 - (b & 7))) & 1 : 0;
				v = (v << 1) | bit;
			}
			s += B32[v];
		}
		return s;
	}

	function edKeyValid(pk) {
		return pk.length === 32 && S.crypto_core_ed25519_is_valid_point(pk);
	}

	function x25519KeyValid(pk) {
		const probe = new Uint8Array(32);
		probe[0] = 0x42;
		probe[1] = 0x17;
		try {
			S.crypto_scalarmult(probe, pk);
			return true;
		} catch (e) {
			return false;
		}
	}

	function fingerprint(pk) {
		need();
		pk = bytesOf(pk, 32, 'public key');
		const h = S.crypto_generichash(16, cat(enc.encode('BATON-FINGERPRINT-v1\0'), pk), null);
		const s = base32(h, 125).toUpperCase();
		return s.match(/.{5}/g).join('-');
	}

	function keyCheck(prefix, pk) {
		return S.crypto_generichash(2, cat(enc.encode(prefix), pk), null);
	}

	function prefixOf(kind) {
		const p = PREFIX[kind];
		if (!p)
			throw fail('EINVAL', 'key line kind: "' + kind + '" is not gk1, sid1 or sek1');
		return p;
	}

	function pkLine(pk, kind = 'gk1') {
		need();
		const prefix = prefixOf(kind);
		pk = bytesOf(pk, 32, 'public key');
		return prefix + base32(cat(pk, keyCheck(prefix, pk)), 272);
	}

	function parsePkLine(line, kind = 'gk1') {
		need();
		const prefix = prefixOf(kind);
		if (typeof line !== 'string')
			throw fail('EVALUE', 'public key: not text');
		const t = line.replace(/^[ \t\r\n]+/, '');
		if (t.slice(0, prefix.length).toLowerCase() !== prefix)
			throw fail('EVALUE', 'public key: does not start with "' + prefix + '"');
		const raw = new Uint8Array(34);
		const nbits = 272;
		const nchars = 55;
		let i;
		for (i = 0; i < nchars; i++) {
			const c = (t[prefix.length + i] || '').toLowerCase();
			const v = c === '' ? -1 : B32.indexOf(c);
			if (v < 0)
				throw fail('EVALUE', 'public key: character ' + (prefix.length + i + 1) +
				                         ' is not base32 or the key is too short');
			for (let k = 0; k < 5; k++) {
				const b = 5 * i + k;
				const bit = (v >> (4 - k)) & 1;
				if (b < nbits)
					raw[b >> 3] |= bit << (7 - (b & 7));
				else if (bit)
					throw fail('EVALUE', 'public key: last character is wrong');
			}
		}
		if (!/^[ \t\r\n]*$/.test(t.slice(prefix.length + nchars)))
			throw fail('EVALUE', 'public key: unexpected text after the key');
		const pk = raw.slice(0, 32);
		if (!equal(keyCheck(prefix, pk), raw.subarray(32)))
			throw fail('EHASH', 'public key: checksum does not match (a typo?)');
		if (kind !== 'sek1' && !edKeyValid(pk))
			throw fail('EBADKEY', 'public key: not a valid Ed25519 key');
		if (kind === 'sek1' && !x25519KeyValid(pk))
			throw fail('EBADKEY', 'public key: not a valid X25519 key');
		return pk;
	}

	/* ---- key files (§7.1) ---- */

	function keyInfo(file) {
		if (!(file instanceof Uint8Array))
			throw fail('EKEYFILE', 'key file: not bytes');
		if (file.length < 64 || file[0] !== 0x42 || file[1] !== 0x54 || file[2] !== 0x4e ||
		    file[3] !== 0x4b)
			throw fail('EKEYFILE', 'key file: not a Baton key file');
		if (file[4] !== 1)
			throw fail('EKEYFILE', 'key file: version ' + file[4] + ' is not 1');
		const kind = file[5];
		if (kind !== 1 && kind !== 2 && kind !== 3)
			throw fail('EKEYFILE', 'key file: unknown kind ' + kind);
		const protection = file[6];
		if (protection > 1 || file[7] !== 0)
			throw fail('EKEYFILE', 'key file: unknown protection ' + protection);
		if (kind === 3 && protection === 0)
			throw fail('EKEYFILE', 'key file: an authority key must be encrypted');
		const slen = kind === 1 ? 64 : 32;
		if (file.length !== 64 + slen + 16)
			throw fail('EKEYFILE', 'key file: ' + file.length + ' bytes, expected ' +
			                           (64 + slen + 16));
		const opslimit = u64be(file, 8);
		const memlimit = u64be(file, 16);
		if (protection === 1 &&
		    (opslimit < 1n || opslimit > 16n || memlimit < 8192n || memlimit > 1n << 30n))
			throw fail('EKEYFILE', 'key file: Argon2id cost out of range');
		if (protection === 0 && file.subarray(8, 40).some((x) => x !== 0))
			throw fail('EKEYFILE', 'key file: unencrypted, but its cost and salt are not zero');
		return { kind, protection, opslimit: Number(opslimit), memlimit: Number(memlimit) };
	}

	/* The secret of any key file (§7.1, every check in order); the caller wipes it. */
	function readKeyFile(file, pass) {
		need();
		const info = keyInfo(file);
		let key;
		if (info.protection === 1) {
			if (typeof pass !== 'string' || pass === '')
				throw fail('EPASSPHRASE', 'key file: encrypted, and no passphrase was given');
			const pw = enc.encode(pass);
			try {
				key = S.crypto_pwhash(32, pw, file.subarray(24, 40), info.opslimit, info.memlimit,
				                      S.crypto_pwhash_ALG_ARGON2ID13);
			} finally {
				wipe(pw);
			}
		} else {
			key = S.crypto_generichash(32, enc.encode('BATON-KEYFILE-PLAIN-v1\0'), null);
		}
		try {
			return S.crypto_aead_xchacha20poly1305_ietf_decrypt(
			    null, file.subarray(64), file.subarray(0, 64), file.subarray(40, 64), key);
		} catch (e) {
			throw fail('EPASSPHRASE', 'key file: wrong passphrase, or the file is damaged');
		} finally {
			wipe(key);
		}
	}

	/* §7.1's header checks, then the kind (a guardian key), then the passphrase. */
	function openKey(file, pass) {
		const kind = keyInfo(file).kind;
		if (kind !== 2)
			throw fail('EKEYFILE', 'key file: ' + (kind === 1 ? 'a school' : 'an authority') +
			                           ' key, not a guardian key');
		return readKeyFile(file, pass);
	}

	function makeKey(pass) {
		need();
		if (typeof pass !== 'string' || pass === '')
			throw fail('EINVAL', 'passphrase: empty');
		const file = new Uint8Array(KEYFILE_GUARDIAN_LEN);
		file.set([0x42, 0x54, 0x4e, 0x4b, 1, 2, 1, 0]);
		putU64be(file, 8, OPSLIMIT);
		putU64be(file, 16, MEMLIMIT);
		file.set(S.randombytes_buf(16), 24);
		file.set(S.randombytes_buf(24), 40);
		const seed = S.randombytes_buf(32);
		const kp = S.crypto_sign_seed_keypair(seed);
		const pw = enc.encode(pass);
		const key = S.crypto_pwhash(32, pw, file.subarray(24, 40), OPSLIMIT, MEMLIMIT,
		                            S.crypto_pwhash_ALG_ARGON2ID13);
		wipe(pw);
		try {
			file.set(S.crypto_aead_xchacha20poly1305_ietf_encrypt(
			             seed, file.subarray(0, 64), null, file.subarray(40, 64), key),
			         64);
		} finally {
			wipe(key);
			wipe(seed);
			wipe(kp.privateKey);
		}
		const pk = kp.publicKey;
		return { file, pk, line: pkLine(pk), fingerprint: fingerprint(pk) };
	}

	/* Runs fn(secretKey, publicKey) with the key unlocked; wipes the secret after. */
	function withKey(file, pass, fn) {
		const seed = openKey(file, pass);
		let kp = null;
		try {
			kp = S.crypto_sign_seed_keypair(seed);
			return fn(kp.privateKey, kp.publicKey);
		} finally {
			wipe(seed);
			if (kp)
				wipe(kp.privateKey);
		}
	}

	function publicKey(file, pass) {
		return withKey(file, pass, (sk, pk) => {
			const p = pk.slice();
			return { pk: p, line: pkLine(p), fingerprint: fingerprint(p) };
		});
	}

	/* ---- canonical msgpack (§2) ---- */

	/* Decoded values: {t: 'uint', v: BigInt} | {t: 'str', v: string, b: bytes} |
	 * {t: 'bin', v: bytes} | {t: 'bool', v} | {t: 'array', v: [...]} |
	 * {t: 'map', v: [[key string, value]...]} */

	function utf8Valid(b) {
		for (let i = 0; i < b.length;) {
			const c = b[i];
			let n, min;
			if (c === 0)
				return false;
			if (c < 0x80) {
				i++;
				continue;
			} else if (c >= 0xc2 && c <= 0xdf) {
				n = 1;
				min = 0x80;
			} else if (c >= 0xe0 && c <= 0xef) {
				n = 2;
				min = 0x800;
			} else if (c >= 0xf0 && c <= 0xf4) {
				n = 3;
				min = 0x10000;
			} else {
				return false;
			}
			if (i + n >= b.length)
				return false;
			let cp = c & (0x3f >> n);
			for (let k = 1; k <= n; k++) {
				const d = b[i + k];
				if ((d & 0xc0) !== 0x80)
					return false;
				cp = (cp << 6) | (d & 0x3f);
			}
			if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
				return false;
			i += n + 1;
		}
		return true;
	}

	function cmpBytes(a, b) {
		const n = Math.min(a.length, b.length);
		for (let i = 0; i < n; i++)
			if (a[i] !== b[i])
				return a[i] - b[i];
		return a.length - b.length;
	}

	/* §2.6: the walk, every check in its order; builds the value as it goes. */
	function walk(b, lim = LIMIT) {
		if (b instanceof ArrayBuffer)
			b = new Uint8Array(b);
		if (!(b instanceof Uint8Array))
			throw fail('EINVAL', 'input: not bytes');
		if (b.length > lim.bytes)
			throw fail('ETOOBIG', 'input: ' + b.length + ' bytes, over ' + lim.bytes);
		let pos = 0;
		let items = 0;
		const left = () => b.length - pos;
		function arg(width) {
			if (left() < width)
				throw fail('ETRUNC', 'input ends inside an item at byte ' + pos);
			let v = 0n;
			for (let i = 0; i < width; i++)
				v = (v << 8n) | BigInt(b[pos + i]);
			pos += width;
			return v;
		}
		function shortest(v, width, small) {
			/* small: the largest value the next shorter form holds, or -1 */
			if (small >= 0 && v <= BigInt(small))
				throw fail('ENONCANON', 'input: item at byte ' + pos + ' not in its shortest form');
			return v;
		}
		function item(depth, prevKey) {
			/* prevKey: undefined when not in key position, null for a map's first key */
			if (left() < 1)
				throw fail('ETRUNC', 'input ends where an item must start');
			if (++items > lim.items)
				throw fail('ETOOBIG', 'input: more than ' + lim.items + ' items');
			const t = b[pos++];
			let kind, n;
			if (t <= 0x7f) {
				kind = 'uint';
				n = BigInt(t);
			} else if (t <= 0x8f) {
				kind = 'map';
				n = BigInt(t & 15);
			} else if (t <= 0x9f) {
				kind = 'array';
				n = BigInt(t & 15);
			} else if (t <= 0xbf) {
				kind = 'str';
				n = BigInt(t & 31);
			} else if (t === 0xc2 || t === 0xc3) {
				kind = 'bool';
			} else if (t === 0xc4) {
				kind = 'bin';
				n = arg(1);
			} else if (t === 0xc5) {
				kind = 'bin';
				n = shortest(arg(2), 2, 255);
			} else if (t === 0xc6) {
				kind = 'bin';
				n = shortest(arg(4), 4, 65535);
			} else if (t >= 0xcc && t <= 0xcf) {
				kind = 'uint';
				const w = 1 << (t - 0xcc);
				n = shortest(arg(w), w, [127, 255, 65535, 4294967295][t - 0xcc]);
			} else if (t >= 0xd9 && t <= 0xdb) {
				kind = 'str';
				const w = 1 << (t - 0xd9);
				n = shortest(arg(w), w, [31, 255, 65535][t - 0xd9]);
			} else if (t === 0xdc || t === 0xdd) {
				kind = 'array';
				n = shortest(arg(t === 0xdc ? 2 : 4), 0, t === 0xdc ? 15 : 65535);
			} else if (t === 0xde || t === 0xdf) {
				kind = 'map';
				n = shortest(arg(t === 0xde ? 2 : 4), 0, t === 0xde ? 15 : 65535);
			} else {
				throw fail('ETYPE', 'input: type byte 0x' + t.toString(16) + ' at byte ' +
				                        (pos - 1) + ' is not allowed');
			}
			let val;
			if (kind === 'str' || kind === 'bin') {
				if (n > BigInt(left()))
					throw fail('ELENGTH', 'input: a length at byte ' + pos + ' runs past the end');
				const bytes = b.slice(pos, pos + Number(n));
				pos += Number(n);
				if (kind === 'str') {
					if (!utf8Valid(bytes))
						throw fail('EUTF8', 'input: a string is not valid UTF-8 (or holds NUL)');
					val = { t: 'str', v: new TextDecoder().decode(bytes), b: bytes };
				} else {
					val = { t: 'bin', v: bytes };
				}
			} else if (kind === 'uint') {
				val = { t: 'uint', v: n };
			} else if (kind === 'bool') {
				val = { t: 'bool', v: t === 0xc3 };
			}
			if (prevKey !== undefined) {
				if (kind !== 'str')
					throw fail('ETYPE', 'input: a map key is not a string');
				if (prevKey !== null) {
					const c = cmpBytes(val.b, prevKey);
					if (c === 0)
						throw fail('EDUPKEY', 'input: the key "' + val.v + '" is repeated');
					if (c < 0)
						throw fail('ENONCANON', 'input: the key "' + val.v + '" is out of order');
				}
			}
			if (kind === 'array' || kind === 'map') {
				const need = kind === 'map' ? 2n * n : n;
				if (need > BigInt(left()))
					throw fail('ELENGTH', 'input: a count at byte ' + pos + ' runs past the end');
				if (depth + 1 > lim.depth)
					throw fail('EDEPTH', 'input: nested deeper than ' + lim.depth);
				const count = Number(n);
				if (kind === 'array') {
					const v = [];
					for (let i = 0; i < count; i++)
						v.push(item(depth + 1, undefined));
					val = { t: 'array', v };
				} else {
					const v = [];
					let prev = null;
					for (let i = 0; i < count; i++) {
						const k = item(depth + 1, prev);
						prev = k.b;
						v.push([k.v, item(depth + 1, undefined)]);
					}
					val = { t: 'map', v };
				}
			}
			return val;
		}
		const v = item(0, undefined);
		if (pos !== b.length)
			throw fail('ETRAILING', 'input: ' + (b.length - pos) + ' bytes after the object');
		return v;
	}

	/* Canonical encoder: values as {t, v} above (map entries sorted here). */
	function encodeValue(val, out) {
		function head(small, base, wide, n) {
			/* small: [limit, base] of the fix form, or null; wide: [[limit, byte, width]...] */
			if (small && n <= BigInt(small[0])) {
				out.push(small[1] + Number(n));
				return;
			}
			for (const [limit, byte, width] of wide) {
				if (n <= limit) {
					out.push(byte);
					for (let i = width - 1; i >= 0; i--)
						out.push(Number((n >> BigInt(8 * i)) & 0xffn));
					return;
				}
			}
			throw fail('EINVAL', 'value too large to encode');
		}
		const L8 = 0xffn, L16 = 0xffffn, L32 = 0xffffffffn, L64 = 0xffffffffffffffffn;
		switch (val.t) {
		case 'uint': {
			const n = BigInt(val.v);
			if (n < 0n)
				throw fail('EINVAL', 'a negative integer cannot be encoded');
			head([127, 0], 0, [[L8, 0xcc, 1], [L16, 0xcd, 2], [L32, 0xce, 4], [L64, 0xcf, 8]], n);
			break;
		}
		case 'str': {
			const b = enc.encode(val.v);
			head([31, 0xa0], 0, [[L8, 0xd9, 1], [L16, 0xda, 2], [L32, 0xdb, 4]], BigInt(b.length));
			for (const x of b)
				out.push(x);
			break;
		}
		case 'bin':
			head(null, 0, [[L8, 0xc4, 1], [L16, 0xc5, 2], [L32, 0xc6, 4]], BigInt(val.v.length));
			for (const x of val.v)
				out.push(x);
			break;
		case 'array':
			head([15, 0x90], 0, [[L16, 0xdc, 2], [L32, 0xdd, 4]], BigInt(val.v.length));
			for (const x of val.v)
				encodeValue(x, out);
			break;
		case 'map': {
			const entries = val.v.map(([k, v]) => [enc.encode(k), k, v]);
			entries.sort((a, c) => cmpBytes(a[0], c[0]));
			head([15, 0x80], 0, [[L16, 0xde, 2], [L32, 0xdf, 4]], BigInt(entries.length));
			for (const [, k, v] of entries) {
				encodeValue({ t: 'str', v: k }, out);
				encodeValue(v, out);
			}
			break;
		}
		default:
			throw fail('EINVAL', 'cannot encode a value of type ' + val.t);
		}
	}

	function encode(val) {
		const out = [];
		encodeValue(val, out);
		return Uint8Array.from(out);
	}

	/* ---- reading fields (§2.7, §2.8) ---- */

	function num(v) {
		return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
	}

	function textOk(s) {
		return !/[\x00-\x1f\x7f]/.test(s);
	}

	function codeOk(s) {
		return /^[A-Za-z0-9._-]*$/.test(s);
	}

	/* Field readers: each checks type, then the value rules, naming obj.field. */
	const R = {
		uint: (v, w) => {
			if (v.t !== 'uint')
				throw fail('ETYPE', w + ': expected an unsigned integer');
			return num(v.v);
		},
		bin: (v, w, n) => {
			if (v.t !== 'bin')
				throw fail('ETYPE', w + ': expected bin');
			if (v.v.length !== n)
				throw fail('EVALUE', w + ': ' + v.v.length + ' bytes, expected ' + n);
			return v.v;
		},
		key: (v, w) => {
			const k = R.bin(v, w, 32);
			if (!edKeyValid(k))
				throw fail('EBADKEY', w + ': not a valid Ed25519 public key');
			return k;
		},
		str: (v, w, min, max) => {
			if (v.t !== 'str')
				throw fail('ETYPE', w + ': expected a string');
			if (v.b.length < min || v.b.length > max)
				throw fail('EVALUE', w + ': ' + v.b.length + ' bytes, expected ' + min + '..' + max);
			return v.v;
		},
		text: (v, w, min, max) => {
			const s = R.str(v, w, min, max);
			if (!textOk(s))
				throw fail('EVALUE', w + ': holds a control character');
			return s;
		},
		/* §3.11: text that may hold line feeds. */
		stext: (v, w, min, max) => {
			const s = R.str(v, w, min, max);
			if (/[\x00-\x09\x0b-\x1f\x7f]/.test(s))
				throw fail('EVALUE', w + ': holds a control character other than a line feed');
			return s;
		},
		section: (v, w) => {
			const s = R.str(v, w, 1, 31);
			if (!SECTIONS.includes(s))
				throw fail('EVALUE', w + ': unknown section "' + s + '"');
			return s;
		},
		code: (v, w) => {
			const s = R.str(v, w, 1, 32);
			if (!codeOk(s))
				throw fail('EVALUE', w + ': "' + s + '": a school code uses only letters, digits and . _ -');
			return s;
		},
		sections: (v, w) => {
			if (v.t !== 'array')
				throw fail('ETYPE', w + ': expected an array');
			if (v.v.length < 1 || v.v.length > SECTIONS.length)
				throw fail('EVALUE', w + ': ' + v.v.length + ' entries, expected 1..' + SECTIONS.length);
			let prev = -1;
			return v.v.map((e, i) => {
				if (e.t !== 'str')
					throw fail('ETYPE', w + '[' + i + ']: expected a string');
				const s = SECTIONS.indexOf(e.v);
				if (s < 0)
					throw fail('EVALUE', w + '[' + i + ']: unknown section "' + e.v + '"');
				if (s <= prev)
					throw fail(s === prev ? 'EVALUE' : 'ENONCANON',
					           w + '[' + i + ']: "' + e.v + '" ' + (s === prev ? 'repeated' : 'out of order'));
				prev = s;
				return e.v;
			});
		},
	};

	/* Schemas: [key, reader, args...] in key order; then the cross-field rules. */
	const SCHEMA = {
		[TYPE_CONSENT]: {
			name: 'consent',
			fields: [
				['expires', 'uint'], ['from', 'key'], ['from_code', 'code'], ['id', 'bin', 16],
				['issued', 'uint'], ['purpose', 'text', 1, 512], ['role', 'str', 1, 8],
				['sections', 'sections'], ['signer', 'key'], ['student', 'text', 1, 64],
				['to', 'key'], ['to_code', 'code'],
			],
			after(f) {
				if (f.role !== 'guardian' && f.role !== 'student')
					throw fail('EVALUE', 'consent.role: "' + f.role + '" is not guardian or student');
			},
			cross(f) {
				if (BigInt(f.expires) <= BigInt(f.issued))
					throw fail('EVALUE', 'consent: expires is not after issued');
				if (equal(f.from, f.to))
					throw fail('EVALUE', 'consent: from and to are the same school');
			},
		},
		[TYPE_REVOCATION]: {
			name: 'revocation',
			fields: [['consent', 'bin', 16], ['signer', 'key'], ['time', 'uint']],
			cross() {},
		},
		[TYPE_STATEMENT]: {
			name: 'statement',
			fields: [
				['id', 'bin', 16], ['role', 'str', 1, 8], ['school', 'key'], ['section', 'section'],
				['signer', 'key'], ['student', 'text', 1, 64], ['text', 'stext', 1, STATEMENT_TEXT_MAX],
				['time', 'uint'],
			],
			after(f) {
				if (f.role !== 'guardian' && f.role !== 'student')
					throw fail('EVALUE', 'statement.role: "' + f.role + '" is not guardian or student');
			},
			cross() {},
		},
	};

	function readFields(v, type) {
		const sc = SCHEMA[type];
		if (v.t !== 'map')
			throw fail('ETYPE', sc.name + ': the body is not a map');
		const known = sc.fields.map((f) => f[0]);
		for (const [k] of v.v)
			if (!known.includes(k))
				throw fail('EUNKNOWN', sc.name + '.' + k + ': a field this version does not define');
		const got = new Map(v.v);
		const f = {};
		for (const [k, reader, ...args] of sc.fields) {
			const w = sc.name + '.' + k;
			if (!got.has(k))
				throw fail('EMISSING', w + ': missing');
			f[k] = R[reader](got.get(k), w, ...args);
			if (k === 'role')
				sc.after(f);
		}
		sc.cross(f);
		return f;
	}

	function bodyValue(type, f) {
		const sc = SCHEMA[type];
		const entries = [];
		for (const [k, reader] of sc.fields) {
			const x = f[k];
			let v;
			if (reader === 'uint')
				v = { t: 'uint', v: x };
			else if (reader === 'bin' || reader === 'key')
				v = { t: 'bin', v: x };
			else if (reader === 'sections')
				v = { t: 'array', v: x.map((s) => ({ t: 'str', v: s })) };
			else
				v = { t: 'str', v: x };
			entries.push([k, v]);
		}
		return { t: 'map', v: entries };
	}

	function sigMessage(type, body) {
		return cat(enc.encode('BATON-SIG-v1\0'), Uint8Array.of(type), body);
	}

	/* §3.3, every step; then the re-encoding of the fields must give the same bytes. */
	function decodeEnvelope(bytes, type) {
		need();
		if (!SCHEMA[type])
			throw fail('EINVAL', 'type ' + type + ': this library reads consents (2), revocations (3) and statements (7)');
		const name = SCHEMA[type].name;
		const env = walk(bytes);
		if (env.t !== 'array' || env.v.length !== 3)
			throw fail('EMAGIC', name + ': not a signed object (an array of 3 items)');
		const [t, b, s] = env.v;
		if (t.t !== 'uint')
			throw fail('ETYPE', name + ': the type is not an unsigned integer');
		if (t.v !== BigInt(type))
			throw fail('EMAGIC', name + ': a signed object of type ' + t.v + ', not ' + type);
		if (b.t !== 'bin')
			throw fail('ETYPE', name + ': the body is not bin');
		if (b.v.length === 0 || b.v.length > LIMIT.bytes)
			throw fail('EVALUE', name + ': body of ' + b.v.length + ' bytes');
		if (s.t !== 'bin')
			throw fail('ETYPE', name + ': the signature is not bin');
		if (s.v.length !== 64)
			throw fail('EVALUE', name + ': signature of ' + s.v.length + ' bytes, expected 64');
		const fields = readFields(walk(b.v), type);
		if (!S.crypto_sign_verify_detached(s.v, sigMessage(type, b.v), fields.signer))
			throw fail('EBADSIG', name + ': the signature does not verify');
		const body = encode(bodyValue(type, fields));
		if (!equal(body, b.v) || !equal(envelope(type, body, s.v), bytes))
			throw fail('ENONCANON', name + ': does not re-encode to the same bytes');
		return { type, body: b.v, signature: s.v, fields };
	}

	function envelope(type, body, sig) {
		return encode({ t: 'array', v: [{ t: 'uint', v: type }, { t: 'bin', v: body }, { t: 'bin', v: sig }] });
	}

	function checkValidity(f, t, skew = 0) {
		const start = BigInt(f.issued) - BigInt(skew);
		if (BigInt(t) < (start > 0n ? start : 0n))
			throw fail('ENOTYET', 'consent: not valid before ' + f.issued);
		if (BigInt(t) > BigInt(f.expires))
			throw fail('EEXPIRED', 'consent: expired at ' + f.expires);
	}

	/* ---- building bodies from the page's fields ---- */

	function uintArg(v, name) {
		if (typeof v === 'bigint' ? v >= 0n : Number.isSafeInteger(v) && v >= 0)
			return v;
		throw fail('EINVAL', name + ': expected a non-negative integer, got ' + String(v));
	}

	function sectionsArg(list) {
		if (!Array.isArray(list) || list.length === 0)
			throw fail('EVALUE', 'consent.sections: expected at least one section');
		const seen = new Set();
		for (const s of list) {
			if (!SECTIONS.includes(s))
				throw fail('EVALUE', 'consent.sections: unknown section "' + s + '"');
			if (seen.has(s))
				throw fail('EVALUE', 'consent.sections: "' + s + '" repeated');
			seen.add(s);
		}
		return SECTIONS.filter((s) => seen.has(s));
	}

	/* Encodes f, then reads it back with every rule of the schema (no signature). */
	function encodeBody(type, f) {
		const body = encode(bodyValue(type, f));
		const back = readFields(walk(body), type);
		if (!equal(encode(bodyValue(type, back)), body))
			throw fail('ENONCANON', SCHEMA[type].name + ': does not re-encode to the same bytes');
		return body;
	}

	function consentFields(fields, signer) {
		const f = fields || {};
		return {
			expires: uintArg(f.expires, 'consent.expires'),
			from: bytesOf(f.from, 32, 'consent.from'),
			from_code: String(f.from_code ?? ''),
			id: f.id === undefined ? S.randombytes_buf(16) : bytesOf(f.id, 16, 'consent.id'),
			issued: uintArg(f.issued === undefined ? now() : f.issued, 'consent.issued'),
			purpose: String(f.purpose ?? ''),
			role: f.role === undefined ? 'guardian' : String(f.role),
			sections: sectionsArg(f.sections),
			signer: signer || bytesOf(f.signer, 32, 'consent.signer'),
			student: String(f.student ?? ''),
			to: bytesOf(f.to, 32, 'consent.to'),
			to_code: String(f.to_code ?? ''),
		};
	}

	function revocationFields(fields, signer) {
		const f = fields || {};
		return {
			consent: bytesOf(f.consent, 16, 'revocation.consent'),
			signer: signer || bytesOf(f.signer, 32, 'revocation.signer'),
			time: uintArg(f.time === undefined ? now() : f.time, 'revocation.time'),
		};
	}

	function statementFields(fields, signer) {
		const f = fields || {};
		return {
			id: f.id === undefined ? S.randombytes_buf(16) : bytesOf(f.id, 16, 'statement.id'),
			role: f.role === undefined ? 'guardian' : String(f.role),
			school: bytesOf(f.school, 32, 'statement.school'),
			section: String(f.section ?? ''),
			signer: signer || bytesOf(f.signer, 32, 'statement.signer'),
			student: String(f.student ?? ''),
			text: String(f.text ?? ''),
			time: uintArg(f.time === undefined ? now() : f.time, 'statement.time'),
		};
	}

	function encodeStatementBody(fields) {
		need();
		return encodeBody(TYPE_STATEMENT, statementFields(fields));
	}

	function encodeConsentBody(fields) {
		need();
		return encodeBody(TYPE_CONSENT, consentFields(fields));
	}

	function encodeRevocationBody(fields) {
		need();
		return encodeBody(TYPE_REVOCATION, revocationFields(fields));
	}

	/* Builds the body with the key's public half as signer, signs, checks the whole envelope. */
	function signObject(type, file, pass, build) {
		need();
		const env = withKey(file, pass, (sk, pk) => {
			const body = encodeBody(type, build(pk.slice()));
			return envelope(type, body, S.crypto_sign_detached(sigMessage(type, body), sk));
		});
		decodeEnvelope(env, type);
		return env;
	}

	function signConsent(file, pass, fields) {
		return signObject(TYPE_CONSENT, file, pass, (pk) => consentFields(fields, pk));
	}

	function signRevocation(file, pass, fields) {
		return signObject(TYPE_REVOCATION, file, pass, (pk) => revocationFields(fields, pk));
	}

	function decodeConsent(bytes) {
		return decodeEnvelope(bytes, TYPE_CONSENT);
	}

	function decodeRevocation(bytes) {
		return decodeEnvelope(bytes, TYPE_REVOCATION);
	}

	/* A body's fields after the walk, every field rule and the re-encoding check. */
	function readBody(type, body) {
		need();
		const f = readFields(walk(bytesOf(body, undefined, 'body')), type);
		if (!equal(encode(bodyValue(type, f)), body))
			throw fail('ENONCANON', SCHEMA[type].name + ': does not re-encode to the same bytes');
		return f;
	}

	/* Signs exactly these body bytes, once they pass every rule and name this key as signer. */
	function signConsentBody(file, pass, body) {
		need();
		const f = readBody(TYPE_CONSENT, body);
		const env = withKey(file, pass, (sk, pk) => {
			if (!equal(f.signer, pk))
				throw fail('EVALUE', 'consent.signer: not the public key of this key file');
			return envelope(TYPE_CONSENT, body, S.crypto_sign_detached(sigMessage(TYPE_CONSENT, body), sk));
		});
		decodeEnvelope(env, TYPE_CONSENT);
		return env;
	}

	/* Signs exactly these statement body bytes, once they pass every rule and name this key. */
	function signStatementBody(file, pass, body) {
		need();
		const f = readBody(TYPE_STATEMENT, body);
		const env = withKey(file, pass, (sk, pk) => {
			if (!equal(f.signer, pk))
				throw fail('EVALUE', 'statement.signer: not the public key of this key file');
			return envelope(TYPE_STATEMENT, body, S.crypto_sign_detached(sigMessage(TYPE_STATEMENT, body), sk));
		});
		decodeEnvelope(env, TYPE_STATEMENT);
		return env;
	}

	function decodeStatement(bytes) {
		return decodeEnvelope(bytes, TYPE_STATEMENT);
	}

	function describeStatementFields(f) {
		return {
			id: hex(f.id),
			role: f.role,
			school: { key: hex(f.school), fingerprint: fingerprint(f.school) },
			section: f.section,
			student: f.student,
			text: f.text,
			time: f.time,
			signer: { key: hex(f.signer), line: pkLine(f.signer), fingerprint: fingerprint(f.signer) },
		};
	}

	function describeStatementBody(body) {
		return describeStatementFields(readBody(TYPE_STATEMENT, body));
	}

	function describeStatement(bytes) {
		return describeStatementFields(decodeStatement(bytes).fields);
	}

	function describeConsentBody(body) {
		return describeFields(readBody(TYPE_CONSENT, body));
	}

	function describeConsent(bytes) {
		return describeFields(decodeConsent(bytes).fields);
	}

	function describeFields(f) {
		const school = (code, key) => ({ code, key: hex(key), fingerprint: fingerprint(key) });
		return {
			id: hex(f.id),
			student: f.student,
			role: f.role,
			from: school(f.from_code, f.from),
			to: school(f.to_code, f.to),
			sections: f.sections.slice(),
			sensitive: f.sections.filter((s) => SENSITIVE.includes(s)),
			purpose: f.purpose,
			issued: f.issued,
			expires: f.expires,
			signer: { key: hex(f.signer), line: pkLine(f.signer), fingerprint: fingerprint(f.signer) },
		};
	}

	/* ---- family sign-in ---- */

	/* §7.5: the node's fingerprint (or its identity key), the origin, the nonce. */
	function loginMessage(a) {
		need();
		const o = a || {};
		const fp = o.fingerprint === undefined && o.school !== undefined
		               ? fingerprint(bytesOf(o.school, 32, 'school'))
		               : o.fingerprint;
		if (typeof fp !== 'string' || !/^[A-Z2-7]{5}(-[A-Z2-7]{5}){4}$/.test(fp))
			throw fail('EVALUE', 'fingerprint: not a fingerprint (XXXXX-XXXXX-XXXXX-XXXXX-XXXXX)');
		const origin = o.origin;
		if (typeof origin !== 'string' || origin.length < 1 || origin.length > 255 ||
		    !/^[\x21-\x7e]+$/.test(origin))
			throw fail('EVALUE', 'origin: expected 1..255 ASCII characters 0x21-0x7e');
		const nonce = bytesOf(o.nonce, 32, 'nonce');
		return cat(enc.encode('BATON-LOGIN-v1\0'), enc.encode(fp), Uint8Array.of(origin.length),
		           enc.encode(origin), nonce);
	}

	function signLogin(file, pass, a) {
		const msg = loginMessage(a);
		return withKey(file, pass, (sk) => S.crypto_sign_detached(msg, sk));
	}

	/* §7.5's verification, in its order: EVALUE, EBADKEY, EBADSIG. */
	function verifyLogin(signature, pk, a) {
		const msg = loginMessage(a);
		pk = bytesOf(pk, 32, 'key');
		if (!edKeyValid(pk))
			throw fail('EBADKEY', 'key: not a valid Ed25519 public key');
		const sig = bytesOf(signature, 64, 'signature');
		if (!S.crypto_sign_verify_detached(sig, msg, pk))
			throw fail('EBADSIG', 'signature: does not verify');
		return msg;
	}

	root.BatonCrypto = Object.freeze({
		ready, makeKey, openKey, readKeyFile, keyInfo, publicKey, pkLine, parsePkLine, fingerprint,
		signLogin, loginMessage, verifyLogin, signConsent, signConsentBody, signRevocation,
		encodeConsentBody, encodeRevocationBody, decodeConsent, decodeRevocation,
		decodeEnvelope, walk, encode, checkValidity, describeConsent, describeConsentBody,
		encodeStatementBody, signStatementBody, decodeStatement, describeStatement,
		describeStatementBody,
		SECTIONS: Object.freeze(SECTIONS.slice()), SENSITIVE: Object.freeze(SENSITIVE.slice()),
		hex, fromHex, wipe, toBase64, fromBase64,
	});
})(typeof globalThis !== 'undefined' ? globalThis : this);

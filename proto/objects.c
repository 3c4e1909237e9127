/*
 * Signed objects: the envelope [type, body, sig] and the four bodies
 * (card, consent, revocation, receipt).
 *
 * Signing encodes the body, then decodes it again with the same strict
 * decoder a receiver uses, so Baton never signs what it would refuse.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto_impl.h"

#define SIG_DOMAIN "BATON-SIG-v1"

/* Bytes the signature covers: domain, NUL, type, body. */
static int sig_message(int type, const uint8_t *body, size_t len, uint8_t **msg, size_t *msglen)
{
	size_t dl = sizeof(SIG_DOMAIN); /* includes the NUL */
	uint8_t *m = malloc(dl + 1 + len);
	if (m == NULL)
		return BATON_ENOMEM;
	memcpy(m, SIG_DOMAIN, dl);
	m[dl] = (uint8_t)type;
	memcpy(m + dl + 1, body, len);
	*msg = m;
	*msglen = dl + 1 + len;
	return 0;
}

struct envelope {
	int type;
	const uint8_t *body;
	size_t body_len;
	const uint8_t *sig;
};

static void enc_envelope(struct enc *e, const void *obj)
{
	const struct envelope *env = obj;
	bti_enc_array(e, 3);
	bti_enc_uint(e, (uint64_t)env->type);
	bti_enc_bin(e, env->body, env->body_len);
	bti_enc_bin(e, env->sig, BATON_SIG_BYTES);
}

static const char *type_name(uint64_t type)
{
	static const char *const names[] = {"an unknown object",
	                                    "a school card",
	                                    "a consent",
	                                    "a revocation",
	                                    "a receipt",
	                                    "a rotation statement",
	                                    "an audit head",
	                                    "a statement of disagreement",
	                                    "an enrolment statement",
	                                    "a disclosure copy",
	                                    "a directory"};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : names[0];
}

/* Decodes the envelope within lim (whose max_len also bounds the body); body and sig point into
 * buf. */
static int envelope_decode(const uint8_t *buf, size_t len, int want_type,
                           const struct dec_limits *lim, struct envelope *env)
{
	msgpack_zone z;
	msgpack_object o;
	uint64_t type;
	size_t siglen;
	int r;

	if (!msgpack_zone_init(&z, 256))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(buf, len, lim, &z, &o)) != 0)
		goto out;
	if (o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 3) {
		r = bti_diag_err(BATON_EMAGIC, "object: not a signed Baton object (expected [type, "
		                               "body, signature])");
		goto out;
	}
	if ((r = bti_mp_uint(&o.via.array.ptr[0], "object", "type", &type)) != 0)
		goto out;
	if (type > 255 || (want_type != 0 && type != (uint64_t)want_type)) {
		r = bti_diag_err(BATON_EMAGIC, "object: %s, not %s", type_name(type),
		                 type_name((uint64_t)want_type));
		goto out;
	}
	env->type = (int)type;
	if ((r = bti_mp_bin(&o.via.array.ptr[1], "object", "body", 1, lim->max_len, &env->body,
	                    &env->body_len)) != 0)
		goto out;
	if ((r = bti_mp_bin(&o.via.array.ptr[2], "object", "signature", BATON_SIG_BYTES,
	                    BATON_SIG_BYTES, &env->sig, &siglen)) != 0)
		goto out;
out:
	msgpack_zone_destroy(&z);
	return r;
}

int baton_object_type(const uint8_t *buf, size_t len, int *type)
{
	struct envelope env;
	int r;

	bti_diag_clear();
	*type = 0;
	if ((r = envelope_decode(buf, len, 0, &bti_dec_default_limits, &env)) != 0)
		return r == BATON_ENOMEM ? r : BATON_EMAGIC;
	if (env.type < BATON_OBJ_CARD || env.type > BATON_OBJ_ENROLMENT)
		return bti_diag_err(BATON_EMAGIC, "object: unknown type %d", env.type);
	*type = env.type;
	return 0;
}

/*
 * Signatures found valid lately, each by the BLAKE2b-256 of its key,
 * signature and signed bytes. Whether a signature verifies depends on those
 * bytes alone, and the same signed objects are parsed again and again: the
 * pinned cards read from the store for every packet, a school's audit head
 * carried by every packet of a batch and compared with the one kept, this
 * school's own head inside each receipt it signs. Each is verified once per
 * thread, not at every parse. Only signatures that verified, or that this
 * thread made, are kept; a cut or flipped byte anywhere gives another hash.
 */
#define SIG_CACHE 256
struct sig_cache {
	uint8_t h[SIG_CACHE][32];
	unsigned n, next;
};

static _Thread_local struct sig_cache verified;

static void sig_hash(const uint8_t *sig, const uint8_t *msg, size_t mlen,
                     const uint8_t pk[BATON_PK_BYTES], uint8_t h[32])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, pk, BATON_PK_BYTES);
	crypto_generichash_update(&st, sig, BATON_SIG_BYTES);
	crypto_generichash_update(&st, msg, mlen);
	crypto_generichash_final(&st, h, 32);
}

static int sig_cached(const uint8_t h[32])
{
	for (unsigned i = 0; i < verified.n; i++)
		if (memcmp(verified.h[i], h, 32) == 0) /* hashes of public bytes */
			return 1;
	return 0;
}

static void sig_remember(const uint8_t h[32])
{
	memcpy(verified.h[verified.next], h, 32);
	verified.next = (verified.next + 1) % SIG_CACHE;
	if (verified.n < SIG_CACHE)
		verified.n++;
}

static int verify_sig(const struct envelope *env, const uint8_t pk[BATON_PK_BYTES],
                      const char *what)
{
	uint8_t *msg, h[32];
	size_t mlen;
	int r;

	if ((r = sig_message(env->type, env->body, env->body_len, &msg, &mlen)) != 0)
		return r;
	sig_hash(env->sig, msg, mlen, pk, h);
	if (!sig_cached(h)) {
		/* libsodium 1.0.18 rejects non-canonical S and small-order R and A here. */
		if (crypto_sign_verify_detached(env->sig, msg, mlen, pk) != 0)
			r = bti_diag_err(BATON_EBADSIG, "%s.signature: does not verify", what);
		else
			sig_remember(h);
	}
	free(msg);
	return r;
}

typedef int (*body_decode_fn)(const msgpack_object *o, void *out);

/* Decodes one body (a canonical map) with fn. */
static int body_decode(const uint8_t *body, size_t len, body_decode_fn fn, void *out)
{
	msgpack_zone z;
	msgpack_object o;
	int r;

	if (!msgpack_zone_init(&z, 1024))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(body, len, &bti_dec_default_limits, &z, &o)) == 0)
		r = fn(&o, out);
	msgpack_zone_destroy(&z);
	return r;
}

/*
 * Shared by the four *_sign functions: encode, re-validate, sign, wrap.
 * pk is where the object names its signer; it must match sk.
 */
static int sign_object(int type, enc_fn enc, body_decode_fn dec, const void *obj, void *scratch,
                       const uint8_t pk[BATON_PK_BYTES], const uint8_t sk[BATON_SK_BYTES],
                       uint8_t **out, size_t *outlen)
{
	uint8_t *body = NULL;
	size_t blen = 0;
	int r;

	bti_diag_clear();
	*out = NULL;
	*outlen = 0;
	/* The Ed25519 secret key carries its public half in its last 32 bytes. */
	if (sodium_memcmp(sk + 32, pk, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EINVAL,
		                    "signer key does not match the object's signer field");
	if ((r = bti_enc_alloc(enc, obj, &body, &blen)) != 0)
		goto out;
	if ((r = body_decode(body, blen, dec, scratch)) != 0)
		goto out;
	r = bti_envelope_seal(type, body, blen, sk, out, outlen);
out:
	free(body);
	return r;
}

/*
 * Whether sk's last 32 bytes are the public key of its seed (its first 32),
 * so that what it signs verifies under them and may be remembered as
 * verified. A caller could pass a seed with another key's public half; its
 * signatures are then not remembered. The last key found whole is known by
 * its hash, so that each signature does not derive the key again.
 */
static int sk_whole(const uint8_t sk[BATON_SK_BYTES])
{
	static _Thread_local uint8_t last[32];
	static _Thread_local int have;
	uint8_t h[32], pk[BATON_PK_BYTES];
	int whole;

	crypto_generichash(h, sizeof(h), sk, BATON_SK_BYTES, NULL, 0);
	if (have && sodium_memcmp(h, last, sizeof(h)) == 0)
		return 1;
	uint8_t *full = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (full == NULL)
		return 0;
	crypto_sign_seed_keypair(pk, full, sk);
	sodium_free(full);
	whole = sodium_memcmp(pk, sk + 32, BATON_PK_BYTES) == 0;
	if (whole) {
		memcpy(last, h, sizeof(h));
		have = 1;
	}
	return whole;
}

int bti_envelope_seal(int type, const uint8_t *body, size_t len, const uint8_t sk[BATON_SK_BYTES],
                      uint8_t **out, size_t *outlen)
{
	uint8_t *msg = NULL;
	uint8_t sig[BATON_SIG_BYTES];
	size_t mlen;
	int r;

	*out = NULL;
	*outlen = 0;
	if ((r = sig_message(type, body, len, &msg, &mlen)) != 0)
		return r;
	if (crypto_sign_detached(sig, NULL, msg, mlen, sk) != 0)
		r = BATON_EINTERNAL;
	else {
		/* Made here with the key whose public half ends sk: a later parse
		 * of it need not verify it. */
		uint8_t h[32];
		if (sk_whole(sk)) {
			sig_hash(sig, msg, mlen, sk + 32, h);
			sig_remember(h);
		}
		struct envelope env = {type, body, len, sig};
		r = bti_enc_alloc(enc_envelope, &env, out, outlen);
	}
	free(msg);
	return r;
}

int bti_envelope_open(const uint8_t *buf, size_t len, int type, const struct dec_limits *lim,
                      const uint8_t **body, size_t *body_len, const uint8_t **sig)
{
	struct envelope env;
	int r;

	*body = *sig = NULL;
	*body_len = 0;
	if ((r = envelope_decode(buf, len, type, lim, &env)) != 0)
		return r;
	*body = env.body;
	*body_len = env.body_len;
	*sig = env.sig;
	return 0;
}

int bti_envelope_verify(int type, const uint8_t *body, size_t len, const uint8_t *sig,
                        const uint8_t pk[BATON_PK_BYTES], const char *what)
{
	struct envelope env = {type, body, len, sig};
	return verify_sig(&env, pk, what);
}

static int parse_object(const uint8_t *buf, size_t len, int type, body_decode_fn dec, void *out,
                        size_t outsize, const uint8_t *signer_field, const char *what)
{
	struct envelope env;
	int r;

	bti_diag_clear();
	if ((r = envelope_decode(buf, len, type, &bti_dec_default_limits, &env)) != 0)
		goto out;
	if ((r = body_decode(env.body, env.body_len, dec, out)) != 0)
		goto out;
	r = verify_sig(&env, signer_field, what);
out:
	if (r != 0)
		memset(out, 0, outsize);
	return r;
}

int baton_check_validity(uint64_t not_before, uint64_t not_after, uint64_t now, uint64_t skew)
{
	uint64_t start = not_before > skew ? not_before - skew : 0;
	if (now < start)
		return BATON_ENOTYET;
	if (now > not_after)
		return BATON_EEXPIRED;
	return 0;
}

/* ---- card ---- */

static const char *const card_keys[] = {"code", "enc",        "endpoints",  "id",
                                        "name", "valid_from", "valid_until"};
enum { CK_CODE, CK_ENC, CK_ENDPOINTS, CK_ID, CK_NAME, CK_FROM, CK_UNTIL, CK_N };

static void enc_card(struct enc *e, const void *obj)
{
	const baton_card *c = obj;
	bti_enc_map(e, CK_N);
	bti_enc_str(e, "code"), bti_enc_str(e, c->code);
	bti_enc_str(e, "enc"), bti_enc_bin(e, c->enc_pk, BATON_PK_BYTES);
	bti_enc_str(e, "endpoints"), bti_enc_array(e, (uint32_t)c->n_endpoints);
	for (size_t i = 0; i < c->n_endpoints && i < BATON_MAX_ENDPOINTS; i++)
		bti_enc_str(e, c->endpoints[i]);
	bti_enc_str(e, "id"), bti_enc_bin(e, c->id_pk, BATON_PK_BYTES);
	bti_enc_str(e, "name"), bti_enc_str(e, c->name);
	bti_enc_str(e, "valid_from"), bti_enc_uint(e, c->valid_from);
	bti_enc_str(e, "valid_until"), bti_enc_uint(e, c->valid_until);
}

static int dec_card(const msgpack_object *o, void *out)
{
	baton_card *c = out;
	const msgpack_object *v[CK_N];
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = bti_mp_fields(o, "card", card_keys, CK_N, v)) != 0 ||
	    (r = bti_mp_str(v[CK_CODE], "card", "code", 1, c->code, sizeof(c->code))) != 0 ||
	    (r = bti_check_code("card", "code", c->code)) != 0 ||
	    (r = bti_mp_fixbin(v[CK_ENC], "card", "enc", c->enc_pk, BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_x25519_pk("card", "enc", c->enc_pk)) != 0 ||
	    (r = bti_mp_array(v[CK_ENDPOINTS], "card", "endpoints", 1, BATON_MAX_ENDPOINTS)) != 0)
		return r;
	c->n_endpoints = v[CK_ENDPOINTS]->via.array.size;
	for (size_t i = 0; i < c->n_endpoints; i++) {
		char field[32];
		snprintf(field, sizeof(field), "endpoints[%zu]", i);
		if ((r = bti_mp_str(&v[CK_ENDPOINTS]->via.array.ptr[i], "card", field, 1,
		                    c->endpoints[i], sizeof(c->endpoints[i]))) != 0 ||
		    (r = bti_check_text("card", field, c->endpoints[i])) != 0)
			return r;
		if (strchr(c->endpoints[i], ' ') || !strstr(c->endpoints[i], "://"))
			return bti_diag_err(BATON_EVALUE, "card.%s: \"%s\" is not a URL", field,
			                    c->endpoints[i]);
	}
	if ((r = bti_mp_fixbin(v[CK_ID], "card", "id", c->id_pk, BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk("card", "id", c->id_pk)) != 0 ||
	    (r = bti_mp_str(v[CK_NAME], "card", "name", 1, c->name, sizeof(c->name))) != 0 ||
	    (r = bti_check_text("card", "name", c->name)) != 0 ||
	    (r = bti_mp_uint(v[CK_FROM], "card", "valid_from", &c->valid_from)) != 0 ||
	    (r = bti_mp_uint(v[CK_UNTIL], "card", "valid_until", &c->valid_until)) != 0)
		return r;
	if (c->valid_until <= c->valid_from)
		return bti_diag_err(BATON_EVALUE, "card.valid_until: not after valid_from");
	return 0;
}

int baton_card_sign(const baton_card *c, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                    size_t *outlen)
{
	baton_card tmp;
	if (c->n_endpoints > BATON_MAX_ENDPOINTS)
		return bti_diag_err(BATON_EVALUE, "card.endpoints: more than %d",
		                    BATON_MAX_ENDPOINTS);
	return sign_object(BATON_OBJ_CARD, enc_card, dec_card, c, &tmp, c->id_pk, sk, out, outlen);
}

int baton_card_parse(const uint8_t *buf, size_t len, baton_card *out)
{
	return parse_object(buf, len, BATON_OBJ_CARD, dec_card, out, sizeof(*out), out->id_pk,
	                    "card");
}

/* ---- consent ---- */

static const char *const consent_keys[] = {"expires", "from",    "from_code", "id",
                                           "issued",  "purpose", "role",      "sections",
                                           "signer",  "student", "to",        "to_code"};
enum {
	NK_EXPIRES,
	NK_FROM,
	NK_FROM_CODE,
	NK_ID,
	NK_ISSUED,
	NK_PURPOSE,
	NK_ROLE,
	NK_SECTIONS,
	NK_SIGNER,
	NK_STUDENT,
	NK_TO,
	NK_TO_CODE,
	NK_N
};

static const char *role_name(baton_role r)
{
	return r == BATON_ROLE_GUARDIAN ? "guardian" : r == BATON_ROLE_STUDENT ? "student" : "";
}

static void enc_consent(struct enc *e, const void *obj)
{
	const baton_consent *c = obj;
	bti_enc_map(e, NK_N);
	bti_enc_str(e, "expires"), bti_enc_uint(e, c->expires);
	bti_enc_str(e, "from"), bti_enc_bin(e, c->from_pk, BATON_PK_BYTES);
	bti_enc_str(e, "from_code"), bti_enc_str(e, c->from_code);
	bti_enc_str(e, "id"), bti_enc_bin(e, c->id, BATON_ID_BYTES);
	bti_enc_str(e, "issued"), bti_enc_uint(e, c->issued);
	bti_enc_str(e, "purpose"), bti_enc_str(e, c->purpose);
	bti_enc_str(e, "role"), bti_enc_str(e, role_name(c->role));
	bti_enc_str(e, "sections"), bti_enc_sections(e, c->sections);
	bti_enc_str(e, "signer"), bti_enc_bin(e, c->signer, BATON_PK_BYTES);
	bti_enc_str(e, "student"), bti_enc_str(e, c->student);
	bti_enc_str(e, "to"), bti_enc_bin(e, c->to_pk, BATON_PK_BYTES);
	bti_enc_str(e, "to_code"), bti_enc_str(e, c->to_code);
}

static int dec_consent(const msgpack_object *o, void *out)
{
	baton_consent *c = out;
	const msgpack_object *v[NK_N];
	char role[16];
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = bti_mp_fields(o, "consent", consent_keys, NK_N, v)) != 0 ||
	    (r = bti_mp_uint(v[NK_EXPIRES], "consent", "expires", &c->expires)) != 0 ||
	    (r = bti_mp_fixbin(v[NK_FROM], "consent", "from", c->from_pk, BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk("consent", "from", c->from_pk)) != 0 ||
	    (r = bti_mp_str(v[NK_FROM_CODE], "consent", "from_code", 1, c->from_code,
	                    sizeof(c->from_code))) != 0 ||
	    (r = bti_check_code("consent", "from_code", c->from_code)) != 0 ||
	    (r = bti_mp_fixbin(v[NK_ID], "consent", "id", c->id, BATON_ID_BYTES)) != 0 ||
	    (r = bti_mp_uint(v[NK_ISSUED], "consent", "issued", &c->issued)) != 0 ||
	    (r = bti_mp_str(v[NK_PURPOSE], "consent", "purpose", 1, c->purpose,
	                    sizeof(c->purpose))) != 0 ||
	    (r = bti_check_text("consent", "purpose", c->purpose)) != 0 ||
	    (r = bti_mp_str(v[NK_ROLE], "consent", "role", 1, role, sizeof(role))) != 0)
		return r;
	if (strcmp(role, "guardian") == 0)
		c->role = BATON_ROLE_GUARDIAN;
	else if (strcmp(role, "student") == 0)
		c->role = BATON_ROLE_STUDENT;
	else
		return bti_diag_err(BATON_EVALUE,
		                    "consent.role: \"%s\" (expected guardian or student)", role);
	if ((r = bti_mp_sections(v[NK_SECTIONS], "consent", "sections", &c->sections)) != 0 ||
	    (r = bti_mp_fixbin(v[NK_SIGNER], "consent", "signer", c->signer, BATON_PK_BYTES)) !=
	        0 ||
	    (r = bti_check_ed25519_pk("consent", "signer", c->signer)) != 0 ||
	    (r = bti_mp_str(v[NK_STUDENT], "consent", "student", 1, c->student,
	                    sizeof(c->student))) != 0 ||
	    (r = bti_check_text("consent", "student", c->student)) != 0 ||
	    (r = bti_mp_fixbin(v[NK_TO], "consent", "to", c->to_pk, BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk("consent", "to", c->to_pk)) != 0 ||
	    (r = bti_mp_str(v[NK_TO_CODE], "consent", "to_code", 1, c->to_code,
	                    sizeof(c->to_code))) != 0 ||
	    (r = bti_check_code("consent", "to_code", c->to_code)) != 0)
		return r;
	if (c->expires <= c->issued)
		return bti_diag_err(BATON_EVALUE, "consent.expires: not after issued");
	if (sodium_memcmp(c->from_pk, c->to_pk, BATON_PK_BYTES) == 0)
		return bti_diag_err(BATON_EVALUE, "consent.to: the same school as consent.from");
	return 0;
}

int baton_consent_sign(const baton_consent *c, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                       size_t *outlen)
{
	baton_consent tmp;
	return sign_object(BATON_OBJ_CONSENT, enc_consent, dec_consent, c, &tmp, c->signer, sk, out,
	                   outlen);
}

int baton_consent_parse(const uint8_t *buf, size_t len, baton_consent *out)
{
	int r = parse_object(buf, len, BATON_OBJ_CONSENT, dec_consent, out, sizeof(*out),
	                     out->signer, "consent");
	if (r == 0)
		crypto_generichash(out->hash, sizeof(out->hash), buf, len, NULL, 0);
	return r;
}

/* ---- revocation ---- */

static const char *const revocation_keys[] = {"consent", "signer", "time"};
enum { RK_CONSENT, RK_SIGNER, RK_TIME, RK_N };

static void enc_revocation(struct enc *e, const void *obj)
{
	const baton_revocation *r = obj;
	bti_enc_map(e, RK_N);
	bti_enc_str(e, "consent"), bti_enc_bin(e, r->consent_id, BATON_ID_BYTES);
	bti_enc_str(e, "signer"), bti_enc_bin(e, r->signer, BATON_PK_BYTES);
	bti_enc_str(e, "time"), bti_enc_uint(e, r->time);
}

static int dec_revocation(const msgpack_object *o, void *out)
{
	baton_revocation *rv = out;
	const msgpack_object *v[RK_N];
	int r;

	memset(rv, 0, sizeof(*rv));
	if ((r = bti_mp_fields(o, "revocation", revocation_keys, RK_N, v)) != 0 ||
	    (r = bti_mp_fixbin(v[RK_CONSENT], "revocation", "consent", rv->consent_id,
	                       BATON_ID_BYTES)) != 0 ||
	    (r = bti_mp_fixbin(v[RK_SIGNER], "revocation", "signer", rv->signer, BATON_PK_BYTES)) !=
	        0 ||
	    (r = bti_check_ed25519_pk("revocation", "signer", rv->signer)) != 0 ||
	    (r = bti_mp_uint(v[RK_TIME], "revocation", "time", &rv->time)) != 0)
		return r;
	return 0;
}

int baton_revocation_sign(const baton_revocation *r, const uint8_t sk[BATON_SK_BYTES],
                          uint8_t **out, size_t *outlen)
{
	baton_revocation tmp;
	return sign_object(BATON_OBJ_REVOCATION, enc_revocation, dec_revocation, r, &tmp, r->signer,
	                   sk, out, outlen);
}

int baton_revocation_parse(const uint8_t *buf, size_t len, baton_revocation *out)
{
	return parse_object(buf, len, BATON_OBJ_REVOCATION, dec_revocation, out, sizeof(*out),
	                    out->signer, "revocation");
}

/* ---- receipt ---- */

static const char *const reason_names[] = {
    "accepted",      "malformed", "bad_signature",   "wrong_recipient", "unknown_sender", "expired",
    "not_yet_valid", "decrypt",   "consent_invalid", "record_invalid",  "denied",         "storage",
};

const char *baton_reason_name(int reason)
{
	if (reason < 0 || reason > BATON_REASON_MAX)
		return NULL;
	return reason_names[reason];
}

int baton_reason_retryable(int reason)
{
	return reason == BATON_REASON_STORAGE;
}

/*
 * An audit head carried in another object (PROTOCOL.md 3.10): a bin of at
 * most BATON_AUDIT_HEAD_MAX bytes holding a head whose signature verifies
 * with the key it names. *p points into the object; *h is the decoded head.
 */
int bti_audit_field(const msgpack_object *v, const char *what, const uint8_t **p, size_t *len,
                    baton_audit_head *h)
{
	char why[300];
	int r;
	if ((r = bti_mp_bin(v, what, "audit", 1, BATON_AUDIT_HEAD_MAX, p, len)) != 0)
		return r;
	/* Out of memory is the reader's failure, not the object's: say so plainly. */
	if ((r = baton_audit_head_parse(*p, *len, h)) != 0 && r != BATON_ENOMEM) {
		snprintf(why, sizeof(why), "%s",
		         baton_diag()[0] ? baton_diag() : baton_strerror(r));
		return bti_diag_err(r, "%s.audit: %s", what, why);
	}
	return r;
}

static const char *const receipt_keys[] = {"audit",  "hash",     "note",  "packet",
                                           "reason", "receiver", "terms", "time"};
enum { EK_AUDIT, EK_HASH, EK_NOTE, EK_PACKET, EK_REASON, EK_RECEIVER, EK_TERMS, EK_TIME, EK_N };

static void enc_receipt(struct enc *e, const void *obj)
{
	const baton_receipt *r = obj;
	int has_note = r->note[0] != '\0';
	bti_enc_map(e, (uint32_t)(EK_N - 3 + has_note + (r->audit_len > 0) + (r->has_terms != 0)));
	if (r->audit_len > 0)
		bti_enc_str(e, "audit"), bti_enc_bin(e, r->audit, r->audit_len);
	bti_enc_str(e, "hash"), bti_enc_bin(e, r->packet_hash, BATON_HASH_BYTES);
	if (has_note)
		bti_enc_str(e, "note"), bti_enc_str(e, r->note);
	bti_enc_str(e, "packet"), bti_enc_bin(e, r->packet_id, BATON_ID_BYTES);
	bti_enc_str(e, "reason"),
	    bti_enc_uint(e, (uint64_t)(r->reason < 0 ? UINT64_MAX : (uint64_t)r->reason));
	bti_enc_str(e, "receiver"), bti_enc_bin(e, r->receiver, BATON_PK_BYTES);
	if (r->has_terms)
		bti_enc_str(e, "terms"), bti_enc_bin(e, r->terms, BATON_HASH_BYTES);
	bti_enc_str(e, "time"), bti_enc_uint(e, r->time);
}

static int dec_receipt(const msgpack_object *o, void *out)
{
	baton_receipt *rc = out;
	baton_audit_head head;
	const uint8_t *ap = NULL;
	const msgpack_object *v[EK_N];
	uint64_t reason;
	int r;

	memset(rc, 0, sizeof(*rc));
	if ((r = bti_mp_fields(o, "receipt", receipt_keys, EK_N, v)) != 0 ||
	    (v[EK_AUDIT] != NULL &&
	     (r = bti_audit_field(v[EK_AUDIT], "receipt", &ap, &rc->audit_len, &head)) != 0) ||
	    (r = bti_mp_fixbin(v[EK_HASH], "receipt", "hash", rc->packet_hash, BATON_HASH_BYTES)) !=
	        0)
		return r;
	/* Absent means empty; an empty note must be absent (one encoding). */
	if (v[EK_NOTE] != NULL &&
	    ((r = bti_mp_str(v[EK_NOTE], "receipt", "note", 1, rc->note, sizeof(rc->note))) != 0 ||
	     (r = bti_check_text("receipt", "note", rc->note)) != 0))
		return r;
	if ((r = bti_mp_fixbin(v[EK_PACKET], "receipt", "packet", rc->packet_id, BATON_ID_BYTES)) !=
	        0 ||
	    (r = bti_mp_uint(v[EK_REASON], "receipt", "reason", &reason)) != 0)
		return r;
	if (reason > BATON_REASON_MAX)
		return bti_diag_err(BATON_EVALUE, "receipt.reason: unknown code %llu",
		                    (unsigned long long)reason);
	rc->reason = (int)reason;
	if ((r = bti_mp_fixbin(v[EK_RECEIVER], "receipt", "receiver", rc->receiver,
	                       BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk("receipt", "receiver", rc->receiver)) != 0 ||
	    (v[EK_TERMS] != NULL && (r = bti_mp_fixbin(v[EK_TERMS], "receipt", "terms", rc->terms,
	                                               BATON_HASH_BYTES)) != 0) ||
	    (r = bti_mp_uint(v[EK_TIME], "receipt", "time", &rc->time)) != 0)
		return r;
	rc->has_terms = v[EK_TERMS] != NULL;
	if (ap)
		memcpy(rc->audit, ap, rc->audit_len);
	/* The head is the receiver's own log: another school's head proves nothing here. */
	if (rc->audit_len > 0 && sodium_memcmp(head.key, rc->receiver, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EVALUE,
		                    "receipt.audit: signed by another key than receipt.receiver");
	return 0;
}

int baton_receipt_sign(const baton_receipt *r, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                       size_t *outlen)
{
	baton_receipt tmp;
	return sign_object(BATON_OBJ_RECEIPT, enc_receipt, dec_receipt, r, &tmp, r->receiver, sk,
	                   out, outlen);
}

int baton_receipt_parse(const uint8_t *buf, size_t len, baton_receipt *out)
{
	return parse_object(buf, len, BATON_OBJ_RECEIPT, dec_receipt, out, sizeof(*out),
	                    out->receiver, "receipt");
}

/* ---- rotation ---- */

static const char *const rotation_keys[] = {"code", "new", "old", "time"};
enum { OK_CODE, OK_NEW, OK_OLD, OK_TIME, OK_N };

static void enc_rotation(struct enc *e, const void *obj)
{
	const baton_rotation *r = obj;
	bti_enc_map(e, OK_N);
	bti_enc_str(e, "code"), bti_enc_str(e, r->code);
	bti_enc_str(e, "new"), bti_enc_bin(e, r->new_pk, BATON_PK_BYTES);
	bti_enc_str(e, "old"), bti_enc_bin(e, r->old_pk, BATON_PK_BYTES);
	bti_enc_str(e, "time"), bti_enc_uint(e, r->time);
}

static int dec_rotation(const msgpack_object *o, void *out)
{
	baton_rotation *rt = out;
	const msgpack_object *v[OK_N];
	int r;

	memset(rt, 0, sizeof(*rt));
	if ((r = bti_mp_fields(o, "rotation", rotation_keys, OK_N, v)) != 0 ||
	    (r = bti_mp_str(v[OK_CODE], "rotation", "code", 1, rt->code, sizeof(rt->code))) != 0 ||
	    (r = bti_check_code("rotation", "code", rt->code)) != 0 ||
	    (r = bti_mp_fixbin(v[OK_NEW], "rotation", "new", rt->new_pk, BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk("rotation", "new", rt->new_pk)) != 0 ||
	    (r = bti_mp_fixbin(v[OK_OLD], "rotation", "old", rt->old_pk, BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk("rotation", "old", rt->old_pk)) != 0 ||
	    (r = bti_mp_uint(v[OK_TIME], "rotation", "time", &rt->time)) != 0)
		return r;
	if (sodium_memcmp(rt->old_pk, rt->new_pk, BATON_PK_BYTES) == 0)
		return bti_diag_err(BATON_EVALUE, "rotation.new: the same key as rotation.old");
	return 0;
}

int baton_rotation_sign(const baton_rotation *r, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                        size_t *outlen)
{
	baton_rotation tmp;
	return sign_object(BATON_OBJ_ROTATION, enc_rotation, dec_rotation, r, &tmp, r->old_pk, sk,
	                   out, outlen);
}

int baton_rotation_parse(const uint8_t *buf, size_t len, baton_rotation *out)
{
	return parse_object(buf, len, BATON_OBJ_ROTATION, dec_rotation, out, sizeof(*out),
	                    out->old_pk, "rotation");
}

/* ---- audit head ---- */

static const char *const audit_head_keys[] = {"count", "head", "key", "time"};
enum { AH_COUNT, AH_HEAD, AH_KEY, AH_TIME, AH_N };

static void enc_audit_head(struct enc *e, const void *obj)
{
	const baton_audit_head *h = obj;
	bti_enc_map(e, AH_N);
	bti_enc_str(e, "count"), bti_enc_uint(e, h->count);
	bti_enc_str(e, "head"), bti_enc_bin(e, h->head, BATON_HASH_BYTES);
	bti_enc_str(e, "key"), bti_enc_bin(e, h->key, BATON_PK_BYTES);
	bti_enc_str(e, "time"), bti_enc_uint(e, h->time);
}

static int dec_audit_head(const msgpack_object *o, void *out)
{
	baton_audit_head *h = out;
	const msgpack_object *v[AH_N];
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = bti_mp_fields(o, "audit_head", audit_head_keys, AH_N, v)) != 0 ||
	    (r = bti_mp_uint(v[AH_COUNT], "audit_head", "count", &h->count)) != 0)
		return r;
	/* An empty log has nothing to sign: a head names at least one entry. */
	if (h->count == 0)
		return bti_diag_err(BATON_EVALUE,
		                    "audit_head.count: 0 (a head covers at least one entry)");
	if ((r = bti_mp_fixbin(v[AH_HEAD], "audit_head", "head", h->head, BATON_HASH_BYTES)) != 0 ||
	    (r = bti_mp_fixbin(v[AH_KEY], "audit_head", "key", h->key, BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk("audit_head", "key", h->key)) != 0 ||
	    (r = bti_mp_uint(v[AH_TIME], "audit_head", "time", &h->time)) != 0)
		return r;
	return 0;
}

int baton_audit_head_sign(const baton_audit_head *h, const uint8_t sk[BATON_SK_BYTES],
                          uint8_t **out, size_t *outlen)
{
	baton_audit_head tmp;
	return sign_object(BATON_OBJ_AUDIT_HEAD, enc_audit_head, dec_audit_head, h, &tmp, h->key,
	                   sk, out, outlen);
}

int baton_audit_head_parse(const uint8_t *buf, size_t len, baton_audit_head *out)
{
	return parse_object(buf, len, BATON_OBJ_AUDIT_HEAD, dec_audit_head, out, sizeof(*out),
	                    out->key, "audit_head");
}

/* ---- for the other signed objects of proto/ ---- */

int bti_object_sign(int type, enc_fn enc, int (*dec)(const msgpack_object *, void *),
                    const void *obj, void *scratch, const uint8_t pk[BATON_PK_BYTES],
                    const uint8_t sk[BATON_SK_BYTES], uint8_t **out, size_t *outlen)
{
	return sign_object(type, enc, dec, obj, scratch, pk, sk, out, outlen);
}

int bti_object_parse(const uint8_t *buf, size_t len, int type,
                     int (*dec)(const msgpack_object *, void *), void *out, size_t outsize,
                     const uint8_t *signer_field, const char *what)
{
	return parse_object(buf, len, type, dec, out, outsize, signer_field, what);
}

/* ---- statement of disagreement ---- */

static const char *const statement_keys[] = {"id",     "role",    "school", "section",
                                             "signer", "student", "text",   "time"};
enum { SK_ID, SK_ROLE, SK_SCHOOL, SK_SECTION, SK_SIGNER, SK_STUDENT, SK_TEXT, SK_TIME, SK_N };

static void enc_statement(struct enc *e, const void *obj)
{
	const baton_statement *st = obj;
	const char *sec = baton_section_name(st->section);
	bti_enc_map(e, SK_N);
	bti_enc_str(e, "id"), bti_enc_bin(e, st->id, BATON_ID_BYTES);
	bti_enc_str(e, "role"), bti_enc_str(e, role_name(st->role));
	bti_enc_str(e, "school"), bti_enc_bin(e, st->school, BATON_PK_BYTES);
	bti_enc_str(e, "section"), bti_enc_str(e, sec ? sec : "");
	bti_enc_str(e, "signer"), bti_enc_bin(e, st->signer, BATON_PK_BYTES);
	bti_enc_str(e, "student"), bti_enc_str(e, st->student);
	bti_enc_str(e, "text"), bti_enc_str(e, st->text);
	bti_enc_str(e, "time"), bti_enc_uint(e, st->time);
}

/* Text (PROTOCOL.md 2.8) that may also hold line feeds: a statement has paragraphs. */
static int check_statement_text(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if ((*c < 0x20 && *c != 0x0a) || *c == 0x7f)
			return bti_diag_err(BATON_EVALUE,
			                    "statement.text: contains a control character other "
			                    "than a line feed");
	return 0;
}

static int dec_statement(const msgpack_object *o, void *out)
{
	baton_statement *st = out;
	const msgpack_object *v[SK_N];
	char role[16], sec[32];
	int r;

	memset(st, 0, sizeof(*st));
	if ((r = bti_mp_fields(o, "statement", statement_keys, SK_N, v)) != 0 ||
	    (r = bti_mp_fixbin(v[SK_ID], "statement", "id", st->id, BATON_ID_BYTES)) != 0 ||
	    (r = bti_mp_str(v[SK_ROLE], "statement", "role", 1, role, sizeof(role))) != 0)
		return r;
	if (strcmp(role, "guardian") == 0)
		st->role = BATON_ROLE_GUARDIAN;
	else if (strcmp(role, "student") == 0)
		st->role = BATON_ROLE_STUDENT;
	else
		return bti_diag_err(BATON_EVALUE,
		                    "statement.role: \"%s\" (expected guardian or student)", role);
	if ((r = bti_mp_fixbin(v[SK_SCHOOL], "statement", "school", st->school, BATON_PK_BYTES)) !=
	        0 ||
	    (r = bti_check_ed25519_pk("statement", "school", st->school)) != 0 ||
	    (r = bti_mp_str(v[SK_SECTION], "statement", "section", 1, sec, sizeof(sec))) != 0)
		return r;
	if (baton_section_lookup(sec, strlen(sec), &st->section) != 0)
		return bti_diag_err(BATON_EVALUE, "statement.section: unknown section \"%s\"", sec);
	if ((r = bti_mp_fixbin(v[SK_SIGNER], "statement", "signer", st->signer, BATON_PK_BYTES)) !=
	        0 ||
	    (r = bti_check_ed25519_pk("statement", "signer", st->signer)) != 0 ||
	    (r = bti_mp_str(v[SK_STUDENT], "statement", "student", 1, st->student,
	                    sizeof(st->student))) != 0 ||
	    (r = bti_check_text("statement", "student", st->student)) != 0 ||
	    (r = bti_mp_str(v[SK_TEXT], "statement", "text", 1, st->text, sizeof(st->text))) != 0 ||
	    (r = check_statement_text(st->text)) != 0 ||
	    (r = bti_mp_uint(v[SK_TIME], "statement", "time", &st->time)) != 0)
		return r;
	return 0;
}

int baton_statement_sign(const baton_statement *s, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                         size_t *outlen)
{
	baton_statement *tmp = malloc(sizeof(*tmp));
	int r;
	if (tmp == NULL)
		return BATON_ENOMEM;
	r = sign_object(BATON_OBJ_STATEMENT, enc_statement, dec_statement, s, tmp, s->signer, sk,
	                out, outlen);
	free(tmp);
	return r;
}

int baton_statement_parse(const uint8_t *buf, size_t len, baton_statement *out)
{
	return parse_object(buf, len, BATON_OBJ_STATEMENT, dec_statement, out, sizeof(*out),
	                    out->signer, "statement");
}

/* ---- enrolment statement (PROTOCOL.md 3.12) ---- */

static const char *const enrol_keys[] = {"birth_date", "expires",    "family_name",
                                         "from",       "given_name", "issued",
                                         "kind",       "student",    "to"};
enum {
	LK_BIRTH,
	LK_EXPIRES,
	LK_FAMILY,
	LK_FROM,
	LK_GIVEN,
	LK_ISSUED,
	LK_KIND,
	LK_STUDENT,
	LK_TO,
	LK_N
};

static void enc_enrolment(struct enc *e, const void *obj)
{
	const baton_enrolment *s = obj;
	bti_enc_map(e, LK_N);
	bti_enc_str(e, "birth_date"), bti_enc_str(e, s->birth_date);
	bti_enc_str(e, "expires"), bti_enc_uint(e, s->expires);
	bti_enc_str(e, "family_name"), bti_enc_str(e, s->family_name);
	bti_enc_str(e, "from"), bti_enc_bin(e, s->from_pk, BATON_PK_BYTES);
	bti_enc_str(e, "given_name"), bti_enc_str(e, s->given_name);
	bti_enc_str(e, "issued"), bti_enc_uint(e, s->issued);
	bti_enc_str(e, "kind"), bti_enc_str(e, s->kind);
	bti_enc_str(e, "student"), bti_enc_str(e, s->student);
	bti_enc_str(e, "to"), bti_enc_bin(e, s->to_pk, BATON_PK_BYTES);
}

/* YYYY-MM-DD, month 01..12, day 01..31. */
static int check_date(const char *d)
{
	static const char form[] = "dddd-dd-dd";
	if (strlen(d) != 10)
		goto bad;
	for (int i = 0; i < 10; i++)
		if (form[i] == 'd' ? (d[i] < '0' || d[i] > '9') : d[i] != '-')
			goto bad;
	int m = (d[5] - '0') * 10 + (d[6] - '0'), day = (d[8] - '0') * 10 + (d[9] - '0');
	if (m >= 1 && m <= 12 && day >= 1 && day <= 31)
		return 0;
bad:
	return bti_diag_err(BATON_EVALUE, "enrolment.birth_date: \"%s\" is not a date YYYY-MM-DD",
	                    d);
}

static int dec_enrolment(const msgpack_object *o, void *out)
{
	baton_enrolment *s = out;
	const msgpack_object *v[LK_N];
	int r;

	memset(s, 0, sizeof(*s));
	if ((r = bti_mp_fields(o, "enrolment", enrol_keys, LK_N, v)) != 0 ||
	    (r = bti_mp_str(v[LK_BIRTH], "enrolment", "birth_date", 1, s->birth_date,
	                    sizeof(s->birth_date))) != 0 ||
	    (r = check_date(s->birth_date)) != 0 ||
	    (r = bti_mp_uint(v[LK_EXPIRES], "enrolment", "expires", &s->expires)) != 0 ||
	    (r = bti_mp_str(v[LK_FAMILY], "enrolment", "family_name", 1, s->family_name,
	                    sizeof(s->family_name))) != 0 ||
	    (r = bti_check_text("enrolment", "family_name", s->family_name)) != 0 ||
	    (r = bti_mp_fixbin(v[LK_FROM], "enrolment", "from", s->from_pk, BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk("enrolment", "from", s->from_pk)) != 0 ||
	    (r = bti_mp_str(v[LK_GIVEN], "enrolment", "given_name", 1, s->given_name,
	                    sizeof(s->given_name))) != 0 ||
	    (r = bti_check_text("enrolment", "given_name", s->given_name)) != 0 ||
	    (r = bti_mp_uint(v[LK_ISSUED], "enrolment", "issued", &s->issued)) != 0 ||
	    (r = bti_mp_str(v[LK_KIND], "enrolment", "kind", 1, s->kind, sizeof(s->kind))) != 0)
		return r;
	if (strcmp(s->kind, BATON_ENROL_KIND) != 0)
		return bti_diag_err(BATON_EVALUE, "enrolment.kind: \"%s\" (expected %s)", s->kind,
		                    BATON_ENROL_KIND);
	if ((r = bti_mp_str(v[LK_STUDENT], "enrolment", "student", 1, s->student,
	                    sizeof(s->student))) != 0 ||
	    (r = bti_check_text("enrolment", "student", s->student)) != 0 ||
	    (r = bti_mp_fixbin(v[LK_TO], "enrolment", "to", s->to_pk, BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk("enrolment", "to", s->to_pk)) != 0)
		return r;
	if (s->expires <= s->issued)
		return bti_diag_err(BATON_EVALUE, "enrolment.expires: not after issued");
	if (sodium_memcmp(s->from_pk, s->to_pk, BATON_PK_BYTES) == 0)
		return bti_diag_err(BATON_EVALUE,
		                    "enrolment.to: the same school as enrolment.from");
	return 0;
}

int baton_enrolment_sign(const baton_enrolment *s, const uint8_t sk[BATON_SK_BYTES], uint8_t **out,
                         size_t *outlen)
{
	baton_enrolment tmp;
	return sign_object(BATON_OBJ_ENROLMENT, enc_enrolment, dec_enrolment, s, &tmp, s->to_pk, sk,
	                   out, outlen);
}

int baton_enrolment_parse(const uint8_t *buf, size_t len, baton_enrolment *out)
{
	int r = parse_object(buf, len, BATON_OBJ_ENROLMENT, dec_enrolment, out, sizeof(*out),
	                     out->to_pk, "enrolment");
	if (r == 0)
		crypto_generichash(out->hash, sizeof(out->hash), buf, len, NULL, 0);
	return r;
}

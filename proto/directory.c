/*
 * The federation directory (PROTOCOL.md 3.14): a signed object of type 10
 * with limits of its own, whose body holds every member school's card
 * envelope, each decoded and verified as a card, and the identity keys the
 * authority has withdrawn.
 *
 * Signing sorts the cards and keys, encodes the body and reads it back with
 * the reader's own decoder before signing, so an authority never signs a
 * directory a node would refuse.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto_impl.h"

static const struct dec_limits dir_limits = {
    .max_len = BATON_DIRECTORY_MAX,
    .max_depth = DEC_MAX_DEPTH,
    .max_objects = 262144,
};

static const char *const dir_keys[] = {"authority", "expires", "issued",   "members",
                                       "name",      "version", "withdrawn"};
enum { DK_AUTHORITY, DK_EXPIRES, DK_ISSUED, DK_MEMBERS, DK_NAME, DK_VERSION, DK_WITHDRAWN, DK_N };

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, BATON_PK_BYTES);
}

/* A member card's own error, as the directory's, naming the member. */
static int member_err(int r, size_t i)
{
	char why[300];
	snprintf(why, sizeof(why), "%s", baton_diag());
	return bti_diag_err(r, "directory.members[%zu]: %s", i, why);
}

static int dec_members(const msgpack_object *v, baton_directory *d)
{
	int r;

	if ((r = bti_mp_array(v, "directory", "members", 0, BATON_DIRECTORY_MEMBERS_MAX)) != 0)
		return r;
	d->n_members = v->via.array.size;
	if (d->n_members == 0)
		return 0;
	if ((d->members = calloc(d->n_members, sizeof(*d->members))) == NULL)
		return BATON_ENOMEM;
	for (size_t i = 0; i < d->n_members; i++) {
		baton_directory_member *m = &d->members[i];
		const msgpack_object *e = &v->via.array.ptr[i];
		char field[32];

		snprintf(field, sizeof(field), "members[%zu]", i);
		if (e->type != MSGPACK_OBJECT_BIN)
			return bti_diag_err(BATON_ETYPE, "directory.%s: not a bin", field);
		m->card = (const uint8_t *)e->via.bin.ptr;
		m->card_len = e->via.bin.size;
		if ((r = baton_card_parse(m->card, m->card_len, &m->parsed)) != 0)
			return member_err(r, i);
		if (i == 0)
			continue;
		int c = strcmp(d->members[i - 1].parsed.code, m->parsed.code);
		if (c > 0)
			return bti_diag_err(
			    BATON_ENONCANON,
			    "directory.%s: code \"%s\" comes before \"%s\" (members "
			    "are in code order)",
			    field, m->parsed.code, d->members[i - 1].parsed.code);
		if (c == 0)
			return bti_diag_err(BATON_EVALUE, "directory.%s: code \"%s\" twice", field,
			                    m->parsed.code);
	}
	return 0;
}

static int dec_withdrawn(const msgpack_object *v, baton_directory *d)
{
	uint8_t *w;
	int r;

	if ((r = bti_mp_array(v, "directory", "withdrawn", 0, BATON_DIRECTORY_MEMBERS_MAX)) != 0)
		return r;
	d->n_withdrawn = v->via.array.size;
	if (d->n_withdrawn == 0)
		return 0;
	/* The keys are separate bins on the wire: gathered into one array. */
	if ((w = malloc(d->n_withdrawn * BATON_PK_BYTES)) == NULL)
		return BATON_ENOMEM;
	d->withdrawn = w;
	for (size_t i = 0; i < d->n_withdrawn; i++) {
		uint8_t *k = w + i * BATON_PK_BYTES;
		char field[32];

		snprintf(field, sizeof(field), "withdrawn[%zu]", i);
		if ((r = bti_mp_fixbin(&v->via.array.ptr[i], "directory", field, k,
		                       BATON_PK_BYTES)) != 0 ||
		    (r = bti_check_ed25519_pk("directory", field, k)) != 0)
			return r;
		if (i > 0 && memcmp(k - BATON_PK_BYTES, k, BATON_PK_BYTES) >= 0)
			return bti_diag_err(BATON_ENONCANON,
			                    "directory.%s: not after the key before it (withdrawn "
			                    "keys are ascending, each once)",
			                    field);
	}
	return 0;
}

/* The body's fields, in key order, then the cross-field rules. Frees nothing on error. */
static int dec_body(const msgpack_object *o, baton_directory *d)
{
	const msgpack_object *v[DK_N];
	int r;

	if ((r = bti_mp_fields(o, "directory", dir_keys, DK_N, v)) != 0 ||
	    (r = bti_mp_fixbin(v[DK_AUTHORITY], "directory", "authority", d->authority,
	                       BATON_PK_BYTES)) != 0 ||
	    (r = bti_check_ed25519_pk("directory", "authority", d->authority)) != 0 ||
	    (r = bti_mp_uint(v[DK_EXPIRES], "directory", "expires", &d->expires)) != 0 ||
	    (r = bti_mp_uint(v[DK_ISSUED], "directory", "issued", &d->issued)) != 0 ||
	    (r = dec_members(v[DK_MEMBERS], d)) != 0 ||
	    (r = bti_mp_str(v[DK_NAME], "directory", "name", 1, d->name, sizeof(d->name))) != 0 ||
	    (r = bti_check_text("directory", "name", d->name)) != 0 ||
	    (r = bti_mp_uint(v[DK_VERSION], "directory", "version", &d->version)) != 0)
		return r;
	if (d->version == 0)
		return bti_diag_err(BATON_EVALUE, "directory.version: 0 (versions start at 1)");
	if ((r = dec_withdrawn(v[DK_WITHDRAWN], d)) != 0)
		return r;
	if (d->expires <= d->issued)
		return bti_diag_err(BATON_EVALUE, "directory.expires: not after issued");
	for (size_t i = 0; i < d->n_members && d->n_withdrawn > 0; i++)
		if (bsearch(d->members[i].parsed.id_pk, d->withdrawn, d->n_withdrawn,
		            BATON_PK_BYTES, cmp_key) != NULL)
			return bti_diag_err(
			    BATON_EVALUE, "directory.members[%zu]: the key of \"%s\" is withdrawn",
			    i, d->members[i].parsed.code);
	return 0;
}

/* Walks and reads a body of len bytes into d (zeroed first); the caller frees d on error. */
static int body_decode(const uint8_t *body, size_t len, baton_directory *d)
{
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(d, 0, sizeof(*d));
	if (!msgpack_zone_init(&z, 4096))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(body, len, &dir_limits, &z, &o)) == 0)
		r = dec_body(&o, d);
	msgpack_zone_destroy(&z);
	return r;
}

int baton_directory_parse(const uint8_t *buf, size_t len, baton_directory *out)
{
	const uint8_t *body, *sig;
	size_t blen;
	int r;

	bti_diag_clear();
	memset(out, 0, sizeof(*out));
	if ((r = bti_envelope_open(buf, len, BATON_OBJ_DIRECTORY, &dir_limits, &body, &blen,
	                           &sig)) != 0)
		return r;
	if ((r = body_decode(body, blen, out)) != 0 ||
	    (r = bti_envelope_verify(BATON_OBJ_DIRECTORY, body, blen, sig, out->authority,
	                             "directory")) != 0) {
		baton_directory_free(out);
		return r;
	}
	crypto_generichash(out->hash, sizeof(out->hash), buf, len, NULL, 0);
	return 0;
}

/*
 * Every valid body is a map of seven keys whose first is "authority", a
 * bin of 32 (canonical: 87 a9 "authority" c4 20), so the key is read from
 * those bytes without decoding the members. A body that starts otherwise is
 * refused by the full parse anyway, with the codec's own error.
 */
static const uint8_t dir_head[] = {0x87, 0xa9, 'a', 'u', 't',  'h', 'o',
                                   'r',  'i',  't', 'y', 0xc4, 0x20};

int baton_directory_authority(const uint8_t *buf, size_t len, uint8_t authority[BATON_PK_BYTES])
{
	const uint8_t *body, *sig;
	size_t blen;
	int r;

	bti_diag_clear();
	memset(authority, 0, BATON_PK_BYTES);
	if ((r = bti_envelope_open(buf, len, BATON_OBJ_DIRECTORY, &dir_limits, &body, &blen,
	                           &sig)) != 0)
		return r;
	if (blen < sizeof(dir_head) + BATON_PK_BYTES ||
	    memcmp(body, dir_head, sizeof(dir_head)) != 0)
		return bti_diag_err(BATON_ENOTFOUND,
		                    "directory: the body does not start with its authority");
	memcpy(authority, body + sizeof(dir_head), BATON_PK_BYTES);
	return 0;
}

int baton_directory_verify_signature(const uint8_t *buf, size_t len,
                                     const uint8_t authority[BATON_PK_BYTES])
{
	const uint8_t *body, *sig;
	size_t blen;
	int r;

	bti_diag_clear();
	if ((r = bti_envelope_open(buf, len, BATON_OBJ_DIRECTORY, &dir_limits, &body, &blen,
	                           &sig)) != 0)
		return r;
	return bti_envelope_verify(BATON_OBJ_DIRECTORY, body, blen, sig, authority, "directory");
}

void baton_directory_free(baton_directory *d)
{
	if (d == NULL)
		return;
	free(d->members);
	free((void *)d->withdrawn);
	memset(d, 0, sizeof(*d));
}

/* ---- signing ---- */

struct member_in {
	const uint8_t *card;
	size_t len;
	char code[BATON_CODE_MAX + 1];
};

struct dir_in {
	const uint8_t *authority;
	const char *name;
	uint64_t version, issued, expires;
	const struct member_in *members;
	size_t n_members;
	const uint8_t *withdrawn;
	size_t n_withdrawn;
};

static int cmp_member(const void *a, const void *b)
{
	return strcmp(((const struct member_in *)a)->code, ((const struct member_in *)b)->code);
}

static void enc_dir(struct enc *e, const void *obj)
{
	const struct dir_in *d = obj;
	bti_enc_map(e, DK_N);
	bti_enc_str(e, "authority"), bti_enc_bin(e, d->authority, BATON_PK_BYTES);
	bti_enc_str(e, "expires"), bti_enc_uint(e, d->expires);
	bti_enc_str(e, "issued"), bti_enc_uint(e, d->issued);
	bti_enc_str(e, "members"), bti_enc_array(e, (uint32_t)d->n_members);
	for (size_t i = 0; i < d->n_members; i++)
		bti_enc_bin(e, d->members[i].card, d->members[i].len);
	bti_enc_str(e, "name"), bti_enc_str(e, d->name);
	bti_enc_str(e, "version"), bti_enc_uint(e, d->version);
	bti_enc_str(e, "withdrawn"), bti_enc_array(e, (uint32_t)d->n_withdrawn);
	for (size_t i = 0; i < d->n_withdrawn; i++)
		bti_enc_bin(e, d->withdrawn + i * BATON_PK_BYTES, BATON_PK_BYTES);
}

int baton_directory_sign(const char *name, uint64_t version, uint64_t issued, uint64_t expires,
                         const uint8_t *const *cards, const size_t *card_lens, size_t n_cards,
                         const uint8_t *withdrawn, size_t n_withdrawn,
                         const uint8_t sk[BATON_SK_BYTES], uint8_t **out, size_t *out_len)
{
	struct member_in *m = NULL;
	uint8_t *w = NULL, *body = NULL;
	size_t blen = 0;
	baton_directory back;
	int r;

	bti_diag_clear();
	*out = NULL;
	*out_len = 0;
	memset(&back, 0, sizeof(back));
	if (name == NULL || (n_cards > 0 && (cards == NULL || card_lens == NULL)) ||
	    (n_withdrawn > 0 && withdrawn == NULL))
		return BATON_EINVAL;
	if (n_cards > BATON_DIRECTORY_MEMBERS_MAX)
		return bti_diag_err(BATON_EVALUE, "directory.members: %zu (at most %u)", n_cards,
		                    BATON_DIRECTORY_MEMBERS_MAX);
	if (n_withdrawn > BATON_DIRECTORY_MEMBERS_MAX)
		return bti_diag_err(BATON_EVALUE, "directory.withdrawn: %zu (at most %u)",
		                    n_withdrawn, BATON_DIRECTORY_MEMBERS_MAX);
	if (n_cards > 0 && (m = calloc(n_cards, sizeof(*m))) == NULL)
		return BATON_ENOMEM;
	for (size_t i = 0; i < n_cards; i++) {
		baton_card c;
		if ((r = baton_card_parse(cards[i], card_lens[i], &c)) != 0) {
			r = member_err(r, i);
			goto out;
		}
		m[i].card = cards[i];
		m[i].len = card_lens[i];
		memcpy(m[i].code, c.code, sizeof(m[i].code));
	}
	if (n_cards > 1)
		qsort(m, n_cards, sizeof(*m), cmp_member);
	if (n_withdrawn > 0) {
		if ((w = malloc(n_withdrawn * BATON_PK_BYTES)) == NULL) {
			r = BATON_ENOMEM;
			goto out;
		}
		memcpy(w, withdrawn, n_withdrawn * BATON_PK_BYTES);
		qsort(w, n_withdrawn, BATON_PK_BYTES, cmp_key);
	}
	struct dir_in d = {sk + 32, name, version, issued, expires, m, n_cards, w, n_withdrawn};
	if ((r = bti_enc_alloc(enc_dir, &d, &body, &blen)) != 0)
		goto out;
	/* Never sign what a node would refuse: read it back with the node's decoder. */
	if ((r = body_decode(body, blen, &back)) != 0)
		goto out;
	if ((r = bti_envelope_seal(BATON_OBJ_DIRECTORY, body, blen, sk, out, out_len)) != 0)
		goto out;
	/* The body fits, but the envelope around it may not. */
	if (*out_len > BATON_DIRECTORY_MAX) {
		r = bti_diag_err(BATON_ETOOBIG, "directory: %zu bytes (at most %u)", *out_len,
		                 BATON_DIRECTORY_MAX);
		free(*out);
		*out = NULL;
		*out_len = 0;
	}
out:
	baton_directory_free(&back);
	free(body);
	free(w);
	free(m);
	return r;
}

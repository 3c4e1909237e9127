/*
 * The disclosure copy (PROTOCOL.md 3.13): prefix, a signed object of type 9
 * over the hash of the entries, then the entries as one canonical array.
 * Making one reads it back with the reader's own checks, so Baton never
 * signs a copy it would refuse.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <baton/disclosures.h>

#include "proto_impl.h"

#define MAGIC          "BTND"
#define VERSION        1
#define ENTRIES_DOMAIN "BATON-DISCLOSURES-v1" /* and its NUL: 21 bytes */

static const struct dec_limits list_limits = {BATON_DISCLOSURES_LIST_MAX, 3, 262144};

static void entries_hash(const uint8_t *p, size_t n, uint8_t out[BATON_HASH_BYTES])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, BATON_HASH_BYTES);
	crypto_generichash_update(&st, (const uint8_t *)ENTRIES_DOMAIN, sizeof(ENTRIES_DOMAIN));
	crypto_generichash_update(&st, p, n);
	crypto_generichash_final(&st, out, BATON_HASH_BYTES);
}

/* ---- the signed body (type 9) ---- */

static const char *const body_keys[] = {"audit", "code",   "count",   "entries",
                                        "name",  "school", "student", "time"};
enum { DB_AUDIT, DB_CODE, DB_COUNT, DB_ENTRIES, DB_NAME, DB_SCHOOL, DB_STUDENT, DB_TIME, DB_N };

static void enc_body(struct enc *e, const void *obj)
{
	const baton_disclosures *d = obj;
	bti_enc_map(e, DB_N);
	bti_enc_str(e, "audit"), bti_enc_bin(e, d->audit, d->audit_len);
	bti_enc_str(e, "code"), bti_enc_str(e, d->code);
	bti_enc_str(e, "count"), bti_enc_uint(e, d->count);
	bti_enc_str(e, "entries"), bti_enc_bin(e, d->entries_hash, BATON_HASH_BYTES);
	bti_enc_str(e, "name"), bti_enc_str(e, d->name);
	bti_enc_str(e, "school"), bti_enc_bin(e, d->school, BATON_PK_BYTES);
	bti_enc_str(e, "student"), bti_enc_str(e, d->student);
	bti_enc_str(e, "time"), bti_enc_uint(e, d->time);
}

static int dec_body(const msgpack_object *o, void *out)
{
	baton_disclosures *d = out;
	const msgpack_object *v[DB_N];
	const uint8_t *ap = NULL;
	uint64_t count;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = bti_mp_fields(o, "disclosures", body_keys, DB_N, v)) != 0 ||
	    (r = bti_mp_need(v[DB_AUDIT], "disclosures", "audit")) != 0 ||
	    (r = bti_audit_field(v[DB_AUDIT], "disclosures", &ap, &d->audit_len, &d->head)) != 0)
		return r;
	memcpy(d->audit, ap, d->audit_len);
	if ((r = bti_mp_str(v[DB_CODE], "disclosures", "code", 1, d->code, sizeof(d->code))) != 0 ||
	    (r = bti_check_code("disclosures", "code", d->code)) != 0 ||
	    (r = bti_mp_uint(v[DB_COUNT], "disclosures", "count", &count)) != 0)
		return r;
	if (count > BATON_DISCLOSURES_MAX_ENTRIES)
		return bti_diag_err(BATON_EVALUE, "disclosures.count: %llu (at most %d)",
		                    (unsigned long long)count, BATON_DISCLOSURES_MAX_ENTRIES);
	d->count = (size_t)count;
	if ((r = bti_mp_fixbin(v[DB_ENTRIES], "disclosures", "entries", d->entries_hash,
	                       BATON_HASH_BYTES)) != 0 ||
	    (r = bti_mp_str(v[DB_NAME], "disclosures", "name", 1, d->name, sizeof(d->name))) != 0 ||
	    (r = bti_check_text("disclosures", "name", d->name)) != 0 ||
	    (r = bti_mp_fixbin(v[DB_SCHOOL], "disclosures", "school", d->school, BATON_PK_BYTES)) !=
	        0 ||
	    (r = bti_check_ed25519_pk("disclosures", "school", d->school)) != 0 ||
	    (r = bti_mp_str(v[DB_STUDENT], "disclosures", "student", 1, d->student,
	                    sizeof(d->student))) != 0 ||
	    (r = bti_check_text("disclosures", "student", d->student)) != 0 ||
	    (r = bti_mp_uint(v[DB_TIME], "disclosures", "time", &d->time)) != 0)
		return r;
	/* The head is the school's own log: another key's head proves nothing here. */
	if (sodium_memcmp(d->head.key, d->school, BATON_PK_BYTES) != 0)
		return bti_diag_err(
		    BATON_EVALUE,
		    "disclosures.audit: signed by another key than disclosures.school");
	return 0;
}

/* ---- the entries ---- */

static const char *const entry_keys[] = {"basis",       "by",      "consent",  "hash", "packet",
                                         "packet_hash", "receipt", "sections", "seq",  "time",
                                         "to",          "to_code", "to_name"};
enum {
	EN_BASIS,
	EN_BY,
	EN_CONSENT,
	EN_HASH,
	EN_PACKET,
	EN_PACKET_HASH,
	EN_RECEIPT,
	EN_SECTIONS,
	EN_SEQ,
	EN_TIME,
	EN_TO,
	EN_TO_CODE,
	EN_TO_NAME,
	EN_N
};

static const char *const bases[] = {"consent", "enrolment", "other"};
static const char *const receipts[] = {"expired", "received", "refused", "unknown", "waiting"};

static int one_of(const char *s, const char *const *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, set[i]) == 0)
			return 1;
	return 0;
}

static void enc_entry(struct enc *e, const baton_disclosure *x)
{
	uint32_t n = 7 + (x->by[0] != 0) + (x->has_consent != 0) + (x->has_packet != 0) +
	             (x->has_packet_hash != 0) + (x->has_to != 0) + (x->to_name[0] != 0);
	bti_enc_map(e, n);
	bti_enc_str(e, "basis"), bti_enc_str(e, x->basis);
	if (x->by[0])
		bti_enc_str(e, "by"), bti_enc_str(e, x->by);
	if (x->has_consent)
		bti_enc_str(e, "consent"), bti_enc_bin(e, x->consent, BATON_ID_BYTES);
	bti_enc_str(e, "hash"), bti_enc_bin(e, x->hash, BATON_HASH_BYTES);
	if (x->has_packet)
		bti_enc_str(e, "packet"), bti_enc_bin(e, x->packet, BATON_ID_BYTES);
	if (x->has_packet_hash)
		bti_enc_str(e, "packet_hash"), bti_enc_bin(e, x->packet_hash, BATON_HASH_BYTES);
	bti_enc_str(e, "receipt"), bti_enc_str(e, x->receipt);
	bti_enc_str(e, "sections"), bti_enc_sections(e, x->sections);
	bti_enc_str(e, "seq"), bti_enc_uint(e, x->seq);
	bti_enc_str(e, "time"), bti_enc_uint(e, x->time);
	if (x->has_to)
		bti_enc_str(e, "to"), bti_enc_bin(e, x->to, BATON_PK_BYTES);
	bti_enc_str(e, "to_code"), bti_enc_str(e, x->to_code);
	if (x->to_name[0])
		bti_enc_str(e, "to_name"), bti_enc_str(e, x->to_name);
}

static void enc_list(struct enc *e, const void *obj)
{
	const baton_disclosures *d = obj;
	bti_enc_array(e, (uint32_t)d->count);
	for (size_t i = 0; i < d->count; i++)
		enc_entry(e, &d->entry[i]);
}

static int dec_entry(const msgpack_object *o, baton_disclosure *x)
{
	const msgpack_object *v[EN_N];
	int r;

	memset(x, 0, sizeof(*x));
	if ((r = bti_mp_fields(o, "disclosure", entry_keys, EN_N, v)) != 0 ||
	    (r = bti_mp_str(v[EN_BASIS], "disclosure", "basis", 1, x->basis, sizeof(x->basis))) !=
	        0)
		return r;
	if (!one_of(x->basis, bases, sizeof(bases) / sizeof(bases[0])))
		return bti_diag_err(BATON_EVALUE,
		                    "disclosure.basis: \"%s\" (consent, enrolment or "
		                    "other)",
		                    x->basis);
	if (v[EN_BY] &&
	    ((r = bti_mp_str(v[EN_BY], "disclosure", "by", 1, x->by, sizeof(x->by))) != 0 ||
	     (r = bti_check_text("disclosure", "by", x->by)) != 0))
		return r;
	if (v[EN_CONSENT] && (r = bti_mp_fixbin(v[EN_CONSENT], "disclosure", "consent", x->consent,
	                                        BATON_ID_BYTES)) != 0)
		return r;
	x->has_consent = v[EN_CONSENT] != NULL;
	if ((r = bti_mp_fixbin(v[EN_HASH], "disclosure", "hash", x->hash, BATON_HASH_BYTES)) != 0)
		return r;
	if (v[EN_PACKET] && (r = bti_mp_fixbin(v[EN_PACKET], "disclosure", "packet", x->packet,
	                                       BATON_ID_BYTES)) != 0)
		return r;
	x->has_packet = v[EN_PACKET] != NULL;
	if (v[EN_PACKET_HASH] && (r = bti_mp_fixbin(v[EN_PACKET_HASH], "disclosure", "packet_hash",
	                                            x->packet_hash, BATON_HASH_BYTES)) != 0)
		return r;
	x->has_packet_hash = v[EN_PACKET_HASH] != NULL;
	if ((r = bti_mp_str(v[EN_RECEIPT], "disclosure", "receipt", 1, x->receipt,
	                    sizeof(x->receipt))) != 0)
		return r;
	if (!one_of(x->receipt, receipts, sizeof(receipts) / sizeof(receipts[0])))
		return bti_diag_err(
		    BATON_EVALUE,
		    "disclosure.receipt: \"%s\" (waiting, received, refused, expired or "
		    "unknown)",
		    x->receipt);
	if ((r = bti_mp_sections(v[EN_SECTIONS], "disclosure", "sections", &x->sections)) != 0 ||
	    (r = bti_mp_uint(v[EN_SEQ], "disclosure", "seq", &x->seq)) != 0)
		return r;
	if (x->seq == 0)
		return bti_diag_err(BATON_EVALUE, "disclosure.seq: 0 (the log counts from 1)");
	if ((r = bti_mp_uint(v[EN_TIME], "disclosure", "time", &x->time)) != 0)
		return r;
	if (v[EN_TO] &&
	    ((r = bti_mp_fixbin(v[EN_TO], "disclosure", "to", x->to, BATON_PK_BYTES)) != 0 ||
	     (r = bti_check_ed25519_pk("disclosure", "to", x->to)) != 0))
		return r;
	x->has_to = v[EN_TO] != NULL;
	if ((r = bti_mp_str(v[EN_TO_CODE], "disclosure", "to_code", 1, x->to_code,
	                    sizeof(x->to_code))) != 0 ||
	    (r = bti_check_code("disclosure", "to_code", x->to_code)) != 0)
		return r;
	if (v[EN_TO_NAME] && ((r = bti_mp_str(v[EN_TO_NAME], "disclosure", "to_name", 1, x->to_name,
	                                      sizeof(x->to_name))) != 0 ||
	                      (r = bti_check_text("disclosure", "to_name", x->to_name)) != 0))
		return r;
	if (x->has_packet_hash && !x->has_packet)
		return bti_diag_err(BATON_EVALUE, "disclosure.packet_hash: without a packet");
	return 0;
}

/* The entries of a verified body: count of them, each read, in log order. */
static int dec_list(const uint8_t *p, size_t n, baton_disclosures *d)
{
	msgpack_zone z;
	msgpack_object o;
	int r;

	if (!msgpack_zone_init(&z, 4096))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, n, &list_limits, &z, &o)) != 0)
		goto out;
	if (o.type != MSGPACK_OBJECT_ARRAY) {
		r = bti_diag_err(BATON_ETYPE, "disclosures.entries: not an array");
		goto out;
	}
	if (o.via.array.size != d->count) {
		r = bti_diag_err(BATON_EVALUE, "disclosures.entries: %u entries, the copy says %zu",
		                 (unsigned)o.via.array.size, d->count);
		goto out;
	}
	if (d->count > 0 && (d->entry = calloc(d->count, sizeof(*d->entry))) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < d->count; i++) {
		baton_disclosure *x = &d->entry[i];
		if ((r = dec_entry(&o.via.array.ptr[i], x)) != 0) {
			char why[300];
			snprintf(why, sizeof(why), "%s", baton_diag());
			r = bti_diag_err(r, "entry %zu: %s", i + 1, why);
			goto out;
		}
		if (i > 0 && x->seq <= d->entry[i - 1].seq) {
			r = bti_diag_err(BATON_EVALUE,
			                 "entry %zu: disclosure.seq %llu does not follow %llu",
			                 i + 1, (unsigned long long)x->seq,
			                 (unsigned long long)d->entry[i - 1].seq);
			goto out;
		}
		if (x->seq > d->head.count) {
			r = bti_diag_err(BATON_EVALUE,
			                 "entry %zu: disclosure.seq %llu is past the signed head "
			                 "(%llu entries)",
			                 i + 1, (unsigned long long)x->seq,
			                 (unsigned long long)d->head.count);
			goto out;
		}
	}
	r = 0;
out:
	msgpack_zone_destroy(&z);
	return r;
}

int baton_disclosures_parse(const uint8_t *buf, size_t len, baton_disclosures *out)
{
	uint8_t h[BATON_HASH_BYTES];
	size_t n;
	int r;

	bti_diag_clear();
	memset(out, 0, sizeof(*out));
	if (len < BATON_DISCLOSURES_PREFIX)
		return bti_diag_err(BATON_ETRUNC,
		                    "disclosure copy: %zu bytes, shorter than its "
		                    "prefix",
		                    len);
	if (memcmp(buf, MAGIC, 4) != 0)
		return bti_diag_err(BATON_EMAGIC, "disclosure copy: not a Baton disclosure copy");
	if (buf[4] != VERSION)
		return bti_diag_err(BATON_EVERSION, "disclosure copy: version %u (this reads 1)",
		                    buf[4]);
	if (buf[5] || buf[6] || buf[7])
		return bti_diag_err(BATON_EVALUE, "disclosure copy: reserved bytes not zero");
	n = get_be32(buf + 8);
	if (n == 0 || n > BATON_OBJ_MAX)
		return bti_diag_err(BATON_EVALUE,
		                    "disclosure copy: signed part of %zu bytes (1..%d)", n,
		                    BATON_OBJ_MAX);
	if (n > len - BATON_DISCLOSURES_PREFIX)
		return bti_diag_err(BATON_ETRUNC, "disclosure copy: the signed part runs past the "
		                                  "end");
	if ((r = bti_object_parse(buf + BATON_DISCLOSURES_PREFIX, n, BATON_OBJ_DISCLOSURES,
	                          dec_body, out, sizeof(*out), out->school, "disclosures")) != 0)
		return r;
	const uint8_t *list = buf + BATON_DISCLOSURES_PREFIX + n;
	size_t llen = len - BATON_DISCLOSURES_PREFIX - n;
	if (llen > BATON_DISCLOSURES_LIST_MAX) {
		r = bti_diag_err(BATON_ETOOBIG, "disclosures.entries: %zu bytes (at most %d)", llen,
		                 BATON_DISCLOSURES_LIST_MAX);
		goto fail;
	}
	entries_hash(list, llen, h);
	if (sodium_memcmp(h, out->entries_hash, BATON_HASH_BYTES) != 0) {
		r = bti_diag_err(BATON_EHASH,
		                 "disclosures.entries: not the entries the school signed");
		goto fail;
	}
	if ((r = dec_list(list, llen, out)) != 0)
		goto fail;
	return 0;
fail:
	baton_disclosures_free(out);
	return r;
}

void baton_disclosures_free(baton_disclosures *d)
{
	if (d == NULL)
		return;
	free(d->entry);
	memset(d, 0, sizeof(*d));
}

int baton_disclosures_make(const baton_disclosures *d, const uint8_t sk[BATON_SK_BYTES],
                           uint8_t **out, size_t *len)
{
	baton_disclosures *b = NULL, back;
	uint8_t *list = NULL, *env = NULL, *file = NULL;
	size_t llen = 0, elen = 0;
	int r;

	bti_diag_clear();
	*out = NULL;
	*len = 0;
	if (d->count > BATON_DISCLOSURES_MAX_ENTRIES)
		return bti_diag_err(BATON_EVALUE, "disclosures.count: %zu (at most %d)", d->count,
		                    BATON_DISCLOSURES_MAX_ENTRIES);
	if ((b = malloc(2 * sizeof(*b))) == NULL)
		return BATON_ENOMEM;
	*b = *d;
	if ((r = bti_enc_alloc(enc_list, d, &list, &llen)) != 0)
		goto out;
	entries_hash(list, llen, b->entries_hash);
	if ((r = bti_object_sign(BATON_OBJ_DISCLOSURES, enc_body, dec_body, b, b + 1, b->school, sk,
	                         &env, &elen)) != 0)
		goto out;
	if ((file = malloc(BATON_DISCLOSURES_PREFIX + elen + llen)) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	memcpy(file, MAGIC, 4);
	file[4] = VERSION;
	file[5] = file[6] = file[7] = 0;
	put_be32(file + 8, (uint32_t)elen);
	memcpy(file + BATON_DISCLOSURES_PREFIX, env, elen);
	memcpy(file + BATON_DISCLOSURES_PREFIX + elen, list, llen);
	/* Never hand out what a reader would refuse. */
	if ((r = baton_disclosures_parse(file, BATON_DISCLOSURES_PREFIX + elen + llen, &back)) != 0)
		goto out;
	baton_disclosures_free(&back);
	*out = file;
	*len = BATON_DISCLOSURES_PREFIX + elen + llen;
	file = NULL;
out:
	free(file);
	free(env);
	free(list);
	free(b);
	return r;
}

/*
 * Redisclosure terms (terms.h), kept in the store's named values: this
 * school's text under "policy.terms", the terms that came with a received
 * packet under "terms.in.<packet id>", and the hash and state of the terms
 * sent with a packet under "terms.out.<packet id>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "terms.h"
#include "transfer_impl.h"

#define TERMS_KEY "policy.terms"

const char terms_default[] =
    "These education records are disclosed to you under the Family Educational Rights "
    "and Privacy Act (FERPA). Under 34 CFR 99.33, you may use them only for the purpose "
    "for which they were disclosed, and you may not disclose the personal information "
    "in them to any other party without the prior written consent of the parent or the "
    "eligible student, except as 34 CFR 99.31 permits. Your school's officials may use "
    "them for that purpose.";

int terms_check(const char *text, size_t len)
{
	if (len < 1 || len > BATON_TERMS_MAX)
		return bti_diag_err(BATON_EVALUE, "terms: %zu bytes, expected 1..%d", len,
		                    BATON_TERMS_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			return bti_diag_err(
			    BATON_EVALUE, "terms: a control character (0x%02x) at byte %zu", c, i);
	}
	if (!bti_utf8_valid((const uint8_t *)text, len))
		return bti_diag_err(BATON_EVALUE, "terms: not UTF-8 text");
	return 0;
}

static void id_key(char *key, size_t cap, const char *prefix, const uint8_t id[BATON_ID_BYTES])
{
	snprintf(key, cap, "%s%s", prefix, xfer_hex_id(id));
}

int xfer_terms_read(store_txn *t, char *buf, size_t cap, size_t *len)
{
	uint8_t *v = NULL;
	size_t n = 0;
	int r = store_meta_get(t, TERMS_KEY, &v, &n);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == BATON_ENOTFOUND || n == 0 || n >= cap) {
		free(v);
		n = strlen(terms_default);
		memcpy(buf, terms_default, n);
	} else {
		memcpy(buf, v, n);
		free(v);
	}
	buf[n] = '\0';
	*len = n;
	return 0;
}

struct set_ctx {
	const char *text;
	size_t len;
};

static int set_fn(store_txn *t, void *arg)
{
	struct set_ctx *c = arg;
	uint8_t h[BATON_HASH_BYTES];
	char hex[2 * BATON_HASH_BYTES + 1];
	store_audit e;
	int r;

	if ((r = store_meta_put(t, TERMS_KEY, c->text, c->len)) != 0)
		return r;
	crypto_generichash(h, sizeof(h), (const uint8_t *)c->text, c->len, NULL, 0);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "policy");
	snprintf(e.detail, sizeof(e.detail), "redisclosure terms set: %zu bytes, hash %s", c->len,
	         hex);
	return store_audit_append(t, &e);
}

int terms_set(store *st, const char *text, size_t len)
{
	int r;
	if ((r = terms_check(text, len)) != 0)
		return r;
	struct set_ctx c = {text, len};
	return store_write(st, set_fn, &c);
}

struct get_ctx {
	char *buf;
	size_t len;
	int is_default;
};

static int get_fn(store_txn *t, void *arg)
{
	struct get_ctx *c = arg;
	uint8_t *v = NULL;
	size_t n = 0;
	int r = store_meta_get(t, TERMS_KEY, &v, &n);
	free(v);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	c->is_default = r == BATON_ENOTFOUND;
	return xfer_terms_read(t, c->buf, BATON_TERMS_MAX + 1, &c->len);
}

int terms_get(store *st, char **text, size_t *len, int *is_default)
{
	struct get_ctx c = {malloc(BATON_TERMS_MAX + 1), 0, 0};
	int r;
	if (c.buf == NULL)
		return BATON_ENOMEM;
	if ((r = store_read(st, get_fn, &c)) != 0) {
		free(c.buf);
		return r;
	}
	*text = c.buf;
	*len = c.len;
	*is_default = c.is_default;
	return 0;
}

/* terms.out value: the hash of the terms sent, then one byte of state. */
int xfer_terms_sent(store_txn *t, const uint8_t id[BATON_ID_BYTES], const char *text, size_t len)
{
	uint8_t v[BATON_HASH_BYTES + 1];
	char key[64];
	crypto_generichash(v, BATON_HASH_BYTES, (const uint8_t *)text, len, NULL, 0);
	v[BATON_HASH_BYTES] = TERMS_SENT;
	id_key(key, sizeof(key), "terms.out.", id);
	return store_meta_put(t, key, v, sizeof(v));
}

static int out_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], uint8_t v[BATON_HASH_BYTES + 1])
{
	char key[64];
	uint8_t *p = NULL;
	size_t n = 0;
	int r;
	id_key(key, sizeof(key), "terms.out.", id);
	if ((r = store_meta_get(t, key, &p, &n)) != 0)
		return r;
	if (n != BATON_HASH_BYTES + 1) {
		free(p);
		return bti_diag_err(BATON_EIO, "store: damaged terms entry for packet %s",
		                    xfer_hex_id(id));
	}
	memcpy(v, p, n);
	free(p);
	return 0;
}

int xfer_terms_receipt(store_txn *t, const uint8_t id[BATON_ID_BYTES], const baton_receipt *rc)
{
	uint8_t v[BATON_HASH_BYTES + 1];
	char key[64];
	int r = out_get(t, id, v);
	if (r == BATON_ENOTFOUND)
		return 0; /* sent without terms */
	if (r != 0)
		return r;
	if (rc->has_terms && sodium_memcmp(rc->terms, v, BATON_HASH_BYTES) != 0)
		return bti_diag_err(
		    BATON_EHASH, "the receipt names other redisclosure terms than the ones sent");
	v[BATON_HASH_BYTES] = rc->has_terms ? TERMS_ACCEPTED : TERMS_UNACKED;
	id_key(key, sizeof(key), "terms.out.", id);
	return store_meta_put(t, key, v, sizeof(v));
}

int xfer_terms_out(store_txn *t, const uint8_t id[BATON_ID_BYTES], int *state)
{
	uint8_t v[BATON_HASH_BYTES + 1];
	int r = out_get(t, id, v);
	*state = TERMS_NONE;
	if (r == BATON_ENOTFOUND)
		return 0;
	if (r == 0)
		*state = v[BATON_HASH_BYTES];
	return r;
}

int xfer_terms_received(store_txn *t, const uint8_t id[BATON_ID_BYTES], const char *text,
                        size_t len)
{
	char key[64];
	id_key(key, sizeof(key), "terms.in.", id);
	return store_meta_put(t, key, text, len);
}

int xfer_terms_in(store_txn *t, const uint8_t id[BATON_ID_BYTES], char **text, size_t *len)
{
	char key[64];
	uint8_t *p = NULL;
	size_t n = 0;
	int r;
	id_key(key, sizeof(key), "terms.in.", id);
	if ((r = store_meta_get(t, key, &p, &n)) != 0)
		return r;
	char *s = malloc(n + 1);
	if (s == NULL) {
		free(p);
		return BATON_ENOMEM;
	}
	memcpy(s, p, n);
	s[n] = '\0';
	free(p);
	*text = s;
	*len = n;
	return 0;
}

const char *terms_state_name(int state)
{
	switch (state) {
	case TERMS_SENT:
		return "sent";
	case TERMS_ACCEPTED:
		return "accepted";
	case TERMS_UNACKED:
		return "not acknowledged";
	default:
		return "none";
	}
}

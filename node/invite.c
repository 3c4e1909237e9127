/* Invitations: make, list, claim, confirm, cancel, and the QR of a URL (invite.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qrencode.h>
#include <sodium.h>

#include "bti.h"
#include "guardian.h"
#include "invite.h"

#define ALPHABET_N (sizeof(INVITE_ALPHABET) - 1)
#define MAKE_TRIES 32 /* ids drawn before giving up on finding a free one */

int invite_relation_valid(const char *rel)
{
	static const char *const ok[] = {"mother", "father", "guardian", "self"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(rel, ok[i]) == 0)
			return 1;
	return 0;
}

static int relation_check(const char *rel)
{
	if (rel == NULL || !invite_relation_valid(rel))
		return bti_diag_err(BATON_EVALUE,
		                    "relation: \"%.40s\": use mother, father, "
		                    "guardian or self",
		                    rel ? rel : "");
	return 0;
}

int invite_code_parse(const char *what, const char *text, char code[INVITE_CODE_LEN + 1])
{
	size_t n = 0;
	code[0] = 0;
	if (text == NULL)
		return bti_diag_err(BATON_EVALUE, "%s: the invitation code is required", what);
	for (const char *p = text; *p; p++) {
		int ch = (unsigned char)*p;
		if (ch == '-' || ch == ' ')
			continue;
		ch = toupper(ch);
		if (ch == 0 || strchr(INVITE_ALPHABET, ch) == NULL) {
			sodium_memzero(code, INVITE_CODE_LEN + 1);
			if (isgraph((unsigned char)*p))
				return bti_diag_err(
				    BATON_EVALUE,
				    "%s: '%c' is not a character of an invitation "
				    "code (letters and digits, without I, L, O, U, 0 "
				    "and 1)",
				    what, *p);
			return bti_diag_err(BATON_EVALUE,
			                    "%s: byte 0x%02x is not a character of an invitation "
			                    "code",
			                    what, (unsigned)(unsigned char)*p);
		}
		if (n == INVITE_CODE_LEN) {
			sodium_memzero(code, INVITE_CODE_LEN + 1);
			return bti_diag_err(BATON_EVALUE, "%s: longer than %d characters", what,
			                    INVITE_CODE_LEN);
		}
		code[n++] = (char)ch;
	}
	code[n] = 0;
	if (n != INVITE_CODE_LEN) {
		sodium_memzero(code, INVITE_CODE_LEN + 1);
		return bti_diag_err(BATON_EVALUE, "%s: %zu characters, an invitation code has %d",
		                    what, n, INVITE_CODE_LEN);
	}
	return 0;
}

static void code_format(const char code[INVITE_CODE_LEN + 1], char text[INVITE_CODE_TEXT])
{
	snprintf(text, INVITE_CODE_TEXT, "%.4s-%.4s-%.4s", code, code + 4, code + 8);
}

static void code_hash(const char code[INVITE_CODE_LEN + 1], uint8_t hash[32])
{
	crypto_generichash(hash, 32, (const uint8_t *)code, INVITE_CODE_LEN, NULL, 0);
}

int invite_url(const char *base, const char *code_text, char url[INVITE_URL_MAX])
{
	size_t n = base ? strlen(base) : 0, skip;
	url[0] = 0;
	if (base && strncmp(base, "https://", 8) == 0)
		skip = 8;
	else if (base && strncmp(base, "http://", 7) == 0)
		skip = 7;
	else
		return bti_diag_err(BATON_EVALUE,
		                    "url: \"%.80s\": give http:// or https:// and "
		                    "the console's host",
		                    base ? base : "");
	while (n > skip && base[n - 1] == '/')
		n--;
	if (n == skip || strcspn(base + skip, "?# \t\r\n\"<>\\") < n - skip)
		return bti_diag_err(BATON_EVALUE,
		                    "url: \"%.80s\": a host is required, without a query, "
		                    "fragment or spaces",
		                    base);
	for (size_t i = skip; i < n; i++)
		if (!isgraph((unsigned char)base[i]))
			return bti_diag_err(BATON_EVALUE, "url: \"%.80s\": not printable ASCII",
			                    base);
	if (snprintf(url, INVITE_URL_MAX, "%.*s/family/#invite=%s", (int)n, base, code_text) >=
	    INVITE_URL_MAX) {
		sodium_memzero(url, INVITE_URL_MAX);
		return bti_diag_err(BATON_EVALUE, "url: longer than %d bytes", INVITE_URL_MAX - 64);
	}
	return 0;
}

static int student_get(store_txn *t, const char *student, store_student *s)
{
	int r = store_student_get(t, student, s);
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_ENOTFOUND, "no student \"%s\"", student)
	                            : r;
}

static int audit(store_txn *t, const char *action, const char *student, const char *by,
                 const char *detail)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s", action);
	snprintf(e.student, sizeof(e.student), "%s", student);
	snprintf(e.by, sizeof(e.by), "%s", by ? by : "");
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	return store_audit_append(t, &e);
}

struct make_ctx {
	const char *student, *relation;
	char code[INVITE_CODE_LEN + 1];
	store_invite *v;
};

static int make_fn(store_txn *t, void *arg)
{
	struct make_ctx *c = arg;
	store_student s;
	store_invite old;
	char detail[128];
	int r, tries;

	if ((r = student_get(t, c->student, &s)) != 0)
		return r;
	/* An id is never given twice: a list or the audit log names one invitation. */
	for (tries = 0; tries < MAKE_TRIES; tries++) {
		for (size_t i = 0; i < INVITE_CODE_LEN; i++)
			c->code[i] = INVITE_ALPHABET[randombytes_uniform((uint32_t)ALPHABET_N)];
		c->code[INVITE_CODE_LEN] = 0;
		memcpy(old.id, c->code, STORE_INVITE_ID);
		old.id[STORE_INVITE_ID] = 0;
		if ((r = store_invite_get(t, old.id, &old)) == BATON_ENOTFOUND)
			break;
		if (r != 0)
			return r;
	}
	if (tries == MAKE_TRIES)
		return bti_diag_err(BATON_EIO, "no free invitation id found: too many invitations");
	bti_diag_clear();
	memset(c->v, 0, sizeof(*c->v));
	memcpy(c->v->id, c->code, STORE_INVITE_ID);
	code_hash(c->code, c->v->hash);
	snprintf(c->v->student, sizeof(c->v->student), "%s", c->student);
	snprintf(c->v->relation, sizeof(c->v->relation), "%s", c->relation);
	snprintf(c->v->by, sizeof(c->v->by), "%s", store_actor());
	c->v->created = t->now;
	c->v->expires = t->now + INVITE_TTL;
	c->v->state = INVITE_OPEN;
	if ((r = store_invite_put(t, c->v)) != 0)
		return r;
	snprintf(detail, sizeof(detail), "invitation %s, %s", c->v->id, c->relation);
	return audit(t, "guardian-invite", c->student, NULL, detail);
}

int invite_make(store *st, const char *student, const char *relation,
                char code_text[INVITE_CODE_TEXT], store_invite *v)
{
	struct make_ctx c = {.student = student, .relation = relation, .v = v};
	int r;
	code_text[0] = 0;
	if ((r = relation_check(relation)) != 0)
		return r;
	if ((r = store_write(st, make_fn, &c)) == 0)
		code_format(c.code, code_text);
	sodium_memzero(c.code, sizeof(c.code));
	return r;
}

static int expired(const store_invite *v, uint64_t now)
{
	return v->state == INVITE_OPEN && now >= v->expires;
}

json_t *invite_json(const store_invite *v, uint64_t now)
{
	char line[BATON_PUBKEY_TEXT_MAX], fpr[BATON_FINGERPRINT_LEN + 1];
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:s}", "id", v->id, "student",
	                      v->student, "relation", v->relation, "state",
	                      expired(v, now) ? "expired" : store_invite_state_name(v->state),
	                      "created", (json_int_t)v->created, "expires", (json_int_t)v->expires,
	                      "wrong", (int)v->wrong, "by", v->by);
	if (o && v->has_pk) {
		baton_pubkey_format(BATON_PUBKEY_GUARDIAN, v->pk, line);
		baton_fingerprint(v->pk, fpr);
		if (json_object_set_new(o, "key", json_string(line)) != 0 ||
		    json_object_set_new(o, "fingerprint", json_string(fpr)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

struct list_ctx {
	const char *student;
	uint64_t now;
	json_t *arr;
};

static int list_cb(const store_invite *v, void *arg)
{
	struct list_ctx *c = arg;
	if (c->student && strcmp(c->student, v->student) != 0)
		return 0;
	return json_array_append_new(c->arr, invite_json(v, c->now)) != 0
	           ? bti_diag_err(BATON_ENOMEM, "out of memory")
	           : 0;
}

static int list_fn(store_txn *t, void *arg)
{
	struct list_ctx *c = arg;
	store_student s;
	int r;
	c->now = t->now;
	if (c->student && (r = student_get(t, c->student, &s)) != 0)
		return r;
	return store_invite_each(t, list_cb, c);
}

static int newest_first(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "created"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "created"));
	if (x != y)
		return x < y ? 1 : -1;
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "id")),
	              json_string_value(json_object_get(*(json_t *const *)b, "id")));
}

int invite_list(store *st, const char *student, json_t **out)
{
	struct list_ctx c = {student, 0, json_array()};
	json_t **items, *sorted;
	size_t n, i;
	int r;
	*out = NULL;
	if (c.arr == NULL)
		return bti_diag_err(BATON_ENOMEM, "out of memory");
	if ((r = store_read(st, list_fn, &c)) != 0) {
		json_decref(c.arr);
		return r;
	}
	n = json_array_size(c.arr);
	if ((items = calloc(n ? n : 1, sizeof(*items))) == NULL ||
	    (sorted = json_array()) == NULL) {
		free(items);
		json_decref(c.arr);
		return bti_diag_err(BATON_ENOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		items[i] = json_array_get(c.arr, i);
	qsort(items, n, sizeof(*items), newest_first);
	for (i = 0; i < n && r == 0; i++)
		if (json_array_append(sorted, items[i]) != 0)
			r = bti_diag_err(BATON_ENOMEM, "out of memory");
	free(items);
	json_decref(c.arr);
	if (r != 0) {
		json_decref(sorted);
		return r;
	}
	*out = sorted;
	return 0;
}

struct claim_ctx {
	char code[INVITE_CODE_LEN + 1];
	uint8_t pk[BATON_PK_BYTES];
	struct invite_claimed *out;
	int wrong; /* a wrong secret was counted: the commit stands, the answer is no */
};

static int claim_fn(store_txn *t, void *arg)
{
	struct claim_ctx *c = arg;
	store_invite v;
	store_student s;
	uint8_t hash[32];
	char id[STORE_INVITE_ID + 1], detail[160];
	int r;

	c->wrong = 0;
	memcpy(id, c->code, STORE_INVITE_ID);
	id[STORE_INVITE_ID] = 0;
	if ((r = store_invite_get(t, id, &v)) == BATON_ENOTFOUND)
		return bti_diag_err(BATON_ENOTFOUND, INVITE_NO_CODE);
	if (r != 0)
		return r;
	if (v.state != INVITE_OPEN || expired(&v, t->now))
		return bti_diag_err(BATON_ENOTFOUND, INVITE_NO_CODE);
	code_hash(c->code, hash);
	if (sodium_memcmp(hash, v.hash, sizeof(hash)) != 0) {
		/* The one write for a party not yet known: the count that ends guessing. */
		v.wrong++;
		if (v.wrong >= INVITE_TRIES)
			v.state = INVITE_BURNED;
		c->wrong = 1;
		return store_invite_put(t, &v);
	}
	if ((r = student_get(t, v.student, &s)) != 0)
		return r;
	v.state = INVITE_CLAIMED;
	memcpy(v.pk, c->pk, BATON_PK_BYTES);
	v.has_pk = 1;
	if ((r = store_invite_put(t, &v)) != 0)
		return r;
	memset(c->out, 0, sizeof(*c->out));
	memcpy(c->out->id, v.id, sizeof(c->out->id));
	snprintf(c->out->student, sizeof(c->out->student), "%s", v.student);
	snprintf(c->out->given_name, sizeof(c->out->given_name), "%s", s.given_name);
	snprintf(c->out->relation, sizeof(c->out->relation), "%s", v.relation);
	baton_fingerprint(c->pk, c->out->fingerprint);
	snprintf(detail, sizeof(detail), "invitation %s, %s key %s", v.id, v.relation,
	         c->out->fingerprint);
	return audit(t, "guardian-enrol", v.student, "family", detail);
}

int invite_claim(store *st, const char *code_text, const char *key_line, struct invite_claimed *out)
{
	struct claim_ctx c = {.out = out};
	int r;
	memset(out, 0, sizeof(*out));
	if ((r = invite_code_parse("code", code_text, c.code)) != 0 ||
	    (r = guardian_key_parse("key", key_line, c.pk)) != 0)
		goto done;
	r = store_write(st, claim_fn, &c);
	if (r == 0 && c.wrong)
		r = bti_diag_err(BATON_ENOTFOUND, INVITE_NO_CODE);
done:
	sodium_memzero(c.code, sizeof(c.code));
	return r;
}

struct get_ctx {
	store_invite *v;
	store_student *s;
};

static int get_fn(store_txn *t, void *arg)
{
	struct get_ctx *c = arg;
	char id[STORE_INVITE_ID + 1];
	int r;
	memcpy(id, c->v->id, sizeof(id));
	if ((r = store_invite_get(t, id, c->v)) != 0)
		return r;
	r = store_student_get(t, c->v->student, c->s);
	return r == BATON_ENOTFOUND ? 0 : r;
}

/* The id as a person may type it: upper-cased, at most STORE_INVITE_ID characters kept. */
static int id_of(const char *text, char id[STORE_INVITE_ID + 1])
{
	size_t n = text ? strlen(text) : 0;
	if (n != STORE_INVITE_ID)
		return bti_diag_err(BATON_ENOTFOUND,
		                    "no invitation \"%.16s\" (an id is %d characters)",
		                    text ? text : "", STORE_INVITE_ID);
	for (size_t i = 0; i < n; i++)
		id[i] = (char)toupper((unsigned char)text[i]);
	id[n] = 0;
	return 0;
}

int invite_get(store *st, const char *id, store_invite *v, store_student *s)
{
	struct get_ctx c = {v, s};
	int r;
	memset(v, 0, sizeof(*v));
	memset(s, 0, sizeof(*s));
	if ((r = id_of(id, v->id)) != 0)
		return r;
	return store_read(st, get_fn, &c);
}

struct change_ctx {
	store_invite *v;
	const char *id;
};

static int confirm_fn(store_txn *t, void *arg)
{
	struct change_ctx *c = arg;
	store_guardian g;
	int r;
	if ((r = store_invite_get(t, c->id, c->v)) != 0)
		return r;
	if (c->v->state != INVITE_CLAIMED || !c->v->has_pk)
		return bti_diag_err(
		    BATON_EVALUE, "invitation %s is %s: only a claimed invitation is confirmed",
		    c->v->id,
		    expired(c->v, t->now) ? "expired" : store_invite_state_name(c->v->state));
	memset(&g, 0, sizeof(g));
	memcpy(g.pk, c->v->pk, BATON_PK_BYTES);
	snprintf(g.relation, sizeof(g.relation), "%s", c->v->relation);
	if ((r = guardian_link_txn(t, c->v->student, &g)) != 0)
		return r;
	c->v->state = INVITE_LINKED;
	return store_invite_put(t, c->v);
}

static int cancel_fn(store_txn *t, void *arg)
{
	struct change_ctx *c = arg;
	char detail[64];
	int r;
	if ((r = store_invite_get(t, c->id, c->v)) != 0)
		return r;
	if (c->v->state != INVITE_OPEN && c->v->state != INVITE_CLAIMED)
		return bti_diag_err(BATON_EVALUE, "invitation %s is %s already", c->v->id,
		                    store_invite_state_name(c->v->state));
	c->v->state = INVITE_CANCELLED;
	if ((r = store_invite_put(t, c->v)) != 0)
		return r;
	snprintf(detail, sizeof(detail), "invitation %s", c->v->id);
	return audit(t, "guardian-invite-cancel", c->v->student, NULL, detail);
}

static int change(store *st, const char *id, store_invite *v, store_fn fn)
{
	char key[STORE_INVITE_ID + 1];
	struct change_ctx c = {v, key};
	int r;
	memset(v, 0, sizeof(*v));
	if ((r = id_of(id, key)) != 0)
		return r;
	return store_write(st, fn, &c);
}

int invite_confirm(store *st, const char *id, store_invite *v)
{
	return change(st, id, v, confirm_fn);
}

int invite_cancel(store *st, const char *id, store_invite *v)
{
	return change(st, id, v, cancel_fn);
}

int invite_qr(const char *text, json_t **out)
{
	QRcode *q;
	json_t *rows;
	char *line;
	int n, r = 0;

	*out = NULL;
	errno = 0;
	if ((q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL)
		return errno == ERANGE ? bti_diag_err(BATON_EVALUE, "too long for a QR code")
		                       : bti_diag_err(BATON_ENOMEM, "cannot make a QR code");
	n = q->width;
	rows = json_array();
	line = malloc((size_t)n + 1);
	for (int y = 0; rows && line && y < n && r == 0; y++) {
		for (int x = 0; x < n; x++)
			line[x] = (q->data[y * n + x] & 1) ? '1' : '0';
		line[n] = 0;
		if (json_array_append_new(rows, json_string(line)) != 0)
			r = BATON_ENOMEM;
	}
	if (!rows || !line)
		r = BATON_ENOMEM;
	if (line)
		sodium_memzero(line, (size_t)n + 1);
	free(line);
	QRcode_free(q);
	if (r != 0) {
		json_decref(rows);
		return bti_diag_err(BATON_ENOMEM, "cannot make a QR code");
	}
	*out = rows;
	return 0;
}

/* The audit log, read (view_audit.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "view_audit.h"

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char buf[2 * 32 + 1];
	return json_string(sodium_bin2hex(buf, sizeof(buf), p, n));
}

json_t *audit_entry_json(const store_audit *e)
{
	char secs[160] = "";
	json_t *j =
	    json_pack("{s:I, s:I, s:s, s:o}", "seq", (json_int_t)e->seq, "time",
	              (json_int_t)e->time, "action", e->action, "hash", hex_json(e->hash, 32));
	if (j == NULL)
		return NULL;
	if (e->sections)
		baton_sections_format(e->sections, secs, sizeof(secs));
	if (e->student[0])
		json_object_set_new(j, "student", json_string(e->student));
	if (e->peer[0])
		json_object_set_new(j, "peer", json_string(e->peer));
	if (e->has_consent)
		json_object_set_new(j, "consent", hex_json(e->consent, 16));
	if (e->has_packet)
		json_object_set_new(j, "packet", hex_json(e->packet, 16));
	if (e->sections)
		json_object_set_new(j, "sections", json_string(secs));
	if (e->detail[0])
		json_object_set_new(j, "detail", json_string(e->detail));
	if (e->by[0])
		json_object_set_new(j, "by", json_string(e->by));
	if (store_audit_basis(e)[0])
		json_object_set_new(j, "basis", json_string(store_audit_basis(e)));
	return j;
}

/* The newest matches so far, in a ring of f->limit, and whether older ones were passed over. */
struct page_ctx {
	const struct audit_filter *f;
	store_audit *ring;
	size_t n, next;
	int more;
};

static int matches(const struct audit_filter *f, const store_audit *e)
{
	return (!f->before || e->seq < f->before) &&
	       (!f->action || strcmp(e->action, f->action) == 0) &&
	       (!f->by || strcmp(e->by, f->by) == 0) && (!f->from || e->time >= f->from) &&
	       (!f->to || e->time <= f->to);
}

static int page_one(const store_audit *e, void *arg)
{
	struct page_ctx *c = arg;
	if (!matches(c->f, e))
		return 0;
	if (c->n == c->f->limit)
		c->more = 1;
	else
		c->n++;
	c->ring[c->next] = *e;
	c->next = (c->next + 1) % c->f->limit;
	return 0;
}

static int page_fn(store_txn *t, void *arg)
{
	struct page_ctx *c = arg;
	return store_audit_each(t, c->f->student, page_one, c);
}

/* The ring, newest first, as the answer. */
static json_t *page_json(const struct page_ctx *c)
{
	json_t *arr = json_array(), *o;
	for (size_t i = 0; arr && i < c->n; i++) {
		size_t at = (c->next + c->f->limit - 1 - i) % c->f->limit;
		if (json_array_append_new(arr, audit_entry_json(&c->ring[at])) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	o = json_pack("{s:o, s:b}", "entries", arr, "more", c->more);
	if (o && c->more && c->n)
		json_object_set_new(o, "next_before",
		                    json_integer((json_int_t)c->ring[c->next % c->f->limit].seq));
	return o;
}

int audit_page(store *st, const struct audit_filter *f, json_t **out)
{
	struct audit_filter g = *f;
	struct page_ctx c = {&g, NULL, 0, 0, 0};
	int r;

	*out = NULL;
	if (g.limit > AUDIT_PAGE_MAX)
		return bti_diag_err(BATON_EVALUE, "limit: at most %d entries a page",
		                    AUDIT_PAGE_MAX);
	if (g.limit == 0)
		g.limit = AUDIT_PAGE_MAX;
	if ((c.ring = calloc(g.limit, sizeof(*c.ring))) == NULL)
		return BATON_ENOMEM;
	if ((r = store_read(st, page_fn, &c)) == 0 && (*out = page_json(&c)) == NULL)
		r = BATON_ENOMEM;
	free(c.ring);
	return r;
}

struct verify_ctx {
	struct audit_verified *v;
	const uint8_t *against;
	size_t len;
};

static int verify_fn(store_txn *t, void *arg)
{
	struct verify_ctx *c = arg;
	struct audit_verified *v = c->v;
	int r;
	if ((r = store_audit_verify(t, &v->bad, &v->count)) != 0 ||
	    (r = store_audit_verify_heads(t, v->count, &v->heads, &v->bad)) != 0)
		return r;
	if (c->against &&
	    (r = store_audit_check_head(t, c->against, c->len, v->count, &v->held_at)) != 0) {
		v->against_failed = 1;
		v->bad = v->held_at;
	}
	return r;
}

int audit_verify(store *st, const uint8_t *against, size_t len, struct audit_verified *v)
{
	struct verify_ctx c = {v, against, len};
	memset(v, 0, sizeof(*v));
	return store_read(st, verify_fn, &c);
}

int audit_verify_failed(const struct audit_verified *v, int r)
{
	return r == BATON_EHASH || r == BATON_EBADSIG || (r != 0 && v->against_failed);
}

json_t *audit_verify_json(const struct audit_verified *v, const char *against, int r)
{
	char fp[BATON_FINGERPRINT_LEN + 1] = "";
	json_t *o;
	if (v->heads.signed_through > 0)
		baton_fingerprint(v->heads.key, fp);
	o = json_pack("{s:b, s:I, s:I, s:I}", "verified", r == 0, "entries", (json_int_t)v->count,
	              "signed_through", (json_int_t)v->heads.signed_through, "heads",
	              (json_int_t)v->heads.heads);
	if (o == NULL)
		return NULL;
	if (fp[0])
		json_object_set_new(o, "signer", json_string(fp));
	if (r == 0 && v->count > v->heads.signed_through)
		json_object_set_new(o, "unsigned_from",
		                    json_integer((json_int_t)v->heads.signed_through + 1));
	if (against) {
		json_object_set_new(o, "against", json_string(against));
		json_object_set_new(o, "against_entry", json_integer((json_int_t)v->held_at));
	}
	if (r != 0 && v->bad)
		json_object_set_new(o, "failed_at", json_integer((json_int_t)v->bad));
	if (r != 0)
		json_object_set_new(o, "error", json_string(baton_diag()));
	return o;
}

void audit_verify_words(const struct audit_verified *v, int r, char *buf, size_t cap)
{
	char fp[BATON_FINGERPRINT_LEN + 1] = "";
	unsigned long long n = v->count, s = v->heads.signed_through;
	if (r != 0 && v->bad)
		snprintf(buf, cap, "The log is BROKEN at entry %llu: %s",
		         (unsigned long long)v->bad, baton_diag());
	else if (r != 0)
		snprintf(buf, cap, "The log could not be verified: %s", baton_diag());
	else if (s > 0 && n == s) {
		baton_fingerprint(v->heads.key, fp);
		snprintf(buf, cap,
		         "The log is intact: %llu entries, the hash chain unbroken and every entry "
		         "signed (the latest head by %s).",
		         n, fp);
	} else if (n == 0)
		snprintf(buf, cap, "The log is empty.");
	else
		snprintf(buf, cap,
		         "The hash chain of the log's %llu entries is unbroken, but entries "
		         "%llu..%llu are not signed yet (serve signs them).",
		         n, s + 1, n);
}

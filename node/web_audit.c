/*
 * The console's API: audit (web_api.h). The log as 'baton audit' reads it
 * (view_audit.h): a filtered page, newest first, and its verification.
 */
#include <errno.h>
#include <stdlib.h>

#include "bti.h"
#include "view_audit.h"
#include "web_api.h"

/* Query parameter name as a whole number into *v (left alone when absent). */
static int query_num(const struct web_call *call, const char *name, uint64_t *v)
{
	const char *s = web_query(call, name);
	char *end;
	unsigned long long n;
	if (s == NULL || *s == 0)
		return 0;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno)
		return bti_diag_err(BATON_EVALUE, "%s: a whole number is required, not \"%.32s\"",
		                    name, s);
	*v = n;
	return 0;
}

/* An empty parameter is no filter: a form sends every field. */
static const char *query_str(const struct web_call *call, const char *name)
{
	const char *s = web_query(call, name);
	return s && *s ? s : NULL;
}

static int audit_get(struct web_call *call)
{
	struct audit_filter f = {0};
	uint64_t limit = 100;
	json_t *o;
	int r;
	f.student = query_str(call, "student");
	f.action = query_str(call, "action");
	f.by = query_str(call, "by");
	if ((r = query_num(call, "from", &f.from)) != 0 ||
	    (r = query_num(call, "to", &f.to)) != 0 ||
	    (r = query_num(call, "before", &f.before)) != 0 ||
	    (r = query_num(call, "limit", &limit)) != 0)
		return r;
	if (limit == 0 || limit > AUDIT_PAGE_MAX)
		return bti_diag_err(BATON_EVALUE, "limit: 1 to %d entries a page", AUDIT_PAGE_MAX);
	if (f.from && f.to && f.from > f.to)
		return bti_diag_err(BATON_EVALUE, "from: after to");
	f.limit = (size_t)limit;
	if ((r = audit_page(call->st, &f, &o)) != 0)
		return r;
	return web_ok(call, o);
}

static int audit_verify_post(struct web_call *call)
{
	struct audit_verified v;
	char words[1024];
	int r = audit_verify(call->st, NULL, 0, &v);
	json_t *o;
	if (r != 0 && !audit_verify_failed(&v, r))
		return r;
	audit_verify_words(&v, r, words, sizeof(words));
	if ((o = audit_verify_json(&v, NULL, r)) != NULL)
		json_object_set_new(o, "message", json_string(words));
	return web_ok(call, o);
}

const struct web_route web_routes_audit[] = {
    {"GET", "audit", 0, audit_get},
    {"POST", "audit/verify", 0, audit_verify_post},
    {NULL, NULL, 0, NULL},
};

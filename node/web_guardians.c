/*
 * The console's API: guardians (web_api.h). A parent's key line is first
 * checked (its fingerprint read back to the parent, nothing stored), then
 * linked to a student through guardian.h, as baton guardian link does.
 */
#include <string.h>

#include "bti.h"
#include "guardian.h"
#include "log.h"
#include "web_api.h"
#include "web_impl.h"

static int guardians_list(struct web_call *call)
{
	json_t *arr;
	int r;
	if ((r = guardian_list(call->st, call->arg[0], &arr)) != 0)
		return r;
	return web_ok(call, json_pack("{s:s, s:o}", "student", call->arg[0], "guardians", arr));
}

static int guardians_check(struct web_call *call)
{
	uint8_t pk[BATON_PK_BYTES];
	char line[BATON_PUBKEY_TEXT_MAX], fpr[BATON_FINGERPRINT_LEN + 1];
	int r;
	if ((r = guardian_key_parse("key", web_body_str(call, "key"), pk)) != 0)
		return r;
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, pk, line);
	baton_fingerprint(pk, fpr);
	return web_ok(call, json_pack("{s:s, s:s}", "key", line, "fingerprint", fpr));
}

/* The link the body asks for: key, relation (default guardian), restricted. */
static int link_body(const struct web_call *call, store_guardian *g)
{
	const char *rel = web_body_str(call, "relation");
	json_t *res = call->body ? json_object_get(call->body, "restricted") : NULL;
	int r;

	memset(g, 0, sizeof(*g));
	if ((r = guardian_key_parse("key", web_body_str(call, "key"), g->pk)) != 0)
		return r;
	if (call->body && json_object_get(call->body, "relation") && !rel)
		return bti_diag_err(BATON_EVALUE, "relation: text is required (mother, father, "
		                                  "guardian, self)");
	if (rel && !guardian_relation_valid(rel))
		return bti_diag_err(
		    BATON_EVALUE,
		    "relation: \"%.40s\": use a short lower-case word (mother, father, "
		    "guardian, self)",
		    rel);
	snprintf(g->relation, sizeof(g->relation), "%s", rel ? rel : "guardian");
	if (res && !json_is_boolean(res))
		return bti_diag_err(BATON_EVALUE, "restricted: true or false");
	g->restricted = json_is_true(res);
	return 0;
}

static int guardians_link(struct web_call *call)
{
	store_guardian g;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	json_t *o;
	int r;

	if ((r = link_body(call, &g)) != 0 || (r = guardian_link(call->st, call->arg[0], &g)) != 0)
		return r;
	baton_fingerprint(g.pk, fpr);
	node_log(NODE_LOG_INFO, "web: %s linked a guardian key %s", call->s->user, fpr);
	if ((o = guardian_json(&g)) != NULL)
		json_object_set_new(o, "student", json_string(call->arg[0]));
	call->status = 201;
	return web_ok(call, o);
}

static int guardians_unlink(struct web_call *call)
{
	uint8_t pk[BATON_PK_BYTES];
	char fpr[BATON_FINGERPRINT_LEN + 1];
	int r;

	if ((r = guardian_find(call->st, call->arg[0], call->arg[1], pk)) != 0 ||
	    (r = guardian_unlink(call->st, call->arg[0], pk)) != 0)
		return r;
	baton_fingerprint(pk, fpr);
	node_log(NODE_LOG_INFO, "web: %s unlinked a guardian key %s", call->s->user, fpr);
	return web_ok(call, json_pack("{s:s, s:s, s:b}", "student", call->arg[0], "fingerprint",
	                              fpr, "unlinked", 1));
}

const struct web_route web_routes_guardians[] = {
    {"GET", "students/*/guardians", 0, guardians_list},
    {"POST", "students/*/guardians", 0, guardians_link},
    {"DELETE", "students/*/guardians/*", 0, guardians_unlink},
    {"POST", "guardians/check", 0, guardians_check},
    {NULL, NULL, 0, NULL},
};

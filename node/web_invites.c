/*
 * The console's API: invitations (web_api.h), for the registrar; and the
 * family's enrolment, the one route here open without a session. Each
 * handler calls invite.h, as baton guardian invite, invites, confirm and
 * cancel do. An invitation's code is in one answer only, the one to the
 * registrar who made it: never in a log.
 */
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>
#include <sodium.h>

#include "bti.h"
#include "invite.h"
#include "log.h"
#include "web.h"
#include "web_api.h"
#include "web_impl.h"

/* 1 when the connection came over TLS, else 0. */
static int over_tls(const struct web_call *call)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(call->c, MHD_CONNECTION_INFO_DAEMON);
	const union MHD_DaemonInfo *di =
	    ci ? MHD_get_daemon_info(ci->daemon, MHD_DAEMON_INFO_FLAGS) : NULL;
	return di && (di->flags & MHD_USE_TLS);
}

/*
 * The base of an invitation's URL: the public URL of web.conf when set,
 * else the origin the registrar's browser sees (https when this server runs
 * TLS, and the Host header). BATON_EVALUE naming Host when it does not read.
 */
static int origin_base(const struct web_call *call, char *base, size_t cap)
{
	struct web_conf wc;
	const char *host = MHD_lookup_connection_value(call->c, MHD_HEADER_KIND, "Host");
	if (web_conf_read(serve_dir(call->nd), &wc) == 0 && wc.url[0]) {
		snprintf(base, cap, "%s", wc.url);
		return 0;
	}
	if (!host || !host[0] || strlen(host) > 255 ||
	    strcspn(host, "/?#@\\ \t\r\n\"<>") != strlen(host))
		return bti_diag_err(BATON_EVALUE, "Host: not a host the invitation's URL can name");
	snprintf(base, cap, "%s://%s", over_tls(call) ? "https" : "http", host);
	return 0;
}

static int invites_make(struct web_call *call)
{
	const char *rel = web_body_str(call, "relation");
	char base[INVITE_URL_MAX], url[INVITE_URL_MAX], code[INVITE_CODE_TEXT];
	store_invite v;
	json_t *qr = NULL, *o;
	int r;

	if (!rel)
		return bti_diag_err(BATON_EVALUE,
		                    "relation: text is required (mother, father, guardian, self)");
	if (!invite_relation_valid(rel))
		return bti_diag_err(
		    BATON_EVALUE, "relation: \"%.40s\": use mother, father, guardian or self", rel);
	if ((r = origin_base(call, base, sizeof(base))) != 0 ||
	    (r = invite_url(base, "XXXX-XXXX-XXXX", url)) != 0)
		return r;
	if ((r = invite_make(call->st, call->arg[0], rel, code, &v)) != 0)
		return r;
	if ((r = invite_url(base, code, url)) == 0)
		r = invite_qr(url, &qr);
	if (r == 0) {
		o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:o}", "id", v.id, "code", code,
		              "url", url, "student", v.student, "relation", v.relation, "expires",
		              (json_int_t)v.expires, "qr", qr);
		node_log(NODE_LOG_INFO, "web: %s made invitation %s", call->s->user, v.id);
		call->status = 201;
		r = web_ok(call, o);
	}
	sodium_memzero(code, sizeof(code));
	sodium_memzero(url, sizeof(url));
	return r;
}

static int invites_list(struct web_call *call)
{
	json_t *arr;
	int r;
	if ((r = invite_list(call->st, web_query(call, "student"), &arr)) != 0)
		return r;
	return web_ok(call, arr);
}

static int invites_confirm(struct web_call *call)
{
	store_invite v;
	json_t *o;
	int r;
	if ((r = invite_confirm(call->st, call->arg[0], &v)) != 0)
		return r;
	o = invite_json(&v, 0);
	node_log(NODE_LOG_INFO, "web: %s confirmed invitation %s: its key is linked", call->s->user,
	         v.id);
	return web_ok(call, o);
}

static int invites_cancel(struct web_call *call)
{
	store_invite v;
	int r;
	if ((r = invite_cancel(call->st, call->arg[0], &v)) != 0)
		return r;
	node_log(NODE_LOG_INFO, "web: %s cancelled invitation %s", call->s->user, v.id);
	return web_ok(call, invite_json(&v, 0));
}

static int own_card_fn(store_txn *t, void *arg)
{
	return store_own_card(t, arg);
}

static int invites_enrol(struct web_call *call)
{
	struct invite_claimed got;
	baton_card card;
	char fp[BATON_FINGERPRINT_LEN + 1];
	json_t *school;
	int r;

	if (!call->body || !json_is_object(call->body))
		return bti_diag_err(BATON_EVALUE,
		                    "body: a JSON object {\"code\", \"key\"} is required");
	if (json_object_get(call->body, "code") && !web_body_str(call, "code"))
		return bti_diag_err(BATON_EVALUE, "code: text is required");
	if ((r = invite_claim(call->st, web_body_str(call, "code"), web_body_str(call, "key"),
	                      &got)) != 0)
		return r;
	if ((r = store_read(call->st, own_card_fn, &card)) != 0)
		return r;
	baton_fingerprint(card.id_pk, fp);
	school =
	    json_pack("{s:s, s:s, s:s}", "name", card.name, "code", card.code, "fingerprint", fp);
	node_log(NODE_LOG_INFO,
	         "web: a key enrolled with invitation %s, for the registrar to confirm", got.id);
	return web_ok(call, json_pack("{s:s, s:s, s:s, s:{s:s}, s:o}", "state", "claimed",
	                              "fingerprint", got.fingerprint, "relation", got.relation,
	                              "student", "given_name", got.given_name, "school", school));
}

const struct web_route web_routes_invites[] = {
    {"POST", "students/*/invites", 0, invites_make},
    {"GET", "invites", 0, invites_list},
    {"POST", "invites/*/confirm", 0, invites_confirm},
    {"DELETE", "invites/*", 0, invites_cancel},
    {NULL, NULL, 0, NULL},
};

const struct web_route web_routes_enrol[] = {
    {"POST", "family/enrol", WEB_ROUTE_OPEN, invites_enrol},
    {NULL, NULL, 0, NULL},
};

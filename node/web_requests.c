/*
 * The console's API: requests from other schools, released or denied by
 * the registrar, and the admin's release policy (web_api.h). The same node
 * functions as 'baton requests', 'release', 'deny' and 'policy'.
 */
#include <stdlib.h>
#include <string.h>

#include <baton/record.h>

#include "enrolment.h"
#include "bti.h"
#include "log.h"
#include "transfer.h"
#include "view_transfers.h"
#include "web_api.h"
#include "web_impl.h"

#define SKEW 300 /* seconds of clock difference a consent's dates allow, as 'baton release' */

/* GET requests: held and answered, as 'baton requests --all --json'. */
static int requests_list(struct web_call *call)
{
	json_t *arr = NULL;
	int r = view_requests(call->st, 1, &arr);
	return r ? r : web_ok(call, arr);
}

/* POST requests/ID/release: the record goes to the school that asked. */
static int request_release(struct web_call *call)
{
	uint8_t id[BATON_ID_BYTES];
	char hex[2 * BATON_ID_BYTES + 1], pk[2 * BATON_ID_BYTES + 1], secs[200];
	struct send_req s;
	int r;

	memset(&s, 0, sizeof(s));
	if ((r = web_id("request", call->arg[0], id, BATON_ID_BYTES)) != 0)
		return r;
	s.key = web_key(call);
	s.node_dir = serve_dir(call->nd);
	s.now = serve_now();
	s.skew = SKEW;
	if ((r = transfer_release(call->st, id, &s)) != 0)
		return r;
	serve_hex(id, BATON_ID_BYTES, hex);
	/* A rule's refusal is audited and committed; the request stays held. */
	if (s.refused)
		return bti_diag_err(s.refused == BATON_EEXIST ? BATON_EVALUE : s.refused,
		                    "release refused: %s",
		                    s.why[0] ? s.why : baton_strerror(s.refused));
	node_log(NODE_LOG_INFO, "web: %s released request %s", call->s->user, hex);
	baton_sections_format(s.release, secs, sizeof(secs));
	return web_ok(call,
	              json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "request", hex, "state",
	                        "released", "packet", serve_hex(s.info.id, BATON_ID_BYTES, pk),
	                        "student", s.student, "to", s.to_code, "sections", secs));
}

/* POST requests/ID/deny {"reason": "..."}: a signed refusal, queued for the school that asked. */
static int request_deny(struct web_call *call)
{
	const char *reason = web_body_str(call, "reason");
	uint8_t id[BATON_ID_BYTES], *receipt = NULL;
	char hex[2 * BATON_ID_BYTES + 1];
	size_t len = 0;
	int r;

	if ((r = web_id("request", call->arg[0], id, BATON_ID_BYTES)) != 0)
		return r;
	if (!reason || !reason[0] || strlen(reason) > BATON_NOTE_MAX)
		return bti_diag_err(BATON_EVALUE,
		                    "reason: say why the request is denied (1 to %d bytes)",
		                    BATON_NOTE_MAX);
	if ((r = transfer_deny(call->st, web_key(call), id, reason, serve_now(), &receipt, &len)) !=
	    0)
		return r;
	free(receipt); /* queued for delivery: the page has no use for the file */
	node_log(NODE_LOG_INFO, "web: %s denied request %s", call->s->user,
	         serve_hex(id, BATON_ID_BYTES, hex));
	return web_ok(call, json_pack("{s:s, s:s, s:s}", "request", hex, "state", "denied",
	                              "reason", reason));
}

static json_t *policy_json(int on)
{
	return json_pack("{s:b}", "auto_release", on);
}

/* GET policy/auto-release (admin). */
static int policy_get(struct web_call *call)
{
	int on = 0, r = transfer_policy_get(call->st, &on);
	return r ? r : web_ok(call, policy_json(on));
}

/* PUT policy/auto-release {"auto_release": true|false} (admin): audited. */
static int policy_put(struct web_call *call)
{
	json_t *v = call->body ? json_object_get(call->body, "auto_release") : NULL;
	int on, r;
	if (!json_is_boolean(v))
		return bti_diag_err(BATON_EVALUE, "auto_release: true or false is required");
	on = json_is_true(v);
	if ((r = transfer_policy_set(call->st, on)) != 0)
		return r;
	node_log(NODE_LOG_INFO, "web: %s set auto-release %s", call->s->user, on ? "on" : "off");
	return web_ok(call, policy_json(on));
}

static json_t *enrol_json(const struct enrol_policy *p)
{
	char secs[160] = "";
	if (p->sensitive)
		baton_sections_format(p->sensitive, secs, sizeof(secs));
	return json_pack("{s:b, s:s, s:s}", "on", p->on, "sensitive", secs, "notice", p->notice);
}

/* GET policy/enrolment-exception (admin): as 'baton policy enrolment-exception --json'. */
static int enrol_get(struct web_call *call)
{
	struct enrol_policy p;
	int r = enrolment_policy_get(call->st, &p);
	return r ? r : web_ok(call, enrol_json(&p));
}

/*
 * PUT policy/enrolment-exception {"on": bool, "notice"?: text, "sensitive"?:
 * "health,..." or ""} (admin): as 'baton policy enrolment-exception', audited.
 */
static int enrol_put(struct web_call *call)
{
	json_t *on = call->body ? json_object_get(call->body, "on") : NULL;
	json_t *notice = call->body ? json_object_get(call->body, "notice") : NULL;
	json_t *sens = call->body ? json_object_get(call->body, "sensitive") : NULL;
	struct enrol_policy p;
	uint32_t mask = 0;
	int r;
	if (!json_is_boolean(on))
		return bti_diag_err(BATON_EVALUE, "on: true or false is required");
	if (notice && !json_is_string(notice))
		return bti_diag_err(BATON_EVALUE, "notice: a string is required");
	if (sens && !json_is_string(sens))
		return bti_diag_err(BATON_EVALUE, "sensitive: a list of sections is required");
	if (sens && json_string_length(sens) > 0 &&
	    (r = baton_sections_parse(json_string_value(sens), &mask)) != 0)
		return bti_diag_err(r, "sensitive: %s", json_string_value(sens));
	if ((r = enrolment_policy_set(call->st, json_is_true(on), sens ? &mask : NULL,
	                              notice ? json_string_value(notice) : NULL,
	                              notice ? json_string_length(notice) : 0)) != 0 ||
	    (r = enrolment_policy_get(call->st, &p)) != 0)
		return r;
	node_log(NODE_LOG_INFO, "web: %s set the enrolment exception %s", call->s->user,
	         p.on ? "on" : "off");
	return web_ok(call, enrol_json(&p));
}

const struct web_route web_routes_requests[] = {
    {"GET", "requests", 0, requests_list},
    {"POST", "requests/*/release", 0, request_release},
    {"POST", "requests/*/deny", 0, request_deny},
    {"GET", "policy/auto-release", WEB_ROUTE_ADMIN, policy_get},
    {"PUT", "policy/auto-release", WEB_ROUTE_ADMIN, policy_put},
    {"GET", "policy/enrolment-exception", WEB_ROUTE_ADMIN, enrol_get},
    {"PUT", "policy/enrolment-exception", WEB_ROUTE_ADMIN, enrol_put},
    {NULL, NULL, 0, NULL},
};

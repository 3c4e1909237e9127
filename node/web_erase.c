/*
 * The retention policy in the console (erase.h): the period, and the
 * received records never enrolled that are past it, as the dry run of
 * 'baton student erase --expired' lists them. Erasing rewrites the store,
 * which 'baton serve' holds open: it is done with the command, serve
 * stopped, never from here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bti.h"
#include "erase.h"
#include "log.h"
#include "serve.h"
#include "web_api.h"
#include "web_impl.h"

static int due_json(const struct erase_due *d, void *ctx)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:s}", "student", d->student, "kind",
	                      d->held ? "held" : "student", "received", (json_int_t)d->received,
	                      "from", d->from);
	if (o == NULL)
		return BATON_ENOMEM;
	if (d->held)
		json_object_set_new(o, "held", json_integer((json_int_t)d->held));
	return json_array_append_new(ctx, o) == 0 ? 0 : BATON_ENOMEM;
}

static int retention_answer(struct web_call *call, uint32_t days)
{
	json_t *due = json_array();
	int r;
	if (due == NULL)
		return BATON_ENOMEM;
	if ((r = erase_due_each(call->st, serve_now(), days, due_json, due)) != 0) {
		json_decref(due);
		return r;
	}
	return web_ok(call,
	              json_pack("{s:I, s:o, s:s}", "days", (json_int_t)days, "due", due, "erase",
	                        "baton student erase --expired, with serve stopped"));
}

/* GET policy/retention (admin): the period and what is past it. */
static int retention_get(struct web_call *call)
{
	uint32_t days = 0;
	int r = erase_retention_get(call->st, &days);
	return r ? r : retention_answer(call, days);
}

/* PUT policy/retention {"days": N} (admin): audited. */
static int retention_put(struct web_call *call)
{
	json_t *v = call->body ? json_object_get(call->body, "days") : NULL;
	json_int_t days;
	int r;
	if (!json_is_integer(v) || (days = json_integer_value(v)) < 1 || days > ERASE_DAYS_MAX)
		return bti_diag_err(BATON_EVALUE,
		                    "days: a whole number of days from 1 to %d is "
		                    "required",
		                    ERASE_DAYS_MAX);
	if ((r = erase_retention_set(call->st, (uint32_t)days)) != 0)
		return r;
	node_log(NODE_LOG_INFO, "web: %s set retention to %u days", call->s->user, (unsigned)days);
	return retention_answer(call, (uint32_t)days);
}

const struct web_route web_routes_erase[] = {
    {"GET", "policy/retention", WEB_ROUTE_ADMIN, retention_get},
    {"PUT", "policy/retention", WEB_ROUTE_ADMIN, retention_put},
    {NULL, NULL, 0, NULL},
};

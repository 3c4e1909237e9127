/*
 * The console's API: review (web_api.h). Records held because they name a
 * student on file but are not that child, read and decided through
 * review.h, as baton review does.
 */
#include <string.h>

#include "bti.h"
#include "log.h"
#include "review.h"
#include "web_api.h"
#include "web_impl.h"

/* The review number in the path, or BATON_ENOTFOUND naming it. */
static int held_arg(const struct web_call *call, uint64_t *id)
{
	if (review_parse_id(call->arg[0], id) != 0)
		return bti_diag_err(BATON_ENOTFOUND,
		                    "no held record \"%s\": a review number is "
		                    "a whole number from 1",
		                    call->arg[0]);
	return 0;
}

static int review_get_list(struct web_call *call)
{
	json_t *arr;
	int r;
	if ((r = review_list(call->st, &arr)) != 0)
		return r;
	return web_ok(call, json_pack("{s:o}", "held", arr));
}

static int review_get_one(struct web_call *call)
{
	json_t *o;
	uint64_t id;
	int r;
	if ((r = held_arg(call, &id)) != 0 || (r = review_show(call->st, id, &o)) != 0)
		return r;
	return web_ok(call, o);
}

/* The answer to a decision: what the record is now filed as. */
static json_t *decision_json(const struct review_decision *d)
{
	json_t *o = json_pack("{s:I, s:s, s:s, s:b}", "id", (json_int_t)d->id, "decision",
	                      d->accept ? "accepted" : "rejected", "student", d->s.id,
	                      "new_student", d->new_student);
	if (o && d->accept)
		json_object_set_new(o, "version", json_integer(d->s.version));
	if (o && d->dropped_state)
		json_object_set_new(o, "state_id_stays_with", json_string(d->state_owner));
	return o;
}

static int decide(struct web_call *call, int accept)
{
	struct review_decision d;
	json_t *as = call->body ? json_object_get(call->body, "as") : NULL;
	int r;

	memset(&d, 0, sizeof(d));
	d.accept = accept;
	if ((r = held_arg(call, &d.id)) != 0)
		return r;
	if (accept && as && !json_is_null(as) &&
	    (!json_is_string(as) || json_string_value(as)[0] == '\0'))
		return bti_diag_err(BATON_EVALUE,
		                    "as: a student id (text) is required, or leave it "
		                    "out to accept as the student the record names");
	d.as = accept && json_is_string(as) ? json_string_value(as) : NULL;
	if (!accept && as)
		return bti_diag_err(BATON_EVALUE, "as: only an accepted record is filed as a "
		                                  "student; a rejected one is discarded");
	if ((r = review_decide(call->st, &d)) != 0)
		return r;
	node_log(NODE_LOG_INFO, "web: %s %s held record %llu", call->s->user,
	         accept ? "accepted" : "rejected", (unsigned long long)d.id);
	return web_ok(call, decision_json(&d));
}

static int review_accept(struct web_call *call)
{
	return decide(call, 1);
}

static int review_reject(struct web_call *call)
{
	return decide(call, 0);
}

const struct web_route web_routes_review[] = {
    {"GET", "review", 0, review_get_list},
    {"GET", "review/*", 0, review_get_one},
    {"POST", "review/*/accept", 0, review_accept},
    {"POST", "review/*/reject", 0, review_reject},
    {NULL, NULL, 0, NULL},
};

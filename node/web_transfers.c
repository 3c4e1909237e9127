/* The console's API: the inbox and the outbox (web_api.h). */
#include <string.h>

#include "bti.h"
#include "log.h"
#include "view_transfers.h"
#include "web_api.h"
#include "web_impl.h"

/* GET outbox: as 'baton outbox --json'. */
static int outbox_list(struct web_call *call)
{
	json_t *arr = NULL;
	int r = view_outbox(call->st, &arr);
	return r ? r : web_ok(call, arr);
}

/* GET inbox: as 'baton inbox --json'. */
static int inbox_list(struct web_call *call)
{
	json_t *arr = NULL;
	int r = view_inbox(call->st, &arr);
	return r ? r : web_ok(call, arr);
}

struct retry {
	uint8_t id[BATON_ID_BYTES];
	uint64_t now;
	store_outbox e;
};

static int retry_fn(store_txn *t, void *arg)
{
	struct retry *x = arg;
	return store_outbox_due_now(t, x->id, x->now, &x->e);
}

/*
 * POST outbox/ID/retry: a queued packet is tried at the outbox worker's
 * next look, however far its backoff had put it off.
 */
static int outbox_retry(struct web_call *call)
{
	struct retry x = {.now = serve_now()};
	char hex[2 * BATON_ID_BYTES + 1];
	int r;
	if ((r = web_id("packet", call->arg[0], x.id, BATON_ID_BYTES)) != 0 ||
	    (r = store_write(call->st, retry_fn, &x)) != 0)
		return r;
	node_log(NODE_LOG_INFO, "web: %s asked to retry packet %s now", call->s->user,
	         serve_hex(x.id, BATON_ID_BYTES, hex));
	return web_ok(call, json_pack("{s:s, s:s, s:s, s:i, s:I}", "packet", hex, "to", x.e.to,
	                              "state", "queued", "attempts", (int)x.e.attempts, "next_try",
	                              (json_int_t)x.e.next_try));
}

const struct web_route web_routes_transfers[] = {
    {"GET", "outbox", 0, outbox_list},
    {"GET", "inbox", 0, inbox_list},
    {"POST", "outbox/*/retry", 0, outbox_retry},
    {NULL, NULL, 0, NULL},
};

/* The console's API: what needs the registrar (web_api.h). */
#include "view_transfers.h"
#include "web_api.h"

/* GET home: counts and the first few of each kind of thing to do. */
static int home(struct web_call *call)
{
	json_t *o = NULL;
	int r = view_home(call->st, serve_now(), &o);
	return r ? r : web_ok(call, o);
}

const struct web_route web_routes_home[] = {
    {"GET", "home", 0, home},
    {NULL, NULL, 0, NULL},
};

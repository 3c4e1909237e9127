/*
 * The console's API: users (web_api.h), admin only. The same accounts and
 * functions as 'baton user' (users.h); a removed user's sessions end at
 * their next request (web_session_gone).
 */
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "users.h"
#include "web_api.h"
#include "web_impl.h"

static int users_get(struct web_call *call)
{
	json_t *arr;
	int r = users_list(call->st, &arr);
	return r ? r : web_ok(call, json_pack("{s:o}", "users", arr));
}

/*
 * The body's "password" into sodium_malloc memory (*pass; sodium_free), the
 * body's copy wiped: it is not kept anywhere else.
 */
static int body_pass(struct web_call *call, char **pass, size_t *plen)
{
	json_t *p = call->body ? json_object_get(call->body, "password") : NULL;
	const char *s = json_string_value(p);
	*pass = NULL;
	if (s == NULL)
		return bti_diag_err(BATON_EVALUE, "password: a string is required");
	*plen = json_string_length(p);
	if (*plen > USERS_PASS_MAX)
		return bti_diag_err(BATON_EVALUE, "password: at most %d characters",
		                    USERS_PASS_MAX);
	if ((*pass = sodium_malloc(*plen + 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(*pass, s, *plen + 1);
	sodium_memzero((char *)(uintptr_t)s, *plen);
	return 0;
}

static int users_post(struct web_call *call)
{
	const char *name = web_body_str(call, "name"), *role_s = web_body_str(call, "role");
	char *pass = NULL;
	size_t plen = 0;
	int role, r;
	if (name == NULL)
		return bti_diag_err(BATON_EVALUE, "name: a string is required");
	if (role_s == NULL)
		return bti_diag_err(BATON_EVALUE, "role: registrar or admin");
	if ((role = users_role(role_s)) < 0)
		return bti_diag_err(BATON_EVALUE, "role: registrar or admin, not \"%.32s\"",
		                    role_s);
	if ((r = body_pass(call, &pass, &plen)) == 0 &&
	    (r = users_add(call->st, name, role, pass, plen)) == 0) {
		call->status = 201;
		r = web_ok(call,
		           json_pack("{s:s, s:s}", "name", name, "role", users_role_name(role)));
	}
	if (pass)
		sodium_free(pass);
	return r;
}

static int users_delete(struct web_call *call)
{
	const char *name = call->arg[0];
	int r;
	/* The last admin could otherwise lock everyone out of the console. */
	if (strcmp(name, call->s->user) == 0)
		return bti_diag_err(BATON_EPERM,
		                    "%s: you cannot remove yourself while signed in; another "
		                    "admin can",
		                    name);
	if ((r = users_remove(call->st, name)) == BATON_ENOTFOUND)
		return bti_diag_err(r, "%s: no such user", name);
	return r ? r : web_ok(call, json_pack("{s:s, s:s}", "name", name, "result", "removed"));
}

static int users_password(struct web_call *call)
{
	const char *name = call->arg[0];
	char *pass = NULL;
	size_t plen = 0;
	int r;
	if ((r = body_pass(call, &pass, &plen)) == 0 &&
	    (r = users_passwd(call->st, name, pass, plen)) == BATON_ENOTFOUND)
		r = bti_diag_err(r, "%s: no such user", name);
	if (pass)
		sodium_free(pass);
	return r ? r
	         : web_ok(call,
	                  json_pack("{s:s, s:s}", "name", name, "result", "password changed"));
}

const struct web_route web_routes_users[] = {
    {"GET", "users", WEB_ROUTE_ADMIN, users_get},
    {"POST", "users", WEB_ROUTE_ADMIN, users_post},
    {"DELETE", "users/*", WEB_ROUTE_ADMIN, users_delete},
    {"POST", "users/*/password", WEB_ROUTE_ADMIN, users_password},
    {NULL, NULL, 0, NULL},
};

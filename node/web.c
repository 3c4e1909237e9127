/*
 * The web server (web.h): libmicrohttpd on a pool of its own threads, with
 * limits on connections (in all and per address), their memory and idle
 * time. Each request is answered with the same security headers; the API
 * speaks JSON, bounded and parsed with jansson. Store transactions here are
 * short: the packet listener's writer never waits on a browser.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>

#include "bti.h"
#include "family.h"
#include "guardian.h"
#include "log.h"
#include "users.h"
#include "web.h"
#include "web_addr.h"
#include "web_api.h"
#include "web_impl.h"

struct web_asset {
	const char *url, *type;
	const unsigned char *p;
	size_t n;
	const unsigned char *gz; /* the same bytes, gzip -9n */
	size_t gzn;
};
#include "web_assets.h"

#define WEB_THREADS     4
#define WEB_CONN_MAX    256
#define WEB_CONN_PER_IP 32
#define WEB_TIMEOUT     30 /* seconds a connection may be idle */
#define WEB_CONN_MEM    (64u << 10)
#define WEB_NICE        10 /* the console's threads run this much nicer than the listener's */
#define WEB_LOG_BURST   10 /* the web server's own messages logged a minute */

#define CSP                                                                                        \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "                \
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
/* The family's pages (/family/) run libsodium's WebAssembly: the console's CSP, and that. */
#define CSP_FAMILY                                                                                 \
	"default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "             \
	"img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "                \
	"frame-ancestors 'none'"
#define FAMILY_PAGES "/family/"

struct web {
	struct MHD_Daemon *d;
	store *st;
	struct serve_node *nd;
	char cookie[32];  /* the session cookie's name: WEB_COOKIE "_" PORT */
	char fcookie[32]; /* a family session's: WEB_FAMILY_COOKIE "_" PORT */
	int tls;
	char *cert, *key; /* PEM, kept while the daemon runs; key in sodium_malloc memory */
	struct web_state ws;
	struct web_conns conns;
};

/* One request: its route and session, found at its first call, and its body as it arrives. */
struct web_req {
	const struct web_route *route; /* NULL: the session API or a page */
	char args[WEB_ARGS][256];
	struct web_session s; /* the session, for every API request but a login */
	struct web_session f; /* a family route's session (family set) */
	int family;           /* 1: a request under /api/v1/family */
	char actor[48];       /* a family route's person in the audit log: "family FINGERPRINT" */
	char *body;           /* WEB_BODY_MAX + 1 bytes once a body comes; wiped before free */
	int fd;               /* an upload's temporary file, or -1 */
	char upload[4200];
	size_t len;
	size_t got;  /* bytes of the body come so far, kept or not */
	uint64_t t0; /* monotonic seconds: when the headers came */
	int too_big;
	int answered;
};

static size_t body_max(const struct web_req *q)
{
	return q->route && (q->route->flags & WEB_ROUTE_UPLOAD) ? WEB_UPLOAD_MAX : WEB_BODY_MAX;
}

/* An upload goes into DIR/.upload-XXXXXX (0600), removed when the request ends. */
static int upload_open(struct web *w, struct web_req *q)
{
	if ((size_t)snprintf(q->upload, sizeof(q->upload), "%s/.upload-XXXXXX", serve_dir(w->nd)) >=
	        sizeof(q->upload) ||
	    (q->fd = mkstemp(q->upload)) < 0) {
		node_log(NODE_LOG_ERR, "web: cannot make a file for an upload in %s",
		         serve_dir(w->nd));
		return BATON_EIO;
	}
	return 0;
}

static int own_card_fn(store_txn *t, void *arg)
{
	return store_own_card(t, arg);
}

static void add_headers_csp(struct MHD_Response *resp, const char *type, const char *csp)
{
	MHD_add_response_header(resp, "Content-Type", type);
	MHD_add_response_header(resp, "Content-Security-Policy", csp);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
}

static void add_headers(struct MHD_Response *resp, const char *type)
{
	add_headers_csp(resp, type, CSP);
}

static enum MHD_Result respond(struct MHD_Connection *c, unsigned status, const char *type,
                               const void *body, size_t len, const char *cookie)
{
	struct MHD_Response *resp =
	    MHD_create_response_from_buffer(len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ok;
	if (!resp)
		return MHD_NO;
	add_headers(resp, type);
	if (cookie)
		MHD_add_response_header(resp, "Set-Cookie", cookie);
	ok = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ok;
}

/* Answers o (taken) as JSON. */
static enum MHD_Result respond_json(struct MHD_Connection *c, unsigned status, json_t *o,
                                    const char *cookie)
{
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	enum MHD_Result ok;
	json_decref(o);
	if (!s)
		return respond(c, 500, "application/json", "{\"error\":\"out of memory\"}", 25,
		               NULL);
	ok = respond(c, status, "application/json", s, strlen(s), cookie);
	free(s);
	return ok;
}

static enum MHD_Result respond_error(struct MHD_Connection *c, unsigned status, const char *msg)
{
	return respond_json(c, status, json_pack("{s:s}", "error", msg), NULL);
}

/* The client's address as text, into buf. */
static void client_addr(struct MHD_Connection *c, char *buf, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	socklen_t sl = sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
	                                               : sizeof(struct sockaddr_in);
	if (!sa || getnameinfo(sa, sl, buf, (socklen_t)cap, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(buf, cap, "?");
}

/*
 * The client's network, into buf: its address, or for IPv6 its /64 (one
 * client may hold a whole /64, and draw a new address from it at will).
 */
static void client_net(struct MHD_Connection *c, char *buf, size_t cap)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	const uint8_t *b;
	if (!sa || sa->sa_family != AF_INET6 ||
	    IN6_IS_ADDR_V4MAPPED(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr)) {
		client_addr(c, buf, cap);
		return;
	}
	b = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
	snprintf(buf, cap, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", b[0], b[1], b[2], b[3], b[4],
	         b[5], b[6], b[7]);
}

static const char *cookie_of(const struct web *w, struct MHD_Connection *c)
{
	return MHD_lookup_connection_value(c, MHD_COOKIE_KIND, w->cookie);
}

/*
 * "baton_session_PORT=ID; ..." for a new session, or to end one (id NULL).
 * A browser sends a host's cookies to each of its ports: the port in the
 * name keeps two consoles on one host from taking each other's session.
 */
static void set_cookie(const struct web *w, const char *id, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", w->cookie, id ? id : "",
	         id ? "" : "; Max-Age=0", w->tls ? "; Secure" : "");
}

/*
 * Whether the request says its body is JSON: a form of another site can
 * send a login only as text/plain or a form type, never as JSON without the
 * browser asking this server first (which it does not answer). 1 or 0.
 */
static int json_request(struct MHD_Connection *c)
{
	const char *t = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	return t && strncasecmp(t, "application/json", 16) == 0 &&
	       (t[16] == 0 || t[16] == ';' || t[16] == ' ');
}

/* Reads the login body: *user borrowed from *o, *pass in sodium_malloc memory. */
static int login_body(struct web_req *q, json_t **o, const char **user, char **pass, size_t *plen,
                      const char **err)
{
	json_error_t je;
	json_t *p;
	const char *ps;
	*pass = NULL;
	if ((*o = json_loadb(q->body ? q->body : "", q->len, JSON_REJECT_DUPLICATES, &je)) ==
	        NULL ||
	    !json_is_object(*o))
		return *err = "body: a JSON object is required", BATON_EINVAL;
	if ((*user = json_string_value(json_object_get(*o, "user"))) == NULL)
		return *err = "user: a string is required", BATON_EINVAL;
	p = json_object_get(*o, "password");
	if ((ps = json_string_value(p)) == NULL)
		return *err = "password: a string is required", BATON_EINVAL;
	*plen = json_string_length(p);
	if (*plen > USERS_PASS_MAX || (*pass = sodium_malloc(*plen + 1)) == NULL)
		return *err = "password: too long", BATON_EINVAL;
	memcpy(*pass, ps, *plen + 1);
	sodium_memzero((char *)(uintptr_t)ps, *plen);
	return 0;
}

/* 429 when user or addr has failed too often; a second's wait once they fail. */
static int login_throttled(struct web *w, const char *ukey, const char *akey)
{
	unsigned nu = web_fails(&w->ws, ukey), na = web_fails(&w->ws, akey);
	if (nu >= WEB_FAIL_USER || na >= WEB_FAIL_ADDR)
		return 1;
	if (nu >= WEB_FAIL_SLOW || na >= WEB_FAIL_SLOW)
		sleep(1);
	return 0;
}

static enum MHD_Result login_ok(struct web *w, struct MHD_Connection *c, const char *user, int role,
                                const char *addr)
{
	struct web_session s;
	char cookie[256];
	uint8_t stamp[USERS_STAMP];
	if (users_stamp(w->st, user, stamp) != 0)
		return respond_error(c, 500, "the node could not check the login");
	web_session_new(&w->ws, user, role, stamp, &s);
	set_cookie(w, s.id, cookie, sizeof(cookie));
	node_log(NODE_LOG_INFO, "web: %s logged in from %s", user, addr);
	enum MHD_Result ok = respond_json(c, 200,
	                                  json_pack("{s:s, s:s, s:s}", "csrf", s.csrf, "user",
	                                            s.user, "role", users_role_name(role)),
	                                  cookie);
	sodium_memzero(&s, sizeof(s));
	sodium_memzero(cookie, sizeof(cookie));
	return ok;
}

static enum MHD_Result api_login(struct web *w, struct MHD_Connection *c, struct web_req *q)
{
	char addr[64], ukey[160], akey[80];
	const char *user = NULL, *err = NULL;
	char *pass = NULL;
	size_t plen = 0;
	json_t *o = NULL;
	int role = 0, r;
	enum MHD_Result ok;

	client_addr(c, addr, sizeof(addr));
	if (!json_request(c)) {
		ok = respond_error(c, 415, "Content-Type: application/json is required");
		goto out;
	}
	if (login_body(q, &o, &user, &pass, &plen, &err) != 0) {
		ok = respond_error(c, 400, err);
		goto out;
	}
	/* A user's failures count per address: others cannot lock the user out. */
	snprintf(ukey, sizeof(ukey), "u:%.64s@%s", user, addr);
	snprintf(akey, sizeof(akey), "a:%s", addr);
	if (login_throttled(w, ukey, akey)) {
		node_log(NODE_LOG_WARN, "web: a login from %s refused: too many failures", addr);
		ok = respond_error(c, 429, "too many failed logins: try again later");
		goto out;
	}
	r = users_login(w->st, user, pass, plen, &role);
	if (r == 0) {
		web_fail_clear(&w->ws, ukey);
		ok = login_ok(w, c, user, role, addr);
	} else if (r == BATON_EBADKEY) {
		web_fail(&w->ws, ukey);
		web_fail(&w->ws, akey);
		node_log(NODE_LOG_WARN, "web: a login from %s failed", addr);
		ok = respond_error(c, 401, "wrong user or password");
	} else {
		node_log(NODE_LOG_ERR, "web: login: %s", baton_diag());
		ok = respond_error(c, 500, "the node could not check the login");
	}
out:
	if (pass)
		sodium_free(pass);
	json_decref(o);
	return ok;
}

static enum MHD_Result api_logout(struct web *w, struct MHD_Connection *c,
                                  const struct web_session *s)
{
	char cookie[256], addr[64];
	int r;
	web_session_end(&w->ws, s->id);
	client_addr(c, addr, sizeof(addr));
	node_log(NODE_LOG_INFO, "web: %s logged out from %s", s->user, addr);
	if ((r = users_logout(w->st, s->user)) != 0)
		node_log(NODE_LOG_ERR, "web: logout: %s", baton_diag());
	set_cookie(w, NULL, cookie, sizeof(cookie));
	return respond_json(c, 200, json_pack("{s:b}", "ok", 1), cookie);
}

static int unsafe(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static const struct web_route *const areas[] = {
    web_routes_home,    web_routes_students, web_routes_review,    web_routes_guardians,
    web_routes_send,    web_routes_requests, web_routes_transfers, web_routes_peers,
    web_routes_audit,   web_routes_users,    web_routes_files,     web_routes_school,
    web_routes_invites, web_routes_erase,
};

/*
 * Matches path (after "/api/v1/") against pattern, copying each '*'
 * segment into args (percent-decoded by libmicrohttpd already). 1 or 0.
 */
static int path_match(const char *pattern, const char *path, char args[WEB_ARGS][256])
{
	size_t na = 0;
	while (*pattern && *path) {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");
			if (n == 0 || n >= 256 || na == WEB_ARGS)
				return 0;
			memcpy(args[na], path, n);
			args[na++][n] = 0;
			path += n;
			pattern++;
			continue;
		}
		if (*pattern++ != *path++)
			return 0;
	}
	return *pattern == 0 && *path == 0;
}

/* The family's areas: only a family session, or none for an open route, reaches them. */
static const struct web_route *const family_areas[] = {
    web_routes_family,
    web_routes_enrol,
};

/* The route for method and path in the n tables of in: BATON_ENOTFOUND (404) or BATON_EVALUE (405).
 */
static int route_find_in(const struct web_route *const *in, size_t n, const char *method,
                         const char *path, struct web_req *q)
{
	int seen = 0;
	for (size_t a = 0; a < n; a++)
		for (const struct web_route *r = in[a]; r->method; r++) {
			if (!path_match(r->pattern, path, q->args))
				continue;
			seen = 1;
			if (strcmp(r->method, method) == 0 ||
			    (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
				q->route = r;
				return 0;
			}
		}
	return seen ? BATON_EVALUE : BATON_ENOTFOUND;
}

static int route_find(const char *method, const char *path, struct web_req *q)
{
	return route_find_in(areas, sizeof(areas) / sizeof(areas[0]), method, path, q);
}

/* HTTP status for a handler's error. */
static unsigned status_of(int err)
{
	switch (err) {
	case BATON_ENOTFOUND:
		return 404;
	case BATON_EEXIST:
		return 409;
	case BATON_EPERM:
		return 403;
	case BATON_ENOMEM:
	case BATON_EIO:
	case BATON_EINTERNAL:
		return 500;
	default:
		return err < 0 ? 400 : 500;
	}
}

/* Answers the handler's result: its JSON, its file, or its error in words. */
static enum MHD_Result route_answer(struct MHD_Connection *c, struct web_call *call, int r)
{
	char disp[200];
	if (r != 0) {
		unsigned st = status_of(r);
		if (st == 500)
			node_log(NODE_LOG_ERR, "web: %s", baton_diag());
		return respond_error(c, st, baton_diag()[0] ? baton_diag() : baton_strerror(r));
	}
	if (call->blob) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(
		    call->blob_len, call->blob, MHD_RESPMEM_MUST_FREE);
		enum MHD_Result ok;
		if (!resp) {
			free(call->blob);
			return MHD_NO;
		}
		call->blob = NULL;
		add_headers(resp, call->blob_type ? call->blob_type : "application/octet-stream");
		snprintf(disp, sizeof(disp), "attachment; filename=\"%s\"", call->blob_name);
		MHD_add_response_header(resp, "Content-Disposition", disp);
		ok = MHD_queue_response(c, call->status ? call->status : 200, resp);
		MHD_destroy_response(resp);
		return ok;
	}
	if (!call->out)
		return respond_error(c, 500, "the node gave no answer");
	r = call->status ? (int)call->status : 200;
	call->status = 0;
	return respond_json(c, (unsigned)r, call->out, NULL), call->out = NULL, MHD_YES;
}

/*
 * Counts a failure of an open family request against akey (family_key:
 * the client's address, or its IPv6 /64, which one client may hold whole
 * and draw new addresses from); once akey has failed WEB_FAIL_SLOW times, the
 * failure's answer waits a second. Only a counted failure waits: a request
 * that never counts (bad input, a key not linked) would otherwise hold a
 * web thread asleep as often as it is sent. The log says once, as the
 * address reaches WEB_FAIL_ADDR, that it is refused from now on: a line
 * for each refusal would come at the client's pace.
 */
static void family_fail(struct web *w, const char *akey)
{
	unsigned n;
	web_fail(&w->ws, akey);
	if ((n = web_fails(&w->ws, akey)) == WEB_FAIL_ADDR)
		node_log(NODE_LOG_WARN,
		         "web: %u failed family sign-ins or enrolments from %s: refused until it "
		         "stops for %u seconds",
		         n, akey + 2, (unsigned)WEB_FAIL_FORGET);
	if (n >= WEB_FAIL_SLOW)
		sleep(1);
}

/*
 * An open route of a table (WEB_ROUTE_OPEN): each answer 404 (a code that
 * does not enrol) counts against the client's address, as a failed login
 * does, and past WEB_FAIL_ADDR the address gets 429. open_fail counts one
 * (family_fail); open_throttled answers 429 and returns 1, else returns 0.
 */
/* "n:" and the client's network (client_net): what the family's failures count against. */
static void family_key(struct MHD_Connection *c, char *akey, size_t cap)
{
	char net[64];
	client_net(c, net, sizeof(net));
	snprintf(akey, cap, "n:%s", net);
}

static void open_fail(struct web *w, struct MHD_Connection *c)
{
	char akey[80];
	family_key(c, akey, sizeof(akey));
	family_fail(w, akey);
}

static int open_throttled(struct web *w, struct MHD_Connection *c, enum MHD_Result *ok)
{
	char akey[80];
	family_key(c, akey, sizeof(akey));
	if (web_fails(&w->ws, akey) >= WEB_FAIL_ADDR) /* logged once, by family_fail */
		return *ok = respond_error(c, 429, "too many failed attempts: try again later"), 1;
	return 0;
}

/* Runs q's route, as its user, with the body it was given. */
static enum MHD_Result route_run(struct web *w, struct MHD_Connection *c, struct web_req *q)
{
	struct web_call call = {.st = w->st, .nd = w->nd, .s = &q->s, .c = c};
	json_error_t je;
	enum MHD_Result ok;
	int r;

	for (size_t i = 0; i < WEB_ARGS; i++)
		call.arg[i] = q->args[i];
	if (q->route->flags & WEB_ROUTE_UPLOAD) {
		call.upload = q->upload;
		call.upload_len = q->len;
	} else if (q->len &&
	           (call.body = json_loadb(q->body, q->len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return respond_error(c, 400, "body: not JSON");
	if (q->family)
		call.family = q->f.id[0] ? &q->f : NULL, call.s = NULL;
	bti_diag_clear();
	store_set_actor(q->family ? q->actor : q->s.user);
	r = q->route->fn(&call);
	store_set_actor(NULL);
	if ((q->route->flags & WEB_ROUTE_OPEN) && r == BATON_ENOTFOUND)
		open_fail(w, c);
	ok = route_answer(c, &call, r);
	json_decref(call.out);
	json_decref(call.body);
	free(call.blob);
	return ok;
}

/*
 * At a request's first call, before any body is kept: the session, the
 * CSRF token, the route and the role. Answers and returns 1 when the
 * request goes no further; 0 when it may.
 */
static int api_gate(struct web *w, struct MHD_Connection *c, const char *url, const char *method,
                    struct web_req *q, enum MHD_Result *ok)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	int r = BATON_ENOTFOUND;

	if (strcmp(url, "/api/v1/session") == 0 && strcmp(method, "POST") == 0)
		return 0; /* the login: its own checks */
	if (web_session_get(&w->ws, cookie_of(w, c), &q->s) != 0 ||
	    web_session_gone(&w->ws, w->st, &q->s))
		return *ok = respond_error(c, 401, "not logged in"), 1;
	/*
	 * Every request, reads too: a browser sends the cookie to every port of
	 * this host, so the cookie alone must not be enough; the token lives
	 * only in the page of this origin.
	 */
	if (!tok || strlen(tok) != WEB_TOKEN_HEX - 1 ||
	    sodium_memcmp(tok, q->s.csrf, WEB_TOKEN_HEX - 1) != 0)
		return *ok = respond_error(c, 403, "X-CSRF-Token: missing or wrong"), 1;
	if (strcmp(url, "/api/v1/session") == 0 || strcmp(url, "/api/v1/me") == 0)
		return 0;
	if (strncmp(url, "/api/v1/", 8) != 0 || (r = route_find(method, url + 8, q)) != 0)
		return *ok =
		           respond_error(c, r == BATON_EVALUE ? 405 : 404,
		                         r == BATON_EVALUE ? "method not allowed" : "no such API"),
		       1;
	if ((q->route->flags & WEB_ROUTE_ADMIN) && q->s.role != STORE_ROLE_ADMIN)
		return *ok = respond_error(c, 403, "only an admin may do this"), 1;
	if ((q->route->flags & WEB_ROUTE_UPLOAD) && upload_open(w, q) != 0)
		return *ok = respond_error(c, 500, "the node cannot keep the upload"), 1;
	return 0;
}

static json_t *me_json(struct web *w, const struct web_session *s)
{
	baton_card card;
	char fp[BATON_FINGERPRINT_LEN + 1];
	json_t *o = json_pack("{s:s, s:s}", "user", s->user, "role", users_role_name(s->role));
	if (o && store_read(w->st, own_card_fn, &card) == 0) {
		baton_fingerprint(card.id_pk, fp);
		json_object_set_new(o, "school",
		                    json_pack("{s:s, s:s, s:s}", "name", card.name, "code",
		                              card.code, "fingerprint", fp));
	}
	return o;
}

/* The API, once api_gate let the request through and its body came. */
static enum MHD_Result api(struct web *w, struct MHD_Connection *c, const char *url,
                           const char *method, struct web_req *q)
{
	if (strcmp(url, "/api/v1/session") == 0 && strcmp(method, "POST") == 0)
		return api_login(w, c, q);
	if (strcmp(url, "/api/v1/session") == 0 && strcmp(method, "DELETE") == 0)
		return api_logout(w, c, &q->s);
	if (strcmp(url, "/api/v1/me") == 0 && !unsafe(method))
		return respond_json(c, 200, me_json(w, &q->s), NULL);
	if (strcmp(url, "/api/v1/me") == 0 || strcmp(url, "/api/v1/session") == 0)
		return respond_error(c, 405, "method not allowed");
	return route_run(w, c, q);
}

/* ---- the family's area: /api/v1/family ---- */

#define FAMILY_API "/api/v1/family/"

/* "baton_family_PORT=ID; ..." for a family session, or to end one (id NULL). */
static void set_family_cookie(const struct web *w, const char *id, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s%s", w->fcookie, id ? id : "",
	         id ? "" : "; Max-Age=0", w->tls ? "; Secure" : "");
}

/*
 * The request's Origin against this server's own (http[s]:// and its Host
 * header): 0 when it matches; 1 when it is missing (required for a request
 * that changes something) or another. *origin gets the header's value.
 */
static int origin_bad(const struct web *w, struct MHD_Connection *c, const char *method,
                      const char **origin)
{
	const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
	const char *scheme = w->tls ? "https://" : "http://";
	size_t sl = strlen(scheme);
	*origin = o;
	if (!o)
		return unsafe(method);
	return !host || !host[0] || strncmp(o, scheme, sl) != 0 || strcmp(o + sl, host) != 0;
}

/* "family FINGERPRINT": who acts, in the audit log, for a family session. */
static void family_actor(struct web_req *q)
{
	char fp[BATON_FINGERPRINT_LEN + 1];
	baton_fingerprint(q->f.pk, fp);
	snprintf(q->actor, sizeof(q->actor), "family %s", fp);
}

/*
 * The family's gate, at a request's first call, before any body is kept:
 * the Origin, the content type, then for every route but the open ones the
 * family session, its CSRF token, and the key's links read again (a key no
 * longer linked unrestricted to any student ends its session). Answers and
 * returns 1 when the request goes no further; 0 when it may.
 */
static int family_gate(struct web *w, struct MHD_Connection *c, const char *url, const char *method,
                       struct web_req *q, enum MHD_Result *ok)
{
	const char *tok = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
	const char *path = url + strlen("/api/v1/"), *origin;
	int r, active = 0, open = 0;

	q->family = 1;
	if (origin_bad(w, c, method, &origin))
		return *ok =
		           respond_error(c, 403,
		                         origin ? "Origin: not this server's own"
		                                : "Origin: missing (required to sign in or change "
		                                  "anything)"),
		       1;
	if (strcmp(method, "POST") == 0 && !json_request(c))
		return *ok = respond_error(c, 415, "Content-Type: application/json is required"), 1;
	if (strcmp(path, "family/challenge") == 0 ||
	    (strcmp(path, "family/session") == 0 && strcmp(method, "POST") == 0))
		open = 1;
	else if (strcmp(path, "family/session") != 0) {
		if ((r = route_find_in(family_areas, sizeof(family_areas) / sizeof(family_areas[0]),
		                       method, path, q)) != 0)
			return *ok = respond_error(c, r == BATON_EVALUE ? 405 : 404,
			                           r == BATON_EVALUE ? "method not allowed"
			                                             : "no such API"),
			       1;
		open = (q->route->flags & WEB_ROUTE_OPEN) != 0;
	}
	if (open) {
		snprintf(q->actor, sizeof(q->actor), "family");
		return q->route && open_throttled(w, c, ok);
	}
	if (web_family_get(&w->ws, MHD_lookup_connection_value(c, MHD_COOKIE_KIND, w->fcookie),
	                   &q->f) != 0)
		return *ok = respond_error(c, 401, "not signed in"), 1;
	if (!tok || strlen(tok) != WEB_TOKEN_HEX - 1 ||
	    sodium_memcmp(tok, q->f.csrf, WEB_TOKEN_HEX - 1) != 0)
		return *ok = respond_error(c, 403, "X-CSRF-Token: missing or wrong"), 1;
	if ((r = family_key_active(w->st, q->f.pk, &active)) != 0) {
		node_log(NODE_LOG_ERR, "web: family: %s", baton_diag());
		return *ok = respond_error(c, 500, "the node could not check the key"), 1;
	}
	if (!active) {
		web_family_end_key(&w->ws, q->f.pk);
		return *ok = respond_error(c, 401,
		                           "key: no longer linked to a student here: signed out"),
		       1;
	}
	family_actor(q);
	if (q->route && (q->route->flags & WEB_ROUTE_UPLOAD) && upload_open(w, q) != 0)
		return *ok = respond_error(c, 500, "the node cannot keep the upload"), 1;
	return 0;
}

static enum MHD_Result family_challenge(struct web *w, struct MHD_Connection *c)
{
	uint8_t n[BATON_LOGIN_NONCE_BYTES];
	char hex[2 * BATON_LOGIN_NONCE_BYTES + 1], who[WEB_NONCE_WHO];
	json_t *school = family_school(w->st);
	if (!school)
		return respond_error(c, 500, "the node has no card");
	client_net(c, who, sizeof(who));
	web_nonce_new(&w->ws, who, n);
	sodium_bin2hex(hex, sizeof(hex), n, sizeof(n));
	return respond_json(c, 200,
	                    json_pack("{s:s, s:n, s:o, s:i}", "nonce", hex, "origin_hint", "school",
	                              school, "expires", WEB_NONCE_LIFE),
	                    NULL);
}

/* The sign-in's fields: key, nonce, signature, from the JSON body. */
static int family_login_body(struct web_req *q, uint8_t pk[BATON_PK_BYTES],
                             uint8_t nonce[BATON_LOGIN_NONCE_BYTES], uint8_t sig[BATON_SIG_BYTES])
{
	json_error_t je;
	json_t *o = json_loadb(q->body ? q->body : "", q->len, JSON_REJECT_DUPLICATES, &je);
	int r;
	if (!o || !json_is_object(o))
		r = bti_diag_err(BATON_EVALUE, "body: a JSON object is required");
	else if ((r = guardian_key_parse("key", json_string_value(json_object_get(o, "key")),
	                                 pk)) == 0 &&
	         (r = web_id("nonce", json_string_value(json_object_get(o, "nonce")), nonce,
	                     BATON_LOGIN_NONCE_BYTES)) == 0)
		r = web_id("signature", json_string_value(json_object_get(o, "signature")), sig,
		           BATON_SIG_BYTES);
	json_decref(o);
	return r;
}

static enum MHD_Result family_login(struct web *w, struct MHD_Connection *c, struct web_req *q)
{
	uint8_t pk[BATON_PK_BYTES], nonce[BATON_LOGIN_NONCE_BYTES], sig[BATON_SIG_BYTES];
	char addr[64], akey[80], cookie[256], fp[BATON_FINGERPRINT_LEN + 1];
	const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	struct web_session f;
	int r, active = 0;
	enum MHD_Result ok;

	client_addr(c, addr, sizeof(addr));
	family_key(c, akey, sizeof(akey));
	if (web_fails(&w->ws, akey) >= WEB_FAIL_ADDR) /* logged once, by family_fail */
		return respond_error(c, 429, "too many failed sign-ins: try again later");
	bti_diag_clear();
	if (family_login_body(q, pk, nonce, sig) != 0)
		return respond_error(c, 400, baton_diag());
	if (web_nonce_take(&w->ws, nonce) != 0) {
		family_fail(w, akey);
		return respond_error(c, 401, "nonce: unknown, used or expired");
	}
	r = baton_login_verify(baton_key_id_pk(serve_key(w->nd)), origin, nonce, pk, sig);
	if (r == BATON_EVALUE)
		return respond_error(c, 403, "Origin: not a web origin a key can sign for");
	if (r != 0) {
		family_fail(w, akey);
		node_log(NODE_LOG_WARN, "web: a family sign-in from %s failed", addr);
		return respond_error(c, 401, "signature: does not verify");
	}
	if ((r = family_key_active(w->st, pk, &active)) != 0) {
		node_log(NODE_LOG_ERR, "web: family sign-in: %s", baton_diag());
		return respond_error(c, 500, "the node could not check the key");
	}
	if (!active)
		return respond_error(c, 403,
		                     "key: not linked to a student here (or not yet "
		                     "confirmed by the registrar)");
	web_family_new(&w->ws, pk, &f);
	set_family_cookie(w, f.id, cookie, sizeof(cookie));
	baton_fingerprint(pk, fp);
	node_log(NODE_LOG_INFO, "web: family key %s signed in from %s", fp, addr);
	ok = respond_json(c, 200, json_pack("{s:s, s:s}", "csrf", f.csrf, "fingerprint", fp),
	                  cookie);
	sodium_memzero(&f, sizeof(f));
	sodium_memzero(cookie, sizeof(cookie));
	return ok;
}

/* The family's API, once family_gate let the request through and its body came. */
static enum MHD_Result family_api(struct web *w, struct MHD_Connection *c, const char *url,
                                  const char *method, struct web_req *q)
{
	const char *path = url + strlen("/api/v1/");
	char cookie[256];
	if (strcmp(path, "family/challenge") == 0)
		return unsafe(method) ? respond_error(c, 405, "method not allowed")
		                      : family_challenge(w, c);
	if (strcmp(path, "family/session") == 0 && strcmp(method, "POST") == 0)
		return family_login(w, c, q);
	if (strcmp(path, "family/session") == 0) {
		if (strcmp(method, "DELETE") != 0)
			return respond_error(c, 405, "method not allowed");
		web_family_end(&w->ws, q->f.id);
		set_family_cookie(w, NULL, cookie, sizeof(cookie));
		return respond_json(c, 200, json_pack("{s:b}", "ok", 1), cookie);
	}
	return route_run(w, c, q);
}

/* The family's assets in URL order into fam (room for every asset); how many. */
static size_t family_assets(const struct web_asset **fam)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(web_assets) / sizeof(web_assets[0]); i++)
		if (strncmp(web_assets[i].url, FAMILY_PAGES, strlen(FAMILY_PAGES)) == 0)
			fam[n++] = &web_assets[i];
	for (size_t i = 1; i < n; i++) /* URL order; a handful of assets */
		for (size_t j = i; j > 0 && strcmp(fam[j - 1]->url, fam[j]->url) > 0; j--) {
			const struct web_asset *t = fam[j];
			fam[j] = fam[j - 1];
			fam[j - 1] = t;
		}
	return n;
}

void web_bundle_hash(char hex[65])
{
	const struct web_asset *fam[sizeof(web_assets) / sizeof(web_assets[0])];
	size_t n = family_assets(fam);
	crypto_generichash_state h;
	uint8_t out[32], len[8];

	crypto_generichash_init(&h, NULL, 0, sizeof(out));
	for (size_t i = 0; i < n; i++) {
		put_be64(len, fam[i]->n);
		crypto_generichash_update(&h, (const uint8_t *)fam[i]->url,
		                          strlen(fam[i]->url) + 1);
		crypto_generichash_update(&h, len, sizeof(len));
		crypto_generichash_update(&h, fam[i]->p, fam[i]->n);
	}
	crypto_generichash_final(&h, out, sizeof(out));
	sodium_bin2hex(hex, 65, out, sizeof(out));
}

json_t *web_bundle_files(void)
{
	const struct web_asset *fam[sizeof(web_assets) / sizeof(web_assets[0])];
	size_t n = family_assets(fam);
	json_t *a = json_array();
	uint8_t h[32];
	char hex[65];

	for (size_t i = 0; a && i < n; i++) {
		crypto_generichash(h, sizeof(h), fam[i]->p, fam[i]->n, NULL, 0);
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		if (json_array_append_new(a,
		                          json_pack("{s:s, s:I, s:s}", "url", fam[i]->url, "bytes",
		                                    (json_int_t)fam[i]->n, "hash", hex)) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return a;
}

/* 1 when the parameters of one coding, from s up to end, hold q=0 (0, 0.0, 0.000). */
static int q_zero(const char *s, const char *end)
{
	for (const char *p = s; p < end; p++) {
		if (*p != ';')
			continue;
		for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		if (end - p < 2 || (*p != 'q' && *p != 'Q') || p[1] != '=')
			continue;
		if ((p += 2) >= end || *p != '0')
			return 0;
		for (p++; p < end && (*p == '.' || *p == '0'); p++)
			;
		return p >= end || *p < '1' || *p > '9';
	}
	return 0;
}

/* 1 when an Accept-Encoding header takes gzip: "gzip" or "*", not with q=0 (RFC 9110 12.5.3). */
static int takes_gzip(const char *ae)
{
	int gzip = -1, star = -1;
	for (const char *p = ae; p && *p;) {
		p += strspn(p, " \t,");
		size_t n = strcspn(p, " \t;,"), len = strcspn(p, ",");
		if (n == 4 && strncasecmp(p, "gzip", 4) == 0)
			gzip = !q_zero(p + n, p + len);
		else if (n == 1 && *p == '*')
			star = !q_zero(p + n, p + len);
		p += len;
	}
	return gzip == 1 || (gzip == -1 && star == 1);
}

/*
 * An embedded file: gzip-compressed when the client takes it; the family's
 * pages (/family/, /family and below) with their CSP. The bytes are static.
 */
static enum MHD_Result asset(struct MHD_Connection *c, const char *url, const char *method)
{
	if (strcmp(url, "/family") == 0)
		url = FAMILY_PAGES;
	for (size_t i = 0; i < sizeof(web_assets) / sizeof(web_assets[0]); i++) {
		const struct web_asset *a = &web_assets[i];
		if (strcmp(url, a->url) != 0)
			continue;
		if (unsafe(method))
			return respond_error(c, 405, "method not allowed");
		int gz = takes_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		                                                MHD_HTTP_HEADER_ACCEPT_ENCODING));
		struct MHD_Response *resp = MHD_create_response_from_buffer(
		    gz ? a->gzn : a->n, (void *)(uintptr_t)(gz ? a->gz : a->p),
		    MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
		add_headers_csp(resp, a->type,
		                strncmp(url, FAMILY_PAGES, strlen(FAMILY_PAGES)) == 0 ? CSP_FAMILY
		                                                                      : CSP);
		MHD_add_response_header(resp, "Vary", "Accept-Encoding");
		if (gz)
			MHD_add_response_header(resp, "Content-Encoding", "gzip");
		enum MHD_Result ok = MHD_queue_response(c, 200, resp);
		MHD_destroy_response(resp);
		return ok;
	}
	return respond_error(c, 404, "not found");
}

/* 1 when the body has come slower than WEB_BODY_RATE on average, past WEB_HEAD_SECS. */
static int too_slow(const struct web_req *q)
{
	uint64_t t = web_mono() - q->t0;
	return t > WEB_HEAD_SECS && q->got < t * WEB_BODY_RATE;
}

/* Keeps what arrives of the body, up to its limit; past that, only notes it. */
static int take_body(struct web_req *q, const char *data, size_t n)
{
	if (q->too_big || n > body_max(q) - q->len) {
		q->too_big = 1;
		return 0;
	}
	if (q->fd >= 0) {
		for (size_t off = 0; off < n;) {
			ssize_t k = write(q->fd, data + off, n - off);
			if (k < 0)
				return BATON_EIO;
			off += (size_t)k;
		}
		q->len += n;
		return 0;
	}
	if (!q->body && (q->body = malloc(WEB_BODY_MAX + 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(q->body + q->len, data, n);
	q->len += n;
	return 0;
}

static int declared_too_big(struct MHD_Connection *c, const struct web_req *q)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	return cl && strtoull(cl, NULL, 10) > body_max(q);
}

/* The first call of a request: what it may send, or its answer at once. */
static enum MHD_Result first_call(struct web *w, struct MHD_Connection *c, const char *url,
                                  const char *method, struct web_req *q)
{
	enum MHD_Result ok = MHD_YES;
	if (strncmp(url, FAMILY_API, strlen(FAMILY_API)) == 0
	        ? family_gate(w, c, url, method, q, &ok)
	        : strncmp(url, "/api/", 5) == 0 && api_gate(w, c, url, method, q, &ok)) {
		q->answered = 1;
		return ok;
	}
	if (!declared_too_big(c, q))
		return MHD_YES;
	q->answered = 1;
	return respond_error(
	    c, 413, body_max(q) == WEB_BODY_MAX ? "body: over 65536 bytes" : "file: over 64 MiB");
}

/*
 * The console's threads yield to the packet listener's: a busy console must
 * not hold up receipts. Once per thread of the pool; a failure is harmless.
 */
static void nice_thread(void)
{
	static _Thread_local int done;
	if (!done) {
		done = 1;
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), WEB_NICE);
	}
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *data,
                              size_t *data_size, void **con_cls)
{
	struct web *w = cls;
	struct web_req *q = *con_cls;
	(void)version;
	nice_thread();
	if (!q) {
		if ((q = calloc(1, sizeof(*q))) == NULL)
			return MHD_NO;
		q->fd = -1;
		q->t0 = web_mono();
		*con_cls = q;
		web_conn_busy(&w->conns, c, 1);
		return first_call(w, c, url, method, q);
	}
	if (*data_size) {
		int r = q->answered ? 0 : take_body(q, data, *data_size);
		q->got += *data_size;
		*data_size = 0;
		return r || too_slow(q) ? MHD_NO : MHD_YES;
	}
	if (q->answered)
		return MHD_YES;
	q->answered = 1;
	if (q->too_big)
		return respond_error(c, 413,
		                     body_max(q) == WEB_BODY_MAX ? "body: over 65536 bytes"
		                                                 : "file: over 64 MiB");
	if (q->family)
		return family_api(w, c, url, method, q);
	if (strncmp(url, "/api/", 5) == 0)
		return api(w, c, url, method, q);
	return asset(c, url, method);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct web *w = cls;
	struct web_req *q = *con_cls;
	(void)toe;
	web_conn_busy(&w->conns, c, 0);
	if (!q)
		return;
	if (q->body) {
		sodium_memzero(q->body, q->len);
		free(q->body);
	}
	if (q->fd >= 0) {
		close(q->fd);
		unlink(q->upload);
	}
	sodium_memzero(&q->s, sizeof(q->s));
	sodium_memzero(&q->f, sizeof(q->f));
	free(q);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/*
 * The web server's own messages (a connection refused at the limit, a
 * request too big) come at a client's pace: at most WEB_LOG_BURST a minute
 * reach the log, then one line counting those left out.
 */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	static uint64_t minute;
	static unsigned n, left;
	uint64_t now = web_mono() / 60;
	unsigned was = 0;
	int keep;
	char line[512];
	(void)cls;
	pthread_mutex_lock(&lock);
	if (now != minute) {
		was = left;
		minute = now, n = 0, left = 0;
	}
	keep = n < WEB_LOG_BURST;
	n += keep;
	left += !keep;
	pthread_mutex_unlock(&lock);
	if (was)
		node_log(NODE_LOG_WARN, "web: %u more messages of the web server were not logged",
		         was);
	if (!keep)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = 0;
	node_log(NODE_LOG_WARN, "web: %s", line);
}

/* Reads the PEM certificate and key of c into w (the key into sodium_malloc memory). */
static int load_tls(struct web *w, const struct web_conf *c)
{
	uint8_t *b = NULL;
	size_t n = 0;
	int r;
	if ((r = baton_file_read(c->cert, 1 << 20, &b, &n)) != 0)
		return bti_diag_err(BATON_EIO, "web certificate %s: %s", c->cert, baton_diag());
	w->cert = (char *)b;
	if ((r = baton_file_read_private(c->key, 1 << 20, &b, &n)) != 0)
		return bti_diag_err(r == BATON_EPERM ? r : BATON_EIO, "web key %s: %s", c->key,
		                    baton_diag());
	if ((w->key = sodium_malloc(n + 1)) != NULL) {
		memcpy(w->key, b, n);
		w->key[n] = 0;
	}
	sodium_memzero(b, n);
	free(b);
	return w->key ? 0 : BATON_ENOMEM;
}

static struct MHD_Daemon *daemon_start(struct web *w, const struct web_addr *a)
{
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
	                 (a->ipv6 ? MHD_USE_IPv6 : 0) | (w->tls ? MHD_USE_TLS : 0);
	const struct sockaddr *sa =
	    a->ipv6 ? (const struct sockaddr *)&a->v6 : (const struct sockaddr *)&a->v4;
	struct MHD_OptionItem tls[] = {
	    {w->tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, w->cert},
	    {MHD_OPTION_HTTPS_MEM_KEY, 0, w->key},
	    {MHD_OPTION_END, 0, NULL},
	};
	return MHD_start_daemon(
	    flags, 0, NULL, NULL, handle, w, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)WEB_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)WEB_CONN_MAX, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)WEB_CONN_PER_IP, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)WEB_TIMEOUT,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)WEB_CONN_MEM, MHD_OPTION_NOTIFY_COMPLETED,
	    completed, w, MHD_OPTION_NOTIFY_CONNECTION, web_conn_notify, &w->conns,
	    MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
}

/*
 * Removes what uploads a killed serve left in dir (.upload-*): records
 * outside the store, which an erasure would not reach. Cannot fail: what
 * cannot be removed is logged.
 */
static void uploads_sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4200];
	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, ".upload-", 8) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (unlink(path) != 0)
			node_log(NODE_LOG_ERR, "web: cannot remove %s, left by an upload", path);
	}
	closedir(d);
}

int web_start(struct serve_node *nd, const struct web_conf *c, struct web **out)
{
	struct web_addr a;
	struct web *w;
	int r;

	*out = NULL;
	if ((r = web_conf_check(c)) != 0 || (r = web_addr_parse(c->listen, &a)) != 0)
		return r;
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return BATON_ENOMEM;
	w->nd = nd;
	w->st = serve_store(nd);
	w->tls = c->cert[0] != 0;
	snprintf(w->cookie, sizeof(w->cookie), "%s_%u", WEB_COOKIE,
	         (unsigned)ntohs(a.ipv6 ? a.v6.sin6_port : a.v4.sin_port));
	snprintf(w->fcookie, sizeof(w->fcookie), "%s_%u", WEB_FAMILY_COOKIE,
	         (unsigned)ntohs(a.ipv6 ? a.v6.sin6_port : a.v4.sin_port));
	uploads_sweep(serve_dir(nd));
	if ((r = web_state_init(&w->ws)) != 0) {
		free(w);
		return r;
	}
	if ((w->tls && (r = load_tls(w, c)) != 0) || (r = users_prepare()) != 0 ||
	    (r = web_conns_start(&w->conns)) != 0)
		goto fail;
	if ((w->d = daemon_start(w, &a)) == NULL) {
		r = bti_diag_err(BATON_EIO, "web: cannot serve at %s%s", c->listen,
		                 w->tls ? " (is the certificate and key a matching PEM pair?)"
		                        : "");
		goto fail;
	}
	node_log(NODE_LOG_INFO, "web: serving the console at %s://%s/", w->tls ? "https" : "http",
	         c->listen);
	*out = w;
	return 0;
fail:
	web_stop(w);
	return r;
}

void web_stop(struct web *w)
{
	if (!w)
		return;
	if (w->d)
		MHD_stop_daemon(w->d);
	web_conns_stop(&w->conns);
	web_state_free(&w->ws);
	free(w->cert);
	if (w->key)
		sodium_free(w->key);
	free(w);
}

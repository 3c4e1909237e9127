/*
 * The console's JSON API under /api/v1: a table of routes per area
 * (students, sending, requests, transfers, peers, audit, users), each a
 * handler that calls the same node functions as the command line. web.c
 * finds the route, checks the session, its role and the CSRF token before
 * a byte of the body is kept, names the signed-in person for the audit log
 * (store_set_actor), and turns what the handler returns into the answer.
 */
#ifndef BATON_NODE_WEB_API_H
#define BATON_NODE_WEB_API_H

#include <stddef.h>
#include <stdint.h>

#include <baton/keys.h>
#include <jansson.h>

#include "serve.h"
#include "store.h"

#define WEB_ARGS       4           /* '*' segments a pattern may hold */
#define WEB_UPLOAD_MAX (64u << 20) /* bytes of an uploaded file (WEB_ROUTE_UPLOAD) */

struct web;
struct web_session;
struct MHD_Connection;

/* One API request, as a handler sees it. */
struct web_call {
	/* in */
	store *st;
	struct serve_node *nd;            /* the serving node: its key, its directory */
	const struct web_session *s;      /* the signed-in user (console routes) */
	const struct web_session *family; /* the signed-in family key (family routes), or NULL */
	struct MHD_Connection *c;         /* for web_query */
	const char *arg[WEB_ARGS];        /* the '*' segments of the path, percent-decoded */
	json_t *body;                     /* the JSON body, or NULL (none, or an upload) */
	const char *upload; /* WEB_ROUTE_UPLOAD: the file the body went into, or NULL */
	size_t upload_len;
	/* out: a handler returning 0 sets out (JSON, taken) or blob */
	unsigned status; /* 0: 200 */
	json_t *out;
	uint8_t *blob; /* a file to download (malloc'd, taken), with its type and name */
	size_t blob_len;
	const char *blob_type;
	char blob_name[128];
};

/*
 * A route: method, and a pattern of segments after "/api/v1/" where "*"
 * matches one segment ("students/ * /versions/ *", without the spaces).
 * fn returns 0 (the answer in call->out or call->blob) or a negative
 * BATON_E* code with baton_diag() saying why in words a registrar reads
 * (web.c answers 400, 404, 409, 403 or 500 with it).
 */
typedef int (*web_handler)(struct web_call *call);
#define WEB_ROUTE_ADMIN  1 /* only an admin */
#define WEB_ROUTE_UPLOAD 2 /* the body is a file up to WEB_UPLOAD_MAX, kept in a temporary file */
#define WEB_ROUTE_OPEN   4 /* a family route that needs no session (call->family NULL) */
struct web_route {
	const char *method;
	const char *pattern;
	unsigned flags;
	web_handler fn;
};

/* Each area's routes, ended by an entry with method NULL. */
extern const struct web_route web_routes_students[];
extern const struct web_route web_routes_send[];
extern const struct web_route web_routes_requests[];
extern const struct web_route web_routes_transfers[];
extern const struct web_route web_routes_peers[];
extern const struct web_route web_routes_audit[];
extern const struct web_route web_routes_home[];
extern const struct web_route web_routes_review[];
extern const struct web_route web_routes_guardians[];
extern const struct web_route web_routes_users[];
extern const struct web_route web_routes_files[];
extern const struct web_route web_routes_school[];
extern const struct web_route web_routes_invites[];
extern const struct web_route web_routes_erase[];
/*
 * The family's area, /api/v1/family/... (patterns start "family/"): only a
 * family session (its own cookie and token) reaches these, or none for a
 * WEB_ROUTE_OPEN route; a family session reaches no other route.
 */
extern const struct web_route web_routes_family[];
/*
 * The family's enrolment, POST family/enrol, a WEB_ROUTE_OPEN route: {"code",
 * "key"} claims an invitation (invite_claim) and answers who it is for; 404
 * with one message for every code that does not enrol, each counted
 * against the client's address (429 past WEB_FAIL_ADDR).
 */
extern const struct web_route web_routes_enrol[];

/* The value of query parameter name, or NULL; owned by the connection. */
const char *web_query(const struct web_call *call, const char *name);

/*
 * The string member name of the body, or NULL when there is no body or it
 * is not a string there; owned by call->body.
 */
const char *web_body_str(const struct web_call *call, const char *name);

/*
 * The school key the serving node holds now (after a rekey, the new one).
 * Owned by the node; valid until serve stops.
 */
const baton_key *web_key(const struct web_call *call);

/* Sets call->out to o (taken) and returns 0; BATON_ENOMEM when o is NULL. */
int web_ok(struct web_call *call, json_t *o);

/*
 * Reads hex, exactly 2n hexadecimal digits, into id (n bytes). 0, or
 * BATON_EVALUE with baton_diag() naming what (the field's name).
 */
int web_id(const char *what, const char *hex, uint8_t *id, size_t n);

/* name made safe inside the quotes of Content-Disposition, into out (cap bytes). */
void web_safe_name(const char *name, char *out, size_t cap);
/*
 * The type to send a stored file as: one of a few plain types a record
 * names, so that no stored text can make the browser run it; otherwise
 * application/octet-stream. Static.
 */
const char *web_send_type(const char *type);

#endif

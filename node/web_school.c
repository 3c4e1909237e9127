/*
 * The console's API: this school (web_api.h). Its card as 'baton card'
 * exports it (view_school.h), which anyone signed in may read and
 * download; its endpoints ('baton endpoint set'), a pinned school's newer
 * card ('baton peer update') and signing the log's head ('baton audit
 * sign') are an admin's; the heads other schools' logs sent ('baton audit
 * held') anyone may read.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "bti.h"
#include "card.h"
#include "rekey.h"
#include "serve_impl.h"
#include "view_audit.h"
#include "view_peers.h"
#include "view_school.h"
#include "web_api.h"

/* Puts "what: " before baton_diag(), which the formatting must not read while it writes. */
static int diag_named(int r, const char *what)
{
	char why[512];
	snprintf(why, sizeof(why), "%s", baton_diag());
	return bti_diag_err(r, "%s: %s", what, why);
}

/* The card's JSON, with what the page warns about. */
static json_t *school_json(const struct school_card *c)
{
	json_t *o = peers_card_json(&c->parsed);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "loopback_only", json_boolean(card_is_loopback_only(&c->parsed)));
	json_object_set_new(o, "rotation", json_boolean(c->rot != NULL));
	return o;
}

static int school_get(struct web_call *call)
{
	struct school_card c = {0};
	int r = school_card_read(call->st, &c);
	if (r == 0)
		r = web_ok(call, school_json(&c));
	school_card_free(&c);
	return r;
}

/* "lhs-001.card" from the code LHS-001: a file name the other school recognises. */
static void file_name(const char *code, const char *ext, char *out, size_t cap)
{
	size_t n = 0;
	for (const char *p = code; *p && n + strlen(ext) + 2 < cap; p++)
		out[n++] = isalnum((unsigned char)*p) ? (char)tolower((unsigned char)*p) : '-';
	snprintf(out + n, cap - n, ".%s", ext);
}

/* The card, or with rot the last rotation statement, as a download. */
static int school_file(struct web_call *call, int rot)
{
	struct school_card c = {0};
	int r = school_card_read(call->st, &c);
	if (r == 0 && rot && c.rot == NULL)
		r = bti_diag_err(BATON_ENOTFOUND, "this school has never rekeyed: no rotation "
		                                  "statement");
	if (r == 0) {
		call->blob = rot ? c.rot : c.card;
		call->blob_len = rot ? c.rot_len : c.len;
		*(rot ? &c.rot : &c.card) = NULL;
		call->blob_type = "application/octet-stream";
		file_name(c.parsed.code, rot ? "rot" : "card", call->blob_name,
		          sizeof(call->blob_name));
	}
	school_card_free(&c);
	return r;
}

static int school_card_get(struct web_call *call)
{
	return school_file(call, 0);
}

static int school_rotation_get(struct web_call *call)
{
	return school_file(call, 1);
}

/* The body's "endpoints", each checked, into e. */
static int endpoints_read(const struct web_call *call, struct school_endpoint *e)
{
	json_t *a = call->body ? json_object_get(call->body, "endpoints") : NULL;
	size_t i;
	json_t *v;
	int r;
	if (!json_is_array(a) || json_array_size(a) == 0)
		return bti_diag_err(BATON_EVALUE, "endpoints: at least one URL (tcp://HOST:PORT) "
		                                  "is required");
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return bti_diag_err(BATON_EVALUE,
			                    "endpoints: each a URL (tcp://HOST:PORT)");
		if ((r = school_endpoint_add(e, json_string_value(v))) != 0)
			return diag_named(r, "endpoints");
	}
	return 0;
}

static int endpoint_put(struct web_call *call)
{
	struct school_endpoint e;
	struct school_card c = {0};
	int r;
	memset(&e, 0, sizeof(e));
	if ((r = endpoints_read(call, &e)) != 0 ||
	    (r = school_endpoint_set(call->st, web_key(call), serve_now(), &e)) != 0)
		return r;
	free(e.bytes);
	if ((r = school_card_read(call->st, &c)) == 0)
		r = web_ok(call, school_json(&c));
	school_card_free(&c);
	return r;
}

static int peer_update_post(struct web_call *call)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	baton_card card;
	int r;
	if (call->upload_len == 0)
		return bti_diag_err(BATON_EVALUE, "card: choose the school's new card file");
	if (call->upload_len > BATON_OBJ_MAX)
		return bti_diag_err(BATON_EVALUE, "card: over %d bytes: not a school's card",
		                    BATON_OBJ_MAX);
	if ((r = baton_file_read(call->upload, BATON_OBJ_MAX, &bytes, &len)) != 0)
		goto out;
	if ((r = baton_card_parse(bytes, len, &card)) != 0) {
		r = bti_diag_err(BATON_EVALUE, "card: not a school's card (%s)", baton_strerror(r));
		goto out;
	}
	if ((r = peers_card_valid(&card, serve_now())) != 0) {
		r = diag_named(BATON_EVALUE, "card");
		goto out;
	}
	struct school_update u = {.card = &card, .bytes = bytes, .len = len};
	if ((r = school_peer_update(call->st, &u, serve_now())) != 0) {
		r = diag_named(r, "card");
		goto out;
	}
	json_t *o = peers_card_json(&card);
	if (o) {
		json_object_set_new(o, "result", json_string(u.same ? "unchanged" : "updated"));
		json_object_set_new(o, "requeued", json_integer((json_int_t)u.requeued));
	}
	r = web_ok(call, o);
out:
	free(bytes);
	return r;
}

struct sign_ctx {
	const baton_key *key;
	int signed_now;
};

static int sign_fn(store_txn *t, void *arg)
{
	struct sign_ctx *c = arg;
	return store_audit_sign(t, c->key, &c->signed_now);
}

/* Signs what was appended without the key; while serve runs, every write is signed already. */
static int audit_sign_post(struct web_call *call)
{
	struct sign_ctx c = {web_key(call), 0};
	struct audit_verified v;
	char words[1024];
	json_t *o;
	int r = store_write(call->st, sign_fn, &c);
	if (r != 0)
		return r;
	r = audit_verify(call->st, NULL, 0, &v);
	if (r != 0 && !audit_verify_failed(&v, r))
		return r;
	audit_verify_words(&v, r, words, sizeof(words));
	if ((o = audit_verify_json(&v, NULL, r)) != NULL) {
		json_object_set_new(o, "signed_now", json_boolean(c.signed_now));
		json_object_set_new(o, "message", json_string(words));
	}
	return web_ok(call, o);
}

static int audit_held_get(struct web_call *call)
{
	const char *school = web_query(call, "school");
	json_t *arr;
	int r = school_held_json(call->st, school && *school ? school : NULL, &arr);
	return r ? r : web_ok(call, json_pack("{s:o}", "held", arr));
}

/*
 * The new key file is saved under the passphrase serve started with, never
 * one typed in the browser; serve takes the new key by itself once the file
 * changed (keyring_check), and opens packets sealed to the old one in its
 * grace.
 */
static int rekey_post(struct web_call *call)
{
	const char *confirm = web_body_str(call, "confirm");
	struct school_card c = {0};
	struct rekey k;
	const struct keyring *kr = &call->nd->keys;
	int r;

	memset(&k, 0, sizeof(k));
	if ((r = school_card_read(call->st, &c)) != 0)
		goto out;
	if (confirm == NULL || strcmp(confirm, c.parsed.code) != 0) {
		r = bti_diag_err(BATON_EVALUE, "confirm: type the school code %s to confirm",
		                 c.parsed.code);
		goto out;
	}
	if ((r = rekey_node(call->st, serve_dir(call->nd), web_key(call), kr->pass, kr->plen,
	                    serve_now(), &k)) != 0)
		goto out;
	r = web_ok(call, json_pack("{s:s, s:s, s:o}", "fingerprint", k.fnew, "old_fingerprint",
	                           k.fold, "card", peers_card_json(&k.card)));
out:
	school_card_free(&c);
	rekey_free(&k);
	return r;
}

const struct web_route web_routes_school[] = {
    {"POST", "school/rekey", WEB_ROUTE_ADMIN, rekey_post},
    {"GET", "school", 0, school_get},
    {"GET", "school/card", 0, school_card_get},
    {"GET", "school/rotation", 0, school_rotation_get},
    {"PUT", "school/endpoint", WEB_ROUTE_ADMIN, endpoint_put},
    {"POST", "peers/update", WEB_ROUTE_ADMIN | WEB_ROUTE_UPLOAD, peer_update_post},
    {"POST", "audit/sign", WEB_ROUTE_ADMIN, audit_sign_post},
    {"GET", "audit/held", 0, audit_held_get},
    {NULL, NULL, 0, NULL},
};

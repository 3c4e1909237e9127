/*
 * The console's API: send (web_api.h). Consents on file and brought by
 * hand, every release rule's verdict before sealing, and the send itself:
 * each calls the node function its command does ('baton consent list',
 * 'baton consent import', 'baton send'), so the two cannot disagree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <sodium.h>

#include "bti.h"
#include "log.h"
#include "transfer.h"
#include "view_consent.h"
#include "view_files.h"
#include "view_send.h"
#include "web_api.h"
#include "web_impl.h"

#define SKEW 300

/* GET consents?student=ID: the consents on file, as 'baton consent list --json'. */
static int consents_get(struct web_call *call)
{
	const char *student = web_query(call, "student");
	json_t *arr;
	int r;
	if (student && !student[0])
		student = NULL;
	if ((r = consent_view_list(call->st, student, serve_now(), &arr)) != 0)
		return r;
	return web_ok(call, arr);
}

/* POST consents: a consent or revocation file, as 'baton consent import FILE'. */
static int consents_post(struct web_call *call)
{
	struct consent_import_req x;
	char id[2 * BATON_ID_BYTES + 1];
	uint8_t *buf = NULL;
	int r;

	memset(&x, 0, sizeof(x));
	if (!call->upload || call->upload_len == 0)
		return bti_diag_err(BATON_EVALUE,
		                    "file: empty: choose a consent or revocation file");
	if (call->upload_len > BATON_OBJ_MAX)
		return bti_diag_err(BATON_EVALUE,
		                    "file: %zu bytes: a consent or revocation is at most %d bytes",
		                    call->upload_len, BATON_OBJ_MAX);
	if ((r = baton_file_read(call->upload, BATON_OBJ_MAX, &buf, &x.len)) != 0)
		return r;
	x.bytes = buf;
	r = consent_view_import(call->st, &x);
	free(buf);
	if (r != 0)
		return r;
	call->status = 201;
	if (x.type == BATON_OBJ_CONSENT)
		return web_ok(call, consent_view_json(&x.c, serve_now()));
	return web_ok(call, json_pack("{s:s, s:s, s:b}", "type", "revocation", "consent",
	                              serve_hex(x.rv.consent_id, BATON_ID_BYTES, id), "effective",
	                              x.effective));
}

static int school_one(const char *code, const baton_card *c, const store_trust *how, void *arg)
{
	json_t *o;
	if (how->withdrawn_by[0])
		return 0;
	o = json_pack("{s:s, s:s}", "code", code, "name", c->name);
	return json_array_append_new(arg, o) != 0 ? BATON_ENOMEM : 0;
}

static int schools_fn(store_txn *t, void *arg)
{
	json_array_clear(arg);
	return store_trusted_each(t, school_one, arg);
}

/* GET send/schools: the trusted schools a record may go to (pinned or through a directory). */
static int schools_get(struct web_call *call)
{
	json_t *arr = json_array();
	int r;
	if (arr == NULL)
		return BATON_ENOMEM;
	if ((r = store_read(call->st, schools_fn, arr)) != 0) {
		json_decref(arr);
		return r;
	}
	return web_ok(call, json_pack("{s:o}", "schools", arr));
}

/* What a send or its check is given: {"student", "to", "consent" | "consent_file", ...}. */
struct send_body {
	const char *student, *to;
	uint8_t *consent; /* malloc'd */
	size_t len;
	uint32_t sections;
	int again;
};

/* The consent: by the id of one on file, or the file itself in base64. */
static int body_consent(struct web_call *call, struct send_body *b)
{
	const char *id = web_body_str(call, "consent");
	const char *file = web_body_str(call, "consent_file");
	uint8_t cid[BATON_ID_BYTES];
	size_t n, max = BATON_OBJ_MAX;
	int r;

	if (!id == !file)
		return bti_diag_err(BATON_EVALUE,
		                    id ? "consent: give consent or consent_file, not both"
		                       : "consent: choose a consent on file or upload "
		                         "the family's consent file");
	if (id) {
		if ((r = web_id("consent", id, cid, sizeof(cid))) != 0)
			return r;
		return send_consent_on_file(call->st, cid, &b->consent, &b->len);
	}
	if (strlen(file) > sodium_base64_ENCODED_LEN(max, sodium_base64_VARIANT_ORIGINAL))
		return bti_diag_err(BATON_EVALUE, "consent_file: a consent is at most %zu bytes",
		                    max);
	if ((b->consent = malloc(max)) == NULL)
		return BATON_ENOMEM;
	if (sodium_base642bin(b->consent, max, file, strlen(file), " \r\n", &n, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n == 0)
		return bti_diag_err(BATON_EVALUE, "consent_file: not a file in base64");
	b->len = n;
	return 0;
}

/* The body of a send or its check; cohort: the student may be left out (the consent names one). */
static int body_read(struct web_call *call, struct send_body *b, int cohort)
{
	const char *secs = web_body_str(call, "sections");
	json_t *again = call->body ? json_object_get(call->body, "again") : NULL;
	int r;

	memset(b, 0, sizeof(*b));
	b->student = web_body_str(call, "student");
	b->to = web_body_str(call, "to");
	if (cohort && !b->student)
		; /* the student the consent names, once it verifies */
	else if (!b->student || !b->student[0] || strlen(b->student) > BATON_STUDENT_MAX)
		return bti_diag_err(BATON_EVALUE,
		                    "student: choose a student (an id of at most %d "
		                    "bytes)",
		                    BATON_STUDENT_MAX);
	if (!b->to || !b->to[0])
		return bti_diag_err(BATON_EVALUE, "to: choose the school the record goes to");
	if (again && !json_is_boolean(again))
		return bti_diag_err(BATON_EVALUE, "again: true or false");
	b->again = json_is_true(again);
	if (secs && secs[0] && (r = baton_sections_parse(secs, &b->sections)) != 0)
		return bti_diag_err(r, "sections: %s", baton_diag_for(r));
	return body_consent(call, b);
}

/* POST send/check: every release rule's verdict, nothing sealed. */
static int check_post(struct web_call *call)
{
	struct send_body b;
	struct send_check x;
	int r;

	if ((r = body_read(call, &b, 0)) == 0) {
		memset(&x, 0, sizeof(x));
		x.student = b.student;
		x.to_code = b.to;
		x.consent = b.consent;
		x.consent_len = b.len;
		x.sections = b.sections;
		x.now = serve_now();
		x.skew = SKEW;
		if ((r = send_check(call->st, &x)) == 0)
			r = web_ok(call, send_check_json(&x));
	}
	free(b.consent);
	return r;
}

/* A refusal in words: why a rule refused, or the packet already sent. */
static int send_refused(const struct send_req *s)
{
	char why[sizeof(s->why)];
	const char *d = baton_diag_for(s->refused);
	snprintf(why, sizeof(why), "%s",
	         s->why[0] ? s->why
	         : d[0]    ? d
	                   : baton_strerror(s->refused));
	/* The command line's hint at --again; the console asks with its own button. */
	char *hint = strstr(why, " (--again");
	if (hint)
		*hint = 0;
	if (s->student)
		return bti_diag_err(s->skipped ? BATON_EEXIST : s->refused, "%s: %s", s->student,
		                    why);
	return bti_diag_err(s->skipped ? BATON_EEXIST : s->refused, "%s", why);
}

static int send_answer(struct web_call *call, const struct send_req *s)
{
	char secs[200], id[2 * BATON_ID_BYTES + 1], hash[2 * BATON_HASH_BYTES + 1];
	baton_sections_format(s->release, secs, sizeof(secs));
	serve_hex(s->info.id, BATON_ID_BYTES, id);
	serve_hex(s->info.hash, BATON_HASH_BYTES, hash);
	node_log(LOG_INFO, "web: %s sent packet %s to %s", call->s->user, id, s->to_code);
	json_t *o =
	    json_pack("{s:s?, s:s, s:b, s:s, s:s, s:s, s:I, s:s}", "student", s->student, "to",
	              s->to_code, "sent", 1, "state", s->out ? "sent" : "queued", "sections", secs,
	              "packet", id, "bytes", (json_int_t)s->info.len, "hash", hash);
	if (o && s->out)
		json_object_set_new(o, "download", json_sprintf("outbox/%s/packet", id));
	return web_ok(call, o);
}

/*
 * "as_file": true: the packet is written to carry by hand, recorded as
 * sent, as 'baton send --out'; kept in the outbox for GET outbox/ID/packet.
 */
static int send_as_file(struct web_call *call, struct send_req *s, char *out, size_t n)
{
	json_t *v = call->body ? json_object_get(call->body, "as_file") : NULL;
	int r;
	if (v && !json_is_boolean(v))
		return bti_diag_err(BATON_EVALUE, "as_file: true or false");
	if (!json_is_true(v))
		return 0;
	if (!s->student)
		return bti_diag_err(BATON_EVALUE,
		                    "student: a record sent as a file is for one student");
	if ((r = files_packet_path(serve_dir(call->nd), out, n)) != 0)
		return r;
	s->out = out;
	return 0;
}

/*
 * POST send: as 'baton send STUDENT --to CODE --consent FILE', queued for
 * the outbox; without "student", as one consent of a cohort.
 */
static int send_post(struct web_call *call)
{
	struct send_body b;
	struct send_req s;
	char file[256];
	int r;

	if ((r = body_read(call, &b, 1)) != 0)
		goto out;
	memset(&s, 0, sizeof(s));
	s.student = b.student;
	s.to_code = b.to;
	s.consent = b.consent;
	s.consent_len = b.len;
	s.sections = b.sections;
	s.again = b.again;
	s.key = web_key(call);
	s.node_dir = serve_dir(call->nd);
	s.now = serve_now();
	s.skew = SKEW;
	if ((r = send_as_file(call, &s, file, sizeof(file))) != 0)
		goto out;
	/* Without a student, as one of 'baton send --consents DIR': the one the consent names. */
	r = s.student ? transfer_send(call->st, &s) : transfer_send_many(call->st, &s, 1);
	if (r != 0)
		goto out;
	r = s.refused ? send_refused(&s) : send_answer(call, &s);
out:
	free(b.consent);
	return r;
}

const struct web_route web_routes_send[] = {
    {"GET", "consents", 0, consents_get},    {"POST", "consents", WEB_ROUTE_UPLOAD, consents_post},
    {"GET", "send/schools", 0, schools_get}, {"POST", "send/check", 0, check_post},
    {"POST", "send", 0, send_post},          {NULL, NULL, 0, NULL},
};

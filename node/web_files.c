/*
 * The console's API: files carried by hand (web_api.h), for schools the
 * network does not join. A queued or sent packet downloaded, as 'baton
 * outbox export'; a packet file imported with its receipt to send back, as
 * 'baton import --receipt-out'; that receipt recorded at the sending
 * school, as 'baton receipt import'. ('POST send' with "as_file" is 'baton
 * send --out'.) Each calls the same node functions as its command.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <baton/record.h>

#include "bti.h"
#include "keyring.h"
#include "log.h"
#include "transfer.h"
#include "view_files.h"
#include "view_transfers.h"
#include "web_api.h"
#include "web_impl.h"

#define SKEW       300
#define PACKET_MAX ((size_t)1 << 30) /* bytes of a packet file read into a download */

/* A download's file name from its parts: what a header may carry, the rest '_'. */
static void file_name(char *buf, size_t n, const char *a, const char *b, const char *ext)
{
	snprintf(buf, n, "%s-%s%s", a, b, ext);
	for (char *p = buf; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.'))
			*p = '_';
}

/* GET outbox/ID/packet: the packet, to carry by hand, as 'baton outbox export ID'. */
static int outbox_packet(struct web_call *call)
{
	uint8_t id[BATON_ID_BYTES], *bytes = NULL;
	char hex[2 * BATON_ID_BYTES + 1];
	store_outbox e;
	size_t len = 0;
	int r;

	if ((r = web_id("packet", call->arg[0], id, BATON_ID_BYTES)) != 0)
		return r;
	serve_hex(id, BATON_ID_BYTES, hex);
	if ((r = files_outbox_find(call->st, hex, &e, &bytes, &len)) != 0)
		return r;
	if (!bytes && (r = baton_file_read(e.file, PACKET_MAX, &bytes, &len)) != 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", baton_diag());
		return bti_diag_err(r, "packet %s: its file cannot be read: %s", hex, why);
	}
	node_log(NODE_LOG_INFO, "web: %s downloaded packet %s", call->s->user, hex);
	call->blob = bytes;
	call->blob_len = len;
	call->blob_type = "application/octet-stream";
	file_name(call->blob_name, sizeof(call->blob_name), e.student, e.to, ".baton");
	return 0;
}

struct inbox_get {
	uint8_t id[BATON_ID_BYTES];
	store_inbox e;
};

static int inbox_fn(store_txn *t, void *arg)
{
	struct inbox_get *x = arg;
	free(x->e.receipt);
	x->e.receipt = NULL;
	return store_inbox_get(t, x->id, &x->e);
}

/* GET inbox/ID/receipt: the receipt given for a packet received, to send back by hand. */
static int inbox_receipt(struct web_call *call)
{
	struct inbox_get x;
	char hex[2 * BATON_ID_BYTES + 1];
	int r;

	memset(&x, 0, sizeof(x));
	if ((r = web_id("packet", call->arg[0], x.id, BATON_ID_BYTES)) != 0)
		return r;
	serve_hex(x.id, BATON_ID_BYTES, hex);
	if ((r = store_read(call->st, inbox_fn, &x)) != 0) {
		free(x.e.receipt);
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(r, "packet %s: no packet with that id came here", hex)
		           : r;
	}
	if (x.e.receipt == NULL || x.e.receipt_len == 0) {
		free(x.e.receipt);
		return bti_diag_err(BATON_ENOTFOUND, "packet %s: no receipt was given for it", hex);
	}
	call->blob = x.e.receipt;
	call->blob_len = x.e.receipt_len;
	call->blob_type = "application/octet-stream";
	file_name(call->blob_name, sizeof(call->blob_name), "receipt", x.e.from, ".receipt");
	return 0;
}

/*
 * A request the policy releases at once, as 'baton import' releases it;
 * why it stays held goes into err (n bytes), "" when it was released.
 */
static void import_release(struct web_call *call, const struct recv_req *q, char *err, size_t n)
{
	struct send_req s;
	memset(&s, 0, sizeof(s));
	s.key = web_key(call);
	s.node_dir = serve_dir(call->nd);
	s.now = q->now;
	s.skew = SKEW;
	if (transfer_release(call->st, q->packet, &s) != 0)
		snprintf(err, n, "held, not released: %s", baton_diag());
	else if (s.refused)
		snprintf(err, n, "held, not released: %s",
		         s.why[0] ? s.why : baton_strerror(s.refused));
}

/* The outcome, as 'baton import --json' gives it, with the receipt in base64. */
static json_t *import_json(const struct recv_req *q, const char *err)
{
	char hex[2 * BATON_ID_BYTES + 1];
	int ok = q->reason == BATON_REASON_ACCEPTED;
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?}", "result", files_import_result(q),
	              "reason", baton_reason_name(q->reason), "kind",
	              q->kind == BATON_KIND_REQUEST ? "request" : "record", "packet",
	              serve_hex(q->packet, BATON_ID_BYTES, hex), "from", q->from, "error", err);
	if (o == NULL)
		return NULL;
	if (ok)
		json_object_set_new(o, "student", json_string(q->student));
	if (ok && q->kind != BATON_KIND_REQUEST && !q->replay)
		json_object_set_new(o, "version", json_integer(q->version));
	if (ok && q->review)
		json_object_set_new(o, "held", json_integer((json_int_t)q->held));
	if (q->receipt) {
		size_t n =
		    sodium_base64_ENCODED_LEN(q->receipt_len, sodium_base64_VARIANT_ORIGINAL);
		char *b = malloc(n);
		if (b == NULL) {
			json_decref(o);
			return NULL;
		}
		sodium_bin2base64(b, n, q->receipt, q->receipt_len, sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(o, "receipt", json_string(b));
		free(b);
		if (ok)
			json_object_set_new(o, "receipt_download",
			                    json_sprintf("inbox/%s/receipt", hex));
	}
	return o;
}

/* Refused unread: not a packet, or not from a pinned school. Nothing was stored. */
static int import_refused(const struct recv_req *q)
{
	char why[512];
	snprintf(why, sizeof(why), "%s", baton_diag());
	return bti_diag_err(BATON_EVALUE,
	                    "file: refused (%s): %s%s%s%s; nothing recorded, no receipt",
	                    baton_reason_name(q->reason), why,
	                    q->claims[0] ? "; the packet claims to be from " : "", q->claims,
	                    q->claims[0] ? " (not verified)" : "");
}

/* Opens the upload and imports it into q; the caller frees q->receipt. */
static int import_file(struct web_call *call, struct recv_req *q)
{
	baton_source src;
	baton_header h;
	int fd, r;

	if ((fd = open(call->upload, O_RDONLY | O_CLOEXEC)) < 0)
		return bti_diag_err(BATON_EIO, "file: %s", strerror(errno));
	if ((r = baton_source_fd(&src, &fd)) == 0) {
		q->src = &src;
		/* A school that has not pinned our new card yet seals to the key a rekey replaced.
		 */
		q->key = baton_packet_peek(&src, &h) == 0 ? keyring_for(call->nd, h.recipient)
		                                          : web_key(call);
		q->key_retired = q->key != web_key(call);
		q->now = serve_now();
		q->skew = SKEW;
		r = transfer_receive(call->st, q);
	}
	close(fd);
	return r;
}

/* POST files/import (the packet file): as 'baton import FILE --receipt-out R'. */
static int import_post(struct web_call *call)
{
	struct recv_req q;
	char hex[2 * BATON_ID_BYTES + 1], err[512] = "";
	int r;

	memset(&q, 0, sizeof(q));
	if (!call->upload || call->upload_len == 0)
		return bti_diag_err(BATON_EVALUE, "file: empty: choose a packet file (.baton)");
	if ((r = import_file(call, &q)) != 0)
		goto out;
	if (q.unverified) {
		r = import_refused(&q);
		goto out;
	}
	if (q.reason != BATON_REASON_ACCEPTED)
		snprintf(err, sizeof(err), "%s", baton_diag());
	else if (q.kind == BATON_KIND_REQUEST && q.auto_release && !q.replay)
		import_release(call, &q, err, sizeof(err));
	node_log(NODE_LOG_INFO, "web: %s imported packet %s from %s: %s", call->s->user,
	         serve_hex(q.packet, BATON_ID_BYTES, hex), q.from, files_import_result(&q));
	r = web_ok(call, import_json(&q, err[0] ? err : NULL));
out:
	free(q.receipt);
	return r;
}

/* POST files/receipt (the receipt file): as 'baton receipt import FILE'. */
static int receipt_post(struct web_call *call)
{
	char hex[2 * BATON_ID_BYTES + 1], why[512];
	baton_receipt rc;
	store_outbox ob;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (!call->upload || call->upload_len == 0)
		return bti_diag_err(BATON_EVALUE, "file: empty: choose the receipt file");
	if (call->upload_len > BATON_OBJ_MAX)
		return bti_diag_err(
		    BATON_EVALUE, "file: %zu bytes: not a receipt (a receipt is at most %d bytes)",
		    call->upload_len, BATON_OBJ_MAX);
	if ((r = baton_file_read(call->upload, BATON_OBJ_MAX, &buf, &len)) != 0)
		return r;
	r = transfer_receipt(call->st, buf, len, &rc, &ob);
	free(buf);
	if (r != 0) {
		snprintf(why, sizeof(why), "%s",
		         baton_diag()[0] ? baton_diag() : baton_strerror(r));
		return bti_diag_err(r, "file: %s", why);
	}
	node_log(NODE_LOG_INFO, "web: %s recorded a receipt for packet %s", call->s->user,
	         serve_hex(rc.packet_id, BATON_ID_BYTES, hex));
	return web_ok(call, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "packet", hex, "kind",
	                              ob.kind == OUT_REQUEST ? "request" : "transfer", "to", ob.to,
	                              "student", ob.student, "state", view_out_state(ob.state),
	                              "reason", baton_reason_name(rc.reason), "note", rc.note));
}

/* The consent file of a request's body, in base64, into *buf (malloc'd) and *len. */
static int body_file(struct web_call *call, const char *name, uint8_t **buf, size_t *len)
{
	const char *b64 = web_body_str(call, name);
	size_t max = BATON_OBJ_MAX;
	if (!b64 || !b64[0])
		return bti_diag_err(BATON_EVALUE, "%s: upload the family's consent file", name);
	if (strlen(b64) > sodium_base64_ENCODED_LEN(max, sodium_base64_VARIANT_ORIGINAL))
		return bti_diag_err(BATON_EVALUE, "%s: a consent is at most %zu bytes", name, max);
	if ((*buf = malloc(max)) == NULL)
		return BATON_ENOMEM;
	if (sodium_base642bin(*buf, max, b64, strlen(b64), " \r\n", len, NULL,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    *len == 0)
		return bti_diag_err(BATON_EVALUE, "%s: not a file in base64", name);
	return 0;
}

/* The request's fields but the consent: from, note, sections, as_file (out: n bytes). */
static int request_body(struct web_call *call, struct send_req *s, char *out, size_t n)
{
	const char *secs = web_body_str(call, "sections");
	json_t *af = call->body ? json_object_get(call->body, "as_file") : NULL;
	int r;

	s->to_code = web_body_str(call, "from");
	s->note = web_body_str(call, "note");
	if (!s->to_code || !s->to_code[0])
		return bti_diag_err(BATON_EVALUE, "from: choose the school to ask for the record");
	if (s->note && !s->note[0])
		s->note = NULL;
	if (s->note && strlen(s->note) > BATON_NOTE_MAX)
		return bti_diag_err(BATON_EVALUE, "note: at most %d bytes", BATON_NOTE_MAX);
	if (secs && secs[0] && (r = baton_sections_parse(secs, &s->sections)) != 0)
		return bti_diag_err(r, "sections: %s", baton_diag_for(r));
	if (af && !json_is_boolean(af))
		return bti_diag_err(BATON_EVALUE, "as_file: true or false");
	if (json_is_true(af)) {
		if ((r = files_packet_path(serve_dir(call->nd), out, n)) != 0)
			return r;
		s->out = out;
	}
	return 0;
}

/*
 * POST requests {"from", "consent_file", "note", "sections", "as_file"}:
 * asks another school for a record, as 'baton request --from CODE
 * --consent FILE' (with "as_file", --out: downloaded from "download").
 */
static int request_post(struct web_call *call)
{
	char hex[2 * BATON_ID_BYTES + 1], secs[200], file[256];
	uint8_t *consent = NULL;
	struct send_req s;
	json_t *o;
	int r;

	memset(&s, 0, sizeof(s));
	if ((r = request_body(call, &s, file, sizeof(file))) != 0 ||
	    (r = body_file(call, "consent_file", &consent, &s.consent_len)) != 0)
		goto out;
	s.consent = consent;
	s.key = web_key(call);
	s.node_dir = serve_dir(call->nd);
	s.now = serve_now();
	s.skew = SKEW;
	if ((r = transfer_request(call->st, &s)) != 0)
		goto out;
	serve_hex(s.info.id, BATON_ID_BYTES, hex);
	baton_sections_format(s.release, secs, sizeof(secs));
	node_log(NODE_LOG_INFO, "web: %s asked %s for a record: request %s", call->s->user,
	         s.to_code, hex);
	o = json_pack("{s:s, s:s, s:s, s:s}", "request", hex, "from", s.to_code, "sections", secs,
	              "state", s.out ? "sent" : "queued");
	if (o && s.out)
		json_object_set_new(o, "download", json_sprintf("outbox/%s/packet", hex));
	call->status = 201;
	r = web_ok(call, o);
out:
	free(consent);
	return r;
}

const struct web_route web_routes_files[] = {
    {"GET", "outbox/*/packet", 0, outbox_packet},
    {"GET", "inbox/*/receipt", 0, inbox_receipt},
    {"POST", "files/import", WEB_ROUTE_UPLOAD, import_post},
    {"POST", "files/receipt", WEB_ROUTE_UPLOAD, receipt_post},
    {"POST", "requests", 0, request_post},
    {NULL, NULL, 0, NULL},
};

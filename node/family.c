/*
 * The family's view (family.h): one read transaction per question, the
 * link and the rights checked inside it, then the same views the
 * registrar's console reads.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "consent.h"
#include "disclosure_copy.h"
#include "enrolment.h"
#include "erase.h"
#include "family.h"
#include "serve.h"
#include "view_consent.h"
#include "view_students.h"
#include "view_transfers.h"

/* ---- links ---- */

static int active_cb(const char *student, const store_guardian *g, void *ctx)
{
	(void)student;
	if (g->restricted)
		return 0;
	*(int *)ctx = 1;
	return 1; /* one is enough */
}

static int active_fn(store_txn *t, void *arg)
{
	void **a = arg;
	int *active = a[1];
	*active = 0;
	int r = store_guardian_each_student(t, a[0], active_cb, active);
	return r == 1 ? 0 : r;
}

int family_key_active(store *st, const uint8_t pk[BATON_PK_BYTES], int *active)
{
	void *a[2] = {(void *)(uintptr_t)pk, active};
	*active = 0;
	return store_read(st, active_fn, a);
}

struct find {
	const uint8_t *pk;
	store_guardian g;
	int found;
};

static int find_cb(const store_guardian *g, void *arg)
{
	struct find *f = arg;
	if (sodium_memcmp(g->pk, f->pk, BATON_PK_BYTES) != 0)
		return 0;
	f->g = *g;
	f->found = 1;
	return 1;
}

/* Whether the key of g holds the rights over student at now: 1 or 0 in *holds. */
static int holds_rights(store_txn *t, const char *student, const store_guardian *g, uint64_t now,
                        int *holds, int *eligible)
{
	int r = consent_student_eligible(t, student, now, eligible);
	if (r != 0)
		return r;
	*holds = consent_holds_rights(g->relation, *eligible);
	return 0;
}

int family_student_check(store_txn *t, const uint8_t pk[BATON_PK_BYTES], const char *student,
                         uint64_t now, int rights, store_guardian *g)
{
	struct find f = {.pk = pk};
	int r, holds, eligible;
	if (!student || !student[0] || strlen(student) > BATON_STUDENT_MAX)
		return bti_diag_err(BATON_ENOTFOUND, "student: not found");
	if ((r = store_guardian_each(t, student, find_cb, &f)) < 0)
		return r;
	if (!f.found || f.g.restricted)
		return bti_diag_err(BATON_ENOTFOUND, "student: not found");
	if (rights) {
		if ((r = holds_rights(t, student, &f.g, now, &holds, &eligible)) != 0)
			return r == BATON_ENOSTUDENT || r == BATON_ENOTFOUND
			           ? bti_diag_err(BATON_ENOTFOUND, "student: not found")
			           : r;
		if (!holds)
			return bti_diag_err(BATON_EPERM,
			                    eligible
			                        ? "the student now holds the rights (18 or in "
			                          "postsecondary education): the student's own key "
			                          "sees the record and consents"
			                        : "the student's parents hold the rights until the "
			                          "student is 18 or in postsecondary education");
	}
	if (g)
		*g = f.g;
	return 0;
}

/* ---- the students of a key ---- */

struct students {
	store_txn *t;
	uint64_t now;
	json_t *arr;
};

static int student_cb(const char *student, const store_guardian *g, void *arg)
{
	struct students *s = arg;
	store_student ix;
	int r, holds = 0, eligible = 0;
	if (g->restricted)
		return 0;
	if ((r = store_student_get(s->t, student, &ix)) == BATON_ENOTFOUND)
		return 0;
	if (r != 0 || (r = holds_rights(s->t, student, g, s->now, &holds, &eligible)) != 0)
		return r;
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", student, "given_name", ix.given_name,
	              "family_name", ix.family_name, "relation", g->relation, "rights",
	              holds      ? "holds"
	              : eligible ? "student"
	                         : "parents");
	return !o || json_array_append_new(s->arr, o) ? BATON_ENOMEM : 0;
}

static int students_fn(store_txn *t, void *arg)
{
	void **a = arg;
	struct students *s = a[1];
	s->t = t;
	json_array_clear(s->arr);
	return store_guardian_each_student(t, a[0], student_cb, s);
}

int family_students(store *st, const uint8_t pk[BATON_PK_BYTES], uint64_t now, json_t **out)
{
	struct students s = {NULL, now, json_array()};
	void *a[2] = {(void *)(uintptr_t)pk, &s};
	int r = s.arr ? store_read(st, students_fn, a) : BATON_ENOMEM;
	if (r != 0) {
		json_decref(s.arr);
		return r;
	}
	*out = s.arr;
	return 0;
}

/* ---- one student ---- */

struct one {
	const uint8_t *pk;
	const char *student;
	uint64_t now;
	int rights;
	json_t *out;
	store_txn *t;  /* the read transaction, for the callbacks of a walk */
	json_t *peers; /* disclosures: each school's peer_json by code, read once a listing */
	/* an attachment */
	const char *hex;
	uint8_t *data;
	size_t len, cap;
	char *name, *type;
};

static int record_fn(store_txn *t, void *arg)
{
	struct one *o = arg;
	struct view_student v;
	const char *k;
	json_t *val, *sections, *atts, *a;
	size_t i;
	int r;

	if ((r = family_student_check(t, o->pk, o->student, o->now, 1, NULL)) != 0)
		return r;
	memset(&v, 0, sizeof(v));
	if ((r = view_student_load(t, o->student, 0, &v)) != 0) {
		view_student_clear(&v);
		return r;
	}
	sections = json_object();
	atts = json_array();
	json_object_foreach(v.record, k, val)
	{
		if (strcmp(k, "attachments") != 0 && sections)
			json_object_set(sections, k, val);
	}
	json_array_foreach(json_object_get(v.record, "attachments"), i, a)
	{
		json_t *x = json_pack(
		    "{s:O?, s:O?, s:O?, s:O?, s:O?}", "hash", json_object_get(a, "hash"), "name",
		    json_object_get(a, "name"), "type", json_object_get(a, "media_type"), "size",
		    json_object_get(a, "size"), "section", json_object_get(a, "section"));
		if (!x || !atts || json_array_append_new(atts, x) != 0)
			r = BATON_ENOMEM;
	}
	if (r == 0 && (!sections || !atts))
		r = BATON_ENOMEM;
	if (r == 0 &&
	    (o->out = json_pack("{s:s, s:O, s:O, s:I, s:i}", "id", o->student, "sections", sections,
	                        "attachments", atts, "updated", (json_int_t)v.s.updated, "version",
	                        (int)v.version)) == NULL)
		r = BATON_ENOMEM;
	json_decref(sections);
	json_decref(atts);
	view_student_clear(&v);
	return r;
}

int family_record(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student, uint64_t now,
                  json_t **out)
{
	struct one o = {.pk = pk, .student = student, .now = now};
	int r = store_read(st, record_fn, &o);
	if (r != 0) {
		json_decref(o.out);
		return r;
	}
	*out = o.out;
	return 0;
}

static int attachment_fn(store_txn *t, void *arg)
{
	struct one *o = arg;
	int r = family_student_check(t, o->pk, o->student, o->now, 1, NULL);
	if (r != 0)
		return r;
	return view_student_attachment(t, o->student, o->hex, &o->data, &o->len, o->name, o->type,
	                               o->cap);
}

int family_attachment(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student,
                      const char *hex, uint64_t now, uint8_t **data, size_t *len, char *name,
                      char *type, size_t cap)
{
	struct one o = {.pk = pk,
	                .student = student,
	                .now = now,
	                .hex = hex,
	                .name = name,
	                .type = type,
	                .cap = cap};
	int r = store_read(st, attachment_fn, &o);
	if (r != 0) {
		free(o.data);
		return r;
	}
	*data = o.data;
	*len = o.len;
	return 0;
}

/* ---- schools ---- */

/* {code, name, fingerprint, id} of a card. */
static json_t *school_json(const baton_card *c)
{
	char fp[BATON_FINGERPRINT_LEN + 1], id[2 * BATON_PK_BYTES + 1];
	baton_fingerprint(c->id_pk, fp);
	return json_pack("{s:s, s:s, s:s, s:s}", "code", c->code, "name", c->name, "fingerprint",
	                 fp, "id", serve_hex(c->id_pk, BATON_PK_BYTES, id));
}

/* {code, name, fingerprint} of school code: its pinned card, else the code alone. */
static json_t *peer_json(store_txn *t, const char *code, int with_id)
{
	baton_card c;
	json_t *o;
	if (store_peer_card(t, code, &c) != 0)
		return json_pack("{s:s, s:s, s:n}", "code", code, "name", "", "fingerprint");
	o = school_json(&c);
	if (o && !with_id)
		json_object_del(o, "id");
	return o;
}

static int school_cb(const char *code, const baton_card *c, const store_trust *how, void *arg)
{
	(void)code;
	if (how->withdrawn_by[0])
		return 0; /* a school whose key is withdrawn is no school to send to */
	json_t *o = school_json(c);
	return !o || json_array_append_new(arg, o) ? BATON_ENOMEM : 0;
}

static int schools_fn(store_txn *t, void *arg)
{
	json_array_clear(arg);
	return store_trusted_each(t, school_cb, arg);
}

int family_schools(store *st, json_t **out)
{
	json_t *arr = json_array();
	int r = arr ? store_read(st, schools_fn, arr) : BATON_ENOMEM;
	if (r != 0) {
		json_decref(arr);
		return r;
	}
	*out = arr;
	return 0;
}

static int own_fn(store_txn *t, void *arg)
{
	return store_own_card(t, arg);
}

json_t *family_school(store *st)
{
	baton_card c;
	if (store_read(st, own_fn, &c) != 0)
		return NULL;
	return school_json(&c);
}

/* ---- disclosures ---- */

static json_t *sections_json(uint32_t mask)
{
	json_t *arr = json_array();
	for (int s = 0; arr && s < BATON_SEC_COUNT; s++)
		if ((mask & BATON_SEC_BIT(s)) &&
		    json_array_append_new(arr, json_string(baton_section_name((baton_section)s))))
			return json_decref(arr), NULL;
	return arr;
}

/* The receipt's state of a disclosure, from its outbox entry. */
static const char *receipt_state(store_txn *t, const uint8_t packet[BATON_ID_BYTES])
{
	store_outbox ob;
	int found = store_outbox_get(t, packet, &ob) == 0;
	return disclosure_receipt_state(&ob, found);
}

static int disclosure_cb(const store_audit *e, void *arg)
{
	struct one *o = arg;
	store_txn *t = o->t;
	char h[2 * BATON_ID_BYTES + 1], c[2 * BATON_ID_BYTES + 1];
	json_t *d;
	if (strcmp(e->student, o->student) != 0)
		return 0;
	/* An erased child's disclosures are not those of a child given its id since. */
	if (strcmp(e->action, ERASE_ACTION) == 0)
		return json_array_clear(o->out) ? BATON_ENOMEM : 0;
	if (strcmp(e->action, "disclosure") != 0)
		return 0;
	/* A school's card is parsed and verified once a listing, not once a disclosure. */
	json_t *to = json_object_get(o->peers, e->peer);
	if (!to && (json_object_set_new(o->peers, e->peer, peer_json(t, e->peer, 0)) != 0 ||
	            (to = json_object_get(o->peers, e->peer)) == NULL))
		return BATON_ENOMEM;
	d = json_pack("{s:I, s:O, s:o, s:s, s:s?, s:s, s:s, s:s?}", "time", (json_int_t)e->time,
	              "to", to, "sections", sections_json(e->sections), "basis",
	              store_audit_basis(e)[0] ? store_audit_basis(e) : "other", "consent",
	              e->has_consent ? serve_hex(e->consent, BATON_ID_BYTES, c) : NULL, "by",
	              e->by[0] ? e->by : "command line", "receipt",
	              e->has_packet ? receipt_state(t, e->packet) : "unknown", "transfer",
	              e->has_packet ? serve_hex(e->packet, BATON_ID_BYTES, h) : NULL);
	/* Newest first: each entry goes before the ones before it. */
	return !d || json_array_insert_new(o->out, 0, d) ? BATON_ENOMEM : 0;
}

static int disclosures_fn(store_txn *t, void *arg)
{
	struct one *o = arg;
	int r = family_student_check(t, o->pk, o->student, o->now, 1, NULL);
	if (r != 0)
		return r;
	json_array_clear(o->out);
	o->t = t;
	if ((o->peers = json_object()) == NULL)
		return BATON_ENOMEM;
	r = store_audit_each(t, o->student, disclosure_cb, o);
	json_decref(o->peers);
	o->peers = NULL;
	return r;
}

/* Runs fn for student into a new array, *out on success. */
static int read_array(store *st, store_fn fn, const uint8_t *pk, const char *student, uint64_t now,
                      json_t **out)
{
	struct one o = {.pk = pk, .student = student, .now = now, .out = json_array()};
	int r = o.out ? store_read(st, fn, &o) : BATON_ENOMEM;
	if (r != 0) {
		json_decref(o.out);
		return r;
	}
	*out = o.out;
	return 0;
}

int family_disclosures(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student,
                       uint64_t now, json_t **out)
{
	return read_array(st, disclosures_fn, pk, student, now, out);
}

/* ---- requests ---- */

static int request_cb(const store_request *e, void *arg)
{
	struct one *o = arg;
	store_txn *t = o->t;
	baton_consent cs;
	char h[2 * BATON_ID_BYTES + 1];
	baton_enrolment en;
	int r, type = 0;
	if (e->state != REQ_HELD || strcmp(e->student, o->student) != 0)
		return 0;
	memset(&cs, 0, sizeof(cs));
	/* On the requester's enrolment statement: only one that describes this child. */
	int enrol = baton_object_type(e->consent, e->consent_len, &type) == 0 &&
	            type == BATON_OBJ_ENROLMENT;
	if (enrol) {
		if (baton_enrolment_parse(e->consent, e->consent_len, &en) != 0)
			return 0;
		if ((r = xfer_enrol_same_child(t, &en)) == BATON_ENOTFOUND || r == BATON_EVALUE) {
			bti_diag_clear(); /* another child's: not this family's to see */
			return 0;
		}
		if (r != 0)
			return r;
		snprintf(cs.purpose, sizeof(cs.purpose),
		         "the student is enrolling there (34 CFR 99.31(a)(2))");
	} else {
		/* verified on arrival */
		(void)baton_consent_parse(e->consent, e->consent_len, &cs);
	}
	json_t *d = json_pack("{s:s, s:o, s:o, s:s, s:s, s:I}", "id",
	                      serve_hex(e->id, BATON_ID_BYTES, h), "from", peer_json(t, e->from, 1),
	                      "sections", sections_json(e->want), "purpose", cs.purpose, "basis",
	                      enrol ? "enrolment" : "consent", "time", (json_int_t)e->time);
	return !d || json_array_append_new(o->out, d) ? BATON_ENOMEM : 0;
}

static int requests_fn(store_txn *t, void *arg)
{
	struct one *o = arg;
	int r = family_student_check(t, o->pk, o->student, o->now, 1, NULL);
	if (r != 0)
		return r;
	json_array_clear(o->out);
	o->t = t;
	r = store_request_each(t, request_cb, o);
	return r;
}

int family_requests(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student, uint64_t now,
                    json_t **out)
{
	return read_array(st, requests_fn, pk, student, now, out);
}

/* ---- consents ---- */

static int check_fn(store_txn *t, void *arg)
{
	struct one *o = arg;
	return family_student_check(t, o->pk, o->student, o->now, o->rights, NULL);
}

/* {code, name, fingerprint} of each school code, read in one transaction. */
static int to_fn(store_txn *t, void *arg)
{
	json_t *arr = arg, *c;
	size_t i;
	json_array_foreach(arr, i, c)
	{
		const char *code = json_string_value(json_object_get(c, "to"));
		if (code && json_object_set_new(c, "to", peer_json(t, code, 0)) != 0)
			return BATON_ENOMEM;
	}
	return 0;
}

int family_consents(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student, uint64_t now,
                    json_t **out)
{
	struct one o = {.pk = pk, .student = student, .now = now, .rights = 1};
	json_t *all = NULL, *arr, *c;
	char line[BATON_PUBKEY_TEXT_MAX];
	size_t i;
	int r;

	if ((r = store_read(st, check_fn, &o)) != 0 ||
	    (r = consent_view_list(st, student, now, &all)) != 0)
		return r;
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, pk, line);
	if ((arr = json_array()) == NULL)
		return json_decref(all), BATON_ENOMEM;
	json_array_foreach(all, i, c)
	{
		const char *signer = json_string_value(json_object_get(c, "signer"));
		const char *status = json_string_value(json_object_get(c, "status"));
		const char *secs = json_string_value(json_object_get(c, "sections"));
		uint32_t mask = 0;
		(void)baton_sections_parse(secs ? secs : "", &mask); /* as the view wrote it */
		json_t *d =
		    json_pack("{s:O?, s:O?, s:o, s:O?, s:O?, s:O?, s:s, s:O?, s:b}", "id",
		              json_object_get(c, "id"), "to", json_object_get(c, "to"), "sections",
		              sections_json(mask), "purpose", json_object_get(c, "purpose"),
		              "issued", json_object_get(c, "issued"), "expires",
		              json_object_get(c, "expires"), "status",
		              status && strcmp(status, "valid") == 0 ? "active"
		              : status                               ? status
		                                                     : "?",
		              "signer", json_object_get(c, "signer_fingerprint"), "mine",
		              signer && strcmp(signer, line) == 0);
		if (!d || json_array_append_new(arr, d) != 0) {
			r = BATON_ENOMEM;
			break;
		}
	}
	json_decref(all);
	if (r == 0)
		r = store_read(st, to_fn, arr);
	if (r != 0) {
		json_decref(arr);
		return r;
	}
	*out = arr;
	return 0;
}

int family_consent_add(store *st, const uint8_t pk[BATON_PK_BYTES], const uint8_t *bytes,
                       size_t len, uint64_t now, json_t **out)
{
	struct consent_import_req x;
	baton_card own;
	char id[2 * BATON_ID_BYTES + 1];
	int type = 0, r;

	if (baton_object_type(bytes, len, &type) != 0 || type != BATON_OBJ_CONSENT)
		return bti_diag_err(BATON_EVALUE, "consent: not a signed consent%s",
		                    type == BATON_OBJ_REVOCATION ? " (it is a revocation)" : "");
	memset(&x, 0, sizeof(x));
	if ((r = baton_consent_parse(bytes, len, &x.c)) != 0)
		return bti_diag_err(BATON_EVALUE, "consent: %s (%s)", baton_diag(),
		                    baton_errname(r));
	if (sodium_memcmp(x.c.signer, pk, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EPERM,
		                    "consent: signed by another key than this session's");
	if ((r = store_read(st, own_fn, &own)) != 0)
		return r;
	if (sodium_memcmp(x.c.from_pk, own.id_pk, BATON_PK_BYTES) != 0)
		return bti_diag_err(
		    BATON_EVALUE, "consent: names another school than %s as the sender", own.code);
	struct one o = {.pk = pk, .student = x.c.student, .now = now, .rights = 1};
	if ((r = store_read(st, check_fn, &o)) != 0)
		return r;
	x.bytes = bytes;
	x.len = len;
	if ((r = consent_view_import(st, &x)) != 0)
		return r;
	*out = json_pack("{s:s, s:s}", "id", serve_hex(x.c.id, BATON_ID_BYTES, id), "status",
	                 "active");
	return *out ? 0 : BATON_ENOMEM;
}

/* The consent a revocation names must be on file, for a student the key sees. */
struct rev_check {
	const uint8_t *pk;
	const uint8_t *consent;
	uint64_t now;
};

static int rev_fn(store_txn *t, void *arg)
{
	struct rev_check *c = arg;
	store_consent sc;
	int r = store_consent_get(t, c->consent, &sc);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(BATON_ENOTFOUND, "consent: not found");
	if (r != 0)
		return r;
	free(sc.bytes);
	return family_student_check(t, c->pk, sc.student, c->now, 0, NULL) == BATON_ENOTFOUND
	           ? bti_diag_err(BATON_ENOTFOUND, "consent: not found")
	           : 0;
}

int family_revocation_add(store *st, const uint8_t pk[BATON_PK_BYTES], const uint8_t *bytes,
                          size_t len, uint64_t now, json_t **out)
{
	struct consent_import_req x;
	char id[2 * BATON_ID_BYTES + 1];
	int type = 0, r;

	if (baton_object_type(bytes, len, &type) != 0 || type != BATON_OBJ_REVOCATION)
		return bti_diag_err(BATON_EVALUE, "revocation: not a signed revocation%s",
		                    type == BATON_OBJ_CONSENT ? " (it is a consent)" : "");
	memset(&x, 0, sizeof(x));
	if ((r = baton_revocation_parse(bytes, len, &x.rv)) != 0)
		return bti_diag_err(BATON_EVALUE, "revocation: %s (%s)", baton_diag(),
		                    baton_errname(r));
	if (sodium_memcmp(x.rv.signer, pk, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EPERM,
		                    "revocation: signed by another key than this session's");
	struct rev_check c = {pk, x.rv.consent_id, now};
	if ((r = store_read(st, rev_fn, &c)) != 0)
		return r;
	x.bytes = bytes;
	x.len = len;
	if ((r = consent_view_import(st, &x)) != 0)
		return r;
	*out = json_pack("{s:s, s:b}", "consent", serve_hex(x.rv.consent_id, BATON_ID_BYTES, id),
	                 "effective", x.effective);
	return *out ? 0 : BATON_ENOMEM;
}

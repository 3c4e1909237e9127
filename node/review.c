/*
 * Records held for review (review.h): reading the queue and deciding an
 * item, for the command line and the console alike.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "dissent.h"
#include "record.h"
#include "review.h"

static const char *const ident_fields[REVIEW_IDENT] = {"given_name", "family_name", "birth_date",
                                                       "state_student_id"};

const char *review_ident_field(size_t i)
{
	return i < REVIEW_IDENT ? ident_fields[i] : "";
}

const char *review_ident_value(const store_student *s, size_t i)
{
	const char *v[REVIEW_IDENT] = {s->given_name, s->family_name, s->birth_date, s->state_id};
	return i < REVIEW_IDENT ? v[i] : "";
}

int review_parse_id(const char *arg, uint64_t *id)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 || v == 0)
		return bti_diag_err(BATON_EVALUE,
		                    "\"%s\" is not a review number (see 'baton review')", arg);
	*id = v;
	return 0;
}

int review_held_index(const store_held *h, json_t **rec, store_student *s)
{
	json_error_t err;
	memset(s, 0, sizeof(*s));
	record_json_failed();
	if ((*rec = json_loadb(h->json, h->len, 0, &err)) == NULL)
		return bti_diag_err(BATON_EIO, "held record %llu does not parse",
		                    (unsigned long long)h->id);
	record_index(*rec, s);
	return 0;
}

int review_held_read(store_txn *t, const store_held *h, store_student *on_file, store_student *held,
                     json_t **rec)
{
	int r;
	*rec = NULL;
	memset(on_file, 0, sizeof(*on_file));
	if ((r = store_student_get(t, h->student, on_file)) < 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == BATON_ENOTFOUND)
		memset(on_file, 0, sizeof(*on_file));
	return review_held_index(h, rec, held);
}

static json_t *ident_json(const store_student *a, const store_student *b)
{
	json_t *o = json_array();
	for (size_t i = 0; i < REVIEW_IDENT && o; i++) {
		const char *x = review_ident_value(a, i), *y = review_ident_value(b, i);
		if (json_array_append_new(o, json_pack("{s:s, s:s, s:s, s:b}", "field",
		                                       ident_fields[i], "on_file", x, "held", y,
		                                       "differs", strcmp(x, y) != 0)) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

int review_held_json(store_txn *t, const store_held *h, int full, json_t **out)
{
	store_student on_file, held;
	char hex[2 * BATON_ID_BYTES + 1] = "";
	json_t *rec = NULL;
	int r;

	*out = NULL;
	if ((r = review_held_read(t, h, &on_file, &held, &rec)) != 0)
		goto out;
	if (h->has_packet)
		sodium_bin2hex(hex, sizeof(hex), h->packet, BATON_ID_BYTES);
	*out = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:o}", "id", (json_int_t)h->id, "student",
	                 h->student, "from", h->from, "their_id", h->their_id, "packet", hex,
	                 "time", (json_int_t)h->time, "identity", ident_json(&on_file, &held));
	r = *out == NULL || (full && json_object_set(*out, "record", rec) != 0)
	        ? bti_diag_err(BATON_ENOMEM, "out of memory")
	        : 0;
out:
	json_decref(rec);
	return r;
}

struct view_ctx {
	store_txn *t;
	uint64_t only; /* 0: every item */
	json_t *out;   /* list: the array; show: the item */
};

static int list_cb(const store_held *h, void *arg)
{
	struct view_ctx *c = arg;
	json_t *o;
	int r;
	if (c->only) {
		if (h->id != c->only)
			return 0;
		return review_held_json(c->t, h, 1, &c->out);
	}
	if ((r = review_held_json(c->t, h, 0, &o)) != 0)
		return r;
	return json_array_append_new(c->out, o) != 0 ? bti_diag_err(BATON_ENOMEM, "out of memory")
	                                             : 0;
}

static int view_fn(store_txn *t, void *arg)
{
	struct view_ctx *c = arg;
	c->t = t;
	return store_held_each(t, list_cb, c);
}

int review_list(store *st, json_t **out)
{
	struct view_ctx c = {NULL, 0, json_array()};
	int r;
	*out = NULL;
	if (c.out == NULL)
		return bti_diag_err(BATON_ENOMEM, "out of memory");
	if ((r = store_read(st, view_fn, &c)) != 0) {
		json_decref(c.out);
		return r;
	}
	*out = c.out;
	return 0;
}

int review_show(store *st, uint64_t id, json_t **out)
{
	struct view_ctx c = {NULL, id, NULL};
	int r;
	*out = NULL;
	if ((r = store_read(st, view_fn, &c)) != 0) {
		json_decref(c.out);
		return r;
	}
	if (c.out == NULL)
		return bti_diag_err(BATON_ENOTFOUND, "no held record %llu", (unsigned long long)id);
	*out = c.out;
	return 0;
}

/* ---- accept and reject ---- */

static int decide_audit(store_txn *t, const store_held *h, const char *student, const char *detail)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s", "review");
	snprintf(e.student, sizeof(e.student), "%s", student);
	snprintf(e.peer, sizeof(e.peer), "%s", h->from);
	if (h->has_packet) {
		memcpy(e.packet, h->packet, BATON_ID_BYTES);
		e.has_packet = 1;
	}
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	return store_audit_append(t, &e);
}

/*
 * The held record as a record of student id: its student_id rewritten, and
 * its statewide id dropped when that belongs to another student.
 */
static int refile(store_txn *t, struct review_decision *c, json_t *rec, char **canon)
{
	char owner[BATON_STUDENT_MAX + 1];
	int r;
	json_object_set_new(rec, "student_id", json_string(c->s.id));
	if (c->s.state_id[0] && (r = store_student_by_state_id(t, c->s.state_id, owner,
	                                                       sizeof(owner))) != BATON_ENOTFOUND) {
		if (r < 0)
			return r;
		if (strcmp(owner, c->s.id) != 0) {
			snprintf(c->state_owner, sizeof(c->state_owner), "%s", owner);
			json_object_del(rec, "state_student_id");
			c->s.state_id[0] = '\0';
			c->dropped_state = 1;
		}
	}
	if (record_json_failed() || (*canon = record_canonical(rec)) == NULL)
		return bti_diag_err(BATON_ENOMEM, "out of memory");
	return 0;
}

/* Filed as another student: a new one, or the same child already on file. */
static int check_as(store_txn *t, struct review_decision *c)
{
	store_student other;
	int r;
	if ((r = store_student_get(t, c->as, &other)) < 0 && r != BATON_ENOTFOUND)
		return r;
	c->new_student = r == BATON_ENOTFOUND;
	if (r == 0 && !store_same_child(&other, &c->s))
		return bti_diag_err(BATON_EVALUE,
		                    "%s %s: student %s on file is not this child either (%s %s, "
		                    "born %s)",
		                    c->as_name ? c->as_name : "as", c->as, c->as, other.given_name,
		                    other.family_name, other.birth_date);
	return 0;
}

static int accept_held(store_txn *t, struct review_decision *c, const store_held *h)
{
	json_t *rec = NULL;
	char *canon = NULL, detail[256];
	int r;

	if ((r = review_held_index(h, &rec, &c->s)) != 0)
		goto out;
	snprintf(c->s.id, sizeof(c->s.id), "%s", c->as ? c->as : h->student);
	if (c->as && (r = check_as(t, c)) != 0)
		goto out;
	if ((r = refile(t, c, rec, &canon)) != 0 ||
	    (r = store_student_put(t, &c->s, canon, strlen(canon))) != 0)
		goto out;
	if (h->from[0] && (r = store_origin_put(t, h->from, h->their_id, c->s.id)) != 0)
		goto out;
	snprintf(detail, sizeof(detail), "accepted held record %llu as %s version %u%s%s",
	         (unsigned long long)h->id, c->s.id, c->s.version,
	         c->as ? ", not the child on file as " : "", c->as ? h->student : "");
	if (c->dropped_state)
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
		         "; its statewide id stays with %s", c->state_owner);
	r = decide_audit(t, h, c->s.id, detail);
out:
	if (canon) {
		sodium_memzero(canon, strlen(canon));
		free(canon);
	}
	json_decref(rec);
	return r;
}

static int decide_fn(store_txn *t, void *arg)
{
	struct review_decision *c = arg;
	store_held h;
	char detail[256];
	int r;

	c->dropped_state = c->new_student = 0;
	if ((r = store_held_get(t, c->id, &h)) != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(BATON_ENOTFOUND, "no held record %llu",
		                                           (unsigned long long)c->id)
		                            : r;
	if (c->accept) {
		r = accept_held(t, c, &h);
	} else {
		snprintf(c->s.id, sizeof(c->s.id), "%s", h.student);
		snprintf(detail, sizeof(detail),
		         "rejected held record %llu: not the child on file as %s; discarded",
		         (unsigned long long)h.id, h.student);
		r = decide_audit(t, &h, h.student, detail);
	}
	if (r == 0)
		r = dissent_held_decided(t, h.id, c->accept ? c->s.id : NULL);
	if (r == 0)
		r = store_held_del(t, c->id);
	store_held_clear(&h);
	return r;
}

int review_decide(store *st, struct review_decision *d)
{
	if (d->as && (strlen(d->as) > BATON_STUDENT_MAX || !record_id_safe(d->as)))
		return bti_diag_err(BATON_EVALUE,
		                    "%s: \"%s\": a student id of at most %d bytes, no '/' or '\\', "
		                    "not starting with '.', no space at either end",
		                    d->as_name ? d->as_name : "as", d->as, BATON_STUDENT_MAX);
	return store_write(st, decide_fn, d);
}

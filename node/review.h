/*
 * Records held for review: a record that names a student on file but is
 * not that child (store_same_child) waits here until a registrar accepts
 * it (as the next version, or filed as another student) or rejects it. The
 * one place the command line and the console read and decide them.
 */
#ifndef BATON_NODE_REVIEW_H
#define BATON_NODE_REVIEW_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "store.h"

#define REVIEW_IDENT 4 /* identity fields a registrar compares */

/* The name of identity field i (< REVIEW_IDENT), in the order shown; static. */
const char *review_ident_field(size_t i);
/* The value of identity field i of s; owned by s. */
const char *review_ident_value(const store_student *s, size_t i);

/*
 * Reads arg, a review number (decimal, from 1), into *id. 0, or
 * BATON_EVALUE with baton_diag() naming arg.
 */
int review_parse_id(const char *arg, uint64_t *id);

/*
 * The held record h parsed (*rec; the caller frees it with json_decref) and
 * its identity (*s, cleared first). 0, or BATON_EIO when it does not parse
 * (*rec is then NULL).
 */
int review_held_index(const store_held *h, json_t **rec, store_student *s);

/*
 * The student h names as on file (*on_file, cleared first: all empty when
 * there is none) and the held record's identity (*held, and the record as
 * *rec, which the caller frees with json_decref). 0, or the store's and
 * review_held_index's errors.
 */
int review_held_read(store_txn *t, const store_held *h, store_student *on_file, store_student *held,
                     json_t **rec);

/*
 * The JSON of held item h: id, student, from, their_id, packet (hex, or
 * ""), time, and identity (per field: field, on_file, held, differs); with
 * full, also record (the held record). *out is new; the caller frees it
 * with json_decref. 0, BATON_ENOMEM, or review_held_read's errors.
 */
int review_held_json(store_txn *t, const store_held *h, int full, json_t **out);

/*
 * Every held item as review_held_json without the record, in number order:
 * *out is a new array the caller frees with json_decref. 0 or the errors
 * of review_held_json and the store.
 */
int review_list(store *st, json_t **out);

/*
 * Held item id as review_held_json with the record: *out is new, the caller
 * frees it with json_decref. BATON_ENOTFOUND (baton_diag() naming id) when
 * there is no such item; otherwise as review_list.
 */
int review_show(store *st, uint64_t id, json_t **out);

/* A registrar's decision on a held record, and what became of it. */
struct review_decision {
	/* in */
	uint64_t id;
	const char *as; /* accept: file under this student id instead; NULL: the one it names */
	const char *as_name; /* what errors call as ("--as"); NULL: "as" */
	int accept;          /* 1: accept; 0: reject (discard) */
	/* out */
	store_student s;   /* the student it was filed as (reject: the one it named) */
	int new_student;   /* accept --as: a student not on file before */
	int dropped_state; /* filed without its statewide id, which another student has */
	char state_owner[BATON_STUDENT_MAX + 1]; /* that student */
};

/*
 * Decides held item d->id in one transaction: accepted, it becomes the
 * current record of d->as (or of the student it names), and reject drops
 * it; either way it is audited as "review" and leaves the queue. 0;
 * BATON_ENOTFOUND when there is no such item; BATON_EVALUE when d->as is
 * not a valid student id, or names a student on file who is not this child
 * either; the store's errors. baton_diag() says which.
 */
int review_decide(store *st, struct review_decision *d);

#endif

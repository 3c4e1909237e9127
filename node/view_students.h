/*
 * The registrar's views of the students on file, as JSON: the search
 * (under 'baton student list' and GET /api/v1/students) and one student's record
 * with its guardians' keys and what waits in review ('baton student show',
 * GET /api/v1/students/ID). The command line and the console call these,
 * so that they cannot disagree.
 */
#ifndef BATON_NODE_VIEW_STUDENTS_H
#define BATON_NODE_VIEW_STUDENTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store.h"

/* A search of the students on file. */
struct view_find {
	/* in */
	const char *term; /* only students whose id, state id or names hold it (ASCII case
	                     ignored); NULL: every student */
	size_t offset;    /* matches skipped before the first listed */
	size_t limit;     /* matches listed at most (SIZE_MAX: all) */
	int with_held; /* 1: each listed student says "held": records held for review naming it */
	/* out */
	json_t *students; /* {student_id, state_student_id, given_name, family_name, birth_date,
	                     version, updated[, held]} in id order; the caller frees it with
	                     json_decref (NULL unless view_students_find returned 0) */
	size_t total;     /* every match, listed or not */
};

/*
 * Searches the students on file in t, field by field in one pass over the
 * store's index: only the students listed are made into JSON. The rule of
 * the search; view_students_search (student_index.h) answers the same
 * from memory, and is what the command and the console call.
 *
 * t  a read (or write) transaction.
 * f  the search in, f->students and f->total out.
 *
 * Returns 0, BATON_ENOMEM, or the store's error (BATON_EIO).
 */
int view_students_find(store_txn *t, struct view_find *f);

/* One student's record, as loaded by view_student_load. */
struct view_student {
	store_student s;   /* the index entry: the latest version, names, when updated */
	uint32_t version;  /* the version in record */
	json_t *record;    /* that version of the record (proto/RECORD.md, attachments with
	                      hash and size) */
	json_t *guardians; /* the guardian keys linked: {key, fingerprint, relation, restricted,
	                      linked} */
	size_t held;       /* records naming this student held for review */
	json_t *dissent;   /* the statements of disagreement kept with it (dissent_list) */
	json_t *terms;     /* the redisclosure terms that came with the records received:
	                      {from, packet, time, terms}, oldest first */
};

/*
 * Loads version (0: the latest) of student id's record, its guardians' keys
 * and the count of records held for it into *v (cleared first); the caller
 * frees what it holds with view_student_clear, also on error.
 *
 * Returns 0; BATON_ENOTFOUND with baton_diag() saying 'no student "ID"' or
 * 'student "ID" has no version N'; BATON_EIO when the stored record does not
 * parse; BATON_ENOMEM; the store's error.
 */
int view_student_load(store_txn *t, const char *id, uint32_t version, struct view_student *v);

/*
 * Rewrites record's attachments as 'baton student export' writes them, for
 * 'baton student import' to read back: each names its file REL/NAME
 * ("path") instead of its hash and size. Returns 0 or BATON_ENOMEM.
 */
int view_student_export(json_t *record, const char *rel);

/*
 * Writes the custody restrictions of rec (proto/RECORD.md, custody[]) to f
 * as text that stands out, one "!! CUSTODY: RESTRICTION: NAME (...)" line
 * each under a heading: a safety field, shown before anything else about
 * the student wherever the command line shows a record. Writes nothing
 * when rec has no custody rows. Cannot fail.
 */
void view_print_custody(FILE *f, const json_t *rec);

/* Frees the record and guardians of v (and sets them NULL). v may be NULL. */
void view_student_clear(struct view_student *v);

/*
 * The versions of student id, from its audit entries: [{version, time,
 * source ("import", the sending school's code, or "review"), by}] oldest
 * first; a version no entry names (its entry older than the log) comes
 * with time 0 and source "". *out is the caller's, freed with json_decref.
 *
 * Returns 0, BATON_ENOMEM, or the store's error.
 */
int view_student_versions(store_txn *t, const char *id, uint32_t latest, json_t **out);

/*
 * The bytes of the attachment with hash hex (64 hexadecimal digits) that
 * some version of student id's record names, copied into *data (malloc'd:
 * the caller frees it with free()), with its name and media type from the
 * record (name and type, cap bytes each).
 *
 * Returns 0; BATON_EVALUE when hex is not 64 hexadecimal digits;
 * BATON_ENOTFOUND when no such student, or none of its versions names
 * that attachment; BATON_EIO when its bytes are missing from the store;
 * BATON_ENOMEM.
 */
int view_student_attachment(store_txn *t, const char *id, const char *hex, uint8_t **data,
                            size_t *len, char *name, char *type, size_t cap);

#endif

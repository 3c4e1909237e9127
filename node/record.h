/* Student records in the registrar's JSON (proto/RECORD.md): validation. */
#ifndef BATON_NODE_RECORD_H
#define BATON_NODE_RECORD_H

#include <stddef.h>

#include <jansson.h>

#include "store.h"

/*
 * Checks rec against proto/RECORD.md. Returns 0, or BATON_EVALUE /
 * BATON_EMISSING / BATON_EUNKNOWN / BATON_ETYPE with baton_diag() naming
 * the field path ("transcript[2].credits_earned: ...").
 */
int record_validate(const json_t *rec);

/*
 * Validates one section's value (for sections received in a packet).
 * Returns 0, the errors of record_validate, or BATON_EUNKNOWN when section
 * names no section.
 */
int record_validate_section(const char *section, const json_t *value);

/*
 * A record's date: s is exactly "YYYY-MM-DD", a real calendar date from
 * 1900-01-01 to 2100-12-31. Returns 0 and sets *ymd (YYYYMMDD), else -1.
 */
int record_date_value(const char *s, int *ymd);

/*
 * Fills the index fields of s (names, birth date, statewide id) from rec;
 * a field rec lacks is left empty. Both are the caller's. Cannot fail.
 */
void record_index(const json_t *rec, store_student *s);

/*
 * Predicate: 1 when a student id can name a file and one student: no '/',
 * no '\\', not starting with '.', no space at either end; else 0.
 */
int record_id_safe(const char *id);

/*
 * Canonical text of a JSON value: compact, keys sorted. The caller frees it
 * with free(); NULL when out of memory (also when jansson dropped a piece).
 */
char *record_canonical(const json_t *v);

/*
 * jansson does not report every failed allocation: its parser can drop a
 * character, and an object a key, and go on. record_json_init routes its
 * allocations through a hook that remembers a failure (once per process,
 * before any JSON); record_json_failed says whether one happened in this
 * thread since it was last asked (1, else 0), and forgets it. Neither
 * can fail.
 */
void record_json_init(void);
int record_json_failed(void);

#endif

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

/* Validates one section's value (for sections received in a packet). */
int record_validate_section(const char *section, const json_t *value);

/* Fills the index fields of s (names, birth date, statewide id) from rec. */
void record_index(const json_t *rec, store_student *s);

/*
 * 1 when a student id can name a file and one student: no '/', no '\\', not
 * starting with '.', no space at either end.
 */
int record_id_safe(const char *id);

/* Canonical text of a JSON value: compact, keys sorted. Caller frees; NULL when out of memory. */
char *record_canonical(const json_t *v);

/*
 * jansson does not report every failed allocation: its parser can drop a
 * character, and an object a key, and go on. record_json_init routes its
 * allocations through a hook that remembers a failure (once per process,
 * before any JSON); record_json_failed says whether one happened in this
 * thread since it was last asked, and forgets it.
 */
void record_json_init(void);
int record_json_failed(void);

#endif

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

/* 1 when a student id can name a file: no '/', no '\\', not starting with '.'. */
int record_id_safe(const char *id);

/* Canonical text of a JSON value: compact, keys sorted. Caller frees. */
char *record_canonical(const json_t *v);

#endif

/*
 * Guardians' keys linked to a student: which parents (or the student, as
 * "self") may consent to a record's release. The one place the command
 * line and the console read, check, link and unlink them.
 */
#ifndef BATON_NODE_GUARDIAN_H
#define BATON_NODE_GUARDIAN_H

#include <stdint.h>

#include <baton/keys.h>
#include <jansson.h>

#include "store.h"

/*
 * Reads line, a guardian's public key line (baton-gk1-...), into pk. 0, or
 * BATON_EVALUE with baton_diag() naming what (the field) and the start of
 * the line.
 */
int guardian_key_parse(const char *what, const char *line, uint8_t pk[BATON_PK_BYTES]);

/* 1 when rel is a relation a link may carry (a short lower-case word), else 0. */
int guardian_relation_valid(const char *rel);

/*
 * The JSON of link g: key (its line), fingerprint, relation, restricted,
 * linked. A new object the caller frees with json_decref, or NULL when
 * memory ran out.
 */
json_t *guardian_json(const store_guardian *g);

/*
 * Student's links as an array of guardian_json, in key order: *out is new,
 * the caller frees it with json_decref. BATON_ENOTFOUND (baton_diag() naming
 * student) when there is no such student; BATON_ENOMEM; the store's errors.
 */
int guardian_list(store *st, const char *student, json_t **out);

/*
 * Links g->pk to student with g's relation and restriction (g->linked is
 * set to the transaction's time), replacing the link it had; audited as
 * "guardian-link". BATON_ENOTFOUND: no such student; BATON_EVALUE: a
 * relation guardian_relation_valid refuses; BATON_ERESTRICTED: the key is
 * restricted for student and g would lift that (unlink first); the store's
 * errors. baton_diag() says which.
 */
int guardian_link(store *st, const char *student, store_guardian *g);
/* The same, inside the caller's write transaction t (for a change that must go with the link). */
int guardian_link_txn(store_txn *t, const char *student, store_guardian *g);

/*
 * Unlinks pk from student; audited as "guardian-unlink". BATON_ENOTFOUND
 * when there is no such student or the key is not linked to it (baton_diag()
 * says which); the store's errors.
 */
int guardian_unlink(store *st, const char *student, const uint8_t pk[BATON_PK_BYTES]);

/*
 * The key linked to student that which names: its fingerprint (as
 * baton_fingerprint writes it), its public key line, or its 64 hex digits;
 * into pk. BATON_ENOTFOUND (baton_diag() naming which) when no link of
 * student matches, or there is no such student; the store's errors.
 */
int guardian_find(store *st, const char *student, const char *which, uint8_t pk[BATON_PK_BYTES]);

#endif

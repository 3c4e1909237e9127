/*
 * The rules a sending node applies to a consent before any release
 * (34 CFR 99.30, 99.4, 99.5). Used by 'baton consent check' and by every
 * transfer the node sends.
 */
#ifndef BATON_NODE_CONSENT_H
#define BATON_NODE_CONSENT_H

#include <jansson.h>

#include <baton/packet.h>

#include "store.h"

/* Keys a school held before its current one; how many rotations are followed back. */
#define FORMER_MAX 8
struct former_set {
	baton_former_key from[FORMER_MAX], to[FORMER_MAX];
	size_t n_from, n_to;
	baton_former_keys k; /* set by former_of() */
};

/*
 * f as the sealer and opener take it: points into f (call again after a
 * copy), so it lives as long as f and is not freed. Cannot fail.
 */
const baton_former_keys *former_of(struct former_set *f);

/*
 * Fills f with the former keys of the releasing school (current key from)
 * and of the receiving school (current key to), from the rotation
 * statements recorded here (PROTOCOL.md §5.2); to may be NULL (not
 * wanted: no receiving school). Follows at most FORMER_MAX rotations back
 * and stops at a statement that loops. Returns 0, BATON_EIO when a recorded
 * statement does not parse, or the store's error.
 */
int consent_former_read(store_txn *t, const uint8_t from[BATON_PK_BYTES],
                        const uint8_t to[BATON_PK_BYTES], struct former_set *f);

/*
 * Records a rotation statement (this school's own, or a pinned school's whose
 * new card was accepted with it), so that a consent issued before it still
 * names that school. Returns 0, the statement's decoding or signature
 * error (nothing stored), or the store's error.
 */
int consent_rotation_put(store_txn *t, const uint8_t *bytes, size_t len);

/*
 * Rules 3 and 4 on their own: c names the school whose key is now from (in
 * words, from_name) as the sending school and, unless to is NULL, the one
 * whose key is now to as the receiving school, by those keys or by keys they
 * rotated from after c was issued. Fills f with both schools' former keys,
 * for the sealer. 0, or BATON_EFROM / BATON_ETO saying which key and which
 * rotation.
 */
int consent_names_schools(store_txn *t, const baton_consent *c, const uint8_t *from,
                          const char *from_name, const uint8_t *to, const char *to_name,
                          uint64_t skew, struct former_set *f);

/*
 * Predicate: 1 when pk (BATON_PK_BYTES) is a former key in f of the
 * releasing school (to == 0) or of the receiving one, else 0.
 */
int consent_former_has(const struct former_set *f, int to, const uint8_t *pk);

struct release_check {
	/* in */
	const uint8_t *consent; /* the encoded consent */
	size_t consent_len;
	const baton_consent *verified; /* or NULL: the consent, already parsed and verified */
	const uint8_t *my_id_pk;       /* this school's identity key */
	const uint8_t *to_pk;          /* the school the record would go to */
	uint32_t sections;             /* sections asked for; 0: everything consented */
	uint64_t now, skew;
	json_t *
	    *record; /* when set, gets the student's stored record, parsed by rule 2, to
	                json_decref whatever the outcome (left alone if rule 2 is not reached) */
	/* out */
	baton_consent c; /* the decoded consent, once rule 1 passed */
	int parsed;
	uint32_t release; /* sections to release: identity always, plus the asked ones */
	struct former_set
	    former; /* the schools' former keys, for sealing what rules 3 and 4 let pass */
};

/*
 * Applies, in order: 1 signature; 2 signer linked to the student, not
 * restricted, and the right person for the student's age (guardian before
 * eligibility, the student's own key after); 3 sending school is this node;
 * 4 receiving school is q->to_pk; 5 sections inside the consent; 6 validity
 * window with skew; 7 not revoked; 8 the consent id not bound to another
 * student. Binds the id to the student when all pass. Returns 0 or the
 * rule's BATON_E* code with baton_diag() in words a registrar understands.
 * Writes no audit entry: see consent_audit().
 */
int consent_check(store_txn *t, struct release_check *q);

/* One release rule's verdict (consent_rules). */
#define CONSENT_RULES 9
enum { CONSENT_RULE_PASSED, CONSENT_RULE_FAILED, CONSENT_RULE_UNCHECKED };
struct consent_rule {
	const char *name;  /* static: "signature", "signer", "age", "from", "to", "sections",
	                      "validity", "revocation", "once" */
	const char *title; /* static: what the rule asks, in words */
	int state;         /* CONSENT_RULE_* */
	int err;           /* CONSENT_RULE_FAILED: the rule's BATON_E* code; else 0 */
	char why[300];     /* the verdict in words */
};

/*
 * consent_check's rules 1 to 8 (rule 2 as two verdicts, "signer" and "age"),
 * each applied on its own rather than stopping at the first that fails, for
 * showing a registrar every verdict before a release. Reads only: binds
 * nothing, audits nothing. q as for consent_check (q->record may be NULL);
 * q->c and q->parsed are set when the consent decodes, q->release when every
 * rule passed. v (CONSENT_RULES entries, the caller's) gets the verdicts in
 * order, *n how many (CONSENT_RULES). A rule that cannot be applied because
 * an earlier one failed is CONSENT_RULE_UNCHECKED. Returns 0 (whatever the
 * verdicts), or the store's error (BATON_EIO, BATON_ENOMEM, ...).
 */
int consent_rules(store_txn *t, struct release_check *q, struct consent_rule *v, size_t *n);

/*
 * The latest stored record of a student, parsed, into *rec: the caller
 * frees it with json_decref (*rec is NULL on error). Returns 0,
 * BATON_ENOSTUDENT when the student has no record, BATON_EIO when the stored
 * record does not parse, BATON_ENOMEM (an allocation that failed while
 * parsing: never a record with a piece missing), or the store's error.
 */
int student_record_load(store_txn *t, const char *student, json_t **rec);

/*
 * *eligible gets 1 when the student is eligible (18 or over at now, or in
 * postsecondary education), else 0. Returns 0, or student_record_load's
 * error.
 */
int consent_student_eligible(store_txn *t, const char *student, uint64_t now, int *eligible);

/*
 * 1 when a student born on birth ("YYYY-MM-DD"; NULL or anything else
 * counts as no birth date) is 18 or over at now, else 0: the age half of
 * consent_student_eligible's rule, without the record.
 */
int consent_birth_eligible(const char *birth, uint64_t now);

/*
 * 1 when a key linked with relation holds the rights over a student's
 * record (FERPA): a guardian's key while the student is not eligible, the
 * student's own ("self") once eligible; else 0. Cannot fail.
 */
int consent_holds_rights(const char *relation, int eligible);

/*
 * Appends the audit entry of a check (action, student, school, consent,
 * sections, outcome): result is consent_check's return, its diagnostic the
 * entry's detail; peer_code may be NULL (no school named). Returns 0 or the
 * store's error.
 */
int consent_audit(store_txn *t, const struct release_check *q, int result, const char *action,
                  const char *peer_code);

/*
 * *revoked gets 1 when a revocation on file withdraws c: one signed by c's
 * signer, or by a key linked to the student and not restricted; 0 when none
 * does. Every revocation that arrived before c was known is judged at now
 * (the same instant as the other rules), and the verdict kept in a write
 * transaction. *when (may be NULL: not wanted) gets the revocation's time.
 * Returns 0, BATON_EIO when a stored revocation does not parse, BATON_ENOMEM,
 * or the store's error.
 */
int consent_revoked(store_txn *t, const baton_consent *c, uint64_t now, int *revoked,
                    uint64_t *when);

/*
 * Stores a revocation after checking, at now, that its signer may revoke that
 * consent. For a consent not known here yet it is kept pending only when its
 * signer is linked, unrestricted, to some student at this node, or when
 * shown (may be NULL; the caller verified it) is that consent, signed by the
 * same key and naming this school; otherwise BATON_ENOTLINKED (or the error
 * naming what shown gets wrong) and nothing is stored.
 */
int consent_revoke(store_txn *t, const uint8_t *bytes, size_t len, uint64_t now,
                   const baton_consent *shown, baton_revocation *rv);

#endif

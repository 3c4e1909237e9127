/*
 * Federation directories on the node: pinning an authority, taking the
 * directories it signs, and what 'baton directory show' lists. The CLI and
 * the console call these; every change is audited in the transaction that
 * makes it, and nothing refused is stored or audited.
 */
#ifndef BATON_NODE_DIRECTORY_H
#define BATON_NODE_DIRECTORY_H

#include <stddef.h>
#include <stdint.h>

#include <baton/baton.h>
#include <jansson.h>

#include "store.h"

/*
 * Pins the authority with key pk, with label (the caller's; "" for none)
 * and the URL serve fetches its directory from (checked as
 * dirfetch_url_check does; "" for none; NULL keeps the one held), audited
 * "directory-trust". *again (may be NULL) is 1 when it was pinned already
 * (its label is then replaced). Returns 0, BATON_EINVAL for a label too
 * long, BATON_EVALUE for a URL refused, or the store's errors.
 */
int directory_trust(store *st, const uint8_t pk[BATON_PK_BYTES], const char *label, const char *url,
                    int *again);

/*
 * Sets the URL serve fetches the directory of the authority whose
 * fingerprint is fpr from ("" for none: it is then taken from files
 * only), audited "directory-url". Returns 0, BATON_EVALUE for a URL
 * refused or no such authority (baton_diag() says which), the store's errors.
 */
int directory_set_url(store *st, const char *fpr, const char *url);

/*
 * Unpins the authority whose fingerprint is fpr (read as peers_fpr_match
 * reads it), and drops its directory, audited "directory-untrust". Its key
 * goes into pk (may be NULL). BATON_EVALUE with baton_diag() when no
 * pinned authority has that fingerprint; the store's errors.
 */
int directory_untrust(store *st, const char *fpr, uint8_t pk[BATON_PK_BYTES]);

/* What directory_update did. */
struct directory_update {
	int unchanged; /* the same bytes as the directory held: nothing written */
	char authority[BATON_NAME_MAX + 1];
	char fingerprint[BATON_FINGERPRINT_LEN + 1];
	uint64_t version, expires;
	size_t members, withdrawn_keys;
	store_directory_diff diff;
};

/*
 * Takes the directory in bytes (len bytes, the caller's) at now: parsed
 * and verified, signed by a pinned authority, no older than the version
 * held (the same version only as the same bytes: *u says unchanged), valid
 * at now with the clock skew allowed, and no school code given a key other
 * than the one the current directory of another pinned authority gives it.
 * Taken: stored with one audit entry "directory-update" naming the
 * authority, the version and the schools added, changed and withdrawn, in
 * one transaction. Returns 0; the parser's errors; BATON_EBADKEY (signer
 * not pinned), BATON_EVALUE (rollback, same version other bytes, conflict),
 * BATON_EEXPIRED, BATON_ENOTYET, each with baton_diag() saying what; the
 * store's errors.
 */
int directory_update(store *st, const uint8_t *bytes, size_t len, uint64_t now,
                     struct directory_update *u);
/*
 * The same, for a directory another school passed on (PROTOCOL.md section
 * 10): from (NULL for none) is the school code it came from, named in the
 * audit entry.
 */
int directory_update_from(store *st, const uint8_t *bytes, size_t len, uint64_t now,
                          const char *from, struct directory_update *u);

/* A directory expiring within this many seconds is warned about (7 days). */
#define DIRECTORY_WARN_SECS (7 * 86400)

/*
 * The pinned authorities and their directories as JSON (new, into *out;
 * free with json_decref): an array of {fingerprint, key, label, name,
 * pinned, url, and when a directory is held: version, issued, expires, expired,
 * expires_soon (not expired, but within DIRECTORY_WARN_SECS of now),
 * members, withdrawn}. Returns 0, BATON_ENOMEM or the store's errors.
 */
int directory_list(store *st, uint64_t now, json_t **out);

/*
 * Why code, not trusted, is not: when it is a member only of a pinned
 * authority's directory that has expired, BATON_EVALUE with baton_diag()
 * saying "CODE was trusted through NAME's directory, which expired DATE;
 * take a newer one with 'baton directory update'". Else BATON_ENOTFOUND
 * (the caller says what it says), or the store's errors.
 */
int directory_expired_why(store_txn *t, const char *code);

/*
 * Logs (log.h) a warning for each pinned authority whose directory has
 * expired at now, or expires within DIRECTORY_WARN_SECS: what serve says at
 * start and once a day. Returns the number of warnings, or the store's
 * error (logged too).
 */
int directory_warn_log(store *st, uint64_t now);

#endif

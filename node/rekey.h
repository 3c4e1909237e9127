/*
 * Moving this school to new keys, as 'baton rekey' and the console's "This
 * school" page both do it: the new card signed by the new identity key, a
 * rotation statement signed by the old one, both committed with an audit
 * entry, and the key files swapped with one rename (the old one kept as
 * school.key.old-TIME, which a running serve goes on opening packets with).
 */
#ifndef BATON_NODE_REKEY_H
#define BATON_NODE_REKEY_H

#include <stddef.h>
#include <stdint.h>

#include <baton/baton.h>

#include "store.h"

/* What a rekey made; freed by rekey_free. */
struct rekey {
	baton_key *neu;
	baton_card card; /* the new card */
	baton_rotation rot;
	uint8_t *card_bytes, *rot_bytes, *stored;
	size_t card_len, rot_len;
	char keypath[4096], newpath[4200], oldpath[4200];
	char fold[BATON_FINGERPRINT_LEN + 1], fnew[BATON_FINGERPRINT_LEN + 1];
	int resign_failed; /* 1: the log's head is not signed by the new key yet */
};

/*
 * Whether a rekey may start in dir: BATON_EEXIST (baton_diag() says what to
 * do) when a school.key.new left by an interrupted rekey is there, else 0.
 * rekey_node checks it again; a command checks it first, before asking for
 * a passphrase.
 */
int rekey_ready(const char *dir);

/*
 * Replaces the keys of the node in dir (its store st) at now: old is the
 * current key (the caller's, the key of the node's card); the new key file
 * is encrypted with pass (plen bytes; NULL: saved unencrypted). The store's
 * audit signer, when set, must be old: it signs the head through the rekey
 * entry; the new key then signs that head too. k is zeroed by the caller.
 * Returns 0; BATON_EIO (old is not the card's key, the key files could not
 * be swapped), BATON_EEXIST (a school.key.new left by an interrupted
 * rekey), each with baton_diag(); the errors of generating, signing,
 * saving and the store's. Free k with rekey_free in every case.
 */
int rekey_node(store *st, const char *dir, const baton_key *old, const char *pass, size_t plen,
               uint64_t now, struct rekey *k);

/* Frees what k holds; k may be zeroed. Cannot fail. */
void rekey_free(struct rekey *k);

#endif

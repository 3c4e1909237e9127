/*
 * Moving this school to new keys (rekey.h). The order makes an interruption
 * safe: make everything first, save the new key, commit the new card, swap
 * the key files with one rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bti.h"
#include "consent.h"
#include "rekey.h"

struct rekey_ctx {
	const uint8_t *card, *rot;
	size_t card_len, rot_len;
	const char *detail;
};

static int rekey_store(store_txn *t, void *arg)
{
	struct rekey_ctx *c = arg;
	store_audit e;
	int r;
	/* Kept by key as well: consents issued before it still name this school. */
	if ((r = store_meta_put(t, "card", c->card, c->card_len)) != 0 ||
	    (r = store_meta_put(t, "rotation", c->rot, c->rot_len)) != 0 ||
	    (r = consent_rotation_put(t, c->rot, c->rot_len)) != 0 ||
	    (r = store_audit_keep_rotation(t, c->rot, c->rot_len)) != 0)
		return r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "rekey");
	snprintf(e.detail, sizeof(e.detail), "%s", c->detail);
	return store_audit_append(t, &e);
}

static int old_card(store_txn *t, void *arg)
{
	struct rekey *k = arg;
	size_t n;
	int r = store_meta_get(t, "card", &k->stored, &n);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(BATON_EIO, "this node has no card");
	return r ? r : baton_card_parse(k->stored, n, &k->card);
}

static int resign(store_txn *t, void *arg)
{
	return store_audit_sign(t, arg, NULL);
}

void rekey_free(struct rekey *k)
{
	baton_key_free(k->neu);
	free(k->stored);
	free(k->card_bytes);
	free(k->rot_bytes);
	k->neu = NULL;
	k->stored = k->card_bytes = k->rot_bytes = NULL;
}

/*
 * The new key, and the new card it signs and the rotation statement the old
 * key signs, from this node's card in the store.
 */
static int rekey_make(store *st, const baton_key *old, struct rekey *k, uint64_t now)
{
	int r = store_read(st, old_card, k);
	if (r != 0)
		return r;
	if (memcmp(k->card.id_pk, baton_key_id_pk(old), BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EIO, "school.key does not match this node's card");
	if ((r = baton_key_generate(BATON_KEY_SCHOOL, &k->neu)) != 0)
		return r;
	memcpy(k->card.id_pk, baton_key_id_pk(k->neu), BATON_PK_BYTES);
	memcpy(k->card.enc_pk, baton_key_enc_pk(k->neu), BATON_PK_BYTES);
	k->card.valid_from = now;
	k->card.valid_until = now + 2 * 365 * UINT64_C(86400);
	memset(&k->rot, 0, sizeof(k->rot));
	snprintf(k->rot.code, sizeof(k->rot.code), "%s", k->card.code);
	memcpy(k->rot.old_pk, baton_key_id_pk(old), BATON_PK_BYTES);
	memcpy(k->rot.new_pk, baton_key_id_pk(k->neu), BATON_PK_BYTES);
	k->rot.time = now;
	baton_fingerprint(k->rot.old_pk, k->fold);
	baton_fingerprint(k->rot.new_pk, k->fnew);
	if ((r = baton_card_sign(&k->card, baton_key_id_sk(k->neu), &k->card_bytes,
	                         &k->card_len)) != 0)
		return r;
	return baton_rotation_sign(&k->rot, baton_key_id_sk(old), &k->rot_bytes, &k->rot_len);
}

int rekey_ready(const char *dir)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/school.key.new", dir);
	if (access(path, F_OK) == 0)
		return bti_diag_err(
		    BATON_EEXIST,
		    "%s is left from an interrupted rekey: if 'baton card' shows the new "
		    "fingerprint, move it over school.key; otherwise remove it",
		    path);
	return 0;
}

/* Refuses to start when a new key file left by an interrupted rekey is there. */
static int rekey_paths(struct rekey *k, const char *dir, uint64_t now)
{
	snprintf(k->keypath, sizeof(k->keypath), "%s/school.key", dir);
	snprintf(k->newpath, sizeof(k->newpath), "%s.new", k->keypath);
	snprintf(k->oldpath, sizeof(k->oldpath), "%s.old-%llu", k->keypath,
	         (unsigned long long)now);
	return rekey_ready(dir);
}

/*
 * Saves the new key, commits the new card, and swaps the key files with one
 * rename; then the new key signs the audit log's head.
 */
static int rekey_swap(store *st, const char *dir, struct rekey *k, const char *pass, size_t plen)
{
	char detail[128];
	int r = pass ? baton_key_save(k->neu, k->newpath, pass, plen, NULL)
	             : baton_key_save_plain(k->neu, k->newpath);
	if (r != 0)
		return r;
	snprintf(detail, sizeof(detail), "from %s to %s", k->fold, k->fnew);
	struct rekey_ctx w = {k->card_bytes, k->rot_bytes, k->card_len, k->rot_len, detail};
	if ((r = store_write(st, rekey_store, &w)) != 0) {
		unlink(k->newpath);
		return r;
	}
	/* The old key stays under a second name; the new one replaces it atomically. */
	if (link(k->keypath, k->oldpath) != 0 || rename(k->newpath, k->keypath) != 0)
		return bti_diag_err(BATON_EIO,
		                    "the store has the new card but the key files could not be "
		                    "swapped (%s); move %s over %s by hand",
		                    strerror(errno), k->newpath, k->keypath);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	/*
	 * The new key signs that head too: from here on the latest head is the
	 * new key's. The old key no longer signs anything (a serving node's
	 * keyring check makes the new key its signer once it takes it).
	 */
	store_set_audit_signer(st, NULL);
	k->resign_failed = store_write(st, resign, k->neu) != 0;
	return 0;
}

int rekey_node(store *st, const char *dir, const baton_key *old, const char *pass, size_t plen,
               uint64_t now, struct rekey *k)
{
	int r;
	if ((r = rekey_make(st, old, k, now)) != 0 || (r = rekey_paths(k, dir, now)) != 0)
		return r;
	return rekey_swap(st, dir, k, pass, plen);
}

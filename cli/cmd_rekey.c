/*
 * baton rekey: move this school to new keys. The new card is signed by the
 * new identity key and a rotation statement by the old one, so that peers
 * can follow the change ('baton peer add CARD --rotation FILE') instead of
 * refusing the changed key. The old key file is kept beside the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "consent.h"
#include "bti.h"

struct rekey_ctx {
	const uint8_t *card, *rot;
	size_t card_len, rot_len;
	const char *detail;
};

static int rekey_store(store_txn *t, void *arg)
{
	struct rekey_ctx *c = arg;
	int r;
	/* Kept by key as well: consents issued before it still name this school. */
	if ((r = store_meta_put(t, "card", c->card, c->card_len)) != 0 ||
	    (r = store_meta_put(t, "rotation", c->rot, c->rot_len)) != 0 ||
	    (r = consent_rotation_put(t, c->rot, c->rot_len)) != 0 ||
	    (r = store_audit_keep_rotation(t, c->rot, c->rot_len)) != 0)
		return r;
	return cli_audit(t, "rekey", NULL, NULL, c->detail);
}

static int old_card(store_txn *t, void *arg)
{
	struct rekey_ctx *c = arg;
	uint8_t *p;
	size_t n;
	int r = store_meta_get(t, "card", &p, &n);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(BATON_EIO, "this node has no card");
	c->card = p;
	c->card_len = n;
	return r;
}

static int resign(store_txn *t, void *arg)
{
	return store_audit_sign(t, arg, NULL);
}

/* Everything a rekey makes, freed by rekey_free. */
struct rekey {
	const struct cli_common *com;
	const char *card_out, *rot_out;
	baton_key *old, *neu;
	baton_card card;
	baton_rotation rot;
	uint8_t *card_bytes, *rot_bytes, *stored;
	size_t card_len, rot_len;
	char keypath[4096], newpath[4200], oldpath[4200];
	char fold[BATON_FINGERPRINT_LEN + 1], fnew[BATON_FINGERPRINT_LEN + 1];
};

static void rekey_free(struct rekey *k)
{
	baton_key_free(k->old);
	baton_key_free(k->neu);
	free(k->stored);
	free(k->card_bytes);
	free(k->rot_bytes);
}

/* Parses rekey's command line into k. Returns -1 to go on, or the exit code. */
static int rekey_options(int argc, char **argv, struct cli_common *com, struct rekey *k)
{
	static const struct option opts[] = {{"card-out", required_argument, NULL, 'c'},
	                                     {"rotation-out", required_argument, NULL, 'r'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(com, opt, optarg))
			continue;
		if (opt == 'c')
			k->card_out = optarg;
		else if (opt == 'r')
			k->rot_out = optarg;
		else {
			fprintf(
			    opt == 'h' ? stdout : stderr,
			    "usage: baton rekey --card-out FILE --rotation-out FILE [--dir DIR]\n"
			    "                   [--passphrase-file FILE | --no-passphrase]\n\n"
			    "Replaces this school's keys. Send both files to every pinned "
			    "school;\nthey run 'baton peer add CARD --rotation ROTATION'.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (!k->card_out || !k->rot_out || optind != argc)
		return cli_usage_error("rekey: --card-out and --rotation-out are required");
	return -1;
}

/*
 * The new key, and the new card it signs and the rotation statement the old
 * key signs, from this node's card in the store.
 */
static int rekey_make(store *st, struct rekey *k, uint64_t now)
{
	struct rekey_ctx rc_ = {0};
	int r = store_read(st, old_card, &rc_);
	k->stored = (uint8_t *)(uintptr_t)rc_.card; /* freed by rekey_free */
	if (r != 0 || (r = baton_card_parse(rc_.card, rc_.card_len, &k->card)) != 0)
		return r;
	if (memcmp(k->card.id_pk, baton_key_id_pk(k->old), BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EIO, "school.key does not match this node's card");
	if ((r = baton_key_generate(BATON_KEY_SCHOOL, &k->neu)) != 0)
		return r;
	memcpy(k->card.id_pk, baton_key_id_pk(k->neu), BATON_PK_BYTES);
	memcpy(k->card.enc_pk, baton_key_enc_pk(k->neu), BATON_PK_BYTES);
	k->card.valid_from = now;
	k->card.valid_until = now + 2 * 365 * UINT64_C(86400);
	memset(&k->rot, 0, sizeof(k->rot));
	snprintf(k->rot.code, sizeof(k->rot.code), "%s", k->card.code);
	memcpy(k->rot.old_pk, baton_key_id_pk(k->old), BATON_PK_BYTES);
	memcpy(k->rot.new_pk, baton_key_id_pk(k->neu), BATON_PK_BYTES);
	k->rot.time = now;
	baton_fingerprint(k->rot.old_pk, k->fold);
	baton_fingerprint(k->rot.new_pk, k->fnew);
	if ((r = baton_card_sign(&k->card, baton_key_id_sk(k->neu), &k->card_bytes,
	                         &k->card_len)) != 0)
		return r;
	return baton_rotation_sign(&k->rot, baton_key_id_sk(k->old), &k->rot_bytes, &k->rot_len);
}

/* Refuses to start when an output file, or a new key file left by an interrupted rekey, is there.
 */
static int rekey_paths(struct rekey *k, uint64_t now)
{
	if (access(k->card_out, F_OK) == 0 || access(k->rot_out, F_OK) == 0)
		return bti_diag_err(BATON_EEXIST, "%s or %s already exists; not overwriting",
		                    k->card_out, k->rot_out);
	snprintf(k->keypath, sizeof(k->keypath), "%s/school.key", cli_dir(k->com));
	snprintf(k->newpath, sizeof(k->newpath), "%s.new", k->keypath);
	snprintf(k->oldpath, sizeof(k->oldpath), "%s.old-%llu", k->keypath,
	         (unsigned long long)now);
	if (access(k->newpath, F_OK) == 0)
		return bti_diag_err(
		    BATON_EEXIST,
		    "%s is left from an interrupted rekey: if 'baton card' shows the new "
		    "fingerprint, move it over school.key; otherwise remove it",
		    k->newpath);
	return 0;
}

/*
 * Saves the new key, commits the new card, and swaps the key files with one
 * rename; then the new key signs the audit log's head.
 */
static int rekey_swap(store *st, struct rekey *k)
{
	char *pass = NULL, detail[128];
	size_t plen = 0;
	int r;

	if ((r = cli_passphrase(k->com, 1, &pass, &plen)) != 0)
		return r;
	r = pass ? baton_key_save(k->neu, k->newpath, pass, plen, NULL)
	         : baton_key_save_plain(k->neu, k->newpath);
	cli_pass_free(pass);
	if (r != 0)
		return r;
	snprintf(detail, sizeof(detail), "from %s to %s", k->fold, k->fnew);
	struct rekey_ctx w = {k->card_bytes, k->rot_bytes, k->card_len, k->rot_len, detail};
	/* The old key vouches for the log up to and including the rekey. */
	store_set_audit_signer(st, k->old);
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
	int dfd = open(cli_dir(k->com), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	/* The new key signs that head too: from here on the latest head is the new key's. */
	store_set_audit_signer(st, NULL);
	if (store_write(st, resign, k->neu) != 0)
		fprintf(stderr,
		        "baton: rekey: warning: the audit log's head is not signed by the new key "
		        "yet (%s); 'baton audit sign' signs it\n",
		        baton_diag());
	return 0;
}

/* The files for the peers, written last: 'baton card' writes them again from the store. */
static int rekey_files(const struct rekey *k)
{
	int r;
	if ((r = baton_file_create(k->card_out, k->card_bytes, k->card_len, 0644)) != 0 ||
	    (r = baton_file_create(k->rot_out, k->rot_bytes, k->rot_len, 0644)) != 0) {
		char why[300];
		snprintf(why, sizeof(why), "%s", baton_diag());
		return bti_diag_err(r,
		                    "the new keys are in place, but %s; write the files again with "
		                    "'baton card --out FILE --rotation-out FILE'",
		                    why);
	}
	return 0;
}

int cmd_rekey(int argc, char **argv)
{
	struct cli_common com = {0};
	struct rekey k;
	store *st = NULL;
	uint64_t now = cli_now();
	int r, rc;

	memset(&k, 0, sizeof(k));
	k.com = &com;
	if ((rc = rekey_options(argc, argv, &com, &k)) >= 0)
		return rc;
	if ((rc = cli_load_school_key(&com, &k.old)) != EXIT_OK)
		return rc;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		goto out;
	/*
	 * The order makes an interruption safe: ask everything first, save the new
	 * key, commit the new card, swap the key files with one rename, and only
	 * then write the files for the peers.
	 */
	if ((r = rekey_make(st, &k, now)) != 0 || (r = rekey_paths(&k, now)) != 0 ||
	    (r = rekey_swap(st, &k)) != 0 || (r = rekey_files(&k)) != 0) {
		rc = cli_fail("rekey", r);
		goto out;
	}
	printf("New keys for %s (%s)\n  old fingerprint %s (kept in %s)\n  new fingerprint "
	       "%s\nSend %s and %s to every pinned school.\n",
	       k.card.name, k.card.code, k.fold, k.oldpath, k.fnew, k.card_out, k.rot_out);
	rc = EXIT_OK;
out:
	store_close(st);
	rekey_free(&k);
	return rc;
}

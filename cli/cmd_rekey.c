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

int cmd_rekey(int argc, char **argv)
{
	static const struct option opts[] = {{"card-out", required_argument, NULL, 'c'},
	                                     {"rotation-out", required_argument, NULL, 'r'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *card_out = NULL, *rot_out = NULL;
	struct rekey_ctx rc_ = {0};
	baton_key *old = NULL, *neu = NULL;
	baton_card card;
	baton_rotation rot;
	uint8_t *card_bytes = NULL, *rot_bytes = NULL, *stored = NULL;
	size_t card_len = 0, rot_len = 0;
	store *st = NULL;
	char *pass = NULL, keypath[4096], newpath[4200], oldpath[4200];
	char fold[BATON_FINGERPRINT_LEN + 1], fnew[BATON_FINGERPRINT_LEN + 1], detail[128];
	size_t plen = 0;
	int opt, r, rc = EXIT_ENV;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'c')
			card_out = optarg;
		else if (opt == 'r')
			rot_out = optarg;
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
	if (!card_out || !rot_out || optind != argc)
		return cli_usage_error("rekey: --card-out and --rotation-out are required");
	if ((rc = cli_load_school_key(&com, &old)) != EXIT_OK)
		return rc;
	rc = EXIT_ENV;
	if ((r = cli_open_store(&com, &st)) != EXIT_OK) {
		rc = r;
		goto out;
	}
	r = store_read(st, old_card, &rc_);
	stored = (uint8_t *)(uintptr_t)rc_.card; /* freed on every path below */
	if (r != 0 || (r = baton_card_parse(rc_.card, rc_.card_len, &card)) != 0)
		goto fail;
	if (memcmp(card.id_pk, baton_key_id_pk(old), BATON_PK_BYTES) != 0) {
		r = bti_diag_err(BATON_EIO, "school.key does not match this node's card");
		goto fail;
	}
	if ((r = baton_key_generate(BATON_KEY_SCHOOL, &neu)) != 0)
		goto fail;
	uint64_t now = cli_now();
	memcpy(card.id_pk, baton_key_id_pk(neu), BATON_PK_BYTES);
	memcpy(card.enc_pk, baton_key_enc_pk(neu), BATON_PK_BYTES);
	card.valid_from = now;
	card.valid_until = now + 2 * 365 * UINT64_C(86400);
	memset(&rot, 0, sizeof(rot));
	snprintf(rot.code, sizeof(rot.code), "%s", card.code);
	memcpy(rot.old_pk, baton_key_id_pk(old), BATON_PK_BYTES);
	memcpy(rot.new_pk, baton_key_id_pk(neu), BATON_PK_BYTES);
	rot.time = now;
	if ((r = baton_card_sign(&card, baton_key_id_sk(neu), &card_bytes, &card_len)) != 0 ||
	    (r = baton_rotation_sign(&rot, baton_key_id_sk(old), &rot_bytes, &rot_len)) != 0)
		goto fail;
	/*
	 * The order makes an interruption safe: ask everything first, save the new
	 * key, commit the new card, swap the key files with one rename, and only
	 * then write the files for the peers ('baton card --out/--rotation-out'
	 * writes them again from the store).
	 */
	if (access(card_out, F_OK) == 0 || access(rot_out, F_OK) == 0) {
		r = bti_diag_err(BATON_EEXIST, "%s or %s already exists; not overwriting", card_out,
		                 rot_out);
		goto fail;
	}
	snprintf(keypath, sizeof(keypath), "%s/school.key", cli_dir(&com));
	snprintf(newpath, sizeof(newpath), "%s.new", keypath);
	snprintf(oldpath, sizeof(oldpath), "%s.old-%llu", keypath, (unsigned long long)now);
	if (access(newpath, F_OK) == 0) {
		r = bti_diag_err(
		    BATON_EEXIST,
		    "%s is left from an interrupted rekey: if 'baton card' shows the new "
		    "fingerprint, move it over school.key; otherwise remove it",
		    newpath);
		goto fail;
	}
	if ((r = cli_passphrase(&com, 1, &pass, &plen)) != 0)
		goto fail;
	if ((r = baton_key_save(neu, newpath, pass, plen, NULL)) != 0)
		goto fail;
	baton_fingerprint(rot.old_pk, fold);
	baton_fingerprint(rot.new_pk, fnew);
	snprintf(detail, sizeof(detail), "from %s to %s", fold, fnew);
	struct rekey_ctx w = {card_bytes, rot_bytes, card_len, rot_len, detail};
	/* The old key vouches for the log up to and including the rekey. */
	store_set_audit_signer(st, old);
	if ((r = store_write(st, rekey_store, &w)) != 0) {
		unlink(newpath);
		goto fail;
	}
	/* The old key stays under a second name; the new one replaces it atomically. */
	if (link(keypath, oldpath) != 0 || rename(newpath, keypath) != 0) {
		r = bti_diag_err(
		    BATON_EIO,
		    "the store has the new card but the key files could not be swapped "
		    "(%s); move %s over %s by hand",
		    strerror(errno), newpath, keypath);
		goto fail;
	}
	int dfd = open(cli_dir(&com), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	/* The new key signs that head too: from here on the latest head is the new key's. */
	store_set_audit_signer(st, NULL);
	if (store_write(st, resign, neu) != 0)
		fprintf(stderr,
		        "baton: rekey: warning: the audit log's head is not signed by the new key "
		        "yet (%s); 'baton audit sign' signs it\n",
		        baton_diag());
	if ((r = baton_file_create(card_out, card_bytes, card_len, 0644)) != 0 ||
	    (r = baton_file_create(rot_out, rot_bytes, rot_len, 0644)) != 0) {
		char why[300];
		snprintf(why, sizeof(why), "%s", baton_diag());
		r = bti_diag_err(r,
		                 "the new keys are in place, but %s; write the files again with "
		                 "'baton card --out FILE --rotation-out FILE'",
		                 why);
		goto fail;
	}
	printf("New keys for %s (%s)\n  old fingerprint %s (kept in %s)\n  new fingerprint "
	       "%s\nSend %s and %s to every pinned school.\n",
	       card.name, card.code, fold, oldpath, fnew, card_out, rot_out);
	rc = EXIT_OK;
	goto out;
fail:
	rc = cli_fail("rekey", r);
out:
	store_close(st);
	cli_pass_free(pass);
	baton_key_free(old);
	baton_key_free(neu);
	free(stored);
	free(card_bytes);
	free(rot_bytes);
	return rc;
}

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
#include "rekey.h"
#include "bti.h"

/* The command line's output files; the rest of a rekey is rekey.h's. */
struct rekey_out {
	const char *card_out, *rot_out;
};

/* Parses rekey's command line into k. Returns -1 to go on, or the exit code. */
static int rekey_options(int argc, char **argv, struct cli_common *com, struct rekey_out *k)
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

/* Refuses to start when an output file is there. */
static int rekey_outs(const struct rekey_out *o)
{
	if (access(o->card_out, F_OK) == 0 || access(o->rot_out, F_OK) == 0)
		return bti_diag_err(BATON_EEXIST, "%s or %s already exists; not overwriting",
		                    o->card_out, o->rot_out);
	return 0;
}

/* With the passphrase the new key file is saved under (asked twice), rekey_node. */
static int rekey_run(const struct cli_common *com, store *st, const baton_key *old, struct rekey *k)
{
	char *pass = NULL;
	size_t plen = 0;
	int r;
	if ((r = rekey_ready(cli_dir(com))) != 0 || (r = cli_passphrase(com, 1, &pass, &plen)) != 0)
		return r;
	/* The old key vouches for the log up to and including the rekey. */
	store_set_audit_signer(st, old);
	r = rekey_node(st, cli_dir(com), old, pass, plen, cli_now(), k);
	store_set_audit_signer(st, NULL);
	cli_pass_free(pass);
	if (r == 0 && k->resign_failed)
		fprintf(stderr,
		        "baton: rekey: warning: the audit log's head is not signed by the new key "
		        "yet (%s); 'baton audit sign' signs it\n",
		        baton_diag());
	return r;
}

/* The files for the peers, written last: 'baton card' writes them again from the store. */
static int rekey_files(const struct rekey_out *o, const struct rekey *k)
{
	int r;
	if ((r = baton_file_create(o->card_out, k->card_bytes, k->card_len, 0644)) != 0 ||
	    (r = baton_file_create(o->rot_out, k->rot_bytes, k->rot_len, 0644)) != 0) {
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
	struct rekey_out o = {NULL, NULL};
	struct rekey k;
	baton_key *old = NULL;
	store *st = NULL;
	int r, rc;

	memset(&k, 0, sizeof(k));
	if ((rc = rekey_options(argc, argv, &com, &o)) >= 0)
		return rc;
	if ((rc = cli_load_school_key(&com, &old)) != EXIT_OK)
		return rc;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		goto out;
	/* The files for the peers are written last: 'baton card' writes them again. */
	if ((r = rekey_outs(&o)) != 0 || (r = rekey_run(&com, st, old, &k)) != 0 ||
	    (r = rekey_files(&o, &k)) != 0) {
		rc = cli_fail("rekey", r);
		goto out;
	}
	printf("New keys for %s (%s)\n  old fingerprint %s (kept in %s)\n  new fingerprint "
	       "%s\nSend %s and %s to every pinned school.\n",
	       k.card.name, k.card.code, k.fold, k.oldpath, k.fnew, o.card_out, o.rot_out);
	rc = EXIT_OK;
out:
	store_close(st);
	rekey_free(&k);
	baton_key_free(old);
	return rc;
}

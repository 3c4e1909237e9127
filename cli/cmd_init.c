/* baton init, baton card and baton endpoint: create a node, export its card, move it. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "bti.h"
#include "card.h"
#include "view_school.h"

#define CARD_YEARS 2

struct init_ctx {
	const baton_card *card;
	const uint8_t *bytes;
	size_t len;
};

static int init_store(store_txn *t, void *arg)
{
	struct init_ctx *c = arg;
	char detail[256];
	int r;
	if ((r = store_meta_put(t, "card", c->bytes, c->len)) != 0 ||
	    (r = store_meta_put(t, "code", c->card->code, strlen(c->card->code))) != 0 ||
	    (r = store_meta_put(t, "name", c->card->name, strlen(c->card->name))) != 0)
		return r;
	snprintf(detail, sizeof(detail), "%s (%s)", c->card->name, c->card->code);
	return cli_audit(t, "init", NULL, NULL, detail);
}

static void init_usage(FILE *f)
{
	fprintf(f, "usage: baton init --name NAME --code CODE [--endpoint URL]... [--dir DIR]\n"
	           "                  [--passphrase-file FILE | --no-passphrase]\n\n"
	           "Creates this school's node directory: an identity key and an encryption\n"
	           "key (in school.key, encrypted under the passphrase), the LMDB store, and\n"
	           "the school card signed by the identity key. Prints the fingerprint that\n"
	           "other registrars check before pinning the card. Never overwrites a node.\n");
}

/*
 * Parses init's command line into card (name, code, endpoints); *local_only
 * is 1 when no --endpoint was given and the card names 127.0.0.1. Returns
 * -1 to go on, or the exit code after saying what is wrong.
 */
static int init_args(int argc, char **argv, struct cli_common *com, baton_card *card,
                     int *local_only)
{
	static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
	                                     {"code", required_argument, NULL, 'c'},
	                                     {"endpoint", required_argument, NULL, 'e'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(com, opt, optarg))
			continue;
		switch (opt) {
		case 'n':
			snprintf(card->name, sizeof(card->name), "%s", optarg);
			if (strlen(optarg) > BATON_NAME_MAX)
				return cli_usage_error("--name: at most %d bytes", BATON_NAME_MAX);
			break;
		case 'c':
			if (strlen(optarg) > BATON_CODE_MAX)
				return cli_usage_error("--code: at most %d bytes", BATON_CODE_MAX);
			snprintf(card->code, sizeof(card->code), "%s", optarg);
			break;
		case 'e':
			if (card->n_endpoints == BATON_MAX_ENDPOINTS)
				return cli_usage_error("--endpoint: at most %d",
				                       BATON_MAX_ENDPOINTS);
			if (card_endpoint_check(optarg) != 0)
				return cli_usage_error("--endpoint: %s", baton_diag());
			snprintf(card->endpoints[card->n_endpoints++], BATON_URL_MAX + 1, "%s",
			         optarg);
			break;
		case 'h':
			init_usage(stdout);
			return EXIT_OK;
		default:
			init_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || !card->name[0] || !card->code[0]) {
		init_usage(stderr);
		return cli_usage_error("init: --name and --code are required");
	}
	/* Enough for a try-out on one machine; said on stderr once the node exists. */
	*local_only = card->n_endpoints == 0;
	if (*local_only) {
		snprintf(card->endpoints[0], BATON_URL_MAX + 1, "tcp://127.0.0.1:7700");
		card->n_endpoints = 1;
	}
	return -1;
}

/* Leaves nothing half-made behind: a second init must be able to start over. */
static void init_undo(const char *dir, const char *keypath, int made_dir, int made_key, int made_db)
{
	if (made_key)
		unlink(keypath);
	/* Only what this run created: never a store that was here before. */
	if (made_db) {
		char p[4096];
		snprintf(p, sizeof(p), "%s/db/data.mdb", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/db/lock.mdb", dir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/db", dir);
		rmdir(p);
	}
	if (made_dir)
		rmdir(dir);
}

static void init_report(const baton_card *card, const char *dir, int local_only)
{
	char fpr[BATON_FINGERPRINT_LEN + 1];
	baton_fingerprint(card->id_pk, fpr);
	printf("Created the node for %s (%s) in %s\n", card->name, card->code, dir);
	printf("  endpoint     %s\n", card->endpoints[0]);
	printf("  card valid   until %s\n", cli_time(card->valid_until));
	printf("  fingerprint  %s\n", fpr);
	printf("Give other schools your card ('baton card --out FILE') and read them this\n"
	       "fingerprint over the phone before they pin it.\n");
	if (local_only)
		fprintf(stderr,
		        "baton: init: warning: no --endpoint: the card names only this machine "
		        "(%s); other schools cannot reach it. Set a reachable endpoint with "
		        "'baton endpoint set tcp://HOST:PORT'\n",
		        card->endpoints[0]);
}

int cmd_init(int argc, char **argv)
{
	struct cli_common com = {0};
	baton_card card;
	baton_key *key = NULL;
	store *st = NULL;
	char *pass = NULL, keypath[4096];
	uint8_t *bytes = NULL;
	size_t plen = 0, blen = 0;
	int r, rc = EXIT_ENV, made_dir = 0, made_key = 0, made_db = 0, local_only = 0;

	memset(&card, 0, sizeof(card));
	if ((rc = init_args(argc, argv, &com, &card, &local_only)) >= 0)
		return rc;
	rc = EXIT_ENV;

	const char *dir = cli_dir(&com);
	snprintf(keypath, sizeof(keypath), "%s/school.key", dir);
	if (access(keypath, F_OK) == 0) {
		fprintf(stderr, "baton: %s: a node already exists here; not overwriting it\n", dir);
		return EXIT_ENV;
	}
	char dbpath[4200];
	snprintf(dbpath, sizeof(dbpath), "%s/db", dir);
	if (access(dbpath, F_OK) == 0) {
		fprintf(stderr,
		        "baton: %s: holds a store but no school.key; not touching it (restore the "
		        "key file, or choose another --dir)\n",
		        dir);
		return EXIT_ENV;
	}
	if (mkdir(dir, 0700) == 0)
		made_dir = 1;
	else if (errno != EEXIST)
		return cli_fail(dir, bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno)));

	if ((r = baton_key_generate(BATON_KEY_SCHOOL, &key)) != 0)
		goto fail;
	memcpy(card.id_pk, baton_key_id_pk(key), BATON_PK_BYTES);
	memcpy(card.enc_pk, baton_key_enc_pk(key), BATON_PK_BYTES);
	card.valid_from = cli_now();
	card.valid_until = card.valid_from + CARD_YEARS * 365 * UINT64_C(86400);
	/* Sign first: a bad name, code or endpoint fails before anything is written. */
	if ((r = baton_card_sign(&card, baton_key_id_sk(key), &bytes, &blen)) != 0) {
		rc = cli_fail("init", r);
		goto cleanup;
	}
	if ((r = cli_passphrase(&com, 1, &pass, &plen)) != 0) {
		rc = cli_fail("passphrase", r);
		goto cleanup;
	}
	if ((r = store_open(dir, 1, &st)) != 0)
		goto fail;
	made_db = 1;
	store_set_clock(st, cli_now);
	if ((r = pass ? baton_key_save(key, keypath, pass, plen, NULL)
	              : baton_key_save_plain(key, keypath)) != 0)
		goto fail;
	made_key = 1;
	struct init_ctx ic = {&card, bytes, blen};
	store_set_audit_signer(st, key);
	if ((r = store_write(st, init_store, &ic)) != 0)
		goto fail;

	init_report(&card, dir, local_only);
	rc = EXIT_OK;
	goto done;
fail:
	rc = cli_fail("init", r);
cleanup:
	store_close(st);
	st = NULL;
	init_undo(dir, keypath, made_dir, made_key, made_db);
done:
	store_close(st);
	cli_pass_free(pass);
	baton_key_free(key);
	free(bytes);
	return rc;
}

/* Stderr only, so that a card written to standard output stays the card alone. */
static void warn_loopback(const char *cmd, const baton_card *c)
{
	if (card_is_loopback_only(c))
		fprintf(stderr,
		        "baton: %s: warning: the card names only this machine (%s); other "
		        "schools cannot reach it. Set a reachable endpoint with 'baton endpoint "
		        "set tcp://HOST:PORT'\n",
		        cmd, c->endpoints[0]);
}

/* Parses card's command line; returns -1 to go on, or the exit code. */
static int card_args(int argc, char **argv, struct cli_common *com, const char **out,
                     const char **rot_out, int *force)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"rotation-out", required_argument, NULL, 'r'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (cli_common_opt(com, opt, optarg))
			continue;
		if (opt == 'o') {
			*out = optarg;
		} else if (opt == 'r') {
			*rot_out = optarg;
		} else if (opt == 'F') {
			*force = 1;
		} else {
			fprintf(opt == 'h' ? stdout : stderr,
			        "usage: baton card [--out FILE] [--rotation-out FILE] [--force] "
			        "[--json] [--dir DIR]\n\n"
			        "Writes this school's signed card to FILE (or to standard output\n"
			        "when it is not a terminal), for other schools to pin.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	return -1;
}

static void card_print_json(const baton_card *card, const char *fpr)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", card->name, "code", card->code,
	                      "fingerprint", fpr, "valid_from", (json_int_t)card->valid_from,
	                      "valid_until", (json_int_t)card->valid_until);
	json_t *eps = json_array();
	for (size_t i = 0; i < card->n_endpoints; i++)
		json_array_append_new(eps, json_string(card->endpoints[i]));
	json_object_set_new(j, "endpoints", eps);
	cli_print_json(j);
}

int cmd_card(int argc, char **argv)
{
	struct cli_common com = {0};
	struct school_card cc = {0};
	const char *rot_out = NULL;
	const char *out = NULL;
	store *st;
	baton_card card;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	int r, rc, force = 0;

	if ((rc = card_args(argc, argv, &com, &out, &rot_out, &force)) >= 0)
		return rc;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = school_card_read(st, &cc);
	store_close(st);
	if (r != 0) {
		school_card_free(&cc);
		return cli_fail("card", r);
	}
	card = cc.parsed;
	baton_fingerprint(card.id_pk, fpr);
	if (com.json)
		card_print_json(&card, fpr);
	if (rot_out) {
		r = cc.rot
		        ? outfile_write(rot_out, cc.rot, cc.rot_len, 0644, force)
		        : bti_diag_err(BATON_EVALUE, "this school has never rekeyed: no rotation "
		                                     "statement");
		free(cc.rot);
		cc.rot = NULL;
		if (r != 0) {
			free(cc.card);
			return cli_fail("card", r);
		}
		printf("Wrote the rotation statement to %s\n", rot_out);
		if (!out) {
			free(cc.card);
			return EXIT_OK;
		}
	}
	free(cc.rot);
	if (out) {
		r = outfile_write(out, cc.card, cc.len, 0644, force);
		if (r == 0 && !com.json)
			printf("Wrote the card of %s (%s) to %s\nfingerprint %s\n", card.name,
			       card.code, out, fpr);
		if (r == 0)
			warn_loopback("card", &card);
	} else if (!com.json) {
		if (isatty(STDOUT_FILENO)) {
			free(cc.card);
			return cli_usage_error("card: the card is binary; use --out FILE "
			                       "(fingerprint %s)",
			                       fpr);
		}
		r = fwrite(cc.card, 1, cc.len, stdout) == cc.len ? 0 : BATON_EIO;
	}
	free(cc.card);
	return r ? cli_fail(out ? out : "card", r) : EXIT_OK;
}

static int endpoint_show(int argc, char **argv)
{
	struct cli_common com = {0};
	struct school_card cc = {0};
	baton_card card;
	store *st;
	int r, rc;

	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton endpoint [--json] [--dir DIR]\n"
	                          "       baton endpoint set URL [URL...] [--card-out FILE] "
	                          "[--force] [--dir DIR]\n\n"
	                          "Shows where this school's card says its node listens, or "
	                          "signs a new\ncard naming other endpoints.\n")) >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("endpoint: unknown operand '%s' (did you mean 'set'?)",
		                       argv[optind]);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = school_card_read(st, &cc);
	store_close(st);
	card = cc.parsed;
	school_card_free(&cc);
	if (r != 0)
		return cli_fail("endpoint", r);
	if (com.json) {
		json_t *eps = json_array();
		for (size_t i = 0; i < card.n_endpoints; i++)
			json_array_append_new(eps, json_string(card.endpoints[i]));
		cli_print_json(json_pack("{s:o, s:I}", "endpoints", eps, "valid_from",
		                         (json_int_t)card.valid_from));
	} else {
		for (size_t i = 0; i < card.n_endpoints; i++)
			printf("%s\n", card.endpoints[i]);
	}
	warn_loopback("endpoint", &card);
	return EXIT_OK;
}

static void endpoint_set_usage(FILE *f)
{
	fprintf(f,
	        "usage: baton endpoint set URL [URL...] [--card-out FILE] [--force] [--dir DIR]\n"
	        "                          [--passphrase-file FILE | --no-passphrase]\n\n"
	        "Signs this school's card anew, with the same keys, naming the URLs\n"
	        "(tcp://HOST:PORT) where its node listens; a running 'baton serve' listens\n"
	        "there within a second (at once on SIGHUP). Send the new card to every\n"
	        "pinned school; they run 'baton peer update CARD'.\n");
}

/* Parses the URLs of 'endpoint set' into eps; returns -1 to go on, or an exit code. */
static int endpoint_args(int argc, char **argv, struct cli_common *com, const char **card_out,
                         int *force, struct school_endpoint *e)
{
	static const struct option opts[] = {{"card-out", required_argument, NULL, 'c'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(com, opt, optarg))
			continue;
		if (opt == 'c') {
			*card_out = optarg;
		} else if (opt == 'F') {
			*force = 1;
		} else {
			endpoint_set_usage(opt == 'h' ? stdout : stderr);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind == argc)
		return cli_usage_error("endpoint set: at least one URL expected");
	if (argc - optind > BATON_MAX_ENDPOINTS)
		return cli_usage_error("endpoint set: at most %d URLs", BATON_MAX_ENDPOINTS);
	for (; optind < argc; optind++)
		if (school_endpoint_add(e, argv[optind]) != 0)
			return cli_usage_error("endpoint set: %s", baton_diag());
	return -1;
}

/* After the store took the new card: the file for the peers, and what to do with it. */
static int endpoint_done(const baton_card *card, const uint8_t *bytes, size_t len,
                         const char *card_out, int force)
{
	int r;
	if (card_out && (r = outfile_write(card_out, bytes, len, 0644, force)) != 0) {
		char why[300];
		snprintf(why, sizeof(why), "%s", baton_diag());
		return cli_fail("endpoint set",
		                bti_diag_err(r,
		                             "the new card is in place, but %s; write it again "
		                             "with 'baton card --out FILE'",
		                             why));
	}
	printf("The card of %s (%s) now names:\n", card->name, card->code);
	for (size_t i = 0; i < card->n_endpoints; i++)
		printf("  %s\n", card->endpoints[i]);
	printf("valid from %s", cli_time(card->valid_from));
	printf(" until %s\n", cli_time(card->valid_until));
	if (card_out)
		printf("Wrote it to %s: send it to every pinned school; they run\n"
		       "'baton peer update %s'.\n",
		       card_out, card_out);
	else
		printf("Write it for the pinned schools with 'baton card --out FILE'; they run\n"
		       "'baton peer update FILE'.\n");
	warn_loopback("endpoint set", card);
	return EXIT_OK;
}

static int endpoint_set(int argc, char **argv)
{
	struct cli_common com = {0};
	struct school_endpoint e;
	const char *card_out = NULL;
	baton_key *key = NULL;
	store *st = NULL;
	int r, rc, force = 0;

	memset(&e, 0, sizeof(e));
	if ((rc = endpoint_args(argc, argv, &com, &card_out, &force, &e)) >= 0)
		return rc;
	/* Before anything is signed or stored: a refusal leaves the node as it was. */
	if (card_out && (r = outfile_check(card_out, force)) != 0)
		return cli_fail(card_out, r);
	if ((rc = cli_load_school_key(&com, &key)) != EXIT_OK)
		return rc;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	if ((r = school_endpoint_set(st, key, cli_now(), &e)) != 0) {
		rc = cli_fail("endpoint set", r);
		goto out;
	}
	rc = endpoint_done(&e.card, e.bytes, e.len, card_out, force);
out:
	store_close(st);
	baton_key_free(key);
	free(e.bytes);
	return rc;
}

int cmd_endpoint(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "set") == 0)
		return endpoint_set(argc - 1, argv + 1);
	return endpoint_show(argc, argv);
}

/* baton init and baton card: create a node, export its card. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "bti.h"

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

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
	                                     {"code", required_argument, NULL, 'c'},
	                                     {"endpoint", required_argument, NULL, 'e'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	baton_card card;
	baton_key *key = NULL;
	store *st = NULL;
	char *pass = NULL, keypath[4096], fpr[BATON_FINGERPRINT_LEN + 1];
	uint8_t *bytes = NULL;
	size_t plen = 0, blen = 0;
	int opt, r, rc = EXIT_ENV, made_dir = 0, made_key = 0, made_db = 0;

	memset(&card, 0, sizeof(card));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		switch (opt) {
		case 'n':
			snprintf(card.name, sizeof(card.name), "%s", optarg);
			if (strlen(optarg) > BATON_NAME_MAX)
				return cli_usage_error("--name: at most %d bytes", BATON_NAME_MAX);
			break;
		case 'c':
			if (strlen(optarg) > BATON_CODE_MAX)
				return cli_usage_error("--code: at most %d bytes", BATON_CODE_MAX);
			snprintf(card.code, sizeof(card.code), "%s", optarg);
			break;
		case 'e':
			if (card.n_endpoints == BATON_MAX_ENDPOINTS)
				return cli_usage_error("--endpoint: at most %d",
				                       BATON_MAX_ENDPOINTS);
			snprintf(card.endpoints[card.n_endpoints++], BATON_URL_MAX + 1, "%s",
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
	if (optind != argc || !card.name[0] || !card.code[0]) {
		init_usage(stderr);
		return cli_usage_error("init: --name and --code are required");
	}
	if (card.n_endpoints == 0) {
		snprintf(card.endpoints[0], BATON_URL_MAX + 1, "tcp://127.0.0.1:7700");
		card.n_endpoints = 1;
	}

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
	if ((r = baton_key_save(key, keypath, pass, plen, NULL)) != 0)
		goto fail;
	made_key = 1;
	struct init_ctx ic = {&card, bytes, blen};
	store_set_audit_signer(st, key);
	if ((r = store_write(st, init_store, &ic)) != 0)
		goto fail;

	baton_fingerprint(card.id_pk, fpr);
	printf("Created the node for %s (%s) in %s\n", card.name, card.code, dir);
	printf("  endpoint     %s\n", card.endpoints[0]);
	printf("  card valid   until %s\n", cli_time(card.valid_until));
	printf("  fingerprint  %s\n", fpr);
	printf("Give other schools your card ('baton card --out FILE') and read them this\n"
	       "fingerprint over the phone before they pin it.\n");
	rc = EXIT_OK;
	goto done;
fail:
	rc = cli_fail("init", r);
cleanup:
	/* Leave nothing half-made behind: a second init must be able to start over. */
	store_close(st);
	st = NULL;
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
done:
	store_close(st);
	cli_pass_free(pass);
	baton_key_free(key);
	free(bytes);
	return rc;
}

struct card_ctx {
	uint8_t *card;
	size_t len;
	uint8_t *rot; /* the last rotation statement, if this school has rekeyed */
	size_t rot_len;
};

static int get_card(store_txn *t, void *arg)
{
	struct card_ctx *c = arg;
	int r = store_meta_get(t, "card", &c->card, &c->len);
	if (r != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
	r = store_meta_get(t, "rotation", &c->rot, &c->rot_len);
	return r < 0 && r != BATON_ENOTFOUND ? r : 0;
}

int cmd_card(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"rotation-out", required_argument, NULL, 'r'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct card_ctx cc = {NULL, 0, NULL, 0};
	const char *rot_out = NULL;
	const char *out = NULL;
	store *st;
	baton_card card;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	int opt, r, rc, force = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'o') {
			out = optarg;
		} else if (opt == 'r') {
			rot_out = optarg;
		} else if (opt == 'F') {
			force = 1;
		} else {
			fprintf(opt == 'h' ? stdout : stderr,
			        "usage: baton card [--out FILE] [--rotation-out FILE] [--force] "
			        "[--json] [--dir DIR]\n\n"
			        "Writes this school's signed card to FILE (or to standard output\n"
			        "when it is not a terminal), for other schools to pin.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = store_read(st, get_card, &cc);
	store_close(st);
	if (r != 0)
		return cli_fail("card", r);
	if ((r = baton_card_parse(cc.card, cc.len, &card)) != 0) {
		free(cc.card);
		return cli_fail("card", r);
	}
	baton_fingerprint(card.id_pk, fpr);
	if (com.json) {
		json_t *j =
		    json_pack("{s:s, s:s, s:s, s:I, s:I}", "name", card.name, "code", card.code,
		              "fingerprint", fpr, "valid_from", (json_int_t)card.valid_from,
		              "valid_until", (json_int_t)card.valid_until);
		json_t *eps = json_array();
		for (size_t i = 0; i < card.n_endpoints; i++)
			json_array_append_new(eps, json_string(card.endpoints[i]));
		json_object_set_new(j, "endpoints", eps);
		cli_print_json(j);
	}
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

/* baton peer add | list | remove: the schools this node trusts. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "consent.h"
#include "bti.h"

#define SKEW 300

/* Upper-cases and drops separators, so "hf6v6 yfxcg-..." matches "HF6V6-YFXCG-...". */
static void normalize_fpr(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	for (; *in && n + 1 < cap; in++)
		if (isalnum((unsigned char)*in))
			out[n++] = (char)toupper((unsigned char)*in);
	out[n] = 0;
}

struct add_ctx {
	const baton_card *card;
	const uint8_t *bytes;
	size_t len;
	const baton_rotation *rot; /* may be NULL */
	int replaced;              /* out: 0 new, 1 same key refreshed, 2 rotated */
	char old_fpr[BATON_FINGERPRINT_LEN + 1];
	const uint8_t *rot_bytes; /* the rotation statement as it came, when rot is set */
	size_t rot_len;
};

static int add_peer(store_txn *t, void *arg)
{
	struct add_ctx *c = arg;
	uint8_t *old = NULL;
	size_t olen;
	baton_card oc;
	char detail[256], fpr[BATON_FINGERPRINT_LEN + 1];
	int r;

	c->replaced = 0;
	if ((r = store_peer_get(t, c->card->code, &old, &olen)) < 0 && r != BATON_ENOTFOUND)
		return r;
	baton_fingerprint(c->card->id_pk, fpr);
	if (r == 0) {
		r = baton_card_parse(old, olen, &oc);
		free(old);
		if (r != 0)
			return bti_diag_err(BATON_EIO, "the pinned card of %s is damaged",
			                    c->card->code);
		baton_fingerprint(oc.id_pk, c->old_fpr);
		if (sodium_memcmp(oc.id_pk, c->card->id_pk, BATON_PK_BYTES) == 0) {
			c->replaced = 1;
		} else if (c->rot == NULL) {
			return bti_diag_err(
			    BATON_EBADKEY,
			    "%s is already pinned with a different key (fingerprint %s); "
			    "this card has %s. A changed key needs a rotation statement "
			    "signed by the old key (--rotation FILE). Not pinned.",
			    c->card->code, c->old_fpr, fpr);
		} else if (sodium_memcmp(c->rot->old_pk, oc.id_pk, BATON_PK_BYTES) != 0 ||
		           sodium_memcmp(c->rot->new_pk, c->card->id_pk, BATON_PK_BYTES) != 0 ||
		           strcmp(c->rot->code, c->card->code) != 0) {
			return bti_diag_err(
			    BATON_EBADKEY,
			    "the rotation statement does not move %s from the pinned key "
			    "(%s) to this card's key (%s). Not pinned.",
			    c->card->code, c->old_fpr, fpr);
		} else {
			c->replaced = 2;
		}
	}
	if ((r = store_peer_put(t, c->card->code, c->bytes, c->len)) != 0)
		return r;
	/* Consents the family signed before the rotation still name this school. */
	if (c->replaced == 2 && (r = consent_rotation_put(t, c->rot_bytes, c->rot_len)) != 0)
		return r;
	snprintf(detail, sizeof(detail), "%s, fingerprint %s%s%s", c->card->name, fpr,
	         c->replaced == 2 ? ", rotated from " : "", c->replaced == 2 ? c->old_fpr : "");
	return cli_audit(t,
	                 c->replaced == 2 ? "peer-rotate"
	                 : c->replaced    ? "peer-refresh"
	                                  : "peer-add",
	                 NULL, c->card->code, detail);
}

struct own_ctx {
	uint8_t *card;
	size_t len;
};

static int get_own(store_txn *t, void *arg)
{
	struct own_ctx *c = arg;
	int r = store_meta_get(t, "card", &c->card, &c->len);
	return r < 0 && r != BATON_ENOTFOUND ? BATON_EIO : 0;
}

static int peer_add(int argc, char **argv)
{
	static const struct option opts[] = {{"expect", required_argument, NULL, 'e'},
	                                     {"rotation", required_argument, NULL, 'r'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *expect = NULL, *rotfile = NULL;
	uint8_t *bytes = NULL, *rbytes = NULL;
	size_t len, rlen = 0;
	baton_card card, own;
	baton_rotation rot;
	store *st = NULL;
	char fpr[BATON_FINGERPRINT_LEN + 1], a[64], b[64];
	int opt, r, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'e')
			expect = optarg;
		else if (opt == 'r')
			rotfile = optarg;
		else {
			fprintf(opt == 'h' ? stdout : stderr,
			        "usage: baton peer add CARDFILE [--expect FINGERPRINT] "
			        "[--rotation FILE]\n\n"
			        "Pins another school's card. Check the fingerprint with that "
			        "school first;\n--expect refuses a card whose fingerprint "
			        "differs.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("peer add: one CARDFILE expected");
	const char *path = argv[optind];
	if ((r = baton_file_read(path, BATON_OBJ_MAX, &bytes, &len)) != 0)
		return cli_fail(path, r);
	if ((r = baton_card_parse(bytes, len, &card)) != 0) {
		rc = cli_fail(path, r);
		goto out;
	}
	baton_fingerprint(card.id_pk, fpr);
	uint64_t now = cli_now();
	if ((r = baton_check_validity(card.valid_from, card.valid_until, now, SKEW)) != 0) {
		fprintf(stderr, "baton: %s: the card of %s is %s (valid %s", path, card.code,
		        r == BATON_EEXPIRED ? "expired" : "not valid yet",
		        cli_time(card.valid_from));
		fprintf(stderr, " to %s)\n", cli_time(card.valid_until));
		rc = EXIT_REJECTED;
		goto out;
	}
	if (expect) {
		normalize_fpr(expect, a, sizeof(a));
		normalize_fpr(fpr, b, sizeof(b));
		if (strcmp(a, b) != 0) {
			fprintf(stderr,
			        "baton: %s: fingerprint %s does not match the expected %s; "
			        "not pinned\n",
			        path, fpr, expect);
			rc = EXIT_REJECTED;
			goto out;
		}
	}
	if (rotfile) {
		if ((r = baton_file_read(rotfile, BATON_OBJ_MAX, &rbytes, &rlen)) != 0 ||
		    (r = baton_rotation_parse(rbytes, rlen, &rot)) != 0) {
			rc = cli_fail(rotfile, r);
			goto out;
		}
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		goto out;
	struct own_ctx oc = {NULL, 0};
	if ((r = store_read(st, get_own, &oc)) == 0 && oc.card &&
	    baton_card_parse(oc.card, oc.len, &own) == 0 &&
	    sodium_memcmp(own.id_pk, card.id_pk, BATON_PK_BYTES) == 0) {
		free(oc.card);
		fprintf(stderr, "baton: %s: this is this school's own card; not pinned\n", path);
		rc = EXIT_REJECTED;
		goto out;
	}
	free(oc.card);
	struct add_ctx ac = {&card, bytes, len, rotfile ? &rot : NULL, 0, "", rbytes, rlen};
	if ((r = store_write(st, add_peer, &ac)) != 0) {
		rc = cli_fail(path, r);
		goto out;
	}
	if (com.json)
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "code", card.code, "name",
		                         card.name, "fingerprint", fpr, "result",
		                         ac.replaced == 2   ? "rotated"
		                         : ac.replaced == 1 ? "refreshed"
		                                            : "pinned"));
	else
		printf("%s %s (%s), fingerprint %s%s\n",
		       ac.replaced == 2 ? "Rotated"
		       : ac.replaced    ? "Refreshed"
		                        : "Pinned",
		       card.name, card.code, fpr,
		       expect ? " (matches --expect)"
		              : "\nConfirm this fingerprint with the school before sending it "
		                "records.");
	rc = EXIT_OK;
out:
	store_close(st);
	free(bytes);
	free(rbytes);
	return rc;
}

struct list_ctx {
	json_t *arr;
	int n;
};

static int list_one(const char *code, const uint8_t *bytes, size_t len, void *arg)
{
	struct list_ctx *c = arg;
	baton_card card;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	if (baton_card_parse(bytes, len, &card) != 0)
		return bti_diag_err(BATON_EIO, "the pinned card of %s is damaged", code);
	baton_fingerprint(card.id_pk, fpr);
	c->n++;
	if (c->arr) {
		json_t *eps = json_array();
		for (size_t i = 0; i < card.n_endpoints; i++)
			json_array_append_new(eps, json_string(card.endpoints[i]));
		json_array_append_new(c->arr,
		                      json_pack("{s:s, s:s, s:s, s:o, s:I}", "code", code, "name",
		                                card.name, "fingerprint", fpr, "endpoints", eps,
		                                "valid_until", (json_int_t)card.valid_until));
	} else {
		printf("%-12s %-32s %s  %s\n", code, card.name, fpr, card.endpoints[0]);
	}
	return 0;
}

static int list_peers(store_txn *t, void *arg)
{
	return store_peer_each(t, list_one, arg);
}

static int peer_list(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int rc, r;
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton peer list [--json] [--dir DIR]\n")) >= 0)
		return rc;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	struct list_ctx lc = {com.json ? json_array() : NULL, 0};
	r = store_read(st, list_peers, &lc);
	store_close(st);
	return cli_list_done(r, lc.arr, lc.n, "peer list",
	                     "No schools pinned yet ('baton peer add CARDFILE').");
}

static int remove_peer(store_txn *t, void *arg)
{
	const char *code = arg;
	int r = store_peer_del(t, code);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(BATON_EVALUE, "%s is not pinned", code);
	return r ? r : cli_audit(t, "peer-remove", NULL, code, NULL);
}

static int peer_remove(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int rc, r;
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton peer remove CODE [--dir DIR]\n")) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error("peer remove: one school CODE expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = store_write(st, remove_peer, argv[optind]);
	store_close(st);
	if (r != 0)
		return cli_fail("peer remove", r);
	printf("Removed %s\n", argv[optind]);
	return EXIT_OK;
}

int cmd_peer(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"add", peer_add, "pin a school's card"},
	    {"list", peer_list, "list pinned schools"},
	    {"remove", peer_remove, "unpin a school"},
	};
	return cli_dispatch("peer", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

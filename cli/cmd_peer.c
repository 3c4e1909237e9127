/* baton peer add | update | list | remove: the schools this node trusts. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "bti.h"
#include "card.h"
#include "view_peers.h"
#include "view_school.h"

/* EXIT_OK when the card is valid now; otherwise says why and returns EXIT_REJECTED. */
static int card_in_window(const char *path, const baton_card *card)
{
	int r = peers_card_valid(card, cli_now());
	if (r == 0)
		return EXIT_OK;
	fprintf(stderr, "baton: %s: the card of %s is %s (valid %s", path, card->code,
	        r == BATON_EEXPIRED ? "expired" : "not valid yet", cli_time(card->valid_from));
	fprintf(stderr, " to %s)\n", cli_time(card->valid_until));
	return EXIT_REJECTED;
}

/* The card in path, parsed and valid now; *bytes (the caller frees it) as read. An exit code. */
static int read_card(const char *path, uint8_t **bytes, size_t *len, baton_card *card)
{
	int r;
	if ((r = baton_file_read(path, BATON_OBJ_MAX, bytes, len)) != 0)
		return cli_fail(path, r);
	if ((r = baton_card_parse(*bytes, *len, card)) != 0)
		return cli_fail(path, r);
	return card_in_window(path, card);
}

/* EXIT_OK when the fingerprint is the one expected; otherwise says so and returns EXIT_REJECTED. */
static int expect_matches(const char *path, const char *fpr, const char *expect)
{
	if (peers_fpr_match(expect, fpr))
		return EXIT_OK;
	fprintf(stderr, "baton: %s: fingerprint %s does not match the expected %s; not pinned\n",
	        path, fpr, expect);
	return EXIT_REJECTED;
}

static void peer_added(const struct cli_common *com, const baton_card *card, const char *fpr,
                       int replaced, int expected)
{
	if (com->json)
		cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "code", card->code, "name",
		                         card->name, "fingerprint", fpr, "result",
		                         replaced == 2   ? "rotated"
		                         : replaced == 1 ? "already pinned"
		                                         : "pinned"));
	else
		printf("%s %s (%s), fingerprint %s%s\n",
		       replaced == 2 ? "Rotated"
		       : replaced    ? "Already pinned:"
		                     : "Pinned",
		       card->name, card->code, fpr,
		       expected ? " (matches --expect)"
		                : "\nConfirm this fingerprint with the school before sending it "
		                  "records.");
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
	baton_card card;
	baton_rotation rot;
	store *st = NULL;
	char fpr[BATON_FINGERPRINT_LEN + 1];
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
	if ((rc = read_card(path, &bytes, &len, &card)) != EXIT_OK)
		goto out;
	baton_fingerprint(card.id_pk, fpr);
	if (expect && (rc = expect_matches(path, fpr, expect)) != EXIT_OK)
		goto out;
	if (rotfile) {
		if ((r = baton_file_read(rotfile, BATON_OBJ_MAX, &rbytes, &rlen)) != 0 ||
		    (r = baton_rotation_parse(rbytes, rlen, &rot)) != 0) {
			rc = cli_fail(rotfile, r);
			goto out;
		}
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		goto out;
	if (peers_is_own(st, &card)) {
		fprintf(stderr, "baton: %s: this is this school's own card; not pinned\n", path);
		rc = EXIT_REJECTED;
		goto out;
	}
	struct peers_add ac = {&card, bytes, len, rotfile ? &rot : NULL, rbytes, rlen, 0, ""};
	if ((r = peers_add(st, &ac)) != 0) {
		rc = cli_fail(path, r);
		goto out;
	}
	peer_added(&com, &card, fpr, ac.replaced, expect != NULL);
	rc = EXIT_OK;
out:
	store_close(st);
	free(bytes);
	free(rbytes);
	return rc;
}

static void peer_updated(const struct cli_common *com, const struct school_update *uc)
{
	const baton_card *c = uc->card;
	char from[CARD_TIME_LEN], to[CARD_TIME_LEN];
	if (uc->same) {
		if (com->json)
			cli_print_json(json_pack("{s:s, s:s, s:s, s:I, s:I}", "code", c->code,
			                         "name", c->name, "result", "unchanged",
			                         "valid_from", (json_int_t)c->valid_from,
			                         "requeued", (json_int_t)0));
		else
			printf("%s (%s): this card is the one pinned already; nothing to do\n",
			       c->name, c->code);
		return;
	}
	if (com->json) {
		json_t *eps = json_array();
		for (size_t i = 0; i < c->n_endpoints; i++)
			json_array_append_new(eps, json_string(c->endpoints[i]));
		cli_print_json(json_pack("{s:s, s:s, s:s, s:o, s:I, s:I}", "code", c->code, "name",
		                         c->name, "result", "updated", "endpoints", eps,
		                         "valid_from", (json_int_t)c->valid_from, "requeued",
		                         (json_int_t)uc->requeued));
		return;
	}
	card_time(uc->was.valid_from, from);
	card_time(c->valid_from, to);
	printf("Updated %s (%s): its card is valid from %s (the one pinned, from %s)\n", c->name,
	       c->code, to, from);
	for (size_t i = 0; i < c->n_endpoints; i++)
		printf("  endpoint %s\n", c->endpoints[i]);
	if (strcmp(c->endpoints[0], uc->was.endpoints[0]) != 0)
		printf("  (was %s)\n", uc->was.endpoints[0]);
	if (uc->requeued)
		printf("%zu queued packet(s) to %s go to the new endpoint now.\n", uc->requeued,
		       c->code);
}

static int peer_update(int argc, char **argv)
{
	struct cli_common com = {0};
	uint8_t *bytes = NULL;
	size_t len;
	baton_card card;
	store *st = NULL;
	int r, rc;

	if ((rc = cli_common_only(
	         argc, argv, &com,
	         "usage: baton peer update CARDFILE [--json] [--dir DIR]\n\n"
	         "Takes a newer card of a pinned school: same code, same identity key,\n"
	         "valid from later than the pinned card (after 'baton endpoint set' there).\n"
	         "Packets queued for the school go to the new card's endpoints.\n")) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error("peer update: one CARDFILE expected");
	const char *path = argv[optind];
	if ((rc = read_card(path, &bytes, &len, &card)) != EXIT_OK ||
	    (rc = cli_open_store(&com, &st)) != EXIT_OK)
		goto out;
	struct school_update uc = {.card = &card, .bytes = bytes, .len = len};
	if ((r = school_peer_update(st, &uc, cli_now())) != 0) {
		rc = cli_fail(path, r);
		goto out;
	}
	peer_updated(&com, &uc);
	rc = EXIT_OK;
out:
	store_close(st);
	free(bytes);
	return rc;
}

static void print_peers(const json_t *arr)
{
	size_t i;
	const json_t *o;
	json_array_foreach(arr, i, o)
	{
		printf("%-12s %-32s %s  %s", cli_str(o, "code"), cli_str(o, "name"),
		       cli_str(o, "fingerprint"),
		       json_string_value(json_array_get(json_object_get(o, "endpoints"), 0)));
		if (strcmp(cli_str(o, "via"), "directory") == 0)
			printf("  (directory: %s)", cli_str(o, "authority"));
		if (cli_str(o, "withdrawn_by")[0])
			printf("  (withdrawn by %s: not trusted)", cli_str(o, "withdrawn_by"));
		printf("\n");
	}
}

static int peer_list(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	json_t *arr = NULL;
	size_t n;
	int rc, r;
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton peer list [--json] [--dir DIR]\n")) >= 0)
		return rc;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = peers_list(st, &arr);
	store_close(st);
	n = r == 0 ? json_array_size(arr) : 0;
	if (r == 0 && !com.json) {
		print_peers(arr);
		json_decref(arr);
		arr = NULL;
	}
	return cli_list_done(r, arr, n, "peer list",
	                     "No schools pinned yet ('baton peer add CARDFILE').");
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
	r = peers_remove(st, argv[optind]);
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
	    {"update", peer_update, "take a newer card of a pinned school (same key)"},
	    {"list", peer_list, "list pinned schools"},
	    {"remove", peer_remove, "unpin a school"},
	};
	return cli_dispatch("peer", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

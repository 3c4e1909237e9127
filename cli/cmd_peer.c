/* baton peer add | update | list | remove: the schools this node trusts. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cli.h"
#include "consent.h"
#include "bti.h"
#include "card.h"

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
	int replaced;              /* out: 0 new, 1 the same card again, 2 rotated */
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
		int same = r == 0 && olen == c->len && memcmp(old, c->bytes, olen) == 0;
		free(old);
		if (r != 0)
			return bti_diag_err(BATON_EIO, "the pinned card of %s is damaged",
			                    c->card->code);
		baton_fingerprint(oc.id_pk, c->old_fpr);
		if (sodium_memcmp(oc.id_pk, c->card->id_pk, BATON_PK_BYTES) == 0) {
			/* Only 'peer update' replaces a card of this key: never by an older one. */
			if (!same)
				return bti_diag_err(
				    BATON_EVALUE,
				    "%s is already pinned with this key, from another "
				    "card; a newer card of the same key is taken with "
				    "'baton peer update CARD'. Not pinned.",
				    c->card->code);
			c->replaced = 1;
			return 0;
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
	return cli_audit(t, c->replaced == 2 ? "peer-rotate" : "peer-add", NULL, c->card->code,
	                 detail);
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

/* EXIT_OK when the card is valid now; otherwise says why and returns EXIT_REJECTED. */
static int card_in_window(const char *path, const baton_card *card)
{
	int r = baton_check_validity(card->valid_from, card->valid_until, cli_now(), SKEW);
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
	char a[64], b[64];
	normalize_fpr(expect, a, sizeof(a));
	normalize_fpr(fpr, b, sizeof(b));
	if (strcmp(a, b) == 0)
		return EXIT_OK;
	fprintf(stderr, "baton: %s: fingerprint %s does not match the expected %s; not pinned\n",
	        path, fpr, expect);
	return EXIT_REJECTED;
}

/* 1 when card has this school's own identity key, 0 otherwise (also when it cannot tell). */
static int is_own_card(store *st, const baton_card *card)
{
	struct own_ctx oc = {NULL, 0};
	baton_card own;
	int yes = store_read(st, get_own, &oc) == 0 && oc.card &&
	          baton_card_parse(oc.card, oc.len, &own) == 0 &&
	          sodium_memcmp(own.id_pk, card->id_pk, BATON_PK_BYTES) == 0;
	free(oc.card);
	return yes;
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
	if (is_own_card(st, &card)) {
		fprintf(stderr, "baton: %s: this is this school's own card; not pinned\n", path);
		rc = EXIT_REJECTED;
		goto out;
	}
	struct add_ctx ac = {&card, bytes, len, rotfile ? &rot : NULL, 0, "", rbytes, rlen};
	if ((r = store_write(st, add_peer, &ac)) != 0) {
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

struct update_ctx {
	const baton_card *card;
	const uint8_t *bytes;
	size_t len;
	baton_card was;  /* out: the card it replaced */
	size_t requeued; /* out: queued packets to the school, now due at once */
	int same;        /* out: 1 when this very card is the one pinned; nothing written */
};

/* 1 when the card pinned for code is byte for byte bytes, else 0 (a failed read included). */
static int pinned_already(store_txn *t, const char *code, const uint8_t *bytes, size_t len)
{
	uint8_t *pinned = NULL;
	size_t n = 0;
	int same = store_peer_get(t, code, &pinned, &n) == 0 && n == len &&
	           memcmp(pinned, bytes, len) == 0;
	free(pinned);
	return same;
}

struct due_ctx {
	const char *code;
	store_outbox *e; /* grows */
	size_t n, cap;
};

static int due_one(const store_outbox *e, void *arg)
{
	struct due_ctx *d = arg;
	if (e->state != OUT_QUEUED || strcmp(e->to, d->code) != 0)
		return 0;
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 16;
		store_outbox *p = realloc(d->e, cap * sizeof(*p));
		if (p == NULL)
			return BATON_ENOMEM;
		d->e = p;
		d->cap = cap;
	}
	d->e[d->n++] = *e;
	return 0;
}

/* Packets waiting for the school's old endpoint go to the new one now, not after their backoff. */
static int requeue_now(store_txn *t, const char *code, size_t *n)
{
	struct due_ctx d = {code, NULL, 0, 0};
	uint64_t now = cli_now();
	int r = store_outbox_each(t, due_one, &d);
	for (size_t i = 0; r == 0 && i < d.n; i++) {
		d.e[i].next_try = now;
		r = store_outbox_put(t, &d.e[i]);
	}
	*n = d.n;
	free(d.e);
	return r;
}

static int update_peer(store_txn *t, void *arg)
{
	struct update_ctx *c = arg;
	char detail[BATON_URL_MAX + 128], from[CARD_TIME_LEN], to[CARD_TIME_LEN];
	int r = store_peer_card(t, c->card->code, &c->was);

	if (r == BATON_ENOTFOUND)
		return bti_diag_err(BATON_EVALUE,
		                    "%s is not pinned; pin it first with 'baton peer add CARD'",
		                    c->card->code);
	if (r != 0)
		return r;
	/* Taking the card already pinned again is done, as a repeated command expects. */
	if ((c->same = pinned_already(t, c->card->code, c->bytes, c->len)) == 1)
		return 0;
	if ((r = card_replaces(&c->was, c->card)) == BATON_EBADKEY)
		return bti_diag_err(r,
		                    "%s is pinned with another key; a changed key needs its "
		                    "rotation statement: 'baton peer add CARD --rotation FILE'. "
		                    "Not updated.",
		                    c->card->code);
	if (r != 0 || (r = store_peer_put(t, c->card->code, c->bytes, c->len)) != 0 ||
	    (r = requeue_now(t, c->card->code, &c->requeued)) != 0)
		return r;
	card_time(c->was.valid_from, from);
	card_time(c->card->valid_from, to);
	snprintf(detail, sizeof(detail), "card valid from %s (was %s), endpoint %s", to, from,
	         c->card->endpoints[0]);
	/* An audit detail holds 256 bytes: cut there, at a whole UTF-8 character. */
	size_t n = strlen(detail);
	if (n > 256) {
		for (n = 256; ((unsigned char)detail[n] & 0xC0) == 0x80; n--)
			;
		detail[n] = 0;
	}
	return cli_audit(t, "peer-update", NULL, c->card->code, detail);
}

static void peer_updated(const struct cli_common *com, const struct update_ctx *uc)
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
	struct update_ctx uc = {.card = &card, .bytes = bytes, .len = len};
	if ((r = store_write(st, update_peer, &uc)) != 0) {
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
	    {"update", peer_update, "take a newer card of a pinned school (same key)"},
	    {"list", peer_list, "list pinned schools"},
	    {"remove", peer_remove, "unpin a school"},
	};
	return cli_dispatch("peer", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

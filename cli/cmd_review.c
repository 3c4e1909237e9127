/*
 * baton review [list] | show | accept | reject: records held because they
 * name a student on file but are not that child (store_same_child). Nothing
 * held is current until the registrar accepts it.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "bti.h"
#include "record.h"
#include "review.h"
#include "view_students.h"

/* ---- list and show ---- */

struct view_ctx {
	uint64_t only; /* 0: every item */
	json_t *arr;
	size_t n;
	int side_by_side;
};

static void print_side_by_side(const store_student *on_file, const store_student *held)
{
	printf("  %-17s %-30s %s\n", "", "on file", "held");
	for (size_t i = 0; i < REVIEW_IDENT; i++) {
		const char *x = review_ident_value(on_file, i), *y = review_ident_value(held, i);
		printf("%s %-17s %-30s %s\n", strcmp(x, y) != 0 ? "*" : " ", review_ident_field(i),
		       x[0] ? x : "-", y[0] ? y : "-");
	}
	printf("  (* differs)\n");
}

static int view_one(store_txn *t, const store_held *h, struct view_ctx *c)
{
	store_student on_file, held;
	json_t *rec = NULL, *o;
	const char *from = h->from[0] ? h->from : "file import";
	int r;

	if (c->only && h->id != c->only)
		return 0;
	c->n++;
	if (c->arr) {
		if ((r = review_held_json(t, h, c->side_by_side, &o)) == 0 &&
		    json_array_append_new(c->arr, o) != 0)
			r = BATON_ENOMEM;
		return r;
	}
	if ((r = review_held_read(t, h, &on_file, &held, &rec)) != 0)
		goto out;
	if (!c->side_by_side) {
		printf("%-4llu %-12s from %-10s %s  held: %s %s %s\n", (unsigned long long)h->id,
		       h->student, from, cli_time(h->time), held.given_name, held.family_name,
		       held.birth_date);
		goto out;
	}
	/* The held record's custody restrictions first: a safety field. */
	view_print_custody(stdout, rec);
	printf("Held record %llu, naming student %s (on file: %s %s, born %s)\n",
	       (unsigned long long)h->id, h->student, on_file.given_name, on_file.family_name,
	       on_file.birth_date);
	printf("  from %s%s%s, %s\n", from, h->their_id[0] ? " as " : "", h->their_id,
	       cli_time(h->time));
	if (h->has_packet)
		printf("  packet %s\n", cli_hex(h->packet, BATON_ID_BYTES));
	print_side_by_side(&on_file, &held);
	printf("Accept it as a new version of %s ('baton review accept %llu'), file it as\n"
	       "another student ('--as NEW_ID'), or discard it ('baton review reject %llu').\n",
	       h->student, (unsigned long long)h->id, (unsigned long long)h->id);
out:
	json_decref(rec);
	return r;
}

struct view_txn {
	store_txn *t;
	struct view_ctx *c;
};

static int view_cb(const store_held *h, void *arg)
{
	struct view_txn *v = arg;
	return view_one(v->t, h, v->c);
}

static int view_fn(store_txn *t, void *arg)
{
	struct view_txn v = {t, arg};
	return store_held_each(t, view_cb, &v);
}

static int review_view(int argc, char **argv, int show)
{
	struct cli_common com = {0};
	struct view_ctx c = {0};
	store *st;
	int r, rc;

	if ((rc = cli_common_only(argc, argv, &com,
	                          show ? "usage: baton review show N [--json] [--dir DIR]\n\n"
	                                 "The held record N beside the student on file.\n"
	                               : "usage: baton review [list] [--json] [--dir DIR]\n\n"
	                                 "Records held because they name a student on file\n"
	                                 "but are not that child.\n")) >= 0)
		return rc;
	if (optind + (show ? 1 : 0) != argc)
		return cli_usage_error(show ? "review show: one review number expected"
		                            : "review: no arguments expected");
	if (show && review_parse_id(argv[optind], &c.only) != 0)
		return cli_usage_error("review show: %s", baton_diag());
	c.side_by_side = show;
	if (com.json && (c.arr = json_array()) == NULL)
		return cli_fail("review", BATON_ENOMEM);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK) {
		json_decref(c.arr);
		return rc;
	}
	r = store_read(st, view_fn, &c);
	store_close(st);
	if (r == 0 && show && c.n == 0)
		r = bti_diag_err(BATON_EVALUE, "no held record %s", argv[optind]);
	if (show && r == 0 && c.arr) {
		cli_print_json(json_incref(json_array_get(c.arr, 0)));
		json_decref(c.arr);
		return EXIT_OK;
	}
	if (show && r != 0) {
		json_decref(c.arr);
		return cli_fail("review show", r);
	}
	return cli_list_done(r, c.arr, c.n, "review", show ? "" : "Nothing is held for review.");
}

static int cmd_review_list(int argc, char **argv)
{
	return review_view(argc, argv, 0);
}

static int cmd_review_show(int argc, char **argv)
{
	return review_view(argc, argv, 1);
}

/* ---- accept and reject ---- */

static int cmd_review_decide(int argc, char **argv, int accept)
{
	static const struct option opts[] = {
	    {"as", required_argument, NULL, 'a'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct review_decision c;
	store *st;
	int opt, r, rc;

	memset(&c, 0, sizeof(c));
	c.accept = accept;
	c.as_name = "--as";
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'a' && accept) {
			c.as = optarg;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr, "%s",
		        accept
		            ? "usage: baton review accept N [--as STUDENT_ID] [--dir DIR]\n\n"
		              "Makes held record N the current version of the student it names,\n"
		              "or, with --as, files it as that student instead: a new student, or\n"
		              "the same child already on file under that id.\n"
		            : "usage: baton review reject N [--dir DIR]\n\n"
		              "Discards held record N; the student on file stays as it is.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("review %s: one review number expected",
		                       accept ? "accept" : "reject");
	if (review_parse_id(argv[optind], &c.id) != 0)
		return cli_usage_error("review %s: %s", accept ? "accept" : "reject", baton_diag());
	if (c.as && (strlen(c.as) > BATON_STUDENT_MAX || !record_id_safe(c.as)))
		return cli_usage_error("review accept: --as \"%s\": a student id of at most %d "
		                       "bytes, no '/' or '\\', not starting with '.', no space at "
		                       "either end",
		                       c.as, BATON_STUDENT_MAX);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = review_decide(st, &c);
	store_close(st);
	if (r == BATON_ENOTFOUND)
		r = bti_diag_err(BATON_EVALUE, "no held record %llu (see 'baton review')",
		                 (unsigned long long)c.id);
	if (r != 0)
		return cli_fail(accept ? "review accept" : "review reject", r);
	if (!accept)
		printf("Discarded held record %llu; student %s is unchanged\n",
		       (unsigned long long)c.id, c.s.id);
	else
		printf("Held record %llu is now %s version %u%s\n", (unsigned long long)c.id,
		       c.s.id, c.s.version, c.new_student ? " (a new student)" : "");
	if (c.dropped_state)
		printf("  filed without its statewide id, which stays with %s: check which is "
		       "right\n",
		       c.state_owner);
	return EXIT_OK;
}

static int review_accept(int argc, char **argv)
{
	return cmd_review_decide(argc, argv, 1);
}

static int review_reject(int argc, char **argv)
{
	return cmd_review_decide(argc, argv, 0);
}

int cmd_review(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"list", cmd_review_list, "list the records held for review (the default)"},
	    {"show", cmd_review_show, "a held record beside the student on file"},
	    {"accept", review_accept, "make a held record current, or file it as another student"},
	    {"reject", review_reject, "discard a held record"},
	};
	/* "baton review" and "baton review --json" list. */
	if (argc < 2 ||
	    (argv[1][0] == '-' && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0))
		return cmd_review_list(argc, argv);
	return cli_dispatch("review", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

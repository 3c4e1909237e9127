/*
 * baton review [list] | show | accept | reject: records held because they
 * name a student on file but are not that child (store_same_child). Nothing
 * held is current until the registrar accepts it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "bti.h"
#include "record.h"

/* The identity fields a registrar compares, in the order shown. */
static const char *const ident_fields[] = {"given_name", "family_name", "birth_date",
                                           "state_student_id"};
#define N_IDENT (sizeof(ident_fields) / sizeof(ident_fields[0]))

static const char *ident_value(const store_student *s, size_t i)
{
	const char *v[N_IDENT] = {s->given_name, s->family_name, s->birth_date, s->state_id};
	return v[i];
}

static int parse_held_id(const char *arg, uint64_t *id)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (arg[0] < '0' || arg[0] > '9' || *end != '\0' || errno != 0 || v == 0)
		return bti_diag_err(BATON_EVALUE,
		                    "\"%s\" is not a review number (see 'baton review')", arg);
	*id = v;
	return 0;
}

/* The held record's identity, read from its JSON. */
static int held_index(const store_held *h, json_t **rec, store_student *s)
{
	json_error_t err;
	memset(s, 0, sizeof(*s));
	record_json_failed();
	if ((*rec = json_loadb(h->json, h->len, 0, &err)) == NULL)
		return bti_diag_err(BATON_EIO, "held record %llu does not parse",
		                    (unsigned long long)h->id);
	record_index(*rec, s);
	return 0;
}

/* ---- list and show ---- */

struct view_ctx {
	uint64_t only; /* 0: every item */
	json_t *arr;
	size_t n;
	int side_by_side;
};

static json_t *ident_json(const store_student *a, const store_student *b)
{
	json_t *o = json_array();
	for (size_t i = 0; i < N_IDENT && o; i++) {
		const char *x = ident_value(a, i), *y = ident_value(b, i);
		json_array_append_new(o, json_pack("{s:s, s:s, s:s, s:b}", "field", ident_fields[i],
		                                   "on_file", x, "held", y, "differs",
		                                   strcmp(x, y) != 0));
	}
	return o;
}

static void print_side_by_side(const store_student *on_file, const store_student *held)
{
	printf("  %-17s %-30s %s\n", "", "on file", "held");
	for (size_t i = 0; i < N_IDENT; i++) {
		const char *x = ident_value(on_file, i), *y = ident_value(held, i);
		printf("%s %-17s %-30s %s\n", strcmp(x, y) != 0 ? "*" : " ", ident_fields[i],
		       x[0] ? x : "-", y[0] ? y : "-");
	}
	printf("  (* differs)\n");
}

static int view_one(store_txn *t, const store_held *h, struct view_ctx *c)
{
	store_student on_file, held;
	json_t *rec = NULL;
	const char *from = h->from[0] ? h->from : "file import";
	int r;

	if (c->only && h->id != c->only)
		return 0;
	if (((r = store_student_get(t, h->student, &on_file)) < 0 && r != BATON_ENOTFOUND) ||
	    (r = held_index(h, &rec, &held)) != 0)
		goto out;
	c->n++;
	if (c->arr) {
		json_t *o =
		    json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:o}", "id", (json_int_t)h->id,
		              "student", h->student, "from", h->from, "their_id", h->their_id,
		              "packet", h->has_packet ? cli_hex(h->packet, BATON_ID_BYTES) : "",
		              "time", (json_int_t)h->time, "identity", ident_json(&on_file, &held));
		if (o && c->side_by_side)
			json_object_set(o, "record", rec);
		r = o == NULL || json_array_append_new(c->arr, o) ? BATON_ENOMEM : 0;
		goto out;
	}
	if (!c->side_by_side) {
		printf("%-4llu %-12s from %-10s %s  held: %s %s %s\n", (unsigned long long)h->id,
		       h->student, from, cli_time(h->time), held.given_name, held.family_name,
		       held.birth_date);
		goto out;
	}
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
	if (show && parse_held_id(argv[optind], &c.only) != 0)
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

static int review_list(int argc, char **argv)
{
	return review_view(argc, argv, 0);
}

static int review_show(int argc, char **argv)
{
	return review_view(argc, argv, 1);
}

/* ---- accept and reject ---- */

struct decide_ctx {
	uint64_t id;
	const char *as; /* accept: file under this id instead; NULL: the student it names */
	int accept;
	store_student s;   /* out: the student it was filed as */
	int dropped_state; /* out: the statewide id stayed with the student who has it */
	char state_owner[BATON_STUDENT_MAX + 1]; /* out: that student */
	int new_student;                         /* out */
};

static int decide_audit(store_txn *t, const store_held *h, const char *student, const char *detail)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s", "review");
	snprintf(e.student, sizeof(e.student), "%s", student);
	snprintf(e.peer, sizeof(e.peer), "%s", h->from);
	if (h->has_packet) {
		memcpy(e.packet, h->packet, BATON_ID_BYTES);
		e.has_packet = 1;
	}
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	return store_audit_append(t, &e);
}

/*
 * The held record as a record of student id: its student_id rewritten, and
 * its statewide id dropped when that belongs to another student.
 */
static int refile(store_txn *t, struct decide_ctx *c, json_t *rec, char **canon)
{
	char owner[BATON_STUDENT_MAX + 1];
	int r;
	json_object_set_new(rec, "student_id", json_string(c->s.id));
	if (c->s.state_id[0] && (r = store_student_by_state_id(t, c->s.state_id, owner,
	                                                       sizeof(owner))) != BATON_ENOTFOUND) {
		if (r < 0)
			return r;
		if (strcmp(owner, c->s.id) != 0) {
			snprintf(c->state_owner, sizeof(c->state_owner), "%s", owner);
			json_object_del(rec, "state_student_id");
			c->s.state_id[0] = '\0';
			c->dropped_state = 1;
		}
	}
	if (record_json_failed() || (*canon = record_canonical(rec)) == NULL)
		return bti_diag_err(BATON_ENOMEM, "out of memory");
	return 0;
}

static int accept_held(store_txn *t, struct decide_ctx *c, const store_held *h)
{
	store_student other;
	json_t *rec = NULL;
	char *canon = NULL, detail[256];
	int r;

	if ((r = held_index(h, &rec, &c->s)) != 0)
		goto out;
	snprintf(c->s.id, sizeof(c->s.id), "%s", c->as ? c->as : h->student);
	if (c->as) {
		/* Filed as another student: a new one, or the same child already on file. */
		if ((r = store_student_get(t, c->as, &other)) < 0 && r != BATON_ENOTFOUND)
			goto out;
		c->new_student = r == BATON_ENOTFOUND;
		if (r == 0 && !store_same_child(&other, &c->s)) {
			r = bti_diag_err(
			    BATON_EVALUE,
			    "--as %s: student %s on file is not this child either (%s %s, "
			    "born %s)",
			    c->as, c->as, other.given_name, other.family_name, other.birth_date);
			goto out;
		}
	}
	if ((r = refile(t, c, rec, &canon)) != 0 ||
	    (r = store_student_put(t, &c->s, canon, strlen(canon))) != 0)
		goto out;
	if (h->from[0] && (r = store_origin_put(t, h->from, h->their_id, c->s.id)) != 0)
		goto out;
	snprintf(detail, sizeof(detail), "accepted held record %llu as %s version %u%s%s",
	         (unsigned long long)h->id, c->s.id, c->s.version,
	         c->as ? ", not the child on file as " : "", c->as ? h->student : "");
	if (c->dropped_state)
		snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail),
		         "; its statewide id stays with %s", c->state_owner);
	r = decide_audit(t, h, c->s.id, detail);
out:
	if (canon) {
		sodium_memzero(canon, strlen(canon));
		free(canon);
	}
	json_decref(rec);
	return r;
}

static int decide_fn(store_txn *t, void *arg)
{
	struct decide_ctx *c = arg;
	store_held h;
	char detail[256];
	int r;

	c->dropped_state = c->new_student = 0;
	if ((r = store_held_get(t, c->id, &h)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_EVALUE, "no held record %llu (see 'baton review')",
		                          (unsigned long long)c->id)
		           : r;
	if (c->accept) {
		r = accept_held(t, c, &h);
	} else {
		snprintf(c->s.id, sizeof(c->s.id), "%s", h.student);
		snprintf(detail, sizeof(detail),
		         "rejected held record %llu: not the child on file as %s; discarded",
		         (unsigned long long)h.id, h.student);
		r = decide_audit(t, &h, h.student, detail);
	}
	if (r == 0)
		r = store_held_del(t, c->id);
	store_held_clear(&h);
	return r;
}

static int review_decide(int argc, char **argv, int accept)
{
	static const struct option opts[] = {
	    {"as", required_argument, NULL, 'a'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct decide_ctx c;
	store *st;
	int opt, r, rc;

	memset(&c, 0, sizeof(c));
	c.accept = accept;
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
	if (parse_held_id(argv[optind], &c.id) != 0)
		return cli_usage_error("review %s: %s", accept ? "accept" : "reject", baton_diag());
	if (c.as && (strlen(c.as) > BATON_STUDENT_MAX || !record_id_safe(c.as)))
		return cli_usage_error("review accept: --as \"%s\": a student id of at most %d "
		                       "bytes, no '/' or '\\', not starting with '.', no space at "
		                       "either end",
		                       c.as, BATON_STUDENT_MAX);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = store_write(st, decide_fn, &c);
	store_close(st);
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
	return review_decide(argc, argv, 1);
}

static int review_reject(int argc, char **argv)
{
	return review_decide(argc, argv, 0);
}

int cmd_review(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"list", review_list, "list the records held for review (the default)"},
	    {"show", review_show, "a held record beside the student on file"},
	    {"accept", review_accept, "make a held record current, or file it as another student"},
	    {"reject", review_reject, "discard a held record"},
	};
	/* "baton review" and "baton review --json" list. */
	if (argc < 2 ||
	    (argv[1][0] == '-' && strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0))
		return review_list(argc, argv);
	return cli_dispatch("review", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

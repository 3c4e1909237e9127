/*
 * baton student erase, baton student erasures and baton policy retention:
 * a record taken off this node for good, the list of erasures a restored
 * backup needs applied again, and how long received records not enrolled
 * are kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bti.h"
#include "cli.h"
#include "erase.h"
#include "review.h"

static const char erase_usage[] =
    "usage: baton student erase ID --reason TEXT [--received] [--yes] [--dir DIR]\n"
    "       baton student erase --held N --reason TEXT [--yes] [--dir DIR]\n"
    "       baton student erase --expired [--dry-run] [--yes] [--dir DIR]\n"
    "       baton student erase --replay FILE [--yes] [--dir DIR]\n"
    "       baton student erase --compact [--dir DIR]\n\n"
    "Erases a student's record from this node for good: every version, its\n"
    "attachments, guardian links, invitations, the consents and requests bound to\n"
    "it, records held for review against it, and its queued packets. The store is\n"
    "then compacted and the old file overwritten, so that nothing of it stays on\n"
    "disk, and the node's own upgrade backups (DIR/backup-schema-*) are removed.\n"
    "The audit log keeps its entries (they name the school's student id, never\n"
    "a name) and gains a tombstone, action 'erasure', with the reason.\n\n"
    "The reason is kept in the audit log for good: it must not hold a name or any\n"
    "other personal data (\"parent's request under the district's policy\").\n"
    "Only the administrator of the node (who can open its directory and key) can\n"
    "erase; 'baton serve' must be stopped first (the store is rewritten).\n\n"
    "  --received  refuse unless ID is a record received from another school and\n"
    "              never enrolled here (never imported by this school)\n"
    "  --held N    erase one record held for review ('baton review') instead\n"
    "  --expired   erase the received records not enrolled that are older than the\n"
    "              retention period ('baton policy retention'); --dry-run lists them\n"
    "              (student, received, from) and changes nothing\n"
    "  --replay F  after 'baton restore' of an older backup: erase again every\n"
    "              student F lists ('baton student erasures' of the node that erased\n"
    "              them) whose record here predates its erasure\n"
    "  --compact   only compact the store (after an erasure whose compaction failed)\n"
    "  --yes       do not ask (required without a terminal)\n\n"
    "Not reached: copies already disclosed to other schools, and backups made with\n"
    "'baton backup' (restore them, then --replay the list of erasures).\n";

struct erase_opts {
	struct cli_common com;
	const char *reason, *replay;
	uint64_t held;
	int received, expired, dry, compact;
};

static int parse_opts(int argc, char **argv, struct erase_opts *o)
{
	enum { O_REASON = 2000, O_RECEIVED, O_HELD, O_EXPIRED, O_DRY, O_REPLAY, O_COMPACT };
	static const struct option opts[] = {{"reason", required_argument, NULL, O_REASON},
	                                     {"received", no_argument, NULL, O_RECEIVED},
	                                     {"held", required_argument, NULL, O_HELD},
	                                     {"expired", no_argument, NULL, O_EXPIRED},
	                                     {"dry-run", no_argument, NULL, O_DRY},
	                                     {"replay", required_argument, NULL, O_REPLAY},
	                                     {"compact", no_argument, NULL, O_COMPACT},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&o->com, opt, optarg))
			continue;
		switch (opt) {
		case O_REASON:
			o->reason = optarg;
			continue;
		case O_RECEIVED:
			o->received = 1;
			continue;
		case O_EXPIRED:
			o->expired = 1;
			continue;
		case O_DRY:
			o->dry = 1;
			continue;
		case O_REPLAY:
			o->replay = optarg;
			continue;
		case O_COMPACT:
			o->compact = 1;
			continue;
		case O_HELD:
			if (review_parse_id(optarg, &o->held) != 0)
				return cli_fail("student erase: --held", BATON_EVALUE);
			continue;
		default:
			break;
		}
		fputs(erase_usage, opt == 'h' ? stdout : stderr);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	int modes = (optind < argc) + !!o->held + o->expired + !!o->replay + o->compact;
	if (modes != 1 || optind + 1 < argc)
		return cli_usage_error("student erase: give one of ID, --held N, --expired, "
		                       "--replay FILE or --compact (see --help)");
	if (o->dry && !o->expired)
		return cli_usage_error("student erase: --dry-run goes with --expired");
	if (o->received && optind >= argc)
		return cli_usage_error("student erase: --received goes with a student ID");
	if ((optind < argc || o->held) && o->reason == NULL)
		return cli_usage_error("student erase: --reason TEXT is required (why the record "
		                       "is erased; no personal data); nothing was erased");
	if (!(optind < argc || o->held) && o->reason)
		return cli_usage_error("student erase: --reason goes with an ID or --held N");
	return -1;
}

/* 1 when the registrar said yes (or --yes), 0 (said why) when not. */
static int confirmed(const struct erase_opts *o, const char *question)
{
	char line[16];
	if (o->com.yes)
		return 1;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr, "baton: student erase: no terminal to ask at: give --yes to erase "
		                "without asking; nothing was erased\n");
		return 0;
	}
	fprintf(stderr, "%s [y/N] ", question);
	if (fgets(line, sizeof(line), stdin) == NULL ||
	    (strcmp(line, "y\n") != 0 && strcmp(line, "yes\n") != 0)) {
		fprintf(stderr, "baton: student erase: nothing was erased\n");
		return 0;
	}
	return 1;
}

static void print_plan(const char *verb, const struct erase_plan *p)
{
	const store_erased *e = &p->e;
	if (p->held)
		printf("%s held record %llu (held against %s)\n", verb, (unsigned long long)p->held,
		       p->student);
	else
		printf("%s %s%s\n", verb, p->student,
		       p->received_only ? " (received from another school, never enrolled)" : "");
	printf("  record versions     %zu\n  held records        %zu\n  attachments         %zu\n"
	       "  guardian links      %zu\n  invitations         %zu\n  consents            %zu "
	       "(%zu revocations)\n  requests            %zu\n  outbox packets      %zu\n"
	       "  statements          %zu\n  notices to family   %zu\n  email addresses     %zu\n",
	       e->versions, e->held, e->blobs, e->guardians, e->invites, e->consents,
	       e->revocations, e->requests, e->outbox, e->statements, e->notices, e->emails);
}

static int print_backup(const char *path, void *ctx)
{
	printf("%s %s (an upgrade backup: it would keep the record)\n", (const char *)ctx, path);
	return 0;
}

/* Opens the store with no other process on it, printing why not. */
static int open_alone(const struct erase_opts *o, store **st)
{
	int r = store_open(cli_dir(&o->com), STORE_OPEN_ALONE, st);
	return r ? cli_fail("student erase", r) : EXIT_OK;
}

/* After the erasures: packet files, upgrade backups, and the compaction (closes st). */
static int finish(const struct erase_opts *o, store *st, const struct erase_plan *plans, size_t n,
                  baton_key *k)
{
	const char *dir = cli_dir(&o->com);
	int r = 0, r2;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = erase_files(dir, &plans[i]);
	if (r == 0 && n > 0)
		r = erase_backups(dir, 1, print_backup, (void *)(uintptr_t) "removed");
	store_set_audit_signer(st, NULL);
	r2 = store_compact(st, dir);
	baton_key_free(k);
	if (r != 0)
		return cli_fail("student erase", r);
	if (r2 != 0) {
		fprintf(stderr,
		        "baton: student erase: the record is erased, but compacting the store "
		        "failed: %s; run 'baton student erase --compact --dir %s'\n",
		        baton_diag(), dir);
		return EXIT_ENV;
	}
	printf("The store was compacted and its old file overwritten.\n");
	return EXIT_OK;
}

static int erase_one(struct erase_opts *o, const char *id)
{
	struct erase_plan p;
	baton_key *k = NULL;
	store *st;
	char q[200];
	int rc, r;

	if ((r = erase_reason_check(o->reason)) != 0)
		return cli_fail("student erase", r);
	if ((rc = open_alone(o, &st)) != EXIT_OK)
		return rc;
	r = erase_run(st, id, o->held, "registrar", o->reason, o->received, 1, &p);
	if (r != 0) {
		store_close(st);
		return cli_fail("student erase", r);
	}
	print_plan("Erasing", &p);
	erase_backups(cli_dir(&o->com), 0, print_backup, (void *)(uintptr_t) "removing");
	store_erased_clear(&p.e);
	/* Nobody is kept off the store while the registrar reads and answers. */
	store_close(st);
	snprintf(q, sizeof(q), "Erase this for good (it cannot be undone)?");
	if (!confirmed(o, q))
		return EXIT_USAGE;
	if ((rc = cli_load_school_key(&o->com, &k)) != EXIT_OK)
		return rc;
	if ((rc = open_alone(o, &st)) != EXIT_OK) {
		baton_key_free(k);
		return rc;
	}
	store_set_audit_signer(st, k);
	if ((r = store_compact_owe(cli_dir(&o->com))) != 0 ||
	    (r = erase_run(st, id, o->held, "registrar", o->reason, o->received, 0, &p)) != 0) {
		store_set_audit_signer(st, NULL);
		store_close(st);
		baton_key_free(k);
		return cli_fail("student erase", r);
	}
	print_plan("Erased", &p);
	rc = finish(o, st, &p, 1, k);
	store_erased_clear(&p.e);
	return rc;
}

/* ---- received records past the retention period ---- */

struct due_list {
	struct erase_due *d;
	size_t n, cap;
};

static int due_add(const struct erase_due *d, void *ctx)
{
	struct due_list *l = ctx;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct erase_due *nd = realloc(l->d, cap * sizeof(*nd));
		if (nd == NULL)
			return BATON_ENOMEM;
		l->d = nd;
		l->cap = cap;
	}
	l->d[l->n++] = *d;
	return 0;
}

static void print_due(const struct erase_due *d)
{
	char what[64];
	if (d->held)
		snprintf(what, sizeof(what), "held %llu", (unsigned long long)d->held);
	else
		snprintf(what, sizeof(what), "student");
	printf("%-20s %-10s received %s from %s\n", d->student, what, cli_time(d->received),
	       d->from);
}

static int erase_expired(struct erase_opts *o)
{
	struct due_list l = {0};
	struct erase_plan *plans = NULL;
	baton_key *k = NULL;
	uint32_t days = 0;
	store *st;
	size_t done = 0;
	int rc, r;

	/* A dry run reads only: it runs beside 'baton serve'. */
	rc = o->dry ? cli_open_store(&o->com, &st) : open_alone(o, &st);
	if (rc != EXIT_OK)
		return rc;
	if ((r = erase_retention_get(st, &days)) != 0 ||
	    (r = erase_due_each(st, cli_now(), days, due_add, &l)) != 0) {
		store_close(st);
		free(l.d);
		return cli_fail("student erase", r);
	}
	printf("Retention: received records not enrolled are kept %u days; %zu past it%s\n",
	       (unsigned)days, l.n, l.n ? ":" : ".");
	for (size_t i = 0; i < l.n; i++)
		print_due(&l.d[i]);
	if (o->dry || l.n == 0) {
		if (o->dry)
			printf("Dry run: nothing was erased.\n");
		store_close(st);
		free(l.d);
		return EXIT_OK;
	}
	/* Nobody is kept off the store while the registrar reads and answers. */
	store_close(st);
	st = NULL;
	if (!confirmed(o, "Erase these for good (it cannot be undone)?")) {
		free(l.d);
		return EXIT_USAGE;
	}
	if ((rc = cli_load_school_key(&o->com, &k)) != EXIT_OK ||
	    (rc = open_alone(o, &st)) != EXIT_OK) {
		free(l.d);
		baton_key_free(k);
		return rc;
	}
	/* What is due now: the store may have changed while the question waited. */
	l.n = 0;
	if ((r = erase_due_each(st, cli_now(), days, due_add, &l)) != 0 ||
	    (plans = calloc(l.n ? l.n : 1, sizeof(*plans))) == NULL) {
		store_close(st);
		free(l.d);
		baton_key_free(k);
		return cli_fail("student erase", r ? r : BATON_ENOMEM);
	}
	store_set_audit_signer(st, k);
	r = store_compact_owe(cli_dir(&o->com));
	for (size_t i = 0; r == 0 && i < l.n; i++) {
		char reason[ERASE_REASON_MAX + 1];
		const struct erase_due *d = &l.d[i];
		snprintf(reason, sizeof(reason), "received %s from %s, not enrolled within %u days",
		         cli_time(d->received), d->from, (unsigned)days);
		r = erase_run(st, d->held ? NULL : d->student, d->held, "retention", reason, 0, 0,
		              &plans[done]);
		/* A held record goes with its student when that was erased first. */
		if (r == BATON_ENOTFOUND && d->held) {
			r = 0;
			continue;
		}
		if (r == 0)
			print_plan("Erased", &plans[done++]);
	}
	if (r != 0) {
		int e = cli_fail("student erase", r);
		finish(o, st, plans, done, k);
		rc = e;
	} else {
		rc = finish(o, st, plans, done, k);
	}
	for (size_t i = 0; i < l.n; i++)
		store_erased_clear(&plans[i].e);
	free(plans);
	free(l.d);
	return rc;
}

/* ---- applying the erasures of a list again, after a restore ---- */

struct replay_item {
	char student[BATON_STUDENT_MAX + 1];
	uint64_t time;
};

struct when_ctx {
	const char *id;
	uint64_t latest; /* the newest data of the student here */
	int found;
};

static int when_held(const store_held *h, void *arg)
{
	struct when_ctx *w = arg;
	if (strcmp(h->student, w->id) == 0) {
		w->found = 1;
		if (h->time > w->latest)
			w->latest = h->time;
	}
	return 0;
}

static int when_fn(store_txn *t, void *arg)
{
	struct when_ctx *w = arg;
	store_student s;
	int r = store_student_get(t, w->id, &s);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0) {
		w->found = 1;
		w->latest = s.updated;
	}
	return store_held_each(t, when_held, w);
}

static int parse_replay(const char *file, struct replay_item **items, size_t *n)
{
	uint8_t *raw = NULL;
	size_t len = 0, cap = 0, no = 0;
	char *text, *line, *save = NULL;
	int r;
	*items = NULL;
	*n = 0;
	if ((r = baton_file_read(file, 1u << 24, &raw, &len)) != 0)
		return r;
	if ((text = malloc(len + 1)) == NULL) {
		free(raw);
		return BATON_ENOMEM;
	}
	memcpy(text, raw, len);
	text[len] = 0;
	free(raw);
	r = strlen(text) == len ? 0 : bti_diag_err(BATON_EVALUE, "%s: not a text file", file);
	for (line = strtok_r(text, "\n", &save); r == 0 && line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *tab, *end;
		no++;
		if (line[0] == '#')
			continue;
		tab = strchr(line, '\t');
		if (tab == NULL || tab == line || (size_t)(tab - line) > BATON_STUDENT_MAX) {
			r = bti_diag_err(BATON_EVALUE, "%s: line %zu: not 'ID<tab>SECONDS...'",
			                 file, no);
			break;
		}
		*tab++ = 0;
		errno = 0;
		unsigned long long t = strtoull(tab, &end, 10);
		if (errno || end == tab || (*end != 0 && *end != '\t')) {
			r = bti_diag_err(BATON_EVALUE, "%s: line %zu: not a time in seconds", file,
			                 no);
			break;
		}
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			struct replay_item *ni = realloc(*items, cap * sizeof(*ni));
			if (ni == NULL) {
				r = BATON_ENOMEM;
				break;
			}
			*items = ni;
		}
		snprintf((*items)[*n].student, sizeof((*items)[*n].student), "%s", line);
		(*items)[(*n)++].time = t;
	}
	free(text);
	if (r != 0) {
		free(*items);
		*items = NULL;
		*n = 0;
	}
	return r;
}

static int erase_replay(struct erase_opts *o)
{
	struct replay_item *items = NULL;
	struct erase_plan *plans = NULL;
	baton_key *k = NULL;
	store *st;
	size_t n = 0, done = 0;
	int rc, r;

	if ((r = parse_replay(o->replay, &items, &n)) != 0)
		return cli_fail("student erase --replay", r);
	if ((rc = open_alone(o, &st)) != EXIT_OK) {
		free(items);
		return rc;
	}
	if ((plans = calloc(n ? n : 1, sizeof(*plans))) == NULL) {
		store_close(st);
		free(items);
		return cli_fail("student erase", BATON_ENOMEM);
	}
	/* Which listed students this store holds from before their erasure. */
	size_t due = 0;
	int *todo = calloc(n ? n : 1, sizeof(int));
	for (size_t i = 0; todo && i < n; i++) {
		struct when_ctx w = {items[i].student, 0, 0};
		size_t j = 0;
		/* An id erased twice (given to another child in between) is erased here once. */
		while (j < i && !(todo[j] && strcmp(items[j].student, items[i].student) == 0))
			j++;
		if (j < i)
			continue;
		if ((r = store_read(st, when_fn, &w)) != 0)
			break;
		if (!w.found)
			continue;
		if (w.latest > items[i].time) {
			printf("kept %s: its record here is newer than its erasure of %s\n",
			       items[i].student, cli_time(items[i].time));
			continue;
		}
		todo[i] = 1;
		due++;
		printf("to erase again: %s (erased %s)\n", items[i].student,
		       cli_time(items[i].time));
	}
	if (todo == NULL)
		r = BATON_ENOMEM;
	if (r != 0 || due == 0) {
		if (r == 0)
			printf("Nothing in %s is held here: nothing to erase again.\n", o->replay);
		store_close(st);
		free(todo);
		free(plans);
		free(items);
		return r ? cli_fail("student erase", r) : EXIT_OK;
	}
	/* Nobody is kept off the store while the registrar reads and answers. */
	store_close(st);
	if (!confirmed(o, "Erase these again (it cannot be undone)?") ||
	    (rc = cli_load_school_key(&o->com, &k)) != EXIT_OK ||
	    (rc = open_alone(o, &st)) != EXIT_OK) {
		baton_key_free(k);
		free(todo);
		free(plans);
		free(items);
		return rc != EXIT_OK ? rc : EXIT_USAGE;
	}
	store_set_audit_signer(st, k);
	r = store_compact_owe(cli_dir(&o->com));
	for (size_t i = 0; r == 0 && i < n; i++) {
		char reason[ERASE_REASON_MAX + 1];
		struct when_ctx w = {items[i].student, 0, 0};
		if (!todo[i])
			continue;
		/* The store may have changed while the question waited. */
		if ((r = store_read(st, when_fn, &w)) != 0)
			break;
		if (!w.found || w.latest > items[i].time)
			continue;
		snprintf(reason, sizeof(reason), "erased %s at this school, applied again",
		         cli_time(items[i].time));
		if ((r = erase_run(st, items[i].student, 0, "restored backup", reason, 0, 0,
		                   &plans[done])) == 0)
			print_plan("Erased", &plans[done++]);
	}
	rc = r ? cli_fail("student erase", r) : EXIT_OK;
	r = finish(o, st, plans, done, k);
	if (rc == EXIT_OK)
		rc = r;
	for (size_t i = 0; i < n; i++)
		store_erased_clear(&plans[i].e);
	free(todo);
	free(plans);
	free(items);
	return rc;
}

int cmd_student_erase(int argc, char **argv)
{
	struct erase_opts o;
	store *st;
	int rc;

	memset(&o, 0, sizeof(o));
	if ((rc = parse_opts(argc, argv, &o)) >= 0)
		return rc;
	if (o.expired)
		return erase_expired(&o);
	if (o.replay)
		return erase_replay(&o);
	if (o.compact) {
		if ((rc = open_alone(&o, &st)) != EXIT_OK)
			return rc;
		if ((rc = store_compact(st, cli_dir(&o.com))) != 0)
			return cli_fail("student erase --compact", rc);
		printf("The store was compacted and its old file overwritten.\n");
		return EXIT_OK;
	}
	return erase_one(&o, o.held ? NULL : argv[optind]);
}

/* ---- the list of erasures ---- */

static int print_tomb(const store_audit *e, void *ctx)
{
	(void)ctx;
	printf("%s\t%llu\t%s\n", e->student, (unsigned long long)e->time, cli_time(e->time));
	return 0;
}

int cmd_student_erasures(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int rc = cli_common_only(argc, argv, &com,
	                         "usage: baton student erasures [--dir DIR]\n\n"
	                         "Lists the erasures in this node's audit log, one a line:\n"
	                         "STUDENT<tab>SECONDS<tab>TIME. Keep it with the backups: after\n"
	                         "restoring one made before, 'baton student erase --replay FILE'\n"
	                         "erases those students again.\n"),
	    r;
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("student erasures: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	printf("# baton student erasures: STUDENT<tab>SECONDS<tab>TIME\n");
	r = erase_tombstones(st, print_tomb, NULL);
	store_close(st);
	return r ? cli_fail("student erasures", r) : EXIT_OK;
}

/* ---- baton policy retention ---- */

int cmd_policy_retention(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	uint32_t days = 0;
	int rc = cli_common_only(argc, argv, &com,
	                         "usage: baton policy retention [DAYS] [--dir DIR]\n\n"
	                         "Shows or sets how many days a record received from another\n"
	                         "school and never enrolled here is kept (default 90): 'baton\n"
	                         "student erase --expired' erases those older.\n"),
	    r;
	if (rc >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage_error("policy retention: give at most one DAYS");
	if (argc - optind == 1) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(argv[optind], &end, 10);
		if (errno || *end || argv[optind][0] < '0' || argv[optind][0] > '9' || v < 1 ||
		    v > ERASE_DAYS_MAX)
			return cli_fail("policy retention",
			                bti_diag_err(BATON_EVALUE,
			                             "DAYS: \"%s\" is not a number of days from 1 "
			                             "to %d",
			                             argv[optind], ERASE_DAYS_MAX));
		days = (uint32_t)v;
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = days ? erase_retention_set(st, days) : erase_retention_get(st, &days);
	store_close(st);
	if (r != 0)
		return cli_fail("policy retention", r);
	printf("retention %u days: received records never enrolled are erased after %u days "
	       "('baton student erase --expired')\n",
	       (unsigned)days, (unsigned)days);
	return EXIT_OK;
}

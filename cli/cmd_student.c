/* baton student import | list | show | export | dissent. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "cmd_edfi.h"
#include "bti.h"
#include "dissent.h"
#include "record.h"
#include "record_file.h"
#include "student_import.h"
#include "student_index.h"
#include "view_students.h"

/* The refusal: every error (up to STUDENT_IMPORT_ERRORS), and that nothing was imported. */
int cli_student_import_refused(const struct student_import *c, int json, int r)
{
	size_t i;
	json_t *e;
	if (c->nerrors == 0) {
		/* One line: the place, the reason, and that the store is unchanged. */
		const char *why = baton_diag_for(r);
		fprintf(stderr, "baton: %s: %s; nothing was imported\n", c->file,
		        why[0] ? why : baton_strerror(r));
		return cli_exit_code(r);
	}
	if (json)
		cli_print_json(json_pack("{s:s, s:b, s:I, s:I, s:O}", "file", c->file, "imported",
		                         0, "records", (json_int_t)c->records, "bad_records",
		                         (json_int_t)c->nerrors, "errors", c->errors));
	if (c->nerrors == 1) {
		fprintf(stderr, "baton: %s: %s; nothing was imported\n", c->file,
		        cli_str(json_array_get(c->errors, 0), "error"));
		return cli_exit_code(c->first_error);
	}
	if (!json)
		json_array_foreach(c->errors, i, e)
		    fprintf(stderr, "baton: %s: %s\n", c->file, cli_str(e, "error"));
	if (!json && c->nerrors > STUDENT_IMPORT_ERRORS)
		fprintf(stderr, "baton: %s: and %zu more\n", c->file,
		        c->nerrors - STUDENT_IMPORT_ERRORS);
	fprintf(stderr, "baton: %s: %zu errors; nothing was imported\n", c->file, c->nerrors);
	return cli_exit_code(c->first_error);
}

/* After an import's counts: how many were merged, and how many wait in review. */
void cli_student_import_outcome(const struct student_import *c)
{
	if (c->merge)
		printf("%zu merged by section with the record on file\n", c->merged);
	if (c->held)
		printf("%zu %s for review: not the child on file under that student_id "
		       "('baton review')\n",
		       c->held, c->dry_run ? "would be held" : "held");
}

static void import_report(const struct student_import *c, int json)
{
	if (json) {
		json_t *o =
		    json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:[], s:O}", "file",
		              c->file, "imported", !c->dry_run, "records", (json_int_t)c->records,
		              "new", (json_int_t)c->added, "new_versions", (json_int_t)c->versions,
		              "unchanged", (json_int_t)c->unchanged, "held", (json_int_t)c->held,
		              "bad_records", (json_int_t)0, "errors", "students", c->results);
		if (o && c->dry_run)
			json_object_set_new(o, "dry_run", json_true());
		if (o && c->merge)
			json_object_set_new(o, "merged", json_integer((json_int_t)c->merged));
		cli_print_json(o);
		return;
	}
	printf("%s %zu records from %s: %zu new students, %zu new versions, %zu "
	       "unchanged\n",
	       c->dry_run ? "Would import" : "Imported", c->records, c->file, c->added, c->versions,
	       c->unchanged);
	cli_student_import_outcome(c);
	if (c->dry_run)
		printf("Nothing was imported (--dry-run).\n");
}

static void import_progress(void *arg, const char *file, size_t records, size_t done, size_t total)
{
	cli_progress(arg, "importing %s: %zu records, %zu%%", file, records,
	             total ? done * 100 / total : 100);
}

static const char import_usage[] =
    "usage: baton student import FILE.json [--merge] [--dry-run] [--json] [--dir DIR]\n\n"
    "Imports one student object or an array of them (proto/RECORD.md).\n"
    "Attachment paths are relative to the folder of the JSON file and stay\n"
    "inside it (no '..', no symbolic links). All or nothing: one\n"
    "bad record and nothing is imported; every bad record is reported, by\n"
    "its number in the file (from 1). An existing student_id gets a\n"
    "new version when it is the same child (names and birth date); older\n"
    "versions are kept. A record of another child under that id is held\n"
    "for review ('baton review'), not made current.\n\n"
    "  --merge    for a student on file that is the same child, keep the\n"
    "             sections the file lacks: each top-level section in the file\n"
    "             replaces that section whole (attachments follow their\n"
    "             sections); another child is still held for review\n"
    "  --dry-run  say what the import would do, and store nothing\n";

static int student_import(int argc, char **argv)
{
	static const struct option opts[] = {{"merge", no_argument, NULL, 'm'},
	                                     {"dry-run", no_argument, NULL, 'n'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct student_import c;
	struct cli_progress progress;
	store *st = NULL;
	int r, rc, opt, merge = 0, dry_run = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'm' || opt == 'n') {
			*(opt == 'm' ? &merge : &dry_run) = 1;
			continue;
		}
		fputs(import_usage, opt == 'h' ? stdout : stderr);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("student import: one FILE.json expected");
	memset(&c, 0, sizeof(c));
	c.merge = merge;
	c.dry_run = dry_run;
	c.file = argv[optind];
	c.node = cli_dir(&com);
	c.want_results = com.json;
	c.progress = import_progress;
	c.progress_arg = &progress;
	/* A file that cannot be read is named before the store is opened. */
	if ((r = record_file_open(c.file, &c.rf)) != 0)
		return cli_fail(NULL, r);
	record_file_close(c.rf);
	c.rf = NULL;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	cli_progress_start(&progress);
	r = student_import_run(st, &c);
	cli_progress_end(&progress);
	store_close(st);
	if (r != 0)
		rc = cli_student_import_refused(&c, com.json, r);
	else
		import_report(&c, com.json);
	student_import_clear(&c);
	return r != 0 ? rc : EXIT_OK;
}

/* ---- list ---- */

/* One line a student, the columns aligned by the width names take on screen. */
static void list_print(const json_t *arr)
{
	size_t i, wid = 0, wname = 0;
	const json_t *e;
	char name[512];
	json_array_foreach(arr, i, e)
	{
		snprintf(name, sizeof(name), "%s %s", cli_str(e, "given_name"),
		         cli_str(e, "family_name"));
		if (cli_width(cli_str(e, "student_id")) > wid)
			wid = cli_width(cli_str(e, "student_id"));
		if (cli_width(name) > wname)
			wname = cli_width(name);
	}
	json_array_foreach(arr, i, e)
	{
		snprintf(name, sizeof(name), "%s %s", cli_str(e, "given_name"),
		         cli_str(e, "family_name"));
		cli_pad(stdout, cli_str(e, "student_id"), wid);
		fputs("  ", stdout);
		cli_pad(stdout, name, wname);
		printf("  %s  v%d\n", cli_str(e, "birth_date"),
		       (int)json_integer_value(json_object_get(e, "version")));
	}
}

static int student_list(int argc, char **argv)
{
	struct cli_common com = {0};
	struct view_find f = {NULL, 0, SIZE_MAX, 0, NULL, 0};
	store *st;
	int r, rc;
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton student list [TERM] [--json] [--dir DIR]\n\n"
	                          "Lists the students on file: id, given and family name, birth "
	                          "date and\nversion. With TERM, only those whose id, state id or "
	                          "names contain it\n(upper or lower case alike).\n")) >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage_error("student list: at most one search TERM");
	f.term = optind < argc ? argv[optind] : NULL;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = view_students_search(st, &f);
	view_students_forget();
	store_close(st);
	return cli_table_done(r, f.students, NULL, com.json, list_print, "student list",
	                      f.term ? "No student matches."
	                             : "No students yet ('baton student import FILE.json').");
}

/* ---- show and export ---- */

struct show_ctx {
	const char *id;
	uint32_t version;
	struct view_student v;
	/* export */
	const char *files_dir; /* where attachment files go; NULL for show */
	const char *files_rel; /* their path as written into the JSON */
};

static int write_attachments(store_txn *t, struct show_ctx *c)
{
	json_t *atts = json_object_get(c->v.record, "attachments"), *a;
	size_t i;
	/* Always a new directory: never into one (or a link) that was already there. */
	if (json_array_size(atts) > 0 && mkdir(c->files_dir, 0700) != 0)
		return bti_diag_err(
		    errno == EEXIST ? BATON_EEXIST : BATON_EIO, "%s: %s", c->files_dir,
		    errno == EEXIST ? "already exists; not writing into it" : strerror(errno));
	json_array_foreach(atts, i, a)
	{
		uint8_t hash[32];
		const uint8_t *data;
		size_t len;
		char path[8192];
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *hex = json_string_value(json_object_get(a, "hash"));
		int r;
		if (hex == NULL ||
		    sodium_hex2bin(hash, 32, hex, strlen(hex), NULL, NULL, NULL) != 0)
			return bti_diag_err(BATON_EIO, "attachments[%zu]: damaged hash", i);
		if ((r = store_blob_get(t, hash, &data, &len)) != 0)
			return r == BATON_ENOTFOUND
			           ? bti_diag_err(BATON_EIO, "attachments[%zu]: bytes missing", i)
			           : r;
		snprintf(path, sizeof(path), "%s/%s", c->files_dir, name);
		if ((r = baton_file_create(path, data, len, 0600)) != 0)
			return r;
	}
	return view_student_export(c->v.record, c->files_rel);
}

static int load_student(store_txn *t, void *arg)
{
	struct show_ctx *c = arg;
	int r = view_student_load(t, c->id, c->version, &c->v);
	return r == 0 && c->files_dir ? write_attachments(t, c) : r;
}

/* Each section's statements of disagreement, under the section's name. */
static void print_statements(const json_t *stmts)
{
	for (int s = 0; s < BATON_SEC_COUNT; s++) {
		const char *name = baton_section_name((baton_section)s);
		size_t i, n = 0;
		json_t *st;
		json_array_foreach(stmts, i, st)
		{
			const char *text = json_string_value(json_object_get(st, "text"));
			const char *from = json_string_value(json_object_get(st, "from"));
			if (strcmp(json_string_value(json_object_get(st, "section")), name) != 0)
				continue;
			if (n++ == 0)
				printf("  %s:\n", name);
			printf("    The %s disagrees with this section: ",
			       strcmp(json_string_value(json_object_get(st, "role")), "student") ==
			               0
			           ? "student"
			           : "parent");
			/* Each line of the text indented under the first. */
			for (const char *p = text; *p; p++) {
				putchar(*p);
				if (*p == '\n')
					printf("      ");
			}
			printf("\n      signed by %s on %s",
			       json_string_value(json_object_get(st, "signer")),
			       cli_time((uint64_t)json_integer_value(json_object_get(st, "time"))));
			if (from && from[0])
				printf(", received from %s", from);
			printf("\n");
		}
	}
}

/* A list of strings, "not recorded" when absent and "none known" when empty. */
static void print_list(const char *what, const json_t *v)
{
	size_t i;
	json_t *e;
	printf("%s: ", what);
	if (v == NULL)
		printf("not recorded");
	else if (json_array_size(v) == 0)
		printf("none known");
	json_array_foreach(v, i, e) printf("%s%s", i ? ", " : "", json_string_value(e));
}

/*
 * " (WORD VALUE; ...)", or with bare " WORD VALUE; ...": the keys of o that
 * it has, in the order given, each named by its word.
 */
static void print_parts(const json_t *o, const char *const *keys, const char *const *words,
                        int bare)
{
	int n = 0;
	for (size_t i = 0; keys[i]; i++) {
		const json_t *v = json_object_get(o, keys[i]);
		if (v == NULL)
			continue;
		printf("%s%s%s", n++ ? "; " : bare ? " " : " (", words[i], words[i][0] ? " " : "");
		if (json_is_string(v))
			printf("%s", json_string_value(v));
		else if (json_is_boolean(v))
			printf("%s", json_is_true(v) ? "yes" : "no");
		else if (json_is_integer(v))
			printf("%lld", (long long)json_integer_value(v));
		else if (json_is_real(v))
			printf("%g", json_real_value(v));
		else if (json_is_array(v)) {
			size_t j;
			json_t *e;
			json_array_foreach(v, j, e)
			    printf("%s%s", j ? ", " : "", json_string_value(e));
		}
	}
	if (n && !bare)
		printf(")");
}

/* The sections of schema version 2 and the health lists, a line or a few each. */
static void print_v2(const json_t *r)
{
	const json_t *v, *e;
	size_t i;
	if ((v = json_object_get(r, "custody")) != NULL && json_array_size(v) == 0)
		printf("  custody: no restriction known\n");
	if ((v = json_object_get(r, "health")) != NULL) {
		size_t ex = 0;
		json_array_foreach(json_object_get(v, "immunizations"), i, e) ex +=
		    json_object_get(e, "exemption") != NULL;
		printf("  health: ");
		print_list("allergies", json_object_get(v, "allergies"));
		printf("; ");
		print_list("conditions", json_object_get(v, "conditions"));
		printf("; %zu immunizations, %zu with an exemption\n",
		       json_array_size(json_object_get(v, "immunizations")), ex);
	}
	if ((v = json_object_get(r, "graduation")) != NULL) {
		static const char *const k[] = {"credits_earned",
		                                "credits_attempted",
		                                "gpa_weighted",
		                                "gpa_unweighted",
		                                "plan",
		                                "expected_year",
		                                NULL};
		static const char *const w[] = {"credits earned",
		                                "credits attempted",
		                                "GPA weighted",
		                                "GPA unweighted",
		                                "plan",
		                                "expected to graduate",
		                                NULL};
		printf("  graduation:");
		print_parts(v, k, w, 1);
		printf("\n");
		json_array_foreach(json_object_get(v, "diplomas"), i, e)
		{
			static const char *const dk[] = {"level", "description", NULL};
			static const char *const dw[] = {"level", "", NULL};
			printf("    diploma: %s, %s", json_string_value(json_object_get(e, "type")),
			       json_string_value(json_object_get(e, "date")));
			print_parts(e, dk, dw, 0);
			printf("\n");
		}
	}
	if ((v = json_object_get(r, "section_504")) != NULL) {
		static const char *const k[] = {"disability", "plan_date",      "begin_date",
		                                "end_date",   "accommodations", NULL};
		static const char *const w[] = {"disability", "plan",           "from",
		                                "to",         "accommodations", NULL};
		printf("  section 504: %s",
		       json_is_true(json_object_get(v, "eligible")) ? "eligible" : "not eligible");
		print_parts(v, k, w, 0);
		printf("\n");
	}
	if ((v = json_object_get(r, "english_learner")) != NULL) {
		static const char *const k[] = {"home_language", NULL};
		static const char *const w[] = {"home language", NULL};
		printf("  english learner: %s", json_string_value(json_object_get(v, "status")));
		print_parts(v, k, w, 0);
		printf("\n");
		json_array_foreach(json_object_get(v, "programs"), i, e)
		{
			static const char *const pk[] = {"end_date", "services", NULL};
			static const char *const pw[] = {"to", "services", NULL};
			printf("    program: %s, from %s",
			       json_string_value(json_object_get(e, "name")),
			       json_string_value(json_object_get(e, "begin_date")));
			print_parts(e, pk, pw, 0);
			printf("\n");
		}
	}
	if ((v = json_object_get(r, "homeless")) != NULL) {
		static const char *const k[] = {"end_date", "primary_nighttime_residence",
		                                "unaccompanied_youth", NULL};
		static const char *const w[] = {"to", "nighttime residence", "unaccompanied youth",
		                                NULL};
		printf("  homeless (McKinney-Vento): since %s",
		       json_string_value(json_object_get(v, "begin_date")));
		print_parts(v, k, w, 0);
		printf("\n");
	}
}

static void print_record(const struct show_ctx *c)
{
	const json_t *r = c->v.record, *id = json_object_get(r, "identity");
	/* Custody restrictions come first, before anything else about the student. */
	view_print_custody(stdout, r);
	printf("%s  %s %s", c->v.s.id, json_string_value(json_object_get(id, "given_name")),
	       json_string_value(json_object_get(id, "family_name")));
	if (json_object_get(id, "name_suffix"))
		printf(" %s", json_string_value(json_object_get(id, "name_suffix")));
	if (json_object_get(id, "preferred_name"))
		printf(" (\"%s\")", json_string_value(json_object_get(id, "preferred_name")));
	printf("\n  born %s", json_string_value(json_object_get(id, "birth_date")));
	if (c->v.s.state_id[0])
		printf(", state id %s", c->v.s.state_id);
	printf("\n  version %u of %u, updated %s\n", c->version ? c->version : c->v.s.version,
	       c->v.s.version, cli_time(c->v.s.updated));
	if (c->v.held)
		printf("  %zu record%s naming this student held for review: not current "
		       "('baton review')\n",
		       c->v.held, c->v.held == 1 ? "" : "s");
	printf("  sections:");
	for (int i = 0; i < BATON_SEC_COUNT; i++) {
		baton_section s = baton_section_nth(i); /* in name order */
		const char *name = baton_section_name(s);
		const json_t *v = json_object_get(r, name);
		if (v == NULL)
			continue;
		printf(" %s", name);
		if (json_is_array(v))
			printf("(%zu)", json_array_size(v));
		if (baton_section_sensitive(s))
			printf("*");
	}
	printf("   (* sensitive)\n");
	size_t i;
	json_t *a;
	print_v2(r);
	print_statements(c->v.dissent);
	json_array_foreach(json_object_get(r, "attachments"), i, a)
	    printf("  attachment: %s (%s, %lld bytes, %s)\n",
	           json_string_value(json_object_get(a, "name")),
	           json_string_value(json_object_get(a, "media_type")),
	           (long long)json_integer_value(json_object_get(a, "size")),
	           json_string_value(json_object_get(a, "section")));
	if (json_array_size(c->v.guardians) == 0)
		printf("  guardian keys: none linked\n");
	json_array_foreach(c->v.guardians, i, a) printf(
	    "  guardian key: %s %s%s\n    %s\n", json_string_value(json_object_get(a, "relation")),
	    json_string_value(json_object_get(a, "fingerprint")),
	    json_is_true(json_object_get(a, "restricted")) ? " RESTRICTED" : "",
	    json_string_value(json_object_get(a, "key")));
	json_array_foreach(c->v.terms, i, a)
	    printf("  redisclosure terms from %s (%s, packet %s):\n    %s\n",
	           json_string_value(json_object_get(a, "from")),
	           cli_time(json_integer_value(json_object_get(a, "time"))),
	           json_string_value(json_object_get(a, "packet")),
	           json_string_value(json_object_get(a, "terms")));
}

static int student_show(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"version", required_argument, NULL, 'v'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct show_ctx c;
	store *st;
	int opt, r, rc;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'v' && atoi(optarg) > 0) {
			c.version = (uint32_t)atoi(optarg);
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton student show ID [--version N] [--json] [--dir DIR]\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("student show: one student ID expected");
	c.id = argv[optind];
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = store_read(st, load_student, &c);
	store_close(st);
	if (r != 0) {
		view_student_clear(&c.v);
		return cli_fail("student show", r);
	}
	if (com.json) {
		cli_print_json(
		    json_pack("{s:O, s:i, s:i, s:I, s:O, s:I, s:O, s:O}", "record", c.v.record,
		              "version", (int)(c.version ? c.version : c.v.s.version), "versions",
		              (int)c.v.s.version, "updated", (json_int_t)c.v.s.updated,
		              "guardian_keys", c.v.guardians, "held_for_review",
		              (json_int_t)c.v.held, "statements", c.v.dissent, "terms", c.v.terms));
	} else {
		print_record(&c);
	}
	view_student_clear(&c.v);
	return EXIT_OK;
}

static int student_export(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"format", required_argument, NULL, 'f'},
	                                     {"descriptor-map", required_argument, NULL, 'm'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct show_ctx c;
	const char *out = NULL, *format = NULL, *map = NULL;
	char dir[4096], files_dir[8192], rel[256], tmp[4096];
	store *st;
	int opt, r, rc;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'o') {
			out = optarg;
			continue;
		}
		if (opt == 'f' || opt == 'm') {
			*(opt == 'f' ? &format : &map) = optarg;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton student export ID [--out FILE] [--dir DIR]\n"
		        "       baton student export ID --format edfi-json --out DIR\n"
		        "                            [--descriptor-map FILE] [--dir DIR]\n\n"
		        "Writes the record as JSON (to FILE or standard output) and its\n"
		        "attachments beside it in ID-files/, so that 'baton student import'\n"
		        "reads it back to the same record. --format edfi-json writes it as\n"
		        "Ed-Fi API resources, one RESOURCE.json array each, into DIR (new or\n"
		        "empty), for a student information system to POST (docs/edfi.md).\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("student export: one student ID expected");
	c.id = argv[optind];
	if (format && strcmp(format, "json") != 0) {
		if (strcmp(format, "edfi-json") != 0)
			return cli_usage_error("student export: --format %s: json or edfi-json",
			                       format);
		return cli_student_export_edfi(&com, c.id, out, map);
	}
	if (map)
		return cli_usage_error(
		    "student export: --descriptor-map goes with --format edfi-json");
	snprintf(tmp, sizeof(tmp), "%s", out ? out : "./x");
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	snprintf(rel, sizeof(rel), "%s-files", c.id);
	snprintf(files_dir, sizeof(files_dir), "%s/%s", dir, rel);
	c.files_dir = files_dir;
	c.files_rel = rel;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = store_read(st, load_student, &c);
	store_close(st);
	if (r == 0) {
		char *text = json_dumps(c.v.record,
		                        JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
		if (text == NULL) {
			r = BATON_ENOMEM;
		} else if (out) {
			size_t n = strlen(text);
			text[n] = '\n';
			r = baton_file_create(out, (const uint8_t *)text, n + 1, 0600);
			text[n] = 0;
		} else {
			puts(text);
		}
		free(text);
	}
	view_student_clear(&c.v);
	if (r != 0)
		return cli_fail("student export", r);
	if (out)
		fprintf(stderr, "Exported %s to %s\n", c.id, out);
	return EXIT_OK;
}

/*
 * baton student dissent ID --section S --text-file F --key GUARDIAN.key:
 * a statement of disagreement signed with the family's key, filed with the
 * record (the registrar does it for a family who brings its key file).
 */
static int student_dissent(int argc, char **argv)
{
	static const struct option opts[] = {{"section", required_argument, NULL, 's'},
	                                     {"text-file", required_argument, NULL, 't'},
	                                     {"key", required_argument, NULL, 'k'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	static const char usage[] =
	    "usage: baton student dissent ID --section S --text-file F --key GUARDIAN.key\n"
	    "         [--json] [--dir DIR]\n\n"
	    "Files the family's statement that they disagree with section S of the\n"
	    "record (34 CFR 99.21), signed with their guardian key (or the eligible\n"
	    "student's own). The statement is kept with the record and sent with the\n"
	    "section whenever it is released. The text (F, UTF-8, at most 4000 bytes)\n"
	    "may have several lines.\n";
	struct cli_common com = {0};
	const char *section = NULL, *text_file = NULL, *key = NULL;
	uint8_t *text = NULL;
	size_t tlen = 0;
	baton_key *k = NULL;
	json_t *out = NULL;
	store *st;
	int opt, r, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 's' || opt == 't' || opt == 'k') {
			*(opt == 's' ? &section : opt == 't' ? &text_file : &key) = optarg;
			continue;
		}
		fputs(usage, opt == 'h' ? stdout : stderr);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc || !section || !text_file || !key)
		return cli_usage_error(
		    "student dissent: one student ID, --section, --text-file and "
		    "--key expected");
	if ((r = baton_file_read(text_file, 2 * BATON_STATEMENT_TEXT_MAX, &text, &tlen)) != 0)
		return cli_fail(text_file,
		                r == BATON_ETOOBIG
		                    ? bti_diag_err(BATON_EVALUE, "the text is over %d bytes",
		                                   BATON_STATEMENT_TEXT_MAX)
		                    : r);
	/* Lines as a file has them (CRLF too), without the last line's end. */
	size_t n = 0;
	for (size_t i = 0; i < tlen; i++)
		if (!(text[i] == '\r' && i + 1 < tlen && text[i + 1] == '\n'))
			text[n++] = text[i];
	while (n > 0 && text[n - 1] == '\n')
		n--;
	text[n] = 0;
	if (strlen((char *)text) != n) {
		free(text);
		return cli_fail(text_file,
		                bti_diag_err(BATON_EVALUE, "the text contains a NUL byte"));
	}
	if ((r = cli_load_guardian_key(&com, key, &k)) != 0) {
		free(text);
		return cli_fail(key, r);
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK) {
		free(text);
		baton_key_free(k);
		return rc;
	}
	r = dissent_make(st, k, argv[optind], section, (const char *)text, (uint64_t)time(NULL),
	                 &out);
	store_close(st);
	baton_key_free(k);
	free(text);
	if (r != 0)
		return cli_fail("student dissent", r);
	if (com.json)
		cli_print_json(json_incref(out));
	else
		printf("Filed a statement of disagreement with %s of %s (id %s), signed by %s\n",
		       section, argv[optind], json_string_value(json_object_get(out, "id")),
		       json_string_value(json_object_get(out, "signer")));
	json_decref(out);
	return EXIT_OK;
}

/* 'student import --format edfi-json ...' is Ed-Fi's (cmd_edfi.c); any other, Baton's JSON. */
static int student_import_any(int argc, char **argv)
{
	if (cli_edfi_import_wanted(argc, argv))
		return cli_student_import_edfi_main(argc, argv);
	return student_import(argc, argv);
}

int cmd_student(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"import", student_import_any, "import records from a JSON file (or Ed-Fi: --format)"},
	    {"list", student_list, "list students"},
	    {"show", student_show, "show one student's record"},
	    {"export", student_export, "write a record as JSON with its attachments"},
	    {"dissent", student_dissent, "file a family's statement of disagreement"},
	    {"erase", cmd_student_erase, "erase a student's record from this node for good"},
	    {"erasures", cmd_student_erasures, "list the erasures, to apply again after a restore"},
	};
	return cli_dispatch("student", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

/*
 * baton student import --format edfi-json PATH: the district's Ed-Fi
 * resources are gathered by student (node/edfi.c) and each student's
 * record is filed by the same import as a file of Baton records
 * (node/student_import.c): the same checks, all or nothing, the same audit.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bti.h"
#include "cmd_edfi.h"
#include "edfi.h"
#include "student_import.h"
#include "view_students.h"

struct edfi_cli {
	int dry_run, json;
	size_t students_noted, fields_noted;
	json_t *not_carried; /* with --json: student id -> fields not carried over */
};

/* Each student's fields not carried over: listed in a dry run, counted otherwise. */
static void on_student(void *arg, const char *id, const json_t *notes, int err)
{
	struct edfi_cli *c = arg;
	size_t i;
	json_t *n;
	(void)err;
	if (json_array_size(notes) == 0)
		return;
	c->students_noted++;
	c->fields_noted += json_array_size(notes);
	if (c->json && c->not_carried)
		json_object_set_new(c->not_carried, id, json_deep_copy(notes));
	else if (c->dry_run) {
		printf("%s: %zu Ed-Fi fields not carried over:\n", id, json_array_size(notes));
		json_array_foreach((json_t *)notes, i, n) printf("  %s\n", json_string_value(n));
	}
}

static void progress(void *arg, const char *file, size_t records, size_t done, size_t total)
{
	(void)done;
	(void)total;
	cli_progress(arg, "importing %s: %zu students", file, records);
}

static void report(const struct student_import *c, const struct edfi_cli *e, int json)
{
	if (json) {
		cli_print_json(json_pack(
		    "{s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:[], s:O, s:O}", "file",
		    c->file, "imported", !c->dry_run, "dry_run", c->dry_run, "records",
		    (json_int_t)c->records, "new", (json_int_t)c->added, "new_versions",
		    (json_int_t)c->versions, "unchanged", (json_int_t)c->unchanged, "held",
		    (json_int_t)c->held, "bad_records", (json_int_t)0, "errors", "students",
		    c->results, "not_carried", e->not_carried));
		return;
	}
	printf("%s %zu students from %s (Ed-Fi): %zu new students, %zu new versions, %zu "
	       "unchanged\n",
	       c->dry_run ? "Dry run: would import" : "Imported", c->records, c->file, c->added,
	       c->versions, c->unchanged);
	cli_student_import_outcome(c);
	if (!c->dry_run && e->fields_noted)
		printf("%zu Ed-Fi fields of %zu students not carried over (--dry-run lists them)\n",
		       e->fields_noted, e->students_noted);
	if (c->dry_run)
		printf("Nothing was stored (--dry-run)\n");
}

int cli_student_import_edfi(const struct cli_common *com, const struct edfi_import_opts *o)
{
	struct edfi_cli e = {0};
	struct edfi_source es = {0};
	struct student_source src;
	struct student_import c;
	struct cli_progress prog;
	edfi_set *set = NULL;
	store *st = NULL;
	json_t *notes, *n;
	size_t i;
	int r, rc = EXIT_OK;

	memset(&c, 0, sizeof(c));
	e.dry_run = o->dry_run;
	e.json = com->json;
	if (!edfi_format_known(o->format))
		return cli_usage_error("student import: --format %s: not a format Baton reads "
		                       "(json, edfi-json, edfi-xml)",
		                       o->format);
	if ((r = edfi_set_open(&set, o->descriptor_map)) != 0)
		return cli_fail(NULL, r);
	for (i = 0; i < o->nfilter && r == 0; i++)
		r = edfi_set_filter(set, o->filter[i]);
	if (r == 0)
		r = edfi_set_read(set, o->format, o->path, o->dry_run);
	if (r != 0) {
		fprintf(stderr, "baton: %s; nothing was imported\n", baton_diag_for(r));
		rc = cli_exit_code(r);
		goto out;
	}
	if (com->json && (e.not_carried = json_object()) == NULL) {
		rc = cli_fail(NULL, BATON_ENOMEM);
		goto out;
	}
	if ((rc = cli_open_store(com, &st)) != EXIT_OK)
		goto out;
	es.set = set;
	es.on_student = on_student;
	es.arg = &e;
	src.next = edfi_source_next;
	src.rewind = edfi_source_rewind;
	src.arg = &es;
	c.file = o->path;
	c.node = cli_dir(com);
	c.want_results = com->json;
	c.dry_run = o->dry_run;
	c.merge = o->merge;
	c.source = &src;
	c.progress = progress;
	c.progress_arg = &prog;
	cli_progress_start(&prog);
	r = student_import_run(st, &c);
	cli_progress_end(&prog);
	/* What the files hold that is no student's record (or a student asked for but absent). */
	notes = edfi_set_notes(set);
	json_array_foreach(notes, i, n)
	    fprintf(o->dry_run && !com->json ? stdout : stderr, "%s%s\n",
	            o->dry_run ? "note: " : "baton: note: ", json_string_value(n));
	if (r != 0)
		rc = cli_student_import_refused(&c, com->json, r);
	else
		report(&c, &e, com->json);
out:
	student_import_clear(&c);
	store_close(st);
	edfi_set_close(set);
	json_decref(e.not_carried);
	return rc;
}

struct export_ctx {
	const char *id;
	struct view_student v;
};

static int load(store_txn *t, void *arg)
{
	struct export_ctx *c = arg;
	return view_student_load(t, c->id, 0, &c->v);
}

/*
 * out made (0700) when it is not there (*made 1: the export's to remove
 * again when it fails); one that is must be an empty directory.
 */
static int out_dir(const char *out, int *made)
{
	DIR *d;
	struct dirent *de;
	struct stat st;
	*made = 0;
	if (mkdir(out, 0700) == 0) {
		*made = 1;
		return 0;
	}
	if (errno != EEXIST)
		return bti_diag_err(BATON_EIO, "%s: %s", out, strerror(errno));
	/* Not a link: student data goes where --out names, not where a link points. */
	if (lstat(out, &st) == 0 && S_ISLNK(st.st_mode))
		return bti_diag_err(BATON_EEXIST, "%s: a symbolic link; name a directory", out);
	if ((d = opendir(out)) == NULL)
		return bti_diag_err(BATON_EIO, "%s: %s", out, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			closedir(d);
			return bti_diag_err(BATON_EEXIST, "%s: not empty", out);
		}
	closedir(d);
	return 0;
}

int cli_student_export_edfi(const struct cli_common *com, const char *id, const char *out,
                            const char *descriptor_map)
{
	struct export_ctx c;
	store *st;
	int r, rc, made = 0;

	memset(&c, 0, sizeof(c));
	c.id = id;
	if (out == NULL)
		return cli_usage_error("student export: --format edfi-json needs --out DIR");
	if ((rc = cli_open_store(com, &st)) != EXIT_OK)
		return rc;
	r = store_read(st, load, &c);
	store_close(st);
	if (r == 0 && (r = out_dir(out, &made)) == 0)
		r = edfi_export(c.v.record, out, descriptor_map);
	view_student_clear(&c.v);
	if (r != 0) {
		/* A refused export leaves no directory of its own behind (its files are gone). */
		if (made)
			rmdir(out);
		return cli_fail("student export", r);
	}
	fprintf(stderr, "Exported %s as Ed-Fi resources to %s/\n", id, out);
	return EXIT_OK;
}

int cli_edfi_import_wanted(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *f = NULL;
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			f = argv[i + 1];
		else if (strncmp(argv[i], "--format=", 9) == 0)
			f = argv[i] + 9;
		if (f && strcmp(f, "json") != 0)
			return 1;
		/* Ed-Fi's own options: refused there, by name, without --format. */
		if (strncmp(argv[i], "--filter", 8) == 0 ||
		    strncmp(argv[i], "--descriptor-map", 16) == 0)
			return 1;
	}
	return 0;
}

static const char import_usage[] =
    "usage: baton student import --format edfi-json|edfi-xml PATH [--filter ID...]\n"
    "                            [--dry-run] [--merge] [--descriptor-map FILE]\n"
    "                            [--json] [--dir DIR]\n\n"
    "Imports a district's Ed-Fi data (docs/edfi.md). edfi-json: the Ed-Fi API's\n"
    "JSON, PATH a directory of resource files (students.json,\n"
    "studentSchoolAssociations.json, ...) or one file of them by name.\n"
    "edfi-xml: PATH a directory of bulk interchange XML files (*.xml).\n"
    "Each student's resources become one record,\n"
    "imported as 'baton student import FILE.json' imports records: all or\n"
    "nothing, the same child or held for review.\n"
    "  --filter ID       only these studentUniqueIds (repeat it, or a comma list)\n"
    "  --dry-run         list per student every error and every Ed-Fi field not\n"
    "                    carried over; store nothing\n"
    "  --merge           for a student on file (the same child), keep the\n"
    "                    sections the district's data lacks\n"
    "  --descriptor-map FILE  a district's descriptor lines, each\n"
    "                    baton-field<TAB>baton-value<TAB>descriptor URI\n";

#define FILTER_MAX 256

int cli_student_import_edfi_main(int argc, char **argv)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
	                                     {"filter", required_argument, NULL, 'F'},
	                                     {"dry-run", no_argument, NULL, 'n'},
	                                     {"merge", no_argument, NULL, 'M'},
	                                     {"descriptor-map", required_argument, NULL, 'm'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct edfi_import_opts o = {0};
	const char *filter[FILTER_MAX];
	int opt;

	optind = 1;
	o.filter = filter;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'f')
			o.format = optarg;
		else if (opt == 'F' && o.nfilter < FILTER_MAX)
			filter[o.nfilter++] = optarg;
		else if (opt == 'F')
			return cli_usage_error("student import: more than %d --filter options",
			                       FILTER_MAX);
		else if (opt == 'n')
			o.dry_run = 1;
		else if (opt == 'M')
			o.merge = 1;
		else if (opt == 'm')
			o.descriptor_map = optarg;
		else {
			fputs(import_usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (o.format == NULL || strcmp(o.format, "json") == 0)
		return cli_usage_error("student import: --filter and --descriptor-map go with "
		                       "--format edfi-json or edfi-xml");
	if (optind + 1 != argc)
		return cli_usage_error("student import: one PATH expected");
	o.path = argv[optind];
	return cli_student_import_edfi(&com, &o);
}

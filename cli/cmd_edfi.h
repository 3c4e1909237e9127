/* baton student import --format edfi-json: Ed-Fi data in (docs/edfi.md). */
#ifndef BATON_CLI_CMD_EDFI_H
#define BATON_CLI_CMD_EDFI_H

#include <stddef.h>

#include "cli.h"

struct student_import;

struct edfi_import_opts {
	const char *format;         /* "edfi-json" */
	const char *path;           /* a directory of RESOURCE.json files, or one file */
	const char *descriptor_map; /* a district's map lines, or NULL */
	const char **filter;        /* studentUniqueIds (each may be a comma list) */
	size_t nfilter;
	int dry_run;
	int merge; /* 1: a same child's sections the district lacks are kept (--merge) */
};

/* Predicate: 1 when 'student import' argv asks for an Ed-Fi --format (not "json"). */
int cli_edfi_import_wanted(int argc, char **argv);

/* 'baton student import --format edfi-json PATH ...': parses argv, imports; the exit code. */
int cli_student_import_edfi_main(int argc, char **argv);

/* Imports Ed-Fi data into the node of com; returns the exit code. */
int cli_student_import_edfi(const struct cli_common *com, const struct edfi_import_opts *o);

/*
 * Prints an import's refusal (each error, up to STUDENT_IMPORT_ERRORS, and
 * that nothing was imported; with json the errors as JSON) for Baton's JSON
 * and Ed-Fi alike (cmd_student.c). Returns the exit code.
 */
int cli_student_import_refused(const struct student_import *c, int json, int r);

/* Prints how many records were merged (with --merge) and how many wait in review. */
void cli_student_import_outcome(const struct student_import *c);

/*
 * Writes student id's current record as Ed-Fi resources into the new or
 * empty directory out; returns the exit code.
 */
int cli_student_export_edfi(const struct cli_common *com, const char *id, const char *out,
                            const char *descriptor_map);

#endif

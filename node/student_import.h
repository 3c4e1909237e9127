/*
 * Importing the registrar's file of student records (proto/RECORD.md): all
 * or nothing, in one write transaction. Every bad record is noted by its
 * number in the file and the file is read to its end; then either every
 * record is filed (a new student, a new version of the same child, nothing
 * for the same record again, held for review for another child under an
 * id on file) with an audit entry each, or nothing is. 'baton student
 * import' and the console's import (and its preview) are this one function.
 */
#ifndef BATON_NODE_STUDENT_IMPORT_H
#define BATON_NODE_STUDENT_IMPORT_H

#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

#include <jansson.h>

#include "record_file.h"
#include "store.h"

#define STUDENT_IMPORT_ERRORS 100  /* a file's errors listed; the rest are counted */
#define STUDENT_IMPORT_DETAIL 1000 /* with preview: good records listed; the rest are counted */

struct student_ready;

/*
 * Where records come from instead of a file (an Ed-Fi district's files,
 * edfi.h): read once to check every record; each good record's canonical
 * text is kept in an unnamed temporary file (its offset in memory) and read
 * back, in the write transaction, to file it, so that no more than one
 * record is in memory.
 * next gives the next record in the same order each time: 0 and *rec (the
 * caller decrefs it), BATON_ENOTFOUND after the last, a bad input code for
 * one record that cannot be made (id names it, baton_diag() says why; the
 * next call goes on), or BATON_EIO/BATON_ENOMEM. rewind starts again at
 * the first record.
 */
struct student_source {
	int (*next)(void *arg, json_t **rec, char *id, size_t idcap);
	void (*rewind)(void *arg);
	void *arg;
};

/*
 * Called after each record with the records read so far and how far
 * through the file (bytes done of total). Cannot fail.
 */
typedef void (*student_import_progress)(void *arg, const char *file, size_t records, size_t done,
                                        size_t total);

struct student_import {
	/* in, set by the caller (zero what is not wanted) */
	const char *file;   /* the file, named in messages; attachments are read beside it */
	const char *label;  /* how messages name the file, when not file (an upload); may be NULL */
	const char *node;   /* the node directory: never a source of attachments */
	int want_results;   /* 1: ->results says what became of each record */
	int dry_run;        /* 1: nothing is kept: the answer is what an import would do */
	int preview;        /* 1: results and errors name more (for a table of the file) */
	int no_attachments; /* 1: a record naming an attachment file is refused */
	int merge;          /* 1: a same child's new version is the record on file with the file's
	                       top-level keys replacing its own (RECORD.md, "Importing with --merge") */
	/* not NULL: the records come from here, not from file (named in messages); no attachments
	 */
	const struct student_source *source;
	student_import_progress progress; /* may be NULL */
	void *progress_arg;

	/* out: counts, and what the caller frees with student_import_clear */
	size_t records, added, versions, unchanged, held, nerrors;
	size_t merged;   /* with merge: of versions and unchanged, those merged with the record on
	                    file */
	int first_error; /* the first record's error code, which decides the exit code */
	/*
	 * {record, student_id, error} of the first STUDENT_IMPORT_ERRORS bad
	 * records; with preview also "field" (the field path the error names,
	 * "" when none) and "message" (the error without its record prefix).
	 */
	json_t *errors;
	/*
	 * With want_results: {student_id, result: new | new_version | unchanged
	 * | held, version or held}; with merge also merged (true: the record on
	 * file with the file's sections laid over it; false: as the file has
	 * it); with preview also record, given_name and family_name.
	 */
	json_t *results;
	/* with preview: good records results left out (it has the first STUDENT_IMPORT_DETAIL) */
	size_t more;

	/* the import's own */
	record_file *rf;
	json_t *seen;
	/* a dry run's statewide ids: taken by this file (its student) or freed (null) */
	json_t *claimed;
	struct student_ready *ready; /* the good records, read before any transaction */
	size_t nready, ready_cap;
	uint64_t held_last; /* a dry run's last held number */
	int spool_fd;       /* with source and spool_open: the good records' canonical texts */
	int spool_open;
	size_t spool_end; /* bytes written to it */
	int base_fd;
	int base_in_node;
	char node_real[PATH_MAX];
	struct stat node_st;
	char raw[512]; /* the last record's error before its prefix */
};

/*
 * Imports im->file into st (see the top of this file). The file is read,
 * checked and put in canonical form before any transaction: a dry run then
 * takes only a read transaction, and an import a write transaction that
 * compares and puts (and stores the attachments a record names).
 *
 * st  the open store; its audit actor (store_set_actor) is named on each
 *     entry.
 * im  the file and options in; the counts, errors and results out. The
 *     caller frees what it holds with student_import_clear, also on error.
 *
 * Returns 0 when every record was filed and committed (with dry_run: when
 * every record would be, and nothing was kept). Otherwise nothing was
 * kept, and: the first bad record's code (BATON_EVALUE, BATON_EMISSING,
 * ...) with im->nerrors > 0 and im->errors listing them; BATON_EVALUE for a
 * file with no records; the error of a file that cannot be read
 * (BATON_EIO, BATON_ETOOBIG) or of the store (BATON_EIO, BATON_ENOMEM),
 * with baton_diag() saying why and im->nerrors 0.
 */
int student_import_run(store *st, struct student_import *im);

/* Frees what student_import_run left in im (errors, results, the reader). im may be NULL. */
void student_import_clear(struct student_import *im);

/*
 * Predicate: 1 when err is the input's fault (a bad record or file, to be
 * corrected by whoever wrote it), 0 when it is the node's (out of memory,
 * the store, a bug) or 0.
 */
int student_import_is_bad_input(int err);

#endif

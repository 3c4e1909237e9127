/*
 * Ed-Fi data as Baton records (docs/edfi.md): the resources of a district's
 * files are gathered by student in a scratch store, then each student's
 * resources are made into one record of proto/RECORD.md, with every Ed-Fi
 * field that is not carried over named. Memory holds one student at a time.
 */
#ifndef BATON_NODE_EDFI_H
#define BATON_NODE_EDFI_H

#include <stddef.h>

#include <jansson.h>

#include "edfi_read.h"

typedef struct edfi_set edfi_set;

/* The formats Ed-Fi data is read from: "edfi-json" (and "edfi-xml" where built). */
int edfi_format_known(const char *format);

/*
 * Opens an empty set: a scratch LMDB environment in a private temporary
 * directory (removed by edfi_set_close, also on error) and the shipped
 * descriptor map, with the lines of map_file (NULL: none) added.
 *
 * Returns 0 and *out (free with edfi_set_close), BATON_EVALUE for a bad
 * line of map_file (baton_diag() names the file and line), BATON_EIO,
 * BATON_ENOMEM.
 */
int edfi_set_open(edfi_set **out, const char *map_file);

/*
 * Takes only the student with this studentUniqueId (call once per id; ids
 * may also be a comma-separated list). Without a call, every student.
 */
int edfi_set_filter(edfi_set *set, const char *ids);

/*
 * Reads path in format into the set. skip_unknown: a file or key that is
 * not a resource Baton reads is skipped with a note (edfi_set_notes)
 * instead of being an error. Returns 0 or the reader's error
 * (baton_diag() says where).
 */
int edfi_set_read(edfi_set *set, const char *format, const char *path, int skip_unknown);

/*
 * The next student's record, in studentUniqueId order.
 *
 * rec    set to the record (the caller decrefs it); NULL on error.
 * id     set to the student's studentUniqueId (idcap bytes), also on error.
 * notes  set to a new array of the Ed-Fi fields not carried over
 *        ("students.birthCity") and of resources not used, as strings;
 *        the caller decrefs it. May be NULL: not wanted.
 *
 * Returns 0, BATON_ENOTFOUND after the last student, a bad input code
 * (BATON_EVALUE, BATON_EMISSING) for a student whose resources cannot be
 * made into a record (baton_diag() names the resource, field and value;
 * the next call goes on with the next student), or BATON_EIO/BATON_ENOMEM.
 */
int edfi_set_next(edfi_set *set, json_t **rec, char *id, size_t idcap, json_t **notes);

/* The next edfi_set_next starts at the first student again. Cannot fail. */
void edfi_set_rewind(edfi_set *set);

/*
 * An Ed-Fi set as the record source of an import (struct student_source of
 * student_import.h: next = edfi_source_next, rewind = edfi_source_rewind,
 * arg = the struct edfi_source).
 */
struct edfi_source {
	edfi_set *set;
	/*
	 * May be NULL. Told of each student on the first reading only: its id,
	 * the fields not carried over (an array of strings, borrowed) and 0 or
	 * the error that keeps its record from being made.
	 */
	void (*on_student)(void *arg, const char *id, const json_t *notes, int err);
	void *arg;
};
int edfi_source_next(void *src, json_t **rec, char *id, size_t idcap);
void edfi_source_rewind(void *src);

/* Notes about the whole set (students filtered for but absent, resources of no student). */
json_t *edfi_set_notes(edfi_set *set);

/* Removes the scratch store and frees set. set may be NULL. */
void edfi_set_close(edfi_set *set);

/*
 * Writes rec (a record of proto/RECORD.md) as Ed-Fi API resources into
 * dir: one RESOURCE.json array file each, that a student information
 * system can POST to its Ed-Fi API, with descriptor URIs from the shipped
 * map and the lines of map_file (NULL: none). dir must exist; a file
 * already there is not replaced (BATON_EEXIST). Returns 0, BATON_EEXIST,
 * BATON_EIO, BATON_ENOMEM, BATON_EVALUE for a bad line of map_file.
 */
int edfi_export(const json_t *rec, const char *dir, const char *map_file);

#endif

/*
 * A file of student records (proto/RECORD.md): one student object, or an
 * array of them, read one record at a time. The file is mapped, not read
 * into memory; each record's text is found by its brackets and only then
 * parsed, and the pages already read are given back to the kernel, so a
 * file of any size is read in the memory of its largest record.
 */
#ifndef BATON_NODE_RECORD_FILE_H
#define BATON_NODE_RECORD_FILE_H

#include <stddef.h>

#include <jansson.h>

/* The most bytes one record's JSON may have. */
#define RECORD_FILE_RECORD_MAX (4u << 20)

typedef struct record_file record_file;

/*
 * Opens the file at path for reading records. A UTF-8 byte order mark at
 * its start is skipped.
 *
 * path  the file; named in the diag of an open that fails.
 * rf    set to the reader (NULL on error); free with record_file_close.
 *
 * Returns 0, BATON_EIO (cannot open or map; not a regular file), or
 * BATON_ENOMEM.
 */
int record_file_open(const char *path, record_file **rf);

/*
 * The next record.
 *
 * rec    set to the parsed record (NULL on error); the caller owns it and
 *        frees it with json_decref.
 * index  set to the record's number in the file, counting from 1 (0 when
 *        the error is about the file, not one record).
 *
 * Returns 0 and a record; BATON_ENOTFOUND when there are no more records;
 * BATON_EVALUE or BATON_ETOOBIG with baton_diag() saying why: for a record
 * that does not parse, "record N (ID): line L, field \"F\": ..." and the
 * next call goes on with the next record; for a file that is not a record
 * file ("this looks like CSV ...", "the file is empty", an array not
 * closed), "line L: ..." and the next call returns BATON_ENOTFOUND.
 * BATON_ENOMEM when jansson ran out of memory, also ending the file.
 */
int record_file_next(record_file *rf, json_t **rec, size_t *index);

/* Goes back to the start of the file: the next record is the first again. Cannot fail. */
void record_file_rewind(record_file *rf);

/* The number of records returned or refused so far. Cannot fail. */
size_t record_file_count(const record_file *rf);

/* How far the reader is through the file: bytes read, and the file's size. Cannot fail. */
void record_file_progress(const record_file *rf, size_t *done, size_t *total);

/* Unmaps the file and frees rf. rf may be NULL. */
void record_file_close(record_file *rf);

#endif

/*
 * The node directory's small settings files (web.conf, mail.conf): one
 * "KEY VALUE" a line, '#' comments, written whole to a temporary file and
 * renamed over the old one, so that a reader sees the old file or the new.
 */
#ifndef BATON_CONF_FILE_H
#define BATON_CONF_FILE_H

#include <stdio.h>

#define CONF_PATH_MAX 4160 /* DIR/NAME, DIR at most 4096 bytes */

/* A line of the file (without its end), and its number from 1. */
typedef int (*conf_line_fn)(void *ctx, const char *line, unsigned no);

/*
 * Reads DIR/NAME into path (CONF_PATH_MAX bytes, for the caller's
 * messages) and calls fn for each line that is neither empty nor a comment,
 * until fn returns non-zero; returns that. BATON_ENOTFOUND when the file
 * does not exist. Lines are read into a buffer wiped afterwards: a file may
 * hold a password.
 */
int conf_file_read(const char *dir, const char *name, conf_line_fn fn, void *ctx, char *path);

struct conf_out {
	char path[CONF_PATH_MAX], tmp[CONF_PATH_MAX + 8];
	FILE *f;
};
/* Opens DIR/NAME.tmp, new, with mode, for the caller to write o->f. */
int conf_file_begin(const char *dir, const char *name, int mode, struct conf_out *o);
/* Flushes and syncs o->f, closes it and renames it over DIR/NAME; on failure removes it. */
int conf_file_end(struct conf_out *o);

#endif

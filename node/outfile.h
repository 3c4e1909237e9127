/*
 * Files a command writes for the person running it (cards, packets,
 * receipts): never over an existing file unless asked, never a partial one.
 */
#ifndef BATON_OUTFILE_H
#define BATON_OUTFILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * The one rule for every --out FILE: an existing name (a file, or a
 * symbolic link, which is never followed) is refused with BATON_EEXIST
 * ("already exists; not overwriting it") unless force. Check before doing
 * anything the file would record, so that a refusal leaves nothing behind.
 * path is the caller's. Returns 0; BATON_EEXIST (also for a directory,
 * even with force); BATON_EIO when path cannot be looked at.
 */
int outfile_check(const char *path, int force);
/*
 * Gives tmp, a finished file in the directory of path, the name path: by a
 * hard link that never replaces anything, or with force by a rename that
 * replaces a file or a symbolic link (itself, not its target). Both names
 * are the caller's. Returns 0, BATON_EEXIST, or BATON_EIO (errno's words in
 * baton_diag()). tmp is gone afterwards unless the error is BATON_EEXIST, or
 * outfile_check's error with force: the caller removes it then.
 */
int outfile_place(const char *tmp, const char *path, int force);
/*
 * Writes len bytes of buf as the file path (mode), whole or not at all, by
 * the same rule; leaves no temporary file behind. Returns 0, the errors of
 * outfile_check and baton_file_create, or BATON_EINVAL when path is too long.
 */
int outfile_write(const char *path, const uint8_t *buf, size_t len, unsigned mode, int force);

#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <baton/keys.h>

#include "bti.h"
#include "outfile.h"

int outfile_check(const char *path, int force)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0
		                       : bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	if (!force)
		return bti_diag_err(BATON_EEXIST,
		                    "%s: already exists; not overwriting it (--force replaces it)",
		                    path);
	if (S_ISDIR(st.st_mode))
		return bti_diag_err(BATON_EEXIST, "%s: is a directory; not replacing it", path);
	return 0;
}

int outfile_place(const char *tmp, const char *path, int force)
{
	int err;

	if (force) {
		if ((err = outfile_check(path, 1)) != 0 || rename(tmp, path) == 0)
			return err;
		err = errno;
		unlink(tmp);
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(err));
	}
	/* link() fails on any existing name, a dangling symbolic link included. */
	if (link(tmp, path) == 0) {
		unlink(tmp);
		return 0;
	}
	if ((err = errno) == EPERM || err == EOPNOTSUPP) {
		/* No hard links here (a FAT stick): the name is claimed, then the file renamed onto
		 * it. */
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			err = errno;
		} else {
			close(fd);
			if (rename(tmp, path) == 0)
				return 0;
			err = errno;
			unlink(path);
		}
	}
	if (err == EEXIST)
		return bti_diag_err(BATON_EEXIST, "%s: already exists; not overwriting it", path);
	unlink(tmp);
	return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(err));
}

int outfile_write(const char *path, const uint8_t *buf, size_t len, unsigned mode, int force)
{
	char tmp[4200];
	int r;

	if ((r = outfile_check(path, force)) != 0)
		return r;
	if (!force)
		return baton_file_create(path, buf, len, mode);
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid()) >= (int)sizeof(tmp))
		return bti_diag_err(BATON_EINVAL, "%s: path too long", path);
	if ((r = baton_file_create(tmp, buf, len, mode)) == 0 &&
	    (r = outfile_place(tmp, path, 1)) != 0)
		unlink(tmp);
	return r;
}

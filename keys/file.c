/* Whole-file reads and new-file writes, bounded and careful. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <baton/keys.h>
#include <baton/packet.h>

#include "bti.h"

/* Writes all of buf to fd and syncs it. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += (size_t)n;
	}
	return fsync(fd);
}

int baton_file_create(const char *path, const uint8_t *buf, size_t len, unsigned mode)
{
	char dir[4200], tmp[4300];
	const char *slash = strrchr(path, '/');
	int fd, err;

	if (strlen(path) >= sizeof(dir))
		return bti_diag_err(BATON_EINVAL, "%s: path too long", path);
	if (access(path, F_OK) == 0)
		return bti_diag_err(BATON_EEXIST, "%s: already exists; not overwriting it", path);
	/*
	 * The file is written in full, unnamed (O_TMPFILE), then linked to its
	 * name: it is either absent or whole, even when the process is killed,
	 * and a kill leaves nothing behind. Where the file system has no
	 * O_TMPFILE, a temporary name is used instead.
	 */
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
	fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, (mode_t)mode);
	if (fd >= 0) {
		if (write_all(fd, buf, len) != 0) {
			err = errno;
			close(fd);
			return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(err));
		}
		snprintf(tmp, sizeof(tmp), "/proc/self/fd/%d", fd);
		if (linkat(AT_FDCWD, tmp, AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0) {
			close(fd);
			return 0;
		}
		err = errno;
		close(fd);
		if (err != ENOENT) /* no /proc: fall back to a temporary name */
			return bti_diag_err(
			    err == EEXIST ? BATON_EEXIST : BATON_EIO, "%s: %s", path,
			    err == EEXIST ? "already exists; not overwriting it" : strerror(err));
	}
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	if (write_all(fd, buf, len) != 0 || close(fd) != 0) {
		err = errno;
		close(fd);
		unlink(tmp);
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(err));
	}
	if (link(tmp, path) != 0) {
		err = errno;
		unlink(tmp);
		return bti_diag_err(err == EEXIST ? BATON_EEXIST : BATON_EIO, "%s: %s", path,
		                    err == EEXIST ? "already exists; not overwriting it"
		                                  : strerror(err));
	}
	unlink(tmp);
	return 0;
}

int bti_file_read_fd(int fd, const char *path, size_t max, uint8_t **out, size_t *outlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t off = 0;

	*out = NULL;
	*outlen = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return bti_diag_err(BATON_EIO, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > max)
		return bti_diag_err(BATON_ETOOBIG, "%s: %lld bytes, at most %zu expected", path,
		                    (long long)st.st_size, max);
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return BATON_ENOMEM;
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off != (size_t)st.st_size) {
		free(buf);
		return bti_diag_err(BATON_EIO, "%s: short read", path);
	}
	buf[off] = '\0'; /* convenient for text; not counted in *outlen */
	*out = buf;
	*outlen = off;
	return 0;
}

int baton_file_read(const char *path, size_t max, uint8_t **out, size_t *outlen)
{
	int fd, r;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	r = bti_file_read_fd(fd, path, max, out, outlen);
	close(fd);
	return r;
}

static int fd_read_at(void *ctx, uint64_t off, uint8_t *buf, size_t len)
{
	int fd = *(int *)ctx;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bti_diag_err(BATON_EIO, "read at byte %llu: %s",
			                    (unsigned long long)(off + got), strerror(errno));
		if (n == 0)
			return bti_diag_err(BATON_ETRUNC, "file ends at byte %llu",
			                    (unsigned long long)(off + got));
		got += (size_t)n;
	}
	return 0;
}

int baton_source_fd(struct baton_source *src, int *fd)
{
	struct stat st;

	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode))
		return bti_diag_err(BATON_EIO, "packet: not a regular file");
	src->read_at = fd_read_at;
	src->ctx = fd;
	src->len = (uint64_t)st.st_size;
	return 0;
}

int baton_write_fd(void *ctx, const uint8_t *buf, size_t len)
{
	int fd = *(int *)ctx;
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bti_diag_err(BATON_EIO, "write: %s", strerror(errno));
		off += (size_t)n;
	}
	return 0;
}

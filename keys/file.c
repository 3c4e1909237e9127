/* Whole-file reads and new-file writes, bounded and careful. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <baton/keys.h>
#include <baton/packet.h>

#include "proto_impl.h"

int baton_file_create(const char *path, const uint8_t *buf, size_t len, unsigned mode)
{
	int fd;
	size_t off = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return diag_err(errno == EEXIST ? BATON_EEXIST : BATON_EIO, "%s: %s", path,
		                errno == EEXIST ? "already exists; not overwriting it"
		                                : strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	diag_set("%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(path);
	return BATON_EIO;
}

int file_read_fd(int fd, const char *path, size_t max, uint8_t **out, size_t *outlen)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t off = 0;

	*out = NULL;
	*outlen = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return diag_err(BATON_EIO, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > max)
		return diag_err(BATON_ETOOBIG, "%s: %lld bytes, at most %zu expected", path,
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
		return diag_err(BATON_EIO, "%s: short read", path);
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
		return diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	r = file_read_fd(fd, path, max, out, outlen);
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
			return diag_err(BATON_EIO, "read at byte %llu: %s",
			                (unsigned long long)(off + got), strerror(errno));
		if (n == 0)
			return diag_err(BATON_ETRUNC, "file ends at byte %llu",
			                (unsigned long long)(off + got));
		got += (size_t)n;
	}
	return 0;
}

int baton_source_fd(struct baton_source *src, int *fd)
{
	struct stat st;

	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode))
		return diag_err(BATON_EIO, "packet: not a regular file");
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
			return diag_err(BATON_EIO, "write: %s", strerror(errno));
		off += (size_t)n;
	}
	return 0;
}

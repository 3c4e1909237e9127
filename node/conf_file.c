/* The node directory's small settings files (conf_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "bti.h"
#include "conf_file.h"

int conf_file_read(const char *dir, const char *name, conf_line_fn fn, void *ctx, char *path)
{
	char line[4096 + 16];
	unsigned no = 0;
	int r = 0;
	FILE *f;

	snprintf(path, CONF_PATH_MAX, "%s/%s", dir, name);
	if ((f = fopen(path, "re")) == NULL)
		return errno == ENOENT ? BATON_ENOTFOUND
		                       : bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	while (r == 0 && fgets(line, sizeof(line), f)) {
		no++;
		line[strcspn(line, "\r\n")] = 0;
		if (line[0] && line[0] != '#')
			r = fn(ctx, line, no);
	}
	sodium_memzero(line, sizeof(line));
	fclose(f);
	return r;
}

int conf_file_begin(const char *dir, const char *name, int mode, struct conf_out *o)
{
	int fd, r;
	snprintf(o->path, sizeof(o->path), "%s/%s", dir, name);
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp", o->path);
	unlink(o->tmp);
	o->f = NULL;
	if ((fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)) < 0 ||
	    (o->f = fdopen(fd, "w")) == NULL) {
		r = bti_diag_err(BATON_EIO, "%s: %s", o->tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(o->tmp);
		return r;
	}
	return 0;
}

int conf_file_end(struct conf_out *o)
{
	int ok = fflush(o->f) == 0 && fsync(fileno(o->f)) == 0;
	ok = fclose(o->f) == 0 && ok;
	o->f = NULL;
	if (!ok || rename(o->tmp, o->path) != 0) {
		int e = errno;
		unlink(o->tmp);
		return bti_diag_err(BATON_EIO, "%s: %s", o->path, strerror(e));
	}
	return 0;
}

/*
 * Packet files. Each packet is written under a temporary name. A queued
 * packet takes its outbox name, synced, before the transaction that records
 * it commits: the outbox never names a file that is not there (a crash can
 * leave only a file the outbox does not name, which is never sent). A
 * packet to carry by hand (--out) takes its name only after the commit, so
 * that no file leaves unaudited. What a send killed midway left behind is
 * settled by transfer_recover.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>
#include <sodium.h>

#include "bti.h"
#include "outfile.h"
#include "transfer_impl.h"

/*
 * A packet to carry by hand is sealed beside its name, as NAME.partial. Until
 * it has its name, a note in the outbox directory (PID-SEQ.out) names that
 * file by absolute path, so that a send killed meanwhile is found and
 * settled at the next start (transfer_recover).
 */
static int mark_partial(struct send_req *s)
{
	struct send_state *p = s->priv;
	char dir[4200], abs[PATH_MAX], line[PATH_MAX + 300];
	const char *slash = strrchr(s->out, '/');
	int fd, n, r = 0;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - s->out) + 1 : 1,
	         slash ? s->out : ".");
	if (realpath(dir, abs) == NULL)
		return bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	n = snprintf(line, sizeof(line), "%s/%s.partial\n", strcmp(abs, "/") ? abs : "",
	             slash ? slash + 1 : s->out);
	snprintf(p->mark, sizeof(p->mark), "%s/outbox/%d-%zu.out", s->node_dir, (int)getpid(),
	         p->seq);
	if (n < 0 || (size_t)n >= sizeof(line))
		return bti_diag_err(BATON_EINVAL, "%s: path too long", s->out);
	fd = open(p->mark, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = bti_diag_err(BATON_EIO, "%s: %s", p->mark, strerror(errno));
		p->mark[0] = 0;
		return r;
	}
	p->mark_fd = fd;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 || write(fd, line, (size_t)n) != n ||
	    fdatasync(fd) != 0)
		r = bti_diag_err(BATON_EIO, "%s: %s", p->mark, strerror(errno));
	return r;
}

/* Done with the note: the packet has its name, or was never recorded and is gone. */
static void unmark_partial(struct send_req *s)
{
	struct send_state *p = s->priv;
	if (p->mark[0])
		unlink(p->mark);
	if (p->mark_fd >= 0)
		close(p->mark_fd);
	p->mark[0] = 0;
	p->mark_fd = -1;
}

void xfer_test_pause(const char *where)
{
	const char *p = getenv("BATON_TEST_PAUSE");
	if (p && strcmp(p, where) == 0)
		raise(SIGSTOP);
}

static int open_tmp(struct send_req *s)
{
	struct send_state *p = s->priv;
	int n = snprintf(p->tmp, sizeof(p->tmp), s->out ? "%s.partial" : "%s/outbox/%d-%zu.partial",
	                 s->out ? s->out : s->node_dir, (int)getpid(), p->seq);
	if (n < 0 || (size_t)n >= sizeof(s->path))
		return bti_diag_err(BATON_EINVAL, "%s: path too long",
		                    s->out ? s->out : s->node_dir);
	if ((p->fd = open(p->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", p->tmp, strerror(errno));
	/* Held until the file is closed, after the commit: a packet not yet recorded is in use. */
	if (flock(p->fd, LOCK_EX | LOCK_NB) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", p->tmp, strerror(errno));
	return 0;
}

int xfer_file_ready(struct send_req *s)
{
	struct send_state *p = s->priv;
	int r = p->fd < 0 ? open_tmp(s) : 0;
	if (r != 0)
		return r;
	/* store_write may run a function again after growing the map: start the file over. */
	if (ftruncate(p->fd, 0) != 0 || lseek(p->fd, 0, SEEK_SET) != 0)
		return bti_diag_err(BATON_EIO, "cannot rewind the packet file");
	return 0;
}

int xfer_file_place(struct send_req *s)
{
	struct send_state *p = s->priv;
	if (fdatasync(p->fd) != 0)
		return bti_diag_err(BATON_EIO, "%s: cannot sync the packet file", p->tmp);
	if (rename(p->tmp, s->path) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", s->path, strerror(errno));
	p->placed = 1;
	return 0;
}

void xfer_file_unplace(struct send_req *s)
{
	struct send_state *p = s->priv;
	if (p->placed && rename(s->path, p->tmp) != 0)
		unlink(s->path);
	p->placed = 0;
}

int xfer_files_prepare(struct send_req *s, size_t n)
{
	char dir[sizeof(s->path)], abs[PATH_MAX];

	for (size_t i = 0; i < n; i++) {
		s[i].priv->fd = -1;
		s[i].priv->placed = 0;
		s[i].priv->seq = i;
		s[i].path[0] = 0;
		s[i].priv->tmp[0] = 0;
		s[i].priv->mark[0] = 0;
		s[i].priv->mark_fd = -1;
	}
	if (n == 0)
		return 0;
	snprintf(dir, sizeof(dir), "%s/outbox", s[0].node_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	if (s[0].out)
		return 0;
	/* The outbox names its files by absolute path: serve may run from elsewhere. */
	if (realpath(dir, abs) == NULL || strlen(abs) >= sizeof(s[0].priv->outbox))
		return bti_diag_err(BATON_EIO, "%s: %s", dir,
		                    strerror(errno ? errno : ENAMETOOLONG));
	for (size_t i = 0; i < n; i++)
		snprintf(s[i].priv->outbox, sizeof(s[i].priv->outbox), "%s", abs);
	return 0;
}

int xfer_files_open(struct send_req *s, size_t n, size_t *opened)
{
	int r = 0;
	/* A queued packet's file is opened only if it is too large for the store (seal_to). */
	for (*opened = 0; *opened < n && r == 0; (*opened)++) {
		struct send_req *x = &s[*opened];
		if (x->out && (r = outfile_check(x->out, x->force)) == 0 &&
		    (r = mark_partial(x)) == 0)
			r = open_tmp(x);
	}
	return r;
}

/* A packet to carry, recorded: synced, and given its name. */
static int place_out(struct send_req *s)
{
	struct send_state *p = s->priv;
	int r;
	if (fsync(p->fd) != 0)
		return bti_diag_err(BATON_EIO, "%s: cannot sync the packet file", p->tmp);
	if ((r = outfile_place(p->tmp, s->path, s->force)) == 0) {
		p->tmp[0] = 0;
	} else if (r == BATON_EEXIST) {
		/* Recorded as sent: the packet stays where it is, to carry. */
		r = bti_diag_err(r,
		                 "%s: appeared while the packet was sealed; not "
		                 "overwriting it: the packet is %s",
		                 s->path, p->tmp);
		p->tmp[0] = 0;
	}
	return r;
}

int xfer_files_close(struct send_req *s, size_t n, size_t opened, int r)
{
	for (size_t i = 0; i < n && r == 0; i++)
		if (s[i].out && !s[i].refused)
			r = place_out(&s[i]);
	for (size_t i = 0; i < opened; i++) {
		struct send_state *p = s[i].priv;
		if (p->fd >= 0)
			close(p->fd);
		p->fd = -1;
		if (r != 0 && !s[i].out)
			xfer_file_unplace(
			    &s[i]); /* the commit failed: no file without its outbox entry */
		if (p->tmp[0] && (!p->placed || s[i].refused))
			unlink(p->tmp);
		unmark_partial(&s[i]);
	}
	return r;
}

/* ---- what a killed send left behind ---- */

struct recover {
	store *st;
	void (*say)(void *ctx, const char *line);
	void *ctx;
	char line[PATH_MAX * 2 + 400];
	uint8_t id[BATON_ID_BYTES], hash[BATON_HASH_BYTES];
	store_outbox ob;
	int found;
};

static int recover_find(store_txn *t, void *arg)
{
	struct recover *rc = arg;
	int r = store_outbox_get(t, rc->id, &rc->ob);
	rc->found = r == 0;
	return r == BATON_ENOTFOUND ? 0 : r;
}

/* A recorded packet whose file was lost: the outbox says so, and stops waiting for it. */
static int recover_lost(store_txn *t, void *arg)
{
	struct recover *rc = arg;
	rc->ob.state = OUT_EXPIRED;
	snprintf(rc->ob.last_error, sizeof(rc->ob.last_error),
	         "the send was interrupted before its file was whole; send again");
	return store_outbox_put(t, &rc->ob);
}

/* Reads the packet id and hash of a partial file; 0, or an error when it is not whole. */
static int partial_ids(const char *path, struct recover *rc)
{
	baton_source src;
	baton_header h;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r;
	if (fd < 0)
		return BATON_EIO;
	if ((r = baton_source_fd(&src, &fd)) == 0 && (r = baton_packet_peek(&src, &h)) == 0 &&
	    (r = baton_packet_hash(&src, rc->hash)) == 0)
		memcpy(rc->id, h.id, BATON_ID_BYTES);
	close(fd);
	return r;
}

/* One note of a packet to carry: its partial file is named, or removed. */
static int recover_out(struct recover *rc, int dfd, const char *name)
{
	char path[PATH_MAX + 16] = "", target[PATH_MAX + 16];
	struct stat sb;
	ssize_t n;
	size_t len;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	/* The sender holds the lock while it lives. */
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	n = read(fd, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = 0;
	path[strcspn(path, "\n")] = 0;
	len = strlen(path);
	if (len > 8 && strcmp(path + len - 8, ".partial") == 0 && lstat(path, &sb) == 0) {
		snprintf(target, sizeof(target), "%.*s", (int)(len - 8), path);
		rc->found = 0;
		/* Whether it was recorded must be known before anything is removed. */
		int whole = partial_ids(path, rc) == 0, r;
		if (whole && (r = store_read(rc->st, recover_find, rc)) != 0) {
			close(fd);
			return r;
		}
		if (whole && rc->found && strcmp(rc->ob.file, target) == 0 &&
		    sodium_memcmp(rc->ob.hash, rc->hash, BATON_HASH_BYTES) == 0) {
			if (link(path, target) == 0) {
				unlink(path);
				snprintf(
				    rc->line, sizeof(rc->line),
				    "a send of %s to %s was interrupted after it was recorded; "
				    "its packet %s is now %s, to carry",
				    rc->ob.student, rc->ob.to, xfer_hex_id(rc->id), target);
			} else {
				snprintf(
				    rc->line, sizeof(rc->line),
				    "a send of %s to %s was interrupted after it was recorded; "
				    "%s: %s, so its packet was left as %s",
				    rc->ob.student, rc->ob.to, target, strerror(errno), path);
			}
		} else {
			unlink(path);
			if (rc->found && strcmp(rc->ob.file, target) == 0)
				store_write(rc->st, recover_lost, rc);
			snprintf(rc->line, sizeof(rc->line),
			         "removed %s, left by an interrupted send: %s; send again", path,
			         rc->found ? "recorded, but its file was not whole"
			                   : "it was not recorded and nothing was disclosed");
		}
		rc->say(rc->ctx, rc->line);
	}
	unlinkat(dfd, name, 0);
	close(fd);
	return 0;
}

/* Whether a file in the outbox directory is held by a send that is still running. */
static int is_in_use(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK), busy;
	if (fd < 0)
		return 1;
	busy = flock(fd, LOCK_EX | LOCK_NB) != 0;
	close(fd);
	return busy;
}

/*
 * A queued packet's file (HEX.baton) takes its name just before the commit
 * that records it: one the outbox does not name, and that no send holds, was
 * left by a send killed in between.
 */
static int recover_queued(struct recover *rc, int dfd, const char *dir, const char *name)
{
	int r;
	if (sodium_hex2bin(rc->id, BATON_ID_BYTES, name, 2 * BATON_ID_BYTES, NULL, NULL, NULL) !=
	        0 ||
	    strcmp(name + 2 * BATON_ID_BYTES, ".baton") != 0 || is_in_use(dfd, name))
		return 0;
	rc->found = 0;
	if ((r = store_read(rc->st, recover_find, rc)) != 0 || rc->found)
		return r;
	unlinkat(dfd, name, 0);
	snprintf(rc->line, sizeof(rc->line),
	         "removed %s/%s, left by an interrupted send before it was recorded: nothing "
	         "was disclosed; send again",
	         dir, name);
	rc->say(rc->ctx, rc->line);
	return 0;
}

int transfer_recover(store *st, const char *node_dir, void (*say)(void *ctx, const char *line),
                     void *ctx)
{
	struct recover rc = {.st = st, .say = say, .ctx = ctx};
	char dir[4200];
	struct dirent *e;
	DIR *d;
	int dfd, r = 0;

	snprintf(dir, sizeof(dir), "%s/outbox", node_dir);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0
		                       : bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	dfd = dirfd(d);
	while (r == 0 && (e = readdir(d)) != NULL) {
		int pid, end = 0;
		size_t seq;
		/* PID-SEQ.partial (a queued packet) or PID-SEQ.out (a packet to carry) */
		if (sscanf(e->d_name, "%d-%zu.partial%n", &pid, &seq, &end) == 2 &&
		    e->d_name[end] == 0) {
			if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH ||
			    is_in_use(dfd, e->d_name))
				continue;
			unlinkat(dfd, e->d_name, 0);
			snprintf(rc.line, sizeof(rc.line),
			         "removed %s/%s, left by an interrupted send before it was "
			         "recorded: nothing was disclosed; send again",
			         dir, e->d_name);
			say(ctx, rc.line);
		} else if (sscanf(e->d_name, "%d-%zu.out%n", &pid, &seq, &end) == 2 &&
		           e->d_name[end] == 0) {
			r = recover_out(&rc, dfd, e->d_name);
		} else if (strlen(e->d_name) == 2 * BATON_ID_BYTES + 6) {
			r = recover_queued(&rc, dfd, dir, e->d_name);
		}
	}
	closedir(d);
	return r;
}

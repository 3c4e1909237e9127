/*
 * Erasure: removing what the store holds of one child, the lock that keeps
 * every other process off the store while it is rewritten, and the
 * compacting copy that takes the freed pages (LMDB frees pages, it does not
 * wipe them) off the disk. See the erasure section of store.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "store_impl.h"

/* A shared lock waits this long for an erasure's compaction to end. */
#define LOCK_WAIT_MS 30000
#define WIPE_CHUNK   (1u << 20)

int store_lock_dir(const char *path, int exclusive, int *fd)
{
	*fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	for (int waited = 0;; waited += 20) {
		if (flock(*fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			int r = bti_diag_err(BATON_EIO, "%s: lock: %s", path, strerror(errno));
			close(*fd);
			*fd = -1;
			return r;
		}
		if (exclusive || waited >= LOCK_WAIT_MS) {
			close(*fd);
			*fd = -1;
			return exclusive
			           ? bti_diag_err(
			                 BATON_EIO,
			                 "%s: the store is open in another process (a running "
			                 "'baton serve', or another baton command on this "
			                 "node): stop it, run this again, then start it again",
			                 path)
			           : bti_diag_err(BATON_EIO,
			                          "%s: the store is being erased from and "
			                          "compacted ('baton student erase'); try again",
			                          path);
		}
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/* ---- removing a child's rows ---- */

static const struct table t_students = {.db = DB_STUDENTS, .what = "student"};
static const struct table t_records = {.db = DB_RECORDS, .what = "record"};
static const struct table t_state_ids = {.db = DB_STATE_IDS, .what = "statewide id"};
static const struct table t_blobs = {.db = DB_BLOBS, .what = "attachment"};
static const struct table t_guardians = {.db = DB_GUARDIANS, .what = "guardian link"};
static const struct table t_held = {.db = DB_HELD, .what = "held record"};
static const struct table t_invites = {.db = DB_INVITES, .what = "invitation"};
static const struct table t_consents = {.db = DB_CONSENTS, .what = "consent"};
static const struct table t_revocations = {.db = DB_REVOCATIONS, .what = "revocation"};
static const struct table t_requests = {.db = DB_REQUESTS, .what = "request"};
static const struct table t_origins = {.db = DB_ORIGINS, .what = "student received from"};
static const struct table t_packets = {.db = DB_PACKETS, .what = "packet"};
static const struct table t_statements = {.db = DB_STATEMENTS, .what = "statement"};
static const struct table t_mailq = {.db = DB_MAILQ, .what = "notice to the family"};

/* Keys gathered in one walk, deleted after it (never under the cursor). */
struct keys {
	uint8_t **k;
	size_t *len, n, cap;
};

static int keys_add(struct keys *ks, const void *k, size_t len)
{
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 16;
		uint8_t **nk = realloc(ks->k, cap * sizeof(*nk));
		if (nk == NULL)
			return BATON_ENOMEM;
		ks->k = nk;
		size_t *nl = realloc(ks->len, cap * sizeof(*nl));
		if (nl == NULL)
			return BATON_ENOMEM;
		ks->len = nl;
		ks->cap = cap;
	}
	if ((ks->k[ks->n] = malloc(len ? len : 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(ks->k[ks->n], k, len);
	ks->len[ks->n++] = len;
	return 0;
}

static void keys_free(struct keys *ks)
{
	for (size_t i = 0; i < ks->n; i++) {
		sodium_memzero(ks->k[i], ks->len[i]);
		free(ks->k[i]);
	}
	free(ks->k);
	free(ks->len);
	memset(ks, 0, sizeof(*ks));
}

/* Deletes every key gathered in tb; *count (may be NULL) grows by how many. */
static int keys_del(store_txn *t, const struct table *tb, const struct keys *ks, size_t *count)
{
	int r;
	for (size_t i = 0; i < ks->n; i++)
		if ((r = tbl_drop(t, tb, ks->k[i], ks->len[i])) != 0)
			return r;
	if (count)
		*count += ks->n;
	return 0;
}

static int key_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	(void)v;
	return keys_add(arg, k->mv_data, k->mv_size);
}

/* Every row of tb whose key starts with "id NUL". */
static int drop_prefixed(store_txn *t, const struct table *tb, const char *id, size_t *count)
{
	struct keys ks = {0};
	size_t plen = strlen(id) + 1;
	int r = tbl_each(t, tb, id, plen, key_row, &ks);
	if (r == 0)
		r = keys_del(t, tb, &ks, count);
	keys_free(&ks);
	return r;
}

struct value_match {
	const char *id;
	struct keys ks;
};

/* Rows whose value is the local id (state_ids, origins). */
static int value_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct value_match *m = arg;
	if (v->mv_size == strlen(m->id) && memcmp(v->mv_data, m->id, v->mv_size) == 0)
		return keys_add(&m->ks, k->mv_data, k->mv_size);
	return 0;
}

static int drop_by_value(store_txn *t, const struct table *tb, const char *id, size_t *count)
{
	struct value_match m = {id, {0}};
	int r = tbl_each(t, tb, NULL, 0, value_row, &m);
	if (r == 0)
		r = keys_del(t, tb, &m.ks, count);
	keys_free(&m.ks);
	return r;
}

struct held_match {
	const char *id; /* the student, or NULL: held_id */
	uint64_t held_id;
	struct keys ks;
};

static int held_row(const store_held *h, void *arg)
{
	struct held_match *m = arg;
	uint8_t key[8];
	if (m->id ? strcmp(h->student, m->id) != 0 : h->id != m->held_id)
		return 0;
	put_be64(key, h->id);
	return keys_add(&m->ks, key, 8);
}

static int invite_row(const store_invite *v, void *arg)
{
	struct value_match *m = arg;
	return strcmp(v->student, m->id) == 0 ? keys_add(&m->ks, v->id, strlen(v->id)) : 0;
}

static int consent_row(const store_consent *c, void *arg)
{
	struct value_match *m = arg;
	return strcmp(c->student, m->id) == 0 ? keys_add(&m->ks, c->id, BATON_ID_BYTES) : 0;
}

static int mail_row(const store_mail *e, void *arg)
{
	struct value_match *m = arg;
	return strcmp(e->student, m->id) == 0 ? keys_add(&m->ks, e->id, STORE_MAILQ_ID) : 0;
}

/* The guardian keys linked to a student, gathered before the links go. */
struct linked_keys {
	uint8_t (*pk)[BATON_PK_BYTES];
	size_t n, cap;
};

static int linked_row(const store_guardian *g, void *arg)
{
	struct linked_keys *l = arg;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4;
		void *p = realloc(l->pk, cap * sizeof(*l->pk));
		if (p == NULL)
			return BATON_ENOMEM;
		l->pk = p;
		l->cap = cap;
	}
	memcpy(l->pk[l->n++], g->pk, BATON_PK_BYTES);
	return 0;
}

static int any_link(const char *student, const store_guardian *g, void *arg)
{
	(void)student, (void)g, (void)arg;
	return 1;
}

/* The address on file of each key no student links to any more: the family's, not the school's. */
static int drop_orphan_emails(store_txn *t, const struct linked_keys *l, size_t *count)
{
	char addr[STORE_EMAIL_MAX + 1];
	int r = 0;
	for (size_t i = 0; r == 0 && i < l->n; i++) {
		r = store_guardian_each_student(t, l->pk[i], any_link, NULL);
		if (r == 1) {
			r = 0;
			continue;
		}
		if (r != 0)
			break;
		r = store_email_get(t, l->pk[i], addr);
		if (r == BATON_ENOTFOUND) {
			r = 0;
			continue;
		}
		if (r == 0 && (r = store_email_put(t, l->pk[i], "")) == 0)
			(*count)++;
	}
	sodium_memzero(addr, sizeof(addr));
	return r;
}

static int request_row(const store_request *e, void *arg)
{
	struct value_match *m = arg;
	return strcmp(e->student, m->id) == 0 ? keys_add(&m->ks, e->id, BATON_ID_BYTES) : 0;
}

struct outbox_match {
	const char *id;
	store_outbox *e;
	size_t n, cap;
};

/* The entries that carry this child (a request names another school's student: not ours). */
static int outbox_row(const store_outbox *e, void *arg)
{
	struct outbox_match *m = arg;
	if (e->kind == OUT_REQUEST || strcmp(e->student, m->id) != 0)
		return 0;
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		store_outbox *ne = realloc(m->e, cap * sizeof(*ne));
		if (ne == NULL)
			return BATON_ENOMEM;
		m->e = ne;
		m->cap = cap;
	}
	m->e[m->n++] = *e;
	return 0;
}

static int add_file(store_erased *out, const char *file)
{
	if (out->nfiles == out->capfiles) {
		size_t cap = out->capfiles ? out->capfiles * 2 : 4;
		char(*nf)[256] = realloc(out->files, cap * sizeof(*nf));
		if (nf == NULL)
			return BATON_ENOMEM;
		out->files = nf;
		out->capfiles = cap;
	}
	snprintf(out->files[out->nfiles++], 256, "%s", file);
	return 0;
}

/* Queued packets of the child are withdrawn; the packets kept in the store go. */
static int erase_outbox(store_txn *t, const char *id, store_erased *out)
{
	struct outbox_match m = {id, NULL, 0, 0};
	int r = store_outbox_each(t, outbox_row, &m);
	for (size_t i = 0; r == 0 && i < m.n; i++) {
		store_outbox *e = &m.e[i];
		if ((r = tbl_drop(t, &t_packets, e->packet, BATON_ID_BYTES)) != 0)
			break;
		if (e->file[0] && (r = add_file(out, e->file)) != 0)
			break;
		if (e->state == OUT_QUEUED) {
			e->state = OUT_EXPIRED;
			snprintf(e->last_error, sizeof(e->last_error), "%s",
			         "withdrawn: the student's record was erased");
			e->file[0] = 0;
			if ((r = store_outbox_put(t, e)) != 0)
				break;
		}
		out->outbox++;
	}
	free(m.e);
	return r;
}

/* Is hash named (as hex) by any record version or held record left in the store? */
struct hex_find {
	char hex[65];
	int found;
};

static int hex_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct hex_find *f = arg;
	(void)k;
	if (v->mv_size >= 64 && memmem(v->mv_data, v->mv_size, f->hex, 64) != NULL) {
		f->found = 1;
		return 1;
	}
	return 0;
}

static int drop_blobs(store_txn *t, const uint8_t (*hashes)[32], size_t n, store_erased *out)
{
	int r;
	for (size_t i = 0; i < n; i++) {
		struct hex_find f = {{0}, 0};
		sodium_bin2hex(f.hex, sizeof(f.hex), hashes[i], 32);
		if ((r = tbl_each(t, &t_records, NULL, 0, hex_row, &f)) < 0 ||
		    (!f.found && (r = tbl_each(t, &t_held, NULL, 0, hex_row, &f)) < 0))
			return r;
		if (f.found)
			continue;
		MDB_val v;
		if ((r = tbl_get(t, &t_blobs, hashes[i], 32, &v)) == BATON_ENOTFOUND)
			continue;
		if (r != 0 || (r = tbl_del(t, &t_blobs, hashes[i], 32)) != 0)
			return r;
		out->blobs++;
	}
	return 0;
}

/* Held records: of the student (id) or the one numbered held_id. */
static int drop_held(store_txn *t, const char *id, uint64_t held_id, store_erased *out)
{
	struct held_match m = {id, held_id, {0}};
	int r = store_held_each(t, held_row, &m);
	/* The statements of disagreement each held record came with. */
	for (size_t i = 0; r == 0 && i < m.ks.n; i++) {
		char key[32];
		store_statement_held_key(get_be64(m.ks.k[i]), key);
		r = drop_prefixed(t, &t_statements, key, &out->statements);
	}
	if (r == 0)
		r = keys_del(t, &t_held, &m.ks, &out->held);
	keys_free(&m.ks);
	return r;
}

/* Rows of tb its each-function (through value_match) picked. */
static int drop_matched(store_txn *t, const struct table *tb, struct value_match *m, size_t *count)
{
	int r = keys_del(t, tb, &m->ks, count);
	return r;
}

int store_erase_student(store_txn *t, const char *id, const uint8_t (*hashes)[32], size_t n,
                        store_erased *out)
{
	struct value_match inv = {id, {0}}, con = {id, {0}}, req = {id, {0}}, mq = {id, {0}};
	struct linked_keys lk = {0};
	store_student s;
	int r;

	if (strlen(id) == 0 || strlen(id) > BATON_STUDENT_MAX)
		return bti_diag_err(BATON_EINVAL, "store: bad student id");
	r = store_student_get(t, id, &s);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0) {
		if ((r = tbl_del(t, &t_students, id, strlen(id))) != 0)
			return r;
		out->student = 1;
		if (s.state_id[0] &&
		    (r = tbl_drop(t, &t_state_ids, s.state_id, strlen(s.state_id))) != 0)
			return r;
	}
	if ((r = store_guardian_each(t, id, linked_row, &lk)) != 0) {
		free(lk.pk);
		return r;
	}
	if ((r = drop_prefixed(t, &t_records, id, &out->versions)) != 0 ||
	    (r = drop_by_value(t, &t_state_ids, id, NULL)) != 0 ||
	    (r = drop_prefixed(t, &t_guardians, id, &out->guardians)) != 0 ||
	    (r = drop_prefixed(t, &t_statements, id, &out->statements)) != 0 ||
	    (r = drop_held(t, id, 0, out)) != 0 ||
	    (r = drop_by_value(t, &t_origins, id, &out->origins)) != 0 ||
	    (r = drop_orphan_emails(t, &lk, &out->emails)) != 0) {
		free(lk.pk);
		return r;
	}
	free(lk.pk);
	if ((r = store_invite_each(t, invite_row, &inv)) == 0)
		r = drop_matched(t, &t_invites, &inv, &out->invites);
	if (r == 0 && (r = store_consent_each(t, consent_row, &con)) == 0 &&
	    (r = drop_matched(t, &t_consents, &con, &out->consents)) == 0) {
		/* Each consent's revocations, under its id. */
		for (size_t i = 0; r == 0 && i < con.ks.n; i++) {
			struct keys ks = {0};
			r = tbl_each(t, &t_revocations, con.ks.k[i], BATON_ID_BYTES, key_row, &ks);
			if (r == 0)
				r = keys_del(t, &t_revocations, &ks, &out->revocations);
			keys_free(&ks);
		}
	}
	if (r == 0 && (r = store_request_each(t, request_row, &req)) == 0)
		r = drop_matched(t, &t_requests, &req, &out->requests);
	if (r == 0 && (r = store_mail_each(t, mail_row, &mq)) == 0)
		r = drop_matched(t, &t_mailq, &mq, &out->notices);
	keys_free(&mq.ks);
	keys_free(&inv.ks);
	keys_free(&con.ks);
	keys_free(&req.ks);
	if (r != 0 || (r = erase_outbox(t, id, out)) != 0 ||
	    (r = drop_blobs(t, hashes, n, out)) != 0)
		return r;
	return store_students_touch(t);
}

int store_erase_held(store_txn *t, uint64_t held_id, const uint8_t (*hashes)[32], size_t n,
                     store_erased *out)
{
	int r;
	if ((r = drop_held(t, NULL, held_id, out)) != 0)
		return r;
	if (out->held == 0)
		return bti_diag_err(BATON_ENOTFOUND, "no held record %llu",
		                    (unsigned long long)held_id);
	if ((r = drop_blobs(t, hashes, n, out)) != 0)
		return r;
	return store_students_touch(t);
}

void store_erased_clear(store_erased *e)
{
	if (e == NULL)
		return;
	free(e->files);
	memset(e, 0, sizeof(*e));
}

/* ---- compaction ---- */

int store_wipe_fd(int fd, const char *path)
{
	struct stat st;
	uint8_t *zero;
	int r = 0;
	if (fstat(fd, &st) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	if ((zero = calloc(1, WIPE_CHUNK)) == NULL)
		return BATON_ENOMEM;
	for (off_t at = 0; at < st.st_size;) {
		size_t n =
		    (size_t)(st.st_size - at) < WIPE_CHUNK ? (size_t)(st.st_size - at) : WIPE_CHUNK;
		ssize_t w = pwrite(fd, zero, n, at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r = bti_diag_err(BATON_EIO, "%s: wipe: %s", path, strerror(errno));
			break;
		}
		at += w;
	}
	free(zero);
	if (r == 0 && fsync(fd) != 0)
		r = bti_diag_err(BATON_EIO, "%s: fsync: %s", path, strerror(errno));
	return r;
}

static int sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
	if (fd < 0 || fsync(fd) != 0)
		r = bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

int store_compact_owe(const char *dir)
{
	char db[4096], path[4200];
	int fd, r;
	if (snprintf(db, sizeof(db), "%s/db", dir) >= (int)sizeof(db))
		return bti_diag_err(BATON_EINVAL, "%s: path too long", dir);
	snprintf(path, sizeof(path), "%s/%s", db, STORE_COMPACT_OWED);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	r = fsync(fd) == 0 ? 0 : bti_diag_err(BATON_EIO, "%s: fsync: %s", path, strerror(errno));
	close(fd);
	return r ? r : sync_dir(db);
}

int store_compact_owed(const char *dir)
{
	char path[4200];
	struct stat st;
	snprintf(path, sizeof(path), "%s/db/%s", dir, STORE_COMPACT_OWED);
	return lstat(path, &st) == 0;
}

int store_compact(store *s, const char *dir)
{
	char db[4096], data[4200], tmp[4200];
	int fd = -1, oldfd = -1, lockfd, rc, r;

	if (s->lockfd < 0 || !s->alone) {
		store_close(s);
		return bti_diag_err(BATON_EINTERNAL, "store: compacting a store not opened alone");
	}
	if (snprintf(db, sizeof(db), "%s/db", dir) >= (int)sizeof(db)) {
		store_close(s);
		return bti_diag_err(BATON_EINVAL, "%s: path too long", dir);
	}
	snprintf(data, sizeof(data), "%s/data.mdb", db);
	snprintf(tmp, sizeof(tmp), "%s/data.mdb.compact", db);
	/* The lock outlives the environment: nobody opens the store until the new file is in. */
	lockfd = s->lockfd;
	s->lockfd = -1;
	unlink(tmp);
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		r = bti_diag_err(BATON_EIO, "%s: %s", tmp, strerror(errno));
		store_close(s);
		goto out;
	}
	rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	if (rc != 0) {
		r = store_lmdb_err(rc, "compacting copy");
		store_close(s);
		goto fail;
	}
	if (fsync(fd) != 0) {
		r = bti_diag_err(BATON_EIO, "%s: fsync: %s", tmp, strerror(errno));
		store_close(s);
		goto fail;
	}
	oldfd = open(data, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	/* No map of the old file is left in this process once the environment is closed. */
	store_close(s);
	if (oldfd < 0) {
		r = bti_diag_err(BATON_EIO, "%s: %s", data, strerror(errno));
		goto fail;
	}
	if (rename(tmp, data) != 0) {
		r = bti_diag_err(BATON_EIO, "%s: %s", data, strerror(errno));
		goto fail;
	}
	/* The compacted store is in place; only then are the old pages overwritten. */
	if ((r = sync_dir(db)) != 0)
		goto out;
	if ((r = store_wipe_fd(oldfd, data)) == 0) {
		char owed[4200];
		snprintf(owed, sizeof(owed), "%s/%s", db, STORE_COMPACT_OWED);
		if (unlink(owed) != 0 && errno != ENOENT)
			r = bti_diag_err(BATON_EIO, "%s: %s", owed, strerror(errno));
	}
	goto out;
fail:
	unlink(tmp);
out:
	if (fd >= 0)
		close(fd);
	if (oldfd >= 0)
		close(oldfd);
	close(lockfd);
	return r;
}

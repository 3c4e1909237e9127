/*
 * Erasure and retention (erase.h): one rule for the command line, the
 * retention run and a restored backup.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "bti.h"
#include "erase.h"

#define RETENTION_KEY "retention-days"
#define DAY           86400u

int erase_reason_check(const char *reason)
{
	size_t n = reason ? strlen(reason) : 0;
	if (n == 0)
		return bti_diag_err(BATON_EVALUE, "--reason: empty; say why the record is erased "
		                                  "(no names or other personal data)");
	if (n > ERASE_REASON_MAX)
		return bti_diag_err(BATON_EVALUE, "--reason: %zu bytes, at most %d", n,
		                    ERASE_REASON_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)reason[i] < 0x20 || reason[i] == 0x7f)
			return bti_diag_err(BATON_EVALUE,
			                    "--reason: a control character at byte %zu", i + 1);
	return 0;
}

/* ---- the attachments a record names ---- */

struct hashes {
	uint8_t (*h)[32];
	size_t n, cap;
};

static int hashes_of(struct hashes *hs, const char *json, size_t len)
{
	json_error_t err;
	json_t *rec = json_loadb(json, len, 0, &err), *a;
	size_t i, bl;
	int r = 0;
	if (rec == NULL)
		return bti_diag_err(BATON_EIO, "a stored record does not parse");
	json_array_foreach(json_object_get(rec, "attachments"), i, a)
	{
		const char *hex = json_string_value(json_object_get(a, "hash"));
		uint8_t h[32];
		if (hex == NULL || sodium_hex2bin(h, 32, hex, strlen(hex), NULL, &bl, NULL) != 0 ||
		    bl != 32)
			continue;
		if (hs->n == hs->cap) {
			size_t cap = hs->cap ? hs->cap * 2 : 8;
			uint8_t(*nh)[32] = realloc(hs->h, cap * sizeof(*nh));
			if (nh == NULL) {
				r = BATON_ENOMEM;
				break;
			}
			hs->h = nh;
			hs->cap = cap;
		}
		memcpy(hs->h[hs->n++], h, 32);
	}
	json_decref(rec);
	return r;
}

struct held_scan {
	const char *student; /* held records against this student, or */
	uint64_t id;         /* this one */
	struct hashes *hs;
	char first_student[BATON_STUDENT_MAX + 1];
	char from[BATON_CODE_MAX + 1];
	size_t n;
};

static int held_hashes(const store_held *h, void *arg)
{
	struct held_scan *c = arg;
	if (c->student ? strcmp(h->student, c->student) != 0 : h->id != c->id)
		return 0;
	if (c->n++ == 0) {
		snprintf(c->first_student, sizeof(c->first_student), "%s", h->student);
		snprintf(c->from, sizeof(c->from), "%s", h->from);
	}
	return hashes_of(c->hs, h->json, h->len);
}

/* ---- received, never enrolled ---- */

struct origin {
	int enrolled, received;
	uint64_t first;
	char from[BATON_CODE_MAX + 1];
};

static int origin_row(const store_audit *e, void *arg)
{
	struct origin *o = arg;
	/* Before an erasure the log speaks of the child erased, not of one given its id since. */
	if (strcmp(e->action, ERASE_ACTION) == 0)
		memset(o, 0, sizeof(*o));
	else if (strcmp(e->action, "import") == 0)
		o->enrolled = 1;
	else if (strcmp(e->action, "received") == 0 && !o->received) {
		o->received = 1;
		o->first = e->time;
		snprintf(o->from, sizeof(o->from), "%s", e->peer);
	}
	return 0;
}

static int origin_of(store_txn *t, const char *id, struct origin *o)
{
	memset(o, 0, sizeof(*o));
	return store_audit_each(t, id, origin_row, o);
}

/* ---- erasing ---- */

struct run_ctx {
	const char *id;
	uint64_t held;
	const char *why, *reason;
	int received, dry;
	struct erase_plan *p;
};

#define DRY_RUN 1 /* positive: store_write rolls back and returns it */

static void tombstone_detail(char *d, size_t cap, const struct run_ctx *c)
{
	const store_erased *e = &c->p->e;
	size_t n;
	if (c->held)
		n = (size_t)snprintf(d, cap, "%s: %s; held record %llu", c->why, c->reason,
		                     (unsigned long long)c->held);
	else
		n = (size_t)snprintf(d, cap, "%s: %s; %zu versions", c->why, c->reason,
		                     e->versions);
	if (n < cap)
		snprintf(d + n, cap - n, ", %zu attachments, %zu guardian links removed", e->blobs,
		         e->guardians);
}

static int run_fn(store_txn *t, void *arg)
{
	struct run_ctx *c = arg;
	struct erase_plan *p = c->p;
	struct hashes hs = {0};
	struct held_scan hc = {c->held ? NULL : c->id, c->held, &hs, {0}, {0}, 0};
	store_student s;
	store_audit a;
	struct origin o;
	int r, on_file;

	/* A retry after the map grew starts again from nothing. */
	store_erased_clear(&p->e);
	p->received_only = 0;
	if ((r = store_held_each(t, held_hashes, &hc)) != 0)
		goto out;
	if (c->held) {
		if (hc.n == 0) {
			r = bti_diag_err(BATON_ENOTFOUND,
			                 "no held record %llu (see 'baton review')",
			                 (unsigned long long)c->held);
			goto out;
		}
		snprintf(p->student, sizeof(p->student), "%s", hc.first_student);
		p->held = c->held;
		r = store_erase_held(t, c->held, hs.h, hs.n, &p->e);
	} else {
		r = store_student_get(t, c->id, &s);
		if (r != 0 && r != BATON_ENOTFOUND)
			goto out;
		on_file = r == 0;
		if (!on_file && hc.n == 0) {
			r = bti_diag_err(BATON_ENOTFOUND, "no student %s on file", c->id);
			goto out;
		}
		snprintf(p->student, sizeof(p->student), "%s", c->id);
		if ((r = origin_of(t, c->id, &o)) != 0)
			goto out;
		p->received_only = o.received && !o.enrolled;
		if (c->received && !p->received_only) {
			r = bti_diag_err(BATON_EVALUE,
			                 o.enrolled
			                     ? "student %s was enrolled here (imported by this "
			                       "school): not a received record; erase it "
			                       "without --received"
			                     : "student %s was not received from another school: "
			                       "erase it without --received",
			                 c->id);
			goto out;
		}
		for (uint32_t v = 1; on_file && v <= s.version; v++) {
			char *json = NULL;
			size_t len = 0;
			r = store_record_get(t, c->id, v, &json, &len);
			if (r == BATON_ENOTFOUND)
				continue;
			if (r == 0) {
				r = hashes_of(&hs, json, len);
				sodium_memzero(json, len);
			}
			free(json);
			if (r != 0)
				goto out;
		}
		r = store_erase_student(t, c->id, hs.h, hs.n, &p->e);
	}
	if (r != 0)
		goto out;
	memset(&a, 0, sizeof(a));
	snprintf(a.action, sizeof(a.action), "%s", c->held ? ERASE_HELD_ACTION : ERASE_ACTION);
	snprintf(a.student, sizeof(a.student), "%s", p->student);
	tombstone_detail(a.detail, sizeof(a.detail), c);
	if ((r = store_audit_append(t, &a)) == 0 && c->dry)
		r = DRY_RUN;
out:
	free(hs.h);
	return r;
}

int erase_run(store *st, const char *id, uint64_t held, const char *why, const char *reason,
              int received, int dry, struct erase_plan *p)
{
	struct run_ctx c = {id, held, why, reason, received, dry, p};
	int r;
	memset(p, 0, sizeof(*p));
	if ((r = erase_reason_check(reason)) != 0)
		return r;
	if (!held && (id == NULL || id[0] == 0 || strlen(id) > BATON_STUDENT_MAX))
		return bti_diag_err(BATON_EVALUE, "student id: empty or longer than %d bytes",
		                    BATON_STUDENT_MAX);
	r = store_write(st, run_fn, &c);
	return r == DRY_RUN ? 0 : r;
}

/* ---- files beside the store ---- */

static int wipe_unlink(const char *path)
{
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC), r = 0;
	if (fd < 0)
		return errno == ENOENT ? 0
		                       : bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	r = store_wipe_fd(fd, path);
	close(fd);
	if (r == 0 && unlink(path) != 0)
		r = bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	return r;
}

/* What console uploads a killed serve left in dir (.upload-*): a record outside the store. */
static int erase_uploads(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	char path[PATH_MAX];
	int r = 0;
	if (d == NULL)
		return bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".upload-", 8) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
			r = bti_diag_err(BATON_EIO, "%s: path too long", dir);
		else if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
			r = wipe_unlink(path);
		else if (unlink(path) != 0 && errno != ENOENT)
			r = bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	}
	closedir(d);
	return r;
}

int erase_files(const char *dir, const struct erase_plan *p)
{
	char box[PATH_MAX], real[PATH_MAX], parent[PATH_MAX];
	int r;
	if ((r = erase_uploads(dir)) != 0)
		return r;
	snprintf(parent, sizeof(parent), "%s/outbox", dir);
	if (realpath(parent, box) == NULL)
		return 0; /* no outbox directory: no packet files */
	for (size_t i = 0; i < p->e.nfiles; i++) {
		if (realpath(p->e.files[i], real) == NULL)
			continue; /* gone already */
		char *slash = strrchr(real, '/');
		if (slash == NULL || (size_t)(slash - real) != strlen(box) ||
		    strncmp(real, box, strlen(box)) != 0)
			continue; /* a file written with --out is the registrar's, not the node's */
		if ((r = wipe_unlink(real)) != 0)
			return r;
	}
	return 0;
}

/* Overwrites the files under path and removes them, and path. */
static int remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	char sub[PATH_MAX];
	int r = 0;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0
		                       : bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? wipe_unlink(path)
		       : unlink(path) == 0
		           ? 0
		           : bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	if ((d = opendir(path)) == NULL)
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub))
			r = bti_diag_err(BATON_EIO, "%s: path too long", path);
		else
			r = remove_tree(sub);
	}
	closedir(d);
	if (r == 0 && rmdir(path) != 0)
		r = bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	return r;
}

int erase_backups(const char *dir, int remove, int (*cb)(const char *path, void *ctx), void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];
	int r = 0;
	if (d == NULL)
		return bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ERASE_BACKUP_PREFIX, strlen(ERASE_BACKUP_PREFIX)) != 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) {
			r = bti_diag_err(BATON_EIO, "%s: path too long", dir);
			break;
		}
		if (remove && (r = remove_tree(path)) != 0)
			break;
		if (cb)
			r = cb(path, ctx);
	}
	closedir(d);
	return r;
}

/* ---- retention ---- */

static int retention_read(store_txn *t, uint32_t *days)
{
	uint8_t *v = NULL;
	size_t len = 0;
	int r = store_meta_get(t, RETENTION_KEY, &v, &len);
	*days = ERASE_DAYS_DEFAULT;
	if (r == 0 && len == 4)
		*days = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
	else if (r == 0)
		r = bti_diag_err(BATON_EIO, "store: damaged retention setting");
	free(v);
	return r == BATON_ENOTFOUND ? 0 : r;
}

static int retention_get_fn(store_txn *t, void *arg)
{
	return retention_read(t, arg);
}

int erase_retention_get(store *st, uint32_t *days)
{
	return store_read(st, retention_get_fn, days);
}

static int retention_set_fn(store_txn *t, void *arg)
{
	uint32_t days = *(uint32_t *)arg;
	uint8_t v[4] = {(uint8_t)(days >> 24), (uint8_t)(days >> 16), (uint8_t)(days >> 8),
	                (uint8_t)days};
	store_audit e;
	int r = store_meta_put(t, RETENTION_KEY, v, 4);
	if (r != 0)
		return r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "policy");
	snprintf(e.detail, sizeof(e.detail),
	         "retention %u days: received records not enrolled are erased after %u days",
	         (unsigned)days, (unsigned)days);
	return store_audit_append(t, &e);
}

int erase_retention_set(store *st, uint32_t days)
{
	if (days < 1 || days > ERASE_DAYS_MAX)
		return bti_diag_err(BATON_EVALUE, "retention: %u days; give 1 to %d",
		                    (unsigned)days, ERASE_DAYS_MAX);
	return store_write(st, retention_set_fn, &days);
}

struct due_ctx {
	uint64_t before;
	int (*cb)(const struct erase_due *d, void *ctx);
	void *ctx;
	store_txn *t;
};

static int due_student(const store_student *s, void *arg)
{
	struct due_ctx *c = arg;
	struct origin o;
	struct erase_due d;
	int r;
	if ((r = origin_of(c->t, s->id, &o)) != 0)
		return r;
	if (!o.received || o.enrolled || o.first >= c->before)
		return 0;
	memset(&d, 0, sizeof(d));
	snprintf(d.student, sizeof(d.student), "%s", s->id);
	d.received = o.first;
	snprintf(d.from, sizeof(d.from), "%s", o.from);
	return c->cb(&d, c->ctx);
}

static int due_held(const store_held *h, void *arg)
{
	struct due_ctx *c = arg;
	struct erase_due d;
	if (h->from[0] == 0 || h->time >= c->before)
		return 0;
	memset(&d, 0, sizeof(d));
	snprintf(d.student, sizeof(d.student), "%s", h->student);
	d.held = h->id;
	d.received = h->time;
	snprintf(d.from, sizeof(d.from), "%s", h->from);
	return c->cb(&d, c->ctx);
}

static int due_fn(store_txn *t, void *arg)
{
	struct due_ctx *c = arg;
	int r;
	c->t = t;
	if ((r = store_student_each(t, due_student, c)) != 0)
		return r;
	return store_held_each(t, due_held, c);
}

int erase_due_each(store *st, uint64_t now, uint32_t days,
                   int (*cb)(const struct erase_due *d, void *ctx), void *ctx)
{
	uint64_t span = (uint64_t)days * DAY;
	struct due_ctx c = {now > span ? now - span : 0, cb, ctx, NULL};
	return store_read_at(st, now, due_fn, &c);
}

struct tomb_ctx {
	int (*cb)(const store_audit *e, void *ctx);
	void *ctx;
};

static int tomb_row(const store_audit *e, void *arg)
{
	struct tomb_ctx *c = arg;
	return strcmp(e->action, ERASE_ACTION) == 0 ? c->cb(e, c->ctx) : 0;
}

static int tomb_fn(store_txn *t, void *arg)
{
	return store_audit_each(t, NULL, tomb_row, arg);
}

int erase_tombstones(store *st, int (*cb)(const store_audit *e, void *ctx), void *ctx)
{
	struct tomb_ctx c = {cb, ctx};
	return store_read(st, tomb_fn, &c);
}

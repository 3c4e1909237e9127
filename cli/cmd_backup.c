/*
 * baton backup, baton restore and baton upgrade: a copy of a node that can
 * be taken while it serves, checked file by file before it is put back, and
 * taken by itself before an older store is upgraded.
 *
 * A backup directory holds db/data.mdb (a compacted copy of one committed
 * state of the store: attachments live in it), school.key and the keys a
 * rekey replaced (school.key.old-TIME, as encrypted as they were), the
 * outbox's packet files, school.card, and MANIFEST:
 *
 *   baton-backup 1
 *   baton VERSION
 *   time SECONDS
 *   school CODE
 *   fingerprint FINGERPRINT
 *   schema N
 *   file NAME SIZE BLAKE2B-256-HEX      (one line per file)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bti.h"
#include "cli.h"

#define MANIFEST_MAX  (1u << 20)
#define BK_NAME_MAX   128
#define BK_COPY_CHUNK (1u << 16)

struct bk_file {
	char name[BK_NAME_MAX]; /* relative to the backup directory */
	uint64_t size;
	uint8_t hash[crypto_generichash_BYTES];
};

struct bk {
	char version[128];
	uint64_t time;
	char code[BATON_CODE_MAX + 1];
	char fpr[BATON_FINGERPRINT_LEN + 1];
	uint32_t schema;
	struct bk_file *f;
	size_t n, cap;
};

static void bk_free(struct bk *b)
{
	free(b->f);
	memset(b, 0, sizeof(*b));
}

static int bk_add(struct bk *b, const char *name, struct bk_file **out)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 16;
		struct bk_file *f = realloc(b->f, cap * sizeof(*f));
		if (f == NULL)
			return BATON_ENOMEM;
		b->f = f;
		b->cap = cap;
	}
	*out = &b->f[b->n++];
	memset(*out, 0, sizeof(**out));
	snprintf((*out)->name, sizeof((*out)->name), "%s", name);
	return 0;
}

static int sys_err(const char *path)
{
	return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
}

/* Puts what before the diagnostic of err (copied first: it is the buffer written). */
static int diag_wrap(int err, const char *what)
{
	char why[512];
	snprintf(why, sizeof(why), "%s", baton_diag());
	return bti_diag_err(err, "%s: %s", what, why);
}

static int fsync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return sys_err(path);
	int r = fsync(fd) == 0 ? 0 : sys_err(path);
	close(fd);
	return r;
}

/* Reads fd to its end into the hash (and to out, when out >= 0). */
static int pump(int fd, int out, const char *src, const char *dst, struct bk_file *f)
{
	crypto_generichash_state h;
	uint8_t *buf = malloc(BK_COPY_CHUNK);
	ssize_t n;
	int r = 0;

	if (buf == NULL)
		return BATON_ENOMEM;
	crypto_generichash_init(&h, NULL, 0, sizeof(f->hash));
	f->size = 0;
	while ((n = read(fd, buf, BK_COPY_CHUNK)) > 0) {
		crypto_generichash_update(&h, buf, (size_t)n);
		f->size += (uint64_t)n;
		for (ssize_t done = 0, w; out >= 0 && done < n; done += w)
			if ((w = write(out, buf + done, (size_t)(n - done))) < 0) {
				r = sys_err(dst);
				goto out;
			}
	}
	if (n < 0)
		r = sys_err(src);
	else if (out >= 0 && fsync(out) != 0)
		r = sys_err(dst);
	crypto_generichash_final(&h, f->hash, sizeof(f->hash));
out:
	free(buf);
	return r;
}

/* Opens a regular file, never through a link. */
static int open_regular(const char *path, int *fd)
{
	struct stat st;
	if ((*fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? bti_diag_err(BATON_ENOTFOUND, "%s: missing", path)
		                       : sys_err(path);
	if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(*fd);
		*fd = -1;
		return bti_diag_err(BATON_EIO, "%s: not a regular file", path);
	}
	return 0;
}

/* Hashes path into f (f->size and f->hash). */
static int hash_file(const char *path, struct bk_file *f)
{
	int fd, r;
	if ((r = open_regular(path, &fd)) != 0)
		return r;
	r = pump(fd, -1, path, NULL, f);
	close(fd);
	return r;
}

/* Copies src to the new file dst (mode 0600, fsync'd), hashing what it copied into f. */
static int copy_file(const char *src, const char *dst, struct bk_file *f)
{
	int in, out, r;
	if ((r = open_regular(src, &in)) != 0)
		return r;
	if ((out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		r = sys_err(dst);
		close(in);
		return r;
	}
	if (fchmod(out, 0600) != 0)
		r = sys_err(dst);
	else
		r = pump(in, out, src, dst, f);
	close(in);
	if (close(out) != 0 && r == 0)
		r = sys_err(dst);
	return r;
}

/* Makes dir (0700) unless it is an empty directory already; *made says which. */
static int empty_dir(const char *dir, int *made)
{
	DIR *d;
	struct dirent *de;
	*made = 0;
	if (mkdir(dir, 0700) == 0) {
		*made = 1;
		return chmod(dir, 0700) == 0 ? 0 : sys_err(dir);
	}
	if (errno != EEXIST || (d = opendir(dir)) == NULL)
		return errno == EEXIST || errno == ENOTDIR
		           ? bti_diag_err(BATON_EEXIST, "%s: exists and is not a directory", dir)
		           : sys_err(dir);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			closedir(d);
			return bti_diag_err(
			    BATON_EEXIST, "%s: exists and is not empty; not writing into it", dir);
		}
	closedir(d);
	return chmod(dir, 0700) == 0 ? 0 : sys_err(dir);
}

/* Names a backup may hold: nothing else is copied, or put back by restore. */
static int is_key_name(const char *n)
{
	if (strcmp(n, "school.key") == 0)
		return 1;
	return strncmp(n, "school.key.old-", 15) == 0 && n[15] &&
	       strspn(n + 15, "0123456789") == strlen(n + 15);
}

static int is_outbox_name(const char *n)
{
	size_t len = strlen(n);
	return len > 6 && len < 100 && n[0] != '.' && strcmp(n + len - 6, ".baton") == 0 &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
	           len;
}

static int is_backup_name(const char *n)
{
	return strcmp(n, "db/data.mdb") == 0 || strcmp(n, "school.card") == 0 || is_key_name(n) ||
	       (strncmp(n, "outbox/", 7) == 0 && is_outbox_name(n + 7));
}

/* ---- taking a backup ---- */

/* What a backup or a restore wrote into dir, to remove when it fails. */
struct written {
	const char *dir;
	int made_dir, made_db, made_outbox;
	size_t copied; /* files of the manifest written, at most */
};

static void undo_written(const struct written *o, const struct bk *b)
{
	static const char *const also[] = {"MANIFEST", "db/lock.mdb"};
	char p[4300];
	for (size_t i = 0; i < o->copied && i < b->n; i++) {
		snprintf(p, sizeof(p), "%s/%s", o->dir, b->f[i].name);
		unlink(p);
	}
	for (size_t i = 0; i < sizeof(also) / sizeof(also[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", o->dir, also[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/db", o->dir);
	if (o->made_db)
		rmdir(p);
	snprintf(p, sizeof(p), "%s/outbox", o->dir);
	if (o->made_outbox)
		rmdir(p);
	if (o->made_dir)
		rmdir(o->dir);
}

static int bk_copy(struct bk *b, const char *node, const char *out, const char *name)
{
	char src[4300], dst[4300];
	struct bk_file *f;
	int r;
	if ((r = bk_add(b, name, &f)) != 0)
		return r;
	snprintf(src, sizeof(src), "%s/%s", node, name);
	snprintf(dst, sizeof(dst), "%s/%s", out, name);
	return copy_file(src, dst, f);
}

/* The keys rekey replaced, kept beside school.key. */
static int bk_keys(struct bk *b, const char *node, const char *out)
{
	DIR *d = opendir(node);
	struct dirent *de;
	int r = 0;
	if (d == NULL)
		return sys_err(node);
	while (r == 0 && (de = readdir(d)) != NULL)
		if (strcmp(de->d_name, "school.key") != 0 && is_key_name(de->d_name))
			r = bk_copy(b, node, out, de->d_name);
	closedir(d);
	return r;
}

/* Packets too large for the store wait in outbox/ as files its entries name. */
static int bk_outbox(struct bk *b, const char *node, struct written *o)
{
	char src[4300], dst[4300], name[300];
	DIR *d;
	struct dirent *de;
	int r = 0;
	snprintf(src, sizeof(src), "%s/outbox", node);
	if ((d = opendir(src)) == NULL)
		return errno == ENOENT ? 0 : sys_err(src);
	snprintf(dst, sizeof(dst), "%s/outbox", o->dir);
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (!is_outbox_name(de->d_name))
			continue;
		if (!o->made_outbox) {
			if (mkdir(dst, 0700) != 0) {
				r = sys_err(dst);
				break;
			}
			o->made_outbox = 1;
		}
		snprintf(name, sizeof(name), "outbox/%s", de->d_name);
		r = bk_copy(b, node, o->dir, name);
	}
	closedir(d);
	return r;
}

/* db/data.mdb: the store's copy; then what it says about itself. */
static int bk_store(struct bk *b, const char *node, struct written *o)
{
	char path[4300];
	struct bk_file *f;
	baton_card card;
	uint8_t *cb = NULL;
	size_t cn = 0;
	int fd, r;

	snprintf(path, sizeof(path), "%s/db", o->dir);
	if (mkdir(path, 0700) != 0)
		return sys_err(path);
	o->made_db = 1;
	if ((r = bk_add(b, "db/data.mdb", &f)) != 0)
		return r;
	snprintf(path, sizeof(path), "%s/db/data.mdb", o->dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return sys_err(path);
	r = store_copy(node, fd);
	close(fd);
	if (r != 0 || (r = hash_file(path, f)) != 0 ||
	    (r = store_file_info(path, &b->schema, &cb, &cn)) != 0)
		goto out;
	if ((r = baton_card_parse(cb, cn, &card)) != 0) {
		r = diag_wrap(r, "this node's card in the store");
		goto out;
	}
	snprintf(b->code, sizeof(b->code), "%s", card.code);
	baton_fingerprint(card.id_pk, b->fpr);
	if ((r = bk_add(b, "school.card", &f)) != 0)
		goto out;
	snprintf(path, sizeof(path), "%s/school.card", o->dir);
	if ((r = baton_file_create(path, cb, cn, 0600)) == 0)
		r = hash_file(path, f);
out:
	free(cb);
	return r;
}

static int bk_manifest(const struct bk *b, const char *out)
{
	char path[4300], hex[2 * crypto_generichash_BYTES + 1];
	size_t cap = 512 + b->n * (BK_NAME_MAX + 96), len;
	char *m = malloc(cap);
	int r;
	if (m == NULL)
		return BATON_ENOMEM;
	len = (size_t)snprintf(m, cap,
	                       "baton-backup 1\nbaton %s\ntime %llu\nschool %s\nfingerprint %s\n"
	                       "schema %u\n",
	                       b->version, (unsigned long long)b->time, b->code, b->fpr,
	                       (unsigned)b->schema);
	for (size_t i = 0; i < b->n && len < cap; i++) {
		sodium_bin2hex(hex, sizeof(hex), b->f[i].hash, sizeof(b->f[i].hash));
		len += (size_t)snprintf(m + len, cap - len, "file %s %llu %s\n", b->f[i].name,
		                        (unsigned long long)b->f[i].size, hex);
	}
	snprintf(path, sizeof(path), "%s/MANIFEST", out);
	r = len < cap ? baton_file_create(path, (uint8_t *)m, len, 0600) : BATON_EINTERNAL;
	free(m);
	return r;
}

/* Everything written reaches the disk, the names in their directories too. */
static int bk_sync(const struct written *o)
{
	char p[4300], parent[4300];
	int r;
	snprintf(p, sizeof(p), "%s/db", o->dir);
	if ((r = fsync_path(p)) != 0)
		return r;
	snprintf(p, sizeof(p), "%s/outbox", o->dir);
	if (o->made_outbox && (r = fsync_path(p)) != 0)
		return r;
	if ((r = fsync_path(o->dir)) != 0)
		return r;
	snprintf(parent, sizeof(parent), "%s", o->dir);
	char *slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = 0;
	else if (slash)
		*slash = 0;
	else
		snprintf(parent, sizeof(parent), ".");
	return fsync_path(parent);
}

static int is_node(const char *node)
{
	char p[4300];
	struct stat st;
	snprintf(p, sizeof(p), "%s/school.key", node);
	if (lstat(p, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	snprintf(p, sizeof(p), "%s/db/data.mdb", node);
	return lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Writes a backup of node into out (new, or an empty directory); b says what it holds. */
static int backup_make(const char *node, const char *out, struct bk *b)
{
	struct written o = {out, 0, 0, 0, SIZE_MAX};
	int r;

	memset(b, 0, sizeof(*b));
	snprintf(b->version, sizeof(b->version), "%s", baton_version());
	b->time = cli_now();
	if (!is_node(node))
		return bti_diag_err(BATON_EIO,
		                    "%s: not a Baton node (no school.key and db/data.mdb)", node);
	if ((r = empty_dir(out, &o.made_dir)) != 0)
		return r;
	if ((r = bk_store(b, node, &o)) != 0 || (r = bk_copy(b, node, out, "school.key")) != 0 ||
	    (r = bk_keys(b, node, out)) != 0 || (r = bk_outbox(b, node, &o)) != 0 ||
	    (r = bk_manifest(b, out)) != 0 || (r = bk_sync(&o)) != 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", baton_diag());
		undo_written(&o, b);
		return bti_diag_err(r, "%s", why);
	}
	return 0;
}

static uint64_t bk_bytes(const struct bk *b)
{
	uint64_t n = 0;
	for (size_t i = 0; i < b->n; i++)
		n += b->f[i].size;
	return n;
}

int cmd_backup(int argc, char **argv)
{
	static const char usage[] =
	    "usage: baton backup OUT_DIR [--dir DIR]\n\n"
	    "Copies this node into OUT_DIR (new, or empty; never overwritten), also while\n"
	    "'baton serve' runs: one committed state of the store, compacted, the key files\n"
	    "as encrypted as they are, the card, queued packet files, and MANIFEST with\n"
	    "every file's size and BLAKE2b-256. 'baton restore OUT_DIR --dir NEW' puts it back.\n";
	struct cli_common com = {0};
	struct bk b;
	int rc = cli_common_only(argc, argv, &com, usage), r;

	if (rc >= 0)
		return rc;
	if (optind + 1 != argc) {
		fputs(usage, stderr);
		return cli_usage_error("backup: give one OUT_DIR");
	}
	if ((r = backup_make(cli_dir(&com), argv[optind], &b)) != 0) {
		bk_free(&b);
		return cli_fail("backup", r);
	}
	printf("Backed up %s (%s) from %s to %s\n", b.code, b.fpr, cli_dir(&com), argv[optind]);
	printf("  schema       %u\n  baton        %s\n", (unsigned)b.schema, b.version);
	printf("  files        %zu (%llu bytes), each hashed in %s/MANIFEST\n", b.n + 1,
	       (unsigned long long)bk_bytes(&b), argv[optind]);
	printf("The key files are copied encrypted as they were: keep the passphrase apart\n"
	       "from the backup.\n");
	bk_free(&b);
	return EXIT_OK;
}

/* ---- restoring ---- */

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (*s < '0' || *s > '9')
		return BATON_EVALUE;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end)
		return BATON_EVALUE;
	*v = x;
	return 0;
}

static int mf_file(struct bk *b, char *rest)
{
	char *name = strtok(rest, " "), *size = strtok(NULL, " "), *hex = strtok(NULL, " ");
	struct bk_file *f;
	size_t hl = 0;
	int r;
	if (!name || !size || !hex || strtok(NULL, " ") || !is_backup_name(name))
		return BATON_EVALUE;
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->f[i].name, name) == 0)
			return BATON_EVALUE;
	if ((r = bk_add(b, name, &f)) != 0)
		return r;
	if (parse_u64(size, &f->size) != 0 ||
	    sodium_hex2bin(f->hash, sizeof(f->hash), hex, strlen(hex), NULL, &hl, NULL) != 0 ||
	    hl != sizeof(f->hash) || strlen(hex) != 2 * hl)
		return BATON_EVALUE;
	return 0;
}

static int mf_line(struct bk *b, char *line, unsigned *seen)
{
	char *sp = strchr(line, ' ');
	uint64_t v;
	if (sp == NULL)
		return BATON_EVALUE;
	*sp++ = 0;
	if (strcmp(line, "file") == 0)
		return mf_file(b, sp);
	static const char *const keys[] = {"baton-backup", "baton",       "time",
	                                   "school",       "fingerprint", "schema"};
	for (unsigned i = 0; i < 6; i++) {
		if (strcmp(line, keys[i]) != 0)
			continue;
		if (*seen & (1u << i))
			return BATON_EVALUE;
		*seen |= 1u << i;
		if (i == 1 || i == 3 || i == 4) {
			char *dst = i == 1 ? b->version : i == 3 ? b->code : b->fpr;
			size_t cap = i == 1   ? sizeof(b->version)
			             : i == 3 ? sizeof(b->code)
			                      : sizeof(b->fpr);
			return strlen(sp) < cap ? (snprintf(dst, cap, "%s", sp), 0) : BATON_EVALUE;
		}
		if (parse_u64(sp, &v) != 0 || (i == 0 && v != 1) || (i == 5 && v > UINT32_MAX))
			return BATON_EVALUE;
		if (i == 2)
			b->time = v;
		if (i == 5)
			b->schema = (uint32_t)v;
		return 0;
	}
	return BATON_EVALUE;
}

static int has_file(const struct bk *b, const char *name)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->f[i].name, name) == 0)
			return 1;
	return 0;
}

static int mf_read(const char *dir, struct bk *b)
{
	char path[4300], *m = NULL, *line, *save = NULL;
	uint8_t *raw = NULL;
	size_t n = 0, no = 0;
	unsigned seen = 0;
	int r;

	memset(b, 0, sizeof(*b));
	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	if ((r = baton_file_read(path, MANIFEST_MAX, &raw, &n)) != 0)
		return r;
	if ((m = malloc(n + 1)) == NULL) {
		free(raw);
		return BATON_ENOMEM;
	}
	memcpy(m, raw, n);
	m[n] = 0;
	free(raw);
	r = strlen(m) == n ? 0 : BATON_EVALUE;
	for (line = strtok_r(m, "\n", &save); r == 0 && line; line = strtok_r(NULL, "\n", &save)) {
		no++;
		if ((r = mf_line(b, line, &seen)) == BATON_EVALUE)
			r = bti_diag_err(BATON_EVALUE, "%s: line %zu: not a manifest line", path,
			                 no);
	}
	if (r == 0 && (seen != 0x3f || !has_file(b, "db/data.mdb") || !has_file(b, "school.key") ||
	               !has_file(b, "school.card")))
		r = bti_diag_err(BATON_EMISSING, "%s: incomplete (a field or a file is missing)",
		                 path);
	free(m);
	return r;
}

/* Every file named is there, with its size and hash. */
static int bk_check(const char *dir, const struct bk *b)
{
	char path[4300], hex[2 * crypto_generichash_BYTES + 1];
	struct bk_file f;
	int r;
	for (size_t i = 0; i < b->n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, b->f[i].name);
		if ((r = hash_file(path, &f)) != 0)
			return r == BATON_ENOTFOUND
			           ? bti_diag_err(BATON_EHASH, "%s: missing (MANIFEST names it)",
			                          path)
			           : r;
		if (f.size != b->f[i].size || sodium_memcmp(f.hash, b->f[i].hash, sizeof(f.hash))) {
			sodium_bin2hex(hex, sizeof(hex), f.hash, sizeof(f.hash));
			return bti_diag_err(
			    BATON_EHASH,
			    "%s: does not match MANIFEST (%llu bytes, BLAKE2b %.16s...): "
			    "changed since the backup",
			    path, (unsigned long long)f.size, hex);
		}
	}
	return 0;
}

/* Nothing beside what MANIFEST names: a file slipped in is not put back unseen. */
static int bk_extra_in(const char *dir, const char *sub, const struct bk *b)
{
	char path[4300], name[300];
	DIR *d;
	struct dirent *de;
	int r = 0;
	snprintf(path, sizeof(path), "%s%s%s", dir, *sub ? "/" : "", sub);
	if ((d = opendir(path)) == NULL)
		return errno == ENOENT && *sub ? 0 : sys_err(path);
	while (r == 0 && (de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || (!*sub && !strcmp(n, "MANIFEST")) ||
		    (!*sub && (!strcmp(n, "db") || !strcmp(n, "outbox"))))
			continue;
		snprintf(name, sizeof(name), "%s%s%s", sub, *sub ? "/" : "", n);
		if (!has_file(b, name))
			r = bti_diag_err(BATON_EHASH, "%s/%s: not in MANIFEST", path, n);
	}
	closedir(d);
	return r;
}

static int rs_mkdir(struct written *o, const char *sub, int *made)
{
	char p[4300];
	if (*made)
		return 0;
	snprintf(p, sizeof(p), "%s/%s", o->dir, sub);
	if (mkdir(p, 0700) != 0)
		return sys_err(p);
	*made = 1;
	return 0;
}

/* Copies what MANIFEST names into the node; the card stays in the store. */
static int rs_copy(const char *from, struct written *o, const struct bk *b)
{
	char src[4300], dst[4300];
	struct bk_file f;
	int r;
	for (o->copied = 0; o->copied < b->n; o->copied++) {
		const struct bk_file *e = &b->f[o->copied];
		if (strcmp(e->name, "school.card") == 0)
			continue;
		if ((strncmp(e->name, "db/", 3) == 0 &&
		     (r = rs_mkdir(o, "db", &o->made_db)) != 0) ||
		    (strncmp(e->name, "outbox/", 7) == 0 &&
		     (r = rs_mkdir(o, "outbox", &o->made_outbox)) != 0))
			return r;
		snprintf(src, sizeof(src), "%s/%s", from, e->name);
		snprintf(dst, sizeof(dst), "%s/%s", o->dir, e->name);
		if ((r = copy_file(src, dst, &f)) != 0)
			return r;
		/* Checked again as copied: the backup may have changed since it was read. */
		if (f.size != e->size || sodium_memcmp(f.hash, e->hash, sizeof(f.hash)))
			return bti_diag_err(BATON_EHASH, "%s: changed while it was restored", src);
	}
	return 0;
}

static int rs_sync(const struct written *o)
{
	char p[4300];
	int r;
	snprintf(p, sizeof(p), "%s/db", o->dir);
	if ((r = fsync_path(p)) != 0)
		return r;
	snprintf(p, sizeof(p), "%s/outbox", o->dir);
	if (o->made_outbox && (r = fsync_path(p)) != 0)
		return r;
	return fsync_path(o->dir);
}

struct rs_counts {
	size_t students;
	uint64_t entries, bad;
	store_audit_heads heads;
};

static int rs_count(store_txn *t, void *arg)
{
	struct rs_counts *c = arg;
	int r;
	if ((r = store_student_count(t, &c->students)) != 0 ||
	    (r = store_audit_verify(t, &c->bad, &c->entries)) != 0 ||
	    (r = store_audit_verify_heads(t, c->entries, &c->heads, &c->bad)) != 0)
		return r;
	return 0;
}

/* Opens the store in dir as this baton reads it: its students, and the audit log verified. */
static int rs_verify_dir(const char *dir, int how, struct rs_counts *c)
{
	store *st = NULL;
	int r;
	memset(c, 0, sizeof(*c));
	if ((r = store_open(dir, how, &st)) != 0)
		return r;
	store_set_clock(st, cli_now);
	if ((r = store_read(st, rs_count, c)) != 0 && c->bad) {
		char what[64];
		snprintf(what, sizeof(what), "audit log, entry %llu", (unsigned long long)c->bad);
		r = diag_wrap(r, what);
	}
	store_close(st);
	return r;
}

/*
 * An older schema stays as it was (the baton that made it runs it); this
 * baton checks a scratch copy upgraded beside it, then removes the copy.
 */
static int rs_verify_older(const char *dir, struct rs_counts *c)
{
	char scratch[4300], db[4350], src[4300], dst[4400];
	struct bk_file f;
	int r;
	snprintf(scratch, sizeof(scratch), "%s/.restore-check", dir);
	snprintf(db, sizeof(db), "%s/db", scratch);
	snprintf(src, sizeof(src), "%s/db/data.mdb", dir);
	snprintf(dst, sizeof(dst), "%s/data.mdb", db);
	if (mkdir(scratch, 0700) != 0)
		return sys_err(scratch);
	if (mkdir(db, 0700) != 0)
		r = sys_err(db);
	else if ((r = copy_file(src, dst, &f)) == 0)
		r = rs_verify_dir(scratch, STORE_OPEN_UPGRADE, c);
	unlink(dst);
	snprintf(dst, sizeof(dst), "%s/lock.mdb", db);
	unlink(dst);
	rmdir(db);
	rmdir(scratch);
	return r;
}

static int rs_verify(const char *dir, const struct bk *b, struct rs_counts *c)
{
	char path[4300];
	uint8_t *card = NULL;
	size_t n = 0;
	uint32_t schema = 0;
	struct bk_file f;
	int r;

	snprintf(path, sizeof(path), "%s/db/data.mdb", dir);
	if ((r = store_file_info(path, &schema, &card, &n)) != 0)
		return r;
	crypto_generichash(f.hash, sizeof(f.hash), card, n, NULL, 0);
	free(card);
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->f[i].name, "school.card") == 0 &&
		    (b->f[i].size != n || sodium_memcmp(f.hash, b->f[i].hash, sizeof(f.hash))))
			return bti_diag_err(BATON_EHASH,
			                    "%s: its card is not the backup's school.card", path);
	if (schema != b->schema)
		return bti_diag_err(BATON_EHASH, "%s: schema %u, MANIFEST says %u", path,
		                    (unsigned)schema, (unsigned)b->schema);
	if (schema > STORE_SCHEMA_VERSION)
		return bti_diag_err(BATON_EVERSION, "%s: schema %u, newer than this baton's %u",
		                    path, (unsigned)schema, STORE_SCHEMA_VERSION);
	return schema == STORE_SCHEMA_VERSION ? rs_verify_dir(dir, 0, c) : rs_verify_older(dir, c);
}

static int restore(const char *from, const char *to, struct bk *b, struct rs_counts *c)
{
	struct written o = {to, 0, 0, 0, 0};
	int r;

	if ((r = mf_read(from, b)) != 0 || (r = bk_check(from, b)) != 0 ||
	    (r = bk_extra_in(from, "", b)) != 0 || (r = bk_extra_in(from, "db", b)) != 0 ||
	    (r = bk_extra_in(from, "outbox", b)) != 0)
		return r;
	if ((r = empty_dir(to, &o.made_dir)) != 0)
		return r;
	if ((r = rs_copy(from, &o, b)) != 0 || (r = rs_sync(&o)) != 0 ||
	    (r = rs_verify(to, b, c)) != 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", baton_diag());
		undo_written(&o, b);
		return bti_diag_err(r, "%s (nothing restored)", why);
	}
	return 0;
}

int cmd_restore(int argc, char **argv)
{
	static const char usage[] =
	    "usage: baton restore BACKUP_DIR --dir NEW_NODE_DIR\n\n"
	    "Checks every file of a backup against its MANIFEST, copies it into\n"
	    "NEW_NODE_DIR (new, or empty), opens the store and verifies its audit log.\n"
	    "The school key keeps the passphrase it had when the backup was taken.\n";
	struct cli_common com = {0};
	struct rs_counts c;
	struct bk b;
	int rc = cli_common_only(argc, argv, &com, usage), r;

	if (rc >= 0)
		return rc;
	if (optind + 1 != argc || com.dir == NULL) {
		fputs(usage, stderr);
		return cli_usage_error("restore: give one BACKUP_DIR and --dir NEW_NODE_DIR");
	}
	if ((r = restore(argv[optind], com.dir, &b, &c)) != 0) {
		bk_free(&b);
		return cli_fail("restore", r);
	}
	printf("Restored %s (%s) into %s\n", b.code, b.fpr, com.dir);
	printf("  backup       %s, by baton %s\n", cli_time(b.time), b.version);
	printf("  schema       %u%s\n", (unsigned)b.schema,
	       b.schema < STORE_SCHEMA_VERSION ? " (older: this baton upgrades it when asked)"
	                                       : "");
	printf("  students     %zu\n  audit log    %llu entries, the chain verifies, %llu signed "
	       "heads verify\n",
	       c.students, (unsigned long long)c.entries, (unsigned long long)c.heads.heads);
	bk_free(&b);
	return EXIT_OK;
}

/* ---- upgrading an older store ---- */

/* 1 when the store may be upgraded now: asked not to ask, told yes, or answered yes. */
static int is_upgrade_wanted(const struct cli_common *c, uint32_t from, int ask, const char *to)
{
	const char *env = getenv("BATON_UPGRADE");
	char line[16];
	if (!ask || c->yes || (env && strcmp(env, "yes") == 0))
		return 1;
	if (!isatty(STDIN_FILENO)) {
		fprintf(stderr,
		        "baton: %s: this node's store is schema %u; this baton uses schema %u: run "
		        "'baton upgrade --dir %s' (it backs the store up first), or give --yes or "
		        "BATON_UPGRADE=yes\n",
		        cli_dir(c), (unsigned)from, STORE_SCHEMA_VERSION, cli_dir(c));
		return 0;
	}
	fprintf(stderr,
	        "this node's store is schema %u; this baton uses schema %u. A backup goes to %s "
	        "first. Upgrade? [y/N] ",
	        (unsigned)from, STORE_SCHEMA_VERSION, to);
	if (fgets(line, sizeof(line), stdin) == NULL ||
	    (strcmp(line, "y\n") != 0 && strcmp(line, "yes\n") != 0 && strcmp(line, "Y\n") != 0)) {
		fprintf(stderr, "baton: %s: not upgraded; the store is as it was\n", cli_dir(c));
		return 0;
	}
	return 1;
}

int cli_upgrade(const struct cli_common *c, uint32_t from, int ask, store **s)
{
	char to[4300], stamp[32];
	time_t now = (time_t)cli_now();
	struct tm tm;
	struct bk b;
	int r;

	*s = NULL;
	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "%llu", (unsigned long long)now);
	snprintf(to, sizeof(to), "%s/backup-schema-%u-%s", cli_dir(c), (unsigned)from, stamp);
	if (!is_upgrade_wanted(c, from, ask, to))
		return EXIT_ENV;
	r = backup_make(cli_dir(c), to, &b);
	bk_free(&b);
	if (r != 0)
		return cli_fail("upgrade: backup", r);
	if ((r = store_open(cli_dir(c), STORE_OPEN_UPGRADE, s)) != 0)
		return cli_fail("upgrade", r);
	fprintf(stderr,
	        "baton: %s: the store is upgraded from schema %u to %u; the schema-%u store is "
	        "backed up in %s. To go back: 'baton restore %s --dir NEW_DIR', and run the older "
	        "baton with --dir NEW_DIR\n",
	        cli_dir(c), (unsigned)from, STORE_SCHEMA_VERSION, (unsigned)from, to, to);
	return EXIT_OK;
}

int cmd_upgrade(int argc, char **argv)
{
	static const char usage[] =
	    "usage: baton upgrade [--dir DIR]\n\n"
	    "Backs this node's store up into DIR/backup-schema-N-TIME, then upgrades it to\n"
	    "this baton's schema. A store of the current schema is left as it is.\n";
	struct cli_common com = {0};
	store *st = NULL;
	uint32_t from = 0;
	int rc = cli_common_only(argc, argv, &com, usage), r;

	if (rc >= 0)
		return rc;
	if (optind != argc) {
		fputs(usage, stderr);
		return cli_usage_error("upgrade: takes no operands");
	}
	if (!is_node(cli_dir(&com)))
		return cli_fail("upgrade",
		                bti_diag_err(BATON_EIO, "%s: not a Baton node", cli_dir(&com)));
	if ((r = store_schema_of(cli_dir(&com), &from)) != 0)
		return cli_fail("upgrade", r);
	if (from == STORE_SCHEMA_VERSION) {
		printf("%s: the store is schema %u already; nothing to do\n", cli_dir(&com),
		       (unsigned)from);
		return EXIT_OK;
	}
	if (from < STORE_SCHEMA_UPGRADABLE || from > STORE_SCHEMA_VERSION)
		return cli_fail("upgrade",
		                bti_diag_err(BATON_EVERSION,
		                             "%s: schema %u, which this baton cannot upgrade",
		                             cli_dir(&com), (unsigned)from));
	if ((rc = cli_upgrade(&com, from, 0, &st)) != EXIT_OK)
		return rc;
	store_close(st);
	printf("%s: upgraded to schema %u\n", cli_dir(&com), STORE_SCHEMA_VERSION);
	return EXIT_OK;
}

/* Importing a file of student records (student_import.h). */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "bti.h"
#include "record.h"
#include "student_import.h"

#define ATTACHMENT_MAX ((size_t)4 << 30) /* one attachment file */

/* A read-only mapping of a whole file. */
struct mapped {
	const uint8_t *p;
	size_t len;
};

/* Maps the regular file open at fd (named path in messages); fd stays open. */
static int map_fd(int fd, const char *path, size_t max, struct mapped *m)
{
	struct stat st;
	m->p = NULL;
	m->len = 0;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return bti_diag_err(BATON_EIO, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > max)
		return bti_diag_err(BATON_ETOOBIG, "%s: %lld bytes, at most %zu", path,
		                    (long long)st.st_size, max);
	m->len = (size_t)st.st_size;
	if (m->len > 0) {
		void *p = mmap(NULL, m->len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
		m->p = p;
	}
	return 0;
}

static void unmap_file(struct mapped *m)
{
	if (m->p)
		munmap((void *)(uintptr_t)m->p, m->len);
	m->p = NULL;
}

/* Why an open of one component of an attachment's path failed, in words. */
static const char *open_why(int dfd, const char *name, int err)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return "is a symbolic link (not followed)";
	return strerror(err);
}

/*
 * Opens the attachment at rel, a path the record names: inside the folder
 * of the JSON file only, one component at a time, following no symbolic
 * link, never into the node directory, and only a regular file. The bytes
 * imported are read from the descriptor that was checked: there is no second
 * open by name for a link to be swapped in. *fd is -1 on error.
 */
static int open_attachment(const struct student_import *c, const char *rel, int *fd)
{
	char name[NAME_MAX + 1];
	const char *p = rel;
	int dfd = c->base_fd, r = 0;
	struct stat st;

	*fd = -1;
	if (c->base_in_node)
		return bti_diag_err(BATON_EVALUE, "\"%s\" is inside the node directory", rel);
	while (r == 0) {
		size_t n = strcspn(p, "/");
		int last = p[n] == '\0';
		if (n > NAME_MAX)
			return bti_diag_err(BATON_EVALUE, "\"%s\": a name longer than %d bytes",
			                    rel, NAME_MAX);
		memcpy(name, p, n);
		name[n] = '\0';
		if (!last && (n == 0 || strcmp(name, ".") == 0)) {
			p += n + 1;
			continue;
		}
		/* record_validate refused "..", an empty last name and a leading '/'. */
		int next =
		    openat(dfd, name,
		           O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (last ? O_NONBLOCK : O_DIRECTORY));
		if (next < 0)
			r = bti_diag_err(BATON_EVALUE, "\"%s\": %s: %s", rel, name,
			                 open_why(dfd, name, errno));
		else if (fstat(next, &st) != 0)
			r = bti_diag_err(BATON_EIO, "\"%s\": %s", rel, strerror(errno));
		else if (st.st_dev == c->node_st.st_dev && st.st_ino == c->node_st.st_ino)
			/* The node's own files (its key, its store) never travel as an attachment.
			 */
			r = bti_diag_err(BATON_EVALUE, "\"%s\" is inside the node directory", rel);
		else if (last && !S_ISREG(st.st_mode))
			r = bti_diag_err(BATON_EVALUE, "\"%s\": not a regular file", rel);
		if (dfd != c->base_fd)
			close(dfd);
		dfd = next;
		if (r != 0 || last)
			break;
		p += n + 1;
	}
	if (r != 0) {
		if (dfd >= 0 && dfd != c->base_fd)
			close(dfd);
		return r;
	}
	*fd = dfd;
	return 0;
}

/* Whether the folder dir (as given) is node or inside it. */
static int nested(const char *dir, const char *node)
{
	char real[PATH_MAX];
	size_t nl = strlen(node);
	return realpath(dir, real) != NULL && strncmp(real, node, nl) == 0 &&
	       (real[nl] == '/' || real[nl] == '\0');
}

/* Replaces each attachment's path by the hash and size of its stored bytes. */
static int import_attachments(store_txn *t, struct student_import *c, json_t *rec)
{
	json_t *atts = json_object_get(rec, "attachments"), *a;
	size_t i;
	/* An uploaded file has no folder of its own to hold the files it names. */
	if (c->no_attachments && json_array_size(atts) > 0)
		return bti_diag_err(BATON_EVALUE,
		                    "attachments[0].path: a file uploaded alone cannot bring "
		                    "attachments; import it with 'baton student import'");
	json_array_foreach(atts, i, a)
	{
		char hex[65];
		uint8_t hash[32];
		struct mapped m;
		const char *rel = json_string_value(json_object_get(a, "path"));
		int r, fd;
		if ((r = open_attachment(c, rel, &fd)) == 0) {
			r = map_fd(fd, rel, ATTACHMENT_MAX, &m);
			close(fd);
		}
		if (r != 0) {
			/* A file the JSON names but that is missing is bad input, not an I/O fault.
			 */
			char why[600];
			snprintf(why, sizeof(why), "%s", baton_diag_for(r));
			return bti_diag_err(r == BATON_ENOMEM ? r : BATON_EVALUE,
			                    "attachments[%zu].path: %s", i, why);
		}
		crypto_generichash_state hs;
		crypto_generichash_init(&hs, NULL, 0, 32);
		for (size_t off = 0, gone = 0; off < m.len;) {
			size_t n = m.len - off < (1u << 20) ? m.len - off : (1u << 20);
			crypto_generichash_update(&hs, m.p + off, n);
			off += n;
			gone = store_pages_done(m.p, gone, off);
		}
		crypto_generichash_final(&hs, hash, 32);
		r = store_blob_put(t, hash, m.p, m.len);
		unmap_file(&m);
		if (r != 0)
			return r;
		sodium_bin2hex(hex, sizeof(hex), hash, 32);
		json_object_del(a, "path");
		json_object_set_new(a, "hash", json_string(hex));
		json_object_set_new(a, "size", json_integer((json_int_t)m.len));
	}
	return 0;
}

/* The callback's way of having store_write drop a dry run's transaction. */
enum { DRY_RUN_DONE = 1 };

int student_import_is_bad_input(int err)
{
	switch (err) {
	case BATON_OK:
	case BATON_EINVAL:
	case BATON_EIO:
	case BATON_ENOMEM:
	case BATON_EINTERNAL:
	case BATON_EPERM:
	case BATON_EEXIST:
		return 0;
	default:
		/* A code libbaton does not define is the store's own (a map to grow). */
		return strcmp(baton_errname(err), "EUNKNOWNCODE") != 0;
	}
}

static const char *result_name(int how)
{
	return how == FILED_NEW         ? "new"
	       : how == FILED_UNCHANGED ? "unchanged"
	       : how == FILED_HELD      ? "held"
	                                : "new_version";
}

/* With want_results, what became of one student's record. */
static int note_result(struct student_import *c, const store_student *s, int how,
                       const store_held *h, size_t index)
{
	json_t *o;
	int bad = 0;
	if (c->results == NULL)
		return 0;
	if ((o = json_pack("{s:s, s:s}", "student_id", s->id, "result", result_name(how))) == NULL)
		return BATON_ENOMEM;
	if (how == FILED_HELD)
		bad |= json_object_set_new(o, "held", json_integer((json_int_t)h->id));
	else
		bad |= json_object_set_new(o, "version", json_integer((json_int_t)s->version));
	/* The preview names the record as the file has it, not as the store does. */
	if (c->preview)
		bad |= json_object_set_new(o, "record", json_integer((json_int_t)index)) |
		       json_object_set_new(o, "given_name", json_string(s->given_name)) |
		       json_object_set_new(o, "family_name", json_string(s->family_name));
	if (bad || json_array_append_new(c->results, o) != 0)
		return BATON_ENOMEM;
	return 0;
}

static int import_audit(store_txn *t, const store_student *s, int how, const store_held *h)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "import");
	snprintf(e.student, sizeof(e.student), "%s", s->id);
	if (how == FILED_HELD)
		snprintf(e.detail, sizeof(e.detail),
		         "held for review as %llu: not the child on file as %s",
		         (unsigned long long)h->id, s->id);
	else
		snprintf(e.detail, sizeof(e.detail), "version %u", s->version);
	return store_audit_append(t, &e);
}

/* One file, one record per student, whatever the store already holds. */
static int first_in_file(struct student_import *c, const char *id)
{
	if (json_object_get(c->seen, id) != NULL)
		return bti_diag_err(
		    BATON_EVALUE, "student_id: \"%s\" repeats an earlier record in this file", id);
	return json_object_set_new(c->seen, id, json_true()) != 0 ? BATON_ENOMEM : 0;
}

static int import_one(store_txn *t, struct student_import *c, json_t *rec, size_t index)
{
	store_student s;
	store_held h;
	char *canon = NULL;
	int r, how;

	if ((r = record_validate(rec)) != 0 ||
	    (r = first_in_file(c, json_string_value(json_object_get(rec, "student_id")))) != 0 ||
	    (r = import_attachments(t, c, rec)) != 0)
		return r;
	memset(&s, 0, sizeof(s));
	memset(&h, 0, sizeof(h));
	snprintf(s.id, sizeof(s.id), "%s", json_string_value(json_object_get(rec, "student_id")));
	record_index(rec, &s);
	if ((canon = record_canonical(rec)) == NULL)
		return BATON_ENOMEM;
	if ((r = store_student_file(t, &s, canon, strlen(canon), &h, &how)) == 0 &&
	    (r = note_result(c, &s, how, &h, index)) == 0 && how != FILED_UNCHANGED)
		r = import_audit(t, &s, how, &h);
	if (r == 0)
		*(how == FILED_UNCHANGED ? &c->unchanged
		  : how == FILED_HELD    ? &c->held
		  : how == FILED_NEW     ? &c->added
		                         : &c->versions) += 1;
	free(canon);
	return r;
}

/*
 * The field an error names, into field (cap bytes; "" when none): the path
 * before the first ": " ("transcript[2].credits_earned"), or the quoted
 * name of a record that does not parse ("line 4, field \"given_name\"").
 */
static void error_field(const char *why, char *field, size_t cap)
{
	const char *q = strstr(why, "field \""), *e;
	size_t n = strcspn(why, ":");
	field[0] = '\0';
	if (q && (e = strchr(q + 7, '"')) != NULL && (size_t)(e - q - 7) < cap) {
		snprintf(field, cap, "%.*s", (int)(e - q - 7), q + 7);
		return;
	}
	if (why[n] != ':' || n == 0 || n >= cap ||
	    strspn(why, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.[]") != n)
		return;
	snprintf(field, cap, "%.*s", (int)n, why);
}

/* A record's error, kept to report with the others; the import goes on. The first decides the
 * result. */
static int note_error(struct student_import *c, size_t index, const char *sid, int r)
{
	char why[600], field[128];
	json_t *e;
	snprintf(why, sizeof(why), "%s",
	         baton_diag_for(r)[0] ? baton_diag_for(r) : baton_strerror(r));
	bti_diag_clear();
	if (c->nerrors++ == 0)
		c->first_error = r;
	if (c->nerrors > STUDENT_IMPORT_ERRORS)
		return 0;
	if ((e = json_pack("{s:s*, s:s}", "student_id", sid, "error", why)) == NULL)
		return BATON_ENOMEM;
	/* An error about the whole file (not JSON records at all) names no record. */
	if (index > 0)
		json_object_set_new(e, "record", json_integer((json_int_t)index));
	if (c->preview) {
		/* A record that does not parse comes with its prefix: the reader's own words. */
		const char *raw = c->raw[0] ? c->raw : why;
		error_field(raw, field, sizeof(field));
		json_object_set_new(e, "field", json_string(field));
		json_object_set_new(e, "message", json_string(raw));
	}
	return json_array_append_new(c->errors, e) != 0 ? BATON_ENOMEM : 0;
}

/* Validates and files one record; a refused record's error is prefixed with its number. */
static int import_record(store_txn *t, struct student_import *c, json_t *rec, size_t index)
{
	const char *sid = json_string_value(json_object_get(rec, "student_id"));
	int r = import_one(t, c, rec, index);
	if (r == 0 && record_json_failed())
		r = bti_diag_err(BATON_ENOMEM, "out of memory");
	if (r != 0 && student_import_is_bad_input(r)) {
		snprintf(c->raw, sizeof(c->raw), "%s", baton_diag());
		r = bti_diag_err(r, "record %zu (%s): %s", index, sid ? sid : "no student_id",
		                 c->raw);
	}
	return r;
}

/* store_write may run this again after growing the map: it starts from scratch. */
static int import_reset(struct student_import *c)
{
	c->records = c->added = c->versions = c->unchanged = c->held = c->nerrors = 0;
	record_file_rewind(c->rf);
	json_decref(c->seen);
	json_decref(c->errors);
	c->seen = json_object();
	c->errors = json_array();
	if (c->seen == NULL || c->errors == NULL)
		return BATON_ENOMEM;
	if (c->results != NULL && json_array_clear(c->results) != 0)
		return BATON_ENOMEM;
	return 0;
}

static int import_all(store_txn *t, void *arg)
{
	struct student_import *c = arg;
	json_t *rec;
	size_t index, done, total;
	int r;

	if ((r = import_reset(c)) != 0)
		return r;
	while ((r = record_file_next(c->rf, &rec, &index)) != BATON_ENOTFOUND) {
		c->raw[0] = '\0';
		if (r == 0)
			r = import_record(t, c, rec, index);
		/* Bad input is noted and the file read on; the store failing ends it. */
		if (r != 0 && student_import_is_bad_input(r))
			r = note_error(c, index,
			               json_string_value(json_object_get(rec, "student_id")), r);
		json_decref(rec);
		if (r != 0)
			return r;
		record_file_progress(c->rf, &done, &total);
		if (c->progress)
			c->progress(c->progress_arg, c->label ? c->label : c->file,
			            record_file_count(c->rf), done, total);
	}
	c->records = record_file_count(c->rf);
	if (c->nerrors == 0 && c->records == 0)
		return bti_diag_err(BATON_EVALUE, "no student records in the file");
	if (c->nerrors)
		return c->first_error;
	return c->dry_run ? DRY_RUN_DONE : 0;
}

/* Opens the folder attachments are read from, and runs the import in one transaction. */
int student_import_run(store *st, struct student_import *c)
{
	char tmp[4096], base[4096];
	int r;

	c->base_fd = -1;
	if (c->want_results && c->results == NULL && (c->results = json_array()) == NULL)
		return BATON_ENOMEM;
	if ((r = record_file_open(c->file, &c->rf)) != 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s", c->file);
	snprintf(base, sizeof(base), "%s", dirname(tmp));
	if (realpath(c->node, c->node_real) == NULL || stat(c->node_real, &c->node_st) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", c->node, strerror(errno));
	if ((c->base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", base, strerror(errno));
	c->base_in_node = nested(base, c->node_real);
	r = store_write(st, import_all, c);
	close(c->base_fd);
	c->base_fd = -1;
	return r == DRY_RUN_DONE ? 0 : r;
}

void student_import_clear(struct student_import *c)
{
	if (c == NULL)
		return;
	record_file_close(c->rf);
	json_decref(c->seen);
	json_decref(c->errors);
	json_decref(c->results);
	c->rf = NULL;
	c->seen = c->errors = c->results = NULL;
}

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

/*
 * Replaces each attachment's path by the hash and size of its bytes, stored
 * in t (NULL: only hashed, for a dry run).
 */
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
		r = t != NULL ? store_blob_put(t, hash, m.p, m.len) : 0;
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
                       const store_held *h, size_t index, int merged)
{
	json_t *o;
	int bad = 0;
	if (c->results == NULL)
		return 0;
	/* A preview of a large file lists its start and counts the rest. */
	if (c->preview && json_array_size(c->results) >= STUDENT_IMPORT_DETAIL) {
		c->more++;
		return 0;
	}
	if ((o = json_pack("{s:s, s:s}", "student_id", s->id, "result", result_name(how))) == NULL)
		return BATON_ENOMEM;
	if (how == FILED_HELD)
		bad |= json_object_set_new(o, "held", json_integer((json_int_t)h->id));
	else
		bad |= json_object_set_new(o, "version", json_integer((json_int_t)s->version));
	if (c->merge)
		bad |= json_object_set_new(o, "merged", json_boolean(merged));
	/* The preview names the record as the file has it, not as the store does. */
	if (c->preview)
		bad |= json_object_set_new(o, "record", json_integer((json_int_t)index)) |
		       json_object_set_new(o, "given_name", json_string(s->given_name)) |
		       json_object_set_new(o, "family_name", json_string(s->family_name));
	if (bad || json_array_append_new(c->results, o) != 0)
		return BATON_ENOMEM;
	return 0;
}

static int import_audit(store_txn *t, const store_student *s, int how, const store_held *h,
                        int merged)
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
		snprintf(e.detail, sizeof(e.detail), "version %u%s", s->version,
		         merged ? ", merged by section with the record on file" : "");
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

/* One good record, read and checked before any transaction. */
struct student_ready {
	char *canon; /* its canonical text; NULL while rec names attachments still to store */
	json_t
	    *rec; /* with canon NULL, the record as read: the write transaction stores its files */
	char *fields; /* student id, statewide id, given name, family name, birth date, each
	                 NUL-ended */
	size_t index; /* its number in the file */
	off_t at;     /* with a source: its canonical text's place in the spool */
	size_t len;   /* and its bytes there */
};

/* The index fields of s, packed: a record waiting for the store keeps no more than it needs. */
static char *pack_fields(const store_student *s)
{
	const char *f[] = {s->id, s->state_id, s->given_name, s->family_name, s->birth_date};
	size_t n = 0, at = 0;
	char *p;
	for (size_t i = 0; i < 5; i++)
		n += strlen(f[i]) + 1;
	if ((p = malloc(n)) == NULL)
		return NULL;
	for (size_t i = 0; i < 5; i++) {
		memcpy(p + at, f[i], strlen(f[i]) + 1);
		at += strlen(f[i]) + 1;
	}
	return p;
}

static void unpack_fields(const char *p, store_student *s)
{
	char *f[] = {s->id, s->state_id, s->given_name, s->family_name, s->birth_date};
	size_t cap[] = {sizeof(s->id), sizeof(s->state_id), sizeof(s->given_name),
	                sizeof(s->family_name), sizeof(s->birth_date)};
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < 5; i++) {
		snprintf(f[i], cap[i], "%s", p);
		p += strlen(p) + 1;
	}
}

/* Keeps one good record: canon (taken, also on error) or, when NULL, a reference to rec. */
static int ready_add(struct student_import *c, json_t *rec, char *canon, const store_student *s,
                     size_t index)
{
	struct student_ready *e;
	if (c->nready == c->ready_cap) {
		size_t cap = c->ready_cap ? c->ready_cap * 2 : 256;
		if ((e = reallocarray(c->ready, cap, sizeof(*e))) == NULL) {
			free(canon);
			return BATON_ENOMEM;
		}
		c->ready = e;
		c->ready_cap = cap;
	}
	e = &c->ready[c->nready];
	if ((e->fields = pack_fields(s)) == NULL) {
		free(canon);
		return BATON_ENOMEM;
	}
	e->canon = canon;
	e->rec = canon == NULL ? json_incref(rec) : NULL;
	e->index = index;
	c->nready++;
	return 0;
}

/*
 * Opens the spool: an unnamed file in $TMPDIR (or /tmp) that only this
 * process can reach, gone when it is closed.
 */
static int spool_create(struct student_import *c)
{
	const char *tmp = getenv("TMPDIR");
	char path[4096];
	int fd;

	if (tmp == NULL || !tmp[0])
		tmp = "/tmp";
	fd = open(tmp, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == ENOENT)) {
		/* A file system without O_TMPFILE: a named file, unlinked at once. */
		snprintf(path, sizeof(path), "%s/baton-import-XXXXXX", tmp);
		if ((fd = mkostemp(path, O_CLOEXEC)) >= 0)
			unlink(path);
	}
	if (fd < 0)
		return bti_diag_err(BATON_EIO, "%s: a temporary file: %s", tmp, strerror(errno));
	c->spool_fd = fd;
	c->spool_open = 1;
	c->spool_end = 0;
	return 0;
}

static void spool_close(struct student_import *c)
{
	if (c->spool_open)
		close(c->spool_fd);
	c->spool_open = 0;
	c->spool_fd = -1;
}

/* Appends len bytes of text to the spool. */
static int spool_put(struct student_import *c, const char *text, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t n =
		    pwrite(c->spool_fd, text + done, len - done, (off_t)(c->spool_end + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bti_diag_err(BATON_EIO, "a temporary file: %s",
			                    n < 0 ? strerror(errno) : "nothing written");
		done += (size_t)n;
	}
	c->spool_end += len;
	return 0;
}

/*
 * Checks one record and keeps its canonical text. An import's attachments
 * are stored in its write transaction, so such a record is kept as read; a
 * dry run only hashes them.
 */
static int prepare_one(struct student_import *c, json_t *rec, size_t index)
{
	store_student s;
	char *canon = NULL;
	int r, later;

	if ((r = record_validate(rec)) != 0 ||
	    (r = first_in_file(c, json_string_value(json_object_get(rec, "student_id")))) != 0)
		return r;
	if (c->source != NULL) {
		/* The canonical text waits in the spool: only the index fields are kept. */
		off_t at = (off_t)c->spool_end;
		size_t len;
		if (json_array_size(json_object_get(rec, "attachments")) > 0)
			return import_attachments(NULL, c, rec);
		memset(&s, 0, sizeof(s));
		snprintf(s.id, sizeof(s.id), "%s",
		         json_string_value(json_object_get(rec, "student_id")));
		record_index(rec, &s);
		if ((canon = record_canonical(rec)) == NULL)
			return BATON_ENOMEM;
		len = strlen(canon);
		r = spool_put(c, canon, len);
		sodium_memzero(canon, len);
		free(canon);
		if (r != 0 || (r = ready_add(c, NULL, NULL, &s, index)) != 0)
			return r;
		c->ready[c->nready - 1].at = at;
		c->ready[c->nready - 1].len = len;
		return 0;
	}
	later = !c->dry_run && !c->no_attachments &&
	        json_array_size(json_object_get(rec, "attachments")) > 0;
	if (!later && (r = import_attachments(NULL, c, rec)) != 0)
		return r;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", json_string_value(json_object_get(rec, "student_id")));
	record_index(rec, &s);
	if (!later && (canon = record_canonical(rec)) == NULL)
		return BATON_ENOMEM;
	return ready_add(c, rec, canon, &s, index);
}

/* A refused record's error, prefixed with its number and id. */
static int record_error(struct student_import *c, int r, size_t index, const char *sid)
{
	snprintf(c->raw, sizeof(c->raw), "%s", baton_diag());
	return bti_diag_err(r, "record %zu (%s): %s", index, sid ? sid : "no student_id", c->raw);
}

static int prepare_record(struct student_import *c, json_t *rec, size_t index)
{
	int r = prepare_one(c, rec, index);
	if (r == 0 && record_json_failed())
		r = bti_diag_err(BATON_ENOMEM, "out of memory");
	if (r != 0 && student_import_is_bad_input(r))
		r = record_error(c, r, index,
		                 json_string_value(json_object_get(rec, "student_id")));
	return r;
}

/*
 * The next record of the file or the source, its number in *index and its
 * student id, if it has one, in id. Returns 0, BATON_ENOTFOUND at the end,
 * or the record's error (a source's already named by record_error).
 */
static int next_record(struct student_import *c, json_t **rec, size_t *index, char *id, size_t cap)
{
	int r;
	id[0] = '\0';
	if (c->source == NULL) {
		r = record_file_next(c->rf, rec, index);
		if (r != BATON_ENOTFOUND) {
			const char *sid = json_string_value(json_object_get(*rec, "student_id"));
			snprintf(id, cap, "%s", sid ? sid : "");
		}
		return r;
	}
	if ((r = c->source->next(c->source->arg, rec, id, cap)) == BATON_ENOTFOUND)
		return r;
	*index = ++c->records;
	if (r != 0 && student_import_is_bad_input(r))
		r = record_error(c, r, *index, id[0] ? id : NULL);
	return r;
}

/* Reads and checks every record, with no transaction open; bad records are noted. */
static int prepare_all(struct student_import *c)
{
	char id[BATON_STUDENT_MAX + 1];
	json_t *rec = NULL;
	size_t index = 0, done = 0, total = 0;
	int r;

	if ((c->seen = json_object()) == NULL || (c->errors = json_array()) == NULL)
		return BATON_ENOMEM;
	if (c->source != NULL) {
		c->source->rewind(c->source->arg);
		c->records = 0;
	}
	for (;;) {
		c->raw[0] = '\0';
		if ((r = next_record(c, &rec, &index, id, sizeof(id))) == BATON_ENOTFOUND)
			break;
		if (r == 0)
			r = prepare_record(c, rec, index);
		/* Bad input is noted and the file read on; running out of memory ends it. */
		if (r != 0 && student_import_is_bad_input(r))
			r = note_error(c, index, id[0] ? id : NULL, r);
		json_decref(rec);
		rec = NULL;
		if (r != 0)
			return r;
		if (c->source == NULL)
			record_file_progress(c->rf, &done, &total);
		if (c->progress)
			c->progress(c->progress_arg, c->label ? c->label : c->file,
			            c->source ? c->records : record_file_count(c->rf), done, total);
	}
	if (c->source == NULL)
		c->records = record_file_count(c->rf);
	json_decref(c->seen);
	c->seen = NULL;
	if (c->nerrors == 0 && c->records == 0)
		return bti_diag_err(BATON_EVALUE, c->source ? "no student records"
		                                            : "no student records in the file");
	return 0;
}

/* The canonical text of the source's record e, read back from the spool into *mine. */
static int source_text(struct student_import *c, const struct student_ready *e, char **mine,
                       const char **text)
{
	size_t done = 0;
	char *p;

	if ((p = malloc(e->len + 1)) == NULL)
		return BATON_ENOMEM;
	while (done < e->len) {
		ssize_t n = pread(c->spool_fd, p + done, e->len - done, e->at + (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			sodium_memzero(p, done);
			free(p);
			return bti_diag_err(BATON_EIO, "record %zu: a temporary file: %s", e->index,
			                    n < 0 ? strerror(errno) : "ended early");
		}
		done += (size_t)n;
	}
	p[e->len] = '\0';
	*mine = p;
	*text = p;
	return 0;
}

/*
 * The text to file for e: its canonical text, or, for a record naming
 * attachments, a copy with them stored in t (NULL: hashed) made canonical
 * into *mine (the caller frees it). The record as read stays as it was: a
 * grown map runs the transaction again.
 */
static int ready_text(store_txn *t, struct student_import *c, const struct student_ready *e,
                      char **mine, const char **text)
{
	json_t *rec;
	int r;

	*mine = NULL;
	*text = e->canon;
	if (e->canon != NULL)
		return 0;
	if (e->rec == NULL)
		return source_text(c, e, mine, text);
	if ((rec = json_deep_copy(e->rec)) == NULL)
		return BATON_ENOMEM;
	if ((r = import_attachments(t, c, rec)) == 0 && (*mine = record_canonical(rec)) == NULL)
		r = BATON_ENOMEM;
	json_decref(rec);
	*text = *mine;
	return r;
}

static void count_result(struct student_import *c, int how, int merged)
{
	c->merged += merged && (how == FILED_VERSION || how == FILED_UNCHANGED);
	*(how == FILED_UNCHANGED ? &c->unchanged
	  : how == FILED_HELD    ? &c->held
	  : how == FILED_NEW     ? &c->added
	                         : &c->versions) += 1;
}

static void wipe_free(char *p)
{
	if (p)
		sodium_memzero(p, strlen(p));
	free(p);
}

/*
 * With merge: the record to file for e when the student on file is the
 * same child: the record on file (in t) with each top-level key of text
 * (the file's record, canonical) replacing its own, keys text lacks kept,
 * and attachments following their sections. *out is that record's
 * canonical text (the caller wipes and frees it), or NULL when there is
 * nothing to merge with (no student on file, or another child: the file's
 * record is then filed as it is, and another child held for review). s
 * gets the merged record's index fields.
 */
static int merge_on_file(store_txn *t, store_student *s, const char *text, char **out)
{
	store_student old;
	json_t *mine = NULL, *rec = NULL, *atts = NULL, *a, *v;
	char *json = NULL;
	const char *key;
	size_t len, i, j;
	int r;

	*out = NULL;
	if ((r = store_student_get(t, s->id, &old)) != 0)
		return r == BATON_ENOTFOUND ? 0 : r;
	if (!store_same_child(&old, s))
		return 0;
	if ((r = store_record_get(t, s->id, 0, &json, &len)) != 0)
		return r;
	rec = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL);
	sodium_memzero(json, len);
	free(json);
	if (rec == NULL || !json_is_object(rec))
		r = bti_diag_err(BATON_EIO, "student %s: the record on file does not parse", s->id);
	else if ((mine = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL ||
	         (atts = json_array()) == NULL)
		r = BATON_ENOMEM;
	if (r != 0) {
		json_decref(atts);
		goto done;
	}
	/* Attachments on file stay only with the sections this file does not replace. */
	json_array_foreach(json_object_get(rec, "attachments"), i, a)
	{
		const char *sec = json_string_value(json_object_get(a, "section"));
		if (sec && json_object_get(mine, sec) == NULL && json_array_append(atts, a) != 0)
			r = BATON_ENOMEM;
	}
	json_array_foreach(json_object_get(mine, "attachments"), i, a)
	{
		const char *name = json_string_value(json_object_get(a, "name"));
		json_t *kept;
		json_array_foreach(atts, j, kept)
		{
			if (r == 0 && name &&
			    strcmp(name, json_string_value(json_object_get(kept, "name"))) == 0)
				r = bti_diag_err(
				    BATON_EVALUE,
				    "attachments[%zu].name: \"%s\" is on file for the %s section, "
				    "which this merge keeps",
				    i, name, json_string_value(json_object_get(kept, "section")));
		}
	}
	json_array_foreach(json_object_get(mine, "attachments"), i, a)
	{
		if (r == 0 && json_array_append(atts, a) != 0)
			r = BATON_ENOMEM;
	}
	json_object_foreach(mine, key, v)
	{
		if (r == 0 && strcmp(key, "attachments") != 0 && json_object_set(rec, key, v) != 0)
			r = BATON_ENOMEM;
	}
	if (json_array_size(atts) == 0)
		json_object_del(rec, "attachments"); /* absent or not: neither is an error */
	else if (r == 0 && json_object_set(rec, "attachments", atts) != 0)
		r = BATON_ENOMEM;
	json_decref(atts);
	if (r == 0 && (*out = record_canonical(rec)) == NULL)
		r = BATON_ENOMEM;
	if (r == 0) {
		char id[sizeof(s->id)];
		memcpy(id, s->id, sizeof(id));
		memset(s, 0, sizeof(*s));
		memcpy(s->id, id, sizeof(id));
		record_index(rec, s);
	}
done:
	json_decref(rec);
	json_decref(mine);
	return r;
}

/*
 * The text to file for e: ready_text's (its attachments stored in blobs,
 * NULL: hashed), or with merge that merged with the record on file in t
 * (*merged 1). *mine is the caller's to free, with wipe_free.
 */
static int file_text(store_txn *t, store_txn *blobs, struct student_import *c,
                     const struct student_ready *e, store_student *s, char **mine,
                     const char **text, int *merged)
{
	char *m = NULL;
	int r;
	*merged = 0;
	if ((r = ready_text(blobs, c, e, mine, text)) != 0 || !c->merge)
		return r;
	if ((r = merge_on_file(t, s, *text, &m)) != 0 || m == NULL)
		return r;
	wipe_free(*mine);
	*mine = m;
	*text = m;
	*merged = 1;
	return 0;
}

/* Files one record in the import's write transaction, with its audit entry. */
static int file_one(store_txn *t, struct student_import *c, const struct student_ready *e)
{
	store_student s;
	store_held h;
	const char *text;
	char *mine;
	int r, how, merged;

	unpack_fields(e->fields, &s);
	memset(&h, 0, sizeof(h));
	if ((r = file_text(t, t, c, e, &s, &mine, &text, &merged)) != 0) {
		wipe_free(mine);
		return r;
	}
	if ((r = store_student_file(t, &s, text, strlen(text), &h, &how)) == 0 &&
	    (r = note_result(c, &s, how, &h, e->index, merged)) == 0 && how != FILED_UNCHANGED)
		r = import_audit(t, &s, how, &h, merged);
	if (r == 0)
		count_result(c, how, merged);
	wipe_free(mine);
	return r;
}

/*
 * A dry run's check that store_student_put would give s its statewide id:
 * the store as it is, with what the records before it in this file took
 * or freed (c->claimed) laid over it.
 */
static int claim_state_id(store_txn *t, struct student_import *c, const store_student *old,
                          const store_student *s)
{
	char owner[BATON_STUDENT_MAX + 1];
	json_t *v;
	int r = 0;

	if (old->state_id[0] && strcmp(old->state_id, s->state_id) != 0 &&
	    json_object_set_new(c->claimed, old->state_id, json_null()) != 0)
		return BATON_ENOMEM;
	if (!s->state_id[0])
		return 0;
	owner[0] = '\0';
	if ((v = json_object_get(c->claimed, s->state_id)) != NULL)
		snprintf(owner, sizeof(owner), "%s", json_is_string(v) ? json_string_value(v) : "");
	else if ((r = store_student_by_state_id(t, s->state_id, owner, sizeof(owner))) != 0 &&
	         r != BATON_ENOTFOUND)
		return r;
	if (owner[0] && strcmp(owner, s->id) != 0)
		return bti_diag_err(BATON_EVALUE,
		                    "state_student_id \"%s\" already belongs to student %s",
		                    s->state_id, owner);
	return json_object_set_new(c->claimed, s->state_id, json_string(s->id)) != 0 ? BATON_ENOMEM
	                                                                             : 0;
}

/* What filing one record would do, read only: the answer of a dry run. */
static int sort_one(store_txn *t, struct student_import *c, const struct student_ready *e)
{
	store_student s, old;
	store_held h;
	const char *text;
	char *mine;
	int r, how, merged;

	unpack_fields(e->fields, &s);
	memset(&h, 0, sizeof(h));
	if ((r = file_text(t, NULL, c, e, &s, &mine, &text, &merged)) != 0) {
		wipe_free(mine);
		return r;
	}
	r = store_student_sort(t, &s, text, &old, &how);
	if (r == 0 && (how == FILED_NEW || how == FILED_VERSION))
		r = claim_state_id(t, c, &old, &s);
	if (r == 0) {
		if (how == FILED_HELD)
			h.id = ++c->held_last;
		if (how == FILED_NEW || how == FILED_VERSION)
			s.version = how == FILED_NEW ? 1 : old.version + 1;
		else
			s = old;
		r = note_result(c, &s, how, &h, e->index, merged);
	}
	if (r == 0)
		count_result(c, how, merged);
	wipe_free(mine);
	return r;
}

typedef int (*ready_fn)(store_txn *t, struct student_import *c, const struct student_ready *e);

/* Runs one on each good record; a record the store refuses is noted like a bad one. */
static int each_ready(store_txn *t, struct student_import *c, ready_fn one)
{
	for (size_t i = 0; i < c->nready; i++) {
		const struct student_ready *e = &c->ready[i];
		int r;
		c->raw[0] = '\0';
		r = one(t, c, e);
		if (r == 0 && record_json_failed())
			r = bti_diag_err(BATON_ENOMEM, "out of memory");
		if (r != 0 && student_import_is_bad_input(r))
			r = note_error(c, e->index, e->fields,
			               record_error(c, r, e->index, e->fields));
		if (r != 0)
			return r;
	}
	return 0;
}

/* The write transaction: only the store's work. A grown map runs it again from the start. */
static int write_all(store_txn *t, void *arg)
{
	struct student_import *c = arg;
	int r;

	c->added = c->versions = c->unchanged = c->held = c->nerrors = c->more = c->merged = 0;
	if (json_array_clear(c->errors) != 0 ||
	    (c->results != NULL && json_array_clear(c->results) != 0))
		return BATON_ENOMEM;
	if ((r = each_ready(t, c, file_one)) != 0)
		return r;
	return c->nerrors ? c->first_error : 0;
}

/* A read transaction: what an import would do, and the errors only the store can tell. */
static int sort_all(store_txn *t, void *arg)
{
	struct student_import *c = arg;
	int r;

	json_decref(c->claimed);
	if ((c->claimed = json_object()) == NULL)
		return BATON_ENOMEM;
	if ((r = store_held_last(t, &c->held_last)) != 0)
		return r;
	return each_ready(t, c, sort_one);
}

static int by_record(const void *a, const void *b)
{
	const json_t *const *x = a, *const *y = b;
	json_int_t i = json_integer_value(json_object_get(*x, "record"));
	json_int_t j = json_integer_value(json_object_get(*y, "record"));
	return i < j ? -1 : i > j;
}

/*
 * The errors in file order: those only the store can tell were noted after
 * those of reading. Each record has at most one error, so the order of
 * equal keys does not arise.
 */
static int sort_errors(struct student_import *c)
{
	size_t n = json_array_size(c->errors), i;
	json_t **v, *e, *sorted;
	int r = 0;

	if (n < 2)
		return 0;
	if ((v = calloc(n, sizeof(*v))) == NULL || (sorted = json_array()) == NULL) {
		free(v);
		return BATON_ENOMEM;
	}
	json_array_foreach(c->errors, i, e) v[i] = e;
	qsort(v, n, sizeof(*v), by_record);
	for (i = 0; i < n && r == 0; i++)
		r = json_array_append(sorted, v[i]) != 0 ? BATON_ENOMEM : 0;
	free(v);
	json_decref(c->errors);
	c->errors = sorted;
	return r;
}

/*
 * Opens the folder attachments are read from and reads the file; then a
 * dry run (or a file with bad records, for the rest of its errors) reads
 * the store, and an import writes it in one transaction.
 */
int student_import_run(store *st, struct student_import *c)
{
	char tmp[4096], base[4096];
	int r;

	c->base_fd = -1;
	if (c->want_results && c->results == NULL && (c->results = json_array()) == NULL)
		return BATON_ENOMEM;
	if (c->source != NULL) {
		c->no_attachments = 1;
		if ((r = spool_create(c)) == 0 && (r = prepare_all(c)) == 0)
			r = c->dry_run || c->nerrors ? store_read(st, sort_all, c)
			                             : store_write(st, write_all, c);
		spool_close(c);
		if (r == 0 && c->nerrors)
			r = sort_errors(c);
		if (r == 0 && c->nerrors)
			r = c->first_error;
		return r;
	}
	if ((r = record_file_open(c->file, &c->rf)) != 0)
		return r;
	snprintf(tmp, sizeof(tmp), "%s", c->file);
	snprintf(base, sizeof(base), "%s", dirname(tmp));
	if (realpath(c->node, c->node_real) == NULL || stat(c->node_real, &c->node_st) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", c->node, strerror(errno));
	if ((c->base_fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", base, strerror(errno));
	c->base_in_node = nested(base, c->node_real);
	if ((r = prepare_all(c)) == 0)
		r = c->dry_run || c->nerrors ? store_read(st, sort_all, c)
		                             : store_write(st, write_all, c);
	close(c->base_fd);
	c->base_fd = -1;
	if (r == 0 && c->nerrors)
		r = sort_errors(c);
	if (r == 0 && c->nerrors)
		r = c->first_error;
	return r;
}

void student_import_clear(struct student_import *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nready; i++) {
		if (c->ready[i].canon)
			sodium_memzero(c->ready[i].canon, strlen(c->ready[i].canon));
		free(c->ready[i].canon);
		free(c->ready[i].fields);
		json_decref(c->ready[i].rec);
	}
	free(c->ready);
	spool_close(c);
	record_file_close(c->rf);
	json_decref(c->seen);
	json_decref(c->claimed);
	json_decref(c->errors);
	json_decref(c->results);
	c->rf = NULL;
	c->ready = NULL;
	c->nready = c->ready_cap = 0;
	c->seen = c->claimed = c->errors = c->results = NULL;
}

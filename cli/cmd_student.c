/* baton student import | list | show | export. */
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

#include "cli.h"
#include "bti.h"
#include "record.h"
#include "record_file.h"

#define ATTACHMENT_MAX ((size_t)4 << 30) /* one attachment file */
#define ERRORS_SHOWN   100               /* a file's errors listed; the rest are counted */

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

struct import_ctx {
	const char *file;
	record_file *rf;
	char base[4096];
	int base_fd;         /* the folder of the JSON file: attachments are inside it */
	int base_in_node;    /* that folder is in the node directory */
	char node[PATH_MAX]; /* the node directory, resolved: never a source of attachments */
	struct stat node_st;
	size_t records, added, versions, unchanged, held;
	json_t *seen;    /* the student ids read so far from this file */
	json_t *errors;  /* {record, student_id, error} of the first ERRORS_SHOWN bad records */
	json_t *results; /* with --json: {student_id, result, version or held} a record */
	size_t nerrors;
	int first_error;
	struct cli_progress progress;
};

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
static int open_attachment(const struct import_ctx *c, const char *rel, int *fd)
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
static int import_attachments(store_txn *t, struct import_ctx *c, json_t *rec)
{
	json_t *atts = json_object_get(rec, "attachments"), *a;
	size_t i;
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

/* With --json, what became of one student's record. */
static int note_result(struct import_ctx *c, const store_student *s, int how, const store_held *h)
{
	json_t *o;
	if (c->results == NULL)
		return 0;
	o = json_pack("{s:s, s:s}", "student_id", s->id, "result",
	              how == FILED_NEW         ? "new"
	              : how == FILED_UNCHANGED ? "unchanged"
	              : how == FILED_HELD      ? "held"
	                                       : "new_version");
	if (o && how == FILED_HELD)
		json_object_set_new(o, "held", json_integer((json_int_t)h->id));
	else if (o)
		json_object_set_new(o, "version", json_integer((json_int_t)s->version));
	return o == NULL || json_array_append_new(c->results, o) != 0 ? BATON_ENOMEM : 0;
}

static int import_one(store_txn *t, struct import_ctx *c, json_t *rec)
{
	store_student s;
	store_held h;
	const json_t *id = json_object_get(rec, "student_id");
	char *canon = NULL, detail[128];
	int r, how;

	if ((r = record_validate(rec)) != 0)
		return r;
	/* One file, one record per student, whatever the store already holds. */
	if (json_object_get(c->seen, json_string_value(id)) != NULL)
		return bti_diag_err(BATON_EVALUE,
		                    "student_id: \"%s\" repeats an earlier record in this file",
		                    json_string_value(id));
	if (json_object_set_new(c->seen, json_string_value(id), json_true()) != 0)
		return BATON_ENOMEM;
	if ((r = import_attachments(t, c, rec)) != 0)
		return r;
	memset(&s, 0, sizeof(s));
	memset(&h, 0, sizeof(h));
	snprintf(s.id, sizeof(s.id), "%s", json_string_value(id));
	record_index(rec, &s);
	if ((canon = record_canonical(rec)) == NULL)
		return BATON_ENOMEM;
	if ((r = store_student_file(t, &s, canon, strlen(canon), &h, &how)) != 0 ||
	    (r = note_result(c, &s, how, &h)) != 0)
		goto out;
	switch (how) {
	case FILED_UNCHANGED:
		c->unchanged++;
		goto out;
	case FILED_HELD:
		c->held++;
		snprintf(detail, sizeof(detail),
		         "held for review as %llu: not the child on file as %s",
		         (unsigned long long)h.id, s.id);
		break;
	default:
		if (how == FILED_NEW)
			c->added++;
		else
			c->versions++;
		snprintf(detail, sizeof(detail), "version %u", s.version);
	}
	r = cli_audit(t, "import", s.id, NULL, detail);
out:
	free(canon);
	return r;
}

/* A record's error, kept to report with the others; the import goes on. The first decides the exit
 * code. */
static int note_error(struct import_ctx *c, size_t index, const char *sid, int r)
{
	char why[600];
	snprintf(why, sizeof(why), "%s",
	         baton_diag_for(r)[0] ? baton_diag_for(r) : baton_strerror(r));
	bti_diag_clear();
	if (c->nerrors++ == 0)
		c->first_error = r;
	if (c->nerrors > ERRORS_SHOWN)
		return 0;
	json_t *e = json_pack("{s:s*, s:s}", "student_id", sid, "error", why);
	/* An error about the whole file (not JSON records at all) names no record. */
	if (e && index > 0)
		json_object_set_new(e, "record", json_integer((json_int_t)index));
	return e == NULL || json_array_append_new(c->errors, e) != 0 ? BATON_ENOMEM : 0;
}

/* Validates and files one record; a refused record's error is prefixed with its number. */
static int import_record(store_txn *t, struct import_ctx *c, json_t *rec, size_t index)
{
	const char *sid = json_string_value(json_object_get(rec, "student_id"));
	int r = import_one(t, c, rec);
	if (r == 0 && record_json_failed())
		r = bti_diag_err(BATON_ENOMEM, "out of memory");
	if (r != 0 && cli_exit_code(r) == EXIT_REJECTED) {
		char why[512];
		snprintf(why, sizeof(why), "%s", baton_diag());
		r = bti_diag_err(r, "record %zu (%s): %s", index, sid ? sid : "no student_id", why);
	}
	return r;
}

static int import_all(store_txn *t, void *arg)
{
	struct import_ctx *c = arg;
	json_t *rec;
	size_t index, done, total;
	int r;

	/* store_write may run this again after growing the map: start from scratch. */
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
	while ((r = record_file_next(c->rf, &rec, &index)) != BATON_ENOTFOUND) {
		if (r == 0)
			r = import_record(t, c, rec, index);
		/* Bad input is noted and the file read on; the store failing ends it. */
		if (r != 0 && cli_exit_code(r) == EXIT_REJECTED)
			r = note_error(c, index,
			               json_string_value(json_object_get(rec, "student_id")), r);
		json_decref(rec);
		if (r != 0)
			return r;
		record_file_progress(c->rf, &done, &total);
		cli_progress(&c->progress, "importing %s: %zu records, %zu%%", c->file,
		             record_file_count(c->rf), total ? done * 100 / total : 100);
	}
	c->records = record_file_count(c->rf);
	if (c->nerrors == 0 && c->records == 0)
		return bti_diag_err(BATON_EVALUE, "no student records in the file");
	return c->nerrors ? c->first_error : 0;
}

/* The refusal: every error (up to ERRORS_SHOWN), and that nothing was imported. */
static int import_refused(const struct import_ctx *c, int json, int r)
{
	size_t i;
	json_t *e;
	if (c->nerrors == 0) {
		/* One line: the place, the reason, and that the store is unchanged. */
		const char *why = baton_diag_for(r);
		fprintf(stderr, "baton: %s: %s; nothing was imported\n", c->file,
		        why[0] ? why : baton_strerror(r));
		return cli_exit_code(r);
	}
	if (json)
		cli_print_json(json_pack("{s:s, s:b, s:I, s:I, s:O}", "file", c->file, "imported",
		                         0, "records", (json_int_t)c->records, "bad_records",
		                         (json_int_t)c->nerrors, "errors", c->errors));
	if (c->nerrors == 1) {
		fprintf(stderr, "baton: %s: %s; nothing was imported\n", c->file,
		        cli_str(json_array_get(c->errors, 0), "error"));
		return cli_exit_code(c->first_error);
	}
	if (!json)
		json_array_foreach(c->errors, i, e)
		    fprintf(stderr, "baton: %s: %s\n", c->file, cli_str(e, "error"));
	if (!json && c->nerrors > ERRORS_SHOWN)
		fprintf(stderr, "baton: %s: and %zu more\n", c->file, c->nerrors - ERRORS_SHOWN);
	fprintf(stderr, "baton: %s: %zu errors; nothing was imported\n", c->file, c->nerrors);
	return cli_exit_code(c->first_error);
}

static void import_report(const struct import_ctx *c, int json)
{
	if (json) {
		cli_print_json(
		    json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:[], s:O}", "file",
		              c->file, "imported", 1, "records", (json_int_t)c->records, "new",
		              (json_int_t)c->added, "new_versions", (json_int_t)c->versions,
		              "unchanged", (json_int_t)c->unchanged, "held", (json_int_t)c->held,
		              "bad_records", (json_int_t)0, "errors", "students", c->results));
		return;
	}
	printf("Imported %zu records from %s: %zu new students, %zu new versions, %zu "
	       "unchanged\n",
	       c->records, c->file, c->added, c->versions, c->unchanged);
	if (c->held)
		printf("%zu held for review: not the child on file under that student_id "
		       "('baton review')\n",
		       c->held);
}

/* Opens the folder attachments are read from, and runs the import in one transaction. */
static int import_run(store *st, struct import_ctx *c, const char *dir)
{
	char tmp[4096];
	int r;
	snprintf(tmp, sizeof(tmp), "%s", c->file);
	snprintf(c->base, sizeof(c->base), "%s", dirname(tmp));
	if (realpath(dir, c->node) == NULL || stat(c->node, &c->node_st) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	if ((c->base_fd = open(c->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", c->base, strerror(errno));
	c->base_in_node = nested(c->base, c->node);
	cli_progress_start(&c->progress);
	r = store_write(st, import_all, c);
	cli_progress_end(&c->progress);
	close(c->base_fd);
	return r;
}

static const char import_usage[] =
    "usage: baton student import FILE.json [--json] [--dir DIR]\n\n"
    "Imports one student object or an array of them (proto/RECORD.md).\n"
    "Attachment paths are relative to the folder of the JSON file and stay\n"
    "inside it (no '..', no symbolic links). All or nothing: one\n"
    "bad record and nothing is imported; every bad record is reported, by\n"
    "its number in the file (from 1). An existing student_id gets a\n"
    "new version when it is the same child (names and birth date); older\n"
    "versions are kept. A record of another child under that id is held\n"
    "for review ('baton review'), not made current.\n";

static int student_import(int argc, char **argv)
{
	struct cli_common com = {0};
	struct import_ctx c;
	store *st = NULL;
	int r, rc;

	if ((rc = cli_common_only(argc, argv, &com, import_usage)) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error("student import: one FILE.json expected");
	memset(&c, 0, sizeof(c));
	c.file = argv[optind];
	if (com.json && (c.results = json_array()) == NULL)
		return cli_fail(NULL, BATON_ENOMEM);
	if ((r = record_file_open(c.file, &c.rf)) != 0) {
		json_decref(c.results);
		return cli_fail(NULL, r);
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK) {
		record_file_close(c.rf);
		json_decref(c.results);
		return rc;
	}
	r = import_run(st, &c, cli_dir(&com));
	store_close(st);
	record_file_close(c.rf);
	if (r != 0)
		rc = import_refused(&c, com.json, r);
	else
		import_report(&c, com.json);
	json_decref(c.seen);
	json_decref(c.errors);
	json_decref(c.results);
	return r != 0 ? rc : EXIT_OK;
}

/* ---- list ---- */

struct list_ctx {
	json_t *arr;
	const char *term; /* only students whose id or names contain it; NULL: all */
};

/* Whether the student matches the search term, ignoring ASCII case. */
static int list_match(const store_student *s, const char *term)
{
	char full[2 * sizeof(s->given_name) + 2];
	snprintf(full, sizeof(full), "%s %s", s->given_name, s->family_name);
	return term == NULL || strcasestr(s->id, term) || strcasestr(s->state_id, term) ||
	       strcasestr(full, term);
}

static int list_one(const store_student *s, void *arg)
{
	struct list_ctx *c = arg;
	if (!list_match(s, c->term))
		return 0;
	return json_array_append_new(
	           c->arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I}", "student_id", s->id,
	                             "state_student_id", s->state_id, "given_name", s->given_name,
	                             "family_name", s->family_name, "birth_date", s->birth_date,
	                             "version", (int)s->version, "updated", (json_int_t)s->updated))
	           ? BATON_ENOMEM
	           : 0;
}

static int list_students(store_txn *t, void *arg)
{
	struct list_ctx *c = arg;
	return store_student_each(t, list_one, c);
}

/* One line a student, the columns aligned by the width names take on screen. */
static void list_print(const json_t *arr)
{
	size_t i, wid = 0, wname = 0;
	const json_t *e;
	char name[512];
	json_array_foreach(arr, i, e)
	{
		snprintf(name, sizeof(name), "%s %s", cli_str(e, "given_name"),
		         cli_str(e, "family_name"));
		if (cli_width(cli_str(e, "student_id")) > wid)
			wid = cli_width(cli_str(e, "student_id"));
		if (cli_width(name) > wname)
			wname = cli_width(name);
	}
	json_array_foreach(arr, i, e)
	{
		snprintf(name, sizeof(name), "%s %s", cli_str(e, "given_name"),
		         cli_str(e, "family_name"));
		cli_pad(stdout, cli_str(e, "student_id"), wid);
		fputs("  ", stdout);
		cli_pad(stdout, name, wname);
		printf("  %s  v%d\n", cli_str(e, "birth_date"),
		       (int)json_integer_value(json_object_get(e, "version")));
	}
}

static int student_list(int argc, char **argv)
{
	struct cli_common com = {0};
	struct list_ctx lc = {NULL, NULL};
	store *st;
	int r, rc;
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton student list [TERM] [--json] [--dir DIR]\n\n"
	                          "Lists the students on file: id, given and family name, birth "
	                          "date and\nversion. With TERM, only those whose id, state id or "
	                          "names contain it\n(upper or lower case alike).\n")) >= 0)
		return rc;
	if (argc - optind > 1)
		return cli_usage_error("student list: at most one search TERM");
	lc.term = optind < argc ? argv[optind] : NULL;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	lc.arr = json_array();
	r = lc.arr ? store_read(st, list_students, &lc) : BATON_ENOMEM;
	store_close(st);
	return cli_table_done(r, lc.arr, NULL, com.json, list_print, "student list",
	                      lc.term ? "No student matches."
	                              : "No students yet ('baton student import FILE.json').");
}

/* ---- show and export ---- */

struct show_ctx {
	const char *id;
	uint32_t version;
	store_student s;
	json_t *record;
	json_t *guardians;
	size_t held; /* records naming this student, held for review */
	/* export */
	const char *files_dir; /* where attachment files go; NULL for show */
	const char *files_rel; /* their path as written into the JSON */
};

static int guardian_json(const store_guardian *g, void *arg)
{
	char line[BATON_PUBKEY_TEXT_MAX], fpr[BATON_FINGERPRINT_LEN + 1];
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, g->pk, line);
	baton_fingerprint(g->pk, fpr);
	return json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:b, s:I}", "key", line,
	                                            "fingerprint", fpr, "relation", g->relation,
	                                            "restricted", g->restricted, "linked",
	                                            (json_int_t)g->linked))
	           ? BATON_ENOMEM
	           : 0;
}

static int write_attachments(store_txn *t, struct show_ctx *c)
{
	json_t *atts = json_object_get(c->record, "attachments"), *a;
	size_t i;
	/* Always a new directory: never into one (or a link) that was already there. */
	if (json_array_size(atts) > 0 && mkdir(c->files_dir, 0700) != 0)
		return bti_diag_err(
		    errno == EEXIST ? BATON_EEXIST : BATON_EIO, "%s: %s", c->files_dir,
		    errno == EEXIST ? "already exists; not writing into it" : strerror(errno));
	json_array_foreach(atts, i, a)
	{
		uint8_t hash[32];
		const uint8_t *data;
		size_t len;
		char path[8192], rel[8192];
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *hex = json_string_value(json_object_get(a, "hash"));
		int r;
		if (hex == NULL ||
		    sodium_hex2bin(hash, 32, hex, strlen(hex), NULL, NULL, NULL) != 0)
			return bti_diag_err(BATON_EIO, "attachments[%zu]: damaged hash", i);
		if ((r = store_blob_get(t, hash, &data, &len)) != 0)
			return r == BATON_ENOTFOUND
			           ? bti_diag_err(BATON_EIO, "attachments[%zu]: bytes missing", i)
			           : r;
		snprintf(path, sizeof(path), "%s/%s", c->files_dir, name);
		if ((r = baton_file_create(path, data, len, 0600)) != 0)
			return r;
		snprintf(rel, sizeof(rel), "%s/%s", c->files_rel, name);
		json_object_del(a, "hash");
		json_object_del(a, "size");
		json_object_set_new(a, "path", json_string(rel));
	}
	return 0;
}

static int count_held(const store_held *h, void *arg)
{
	struct show_ctx *c = arg;
	c->held += strcmp(h->student, c->id) == 0;
	return 0;
}

static int load_student(store_txn *t, void *arg)
{
	struct show_ctx *c = arg;
	char *js;
	size_t len;
	json_error_t err;
	int r;

	if ((r = store_student_get(t, c->id, &c->s)) != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EVALUE, "no student \"%s\"", c->id)
		                            : r;
	if ((r = store_record_get(t, c->id, c->version, &js, &len)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_EVALUE, "student \"%s\" has no version %u", c->id,
		                          c->version)
		           : r;
	c->record = json_loadb(js, len, 0, &err);
	free(js);
	if (c->record == NULL)
		return bti_diag_err(BATON_EIO, "stored record of %s does not parse", c->id);
	c->guardians = json_array();
	if ((r = store_guardian_each(t, c->id, guardian_json, c->guardians)) != 0 ||
	    (r = store_held_each(t, count_held, c)) != 0)
		return r;
	return c->files_dir ? write_attachments(t, c) : 0;
}

static void print_record(const struct show_ctx *c)
{
	const json_t *r = c->record, *id = json_object_get(r, "identity");
	printf("%s  %s %s", c->s.id, json_string_value(json_object_get(id, "given_name")),
	       json_string_value(json_object_get(id, "family_name")));
	if (json_object_get(id, "preferred_name"))
		printf(" (\"%s\")", json_string_value(json_object_get(id, "preferred_name")));
	printf("\n  born %s", json_string_value(json_object_get(id, "birth_date")));
	if (c->s.state_id[0])
		printf(", state id %s", c->s.state_id);
	printf("\n  version %u of %u, updated %s\n", c->version ? c->version : c->s.version,
	       c->s.version, cli_time(c->s.updated));
	if (c->held)
		printf("  %zu record%s naming this student held for review: not current "
		       "('baton review')\n",
		       c->held, c->held == 1 ? "" : "s");
	printf("  sections:");
	for (int s = 0; s < BATON_SEC_COUNT; s++) {
		const char *name = baton_section_name((baton_section)s);
		const json_t *v = json_object_get(r, name);
		if (v == NULL)
			continue;
		printf(" %s", name);
		if (json_is_array(v))
			printf("(%zu)", json_array_size(v));
		if (baton_section_sensitive((baton_section)s))
			printf("*");
	}
	printf("   (* sensitive)\n");
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(r, "attachments"), i, a)
	    printf("  attachment: %s (%s, %lld bytes, %s)\n",
	           json_string_value(json_object_get(a, "name")),
	           json_string_value(json_object_get(a, "media_type")),
	           (long long)json_integer_value(json_object_get(a, "size")),
	           json_string_value(json_object_get(a, "section")));
	if (json_array_size(c->guardians) == 0)
		printf("  guardian keys: none linked\n");
	json_array_foreach(c->guardians, i, a) printf(
	    "  guardian key: %s %s%s\n    %s\n", json_string_value(json_object_get(a, "relation")),
	    json_string_value(json_object_get(a, "fingerprint")),
	    json_is_true(json_object_get(a, "restricted")) ? " RESTRICTED" : "",
	    json_string_value(json_object_get(a, "key")));
}

static int student_show(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"version", required_argument, NULL, 'v'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct show_ctx c;
	store *st;
	int opt, r, rc;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'v' && atoi(optarg) > 0) {
			c.version = (uint32_t)atoi(optarg);
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton student show ID [--version N] [--json] [--dir DIR]\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("student show: one student ID expected");
	c.id = argv[optind];
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = store_read(st, load_student, &c);
	store_close(st);
	if (r != 0) {
		json_decref(c.record);
		json_decref(c.guardians);
		return cli_fail("student show", r);
	}
	if (com.json) {
		cli_print_json(json_pack("{s:O, s:i, s:i, s:I, s:O, s:I}", "record", c.record,
		                         "version", (int)(c.version ? c.version : c.s.version),
		                         "versions", (int)c.s.version, "updated",
		                         (json_int_t)c.s.updated, "guardian_keys", c.guardians,
		                         "held_for_review", (json_int_t)c.held));
	} else {
		print_record(&c);
	}
	json_decref(c.record);
	json_decref(c.guardians);
	return EXIT_OK;
}

static int student_export(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"out", required_argument, NULL, 'o'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct show_ctx c;
	const char *out = NULL;
	char dir[4096], files_dir[8192], rel[256], tmp[4096];
	store *st;
	int opt, r, rc;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'o') {
			out = optarg;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton student export ID [--out FILE] [--dir DIR]\n\n"
		        "Writes the record as JSON (to FILE or standard output) and its\n"
		        "attachments beside it in ID-files/, so that 'baton student import'\n"
		        "reads it back to the same record.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("student export: one student ID expected");
	c.id = argv[optind];
	snprintf(tmp, sizeof(tmp), "%s", out ? out : "./x");
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	snprintf(rel, sizeof(rel), "%s-files", c.id);
	snprintf(files_dir, sizeof(files_dir), "%s/%s", dir, rel);
	c.files_dir = files_dir;
	c.files_rel = rel;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = store_read(st, load_student, &c);
	store_close(st);
	if (r == 0) {
		char *text =
		    json_dumps(c.record, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
		if (text == NULL) {
			r = BATON_ENOMEM;
		} else if (out) {
			size_t n = strlen(text);
			text[n] = '\n';
			r = baton_file_create(out, (const uint8_t *)text, n + 1, 0600);
			text[n] = 0;
		} else {
			puts(text);
		}
		free(text);
	}
	json_decref(c.record);
	json_decref(c.guardians);
	if (r != 0)
		return cli_fail("student export", r);
	if (out)
		fprintf(stderr, "Exported %s to %s\n", c.id, out);
	return EXIT_OK;
}

int cmd_student(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"import", student_import, "import records from a JSON file"},
	    {"list", student_list, "list students"},
	    {"show", student_show, "show one student's record"},
	    {"export", student_export, "write a record as JSON with its attachments"},
	};
	return cli_dispatch("student", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

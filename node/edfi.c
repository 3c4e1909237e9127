/*
 * Ed-Fi resources gathered by student and made into Baton records (edfi.h,
 * docs/edfi.md has the mapping as a table).
 *
 * Gathering: a resource that names a student (a students object, or one
 * with a studentReference) is kept under "studentUniqueId\0resource\0seq";
 * any other (schools, courses, contacts, ...) under "resource\0key", its
 * identity fields, which is how an Ed-Fi reference names it. The scratch
 * LMDB environment lives in a private temporary directory and is removed at
 * the end: a file's order is arbitrary, and memory holds one student.
 */
#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bti.h"
#include "edfi.h"
#include "edfi_map.h"
#include "edfi_types.h"
#include "edfi_xml.h"
#include "record.h"

#define SCRATCH_MAP    ((size_t)64 << 30) /* address space only: the file grows as written */
#define COMMIT_EVERY   4000               /* objects per scratch write transaction */
#define KEY_MAX        480                /* under LMDB's 511-byte key limit */
#define SEP            "\x1f"             /* between the parts of a key */
#define CYCLE_STUDENTS 200 /* students read between two remappings of the scratch store */
/* Objects naming one student, at most: far past a lifetime of daily attendance and courses. */
#define STUDENT_OBJECTS_MAX 20000

/* The Ed-Fi formats: a reader of the contract's shape, and one that can skip with a note. */
struct edfi_format {
	const char *name;
	int (*read)(const char *path, edfi_sink sink, void *arg);
	int (*read_notes)(const char *path, edfi_sink sink, edfi_note note, void *arg);
	/* read_notes handing on each object's own bytes too, or NULL */
	int (*read_raw)(const char *path, edfi_sink_raw sink, edfi_note note, void *arg);
};

/* The XML reader's names not converted, told as a dry run's notes. */
struct xml_notes {
	edfi_sink sink;
	edfi_note note;
	void *arg;
};

static int xml_notes_sink(void *arg, const char *resource, json_t *obj, const char *where)
{
	struct xml_notes *x = arg;
	return x->sink(x->arg, resource, obj, where);
}

static void xml_notes_skipped(void *arg, const char *name, const char *where)
{
	struct xml_notes *x = arg;
	char msg[512];
	snprintf(msg, sizeof(msg), "%s: %s is not read (not carried over)", where, name);
	x->note(x->arg, msg);
}

static int xml_read_notes(const char *dir, edfi_sink sink, edfi_note note, void *arg)
{
	struct xml_notes x = {sink, note, arg};
	return edfi_xml_read_ex(dir, xml_notes_sink, xml_notes_skipped, &x);
}

static const struct edfi_format formats[] = {
    {"edfi-json", edfi_json_read, edfi_json_read_notes, edfi_json_read_raw},
    {"edfi-xml", edfi_xml_read, xml_read_notes, NULL},
};

int edfi_format_known(const char *format)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, format) == 0)
			return 1;
	return 0;
}

struct edfi_set {
	char dir[256];
	MDB_env *env;
	MDB_dbi by_student, by_key;
	MDB_txn *wtxn; /* while reading: the scratch write transaction */
	size_t in_txn;
	uint64_t seq;
	json_t *filter;    /* ids wanted, or NULL: all */
	json_t *notes;     /* about the whole set */
	json_t *calendars; /* school id -> its instructional days (false: it has none) */
	json_t *cache;     /* the district's catalog objects read so far (lookup) */
	edfi_map *map;
	char last[BATON_STUDENT_MAX + 2]; /* the last student returned; "" before the first */
	int started;
	int pass; /* times rewound: notes about the set are made on the first pass */
	size_t objects;
	size_t served; /* edfi_set_next calls */
};

static int lmdb_err(int rc, const char *what)
{
	if (rc == ENOMEM)
		return BATON_ENOMEM;
	return bti_diag_err(BATON_EIO, "scratch store: %s: %s", what, mdb_strerror(rc));
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * The scratch store holds students' data: an import ended by SIGINT, SIGTERM
 * or SIGHUP removes it before it dies (unlink and rmdir are safe in a signal
 * handler). Only where the signal was left to its default; one set at a time.
 */
static const int scratch_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define NSCRATCH_SIGNALS (sizeof(scratch_signals) / sizeof(scratch_signals[0]))
static char scratch_files[3][sizeof(((edfi_set *)0)->dir) + 16];
static volatile sig_atomic_t scratch_armed;
static int scratch_caught[NSCRATCH_SIGNALS];

static void scratch_on_signal(int sig)
{
	if (scratch_armed) {
		unlink(scratch_files[0]);
		unlink(scratch_files[1]);
		rmdir(scratch_files[2]);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void scratch_arm(const char *dir)
{
	if (scratch_armed)
		return;
	snprintf(scratch_files[0], sizeof(scratch_files[0]), "%s/data.mdb", dir);
	snprintf(scratch_files[1], sizeof(scratch_files[1]), "%s/lock.mdb", dir);
	snprintf(scratch_files[2], sizeof(scratch_files[2]), "%s", dir);
	scratch_armed = 1;
	for (size_t i = 0; i < NSCRATCH_SIGNALS; i++) {
		struct sigaction sa, old;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = scratch_on_signal;
		sigemptyset(&sa.sa_mask);
		scratch_caught[i] = 0;
		if (sigaction(scratch_signals[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL &&
		    !(old.sa_flags & SA_SIGINFO))
			scratch_caught[i] = sigaction(scratch_signals[i], &sa, NULL) == 0;
	}
}

static void scratch_disarm(const char *dir)
{
	if (!scratch_armed || strcmp(scratch_files[2], dir) != 0)
		return;
	for (size_t i = 0; i < NSCRATCH_SIGNALS; i++)
		if (scratch_caught[i])
			signal(scratch_signals[i], SIG_DFL);
	scratch_armed = 0;
}

void edfi_set_close(edfi_set *set)
{
	if (set == NULL)
		return;
	if (set->wtxn)
		mdb_txn_abort(set->wtxn);
	if (set->env)
		mdb_env_close(set->env);
	if (set->dir[0]) {
		nftw(set->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
		scratch_disarm(set->dir);
	}
	json_decref(set->filter);
	json_decref(set->notes);
	json_decref(set->calendars);
	json_decref(set->cache);
	edfi_map_free(set->map);
	free(set);
}

/*
 * Opens the scratch environment in set->dir (again). The pages of its map
 * that were touched count as the process's memory until it is unmapped, so
 * the set closes and opens it every so often (scratch_cycle): memory stays
 * that of one student, not of the district.
 */
static int scratch_open(edfi_set *set)
{
	MDB_txn *t = NULL;
	int rc;
	if ((rc = mdb_env_create(&set->env)) != 0 || (rc = mdb_env_set_maxdbs(set->env, 2)) != 0 ||
	    (rc = mdb_env_set_mapsize(set->env, SCRATCH_MAP)) != 0 ||
	    (rc = mdb_env_open(set->env, set->dir,
	                       MDB_NOSYNC | MDB_NOMETASYNC | MDB_WRITEMAP | MDB_NOTLS, 0600)) !=
	        0 ||
	    (rc = mdb_txn_begin(set->env, NULL, 0, &t)) != 0 ||
	    (rc = mdb_dbi_open(t, "by_student", MDB_CREATE, &set->by_student)) != 0 ||
	    (rc = mdb_dbi_open(t, "by_key", MDB_CREATE, &set->by_key)) != 0 ||
	    (rc = mdb_txn_commit(t)) != 0) {
		if (t)
			mdb_txn_abort(t);
		if (set->env)
			mdb_env_close(set->env);
		set->env = NULL;
		return lmdb_err(rc, "open");
	}
	return 0;
}

/* Unmaps the scratch environment and maps it afresh (no transaction may be open). */
static int scratch_cycle(edfi_set *set)
{
	mdb_env_close(set->env);
	set->env = NULL;
	return scratch_open(set);
}

int edfi_set_open(edfi_set **out, const char *map_file)
{
	edfi_set *set;
	const char *tmp = getenv("TMPDIR");
	int r;

	*out = NULL;
	if ((set = calloc(1, sizeof(*set))) == NULL)
		return BATON_ENOMEM;
	if ((set->notes = json_array()) == NULL || (set->calendars = json_object()) == NULL ||
	    (set->cache = json_object()) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	if ((r = edfi_map_load(&set->map, map_file)) != 0)
		goto out;
	snprintf(set->dir, sizeof(set->dir), "%s/baton-edfi-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (mkdtemp(set->dir) == NULL) {
		r = bti_diag_err(BATON_EIO, "%s: %s", set->dir, strerror(errno));
		set->dir[0] = '\0';
		goto out;
	}
	scratch_arm(set->dir);
	if ((r = scratch_open(set)) != 0)
		goto out;
	*out = set;
	set = NULL;
	r = 0;
out:
	edfi_set_close(set);
	return r;
}

int edfi_set_filter(edfi_set *set, const char *ids)
{
	char id[BATON_STUDENT_MAX + 1];
	if (set->filter == NULL && (set->filter = json_object()) == NULL)
		return BATON_ENOMEM;
	for (const char *p = ids; *p;) {
		size_t n = strcspn(p, ",");
		if (n == 0 || n > BATON_STUDENT_MAX)
			return bti_diag_err(BATON_EVALUE,
			                    "--filter: \"%.*s\" is not a studentUniqueId",
			                    (int)(n > 64 ? 64 : n), p);
		snprintf(id, sizeof(id), "%.*s", (int)n, p);
		if (json_object_set_new(set->filter, id, json_false()) != 0)
			return BATON_ENOMEM;
		p += n + (p[n] == ',');
	}
	return 0;
}

/* ---- identity fields ---- */

/* A scalar identity value as text (strings as they are, integers in decimal). */
static int scalar(const json_t *v, char *buf, size_t cap)
{
	if (json_is_string(v))
		return snprintf(buf, cap, "%s", json_string_value(v)) < (int)cap ? 0 : -1;
	if (json_is_integer(v))
		return snprintf(buf, cap, "%lld", (long long)json_integer_value(v)), 0;
	return -1;
}

/* obj's field at path "a" or "aReference.b" as text; "" when absent. */
static const char *period_name(const json_t *o, char *buf, size_t cap);

static const char *field_at(const json_t *obj, const char *path, char *buf, size_t cap)
{
	const char *dot = strchr(path, '.');
	const json_t *v = obj;
	if (strcmp(path, "@periodName") == 0)
		return period_name(obj, buf, cap);
	if (dot) {
		char first[64];
		snprintf(first, sizeof(first), "%.*s", (int)(dot - path), path);
		v = json_object_get(obj, first);
		path = dot + 1;
	}
	buf[0] = '\0';
	if (scalar(json_object_get(v, path), buf, cap) != 0)
		buf[0] = '\0';
	return buf;
}

/*
 * A grading period's name within its school and year, in a gradingPeriods
 * object or a gradingPeriodReference: Data Standard 5's gradingPeriodName,
 * or 4's descriptor code and sequence ("Sixth Six Weeks#6"). "" when neither.
 */
static const char *period_name(const json_t *o, char *buf, size_t cap)
{
	const char *n = json_string_value(json_object_get(o, "gradingPeriodName"));
	const char *d = json_string_value(json_object_get(o, "gradingPeriodDescriptor"));
	const json_t *q = json_object_get(o, "periodSequence");
	buf[0] = '\0';
	if (n && n[0])
		snprintf(buf, cap, "%s", n);
	else if (d && json_is_integer(q))
		snprintf(buf, cap, "%s#%lld", strrchr(d, '#') ? strrchr(d, '#') + 1 : d,
		         (long long)json_integer_value(q));
	return buf;
}

/* The identity fields of each resource not kept by student, in key order. */
struct identity {
	const char *resource;
	const char *fields[5];
};
static const struct identity identities[] = {
    {"assessments", {"assessmentIdentifier", "namespace"}},
    {"calendarDates",
     {"calendarReference.schoolId", "date", "calendarReference.calendarCode",
      "calendarReference.schoolYear"}},
    {"calendars",
     {"schoolReference.schoolId", "schoolYearTypeReference.schoolYear", "calendarCode"}},
    {"contacts", {"contactUniqueId"}},
    {"courses", {"courseCode", "educationOrganizationReference.educationOrganizationId"}},
    {"disciplineIncidents", {"incidentIdentifier", "schoolReference.schoolId"}},
    {"gradingPeriods",
     {"schoolReference.schoolId", "schoolYearTypeReference.schoolYear", "@periodName"}},
    {"graduationPlans",
     {"graduationPlanTypeDescriptor", "educationOrganizationReference.educationOrganizationId",
      "graduationSchoolYearTypeReference.schoolYear"}},
    {"parents", {"parentUniqueId"}},
    {"schools", {"schoolId"}},
    {"sections",
     {"sectionIdentifier", "courseOfferingReference.localCourseCode",
      "courseOfferingReference.schoolId", "courseOfferingReference.schoolYear",
      "courseOfferingReference.sessionName"}},
    {"sessions", {"schoolReference.schoolId", "schoolYearTypeReference.schoolYear", "sessionName"}},
};

static const struct identity *identity_of(const char *resource)
{
	for (size_t i = 0; i < sizeof(identities) / sizeof(identities[0]); i++)
		if (strcmp(identities[i].resource, resource) == 0)
			return &identities[i];
	return NULL;
}

/* "resource\0part SEP part ...": the key of the object obj, or of a lookup's parts. */
static int make_key(char *key, size_t cap, size_t *len, const char *resource,
                    const char *const *parts, size_t nparts)
{
	size_t n = strlen(resource) + 1;
	if (n >= cap)
		return -1;
	memcpy(key, resource, n);
	for (size_t i = 0; i < nparts; i++) {
		size_t l = strlen(parts[i]);
		if (n + l + 1 >= cap)
			return -1;
		if (i > 0)
			key[n++] = SEP[0];
		memcpy(key + n, parts[i], l);
		n += l;
	}
	*len = n;
	return 0;
}

/* ---- reading into the scratch store ---- */

/* 1 when s has a control character (a byte under 0x20, or DEL). */
static int has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* Removes what an Ed-Fi API adds to every object (id, _etag, link, ...): no student's data. */
static void strip_api(json_t *v)
{
	const char *k;
	json_t *x;
	void *tmp;
	size_t i;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) strip_api(x);
		return;
	}
	json_object_foreach_safe(v, tmp, k, x)
	{
		if (edfi_api_member(k, strlen(k)))
			json_object_del(v, k);
		else if (json_is_object(x) || json_is_array(x))
			strip_api(x);
	}
}

/*
 * Copying a resource object's JSON text (valid: the reader parsed it)
 * without its white space and without the members strip_api removes, named
 * without escapes; one named with escapes is kept here and removed when the
 * text is parsed again. out has room for the whole text.
 */
struct squeeze {
	const char *p;
	size_t len, at;
	char *out;
	size_t n;
	int depth;
};

static void sq_ws(struct squeeze *q)
{
	while (q->at < q->len && (q->p[q->at] == ' ' || q->p[q->at] == '\t' ||
	                          q->p[q->at] == '\n' || q->p[q->at] == '\r'))
		q->at++;
}

/* The string at q->at: its end (after the closing quote), or 0. */
static size_t sq_string_end(const struct squeeze *q)
{
	size_t i = q->at + 1;
	while (i < q->len && q->p[i] != '"')
		i += q->p[i] == '\\' ? 2 : 1;
	return i < q->len ? i + 1 : 0;
}

static int sq_value(struct squeeze *q, int keep);

static int sq_members(struct squeeze *q, int keep, char close)
{
	int first = 1;
	q->at++;
	if (keep)
		q->out[q->n++] = close == '}' ? '{' : '[';
	for (;;) {
		int k = keep;
		sq_ws(q);
		if (q->at >= q->len)
			return -1;
		if (q->p[q->at] == close)
			break;
		if (!first) {
			if (q->p[q->at] != ',')
				return -1;
			q->at++;
			sq_ws(q);
		}
		if (close == '}') {
			size_t ks = q->at, ke;
			if (q->at >= q->len || q->p[q->at] != '"' || (ke = sq_string_end(q)) == 0)
				return -1;
			if (edfi_api_member(q->p + ks + 1, ke - ks - 2))
				k = 0;
			q->at = ke;
			sq_ws(q);
			if (q->at >= q->len || q->p[q->at] != ':')
				return -1;
			q->at++;
			if (k) {
				if (q->n > 0 && q->out[q->n - 1] != '{')
					q->out[q->n++] = ',';
				memcpy(q->out + q->n, q->p + ks, ke - ks);
				q->n += ke - ks;
				q->out[q->n++] = ':';
			}
		} else if (k && !first)
			q->out[q->n++] = ',';
		if (sq_value(q, k) != 0)
			return -1;
		first = 0;
	}
	q->at++;
	if (keep)
		q->out[q->n++] = close;
	return 0;
}

static int sq_value(struct squeeze *q, int keep)
{
	size_t s, e;
	int r;
	sq_ws(q);
	if (q->at >= q->len || ++q->depth > 256)
		return -1;
	if (q->p[q->at] == '{' || q->p[q->at] == '[') {
		r = sq_members(q, keep, q->p[q->at] == '{' ? '}' : ']');
		q->depth--;
		return r;
	}
	s = q->at;
	if (q->p[q->at] == '"') {
		if ((e = sq_string_end(q)) == 0)
			return -1;
	} else {
		for (e = s; e < q->len && !strchr(",]} \t\n\r", q->p[e]); e++)
			;
		if (e == s)
			return -1;
	}
	if (keep) {
		memcpy(q->out + q->n, q->p + s, e - s);
		q->n += e - s;
	}
	q->at = e;
	q->depth--;
	return 0;
}

/* The length of raw squeezed into out (rawlen bytes of room), or 0 when it is not an object. */
static size_t squeeze(const char *raw, size_t rawlen, char *out)
{
	struct squeeze q = {raw, rawlen, 0, out, 0, 0};
	sq_ws(&q);
	if (q.at >= q.len || raw[q.at] != '{' || sq_value(&q, 1) != 0)
		return 0;
	return q.n;
}

/*
 * Keeps obj under key as "where\0json": raw (rawlen bytes) when the reader
 * has the object's own text (its API bookkeeping is removed when it is
 * parsed again, parse_val), else obj written out without that bookkeeping.
 * squeezed: raw is the reader's scan of the object (obj NULL: it was not
 * parsed), already without white space and bookkeeping.
 */
static int put(edfi_set *set, MDB_dbi dbi, const void *key, size_t klen, const char *where,
               const json_t *obj, const char *raw, size_t rawlen, int squeezed, unsigned flags)
{
	char *text = NULL;
	size_t wl = strlen(where) + 1, tl;
	MDB_val k = {klen, (void *)(uintptr_t)key}, v;
	int rc;

	if (raw != NULL && !squeezed) {
		if ((text = malloc(rawlen ? rawlen : 1)) == NULL)
			return BATON_ENOMEM;
		if ((rawlen = squeeze(raw, rawlen, text)) == 0) {
			free(text);
			text = NULL;
			raw = NULL;
		} else
			raw = text;
	}
	if (raw == NULL) {
		/* The object is the reader's: the copy kept has no API bookkeeping. */
		json_t *copy = json_deep_copy(obj);
		if (copy == NULL)
			return BATON_ENOMEM;
		strip_api(copy);
		text = json_dumps(copy, JSON_COMPACT);
		json_decref(copy);
		if (text == NULL)
			return BATON_ENOMEM;
		raw = text;
		rawlen = strlen(text);
	}
	tl = rawlen;
	v.mv_size = wl + tl;
	if ((rc = mdb_put(set->wtxn, dbi, &k, &v, MDB_RESERVE | flags)) == 0) {
		memcpy(v.mv_data, where, wl);
		memcpy((char *)v.mv_data + wl, raw, tl);
	}
	free(text);
	if (rc == MDB_KEYEXIST)
		return BATON_EEXIST;
	return rc ? lmdb_err(rc, "put") : 0;
}

static int gather_raw(void *arg, const char *resource, json_t *obj, const struct edfi_scan *sc,
                      const char *raw, size_t rawlen, const char *where)
{
	edfi_set *set = arg;
	char key[KEY_MAX + 16], buf[5][200], sidbuf[BATON_STUDENT_MAX + 1];
	const char *parts[5], *sid = NULL;
	json_t *own = NULL;
	size_t klen, n = 0;
	int r, rc;

	if (obj == NULL) {
		/* Scanned, types and all: only its student is wanted of it. */
		size_t sl;
		const char *s = edfi_student_of_scan(resource, sc, &sl);
		if (s != NULL && sl <= BATON_STUDENT_MAX) {
			memcpy(sidbuf, s, sl);
			sidbuf[sl] = '\0';
			sid = sidbuf;
		} else if ((obj = own = json_loadb(raw, rawlen, JSON_REJECT_DUPLICATES, NULL)) ==
		           NULL)
			return BATON_ENOMEM;
	}
	if (obj != NULL && !json_is_object(obj)) {
		r = bti_diag_err(BATON_EVALUE, "%s: not an object", where);
		goto out;
	}
	if (!edfi_resource_known(resource)) {
		/* Only the XML reader hands these on (the JSON reader refuses or skips
		 * them by file name): a resource Baton does not read is noted once. */
		char msg[256];
		size_t i;
		json_t *v;
		snprintf(msg, sizeof(msg), "%s: not a resource Baton reads; skipped", resource);
		r = 0;
		json_array_foreach(set->notes, i,
		                   v) if (strcmp(json_string_value(v), msg) == 0) goto out;
		json_array_append_new(set->notes, json_string(msg));
		goto out;
	}
	if (obj != NULL) {
		if ((r = edfi_check_types(resource, obj, where)) != 0)
			goto out;
		sid = edfi_student_of(resource, obj);
	}
	if (set->wtxn == NULL && (rc = mdb_txn_begin(set->env, NULL, 0, &set->wtxn)) != 0) {
		r = lmdb_err(rc, "begin");
		goto out;
	}
	set->objects++;
	if (sid != NULL) {
		uint8_t seq[8];
		size_t sl = strlen(sid), rl = strlen(resource);
		if (sl == 0 || sl > BATON_STUDENT_MAX || !record_id_safe(sid) || has_control(sid)) {
			char shown[65];
			/* Shown with '?' for a control character: no terminal escapes from a file.
			 */
			size_t j;
			for (j = 0; j < sizeof(shown) - 1 && sid[j]; j++)
				shown[j] =
				    (unsigned char)sid[j] < 0x20 || sid[j] == 0x7f ? '?' : sid[j];
			shown[j] = '\0';
			r = bti_diag_err(BATON_EVALUE,
			                 "%s: studentUniqueId \"%s\" is not a student id", where,
			                 shown);
			goto out;
		}
		r = 0;
		if (set->filter && json_object_get(set->filter, sid) == NULL)
			goto out;
		for (int i = 0; i < 8; i++)
			seq[i] = (uint8_t)(set->seq >> (56 - 8 * i));
		set->seq++;
		memcpy(key, sid, sl + 1);
		memcpy(key + sl + 1, resource, rl + 1);
		memcpy(key + sl + rl + 2, seq, 8);
		r = put(set, set->by_student, key, sl + rl + 10, where, obj, sc ? sc->text : raw,
		        sc ? sc->textlen : rawlen, sc != NULL, 0);
	} else {
		const struct identity *id = identity_of(resource);
		if (id == NULL) {
			r = bti_diag_err(BATON_EMISSING,
			                 "%s: %s: studentReference.studentUniqueId is missing",
			                 where, resource);
			goto out;
		}
		for (; n < 5 && id->fields[n]; n++) {
			parts[n] = field_at(obj, id->fields[n], buf[n], sizeof(buf[n]));
			if (!parts[n][0]) {
				r = bti_diag_err(BATON_EMISSING, "%s: %s.%s is missing", where,
				                 resource, id->fields[n]);
				goto out;
			}
		}
		if (make_key(key, sizeof(key), &klen, resource, parts, n) != 0) {
			r = bti_diag_err(BATON_EVALUE, "%s: %s: identity fields too long", where,
			                 resource);
			goto out;
		}
		r = put(set, set->by_key, key, klen, where, obj, raw, rawlen, 0, MDB_NOOVERWRITE);
		if (r == BATON_EEXIST)
			r = bti_diag_err(BATON_EVALUE,
			                 "%s: %s: a second object with the same identity (%s)",
			                 where, resource, key + strlen(resource) + 1);
	}
	if (r == 0 && ++set->in_txn >= COMMIT_EVERY) {
		rc = mdb_txn_commit(set->wtxn);
		set->wtxn = NULL;
		set->in_txn = 0;
		r = rc != 0 ? lmdb_err(rc, "commit") : scratch_cycle(set);
	}
out:
	json_decref(own);
	return r;
}

static int gather(void *arg, const char *resource, json_t *obj, const char *where)
{
	return gather_raw(arg, resource, obj, NULL, NULL, 0, where);
}

/* A file or key not read, in a dry run: kept with the set's notes. */
static void set_note(void *arg, const char *msg)
{
	edfi_set *set = arg;
	json_array_append_new(set->notes, json_string(msg));
}

int edfi_set_read(edfi_set *set, const char *format, const char *path, int skip_unknown)
{
	const struct edfi_format *f = NULL;
	int r, rc;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, format) == 0)
			f = &formats[i];
	if (f == NULL)
		return bti_diag_err(BATON_EVALUE, "--format %s: not a format Baton reads", format);
	if (f->read_raw)
		r = f->read_raw(path, gather_raw, skip_unknown ? set_note : NULL, set);
	else if (skip_unknown && f->read_notes)
		r = f->read_notes(path, gather, set_note, set);
	else
		r = f->read(path, gather, set);
	if (set->wtxn) {
		if (r == 0 && (rc = mdb_txn_commit(set->wtxn)) != 0)
			r = lmdb_err(rc, "commit");
		else if (r != 0)
			mdb_txn_abort(set->wtxn);
		set->wtxn = NULL;
	}
	return r;
}

/* ---- one student's resources ---- */

struct mctx {
	edfi_set *set;
	MDB_txn *t;
	json_t *res;   /* resource name -> array of the student's objects (each with "_where") */
	json_t *rec;   /* the record being made */
	json_t *notes; /* fields not carried over */
	json_t *noted; /* the same, as keys: each once */
};

/* Keys an Ed-Fi API adds to every resource: not data of the student's. */
static int api_key(const char *k)
{
	return edfi_api_member(k, strlen(k)) || strcmp(k, "_where") == 0;
}

/* Notes "a" sep "b" once. */
static void note(struct mctx *m, const char *a, const char *sep, const char *b)
{
	char buf[400];
	size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
	/* As snprintf("%s%s%s") would, cut to the buffer, without its cost per field noted. */
	if (la + ls + lb < sizeof(buf)) {
		memcpy(buf, a, la);
		memcpy(buf + la, sep, ls);
		memcpy(buf + la + ls, b, lb + 1);
	} else
		snprintf(buf, sizeof(buf), "%s%s%s", a, sep, b);
	if (json_object_get(m->noted, buf))
		return;
	json_object_set_new(m->noted, buf, json_true());
	json_array_append_new(m->notes, json_string(buf));
}

/* Each top-level key of obj that is not in used (NULL-ended) is noted as not carried over. */
static void carried(struct mctx *m, const char *resource, const json_t *obj,
                    const char *const *used)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		int ok = api_key(k);
		for (size_t i = 0; !ok && used[i]; i++)
			ok = strcmp(used[i], k) == 0;
		if (!ok)
			note(m, resource, ".", k);
	}
}

static json_t *all(const struct mctx *m, const char *resource)
{
	json_t *a = json_object_get(m->res, resource);
	static json_t *none;
	if (a)
		return a;
	if (none == NULL)
		none = json_array();
	return none;
}

static const char *where_of(const json_t *obj)
{
	const char *w = json_string_value(json_object_get(obj, "_where"));
	return w ? w : "?";
}

static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s && s[0] ? s : NULL;
}

static const char *refstr(const json_t *o, const char *ref, const char *k, char *buf, size_t cap)
{
	buf[0] = '\0';
	if (scalar(json_object_get(json_object_get(o, ref), k), buf, cap) != 0)
		buf[0] = '\0';
	return buf;
}

/* A descriptor's code value: after '#' (the whole text when it has none). */
static const char *code_of(const char *uri)
{
	const char *h = uri ? strrchr(uri, '#') : NULL;
	return h ? h + 1 : uri;
}

/*
 * The Baton value for the descriptor at obj[key]: the map's, else for a
 * field with a list of values an error naming the URI and field, else
 * (free text) its code value. *out NULL when obj has no such key.
 */
static int desc(struct mctx *m, const char *resource, const json_t *obj, const char *key,
                const char *field, int listed, const char **out)
{
	const char *uri = str(obj, key), *v;
	*out = NULL;
	if (uri == NULL)
		return 0;
	if ((v = edfi_map_value(m->set->map, field, uri)) != NULL) {
		*out = v;
		return 0;
	}
	if (listed)
		return bti_diag_err(
		    BATON_EVALUE,
		    "%s: %s.%s: descriptor \"%s\" has no Baton %s in the descriptor "
		    "map (add a line with --descriptor-map)",
		    where_of(obj), resource, key, uri, field);
	*out = code_of(uri);
	return 0;
}

/* A date from an Ed-Fi date or date-time ("2024-05-01T08:00:00Z"), into buf. */
static const char *date10(const char *s, char *buf)
{
	if (s == NULL || strlen(s) < 10 || s[4] != '-' || s[7] != '-')
		return s;
	memcpy(buf, s, 10);
	buf[10] = '\0';
	return buf;
}

/* "2024-2025" for the Ed-Fi school year 2025 (the year it ends). */
static const char *years_of(const json_t *v, char *buf, size_t cap)
{
	long long y = json_is_integer(v)  ? json_integer_value(v)
	              : json_is_string(v) ? atoll(json_string_value(v))
	                                  : 0;
	if (y < 1901 || y > 2100)
		return NULL;
	snprintf(buf, cap, "%lld-%lld", y - 1, y);
	return buf;
}

static void sets(json_t *o, const char *k, const char *v)
{
	if (v && v[0])
		json_object_set_new(o, k, json_string(v));
}

static void setnum(json_t *o, const char *k, const json_t *v)
{
	if (json_is_number(v))
		json_object_set_new(o, k, json_deep_copy(v));
}

static void setbool(json_t *o, const char *k, const json_t *v)
{
	if (json_is_boolean(v))
		json_object_set_new(o, k, json_boolean(json_is_true(v)));
}

/* A value the scratch store keeps: "where\0json". */
static json_t *parse_val(const MDB_val *v)
{
	const char *p = v->mv_data;
	size_t wl = strnlen(p, v->mv_size);
	json_t *o;
	if (wl >= v->mv_size)
		return NULL;
	o = edfi_json_load(p + wl + 1, v->mv_size - wl - 1);
	if (o) {
		strip_api(o);
		json_object_set_new(o, "_where", json_string(p));
	}
	return o;
}

/*
 * The district's catalog (schools, courses, sessions, sections, grading
 * periods, assessments), which every student names again: kept parsed once
 * read. Its size is the district's, not its students'.
 */
static int catalog(const char *resource)
{
	static const char *const kept[] = {"schools",        "courses",        "sessions",
	                                   "sections",       "gradingPeriods", "assessments",
	                                   "graduationPlans"};
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		if (strcmp(kept[i], resource) == 0)
			return 1;
	return 0;
}

/* The object of resource whose identity is parts, or NULL. The caller decrefs it. */
static json_t *lookup(struct mctx *m, const char *resource, const char *const *parts, size_t n)
{
	char key[KEY_MAX + 16];
	size_t klen;
	MDB_val k, v;
	json_t *o;
	int keep = catalog(resource);
	if (make_key(key, sizeof(key), &klen, resource, parts, n) != 0)
		return NULL;
	/* The key as a cache key: its NUL after the resource name made a '/'. */
	char ck[KEY_MAX + 16];
	memcpy(ck, key, klen);
	ck[strlen(resource)] = '/';
	ck[klen] = '\0';
	if (keep && (o = json_object_get(m->set->cache, ck)) != NULL)
		return json_is_object(o) ? json_incref(o) : NULL;
	k.mv_size = klen;
	k.mv_data = key;
	o = mdb_get(m->t, m->set->by_key, &k, &v) != 0 ? NULL : parse_val(&v);
	if (keep)
		json_object_set(m->set->cache, ck, o ? o : json_null());
	return o;
}

/* Sorts an array by the text of its elements: a record's rows in one order, whatever the files'. */
struct keyed {
	char *text;
	json_t *v;
};

static int by_text(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	return strcmp(x->text ? x->text : "", y->text ? y->text : "");
}

static void put_sorted(json_t *rec, const char *key, json_t *arr)
{
	size_t n = json_array_size(arr);
	struct keyed *v;
	if (n == 0) {
		json_decref(arr);
		return;
	}
	if (n > 1 && (v = calloc(n, sizeof(*v))) != NULL) {
		json_t *sorted = json_array();
		for (size_t i = 0; i < n; i++) {
			v[i].v = json_array_get(arr, i);
			v[i].text = json_dumps(v[i].v, JSON_COMPACT | JSON_SORT_KEYS);
		}
		qsort(v, n, sizeof(*v), by_text);
		for (size_t i = 0; i < n; i++) {
			json_array_append(sorted, v[i].v);
			free(v[i].text);
		}
		free(v);
		json_decref(arr);
		arr = sorted;
	}
	json_object_set_new(rec, key, arr);
}

/* ---- the sections ---- */

static int map_identity(struct mctx *m, const json_t *s)
{
	static const char *const used[] = {
	    "studentUniqueId", "firstName",          "middleName",           "lastSurname",
	    "birthDate",       "preferredFirstName", "generationCodeSuffix", NULL};
	json_t *id;
	const char *w = where_of(s);
	char d[11];

	if (!str(s, "firstName"))
		return bti_diag_err(BATON_EMISSING, "%s: students.firstName is missing", w);
	if (!str(s, "lastSurname"))
		return bti_diag_err(BATON_EMISSING, "%s: students.lastSurname is missing", w);
	if (!str(s, "birthDate"))
		return bti_diag_err(BATON_EMISSING, "%s: students.birthDate is missing", w);
	if ((id = json_object()) == NULL)
		return BATON_ENOMEM;
	sets(id, "given_name", str(s, "firstName"));
	sets(id, "middle_name", str(s, "middleName"));
	sets(id, "family_name", str(s, "lastSurname"));
	sets(id, "birth_date", date10(str(s, "birthDate"), d));
	sets(id, "preferred_name", str(s, "preferredFirstName"));
	sets(id, "name_suffix", str(s, "generationCodeSuffix"));
	json_object_set_new(m->rec, "identity", id);
	carried(m, "students", s, used);
	return 0;
}

/* studentEducationOrganizationAssociations: sex, statewide id, English-learner status. */
static int map_seoa(struct mctx *m, json_t **el)
{
	static const char *const used[] = {"studentReference",
	                                   "educationOrganizationReference",
	                                   "sexDescriptor",
	                                   "studentIdentificationCodes",
	                                   "limitedEnglishProficiencyDescriptor",
	                                   "languages",
	                                   NULL};
	json_t *o, *c, *l, *u;
	size_t i, j, k;
	const char *v;
	int r;

	*el = NULL;
	json_array_foreach(all(m, "studentEducationOrganizationAssociations"), i, o)
	{
		json_t *id = json_object_get(m->rec, "identity");
		if ((r = desc(m, "studentEducationOrganizationAssociations", o, "sexDescriptor",
		              "sex", 0, &v)) != 0)
			return r;
		if (v && !json_object_get(id, "sex"))
			sets(id, "sex", v);
		json_array_foreach(json_object_get(o, "studentIdentificationCodes"), j, c)
		{
			const char *sys = code_of(str(c, "studentIdentificationSystemDescriptor"));
			if (sys && strcmp(sys, "State") == 0 && str(c, "identificationCode") &&
			    !json_object_get(m->rec, "state_student_id"))
				sets(m->rec, "state_student_id", str(c, "identificationCode"));
			else
				note(m, "studentEducationOrganizationAssociations", ".",
				     "studentIdentificationCodes (other than State)");
		}
		if ((r = desc(m, "studentEducationOrganizationAssociations", o,
		              "limitedEnglishProficiencyDescriptor", "english_learner_status", 0,
		              &v)) != 0)
			return r;
		if (v && *el == NULL) {
			*el = json_object();
			sets(*el, "status", v);
		}
		json_array_foreach(json_object_get(o, "languages"), j, l)
		{
			json_array_foreach(json_object_get(l, "uses"), k, u)
			{
				const char *use = code_of(str(u, "languageUseDescriptor"));
				if (use && strcmp(use, "Home language") == 0) {
					if (*el == NULL)
						*el = json_object();
					sets(*el, "home_language",
					     code_of(str(l, "languageDescriptor")));
				}
			}
		}
		carried(m, "studentEducationOrganizationAssociations", o, used);
	}
	return 0;
}

/* Guardians and custody rows: DS5 contacts, or DS4 parents. */
static int map_guardians_of(struct mctx *m, const char *assoc, const char *person, const char *ref,
                            const char *idkey, json_t *gs, json_t *custody)
{
	static const char *const used_a[] = {"studentReference",       "contactReference",
	                                     "parentReference",        "relationDescriptor",
	                                     "primaryContactStatus",   "livesWith",
	                                     "emergencyContactStatus", "legalGuardian",
	                                     "contactRestrictions",    NULL};
	static const char *const used_p[] = {
	    "contactUniqueId", "parentUniqueId", "firstName", "lastSurname",
	    "electronicMails", "telephones",     NULL};
	json_t *a;
	size_t i;
	int r;

	json_array_foreach(all(m, assoc), i, a)
	{
		char idb[200], name[420];
		const char *pid = refstr(a, ref, idkey, idb, sizeof(idb)), *rel;
		const char *parts[1] = {pid};
		json_t *p = pid[0] ? lookup(m, person, parts, 1) : NULL, *g;
		if (p == NULL)
			return bti_diag_err(BATON_EVALUE,
			                    "%s: %s.%s.%s \"%s\" is not in the %s files",
			                    where_of(a), assoc, ref, idkey, pid, person);
		if ((r = desc(m, assoc, a, "relationDescriptor", "relation", 0, &rel)) != 0) {
			json_decref(p);
			return r;
		}
		snprintf(name, sizeof(name), "%s %s",
		         str(p, "firstName") ? str(p, "firstName") : "",
		         str(p, "lastSurname") ? str(p, "lastSurname") : "");
		g = json_object();
		sets(g, "name", name[0] == ' ' ? name + 1 : name);
		sets(g, "relation", rel ? rel : "guardian");
		sets(g, "email",
		     str(json_array_get(json_object_get(p, "electronicMails"), 0),
		         "electronicMailAddress"));
		sets(g, "phone",
		     str(json_array_get(json_object_get(p, "telephones"), 0), "telephoneNumber"));
		setbool(g, "lives_with", json_object_get(a, "livesWith"));
		setbool(g, "primary_contact", json_object_get(a, "primaryContactStatus"));
		setbool(g, "emergency_contact", json_object_get(a, "emergencyContactStatus"));
		setbool(g, "legal_guardian", json_object_get(a, "legalGuardian"));
		json_array_append_new(gs, g);
		if (str(a, "contactRestrictions")) {
			json_t *c = json_object();
			sets(c, "name", json_string_value(json_object_get(g, "name")));
			sets(c, "restriction", str(a, "contactRestrictions"));
			sets(c, "relation", rel);
			json_array_append_new(custody, c);
		}
		carried(m, assoc, a, used_a);
		carried(m, person, p, used_p);
		if (json_array_size(json_object_get(p, "electronicMails")) > 1)
			note(m, person, ".", "electronicMails (after the first)");
		if (json_array_size(json_object_get(p, "telephones")) > 1)
			note(m, person, ".", "telephones (after the first)");
		json_decref(p);
	}
	return 0;
}

static int map_guardians(struct mctx *m)
{
	json_t *gs = json_array(), *custody = json_array();
	int r;
	if ((r = map_guardians_of(m, "studentContactAssociations", "contacts", "contactReference",
	                          "contactUniqueId", gs, custody)) == 0)
		r = map_guardians_of(m, "studentParentAssociations", "parents", "parentReference",
		                     "parentUniqueId", gs, custody);
	if (r != 0) {
		json_decref(gs);
		json_decref(custody);
		return r;
	}
	put_sorted(m->rec, "guardians", gs);
	put_sorted(m->rec, "custody", custody);
	return 0;
}

static const char *const grade_order[] = {"IT", "PK", "KG", "01", "02", "03", "04", "05", "06",
                                          "07", "08", "09", "10", "11", "12", "13", NULL};

static int grade_rank(const char *g)
{
	for (int i = 0; g && grade_order[i]; i++)
		if (strcmp(grade_order[i], g) == 0)
			return i;
	return -1;
}

/* The school's name for an enrolment: the schools file must have it. */
static int school_name(struct mctx *m, const json_t *o, const char *resource, char *out, size_t cap,
                       char *code, size_t ccap)
{
	const char *parts[1];
	json_t *s;
	refstr(o, "schoolReference", "schoolId", code, ccap);
	parts[0] = code;
	if (!code[0])
		return bti_diag_err(BATON_EMISSING, "%s: %s.schoolReference.schoolId is missing",
		                    where_of(o), resource);
	if ((s = lookup(m, "schools", parts, 1)) == NULL)
		return bti_diag_err(BATON_EVALUE,
		                    "%s: %s.schoolReference.schoolId %s is not in the "
		                    "schools file",
		                    where_of(o), resource, code);
	snprintf(out, cap, "%s", str(s, "nameOfInstitution") ? str(s, "nameOfInstitution") : code);
	json_decref(s);
	return 0;
}

static int map_enrollment(struct mctx *m, json_t *grad)
{
	static const char *const used[] = {"studentReference",
	                                   "schoolReference",
	                                   "schoolYear",
	                                   "entryDate",
	                                   "entryGradeLevelDescriptor",
	                                   "exitWithdrawDate",
	                                   "exitWithdrawTypeDescriptor",
	                                   "nextYearGradeLevelDescriptor",
	                                   "repeatGradeIndicator",
	                                   "graduationPlanReference",
	                                   "classOfSchoolYearTypeReference",
	                                   "calendarReference",
	                                   NULL};
	json_t *out = json_array(), *o;
	size_t i;
	int r = 0;

	json_array_foreach(all(m, "studentSchoolAssociations"), i, o)
	{
		char name[256], code[64], d1[11], d2[11], yb[16];
		const char *grade, *next, *exitr, *plan;
		json_t *e;
		if ((r = school_name(m, o, "studentSchoolAssociations", name, sizeof(name), code,
		                     sizeof(code))) != 0 ||
		    (r = desc(m, "studentSchoolAssociations", o, "entryGradeLevelDescriptor",
		              "grade_level", 1, &grade)) != 0 ||
		    (r = desc(m, "studentSchoolAssociations", o, "nextYearGradeLevelDescriptor",
		              "grade_level", 1, &next)) != 0 ||
		    (r = desc(m, "studentSchoolAssociations", o, "exitWithdrawTypeDescriptor",
		              "exit_reason", 0, &exitr)) != 0)
			break;
		if (grade == NULL || !str(o, "entryDate")) {
			r = bti_diag_err(BATON_EMISSING,
			                 "%s: studentSchoolAssociations.%s is missing", where_of(o),
			                 grade ? "entryDate" : "entryGradeLevelDescriptor");
			break;
		}
		e = json_object();
		sets(e, "school_name", name);
		sets(e, "school_code", code);
		sets(e, "entry_date", date10(str(o, "entryDate"), d1));
		sets(e, "exit_date", date10(str(o, "exitWithdrawDate"), d2));
		sets(e, "grade_level", grade);
		sets(e, "school_year", years_of(json_object_get(o, "schoolYear"), yb, sizeof(yb)));
		sets(e, "exit_reason", exitr);
		sets(e, "next_grade_level", next);
		if (json_is_true(json_object_get(o, "repeatGradeIndicator")))
			sets(e, "promotion", "retained");
		else if (next && grade_rank(next) >= 0 && grade_rank(grade) >= 0)
			sets(e, "promotion",
			     grade_rank(next) > grade_rank(grade)    ? "promoted"
			     : grade_rank(next) == grade_rank(grade) ? "retained"
			                                             : "demoted");
		json_array_append_new(out, e);
		/* Graduation: the plan and the class of. */
		if ((r = desc(m, "studentSchoolAssociations",
		              json_object_get(o, "graduationPlanReference"),
		              "graduationPlanTypeDescriptor", "graduation_plan", 0, &plan)) != 0)
			break;
		sets(grad, "plan", plan);
		json_t *cls = json_object_get(json_object_get(o, "classOfSchoolYearTypeReference"),
		                              "schoolYear");
		if (json_is_integer(cls))
			json_object_set_new(grad, "expected_year",
			                    json_integer(json_integer_value(cls)));
		carried(m, "studentSchoolAssociations", o, used);
	}
	if (r != 0) {
		json_decref(out);
		return r;
	}
	put_sorted(m->rec, "enrollment", out);
	return 0;
}

/* A course's own fields: the courses file's row for the reference, when it has one. */
static json_t *course_of(struct mctx *m, const json_t *ct)
{
	char c[200], e[64];
	const char *parts[2] = {
	    refstr(ct, "courseReference", "courseCode", c, sizeof(c)),
	    refstr(ct, "courseReference", "educationOrganizationId", e, sizeof(e))};
	return lookup(m, "courses", parts, 2);
}

/* A transcript row's subject and state course code from its course (NULL: none). */
static int course_detail(struct mctx *m, const json_t *c, json_t *e)
{
	const char *subject = NULL;
	const json_t *ic;
	size_t j;
	int r;
	if (c == NULL)
		return 0;
	if ((r = desc(m, "courses", c, "academicSubjectDescriptor", "subject", 0, &subject)) != 0)
		return r;
	sets(e, "subject", subject);
	json_array_foreach(json_object_get(c, "identificationCodes"), j, ic)
	{
		const char *sys = code_of(str(ic, "courseIdentificationSystemDescriptor"));
		if (sys && strcmp(sys, "State course code") == 0)
			sets(e, "state_course_code", str(ic, "identificationCode"));
	}
	return 0;
}

/*
 * Grades of sections still in progress: the latest grading period's grade
 * (or none yet), as of currentGradeAsOfDate (else that period's end). A
 * course transcript of the course that year and term without a final grade
 * (a row in progress) takes them as its grade so far and as_of; with none,
 * they are a transcript row of their own with status in_progress; a course
 * with a final grade that year keeps it.
 */
static int grade_rows(struct mctx *m, json_t *out)
{
	static const char *const used[] = {"studentSectionAssociationReference",
	                                   "gradingPeriodReference",
	                                   "gradeTypeDescriptor",
	                                   "letterGradeEarned",
	                                   "numericGradeEarned",
	                                   "currentGradeAsOfDate",
	                                   "currentGradeIndicator",
	                                   NULL};
	json_t *latest = json_object(), *o, *row;
	const char *k;
	size_t i, j;
	int r = 0;

	/* The latest grade of each section, by the end of its grading period. */
	json_array_foreach(all(m, "grades"), i, o)
	{
		char sec[400], school[64], year[16], pn[200], d[11];
		const json_t *ssa = json_object_get(o, "studentSectionAssociationReference");
		const json_t *gpr = json_object_get(o, "gradingPeriodReference");
		const char *parts[3], *asof;
		json_t *gp, *prev;
		carried(m, "grades", o, used);
		snprintf(sec, sizeof(sec), "%s|%s|%s",
		         json_string_value(json_object_get(ssa, "sectionIdentifier"))
		             ? json_string_value(json_object_get(ssa, "sectionIdentifier"))
		             : "",
		         refstr(o, "studentSectionAssociationReference", "schoolId", school,
		                sizeof(school)),
		         refstr(o, "studentSectionAssociationReference", "schoolYear", year,
		                sizeof(year)));
		parts[0] = refstr(o, "gradingPeriodReference", "schoolId", school, sizeof(school));
		parts[1] = refstr(o, "gradingPeriodReference", "schoolYear", year, sizeof(year));
		parts[2] = period_name(gpr, pn, sizeof(pn));
		gp = lookup(m, "gradingPeriods", parts, 3);
		asof = date10(str(o, "currentGradeAsOfDate"), d);
		if (asof == NULL)
			asof = str(gp, "endDate");
		json_t *e = json_pack("{s:O, s:s}", "g", o, "asof", asof ? asof : "");
		json_decref(gp);
		prev = json_object_get(latest, sec);
		if (prev == NULL || strcmp(json_string_value(json_object_get(prev, "asof")),
		                           json_string_value(json_object_get(e, "asof"))) < 0)
			json_object_set_new(latest, sec, e);
		else
			json_decref(e);
	}
	json_object_foreach(latest, k, row)
	{
		json_t *g = json_object_get(row, "g"), *sect, *c, *e, *t;
		const json_t *ssa = json_object_get(g, "studentSectionAssociationReference");
		char code[200], school[64], year[16], yb[16], num[64], sess[200];
		const char *parts[5], *term = NULL, *grade = str(g, "letterGradeEarned");
		int final = 0;
		refstr(g, "studentSectionAssociationReference", "localCourseCode", code,
		       sizeof(code));
		refstr(g, "studentSectionAssociationReference", "schoolId", school, sizeof(school));
		refstr(g, "studentSectionAssociationReference", "schoolYear", year, sizeof(year));
		refstr(g, "studentSectionAssociationReference", "sessionName", sess, sizeof(sess));
		if (!code[0] || !years_of(json_object_get(ssa, "schoolYear"), yb, sizeof(yb))) {
			r = bti_diag_err(
			    BATON_EMISSING,
			    "%s: grades.studentSectionAssociationReference: localCourseCode "
			    "or schoolYear is missing",
			    where_of(g));
			break;
		}
		parts[0] = school;
		parts[1] = year;
		parts[2] = sess;
		json_t *session = lookup(m, "sessions", parts, 3), *open = NULL;
		if (session &&
		    (r = desc(m, "sessions", session, "termDescriptor", "term", 0, &term)) != 0) {
			json_decref(session);
			break;
		}
		json_array_foreach(out, j, t)
		{
			if (strcmp(json_string_value(json_object_get(t, "course_code")), code) !=
			        0 ||
			    strcmp(json_string_value(json_object_get(t, "school_year")), yb) != 0)
				continue;
			final = 1;
			if (!json_object_get(t, "grade") && !json_object_get(t, "as_of") &&
			    (term == NULL ||
			     strcmp(json_string_value(json_object_get(t, "term")), term) == 0))
				open = t;
		}
		if (grade == NULL && json_is_number(json_object_get(g, "numericGradeEarned"))) {
			snprintf(num, sizeof(num), "%g",
			         json_number_value(json_object_get(g, "numericGradeEarned")));
			grade = num;
		}
		if (open) {
			sets(open, "grade", grade);
			sets(open, "as_of", json_string_value(json_object_get(row, "asof")));
		}
		if (final) {
			json_decref(session);
			continue;
		}
		parts[0] = json_string_value(json_object_get(ssa, "sectionIdentifier"));
		parts[1] = code;
		parts[2] = school;
		parts[3] = year;
		parts[4] = sess;
		sect = parts[0] ? lookup(m, "sections", parts, 5) : NULL;
		parts[0] = code;
		parts[1] = school;
		c = lookup(m, "courses", parts, 2);
		e = json_object();
		sets(e, "school_year", yb);
		sets(e, "term", term ? term : sess);
		sets(e, "course_code", code);
		sets(e, "course_title",
		     str(c, "courseTitle")      ? str(c, "courseTitle")
		     : str(sect, "sectionName") ? str(sect, "sectionName")
		                                : code);
		sets(e, "grade", grade);
		json_object_set_new(e, "credits_attempted",
		                    json_is_number(json_object_get(sect, "availableCredits"))
		                        ? json_deep_copy(json_object_get(sect, "availableCredits"))
		                        : json_integer(0));
		json_object_set_new(e, "credits_earned", json_integer(0));
		sets(e, "status", "in_progress");
		sets(e, "as_of", json_string_value(json_object_get(row, "asof")));
		if ((r = course_detail(m, c, e)) != 0) {
			json_decref(e);
			json_decref(session);
			json_decref(sect);
			json_decref(c);
			break;
		}
		json_array_append_new(out, e);
		json_decref(session);
		json_decref(sect);
		json_decref(c);
	}
	json_decref(latest);
	return r;
}

static int map_transcript(struct mctx *m)
{
	static const char *const used[] = {"studentAcademicRecordReference",
	                                   "courseReference",
	                                   "academicSubjects",
	                                   "courseAttemptResultDescriptor",
	                                   "finalLetterGradeEarned",
	                                   "finalNumericGradeEarned",
	                                   "attemptedCredits",
	                                   "earnedCredits",
	                                   "courseTitle",
	                                   "whenTakenGradeLevelDescriptor",
	                                   "methodCreditEarnedDescriptor",
	                                   "attemptedCreditTypeDescriptor",
	                                   "earnedCreditTypeDescriptor",
	                                   NULL};
	static const char *const used_c[] = {"courseCode",
	                                     "educationOrganizationReference",
	                                     "courseTitle",
	                                     "academicSubjectDescriptor",
	                                     "identificationCodes",
	                                     "numberOfParts",
	                                     NULL};
	json_t *out = json_array(), *o;
	size_t i;
	int r = 0;

	json_array_foreach(all(m, "courseTranscripts"), i, o)
	{
		char yb[16], code[200], num[64];
		const char *term, *result, *gl, *method, *ctype, *subject = NULL, *grade;
		json_t *sar = json_object_get(o, "studentAcademicRecordReference"), *c, *e;
		const json_t *att = json_object_get(o, "attemptedCredits"),
		             *earn = json_object_get(o, "earnedCredits");
		if ((r = desc(m, "courseTranscripts", sar, "termDescriptor", "term", 0, &term)) !=
		        0 ||
		    (r = desc(m, "courseTranscripts", o, "courseAttemptResultDescriptor",
		              "attempt_result", 1, &result)) != 0 ||
		    (r = desc(m, "courseTranscripts", o, "whenTakenGradeLevelDescriptor",
		              "grade_level", 1, &gl)) != 0 ||
		    (r = desc(m, "courseTranscripts", o, "methodCreditEarnedDescriptor",
		              "credit_method", 0, &method)) != 0 ||
		    (r = desc(m, "courseTranscripts", o, "attemptedCreditTypeDescriptor",
		              "credit_type", 0, &ctype)) != 0)
			break;
		if (!years_of(json_object_get(sar, "schoolYear"), yb, sizeof(yb)) || term == NULL) {
			r = bti_diag_err(
			    BATON_EMISSING,
			    "%s: courseTranscripts.studentAcademicRecordReference.%s is "
			    "missing",
			    where_of(o), term ? "schoolYear" : "termDescriptor");
			break;
		}
		refstr(o, "courseReference", "courseCode", code, sizeof(code));
		if (!code[0]) {
			r = bti_diag_err(
			    BATON_EMISSING,
			    "%s: courseTranscripts.courseReference.courseCode is missing",
			    where_of(o));
			break;
		}
		c = course_of(m, o);
		e = json_object();
		sets(e, "school_year", yb);
		sets(e, "term", term);
		sets(e, "course_code", code);
		sets(e, "course_title",
		     str(o, "courseTitle")   ? str(o, "courseTitle")
		     : str(c, "courseTitle") ? str(c, "courseTitle")
		                             : code);
		grade = str(o, "finalLetterGradeEarned");
		if (grade == NULL &&
		    json_is_number(json_object_get(o, "finalNumericGradeEarned"))) {
			snprintf(num, sizeof(num), "%g",
			         json_number_value(json_object_get(o, "finalNumericGradeEarned")));
			grade = num;
		}
		sets(e, "grade", grade);
		if (grade == NULL)
			sets(e, "status", "in_progress");
		if (!json_is_number(att) && !json_is_number(earn)) {
			/* A course that carries no credit (an elementary one): 0 of 0, and said so.
			 */
			note(m, "courseTranscripts.earnedCredits", " ",
			     "(absent: the course is taken as carrying no credit, 0 of 0)");
			json_object_set_new(e, "credits_attempted", json_integer(0));
			json_object_set_new(e, "credits_earned", json_integer(0));
		}
		setnum(e, "credits_attempted", json_is_number(att) ? att : earn);
		setnum(e, "credits_earned", earn);
		sets(e, "attempt_result", result);
		sets(e, "grade_level", gl);
		sets(e, "credit_method", method);
		sets(e, "credit_type", ctype);
		if ((r = course_detail(m, c, e)) != 0 ||
		    (!json_object_get(e, "subject") &&
		     (r = desc(m, "courseTranscripts",
		               json_array_get(json_object_get(o, "academicSubjects"), 0),
		               "academicSubjectDescriptor", "subject", 0, &subject)) != 0)) {
			json_decref(c);
			json_decref(e);
			break;
		}
		sets(e, "subject", subject);
		json_array_append_new(out, e);
		carried(m, "courseTranscripts", o, used);
		if (c)
			carried(m, "courses", c, used_c);
		json_decref(c);
	}
	if (r == 0)
		r = grade_rows(m, out);
	if (r != 0) {
		json_decref(out);
		return r;
	}
	put_sorted(m->rec, "transcript", out);
	return 0;
}

/*
 * The instructional days of a school's calendars, sorted and each once: read
 * from the scratch store the first time a school is asked for, then kept (a
 * calendar is the district's, not a student's: its size does not grow with
 * the students). NULL: the school has no calendarDates.
 */
static const json_t *school_days(struct mctx *m, const char *school)
{
	char key[KEY_MAX], last[11] = "";
	size_t klen;
	const char *parts[1] = {school};
	MDB_cursor *cur;
	MDB_val k, v;
	json_t *days, *cached = json_object_get(m->set->calendars, school);
	int rc, any = 0;

	if (cached)
		return json_is_array(cached) ? cached : NULL;
	if (make_key(key, sizeof(key) - 2, &klen, "calendarDates", parts, 1) != 0 ||
	    mdb_cursor_open(m->t, m->set->by_key, &cur) != 0 || (days = json_array()) == NULL)
		return NULL;
	key[klen++] = SEP[0];
	k.mv_size = klen;
	k.mv_data = key;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *d;
		json_t *o, *ev;
		size_t i;
		if (k.mv_size < klen + 10 || memcmp(k.mv_data, key, klen) != 0)
			break;
		any = 1;
		d = (const char *)k.mv_data + klen;
		if (memcmp(d, last, 10) == 0 || (o = parse_val(&v)) == NULL)
			continue;
		json_array_foreach(json_object_get(o, "calendarEvents"), i, ev)
		{
			const char *c = code_of(str(ev, "calendarEventDescriptor"));
			if (c && strcmp(c, "Instructional day") == 0) {
				memcpy(last, d, 10);
				json_array_append_new(days, json_stringn(d, 10));
				break;
			}
		}
		json_decref(o);
	}
	mdb_cursor_close(cur);
	if (!any) {
		json_decref(days);
		json_object_set_new(m->set->calendars, school, json_false());
		return NULL;
	}
	json_object_set_new(m->set->calendars, school, days);
	return days;
}

/* The index of the first of the sorted days after date (after: 1) or on or after it (0). */
static size_t first_day(const json_t *days, const char *date, int after)
{
	size_t lo = 0, hi = json_array_size(days);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(json_string_value(json_array_get(days, mid)), date);
		if (c < 0 || (after && c == 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Instructional days at school from 'from' to 'to' (inclusive; NULL: on), or -1: no calendar. */
static long instructional_days(struct mctx *m, const char *school, const char *from, const char *to)
{
	const json_t *days = school_days(m, school);
	size_t lo, hi;
	if (days == NULL)
		return -1;
	/* The days are sorted: the first on or after from, and the first after to. */
	lo = first_day(days, from, 0);
	hi = to == NULL ? json_array_size(days) : first_day(days, to, 1);
	return hi > lo ? (long)(hi - lo) : 0;
}

/*
 * The counts of a student's report cards by school year ("2025-2026" ->
 * {present, absent, tardy, periods}): a card of an End of Year grading
 * period stands for its year alone; the cards of other grading periods are
 * added up, each period once.
 */
static int report_card_years(struct mctx *m, json_t *out)
{
	static const char *const used[] = {"studentReference",
	                                   "educationOrganizationReference",
	                                   "gradingPeriodReference",
	                                   "numberOfDaysAbsent",
	                                   "numberOfDaysInAttendance",
	                                   "numberOfDaysTardy",
	                                   NULL};
	static const char *const counts[] = {"numberOfDaysInAttendance", "numberOfDaysAbsent",
	                                     "numberOfDaysTardy"};
	static const char *const keys[] = {"present", "absent", "tardy"};
	json_t *o, *eoy = json_object();
	size_t i;

	json_array_foreach(all(m, "reportCards"), i, o)
	{
		const json_t *gpr = json_object_get(o, "gradingPeriodReference");
		char yb[16], school[64], year[16], pn[200];
		const char *ys = years_of(json_object_get(gpr, "schoolYear"), yb, sizeof(yb));
		const char *parts[3] = {
		    refstr(o, "gradingPeriodReference", "schoolId", school, sizeof(school)),
		    refstr(o, "gradingPeriodReference", "schoolYear", year, sizeof(year)),
		    period_name(gpr, pn, sizeof(pn))};
		const char *d = str(gpr, "gradingPeriodDescriptor");
		json_t *y, *gp;
		int whole;
		carried(m, "reportCards", o, used);
		if (ys == NULL) {
			json_decref(eoy);
			return bti_diag_err(
			    BATON_EMISSING,
			    "%s: reportCards.gradingPeriodReference.schoolYear is missing",
			    where_of(o));
		}
		if (d == NULL && (gp = lookup(m, "gradingPeriods", parts, 3)) != NULL) {
			whole =
			    code_of(str(gp, "gradingPeriodDescriptor")) &&
			    strcmp(code_of(str(gp, "gradingPeriodDescriptor")), "End of Year") == 0;
			json_decref(gp);
		} else
			whole = d && strcmp(code_of(d), "End of Year") == 0;
		if (json_is_true(json_object_get(eoy, ys)) && !whole)
			continue;
		if ((y = json_object_get(out, ys)) == NULL ||
		    (whole && !json_is_true(json_object_get(eoy, ys)))) {
			y = json_pack("{s:f, s:f, s:f, s:b, s:o}", "present", 0.0, "absent", 0.0,
			              "tardy", 0.0, "has_tardy", 0, "periods", json_object());
			json_object_set_new(out, ys, y);
			if (whole)
				json_object_set_new(eoy, ys, json_true());
		}
		/* A grading period's card once: a second of the same period adds nothing. */
		if (json_object_get(json_object_get(y, "periods"), pn))
			continue;
		json_object_set_new(json_object_get(y, "periods"), pn, json_true());
		for (size_t c = 0; c < 3; c++) {
			const json_t *v = json_object_get(o, counts[c]);
			if (!json_is_number(v))
				continue;
			json_object_set_new(
			    y, keys[c],
			    json_real(json_number_value(json_object_get(y, keys[c])) +
			              json_number_value(v)));
			if (c == 2)
				json_object_set_new(y, "has_tardy", json_true());
		}
	}
	json_decref(eoy);
	return 0;
}

/* A count (a whole number of days, 0 or more) of a report card's total, or -1. */
static json_int_t whole_days(const json_t *y, const char *k)
{
	double v = json_number_value(json_object_get(y, k));
	return v >= 0 && v <= 1e6 && v == (double)(json_int_t)v ? (json_int_t)v : -1;
}

/*
 * A year's attendance row from its report cards (no calendar to count it):
 * days present and tardy from the cards (tardy from the events when the
 * cards have none), days enrolled the days present and absent; the
 * absences told apart by the year's absence events when those add up to
 * the cards' (a report card does not say which were excused), or when there
 * are none. NULL, and noted, when the row cannot be told.
 */
static json_t *card_row(struct mctx *m, const char *yk, const json_t *card, const json_t *ev)
{
	json_int_t p = whole_days(card, "present"), a = whole_days(card, "absent");
	json_int_t t = whole_days(card, "tardy");
	json_int_t ex = ev ? json_integer_value(json_object_get(ev, "excused")) : 0;
	json_int_t un = ev ? json_integer_value(json_object_get(ev, "unexcused")) : 0;
	char ab[64];
	json_t *row;
	snprintf(ab, sizeof(ab), "attendance %s", yk);
	if (p < 0 || a < 0 || t < 0) {
		note(m, ab, ": ",
		     "the report cards' days are not whole days: the year's attendance is not "
		     "carried");
		return NULL;
	}
	if (ex + un != a) {
		note(m, ab, ": ",
		     "report cards do not say which absences were excused, and the attendance "
		     "events do not add up to them: the year's attendance is not carried");
		return NULL;
	}
	row = json_pack("{s:s, s:I, s:I, s:I, s:I}", "school_year", yk, "days_enrolled", p + a,
	                "days_present", p, "days_absent_excused", ex, "days_absent_unexcused", un);
	/* A card's tardy count is one, 0 too; events count tardies only when there are some. */
	if (!json_is_true(json_object_get(card, "has_tardy")))
		t = ev ? json_integer_value(json_object_get(ev, "tardy")) : 0;
	if (t > 0 || json_is_true(json_object_get(card, "has_tardy")))
		json_object_set_new(row, "days_tardy", json_integer(t));
	return row;
}

/*
 * Attendance by school year: days enrolled from the calendar, absences from
 * the events. A year without a calendar takes its report cards' counts
 * (card_row); a year with one takes its events, and its report cards are
 * not added to them.
 */
static int map_attendance(struct mctx *m)
{
	static const char *const used[] = {"studentReference",
	                                   "schoolReference",
	                                   "sessionReference",
	                                   "eventDate",
	                                   "attendanceEventCategoryDescriptor",
	                                   NULL};
	json_t *years = json_object(), *o, *y, *out = json_array(), *cards = json_object();
	const char *yk;
	size_t i;
	int r;

	if ((r = report_card_years(m, cards)) != 0) {
		json_decref(years);
		json_decref(out);
		json_decref(cards);
		return r;
	}

	/* Each enrolment's year, and its days at its school. */
	json_array_foreach(all(m, "studentSchoolAssociations"), i, o)
	{
		char yb[16], school[64], d1[11], d2[11], ybuf[16];
		const char *years_s = years_of(json_object_get(o, "schoolYear"), yb, sizeof(yb));
		const char *entry = date10(str(o, "entryDate"), d1);
		const char *exit = date10(str(o, "exitWithdrawDate"), d2);
		long days;
		if (years_s == NULL && entry) {
			int yr = atoi(entry), mo = atoi(entry + 5);
			snprintf(ybuf, sizeof(ybuf), "%d-%d", mo >= 7 ? yr : yr - 1,
			         mo >= 7 ? yr + 1 : yr);
			years_s = ybuf;
		}
		if (years_s == NULL || entry == NULL)
			continue;
		refstr(o, "schoolReference", "schoolId", school, sizeof(school));
		if ((y = json_object_get(years, years_s)) == NULL) {
			y = json_pack("{s:i, s:i, s:i, s:i}", "enrolled", 0, "excused", 0,
			              "unexcused", 0, "tardy", 0);
			json_object_set_new(years, years_s, y);
		}
		days = instructional_days(m, school, entry, exit);
		if (days < 0)
			json_object_set_new(y, "no_calendar", json_true());
		else
			json_object_set_new(
			    y, "enrolled",
			    json_integer(json_integer_value(json_object_get(y, "enrolled")) +
			                 days));
	}
	json_array_foreach(all(m, "studentSchoolAttendanceEvents"), i, o)
	{
		char yb[16], ybuf[16];
		const char *cat = code_of(str(o, "attendanceEventCategoryDescriptor")), *k = NULL;
		const char *ys =
		    years_of(json_object_get(json_object_get(o, "sessionReference"), "schoolYear"),
		             yb, sizeof(yb));
		const char *d = str(o, "eventDate");
		if (ys == NULL && d && strlen(d) >= 10) {
			int yr = atoi(d), mo = atoi(d + 5);
			snprintf(ybuf, sizeof(ybuf), "%d-%d", mo >= 7 ? yr : yr - 1,
			         mo >= 7 ? yr + 1 : yr);
			ys = ybuf;
		}
		carried(m, "studentSchoolAttendanceEvents", o, used);
		if (cat && strcmp(cat, "Excused Absence") == 0)
			k = "excused";
		else if (cat && strcmp(cat, "Unexcused Absence") == 0)
			k = "unexcused";
		else if (cat && strcmp(cat, "Tardy") == 0)
			k = "tardy";
		if (k == NULL) {
			note(m, "studentSchoolAttendanceEvents.attendanceEventCategoryDescriptor",
			     " #", cat ? cat : "");
			continue;
		}
		if (ys == NULL)
			continue;
		if ((y = json_object_get(years, ys)) == NULL) {
			y = json_pack("{s:i, s:i, s:i, s:i, s:b}", "enrolled", 0, "excused", 0,
			              "unexcused", 0, "tardy", 0, "no_calendar", 1);
			json_object_set_new(years, ys, y);
		}
		json_object_set_new(y, k,
		                    json_integer(json_integer_value(json_object_get(y, k)) + 1));
	}
	json_object_foreach(years, yk, y)
	{
		json_int_t en = json_integer_value(json_object_get(y, "enrolled"));
		json_int_t ex = json_integer_value(json_object_get(y, "excused"));
		json_int_t un = json_integer_value(json_object_get(y, "unexcused"));
		json_int_t ta = json_integer_value(json_object_get(y, "tardy"));
		json_t *row, *card = json_object_get(cards, yk);
		if (card && json_is_true(json_object_get(y, "no_calendar"))) {
			if ((row = card_row(m, yk, card, y)) != NULL)
				json_array_append_new(out, row);
			json_object_del(cards, yk);
			continue;
		}
		if (card) {
			char ab[64];
			snprintf(ab, sizeof(ab), "reportCards %s", yk);
			note(m, ab, ": ",
			     "the calendar and attendance events count the year: the report "
			     "cards' days are not added to them");
			json_object_del(cards, yk);
		}
		if (json_is_true(json_object_get(y, "no_calendar"))) {
			/*
			 * Without a calendar neither the days enrolled nor the days
			 * present are known, and a row needs days present: left out.
			 */
			{
				char ab[64];
				snprintf(ab, sizeof(ab), "attendance %s", yk);
				note(m, ab, ": ",
				     "no calendarDates for the school: the year's attendance is "
				     "not carried");
			};
			continue;
		}
		row = json_pack("{s:s, s:I, s:I, s:I, s:I}", "school_year", yk, "days_enrolled", en,
		                "days_present", en - ex - un > 0 ? en - ex - un : 0,
		                "days_absent_excused", ex, "days_absent_unexcused", un);
		if (ta > 0)
			json_object_set_new(row, "days_tardy", json_integer(ta));
		json_array_append_new(out, row);
	}
	/* Years of report cards alone: no enrolment or event of the year. */
	json_object_foreach(cards, yk, y)
	{
		json_t *row = card_row(m, yk, y, NULL);
		if (row)
			json_array_append_new(out, row);
	}
	json_decref(years);
	json_decref(cards);
	put_sorted(m->rec, "attendance", out);
	return 0;
}

static int map_assessments(struct mctx *m)
{
	static const char *const used[] = {"studentReference",
	                                   "assessmentReference",
	                                   "studentAssessmentIdentifier",
	                                   "administrationDate",
	                                   "scoreResults",
	                                   "performanceLevels",
	                                   "reasonNotTestedDescriptor",
	                                   "whenAssessedGradeLevelDescriptor",
	                                   NULL};
	static const char *const used_a[] = {"assessmentIdentifier", "namespace", "assessmentTitle",
	                                     "academicSubjects", NULL};
	json_t *out = json_array(), *o;
	size_t i;
	int r = 0;

	json_array_foreach(all(m, "studentAssessments"), i, o)
	{
		char id[200], ns[200], d[11];
		const char *parts[2] = {
		    refstr(o, "assessmentReference", "assessmentIdentifier", id, sizeof(id)),
		    refstr(o, "assessmentReference", "namespace", ns, sizeof(ns))};
		json_t *a = lookup(m, "assessments", parts, 2), *e, *score, *pl;
		const char *subject = NULL, *reason, *gl, *level = NULL;
		if (a == NULL) {
			r = bti_diag_err(
			    BATON_EVALUE,
			    "%s: studentAssessments.assessmentReference \"%s\" (%s) is not "
			    "in the assessments file",
			    where_of(o), id, ns);
			break;
		}
		if ((r = desc(m, "assessments",
		              json_array_get(json_object_get(a, "academicSubjects"), 0),
		              "academicSubjectDescriptor", "subject", 0, &subject)) != 0 ||
		    (r = desc(m, "studentAssessments", o, "reasonNotTestedDescriptor",
		              "reason_not_tested", 0, &reason)) != 0 ||
		    (r = desc(m, "studentAssessments", o, "whenAssessedGradeLevelDescriptor",
		              "grade_level", 1, &gl)) != 0 ||
		    (r = desc(m, "studentAssessments",
		              json_array_get(json_object_get(o, "performanceLevels"), 0),
		              "performanceLevelDescriptor", "performance_level", 0, &level)) != 0) {
			json_decref(a);
			break;
		}
		if (!str(o, "administrationDate") || subject == NULL) {
			r = bti_diag_err(BATON_EMISSING, "%s: %s is missing", where_of(o),
			                 subject ? "studentAssessments.administrationDate"
			                         : "assessments.academicSubjects");
			json_decref(a);
			break;
		}
		e = json_object();
		sets(e, "name", str(a, "assessmentTitle") ? str(a, "assessmentTitle") : id);
		sets(e, "subject", subject);
		sets(e, "date", date10(str(o, "administrationDate"), d));
		score = json_object_get(json_array_get(json_object_get(o, "scoreResults"), 0),
		                        "result");
		if (json_is_string(score)) {
			/* Ed-Fi scores are strings: a number stays a number. */
			char *end;
			const char *t = json_string_value(score);
			double v = strtod(t, &end);
			if (*t && *end == '\0' && strspn(t, "0123456789.") == strlen(t))
				json_object_set_new(e, "score",
				                    strchr(t, '.') ? json_real(v)
				                                   : json_integer(atoll(t)));
			else
				sets(e, "score", t);
		}
		sets(e, "performance_level", level);
		sets(e, "reason_not_tested", reason);
		sets(e, "grade_level", gl);
		pl = json_object_get(o, "scoreResults");
		if (json_array_size(pl) > 1)
			note(m, "studentAssessments", ".", "scoreResults (after the first)");
		json_array_append_new(out, e);
		carried(m, "studentAssessments", o, used);
		carried(m, "assessments", a, used_a);
		json_decref(a);
	}
	if (r != 0) {
		json_decref(out);
		return r;
	}
	put_sorted(m->rec, "assessments", out);
	return 0;
}

/* The codes of arr[].key, as an array of strings. */
static json_t *codes(const json_t *arr, const char *key)
{
	json_t *out = json_array(), *o;
	size_t i;
	json_array_foreach((json_t *)arr, i, o) if (str(o, key))
	    json_array_append_new(out, json_string(code_of(str(o, key))));
	return out;
}

/* The program association with the latest beginDate (the one in force). */
static json_t *latest(const json_t *arr)
{
	json_t *best = NULL, *o;
	size_t i;
	json_array_foreach((json_t *)arr, i, o)
	{
		const char *b = str(o, "beginDate"), *c = best ? str(best, "beginDate") : NULL;
		if (best == NULL || (b && (c == NULL || strcmp(b, c) > 0)))
			best = o;
	}
	return best;
}

static const char *const program_keys[] = {"studentReference", "programReference",
                                           "educationOrganizationReference", "beginDate",
                                           "endDate"};

static void program_carried(struct mctx *m, const char *resource, const json_t *o,
                            const char *const *more)
{
	const char *used[32];
	size_t n = 0;
	for (size_t i = 0; i < 5; i++)
		used[n++] = program_keys[i];
	for (size_t i = 0; more[i] && n < 31; i++)
		used[n++] = more[i];
	used[n] = NULL;
	carried(m, resource, o, used);
}

static int map_programs(struct mctx *m, json_t *el)
{
	static const char *const sped_k[] = {"ideaEligibility",
	                                     "disabilities",
	                                     "iepReviewDate",
	                                     "specialEducationProgramServices",
	                                     "specialEducationSettingDescriptor",
	                                     "specialEducationHoursPerWeek",
	                                     "iepBeginDate",
	                                     "iepEndDate",
	                                     "lastEvaluationDate",
	                                     NULL};
	static const char *const s504_k[] = {"section504Eligibility",
	                                     "section504DisabilityDescriptor",
	                                     "section504MeetingDate", NULL};
	static const char *const lang_k[] = {"languageInstructionProgramServices",
	                                     "englishLearnerParticipation", NULL};
	static const char *const home_k[] = {"homelessPrimaryNighttimeResidenceDescriptor",
	                                     "homelessUnaccompaniedYouth", NULL};
	const json_t *arr = all(m, "studentSpecialEducationProgramAssociations");
	json_t *o = latest(arr), *x, *progs;
	const char *v;
	char d[11];
	size_t i;

	if (o) {
		json_t *sp = json_object(), *svc;
		json_t *idea = json_object_get(o, "ideaEligibility");
		json_object_set_new(sp, "iep",
		                    json_boolean(json_is_boolean(idea)
		                                     ? json_is_true(idea)
		                                     : str(o, "iepBeginDate") != NULL));
		desc(m, "", json_array_get(json_object_get(o, "disabilities"), 0),
		     "disabilityDescriptor", "disability_category", 0, &v);
		sets(sp, "disability_category", v);
		desc(m, "", o, "specialEducationSettingDescriptor", "setting", 0, &v);
		sets(sp, "setting", v);
		sets(sp, "plan_date", date10(str(o, "iepReviewDate"), d));
		svc = json_array();
		json_array_foreach(json_object_get(o, "specialEducationProgramServices"), i, x)
		    json_array_append_new(
		        svc,
		        json_string(code_of(str(x, "specialEducationProgramServiceDescriptor"))));
		if (json_array_size(svc) > 0)
			json_object_set_new(sp, "services", svc);
		else
			json_decref(svc);
		setnum(sp, "hours_per_week", json_object_get(o, "specialEducationHoursPerWeek"));
		sets(sp, "iep_begin_date", date10(str(o, "iepBeginDate"), d));
		sets(sp, "iep_end_date", date10(str(o, "iepEndDate"), d));
		sets(sp, "last_evaluation_date", date10(str(o, "lastEvaluationDate"), d));
		json_object_set_new(m->rec, "special_education", sp);
		if (json_array_size(json_object_get(o, "disabilities")) > 1)
			note(m, "studentSpecialEducationProgramAssociations", ".",
			     "disabilities (after the first)");
	}
	json_array_foreach((json_t *)arr, i, x)
	{
		program_carried(m, "studentSpecialEducationProgramAssociations", x, sped_k);
		if (x != o)
			note(m, "studentSpecialEducationProgramAssociations", " (",
			     "an earlier program association)");
	}

	arr = all(m, "studentSection504ProgramAssociations");
	if ((o = latest(arr)) != NULL) {
		json_t *s = json_object();
		json_object_set_new(
		    s, "eligible",
		    json_boolean(json_is_true(json_object_get(o, "section504Eligibility"))));
		desc(m, "", o, "section504DisabilityDescriptor", "section_504_disability", 0, &v);
		sets(s, "disability", v);
		sets(s, "plan_date", date10(str(o, "section504MeetingDate"), d));
		sets(s, "begin_date", date10(str(o, "beginDate"), d));
		sets(s, "end_date", date10(str(o, "endDate"), d));
		json_object_set_new(m->rec, "section_504", s);
	}
	json_array_foreach((json_t *)arr, i, x)
	    program_carried(m, "studentSection504ProgramAssociations", x, s504_k);

	progs = json_array();
	json_array_foreach(all(m, "studentLanguageInstructionProgramAssociations"), i, x)
	{
		char name[200];
		json_t *p = json_object(), *svc;
		refstr(x, "programReference", "programName", name, sizeof(name));
		sets(p, "name", name);
		sets(p, "begin_date", date10(str(x, "beginDate"), d));
		sets(p, "end_date", date10(str(x, "endDate"), d));
		svc = codes(json_object_get(x, "languageInstructionProgramServices"),
		            "languageInstructionProgramServiceDescriptor");
		if (json_array_size(svc))
			json_object_set_new(p, "services", svc);
		else
			json_decref(svc);
		json_array_append_new(progs, p);
		program_carried(m, "studentLanguageInstructionProgramAssociations", x, lang_k);
	}
	if (json_array_size(progs) && el == NULL)
		note(m, "studentLanguageInstructionProgramAssociations", ": ",
		     "no limitedEnglishProficiencyDescriptor for the student: not carried");
	if (el)
		put_sorted(el, "programs", progs);
	else
		json_decref(progs);
	if (el && json_object_get(el, "status"))
		json_object_set(m->rec, "english_learner", el);
	else if (el)
		note(m, "studentEducationOrganizationAssociations", ".",
		     "languages (no limitedEnglishProficiencyDescriptor)");

	arr = all(m, "studentHomelessProgramAssociations");
	if ((o = latest(arr)) != NULL) {
		json_t *h = json_object();
		sets(h, "begin_date", date10(str(o, "beginDate"), d));
		sets(h, "end_date", date10(str(o, "endDate"), d));
		desc(m, "", o, "homelessPrimaryNighttimeResidenceDescriptor",
		     "primary_nighttime_residence", 0, &v);
		sets(h, "primary_nighttime_residence", v);
		setbool(h, "unaccompanied_youth", json_object_get(o, "homelessUnaccompaniedYouth"));
		json_object_set_new(m->rec, "homeless", h);
	}
	json_array_foreach((json_t *)arr, i, x)
	    program_carried(m, "studentHomelessProgramAssociations", x, home_k);
	return 0;
}

static void immunization_rows(const json_t *list, const char *name_key, int is_desc, json_t *out)
{
	json_t *o, *d;
	size_t i, j;
	char db[11];
	json_array_foreach((json_t *)list, i, o)
	{
		const char *vac = is_desc ? code_of(str(o, name_key)) : str(o, name_key);
		size_t n = 0;
		if (vac == NULL)
			continue;
		json_array_foreach(json_object_get(o, "dates"), j, d)
		{
			const char *when = date10(str(d, "immunizationDate"), db);
			if (when) {
				json_array_append_new(
				    out, json_pack("{s:s, s:s}", "vaccine", vac, "date", when));
				n++;
			}
		}
		if (n == 0 && str(o, "medicalExemption")) {
			json_t *row = json_pack("{s:s, s:s}", "vaccine", vac, "exemption",
			                        str(o, "medicalExemption"));
			sets(row, "date", date10(str(o, "medicalExemptionDate"), db));
			json_array_append_new(out, row);
		}
	}
}

static int map_health(struct mctx *m)
{
	static const char *const used[] = {
	    "studentReference",      "educationOrganizationReference", "asOfDate",
	    "requiredImmunizations", "additionalImmunizations",        NULL};
	json_t *o, *imm = json_array();
	size_t i;
	json_array_foreach(all(m, "studentHealths"), i, o)
	{
		immunization_rows(json_object_get(o, "requiredImmunizations"),
		                  "immunizationTypeDescriptor", 1, imm);
		immunization_rows(json_object_get(o, "additionalImmunizations"), "immunizationName",
		                  0, imm);
		carried(m, "studentHealths", o, used);
	}
	if (json_array_size(all(m, "studentHealths")) == 0) {
		json_decref(imm);
		return 0;
	}
	/* Ed-Fi has no allergies or conditions: not recorded, which is not "none known". */
	json_t *h = json_object();
	put_sorted(h, "immunizations", imm);
	if (!json_object_get(h, "immunizations"))
		json_object_set_new(h, "immunizations", json_array());
	json_object_set_new(m->rec, "health", h);
	return 0;
}

/* The actions a disciplineAction of the student's takes for one incident, joined by "; ". */
static void actions_for(struct mctx *m, const char *incident, const char *school, char *out,
                        size_t cap)
{
	static const char *const lists[] = {"studentDisciplineIncidentBehaviorAssociations",
	                                    "studentDisciplineIncidentAssociations"};
	static const char *const refs[] = {"studentDisciplineIncidentBehaviorAssociationReference",
	                                   "studentDisciplineIncidentAssociationReference"};
	json_t *a, *x, *dsc;
	size_t i, j, k;
	out[0] = '\0';
	json_array_foreach(all(m, "disciplineActions"), i, a)
	{
		int match = 0;
		char ib[200], sb[64];
		for (int l = 0; l < 2 && !match; l++)
			json_array_foreach(json_object_get(a, lists[l]), j, x)
			{
				refstr(x, refs[l], "incidentIdentifier", ib, sizeof(ib));
				refstr(x, refs[l], "schoolId", sb, sizeof(sb));
				if (strcmp(ib, incident) == 0 &&
				    (!sb[0] || strcmp(sb, school) == 0))
					match = 1;
			}
		if (!match)
			continue;
		json_array_foreach(json_object_get(a, "disciplines"), k, dsc)
		{
			const char *c = code_of(str(dsc, "disciplineDescriptor"));
			size_t n = strlen(out);
			if (c && n + strlen(c) + 3 < cap)
				snprintf(out + n, cap - n, "%s%s", n ? "; " : "", c);
		}
	}
}

static int map_discipline(struct mctx *m)
{
	static const char *const used[] = {"studentReference", "disciplineIncidentReference",
	                                   "behaviorDescriptor", NULL};
	static const char *const used_i[] = {"incidentIdentifier", "schoolReference",
	                                     "incidentDate", "incidentDescription", NULL};
	static const char *const used_a[] = {"studentReference",
	                                     "disciplineActionIdentifier",
	                                     "disciplineDate",
	                                     "disciplines",
	                                     "studentDisciplineIncidentBehaviorAssociations",
	                                     "studentDisciplineIncidentAssociations",
	                                     "responsibilitySchoolReference",
	                                     NULL};
	json_t *out = json_array(), *o;
	size_t i;
	int r = 0;

	json_array_foreach(all(m, "studentDisciplineIncidentBehaviorAssociations"), i, o)
	{
		char ib[200], sb[64], acts[200], d[11], what[300];
		const char *parts[2] = {
		    refstr(o, "disciplineIncidentReference", "incidentIdentifier", ib, sizeof(ib)),
		    refstr(o, "disciplineIncidentReference", "schoolId", sb, sizeof(sb))};
		json_t *inc = lookup(m, "disciplineIncidents", parts, 2), *e;
		const char *beh = code_of(str(o, "behaviorDescriptor"));
		if (inc == NULL || !str(inc, "incidentDate")) {
			r = bti_diag_err(
			    BATON_EVALUE,
			    "%s: studentDisciplineIncidentBehaviorAssociations."
			    "disciplineIncidentReference \"%s\" (school %s) is not in the "
			    "disciplineIncidents file",
			    where_of(o), ib, sb);
			json_decref(inc);
			break;
		}
		actions_for(m, ib, sb, acts, sizeof(acts));
		snprintf(what, sizeof(what), "%s%s%s", beh ? beh : "",
		         beh && str(inc, "incidentDescription") ? ": " : "",
		         str(inc, "incidentDescription") ? str(inc, "incidentDescription") : "");
		e = json_object();
		sets(e, "date", date10(str(inc, "incidentDate"), d));
		sets(e, "incident", what[0] ? what : ib);
		sets(e, "action", acts[0] ? acts : "No action recorded");
		json_array_append_new(out, e);
		carried(m, "studentDisciplineIncidentBehaviorAssociations", o, used);
		carried(m, "disciplineIncidents", inc, used_i);
		json_decref(inc);
	}
	json_array_foreach(all(m, "disciplineActions"), i, o)
	    carried(m, "disciplineActions", o, used_a);
	if (r != 0) {
		json_decref(out);
		return r;
	}
	put_sorted(m->rec, "discipline", out);
	return 0;
}

/* Graduation progress: the latest studentAcademicRecord's totals, and every diploma. */
static int map_graduation(struct mctx *m, json_t *grad)
{
	static const char *const used[] = {"studentReference",
	                                   "educationOrganizationReference",
	                                   "schoolYearTypeReference",
	                                   "termDescriptor",
	                                   "cumulativeEarnedCredits",
	                                   "cumulativeAttemptedCredits",
	                                   "gradePointAverages",
	                                   "diplomas",
	                                   NULL};
	json_t *o, *best = NULL, *g, *dip, *dips = json_array();
	size_t i, j;
	long long by = -1;
	char d[11];

	json_array_foreach(all(m, "studentAcademicRecords"), i, o)
	{
		json_t *y =
		    json_object_get(json_object_get(o, "schoolYearTypeReference"), "schoolYear");
		if (json_integer_value(y) > by) {
			by = json_integer_value(y);
			best = o;
		}
		json_array_foreach(json_object_get(o, "diplomas"), j, dip)
		{
			json_t *e = json_object();
			sets(e, "type", code_of(str(dip, "diplomaTypeDescriptor")));
			sets(e, "date", date10(str(dip, "diplomaAwardDate"), d));
			sets(e, "level", code_of(str(dip, "diplomaLevelDescriptor")));
			sets(e, "description", str(dip, "diplomaDescription"));
			json_array_append_new(dips, e);
		}
		carried(m, "studentAcademicRecords", o, used);
	}
	if (best) {
		setnum(grad, "credits_earned", json_object_get(best, "cumulativeEarnedCredits"));
		setnum(grad, "credits_attempted",
		       json_object_get(best, "cumulativeAttemptedCredits"));
		json_array_foreach(json_object_get(best, "gradePointAverages"), j, g)
		{
			const char *t = code_of(str(g, "gradePointAverageTypeDescriptor"));
			if (!json_is_true(json_object_get(g, "isCumulative")) || t == NULL)
				continue;
			if (strcmp(t, "Weighted") == 0)
				setnum(grad, "gpa_weighted",
				       json_object_get(g, "gradePointAverageValue"));
			else if (strcmp(t, "Unweighted") == 0)
				setnum(grad, "gpa_unweighted",
				       json_object_get(g, "gradePointAverageValue"));
		}
	}
	put_sorted(grad, "diplomas", dips);
	if (json_object_size(grad) > 0)
		json_object_set(m->rec, "graduation", grad);
	return 0;
}

/* The record of one student, whose resources are in m->res. */
static int map_student(struct mctx *m, const char *sid)
{
	json_t *s = json_array_get(all(m, "students"), 0), *el = NULL, *grad = json_object();
	const char *k;
	json_t *v;
	int r;

	if (json_array_size(all(m, "students")) > 1) {
		json_decref(grad);
		return bti_diag_err(BATON_EVALUE, "%s: students: studentUniqueId \"%s\" repeats %s",
		                    where_of(json_array_get(all(m, "students"), 1)), sid,
		                    where_of(s));
	}
	json_object_set_new(m->rec, "student_id", json_string(sid));
	if ((r = map_identity(m, s)) == 0 && (r = map_seoa(m, &el)) == 0 &&
	    (r = map_guardians(m)) == 0 && (r = map_enrollment(m, grad)) == 0 &&
	    (r = map_transcript(m)) == 0 && (r = map_attendance(m)) == 0 &&
	    (r = map_assessments(m)) == 0 && (r = map_programs(m, el)) == 0 &&
	    (r = map_health(m)) == 0 && (r = map_discipline(m)) == 0)
		r = map_graduation(m, grad);
	json_decref(el);
	json_decref(grad);
	/* Resources of the student's that no section takes. */
	json_object_foreach(m->res, k, v)
	{
		static const char *const taken[] = {"students",
		                                    "studentEducationOrganizationAssociations",
		                                    "studentContactAssociations",
		                                    "studentParentAssociations",
		                                    "studentSchoolAssociations",
		                                    "courseTranscripts",
		                                    "studentSchoolAttendanceEvents",
		                                    "studentAssessments",
		                                    "studentSpecialEducationProgramAssociations",
		                                    "studentSection504ProgramAssociations",
		                                    "studentLanguageInstructionProgramAssociations",
		                                    "studentHomelessProgramAssociations",
		                                    "studentHealths",
		                                    "studentDisciplineIncidentBehaviorAssociations",
		                                    "disciplineActions",
		                                    "studentAcademicRecords",
		                                    "grades",
		                                    "reportCards",
		                                    NULL};
		int t = 0;
		for (size_t i = 0; taken[i] && !t; i++)
			t = strcmp(taken[i], k) == 0;
		if (!t)
			note(m, k, " (", "not carried over)");
	}
	return r;
}

/* ---- students, one at a time ---- */

/* Loads the next student's resources after set->last into m->res; BATON_ENOTFOUND at the end. */
static int next_group(edfi_set *set, MDB_txn *t, json_t *res, char *sid, size_t cap)
{
	MDB_cursor *cur;
	MDB_val k, v;
	char seek[BATON_STUDENT_MAX + 3];
	size_t sl;
	int rc, r = 0;

	if ((rc = mdb_cursor_open(t, set->by_student, &cur)) != 0)
		return lmdb_err(rc, "cursor");
	if (set->started) {
		sl = strlen(set->last);
		memcpy(seek, set->last, sl);
		seek[sl] = '\x01'; /* past every key of the last student ("ID\0...") */
		k.mv_size = sl + 1;
		k.mv_data = seek;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	if (rc == MDB_NOTFOUND) {
		mdb_cursor_close(cur);
		return BATON_ENOTFOUND;
	}
	snprintf(sid, cap, "%.*s", (int)strnlen(k.mv_data, k.mv_size), (const char *)k.mv_data);
	sl = strlen(sid);
	for (size_t n = 0; rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *key = k.mv_data, *resource;
		json_t *arr, *o;
		if (k.mv_size <= sl + 1 || memcmp(key, sid, sl) != 0 || key[sl] != '\0')
			break;
		resource = key + sl + 1;
		if ((o = parse_val(&v)) == NULL) {
			r = BATON_ENOMEM;
			break;
		}
		/* One student's objects are held at once: a bound, not a district's worth. */
		if (++n > STUDENT_OBJECTS_MAX) {
			r = bti_diag_err(
			    BATON_ETOOBIG,
			    "%s: studentUniqueId \"%s\": more than %d objects name this "
			    "student (%s, ...); no student's records hold that many",
			    where_of(o), sid, STUDENT_OBJECTS_MAX, resource);
			json_decref(o);
			break;
		}
		if ((arr = json_object_get(res, resource)) == NULL) {
			arr = json_array();
			json_object_set_new(res, resource, arr);
		}
		json_array_append_new(arr, o);
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND && r == 0)
		r = lmdb_err(rc, "cursor");
	snprintf(set->last, sizeof(set->last), "%s", sid);
	set->started = 1;
	return r;
}

int edfi_set_next(edfi_set *set, json_t **rec, char *id, size_t idcap, json_t **notes)
{
	struct mctx m;
	char sid[BATON_STUDENT_MAX + 1];
	int rc, r;

	*rec = NULL;
	if (notes)
		*notes = NULL;
	id[0] = '\0';
	memset(&m, 0, sizeof(m));
	m.set = set;
	if (++set->served % CYCLE_STUDENTS == 0 && (r = scratch_cycle(set)) != 0)
		return r;
	if ((rc = mdb_txn_begin(set->env, NULL, MDB_RDONLY, &m.t)) != 0)
		return lmdb_err(rc, "begin");
	for (;;) {
		json_decref(m.res);
		if ((m.res = json_object()) == NULL) {
			r = BATON_ENOMEM;
			break;
		}
		if ((r = next_group(set, m.t, m.res, sid, sizeof(sid))) != 0)
			break;
		if (json_object_get(m.res, "students") != NULL)
			break;
		/* Resources of a student the files have no students object for. */
		if (set->pass == 0) {
			char msg[300];
			const char *k;
			json_t *v;
			json_object_foreach(m.res, k, v)
			{
				snprintf(
				    msg, sizeof(msg),
				    "%s: studentUniqueId \"%s\" is not in the students file; its "
				    "%zu %s not imported",
				    where_of(json_array_get(v, 0)), sid, json_array_size(v), k);
				json_array_append_new(set->notes, json_string(msg));
			}
		}
	}
	if (r == BATON_ENOTFOUND && set->pass == 0 && set->filter) {
		const char *k;
		json_t *v;
		json_object_foreach(set->filter, k, v) if (!json_is_true(v))
		{
			char msg[200];
			snprintf(msg, sizeof(msg), "--filter %s: no such student in the files", k);
			json_array_append_new(set->notes, json_string(msg));
		}
	}
	if (r == 0) {
		snprintf(id, idcap, "%s", sid);
		if (set->filter)
			json_object_set_new(set->filter, sid, json_true());
		m.rec = json_object();
		m.notes = json_array();
		m.noted = json_object();
		if (m.rec == NULL || m.notes == NULL || m.noted == NULL)
			r = BATON_ENOMEM;
		else
			r = map_student(&m, sid);
	}
	mdb_txn_abort(m.t);
	json_decref(m.res);
	json_decref(m.noted);
	if (r == 0)
		*rec = m.rec;
	else
		json_decref(m.rec);
	if (notes && r != BATON_ENOTFOUND && r != BATON_ENOMEM && r != BATON_EIO)
		*notes = m.notes;
	else
		json_decref(m.notes);
	return r;
}

void edfi_set_rewind(edfi_set *set)
{
	/* A rewind before anything was read is not a second reading. */
	if (set->started)
		set->pass++;
	set->started = 0;
	set->last[0] = '\0';
}

int edfi_source_next(void *arg, json_t **rec, char *id, size_t idcap)
{
	struct edfi_source *src = arg;
	json_t *notes = NULL;
	int first = src->set->pass == 0;
	int r = edfi_set_next(src->set, rec, id, idcap, &notes);
	if (first && src->on_student && r != BATON_ENOTFOUND && notes != NULL)
		src->on_student(src->arg, id, notes, r);
	json_decref(notes);
	return r;
}

void edfi_source_rewind(void *arg)
{
	edfi_set_rewind(((struct edfi_source *)arg)->set);
}

json_t *edfi_set_notes(edfi_set *set)
{
	return set->notes;
}

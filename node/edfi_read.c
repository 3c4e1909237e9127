/*
 * Reading Ed-Fi API JSON (edfi_read.h): the file is mapped, each resource
 * object's text is found by its brackets and only then parsed, and the
 * pages read are given back to the kernel, so a file of any size is read
 * in the memory of its largest object.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bti.h"
#include "edfi_read.h"
#include "edfi_types.h"
#include "store.h"

static const char *const known[] = {
    "assessments",
    "calendarDates",
    "calendars",
    "contacts",
    "courseTranscripts",
    "courses",
    "disciplineActions",
    "disciplineIncidents",
    "gradingPeriods",
    "grades",
    "graduationPlans",
    "parents",
    "reportCards",
    "schools",
    "sections",
    "sessions",
    "studentAcademicRecords",
    "studentAssessments",
    "studentContactAssociations",
    "studentDisciplineIncidentBehaviorAssociations",
    "studentEducationOrganizationAssociations",
    "studentHealths",
    "studentHomelessProgramAssociations",
    "studentLanguageInstructionProgramAssociations",
    "studentParentAssociations",
    "studentSchoolAssociations",
    "studentSchoolAttendanceEvents",
    "studentSection504ProgramAssociations",
    "studentSpecialEducationProgramAssociations",
    "students",
};

int edfi_resource_known(const char *name)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i], name) == 0)
			return 1;
	return 0;
}

/* One mapped file being read. */
struct scan {
	const char *name; /* the file's name in messages (no directory) */
	const char *p;
	size_t len, pos;
	size_t dropped; /* the mapping's pages given back up to here */
	edfi_sink sink;
	edfi_sink_raw raw; /* instead of sink when set */
	edfi_note note;
	void *arg;
	int single; /* the one-file form: where names the key too */
	char *buf;  /* a scanned object's squeezed text (raw sinks) */
	size_t cap;
};

static void skip_ws(struct scan *s)
{
	while (s->pos < s->len && (s->p[s->pos] == ' ' || s->p[s->pos] == '\t' ||
	                           s->p[s->pos] == '\r' || s->p[s->pos] == '\n'))
		s->pos++;
}

static int expect_err(const struct scan *s, const char *what)
{
	if (s->pos >= s->len)
		return bti_diag_err(BATON_EVALUE,
		                    "%s: byte %zu: the file ends where %s was expected", s->name,
		                    s->pos, what);
	return bti_diag_err(
	    BATON_EVALUE, "%s: byte %zu: expected %s, found '%c'", s->name, s->pos, what,
	    (unsigned char)s->p[s->pos] >= 0x20 && (unsigned char)s->p[s->pos] < 0x7f ? s->p[s->pos]
	                                                                              : '?');
}

/*
 * The end of the object starting at s->pos ('{'), tracking strings and
 * brackets only (jansson parses it afterwards): *end just past its '}'.
 */
static int object_end(const struct scan *s, const char *resource, size_t index, size_t *end)
{
	int depth = 0, in_str = 0;
	for (size_t i = s->pos; i < s->len; i++) {
		char c = s->p[i];
		if (i - s->pos >= EDFI_OBJECT_MAX)
			return bti_diag_err(BATON_ETOOBIG,
			                    "%s: %s[%zu] at byte %zu: an object over %u bytes",
			                    s->name, resource, index, s->pos, EDFI_OBJECT_MAX);
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0) {
			*end = i + 1;
			return 0;
		}
	}
	return bti_diag_err(BATON_EVALUE, "%s: %s[%zu] at byte %zu: the object is not closed",
	                    s->name, resource, index, s->pos);
}

/* The array of resource objects starting at s->pos ('['); skip: read over it, no sink. */
/* After an element: ',' (1, another follows), close (0, the end) or neither (-1). */
static int next_or_close(struct scan *s, char close)
{
	skip_ws(s);
	if (s->pos >= s->len || (s->p[s->pos] != ',' && s->p[s->pos] != close))
		return -1;
	return s->p[s->pos++] == ',';
}

static int read_array(struct scan *s, const char *resource, int skip)
{
	char where[300];
	size_t index = 0, end = 0;
	int r, k;

	skip_ws(s);
	if (s->pos >= s->len || s->p[s->pos] != '[') {
		char what[200];
		snprintf(what, sizeof(what), "an array of %s", resource);
		return expect_err(s, what);
	}
	s->pos++;
	skip_ws(s);
	if (s->pos < s->len && s->p[s->pos] == ']') {
		s->pos++;
		return 0;
	}
	for (;; index++) {
		json_error_t e;
		json_t *obj;
		struct edfi_scan sc;
		int scanned = 0;
		skip_ws(s);
		if (s->pos >= s->len || s->p[s->pos] != '{') {
			snprintf(where, sizeof(where), "%s[%zu]: a %s object", resource, index,
			         resource);
			return expect_err(s, where);
		}
		if (!skip && s->raw != NULL) {
			/* The scan finds the object's end itself, within object_end's bound. */
			size_t room =
			    s->len - s->pos < EDFI_OBJECT_MAX ? s->len - s->pos : EDFI_OBJECT_MAX;
			if (room > s->cap) {
				char *g = realloc(s->buf, room);
				if (g == NULL)
					return BATON_ENOMEM;
				s->buf = g;
				s->cap = room;
			}
			if ((scanned = edfi_scan_object(s->p + s->pos, room, s->buf, &sc)) != 0)
				end = s->pos + sc.len;
		}
		if (!scanned && (r = object_end(s, resource, index, &end)) != 0)
			return r;
		if (!skip) {
			obj = scanned
			          ? NULL
			          : json_loadb(s->p + s->pos, end - s->pos,
			                       JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &e);
			if (obj == NULL && !scanned)
				return bti_diag_err(BATON_EVALUE, "%s: %s[%zu] at byte %zu: %s",
				                    s->name, resource, index,
				                    s->pos + (size_t)e.position, e.text);
			if (s->single)
				snprintf(where, sizeof(where), "%s:%s[%zu]", s->name, resource,
				         index);
			else
				snprintf(where, sizeof(where), "%s[%zu]", s->name, index);
			r = s->raw ? s->raw(s->arg, resource, obj, scanned ? &sc : NULL,
			                    s->p + s->pos, end - s->pos, where)
			           : s->sink(s->arg, resource, obj, where);
			json_decref(obj);
			if (r != 0)
				return r;
		}
		s->pos = end;
		s->dropped = store_pages_done((const uint8_t *)s->p, s->dropped, s->pos);
		if ((k = next_or_close(s, ']')) >= 0) {
			if (k == 1)
				continue;
			return 0;
		}
		snprintf(where, sizeof(where), "',' or ']' after %s[%zu]", resource, index);
		return expect_err(s, where);
	}
}

/* A key of the one-file form: a resource name, without escapes. */
static int read_key(struct scan *s, char *key, size_t cap)
{
	size_t n = 0;
	skip_ws(s);
	if (s->pos >= s->len || s->p[s->pos] != '"')
		return expect_err(s, "a resource name in quotes");
	s->pos++;
	while (s->pos < s->len && s->p[s->pos] != '"') {
		char c = s->p[s->pos];
		if (c == '\\' || (unsigned char)c < 0x20 || n + 1 >= cap)
			return bti_diag_err(BATON_EVALUE, "%s: byte %zu: not a resource name",
			                    s->name, s->pos);
		key[n++] = c;
		s->pos++;
	}
	if (s->pos >= s->len)
		return expect_err(s, "the end of a resource name");
	key[n] = '\0';
	s->pos++;
	skip_ws(s);
	if (s->pos >= s->len || s->p[s->pos] != ':')
		return expect_err(s, "':'");
	s->pos++;
	return 0;
}

/* Whether a resource named name is read, skipped with a note, or an error. */
static int take_resource(struct scan *s, const char *name, const char *what, int *skip)
{
	char msg[600];
	*skip = 0;
	if (edfi_resource_known(name))
		return 0;
	if (s->note == NULL)
		return bti_diag_err(BATON_EVALUE,
		                    "%s: %s \"%s\" is not an Ed-Fi resource Baton reads "
		                    "(docs/edfi.md lists them)",
		                    s->name, what, name);
	snprintf(msg, sizeof(msg), "%s: %s \"%s\" is not an Ed-Fi resource Baton reads; skipped",
	         s->name, what, name);
	s->note(s->arg, msg);
	*skip = 1;
	return 0;
}

/* The one-file form: {"students": [...], "schools": [...], ...}. */
static int read_object(struct scan *s)
{
	char key[128];
	int r, k, skip;

	s->pos++;
	skip_ws(s);
	if (s->pos < s->len && s->p[s->pos] == '}') {
		s->pos++;
		return 0;
	}
	for (;;) {
		if ((r = read_key(s, key, sizeof(key))) != 0 ||
		    (r = take_resource(s, key, "key", &skip)) != 0 ||
		    (r = read_array(s, key, skip)) != 0)
			return r;
		if ((k = next_or_close(s, '}')) >= 0) {
			if (k == 1)
				continue;
			return 0;
		}
		return expect_err(s, "',' or '}' after an array");
	}
}

/*
 * Reads the file at path (named name in messages): resource is its
 * resource (a RESOURCE.json of a directory), or NULL for the one-file form.
 */
static int read_file(struct scan *s, const char *path, const char *resource)
{
	struct stat st;
	void *m = NULL;
	int fd, r;

	/* O_NONBLOCK: a FIFO is refused below, not waited on at open. */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", s->name, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bti_diag_err(BATON_EVALUE, "%s: not a regular file", s->name);
	}
	s->len = (size_t)st.st_size;
	s->pos = s->dropped = 0;
	if (s->len > 0 && (m = mmap(NULL, s->len, PROT_READ, MAP_PRIVATE, fd, 0)) == MAP_FAILED) {
		r = errno;
		close(fd);
		return bti_diag_err(BATON_EIO, "%s: %s", s->name, strerror(r));
	}
	close(fd);
	s->p = m;
	if (s->len >= 3 && memcmp(s->p, "\xef\xbb\xbf", 3) == 0)
		s->pos = 3;
	skip_ws(s);
	if (s->pos >= s->len)
		r = bti_diag_err(BATON_EVALUE, "%s: the file is empty", s->name);
	else if (resource != NULL)
		r = read_array(s, resource, 0);
	else if (s->p[s->pos] == '{')
		r = read_object(s);
	else
		r = expect_err(s, "an object of resource arrays ({\"students\": [...], ...})");
	if (r == 0) {
		skip_ws(s);
		if (s->pos < s->len)
			r = bti_diag_err(BATON_EVALUE, "%s: byte %zu: text after the %s", s->name,
			                 s->pos, resource ? "array" : "object");
	}
	if (m != NULL)
		munmap(m, s->len);
	s->p = NULL;
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json files of dir, in name order (the caller frees each and the array). */
static int list_json(const char *dir, char ***names, size_t *n)
{
	DIR *d;
	struct dirent *de;
	size_t cap = 0;
	char **v = NULL;

	*names = NULL;
	*n = 0;
	if ((d = opendir(dir)) == NULL)
		return bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0 || de->d_name[0] == '.')
			continue;
		if (*n == cap) {
			char **g = reallocarray(v, cap ? cap * 2 : 32, sizeof(*v));
			if (g == NULL)
				goto nomem;
			v = g;
			cap = cap ? cap * 2 : 32;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL)
			goto nomem;
		(*n)++;
	}
	closedir(d);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), by_name);
	*names = v;
	return 0;
nomem:
	closedir(d);
	for (size_t i = 0; i < *n; i++)
		free(v[i]);
	free(v);
	*n = 0;
	return BATON_ENOMEM;
}

/* A directory: each RESOURCE.json file, in name order. */
static int read_dir(struct scan *s, const char *dir)
{
	char **names, path[4096], resource[256];
	size_t n, i;
	int r, skip;

	if ((r = list_json(dir, &names, &n)) != 0)
		return r;
	if (n == 0)
		r = bti_diag_err(BATON_EVALUE, "%s: no RESOURCE.json files (students.json, ...)",
		                 dir);
	/* Every name is checked before any file is read: a wrong one is told at once. */
	for (i = 0; i < n && r == 0 && s->note == NULL; i++) {
		snprintf(resource, sizeof(resource), "%.*s", (int)(strlen(names[i]) - 5), names[i]);
		s->name = names[i];
		r = take_resource(s, resource, "file name", &skip);
	}
	for (i = 0; i < n && r == 0; i++) {
		snprintf(resource, sizeof(resource), "%.*s", (int)(strlen(names[i]) - 5), names[i]);
		s->name = names[i];
		if ((r = take_resource(s, resource, "file name", &skip)) != 0 || skip)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		r = read_file(s, path, resource);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int read_path(struct scan *sp, const char *path)
{
	struct scan s = *sp;
	struct stat st;
	const char *base = strrchr(path, '/');
	int r;

	if (stat(path, &st) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		r = read_dir(&s, path);
	else {
		s.name = base && base[1] ? base + 1 : path;
		s.single = 1;
		r = read_file(&s, path, NULL);
	}
	free(s.buf);
	return r;
}

int edfi_json_read_notes(const char *path, edfi_sink sink, edfi_note note, void *arg)
{
	struct scan s;
	memset(&s, 0, sizeof(s));
	s.sink = sink;
	s.note = note;
	s.arg = arg;
	return read_path(&s, path);
}

int edfi_json_read_raw(const char *path, edfi_sink_raw sink, edfi_note note, void *arg)
{
	struct scan s;
	memset(&s, 0, sizeof(s));
	s.raw = sink;
	s.note = note;
	s.arg = arg;
	return read_path(&s, path);
}

int edfi_json_read(const char *path, edfi_sink sink, void *arg)
{
	return edfi_json_read_notes(path, sink, NULL, arg);
}

/* Reading a file of student records one at a time: see record_file.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <baton/baton.h>

#include "bti.h"
#include "record.h"
#include "record_file.h"

struct record_file {
	const char *name; /* the path as given: only to tell CSV by its name */
	const char *map;  /* the whole file, read-only */
	size_t maplen;
	const char *p; /* the text after a byte order mark */
	size_t len, pos;
	size_t dropped; /* bytes of the mapping given back to the kernel */
	size_t count;
	int line;
	int array; /* -1 not started, 0 a single object, 1 an array */
	int done;
};

int record_file_open(const char *path, record_file **rfp)
{
	record_file *rf = NULL;
	struct stat st;
	int fd = -1, r = BATON_EIO;

	*rfp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = bti_diag_err(BATON_EIO, "%s: not a regular file", path);
		goto out;
	}
	if ((rf = calloc(1, sizeof(*rf))) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	rf->name = path;
	rf->maplen = (size_t)st.st_size;
	if (rf->maplen > 0) {
		void *m = mmap(NULL, rf->maplen, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			r = bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		rf->map = m;
	}
	rf->p = rf->map;
	rf->len = rf->maplen;
	/* Spreadsheets and Windows editors write one; it is not part of the JSON. */
	if (rf->len >= 3 && memcmp(rf->p, "\xef\xbb\xbf", 3) == 0) {
		rf->p += 3;
		rf->len -= 3;
	}
	rf->line = 1;
	rf->array = -1;
	*rfp = rf;
	rf = NULL;
	r = 0;
out:
	record_file_close(rf);
	close(fd);
	return r;
}

void record_file_close(record_file *rf)
{
	if (rf == NULL)
		return;
	if (rf->map)
		munmap((void *)(uintptr_t)rf->map, rf->maplen);
	free(rf);
}

size_t record_file_count(const record_file *rf)
{
	return rf->count;
}

void record_file_progress(const record_file *rf, size_t *done, size_t *total)
{
	*done = rf->pos;
	*total = rf->len;
}

static void skip_ws(record_file *rf)
{
	while (rf->pos < rf->len && strchr(" \t\r\n", rf->p[rf->pos]) && rf->p[rf->pos]) {
		if (rf->p[rf->pos] == '\n')
			rf->line++;
		rf->pos++;
	}
}

/* Whether the file, which does not start as JSON does, is a spreadsheet's CSV. */
static int is_csv(const record_file *rf)
{
	size_t n = strlen(rf->name), eol;
	if (n >= 4 && strcasecmp(rf->name + n - 4, ".csv") == 0)
		return 1;
	const char *nl = memchr(rf->p + rf->pos, '\n', rf->len - rf->pos);
	eol = nl ? (size_t)(nl - rf->p) : rf->len;
	return memchr(rf->p + rf->pos, ',', eol - rf->pos) != NULL;
}

/* Reads up to the first value: '[' of an array, or '{' of a single object. */
static int start(record_file *rf)
{
	skip_ws(rf);
	if (rf->pos == rf->len)
		return bti_diag_err(BATON_EVALUE, "the file is empty");
	if (rf->p[rf->pos] == '[') {
		rf->array = 1;
		rf->pos++;
		return 0;
	}
	if (rf->p[rf->pos] == '{') {
		rf->array = 0;
		return 0;
	}
	if (is_csv(rf))
		return bti_diag_err(BATON_EVALUE, "this looks like CSV; baton imports JSON "
		                                  "records (see RECORD.md)");
	return bti_diag_err(BATON_EVALUE, "line %d: expected a student object or an array of them",
	                    rf->line);
}

/* The number of '\n' in [p, p + n). */
static int count_lines(const char *p, size_t n)
{
	int lines = 0;
	const char *end = p + n, *nl;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		lines++;
		p = nl + 1;
	}
	return lines;
}

/*
 * Moves past one value, tracking only strings and brackets: jansson parses
 * the value afterwards. Stops at the ',' or ']' after an array element, or
 * just after a single object's closing '}'. A string is crossed with memchr
 * to its closing quote (one not escaped by an odd run of backslashes), so
 * the bytes of names and values are not looked at one by one.
 */
static void skip_value(record_file *rf)
{
	int depth = 0;
	const char *p = rf->p;
	for (; rf->pos < rf->len; rf->pos++) {
		char c = p[rf->pos];
		if (c == '"') {
			size_t from = rf->pos + 1, at = from;
			for (;;) {
				const char *q = memchr(p + at, '"', rf->len - at);
				if (q == NULL) { /* unterminated: jansson names it */
					rf->line += count_lines(p + from, rf->len - from);
					rf->pos = rf->len;
					return;
				}
				size_t k = (size_t)(q - p), b = k;
				while (b > from && p[b - 1] == '\\')
					b--;
				at = k + 1;
				if ((k - b) % 2 == 0)
					break;
			}
			/* Raw line breaks in a string are not JSON, but the count stays right. */
			rf->line += count_lines(p + from, at - 1 - from);
			rf->pos = at - 1;
			continue;
		}
		if (c == '\n')
			rf->line++;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (depth == 0)
				return; /* the array's closing bracket */
			if (--depth == 0 && !rf->array) {
				rf->pos++;
				return;
			}
		} else if (c == ',' && depth == 0)
			return;
	}
}

/* After the value: text after a single object, or the array's ',' or ']'. */
static int after_value(record_file *rf)
{
	if (!rf->array) {
		rf->done = 1;
		skip_ws(rf);
		if (rf->pos != rf->len)
			return bti_diag_err(BATON_EVALUE, "line %d: text after the student object",
			                    rf->line);
		return 0;
	}
	if (rf->pos >= rf->len) {
		rf->done = 1;
		return bti_diag_err(BATON_EVALUE, "line %d: the array is not closed", rf->line);
	}
	if (rf->p[rf->pos] == ',')
		rf->pos++;
	return 0;
}

/* 0 and [*b, *e) for the next value's text, BATON_ENOTFOUND at the end, or an error. */
static int find_value(record_file *rf, size_t *b, size_t *e, int *line)
{
	int r;
	if (rf->done)
		return BATON_ENOTFOUND;
	if (rf->array < 0 && (r = start(rf)) != 0) {
		rf->done = 1;
		return r;
	}
	skip_ws(rf);
	if (rf->array && rf->pos < rf->len && rf->p[rf->pos] == ']') {
		rf->pos++;
		rf->done = 1;
		skip_ws(rf);
		if (rf->pos != rf->len)
			return bti_diag_err(BATON_EVALUE, "line %d: text after the closing ]",
			                    rf->line);
		return BATON_ENOTFOUND;
	}
	*b = rf->pos;
	*line = rf->line;
	skip_value(rf);
	*e = rf->pos;
	return 0;
}

/*
 * Finds "KEY": "value" in raw text, for naming a record that does not parse.
 * Copies the value (up to cap-1 bytes, stopping at a quote) into out.
 */
static void raw_string_field(const char *p, size_t n, const char *key, char *out, size_t cap)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "\"%s\"", key);
	const char *at = memmem(p, n, pat, strlen(pat));
	if (at == NULL)
		return;
	const char *q = at + strlen(pat), *end = p + n;
	while (q < end && strchr(" \t\r\n:", *q) && *q)
		q++;
	if (q >= end || *q != '"')
		return;
	size_t k = 0;
	for (q++; q < end && *q != '"' && k + 1 < cap; q++)
		out[k++] = (unsigned char)*q >= 0x20 && (unsigned char)*q < 0x7f ? *q : '?';
	out[k] = 0;
}

/* The last "key": before pos: the field being read where jansson stopped. */
static void field_before(const char *p, size_t pos, char *field, size_t cap)
{
	for (size_t i = pos; i-- > 1;) {
		if (p[i] != ':')
			continue;
		size_t e = i;
		while (e > 0 && strchr(" \t\r\n", p[e - 1]) && p[e - 1])
			e--;
		if (e == 0 || p[e - 1] != '"')
			continue;
		size_t b = e - 1;
		while (b > 0 && p[b - 1] != '"')
			b--;
		if (b > 0 && e - 1 - b < cap) {
			memcpy(field, p + b, e - 1 - b);
			field[e - 1 - b] = 0;
		}
		return;
	}
}

/* The error for a record jansson could not parse: its number, student_id and nearest field. */
static int unparsable(const char *p, size_t n, size_t index, int line, const json_error_t *err)
{
	char sid[BATON_STUDENT_MAX + 1] = "", field[64] = "";
	size_t pos = err->position > 0 && (size_t)err->position <= n ? (size_t)err->position : n;
	field_before(p, pos, field, sizeof(field));
	raw_string_field(p, pos, "student_id", sid, sizeof(sid));
	return bti_diag_err(BATON_EVALUE, "record %zu (%s): line %d%s%s%s: %s", index,
	                    sid[0] ? sid : "no student_id", line + err->line - 1,
	                    field[0] ? ", field \"" : "", field, field[0] ? "\"" : "", err->text);
}

/* The input is only read forward: the kernel may drop what has been parsed. */
static void drop_read(record_file *rf, size_t upto)
{
	size_t base = (size_t)(rf->p - rf->map);
	size_t done = (base + upto) & ~(size_t)(sysconf(_SC_PAGESIZE) - 1);
	if (done > rf->dropped) {
		madvise((void *)(uintptr_t)(rf->map + rf->dropped), done - rf->dropped,
		        MADV_DONTNEED);
		rf->dropped = done;
	}
}

int record_file_next(record_file *rf, json_t **rec, size_t *index)
{
	json_error_t err;
	size_t b = 0, e = 0;
	int line = 0, r;

	*rec = NULL;
	*index = 0;
	if ((r = find_value(rf, &b, &e, &line)) != 0)
		return r;
	*index = ++rf->count;
	if (e - b > RECORD_FILE_RECORD_MAX) {
		r = bti_diag_err(BATON_ETOOBIG, "record %zu: line %d: more than %u bytes", *index,
		                 line, RECORD_FILE_RECORD_MAX);
	} else {
		record_json_failed();
		*rec = json_loadb(rf->p + b, e - b, JSON_REJECT_DUPLICATES, &err);
		/* Parsed or not, the text may have lost a piece. */
		if (record_json_failed()) {
			json_decref(*rec);
			*rec = NULL;
			rf->done = 1;
			return bti_diag_err(BATON_ENOMEM, "record %zu: out of memory", *index);
		}
		if (*rec == NULL)
			r = unparsable(rf->p + b, e - b, *index, line, &err);
	}
	drop_read(rf, b);
	int r2 = after_value(rf);
	if (r == 0 && r2 != 0) {
		json_decref(*rec);
		*rec = NULL;
		*index = 0;
		r = r2;
	}
	return r;
}

void record_file_rewind(record_file *rf)
{
	rf->pos = 0;
	rf->count = 0;
	rf->line = 1;
	rf->array = -1;
	rf->done = 0;
}

/* The Ed-Fi descriptor map (edfi_map.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bti.h"
#include "edfi_map.h"

static const char shipped[] =
#include "edfi_descriptors.h"
    ;

struct line {
	char *field, *value, *uri;
	size_t flen, ulen; /* of field and uri: most lines differ in length, tried first */
};

struct edfi_map {
	struct line *v;
	size_t n, cap;
};

void edfi_map_free(edfi_map *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].field);
	free(m->v);
	free(m);
}

/* One line's text (len bytes, no newline): added, or an error naming where. */
static int add_line(edfi_map *m, const char *text, size_t len, const char *where, size_t lineno)
{
	char *copy, *tab1, *tab2;
	while (len > 0 && (text[len - 1] == '\r' || text[len - 1] == ' '))
		len--;
	if (len == 0 || text[0] == '#')
		return 0;
	if ((copy = strndup(text, len)) == NULL)
		return BATON_ENOMEM;
	tab1 = strchr(copy, '\t');
	tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
	if (tab1 == NULL || tab2 == NULL || strchr(tab2 + 1, '\t') || tab1 == copy ||
	    tab2 == tab1 + 1 || tab2[1] == '\0' || strchr(tab2 + 1, '#') == NULL) {
		free(copy);
		return bti_diag_err(BATON_EVALUE,
		                    "%s: line %zu: expected baton-field<TAB>baton-value<TAB>"
		                    "descriptor URI (uri://...Descriptor#Code)",
		                    where, lineno);
	}
	*tab1 = *tab2 = '\0';
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].field, copy) == 0 && strcmp(m->v[i].uri, tab2 + 1) == 0) {
			/* A district's line for a URI the map has: the value is the district's. */
			free(m->v[i].field);
			m->v[i] =
			    (struct line){copy, tab1 + 1, tab2 + 1, strlen(copy), strlen(tab2 + 1)};
			return 0;
		}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 128;
		struct line *g = reallocarray(m->v, cap, sizeof(*g));
		if (g == NULL) {
			free(copy);
			return BATON_ENOMEM;
		}
		m->v = g;
		m->cap = cap;
	}
	m->v[m->n++] = (struct line){copy, tab1 + 1, tab2 + 1, strlen(copy), strlen(tab2 + 1)};
	return 0;
}

static int add_text(edfi_map *m, const char *text, size_t len, const char *where)
{
	size_t lineno = 1;
	int r;
	for (size_t at = 0; at < len; lineno++) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t l = nl ? (size_t)(nl - (text + at)) : len - at;
		if ((r = add_line(m, text + at, l, where, lineno)) != 0)
			return r;
		at += l + 1;
	}
	return 0;
}

/* The most a district's descriptor map may hold: far more than any map needs. */
#define EDFI_MAP_MAX (1024 * 1024)

/*
 * Reads a district's map file: a regular file (a FIFO, a device or a
 * directory is refused without waiting on it) of at most EDFI_MAP_MAX bytes
 * and no NUL byte; *text is the caller's to free.
 */
static int read_map(const char *file, char **text, size_t *len)
{
	uint8_t *buf = NULL;
	const uint8_t *nul;
	int fd, r;

	*text = NULL;
	if ((fd = open(file, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return bti_diag_err(BATON_EIO, "--descriptor-map %s: %s", file, strerror(errno));
	r = bti_file_read_fd(fd, file, EDFI_MAP_MAX, &buf, len);
	close(fd);
	if (r != 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", baton_diag());
		return bti_diag_err(r, "--descriptor-map %s", why);
	}
	if ((nul = memchr(buf, '\0', *len)) != NULL) {
		size_t lineno = 1;
		for (const uint8_t *p = buf; p < nul; p++)
			lineno += *p == '\n';
		free(buf);
		return bti_diag_err(BATON_EVALUE, "%s: line %zu: a NUL byte", file, lineno);
	}
	*text = (char *)buf;
	return 0;
}

int edfi_map_load(edfi_map **out, const char *file)
{
	edfi_map *m;
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return BATON_ENOMEM;
	if ((r = add_text(m, shipped, sizeof(shipped) - 1, "the shipped descriptor map")) != 0)
		goto out;
	if (file != NULL &&
	    ((r = read_map(file, &text, &len)) != 0 || (r = add_text(m, text, len, file)) != 0))
		goto out;
	*out = m;
	m = NULL;
	r = 0;
out:
	free(text);
	edfi_map_free(m);
	return r;
}

const char *edfi_map_value(const edfi_map *m, const char *field, const char *uri)
{
	size_t fl = strlen(field), ul = strlen(uri);
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].ulen == ul && m->v[i].flen == fl && memcmp(m->v[i].uri, uri, ul) == 0 &&
		    memcmp(m->v[i].field, field, fl) == 0)
			return m->v[i].value;
	return NULL;
}

const char *edfi_map_uri(const edfi_map *m, const char *field, const char *value)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].field, field) == 0 && strcmp(m->v[i].value, value) == 0)
			return m->v[i].uri;
	return NULL;
}

/* The types of an Ed-Fi resource's values (see edfi_types.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bti.h"
#include "edfi_types.h"
#include "record.h"

#define PATH_MAX_LEN 200

enum want { W_ANY, W_STRING, W_OBJECT, W_INTEGER, W_DATE, W_BOOLEAN, W_NUMBER, W_ARRAY };

static const char *const booleans[] = {"livesWith", "primaryContactStatus",
                                       "emergencyContactStatus", "legalGuardian", NULL};
static const char *const numbers[] = {"numericGradeEarned",
                                      "gradePointAverageValue",
                                      "maxGradePointAverageValue",
                                      "numberOfDaysAbsent",
                                      "numberOfDaysInAttendance",
                                      "numberOfDaysTardy",
                                      NULL};
static const char *const arrays[] = {"telephones",
                                     "electronicMails",
                                     "addresses",
                                     "diplomas",
                                     "gradePointAverages",
                                     "scoreResults",
                                     "performanceLevels",
                                     "behaviors",
                                     "earnedAdditionalCredits",
                                     NULL};

static int ends(const char *k, size_t n, const char *suffix, size_t m)
{
	return n >= m && memcmp(k + n - m, suffix, m) == 0;
}

/* In want_of: its key k (n bytes) ends with the literal suffix. */
#define ENDS(suffix) ends(k, n, suffix, sizeof(suffix) - 1)

static int listed(const char *const *list, const char *k)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], k) == 0)
			return 1;
	return 0;
}

static enum want want_of(const char *k)
{
	size_t n = strlen(k);
	if (ENDS("Descriptor") || ENDS("UniqueId"))
		return W_STRING;
	if (ENDS("Reference"))
		return W_OBJECT;
	if (strcmp(k, "schoolId") == 0 || ENDS("SchoolId") || ENDS("OrganizationId") ||
	    ENDS("AgencyId") || strcmp(k, "schoolYear") == 0 || ENDS("SchoolYear"))
		return W_INTEGER;
	if (ENDS("Date"))
		return W_DATE;
	if (listed(booleans, k) || ENDS("Indicator") ||
	    (k[0] == 'i' && k[1] == 's' && k[2] >= 'A' && k[2] <= 'Z'))
		return W_BOOLEAN;
	/* Before "...Credits": earnedAdditionalCredits is a collection, not a number. */
	if (listed(arrays, k))
		return W_ARRAY;
	if (listed(numbers, k) || ENDS("Credits"))
		return W_NUMBER;
	return W_ANY;
}

/* A real calendar date, or a date-time whose date is one ("2024-05-01T08:00:00Z"). */
static int real_date(const char *s)
{
	char day[11];
	int ymd;
	if (strlen(s) < 10 || (s[10] != '\0' && s[10] != 'T'))
		return 0;
	memcpy(day, s, 10);
	day[10] = '\0';
	return record_date_value(day, &ymd) == 0;
}

static int refuse(const char *where, const char *resource, const char *path, const json_t *v,
                  const char *what)
{
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	int r = bti_diag_err(json_is_null(v) || !json_is_string(v) ? BATON_ETYPE : BATON_EVALUE,
	                     "%s: %s.%s: %.60s%s %s", where, resource, path, text ? text : "?",
	                     text && strlen(text) > 60 ? "..." : "", what);
	free(text);
	return r;
}

static int check(const char *where, const char *resource, char *path, size_t len, const char *key,
                 const json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;
	int r;

	if (json_is_null(v))
		return refuse(where, resource, path, v, "is null (leave the key out instead)");
	switch (key ? want_of(key) : W_ANY) {
	case W_STRING:
		if (!json_is_string(v) || json_string_length(v) == 0)
			return refuse(where, resource, path, v, "is not a non-empty string");
		break;
	case W_OBJECT:
		if (!json_is_object(v))
			return refuse(where, resource, path, v, "is not an object (a reference)");
		break;
	case W_INTEGER:
		if (!json_is_integer(v))
			return refuse(where, resource, path, v, "is not an integer");
		break;
	case W_DATE:
		if (!json_is_string(v) || !real_date(json_string_value(v)))
			return refuse(where, resource, path, v, "is not a date (YYYY-MM-DD)");
		break;
	case W_BOOLEAN:
		if (!json_is_boolean(v))
			return refuse(where, resource, path, v, "is not true or false");
		break;
	case W_NUMBER:
		if (!json_is_number(v))
			return refuse(where, resource, path, v, "is not a number");
		break;
	case W_ARRAY:
		if (!json_is_array(v))
			return refuse(where, resource, path, v, "is not an array");
		break;
	case W_ANY:
		break;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, m)
		{
			int n = snprintf(path + len, PATH_MAX_LEN - len, "%s%s", len ? "." : "", k);
			size_t nl = n < 0 || (size_t)n >= PATH_MAX_LEN - len ? PATH_MAX_LEN - 1
			                                                     : len + (size_t)n;
			if ((r = check(where, resource, path, nl, k, m)) != 0)
				return r;
			path[len] = '\0';
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
		{
			int n = snprintf(path + len, PATH_MAX_LEN - len, "[%zu]", i);
			size_t nl = n < 0 || (size_t)n >= PATH_MAX_LEN - len ? PATH_MAX_LEN - 1
			                                                     : len + (size_t)n;
			/* An element of a collection has the collection's element types, not its
			 * own. */
			if ((r = check(where, resource, path, nl, NULL, m)) != 0)
				return r;
			path[len] = '\0';
		}
	}
	return 0;
}

int edfi_check_types(const char *resource, const json_t *obj, const char *where)
{
	char path[PATH_MAX_LEN] = "";
	return check(where, resource, path, 0, NULL, obj);
}

/* ---- the same rules on an object's text (edfi_scan_object) ---- */

#define SCAN_DEPTH 32 /* deeper is left to jansson (its own limit is 2048) */
#define SCAN_KEYS  64 /* keys of one object compared for repeats; more: left to jansson */

enum kind { K_STRING, K_INTEGER, K_REAL, K_BOOLEAN, K_OBJECT, K_ARRAY };

struct scanner {
	const char *p;
	size_t len, at;
	int depth;
	char *out; /* the text squeezed (edfi_scan_object), or NULL */
	size_t n;
	int keep; /* what is read now goes to out */
};

static void emit(struct scanner *c, const char *s, size_t n)
{
	if (c->out != NULL && c->keep) {
		memcpy(c->out + c->n, s, n);
		c->n += n;
	}
}

int edfi_api_member(const char *k, size_t n)
{
	return (n == 2 && memcmp(k, "id", 2) == 0) || (n == 4 && memcmp(k, "link", 4) == 0) ||
	       (n == 5 && memcmp(k, "_etag", 5) == 0) ||
	       (n == 17 && memcmp(k, "_lastModifiedDate", 17) == 0);
}

/* A value read: its kind, and for a string its text between the quotes. */
struct val {
	enum kind kind;
	const char *s;
	size_t n;
	int escaped;
};

static void sc_ws(struct scanner *c)
{
	while (c->at < c->len && (c->p[c->at] == ' ' || c->p[c->at] == '\n' ||
	                          c->p[c->at] == '\t' || c->p[c->at] == '\r'))
		c->at++;
}

/* The bytes of one UTF-8 sequence starting at u (n bytes left) as jansson checks it, or 0. */
static size_t utf8_len(const unsigned char *u, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need;
	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		need = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		need = 3;
		if (u[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (u[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		need = 4;
		if (u[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (u[0] == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else
		return 0;
	if (n < need || u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (u[i] < 0x80 || u[i] > 0xbf)
			return 0;
	return need;
}

/* The string at c->at ('"'): 1 with v set, or 0. */
static int sc_string(struct scanner *c, struct val *v)
{
	const unsigned char *u = (const unsigned char *)c->p;
	size_t i = c->at + 1;
	v->kind = K_STRING;
	v->s = c->p + i;
	v->escaped = 0;
	for (;;) {
		/* Eight bytes at a time while none is a control character, non-ASCII, '"' or '\\'.
		 */
		while (i + 8 <= c->len) {
			const uint64_t lo = 0x0101010101010101u, hi = 0x8080808080808080u;
			uint64_t x, q, b;
			memcpy(&x, u + i, 8);
			q = x ^ (lo * '"');
			b = x ^ (lo * '\\');
			if ((((x - lo * 0x20) & ~x) | x | ((q - lo) & ~q) | ((b - lo) & ~b)) & hi)
				break;
			i += 8;
		}
		while (i < c->len && u[i] >= 0x20 && u[i] < 0x80 && u[i] != '"' && u[i] != '\\')
			i++;
		if (i >= c->len || u[i] < 0x20)
			return 0;
		if (u[i] == '"')
			break;
		if (u[i] == '\\') {
			/* \u is left to jansson: a NUL or a lone surrogate is refused there. */
			if (i + 1 >= c->len || !strchr("\"\\/bfnrt", c->p[i + 1]) ||
			    c->p[i + 1] == 0)
				return 0;
			v->escaped = 1;
			i += 2;
		} else {
			size_t l = utf8_len(u + i, c->len - i);
			if (l == 0)
				return 0;
			i += l;
		}
	}
	v->n = (size_t)(c->p + i - v->s);
	c->at = i + 1;
	return 1;
}

/* A number jansson reads without overflow: at most 18 digits before any fraction, no exponent. */
static int sc_number(struct scanner *c, struct val *v)
{
	size_t i = c->at, d;
	if (i < c->len && c->p[i] == '-')
		i++;
	if (i >= c->len || c->p[i] < '0' || c->p[i] > '9')
		return 0;
	if (c->p[i] == '0') {
		i++;
		if (i < c->len && c->p[i] >= '0' && c->p[i] <= '9')
			return 0;
	} else {
		for (d = 0; i < c->len && c->p[i] >= '0' && c->p[i] <= '9'; i++)
			if (++d > 18)
				return 0;
	}
	v->kind = K_INTEGER;
	if (i < c->len && c->p[i] == '.') {
		size_t s = ++i;
		while (i < c->len && c->p[i] >= '0' && c->p[i] <= '9')
			i++;
		if (i == s)
			return 0;
		v->kind = K_REAL;
	}
	if (i < c->len && (c->p[i] == 'e' || c->p[i] == 'E'))
		return 0;
	c->at = i;
	return 1;
}

static int sc_value(struct scanner *c, struct val *v, const char **sid, size_t *sidlen,
                    struct edfi_scan *top);

/* Whether v is of the type the key k wants (check's rules, on the text). */
static int sc_typed(const char *k, const struct val *v)
{
	switch (k ? want_of(k) : W_ANY) {
	case W_STRING:
		return v->kind == K_STRING && v->n > 0;
	case W_OBJECT:
		return v->kind == K_OBJECT;
	case W_INTEGER:
		return v->kind == K_INTEGER;
	case W_DATE: {
		char day[11];
		int ymd;
		if (v->kind != K_STRING || v->escaped || v->n < 10 ||
		    (v->n > 10 && v->s[10] != 'T'))
			return 0;
		memcpy(day, v->s, 10);
		day[10] = '\0';
		return record_date_value(day, &ymd) == 0;
	}
	case W_BOOLEAN:
		return v->kind == K_BOOLEAN;
	case W_NUMBER:
		return v->kind == K_INTEGER || v->kind == K_REAL;
	case W_ARRAY:
		return v->kind == K_ARRAY;
	case W_ANY:
		break;
	}
	return 1;
}

/*
 * The object at c->at ('{'). sid: where its studentUniqueId goes (a
 * reference's), or NULL. top: the resource object's own facts, for the
 * object at depth 1 only.
 */
static int sc_object(struct scanner *c, const char **sid, size_t *sidlen, struct edfi_scan *top)
{
	struct {
		const char *s;
		size_t n;
	} keys[SCAN_KEYS];
	size_t nkeys = 0;
	int any = 0;
	c->at++;
	emit(c, "{", 1);
	sc_ws(c);
	if (c->at < c->len && c->p[c->at] == '}') {
		c->at++;
		emit(c, "}", 1);
		return 1;
	}
	for (;;) {
		struct val k, v;
		char key[128];
		const char *ref = NULL;
		size_t reflen = 0;
		int is_ref, was = c->keep;
		if (c->at >= c->len || c->p[c->at] != '"' || !sc_string(c, &k) || k.escaped ||
		    k.n >= sizeof(key) || nkeys == SCAN_KEYS)
			return 0;
		for (size_t i = 0; i < nkeys; i++)
			if (keys[i].n == k.n && memcmp(keys[i].s, k.s, k.n) == 0)
				return 0;
		keys[nkeys].s = k.s;
		keys[nkeys++].n = k.n;
		memcpy(key, k.s, k.n);
		key[k.n] = '\0';
		sc_ws(c);
		if (c->at >= c->len || c->p[c->at] != ':')
			return 0;
		c->at++;
		sc_ws(c);
		/* Squeezed: the API's bookkeeping left out, at any depth. */
		if (edfi_api_member(k.s, k.n))
			c->keep = 0;
		else {
			if (any)
				emit(c, ",", 1);
			emit(c, k.s - 1, k.n + 2);
			emit(c, ":", 1);
			any = 1;
		}
		is_ref = top != NULL && ends(k.s, k.n, "Reference", 9);
		if (!sc_value(c, &v, is_ref ? &ref : NULL, &reflen, NULL) || !sc_typed(key, &v))
			return 0;
		c->keep = was;
		if (v.kind == K_STRING && strcmp(key, "studentUniqueId") == 0) {
			if (v.escaped)
				return 0;
			if (sid) {
				*sid = v.s;
				*sidlen = v.n;
			}
			if (top) {
				top->top = v.s;
				top->toplen = v.n;
			}
		}
		if (is_ref && ref != NULL) {
			if (strcmp(key, "studentReference") == 0) {
				top->ref = ref;
				top->reflen = reflen;
			}
			if (top->first == NULL) {
				top->first = ref;
				top->firstlen = reflen;
			}
		}
		sc_ws(c);
		if (c->at >= c->len)
			return 0;
		if (c->p[c->at] == '}') {
			c->at++;
			emit(c, "}", 1);
			return 1;
		}
		if (c->p[c->at] != ',')
			return 0;
		c->at++;
		sc_ws(c);
	}
}

static int sc_array(struct scanner *c)
{
	int first = 1;
	c->at++;
	emit(c, "[", 1);
	sc_ws(c);
	if (c->at < c->len && c->p[c->at] == ']') {
		c->at++;
		emit(c, "]", 1);
		return 1;
	}
	for (;;) {
		struct val v;
		if (!first)
			emit(c, ",", 1);
		first = 0;
		/* An element of a collection has no key: check's W_ANY. */
		if (!sc_value(c, &v, NULL, NULL, NULL))
			return 0;
		sc_ws(c);
		if (c->at >= c->len)
			return 0;
		if (c->p[c->at] == ']') {
			c->at++;
			emit(c, "]", 1);
			return 1;
		}
		if (c->p[c->at] != ',')
			return 0;
		c->at++;
		sc_ws(c);
	}
}

static int sc_scalar(struct scanner *c, struct val *v);

static int sc_value(struct scanner *c, struct val *v, const char **sid, size_t *sidlen,
                    struct edfi_scan *top)
{
	int ok;
	if (c->at >= c->len)
		return 0;
	v->escaped = 0;
	v->n = 0;
	if (c->p[c->at] == '{' || c->p[c->at] == '[') {
		if (++c->depth > SCAN_DEPTH)
			return 0;
		v->kind = c->p[c->at] == '{' ? K_OBJECT : K_ARRAY;
		ok = v->kind == K_OBJECT ? sc_object(c, sid, sidlen, top) : sc_array(c);
		c->depth--;
		return ok;
	}
	return sc_scalar(c, v);
}

/* A string, number, true or false (copied to out as it is). */
static int sc_scalar(struct scanner *c, struct val *v)
{
	size_t s = c->at;
	int ok;
	switch (c->p[c->at]) {
	case '"':
		ok = sc_string(c, v);
		break;
	case 't':
		v->kind = K_BOOLEAN;
		ok = c->len - c->at >= 4 && memcmp(c->p + c->at, "true", 4) == 0;
		c->at += ok ? 4 : 0;
		break;
	case 'f':
		v->kind = K_BOOLEAN;
		ok = c->len - c->at >= 5 && memcmp(c->p + c->at, "false", 5) == 0;
		c->at += ok ? 5 : 0;
		break;
	default:
		/* null is refused wherever it is (check): jansson names it. */
		ok = sc_number(c, v);
	}
	if (ok)
		emit(c, c->p + s, c->at - s);
	return ok;
}

int edfi_scan_object(const char *raw, size_t len, char *out, struct edfi_scan *sc)
{
	struct scanner c = {.p = raw, .len = len, .out = out, .keep = 1};
	struct val v;
	memset(sc, 0, sizeof(*sc));
	if (len == 0 || raw[0] != '{' || !sc_value(&c, &v, NULL, NULL, sc))
		return 0;
	sc->text = out;
	sc->textlen = c.n;
	sc->len = c.at;
	return 1;
}

/* ---- building what the scan reads (edfi_json_load) ---- */

/* The text of a string value v, its escapes undone, as a jansson string. */
static json_t *ld_string(const struct val *v)
{
	char *b;
	size_t n = 0;
	json_t *s;
	if (!v->escaped)
		return json_stringn_nocheck(v->s, v->n);
	if ((b = malloc(v->n)) == NULL)
		return NULL;
	for (size_t i = 0; i < v->n; i++) {
		char ch = v->s[i];
		if (ch == '\\') {
			/* sc_string let only these through (never \u). */
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			ch = to[strchr(from, v->s[++i]) - from];
		}
		b[n++] = ch;
	}
	s = json_stringn_nocheck(b, n);
	free(b);
	return s;
}

static json_t *ld_value(struct scanner *c);

static json_t *ld_container(struct scanner *c)
{
	int is_obj = c->p[c->at] == '{';
	char close = is_obj ? '}' : ']';
	json_t *o = is_obj ? json_object() : json_array();
	if (o == NULL || ++c->depth > SCAN_DEPTH)
		goto bad;
	c->at++;
	sc_ws(c);
	if (c->at < c->len && c->p[c->at] == close) {
		c->at++;
		c->depth--;
		return o;
	}
	for (;;) {
		struct val k;
		json_t *v, *ks = NULL;
		if (is_obj) {
			if (c->at >= c->len || c->p[c->at] != '"' || !sc_string(c, &k))
				goto bad;
			sc_ws(c);
			if (c->at >= c->len || c->p[c->at] != ':')
				goto bad;
			c->at++;
			sc_ws(c);
			if (k.escaped && (ks = ld_string(&k)) == NULL)
				goto bad;
		}
		if ((v = ld_value(c)) == NULL) {
			json_decref(ks);
			goto bad;
		}
		if (is_obj ? json_object_setn_new_nocheck(o, ks ? json_string_value(ks) : k.s,
		                                          ks ? json_string_length(ks) : k.n, v)
		           : json_array_append_new(o, v)) {
			json_decref(ks);
			goto bad;
		}
		json_decref(ks);
		sc_ws(c);
		if (c->at >= c->len)
			goto bad;
		if (c->p[c->at] == close) {
			c->at++;
			c->depth--;
			return o;
		}
		if (c->p[c->at] != ',')
			goto bad;
		c->at++;
		sc_ws(c);
	}
bad:
	json_decref(o);
	return NULL;
}

static json_t *ld_value(struct scanner *c)
{
	struct val v;
	size_t s = c->at;
	if (c->at >= c->len)
		return NULL;
	switch (c->p[c->at]) {
	case '"':
		return sc_string(c, &v) ? ld_string(&v) : NULL;
	case '{':
	case '[':
		return ld_container(c);
	case 't':
		if (c->len - c->at < 4 || memcmp(c->p + c->at, "true", 4) != 0)
			return NULL;
		c->at += 4;
		return json_true();
	case 'f':
		if (c->len - c->at < 5 || memcmp(c->p + c->at, "false", 5) != 0)
			return NULL;
		c->at += 5;
		return json_false();
	case 'n':
		if (c->len - c->at < 4 || memcmp(c->p + c->at, "null", 4) != 0)
			return NULL;
		c->at += 4;
		return json_null();
	default:
		if (!sc_number(c, &v))
			return NULL;
		if (v.kind == K_INTEGER) {
			/* At most 18 digits (sc_number): no overflow. */
			long long x = 0;
			int neg = c->p[s] == '-';
			for (size_t i = s + (size_t)neg; i < c->at; i++)
				x = x * 10 + (c->p[i] - '0');
			return json_integer(neg ? -x : x);
		} else {
			char num[64];
			if (c->at - s >= sizeof(num))
				return NULL;
			memcpy(num, c->p + s, c->at - s);
			num[c->at - s] = '\0';
			/* As jansson reads a real (in the C locale's notation, which sc_number
			 * checked). */
			return json_real(strtod(num, NULL));
		}
	}
}

json_t *edfi_json_load(const char *text, size_t len)
{
	struct scanner c = {.p = text, .len = len};
	json_t *o = NULL;
	sc_ws(&c);
	if (c.at < len && (text[c.at] == '{' || text[c.at] == '[') && (o = ld_value(&c)) != NULL) {
		sc_ws(&c);
		if (c.at == len)
			return o;
		json_decref(o);
	}
	/* What this reader leaves aside (or refuses): jansson's answer, whatever it is. */
	return json_loadb(text, len, 0, NULL);
}

/*
 * The studentUniqueId a student's resource is kept under (its
 * studentReference, or the student of another reference it is identified
 * by: studentAcademicRecordReference, studentSectionAssociationReference);
 * NULL for one of no student.
 */
const char *edfi_student_of(const char *resource, const json_t *obj)
{
	const char *k, *sid;
	json_t *v;
	if (strcmp(resource, "students") == 0)
		return json_string_value(json_object_get(obj, "studentUniqueId"));
	if ((sid = json_string_value(json_object_get(json_object_get(obj, "studentReference"),
	                                             "studentUniqueId"))) != NULL)
		return sid;
	json_object_foreach((json_t *)obj, k, v)
	{
		size_t n = strlen(k);
		if (n > 9 && strcmp(k + n - 9, "Reference") == 0 &&
		    (sid = json_string_value(json_object_get(v, "studentUniqueId"))) != NULL)
			return sid;
	}
	return NULL;
}

/* The studentUniqueId edfi_student_of finds, from what edfi_scan_object found of the text. */
const char *edfi_student_of_scan(const char *resource, const struct edfi_scan *sc, size_t *len)
{
	if (strcmp(resource, "students") == 0) {
		*len = sc->toplen;
		return sc->top;
	}
	*len = sc->ref ? sc->reflen : sc->firstlen;
	return sc->ref ? sc->ref : sc->first;
}

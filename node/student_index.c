/* The search's index in memory (student_index.h). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bti.h"
#include "student_index.h"

/* Fields of a student kept to answer with, NUL-separated in the pool. */
enum { F_ID, F_STATE, F_GIVEN, F_FAMILY, F_BIRTH, F_COUNT };

struct entry {
	size_t line; /* where its line starts in hay */
	size_t pool; /* where its fields start in pool */
	uint32_t version;
	uint32_t held;
	uint64_t updated;
};

#define RESULTS_KEPT 32 /* searches remembered an index: paging and repeats cost one page */
#define GRAM_BITS    18 /* buckets of three-byte sequences: 2^18 */

/* The matches of one term: every matching student's entry, in order. */
struct result {
	char *term; /* folded; NULL: the slot is free */
	uint32_t *match;
	size_t n;
};

struct student_index {
	const store *st;
	uint64_t version; /* store_students_version of the transaction it was built in */
	unsigned refs;    /* searches using it, and 1 while it is the current one */
	struct entry *e;
	size_t n, cap;
	char *hay, *pool; /* the lines searched; the fields answered */
	size_t hay_len, hay_cap, pool_len, pool_cap;
	json_t *held; /* while building: student id: records held for it */
	/*
	 * For each bucket of three-byte sequences (by hash), the students whose
	 * line holds one of them, in order: gram[gram_at[b] .. gram_at[b + 1]).
	 * A term of three bytes or more is looked for only in the lines of its
	 * rarest bucket. NULL when there was no memory for it: every line is read.
	 */
	uint32_t *gram_at, *gram;
	pthread_mutex_t results_lock;
	struct result results[RESULTS_KEPT];
	size_t results_next; /* the slot the next new result takes */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;  /* cur and refs */
static pthread_mutex_t build = PTHREAD_MUTEX_INITIALIZER; /* one build at a time */
static struct student_index *cur;

static void index_free(struct student_index *x)
{
	if (x == NULL)
		return;
	for (size_t i = 0; i < RESULTS_KEPT; i++) {
		free(x->results[i].term);
		free(x->results[i].match);
	}
	pthread_mutex_destroy(&x->results_lock);
	free(x->gram_at);
	free(x->gram);
	free(x->e);
	free(x->hay);
	free(x->pool);
	json_decref(x->held);
	free(x);
}

static void index_release(struct student_index *x)
{
	int last;
	pthread_mutex_lock(&lock);
	last = --x->refs == 0;
	pthread_mutex_unlock(&lock);
	if (last)
		index_free(x);
}

/* Appends n bytes of s to *buf (of *len, *cap bytes), folding ASCII letters when fold. */
static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n, int fold)
{
	if (*len + n + 1 > *cap) {
		size_t c = *cap ? *cap : 1u << 16;
		char *p;
		while (c < *len + n + 1)
			c *= 2;
		if ((p = realloc(*buf, c)) == NULL)
			return BATON_ENOMEM;
		*buf = p;
		*cap = c;
	}
	for (size_t i = 0; i < n; i++)
		(*buf)[*len + i] = fold && s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] + 32) : s[i];
	*len += n;
	return 0;
}

/*
 * A student's line: its id, statewide id and "given family", each where
 * the search looks, apart by a byte no search term holds.
 */
static int add_line(struct student_index *x, const store_student *s)
{
	const char *part[] = {s->id,         "\x01", s->state_id,    "\x01",
	                      s->given_name, " ",    s->family_name, "\n"};
	for (size_t i = 0; i < sizeof(part) / sizeof(part[0]); i++)
		if (append(&x->hay, &x->hay_len, &x->hay_cap, part[i], strlen(part[i]), 1) != 0)
			return BATON_ENOMEM;
	return 0;
}

static int add_student(const store_student *s, void *arg)
{
	struct student_index *x = arg;
	const char *field[F_COUNT] = {s->id, s->state_id, s->given_name, s->family_name,
	                              s->birth_date};
	struct entry *e;
	if (x->n == x->cap) {
		size_t c = x->cap ? 2 * x->cap : 1024;
		if ((e = realloc(x->e, c * sizeof(*e))) == NULL)
			return BATON_ENOMEM;
		x->e = e;
		x->cap = c;
	}
	e = &x->e[x->n++];
	e->line = x->hay_len;
	e->pool = x->pool_len;
	e->version = s->version;
	e->updated = s->updated;
	e->held = (uint32_t)json_integer_value(json_object_get(x->held, s->id));
	for (int i = 0; i < F_COUNT; i++)
		if (append(&x->pool, &x->pool_len, &x->pool_cap, field[i], strlen(field[i]) + 1,
		           0) != 0)
			return BATON_ENOMEM;
	return add_line(x, s);
}

static int held_count(const store_held *h, void *arg)
{
	json_t *held = arg;
	json_int_t n = json_integer_value(json_object_get(held, h->student));
	return json_object_set_new(held, h->student, json_integer(n + 1)) != 0 ? BATON_ENOMEM : 0;
}

static int index_fill(store_txn *t, void *arg)
{
	struct student_index *x = arg;
	int r;
	x->n = x->hay_len = x->pool_len = 0;
	if ((r = store_students_version(t, &x->version)) != 0)
		return r;
	json_decref(x->held);
	if ((x->held = json_object()) == NULL)
		return BATON_ENOMEM;
	if ((r = store_held_each(t, held_count, x->held)) != 0 ||
	    (r = store_student_each(t, add_student, x)) != 0)
		return r;
	json_decref(x->held);
	x->held = NULL;
	/* The line after the last: where a search stops. */
	return append(&x->hay, &x->hay_len, &x->hay_cap, "", 0, 0);
}

static uint32_t gram_hash(const char *p)
{
	uint32_t h = (uint32_t)(unsigned char)p[0] | (uint32_t)(unsigned char)p[1] << 8 |
	             (uint32_t)(unsigned char)p[2] << 16;
	return (h * 2654435761u) >> (32 - GRAM_BITS);
}

/*
 * Adds student i to the bucket of each sequence of its line, once a bucket
 * (last: the last student each bucket took); with fill 0 only counts them.
 */
static void gram_line(struct student_index *x, size_t i, uint32_t *last, uint32_t *fill)
{
	size_t end = i + 1 < x->n ? x->e[i + 1].line : x->hay_len;
	for (size_t at = x->e[i].line; at + 3 <= end; at++) {
		uint32_t b = gram_hash(x->hay + at);
		if (last[b] == i + 1)
			continue;
		last[b] = (uint32_t)i + 1;
		if (fill)
			x->gram[fill[b]++] = (uint32_t)i;
		else
			x->gram_at[b + 1]++;
	}
}

/* The buckets of sequences; on failure the index reads every line instead. */
static void gram_build(struct student_index *x)
{
	size_t nb = (size_t)1 << GRAM_BITS;
	uint32_t *last = calloc(nb, sizeof(*last)), *fill = NULL;
	if (x->n >= UINT32_MAX || last == NULL ||
	    (x->gram_at = calloc(nb + 1, sizeof(*x->gram_at))) == NULL)
		goto out;
	for (size_t i = 0; i < x->n; i++)
		gram_line(x, i, last, NULL);
	for (size_t b = 0; b < nb; b++)
		x->gram_at[b + 1] += x->gram_at[b];
	memset(last, 0, nb * sizeof(*last));
	if ((x->gram = malloc(((size_t)x->gram_at[nb] + 1) * sizeof(*x->gram))) == NULL ||
	    (fill = malloc(nb * sizeof(*fill))) == NULL)
		goto out;
	memcpy(fill, x->gram_at, nb * sizeof(*fill));
	for (size_t i = 0; i < x->n; i++)
		gram_line(x, i, last, fill);
out:
	if (fill == NULL) {
		free(x->gram_at);
		free(x->gram);
		x->gram_at = x->gram = NULL;
	}
	free(fill);
	free(last);
}

static int version_fn(store_txn *t, void *arg)
{
	return store_students_version(t, arg);
}

/* The index of st as it is now, with a reference the caller releases; built when needed. */
static int index_get(store *st, struct student_index **out)
{
	uint64_t v = 0;
	struct student_index *x = NULL;
	int r;

	/* Only the students and their held records count: a login or a send leaves the index. */
	if ((r = store_read(st, version_fn, &v)) != 0)
		return r;
	pthread_mutex_lock(&build);
	pthread_mutex_lock(&lock);
	/* An index built since this search came is new enough: searches that waited for one build
	 * take it, not one build each. */
	if (cur && cur->st == st && cur->version >= v) {
		cur->refs++;
		*out = cur;
		pthread_mutex_unlock(&lock);
		pthread_mutex_unlock(&build);
		return 0;
	}
	pthread_mutex_unlock(&lock);
	if ((x = calloc(1, sizeof(*x))) != NULL)
		pthread_mutex_init(&x->results_lock, NULL);
	if (x == NULL || (r = store_read(st, index_fill, x)) != 0) {
		index_free(x);
		pthread_mutex_unlock(&build);
		return x ? r : BATON_ENOMEM;
	}
	gram_build(x);
	x->st = st;
	/* What changed while it was read is seen by the next search, which builds again. */
	x->refs = 2; /* the current one, and this search */
	pthread_mutex_lock(&lock);
	struct student_index *old = cur;
	cur = x;
	pthread_mutex_unlock(&lock);
	pthread_mutex_unlock(&build);
	if (old)
		index_release(old);
	*out = x;
	return 0;
}

void view_students_forget(void)
{
	struct student_index *old;
	pthread_mutex_lock(&lock);
	old = cur;
	cur = NULL;
	pthread_mutex_unlock(&lock);
	if (old)
		index_release(old);
}

static json_t *entry_json(const struct student_index *x, size_t i, int with_held)
{
	const struct entry *e = &x->e[i];
	const char *f[F_COUNT];
	const char *p = x->pool + e->pool;
	for (int k = 0; k < F_COUNT; k++, p += strlen(p) + 1)
		f[k] = p;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I}", "student_id", f[F_ID],
	                      "state_student_id", f[F_STATE], "given_name", f[F_GIVEN],
	                      "family_name", f[F_FAMILY], "birth_date", f[F_BIRTH], "version",
	                      (int)e->version, "updated", (json_int_t)e->updated);
	if (o && with_held && json_object_set_new(o, "held", json_integer(e->held)) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The student whose line holds byte at (the last entry whose line starts at or before it). */
static size_t entry_at(const struct student_index *x, size_t at)
{
	size_t lo = 0, hi = x->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->e[mid].line <= at)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* Appends student i to res (of *cap entries). */
static int result_add(struct result *res, size_t *cap, size_t i)
{
	if (res->n == *cap) {
		uint32_t *p = realloc(res->match, (*cap = *cap ? 2 * *cap : 256) * sizeof(*p));
		if (p == NULL)
			return BATON_ENOMEM;
		res->match = p;
	}
	res->match[res->n++] = (uint32_t)i;
	return 0;
}

/* The rarest bucket of the sequences of low (tl >= 3 bytes). */
static uint32_t gram_rarest(const struct student_index *x, const char *low, size_t tl)
{
	uint32_t best = gram_hash(low);
	for (size_t k = 1; k + 3 <= tl; k++) {
		uint32_t b = gram_hash(low + k);
		if (x->gram_at[b + 1] - x->gram_at[b] < x->gram_at[best + 1] - x->gram_at[best])
			best = b;
	}
	return best;
}

/* Every student whose line holds low, read in only the lines of its rarest bucket. */
static int gram_scan(const struct student_index *x, const char *low, size_t tl, struct result *res)
{
	uint32_t b = gram_rarest(x, low, tl);
	size_t cap = 0;
	int r = 0;
	for (uint32_t k = x->gram_at[b]; k < x->gram_at[b + 1] && r == 0; k++) {
		size_t i = x->gram[k];
		size_t end = i + 1 < x->n ? x->e[i + 1].line : x->hay_len;
		if (memmem(x->hay + x->e[i].line, end - x->e[i].line, low, tl) != NULL)
			r = result_add(res, &cap, i);
	}
	return r;
}

/* Every student whose line holds low (tl bytes, folded), into *res. */
static int index_scan(const struct student_index *x, const char *low, size_t tl, struct result *res)
{
	size_t at = 0, cap = 0;
	res->n = 0;
	res->match = NULL;
	if (tl >= 3 && x->gram_at)
		return gram_scan(x, low, tl, res);
	while (at < x->hay_len) {
		const char *m = memmem(x->hay + at, x->hay_len - at, low, tl);
		if (m == NULL)
			break;
		size_t i = entry_at(x, (size_t)(m - x->hay));
		if (result_add(res, &cap, i) != 0)
			return BATON_ENOMEM;
		/* One match a student: go on from the next one's line. */
		at = i + 1 < x->n ? x->e[i + 1].line : x->hay_len;
	}
	return 0;
}

/*
 * The page f asks for of the result kept for low: its entries copied into
 * *page (malloc'd, the caller frees it; NULL when none), *npage of them,
 * and *total. BATON_ENOTFOUND when no result is kept for low. Copied under
 * the lock: another search may replace the result as soon as it is let go.
 */
static int result_find(struct student_index *x, const char *low, const struct view_find *f,
                       uint32_t **page, size_t *npage, size_t *total)
{
	int r = BATON_ENOTFOUND;
	*page = NULL;
	*npage = 0;
	pthread_mutex_lock(&x->results_lock);
	for (size_t i = 0; i < RESULTS_KEPT && r == BATON_ENOTFOUND; i++) {
		const struct result *res = &x->results[i];
		if (res->term == NULL || strcmp(res->term, low) != 0)
			continue;
		size_t n = res->n > f->offset ? res->n - f->offset : 0;
		n = n < f->limit ? n : f->limit;
		*total = res->n;
		r = 0;
		if (n > 0 && (*page = malloc(n * sizeof(**page))) == NULL)
			r = BATON_ENOMEM;
		else if (n > 0)
			memcpy(*page, res->match + f->offset, n * sizeof(**page));
		*npage = r == 0 ? n : 0;
	}
	pthread_mutex_unlock(&x->results_lock);
	return r;
}

/*
 * Keeps res (taken) for its term: a result stays until the index goes,
 * since a search may be paging through it; the oldest slot is reused.
 */
static void result_keep(struct student_index *x, struct result *res, struct result *old)
{
	pthread_mutex_lock(&x->results_lock);
	*old = x->results[x->results_next];
	x->results[x->results_next] = *res;
	x->results_next = (x->results_next + 1) % RESULTS_KEPT;
	pthread_mutex_unlock(&x->results_lock);
}

/* Lists the entries match[0..n) (NULL: the entries from f->offset on), of total matches. */
static int index_list(const struct student_index *x, struct view_find *f, const uint32_t *match,
                      size_t n, size_t total)
{
	f->total = total;
	for (size_t k = 0; k < n; k++)
		if (json_array_append_new(
		        f->students,
		        entry_json(x, match ? match[k] : f->offset + k, f->with_held)) != 0)
			return BATON_ENOMEM;
	return 0;
}

/* The page f asks for of n matches. */
static size_t page_len(const struct view_find *f, size_t n)
{
	size_t k = n > f->offset ? n - f->offset : 0;
	return k < f->limit ? k : f->limit;
}

static int index_search(struct student_index *x, struct view_find *f, const char *term)
{
	struct result res = {NULL, NULL, 0}, old = {NULL, NULL, 0};
	size_t tl = strlen(term), npage, total;
	uint32_t *page;
	int r;

	if (tl == 0)
		return index_list(x, f, NULL, page_len(f, x->n), x->n);
	if ((res.term = strdup(term)) == NULL)
		return BATON_ENOMEM;
	for (size_t i = 0; i < tl; i++)
		if (res.term[i] >= 'A' && res.term[i] <= 'Z')
			res.term[i] = (char)(res.term[i] + 32);
	if ((r = result_find(x, res.term, f, &page, &npage, &total)) != BATON_ENOTFOUND) {
		free(res.term);
		if (r == 0)
			r = index_list(x, f, page, npage, total);
		free(page);
		return r;
	}
	if ((r = index_scan(x, res.term, tl, &res)) != 0 ||
	    (r = index_list(x, f,
	                    res.match ? res.match + (res.n > f->offset ? f->offset : res.n) : NULL,
	                    page_len(f, res.n), res.n)) != 0) {
		free(res.term);
		free(res.match);
		return r;
	}
	result_keep(x, &res, &old);
	free(old.term);
	free(old.match);
	return 0;
}

static int find_run(store_txn *t, void *arg)
{
	return view_students_find(t, arg);
}

int view_students_search(store *st, struct view_find *f)
{
	struct student_index *x;
	int r;

	/* A term holding a separator of the lines is searched the slow way, field by field. */
	if (f->term && f->term[strcspn(f->term, "\x01\n")] != '\0')
		return store_read(st, find_run, f);
	f->total = 0;
	if ((f->students = json_array()) == NULL)
		return BATON_ENOMEM;
	if ((r = index_get(st, &x)) == 0) {
		r = index_search(x, f, f->term ? f->term : "");
		index_release(x);
	}
	if (r != 0) {
		json_decref(f->students);
		f->students = NULL;
	}
	return r;
}

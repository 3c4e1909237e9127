/*
 * The search over the students on file (node/student_index.h): the index
 * in memory finds what the field-by-field search finds, in the same order,
 * with the same pages and counts, for terms of every length and case; it
 * sees a change to the store at the next search; and the matches it keeps
 * for a term never outlive a change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store.h"
#include "student_index.h"
#include "view_students.h"

struct fx {
	char dir[64];
	store *s;
};

/* Students with names that share pieces, in both cases, and one with no state id. */
static const char *const people[][4] = {
    {"S-0001", "ST-11", "Anna", "Marsh"},   {"S-0002", "ST-12", "MARIANNE", "Lee"},
    {"S-0003", "", "Jo", "Annan"},          {"S-0004", "st-14", "Kai", "Levi"},
    {"S-0005", "ST-15", "Zoë", "Ångström"}, {"S-0006", "ST-16", "Mar", "Ianson"},
    {"S-0007", "ST-17", "Levi", "Kai"},     {"S-0008", "ST-18", "anna maria", "de la Cruz"},
    {"S-0009", "ST-19", "A", "B"},          {"S-0010", "ST-20", "Ann", "Annanson"},
};

struct put {
	size_t from, to;
};

static int put_people(store_txn *t, void *arg)
{
	const struct put *p = arg;
	for (size_t i = p->from; i < p->to; i++) {
		store_student s;
		char json[64];
		memset(&s, 0, sizeof(s));
		snprintf(s.id, sizeof(s.id), "%s", people[i][0]);
		snprintf(s.state_id, sizeof(s.state_id), "%s", people[i][1]);
		snprintf(s.given_name, sizeof(s.given_name), "%s", people[i][2]);
		snprintf(s.family_name, sizeof(s.family_name), "%s", people[i][3]);
		snprintf(s.birth_date, sizeof(s.birth_date), "2012-01-02");
		snprintf(json, sizeof(json), "{\"n\":%zu}", i);
		int r = store_student_put(t, &s, json, strlen(json));
		if (r != 0)
			return r;
	}
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct put p = {0, 8};
	snprintf(f->dir, sizeof(f->dir), "/tmp/baton-students-XXXXXX");
	if (mkdtemp(f->dir) == NULL || store_open(f->dir, 1, &f->s) != 0 ||
	    store_write(f->s, put_people, &p) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	view_students_forget();
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	int r = system(cmd);
	free(f);
	return r == 0 ? 0 : -1;
}

static int find_run(store_txn *t, void *arg)
{
	return view_students_find(t, arg);
}

/* The index and the field-by-field search agree on term, from offset, limit. */
static void agree(store *s, const char *term, size_t offset, size_t limit)
{
	struct view_find want = {term, offset, limit, 1, NULL, 0};
	struct view_find got = {term, offset, limit, 1, NULL, 0};
	assert_int_equal(store_read(s, find_run, &want), 0);
	assert_int_equal(view_students_search(s, &got), 0);
	if (!json_equal(want.students, got.students) || want.total != got.total) {
		char *a = json_dumps(want.students, 0), *b = json_dumps(got.students, 0);
		print_error("term \"%s\" offset %zu limit %zu:\n want %zu %s\n got  %zu %s\n",
		            term ? term : "(none)", offset, limit, want.total, a, got.total, b);
		free(a);
		free(b);
		fail();
	}
	json_decref(want.students);
	json_decref(got.students);
}

static const char *const terms[] = {
    NULL,     "",       "a",     "A",     "an",       "AN",     "ann",
    "Anna",   "anna m", "nna",   "mar",   "MARI",     "ianne",  "n l",
    "kai l",  "levi k", "st-1",  "ST-14", "s-0",      "S-0010", "0",
    "zoë",    "Zoë",    "ström", "Å",     "la cruz",  " ",      "a b",
    "nobody", "s-000",  "e lee", "anso",  "annanson", "x",      "Annanson too long",
};

static void test_agrees(void **state)
{
	struct fx *f = *state;
	for (size_t i = 0; i < sizeof(terms) / sizeof(terms[0]); i++) {
		agree(f->s, terms[i], 0, SIZE_MAX);
		agree(f->s, terms[i], 1, 2);
		agree(f->s, terms[i], 0, 1);
		agree(f->s, terms[i], 7, 100);
		/* The same again: now from the matches kept. */
		agree(f->s, terms[i], 1, 2);
	}
}

static void test_sees_changes(void **state)
{
	struct fx *f = *state;
	struct put p = {8, 10};
	struct view_find got = {"ann", 0, SIZE_MAX, 0, NULL, 0};
	assert_int_equal(view_students_search(f->s, &got), 0);
	size_t before = got.total;
	json_decref(got.students);
	/* Two more students, one of them an "Ann": the kept matches of "ann" are not used. */
	assert_int_equal(store_write(f->s, put_people, &p), 0);
	for (size_t i = 0; i < sizeof(terms) / sizeof(terms[0]); i++)
		agree(f->s, terms[i], 0, SIZE_MAX);
	got.students = NULL;
	assert_int_equal(view_students_search(f->s, &got), 0);
	assert_int_equal(got.total, before + 1);
	json_decref(got.students);
}

/* A term holding a byte that separates the index's fields is searched field by field. */
static void test_separator_in_term(void **state)
{
	struct fx *f = *state;
	agree(f->s, "1\x01", 0, SIZE_MAX);
	agree(f->s, "marsh\n", 0, SIZE_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_agrees, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sees_changes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_separator_in_term, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

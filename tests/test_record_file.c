/*
 * Reading a file of student records one at a time (node/record_file.h):
 * a single object or an array, a byte order mark, every bad record named
 * by its number from 1 while the next ones are still read, and the files
 * that are not record files at all (CSV, empty, an array not closed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <baton/baton.h>

#include "record.h"
#include "record_file.h"

static char dir[] = "/tmp/test_record_file.XXXXXX";
static char path[256];

/* Writes text to a file named name in the scratch directory; path names it. */
static void put(const char *name, const char *text)
{
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	fclose(f);
}

/* The student_id of the next record, which must parse, and its number. */
static void want_record(record_file *rf, const char *id, size_t number)
{
	json_t *rec;
	size_t index;
	int r = record_file_next(rf, &rec, &index);
	if (r != 0)
		fail_msg("record %zu: %s", number, baton_diag());
	assert_int_equal(index, number);
	assert_string_equal(json_string_value(json_object_get(rec, "student_id")), id);
	json_decref(rec);
}

/* The next call refuses with code and a diag containing text. */
static void want_error(record_file *rf, int code, const char *text, size_t number)
{
	json_t *rec = (json_t *)1;
	size_t index;
	int r = record_file_next(rf, &rec, &index);
	assert_int_equal(r, code);
	assert_null(rec);
	assert_int_equal(index, number);
	if (strstr(baton_diag(), text) == NULL)
		fail_msg("diag \"%s\" lacks \"%s\"", baton_diag(), text);
}

static void want_end(record_file *rf)
{
	json_t *rec;
	size_t index;
	assert_int_equal(record_file_next(rf, &rec, &index), BATON_ENOTFOUND);
	assert_null(rec);
}

static void test_array(void **state)
{
	record_file *rf;
	(void)state;
	put("a.json",
	    " [ {\"student_id\": \"S-1\"},\n{\"student_id\": \"S-2\", \"x\": \"]}\\\"\"} ,"
	    "{\"student_id\": \"S-3\"} ]\n");
	assert_int_equal(record_file_open(path, &rf), 0);
	want_record(rf, "S-1", 1);
	want_record(rf, "S-2", 2); /* brackets and a quote inside a string are text */
	want_record(rf, "S-3", 3);
	want_end(rf);
	want_end(rf);
	assert_int_equal(record_file_count(rf), 3);
	/* store_write may run an import twice: the second pass reads the same records. */
	record_file_rewind(rf);
	want_record(rf, "S-1", 1);
	record_file_close(rf);
}

static void test_single_and_bom(void **state)
{
	record_file *rf;
	(void)state;
	put("one.json", "\xef\xbb\xbf{\"student_id\": \"S-9\"}\n");
	assert_int_equal(record_file_open(path, &rf), 0);
	want_record(rf, "S-9", 1);
	want_end(rf);
	record_file_close(rf);
	put("empty-array.json", "\xef\xbb\xbf[]");
	assert_int_equal(record_file_open(path, &rf), 0);
	want_end(rf);
	assert_int_equal(record_file_count(rf), 0);
	record_file_close(rf);
}

static void test_bad_records_go_on(void **state)
{
	record_file *rf;
	(void)state;
	put("bad.json", "[{\"student_id\": \"S-1\"},\n"
	                "{\"student_id\": \"S-2\" \"identity\": {}},\n"
	                "{\"student_id\": \"S-3\"},\n"
	                "{\"student_id\": \"S-4\", \"a\": 1, \"a\": 2}]");
	assert_int_equal(record_file_open(path, &rf), 0);
	want_record(rf, "S-1", 1);
	want_error(rf, BATON_EVALUE, "record 2 (S-2): line 2, field \"student_id\"", 2);
	want_record(rf, "S-3", 3);
	want_error(rf, BATON_EVALUE, "record 4 (S-4)", 4);
	want_end(rf);
	record_file_close(rf);
}

static void test_not_record_files(void **state)
{
	record_file *rf;
	(void)state;
	put("students.csv", "student_id,given_name\nS-1,Ana\n");
	assert_int_equal(record_file_open(path, &rf), 0);
	want_error(rf, BATON_EVALUE, "this looks like CSV; baton imports JSON records", 0);
	want_end(rf);
	record_file_close(rf);
	/* Named .json, but a spreadsheet's export all the same. */
	put("export.json", "\xef\xbb\xbfstudent_id,given_name\r\nS-1,Ana\r\n");
	assert_int_equal(record_file_open(path, &rf), 0);
	want_error(rf, BATON_EVALUE, "looks like CSV", 0);
	record_file_close(rf);
	put("prose.json", "hello\n");
	assert_int_equal(record_file_open(path, &rf), 0);
	want_error(rf, BATON_EVALUE, "line 1: expected a student object or an array", 0);
	record_file_close(rf);
	put("empty.json", "  \n");
	assert_int_equal(record_file_open(path, &rf), 0);
	want_error(rf, BATON_EVALUE, "the file is empty", 0);
	want_end(rf);
	record_file_close(rf);
	put("open.json", "[{\"student_id\": \"S-1\"},\n{\"student_id\": \"S-2\"}\n");
	assert_int_equal(record_file_open(path, &rf), 0);
	want_record(rf, "S-1", 1);
	want_error(rf, BATON_EVALUE, "line 3: the array is not closed", 0);
	want_end(rf);
	record_file_close(rf);
	put("after.json", "{\"student_id\": \"S-1\"} {}");
	assert_int_equal(record_file_open(path, &rf), 0);
	want_error(rf, BATON_EVALUE, "text after the student object", 0);
	record_file_close(rf);
	snprintf(path, sizeof(path), "%s/missing.json", dir);
	assert_int_equal(record_file_open(path, &rf), BATON_EIO);
	assert_null(rf);
	assert_int_equal(record_file_open(dir, &rf), BATON_EIO); /* a directory */
}

static void test_too_big(void **state)
{
	record_file *rf;
	size_t n = RECORD_FILE_RECORD_MAX + 100;
	char *text = malloc(n + 200);
	(void)state;
	assert_non_null(text);
	/* One oversized record between two good ones: refused by number, the next still read. */
	strcpy(text, "[{\"student_id\": \"S-1\"}, {\"student_id\": \"S-2\", \"pad\": \"");
	size_t at = strlen(text);
	memset(text + at, 'x', n);
	strcpy(text + at + n, "\"}, {\"student_id\": \"S-3\"}]");
	put("big.json", text);
	free(text);
	assert_int_equal(record_file_open(path, &rf), 0);
	want_record(rf, "S-1", 1);
	want_error(rf, BATON_ETOOBIG, "record 2: line 1: more than", 2);
	want_record(rf, "S-3", 3);
	want_end(rf);
	record_file_close(rf);
}

static int setup(void **state)
{
	(void)state;
	if (baton_init() != 0 || mkdtemp(dir) == NULL)
		return -1;
	record_json_init();
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_array),
	    cmocka_unit_test(test_single_and_bom),
	    cmocka_unit_test(test_bad_records_go_on),
	    cmocka_unit_test(test_not_record_files),
	    cmocka_unit_test(test_too_big),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

/*
 * Reading Ed-Fi API JSON (node/edfi_read.h): a directory of RESOURCE.json
 * files and the one-file form, each object handed over with its resource and
 * where it is; strings holding brackets and quotes, a byte order mark, empty
 * arrays; and every malformed shape refused with the file, index and byte
 * named: a truncated object, an element that is not an object, text after
 * the array, an object over the cap, an unknown file name (or a note), a
 * sink that stops the reading.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include <baton/baton.h>

#include "edfi_read.h"
#include "edfi_map.h"
#include "record.h"

static char dir[] = "/tmp/test_edfi_read.XXXXXX";
static char sub[300];

/* What the sink saw: "resource|where|studentUniqueId-or-schoolId" lines. */
struct seen {
	char text[4096];
	int calls, stop_at;
	char notes[1024];
};

static int sink(void *arg, const char *resource, json_t *obj, const char *where)
{
	struct seen *s = arg;
	const json_t *id = json_object_get(obj, "studentUniqueId");
	char idb[64];
	size_t n = strlen(s->text);
	if (id == NULL)
		id = json_object_get(obj, "schoolId");
	if (json_is_integer(id))
		snprintf(idb, sizeof(idb), "%lld", (long long)json_integer_value(id));
	else
		snprintf(idb, sizeof(idb), "%s", json_is_string(id) ? json_string_value(id) : "-");
	snprintf(s->text + n, sizeof(s->text) - n, "%s|%s|%s\n", resource, where, idb);
	if (++s->calls == s->stop_at)
		return BATON_EVALUE;
	return 0;
}

static void note(void *arg, const char *msg)
{
	struct seen *s = arg;
	size_t n = strlen(s->notes);
	snprintf(s->notes + n, sizeof(s->notes) - n, "%s\n", msg);
}

/* A fresh empty directory sub (named name under the scratch directory). */
static void fresh(const char *name)
{
	char cmd[800];
	snprintf(sub, sizeof(sub), "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' && mkdir '%s'", sub, sub);
	assert_int_equal(system(cmd), 0);
}

/* Writes text (len bytes) to sub/name. */
static void put_n(const char *name, const char *text, size_t len)
{
	char path[800];
	snprintf(path, sizeof(path), "%s/%s", sub, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static void put(const char *name, const char *text)
{
	put_n(name, text, strlen(text));
}

/* Reads sub (or sub/file) and checks the code, what the sink saw, and the diag. */
static void want(const char *file, int code, const char *seen, const char *diag)
{
	struct seen s;
	char path[800];
	memset(&s, 0, sizeof(s));
	snprintf(path, sizeof(path), "%s%s%s", sub, file ? "/" : "", file ? file : "");
	int r = edfi_json_read(path, sink, &s);
	if (r != code || strcmp(s.text, seen) != 0 || (diag && !strstr(baton_diag(), diag)))
		fail_msg("read %s: %d (want %d), saw:\n%s(want:\n%s), diag: %s (want %s)", path, r,
		         code, s.text, seen, baton_diag(), diag ? diag : "-");
}

static void test_directory(void **state)
{
	(void)state;
	fresh("dir");
	put("students.json",
	    "\xef\xbb\xbf [ {\"studentUniqueId\": \"1001\", \"firstName\": \"A]}\\\"{\"},"
	    "\n {\"studentUniqueId\": \"1002\", \"x\": [{\"y\": [1, {}]}]} ]\n");
	put("schools.json", "[{\"schoolId\": 255901}]");
	put("sessions.json", "[ ]");
	put("notes.txt", "not read: not a .json file");
	/* Files in name order; each object with its file and index. */
	want(NULL, 0,
	     "schools|schools.json[0]|255901\n"
	     "students|students.json[0]|1001\n"
	     "students|students.json[1]|1002\n",
	     NULL);
}

static void test_one_file(void **state)
{
	(void)state;
	fresh("one");
	put("district.json",
	    "{\"students\": [{\"studentUniqueId\": \"1001\"}, {\"studentUniqueId\": "
	    "\"1002\"}], \"schools\": [], \"contacts\": [{\"contactUniqueId\": "
	    "\"C1\"}]}");
	want("district.json", 0,
	     "students|district.json:students[0]|1001\n"
	     "students|district.json:students[1]|1002\n"
	     "contacts|district.json:contacts[0]|-\n",
	     NULL);
	put("empty.json", "{}");
	want("empty.json", 0, "", NULL);
	put("arr.json", "[{\"studentUniqueId\": \"1001\"}]");
	want("arr.json", BATON_EVALUE, "",
	     "arr.json: byte 0: expected an object of resource arrays");
	put("key.json", "{\"teachers\": []}");
	want("key.json", BATON_EVALUE, "", "key \"teachers\" is not an Ed-Fi resource");
	put("val.json", "{\"students\": {}}");
	want("val.json", BATON_EVALUE, "", "val.json: byte 13: expected an array of students");
}

static void test_malformed(void **state)
{
	(void)state;
	fresh("bad");
	put("students.json", "[{\"studentUniqueId\": \"1001\"}, {\"studentUniqueId\": \"10");
	want(NULL, BATON_EVALUE, "students|students.json[0]|1001\n",
	     "students.json: students[1] at byte 30: the object is not closed");
	put("students.json", "[{\"studentUniqueId\": \"1001\"}, 7]");
	want(NULL, BATON_EVALUE, "students|students.json[0]|1001\n",
	     "students.json: byte 30: expected students[1]: a students object, found '7'");
	put("students.json", "[{\"studentUniqueId\": \"1001\"} {}]");
	want(NULL, BATON_EVALUE, "students|students.json[0]|1001\n",
	     "expected ',' or ']' after students[0]");
	put("students.json", "[] x");
	want(NULL, BATON_EVALUE, "", "students.json: byte 3: text after the array");
	put("students.json", "");
	want(NULL, BATON_EVALUE, "", "students.json: the file is empty");
	put("students.json", "{\"studentUniqueId\": \"1001\"}");
	want(NULL, BATON_EVALUE, "", "students.json: byte 0: expected an array of students");
	put("students.json", "[{\"studentUniqueId\": 10x}]");
	want(NULL, BATON_EVALUE, "", "students.json: students[0] at byte ");
	put("students.json", "[{\"a\": 1, \"a\": 2}]");
	want(NULL, BATON_EVALUE, "", "duplicate object key");
	put("students.json", "[{\"a\": \"\xff\"}]");
	want(NULL, BATON_EVALUE, "", "students.json: students[0] at byte ");
	fresh("empty");
	want(NULL, BATON_EVALUE, "", "no RESOURCE.json files");
	want("nope.json", BATON_EIO, "", "nope.json: No such file");
}

static void test_too_big(void **state)
{
	size_t n = EDFI_OBJECT_MAX + 100;
	char *big = malloc(n + 64);
	(void)state;
	assert_non_null(big);
	fresh("big");
	memcpy(big, "[{\"schoolId\": 1}, {\"nameOfInstitution\": \"", 42);
	memset(big + 42, 'x', n - 42);
	memcpy(big + n, "\"}]", 4);
	put_n("schools.json", big, n + 3);
	free(big);
	want(NULL, BATON_ETOOBIG, "schools|schools.json[0]|1\n",
	     "schools.json: schools[1] at byte 18: an object over 1048576 bytes");
}

static void test_unknown_and_notes(void **state)
{
	struct seen s;
	(void)state;
	fresh("unknown");
	put("students.json", "[{\"studentUniqueId\": \"1001\"}]");
	put("teachers.json", "[{\"staffUniqueId\": \"T1\"}]");
	want(NULL, BATON_EVALUE, "",
	     "teachers.json: file name \"teachers\" is not an Ed-Fi resource Baton reads");
	memset(&s, 0, sizeof(s));
	assert_int_equal(edfi_json_read_notes(sub, sink, note, &s), 0);
	assert_string_equal(s.text, "students|students.json[0]|1001\n");
	assert_string_equal(s.notes, "teachers.json: file name \"teachers\" is not an Ed-Fi "
	                             "resource Baton reads; skipped\n");
	assert_true(edfi_resource_known("studentParentAssociations"));
	assert_true(edfi_resource_known("contacts"));
	assert_false(edfi_resource_known("staffs"));
}

static void test_sink_stops(void **state)
{
	struct seen s;
	(void)state;
	fresh("stop");
	put("students.json", "[{\"studentUniqueId\": \"1\"}, {\"studentUniqueId\": \"2\"}, "
	                     "{\"studentUniqueId\": \"3\"}]");
	memset(&s, 0, sizeof(s));
	s.stop_at = 2;
	assert_int_equal(edfi_json_read(sub, sink, &s), BATON_EVALUE);
	assert_int_equal(s.calls, 2);
}

static void test_descriptor_map(void **state)
{
	edfi_map *m;
	(void)state;
	fresh("map");
	assert_int_equal(edfi_map_load(&m, NULL), 0);
	assert_string_equal(
	    edfi_map_value(m, "grade_level", "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"),
	    "09");
	assert_string_equal(edfi_map_value(m, "grade_level",
	                                   "uri://ed-fi.org/GradeLevelDescriptor#Adult Education"),
	                    "AE");
	assert_string_equal(
	    edfi_map_value(m, "grade_level", "uri://ed-fi.org/GradeLevelDescriptor#Infant/toddler"),
	    "IT");
	assert_string_equal(
	    edfi_map_value(m, "grade_level", "uri://ed-fi.org/GradeLevelDescriptor#Grade 13"),
	    "13");
	/* Matched whole: another namespace, or a code in another case, is not the same. */
	assert_null(
	    edfi_map_value(m, "grade_level", "uri://gbisd.org/GradeLevelDescriptor#Ninth grade"));
	assert_null(
	    edfi_map_value(m, "grade_level", "uri://ed-fi.org/GradeLevelDescriptor#ninth grade"));
	assert_null(edfi_map_value(m, "term", "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade"));
	assert_string_equal(edfi_map_uri(m, "grade_level", "KG"),
	                    "uri://ed-fi.org/GradeLevelDescriptor#Kindergarten");
	assert_string_equal(edfi_map_uri(m, "relation", "mother"),
	                    "uri://ed-fi.org/RelationDescriptor#Mother");
	edfi_map_free(m);

	put("d.map", "# ours\r\ngrade_level\t09\turi://gbisd.org/GradeLevelDescriptor#G9\r\n\n"
	             "relation\tstepmother\turi://ed-fi.org/RelationDescriptor#Mother\n");
	char path[800];
	snprintf(path, sizeof(path), "%s/d.map", sub);
	assert_int_equal(edfi_map_load(&m, path), 0);
	assert_string_equal(
	    edfi_map_value(m, "grade_level", "uri://gbisd.org/GradeLevelDescriptor#G9"), "09");
	assert_string_equal(
	    edfi_map_value(m, "relation", "uri://ed-fi.org/RelationDescriptor#Mother"),
	    "stepmother");
	edfi_map_free(m);
	put("d.map", "grade_level\t09\turi://gbisd.org/GradeLevelDescriptor#G9\ngrade_level 10\n");
	assert_int_equal(edfi_map_load(&m, path), BATON_EVALUE);
	assert_null(m);
	assert_non_null(strstr(baton_diag(), "d.map: line 2: expected baton-field<TAB>"));
	put("d.map", "grade_level\t09\tno-hash-here\n");
	assert_int_equal(edfi_map_load(&m, path), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "d.map: line 1:"));
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
	    cmocka_unit_test(test_directory),         cmocka_unit_test(test_one_file),
	    cmocka_unit_test(test_malformed),         cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_unknown_and_notes), cmocka_unit_test(test_sink_stops),
	    cmocka_unit_test(test_descriptor_map),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

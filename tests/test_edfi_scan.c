/*
 * The Ed-Fi JSON reader's scan (node/edfi_types.h, edfi_scan_object): text
 * it vouches for is never text that jansson (JSON_REJECT_DUPLICATES) or
 * edfi_check_types refuses (the object it reads may end before the text
 * does: the reader refuses what follows), and the student it finds is the
 * one the parsed object names. Checked on a table of hostile objects (each refused by
 * the strict parse, each left to it by the scan), on resource objects of
 * every kind the import reads (each vouched for, with its student), and
 * on every one-byte change and every truncation of those; its squeezed
 * text is the same object without white space or the API's bookkeeping.
 * And its builder (edfi_json_load) gives what json_loadb gives, on all of
 * these.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <baton/baton.h>

#include "edfi_types.h"

/*
 * What the strict path says of text: 1 when jansson parses it whole and its
 * types pass.
 */
static int strict_ok(const char *text, size_t len, json_t **out)
{
	/* Without JSON_DISABLE_EOF_CHECK: the object must be the whole text, as the
	 * reader's brackets make it. */
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	int ok =
	    o != NULL && json_is_object(o) && edfi_check_types("students", o, "t.json[0]") == 0;
	if (ok && out)
		*out = o;
	else
		json_decref(o);
	return ok;
}

/* edfi_json_load's promise: jansson's answer (flags 0), value for value and in order. */
static void check_load(const char *text, size_t len)
{
	json_t *want = json_loadb(text, len, 0, NULL), *got = edfi_json_load(text, len);
	char *a, *b;
	if (want == NULL || got == NULL) {
		if (want != NULL || got != NULL)
			fail_msg("jansson %s, edfi_json_load %s: %.*s", want ? "parses" : "refuses",
			         got ? "parses" : "refuses", (int)len, text);
		return;
	}
	/* Compact, in insertion order: reals as %.17g, so equal text is equal values. */
	a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
	b = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(a);
	assert_non_null(b);
	if (strcmp(a, b) != 0)
		fail_msg("jansson %s, edfi_json_load %s", a, b);
	free(a);
	free(b);
	json_decref(want);
	json_decref(got);
}

/* Removes the API's bookkeeping (id, _etag, _lastModifiedDate, link) at any depth. */
static void strip(json_t *v)
{
	static const char *const api[] = {"id", "_etag", "_lastModifiedDate", "link"};
	json_t *x;
	size_t i;
	if (json_is_array(v))
		json_array_foreach(v, i, x) strip(x);
	if (!json_is_object(v))
		return;
	for (i = 0; i < sizeof(api) / sizeof(api[0]); i++)
		json_object_del(v, api[i]);
	const char *k;
	json_object_foreach(v, k, x) strip(x);
}

/*
 * The scan's promise for text: never 1 where the strict path refuses, the
 * same student, and squeezed text that is the object without white space or
 * the API's bookkeeping.
 */
static int check_promise(const char *resource, const char *text, size_t len)
{
	struct edfi_scan sc;
	json_t *o = NULL, *back;
	size_t sl = 0;
	const char *want, *got;
	char *out = malloc(len ? len : 1), *a, *b;
	assert_non_null(out);
	check_load(text, len);
	if (!edfi_scan_object(text, len, out, &sc)) {
		free(out);
		return 0;
	}
	/* The object the scan read (it may end before the text does). */
	assert_true(sc.len > 0 && sc.len <= len);
	if (!strict_ok(text, sc.len, &o))
		fail_msg("scanned but refused by jansson or the types: %.*s", (int)sc.len, text);
	assert_ptr_equal(sc.text, out);
	/* No white space outside strings. */
	for (size_t i = 0, in = 0; i < sc.textlen; i++) {
		if (in && out[i] == '\\')
			i++;
		else if (out[i] == '"')
			in = !in;
		else if (!in && strchr(" \t\r\n", out[i]) != NULL)
			fail_msg("white space in the squeezed text: %.*s", (int)sc.textlen, out);
	}
	back = json_loadb(out, sc.textlen, JSON_REJECT_DUPLICATES, NULL);
	if (back == NULL)
		fail_msg("squeezed text is not JSON: %.*s", (int)sc.textlen, out);
	strip(o);
	a = json_dumps(o, JSON_COMPACT);
	b = json_dumps(back, JSON_COMPACT);
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a, b);
	free(a);
	free(b);
	json_decref(back);
	free(out);
	want = edfi_student_of(resource, o);
	got = edfi_student_of_scan(resource, &sc, &sl);
	if (want == NULL || got == NULL)
		assert_true(want == NULL && got == NULL);
	else {
		assert_int_equal(strlen(want), sl);
		assert_memory_equal(want, got, sl);
	}
	json_decref(o);
	return sc.len == len;
}

/* Resource objects as the API gives them (and the student each names). */
static const struct {
	const char *resource, *text, *student;
} good[] = {
    {"students",
     "{\"id\":\"ab12\",\"studentUniqueId\":\"604000001\",\"birthDate\":\"2011-04-17\","
     "\"firstName\":\"Amara\",\"middleName\":\"Andr\xc3\xa9s "
     "\\\"A\\\"\",\"lastSurname\":\"Okafor\","
     "\"_etag\":\"5250\",\"link\":{\"rel\":\"Student\",\"href\":\"/ed-fi/students/ab12\"}}",
     "604000001"},
    {"studentSchoolAssociations",
     "{ \"entryDate\" : \"2026-08-17T08:00:00Z\", \"schoolReference\": {\"schoolId\": 482001001},\n"
     "\t\"studentReference\": {\"studentUniqueId\": \"604000002\"}, \"repeatGradeIndicator\": "
     "false,"
     "\"entryGradeLevelDescriptor\": \"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\","
     "\"schoolYearTypeReference\": {\"schoolYear\": 2027}, \"alternativeGraduationPlans\": []}",
     "604000002"},
    {"courseTranscripts",
     "{\"courseReference\":{\"courseCode\":\"ALG1A\",\"educationOrganizationId\":482001},"
     "\"studentAcademicRecordReference\":{\"educationOrganizationId\":482001001,"
     "\"schoolYear\":2026,\"studentUniqueId\":\"604000003\",\"termDescriptor\":"
     "\"uri://ed-fi.org/TermDescriptor#Fall Semester\"},\"attemptedCredits\":0.5,"
     "\"earnedCredits\":1,\"finalNumericGradeEarned\":-0.25,\"earnedAdditionalCredits\":"
     "[{\"credits\":0.5,\"additionalCreditTypeDescriptor\":\"uri://ed-fi.org/"
     "AdditionalCreditTypeDescriptor#AP\"}],\"finalLetterGradeEarned\":\"B+\"}",
     "604000003"},
    {"grades",
     "{\"gradingPeriodReference\":{\"schoolId\":1,\"schoolYear\":2026},"
     "\"studentSectionAssociationReference\":{\"beginDate\":\"2025-08-20\","
     "\"studentUniqueId\":\"604000004\",\"sectionIdentifier\":\"S\\/1\"},"
     "\"numericGradeEarned\":88.5,\"gradeTypeDescriptor\":\"uri://ed-fi.org/"
     "GradeTypeDescriptor#Final\",\"diagnosticStatement\":\"tab\\tnew\\nline \xe2\x82\xac "
     "\xf0\x9f\x98\x80\"}",
     "604000004"},
    {"schools",
     "{\"schoolId\":482001001,\"nameOfInstitution\":\"Maple Ridge\",\"gradeLevels\":"
     "[{\"gradeLevelDescriptor\":\"uri://ed-fi.org/GradeLevelDescriptor#Ninth grade\"}],"
     "\"deep\":[[[{\"a\":[1,2.0,true,false,\"x\"]}]]]}",
     NULL},
    {"studentHealths", "{}", NULL},
};

static void test_vouches_for_the_api_shape(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct edfi_scan sc;
		size_t sl = 0;
		const char *sid;
		assert_true(strict_ok(good[i].text, strlen(good[i].text), NULL));
		if (!edfi_scan_object(good[i].text, strlen(good[i].text), NULL, &sc) ||
		    sc.len != strlen(good[i].text))
			fail_msg("not vouched for: %s", good[i].text);
		sid = edfi_student_of_scan(good[i].resource, &sc, &sl);
		if (good[i].student == NULL)
			assert_null(sid);
		else {
			assert_non_null(sid);
			assert_int_equal(sl, strlen(good[i].student));
			assert_memory_equal(sid, good[i].student, sl);
		}
		assert_int_equal(
		    check_promise(good[i].resource, good[i].text, strlen(good[i].text)), 1);
	}
}

/* Each refused by the strict path (jansson or the types), so the scan must not vouch for it. */
static const char *const hostile[] = {
    "{\"a\":1,\"a\":2}",                        /* a repeated key */
    "{\"s\":{\"b\":1,\"b\":1}}",                /* repeated, nested */
    "{\"a\":null}",                             /* null */
    "{\"a\":[1,null]}",                         /* null in a collection */
    "{\"a\":\"\xff\"}",                         /* bad UTF-8 */
    "{\"a\":\"\xc0\xaf\"}",                     /* overlong */
    "{\"a\":\"\xed\xa0\x80\"}",                 /* a surrogate in UTF-8 */
    "{\"a\":\"\xf4\x90\x80\x80\"}",             /* past U+10FFFF */
    "{\"a\":\"\xe2\x82\"}",                     /* cut sequence */
    "{\"\xff\":1}",                             /* bad UTF-8 in a key */
    "{\"a\":\"\\ud800\"}",                      /* a lone surrogate */
    "{\"a\":\"\\u0000\"}",                      /* NUL */
    "{\"a\":\"\\x\"}",                          /* a bad escape */
    "{\"a\":\"tab\there\"}",                    /* a raw control character */
    "{\"a\":01}",                               /* a leading zero */
    "{\"a\":1.}",                               /* no fraction digits */
    "{\"a\":-}",                                /* a lone minus */
    "{\"a\":+1}",                               /* a plus */
    "{\"a\":99999999999999999999}",             /* too big an integer */
    "{\"a\":1e999}",                            /* a real overflowing */
    "{\"a\":tru}",                              /* a cut literal */
    "{\"a\":True}",                             /* a literal's case */
    "{\"a\":1,}",                               /* a trailing comma */
    "{\"a\" 1}",                                /* no colon */
    "{\"a\":1 \"b\":2}",                        /* no comma */
    "{a:1}",                                    /* a bare key */
    "{'a':1}",                                  /* single quotes */
    "{\"a\":[1,2}",                             /* unbalanced */
    "{\"a\":1}}",                               /* text after the object */
    "{\"a\":1",                                 /* cut */
    "{\"birthDate\":\"2011-02-30\"}",           /* not a date */
    "{\"birthDate\":\"2011-02-03X\"}",          /* not a date-time */
    "{\"birthDate\":20110203}",                 /* a date as a number */
    "{\"studentUniqueId\":\"\"}",               /* an empty identifier */
    "{\"studentUniqueId\":604000001}",          /* an identifier as a number */
    "{\"gradeLevelDescriptor\":[\"x\"]}",       /* a descriptor as an array */
    "{\"schoolReference\":\"482001001\"}",      /* a reference as a string */
    "{\"schoolId\":\"482001001\"}",             /* an id as a string */
    "{\"schoolYear\":2026.0}",                  /* a year as a real */
    "{\"livesWith\":\"yes\"}",                  /* a boolean as a string */
    "{\"isHispanic\":1}",                       /* a boolean as a number */
    "{\"earnedCredits\":\"0.5\"}",              /* a number as a string */
    "{\"telephones\":{\"a\":1}}",               /* a collection as an object */
    "{\"earnedAdditionalCredits\":0.5}",        /* a collection as a number */
    "{\"x\":[{\"entryDate\":\"2026-13-01\"}]}", /* a bad date in a collection */
};

static void test_refuses_the_hostile(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		struct edfi_scan sc;
		size_t n = strlen(hostile[i]);
		if (strict_ok(hostile[i], n, NULL))
			fail_msg("the test's hostile case %zu is taken by jansson: %s", i,
			         hostile[i]);
		/* Text after the object is the reader's to refuse: the object is not the whole. */
		if (edfi_scan_object(hostile[i], n, NULL, &sc) && sc.len == n)
			fail_msg("vouched for hostile case %zu: %s", i, hostile[i]);
		check_promise("students", hostile[i], n);
		check_load(hostile[i], n);
	}
}

/* Valid, but left to jansson: what the scan cannot vouch for itself. */
static void test_leaves_to_jansson(void **state)
{
	static const char *const unsure[] = {
	    "{\"a\":\"\\u00e9\"}",
	    "{\"a\\u0062\":1}",
	    "{\"a\":1e3}",
	    "{\"a\":1234567890123456789}",
	};
	char deep[200] = "";
	struct edfi_scan sc;
	(void)state;
	for (size_t i = 0; i < sizeof(unsure) / sizeof(unsure[0]); i++) {
		assert_true(strict_ok(unsure[i], strlen(unsure[i]), NULL));
		assert_false(edfi_scan_object(unsure[i], strlen(unsure[i]), NULL, &sc));
		check_load(unsure[i], strlen(unsure[i]));
	}
	/* 40 deep and 100 keys: jansson takes both, the scan leaves them to it. */
	strcat(deep, "{\"a\":");
	for (int i = 0; i < 40; i++)
		strcat(deep, "[");
	for (int i = 0; i < 40; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	assert_true(strict_ok(deep, strlen(deep), NULL));
	assert_false(edfi_scan_object(deep, strlen(deep), NULL, &sc));
	{
		char many[2000] = "{";
		for (int i = 0; i < 100; i++)
			snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s\"k%d\":%d",
			         i ? "," : "", i, i);
		strcat(many, "}");
		assert_true(strict_ok(many, strlen(many), NULL));
		assert_false(edfi_scan_object(many, strlen(many), NULL, &sc));
	}
}

/*
 * Every one-byte change (to each of a set of bytes that matter to JSON, to
 * UTF-8 and to the types) and every truncation of the objects above: the
 * scan never vouches for what the strict path refuses, and where it
 * vouches it finds the same student.
 */
static void test_mutations(void **state)
{
	static const unsigned char bytes[] = {0x00, 0x09, 0x0a, 0x1f, ' ',  '"', ',', '-',  '.',
	                                      '/',  '0',  '1',  '9',  ':',  'E', '[', '\\', ']',
	                                      'e',  'f',  'n',  't',  'u',  '{', '}', 0x7f, 0x80,
	                                      0xbf, 0xc2, 0xe0, 0xed, 0xf4, 0xff};
	size_t vouched = 0, tried = 0;
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		size_t n = strlen(good[i].text);
		char *t = malloc(n + 1);
		assert_non_null(t);
		for (size_t at = 0; at < n; at++) {
			for (size_t b = 0; b < sizeof(bytes); b++) {
				memcpy(t, good[i].text, n);
				if ((unsigned char)t[at] == bytes[b])
					continue;
				t[at] = (char)bytes[b];
				vouched += (size_t)check_promise(good[i].resource, t, n);
				tried++;
			}
			memcpy(t, good[i].text, n);
			vouched += (size_t)check_promise(good[i].resource, t, at);
			tried++;
		}
		free(t);
	}
	/* Some changes keep valid JSON of the right types (a letter of a name): those are
	 * vouched for, and the rest were not. */
	assert_true(vouched > 0 && vouched < tried);
}

/* What the import keeps and reads again: squeezed objects, escapes, reals, nulls, repeats. */
static void test_load_as_jansson(void **state)
{
	static const char *const texts[] = {
	    "{}",
	    "[]",
	    " {\"a\" : [ 1 , -0 , 0.5 , -12.250 , 123456789012345678 ] } ",
	    "{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"\\n\":1,\"b\":null,\"c\":true,\"d\":false}",
	    "{\"a\":1,\"b\":2,\"a\":3}", /* a repeat: the last value, in the first place */
	    "{\"a\":0.1,\"b\":2.5e3,\"c\":1E-2,\"d\":\"\\u00e9\\ud83d\\ude00\"}",
	    "{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
	    "[{\"a\":[[[]]]},{\"b\":{}}]",
	    "\"top\"",
	    "1",
	    "{\"a\":1} x",
	    "{\"a\":\"\\u0000\"}",
	    "{\"a\":99999999999999999999}",
	    "{\"a\":1.7976931348623157e309}",
	    "",
	    "{",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		check_load(texts[i], strlen(texts[i]));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		json_t *o = edfi_json_load(good[i].text, strlen(good[i].text));
		assert_non_null(o);
		json_decref(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_vouches_for_the_api_shape),
	    cmocka_unit_test(test_refuses_the_hostile),
	    cmocka_unit_test(test_leaves_to_jansson),
	    cmocka_unit_test(test_mutations),
	    cmocka_unit_test(test_load_as_jansson),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * The canonical text of a record (proto/RECORD.md, "Canonical text"): the
 * exact bytes Baton writes for a JSON value, whatever form the value was
 * read in. Each case is a JSON text in and the golden text out.
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

#include "record.h"

/* Parses in as a record's JSON is read and asserts its canonical text is want. */
static void golden(const char *in, const char *want)
{
	json_error_t err;
	json_t *v = json_loads(in, JSON_REJECT_DUPLICATES, &err);
	if (v == NULL)
		fail_msg("%s: %s", in, err.text);
	char *got = record_canonical(v);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(v);
}

static void test_layout(void **state)
{
	(void)state;
	/* No whitespace; members sorted; arrays keep their order. */
	golden(
	    "{ \"given_name\" : \"Amara\",\n  \"family_name\": \"Okafor\",\n"
	    "  \"birth_date\": \"2011-04-17\" }",
	    "{\"birth_date\":\"2011-04-17\",\"family_name\":\"Okafor\",\"given_name\":\"Amara\"}");
	golden("[ {\"b\": [3, 1, 2], \"a\": {\"d\": true, \"c\": false}} ]",
	       "[{\"a\":{\"c\":false,\"d\":true},\"b\":[3,1,2]}]");
	golden("{}", "{}");
	golden("[]", "[]");
}

static void test_key_order(void **state)
{
	(void)state;
	/* Bytewise on the UTF-8 of the keys: upper case first, a prefix first, non-ASCII last. */
	golden("{\"z\":5,\"\\u00e9\":4,\"aa\":1,\"a\":2,\"B\":3,\"_\":6}",
	       "{\"B\":3,\"_\":6,\"a\":2,\"aa\":1,\"z\":5,\"\xc3\xa9\":4}");
}

static void test_strings(void **state)
{
	(void)state;
	/* Only " and \ are escaped in text a record may hold; / and DEL are not. */
	golden("[\"a\\\"b\\\\c\\/d\x7f\"]", "[\"a\\\"b\\\\c/d\x7f\"]");
	/* Non-ASCII is written as UTF-8, however it was written in the input. */
	golden("[\"\\u00e9\\u00C9\xc3\xa9 \\ud83d\\ude00 \\u2028\xc2\xa0\"]",
	       "[\"\xc3\xa9\xc3\x89\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8\xc2\xa0\"]");
	/* Control characters (refused in a record, but the form is total): short or \u00XX. */
	golden("[\"\\t\\n\\r\\b\\f\\u0001\\u001f\\u001A\"]",
	       "[\"\\t\\n\\r\\b\\f\\u0001\\u001F\\u001A\"]");
}

static void test_numbers(void **state)
{
	(void)state;
	/* Integers: plain decimal. */
	golden("[0, 7, 100000, -3, -0, 9223372036854775807]",
	       "[0,7,100000,-3,0,9223372036854775807]");
	/* A number with a fraction or an exponent stays a real: %.17g, a ".0" when that
	 * looks like an integer, no '+' and no leading zero in an exponent. */
	golden("[1.0, 2.5, 0.5, 1e2, 100.00, 0.1, 3.7]",
	       "[1.0,2.5,0.5,100.0,100.0,0.10000000000000001,3.7000000000000002]");
	golden("[1E+21, 1e-7, -0.0, 1000.0]", "[1e21,9.9999999999999995e-8,-0.0,1000.0]");
	/* Literals. */
	golden("[true, false]", "[true,false]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_key_order),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

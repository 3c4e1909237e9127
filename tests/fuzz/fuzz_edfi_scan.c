/*
 * libFuzzer harness for the Ed-Fi JSON reader's scan (node/edfi_types.h,
 * edfi_scan_object): the object it vouches for (the input's first sc.len
 * bytes) must be one that jansson (JSON_REJECT_DUPLICATES) parses whole and
 * edfi_check_types passes, and
 * the student it finds must be the one the parsed object names, both for a
 * students object and for one naming its student by a reference; and
 * edfi_json_load must give what json_loadb gives, for any bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <baton/baton.h>

#include "edfi_types.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (baton_init() != 0)
		abort();
	return 0;
}

static void same(const char *want, const char *got, size_t gotlen)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strlen(want) != gotlen || memcmp(want, got, gotlen) != 0)
		abort();
}

/* edfi_json_load gives jansson's answer: both NULL, or the same values in the same order. */
static void same_load(const char *text, size_t size)
{
	json_t *want = json_loadb(text, size, 0, NULL), *got = edfi_json_load(text, size);
	char *a, *b;
	if ((want == NULL) != (got == NULL))
		abort();
	if (want == NULL)
		return;
	a = json_dumps(want, JSON_COMPACT | JSON_ENCODE_ANY);
	b = json_dumps(got, JSON_COMPACT | JSON_ENCODE_ANY);
	if (a == NULL || b == NULL || strcmp(a, b) != 0)
		abort();
	free(a);
	free(b);
	json_decref(want);
	json_decref(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct edfi_scan sc;
	json_t *o, *back;
	char *out = malloc(size ? size : 1);
	if (out == NULL)
		abort();
	same_load((const char *)data, size);
	if (!edfi_scan_object((const char *)data, size, out, &sc)) {
		free(out);
		return 0;
	}
	/* The object read is at the start of the input; squeezed, it is JSON, no longer. */
	if (sc.len == 0 || sc.len > size || sc.text != out || sc.textlen > sc.len ||
	    (back = json_loadb(out, sc.textlen, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		abort();
	json_decref(back);
	free(out);
	o = json_loadb((const char *)data, sc.len, JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL || !json_is_object(o) || edfi_check_types("fuzz", o, "fuzz.json[0]") != 0)
		abort();
	same(edfi_student_of("students", o), sc.top, sc.toplen);
	same(edfi_student_of("studentSchoolAssociations", o), sc.ref ? sc.ref : sc.first,
	     sc.ref ? sc.reflen : sc.firstlen);
	json_decref(o);
	return 0;
}

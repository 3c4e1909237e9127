/*
 * libFuzzer harness for the Ed-Fi JSON reader's scan (node/edfi_types.h,
 * edfi_scan_object): text it vouches for must be one object that jansson
 * (JSON_REJECT_DUPLICATES) parses whole and edfi_check_types passes, and
 * the student it finds must be the one the parsed object names, both for a
 * students object and for one naming its student by a reference.
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

/* The student of node/edfi.c's student_of, from the parsed object. */
static const char *tree_student(int students, const json_t *obj)
{
	const char *k, *sid;
	json_t *v;
	if (students)
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

static void same(const char *want, const char *got, size_t gotlen)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strlen(want) != gotlen || memcmp(want, got, gotlen) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct edfi_scan sc;
	json_t *o;
	if (!edfi_scan_object((const char *)data, size, &sc))
		return 0;
	o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (o == NULL || !json_is_object(o) || edfi_check_types("fuzz", o, "fuzz.json[0]") != 0)
		abort();
	same(tree_student(1, o), sc.top, sc.toplen);
	same(tree_student(0, o), sc.ref ? sc.ref : sc.first, sc.ref ? sc.reflen : sc.firstlen);
	json_decref(o);
	return 0;
}

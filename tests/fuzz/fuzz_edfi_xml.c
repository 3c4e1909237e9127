/*
 * libFuzzer harness for the Ed-Fi interchange XML reader (node/edfi_xml.h):
 * the bytes are read as one interchange file; every object handed to the
 * sink must be a JSON object that dumps and parses back to itself, and
 * every refusal must leave a diag naming the file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <baton/baton.h>

#include "edfi_xml.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (baton_init() != 0)
		abort();
	return 0;
}

static int check(void *arg, const char *resource, json_t *obj, const char *where)
{
	(void)arg;
	if (resource == NULL || !json_is_object(obj) || strstr(where, "fuzz.xml:") != where)
		abort();
	char *text = json_dumps(obj, JSON_SORT_KEYS);
	if (text == NULL)
		abort();
	json_t *back = json_loads(text, 0, NULL);
	if (back == NULL || !json_equal(back, obj))
		abort();
	json_decref(back);
	free(text);
	return 0;
}

static void skipped(void *arg, const char *name, const char *where)
{
	(void)arg;
	touch(name, strlen(name));
	if (strstr(where, "fuzz.xml:") != where)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r = edfi_xml_read_memory((const char *)data, size, "fuzz.xml", check, skipped, NULL);
	if (r != 0 && r != BATON_ENOMEM && strstr(baton_diag(), "fuzz.xml") == NULL)
		abort();
	return 0;
}

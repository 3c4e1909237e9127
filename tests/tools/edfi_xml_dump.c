/*
 * A directory of Ed-Fi interchange XML as the Ed-Fi API's JSON, the way
 * node/edfi_xml.c reads it: prints one object {resource: [objects]} (a valid
 * one-file Ed-Fi JSON input), and on stderr what was not converted.
 *
 *   edfi_xml_dump DIR
 *
 * Exits 0, or 1 with the reader's message when it refuses the directory.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include <baton/baton.h>

#include "edfi_xml.h"

static int collect(void *arg, const char *resource, json_t *obj, const char *where)
{
	json_t *all = arg, *list = json_object_get(all, resource);
	(void)where;
	if (list == NULL) {
		list = json_array();
		if (list == NULL || json_object_set_new(all, resource, list) != 0)
			return BATON_ENOMEM;
	}
	return json_array_append(list, obj) == 0 ? 0 : BATON_ENOMEM;
}

static void skipped(void *arg, const char *name, const char *where)
{
	(void)arg;
	fprintf(stderr, "not converted: %s (first at %s)\n", name, where);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: edfi_xml_dump DIR\n");
		return 2;
	}
	json_t *all = json_object();
	if (all == NULL)
		return 1;
	int r = edfi_xml_read_ex(argv[1], collect, skipped, all);
	if (r != 0) {
		fprintf(stderr, "edfi_xml_dump: %s: %s\n", baton_strerror(r), baton_diag());
		json_decref(all);
		return 1;
	}
	int w = json_dumpf(all, stdout, JSON_INDENT(1) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(all);
	return w == 0 ? 0 : 1;
}

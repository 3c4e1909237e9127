/*
 * libFuzzer harness for the registrar's JSON records (proto/RECORD.md): the
 * bytes are parsed as 'baton student import' parses one record, then
 * validated, indexed and given their canonical text, which must parse and
 * validate again to the same text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <baton/baton.h>

#include "fuzz.h"
#include "record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (baton_init() != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t err;
	json_t *rec = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &err), *again;
	store_student s;
	char *canon, *canon2;

	if (rec == NULL)
		return 0;
	if (record_validate(rec) != 0) {
		json_decref(rec);
		return 0;
	}
	memset(&s, 0, sizeof(s));
	record_index(rec, &s);
	touch(&s, sizeof(s));
	if ((canon = record_canonical(rec)) == NULL)
		abort();
	again = json_loads(canon, JSON_REJECT_DUPLICATES, &err);
	if (again == NULL || record_validate(again) != 0 ||
	    (canon2 = record_canonical(again)) == NULL || strcmp(canon, canon2) != 0)
		abort(); /* the canonical text must be stable */
	free(canon2);
	free(canon);
	json_decref(again);
	json_decref(rec);
	return 0;
}

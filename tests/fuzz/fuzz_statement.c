/*
 * libFuzzer harness for baton_statement_parse, a family's statement of
 * disagreement (PROTOCOL.md 3.11) that travels in packet bodies and is
 * posted by the family's pages. A parsed statement cannot be re-signed
 * without the family's key, so a successful parse reads every output field
 * (for ASan/UBSan) and checks what objects.h promises: the envelope type, a
 * known section and role, a text of 1..4000 bytes with no control byte but
 * LF, and *out zeroed on failure.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>

#include "fuzz.h"

FUZZ_INIT_SODIUM

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static baton_statement st;
	int type = 0, tr;
	size_t n;

	tr = baton_object_type(data, size, &type);
	memset(&st, 0xa5, sizeof(st));
	if (baton_statement_parse(data, size, &st) != 0) {
		if (!all_zero(&st, sizeof(st)))
			abort(); /* a failed parse must leave *out zeroed */
		return 0;
	}
	if (tr != 0 || type != BATON_OBJ_STATEMENT || baton_section_name(st.section) == NULL ||
	    (st.role != BATON_ROLE_GUARDIAN && st.role != BATON_ROLE_STUDENT))
		abort();
	n = strlen(st.text);
	if (n == 0 || n > BATON_STATEMENT_TEXT_MAX || strlen(st.student) == 0)
		abort();
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)st.text[i] < 0x20 && st.text[i] != '\n') || st.text[i] == 0x7f)
			abort();
	touch(st.id, sizeof(st.id));
	touch(st.school, sizeof(st.school));
	touch(st.signer, sizeof(st.signer));
	sink += (size_t)st.time;
	return 0;
}

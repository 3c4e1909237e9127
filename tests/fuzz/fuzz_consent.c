/*
 * libFuzzer harness for baton_consent_parse and baton_object_type. A parsed
 * consent cannot be re-encoded without the signer's secret key, so a
 * successful parse only reads every output field (for ASan/UBSan) and
 * checks what objects.h promises: strings NUL-terminated within their
 * fields, a non-empty section mask, the envelope type, and *out zeroed on
 * failure.
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
	baton_consent c;
	int type = 0, tr;

	tr = baton_object_type(data, size, &type);
	memset(&c, 0xa5, sizeof(c));
	if (baton_consent_parse(data, size, &c) != 0) {
		if (!all_zero(&c, sizeof(c)))
			abort(); /* a failed parse must leave *out zeroed */
		return 0;
	}
	if (tr != 0 || type != BATON_OBJ_CONSENT)
		abort();
	touch(c.id, sizeof(c.id));
	touch_str(c.student, sizeof(c.student));
	touch(c.from_pk, sizeof(c.from_pk));
	touch_str(c.from_code, sizeof(c.from_code));
	touch(c.to_pk, sizeof(c.to_pk));
	touch_str(c.to_code, sizeof(c.to_code));
	if (c.sections == 0 || (c.sections & ~BATON_SEC_ALL_MASK) != 0)
		abort();
	touch_str(c.purpose, sizeof(c.purpose));
	sink += (size_t)(c.issued ^ c.expires);
	touch(c.signer, sizeof(c.signer));
	if (c.role != BATON_ROLE_GUARDIAN && c.role != BATON_ROLE_STUDENT)
		abort();
	return 0;
}

/*
 * libFuzzer harness for baton_card_parse and baton_object_type. A parsed
 * card cannot be re-encoded without the school's secret key, so a
 * successful parse only reads every output field (for ASan/UBSan) and
 * checks what objects.h promises: strings NUL-terminated within their
 * fields, 1..BATON_MAX_ENDPOINTS endpoints, the envelope type, and *out
 * zeroed on failure.
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
	baton_card c;
	int type = 0, tr;

	tr = baton_object_type(data, size, &type);
	memset(&c, 0xa5, sizeof(c));
	if (baton_card_parse(data, size, &c) != 0) {
		if (!all_zero(&c, sizeof(c)))
			abort(); /* a failed parse must leave *out zeroed */
		return 0;
	}
	if (tr != 0 || type != BATON_OBJ_CARD)
		abort();
	touch_str(c.name, sizeof(c.name));
	touch_str(c.code, sizeof(c.code));
	touch(c.id_pk, sizeof(c.id_pk));
	touch(c.enc_pk, sizeof(c.enc_pk));
	if (c.n_endpoints < 1 || c.n_endpoints > BATON_MAX_ENDPOINTS)
		abort();
	for (size_t i = 0; i < c.n_endpoints; i++)
		touch_str(c.endpoints[i], sizeof(c.endpoints[i]));
	sink += (size_t)(c.valid_from ^ c.valid_until);
	return 0;
}

/*
 * libFuzzer harness for baton_revocation_parse and baton_object_type. A
 * parsed revocation cannot be re-encoded without the signer's secret key,
 * so a successful parse only reads every output field (for ASan/UBSan) and
 * checks the envelope type, and a failed one that *out was left zeroed.
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
	baton_revocation rv;
	int type = 0, tr;

	tr = baton_object_type(data, size, &type);
	memset(&rv, 0xa5, sizeof(rv));
	if (baton_revocation_parse(data, size, &rv) != 0) {
		if (!all_zero(&rv, sizeof(rv)))
			abort(); /* a failed parse must leave *out zeroed */
		return 0;
	}
	if (tr != 0 || type != BATON_OBJ_REVOCATION)
		abort();
	touch(rv.consent_id, sizeof(rv.consent_id));
	touch(rv.signer, sizeof(rv.signer));
	sink += (size_t)rv.time;
	return 0;
}

/*
 * libFuzzer harness for baton_receipt_parse and baton_object_type. A parsed
 * receipt cannot be re-encoded without the receiver's secret key, so a
 * successful parse only reads every output field (for ASan/UBSan) and
 * checks what objects.h promises: a NUL-terminated note, a known reason,
 * the envelope type, and *out zeroed on failure.
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
	baton_receipt rc;
	int type = 0, tr;

	tr = baton_object_type(data, size, &type);
	memset(&rc, 0xa5, sizeof(rc));
	if (baton_receipt_parse(data, size, &rc) != 0) {
		if (!all_zero(&rc, sizeof(rc)))
			abort(); /* a failed parse must leave *out zeroed */
		return 0;
	}
	if (tr != 0 || type != BATON_OBJ_RECEIPT)
		abort();
	touch(rc.packet_id, sizeof(rc.packet_id));
	touch(rc.packet_hash, sizeof(rc.packet_hash));
	touch(rc.receiver, sizeof(rc.receiver));
	if (baton_reason_name(rc.reason) == NULL)
		abort();
	sink += (size_t)baton_reason_retryable(rc.reason);
	sink += (size_t)rc.time;
	touch_str(rc.note, sizeof(rc.note));
	return 0;
}

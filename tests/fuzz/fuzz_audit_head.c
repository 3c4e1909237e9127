/*
 * libFuzzer harness for baton_audit_head_parse, the signed head of a school's
 * audit log that travels in receipts and packet bodies. A parsed head cannot
 * be re-encoded without the school's secret key, so a successful parse reads
 * every output field (for ASan/UBSan) and checks what objects.h promises: the
 * envelope type, a head covering at least one entry, and *out zeroed on
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
	baton_audit_head h;
	int type = 0, tr;

	tr = baton_object_type(data, size, &type);
	memset(&h, 0xa5, sizeof(h));
	if (baton_audit_head_parse(data, size, &h) != 0) {
		if (!all_zero(&h, sizeof(h)))
			abort(); /* a failed parse must leave *out zeroed */
		return 0;
	}
	if (tr != 0 || type != BATON_OBJ_AUDIT_HEAD || h.count == 0)
		abort();
	touch(h.head, sizeof(h.head));
	touch(h.key, sizeof(h.key));
	sink += (size_t)h.count + (size_t)h.time;
	return 0;
}

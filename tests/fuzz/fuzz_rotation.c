/*
 * libFuzzer harness for baton_rotation_parse and baton_object_type. A parsed
 * statement cannot be re-encoded without the old key's secret half, so a
 * successful parse only reads every output field (for ASan/UBSan) and
 * checks what objects.h and the format promise: a NUL-terminated code of
 * 1..32 bytes from the code alphabet, two different keys, the envelope
 * type, and *out zeroed on failure.
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
	baton_rotation rt;
	int type = 0, tr;

	tr = baton_object_type(data, size, &type);
	memset(&rt, 0xa5, sizeof(rt));
	if (baton_rotation_parse(data, size, &rt) != 0) {
		if (!all_zero(&rt, sizeof(rt)))
			abort(); /* a failed parse must leave *out zeroed */
		return 0;
	}
	if (tr != 0 || type != BATON_OBJ_ROTATION)
		abort();
	touch_str(rt.code, sizeof(rt.code));
	size_t n = strlen(rt.code);
	if (n < 1 || n > BATON_CODE_MAX ||
	    strspn(rt.code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
	        n)
		abort();
	if (memcmp(rt.old_pk, rt.new_pk, sizeof(rt.old_pk)) == 0)
		abort(); /* a statement that moves a key to itself is EVALUE */
	touch(rt.old_pk, sizeof(rt.old_pk));
	touch(rt.new_pk, sizeof(rt.new_pk));
	sink += (size_t)rt.time;
	return 0;
}

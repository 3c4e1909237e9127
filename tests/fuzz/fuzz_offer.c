/*
 * libFuzzer harness for the directory offer and update frames
 * (proto/frame.c). The input is tried as both. An offer that decodes holds
 * at most 64 entries in ascending key order and encodes back to exactly
 * the input; an update names a school code of 1 to 32 bytes, carries a
 * directory of at least one byte inside the input, within one message, and
 * encodes back to exactly the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>

#include "frame.h"
#include "fuzz.h"

FUZZ_INIT_SODIUM

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_offer e[FRAME_OFFER_MAX];
	char code[BATON_CODE_MAX + 1];
	const uint8_t *dir;
	size_t k, n;
	uint8_t *out;

	if (bti_frame_offer_decode(data, size, e, &k) == 0) {
		if (k > FRAME_OFFER_MAX || bti_frame_offer_len(k) != size)
			abort();
		for (size_t i = 1; i < k; i++)
			if (memcmp(e[i - 1].authority, e[i].authority, BATON_PK_BYTES) >= 0)
				abort(); /* keys out of order */
		if ((out = malloc(size)) == NULL || bti_frame_offer_put(out, e, k) != 0 ||
		    memcmp(out, data, size) != 0)
			abort(); /* decoded, it encodes back to the same bytes */
		free(out);
	}
	if (bti_frame_update_decode(data, size, code, &dir, &n) == 0) {
		if (strlen(code) < 1 || strlen(code) > BATON_CODE_MAX || n < 1 ||
		    size > FRAME_UPDATE_MAX || dir < data + 8 || dir + n != data + size)
			abort();
		touch(dir, n);
		if ((out = malloc(size)) == NULL || bti_frame_update_put(out, code, dir, n) != 0 ||
		    memcmp(out, data, size) != 0)
			abort();
		free(out);
	}
	return 0;
}

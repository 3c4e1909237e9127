/*
 * libFuzzer harness for the batch frame and its reply (proto/frame.c). The
 * input is tried as both. One that decodes must hold what frame.h
 * promises: 1 to 64 items inside the input, none empty in a batch, no
 * receipt over its limit, and an encoding back to exactly the input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>

#include "frame.h"
#include "fuzz.h"

FUZZ_INIT_SODIUM

static void round_trip(const uint8_t *data, size_t size, int reply)
{
	struct frame_item it[FRAME_BATCH_MAX];
	uint8_t *out;
	size_t k;

	if ((reply ? bti_frame_reply_decode(data, size, it, &k)
	           : bti_frame_batch_decode(data, size, it, &k)) != 0)
		return;
	if (k == 0 || k > FRAME_BATCH_MAX)
		abort();
	for (size_t i = 0; i < k; i++) {
		if (it[i].n == 0 && !reply)
			abort(); /* an empty packet */
		if (it[i].n &&
		    (it[i].p < data + FRAME_BATCH_HEAD || it[i].p + it[i].n > data + size))
			abort(); /* an item outside the input */
		if (reply && it[i].n > FRAME_RECEIPT_MAX)
			abort();
		touch(it[i].p, it[i].n);
	}
	if (bti_frame_batch_len(it, k) != size || (out = malloc(size)) == NULL)
		abort();
	if ((reply ? bti_frame_reply_put(out, it, k) : bti_frame_batch_put(out, it, k)) != 0 ||
	    memcmp(out, data, size) != 0)
		abort(); /* decoded, it encodes back to the same bytes */
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	round_trip(data, size, 0);
	round_trip(data, size, 1);
	return 0;
}

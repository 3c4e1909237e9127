/*
 * libFuzzer harness for the chunk frame codec (proto/frame.c): decoding,
 * the admission's checks, and acknowledgements. A decoded frame must hold
 * what frame.h promises: data inside the input and exactly the bytes the
 * layout puts at its offset, a head that encodes back to the input's, and
 * an admission only on a first chunk.
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
	static const uint8_t me[BATON_PK_BYTES] = {1};
	struct frame_chunk f;
	baton_header h;
	uint8_t head[FRAME_HEAD], ack[FRAME_ACK_LEN];
	uint64_t have;

	if (size >= BATON_ID_BYTES && bti_frame_ack_decode(data, size, data + 8, &have) == 0) {
		bti_frame_ack_put(ack, data + 8, have);
		if (memcmp(ack, data, FRAME_ACK_LEN) != 0)
			abort();
	}
	if (bti_frame_chunk_decode(data, size, &f) != 0)
		return 0;
	bti_frame_chunk_head(head, f.id, f.total, f.off);
	if (memcmp(head, data, FRAME_HEAD) != 0)
		abort(); /* the head encodes back to the same bytes */
	if (f.n && (f.data < data || f.data + f.n != data + size))
		abort(); /* the data is the rest of the input */
	if (f.n && f.n != bti_frame_chunk_bytes(f.total, f.off))
		abort(); /* and exactly what the layout says */
	if (f.admit != (f.off == 0 && f.n > 0))
		abort();
	touch(f.data, f.n);
	if (!f.admit)
		return 0;
	sink += (size_t)f.time;
	if (bti_frame_admit_verify(&f, me, f.time, 300, &h) == 0)
		abort(); /* nothing here is addressed to me */
	(void)bti_frame_admit_verify(&f, NULL, f.time, 300, &h);
	touch(&h, sizeof(h));
	return 0;
}

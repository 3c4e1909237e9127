/*
 * libFuzzer harness for packet bodies, the plaintext inside the AEAD that
 * the packet harness cannot reach without valid signatures. The first byte
 * picks the kind (odd: request, even: transfer); the rest is decoded with
 * the receiver's rules. A body that decodes must encode back to the very
 * same bytes: the encoding is canonical.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>

#include "fuzz.h"
#include "proto_impl.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (baton_init() != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	baton_body b;
	uint8_t *again = NULL;
	size_t len = 0;
	int kind;

	if (size < 1)
		return 0;
	kind = (data[0] & 1) ? BATON_KIND_REQUEST : BATON_KIND_TRANSFER;
	if (bti_packet_body_decode(data + 1, size - 1, kind, &b) != 0)
		return 0;
	touch_str(b.student, sizeof(b.student));
	touch_str(b.note, sizeof(b.note));
	touch(b.consent, b.consent_len);
	for (int s = 0; s < BATON_SEC_COUNT; s++)
		if (b.section[s])
			touch(b.section[s], b.section_len[s]);
	if (bti_packet_body_encode(&b, kind, &again, &len) != 0 || len != size - 1 ||
	    memcmp(again, data + 1, len) != 0)
		abort(); /* decoded, but not canonical: two encodings of one body */
	free(again);
	bti_packet_body_free(&b);
	return 0;
}

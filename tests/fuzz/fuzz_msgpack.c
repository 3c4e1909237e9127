/*
 * libFuzzer harness for the canonical msgpack codec: whatever the bounded
 * pre-walk (bti_mp_walk) accepts, msgpack-c's unpacker must decode completely,
 * so bti_mp_decode must return 0 for it. A disagreement aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <msgpack.h>

#include <baton/baton.h>

#include "fuzz.h"

#include "proto_impl.h"

FUZZ_INIT_SODIUM

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	msgpack_zone z;
	msgpack_object obj;
	int r;

	if (bti_mp_walk(data, size, &bti_dec_default_limits) != 0)
		return 0;
	if (!msgpack_zone_init(&z, 2048))
		abort();
	r = bti_mp_decode(data, size, &bti_dec_default_limits, &z, &obj);
	if (r != 0) {
		fprintf(stderr,
		        "bti_mp_walk accepted the input but bti_mp_decode returned %s: %s\n",
		        baton_errname(r), baton_diag());
		abort();
	}
	msgpack_zone_destroy(&z);
	return 0;
}

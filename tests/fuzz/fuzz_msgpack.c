/*
 * libFuzzer harness for the canonical msgpack codec: whatever the bounded
 * pre-walk (mp_walk) accepts, msgpack-c's unpacker must decode completely,
 * so mp_decode must return 0 for it. A disagreement aborts.
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

	if (mp_walk(data, size, &dec_default_limits) != 0)
		return 0;
	if (!msgpack_zone_init(&z, 2048))
		abort();
	r = mp_decode(data, size, &dec_default_limits, &z, &obj);
	if (r != 0) {
		fprintf(stderr, "mp_walk accepted the input but mp_decode returned %s: %s\n",
		        baton_errname(r), baton_diag());
		abort();
	}
	msgpack_zone_destroy(&z);
	return 0;
}

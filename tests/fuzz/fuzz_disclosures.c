/*
 * libFuzzer harness for baton_disclosures_parse, the signed copy of a
 * student's record of disclosures (PROTOCOL.md 3.13), read from a file a
 * family brings. A parsed copy cannot be re-signed without the school's
 * secret key, so a successful parse reads every output field (for
 * ASan/UBSan) and checks what disclosures.h promises: entries in log order,
 * within the signed head, the head signed by the copy's school; and *out
 * empty on failure. The seed is a valid copy (tests/fuzz/seeds).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>
#include <baton/disclosures.h>

#include "fuzz.h"

FUZZ_INIT_SODIUM

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	baton_disclosures d;

	memset(&d, 0xa5, sizeof(d));
	if (baton_disclosures_parse(data, size, &d) != 0) {
		if (!all_zero(&d, sizeof(d)))
			abort(); /* a failed parse must leave *out empty */
		return 0;
	}
	if (memcmp(d.head.key, d.school, sizeof(d.school)) != 0 || d.audit_len == 0 ||
	    d.count > BATON_DISCLOSURES_MAX_ENTRIES || (d.count > 0 && d.entry == NULL))
		abort();
	touch(d.audit, d.audit_len);
	touch(d.code, strlen(d.code));
	touch(d.name, strlen(d.name));
	touch(d.student, strlen(d.student));
	for (size_t i = 0; i < d.count; i++) {
		const baton_disclosure *x = &d.entry[i];
		if (x->seq == 0 || x->seq > d.head.count ||
		    (i > 0 && x->seq <= d.entry[i - 1].seq) || x->sections == 0 ||
		    (x->has_packet_hash && !x->has_packet))
			abort();
		touch(x, sizeof(*x));
		sink += strlen(x->basis) + strlen(x->receipt) + strlen(x->to_code);
	}
	baton_disclosures_free(&d);
	return 0;
}

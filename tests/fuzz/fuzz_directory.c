/*
 * libFuzzer harness for baton_directory_parse, the directory an authority
 * signs (PROTOCOL.md 3.14), read from a file any node may be handed. A
 * parsed directory cannot be re-signed without the authority's secret key,
 * so a successful parse reads every output field (for ASan/UBSan) and
 * checks what objects.h promises: members in strict code order, each card
 * inside the input and verifying again on its own, withdrawn keys strictly
 * ascending, no member withdrawn, expires after issued, version at least 1;
 * and *out empty on failure. Seeded with the `directory` vectors.
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
	baton_directory d;

	memset(&d, 0xa5, sizeof(d));
	if (baton_directory_parse(data, size, &d) != 0) {
		if (!all_zero(&d, sizeof(d)))
			abort(); /* a failed parse must leave *out empty */
		return 0;
	}
	if (d.version == 0 || d.expires <= d.issued || d.n_members > BATON_DIRECTORY_MEMBERS_MAX ||
	    d.n_withdrawn > BATON_DIRECTORY_MEMBERS_MAX ||
	    (d.n_members > 0) != (d.members != NULL) ||
	    (d.n_withdrawn > 0) != (d.withdrawn != NULL))
		abort();
	touch_str(d.name, sizeof(d.name));
	touch(d.authority, sizeof(d.authority));
	touch(d.hash, sizeof(d.hash));
	for (size_t i = 0; i < d.n_withdrawn; i++) {
		touch(d.withdrawn + 32 * i, 32);
		if (i > 0 && memcmp(d.withdrawn + 32 * (i - 1), d.withdrawn + 32 * i, 32) >= 0)
			abort();
	}
	for (size_t i = 0; i < d.n_members; i++) {
		const baton_directory_member *m = &d.members[i];
		baton_card c;
		if (m->card < data || m->card_len > size || m->card > data + size - m->card_len)
			abort();
		if (baton_card_parse(m->card, m->card_len, &c) != 0 ||
		    memcmp(&c, &m->parsed, sizeof(c)) != 0)
			abort();
		if (i > 0 && strcmp(d.members[i - 1].parsed.code, m->parsed.code) >= 0)
			abort();
		for (size_t k = 0; k < d.n_withdrawn; k++)
			if (memcmp(d.withdrawn + 32 * k, m->parsed.id_pk, 32) == 0)
				abort();
		touch_str(m->parsed.code, sizeof(m->parsed.code));
		touch_str(m->parsed.name, sizeof(m->parsed.name));
	}
	baton_directory_free(&d);
	return 0;
}

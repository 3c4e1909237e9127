/*
 * libFuzzer harness for baton_revocation_parse and baton_object_type. A
 * parsed revocation cannot be re-encoded without the signer's secret key,
 * so a successful parse only reads every output field (for ASan/UBSan) and
 * checks the envelope type, and a failed one that *out was left zeroed.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void touch(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc += b[i];
	sink += acc;
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

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
	baton_revocation rv;
	int type = 0, tr;

	tr = baton_object_type(data, size, &type);
	memset(&rv, 0xa5, sizeof(rv));
	if (baton_revocation_parse(data, size, &rv) != 0) {
		if (!all_zero(&rv, sizeof(rv)))
			abort(); /* a failed parse must leave *out zeroed */
		return 0;
	}
	if (tr != 0 || type != BATON_OBJ_REVOCATION)
		abort();
	touch(rv.consent_id, sizeof(rv.consent_id));
	touch(rv.signer, sizeof(rv.signer));
	sink += (size_t)rv.time;
	return 0;
}

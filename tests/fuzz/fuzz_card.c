/*
 * libFuzzer harness for baton_card_parse and baton_object_type. A parsed
 * card cannot be re-encoded without the school's secret key, so a
 * successful parse only reads every output field (for ASan/UBSan) and
 * checks what objects.h promises: strings NUL-terminated within their
 * fields, 1..BATON_MAX_ENDPOINTS endpoints, the envelope type, and *out
 * zeroed on failure.
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

static void touch_str(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		abort(); /* not NUL-terminated inside its field */
	touch(s, n);
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
	baton_card c;
	int type = 0, tr;

	tr = baton_object_type(data, size, &type);
	memset(&c, 0xa5, sizeof(c));
	if (baton_card_parse(data, size, &c) != 0) {
		if (!all_zero(&c, sizeof(c)))
			abort(); /* a failed parse must leave *out zeroed */
		return 0;
	}
	if (tr != 0 || type != BATON_OBJ_CARD)
		abort();
	touch_str(c.name, sizeof(c.name));
	touch_str(c.code, sizeof(c.code));
	touch(c.id_pk, sizeof(c.id_pk));
	touch(c.enc_pk, sizeof(c.enc_pk));
	if (c.n_endpoints < 1 || c.n_endpoints > BATON_MAX_ENDPOINTS)
		abort();
	for (size_t i = 0; i < c.n_endpoints; i++)
		touch_str(c.endpoints[i], sizeof(c.endpoints[i]));
	sink += (size_t)(c.valid_from ^ c.valid_until);
	return 0;
}

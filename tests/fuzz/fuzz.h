/*
 * Shared by the libFuzzer harnesses: the entry points, and helpers that read
 * every byte of a parsed object (so ASan and UBSan see it) and check the
 * promises of objects.h.
 */
#ifndef BATON_FUZZ_H
#define BATON_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static inline void touch(const void *p, size_t n)
{
	const uint8_t *b = p;
	size_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc += b[i];
	sink += acc;
}

/* Aborts unless s is NUL-terminated inside its cap-byte field. */
static inline void touch_str(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		abort();
	touch(s, n);
}

static inline int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/* The LLVMFuzzerInitialize of harnesses that need only libsodium started. */
#define FUZZ_INIT_SODIUM                                                                           \
	int LLVMFuzzerInitialize(int *argc, char ***argv)                                          \
	{                                                                                          \
		(void)argc;                                                                        \
		(void)argv;                                                                        \
		if (baton_init() != 0)                                                             \
			abort();                                                                   \
		return 0;                                                                          \
	}

#endif

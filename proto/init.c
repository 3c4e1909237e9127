/* Library start-up. */
#include <sodium.h>

#include <baton/baton.h>

/* The build writes version.h (release and git describe) beside its objects. */
#if defined(__has_include) && __has_include("version.h")
#include "version.h"
#endif
#ifndef BATON_VERSION
#define BATON_VERSION "0.0.0"
#endif

int baton_init(void)
{
	return sodium_init() < 0 ? BATON_EINTERNAL : 0;
}

const char *baton_version(void)
{
	return BATON_VERSION;
}

/*
 * libbaton: everything a student information system needs to send and
 * receive Baton transfers. Include this one header.
 *
 * Call sodium_init() (or baton_init()) once before any other function.
 */
#ifndef BATON_BATON_H
#define BATON_BATON_H

#include <baton/error.h>
#include <baton/keys.h>
#include <baton/objects.h>
#include <baton/packet.h>
#include <baton/record.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Initialises libsodium; 0 on success, BATON_EINTERNAL if it cannot start. */
int baton_init(void);

/* The library version, "MAJOR.MINOR.PATCH", static. Cannot fail. */
const char *baton_version(void);

#ifdef __cplusplus
}
#endif
#endif

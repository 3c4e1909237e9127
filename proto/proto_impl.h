/*
 * Private to proto/: the audit head inside other objects, and the packet
 * body codec on its own. What other directories may use is in bti.h.
 */
#ifndef BATON_PROTO_IMPL_H
#define BATON_PROTO_IMPL_H

#include <msgpack.h>

#include <baton/error.h>
#include <baton/objects.h>
#include <baton/packet.h>
#include <baton/record.h>

#include "bti.h"

/* A signed audit head inside another object (objects.c). */
int bti_audit_field(const msgpack_object *v, const char *what, const uint8_t **p, size_t *len,
                    baton_audit_head *h);

/*
 * A packet body's codec on its own, without the encryption around it (for
 * the fuzz harness). Decoded pointers point into p; bti_packet_body_free frees
 * what decoding allocated.
 */
struct baton_body;
int bti_packet_body_decode(const uint8_t *p, size_t len, int kind, struct baton_body *b);
void bti_packet_body_free(struct baton_body *b);
int bti_packet_body_encode(const struct baton_body *b, int kind, uint8_t **out, size_t *len);

#endif

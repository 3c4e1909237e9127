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

/*
 * The envelope of every signed object (objects.c), for the objects defined
 * in their own files: bti_object_sign encodes obj with enc, decodes it again
 * with dec into scratch, signs it with sk (whose public half must be pk) and
 * wraps it (as baton_card_sign); bti_object_parse decodes an envelope of
 * type, its body with dec into out, and verifies the signature against the
 * key at signer_field, which dec fills (as baton_card_parse; out is zeroed
 * on error).
 */
int bti_object_sign(int type, enc_fn enc, int (*dec)(const msgpack_object *, void *),
                    const void *obj, void *scratch, const uint8_t pk[BATON_PK_BYTES],
                    const uint8_t sk[BATON_SK_BYTES], uint8_t **out, size_t *outlen);
int bti_object_parse(const uint8_t *buf, size_t len, int type,
                     int (*dec)(const msgpack_object *, void *), void *out, size_t outsize,
                     const uint8_t *signer_field, const char *what);

/*
 * The envelope's parts, for an object with limits of its own (a directory,
 * PROTOCOL.md 3.14). bti_envelope_open decodes an envelope of type within
 * lim (whose max_len also bounds the body bin): body and sig point into
 * buf. bti_envelope_verify checks sig over the signature message of type
 * and body against pk: 0 or BATON_EBADSIG naming what. bti_envelope_seal
 * signs body (the caller's, already checked) with sk and wraps it: *out,
 * freed with free(), and *outlen on success. Each returns 0 or a BATON_E*
 * code (BATON_ENOMEM).
 */
int bti_envelope_open(const uint8_t *buf, size_t len, int type, const struct dec_limits *lim,
                      const uint8_t **body, size_t *body_len, const uint8_t **sig);
int bti_envelope_verify(int type, const uint8_t *body, size_t len, const uint8_t *sig,
                        const uint8_t pk[BATON_PK_BYTES], const char *what);
int bti_envelope_seal(int type, const uint8_t *body, size_t len, const uint8_t sk[BATON_SK_BYTES],
                      uint8_t **out, size_t *outlen);

#endif

/*
 * Private to libbaton's proto/ and keys/: the canonical msgpack codec, the
 * schema helpers that read decoded objects, and error diagnostics.
 */
#ifndef BATON_PROTO_IMPL_H
#define BATON_PROTO_IMPL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include <baton/error.h>
#include <baton/objects.h>
#include <baton/packet.h>
#include <baton/record.h>

/* Records what a failure was looking at; see baton_diag(). */
void diag_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void diag_clear(void);
/* Sets the diagnostic and returns err, for `return diag_err(E, ...)`. */
int diag_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Canonical encoder. With buf == NULL it only counts, so encoding runs twice:
 * once to size the output exactly, once to write it. Errors stick in err.
 */
struct enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;
};
void enc_init(struct enc *e, uint8_t *buf, size_t cap);
/* One raw byte: only for building deliberately malformed test inputs. */
void enc_byte(struct enc *e, uint8_t b);
void enc_uint(struct enc *e, uint64_t v);
void enc_bool(struct enc *e, int v);
void enc_str(struct enc *e, const char *s);
void enc_strn(struct enc *e, const char *s, size_t n);
void enc_bin(struct enc *e, const void *p, size_t n);
void enc_array(struct enc *e, uint32_t n);
void enc_map(struct enc *e, uint32_t n);
void enc_sections(struct enc *e, uint32_t mask);

typedef void (*enc_fn)(struct enc *e, const void *obj);
/* Encodes obj with fn into a malloc'd buffer of exactly the right size. */
int enc_alloc(enc_fn fn, const void *obj, uint8_t **out, size_t *outlen);

/* Bounds for one strict decode. */
struct dec_limits {
	size_t max_len;     /* input bytes */
	unsigned max_depth; /* nested containers */
	size_t max_objects; /* items of any type, containers included */
};
#define DEC_MAX_DEPTH 8
extern const struct dec_limits dec_default_limits;

/*
 * The bounded pre-walk: checks every rule of the canonical encoding over the
 * raw bytes, allocating nothing. 0 or a BATON_E* code with a diagnostic.
 */
int mp_walk(const uint8_t *p, size_t len, const struct dec_limits *lim);

/*
 * mp_walk, then msgpack-c's unpacker into zone z (which the caller has
 * initialised and destroys). Strings and bins in *obj point into p.
 */
int mp_decode(const uint8_t *p, size_t len, const struct dec_limits *lim, msgpack_zone *z,
              msgpack_object *obj);

/*
 * Schema helpers. what names the object for diagnostics ("consent").
 * mp_fields matches a map's keys against keys[]: vals[i] is the value of
 * keys[i] or NULL when absent; a key not in keys[] is BATON_EUNKNOWN.
 */
/* A signed audit head inside another object (objects.c). */
int audit_field(const msgpack_object *v, const char *what, const uint8_t **p, size_t *len,
                baton_audit_head *h);
int mp_fields(const msgpack_object *map, const char *what, const char *const *keys, size_t nkeys,
              const msgpack_object **vals);
int mp_need(const msgpack_object *v, const char *what, const char *field);
int mp_uint(const msgpack_object *v, const char *what, const char *field, uint64_t *out);
int mp_bool(const msgpack_object *v, const char *what, const char *field, int *out);
int mp_bin(const msgpack_object *v, const char *what, const char *field, size_t min, size_t max,
           const uint8_t **p, size_t *n);
int mp_fixbin(const msgpack_object *v, const char *what, const char *field, uint8_t *out, size_t n);
/* Copies a string of min..cap-1 bytes into out (NUL-terminated). */
int mp_str(const msgpack_object *v, const char *what, const char *field, size_t min, char *out,
           size_t cap);
int mp_array(const msgpack_object *v, const char *what, const char *field, size_t min, size_t max);
/* A non-empty array of distinct section names in ascending order. */
int mp_sections(const msgpack_object *v, const char *what, const char *field, uint32_t *mask);

/* Value checks shared by the formats. */
int check_code(const char *what, const char *field, const char *s);
int check_text(const char *what, const char *field, const char *s); /* no control chars */
int check_ed25519_pk(const char *what, const char *field, const uint8_t pk[BATON_PK_BYTES]);
int check_x25519_pk(const char *what, const char *field, const uint8_t pk[BATON_PK_BYTES]);
int utf8_valid(const uint8_t *p, size_t n);

/*
 * A packet body's codec on its own, without the encryption around it (for
 * the fuzz harness). Decoded pointers point into p; packet_body_free frees
 * what decoding allocated.
 */
struct baton_body;
int packet_body_decode(const uint8_t *p, size_t len, int kind, struct baton_body *b);
void packet_body_free(struct baton_body *b);
int packet_body_encode(const struct baton_body *b, int kind, uint8_t **out, size_t *len);

/* Big-endian integers in keys and file headers. */
static inline void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Reads the whole regular file open at fd (path only names it in errors). */
int file_read_fd(int fd, const char *path, size_t max, uint8_t **out, size_t *outlen);

/* Hex of n bytes into out (2n+1 bytes), for diagnostics. */
void hex_encode(const uint8_t *p, size_t n, char *out);

#endif

/*
 * What libbaton shares between its own directories (proto/, keys/) and with
 * the node built on it: the canonical msgpack codec the store also writes
 * its tables in, error diagnostics, and small byte helpers. Every function
 * here is bti_-prefixed; nothing here is installed. Return values follow
 * <baton/error.h>.
 */
#ifndef BATON_BTI_H
#define BATON_BTI_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include <baton/error.h>
#include <baton/objects.h>

/* Records what a failure was looking at; see baton_diag(). */
void bti_diag_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bti_diag_clear(void);
/* Sets the diagnostic and returns err, for `return bti_diag_err(E, ...)`. */
int bti_diag_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
void bti_enc_init(struct enc *e, uint8_t *buf, size_t cap);
/* One raw byte: only for building deliberately malformed test inputs. */
void bti_enc_byte(struct enc *e, uint8_t b);
void bti_enc_uint(struct enc *e, uint64_t v);
void bti_enc_bool(struct enc *e, int v);
void bti_enc_str(struct enc *e, const char *s);
void bti_enc_strn(struct enc *e, const char *s, size_t n);
void bti_enc_bin(struct enc *e, const void *p, size_t n);
void bti_enc_array(struct enc *e, uint32_t n);
void bti_enc_map(struct enc *e, uint32_t n);
void bti_enc_sections(struct enc *e, uint32_t mask);

typedef void (*enc_fn)(struct enc *e, const void *obj);
/* Encodes obj with fn into a malloc'd buffer of exactly the right size. */
int bti_enc_alloc(enc_fn fn, const void *obj, uint8_t **out, size_t *outlen);

/* Bounds for one strict decode. */
struct dec_limits {
	size_t max_len;     /* input bytes */
	unsigned max_depth; /* nested containers */
	size_t max_objects; /* items of any type, containers included */
};
#define DEC_MAX_DEPTH 8
extern const struct dec_limits bti_dec_default_limits;

/*
 * The bounded pre-walk: checks every rule of the canonical encoding over the
 * raw bytes, allocating nothing. 0 or a BATON_E* code with a diagnostic.
 */
int bti_mp_walk(const uint8_t *p, size_t len, const struct dec_limits *lim);

/*
 * bti_mp_walk, then msgpack-c's unpacker into zone z (which the caller has
 * initialised and destroys). Strings and bins in *obj point into p.
 */
int bti_mp_decode(const uint8_t *p, size_t len, const struct dec_limits *lim, msgpack_zone *z,
                  msgpack_object *obj);

/*
 * Schema helpers. what names the object for diagnostics ("consent").
 * bti_mp_fields matches a map's keys against keys[]: vals[i] is the value of
 * keys[i] or NULL when absent; a key not in keys[] is BATON_EUNKNOWN.
 */
int bti_mp_fields(const msgpack_object *map, const char *what, const char *const *keys,
                  size_t nkeys, const msgpack_object **vals);
int bti_mp_need(const msgpack_object *v, const char *what, const char *field);
int bti_mp_uint(const msgpack_object *v, const char *what, const char *field, uint64_t *out);
int bti_mp_bool(const msgpack_object *v, const char *what, const char *field, int *out);
int bti_mp_bin(const msgpack_object *v, const char *what, const char *field, size_t min, size_t max,
               const uint8_t **p, size_t *n);
int bti_mp_fixbin(const msgpack_object *v, const char *what, const char *field, uint8_t *out,
                  size_t n);
/* Copies a string of min..cap-1 bytes into out (NUL-terminated). */
int bti_mp_str(const msgpack_object *v, const char *what, const char *field, size_t min, char *out,
               size_t cap);
int bti_mp_array(const msgpack_object *v, const char *what, const char *field, size_t min,
                 size_t max);
/* A non-empty array of distinct section names in ascending order. */
int bti_mp_sections(const msgpack_object *v, const char *what, const char *field, uint32_t *mask);

/* Value checks shared by the formats and key files. */
int bti_check_code(const char *what, const char *field, const char *s);
int bti_check_text(const char *what, const char *field, const char *s); /* no control chars */
int bti_check_ed25519_pk(const char *what, const char *field, const uint8_t pk[BATON_PK_BYTES]);
int bti_check_x25519_pk(const char *what, const char *field, const uint8_t pk[BATON_PK_BYTES]);

/* 1 when p[0..n) is well-formed UTF-8 with no NUL, overlong form or surrogate, else 0. */
int bti_utf8_valid(const uint8_t *p, size_t n);

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
int bti_file_read_fd(int fd, const char *path, size_t max, uint8_t **out, size_t *outlen);

/* Hex of n bytes into out (2n+1 bytes), for diagnostics. */
void bti_hex_encode(const uint8_t *p, size_t n, char *out);

#endif

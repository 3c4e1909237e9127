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

/*
 * Records, for this thread, what a failure was looking at (see
 * baton_diag()), for whatever error is returned next. Cannot fail (a
 * long message is cut).
 */
void bti_diag_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Forgets this thread's diagnostic. */
void bti_diag_clear(void);
/*
 * Records the diagnostic for err and returns err, for
 * `return bti_diag_err(E, ...)`: the message is shown only for that code.
 */
int bti_diag_err(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Canonical encoder. Encoding runs twice where the size is not known: once
 * with an encoder made by bti_enc_init_count(), which only counts, to size
 * the output exactly, and once with bti_enc_init() to write it. The bti_enc_*
 * writers return nothing: the first error sticks in err (BATON_ETOOBIG when
 * the length overflows or a str or bin is over 2^32-1 bytes, BATON_EINTERNAL
 * when buf is too small) and every later write is skipped; len is the bytes
 * written (or counted) so far.
 */
struct enc {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;
	int count_only; /* set by bti_enc_init_count(): nothing is written */
};
/*
 * An encoder writing into buf (cap bytes, owned by the caller, which it must
 * outlive). buf must not be NULL: counting is bti_enc_init_count().
 */
void bti_enc_init(struct enc *e, uint8_t *buf, size_t cap);
/* An encoder that writes nothing and only counts, in len, the bytes it would write. */
void bti_enc_init_count(struct enc *e);
/* One raw byte: only for building deliberately malformed test inputs. */
void bti_enc_byte(struct enc *e, uint8_t b);
/*
 * The canonical forms, each in its shortest encoding. Strings are written as
 * given (s NUL-terminated, or n bytes): checking them is the caller's.
 * bti_enc_array and bti_enc_map write the header for n items (a map: n
 * key-value pairs, keys in ascending order by the caller).
 * bti_enc_sections writes the section names of mask as an ascending array.
 */
void bti_enc_uint(struct enc *e, uint64_t v);
void bti_enc_bool(struct enc *e, int v);
void bti_enc_str(struct enc *e, const char *s);
void bti_enc_strn(struct enc *e, const char *s, size_t n);
void bti_enc_bin(struct enc *e, const void *p, size_t n);
void bti_enc_array(struct enc *e, uint32_t n);
void bti_enc_map(struct enc *e, uint32_t n);
void bti_enc_sections(struct enc *e, uint32_t mask);

typedef void (*enc_fn)(struct enc *e, const void *obj);
/*
 * Encodes obj with fn into a buffer of exactly the right size, counting
 * first. *out (the caller frees it with free()) and *outlen are set on
 * success, NULL and 0 otherwise. Returns 0, fn's sticky error,
 * BATON_ENOMEM, or BATON_EINTERNAL when fn wrote other bytes the second time.
 */
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
 * raw bytes p[0..len) (owned by the caller), within lim, allocating nothing.
 * Returns 0, or the encoding error (BATON_ETRUNC, BATON_ELENGTH,
 * BATON_ETRAILING, BATON_EDEPTH, BATON_ETOOBIG, BATON_EDUPKEY,
 * BATON_ENONCANON, BATON_ETYPE, BATON_EUTF8) with a diagnostic.
 */
int bti_mp_walk(const uint8_t *p, size_t len, const struct dec_limits *lim);

/*
 * bti_mp_walk, then msgpack-c's unpacker into zone z (which the caller has
 * initialised and destroys). Strings and bins in *obj point into p, which
 * must outlive *obj. Returns 0, bti_mp_walk's error, BATON_ENOMEM, or
 * BATON_EINTERNAL when the unpacker disagrees with the walk.
 */
int bti_mp_decode(const uint8_t *p, size_t len, const struct dec_limits *lim, msgpack_zone *z,
                  msgpack_object *obj);

/*
 * Schema helpers over a decoded object. what and field name the object and
 * the field in diagnostics ("consent", "expires"); v is NULL when the field
 * is absent. Everything is owned by the caller; nothing is allocated.
 *
 * bti_mp_fields matches a map's keys against keys[0..nkeys): vals[i] gets
 * the value of keys[i], or NULL when absent. Returns 0, BATON_ETYPE (not a
 * map, or a key not a string), or BATON_EUNKNOWN for a key not in keys[].
 */
int bti_mp_fields(const msgpack_object *map, const char *what, const char *const *keys,
                  size_t nkeys, const msgpack_object **vals);
/* 0 when v is present, else BATON_EMISSING. */
int bti_mp_need(const msgpack_object *v, const char *what, const char *field);
/*
 * bti_mp_uint and bti_mp_bool read an unsigned integer or a boolean into
 * *out. Return 0, BATON_EMISSING, or BATON_ETYPE.
 */
int bti_mp_uint(const msgpack_object *v, const char *what, const char *field, uint64_t *out);
int bti_mp_bool(const msgpack_object *v, const char *what, const char *field, int *out);
/*
 * A bin of min..max bytes: *p points into the decoded input (valid as long
 * as it is), *n its length. Returns 0, BATON_EMISSING, BATON_ETYPE, or
 * BATON_EVALUE when the length is out of range.
 */
int bti_mp_bin(const msgpack_object *v, const char *what, const char *field, size_t min, size_t max,
               const uint8_t **p, size_t *n);
/* A bin of exactly n bytes, copied into out; the errors of bti_mp_bin. */
int bti_mp_fixbin(const msgpack_object *v, const char *what, const char *field, uint8_t *out,
                  size_t n);
/*
 * Copies a string of min..cap-1 bytes into out (cap bytes, NUL-terminated).
 * Returns 0, BATON_EMISSING, BATON_ETYPE, or BATON_EVALUE for its length.
 */
int bti_mp_str(const msgpack_object *v, const char *what, const char *field, size_t min, char *out,
               size_t cap);
/*
 * Checks v is an array of min..max items (read them from v->via.array).
 * Returns 0, BATON_EMISSING, BATON_ETYPE, or BATON_EVALUE for its size.
 */
int bti_mp_array(const msgpack_object *v, const char *what, const char *field, size_t min,
                 size_t max);
/*
 * A non-empty array of distinct section names in ascending order, as the
 * bits of *mask. Returns 0, bti_mp_array's errors, BATON_ETYPE for an item
 * not a string, BATON_EVALUE for an unknown or repeated name, or
 * BATON_ENONCANON for names out of order.
 */
int bti_mp_sections(const msgpack_object *v, const char *what, const char *field, uint32_t *mask);

/*
 * Value checks shared by the formats and key files; what and field name the
 * value in the diagnostic. Each returns 0 or an error: bti_check_code
 * BATON_EVALUE for a character other than letters, digits and . _ -;
 * bti_check_text BATON_EVALUE for a control character; the key checks
 * BATON_EBADKEY for a key that is not a valid (Ed25519: canonical, main
 * subgroup; X25519: not low-order) public key.
 */
int bti_check_code(const char *what, const char *field, const char *s);
int bti_check_text(const char *what, const char *field, const char *s);
int bti_check_ed25519_pk(const char *what, const char *field, const uint8_t pk[BATON_PK_BYTES]);
int bti_check_x25519_pk(const char *what, const char *field, const uint8_t pk[BATON_PK_BYTES]);

/* 1 when p[0..n) is well-formed UTF-8 with no NUL, overlong form or surrogate, else 0. */
int bti_utf8_valid(const uint8_t *p, size_t n);

/* Big-endian integers in keys and file headers; p is 4 or 8 bytes, owned by the caller. */
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

/*
 * Reads the whole regular file open at fd (path only names it in errors; fd
 * stays the caller's to close). *out gets the bytes plus a NUL not counted
 * in *outlen; the caller frees *out with free(). On error *out is NULL.
 * Returns 0, BATON_EIO (not a regular file, or a short read),
 * BATON_ETOOBIG when the file is over max bytes, or BATON_ENOMEM.
 */
int bti_file_read_fd(int fd, const char *path, size_t max, uint8_t **out, size_t *outlen);

/* Hex of n bytes into out (2n+1 bytes, owned by the caller), for diagnostics. Cannot fail. */
void bti_hex_encode(const uint8_t *p, size_t n, char *out);

#endif

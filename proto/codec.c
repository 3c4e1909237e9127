/*
 * Canonical msgpack: the encoder, the bounded pre-walk that guards
 * msgpack-c's unpacker, and the schema helpers that read decoded objects.
 *
 * The canonical form (proto/PROTOCOL.md, "Encoding"): only unsigned
 * integers, booleans, str, bin, array and map; every length and integer in
 * its shortest form; map keys are strings in strictly ascending bytewise
 * order; strings are UTF-8 without NUL; nothing after the top object.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "proto_impl.h"

const struct dec_limits bti_dec_default_limits = {
    .max_len = BATON_OBJ_MAX,
    .max_depth = DEC_MAX_DEPTH,
    .max_objects = 1024,
};

/* ---- encoder ---- */

void bti_enc_init(struct enc *e, uint8_t *buf, size_t cap)
{
	e->buf = buf;
	e->cap = cap;
	e->len = 0;
	e->err = 0;
	e->count_only = 0;
}

void bti_enc_init_count(struct enc *e)
{
	bti_enc_init(e, NULL, 0);
	e->count_only = 1;
}

static void enc_raw(struct enc *e, const void *p, size_t n)
{
	if (e->err)
		return;
	if (n > SIZE_MAX - e->len) {
		e->err = BATON_ETOOBIG;
		return;
	}
	if (!e->count_only) {
		if (e->len + n > e->cap) {
			e->err = BATON_EINTERNAL;
			return;
		}
		if (n > 0)
			memcpy(e->buf + e->len, p, n);
	}
	e->len += n;
}

void bti_enc_byte(struct enc *e, uint8_t b)
{
	enc_raw(e, &b, 1);
}

static void enc_be(struct enc *e, uint8_t type, uint64_t v, unsigned width)
{
	uint8_t b[9];
	b[0] = type;
	for (unsigned i = 0; i < width; i++)
		b[1 + i] = (uint8_t)(v >> (8 * (width - 1 - i)));
	enc_raw(e, b, 1 + width);
}

void bti_enc_uint(struct enc *e, uint64_t v)
{
	if (v < 0x80)
		enc_be(e, (uint8_t)v, 0, 0);
	else if (v <= 0xff)
		enc_be(e, 0xcc, v, 1);
	else if (v <= 0xffff)
		enc_be(e, 0xcd, v, 2);
	else if (v <= 0xffffffff)
		enc_be(e, 0xce, v, 4);
	else
		enc_be(e, 0xcf, v, 8);
}

void bti_enc_bool(struct enc *e, int v)
{
	enc_be(e, v ? 0xc3 : 0xc2, 0, 0);
}

void bti_enc_strn(struct enc *e, const char *s, size_t n)
{
	if (n < 32)
		enc_be(e, (uint8_t)(0xa0 | n), 0, 0);
	else if (n <= 0xff)
		enc_be(e, 0xd9, n, 1);
	else if (n <= 0xffff)
		enc_be(e, 0xda, n, 2);
	else if (n <= 0xffffffff)
		enc_be(e, 0xdb, n, 4);
	else
		e->err = BATON_ETOOBIG;
	enc_raw(e, s, n);
}

void bti_enc_str(struct enc *e, const char *s)
{
	bti_enc_strn(e, s, strlen(s));
}

void bti_enc_bin(struct enc *e, const void *p, size_t n)
{
	if (n <= 0xff)
		enc_be(e, 0xc4, n, 1);
	else if (n <= 0xffff)
		enc_be(e, 0xc5, n, 2);
	else if (n <= 0xffffffff)
		enc_be(e, 0xc6, n, 4);
	else
		e->err = BATON_ETOOBIG;
	enc_raw(e, p, n);
}

static void enc_container(struct enc *e, uint32_t n, uint8_t fix, uint8_t t16, uint8_t t32)
{
	if (n < 16)
		enc_be(e, (uint8_t)(fix | n), 0, 0);
	else if (n <= 0xffff)
		enc_be(e, t16, n, 2);
	else
		enc_be(e, t32, n, 4);
}

void bti_enc_array(struct enc *e, uint32_t n)
{
	enc_container(e, n, 0x90, 0xdc, 0xdd);
}

void bti_enc_map(struct enc *e, uint32_t n)
{
	enc_container(e, n, 0x80, 0xde, 0xdf);
}

void bti_enc_sections(struct enc *e, uint32_t mask)
{
	uint32_t n = 0;
	for (int s = 0; s < BATON_SEC_COUNT; s++)
		n += (mask >> s) & 1;
	bti_enc_array(e, n);
	for (int i = 0; i < BATON_SEC_COUNT; i++)
		if (mask & BATON_SEC_BIT(baton_section_nth(i)))
			bti_enc_str(e, baton_section_name(baton_section_nth(i)));
}

int bti_enc_alloc(enc_fn fn, const void *obj, uint8_t **out, size_t *outlen)
{
	struct enc e;
	uint8_t *buf;

	*out = NULL;
	*outlen = 0;
	bti_enc_init_count(&e);
	fn(&e, obj);
	if (e.err)
		return e.err;
	if ((buf = malloc(e.len ? e.len : 1)) == NULL)
		return BATON_ENOMEM;
	size_t need = e.len;
	bti_enc_init(&e, buf, need);
	fn(&e, obj);
	if (e.err || e.len != need) {
		sodium_memzero(buf, need);
		free(buf);
		return e.err ? e.err : BATON_EINTERNAL;
	}
	*out = buf;
	*outlen = need;
	return 0;
}

/* ---- UTF-8 ---- */

/* Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing past U+10FFFF, no NUL. */
int bti_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t need;
		uint32_t cp, min;
		if ((c & 0xe0) == 0xc0) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return 0;
		}
		if (n - i - 1 < need)
			return 0;
		for (size_t k = 1; k <= need; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += need + 1;
	}
	return 1;
}

/* ---- the pre-walk ---- */

struct frame {
	uint64_t remaining; /* items still to read; a map counts keys and values */
	int is_map;
	int want_key;
	const uint8_t *prev_key;
	size_t prev_key_len;
};

static uint64_t be(const uint8_t *p, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Reads a width-byte big-endian argument after the type byte. */
static int walk_arg(const uint8_t *p, size_t len, size_t *pos, unsigned width, uint64_t *v)
{
	if (len - *pos < width)
		return bti_diag_err(BATON_ETRUNC,
		                    "msgpack: input ends at byte %zu inside a %u-byte length", *pos,
		                    width);
	*v = be(p + *pos, width);
	*pos += width;
	return 0;
}

static int noncanon(size_t at, const char *what)
{
	return bti_diag_err(BATON_ENONCANON, "msgpack: byte %zu: %s not in its shortest form", at,
	                    what);
}

int bti_mp_walk(const uint8_t *p, size_t len, const struct dec_limits *lim)
{
	struct frame st[DEC_MAX_DEPTH + 1];
	size_t sp = 0, pos = 0, objects = 0;
	unsigned max_depth = lim->max_depth < DEC_MAX_DEPTH ? lim->max_depth : DEC_MAX_DEPTH;

	if (len > lim->max_len)
		return bti_diag_err(BATON_ETOOBIG, "msgpack: %zu bytes is over the limit of %zu",
		                    len, lim->max_len);
	memset(&st[0], 0, sizeof(st[0]));
	st[0].remaining = 1;

	for (;;) {
		while (st[sp].remaining == 0) {
			if (sp == 0)
				goto done;
			sp--;
		}
		struct frame *f = &st[sp];
		int is_key = f->is_map && f->want_key;
		size_t at = pos;
		uint64_t n = 0, v = 0;
		int r, kind; /* 0 scalar, 1 str, 2 bin, 3 array, 4 map */

		if (pos >= len)
			return bti_diag_err(
			    BATON_ETRUNC, "msgpack: input ends at byte %zu, an item expected", pos);
		if (++objects > lim->max_objects)
			return bti_diag_err(BATON_ETOOBIG, "msgpack: more than %zu items",
			                    lim->max_objects);
		uint8_t b = p[pos++];

		if (b <= 0x7f) {
			kind = 0;
		} else if (b >= 0x80 && b <= 0x8f) {
			kind = 4, n = b & 0x0f;
		} else if (b >= 0x90 && b <= 0x9f) {
			kind = 3, n = b & 0x0f;
		} else if (b >= 0xa0 && b <= 0xbf) {
			kind = 1, n = b & 0x1f;
		} else {
			switch (b) {
			case 0xc2:
			case 0xc3:
				kind = 0;
				break;
			case 0xcc:
			case 0xcd:
			case 0xce:
			case 0xcf: {
				unsigned w = 1u << (b - 0xcc);
				static const uint64_t floor_[] = {0x80, 0x100, 0x10000,
				                                  0x100000000};
				if ((r = walk_arg(p, len, &pos, w, &v)) != 0)
					return r;
				if (v < floor_[b - 0xcc])
					return noncanon(at, "integer");
				kind = 0;
				break;
			}
			case 0xd9:
			case 0xda:
			case 0xdb: {
				unsigned w = 1u << (b - 0xd9);
				static const uint64_t floor_[] = {32, 0x100, 0x10000};
				if ((r = walk_arg(p, len, &pos, w, &n)) != 0)
					return r;
				if (n < floor_[b - 0xd9])
					return noncanon(at, "string length");
				kind = 1;
				break;
			}
			case 0xc4:
			case 0xc5:
			case 0xc6: {
				unsigned w = 1u << (b - 0xc4);
				static const uint64_t floor_[] = {0, 0x100, 0x10000};
				if ((r = walk_arg(p, len, &pos, w, &n)) != 0)
					return r;
				if (n < floor_[b - 0xc4])
					return noncanon(at, "bin length");
				kind = 2;
				break;
			}
			case 0xdc:
			case 0xdd:
			case 0xde:
			case 0xdf: {
				unsigned w = (b == 0xdc || b == 0xde) ? 2 : 4;
				if ((r = walk_arg(p, len, &pos, w, &n)) != 0)
					return r;
				if (n < (w == 2 ? 16u : 0x10000u))
					return noncanon(at, "container count");
				kind = (b <= 0xdd) ? 3 : 4;
				break;
			}
			default:
				return bti_diag_err(
				    BATON_ETYPE,
				    "msgpack: byte %zu: type 0x%02x is not allowed "
				    "(nil, negative, float, ext and 0xc1 are forbidden)",
				    at, b);
			}
		}

		if (kind == 1 || kind == 2) {
			if (n > len - pos)
				return bti_diag_err(BATON_ELENGTH,
				                    "msgpack: byte %zu: length %llu runs past the "
				                    "input (%zu bytes left)",
				                    at, (unsigned long long)n, len - pos);
			if (kind == 1 && !bti_utf8_valid(p + pos, (size_t)n))
				return bti_diag_err(BATON_EUTF8,
				                    "msgpack: byte %zu: string is not UTF-8 "
				                    "(or contains NUL)",
				                    at);
		}
		if (is_key) {
			if (kind != 1)
				return bti_diag_err(
				    BATON_ETYPE, "msgpack: byte %zu: map key is not a string", at);
			const uint8_t *k = p + pos;
			if (f->prev_key != NULL) {
				size_t m = f->prev_key_len < n ? f->prev_key_len : (size_t)n;
				int c = memcmp(f->prev_key, k, m);
				if (c == 0 && f->prev_key_len == n)
					return bti_diag_err(
					    BATON_EDUPKEY,
					    "msgpack: byte %zu: duplicate key \"%.*s\"", at, (int)n,
					    (const char *)k);
				if (c > 0 || (c == 0 && f->prev_key_len > n))
					return bti_diag_err(
					    BATON_ENONCANON,
					    "msgpack: byte %zu: key \"%.*s\" out of order", at,
					    (int)n, (const char *)k);
			}
			f->prev_key = k;
			f->prev_key_len = (size_t)n;
		}
		if (f->is_map)
			f->want_key = !f->want_key;
		f->remaining--;
		if (kind == 1 || kind == 2)
			pos += (size_t)n;

		if (kind == 3 || kind == 4) {
			uint64_t items = kind == 4 ? 2 * n : n;
			/* Each item takes at least one byte: bound counts by the input. */
			if (items > len - pos)
				return bti_diag_err(
				    BATON_ELENGTH,
				    "msgpack: byte %zu: count %llu runs past the input "
				    "(%zu bytes left)",
				    at, (unsigned long long)n, len - pos);
			if (sp + 1 > max_depth)
				return bti_diag_err(BATON_EDEPTH,
				                    "msgpack: byte %zu: nesting deeper than %u", at,
				                    max_depth);
			sp++;
			memset(&st[sp], 0, sizeof(st[sp]));
			st[sp].remaining = items;
			st[sp].is_map = kind == 4;
			st[sp].want_key = 1;
		}
	}
done:
	if (pos != len)
		return bti_diag_err(BATON_ETRAILING, "msgpack: %zu trailing bytes after the object",
		                    len - pos);
	return 0;
}

int bti_mp_decode(const uint8_t *p, size_t len, const struct dec_limits *lim, msgpack_zone *z,
                  msgpack_object *obj)
{
	int r;
	size_t off = 0;

	if ((r = bti_mp_walk(p, len, lim)) != 0)
		return r;
	msgpack_unpack_return ur = msgpack_unpack((const char *)p, len, &off, z, obj);
	if (ur == MSGPACK_UNPACK_NOMEM_ERROR)
		return BATON_ENOMEM;
	/* The walk accepted it, so anything but a complete object is our bug. */
	if (ur != MSGPACK_UNPACK_SUCCESS || off != len)
		return bti_diag_err(BATON_EINTERNAL,
		                    "msgpack: unpacker disagrees with the pre-walk");
	return 0;
}

/* ---- schema helpers ---- */

static const char *type_name(msgpack_object_type t)
{
	switch (t) {
	case MSGPACK_OBJECT_BOOLEAN:
		return "boolean";
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return "integer";
	case MSGPACK_OBJECT_STR:
		return "string";
	case MSGPACK_OBJECT_BIN:
		return "bin";
	case MSGPACK_OBJECT_ARRAY:
		return "array";
	case MSGPACK_OBJECT_MAP:
		return "map";
	default:
		return "other";
	}
}

static int want(const msgpack_object *v, msgpack_object_type t, const char *what, const char *field)
{
	if (v->type != t)
		return bti_diag_err(BATON_ETYPE, "%s.%s: expected %s, found %s", what, field,
		                    type_name(t), type_name(v->type));
	return 0;
}

int bti_mp_fields(const msgpack_object *map, const char *what, const char *const *keys,
                  size_t nkeys, const msgpack_object **vals)
{
	if (map->type != MSGPACK_OBJECT_MAP)
		return bti_diag_err(BATON_ETYPE, "%s: expected a map, found %s", what,
		                    type_name(map->type));
	for (size_t i = 0; i < nkeys; i++)
		vals[i] = NULL;
	for (uint32_t j = 0; j < map->via.map.size; j++) {
		const msgpack_object_kv *kv = &map->via.map.ptr[j];
		size_t i;
		/* bti_mp_walk guarantees string keys; check anyway, this is a boundary. */
		if (kv->key.type != MSGPACK_OBJECT_STR)
			return bti_diag_err(BATON_ETYPE, "%s: map key is not a string", what);
		for (i = 0; i < nkeys; i++) {
			if (strlen(keys[i]) == kv->key.via.str.size &&
			    memcmp(keys[i], kv->key.via.str.ptr, kv->key.via.str.size) == 0)
				break;
		}
		if (i == nkeys)
			return bti_diag_err(BATON_EUNKNOWN, "%s: unknown field \"%.*s\"", what,
			                    (int)kv->key.via.str.size, kv->key.via.str.ptr);
		vals[i] = &kv->val;
	}
	return 0;
}

int bti_mp_need(const msgpack_object *v, const char *what, const char *field)
{
	if (v == NULL)
		return bti_diag_err(BATON_EMISSING, "%s.%s: required field missing", what, field);
	return 0;
}

int bti_mp_uint(const msgpack_object *v, const char *what, const char *field, uint64_t *out)
{
	int r;
	if ((r = bti_mp_need(v, what, field)) != 0 ||
	    (r = want(v, MSGPACK_OBJECT_POSITIVE_INTEGER, what, field)) != 0)
		return r;
	*out = v->via.u64;
	return 0;
}

int bti_mp_bool(const msgpack_object *v, const char *what, const char *field, int *out)
{
	int r;
	if ((r = bti_mp_need(v, what, field)) != 0 ||
	    (r = want(v, MSGPACK_OBJECT_BOOLEAN, what, field)) != 0)
		return r;
	*out = v->via.boolean;
	return 0;
}

int bti_mp_bin(const msgpack_object *v, const char *what, const char *field, size_t min, size_t max,
               const uint8_t **p, size_t *n)
{
	int r;
	if ((r = bti_mp_need(v, what, field)) != 0 ||
	    (r = want(v, MSGPACK_OBJECT_BIN, what, field)) != 0)
		return r;
	if (v->via.bin.size < min || v->via.bin.size > max)
		return bti_diag_err(BATON_EVALUE, "%s.%s: %u bytes, expected %zu..%zu", what, field,
		                    v->via.bin.size, min, max);
	*p = (const uint8_t *)v->via.bin.ptr;
	*n = v->via.bin.size;
	return 0;
}

int bti_mp_fixbin(const msgpack_object *v, const char *what, const char *field, uint8_t *out,
                  size_t n)
{
	const uint8_t *p = NULL;
	size_t len = 0;
	int r = bti_mp_bin(v, what, field, n, n, &p, &len);
	if (r == 0)
		memcpy(out, p, n);
	return r;
}

int bti_mp_str(const msgpack_object *v, const char *what, const char *field, size_t min, char *out,
               size_t cap)
{
	int r;
	if ((r = bti_mp_need(v, what, field)) != 0 ||
	    (r = want(v, MSGPACK_OBJECT_STR, what, field)) != 0)
		return r;
	size_t n = v->via.str.size;
	if (n < min || n >= cap)
		return bti_diag_err(BATON_EVALUE, "%s.%s: %zu bytes, expected %zu..%zu", what,
		                    field, n, min, cap - 1);
	memcpy(out, v->via.str.ptr, n);
	out[n] = '\0';
	return 0;
}

int bti_mp_array(const msgpack_object *v, const char *what, const char *field, size_t min,
                 size_t max)
{
	int r;
	if ((r = bti_mp_need(v, what, field)) != 0 ||
	    (r = want(v, MSGPACK_OBJECT_ARRAY, what, field)) != 0)
		return r;
	if (v->via.array.size < min || v->via.array.size > max)
		return bti_diag_err(BATON_EVALUE, "%s.%s: %u entries, expected %zu..%zu", what,
		                    field, v->via.array.size, min, max);
	return 0;
}

int bti_mp_sections(const msgpack_object *v, const char *what, const char *field, uint32_t *mask)
{
	int r;
	const char *prev = NULL;
	if ((r = bti_mp_array(v, what, field, 1, BATON_SEC_COUNT)) != 0)
		return r;
	*mask = 0;
	for (uint32_t i = 0; i < v->via.array.size; i++) {
		const msgpack_object *e = &v->via.array.ptr[i];
		if (e->type != MSGPACK_OBJECT_STR)
			return bti_diag_err(BATON_ETYPE, "%s.%s[%u]: expected string", what, field,
			                    i);
		baton_section sec;
		if (baton_section_lookup(e->via.str.ptr, e->via.str.size, &sec) != 0)
			return bti_diag_err(BATON_EVALUE, "%s.%s[%u]: unknown section \"%.*s\"",
			                    what, field, i, (int)e->via.str.size, e->via.str.ptr);
		/* Strictly ascending by bytewise name (strcmp compares unsigned bytes). */
		const char *name = baton_section_name(sec);
		int cmp = prev ? strcmp(name, prev) : 1;
		if (cmp <= 0)
			return bti_diag_err(cmp == 0 ? BATON_EVALUE : BATON_ENONCANON,
			                    "%s.%s[%u]: \"%s\" %s", what, field, i, name,
			                    cmp == 0 ? "repeated"
			                             : "out of order (names ascend bytewise)");
		prev = name;
		*mask |= BATON_SEC_BIT(sec);
	}
	return 0;
}

/* ---- value checks ---- */

int bti_check_code(const char *what, const char *field, const char *s)
{
	for (const char *c = s; *c; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
			return bti_diag_err(
			    BATON_EVALUE,
			    "%s.%s: \"%s\": a school code uses only letters, digits "
			    "and . _ -",
			    what, field, s);
	}
	return 0;
}

int bti_check_text(const char *what, const char *field, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return bti_diag_err(BATON_EVALUE, "%s.%s: contains a control character",
			                    what, field);
	return 0;
}

/*
 * Keys found valid lately. A key's validity depends on its 32 bytes alone,
 * and the same keys come back in every packet (the two schools, the
 * consent's signer): checking each once per thread, not four times per
 * packet, is most of the distance between a packet and its cryptography.
 */
#define KEY_CACHE 16
struct key_cache {
	uint8_t pk[KEY_CACHE][BATON_PK_BYTES];
	unsigned n, next;
};

static int key_cached(struct key_cache *c, const uint8_t pk[BATON_PK_BYTES])
{
	for (unsigned i = 0; i < c->n; i++)
		if (memcmp(c->pk[i], pk, BATON_PK_BYTES) == 0) /* public keys: no secret here */
			return 1;
	return 0;
}

static void key_remember(struct key_cache *c, const uint8_t pk[BATON_PK_BYTES])
{
	memcpy(c->pk[c->next], pk, BATON_PK_BYTES);
	c->next = (c->next + 1) % KEY_CACHE;
	if (c->n < KEY_CACHE)
		c->n++;
}

int bti_check_ed25519_pk(const char *what, const char *field, const uint8_t pk[BATON_PK_BYTES])
{
	static _Thread_local struct key_cache valid;
	if (key_cached(&valid, pk))
		return 0;
	/* Rejects non-canonical encodings, small-order points and points off the main subgroup. */
	if (crypto_core_ed25519_is_valid_point(pk) != 1)
		return bti_diag_err(BATON_EBADKEY, "%s.%s: not a valid Ed25519 public key", what,
		                    field);
	key_remember(&valid, pk);
	return 0;
}

int bti_check_x25519_pk(const char *what, const char *field, const uint8_t pk[BATON_PK_BYTES])
{
	static _Thread_local struct key_cache valid;
	if (key_cached(&valid, pk))
		return 0;
	/*
	 * A low-order point gives an all-zero product with every clamped scalar,
	 * which crypto_scalarmult reports as -1. The scalar here is public.
	 */
	static const uint8_t probe[crypto_scalarmult_SCALARBYTES] = {0x42, 0x17};
	uint8_t out[crypto_scalarmult_BYTES];
	int r = crypto_scalarmult(out, probe, pk);
	sodium_memzero(out, sizeof(out));
	if (r != 0)
		return bti_diag_err(BATON_EBADKEY, "%s.%s: low-order X25519 public key", what,
		                    field);
	key_remember(&valid, pk);
	return 0;
}

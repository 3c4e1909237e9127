/*
 * Transfers: what this node sent (outbox, its due index, packets kept in the
 * store), what it received (inbox, the replay guard; origins), and requests
 * made (asked) and held (requests). What changes here is how packets move.
 */
#include <stdlib.h>
#include <string.h>

#include "store_impl.h"

/* ---- inbox ---- */

static const char *const inbox_keys[] = {"from", "reason", "receipt", "student", "time"};

static void enc_inbox(struct enc *e, const void *obj)
{
	const store_inbox *x = obj;
	bti_enc_map(e, 5);
	bti_enc_str(e, "from"), bti_enc_str(e, x->from);
	bti_enc_str(e, "reason"), bti_enc_uint(e, (uint64_t)x->reason);
	bti_enc_str(e, "receipt"), bti_enc_bin(e, x->receipt, x->receipt_len);
	bti_enc_str(e, "student"), bti_enc_str(e, x->student);
	bti_enc_str(e, "time"), bti_enc_uint(e, x->time);
}

static int dec_inbox(const uint8_t *id, const uint8_t *p, size_t n, store_inbox *x)
{
	static const struct dec_limits lim = {BATON_OBJ_MAX + 512, 1, 16};
	const msgpack_object *v[5];
	const uint8_t *b;
	uint64_t reason;
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(x, 0, sizeof(*x));
	memcpy(x->packet, id, BATON_ID_BYTES);
	if (!msgpack_zone_init(&z, 256))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, n, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "inbox", inbox_keys, 5, v)) == 0 &&
	    (r = bti_mp_str(v[0], "inbox", "from", 0, x->from, sizeof(x->from))) == 0 &&
	    (r = bti_mp_uint(v[1], "inbox", "reason", &reason)) == 0 &&
	    (r = bti_mp_bin(v[2], "inbox", "receipt", 0, BATON_OBJ_MAX, &b, &x->receipt_len)) ==
	        0 &&
	    (r = bti_mp_str(v[3], "inbox", "student", 0, x->student, sizeof(x->student))) == 0 &&
	    (r = bti_mp_uint(v[4], "inbox", "time", &x->time)) == 0) {
		x->reason = (int)reason;
		if ((x->receipt = malloc(x->receipt_len ? x->receipt_len : 1)) == NULL)
			r = BATON_ENOMEM;
		else
			memcpy(x->receipt, b, x->receipt_len);
	}
	msgpack_zone_destroy(&z);
	return r ? bti_diag_err(BATON_EIO, "store: damaged inbox entry") : 0;
}

static int dec_inbox_row(const MDB_val *k, const MDB_val *v, void *obj)
{
	return dec_inbox(k->mv_data, v->mv_data, v->mv_size, obj);
}

static void clear_inbox(void *obj)
{
	store_inbox *x = obj;
	free(x->receipt);
	x->receipt = NULL;
}

static const struct table inbox = {
    .db = DB_INBOX,
    .what = "inbox entry",
    .each_key_len = BATON_ID_BYTES,
    .size = sizeof(store_inbox),
    .enc = enc_inbox,
    .dec = dec_inbox_row,
    .clear = clear_inbox,
};

int store_inbox_put(store_txn *t, const store_inbox *x)
{
	return tbl_put_obj(t, &inbox, x->packet, BATON_ID_BYTES, x, 0);
}

int store_inbox_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_inbox *x)
{
	return tbl_get_obj(t, &inbox, id, BATON_ID_BYTES, x);
}

static int inbox_row(const void *obj, void *arg)
{
	const struct tbl_cb *c = arg;
	return c->fn.inbox(obj, c->ctx);
}

int store_inbox_each(store_txn *t, store_inbox_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.inbox = cb, .ctx = ctx};
	return tbl_each_obj(t, &inbox, NULL, 0, inbox_row, &c);
}

/* ---- outbox ---- */

static const char *const outbox_keys[] = {"attempts", "created", "error",   "expires",
                                          "file",     "hash",    "kind",    "next",
                                          "reason",   "state",   "student", "to"};

static void enc_outbox(struct enc *e, const void *obj)
{
	const store_outbox *x = obj;
	bti_enc_map(e, 12);
	bti_enc_str(e, "attempts"), bti_enc_uint(e, x->attempts);
	bti_enc_str(e, "created"), bti_enc_uint(e, x->created);
	bti_enc_str(e, "error"), bti_enc_str(e, x->last_error);
	bti_enc_str(e, "expires"), bti_enc_uint(e, x->expires);
	bti_enc_str(e, "file"), bti_enc_str(e, x->file);
	bti_enc_str(e, "hash"), bti_enc_bin(e, x->hash, BATON_HASH_BYTES);
	bti_enc_str(e, "kind"), bti_enc_uint(e, (uint64_t)x->kind);
	bti_enc_str(e, "next"), bti_enc_uint(e, x->next_try);
	bti_enc_str(e, "reason"), bti_enc_uint(e, (uint64_t)x->reason);
	bti_enc_str(e, "state"), bti_enc_uint(e, (uint64_t)x->state);
	bti_enc_str(e, "student"), bti_enc_str(e, x->student);
	bti_enc_str(e, "to"), bti_enc_str(e, x->to);
}

static size_t due_key(uint8_t *key, uint64_t when, const uint8_t id[BATON_ID_BYTES])
{
	put_be64(key, when);
	memcpy(key + 8, id, BATON_ID_BYTES);
	return 8 + BATON_ID_BYTES;
}

static int dec_outbox(const uint8_t *id, const uint8_t *p, size_t n, store_outbox *x)
{
	static const struct dec_limits lim = {4096, 1, 32};
	const msgpack_object *v[12];
	uint64_t att, reason, state, kind;
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(x, 0, sizeof(*x));
	memcpy(x->packet, id, BATON_ID_BYTES);
	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, n, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "outbox", outbox_keys, 12, v)) == 0 &&
	    (r = bti_mp_uint(v[0], "outbox", "attempts", &att)) == 0 &&
	    (r = bti_mp_uint(v[1], "outbox", "created", &x->created)) == 0 &&
	    (r = bti_mp_str(v[2], "outbox", "error", 0, x->last_error, sizeof(x->last_error))) ==
	        0 &&
	    (r = bti_mp_uint(v[3], "outbox", "expires", &x->expires)) == 0 &&
	    (r = bti_mp_str(v[4], "outbox", "file", 0, x->file, sizeof(x->file))) == 0 &&
	    (r = bti_mp_fixbin(v[5], "outbox", "hash", x->hash, BATON_HASH_BYTES)) == 0 &&
	    (r = bti_mp_uint(v[6], "outbox", "kind", &kind)) == 0 &&
	    (r = bti_mp_uint(v[7], "outbox", "next", &x->next_try)) == 0 &&
	    (r = bti_mp_uint(v[8], "outbox", "reason", &reason)) == 0 &&
	    (r = bti_mp_uint(v[9], "outbox", "state", &state)) == 0 &&
	    (r = bti_mp_str(v[10], "outbox", "student", 0, x->student, sizeof(x->student))) == 0 &&
	    (r = bti_mp_str(v[11], "outbox", "to", 0, x->to, sizeof(x->to))) == 0) {
		x->attempts = (uint32_t)att;
		x->kind = (int)kind;
		x->reason = (int)reason;
		x->state = (int)state;
	}
	msgpack_zone_destroy(&z);
	return r ? bti_diag_err(BATON_EIO, "store: damaged outbox entry") : 0;
}

static int dec_outbox_row(const MDB_val *k, const MDB_val *v, void *obj)
{
	return dec_outbox(k->mv_data, v->mv_data, v->mv_size, obj);
}

static const struct table outbox = {
    .db = DB_OUTBOX,
    .what = "outbox entry",
    .each_key_len = BATON_ID_BYTES,
    .size = sizeof(store_outbox),
    .enc = enc_outbox,
    .dec = dec_outbox_row,
};
/* Queued entries by their next try: next try(u64 BE) packet id(16) -> empty. */
static const struct table due = {
    .db = DB_DUE,
    .what = "due entry",
    .each_key_len = 8 + BATON_ID_BYTES,
};

int store_outbox_put(store_txn *t, const store_outbox *x)
{
	uint8_t key[8 + BATON_ID_BYTES];
	store_outbox old;
	int r;
	/* The due index holds queued entries by their next try: move this one's key. */
	r = store_outbox_get(t, x->packet, &old);
	if (r != 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0 && old.state == OUT_QUEUED &&
	    (r = tbl_drop(t, &due, key, due_key(key, old.next_try, old.packet))) != 0)
		return r;
	if (x->state == OUT_QUEUED &&
	    (r = tbl_put(t, &due, key, due_key(key, x->next_try, x->packet), NULL, 0, 0)) != 0)
		return r;
	return tbl_put_obj(t, &outbox, x->packet, BATON_ID_BYTES, x, 0);
}

int store_outbox_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_outbox *x)
{
	return tbl_get_obj(t, &outbox, id, BATON_ID_BYTES, x);
}

static int outbox_row(const void *obj, void *arg)
{
	const struct tbl_cb *c = arg;
	return c->fn.outbox(obj, c->ctx);
}

int store_outbox_each(store_txn *t, store_outbox_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.outbox = cb, .ctx = ctx};
	return tbl_each_obj(t, &outbox, NULL, 0, outbox_row, &c);
}

struct due_walk {
	store_txn *t;
	struct tbl_cb cb;
	uint64_t now;
	size_t max, n;
};

/* Ends the walk early: the index is in time order, so nothing after this row is due. */
#define DUE_DONE (-1001) /* outside the BATON_E* range */

static int due_row(const MDB_val *k, const MDB_val *v, void *arg)
{
	struct due_walk *w = arg;
	store_outbox x;
	int r;
	(void)v;
	if (w->n >= w->max || get_be64(k->mv_data) > w->now)
		return DUE_DONE;
	r = store_outbox_get(w->t, (const uint8_t *)k->mv_data + 8, &x);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(BATON_EIO, "store: the due index names a missing outbox entry");
	if (r == 0 && (r = w->cb.fn.outbox(&x, w->cb.ctx)) == 0)
		w->n++;
	return r;
}

int store_outbox_due(store_txn *t, uint64_t now, size_t max, store_outbox_cb cb, void *ctx)
{
	struct due_walk w = {t, {.fn.outbox = cb, .ctx = ctx}, now, max, 0};
	int r = tbl_each(t, &due, NULL, 0, due_row, &w);
	return r == DUE_DONE ? 0 : r;
}

int store_outbox_due_now(store_txn *t, const uint8_t id[BATON_ID_BYTES], uint64_t now,
                         store_outbox *e)
{
	store_outbox x;
	int r = store_outbox_get(t, id, &x);
	if (r == BATON_ENOTFOUND)
		return bti_diag_err(r, "no packet with that id in the outbox");
	if (r != 0)
		return r;
	if (x.state != OUT_QUEUED)
		return bti_diag_err(BATON_EEXIST,
		                    "the packet is no longer queued: nothing to retry");
	/* Already due: the worker takes it as it is; a later next try would delay it. */
	if (x.next_try > now) {
		x.next_try = now;
		if ((r = store_outbox_put(t, &x)) != 0)
			return r;
	}
	if (e)
		*e = x;
	return 0;
}

/* ---- packets kept in the store ---- */

static const struct table packets = {
    .db = DB_PACKETS,
    .what = "packet",
};

int store_packet_put(store_txn *t, const uint8_t id[BATON_ID_BYTES], const uint8_t *p, size_t n)
{
	return tbl_put(t, &packets, id, BATON_ID_BYTES, p, n, 0);
}

int store_packet_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], uint8_t **p, size_t *n)
{
	MDB_val v;
	int r;
	if (p)
		*p = NULL;
	*n = 0;
	if ((r = tbl_get(t, &packets, id, BATON_ID_BYTES, &v)) != 0)
		return r;
	*n = v.mv_size;
	if (p == NULL)
		return 0;
	if ((*p = malloc(v.mv_size ? v.mv_size : 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(*p, v.mv_data, v.mv_size);
	return 0;
}

/* ---- requests this node has made, and where received students came from ---- */

static const struct table asked = {
    .db = DB_ASKED,
    .what = "request asked of",
};
static const struct table origins = {
    .db = DB_ORIGINS,
    .what = "student received from",
};

/* The key "code NUL student" into key (KEY_CS bytes): its length, or 0 when too long. */
#define KEY_CS (BATON_CODE_MAX + BATON_STUDENT_MAX + 2)
static int code_student_key(uint8_t key[KEY_CS], const char *code, const char *student, size_t *n)
{
	if ((*n = store_join_key(key, KEY_CS, code, student, strlen(student))) == 0)
		return bti_diag_err(BATON_EINVAL, "store: key too long");
	return 0;
}

int store_asked_put(store_txn *t, const char *code, const char *student,
                    const uint8_t id[BATON_ID_BYTES])
{
	uint8_t key[KEY_CS];
	size_t n;
	int r;
	if ((r = code_student_key(key, code, student, &n)) != 0)
		return r;
	return tbl_put(t, &asked, key, n, id, BATON_ID_BYTES, 0);
}

int store_asked_take(store_txn *t, const char *code, const char *student,
                     uint8_t found[BATON_ID_BYTES])
{
	uint8_t key[KEY_CS];
	size_t n;
	MDB_val v;
	int r;
	if ((r = code_student_key(key, code, student, &n)) != 0 ||
	    (r = tbl_get(t, &asked, key, n, &v)) != 0)
		return r;
	if (v.mv_size != BATON_ID_BYTES)
		return bti_diag_err(BATON_EIO, "store: damaged asked entry");
	memcpy(found, v.mv_data, BATON_ID_BYTES);
	return tbl_del(t, &asked, key, n);
}

int store_origin_put(store_txn *t, const char *code, const char *their_id, const char *id)
{
	uint8_t key[KEY_CS];
	size_t n;
	int r;
	if ((r = code_student_key(key, code, their_id, &n)) != 0)
		return r;
	return tbl_put(t, &origins, key, n, id, strlen(id), 0);
}

int store_origin_get(store_txn *t, const char *code, const char *their_id, char *found, size_t cap)
{
	uint8_t key[KEY_CS];
	size_t n;
	MDB_val v;
	int r;
	if ((r = code_student_key(key, code, their_id, &n)) != 0 ||
	    (r = tbl_get(t, &origins, key, n, &v)) != 0)
		return r;
	if (v.mv_size == 0 || v.mv_size >= cap || v.mv_size > BATON_STUDENT_MAX)
		return bti_diag_err(BATON_EIO, "store: damaged origins entry");
	memcpy(found, v.mv_data, v.mv_size);
	found[v.mv_size] = 0;
	return 0;
}

/* ---- requests held for the registrar ---- */

static const char *const request_keys[] = {"answer",  "consent", "from",    "hash", "note",
                                           "release", "state",   "student", "time", "want"};
enum {
	RQ_ANSWER,
	RQ_CONSENT,
	RQ_FROM,
	RQ_HASH,
	RQ_NOTE,
	RQ_RELEASE,
	RQ_STATE,
	RQ_STUDENT,
	RQ_TIME,
	RQ_WANT,
	RQ_N
};

static void enc_request(struct enc *e, const void *obj)
{
	const store_request *x = obj;
	bti_enc_map(e, RQ_N);
	bti_enc_str(e, "answer"), bti_enc_str(e, x->answer);
	bti_enc_str(e, "consent"), bti_enc_bin(e, x->consent, x->consent_len);
	bti_enc_str(e, "from"), bti_enc_str(e, x->from);
	bti_enc_str(e, "hash"), bti_enc_bin(e, x->hash, BATON_HASH_BYTES);
	bti_enc_str(e, "note"), bti_enc_str(e, x->note);
	bti_enc_str(e, "release"), bti_enc_bin(e, x->release, BATON_ID_BYTES);
	bti_enc_str(e, "state"), bti_enc_uint(e, (uint64_t)x->state);
	bti_enc_str(e, "student"), bti_enc_str(e, x->student);
	bti_enc_str(e, "time"), bti_enc_uint(e, x->time);
	bti_enc_str(e, "want"), bti_enc_uint(e, x->want);
}

static int dec_request(const uint8_t *id, const uint8_t *p, size_t n, store_request *x)
{
	static const struct dec_limits lim = {BATON_OBJ_MAX + 2048, 1, 32};
	const msgpack_object *v[RQ_N];
	const uint8_t *b;
	uint64_t state, want;
	msgpack_zone z;
	msgpack_object o;
	int r;

	memset(x, 0, sizeof(*x));
	memcpy(x->id, id, BATON_ID_BYTES);
	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(p, n, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "request", request_keys, RQ_N, v)) == 0 &&
	    (r = bti_mp_str(v[RQ_ANSWER], "request", "answer", 0, x->answer, sizeof(x->answer))) ==
	        0 &&
	    (r = bti_mp_bin(v[RQ_CONSENT], "request", "consent", 1, BATON_OBJ_MAX, &b,
	                    &x->consent_len)) == 0 &&
	    (r = bti_mp_str(v[RQ_FROM], "request", "from", 1, x->from, sizeof(x->from))) == 0 &&
	    (r = bti_mp_fixbin(v[RQ_HASH], "request", "hash", x->hash, BATON_HASH_BYTES)) == 0 &&
	    (r = bti_mp_str(v[RQ_NOTE], "request", "note", 0, x->note, sizeof(x->note))) == 0 &&
	    (r = bti_mp_fixbin(v[RQ_RELEASE], "request", "release", x->release, BATON_ID_BYTES)) ==
	        0 &&
	    (r = bti_mp_uint(v[RQ_STATE], "request", "state", &state)) == 0 &&
	    (r = bti_mp_str(v[RQ_STUDENT], "request", "student", 1, x->student,
	                    sizeof(x->student))) == 0 &&
	    (r = bti_mp_uint(v[RQ_TIME], "request", "time", &x->time)) == 0 &&
	    (r = bti_mp_uint(v[RQ_WANT], "request", "want", &want)) == 0) {
		x->state = (int)state;
		x->want = (uint32_t)want;
		memcpy(x->consent, b, x->consent_len);
	}
	msgpack_zone_destroy(&z);
	return r ? bti_diag_err(BATON_EIO, "store: damaged request entry") : 0;
}

static int dec_request_row(const MDB_val *k, const MDB_val *v, void *obj)
{
	return dec_request(k->mv_data, v->mv_data, v->mv_size, obj);
}

static const struct table requests = {
    .db = DB_REQUESTS,
    .what = "request",
    .each_key_len = BATON_ID_BYTES,
    .size = sizeof(store_request),
    .enc = enc_request,
    .dec = dec_request_row,
};

int store_request_put(store_txn *t, const store_request *x)
{
	return tbl_put_obj(t, &requests, x->id, BATON_ID_BYTES, x, 0);
}

int store_request_get(store_txn *t, const uint8_t id[BATON_ID_BYTES], store_request *x)
{
	return tbl_get_obj(t, &requests, id, BATON_ID_BYTES, x);
}

static int request_row(const void *obj, void *arg)
{
	const struct tbl_cb *c = arg;
	return c->fn.request(obj, c->ctx);
}

int store_request_each(store_txn *t, store_request_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.request = cb, .ctx = ctx};
	return tbl_each_obj(t, &requests, NULL, 0, request_row, &c);
}

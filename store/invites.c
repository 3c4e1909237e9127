/*
 * Invitations: the one-time codes a registrar gives a parent, who enrols a
 * key with one. A row keeps the hash of the code, never the code; what
 * changes here is which key may be offered to the registrar for a student.
 */
#include <string.h>

#include "store_impl.h"

static const char *const invite_keys[] = {"by",       "created", "expires", "hash", "key",
                                          "relation", "state",   "student", "wrong"};
#define INVITE_FIELDS (sizeof(invite_keys) / sizeof(invite_keys[0]))

static const char *const state_names[] = {"open", "claimed", "linked", "cancelled", "burned"};

const char *store_invite_state_name(int state)
{
	return state >= 0 && state <= INVITE_BURNED ? state_names[state] : "?";
}

static void enc_invite(struct enc *e, const void *obj)
{
	const store_invite *v = obj;
	bti_enc_map(e, INVITE_FIELDS);
	bti_enc_str(e, "by"), bti_enc_str(e, v->by);
	bti_enc_str(e, "created"), bti_enc_uint(e, v->created);
	bti_enc_str(e, "expires"), bti_enc_uint(e, v->expires);
	bti_enc_str(e, "hash"), bti_enc_bin(e, v->hash, sizeof(v->hash));
	bti_enc_str(e, "key"), bti_enc_bin(e, v->pk, v->has_pk ? sizeof(v->pk) : 0);
	bti_enc_str(e, "relation"), bti_enc_str(e, v->relation);
	bti_enc_str(e, "state"), bti_enc_uint(e, (uint64_t)v->state);
	bti_enc_str(e, "student"), bti_enc_str(e, v->student);
	bti_enc_str(e, "wrong"), bti_enc_uint(e, v->wrong);
}

static int dec_invite(const MDB_val *k, const MDB_val *val, void *obj)
{
	static const struct dec_limits lim = {1024, 1, 1 + 2 * INVITE_FIELDS};
	const msgpack_object *f[INVITE_FIELDS];
	store_invite *v = obj;
	const uint8_t *pk;
	size_t pklen = 0;
	uint64_t state = 0, wrong = 0;
	msgpack_zone z;
	msgpack_object o;
	int r;

	if (k->mv_size != STORE_INVITE_ID)
		return bti_diag_err(BATON_EIO, "store: damaged invitation (its id)");
	memcpy(v->id, k->mv_data, STORE_INVITE_ID);
	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(val->mv_data, val->mv_size, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "invitation", invite_keys, INVITE_FIELDS, f)) == 0 &&
	    (r = bti_mp_str(f[0], "invitation", "by", 0, v->by, sizeof(v->by))) == 0 &&
	    (r = bti_mp_uint(f[1], "invitation", "created", &v->created)) == 0 &&
	    (r = bti_mp_uint(f[2], "invitation", "expires", &v->expires)) == 0 &&
	    (r = bti_mp_fixbin(f[3], "invitation", "hash", v->hash, sizeof(v->hash))) == 0 &&
	    (r = bti_mp_bin(f[4], "invitation", "key", 0, BATON_PK_BYTES, &pk, &pklen)) == 0 &&
	    (r = bti_mp_str(f[5], "invitation", "relation", 1, v->relation, sizeof(v->relation))) ==
	        0 &&
	    (r = bti_mp_uint(f[6], "invitation", "state", &state)) == 0 &&
	    (r = bti_mp_str(f[7], "invitation", "student", 1, v->student, sizeof(v->student))) ==
	        0 &&
	    (r = bti_mp_uint(f[8], "invitation", "wrong", &wrong)) == 0) {
		if (state > INVITE_BURNED || wrong > UINT32_MAX || (pklen != 0 && pklen != 32))
			r = BATON_EVALUE;
		v->state = (int)state;
		v->wrong = (uint32_t)wrong;
		v->has_pk = pklen == BATON_PK_BYTES;
		if (v->has_pk)
			memcpy(v->pk, pk, BATON_PK_BYTES);
	}
	msgpack_zone_destroy(&z);
	return r ? bti_diag_err(BATON_EIO, "store: damaged invitation %s", v->id) : 0;
}

static const struct table invites = {
    .db = DB_INVITES,
    .what = "invitation",
    .size = sizeof(store_invite),
    .enc = enc_invite,
    .dec = dec_invite,
};

int store_invite_put(store_txn *t, const store_invite *v)
{
	if (strlen(v->id) != STORE_INVITE_ID || !v->student[0] || !v->relation[0] ||
	    v->state < INVITE_OPEN || v->state > INVITE_BURNED)
		return bti_diag_err(BATON_EINVAL,
		                    "store: invitation \"%.8s\": no valid id, student, relation "
		                    "or state",
		                    v->id);
	return tbl_put_obj(t, &invites, v->id, STORE_INVITE_ID, v, 0);
}

int store_invite_get(store_txn *t, const char *id, store_invite *v)
{
	if (strlen(id) != STORE_INVITE_ID) {
		memset(v, 0, sizeof(*v));
		return bti_diag_err(BATON_ENOTFOUND, "store: no invitation %.8s", id);
	}
	return tbl_get_obj(t, &invites, id, STORE_INVITE_ID, v);
}

static int invite_row(const void *obj, void *arg)
{
	const struct tbl_cb *c = arg;
	return c->fn.invite(obj, c->ctx);
}

int store_invite_each(store_txn *t, store_invite_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.invite = cb, .ctx = ctx};
	return tbl_each_obj(t, &invites, NULL, 0, invite_row, &c);
}

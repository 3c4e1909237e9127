/*
 * The family's email addresses (by guardian key) and the queue of notices
 * to them: what happened, to whom and when to try next. The message itself
 * is written when it is sent (node/mail.c), so a notice holds no text.
 */
#include <string.h>

#include "store_impl.h"

static const struct table emails = {.db = DB_EMAILS, .what = "email address"};

int store_email_put(store_txn *t, const uint8_t pk[BATON_PK_BYTES], const char *addr)
{
	size_t n = strlen(addr);
	if (n > STORE_EMAIL_MAX)
		return bti_diag_err(BATON_EINVAL, "store: email address longer than %d bytes",
		                    STORE_EMAIL_MAX);
	if (n == 0)
		return tbl_drop(t, &emails, pk, BATON_PK_BYTES);
	return tbl_put(t, &emails, pk, BATON_PK_BYTES, addr, n, 0);
}

int store_email_get(store_txn *t, const uint8_t pk[BATON_PK_BYTES], char *addr)
{
	MDB_val v;
	int r;
	addr[0] = '\0';
	if ((r = tbl_get(t, &emails, pk, BATON_PK_BYTES, &v)) != 0)
		return r;
	if (v.mv_size == 0 || v.mv_size > STORE_EMAIL_MAX || memchr(v.mv_data, 0, v.mv_size))
		return bti_diag_err(BATON_EIO, "store: damaged email address");
	memcpy(addr, v.mv_data, v.mv_size);
	addr[v.mv_size] = '\0';
	return 0;
}

static const char *const mail_keys[] = {"addr", "created", "kind", "next",
                                        "peer", "student", "tries"};
#define MAIL_FIELDS (sizeof(mail_keys) / sizeof(mail_keys[0]))

static void enc_mail(struct enc *e, const void *obj)
{
	const store_mail *m = obj;
	bti_enc_map(e, MAIL_FIELDS);
	bti_enc_str(e, "addr"), bti_enc_str(e, m->addr);
	bti_enc_str(e, "created"), bti_enc_uint(e, m->created);
	bti_enc_str(e, "kind"), bti_enc_uint(e, m->kind);
	bti_enc_str(e, "next"), bti_enc_uint(e, m->next);
	bti_enc_str(e, "peer"), bti_enc_str(e, m->peer);
	bti_enc_str(e, "student"), bti_enc_str(e, m->student);
	bti_enc_str(e, "tries"), bti_enc_uint(e, m->tries);
}

static int dec_mail(const MDB_val *k, const MDB_val *val, void *obj)
{
	static const struct dec_limits lim = {1024, 1, 1 + 2 * MAIL_FIELDS};
	const msgpack_object *f[MAIL_FIELDS];
	store_mail *m = obj;
	uint64_t kind = 0, tries = 0;
	msgpack_zone z;
	msgpack_object o;
	int r;

	if (k->mv_size != STORE_MAILQ_ID)
		return bti_diag_err(BATON_EIO, "store: damaged mail notice (its id)");
	memcpy(m->id, k->mv_data, STORE_MAILQ_ID);
	if (!msgpack_zone_init(&z, 512))
		return BATON_ENOMEM;
	if ((r = bti_mp_decode(val->mv_data, val->mv_size, &lim, &z, &o)) == 0 &&
	    (r = bti_mp_fields(&o, "mail notice", mail_keys, MAIL_FIELDS, f)) == 0 &&
	    (r = bti_mp_str(f[0], "mail notice", "addr", 1, m->addr, sizeof(m->addr))) == 0 &&
	    (r = bti_mp_uint(f[1], "mail notice", "created", &m->created)) == 0 &&
	    (r = bti_mp_uint(f[2], "mail notice", "kind", &kind)) == 0 &&
	    (r = bti_mp_uint(f[3], "mail notice", "next", &m->next)) == 0 &&
	    (r = bti_mp_str(f[4], "mail notice", "peer", 0, m->peer, sizeof(m->peer))) == 0 &&
	    (r = bti_mp_str(f[5], "mail notice", "student", 1, m->student, sizeof(m->student))) ==
	        0 &&
	    (r = bti_mp_uint(f[6], "mail notice", "tries", &tries)) == 0) {
		if (kind > UINT32_MAX || tries > UINT32_MAX)
			r = BATON_EVALUE;
		m->kind = (uint32_t)kind;
		m->tries = (uint32_t)tries;
	}
	msgpack_zone_destroy(&z);
	return r ? bti_diag_err(BATON_EIO, "store: damaged mail notice") : 0;
}

static const struct table mailq = {
    .db = DB_MAILQ,
    .what = "mail notice",
    .size = sizeof(store_mail),
    .enc = enc_mail,
    .dec = dec_mail,
};

int store_mail_put(store_txn *t, const store_mail *m)
{
	if (!m->addr[0] || strlen(m->addr) > STORE_EMAIL_MAX || !m->student[0])
		return bti_diag_err(BATON_EINVAL,
		                    "store: mail notice without an address or student");
	return tbl_put_obj(t, &mailq, m->id, STORE_MAILQ_ID, m, 0);
}

int store_mail_del(store_txn *t, const uint8_t id[STORE_MAILQ_ID])
{
	return tbl_del(t, &mailq, id, STORE_MAILQ_ID);
}

static int mail_row(const void *obj, void *arg)
{
	const struct tbl_cb *c = arg;
	return c->fn.mail(obj, c->ctx);
}

int store_mail_each(store_txn *t, store_mail_cb cb, void *ctx)
{
	struct tbl_cb c = {.fn.mail = cb, .ctx = ctx};
	return tbl_each_obj(t, &mailq, NULL, 0, mail_row, &c);
}

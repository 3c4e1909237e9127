/*
 * Invitations (node/invite.h): a code as a person types it, the URL, the QR
 * rows; and on a store with a clock of its own, make, claim, the count of
 * wrong secrets that burns one, expiry, single use, confirm and cancel,
 * with what each writes to the audit log (never the code).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "bti.h"
#include "guardian.h"
#include "invite.h"
#include "store.h"

#define NOW UINT64_C(1800000000)

static uint64_t clock_now = NOW;
static uint64_t test_clock(void)
{
	return clock_now;
}

struct fx {
	char dir[64];
	store *s;
	char pk_line[BATON_PUBKEY_TEXT_MAX], pk2_line[BATON_PUBKEY_TEXT_MAX];
	uint8_t pk[BATON_PK_BYTES];
};

static int put_student(store_txn *t, void *arg)
{
	store_student s;
	(void)arg;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "S-1");
	snprintf(s.given_name, sizeof(s.given_name), "Ife");
	snprintf(s.family_name, sizeof(s.family_name), "Okafor");
	snprintf(s.birth_date, sizeof(s.birth_date), "2011-01-01");
	return store_student_put(t, &s, "{}", 2);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	uint8_t pk2[BATON_PK_BYTES];
	if (f == NULL || sodium_init() < 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/baton-invite-XXXXXX");
	if (mkdtemp(f->dir) == NULL || store_open(f->dir, 1, &f->s) != 0)
		return -1;
	clock_now = NOW;
	store_set_clock(f->s, test_clock);
	if (store_write(f->s, put_student, NULL) != 0)
		return -1;
	baton_key *k1 = NULL, *k2 = NULL;
	if (baton_key_generate(BATON_KEY_GUARDIAN, &k1) != 0 ||
	    baton_key_generate(BATON_KEY_GUARDIAN, &k2) != 0)
		return -1;
	memcpy(f->pk, baton_key_id_pk(k1), BATON_PK_BYTES);
	memcpy(pk2, baton_key_id_pk(k2), BATON_PK_BYTES);
	baton_key_free(k1);
	baton_key_free(k2);
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, f->pk, f->pk_line);
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, pk2, f->pk2_line);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	store_close(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	int r = system(cmd);
	free(f);
	return r == 0 ? 0 : -1;
}

static void test_code_parse(void **state)
{
	char code[INVITE_CODE_LEN + 1];
	(void)state;
	assert_int_equal(invite_code_parse("code", "k7mq-x4rt-9zpa", code), 0);
	assert_string_equal(code, "K7MQX4RT9ZPA");
	assert_int_equal(invite_code_parse("code", " K7MQ X4RT 9ZPA ", code), 0);
	assert_string_equal(code, "K7MQX4RT9ZPA");
	assert_int_equal(invite_code_parse("code", "K7MQ-X4RT-9ZPO", code), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "code: 'O' is not a character"));
	assert_string_equal(code, "");
	assert_int_equal(invite_code_parse("code", "K7MQ-X4RT-9ZP1", code), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "'1'"));
	assert_int_equal(invite_code_parse("code", "K7MQ_X4RT-9ZPA", code), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "'_'"));
	assert_int_equal(invite_code_parse("code", "K7MQ-X4RT-9ZP\xc3\xa9", code), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "byte 0xc3"));
	assert_int_equal(invite_code_parse("code", "K7MQ-X4RT-9Z", code), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "code: 10 characters, an invitation code has 12"));
	assert_int_equal(invite_code_parse("code", "K7MQ-X4RT-9ZPAB", code), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "longer than 12"));
	assert_int_equal(invite_code_parse("code", NULL, code), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "code: the invitation code is required"));
}

static void test_url_and_qr(void **state)
{
	char url[INVITE_URL_MAX];
	json_t *rows = NULL;
	(void)state;
	assert_int_equal(invite_url("https://school.example:8443/", "K7MQ-X4RT-9ZPA", url), 0);
	assert_string_equal(url, "https://school.example:8443/family/#invite=K7MQ-X4RT-9ZPA");
	assert_int_equal(invite_url("http://127.0.0.1:8080", "C", url), 0);
	assert_string_equal(url, "http://127.0.0.1:8080/family/#invite=C");
	assert_int_equal(invite_url("ftp://x", "C", url), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "url: \"ftp://x\": give http:// or https://"));
	assert_int_equal(invite_url("https://", "C", url), BATON_EVALUE);
	assert_int_equal(invite_url("https://a.example/?x=1", "C", url), BATON_EVALUE);
	assert_int_equal(invite_url("https://a.example/#x", "C", url), BATON_EVALUE);
	assert_int_equal(invite_url("https://a example", "C", url), BATON_EVALUE);
	assert_int_equal(invite_url(NULL, "C", url), BATON_EVALUE);
	assert_int_equal(
	    invite_qr("https://school.example:8443/family/#invite=K7MQ-X4RT-9ZPA", &rows), 0);
	size_t n = json_array_size(rows);
	assert_true(n >= 21 && (n - 21) % 4 == 0);
	for (size_t i = 0; i < n; i++) {
		const char *r = json_string_value(json_array_get(rows, i));
		assert_int_equal(strlen(r), n);
		assert_int_equal(strspn(r, "01"), n);
	}
	/* The finder pattern's top row: seven dark modules at the corner. */
	assert_memory_equal(json_string_value(json_array_get(rows, 0)), "1111111", 7);
	json_decref(rows);
}

struct count {
	const char *action;
	int n;
	int code_seen;
	const char *code;
};

static int count_cb(const store_audit *e, void *arg)
{
	struct count *c = arg;
	if (strcmp(e->action, c->action) == 0)
		c->n++;
	if (c->code && (strstr(e->detail, c->code) || strstr(e->by, c->code)))
		c->code_seen = 1;
	return 0;
}

static int count_fn(store_txn *t, void *arg)
{
	return store_audit_each(t, NULL, count_cb, arg);
}

static int audits(store *s, const char *action, const char *code, int *code_seen)
{
	struct count c = {action, 0, 0, code};
	assert_int_equal(store_read(s, count_fn, &c), 0);
	if (code_seen)
		*code_seen = c.code_seen;
	return c.n;
}

static void test_make_claim_confirm(void **state)
{
	struct fx *f = *state;
	char code[INVITE_CODE_TEXT], wrong[INVITE_CODE_TEXT], bare[INVITE_CODE_LEN + 1];
	store_invite v, got;
	store_student s;
	struct invite_claimed c;
	json_t *list;
	int seen;

	store_set_actor("maria");
	assert_int_equal(invite_make(f->s, "S-1", "aunt", code, &v), BATON_EVALUE);
	assert_int_equal(invite_make(f->s, "S-9", "mother", code, &v), BATON_ENOTFOUND);
	assert_non_null(strstr(baton_diag(), "no student \"S-9\""));
	assert_int_equal(audits(f->s, "guardian-invite", NULL, NULL), 0);
	assert_int_equal(invite_make(f->s, "S-1", "mother", code, &v), 0);
	store_set_actor(NULL);
	assert_int_equal(strlen(code), 14);
	assert_int_equal(invite_code_parse("code", code, bare), 0);
	assert_memory_equal(v.id, code, 4);
	assert_string_equal(v.by, "maria");
	assert_int_equal(v.created, NOW);
	assert_int_equal(v.expires, NOW + INVITE_TTL);
	assert_int_equal(v.state, INVITE_OPEN);
	/* The store holds the hash of the code, never the code. */
	uint8_t h[32];
	crypto_generichash(h, 32, (const uint8_t *)bare, INVITE_CODE_LEN, NULL, 0);
	assert_memory_equal(v.hash, h, 32);
	assert_int_equal(audits(f->s, "guardian-invite", bare, &seen), 1);
	assert_false(seen);

	/* A wrong secret counts an attempt, and answers as an unknown code does. */
	memcpy(wrong, code, sizeof(wrong));
	wrong[13] = wrong[13] == '2' ? '3' : '2';
	assert_int_equal(invite_claim(f->s, wrong, f->pk_line, &c), BATON_ENOTFOUND);
	assert_string_equal(baton_diag(), INVITE_NO_CODE);
	assert_int_equal(invite_get(f->s, v.id, &got, &s), 0);
	assert_int_equal(got.wrong, 1);
	assert_int_equal(got.state, INVITE_OPEN);
	assert_string_equal(s.given_name, "Ife");
	/* A malformed key is refused before anything is counted. */
	assert_int_equal(invite_claim(f->s, wrong, "baton-gk1-nope", &c), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "key: "));
	assert_int_equal(invite_get(f->s, v.id, &got, &s), 0);
	assert_int_equal(got.wrong, 1);

	/* The right code, as typed: claimed, nothing linked. */
	for (char *p = code; *p; p++)
		*p = (char)(*p == '-' ? ' ' : *p | 0x20);
	assert_int_equal(invite_claim(f->s, code, f->pk_line, &c), 0);
	assert_string_equal(c.id, v.id);
	assert_string_equal(c.student, "S-1");
	assert_string_equal(c.given_name, "Ife");
	assert_string_equal(c.relation, "mother");
	assert_int_equal(audits(f->s, "guardian-enrol", bare, &seen), 1);
	assert_false(seen);
	assert_int_equal(audits(f->s, "guardian-link", NULL, NULL), 0);
	assert_int_equal(invite_claim(f->s, code, f->pk2_line, &c), BATON_ENOTFOUND);
	assert_string_equal(baton_diag(), INVITE_NO_CODE);
	assert_int_equal(invite_get(f->s, v.id, &got, &s), 0);
	assert_int_equal(got.state, INVITE_CLAIMED);
	assert_true(got.has_pk);
	assert_memory_equal(got.pk, f->pk, BATON_PK_BYTES);

	/* Confirm links it, with the relation, in the same transaction as the state. */
	store_set_actor("maria");
	assert_int_equal(invite_confirm(f->s, v.id, &got), 0);
	store_set_actor(NULL);
	assert_int_equal(got.state, INVITE_LINKED);
	assert_int_equal(guardian_list(f->s, "S-1", &list), 0);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "relation")),
	                    "mother");
	json_decref(list);
	assert_int_equal(audits(f->s, "guardian-link", NULL, NULL), 1);
	assert_int_equal(invite_confirm(f->s, v.id, &got), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "is linked: only a claimed invitation is confirmed"));
	assert_int_equal(invite_cancel(f->s, v.id, &got), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "is linked already"));
	assert_int_equal(invite_confirm(f->s, "ZZZZ", &got), BATON_ENOTFOUND);
	assert_int_equal(invite_confirm(f->s, "Z", &got), BATON_ENOTFOUND);
}

static void test_burn_expire_cancel(void **state)
{
	struct fx *f = *state;
	char code[INVITE_CODE_TEXT], wrong[INVITE_CODE_TEXT];
	store_invite v, got;
	store_student s;
	struct invite_claimed c;
	json_t *list;

	assert_int_equal(invite_make(f->s, "S-1", "father", code, &v), 0);
	memcpy(wrong, code, sizeof(wrong));
	wrong[13] = wrong[13] == '2' ? '3' : '2';
	for (int i = 0; i < INVITE_TRIES; i++)
		assert_int_equal(invite_claim(f->s, wrong, f->pk_line, &c), BATON_ENOTFOUND);
	assert_int_equal(invite_get(f->s, v.id, &got, &s), 0);
	assert_int_equal(got.state, INVITE_BURNED);
	assert_int_equal(got.wrong, INVITE_TRIES);
	assert_int_equal(invite_claim(f->s, code, f->pk_line, &c), BATON_ENOTFOUND);
	/* Past a burn, wrong codes write nothing more. */
	assert_int_equal(invite_claim(f->s, wrong, f->pk_line, &c), BATON_ENOTFOUND);
	assert_int_equal(invite_get(f->s, v.id, &got, &s), 0);
	assert_int_equal(got.wrong, INVITE_TRIES);

	/* Expiry: open until the second it expires, then listed expired and refused. */
	assert_int_equal(invite_make(f->s, "S-1", "self", code, &v), 0);
	clock_now = NOW + INVITE_TTL;
	assert_int_equal(invite_claim(f->s, code, f->pk_line, &c), BATON_ENOTFOUND);
	assert_int_equal(invite_list(f->s, "S-1", &list), 0);
	json_t *e = NULL;
	size_t i;
	json_array_foreach(list, i, e)
	{
		if (strcmp(json_string_value(json_object_get(e, "id")), v.id) == 0)
			break;
	}
	assert_non_null(e);
	assert_string_equal(json_string_value(json_object_get(e, "state")), "expired");
	assert_null(json_object_get(e, "code"));
	json_decref(list);
	clock_now = NOW;

	/* Cancel: an open one, then its code enrols nothing. */
	assert_int_equal(invite_make(f->s, "S-1", "guardian", code, &v), 0);
	assert_int_equal(invite_cancel(f->s, v.id, &got), 0);
	assert_int_equal(got.state, INVITE_CANCELLED);
	assert_int_equal(invite_claim(f->s, code, f->pk_line, &c), BATON_ENOTFOUND);
	assert_int_equal(invite_cancel(f->s, v.id, &got), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "is cancelled already"));
	assert_int_equal(invite_list(f->s, "S-9", &list), BATON_ENOTFOUND);
	assert_int_equal(invite_list(f->s, NULL, &list), 0);
	assert_int_equal(json_array_size(list), 3);
	json_decref(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_code_parse),
	    cmocka_unit_test(test_url_and_qr),
	    cmocka_unit_test_setup_teardown(test_make_claim_confirm, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_burn_expire_cancel, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

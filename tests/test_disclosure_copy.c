/*
 * The disclosure copy made from a store (node/disclosure_copy.c): what it
 * holds (every disclosure of the student, no other entry, covered by a head
 * signed first), who gets one (the registrar; a family only for a child its
 * key sees), and the check against the log, which refuses a copy the school
 * signed that changes an entry or leaves a disclosure out, and another
 * school's copy.
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

#include <baton/disclosures.h>

#include "disclosure_copy.h"
#include "store.h"
#include "testutil.h"

struct fx {
	char dir[64];
	store *st;
	baton_key *school, *other, *parent, *stranger;
};

static uint64_t fixed_now(void)
{
	return TU_NOW;
}

static int init_fn(store_txn *t, void *arg)
{
	struct fx *f = arg;
	static const char json[] = "{\"identity\":{\"birth_date\":\"2011-04-17\",\"family_name\":"
	                           "\"Okafor\",\"given_name\":\"Amara\"},\"student_id\":\"%s\"}";
	char rec[256];
	baton_card c;
	uint8_t *card;
	size_t len;
	store_student s;
	store_guardian g;
	store_audit e;
	int r;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "Lincoln High School");
	snprintf(c.code, sizeof(c.code), "LHS-001");
	memcpy(c.id_pk, baton_key_id_pk(f->school), BATON_PK_BYTES);
	memcpy(c.enc_pk, baton_key_enc_pk(f->school), BATON_PK_BYTES);
	snprintf(c.endpoints[0], sizeof(c.endpoints[0]), "tcp://127.0.0.1:7700");
	c.n_endpoints = 1;
	c.valid_from = TU_NOW - TU_DAY;
	c.valid_until = TU_NOW + 365 * TU_DAY;
	if ((r = baton_card_sign(&c, baton_key_id_sk(f->school), &card, &len)) != 0)
		return r;
	r = store_meta_put(t, "card", card, len);
	free(card);
	if (r != 0)
		return r;
	for (int i = 1; i <= 2; i++) {
		memset(&s, 0, sizeof(s));
		snprintf(s.id, sizeof(s.id), "S-%d", i);
		snprintf(rec, sizeof(rec), json, s.id);
		if ((r = store_student_put(t, &s, rec, strlen(rec))) != 0)
			return r;
	}
	memset(&g, 0, sizeof(g));
	memcpy(g.pk, baton_key_id_pk(f->parent), BATON_PK_BYTES);
	snprintf(g.relation, sizeof(g.relation), "mother");
	if ((r = store_guardian_put(t, "S-1", &g)) != 0)
		return r;
	/* S-1: two disclosures, an entry of another kind between; S-2: one. */
	for (int i = 0; i < 4; i++) {
		memset(&e, 0, sizeof(e));
		snprintf(e.action, sizeof(e.action), "%s", i == 1 ? "link" : "disclosure");
		snprintf(e.student, sizeof(e.student), "%s", i == 3 ? "S-2" : "S-1");
		if (i != 1) {
			snprintf(e.peer, sizeof(e.peer), "RAS-204");
			e.sections = BATON_SEC_BIT(BATON_SEC_IDENTITY);
			e.has_packet = 1;
			memset(e.packet, 0x50 + i, BATON_ID_BYTES);
			e.has_consent = i == 0;
			memset(e.consent, 0x43, BATON_ID_BYTES);
			snprintf(e.by, sizeof(e.by), "%s", i == 2 ? "maria" : "");
		}
		if ((r = store_audit_append(t, &e)) != 0)
			return r;
	}
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	f->school = tu_key(BATON_KEY_SCHOOL, 1);
	f->other = tu_key(BATON_KEY_SCHOOL, 2);
	f->parent = tu_key(BATON_KEY_GUARDIAN, 3);
	f->stranger = tu_key(BATON_KEY_GUARDIAN, 4);
	snprintf(f->dir, sizeof(f->dir), "/tmp/baton-dcopy-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, 1, &f->st), 0);
	store_set_clock(f->st, fixed_now);
	assert_int_equal(store_write(f->st, init_fn, f), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	baton_key_free(f->school);
	baton_key_free(f->other);
	baton_key_free(f->parent);
	baton_key_free(f->stranger);
	free(f);
	return 0;
}

static void parse(const uint8_t *p, size_t n, baton_disclosures *d)
{
	assert_int_equal(baton_disclosures_parse(p, n, d), 0);
}

static void test_copy_holds_every_disclosure(void **state)
{
	struct fx *f = *state;
	baton_disclosures d;
	uint8_t *out;
	size_t len;

	assert_int_equal(disclosure_copy_make(f->st, f->school, "S-1", NULL, TU_NOW, &out, &len),
	                 0);
	parse(out, len, &d);
	free(out);
	assert_memory_equal(d.school, baton_key_id_pk(f->school), 32);
	assert_string_equal(d.code, "LHS-001");
	assert_string_equal(d.student, "S-1");
	assert_int_equal(d.count, 2); /* not the link, not S-2's */
	assert_int_equal(d.entry[0].seq, 1);
	assert_int_equal(d.entry[1].seq, 3);
	assert_string_equal(d.entry[0].basis, "consent");
	assert_true(d.entry[0].has_consent);
	assert_string_equal(d.entry[1].basis, "other");
	assert_string_equal(d.entry[1].by, "maria");
	assert_string_equal(d.entry[0].to_code, "RAS-204");
	assert_false(d.entry[0].has_to); /* RAS-204 is not pinned here */
	assert_string_equal(d.entry[0].receipt, "unknown");
	/* The head, signed before the copy was made, covers the whole log. */
	assert_int_equal(d.head.count, 4);
	assert_int_equal(disclosure_copy_against(f->st, &d), 0);
	baton_disclosures_free(&d);

	/* A family: its own child, not another. */
	assert_int_equal(disclosure_copy_make(f->st, f->school, "S-1", baton_key_id_pk(f->parent),
	                                      TU_NOW, &out, &len),
	                 0);
	free(out);
	assert_int_equal(disclosure_copy_make(f->st, f->school, "S-2", baton_key_id_pk(f->parent),
	                                      TU_NOW, &out, &len),
	                 BATON_ENOTFOUND);
	assert_null(out);
	assert_int_equal(disclosure_copy_make(f->st, f->school, "S-1", baton_key_id_pk(f->stranger),
	                                      TU_NOW, &out, &len),
	                 BATON_ENOTFOUND);
	assert_int_equal(disclosure_copy_make(f->st, f->school, "S-9", NULL, TU_NOW, &out, &len),
	                 BATON_ENOTFOUND);
	/* Not this school's key: no copy. */
	assert_int_equal(disclosure_copy_make(f->st, f->other, "S-1", NULL, TU_NOW, &out, &len),
	                 BATON_EINVAL);
	assert_null(out);
}

/* Copies the school signs, from d with one change, checked against the log. */
static int resigned(struct fx *f, baton_disclosures *d)
{
	baton_disclosures back;
	uint8_t *out;
	size_t len;
	int r;
	assert_int_equal(baton_disclosures_make(d, baton_key_id_sk(f->school), &out, &len), 0);
	parse(out, len, &back);
	free(out);
	r = disclosure_copy_against(f->st, &back);
	baton_disclosures_free(&back);
	return r;
}

static void test_against_refuses_a_changed_copy(void **state)
{
	struct fx *f = *state;
	baton_disclosures d;
	baton_disclosure keep;
	uint8_t *out;
	size_t len;

	assert_int_equal(disclosure_copy_make(f->st, f->school, "S-1", NULL, TU_NOW, &out, &len),
	                 0);
	parse(out, len, &d);
	free(out);
	assert_int_equal(resigned(f, &d), 0); /* the same, signed again: still holds */

	keep = d.entry[1];
	snprintf(d.entry[1].by, sizeof(d.entry[1].by), "ian");
	assert_int_equal(resigned(f, &d), BATON_EHASH);
	assert_non_null(strstr(baton_diag(), "entry 2 (log entry 3)"));
	d.entry[1] = keep;
	d.entry[1].sections |= BATON_SEC_BIT(BATON_SEC_HEALTH);
	assert_int_equal(resigned(f, &d), BATON_EHASH);
	d.entry[1] = keep;
	d.entry[1].hash[0] ^= 1;
	assert_int_equal(resigned(f, &d), BATON_EHASH);
	d.entry[1] = keep;
	d.entry[1].seq = 2; /* the link's place */
	assert_int_equal(resigned(f, &d), BATON_EHASH);
	d.entry[1] = keep;

	/* A disclosure left out of the copy. */
	d.entry[0] = d.entry[1];
	d.count = 1;
	assert_int_equal(resigned(f, &d), BATON_EHASH);
	assert_non_null(
	    strstr(baton_diag(), "log entry 1: a disclosure of S-1 that the copy leaves out"));
	baton_disclosures_free(&d);
}

static void test_against_refuses_another_school(void **state)
{
	struct fx *f = *state;
	baton_disclosures d;
	baton_audit_head h;
	uint8_t *out, *head;
	size_t len, hlen;

	assert_int_equal(disclosure_copy_make(f->st, f->school, "S-1", NULL, TU_NOW, &out, &len),
	                 0);
	parse(out, len, &d);
	free(out);
	/* The same entries under another school's key and head. */
	memset(&h, 0, sizeof(h));
	h.count = d.head.count;
	memcpy(h.head, d.head.head, 32);
	memcpy(h.key, baton_key_id_pk(f->other), 32);
	h.time = TU_NOW;
	assert_int_equal(baton_audit_head_sign(&h, baton_key_id_sk(f->other), &head, &hlen), 0);
	memcpy(d.audit, head, hlen);
	d.audit_len = hlen;
	free(head);
	memcpy(d.school, baton_key_id_pk(f->other), 32);
	assert_int_equal(baton_disclosures_make(&d, baton_key_id_sk(f->other), &out, &len), 0);
	baton_disclosures_free(&d);
	parse(out, len, &d);
	free(out);
	assert_int_equal(disclosure_copy_against(f->st, &d), BATON_EBADSIG);
	baton_disclosures_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_copy_holds_every_disclosure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_against_refuses_a_changed_copy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_against_refuses_another_school, setup, teardown),
	};
	if (baton_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

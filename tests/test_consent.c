/*
 * The release rules (node/consent.c), each both ways: accepted when it
 * should be, refused with its own error when it should not. Time is passed
 * in; nothing sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "consent.h"
#include "store.h"
#include "testutil.h"

#define SEC(s) BATON_SEC_BIT(BATON_SEC_##s)

struct fx {
	char dir[64];
	store *s;
	baton_key *a, *b, *c, *g1, *g2, *stranger, *self2, *self1;
};

static const char *birth_of(const char *id)
{
	/* TU_NOW is 2027-01-15. */
	if (strcmp(id, "S-2") == 0)
		return "2008-01-01"; /* 19: eligible */
	if (strcmp(id, "S-18") == 0)
		return "2009-01-15"; /* 18 exactly on TU_NOW's date */
	return "2011-04-17";         /* 15 */
}

struct setup_ctx {
	struct fx *f;
};

static int put_record(store_txn *t, const char *id, int postsecondary)
{
	store_student s;
	char json[512];
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", id);
	snprintf(json, sizeof(json),
	         "{\"identity\":{\"birth_date\":\"%s\",\"family_name\":\"Okafor\",\"given_name\":"
	         "\"Amara\"},\"student_id\":\"%s\"%s}",
	         birth_of(id), id,
	         postsecondary == 1   ? ",\"enrollment\":[{\"entry_date\":\"2026-08-20\","
	                                "\"grade_level\":\"PS\",\"school_code\":\"CC-1\","
	                                "\"school_name\":\"College\"}]"
	         : postsecondary == 2 ? ",\"enrollment\":[{\"entry_date\":\"2025-08-20\","
	                                "\"exit_date\":\"2026-06-01\",\"grade_level\":\"PS\","
	                                "\"school_code\":\"CC-1\",\"school_name\":\"College\"}]"
	                              : "");
	return store_student_put(t, &s, json, strlen(json));
}

static int link_key(store_txn *t, const char *id, const baton_key *k, const char *rel,
                    int restricted)
{
	store_guardian g;
	memset(&g, 0, sizeof(g));
	memcpy(g.pk, baton_key_id_pk(k), 32);
	snprintf(g.relation, sizeof(g.relation), "%s", rel);
	g.restricted = restricted;
	return store_guardian_put(t, id, &g);
}

static int populate(store_txn *t, void *arg)
{
	struct fx *f = arg;
	int r;
	if ((r = put_record(t, "S-1", 0)) || (r = put_record(t, "S-2", 0)) ||
	    (r = put_record(t, "S-3", 1)) || (r = put_record(t, "S-4", 0)) ||
	    (r = put_record(t, "S-18", 0)) || (r = put_record(t, "S-5", 2)) ||
	    (r = link_key(t, "S-5", f->g1, "mother", 0)))
		return r;
	/* S-1: two guardians, the second restricted by a court order; and its own key. */
	if ((r = link_key(t, "S-1", f->g1, "mother", 0)) ||
	    (r = link_key(t, "S-1", f->g2, "father", 1)) ||
	    (r = link_key(t, "S-1", f->self1, "self", 0)))
		return r;
	/* S-2, 19: the parents' links remain on file but their consents stop counting. */
	if ((r = link_key(t, "S-2", f->g1, "mother", 0)) ||
	    (r = link_key(t, "S-2", f->self2, "self", 0)))
		return r;
	if ((r = link_key(t, "S-3", f->g1, "mother", 0)) ||
	    (r = link_key(t, "S-4", f->g1, "mother", 0)) ||
	    (r = link_key(t, "S-18", f->g1, "mother", 0)))
		return r;
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/baton-consent-XXXXXX");
	if (mkdtemp(f->dir) == NULL || store_open(f->dir, 1, &f->s) != 0)
		return -1;
	f->a = tu_key(BATON_KEY_SCHOOL, 1);
	f->b = tu_key(BATON_KEY_SCHOOL, 2);
	f->c = tu_key(BATON_KEY_SCHOOL, 4);
	f->g1 = tu_key(BATON_KEY_GUARDIAN, 3);
	f->g2 = tu_key(BATON_KEY_GUARDIAN, 5);
	f->stranger = tu_key(BATON_KEY_GUARDIAN, 6);
	f->self2 = tu_key(BATON_KEY_GUARDIAN, 7);
	f->self1 = tu_key(BATON_KEY_GUARDIAN, 8);
	if (store_write(f->s, populate, f) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	store_close(f->s);
	baton_key_free(f->a), baton_key_free(f->b), baton_key_free(f->c);
	baton_key_free(f->g1), baton_key_free(f->g2), baton_key_free(f->stranger);
	baton_key_free(f->self2), baton_key_free(f->self1);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	int r = system(cmd);
	free(f);
	return r == 0 ? 0 : -1;
}

/* A consent from school a to school b for student, signed by k. */
static void make(struct fx *f, baton_consent *c, const char *student, const baton_key *k,
                 uint32_t sections)
{
	tu_consent_fill(c, k, f->a, f->b, sections);
	snprintf(c->student, sizeof(c->student), "%s", student);
	c->id[0] = (uint8_t)student[2]; /* distinct ids per student unless a test says otherwise */
	c->id[1] = (uint8_t)(student[3] ? student[3] : 0);
	memcpy(c->signer, baton_key_id_pk(k), 32);
}

struct run_ctx {
	struct release_check q;
	int result;
};

static int run_fn(store_txn *t, void *arg)
{
	struct run_ctx *x = arg;
	x->result = consent_check(t, &x->q);
	return consent_audit(t, &x->q, x->result, x->result ? "consent-refused" : "consent-checked",
	                     "RAS-204");
}

/* Signs c with k and runs the rules for a release to `to` at time now. */
static int check_at(struct fx *f, const baton_consent *c, const baton_key *k, const baton_key *to,
                    uint32_t asked, uint64_t now)
{
	uint8_t *bytes;
	size_t len;
	struct run_ctx x;
	tu_consent_sign(c, k, &bytes, &len);
	memset(&x, 0, sizeof(x));
	x.q.consent = bytes;
	x.q.consent_len = len;
	x.q.my_id_pk = baton_key_id_pk(f->a);
	x.q.to_pk = baton_key_id_pk(to);
	x.q.sections = asked;
	x.q.now = now;
	x.q.skew = TU_SKEW;
	assert_int_equal(store_write(f->s, run_fn, &x), 0);
	free(bytes);
	return x.result;
}

static int check(struct fx *f, const baton_consent *c, const baton_key *k)
{
	return check_at(f, c, k, f->b, 0, TU_NOW);
}

static void test_rule1_signature(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	uint8_t *bytes;
	size_t len;
	struct run_ctx x;
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check(f, &c, f->g1), 0);
	/* One flipped byte in the purpose: the signature no longer verifies. */
	tu_consent_sign(&c, f->g1, &bytes, &len);
	uint8_t *at = memmem(bytes, len, "Enrollment", 10);
	assert_non_null(at);
	at[0] ^= 0x20;
	memset(&x, 0, sizeof(x));
	x.q.consent = bytes;
	x.q.consent_len = len;
	x.q.my_id_pk = baton_key_id_pk(f->a);
	x.q.to_pk = baton_key_id_pk(f->b);
	x.q.now = TU_NOW;
	x.q.skew = TU_SKEW;
	assert_int_equal(store_write(f->s, run_fn, &x), 0);
	assert_int_equal(x.result, BATON_EBADSIG);
	free(bytes);
}

static void test_rule2_signer(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	/* Two guardians: the mother's consent passes, the restricted father's does not. */
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check(f, &c, f->g1), 0);
	make(f, &c, "S-1", f->g2, SEC(TRANSCRIPT));
	c.id[2] = 2;
	assert_int_equal(check(f, &c, f->g2), BATON_ERESTRICTED);
	assert_non_null(strstr(baton_diag(), "restricted"));
	/* A key nobody linked. */
	make(f, &c, "S-1", f->stranger, SEC(TRANSCRIPT));
	c.id[2] = 3;
	assert_int_equal(check(f, &c, f->stranger), BATON_ENOTLINKED);
	/* A student the school does not have. */
	make(f, &c, "S-9", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check(f, &c, f->g1), BATON_ENOSTUDENT);
	/* A minor's own key is not enough. */
	make(f, &c, "S-1", f->self1, SEC(TRANSCRIPT));
	c.role = BATON_ROLE_STUDENT;
	c.id[2] = 4;
	assert_int_equal(check(f, &c, f->self1), BATON_ENOTELIGIBLE);
}

static void test_rule2_eligible_student(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	/* 19: the parent's consent is refused, saying the rights have passed. */
	make(f, &c, "S-2", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check(f, &c, f->g1), BATON_EELIGIBLE);
	assert_non_null(strstr(baton_diag(), "passed to the student"));
	/* The student's own key, signing as the student, is accepted. */
	make(f, &c, "S-2", f->self2, SEC(TRANSCRIPT));
	c.role = BATON_ROLE_STUDENT;
	c.id[2] = 5;
	assert_int_equal(check(f, &c, f->self2), 0);
	/* ...but not when it signs as a guardian. */
	make(f, &c, "S-2", f->self2, SEC(TRANSCRIPT));
	c.id[2] = 6;
	assert_int_equal(check(f, &c, f->self2), BATON_ENOTLINKED);
	/* Postsecondary at 15: rights have passed too. */
	make(f, &c, "S-3", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check(f, &c, f->g1), BATON_EELIGIBLE);
	/* A college course that has ended does not move the rights: the parent signs. */
	make(f, &c, "S-5", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check(f, &c, f->g1), 0);
	/* The 18th birthday is the day the rights pass: the day before, the parent still signs. */
	make(f, &c, "S-18", f->g1, SEC(TRANSCRIPT));
	c.issued = TU_NOW - 3 * TU_DAY;
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, TU_NOW - TU_DAY), 0);
	c.id[2] = 7;
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, TU_NOW), BATON_EELIGIBLE);
}

static void test_rule3_rule4_schools(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	/* Naming another sending school. */
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	memcpy(c.from_pk, baton_key_id_pk(f->c), 32);
	assert_int_equal(check(f, &c, f->g1), BATON_EFROM);
	/* Going to a school other than the one named. */
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check_at(f, &c, f->g1, f->c, 0, TU_NOW), BATON_ETO);
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, TU_NOW), 0);
}

static void test_rule5_sections(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT) | SEC(ATTENDANCE));
	/* Asking for less is fine, and identity always travels. */
	assert_int_equal(check_at(f, &c, f->g1, f->b, SEC(TRANSCRIPT) | SEC(IDENTITY), TU_NOW), 0);
	/* A sensitive section that was not named. */
	assert_int_equal(check_at(f, &c, f->g1, f->b, SEC(HEALTH), TU_NOW), BATON_ESECTIONS);
	assert_non_null(strstr(baton_diag(), "named one by one"));
	/* A plain section outside the consent. */
	assert_int_equal(check_at(f, &c, f->g1, f->b, SEC(DISCIPLINE) | SEC(ENROLLMENT), TU_NOW),
	                 BATON_ESECTIONS);
	/* Named: allowed. */
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT) | SEC(HEALTH));
	c.id[2] = 8;
	assert_int_equal(check_at(f, &c, f->g1, f->b, SEC(HEALTH), TU_NOW), 0);
}

static void test_rule6_time(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	c.issued = TU_NOW;
	c.expires = TU_NOW + TU_DAY;
	/* Granted now, valid a day: fine at once and at the last second. */
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, TU_NOW), 0);
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, TU_NOW + TU_DAY), 0);
	/* It expires between being granted and being used. */
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, TU_NOW + TU_DAY + 1), BATON_EEXPIRED);
	/* Clock skew: a consent from a few minutes in the future is fine, an hour is not. */
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, TU_NOW - TU_SKEW), 0);
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, TU_NOW - 3600), BATON_ENOTYET);
}

struct revoke_ctx {
	const uint8_t *bytes;
	size_t len;
	uint64_t now;
	int result;
	baton_revocation rv;
};

static int revoke_fn(store_txn *t, void *arg)
{
	struct revoke_ctx *x = arg;
	x->result = consent_revoke(t, x->bytes, x->len, x->now, NULL, &x->rv);
	return 0;
}

/* Imports k's revocation of c at now. */
static int revoke_at(struct fx *f, const baton_consent *c, const baton_key *k, uint64_t now)
{
	baton_revocation rv = {{0}, {0}, now};
	uint8_t *bytes;
	size_t len;
	memcpy(rv.consent_id, c->id, 16);
	memcpy(rv.signer, baton_key_id_pk(k), 32);
	assert_int_equal(baton_revocation_sign(&rv, baton_key_id_sk(k), &bytes, &len), 0);
	struct revoke_ctx x = {bytes, len, now, 0, {{0}, {0}, 0}};
	assert_int_equal(store_write(f->s, revoke_fn, &x), 0);
	free(bytes);
	return x.result;
}

static int revoke_with(struct fx *f, const baton_consent *c, const baton_key *k)
{
	return revoke_at(f, c, k, TU_NOW);
}

struct count_rev {
	size_t n;
};

static int count_rev_cb(const uint8_t signer[BATON_PK_BYTES], int standing, const uint8_t *bytes,
                        size_t len, void *arg)
{
	(void)signer, (void)standing, (void)bytes, (void)len;
	((struct count_rev *)arg)->n++;
	return 0;
}

struct count_rev_ctx {
	const uint8_t *id;
	struct count_rev n;
};

static int count_rev_fn(store_txn *t, void *arg)
{
	struct count_rev_ctx *x = arg;
	return store_revocation_each(t, x->id, count_rev_cb, &x->n);
}

/* How many revocations of c are on file, of any standing. */
static size_t revocations_of(struct fx *f, const baton_consent *c)
{
	struct count_rev_ctx x = {c->id, {0}};
	assert_int_equal(store_read(f->s, count_rev_fn, &x), 0);
	return x.n.n;
}

static void test_rule7_revocation(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check(f, &c, f->g1), 0);
	/* Someone with no link to the student cannot withdraw it. */
	assert_int_equal(revoke_with(f, &c, f->stranger), BATON_ENOTLINKED);
	assert_int_equal(check(f, &c, f->g1), 0);
	/* Its signer can. */
	assert_int_equal(revoke_with(f, &c, f->g1), 0);
	assert_int_equal(check(f, &c, f->g1), BATON_EREVOKED);
	/* A minor's own linked key does not hold the rights: it cannot withdraw it. */
	make(f, &c, "S-1", f->g1, SEC(ATTENDANCE));
	c.id[2] = 9;
	assert_int_equal(check(f, &c, f->g1), 0);
	assert_int_equal(revoke_with(f, &c, f->self1), BATON_ENOTLINKED);
	assert_int_equal(check(f, &c, f->g1), 0);
	/* (The other parent withdrawing is in test_rule7_unlink_does_not_revive.) */
}

static int father_link(store_txn *t, void *arg)
{
	struct fx *f = arg;
	return link_key(t, "S-4", f->g2, "father", 0);
}

static int father_unlink(store_txn *t, void *arg)
{
	struct fx *f = arg;
	return store_guardian_del(t, "S-4", baton_key_id_pk(f->g2)) < 0;
}

static int father_restrict(store_txn *t, void *arg)
{
	struct fx *f = arg;
	return link_key(t, "S-4", f->g2, "father", 1);
}

static void test_rule7_revocation_stays(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	/* The student's own key (S-1 is 15) may not withdraw a parent's consent. */
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check(f, &c, f->g1), 0);
	assert_int_equal(revoke_with(f, &c, f->self1), BATON_ENOTLINKED);
	assert_int_equal(check(f, &c, f->g1), 0);
	/* For an adult, a parent may not withdraw the student's own consent. */
	make(f, &c, "S-2", f->self2, SEC(TRANSCRIPT));
	c.role = BATON_ROLE_STUDENT;
	assert_int_equal(check(f, &c, f->self2), 0);
	assert_int_equal(revoke_with(f, &c, f->g1), BATON_ENOTLINKED);
	assert_int_equal(check(f, &c, f->self2), 0);
	/* A revocation in force stays in force when its signer's link changes later. */
	make(f, &c, "S-4", f->g1, SEC(TRANSCRIPT));
	c.id[5] = 1;
	assert_int_equal(check(f, &c, f->g1), 0);
	assert_int_equal(revoke_with(f, &c, f->g1), 0);
	assert_int_equal(check(f, &c, f->g1), BATON_EREVOKED);
}

static void test_rule7_unlink_does_not_revive(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	/* The mother consents for S-4; the father, linked, withdraws it. */
	assert_int_equal(store_write(f->s, father_link, f), 0);
	make(f, &c, "S-4", f->g1, SEC(TRANSCRIPT));
	c.id[7] = 1;
	assert_int_equal(check(f, &c, f->g1), 0);
	assert_int_equal(revoke_with(f, &c, f->g2), 0);
	assert_int_equal(check(f, &c, f->g1), BATON_EREVOKED);
	/* A court order restricts him, then he is unlinked: the withdrawal stands. */
	assert_int_equal(store_write(f->s, father_restrict, f), 0);
	assert_int_equal(check(f, &c, f->g1), BATON_EREVOKED);
	assert_int_equal(store_write(f->s, father_unlink, f), 0);
	assert_int_equal(check(f, &c, f->g1), BATON_EREVOKED);
}

static void test_rule7_pending_then_judged(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	/* A revocation that arrives before the consent is judged once the consent is seen. */
	make(f, &c, "S-4", f->g1, SEC(TRANSCRIPT));
	c.id[6] = 1;
	assert_int_equal(revoke_with(f, &c, f->g1), 0); /* pending: consent unknown */
	assert_int_equal(check(f, &c, f->g1), BATON_EREVOKED);
	/* A stranger's early revocation has no standing here: refused, and nothing kept. */
	make(f, &c, "S-4", f->g1, SEC(TRANSCRIPT));
	c.id[6] = 2;
	assert_int_equal(revoke_with(f, &c, f->stranger), BATON_ENOTLINKED);
	assert_non_null(strstr(baton_diag(), "not linked to any student"));
	assert_int_equal(revocations_of(f, &c), 0);
	assert_int_equal(check(f, &c, f->g1), 0);
	assert_int_equal(check(f, &c, f->g1), 0);
	/* A guardian of another student may have signed it: kept pending, then judged no right. */
	make(f, &c, "S-4", f->g1, SEC(TRANSCRIPT));
	c.id[6] = 3;
	assert_int_equal(revoke_with(f, &c, f->self2), 0);
	assert_int_equal(revocations_of(f, &c), 1);
	assert_int_equal(check(f, &c, f->g1), 0);
	assert_int_equal(check(f, &c, f->g1), 0);
}

static int pk_order(const void *a, const void *b)
{
	const baton_key *const *x = a, *const *y = b;
	return memcmp(baton_key_id_pk(*x), baton_key_id_pk(*y), BATON_PK_BYTES);
}

struct junk_links {
	baton_key **k;
	size_t n;
};

/* The last key is S-4's father; the others are linked, unrestricted, to S-3 only. */
static int junk_link(store_txn *t, void *arg)
{
	struct junk_links *j = arg;
	int r = 0;
	for (size_t i = 0; i + 1 < j->n && r == 0; i++)
		r = link_key(t, "S-3", j->k[i], "aunt", 0);
	return r ? r : link_key(t, "S-4", j->k[j->n - 1], "father", 0);
}

static void test_rule7_every_pending_judged(void **state)
{
	struct fx *f = *state;
	enum { N = 40 };
	baton_key *k[N];
	baton_consent c;
	/* Keys that sort before the family's: stored revocations are walked in signer order. */
	for (size_t i = 0; i < N; i++)
		k[i] = tu_key(BATON_KEY_GUARDIAN, (uint8_t)(100 + i));
	qsort(k, N, sizeof(k[0]), pk_order);
	struct junk_links j = {k, N};
	assert_int_equal(store_write(f->s, junk_link, &j), 0);
	make(f, &c, "S-4", f->g1, SEC(TRANSCRIPT));
	c.id[8] = 1;
	for (size_t i = 0; i + 1 < N; i++)
		assert_int_equal(revoke_with(f, &c, k[i]), 0); /* standing here: pending */
	assert_int_equal(revoke_with(f, &c, k[N - 1]), 0);     /* the father's, last in order */
	assert_int_equal(revocations_of(f, &c), N);
	assert_int_equal(check(f, &c, f->g1), BATON_EREVOKED);
	/* Judged once and kept: still revoked when checked again. */
	assert_int_equal(check(f, &c, f->g1), BATON_EREVOKED);
	for (size_t i = 0; i < N; i++)
		baton_key_free(k[i]);
}

static void test_rule7_one_clock(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	/*
	 * S-2 turned 18 on 2026-01-01. Checked at a moment a year before that, her
	 * mother's consent stands and her own key has no right to withdraw it, whatever
	 * the wall clock says: eligibility and the standing of a revoker are judged at
	 * the one instant the check is made at.
	 */
	uint64_t then = TU_NOW - 2 * 365 * TU_DAY;
	make(f, &c, "S-2", f->g1, SEC(TRANSCRIPT));
	c.issued = then - TU_DAY;
	c.expires = then + TU_DAY;
	assert_int_equal(revoke_at(f, &c, f->self2, then), 0); /* pending */
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, then), 0);
	/* The same when the revocation arrives after the consent is known. */
	c.id[9] = 1;
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, then), 0);
	assert_int_equal(revoke_at(f, &c, f->self2, then), BATON_ENOTLINKED);
	assert_int_equal(check_at(f, &c, f->g1, f->b, 0, then), 0);
}

struct rot_ctx {
	const uint8_t *bytes;
	size_t len;
};

static int rot_fn(store_txn *t, void *arg)
{
	struct rot_ctx *x = arg;
	return consent_rotation_put(t, x->bytes, x->len);
}

/* Records old's statement, made at when, that its school now has neu's key. */
static void record_rotation(struct fx *f, const baton_key *old, const baton_key *neu, uint64_t when)
{
	baton_rotation rot;
	uint8_t *bytes;
	size_t len;
	memset(&rot, 0, sizeof(rot));
	snprintf(rot.code, sizeof(rot.code), "RAS-204");
	memcpy(rot.old_pk, baton_key_id_pk(old), 32);
	memcpy(rot.new_pk, baton_key_id_pk(neu), 32);
	rot.time = when;
	assert_int_equal(baton_rotation_sign(&rot, baton_key_id_sk(old), &bytes, &len), 0);
	struct rot_ctx x = {bytes, len};
	assert_int_equal(store_write(f->s, rot_fn, &x), 0);
	free(bytes);
}

/* check_at, with this school's identity key me. */
static int check_as(struct fx *f, const baton_consent *c, const baton_key *me, const baton_key *to,
                    uint64_t now)
{
	uint8_t *bytes;
	size_t len;
	struct run_ctx x;
	tu_consent_sign(c, f->g1, &bytes, &len);
	memset(&x, 0, sizeof(x));
	x.q.consent = bytes;
	x.q.consent_len = len;
	x.q.my_id_pk = baton_key_id_pk(me);
	x.q.to_pk = baton_key_id_pk(to);
	x.q.now = now;
	x.q.skew = TU_SKEW;
	assert_int_equal(store_write(f->s, run_fn, &x), 0);
	free(bytes);
	return x.result;
}

static void test_rule4_receiver_rotated(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	/* The family names school b; b then moves to key c. */
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	c.id[10] = 1;
	assert_int_equal(check_at(f, &c, f->g1, f->c, 0, TU_NOW), BATON_ETO);
	assert_non_null(strstr(baton_diag(), "pin its new card with its rotation statement"));
	record_rotation(f, f->b, f->c, TU_NOW - 3600);
	assert_int_equal(check_at(f, &c, f->g1, f->c, 0, TU_NOW), 0);
	/* One signed after the rotation must name the new key. */
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	c.id[10] = 2;
	c.issued = TU_NOW - 60;
	assert_int_equal(check_at(f, &c, f->g1, f->c, 0, TU_NOW), BATON_ETO);
	assert_non_null(strstr(baton_diag(), "key from before its rotation on"));
}

static void test_rule3_own_rotation(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	/* This school, a, rekeys (f->stranger's key stands in for its new one). */
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	c.id[11] = 1;
	assert_int_equal(check_as(f, &c, f->stranger, f->b, TU_NOW), BATON_EFROM);
	record_rotation(f, f->a, f->stranger, TU_NOW - 3600);
	assert_int_equal(check_as(f, &c, f->stranger, f->b, TU_NOW), 0);
	c.id[11] = 2;
	c.issued = TU_NOW - 60;
	assert_int_equal(check_as(f, &c, f->stranger, f->b, TU_NOW), BATON_EFROM);
	assert_non_null(strstr(baton_diag(), "before its rotation"));
}

static void test_rule8_reuse(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check(f, &c, f->g1), 0);
	/* The same id, signed again by the same parent, now for another child. */
	snprintf(c.student, sizeof(c.student), "S-4");
	assert_int_equal(check(f, &c, f->g1), BATON_EREUSED);
	assert_non_null(strstr(baton_diag(), "S-1"));
	/* The original keeps working. */
	snprintf(c.student, sizeof(c.student), "S-1");
	assert_int_equal(check(f, &c, f->g1), 0);
}

struct count_ctx {
	int refused, checked;
};

static int count_cb(const store_audit *e, void *arg)
{
	struct count_ctx *c = arg;
	c->refused += strcmp(e->action, "consent-refused") == 0 && e->has_consent &&
	              strstr(e->detail, "E") == e->detail;
	c->checked += strcmp(e->action, "consent-checked") == 0 && e->sections != 0;
	return 0;
}

static int count_fn(store_txn *t, void *arg)
{
	return store_audit_each(t, "S-1", count_cb, arg);
}

static void test_every_outcome_audited(void **state)
{
	struct fx *f = *state;
	baton_consent c;
	struct count_ctx n = {0, 0};
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	assert_int_equal(check(f, &c, f->g1), 0);
	assert_int_equal(check_at(f, &c, f->g1, f->c, 0, TU_NOW), BATON_ETO);
	assert_int_equal(check_at(f, &c, f->g1, f->b, SEC(HEALTH), TU_NOW), BATON_ESECTIONS);
	assert_int_equal(store_read(f->s, count_fn, &n), 0);
	assert_int_equal(n.checked, 1);
	assert_int_equal(n.refused, 2);
}

struct rules_ctx {
	struct release_check q;
	struct consent_rule v[CONSENT_RULES];
	size_t n;
	int bound; /* the consent's id is on file after */
};

static int rules_fn(store_txn *t, void *arg)
{
	struct rules_ctx *x = arg;
	store_consent sc;
	int r = consent_rules(t, &x->q, x->v, &x->n);
	x->bound = x->q.parsed && store_consent_get(t, x->q.c.id, &sc) == 0;
	if (x->bound)
		free(sc.bytes);
	return r;
}

static int audit_count_fn(store_txn *t, void *arg)
{
	return store_audit_count(t, arg);
}

/* How many audit entries the store holds. */
static int audit_count(struct fx *f)
{
	uint64_t n = 0;
	assert_int_equal(store_read(f->s, audit_count_fn, &n), 0);
	return (int)n;
}

/* Every rule has its own verdict: those after the first that fails are still applied. */
static void test_rules_each_verdict(void **state)
{
	static const char *const names[] = {"signature", "from",     "to",         "signer", "age",
	                                    "sections",  "validity", "revocation", "once"};
	struct fx *f = *state;
	struct rules_ctx x;
	baton_consent c;
	uint8_t *bytes;
	size_t len;
	int before = audit_count(f);

	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	c.expires = TU_NOW + TU_DAY;
	tu_consent_sign(&c, f->g1, &bytes, &len);
	memset(&x, 0, sizeof(x));
	x.q.consent = bytes;
	x.q.consent_len = len;
	x.q.my_id_pk = baton_key_id_pk(f->a);
	x.q.to_pk = baton_key_id_pk(f->c); /* not the school the consent names */
	x.q.sections = SEC(TRANSCRIPT) | SEC(HEALTH);
	x.q.now = TU_NOW + 2 * TU_DAY;
	x.q.skew = TU_SKEW;
	assert_int_equal(store_write(f->s, rules_fn, &x), 0);
	assert_int_equal(x.n, CONSENT_RULES);
	for (size_t i = 0; i < x.n; i++) {
		int want = strcmp(x.v[i].name, "to") == 0         ? BATON_ETO
		           : strcmp(x.v[i].name, "sections") == 0 ? BATON_ESECTIONS
		           : strcmp(x.v[i].name, "validity") == 0 ? BATON_EEXPIRED
		                                                  : 0;
		assert_int_equal(x.v[i].err, want);
		assert_int_equal(x.v[i].state, want ? CONSENT_RULE_FAILED : CONSENT_RULE_PASSED);
		assert_true(x.v[i].why[0] != 0);
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t k = 0;
		while (k < x.n && strcmp(x.v[k].name, names[i]) != 0)
			k++;
		assert_true(k < x.n);
	}
	assert_non_null(strstr(x.v[6].why, "it has expired"));
	assert_int_equal(x.q.release, 0);
	/* It reads only: the id is not bound, nothing is audited. */
	assert_false(x.bound);
	assert_int_equal(audit_count(f), before);

	/* A consent whose signature fails is not read further. */
	bytes[len - 1] ^= 1;
	assert_int_equal(store_write(f->s, rules_fn, &x), 0);
	assert_int_equal(x.v[0].state, CONSENT_RULE_FAILED);
	for (size_t i = 1; i < x.n; i++)
		assert_int_equal(x.v[i].state, CONSENT_RULE_UNCHECKED);
	free(bytes);

	/* All pass: the same release consent_check gives. */
	make(f, &c, "S-1", f->g1, SEC(TRANSCRIPT));
	tu_consent_sign(&c, f->g1, &bytes, &len);
	x.q.consent = bytes;
	x.q.consent_len = len;
	x.q.to_pk = baton_key_id_pk(f->b);
	x.q.sections = 0;
	x.q.now = TU_NOW;
	assert_int_equal(store_write(f->s, rules_fn, &x), 0);
	for (size_t i = 0; i < x.n; i++)
		assert_int_equal(x.v[i].state, CONSENT_RULE_PASSED);
	assert_int_equal(x.q.release, SEC(TRANSCRIPT) | SEC(IDENTITY));
	free(bytes);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rule1_signature, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule2_signer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule2_eligible_student, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule3_rule4_schools, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule5_sections, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule6_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule7_revocation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule7_revocation_stays, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule7_unlink_does_not_revive, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule7_pending_then_judged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule7_every_pending_judged, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule7_one_clock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule4_receiver_rotated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule3_own_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rule8_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_outcome_audited, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rules_each_verdict, setup, teardown),
	};
	if (baton_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

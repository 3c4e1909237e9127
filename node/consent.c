/* The release rules; see consent.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "consent.h"
#include "bti.h"
#include "record.h"

/* "2026-11-23 19:41 UTC" into out. */
static const char *fmt_time(uint64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	/* A signed time far outside the calendar is still shown, as a number. */
	if (t > (uint64_t)INT64_MAX || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(out, 32, "%llu", (unsigned long long)t);
	return out;
}

int student_record_load(store_txn *t, const char *student, json_t **rec)
{
	char *js;
	size_t len;
	json_error_t err;
	int r;

	*rec = NULL;
	if ((r = store_record_get(t, student, 0, &js, &len)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_ENOSTUDENT, "no student \"%s\" at this school",
		                          student)
		           : r;
	record_json_failed();
	*rec = json_loadb(js, len, 0, &err);
	sodium_memzero(js, len);
	free(js);
	/* jansson drops what it cannot allocate: a record missing a piece is no record. */
	if (record_json_failed()) {
		json_decref(*rec);
		*rec = NULL;
		return bti_diag_err(BATON_ENOMEM, "out of memory reading the record of %s",
		                    student);
	}
	if (*rec == NULL)
		return bti_diag_err(BATON_EIO, "stored record of %s does not parse", student);
	return 0;
}

int consent_birth_eligible(const char *birth, uint64_t now)
{
	int y, m, d;
	if (birth == NULL || sscanf(birth, "%d-%d-%d", &y, &m, &d) != 3)
		return 0;
	time_t tt = (time_t)now;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	int today = (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
	/* 18 on the 18th birthday (a 29 February birthday counts from 1 March). */
	return today >= (y + 18) * 10000 + m * 100 + d;
}

/* 1 when the student of rec is eligible at now (18 or over, or postsecondary), else 0. */
static int is_record_eligible(const json_t *rec, uint64_t now)
{
	const char *birth =
	    json_string_value(json_object_get(json_object_get(rec, "identity"), "birth_date"));
	int eligible = consent_birth_eligible(birth, now);
	/* Postsecondary counts while the enrollment lasts: not one that has ended. */
	char today_s[11];
	time_t tn = (time_t)now;
	struct tm tmn;
	if (gmtime_r(&tn, &tmn) == NULL ||
	    strftime(today_s, sizeof(today_s), "%Y-%m-%d", &tmn) == 0)
		today_s[0] = 0;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(rec, "enrollment"), i, e)
	{
		const char *g = json_string_value(json_object_get(e, "grade_level"));
		const char *exit_date = json_string_value(json_object_get(e, "exit_date"));
		if (g && strcmp(g, "PS") == 0 &&
		    (exit_date == NULL || strcmp(exit_date, today_s) >= 0))
			eligible = 1;
	}
	return eligible;
}

int consent_student_eligible(store_txn *t, const char *student, uint64_t now, int *eligible)
{
	json_t *rec;
	int r = student_record_load(t, student, &rec);
	*eligible = 0;
	if (r == 0)
		*eligible = is_record_eligible(rec, now);
	json_decref(rec);
	return r;
}

int consent_holds_rights(const char *relation, int eligible)
{
	return eligible == (strcmp(relation, "self") == 0);
}

struct find_link {
	const uint8_t *pk;
	int found;
	store_guardian g;
};

static int find_link_cb(const store_guardian *g, void *arg)
{
	struct find_link *f = arg;
	if (sodium_memcmp(g->pk, f->pk, BATON_PK_BYTES) == 0) {
		f->found = 1;
		f->g = *g;
	}
	return 0;
}

static int linked(store_txn *t, const char *student, const uint8_t *pk, struct find_link *f)
{
	memset(f, 0, sizeof(*f));
	f->pk = pk;
	return store_guardian_each(t, student, find_link_cb, f);
}

/*
 * Who may withdraw a consent: its own signer, or a key linked to the student,
 * not restricted, and holding the rights at the student's age (a guardian
 * before eligibility, the student's own key after). *may gets 1 or 0.
 */
static int may_revoke(store_txn *t, const baton_consent *c, const uint8_t *signer, uint64_t now,
                      int *may)
{
	struct find_link f;
	int r, eligible;
	*may = 0;
	if (sodium_memcmp(signer, c->signer, BATON_PK_BYTES) == 0) {
		*may = 1;
		return 0;
	}
	if ((r = linked(t, c->student, signer, &f)) != 0)
		return r;
	if (!f.found || f.g.restricted)
		return 0;
	if ((r = consent_student_eligible(t, c->student, now, &eligible)) != 0)
		return r;
	*may = consent_holds_rights(f.g.relation, eligible);
	return 0;
}

struct settle {
	uint8_t signer[BATON_PK_BYTES];
	uint8_t *bytes;
	size_t len;
	uint64_t time;
};

/* Every pending revocation, however many: dropping one could release a withdrawn consent. */
struct revoked_ctx {
	struct settle *pending;
	size_t n_pending, cap;
	int in_force;
	uint64_t when;
};

static int keep_pending(struct revoked_ctx *rc, const uint8_t *signer, const uint8_t *bytes,
                        size_t len, uint64_t time)
{
	if (rc->n_pending == rc->cap) {
		size_t cap = rc->cap ? 2 * rc->cap : 8;
		struct settle *p = reallocarray(rc->pending, cap, sizeof(*p));
		if (p == NULL)
			return BATON_ENOMEM;
		rc->pending = p;
		rc->cap = cap;
	}
	struct settle *p = &rc->pending[rc->n_pending];
	if ((p->bytes = malloc(len)) == NULL)
		return BATON_ENOMEM;
	memcpy(p->signer, signer, BATON_PK_BYTES);
	memcpy(p->bytes, bytes, len);
	p->len = len;
	p->time = time;
	rc->n_pending++;
	return 0;
}

static int revoked_cb(const uint8_t signer[BATON_PK_BYTES], int standing, const uint8_t *bytes,
                      size_t len, void *arg)
{
	struct revoked_ctx *rc = arg;
	baton_revocation rv;
	/* Each was verified when it arrived: one that no longer parses is damage, not "none". */
	if (baton_revocation_parse(bytes, len, &rv) != 0)
		return bti_diag_err(BATON_EIO, "store: a stored revocation does not parse");
	if (standing == REV_IN_FORCE) {
		rc->in_force = 1;
		rc->when = rv.time;
	} else if (standing == REV_PENDING)
		return keep_pending(rc, signer, bytes, len, rv.time);
	return 0;
}

int consent_revoked(store_txn *t, const baton_consent *c, uint64_t now, int *revoked,
                    uint64_t *when)
{
	struct revoked_ctx rc;
	int r, ok;
	*revoked = 0;
	memset(&rc, 0, sizeof(rc));
	if ((r = store_revocation_each(t, c->id, revoked_cb, &rc)) != 0)
		goto out;
	/*
	 * Revocations that arrived before the consent was known are judged now, once,
	 * and the verdict kept (in a write transaction): later changes to the links
	 * never bring a withdrawn consent back.
	 */
	for (size_t i = 0; i < rc.n_pending; i++) {
		struct settle *p = &rc.pending[i];
		if ((r = may_revoke(t, c, p->signer, now, &ok)) != 0)
			goto out;
		if (t->batch != 0 &&
		    (r = store_revocation_put(t, c->id, p->signer, ok ? REV_IN_FORCE : REV_NO_RIGHT,
		                              p->bytes, p->len)) != 0)
			goto out;
		if (ok && !rc.in_force) {
			rc.in_force = 1;
			rc.when = p->time;
		}
	}
	if (when)
		*when = rc.when;
	*revoked = rc.in_force;
	r = 0;
out:
	for (size_t i = 0; i < rc.n_pending; i++)
		free(rc.pending[i].bytes);
	free(rc.pending);
	return r;
}

/* "rotated-to:" and the new key in hex: the statement that moved a school to that key. */
static void rotation_key(char out[80], const uint8_t pk[BATON_PK_BYTES])
{
	memcpy(out, "rotated-to:", 11);
	sodium_bin2hex(out + 11, 80 - 11, pk, BATON_PK_BYTES);
}

int consent_rotation_put(store_txn *t, const uint8_t *bytes, size_t len)
{
	baton_rotation rot;
	char key[80];
	int r;
	if ((r = baton_rotation_parse(bytes, len, &rot)) != 0)
		return r;
	rotation_key(key, rot.new_pk);
	return store_meta_put(t, key, bytes, len);
}

/* The recorded statement that moved a school to pk: 0, or BATON_ENOTFOUND when there is none. */
static int rotation_to(store_txn *t, const uint8_t pk[BATON_PK_BYTES], baton_rotation *rot)
{
	char key[80];
	uint8_t *b;
	size_t n;
	rotation_key(key, pk);
	int r = store_meta_get(t, key, &b, &n);
	/* A node that rekeyed before statements were kept by key holds its last one. */
	if (r == BATON_ENOTFOUND && (r = store_meta_get(t, "rotation", &b, &n)) == BATON_ENOTFOUND)
		return BATON_ENOTFOUND;
	if (r != 0)
		return r;
	r = baton_rotation_parse(b, n, rot);
	free(b);
	if (r != 0)
		return bti_diag_err(BATON_EIO,
		                    "store: a recorded rotation statement does not parse");
	return sodium_memcmp(rot->new_pk, pk, BATON_PK_BYTES) == 0 ? 0 : BATON_ENOTFOUND;
}

/* Follows the statements back from pk: the keys that school held before, newest first. */
static int former_keys(store_txn *t, const uint8_t pk[BATON_PK_BYTES], baton_former_key *out,
                       size_t *n)
{
	uint8_t cur[BATON_PK_BYTES];
	baton_rotation rot;
	int r;
	memcpy(cur, pk, BATON_PK_BYTES);
	for (*n = 0; *n < FORMER_MAX; (*n)++) {
		if ((r = rotation_to(t, cur, &rot)) != 0)
			return r == BATON_ENOTFOUND ? 0 : r;
		for (size_t i = 0; i < *n; i++) /* statements that loop back: stop there */
			if (sodium_memcmp(out[i].pk, rot.old_pk, BATON_PK_BYTES) == 0)
				return 0;
		if (sodium_memcmp(rot.old_pk, pk, BATON_PK_BYTES) == 0)
			return 0;
		memcpy(out[*n].pk, rot.old_pk, BATON_PK_BYTES);
		out[*n].until = rot.time;
		memcpy(cur, rot.old_pk, BATON_PK_BYTES);
	}
	return 0;
}

int consent_former_read(store_txn *t, const uint8_t from[BATON_PK_BYTES],
                        const uint8_t to[BATON_PK_BYTES], struct former_set *f)
{
	int r;
	memset(f, 0, sizeof(*f));
	if ((r = former_keys(t, from, f->from, &f->n_from)) != 0)
		return r;
	return to ? former_keys(t, to, f->to, &f->n_to) : 0;
}

int consent_former_has(const struct former_set *f, int to, const uint8_t *pk)
{
	const baton_former_key *k = to ? f->to : f->from;
	size_t n = to ? f->n_to : f->n_from;
	for (size_t i = 0; i < n; i++)
		if (sodium_memcmp(k[i].pk, pk, BATON_PK_BYTES) == 0)
			return 1;
	return 0;
}

const baton_former_keys *former_of(struct former_set *f)
{
	f->k = (baton_former_keys){f->from, f->n_from, f->to, f->n_to};
	return &f->k;
}

/*
 * Whether a consent naming key named names the school whose key is now key:
 * 0 when it does (the key itself, or one it rotated from after the consent
 * was issued); otherwise err, in words that say which of the two it was.
 */
static int names_school(const baton_consent *c, const uint8_t *named, const uint8_t *key,
                        const baton_former_key *f, size_t n, uint64_t skew, int err,
                        const char *school, const char *code)
{
	char a[32], b[32], fn[BATON_FINGERPRINT_LEN + 1], fk[BATON_FINGERPRINT_LEN + 1];
	if (sodium_memcmp(named, key, BATON_PK_BYTES) == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (sodium_memcmp(f[i].pk, named, BATON_PK_BYTES) != 0)
			continue;
		if (c->issued <= f[i].until + skew)
			return 0;
		return bti_diag_err(
		    err,
		    "the consent names %s's key from before its rotation on %s, but "
		    "was issued after it (on %s): a consent made since must name the "
		    "new key",
		    code, fmt_time(f[i].until, a), fmt_time(c->issued, b));
	}
	baton_fingerprint(named, fn);
	baton_fingerprint(key, fk);
	return bti_diag_err(err,
	                    "the consent names %s (key %s) as the %s school, but %s has key %s "
	                    "here (if %s changed its keys, pin its new card with its rotation "
	                    "statement)",
	                    code, fn, err == BATON_EFROM ? "sending" : "receiving", school, fk,
	                    code);
}

int consent_names_schools(store_txn *t, const baton_consent *c, const uint8_t *from,
                          const char *from_name, const uint8_t *to, const char *to_name,
                          uint64_t skew, struct former_set *f)
{
	int r;
	if ((r = consent_former_read(t, from, to, f)) != 0)
		return r;
	if (sodium_memcmp(c->from_pk, from, BATON_PK_BYTES) != 0) {
		if (!consent_former_has(f, 0, c->from_pk))
			return bti_diag_err(BATON_EFROM,
			                    "the consent authorises %s to send, not %s",
			                    c->from_code, from_name);
		if ((r = names_school(c, c->from_pk, from, f->from, f->n_from, skew, BATON_EFROM,
		                      from_name, c->from_code)) != 0)
			return r;
	}
	if (to && (r = names_school(c, c->to_pk, to, f->to, f->n_to, skew, BATON_ETO, to_name,
	                            c->to_code)) != 0)
		return r;
	return 0;
}

/* Rule 2: the signer is linked to the student and not restricted; *eligible for rule 2's age. */
static int rule_signer(store_txn *t, struct release_check *q, struct find_link *f, int *eligible)
{
	const baton_consent *c = &q->c;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	json_t *rec;
	int r;

	if ((r = student_record_load(t, c->student, &rec)) != 0)
		return r;
	*eligible = is_record_eligible(rec, q->now);
	if (q->record)
		*q->record = rec; /* the caller's from here, whatever the outcome */
	else
		json_decref(rec);
	if ((r = linked(t, c->student, c->signer, f)) != 0)
		return r;
	baton_fingerprint(c->signer, fpr);
	if (!f->found)
		return bti_diag_err(
		    BATON_ENOTLINKED,
		    "the consent is signed by key %s, which is not linked to student "
		    "%s at this school",
		    fpr, c->student);
	if (f->g.restricted)
		return bti_diag_err(BATON_ERESTRICTED,
		                    "the %s key %s is restricted for student %s (a court order or "
		                    "similar): its consents are not accepted",
		                    f->g.relation, fpr, c->student);
	return 0;
}

/* Rule 2, continued: the right person for the student's age signed, in the right role. */
static int rule_age(const baton_consent *c, const struct find_link *f, int eligible)
{
	char fpr[BATON_FINGERPRINT_LEN + 1];
	int self = strcmp(f->g.relation, "self") == 0;

	if (!self && eligible)
		return bti_diag_err(
		    BATON_EELIGIBLE,
		    "student %s is 18 or in postsecondary education: the rights have "
		    "passed to the student, whose own key must sign",
		    c->student);
	if (self && !eligible)
		return bti_diag_err(
		    BATON_ENOTELIGIBLE,
		    "student %s is not yet eligible to consent; a parent or guardian "
		    "must sign",
		    c->student);
	baton_fingerprint(c->signer, fpr);
	if ((c->role == BATON_ROLE_STUDENT) != self)
		return bti_diag_err(BATON_ENOTLINKED,
		                    "the consent is signed as %s, but key %s is linked as %s",
		                    c->role == BATON_ROLE_STUDENT ? "the student" : "a guardian",
		                    fpr, f->g.relation);
	return 0;
}

/* Rule 5: the sections asked for (0: all consented) are inside the consent, into *want. */
static int rule_sections(const baton_consent *c, uint32_t asked, uint32_t *want)
{
	char list[160];
	*want = asked ? asked : c->sections;
	uint32_t extra = *want & ~(c->sections | BATON_SEC_BIT(BATON_SEC_IDENTITY));
	if (!extra)
		return 0;
	baton_sections_format(extra, list, sizeof(list));
	return bti_diag_err(BATON_ESECTIONS, "%s %s not covered by the consent%s", list,
	                    __builtin_popcount(extra) > 1 ? "are" : "is",
	                    extra & BATON_SEC_SENSITIVE_MASK
	                        ? " (sensitive sections must be named one by one)"
	                        : "");
}

/* Rule 6: the validity window, allowing for clock skew. */
static int rule_validity(const baton_consent *c, uint64_t now, uint64_t skew)
{
	char a[32], b[32];
	int r;
	if ((r = baton_check_validity(c->issued, c->expires, now, skew)) == 0)
		return 0;
	return bti_diag_err(r, "the consent is valid from %s until %s: %s", fmt_time(c->issued, a),
	                    fmt_time(c->expires, b),
	                    r == BATON_EEXPIRED ? "it has expired" : "it is not valid yet");
}

/* Rule 7: not revoked. */
static int rule_revoked(store_txn *t, const baton_consent *c, uint64_t now)
{
	uint64_t when = 0;
	char a[32];
	int r, revoked;
	if ((r = consent_revoked(t, c, now, &revoked, &when)) != 0)
		return r;
	if (revoked)
		return bti_diag_err(BATON_EREVOKED, "the consent was revoked on %s",
		                    fmt_time(when, a));
	return 0;
}

/* Rule 8: one consent, one student, for good; bind: record the id for this student. */
static int rule_once(store_txn *t, const struct release_check *q, int bind)
{
	const baton_consent *c = &q->c;
	store_consent seen;
	int r;
	if ((r = store_consent_get(t, c->id, &seen)) < 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0) {
		int other = strcmp(seen.student, c->student) != 0;
		free(seen.bytes);
		if (other)
			return bti_diag_err(BATON_EREUSED,
			                    "this consent id was already used for student %s",
			                    seen.student);
		return 0;
	}
	if (!bind)
		return 0;
	store_consent b = {{0}, {0}, t->now, (uint8_t *)(uintptr_t)q->consent, q->consent_len};
	memcpy(b.id, c->id, BATON_ID_BYTES);
	snprintf(b.student, sizeof(b.student), "%s", c->student);
	return store_consent_put(t, &b);
}

int consent_check(store_txn *t, struct release_check *q)
{
	baton_consent *c = &q->c;
	struct find_link f;
	uint32_t want;
	int r, eligible;

	q->parsed = 0;
	q->release = 0;
	/* 1. The signature, by the key the consent names (checked already, or now). */
	if (q->verified)
		*c = *q->verified;
	else if ((r = baton_consent_parse(q->consent, q->consent_len, c)) != 0)
		return r;
	q->parsed = 1;
	/* 2. Who signed: a linked, unrestricted key, the right one for the student's age. */
	if ((r = rule_signer(t, q, &f, &eligible)) != 0 || (r = rule_age(c, &f, eligible)) != 0)
		return r;
	/*
	 * 3. The sending school is this one; 4. the receiving school is where the
	 * record goes: each by its key, or one it rotated from after the consent.
	 */
	if ((r = consent_names_schools(t, c, q->my_id_pk, "this school", q->to_pk,
	                               "the school the record would go to", q->skew, &q->former)) !=
	    0)
		return r;
	/* 5. sections; 6. validity; 7. revocation; 8. one consent per student. */
	if ((r = rule_sections(c, q->sections, &want)) != 0 ||
	    (r = rule_validity(c, q->now, q->skew)) != 0 || (r = rule_revoked(t, c, q->now)) != 0 ||
	    (r = rule_once(t, q, 1)) != 0)
		return r;
	q->release = want | BATON_SEC_BIT(BATON_SEC_IDENTITY);
	return 0;
}

int consent_audit(store_txn *t, const struct release_check *q, int result, const char *action,
                  const char *peer_code)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s", action);
	if (q->parsed) {
		snprintf(e.student, sizeof(e.student), "%s", q->c.student);
		memcpy(e.consent, q->c.id, BATON_ID_BYTES);
		e.has_consent = 1;
	}
	if (peer_code)
		snprintf(e.peer, sizeof(e.peer), "%s", peer_code);
	e.sections = result == 0 ? q->release : q->sections;
	char why[200];
	snprintf(why, sizeof(why), "%s", result ? baton_diag_for(result) : "");
	snprintf(e.detail, sizeof(e.detail), "%s%s%s",
	         result == 0 ? "accepted" : baton_errname(result), result ? ": " : "", why);
	return store_audit_append(t, &e);
}

struct standing {
	store_txn *t;
	const uint8_t *pk;
	int found;
};

/* Stops the walk (returns 1) at the first unrestricted link of s->pk. */
static int standing_link_cb(const store_guardian *g, void *arg)
{
	struct standing *s = arg;
	s->found = !g->restricted && sodium_memcmp(g->pk, s->pk, BATON_PK_BYTES) == 0;
	return s->found;
}

static int standing_student_cb(const store_student *st, void *arg)
{
	struct standing *s = arg;
	return store_guardian_each(s->t, st->id, standing_link_cb, arg);
}

/*
 * *has gets 1 when pk is linked, unrestricted, to some student here (as a
 * guardian or as the student's own key), else 0. Only such a key can ever
 * withdraw a consent this node releases on: rule 2 refuses any consent whose
 * signer is not one, and may_revoke() any other revoker.
 */
static int standing(store_txn *t, const uint8_t *pk, int *has)
{
	struct standing s = {t, pk, 0};
	int r = store_student_each(t, standing_student_cb, &s);
	*has = s.found;
	return r < 0 ? r : 0;
}

/*
 * The consent a revocation withdraws, shown with it where this node has not
 * seen that consent (a receiving school, before the record arrives): the
 * revocation's signer signed it, and it names this school. *ok gets 1 when
 * shown is that consent, 0 when none was shown; any other shown consent is
 * an error naming what it gets wrong.
 */
static int shown_consent(store_txn *t, const baton_revocation *rv, const baton_consent *shown,
                         int *ok)
{
	baton_card me;
	int r;
	*ok = 0;
	if (shown == NULL)
		return 0;
	if (sodium_memcmp(shown->id, rv->consent_id, BATON_ID_BYTES) != 0)
		return bti_diag_err(BATON_EVALUE, "the consent shown is not the one the revocation "
		                                  "withdraws");
	if (sodium_memcmp(shown->signer, rv->signer, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_ENOTLINKED,
		                    "the revocation is not signed by the key that "
		                    "signed the consent shown");
	if ((r = store_own_card(t, &me)) != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
	if (sodium_memcmp(shown->from_pk, me.id_pk, BATON_PK_BYTES) != 0 &&
	    sodium_memcmp(shown->to_pk, me.id_pk, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_ETO,
		                    "the consent shown names neither %s nor %s as this "
		                    "school",
		                    shown->from_code, shown->to_code);
	*ok = 1;
	return 0;
}

int consent_revoke(store_txn *t, const uint8_t *bytes, size_t len, uint64_t now,
                   const baton_consent *shown, baton_revocation *rv)
{
	store_consent c;
	baton_consent parsed;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	int r, ok;

	if ((r = baton_revocation_parse(bytes, len, rv)) != 0)
		return r;
	if ((r = store_consent_get(t, rv->consent_id, &c)) < 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == BATON_ENOTFOUND) { /* not seen here yet: judged when the consent arrives */
		if ((r = shown_consent(t, rv, shown, &ok)) != 0)
			return r;
		if (!ok && (r = standing(t, rv->signer, &ok)) != 0)
			return r;
		if (!ok) {
			baton_fingerprint(rv->signer, fpr);
			return bti_diag_err(
			    BATON_ENOTLINKED,
			    "the revocation is signed by key %s, which is not linked to "
			    "any student at this school: not recorded (a receiving school takes "
			    "it with the consent it withdraws: --consent FILE)",
			    fpr);
		}
		return store_revocation_put(t, rv->consent_id, rv->signer, REV_PENDING, bytes, len);
	}
	r = baton_consent_parse(c.bytes, c.len, &parsed);
	free(c.bytes);
	if (r != 0)
		return bti_diag_err(BATON_EIO, "stored consent does not parse");
	/* Judged now, against the links as they are, and never again. */
	if ((r = may_revoke(t, &parsed, rv->signer, now, &ok)) != 0)
		return r;
	if (!ok)
		return bti_diag_err(
		    BATON_ENOTLINKED,
		    "the revocation is signed by a key that neither signed the consent "
		    "nor holds the rights for student %s at this school",
		    parsed.student);
	return store_revocation_put(t, rv->consent_id, rv->signer, REV_IN_FORCE, bytes, len);
}

/* A store's fault, not a rule's verdict. */
static int is_fault(int r)
{
	return r == BATON_EIO || r == BATON_ENOMEM || r == BATON_EINTERNAL || r < -900;
}

/*
 * Sets the next verdict v[*n] from r (a rule's return; its diagnostic says
 * why) or, when r is 0, from ok. unchecked: the rule could not be applied,
 * and says why. Returns r when it is a fault of the store, else 0.
 */
static int verdict(struct consent_rule *v, size_t *n, const char *name, const char *title, int r,
                   const char *ok, const char *unchecked)
{
	struct consent_rule *x = &v[(*n)++];
	if (is_fault(r))
		return r;
	x->name = name;
	x->title = title;
	x->err = unchecked ? 0 : r;
	x->state = unchecked ? CONSENT_RULE_UNCHECKED
	           : r       ? CONSENT_RULE_FAILED
	                     : CONSENT_RULE_PASSED;
	const char *d = r ? baton_diag_for(r) : "";
	snprintf(x->why, sizeof(x->why), "%s",
	         unchecked ? unchecked
	         : !r      ? ok
	         : d[0]    ? d
	                   : baton_strerror(r));
	bti_diag_clear();
	return 0;
}

/* Rules 2 to 4: who signed, and the two schools. */
static int rules_who(store_txn *t, struct release_check *q, struct consent_rule *v, size_t *n)
{
	const baton_consent *c = &q->c;
	char ok[300], fpr[BATON_FINGERPRINT_LEN + 1];
	struct find_link f;
	int r, eligible = 0;

	memset(&f, 0, sizeof(f));
	baton_fingerprint(c->signer, fpr);
	r = rule_signer(t, q, &f, &eligible);
	snprintf(ok, sizeof(ok), "key %s is linked to student %s as %s, not restricted", fpr,
	         c->student, f.g.relation);
	if ((r = verdict(v, n, "signer", "Signed by a key linked to the student, not restricted", r,
	                 ok, NULL)) != 0)
		return r;
	int signer_ok = v[*n - 1].state == CONSENT_RULE_PASSED;
	snprintf(ok, sizeof(ok), "%s signed, as the student's age requires",
	         c->role == BATON_ROLE_STUDENT ? "the student" : "a guardian");
	if ((r = verdict(v, n, "age",
	                 "Signed by the right person for the student's age (the student's own "
	                 "key once 18 or in postsecondary education)",
	                 signer_ok ? rule_age(c, &f, eligible) : 0, ok,
	                 signer_ok ? NULL : "not checked: the signer is not linked")) != 0)
		return r;
	r = consent_names_schools(t, c, q->my_id_pk, "this school", NULL, NULL, q->skew,
	                          &q->former);
	snprintf(ok, sizeof(ok), "%s, this school, may send", c->from_code);
	if ((r = verdict(v, n, "from", "Names this school as the sender", r, ok, NULL)) != 0)
		return r;
	if ((r = consent_former_read(t, q->my_id_pk, q->to_pk, &q->former)) == 0)
		r = names_school(c, c->to_pk, q->to_pk, q->former.to, q->former.n_to, q->skew,
		                 BATON_ETO, "the school the record would go to", c->to_code);
	snprintf(ok, sizeof(ok), "the record may go to %s", c->to_code);
	return verdict(v, n, "to", "Names the receiving school", r, ok, NULL);
}

/* Rules 5 to 8: sections, validity, revocation, one student. */
static int rules_use(store_txn *t, struct release_check *q, struct consent_rule *v, size_t *n)
{
	const baton_consent *c = &q->c;
	char ok[300], secs[200], a[32];
	uint32_t want = 0;
	int r, fails = 0;

	r = rule_sections(c, q->sections, &want);
	baton_sections_format(want | BATON_SEC_BIT(BATON_SEC_IDENTITY), secs, sizeof(secs));
	snprintf(ok, sizeof(ok), "would release: %s", secs);
	if ((r = verdict(v, n, "sections", "The sections asked for are inside the consent", r, ok,
	                 NULL)) != 0)
		return r;
	snprintf(ok, sizeof(ok), "valid until %s", fmt_time(c->expires, a));
	if ((r = verdict(v, n, "validity", "Inside its validity window",
	                 rule_validity(c, q->now, q->skew), ok, NULL)) != 0 ||
	    (r = verdict(v, n, "revocation", "Not revoked", rule_revoked(t, c, q->now),
	                 "no revocation of it is on file", NULL)) != 0 ||
	    (r = verdict(v, n, "once", "Used for this student only", rule_once(t, q, 0),
	                 "its id is not bound to another student", NULL)) != 0)
		return r;
	for (size_t i = 0; i < *n; i++)
		fails += v[i].state != CONSENT_RULE_PASSED;
	if (!fails)
		q->release = want | BATON_SEC_BIT(BATON_SEC_IDENTITY);
	return 0;
}

int consent_rules(store_txn *t, struct release_check *q, struct consent_rule *v, size_t *n)
{
	static const char *const later[][2] = {
	    {"signer", "Signed by a key linked to the student, not restricted"},
	    {"age", "Signed by the right person for the student's age"},
	    {"from", "Names this school as the sender"},
	    {"to", "Names the receiving school"},
	    {"sections", "The sections asked for are inside the consent"},
	    {"validity", "Inside its validity window"},
	    {"revocation", "Not revoked"},
	    {"once", "Used for this student only"}};
	int r;

	*n = 0;
	q->parsed = 0;
	q->release = 0;
	memset(v, 0, CONSENT_RULES * sizeof(*v));
	r = q->verified ? (q->c = *q->verified, 0)
	                : baton_consent_parse(q->consent, q->consent_len, &q->c);
	if ((r = verdict(v, n, "signature", "The consent's signature verifies", r,
	                 "signed by the key it names, unchanged since", NULL)) != 0)
		return r;
	if (v[0].state != CONSENT_RULE_PASSED) {
		for (size_t i = 0; i < sizeof(later) / sizeof(later[0]); i++)
			verdict(v, n, later[i][0], later[i][1], 0, NULL,
			        "not checked: the consent could not be read");
		return 0;
	}
	q->parsed = 1;
	if ((r = rules_who(t, q, v, n)) != 0)
		return r;
	return rules_use(t, q, v, n);
}

/*
 * The enrolment exception's policy and the checks a release on an
 * enrolment statement makes (enrolment.h). The policy is kept in the
 * store's named values under "policy.enrolment": one byte on/off, the
 * sensitive sections as a 4-byte big-endian mask, then the notice's text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <baton/record.h>

#include "bti.h"
#include "enrolment.h"
#include "terms.h"

#define ENROL_KEY "policy.enrolment"

int xfer_enrol_policy_read(store_txn *t, struct enrol_policy *p)
{
	uint8_t *v = NULL;
	size_t n = 0;
	int r = store_meta_get(t, ENROL_KEY, &v, &n);
	memset(p, 0, sizeof(*p));
	if (r == BATON_ENOTFOUND)
		return 0;
	if (r != 0)
		return r;
	if (n < 5 || n - 5 > ENROL_NOTICE_MAX) {
		free(v);
		return bti_diag_err(BATON_EIO, "store: damaged enrolment policy");
	}
	p->on = v[0] == 1;
	p->sensitive = (uint32_t)v[1] << 24 | (uint32_t)v[2] << 16 | (uint32_t)v[3] << 8 | v[4];
	memcpy(p->notice, v + 5, n - 5);
	p->notice[n - 5] = '\0';
	free(v);
	return 0;
}

struct set_ctx {
	int on;
	const uint32_t *sensitive;
	const char *notice;
	size_t len;
};

static int set_fn(store_txn *t, void *arg)
{
	struct set_ctx *c = arg;
	struct enrol_policy p;
	uint8_t v[5 + ENROL_NOTICE_MAX];
	char secs[160] = "none";
	store_audit e;
	int r;

	if ((r = xfer_enrol_policy_read(t, &p)) != 0)
		return r;
	p.on = c->on;
	if (c->sensitive)
		p.sensitive = *c->sensitive;
	if (c->notice) {
		memcpy(p.notice, c->notice, c->len);
		p.notice[c->len] = '\0';
	}
	if (p.on && p.notice[0] == '\0')
		return bti_diag_err(BATON_EVALUE,
		                    "notice: the exception applies only after the annual notice to "
		                    "families: give its text (--notice-file FILE)");
	size_t n = strlen(p.notice);
	v[0] = (uint8_t)(p.on != 0);
	v[1] = (uint8_t)(p.sensitive >> 24), v[2] = (uint8_t)(p.sensitive >> 16);
	v[3] = (uint8_t)(p.sensitive >> 8), v[4] = (uint8_t)p.sensitive;
	memcpy(v + 5, p.notice, n);
	if ((r = store_meta_put(t, ENROL_KEY, v, 5 + n)) != 0)
		return r;
	if (p.sensitive)
		baton_sections_format(p.sensitive, secs, sizeof(secs));
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "policy");
	snprintf(
	    e.detail, sizeof(e.detail),
	    "enrolment exception %s (34 CFR 99.31(a)(2)): sensitive sections released: %.100s; "
	    "annual notice of %zu bytes%s",
	    p.on ? "on" : "off", secs, n, c->notice ? " set" : "");
	return store_audit_append(t, &e);
}

int enrolment_policy_set(store *st, int on, const uint32_t *sensitive, const char *notice,
                         size_t len)
{
	int r;
	if (sensitive) {
		for (int i = 0; i < BATON_SEC_COUNT; i++)
			if ((*sensitive & BATON_SEC_BIT(i)) &&
			    !baton_section_sensitive((baton_section)i))
				return bti_diag_err(BATON_EVALUE,
				                    "sensitive: %s is not a sensitive section (the "
				                    "others are released on a statement anyway)",
				                    baton_section_name((baton_section)i));
	}
	if (notice && len > ENROL_NOTICE_MAX)
		return bti_diag_err(BATON_EVALUE, "notice: %zu bytes, expected 1..%d", len,
		                    ENROL_NOTICE_MAX);
	if (notice && (r = terms_check(notice, len)) != 0) {
		char why[200];
		snprintf(why, sizeof(why), "%s", baton_diag());
		return bti_diag_err(r, "notice: %s",
		                    strncmp(why, "terms: ", 7) == 0 ? why + 7 : why);
	}
	struct set_ctx c = {on, sensitive, notice, len};
	return store_write(st, set_fn, &c);
}

static int get_fn(store_txn *t, void *arg)
{
	return xfer_enrol_policy_read(t, arg);
}

int enrolment_policy_get(store *st, struct enrol_policy *p)
{
	return store_read(st, get_fn, p);
}

int xfer_enrol_same_child(store_txn *t, const baton_enrolment *s)
{
	store_student on_file, named;
	int r;
	if ((r = store_student_get(t, s->student, &on_file)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_ENOTFOUND, "no student %s on file here", s->student)
		           : r;
	memset(&named, 0, sizeof(named));
	snprintf(named.given_name, sizeof(named.given_name), "%s", s->given_name);
	snprintf(named.family_name, sizeof(named.family_name), "%s", s->family_name);
	snprintf(named.birth_date, sizeof(named.birth_date), "%s", s->birth_date);
	if (!store_same_child(&on_file, &named))
		return bti_diag_err(BATON_EVALUE,
		                    "the statement describes another child than student %s on file "
		                    "here (names or birth date differ): a person must decide",
		                    s->student);
	return 0;
}

uint32_t enrol_release_mask(const struct enrol_policy *p, uint32_t want)
{
	uint32_t m = BATON_SEC_BIT(BATON_SEC_IDENTITY);
	for (int i = 0; i < BATON_SEC_COUNT; i++)
		if ((want & BATON_SEC_BIT(i)) && (!baton_section_sensitive((baton_section)i) ||
		                                  (p->sensitive & BATON_SEC_BIT(i))))
			m |= BATON_SEC_BIT(i);
	return m;
}

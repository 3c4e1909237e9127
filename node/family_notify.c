/*
 * Telling the family (family_notify.h): who is told of what, the address on
 * file for a key, and the daily look for consents ending and rights passing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <baton/error.h>
#include <baton/objects.h>

#include "bti.h"
#include "consent.h"
#include "family_notify.h"

static const char *const kind_names[] = {"?", "disclosure", "request", "consent-expiring",
                                         "rights"};

const char *notify_kind_name(uint32_t k)
{
	return k >= 1 && k <= NOTIFY_KIND_MAX ? kind_names[k] : "?";
}

/* A character a local part may hold: printable ASCII, none that quotes or separates. */
static int local_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"(),:;<>@[\\]", c);
}

int notify_email_check(const char *what, const char *addr)
{
	const char *at, *p, *label;
	size_t n = strlen(addr), dots = 0;

	if (n == 0 || n > STORE_EMAIL_MAX)
		return bti_diag_err(BATON_EVALUE, "%s: an email address of 3 to %d characters",
		                    what, STORE_EMAIL_MAX);
	for (p = addr; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return bti_diag_err(
			    BATON_EVALUE, "%s: character 0x%02x is not allowed in an email address",
			    what, (unsigned char)*p);
	at = strchr(addr, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return bti_diag_err(BATON_EVALUE, "%s: an email address has exactly one '@'", what);
	if (at == addr || at - addr > 64)
		return bti_diag_err(BATON_EVALUE,
		                    "%s: the part before '@' must be 1 to 64 characters", what);
	for (p = addr; p < at; p++)
		if (!local_char((unsigned char)*p))
			return bti_diag_err(
			    BATON_EVALUE, "%s: character 0x%02x is not allowed in an email address",
			    what, (unsigned char)*p);
	if (addr[0] == '.' || at[-1] == '.' || strstr(addr, "..") != NULL)
		return bti_diag_err(BATON_EVALUE,
		                    "%s: an email address has no empty part between dots", what);
	for (label = p = at + 1;; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '.' || c == '\0') {
			if (p == label || label[0] == '-' || p[-1] == '-' || p - label > 63)
				return bti_diag_err(BATON_EVALUE,
				                    "%s: the domain after '@' is not a host name",
				                    what);
			if (c == '\0')
				break;
			dots++;
			label = p + 1;
		} else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		             (c >= '0' && c <= '9') || c == '-')) {
			return bti_diag_err(BATON_EVALUE,
			                    "%s: character 0x%02x is not allowed in the domain",
			                    what, c);
		}
	}
	if (dots == 0)
		return bti_diag_err(BATON_EVALUE,
		                    "%s: the domain after '@' needs a dot (example.org)", what);
	return 0;
}

/* ---- queueing ---- */

#define TOLD_MAX 16 /* distinct addresses of one student's keys told of one event */

struct tell {
	store_txn *t;
	const char *student;
	enum notify_kind k;
	const char *peer;
	int eligible; /* -1 until a key with an address needs it */
	char told[TOLD_MAX][STORE_EMAIL_MAX + 1];
	size_t n;
};

static int tell_key(const store_guardian *g, void *ctx)
{
	struct tell *x = ctx;
	store_mail m;
	size_t i;
	int r;

	if (g->restricted)
		return 0;
	memset(&m, 0, sizeof(m));
	if ((r = store_email_get(x->t, g->pk, m.addr)) != 0)
		return r == BATON_ENOTFOUND ? 0 : r;
	/* The record is read only for a key that has an address: most have none. */
	if (x->k != NOTIFY_RIGHTS && x->eligible < 0) {
		r = consent_student_eligible(x->t, x->student, x->t->now, &x->eligible);
		if (r == BATON_ENOSTUDENT || r == BATON_ENOTFOUND)
			r = 0; /* a student with no record yet: the parents hold the rights */
		if (r != 0)
			return r;
	}
	if (x->k != NOTIFY_RIGHTS && !consent_holds_rights(g->relation, x->eligible))
		return 0;
	for (i = 0; i < x->n; i++)
		if (strcmp(x->told[i], m.addr) == 0)
			return 0;
	if (x->n == TOLD_MAX)
		return 0;
	snprintf(x->told[x->n++], sizeof(x->told[0]), "%s", m.addr);
	randombytes_buf(m.id, sizeof(m.id));
	snprintf(m.student, sizeof(m.student), "%s", x->student);
	snprintf(m.peer, sizeof(m.peer), "%s", x->peer ? x->peer : "");
	m.kind = (uint32_t)x->k;
	m.created = x->t->now;
	m.next = x->t->now;
	return store_mail_put(x->t, &m);
}

int notify_family(store_txn *t, const char *student, enum notify_kind k, const char *peer)
{
	struct tell *x;
	int r;

	if ((int)k < 1 || (int)k > NOTIFY_KIND_MAX)
		return bti_diag_err(BATON_EINVAL, "notify: unknown kind %d", (int)k);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return BATON_ENOMEM;
	x->t = t;
	x->student = student;
	x->k = k;
	x->peer = peer;
	x->eligible = -1;
	r = store_guardian_each(t, student, tell_key, x);
	free(x);
	return r;
}

/* ---- the address on file ---- */

struct email_set {
	const uint8_t *pk;
	const char *addr;
	int linked;
};

static int any_link(const char *student, const store_guardian *g, void *ctx)
{
	(void)student;
	(void)g;
	((struct email_set *)ctx)->linked = 1;
	return 1;
}

/* The notices queued for an address a key no longer has, of the students the key is linked to. */
struct requeue {
	store_txn *t;
	const uint8_t *pk;
	const char *old;
	store_mail *m;
	size_t n, cap;
	int other;
};

static int requeue_row(const store_mail *m, void *ctx)
{
	struct requeue *x = ctx;
	if (strcmp(m->addr, x->old) != 0)
		return 0;
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 8;
		store_mail *nm = realloc(x->m, cap * sizeof(*nm));
		if (nm == NULL)
			return BATON_ENOMEM;
		x->m = nm;
		x->cap = cap;
	}
	x->m[x->n++] = *m;
	return 0;
}

/* Whether the student is this key's, or another key of it still has the old address on file. */
static int requeue_key(const store_guardian *g, void *ctx)
{
	struct requeue *x = ctx;
	char addr[STORE_EMAIL_MAX + 1];
	int r;
	if (sodium_memcmp(g->pk, x->pk, BATON_PK_BYTES) == 0) {
		x->other |= 1;
		return 0;
	}
	if ((r = store_email_get(x->t, g->pk, addr)) != 0)
		return r == BATON_ENOTFOUND ? 0 : r;
	if (strcmp(addr, x->old) == 0)
		x->other |= 2;
	return 0;
}

static int requeue(store_txn *t, const uint8_t *pk, const char *old, const char *addr)
{
	struct requeue x = {t, pk, old, NULL, 0, 0, 0};
	int r = store_mail_each(t, requeue_row, &x);
	for (size_t i = 0; r == 0 && i < x.n; i++) {
		store_mail *m = &x.m[i];
		x.other = 0;
		if ((r = store_guardian_each(t, m->student, requeue_key, &x)) != 0)
			break;
		if (x.other != 1)
			continue; /* not this key's student, or another key still has the address */
		if (addr[0]) {
			snprintf(m->addr, sizeof(m->addr), "%s", addr);
			r = store_mail_put(t, m);
		} else {
			r = store_mail_del(t, m->id);
		}
	}
	if (x.m)
		sodium_memzero(x.m, x.cap * sizeof(*x.m));
	free(x.m);
	return r;
}

static int email_set_fn(store_txn *t, void *ctx)
{
	struct email_set *x = ctx;
	char fpr[BATON_FINGERPRINT_LEN + 1], old[STORE_EMAIL_MAX + 1];
	store_audit e;
	int r;

	x->linked = 0;
	if ((r = store_guardian_each_student(t, x->pk, any_link, x)) < 0)
		return r;
	baton_fingerprint(x->pk, fpr);
	if (!x->linked)
		return bti_diag_err(BATON_ENOTFOUND, "key %s is not linked to any student", fpr);
	if ((r = store_email_get(t, x->pk, old)) != 0 && r != BATON_ENOTFOUND)
		return r;
	if (strcmp(old, x->addr) == 0)
		return 0; /* nothing changes: nothing to audit */
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "guardian-email");
	snprintf(e.detail, sizeof(e.detail), "%s the email address of key %s",
	         x->addr[0] ? (old[0] ? "changed" : "set") : "removed", fpr);
	if ((r = store_email_put(t, x->pk, x->addr)) != 0 ||
	    (old[0] && (r = requeue(t, x->pk, old, x->addr)) != 0))
		return r;
	return store_audit_append(t, &e);
}

int notify_email_set(store *st, const uint8_t pk[BATON_PK_BYTES], const char *addr)
{
	struct email_set x = {pk, addr ? addr : "", 0};
	int r;
	if (x.addr[0] && (r = notify_email_check("email", x.addr)) != 0)
		return r;
	return store_write(st, email_set_fn, &x);
}

struct email_get {
	const uint8_t *pk;
	char *addr;
};

static int email_get_fn(store_txn *t, void *ctx)
{
	struct email_get *x = ctx;
	int r = store_email_get(t, x->pk, x->addr);
	return r == BATON_ENOTFOUND ? 0 : r;
}

int notify_email_get(store *st, const uint8_t pk[BATON_PK_BYTES], char *addr)
{
	struct email_get x = {pk, addr};
	addr[0] = '\0';
	return store_read(st, email_get_fn, &x);
}

/* ---- the daily scan ---- */

/* scan_fn's answer when it found nothing: the transaction is aborted, not committed. */
#define SCAN_NOTHING 1

struct scan {
	store_txn *t;
	unsigned found;
};

/* Queues once: 0 and nothing done when marker is already in the meta table. */
static int once(struct scan *x, const char *marker, const char *student, enum notify_kind k,
                const char *peer)
{
	uint8_t *v = NULL;
	size_t len = 0;
	int r = store_meta_get(x->t, marker, &v, &len);
	free(v);
	if (r != BATON_ENOTFOUND)
		return r;
	if ((r = store_meta_put(x->t, marker, "1", 1)) != 0 ||
	    (r = notify_family(x->t, student, k, peer)) != 0)
		return r;
	x->found++;
	return 0;
}

static int scan_consent(const store_consent *c, void *ctx)
{
	struct scan *x = ctx;
	uint64_t now = x->t->now;
	char marker[64], hex[2 * BATON_ID_BYTES + 1];
	baton_consent bc;
	int revoked = 0, r;

	if (baton_consent_parse(c->bytes, c->len, &bc) != 0)
		return 0; /* a consent that does not read is no one's to extend */
	if (bc.expires <= now || bc.expires > now + NOTIFY_EXPIRY_DAYS * UINT64_C(86400))
		return 0;
	if ((r = consent_revoked(x->t, &bc, now, &revoked, NULL)) != 0)
		return r;
	if (revoked)
		return 0;
	sodium_bin2hex(hex, sizeof(hex), c->id, BATON_ID_BYTES);
	snprintf(marker, sizeof(marker), "told/expiring/%s", hex);
	return once(x, marker, c->student, NOTIFY_CONSENT_EXPIRING, bc.to_code);
}

static int scan_student(const store_student *s, void *ctx)
{
	struct scan *x = ctx;
	char marker[32 + BATON_STUDENT_MAX];
	uint64_t before = x->t->now - NOTIFY_RIGHTS_DAYS * UINT64_C(86400);
	int now_e = 0, before_e = 0, r;

	/*
	 * Only an 18th birthday in the window can make a student eligible in
	 * it: a postsecondary enrolment in force now was in force then too.
	 * The index's birth date, the record's, says so without reading the
	 * record, which is read for the few whose birthday it was.
	 */
	if (!consent_birth_eligible(s->birth_date, x->t->now) ||
	    consent_birth_eligible(s->birth_date, before))
		return 0;
	if ((r = consent_student_eligible(x->t, s->id, x->t->now, &now_e)) != 0)
		return r == BATON_ENOSTUDENT ? 0 : r;
	if (!now_e)
		return 0;
	if ((r = consent_student_eligible(x->t, s->id, before, &before_e)) != 0)
		return r;
	if (before_e)
		return 0; /* eligible for longer: told then, or before this was kept */
	snprintf(marker, sizeof(marker), "told/rights/%s", s->id);
	return once(x, marker, s->id, NOTIFY_RIGHTS, NULL);
}

static int scan_fn(store_txn *t, void *ctx)
{
	struct scan *x = ctx;
	int r;
	x->t = t;
	x->found = 0;
	if ((r = store_consent_each(t, scan_consent, x)) != 0 ||
	    (r = store_student_each(t, scan_student, x)) != 0)
		return r;
	return x->found ? 0 : SCAN_NOTHING; /* nothing found: no empty commit */
}

int notify_scan(store *st, uint64_t now, unsigned *queued)
{
	struct scan x = {NULL, 0};
	int r = store_write_at(st, now, scan_fn, &x);
	if (r == SCAN_NOTHING)
		r = 0;
	if (queued)
		*queued = r == 0 ? x.found : 0;
	return r;
}

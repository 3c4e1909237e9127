/*
 * The signed copy of the record of disclosures (disclosure_copy.h): one
 * write transaction signs the log's head when it must and reads what the
 * copy names, so the head covers every entry the copy holds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "disclosure_copy.h"
#include "erase.h"
#include "family.h"

struct make {
	const baton_key *key;
	const char *student;
	const uint8_t *family;
	uint64_t now;
	store_txn *t;
	baton_disclosures d;
	size_t cap;
	uint8_t *out;
	size_t len;
};

/* The legal basis of a disclosure entry, as the copy names it (PROTOCOL.md 3.13). */
static const char *entry_basis(const store_audit *e)
{
	const char *b = store_audit_basis(e);
	return b[0] ? b : "other";
}

const char *disclosure_receipt_state(const store_outbox *ob, int found)
{
	if (!found)
		return "unknown";
	switch (ob->state) {
	case OUT_QUEUED:
	case OUT_SENT:
		return "waiting";
	case OUT_RECEIPTED:
		return "received";
	case OUT_REJECTED:
		return "refused";
	case OUT_EXPIRED:
		return "expired";
	default:
		return "unknown";
	}
}

static int entry_cb(const store_audit *e, void *arg)
{
	struct make *m = arg;
	baton_disclosure *x;
	baton_card c;
	store_outbox ob;
	int found = 0, r;

	if (strcmp(e->student, m->student) != 0)
		return 0;
	/* An erased child's disclosures are not those of a child given its id since. */
	if (strcmp(e->action, ERASE_ACTION) == 0)
		m->d.count = 0;
	if (strcmp(e->action, "disclosure") != 0)
		return 0;
	if (m->d.count == BATON_DISCLOSURES_MAX_ENTRIES)
		return bti_diag_err(BATON_EVALUE,
		                    "student %s: more than %d disclosures, more than a copy holds",
		                    m->student, BATON_DISCLOSURES_MAX_ENTRIES);
	if (m->d.count == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 16;
		void *p = realloc(m->d.entry, cap * sizeof(*m->d.entry));
		if (p == NULL)
			return BATON_ENOMEM;
		m->d.entry = p;
		m->cap = cap;
	}
	x = &m->d.entry[m->d.count++];
	memset(x, 0, sizeof(*x));
	x->seq = e->seq;
	memcpy(x->hash, e->hash, sizeof(x->hash));
	x->time = e->time;
	snprintf(x->basis, sizeof(x->basis), "%s", entry_basis(e));
	snprintf(x->by, sizeof(x->by), "%s", e->by);
	if ((x->has_consent = e->has_consent) != 0)
		memcpy(x->consent, e->consent, BATON_ID_BYTES);
	if ((x->has_packet = e->has_packet) != 0) {
		memcpy(x->packet, e->packet, BATON_ID_BYTES);
		r = store_outbox_get(m->t, e->packet, &ob);
		if (r != 0 && r != BATON_ENOTFOUND)
			return r;
		if ((found = r == 0) != 0) {
			x->has_packet_hash = 1;
			memcpy(x->packet_hash, ob.hash, BATON_HASH_BYTES);
		}
	}
	snprintf(x->receipt, sizeof(x->receipt), "%s", disclosure_receipt_state(&ob, found));
	x->sections = e->sections;
	snprintf(x->to_code, sizeof(x->to_code), "%s", e->peer);
	/* The receiving school as pinned now; its code alone when no card is. */
	if (store_peer_card(m->t, e->peer, &c) == 0) {
		x->has_to = 1;
		memcpy(x->to, c.id_pk, BATON_PK_BYTES);
		snprintf(x->to_name, sizeof(x->to_name), "%s", c.name);
	}
	return 0;
}

static int make_fn(store_txn *t, void *arg)
{
	struct make *m = arg;
	store_student s;
	baton_card own;
	uint8_t *head = NULL;
	size_t hlen = 0;
	int r;

	free(m->d.entry);
	memset(&m->d, 0, sizeof(m->d));
	m->cap = 0;
	m->t = t;
	if (m->family) {
		if ((r = family_student_check(t, m->family, m->student, m->now, 1, NULL)) != 0)
			return r;
	} else if ((r = store_student_get(t, m->student, &s)) != 0) {
		return r == BATON_ENOTFOUND || r == BATON_ENOSTUDENT
		           ? bti_diag_err(BATON_ENOTFOUND, "student %s: not found", m->student)
		           : r;
	}
	if ((r = store_own_card(t, &own)) != 0)
		return r;
	if (sodium_memcmp(own.id_pk, baton_key_id_pk(m->key), BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EINVAL, "the school key is not the key of this school's "
		                                  "card");
	/* Every entry the copy names is covered by the head it carries. */
	if ((r = store_audit_sign(t, m->key, NULL)) != 0 || (r = store_audit_head(t, &head, &hlen)))
		return r;
	if (hlen > sizeof(m->d.audit)) {
		free(head);
		return bti_diag_err(BATON_EINTERNAL, "audit head: %zu bytes", hlen);
	}
	memcpy(m->d.audit, head, hlen);
	m->d.audit_len = hlen;
	free(head);
	memcpy(m->d.school, own.id_pk, BATON_PK_BYTES);
	snprintf(m->d.code, sizeof(m->d.code), "%s", own.code);
	snprintf(m->d.name, sizeof(m->d.name), "%s", own.name);
	snprintf(m->d.student, sizeof(m->d.student), "%s", m->student);
	m->d.time = m->now;
	return store_audit_each(t, m->student, entry_cb, m);
}

int disclosure_copy_make(store *st, const baton_key *key, const char *student,
                         const uint8_t *family, uint64_t now, uint8_t **out, size_t *len)
{
	struct make m = {.key = key, .student = student, .family = family, .now = now};
	int r;

	*out = NULL;
	*len = 0;
	if (!student || !student[0] || strlen(student) > BATON_STUDENT_MAX)
		return bti_diag_err(BATON_ENOTFOUND, "student: not found");
	r = store_write_at(st, now, make_fn, &m);
	if (r == 0)
		r = baton_disclosures_make(&m.d, baton_key_id_sk(key), out, len);
	free(m.d.entry);
	return r;
}

/* ---- against the log ---- */

struct against {
	const baton_disclosures *d;
	size_t next;     /* the copy's next entry to find */
	uint64_t extra;  /* a disclosure in the log that the copy leaves out */
	uint64_t erased; /* the erasure after which the copy still names entries */
};

static int same_entry(const baton_disclosure *x, const store_audit *e)
{
	return sodium_memcmp(x->hash, e->hash, 32) == 0 && x->time == e->time &&
	       strcmp(x->to_code, e->peer) == 0 && x->sections == e->sections &&
	       x->has_consent == e->has_consent &&
	       (!x->has_consent || memcmp(x->consent, e->consent, BATON_ID_BYTES) == 0) &&
	       x->has_packet == e->has_packet &&
	       (!x->has_packet || memcmp(x->packet, e->packet, BATON_ID_BYTES) == 0) &&
	       strcmp(x->by, e->by) == 0 && strcmp(x->basis, entry_basis(e)) == 0;
}

/* The student's entries in log order, up to the copy's head: each disclosure is the copy's
 * next entry, unchanged. 1 when done, 2 at the first that is not. */
static int against_cb(const store_audit *e, void *arg)
{
	struct against *a = arg;
	const baton_disclosure *x = a->next < a->d->count ? &a->d->entry[a->next] : NULL;
	int disclosure = strcmp(e->action, "disclosure") == 0;
	if (e->seq > a->d->head.count)
		return 1;
	if (strcmp(e->action, ERASE_ACTION) == 0) {
		/* What came before is an erased child's: the copy names none of it. */
		if (a->next > 0) {
			a->erased = e->seq;
			return 2;
		}
		a->extra = 0;
		return 0;
	}
	if (x && e->seq > x->seq)
		return 2; /* the copy's entry is not this student's in the log */
	if (x && e->seq == x->seq) {
		if (!disclosure || !same_entry(x, e))
			return 2;
		a->next++;
		return 0;
	}
	if (disclosure && a->extra == 0)
		a->extra = e->seq; /* unless an erasure follows */
	return 0;
}

static int against_fn(store_txn *t, void *arg)
{
	struct against *a = arg;
	const baton_disclosures *d = a->d;
	baton_card own;
	uint64_t count, bad, at;
	char why[300];
	int r;

	a->next = 0;
	a->extra = 0;
	a->erased = 0;
	if ((r = store_own_card(t, &own)) != 0 || (r = store_audit_verify(t, &bad, &count)) != 0)
		return r;
	/* The head as any this school signed, by its key now or one a rekey replaced. */
	if ((r = store_audit_check_head(t, d->audit, d->audit_len, count, &at)) != 0) {
		if (r == BATON_ENOMEM || r == BATON_EIO)
			return r;
		if (sodium_memcmp(own.id_pk, d->school, BATON_PK_BYTES) != 0)
			return bti_diag_err(BATON_EBADSIG, "the copy is signed by another key than "
			                                   "this school's");
		snprintf(why, sizeof(why), "%s", baton_diag());
		return bti_diag_err(r,
		                    "the copy's audit head (entry %llu) does not hold against "
		                    "this log: %s",
		                    (unsigned long long)at, why);
	}
	if ((r = store_audit_each(t, d->student, against_cb, a)) < 0)
		return r;
	if (a->erased)
		return bti_diag_err(BATON_EHASH,
		                    "log entry %llu: student %s was erased; the copy names "
		                    "disclosures of the child erased",
		                    (unsigned long long)a->erased, d->student);
	if (a->extra)
		return bti_diag_err(BATON_EHASH,
		                    "log entry %llu: a disclosure of %s that the copy leaves out",
		                    (unsigned long long)a->extra, d->student);
	if (a->next < d->count)
		return bti_diag_err(BATON_EHASH,
		                    "entry %zu (log entry %llu): not in this log as the copy says",
		                    a->next + 1, (unsigned long long)d->entry[a->next].seq);
	return 0;
}

int disclosure_copy_against(store *st, const baton_disclosures *d)
{
	struct against a = {d, 0, 0, 0};
	return store_read(st, against_fn, &a);
}

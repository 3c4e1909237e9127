/* Sending and receiving transfers at the node; see transfer.h. */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <jansson.h>
#include <sodium.h>

#include "outfile.h"
#include "bti.h"
#include "record.h"
#include "par.h"
#include "transfer.h"

#define PACKET_DAYS 14
#define POLICY_KEY  "policy.auto_release"

static int own_card(store_txn *t, baton_card *c)
{
	int r = store_own_card(t, c);
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
}

static int peer_card(store_txn *t, const char *code, baton_card *c)
{
	int r = store_peer_card(t, code, c);
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EVALUE, "%s is not a pinned school", code)
	                            : r;
}

/* ---- send ---- */

/* Reads an attachment from the store's map, letting go of the pages read. */
struct mem_reader {
	const uint8_t *p;
	size_t off, len, gone;
};

static int mem_read(void *ctx, uint8_t *buf, size_t n)
{
	struct mem_reader *m = ctx;
	if (n > m->len - m->off)
		return BATON_ETRUNC;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	m->gone = store_pages_done(m->p, m->gone, m->off);
	return 0;
}

static int add_guardian(const store_guardian *g, void *arg)
{
	baton_body *b = arg;
	if (!g->restricted && b->n_guardians < BATON_MAX_GUARDIANS)
		memcpy(b->guardians[b->n_guardians++], g->pk, BATON_PK_BYTES);
	return 0;
}

/*
 * This school's audit head, signed now by k if the log grew since the last
 * one: it goes out in every packet and receipt, so that the other school
 * holds what this log said (PROTOCOL.md 3.10). *len is 0 when the log is empty.
 */
static int own_head(store_txn *t, const baton_key *k, uint8_t buf[BATON_AUDIT_HEAD_MAX],
                    size_t *len)
{
	uint8_t *p = NULL;
	size_t n = 0;
	int r;
	*len = 0;
	if (k == NULL) /* a replaced key: its heads would outlive it */
		return 0;
	if ((r = store_audit_sign(t, k, NULL)) != 0 ||
	    ((r = store_audit_head(t, &p, &n)) < 0 && r != BATON_ENOTFOUND))
		return r;
	if (r == 0 && n <= BATON_AUDIT_HEAD_MAX) {
		memcpy(buf, p, n);
		*len = n;
	}
	free(p);
	return 0;
}

static int refuse(store_txn *t, struct send_req *s, int err)
{
	s->refused = err;
	snprintf(s->why, sizeof(s->why), "%s", baton_diag());
	return consent_audit(t, &s->q, err, "release-refused", s->to_code);
}

struct seal_state {
	uint8_t head[BATON_AUDIT_HEAD_MAX]; /* this school's audit head, sent with the packet */
	json_t *rec;
	char *text[BATON_SEC_COUNT];
	baton_attachment atts[BATON_MAX_ATTACHMENTS];
	struct mem_reader rd[BATON_MAX_ATTACHMENTS];
	baton_att_reader readers[BATON_MAX_ATTACHMENTS];
};

static void seal_state_free(struct seal_state *ss)
{
	for (int i = 0; i < BATON_SEC_COUNT; i++) {
		if (ss->text[i])
			sodium_memzero(ss->text[i], strlen(ss->text[i]));
		free(ss->text[i]);
	}
	json_decref(ss->rec);
}

/* store_write may run a function again after growing the map: start the file over. */
static int rewind_fd(int fd)
{
	if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		return bti_diag_err(BATON_EIO, "cannot rewind the packet file");
	return 0;
}

static const char *request_hex(const uint8_t id[BATON_ID_BYTES])
{
	static _Thread_local char hex[2 * BATON_ID_BYTES + 1];
	return sodium_bin2hex(hex, sizeof(hex), id, BATON_ID_BYTES);
}

/* The outbox entry of a packet just sealed, and the name its file will take. */
static int outbox_add(store_txn *t, struct send_req *s, int kind, const char *student,
                      const baton_seal_params *p)
{
	store_outbox ob;
	memset(&ob, 0, sizeof(ob));
	memcpy(ob.packet, s->info.id, BATON_ID_BYTES);
	memcpy(ob.hash, s->info.hash, BATON_HASH_BYTES);
	snprintf(ob.to, sizeof(ob.to), "%s", s->to_code);
	snprintf(ob.student, sizeof(ob.student), "%s", student);
	ob.kind = kind;
	ob.created = p->created;
	ob.expires = p->expires;
	if (s->out) {
		snprintf(s->path, sizeof(s->path), "%s", s->out);
		ob.state = OUT_SENT;
	} else if (s->in_store) {
		s->path[0] = 0;
		ob.state = OUT_QUEUED;
		ob.next_try = p->created;
	} else {
		snprintf(s->path, sizeof(s->path), "%s/%s.baton", s->outbox,
		         request_hex(s->info.id));
		ob.state = OUT_QUEUED;
		ob.next_try = p->created;
	}
	if (strlen(s->path) >= sizeof(ob.file))
		return bti_diag_err(BATON_EINVAL, "%s: path too long for the outbox", s->path);
	memcpy(ob.file, s->path, strlen(s->path) + 1); /* length checked above */
	return store_outbox_put(t, &ob);
}

static int open_tmp(struct send_req *s);

#define IN_STORE_MAX (768u << 10) /* queued packets up to this size are kept in the store */
#define DEFER_MAX    (8u << 20)   /* a cohort's packets sealed together, at most */

struct membuf {
	uint8_t *p;
	size_t len, cap;
};

static int membuf_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct membuf *m = ctx;
	if (len > m->cap - m->len) {
		size_t cap = m->cap ? m->cap : 65536;
		while (cap - m->len < len && cap <= 2 * IN_STORE_MAX)
			cap *= 2;
		if (cap - m->len < len)
			return bti_diag_err(BATON_EINTERNAL, "packet larger than estimated");
		uint8_t *p = realloc(m->p, cap);
		if (p == NULL)
			return BATON_ENOMEM;
		m->p = p;
		m->cap = cap;
	}
	memcpy(m->p + m->len, buf, len);
	m->len += len;
	return 0;
}

/* A bound on the size of the packet that body makes. */
static uint64_t packet_estimate(const baton_body *body)
{
	uint64_t size = 4096 + body->consent_len + (uint64_t)body->n_guardians * 40;
	for (int i = 0; i < BATON_SEC_COUNT; i++)
		size += body->section_len[i];
	for (size_t i = 0; i < body->n_attachments; i++)
		size += body->attachments[i].size + body->attachments[i].size / 4096 + 64;
	return size;
}

/* Whether a queued packet this large is kept in the store (set in s->in_store). */
static int fits_store(struct send_req *s, const baton_body *body)
{
	return s->in_store = !s->out && packet_estimate(body) <= IN_STORE_MAX;
}

/*
 * Seals a queued packet small enough into the store, in the transaction
 * that records it (no file, no sync of its own); anything else into s->fd.
 */
static int seal_to(store_txn *t, struct send_req *s, const baton_seal_params *p,
                   const baton_body *body, const baton_att_reader *readers)
{
	if (!fits_store(s, body)) {
		int r = s->fd < 0 ? open_tmp(s) : 0;
		if (r == 0)
			r = rewind_fd(s->fd);
		return r ? r
		         : baton_packet_seal_former(p, former_of(&s->q.former), body, readers,
		                                    baton_write_fd, &s->fd, &s->info);
	}
	struct membuf m = {NULL, 0, 0};
	int r = baton_packet_seal_former(p, former_of(&s->q.former), body, readers, membuf_write,
	                                 &m, &s->info);
	if (r == 0)
		r = store_packet_put(t, s->info.id, m.p, m.len);
	free(m.p);
	return r;
}

/* One student's transfer between the release rules and the commit. */
struct send_work {
	struct seal_state ss;
	baton_body body;
	baton_card peer;
	baton_seal_params p;
	struct membuf m; /* sealed with the rest of a cohort, on any thread */
	int err;         /* and how that went, with why */
	char why[300];
};

static void send_work_free(struct send_work *w)
{
	seal_state_free(&w->ss);
	free(w->m.p);
	memset(w, 0, sizeof(*w));
}

/* The packet of an earlier disclosure of the student to the school, under the consent. */
struct sent_before {
	store_txn *t;
	const struct send_req *s;
	store_outbox ob;
	int found;
};

static int sent_before_cb(const store_audit *e, void *arg)
{
	struct sent_before *b = arg;
	store_outbox ob;
	int r;
	if (strcmp(e->action, "disclosure") != 0 || !e->has_consent || !e->has_packet ||
	    strcmp(e->peer, b->s->to_code) != 0 ||
	    memcmp(e->consent, b->s->q.c.id, BATON_ID_BYTES) != 0)
		return 0;
	if ((r = store_outbox_get(b->t, e->packet, &ob)) < 0 && r != BATON_ENOTFOUND)
		return r;
	/* One that was refused, expired or never written whole is no reason to hold back. */
	if (r == 0 &&
	    (ob.state == OUT_QUEUED || ob.state == OUT_SENT || ob.state == OUT_RECEIPTED)) {
		b->ob = ob;
		b->found = 1;
	}
	return 0;
}

/*
 * A record already on its way, or received, under the same consent is not
 * disclosed again by running the same send twice: s->skipped, unless
 * s->again. 1 when skipped, 0, or an error.
 */
static int sent_before(store_txn *t, struct send_req *s)
{
	static const char *const state[] = {"queued", "sent as a file", "receipted"};
	struct sent_before b = {.t = t, .s = s};
	int r;
	if (s->rq || s->again)
		return 0;
	if ((r = store_audit_each(t, s->student, sent_before_cb, &b)) != 0 || !b.found)
		return r;
	s->refused = BATON_EEXIST;
	s->skipped = 1;
	snprintf(s->why, sizeof(s->why),
	         "already sent to %s under this consent (packet %s, %s); not sent again "
	         "(--again sends it anyway)",
	         s->to_code, request_hex(b.ob.packet), state[b.ob.state]);
	return 1;
}

/*
 * In the transaction: the release rules (a refusal is audited, with
 * s->refused set), then everything the packet will carry, into w.
 */
static int send_prepare(store_txn *t, struct send_req *s, struct send_work *w)
{
	struct seal_state *ss = &w->ss;
	baton_body *body = &w->body;
	baton_card me;
	int r;

	s->refused = 0;
	s->skipped = 0;
	if (s->rq) {
		/* Releasing a request: everything comes from it, read in this transaction. */
		const uint8_t *id = s->rq->id;
		uint8_t rid[BATON_ID_BYTES];
		memcpy(rid, id, BATON_ID_BYTES);
		if ((r = store_request_get(t, rid, s->rq)) != 0)
			return r == BATON_ENOTFOUND
			           ? bti_diag_err(BATON_EVALUE, "no request %s", request_hex(rid))
			           : r;
		if (s->rq->state != REQ_HELD)
			return bti_diag_err(BATON_EVALUE, "request %s was already %s",
			                    request_hex(rid),
			                    s->rq->state == REQ_RELEASED ? "released" : "denied");
		/* Copies: the request is freed before the caller reports the release. */
		snprintf(s->student_buf, sizeof(s->student_buf), "%s", s->rq->student);
		snprintf(s->to_buf, sizeof(s->to_buf), "%s", s->rq->from);
		s->student = s->student_buf;
		s->to_code = s->to_buf;
		s->consent = s->rq->consent;
		s->consent_len = s->rq->consent_len;
		s->sections = s->rq->want;
	}
	if ((r = own_card(t, &me)) != 0 || (r = peer_card(t, s->to_code, &w->peer)) != 0)
		return r;

	memset(&s->q, 0, sizeof(s->q));
	s->q.consent = s->consent;
	s->q.consent_len = s->consent_len;
	/* Verified before the transaction: a cohort's own bytes, never a request's. */
	s->q.verified = s->verified && !s->rq ? &s->pre : NULL;
	s->q.my_id_pk = me.id_pk;
	s->q.to_pk = w->peer.id_pk;
	s->q.sections = s->sections;
	s->q.now = s->now;
	s->q.skew = s->skew;
	s->q.record = &ss->rec; /* the rules read the record: it is sealed from that copy */
	r = consent_check(t, &s->q);
	if (s->q.parsed && s->student == NULL) {
		/* A cohort: the student the consent names. */
		snprintf(s->student_buf, sizeof(s->student_buf), "%s", s->q.c.student);
		s->student = s->student_buf;
	}
	if (r == 0 && strcmp(s->q.c.student, s->student) != 0)
		r = bti_diag_err(BATON_ECONSENT, "the consent is for student %s, not %s",
		                 s->q.c.student, s->student);
	if (r == BATON_EIO || r == BATON_ENOMEM || r == BATON_EINTERNAL || r < -900)
		return r;
	if (r != 0)
		return refuse(t, s, r);
	if ((r = sent_before(t, s)) != 0)
		return r < 0 ? r : 0;

	snprintf(body->student, sizeof(body->student), "%s", s->student);
	const char *state = json_string_value(json_object_get(ss->rec, "state_student_id"));
	if (state)
		snprintf(body->state_id, sizeof(body->state_id), "%s", state);
	for (int i = 0; i < BATON_SEC_COUNT; i++) {
		json_t *v = json_object_get(ss->rec, baton_section_name((baton_section)i));
		if (v == NULL || !(s->q.release & BATON_SEC_BIT(i)))
			continue;
		if ((ss->text[i] = record_canonical(v)) == NULL)
			return BATON_ENOMEM;
		body->section[i] = (const uint8_t *)ss->text[i];
		body->section_len[i] = strlen(ss->text[i]);
	}
	/* Attachments travel only with their section. */
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(ss->rec, "attachments"), i, a)
	{
		int sec = baton_section_lookup(json_string_value(json_object_get(a, "section")),
		                               json_string_length(json_object_get(a, "section")));
		if (sec < 0 || body->section[sec] == NULL)
			continue;
		if (body->n_attachments == BATON_MAX_ATTACHMENTS)
			return bti_diag_err(BATON_EVALUE, "more than %d attachments",
			                    BATON_MAX_ATTACHMENTS);
		baton_attachment *at = &ss->atts[body->n_attachments];
		const char *hex = json_string_value(json_object_get(a, "hash"));
		const uint8_t *data;
		size_t dlen;
		snprintf(at->name, sizeof(at->name), "%s",
		         json_string_value(json_object_get(a, "name")));
		snprintf(at->media_type, sizeof(at->media_type), "%s",
		         json_string_value(json_object_get(a, "media_type")));
		at->section = (baton_section)sec;
		if (hex == NULL ||
		    sodium_hex2bin(at->hash, 32, hex, strlen(hex), NULL, NULL, NULL) != 0 ||
		    store_blob_get(t, at->hash, &data, &dlen) != 0)
			return bti_diag_err(
			    BATON_EIO, "attachment %s: bytes missing from the store", at->name);
		at->size = dlen;
		ss->rd[body->n_attachments] = (struct mem_reader){data, 0, dlen, 0};
		ss->readers[body->n_attachments] =
		    (baton_att_reader){mem_read, &ss->rd[body->n_attachments]};
		body->n_attachments++;
	}
	body->attachments = ss->atts;
	body->consent = s->consent;
	body->consent_len = s->consent_len;
	if ((r = own_head(t, s->key, ss->head, &body->audit_len)) != 0)
		return r;
	body->audit = ss->head;
	if ((r = store_guardian_each(t, s->student, add_guardian, body)) != 0)
		return r;
	if (record_json_failed())
		return bti_diag_err(BATON_ENOMEM, "out of memory preparing the record of %s",
		                    s->student);
	w->p = (baton_seal_params){
	    BATON_KIND_TRANSFER,         s->now,        s->now + PACKET_DAYS * UINT64_C(86400),
	    baton_key_id_sk(s->key),     w->peer.id_pk, w->peer.enc_pk,
	    s->q.parsed ? &s->q.c : NULL};
	return 0;
}

/* In the transaction, the packet sealed: the disclosure is recorded, and the outbox entry. */
static int send_finish(store_txn *t, struct send_req *s, const struct send_work *w)
{
	store_audit e;
	int r;

	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "disclosure");
	snprintf(e.student, sizeof(e.student), "%s", s->student);
	snprintf(e.peer, sizeof(e.peer), "%s", s->to_code);
	memcpy(e.consent, s->q.c.id, BATON_ID_BYTES);
	e.has_consent = 1;
	memcpy(e.packet, s->info.id, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = s->q.release;
	if (s->rq)
		snprintf(e.detail, sizeof(e.detail), "to %.100s on its request %s: %.100s",
		         w->peer.name, request_hex(s->rq->id), s->q.c.purpose);
	else
		snprintf(e.detail, sizeof(e.detail), "to %.100s: %.140s", w->peer.name,
		         s->q.c.purpose);
	if ((r = store_audit_append(t, &e)) != 0 ||
	    (r = outbox_add(t, s, OUT_TRANSFER, s->student, &w->p)) != 0)
		return r;
	if (s->rq) {
		s->rq->state = REQ_RELEASED;
		memcpy(s->rq->release, s->info.id, BATON_ID_BYTES);
		r = store_request_put(t, s->rq);
	}
	return r;
}

/*
 * The rules, the seal and the records of one student, in one transaction: no
 * record leaves unaudited. In a cohort (s->work set) a packet kept in the
 * store is only prepared here (s->deferred), and sealed with the others.
 */
static int send_fn(store_txn *t, void *arg)
{
	struct send_req *s = arg;
	struct send_work local, *w = s->work ? s->work : &local;
	int r;

	memset(w, 0, sizeof(*w));
	s->deferred = 0;
	r = send_prepare(t, s, w);
	if (r == 0 && !s->refused) {
		if (s->work && fits_store(s, &w->body)) {
			s->deferred = 1;
			return 0;
		}
		r = seal_to(t, s, &w->p, &w->body, w->ss.readers);
		if (r == 0)
			r = send_finish(t, s, w);
	}
	send_work_free(w);
	return r;
}

/*
 * Seals a prepared packet of a cohort: cryptography only, safe on any thread.
 * Attachments are read through pointers into the store's map, which stay
 * valid because the transaction writes no blob and deletes nothing before
 * the packets are sealed.
 */
static void seal_deferred(size_t i, void *arg)
{
	struct send_req *s = (struct send_req *)arg + i;
	struct send_work *w = s->work;
	if (!s->deferred)
		return;
	w->err = baton_packet_seal_former(&w->p, former_of(&s->q.former), &w->body, w->ss.readers,
	                                  membuf_write, &w->m, &s->info);
	if (w->err)
		snprintf(w->why, sizeof(w->why), "%s", baton_diag());
}

/* The prepared packets of a cohort, sealed on every core, then recorded in order. */
static int finish_deferred(store_txn *t, struct send_req *s, size_t n)
{
	int r = 0;
	par_for(n, seal_deferred, s);
	for (size_t i = 0; i < n; i++) {
		struct send_work *w = s[i].work;
		if (!s[i].deferred)
			continue;
		s[i].deferred = 0;
		if (r == 0 && w->err)
			r = bti_diag_err(w->err, "%s", w->why);
		if (r == 0)
			r = store_packet_put(t, s[i].info.id, w->m.p, w->m.len);
		if (r == 0)
			r = send_finish(t, &s[i], w);
		send_work_free(w);
	}
	return r;
}

/*
 * Sealing into files. Each packet is written under a temporary name. A
 * queued packet takes its outbox name, synced, before the transaction that
 * records it commits: the outbox never names a file that is not there (a
 * crash can leave only a file the outbox does not name, which is never
 * sent). A packet to carry by hand (--out) takes its name only after the
 * commit, so that no file leaves unaudited.
 */
struct batch {
	struct send_req *s;
	size_t n;
	store_fn fn;
};

/*
 * A packet to carry by hand is sealed beside its name, as NAME.partial. Until
 * it has its name, a note in the outbox directory (PID-SEQ.out) names that
 * file by absolute path, so that a send killed meanwhile is found and
 * settled at the next start (transfer_recover).
 */
static int mark_partial(struct send_req *s)
{
	char dir[4200], abs[PATH_MAX], line[PATH_MAX + 300];
	const char *slash = strrchr(s->out, '/');
	int fd, n, r = 0;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - s->out) + 1 : 1,
	         slash ? s->out : ".");
	if (realpath(dir, abs) == NULL)
		return bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	n = snprintf(line, sizeof(line), "%s/%s.partial\n", strcmp(abs, "/") ? abs : "",
	             slash ? slash + 1 : s->out);
	snprintf(s->mark, sizeof(s->mark), "%s/outbox/%d-%zu.out", s->node_dir, (int)getpid(),
	         s->seq);
	if (n < 0 || (size_t)n >= sizeof(line))
		return bti_diag_err(BATON_EINVAL, "%s: path too long", s->out);
	fd = open(s->mark, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = bti_diag_err(BATON_EIO, "%s: %s", s->mark, strerror(errno));
		s->mark[0] = 0;
		return r;
	}
	s->mark_fd = fd;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0 || write(fd, line, (size_t)n) != n ||
	    fdatasync(fd) != 0)
		r = bti_diag_err(BATON_EIO, "%s: %s", s->mark, strerror(errno));
	return r;
}

/* Done with the note: the packet has its name, or was never recorded and is gone. */
static void unmark_partial(struct send_req *s)
{
	if (s->mark[0])
		unlink(s->mark);
	if (s->mark_fd >= 0)
		close(s->mark_fd);
	s->mark[0] = 0;
	s->mark_fd = -1;
}

/* A test stops the process here (SIGSTOP) to kill it at that point of a send. */
static void test_pause(const char *where)
{
	const char *p = getenv("BATON_TEST_PAUSE");
	if (p && strcmp(p, where) == 0)
		raise(SIGSTOP);
}

static int open_tmp(struct send_req *s)
{
	int n = snprintf(s->tmp, sizeof(s->tmp), s->out ? "%s.partial" : "%s/outbox/%d-%zu.partial",
	                 s->out ? s->out : s->node_dir, (int)getpid(), s->seq);
	if (n < 0 || (size_t)n >= sizeof(s->path))
		return bti_diag_err(BATON_EINVAL, "%s: path too long",
		                    s->out ? s->out : s->node_dir);
	if ((s->fd = open(s->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", s->tmp, strerror(errno));
	/* Held until the file is closed, after the commit: a packet not yet recorded is in use. */
	if (flock(s->fd, LOCK_EX | LOCK_NB) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", s->tmp, strerror(errno));
	return 0;
}

/* Undoes a run that the store is about to repeat (after growing the map) or has aborted. */
static void unplace(struct send_req *s)
{
	if (s->placed && rename(s->path, s->tmp) != 0)
		unlink(s->path);
	s->placed = 0;
}

static int batch_fn(store_txn *t, void *arg)
{
	struct batch *b = arg;
	uint64_t pending = 0;
	int r, deferred = 0;
	for (size_t i = 0; i < b->n; i++) {
		unplace(&b->s[i]);
		if (b->s[i].deferred) /* a run the store repeats after growing its map */
			send_work_free(b->s[i].work);
		b->s[i].deferred = 0;
	}
	for (size_t i = 0; i < b->n; i++) {
		struct send_req *s = &b->s[i];
		if ((r = b->fn(t, s)) != 0)
			return r;
		/* Sealed packets wait in memory: a lot at a time. */
		if (s->deferred && (pending += packet_estimate(&s->work->body)) >= DEFER_MAX) {
			if ((r = finish_deferred(t, b->s, i + 1)) != 0)
				return r;
			pending = 0;
		}
		deferred |= s->deferred;
		if (s->refused || s->out || s->in_store)
			continue;
		if (fdatasync(s->fd) != 0)
			return bti_diag_err(BATON_EIO, "%s: cannot sync the packet file", s->tmp);
		if (rename(s->tmp, s->path) != 0)
			return bti_diag_err(BATON_EIO, "%s: %s", s->path, strerror(errno));
		s->placed = 1;
	}
	if (deferred && (r = finish_deferred(t, b->s, b->n)) != 0)
		return r;
	test_pause("sealed");
	return 0;
}

static int seal_files(store *st, struct send_req *s, size_t n, store_fn fn)
{
	struct batch b = {s, n, fn};
	char dir[sizeof(s->path)];
	size_t opened = 0;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		s[i].fd = -1;
		s[i].placed = 0;
		s[i].seq = i;
		s[i].path[0] = 0;
		s[i].tmp[0] = 0;
	}
	if (n) {
		snprintf(dir, sizeof(dir), "%s/outbox", s[0].node_dir);
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	}
	if (n && !s[0].out) {
		/* The outbox names its files by absolute path: serve may run from elsewhere. */
		char abs[PATH_MAX];
		if (realpath(dir, abs) == NULL || strlen(abs) >= sizeof(s[0].outbox))
			return bti_diag_err(BATON_EIO, "%s: %s", dir,
			                    strerror(errno ? errno : ENAMETOOLONG));
		for (size_t i = 0; i < n; i++)
			snprintf(s[i].outbox, sizeof(s[i].outbox), "%s", abs);
	}
	/* A packet file to carry is opened now; a queued one only if it is too large for the store.
	 */
	for (size_t i = 0; i < n; i++) {
		s[i].mark[0] = 0;
		s[i].mark_fd = -1;
	}
	for (; opened < n && r == 0; opened++) {
		if (s[opened].out && (r = outfile_check(s[opened].out, s[opened].force)) == 0 &&
		    (r = mark_partial(&s[opened])) == 0)
			r = open_tmp(&s[opened]);
	}
	if (r == 0)
		r = store_write(st, batch_fn, &b);
	test_pause("committed");
	for (size_t i = 0; i < n && r == 0; i++)
		if (s[i].out && !s[i].refused) {
			if (fsync(s[i].fd) != 0)
				r = bti_diag_err(BATON_EIO, "%s: cannot sync the packet file",
				                 s[i].tmp);
			else if ((r = outfile_place(s[i].tmp, s[i].path, s[i].force)) == 0)
				s[i].tmp[0] = 0;
			else if (r == BATON_EEXIST) {
				/* Recorded as sent: the packet stays where it is, to carry. */
				r = bti_diag_err(r,
				                 "%s: appeared while the packet was sealed; not "
				                 "overwriting it: the packet is %s",
				                 s[i].path, s[i].tmp);
				s[i].tmp[0] = 0;
			}
		}
	for (size_t i = 0; i < opened; i++) {
		if (s[i].fd >= 0)
			close(s[i].fd);
		s[i].fd = -1;
		if (r != 0 && !s[i].out)
			unplace(&s[i]); /* the commit failed: no file without its outbox entry */
		if (s[i].tmp[0] && (!s[i].placed || s[i].refused))
			unlink(s[i].tmp);
		unmark_partial(&s[i]);
	}
	return r;
}

static int seal_file(store *st, struct send_req *s, store_fn fn)
{
	return seal_files(st, s, 1, fn);
}

/* ---- what a killed send left behind ---- */

struct recover {
	store *st;
	void (*say)(void *ctx, const char *line);
	void *ctx;
	char line[PATH_MAX * 2 + 400];
	uint8_t id[BATON_ID_BYTES], hash[BATON_HASH_BYTES];
	store_outbox ob;
	int found;
};

static int recover_find(store_txn *t, void *arg)
{
	struct recover *rc = arg;
	int r = store_outbox_get(t, rc->id, &rc->ob);
	rc->found = r == 0;
	return r == BATON_ENOTFOUND ? 0 : r;
}

/* A recorded packet whose file was lost: the outbox says so, and stops waiting for it. */
static int recover_lost(store_txn *t, void *arg)
{
	struct recover *rc = arg;
	rc->ob.state = OUT_EXPIRED;
	snprintf(rc->ob.last_error, sizeof(rc->ob.last_error),
	         "the send was interrupted before its file was whole; send again");
	return store_outbox_put(t, &rc->ob);
}

/* Reads the packet id and hash of a partial file; 0, or an error when it is not whole. */
static int partial_ids(const char *path, struct recover *rc)
{
	baton_source src;
	baton_header h;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), r;
	if (fd < 0)
		return BATON_EIO;
	if ((r = baton_source_fd(&src, &fd)) == 0 && (r = baton_packet_peek(&src, &h)) == 0 &&
	    (r = baton_packet_hash(&src, rc->hash)) == 0)
		memcpy(rc->id, h.id, BATON_ID_BYTES);
	close(fd);
	return r;
}

/* One note of a packet to carry: its partial file is named, or removed. */
static int recover_out(struct recover *rc, int dfd, const char *name)
{
	char path[PATH_MAX + 16] = "", target[PATH_MAX + 16];
	struct stat sb;
	ssize_t n;
	size_t len;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	/* The sender holds the lock while it lives. */
	if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	n = read(fd, path, sizeof(path) - 1);
	path[n > 0 ? n : 0] = 0;
	path[strcspn(path, "\n")] = 0;
	len = strlen(path);
	if (len > 8 && strcmp(path + len - 8, ".partial") == 0 && lstat(path, &sb) == 0) {
		snprintf(target, sizeof(target), "%.*s", (int)(len - 8), path);
		rc->found = 0;
		/* Whether it was recorded must be known before anything is removed. */
		int whole = partial_ids(path, rc) == 0, r;
		if (whole && (r = store_read(rc->st, recover_find, rc)) != 0) {
			close(fd);
			return r;
		}
		if (whole && rc->found && strcmp(rc->ob.file, target) == 0 &&
		    sodium_memcmp(rc->ob.hash, rc->hash, BATON_HASH_BYTES) == 0) {
			if (link(path, target) == 0) {
				unlink(path);
				snprintf(
				    rc->line, sizeof(rc->line),
				    "a send of %s to %s was interrupted after it was recorded; "
				    "its packet %s is now %s, to carry",
				    rc->ob.student, rc->ob.to, request_hex(rc->id), target);
			} else {
				snprintf(
				    rc->line, sizeof(rc->line),
				    "a send of %s to %s was interrupted after it was recorded; "
				    "%s: %s, so its packet was left as %s",
				    rc->ob.student, rc->ob.to, target, strerror(errno), path);
			}
		} else {
			unlink(path);
			if (rc->found && strcmp(rc->ob.file, target) == 0)
				store_write(rc->st, recover_lost, rc);
			snprintf(rc->line, sizeof(rc->line),
			         "removed %s, left by an interrupted send: %s; send again", path,
			         rc->found ? "recorded, but its file was not whole"
			                   : "it was not recorded and nothing was disclosed");
		}
		rc->say(rc->ctx, rc->line);
	}
	unlinkat(dfd, name, 0);
	close(fd);
	return 0;
}

/* Whether a file in the outbox directory is held by a send that is still running. */
static int in_use(int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK), busy;
	if (fd < 0)
		return 1;
	busy = flock(fd, LOCK_EX | LOCK_NB) != 0;
	close(fd);
	return busy;
}

/*
 * A queued packet's file (HEX.baton) takes its name just before the commit
 * that records it: one the outbox does not name, and that no send holds, was
 * left by a send killed in between.
 */
static int recover_queued(struct recover *rc, int dfd, const char *dir, const char *name)
{
	int r;
	if (sodium_hex2bin(rc->id, BATON_ID_BYTES, name, 2 * BATON_ID_BYTES, NULL, NULL, NULL) !=
	        0 ||
	    strcmp(name + 2 * BATON_ID_BYTES, ".baton") != 0 || in_use(dfd, name))
		return 0;
	rc->found = 0;
	if ((r = store_read(rc->st, recover_find, rc)) != 0 || rc->found)
		return r;
	unlinkat(dfd, name, 0);
	snprintf(rc->line, sizeof(rc->line),
	         "removed %s/%s, left by an interrupted send before it was recorded: nothing "
	         "was disclosed; send again",
	         dir, name);
	rc->say(rc->ctx, rc->line);
	return 0;
}

int transfer_recover(store *st, const char *node_dir, void (*say)(void *ctx, const char *line),
                     void *ctx)
{
	struct recover rc = {.st = st, .say = say, .ctx = ctx};
	char dir[4200];
	struct dirent *e;
	DIR *d;
	int dfd, r = 0;

	snprintf(dir, sizeof(dir), "%s/outbox", node_dir);
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0
		                       : bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	dfd = dirfd(d);
	while (r == 0 && (e = readdir(d)) != NULL) {
		int pid, end = 0;
		size_t seq;
		/* PID-SEQ.partial (a queued packet) or PID-SEQ.out (a packet to carry) */
		if (sscanf(e->d_name, "%d-%zu.partial%n", &pid, &seq, &end) == 2 &&
		    e->d_name[end] == 0) {
			if (pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH ||
			    in_use(dfd, e->d_name))
				continue;
			unlinkat(dfd, e->d_name, 0);
			snprintf(rc.line, sizeof(rc.line),
			         "removed %s/%s, left by an interrupted send before it was "
			         "recorded: nothing was disclosed; send again",
			         dir, e->d_name);
			say(ctx, rc.line);
		} else if (sscanf(e->d_name, "%d-%zu.out%n", &pid, &seq, &end) == 2 &&
		           e->d_name[end] == 0) {
			r = recover_out(&rc, dfd, e->d_name);
		} else if (strlen(e->d_name) == 2 * BATON_ID_BYTES + 6) {
			r = recover_queued(&rc, dfd, dir, e->d_name);
		}
	}
	closedir(d);
	return r;
}

int transfer_send(store *st, struct send_req *s)
{
	s->rq = NULL;
	return seal_file(st, s, send_fn);
}

/* A cohort's consents, verified before the transaction, on every core. */
static void verify_consent(size_t i, void *arg)
{
	struct send_req *s = (struct send_req *)arg + i;
	s->verified = baton_consent_parse(s->consent, s->consent_len, &s->pre) == 0;
}

int transfer_send_many(store *st, struct send_req *s, size_t n)
{
	struct send_work *w = calloc(n ? n : 1, sizeof(*w));
	int r;
	if (w == NULL)
		return BATON_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s[i].rq = NULL;
		s[i].work = &w[i];
		s[i].deferred = 0;
	}
	/* A consent that does not verify is left to the rules, which say why. */
	par_for(n, verify_consent, s);
	r = seal_files(st, s, n, send_fn);
	for (size_t i = 0; i < n; i++) {
		if (s[i].deferred)
			send_work_free(&w[i]);
		s[i].deferred = 0;
		s[i].work = NULL;
		s[i].verified = 0;
	}
	free(w);
	return r;
}

int transfer_release(store *st, const uint8_t id[BATON_ID_BYTES], struct send_req *s)
{
	int r;
	if ((s->rq = malloc(sizeof(*s->rq))) == NULL)
		return BATON_ENOMEM;
	memcpy(s->rq->id, id, BATON_ID_BYTES);
	r = seal_file(st, s, send_fn);
	free(s->rq);
	s->rq = NULL;
	s->consent = NULL;
	return r;
}

static int request_send_fn(store_txn *t, void *arg)
{
	struct send_req *s = arg;
	baton_card me, peer;
	baton_consent c;
	baton_body body;
	int r;

	if ((r = own_card(t, &me)) != 0 || (r = peer_card(t, s->to_code, &peer)) != 0)
		return r;
	if ((r = baton_consent_parse(s->consent, s->consent_len, &c)) != 0)
		return r;
	/* The checks the other school would make first, in a registrar's words. */
	if ((r = consent_names_schools(t, &c, peer.id_pk, s->to_code, me.id_pk, "this school",
	                               s->skew, &s->q.former)) != 0) {
		/* Neither school's key nor a former one: another school altogether. */
		if (r == BATON_EFROM && !consent_former_has(&s->q.former, 0, c.from_pk))
			return bti_diag_err(BATON_EFROM,
			                    "the consent does not release records from %s",
			                    s->to_code);
		if (r == BATON_ETO && !consent_former_has(&s->q.former, 1, c.to_pk))
			return bti_diag_err(
			    BATON_ETO,
			    "the consent does not release records to this school (it "
			    "names %s)",
			    c.to_code);
		return r;
	}
	memset(&body, 0, sizeof(body));
	body.consent = s->consent;
	body.consent_len = s->consent_len;
	body.requested_mask = s->sections ? s->sections : c.sections;
	if (s->sections & ~(c.sections | BATON_SEC_BIT(BATON_SEC_IDENTITY)))
		return bti_diag_err(BATON_ESECTIONS,
		                    "the consent does not cover every section asked for");
	snprintf(body.note, sizeof(body.note), "%s", s->note ? s->note : "");
	uint8_t head[BATON_AUDIT_HEAD_MAX];
	if ((r = own_head(t, s->key, head, &body.audit_len)) != 0)
		return r;
	body.audit = head;
	baton_seal_params p = {BATON_KIND_REQUEST,
	                       s->now,
	                       s->now + PACKET_DAYS * UINT64_C(86400),
	                       baton_key_id_sk(s->key),
	                       peer.id_pk,
	                       peer.enc_pk,
	                       NULL};
	if ((r = seal_to(t, s, &p, &body, NULL)) != 0)
		return r;
	s->q.release = body.requested_mask;
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "request-sent");
	snprintf(e.peer, sizeof(e.peer), "%s", s->to_code);
	memcpy(e.consent, c.id, BATON_ID_BYTES);
	e.has_consent = 1;
	memcpy(e.packet, s->info.id, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = body.requested_mask;
	/* The student is named as the other school knows them, not indexed here. */
	snprintf(e.detail, sizeof(e.detail), "student %s at %.60s: %.100s", c.student, peer.name,
	         c.purpose);
	if ((r = store_audit_append(t, &e)) != 0 ||
	    (r = store_asked(t, s->to_code, c.student, s->info.id, NULL)) != 0)
		return r;
	return outbox_add(t, s, OUT_REQUEST, c.student, &p);
}

int transfer_request(store *st, struct send_req *s)
{
	s->rq = NULL;
	return seal_file(st, s, request_send_fn);
}

/* ---- receive ---- */

static int reason_of(int err)
{
	switch (err) {
	case BATON_EWRONGRCPT:
		return BATON_REASON_WRONG_RECIPIENT;
	case BATON_EBADSIG:
		return BATON_REASON_BAD_SIGNATURE;
	case BATON_EEXPIRED:
		return BATON_REASON_EXPIRED;
	case BATON_ENOTYET:
		return BATON_REASON_NOT_YET_VALID;
	case BATON_EDECRYPT:
	case BATON_EBADKEY:
	case BATON_EHASH:
		return BATON_REASON_DECRYPT;
	case BATON_ECONSENT:
		return BATON_REASON_CONSENT_INVALID;
	case BATON_EIO:
	case BATON_ENOMEM:
	case BATON_EINTERNAL:
		return BATON_REASON_STORAGE;
	default:
		return BATON_REASON_MALFORMED;
	}
}

struct find_peer {
	const uint8_t *pk;
	char code[BATON_CODE_MAX + 1];
};

static int find_peer_cb(const char *code, const uint8_t *card, size_t len, void *arg)
{
	struct find_peer *f = arg;
	baton_card c;
	int r = baton_card_parse(card, len, &c);
	if (r == BATON_ENOMEM)
		return r; /* not a reason to think the sender unknown */
	if (r == 0 && sodium_memcmp(c.id_pk, f->pk, BATON_PK_BYTES) == 0)
		snprintf(f->code, sizeof(f->code), "%s", code);
	return 0;
}

struct lookup_ctx {
	struct find_peer fp;
	const uint8_t *packet;
	store_inbox seen;
	int have;
	const uint8_t *from, *to; /* the releasing and receiving schools' keys */
	struct former_set *former;
};

static int lookup_fn(store_txn *t, void *arg)
{
	struct lookup_ctx *l = arg;
	int r;
	if ((r = store_peer_each(t, find_peer_cb, &l->fp)) != 0)
		return r;
	if ((r = store_inbox_get(t, l->packet, &l->seen)) < 0 && r != BATON_ENOTFOUND)
		return r;
	l->have = r == 0;
	/* A consent may name either school by a key it has rotated from since. */
	if (l->former && (r = consent_former_read(t, l->from, l->to, l->former)) != 0) {
		if (l->have)
			free(l->seen.receipt);
		l->have = 0;
		return r;
	}
	return 0;
}

struct recv_ctx {
	struct recv_req *q;
	baton_opened *o;
	int content_err; /* a fault of the packet, not of the store */
	int dup;         /* found in the inbox inside the transaction: a replay */
	int to_open;     /* recv_check passed it on to recv_decrypt */
	int open_err;    /* and what that said, in words in why */
	char why[400];
	struct former_set former; /* the two schools' former keys, read by recv_check */
};

struct blob_writer {
	uint8_t *dst;
	size_t off, cap, gone;
};

static int blob_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct blob_writer *w = ctx;
	if (w->dst == NULL)
		return 0; /* already stored: decrypting only to verify */
	if (len > w->cap - w->off)
		return BATON_EINTERNAL;
	memcpy(w->dst + w->off, buf, len);
	w->off += len;
	w->gone = store_pages_done(w->dst, w->gone, w->off);
	return 0;
}

/* The head a school sent with its packet: what its log said then. */
static int peer_head(store_txn *t, const char *from, const baton_body *b)
{
	return b->audit_len ? store_peer_head_put(t, from, b->audit, b->audit_len) : 0;
}

/* Text cut at a size limit ends on a whole UTF-8 character: a receipt's note must be UTF-8. */
static void utf8_trim(char *s)
{
	size_t i = strlen(s), k = 0;
	while (i > 0 && k < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--, k++;
	if (i == 0)
		return;
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
	if (lead >= 0xC0 && k < need)
		s[i - 1] = 0;
}

static int sign_receipt(const struct recv_req *q, int reason, uint64_t now, const char *note,
                        uint8_t **out, size_t *len)
{
	baton_receipt rc;
	memset(&rc, 0, sizeof(rc));
	snprintf(rc.note, sizeof(rc.note), "%s", note ? note : "");
	utf8_trim(rc.note);
	memcpy(rc.packet_id, q->packet, BATON_ID_BYTES);
	memcpy(rc.packet_hash, q->hash, BATON_HASH_BYTES);
	memcpy(rc.receiver, baton_key_id_pk(q->key), BATON_PK_BYTES);
	rc.reason = reason;
	rc.time = now;
	memcpy(rc.audit, q->head, q->head_len);
	rc.audit_len = q->head_len;
	return baton_receipt_sign(&rc, baton_key_id_sk(q->key), out, len);
}

/* Picks the local id: the same statewide id, else the sender's id, else code-prefixed. */
/*
 * The local id of a student arriving from school from: the student with the
 * same statewide id; else the one that school's id arrived as before; else
 * that id, when free here; else the id prefixed with the school's code.
 * *existing: the student is on file.
 */
static int local_id(store_txn *t, const baton_body *b, const char *from, char *id, size_t cap,
                    int *existing)
{
	store_student s;
	int r;
	*existing = 0;
	if (b->state_id[0] &&
	    (r = store_student_by_state_id(t, b->state_id, id, cap)) != BATON_ENOTFOUND) {
		*existing = r == 0;
		if (r < 0)
			return r;
		if (*existing)
			return 0;
	}
	if ((r = store_origin(t, from, b->student, NULL, id, cap)) < 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0 && (r = store_student_get(t, id, &s)) != BATON_ENOTFOUND) {
		*existing = r == 0;
		return r < 0 ? r : 0;
	}
	if ((r = store_student_get(t, b->student, &s)) < 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == BATON_ENOTFOUND) {
		snprintf(id, cap, "%s", b->student);
		return 0;
	}
	/*
	 * "LHS-001-S-1001". An id too long for that keeps its head and ends in a
	 * hash of the whole, so that two long ids cut alike stay two students.
	 */
	char full[BATON_CODE_MAX + BATON_STUDENT_MAX + 2];
	snprintf(full, sizeof(full), "%s-%s", from, b->student);
	size_t n = strlen(full);
	memcpy(id, full, n < cap ? n + 1 : cap - 1);
	id[cap - 1] = '\0';
	if (n >= cap && cap > 18) {
		uint8_t h[8];
		char hex[17];
		crypto_generichash(h, sizeof(h), (const uint8_t *)full, strlen(full), NULL, 0);
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		snprintf(id + cap - 18, 18, "~%s", hex);
	}
	if ((r = store_student_get(t, id, &s)) < 0 && r != BATON_ENOTFOUND)
		return r;
	*existing = r == 0;
	return 0;
}

/* The receipt's note for a record held for review (PROTOCOL.md 3.7). */
static const char *const review_note = "held for review";

static int import_fn(store_txn *t, void *arg)
{
	struct recv_ctx *c = arg;
	struct recv_req *q = c->q;
	const baton_body *b = baton_opened_body(c->o);
	json_t *rec = json_object(), *atts = json_array();
	char *canon = NULL, hex[65];
	int r = 0, existing;

	c->content_err = 0;
	q->review = 0;
	q->unchanged = 0;
	record_json_failed();
	if (rec == NULL || atts == NULL) {
		r = bti_diag_err(BATON_ENOMEM, "out of memory");
		goto out;
	}
	/* Every section must be a valid section of the record format. */
	for (int i = 0; i < BATON_SEC_COUNT && r == 0; i++) {
		json_error_t err;
		json_t *v;
		if (b->section[i] == NULL)
			continue;
		v = json_loadb((const char *)b->section[i], b->section_len[i],
		               JSON_REJECT_DUPLICATES, &err);
		if (record_json_failed()) {
			json_decref(v);
			r = bti_diag_err(BATON_ENOMEM, "out of memory reading section %s",
			                 baton_section_name((baton_section)i));
			goto out;
		}
		if (v == NULL) {
			r = bti_diag_err(BATON_EVALUE, "section %s: %s",
			                 baton_section_name((baton_section)i), err.text);
		} else if ((r = record_validate_section(baton_section_name((baton_section)i), v)) ==
		           0) {
			json_object_set_new(rec, baton_section_name((baton_section)i), v);
			continue;
		}
		json_decref(v);
		c->content_err = BATON_REASON_RECORD_INVALID;
	}
	if (r != 0)
		goto out;
	/* Attachments stream straight into the store; a bad one aborts everything. */
	for (size_t i = 0; i < b->n_attachments; i++) {
		const baton_attachment *a = &b->attachments[i];
		struct blob_writer w = {NULL, 0, (size_t)a->size, 0};
		if (a->size > SIZE_MAX ||
		    ((r = store_blob_reserve(t, a->hash, (size_t)a->size, &w.dst)) < 0 &&
		     r != BATON_EEXIST))
			goto out;
		if ((r = baton_opened_attachment(c->o, i, blob_write, &w)) != 0) {
			if (r == BATON_EDECRYPT || r == BATON_EHASH)
				c->content_err = BATON_REASON_DECRYPT;
			goto out;
		}
		sodium_bin2hex(hex, sizeof(hex), a->hash, 32);
		json_array_append_new(atts, json_pack("{s:s, s:s, s:s, s:s, s:I}", "hash", hex,
		                                      "media_type", a->media_type, "name", a->name,
		                                      "section", baton_section_name(a->section),
		                                      "size", (json_int_t)a->size));
	}
	if (b->n_attachments)
		json_object_set(rec, "attachments", atts);
	if (!record_id_safe(b->student) || (b->state_id[0] && !record_id_safe(b->state_id))) {
		c->content_err = BATON_REASON_RECORD_INVALID;
		r = bti_diag_err(
		    BATON_EVALUE,
		    "student id \"%s\" (statewide \"%s\"): a '/' or '\\', a leading '.' "
		    "or a space at either end",
		    b->student, b->state_id);
		goto out;
	}
	if ((r = local_id(t, b, q->from, q->student, sizeof(q->student), &existing)) != 0)
		goto out;
	json_object_set_new(rec, "student_id", json_string(q->student));
	if (b->state_id[0])
		json_object_set_new(rec, "state_student_id", json_string(b->state_id));
	store_student s;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", q->student);
	record_index(rec, &s);
	/* Nothing is stored from JSON that lost a piece to a failed allocation. */
	if (record_json_failed() || (canon = record_canonical(rec)) == NULL) {
		r = bti_diag_err(BATON_ENOMEM, "out of memory building the record");
		goto out;
	}
	/* Another child under an id on file is held for review, never made current. */
	store_held held;
	int how;
	memset(&held, 0, sizeof(held));
	snprintf(held.from, sizeof(held.from), "%s", q->from);
	snprintf(held.their_id, sizeof(held.their_id), "%s", b->student);
	memcpy(held.packet, q->packet, BATON_ID_BYTES);
	held.has_packet = 1;
	if ((r = store_student_file(t, &s, canon, strlen(canon), &held, &how)) != 0)
		goto out;
	q->version = s.version;
	q->review = how == FILED_HELD;
	q->held = held.id;
	q->unchanged = how == FILED_UNCHANGED;
	if (!q->review && (r = store_origin(t, q->from, b->student, q->student, NULL, 0)) != 0)
		goto out;

	/* The receipt goes into the inbox entry, which is also the replay guard. */
	free(q->receipt);
	q->receipt = NULL;
	if ((r = peer_head(t, q->from, b)) != 0 ||
	    (r = own_head(t, q->key_retired ? NULL : q->key, q->head, &q->head_len)) != 0)
		goto out;
	if ((r = sign_receipt(q, BATON_REASON_ACCEPTED, t->now, q->review ? review_note : NULL,
	                      &q->receipt, &q->receipt_len)) != 0)
		goto out;
	store_inbox in = {{0}, {0}, {0}, BATON_REASON_ACCEPTED, t->now, q->receipt, q->receipt_len};
	memcpy(in.packet, q->packet, BATON_ID_BYTES);
	snprintf(in.from, sizeof(in.from), "%s", q->from);
	snprintf(in.student, sizeof(in.student), "%s", q->student);
	if ((r = store_inbox_put(t, &in)) != 0)
		goto out;
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "received");
	snprintf(e.student, sizeof(e.student), "%s", q->student);
	snprintf(e.peer, sizeof(e.peer), "%s", q->from);
	memcpy(e.consent, baton_opened_consent(c->o)->id, BATON_ID_BYTES);
	e.has_consent = 1;
	memcpy(e.packet, q->packet, BATON_ID_BYTES);
	e.has_packet = 1;
	for (int i = 0; i < BATON_SEC_COUNT; i++)
		if (b->section[i])
			e.sections |= BATON_SEC_BIT(i);
	if (q->review)
		snprintf(e.detail, sizeof(e.detail),
		         "held for review as %llu: not the child on file as %s",
		         (unsigned long long)held.id, q->student);
	else
		snprintf(e.detail, sizeof(e.detail), "version %u%s", s.version,
		         q->unchanged ? ", the same as the one on file" : "");
	if ((r = store_audit_append(t, &e)) != 0)
		goto out;
	/* The record this node asked for: its request is answered. */
	uint8_t asked[BATON_ID_BYTES];
	store_outbox ob;
	if ((r = store_asked(t, q->from, b->student, NULL, asked)) == 0 &&
	    (r = store_outbox_get(t, asked, &ob)) == 0 && ob.kind == OUT_REQUEST &&
	    ob.state != OUT_DENIED) {
		ob.state = OUT_ANSWERED;
		if (q->review)
			snprintf(ob.last_error, sizeof(ob.last_error),
			         "released: held for review as %llu, not the child on file as %s",
			         (unsigned long long)held.id, q->student);
		else
			snprintf(ob.last_error, sizeof(ob.last_error),
			         "released: arrived as %s, version %u", q->student, s.version);
		r = store_outbox_put(t, &ob);
	}
	if (r == BATON_ENOTFOUND)
		r = 0;
out:
	json_decref(rec);
	json_decref(atts);
	if (canon) {
		sodium_memzero(canon, strlen(canon));
		free(canon);
	}
	return r;
}

static const char *const held_note = "held for the registrar's decision";
static const char *const auto_note = "to be released at once";

/*
 * A request from a pinned school, opened and covered by its consent: this
 * node applies its own release rules now, so that a request it could never
 * answer is refused at once, and holds it for the registrar (or for the
 * automatic release, which runs the rules again).
 */
static int request_fn(store_txn *t, void *arg)
{
	struct recv_ctx *c = arg;
	struct recv_req *q = c->q;
	const baton_body *b = baton_opened_body(c->o);
	const baton_header *h = baton_opened_header(c->o);
	struct release_check rc;
	store_request *rq = NULL;
	uint8_t *pol = NULL;
	size_t plen;
	int r;

	c->content_err = 0;
	memset(&rc, 0, sizeof(rc));
	rc.consent = b->consent;
	rc.consent_len = b->consent_len;
	rc.my_id_pk = baton_key_id_pk(q->key);
	rc.to_pk = h->sender;
	rc.sections = b->requested_mask;
	rc.now = q->now;
	rc.skew = q->skew;
	r = consent_check(t, &rc);
	if (r == BATON_EIO || r == BATON_ENOMEM || r == BATON_EINTERNAL || r < -900)
		return r;
	if (r != 0) {
		char why[300];
		snprintf(why, sizeof(why), "%s",
		         baton_diag()); /* bti_diag_err writes that buffer */
		c->content_err = BATON_REASON_CONSENT_INVALID;
		return bti_diag_err(r, "%s: %s", baton_errname(r), why);
	}
	if ((r = store_meta_get(t, POLICY_KEY, &pol, &plen)) < 0 && r != BATON_ENOTFOUND)
		return r;
	q->auto_release = r == 0 && plen == 1 && pol[0] == 1;
	free(pol);
	q->kind = BATON_KIND_REQUEST;
	snprintf(q->student, sizeof(q->student), "%s", rc.c.student);

	if ((rq = calloc(1, sizeof(*rq))) == NULL)
		return BATON_ENOMEM;
	memcpy(rq->id, q->packet, BATON_ID_BYTES);
	memcpy(rq->hash, q->hash, BATON_HASH_BYTES);
	snprintf(rq->from, sizeof(rq->from), "%s", q->from);
	snprintf(rq->student, sizeof(rq->student), "%s", rc.c.student);
	rq->want = b->requested_mask;
	memcpy(rq->consent, b->consent, b->consent_len);
	rq->consent_len = b->consent_len;
	snprintf(rq->note, sizeof(rq->note), "%s", b->note);
	rq->state = REQ_HELD;
	rq->time = t->now;
	r = store_request_put(t, rq);
	free(rq);
	if (r != 0)
		return r;

	free(q->receipt);
	q->receipt = NULL;
	if ((r = peer_head(t, q->from, b)) != 0 ||
	    (r = own_head(t, q->key_retired ? NULL : q->key, q->head, &q->head_len)) != 0)
		return r;
	if ((r = sign_receipt(q, BATON_REASON_ACCEPTED, t->now,
	                      q->auto_release ? auto_note : held_note, &q->receipt,
	                      &q->receipt_len)) != 0)
		return r;
	store_inbox in = {{0}, {0}, {0}, BATON_REASON_ACCEPTED, t->now, q->receipt, q->receipt_len};
	memcpy(in.packet, q->packet, BATON_ID_BYTES);
	snprintf(in.from, sizeof(in.from), "%s", q->from);
	snprintf(in.student, sizeof(in.student), "%s", q->student);
	if ((r = store_inbox_put(t, &in)) != 0)
		return r;
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "request-received");
	snprintf(e.student, sizeof(e.student), "%s", q->student);
	snprintf(e.peer, sizeof(e.peer), "%s", q->from);
	memcpy(e.consent, rc.c.id, BATON_ID_BYTES);
	e.has_consent = 1;
	memcpy(e.packet, q->packet, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = rc.release;
	snprintf(e.detail, sizeof(e.detail), "%s: %.160s",
	         q->auto_release ? "released at once by policy" : "held for the registrar",
	         rc.c.purpose);
	return store_audit_append(t, &e);
}

struct reject_ctx {
	struct recv_req *q;
	const char *why;
};

/*
 * A refusal of a pinned school's packet that no later moment can change is
 * kept in the inbox with its receipt, so that the same bytes sent again (by
 * anyone who saw them on the way) get that receipt and no second audit
 * entry. Never over an entry already there: that id belongs to it.
 */
static int reject_keep(store_txn *t, const struct recv_req *q)
{
	store_inbox in;
	int r;
	if (q->receipt == NULL || q->reason == BATON_REASON_STORAGE ||
	    q->reason == BATON_REASON_NOT_YET_VALID)
		return 0;
	if ((r = store_inbox_get(t, q->packet, &in)) != BATON_ENOTFOUND) {
		if (r == 0)
			free(in.receipt);
		return r;
	}
	memset(&in, 0, sizeof(in));
	memcpy(in.packet, q->packet, BATON_ID_BYTES);
	snprintf(in.from, sizeof(in.from), "%s", q->from);
	in.reason = q->reason;
	in.time = t->now;
	in.receipt = q->receipt;
	in.receipt_len = q->receipt_len;
	return store_inbox_put(t, &in);
}

static int reject_fn(store_txn *t, void *arg)
{
	struct reject_ctx *x = arg;
	store_audit e;
	int r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "rejected");
	snprintf(e.peer, sizeof(e.peer), "%s", x->q->from);
	memcpy(e.packet, x->q->packet, BATON_ID_BYTES);
	e.has_packet = 1;
	snprintf(e.detail, sizeof(e.detail), "%s: %.200s", baton_reason_name(x->q->reason), x->why);
	if ((r = store_audit_append(t, &e)) != 0 ||
	    (r = own_head(t, x->q->key_retired ? NULL : x->q->key, x->q->head, &x->q->head_len)) !=
	        0)
		return r;
	/* Signed inside the transaction, over the head that covers this refusal, and kept. */
	free(x->q->receipt);
	x->q->receipt = NULL;
	if (x->q->from[0] && (r = sign_receipt(x->q, x->q->reason, x->q->now, x->why,
	                                       &x->q->receipt, &x->q->receipt_len)) != 0)
		return r;
	return reject_keep(t, x->q);
}

/* The reply to a packet seen before: its receipt, and nothing imported twice. */
static void set_replay(struct recv_req *q, store_inbox *seen)
{
	q->replay = 1;
	q->reason = seen->reason;
	snprintf(q->student, sizeof(q->student), "%s", seen->student);
	free(q->receipt);
	q->receipt = seen->receipt;
	q->receipt_len = seen->receipt_len;
	seen->receipt = NULL;
	if (q->reason != BATON_REASON_ACCEPTED) {
		baton_receipt prior;
		if (baton_receipt_parse(q->receipt, q->receipt_len, &prior) == 0)
			bti_diag_set("answered before: %s%s%s", baton_reason_name(q->reason),
			             prior.note[0] ? ": " : "", prior.note);
	}
}

/* Whether an inbox entry is this very packet (the same bytes), not just the same id. */
static int same_packet(const store_inbox *seen, const uint8_t hash[BATON_HASH_BYTES])
{
	baton_receipt prior;
	return baton_receipt_parse(seen->receipt, seen->receipt_len, &prior) == 0 &&
	       sodium_memcmp(prior.packet_hash, hash, BATON_HASH_BYTES) == 0;
}

/*
 * The refusal of a packet its pinned sender signed: audited, and answered
 * with a signed receipt. Only such a packet reaches here, so what reject_keep
 * puts in the inbox cannot claim the id of another school's packet.
 */
static int reject(store *st, struct recv_req *q, int err)
{
	char why[400];
	int r;
	free(q->receipt);
	q->receipt = NULL;
	snprintf(why, sizeof(why), "%s", baton_diag()[0] ? baton_diag() : baton_strerror(err));
	/* The receipt is returned only once the refusal committed. */
	struct reject_ctx x = {q, why};
	if ((r = store_write(st, reject_fn, &x)) != 0) {
		free(q->receipt);
		q->receipt = NULL;
		q->receipt_len = 0;
		return r;
	}
	/* Signing cleared the diagnostic: the caller reports why the packet was refused. */
	bti_diag_set("%s", why);
	return q->reason == BATON_REASON_STORAGE ? err : 0;
}

/*
 * Input that no pinned school is known to have made is refused with nothing
 * written: anyone who can reach the node could otherwise fill the audit log,
 * the record of disclosures, and name a pinned school in it; nor does such
 * input get a signed answer. The caller counts it and logs at a bounded rate.
 */
static int refuse_unverified(struct recv_req *q, int err)
{
	char why[400];
	q->unverified = 1;
	q->from[0] = 0;
	free(q->receipt);
	q->receipt = NULL;
	q->receipt_len = 0;
	snprintf(why, sizeof(why), "%s", baton_diag()[0] ? baton_diag() : baton_strerror(err));
	bti_diag_set("%s", why);
	return q->reason == BATON_REASON_STORAGE ? err : 0;
}

/*
 * The release rules a receiver can judge from what it holds (PROTOCOL.md
 * section 5.4), in the import's transaction: a consent withdrawn by a
 * revocation in force here, and a guardian's consent for a student whose
 * record here shows the rights had passed to the student when the packet
 * was made. Either is a fault of the packet (consent_invalid).
 */
/*
 * 1 when the packet's identity is the child on file here as id
 * (store_same_child), 0 when not, or when it cannot tell: then the import
 * holds the record for review rather than judge it by another child.
 */
static int same_child_here(store_txn *t, const baton_body *b, const char *id)
{
	store_student on_file, s;
	json_error_t err;
	json_t *rec, *v;
	int r;
	if ((r = store_student_get(t, id, &on_file)) != 0)
		return r == BATON_ENOTFOUND ? 0 : r;
	if (b->section[BATON_SEC_IDENTITY] == NULL)
		return 0;
	v = json_loadb((const char *)b->section[BATON_SEC_IDENTITY],
	               b->section_len[BATON_SEC_IDENTITY], JSON_REJECT_DUPLICATES, &err);
	if (v == NULL || (rec = json_object()) == NULL) {
		json_decref(v);
		return 0;
	}
	json_object_set_new(rec, "identity", v);
	memset(&s, 0, sizeof(s));
	record_index(rec, &s);
	json_decref(rec);
	return store_same_child(&on_file, &s);
}

static int recv_rules(store_txn *t, struct recv_ctx *c)
{
	const baton_consent *k = baton_opened_consent(c->o);
	char id[BATON_STUDENT_MAX + 1];
	uint64_t when = 0;
	int r, existing;

	if ((r = consent_revoked(t, k, c->q->now, &when)) < 0)
		return r;
	if (r == 1) {
		c->content_err = BATON_REASON_CONSENT_INVALID;
		char at[32] = "";
		time_t tt = (time_t)when;
		struct tm tm;
		if (gmtime_r(&tt, &tm) == NULL ||
		    strftime(at, sizeof(at), "%Y-%m-%d %H:%M UTC", &tm) == 0)
			snprintf(at, sizeof(at), "%llu", (unsigned long long)when);
		return bti_diag_err(
		    BATON_EREVOKED,
		    "the consent for student %s was revoked on %s (the revocation is "
		    "on file here)",
		    k->student, at);
	}
	/* A record here can show that rights passed, never that they did not. */
	if (k->role == BATON_ROLE_STUDENT)
		return 0;
	if ((r = local_id(t, baton_opened_body(c->o), c->q->from, id, sizeof(id), &existing)) != 0)
		return r;
	if (!existing || (r = same_child_here(t, baton_opened_body(c->o), id)) <= 0)
		return r;
	if ((r = consent_student_eligible(t, id, baton_opened_header(c->o)->created)) < 0)
		return r;
	if (r == 1) {
		c->content_err = BATON_REASON_CONSENT_INVALID;
		return bti_diag_err(
		    BATON_EELIGIBLE,
		    "student %s was 18 or in postsecondary education by this school's "
		    "record when the packet was made: a guardian's consent no longer "
		    "releases the record",
		    k->student);
	}
	return 0;
}

/*
 * Everything before the import: the header, the sender, the replay guard,
 * then the full verification. Leaves c->o set when the packet is ready to
 * import; otherwise the packet is answered (replay or rejection) or r < 0.
 */
/*
 * What a packet's header says, against the store: addressed here, from a
 * pinned school, not a replay. Sets c->to_open when the packet should be
 * opened.
 */
static int recv_check(store *st, struct recv_ctx *c)
{
	struct recv_req *q = c->q;
	baton_header h;
	struct lookup_ctx l;
	int r, err;

	c->o = NULL;
	c->content_err = 0;
	c->dup = 0;
	c->to_open = 0;
	c->open_err = 0;
	q->receipt = NULL;
	q->receipt_len = 0;
	q->replay = 0;
	q->unverified = 0;
	q->from[0] = q->claims[0] = q->student[0] = 0;
	memset(q->packet, 0, sizeof(q->packet));
	if ((err = baton_packet_peek(q->src, &h)) != 0) {
		q->reason = err == BATON_ENOMEM || err == BATON_EIO ? BATON_REASON_STORAGE
		                                                    : BATON_REASON_MALFORMED;
		return refuse_unverified(q, err);
	}
	memcpy(q->packet, h.id, BATON_ID_BYTES);
	q->kind = h.kind;
	if ((r = baton_packet_hash(q->src, q->hash)) != 0)
		return r;
	memset(&l, 0, sizeof(l));
	l.fp.pk = h.sender;
	l.packet = h.id;
	l.from = h.kind == BATON_KIND_TRANSFER ? h.sender : h.recipient;
	l.to = h.kind == BATON_KIND_TRANSFER ? h.recipient : h.sender;
	l.former = &c->former;
	if ((r = store_read(st, lookup_fn, &l)) != 0)
		return r;
	if (l.fp.code[0] == 0) {
		q->reason = BATON_REASON_UNKNOWN_SENDER;
		return refuse_unverified(
		    q, bti_diag_err(BATON_EBADKEY, "the sender's key is not a pinned school's"));
	}
	/* Only a claim until the signature verifies. */
	snprintf(q->claims, sizeof(q->claims), "%s", l.fp.code);
	if (l.have && same_packet(&l.seen, q->hash)) {
		/* The very bytes of a packet verified before. */
		snprintf(q->from, sizeof(q->from), "%s", l.fp.code);
		set_replay(q, &l.seen);
		return 0;
	}
	/* The same id with other bytes is not a replay: it is verified like any packet. */
	if (l.have)
		free(l.seen.receipt);
	c->to_open = 1;
	return 0;
}

/* The cryptography of one packet, which touches no store: safe on any thread. */
static void recv_decrypt(struct recv_ctx *c)
{
	const struct recv_req *q = c->q;
	baton_open_params op = {baton_key_id_pk(q->key), baton_key_enc_sk(q->key),
	                        baton_key_enc_pk(q->key), q->now, q->skew};
	if ((c->open_err = baton_packet_open_former(q->src, &op, former_of(&c->former), &c->o)) !=
	    0)
		snprintf(c->why, sizeof(c->why), "%s", baton_diag());
}

/*
 * Whether a packet that did not open is signed by the pinned school it
 * names. A packet for another school counts as not: the recipient is
 * checked before the signature, and anyone holding such a packet can send
 * it here.
 */
static int signed_by_sender(const struct recv_ctx *c)
{
	baton_header h;
	if (c->open_err == BATON_EBADSIG || c->open_err == BATON_EWRONGRCPT)
		return 0;
	return baton_packet_verify(c->q->src, &h) == 0;
}

/*
 * Back on the store's thread: a packet that did not open is rejected, with
 * an audit entry and a signed receipt only when its sender signed it.
 */
static int recv_opened(store *st, struct recv_ctx *c)
{
	struct recv_req *q = c->q;
	if (!c->to_open)
		return 0;
	if (c->open_err == 0 || signed_by_sender(c))
		snprintf(q->from, sizeof(q->from), "%s", q->claims);
	if (c->open_err == 0)
		return 0;
	q->reason = reason_of(c->open_err);
	bti_diag_set("%s", c->why);
	return q->from[0] ? reject(st, q, c->open_err) : refuse_unverified(q, c->open_err);
}

/* recv_check, recv_decrypt and recv_opened on this thread: one packet. */
static int recv_open(store *st, struct recv_ctx *c)
{
	int r = recv_check(st, c);
	if (r == 0 && c->to_open)
		recv_decrypt(c);
	return r ? r : recv_opened(st, c);
}

/* In the write transaction: the replay guard again (another process may have imported it), then the
 * import. */
static int accept_fn(store_txn *t, void *arg)
{
	struct recv_ctx *c = arg;
	store_inbox seen;
	int r = store_inbox_get(t, c->q->packet, &seen);
	c->dup = 0;
	c->content_err = 0;
	if (r < 0 && r != BATON_ENOTFOUND)
		return r;
	if (r == 0) {
		int same = same_packet(&seen, c->q->hash);
		free(seen.receipt);
		if (same) {
			c->dup = 1;
			return 0;
		}
		/* A valid packet reusing an accepted packet's id: only its sender could make it. */
		c->content_err = BATON_REASON_MALFORMED;
		return bti_diag_err(BATON_EVALUE,
		                    "packet id already used by another packet from %s", c->q->from);
	}
	if (c->q->kind == BATON_KIND_REQUEST)
		return request_fn(t, c);
	return (r = recv_rules(t, c)) != 0 ? r : import_fn(t, c);
}

/* After the import's transaction: the reply, or the rejection. */
static int recv_done(store *st, struct recv_ctx *c, int r)
{
	struct recv_req *q = c->q;
	baton_opened_free(c->o);
	c->o = NULL;
	if (r == 0 && c->dup) {
		static const uint8_t nobody[BATON_PK_BYTES];
		struct lookup_ctx l;
		memset(&l, 0, sizeof(l));
		l.fp.pk = nobody;
		l.packet = q->packet;
		if ((r = store_read(st, lookup_fn, &l)) != 0)
			return r;
		if (!l.have)
			return bti_diag_err(BATON_EINTERNAL, "the inbox entry went away");
		set_replay(q, &l.seen);
		return 0;
	}
	if (r == 0) {
		q->reason = BATON_REASON_ACCEPTED;
		return 0;
	}
	q->reason = c->content_err ? c->content_err : BATON_REASON_STORAGE;
	return reject(st, q, r);
}

int transfer_receive(store *st, struct recv_req *q)
{
	struct recv_ctx c;
	memset(&c, 0, sizeof(c));
	c.q = q;
	int r = recv_open(st, &c);
	if (r != 0 || c.o == NULL)
		return r;
	return recv_done(st, &c, store_write(st, accept_fn, &c));
}

struct many_ctx {
	struct recv_ctx *c;
	size_t n;
};

static int many_fn(store_txn *t, void *arg)
{
	struct many_ctx *m = arg;
	int r;
	for (size_t i = 0; i < m->n; i++)
		if (m->c[i].o && (r = accept_fn(t, &m->c[i])) != 0)
			return r;
	return 0;
}

static void decrypt_one(size_t i, void *arg)
{
	struct recv_ctx *c = (struct recv_ctx *)arg + i;
	if (c->to_open)
		recv_decrypt(c);
}

int transfer_receive_many(store *st, struct recv_req *q, size_t n, int *errs)
{
	struct recv_ctx *c = calloc(n ? n : 1, sizeof(*c));
	size_t ready = 0;
	int r;

	if (c == NULL)
		return BATON_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c[i].q = &q[i];
		errs[i] = recv_check(st, &c[i]);
	}
	/* Opening is most of the work, and each packet's own: on every core. */
	par_for(n, decrypt_one, c);
	for (size_t i = 0; i < n; i++) {
		if (errs[i] == 0)
			errs[i] = recv_opened(st, &c[i]);
		ready += c[i].o != NULL;
	}
	/* One transaction, one sync, for every packet ready: a group commit. */
	struct many_ctx m = {c, n};
	r = ready ? store_write(st, many_fn, &m) : 0;
	for (size_t i = 0; i < n; i++) {
		if (c[i].o == NULL)
			continue;
		if (r == 0) {
			errs[i] = recv_done(st, &c[i], 0);
			continue;
		}
		/* One bad packet spoils the batch: each goes again in its own transaction. */
		errs[i] = recv_done(st, &c[i], store_write(st, accept_fn, &c[i]));
	}
	free(c);
	return 0;
}

/* ---- receipts at the sender ---- */

struct receipt_ctx {
	const uint8_t *bytes;
	size_t len;
	baton_receipt *rc;
	store_outbox *ob;
};

static int receipt_fn(store_txn *t, void *arg)
{
	struct receipt_ctx *x = arg;
	baton_card peer;
	store_audit e;
	int r;

	if ((r = store_outbox_get(t, x->rc->packet_id, x->ob)) != 0) {
		char hex[2 * BATON_ID_BYTES + 1];
		sodium_bin2hex(hex, sizeof(hex), x->rc->packet_id, BATON_ID_BYTES);
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_EVALUE, "no packet %s was sent from here", hex)
		           : r;
	}
	if (x->ob->kind == OUT_REFUSAL)
		return bti_diag_err(BATON_EVALUE,
		                    "packet %s is a request from %s, not sent from here",
		                    request_hex(x->rc->packet_id), x->ob->to);
	if ((r = peer_card(t, x->ob->to, &peer)) != 0)
		return r;
	if (sodium_memcmp(peer.id_pk, x->rc->receiver, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EBADKEY,
		                    "the receipt is not signed by %s, where the packet "
		                    "went",
		                    x->ob->to);
	if (sodium_memcmp(x->rc->packet_hash, x->ob->hash, BATON_HASH_BYTES) != 0)
		return bti_diag_err(BATON_EHASH,
		                    "the receipt names another packet hash than the one "
		                    "sent");
	/* A request accepted and held may later be refused by the registrar there. */
	int denial = x->ob->kind == OUT_REQUEST && x->rc->reason == BATON_REASON_DENIED;
	if (x->ob->state == OUT_DENIED || x->ob->state == OUT_ANSWERED ||
	    (x->ob->state == OUT_RECEIPTED && !denial))
		return 0; /* the same answer again: nothing changes */
	x->ob->reason = x->rc->reason;
	x->ob->state = x->rc->reason == BATON_REASON_ACCEPTED  ? OUT_RECEIPTED
	               : denial                                ? OUT_DENIED
	               : baton_reason_retryable(x->rc->reason) ? OUT_QUEUED
	                                                       : OUT_REJECTED;
	if (x->rc->note[0])
		snprintf(x->ob->last_error, sizeof(x->ob->last_error), "%.20s%s%.512s",
		         x->rc->reason ? baton_reason_name(x->rc->reason) : "",
		         x->rc->reason ? ": " : "", x->rc->note);
	else
		snprintf(x->ob->last_error, sizeof(x->ob->last_error), "%s",
		         x->rc->reason ? baton_reason_name(x->rc->reason) : "");
	if ((r = store_outbox_put(t, x->ob)) != 0 ||
	    (x->rc->audit_len &&
	     (r = store_peer_head_put(t, x->ob->to, x->rc->audit, x->rc->audit_len)) != 0))
		return r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s",
	         x->ob->kind == OUT_REQUEST ? "request-answered" : "receipt");
	if (x->ob->kind != OUT_REQUEST) /* a request names the other school's student */
		snprintf(e.student, sizeof(e.student), "%s", x->ob->student);
	snprintf(e.peer, sizeof(e.peer), "%s", x->ob->to);
	memcpy(e.packet, x->rc->packet_id, BATON_ID_BYTES);
	e.has_packet = 1;
	if (x->ob->kind == OUT_REQUEST)
		snprintf(e.detail, sizeof(e.detail), "student %s: %.180s", x->ob->student,
		         x->ob->last_error);
	else
		snprintf(e.detail, sizeof(e.detail), "%.250s", x->ob->last_error);
	return store_audit_append(t, &e);
}

int transfer_receipt(store *st, const uint8_t *bytes, size_t len, baton_receipt *rc,
                     store_outbox *ob)
{
	int r;
	if ((r = baton_receipt_parse(bytes, len, rc)) != 0)
		return r;
	struct receipt_ctx x = {bytes, len, rc, ob};
	return store_write(st, receipt_fn, &x);
}

struct receipts_ctx {
	struct receipt_ctx *x;
	int *errs;
	char (*why)[TRANSFER_WHY];
	size_t n;
};

static int receipts_fn(store_txn *t, void *arg)
{
	struct receipts_ctx *m = arg;
	for (size_t i = 0; i < m->n; i++) {
		if (m->x[i].rc == NULL)
			continue;
		int r = receipt_fn(t, &m->x[i]);
		/* A receipt that does not match is refused before anything is written. */
		if (r == BATON_EIO || r == BATON_ENOMEM || r == BATON_EINTERNAL || r < -900)
			return r;
		if ((m->errs[i] = r) != 0)
			snprintf(m->why[i], TRANSFER_WHY, "%s", baton_diag());
	}
	return 0;
}

int transfer_receipts(store *st, const uint8_t *const *bytes, const size_t *len, size_t n,
                      baton_receipt *rc, store_outbox *ob, int *errs, char (*why)[TRANSFER_WHY])
{
	struct receipt_ctx *x = calloc(n ? n : 1, sizeof(*x));
	int r;
	if (x == NULL)
		return BATON_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		why[i][0] = 0;
		errs[i] = bytes[i] ? baton_receipt_parse(bytes[i], len[i], &rc[i])
		                   : bti_diag_err(BATON_EVALUE, "no receipt");
		if (errs[i] == 0)
			x[i] = (struct receipt_ctx){bytes[i], len[i], &rc[i], &ob[i]};
		else
			snprintf(why[i], TRANSFER_WHY, "%s", baton_diag());
	}
	struct receipts_ctx m = {x, errs, why, n};
	if ((r = store_write(st, receipts_fn, &m)) != 0)
		for (size_t i = 0; i < n; i++) /* one by one, so that one fault names itself */
			if (x[i].rc && (errs[i] = store_write(st, receipt_fn, &x[i])) != 0)
				snprintf(why[i], TRANSFER_WHY, "%s", baton_diag());
	free(x);
	return 0;
}

/* ---- answering requests ---- */

struct deny_ctx {
	const baton_key *key;
	const uint8_t *id;
	const char *reason;
	uint64_t now;
	uint8_t *receipt;
	size_t len;
};

static int deny_fn(store_txn *t, void *arg)
{
	struct deny_ctx *d = arg;
	store_request *rq = malloc(sizeof(*rq));
	store_inbox in;
	store_outbox ob;
	store_audit e;
	baton_receipt rc;
	int r;

	free(d->receipt);
	d->receipt = NULL;
	if (rq == NULL)
		return BATON_ENOMEM;
	if ((r = store_request_get(t, d->id, rq)) != 0) {
		r = r == BATON_ENOTFOUND
		        ? bti_diag_err(BATON_EVALUE, "no request %s", request_hex(d->id))
		        : r;
		goto out;
	}
	if (rq->state != REQ_HELD) {
		r = bti_diag_err(BATON_EVALUE, "request %s was already %s", request_hex(d->id),
		                 rq->state == REQ_RELEASED ? "released" : "denied");
		goto out;
	}
	memset(&rc, 0, sizeof(rc));
	memcpy(rc.packet_id, rq->id, BATON_ID_BYTES);
	memcpy(rc.packet_hash, rq->hash, BATON_HASH_BYTES);
	memcpy(rc.receiver, baton_key_id_pk(d->key), BATON_PK_BYTES);
	rc.reason = BATON_REASON_DENIED;
	rc.time = d->now;
	snprintf(rc.note, sizeof(rc.note), "%s", d->reason);
	if ((r = own_head(t, d->key, rc.audit, &rc.audit_len)) != 0)
		goto out;
	if ((r = baton_receipt_sign(&rc, baton_key_id_sk(d->key), &d->receipt, &d->len)) != 0)
		goto out;
	/* The refusal replaces the receipt: the request sent again gets the refusal. */
	if ((r = store_inbox_get(t, rq->id, &in)) != 0) {
		r = r == BATON_ENOTFOUND
		        ? bti_diag_err(BATON_EIO, "store: request %s has no inbox entry",
		                       request_hex(rq->id))
		        : r;
		goto out;
	}
	free(in.receipt);
	in.receipt = d->receipt;
	in.receipt_len = d->len;
	in.reason = BATON_REASON_DENIED;
	if ((r = store_inbox_put(t, &in)) != 0)
		goto out;
	rq->state = REQ_DENIED;
	snprintf(rq->answer, sizeof(rq->answer), "%s", d->reason);
	if ((r = store_request_put(t, rq)) != 0)
		goto out;
	/* Delivered by 'baton serve' like a packet; the bytes are the inbox entry's. */
	memset(&ob, 0, sizeof(ob));
	memcpy(ob.packet, rq->id, BATON_ID_BYTES);
	memcpy(ob.hash, rq->hash, BATON_HASH_BYTES);
	snprintf(ob.to, sizeof(ob.to), "%s", rq->from);
	snprintf(ob.student, sizeof(ob.student), "%s", rq->student);
	ob.kind = OUT_REFUSAL;
	ob.state = OUT_QUEUED;
	ob.created = ob.next_try = d->now;
	ob.expires = d->now + PACKET_DAYS * UINT64_C(86400);
	if ((r = store_outbox_put(t, &ob)) != 0)
		goto out;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "request-denied");
	snprintf(e.student, sizeof(e.student), "%s", rq->student);
	snprintf(e.peer, sizeof(e.peer), "%s", rq->from);
	memcpy(e.packet, rq->id, BATON_ID_BYTES);
	e.has_packet = 1;
	e.sections = rq->want;
	snprintf(e.detail, sizeof(e.detail), "%.250s", d->reason);
	r = store_audit_append(t, &e);
out:
	free(rq);
	return r;
}

int transfer_deny(store *st, const baton_key *key, const uint8_t id[BATON_ID_BYTES],
                  const char *reason, uint64_t now, uint8_t **receipt, size_t *len)
{
	struct deny_ctx d = {key, id, reason, now, NULL, 0};
	int r;
	if (reason[0] == 0 || strlen(reason) > BATON_NOTE_MAX)
		return bti_diag_err(BATON_EVALUE, "the reason must be 1 to %d bytes",
		                    BATON_NOTE_MAX);
	if ((r = store_write(st, deny_fn, &d)) != 0) {
		free(d.receipt);
		return r;
	}
	*receipt = d.receipt;
	*len = d.len;
	return 0;
}

static int policy_get_fn(store_txn *t, void *arg)
{
	uint8_t *v;
	size_t n;
	int r = store_meta_get(t, POLICY_KEY, &v, &n);
	if (r < 0 && r != BATON_ENOTFOUND)
		return r;
	*(int *)arg = r == 0 && n == 1 && v[0] == 1;
	free(v);
	return 0;
}

int transfer_policy_get(store *st, int *auto_release)
{
	return store_read(st, policy_get_fn, auto_release);
}

static int policy_audit(store_txn *t, const char *detail)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "policy");
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	return store_audit_append(t, &e);
}

static int policy_set_fn(store_txn *t, void *arg)
{
	uint8_t v = (uint8_t)(*(int *)arg != 0);
	int r = store_meta_put(t, POLICY_KEY, &v, 1);
	return r ? r
	         : policy_audit(t, v ? "auto-release on: requests covered by a "
	                               "valid consent are released at once"
	                             : "auto-release off: requests wait for the "
	                               "registrar");
}

int transfer_policy_set(store *st, int auto_release)
{
	return store_write(st, policy_set_fn, &auto_release);
}

/*
 * The listener of a serving node: an nng REP socket at the card's endpoint
 * answers each packet with its signed receipt (an empty reply when the
 * sender is not a pinned school), only after the import has committed.
 * Small packets come in batches; a packet larger than one message in
 * chunks, into a spool file (spool.h). Peer input is logged and dropped,
 * never fatal; connections are bounded, and so is every message.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <sodium.h>

#include "bti.h"
#include "gossip.h"
#include "keyring.h"
#include "listener.h"
#include "log.h"
#include "spool.h"
#include "transfer.h"

#define MSG_MAX     (CHUNK + FRAME_HEAD + FRAME_ADMIT + 4096) /* nng counts its own header too */
#define PIPES_MAX   64 /* peer connections at once: each may hold a message being read */
#define ANSWERS_MAX 64 /* replies on their way */

/*
 * Replies on their way. Each request is received on a context of its own
 * and answered on it without waiting: a reply queued behind the previous
 * one to the same peer goes out as soon as that peer reads, and the
 * listener goes on meanwhile. A peer that does not read its replies loses
 * them, after PEER_TIMEOUT_MS or when the context is needed again (the
 * oldest first), so it can stop neither the node nor the replies to
 * others. The callbacks run on nng's threads.
 */
struct answer {
	nng_ctx ctx;
	nng_aio *aio; /* the reply being sent */
	atomic_int busy;
	struct listener *l;
};

struct listener {
	struct serve_node *nd;
	nng_socket rep;
	nng_aio *rx;
	/*
	 * Peer connections. nng reserves a message's announced length as
	 * soon as it reads it, so each connection may hold up to MSG_MAX; at
	 * most PIPES_MAX are kept, and a new one closes the oldest (a school
	 * delivering dials afresh, so the oldest connection is the one least
	 * likely to be a school's). The callbacks run on nng's threads.
	 */
	pthread_mutex_t pipes_lock;
	nng_pipe pipes[PIPES_MAX];
	size_t n_pipes;
	struct answer answers[ANSWERS_MAX];
	struct answer *answering; /* the request being handled, until replied to */
	size_t turn;              /* the context the next request comes in on */
	atomic_ulong unsent;
	atomic_int unsent_why;
	time_t reported, last_sweep, last_look;
	unsigned reload_seen; /* nd->reload_asked when the keyring was last looked at */
	/*
	 * Where it listens. Without --listen, at the card's first endpoint: after
	 * 'baton endpoint set' stored a card naming another one, the listener
	 * moves there the way it takes a rekey, by itself within a second and at
	 * once on SIGHUP; an endpoint it could not listen at is tried again only
	 * on SIGHUP.
	 */
	nng_listener nl;
	char url[BATON_URL_MAX + 1];
	char tried[BATON_URL_MAX + 1]; /* the card's endpoint last tried */
};

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	struct listener *l = arg;
	nng_pipe oldest = NNG_PIPE_INITIALIZER;
	pthread_mutex_lock(&l->pipes_lock);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		if (l->n_pipes == PIPES_MAX) {
			oldest = l->pipes[0];
			memmove(l->pipes, l->pipes + 1, (PIPES_MAX - 1) * sizeof(l->pipes[0]));
			l->n_pipes--;
		}
		l->pipes[l->n_pipes++] = p;
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		for (size_t i = 0; i < l->n_pipes; i++)
			if (nng_pipe_id(l->pipes[i]) == nng_pipe_id(p)) {
				memmove(l->pipes + i, l->pipes + i + 1,
				        (l->n_pipes - i - 1) * sizeof(l->pipes[0]));
				l->n_pipes--;
				break;
			}
	}
	pthread_mutex_unlock(&l->pipes_lock);
	if (nng_pipe_id(oldest) > 0)
		nng_pipe_close(oldest);
}

static void answer_done(void *arg)
{
	struct answer *a = arg;
	int nr = nng_aio_result(a->aio);
	if (nr != 0) {
		nng_msg_free(nng_aio_get_msg(a->aio));
		nng_aio_set_msg(a->aio, NULL);
		atomic_store(&a->l->unsent_why, nr);
		atomic_fetch_add(&a->l->unsent, 1);
	}
	atomic_store(&a->busy, 0);
}

static int answers_open(struct listener *l)
{
	int nr;
	for (size_t i = 0; i < ANSWERS_MAX; i++) {
		l->answers[i].l = l;
		if ((nr = nng_ctx_open(&l->answers[i].ctx, l->rep)) != 0 ||
		    (nr = nng_aio_alloc(&l->answers[i].aio, answer_done, &l->answers[i])) != 0)
			return nr;
	}
	return 0;
}

/* After the socket closed: every reply has finished, sent or not. */
static void answers_free(struct listener *l)
{
	for (size_t i = 0; i < ANSWERS_MAX; i++)
		if (l->answers[i].aio) {
			nng_aio_free(l->answers[i].aio);
			l->answers[i].aio = NULL;
		}
}

/* Context i, for the next request: its reply given up if still waiting. */
static struct answer *answer_free(struct listener *l, size_t i)
{
	struct answer *a = &l->answers[i];
	if (atomic_load(&a->busy)) {
		nng_aio_cancel(a->aio);
		nng_aio_wait(a->aio);
	}
	return a;
}

/* The replies not sent, logged at most once a second, so a peer cannot flood the log. */
static void report_unsent(struct listener *l)
{
	unsigned long n;
	if (time(NULL) == l->reported || (n = atomic_exchange(&l->unsent, 0)) == 0)
		return;
	l->reported = time(NULL);
	node_log(NODE_LOG_WARN, "serve: %lu %s not sent (the peer is not reading them): %s", n,
	         n == 1 ? "reply" : "replies", nng_strerror(atomic_load(&l->unsent_why)));
}

static void auto_release(struct serve_node *nd, const struct recv_req *q)
{
	struct send_req s;
	memset(&s, 0, sizeof(s));
	s.key = nd->key;
	s.node_dir = nd->dir;
	s.now = serve_now();
	s.skew = SKEW;
	char hex[2 * BATON_ID_BYTES + 1];
	store_set_actor("auto-release"); /* the disclosure's audit entry: released by the policy */
	int r = transfer_release(nd->st, q->packet, &s);
	store_set_actor(NULL);
	if (r == 0 && s.refused == 0)
		node_log(NODE_LOG_INFO, "requests: released %s to %s as packet %s", s.student,
		         s.to_code, serve_hex(s.info.id, BATON_ID_BYTES, hex));
	else
		node_log(NODE_LOG_WARN, "requests: request %s from %s held, not released: %s %s",
		         serve_hex(q->packet, BATON_ID_BYTES, hex), q->from,
		         s.refused ? baton_errname(s.refused) : "", baton_diag());
}

/*
 * Sends the reply to the request being handled, on the context it came in
 * on, without waiting.
 */
static void reply(struct listener *l, const void *buf, size_t len)
{
	struct answer *a = l->answering;
	nng_msg *m;
	l->answering = NULL; /* one reply per request */
	if (a == NULL || nng_msg_alloc(&m, len) != 0) {
		atomic_store(&l->unsent_why, NNG_ENOMEM);
		atomic_fetch_add(&l->unsent, 1);
		return;
	}
	if (len)
		memcpy(nng_msg_body(m), buf, len);
	atomic_store(&a->busy, 1);
	nng_aio_set_msg(a->aio, m);
	nng_aio_set_timeout(a->aio, PEER_TIMEOUT_MS);
	nng_ctx_send(a->ctx, a->aio);
}

/*
 * What became of a packet. Refusals of input that no pinned school is
 * known to have made are not audited, and logged at most once a second.
 */
static void log_received(const struct recv_req *q)
{
	char id[2 * BATON_ID_BYTES + 1];
	sodium_bin2hex(id, sizeof(id), q->packet, BATON_ID_BYTES);
	if (q->unverified && q->claims[0])
		node_log_unverified(
		    "inbox: packet %s from a sender claiming to be %s: rejected (%s): %s", id,
		    q->claims, baton_reason_name(q->reason), baton_diag());
	else if (q->unverified)
		node_log_unverified("inbox: packet %s from an unknown sender: rejected (%s): %s",
		                    id, baton_reason_name(q->reason), baton_diag());
	else if (q->reason == BATON_REASON_ACCEPTED && q->kind == BATON_KIND_REQUEST)
		node_log(NODE_LOG_INFO, "requests: request %s from %s for %s: %s", id, q->from,
		         q->student,
		         q->replay         ? "seen before, same answer"
		         : q->auto_release ? "releasing"
		                           : "held");
	else if (q->reason == BATON_REASON_ACCEPTED && q->replay)
		node_log(NODE_LOG_INFO, "inbox: packet %s from %s: replay, same receipt for %s", id,
		         q->from, q->student);
	else if (q->reason == BATON_REASON_ACCEPTED && q->review)
		node_log(NODE_LOG_INFO,
		         "inbox: packet %s from %s: held for review as %llu: not the child on file "
		         "as %s",
		         id, q->from, (unsigned long long)q->held, q->student);
	else if (q->reason == BATON_REASON_ACCEPTED)
		node_log(NODE_LOG_INFO, "inbox: packet %s from %s: imported as %s, version %u%s",
		         id, q->from, q->student, q->version,
		         q->unchanged ? ", the same record as the one on file" : "");
	else
		node_log(NODE_LOG_WARN, "inbox: packet %s from %s: %s (%s): %s", id,
		         q->from[0] ? q->from : "an unknown sender",
		         q->replay ? "answered before" : "rejected", baton_reason_name(q->reason),
		         q->replay ? "same receipt" : baton_diag());
}

static int wants_release(const struct recv_req *q)
{
	return q->reason == BATON_REASON_ACCEPTED && q->kind == BATON_KIND_REQUEST && !q->replay &&
	       q->auto_release;
}

/* Verifies and imports one packet read through src, and replies with its receipt. */
static void receive(struct listener *l, const baton_source *src)
{
	struct serve_node *nd = l->nd;
	struct recv_req q;

	baton_header h;
	memset(&q, 0, sizeof(q));
	q.src = src;
	q.key = baton_packet_peek(src, &h) == 0 ? keyring_for(nd, h.recipient) : nd->key;
	q.key_retired = q.key != nd->key;
	q.now = serve_now();
	q.skew = SKEW;
	/* A store fault still gets its retryable receipt below; the reason says so. */
	(void)transfer_receive(nd->st, &q);
	log_received(&q);
	/* The receipt exists only once the import committed; an unpinned sender gets none. */
	reply(l, q.receipt ? q.receipt : (uint8_t *)"", q.receipt_len);
	if (wants_release(&q))
		auto_release(nd, &q);
	free(q.receipt);
}

static void reply_empty(struct listener *l)
{
	reply(l, "", 0);
}

static void reply_ack(struct listener *l, const uint8_t id[BATON_ID_BYTES], uint64_t have)
{
	uint8_t ack[FRAME_ACK_LEN];
	bti_frame_ack_put(ack, id, have);
	reply(l, ack, sizeof(ack));
}

struct sender_ctx {
	const uint8_t *pk;
	int pinned;
};

static int sender_fn(store_txn *t, void *arg)
{
	struct sender_ctx *x = arg;
	char code[BATON_CODE_MAX + 1];
	int r = store_trusted_code(t, x->pk, code);
	x->pinned = r == 0;
	return r == BATON_ENOTFOUND ? 0 : r;
}

struct seen_ctx {
	const uint8_t *id;
	store_inbox e; /* e.receipt set when the packet is in the inbox */
};

static int seen_fn(store_txn *t, void *arg)
{
	struct seen_ctx *x = arg;
	int r = store_inbox_get(t, x->id, &x->e);
	return r == BATON_ENOTFOUND ? 0 : r;
}

/*
 * Whether the first chunk of f may start a spool, and its path: signed by
 * the pinned school the packet's header names as sender, for this school,
 * a free slot of that school's and room on disk for all spools together.
 * A packet already imported needs no spool: seen->e.receipt (malloc'd) is
 * its receipt, to be sent again. *pinned is set to 1 once the chunk is
 * known to come from a pinned school, whose refusals are its own doing.
 */
static int spool_admit(struct serve_node *nd, const struct frame_chunk *f, char *path, size_t cap,
                       struct seen_ctx *seen, int *pinned)
{
	baton_header h, peek;
	struct sender_ctx x;
	baton_source src;
	const baton_key *me = nd->key;
	int r;

	/* A packet sealed to a key this school replaced lately is still for it. */
	baton_source_mem(&src, f->data, f->n);
	if (baton_packet_peek(&src, &peek) == 0)
		me = keyring_for(nd, peek.recipient);
	if ((r = bti_frame_admit_verify(f, baton_key_id_pk(me), serve_now(), SKEW, &h)) != 0)
		return r;
	x.pk = h.sender;
	x.pinned = 0;
	if ((r = store_read(nd->st, sender_fn, &x)) != 0)
		return r;
	if (!x.pinned)
		return bti_diag_err(BATON_EBADKEY, "the sender's key is not a pinned school's");
	*pinned = 1;
	/* A replayed first chunk of a packet imported before must not take a slot again. */
	seen->id = f->id;
	if ((r = store_read(nd->st, seen_fn, seen)) != 0 || seen->e.receipt)
		return r;
	return spool_claim(nd, f->id, h.sender, f->total, path, cap);
}

/* Imports a spooled packet, replies with its receipt, and removes the spool file. */
static void spool_import(struct listener *l, int fd, const char *path, const char *hex)
{
	baton_source src;
	if (baton_source_fd(&src, &fd) != 0) {
		node_log(NODE_LOG_ERR, "inbox: packet %s: spool: %s", hex, baton_diag());
		reply_empty(l);
	} else {
		receive(l, &src);
	}
	close(fd);
	unlink(path);
}

/* Appends the chunk f at off to the spool open at fd; imports it after the last byte. */
static void spool_append(struct listener *l, const struct frame_chunk *f, int fd, const char *path,
                         const char *hex)
{
	if (lseek(fd, (off_t)f->off, SEEK_SET) < 0 || baton_write_fd(&fd, f->data, f->n) != 0) {
		node_log(NODE_LOG_ERR, "inbox: packet %s: spool: %s", hex, baton_diag());
		close(fd);
		unlink(path); /* the space goes back; the sender starts over later */
		reply_empty(l);
		return;
	}
	if (f->off + f->n < f->total) {
		close(fd);
		reply_ack(l, f->id, f->off + f->n);
		return;
	}
	spool_import(l, fd, path, hex);
}

/*
 * One chunk of a large packet, appended to its spool file. A chunk at
 * another offset than the bytes held (a resumed or repeated transfer) is
 * answered with the offset to go on from; the last chunk is imported and
 * answered with the receipt. Only a first chunk whose admission verifies
 * starts a spool: nothing reaches the disk before the sender is known.
 */
static void handle_chunk(struct listener *l, const uint8_t *buf, size_t len)
{
	struct serve_node *nd = l->nd;
	struct frame_chunk f;
	struct spool_scan s;
	char hex[2 * BATON_ID_BYTES + 1], path[sizeof(s.path)];
	struct stat sb;
	uint64_t have = 0;
	int r, fd = -1;

	if (bti_frame_chunk_decode(buf, len, &f) != 0) {
		node_log_unverified("inbox: a chunk frame of %zu bytes refused: %s", len,
		                    baton_diag());
		reply_empty(l);
		return;
	}
	sodium_bin2hex(hex, sizeof(hex), f.id, BATON_ID_BYTES);
	spool_scan(nd, f.id, NULL, &s);
	if (s.found && s.total != f.total) {
		node_log_unverified(
		    "inbox: packet %s: a chunk says %llu bytes in all, the spool %llu", hex,
		    (unsigned long long)f.total, (unsigned long long)s.total);
		reply_empty(l);
		return;
	}
	if (s.found && (fd = open(s.path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) >= 0 &&
	    fstat(fd, &sb) == 0)
		have = (uint64_t)sb.st_size;
	if (fd >= 0 && have == f.total) {
		/* All of it arrived before a crash or a lost reply: import it now. */
		node_log(NODE_LOG_INFO, "inbox: packet %s: all %llu bytes were already here", hex,
		         (unsigned long long)f.total);
		spool_import(l, fd, s.path, hex);
		return;
	}
	if (f.off != have || f.n == 0) {
		if (fd >= 0)
			close(fd);
		if (f.n == 0 && have > 0)
			node_log(NODE_LOG_DEBUG, "inbox: packet %s: resuming at byte %llu of %llu",
			         hex, (unsigned long long)have, (unsigned long long)f.total);
		reply_ack(l, f.id, have);
		return;
	}
	memcpy(path, s.path, sizeof(path));
	if (fd < 0) {
		struct seen_ctx seen;
		int pinned = 0;
		memset(&seen, 0, sizeof(seen));
		if ((r = spool_admit(nd, &f, path, sizeof(path), &seen, &pinned)) == 0 &&
		    seen.e.receipt) {
			node_log(NODE_LOG_INFO,
			         "inbox: packet %s: imported before; its receipt again", hex);
			reply(l, seen.e.receipt, seen.e.receipt_len);
			free(seen.e.receipt);
			return;
		}
		if (r != 0 || (fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		                         0600)) < 0) {
			/* Only a party not known to be a pinned school is logged at a bounded rate.
			 */
			if (pinned)
				node_log(NODE_LOG_WARN, "inbox: packet %s (%llu bytes) refused: %s",
				         hex, (unsigned long long)f.total,
				         r ? baton_diag_for(r) : strerror(errno));
			else
				node_log_unverified("inbox: packet %s (%llu bytes) refused: %s",
				                    hex, (unsigned long long)f.total,
				                    r ? baton_diag() : strerror(errno));
			reply_empty(l);
			return;
		}
		node_log(NODE_LOG_DEBUG, "inbox: packet %s: receiving %llu bytes in chunks", hex,
		         (unsigned long long)f.total);
	}
	spool_append(l, &f, fd, path, hex);
}

static void handle_receipt(struct listener *l, const uint8_t *buf, size_t len)
{
	struct serve_node *nd = l->nd;
	baton_receipt rc;
	store_outbox ob;
	int r = transfer_receipt(nd->st, buf, len, &rc, &ob);
	if (r != 0) {
		node_log(NODE_LOG_WARN, "outbox: a receipt was refused: %s", baton_diag());
		reply_empty(l);
		return;
	}
	char hex[2 * BATON_ID_BYTES + 1];
	node_log(NODE_LOG_INFO, "outbox: request %s to %s: %s%s%s",
	         serve_hex(rc.packet_id, BATON_ID_BYTES, hex), ob.to, baton_reason_name(rc.reason),
	         rc.note[0] ? ": " : "", rc.note);
	/* Recorded: the same bytes back tell the other school it may stop. */
	reply(l, buf, len);
}

/*
 * Small packets sent together: imported in one transaction (one sync for
 * the lot), answered with their receipts in the same order.
 */
static void handle_batch(struct listener *l, const uint8_t *buf, size_t len)
{
	struct serve_node *nd = l->nd;
	struct recv_req *q = calloc(BATCH_MAX, sizeof(*q));
	baton_source src[BATCH_MAX];
	struct frame_item it[BATCH_MAX];
	int errs[BATCH_MAX];
	size_t k = 0;
	uint8_t *out = NULL;

	if (q == NULL) {
		reply_empty(l);
		return;
	}
	if (bti_frame_batch_decode(buf, len, it, &k) != 0) {
		node_log_unverified("serve: a batch of %zu bytes refused: %s: dropped", len,
		                    baton_diag());
		reply_empty(l);
		free(q);
		return;
	}
	for (size_t i = 0; i < k; i++) {
		baton_header h;
		baton_source_mem(&src[i], it[i].p, it[i].n);
		q[i].src = &src[i];
		q[i].key =
		    baton_packet_peek(&src[i], &h) == 0 ? keyring_for(nd, h.recipient) : nd->key;
		q[i].key_retired = q[i].key != nd->key;
		q[i].now = serve_now();
		q[i].skew = SKEW;
	}
	(void)transfer_receive_many(nd->st, q, k, errs);
	for (size_t i = 0; i < k; i++) {
		log_received(&q[i]);
		it[i].p = q[i].receipt;
		it[i].n = q[i].receipt_len;
	}
	if ((out = malloc(bti_frame_batch_len(it, k))) == NULL ||
	    bti_frame_reply_put(out, it, k) != 0)
		reply_empty(l);
	else /* The receipts exist only once the imports committed. */
		reply(l, out, bti_frame_batch_len(it, k));
	for (size_t i = 0; i < k; i++) {
		if (wants_release(&q[i]))
			auto_release(nd, &q[i]);
		free(q[i].receipt);
	}
	free(out);
	free(q);
}

/* An offer of the directory versions a peer holds: a newer directory, or this node's own offer. */
static void handle_offer(struct listener *l, const uint8_t *buf, size_t len)
{
	struct frame_offer e[FRAME_OFFER_MAX];
	uint8_t *out = NULL;
	size_t k, n = 0;

	if (bti_frame_offer_decode(buf, len, e, &k) != 0) {
		node_log_unverified("serve: an offer of %zu bytes refused: %s: dropped", len,
		                    baton_diag());
		reply_empty(l);
		return;
	}
	if (gossip_answer(l->nd->st, e, k, &out, &n) != 0) {
		node_log(NODE_LOG_ERR, "serve: answering an offer: %s", baton_diag());
		reply_empty(l);
	} else
		reply(l, out, n);
	free(out);
}

static void handle(struct listener *l, const uint8_t *buf, size_t len)
{
	if (len >= 4 && memcmp(buf, "BTNP", 4) == 0) {
		baton_source src;
		baton_source_mem(&src, buf, len);
		receive(l, &src);
	} else if (len >= 4 && memcmp(buf, "BTNB", 4) == 0) {
		handle_batch(l, buf, len);
	} else if (len >= 4 && memcmp(buf, "BTNC", 4) == 0) {
		handle_chunk(l, buf, len);
	} else if (len >= 4 && memcmp(buf, "BTNO", 4) == 0) {
		handle_offer(l, buf, len);
	} else if (len >= 4 && memcmp(buf, "BTNU", 4) == 0) {
		/* Taken or not, the reply is empty; the frame's code names the sender. */
		(void)gossip_take(l->nd->st, buf, len, serve_now(), NULL);
		reply_empty(l);
	} else if (len >= 2 && buf[0] == 0x93 && buf[1] == BATON_OBJ_RECEIPT) {
		handle_receipt(l, buf, len);
	} else {
		node_log_unverified("serve: a message of %zu bytes that is not Baton's: dropped",
		                    len);
		reply_empty(l);
	}
}

static int own_card_fn(store_txn *t, void *arg)
{
	return store_own_card(t, arg);
}

/* Moves the listener to the card's first endpoint when the card names another one. */
static void listener_follow(struct listener *l, int forced)
{
	baton_card me;
	nng_listener nl;
	int nr;

	if (!l->nd->follow_card || store_read(l->nd->st, own_card_fn, &me) != 0)
		return;
	if (strcmp(me.endpoints[0], l->url) == 0 ||
	    (!forced && strcmp(me.endpoints[0], l->tried) == 0))
		return;
	snprintf(l->tried, sizeof(l->tried), "%s", me.endpoints[0]);
	/* Closed first: the new endpoint may name the same port another way. */
	nng_listener_close(l->nl);
	if ((nr = nng_listen(l->rep, me.endpoints[0], &nl, 0)) != 0) {
		node_log(NODE_LOG_WARN,
		         "serve: the card now names %s, but serve cannot listen there (%s); "
		         "listening at %s still",
		         me.endpoints[0], nng_strerror(nr), l->url);
		if ((nr = nng_listen(l->rep, l->url, &l->nl, 0)) != 0)
			node_log(NODE_LOG_ERR, "serve: %s: %s: not listening; restart serve",
			         l->url, nng_strerror(nr));
		return;
	}
	node_log(NODE_LOG_INFO, "serve: the card names a new endpoint: listening at %s (was %s)",
	         me.endpoints[0], l->url);
	l->nl = nl;
	snprintf(l->url, sizeof(l->url), "%s", me.endpoints[0]);
}

/*
 * Between requests: a rekey, or a new endpoint on the card, is taken at once
 * when asked (serve_reload), and noticed by itself within a second; stalled
 * spools are swept.
 */
static void listener_chores(struct listener *l)
{
	struct serve_node *nd = l->nd;
	unsigned asked = atomic_load(&nd->reload_asked);
	report_unsent(l);
	if (asked != l->reload_seen || time(NULL) != l->last_look) {
		keyring_check(nd, asked != l->reload_seen);
		listener_follow(l, asked != l->reload_seen);
		l->reload_seen = asked;
		atomic_store(&nd->reload_done, asked);
		l->last_look = time(NULL);
	}
	if (time(NULL) - l->last_sweep >= (time_t)(nd->spool_idle / 5 + 1)) {
		l->last_sweep = time(NULL);
		spool_sweep(nd);
	}
}

/*
 * Waits for one request, and handles it: at most until the next chore is
 * due (within IDLE_MS), less when listener_wake is called.
 */
static void listener_turn(struct listener *l)
{
	struct answer *a = answer_free(l, l->turn);
	int nr;
	nng_aio_set_timeout(l->rx, IDLE_MS);
	nng_ctx_recv(a->ctx, l->rx);
	nng_aio_wait(l->rx);
	if ((nr = nng_aio_result(l->rx)) == 0) {
		nng_msg *m = nng_aio_get_msg(l->rx);
		l->answering = a;
		handle(l, nng_msg_body(m), nng_msg_len(m));
		l->answering = NULL;
		sodium_memzero(nng_msg_body(m), nng_msg_len(m));
		nng_msg_free(m);
		l->turn = (l->turn + 1) % ANSWERS_MAX;
	} else if (nr != NNG_ETIMEDOUT && nr != NNG_EINTR && nr != NNG_ECANCELED) {
		node_log(NODE_LOG_ERR, "serve: receive: %s", nng_strerror(nr));
	}
}

void listener_wake(struct listener *l)
{
	if (l != NULL && l->rx != NULL)
		nng_aio_cancel(l->rx);
}

void *listener_run(void *arg)
{
	struct listener *l = arg;
	while (!atomic_load(&l->nd->stopping)) {
		listener_turn(l);
		listener_chores(l);
	}
	return NULL;
}

/* The socket, bounded before it listens: nng's default would let 17 bytes reserve 4 GiB. */
static int listener_socket(struct listener *l, const char *url)
{
	int nr;
	nng_pipe_notify(l->rep, NNG_PIPE_EV_ADD_POST, on_pipe, l);
	nng_pipe_notify(l->rep, NNG_PIPE_EV_REM_POST, on_pipe, l);
	if ((nr = nng_socket_set_size(l->rep, NNG_OPT_RECVMAXSZ, MSG_MAX)) != 0 ||
	    (nr = answers_open(l)) != 0 || (nr = nng_aio_alloc(&l->rx, NULL, NULL)) != 0 ||
	    (nr = nng_listen(l->rep, url, &l->nl, 0)) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", url, nng_strerror(nr));
	snprintf(l->url, sizeof(l->url), "%s", url);
	return 0;
}

int listener_open(struct serve_node *nd, const char *url, struct listener **out)
{
	struct listener *l = NULL;
	int nr, r = BATON_ENOMEM;

	*out = NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		goto out;
	l->nd = nd;
	l->last_sweep = time(NULL);
	l->reload_seen = atomic_load(&nd->reload_asked);
	pthread_mutex_init(&l->pipes_lock, NULL);
	if ((nr = nng_rep0_open(&l->rep)) != 0) {
		r = bti_diag_err(BATON_EIO, "%s", nng_strerror(nr));
		free(l);
		l = NULL;
		goto out;
	}
	if ((r = listener_socket(l, url)) != 0)
		goto out;
	*out = l;
	l = NULL;
out:
	listener_close(l);
	return r;
}

static void *close_thread(void *arg)
{
	nng_close(*(nng_socket *)arg);
	return NULL;
}

/*
 * Closes the socket, waiting at most a few seconds: a peer stuck in the
 * middle of a message must not keep the node from stopping. Every
 * acknowledged import has committed by then.
 */
static void close_bounded(nng_socket *rep)
{
	pthread_t th;
	struct timespec until;
	if (pthread_create(&th, NULL, close_thread, rep) != 0) {
		nng_close(*rep);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	if (pthread_timedjoin_np(th, NULL, &until) != 0) {
		node_log(NODE_LOG_ERR,
		         "serve: connections did not close within 5 s; stopping anyway");
		fflush(stderr);
		_exit(0);
	}
}

void listener_close(struct listener *l)
{
	if (l == NULL)
		return;
	close_bounded(&l->rep);
	answers_free(l);
	if (l->rx)
		nng_aio_free(l->rx);
	pthread_mutex_destroy(&l->pipes_lock);
	free(l);
}

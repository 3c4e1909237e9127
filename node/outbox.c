/*
 * The outbox worker: delivers queued packets, and refusals of requests, to
 * their schools, retrying with exponential backoff and jitter until a
 * receipt arrives or the packet expires. Small packets to one school travel
 * in batches; a packet larger than one message in chunks, resuming where a
 * cut connection left off (proto/PROTOCOL.md section 10). On a thread of
 * its own, so that a school slow to answer never delays what arrives.
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
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "bti.h"
#include "directory.h"
#include "gossip.h"
#include "keyring.h"
#include "log.h"
#include "outbox.h"
#include "transfer.h"

#define DUE_MAX     256 /* outbox entries taken per round */
#define REPLY_MAX   (8 + BATCH_MAX * (4 + RECEIPT_MAX))
#define TICK_MS     1000 /* the longest between two rounds of the outbox */
#define BACKOFF_MAX 3600 /* seconds between attempts, at most */
#define HOLD_LOOK   60   /* seconds between looks at an entry held for a withdrawn school */

struct due_ctx {
	store_outbox *due; /* DUE_MAX entries */
	size_t n;
	uint64_t now;
	unsigned char *held; /* DUE_MAX: the school's key is withdrawn by a directory */
};

static int collect_due(const store_outbox *e, void *arg)
{
	struct due_ctx *d = arg;
	if (d->n < DUE_MAX)
		d->due[d->n++] = *e;
	return 0;
}

/*
 * The identity key packet e was sealed to (its header's recipient): from
 * the store, or from the first bytes of its file. Nonzero when it cannot be
 * read; the delivery then reports what is wrong with the packet.
 */
static int sealed_to(store_txn *t, const store_outbox *e, uint8_t pk[BATON_PK_BYTES])
{
	baton_source src;
	baton_header h;
	uint8_t *p = NULL;
	size_t n = 0;
	int fd = -1, r;

	if (e->file[0]) {
		if ((fd = open(e->file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
			return BATON_EIO;
		r = baton_source_fd(&src, &fd);
	} else if ((r = store_packet_get(t, e->packet, &p, &n)) == 0)
		baton_source_mem(&src, p, n);
	if (r == 0 && (r = baton_packet_peek(&src, &h)) == 0)
		memcpy(pk, h.recipient, BATON_PK_BYTES);
	if (fd >= 0)
		close(fd);
	free(p);
	return r;
}

static int due_fn(store_txn *t, void *arg)
{
	struct due_ctx *d = arg;
	char by[BATON_NAME_MAX + 1];
	uint8_t pk[BATON_PK_BYTES];
	int r = store_outbox_due(t, d->now, DUE_MAX, collect_due, arg);
	/*
	 * A school whose key a pinned authority withdrew gets nothing until it
	 * comes back; nor does a packet sealed to a withdrawn key, even when its
	 * school now has another: the holder of the withdrawn key could open it.
	 * directory.c finds held entries by the note's "held: withdrawn by".
	 */
	for (size_t i = 0; r == 0 && i < d->n; i++) {
		store_outbox *e = &d->due[i];
		d->held[i] = 0;
		if ((r = store_withdrawn_code(t, e->to, by)) == 0) {
			d->held[i] = 1;
			snprintf(e->last_error, sizeof(e->last_error), "held: withdrawn by %.128s",
			         by);
		} else if (r == BATON_ENOTFOUND && sealed_to(t, e, pk) == 0 &&
		           (r = store_withdrawn(t, pk, by)) == 0) {
			d->held[i] = 1;
			snprintf(e->last_error, sizeof(e->last_error),
			         "held: withdrawn by %.128s: sealed to the withdrawn key; send the "
			         "record again",
			         by);
		}
		if (r == BATON_ENOTFOUND)
			r = 0;
	}
	return r;
}

static int update_one(store_txn *t, const store_outbox *e)
{
	store_outbox cur;
	int r = store_outbox_get(t, e->packet, &cur);
	if (r != 0)
		return r == BATON_ENOTFOUND ? 0 : r;
	/* A receipt recorded meanwhile wins over this attempt's bookkeeping. */
	if (cur.state != OUT_QUEUED)
		return 0;
	return store_outbox_put(t, e);
}

/* The bookkeeping of many entries, in one transaction. */
struct updates {
	store_outbox **e;
	size_t n;
};

static int updates_fn(store_txn *t, void *arg)
{
	struct updates *u = arg;
	int r;
	for (size_t i = 0; i < u->n; i++)
		if (u->e[i] && (r = update_one(t, u->e[i])) != 0)
			return r;
	return 0;
}

static int update_fn(store_txn *t, void *arg)
{
	return update_one(t, arg);
}

struct peer_ctx {
	const char *code;
	baton_card card;
};

static int peer_fn(store_txn *t, void *arg)
{
	struct peer_ctx *p = arg;
	int r = store_peer_card(t, p->code, &p->card);
	if (r != BATON_ENOTFOUND)
		return r;
	if ((r = directory_expired_why(t, p->code)) != BATON_ENOTFOUND)
		return r;
	return bti_diag_err(BATON_EVALUE, "%s is no longer pinned", p->code);
}

/* Reads n bytes at off of the file open at *fd. */
static int read_at(int *fd, uint64_t off, uint8_t *buf, size_t n)
{
	baton_source src;
	int r = baton_source_fd(&src, fd);
	return r ? r : src.read_at(src.ctx, off, buf, n);
}

/*
 * A socket to deliver to one school: replies of at most reply_max bytes, and
 * a timeout on every operation. Resending is safe (the receiver answers a
 * packet it has seen with the same receipt) but slow, so it waits as long.
 */
static int open_req(nng_socket *req, size_t reply_max)
{
	int nr = nng_req0_open(req);
	if (nr != 0)
		return bti_diag_err(BATON_EIO, "nng: %s", nng_strerror(nr));
	nng_socket_set_size(*req, NNG_OPT_RECVMAXSZ, reply_max);
	nng_socket_set_ms(*req, NNG_OPT_SENDTIMEO, PEER_TIMEOUT_MS);
	nng_socket_set_ms(*req, NNG_OPT_RECVTIMEO, PEER_TIMEOUT_MS);
	nng_socket_set_ms(*req, NNG_OPT_REQ_RESENDTIME, PEER_TIMEOUT_MS);
	return 0;
}

/* An awaited reply: done once its aio completed. */
struct waiter {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
};

static void waiter_done(void *arg)
{
	struct waiter *w = arg;
	pthread_mutex_lock(&w->mu);
	w->done = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/*
 * Receives the reply on req, nng's, to free with nng_free: waits at most
 * PEER_TIMEOUT_MS, and no longer once the node is stopping, so that a peer
 * that never answers cannot hold up the end. Returns nng's error.
 */
static int recv_reply(atomic_int *stop, nng_socket req, void **reply, size_t *rlen)
{
	struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
	nng_aio *aio = NULL;
	nng_msg *m;
	int nr;

	if ((nr = nng_aio_alloc(&aio, waiter_done, &w)) != 0)
		return nr;
	nng_aio_set_timeout(aio, PEER_TIMEOUT_MS);
	nng_recv_aio(req, aio);
	pthread_mutex_lock(&w.mu);
	while (!w.done && !atomic_load(stop)) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += POLL_MS * 1000000L;
		until.tv_sec += until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&w.cv, &w.mu, &until);
	}
	pthread_mutex_unlock(&w.mu);
	nng_aio_cancel(aio);
	nng_aio_wait(aio); /* the callback has run: w may go */
	if ((nr = nng_aio_result(aio)) == 0) {
		m = nng_aio_get_msg(aio);
		*rlen = nng_msg_len(m);
		if ((*reply = nng_alloc(*rlen ? *rlen : 1)) == NULL) {
			*rlen = 0;
			nr = NNG_ENOMEM;
		} else
			memcpy(*reply, nng_msg_body(m), *rlen);
		nng_msg_free(m);
	}
	nng_aio_free(aio);
	return nr;
}

/* One request and its reply on req; the reply is nng's, free with nng_free. */
static int exchange(atomic_int *stop, nng_socket req, const char *ep, const void *msg, size_t len,
                    void **reply, size_t *rlen)
{
	int nr;
	*reply = NULL;
	*rlen = 0;
	if ((nr = nng_send(req, (void *)(uintptr_t)msg, len, 0)) != 0 ||
	    (nr = recv_reply(stop, req, reply, rlen)) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", ep, nng_strerror(nr));
	return 0;
}

/*
 * One chunk frame into buf (FRAME_HEAD + FRAME_ADMIT + CHUNK bytes) and its
 * length: the first chunk is signed with the school's key, so that the
 * receiver knows who it keeps bytes for.
 */
static int chunk_frame(const baton_key *key, int fd, uint64_t total,
                       const uint8_t id[BATON_ID_BYTES], uint64_t off, size_t n, uint8_t *buf,
                       size_t *len)
{
	size_t head = off == 0 && n ? FRAME_HEAD + FRAME_ADMIT : FRAME_HEAD;
	int r;
	if (n && (r = read_at(&fd, off, buf + head, n)) != 0)
		return r;
	if (head == FRAME_HEAD)
		bti_frame_chunk_head(buf, id, total, off);
	else if ((r = bti_frame_admit_sign(buf, key, id, total, (uint64_t)time(NULL), buf + head,
	                                   n)) != 0)
		return r;
	*len = head + n;
	return 0;
}

/*
 * Sends a packet too large for one message: a probe asks how much of it the
 * receiver already holds, then chunks follow from there. The reply to the
 * last chunk is the receipt.
 */
static int send_chunked(atomic_int *stop, nng_socket req, const char *ep, const baton_key *key,
                        int fd, uint64_t total, const uint8_t id[BATON_ID_BYTES], uint8_t *buf,
                        void **reply, size_t *rlen)
{
	uint64_t off = 0, rounds = 2 * (total / CHUNK) + 8, resumed = 0, have;
	size_t n = 0, len; /* the probe carries no data */
	for (uint64_t i = 0; i < rounds; i++) {
		int r = chunk_frame(key, fd, total, id, off, n, buf, &len);
		if (r != 0 || (r = exchange(stop, req, ep, buf, len, reply, rlen)) != 0)
			return r;
		if (bti_frame_ack_decode(*reply, *rlen, id, &have) != 0)
			return 0; /* the receipt, or an empty reply */
		nng_free(*reply, *rlen);
		*reply = NULL;
		if (have >= total)
			return bti_diag_err(BATON_EIO, "%s: the receiver claims %llu of %llu bytes",
			                    ep, (unsigned long long)have,
			                    (unsigned long long)total);
		if (i == 0 && have > 0)
			resumed = have;
		off = have;
		n = bti_frame_chunk_bytes(total, off);
	}
	return bti_diag_err(BATON_EIO, "%s: no progress after %llu messages (resumed at %llu)", ep,
	                    (unsigned long long)rounds, (unsigned long long)resumed);
}

struct inbox_ctx {
	const uint8_t *id;
	store_inbox e;
};

static int inbox_get_fn(store_txn *t, void *arg)
{
	struct inbox_ctx *x = arg;
	int r = store_inbox_get(t, x->id, &x->e);
	return r == BATON_ENOTFOUND
	           ? bti_diag_err(BATON_EIO, "store: the refused request is not in the inbox")
	           : r;
}

/* What deliver sends: a refusal, or a packet (fd and its size total). */
struct parcel {
	uint8_t *buf; /* the message; a chunked packet's frame buffer */
	size_t len;
	uint64_t total;
	int fd;
	const baton_key *signer; /* signs a chunked packet's admission */
	struct inbox_ctx ib;
};

static void parcel_free(struct parcel *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->buf != p->ib.e.receipt)
		free(p->buf);
	free(p->ib.e.receipt);
	p->fd = -1;
	p->buf = p->ib.e.receipt = NULL;
}

/* A packet file: read whole when it fits one message, else a buffer for its chunks. */
static int parcel_file(struct parcel *p, const store_outbox *e)
{
	struct stat sb;
	if ((p->fd = open(e->file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(p->fd, &sb) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", e->file, strerror(errno));
	p->total = (uint64_t)sb.st_size;
	p->len = p->total <= CHUNK ? (size_t)p->total : FRAME_HEAD + FRAME_ADMIT + CHUNK;
	if ((p->buf = malloc(p->len ? p->len : 1)) == NULL)
		return BATON_ENOMEM;
	return p->total <= CHUNK ? read_at(&p->fd, 0, p->buf, p->len) : 0;
}

/* A chunked packet's admission is signed by the key that sealed it, also after a rekey. */
static int parcel_signer(struct serve_node *nd, struct parcel *p)
{
	baton_source src;
	baton_header h;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	int r;
	if ((r = baton_source_fd(&src, &p->fd)) != 0 || (r = baton_packet_peek(&src, &h)) != 0)
		return r;
	if ((p->signer = keyring_by_pk(nd, h.sender)) != NULL)
		return 0;
	baton_fingerprint(h.sender, fpr);
	return bti_diag_err(BATON_EBADKEY,
	                    "the packet was sealed with key %s, which this serve does not "
	                    "hold (restart serve; a packet sealed before the last rekey "
	                    "must be sent again)",
	                    fpr);
}

/* The bytes of entry e to send: the refusal from the inbox, or the packet. */
static int parcel_open(struct serve_node *nd, const store_outbox *e, struct parcel *p)
{
	int r;
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	p->signer = nd->key;
	if (e->kind == OUT_REFUSAL) {
		p->ib.id = e->packet;
		if ((r = store_read(nd->st, inbox_get_fn, &p->ib)) != 0)
			return r;
		p->buf = p->ib.e.receipt;
		p->len = p->ib.e.receipt_len;
		return 0;
	}
	if ((r = parcel_file(p, e)) != 0)
		return r;
	return p->total > CHUNK ? parcel_signer(nd, p) : 0;
}

/* What the school at ep answered (reply, n bytes) to p: the receipt into *receipt, or why not. */
static int parcel_answer(const store_outbox *e, const struct parcel *p, const void *reply, size_t n,
                         uint8_t **receipt, size_t *rlen)
{
	if (n == 0)
		return bti_diag_err(BATON_EIO, "%s does not know this school (empty reply)", e->to);
	if (e->kind == OUT_REFUSAL)
		return n == p->len && memcmp(reply, p->buf, n) == 0
		           ? 0
		           : bti_diag_err(BATON_EIO, "%s did not record the refusal", e->to);
	if ((*receipt = malloc(n)) == NULL)
		return BATON_EIO;
	memcpy(*receipt, reply, n);
	*rlen = n;
	return 0;
}

/*
 * Delivers one outbox entry to its school. A packet's reply is its receipt
 * (*receipt, malloc'd); a refusal's reply is the refusal itself, echoed
 * once the school that asked has recorded it (*receipt stays NULL).
 */
static int deliver(struct serve_node *nd, store_outbox *e, uint8_t **receipt, size_t *rlen)
{
	struct peer_ctx pc;
	struct parcel p;
	nng_socket req;
	int r, nr;

	*receipt = NULL;
	memset(&pc, 0, sizeof(pc));
	pc.code = e->to;
	if ((r = store_read(nd->st, peer_fn, &pc)) != 0)
		return r;
	/* Receipts are small; the peer gets no more than that. */
	if ((r = parcel_open(nd, e, &p)) != 0 || (r = open_req(&req, RECEIPT_MAX)) != 0)
		goto out;
	r = BATON_EIO;
	for (size_t i = 0; i < pc.card.n_endpoints && r != 0 && !atomic_load(&nd->stopping); i++) {
		const char *ep = pc.card.endpoints[i];
		void *reply = NULL;
		size_t n = 0;
		if ((nr = nng_dial(req, ep, NULL, 0)) != 0) {
			bti_diag_set("%s: %s", ep, nng_strerror(nr));
			continue;
		}
		r = e->kind != OUT_REFUSAL && p.total > CHUNK
		        ? send_chunked(&nd->stopping, req, ep, p.signer, p.fd, p.total, e->packet,
		                       p.buf, &reply, &n)
		        : exchange(&nd->stopping, req, ep, p.buf, p.len, &reply, &n);
		if (r == 0)
			r = parcel_answer(e, &p, reply, n, receipt, rlen);
		if (reply)
			nng_free(reply, n);
	}
	nng_close(req);
out:
	parcel_free(&p);
	return r;
}

static uint64_t backoff(uint32_t attempts)
{
	uint64_t base = attempts >= 12 ? BACKOFF_MAX : (UINT64_C(1) << attempts);
	if (base > BACKOFF_MAX)
		base = BACKOFF_MAX;
	/* Jitter of +-50%, so that schools back online do not all retry at once. */
	return base / 2 + randombytes_uniform((uint32_t)base + 1);
}

static const char *kind_name(int kind)
{
	return kind == OUT_REQUEST   ? "request"
	       : kind == OUT_REFUSAL ? "refusal of request"
	                             : "packet";
}

/* A queued packet kept in the store: its bytes, or only their count. */
struct packet_ctx {
	const uint8_t *id;
	uint8_t *p;
	size_t n;
};

static int packet_size_fn(store_txn *t, void *arg)
{
	struct packet_ctx *x = arg;
	int r = store_packet_get(t, x->id, NULL, &x->n);
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "store: a queued packet is missing")
	                            : r;
}

static int packet_get_fn(store_txn *t, void *arg)
{
	struct packet_ctx *x = arg;
	int r = store_packet_get(t, x->id, &x->p, &x->n);
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "store: a queued packet is missing")
	                            : r;
}

/* The bytes of a small queued packet, from the store or its file. */
static int load_packet(struct serve_node *nd, const store_outbox *e, uint8_t **buf, size_t *n)
{
	struct packet_ctx x = {e->packet, NULL, 0};
	int r;
	if (e->file[0])
		return baton_file_read(e->file, CHUNK, buf, n);
	if ((r = store_read(nd->st, packet_get_fn, &x)) != 0)
		return r;
	*buf = x.p;
	*n = x.n;
	return 0;
}

/*
 * Small packets to one school travel together, many to a message, and the
 * receiver imports them in one transaction: one sync for the lot. A batch
 * is a flight: sent, then its reply awaited, so that the next batch can be
 * on its way while the receipts of this one are recorded.
 */
struct flight {
	size_t at[BATCH_MAX]; /* its entries: where each is in the round */
	size_t k;
	struct peer_ctx pc;
	uint8_t *msg;
	size_t len, ep; /* ep: the endpoint it went to */
	nng_socket req;
	atomic_int *stop; /* the node's stop flag */
	int open, r;      /* r: the send's outcome, with why */
	char why[300];
};

/* Sends f on the first of the school's endpoints, from f->ep, that takes it. */
static int flight_go(struct flight *f)
{
	int nr, r = bti_diag_err(BATON_EIO, "%s: no endpoint takes the batch", f->pc.code);
	for (; f->ep < f->pc.card.n_endpoints && !atomic_load(f->stop); f->ep++) {
		const char *ep = f->pc.card.endpoints[f->ep];
		if ((nr = nng_dial(f->req, ep, NULL, 0)) == 0 &&
		    (nr = nng_send(f->req, f->msg, f->len, 0)) == 0)
			return 0;
		r = bti_diag_err(BATON_EIO, "%s: %s", ep, nng_strerror(nr));
	}
	return r;
}

/* Builds the message of batch f (entries of due) and sends it, without waiting for the reply. */
static void flight_send(struct serve_node *nd, const store_outbox *due, struct flight *f)
{
	struct frame_item it[BATCH_MAX];
	uint8_t *buf[BATCH_MAX] = {NULL};
	size_t i = 0;
	char hex[2 * BATON_ID_BYTES + 1];
	int r;

	f->ep = 0;
	f->stop = &nd->stopping;
	memset(&f->pc, 0, sizeof(f->pc));
	f->pc.code = due[f->at[0]].to;
	if ((r = store_read(nd->st, peer_fn, &f->pc)) != 0)
		goto out;
	for (; i < f->k; i++) {
		if ((r = load_packet(nd, &due[f->at[i]], &buf[i], &it[i].n)) != 0)
			goto out;
		it[i].p = buf[i];
		if (bti_frame_batch_len(it, i + 1) > 8 + f->k * 4 + CHUNK) {
			i++;
			r = bti_diag_err(BATON_EIO, "packet %s grew while queued",
			                 serve_hex(due[f->at[i - 1]].packet, BATON_ID_BYTES, hex));
			goto out;
		}
	}
	f->len = bti_frame_batch_len(it, f->k);
	if ((f->msg = malloc(f->len)) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	if ((r = bti_frame_batch_put(f->msg, it, f->k)) != 0 ||
	    (r = open_req(&f->req, REPLY_MAX)) != 0)
		goto out;
	f->open = 1;
	r = flight_go(f);
out:
	while (i > 0)
		free(buf[--i]);
	f->r = r;
	snprintf(f->why, sizeof(f->why), "%s", r ? baton_diag_for(r) : "");
}

/* The receipts in a batch's reply, in the batch's order: the i-th into rc[f->at[i]]. */
static int take_receipts(const struct flight *f, const uint8_t *p, size_t n, uint8_t **rc,
                         size_t *rclen)
{
	const char *ep = f->ep == 0 ? f->pc.code : f->pc.card.endpoints[f->ep];
	struct frame_item it[BATCH_MAX];
	size_t k;

	if (n == 0)
		return bti_diag_err(BATON_EIO, "%s does not know this school (empty reply)", ep);
	if (bti_frame_reply_decode(p, n, it, &k) != 0)
		return bti_diag_err(BATON_EIO, "%s: %s", ep, baton_diag());
	if (k != f->k)
		return bti_diag_err(BATON_EIO, "%s: a reply of %zu receipts to a batch of %zu", ep,
		                    k, f->k);
	for (size_t i = 0; i < k; i++)
		if (it[i].n && (rc[f->at[i]] = malloc(it[i].n)) != NULL) {
			memcpy(rc[f->at[i]], it[i].p, it[i].n);
			rclen[f->at[i]] = it[i].n;
		}
	return 0;
}

/*
 * Waits for the reply to f and takes its receipts into rc (NULL where none
 * came), by their place in the round. An endpoint that fails gives way to
 * the school's next one.
 */
static int flight_land(struct flight *f, uint8_t **rc, size_t *rclen)
{
	int r = f->r, nr;
	if (r != 0) {
		bti_diag_set("%s", f->why);
		return r;
	}
	for (;;) {
		void *reply = NULL;
		size_t n = 0;
		if ((nr = recv_reply(f->stop, f->req, &reply, &n)) != 0) {
			r = bti_diag_err(BATON_EIO, "%s: %s", f->pc.card.endpoints[f->ep],
			                 nng_strerror(nr));
		} else {
			for (size_t i = 0; i < f->k; i++) {
				free(rc[f->at[i]]);
				rc[f->at[i]] = NULL;
			}
			r = take_receipts(f, reply, n, rc, rclen);
			nng_free(reply, n);
			if (r == 0)
				return 0;
		}
		f->ep++;
		if (f->ep >= f->pc.card.n_endpoints || atomic_load(f->stop) || flight_go(f) != 0)
			return r;
	}
}

static void flight_free(struct flight *f)
{
	if (f->open)
		nng_close(f->req);
	f->open = 0;
	free(f->msg);
	f->msg = NULL;
}

/* Records the outcome of one delivery attempt (receipt, or the error). */
static void settle(struct serve_node *nd, store_outbox *e, int r, uint8_t *rc_bytes, size_t rc_len,
                   const baton_receipt *recorded, store_outbox **failed)
{
	const char *what = kind_name(e->kind);
	char id[2 * BATON_ID_BYTES + 1];
	sodium_bin2hex(id, sizeof(id), e->packet, BATON_ID_BYTES);
	*failed = NULL;
	if (r == 0 && e->kind == OUT_REFUSAL) {
		e->state = OUT_DELIVERED;
		e->last_error[0] = 0;
		if ((r = store_write(nd->st, update_fn, e)) == 0) {
			node_log(NODE_LOG_INFO, "outbox: %s %s delivered to %s", what, id, e->to);
			return;
		}
	} else if (r == 0 && recorded) {
		node_log(NODE_LOG_INFO, "outbox: %s %s to %s: receipt %s%s%s", what, id, e->to,
		         baton_reason_name(recorded->reason), recorded->note[0] ? ": " : "",
		         recorded->note);
		return;
	} else if (r == 0 && rc_bytes == NULL) {
		r = bti_diag_err(BATON_EIO, "%s does not know this school (no receipt)", e->to);
	} else if (r == 0) {
		baton_receipt rc;
		store_outbox after;
		r = transfer_receipt(nd->st, rc_bytes, rc_len, &rc, &after);
		if (r == 0) {
			/* transfer_receipt stored the new state and kept the count. */
			node_log(NODE_LOG_INFO, "outbox: %s %s to %s: receipt %s%s%s", what, id,
			         e->to, baton_reason_name(rc.reason), rc.note[0] ? ": " : "",
			         rc.note);
			return;
		}
	}
	snprintf(e->last_error, sizeof(e->last_error), "%s", baton_diag());
	node_log(NODE_LOG_WARN, "outbox: %s %s to %s: attempt %u failed: %s", what, id, e->to,
	         e->attempts, e->last_error);
	*failed = e;
}

/* Whether an entry can travel in a batch: a packet file of one message at most. */
static size_t batchable(struct serve_node *nd, const store_outbox *e)
{
	struct packet_ctx x = {e->packet, NULL, 0};
	struct stat sb;
	if (e->kind == OUT_REFUSAL)
		return 0;
	if (e->file[0] == 0)
		return store_read(nd->st, packet_size_fn, &x) == 0 ? x.n : 0;
	return stat(e->file, &sb) == 0 && (uint64_t)sb.st_size <= CHUNK - 4 * BATCH_MAX
	           ? (size_t)sb.st_size
	           : 0;
}

/*
 * The offers of directory versions made to each school (PROTOCOL.md section
 * 10): when, and a hash of the versions offered, so that a school hears of
 * new versions at once and of the same ones at most every GOSSIP_EVERY
 * seconds. The oldest gives way when the table is full.
 */
#define OFFERED_MAX 256
struct offered {
	char code[BATON_CODE_MAX + 1];
	uint64_t at;
	uint8_t versions[BATON_HASH_BYTES];
};

/* The outbox round's working memory, kept from one round to the next. */
struct outbox_work {
	store_outbox due[DUE_MAX];
	store_outbox *list[DUE_MAX], *failed[DUE_MAX];
	struct flight fl[2];
	/* Receipts of batches that landed, by place in the round, recorded together. */
	unsigned char landed[DUE_MAX];
	uint8_t *rc[DUE_MAX];
	size_t rclen[DUE_MAX];
	const uint8_t *bytes[DUE_MAX]; /* and their lengths: those with a receipt, in order */
	size_t lens[DUE_MAX];
	baton_receipt rcs[DUE_MAX];
	store_outbox obs[DUE_MAX];
	int errs[DUE_MAX];
	char why[DUE_MAX][TRANSFER_WHY];
	unsigned char held[DUE_MAX];
	struct offered offered[OFFERED_MAX];
};

/*
 * The next batch of the round into f, from entry *at on: small packets for
 * one school. An entry that cannot travel in a batch is delivered on the
 * way, alone. Returns the batch's size, 0 when the round is done.
 */
static size_t next_batch(struct serve_node *nd, struct outbox_work *w, size_t n, size_t *at,
                         struct flight *f, size_t *tried)
{
	for (; *at < n && !atomic_load(&nd->stopping); (*at)++) {
		store_outbox *e = &w->due[*at];
		size_t bytes = 0;
		if (w->list[*at] == NULL || e->state != OUT_QUEUED)
			continue;
		if (!batchable(nd, e)) {
			uint8_t *one = NULL;
			size_t one_len = 0;
			int r = deliver(nd, e, &one, &one_len);
			settle(nd, e, r, one, one_len, NULL, &w->failed[*at]);
			free(one);
			w->list[*at] = NULL;
			(*tried)++;
			continue;
		}
		/* This entry and the next small ones for the same school. */
		f->k = 0;
		for (size_t j = *at; j < n && f->k < BATCH_MAX; j++) {
			size_t size;
			if (w->list[j] == NULL || w->due[j].state != OUT_QUEUED ||
			    strcmp(w->due[j].to, e->to) != 0 ||
			    (size = batchable(nd, &w->due[j])) == 0 ||
			    bytes + size > CHUNK - 4 * BATCH_MAX)
				continue;
			bytes += size;
			f->at[f->k++] = j;
			w->list[j] = NULL;
		}
		return f->k;
	}
	return 0;
}

/*
 * The receipts of every batch that landed in this round, in one
 * transaction: one wait for the store, which 'baton send' may hold, a round.
 */
static void record_landed(struct serve_node *nd, struct outbox_work *w, size_t n)
{
	size_t m = 0, j = 0;
	int r = 0;
	for (size_t i = 0; i < n; i++)
		if (w->landed[i] && w->rc[i]) {
			w->bytes[m] = w->rc[i];
			w->lens[m++] = w->rclen[i];
		}
	if (m)
		r = transfer_receipts(nd->st, w->bytes, w->lens, m, w->rcs, w->obs, w->errs,
		                      w->why);
	for (size_t i = 0; i < n; i++) {
		if (!w->landed[i])
			continue;
		if (w->rc[i] == NULL) {
			settle(nd, &w->due[i], 0, NULL, 0, NULL, &w->failed[i]);
		} else {
			int e = r ? r : w->errs[j];
			if (r)
				bti_diag_set("cannot record the receipt: %s", baton_strerror(r));
			else if (e)
				bti_diag_set("%s", w->why[j]);
			/* A receipt is this entry's only if it names this entry's packet. */
			else if (memcmp(w->rcs[j].packet_id, w->due[i].packet, BATON_ID_BYTES) != 0)
				e = bti_diag_err(BATON_EVALUE,
				                 "%s answered with the receipt of another packet",
				                 w->due[i].to);
			settle(nd, &w->due[i], e, e ? NULL : w->rc[i], 0, e ? NULL : &w->rcs[j],
			       &w->failed[i]);
			j++;
		}
		free(w->rc[i]);
		w->rc[i] = NULL;
		w->landed[i] = 0;
	}
}

struct push_ctx {
	atomic_int *stop;
	nng_socket req;
	const char *ep, *code;
};

/* Sends one update; its reply is empty. */
static int push_one(const uint8_t *msg, size_t len, void *arg)
{
	struct push_ctx *x = arg;
	void *reply = NULL;
	size_t n = 0;
	int r = exchange(x->stop, x->req, x->ep, msg, len, &reply, &n);
	if (reply)
		nng_free(reply, n);
	if (r == 0)
		node_log(NODE_LOG_INFO, "directory: a newer directory passed on to %s", x->code);
	return r;
}

/*
 * Offers school code the directory versions held (own, k entries): takes
 * a newer directory the school answers with, or passes on those it lacks.
 * A school that does not answer an offer (an older node) is left alone.
 */
static void offer_to(struct serve_node *nd, const char *code, const struct frame_offer *own,
                     size_t k)
{
	struct frame_offer e[FRAME_OFFER_MAX];
	struct peer_ctx pc;
	uint8_t msg[FRAME_OFFER_HEAD + FRAME_OFFER_MAX * FRAME_OFFER_ENTRY];
	nng_socket req;
	size_t m;
	int r = BATON_EIO, nr;

	memset(&pc, 0, sizeof(pc));
	pc.code = code;
	if (store_read(nd->st, peer_fn, &pc) != 0 || bti_frame_offer_put(msg, own, k) != 0 ||
	    open_req(&req, FRAME_UPDATE_MAX + 4096) != 0)
		return;
	for (size_t i = 0; i < pc.card.n_endpoints && r != 0 && !atomic_load(&nd->stopping); i++) {
		const char *ep = pc.card.endpoints[i];
		void *reply = NULL;
		size_t n = 0;
		if ((nr = nng_dial(req, ep, NULL, 0)) != 0)
			continue;
		if ((r = exchange(&nd->stopping, req, ep, msg, bti_frame_offer_len(k), &reply,
		                  &n)) != 0)
			continue;
		if (n >= 4 && memcmp(reply, "BTNU", 4) == 0) {
			(void)gossip_take(nd->st, reply, n, serve_now(), code);
		} else if (n >= 4 && memcmp(reply, "BTNO", 4) == 0) {
			if (bti_frame_offer_decode(reply, n, e, &m) != 0) {
				node_log(NODE_LOG_WARN, "directory: %s answered an offer with: %s",
				         code, baton_diag());
			} else {
				struct push_ctx x = {&nd->stopping, req, ep, code};
				if (gossip_updates(nd->st, e, m, push_one, &x) != 0)
					node_log(NODE_LOG_WARN,
					         "directory: passing a directory on to %s: %s",
					         code, baton_diag());
			}
		}
		nng_free(reply, n);
	}
	nng_close(req);
}

/*
 * After a round: each school delivered to is offered the directory
 * versions held, when it has not been offered these in GOSSIP_EVERY
 * seconds.
 */
static void offer_round(struct serve_node *nd, struct outbox_work *w, size_t n, uint64_t now)
{
	struct frame_offer own[FRAME_OFFER_MAX];
	uint8_t h[BATON_HASH_BYTES];
	size_t k;

	if (n == 0 || gossip_own(nd->st, own, &k) != 0 || k == 0)
		return;
	crypto_generichash(h, sizeof(h), (const uint8_t *)own, k * sizeof(own[0]), NULL, 0);
	for (size_t i = 0; i < n && !atomic_load(&nd->stopping); i++) {
		const store_outbox *e = &w->due[i];
		struct offered *o = NULL, *oldest = &w->offered[0];
		if (w->failed[i] || w->held[i] || e->state == OUT_EXPIRED)
			continue;
		for (size_t j = 0; j < OFFERED_MAX && o == NULL; j++) {
			if (strcmp(w->offered[j].code, e->to) == 0)
				o = &w->offered[j];
			else if (w->offered[j].at < oldest->at)
				oldest = &w->offered[j];
		}
		if (o && memcmp(o->versions, h, sizeof(h)) == 0 && now < o->at + GOSSIP_EVERY)
			continue;
		if (o == NULL) {
			o = oldest;
			snprintf(o->code, sizeof(o->code), "%s", e->to);
		}
		o->at = now;
		memcpy(o->versions, h, sizeof(h));
		offer_to(nd, e->to, own, k);
		/* What this node holds may have changed: the next school hears of it. */
		if (gossip_own(nd->st, own, &k) != 0)
			return;
		crypto_generichash(h, sizeof(h), (const uint8_t *)own, k * sizeof(own[0]), NULL, 0);
	}
}

/* One round of the outbox: returns how many entries it tried. */
static size_t outbox_tick(struct serve_node *nd)
{
	struct outbox_work *w = nd->work;
	struct due_ctx d = {w->due, 0, serve_now(), w->held};
	size_t tried = 0, at = 0, k, any_failed = 0;
	char hex[2 * BATON_ID_BYTES + 1];
	int cur = 0;

	if (store_read(nd->st, due_fn, &d) != 0) {
		node_log(NODE_LOG_ERR, "outbox: %s", baton_diag());
		return 0;
	}
	/* Count every attempt before making it, in one transaction: a crash still counts. */
	for (size_t i = 0; i < d.n; i++) {
		store_outbox *e = &w->due[i];
		w->list[i] = e;
		w->failed[i] = NULL;
		if (d.now > e->expires) {
			e->state = OUT_EXPIRED;
			snprintf(e->last_error, sizeof(e->last_error), "expired undelivered");
			node_log(NODE_LOG_WARN, "outbox: %s %s to %s expired undelivered",
			         kind_name(e->kind), serve_hex(e->packet, BATON_ID_BYTES, hex),
			         e->to);
			continue;
		}
		if (w->held[i]) {
			/* Not an attempt: looked at again later, sent once the key is back. */
			e->next_try = d.now + HOLD_LOOK;
			node_log(NODE_LOG_INFO, "outbox: %s %s to %s %s", kind_name(e->kind),
			         serve_hex(e->packet, BATON_ID_BYTES, hex), e->to, e->last_error);
			continue;
		}
		e->attempts++;
		e->next_try = d.now + backoff(e->attempts);
	}
	struct updates u = {w->list, d.n};
	if (d.n && store_write(nd->st, updates_fn, &u) != 0) {
		node_log(NODE_LOG_ERR, "outbox: %s", baton_diag());
		return 0;
	}
	for (size_t i = 0; i < d.n; i++)
		if (w->held[i])
			w->list[i] = NULL;
	/* While the receiver imports one batch, the next is on its way. */
	if ((k = next_batch(nd, w, d.n, &at, &w->fl[cur], &tried)) != 0)
		flight_send(nd, w->due, &w->fl[cur]);
	while (k) {
		struct flight *f = &w->fl[cur], *g = &w->fl[cur ^ 1];
		int r = flight_land(f, w->rc, w->rclen);
		/* A batch that failed is settled now, while the error is still this batch's. */
		for (size_t b = 0; b < f->k; b++) {
			if (r == 0) {
				w->landed[f->at[b]] = 1;
				continue;
			}
			settle(nd, &w->due[f->at[b]], r, NULL, 0, NULL, &w->failed[f->at[b]]);
			free(w->rc[f->at[b]]);
			w->rc[f->at[b]] = NULL;
		}
		flight_free(f);
		size_t next = next_batch(nd, w, d.n, &at, g, &tried);
		if (next)
			flight_send(nd, w->due, g);
		tried += k;
		k = next;
		cur ^= 1;
	}
	record_landed(nd, w, d.n);
	/* The errors of failed attempts, in one transaction. */
	for (size_t i = 0; i < d.n; i++)
		any_failed += w->failed[i] != NULL;
	u.e = w->failed;
	if (any_failed && store_write(nd->st, updates_fn, &u) != 0)
		node_log(NODE_LOG_ERR, "outbox: %s", baton_diag());
	offer_round(nd, w, d.n, d.now);
	return tried;
}

static int tail_signed_fn(store_txn *t, void *arg)
{
	return store_audit_signed(t, arg);
}

static int sign_fn(store_txn *t, void *arg)
{
	return store_audit_sign(t, arg, NULL);
}

/* Entries another command appended without the key are signed at once. */
static void sign_tail(struct serve_node *nd)
{
	int yes = 1;
	if (store_read(nd->st, tail_signed_fn, &yes) == 0 && !yes &&
	    store_write(nd->st, sign_fn, (void *)(uintptr_t)atomic_load(&nd->key)) != 0)
		node_log(NODE_LOG_ERR, "serve: signing the audit log: %s", baton_diag());
}

/*
 * The outbox worker, on a thread of its own so that a school slow to
 * answer never delays what arrives: a round when the store changed (a
 * command queued something: it is sent within STORE_LOOK_MS; serve_wake
 * sends at once), and at least once a second for retries falling due.
 * Idle, it sleeps: a look at the store's version every STORE_LOOK_MS costs
 * one read of a meta page.
 */
void *outbox_run(void *arg)
{
	struct serve_node *nd = arg;
	long long last_tick = 0;
	uint64_t seen_version = 0;
	unsigned wakes = 0;
	int busy = 0; /* the last round found work: look again at once */
	while (!atomic_load(&nd->stopping)) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t version = store_version(nd->st);
		long long ms = now.tv_sec * 1000 + now.tv_nsec / 1000000, wait;
		if (busy || version != seen_version || ms - last_tick >= TICK_MS) {
			/* What a command without the school key appended is signed at once. */
			if (version != seen_version)
				sign_tail(nd);
			last_tick = ms;
			seen_version = version;
			busy = outbox_tick(nd) > 0;
		}
		if (busy)
			continue;
		wait = TICK_MS - (ms - last_tick);
		serve_wait_ms(nd, wait < STORE_LOOK_MS ? (wait > 0 ? wait : 1) : STORE_LOOK_MS,
		              &wakes);
	}
	return NULL;
}

struct outbox_work *outbox_work_new(void)
{
	return calloc(1, sizeof(struct outbox_work));
}

void outbox_work_free(struct outbox_work *w)
{
	free(w);
}

/*
 * baton serve: the school's node on the network. An nng REP listener at the
 * card's endpoint answers each packet with its signed receipt (an empty
 * reply when the sender is not a pinned school), only after the import has
 * committed; an outbox worker delivers queued packets, and refusals of
 * requests, to their schools, retrying with exponential backoff and jitter
 * until a receipt arrives or the packet expires. A packet larger than one
 * message travels in chunks into a spool file, resuming where a cut
 * connection left off (proto/PROTOCOL.md section 10). One thread, short
 * transactions, a bounded message size and a timeout on every socket
 * operation; peer input is logged and dropped, never fatal. SIGINT and
 * SIGTERM stop it cleanly.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "cli.h"
#include "proto_impl.h"
#include "transfer.h"

#define CHUNK           (1u << 20) /* packet bytes per message; larger packets are chunked */
#define FRAME_HEAD      40         /* "BTNC", version, 3 zero bytes, id, total, offset */
#define ACK_LEN         32         /* "BTNA", version, 3 zero bytes, id, bytes held */
#define MSG_MAX         (CHUNK + FRAME_HEAD + 4096) /* nng counts its own header too */
#define SPOOL_MAX       16                          /* packets arriving in chunks at once */
#define PIPES_MAX       64   /* peer connections at once: each may hold a message being read */
#define SPOOL_IDLE      3600 /* seconds before a stalled spool is removed */
#define NET_PACKET_MAX  (UINT64_C(64) << 30) /* the largest packet taken over the network */
#define RECEIPT_MAX     BATON_OBJ_MAX
#define DUE_MAX         256 /* outbox entries taken per round */
#define BATCH_MAX       64  /* small packets per message */
#define REPLY_MAX       (8 + BATCH_MAX * (4 + RECEIPT_MAX))
#define POLL_MS         20    /* how often the loop looks at signals and at the store */
#define TICK_MS         1000  /* and the longest between two rounds of the outbox */
#define PEER_TIMEOUT_MS 30000 /* one delivery attempt, send and receipt */
#define BACKOFF_MAX     3600  /* seconds between attempts, at most */
#define SKEW            300

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/*
 * Peer connections. nng reserves a message's announced length as soon as it
 * reads it, so each connection may hold up to MSG_MAX; at most PIPES_MAX
 * are kept, and a new one closes the oldest (a school delivering dials
 * afresh, so the oldest connection is the one least likely to be a school's).
 * The callbacks run on nng's threads.
 */
static pthread_mutex_t pipes_lock = PTHREAD_MUTEX_INITIALIZER;
static nng_pipe pipes[PIPES_MAX];
static size_t n_pipes;

static void on_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
	nng_pipe oldest = NNG_PIPE_INITIALIZER;
	(void)arg;
	pthread_mutex_lock(&pipes_lock);
	if (ev == NNG_PIPE_EV_ADD_POST) {
		if (n_pipes == PIPES_MAX) {
			oldest = pipes[0];
			memmove(pipes, pipes + 1, (PIPES_MAX - 1) * sizeof(pipes[0]));
			n_pipes--;
		}
		pipes[n_pipes++] = p;
	} else if (ev == NNG_PIPE_EV_REM_POST) {
		for (size_t i = 0; i < n_pipes; i++)
			if (nng_pipe_id(pipes[i]) == nng_pipe_id(p)) {
				memmove(pipes + i, pipes + i + 1,
				        (n_pipes - i - 1) * sizeof(pipes[0]));
				n_pipes--;
				break;
			}
	}
	pthread_mutex_unlock(&pipes_lock);
	if (nng_pipe_id(oldest) > 0)
		nng_pipe_close(oldest);
}

/* One line per event, with the time, on standard error. */
static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	char when[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	clock_gettime(CLOCK_REALTIME, &ts);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime_r(&ts.tv_sec, &tm));
	fprintf(stderr, "%s.%03ldZ ", when, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct due_ctx {
	store_outbox *due; /* DUE_MAX entries */
	size_t n;
	uint64_t now;
};

static int collect_due(const store_outbox *e, void *arg)
{
	struct due_ctx *d = arg;
	if (d->n < DUE_MAX)
		d->due[d->n++] = *e;
	return 0;
}

static int due_fn(store_txn *t, void *arg)
{
	struct due_ctx *d = arg;
	return store_outbox_due(t, d->now, DUE_MAX, collect_due, arg);
}

static int update_one(store_txn *t, const store_outbox *e)
{
	store_outbox cur;
	int r = store_outbox_get(t, e->packet, &cur);
	if (r != 0)
		return r == 1 ? 0 : r;
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
	return r == 1 ? diag_err(BATON_EVALUE, "%s is no longer pinned", p->code) : r;
}

/* The serving node. */
struct outbox_work;

struct node {
	store *st;
	const baton_key *key;
	const char *dir;
	char spool[4200]; /* DIR/spool: packets arriving in chunks */
	struct outbox_work *work;
};

/* Frame and acknowledgement heads (PROTOCOL.md section 10). */
static void put_head(uint8_t *p, const char *magic, const uint8_t id[BATON_ID_BYTES])
{
	memcpy(p, magic, 4);
	p[4] = 1;
	p[5] = p[6] = p[7] = 0;
	if (id) /* frames and acknowledgements name their packet; batches do not */
		memcpy(p + 8, id, BATON_ID_BYTES);
}

static int is_head(const uint8_t *p, size_t len, size_t want, const char *magic)
{
	return len == want && memcmp(p, magic, 4) == 0 && p[4] == 1 && p[5] == 0 && p[6] == 0 &&
	       p[7] == 0;
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
		return diag_err(BATON_EIO, "nng: %s", nng_strerror(nr));
	nng_socket_set_size(*req, NNG_OPT_RECVMAXSZ, reply_max);
	nng_socket_set_ms(*req, NNG_OPT_SENDTIMEO, PEER_TIMEOUT_MS);
	nng_socket_set_ms(*req, NNG_OPT_RECVTIMEO, PEER_TIMEOUT_MS);
	nng_socket_set_ms(*req, NNG_OPT_REQ_RESENDTIME, PEER_TIMEOUT_MS);
	return 0;
}

/* One request and its reply on req; the reply is nng's, free with nng_free. */
static int exchange(nng_socket req, const char *ep, const void *msg, size_t len, void **reply,
                    size_t *rlen)
{
	int nr;
	*reply = NULL;
	*rlen = 0;
	if ((nr = nng_send(req, (void *)(uintptr_t)msg, len, 0)) != 0 ||
	    (nr = nng_recv(req, reply, rlen, NNG_FLAG_ALLOC)) != 0)
		return diag_err(BATON_EIO, "%s: %s", ep, nng_strerror(nr));
	return 0;
}

/*
 * Sends a packet too large for one message: a probe asks how much of it the
 * receiver already holds, then chunks follow from there. The reply to the
 * last chunk is the receipt.
 */
static int send_chunked(nng_socket req, const char *ep, int fd, uint64_t total,
                        const uint8_t id[BATON_ID_BYTES], uint8_t *buf, void **reply, size_t *rlen)
{
	uint64_t off = 0, rounds = 2 * (total / CHUNK) + 8, resumed = 0;
	size_t n = 0; /* the probe carries no data */
	for (uint64_t i = 0; i < rounds; i++) {
		put_head(buf, "BTNC", id);
		put_be64(buf + 24, total);
		put_be64(buf + 32, off);
		if (n && read_at(&fd, off, buf + FRAME_HEAD, n) != 0)
			return BATON_EIO;
		int r = exchange(req, ep, buf, FRAME_HEAD + n, reply, rlen);
		if (r != 0)
			return r;
		if (!is_head(*reply, *rlen, ACK_LEN, "BTNA") ||
		    memcmp((uint8_t *)*reply + 8, id, BATON_ID_BYTES) != 0)
			return 0; /* the receipt, or an empty reply */
		uint64_t have = get_be64((uint8_t *)*reply + 24);
		nng_free(*reply, *rlen);
		*reply = NULL;
		if (have >= total)
			return diag_err(BATON_EIO, "%s: the receiver claims %llu of %llu bytes", ep,
			                (unsigned long long)have, (unsigned long long)total);
		if (i == 0 && have > 0)
			resumed = have;
		off = have;
		n = total - off < CHUNK ? (size_t)(total - off) : CHUNK;
	}
	return diag_err(BATON_EIO, "%s: no progress after %llu messages (resumed at %llu)", ep,
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
	return r == 1 ? diag_err(BATON_EIO, "store: the refused request is not in the inbox") : r;
}

/*
 * Delivers one outbox entry to its school. A packet's reply is its receipt
 * (*receipt, malloc'd); a refusal's reply is the refusal itself, echoed
 * once the school that asked has recorded it (*receipt stays NULL).
 */
static int deliver(struct node *nd, store_outbox *e, uint8_t **receipt, size_t *rlen)
{
	struct peer_ctx pc;
	struct inbox_ctx ib;
	uint8_t *buf = NULL;
	size_t len = 0;
	uint64_t total = 0;
	nng_socket req;
	int r, nr, fd = -1;

	*receipt = NULL;
	memset(&pc, 0, sizeof(pc));
	memset(&ib, 0, sizeof(ib));
	pc.code = e->to;
	if ((r = store_read(nd->st, peer_fn, &pc)) != 0)
		return r;
	if (e->kind == OUT_REFUSAL) {
		ib.id = e->packet;
		if ((r = store_read(nd->st, inbox_get_fn, &ib)) != 0)
			return r;
		buf = ib.e.receipt;
		len = ib.e.receipt_len;
	} else {
		struct stat sb;
		if ((fd = open(e->file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0) {
			r = diag_err(BATON_EIO, "%s: %s", e->file, strerror(errno));
			goto out;
		}
		total = (uint64_t)sb.st_size;
		len = total <= CHUNK ? (size_t)total : FRAME_HEAD + CHUNK;
		if ((buf = malloc(len ? len : 1)) == NULL) {
			r = BATON_ENOMEM;
			goto out;
		}
		if (total <= CHUNK && (r = read_at(&fd, 0, buf, len)) != 0)
			goto out;
	}
	/* Receipts are small; the peer gets no more than that. */
	if ((r = open_req(&req, RECEIPT_MAX)) != 0)
		goto out;
	r = BATON_EIO;
	for (size_t i = 0; i < pc.card.n_endpoints && r != 0 && !stopping; i++) {
		const char *ep = pc.card.endpoints[i];
		void *reply = NULL;
		size_t n = 0;
		if ((nr = nng_dial(req, ep, NULL, 0)) != 0) {
			diag_set("%s: %s", ep, nng_strerror(nr));
			continue;
		}
		r = e->kind != OUT_REFUSAL && total > CHUNK
		        ? send_chunked(req, ep, fd, total, e->packet, buf, &reply, &n)
		        : exchange(req, ep, buf, len, &reply, &n);
		if (r != 0)
			continue;
		r = BATON_EIO;
		if (n == 0)
			diag_set("%s does not know this school (empty reply)", e->to);
		else if (e->kind == OUT_REFUSAL)
			r = n == len && memcmp(reply, buf, n) == 0
			        ? 0
			        : diag_err(BATON_EIO, "%s did not record the refusal", e->to);
		else if ((*receipt = malloc(n)) != NULL) {
			memcpy(*receipt, reply, n);
			*rlen = n;
			r = 0;
		}
		nng_free(reply, n);
	}
	nng_close(req);
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

static int own_card_fn(store_txn *t, void *arg)
{
	int r = store_own_card(t, arg);
	return r == 1 ? diag_err(BATON_EIO, "this node has no card") : r;
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
	return r == 1 ? diag_err(BATON_EIO, "store: a queued packet is missing") : r;
}

static int packet_get_fn(store_txn *t, void *arg)
{
	struct packet_ctx *x = arg;
	int r = store_packet_get(t, x->id, &x->p, &x->n);
	return r == 1 ? diag_err(BATON_EIO, "store: a queued packet is missing") : r;
}

/* The bytes of a small queued packet, from the store or its file. */
static int load_packet(struct node *nd, const store_outbox *e, uint8_t **buf, size_t *n)
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
	int open, r; /* r: the send's outcome, with why */
	char why[300];
};

/* Sends f on the first of the school's endpoints, from f->ep, that takes it. */
static int flight_go(struct flight *f)
{
	int nr, r = diag_err(BATON_EIO, "%s: no endpoint takes the batch", f->pc.code);
	for (; f->ep < f->pc.card.n_endpoints && !stopping; f->ep++) {
		const char *ep = f->pc.card.endpoints[f->ep];
		if ((nr = nng_dial(f->req, ep, NULL, 0)) == 0 &&
		    (nr = nng_send(f->req, f->msg, f->len, 0)) == 0)
			return 0;
		r = diag_err(BATON_EIO, "%s: %s", ep, nng_strerror(nr));
	}
	return r;
}

/* Builds the message of batch f (entries of due) and sends it, without waiting for the reply. */
static void flight_send(struct node *nd, const store_outbox *due, struct flight *f)
{
	size_t cap = 8 + f->k * 4 + CHUNK;
	int r;

	f->len = 8;
	f->ep = 0;
	memset(&f->pc, 0, sizeof(f->pc));
	f->pc.code = due[f->at[0]].to;
	if ((r = store_read(nd->st, peer_fn, &f->pc)) != 0)
		goto out;
	if ((f->msg = malloc(cap)) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	put_head(f->msg, "BTNB", NULL);
	for (size_t i = 0; i < f->k; i++) {
		uint8_t *buf;
		size_t n;
		if ((r = load_packet(nd, &due[f->at[i]], &buf, &n)) != 0)
			goto out;
		if (f->len + 4 + n > cap) {
			free(buf);
			r = diag_err(BATON_EIO, "packet %s grew while queued",
			             cli_hex(due[f->at[i]].packet, BATON_ID_BYTES));
			goto out;
		}
		put_be32(f->msg + f->len, (uint32_t)n);
		memcpy(f->msg + f->len + 4, buf, n);
		f->len += 4 + n;
		free(buf);
	}
	if ((r = open_req(&f->req, REPLY_MAX)) != 0)
		goto out;
	f->open = 1;
	r = flight_go(f);
out:
	f->r = r;
	snprintf(f->why, sizeof(f->why), "%s", r ? baton_diag() : "");
}

/* The receipts in a batch's reply, in the batch's order: the i-th into rc[f->at[i]]. */
static int take_receipts(const struct flight *f, const uint8_t *p, size_t n, uint8_t **rc,
                         size_t *rclen)
{
	const char *ep = f->pc.card.endpoints[f->ep];
	size_t off = 8;
	if (n < 8 || !is_head(p, 8, 8, "BTNR"))
		return diag_err(BATON_EIO,
		                n ? "%s: a reply that is not Baton's"
		                  : "%s does not know this school (empty reply)",
		                f->ep == 0 ? f->pc.code : ep);
	for (size_t i = 0; i < f->k; i++) {
		uint32_t m;
		if (n - off < 4 || (m = get_be32(p + off)) > n - off - 4 || m > RECEIPT_MAX)
			return diag_err(BATON_EIO, "%s: a reply cut short", ep);
		if (m && (rc[f->at[i]] = malloc(m)) != NULL) {
			memcpy(rc[f->at[i]], p + off + 4, m);
			rclen[f->at[i]] = m;
		}
		off += 4 + m;
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
		diag_set("%s", f->why);
		return r;
	}
	for (;;) {
		void *reply = NULL;
		size_t n = 0;
		if ((nr = nng_recv(f->req, &reply, &n, NNG_FLAG_ALLOC)) != 0) {
			r = diag_err(BATON_EIO, "%s: %s", f->pc.card.endpoints[f->ep],
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
		if (f->ep >= f->pc.card.n_endpoints || stopping || flight_go(f) != 0)
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
static void settle(struct node *nd, store_outbox *e, int r, uint8_t *rc_bytes, size_t rc_len,
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
			logline("outbox: %s %s delivered to %s", what, id, e->to);
			return;
		}
	} else if (r == 0 && recorded) {
		logline("outbox: %s %s to %s: receipt %s%s%s", what, id, e->to,
		        baton_reason_name(recorded->reason), recorded->note[0] ? ": " : "",
		        recorded->note);
		return;
	} else if (r == 0 && rc_bytes == NULL) {
		r = diag_err(BATON_EIO, "%s does not know this school (no receipt)", e->to);
	} else if (r == 0) {
		baton_receipt rc;
		store_outbox after;
		r = transfer_receipt(nd->st, rc_bytes, rc_len, &rc, &after);
		if (r == 0) {
			/* transfer_receipt stored the new state and kept the count. */
			logline("outbox: %s %s to %s: receipt %s%s%s", what, id, e->to,
			        baton_reason_name(rc.reason), rc.note[0] ? ": " : "", rc.note);
			return;
		}
	}
	snprintf(e->last_error, sizeof(e->last_error), "%s", baton_diag());
	logline("outbox: %s %s to %s: attempt %u failed: %s", what, id, e->to, e->attempts,
	        e->last_error);
	*failed = e;
}

/* Whether an entry can travel in a batch: a packet file of one message at most. */
static size_t batchable(struct node *nd, const store_outbox *e)
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
};

/*
 * The next batch of the round into f, from entry *at on: small packets for
 * one school. An entry that cannot travel in a batch is delivered on the
 * way, alone. Returns the batch's size, 0 when the round is done.
 */
static size_t next_batch(struct node *nd, struct outbox_work *w, size_t n, size_t *at,
                         struct flight *f, size_t *tried)
{
	for (; *at < n && !stopping; (*at)++) {
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
static void record_landed(struct node *nd, struct outbox_work *w, size_t n)
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
				diag_set("cannot record the receipt: %s", baton_strerror(r));
			else if (e)
				diag_set("%s", w->why[j]);
			/* A receipt is this entry's only if it names this entry's packet. */
			else if (memcmp(w->rcs[j].packet_id, w->due[i].packet, BATON_ID_BYTES) != 0)
				e = diag_err(BATON_EVALUE,
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

/* One round of the outbox: returns how many entries it tried. */
static size_t outbox_tick(struct node *nd)
{
	struct outbox_work *w = nd->work;
	struct due_ctx d = {w->due, 0, (uint64_t)time(NULL)};
	size_t tried = 0, at = 0, k, any_failed = 0;
	int cur = 0;

	if (store_read(nd->st, due_fn, &d) != 0) {
		logline("outbox: %s", baton_diag());
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
			logline("outbox: %s %s to %s expired undelivered", kind_name(e->kind),
			        cli_hex(e->packet, BATON_ID_BYTES), e->to);
			continue;
		}
		e->attempts++;
		e->next_try = d.now + backoff(e->attempts);
	}
	struct updates u = {w->list, d.n};
	if (d.n && store_write(nd->st, updates_fn, &u) != 0) {
		logline("outbox: %s", baton_diag());
		return 0;
	}
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
		logline("outbox: %s", baton_diag());
	return tried;
}

/* A request the policy releases at once: the record goes into the outbox. */
static void auto_release(struct node *nd, const struct recv_req *q)
{
	struct send_req s;
	memset(&s, 0, sizeof(s));
	s.key = nd->key;
	s.node_dir = nd->dir;
	s.now = (uint64_t)time(NULL);
	s.skew = SKEW;
	int r = transfer_release(nd->st, q->packet, &s);
	if (r == 0 && s.refused == 0)
		logline("requests: released %s to %s as packet %s", s.student, s.to_code,
		        cli_hex(s.info.id, BATON_ID_BYTES));
	else
		logline("requests: request %s from %s held, not released: %s %s",
		        cli_hex(q->packet, BATON_ID_BYTES), q->from,
		        s.refused ? baton_errname(s.refused) : "", baton_diag());
}

/*
 * Sends a reply without waiting: a peer that does not read its replies
 * loses them and must not stop the node. Failures are counted and logged
 * at most once a second, so such a peer cannot flood the log either.
 */
static void reply(nng_socket rep, const void *buf, size_t len)
{
	static unsigned long unsent;
	static time_t reported;
	int nr = nng_send(rep, (void *)(uintptr_t)buf, len, NNG_FLAG_NONBLOCK);
	if (nr == 0)
		return;
	unsent++;
	if (time(NULL) != reported) {
		reported = time(NULL);
		logline("serve: %lu %s not sent (the peer is not reading them): %s", unsent,
		        unsent == 1 ? "reply" : "replies", nng_strerror(nr));
		unsent = 0;
	}
}

static void log_received(const struct recv_req *q)
{
	char id[2 * BATON_ID_BYTES + 1];
	sodium_bin2hex(id, sizeof(id), q->packet, BATON_ID_BYTES);
	if (q->reason == BATON_REASON_ACCEPTED && q->kind == BATON_KIND_REQUEST)
		logline("requests: request %s from %s for %s: %s", id, q->from, q->student,
		        q->replay         ? "seen before, same answer"
		        : q->auto_release ? "releasing"
		                          : "held");
	else if (q->reason == BATON_REASON_ACCEPTED && q->replay)
		logline("inbox: packet %s from %s: replay, same receipt for %s", id, q->from,
		        q->student);
	else if (q->reason == BATON_REASON_ACCEPTED)
		logline("inbox: packet %s from %s: imported as %s, version %u%s", id, q->from,
		        q->student, q->version,
		        q->review      ? ", a new version of a student on file: review it"
		        : q->unchanged ? ", the same record as the one on file"
		                       : "");
	else
		logline("inbox: packet %s from %s: %s (%s): %s", id,
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
static void receive(struct node *nd, nng_socket rep, const baton_source *src)
{
	struct recv_req q;

	memset(&q, 0, sizeof(q));
	q.src = src;
	q.key = nd->key;
	q.now = (uint64_t)time(NULL);
	q.skew = SKEW;
	/* A store fault still gets its retryable receipt below; the reason says so. */
	(void)transfer_receive(nd->st, &q);
	log_received(&q);
	/* The receipt exists only once the import committed; an unpinned sender gets none. */
	reply(rep, q.receipt ? q.receipt : (uint8_t *)"", q.receipt_len);
	if (wants_release(&q))
		auto_release(nd, &q);
	free(q.receipt);
}

static void reply_empty(nng_socket rep)
{
	reply(rep, "", 0);
}

static void reply_ack(nng_socket rep, const uint8_t id[BATON_ID_BYTES], uint64_t have)
{
	uint8_t ack[ACK_LEN];
	put_head(ack, "BTNA", id);
	put_be64(ack + 24, have);
	reply(rep, ack, sizeof(ack));
}

struct sender_ctx {
	const uint8_t *pk;
	int pinned;
};

static int sender_cb(const char *code, const uint8_t *card, size_t len, void *arg)
{
	struct sender_ctx *x = arg;
	baton_card c;
	(void)code;
	if (baton_card_parse(card, len, &c) == 0 &&
	    sodium_memcmp(c.id_pk, x->pk, BATON_PK_BYTES) == 0)
		x->pinned = 1;
	return 0;
}

static int sender_fn(store_txn *t, void *arg)
{
	return store_peer_each(t, sender_cb, arg);
}

/* Whether a spool may start: a pinned sender, this school, room on disk and in the table. */
static int spool_admit(struct node *nd, const uint8_t *id, const uint8_t *data, size_t n,
                       uint64_t total)
{
	baton_source src;
	baton_header h;
	struct sender_ctx x;
	struct statvfs vfs;
	int r, count = 0;

	baton_source_mem(&src, data, n);
	if ((r = baton_packet_peek(&src, &h)) != 0)
		return diag_err(r, "the first chunk does not hold the packet's header: %s",
		                baton_diag());
	if (memcmp(h.id, id, BATON_ID_BYTES) != 0)
		return diag_err(BATON_EVALUE, "the chunks name another packet id than the header");
	if (sodium_memcmp(h.recipient, baton_key_id_pk(nd->key), BATON_PK_BYTES) != 0)
		return diag_err(BATON_EWRONGRCPT, "the packet is addressed to another school");
	x.pk = h.sender;
	x.pinned = 0;
	if ((r = store_read(nd->st, sender_fn, &x)) != 0)
		return r;
	if (!x.pinned)
		return diag_err(BATON_EBADKEY, "the sender's key is not a pinned school's");
	DIR *d = opendir(nd->spool);
	for (struct dirent *de; d && (de = readdir(d)) != NULL;)
		count += strstr(de->d_name, ".part") != NULL;
	if (d)
		closedir(d);
	if (count >= SPOOL_MAX)
		return diag_err(BATON_EIO, "%d packets are arriving already; try later", count);
	if (statvfs(nd->spool, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < total + 2 * total / 100 + (64u << 20))
		return diag_err(BATON_EIO, "not enough disk for a packet of %llu bytes",
		                (unsigned long long)total);
	return 0;
}

/* Imports a spooled packet, replies with its receipt, and removes the spool file. */
static void spool_import(struct node *nd, nng_socket rep, int fd, const char *path, const char *hex)
{
	baton_source src;
	if (baton_source_fd(&src, &fd) != 0) {
		logline("inbox: packet %s: spool: %s", hex, baton_diag());
		reply_empty(rep);
	} else {
		receive(nd, rep, &src);
	}
	close(fd);
	unlink(path);
}

/*
 * One chunk of a large packet, appended to its spool file. A chunk at
 * another offset than the bytes held (a resumed or repeated transfer) is
 * answered with the offset to go on from; the last chunk is imported and
 * answered with the receipt.
 */
static void handle_chunk(struct node *nd, nng_socket rep, const uint8_t *buf, size_t len)
{
	const uint8_t *id = buf + 8, *data = buf + FRAME_HEAD;
	uint64_t total = get_be64(buf + 24), off = get_be64(buf + 32), have = 0;
	size_t n = len - FRAME_HEAD;
	char path[sizeof(nd->spool) + 64], hex[2 * BATON_ID_BYTES + 1];
	struct stat sb;
	int fd;

	sodium_bin2hex(hex, sizeof(hex), id, BATON_ID_BYTES);
	if (total < BATON_PREFIX_BYTES + 64 || total > NET_PACKET_MAX || off > total ||
	    n > total - off) {
		logline("inbox: packet %s: chunk of %zu bytes at %llu of %llu out of bounds", hex,
		        n, (unsigned long long)off, (unsigned long long)total);
		reply_empty(rep);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s.part", nd->spool, hex);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && fstat(fd, &sb) == 0)
		have = (uint64_t)sb.st_size;
	if (fd >= 0 && have == total) {
		/* All of it arrived before a crash or a lost reply: import it now. */
		logline("inbox: packet %s: all %llu bytes were already here", hex,
		        (unsigned long long)total);
		spool_import(nd, rep, fd, path, hex);
		return;
	}
	if (off != have || n == 0) {
		if (fd >= 0)
			close(fd);
		if (n == 0 && have > 0)
			logline("inbox: packet %s: resuming at byte %llu of %llu", hex,
			        (unsigned long long)have, (unsigned long long)total);
		reply_ack(rep, id, have);
		return;
	}
	if (fd < 0) {
		int r = spool_admit(nd, id, data, n, total);
		if (r != 0 || (fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		                         0600)) < 0) {
			logline("inbox: packet %s (%llu bytes) refused: %s", hex,
			        (unsigned long long)total, r ? baton_diag() : strerror(errno));
			reply_empty(rep);
			return;
		}
		logline("inbox: packet %s: receiving %llu bytes in chunks", hex,
		        (unsigned long long)total);
	}
	if (lseek(fd, (off_t)off, SEEK_SET) < 0 || baton_write_fd(&fd, data, n) != 0) {
		logline("inbox: packet %s: spool: %s", hex, baton_diag());
		close(fd);
		unlink(path); /* the space goes back; the sender starts over later */
		reply_empty(rep);
		return;
	}
	if (off + n < total) {
		close(fd);
		reply_ack(rep, id, off + n);
		return;
	}
	spool_import(nd, rep, fd, path, hex);
}

/* Spool files of transfers abandoned for an hour. */
static void spool_sweep(struct node *nd)
{
	char path[sizeof(nd->spool) + 300];
	struct stat sb;
	DIR *d = opendir(nd->spool);
	time_t now = time(NULL);
	for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
		if (strstr(de->d_name, ".part") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", nd->spool, de->d_name);
		if (stat(path, &sb) == 0 && now - sb.st_mtime > SPOOL_IDLE) {
			unlink(path);
			logline("inbox: %s abandoned for an hour: removed", de->d_name);
		}
	}
	if (d)
		closedir(d);
}

/* A refusal of one of this node's requests, delivered by the school asked. */
static void handle_receipt(struct node *nd, nng_socket rep, const uint8_t *buf, size_t len)
{
	baton_receipt rc;
	store_outbox ob;
	int r = transfer_receipt(nd->st, buf, len, &rc, &ob);
	if (r != 0) {
		logline("outbox: a receipt was refused: %s", baton_diag());
		reply_empty(rep);
		return;
	}
	logline("outbox: request %s to %s: %s%s%s", cli_hex(rc.packet_id, BATON_ID_BYTES), ob.to,
	        baton_reason_name(rc.reason), rc.note[0] ? ": " : "", rc.note);
	/* Recorded: the same bytes back tell the other school it may stop. */
	reply(rep, buf, len);
}

/*
 * Small packets sent together: imported in one transaction (one sync for
 * the lot), answered with their receipts in the same order.
 */
static void handle_batch(struct node *nd, nng_socket rep, const uint8_t *buf, size_t len)
{
	struct recv_req *q = calloc(BATCH_MAX, sizeof(*q));
	baton_source src[BATCH_MAX];
	int errs[BATCH_MAX];
	size_t k = 0, off = 8, out_len = 8;
	uint8_t *out = NULL;

	if (q == NULL) {
		reply_empty(rep);
		return;
	}
	while (off < len) {
		uint32_t n;
		if (k == BATCH_MAX || len - off < 4 || (n = get_be32(buf + off)) == 0 ||
		    n > len - off - 4) {
			logline("serve: a batch of %zu bytes framed wrongly at byte %zu: dropped",
			        len, off);
			reply_empty(rep);
			free(q);
			return;
		}
		baton_source_mem(&src[k], buf + off + 4, n);
		q[k].src = &src[k];
		q[k].key = nd->key;
		q[k].now = (uint64_t)time(NULL);
		q[k].skew = SKEW;
		k++;
		off += 4 + n;
	}
	(void)transfer_receive_many(nd->st, q, k, errs);
	for (size_t i = 0; i < k; i++) {
		log_received(&q[i]);
		out_len += 4 + q[i].receipt_len;
	}
	if ((out = malloc(out_len)) == NULL) {
		reply_empty(rep);
	} else {
		put_head(out, "BTNR", NULL);
		off = 8;
		for (size_t i = 0; i < k; i++) {
			put_be32(out + off, (uint32_t)q[i].receipt_len);
			if (q[i].receipt_len)
				memcpy(out + off + 4, q[i].receipt, q[i].receipt_len);
			off += 4 + q[i].receipt_len;
		}
		/* The receipts exist only once the imports committed. */
		reply(rep, out, out_len);
	}
	for (size_t i = 0; i < k; i++) {
		if (wants_release(&q[i]))
			auto_release(nd, &q[i]);
		free(q[i].receipt);
	}
	free(out);
	free(q);
}

static void handle(struct node *nd, nng_socket rep, const uint8_t *buf, size_t len)
{
	if (len >= 4 && memcmp(buf, "BTNP", 4) == 0) {
		baton_source src;
		baton_source_mem(&src, buf, len);
		receive(nd, rep, &src);
	} else if (len >= 8 && is_head(buf, 8, 8, "BTNB")) {
		handle_batch(nd, rep, buf, len);
	} else if (len >= FRAME_HEAD && is_head(buf, FRAME_HEAD, FRAME_HEAD, "BTNC")) {
		handle_chunk(nd, rep, buf, len);
	} else if (len >= 2 && buf[0] == 0x93 && buf[1] == BATON_OBJ_RECEIPT) {
		handle_receipt(nd, rep, buf, len);
	} else {
		logline("serve: a message of %zu bytes that is not Baton's: dropped", len);
		reply_empty(rep);
	}
}

static void *close_thread(void *arg)
{
	nng_close(*(nng_socket *)arg);
	return NULL;
}

/*
 * Closes the socket, waiting at most a few seconds: a peer stuck in the
 * middle of a message must not keep the node from stopping. By then the
 * store is closed and every acknowledged import committed.
 */
static void close_bounded(nng_socket rep)
{
	static nng_socket sock;
	pthread_t th;
	struct timespec until;
	sock = rep;
	if (pthread_create(&th, NULL, close_thread, &sock) != 0) {
		nng_close(rep);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	if (pthread_timedjoin_np(th, NULL, &until) != 0) {
		logline("serve: connections did not close within 5 s; stopping anyway");
		fflush(stderr);
		_exit(EXIT_OK);
	}
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
static void sign_tail(struct node *nd)
{
	int yes = 1;
	if (store_read(nd->st, tail_signed_fn, &yes) == 0 && !yes &&
	    store_write(nd->st, sign_fn, (void *)(uintptr_t)nd->key) != 0)
		logline("serve: signing the audit log: %s", baton_diag());
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *listen = NULL;
	baton_key *key = NULL;
	store *st = NULL;
	struct outbox_work *work = NULL;
	nng_socket rep;
	struct sigaction sa;
	int opt, rc, nr, open_sock = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'l') {
			listen = optarg;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton serve [--listen URL] [--dir DIR]\n\n"
		        "Listens at the card's first endpoint (or URL) for packets from pinned\n"
		        "schools and answers each with its signed receipt; delivers the outbox.\n"
		        "Stops on SIGINT or SIGTERM.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("serve: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if ((rc = cli_load_school_key(&com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	rc = EXIT_ENV;
	baton_card me;
	if ((work = calloc(1, sizeof(*work))) == NULL) {
		rc = cli_fail("serve", BATON_ENOMEM);
		goto out;
	}
	struct node nd = {st, key, cli_dir(&com), {0}, work};
	snprintf(nd.spool, sizeof(nd.spool), "%s/spool", nd.dir);
	if (mkdir(nd.spool, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "baton: serve: %s: %s\n", nd.spool, strerror(errno));
		goto out;
	}
	if (store_read(st, own_card_fn, &me) != 0) {
		rc = cli_fail("serve", BATON_EIO);
		goto out;
	}
	if (listen == NULL)
		listen = me.endpoints[0];
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Every peer connection is a descriptor: take all the system allows this process. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}

	if ((nr = nng_rep0_open(&rep)) != 0) {
		fprintf(stderr, "baton: serve: %s\n", nng_strerror(nr));
		goto out;
	}
	open_sock = 1;
	/*
	 * Before listening: nng's default would let 17 bytes reserve 4 GiB. Replies
	 * never wait (NNG_FLAG_NONBLOCK): a peer that does not read its replies
	 * must not stop the node.
	 */
	nng_pipe_notify(rep, NNG_PIPE_EV_ADD_POST, on_pipe, NULL);
	nng_pipe_notify(rep, NNG_PIPE_EV_REM_POST, on_pipe, NULL);
	if ((nr = nng_socket_set_size(rep, NNG_OPT_RECVMAXSZ, MSG_MAX)) != 0 ||
	    (nr = nng_socket_set_ms(rep, NNG_OPT_RECVTIMEO, POLL_MS)) != 0 ||
	    (nr = nng_socket_set_ms(rep, NNG_OPT_SENDTIMEO, PEER_TIMEOUT_MS)) != 0 ||
	    (nr = nng_listen(rep, listen, NULL, 0)) != 0) {
		fprintf(stderr, "baton: serve: %s: %s\n", listen, nng_strerror(nr));
		goto out;
	}
	logline("serve: listening at %s", listen);
	long long last_tick = 0;
	uint64_t seen_version = 0;
	time_t last_sweep = time(NULL);
	int busy = 0; /* the last outbox round found work: look again at once */
	while (!stopping) {
		void *buf = NULL;
		size_t len = 0;
		nr = nng_recv(rep, &buf, &len, NNG_FLAG_ALLOC | (busy ? NNG_FLAG_NONBLOCK : 0));
		if (nr == 0) {
			handle(&nd, rep, buf, len);
			sodium_memzero(buf, len);
			nng_free(buf, len);
		} else if (nr != NNG_ETIMEDOUT && nr != NNG_EINTR && nr != NNG_EAGAIN) {
			logline("serve: receive: %s", nng_strerror(nr));
		}
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		/*
		 * A round when the store changed (a command queued something: it is
		 * sent at once), and at least once a second for retries falling due.
		 */
		uint64_t version = store_version(st);
		long long ms = now.tv_sec * 1000 + now.tv_nsec / 1000000;
		if (busy || version != seen_version || ms - last_tick >= TICK_MS) {
			if (version != seen_version)
				sign_tail(&nd);
			last_tick = ms;
			seen_version = version;
			busy = outbox_tick(&nd) > 0;
			if (time(NULL) - last_sweep >= 60) {
				last_sweep = time(NULL);
				spool_sweep(&nd);
			}
		}
	}
	logline("serve: stopping");
	rc = EXIT_OK;
out:
	/* Everything acknowledged has committed: the store and the key go first. */
	store_close(st);
	baton_key_free(key);
	if (open_sock)
		close_bounded(rep);
	free(work);
	return rc;
}

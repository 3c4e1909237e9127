/*
 * baton serve: the school's node on the network. An nng REP listener at the
 * card's endpoint answers each packet with its signed receipt (an empty
 * reply when the sender is not a pinned school), only after the import has
 * committed; an outbox worker delivers queued packets, and refusals of
 * requests, to their schools, retrying with exponential backoff and jitter
 * until a receipt arrives or the packet expires. A packet larger than one
 * message travels in chunks into a spool file, resuming where a cut
 * connection left off (proto/PROTOCOL.md section 10). The listener and the
 * outbox worker each have a thread, so a school slow to answer never delays
 * what arrives; short transactions, a bounded message size and a timeout on
 * every socket operation; peer input is logged and dropped, never fatal.
 * SIGINT and SIGTERM stop it cleanly; after 'baton rekey' (at once on SIGHUP)
 * it takes the new school key without a restart, and after 'baton endpoint
 * set' it listens at the card's new endpoint.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
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
#include "frame.h"
#include "bti.h"
#include "transfer.h"

#define CHUNK          FRAME_CHUNK /* packet bytes per message; larger packets are chunked */
#define MSG_MAX        (CHUNK + FRAME_HEAD + FRAME_ADMIT + 4096) /* nng counts its own header too */
#define SPOOL_MAX      16  /* packets arriving in chunks at once */
#define SPOOL_PER_PEER 2   /* of them from one sending school */
#define PIPES_MAX      64  /* peer connections at once: each may hold a message being read */
#define SPOOL_IDLE     300 /* seconds before a stalled spool is removed */
/* Spools may claim half the free disk beyond this and the store's map (it grows by doubling). */
#define SPOOL_RESERVE   (UINT64_C(256) << 20)
#define RECEIPT_MAX     BATON_OBJ_MAX
#define DUE_MAX         256             /* outbox entries taken per round */
#define BATCH_MAX       FRAME_BATCH_MAX /* small packets per message */
#define REPLY_MAX       (8 + BATCH_MAX * (4 + RECEIPT_MAX))
#define POLL_MS         20    /* how often the loop looks at signals and at the store */
#define TICK_MS         1000  /* and the longest between two rounds of the outbox */
#define PEER_TIMEOUT_MS 30000 /* one delivery attempt, send and receipt */
#define BACKOFF_MAX     3600  /* seconds between attempts, at most */
#define SKEW            300

static atomic_int stopping; /* lock-free: set by the signal handler, read by every thread */
static volatile sig_atomic_t reload_key;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reload_key = 1;
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

/* One line per event, with the time, on standard error; threads' lines do not mix. */
static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	char when[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	clock_gettime(CLOCK_REALTIME, &ts);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", gmtime_r(&ts.tv_sec, &tm));
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ ", when, ts.tv_nsec / 1000000);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
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
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EVALUE, "%s is no longer pinned", p->code)
	                            : r;
}

/* The serving node. */
struct outbox_work;

struct node {
	store *st;
	/*
	 * The school key: replaced by the listener after a rekey, read by the
	 * outbox worker too; a replaced key is freed only when serve ends.
	 */
	_Atomic(const baton_key *) key;
	const char *dir;
	char spool[4200]; /* DIR/spool: packets arriving in chunks */
	struct outbox_work *work;
	struct keyring *keys;
	unsigned spool_idle; /* seconds: SPOOL_IDLE, or less for tests */
	uint64_t spool_room; /* bytes all spools may claim, 0 for the disk's share */
};

/*
 * The school key, and the keys a rekey replaced while serve ran. Packets
 * sealed to a replaced key (by a school that has not yet pinned the new
 * card) are still opened with it for KEY_GRACE seconds after the change,
 * the longest a packet made before it stays valid; none is freed before
 * serve stops, so no caller's pointer goes stale.
 */
#define KEYS_MAX  16
#define KEY_GRACE (14 * 86400)
struct keyring {
	char path[4200];
	struct stat st; /* of the file the current key was read from */
	char *pass;     /* the passphrase serve started with, in sodium_malloc memory */
	size_t plen;
	baton_key *k[KEYS_MAX];
	/* When each stopped being current, 0 for the current; read by the outbox worker too. */
	_Atomic uint64_t retired[KEYS_MAX];
	_Atomic size_t n; /* k[n] is set before n grows */
};

static void keyring_free(struct keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++)
		baton_key_free(kr->k[i]);
	cli_pass_free(kr->pass);
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Reads the school key, asking for its passphrase once and keeping it for a later rekey. */
static int keyring_open(const struct cli_common *com, struct keyring *kr)
{
	int enc, r;
	snprintf(kr->path, sizeof(kr->path), "%s/school.key", cli_dir(com));
	if ((r = baton_key_file_encrypted(kr->path, &enc)) != 0)
		return cli_fail("school key", r);
	if (enc) {
		struct cli_common c2 = *com;
		c2.no_passphrase = 0;
		if ((r = cli_passphrase(&c2, 0, &kr->pass, &kr->plen)) != 0)
			return cli_fail("passphrase", r);
	}
	if (stat(kr->path, &kr->st) != 0)
		memset(&kr->st, 0, sizeof(kr->st));
	if ((r = baton_key_load(kr->path, kr->pass, kr->plen, &kr->k[0])) != 0)
		return cli_fail("school key", r);
	kr->n = 1;
	return EXIT_OK;
}

static int own_card_fn(store_txn *t, void *arg);
/*
 * Keys replaced less than KEY_GRACE ago, kept by rekey as school.key.old-TIME,
 * go on opening packets after a restart too, when they open with the
 * passphrase serve was given.
 */
static void keyring_old(struct keyring *kr, const char *dir)
{
	char path[4400], fpr[BATON_FINGERPRINT_LEN + 1];
	uint64_t now = cli_now();
	DIR *d = opendir(dir);
	for (struct dirent *de; d && (de = readdir(d)) != NULL && kr->n < KEYS_MAX;) {
		char *end;
		int enc;
		baton_key *k = NULL;
		if (strncmp(de->d_name, "school.key.old-", 15) != 0)
			continue;
		unsigned long long t = strtoull(de->d_name + 15, &end, 10);
		if (*end != 0 || t == 0 || now > t + KEY_GRACE)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (baton_key_file_encrypted(path, &enc) != 0 ||
		    baton_key_load(path, enc ? kr->pass : NULL, enc ? kr->plen : 0, &k) != 0) {
			logline(
			    "serve: %s does not open with this passphrase: packets sealed to it "
			    "are refused",
			    de->d_name);
			continue;
		}
		if (sodium_memcmp(baton_key_id_pk(k), baton_key_id_pk(kr->k[0]), BATON_PK_BYTES) ==
		    0) {
			baton_key_free(k);
			continue;
		}
		baton_fingerprint(baton_key_id_pk(k), fpr);
		kr->k[kr->n] = k;
		kr->retired[kr->n++] = t;
		logline("serve: packets sealed to the previous key %s are opened until %s UTC", fpr,
		        cli_time(t + KEY_GRACE));
	}
	if (d)
		closedir(d);
}

/*
 * After 'baton rekey' replaced school.key (or on SIGHUP), serve takes the new
 * key at once, once it is the key of this node's card; the key it replaces
 * goes on opening packets for KEY_GRACE. Each change of the file is tried
 * once, so a key that does not open is logged once, not every second.
 */
static void keyring_check(struct node *nd, int forced)
{
	struct keyring *kr = nd->keys;
	char was[BATON_FINGERPRINT_LEN + 1], fpr[BATON_FINGERPRINT_LEN + 1];
	struct stat sb;
	baton_card me;
	baton_key *k = NULL;

	baton_fingerprint(baton_key_id_pk(nd->key), was);
	if (stat(kr->path, &sb) != 0) {
		if (forced)
			logline("serve: reload: %s: %s; still using key %s", kr->path,
			        strerror(errno), was);
		return;
	}
	if (!forced && same_file(&sb, &kr->st))
		return;
	kr->st = sb;
	if (baton_key_load(kr->path, kr->pass, kr->plen, &k) != 0) {
		logline("serve: school.key changed but does not open (%s); still using key %s: "
		        "restart serve to give its passphrase",
		        baton_diag(), was);
		return;
	}
	baton_fingerprint(baton_key_id_pk(k), fpr);
	if (sodium_memcmp(baton_key_id_pk(k), baton_key_id_pk(nd->key), BATON_PK_BYTES) == 0) {
		if (forced)
			logline("serve: reload: school.key is still key %s", was);
		baton_key_free(k);
		return;
	}
	if (store_read(nd->st, own_card_fn, &me) != 0 ||
	    sodium_memcmp(me.id_pk, baton_key_id_pk(k), BATON_PK_BYTES) != 0) {
		logline("serve: school.key now holds key %s, which is not the key of this node's "
		        "card; still using key %s",
		        fpr, was);
		baton_key_free(k);
		return;
	}
	if (kr->n == KEYS_MAX) {
		logline("serve: school.key changed (key %s), but serve has taken %d keys already; "
		        "still using key %s: restart serve",
		        fpr, KEYS_MAX, was);
		baton_key_free(k);
		return;
	}
	uint64_t now = cli_now();
	for (size_t i = 0; i < kr->n; i++)
		if (kr->k[i] == nd->key)
			kr->retired[i] = now;
	kr->k[kr->n] = k;
	kr->retired[kr->n++] = 0;
	nd->key = k;
	store_set_audit_signer(nd->st, k);
	logline("serve: school.key changed (rekey): now using key %s; packets sealed to the "
	        "previous key %s are opened until %s UTC",
	        fpr, was, cli_time(now + KEY_GRACE));
}

/*
 * Where serve listens without --listen: its card's first endpoint. After
 * 'baton endpoint set' stored a card naming another one, serve moves there
 * the way it takes a rekey: by itself within a second, at once on SIGHUP.
 */
struct where {
	nng_listener l;
	int follow;                    /* 0 with --listen: the operator chose */
	char url[BATON_URL_MAX + 1];   /* where serve listens */
	char tried[BATON_URL_MAX + 1]; /* the card's endpoint last tried, tried once */
};

static void where_check(struct node *nd, nng_socket rep, struct where *w, int forced)
{
	baton_card me;
	nng_listener l;
	int nr;

	if (!w->follow || store_read(nd->st, own_card_fn, &me) != 0)
		return;
	if (strcmp(me.endpoints[0], w->url) == 0 ||
	    (!forced && strcmp(me.endpoints[0], w->tried) == 0))
		return;
	snprintf(w->tried, sizeof(w->tried), "%s", me.endpoints[0]);
	/* Closed first: the new endpoint may name the same port another way. */
	nng_listener_close(w->l);
	if ((nr = nng_listen(rep, me.endpoints[0], &l, 0)) != 0) {
		logline("serve: the card now names %s, but serve cannot listen there (%s); "
		        "listening at %s still",
		        me.endpoints[0], nng_strerror(nr), w->url);
		if ((nr = nng_listen(rep, w->url, &w->l, 0)) != 0)
			logline("serve: %s: %s: not listening; restart serve", w->url,
			        nng_strerror(nr));
		return;
	}
	logline("serve: the card names a new endpoint: listening at %s (was %s)", me.endpoints[0],
	        w->url);
	w->l = l;
	snprintf(w->url, sizeof(w->url), "%s", me.endpoints[0]);
}

/* The key to open a packet addressed to recipient: the current one, or a replaced one in its grace.
 */
static const baton_key *key_for(const struct node *nd, const uint8_t *recipient)
{
	const struct keyring *kr = nd->keys;
	uint64_t now = cli_now();
	for (size_t i = 0; kr && i < kr->n; i++)
		if (kr->retired[i] != 0 && now <= kr->retired[i] + KEY_GRACE &&
		    sodium_memcmp(baton_key_id_pk(kr->k[i]), recipient, BATON_PK_BYTES) == 0)
			return kr->k[i];
	return nd->key;
}

/*
 * The key a queued packet was sealed with, by its public half: the current
 * one, or any a rekey replaced while serve ran (they are freed only when
 * serve ends); NULL when serve holds none.
 */
static const baton_key *key_by_pk(const struct node *nd, const uint8_t *pk)
{
	const struct keyring *kr = nd->keys;
	size_t n = kr ? atomic_load(&kr->n) : 0;
	for (size_t i = 0; i < n; i++)
		if (sodium_memcmp(baton_key_id_pk(kr->k[i]), pk, BATON_PK_BYTES) == 0)
			return kr->k[i];
	const baton_key *k = nd->key;
	return sodium_memcmp(baton_key_id_pk(k), pk, BATON_PK_BYTES) == 0 ? k : NULL;
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
static int recv_reply(nng_socket req, void **reply, size_t *rlen)
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
	while (!w.done && !stopping) {
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
static int exchange(nng_socket req, const char *ep, const void *msg, size_t len, void **reply,
                    size_t *rlen)
{
	int nr;
	*reply = NULL;
	*rlen = 0;
	if ((nr = nng_send(req, (void *)(uintptr_t)msg, len, 0)) != 0 ||
	    (nr = recv_reply(req, reply, rlen)) != 0)
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
static int send_chunked(nng_socket req, const char *ep, const baton_key *key, int fd,
                        uint64_t total, const uint8_t id[BATON_ID_BYTES], uint8_t *buf,
                        void **reply, size_t *rlen)
{
	uint64_t off = 0, rounds = 2 * (total / CHUNK) + 8, resumed = 0, have;
	size_t n = 0, len; /* the probe carries no data */
	for (uint64_t i = 0; i < rounds; i++) {
		int r = chunk_frame(key, fd, total, id, off, n, buf, &len);
		if (r != 0 || (r = exchange(req, ep, buf, len, reply, rlen)) != 0)
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

/*
 * Delivers one outbox entry to its school. A packet's reply is its receipt
 * (*receipt, malloc'd); a refusal's reply is the refusal itself, echoed
 * once the school that asked has recorded it (*receipt stays NULL).
 */
static int deliver(struct node *nd, store_outbox *e, uint8_t **receipt, size_t *rlen)
{
	const baton_key *signer = nd->key;
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
			r = bti_diag_err(BATON_EIO, "%s: %s", e->file, strerror(errno));
			goto out;
		}
		total = (uint64_t)sb.st_size;
		len = total <= CHUNK ? (size_t)total : FRAME_HEAD + FRAME_ADMIT + CHUNK;
		if ((buf = malloc(len ? len : 1)) == NULL) {
			r = BATON_ENOMEM;
			goto out;
		}
		if (total <= CHUNK && (r = read_at(&fd, 0, buf, len)) != 0)
			goto out;
	}
	/* A chunked packet's admission is signed by the key that sealed it, also after a rekey. */
	if (e->kind != OUT_REFUSAL && total > CHUNK) {
		baton_source src;
		baton_header h;
		if ((r = baton_source_fd(&src, &fd)) != 0 || (r = baton_packet_peek(&src, &h)) != 0)
			goto out;
		if ((signer = key_by_pk(nd, h.sender)) == NULL) {
			char fpr[BATON_FINGERPRINT_LEN + 1];
			baton_fingerprint(h.sender, fpr);
			r = bti_diag_err(
			    BATON_EBADKEY,
			    "the packet was sealed with key %s, which this serve does not "
			    "hold (restart serve; a packet sealed before the last rekey "
			    "must be sent again)",
			    fpr);
			goto out;
		}
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
			bti_diag_set("%s: %s", ep, nng_strerror(nr));
			continue;
		}
		r = e->kind != OUT_REFUSAL && total > CHUNK
		        ? send_chunked(req, ep, signer, fd, total, e->packet, buf, &reply, &n)
		        : exchange(req, ep, buf, len, &reply, &n);
		if (r != 0)
			continue;
		r = BATON_EIO;
		if (n == 0)
			bti_diag_set("%s does not know this school (empty reply)", e->to);
		else if (e->kind == OUT_REFUSAL)
			r = n == len && memcmp(reply, buf, n) == 0
			        ? 0
			        : bti_diag_err(BATON_EIO, "%s did not record the refusal", e->to);
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
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
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
	int nr, r = bti_diag_err(BATON_EIO, "%s: no endpoint takes the batch", f->pc.code);
	for (; f->ep < f->pc.card.n_endpoints && !stopping; f->ep++) {
		const char *ep = f->pc.card.endpoints[f->ep];
		if ((nr = nng_dial(f->req, ep, NULL, 0)) == 0 &&
		    (nr = nng_send(f->req, f->msg, f->len, 0)) == 0)
			return 0;
		r = bti_diag_err(BATON_EIO, "%s: %s", ep, nng_strerror(nr));
	}
	return r;
}

/* Builds the message of batch f (entries of due) and sends it, without waiting for the reply. */
static void flight_send(struct node *nd, const store_outbox *due, struct flight *f)
{
	struct frame_item it[BATCH_MAX];
	uint8_t *buf[BATCH_MAX] = {NULL};
	size_t i = 0;
	int r;

	f->ep = 0;
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
			                 cli_hex(due[f->at[i - 1]].packet, BATON_ID_BYTES));
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
	snprintf(f->why, sizeof(f->why), "%s", r ? baton_diag() : "");
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
		if ((nr = recv_reply(f->req, &reply, &n)) != 0) {
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
		r = bti_diag_err(BATON_EIO, "%s does not know this school (no receipt)", e->to);
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

/* One round of the outbox: returns how many entries it tried. */
static size_t outbox_tick(struct node *nd)
{
	struct outbox_work *w = nd->work;
	struct due_ctx d = {w->due, 0, cli_now()};
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

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
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
	    store_write(nd->st, sign_fn, (void *)(uintptr_t)atomic_load(&nd->key)) != 0)
		logline("serve: signing the audit log: %s", baton_diag());
}

/*
 * The outbox worker, on a thread of its own so that a school slow to
 * answer never delays what arrives: a round when the store changed (a
 * command queued something: it is sent at once), and at least once a
 * second for retries falling due.
 */
static void *outbox_run(void *arg)
{
	struct node *nd = arg;
	long long last_tick = 0;
	uint64_t seen_version = 0;
	int busy = 0; /* the last round found work: look again at once */
	while (!stopping) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		uint64_t version = store_version(nd->st);
		long long ms = now.tv_sec * 1000 + now.tv_nsec / 1000000;
		if (busy || version != seen_version || ms - last_tick >= TICK_MS) {
			/* What a command without the school key appended is signed at once. */
			if (version != seen_version)
				sign_tail(nd);
			last_tick = ms;
			seen_version = version;
			busy = outbox_tick(nd) > 0;
		}
		if (!busy)
			nap_ms(POLL_MS);
	}
	return NULL;
}

/* A request the policy releases at once: the record goes into the outbox. */
static void auto_release(struct node *nd, const struct recv_req *q)
{
	struct send_req s;
	memset(&s, 0, sizeof(s));
	s.key = nd->key;
	s.node_dir = nd->dir;
	s.now = cli_now();
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
 * Replies on their way. Each request is received on a context of its own
 * and answered on it without waiting: a reply queued behind the previous
 * one to the same peer goes out as soon as that peer reads, and the
 * listener goes on meanwhile. A peer that does not read its replies loses
 * them, after PEER_TIMEOUT_MS or when the context is needed again (the
 * oldest first), so it can stop neither the node nor the replies to
 * others. The callbacks run on nng's threads.
 */
#define ANSWERS_MAX 64

struct answer {
	nng_ctx ctx;
	nng_aio *aio; /* the reply being sent */
	atomic_int busy;
};

static struct answer answers[ANSWERS_MAX];
static struct answer *answering; /* the request being handled, until replied to */
static atomic_ulong unsent;
static atomic_int unsent_why;

static void answer_done(void *arg)
{
	struct answer *a = arg;
	int nr = nng_aio_result(a->aio);
	if (nr != 0) {
		nng_msg_free(nng_aio_get_msg(a->aio));
		nng_aio_set_msg(a->aio, NULL);
		atomic_store(&unsent_why, nr);
		atomic_fetch_add(&unsent, 1);
	}
	atomic_store(&a->busy, 0);
}

static int answers_open(nng_socket rep)
{
	int nr;
	for (size_t i = 0; i < ANSWERS_MAX; i++)
		if ((nr = nng_ctx_open(&answers[i].ctx, rep)) != 0 ||
		    (nr = nng_aio_alloc(&answers[i].aio, answer_done, &answers[i])) != 0)
			return nr;
	return 0;
}

/* After the socket closed: every reply has finished, sent or not. */
static void answers_free(void)
{
	for (size_t i = 0; i < ANSWERS_MAX; i++)
		if (answers[i].aio) {
			nng_aio_free(answers[i].aio);
			answers[i].aio = NULL;
		}
}

/* Context i, for the next request: its reply given up if still waiting. */
static struct answer *answer_free(size_t i)
{
	struct answer *a = &answers[i];
	if (atomic_load(&a->busy)) {
		nng_aio_cancel(a->aio);
		nng_aio_wait(a->aio);
	}
	return a;
}

/* The replies not sent, logged at most once a second, so a peer cannot flood the log. */
static void report_unsent(void)
{
	static time_t reported;
	unsigned long n;
	if (time(NULL) == reported || (n = atomic_exchange(&unsent, 0)) == 0)
		return;
	reported = time(NULL);
	logline("serve: %lu %s not sent (the peer is not reading them): %s", n,
	        n == 1 ? "reply" : "replies", nng_strerror(atomic_load(&unsent_why)));
}

/*
 * Sends the reply to the request being handled (rep is its socket), on the
 * context it came in on, without waiting.
 */
static void reply(nng_socket rep, const void *buf, size_t len)
{
	struct answer *a = answering;
	nng_msg *m;
	(void)rep;
	answering = NULL; /* one reply per request */
	if (a == NULL || nng_msg_alloc(&m, len) != 0) {
		atomic_store(&unsent_why, NNG_ENOMEM);
		atomic_fetch_add(&unsent, 1);
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
 * Refusals of input that no pinned school is known to have made: they are
 * not audited, and counted; the first of each second is logged with the
 * count, the rest only counted, so that anyone who can reach the port
 * cannot flood the log either.
 */
static void log_unverified(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_unverified(const char *fmt, ...)
{
	static unsigned long total, quiet;
	static time_t last;
	time_t now = time(NULL);
	char line[700];
	va_list ap;

	total++;
	if (now == last) {
		quiet++;
		return;
	}
	last = now;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	logline("%s [unverified, not audited: %lu refused so far, %lu of them not logged since "
	        "the last such line]",
	        line, total, quiet);
	quiet = 0;
}

static void log_received(const struct recv_req *q)
{
	char id[2 * BATON_ID_BYTES + 1];
	sodium_bin2hex(id, sizeof(id), q->packet, BATON_ID_BYTES);
	if (q->unverified && q->claims[0])
		log_unverified(
		    "inbox: packet %s from a sender claiming to be %s: rejected (%s): %s", id,
		    q->claims, baton_reason_name(q->reason), baton_diag());
	else if (q->unverified)
		log_unverified("inbox: packet %s from an unknown sender: rejected (%s): %s", id,
		               baton_reason_name(q->reason), baton_diag());
	else if (q->reason == BATON_REASON_ACCEPTED && q->kind == BATON_KIND_REQUEST)
		logline("requests: request %s from %s for %s: %s", id, q->from, q->student,
		        q->replay         ? "seen before, same answer"
		        : q->auto_release ? "releasing"
		                          : "held");
	else if (q->reason == BATON_REASON_ACCEPTED && q->replay)
		logline("inbox: packet %s from %s: replay, same receipt for %s", id, q->from,
		        q->student);
	else if (q->reason == BATON_REASON_ACCEPTED && q->review)
		logline("inbox: packet %s from %s: held for review as %llu: not the child on file "
		        "as %s",
		        id, q->from, (unsigned long long)q->held, q->student);
	else if (q->reason == BATON_REASON_ACCEPTED)
		logline("inbox: packet %s from %s: imported as %s, version %u%s", id, q->from,
		        q->student, q->version,
		        q->unchanged ? ", the same record as the one on file" : "");
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

	baton_header h;
	memset(&q, 0, sizeof(q));
	q.src = src;
	q.key = baton_packet_peek(src, &h) == 0 ? key_for(nd, h.recipient) : nd->key;
	q.key_retired = q.key != nd->key;
	q.now = cli_now();
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
	uint8_t ack[FRAME_ACK_LEN];
	bti_frame_ack_put(ack, id, have);
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

/*
 * The spools on disk, as their names say: DIR/spool/ID.SENDER.TOTAL.part,
 * so that slots and the bytes still to come are counted per sending school
 * without reading anything but the directory.
 */
struct spool_scan {
	char path[4500]; /* the spool of the packet looked for, when found */
	uint64_t total;  /* its declared length */
	int found;
	unsigned all, mine; /* spools, and those of the sender looked for */
	uint64_t owed;      /* bytes all spools still expect */
};

static int spool_name(const char *name, uint8_t id[BATON_ID_BYTES], uint8_t sender[BATON_PK_BYTES],
                      uint64_t *total)
{
	char idh[2 * BATON_ID_BYTES + 1], sh[2 * BATON_PK_BYTES + 1];
	unsigned long long t;
	int end = 0;
	if (sscanf(name, "%32[0-9a-f].%64[0-9a-f].%20llu.part%n", idh, sh, &t, &end) != 3 ||
	    name[end] != '\0' || strlen(idh) != sizeof(idh) - 1 || strlen(sh) != sizeof(sh) - 1 ||
	    sodium_hex2bin(id, BATON_ID_BYTES, idh, strlen(idh), NULL, NULL, NULL) != 0 ||
	    sodium_hex2bin(sender, BATON_PK_BYTES, sh, strlen(sh), NULL, NULL, NULL) != 0)
		return -1;
	*total = t;
	return 0;
}

static void spool_scan(const struct node *nd, const uint8_t *id, const uint8_t *sender,
                       struct spool_scan *s)
{
	uint8_t fid[BATON_ID_BYTES], fsender[BATON_PK_BYTES];
	char path[sizeof(s->path)];
	uint64_t total;
	struct stat sb;
	DIR *d = opendir(nd->spool);

	memset(s, 0, sizeof(*s));
	for (struct dirent *de; d && (de = readdir(d)) != NULL;) {
		if (spool_name(de->d_name, fid, fsender, &total) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", nd->spool, de->d_name);
		if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		s->all++;
		s->mine += sender && memcmp(fsender, sender, BATON_PK_BYTES) == 0;
		s->owed += total > (uint64_t)sb.st_size ? total - (uint64_t)sb.st_size : 0;
		if (id && memcmp(fid, id, BATON_ID_BYTES) == 0) {
			memcpy(s->path, path, sizeof(path));
			s->total = total;
			s->found = 1;
		}
	}
	if (d)
		closedir(d);
}

/*
 * Bytes the spools may claim in all: half the free disk beyond a reserve
 * for the store, which needs as much again as its map to grow it once.
 */
static uint64_t spool_room(const struct node *nd)
{
	struct statvfs vfs;
	uint64_t avail, keep = SPOOL_RESERVE + store_map_size(nd->st), room;
	if (statvfs(nd->spool, &vfs) != 0)
		return 0;
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	room = avail > keep ? (avail - keep) / 2 : 0;
	return nd->spool_room && nd->spool_room < room ? nd->spool_room : room;
}

static void spool_sweep(struct node *nd);

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
 * its receipt, to be sent again.
 */
static int spool_admit(struct node *nd, const struct frame_chunk *f, char *path, size_t cap,
                       struct seen_ctx *seen)
{
	baton_header h;
	struct sender_ctx x;
	struct spool_scan s;
	char idh[2 * BATON_ID_BYTES + 1], sh[2 * BATON_PK_BYTES + 1];
	uint64_t room;
	int r;

	baton_source src;
	baton_header peek;
	const baton_key *me = nd->key;

	/* A packet sealed to a key this school replaced lately is still for it. */
	baton_source_mem(&src, f->data, f->n);
	if (baton_packet_peek(&src, &peek) == 0)
		me = key_for(nd, peek.recipient);
	if ((r = bti_frame_admit_verify(f, baton_key_id_pk(me), cli_now(), SKEW, &h)) != 0)
		return r;
	x.pk = h.sender;
	x.pinned = 0;
	if ((r = store_read(nd->st, sender_fn, &x)) != 0)
		return r;
	if (!x.pinned)
		return bti_diag_err(BATON_EBADKEY, "the sender's key is not a pinned school's");
	/* A replayed first chunk of a packet imported before must not take a slot again. */
	seen->id = f->id;
	if ((r = store_read(nd->st, seen_fn, seen)) != 0 || seen->e.receipt)
		return r;
	spool_sweep(nd);
	spool_scan(nd, NULL, h.sender, &s);
	if (s.all >= SPOOL_MAX)
		return bti_diag_err(BATON_EIO, "%u packets are arriving already; try later", s.all);
	if (s.mine >= SPOOL_PER_PEER)
		return bti_diag_err(BATON_EIO,
		                    "%u packets of this sender's are arriving already; "
		                    "try later",
		                    s.mine);
	room = spool_room(nd);
	if (s.owed > room || f->total > room - s.owed)
		return bti_diag_err(BATON_EIO,
		                    "no room: %llu bytes are still to come for other packets, the "
		                    "spools may hold %llu",
		                    (unsigned long long)s.owed, (unsigned long long)room);
	sodium_bin2hex(idh, sizeof(idh), f->id, BATON_ID_BYTES);
	sodium_bin2hex(sh, sizeof(sh), h.sender, BATON_PK_BYTES);
	snprintf(path, cap, "%s/%s.%s.%llu.part", nd->spool, idh, sh, (unsigned long long)f->total);
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

/* Appends the chunk f at off to the spool open at fd; imports it after the last byte. */
static void spool_append(struct node *nd, nng_socket rep, const struct frame_chunk *f, int fd,
                         const char *path, const char *hex)
{
	if (lseek(fd, (off_t)f->off, SEEK_SET) < 0 || baton_write_fd(&fd, f->data, f->n) != 0) {
		logline("inbox: packet %s: spool: %s", hex, baton_diag());
		close(fd);
		unlink(path); /* the space goes back; the sender starts over later */
		reply_empty(rep);
		return;
	}
	if (f->off + f->n < f->total) {
		close(fd);
		reply_ack(rep, f->id, f->off + f->n);
		return;
	}
	spool_import(nd, rep, fd, path, hex);
}

/*
 * One chunk of a large packet, appended to its spool file. A chunk at
 * another offset than the bytes held (a resumed or repeated transfer) is
 * answered with the offset to go on from; the last chunk is imported and
 * answered with the receipt. Only a first chunk whose admission verifies
 * starts a spool: nothing reaches the disk before the sender is known.
 */
static void handle_chunk(struct node *nd, nng_socket rep, const uint8_t *buf, size_t len)
{
	struct frame_chunk f;
	struct spool_scan s;
	char hex[2 * BATON_ID_BYTES + 1], path[sizeof(s.path)];
	struct stat sb;
	uint64_t have = 0;
	int r, fd = -1;

	if (bti_frame_chunk_decode(buf, len, &f) != 0) {
		log_unverified("inbox: a chunk frame of %zu bytes refused: %s", len, baton_diag());
		reply_empty(rep);
		return;
	}
	sodium_bin2hex(hex, sizeof(hex), f.id, BATON_ID_BYTES);
	spool_scan(nd, f.id, NULL, &s);
	if (s.found && s.total != f.total) {
		log_unverified("inbox: packet %s: a chunk says %llu bytes in all, the spool %llu",
		               hex, (unsigned long long)f.total, (unsigned long long)s.total);
		reply_empty(rep);
		return;
	}
	if (s.found && (fd = open(s.path, O_RDWR | O_CLOEXEC | O_NOFOLLOW)) >= 0 &&
	    fstat(fd, &sb) == 0)
		have = (uint64_t)sb.st_size;
	if (fd >= 0 && have == f.total) {
		/* All of it arrived before a crash or a lost reply: import it now. */
		logline("inbox: packet %s: all %llu bytes were already here", hex,
		        (unsigned long long)f.total);
		spool_import(nd, rep, fd, s.path, hex);
		return;
	}
	if (f.off != have || f.n == 0) {
		if (fd >= 0)
			close(fd);
		if (f.n == 0 && have > 0)
			logline("inbox: packet %s: resuming at byte %llu of %llu", hex,
			        (unsigned long long)have, (unsigned long long)f.total);
		reply_ack(rep, f.id, have);
		return;
	}
	memcpy(path, s.path, sizeof(path));
	if (fd < 0) {
		struct seen_ctx seen;
		memset(&seen, 0, sizeof(seen));
		if ((r = spool_admit(nd, &f, path, sizeof(path), &seen)) == 0 && seen.e.receipt) {
			logline("inbox: packet %s: imported before; its receipt again", hex);
			reply(rep, seen.e.receipt, seen.e.receipt_len);
			free(seen.e.receipt);
			return;
		}
		if (r != 0 || (fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		                         0600)) < 0) {
			log_unverified("inbox: packet %s (%llu bytes) refused: %s", hex,
			               (unsigned long long)f.total,
			               r ? baton_diag() : strerror(errno));
			reply_empty(rep);
			return;
		}
		logline("inbox: packet %s: receiving %llu bytes in chunks", hex,
		        (unsigned long long)f.total);
	}
	spool_append(nd, rep, &f, fd, path, hex);
}

/* Spool files of transfers abandoned for nd->spool_idle seconds. */
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
		if (lstat(path, &sb) == 0 && now - sb.st_mtime > (time_t)nd->spool_idle) {
			unlink(path);
			logline("inbox: spool %.32s idle for over %u s: removed", de->d_name,
			        nd->spool_idle);
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
	struct frame_item it[BATCH_MAX];
	int errs[BATCH_MAX];
	size_t k = 0;
	uint8_t *out = NULL;

	if (q == NULL) {
		reply_empty(rep);
		return;
	}
	if (bti_frame_batch_decode(buf, len, it, &k) != 0) {
		log_unverified("serve: a batch of %zu bytes refused: %s: dropped", len,
		               baton_diag());
		reply_empty(rep);
		free(q);
		return;
	}
	for (size_t i = 0; i < k; i++) {
		baton_header h;
		baton_source_mem(&src[i], it[i].p, it[i].n);
		q[i].src = &src[i];
		q[i].key = baton_packet_peek(&src[i], &h) == 0 ? key_for(nd, h.recipient) : nd->key;
		q[i].key_retired = q[i].key != nd->key;
		q[i].now = cli_now();
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
		reply_empty(rep);
	else /* The receipts exist only once the imports committed. */
		reply(rep, out, bti_frame_batch_len(it, k));
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
	} else if (len >= 4 && memcmp(buf, "BTNB", 4) == 0) {
		handle_batch(nd, rep, buf, len);
	} else if (len >= 4 && memcmp(buf, "BTNC", 4) == 0) {
		handle_chunk(nd, rep, buf, len);
	} else if (len >= 2 && buf[0] == 0x93 && buf[1] == BATON_OBJ_RECEIPT) {
		handle_receipt(nd, rep, buf, len);
	} else {
		log_unverified("serve: a message of %zu bytes that is not Baton's: dropped", len);
		reply_empty(rep);
	}
}

/* A positive number from the environment when under max (or max is 0), else max. */
static uint64_t env_below(const char *name, uint64_t max)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;
	if (s == NULL || *s < '0' || *s > '9')
		return max;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || (max && v >= max))
		return max;
	return v;
}

/*
 * Waits for the outbox worker, at most a few seconds: a dial that hangs
 * must not keep the node from stopping. Every receipt it recorded has
 * committed; an attempt cut short is counted and is made again.
 */
static void join_bounded(pthread_t th)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	if (pthread_timedjoin_np(th, NULL, &until) != 0) {
		logline("serve: the outbox worker did not stop within 5 s; stopping anyway");
		fflush(stderr);
		_exit(EXIT_OK);
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

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *listen = NULL;
	struct keyring keys;
	store *st = NULL;
	struct outbox_work *work = NULL;
	nng_socket rep;
	nng_aio *rx = NULL;
	pthread_t worker;
	struct sigaction sa;
	int opt, rc, nr, open_sock = 0, worker_started = 0;

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
		        "Stops on SIGINT or SIGTERM. Takes the new school key after 'baton rekey'\n"
		        "(at once on SIGHUP), and the card's new endpoint after 'baton endpoint\n"
		        "set' unless --listen was given.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("serve: no arguments expected");
	memset(&keys, 0, sizeof(keys));
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if ((rc = keyring_open(&com, &keys)) != EXIT_OK)
		goto out;
	keyring_old(&keys, cli_dir(&com));
	store_set_audit_signer(st, keys.k[0]);
	rc = EXIT_ENV;
	baton_card me;
	if ((work = calloc(1, sizeof(*work))) == NULL) {
		rc = cli_fail("serve", BATON_ENOMEM);
		goto out;
	}
	struct node nd = {st, keys.k[0], cli_dir(&com), {0}, work, &keys, 0, 0};
	snprintf(nd.spool, sizeof(nd.spool), "%s/spool", nd.dir);
	/* Tests shorten the idle time and shrink the room; neither grows. */
	nd.spool_idle = (unsigned)env_below("BATON_SPOOL_IDLE", SPOOL_IDLE);
	nd.spool_room = env_below("BATON_SPOOL_ROOM", 0);
	if (mkdir(nd.spool, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "baton: serve: %s: %s\n", nd.spool, strerror(errno));
		goto out;
	}
	if (store_read(st, own_card_fn, &me) != 0) {
		rc = cli_fail("serve", BATON_EIO);
		goto out;
	}
	struct where where = {.follow = listen == NULL};
	if (listen == NULL)
		listen = me.endpoints[0];
	snprintf(where.url, sizeof(where.url), "%s", listen);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
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
	/* Before listening: nng's default would let 17 bytes reserve 4 GiB. */
	nng_pipe_notify(rep, NNG_PIPE_EV_ADD_POST, on_pipe, NULL);
	nng_pipe_notify(rep, NNG_PIPE_EV_REM_POST, on_pipe, NULL);
	if ((nr = nng_socket_set_size(rep, NNG_OPT_RECVMAXSZ, MSG_MAX)) != 0 ||
	    (nr = answers_open(rep)) != 0 || (nr = nng_aio_alloc(&rx, NULL, NULL)) != 0 ||
	    (nr = nng_listen(rep, listen, &where.l, 0)) != 0) {
		fprintf(stderr, "baton: serve: %s: %s\n", listen, nng_strerror(nr));
		goto out;
	}
	if ((nr = pthread_create(&worker, NULL, outbox_run, &nd)) != 0) {
		fprintf(stderr, "baton: serve: the outbox worker: %s\n", strerror(nr));
		goto out;
	}
	worker_started = 1;
	logline("serve: listening at %s", listen);
	time_t last_sweep = time(NULL), last_look = 0;
	size_t turn = 0; /* the context the next request comes in on */
	while (!stopping) {
		struct answer *a = answer_free(turn);
		nng_aio_set_timeout(rx, POLL_MS); /* to look at signals */
		nng_ctx_recv(a->ctx, rx);
		nng_aio_wait(rx);
		if ((nr = nng_aio_result(rx)) == 0) {
			nng_msg *m = nng_aio_get_msg(rx);
			answering = a;
			handle(&nd, rep, nng_msg_body(m), nng_msg_len(m));
			answering = NULL;
			sodium_memzero(nng_msg_body(m), nng_msg_len(m));
			nng_msg_free(m);
			turn = (turn + 1) % ANSWERS_MAX;
		} else if (nr != NNG_ETIMEDOUT && nr != NNG_EINTR) {
			logline("serve: receive: %s", nng_strerror(nr));
		}
		report_unsent();
		/* A rekey is taken at once on SIGHUP, and noticed by itself within a second. */
		if (reload_key || time(NULL) != last_look) {
			keyring_check(&nd, reload_key);
			where_check(&nd, rep, &where, reload_key);
			reload_key = 0;
			last_look = time(NULL);
		}
		if (time(NULL) - last_sweep >= (time_t)(nd.spool_idle / 5 + 1)) {
			last_sweep = time(NULL);
			spool_sweep(&nd);
		}
	}
	logline("serve: stopping");
	rc = EXIT_OK;
out:
	/* Everything acknowledged has committed: the store and the key go first. */
	if (worker_started)
		join_bounded(worker);
	store_close(st);
	keyring_free(&keys);
	if (open_sock)
		close_bounded(rep);
	answers_free();
	if (rx)
		nng_aio_free(rx);
	free(work);
	return rc;
}

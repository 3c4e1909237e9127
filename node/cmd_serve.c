/*
 * baton serve: the school's node on the network. An nng REP listener at the
 * card's endpoint answers each packet with its signed receipt (an empty
 * reply when the sender is not a pinned school), only after the import has
 * committed; an outbox worker delivers queued packets to their schools,
 * retrying with exponential backoff and jitter until a receipt arrives or
 * the packet expires. One thread, short transactions, a bounded message
 * size and a timeout on every socket operation; peer input is logged and
 * dropped, never fatal. SIGINT and SIGTERM stop it cleanly.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/rep.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#include "cli.h"
#include "proto_impl.h"
#include "transfer.h"

#define MSG_MAX         (64u << 20) /* the largest packet accepted over the network */
#define RECEIPT_MAX     BATON_OBJ_MAX
#define POLL_MS         500   /* how often the loop looks at signals and the outbox */
#define PEER_TIMEOUT_MS 30000 /* one delivery attempt, send and receipt */
#define BACKOFF_MAX     3600  /* seconds between attempts, at most */
#define SKEW            300

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

/* One line per event, with the time, on standard error. */
static void logline(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logline(const char *fmt, ...)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(stderr, "%s ", when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct due_ctx {
	store_outbox due[16];
	size_t n;
	uint64_t now;
};

static int collect_due(const store_outbox *e, void *arg)
{
	struct due_ctx *d = arg;
	if ((e->state == OUT_QUEUED) && e->next_try <= d->now && d->n < 16)
		d->due[d->n++] = *e;
	return 0;
}

static int due_fn(store_txn *t, void *arg)
{
	return store_outbox_each(t, collect_due, arg);
}

static int update_fn(store_txn *t, void *arg)
{
	const store_outbox *e = arg;
	store_outbox cur;
	int r = store_outbox_get(t, e->packet, &cur);
	if (r != 0)
		return r == 1 ? 0 : r;
	/* A receipt recorded meanwhile wins over this attempt's bookkeeping. */
	if (cur.state != OUT_QUEUED)
		return 0;
	return store_outbox_put(t, e);
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

/* Sends one packet to its school and waits for the receipt. */
static int deliver(store *st, store_outbox *e, uint8_t **receipt, size_t *rlen)
{
	struct peer_ctx pc;
	memset(&pc, 0, sizeof(pc));
	pc.code = e->to;
	uint8_t *pkt = NULL;
	size_t plen;
	nng_socket req;
	int r, nr = -1;

	*receipt = NULL;
	if ((r = store_read(st, peer_fn, &pc)) != 0)
		return r;
	if ((r = baton_file_read(e->file, MSG_MAX, &pkt, &plen)) != 0)
		return r;
	if ((nr = nng_req0_open(&req)) != 0) {
		free(pkt);
		return diag_err(BATON_EIO, "nng: %s", nng_strerror(nr));
	}
	/* Receipts are small; the peer gets no more than that. Resending is safe but slow. */
	nng_socket_set_size(req, NNG_OPT_RECVMAXSZ, RECEIPT_MAX);
	nng_socket_set_ms(req, NNG_OPT_SENDTIMEO, PEER_TIMEOUT_MS);
	nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, PEER_TIMEOUT_MS);
	nng_socket_set_ms(req, NNG_OPT_REQ_RESENDTIME, PEER_TIMEOUT_MS);
	r = BATON_EIO;
	for (size_t i = 0; i < pc.card.n_endpoints && r != 0; i++) {
		void *buf = NULL;
		size_t len = 0;
		if ((nr = nng_dial(req, pc.card.endpoints[i], NULL, 0)) != 0) {
			diag_set("%s: %s", pc.card.endpoints[i], nng_strerror(nr));
			continue;
		}
		if ((nr = nng_send(req, pkt, plen, 0)) != 0 ||
		    (nr = nng_recv(req, &buf, &len, NNG_FLAG_ALLOC)) != 0) {
			diag_set("%s: %s", pc.card.endpoints[i], nng_strerror(nr));
			continue;
		}
		if (len == 0) {
			nng_free(buf, len);
			diag_set("%s does not know this school (empty reply)", e->to);
			continue;
		}
		if ((*receipt = malloc(len)) != NULL) {
			memcpy(*receipt, buf, len);
			*rlen = len;
			r = 0;
		}
		nng_free(buf, len);
	}
	nng_close(req);
	free(pkt);
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

static void outbox_tick(store *st)
{
	struct due_ctx d;
	memset(&d, 0, sizeof(d));
	d.now = (uint64_t)time(NULL);
	if (store_read(st, due_fn, &d) != 0) {
		logline("outbox: %s", baton_diag());
		return;
	}
	for (size_t i = 0; i < d.n && !stopping; i++) {
		store_outbox *e = &d.due[i];
		uint8_t *rc_bytes = NULL;
		size_t rc_len = 0;
		char id[2 * BATON_ID_BYTES + 1];
		sodium_bin2hex(id, sizeof(id), e->packet, BATON_ID_BYTES);
		if (d.now > e->expires) {
			e->state = OUT_EXPIRED;
			snprintf(e->last_error, sizeof(e->last_error), "expired undelivered");
			store_write(st, update_fn, e);
			logline("outbox: packet %s to %s expired undelivered", id, e->to);
			continue;
		}
		/* Count the attempt before making it: a crash mid-delivery still counts. */
		e->attempts++;
		e->next_try = d.now + backoff(e->attempts);
		store_write(st, update_fn, e);
		int r = deliver(st, e, &rc_bytes, &rc_len);
		if (r == 0) {
			baton_receipt rc;
			store_outbox after;
			r = transfer_receipt(st, rc_bytes, rc_len, &rc, &after);
			free(rc_bytes);
			if (r == 0) {
				/* transfer_receipt stored the new state and kept the count. */
				logline("outbox: packet %s to %s: receipt %s", id, e->to,
				        baton_reason_name(rc.reason));
				continue;
			}
		}
		snprintf(e->last_error, sizeof(e->last_error), "%s", baton_diag());
		store_write(st, update_fn, e);
		logline("outbox: packet %s to %s: attempt %u failed: %s", id, e->to, e->attempts,
		        e->last_error);
	}
}

static void handle(store *st, const baton_key *key, nng_socket rep, uint8_t *buf, size_t len)
{
	struct recv_req q;
	baton_source src;
	char id[2 * BATON_ID_BYTES + 1];
	int nr;

	memset(&q, 0, sizeof(q));
	baton_source_mem(&src, buf, len);
	q.src = &src;
	q.key = key;
	q.now = (uint64_t)time(NULL);
	q.skew = SKEW;
	/* A store fault still gets its retryable receipt below; the reason says so. */
	(void)transfer_receive(st, &q);
	sodium_bin2hex(id, sizeof(id), q.packet, BATON_ID_BYTES);
	if (q.reason == BATON_REASON_ACCEPTED)
		logline("inbox: packet %s from %s: %s %s", id, q.from,
		        q.replay ? "replay, same receipt for" : "imported as", q.student);
	else
		logline("inbox: packet %s from %s: rejected (%s): %s", id,
		        q.from[0] ? q.from : "an unknown sender", baton_reason_name(q.reason),
		        baton_diag());
	/* The receipt exists only once the import committed; an unpinned sender gets none. */
	if ((nr = nng_send(rep, q.receipt ? q.receipt : (uint8_t *)"", q.receipt_len, 0)) != 0)
		logline("inbox: reply for packet %s not sent: %s", id, nng_strerror(nr));
	free(q.receipt);
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *listen = NULL;
	baton_key *key = NULL;
	store *st = NULL;
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
	rc = EXIT_ENV;
	baton_card me;
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

	if ((nr = nng_rep0_open(&rep)) != 0) {
		fprintf(stderr, "baton: serve: %s\n", nng_strerror(nr));
		goto out;
	}
	open_sock = 1;
	/* Before listening: nng's default would let 17 bytes reserve 4 GiB. */
	if ((nr = nng_socket_set_size(rep, NNG_OPT_RECVMAXSZ, MSG_MAX)) != 0 ||
	    (nr = nng_socket_set_ms(rep, NNG_OPT_RECVTIMEO, POLL_MS)) != 0 ||
	    (nr = nng_socket_set_ms(rep, NNG_OPT_SENDTIMEO, PEER_TIMEOUT_MS)) != 0 ||
	    (nr = nng_listen(rep, listen, NULL, 0)) != 0) {
		fprintf(stderr, "baton: serve: %s: %s\n", listen, nng_strerror(nr));
		goto out;
	}
	logline("serve: listening at %s", listen);
	time_t last_tick = 0;
	while (!stopping) {
		void *buf = NULL;
		size_t len = 0;
		nr = nng_recv(rep, &buf, &len, NNG_FLAG_ALLOC);
		if (nr == 0) {
			handle(st, key, rep, buf, len);
			sodium_memzero(buf, len);
			nng_free(buf, len);
		} else if (nr != NNG_ETIMEDOUT && nr != NNG_EINTR) {
			logline("serve: receive: %s", nng_strerror(nr));
		}
		if (time(NULL) != last_tick) {
			last_tick = time(NULL);
			outbox_tick(st);
		}
	}
	logline("serve: stopping");
	rc = EXIT_OK;
out:
	if (open_sock)
		nng_close(rep);
	store_close(st);
	baton_key_free(key);
	return rc;
}

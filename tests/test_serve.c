/*
 * Two nodes in one process (node/serve.h): school B's listener and school
 * A's outbox worker, over loopback TCP. A queues one consented packet for
 * B; the test waits, polling both stores, until A's outbox says receipted
 * and B's inbox holds the packet, then stops both nodes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "serve.h"
#include "store.h"
#include "testutil.h"
#include "transfer.h"

#define WAIT_MS 120000 /* the longest the delivery may take: a loaded machine, under ASan */

struct school {
	const char *name, *code;
	char dir[64], url[64];
	baton_key *key;
	uint8_t *card;
	size_t card_len;
	store *st;
	struct serve_node *nd;
};

struct fx {
	struct school a, b;
	baton_key *guardian;
};

static uint64_t fixed_now(void)
{
	return TU_NOW;
}

/* A port on loopback that nothing listens at now. */
static int free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* The school's card, naming its URL. */
static int school_card(struct school *s)
{
	baton_card c;
	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "%s", s->name);
	snprintf(c.code, sizeof(c.code), "%s", s->code);
	memcpy(c.id_pk, baton_key_id_pk(s->key), BATON_PK_BYTES);
	memcpy(c.enc_pk, baton_key_enc_pk(s->key), BATON_PK_BYTES);
	snprintf(c.endpoints[0], sizeof(c.endpoints[0]), "%s", s->url);
	c.n_endpoints = 1;
	c.valid_from = TU_NOW - TU_DAY;
	c.valid_until = TU_NOW + 365 * TU_DAY;
	return baton_card_sign(&c, baton_key_id_sk(s->key), &s->card, &s->card_len);
}

/* What 'baton init' writes into the store: the card, the code and the name. */
static int init_fn(store_txn *t, void *arg)
{
	struct school *s = arg;
	int r;
	if ((r = store_meta_put(t, "card", s->card, s->card_len)) != 0 ||
	    (r = store_meta_put(t, "code", s->code, strlen(s->code))) != 0)
		return r;
	return store_meta_put(t, "name", s->name, strlen(s->name));
}

/* A node directory: the school key (unencrypted, as tests may), the store and the card. */
static int school_make(struct school *s, const char *name, const char *code, uint8_t seed)
{
	char path[128];
	int r;
	s->name = name;
	s->code = code;
	snprintf(s->dir, sizeof(s->dir), "/tmp/baton-serve-XXXXXX");
	snprintf(s->url, sizeof(s->url), "tcp://127.0.0.1:%d", free_port());
	snprintf(path, sizeof(path), "%s/school.key", s->dir);
	s->key = tu_key(BATON_KEY_SCHOOL, seed);
	if (mkdtemp(s->dir) == NULL)
		return BATON_EIO;
	snprintf(path, sizeof(path), "%s/school.key", s->dir);
	if ((r = school_card(s)) != 0 || (r = baton_key_save_plain(s->key, path)) != 0 ||
	    (r = store_open(s->dir, 1, &s->st)) != 0)
		return r;
	store_set_clock(s->st, fixed_now);
	return store_write(s->st, init_fn, s);
}

/* What 'baton peer add' records: the other school's card, pinned. */
static int pin_fn(store_txn *t, void *arg)
{
	const struct school *other = arg;
	return store_peer_put(t, other->code, other->card, other->card_len);
}

/* What 'baton student import' and 'baton guardian link' record at A. */
static int student_fn(store_txn *t, void *arg)
{
	const struct fx *f = arg;
	static const char json[] =
	    "{\"identity\":{\"birth_date\":\"2011-04-17\",\"family_name\":\"Okafor\","
	    "\"given_name\":\"Amara\"},\"student_id\":\"S-1001\"}";
	store_student s;
	store_guardian g;
	int r;
	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "S-1001");
	if ((r = store_student_put(t, &s, json, strlen(json))) != 0)
		return r;
	memset(&g, 0, sizeof(g));
	memcpy(g.pk, baton_key_id_pk(f->guardian), BATON_PK_BYTES);
	snprintf(g.relation, sizeof(g.relation), "mother");
	return store_guardian_put(t, "S-1001", &g);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	if (f == NULL || school_make(&f->a, "Lincoln High School", "LHS-001", 1) != 0 ||
	    school_make(&f->b, "Riverside Academy", "RAS-204", 2) != 0)
		return -1;
	f->guardian = tu_key(BATON_KEY_GUARDIAN, 3);
	if (store_write(f->a.st, pin_fn, &f->b) != 0 || store_write(f->b.st, pin_fn, &f->a) != 0 ||
	    store_write(f->a.st, student_fn, f) != 0)
		return -1;
	*state = f;
	return 0;
}

static void school_free(struct school *s)
{
	char cmd[128];
	if (s->nd)
		serve_stop(s->nd);
	store_close(s->st);
	serve_free(s->nd);
	baton_key_free(s->key);
	free(s->card);
	if (s->dir[0] == '/') {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "test_serve: %s stays\n", s->dir);
	}
}

static int teardown(void **state)
{
	struct fx *f = *state;
	school_free(&f->a);
	school_free(&f->b);
	baton_key_free(f->guardian);
	free(f);
	return 0;
}

/* Queues S-1001's identity at A for B, as 'baton send' does: *id is the packet's. */
static void queue_packet(struct fx *f, uint8_t id[BATON_ID_BYTES])
{
	baton_consent c;
	struct send_req s;
	uint8_t *consent;
	size_t len;

	tu_consent_fill(&c, f->guardian, f->a.key, f->b.key, BATON_SEC_BIT(BATON_SEC_IDENTITY));
	tu_consent_sign(&c, f->guardian, &consent, &len);
	memset(&s, 0, sizeof(s));
	s.student = "S-1001";
	s.to_code = "RAS-204";
	s.consent = consent;
	s.consent_len = len;
	s.key = f->a.key;
	s.node_dir = f->a.dir;
	s.now = TU_NOW;
	s.skew = TU_SKEW;
	assert_int_equal(transfer_send(f->a.st, &s), 0);
	assert_int_equal(s.refused, 0);
	memcpy(id, s.info.id, BATON_ID_BYTES);
	free(consent);
}

struct seen {
	const uint8_t *id;
	int receipted, received;
};

static int outbox_fn(store_txn *t, void *arg)
{
	struct seen *x = arg;
	store_outbox e;
	int r = store_outbox_get(t, x->id, &e);
	if (r < 0 && r != BATON_ENOTFOUND)
		return r;
	x->receipted = r == 0 && e.state == OUT_RECEIPTED;
	return 0;
}

static int inbox_fn(store_txn *t, void *arg)
{
	struct seen *x = arg;
	store_inbox e;
	memset(&e, 0, sizeof(e));
	int r = store_inbox_get(t, x->id, &e);
	if (r < 0 && r != BATON_ENOTFOUND)
		return r;
	x->received = r == 0;
	free(e.receipt);
	return 0;
}

/* Polls both stores until A has the receipt and B the packet, or WAIT_MS passed. */
static void wait_delivered(struct fx *f, const uint8_t id[BATON_ID_BYTES], struct seen *x)
{
	struct timespec nap = {0, 20 * 1000000L};
	memset(x, 0, sizeof(*x));
	x->id = id;
	for (long waited = 0; waited < WAIT_MS && !(x->receipted && x->received); waited += 20) {
		assert_int_equal(store_read(f->a.st, outbox_fn, x), 0);
		assert_int_equal(store_read(f->b.st, inbox_fn, x), 0);
		if (!(x->receipted && x->received))
			nanosleep(&nap, NULL);
	}
}

static void test_two_nodes(void **state)
{
	struct fx *f = *state;
	struct serve_opts ob = {f->b.dir, NULL, NULL, 0}, oa = {f->a.dir, NULL, NULL, 0};
	uint8_t id[BATON_ID_BYTES];
	struct seen x;

	queue_packet(f, id);
	assert_int_equal(serve_open(f->b.st, &ob, &f->b.nd), 0);
	assert_string_equal(serve_url(f->b.nd), f->b.url);
	assert_int_equal(serve_start(f->b.nd, SERVE_LISTEN), 0);
	assert_int_equal(serve_open(f->a.st, &oa, &f->a.nd), 0);
	assert_int_equal(serve_start(f->a.nd, SERVE_OUTBOX), 0);
	wait_delivered(f, id, &x);
	assert_true(x.received);
	assert_true(x.receipted);
	serve_stop(f->a.nd);
	serve_stop(f->b.nd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_two_nodes, setup, teardown),
	};
	if (baton_init() != 0)
		return 1;
	/* Both nodes judge times by the fixtures' clock. */
	setenv("BATON_NOW", "1800000000", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

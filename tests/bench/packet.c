/*
 * Benchmark: sealing and opening one typical transfer, about 20 KB of record
 * sections (JSON) and one 200 KB PDF attached to the transcript, with its
 * consent. Three measurements, in one process:
 *
 *   baton  baton_packet_seal into memory; baton_packet_open and
 *          baton_opened_attachment into a memory sink. The consent is
 *          signed and the attachment's hash (which the caller supplies in
 *          baton_attachment) computed once, before timing.
 *   floor  the libsodium operations the format requires for that packet
 *          (PROTOCOL.md §4.5-4.8, and the consent's signature on opening),
 *          done directly on buffers of the same sizes: no encoding, no copies,
 *          no validation of the public keys the packet carries. A lower bound
 *          for any implementation, not a tight one: the format also requires
 *          those key checks (§3.5, §4.3, §4.4, §4.10), each a scalar
 *          multiplication.
 *   cms    the same record as a MIME multipart, signed then encrypted with
 *          OpenSSL CMS the way Direct Project and AS2 do (RSA-2048 keys and
 *          self-signed certificates made here, SHA-256, AES-256-GCM), then
 *          decrypted and verified.
 *
 * Each figure is the median microseconds per packet over N iterations after
 * a warm-up; the three seals run in turns, then the three opens, so that a
 * shared host changing speed moves them alike. Every path is checked once,
 * outside the timed loops, to give back exactly the bytes that went in.
 *
 *   bench_packet [--iters N | --quick] [--json]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem, clock_gettime */
#endif

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include <baton/baton.h>

static const char *const progname = "bench_packet";

#include "bench.h"

#define SECTIONS_TARGET (20 * 1024)  /* record sections, bytes, about */
#define ATT_BYTES       (200 * 1024) /* the attachment */
#define ITERS_FAST      200          /* default N for baton and floor */
#define ITERS_CMS       100          /* default N for CMS */
#define ITERS_QUICK     20

/* The domain strings of PROTOCOL.md, NUL included (§3.2, §4.5, §4.8). */
#define OBJ_SIG_DOMAIN    "BATON-SIG-v1"
#define PACKET_KEY_DOMAIN "BATON-PACKET-KEY-v1"
#define PACKET_SIG_DOMAIN "BATON-PACKET-SIG-v1"

#define SS_HEADER   crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_ABYTES   crypto_secretstream_xchacha20poly1305_ABYTES
#define AEAD_ABYTES crypto_aead_xchacha20poly1305_ietf_ABYTES

#define MIME_BOUNDARY "----=_BatonBench_5c1e0f7a2b9d4e83"

#define NORETURN          __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

static NORETURN void die_ssl(const char *what)
{
	fprintf(stderr, "%s: %s failed\n", progname, what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (p == NULL)
		die("out of memory (%zu bytes)", n);
	return p;
}

/* ---- timing ---- */

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef void (*bench_fn)(void *ctx);

/* One measurement: fn(ctx) is one packet sealed or opened. */
struct bench {
	bench_fn fn;
	void *ctx;
	int iters;
	double median_us; /* out */
};

static int warmup(int iters)
{
	return iters / 10 < 5 ? 5 : iters / 10;
}

/*
 * Times n benches in turns, one call of each per round, so that the machine
 * changing speed during the run (a shared host, frequency scaling) moves
 * them alike and their ratios hold. Sets each one's median over its iters
 * calls, after its warm-up calls.
 */
static void run_benches(struct bench *b, size_t n)
{
	double **t = xmalloc(n * sizeof(*t));
	int rounds = 0, warm = 0;

	for (size_t j = 0; j < n; j++) {
		t[j] = xmalloc((size_t)b[j].iters * sizeof(**t));
		rounds = b[j].iters > rounds ? b[j].iters : rounds;
		warm = warmup(b[j].iters) > warm ? warmup(b[j].iters) : warm;
	}
	for (int i = 0; i < warm; i++)
		for (size_t j = 0; j < n; j++)
			if (i < warmup(b[j].iters))
				b[j].fn(b[j].ctx);
	for (int i = 0; i < rounds; i++)
		for (size_t j = 0; j < n; j++) {
			if (i >= b[j].iters)
				continue;
			double t0 = now_us();
			b[j].fn(b[j].ctx);
			t[j][i] = now_us() - t0;
		}
	for (size_t j = 0; j < n; j++) {
		int k = b[j].iters;
		qsort(t[j], (size_t)k, sizeof(**t), cmp_double);
		b[j].median_us = k % 2 ? t[j][k / 2] : (t[j][k / 2 - 1] + t[j][k / 2]) / 2;
		free(t[j]);
	}
	free(t);
}

/* ---- memory I/O ---- */

/* A growing buffer: a baton_write_fn, and a JSON text builder. */
struct membuf {
	uint8_t *p;
	size_t len, cap;
};

static void mb_reserve(struct membuf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL)
		die("out of memory (%zu bytes)", cap);
	b->p = p;
	b->cap = cap;
}

static int mb_write(void *ctx, const uint8_t *buf, size_t len)
{
	struct membuf *b = ctx;
	mb_reserve(b, len);
	memcpy(b->p + b->len, buf, len);
	b->len += len;
	return 0;
}

static PRINTF_LIKE(2, 3) void mb_printf(struct membuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		die("vsnprintf failed");
	mb_reserve(b, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Reads an attachment's plaintext from memory, for baton_packet_seal. */
struct memreader {
	const uint8_t *p;
	size_t off, len;
};

static int mr_read(void *ctx, uint8_t *buf, size_t n)
{
	struct memreader *m = ctx;
	if (n > m->len - m->off)
		return BATON_ETRUNC;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return 0;
}

/* ---- the record ---- */

/* One student's record sections (compact JSON, keys sorted) and attachment. */
struct record {
	struct membuf sec[BATON_SEC_COUNT]; /* empty: section not sent */
	size_t sections_len;                /* all sections, bytes */
	uint8_t *att;
	size_t att_len;
	uint32_t mask; /* sections present */
};

static const struct {
	const char *code, *title;
} courses[] = {
    {"ENG109", "English 9"},
    {"ENG210", "English 10 Honors"},
    {"MATH101", "Algebra I"},
    {"MATH201", "Geometry"},
    {"MATH301", "Algebra II with Trigonometry"},
    {"SCI110", "Biology"},
    {"SCI220", "Chemistry"},
    {"SOC100", "World Geography"},
    {"SOC210", "United States History"},
    {"SPA101", "Español I"},
    {"ART120", "Ceramics and Sculpture"},
    {"PE100", "Physical Education"},
    {"HLT100", "Health"},
    {"CSC150", "Introduction to Computer Science"},
    {"MUS130", "Concert Band"},
};
static const char *const grades[] = {"A", "A-", "B+", "B", "B-", "C+", "A", "B+"};
static const char *const terms[] = {"S1", "S2", "Q1", "Q2", "Q3", "Q4", "FY"};

static void record_make(struct record *rec)
{
	struct membuf *b;
	size_t fixed = 0;

	memset(rec, 0, sizeof(*rec));

	b = &rec->sec[BATON_SEC_IDENTITY];
	mb_printf(b, "{\"birth_date\":\"2009-12-19\",\"family_name\":\"Achterberg\","
	             "\"given_name\":\"Siobhán\",\"middle_name\":\"Ngozi\","
	             "\"preferred_name\":\"Shiv\",\"sex\":\"F\"}");

	b = &rec->sec[BATON_SEC_ENROLLMENT];
	mb_printf(b, "[");
	for (int y = 0; y < 4; y++)
		mb_printf(b,
		          "%s{\"entry_date\":\"%d-08-2%d\",\"exit_date\":\"%d-06-1%d\","
		          "\"grade_level\":\"%02d\",\"school_code\":\"LHS-001\","
		          "\"school_name\":\"Lincoln High School\"}",
		          y ? "," : "", 2022 + y, y, 2023 + y, y, 9 + y);
	mb_printf(b, "]");

	b = &rec->sec[BATON_SEC_ATTENDANCE];
	mb_printf(b, "[");
	for (int y = 0; y < 4; y++)
		mb_printf(b,
		          "%s{\"days_absent_excused\":%d,\"days_absent_unexcused\":%d,"
		          "\"days_enrolled\":180,\"days_present\":%d,"
		          "\"school_year\":\"%d-%d\"}",
		          y ? "," : "", 3 + y, y % 2, 180 - 3 - y - y % 2, 2022 + y, 2023 + y);
	mb_printf(b, "]");

	b = &rec->sec[BATON_SEC_ASSESSMENTS];
	mb_printf(b, "[");
	for (int i = 0; i < 16; i++)
		mb_printf(b,
		          "%s{\"date\":\"%d-%02d-14\",\"name\":\"%s\",\"performance_level\":"
		          "\"%s\",\"score\":%d,\"subject\":\"%s\"}",
		          i ? "," : "", 2022 + i / 4, 3 + i % 4 * 2,
		          i % 3 ? "State End-of-Course Exam" : "PSAT/NMSQT",
		          i % 2 ? "Proficient" : "Advanced", 480 + 17 * i,
		          i % 2 ? "Reading and Writing" : "Mathematics");
	mb_printf(b, "]");

	for (int s = 0; s < BATON_SEC_COUNT; s++)
		fixed += rec->sec[s].len;

	/* The transcript takes the rest: course rows until the record is ~20 KB. */
	b = &rec->sec[BATON_SEC_TRANSCRIPT];
	mb_printf(b, "[");
	for (size_t i = 0;; i++) {
		struct membuf row = {0};
		int year = 2022 + (int)(i / 20) % 4;
		mb_printf(&row,
		          "%s{\"course_code\":\"%s\",\"course_title\":\"%s\","
		          "\"credits_attempted\":%s,\"credits_earned\":%s,\"grade\":\"%s\","
		          "\"school_year\":\"%d-%d\",\"term\":\"%s\"}",
		          i ? "," : "", courses[i % 15].code, courses[i % 15].title,
		          i % 4 ? "1.0" : "0.5", i % 4 ? "1.0" : "0.5", grades[i % 8], year,
		          year + 1, terms[i % 7]);
		if (fixed + b->len + row.len + 1 > SECTIONS_TARGET) {
			free(row.p);
			break;
		}
		mb_write(b, row.p, row.len);
		free(row.p);
	}
	mb_printf(b, "]");

	for (int s = 0; s < BATON_SEC_COUNT; s++) {
		rec->sections_len += rec->sec[s].len;
		if (rec->sec[s].len > 0)
			rec->mask |= BATON_SEC_BIT(s);
	}
	rec->att_len = ATT_BYTES;
	rec->att = xmalloc(rec->att_len);
	randombytes_buf(rec->att, rec->att_len);
}

static void record_free(struct record *rec)
{
	for (int s = 0; s < BATON_SEC_COUNT; s++)
		free(rec->sec[s].p);
	free(rec->att);
}

/* ---- Baton ---- */

struct baton_bench {
	const struct record *rec;
	baton_key *sender, *recipient, *guardian;
	uint8_t *consent;
	size_t consent_len;
	baton_consent parsed; /* the consent as the release rules verified it */
	baton_attachment att;
	baton_body body;
	baton_seal_params sp;
	baton_open_params op;
	struct memreader rd;
	baton_att_reader reader;
	struct membuf out;  /* seal output; reused */
	struct membuf pkt;  /* the packet the open loop opens */
	struct membuf sink; /* the opened attachment; reused */
};

static void baton_setup(struct baton_bench *b, const struct record *rec, uint64_t created)
{
	baton_consent c;
	int r;

	memset(b, 0, sizeof(*b));
	b->rec = rec;
	if ((r = baton_key_generate(BATON_KEY_SCHOOL, &b->sender)) != 0 ||
	    (r = baton_key_generate(BATON_KEY_SCHOOL, &b->recipient)) != 0 ||
	    (r = baton_key_generate(BATON_KEY_GUARDIAN, &b->guardian)) != 0)
		die_baton("key", r);

	/* The guardian's consent: this student, these two schools, what is sent. */
	memset(&c, 0, sizeof(c));
	randombytes_buf(c.id, sizeof(c.id));
	snprintf(c.student, sizeof(c.student), "S-1002");
	memcpy(c.from_pk, baton_key_id_pk(b->sender), BATON_PK_BYTES);
	snprintf(c.from_code, sizeof(c.from_code), "LHS-001");
	memcpy(c.to_pk, baton_key_id_pk(b->recipient), BATON_PK_BYTES);
	snprintf(c.to_code, sizeof(c.to_code), "RAS-204");
	c.sections = rec->mask;
	snprintf(c.purpose, sizeof(c.purpose), "Enrollment at Riverside Academy");
	c.issued = created - 86400;
	c.expires = created + 30 * 86400;
	memcpy(c.signer, baton_key_id_pk(b->guardian), BATON_PK_BYTES);
	c.role = BATON_ROLE_GUARDIAN;
	if ((r = baton_consent_sign(&c, baton_key_id_sk(b->guardian), &b->consent,
	                            &b->consent_len)) != 0)
		die_baton("consent", r);
	/* As a node seals: with the consent its release rules parsed and verified. */
	if ((r = baton_consent_parse(b->consent, b->consent_len, &b->parsed)) != 0)
		die_baton("consent", r);

	snprintf(b->att.name, sizeof(b->att.name), "transcript-2022-2026.pdf");
	snprintf(b->att.media_type, sizeof(b->att.media_type), "application/pdf");
	b->att.section = BATON_SEC_TRANSCRIPT;
	b->att.size = rec->att_len;
	/* The caller supplies the hash; sealing checks it against the bytes read. */
	crypto_generichash(b->att.hash, sizeof(b->att.hash), rec->att, rec->att_len, NULL, 0);

	snprintf(b->body.student, sizeof(b->body.student), "S-1002");
	snprintf(b->body.state_id, sizeof(b->body.state_id), "ST-4480-4371");
	for (int s = 0; s < BATON_SEC_COUNT; s++) {
		b->body.section[s] = rec->sec[s].len ? rec->sec[s].p : NULL;
		b->body.section_len[s] = rec->sec[s].len;
	}
	b->body.consent = b->consent;
	b->body.consent_len = b->consent_len;
	memcpy(b->body.guardians[0], baton_key_id_pk(b->guardian), BATON_PK_BYTES);
	b->body.n_guardians = 1;
	b->body.attachments = &b->att;
	b->body.n_attachments = 1;

	b->sp = (baton_seal_params){.kind = BATON_KIND_TRANSFER,
	                            .created = created,
	                            .expires = created + 7 * 86400,
	                            .sender_sk = baton_key_id_sk(b->sender),
	                            .recipient_id_pk = baton_key_id_pk(b->recipient),
	                            .recipient_enc_pk = baton_key_enc_pk(b->recipient),
	                            .consent = &b->parsed};
	b->op = (baton_open_params){.id_pk = baton_key_id_pk(b->recipient),
	                            .enc_sk = baton_key_enc_sk(b->recipient),
	                            .enc_pk = baton_key_enc_pk(b->recipient),
	                            .now = created,
	                            .skew = 300};
	b->rd = (struct memreader){rec->att, 0, rec->att_len};
	b->reader = (baton_att_reader){mr_read, &b->rd};
}

static void baton_teardown(struct baton_bench *b)
{
	baton_key_free(b->sender);
	baton_key_free(b->recipient);
	baton_key_free(b->guardian);
	free(b->consent);
	free(b->out.p);
	free(b->pkt.p);
	free(b->sink.p);
}

static void baton_seal_once(void *ctx)
{
	struct baton_bench *b = ctx;
	int r;

	b->rd.off = 0;
	b->out.len = 0;
	if ((r = baton_packet_seal(&b->sp, &b->body, &b->reader, mb_write, &b->out, NULL)) != 0)
		die_baton("baton_packet_seal", r);
}

static void baton_open_once(void *ctx)
{
	struct baton_bench *b = ctx;
	baton_source src;
	baton_opened *o;
	int r;

	baton_source_mem(&src, b->pkt.p, b->pkt.len);
	if ((r = baton_packet_open(&src, &b->op, &o)) != 0)
		die_baton("baton_packet_open", r);
	b->sink.len = 0;
	if ((r = baton_opened_attachment(o, 0, mb_write, &b->sink)) != 0)
		die_baton("baton_opened_attachment", r);
	baton_opened_free(o);
}

/* Seals once, keeps the packet for the open loop, and checks a round trip. */
static void baton_check(struct baton_bench *b)
{
	const struct record *rec = b->rec;
	baton_source src;
	baton_opened *o;
	baton_packet_info info;
	int r;

	b->rd.off = 0;
	if ((r = baton_packet_seal(&b->sp, &b->body, &b->reader, mb_write, &b->pkt, &info)) != 0)
		die_baton("baton_packet_seal", r);
	if (info.len != b->pkt.len)
		die("baton: seal reports %llu bytes, wrote %zu", (unsigned long long)info.len,
		    b->pkt.len);
	baton_source_mem(&src, b->pkt.p, b->pkt.len);
	if ((r = baton_packet_open(&src, &b->op, &o)) != 0)
		die_baton("baton_packet_open", r);
	const baton_body *got = baton_opened_body(o);
	for (int s = 0; s < BATON_SEC_COUNT; s++)
		if (got->section_len[s] != rec->sec[s].len ||
		    (rec->sec[s].len && memcmp(got->section[s], rec->sec[s].p, rec->sec[s].len)))
			die("baton: section %s does not round-trip",
			    baton_section_name((baton_section)s));
	if (strcmp(got->student, b->body.student) != 0 || got->n_attachments != 1 ||
	    got->attachments[0].size != rec->att_len ||
	    strcmp(baton_opened_consent(o)->student, b->body.student) != 0)
		die("baton: opened body differs from the sealed one");
	b->sink.len = 0;
	if ((r = baton_opened_attachment(o, 0, mb_write, &b->sink)) != 0)
		die_baton("baton_opened_attachment", r);
	if (b->sink.len != rec->att_len || memcmp(b->sink.p, rec->att, rec->att_len) != 0)
		die("baton: attachment does not round-trip");
	baton_opened_free(o);

	/* The timed seal then reuses its buffer without growing it. */
	mb_reserve(&b->out, b->pkt.len);
}

/* ---- the crypto floor ---- */

/*
 * The packet laid out as PROTOCOL.md §4.1 says, sizes taken from the packet
 * Baton sealed: prefix and header (copied), body ciphertext, one attachment
 * stream, signature. Each operation reads and writes it in place.
 */
struct floor_bench {
	size_t adlen, body_len, att_len, len;
	uint8_t *pkt;
	uint8_t *body, *body_out; /* body plaintext: random bytes of the real size */
	const uint8_t *att;
	uint8_t *att_out;
	uint8_t att_hash[32];
	const uint8_t *sender_sk, *sender_pk;
	const uint8_t *rcpt_id_pk, *rcpt_enc_pk, *rcpt_enc_sk;
	uint8_t eph_pk[32], nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
	/* The consent's signed message and signature (§3.2), and its signer. */
	uint8_t *consent_msg;
	size_t consent_msg_len;
	uint8_t consent_sig[64];
	const uint8_t *guardian_pk;
};

static size_t stream_len(size_t size)
{
	size_t chunks = size == 0 ? 1 : (size + BATON_CHUNK_BYTES - 1) / BATON_CHUNK_BYTES;
	return SS_HEADER + chunks * SS_ABYTES + size;
}

/* K, then the body key and the attachment key (§4.5). */
static void floor_keys(const struct floor_bench *f, const uint8_t ss[32], uint8_t kb[32],
                       uint8_t ka[32])
{
	crypto_generichash_state st;
	uint8_t k[32];

	crypto_generichash_init(&st, NULL, 0, sizeof(k));
	crypto_generichash_update(&st, (const uint8_t *)PACKET_KEY_DOMAIN,
	                          sizeof(PACKET_KEY_DOMAIN));
	crypto_generichash_update(&st, ss, 32);
	crypto_generichash_update(&st, f->eph_pk, 32);
	crypto_generichash_update(&st, f->rcpt_enc_pk, 32);
	crypto_generichash_update(&st, f->sender_pk, 32);
	crypto_generichash_update(&st, f->rcpt_id_pk, 32);
	crypto_generichash_final(&st, k, sizeof(k));
	crypto_kdf_derive_from_key(kb, 32, 0, "BTNbody_", k);
	crypto_kdf_derive_from_key(ka, 32, 1, "BTNattch", k);
}

static void floor_seal_once(void *ctx)
{
	struct floor_bench *f = ctx;
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t eph_sk[32], ss[32], kb[32], ka[32], digest[64];
	uint8_t msg[sizeof(PACKET_SIG_DOMAIN) + sizeof(digest)];
	uint8_t *p = f->pkt + f->adlen;

	randombytes_buf(eph_sk, sizeof(eph_sk));
	crypto_scalarmult_base(f->eph_pk, eph_sk);
	randombytes_buf(f->nonce, sizeof(f->nonce));
	if (crypto_scalarmult(ss, eph_sk, f->rcpt_enc_pk) != 0)
		die("floor: crypto_scalarmult failed");
	floor_keys(f, ss, kb, ka);

	crypto_aead_xchacha20poly1305_ietf_encrypt(p, NULL, f->body, f->body_len, f->pkt, f->adlen,
	                                           NULL, f->nonce, kb);
	p += f->body_len + AEAD_ABYTES;

	crypto_secretstream_xchacha20poly1305_init_push(&st, p, ka);
	p += SS_HEADER;
	size_t off = 0;
	do {
		size_t n =
		    f->att_len - off < BATON_CHUNK_BYTES ? f->att_len - off : BATON_CHUNK_BYTES;
		uint8_t tag = off + n == f->att_len
		                  ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
		                  : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
		crypto_secretstream_xchacha20poly1305_push(&st, p, NULL, f->att + off, n, NULL, 0,
		                                           tag);
		p += n + SS_ABYTES;
		off += n;
	} while (off < f->att_len);
	crypto_generichash(f->att_hash, sizeof(f->att_hash), f->att, f->att_len, NULL, 0);

	crypto_generichash(digest, sizeof(digest), f->pkt, f->len - 64, NULL, 0);
	memcpy(msg, PACKET_SIG_DOMAIN, sizeof(PACKET_SIG_DOMAIN));
	memcpy(msg + sizeof(PACKET_SIG_DOMAIN), digest, sizeof(digest));
	crypto_sign_detached(p, NULL, msg, sizeof(msg), f->sender_sk);
}

static void floor_open_once(void *ctx)
{
	struct floor_bench *f = ctx;
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t ss[32], kb[32], ka[32], digest[64], hash[32];
	uint8_t msg[sizeof(PACKET_SIG_DOMAIN) + sizeof(digest)];
	const uint8_t *p = f->pkt + f->adlen;

	crypto_generichash(digest, sizeof(digest), f->pkt, f->len - 64, NULL, 0);
	memcpy(msg, PACKET_SIG_DOMAIN, sizeof(PACKET_SIG_DOMAIN));
	memcpy(msg + sizeof(PACKET_SIG_DOMAIN), digest, sizeof(digest));
	if (crypto_sign_verify_detached(f->pkt + f->len - 64, msg, sizeof(msg), f->sender_pk) != 0)
		die("floor: packet signature does not verify");

	if (crypto_scalarmult(ss, f->rcpt_enc_sk, f->eph_pk) != 0)
		die("floor: crypto_scalarmult failed");
	floor_keys(f, ss, kb, ka);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(f->body_out, NULL, NULL, p,
	                                               f->body_len + AEAD_ABYTES, f->pkt, f->adlen,
	                                               f->nonce, kb) != 0)
		die("floor: body does not decrypt");
	p += f->body_len + AEAD_ABYTES;

	if (crypto_secretstream_xchacha20poly1305_init_pull(&st, p, ka) != 0)
		die("floor: bad stream header");
	p += SS_HEADER;
	size_t off = 0;
	do {
		size_t n =
		    f->att_len - off < BATON_CHUNK_BYTES ? f->att_len - off : BATON_CHUNK_BYTES;
		unsigned long long got;
		uint8_t tag;
		if (crypto_secretstream_xchacha20poly1305_pull(&st, f->att_out + off, &got, &tag, p,
		                                               n + SS_ABYTES, NULL, 0) != 0 ||
		    got != n)
			die("floor: attachment chunk at %zu does not decrypt", off);
		p += n + SS_ABYTES;
		off += n;
		if (tag != (off == f->att_len ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
		                              : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE))
			die("floor: attachment chunk at %zu has the wrong tag", off - n);
	} while (off < f->att_len);
	crypto_generichash(hash, sizeof(hash), f->att_out, f->att_len, NULL, 0);
	if (sodium_memcmp(hash, f->att_hash, sizeof(hash)) != 0)
		die("floor: attachment hash differs");

	if (crypto_sign_verify_detached(f->consent_sig, f->consent_msg, f->consent_msg_len,
	                                f->guardian_pk) != 0)
		die("floor: consent signature does not verify");
}

/*
 * Rebuilds the message a consent's signature covers (§3.1, §3.2) from the
 * encoded envelope [2, bin body, bin[64] signature].
 */
static void floor_consent(struct floor_bench *f, const uint8_t *c, size_t len)
{
	size_t blen, boff;

	if (len < 4 || c[0] != 0x93 || c[1] != BATON_OBJ_CONSENT)
		die("floor: consent is not a [2, body, sig] envelope");
	if (c[2] == 0xc4)
		blen = c[3], boff = 4;
	else if (c[2] == 0xc5)
		blen = (size_t)c[3] << 8 | c[4], boff = 5;
	else
		die("floor: consent body is not a bin");
	if (boff + blen + 2 + 64 != len || c[boff + blen] != 0xc4 || c[boff + blen + 1] != 64)
		die("floor: consent signature is not a bin[64] at the end");
	f->consent_msg_len = sizeof(OBJ_SIG_DOMAIN) + 1 + blen;
	f->consent_msg = xmalloc(f->consent_msg_len);
	memcpy(f->consent_msg, OBJ_SIG_DOMAIN, sizeof(OBJ_SIG_DOMAIN));
	f->consent_msg[sizeof(OBJ_SIG_DOMAIN)] = BATON_OBJ_CONSENT;
	memcpy(f->consent_msg + sizeof(OBJ_SIG_DOMAIN) + 1, c + boff, blen);
	memcpy(f->consent_sig, c + len - 64, 64);
}

static void floor_setup(struct floor_bench *f, const struct baton_bench *b)
{
	const uint8_t *pkt = b->pkt.p;
	baton_source src;
	baton_header h;
	int r;

	memset(f, 0, sizeof(*f));
	baton_source_mem(&src, pkt, b->pkt.len);
	if ((r = baton_packet_peek(&src, &h)) != 0)
		die_baton("baton_packet_peek", r);
	f->adlen = BATON_PREFIX_BYTES + ((size_t)pkt[6] << 8 | pkt[7]);
	f->body_len = (size_t)h.body_len - AEAD_ABYTES;
	f->att_len = b->rec->att_len;
	f->len = f->adlen + f->body_len + AEAD_ABYTES + stream_len(f->att_len) + 64;
	if (f->len != b->pkt.len)
		die("floor: layout gives %zu bytes, Baton's packet has %zu", f->len, b->pkt.len);

	f->pkt = xmalloc(f->len);
	memcpy(f->pkt, pkt, f->adlen);
	f->body = xmalloc(f->body_len);
	f->body_out = xmalloc(f->body_len);
	randombytes_buf(f->body, f->body_len);
	f->att = b->rec->att;
	f->att_out = xmalloc(f->att_len);
	f->sender_sk = baton_key_id_sk(b->sender);
	f->sender_pk = baton_key_id_pk(b->sender);
	f->rcpt_id_pk = baton_key_id_pk(b->recipient);
	f->rcpt_enc_pk = baton_key_enc_pk(b->recipient);
	f->rcpt_enc_sk = baton_key_enc_sk(b->recipient);
	f->guardian_pk = baton_key_id_pk(b->guardian);
	floor_consent(f, b->consent, b->consent_len);
}

static void floor_check(struct floor_bench *f)
{
	floor_seal_once(f);
	memset(f->body_out, 0, f->body_len);
	memset(f->att_out, 0, f->att_len);
	floor_open_once(f);
	if (memcmp(f->body_out, f->body, f->body_len) != 0 ||
	    memcmp(f->att_out, f->att, f->att_len) != 0)
		die("floor: round trip gives other bytes");
}

static void floor_teardown(struct floor_bench *f)
{
	free(f->pkt);
	free(f->body);
	free(f->body_out);
	free(f->att_out);
	free(f->consent_msg);
}

/* ---- OpenSSL CMS (Direct Project / AS2 style) ---- */

struct cms_bench {
	EVP_PKEY *skey, *rkey;
	X509 *scert, *rcert;
	STACK_OF(X509) * recips;
	X509_STORE *store; /* trusts the sender's certificate */
	const EVP_CIPHER *cipher;
	const char *envelope; /* the content type CMS_encrypt produced */
	struct membuf mime;   /* headers, JSON part, PDF part */
	struct membuf json;   /* the JSON part alone, for the check */
	BIO *sealed;          /* the last seal's DER output */
	BIO *opened;          /* the last open's MIME text */
	const uint8_t *got_json, *got_att;
	size_t got_json_len, got_att_len;
};

static EVP_PKEY *rsa_key(void)
{
	EVP_PKEY *k = EVP_RSA_gen(2048);
	if (k == NULL)
		die_ssl("EVP_RSA_gen");
	return k;
}

/* A self-signed X.509v3 certificate for k, valid for a year, like a Direct address's. */
static X509 *self_signed(EVP_PKEY *k, const char *cn, long serial)
{
	X509 *x = X509_new();
	X509_NAME *n;

	if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), serial) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) || !X509_set_pubkey(x, k) ||
	    (n = X509_get_subject_name(x)) == NULL ||
	    !X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
	                                0) ||
	    !X509_set_issuer_name(x, n) || !X509_sign(x, k, EVP_sha256()))
		die_ssl("self-signed certificate");
	return x;
}

/*
 * The content of the MIME part whose delimiter line starts at p: past its
 * headers, up to the next delimiter, where *next is left.
 */
static int mime_part(const uint8_t *p, const uint8_t *end, const uint8_t **body, size_t *len,
                     const uint8_t **next)
{
	static const char delim[] = "\r\n--" MIME_BOUNDARY;
	const uint8_t *h = memmem(p, (size_t)(end - p), "\r\n\r\n", 4), *e;

	if (h == NULL)
		return -1;
	h += 4;
	if ((e = memmem(h, (size_t)(end - h), delim, sizeof(delim) - 1)) == NULL)
		return -1;
	*body = h;
	*len = (size_t)(e - h);
	*next = e + sizeof(delim) - 1;
	return 0;
}

static void cms_setup(struct cms_bench *c, const struct record *rec, const char *filename)
{
	static const char *const order[] = {"identity", "enrollment", "transcript", "attendance",
	                                    "assessments"};
	struct membuf *m = &c->mime;

	memset(c, 0, sizeof(*c));
	c->skey = rsa_key();
	c->rkey = rsa_key();
	c->scert = self_signed(c->skey, "records@lhs-001.direct.example.org", 1);
	c->rcert = self_signed(c->rkey, "records@ras-204.direct.example.org", 2);
	if ((c->recips = sk_X509_new_null()) == NULL || !sk_X509_push(c->recips, c->rcert) ||
	    (c->store = X509_STORE_new()) == NULL || !X509_STORE_add_cert(c->store, c->scert))
		die_ssl("certificate store");
	c->cipher = EVP_aes_256_gcm();

	/* The record as one JSON object, the sections under their names. */
	mb_printf(&c->json, "{\"student_id\":\"S-1002\",\"state_student_id\":\"ST-4480-4371\"");
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		baton_section s = BATON_SEC_IDENTITY;
		baton_section_lookup(order[i], strlen(order[i]), &s);
		mb_printf(&c->json, ",\"%s\":", order[i]);
		mb_write(&c->json, rec->sec[s].p, rec->sec[s].len);
	}
	mb_printf(&c->json, "}");

	if (memmem(rec->att, rec->att_len, MIME_BOUNDARY, strlen(MIME_BOUNDARY)) != NULL)
		die("cms: the attachment contains the MIME boundary; run again");
	mb_printf(m,
	          "MIME-Version: 1.0\r\n"
	          "Content-Type: multipart/mixed; boundary=\"%s\"\r\n\r\n"
	          "--%s\r\n"
	          "Content-Type: application/json; charset=utf-8\r\n\r\n",
	          MIME_BOUNDARY, MIME_BOUNDARY);
	mb_write(m, c->json.p, c->json.len);
	/* Binary transfer encoding, as AS2 allows: no base64 inflation for CMS to carry. */
	mb_printf(m,
	          "\r\n--%s\r\n"
	          "Content-Type: application/pdf\r\n"
	          "Content-Disposition: attachment; filename=\"%s\"\r\n"
	          "Content-Transfer-Encoding: binary\r\n\r\n",
	          MIME_BOUNDARY, filename);
	mb_write(m, rec->att, rec->att_len);
	mb_printf(m, "\r\n--%s--\r\n", MIME_BOUNDARY);
}

static void cms_teardown(struct cms_bench *c)
{
	BIO_free(c->sealed);
	BIO_free(c->opened);
	sk_X509_free(c->recips);
	X509_STORE_free(c->store);
	X509_free(c->scert);
	X509_free(c->rcert);
	EVP_PKEY_free(c->skey);
	EVP_PKEY_free(c->rkey);
	free(c->mime.p);
	free(c->json.p);
}

/* Sign (SignedData, content included), then encrypt the DER (Auth)EnvelopedData. */
static int cms_seal_try(struct cms_bench *c)
{
	CMS_ContentInfo *sd = NULL, *ed = NULL;
	BIO *in = NULL, *mid = NULL;
	int ok = 0;

	BIO_free(c->sealed);
	c->sealed = NULL;
	if ((in = BIO_new_mem_buf(c->mime.p, (int)c->mime.len)) == NULL ||
	    (sd = CMS_sign(c->scert, c->skey, NULL, in, CMS_BINARY)) == NULL ||
	    (mid = BIO_new(BIO_s_mem())) == NULL || !i2d_CMS_bio(mid, sd) ||
	    (ed = CMS_encrypt(c->recips, mid, c->cipher, CMS_BINARY)) == NULL ||
	    (c->sealed = BIO_new(BIO_s_mem())) == NULL || !i2d_CMS_bio(c->sealed, ed))
		goto out;
	ok = 1;
out:
	CMS_ContentInfo_free(sd);
	CMS_ContentInfo_free(ed);
	BIO_free(in);
	BIO_free(mid);
	return ok;
}

static void cms_seal_once(void *ctx)
{
	if (!cms_seal_try(ctx))
		die_ssl("cms seal");
}

/* Decrypt, verify the signature and the signer's certificate, split the MIME parts. */
static void cms_open_once(void *ctx)
{
	struct cms_bench *c = ctx;
	CMS_ContentInfo *ed = NULL, *sd = NULL;
	BIO *in = NULL, *mid = NULL;
	const uint8_t *p, *end, *next;
	char *data;
	long n;

	BIO_free(c->opened);
	c->opened = NULL;
	n = BIO_get_mem_data(c->sealed, &data);
	if ((in = BIO_new_mem_buf(data, (int)n)) == NULL || (ed = d2i_CMS_bio(in, NULL)) == NULL ||
	    (mid = BIO_new(BIO_s_mem())) == NULL ||
	    !CMS_decrypt(ed, c->rkey, c->rcert, NULL, mid, CMS_BINARY) ||
	    (sd = d2i_CMS_bio(mid, NULL)) == NULL || (c->opened = BIO_new(BIO_s_mem())) == NULL ||
	    !CMS_verify(sd, NULL, c->store, NULL, c->opened, CMS_BINARY))
		die_ssl("cms open");
	CMS_ContentInfo_free(ed);
	CMS_ContentInfo_free(sd);
	BIO_free(in);
	BIO_free(mid);

	n = BIO_get_mem_data(c->opened, &data);
	p = (const uint8_t *)data;
	end = p + n;
	/* Past the message headers to the first delimiter, then one part after the other. */
	if ((next = memmem(p, (size_t)n, "--" MIME_BOUNDARY, strlen("--" MIME_BOUNDARY))) == NULL ||
	    mime_part(next, end, &c->got_json, &c->got_json_len, &next) != 0 ||
	    mime_part(next, end, &c->got_att, &c->got_att_len, &next) != 0)
		die("cms: opened message is not the multipart that was sealed");
}

static size_t cms_sealed_len(const struct cms_bench *c)
{
	char *data;
	return (size_t)BIO_get_mem_data(c->sealed, &data);
}

/* Seals with AES-256-GCM, or AES-256-CBC when this OpenSSL refuses; checks a round trip. */
static void cms_check(struct cms_bench *c, const struct record *rec)
{
	CMS_ContentInfo *ed;
	char *data;
	const unsigned char *p;
	long n;

	if (!cms_seal_try(c)) {
		fprintf(stderr, "%s: CMS_encrypt with aes-256-gcm failed; using aes-256-cbc\n",
		        progname);
		ERR_print_errors_fp(stderr);
		c->cipher = EVP_aes_256_cbc();
		cms_seal_once(c);
	}
	n = BIO_get_mem_data(c->sealed, &data);
	p = (const unsigned char *)data;
	if ((ed = d2i_CMS_ContentInfo(NULL, &p, n)) == NULL)
		die_ssl("d2i_CMS_ContentInfo");
	switch (OBJ_obj2nid(CMS_get0_type(ed))) {
	case NID_id_smime_ct_authEnvelopedData:
		c->envelope = "AuthEnvelopedData";
		break;
	case NID_pkcs7_enveloped:
		c->envelope = "EnvelopedData";
		break;
	default:
		c->envelope = "?";
	}
	CMS_ContentInfo_free(ed);

	cms_open_once(c);
	if (c->got_json_len != c->json.len || memcmp(c->got_json, c->json.p, c->json.len) != 0 ||
	    c->got_att_len != rec->att_len || memcmp(c->got_att, rec->att, rec->att_len) != 0)
		die("cms: round trip gives other bytes");
}

/* ---- output ---- */

struct row {
	const char *name;
	double value;
	const char *unit;
	int decimals;
};

static void usage(FILE *to)
{
	fprintf(to,
	        "usage: %s [--iters N | --quick] [--json]\n"
	        "  Seal and open one transfer (~20 KB sections, 200 KB PDF) with Baton,\n"
	        "  with libsodium alone (the floor), and with OpenSSL CMS; median us.\n"
	        "  --iters N  N iterations for every measurement (default %d, CMS %d)\n"
	        "  --quick    %d iterations\n"
	        "  --json     one JSON object per line: name, value, unit\n",
	        progname, ITERS_FAST, ITERS_CMS, ITERS_QUICK);
}

int main(int argc, char **argv)
{
	struct record rec;
	struct baton_bench b;
	struct floor_bench f;
	struct cms_bench c;
	int iters = ITERS_FAST, iters_cms = ITERS_CMS, json = 0, quick = 0, forced = 0;
	uint64_t created = (uint64_t)time(NULL);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--quick") == 0) {
			quick = 1;
		} else if (strcmp(argv[i], "--iters") == 0) {
			char *e;
			long v;
			if (i + 1 == argc) {
				fprintf(stderr, "%s: --iters needs a count\n", progname);
				return 1;
			}
			v = strtol(argv[++i], &e, 10);
			if (*argv[i] == '\0' || *e != '\0' || v < 1 || v > 1000000) {
				fprintf(stderr, "%s: --iters: \"%s\" is not a count 1..1000000\n",
				        progname, argv[i]);
				return 1;
			}
			forced = (int)v;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "%s: unknown option \"%s\"\n", progname, argv[i]);
			usage(stderr);
			return 1;
		}
	}
	if (quick)
		iters = iters_cms = ITERS_QUICK;
	if (forced)
		iters = iters_cms = forced;
	if (baton_init() != 0)
		die("libsodium does not start");

	record_make(&rec);
	baton_setup(&b, &rec, created);
	baton_check(&b);
	floor_setup(&f, &b);
	floor_check(&f);
	cms_setup(&c, &rec, b.att.name);
	cms_check(&c, &rec);

	/* Seals, then opens: each of the three in turn within a side. */
	struct bench seals[] = {{baton_seal_once, &b, iters, 0},
	                        {floor_seal_once, &f, iters, 0},
	                        {cms_seal_once, &c, iters_cms, 0}};
	struct bench opens[] = {{baton_open_once, &b, iters, 0},
	                        {floor_open_once, &f, iters, 0},
	                        {cms_open_once, &c, iters_cms, 0}};
	run_benches(seals, 3);
	run_benches(opens, 3);
	double seal_baton = seals[0].median_us, seal_floor = seals[1].median_us;
	double seal_cms = seals[2].median_us;
	double open_baton = opens[0].median_us, open_floor = opens[1].median_us;
	double open_cms = opens[2].median_us;

	const struct row rows[] = {
	    {"packet.seal.baton_us", seal_baton, "us", 1},
	    {"packet.seal.floor_us", seal_floor, "us", 1},
	    {"packet.seal.ratio", seal_baton / seal_floor, "x", 2},
	    {"packet.open.baton_us", open_baton, "us", 1},
	    {"packet.open.floor_us", open_floor, "us", 1},
	    {"packet.open.ratio", open_baton / open_floor, "x", 2},
	    {"packet.seal.cms_us", seal_cms, "us", 1},
	    {"packet.open.cms_us", open_cms, "us", 1},
	    {"packet.seal.speedup_vs_cms", seal_cms / seal_baton, "x", 2},
	    {"packet.open.speedup_vs_cms", open_cms / open_baton, "x", 2},
	    {"packet.size.baton_bytes", (double)b.pkt.len, "bytes", 0},
	    {"packet.size.cms_bytes", (double)cms_sealed_len(&c), "bytes", 0},
	};
	const char *cipher = EVP_CIPHER_get0_name(c.cipher);

	if (json) {
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			printf("{\"name\":\"%s\",\"value\":%.*f,\"unit\":\"%s\"}\n", rows[i].name,
			       rows[i].decimals, rows[i].value, rows[i].unit);
		if (c.cipher != EVP_aes_256_gcm())
			fprintf(stderr, "%s: note: CMS used %s in %s, not AES-256-GCM\n", progname,
			        cipher, c.envelope);
	} else {
		printf("record: %zu bytes of sections (transcript %zu), one %zu-byte "
		       "application/pdf\n",
		       rec.sections_len, rec.sec[BATON_SEC_TRANSCRIPT].len, rec.att_len);
		printf("baton:  X25519, XChaCha20-Poly1305, secretstream, BLAKE2b, Ed25519 "
		       "(libsodium %s)\n",
		       sodium_version_string());
		printf("cms:    RSA-2048 SignedData (SHA-256), then %s %s, RSA key transport "
		       "(%s)%s\n",
		       cipher, c.envelope, OpenSSL_version(OPENSSL_VERSION),
		       c.cipher != EVP_aes_256_gcm() ? "; FELL BACK from AES-256-GCM" : "");
		printf("median of %d iterations (CMS %d), after warm-up\n\n", iters, iters_cms);
		for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
			printf("%-30s %12.*f %s\n", rows[i].name, rows[i].decimals, rows[i].value,
			       rows[i].unit);
	}

	cms_teardown(&c);
	floor_teardown(&f);
	baton_teardown(&b);
	record_free(&rec);
	return 0;
}

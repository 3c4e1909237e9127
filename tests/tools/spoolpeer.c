/*
 * spoolpeer: a peer that starts chunked transfers and abandons them, for
 * tests/cli/spool.sh. It writes the frames of PROTOCOL.md section 10 and a
 * packet header (section 4.3) by hand, as a second implementation, and uses
 * only libsodium and nng.
 *
 * usage: spoolpeer URL MODE COUNT TOTAL SENDER_KEY RECIPIENT_KEY [PACKET]
 *
 * Sends the first chunk of COUNT packets, each announcing TOTAL bytes, from
 * the school of SENDER_KEY to the school of RECIPIENT_KEY (key files,
 * passphrase in $BATON_PASSPHRASE; only the public halves are used, except
 * in mode signed). MODE:
 *   v1      the frame of version 1, which carried no admission: a header
 *           claiming the sender and 4096 bytes
 *   forged  the first chunk of version 2, its admission signed by a key
 *           that is not the sender's
 *   signed  the first chunk of version 2, signed by the sender's key
 *   broken, v1-broken  as signed and v1, with a header length over 512
 * With PACKET (a packet file of TOTAL bytes), its own first chunk is sent
 * instead of a made-up one, as its sender would.
 * Prints "admitted N refused M": the first chunks the receiver
 * acknowledged as held, and those it answered otherwise; then, when some
 * of those answers were receipts, "receipts K".
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/reqrep0/req.h>
#include <sodium.h>

#define CHUNK (1u << 20)

static void die(const char *what)
{
	fprintf(stderr, "spoolpeer: %s\n", what);
	exit(2);
}

static void be(uint8_t *p, uint64_t v, int n)
{
	for (int i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The Ed25519 key pair of a school key file (PROTOCOL.md section 7.1). */
static void load_key(const char *path, uint8_t pk[32], uint8_t sk[64])
{
	uint8_t f[144], key[32], secret[64];
	unsigned long long slen;
	const char *pass = getenv("BATON_PASSPHRASE");
	FILE *fp = fopen(path, "rb");
	if (fp == NULL || fread(f, 1, sizeof(f), fp) != sizeof(f) || memcmp(f, "BTNK", 4) != 0 ||
	    f[6] != 1 || pass == NULL)
		die("a school key file protected by $BATON_PASSPHRASE is needed");
	fclose(fp);
	uint64_t ops = 0, mem = 0;
	for (int i = 0; i < 8; i++) {
		ops = ops << 8 | f[8 + i];
		mem = mem << 8 | f[16 + i];
	}
	if (crypto_pwhash(key, sizeof(key), pass, strlen(pass), f + 24, ops, (size_t)mem,
	                  crypto_pwhash_ALG_ARGON2ID13) != 0 ||
	    crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &slen, NULL, f + 64, 80, f, 64,
	                                               f + 40, key) != 0 ||
	    slen != 64)
		die("the key file does not open");
	crypto_sign_seed_keypair(pk, sk, secret);
	sodium_memzero(secret, sizeof(secret));
}

static size_t put_key(uint8_t *p, const char *name, const uint8_t *v, uint8_t n)
{
	size_t k = strlen(name), i = 0;
	p[i++] = (uint8_t)(0xa0 | k);
	memcpy(p + i, name, k);
	i += k;
	p[i++] = 0xc4;
	p[i++] = n;
	memcpy(p + i, v, n);
	return i + n;
}

static size_t put_u32(uint8_t *p, const char *name, uint32_t v)
{
	size_t k = strlen(name), i = 0;
	p[i++] = (uint8_t)(0xa0 | k);
	memcpy(p + i, name, k);
	i += k;
	p[i++] = 0xce; /* values above 65535 only: the shortest form */
	be(p + i, v, 4);
	return i + 4;
}

/* A packet's prefix and canonical header; returns its length. */
static size_t packet_head(uint8_t *p, const uint8_t id[16], const uint8_t sndr[32],
                          const uint8_t rcpt[32])
{
	uint8_t eph[32], nonce[24];
	uint32_t now = (uint32_t)time(NULL);
	size_t i = 8;
	randombytes_buf(eph, sizeof(eph));
	randombytes_buf(nonce, sizeof(nonce));
	p[i++] = 0x88;
	i += put_u32(p + i, "blen", 100000);
	i += put_u32(p + i, "created", now - 60);
	i += put_key(p + i, "eph", eph, 32);
	i += put_u32(p + i, "expires", now + 86400);
	i += put_key(p + i, "id", id, 16);
	i += put_key(p + i, "nonce", nonce, 24);
	i += put_key(p + i, "rcpt", rcpt, 32);
	i += put_key(p + i, "sndr", sndr, 32);
	memcpy(p, "BTNP\x01\x01", 6);
	be(p + 6, i - 8, 2);
	return i;
}

/* The first n bytes of a packet file, and its id (the header's "id"). */
static void packet_file(const char *path, uint8_t *data, size_t n, uint8_t id[16])
{
	FILE *fp = fopen(path, "rb");
	uint8_t *p;
	if (fp == NULL || fread(data, 1, n, fp) != n)
		die("cannot read the packet file");
	fclose(fp);
	p = memmem(data, n < 600 ? n : 600, "\xa2id\xc4\x10", 5);
	if (p == NULL)
		die("no id in the packet's header");
	memcpy(id, p + 5, 16);
}

/* The first chunk frame of one packet, in mode; returns its length. */
static size_t first_chunk(uint8_t *m, const char *mode, uint64_t total, const uint8_t *spk,
                          const uint8_t *ssk, const uint8_t *rpk, const char *packet)
{
	uint8_t id[16], msg[15 + 36 + 32], other_pk[32], other_sk[64];
	size_t n = total < CHUNK ? (size_t)total : CHUNK, head;
	int v1 = strncmp(mode, "v1", 2) == 0;

	randombytes_buf(id, sizeof(id));
	memcpy(m, "BTNC", 4);
	m[4] = v1 ? 1 : 2;
	m[5] = m[6] = m[7] = 0;
	memcpy(m + 8, id, 16);
	be(m + 24, total, 8);
	be(m + 32, 0, 8);
	head = v1 ? 40 : 40 + 76;
	if (v1)
		n = 4096;
	if (packet) {
		packet_file(packet, m + head, n, id);
		memcpy(m + 8, id, 16);
	} else {
		randombytes_buf(m + head, n);
		packet_head(m + head, id, spk, rpk);
	}
	if (strstr(mode, "broken"))
		m[head + 6] = 0x03; /* hlen over 512 */
	if (v1)
		return head + n;
	be(m + 40, CHUNK, 4);
	be(m + 44, (uint64_t)time(NULL), 8);
	memcpy(msg, "BATON-ADMIT-v1", 15);
	memcpy(msg + 15, m + 8, 16 + 8);
	be(msg + 39, CHUNK, 4);
	memcpy(msg + 43, m + 44, 8);
	crypto_generichash(msg + 51, 32, m + head, n, NULL, 0);
	if (strcmp(mode, "forged") == 0) {
		crypto_sign_keypair(other_pk, other_sk);
		ssk = other_sk;
	}
	crypto_sign_detached(m + 52, NULL, msg, 51 + 32, ssk);
	return head + n;
}

int main(int argc, char **argv)
{
	uint8_t spk[32], ssk[64], rpk[32], rsk[64], *m;
	unsigned admitted = 0, refused = 0, receipts = 0;
	nng_socket req;

	if ((argc != 7 && argc != 8) || sodium_init() < 0)
		die("usage: spoolpeer URL v1|forged|signed COUNT TOTAL SENDER_KEY RECIPIENT_KEY");
	int count = atoi(argv[3]);
	uint64_t total = strtoull(argv[4], NULL, 10);
	load_key(argv[5], spk, ssk);
	load_key(argv[6], rpk, rsk);
	sodium_memzero(rsk, sizeof(rsk));
	if ((m = malloc(40 + 76 + CHUNK)) == NULL || nng_req0_open(&req) != 0 ||
	    nng_socket_set_ms(req, NNG_OPT_RECVTIMEO, 20000) != 0 ||
	    nng_socket_set_ms(req, NNG_OPT_SENDTIMEO, 20000) != 0 ||
	    nng_dial(req, argv[1], NULL, 0) != 0)
		die("cannot reach the receiver");
	for (int i = 0; i < count; i++) {
		size_t len = first_chunk(m, argv[2], total, spk, ssk, rpk,
		                         argc == 8 ? argv[7] : NULL),
		       rlen = 0;
		uint8_t *reply = NULL;
		if (nng_send(req, m, len, 0) != 0 ||
		    nng_recv(req, &reply, &rlen, NNG_FLAG_ALLOC) != 0)
			die("no reply");
		/* An acknowledgement of bytes held, of either version. */
		int held = 0;
		if (rlen == 32 && memcmp(reply, "BTNA", 4) == 0)
			for (int k = 24; k < 32; k++)
				held |= reply[k] != 0;
		receipts += rlen > 2 && reply[0] == 0x93 && reply[1] == 0x04;
		admitted += held != 0;
		refused += held == 0;
		nng_free(reply, rlen);
	}
	printf("admitted %u refused %u\n", admitted, refused);
	if (receipts)
		printf("receipts %u\n", receipts);
	sodium_memzero(ssk, sizeof(ssk));
	nng_close(req);
	free(m);
	return 0;
}

/*
 * reseal: a sending school that changes a packet's statements of
 * disagreement after the fact, for tests/cli/dissent.sh. It opens a
 * transfer as its recipient, changes the statements, and seals the body
 * again, signed by the sender, with a second implementation of the layout
 * (PROTOCOL.md 4), since Baton's own sealer refuses such a body.
 *
 *   reseal SENDER.key RECIPIENT.key IN.baton OUT.baton drop|tamper
 *
 * drop: the last statement is taken out, its id still declared in
 * statements.held. tamper: one letter of the first statement's text is
 * changed, its signature left as it was. The key files' passphrase is
 * $BATON_PASSPHRASE. The packet must carry no attachments.
 * Exits 0, or 1 with the reason on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <baton/baton.h>
#include <sodium.h>

#include "../../proto/proto_impl.h"

static int die(const char *what, int r)
{
	fprintf(stderr, "reseal: %s: %s (%s)\n", what, baton_diag()[0] ? baton_diag() : "",
	        baton_errname(r));
	return 1;
}

static int load(const char *path, baton_key **k)
{
	const char *pass = getenv("BATON_PASSPHRASE");
	return baton_key_load(path, pass, pass ? strlen(pass) : 0, k);
}

static void put_uint(uint8_t *h, size_t *n, uint64_t v)
{
	if (v < 128) {
		h[(*n)++] = (uint8_t)v;
	} else if (v <= 0xff) {
		h[(*n)++] = 0xcc, h[(*n)++] = (uint8_t)v;
	} else if (v <= 0xffff) {
		h[(*n)++] = 0xcd;
		for (int i = 1; i >= 0; i--)
			h[(*n)++] = (uint8_t)(v >> (8 * i));
	} else if (v <= 0xffffffffu) {
		h[(*n)++] = 0xce;
		for (int i = 3; i >= 0; i--)
			h[(*n)++] = (uint8_t)(v >> (8 * i));
	} else {
		h[(*n)++] = 0xcf;
		for (int i = 7; i >= 0; i--)
			h[(*n)++] = (uint8_t)(v >> (8 * i));
	}
}

static void put_str(uint8_t *h, size_t *n, const char *s)
{
	h[(*n)++] = (uint8_t)(0xa0 | strlen(s));
	memcpy(h + *n, s, strlen(s));
	*n += strlen(s);
}

static void put_bin(uint8_t *h, size_t *n, const uint8_t *p, size_t len)
{
	h[(*n)++] = 0xc4, h[(*n)++] = (uint8_t)len;
	memcpy(h + *n, p, len);
	*n += len;
}

int main(int argc, char **argv)
{
	static const char kd[] = "BATON-PACKET-KEY-v1", sd[] = "BATON-PACKET-SIG-v1";
	baton_key *snd = NULL, *rcv = NULL;
	baton_opened *o = NULL;
	baton_source src;
	baton_body b;
	uint8_t *in = NULL, *plain = NULL, *pkt, *tampered = NULL;
	size_t inlen, plen, hl = 0;
	uint8_t eph_sk[32], eph[32], ss[32], k[32], bk[32], id[16], nonce[24], hdr[512];
	uint8_t digest[64], msg[sizeof(sd) + 64];
	crypto_generichash_state st;
	int r;

	if (argc != 6 || (strcmp(argv[5], "drop") != 0 && strcmp(argv[5], "tamper") != 0)) {
		fprintf(stderr, "usage: reseal SENDER.key RECIPIENT.key IN OUT drop|tamper\n");
		return 1;
	}
	if (baton_init() != 0)
		return 1;
	if ((r = load(argv[1], &snd)) != 0)
		return die(argv[1], r);
	if ((r = load(argv[2], &rcv)) != 0)
		return die(argv[2], r);
	if ((r = baton_file_read(argv[3], 64u << 20, &in, &inlen)) != 0)
		return die(argv[3], r);
	baton_source_mem(&src, in, inlen);
	baton_open_params op = {baton_key_id_pk(rcv), baton_key_enc_sk(rcv), baton_key_enc_pk(rcv),
	                        (uint64_t)time(NULL), 300};
	if ((r = baton_packet_open(&src, &op, &o)) != 0)
		return die("open", r);
	b = *baton_opened_body(o);
	if (b.n_attachments > 0 || b.n_statements == 0) {
		fprintf(stderr, "reseal: the packet must carry statements and no attachments\n");
		return 1;
	}
	if (strcmp(argv[5], "drop") == 0) {
		b.n_statements--;
	} else {
		/* A letter of the text, in a copy of the statement. */
		if ((tampered = malloc(b.statement_len[0])) == NULL)
			return 1;
		memcpy(tampered, b.statement[0], b.statement_len[0]);
		uint8_t *at = memmem(tampered, b.statement_len[0], "\xa4text", 5);
		if (at == NULL)
			return 1;
		at += 5;
		while (at < tampered + b.statement_len[0] && !(*at >= 'a' && *at <= 'z'))
			at++;
		*at ^= 0x20; /* the first lower-case letter of the text, in upper case */
		b.statement[0] = tampered;
	}
	if ((r = bti_packet_body_encode(&b, BATON_KIND_TRANSFER, &plain, &plen)) != 0)
		return die("encode", r);

	/* PROTOCOL.md 4.5: K from the ephemeral key, both encryption keys and both schools. */
	const uint8_t *sndr = baton_key_id_pk(snd), *rcpt = baton_key_id_pk(rcv);
	randombytes_buf(eph_sk, 32);
	crypto_scalarmult_base(eph, eph_sk);
	if (crypto_scalarmult(ss, eph_sk, baton_key_enc_pk(rcv)) != 0)
		return 1;
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)kd, sizeof(kd));
	crypto_generichash_update(&st, ss, 32);
	crypto_generichash_update(&st, eph, 32);
	crypto_generichash_update(&st, baton_key_enc_pk(rcv), 32);
	crypto_generichash_update(&st, sndr, 32);
	crypto_generichash_update(&st, rcpt, 32);
	crypto_generichash_final(&st, k, 32);
	crypto_kdf_derive_from_key(bk, 32, 0, "BTNbody_", k);
	randombytes_buf(id, 16);
	randombytes_buf(nonce, 24);

	/* PROTOCOL.md 4.3: the header's eight fields in key order. */
	const baton_header *oh = baton_opened_header(o);
	uint64_t blen = plen + crypto_aead_xchacha20poly1305_ietf_ABYTES;
	hdr[hl++] = 0x88;
	put_str(hdr, &hl, "blen"), put_uint(hdr, &hl, blen);
	put_str(hdr, &hl, "created"), put_uint(hdr, &hl, oh->created);
	put_str(hdr, &hl, "eph"), put_bin(hdr, &hl, eph, 32);
	put_str(hdr, &hl, "expires"), put_uint(hdr, &hl, oh->expires);
	put_str(hdr, &hl, "id"), put_bin(hdr, &hl, id, 16);
	put_str(hdr, &hl, "nonce"), put_bin(hdr, &hl, nonce, 24);
	put_str(hdr, &hl, "rcpt"), put_bin(hdr, &hl, rcpt, 32);
	put_str(hdr, &hl, "sndr"), put_bin(hdr, &hl, sndr, 32);

	size_t total = 8 + hl + blen + 64;
	if ((pkt = malloc(total)) == NULL)
		return 1;
	memcpy(pkt, "BTNP", 4);
	pkt[4] = 1, pkt[5] = BATON_KIND_TRANSFER, pkt[6] = (uint8_t)(hl >> 8), pkt[7] = (uint8_t)hl;
	memcpy(pkt + 8, hdr, hl);
	crypto_aead_xchacha20poly1305_ietf_encrypt(pkt + 8 + hl, NULL, plain, plen, pkt, 8 + hl,
	                                           NULL, nonce, bk);
	crypto_generichash(digest, 64, pkt, total - 64, NULL, 0);
	memcpy(msg, sd, sizeof(sd));
	memcpy(msg + sizeof(sd), digest, 64);
	crypto_sign_detached(pkt + total - 64, NULL, msg, sizeof(msg), baton_key_id_sk(snd));
	if ((r = baton_file_create(argv[4], pkt, total, 0600)) != 0)
		return die(argv[4], r);
	free(pkt);
	free(plain);
	free(tampered);
	free(in);
	baton_opened_free(o);
	baton_key_free(snd), baton_key_free(rcv);
	return 0;
}

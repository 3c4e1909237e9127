/*
 * receipt_terms: a receiving school that signs a receipt naming other
 * redisclosure terms than the ones it was sent, for tests/cli/terms.sh.
 * It reads a receipt, replaces its `terms` with the hash of other text,
 * and signs it again with the receiving school's key.
 *
 *   receipt_terms RECEIVER.key IN.receipt OUT.receipt
 *
 * The key file's passphrase is $BATON_PASSPHRASE. Exits 0, or 1 with the
 * reason on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>
#include <sodium.h>

static int die(const char *what)
{
	fprintf(stderr, "receipt_terms: %s: %s\n", what, baton_diag());
	return 1;
}

int main(int argc, char **argv)
{
	static const char other[] = "Other terms than the ones sent.";
	const char *pass = getenv("BATON_PASSPHRASE");
	uint8_t buf[65536], *out = NULL;
	baton_receipt rc;
	baton_key *k = NULL;
	size_t n, len = 0;
	FILE *f;

	if (argc != 4) {
		fprintf(stderr, "usage: receipt_terms RECEIVER.key IN.receipt OUT.receipt\n");
		return 1;
	}
	if (baton_init() != 0)
		return 1;
	if ((f = fopen(argv[2], "rb")) == NULL) {
		fprintf(stderr, "receipt_terms: %s: cannot read\n", argv[2]);
		return 1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (baton_receipt_parse(buf, n, &rc) != 0)
		return die(argv[2]);
	if (baton_key_load(argv[1], pass, pass ? strlen(pass) : 0, &k) != 0)
		return die(argv[1]);
	crypto_generichash(rc.terms, sizeof(rc.terms), (const uint8_t *)other, strlen(other), NULL,
	                   0);
	rc.has_terms = 1;
	int r = baton_receipt_sign(&rc, baton_key_id_sk(k), &out, &len);
	baton_key_free(k);
	if (r != 0)
		return die("sign");
	if ((f = fopen(argv[3], "wb")) == NULL || fwrite(out, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "receipt_terms: %s: cannot write\n", argv[3]);
		return 1;
	}
	free(out);
	return 0;
}

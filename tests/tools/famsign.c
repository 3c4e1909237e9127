/*
 * famsign: what a family's device does to sign in (PROTOCOL.md 7.5), for
 * tests/cli/family_api.sh, which drives the family API with curl.
 *
 *   famsign KEYFILE SCHOOL_ID ORIGIN NONCE
 *
 * Loads the guardian key file KEYFILE (unencrypted; or its passphrase on
 * the first line of the file $FAMSIGN_PASSFILE), and prints the hex of its
 * login signature for the school whose identity key is SCHOOL_ID (64 hex
 * digits), at the web origin ORIGIN, over NONCE (64 hex digits).
 * Exits 0, or 1 with the reason on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>
#include <sodium.h>

static int unhex(const char *what, const char *hex, uint8_t *out, size_t n)
{
	size_t got = 0;
	if (strlen(hex) != 2 * n || sodium_hex2bin(out, n, hex, 2 * n, NULL, &got, NULL) != 0 ||
	    got != n) {
		fprintf(stderr, "famsign: %s: %zu hex digits are required\n", what, 2 * n);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint8_t school[32], nonce[32], sig[64];
	char hex[129], pass[256] = "";
	const char *pf = getenv("FAMSIGN_PASSFILE");
	baton_key *k = NULL;
	int r;

	if (argc != 5) {
		fprintf(stderr, "usage: famsign KEYFILE SCHOOL_ID ORIGIN NONCE\n");
		return 1;
	}
	if (baton_init() != 0 || unhex("SCHOOL_ID", argv[2], school, 32) ||
	    unhex("NONCE", argv[4], nonce, 32))
		return 1;
	if (pf) {
		FILE *f = fopen(pf, "r");
		if (!f || !fgets(pass, sizeof(pass), f)) {
			fprintf(stderr, "famsign: %s: cannot read\n", pf);
			return 1;
		}
		fclose(f);
		pass[strcspn(pass, "\n")] = 0;
	}
	if ((r = baton_key_load(argv[1], pf ? pass : NULL, strlen(pass), &k)) != 0) {
		fprintf(stderr, "famsign: %s: %s\n", argv[1], baton_diag());
		return 1;
	}
	r = baton_login_sign(school, argv[3], nonce, baton_key_id_sk(k), sig);
	baton_key_free(k);
	sodium_memzero(pass, sizeof(pass));
	if (r != 0) {
		fprintf(stderr, "famsign: %s\n", baton_diag());
		return 1;
	}
	sodium_bin2hex(hex, sizeof(hex), sig, sizeof(sig));
	printf("%s\n", hex);
	return 0;
}

/*
 * dirsign: an authority's signed directory, made with a key derived from a
 * word, for tests/cli/directory.sh; it also makes what 'baton authority'
 * refuses to (a version gone back, a window in the past or the future).
 *
 *   dirsign key WORD
 *       prints the authority's key line and fingerprint, one a line
 *   dirsign sign WORD NAME VERSION ISSUED EXPIRES OUT [-c CARDFILE]... [-w CARDFILE]...
 *       writes to OUT the directory with the members -c and, withdrawn,
 *       the identity keys of the cards -w
 *   dirsign many WORD NAME VERSION ISSUED EXPIRES OUT N CARDFILE
 *       writes to OUT a directory of N members (at most 65536), each the
 *       card CARDFILE with the code M00000.. and an identity key of its own
 *
 * The key's seed is BLAKE2b-256 of WORD. Exits 0, or 1 with the reason on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <baton/baton.h>
#include <sodium.h>

#define MAX_CARDS 64

static void keypair(const char *word, uint8_t pk[32], uint8_t sk[64])
{
	uint8_t seed[32];
	crypto_generichash(seed, sizeof(seed), (const uint8_t *)word, strlen(word), NULL, 0);
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_memzero(seed, sizeof(seed));
}

static int read_card(const char *path, uint8_t **buf, size_t *len, baton_card *c)
{
	int r;
	if ((r = baton_file_read(path, BATON_OBJ_MAX, buf, len)) != 0 ||
	    (r = baton_card_parse(*buf, *len, c)) != 0) {
		fprintf(stderr, "dirsign: %s: %s\n", path, baton_diag());
		return 1;
	}
	return 0;
}

static int write_out(const char *path, const uint8_t *out, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(out, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "dirsign: %s: cannot write\n", path);
		return 1;
	}
	return 0;
}

/* dirsign many: argv as in the usage above. */
static int many(char **argv)
{
	unsigned long n = strtoul(argv[8], NULL, 10);
	uint8_t pk[32], sk[64], *tmpl = NULL, **cards = NULL, *out = NULL;
	size_t tlen = 0, *lens = NULL, olen = 0, done = 0;
	baton_card c;
	int rc = 1;

	if (n == 0 || n > BATON_DIRECTORY_MEMBERS_MAX) {
		fprintf(stderr, "dirsign: N: %s (1 to %u)\n", argv[8], BATON_DIRECTORY_MEMBERS_MAX);
		return 1;
	}
	if (read_card(argv[9], &tmpl, &tlen, &c) != 0)
		return 1;
	if ((cards = calloc(n, sizeof(*cards))) == NULL ||
	    (lens = calloc(n, sizeof(*lens))) == NULL)
		goto out;
	for (; done < n; done++) {
		char word[64];
		snprintf(word, sizeof(word), "%s member %zu", argv[2], done);
		keypair(word, pk, sk);
		memcpy(c.id_pk, pk, 32);
		snprintf(c.code, sizeof(c.code), "M%05zu", done);
		if (baton_card_sign(&c, sk, &cards[done], &lens[done]) != 0) {
			fprintf(stderr, "dirsign: card %zu: %s\n", done, baton_diag());
			goto out;
		}
	}
	keypair(argv[2], pk, sk);
	if (baton_directory_sign(argv[3], strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10),
	                         strtoull(argv[6], NULL, 10), (const uint8_t *const *)cards, lens,
	                         n, NULL, 0, sk, &out, &olen) != 0) {
		fprintf(stderr, "dirsign: %s\n", baton_diag());
		goto out;
	}
	rc = write_out(argv[7], out, olen);
out:
	sodium_memzero(sk, sizeof(sk));
	for (size_t i = 0; i < done && cards; i++)
		free(cards[i]);
	free(cards);
	free(lens);
	free(tmpl);
	free(out);
	return rc;
}

int main(int argc, char **argv)
{
	uint8_t pk[32], sk[64], *cards[MAX_CARDS] = {NULL}, wd[MAX_CARDS * 32], *out = NULL;
	size_t lens[MAX_CARDS], nc = 0, nw = 0, n = 0;
	char line[BATON_PUBKEY_TEXT_MAX], fpr[BATON_FINGERPRINT_LEN + 1];
	baton_card c;
	int rc = 1;

	if (baton_init() != 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "key") == 0) {
		keypair(argv[2], pk, sk);
		sodium_memzero(sk, sizeof(sk));
		if (baton_pubkey_format(BATON_PUBKEY_AUTHORITY, pk, line) != 0)
			return 1;
		baton_fingerprint(pk, fpr);
		printf("%s\n%s\n", line, fpr);
		return 0;
	}
	if (argc == 10 && strcmp(argv[1], "many") == 0)
		return many(argv);
	if (argc < 8 || strcmp(argv[1], "sign") != 0 || (argc - 8) % 2 != 0) {
		fprintf(stderr, "usage: dirsign key WORD | dirsign sign WORD NAME VERSION ISSUED "
		                "EXPIRES OUT [-c CARDFILE]... [-w CARDFILE]...\n"
		                "       dirsign many WORD NAME VERSION ISSUED EXPIRES OUT N "
		                "CARDFILE\n");
		return 1;
	}
	for (int i = 8; i < argc; i += 2) {
		uint8_t *b = NULL;
		size_t len = 0;
		if (nc >= MAX_CARDS || nw >= MAX_CARDS || read_card(argv[i + 1], &b, &len, &c) != 0)
			goto out;
		if (strcmp(argv[i], "-c") == 0) {
			cards[nc] = b;
			lens[nc++] = len;
		} else if (strcmp(argv[i], "-w") == 0) {
			memcpy(wd + 32 * nw++, c.id_pk, 32);
			free(b);
		} else {
			free(b);
			fprintf(stderr, "dirsign: %s: -c or -w expected\n", argv[i]);
			goto out;
		}
	}
	keypair(argv[2], pk, sk);
	if (baton_directory_sign(argv[3], strtoull(argv[4], NULL, 10), strtoull(argv[5], NULL, 10),
	                         strtoull(argv[6], NULL, 10), (const uint8_t *const *)cards, lens,
	                         nc, wd, nw, sk, &out, &n) != 0) {
		fprintf(stderr, "dirsign: %s\n", baton_diag());
		goto out;
	}
	rc = write_out(argv[7], out, n);
out:
	sodium_memzero(sk, sizeof(sk));
	for (size_t i = 0; i < nc; i++)
		free(cards[i]);
	free(out);
	return rc;
}

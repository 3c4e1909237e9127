/*
 * dirdump: reads a directory file (PROTOCOL.md 3.14) with
 * baton_directory_parse and prints what it holds, one fact a line, for
 * tests/cli/authority.sh:
 *
 *   dirdump FILE
 *
 *   name State Board
 *   authority FINGERPRINT
 *   version 3
 *   issued 1800000000
 *   expires 1802592000
 *   member CODE FINGERPRINT     (in the directory's order)
 *   withdrawn FINGERPRINT       (in the directory's order)
 *
 * Exits 0, or 1 with the error's name and reason on stderr.
 */
#include <stdio.h>
#include <stdlib.h>

#include <baton/baton.h>

int main(int argc, char **argv)
{
	char fpr[BATON_FINGERPRINT_LEN + 1];
	baton_directory d;
	uint8_t *buf;
	size_t len;
	int r;

	if (argc != 2) {
		fprintf(stderr, "usage: dirdump FILE\n");
		return 1;
	}
	if (baton_init() != 0)
		return 1;
	if ((r = baton_file_read(argv[1], BATON_DIRECTORY_MAX, &buf, &len)) != 0 ||
	    (r = baton_directory_parse(buf, len, &d)) != 0) {
		fprintf(stderr, "dirdump: %s: %s: %s\n", argv[1], baton_errname(r), baton_diag());
		return 1;
	}
	baton_fingerprint(d.authority, fpr);
	printf("name %s\nauthority %s\nversion %llu\nissued %llu\nexpires %llu\n", d.name, fpr,
	       (unsigned long long)d.version, (unsigned long long)d.issued,
	       (unsigned long long)d.expires);
	for (size_t i = 0; i < d.n_members; i++) {
		baton_fingerprint(d.members[i].parsed.id_pk, fpr);
		printf("member %s %s\n", d.members[i].parsed.code, fpr);
	}
	for (size_t i = 0; i < d.n_withdrawn; i++) {
		baton_fingerprint(d.withdrawn + 32 * i, fpr);
		printf("withdrawn %s\n", fpr);
	}
	baton_directory_free(&d);
	free(buf);
	return 0;
}

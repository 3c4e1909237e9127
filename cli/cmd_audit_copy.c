/*
 * baton audit copy --student ID --out FILE: the signed copy of a student's
 * record of disclosures, for the family (PROTOCOL.md 3.13). baton audit
 * check FILE: verifies one offline against the school's key line or card,
 * and with --against against this node's own log.
 */
#include <string.h>

#include <sodium.h>

#include <baton/disclosures.h>

#include "bti.h"
#include "cli.h"
#include "disclosure_copy.h"

static int copy_usage(FILE *f)
{
	fprintf(f, "usage: baton audit copy --student ID --out FILE [--dir DIR]\n\n"
	           "Writes the record of disclosures of one student, signed by this school's\n"
	           "key and tied to its audit log, for the family ('baton audit check FILE'\n"
	           "verifies it anywhere).\n");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

int cmd_audit_copy(int argc, char **argv)
{
	static const struct option opts[] = {{"student", required_argument, NULL, 's'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *student = NULL, *out = NULL;
	char line[BATON_PUBKEY_TEXT_MAX];
	baton_key *key = NULL;
	uint8_t *file = NULL;
	size_t len = 0;
	store *st;
	int opt, r, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 's' || opt == 'o') {
			*(opt == 's' ? &student : &out) = optarg;
			continue;
		}
		return copy_usage(opt == 'h' ? stdout : stderr);
	}
	if (optind != argc)
		return cli_usage_error("audit copy: unexpected \"%s\"", argv[optind]);
	if (!student || !out)
		return cli_usage_error("audit copy: --student and --out are required");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if ((rc = cli_load_school_key(&com, &key)) != EXIT_OK) {
		store_close(st);
		return rc;
	}
	r = disclosure_copy_make(st, key, student, NULL, cli_now(), &file, &len);
	baton_pubkey_format(BATON_PUBKEY_SCHOOL_ID, baton_key_id_pk(key), line);
	baton_key_free(key);
	store_close(st);
	if (r == 0)
		r = baton_file_create(out, file, len, 0644);
	free(file);
	if (r != 0)
		return cli_fail("audit copy", r);
	printf("Wrote the signed record of disclosures of %s to %s\n", student, out);
	printf("Check it with: baton audit check %s --key %s\n", out, line);
	return EXIT_OK;
}

/* ---- check ---- */

static void print_copy(const baton_disclosures *d)
{
	char fp[BATON_FINGERPRINT_LEN + 1], secs[160], line[BATON_PUBKEY_TEXT_MAX];
	baton_fingerprint(d->school, fp);
	baton_pubkey_format(BATON_PUBKEY_SCHOOL_ID, d->school, line);
	printf("Record of disclosures of student %s\n", d->student);
	printf("signed by %s (%s), key %s\n  %s\n", d->name, d->code, fp, line);
	printf("made %s", cli_time(d->time));
	printf("; the school's audit log then held %llu entries (head signed %s)\n",
	       (unsigned long long)d->head.count, cli_time(d->head.time));
	if (d->count == 0)
		printf("No disclosures.\n");
	for (size_t i = d->count; i-- > 0;) {
		const baton_disclosure *x = &d->entry[i];
		baton_sections_format(x->sections, secs, sizeof(secs));
		printf("\n%s  to %s%s%s%s", cli_time(x->time),
		       x->to_name[0] ? x->to_name : x->to_code, x->to_name[0] ? " (" : "",
		       x->to_name[0] ? x->to_code : "", x->to_name[0] ? ")" : "");
		if (x->has_to) {
			baton_fingerprint(x->to, fp);
			printf(", key %s", fp);
		}
		printf("\n  sections: %s\n  basis: %s", secs, x->basis);
		if (x->has_consent)
			printf(", consent %s", cli_hex(x->consent, BATON_ID_BYTES));
		printf("\n");
		if (x->has_packet)
			printf("  packet %s", cli_hex(x->packet, BATON_ID_BYTES));
		if (x->has_packet_hash)
			printf(", hash %s", cli_hex(x->packet_hash, BATON_HASH_BYTES));
		printf("%sreceipt: %s\n", x->has_packet ? "\n  " : "  ", x->receipt);
		printf("  by: %s\n", x->by[0] ? x->by : "command line");
		printf("  audit log entry %llu, hash %s\n", (unsigned long long)x->seq,
		       cli_hex(x->hash, BATON_HASH_BYTES));
	}
}

static int check_usage(FILE *f)
{
	fprintf(f,
	        "usage: baton audit check FILE [--key LINE | --card CARDFILE] [--against DIR]\n\n"
	        "Verifies a school's signed record of disclosures ('baton audit copy', or\n"
	        "the family's pages) and prints it. --key (the school's baton-sid1- line)\n"
	        "or --card (its card file) names the school it must come from; no node\n"
	        "directory is needed. --against DIR also checks it against the log of\n"
	        "the node in DIR: signed by that school, and every entry in its log,\n"
	        "unchanged.\n"
	        "Exit 2 when the copy is refused, naming what failed.\n");
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

static int refused(const char *path, int r)
{
	const char *d = baton_diag_for(r);
	fprintf(stderr, "baton: audit check: %s: REFUSED (%s): %s\n", path, baton_errname(r),
	        d[0] ? d : baton_strerror(r));
	bti_diag_clear();
	return r == BATON_ENOMEM || r == BATON_EIO ? cli_exit_code(r) : EXIT_REJECTED;
}

int cmd_audit_check(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'k'},
	                                     {"card", required_argument, NULL, 'c'},
	                                     {"against", required_argument, NULL, 'a'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *keyline = NULL, *cardfile = NULL, *path, *node = NULL;
	uint8_t want[BATON_PK_BYTES], *buf = NULL;
	baton_disclosures d;
	baton_card card;
	size_t len = 0;
	int opt, r, rc, against = 0, have = 0;
	store *st;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'k' || opt == 'c') {
			*(opt == 'k' ? &keyline : &cardfile) = optarg;
			continue;
		}
		if (opt == 'a') {
			against = 1;
			node = optarg;
			continue;
		}
		return check_usage(opt == 'h' ? stdout : stderr);
	}
	if (optind + 1 != argc)
		return cli_usage_error(optind < argc ? "audit check: one FILE, not \"%s\""
		                                     : "audit check: the FILE to check is required",
		                       optind < argc ? argv[optind + 1] : "");
	path = argv[optind];
	if ((keyline && cardfile) || (!keyline && !cardfile && !against))
		return cli_usage_error("audit check: name the school with --key or --card (one), "
		                       "or check against a node's log with --against DIR");
	memset(&card, 0, sizeof(card));
	if (keyline && (r = baton_pubkey_parse(BATON_PUBKEY_SCHOOL_ID, keyline, want)) != 0)
		return cli_usage_error("audit check: --key: %s",
		                       baton_diag()[0] ? baton_diag() : baton_strerror(r));
	if (cardfile) {
		if ((r = baton_file_read(cardfile, BATON_OBJ_MAX, &buf, &len)) != 0)
			return cli_fail(cardfile, r);
		r = baton_card_parse(buf, len, &card);
		free(buf);
		buf = NULL;
		if (r != 0)
			return cli_fail(cardfile, r);
		memcpy(want, card.id_pk, BATON_PK_BYTES);
	}
	have = keyline || cardfile;
	if ((r = baton_file_read(path, BATON_DISCLOSURES_FILE_MAX, &buf, &len)) != 0)
		return r == BATON_EIO || r == BATON_ENOMEM ? cli_fail(path, r) : refused(path, r);
	r = baton_disclosures_parse(buf, len, &d);
	free(buf);
	if (r != 0)
		return refused(path, r);
	if (have && sodium_memcmp(d.school, want, BATON_PK_BYTES) != 0) {
		char fp[BATON_FINGERPRINT_LEN + 1];
		baton_fingerprint(d.school, fp);
		r = bti_diag_err(BATON_EBADSIG,
		                 "signed by the key %s (%s), not the school's key given with %s",
		                 fp, d.code, keyline ? "--key" : "--card");
	} else if (cardfile && strcmp(card.code, d.code) != 0) {
		r = bti_diag_err(BATON_EVALUE, "disclosures.code: %s, the card says %s", d.code,
		                 card.code);
	}
	if (r != 0) {
		baton_disclosures_free(&d);
		return refused(path, r);
	}
	if (against) {
		com.dir = node;
		if ((rc = cli_open_store(&com, &st)) != EXIT_OK) {
			baton_disclosures_free(&d);
			return rc;
		}
		r = disclosure_copy_against(st, &d);
		store_close(st);
		if (r != 0) {
			baton_disclosures_free(&d);
			if (r == BATON_ENOMEM || r == BATON_EIO)
				return cli_fail("audit check", r);
			return refused(path, r);
		}
	}
	print_copy(&d);
	printf("\nOK: %s verifies: signed by %s (%s)%s\n", path, d.name, d.code,
	       against ? ", and every entry is in this node's audit log, unchanged" : "");
	baton_disclosures_free(&d);
	return EXIT_OK;
}

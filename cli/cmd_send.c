/*
 * baton send: seals a consented record for another school, as a file to
 * carry or in the outbox for 'baton serve'; with --consents, a whole cohort.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"

#define SKEW 300

#define COHORT_BATCH 64 /* students sealed per transaction */

static int consent_file_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 8 && strcmp(d->d_name + n - 8, ".consent") == 0;
}

/*
 * Sends a whole cohort, one packet per consent file, COHORT_BATCH per
 * transaction. Every file is read first: one that cannot be read stops the
 * cohort before any student is sent.
 */
static int send_cohort(const struct cli_common *com, const char *dir, const char *to,
                       uint32_t sections, int again)
{
	struct dirent **names = NULL;
	struct send_req *s = NULL;
	uint8_t **bytes = NULL;
	size_t *lens = NULL;
	baton_key *key = NULL;
	store *st = NULL;
	size_t sent = 0, refused = 0, skipped = 0, dlen = strlen(dir);
	const char *sep = dlen && dir[dlen - 1] == '/' ? "" : "/";
	int n, rc, r = 0;

	if ((n = scandir(dir, &names, consent_file_name, alphasort)) < 0)
		return cli_fail(NULL, bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno)));
	if (n == 0) {
		free(names);
		return cli_fail(NULL, bti_diag_err(BATON_EVALUE, "%s: no *.consent files", dir));
	}
	if ((s = calloc(COHORT_BATCH, sizeof(*s))) == NULL ||
	    (bytes = calloc((size_t)n, sizeof(*bytes))) == NULL ||
	    (lens = calloc((size_t)n, sizeof(*lens))) == NULL) {
		rc = cli_fail(NULL, BATON_ENOMEM);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s%s%s", dir, sep, names[i]->d_name);
		if ((r = baton_file_read(path, BATON_OBJ_MAX, &bytes[i], &lens[i])) != 0) {
			rc = cli_fail("send", r); /* the error names the file */
			printf("Nothing was sent.\n");
			goto out;
		}
	}
	if ((rc = cli_open_store(com, &st)) != EXIT_OK ||
	    (rc = cli_load_school_key(com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	for (int at = 0; at < n && r == 0; at += COHORT_BATCH) {
		size_t k = (size_t)(n - at < COHORT_BATCH ? n - at : COHORT_BATCH);
		for (size_t i = 0; i < k; i++) {
			memset(&s[i], 0, sizeof(s[i]));
			/* No student: the one the consent names, once its signature verifies. */
			s[i].student = NULL;
			s[i].consent = bytes[at + (int)i];
			s[i].consent_len = lens[at + (int)i];
			s[i].to_code = to;
			s[i].sections = sections;
			s[i].again = again;
			s[i].key = key;
			s[i].node_dir = cli_dir(com);
			s[i].now = cli_now();
			s[i].skew = SKEW;
		}
		if ((r = transfer_send_many(st, s, k)) != 0)
			break;
		for (size_t i = 0; i < k; i++) {
			if (s[i].skipped) {
				skipped++;
				printf("%-12s skipped: %s\n", s[i].student, s[i].why);
			} else if (s[i].refused) {
				/* A consent that does not verify names no student: its file does.
				 */
				refused++;
				printf("%-12s refused (%s): %s\n",
				       s[i].student ? s[i].student : names[at + (int)i]->d_name,
				       baton_errname(s[i].refused), s[i].why);
			} else {
				sent++;
				printf("%-12s packet %s queued, %llu bytes\n", s[i].student,
				       cli_hex(s[i].info.id, BATON_ID_BYTES),
				       (unsigned long long)s[i].info.len);
			}
		}
	}
	if (r != 0) {
		rc = cli_fail("send", r);
		printf("%zu sealed and queued before the error; the rest were not sent\n", sent);
		goto out;
	}
	printf("%zu of %d students sealed for %s and queued for 'baton serve'; %zu refused\n", sent,
	       n, to, refused);
	if (skipped)
		printf("%zu already sent under the same consent and not sent again (--again sends "
		       "them anyway)\n",
		       skipped);
	rc = refused ? EXIT_REJECTED : EXIT_OK;
out:
	for (int i = 0; i < n; i++) {
		if (bytes)
			free(bytes[i]);
		free(names[i]);
	}
	free(names);
	free(bytes);
	free(lens);
	free(s);
	store_close(st);
	baton_key_free(key);
	return rc;
}

static int send_cmd(int argc, char **argv)
{
	static const struct option opts[] = {{"to", required_argument, NULL, 't'},
	                                     {"consent", required_argument, NULL, 'c'},
	                                     {"sections", required_argument, NULL, 'S'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"consents", required_argument, NULL, 'C'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     {"again", no_argument, NULL, 'A'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct send_req s;
	const char *consent_file = NULL, *out = NULL, *cohort = NULL;
	uint8_t *consent = NULL;
	baton_key *key = NULL;
	store *st = NULL;
	int opt, r, rc;

	memset(&s, 0, sizeof(s));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		switch (opt) {
		case 't':
			s.to_code = optarg;
			break;
		case 'c':
			consent_file = optarg;
			break;
		case 'S':
			if ((r = baton_sections_parse(optarg, &s.sections)) != 0)
				return cli_fail("--sections", r);
			break;
		case 'o':
			out = optarg;
			break;
		case 'C':
			cohort = optarg;
			break;
		case 'F':
			s.force = 1;
			break;
		case 'A':
			s.again = 1;
			break;
		default:
			fprintf(
			    opt == 'h' ? stdout : stderr,
			    "usage: baton send STUDENT_ID --to CODE --consent FILE [--sections "
			    "LIST]\n                  [--out PACKET [--force]] [--again] [--dir "
			    "DIR]\n"
			    "       baton send --to CODE --consents DIR [--sections LIST] "
			    "[--again] "
			    "[--dir DIR]\n\n"
			    "Checks the consent against every release rule, then seals the\n"
			    "consented sections, their attachments, the consent and the "
			    "guardians'\nkeys for the school CODE. With --out the packet is a "
			    "file to carry\n(an existing PACKET is replaced only with --force); "
			    "otherwise it waits\nin the outbox for 'baton serve'.\nWith "
			    "--consents, every *.consent file in DIR is sent, each "
			    "to the\nstudent it names (a class moving on together).\n"
			    "A record already queued, sent or receipted for CODE under the same\n"
			    "consent is not sent again, and is listed as skipped, unless "
			    "--again.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (s.force && !out)
		return cli_usage_error("send: --force goes with --out");
	if (cohort && (optind != argc || !s.to_code || consent_file || out))
		return cli_usage_error("send: --consents DIR takes --to CODE, and no student, "
		                       "--consent or --out");
	if (cohort)
		return send_cohort(&com, cohort, s.to_code, s.sections, s.again);
	if (optind + 1 != argc || !s.to_code || !consent_file)
		return cli_usage_error(
		    "send: STUDENT_ID, --to CODE and --consent FILE are required");
	s.student = argv[optind];
	if ((r = baton_file_read(consent_file, BATON_OBJ_MAX, &consent, &s.consent_len)) != 0)
		return cli_fail(NULL, r);
	s.consent = consent;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK ||
	    (rc = cli_load_school_key(&com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	s.key = key;
	s.out = out;
	s.node_dir = cli_dir(&com);
	s.now = cli_now();
	s.skew = SKEW;
	rc = cli_sent(&s, transfer_send(st, &s));
out:
	store_close(st);
	baton_key_free(key);
	free(consent);
	return rc;
}

int cli_sent(const struct send_req *s, int r)
{
	if (r == 0 && s->skipped) {
		fprintf(stderr, "baton: %s: %s\n", s->student, s->why);
		return EXIT_REJECTED;
	}
	if (r == 0 && s->refused) {
		fprintf(stderr, "baton: release refused (%s): %s\n", baton_errname(s->refused),
		        baton_diag());
		return EXIT_REJECTED;
	}
	if (r != 0)
		return cli_fail("send", r);
	char secs[200];
	baton_sections_format(s->q.release, secs, sizeof(secs));
	/* cli_hex has one buffer: one call per printf. */
	printf("Sealed %s's record for %s: %s\n  packet %s, %llu bytes%s%s\n", s->student,
	       s->to_code, secs, cli_hex(s->info.id, BATON_ID_BYTES),
	       (unsigned long long)s->info.len,
	       s->out       ? ", written to "
	       : s->path[0] ? ", queued for 'baton serve' as "
	                    : ", queued for 'baton serve'",
	       s->path);
	printf("  hash   %s\n", cli_hex(s->info.hash, BATON_HASH_BYTES));
	return EXIT_OK;
}

int cmd_send(int argc, char **argv)
{
	return send_cmd(argc, argv);
}

/*
 * baton request: the receiving school asks another school for a record,
 * carrying the family's consent, as a packet delivered by 'baton serve' or
 * a file to carry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"

#define SKEW 300

static const char request_usage[] =
    "usage: baton request --from CODE --consent FILE [--sections LIST]\n"
    "                     [--note TEXT] [--out PACKET [--force]] [--dir DIR]\n"
    "       baton request --from CODE --student ID --enrolling --name \"GIVEN FAMILY\"\n"
    "                     --birth-date YYYY-MM-DD [--sections LIST] [--note TEXT]\n"
    "                     [--out PACKET [--force]] [--dir DIR]\n\n"
    "With --enrolling, the request carries this school's signed statement that\n"
    "the student (ID at CODE, with the name and birth date this school has) is\n"
    "enrolling here, in place of a consent (34 CFR 99.31(a)(2)); CODE releases\n"
    "on it only if its policy allows, and without sensitive sections unless\n"
    "its policy names them.\n\n"
    "Asks the school CODE for a student's record, carrying the family's\n"
    "consent (which names the student and the sections). The request is\n"
    "queued for 'baton serve', or written to PACKET with --out. That school\n"
    "sends the record, or a signed refusal, when it decides.\n";

/* Parses request's command line into com, s and the consent file. Returns -1 to go on, or the exit
 * code. */
static int request_options(int argc, char **argv, struct cli_common *com, struct send_req *s,
                           const char **consent_file)
{
	static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
	                                     {"consent", required_argument, NULL, 'c'},
	                                     {"sections", required_argument, NULL, 'S'},
	                                     {"note", required_argument, NULL, 'n'},
	                                     {"out", required_argument, NULL, 'o'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     {"enrolling", no_argument, NULL, 'E'},
	                                     {"student", required_argument, NULL, 's'},
	                                     {"name", required_argument, NULL, 'N'},
	                                     {"birth-date", required_argument, NULL, 'B'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	static char names[2][BATON_PERSON_NAME_MAX + 1]; /* given, family */
	const char *name = NULL;
	int opt, r, enrolling = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(com, opt, optarg))
			continue;
		if (opt == 'S' && (r = baton_sections_parse(optarg, &s->sections)) != 0)
			return cli_fail("--sections", r);
		else if (opt == 'f' || opt == 'c' || opt == 'n' || opt == 'o')
			*(opt == 'f'   ? &s->to_code
			  : opt == 'c' ? consent_file
			  : opt == 'n' ? &s->note
			               : &s->out) = optarg;
		else if (opt == 'F')
			s->force = 1;
		else if (opt == 'E')
			enrolling = 1;
		else if (opt == 's' || opt == 'N' || opt == 'B')
			*(opt == 's'   ? &s->enrol_student
			  : opt == 'N' ? &name
			               : &s->enrol_birth) = optarg;
		else if (opt != 'S') {
			fputs(request_usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (enrolling) {
		if (optind != argc || !s->to_code || *consent_file || !s->enrol_student || !name ||
		    !s->enrol_birth)
			return cli_usage_error(
			    "request --enrolling: --from CODE, --student ID, --name "
			    "\"GIVEN FAMILY\" and --birth-date YYYY-MM-DD are "
			    "required, and no --consent");
		/* "Family, Given", or "Given ... Family": the family name is the last word. */
		const char *comma = strchr(name, ','), *sp = strrchr(name, ' ');
		if (comma || sp) {
			size_t k = comma ? (size_t)(comma - name) : (size_t)(sp - name);
			const char *rest = (comma ? comma : sp) + 1;
			while (*rest == ' ')
				rest++;
			snprintf(names[comma ? 1 : 0], sizeof(names[0]), "%.*s", (int)k, name);
			snprintf(names[comma ? 0 : 1], sizeof(names[0]), "%s", rest);
		}
		if (!names[0][0] || !names[1][0])
			return cli_usage_error("request: --name needs a given and a family name "
			                       "(\"Jonah Fitzgerald\" or \"Fitzgerald, Jonah\")");
		s->enrol_given = names[0];
		s->enrol_family = names[1];
		return -1;
	}
	if (s->enrol_student || name || s->enrol_birth)
		return cli_usage_error("request: --student, --name and --birth-date go with "
		                       "--enrolling");
	if (optind != argc || !s->to_code || !*consent_file)
		return cli_usage_error("request: --from CODE and --consent FILE are required");
	if (s->force && !s->out)
		return cli_usage_error("request: --force goes with --out");
	if (s->note && (s->note[0] == 0 || strlen(s->note) > BATON_NOTE_MAX))
		return cli_usage_error("request: --note must be 1 to %d bytes", BATON_NOTE_MAX);
	return -1;
}

int cmd_request(int argc, char **argv)
{
	struct cli_common com = {0};
	struct send_req s;
	const char *consent_file = NULL;
	uint8_t *consent = NULL;
	baton_key *key = NULL;
	store *st = NULL;
	int r, rc;

	memset(&s, 0, sizeof(s));
	if ((rc = request_options(argc, argv, &com, &s, &consent_file)) >= 0)
		return rc;
	if (consent_file &&
	    (r = baton_file_read(consent_file, BATON_OBJ_MAX, &consent, &s.consent_len)) != 0)
		return cli_fail(NULL, r);
	s.consent = consent;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK ||
	    (rc = cli_load_school_key(&com, &key)) != EXIT_OK)
		goto out;
	store_set_audit_signer(st, key);
	s.key = key;
	s.node_dir = cli_dir(&com);
	s.now = cli_now();
	s.skew = SKEW;
	if ((r = transfer_request(st, &s)) != 0) {
		rc = cli_fail(consent_file ? consent_file : "request", r);
		goto out;
	}
	char secs[200];
	baton_sections_format(s.release, secs, sizeof(secs));
	printf("Asked %s for a record: %s\n  request %s%s%s\n", s.to_code, secs,
	       cli_hex(s.info.id, BATON_ID_BYTES),
	       s.out       ? ", written to "
	       : s.path[0] ? ", queued for 'baton serve' as "
	                   : ", queued for 'baton serve'",
	       s.path);
	rc = EXIT_OK;
out:
	store_close(st);
	baton_key_free(key);
	free(consent);
	return rc;
}

/* A request named by its id, or by a prefix of at least 8 hex digits naming only one. */

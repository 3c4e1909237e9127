/*
 * baton policy: whether requests from other schools are released at once
 * or held for the registrar.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include <getopt.h>

#include "cli.h"
#include "bti.h"
#include "enrolment.h"
#include "terms.h"
#include "transfer.h"

/* Reads at most max bytes of path into buf (cap > max); more is BATON_EVALUE. Final newlines
 * are not part of the text. */
static int read_text(const char *path, const char *what, char *buf, size_t cap, size_t max,
                     size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, max + 1, f);
	int bad = ferror(f);
	fclose(f);
	if (bad)
		return bti_diag_err(BATON_EIO, "%s: cannot read", path);
	if (n > max)
		return bti_diag_err(BATON_EVALUE, "%s: %s longer than %zu bytes", path, what, max);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n < cap ? n : cap - 1] = '\0';
	*len = n;
	return 0;
}

/* baton policy terms [--file F]: this school's redisclosure terms, set or shown. */
static int policy_terms(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"file", required_argument, NULL, 'f'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *file = NULL;
	store *st;
	int opt, r, rc, is_default = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'f') {
			file = optarg;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton policy terms [--file FILE] [--json] [--dir DIR]\n\n"
		        "The redisclosure terms (34 CFR 99.33) sent with every record this\n"
		        "school discloses; the receiving school keeps them with the record\n"
		        "and its signed receipt names their hash. With --file, FILE's text\n"
		        "(UTF-8, at most %d bytes) becomes the terms; without, they are shown.\n",
		        BATON_TERMS_MAX);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("policy terms: no arguments expected (the text comes "
		                       "from --file)");
	char *text = NULL;
	size_t len = 0;
	if (file) {
		char buf[BATON_TERMS_MAX + 2];
		if ((r = read_text(file, "the terms are", buf, sizeof(buf), BATON_TERMS_MAX,
		                   &len)) != 0 ||
		    (r = terms_check(buf, len)) != 0)
			return cli_fail("policy terms", r);
		if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
			return rc;
		r = terms_set(st, buf, len);
		store_close(st);
		if (r != 0)
			return cli_fail("policy terms", r);
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = terms_get(st, &text, &len, &is_default);
	store_close(st);
	if (r != 0)
		return cli_fail("policy terms", r);
	if (com.json)
		cli_print_json(json_pack("{s:s, s:b}", "terms", text, "default", is_default));
	else
		printf("redisclosure terms%s:\n%s\n", is_default ? " (the default)" : "", text);
	free(text);
	return EXIT_OK;
}

static void enrol_print(const struct enrol_policy *p, int json)
{
	char secs[160] = "none";
	if (p->sensitive)
		baton_sections_format(p->sensitive, secs, sizeof(secs));
	if (json) {
		cli_print_json(json_pack("{s:b, s:s, s:s}", "on", p->on, "sensitive",
		                         p->sensitive ? secs : "", "notice", p->notice));
		return;
	}
	printf("enrolment exception %s (34 CFR 99.31(a)(2)): %s\n", p->on ? "on" : "off",
	       p->on ? "a request on the enrolling school's signed statement is released at once "
	               "when it names the child on file"
	             : "a request on an enrolment statement waits for the registrar, who cannot "
	               "release it without a consent");
	printf("sensitive sections released on a statement: %s\n", secs);
	if (p->notice[0])
		printf("annual notice:\n%s\n", p->notice);
	else
		printf("annual notice: none set\n");
}

/* baton policy enrolment-exception [on|off] [--notice-file F] [--sensitive LIST]. */
static int policy_enrolment(int argc, char **argv)
{
	static const struct option opts[] = {{"notice-file", required_argument, NULL, 'f'},
	                                     {"sensitive", required_argument, NULL, 'S'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *file = NULL, *sens = NULL;
	struct enrol_policy p;
	uint32_t mask = 0;
	store *st;
	int opt, r, rc;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'f' || opt == 'S') {
			*(opt == 'f' ? &file : &sens) = optarg;
			continue;
		}
		fprintf(opt == 'h' ? stdout : stderr,
		        "usage: baton policy enrolment-exception [on|off] [--notice-file FILE]\n"
		        "                     [--sensitive LIST|none] [--json] [--dir DIR]\n\n"
		        "The enrolment exception (34 CFR 99.31(a)(2)): with it on, a request\n"
		        "carrying the enrolling school's signed statement is released at once\n"
		        "when it names the child on file, without sensitive sections unless\n"
		        "--sensitive names them. It is on only with the school's annual notice\n"
		        "to families (--notice-file: UTF-8 text, at most %d bytes). Off by\n"
		        "default; without on|off the policy is shown.\n",
		        ENROL_NOTICE_MAX);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	int set = optind < argc;
	if (argc - optind > 1 ||
	    (set && strcmp(argv[optind], "on") != 0 && strcmp(argv[optind], "off") != 0))
		return cli_usage_error("policy enrolment-exception: expected 'on' or 'off'");
	if (!set && (file || sens))
		return cli_usage_error("policy enrolment-exception: --notice-file and --sensitive "
		                       "go with 'on' or 'off'");
	if (sens && strcmp(sens, "none") != 0 && (r = baton_sections_parse(sens, &mask)) != 0)
		return cli_fail("--sensitive", r);
	if (set) {
		char buf[ENROL_NOTICE_MAX + 2];
		size_t len = 0;
		if (file && ((r = read_text(file, "the notice is", buf, sizeof(buf),
		                            ENROL_NOTICE_MAX, &len)) != 0))
			return cli_fail("policy enrolment-exception", r);
		if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
			return rc;
		r = enrolment_policy_set(st, strcmp(argv[optind], "on") == 0, sens ? &mask : NULL,
		                         file ? buf : NULL, len);
		store_close(st);
		if (r != 0)
			return cli_fail("policy enrolment-exception", r);
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = enrolment_policy_get(st, &p);
	store_close(st);
	if (r != 0)
		return cli_fail("policy enrolment-exception", r);
	enrol_print(&p, com.json);
	return EXIT_OK;
}

int cmd_policy(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "terms") == 0)
		return policy_terms(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "enrolment-exception") == 0)
		return policy_enrolment(argc - 1, argv + 1);

	struct cli_common com = {0};
	store *st;
	int r, rc, on;

	if (argc > 1 && strcmp(argv[1], "retention") == 0)
		return cmd_policy_retention(argc - 1, argv + 1);
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton policy [auto-release on|off] [--dir DIR]\n"
	                          "       baton policy retention [DAYS] [--dir DIR]\n"
	                          "       baton policy terms [--file FILE] [--dir DIR]\n"
	                          "       baton policy enrolment-exception [on|off] "
	                          "[--notice-file FILE]\n"
	                          "                    [--sensitive LIST|none] [--dir DIR]\n\n"
	                          "With auto-release on, a request whose consent passes every "
	                          "release\nrule is answered at once; off (the default), it waits "
	                          "for 'baton\nrelease' or 'baton deny'.\n\n"
	                          "retention: how many days a record received from another "
	                          "school and\nnever enrolled is kept (default 90; see 'baton "
	                          "student erase --expired').\n"
	                          "terms: the redisclosure terms (34 CFR 99.33) sent with every "
	                          "record;\nthe receiving school's receipt names their hash.\n"
	                          "enrolment-exception: release without the family's consent to "
	                          "a school\nthat signs that the student is enrolling there (34 "
	                          "CFR 99.31(a)(2));\noff by default, on only with the school's "
	                          "annual notice (--notice-file),\nand sensitive sections only "
	                          "when --sensitive names them.\n")) >= 0)
		return rc;
	int set = argc - optind == 2;
	if (!(argc == optind || set) || (set && strcmp(argv[optind], "auto-release") != 0) ||
	    (set && strcmp(argv[optind + 1], "on") != 0 && strcmp(argv[optind + 1], "off") != 0))
		return cli_usage_error("policy: expected 'auto-release on' or 'auto-release off'");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	on = set && strcmp(argv[optind + 1], "on") == 0;
	r = set ? transfer_policy_set(st, on) : transfer_policy_get(st, &on);
	store_close(st);
	if (r != 0)
		return cli_fail("policy", r);
	printf("auto-release %s: %s\n", on ? "on" : "off",
	       on ? "a request whose consent passes every release rule is answered at once"
	          : "requests wait for 'baton release' or 'baton deny'");
	return EXIT_OK;
}

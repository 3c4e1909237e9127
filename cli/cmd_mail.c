/*
 * baton mail: the school's mail server for the family's notices (DIR/mail.conf),
 * a test message, and sending what is queued now.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "cli.h"
#include "family_notify.h"
#include "mail.h"

enum { OPT_SERVER = 2200, OPT_FROM, OPT_USER, OPT_PWFILE, OPT_CA };

/* The first line of file into a sodium_malloc'd string, in c->password. */
static int read_password(const char *file, struct mail_conf *c)
{
	char buf[1024];
	FILE *f = fopen(file, "re");
	size_t n;
	int r = 0;
	if (f == NULL)
		return bti_diag_err(BATON_EVALUE, "--password-file: %s: %s", file, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0])
		r = bti_diag_err(BATON_EVALUE, "--password-file: %s: empty", file);
	else if ((c->password = sodium_malloc(strlen(buf) + 1)) == NULL)
		r = BATON_ENOMEM;
	else
		memcpy(c->password, buf, strlen(buf) + 1);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

static int mail_set(int argc, char **argv)
{
	static const struct option opts[] = {{"server", required_argument, NULL, OPT_SERVER},
	                                     {"from", required_argument, NULL, OPT_FROM},
	                                     {"user", required_argument, NULL, OPT_USER},
	                                     {"password-file", required_argument, NULL, OPT_PWFILE},
	                                     {"ca", required_argument, NULL, OPT_CA},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct mail_conf c;
	const char *pwfile = NULL;
	int opt, r;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		const char *v = optarg;
		char *dst = opt == OPT_SERVER ? c.server
		            : opt == OPT_FROM ? c.from
		            : opt == OPT_USER ? c.user
		            : opt == OPT_CA   ? c.ca
		                              : NULL;
		size_t cap = opt == OPT_SERVER ? sizeof(c.server)
		             : opt == OPT_FROM ? sizeof(c.from)
		             : opt == OPT_USER ? sizeof(c.user)
		                               : sizeof(c.ca);
		if (opt == OPT_PWFILE) {
			pwfile = v;
		} else if (dst) {
			if (strlen(v) >= cap)
				return cli_usage_error("mail set: --%s: too long",
				                       opts[opt - OPT_SERVER].name);
			if (opt == OPT_CA && v[0] != '/') {
				char *abs = realpath(v, NULL);
				if (abs == NULL || strlen(abs) >= cap) {
					free(abs);
					return cli_usage_error("mail set: --ca: %s: %s", v,
					                       strerror(errno));
				}
				snprintf(dst, cap, "%s", abs);
				free(abs);
			} else {
				snprintf(dst, cap, "%s", v);
			}
		} else {
			fputs(
			    "usage: baton mail set --server smtp://HOST:PORT --from ADDRESS\n"
			    "                      [--user USER --password-file FILE] [--ca FILE] "
			    "[--dir DIR]\n\n"
			    "Sets the mail server the family's notices go through: 'baton serve'\n"
			    "sends them (STARTTLS is always required). --ca trusts that PEM\n"
			    "certificate file instead of the system's (a school's own server).\n"
			    "The password is read from FILE and kept in DIR/mail.conf (mode "
			    "0600).\n",
			    opt == 'h' ? stdout : stderr);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc)
		return cli_usage_error("mail set: unexpected argument \"%s\"", argv[optind]);
	if (!c.server[0] || !c.from[0])
		return cli_usage_error("mail set: --server smtp://HOST:PORT and --from ADDRESS are "
		                       "required");
	if (pwfile && !c.user[0])
		return cli_usage_error("mail set: --password-file needs --user");
	if (pwfile && (r = read_password(pwfile, &c)) != 0)
		return cli_fail("mail set", r);
	r = mail_conf_write(cli_dir(&com), &c);
	mail_conf_free(&c);
	if (r != 0)
		return cli_fail("mail set", r);
	printf("The family's notices go through %s, from %s\n", c.server, c.from);
	return EXIT_OK;
}

static int mail_show(int argc, char **argv)
{
	struct cli_common com = {0};
	struct mail_conf c;
	unsigned n = 0;
	store *st;
	int rc, r;
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton mail show [--json] [--dir DIR]\n")) >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("mail show: no arguments expected");
	r = mail_conf_read(cli_dir(&com), &c);
	if (r != 0 && r != BATON_ENOTFOUND) {
		mail_conf_free(&c);
		return cli_fail("mail show", r);
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK) {
		mail_conf_free(&c);
		return rc;
	}
	int qr = mail_queued(st, &n);
	store_close(st);
	if (qr != 0) {
		mail_conf_free(&c);
		return cli_fail("mail show", qr);
	}
	if (com.json) {
		cli_print_json(json_pack(
		    "{s:s?, s:s?, s:s?, s:b, s:s?, s:i}", "server", r ? NULL : c.server, "from",
		    r ? NULL : c.from, "user", r || !c.user[0] ? NULL : c.user, "password",
		    c.password != NULL, "ca", r || !c.ca[0] ? NULL : c.ca, "queued", (int)n));
	} else if (r == BATON_ENOTFOUND) {
		printf("No mail server: the family is not told by email (set one with 'baton mail "
		       "set').\n%u notices queued\n",
		       n);
	} else {
		printf("server %s\nfrom %s\n", c.server, c.from);
		if (c.user[0])
			printf("user %s\npassword %s\n", c.user, c.password ? "(set)" : "(none)");
		if (c.ca[0])
			printf("ca %s\n", c.ca);
		printf("%u notices queued\n", n);
	}
	mail_conf_free(&c);
	return EXIT_OK;
}

static int mail_test(int argc, char **argv)
{
	struct cli_common com = {0};
	struct mail_conf c;
	int rc, r;
	if ((rc = cli_common_only(
	         argc, argv, &com,
	         "usage: baton mail test ADDRESS [--dir DIR]\n\n"
	         "Sends a test message to ADDRESS through the mail server now.\n")) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error("mail test: ADDRESS expected");
	if ((r = notify_email_check("ADDRESS", argv[optind])) != 0)
		return cli_fail("mail test", r);
	if ((r = mail_conf_read(cli_dir(&com), &c)) == BATON_ENOTFOUND)
		r = bti_diag_err(BATON_EVALUE, "no mail server: set one with 'baton mail set'");
	if (r == 0)
		r = mail_send(&c, argv[optind], "A test of the school's notices",
		              "This is a test message from the school's record system.\n"
		              "Families are told by email when their child's record is sent,\n"
		              "asked for, or when a consent is about to end.\n",
		              NULL);
	mail_conf_free(&c);
	if (r != 0)
		return cli_fail("mail test", r);
	printf("Sent a test message through %s\n", c.server);
	return EXIT_OK;
}

static int mail_flush(int argc, char **argv)
{
	struct cli_common com = {0};
	struct mail_pass p;
	store *st;
	int rc, r;
	if ((rc = cli_common_only(
	         argc, argv, &com,
	         "usage: baton mail flush [--dir DIR]\n\n"
	         "Tries every queued notice now, whatever its next try, and\n"
	         "prints how many were sent. 'baton serve' does this by itself.\n")) >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("mail flush: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	unsigned found = 0;
	struct mail_conf c;
	/* Without settings nothing is queued by the look either: the same refusal. */
	if ((r = mail_conf_read(cli_dir(&com), &c)) == 0 &&
	    (r = notify_scan(st, cli_now(), &found)) == 0)
		r = mail_pass(st, cli_dir(&com), 1, NULL, &p);
	mail_conf_free(&c);
	store_close(st);
	if (r == BATON_ENOTFOUND)
		r = bti_diag_err(BATON_EVALUE, "no mail server: set one with 'baton mail set'");
	if (r != 0)
		return cli_fail("mail flush", r);
	if (found)
		printf("%u notices queued by the daily look\n", found);
	printf("%u sent, %u to retry, %u undeliverable, %u waiting\n", p.sent, p.failed, p.dropped,
	       p.waiting);
	return p.failed || p.dropped ? EXIT_ENV : EXIT_OK;
}

int cmd_mail(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"set", mail_set, "the mail server the family's notices go through"},
	    {"show", mail_show, "show the mail settings and the count of queued notices"},
	    {"test", mail_test, "send a test message to an address"},
	    {"flush", mail_flush, "try every queued notice now"},
	};
	return cli_dispatch("mail", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

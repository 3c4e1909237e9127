/*
 * baton web: the web console's settings in the node directory (web.conf,
 * read by 'baton serve' when no --web is given), and a self-signed
 * certificate for trying the console.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bti.h"
#include "cli.h"
#include "invite.h"
#include "web.h"

enum { OPT_LISTEN = 2100, OPT_CERT, OPT_KEY, OPT_OUT, OPT_HOST, OPT_URL };

/* Copies the absolute form of path (which must exist) into dst. */
static int abs_path(const char *path, char *dst, size_t cap)
{
	char buf[PATH_MAX];
	if (!realpath(path, buf) || strlen(buf) >= cap)
		return bti_diag_err(BATON_EIO, "%s: cannot be read", path);
	memcpy(dst, buf, strlen(buf) + 1);
	return 0;
}

static int web_set(int argc, char **argv)
{
	static const struct option opts[] = {{"listen", required_argument, NULL, OPT_LISTEN},
	                                     {"cert", required_argument, NULL, OPT_CERT},
	                                     {"key", required_argument, NULL, OPT_KEY},
	                                     {"url", required_argument, NULL, OPT_URL},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct web_conf c;
	char check[INVITE_URL_MAX];
	const char *cert = NULL, *key = NULL;
	int opt, r;

	memset(&c, 0, sizeof(c));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == OPT_LISTEN && strlen(optarg) < sizeof(c.listen))
			snprintf(c.listen, sizeof(c.listen), "%s", optarg);
		else if (opt == OPT_CERT || opt == OPT_KEY)
			*(opt == OPT_CERT ? &cert : &key) = optarg;
		else if (opt == OPT_URL) {
			/* The public URL invitations are made with: checked as they check it. */
			if ((r = invite_url(optarg, "", check)) != 0)
				return cli_fail("web set", r);
			if (strlen(optarg) >= sizeof(c.url))
				return cli_usage_error("web set: --url: too long");
			snprintf(c.url, sizeof(c.url), "%s", optarg);
			c.url[strcspn(c.url, "\n")] = 0;
			while (strlen(c.url) > 8 && c.url[strlen(c.url) - 1] == '/')
				c.url[strlen(c.url) - 1] = 0;
		} else {
			fputs("usage: baton web set --listen ADDR:PORT [--cert FILE --key FILE] "
			      "[--url BASE] [--dir DIR]\n",
			      opt == 'h' ? stdout : stderr);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind != argc || !c.listen[0])
		return cli_usage_error("web set: --listen ADDR:PORT expected");
	if ((cert && (r = abs_path(cert, c.cert, sizeof(c.cert))) != 0) ||
	    (key && (r = abs_path(key, c.key, sizeof(c.key))) != 0) ||
	    (r = web_conf_check(&c)) != 0 || (r = web_conf_write(cli_dir(&com), &c)) != 0)
		return cli_fail("web set", r);
	printf("The console will be served at %s://%s/ by 'baton serve'\n",
	       c.cert[0] ? "https" : "http", c.listen);
	return EXIT_OK;
}

static int web_show(int argc, char **argv)
{
	struct cli_common com = {0};
	struct web_conf c;
	int rc, r;
	if ((rc = cli_common_only(argc, argv, &com, "usage: baton web show [--dir DIR]\n")) >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("web show: no arguments expected");
	if ((r = web_conf_read(cli_dir(&com), &c)) == BATON_ENOTFOUND) {
		printf(
		    "The console is off (turn it on with 'baton web set --listen ADDR:PORT').\n");
		return EXIT_OK;
	}
	if (r != 0)
		return cli_fail("web show", r);
	printf("listen %s\n", c.listen);
	if (c.cert[0])
		printf("cert   %s\nkey    %s\n", c.cert, c.key);
	if (c.url[0])
		printf("url    %s\n", c.url);
	return EXIT_OK;
}

static int web_selfsigned_cmd(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, OPT_OUT},
	                                     {"host", required_argument, NULL, OPT_HOST},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	const char *out = NULL, *host = "localhost";
	int opt, r;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == OPT_OUT || opt == OPT_HOST) {
			*(opt == OPT_OUT ? &out : &host) = optarg;
			continue;
		}
		fputs("usage: baton web selfsigned --out DIR [--host NAME]\n",
		      opt == 'h' ? stdout : stderr);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc || !out)
		return cli_usage_error("web selfsigned: --out DIR expected");
	if ((r = web_selfsigned(out, host)) != 0)
		return cli_fail("web selfsigned", r);
	printf("Wrote %s/web.crt and %s/web.key (self-signed for %s: for trying the console "
	       "only)\n",
	       out, out, host);
	return EXIT_OK;
}

/*
 * The hash of the family page's bundle this binary serves: an auditor
 * compares it; --files adds each file's own hash, length and URL.
 */
static int web_hash(int argc, char **argv)
{
	static const struct option opts[] = {{"files", no_argument, NULL, 'f'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {NULL, 0, NULL, 0}};
	char hex[65];
	int files = 0, opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'f') {
			files = 1;
			continue;
		}
		fputs("usage: baton web hash [--files]\n\n"
		      "Prints the hash of the family's pages this binary serves under /family/;\n"
		      "--files adds a line per file: its own hash, its length and its URL.\n",
		      opt == 'h' ? stdout : stderr);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("web hash: no arguments expected");
	web_bundle_hash(hex);
	printf("%s\n", hex);
	if (files) {
		json_t *a = web_bundle_files();
		if (!a)
			return cli_fail(NULL, BATON_ENOMEM);
		for (size_t i = 0; i < json_array_size(a); i++) {
			json_t *f = json_array_get(a, i);
			printf("%s  %8lld  %s\n", json_string_value(json_object_get(f, "hash")),
			       (long long)json_integer_value(json_object_get(f, "bytes")),
			       json_string_value(json_object_get(f, "url")));
		}
		json_decref(a);
	}
	return EXIT_OK;
}

int cmd_web(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"set", web_set, "where 'baton serve' serves the console, and its certificate"},
	    {"show", web_show, "show the console's settings"},
	    {"selfsigned", web_selfsigned_cmd, "make a self-signed certificate for trying it"},
	    {"hash", web_hash, "print the hash of the family page this binary serves"},
	};
	return cli_dispatch("web", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

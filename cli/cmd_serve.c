/*
 * baton serve: the school's node on the network (node/serve.h). This file
 * reads the options and the school key's passphrase; the node does the rest.
 * SIGINT and SIGTERM stop it cleanly; after 'baton rekey' (at once on
 * SIGHUP) it takes the new school key without a restart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "card.h"
#include "serve.h"
#include "web.h"

static void serve_usage(FILE *f)
{
	fprintf(f, "usage: baton serve [--listen URL] [--web ADDR:PORT [--web-cert FILE --web-key "
	           "FILE]] [--dir DIR]\n\n"
	           "Listens at the card's first endpoint (or URL) for packets from pinned\n"
	           "schools and answers each with its signed receipt; delivers the outbox.\n"
	           "Stops on SIGINT or SIGTERM. Takes the new school key after 'baton rekey'\n"
	           "(at once on SIGHUP), and the card's new endpoint after 'baton endpoint\n"
	           "set' unless --listen was given. With --web (or 'baton web set'), also\n"
	           "serves the registrar's console: plain HTTP only on a loopback address.\n");
}

/* The school key's passphrase, asked once when the key is encrypted (*pass stays NULL if not). */
static int serve_passphrase(const struct cli_common *com, char **pass, size_t *plen)
{
	char path[4200];
	int enc, r;
	snprintf(path, sizeof(path), "%s/school.key", cli_dir(com));
	if ((r = baton_key_file_encrypted(path, &enc)) != 0)
		return cli_fail("school key", r);
	if (enc) {
		struct cli_common c2 = *com;
		c2.no_passphrase = 0;
		if ((r = cli_passphrase(&c2, 0, pass, plen)) != 0)
			return cli_fail("passphrase", r);
	}
	return EXIT_OK;
}

/* Takes --web, --web-cert or --web-key into c. */
static void web_opt(struct web_conf *c, int opt, const char *arg)
{
	char *dst = opt == 'w' ? c->listen : opt == 'c' ? c->cert : c->key;
	size_t cap = opt == 'w' ? sizeof(c->listen) : sizeof(c->cert);
	snprintf(dst, cap, "%s", arg);
}

/*
 * The console's settings: the options, else DIR/web.conf, else none (c
 * empty). Checked before anything opens. Returns an exit code.
 */
static int web_settings(const struct cli_common *com, struct web_conf *c)
{
	int r = 0;
	if (!c->listen[0] && (c->cert[0] || c->key[0]))
		return cli_usage_error("serve: --web-cert and --web-key need --web ADDR:PORT");
	if (!c->listen[0] && (r = web_conf_read(cli_dir(com), c)) == BATON_ENOTFOUND)
		return EXIT_OK;
	if (r != 0 || (r = web_conf_check(c)) != 0)
		return cli_fail("serve", r);
	return EXIT_OK;
}

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
	                                     {"web", required_argument, NULL, 'w'},
	                                     {"web-cert", required_argument, NULL, 'c'},
	                                     {"web-key", required_argument, NULL, 'k'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct web_conf wc;
	struct web *web = NULL;
	struct cli_common com = {0};
	struct serve_opts so = {0};
	struct serve_node *nd = NULL;
	store *st = NULL;
	char *pass = NULL;
	int opt, rc, r;

	memset(&wc, 0, sizeof(wc));
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'l') {
			so.listen = optarg;
			continue;
		}
		if (opt == 'w' || opt == 'c' || opt == 'k') {
			web_opt(&wc, opt, optarg);
			continue;
		}
		serve_usage(opt == 'h' ? stdout : stderr);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("serve: no arguments expected");
	if (so.listen && card_endpoint_check(so.listen) != 0)
		return cli_usage_error("serve: --listen: %s", baton_diag());
	if ((rc = web_settings(&com, &wc)) != EXIT_OK)
		return rc;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if ((rc = serve_passphrase(&com, &pass, &so.plen)) != EXIT_OK)
		goto out;
	so.dir = cli_dir(&com);
	so.pass = pass;
	if ((r = serve_open(st, &so, &nd)) != 0 ||
	    (wc.listen[0] && (r = web_start(nd, &wc, &web)) != 0) || (r = serve_run(nd)) != 0) {
		rc = cli_fail("serve", r);
		goto out;
	}
	rc = EXIT_OK;
out:
	cli_pass_free(pass);
	web_stop(web);
	/* Everything acknowledged has committed: the store goes before the connections. */
	if (nd)
		serve_stop(nd);
	store_close(st);
	serve_free(nd);
	return rc;
}

/*
 * baton serve: the school's node on the network (node/serve.h). This file
 * reads the options and the school key's passphrase; the node does the rest.
 * SIGINT and SIGTERM stop it cleanly; after 'baton rekey' (at once on
 * SIGHUP) it takes the new school key without a restart.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "card.h"
#include "serve.h"

static void serve_usage(FILE *f)
{
	fprintf(f, "usage: baton serve [--listen URL] [--dir DIR]\n\n"
	           "Listens at the card's first endpoint (or URL) for packets from pinned\n"
	           "schools and answers each with its signed receipt; delivers the outbox.\n"
	           "Stops on SIGINT or SIGTERM. Takes the new school key after 'baton rekey'\n"
	           "(at once on SIGHUP), and the card's new endpoint after 'baton endpoint\n"
	           "set' unless --listen was given.\n");
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

int cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	struct serve_opts so = {0};
	struct serve_node *nd = NULL;
	store *st = NULL;
	char *pass = NULL;
	int opt, rc, r;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'l') {
			so.listen = optarg;
			continue;
		}
		serve_usage(opt == 'h' ? stdout : stderr);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("serve: no arguments expected");
	if (so.listen && card_endpoint_check(so.listen) != 0)
		return cli_usage_error("serve: --listen: %s", baton_diag());
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if ((rc = serve_passphrase(&com, &pass, &so.plen)) != EXIT_OK)
		goto out;
	so.dir = cli_dir(&com);
	so.pass = pass;
	if ((r = serve_open(st, &so, &nd)) != 0 || (r = serve_run(nd)) != 0) {
		rc = cli_fail("serve", r);
		goto out;
	}
	rc = EXIT_OK;
out:
	cli_pass_free(pass);
	/* Everything acknowledged has committed: the store goes before the connections. */
	if (nd)
		serve_stop(nd);
	store_close(st);
	serve_free(nd);
	return rc;
}

/*
 * baton policy: whether requests from other schools are released at once
 * or held for the registrar.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"

int cmd_policy(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int r, rc, on;

	if (argc > 1 && strcmp(argv[1], "retention") == 0)
		return cmd_policy_retention(argc - 1, argv + 1);
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton policy [auto-release on|off] [--dir DIR]\n"
	                          "       baton policy retention [DAYS] [--dir DIR]\n\n"
	                          "With auto-release on, a request whose consent passes every "
	                          "release\nrule is answered at once; off (the default), it waits "
	                          "for 'baton\nrelease' or 'baton deny'.\n")) >= 0)
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

/*
 * baton requests: requests from other schools, held for the registrar, who
 * releases ('baton release') or refuses ('baton deny') them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"
#include "view_transfers.h"

struct find_req {
	const char *hex;
	size_t n;
	int matches;
	uint8_t id[BATON_ID_BYTES];
};

static int find_req_cb(const store_request *e, void *arg)
{
	struct find_req *f = arg;
	char hex[2 * BATON_ID_BYTES + 1];
	sodium_bin2hex(hex, sizeof(hex), e->id, BATON_ID_BYTES);
	if (strncasecmp(hex, f->hex, f->n) == 0) {
		f->matches++;
		memcpy(f->id, e->id, BATON_ID_BYTES);
	}
	return 0;
}

static int find_req_fn(store_txn *t, void *arg)
{
	return store_request_each(t, find_req_cb, arg);
}

int cli_request_id(store *st, const char *hex, uint8_t id[BATON_ID_BYTES])
{
	struct find_req f = {hex, strlen(hex), 0, {0}};
	int r;
	if ((r = cli_id_prefix(hex, "request id")) != 0 ||
	    (r = store_read(st, find_req_fn, &f)) != 0)
		return r;
	if (f.matches == 0)
		return bti_diag_err(BATON_ENOTFOUND, "no request %s (see 'baton requests --all')",
		                    hex);
	if (f.matches > 1)
		return bti_diag_err(BATON_EVALUE,
		                    "request id %s names %d requests: give more digits", hex,
		                    f.matches);
	memcpy(id, f.id, BATON_ID_BYTES);
	return 0;
}

static void list_print(const json_t *arr)
{
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e)
	{
		const char *note = cli_str(e, "note");
		printf("%s  from %-10s student %-10s %-8s %s\n", cli_str(e, "request"),
		       cli_str(e, "from"), cli_str(e, "student"), cli_str(e, "state"),
		       cli_time(cli_int(e, "time")));
		printf("    sections: %s\n    purpose:  %s\n", cli_str(e, "sections"),
		       cli_str(e, "purpose"));
		if (note[0])
			printf("    note:     %s\n", note);
		if (json_object_get(e, "packet"))
			printf("    released as packet %s\n", cli_str(e, "packet"));
		if (json_object_get(e, "reason"))
			printf("    denied: %s\n", cli_str(e, "reason"));
	}
}

int cmd_requests(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'}, CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	json_t *arr = NULL;
	store *st;
	int opt, rc, all = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'a') {
			all = 1;
			continue;
		}
		fprintf(
		    opt == 'h' ? stdout : stderr,
		    "usage: baton requests [--all] [--json] [--dir DIR]\n\n"
		    "Requests from other schools waiting for the registrar ('baton release ID'\n"
		    "or 'baton deny ID --reason TEXT'); with --all, answered ones too.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind != argc)
		return cli_usage_error("requests: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	int r = view_requests(st, all, &arr);
	store_close(st);
	return cli_table_done(r, arr, NULL, com.json, list_print, "requests",
	                      all ? "No requests have arrived." : "No requests are waiting.");
}

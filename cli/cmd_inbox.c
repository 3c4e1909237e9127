/*
 * baton inbox: packets received, and their receipts, oldest first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "bti.h"
#include "view_transfers.h"

static void inbox_print(const json_t *arr)
{
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e)
	{
		const char *note = cli_str(e, "note");
		printf("%s  %s  from %-10s %-10s ", cli_str(e, "packet"),
		       cli_time(cli_int(e, "time")), cli_str(e, "from"), cli_str(e, "student"));
		/* The result is padded only to line up the notes after it. */
		if (note[0])
			printf("%-9s  %s\n", cli_str(e, "result"), note);
		else
			printf("%s\n", cli_str(e, "result"));
		if (json_object_get(e, "terms"))
			printf("    redisclosure terms: %s\n", cli_str(e, "terms"));
	}
}

int cmd_inbox(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int r, rc;

	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton inbox [--json] [--dir DIR]\n\n"
	                          "Packets received, oldest first, with the date each arrived "
	                          "(UTC)\nand the receipt given for it.\n")) >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("inbox: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	json_t *arr = NULL;
	r = view_inbox(st, &arr);
	store_close(st);
	return cli_table_done(r, arr, NULL, com.json, inbox_print, "inbox", "The inbox is empty.");
}

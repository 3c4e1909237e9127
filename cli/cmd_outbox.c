/*
 * baton outbox: packets sent and their state; 'outbox export' writes one to
 * a file to carry by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "bti.h"
#include "transfer.h"
#include "view_files.h"
#include "view_transfers.h"

static void outbox_print(const json_t *arr)
{
	size_t i;
	const json_t *e;
	json_array_foreach(arr, i, e)
	{
		const char *err = cli_str(e, "last_error");
		printf("%s  %s  %-8s to %-10s %-10s %-9s attempts %d%s%s\n", cli_str(e, "packet"),
		       cli_time(cli_int(e, "created")), cli_str(e, "kind"), cli_str(e, "to"),
		       cli_str(e, "student"), cli_str(e, "state"),
		       (int)json_integer_value(json_object_get(e, "attempts")), err[0] ? "  " : "",
		       err);
		const char *terms = cli_str(e, "terms");
		if (terms[0] && strcmp(terms, "none") != 0)
			printf("    redisclosure terms %s\n", terms);
	}
}

static int outbox_list(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int r, rc;

	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton outbox [--json] [--dir DIR]\n"
	                          "       baton outbox export ID --out FILE [--dir DIR]\n\n"
	                          "Packets sent from here, oldest first, with the date each was "
	                          "made\n(UTC) and its state.\n")) >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("outbox: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	json_t *arr = NULL;
	r = view_outbox(st, &arr);
	store_close(st);
	return cli_table_done(r, arr, NULL, com.json, outbox_print, "outbox",
	                      "The outbox is empty.");
}

/*
 * Copies the packet file at from to a new file at to, in bounded memory: to
 * a temporary name beside it, which takes the name when whole.
 */
static int copy_file(const char *from, const char *to, int force)
{
	uint8_t buf[65536];
	char tmp[4200];
	int in = -1, out = -1, r;
	ssize_t n = 0;
	if ((r = outfile_check(to, force)) != 0)
		return r;
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", to, (long)getpid()) >= (int)sizeof(tmp))
		return bti_diag_err(BATON_EINVAL, "%s: path too long", to);
	if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", from, strerror(errno));
	if ((out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644)) < 0) {
		r = bti_diag_err(BATON_EIO, "%s: %s", tmp, strerror(errno));
		close(in);
		return r;
	}
	while (r == 0 && (n = read(in, buf, sizeof(buf))) > 0)
		r = baton_write_fd(&out, buf, (size_t)n);
	if (r == 0 && (n < 0 || fsync(out) != 0))
		r = bti_diag_err(BATON_EIO, "%s: %s", to, strerror(errno));
	close(in);
	close(out);
	if (r == 0)
		r = outfile_place(tmp, to, force);
	if (r != 0)
		unlink(tmp);
	return r;
}

/* baton outbox export ID --out FILE: a queued packet, to carry by hand. */
static int outbox_export(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
	                                     {"force", no_argument, NULL, 'F'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	store_outbox e;
	uint8_t *bytes = NULL;
	size_t len = 0;
	const char *out = NULL, *hex;
	store *st;
	int opt, r, rc, force = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'o' || opt == 'F') {
			if (opt == 'o')
				out = optarg;
			else
				force = 1;
			continue;
		}
		fprintf(
		    opt == 'h' ? stdout : stderr,
		    "usage: baton outbox export ID --out FILE [--force] [--dir DIR]\n\n"
		    "Writes a packet from the outbox (ID: its id, or 8+ of its digits) to FILE,\n"
		    "to carry by hand when the network cannot reach the other school. Its\n"
		    "state does not change: 'baton receipt import' records the receipt.\n");
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc || out == NULL)
		return cli_usage_error("outbox export: a packet ID and --out FILE are required");
	hex = argv[optind];
	if ((r = cli_id_prefix(hex, "packet id")) != 0)
		return cli_fail(NULL, r);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = files_outbox_find(st, hex, &e, &bytes, &len);
	store_close(st);
	if (r == BATON_ENOTFOUND) /* the exit code it has always had */
		r = bti_diag_err(BATON_EVALUE, "no packet %s in the outbox", hex);
	if (r == 0)
		r = bytes ? outfile_write(out, bytes, len, 0644, force)
		          : copy_file(e.file, out, force);
	free(bytes);
	if (r != 0)
		return cli_fail("outbox export", r);
	printf("Wrote packet %s (%s to %s) to %s\n", cli_hex(e.packet, BATON_ID_BYTES), e.student,
	       e.to, out);
	return EXIT_OK;
}

int cmd_outbox(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "export") == 0)
		return outbox_export(argc - 1, argv + 1);
	return outbox_list(argc, argv);
}

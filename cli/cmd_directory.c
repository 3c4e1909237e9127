/*
 * baton directory trust | untrust | update | show: the authorities whose
 * signed directories name the schools this node trusts without 'peer add'.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "dirfetch.h"
#include "directory.h"
#include "view_peers.h"

static int dir_trust(int argc, char **argv)
{
	static const struct option opts[] = {{"expect", required_argument, NULL, 'e'},
	                                     {"name", required_argument, NULL, 'n'},
	                                     {"url", required_argument, NULL, 'u'},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	struct cli_common com = {0};
	const char *expect = NULL, *label = "", *url = NULL;
	char fpr[BATON_FINGERPRINT_LEN + 1];
	uint8_t pk[BATON_PK_BYTES];
	store *st = NULL;
	int opt, r, rc, again = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(&com, opt, optarg))
			continue;
		if (opt == 'e')
			expect = optarg;
		else if (opt == 'n')
			label = optarg;
		else if (opt == 'u')
			url = optarg;
		else {
			fprintf(opt == 'h' ? stdout : stderr,
			        "usage: baton directory trust KEYLINE --expect FINGERPRINT "
			        "[--name LABEL] [--url URL] [--dir DIR]\n\n"
			        "Pins an authority: every school of a directory it signs is then "
			        "trusted.\nCheck the fingerprint with the authority first. With "
			        "--url, serve fetches its\ndirectories from URL.\n");
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("directory trust: one KEYLINE (baton-ak1-...) expected");
	if (expect == NULL)
		return cli_usage_error("directory trust: --expect FINGERPRINT is required");
	if ((r = baton_pubkey_parse(BATON_PUBKEY_AUTHORITY, argv[optind], pk)) != 0)
		return cli_fail("directory trust: KEYLINE", r);
	baton_fingerprint(pk, fpr);
	if (!peers_fpr_match(fpr, expect)) {
		fprintf(stderr,
		        "baton: directory trust: fingerprint %s does not match the expected %s; "
		        "not pinned\n",
		        fpr, expect);
		return EXIT_REJECTED;
	}
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = directory_trust(st, pk, label, url, &again);
	store_close(st);
	if (r != 0)
		return cli_fail("directory trust", r);
	if (com.json)
		cli_print_json(json_pack("{s:s, s:s, s:s}", "fingerprint", fpr, "label", label,
		                         "result", again ? "already pinned" : "pinned"));
	else
		printf("%s authority %s%s%s%s\nTake its directory with 'baton directory update "
		       "%s'%s.\n",
		       again ? "Already pinned:" : "Pinned", fpr, label[0] ? " (" : "", label,
		       label[0] ? ")" : "", url && url[0] ? url : "FILE|URL",
		       url && url[0] ? "; serve fetches it from there" : "");
	return EXIT_OK;
}

static int dir_untrust(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int rc, r;
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton directory untrust FINGERPRINT [--dir DIR]\n\n"
	                          "Unpins an authority; the schools of its directory are "
	                          "trusted no more\nthrough it.\n")) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error("directory untrust: one FINGERPRINT expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = directory_untrust(st, argv[optind], NULL);
	store_close(st);
	if (r != 0)
		return cli_fail("directory untrust", r);
	printf("Unpinned authority %s\n", argv[optind]);
	return EXIT_OK;
}

static int dir_url(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int rc, r;
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton directory url FINGERPRINT [URL] [--dir DIR]\n\n"
	                          "Sets where serve fetches the authority's directories "
	                          "(https://; http:// only\nto this machine); without URL, "
	                          "they are taken from files only.\n")) >= 0)
		return rc;
	if (optind + 1 != argc && optind + 2 != argc)
		return cli_usage_error("directory url: FINGERPRINT and a URL, or only FINGERPRINT, "
		                       "expected");
	const char *url = optind + 2 == argc ? argv[optind + 1] : "";
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = directory_set_url(st, argv[optind], url);
	store_close(st);
	if (r != 0)
		return cli_fail("directory url", r);
	if (url[0])
		printf("serve fetches the directory of %s from %s\n", argv[optind], url);
	else
		printf("The directory of %s is taken from files only\n", argv[optind]);
	return EXIT_OK;
}

static int dir_update(int argc, char **argv)
{
	struct cli_common com = {0};
	struct directory_update u;
	uint8_t *bytes = NULL;
	size_t len = 0;
	store *st = NULL;
	int rc, r;

	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton directory update FILE|URL [--json] [--dir DIR]\n\n"
	                          "Takes a directory signed by a pinned authority: a newer "
	                          "version than the\none held, valid now. A URL is fetched "
	                          "(https://; http:// only to this machine).\n")) >= 0)
		return rc;
	if (optind + 1 != argc)
		return cli_usage_error("directory update: one FILE or URL expected");
	const char *path = argv[optind];
	if (dirfetch_is_url(path))
		r = dirfetch_get(path, NULL, &bytes, &len);
	else
		r = baton_file_read(path, BATON_DIRECTORY_MAX, &bytes, &len);
	/* A URL's diagnostic names it already (without what must not be shown). */
	if (r != 0)
		return cli_fail(dirfetch_is_url(path) ? "directory update" : path, r);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		goto out;
	if ((r = directory_update(st, bytes, len, cli_now(), &u)) != 0) {
		rc = cli_fail(path, r);
		goto out;
	}
	if (com.json)
		cli_print_json(json_pack(
		    "{s:s, s:s, s:I, s:s, s:I, s:I, s:I, s:I}", "authority", u.authority,
		    "fingerprint", u.fingerprint, "version", (json_int_t)u.version, "result",
		    u.unchanged ? "unchanged" : "updated", "added", (json_int_t)u.diff.added,
		    "changed", (json_int_t)u.diff.changed, "removed", (json_int_t)u.diff.removed,
		    "withdrawn", (json_int_t)u.diff.withdrawn));
	else if (u.unchanged)
		printf("%s: version %llu of %s is the one held already; no change\n", path,
		       (unsigned long long)u.version, u.authority);
	else
		printf("Took version %llu of %s (%s): %zu schools, %zu withdrawn keys; "
		       "%zu added, %zu changed, %zu removed, %zu newly withdrawn; expires %s\n",
		       (unsigned long long)u.version, u.authority, u.fingerprint, u.members,
		       u.withdrawn_keys, u.diff.added, u.diff.changed, u.diff.removed,
		       u.diff.withdrawn, cli_time(u.expires));
	rc = EXIT_OK;
out:
	store_close(st);
	free(bytes);
	return rc;
}

static void print_authorities(const json_t *arr)
{
	size_t i;
	const json_t *o;
	json_array_foreach(arr, i, o)
	{
		const char *label = cli_str(o, "label");
		printf("%s  %s\n", cli_str(o, "fingerprint"),
		       label[0] ? label : cli_str(o, "name"));
		if (cli_str(o, "url")[0])
			printf("  fetched by serve from %s\n", cli_str(o, "url"));
		if (json_object_get(o, "version") == NULL) {
			printf("  no directory yet ('baton directory update FILE')\n");
			continue;
		}
		printf("  directory %s, version %lld, issued %s,", cli_str(o, "name"),
		       (long long)json_integer_value(json_object_get(o, "version")),
		       cli_time((uint64_t)json_integer_value(json_object_get(o, "issued"))));
		printf(" expires %s%s\n",
		       cli_time((uint64_t)json_integer_value(json_object_get(o, "expires"))),
		       json_is_true(json_object_get(o, "expired")) ? " (expired)" : "");
		if (json_is_true(json_object_get(o, "expired")))
			printf("  warning: expired: its schools are trusted through it no more; "
			       "take a newer one with 'baton directory update'\n");
		else if (json_is_true(json_object_get(o, "expires_soon")))
			printf("  warning: expires within 7 days; take a newer one with 'baton "
			       "directory update'\n");
		printf("  %lld schools, %lld withdrawn keys\n",
		       (long long)json_integer_value(json_object_get(o, "members")),
		       (long long)json_integer_value(json_object_get(o, "withdrawn")));
	}
}

static int dir_show(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	json_t *arr = NULL;
	size_t n;
	int rc, r;
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton directory show [--json] [--dir DIR]\n")) >= 0)
		return rc;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = directory_list(st, cli_now(), &arr);
	store_close(st);
	n = r == 0 ? json_array_size(arr) : 0;
	if (r == 0 && !com.json) {
		print_authorities(arr);
		json_decref(arr);
		arr = NULL;
	}
	return cli_list_done(r, arr, n, "directory show",
	                     "No authorities pinned yet ('baton directory trust KEYLINE').");
}

int cmd_directory(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"trust", dir_trust, "pin an authority whose directories name trusted schools"},
	    {"untrust", dir_untrust, "unpin an authority and drop its directory"},
	    {"update", dir_update, "take a newer directory signed by a pinned authority"},
	    {"url", dir_url, "set where serve fetches an authority's directories"},
	    {"show", dir_show, "the pinned authorities and their directories"},
	};
	return cli_dispatch("directory", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

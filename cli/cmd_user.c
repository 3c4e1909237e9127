/*
 * baton user: the web console's accounts (node/users.h). A password comes
 * from --password-file (mode 0600, not a symbolic link) or a prompt on the
 * terminal asked twice; it is never an argument.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "bti.h"
#include "cli.h"
#include "users.h"

enum { OPT_ROLE = 2000, OPT_PWFILE };

/* The new password into sodium_malloc memory (*pass; free with cli_pass_free). */
static int read_password(const char *file, char **pass, size_t *plen)
{
	uint8_t *buf = NULL;
	size_t n = 0;
	int r;
	*pass = NULL;
	if (!file) {
		struct cli_common c = {0};
		if (!isatty(STDIN_FILENO))
			return bti_diag_err(BATON_EINVAL, "no password: give --password-file FILE, "
			                                  "or run at a terminal");
		return cli_passphrase(&c, 1, pass, plen);
	}
	if ((r = baton_file_read_private(file, USERS_PASS_MAX + 2, &buf, &n)) != 0)
		return r;
	if ((*pass = sodium_malloc(n + 1)) == NULL)
		r = BATON_ENOMEM;
	else {
		memcpy(*pass, buf, n);
		(*pass)[n] = 0;
		(*pass)[strcspn(*pass, "\r\n")] = 0;
		*plen = strlen(*pass);
	}
	sodium_memzero(buf, n);
	free(buf);
	return r;
}

/* Parses NAME [--role ROLE] [--password-file FILE] and the common options. */
static int user_opts(int argc, char **argv, struct cli_common *com, const char **role,
                     const char **file, const char *usage)
{
	static const struct option opts[] = {{"role", required_argument, NULL, OPT_ROLE},
	                                     {"password-file", required_argument, NULL, OPT_PWFILE},
	                                     CLI_COMMON_OPTS,
	                                     {NULL, 0, NULL, 0}};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (cli_common_opt(com, opt, optarg))
			continue;
		if (opt == OPT_ROLE && role) {
			*role = optarg;
			continue;
		}
		if (opt == OPT_PWFILE && file) {
			*file = optarg;
			continue;
		}
		fputs(usage, opt == 'h' ? stdout : stderr);
		return opt == 'h' ? EXIT_OK : EXIT_USAGE;
	}
	if (optind + 1 != argc)
		return cli_usage_error("user: one user NAME expected");
	return -1;
}

/* Runs add (role > 0) or passwd (role 0) for NAME with a password read first. */
static int user_set(int argc, char **argv, int add)
{
	struct cli_common com = {0};
	const char *role_s = NULL, *file = NULL;
	char *pass = NULL;
	size_t plen = 0;
	store *st = NULL;
	int rc, r, role = 0;
	const char *usage =
	    add ? "usage: baton user add NAME --role registrar|admin "
	          "[--password-file FILE] [--dir DIR]\n"
	        : "usage: baton user passwd NAME [--password-file FILE] [--dir DIR]\n";

	if ((rc = user_opts(argc, argv, &com, add ? &role_s : NULL, &file, usage)) >= 0)
		return rc;
	if (add && !role_s)
		return cli_usage_error("user add: --role registrar|admin is required");
	if (add && (role = users_role(role_s)) < 0)
		return cli_fail("user add", role);
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	if ((r = read_password(file, &pass, &plen)) != 0) {
		rc = cli_fail(file ? file : "password", r);
		goto out;
	}
	r = add ? users_add(st, argv[optind], role, pass, plen)
	        : users_passwd(st, argv[optind], pass, plen);
	if (r != 0) {
		rc = cli_fail(add ? "user add" : "user passwd", r);
		goto out;
	}
	printf(add ? "Added %s (%s)\n" : "Changed the password of %s%s\n", argv[optind],
	       add ? users_role_name(role) : "");
	rc = EXIT_OK;
out:
	cli_pass_free(pass);
	store_close(st);
	return rc;
}

static int user_add(int argc, char **argv)
{
	return user_set(argc, argv, 1);
}

static int user_passwd(int argc, char **argv)
{
	return user_set(argc, argv, 0);
}

static int user_remove(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	int rc, r;
	if ((rc = user_opts(argc, argv, &com, NULL, NULL,
	                    "usage: baton user remove NAME [--dir DIR]\n")) >= 0)
		return rc;
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = users_remove(st, argv[optind]);
	store_close(st);
	if (r != 0)
		return cli_fail("user remove", r);
	printf("Removed %s\n", argv[optind]);
	return EXIT_OK;
}

static void print_users(const json_t *arr)
{
	size_t i;
	const json_t *o;
	printf("%-20s%-11s%-22s%s\n", "NAME", "ROLE", "CREATED", "LAST LOGIN");
	json_array_foreach(arr, i, o)
	{
		cli_pad(stdout, cli_str(o, "name"), 20);
		cli_pad(stdout, cli_str(o, "role"), 11);
		cli_pad(stdout, cli_time(cli_int(o, "created")), 22);
		printf("%s\n",
		       cli_int(o, "last_login") ? cli_time(cli_int(o, "last_login")) : "never");
	}
}

static int user_list(int argc, char **argv)
{
	struct cli_common com = {0};
	store *st;
	json_t *arr;
	int rc, r;
	if ((rc = cli_common_only(argc, argv, &com,
	                          "usage: baton user list [--json] [--dir DIR]\n")) >= 0)
		return rc;
	if (optind != argc)
		return cli_usage_error("user list: no arguments expected");
	if ((rc = cli_open_store(&com, &st)) != EXIT_OK)
		return rc;
	r = users_list(st, &arr);
	store_close(st);
	return cli_table_done(r, arr, NULL, com.json, print_users, "user list", "No users.");
}

int cmd_user(int argc, char **argv)
{
	static const struct cmd sub[] = {
	    {"add", user_add, "add a console account: --role registrar|admin"},
	    {"list", user_list, "list the console's accounts"},
	    {"remove", user_remove, "remove a console account"},
	    {"passwd", user_passwd, "change an account's password"},
	};
	return cli_dispatch("user", sub, sizeof(sub) / sizeof(sub[0]), argc, argv);
}

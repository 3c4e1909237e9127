/* The baton command: git-style subcommands dispatched from one table. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "record.h"

static const struct cmd commands[] = {
    {"init", cmd_init, "create this school's node: keys, store, signed card"},
    {"card", cmd_card, "export this school's card"},
    {"endpoint", cmd_endpoint, "show or change where this school listens (a new card)"},
    {"rekey", cmd_rekey, "replace this school's keys, with a rotation statement"},
    {"peer", cmd_peer, "pin, update, list and remove other schools"},
    {"directory", cmd_directory, "trust schools through an authority's signed directory"},
    {"student", cmd_student, "import, list, show and export student records"},
    {"review", cmd_review, "records held because they are not the child on file: decide"},
    {"guardian", cmd_guardian, "guardian keys: create them, link them to students"},
    {"consent", cmd_consent, "grant, revoke, show, import, list and check consents"},
    {"serve", cmd_serve, "run the node on the network: receive packets, deliver the outbox"},
    {"send", cmd_send, "seal a consented record for another school"},
    {"import", cmd_import, "import a packet file and write its receipt"},
    {"receipt", cmd_receipt, "record a receipt from the receiving school"},
    {"request", cmd_request, "ask another school for a record, with the family's consent"},
    {"requests", cmd_requests, "requests from other schools, held for the registrar"},
    {"release", cmd_release, "send the record a held request asks for"},
    {"deny", cmd_deny, "refuse a held request; the school that asked is told why"},
    {"policy", cmd_policy, "show or set whether requests are released at once"},
    {"inbox", cmd_inbox, "packets received, and their receipts"},
    {"outbox", cmd_outbox, "packets sent, and their state"},
    {"audit", cmd_audit, "show and verify the audit log"},
    {"backup", cmd_backup, "copy the store, keys and card, while the node runs"},
    {"restore", cmd_restore, "check a backup and restore it into a new node directory"},
    {"user", cmd_user, "the web console's accounts: add, list, remove, passwd"},
    {"web", cmd_web, "the web console's settings, and a certificate for trying it"},
    {"mail", cmd_mail, "the mail server that tells the family; a test message"},
    {"upgrade", cmd_upgrade, "back up an older store, then upgrade it to this baton's schema"},
    {"authority", cmd_authority, "an authority's directory of member schools: keep and sign it"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: baton [--help] [--version] [--dir DIR] COMMAND [ARGS]\n\n"
	           "Moves a student's record from one school to another, sealed for the\n"
	           "receiving school and released only on the family's signed consent.\n\n"
	           "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'baton help COMMAND' (or 'baton COMMAND --help') for a command's "
	           "options.\n--dir DIR, before or after the command, names the node "
	           "directory\n(default $BATON_DIR, else ./baton-node).\n");
}

static const struct cmd *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

/* baton help [COMMAND [SUBCOMMAND]]: the same text as 'baton COMMAND [SUBCOMMAND] --help'. */
static int help(int argc, char **argv)
{
	const struct cmd *c;
	char *args[8];
	int n = 0;

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	if ((c = find_command(argv[1])) == NULL)
		return cli_unknown(NULL, argv[1], commands, NCOMMANDS);
	for (int i = 1; i < argc && n < 6; i++)
		args[n++] = argv[i];
	args[n++] = (char *)"--help";
	args[n] = NULL;
	return c->fn(n, args);
}

/*
 * Options before the command: --dir DIR (or --dir=DIR) sets the node
 * directory for a command that is not given one. Returns the index of the
 * command, or -1 after printing a usage error.
 */
static int global_options(int argc, char **argv)
{
	int i = 1;
	while (i < argc && strncmp(argv[i], "--dir", 5) == 0) {
		if (argv[i][5] == '=') {
			cli_set_default_dir(argv[i] + 6);
			i++;
		} else if (argv[i][5] == '\0' && i + 1 < argc) {
			cli_set_default_dir(argv[i + 1]);
			i += 2;
		} else {
			cli_usage_error("--dir needs a directory");
			return -1;
		}
	}
	if (i == argc) {
		usage(stderr);
		return -1;
	}
	return i;
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	int at;

	/* Secrets live in this process: keep them out of core dumps. */
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	/* A file-size limit is an error to report (EFBIG), not a reason to die. */
	signal(SIGXFSZ, SIG_IGN);

	if ((at = global_options(argc, argv)) < 0)
		return EXIT_USAGE;
	argc -= at - 1;
	argv += at - 1;
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("baton %s\n", baton_version());
		return EXIT_OK;
	}
	if (baton_init() != 0) {
		fprintf(stderr, "baton: libsodium failed to initialise\n");
		return EXIT_ENV;
	}
	record_json_init();
	if (strcmp(argv[1], "help") == 0)
		return help(argc - 1, argv + 1);
	if ((c = find_command(argv[1])) != NULL)
		return c->fn(argc - 1, argv + 1);
	return cli_unknown(NULL, argv[1], commands, NCOMMANDS);
}

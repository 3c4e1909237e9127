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
    {"upgrade", cmd_upgrade, "back up an older store, then upgrade it to this baton's schema"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: baton [--help] [--version] COMMAND [ARGS]\n\n"
	           "Moves a student's record from one school to another, sealed for the\n"
	           "receiving school and released only on the family's signed consent.\n\n"
	           "Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'baton COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	/* Secrets live in this process: keep them out of core dumps. */
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);
	/* A file-size limit is an error to report (EFBIG), not a reason to die. */
	signal(SIGXFSZ, SIG_IGN);

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
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
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "baton: '%s' is not a command\n\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}

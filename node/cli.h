/* Private to the baton command: the subcommand table and shared helpers. */
#ifndef BATON_CLI_H
#define BATON_CLI_H

#include <baton/baton.h>

/* Exit codes, the same for every subcommand. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 1,    /* bad command line */
	EXIT_REJECTED = 2, /* the input was refused */
	EXIT_ENV = 3,      /* environment or I/O */
};

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

/* Prints "baton: WHAT: DIAG (ERROR)" to stderr and returns the exit code for err. */
int cli_fail(const char *what, int err);
/* Maps a BATON_E* code to an exit code. */
int cli_exit_code(int err);

int cmd_demo(int argc, char **argv);

#endif

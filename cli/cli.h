/*
 * Private to the baton command: the subcommand table and shared helpers.
 * Functions that end a command return its exit code (EXIT_*), and say so;
 * the others follow <baton/error.h>.
 */
#ifndef BATON_CLI_H
#define BATON_CLI_H

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>

#include <jansson.h>

#include <baton/baton.h>

#include "outfile.h"
#include "store.h"

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

/*
 * Runs the subcommand of table[] named argv[1]. Without one, prints usage
 * (to stdout for --help); an unknown one gets cli_unknown. Returns the exit
 * code: the subcommand's, EXIT_OK for --help, else EXIT_USAGE.
 */
int cli_dispatch(const char *prog, const struct cmd *table, size_t n, int argc, char **argv);

/*
 * Prints 'baton: unknown command "PROG NAME"' and, when a command of table
 * is at most two edits away, 'did you mean "PROG CMD"?'. prog is NULL for a
 * top-level command. Returns EXIT_USAGE.
 */
int cli_unknown(const char *prog, const char *name, const struct cmd *table, size_t n);

/*
 * Prints "baton: WHAT: DIAG" (what NULL: "baton: DIAG"; DIAG is err's
 * sentence when nothing was recorded for err) to stderr, forgets the
 * diagnostic, and returns the exit code for err (cli_exit_code).
 */
int cli_fail(const char *what, int err);
/* Prints "baton: MESSAGE" to stderr and returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Maps a BATON_E* code to an exit code: 0 EXIT_OK, BATON_EINVAL EXIT_USAGE,
 * BATON_EIO / ENOMEM / EINTERNAL / EPERM / EEXIST EXIT_ENV, any other
 * EXIT_REJECTED. Cannot fail.
 */
int cli_exit_code(int err);

/*
 * Options every node command takes. Parse with getopt_long using
 * CLI_COMMON_OPTS in the option table and cli_common() in the default case.
 */
struct cli_common {
	const char *dir;
	const char *passphrase_file;
	int no_passphrase;
	int json;
	int yes; /* --yes: upgrade an older store without asking (after a backup) */
};
enum { OPT_DIR = 1000, OPT_JSON, OPT_PASSFILE, OPT_NOPASS, OPT_YES };
#define CLI_COMMON_OPTS                                                                            \
	{"dir", required_argument, NULL, OPT_DIR}, {"json", no_argument, NULL, OPT_JSON},          \
	    {"passphrase-file", required_argument, NULL, OPT_PASSFILE},                            \
	    {"no-passphrase", no_argument, NULL, OPT_NOPASS}, {"yes", no_argument, NULL, OPT_YES}, \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}
/*
 * Handles a common option: 1 when opt was one (arg, borrowed for the
 * process, is kept in c), else 0. Cannot fail.
 */
int cli_common_opt(struct cli_common *c, int opt, const char *arg);
/*
 * Parses a command that takes only the common options. Returns -1 to go on
 * (optind at the first operand), or the exit code after printing usage.
 */
int cli_common_only(int argc, char **argv, struct cli_common *c, const char *usage);
/*
 * The node directory: the command's --dir, else --dir before the command
 * (cli_set_default_dir), else $BATON_DIR, else ./baton-node. Borrowed (from
 * c, the command line or the environment), never NULL.
 */
const char *cli_dir(const struct cli_common *c);
/* Sets the node directory given before the command; dir is borrowed for the process. */
void cli_set_default_dir(const char *dir);

/*
 * The columns the UTF-8 text s takes on a terminal: East Asian wide
 * characters take two, combining marks none (no locale needed).
 */
size_t cli_width(const char *s);
/* Prints s to f, then spaces up to width columns (cli_width). Cannot fail (output errors show at
 * exit). */
void cli_pad(FILE *f, const char *s, size_t width);

/*
 * Gets a passphrase: --no-passphrase (returns *pass == NULL, warns),
 * --passphrase-file, $BATON_PASSPHRASE, or a prompt on the terminal (twice
 * when confirm). *pass (NUL-terminated, *len bytes) is in sodium_malloc
 * memory: the caller frees it with cli_pass_free; NULL on error.
 * Returns 0; BATON_EINVAL (no terminal to ask at, the two differ, or an
 * empty passphrase); BATON_ENOMEM; or the error reading the file.
 */
int cli_passphrase(const struct cli_common *c, int confirm, char **pass, size_t *len);
/* Wipes and frees a passphrase from cli_passphrase; NULL is accepted. */
void cli_pass_free(char *pass);

/*
 * Opens the node's store, printing the error. A store of an older schema is
 * upgraded only as cli_upgrade allows. Returns an exit code.
 */
int cli_open_store(const struct cli_common *c, store **s);
/*
 * The store of the node c names is of schema from, older than this baton's:
 * asks on a terminal (or takes --yes / BATON_UPGRADE=yes; refuses otherwise,
 * naming 'baton upgrade'), backs the store up into the node directory, and
 * upgrades it, saying how to go back. Returns an exit code; on EXIT_OK *s is
 * the opened store (the caller closes it with store_close).
 */
int cli_upgrade(const struct cli_common *c, uint32_t from, int ask, store **s);
/*
 * Loads the node's school key into *k (asking for the passphrase), printing
 * what failed. Returns the exit code; on EXIT_OK the caller frees *k with
 * baton_key_free.
 */
int cli_load_school_key(const struct cli_common *c, baton_key **k);
/*
 * Loads a guardian key file into *k, asking for its passphrase when it has
 * one. Returns 0 or the error (BATON_EKEYFILE for a school key); the caller
 * frees *k with baton_key_free.
 */
int cli_load_guardian_key(const struct cli_common *com, const char *path, baton_key **k);

/*
 * The end of every listing: on r != 0 frees arr and reports what and r;
 * otherwise prints arr as JSON (--json: arr set; it is freed), or the empty
 * message when nothing (n) was listed. Returns the exit code.
 */
int cli_list_done(int r, json_t *arr, size_t n, const char *what, const char *empty);

/*
 * The end of a listing gathered as a JSON array of objects: sorts arr by
 * the integer member key (oldest first; equal keys keep their order; key
 * NULL: as gathered), then prints it as JSON (json) or with print, or the
 * empty message. Takes arr (NULL: out of memory) and frees it. On r != 0,
 * reports what and r. Returns the exit code.
 */
int cli_table_done(int r, json_t *arr, const char *key, int json, void (*print)(const json_t *),
                   const char *what, const char *empty);
/* The string member key of o, or "" (borrowed from o). */
const char *cli_str(const json_t *o, const char *key);
/* The integer member key of o, or 0 when absent or negative. Cannot fail. */
uint64_t cli_int(const json_t *o, const char *key);

/* Prints v as JSON on stdout and frees it (json_decref). Cannot fail (output errors show at exit).
 */
void cli_print_json(json_t *v);
/*
 * Checks an id as a registrar types it: the full 32 hex digits, or at least 8
 * of them (a prefix). 0, or BATON_EVALUE naming what (e.g. "request id").
 */
int cli_id_prefix(const char *hex, const char *what);
/*
 * Hex of the first n bytes of p (at most 64), in a static buffer that the
 * next call overwrites (for messages). Cannot fail.
 */
const char *cli_hex(const uint8_t *p, size_t n);
/* "2026-11-23 19:41 UTC" (the number, when out of range), in a static buffer. Cannot fail. */
const char *cli_time(uint64_t t);

/*
 * The time: $BATON_NOW (seconds since the epoch) when set, so tests can put
 * a consent's expiry in the past without waiting; otherwise the clock.
 * Cannot fail.
 */
uint64_t cli_now(void);

/*
 * A progress line for work that takes more than a second, on stderr and only
 * when stderr is a terminal: rewritten in place with \r, cleared at the end.
 * $BATON_PROGRESS_AFTER (milliseconds, default 1000) is how long the work
 * runs before the line appears, so tests need not be slow.
 */
struct cli_progress {
	uint64_t start, last, after; /* milliseconds, monotonic */
	int tty, shown;
};
/* Starts the clock. Cannot fail; nor can the two below. */
void cli_progress_start(struct cli_progress *p);
/* Shows the line fmt (after "baton: "), at most ten times a second. */
void cli_progress(struct cli_progress *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Clears the line if it was shown, so what follows starts a clean line. */
void cli_progress_end(struct cli_progress *p);

/*
 * A progress line for one long step that reports nothing while it runs (a
 * single send, a packet import): after the same second, and on a terminal
 * only, a thread shows "WHAT: N s" until cli_ticker_stop clears it.
 */
struct cli_ticker {
	struct cli_progress p;
	char what[160];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int running, done;
};
/* Starts the clock, and the thread when stderr is a terminal. what is copied. */
void cli_ticker_start(struct cli_ticker *k, const char *what);
/* Stops the thread and clears the line. Safe when no thread was started. */
void cli_ticker_stop(struct cli_ticker *k);

/*
 * Appends one audit entry in t; student, peer and detail may be NULL (not
 * named), and all are copied. Returns 0 or the store's error.
 */
int cli_audit(store_txn *t, const char *action, const char *student, const char *peer,
              const char *detail);

struct send_req;
/*
 * Reports a transfer_send or transfer_release result r for s: what was
 * sealed on stdout; a refusal, a send skipped or an error on stderr.
 * Returns the exit code.
 */
int cli_sent(const struct send_req *s, int r);
/*
 * Finds a held or answered request by its id or a prefix of 8+ hex digits
 * and copies its full id to id. Returns 0, BATON_ENOTFOUND when no request
 * matches, BATON_EVALUE when hex is not a hex prefix of 8+ digits or names
 * more than one request, or the store's error.
 */
int cli_request_id(store *st, const char *hex, uint8_t id[BATON_ID_BYTES]);

int cmd_init(int argc, char **argv);
int cmd_card(int argc, char **argv);
int cmd_endpoint(int argc, char **argv);
int cmd_peer(int argc, char **argv);
int cmd_directory(int argc, char **argv);
int cmd_student(int argc, char **argv);
/* baton student erase, baton student erasures, baton policy retention (cmd_erase.c). */
int cmd_student_erase(int argc, char **argv);
int cmd_student_erasures(int argc, char **argv);
int cmd_policy_retention(int argc, char **argv);
int cmd_review(int argc, char **argv);
int cmd_guardian(int argc, char **argv);
int cmd_audit(int argc, char **argv);
/* baton audit copy and baton audit check (cmd_audit_copy.c), from cmd_audit. */
int cmd_audit_copy(int argc, char **argv);
int cmd_audit_check(int argc, char **argv);
int cmd_rekey(int argc, char **argv);
int cmd_consent(int argc, char **argv);
int cmd_send(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_receipt(int argc, char **argv);
int cmd_inbox(int argc, char **argv);
int cmd_outbox(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_requests(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_deny(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_web(int argc, char **argv);
int cmd_mail(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_upgrade(int argc, char **argv);
/* baton authority: an authority's member list and signed directory (cmd_authority.c). */
int cmd_authority(int argc, char **argv);

#endif

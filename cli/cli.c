/* Helpers shared by the subcommands: errors, options, passphrases, output. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "bti.h"
#include "cli.h"
#include "serve.h"
#include "transfer.h"
#include "view.h"

#define PASS_MAX 1024

int cli_exit_code(int err)
{
	switch (err) {
	case BATON_OK:
		return EXIT_OK;
	case BATON_EINVAL:
		return EXIT_USAGE;
	case BATON_EIO:
	case BATON_ENOMEM:
	case BATON_EINTERNAL:
	case BATON_EPERM:
	case BATON_EEXIST:
		return EXIT_ENV;
	default:
		/*
		 * A code libbaton does not define is one of the store's own (a map to
		 * grow before the transaction runs again): never the input's fault.
		 */
		return strcmp(baton_errname(err), "EUNKNOWNCODE") == 0 ? EXIT_ENV : EXIT_REJECTED;
	}
}

int cli_fail(const char *what, int err)
{
	const char *d = baton_diag_for(err);
	if (d[0] == '\0')
		d = baton_strerror(err);
	size_t n = what ? strlen(what) : 0;
	/* A message that already starts with the name it is about says it once. */
	if (what == NULL || (strncmp(d, what, n) == 0 && d[n] == ':'))
		fprintf(stderr, "baton: %s\n", d);
	else
		fprintf(stderr, "baton: %s: %s\n", what, d);
	bti_diag_clear();
	return cli_exit_code(err);
}

int cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("baton: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* The edit distance of a and b (optimal string alignment), up to 64 bytes each. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), d[65][65];
	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	return d[la][lb];
}

int cli_unknown(const char *prog, const char *name, const struct cmd *table, size_t n)
{
	const char *best = NULL, *sp = prog ? " " : "", *pre = prog ? prog : "";
	size_t best_d = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = distance(name, table[i].name);
		if (d < best_d) {
			best_d = d;
			best = table[i].name;
		}
	}
	if (best)
		fprintf(stderr, "baton: unknown command \"%s%s%s\"; did you mean \"%s%s%s\"?\n",
		        pre, sp, name, pre, sp, best);
	else
		fprintf(stderr, "baton: unknown command \"%s%s%s\"; 'baton help%s%s' lists them\n",
		        pre, sp, name, sp, pre);
	return EXIT_USAGE;
}

int cli_dispatch(const char *prog, const struct cmd *table, size_t n, int argc, char **argv)
{
	FILE *f = stderr;
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		f = stdout;
	else if (argc >= 2) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(argv[1], table[i].name) == 0)
				return table[i].fn(argc - 1, argv + 1);
		return cli_unknown(prog, argv[1], table, n);
	}
	fprintf(f, "usage: baton %s COMMAND [ARGS]\n\nCommands:\n", prog);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "  %-10s %s\n", table[i].name, table[i].help);
	return f == stdout ? EXIT_OK : EXIT_USAGE;
}

int cli_common_opt(struct cli_common *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_DIR:
		c->dir = arg;
		return 1;
	case OPT_JSON:
		c->json = 1;
		return 1;
	case OPT_PASSFILE:
		c->passphrase_file = arg;
		return 1;
	case OPT_NOPASS:
		c->no_passphrase = 1;
		return 1;
	case OPT_YES:
		c->yes = 1;
		return 1;
	}
	return 0;
}

static const char *default_dir;

void cli_set_default_dir(const char *dir)
{
	default_dir = dir;
}

const char *cli_dir(const struct cli_common *c)
{
	if (c->dir)
		return c->dir;
	if (default_dir)
		return default_dir;
	if (getenv("BATON_DIR") && *getenv("BATON_DIR"))
		return getenv("BATON_DIR");
	return "./baton-node";
}

static const int tty_signals[] = {SIGINT, SIGTERM, SIGQUIT, SIGHUP};
static struct termios tty_saved;
static volatile sig_atomic_t tty_fd = -1;

static void restore_tty(int sig)
{
	/* tcsetattr, signal and raise are async-signal-safe. */
	if (tty_fd >= 0)
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int read_tty_line(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC), n = 0;
	if (fd < 0)
		return -1;
	if (write(fd, prompt, strlen(prompt)) < 0) {
		close(fd);
		return -1;
	}
	int have_term = tcgetattr(fd, &old) == 0;
	/* Ctrl-C at the prompt: put echo back before dying of it. */
	struct sigaction act, prev_act[sizeof(tty_signals) / sizeof(tty_signals[0])];
	memset(&act, 0, sizeof(act));
	act.sa_handler = restore_tty;
	sigemptyset(&act.sa_mask);
	tty_saved = old;
	tty_fd = have_term ? fd : -1;
	for (size_t i = 0; i < sizeof(tty_signals) / sizeof(tty_signals[0]); i++)
		sigaction(tty_signals[i], &act, &prev_act[i]);
	if (have_term) {
		quiet = old;
		quiet.c_lflag &= (tcflag_t)~ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	char ch;
	while (read(fd, &ch, 1) == 1 && ch != '\n' && ch != '\r')
		if ((size_t)n < cap - 1)
			buf[n++] = ch;
	buf[n] = 0;
	if (have_term)
		tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		n = -1;
	close(fd);
	for (size_t i = 0; i < sizeof(tty_signals) / sizeof(tty_signals[0]); i++)
		sigaction(tty_signals[i], &prev_act[i], NULL);
	tty_fd = -1;
	return n;
}

int cli_passphrase(const struct cli_common *c, int confirm, char **pass, size_t *len)
{
	char *p;

	*pass = NULL;
	*len = 0;
	if (c->no_passphrase) {
		fprintf(stderr, "baton: warning: --no-passphrase: the secret key is stored "
		                "unencrypted (use only for tests and demos)\n");
		return 0;
	}
	if ((p = sodium_malloc(PASS_MAX)) == NULL)
		return BATON_ENOMEM;
	memset(p, 0, PASS_MAX);
	if (c->passphrase_file) {
		uint8_t *buf;
		size_t n;
		int r = baton_file_read_private(c->passphrase_file, PASS_MAX - 1, &buf, &n);
		if (r != 0) {
			sodium_free(p);
			return r;
		}
		memcpy(p, buf, n);
		sodium_memzero(buf, n);
		free(buf);
		p[strcspn(p, "\r\n")] = 0;
	} else if (getenv("BATON_PASSPHRASE")) {
		snprintf(p, PASS_MAX, "%s", getenv("BATON_PASSPHRASE"));
	} else {
		char *again;
		if (read_tty_line("Passphrase: ", p, PASS_MAX) < 0) {
			sodium_free(p);
			return bti_diag_err(BATON_EINVAL,
			                    "no passphrase: give --passphrase-file FILE, set "
			                    "BATON_PASSPHRASE, or run at a terminal");
		}
		if (confirm) {
			if ((again = sodium_malloc(PASS_MAX)) == NULL) {
				sodium_free(p);
				return BATON_ENOMEM;
			}
			int ok =
			    read_tty_line("Again: ", again, PASS_MAX) >= 0 && strcmp(p, again) == 0;
			sodium_free(again);
			if (!ok) {
				sodium_free(p);
				return bti_diag_err(BATON_EINVAL, "the passphrases do not match");
			}
		}
	}
	if (p[0] == 0) {
		sodium_free(p);
		return bti_diag_err(BATON_EINVAL, "empty passphrase (use --no-passphrase to "
		                                  "store the key unencrypted)");
	}
	*pass = p;
	*len = strlen(p);
	return 0;
}

void cli_pass_free(char *pass)
{
	if (pass)
		sodium_free(pass);
}

static void say_recovered(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "baton: %s\n", line);
}

int cli_open_store(const struct cli_common *c, store **s)
{
	uint32_t from = 0;
	int r = store_open(cli_dir(c), 0, s);
	if (r == BATON_EVERSION && store_schema_of(cli_dir(c), &from) == 0) {
		if ((r = cli_upgrade(c, from, 1, s)) != EXIT_OK)
			return r;
	} else if (r != 0)
		return cli_fail(NULL, r);
	if (store_compact_owed(cli_dir(c)))
		fprintf(stderr,
		        "baton: %s: an erasure was not followed by the compaction that takes its "
		        "data off the disk: stop 'baton serve' and run 'baton student erase "
		        "--compact --dir %s'\n",
		        cli_dir(c), cli_dir(c));
	/* BATON_NOW reaches every transaction, not just the rules that read it. */
	store_set_clock(*s, cli_now);
	/* What a send killed midway left: settled before anything else, and said. */
	if ((r = transfer_recover(*s, cli_dir(c), say_recovered, NULL)) != 0) {
		store_close(*s);
		*s = NULL;
		return cli_fail("outbox", r);
	}
	return EXIT_OK;
}

int cli_load_school_key(const struct cli_common *c, baton_key **k)
{
	char path[4096], *pass = NULL;
	size_t plen = 0;
	int enc, r;

	snprintf(path, sizeof(path), "%s/school.key", cli_dir(c));
	if ((r = baton_key_file_encrypted(path, &enc)) != 0)
		return cli_fail("school key", r);
	if (enc) {
		struct cli_common c2 = *c;
		c2.no_passphrase = 0;
		if ((r = cli_passphrase(&c2, 0, &pass, &plen)) != 0)
			return cli_fail("passphrase", r);
	}
	r = baton_key_load(path, pass, plen, k);
	cli_pass_free(pass);
	return r ? cli_fail("school key", r) : EXIT_OK;
}

void cli_print_json(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	fputc('\n', stdout);
	json_decref(v);
}

const char *cli_hex(const uint8_t *p, size_t n)
{
	static char buf[2 * 64 + 1];
	sodium_bin2hex(buf, sizeof(buf), p, n > 64 ? 64 : n);
	return buf;
}

const char *cli_time(uint64_t t)
{
	static char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;
	if (t > (uint64_t)INT64_MAX || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm) == 0)
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)t);
	return buf;
}

int cli_audit(store_txn *t, const char *action, const char *student, const char *peer,
              const char *detail)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s", action);
	if (student)
		snprintf(e.student, sizeof(e.student), "%s", student);
	if (peer)
		snprintf(e.peer, sizeof(e.peer), "%s", peer);
	if (detail)
		snprintf(e.detail, sizeof(e.detail), "%s", detail);
	return store_audit_append(t, &e);
}

uint64_t cli_now(void)
{
	return serve_now();
}

int cli_list_done(int r, json_t *arr, size_t n, const char *what, const char *empty)
{
	if (r != 0) {
		json_decref(arr);
		return cli_fail(what, r);
	}
	if (arr)
		cli_print_json(arr);
	else if (n == 0)
		printf("%s\n", empty);
	return EXIT_OK;
}

int cli_common_only(int argc, char **argv, struct cli_common *c, const char *usage)
{
	static const struct option opts[] = {CLI_COMMON_OPTS, {NULL, 0, NULL, 0}};
	int opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1)
		if (!cli_common_opt(c, opt, optarg)) {
			fputs(usage, opt == 'h' ? stdout : stderr);
			return opt == 'h' ? EXIT_OK : EXIT_USAGE;
		}
	return -1;
}

int cli_id_prefix(const char *hex, const char *what)
{
	size_t n = strlen(hex);
	if (n < 8 || n > 2 * BATON_ID_BYTES || strspn(hex, "0123456789abcdefABCDEF") != n)
		return bti_diag_err(BATON_EVALUE, "%s \"%s\": expected 8 to 32 hex digits", what,
		                    hex);
	return 0;
}

const char *cli_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

uint64_t cli_int(const json_t *o, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(o, key));
	return v > 0 ? (uint64_t)v : 0;
}

int cli_table_done(int r, json_t *arr, const char *key, int json, void (*print)(const json_t *),
                   const char *what, const char *empty)
{
	if (r == 0 && arr == NULL)
		r = BATON_ENOMEM;
	if (r == 0 && key != NULL)
		r = view_sort_by(arr, key);
	if (r != 0) {
		json_decref(arr);
		return cli_fail(what, r);
	}
	if (json) {
		cli_print_json(arr);
		return EXIT_OK;
	}
	if (json_array_size(arr) == 0)
		printf("%s\n", empty);
	else
		print(arr);
	json_decref(arr);
	return EXIT_OK;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void cli_progress_start(struct cli_progress *p)
{
	const char *after = getenv("BATON_PROGRESS_AFTER");
	char *end;
	memset(p, 0, sizeof(*p));
	/* A pipe or a log file gets no progress: only a person watching does. */
	p->tty = isatty(STDERR_FILENO);
	p->after = 1000;
	if (after && *after) {
		unsigned long v = strtoul(after, &end, 10);
		if (*end == '\0')
			p->after = v;
	}
	p->start = mono_ms();
}

void cli_progress(struct cli_progress *p, const char *fmt, ...)
{
	char line[200];
	va_list ap;
	uint64_t now;

	if (!p->tty)
		return;
	now = mono_ms();
	if (now - p->start < p->after || (p->shown && now - p->last < 100))
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "\r\033[Kbaton: %s", line);
	fflush(stderr);
	p->shown = 1;
	p->last = now;
}

void cli_progress_end(struct cli_progress *p)
{
	if (p->shown) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	p->shown = 0;
}

/* The columns a character takes on a terminal: 0 for a combining mark, 2 for East Asian wide. */
static int char_width(uint32_t c)
{
	static const uint32_t zero[][2] = {{0x300, 0x36f},   {0x483, 0x489},   {0x591, 0x5bd},
	                                   {0x1ab0, 0x1aff}, {0x1dc0, 0x1dff}, {0x200b, 0x200f},
	                                   {0x20d0, 0x20ff}, {0xfe00, 0xfe0f}, {0xfe20, 0xfe2f}};
	static const uint32_t wide[][2] = {
	    {0x1100, 0x115f},   {0x2e80, 0x303e},  {0x3041, 0x33ff}, {0x3400, 0x4dbf},
	    {0x4e00, 0x9fff},   {0xa000, 0xa4cf},  {0xac00, 0xd7a3}, {0xf900, 0xfaff},
	    {0xfe30, 0xfe4f},   {0xff00, 0xff60},  {0xffe0, 0xffe6}, {0x1f300, 0x1f64f},
	    {0x1f900, 0x1f9ff}, {0x20000, 0x3fffd}};
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		if (c >= zero[i][0] && c <= zero[i][1])
			return 0;
	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (c >= wide[i][0] && c <= wide[i][1])
			return 2;
	return 1;
}

size_t cli_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t w = 0;
	while (*p) {
		uint32_t c = *p;
		int n = c < 0x80 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
		if (n)
			c &= 0x3fu >> n;
		p++;
		for (; n > 0 && (*p & 0xc0) == 0x80; n--, p++)
			c = (c << 6) | (*p & 0x3fu);
		w += (size_t)char_width(c);
	}
	return w;
}

void cli_pad(FILE *f, const char *s, size_t width)
{
	size_t w = cli_width(s);
	fputs(s, f);
	for (; w < width; w++)
		fputc(' ', f);
}

static void *ticker_run(void *arg)
{
	struct cli_ticker *k = arg;
	struct timespec at;
	pthread_mutex_lock(&k->lock);
	while (!k->done) {
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_nsec += 200 * 1000000L;
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&k->wake, &k->lock, &at);
		if (!k->done)
			cli_progress(&k->p, "%s: %llu s", k->what,
			             (unsigned long long)((mono_ms() - k->p.start) / 1000));
	}
	pthread_mutex_unlock(&k->lock);
	return NULL;
}

void cli_ticker_start(struct cli_ticker *k, const char *what)
{
	pthread_condattr_t ca;
	memset(k, 0, sizeof(*k));
	cli_progress_start(&k->p);
	snprintf(k->what, sizeof(k->what), "%s", what);
	if (!k->p.tty)
		return;
	/* Shown at once when the delay is 0, so that it does not wait on the thread's first tick.
	 */
	cli_progress(&k->p, "%s: 0 s", k->what);
	pthread_mutex_init(&k->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&k->wake, &ca);
	pthread_condattr_destroy(&ca);
	/* Without the thread there is no progress line, and nothing else changes. */
	k->running = pthread_create(&k->thread, NULL, ticker_run, k) == 0;
}

void cli_ticker_stop(struct cli_ticker *k)
{
	if (!k->running)
		return;
	pthread_mutex_lock(&k->lock);
	k->done = 1;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
	pthread_join(k->thread, NULL);
	pthread_cond_destroy(&k->wake);
	pthread_mutex_destroy(&k->lock);
	k->running = 0;
	cli_progress_end(&k->p);
}

/*
 * baton-demo BATON: in a temporary directory, two schools, a parent, the sample
 * school's students, a consent, both nodes serving on loopback, and one
 * record with its PDF attachment delivered over the network; every step is
 * printed as the command a registrar or parent would type, with its output.
 * Non-interactive: the demo's keys use a fixed passphrase given in the
 * environment, never on a command line. A program of its own, run by
 * `make demo` with the baton binary to show: it is not installed.
 *
 * baton-demo --web BATON (make demo WEB=1): the same schools, parent and
 * consent, then both nodes serve their consoles on loopback until Ctrl-C,
 * each with a registrar whose password is made up for the run and shown on
 * the terminal only, so that a newcomer sends the record in a browser.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char self[4096], dir[64];
static int step_no;
/* Set by SIGINT and SIGTERM while the consoles run. */
static volatile sig_atomic_t got_stop;

/* The demo's files, its nodes' ports, and the serve processes it started. */
struct demo {
	char lhs[128], ras[128], parent_key[128], lhs_card[128], ras_card[128], consent[128];
	char pubkey[128], lhs_log[128], ras_log[128], export[128];
	char endpoint_a[64], endpoint_b[64];
	const char *sample;
	int web_a, web_b;
	pid_t sa, sb;
};

static void step(const char *title)
{
	printf("\n== %d. %s\n", ++step_no, title);
	fflush(stdout);
}

/* Runs baton with args (NULL-terminated), showing the command; output to out or stdout. */
static int run(const char *out, ...)
{
	char *argv[32];
	int argc = 0, status = -1;
	va_list ap;
	pid_t pid;
	posix_spawn_file_actions_t fa;

	argv[argc++] = (char *)"baton";
	va_start(ap, out);
	for (char *a; argc < 31 && (a = va_arg(ap, char *)) != NULL;)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	printf("$");
	for (int i = 0; i < argc; i++)
		printf(strchr(argv[i], ' ') ? " \"%s\"" : " %s", argv[i]);
	printf("%s%s\n", out ? " > " : "", out ? out : "");
	fflush(stdout);
	posix_spawn_file_actions_init(&fa);
	/* Messages are shown with the rest, in order; only standard output goes to out. */
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	if (out)
		posix_spawn_file_actions_addopen(&fa, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static pid_t serve(const char *node, const char *log)
{
	char *argv[] = {(char *)"baton", (char *)"serve", (char *)"--dir", (char *)node, NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	printf("$ baton serve --dir %s &    (log in %s)\n", node, log);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (posix_spawn(&pid, self, &fa, NULL, argv, environ) != 0)
		pid = -1;
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

static char *first_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	buf[0] = 0;
	if (f && fgets(buf, (int)cap, f))
		buf[strcspn(buf, "\n")] = 0;
	if (f)
		fclose(f);
	return buf;
}

static void show_file(const char *path)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		fputs(line, stdout);
	if (f)
		fclose(f);
}

static int contains(const char *path, const char *needle)
{
	char line[1024];
	int found = 0;
	FILE *f = fopen(path, "r");
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

/* The sample school shipped with the source, or next to an installed binary. */
static int find_sample(char *out, size_t cap)
{
	const char *env = getenv("BATON_SAMPLE");
	char base[4096];
	if (env && access(env, R_OK) == 0) {
		snprintf(out, cap, "%s", env);
		return 0;
	}
	snprintf(base, sizeof(base), "%s", self);
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(base, '/');
		if (slash == NULL)
			break;
		*slash = 0;
		if ((size_t)snprintf(out, cap, "%s/tests/data/school.json", base) < cap &&
		    access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

/*
 * n loopback ports free at this moment, each different: the system picks
 * them, held open together so that it cannot pick one twice. 0 or -1.
 */
static int free_ports(int *ports, int n)
{
	int fds[4], got = 0, r = -1;
	struct sockaddr_in a;
	socklen_t len;

	for (; got < n && got < 4; got++) {
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(a);
		if ((fds[got] = socket(AF_INET, SOCK_STREAM, 0)) < 0)
			goto out;
		if (bind(fds[got], (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    getsockname(fds[got], (struct sockaddr *)&a, &len) != 0) {
			close(fds[got]);
			goto out;
		}
		ports[got] = ntohs(a.sin_port);
	}
	r = got == n ? 0 : -1;
out:
	while (got > 0)
		close(fds[--got]);
	if (r != 0)
		fprintf(stderr, "baton-demo: cannot find a free port on loopback: %s\n",
		        strerror(errno));
	return r;
}

static void demo_paths(struct demo *d)
{
#define P(name) snprintf(d->name, sizeof(d->name), "%s/%s", dir, #name)
	P(lhs), P(ras), P(parent_key), P(lhs_card), P(ras_card), P(pubkey), P(lhs_log), P(ras_log);
	P(export);
#undef P
	snprintf(d->consent, sizeof(d->consent), "%s/S-1018.consent", dir);
}

/* The two schools, pinned both ways, the students, the parent's key and consent. */
static int setup(struct demo *d)
{
	char line[256];

	step("Two schools set up their nodes: keys, store, signed card, fingerprint");
	if (run(NULL, "init", "--name", "Lincoln High School", "--code", "LHS-001", "--endpoint",
	        d->endpoint_a, "--dir", d->lhs, NULL) ||
	    run(NULL, "init", "--name", "Riverside Academy", "--code", "RAS-204", "--endpoint",
	        d->endpoint_b, "--dir", d->ras, NULL))
		return -1;

	step("They swap cards and pin each other (after reading fingerprints aloud)");
	if (run(NULL, "card", "--dir", d->lhs, "--out", d->lhs_card, NULL) ||
	    run(NULL, "card", "--dir", d->ras, "--out", d->ras_card, NULL) ||
	    run(NULL, "peer", "add", d->ras_card, "--dir", d->lhs, NULL) ||
	    run(NULL, "peer", "add", d->lhs_card, "--dir", d->ras, NULL))
		return -1;

	step("Lincoln imports its students (a made-up school of 240)");
	if (run(NULL, "student", "import", d->sample, "--dir", d->lhs, NULL) ||
	    run(NULL, "student", "show", "S-1018", "--dir", d->lhs, NULL))
		return -1;

	step("A parent makes a key on their own device; the registrar links it to S-1018");
	if (run(NULL, "guardian", "keygen", "--out", d->parent_key, NULL) ||
	    run(d->pubkey, "guardian", "pubkey", d->parent_key, NULL))
		return -1;
	first_line(d->pubkey, line, sizeof(line));
	if (run(NULL, "guardian", "link", "S-1018", line, "--relation", "mother", "--dir", d->lhs,
	        NULL))
		return -1;

	step("The parent consents: everything but the sensitive sections, to Riverside");
	return run(NULL, "consent", "grant", "--key", d->parent_key, "--student", "S-1018",
	           "--from", d->lhs_card, "--to", d->ras_card, "--sections", "all", "--expires",
	           "30d", "--yes", "--out", d->consent, NULL)
	           ? -1
	           : 0;
}

/* The scripted transfer: the record sent, received, receipted and audited. */
static int transfer(struct demo *d)
{
	char out_json[200];

	step("Both nodes go on the network (loopback)");
	if ((d->sa = serve(d->lhs, d->lhs_log)) < 0 || (d->sb = serve(d->ras, d->ras_log)) < 0)
		return -1;

	step("Lincoln checks the consent against every rule and sends the record");
	if (run(NULL, "send", "S-1018", "--to", "RAS-204", "--consent", d->consent, "--dir", d->lhs,
	        NULL))
		return -1;

	step("The packet travels; Riverside imports it and answers with a signed receipt");
	for (int i = 0; i < 150 && !contains(d->lhs_log, "receipt accepted"); i++) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	show_file(d->lhs_log);
	show_file(d->ras_log);
	if (!contains(d->lhs_log, "receipt accepted")) {
		fprintf(stderr, "baton: demo: the packet did not arrive within 30 seconds\n");
		return -1;
	}
	if (run(NULL, "outbox", "--dir", d->lhs, NULL) || run(NULL, "inbox", "--dir", d->ras, NULL))
		return -1;

	step("The record at Riverside: no health, discipline or special education");
	if (run(NULL, "student", "show", "S-1018", "--dir", d->ras, NULL))
		return -1;
	mkdir(d->export, 0700);
	snprintf(out_json, sizeof(out_json), "%s/S-1018.json", d->export);
	if (run(NULL, "student", "export", "S-1018", "--out", out_json, "--dir", d->ras, NULL))
		return -1;
	printf("(the transcript PDF arrived as %s/S-1018-files/transcript.pdf)\n", d->export);

	step("Both audit logs: the disclosure at Lincoln, the arrival at Riverside");
	if (run(NULL, "audit", "--student", "S-1018", "--dir", d->lhs, NULL) ||
	    run(NULL, "audit", "--dir", d->ras, NULL) ||
	    run(NULL, "audit", "verify", "--dir", d->lhs, NULL) ||
	    run(NULL, "audit", "verify", "--dir", d->ras, NULL))
		return -1;
	printf("\nDone: one record moved school to school, sealed, consented, receipted.\n");
	return 0;
}

static void on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

/* Only so that a serve that ends wakes the wait for Ctrl-C. */
static void on_child(int sig)
{
	(void)sig;
}

static void catch_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_child;
	sigaction(SIGCHLD, &sa, NULL);
}

/* 1 when pid has ended (left for stop_serve to collect), else 0. */
static int ended(pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/*
 * A made-up password, 80 bits as four groups of four letters and digits
 * (none that are easily mistaken for another), into out.
 */
static int make_password(char out[20])
{
	static const char abc[] = "abcdefghijkmnpqrstuvwxyz23456789";
	unsigned char b[16];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return -1;
	for (int i = 0, o = 0; i < 16; i++) {
		out[o++] = abc[b[i] & 31];
		if (i % 4 == 3)
			out[o++] = i == 15 ? 0 : '-';
	}
	return 0;
}

/*
 * The registrar maria at node, with a new password (into pw), given to
 * baton in a 0600 file that is gone once the account exists.
 */
static int add_registrar(const char *node, char pw[20])
{
	char file[128];
	int fd, r;
	snprintf(file, sizeof(file), "%s/maria.pw", dir);
	if (make_password(pw) != 0 ||
	    (fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600)) < 0) {
		fprintf(stderr, "baton-demo: cannot make a password: %s\n", strerror(errno));
		return -1;
	}
	r = dprintf(fd, "%s\n", pw) < 0;
	r |= close(fd) != 0;
	r = r ? -1
	      : run(NULL, "user", "add", "maria", "--role", "registrar", "--password-file", file,
	            "--dir", node, NULL);
	unlink(file);
	return r ? -1 : 0;
}

/* Waits until the serve pid of log listens and serves its console. */
static int wait_ready(pid_t pid, const char *log)
{
	for (int i = 0; i < 600 && !got_stop && !ended(pid); i++) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		if (contains(log, "serve: listening") && contains(log, "web: serving"))
			return 0;
		nanosleep(&ts, NULL);
	}
	show_file(log);
	if (!got_stop)
		fprintf(stderr, "baton-demo: the node did not start its console; its log: %s\n",
		        log);
	return -1;
}

/* Until Ctrl-C (SIGINT) or SIGTERM, or until a serve ends by itself. */
static void wait_stop(const struct demo *d)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	while (!got_stop && !ended(d->sa) && !ended(d->sb))
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* Stops the serve pid of school: 0 when it ended with status 0. */
static int stop_serve(pid_t pid, const char *school, const char *log)
{
	int status = 0;
	if (pid <= 0)
		return 0;
	kill(pid, SIGTERM);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("%s stopped.\n", school);
		return 0;
	}
	fprintf(stderr, "baton-demo: the node of %s ended with %s %d; its log: %s\n", school,
	        WIFEXITED(status) ? "exit status" : "signal",
	        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log);
	return -1;
}

static void web_show(const struct demo *d, const char *pw_a, const char *pw_b)
{
	printf("\nBoth schools are running with their consoles. This is a demo: each password\n"
	       "below was made up for this run and is shown here only.\n\n");
	printf("Lincoln High School: http://127.0.0.1:%d/  user maria  password %s\n", d->web_a,
	       pw_a);
	printf("Riverside Academy: http://127.0.0.1:%d/  user maria  password %s\n", d->web_b,
	       pw_b);
	printf("\nThe parent's consent, for S-1018 to go to Riverside Academy: %s\n"
	       "Sign in at Lincoln, open Send, choose that file and send S-1018's record to\n"
	       "Riverside Academy; then sign in at Riverside and find it in its inbox.\n\n"
	       "Press Ctrl-C to stop both schools.\n",
	       d->consent);
	fflush(stdout);
}

/* The consoles: accounts, settings, both serves, until Ctrl-C. */
static int web_demo(struct demo *d)
{
	char pw_a[20], pw_b[20], listen_a[32], listen_b[32];
	int r = -1;

	step("Each school's registrar gets a console account (a made-up password)");
	if (add_registrar(d->lhs, pw_a) != 0 || add_registrar(d->ras, pw_b) != 0)
		goto out;
	snprintf(listen_a, sizeof(listen_a), "127.0.0.1:%d", d->web_a);
	snprintf(listen_b, sizeof(listen_b), "127.0.0.1:%d", d->web_b);

	step("Both nodes go on the network (loopback), each serving its console");
	if (run(NULL, "web", "set", "--listen", listen_a, "--dir", d->lhs, NULL) ||
	    run(NULL, "web", "set", "--listen", listen_b, "--dir", d->ras, NULL))
		goto out;
	catch_signals();
	if ((d->sa = serve(d->lhs, d->lhs_log)) < 0 || (d->sb = serve(d->ras, d->ras_log)) < 0 ||
	    wait_ready(d->sa, d->lhs_log) != 0 || wait_ready(d->sb, d->ras_log) != 0)
		goto out;
	web_show(d, pw_a, pw_b);
	wait_stop(d);
	printf("\nStopping both schools.\n");
	r = 0;
out:
	explicit_bzero(pw_a, sizeof(pw_a));
	explicit_bzero(pw_b, sizeof(pw_b));
	r |= stop_serve(d->sa, "Lincoln High School", d->lhs_log);
	r |= stop_serve(d->sb, "Riverside Academy", d->ras_log);
	d->sa = d->sb = -1;
	fflush(stdout);
	return r ? -1 : 0;
}

static int usage(FILE *f)
{
	fprintf(f, "usage: baton-demo [--web] BATON\n\nWith the baton binary BATON, in a temporary "
	           "directory: two schools, a parent,\na consent, and one record sent over the "
	           "network on loopback, every step shown\nas the command to type.\n\n"
	           "--web: instead of sending the record, both schools serve their consoles on\n"
	           "loopback, each with a registrar whose password is made up and shown; the\n"
	           "record is sent in a browser. Ctrl-C stops both.\n");
	return f == stdout ? 0 : 1;
}

/* The temporary directory, the environment and the ports of a run. */
static int prepare(struct demo *d, int web)
{
	int ports[4];
	snprintf(dir, sizeof(dir), "/tmp/baton-demo-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "baton-demo: cannot make a temporary directory: %s\n",
		        strerror(errno));
		return -1;
	}
	/* A fixed passphrase for the demo's throwaway keys, given the way scripts give it. */
	setenv("BATON_PASSPHRASE", "demo passphrase, not a secret", 1);
	unsetenv("BATON_DIR");
	unsetenv("BATON_NOW");
	if (free_ports(ports, web ? 4 : 2) != 0)
		return -1;
	snprintf(d->endpoint_a, sizeof(d->endpoint_a), "tcp://127.0.0.1:%d", ports[0]);
	snprintf(d->endpoint_b, sizeof(d->endpoint_b), "tcp://127.0.0.1:%d", ports[1]);
	d->web_a = web ? ports[2] : 0;
	d->web_b = web ? ports[3] : 0;
	demo_paths(d);
	return 0;
}

int main(int argc, char **argv)
{
	char sample[4096];
	struct demo d = {.sample = sample, .sa = -1, .sb = -1};
	int web = argc == 3 && strcmp(argv[1], "--web") == 0, rc;
	const char *bin = argv[argc - 1];

	if (argc == 2 && strcmp(argv[1], "--help") == 0)
		return usage(stdout);
	if (argc != 2 + web || bin[0] == '-')
		return usage(stderr);
	if (realpath(bin, self) == NULL || access(self, X_OK) != 0) {
		fprintf(stderr, "baton-demo: %s: not an executable baton binary\n", bin);
		return 1;
	}
	if (find_sample(sample, sizeof(sample)) != 0) {
		fprintf(stderr, "baton-demo: tests/data/school.json not found; set BATON_SAMPLE\n");
		return 3;
	}
	if (prepare(&d, web) != 0)
		return 3;
	printf("Baton demo, working in %s\n", dir);
	rc = setup(&d) == 0 && (web ? web_demo(&d) : transfer(&d)) == 0 ? 0 : 3;
	if (rc != 0)
		fprintf(stderr, "baton-demo: a step failed; see above (files in %s)\n", dir);
	if (d.sa > 0)
		kill(d.sa, SIGTERM), waitpid(d.sa, NULL, 0);
	if (d.sb > 0)
		kill(d.sb, SIGTERM), waitpid(d.sb, NULL, 0);
	if (rc == 0 && web)
		printf("The demo's files are kept in %s.\n", dir);
	return rc;
}

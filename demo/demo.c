/*
 * baton-demo BATON: in a temporary directory, two schools, a parent, the sample
 * school's students, a consent, both nodes serving on loopback, and one
 * record with its PDF attachment delivered over the network; every step is
 * printed as the command a registrar or parent would type, with its output.
 * Non-interactive: the demo's keys use a fixed passphrase given in the
 * environment, never on a command line. A program of its own, run by
 * `make demo` with the baton binary to show: it is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static char self[4096], dir[64];
static int step_no;

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

#define P(name) (snprintf(name##_buf, sizeof(name##_buf), "%s/%s", dir, #name), name##_buf)

int main(int argc, char **argv)
{
	char sample[4096], lhs_buf[128], ras_buf[128], parent_key_buf[128], lhs_card_buf[128];
	char ras_card_buf[128], consent_buf[128], pubkey_buf[128], lhs_log_buf[128];
	char ras_log_buf[128], export_buf[128], endpoint_a[64], endpoint_b[64], line[256];
	pid_t sa = -1, sb = -1;
	int rc = 3;

	if (argc != 2 || strcmp(argv[1], "--help") == 0) {
		fprintf(
		    argc == 2 ? stdout : stderr,
		    "usage: baton-demo BATON\n\nWith the baton binary BATON, in a temporary "
		    "directory: two schools, a parent,\na consent, and one record sent over the "
		    "network on loopback, every step shown\nas the command to type.\n");
		return argc == 2 ? 0 : 1;
	}
	if (realpath(argv[1], self) == NULL || access(self, X_OK) != 0) {
		fprintf(stderr, "baton-demo: %s: not an executable baton binary\n", argv[1]);
		return 1;
	}
	if (find_sample(sample, sizeof(sample)) != 0) {
		fprintf(stderr, "baton-demo: tests/data/school.json not found; set BATON_SAMPLE\n");
		return 3;
	}
	snprintf(dir, sizeof(dir), "/tmp/baton-demo-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "baton-demo: cannot make a temporary directory: %s\n",
		        strerror(errno));
		return 3;
	}
	/* A fixed passphrase for the demo's throwaway keys, given the way scripts give it. */
	setenv("BATON_PASSPHRASE", "demo passphrase, not a secret", 1);
	unsetenv("BATON_DIR");
	unsetenv("BATON_NOW");
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	int port = 20000 + rand() % 20000;
	snprintf(endpoint_a, sizeof(endpoint_a), "tcp://127.0.0.1:%d", port);
	snprintf(endpoint_b, sizeof(endpoint_b), "tcp://127.0.0.1:%d", port + 1);
	const char *lhs = P(lhs), *ras = P(ras), *parent_key = P(parent_key);
	const char *lhs_card = P(lhs_card), *ras_card = P(ras_card), *consent = P(consent);
	const char *pubkey = P(pubkey), *lhs_log = P(lhs_log), *ras_log = P(ras_log);
	const char *export = P(export);
	printf("Baton demo, working in %s\n", dir);

	step("Two schools set up their nodes: keys, store, signed card, fingerprint");
	if (run(NULL, "init", "--name", "Lincoln High School", "--code", "LHS-001", "--endpoint",
	        endpoint_a, "--dir", lhs, NULL) ||
	    run(NULL, "init", "--name", "Riverside Academy", "--code", "RAS-204", "--endpoint",
	        endpoint_b, "--dir", ras, NULL))
		goto fail;

	step("They swap cards and pin each other (after reading fingerprints aloud)");
	if (run(NULL, "card", "--dir", lhs, "--out", lhs_card, NULL) ||
	    run(NULL, "card", "--dir", ras, "--out", ras_card, NULL) ||
	    run(NULL, "peer", "add", ras_card, "--dir", lhs, NULL) ||
	    run(NULL, "peer", "add", lhs_card, "--dir", ras, NULL))
		goto fail;

	step("Lincoln imports its students (a made-up school of 240)");
	if (run(NULL, "student", "import", sample, "--dir", lhs, NULL) ||
	    run(NULL, "student", "show", "S-1018", "--dir", lhs, NULL))
		goto fail;

	step("A parent makes a key on their own device; the registrar links it to S-1018");
	if (run(NULL, "guardian", "keygen", "--out", parent_key, NULL) ||
	    run(pubkey, "guardian", "pubkey", parent_key, NULL))
		goto fail;
	first_line(pubkey, line, sizeof(line));
	if (run(NULL, "guardian", "link", "S-1018", line, "--relation", "mother", "--dir", lhs,
	        NULL))
		goto fail;

	step("The parent consents: everything but the sensitive sections, to Riverside");
	if (run(NULL, "consent", "grant", "--key", parent_key, "--student", "S-1018", "--from",
	        lhs_card, "--to", ras_card, "--sections", "all", "--expires", "30d", "--yes",
	        "--out", consent, NULL))
		goto fail;

	step("Both nodes go on the network (loopback)");
	if ((sa = serve(lhs, lhs_log)) < 0 || (sb = serve(ras, ras_log)) < 0)
		goto fail;

	step("Lincoln checks the consent against every rule and sends the record");
	if (run(NULL, "send", "S-1018", "--to", "RAS-204", "--consent", consent, "--dir", lhs,
	        NULL))
		goto fail;

	step("The packet travels; Riverside imports it and answers with a signed receipt");
	for (int i = 0; i < 150 && !contains(lhs_log, "receipt accepted"); i++) {
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	show_file(lhs_log);
	show_file(ras_log);
	if (!contains(lhs_log, "receipt accepted")) {
		fprintf(stderr, "baton: demo: the packet did not arrive within 30 seconds\n");
		goto fail;
	}
	if (run(NULL, "outbox", "--dir", lhs, NULL) || run(NULL, "inbox", "--dir", ras, NULL))
		goto fail;

	step("The record at Riverside: no health, discipline or special education");
	if (run(NULL, "student", "show", "S-1018", "--dir", ras, NULL))
		goto fail;
	mkdir(export, 0700);
	char out_json[200];
	snprintf(out_json, sizeof(out_json), "%s/S-1018.json", export);
	if (run(NULL, "student", "export", "S-1018", "--out", out_json, "--dir", ras, NULL))
		goto fail;
	printf("(the transcript PDF arrived as %s/S-1018-files/transcript.pdf)\n", export);

	step("Both audit logs: the disclosure at Lincoln, the arrival at Riverside");
	if (run(NULL, "audit", "--student", "S-1018", "--dir", lhs, NULL) ||
	    run(NULL, "audit", "--dir", ras, NULL) ||
	    run(NULL, "audit", "verify", "--dir", lhs, NULL) ||
	    run(NULL, "audit", "verify", "--dir", ras, NULL))
		goto fail;
	printf("\nDone: one record moved school to school, sealed, consented, receipted.\n");
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "baton-demo: a step failed; see above (files in %s)\n", dir);
out:
	if (sa > 0)
		kill(sa, SIGTERM), waitpid(sa, NULL, 0);
	if (sb > 0)
		kill(sb, SIGTERM), waitpid(sb, NULL, 0);
	return rc;
}

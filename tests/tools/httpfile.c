/*
 * httpfile: a small HTTP/1.0 server on 127.0.0.1 for the directory fetch
 * tests (tests/cli/directory_fetch.sh), so they need no other program.
 *
 *   httpfile PORT DIR
 *
 * GET /NAME answers DIR/NAME (NAME without '/'), read at each request so a
 * test can replace it, or 404. Hostile answers, by path:
 *   /big          17 MiB with no Content-Length (ends when the connection closes)
 *   /big-declared a Content-Length of 17 MiB, then the bytes
 *   /slow         headers, then nothing for 120 s
 *   /redirect     302 to file:///etc/passwd
 * Each request is a child process, killed with the server. Prints
 * "listening" once it listens; runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (17u << 20)

static void put(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t k = write(fd, c, n);
		if (k <= 0)
			_exit(0);
		c += k;
		n -= (size_t)k;
	}
}

static void say(int fd, const char *s)
{
	put(fd, s, strlen(s));
}

static void zeros(int fd, size_t n)
{
	static char z[65536];
	while (n) {
		size_t k = n < sizeof(z) ? n : sizeof(z);
		put(fd, z, k);
		n -= k;
	}
}

static void answer(int fd, const char *dir)
{
	char req[4096], path[4096 + 4096 + 2], head[256], *sp, *name;
	size_t n = 0;
	struct stat st;
	int f;

	while (n < sizeof(req) - 1) {
		ssize_t k = read(fd, req + n, sizeof(req) - 1 - n);
		if (k <= 0)
			return;
		n += (size_t)k;
		req[n] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (strncmp(req, "GET /", 5) != 0 || (sp = strchr(req + 4, ' ')) == NULL) {
		say(fd, "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	*sp = 0;
	name = req + 5;
	if (strcmp(name, "big") == 0) {
		say(fd, "HTTP/1.0 200 OK\r\n\r\n");
		zeros(fd, BIG);
		return;
	}
	if (strcmp(name, "big-declared") == 0) {
		snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Length: %u\r\n\r\n", BIG);
		say(fd, head);
		zeros(fd, BIG);
		return;
	}
	if (strcmp(name, "slow") == 0) {
		say(fd, "HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n");
		sleep(120);
		return;
	}
	if (strcmp(name, "redirect") == 0) {
		say(fd, "HTTP/1.0 302 Found\r\nLocation: file:///etc/passwd\r\n"
		        "Content-Length: 0\r\n\r\n");
		return;
	}
	snprintf(path, sizeof(path), "%.4096s/%.4095s", dir, name);
	if (name[0] == 0 || strchr(name, '/') || (f = open(path, O_RDONLY)) < 0) {
		say(fd, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	if (fstat(f, &st) == 0) {
		char buf[65536];
		ssize_t k;
		snprintf(head, sizeof(head), "HTTP/1.0 200 OK\r\nContent-Length: %lld\r\n\r\n",
		         (long long)st.st_size);
		say(fd, head);
		while ((k = read(f, buf, sizeof(buf))) > 0)
			put(fd, buf, (size_t)k);
	}
	close(f);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a;
	int s, one = 1;
	pid_t parent = getpid();

	if (argc != 3) {
		fprintf(stderr, "usage: httpfile PORT DIR\n");
		return 1;
	}
	signal(SIGCHLD, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) < 0 ||
	    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(s, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s, 16) != 0) {
		fprintf(stderr, "httpfile: port %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		pid_t p = fork();
		if (p == 0) {
			/* Dies with the server, so a slow answer never outlives the test. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(0);
			close(s);
			answer(c, argv[2]);
			shutdown(c, SHUT_WR);
			close(c);
			_exit(0);
		}
		close(c);
	}
}

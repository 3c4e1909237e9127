/*
 * The web server's settings (web.h): DIR/web.conf, and the checks made
 * before anything listens. The file holds paths, never a secret.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bti.h"
#include "conf_file.h"
#include "web.h"
#include "web_addr.h"

int web_addr_parse(const char *s, struct web_addr *a)
{
	char host[256];
	const char *colon = strrchr(s, ':');
	char *end;
	size_t hl;
	unsigned long port;

	memset(a, 0, sizeof(*a));
	if (!colon || colon == s || strlen(s) >= sizeof(host))
		return bti_diag_err(BATON_EVALUE, "web address \"%s\": expected ADDR:PORT", s);
	hl = (size_t)(colon - s);
	if (s[0] == '[' && hl > 2 && s[hl - 1] == ']') {
		memcpy(host, s + 1, hl - 2);
		host[hl - 2] = 0;
	} else {
		memcpy(host, s, hl);
		host[hl] = 0;
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port == 0 || port > 65535)
		return bti_diag_err(BATON_EVALUE, "web address \"%s\": port 1 to 65535", s);
	if (inet_pton(AF_INET, host, &a->v4.sin_addr) == 1) {
		a->v4.sin_family = AF_INET;
		a->v4.sin_port = htons((uint16_t)port);
		a->loopback = (ntohl(a->v4.sin_addr.s_addr) >> 24) == 127;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a->v6.sin6_addr) == 1) {
		a->v6.sin6_family = AF_INET6;
		a->v6.sin6_port = htons((uint16_t)port);
		a->loopback = IN6_IS_ADDR_LOOPBACK(&a->v6.sin6_addr);
		a->ipv6 = 1;
		return 0;
	}
	return bti_diag_err(BATON_EVALUE,
	                    "web address \"%s\": not a numeric IPv4 or [IPv6] address", s);
}

int web_conf_check(const struct web_conf *c)
{
	struct web_addr a;
	int r;
	if (!c->listen[0])
		return bti_diag_err(BATON_EVALUE, "web: no address to listen at");
	if ((r = web_addr_parse(c->listen, &a)) != 0)
		return r;
	if (!c->cert[0] != !c->key[0])
		return bti_diag_err(BATON_EVALUE, "web: a certificate needs its key, and a key "
		                                  "its certificate");
	if (!a.loopback && !c->cert[0])
		return bti_diag_err(
		    BATON_EVALUE,
		    "web: %s is not a loopback address: plain HTTP is refused there; "
		    "give a certificate and key (--web-cert FILE --web-key FILE)",
		    c->listen);
	return 0;
}

/* Takes one "NAME VALUE" line into c. */
static int conf_line(struct web_conf *c, const char *line, unsigned no)
{
	const char *v = strchr(line, ' ');
	char *dst = NULL;
	size_t cap = 0, n = v ? (size_t)(v - line) : 0;
	if (n == 6 && strncmp(line, "listen", 6) == 0)
		dst = c->listen, cap = sizeof(c->listen);
	else if (n == 4 && strncmp(line, "cert", 4) == 0)
		dst = c->cert, cap = sizeof(c->cert);
	else if (n == 3 && strncmp(line, "key", 3) == 0)
		dst = c->key, cap = sizeof(c->key);
	else if (n == 3 && strncmp(line, "url", 3) == 0)
		dst = c->url, cap = sizeof(c->url);
	if (!dst || !v[1] || strlen(v + 1) >= cap)
		return bti_diag_err(BATON_EVALUE,
		                    "%s line %u: expected listen, cert, key or url and a value",
		                    WEB_CONF, no);
	memcpy(dst, v + 1, strlen(v + 1) + 1);
	return 0;
}

static int web_conf_line(void *c, const char *line, unsigned no)
{
	return conf_line(c, line, no);
}

int web_conf_read(const char *dir, struct web_conf *c)
{
	char path[CONF_PATH_MAX];
	memset(c, 0, sizeof(*c));
	return conf_file_read(dir, WEB_CONF, web_conf_line, c, path);
}

int web_conf_write(const char *dir, const struct web_conf *c)
{
	struct conf_out o;
	int r;
	if ((r = conf_file_begin(dir, WEB_CONF, 0644, &o)) != 0)
		return r;
	fprintf(o.f, "# The web console: written by 'baton web set'\nlisten %s\n", c->listen);
	if (c->cert[0])
		fprintf(o.f, "cert %s\nkey %s\n", c->cert, c->key);
	if (c->url[0])
		fprintf(o.f, "url %s\n", c->url);
	return conf_file_end(&o);
}

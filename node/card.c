/* A node's rules for cards: reachable endpoints, and newer cards of the same key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "bti.h"
#include "card.h"

/* Parses "HOST:PORT" after tcp://; *host and *hlen give the host, without brackets. */
static int tcp_host_port(const char *hp, const char **host, size_t *hlen, long *port)
{
	const char *colon;
	char *end;

	if (hp[0] == '[') {
		const char *close = strchr(hp, ']');
		if (close == NULL || close[1] != ':')
			return BATON_EVALUE;
		*host = hp + 1;
		*hlen = (size_t)(close - hp - 1);
		colon = close + 1;
	} else {
		colon = strrchr(hp, ':');
		if (colon == NULL)
			return BATON_EVALUE;
		*host = hp;
		*hlen = (size_t)(colon - hp);
		if (memchr(hp, '/', *hlen) != NULL)
			return BATON_EVALUE;
	}
	if (*hlen == 0 || colon[1] < '0' || colon[1] > '9')
		return BATON_EVALUE;
	*port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || *port < 1 || *port > 65535)
		return BATON_EVALUE;
	return 0;
}

int card_endpoint_check(const char *url)
{
	const char *host;
	size_t hlen;
	long port;

	if (strstr(url, "://") == NULL || strchr(url, ' ') != NULL || url[0] == '\0' ||
	    strlen(url) > BATON_URL_MAX)
		return bti_diag_err(BATON_EVALUE,
		                    "endpoint \"%s\": not a URL (SCHEME://..., at most %d bytes, "
		                    "no spaces)",
		                    url, BATON_URL_MAX);
	if (strncmp(url, "tcp://", 6) == 0 && tcp_host_port(url + 6, &host, &hlen, &port) != 0)
		return bti_diag_err(BATON_EVALUE,
		                    "endpoint \"%s\": a tcp endpoint is tcp://HOST:PORT, with a "
		                    "port from 1 to 65535",
		                    url);
	return 0;
}

/* 1 when url is a tcp:// URL whose host is this machine only. */
static int is_loopback(const char *url)
{
	const char *host;
	size_t hlen;
	long port;

	if (strncmp(url, "tcp://", 6) != 0 || tcp_host_port(url + 6, &host, &hlen, &port) != 0)
		return 0;
	if (hlen == 9 && strncasecmp(host, "localhost", 9) == 0)
		return 1;
	if (hlen == 3 && memcmp(host, "::1", 3) == 0)
		return 1;
	return hlen > 4 && memcmp(host, "127.", 4) == 0;
}

int card_is_loopback_only(const baton_card *c)
{
	for (size_t i = 0; i < c->n_endpoints; i++)
		if (!is_loopback(c->endpoints[i]))
			return 0;
	return c->n_endpoints > 0;
}

void card_time(uint64_t t, char buf[static CARD_TIME_LEN])
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, CARD_TIME_LEN, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, CARD_TIME_LEN, "%llu", (unsigned long long)t);
}

int card_replaces(const baton_card *pinned, const baton_card *c)
{
	char was[CARD_TIME_LEN], now[CARD_TIME_LEN];

	if (strcmp(pinned->code, c->code) != 0)
		return bti_diag_err(BATON_EVALUE, "the card is of %s, not of %s", c->code,
		                    pinned->code);
	if (sodium_memcmp(pinned->id_pk, c->id_pk, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EBADKEY,
		                    "the card of %s has another identity key than the pinned one",
		                    c->code);
	if (c->valid_from <= pinned->valid_from) {
		card_time(pinned->valid_from, was);
		card_time(c->valid_from, now);
		return bti_diag_err(BATON_EVALUE,
		                    "the card of %s is valid from %s, not after the pinned card "
		                    "(valid from %s): an older card never replaces a newer one",
		                    c->code, now, was);
	}
	return 0;
}

/* A federation directory fetched from a URL (dirfetch.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include <baton/error.h>
#include <baton/objects.h>

#include "bti.h"
#include "dirfetch.h"

#define CONNECT_TIMEOUT 15L
#define TOTAL_TIMEOUT   60L
#define REDIRECTS_MAX   5L

int dirfetch_is_url(const char *arg)
{
	return strncasecmp(arg, "https://", 8) == 0 || strncasecmp(arg, "http://", 7) == 0;
}

/* A host a plain http:// URL may name: this machine only. */
static int loopback(const char *host)
{
	unsigned a, b, c, d;
	char end;
	if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return 1;
	return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) == 4 && a == 127 && b < 256 &&
	       c < 256 && d < 256;
}

/*
 * The URL as messages show it: without user name or password (u's parts
 * cleared), at most a line long. A URL that does not parse is not shown.
 */
static void shown(CURLU *u, const char *url, char out[256])
{
	char *s = NULL;
	if (u && curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK) {
		snprintf(out, 256, "%.200s%s", s, strlen(s) > 200 ? "..." : "");
		curl_free(s);
	} else if (strchr(url, '@') == NULL) {
		snprintf(out, 256, "%.200s%s", url, strlen(url) > 200 ? "..." : "");
	} else {
		snprintf(out, 256, "the URL given");
	}
}

/* Checks url into *scheme_https; 0 or BATON_EVALUE with the diagnostic. */
static int url_check(const char *url, int *https, char show[256])
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL;
	int r = BATON_EVALUE;

	if (u == NULL)
		return BATON_ENOMEM;
	if (strlen(url) > DIRFETCH_URL_MAX ||
	    curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
		curl_url_cleanup(u);
		u = NULL;
		shown(NULL, url, show);
		r = bti_diag_err(BATON_EVALUE, "%s: not a URL this node can fetch", show);
		goto out;
	}
	curl_url_get(u, CURLUPART_USER, &user, 0);
	curl_url_get(u, CURLUPART_PASSWORD, &pass, 0);
	shown(u, url, show);
	if (user || pass) {
		r = bti_diag_err(BATON_EVALUE,
		                 "%s: a URL with a user name or password is refused; a directory "
		                 "is public and signed",
		                 show);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		r = bti_diag_err(BATON_EVALUE, "%s: no scheme or host", show);
		goto out;
	}
	*https = strcmp(scheme, "https") == 0;
	if (!*https && !(strcmp(scheme, "http") == 0 && loopback(host))) {
		r = bti_diag_err(BATON_EVALUE,
		                 "%s: expected https:// (http:// only to this machine, for tests)",
		                 show);
		goto out;
	}
	r = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(pass);
	curl_url_cleanup(u);
	return r;
}

int dirfetch_url_check(const char *url)
{
	char show[256];
	int https;
	return url_check(url, &https, show);
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct body {
	uint8_t *p;
	size_t len, cap;
	int too_big, nomem;
};

/* Bytes as they arrive, refused past the directory's limit before they are kept. */
static size_t take(char *data, size_t size, size_t n, void *arg)
{
	struct body *b = arg;
	size_t k = size * n;
	if (k > BATON_DIRECTORY_MAX - b->len) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + k > b->cap) {
		size_t cap = b->cap ? b->cap : 65536;
		while (cap < b->len + k)
			cap *= 2;
		if (cap > BATON_DIRECTORY_MAX)
			cap = BATON_DIRECTORY_MAX;
		uint8_t *q = realloc(b->p, cap);
		if (q == NULL) {
			b->nomem = 1;
			return 0;
		}
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, k);
	b->len += k;
	return k;
}

static int give_up(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return arg && atomic_load((atomic_int *)arg) ? 1 : 0;
}

/* Seconds the whole transfer may take: BATON_FETCH_TIMEOUT when shorter. */
static long total_timeout(void)
{
	const char *s = getenv("BATON_FETCH_TIMEOUT");
	char *end;
	long v;
	if (s == NULL || *s < '0' || *s > '9')
		return TOTAL_TIMEOUT;
	errno = 0;
	v = strtol(s, &end, 10);
	return errno || *end || v <= 0 || v >= TOTAL_TIMEOUT ? TOTAL_TIMEOUT : v;
}

int dirfetch_get(const char *url, atomic_int *stop, uint8_t **out, size_t *len)
{
	char err[CURL_ERROR_SIZE] = "", show[256];
	struct body b = {NULL, 0, 0, 0, 0};
	long code = 0;
	int https = 0, r;
	CURLcode cc;
	CURL *h;

	*out = NULL;
	*len = 0;
	pthread_once(&curl_once, curl_init);
	if ((r = url_check(url, &https, show)) != 0)
		return r;
	if ((h = curl_easy_init()) == NULL)
		return BATON_ENOMEM;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, https ? "https" : "http");
	/* A redirect stays on https; plain http (this machine only) follows none. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, https ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, REDIRECTS_MAX);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)BATON_DIRECTORY_MAX);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, total_timeout());
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, give_up);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, stop);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "baton");
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	if (b.nomem)
		r = BATON_ENOMEM;
	else if (b.too_big || cc == CURLE_FILESIZE_EXCEEDED)
		r = bti_diag_err(BATON_ETOOBIG, "%s: longer than %u bytes, the largest directory",
		                 show, BATON_DIRECTORY_MAX);
	else if (cc != CURLE_OK)
		r = bti_diag_err(BATON_EIO, "%s: %s", show, err[0] ? err : curl_easy_strerror(cc));
	else if (code != 200)
		r = bti_diag_err(BATON_EIO, "%s: the server answered HTTP %ld, not 200", show,
		                 code);
	else if (b.len == 0)
		r = bti_diag_err(BATON_EIO, "%s: the server answered nothing", show);
	if (r != 0) {
		free(b.p);
		return r;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

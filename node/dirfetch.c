/* A federation directory fetched from a URL (dirfetch.h). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sodium.h>

#include <baton/error.h>
#include <baton/objects.h>

#include "bti.h"
#include "conf_file.h"
#include "dirfetch.h"
#include "directory.h"
#include "log.h"
#include "serve_impl.h"

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
	/* https may go through the machine's proxy (http_proxy...); this machine never does. */
	if (!https)
		curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
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

/* ---- serve's fetcher ---- */

struct conf_ctx {
	uint64_t every;
	const char *path;
};

static int conf_line(void *arg, const char *line, unsigned no)
{
	struct conf_ctx *c = arg;
	unsigned long long v;
	char unit = 's', extra;
	int n;
	if (strncmp(line, "fetch-every ", 12) != 0)
		return bti_diag_err(BATON_EVALUE, "%s:%u: expected \"fetch-every DURATION\"",
		                    c->path, no);
	n = sscanf(line + 12, "%llu%c%c", &v, &unit, &extra);
	if (n == 1)
		unit = 's';
	if (n < 1 || n > 2 || !strchr("smhd", unit))
		return bti_diag_err(BATON_EVALUE, "%s:%u: \"%.40s\": expected N, Ns, Nm, Nh or Nd",
		                    c->path, no, line + 12);
	/* Checked before the unit multiplies it, so that no product wraps round. */
	if (v <= DIRFETCH_MAX_GAP)
		v *= unit == 'd' ? 86400 : unit == 'h' ? 3600 : unit == 'm' ? 60 : 1;
	if (v == 0 || v > DIRFETCH_MAX_GAP)
		return bti_diag_err(BATON_EVALUE, "%s:%u: \"%.40s\": from 1 s to 400 days", c->path,
		                    no, line + 12);
	c->every = v;
	return 0;
}

int dirfetch_conf_read(const char *dir, uint64_t *every)
{
	char path[CONF_PATH_MAX];
	struct conf_ctx c = {DIRFETCH_EVERY, path};
	int r = conf_file_read(dir, DIRFETCH_CONF, conf_line, &c, path);
	*every = DIRFETCH_EVERY;
	if (r == BATON_ENOTFOUND)
		return 0;
	if (r == 0)
		*every = c.every;
	return r;
}

/* An authority whose directory is fetched, and its schedule. */
struct fetch_one {
	uint8_t pk[BATON_PK_BYTES];
	char url[STORE_URL_MAX + 1];
	char name[BATON_NAME_MAX + 1];
	uint64_t due; /* monotonic seconds */
	unsigned fails;
	char said[256]; /* the failure logged last, not logged again while it repeats */
	int seen;       /* still pinned with a URL at the last look */
};

#define FETCH_MAX 256

struct fetch_list {
	struct fetch_one a[FETCH_MAX];
	size_t n;
	uint64_t now;
};

static int list_one(const store_authority *a, void *arg)
{
	struct fetch_list *l = arg;
	struct fetch_one *f = NULL;
	if (a->url[0] == 0)
		return 0;
	for (size_t i = 0; i < l->n && f == NULL; i++)
		if (memcmp(l->a[i].pk, a->pk, BATON_PK_BYTES) == 0)
			f = &l->a[i];
	if (f == NULL) {
		if (l->n == FETCH_MAX)
			return 0;
		f = &l->a[l->n++];
		memset(f, 0, sizeof(*f));
		memcpy(f->pk, a->pk, BATON_PK_BYTES);
		f->due = l->now; /* at start, and as soon as a URL is set */
	}
	if (strcmp(f->url, a->url) != 0) {
		snprintf(f->url, sizeof(f->url), "%s", a->url);
		f->due = l->now;
		f->fails = 0;
	}
	if (a->label[0])
		snprintf(f->name, sizeof(f->name), "%s", a->label);
	else
		baton_fingerprint(a->pk, f->name);
	f->seen = 1;
	return 0;
}

static int list_fn(store_txn *t, void *arg)
{
	struct fetch_list *l = arg;
	for (size_t i = 0; i < l->n; i++)
		l->a[i].seen = 0;
	return store_authority_each(t, list_one, l);
}

static uint64_t mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* After fails failures in a row: a wait from 30 s doubling, at most every, half of it random. */
static uint64_t backoff(unsigned fails, uint64_t every)
{
	uint64_t w = 30;
	for (unsigned i = 1; i < fails && w < every; i++)
		w *= 2;
	if (w > every)
		w = every;
	return w / 2 + randombytes_uniform((uint32_t)(w / 2 < UINT32_MAX ? w / 2 + 1 : UINT32_MAX));
}

static void fetch_now(struct serve_node *nd, struct fetch_one *f, uint64_t every)
{
	struct directory_update u;
	uint8_t *bytes = NULL;
	size_t len = 0;
	int r;

	if ((r = dirfetch_get(f->url, &nd->stopping, &bytes, &len)) == 0) {
		r = directory_update(nd->st, bytes, len, serve_now(), &u);
		free(bytes);
	}
	if (atomic_load(&nd->stopping))
		return;
	if (r == 0) {
		if (!u.unchanged)
			node_log(NODE_LOG_INFO,
			         "directory: took version %llu of %s: %zu schools; %zu added, %zu "
			         "changed, %zu removed, %zu newly withdrawn",
			         (unsigned long long)u.version, f->name, u.members, u.diff.added,
			         u.diff.changed, u.diff.removed, u.diff.withdrawn);
		else if (f->fails)
			node_log(NODE_LOG_INFO,
			         "directory: %s fetched again: version %llu, no change", f->name,
			         (unsigned long long)u.version);
		f->fails = 0;
		f->due = mono_now() + every;
		return;
	}
	f->fails++;
	uint64_t wait = backoff(f->fails, every);
	/* One line for a run of the same failure, another when it changes. */
	if (f->fails == 1 || strcmp(f->said, baton_diag_for(r)) != 0)
		node_log(NODE_LOG_WARN, "directory: %s from %s: %s; trying again in %llu s",
		         f->name, f->url, baton_diag_for(r), (unsigned long long)wait);
	snprintf(f->said, sizeof(f->said), "%s", baton_diag_for(r));
	f->due = mono_now() + wait;
}

void *dirfetch_run(void *arg)
{
	struct serve_node *nd = arg;
	struct fetch_list *l = calloc(1, sizeof(*l));
	uint64_t every;
	unsigned seen = 0;
	int r;

	if (l == NULL) {
		node_log(NODE_LOG_ERR, "directory: no memory for the fetcher; directories are "
		                       "taken from files only");
		return NULL;
	}
	if ((r = dirfetch_conf_read(nd->dir, &every)) != 0)
		node_log(NODE_LOG_ERR, "directory: %s; fetching every %d hours", baton_diag_for(r),
		         DIRFETCH_EVERY / 3600);
	while (!atomic_load(&nd->stopping)) {
		l->now = mono_now();
		/* Looked at each second: a URL set meanwhile is fetched at once. */
		if ((r = store_read(nd->st, list_fn, l)) != 0) {
			node_log(NODE_LOG_ERR, "directory: %s", baton_diag_for(r));
		} else {
			for (size_t i = 0; i < l->n && !atomic_load(&nd->stopping); i++)
				if (l->a[i].seen && mono_now() >= l->a[i].due)
					fetch_now(nd, &l->a[i], every);
		}
		/* Until the next look, or at once when serve stops (serve_wake). */
		serve_wait_ms(nd, 1000, &seen);
	}
	free(l);
	return NULL;
}

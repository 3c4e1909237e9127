/*
 * The family's notices leave here (mail.h): the school's mail settings, one
 * message written and sent through libcurl's SMTP with STARTTLS required,
 * and the passes over the queue that serve's mail thread makes.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include <baton/error.h>
#include <baton/objects.h>

#include "bti.h"
#include "conf_file.h"
#include "family_notify.h"
#include "log.h"
#include "mail.h"
#include "serve_impl.h"
#include "web.h"

/* ---- settings ---- */

int mail_server_check(const char *url)
{
	const char *host, *colon, *p;
	char *end;
	unsigned long port;

	if (strncmp(url, "smtp://", 7) != 0)
		return bti_diag_err(BATON_EVALUE,
		                    "--server: \"%.60s\": expected smtp://HOST:PORT (STARTTLS is "
		                    "always required)",
		                    url);
	host = url + 7;
	colon = host[0] == '[' ? strstr(host, "]:") : strrchr(host, ':');
	if (colon && host[0] == '[')
		colon++;
	if (!colon || colon == host || strlen(url) >= 256)
		return bti_diag_err(BATON_EVALUE, "--server: \"%.60s\": expected smtp://HOST:PORT",
		                    url);
	for (p = host; p < colon; p++)
		if (!(isalnum((unsigned char)*p) || strchr(".-[]:", *p)))
			return bti_diag_err(BATON_EVALUE, "--server: \"%.60s\": not a host name",
			                    url);
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port == 0 || port > 65535)
		return bti_diag_err(BATON_EVALUE, "--server: \"%.60s\": a port of 1 to 65535", url);
	return 0;
}

void mail_conf_free(struct mail_conf *c)
{
	if (c->password) {
		sodium_memzero(c->password, strlen(c->password));
		sodium_free(c->password);
	}
	c->password = NULL;
}

static int set_password(struct mail_conf *c, const char *pw)
{
	size_t n = strlen(pw);
	mail_conf_free(c);
	if ((c->password = sodium_malloc(n + 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(c->password, pw, n + 1);
	return 0;
}

static int conf_line(struct mail_conf *c, const char *line, unsigned no)
{
	const char *v = strchr(line, ' ');
	char *dst = NULL;
	size_t cap = 0, n = v ? (size_t)(v - line) : 0;
	if (n == 6 && strncmp(line, "server", 6) == 0)
		dst = c->server, cap = sizeof(c->server);
	else if (n == 4 && strncmp(line, "from", 4) == 0)
		dst = c->from, cap = sizeof(c->from);
	else if (n == 4 && strncmp(line, "user", 4) == 0)
		dst = c->user, cap = sizeof(c->user);
	else if (n == 2 && strncmp(line, "ca", 2) == 0)
		dst = c->ca, cap = sizeof(c->ca);
	else if (n == 8 && strncmp(line, "password", 8) == 0 && v[1])
		return set_password(c, v + 1);
	if (!dst || !v[1] || strlen(v + 1) >= cap)
		return bti_diag_err(BATON_EVALUE,
		                    "%s line %u: expected server, from, user, password or ca and a "
		                    "value",
		                    MAIL_CONF, no);
	memcpy(dst, v + 1, strlen(v + 1) + 1);
	return 0;
}

static int mail_conf_line(void *c, const char *line, unsigned no)
{
	return conf_line(c, line, no);
}

int mail_conf_read(const char *dir, struct mail_conf *c)
{
	char path[CONF_PATH_MAX];
	int r;

	memset(c, 0, sizeof(*c));
	r = conf_file_read(dir, MAIL_CONF, mail_conf_line, c, path);
	if (r == 0 && (!c->server[0] || !c->from[0]))
		r = bti_diag_err(BATON_EVALUE, "%s: no server or from line", path);
	return r;
}

/* A value written on one line of the file: no line break or control character. */
static int one_line(const char *what, const char *v)
{
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return bti_diag_err(BATON_EVALUE, "%s: a control character is not allowed",
			                    what);
	return 0;
}

int mail_conf_write(const char *dir, const struct mail_conf *c)
{
	struct conf_out o;
	int r;

	if ((r = mail_server_check(c->server)) != 0 ||
	    (r = notify_email_check("--from", c->from)) || (r = one_line("--user", c->user)) != 0 ||
	    (c->password && (r = one_line("--password-file", c->password)) != 0) ||
	    (r = one_line("--ca", c->ca)) != 0)
		return r;
	if (c->ca[0] && access(c->ca, R_OK) != 0)
		return bti_diag_err(BATON_EVALUE, "--ca: %s: %s", c->ca, strerror(errno));
	if ((r = conf_file_begin(dir, MAIL_CONF, 0600, &o)) != 0)
		return r;
	fprintf(o.f, "# The family's notices: written by 'baton mail set'\nserver %s\nfrom %s\n",
	        c->server, c->from);
	if (c->user[0])
		fprintf(o.f, "user %s\n", c->user);
	if (c->password)
		fprintf(o.f, "password %s\n", c->password);
	if (c->ca[0])
		fprintf(o.f, "ca %s\n", c->ca);
	return conf_file_end(&o);
}

/* ---- one message ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct upload {
	char *msg;
	size_t len, at;
};

static size_t read_msg(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	size_t k = size * n, left = u->len - u->at;
	if (k > left)
		k = left;
	memcpy(buf, u->msg + u->at, k);
	u->at += k;
	return k;
}

static int xfer_stop(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return arg && atomic_load((atomic_int *)arg) ? 1 : 0;
}

/* Appends to a growing string; 0 or BATON_ENOMEM (*s is then freed). */
static int append(char **s, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int append(char **s, size_t *len, const char *fmt, ...)
{
	va_list ap;
	char *more = NULL;
	int n;
	va_start(ap, fmt);
	n = vasprintf(&more, fmt, ap);
	va_end(ap);
	char *grown = n < 0 ? NULL : realloc(*s, *len + (size_t)n + 1);
	if (grown == NULL) {
		free(more);
		free(*s);
		*s = NULL;
		return BATON_ENOMEM;
	}
	memcpy(grown + *len, more, (size_t)n + 1);
	*len += (size_t)n;
	*s = grown;
	free(more);
	return 0;
}

/* The subject as RFC 2047 encoded words (base64, UTF-8), cut at character boundaries. */
static int subject_header(char **s, size_t *len, const char *subject)
{
	const unsigned char *p = (const unsigned char *)subject;
	size_t n = strlen(subject), i = 0;
	char b64[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];
	int r = append(s, len, "Subject:");
	while (r == 0 && i < n) {
		size_t k = n - i > 45 ? 45 : n - i;
		while (k > 1 && i + k < n && (p[i + k] & 0xc0) == 0x80)
			k--; /* never split a UTF-8 sequence */
		sodium_bin2base64(b64, sizeof(b64), p + i, k, sodium_base64_VARIANT_ORIGINAL);
		r = append(s, len, "%s=?UTF-8?B?%s?=", i ? "\r\n " : " ", b64);
		i += k;
	}
	return r ? r : append(s, len, "\r\n");
}

static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* The whole message, headers and CRLF body: *out malloc'd. */
static int compose(const struct mail_conf *c, const char *to, const char *subject, const char *body,
                   char **out, size_t *outlen)
{
	uint8_t rnd[16];
	char id[33];
	time_t now = time(NULL);
	struct tm tm;
	char *s = NULL;
	size_t len = 0;
	const char *domain = strchr(c->from, '@') + 1;
	int r;

	gmtime_r(&now, &tm);
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(id, sizeof(id), rnd, sizeof(rnd));
	r = append(&s, &len,
	           "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n"
	           "From: <%s>\r\nTo: <%s>\r\nMessage-ID: <%s@%s>\r\n",
	           wday[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour,
	           tm.tm_min, tm.tm_sec, c->from, to, id, domain);
	if (r == 0)
		r = subject_header(&s, &len, subject);
	if (r == 0)
		r = append(
		    &s, &len,
		    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n"
		    "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n");
	for (const char *p = body; r == 0 && *p;) {
		size_t k = strcspn(p, "\n");
		r = append(&s, &len, "%.*s\r\n", (int)k, p);
		p += k + (p[k] == '\n');
	}
	*out = s;
	*outlen = len;
	return r;
}

int mail_send(const struct mail_conf *c, const char *to, const char *subject, const char *body,
              atomic_int *stop)
{
	char err[CURL_ERROR_SIZE] = "", from[STORE_EMAIL_MAX + 3], rcpt[STORE_EMAIL_MAX + 3];
	struct upload u = {NULL, 0, 0};
	struct curl_slist *rcpts = NULL;
	CURL *h;
	CURLcode cc;
	int r;

	if ((r = notify_email_check("to", to)) != 0 || (r = notify_email_check("from", c->from)))
		return r;
	if ((r = compose(c, to, subject, body, &u.msg, &u.len)) != 0)
		return r;
	pthread_once(&curl_once, curl_init);
	snprintf(from, sizeof(from), "<%s>", c->from);
	snprintf(rcpt, sizeof(rcpt), "<%s>", to);
	if ((h = curl_easy_init()) == NULL || (rcpts = curl_slist_append(NULL, rcpt)) == NULL) {
		curl_easy_cleanup(h);
		free(u.msg);
		return BATON_ENOMEM;
	}
	curl_easy_setopt(h, CURLOPT_URL, c->server);
	curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp");
	if (c->ca[0])
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca);
	if (c->user[0])
		curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
	if (c->password)
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->password);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_msg);
	curl_easy_setopt(h, CURLOPT_READDATA, &u);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.len);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, xfer_stop);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, stop);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	cc = curl_easy_perform(h);
	curl_slist_free_all(rcpts);
	curl_easy_cleanup(h);
	sodium_memzero(u.msg, u.len);
	free(u.msg);
	if (cc != CURLE_OK)
		return bti_diag_err(BATON_EIO, "mail server %s: %s", c->server,
		                    err[0] ? err : curl_easy_strerror(cc));
	return 0;
}

/* ---- the queue ---- */

#define PASS_MAX 32 /* notices one pass takes */

struct due {
	store_mail m;
	char subject[400];
	char body[2048];
};

struct collect {
	const char *dir;
	int all;
	uint64_t now;
	char school[BATON_NAME_MAX + 1];
	char link[300];
	struct due *d;
	size_t n;
	unsigned waiting;
};

/* A name from a card, for a line of text: control characters become spaces. */
static void clean(char *out, size_t cap, const char *in)
{
	size_t i;
	for (i = 0; in[i] && i + 1 < cap; i++)
		out[i] = (unsigned char)in[i] < 0x20 || in[i] == 0x7f ? ' ' : in[i];
	out[i] = '\0';
}

static void write_notice(store_txn *t, struct collect *x, struct due *d)
{
	char peer[BATON_NAME_MAX + 1] = "", day[11] = "?";
	time_t when = (time_t)d->m.created;
	struct tm tm;
	baton_card pc;

	if (d->m.peer[0] && store_peer_card(t, d->m.peer, &pc) == 0)
		clean(peer, sizeof(peer), pc.name);
	else
		clean(peer, sizeof(peer), d->m.peer[0] ? d->m.peer : "another school");
	if (gmtime_r(&when, &tm))
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	snprintf(d->subject, sizeof(d->subject), "A notice about a school record at %s", x->school);
	char what[600];
	switch (d->m.kind) {
	case NOTIFY_DISCLOSURE:
		snprintf(what, sizeof(what),
		         "A copy of your child's school record was sent to %s on %s.", peer, day);
		break;
	case NOTIFY_REQUEST:
		snprintf(what, sizeof(what),
		         "%s asked %s for a copy of your child's school record on %s.", peer,
		         x->school, day);
		break;
	case NOTIFY_CONSENT_EXPIRING:
		snprintf(what, sizeof(what),
		         "A consent you signed to release your child's school record to %s ends "
		         "within %d days (noticed on %s).",
		         peer, NOTIFY_EXPIRY_DAYS, day);
		break;
	case NOTIFY_RIGHTS:
		snprintf(what, sizeof(what),
		         "On %s the student turned 18: the rights over the school record kept by "
		         "%s have passed to the student (FERPA, 34 CFR 99.5).",
		         day, x->school);
		break;
	default:
		snprintf(what, sizeof(what), "Something happened to a school record on %s.", day);
	}
	if (x->link[0])
		snprintf(d->body, sizeof(d->body),
		         "%s\n\nThe details are on your family page:\n%s\n\n-- \n%s\n"
		         "This message was sent automatically. It holds no part of the record.\n",
		         what, x->link, x->school);
	else
		snprintf(d->body, sizeof(d->body),
		         "%s\n\nThe details are on your family page; ask the school for its "
		         "address.\n\n-- \n%s\nThis message was sent automatically. It holds no "
		         "part of the record.\n",
		         what, x->school);
}

static int collect_row(const store_mail *m, void *ctx)
{
	struct collect *x = ctx;
	if (!x->all && m->next > x->now) {
		x->waiting++;
		return 0;
	}
	if (x->n == PASS_MAX) {
		x->waiting++;
		return 0;
	}
	x->d[x->n++].m = *m;
	return 0;
}

static int collect_fn(store_txn *t, void *ctx)
{
	struct collect *x = ctx;
	baton_card me;
	int r;
	x->n = 0;
	x->waiting = 0;
	x->now = t->now;
	if ((r = store_own_card(t, &me)) != 0)
		return r;
	clean(x->school, sizeof(x->school), me.name);
	if ((r = store_mail_each(t, collect_row, x)) != 0)
		return r;
	for (size_t i = 0; i < x->n; i++)
		write_notice(t, x, &x->d[i]);
	return 0;
}

struct outcome {
	const store_mail *m;
	int sent;
	uint64_t base;
	int dropped;
};

static int outcome_fn(store_txn *t, void *ctx)
{
	struct outcome *o = ctx;
	store_mail m = *o->m;
	store_audit e;
	int r;

	o->dropped = 0;
	memset(&e, 0, sizeof(e));
	snprintf(e.student, sizeof(e.student), "%s", m.student);
	snprintf(e.peer, sizeof(e.peer), "%s", m.peer);
	if (o->sent || t->now >= m.created + MAIL_GIVE_UP) {
		r = store_mail_del(t, m.id);
		if (r == BATON_ENOTFOUND)
			return 0; /* another pass dealt with it */
		if (r != 0)
			return r;
		o->dropped = !o->sent;
		snprintf(e.action, sizeof(e.action), "%s",
		         o->sent ? "family-told" : "family-undeliverable");
		snprintf(e.detail, sizeof(e.detail), "%s notice by email%s",
		         notify_kind_name(m.kind),
		         o->sent ? "" : ": not delivered within 3 days of tries");
		return store_audit_append(t, &e);
	}
	uint64_t wait = o->base;
	for (uint32_t i = 0; i < m.tries && wait < MAIL_BACKOFF_MAX; i++)
		wait *= 2;
	if (wait > MAIL_BACKOFF_MAX)
		wait = MAIL_BACKOFF_MAX;
	m.tries++;
	m.next = t->now + wait;
	return store_mail_put(t, &m);
}

static uint64_t backoff_base(void)
{
	const char *v = getenv("BATON_MAIL_BACKOFF");
	char *end;
	unsigned long n;
	if (v == NULL || !*v)
		return MAIL_BACKOFF;
	errno = 0;
	n = strtoul(v, &end, 10);
	return errno || *end || n == 0 || n > MAIL_BACKOFF ? MAIL_BACKOFF : n;
}

/* What a write callback returns to abort a transaction that would change nothing. */
#define MAIL_NOTHING 1

struct stale {
	uint64_t now;
	store_mail *m;
	size_t n;
};

static int stale_row(const store_mail *m, void *ctx)
{
	struct stale *x = ctx;
	if (x->now >= m->created + MAIL_GIVE_UP && x->n < PASS_MAX)
		x->m[x->n++] = *m;
	return 0;
}

/* Without a mail server, notices still end: those 3 days old are dropped, audited. */
static int stale_fn(store_txn *t, void *ctx)
{
	struct stale *x = ctx;
	int r;
	x->now = t->now;
	x->n = 0;
	if ((r = store_mail_each(t, stale_row, x)) != 0)
		return r;
	if (x->n == 0)
		return MAIL_NOTHING; /* no empty commit every second */
	for (size_t i = 0; i < x->n; i++) {
		store_audit e;
		memset(&e, 0, sizeof(e));
		snprintf(e.action, sizeof(e.action), "family-undeliverable");
		snprintf(e.student, sizeof(e.student), "%s", x->m[i].student);
		snprintf(e.peer, sizeof(e.peer), "%s", x->m[i].peer);
		snprintf(e.detail, sizeof(e.detail), "%s notice by email: no mail server was set",
		         notify_kind_name(x->m[i].kind));
		if ((r = store_mail_del(t, x->m[i].id)) != 0 ||
		    (r = store_audit_append(t, &e)) != 0)
			return r;
	}
	return 0;
}

static int drop_stale(store *st, struct mail_pass *out)
{
	struct stale x = {0, NULL, 0};
	int r;
	if ((x.m = calloc(PASS_MAX, sizeof(*x.m))) == NULL)
		return BATON_ENOMEM;
	r = store_write(st, stale_fn, &x);
	out->dropped = r == 0 ? (unsigned)x.n : 0;
	free(x.m);
	return r == MAIL_NOTHING ? 0 : r;
}

int mail_pass(store *st, const char *dir, int all, atomic_int *stop, struct mail_pass *out)
{
	struct mail_conf c;
	struct collect x;
	struct web_conf wc;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = mail_conf_read(dir, &c)) != 0) {
		mail_conf_free(&c);
		if (r == BATON_ENOTFOUND && drop_stale(st, out) == 0 && out->dropped)
			node_log(NODE_LOG_INFO, "mail: %u undeliverable (no mail server set)",
			         out->dropped);
		return r;
	}
	memset(&x, 0, sizeof(x));
	x.dir = dir;
	x.all = all;
	if (web_conf_read(dir, &wc) == 0 && wc.url[0])
		snprintf(x.link, sizeof(x.link), "%s/family/", wc.url);
	if ((x.d = calloc(PASS_MAX, sizeof(*x.d))) == NULL) {
		mail_conf_free(&c);
		return BATON_ENOMEM;
	}
	r = store_read(st, collect_fn, &x);
	out->waiting = x.waiting;
	for (size_t i = 0; r == 0 && i < x.n && !(stop && atomic_load(stop)); i++) {
		struct outcome o = {&x.d[i].m, 0, backoff_base(), 0};
		int sr = mail_send(&c, x.d[i].m.addr, x.d[i].subject, x.d[i].body, stop);
		o.sent = sr == 0;
		if (sr != 0)
			node_log(NODE_LOG_WARN, "mail: a %s notice was not delivered: %s",
			         notify_kind_name(x.d[i].m.kind), baton_diag_for(sr));
		if ((r = store_write(st, outcome_fn, &o)) != 0)
			break;
		if (o.sent)
			out->sent++;
		else if (o.dropped)
			out->dropped++;
		else
			out->failed++;
	}
	if (x.n)
		sodium_memzero(x.d, PASS_MAX * sizeof(*x.d));
	free(x.d);
	mail_conf_free(&c);
	if (out->sent || out->failed || out->dropped)
		node_log(NODE_LOG_INFO, "mail: %u sent, %u to retry, %u undeliverable", out->sent,
		         out->failed, out->dropped);
	return r;
}

static int count_row(const store_mail *m, void *ctx)
{
	(void)m;
	(*(unsigned *)ctx)++;
	return 0;
}

static int count_fn(store_txn *t, void *ctx)
{
	*(unsigned *)ctx = 0;
	return store_mail_each(t, count_row, ctx);
}

int mail_queued(store *st, unsigned *n)
{
	return store_read(st, count_fn, n);
}

/* ---- serve's thread ---- */

#define MAIL_TICK_MS 1000

void *mail_run(void *arg)
{
	struct serve_node *nd = arg;
	uint64_t next_scan = 0;
	struct mail_pass p;
	int r, quiet = 0;
	unsigned wakes = 0;

	while (!atomic_load(&nd->stopping)) {
		uint64_t now = serve_now();
		if (now >= next_scan) {
			unsigned n = 0;
			if ((r = notify_scan(nd->st, now, &n)) != 0)
				node_log(NODE_LOG_ERR,
				         "mail: the daily look for notices failed: %s",
				         baton_diag_for(r));
			else if (n)
				node_log(NODE_LOG_INFO, "mail: %u notices queued by the daily look",
				         n);
			next_scan = now + 86400;
		}
		r = mail_pass(nd->st, nd->dir, 0, &nd->stopping, &p);
		if (r != 0 && r != BATON_ENOTFOUND && !quiet)
			node_log(NODE_LOG_ERR, "mail: %s", baton_diag_for(r));
		quiet = r != 0; /* one line per run of failures, not one a second */
		serve_wait_ms(nd, MAIL_TICK_MS, &wakes);
	}
	return NULL;
}

/*
 * A federation directory fetched from a URL (libcurl): bounded, with
 * timeouts, TLS verified, no cookies, no redirect to another scheme. What
 * comes back is only bytes: the caller takes it through directory_update,
 * the same rule as for a file, since the directory is signed and its
 * integrity does not depend on the transport.
 */
#ifndef BATON_NODE_DIRFETCH_H
#define BATON_NODE_DIRFETCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The longest URL taken, in bytes. */
#define DIRFETCH_URL_MAX 2048

/*
 * Checks url: https://HOST[:PORT]/..., or http:// to a loopback host only
 * (localhost, 127.0.0.0/8, [::1]); no user name or password in it.
 * Returns 0 or BATON_EVALUE with baton_diag() naming the URL (without any
 * user name or password it held) and what is wrong.
 */
int dirfetch_url_check(const char *url);

/*
 * Fetches url (checked as dirfetch_url_check does) into *out (malloc'd,
 * the caller frees it with free(); NULL on error) and *len: at most
 * BATON_DIRECTORY_MAX bytes, counted while they arrive; a connection within
 * 15 s and the whole within 60 s (the environment may shorten the latter:
 * BATON_FETCH_TIMEOUT, seconds); https only after a redirect, none from
 * http. stop (may be NULL) set makes it give up. Returns 0; BATON_EVALUE
 * for a URL refused; BATON_ETOOBIG for a body too long; BATON_EIO for a
 * transfer that failed or an answer other than 200 (baton_diag() names the
 * URL and why); BATON_ENOMEM.
 */
int dirfetch_get(const char *url, atomic_int *stop, uint8_t **out, size_t *len);

/* How often serve fetches each directory, unless DIR/directory.conf says otherwise. */
#define DIRFETCH_EVERY   (6 * 3600)
#define DIRFETCH_CONF    "directory.conf"
#define DIRFETCH_MAX_GAP (400 * 86400)

/*
 * Reads DIR/directory.conf: "fetch-every N" with N seconds or N followed
 * by s, m, h or d, from 1 s to 400 days. *every is DIRFETCH_EVERY when the
 * file does not exist. Returns 0 or BATON_EVALUE (baton_diag() names the
 * file, line and value), BATON_EIO.
 */
int dirfetch_conf_read(const char *dir, uint64_t *every);

/*
 * serve's directory fetcher (a thread; arg is the struct serve_node): at
 * start and every interval (dirfetch_conf_read) fetches the directory of
 * each pinned authority that has a URL and takes it by directory_update,
 * logging what it took; after a failure it tries again sooner, with a
 * random share of the wait, logging the first failure of a run, a
 * failure other than the one before, and the recovery, not each attempt. Nothing fetched ends
 * serve. Returns NULL when serve stops.
 */
void *dirfetch_run(void *arg);

/* 1 when arg names a URL (http:// or https://, any letter case), not a file. */
int dirfetch_is_url(const char *arg);

#endif

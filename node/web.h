/*
 * The node's web server: the registrar's console (static pages embedded in
 * the binary) and its JSON API under /api/v1, served by libmicrohttpd on
 * threads of its own, so that the packet listener never waits for it.
 * Plain HTTP only on a loopback address; elsewhere TLS (GnuTLS) with the
 * school's certificate.
 */
#ifndef BATON_NODE_WEB_H
#define BATON_NODE_WEB_H

#include <jansson.h>

#include "serve.h"
#include "store.h"

struct web;

#define WEB_CONF          "web.conf" /* the settings in the node directory */
#define WEB_BODY_MAX      65536      /* bytes of a JSON request body */
#define WEB_PATH_MAX      4096
#define WEB_COOKIE        "baton_session"
#define WEB_FAMILY_COOKIE "baton_family" /* a family's session: its own cookie, "_PORT" after */
#define WEB_IDLE          1800           /* seconds a session lives unused (BATON_WEB_IDLE) */
#define WEB_FAIL_SLOW     3              /* failed logins after which each answer waits a second */
#define WEB_FAIL_USER     5              /* failed logins of one user before 429 */
#define WEB_FAIL_ADDR     20             /* failed logins from one address before 429 */
#define WEB_FAIL_FORGET   900 /* seconds after the last failure that they are forgotten */

struct web_conf {
	char listen[256];        /* ADDR:PORT, [V6ADDR]:PORT; "" when not set */
	char cert[WEB_PATH_MAX]; /* PEM certificate file, or "" */
	char key[WEB_PATH_MAX];  /* PEM private key file (mode 0600), or "" */
	char url[256];           /* the console's public URL (https://host:port), or "" */
};

/*
 * Reads DIR/web.conf into *c (cleared first): lines "listen ADDR:PORT",
 * "cert FILE", "key FILE", "url BASE" (the public URL, for invitations). BATON_ENOTFOUND when there
 * is no such file
 * (*c then empty); BATON_EVALUE naming the line that does not read;
 * BATON_EIO.
 */
int web_conf_read(const char *dir, struct web_conf *c);
/* Writes *c to DIR/web.conf (mode 0644, replaced atomically). 0 or BATON_EIO. */
int web_conf_write(const char *dir, const struct web_conf *c);
/*
 * Checks *c before anything starts: the address reads and its port is
 * 1..65535; cert and key come together; a non-loopback address has them.
 * 0 or BATON_EVALUE with a one-line reason.
 */
int web_conf_check(const struct web_conf *c);

/*
 * Starts serving c (checked with web_conf_check) for the node nd (the
 * caller's; it and its store must stay open until web_stop). Returns 0 once the port is
 * bound, with *out the server (the caller stops and frees it with
 * web_stop); BATON_EVALUE (the settings), BATON_EIO (the certificate or
 * key does not read, the address cannot be bound: baton_diag() says which),
 * BATON_ENOMEM.
 */
int web_start(struct serve_node *nd, const struct web_conf *c, struct web **out);
/* Stops the server's threads, waits for them, and frees w; w may be NULL. */
void web_stop(struct web *w);

/*
 * The hash of the family page's bundle, as 'baton web hash' prints it and
 * GET /api/v1/family/about gives it: BLAKE2b-256 over the embedded assets
 * whose URL starts with "/family/", in URL order, each as its URL, a NUL,
 * its length (8 bytes big-endian) and its bytes. 64 hex digits and a NUL
 * into hex. Cannot fail.
 */
void web_bundle_hash(char hex[65]);

/*
 * The files of that bundle, in the same order: [{"url", "bytes", "hash"}],
 * hash the BLAKE2b-256 of the file's bytes in hex, for an auditor to check
 * one file at a time. A new array (json_decref), or NULL when memory ran out.
 */
json_t *web_bundle_files(void);

/*
 * Makes a self-signed certificate (ECDSA P-256, a year, for host) into
 * DIR/web.crt and DIR/web.key (mode 0600); neither may exist yet.
 * 0, BATON_EEXIST, BATON_EIO (GnuTLS or the files: baton_diag() says).
 */
int web_selfsigned(const char *dir, const char *host);

#endif

/*
 * The school's mail settings (DIR/mail.conf) and the sender of the family's
 * notices (family_notify.h): SMTP with STARTTLS required, through libcurl.
 * A message says what happened, when, and links to the family's page; it
 * holds no part of the record and no student's name.
 */
#ifndef BATON_NODE_MAIL_H
#define BATON_NODE_MAIL_H

#include <stdatomic.h>
#include <stdint.h>

#include "store.h"

#define MAIL_CONF        "mail.conf"
#define MAIL_PATH_MAX    4096
#define MAIL_BACKOFF     60          /* the first retry's wait, seconds; doubles */
#define MAIL_BACKOFF_MAX (6 * 3600)  /* the longest wait between tries */
#define MAIL_GIVE_UP     (3 * 86400) /* a notice not delivered by then is dropped, audited */

struct mail_conf {
	char server[256];               /* smtp://HOST:PORT */
	char from[STORE_EMAIL_MAX + 1]; /* the sender's address */
	char user[256];                 /* "" when the server takes no login */
	char *password;                 /* sodium_malloc'd, NULL when none; mail_conf_free */
	char ca[MAIL_PATH_MAX];         /* a PEM CA file to trust instead of the system's, or "" */
};

/*
 * Checks a server URL: smtp://HOST:PORT (HOST a name or address of letters,
 * digits, '-', '.', or [IPv6]; PORT 1..65535). 0 or BATON_EVALUE naming the
 * field.
 */
int mail_server_check(const char *url);
/*
 * Reads DIR/mail.conf into *c (cleared first): lines "server", "from",
 * "user", "password", "ca". BATON_ENOTFOUND when there is none;
 * BATON_EVALUE naming a line that does not read; BATON_EIO. The caller
 * frees *c with mail_conf_free either way.
 */
int mail_conf_read(const char *dir, struct mail_conf *c);
/*
 * Checks *c (server, from, ca readable) and writes it to DIR/mail.conf,
 * mode 0600, replaced atomically. BATON_EVALUE naming the field; BATON_EIO.
 */
int mail_conf_write(const char *dir, const struct mail_conf *c);
/* Wipes and frees what *c holds. c may hold nothing. */
void mail_conf_free(struct mail_conf *c);

/*
 * Sends one message to `to` through c's server now: subject and body are
 * UTF-8 (the subject is encoded as RFC 2047 words, the body sent as 8bit
 * text/plain). stop (may be NULL) is looked at while it runs: once non-zero
 * the transfer is cut short. 0, or BATON_EIO with baton_diag() saying what
 * the server or the connection said (never the address).
 */
int mail_send(const struct mail_conf *c, const char *to, const char *subject, const char *body,
              atomic_int *stop);

/* What one pass over the queue did. */
struct mail_pass {
	unsigned sent, failed, dropped, waiting;
};
/*
 * One pass of the sender: every queued notice whose time has come (all of
 * them when all is set) is written and sent with the settings of DIR; a
 * delivered one leaves the queue, audited as "family-told"; a failed one
 * waits MAIL_BACKOFF seconds doubling (base from BATON_MAIL_BACKOFF, for
 * tests) up to MAIL_BACKOFF_MAX, and after MAIL_GIVE_UP from its event is
 * dropped, audited as "family-undeliverable". BATON_ENOTFOUND when DIR has
 * no mail settings: then only the notices MAIL_GIVE_UP old are dropped
 * (audited the same, out->dropped counts them), so that a queue no server
 * takes does not grow; the store's errors.
 */
int mail_pass(store *st, const char *dir, int all, atomic_int *stop, struct mail_pass *out);
/* The number of notices queued, into *n. */
int mail_queued(store *st, unsigned *n);

/*
 * The sender's thread body, for serve: nd is the serving node. It passes
 * over the queue every few seconds, and runs notify_scan once a day (and
 * when it starts), until the node stops. Never returns an error: a pass
 * that fails is logged and tried again.
 */
void *mail_run(void *nd);

#endif

/*
 * The web console's accounts: adding, listing, removing them, changing a
 * password, and checking one at login. Passwords are hashed with Argon2id
 * (crypto_pwhash_str, interactive limits); every change is audited.
 */
#ifndef BATON_NODE_USERS_H
#define BATON_NODE_USERS_H

#include <stdint.h>

#include <stddef.h>

#include <jansson.h>

#include "store.h"

#define USERS_PASS_MIN 10  /* characters a password has at least */
#define USERS_PASS_MAX 256 /* and at most */

/*
 * The role named s ("registrar", "admin"): STORE_ROLE_*, or BATON_EINVAL
 * naming s. users_role_name: the name of role (static), "?" when unknown.
 */
int users_role(const char *s);
const char *users_role_name(int role);

/*
 * Adds user name with role (STORE_ROLE_*) and password pass (plen bytes,
 * the caller's, not kept). BATON_EVALUE when the name is taken, for a
 * bad name (empty, too long, other than ASCII letters, digits, '.', '-',
 * '_', '@'), a password shorter than USERS_PASS_MIN or longer than
 * USERS_PASS_MAX; BATON_EINVAL for an unknown role; BATON_ENOMEM; the
 * store's errors. Audited as "user-add".
 */
int users_add(store *st, const char *name, int role, const char *pass, size_t plen);
/* Sets user name's password (checked as users_add does). BATON_ENOTFOUND: no such user. */
int users_passwd(store *st, const char *name, const char *pass, size_t plen);
/* Removes user name. BATON_ENOTFOUND: no such user. Audited as "user-remove". */
int users_remove(store *st, const char *name);

/*
 * The accounts in name order, into *out (new; free with json_decref; NULL
 * on error): each {"name", "role", "created", "last_login"} (times in
 * seconds, last_login 0 for never). Returns 0, BATON_ENOMEM, or the
 * store's errors.
 */
int users_list(store *st, json_t **out);

#define USERS_STAMP 16
/*
 * The stamp of account name as it is now: a hash of its role, creation
 * time and password hash, which changes when the password is set anew or
 * the account is removed and made again. A session keeps the stamp of its
 * login and ends when it no longer matches. 0, or BATON_ENOTFOUND (no
 * such account), or the store's error.
 */
int users_stamp(store *st, const char *name, uint8_t stamp[USERS_STAMP]);

/*
 * Checks pass against user name's hash; on a match records the login
 * time, audits "login" and sets *role. When there is no such user a dummy
 * hash is checked all the same, so that both take as long. BATON_EBADKEY
 * for a wrong name or password (the one answer for both), BATON_ENOMEM,
 * the store's errors.
 */
int users_login(store *st, const char *name, const char *pass, size_t plen, int *role);
/*
 * Makes the dummy hash users_login checks for an unknown user now, so that
 * not even the first such login answers at another speed. 0 or BATON_ENOMEM.
 */
int users_prepare(void);
/* Audits "logout" by user name. Returns the store's error. */
int users_logout(store *st, const char *name);

#endif

/*
 * The school keys a serving node holds: the current one, and those a rekey
 * replaced while they may still open packets (struct keyring, serve_impl.h).
 */
#ifndef BATON_NODE_KEYRING_H
#define BATON_NODE_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include <baton/keys.h>

#include "serve_impl.h"

/*
 * Reads DIR/school.key into kr (zeroed by the caller) with pass (plen
 * bytes; NULL when the key is not encrypted), and keeps a copy of pass
 * for a later rekey. pass stays the caller's. Keys replaced less than
 * KEY_GRACE ago (DIR/school.key.old-TIME) that open with pass are taken
 * too; one that does not is logged and left.
 * Returns 0, or the error of reading the key (baton_diag() says more);
 * BATON_ENOMEM. Free kr with keyring_free in every case.
 */
int keyring_open(struct keyring *kr, const char *dir, const char *pass, size_t plen);

/* Frees the keys and the passphrase kr holds; kr may be zeroed. */
void keyring_free(struct keyring *kr);

/*
 * After 'baton rekey' replaced school.key (forced: on SIGHUP), takes the
 * new key as nd->key once it is the key of nd's card. Logs what it did or
 * why not. Called by the listener's thread only. Cannot fail.
 */
void keyring_check(struct serve_node *nd, int forced);

/*
 * The key to open a packet addressed to recipient (BATON_PK_BYTES): a
 * replaced one in its grace, else the current one. Owned by nd.
 */
const baton_key *keyring_for(struct serve_node *nd, const uint8_t *recipient);

/*
 * The key with public half pk (BATON_PK_BYTES) that nd holds, current or
 * replaced; NULL when none. Owned by nd.
 */
const baton_key *keyring_by_pk(struct serve_node *nd, const uint8_t *pk);

#endif

/*
 * The school keys of a serving node: taken at start, and again after a
 * rekey without a restart. A key a rekey replaced goes on opening packets
 * sealed to it for KEY_GRACE.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "bti.h"
#include "keyring.h"
#include "log.h"

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int own_card_fn(store_txn *t, void *arg)
{
	int r = store_own_card(t, arg);
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
}

/* A replaced key kept by rekey as DIR/NAME (school.key.old-TIME), if in its grace and it opens. */
static void keyring_old_one(struct keyring *kr, const char *dir, const char *name, uint64_t now)
{
	char path[4400], fpr[BATON_FINGERPRINT_LEN + 1], until[32];
	char *end;
	int enc;
	baton_key *k = NULL;
	unsigned long long t = strtoull(name + 15, &end, 10);

	if (*end != 0 || t == 0 || now > t + KEY_GRACE)
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (baton_key_file_encrypted(path, &enc) != 0 ||
	    baton_key_load(path, enc ? kr->pass : NULL, enc ? kr->plen : 0, &k) != 0) {
		node_log(NODE_LOG_WARN,
		         "serve: %s does not open with this passphrase: packets sealed to it "
		         "are refused",
		         name);
		return;
	}
	if (sodium_memcmp(baton_key_id_pk(k), baton_key_id_pk(kr->k[0]), BATON_PK_BYTES) == 0) {
		baton_key_free(k);
		return;
	}
	baton_fingerprint(baton_key_id_pk(k), fpr);
	kr->k[kr->n] = k;
	kr->retired[kr->n++] = t;
	node_log(NODE_LOG_INFO,
	         "serve: packets sealed to the previous key %s are opened until %s UTC", fpr,
	         node_log_time(t + KEY_GRACE, until));
}

/*
 * Keys replaced less than KEY_GRACE ago go on opening packets after a
 * restart too, when they open with the passphrase serve was given.
 */
static void keyring_old(struct keyring *kr, const char *dir)
{
	uint64_t now = serve_now();
	DIR *d = opendir(dir);
	for (struct dirent *de; d && (de = readdir(d)) != NULL && kr->n < KEYS_MAX;)
		if (strncmp(de->d_name, "school.key.old-", 15) == 0)
			keyring_old_one(kr, dir, de->d_name, now);
	if (d)
		closedir(d);
}

int keyring_open(struct keyring *kr, const char *dir, const char *pass, size_t plen)
{
	int r;
	snprintf(kr->path, sizeof(kr->path), "%s/school.key", dir);
	if (pass) {
		if ((kr->pass = sodium_malloc(plen + 1)) == NULL)
			return BATON_ENOMEM;
		memcpy(kr->pass, pass, plen);
		kr->pass[plen] = '\0';
		kr->plen = plen;
	}
	if (stat(kr->path, &kr->st) != 0)
		memset(&kr->st, 0, sizeof(kr->st));
	if ((r = baton_key_load(kr->path, kr->pass, kr->plen, &kr->k[0])) != 0)
		return r;
	kr->n = 1;
	keyring_old(kr, dir);
	return 0;
}

void keyring_free(struct keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++)
		baton_key_free(kr->k[i]);
	kr->n = 0;
	if (kr->pass) {
		sodium_memzero(kr->pass, kr->plen);
		sodium_free(kr->pass);
	}
	kr->pass = NULL;
}

/* Whether k may become nd's key: this node's card is k's, and there is room for it. */
static int keyring_is_takeable(struct serve_node *nd, const baton_key *k, const char *fpr,
                               const char *was)
{
	baton_card me;
	if (store_read(nd->st, own_card_fn, &me) != 0 ||
	    sodium_memcmp(me.id_pk, baton_key_id_pk(k), BATON_PK_BYTES) != 0) {
		node_log(NODE_LOG_WARN,
		         "serve: school.key now holds key %s, which is not the key of this node's "
		         "card; still using key %s",
		         fpr, was);
		return 0;
	}
	if (nd->keys.n == KEYS_MAX) {
		node_log(NODE_LOG_WARN,
		         "serve: school.key changed (key %s), but serve has taken %d keys already; "
		         "still using key %s: restart serve",
		         fpr, KEYS_MAX, was);
		return 0;
	}
	return 1;
}

/* Makes k (owned by the keyring from now on) nd's key; the one it replaces enters its grace. */
static void keyring_take(struct serve_node *nd, baton_key *k, const char *fpr, const char *was)
{
	struct keyring *kr = &nd->keys;
	uint64_t now = serve_now();
	char until[32];
	for (size_t i = 0; i < kr->n; i++)
		if (kr->k[i] == nd->key)
			kr->retired[i] = now;
	kr->k[kr->n] = k;
	kr->retired[kr->n++] = 0;
	nd->key = k;
	store_set_audit_signer(nd->st, k);
	node_log(NODE_LOG_INFO,
	         "serve: school.key changed (rekey): now using key %s; packets sealed to the "
	         "previous key %s are opened until %s UTC",
	         fpr, was, node_log_time(now + KEY_GRACE, until));
}

/*
 * Each change of the file is tried once, so a key that does not open is
 * logged once, not every second.
 */
void keyring_check(struct serve_node *nd, int forced)
{
	struct keyring *kr = &nd->keys;
	char was[BATON_FINGERPRINT_LEN + 1], fpr[BATON_FINGERPRINT_LEN + 1];
	struct stat sb;
	baton_key *k = NULL;

	baton_fingerprint(baton_key_id_pk(nd->key), was);
	if (stat(kr->path, &sb) != 0) {
		if (forced)
			node_log(NODE_LOG_ERR, "serve: reload: %s: %s; still using key %s",
			         kr->path, strerror(errno), was);
		return;
	}
	if (!forced && same_file(&sb, &kr->st))
		return;
	kr->st = sb;
	if (baton_key_load(kr->path, kr->pass, kr->plen, &k) != 0) {
		node_log(NODE_LOG_ERR,
		         "serve: school.key changed but does not open (%s); still using key %s: "
		         "restart serve to give its passphrase",
		         baton_diag(), was);
		return;
	}
	baton_fingerprint(baton_key_id_pk(k), fpr);
	if (sodium_memcmp(baton_key_id_pk(k), baton_key_id_pk(nd->key), BATON_PK_BYTES) == 0) {
		if (forced)
			node_log(NODE_LOG_INFO, "serve: reload: school.key is still key %s", was);
		baton_key_free(k);
		return;
	}
	if (!keyring_is_takeable(nd, k, fpr, was)) {
		baton_key_free(k);
		return;
	}
	keyring_take(nd, k, fpr, was);
}

const baton_key *keyring_for(struct serve_node *nd, const uint8_t *recipient)
{
	const struct keyring *kr = &nd->keys;
	uint64_t now = serve_now();
	for (size_t i = 0; i < kr->n; i++)
		if (kr->retired[i] != 0 && now <= kr->retired[i] + KEY_GRACE &&
		    sodium_memcmp(baton_key_id_pk(kr->k[i]), recipient, BATON_PK_BYTES) == 0)
			return kr->k[i];
	return nd->key;
}

/* Keys a rekey replaced are freed only when serve ends: the pointer stays good. */
const baton_key *keyring_by_pk(struct serve_node *nd, const uint8_t *pk)
{
	const struct keyring *kr = &nd->keys;
	size_t n = atomic_load(&kr->n);
	for (size_t i = 0; i < n; i++)
		if (sodium_memcmp(baton_key_id_pk(kr->k[i]), pk, BATON_PK_BYTES) == 0)
			return kr->k[i];
	const baton_key *k = nd->key;
	return sodium_memcmp(baton_key_id_pk(k), pk, BATON_PK_BYTES) == 0 ? k : NULL;
}

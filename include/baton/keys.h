/*
 * Keys: school identities (an Ed25519 identity key and a separate X25519
 * encryption key), guardian keys (Ed25519), passphrase-protected key files,
 * fingerprints for reading aloud, and one-line public keys for pasting.
 *
 * Secret keys live in sodium_malloc memory (guard pages, locked, zeroed on
 * free) and are never written anywhere but an encrypted key file, unless
 * the caller asks for an unencrypted file explicitly.
 */
#ifndef BATON_KEYS_H
#define BATON_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include <baton/record.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum baton_key_kind {
	BATON_KEY_SCHOOL = 1,    /* identity (Ed25519) + encryption (X25519) */
	BATON_KEY_GUARDIAN = 2,  /* Ed25519 only; also the eligible student's key */
	BATON_KEY_AUTHORITY = 3, /* Ed25519 only: signs a federation directory; saved encrypted */
} baton_key_kind;

typedef struct baton_key baton_key;

/*
 * A new random key of kind into *out, which the caller frees with
 * baton_key_free() (NULL on error). Returns 0, BATON_EINVAL for an unknown
 * kind, or BATON_ENOMEM.
 */
int baton_key_generate(baton_key_kind kind, baton_key **out);

/* A key derived from a 32-byte seed: for test vectors and tests only. As baton_key_generate. */
int baton_key_from_seed(baton_key_kind kind, const uint8_t seed[32], baton_key **out);

/* Zeroes and frees; NULL is allowed. */
void baton_key_free(baton_key *k);

/* What k is. Cannot fail. */
baton_key_kind baton_key_kind_of(const baton_key *k);
/* Ed25519 public key (32 bytes) and secret key (64 bytes); owned by k. */
const uint8_t *baton_key_id_pk(const baton_key *k);
const uint8_t *baton_key_id_sk(const baton_key *k);
/* X25519 public and secret keys (32 bytes each); NULL for a guardian key. */
const uint8_t *baton_key_enc_pk(const baton_key *k);
const uint8_t *baton_key_enc_sk(const baton_key *k);

/* Argon2id cost of a key file. */
typedef struct baton_kdf_params {
	uint64_t opslimit;
	size_t memlimit;
} baton_kdf_params;

/* crypto_pwhash's interactive cost: the default for key files. */
extern const baton_kdf_params baton_kdf_interactive;
/* The cheapest cost Argon2id allows: for tests only. */
extern const baton_kdf_params baton_kdf_min;

/*
 * Writes k to a new file at path, created with mode 0600 and
 * O_CREAT|O_EXCL|O_NOFOLLOW, then fsync'd. The secret is encrypted under
 * Argon2id(pass) (passlen bytes, not NULL) with cost kdf (NULL:
 * baton_kdf_interactive) and XChaCha20-Poly1305. Everything stays the
 * caller's. Returns 0; BATON_EINVAL when pass is NULL, kdf is outside
 * Argon2id's bounds or path is too long; BATON_EEXIST when anything is at path; BATON_ENOMEM;
 * BATON_EIO (the file could not be written; nothing is left at path).
 */
int baton_key_save(const baton_key *k, const char *path, const char *pass, size_t passlen,
                   const baton_kdf_params *kdf);

/*
 * baton_key_save without a passphrase: the secret is written unencrypted,
 * which callers must offer only when explicitly asked (tests, demo,
 * --no-passphrase). Returns as baton_key_save; BATON_EINVAL for an
 * authority key, which is never written unencrypted.
 */
int baton_key_save_plain(const baton_key *k, const char *path);

/*
 * Reads a key file into *out, which the caller frees with baton_key_free()
 * (NULL on error). pass (passlen bytes) may be NULL: no passphrase given,
 * enough for an unencrypted file; an encrypted one is then
 * BATON_EPASSPHRASE. Returns 0; BATON_EPERM for a symbolic link or a file
 * readable by group or others; BATON_EKEYFILE for a file that is not a
 * regular file, not a Baton key file, too large, or of unknown algorithms;
 * BATON_EPASSPHRASE for a wrong passphrase or a damaged file; BATON_EIO
 * when it cannot be read; BATON_ENOMEM.
 */
int baton_key_load(const char *path, const char *pass, size_t passlen, baton_key **out);

/*
 * Sets *encrypted to 1 when the key file at path needs a passphrase, else
 * 0. Returns 0, or baton_key_load's errors for reading the file and its
 * header.
 */
int baton_key_file_encrypted(const char *path, int *encrypted);

/*
 * Parses a key file already in memory (buf, len: the caller's), with the
 * same checks but permissions, into *out (freed with baton_key_free()).
 * Returns as baton_key_load.
 */
int baton_key_decode(const uint8_t *buf, size_t len, const char *pass, size_t passlen,
                     baton_key **out);

/*
 * Fingerprint of an Ed25519 identity key, for two people to read to each
 * other: 25 base32 characters in five groups, "K7Q2M-4XHDA-...", 125 bits.
 */
#define BATON_FINGERPRINT_LEN 29
/* Writes it, NUL-terminated, into out (the caller's). Cannot fail. */
void baton_fingerprint(const uint8_t pk[BATON_PK_BYTES], char out[BATON_FINGERPRINT_LEN + 1]);

/* One-line public keys: a recognisable prefix, base32, a 2-byte checksum. */
typedef enum baton_pubkey_kind {
	BATON_PUBKEY_GUARDIAN = 1, /* "baton-gk1-..." */
	BATON_PUBKEY_SCHOOL_ID,    /* "baton-sid1-..." */
	BATON_PUBKEY_SCHOOL_ENC,   /* "baton-sek1-..." */
	BATON_PUBKEY_AUTHORITY,    /* "baton-ak1-...": a directory's authority (Ed25519) */
} baton_pubkey_kind;
#define BATON_PUBKEY_TEXT_MAX 72

/*
 * Formats pk as a NUL-terminated line into out, which must hold
 * BATON_PUBKEY_TEXT_MAX bytes (the caller's). Returns 0, or BATON_EINVAL
 * for an unknown kind.
 */
int baton_pubkey_format(baton_pubkey_kind kind, const uint8_t pk[BATON_PK_BYTES],
                        char out[BATON_PUBKEY_TEXT_MAX]);

/*
 * Parses a line (surrounding whitespace ignored, any letter case) of the
 * given kind. BATON_EVALUE for a wrong prefix, character or length,
 * BATON_EHASH for a checksum mismatch (a typo), BATON_EBADKEY for a key
 * that is not a valid point, BATON_EINVAL for an unknown kind. pk (the
 * caller's) is set only on success (returns 0).
 */
int baton_pubkey_parse(baton_pubkey_kind kind, const char *text, uint8_t pk[BATON_PK_BYTES]);

/*
 * Family sign-in (proto/PROTOCOL.md 7.5): a guardian's key signs
 * "BATON-LOGIN-v1\0" || the school's fingerprint || origin length || origin
 * || nonce. The prefix differs from every signed object's, so a login
 * signature is never a consent's, nor the reverse. origin is the web origin
 * as the browser sends it ("https://school.example:8443"), 1..255 bytes of
 * printable ASCII (no space); the message holds the fingerprint of
 * school_pk, the server's identity key.
 */
#define BATON_LOGIN_NONCE_BYTES 32
#define BATON_LOGIN_ORIGIN_MAX  255
#define BATON_LOGIN_MSG_MAX     (15 + BATON_FINGERPRINT_LEN + 1 + BATON_LOGIN_ORIGIN_MAX + 32)

/*
 * Writes the message into out (the caller's) and its length into *outlen.
 * Returns 0, BATON_EVALUE for an empty, too long or non-ASCII origin, or
 * BATON_EINVAL for a NULL argument.
 */
int baton_login_message(const uint8_t school_pk[BATON_PK_BYTES], const char *origin,
                        const uint8_t nonce[BATON_LOGIN_NONCE_BYTES],
                        uint8_t out[BATON_LOGIN_MSG_MAX], size_t *outlen);
/* Signs the message with sk (a guardian's). Returns as baton_login_message. */
int baton_login_sign(const uint8_t school_pk[BATON_PK_BYTES], const char *origin,
                     const uint8_t nonce[BATON_LOGIN_NONCE_BYTES], const uint8_t sk[BATON_SK_BYTES],
                     uint8_t sig[BATON_SIG_BYTES]);
/*
 * Checks that sig is key's signature of the message. Returns 0,
 * BATON_EVALUE for a bad origin, BATON_EBADKEY for a key that is not a valid
 * Ed25519 key, BATON_EBADSIG for a signature that does not verify, or
 * BATON_EINVAL for a NULL argument.
 */
int baton_login_verify(const uint8_t school_pk[BATON_PK_BYTES], const char *origin,
                       const uint8_t nonce[BATON_LOGIN_NONCE_BYTES],
                       const uint8_t key[BATON_PK_BYTES], const uint8_t sig[BATON_SIG_BYTES]);

/*
 * Small file helpers shared by the command line. baton_file_create writes a
 * new file (O_CREAT|O_EXCL|O_NOFOLLOW, the given mode) whole or not at all,
 * and fsyncs it: 0, BATON_EEXIST when anything is at path, BATON_EINVAL for
 * a path too long, BATON_EIO. baton_file_read reads a whole regular file of
 * at most max bytes into *out (plus a NUL not counted in *outlen), which the
 * caller frees with free() (NULL on error): 0, BATON_EIO (cannot open or
 * read, not a regular file), BATON_ETOOBIG beyond max, BATON_ENOMEM.
 */
int baton_file_create(const char *path, const uint8_t *buf, size_t len, unsigned mode);
int baton_file_read(const char *path, size_t max, uint8_t **out, size_t *outlen);
/*
 * baton_file_read for a file holding a secret: refused (BATON_EPERM) when it
 * is a symbolic link or its mode lets anyone but its owner read it, and
 * BATON_EKEYFILE when it is not a regular file. Wipe what it read (the
 * caller's) with sodium_memzero before free().
 */
int baton_file_read_private(const char *path, size_t max, uint8_t **out, size_t *outlen);

/*
 * Packet I/O on file descriptors. baton_source_fd makes src read the file
 * open at fd (its current size) with pread; the caller keeps fd open while
 * src is used (src points to fd). Returns 0 or BATON_EIO (not a regular
 * file). baton_write_fd is a baton_write_fn whose ctx points to an int file
 * descriptor: writes all of buf; 0 or BATON_EIO.
 */
struct baton_source;
int baton_source_fd(struct baton_source *src, int *fd);
int baton_write_fd(void *ctx, const uint8_t *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif

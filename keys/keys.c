/*
 * School and guardian keys, fingerprints and one-line public keys.
 *
 * Key file (all integers big-endian), specified in proto/PROTOCOL.md:
 *   0  "BTNK"      4  version (1)   5  kind (1 school, 2 guardian, 3 authority)
 *   6  protection (0 none, 1 Argon2id + XChaCha20-Poly1305)   7  0
 *   8  opslimit u64   16  memlimit u64   24  salt[16]   40  nonce[24]
 *   64 ciphertext of the secret and its 16-byte tag; bytes 0..63 are the AD
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <baton/keys.h>

#include "bti.h"

#define KF_MAGIC        "BTNK"
#define KF_VERSION      1
#define KF_HDR          64
#define KF_PLAIN_DOMAIN "BATON-KEYFILE-PLAIN-v1"
#define KF_MAX_OPS      16
#define KF_MAX_MEM      (UINT64_C(1) << 30)

const baton_kdf_params baton_kdf_interactive = {crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                crypto_pwhash_MEMLIMIT_INTERACTIVE};
const baton_kdf_params baton_kdf_min = {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};

/* All of it in one sodium_malloc region. */
struct baton_key {
	baton_key_kind kind;
	uint8_t seed[32]; /* Ed25519 seed */
	uint8_t id_sk[crypto_sign_SECRETKEYBYTES];
	uint8_t id_pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t enc_sk[crypto_box_SECRETKEYBYTES];
	uint8_t enc_pk[crypto_box_PUBLICKEYBYTES];
};

static int known_kind(unsigned kind)
{
	return kind == BATON_KEY_SCHOOL || kind == BATON_KEY_GUARDIAN ||
	       kind == BATON_KEY_AUTHORITY;
}

static size_t secret_len(baton_key_kind kind)
{
	return kind == BATON_KEY_SCHOOL ? 64 : 32;
}

/* Builds a key from its stored secret: the Ed25519 seed, then the X25519 key. */
static int key_from_secret(baton_key_kind kind, const uint8_t *secret, baton_key **out)
{
	baton_key *k;

	*out = NULL;
	if (!known_kind(kind))
		return BATON_EINVAL;
	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return BATON_ENOMEM;
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	memcpy(k->seed, secret, 32);
	crypto_sign_seed_keypair(k->id_pk, k->id_sk, k->seed);
	if (kind == BATON_KEY_SCHOOL) {
		memcpy(k->enc_sk, secret + 32, 32);
		crypto_scalarmult_base(k->enc_pk, k->enc_sk);
	}
	sodium_mprotect_readonly(k);
	*out = k;
	return 0;
}

int baton_key_from_seed(baton_key_kind kind, const uint8_t seed[32], baton_key **out)
{
	uint8_t secret[64];
	int r;

	/* Two independent secrets from one seed, so signing and encryption never share a key. */
	crypto_kdf_derive_from_key(secret, 32, 1, "BTNseed_", seed);
	crypto_kdf_derive_from_key(secret + 32, 32, 2, "BTNseed_", seed);
	r = key_from_secret(kind, secret, out);
	sodium_memzero(secret, sizeof(secret));
	return r;
}

int baton_key_generate(baton_key_kind kind, baton_key **out)
{
	uint8_t secret[64];
	int r;

	randombytes_buf(secret, sizeof(secret));
	r = key_from_secret(kind, secret, out);
	sodium_memzero(secret, sizeof(secret));
	return r;
}

void baton_key_free(baton_key *k)
{
	if (k != NULL)
		sodium_free(k); /* zeroes before unmapping */
}

baton_key_kind baton_key_kind_of(const baton_key *k)
{
	return k->kind;
}

const uint8_t *baton_key_id_pk(const baton_key *k)
{
	return k->id_pk;
}

const uint8_t *baton_key_id_sk(const baton_key *k)
{
	return k->id_sk;
}

const uint8_t *baton_key_enc_pk(const baton_key *k)
{
	return k->kind == BATON_KEY_SCHOOL ? k->enc_pk : NULL;
}

const uint8_t *baton_key_enc_sk(const baton_key *k)
{
	return k->kind == BATON_KEY_SCHOOL ? k->enc_sk : NULL;
}

/* ---- key files ---- */

/* The AEAD key: Argon2id of the passphrase, or a fixed key for unencrypted files. */
static int file_key(uint8_t key[32], const uint8_t *hdr, const char *pass, size_t passlen)
{
	if (hdr[6] == 0) {
		crypto_generichash(key, 32, (const uint8_t *)KF_PLAIN_DOMAIN,
		                   sizeof(KF_PLAIN_DOMAIN), NULL, 0);
		return 0;
	}
	if (pass == NULL)
		return bti_diag_err(BATON_EPASSPHRASE,
		                    "key file: encrypted, and no passphrase given");
	if (crypto_pwhash(key, 32, pass, passlen, hdr + 24, get_be64(hdr + 8),
	                  (size_t)get_be64(hdr + 16), crypto_pwhash_ALG_ARGON2ID13) != 0)
		return bti_diag_err(BATON_ENOMEM, "key file: not enough memory for Argon2id");
	return 0;
}

/* Writes k's key file: encrypted under pass, or unencrypted when pass is NULL. */
static int key_save(const baton_key *k, const char *path, const char *pass, size_t passlen,
                    const baton_kdf_params *kdf)
{
	uint8_t *buf = NULL;
	uint8_t key[32];
	size_t slen = secret_len(k->kind), len = KF_HDR + slen + 16;
	int r;

	bti_diag_clear();
	if (kdf == NULL)
		kdf = &baton_kdf_interactive;
	if (kdf->opslimit < crypto_pwhash_OPSLIMIT_MIN || kdf->opslimit > KF_MAX_OPS ||
	    kdf->memlimit < crypto_pwhash_MEMLIMIT_MIN || kdf->memlimit > KF_MAX_MEM)
		return BATON_EINVAL;
	if ((buf = sodium_malloc(len)) == NULL)
		return BATON_ENOMEM;
	memset(buf, 0, KF_HDR);
	memcpy(buf, KF_MAGIC, 4);
	buf[4] = KF_VERSION;
	buf[5] = (uint8_t)k->kind;
	buf[6] = pass != NULL ? 1 : 0;
	if (pass != NULL) {
		put_be64(buf + 8, kdf->opslimit);
		put_be64(buf + 16, kdf->memlimit);
		randombytes_buf(buf + 24, 16);
	}
	randombytes_buf(buf + 40, 24);
	if ((r = file_key(key, buf, pass, passlen)) != 0)
		goto out;
	/* The stored secret is the seed then the X25519 key: contiguous in struct baton_key. */
	uint8_t secret[64];
	memcpy(secret, k->seed, 32);
	if (k->kind == BATON_KEY_SCHOOL)
		memcpy(secret + 32, k->enc_sk, 32);
	crypto_aead_xchacha20poly1305_ietf_encrypt(buf + KF_HDR, NULL, secret, slen, buf, KF_HDR,
	                                           NULL, buf + 40, key);
	sodium_memzero(secret, sizeof(secret));
	r = baton_file_create(path, buf, len, 0600);
out:
	sodium_memzero(key, sizeof(key));
	sodium_free(buf);
	return r;
}

int baton_key_save(const baton_key *k, const char *path, const char *pass, size_t passlen,
                   const baton_kdf_params *kdf)
{
	/* Writing a secret in the clear is asked for by name, never by a missing argument. */
	if (pass == NULL)
		return bti_diag_err(BATON_EINVAL,
		                    "%s: no passphrase given for the key file (an unencrypted one "
		                    "is baton_key_save_plain)",
		                    path);
	return key_save(k, path, pass, passlen, kdf);
}

int baton_key_save_plain(const baton_key *k, const char *path)
{
	/* An authority's key vouches for every school of a federation: never in the clear. */
	if (k->kind == BATON_KEY_AUTHORITY)
		return bti_diag_err(BATON_EINVAL, "%s: an authority key is saved only encrypted",
		                    path);
	return key_save(k, path, NULL, 0, &baton_kdf_interactive);
}

static int check_header(const uint8_t *buf, size_t len)
{
	if (len < KF_HDR || memcmp(buf, KF_MAGIC, 4) != 0)
		return bti_diag_err(BATON_EKEYFILE, "key file: not a Baton key file");
	if (buf[4] != KF_VERSION)
		return bti_diag_err(BATON_EKEYFILE, "key file: version %u is not supported",
		                    buf[4]);
	if (!known_kind(buf[5]))
		return bti_diag_err(BATON_EKEYFILE, "key file: unknown key kind %u", buf[5]);
	if (buf[6] > 1)
		return bti_diag_err(BATON_EKEYFILE, "key file: unknown protection %u", buf[6]);
	if (buf[7] != 0)
		return bti_diag_err(BATON_EKEYFILE, "key file: reserved byte 7 is %u, not 0",
		                    buf[7]);
	if (buf[5] == BATON_KEY_AUTHORITY && buf[6] == 0)
		return bti_diag_err(BATON_EKEYFILE, "key file: an authority key without a "
		                                    "passphrase");
	if (len != KF_HDR + secret_len((baton_key_kind)buf[5]) + 16)
		return bti_diag_err(BATON_EKEYFILE,
		                    "key file: %zu bytes, wrong length for its kind", len);
	uint64_t ops = get_be64(buf + 8), mem = get_be64(buf + 16);
	if (buf[6] == 1 && (ops < crypto_pwhash_OPSLIMIT_MIN || ops > KF_MAX_OPS ||
	                    mem < crypto_pwhash_MEMLIMIT_MIN || mem > KF_MAX_MEM))
		return bti_diag_err(BATON_EKEYFILE, "key file: Argon2id cost out of range");
	if (buf[6] == 0) {
		for (int i = 8; i < 40; i++)
			if (buf[i] != 0)
				return bti_diag_err(
				    BATON_EKEYFILE,
				    "key file: unencrypted file with KDF parameters");
	}
	return 0;
}

int baton_key_decode(const uint8_t *buf, size_t len, const char *pass, size_t passlen,
                     baton_key **out)
{
	uint8_t key[32], *secret = NULL;
	int r;

	bti_diag_clear();
	*out = NULL;
	if ((r = check_header(buf, len)) != 0)
		return r;
	size_t slen = secret_len((baton_key_kind)buf[5]);
	if ((secret = sodium_malloc(slen)) == NULL)
		return BATON_ENOMEM;
	if ((r = file_key(key, buf, pass, passlen)) != 0)
		goto out;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, NULL, NULL, buf + KF_HDR, slen + 16,
	                                               buf, KF_HDR, buf + 40, key) != 0) {
		r = bti_diag_err(BATON_EPASSPHRASE, buf[6]
		                                        ? "key file: wrong passphrase, or the file "
		                                          "is damaged"
		                                        : "key file: damaged");
		goto out;
	}
	r = key_from_secret((baton_key_kind)buf[5], secret, out);
out:
	sodium_memzero(key, sizeof(key));
	sodium_free(secret);
	return r;
}

int baton_file_read_private(const char *path, size_t max, uint8_t **buf, size_t *len)
{
	struct stat st;
	int fd, r;

	*buf = NULL;
	*len = 0;
	/* O_NOFOLLOW: a secret's file is never a symlink someone else could point elsewhere. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return bti_diag_err(errno == ELOOP ? BATON_EPERM : BATON_EIO, "%s: %s", path,
		                    errno == ELOOP ? "is a symbolic link" : strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bti_diag_err(BATON_EKEYFILE, "%s: not a regular file", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return bti_diag_err(BATON_EPERM,
		                    "%s: mode %04o lets others read it; run chmod 600 on it", path,
		                    (unsigned)(st.st_mode & 07777));
	}
	/* Read through the descriptor just checked: no second lookup of the path. */
	r = bti_file_read_fd(fd, path, max, buf, len);
	close(fd);
	return r;
}

static int read_key_file(const char *path, uint8_t **buf, size_t *len)
{
	int r = baton_file_read_private(path, 4096, buf, len);
	if (r == BATON_ETOOBIG)
		r = bti_diag_err(BATON_EKEYFILE, "%s: too large for a key file", path);
	return r;
}

int baton_key_load(const char *path, const char *pass, size_t passlen, baton_key **out)
{
	uint8_t *buf;
	size_t len;
	int r;

	bti_diag_clear();
	*out = NULL;
	if ((r = read_key_file(path, &buf, &len)) != 0)
		return r;
	r = baton_key_decode(buf, len, pass, passlen, out);
	sodium_memzero(buf, len);
	free(buf);
	return r;
}

int baton_key_file_encrypted(const char *path, int *encrypted)
{
	uint8_t *buf;
	size_t len;
	int r;

	bti_diag_clear();
	*encrypted = 0;
	if ((r = read_key_file(path, &buf, &len)) != 0)
		return r;
	if ((r = check_header(buf, len)) == 0)
		*encrypted = buf[6] == 1;
	sodium_memzero(buf, len);
	free(buf);
	return r;
}

/* ---- fingerprints and public key lines ---- */

static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* Base32 (RFC 4648 alphabet, lower case, no padding) of nbits bits of p. */
static size_t base32(const uint8_t *p, size_t nbits, char *out)
{
	size_t n = 0;
	for (size_t bit = 0; bit < nbits; bit += 5) {
		unsigned v = 0;
		for (size_t k = 0; k < 5; k++) {
			size_t b = bit + k;
			unsigned x = b < nbits ? (p[b / 8] >> (7 - b % 8)) & 1 : 0;
			v = (v << 1) | x;
		}
		out[n++] = b32[v];
	}
	out[n] = '\0';
	return n;
}

void baton_fingerprint(const uint8_t pk[BATON_PK_BYTES], char out[BATON_FINGERPRINT_LEN + 1])
{
	static const char domain[] = "BATON-FINGERPRINT-v1";
	uint8_t h[16];
	char raw[26];
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	crypto_generichash_update(&st, (const uint8_t *)domain, sizeof(domain));
	crypto_generichash_update(&st, pk, BATON_PK_BYTES);
	crypto_generichash_final(&st, h, sizeof(h));
	base32(h, 125, raw);
	size_t o = 0;
	for (size_t i = 0; i < 25; i++) {
		if (i > 0 && i % 5 == 0)
			out[o++] = '-';
		char c = raw[i];
		out[o++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
	}
	out[o] = '\0';
}

static const char *pubkey_prefix(baton_pubkey_kind kind)
{
	switch (kind) {
	case BATON_PUBKEY_GUARDIAN:
		return "baton-gk1-";
	case BATON_PUBKEY_SCHOOL_ID:
		return "baton-sid1-";
	case BATON_PUBKEY_SCHOOL_ENC:
		return "baton-sek1-";
	case BATON_PUBKEY_AUTHORITY:
		return "baton-ak1-";
	}
	return NULL;
}

static void pubkey_check(const char *prefix, const uint8_t pk[BATON_PK_BYTES], uint8_t sum[2])
{
	crypto_generichash_state st;
	crypto_generichash_init(&st, NULL, 0, 2);
	crypto_generichash_update(&st, (const uint8_t *)prefix, strlen(prefix));
	crypto_generichash_update(&st, pk, BATON_PK_BYTES);
	crypto_generichash_final(&st, sum, 2);
}

int baton_pubkey_format(baton_pubkey_kind kind, const uint8_t pk[BATON_PK_BYTES],
                        char out[BATON_PUBKEY_TEXT_MAX])
{
	const char *prefix = pubkey_prefix(kind);
	uint8_t raw[BATON_PK_BYTES + 2];

	if (prefix == NULL)
		return BATON_EINVAL;
	memcpy(raw, pk, BATON_PK_BYTES);
	pubkey_check(prefix, pk, raw + BATON_PK_BYTES);
	size_t n = strlen(prefix);
	memcpy(out, prefix, n);
	base32(raw, 8 * sizeof(raw), out + n);
	return 0;
}

int baton_pubkey_parse(baton_pubkey_kind kind, const char *text, uint8_t pk[BATON_PK_BYTES])
{
	const char *prefix = pubkey_prefix(kind);
	uint8_t raw[BATON_PK_BYTES + 2], sum[2];
	size_t nbits = 8 * sizeof(raw), nchars = (nbits + 4) / 5, i, plen;

	bti_diag_clear();
	if (prefix == NULL)
		return BATON_EINVAL;
	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	plen = strlen(prefix);
	if (strncasecmp(text, prefix, plen) != 0)
		return bti_diag_err(BATON_EVALUE, "public key: does not start with \"%s\"", prefix);
	text += plen;
	memset(raw, 0, sizeof(raw));
	for (i = 0; i < nchars; i++) {
		char c = text[i];
		const char *at;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '\0' || (at = strchr(b32, c)) == NULL)
			return bti_diag_err(BATON_EVALUE,
			                    "public key: character %zu is not base32 or "
			                    "the key is too short",
			                    plen + i + 1);
		unsigned v = (unsigned)(at - b32);
		for (size_t k = 0; k < 5; k++) {
			size_t b = 5 * i + k;
			unsigned bitv = (v >> (4 - k)) & 1;
			if (b < nbits)
				raw[b / 8] |= (uint8_t)(bitv << (7 - b % 8));
			else if (bitv)
				return bti_diag_err(BATON_EVALUE,
				                    "public key: last character is wrong");
		}
	}
	for (const char *t = text + i; *t; t++)
		if (*t != ' ' && *t != '\t' && *t != '\n' && *t != '\r')
			return bti_diag_err(BATON_EVALUE,
			                    "public key: unexpected text after the key");
	pubkey_check(prefix, raw, sum);
	if (sodium_memcmp(sum, raw + BATON_PK_BYTES, 2) != 0)
		return bti_diag_err(BATON_EHASH, "public key: checksum does not match (a typo?)");
	if (kind != BATON_PUBKEY_SCHOOL_ENC && crypto_core_ed25519_is_valid_point(raw) != 1)
		return bti_diag_err(BATON_EBADKEY, "public key: not a valid Ed25519 key");
	if (kind == BATON_PUBKEY_SCHOOL_ENC && bti_check_x25519_pk("public key", "enc", raw) != 0)
		return BATON_EBADKEY;
	memcpy(pk, raw, BATON_PK_BYTES);
	return 0;
}

/*
 * Keys: key files (0600, O_EXCL, no symlinks, passphrase, tamper), the
 * fingerprint, and one-line public keys (prefix, checksum, case, typos).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "testutil.h"

#define AK1_EXAMPLE "baton-ak1-axgm6gqxvoqdqldolon7p4zrapqjgqh4ztniguiwv73ktas4fzg4qei"

static char dir[] = "/tmp/baton-keys-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[64];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void test_generate_distinct(void **state)
{
	baton_key *a, *b;
	(void)state;
	assert_int_equal(baton_key_generate(BATON_KEY_SCHOOL, &a), 0);
	assert_int_equal(baton_key_generate(BATON_KEY_SCHOOL, &b), 0);
	assert_memory_not_equal(baton_key_id_pk(a), baton_key_id_pk(b), 32);
	/* Signing and encryption keys are separate keys, not one key in two forms. */
	assert_memory_not_equal(baton_key_id_sk(a), baton_key_enc_sk(a), 32);
	assert_int_equal(baton_key_kind_of(a), BATON_KEY_SCHOOL);
	baton_key_free(a);
	baton_key_free(b);
	assert_int_equal(baton_key_generate(BATON_KEY_GUARDIAN, &a), 0);
	assert_null(baton_key_enc_pk(a));
	assert_null(baton_key_enc_sk(a));
	baton_key_free(a);
	baton_key_free(NULL);
}

static void test_save_load_passphrase(void **state)
{
	char p[128];
	struct stat st;
	baton_key *k = tu_key(BATON_KEY_SCHOOL, 7), *l = NULL;
	int enc;
	(void)state;

	path_of(p, sizeof(p), "school.key");
	assert_int_equal(baton_key_save(k, p, "pass phrase", 11, &baton_kdf_min), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(baton_key_file_encrypted(p, &enc), 0);
	assert_int_equal(enc, 1);
	assert_int_equal(baton_key_load(p, "pass phrase", 11, &l), 0);
	assert_memory_equal(baton_key_id_sk(k), baton_key_id_sk(l), 64);
	assert_memory_equal(baton_key_enc_sk(k), baton_key_enc_sk(l), 32);
	assert_memory_equal(baton_key_enc_pk(k), baton_key_enc_pk(l), 32);
	baton_key_free(l);
	assert_int_equal(baton_key_load(p, "pass phrasE", 11, &l), BATON_EPASSPHRASE);
	assert_null(l);
	assert_int_equal(baton_key_load(p, NULL, 0, &l), BATON_EPASSPHRASE);
	/* Never overwritten. */
	assert_int_equal(baton_key_save(k, p, "x", 1, &baton_kdf_min), BATON_EEXIST);
	/* The file holds no plaintext secret. */
	uint8_t *buf;
	size_t len;
	assert_int_equal(baton_file_read(p, 4096, &buf, &len), 0);
	assert_null(memmem(buf, len, baton_key_id_sk(k), 32));
	assert_null(memmem(buf, len, baton_key_enc_sk(k), 32));
	free(buf);
	baton_key_free(k);
}

static void test_unencrypted(void **state)
{
	char p[128];
	baton_key *k = tu_key(BATON_KEY_GUARDIAN, 8), *l = NULL;
	int enc;
	(void)state;
	path_of(p, sizeof(p), "plain.key");
	/* A missing passphrase never means "unencrypted": that is asked for by name. */
	assert_int_equal(baton_key_save(k, p, NULL, 0, NULL), BATON_EINVAL);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(baton_key_save_plain(k, p), 0);
	assert_int_equal(baton_key_file_encrypted(p, &enc), 0);
	assert_int_equal(enc, 0);
	assert_int_equal(baton_key_load(p, NULL, 0, &l), 0);
	assert_int_equal(baton_key_kind_of(l), BATON_KEY_GUARDIAN);
	assert_memory_equal(baton_key_id_pk(k), baton_key_id_pk(l), 32);
	baton_key_free(l);
	baton_key_free(k);
}

static void test_unsafe_files(void **state)
{
	char p[128], link[128];
	baton_key *k = tu_key(BATON_KEY_GUARDIAN, 8), *l = NULL;
	(void)state;
	path_of(p, sizeof(p), "perm.key");
	assert_int_equal(baton_key_save_plain(k, p), 0);
	/* Readable by others: refused, with the mode in the message. */
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(baton_key_load(p, NULL, 0, &l), BATON_EPERM);
	assert_non_null(strstr(baton_diag(), "0644"));
	assert_int_equal(chmod(p, 0600), 0);
	/* A symlink is not followed, for reading or writing. */
	path_of(link, sizeof(link), "link.key");
	assert_int_equal(symlink(p, link), 0);
	assert_int_equal(baton_key_load(link, NULL, 0, &l), BATON_EPERM);
	assert_int_equal(baton_key_save_plain(k, link), BATON_EEXIST);
	/* A missing file and a directory. */
	path_of(p, sizeof(p), "missing.key");
	assert_int_equal(baton_key_load(p, NULL, 0, &l), BATON_EIO);
	assert_non_null(strstr(baton_diag(), "missing.key"));
	assert_int_equal(baton_key_load(dir, NULL, 0, &l), BATON_EKEYFILE);
	/* Not a key file at all. */
	path_of(p, sizeof(p), "junk.key");
	assert_int_equal(baton_file_create(p, (const uint8_t *)"hello", 5, 0600), 0);
	assert_int_equal(baton_key_load(p, NULL, 0, &l), BATON_EKEYFILE);
	assert_null(l);
	baton_key_free(k);
}

static void test_decode_rejects(void **state)
{
	baton_key *k = tu_key(BATON_KEY_SCHOOL, 7), *l = NULL;
	char p[128];
	uint8_t *buf;
	size_t len;
	(void)state;
	path_of(p, sizeof(p), "dec.key");
	assert_int_equal(baton_key_save(k, p, "pw", 2, &baton_kdf_min), 0);
	assert_int_equal(baton_file_read(p, 4096, &buf, &len), 0);
	/* An unknown version or protection. */
	buf[4] = 2;
	assert_int_equal(baton_key_decode(buf, len, "pw", 2, &l), BATON_EKEYFILE);
	buf[4] = 1;
	buf[6] = 7;
	assert_int_equal(baton_key_decode(buf, len, "pw", 2, &l), BATON_EKEYFILE);
	buf[6] = 1;
	/* A cost that would take the machine down is refused before Argon2 runs. */
	buf[16] = 0x7f;
	assert_int_equal(baton_key_decode(buf, len, "pw", 2, &l), BATON_EKEYFILE);
	buf[16] = 0;
	assert_int_equal(baton_key_decode(buf, len, "pw", 2, &l), 0);
	baton_key_free(l);
	/* A school file relabelled as a guardian file has the wrong length. */
	buf[5] = BATON_KEY_GUARDIAN;
	assert_int_equal(baton_key_decode(buf, len, "pw", 2, &l), BATON_EKEYFILE);
	free(buf);
	baton_key_free(k);
}

static void test_fingerprint(void **state)
{
	char f1[BATON_FINGERPRINT_LEN + 1], f2[BATON_FINGERPRINT_LEN + 1];
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	(void)state;
	baton_fingerprint(baton_key_id_pk(a), f1);
	assert_int_equal(strlen(f1), BATON_FINGERPRINT_LEN);
	for (int i = 0; i < BATON_FINGERPRINT_LEN; i++) {
		if (i % 6 == 5)
			assert_int_equal(f1[i], '-');
		else
			assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", f1[i]));
	}
	baton_fingerprint(baton_key_id_pk(a), f2);
	assert_string_equal(f1, f2);
	baton_fingerprint(baton_key_id_pk(b), f2);
	assert_string_not_equal(f1, f2);
	baton_key_free(a);
	baton_key_free(b);
}

static void test_pubkey_lines(void **state)
{
	char line[BATON_PUBKEY_TEXT_MAX], mangled[BATON_PUBKEY_TEXT_MAX + 8];
	uint8_t pk[32];
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3), *s = tu_key(BATON_KEY_SCHOOL, 1);
	(void)state;

	assert_int_equal(baton_pubkey_format(BATON_PUBKEY_GUARDIAN, baton_key_id_pk(g), line), 0);
	assert_int_equal(strncmp(line, "baton-gk1-", 10), 0);
	assert_true(strlen(line) < 70);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, line, pk), 0);
	assert_memory_equal(pk, baton_key_id_pk(g), 32);
	/* Pasted with whitespace, or upper-cased by a form. */
	snprintf(mangled, sizeof(mangled), "  %s\n", line);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, mangled, pk), 0);
	for (char *c = mangled; *c; c++)
		if (*c >= 'a' && *c <= 'z')
			*c = (char)(*c - 'a' + 'A');
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, mangled, pk), 0);
	/* Every one-character typo is caught by the checksum or the alphabet. */
	size_t caught = 0, n = strlen(line);
	for (size_t i = 10; i < n; i++) {
		snprintf(mangled, sizeof(mangled), "%s", line);
		mangled[i] = mangled[i] == 'a' ? 'b' : 'a';
		if (baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, mangled, pk) != 0)
			caught++;
	}
	/* A 16-bit checksum misses about 1 in 65536; for this key none slip. */
	assert_int_equal(caught, n - 10);
	/* Too short, too long, wrong kind. */
	snprintf(mangled, sizeof(mangled), "%.*s", (int)(n - 1), line);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, mangled, pk), BATON_EVALUE);
	snprintf(mangled, sizeof(mangled), "%sa", line);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, mangled, pk), BATON_EVALUE);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_SCHOOL_ID, line, pk), BATON_EVALUE);
	assert_non_null(strstr(baton_diag(), "baton-sid1-"));
	/* School encryption keys are checked for low order. */
	assert_int_equal(baton_pubkey_format(BATON_PUBKEY_SCHOOL_ENC, baton_key_enc_pk(s), line),
	                 0);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_SCHOOL_ENC, line, pk), 0);
	uint8_t zero[32] = {0};
	assert_int_equal(baton_pubkey_format(BATON_PUBKEY_SCHOOL_ENC, zero, line), 0);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_SCHOOL_ENC, line, pk), BATON_EBADKEY);
	assert_int_equal(baton_pubkey_format(BATON_PUBKEY_GUARDIAN, zero, line), 0);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, line, pk), BATON_EBADKEY);
	baton_key_free(g);
	baton_key_free(s);
}

/* An authority's key (PROTOCOL.md 7.1 kind 3, 7.4 baton-ak1-): encrypted always, its own line. */
static void test_authority_key(void **state)
{
	char p[128], line[BATON_PUBKEY_TEXT_MAX];
	baton_key *k = tu_key(BATON_KEY_AUTHORITY, 1), *l = NULL;
	baton_key *s = tu_key(BATON_KEY_SCHOOL, 1);
	uint8_t *buf, pk[32];
	size_t len;
	struct stat st;
	int enc;
	(void)state;

	/* Derived as a guardian key is: the first 32 bytes of the secret. */
	assert_int_equal(baton_key_kind_of(k), BATON_KEY_AUTHORITY);
	assert_memory_equal(baton_key_id_pk(k), baton_key_id_pk(s), 32);
	assert_null(baton_key_enc_pk(k));
	assert_null(baton_key_enc_sk(k));
	path_of(p, sizeof(p), "authority.key");
	/* Never written unencrypted. */
	assert_int_equal(baton_key_save_plain(k, p), BATON_EINVAL);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(baton_key_save(k, p, "pw", 2, &baton_kdf_min), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 112);
	assert_int_equal(baton_key_file_encrypted(p, &enc), 0);
	assert_int_equal(enc, 1);
	assert_int_equal(baton_key_load(p, "pw", 2, &l), 0);
	assert_int_equal(baton_key_kind_of(l), BATON_KEY_AUTHORITY);
	assert_memory_equal(baton_key_id_sk(k), baton_key_id_sk(l), 64);
	baton_key_free(l);
	assert_int_equal(baton_key_load(p, "pW", 2, &l), BATON_EPASSPHRASE);
	assert_null(l);
	assert_int_equal(baton_file_read(p, 4096, &buf, &len), 0);
	assert_int_equal(buf[5], 3);
	assert_null(memmem(buf, len, baton_key_id_sk(k), 32));
	/* Marked unencrypted (protection 0): refused before anything is decrypted. */
	buf[6] = 0;
	memset(buf + 8, 0, 32);
	assert_int_equal(baton_key_decode(buf, len, NULL, 0, &l), BATON_EKEYFILE);
	assert_non_null(strstr(baton_diag(), "authority"));
	/* A kind no version defines. */
	buf[6] = 1;
	buf[5] = 4;
	assert_int_equal(baton_key_decode(buf, len, "pw", 2, &l), BATON_EKEYFILE);
	free(buf);
	/* A guardian's unencrypted file relabelled as an authority's is refused. */
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 2);
	path_of(p, sizeof(p), "guardian-plain.key");
	assert_int_equal(baton_key_save_plain(g, p), 0);
	assert_int_equal(baton_file_read(p, 4096, &buf, &len), 0);
	buf[5] = BATON_KEY_AUTHORITY;
	assert_int_equal(baton_key_decode(buf, len, NULL, 0, &l), BATON_EKEYFILE);
	free(buf);
	baton_key_free(g);

	/* The line: its own prefix and checksum, 65 characters. */
	assert_int_equal(baton_pubkey_format(BATON_PUBKEY_AUTHORITY, baton_key_id_pk(k), line), 0);
	assert_int_equal(strncmp(line, "baton-ak1-", 10), 0);
	assert_int_equal(strlen(line), 65);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_AUTHORITY, line, pk), 0);
	assert_memory_equal(pk, baton_key_id_pk(k), 32);
	/* As PROTOCOL.md 7.4 gives it for the key of the seed of 32 bytes 0x01. */
	assert_string_equal(line, AK1_EXAMPLE);
	/* A school's identity line is not an authority's, nor the reverse. */
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_SCHOOL_ID, line, pk), BATON_EVALUE);
	char sid[BATON_PUBKEY_TEXT_MAX];
	assert_int_equal(baton_pubkey_format(BATON_PUBKEY_SCHOOL_ID, baton_key_id_pk(k), sid), 0);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_AUTHORITY, sid, pk), BATON_EVALUE);
	/* The same key under another prefix fails the checksum. */
	char swapped[BATON_PUBKEY_TEXT_MAX + 8];
	snprintf(swapped, sizeof(swapped), "baton-gk1-%s", line + 10);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, swapped, pk), BATON_EHASH);
	uint8_t zero[32] = {0};
	assert_int_equal(baton_pubkey_format(BATON_PUBKEY_AUTHORITY, zero, line), 0);
	assert_int_equal(baton_pubkey_parse(BATON_PUBKEY_AUTHORITY, line, pk), BATON_EBADKEY);
	baton_key_free(s);
	baton_key_free(k);
}

static void test_file_helpers(void **state)
{
	char p[128];
	uint8_t *buf;
	size_t len;
	(void)state;
	path_of(p, sizeof(p), "data.bin");
	assert_int_equal(baton_file_create(p, (const uint8_t *)"0123456789", 10, 0644), 0);
	assert_int_equal(baton_file_read(p, 10, &buf, &len), 0);
	assert_int_equal(len, 10);
	free(buf);
	assert_int_equal(baton_file_read(p, 9, &buf, &len), BATON_ETOOBIG);
	assert_null(buf);
	assert_int_equal(baton_file_create(p, (const uint8_t *)"x", 1, 0644), BATON_EEXIST);
}

/* The family sign-in message, byte by byte (PROTOCOL.md 7.5), and its checks. */
static void test_login(void **state)
{
	baton_key *a = tu_key(BATON_KEY_SCHOOL, 1), *b = tu_key(BATON_KEY_SCHOOL, 2);
	baton_key *g = tu_key(BATON_KEY_GUARDIAN, 3), *h = tu_key(BATON_KEY_GUARDIAN, 4);
	const char *origin = "http://127.0.0.1:8080";
	uint8_t nonce[32], other[32], msg[BATON_LOGIN_MSG_MAX], sig[64];
	char fp[BATON_FINGERPRINT_LEN + 1], longest[BATON_LOGIN_ORIGIN_MAX + 2];
	size_t len;
	(void)state;

	randombytes_buf(nonce, sizeof(nonce));
	memcpy(other, nonce, sizeof(other));
	other[31] ^= 1;
	assert_int_equal(baton_login_message(baton_key_id_pk(a), origin, nonce, msg, &len), 0);
	assert_int_equal(len, 15 + 29 + 1 + strlen(origin) + 32);
	assert_memory_equal(msg, "BATON-LOGIN-v1\0", 15);
	baton_fingerprint(baton_key_id_pk(a), fp);
	assert_memory_equal(msg + 15, fp, 29);
	assert_int_equal(msg[44], strlen(origin));
	assert_memory_equal(msg + 45, origin, strlen(origin));
	assert_memory_equal(msg + 45 + strlen(origin), nonce, 32);

	/* The signature is plain Ed25519 over those bytes. */
	assert_int_equal(
	    baton_login_sign(baton_key_id_pk(a), origin, nonce, baton_key_id_sk(g), sig), 0);
	assert_int_equal(crypto_sign_verify_detached(sig, msg, len, baton_key_id_pk(g)), 0);
	assert_int_equal(
	    baton_login_verify(baton_key_id_pk(a), origin, nonce, baton_key_id_pk(g), sig), 0);
	/* Each field changed. */
	assert_int_equal(
	    baton_login_verify(baton_key_id_pk(b), origin, nonce, baton_key_id_pk(g), sig),
	    BATON_EBADSIG);
	assert_int_equal(baton_login_verify(baton_key_id_pk(a), "http://127.0.0.1:8081", nonce,
	                                    baton_key_id_pk(g), sig),
	                 BATON_EBADSIG);
	assert_int_equal(
	    baton_login_verify(baton_key_id_pk(a), origin, other, baton_key_id_pk(g), sig),
	    BATON_EBADSIG);
	assert_int_equal(
	    baton_login_verify(baton_key_id_pk(a), origin, nonce, baton_key_id_pk(h), sig),
	    BATON_EBADSIG);

	/* Origins: 1..255 bytes of printable ASCII. */
	assert_int_equal(baton_login_message(baton_key_id_pk(a), "", nonce, msg, &len),
	                 BATON_EVALUE);
	assert_int_equal(baton_login_message(baton_key_id_pk(a), "http://a b", nonce, msg, &len),
	                 BATON_EVALUE);
	assert_int_equal(
	    baton_login_message(baton_key_id_pk(a), "http://\xc3\xa9", nonce, msg, &len),
	    BATON_EVALUE);
	memset(longest, 'x', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(baton_login_message(baton_key_id_pk(a), longest, nonce, msg, &len),
	                 BATON_EVALUE);
	assert_int_equal(
	    baton_login_verify(baton_key_id_pk(a), longest, nonce, baton_key_id_pk(g), sig),
	    BATON_EVALUE);
	longest[BATON_LOGIN_ORIGIN_MAX] = '\0';
	assert_int_equal(baton_login_message(baton_key_id_pk(a), longest, nonce, msg, &len), 0);
	assert_int_equal(len, BATON_LOGIN_MSG_MAX);
	assert_int_equal(msg[44], 255);
	assert_int_equal(baton_login_message(baton_key_id_pk(a), NULL, nonce, msg, &len),
	                 BATON_EINVAL);

	/* A consent by the same key does not verify as a login, nor the reverse. */
	baton_consent c;
	uint8_t *cons;
	size_t clen;
	tu_consent_fill(&c, g, a, b, BATON_SEC_BIT(BATON_SEC_IDENTITY));
	tu_consent_sign(&c, g, &cons, &clen);
	assert_int_equal(baton_login_verify(baton_key_id_pk(a), origin, nonce, baton_key_id_pk(g),
	                                    cons + clen - 64),
	                 BATON_EBADSIG);
	memcpy(cons + clen - 64, sig, 64);
	assert_int_equal(baton_consent_parse(cons, clen, &c), BATON_EBADSIG);
	free(cons);
	baton_key_free(a), baton_key_free(b), baton_key_free(g), baton_key_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_generate_distinct), cmocka_unit_test(test_save_load_passphrase),
	    cmocka_unit_test(test_unencrypted),       cmocka_unit_test(test_unsafe_files),
	    cmocka_unit_test(test_decode_rejects),    cmocka_unit_test(test_fingerprint),
	    cmocka_unit_test(test_pubkey_lines),      cmocka_unit_test(test_authority_key),
	    cmocka_unit_test(test_file_helpers),      cmocka_unit_test(test_login),
	};
	if (baton_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}

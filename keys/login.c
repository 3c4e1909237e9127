/*
 * Family sign-in (proto/PROTOCOL.md section 7.5): the message a guardian's
 * key signs to sign in to a school's web server, and its check.
 *
 *   "BATON-LOGIN-v1\0" || fingerprint (29) || origin length (1) || origin
 *   || nonce (32)
 */
#include <string.h>

#include <sodium.h>

#include <baton/keys.h>

#include "bti.h"

#define LOGIN_DOMAIN "BATON-LOGIN-v1"

int baton_login_message(const uint8_t school_pk[BATON_PK_BYTES], const char *origin,
                        const uint8_t nonce[BATON_LOGIN_NONCE_BYTES],
                        uint8_t out[BATON_LOGIN_MSG_MAX], size_t *outlen)
{
	if (school_pk == NULL || origin == NULL || nonce == NULL || out == NULL || outlen == NULL)
		return BATON_EINVAL;
	size_t olen = strnlen(origin, BATON_LOGIN_ORIGIN_MAX + 1);
	if (olen == 0)
		return bti_diag_err(BATON_EVALUE, "origin: empty");
	if (olen > BATON_LOGIN_ORIGIN_MAX)
		return bti_diag_err(BATON_EVALUE, "origin: longer than %d bytes",
		                    BATON_LOGIN_ORIGIN_MAX);
	for (size_t i = 0; i < olen; i++) {
		unsigned char c = (unsigned char)origin[i];
		if (c < 0x21 || c > 0x7e)
			return bti_diag_err(
			    BATON_EVALUE, "origin: byte %zu is 0x%02x, not printable ASCII", i, c);
	}
	char fp[BATON_FINGERPRINT_LEN + 1];
	size_t o = 0;
	memcpy(out, LOGIN_DOMAIN, sizeof(LOGIN_DOMAIN)); /* with its NUL */
	o += sizeof(LOGIN_DOMAIN);
	baton_fingerprint(school_pk, fp);
	memcpy(out + o, fp, BATON_FINGERPRINT_LEN);
	o += BATON_FINGERPRINT_LEN;
	out[o++] = (uint8_t)olen;
	memcpy(out + o, origin, olen);
	o += olen;
	memcpy(out + o, nonce, BATON_LOGIN_NONCE_BYTES);
	o += BATON_LOGIN_NONCE_BYTES;
	*outlen = o;
	return 0;
}

int baton_login_sign(const uint8_t school_pk[BATON_PK_BYTES], const char *origin,
                     const uint8_t nonce[BATON_LOGIN_NONCE_BYTES], const uint8_t sk[BATON_SK_BYTES],
                     uint8_t sig[BATON_SIG_BYTES])
{
	uint8_t msg[BATON_LOGIN_MSG_MAX];
	size_t mlen;
	if (sk == NULL || sig == NULL)
		return BATON_EINVAL;
	int r = baton_login_message(school_pk, origin, nonce, msg, &mlen);
	if (r != 0)
		return r;
	if (crypto_sign_detached(sig, NULL, msg, mlen, sk) != 0)
		return BATON_EINTERNAL;
	return 0;
}

int baton_login_verify(const uint8_t school_pk[BATON_PK_BYTES], const char *origin,
                       const uint8_t nonce[BATON_LOGIN_NONCE_BYTES],
                       const uint8_t key[BATON_PK_BYTES], const uint8_t sig[BATON_SIG_BYTES])
{
	uint8_t msg[BATON_LOGIN_MSG_MAX];
	size_t mlen;
	if (key == NULL || sig == NULL)
		return BATON_EINVAL;
	int r = baton_login_message(school_pk, origin, nonce, msg, &mlen);
	if (r != 0)
		return r;
	if ((r = bti_check_ed25519_pk("login", "key", key)) != 0)
		return r;
	if (crypto_sign_verify_detached(sig, msg, mlen, key) != 0)
		return bti_diag_err(BATON_EBADSIG, "signature: does not verify");
	return 0;
}

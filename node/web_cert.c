/*
 * A self-signed certificate for trying the console (web.h): GnuTLS makes
 * the key and signs the certificate, so no openssl command is needed. A
 * browser warns about it; a school uses one its own authority signed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <sodium.h>

#include "bti.h"
#include "web.h"

#define CERT_DAYS 365

static int tls_fail(int e, const char *what)
{
	return bti_diag_err(BATON_EIO, "self-signed certificate: %s: %s", what, gnutls_strerror(e));
}

/* Fills in crt for host, signed by key. */
static int cert_fill(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *host)
{
	uint8_t serial[16];
	time_t now = time(NULL);
	int e;
	randombytes_buf(serial, sizeof(serial));
	serial[0] &= 0x7f;
	if ((e = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (e = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (e = gnutls_x509_crt_set_activation_time(crt, now - 60)) < 0 ||
	    (e = gnutls_x509_crt_set_expiration_time(crt, now + CERT_DAYS * 86400L)) < 0 ||
	    (e = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, host,
	                                       (unsigned)strlen(host))) < 0 ||
	    (e = gnutls_x509_crt_set_subject_alt_name(
	         crt, GNUTLS_SAN_DNSNAME, host, (unsigned)strlen(host), GNUTLS_FSAN_SET)) < 0 ||
	    (e = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (e = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (e = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (e = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (e = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
		return tls_fail(e, "certificate");
	return 0;
}

/* Writes d to path with mode, never over an existing file. */
static int write_new(const char *path, const gnutls_datum_t *d, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	ssize_t n;
	if (fd < 0)
		return bti_diag_err(errno == EEXIST ? BATON_EEXIST : BATON_EIO, "%s: %s", path,
		                    strerror(errno));
	n = write(fd, d->data, d->size);
	if (n != (ssize_t)d->size || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		return bti_diag_err(BATON_EIO, "%s: %s", path, strerror(errno));
	}
	close(fd);
	return 0;
}

static int export_both(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *dir)
{
	gnutls_datum_t c = {NULL, 0}, k = {NULL, 0};
	char cp[WEB_PATH_MAX + 16], kp[WEB_PATH_MAX + 16];
	int e, r;
	snprintf(cp, sizeof(cp), "%s/web.crt", dir);
	snprintf(kp, sizeof(kp), "%s/web.key", dir);
	if (access(cp, F_OK) == 0 || access(kp, F_OK) == 0)
		return bti_diag_err(BATON_EEXIST, "%s/web.crt or web.key exists already", dir);
	if ((e = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &c)) < 0 ||
	    (e = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &k)) < 0)
		r = tls_fail(e, "export");
	else if ((r = write_new(kp, &k, 0600)) == 0 && (r = write_new(cp, &c, 0644)) != 0)
		unlink(kp);
	if (k.data) {
		sodium_memzero(k.data, k.size);
		gnutls_free(k.data);
	}
	gnutls_free(c.data);
	return r;
}

int web_selfsigned(const char *dir, const char *host)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	int e, r;
	if ((e = gnutls_x509_privkey_init(&key)) < 0 || (e = gnutls_x509_crt_init(&crt)) < 0 ||
	    (e = gnutls_x509_privkey_generate(
	         key, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0)
		r = tls_fail(e, "key");
	else if ((r = cert_fill(crt, key, host)) == 0)
		r = export_both(crt, key, dir);
	if (crt)
		gnutls_x509_crt_deinit(crt);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return r;
}

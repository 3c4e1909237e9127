/* Error names, sentences and the per-thread diagnostic. */
#include <stdio.h>
#include <string.h>

#include "proto_impl.h"

struct errdesc {
	int code;
	const char *name;
	const char *text;
};

static const struct errdesc errors[] = {
    {BATON_OK, "OK", "success"},
    {BATON_EINTERNAL, "EINTERNAL", "internal error"},
    {BATON_ENOMEM, "ENOMEM", "out of memory"},
    {BATON_EINVAL, "EINVAL", "invalid argument"},
    {BATON_EIO, "EIO", "input/output error"},
    {BATON_ETRUNC, "ETRUNC", "input is truncated"},
    {BATON_ELENGTH, "ELENGTH", "declared length runs past the input"},
    {BATON_ETRAILING, "ETRAILING", "trailing bytes after the object"},
    {BATON_EDEPTH, "EDEPTH", "nesting too deep"},
    {BATON_ETOOBIG, "ETOOBIG", "input too large"},
    {BATON_EDUPKEY, "EDUPKEY", "duplicate key"},
    {BATON_ENONCANON, "ENONCANON", "not in canonical encoding"},
    {BATON_ETYPE, "ETYPE", "wrong or forbidden type"},
    {BATON_EUTF8, "EUTF8", "string is not valid UTF-8"},
    {BATON_EUNKNOWN, "EUNKNOWN", "unknown field"},
    {BATON_EMISSING, "EMISSING", "required field missing"},
    {BATON_EVALUE, "EVALUE", "value out of range"},
    {BATON_EMAGIC, "EMAGIC", "not a Baton object of the expected type"},
    {BATON_EVERSION, "EVERSION", "unsupported format version"},
    {BATON_EKIND, "EKIND", "unknown or unexpected kind"},
    {BATON_EBADSIG, "EBADSIG", "signature does not verify"},
    {BATON_EBADKEY, "EBADKEY", "invalid public key"},
    {BATON_EWRONGRCPT, "EWRONGRCPT", "addressed to another school"},
    {BATON_EDECRYPT, "EDECRYPT", "decryption failed"},
    {BATON_EEXPIRED, "EEXPIRED", "expired"},
    {BATON_ENOTYET, "ENOTYET", "not valid yet"},
    {BATON_EHASH, "EHASH", "content does not match its hash"},
    {BATON_ECONSENT, "ECONSENT", "the enclosed consent does not cover this packet"},
    {BATON_ENOTLINKED, "ENOTLINKED", "the signer is not a guardian linked to this student"},
    {BATON_ERESTRICTED, "ERESTRICTED", "the signer's link to this student is restricted"},
    {BATON_EELIGIBLE, "EELIGIBLE", "the rights have passed to the student (18 or postsecondary)"},
    {BATON_ENOTELIGIBLE, "ENOTELIGIBLE", "the student is not yet eligible to consent"},
    {BATON_EFROM, "EFROM", "the consent names another sending school"},
    {BATON_ETO, "ETO", "the consent names another receiving school"},
    {BATON_ESECTIONS, "ESECTIONS", "sections outside the consent"},
    {BATON_EREVOKED, "EREVOKED", "the consent has been revoked"},
    {BATON_EREUSED, "EREUSED", "the consent id is bound to another student"},
    {BATON_ENOSTUDENT, "ENOSTUDENT", "no such student at this school"},
    {BATON_EPASSPHRASE, "EPASSPHRASE", "wrong passphrase or damaged key file"},
    {BATON_EKEYFILE, "EKEYFILE", "not a supported Baton key file"},
    {BATON_EEXIST, "EEXIST", "file exists"},
    {BATON_EPERM, "EPERM", "file permissions are unsafe"},
    {BATON_ENOTFOUND, "ENOTFOUND", "not found"},
};

static const struct errdesc *lookup(int err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return &errors[i];
	return NULL;
}

const char *baton_strerror(int err)
{
	const struct errdesc *d = lookup(err);
	return d ? d->text : "unknown error";
}

const char *baton_errname(int err)
{
	const struct errdesc *d = lookup(err);
	return d ? d->name : "EUNKNOWNCODE";
}

int baton_errcode(const char *name, int *err)
{
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		if (strcmp(errors[i].name, name) == 0) {
			*err = errors[i].code;
			return 0;
		}
	}
	return BATON_ENOTFOUND;
}

static _Thread_local char diag_buf[512];
/*
 * The code the message was set with (0: set without one). A message is
 * printed for an error only when it was set for that error: a failure that
 * recorded nothing must not be explained by an older one.
 */
static _Thread_local int diag_code;

const char *baton_diag(void)
{
	return diag_buf;
}

const char *baton_diag_for(int err)
{
	return diag_code == 0 || diag_code == err ? diag_buf : "";
}

void bti_diag_clear(void)
{
	diag_buf[0] = '\0';
	diag_code = 0;
}

__attribute__((format(printf, 1, 0))) static void diag_vset(const char *fmt, va_list ap)
{
	vsnprintf(diag_buf, sizeof(diag_buf), fmt, ap);
}

void bti_diag_set(const char *fmt, ...)
{
	va_list ap;
	diag_code = 0;
	va_start(ap, fmt);
	diag_vset(fmt, ap);
	va_end(ap);
}

int bti_diag_err(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diag_vset(fmt, ap);
	va_end(ap);
	diag_code = err;
	return err;
}

void bti_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

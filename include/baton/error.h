/*
 * Baton error codes.
 *
 * Every libbaton function that can fail returns int: 0 on success or one of
 * the negative BATON_E* codes below. baton_strerror() turns a code into a
 * sentence, baton_errname() into its stable name ("EBADSIG", used by the test
 * vectors), and baton_diag() tells which field or value caused the last
 * failure in the calling thread.
 *
 * The one return convention, for the library and for the node built on it
 * (store, node, command):
 *  - A function that can fail returns 0 on success, or a negative BATON_E*
 *    code after recording what it was looking at (baton_diag()).
 *  - A lookup that finds nothing returns BATON_ENOTFOUND: never a positive
 *    value. Callers that treat absence as normal test for that code.
 *  - A predicate, named as a question (is_*, has_*, *_same_*, *_valid),
 *    returns 1 or 0 and cannot fail.
 *  - Counts and sizes are returned through pointer arguments, never mixed
 *    with error codes.
 *  - A pointer argument may be NULL only where its comment says so, and
 *    then only to say "not wanted"; a NULL never selects another mode.
 * Ownership is stated per function: what a function allocates for its
 * caller says "the caller frees it with X"; everything else stays owned by
 * whoever passed it in.
 */
#ifndef BATON_ERROR_H
#define BATON_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum baton_error {
	BATON_OK = 0,

	/* Environment and programming errors. */
	BATON_EINTERNAL = -1, /* a bug or an impossible state */
	BATON_ENOMEM = -2,    /* allocation failed */
	BATON_EINVAL = -3,    /* an argument is out of range (caller's mistake) */
	BATON_EIO = -4,       /* read or write failed; errno tells more */
	BATON_ENOTFOUND = -5, /* a lookup found nothing */

	/* Encoding: the canonical msgpack codec. */
	BATON_ETRUNC = -10,    /* input ends inside an object */
	BATON_ELENGTH = -11,   /* a declared length or count runs past the input */
	BATON_ETRAILING = -12, /* bytes follow a complete object */
	BATON_EDEPTH = -13,    /* nesting deeper than the cap */
	BATON_ETOOBIG = -14,   /* input or object count over the cap */
	BATON_EDUPKEY = -15,   /* a map repeats a key */
	BATON_ENONCANON = -16, /* not the one canonical encoding */
	BATON_ETYPE = -17,     /* a type that is forbidden or wrong for the field */
	BATON_EUTF8 = -18,     /* a string is not valid UTF-8 */
	BATON_EUNKNOWN = -19,  /* a field this version does not define */
	BATON_EMISSING = -20,  /* a required field is absent */
	BATON_EVALUE = -21,    /* a field's value is out of range */

	/* Objects and packets. */
	BATON_EMAGIC = -30,     /* not a Baton object of the expected type */
	BATON_EVERSION = -31,   /* a format version this build does not read */
	BATON_EKIND = -32,      /* unknown or unexpected kind */
	BATON_EBADSIG = -33,    /* signature does not verify */
	BATON_EBADKEY = -34,    /* public key invalid, low-order or non-canonical */
	BATON_EWRONGRCPT = -35, /* addressed to another school */
	BATON_EDECRYPT = -36,   /* authenticated decryption failed */
	BATON_EEXPIRED = -37,   /* past its expiry */
	BATON_ENOTYET = -38,    /* not valid yet */
	BATON_EHASH = -39,      /* content does not match its hash */
	BATON_ECONSENT = -40,   /* the enclosed consent does not cover this packet */

	/* The release rules a sending node applies to a consent (one per rule). */
	BATON_ENOTLINKED = -41,   /* rule 2: signer is not linked to the student */
	BATON_ERESTRICTED = -42,  /* rule 2: signer's link is restricted */
	BATON_EELIGIBLE = -43,    /* rule 2: rights have passed to the eligible student */
	BATON_ENOTELIGIBLE = -44, /* rule 2: the student's own key, before 18 */
	BATON_EFROM = -45,        /* rule 3: consent names another sending school */
	BATON_ETO = -46,          /* rule 4: consent names another receiving school */
	BATON_ESECTIONS = -47,    /* rule 5: sections outside the consent */
	BATON_EREVOKED = -48,     /* rule 7: consent revoked */
	BATON_EREUSED = -49,      /* rule 8: consent id already bound to another student */
	BATON_ENOSTUDENT = -54,   /* the consent's student is not at this school */

	/* Key files. */
	BATON_EPASSPHRASE = -50, /* wrong passphrase, or the key file is damaged */
	BATON_EKEYFILE = -51,    /* not a Baton key file, or an unsupported one */
	BATON_EEXIST = -52,      /* the file exists; Baton never overwrites keys */
	BATON_EPERM = -53,       /* file permissions are unsafe */
};

/* A sentence describing err. Never NULL; static storage. Cannot fail. */
const char *baton_strerror(int err);

/*
 * The stable name of err without the BATON_ prefix ("EBADSIG"); static,
 * never NULL ("EUNKNOWNCODE" for a code this build does not define).
 */
const char *baton_errname(int err);

/*
 * Looks up a stable name ("EBADSIG", NUL-terminated, owned by the caller)
 * and sets *err to its code. Returns 0, or BATON_ENOTFOUND when this build
 * defines no error of that name (*err is then left alone).
 */
int baton_errcode(const char *name, int *err);

/*
 * What the last failing call in this thread was looking at: a field path
 * and, where useful, the value ("consent.sections[2]: \"lunch\""). Empty
 * string when nothing was recorded. Valid until the next libbaton call in the
 * same thread.
 */
const char *baton_diag(void);

/*
 * baton_diag() when it was recorded for the error err (or without a code),
 * otherwise the empty string: what to print next to err. Storage as
 * baton_diag()'s.
 */
const char *baton_diag_for(int err);

#ifdef __cplusplus
}
#endif
#endif

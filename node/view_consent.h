/*
 * Consents on file at the node, as the command line ('baton consent list',
 * 'baton consent import', 'baton consent show --json') and the console's API
 * show and take them: one function each, so that the two cannot disagree.
 */
#ifndef BATON_NODE_VIEW_CONSENT_H
#define BATON_NODE_VIEW_CONSENT_H

#include <stddef.h>
#include <stdint.h>

#include <baton/packet.h>
#include <jansson.h>

#include "store.h"

/*
 * A verified consent c as JSON (type, id, student, from, to, purpose,
 * issued, expires, signer, signer_fingerprint, role, sections, signature,
 * status: "valid", "expired" or "not yet valid" at now). New reference, the
 * caller's (json_decref); NULL when out of memory.
 */
json_t *consent_view_json(const baton_consent *c, uint64_t now);

/*
 * The consents this school has seen, in id order, of one student (student
 * NULL: all), each as consent_view_json with its status at now, where
 * "revoked" comes before "expired". *arr is a new array, the caller's
 * (json_decref); NULL on error. Returns 0; BATON_EIO when a stored consent
 * does not parse; BATON_ENOMEM; or the store's error.
 */
int consent_view_list(store *st, const char *student, uint64_t now, json_t **arr);

/* A consent or revocation brought by hand (consent_view_import). */
struct consent_import_req {
	/* in */
	const uint8_t *bytes; /* the file, the caller's */
	size_t len;
	const baton_consent *shown; /* a revocation: the consent it withdraws, or NULL */
	/* out */
	int type;            /* BATON_OBJ_CONSENT or BATON_OBJ_REVOCATION */
	baton_consent c;     /* a consent: decoded */
	baton_revocation rv; /* a revocation: decoded */
	int effective;       /* a revocation that withdraws a consent this node knows */
};

/*
 * Records x->bytes, a consent (after the release rules, for the receiving
 * school it names: which binds its id to its student) or a revocation
 * (consent_revoke), with its audit entry ("consent-import" or
 * "consent-revoke", detail "received by hand"), in one transaction.
 * Returns 0; BATON_EVALUE when the bytes are neither, or shown goes with a
 * consent; a release rule's or consent_revoke's error, with nothing stored;
 * BATON_EIO when this node has no card; or the store's error.
 */
int consent_view_import(store *st, struct consent_import_req *x);

#endif

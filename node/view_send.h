/*
 * Before a record is sealed: every release rule's verdict for one student,
 * one consent and one receiving school, for a registrar to read before
 * sending (the console's Send page). The send itself is transfer_send.
 */
#ifndef BATON_NODE_VIEW_SEND_H
#define BATON_NODE_VIEW_SEND_H

#include <stddef.h>
#include <stdint.h>

#include <baton/packet.h>
#include <jansson.h>

#include "consent.h"
#include "store.h"

/* consent_rules' verdicts, then "student" (the consent names this student) and "sent". */
#define SEND_CHECK_RULES (CONSENT_RULES + 2)

struct send_check {
	/* in */
	const char *student;    /* the student the registrar chose */
	const char *to_code;    /* a pinned school */
	const uint8_t *consent; /* the encoded consent, the caller's */
	size_t consent_len;
	uint32_t sections; /* 0: everything the consent allows */
	uint64_t now, skew;
	/* out */
	struct consent_rule rule[SEND_CHECK_RULES];
	size_t n;         /* verdicts in rule */
	int allowed;      /* every verdict passed: transfer_send would seal it */
	uint32_t release; /* then, the sections it would release */
	baton_consent c;  /* the consent, when parsed */
	int parsed;
	char to_name[BATON_NAME_MAX + 1]; /* the receiving school's name, from its card */
};

/*
 * Applies every release rule to x's consent, each on its own (consent_rules),
 * and whether the consent names x->student and the record was already sent
 * to x->to_code under it; then, as 'baton consent check' does, the rules in
 * order, whose outcome is audited ("consent-checked" or "consent-refused")
 * and which bind the consent's id to its student when they pass. Nothing
 * else is stored. Returns 0 whatever the verdicts; BATON_EVALUE when
 * to_code is not a pinned school ("to: ..."); BATON_EIO when this node has
 * no card; or the store's error, with nothing stored.
 */
int send_check(store *st, struct send_check *x);

/*
 * x's verdicts as JSON: {"student", "to", "to_name", "allowed", "sections"
 * (would release; "" unless allowed), "consent" (consent_view_json, or null),
 * "rules": [{"rule", "title", "state": "passed"|"failed"|"not checked",
 * "why", "error" (failed: the code's name)}]}. New reference, the caller's
 * (json_decref); NULL when out of memory.
 */
json_t *send_check_json(const struct send_check *x);

/*
 * A consent on file by its id, *bytes (malloc'd, the caller frees with
 * free()) and *len. Returns 0, BATON_ENOTFOUND ("consent: no consent ID on
 * file") or the store's error.
 */
int send_consent_on_file(store *st, const uint8_t id[BATON_ID_BYTES], uint8_t **bytes, size_t *len);

#endif

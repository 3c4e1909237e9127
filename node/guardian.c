/* Guardians' keys linked to a student (guardian.h). */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "guardian.h"

int guardian_key_parse(const char *what, const char *line, uint8_t pk[BATON_PK_BYTES])
{
	if (line == NULL || line[0] == '\0')
		return bti_diag_err(BATON_EVALUE,
		                    "%s: a guardian's public key line is required "
		                    "(baton-gk1-...)",
		                    what);
	if (baton_pubkey_parse(BATON_PUBKEY_GUARDIAN, line, pk) != 0)
		return bti_diag_err(
		    BATON_EVALUE,
		    "%s: \"%.24s%s\" is not a guardian's public key line "
		    "(baton-gk1-..., as the parent's 'baton guardian keygen' printed it)",
		    what, line, strlen(line) > 24 ? "..." : "");
	return 0;
}

int guardian_relation_valid(const char *rel)
{
	size_t n = strlen(rel);
	return n > 0 && n < sizeof(((store_guardian *)0)->relation) &&
	       strspn(rel, "abcdefghijklmnopqrstuvwxyz-_") == n;
}

json_t *guardian_json(const store_guardian *g)
{
	char line[BATON_PUBKEY_TEXT_MAX], fpr[BATON_FINGERPRINT_LEN + 1];
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, g->pk, line);
	baton_fingerprint(g->pk, fpr);
	return json_pack("{s:s, s:s, s:s, s:b, s:I}", "key", line, "fingerprint", fpr, "relation",
	                 g->relation, "restricted", g->restricted, "linked", (json_int_t)g->linked);
}

static int student_exists(store_txn *t, const char *student)
{
	store_student s;
	int r = store_student_get(t, student, &s);
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_ENOTFOUND, "no student \"%s\"", student)
	                            : r;
}

struct list_ctx {
	const char *student;
	json_t *arr;
};

static int list_cb(const store_guardian *g, void *arg)
{
	return json_array_append_new(arg, guardian_json(g)) != 0
	           ? bti_diag_err(BATON_ENOMEM, "out of memory")
	           : 0;
}

static int list_fn(store_txn *t, void *arg)
{
	struct list_ctx *c = arg;
	int r;
	if ((r = student_exists(t, c->student)) != 0)
		return r;
	return store_guardian_each(t, c->student, list_cb, c->arr);
}

int guardian_list(store *st, const char *student, json_t **out)
{
	struct list_ctx c = {student, json_array()};
	int r;
	*out = NULL;
	if (c.arr == NULL)
		return bti_diag_err(BATON_ENOMEM, "out of memory");
	if ((r = store_read(st, list_fn, &c)) != 0) {
		json_decref(c.arr);
		return r;
	}
	*out = c.arr;
	return 0;
}

static int link_audit(store_txn *t, const char *action, const char *student, const char *detail)
{
	store_audit e;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "%s", action);
	snprintf(e.student, sizeof(e.student), "%s", student);
	snprintf(e.detail, sizeof(e.detail), "%s", detail);
	return store_audit_append(t, &e);
}

struct link_ctx {
	const char *student;
	store_guardian *g;
	const uint8_t *pk;
	int found, restricted;
};

static int prior_cb(const store_guardian *g, void *arg)
{
	struct link_ctx *c = arg;
	if (memcmp(g->pk, c->pk, BATON_PK_BYTES) == 0) {
		c->found = 1;
		c->restricted = g->restricted;
	}
	return 0;
}

static int link_in(store_txn *t, struct link_ctx *c)
{
	char detail[128], fpr[BATON_FINGERPRINT_LEN + 1];
	int r;

	if ((r = student_exists(t, c->student)) != 0)
		return r;
	baton_fingerprint(c->g->pk, fpr);
	/* A restriction (a court order) is never lifted as a side effect of re-linking. */
	if ((r = store_guardian_each(t, c->student, prior_cb, c)) != 0)
		return r;
	if (c->found && c->restricted && !c->g->restricted)
		return bti_diag_err(
		    BATON_ERESTRICTED,
		    "key %s is restricted for %s; to lift the restriction, unlink the "
		    "key first (recorded in the audit log), then link it again",
		    fpr, c->student);
	c->g->linked = t->now;
	if ((r = store_guardian_put(t, c->student, c->g)) != 0)
		return r;
	snprintf(detail, sizeof(detail), "%s key %s%s", c->g->relation, fpr,
	         c->g->restricted ? ", restricted" : "");
	return link_audit(t, "guardian-link", c->student, detail);
}

static int relation_check(const store_guardian *g)
{
	if (!guardian_relation_valid(g->relation))
		return bti_diag_err(
		    BATON_EVALUE,
		    "relation: \"%s\": use a short lower-case word (mother, father, "
		    "guardian, self)",
		    g->relation);
	return 0;
}

static int link_fn(store_txn *t, void *arg)
{
	return link_in(t, arg);
}

int guardian_link(store *st, const char *student, store_guardian *g)
{
	struct link_ctx c = {student, g, g->pk, 0, 0};
	int r;
	if ((r = relation_check(g)) != 0)
		return r;
	return store_write(st, link_fn, &c);
}

int guardian_link_txn(store_txn *t, const char *student, store_guardian *g)
{
	struct link_ctx c = {student, g, g->pk, 0, 0};
	int r;
	if ((r = relation_check(g)) != 0)
		return r;
	return link_in(t, &c);
}

static int unlink_fn(store_txn *t, void *arg)
{
	struct link_ctx *c = arg;
	char detail[128], fpr[BATON_FINGERPRINT_LEN + 1];
	int r;

	if ((r = student_exists(t, c->student)) != 0)
		return r;
	baton_fingerprint(c->pk, fpr);
	if ((r = store_guardian_del(t, c->student, c->pk)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(BATON_ENOTFOUND, "key %s is not linked to %s", fpr,
		                          c->student)
		           : r;
	snprintf(detail, sizeof(detail), "key %s", fpr);
	return link_audit(t, "guardian-unlink", c->student, detail);
}

int guardian_unlink(store *st, const char *student, const uint8_t pk[BATON_PK_BYTES])
{
	struct link_ctx c = {student, NULL, pk, 0, 0};
	return store_write(st, unlink_fn, &c);
}

struct find_ctx {
	const char *student, *which;
	uint8_t *pk;
	int found;
};

/* 1 when which names g's key: its fingerprint, its line or its hex, else 0. */
static int names_key(const store_guardian *g, const char *which)
{
	char fpr[BATON_FINGERPRINT_LEN + 1], line[BATON_PUBKEY_TEXT_MAX];
	char hex[2 * BATON_PK_BYTES + 1];
	baton_fingerprint(g->pk, fpr);
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, g->pk, line);
	sodium_bin2hex(hex, sizeof(hex), g->pk, BATON_PK_BYTES);
	return strcmp(which, fpr) == 0 || strcmp(which, line) == 0 || strcmp(which, hex) == 0;
}

static int find_cb(const store_guardian *g, void *arg)
{
	struct find_ctx *c = arg;
	if (c->found || !names_key(g, c->which))
		return 0;
	memcpy(c->pk, g->pk, BATON_PK_BYTES);
	c->found = 1;
	return 0;
}

static int find_fn(store_txn *t, void *arg)
{
	struct find_ctx *c = arg;
	int r;
	if ((r = student_exists(t, c->student)) != 0 ||
	    (r = store_guardian_each(t, c->student, find_cb, c)) != 0)
		return r;
	return c->found ? 0
	                : bti_diag_err(BATON_ENOTFOUND, "key %s is not linked to %s", c->which,
	                               c->student);
}

int guardian_find(store *st, const char *student, const char *which, uint8_t pk[BATON_PK_BYTES])
{
	struct find_ctx c = {student, which, pk, 0};
	return store_read(st, find_fn, &c);
}

/*
 * The family's API (web_api.h, web_routes_family): a parent's (or an
 * eligible student's) view of the students their key is linked to, and
 * their consents. web.c's family gate has checked the Origin, the family
 * session, its token and that the key is still linked before a handler
 * runs; each handler calls family.h, where the rules of who sees what live.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "enrolment.h"
#include "bti.h"
#include "disclosure_copy.h"
#include "dissent.h"
#include "family.h"
#include "family_notify.h"
#include "serve.h"
#include "web.h"
#include "web_api.h"
#include "web_impl.h"

/* GET family/about: the bundle's hash and this school. Open. */
static int family_about(struct web_call *call)
{
	char hash[65];
	json_t *school = family_school(call->st);
	if (!school)
		return bti_diag_err(BATON_EIO, "the node has no card");
	web_bundle_hash(hash);
	json_t *o = json_pack("{s:s, s:o, s:o}", "bundle", hash, "files", web_bundle_files(),
	                      "school", school);
	/* With the enrolment exception on, the school's annual notice to families. */
	struct enrol_policy p;
	int r = enrolment_policy_get(call->st, &p);
	if (r != 0) {
		json_decref(o);
		return r;
	}
	if (o && p.on && json_object_set_new(o, "enrolment_notice", json_string(p.notice)) != 0)
		o = (json_decref(o), NULL);
	return web_ok(call, o);
}

/* GET family/me: the key, this school, the students it sees. */
static int family_me(struct web_call *call)
{
	char line[BATON_PUBKEY_TEXT_MAX], fp[BATON_FINGERPRINT_LEN + 1];
	json_t *students, *school;
	int r;
	if ((r = family_students(call->st, call->family->pk, serve_now(), &students)) != 0)
		return r;
	if ((school = family_school(call->st)) == NULL) {
		json_decref(students);
		return bti_diag_err(BATON_EIO, "the node has no card");
	}
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, call->family->pk, line);
	baton_fingerprint(call->family->pk, fp);
	return web_ok(call, json_pack("{s:s, s:s, s:o, s:o}", "fingerprint", fp, "key", line,
	                              "school", school, "students", students));
}

/* GET family/schools: what a consent may name as its receiver. */
static int family_schools_get(struct web_call *call)
{
	json_t *arr;
	int r = family_schools(call->st, &arr);
	return r ? r : web_ok(call, arr);
}

/* GET family/students/ID: the record as the school holds it. */
static int family_student(struct web_call *call)
{
	json_t *o;
	int r = family_record(call->st, call->family->pk, call->arg[0], serve_now(), &o);
	return r ? r : web_ok(call, o);
}

/* GET family/students/ID/attachments/HASH: the file. */
static int family_student_file(struct web_call *call)
{
	char name[128], type[128];
	int r =
	    family_attachment(call->st, call->family->pk, call->arg[0], call->arg[1], serve_now(),
	                      &call->blob, &call->blob_len, name, type, sizeof(name));
	if (r != 0)
		return r;
	web_safe_name(name, call->blob_name, sizeof(call->blob_name));
	call->blob_type = web_send_type(type);
	return 0;
}

static int family_student_disclosures(struct web_call *call)
{
	json_t *arr;
	int r = family_disclosures(call->st, call->family->pk, call->arg[0], serve_now(), &arr);
	return r ? r : web_ok(call, arr);
}

/* GET family/students/ID/disclosures/copy: the record of disclosures as a file signed by the
 * school (PROTOCOL.md 3.13), for 'baton audit check'. */
static int family_student_disclosures_copy(struct web_call *call)
{
	char name[BATON_STUDENT_MAX + 32];
	const baton_key *key = web_key(call);
	int r;
	if (key == NULL)
		return bti_diag_err(BATON_EIO, "the node has no school key");
	r = disclosure_copy_make(call->st, key, call->arg[0], call->family->pk, serve_now(),
	                         &call->blob, &call->blob_len);
	if (r != 0)
		return r;
	snprintf(name, sizeof(name), "disclosures-%s.baton-disclosures", call->arg[0]);
	web_safe_name(name, call->blob_name, sizeof(call->blob_name));
	call->blob_type = "application/octet-stream";
	return 0;
}

static int family_student_requests(struct web_call *call)
{
	json_t *arr;
	int r = family_requests(call->st, call->family->pk, call->arg[0], serve_now(), &arr);
	return r ? r : web_ok(call, arr);
}

static int family_student_consents(struct web_call *call)
{
	json_t *arr;
	int r = family_consents(call->st, call->family->pk, call->arg[0], serve_now(), &arr);
	return r ? r : web_ok(call, arr);
}

/* The body's member name: a signed object in hex, into *out (malloc'd) and *len. */
static int body_object(const struct web_call *call, const char *name, uint8_t **out, size_t *len)
{
	const char *hex = web_body_str(call, name);
	size_t n = hex ? strlen(hex) : 0;
	*out = NULL;
	if (!hex || n == 0 || n % 2 || n / 2 > BATON_OBJ_MAX)
		return bti_diag_err(
		    BATON_EVALUE,
		    "%s: the signed object in hexadecimal digits is required (at most "
		    "%d bytes)",
		    name, BATON_OBJ_MAX);
	if ((*out = malloc(n / 2)) == NULL)
		return BATON_ENOMEM;
	if (sodium_hex2bin(*out, n / 2, hex, n, NULL, len, NULL) != 0 || *len != n / 2) {
		free(*out);
		*out = NULL;
		return bti_diag_err(BATON_EVALUE, "%s: not hexadecimal digits", name);
	}
	return 0;
}

/* POST family/consents {"consent": HEX}: a consent signed in the browser. */
static int family_consent_post(struct web_call *call)
{
	uint8_t *b;
	size_t n;
	json_t *o;
	int r = body_object(call, "consent", &b, &n);
	if (r != 0)
		return r;
	r = family_consent_add(call->st, call->family->pk, b, n, serve_now(), &o);
	free(b);
	if (r != 0)
		return r;
	call->status = 201;
	return web_ok(call, o);
}

/* POST family/revocations {"revocation": HEX}: a revocation signed in the browser. */
static int family_revocation_post(struct web_call *call)
{
	uint8_t *b;
	size_t n;
	json_t *o;
	int r = body_object(call, "revocation", &b, &n);
	if (r != 0)
		return r;
	r = family_revocation_add(call->st, call->family->pk, b, n, serve_now(), &o);
	free(b);
	return r ? r : web_ok(call, o);
}

/* GET family/students/ID/statements: the statements of disagreement kept with the record. */
static int family_student_statements(struct web_call *call)
{
	json_t *arr;
	int r = dissent_family_list(call->st, call->family->pk, call->arg[0], serve_now(), &arr);
	return r ? r : web_ok(call, arr);
}

/* POST family/statements {"statement": HEX}: a statement of disagreement signed in the browser. */
static int family_statement_post(struct web_call *call)
{
	uint8_t *b;
	size_t n;
	json_t *o;
	int r = body_object(call, "statement", &b, &n);
	if (r != 0)
		return r;
	r = dissent_file(call->st, call->family->pk, b, n, serve_now(), &o);
	free(b);
	if (r != 0)
		return r;
	call->status = 201;
	return web_ok(call, o);
}

/* ---- the family's email address (family_notify.h) ---- */

/* GET family/email: the address on file for the signed-in key, null when none. */
static int family_email_get(struct web_call *call)
{
	char addr[STORE_EMAIL_MAX + 1];
	int r = notify_email_get(call->st, call->family->pk, addr);
	return r ? r : web_ok(call, json_pack("{s:s?}", "email", addr[0] ? addr : NULL));
}

/* PUT family/email {"email": ADDRESS}: sets it; "" or null removes it. */
static int family_email_put(struct web_call *call)
{
	json_t *v = call->body ? json_object_get(call->body, "email") : NULL;
	const char *addr = json_is_string(v) ? json_string_value(v) : "";
	char now[STORE_EMAIL_MAX + 1];
	int r;
	if (!v || !(json_is_string(v) || json_is_null(v)))
		return bti_diag_err(BATON_EVALUE,
		                    "email: an address, or \"\" or null to remove it, is required");
	if ((r = notify_email_set(call->st, call->family->pk, addr)) != 0 ||
	    (r = notify_email_get(call->st, call->family->pk, now)) != 0)
		return r;
	return web_ok(call, json_pack("{s:s?}", "email", now[0] ? now : NULL));
}

const struct web_route web_routes_family[] = {
    {"GET", "family/about", WEB_ROUTE_OPEN, family_about},
    {"GET", "family/me", 0, family_me},
    {"GET", "family/schools", 0, family_schools_get},
    {"GET", "family/students/*", 0, family_student},
    {"GET", "family/students/*/attachments/*", 0, family_student_file},
    {"GET", "family/students/*/disclosures", 0, family_student_disclosures},
    {"GET", "family/students/*/disclosures/copy", 0, family_student_disclosures_copy},
    {"GET", "family/students/*/requests", 0, family_student_requests},
    {"GET", "family/students/*/consents", 0, family_student_consents},
    {"POST", "family/consents", 0, family_consent_post},
    {"POST", "family/revocations", 0, family_revocation_post},
    {"GET", "family/students/*/statements", 0, family_student_statements},
    {"POST", "family/statements", 0, family_statement_post},
    {"GET", "family/email", 0, family_email_get},
    {"PUT", "family/email", 0, family_email_put},
    {NULL, NULL, 0, NULL},
};

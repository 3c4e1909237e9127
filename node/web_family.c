/*
 * The family's API (web_api.h, web_routes_family): a parent's (or an
 * eligible student's) view of the students their key is linked to, and
 * their consents. web.c's family gate has checked the Origin, the family
 * session, its token and that the key is still linked before a handler
 * runs; each handler calls family.h, where the rules of who sees what live.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "enrolment.h"
#include "bti.h"
#include "family.h"
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

const struct web_route web_routes_family[] = {
    {"GET", "family/about", WEB_ROUTE_OPEN, family_about},
    {"GET", "family/me", 0, family_me},
    {"GET", "family/schools", 0, family_schools_get},
    {"GET", "family/students/*", 0, family_student},
    {"GET", "family/students/*/attachments/*", 0, family_student_file},
    {"GET", "family/students/*/disclosures", 0, family_student_disclosures},
    {"GET", "family/students/*/requests", 0, family_student_requests},
    {"GET", "family/students/*/consents", 0, family_student_consents},
    {"POST", "family/consents", 0, family_consent_post},
    {"POST", "family/revocations", 0, family_revocation_post},
    {NULL, NULL, 0, NULL},
};

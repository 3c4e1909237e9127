/*
 * The console's API: students (web_api.h). The search, a record by
 * sections with its versions and attachments, and the import of a file
 * with its preview: each the node function 'baton student' calls.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bti.h"
#include "log.h"
#include "student_import.h"
#include "student_index.h"
#include "view_students.h"
#include "web_api.h"
#include "web_impl.h"

#define PAGE_MAX 100 /* students in one answer of the search */
#define TERM_MAX 200 /* bytes of a search term */
/*
 * The largest file the console imports: its write transaction takes a few
 * seconds at most, while the listener and other registrars wait. Larger
 * files go through 'baton student import'.
 */
#define IMPORT_UPLOAD_MAX ((size_t)16 << 20)

/*
 * The sections of a record in the order a registrar reads them (custody
 * first: a safety field; then identity; the sensitive ones last), whatever
 * their order on the wire.
 */
static const char *const shown[] = {
    "custody",    "identity",    "guardians",       "enrollment", "transcript",
    "attendance", "assessments", "graduation",      "health",     "special_education",
    "discipline", "section_504", "english_learner", "homeless",
};

/* Query parameter name as a count (absent: dflt), at most max. */
static int query_count(const struct web_call *call, const char *name, size_t dflt, size_t max,
                       size_t *n)
{
	const char *v = web_query(call, name);
	char *end;
	unsigned long long x;
	*n = dflt;
	if (v == NULL || v[0] == '\0')
		return 0;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || x > max)
		return bti_diag_err(BATON_EVALUE, "%s: \"%.40s\" is not a whole number up to %zu",
		                    name, v, max);
	*n = (size_t)x;
	return 0;
}

/* GET students?q=TERM&offset=N&limit=N */
static int students_search(struct web_call *call)
{
	struct view_find f = {NULL, 0, PAGE_MAX, 1, NULL, 0};
	const char *q = web_query(call, "q");
	int r;

	if (q && strlen(q) > TERM_MAX)
		return bti_diag_err(BATON_EVALUE, "q: a search term of at most %d bytes", TERM_MAX);
	f.term = q && q[0] ? q : NULL;
	if ((r = query_count(call, "offset", 0, SIZE_MAX / 2, &f.offset)) != 0 ||
	    (r = query_count(call, "limit", PAGE_MAX, PAGE_MAX, &f.limit)) != 0 ||
	    (r = view_students_search(call->st, &f)) != 0)
		return r;
	return web_ok(call, json_pack("{s:o, s:I, s:I, s:b}", "students", f.students, "total",
	                              (json_int_t)f.total, "offset", (json_int_t)f.offset, "more",
	                              f.total > f.offset + json_array_size(f.students)));
}

struct show_ctx {
	const char *id;
	uint32_t version;
	struct view_student v;
	json_t *versions;
};

static int show_load(store_txn *t, void *arg)
{
	struct show_ctx *c = arg;
	int r = view_student_load(t, c->id, c->version, &c->v);
	return r ? r : view_student_versions(t, c->id, c->v.s.version, &c->versions);
}

/* The record's sections, in the order shown, each {name, sensitive, value}. */
static json_t *sections_json(const json_t *rec)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < sizeof(shown) / sizeof(shown[0]); i++) {
		baton_section sec;
		json_t *v = json_object_get(rec, shown[i]);
		/* A name the protocol does not know is treated as sensitive: never less safe. */
		int sensitive = baton_section_lookup(shown[i], strlen(shown[i]), &sec) != 0 ||
		                baton_section_sensitive(sec);
		if (v == NULL)
			continue;
		if (json_array_append_new(arr, json_pack("{s:s, s:b, s:O}", "name", shown[i],
		                                         "sensitive", sensitive, "value", v)) !=
		    0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static json_t *show_json(const struct show_ctx *c)
{
	json_t *atts = json_object_get(c->v.record, "attachments");
	return json_pack("{s:s, s:s, s:i, s:i, s:I, s:o, s:o, s:O, s:O, s:I, s:O, s:O}",
	                 "student_id", c->v.s.id, "state_student_id", c->v.s.state_id, "version",
	                 (int)c->v.version, "latest", (int)c->v.s.version, "updated",
	                 (json_int_t)c->v.s.updated, "sections", sections_json(c->v.record),
	                 "attachments", atts ? json_incref(atts) : json_array(), "versions",
	                 c->versions, "guardian_keys", c->v.guardians, "held_for_review",
	                 (json_int_t)c->v.held, "statements", c->v.dissent, "terms", c->v.terms);
}

static int student_answer(struct web_call *call, uint32_t version)
{
	struct show_ctx c = {.id = call->arg[0], .version = version};
	int r = store_read(call->st, show_load, &c);
	if (r == 0)
		r = web_ok(call, show_json(&c));
	view_student_clear(&c.v);
	json_decref(c.versions);
	return r;
}

/* GET students/ID */
static int student_get(struct web_call *call)
{
	return student_answer(call, 0);
}

/* GET students/ID/versions/N */
static int student_version(struct web_call *call)
{
	char *end;
	unsigned long v;
	errno = 0;
	v = strtoul(call->arg[1], &end, 10);
	if (call->arg[1][0] < '1' || call->arg[1][0] > '9' || *end != '\0' || errno != 0 ||
	    v > UINT32_MAX)
		return bti_diag_err(BATON_EVALUE, "version: \"%.40s\" is not a version number",
		                    call->arg[1]);
	return student_answer(call, (uint32_t)v);
}

struct blob_ctx {
	struct web_call *call;
	char name[128], type[128];
};

static int blob_load(store_txn *t, void *arg)
{
	struct blob_ctx *c = arg;
	return view_student_attachment(t, c->call->arg[0], c->call->arg[1], &c->call->blob,
	                               &c->call->blob_len, c->name, c->type, sizeof(c->name));
}

/* GET students/ID/attachments/HASH: the file. */
static int student_attachment(struct web_call *call)
{
	struct blob_ctx c = {call, "", ""};
	int r = store_read(call->st, blob_load, &c);
	if (r != 0)
		return r;
	web_safe_name(c.name, call->blob_name, sizeof(call->blob_name));
	call->blob_type = web_send_type(c.type);
	return 0;
}

struct export_ctx {
	const char *id;
	struct view_student v;
};

static int export_load(store_txn *t, void *arg)
{
	struct export_ctx *c = arg;
	return view_student_load(t, c->id, 0, &c->v);
}

/*
 * GET students/ID/export: the record as 'baton student export' writes it,
 * ID.json, its attachments named at ID-files/NAME (each downloads apart).
 */
static int student_export(struct web_call *call)
{
	struct export_ctx c;
	char rel[300], *text = NULL;
	int r;
	memset(&c, 0, sizeof(c));
	c.id = call->arg[0];
	snprintf(rel, sizeof(rel), "%s-files", c.id);
	if ((r = store_read(call->st, export_load, &c)) == 0 &&
	    (r = view_student_export(c.v.record, rel)) == 0 &&
	    (text = json_dumps(c.v.record,
	                       JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15))) == NULL)
		r = BATON_ENOMEM;
	view_student_clear(&c.v);
	if (r != 0)
		return r;
	call->blob = (uint8_t *)text;
	call->blob_len = strlen(text);
	call->blob_type = "application/json";
	web_safe_name(c.id, call->blob_name, sizeof(call->blob_name) - 5);
	strcat(call->blob_name, ".json");
	return 0;
}

static json_t *import_json(const struct student_import *im, int dry_run)
{
	return json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:O, s:O, s:I}", "dry_run",
	                 dry_run, "imported", !dry_run && im->nerrors == 0, "records",
	                 (json_int_t)im->records, "new", (json_int_t)im->added, "new_versions",
	                 (json_int_t)im->versions, "unchanged", (json_int_t)im->unchanged, "held",
	                 (json_int_t)im->held, "bad_records", (json_int_t)im->nerrors, "errors",
	                 im->errors ? im->errors : json_array(), "students", im->results, "more",
	                 (json_int_t)im->more);
}

/* POST students/import[?dry_run=1]: the registrar's file, previewed or imported. */
static int students_import(struct web_call *call)
{
	struct student_import im;
	const char *dry = web_query(call, "dry_run");
	int dry_run = dry && strcmp(dry, "0") != 0, r;

	if (call->upload_len > IMPORT_UPLOAD_MAX)
		return bti_diag_err(BATON_ETOOBIG,
		                    "file: over %zu MiB; use baton student import for larger files",
		                    IMPORT_UPLOAD_MAX >> 20);
	memset(&im, 0, sizeof(im));
	im.file = call->upload;
	im.label = "the uploaded file";
	im.node = serve_dir(call->nd);
	im.want_results = 1;
	im.preview = 1;
	im.dry_run = dry_run;
	im.merge = web_query(call, "merge") != NULL && strcmp(web_query(call, "merge"), "0") != 0;
	im.no_attachments = 1;
	r = student_import_run(call->st, &im);
	if (dry_run && (r == 0 || im.nerrors > 0))
		node_log(NODE_LOG_INFO, "web: %s previewed %zu student records", call->s->user,
		         im.records);
	/* Not a file of records at all: one error about the file, no table. */
	if (r != 0 && im.nerrors > 0 && im.records == 0)
		r = bti_diag_err(
		    im.first_error, "%s",
		    json_string_value(json_object_get(json_array_get(im.errors, 0), "error")));
	else if (r == 0 || im.nerrors > 0) {
		/* A file with bad records is a preview's answer; an import's refusal, with the
		 * list. */
		if (r != 0 && !dry_run)
			call->status = 400;
		r = web_ok(call, import_json(&im, dry_run));
		if (r == 0 && call->status == 400)
			json_object_set_new(
			    call->out, "error",
			    json_sprintf("%zu of the records have errors; nothing was "
			                 "imported",
			                 im.nerrors));
	}
	if (r == 0 && !dry_run && call->status != 400)
		node_log(NODE_LOG_INFO, "web: %s imported %zu student records", call->s->user,
		         im.records);
	student_import_clear(&im);
	return r;
}

const struct web_route web_routes_students[] = {
    {"GET", "students", 0, students_search},
    {"POST", "students/import", WEB_ROUTE_UPLOAD, students_import},
    {"GET", "students/*", 0, student_get},
    {"GET", "students/*/versions/*", 0, student_version},
    {"GET", "students/*/attachments/*", 0, student_attachment},
    {"GET", "students/*/export", 0, student_export},
    {NULL, NULL, 0, NULL},
};

/* The registrar's views of the students on file (view_students.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "dissent.h"
#include "serve.h"
#include "terms.h"
#include "view_students.h"

struct terms_ctx {
	store_txn *t;
	json_t *arr;
};

/* A callback's way of ending a walk early that is not an error. */
enum { WALK_DONE = 1 };

struct find_ctx {
	struct view_find *f;
	json_t *held; /* student id: records held for it; NULL when none are */
};

/* Whether the student matches the search term, ignoring ASCII case. */
static int find_match(const store_student *s, const char *term)
{
	char full[2 * sizeof(s->given_name) + 2];
	if (term == NULL || strcasestr(s->id, term) || strcasestr(s->state_id, term))
		return 1;
	snprintf(full, sizeof(full), "%s %s", s->given_name, s->family_name);
	return strcasestr(full, term) != NULL;
}

static json_t *find_row(const store_student *s, const struct find_ctx *c)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:I}", "student_id", s->id,
	                      "state_student_id", s->state_id, "given_name", s->given_name,
	                      "family_name", s->family_name, "birth_date", s->birth_date, "version",
	                      (int)s->version, "updated", (json_int_t)s->updated);
	if (o && c->f->with_held &&
	    json_object_set_new(
	        o, "held", json_integer(json_integer_value(json_object_get(c->held, s->id)))) !=
	        0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static int find_one(const store_student *s, void *arg)
{
	struct find_ctx *c = arg;
	struct view_find *f = c->f;
	if (!find_match(s, f->term))
		return 0;
	size_t k = f->total++;
	if (k < f->offset)
		return 0;
	/* Without a term every student matches: the count is the index's own. */
	if (k - f->offset >= f->limit)
		return f->term == NULL ? WALK_DONE : 0;
	return json_array_append_new(f->students, find_row(s, c)) != 0 ? BATON_ENOMEM : 0;
}

static int held_count(const store_held *h, void *arg)
{
	json_t *held = arg;
	json_int_t n = json_integer_value(json_object_get(held, h->student));
	return json_object_set_new(held, h->student, json_integer(n + 1)) != 0 ? BATON_ENOMEM : 0;
}

int view_students_find(store_txn *t, struct view_find *f)
{
	struct find_ctx c = {f, NULL};
	size_t n = 0;
	int r = BATON_ENOMEM;

	f->total = 0;
	if ((f->students = json_array()) == NULL)
		goto out;
	if (f->with_held &&
	    ((c.held = json_object()) == NULL || (r = store_held_each(t, held_count, c.held)) != 0))
		goto out;
	r = store_student_each(t, find_one, &c);
	if (r == WALK_DONE && (r = store_student_count(t, &n)) == 0)
		f->total = n;
out:
	json_decref(c.held);
	if (r != 0) {
		json_decref(f->students);
		f->students = NULL;
	}
	return r;
}

static int guardian_json(const store_guardian *g, void *arg)
{
	char line[BATON_PUBKEY_TEXT_MAX], fpr[BATON_FINGERPRINT_LEN + 1];
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, g->pk, line);
	baton_fingerprint(g->pk, fpr);
	return json_array_append_new(arg, json_pack("{s:s, s:s, s:s, s:b, s:I}", "key", line,
	                                            "fingerprint", fpr, "relation", g->relation,
	                                            "restricted", g->restricted, "linked",
	                                            (json_int_t)g->linked))
	           ? BATON_ENOMEM
	           : 0;
}

struct held_for {
	const char *id;
	size_t n;
};

static int count_held(const store_held *h, void *arg)
{
	struct held_for *c = arg;
	c->n += strcmp(h->student, c->id) == 0;
	return 0;
}

/* Version v of student id's record, parsed, into *rec. */
static int load_record(store_txn *t, const char *id, uint32_t v, json_t **rec)
{
	char *js;
	size_t len;
	json_error_t err;
	int r;

	*rec = NULL;
	if ((r = store_record_get(t, id, v, &js, &len)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(r, "student \"%s\" has no version %u", id, v)
		           : r;
	*rec = json_loadb(js, len, 0, &err);
	sodium_memzero(js, len);
	free(js);
	return *rec ? 0 : bti_diag_err(BATON_EIO, "stored record of %s does not parse", id);
}

/* The redisclosure terms that came with a record received for this student. */
static int terms_entry(const store_audit *e, void *arg)
{
	struct terms_ctx *c = arg;
	char *text = NULL, h[2 * BATON_ID_BYTES + 1];
	size_t len;
	int r;
	/* Those of the records that made a version: not one the same as the version on
	 * file, nor another child's held for review, but a held one filed as this student. */
	int received = strcmp(e->action, "received") == 0 &&
	               strncmp(e->detail, "version ", 8) == 0 &&
	               !strstr(e->detail, ", the same as");
	int reviewed = strcmp(e->action, "review") == 0 &&
	               strncmp(e->detail, "accepted held record ", 21) == 0;
	if (!e->has_packet || !(received || reviewed))
		return 0;
	if ((r = xfer_terms_in(c->t, e->packet, &text, &len)) != 0)
		return r == BATON_ENOTFOUND ? 0 : r;
	r = json_array_append_new(c->arr, json_pack("{s:s, s:s, s:I, s:s}", "from", e->peer,
	                                            "packet", serve_hex(e->packet, 16, h), "time",
	                                            (json_int_t)e->time, "terms", text))
	        ? BATON_ENOMEM
	        : 0;
	free(text);
	return r;
}

int view_student_load(store_txn *t, const char *id, uint32_t version, struct view_student *v)
{
	struct held_for h = {id, 0};
	int r;

	memset(v, 0, sizeof(*v));
	if ((r = store_student_get(t, id, &v->s)) != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(r, "no student \"%s\"", id) : r;
	v->version = version ? version : v->s.version;
	if ((r = load_record(t, id, version, &v->record)) != 0)
		return r;
	if ((v->guardians = json_array()) == NULL)
		return BATON_ENOMEM;
	if ((r = store_guardian_each(t, id, guardian_json, v->guardians)) != 0 ||
	    (r = store_held_each(t, count_held, &h)) != 0 ||
	    (r = dissent_list(t, id, &v->dissent)) != 0)
		return r;
	v->held = h.n;
	if ((v->terms = json_array()) == NULL)
		return BATON_ENOMEM;
	struct terms_ctx tc = {t, v->terms};
	return store_audit_each(t, id, terms_entry, &tc);
}

void view_student_clear(struct view_student *v)
{
	if (v == NULL)
		return;
	json_decref(v->record);
	json_decref(v->guardians);
	json_decref(v->dissent);
	json_decref(v->terms);
	v->record = v->guardians = v->dissent = v->terms = NULL;
}

struct versions_ctx {
	json_t *arr; /* indexed by version - 1 */
};

/* The version an audit entry of a record filed names, or 0 when it names none. */
static uint32_t entry_version(const store_audit *e, const char **source)
{
	const char *p = NULL;
	if (strcmp(e->action, "import") == 0 || strcmp(e->action, "received") == 0) {
		p = strncmp(e->detail, "version ", 8) == 0 ? e->detail + 8 : NULL;
		*source = e->action[0] == 'i' ? "import" : e->peer;
	} else if (strncmp(e->detail, "accepted held record ", 21) == 0) {
		p = strstr(e->detail, " version ");
		p = p ? p + 9 : NULL;
		*source = "review";
	}
	return p ? (uint32_t)strtoul(p, NULL, 10) : 0;
}

static int version_entry(const store_audit *e, void *arg)
{
	struct versions_ctx *c = arg;
	const char *source = "";
	uint32_t v = entry_version(e, &source);
	json_t *o = v ? json_array_get(c->arr, v - 1) : NULL;
	/* The first entry naming a version is the one that made it. */
	if (o == NULL || json_integer_value(json_object_get(o, "time")) != 0)
		return 0;
	if (json_object_set_new(o, "time", json_integer((json_int_t)e->time)) != 0 ||
	    json_object_set_new(o, "source", json_string(source)) != 0 ||
	    json_object_set_new(o, "by", json_string(e->by)) != 0)
		return BATON_ENOMEM;
	return 0;
}

int view_student_versions(store_txn *t, const char *id, uint32_t latest, json_t **out)
{
	struct versions_ctx c = {json_array()};
	int r = BATON_ENOMEM;

	*out = NULL;
	for (uint32_t v = 1; c.arr && v <= latest; v++)
		if (json_array_append_new(c.arr,
		                          json_pack("{s:i, s:i, s:s, s:s}", "version", (int)v,
		                                    "time", 0, "source", "", "by", "")) != 0)
			goto out;
	if (c.arr == NULL || (r = store_audit_each(t, id, version_entry, &c)) != 0)
		goto out;
	*out = c.arr;
	c.arr = NULL;
out:
	json_decref(c.arr);
	return r;
}

/* The attachment of rec whose hash is hex, or NULL. */
static const json_t *find_attachment(const json_t *rec, const char *hex)
{
	const json_t *a;
	size_t i;
	json_array_foreach(json_object_get(rec, "attachments"), i, a)
	{
		const char *h = json_string_value(json_object_get(a, "hash"));
		if (h && strcmp(h, hex) == 0)
			return a;
	}
	return NULL;
}

/* Copies the blob of a, with its name and type, out of the transaction. */
static int copy_attachment(store_txn *t, const json_t *a, const uint8_t hash[32], uint8_t **data,
                           size_t *len, char *name, char *type, size_t cap)
{
	const uint8_t *p;
	int r = store_blob_get(t, hash, &p, len);
	if (r != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "attachment: bytes missing")
		                            : r;
	if ((*data = malloc(*len ? *len : 1)) == NULL)
		return BATON_ENOMEM;
	memcpy(*data, p, *len);
	snprintf(name, cap, "%s", json_string_value(json_object_get(a, "name")));
	snprintf(type, cap, "%s", json_string_value(json_object_get(a, "media_type")));
	return 0;
}

int view_student_attachment(store_txn *t, const char *id, const char *hex, uint8_t **data,
                            size_t *len, char *name, char *type, size_t cap)
{
	store_student s;
	uint8_t hash[32];
	size_t got = 0;
	json_t *rec = NULL;
	int r;

	*data = NULL;
	*len = 0;
	if (strlen(hex) != 64 || sodium_hex2bin(hash, 32, hex, 64, NULL, &got, NULL) != 0 ||
	    got != 32)
		return bti_diag_err(BATON_EVALUE, "hash: 64 hexadecimal digits are required");
	if ((r = store_student_get(t, id, &s)) != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(r, "no student \"%s\"", id) : r;
	/* Only an attachment of this student's record: a hash alone opens nothing. */
	for (uint32_t v = s.version; v >= 1; v--) {
		const json_t *a;
		if ((r = load_record(t, id, v, &rec)) != 0)
			return r;
		if ((a = find_attachment(rec, hex)) != NULL) {
			r = copy_attachment(t, a, hash, data, len, name, type, cap);
			json_decref(rec);
			return r;
		}
		json_decref(rec);
	}
	return bti_diag_err(BATON_ENOTFOUND, "student \"%s\" has no attachment %s", id, hex);
}

int view_student_export(json_t *record, const char *rel)
{
	json_t *a;
	size_t i;
	json_array_foreach(json_object_get(record, "attachments"), i, a)
	{
		char path[8192];
		snprintf(path, sizeof(path), "%s/%s", rel,
		         json_string_value(json_object_get(a, "name")));
		json_object_del(a, "hash");
		json_object_del(a, "size");
		if (json_object_set_new(a, "path", json_string(path)) != 0)
			return BATON_ENOMEM;
	}
	return 0;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

void view_print_custody(FILE *f, const json_t *rec)
{
	const json_t *rows = json_object_get(rec, "custody"), *c;
	size_t i, n = json_array_size(rows);
	if (n == 0)
		return;
	fprintf(f, "!! CUSTODY RESTRICTION%s (%zu): check before the student leaves with anyone\n",
	        n == 1 ? "" : "S", n);
	json_array_foreach(rows, i, c)
	{
		const char *rel = str(c, "relation"), *order = str(c, "court_order"),
		           *since = str(c, "since");
		int more = rel[0] || order[0] || since[0];
		fprintf(f, "!! CUSTODY: %s: %s", str(c, "restriction"), str(c, "name"));
		if (more)
			fprintf(f, " (%s%s%s%s%s%s%s)", rel,
			        rel[0] && (order[0] || since[0]) ? "; " : "",
			        order[0] ? "court order " : "", order,
			        order[0] && since[0] ? "; " : "", since[0] ? "since " : "", since);
		fputc('\n', f);
	}
}

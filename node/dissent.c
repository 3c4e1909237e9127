/*
 * Statements of disagreement (34 CFR 99.21): filed by the family (in their
 * pages, or by the registrar with their key file), kept with the record,
 * sent with the sections they are about, and kept with a record received.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "consent.h"
#include "dissent.h"
#include "family.h"

/* Statements may be made a little ahead of this node's clock, no more. */
#define DISSENT_SKEW 300

static const char *role_word(baton_role r)
{
	return r == BATON_ROLE_STUDENT ? "student" : "guardian";
}

/* The JSON of one statement kept (st decoded from v->bytes). */
static json_t *statement_json(const baton_statement *st, const store_statement *v)
{
	char id[2 * BATON_ID_BYTES + 1], fp[BATON_FINGERPRINT_LEN + 1], line[BATON_PUBKEY_TEXT_MAX];
	sodium_bin2hex(id, sizeof(id), st->id, BATON_ID_BYTES);
	baton_fingerprint(st->signer, fp);
	baton_pubkey_format(BATON_PUBKEY_GUARDIAN, st->signer, line);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "id", id, "section",
	                 baton_section_name(st->section), "role", role_word(st->role), "text",
	                 st->text, "signer", fp, "key", line, "time", (json_int_t)st->time, "kept",
	                 (json_int_t)v->time, "from", v->from);
}

struct filing {
	const uint8_t *pk; /* the session's key, or NULL */
	const uint8_t *bytes;
	size_t len;
	uint64_t now;
	baton_statement st;
	json_t *out;
};

/* Counts the statements filed here (those received travel with their own school's). */
static int count_cb(const store_statement *v, void *arg)
{
	if (v->from[0] == '\0')
		(*(size_t *)arg)++;
	return 0;
}

/* The rules of dissent_file, then the row and its audit entry, in t. */
static int file_fn(store_txn *t, void *arg)
{
	struct filing *f = arg;
	baton_statement *st = &f->st;
	baton_card own;
	store_student ix;
	store_guardian g;
	store_statement v;
	store_audit e;
	json_t *rec = NULL;
	char fp[BATON_FINGERPRINT_LEN + 1], id[2 * BATON_ID_BYTES + 1];
	size_t n = 0;
	int r, type = 0, self;

	if (baton_object_type(f->bytes, f->len, &type) != 0 || type != BATON_OBJ_STATEMENT)
		return bti_diag_err(BATON_EVALUE,
		                    "statement: not a signed statement of disagreement");
	if ((r = baton_statement_parse(f->bytes, f->len, st)) != 0) {
		char why[300];
		if (r == BATON_ENOMEM)
			return r;
		snprintf(why, sizeof(why), "%s", baton_diag());
		return bti_diag_err(BATON_EVALUE, "%s (%s)", why, baton_errname(r));
	}
	baton_fingerprint(st->signer, fp);
	if (f->pk && sodium_memcmp(st->signer, f->pk, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EPERM,
		                    "statement: signed by another key than this session's");
	/* A family sees only its own children: any other student is not found, as one not on file.
	 */
	if (f->pk && (r = family_student_check(t, f->pk, st->student, f->now, 1, NULL)) != 0)
		return r;
	if ((r = store_own_card(t, &own)) != 0)
		return r;
	if (sodium_memcmp(st->school, own.id_pk, BATON_PK_BYTES) != 0)
		return bti_diag_err(BATON_EVALUE,
		                    "statement.school: names another school than this one (%s)",
		                    own.code);
	if ((r = store_student_get(t, st->student, &ix)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(r, "statement.student: no student \"%s\"", st->student)
		           : r;
	if ((r = family_student_check(t, st->signer, st->student, f->now, 0, &g)) != 0)
		return r == BATON_ENOTFOUND
		           ? bti_diag_err(
		                 BATON_ENOTLINKED,
		                 "statement.signer: key %s may not speak for %s: it is not "
		                 "linked to the student, or its link is restricted",
		                 fp, st->student)
		           : r;
	self = strcmp(g.relation, "self") == 0;
	/* The rights, as for a consent: the parents', until they pass to the student. */
	if ((r = family_student_check(t, st->signer, st->student, f->now, 1, NULL)) != 0)
		return r == BATON_EPERM ? bti_diag_err(self ? BATON_ENOTELIGIBLE : BATON_EELIGIBLE,
		                                       "statement.signer: key %s may not speak for "
		                                       "%s: %s",
		                                       fp, st->student, baton_diag())
		                        : r;
	if ((st->role == BATON_ROLE_STUDENT) != self)
		return bti_diag_err(BATON_EVALUE, "statement.role: %s, but key %s is linked as %s",
		                    role_word(st->role), fp,
		                    self ? "the student's own" : g.relation);
	if ((r = student_record_load(t, st->student, &rec)) != 0)
		return r == BATON_ENOSTUDENT
		           ? bti_diag_err(BATON_ENOTFOUND, "statement.student: no record of \"%s\"",
		                          st->student)
		           : r;
	r = json_object_get(rec, baton_section_name(st->section)) == NULL;
	json_decref(rec);
	if (r)
		return bti_diag_err(BATON_EVALUE,
		                    "statement.section: the record of %s has no section %s",
		                    st->student, baton_section_name(st->section));
	if (st->time > f->now + DISSENT_SKEW)
		return bti_diag_err(BATON_EVALUE, "statement.time: %llu is in the future",
		                    (unsigned long long)st->time);

	/* A packet carries at most so many: one more would stop the record from being sent. */
	if ((r = store_statement_each(t, st->student, count_cb, &n)) != 0)
		return r;
	if (n >= BATON_MAX_STATEMENTS)
		return bti_diag_err(BATON_EVALUE,
		                    "statement: %s already has %d statements of disagreement, the "
		                    "most a record carries",
		                    st->student, BATON_MAX_STATEMENTS);

	memset(&v, 0, sizeof(v));
	snprintf(v.student, sizeof(v.student), "%s", st->student);
	memcpy(v.id, st->id, BATON_ID_BYTES);
	v.bytes = (uint8_t *)(uintptr_t)f->bytes;
	v.len = f->len;
	v.time = t->now;
	if ((r = store_statement_put(t, &v)) != 0)
		return r;
	memset(&e, 0, sizeof(e));
	snprintf(e.action, sizeof(e.action), "dissent");
	snprintf(e.student, sizeof(e.student), "%s", st->student);
	e.sections = BATON_SEC_BIT(st->section);
	sodium_bin2hex(id, sizeof(id), st->id, BATON_ID_BYTES);
	snprintf(e.detail, sizeof(e.detail), "statement of disagreement %s with %s, signed by %s%s",
	         id, baton_section_name(st->section), self ? "the student's key " : "guardian key ",
	         fp);
	if ((r = store_audit_append(t, &e)) != 0)
		return r;
	if ((f->out = statement_json(st, &v)) == NULL)
		return BATON_ENOMEM;
	return 0;
}

int dissent_file(store *st, const uint8_t *pk, const uint8_t *bytes, size_t len, uint64_t now,
                 json_t **out)
{
	struct filing *f = malloc(sizeof(*f));
	int r;
	*out = NULL;
	if (f == NULL)
		return BATON_ENOMEM;
	memset(f, 0, sizeof(*f));
	f->pk = pk;
	f->bytes = bytes;
	f->len = len;
	f->now = now;
	if ((r = store_write(st, file_fn, f)) == 0)
		*out = f->out;
	else
		json_decref(f->out);
	free(f);
	return r;
}

struct family_read {
	const uint8_t *pk;
	const char *student;
	uint64_t now;
	json_t *out;
};

static int family_list_fn(store_txn *t, void *arg)
{
	struct family_read *f = arg;
	int r = family_student_check(t, f->pk, f->student, f->now, 1, NULL);
	return r ? r : dissent_list(t, f->student, &f->out);
}

int dissent_family_list(store *st, const uint8_t pk[BATON_PK_BYTES], const char *student,
                        uint64_t now, json_t **out)
{
	struct family_read f = {pk, student, now, NULL};
	int r = store_read(st, family_list_fn, &f);
	if (r != 0) {
		json_decref(f.out);
		f.out = NULL;
	}
	*out = f.out;
	return r;
}

struct making {
	const uint8_t *pk;
	const char *student;
	baton_card own;
	store_guardian g;
	uint64_t now;
};

/* The school's key and the link the signer's role comes from. */
static int make_fn(store_txn *t, void *arg)
{
	struct making *m = arg;
	char fp[BATON_FINGERPRINT_LEN + 1];
	int r;
	if ((r = store_own_card(t, &m->own)) != 0)
		return r;
	if ((r = store_student_get(t, m->student, &(store_student){0})) != 0)
		return r == BATON_ENOTFOUND ? bti_diag_err(r, "no student \"%s\"", m->student) : r;
	if ((r = family_student_check(t, m->pk, m->student, m->now, 0, &m->g)) == BATON_ENOTFOUND) {
		baton_fingerprint(m->pk, fp);
		return bti_diag_err(BATON_ENOTLINKED,
		                    "statement.signer: key %s may not speak for %s: it is not "
		                    "linked to the student, or its link is restricted",
		                    fp, m->student);
	}
	return r;
}

int dissent_make(store *st, const baton_key *k, const char *student, const char *section,
                 const char *text, uint64_t now, json_t **out)
{
	struct making m = {.pk = baton_key_id_pk(k), .student = student, .now = now};
	baton_statement *s;
	uint8_t *bytes = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (strlen(student) == 0 || strlen(student) > BATON_STUDENT_MAX)
		return bti_diag_err(BATON_EVALUE, "student: \"%s\" is not a student id", student);
	if ((s = malloc(sizeof(*s))) == NULL)
		return BATON_ENOMEM;
	memset(s, 0, sizeof(*s));
	if (baton_section_lookup(section, strlen(section), &s->section) != 0) {
		free(s);
		return bti_diag_err(BATON_EVALUE, "section: \"%s\" is not a section", section);
	}
	if (strlen(text) == 0 || strlen(text) > BATON_STATEMENT_TEXT_MAX) {
		free(s);
		return bti_diag_err(BATON_EVALUE, "text: %zu bytes, expected 1..%d", strlen(text),
		                    BATON_STATEMENT_TEXT_MAX);
	}
	if ((r = store_read(st, make_fn, &m)) != 0) {
		free(s);
		return r;
	}
	randombytes_buf(s->id, sizeof(s->id));
	s->role = strcmp(m.g.relation, "self") == 0 ? BATON_ROLE_STUDENT : BATON_ROLE_GUARDIAN;
	memcpy(s->school, m.own.id_pk, BATON_PK_BYTES);
	memcpy(s->signer, m.pk, BATON_PK_BYTES);
	snprintf(s->student, sizeof(s->student), "%s", student);
	snprintf(s->text, sizeof(s->text), "%s", text);
	s->time = now;
	r = baton_statement_sign(s, baton_key_id_sk(k), &bytes, &len);
	free(s);
	if (r != 0)
		return r; /* baton_diag() names the field */
	r = dissent_file(st, NULL, bytes, len, now, out);
	free(bytes);
	return r;
}

struct listing {
	json_t *arr;
};

static int list_cb(const store_statement *v, void *arg)
{
	struct listing *l = arg;
	baton_statement st;
	json_t *o;
	int r = baton_statement_parse(v->bytes, v->len, &st);
	if (r == BATON_ENOMEM)
		return r;
	if (r != 0)
		return bti_diag_err(BATON_EIO, "store: a statement kept with %s does not verify",
		                    v->student);
	if ((o = statement_json(&st, v)) == NULL || json_array_append_new(l->arr, o) != 0)
		return BATON_ENOMEM;
	return 0;
}

/* Section order, then the time it was made. */
static int by_section_time(const void *a, const void *b)
{
	const json_t *x = *(const json_t *const *)a, *y = *(const json_t *const *)b;
	baton_section sx = 0, sy = 0;
	const char *nx = json_string_value(json_object_get(x, "section"));
	const char *ny = json_string_value(json_object_get(y, "section"));
	baton_section_lookup(nx, strlen(nx), &sx);
	baton_section_lookup(ny, strlen(ny), &sy);
	if (sx != sy)
		return sx < sy ? -1 : 1;
	json_int_t tx = json_integer_value(json_object_get(x, "time"));
	json_int_t ty = json_integer_value(json_object_get(y, "time"));
	return tx < ty ? -1 : tx > ty;
}

int dissent_list(store_txn *t, const char *student, json_t **out)
{
	struct listing l = {json_array()};
	json_t **items = NULL, *sorted = NULL;
	size_t n, i;
	int r;
	*out = NULL;
	if (l.arr == NULL)
		return BATON_ENOMEM;
	if ((r = store_statement_each(t, student, list_cb, &l)) != 0)
		goto out;
	n = json_array_size(l.arr);
	if ((sorted = json_array()) == NULL || (items = calloc(n + 1, sizeof(*items))) == NULL) {
		r = BATON_ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		items[i] = json_array_get(l.arr, i);
	qsort(items, n, sizeof(*items), by_section_time);
	for (i = 0; i < n; i++)
		if (json_array_append(sorted, items[i]) != 0) {
			r = BATON_ENOMEM;
			goto out;
		}
	*out = sorted;
	sorted = NULL;
out:
	free(items);
	json_decref(sorted);
	json_decref(l.arr);
	return r;
}

int dissent_keep_received(store_txn *t, const char *student, const char *from,
                          const uint8_t *const *bytes, const size_t *lens, size_t n)
{
	baton_statement st;
	store_statement v;
	int r;
	for (size_t i = 0; i < n; i++) {
		/* Verified when the packet opened; decoded again only for its id. */
		if ((r = baton_statement_parse(bytes[i], lens[i], &st)) != 0)
			return r == BATON_ENOMEM
			           ? r
			           : bti_diag_err(BATON_EINTERNAL, "%s", baton_diag());
		memset(&v, 0, sizeof(v));
		snprintf(v.student, sizeof(v.student), "%s", student);
		memcpy(v.id, st.id, BATON_ID_BYTES);
		v.bytes = (uint8_t *)(uintptr_t)bytes[i];
		v.len = lens[i];
		snprintf(v.from, sizeof(v.from), "%s", from);
		v.time = t->now;
		if ((r = store_statement_put(t, &v)) != 0 && r != BATON_EEXIST)
			return r;
	}
	bti_diag_clear();
	return 0;
}

struct sending {
	const uint8_t *own;
	uint32_t mask;
	uint8_t (*held)[BATON_ID_BYTES];
	uint8_t **bytes;
	size_t *lens;
	size_t n;
};

static int sending_cb(const store_statement *v, void *arg)
{
	struct sending *s = arg;
	baton_statement st;
	int r = baton_statement_parse(v->bytes, v->len, &st);
	if (r == BATON_ENOMEM)
		return r;
	if (r != 0)
		return bti_diag_err(BATON_EIO, "store: a statement kept with %s does not verify",
		                    v->student);
	/* Held by this school, about a section sent; those received travel with their own. */
	if (sodium_memcmp(st.school, s->own, BATON_PK_BYTES) != 0 ||
	    !(s->mask & BATON_SEC_BIT(st.section)))
		return 0;
	if (s->n == BATON_MAX_STATEMENTS)
		return bti_diag_err(BATON_ETOOBIG,
		                    "%s has more than %d statements of disagreement for the "
		                    "sections sent",
		                    v->student, BATON_MAX_STATEMENTS);
	if ((s->bytes[s->n] = malloc(v->len)) == NULL)
		return BATON_ENOMEM;
	memcpy(s->bytes[s->n], v->bytes, v->len);
	s->lens[s->n] = v->len;
	memcpy(s->held[s->n], st.id, BATON_ID_BYTES);
	s->n++;
	return 0;
}

int dissent_for_sending(store_txn *t, const char *student, const uint8_t own[BATON_PK_BYTES],
                        uint32_t mask, uint8_t held[][BATON_ID_BYTES], uint8_t **bytes,
                        size_t *lens, size_t *n)
{
	struct sending s = {own, mask, held, bytes, lens, 0};
	/* The store walks ids in order: held comes out ascending, as the body wants. */
	int r = store_statement_each(t, student, sending_cb, &s);
	if (r != 0) {
		dissent_free_held(bytes, s.n);
		s.n = 0;
	}
	*n = s.n;
	return r;
}

void dissent_free_held(uint8_t **bytes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(bytes[i]);
		bytes[i] = NULL;
	}
}

int dissent_keep_held(store_txn *t, uint64_t held, const char *from, const uint8_t *const *bytes,
                      const size_t *lens, size_t n)
{
	char key[32];
	store_statement_held_key(held, key);
	return dissent_keep_received(t, key, from, bytes, lens, n);
}

struct moving {
	store_statement v[BATON_MAX_STATEMENTS];
	size_t n;
};

static int moving_cb(const store_statement *v, void *arg)
{
	struct moving *m = arg;
	if (m->n == BATON_MAX_STATEMENTS)
		return 0; /* a packet carries at most this many */
	m->v[m->n] = *v;
	if ((m->v[m->n].bytes = malloc(v->len)) == NULL)
		return BATON_ENOMEM;
	memcpy(m->v[m->n].bytes, v->bytes, v->len);
	m->n++;
	return 0;
}

int dissent_held_decided(store_txn *t, uint64_t held, const char *student)
{
	struct moving *m = calloc(1, sizeof(*m));
	char key[32];
	int r;
	if (m == NULL)
		return BATON_ENOMEM;
	store_statement_held_key(held, key);
	r = store_statement_each(t, key, moving_cb, m);
	for (size_t i = 0; r == 0 && i < m->n; i++) {
		if ((r = store_statement_del(t, key, m->v[i].id)) != 0)
			break;
		if (student) {
			snprintf(m->v[i].student, sizeof(m->v[i].student), "%s", student);
			if ((r = store_statement_put(t, &m->v[i])) == BATON_EEXIST)
				r = 0;
		}
	}
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].bytes);
	free(m);
	if (r == 0)
		bti_diag_clear();
	return r;
}

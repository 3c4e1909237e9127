/*
 * Validation of the registrar's JSON, table-driven from proto/RECORD.md.
 * Every failure names the field path and, where useful, the value.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bti.h"
#include "record.h"

enum ftype {
	F_STR,    /* non-empty, <= 200 bytes, no control characters */
	F_ID,     /* like F_STR, <= 64 bytes */
	F_DATE,   /* YYYY-MM-DD */
	F_YEARS,  /* YYYY-YYYY, consecutive */
	F_COUNT,  /* integer 0..100000 */
	F_NUMBER, /* number 0..1000 */
	F_SCORE,  /* number or string */
	F_BOOL,
	F_STRS,      /* array of F_STR */
	F_OBJ,       /* object of sub */
	F_ARR,       /* array of objects of sub */
	F_SECTION,   /* a section name */
	F_FILE,      /* a plain file name */
	F_MEDIA,     /* type/subtype */
	F_PATH,      /* relative path */
	F_GRADE,     /* IT, PK, KG, 01..13, UG, AE, PS */
	F_YEAR,      /* integer 1900..2100 */
	F_PROMOTION, /* promoted, retained, demoted */
	F_ATTEMPT,   /* pass, fail, incomplete, withdrawn, in_progress */
	F_STATUS,    /* final, in_progress */
};

struct schema;
struct field {
	const char *key;
	enum ftype type;
	int required;
	const struct schema *sub;
};
struct schema {
	const struct field *fields;
	size_t n;
	int (*extra)(const json_t *obj, const char *path);
};
#define SCHEMA(f, x)                                                                               \
	{                                                                                          \
		f, sizeof(f) / sizeof(f[0]), x                                                     \
	}

int record_date_value(const char *s, int *ymd)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, m, d;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -1;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -1;
	y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
	if (y < 1900 || y > 2100 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -1;
	if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	*ymd = y * 10000 + m * 100 + d;
	return 0;
}

static int check_date_order(const json_t *o, const char *path, const char *a, const char *b,
                            const char *what)
{
	const json_t *x = json_object_get(o, a), *y = json_object_get(o, b);
	int dx, dy;
	if (x && y && record_date_value(json_string_value(x), &dx) == 0 &&
	    record_date_value(json_string_value(y), &dy) == 0 && dy < dx)
		return bti_diag_err(BATON_EVALUE, "%s.%s: %s", path, b, what);
	return 0;
}

static int enrollment_extra(const json_t *o, const char *path)
{
	return check_date_order(o, path, "entry_date", "exit_date", "before entry_date");
}

/* Predicate: 1 when o has key, else 0. */
static int has(const json_t *o, const char *key)
{
	return json_object_get(o, key) != NULL;
}

static int transcript_extra(const json_t *o, const char *path)
{
	const char *status = json_string_value(json_object_get(o, "status"));
	int in_progress = status && strcmp(status, "in_progress") == 0;
	/* credits_earned may exceed credits_attempted: credit by examination. */
	if (!in_progress && !has(o, "grade"))
		return bti_diag_err(BATON_EMISSING,
		                    "%s.grade: required field missing (unless status is "
		                    "\"in_progress\")",
		                    path);
	if (!in_progress && has(o, "as_of"))
		return bti_diag_err(BATON_EVALUE,
		                    "%s.as_of: only with status \"in_progress\" (the date the "
		                    "grade in progress was taken)",
		                    path);
	return 0;
}

static int attendance_extra(const json_t *o, const char *path)
{
	const json_t *enrolled = json_object_get(o, "days_enrolled");
	json_int_t en = json_integer_value(enrolled);
	json_int_t sum = json_integer_value(json_object_get(o, "days_present")) +
	                 json_integer_value(json_object_get(o, "days_absent_excused")) +
	                 json_integer_value(json_object_get(o, "days_absent_unexcused"));
	/* Without days_enrolled (not recorded) there is nothing to add up to. */
	if (enrolled != NULL && sum > en)
		return bti_diag_err(
		    BATON_EVALUE, "%s: days present and absent (%lld) exceed days_enrolled (%lld)",
		    path, (long long)sum, (long long)en);
	return 0;
}

static int immunization_extra(const json_t *o, const char *path)
{
	/* A row without a date is an exemption, and says which. */
	if (!has(o, "date") && !has(o, "exemption"))
		return bti_diag_err(BATON_EMISSING,
		                    "%s: a date or an exemption is required (a row without a "
		                    "date is an exemption)",
		                    path);
	return 0;
}

static int sped_extra(const json_t *o, const char *path)
{
	return check_date_order(o, path, "iep_begin_date", "iep_end_date", "before iep_begin_date");
}

static int begin_end_extra(const json_t *o, const char *path)
{
	return check_date_order(o, path, "begin_date", "end_date", "before begin_date");
}

static int graduation_extra(const json_t *o, const char *path)
{
	if (json_object_size(o) == 0)
		return bti_diag_err(BATON_EMISSING,
		                    "%s: at least one field is required (leave the section out "
		                    "instead)",
		                    path);
	return 0;
}

static const char *const promotions[] = {"promoted", "retained", "demoted", NULL};
static const char *const attempt_results[] = {"pass",      "fail",        "incomplete",
                                              "withdrawn", "in_progress", NULL};
static const char *const statuses[] = {"final", "in_progress", NULL};

static const struct field identity_f[] = {
    {"given_name", F_STR, 1, NULL},     {"middle_name", F_STR, 0, NULL},
    {"family_name", F_STR, 1, NULL},    {"birth_date", F_DATE, 1, NULL},
    {"preferred_name", F_STR, 0, NULL}, {"sex", F_STR, 0, NULL},
    {"name_suffix", F_STR, 0, NULL},
};
static const struct field guardian_f[] = {
    {"name", F_STR, 1, NULL},
    {"relation", F_STR, 1, NULL},
    {"email", F_STR, 0, NULL},
    {"phone", F_STR, 0, NULL},
    {"lives_with", F_BOOL, 0, NULL},
    {"primary_contact", F_BOOL, 0, NULL},
    {"emergency_contact", F_BOOL, 0, NULL},
    {"legal_guardian", F_BOOL, 0, NULL},
};
static const struct field enrollment_f[] = {
    {"school_name", F_STR, 1, NULL},        {"school_code", F_STR, 1, NULL},
    {"entry_date", F_DATE, 1, NULL},        {"exit_date", F_DATE, 0, NULL},
    {"grade_level", F_GRADE, 1, NULL},      {"school_year", F_YEARS, 0, NULL},
    {"exit_reason", F_STR, 0, NULL},        {"promotion", F_PROMOTION, 0, NULL},
    {"next_grade_level", F_GRADE, 0, NULL},
};
static const struct field course_f[] = {
    {"school_year", F_YEARS, 1, NULL},
    {"term", F_STR, 1, NULL},
    {"course_code", F_STR, 1, NULL},
    {"course_title", F_STR, 1, NULL},
    {"grade", F_STR, 0, NULL}, /* required unless in progress: transcript_extra */
    {"credits_attempted", F_NUMBER, 1, NULL},
    {"credits_earned", F_NUMBER, 1, NULL},
    {"subject", F_STR, 0, NULL},
    {"credit_type", F_STR, 0, NULL},
    {"state_course_code", F_STR, 0, NULL},
    {"attempt_result", F_ATTEMPT, 0, NULL},
    {"grade_level", F_GRADE, 0, NULL},
    {"credit_method", F_STR, 0, NULL},
    {"status", F_STATUS, 0, NULL},
    {"as_of", F_DATE, 0, NULL},
};
static const struct field attendance_f[] = {
    {"school_year", F_YEARS, 1, NULL},           {"days_enrolled", F_COUNT, 0, NULL},
    {"days_present", F_COUNT, 1, NULL},          {"days_absent_excused", F_COUNT, 1, NULL},
    {"days_absent_unexcused", F_COUNT, 1, NULL}, {"days_tardy", F_COUNT, 0, NULL},
};
static const struct field assessment_f[] = {
    {"name", F_STR, 1, NULL},
    {"subject", F_STR, 1, NULL},
    {"date", F_DATE, 1, NULL},
    {"score", F_SCORE, 0, NULL},
    {"performance_level", F_STR, 0, NULL},
    {"reason_not_tested", F_STR, 0, NULL},
    {"grade_level", F_GRADE, 0, NULL},
};
static const struct field sped_f[] = {
    {"iep", F_BOOL, 1, NULL},
    {"disability_category", F_STR, 0, NULL},
    {"plan_date", F_DATE, 0, NULL},
    {"services", F_STRS, 0, NULL},
    {"setting", F_STR, 0, NULL},
    {"hours_per_week", F_NUMBER, 0, NULL},
    {"iep_begin_date", F_DATE, 0, NULL},
    {"iep_end_date", F_DATE, 0, NULL},
    {"last_evaluation_date", F_DATE, 0, NULL},
};
static const struct field immunization_f[] = {
    {"vaccine", F_STR, 1, NULL},
    {"date", F_DATE, 0, NULL},
    {"exemption", F_STR, 0, NULL},
};
static const struct schema immunization_s = SCHEMA(immunization_f, immunization_extra);
/* allergies and conditions: absent is "not recorded", [] is "none known". */
static const struct field health_f[] = {
    {"immunizations", F_ARR, 1, &immunization_s},
    {"allergies", F_STRS, 0, NULL},
    {"conditions", F_STRS, 0, NULL},
};
static const struct field diploma_f[] = {
    {"type", F_STR, 1, NULL},
    {"date", F_DATE, 1, NULL},
    {"level", F_STR, 0, NULL},
    {"description", F_STR, 0, NULL},
};
static const struct schema diploma_s = SCHEMA(diploma_f, NULL);
static const struct field graduation_f[] = {
    {"credits_earned", F_NUMBER, 0, NULL},
    {"credits_attempted", F_NUMBER, 0, NULL},
    {"gpa_weighted", F_NUMBER, 0, NULL},
    {"gpa_unweighted", F_NUMBER, 0, NULL},
    {"plan", F_STR, 0, NULL},
    {"expected_year", F_YEAR, 0, NULL},
    {"diplomas", F_ARR, 0, &diploma_s},
};
static const struct field s504_f[] = {
    {"eligible", F_BOOL, 1, NULL},  {"disability", F_STR, 0, NULL},
    {"plan_date", F_DATE, 0, NULL}, {"begin_date", F_DATE, 0, NULL},
    {"end_date", F_DATE, 0, NULL},  {"accommodations", F_STRS, 0, NULL},
};
static const struct field el_program_f[] = {
    {"name", F_STR, 1, NULL},
    {"begin_date", F_DATE, 1, NULL},
    {"end_date", F_DATE, 0, NULL},
    {"services", F_STRS, 0, NULL},
};
static const struct schema el_program_s = SCHEMA(el_program_f, begin_end_extra);
static const struct field el_f[] = {
    {"status", F_STR, 1, NULL},
    {"home_language", F_STR, 0, NULL},
    {"programs", F_ARR, 0, &el_program_s},
};
static const struct field homeless_f[] = {
    {"begin_date", F_DATE, 1, NULL},
    {"end_date", F_DATE, 0, NULL},
    {"primary_nighttime_residence", F_STR, 0, NULL},
    {"unaccompanied_youth", F_BOOL, 0, NULL},
};
static const struct field custody_f[] = {
    {"name", F_STR, 1, NULL},        {"restriction", F_STR, 1, NULL}, {"relation", F_STR, 0, NULL},
    {"court_order", F_STR, 0, NULL}, {"since", F_DATE, 0, NULL},
};
static const struct field incident_f[] = {
    {"date", F_DATE, 1, NULL},
    {"incident", F_STR, 1, NULL},
    {"action", F_STR, 1, NULL},
};
static const struct field attachment_f[] = {
    {"name", F_FILE, 1, NULL},
    {"media_type", F_MEDIA, 1, NULL},
    {"section", F_SECTION, 1, NULL},
    {"path", F_PATH, 1, NULL},
};

static const struct schema identity_s = SCHEMA(identity_f, NULL);
static const struct schema guardian_s = SCHEMA(guardian_f, NULL);
static const struct schema enrollment_s = SCHEMA(enrollment_f, enrollment_extra);
static const struct schema course_s = SCHEMA(course_f, transcript_extra);
static const struct schema attendance_s = SCHEMA(attendance_f, attendance_extra);
static const struct schema assessment_s = SCHEMA(assessment_f, NULL);
static const struct schema sped_s = SCHEMA(sped_f, sped_extra);
static const struct schema health_s = SCHEMA(health_f, NULL);
static const struct schema incident_s = SCHEMA(incident_f, NULL);
static const struct schema attachment_s = SCHEMA(attachment_f, NULL);
static const struct schema graduation_s = SCHEMA(graduation_f, graduation_extra);
static const struct schema s504_s = SCHEMA(s504_f, begin_end_extra);
static const struct schema el_s = SCHEMA(el_f, NULL);
static const struct schema homeless_s = SCHEMA(homeless_f, begin_end_extra);
static const struct schema custody_s = SCHEMA(custody_f, NULL);

static int record_extra(const json_t *o, const char *path);
static const struct field record_f[] = {
    {"student_id", F_ID, 1, NULL},
    {"state_student_id", F_ID, 0, NULL},
    {"identity", F_OBJ, 1, &identity_s},
    {"guardians", F_ARR, 0, &guardian_s},
    {"enrollment", F_ARR, 0, &enrollment_s},
    {"transcript", F_ARR, 0, &course_s},
    {"attendance", F_ARR, 0, &attendance_s},
    {"assessments", F_ARR, 0, &assessment_s},
    {"special_education", F_OBJ, 0, &sped_s},
    {"health", F_OBJ, 0, &health_s},
    {"discipline", F_ARR, 0, &incident_s},
    {"graduation", F_OBJ, 0, &graduation_s},
    {"section_504", F_OBJ, 0, &s504_s},
    {"english_learner", F_OBJ, 0, &el_s},
    {"homeless", F_OBJ, 0, &homeless_s},
    {"custody", F_ARR, 0, &custody_s},
    {"attachments", F_ARR, 0, &attachment_s},
};
static const struct schema record_s = SCHEMA(record_f, record_extra);

static int check_object(const json_t *o, const struct schema *s, const char *path);

static int check_str(const json_t *v, const char *path, size_t max)
{
	if (!json_is_string(v))
		return bti_diag_err(BATON_ETYPE, "%s: expected a string", path);
	size_t n = json_string_length(v);
	const char *p = json_string_value(v);
	if (n == 0)
		return bti_diag_err(BATON_EVALUE, "%s: empty (leave the key out instead)", path);
	if (n > max)
		return bti_diag_err(BATON_EVALUE, "%s: %zu bytes, at most %zu", path, n, max);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return bti_diag_err(BATON_EVALUE, "%s: contains a control character", path);
	return 0;
}

static int check_value(const json_t *v, const struct field *f, const char *path)
{
	int r, ymd;
	switch (f->type) {
	case F_STR:
		return check_str(v, path, 200);
	case F_ID: {
		if ((r = check_str(v, path, BATON_STUDENT_MAX)) != 0)
			return r;
		/* Ids name files on export: no directories, nothing hidden. */
		const char *id = json_string_value(v);
		size_t n = strlen(id);
		/* "S-1018 " would be a second student beside "S-1018". */
		if (n > 0 && (isspace((unsigned char)id[0]) || isspace((unsigned char)id[n - 1])))
			return bti_diag_err(BATON_EVALUE, "%s: \"%s\" starts or ends with a space",
			                    path, id);
		if (!record_id_safe(id))
			return bti_diag_err(BATON_EVALUE,
			                    "%s: \"%s\" may not contain '/' or '\\' or "
			                    "start with '.'",
			                    path, id);
		return 0;
	}
	case F_DATE:
		if ((r = check_str(v, path, 10)) != 0)
			return r;
		if (record_date_value(json_string_value(v), &ymd) != 0)
			return bti_diag_err(BATON_EVALUE, "%s: \"%s\" is not a date (YYYY-MM-DD)",
			                    path, json_string_value(v));
		return 0;
	case F_YEARS: {
		const char *s;
		if ((r = check_str(v, path, 9)) != 0)
			return r;
		s = json_string_value(v);
		/* The shape first: only then is reading s + 5 inside the string. */
		if (strlen(s) != 9 || s[4] != '-' || strspn(s, "0123456789") != 4 ||
		    strspn(s + 5, "0123456789") != 4 || atoi(s) < 1900 ||
		    atoi(s + 5) != atoi(s) + 1)
			return bti_diag_err(BATON_EVALUE,
			                    "%s: \"%s\" is not a school year (YYYY-YYYY)", path, s);
		return 0;
	}
	case F_COUNT:
		if (!json_is_integer(v))
			return bti_diag_err(BATON_ETYPE, "%s: expected a whole number", path);
		if (json_integer_value(v) < 0 || json_integer_value(v) > 100000)
			return bti_diag_err(BATON_EVALUE, "%s: %lld is out of range 0..100000",
			                    path, (long long)json_integer_value(v));
		return 0;
	case F_NUMBER:
		if (!json_is_number(v))
			return bti_diag_err(BATON_ETYPE, "%s: expected a number", path);
		if (json_number_value(v) < 0 || json_number_value(v) > 1000)
			return bti_diag_err(BATON_EVALUE, "%s: %g is out of range 0..1000", path,
			                    json_number_value(v));
		return 0;
	case F_SCORE:
		if (json_is_number(v))
			return 0;
		return check_str(v, path, 200);
	case F_BOOL:
		if (!json_is_boolean(v))
			return bti_diag_err(BATON_ETYPE, "%s: expected true or false", path);
		return 0;
	case F_STRS: {
		size_t i;
		json_t *e;
		char p[256];
		if (!json_is_array(v))
			return bti_diag_err(BATON_ETYPE, "%s: expected an array of strings", path);
		json_array_foreach(v, i, e)
		{
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			if ((r = check_str(e, p, 200)) != 0)
				return r;
		}
		return 0;
	}
	case F_OBJ:
		return check_object(v, f->sub, path);
	case F_ARR: {
		size_t i;
		json_t *e;
		char p[256];
		if (!json_is_array(v))
			return bti_diag_err(BATON_ETYPE, "%s: expected an array", path);
		if (json_array_size(v) > 10000)
			return bti_diag_err(BATON_EVALUE, "%s: more than 10000 entries", path);
		json_array_foreach(v, i, e)
		{
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			if ((r = check_object(e, f->sub, p)) != 0)
				return r;
		}
		return 0;
	}
	case F_SECTION: {
		baton_section sec;
		if ((r = check_str(v, path, 32)) != 0)
			return r;
		if (baton_section_lookup(json_string_value(v), json_string_length(v), &sec) != 0)
			return bti_diag_err(BATON_EVALUE, "%s: \"%s\" is not a section", path,
			                    json_string_value(v));
		return 0;
	}
	case F_FILE: {
		if ((r = check_str(v, path, BATON_FILENAME_MAX)) != 0)
			return r;
		const char *s = json_string_value(v);
		if (s[0] == '.' || strchr(s, '/') || strchr(s, '\\'))
			return bti_diag_err(BATON_EVALUE, "%s: \"%s\" must be a plain file name",
			                    path, s);
		return 0;
	}
	case F_MEDIA: {
		if ((r = check_str(v, path, BATON_MEDIA_MAX)) != 0)
			return r;
		const char *s = json_string_value(v), *slash = strchr(s, '/');
		if (slash == NULL || slash == s || slash[1] == 0 || strchr(slash + 1, '/') ||
		    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/"
		              "!#$&^_.+-") != strlen(s))
			return bti_diag_err(BATON_EVALUE, "%s: \"%s\" is not a media type", path,
			                    s);
		return 0;
	}
	case F_GRADE: {
		static const char *const grades[] = {"IT", "PK", "KG", "01", "02", "03", "04",
		                                     "05", "06", "07", "08", "09", "10", "11",
		                                     "12", "13", "UG", "AE", "PS"};
		if ((r = check_str(v, path, 2)) != 0)
			goto bad_grade;
		for (size_t i = 0; i < sizeof(grades) / sizeof(grades[0]); i++)
			if (strcmp(json_string_value(v), grades[i]) == 0)
				return 0;
	bad_grade:
		return bti_diag_err(BATON_EVALUE,
		                    "%s: %s%s%s is not a grade level (IT, PK, KG, 01..13, UG, "
		                    "AE, PS)",
		                    path, json_is_string(v) ? "\"" : "",
		                    json_is_string(v) ? json_string_value(v) : "the value",
		                    json_is_string(v) ? "\"" : "");
	}
	case F_YEAR:
		if (!json_is_integer(v))
			return bti_diag_err(BATON_ETYPE, "%s: expected a year (a whole number)",
			                    path);
		if (json_integer_value(v) < 1900 || json_integer_value(v) > 2100)
			return bti_diag_err(BATON_EVALUE, "%s: %lld is out of range 1900..2100",
			                    path, (long long)json_integer_value(v));
		return 0;
	case F_PROMOTION:
	case F_ATTEMPT:
	case F_STATUS: {
		const char *const *values = f->type == F_PROMOTION ? promotions
		                            : f->type == F_ATTEMPT ? attempt_results
		                                                   : statuses;
		char list[256];
		size_t at = 0;
		if (json_is_string(v) && (r = check_str(v, path, 200)) != 0)
			return r;
		if (json_is_string(v))
			for (const char *const *e = values; *e; e++)
				if (strcmp(json_string_value(v), *e) == 0)
					return 0;
		list[0] = '\0';
		for (const char *const *e = values; *e && at < sizeof(list); e++)
			at += (size_t)snprintf(list + at, sizeof(list) - at, "%s%s",
			                       e == values ? "" : ", ", *e);
		if (!json_is_string(v))
			return bti_diag_err(BATON_ETYPE, "%s: expected one of %s", path, list);
		return bti_diag_err(BATON_EVALUE, "%s: \"%.64s\" is not one of %s", path,
		                    json_string_value(v), list);
	}
	case F_PATH: {
		if ((r = check_str(v, path, 1024)) != 0)
			return r;
		const char *s = json_string_value(v);
		if (s[0] == '/')
			return bti_diag_err(
			    BATON_EVALUE, "%s: \"%s\" must be relative to the JSON file", path, s);
		/* Attachments come from the folder of the JSON file, never above it. */
		for (const char *c = s; *c; c += strcspn(c, "/"), c += *c == '/')
			if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'))
				return bti_diag_err(
				    BATON_EVALUE,
				    "%s: \"%s\" leaves the folder of the JSON file (..)", path, s);
		if (s[strlen(s) - 1] == '/')
			return bti_diag_err(BATON_EVALUE, "%s: \"%s\" names a folder, not a file",
			                    path, s);
		return 0;
	}
	}
	return BATON_EINTERNAL;
}

static int check_object(const json_t *o, const struct schema *s, const char *path)
{
	const char *key;
	json_t *v;
	char p[256];
	int r;

	if (!json_is_object(o))
		return bti_diag_err(BATON_ETYPE, "%s: expected an object", path);
	json_object_foreach((json_t *)o, key, v)
	{
		size_t i;
		for (i = 0; i < s->n; i++)
			if (strcmp(s->fields[i].key, key) == 0)
				break;
		if (i == s->n)
			return bti_diag_err(BATON_EUNKNOWN, "%s%s%s: unknown field", path,
			                    *path ? "." : "", key);
	}
	for (size_t i = 0; i < s->n; i++) {
		const struct field *f = &s->fields[i];
		/* The field's path only for a value there or a field missing: most are absent. */
		if ((v = json_object_get(o, f->key)) == NULL && !f->required)
			continue;
		snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", f->key);
		if (v == NULL)
			return bti_diag_err(BATON_EMISSING, "%s: required field missing", p);
		if ((r = check_value(v, f, p)) != 0)
			return r;
	}
	return s->extra ? s->extra(o, path) : 0;
}

static int record_extra(const json_t *o, const char *path)
{
	const json_t *atts = json_object_get(o, "attachments");
	size_t i, j;
	json_t *a, *b;
	(void)path;
	json_array_foreach(atts, i, a)
	{
		const char *sec = json_string_value(json_object_get(a, "section"));
		if (json_object_get(o, sec) == NULL)
			return bti_diag_err(
			    BATON_EVALUE, "attachments[%zu].section: the record has no %s section",
			    i, sec);
		json_array_foreach(atts, j, b)
		{
			if (j >= i)
				break;
			if (json_equal(json_object_get(a, "name"), json_object_get(b, "name")))
				return bti_diag_err(
				    BATON_EVALUE,
				    "attachments[%zu].name: \"%s\" repeats attachments[%zu]", i,
				    json_string_value(json_object_get(a, "name")), j);
		}
	}
	return 0;
}

int record_id_safe(const char *id)
{
	size_t n = strlen(id);
	return n > 0 && id[0] != '.' && strchr(id, '/') == NULL && strchr(id, '\\') == NULL &&
	       !isspace((unsigned char)id[0]) && !isspace((unsigned char)id[n - 1]);
}

int record_validate(const json_t *rec)
{
	bti_diag_clear();
	return check_object(rec, &record_s, "");
}

int record_validate_section(const char *section, const json_t *value)
{
	bti_diag_clear();
	for (size_t i = 0; i < record_s.n; i++)
		if (strcmp(record_f[i].key, section) == 0 && record_f[i].sub != NULL)
			return check_value(value, &record_f[i], section);
	return bti_diag_err(BATON_EUNKNOWN, "%s: not a section", section);
}

static _Thread_local int json_alloc_failed;

static void *json_alloc(size_t n)
{
	void *p = malloc(n);
	if (p == NULL)
		json_alloc_failed = 1;
	return p;
}

void record_json_init(void)
{
	json_set_alloc_funcs(json_alloc, free);
}

int record_json_failed(void)
{
	int failed = json_alloc_failed;
	json_alloc_failed = 0;
	return failed;
}

char *record_canonical(const json_t *v)
{
	int before = record_json_failed();
	char *text = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (record_json_failed() && text) { /* a key or a character may be missing */
		free(text);
		text = NULL;
	}
	json_alloc_failed = before;
	return text;
}

void record_index(const json_t *rec, store_student *s)
{
	const json_t *ident = json_object_get(rec, "identity");
	const char *state = json_string_value(json_object_get(rec, "state_student_id"));
#define COPY(field, json, key)                                                                     \
	snprintf(s->field, sizeof(s->field), "%s",                                                 \
	         json_string_value(json_object_get(json, key))                                     \
	             ? json_string_value(json_object_get(json, key))                               \
	             : "")
	COPY(given_name, ident, "given_name");
	COPY(family_name, ident, "family_name");
	COPY(birth_date, ident, "birth_date");
#undef COPY
	snprintf(s->state_id, sizeof(s->state_id), "%s", state ? state : "");
}

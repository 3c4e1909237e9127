/*
 * A Baton record as Ed-Fi API resources (edfi.h): the mapping of edfi.c
 * backwards (docs/edfi.md), one RESOURCE.json array file each, so that a
 * receiving school's student information system can POST them. Reading the
 * files back with 'baton student import --format edfi-json' gives the same
 * record, but for what docs/edfi.md names (allergies and conditions have no
 * Ed-Fi resource; a report card does not tell excused absences from
 * unexcused ones).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <baton/baton.h>

#include "bti.h"
#include "edfi.h"
#include "edfi_map.h"

#define ED "uri://ed-fi.org/"

struct out {
	const json_t *rec;
	const edfi_map *map;
	const char *sid;
	json_t *res;  /* resource name -> array */
	json_t *org;  /* the education organization the student's resources name */
	json_t *seen; /* "resource|identity" of the shared objects written, each once */
	int err;
};

/* 1 the first time resource's object of identity id is asked for, then 0. */
static int once(struct out *o, const char *resource, const char *id)
{
	char k[600];
	snprintf(k, sizeof(k), "%s|%s", resource, id);
	if (json_object_get(o->seen, k))
		return 0;
	json_object_set_new(o->seen, k, json_true());
	return 1;
}

static json_t *list(struct out *o, const char *resource)
{
	json_t *a = json_object_get(o->res, resource);
	if (a == NULL) {
		a = json_array();
		json_object_set_new(o->res, resource, a);
	}
	return a;
}

static const char *s_of(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void sets(json_t *o, const char *k, const char *v)
{
	if (v && v[0])
		json_object_set_new(o, k, json_string(v));
}

/* A descriptor URI for field's value: the map's, else the Ed-Fi namespace ns and the value. */
static void setdesc(struct out *o, json_t *obj, const char *key, const char *field, const char *ns,
                    const char *value)
{
	char uri[512];
	const char *u;
	if (value == NULL || !value[0])
		return;
	if ((u = edfi_map_uri(o->map, field, value)) == NULL) {
		snprintf(uri, sizeof(uri), "%s%s#%s", ED, ns, value);
		u = uri;
	}
	json_object_set_new(obj, key, json_string(u));
}

/* A school id: the integer Ed-Fi uses when the code is all digits, else the code. */
static json_t *school_id(const char *code)
{
	if (code && code[0] && strspn(code, "0123456789") == strlen(code) && strlen(code) < 18)
		return json_integer(atoll(code));
	return json_string(code ? code : "0");
}

/* The end year of "2024-2025". */
static json_t *end_year(const char *years)
{
	return years && strlen(years) == 9 ? json_integer(atoi(years + 5)) : NULL;
}

static json_t *student_ref(const struct out *o)
{
	return json_pack("{s:s}", "studentUniqueId", o->sid);
}

static void students(struct out *o)
{
	const json_t *id = json_object_get(o->rec, "identity");
	json_t *s = json_pack("{s:s}", "studentUniqueId", o->sid);
	sets(s, "firstName", s_of(id, "given_name"));
	sets(s, "middleName", s_of(id, "middle_name"));
	sets(s, "lastSurname", s_of(id, "family_name"));
	sets(s, "birthDate", s_of(id, "birth_date"));
	sets(s, "preferredFirstName", s_of(id, "preferred_name"));
	sets(s, "generationCodeSuffix", s_of(id, "name_suffix"));
	json_array_append_new(list(o, "students"), s);
}

static void seoa(struct out *o)
{
	const json_t *id = json_object_get(o->rec, "identity");
	const json_t *el = json_object_get(o->rec, "english_learner");
	const char *state = s_of(o->rec, "state_student_id");
	json_t *a;
	if (!s_of(id, "sex") && !state && !el)
		return;
	a = json_pack("{s:o, s:{s:O}}", "studentReference", student_ref(o),
	              "educationOrganizationReference", "educationOrganizationId", o->org);
	setdesc(o, a, "sexDescriptor", "sex", "SexDescriptor", s_of(id, "sex"));
	if (state)
		json_object_set_new(a, "studentIdentificationCodes",
		                    json_pack("[{s:s, s:s, s:s}]",
		                              "assigningOrganizationIdentificationCode", "State",
		                              "identificationCode", state,
		                              "studentIdentificationSystemDescriptor",
		                              ED "StudentIdentificationSystemDescriptor#State"));
	setdesc(o, a, "limitedEnglishProficiencyDescriptor", "english_learner_status",
	        "LimitedEnglishProficiencyDescriptor", s_of(el, "status"));
	if (s_of(el, "home_language")) {
		json_t *l = json_object();
		setdesc(o, l, "languageDescriptor", "home_language", "LanguageDescriptor",
		        s_of(el, "home_language"));
		json_object_set_new(l, "uses",
		                    json_pack("[{s:s}]", "languageUseDescriptor",
		                              ED "LanguageUseDescriptor#Home language"));
		json_object_set_new(a, "languages", json_pack("[o]", l));
	}
	json_array_append_new(list(o, "studentEducationOrganizationAssociations"), a);
}

/* A person's name as Ed-Fi's first and last: the last word is the surname. */
static void split_name(json_t *p, const char *name)
{
	const char *sp = strrchr(name, ' ');
	if (sp == NULL) {
		sets(p, "lastSurname", name);
		return;
	}
	json_object_set_new(p, "firstName", json_stringn(name, (size_t)(sp - name)));
	sets(p, "lastSurname", sp + 1);
}

static void contacts(struct out *o)
{
	const json_t *g, *c;
	size_t i, j;
	json_array_foreach(json_object_get(o->rec, "guardians"), i, g)
	{
		char cid[128];
		const char *name = s_of(g, "name");
		json_t *p, *a;
		snprintf(cid, sizeof(cid), "%s-C%zu", o->sid, i + 1);
		p = json_pack("{s:s}", "contactUniqueId", cid);
		split_name(p, name);
		if (s_of(g, "email"))
			json_object_set_new(
			    p, "electronicMails",
			    json_pack("[{s:s, s:s}]", "electronicMailAddress", s_of(g, "email"),
			              "electronicMailTypeDescriptor",
			              ED "ElectronicMailTypeDescriptor#Home/Personal"));
		if (s_of(g, "phone"))
			json_object_set_new(p, "telephones",
			                    json_pack("[{s:s, s:s}]", "telephoneNumber",
			                              s_of(g, "phone"),
			                              "telephoneNumberTypeDescriptor",
			                              ED "TelephoneNumberTypeDescriptor#Mobile"));
		json_array_append_new(list(o, "contacts"), p);
		a = json_pack("{s:o, s:{s:s}}", "studentReference", student_ref(o),
		              "contactReference", "contactUniqueId", cid);
		setdesc(o, a, "relationDescriptor", "relation", "RelationDescriptor",
		        s_of(g, "relation"));
		static const char *const flags[][2] = {
		    {"lives_with", "livesWith"},
		    {"primary_contact", "primaryContactStatus"},
		    {"emergency_contact", "emergencyContactStatus"},
		    {"legal_guardian", "legalGuardian"}};
		for (size_t k = 0; k < 4; k++)
			if (json_is_boolean(json_object_get(g, flags[k][0])))
				json_object_set(a, flags[k][1], json_object_get(g, flags[k][0]));
		/* A custody restriction on this person travels on the association. */
		json_array_foreach(json_object_get(o->rec, "custody"), j,
		                   c) if (s_of(c, "name") && strcmp(s_of(c, "name"), name) == 0)
		    sets(a, "contactRestrictions", s_of(c, "restriction"));
		json_array_append_new(list(o, "studentContactAssociations"), a);
	}
}

static void enrollment(struct out *o)
{
	const json_t *e, *grad = json_object_get(o->rec, "graduation");
	json_t *schools = json_object();
	size_t i;
	json_array_foreach(json_object_get(o->rec, "enrollment"), i, e)
	{
		const char *code = s_of(e, "school_code"), *promo = s_of(e, "promotion");
		json_t *a = json_pack("{s:o, s:{s:o}}", "studentReference", student_ref(o),
		                      "schoolReference", "schoolId", school_id(code));
		json_t *y = end_year(s_of(e, "school_year"));
		if (!json_object_get(schools, code)) {
			json_object_set_new(schools, code, json_true());
			json_t *s = json_pack("{s:o, s:s}", "schoolId", school_id(code),
			                      "nameOfInstitution", s_of(e, "school_name"));
			json_array_append_new(list(o, "schools"), s);
		}
		sets(a, "entryDate", s_of(e, "entry_date"));
		sets(a, "exitWithdrawDate", s_of(e, "exit_date"));
		setdesc(o, a, "entryGradeLevelDescriptor", "grade_level", "GradeLevelDescriptor",
		        s_of(e, "grade_level"));
		setdesc(o, a, "nextYearGradeLevelDescriptor", "grade_level", "GradeLevelDescriptor",
		        s_of(e, "next_grade_level"));
		setdesc(o, a, "exitWithdrawTypeDescriptor", "exit_reason",
		        "ExitWithdrawTypeDescriptor", s_of(e, "exit_reason"));
		if (y)
			json_object_set_new(a, "schoolYear", y);
		if (promo && strcmp(promo, "retained") == 0 && !s_of(e, "next_grade_level"))
			json_object_set_new(a, "repeatGradeIndicator", json_true());
		if (json_is_integer(json_object_get(grad, "expected_year")))
			json_object_set_new(a, "classOfSchoolYearTypeReference",
			                    json_pack("{s:O}", "schoolYear",
			                              json_object_get(grad, "expected_year")));
		if (s_of(grad, "plan")) {
			json_t *ref = json_pack("{s:O, s:O}", "educationOrganizationId", o->org,
			                        "graduationSchoolYear",
			                        json_object_get(grad, "expected_year")
			                            ? json_object_get(grad, "expected_year")
			                            : json_integer(0));
			setdesc(o, ref, "graduationPlanTypeDescriptor", "graduation_plan",
			        "GraduationPlanTypeDescriptor", s_of(grad, "plan"));
			json_object_set_new(a, "graduationPlanReference", ref);
		}
		json_array_append_new(list(o, "studentSchoolAssociations"), a);
	}
	json_decref(schools);
}

/* "2025-2026" -> 2026 as the academic record's year; its term's descriptor. */
static json_t *sar_ref(struct out *o, const char *years, const char *term)
{
	json_t *r = json_pack("{s:O, s:o, s:s}", "educationOrganizationId", o->org, "schoolYear",
	                      end_year(years), "studentUniqueId", o->sid);
	setdesc(o, r, "termDescriptor", "term", "TermDescriptor", term);
	return r;
}

/* The course of a transcript row, once in courses.json. */
static void course_once(struct out *o, json_t *courses, const json_t *t)
{
	const char *code = s_of(t, "course_code");
	json_t *c;
	if (json_object_get(courses, code))
		return;
	c = json_pack("{s:s, s:{s:O}, s:s, s:i}", "courseCode", code,
	              "educationOrganizationReference", "educationOrganizationId", o->org,
	              "courseTitle", s_of(t, "course_title"), "numberOfParts", 1);
	setdesc(o, c, "academicSubjectDescriptor", "subject", "AcademicSubjectDescriptor",
	        s_of(t, "subject"));
	if (s_of(t, "state_course_code"))
		json_object_set_new(
		    c, "identificationCodes",
		    json_pack("[{s:s, s:s}]", "courseIdentificationSystemDescriptor",
		              ED "CourseIdentificationSystemDescriptor#State course code",
		              "identificationCode", s_of(t, "state_course_code")));
	json_object_set_new(courses, code, c);
	json_array_append(list(o, "courses"), c);
}

/*
 * The grade so far of a row in progress (status in_progress with a grade or
 * an as_of) goes out as Ed-Fi keeps one, beside the row's course transcript
 * (which has no final grade): a grades object for a section of the course
 * in a session of the term, in a grading period ending on as_of, with
 * currentGradeAsOfDate as_of and letterGradeEarned the grade so far (none
 * when there is none yet).
 */
static void in_progress_grade(struct out *o, const json_t *t)
{
	const char *code = s_of(t, "course_code"), *years = s_of(t, "school_year");
	const char *status = s_of(t, "status"), *asof = s_of(t, "as_of");
	char sect[300], sess[300], period[64];
	json_t *y, *x, *ssa;
	if (!status || strcmp(status, "in_progress") != 0 || (!s_of(t, "grade") && !asof) || !years)
		return;
	y = end_year(years);
	snprintf(sect, sizeof(sect), "%s-%s-%s", code, years, s_of(t, "term"));
	snprintf(sess, sizeof(sess), "%s %s", years, s_of(t, "term"));
	snprintf(period, sizeof(period), "As of %s", asof ? asof : "unknown");
	x = json_pack("{s:{s:O}, s:{s:O}, s:s}", "schoolReference", "schoolId", o->org,
	              "schoolYearTypeReference", "schoolYear", y, "sessionName", sess);
	setdesc(o, x, "termDescriptor", "term", "TermDescriptor", s_of(t, "term"));
	if (once(o, "sessions", sess))
		json_array_append_new(list(o, "sessions"), x);
	else
		json_decref(x);
	x = json_pack("{s:s, s:{s:s, s:O, s:O, s:s}, s:s}", "sectionIdentifier", sect,
	              "courseOfferingReference", "localCourseCode", code, "schoolId", o->org,
	              "schoolYear", y, "sessionName", sess, "sectionName", s_of(t, "course_title"));
	if (json_object_get(t, "credits_attempted"))
		json_object_set(x, "availableCredits", json_object_get(t, "credits_attempted"));
	if (once(o, "sections", sect))
		json_array_append_new(list(o, "sections"), x);
	else
		json_decref(x);
	x = json_pack("{s:s, s:s, s:i, s:{s:O}, s:{s:O}}", "gradingPeriodName", period,
	              "gradingPeriodDescriptor", ED "GradingPeriodDescriptor#Other",
	              "periodSequence", 1, "schoolReference", "schoolId", o->org,
	              "schoolYearTypeReference", "schoolYear", y);
	if (asof) {
		sets(x, "beginDate", asof);
		sets(x, "endDate", asof);
	}
	if (once(o, "gradingPeriods", period))
		json_array_append_new(list(o, "gradingPeriods"), x);
	else
		json_decref(x);
	ssa = json_pack("{s:s, s:O, s:O, s:s, s:s, s:s}", "localCourseCode", code, "schoolId",
	                o->org, "schoolYear", y, "sectionIdentifier", sect, "sessionName", sess,
	                "studentUniqueId", o->sid);
	x = json_pack("{s:o, s:{s:s, s:O, s:O}, s:s}", "studentSectionAssociationReference", ssa,
	              "gradingPeriodReference", "gradingPeriodName", period, "schoolId", o->org,
	              "schoolYear", y, "gradeTypeDescriptor",
	              ED "GradeTypeDescriptor#Grading Period");
	sets(x, "letterGradeEarned", s_of(t, "grade"));
	sets(x, "currentGradeAsOfDate", asof);
	json_array_append_new(list(o, "grades"), x);
	json_decref(y);
}

static void transcript(struct out *o)
{
	const json_t *t, *grad = json_object_get(o->rec, "graduation");
	json_t *courses = json_object(), *sars = json_object(), *ref;
	const char *k;
	size_t i;
	long long maxy = 0;

	json_array_foreach(json_object_get(o->rec, "transcript"), i, t)
	{
		const char *code = s_of(t, "course_code"), *years = s_of(t, "school_year");
		char key[300];
		json_t *ct;
		ct = json_object();
		json_object_set_new(ct, "studentAcademicRecordReference",
		                    sar_ref(o, years, s_of(t, "term")));
		json_object_set_new(
		    ct, "courseReference",
		    json_pack("{s:s, s:O}", "courseCode", code, "educationOrganizationId", o->org));
		sets(ct, "courseTitle", s_of(t, "course_title"));
		/* A row in progress has no final grade: its grade so far goes out as grades. */
		if (!s_of(t, "status") || strcmp(s_of(t, "status"), "in_progress") != 0)
			sets(ct, "finalLetterGradeEarned", s_of(t, "grade"));
		if (json_object_get(t, "credits_attempted"))
			json_object_set(ct, "attemptedCredits",
			                json_object_get(t, "credits_attempted"));
		if (json_object_get(t, "credits_earned"))
			json_object_set(ct, "earnedCredits", json_object_get(t, "credits_earned"));
		setdesc(o, ct, "courseAttemptResultDescriptor", "attempt_result",
		        "CourseAttemptResultDescriptor", s_of(t, "attempt_result"));
		setdesc(o, ct, "whenTakenGradeLevelDescriptor", "grade_level",
		        "GradeLevelDescriptor", s_of(t, "grade_level"));
		setdesc(o, ct, "methodCreditEarnedDescriptor", "credit_method",
		        "MethodCreditEarnedDescriptor", s_of(t, "credit_method"));
		setdesc(o, ct, "attemptedCreditTypeDescriptor", "credit_type",
		        "CreditTypeDescriptor", s_of(t, "credit_type"));
		json_array_append_new(list(o, "courseTranscripts"), ct);
		course_once(o, courses, t);
		in_progress_grade(o, t);
		snprintf(key, sizeof(key), "%s|%s", years ? years : "", s_of(t, "term"));
		if (!json_object_get(sars, key))
			json_object_set_new(sars, key, sar_ref(o, years, s_of(t, "term")));
		if (years && atoll(years + 5) > maxy)
			maxy = atoll(years + 5);
	}
	/* The academic records: the last year's carry graduation progress. */
	if (grad && json_object_size(sars) == 0) {
		char years[48];
		long long y = json_is_integer(json_object_get(grad, "expected_year"))
		                  ? json_integer_value(json_object_get(grad, "expected_year"))
		                  : 2000;
		snprintf(years, sizeof(years), "%lld-%lld", y - 1, y);
		json_object_set_new(sars, "grad", sar_ref(o, years, "Year Round"));
		maxy = y;
	}
	int diplomas_done = 0;
	json_object_foreach(sars, k, ref)
	{
		json_t *r = json_pack("{s:o, s:{s:O}, s:{s:O}}", "studentReference", student_ref(o),
		                      "educationOrganizationReference", "educationOrganizationId",
		                      o->org, "schoolYearTypeReference", "schoolYear",
		                      json_object_get(ref, "schoolYear"));
		json_object_set(r, "termDescriptor", json_object_get(ref, "termDescriptor"));
		if (grad && json_integer_value(json_object_get(ref, "schoolYear")) == maxy) {
			json_t *gpas = json_array(), *d, *dl = json_array();
			size_t j;
			if (json_object_get(grad, "credits_earned"))
				json_object_set(r, "cumulativeEarnedCredits",
				                json_object_get(grad, "credits_earned"));
			if (json_object_get(grad, "credits_attempted"))
				json_object_set(r, "cumulativeAttemptedCredits",
				                json_object_get(grad, "credits_attempted"));
			if (json_object_get(grad, "gpa_weighted"))
				json_array_append_new(
				    gpas,
				    json_pack("{s:s, s:O, s:b}", "gradePointAverageTypeDescriptor",
				              ED "GradePointAverageTypeDescriptor#Weighted",
				              "gradePointAverageValue",
				              json_object_get(grad, "gpa_weighted"), "isCumulative",
				              1));
			if (json_object_get(grad, "gpa_unweighted"))
				json_array_append_new(
				    gpas,
				    json_pack("{s:s, s:O, s:b}", "gradePointAverageTypeDescriptor",
				              ED "GradePointAverageTypeDescriptor#Unweighted",
				              "gradePointAverageValue",
				              json_object_get(grad, "gpa_unweighted"),
				              "isCumulative", 1));
			if (json_array_size(gpas))
				json_object_set(r, "gradePointAverages", gpas);
			json_decref(gpas);
			json_array_foreach(json_object_get(grad, "diplomas"), j, d)
			{
				json_t *x = json_object();
				setdesc(o, x, "diplomaTypeDescriptor", "diploma_type",
				        "DiplomaTypeDescriptor", s_of(d, "type"));
				sets(x, "diplomaAwardDate", s_of(d, "date"));
				setdesc(o, x, "diplomaLevelDescriptor", "diploma_level",
				        "DiplomaLevelDescriptor", s_of(d, "level"));
				sets(x, "diplomaDescription", s_of(d, "description"));
				json_array_append_new(dl, x);
			}
			if (!diplomas_done && json_array_size(dl))
				json_object_set(r, "diplomas", dl);
			diplomas_done = 1;
			json_decref(dl);
		}
		json_array_append_new(list(o, "studentAcademicRecords"), r);
	}
	json_decref(courses);
	json_decref(sars);
}

/*
 * Each attendance row as Ed-Fi keeps a year's counts: a report card of an
 * End of Year grading period of the school year (July to June), with the
 * days present, absent (excused and unexcused together: a report card does
 * not tell them apart) and tardy.
 */
static void attendance(struct out *o)
{
	const json_t *a;
	size_t i;
	json_array_foreach(json_object_get(o->rec, "attendance"), i, a)
	{
		const char *years = s_of(a, "school_year");
		char period[64], begin[16], end[16];
		json_t *y, *gp, *rc;
		if (!years || strlen(years) != 9)
			continue;
		y = end_year(years);
		snprintf(period, sizeof(period), "%s School Year", years);
		snprintf(begin, sizeof(begin), "%.4s-07-01", years);
		snprintf(end, sizeof(end), "%.4s-06-30", years + 5);
		gp = json_pack("{s:s, s:s, s:i, s:{s:O}, s:{s:O}, s:s, s:s}", "gradingPeriodName",
		               period, "gradingPeriodDescriptor",
		               ED "GradingPeriodDescriptor#End of Year", "periodSequence", 1,
		               "schoolReference", "schoolId", o->org, "schoolYearTypeReference",
		               "schoolYear", y, "beginDate", begin, "endDate", end);
		if (once(o, "gradingPeriods", period))
			json_array_append_new(list(o, "gradingPeriods"), gp);
		else
			json_decref(gp);
		rc = json_pack("{s:o, s:{s:O}, s:{s:s, s:s, s:O, s:O}, s:O, s:I}",
		               "studentReference", student_ref(o), "educationOrganizationReference",
		               "educationOrganizationId", o->org, "gradingPeriodReference",
		               "gradingPeriodDescriptor", ED "GradingPeriodDescriptor#End of Year",
		               "gradingPeriodName", period, "schoolId", o->org, "schoolYear", y,
		               "numberOfDaysInAttendance", json_object_get(a, "days_present"),
		               "numberOfDaysAbsent",
		               json_integer_value(json_object_get(a, "days_absent_excused")) +
		                   json_integer_value(json_object_get(a, "days_absent_unexcused")));
		if (json_object_get(a, "days_tardy"))
			json_object_set(rc, "numberOfDaysTardy", json_object_get(a, "days_tardy"));
		json_array_append_new(list(o, "reportCards"), rc);
		json_decref(y);
	}
}

static void assessments(struct out *o)
{
	const json_t *a;
	json_t *seen = json_object();
	size_t i;
	json_array_foreach(json_object_get(o->rec, "assessments"), i, a)
	{
		char aid[420], said[128], num[64];
		const json_t *score = json_object_get(a, "score");
		json_t *sa;
		snprintf(aid, sizeof(aid), "%s (%s)", s_of(a, "name"), s_of(a, "subject"));
		snprintf(said, sizeof(said), "%s-A%zu", o->sid, i + 1);
		if (!json_object_get(seen, aid)) {
			json_t *x =
			    json_pack("{s:s, s:s, s:s}", "assessmentIdentifier", aid, "namespace",
			              "uri://baton/Assessment", "assessmentTitle", s_of(a, "name"));
			json_t *sub = json_object();
			setdesc(o, sub, "academicSubjectDescriptor", "subject",
			        "AcademicSubjectDescriptor", s_of(a, "subject"));
			json_object_set_new(x, "academicSubjects", json_pack("[o]", sub));
			json_array_append_new(list(o, "assessments"), x);
			json_object_set_new(seen, aid, json_true());
		}
		sa = json_pack("{s:o, s:{s:s, s:s}, s:s, s:s}", "studentReference", student_ref(o),
		               "assessmentReference", "assessmentIdentifier", aid, "namespace",
		               "uri://baton/Assessment", "studentAssessmentIdentifier", said,
		               "administrationDate", s_of(a, "date"));
		if (score) {
			if (json_is_integer(score))
				snprintf(num, sizeof(num), "%lld",
				         (long long)json_integer_value(score));
			else if (json_is_real(score))
				snprintf(num, sizeof(num), "%.15g%s", json_real_value(score),
				         json_real_value(score) ==
				                 (double)(long long)json_real_value(score)
				             ? ".0"
				             : "");
			else
				snprintf(num, sizeof(num), "%s", json_string_value(score));
			json_object_set_new(
			    sa, "scoreResults",
			    json_pack("[{s:s, s:s, s:s}]", "assessmentReportingMethodDescriptor",
			              ED "AssessmentReportingMethodDescriptor#Raw score", "result",
			              num, "resultDatatypeTypeDescriptor",
			              json_is_string(score)
			                  ? ED "ResultDatatypeTypeDescriptor#Level"
			                  : ED "ResultDatatypeTypeDescriptor#Decimal"));
		}
		if (s_of(a, "performance_level")) {
			json_t *pl =
			    json_pack("{s:s}", "assessmentReportingMethodDescriptor",
			              ED "AssessmentReportingMethodDescriptor#Proficiency level");
			setdesc(o, pl, "performanceLevelDescriptor", "performance_level",
			        "PerformanceLevelDescriptor", s_of(a, "performance_level"));
			json_object_set_new(sa, "performanceLevels", json_pack("[o]", pl));
		}
		setdesc(o, sa, "reasonNotTestedDescriptor", "reason_not_tested",
		        "ReasonNotTestedDescriptor", s_of(a, "reason_not_tested"));
		setdesc(o, sa, "whenAssessedGradeLevelDescriptor", "grade_level",
		        "GradeLevelDescriptor", s_of(a, "grade_level"));
		json_array_append_new(list(o, "studentAssessments"), sa);
	}
	json_decref(seen);
}

/* A student program association of the program name, its begin date begin. */
static json_t *program(struct out *o, const char *name, const char *type, const char *begin)
{
	char uri[200];
	snprintf(uri, sizeof(uri), ED "ProgramTypeDescriptor#%s", type);
	return json_pack("{s:o, s:{s:O, s:s, s:s}, s:{s:O}, s:s}", "studentReference",
	                 student_ref(o), "programReference", "educationOrganizationId", o->org,
	                 "programName", name, "programTypeDescriptor", uri,
	                 "educationOrganizationReference", "educationOrganizationId", o->org,
	                 "beginDate", begin);
}

/* The first enrolment's entry date: a program's begin date when the record has none. */
static const char *first_entry(const struct out *o)
{
	const char *d =
	    s_of(json_array_get(json_object_get(o->rec, "enrollment"), 0), "entry_date");
	return d ? d : "1900-01-01";
}

static void programs(struct out *o)
{
	const json_t *sp = json_object_get(o->rec, "special_education");
	const json_t *s5 = json_object_get(o->rec, "section_504");
	const json_t *el = json_object_get(o->rec, "english_learner");
	const json_t *h = json_object_get(o->rec, "homeless"), *x;
	const char *v;
	size_t i;
	if (sp) {
		const char *begin = s_of(sp, "iep_begin_date");
		json_t *a = program(o, "Special Education", "Special Education",
		                    begin ? begin : first_entry(o));
		json_object_set(a, "ideaEligibility", json_object_get(sp, "iep"));
		if ((v = s_of(sp, "disability_category")) != NULL) {
			json_t *d = json_object();
			setdesc(o, d, "disabilityDescriptor", "disability_category",
			        "DisabilityDescriptor", v);
			json_object_set_new(a, "disabilities", json_pack("[o]", d));
		}
		setdesc(o, a, "specialEducationSettingDescriptor", "setting",
		        "SpecialEducationSettingDescriptor", s_of(sp, "setting"));
		sets(a, "iepReviewDate", s_of(sp, "plan_date"));
		sets(a, "iepBeginDate", s_of(sp, "iep_begin_date"));
		sets(a, "iepEndDate", s_of(sp, "iep_end_date"));
		sets(a, "lastEvaluationDate", s_of(sp, "last_evaluation_date"));
		if (json_object_get(sp, "hours_per_week"))
			json_object_set(a, "specialEducationHoursPerWeek",
			                json_object_get(sp, "hours_per_week"));
		if (json_object_get(sp, "services")) {
			json_t *svc = json_array();
			json_array_foreach(json_object_get(sp, "services"), i, x)
			{
				json_t *e = json_object();
				setdesc(o, e, "specialEducationProgramServiceDescriptor",
				        "sped_service", "SpecialEducationProgramServiceDescriptor",
				        json_string_value(x));
				json_array_append_new(svc, e);
			}
			json_object_set_new(a, "specialEducationProgramServices", svc);
		}
		json_array_append_new(list(o, "studentSpecialEducationProgramAssociations"), a);
	}
	if (s5) {
		const char *begin = s_of(s5, "begin_date");
		json_t *a = program(o, "Section 504", "Section 504 Placement",
		                    begin ? begin : first_entry(o));
		json_object_set(a, "section504Eligibility", json_object_get(s5, "eligible"));
		setdesc(o, a, "section504DisabilityDescriptor", "section_504_disability",
		        "Section504DisabilityDescriptor", s_of(s5, "disability"));
		sets(a, "section504MeetingDate", s_of(s5, "plan_date"));
		sets(a, "endDate", s_of(s5, "end_date"));
		json_array_append_new(list(o, "studentSection504ProgramAssociations"), a);
	}
	json_array_foreach(json_object_get(el, "programs"), i, x)
	{
		json_t *a = program(o, s_of(x, "name"), "English as a Second Language (ESL)",
		                    s_of(x, "begin_date"));
		const json_t *svc;
		size_t j;
		sets(a, "endDate", s_of(x, "end_date"));
		if (json_object_get(x, "services")) {
			json_t *l = json_array();
			json_array_foreach(json_object_get(x, "services"), j, svc)
			{
				json_t *e = json_object();
				setdesc(o, e, "languageInstructionProgramServiceDescriptor",
				        "language_service",
				        "LanguageInstructionProgramServiceDescriptor",
				        json_string_value(svc));
				json_array_append_new(l, e);
			}
			json_object_set_new(a, "languageInstructionProgramServices", l);
		}
		json_array_append_new(list(o, "studentLanguageInstructionProgramAssociations"), a);
	}
	if (h) {
		json_t *a =
		    program(o, "McKinney-Vento Homeless", "Homeless", s_of(h, "begin_date"));
		sets(a, "endDate", s_of(h, "end_date"));
		setdesc(o, a, "homelessPrimaryNighttimeResidenceDescriptor",
		        "primary_nighttime_residence",
		        "HomelessPrimaryNighttimeResidenceDescriptor",
		        s_of(h, "primary_nighttime_residence"));
		if (json_is_boolean(json_object_get(h, "unaccompanied_youth")))
			json_object_set(a, "homelessUnaccompaniedYouth",
			                json_object_get(h, "unaccompanied_youth"));
		json_array_append_new(list(o, "studentHomelessProgramAssociations"), a);
	}
}

static void health(struct out *o)
{
	const json_t *h = json_object_get(o->rec, "health"), *im;
	json_t *a, *req = json_array(), *add = json_array();
	size_t i;
	if (h == NULL) {
		json_decref(req);
		json_decref(add);
		return;
	}
	a = json_pack("{s:o, s:{s:O}}", "studentReference", student_ref(o),
	              "educationOrganizationReference", "educationOrganizationId", o->org);
	json_array_foreach(json_object_get(h, "immunizations"), i, im)
	{
		if (s_of(im, "exemption")) {
			char uri[300];
			json_t *r;
			snprintf(uri, sizeof(uri), ED "ImmunizationTypeDescriptor#%s",
			         s_of(im, "vaccine"));
			r = json_pack("{s:s, s:s}", "immunizationTypeDescriptor", uri,
			              "medicalExemption", s_of(im, "exemption"));
			sets(r, "medicalExemptionDate", s_of(im, "date"));
			json_array_append_new(req, r);
		} else
			json_array_append_new(add, json_pack("{s:s, s:[{s:s}]}", "immunizationName",
			                                     s_of(im, "vaccine"), "dates",
			                                     "immunizationDate", s_of(im, "date")));
	}
	if (json_array_size(req))
		json_object_set(a, "requiredImmunizations", req);
	if (json_array_size(add))
		json_object_set(a, "additionalImmunizations", add);
	json_decref(req);
	json_decref(add);
	json_array_append_new(list(o, "studentHealths"), a);
}

static void discipline(struct out *o)
{
	const json_t *d;
	size_t i;
	json_array_foreach(json_object_get(o->rec, "discipline"), i, d)
	{
		char iid[128], beh[256], uri[400], acts[256];
		const char *what = s_of(d, "incident"), *sep = strstr(what, ": ");
		const char *action = s_of(d, "action");
		json_t *inc, *ba, *da, *dl;
		snprintf(iid, sizeof(iid), "%s-I%zu", o->sid, i + 1);
		snprintf(beh, sizeof(beh), "%.*s", sep ? (int)(sep - what) : (int)strlen(what),
		         what);
		snprintf(uri, sizeof(uri), ED "BehaviorDescriptor#%s", beh);
		inc = json_pack("{s:s, s:{s:O}, s:s}", "incidentIdentifier", iid, "schoolReference",
		                "schoolId", o->org, "incidentDate", s_of(d, "date"));
		if (sep)
			sets(inc, "incidentDescription", sep + 2);
		json_array_append_new(list(o, "disciplineIncidents"), inc);
		ba = json_pack("{s:o, s:{s:s, s:O}, s:s}", "studentReference", student_ref(o),
		               "disciplineIncidentReference", "incidentIdentifier", iid, "schoolId",
		               o->org, "behaviorDescriptor", uri);
		json_array_append_new(list(o, "studentDisciplineIncidentBehaviorAssociations"), ba);
		if (strcmp(action, "No action recorded") == 0)
			continue;
		dl = json_array();
		snprintf(acts, sizeof(acts), "%s", action);
		for (char *save = NULL, *t = strtok_r(acts, ";", &save); t;
		     t = strtok_r(NULL, ";", &save)) {
			while (*t == ' ')
				t++;
			snprintf(uri, sizeof(uri), ED "DisciplineDescriptor#%s", t);
			json_array_append_new(dl, json_pack("{s:s}", "disciplineDescriptor", uri));
		}
		snprintf(beh, sizeof(beh), "%s-D%zu", o->sid, i + 1);
		da = json_pack("{s:o, s:s, s:s, s:o, s:[{s:{s:s, s:O, s:s}}]}", "studentReference",
		               student_ref(o), "disciplineActionIdentifier", beh, "disciplineDate",
		               s_of(d, "date"), "disciplines", dl,
		               "studentDisciplineIncidentBehaviorAssociations",
		               "studentDisciplineIncidentBehaviorAssociationReference",
		               "incidentIdentifier", iid, "schoolId", o->org, "studentUniqueId",
		               o->sid);
		json_array_append_new(list(o, "disciplineActions"), da);
	}
}

/* Removes DIR/RESOURCE.json for each of the first n resources of o (the files this export wrote).
 */
static void unwrite(const struct out *o, const char *dir, size_t n)
{
	const char *k;
	json_t *v;
	json_object_foreach(o->res, k, v)
	{
		char path[4096];
		if (n-- == 0)
			break;
		snprintf(path, sizeof(path), "%s/%s.json", dir, k);
		unlink(path);
	}
}

/*
 * Writes each resource's array as DIR/RESOURCE.json (a new file each); on
 * failure the files it wrote are removed again: nothing half-written.
 */
static int write_all(const struct out *o, const char *dir)
{
	const char *k;
	json_t *v;
	size_t done = 0;
	json_object_foreach(o->res, k, v)
	{
		char path[4096];
		char *text = json_dumps(v, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
		int r;
		if (text == NULL) {
			unwrite(o, dir, done);
			return BATON_ENOMEM;
		}
		snprintf(path, sizeof(path), "%s/%s.json", dir, k);
		r = baton_file_create(path, (const uint8_t *)text, strlen(text), 0600);
		free(text);
		if (r != 0) {
			unwrite(o, dir, done);
			return bti_diag_err(r, "%s: %s", path,
			                    r == BATON_EEXIST ? "already exists"
			                                      : baton_strerror(r));
		}
		done++;
	}
	return 0;
}

int edfi_export(const json_t *rec, const char *dir, const char *map_file)
{
	struct out o;
	edfi_map *map = NULL;
	int r;
	memset(&o, 0, sizeof(o));
	if ((r = edfi_map_load(&map, map_file)) != 0)
		return r;
	o.rec = rec;
	o.map = map;
	o.sid = s_of(rec, "student_id");
	o.res = json_object();
	o.seen = json_object();
	/* The organization the resources name: the latest enrolment's school. */
	{
		const json_t *e, *last = NULL;
		size_t i;
		json_array_foreach(json_object_get(rec, "enrollment"), i, e)
		{
			if (last == NULL ||
			    strcmp(s_of(e, "entry_date"), s_of(last, "entry_date")) > 0)
				last = e;
		}
		o.org = school_id(last ? s_of(last, "school_code") : "0");
	}
	students(&o);
	seoa(&o);
	contacts(&o);
	enrollment(&o);
	transcript(&o);
	attendance(&o);
	assessments(&o);
	programs(&o);
	health(&o);
	discipline(&o);
	r = write_all(&o, dir);
	json_decref(o.res);
	json_decref(o.seen);
	json_decref(o.org);
	edfi_map_free(map);
	return r;
}

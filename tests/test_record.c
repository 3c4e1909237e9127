/*
 * The canonical text of a record (proto/RECORD.md, "Canonical text"): the
 * exact bytes Baton writes for a JSON value, whatever form the value was
 * read in. Each case is a JSON text in and the golden text out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include <baton/error.h>

#include "record.h"

/* Parses in as a record's JSON is read and asserts its canonical text is want. */
static void golden(const char *in, const char *want)
{
	json_error_t err;
	json_t *v = json_loads(in, JSON_REJECT_DUPLICATES, &err);
	if (v == NULL)
		fail_msg("%s: %s", in, err.text);
	char *got = record_canonical(v);
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(v);
}

static void test_layout(void **state)
{
	(void)state;
	/* No whitespace; members sorted; arrays keep their order. */
	golden(
	    "{ \"given_name\" : \"Amara\",\n  \"family_name\": \"Okafor\",\n"
	    "  \"birth_date\": \"2011-04-17\" }",
	    "{\"birth_date\":\"2011-04-17\",\"family_name\":\"Okafor\",\"given_name\":\"Amara\"}");
	golden("[ {\"b\": [3, 1, 2], \"a\": {\"d\": true, \"c\": false}} ]",
	       "[{\"a\":{\"c\":false,\"d\":true},\"b\":[3,1,2]}]");
	golden("{}", "{}");
	golden("[]", "[]");
}

static void test_key_order(void **state)
{
	(void)state;
	/* Bytewise on the UTF-8 of the keys: upper case first, a prefix first, non-ASCII last. */
	golden("{\"z\":5,\"\\u00e9\":4,\"aa\":1,\"a\":2,\"B\":3,\"_\":6}",
	       "{\"B\":3,\"_\":6,\"a\":2,\"aa\":1,\"z\":5,\"\xc3\xa9\":4}");
}

static void test_strings(void **state)
{
	(void)state;
	/* Only " and \ are escaped in text a record may hold; / and DEL are not. */
	golden("[\"a\\\"b\\\\c\\/d\x7f\"]", "[\"a\\\"b\\\\c/d\x7f\"]");
	/* Non-ASCII is written as UTF-8, however it was written in the input. */
	golden("[\"\\u00e9\\u00C9\xc3\xa9 \\ud83d\\ude00 \\u2028\xc2\xa0\"]",
	       "[\"\xc3\xa9\xc3\x89\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8\xc2\xa0\"]");
	/* Control characters (refused in a record, but the form is total): short or \u00XX. */
	golden("[\"\\t\\n\\r\\b\\f\\u0001\\u001f\\u001A\"]",
	       "[\"\\t\\n\\r\\b\\f\\u0001\\u001F\\u001A\"]");
}

static void test_numbers(void **state)
{
	(void)state;
	/* Integers: plain decimal. */
	golden("[0, 7, 100000, -3, -0, 9223372036854775807]",
	       "[0,7,100000,-3,0,9223372036854775807]");
	/* A number with a fraction or an exponent stays a real: %.17g, a ".0" when that
	 * looks like an integer, no '+' and no leading zero in an exponent. */
	golden("[1.0, 2.5, 0.5, 1e2, 100.00, 0.1, 3.7]",
	       "[1.0,2.5,0.5,100.0,100.0,0.10000000000000001,3.7000000000000002]");
	golden("[1E+21, 1e-7, -0.0, 1000.0]", "[1e21,9.9999999999999995e-8,-0.0,1000.0]");
	/* Literals. */
	golden("[true, false]", "[true,false]");
}

/* ---- validation (proto/RECORD.md, version 2) ---- */

/* A version-1 record with every version-1 section. */
#define V1_BASE                                                                                    \
	"\"student_id\":\"S-1\",\"state_student_id\":\"ST-1\","                                    \
	"\"identity\":{\"given_name\":\"Amara\",\"family_name\":\"Okafor\","                       \
	"\"birth_date\":\"2011-04-17\",\"preferred_name\":\"Amy\"}"

/* Validates the record {V1_BASE, extra} and asserts it is accepted. */
static void accepts_at(int line, const char *extra)
{
	char text[8192];
	json_error_t err;
	snprintf(text, sizeof(text), "{" V1_BASE "%s%s}", extra[0] ? "," : "", extra);
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	if (v == NULL)
		fail_msg("line %d: %s: %s", line, text, err.text);
	int r = record_validate(v);
	json_decref(v);
	if (r != 0)
		fail_msg("line %d: refused: %s", line, baton_diag());
}

/*
 * Validates the record {V1_BASE, extra} and asserts it is refused with
 * code and an error that starts with the field path want.
 */
static void refuses_at(int line, const char *extra, int code, const char *want)
{
	char text[8192];
	json_error_t err;
	snprintf(text, sizeof(text), "{" V1_BASE ",%s}", extra);
	json_t *v = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	if (v == NULL)
		fail_msg("line %d: %s: %s", line, text, err.text);
	int r = record_validate(v);
	json_decref(v);
	if (r == 0)
		fail_msg("line %d: accepted, want %s", line, want);
	if (r != code)
		fail_msg("line %d: code %s, want %s (%s)", line, baton_errname(r),
		         baton_errname(code), baton_diag());
	if (strncmp(baton_diag(), want, strlen(want)) != 0)
		fail_msg("line %d: error \"%s\", want it to start \"%s\"", line, baton_diag(),
		         want);
}
#define accepts(x)         accepts_at(__LINE__, x)
#define refuses(x, c, why) refuses_at(__LINE__, x, c, why)

#define ENROL(x)                                                                                   \
	"\"enrollment\":[{\"school_name\":\"Lincoln\",\"school_code\":\"LHS\","                    \
	"\"entry_date\":\"2025-08-20\",\"grade_level\":\"09\"" x "}]"
#define COURSE(x)                                                                                  \
	"\"transcript\":[{\"school_year\":\"2025-2026\",\"term\":\"S1\","                          \
	"\"course_code\":\"M1\",\"course_title\":\"Algebra I\","                                   \
	"\"credits_attempted\":1.0,\"credits_earned\":1.0" x "}]"
#define ATTEND(x)                                                                                  \
	"\"attendance\":[{\"school_year\":\"2025-2026\",\"days_present\":70,"                      \
	"\"days_absent_excused\":2,\"days_absent_unexcused\":1" x "}]"
#define HEALTH(x) "\"health\":{" x "}"

static void test_v1_still_valid(void **state)
{
	(void)state;
	/* The version-1 example of RECORD.md, every required field of version 1. */
	accepts("");
	accepts(
	    "\"guardians\":[{\"name\":\"Ngozi Okafor\",\"relation\":\"mother\","
	    "\"email\":\"n@example.org\"}]," ENROL("") "," COURSE(",\"grade\":\"A-\"") "," ATTEND(
	        ",\"days_enrolled\":80") ",\"assessments\":[{\"name\":\"State Math\","
	                                 "\"subject\":\"Math\",\"date\":\"2026-03-01\","
	                                 "\"score\":412,\"performance_level\":\"Met\"}],"
	                                 "\"special_education\":{\"iep\":true,"
	                                 "\"services\":[\"Speech\"]},"
	                                 "\"health\":{\"immunizations\":[{\"vaccine\":"
	                                 "\"MMR\",\"date\":\"2012-05-01\"}],"
	                                 "\"allergies\":[\"peanuts\"],\"conditions\":[]},"
	                                 "\"discipline\":[{\"date\":\"2025-10-01\","
	                                 "\"incident\":\"Late\",\"action\":\"Warning\"}]");
	/* Version-1 rules that stay. */
	refuses(ENROL(",\"exit_date\":\"2025-08-01\""), BATON_EVALUE,
	        "enrollment[0].exit_date: before entry_date");
	refuses(ATTEND(",\"days_enrolled\":50"), BATON_EVALUE,
	        "attendance[0]: days present and absent (73) exceed days_enrolled (50)");
	refuses("\"health\":{\"allergies\":[]}", BATON_EMISSING,
	        "health.immunizations: required field missing");
}

static void test_grade_levels(void **state)
{
	(void)state;
	static const char *const good[] = {"IT", "PK", "KG", "01", "09",
	                                   "12", "13", "UG", "AE", "PS"};
	char x[512];
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(x, sizeof(x),
		         "\"enrollment\":[{\"school_name\":\"L\",\"school_code\":\"L\","
		         "\"entry_date\":\"2025-08-20\",\"grade_level\":\"%s\","
		         "\"next_grade_level\":\"%s\"}]",
		         good[i], good[i]);
		accepts(x);
	}
	refuses("\"enrollment\":[{\"school_name\":\"L\",\"school_code\":\"L\","
	        "\"entry_date\":\"2025-08-20\",\"grade_level\":\"14\"}]",
	        BATON_EVALUE, "enrollment[0].grade_level: \"14\" is not a grade level");
	refuses(ENROL(",\"next_grade_level\":\"K\""), BATON_EVALUE,
	        "enrollment[0].next_grade_level: \"K\" is not a grade level");
	refuses(COURSE(",\"grade\":\"A\",\"grade_level\":9"), BATON_EVALUE,
	        "transcript[0].grade_level: the value is not a grade level");
	refuses("\"assessments\":[{\"name\":\"T\",\"subject\":\"M\",\"date\":\"2026-03-01\","
	        "\"grade_level\":\"it\"}]",
	        BATON_EVALUE, "assessments[0].grade_level: \"it\" is not a grade level");
}

static void test_enrollment_v2(void **state)
{
	(void)state;
	accepts(ENROL(",\"school_year\":\"2025-2026\",\"exit_reason\":\"Moved out of district\","
	              "\"promotion\":\"retained\",\"next_grade_level\":\"09\""));
	accepts(ENROL(",\"promotion\":\"promoted\"") "," COURSE(",\"grade\":\"B\""));
	accepts(ENROL(",\"promotion\":\"demoted\""));
	refuses(ENROL(",\"promotion\":\"skipped\""), BATON_EVALUE,
	        "enrollment[0].promotion: \"skipped\" is not one of promoted, retained, demoted");
	refuses(ENROL(",\"promotion\":true"), BATON_ETYPE,
	        "enrollment[0].promotion: expected one of promoted, retained, demoted");
	refuses(ENROL(",\"promotion\":\"\""), BATON_EVALUE, "enrollment[0].promotion: empty");
	refuses(ENROL(",\"school_year\":\"2025-2027\""), BATON_EVALUE,
	        "enrollment[0].school_year: \"2025-2027\" is not a school year");
	refuses(ENROL(",\"exit_reason\":\"\""), BATON_EVALUE, "enrollment[0].exit_reason: empty");
}

static void test_transcript_v2(void **state)
{
	(void)state;
	accepts(COURSE(",\"grade\":\"A\",\"subject\":\"Mathematics\",\"credit_type\":"
	               "\"Regular\",\"state_course_code\":\"02052\",\"attempt_result\":"
	               "\"pass\",\"grade_level\":\"09\",\"credit_method\":\"Classroom\","
	               "\"status\":\"final\""));
	/* Credit by examination: more earned than attempted. */
	accepts("\"transcript\":[{\"school_year\":\"2025-2026\",\"term\":\"S1\","
	        "\"course_code\":\"M1\",\"course_title\":\"Algebra I\",\"grade\":\"P\","
	        "\"credits_attempted\":0,\"credits_earned\":1.0,"
	        "\"credit_method\":\"Credit by examination\"}]");
	/* Grades in progress for a mid-year move: no grade needed, an as_of allowed. */
	accepts(COURSE(",\"status\":\"in_progress\",\"as_of\":\"2026-01-15\","
	               "\"attempt_result\":\"in_progress\""));
	accepts(COURSE(",\"status\":\"in_progress\",\"grade\":\"B+\""));
	refuses(COURSE(""), BATON_EMISSING,
	        "transcript[0].grade: required field missing (unless status is \"in_progress\")");
	refuses(COURSE(",\"status\":\"final\""), BATON_EMISSING,
	        "transcript[0].grade: required field missing");
	refuses(COURSE(",\"grade\":\"A\",\"as_of\":\"2026-01-15\""), BATON_EVALUE,
	        "transcript[0].as_of: only with status \"in_progress\"");
	refuses(COURSE(",\"grade\":\"A\",\"status\":\"final\",\"as_of\":\"2026-01-15\""),
	        BATON_EVALUE, "transcript[0].as_of: only with status");
	refuses(COURSE(",\"status\":\"in_progress\",\"as_of\":\"2026-02-30\""), BATON_EVALUE,
	        "transcript[0].as_of: \"2026-02-30\" is not a date");
	refuses(COURSE(",\"grade\":\"A\",\"status\":\"done\""), BATON_EVALUE,
	        "transcript[0].status: \"done\" is not one of final, in_progress");
	refuses(COURSE(",\"grade\":\"A\",\"attempt_result\":\"passed\""), BATON_EVALUE,
	        "transcript[0].attempt_result: \"passed\" is not one of pass, fail, incomplete, "
	        "withdrawn, in_progress");
	refuses(COURSE(",\"grade\":\"A\",\"subject\":7"), BATON_ETYPE,
	        "transcript[0].subject: expected a string");
	refuses(COURSE(",\"grade\":\"A\",\"credit_typ\":\"x\""), BATON_EUNKNOWN,
	        "transcript[0].credit_typ: unknown field");
}

static void test_attendance_v2(void **state)
{
	(void)state;
	/* days_enrolled not recorded: no sum to check. */
	accepts(ATTEND(""));
	accepts(ATTEND(",\"days_tardy\":4"));
	accepts(ATTEND(",\"days_enrolled\":73,\"days_tardy\":0"));
	refuses(ATTEND(",\"days_enrolled\":72"), BATON_EVALUE,
	        "attendance[0]: days present and absent (73) exceed days_enrolled (72)");
	refuses(ATTEND(",\"days_tardy\":-1"), BATON_EVALUE,
	        "attendance[0].days_tardy: -1 is out of range");
	refuses(ATTEND(",\"days_tardy\":1.5"), BATON_ETYPE,
	        "attendance[0].days_tardy: expected a whole number");
	refuses("\"attendance\":[{\"school_year\":\"2025-2026\",\"days_enrolled\":80}]",
	        BATON_EMISSING, "attendance[0].days_present: required field missing");
}

static void test_health_v2(void **state)
{
	(void)state;
	/* Allergies and conditions not recorded, or none known: both valid. */
	accepts(HEALTH("\"immunizations\":[]"));
	accepts(HEALTH("\"immunizations\":[],\"allergies\":[],\"conditions\":[]"));
	/* A row without a date is an exemption. */
	accepts(HEALTH("\"immunizations\":[{\"vaccine\":\"Varicella\",\"exemption\":"
	               "\"Medical\"},{\"vaccine\":\"MMR\",\"date\":\"2012-05-01\"},"
	               "{\"vaccine\":\"HepB\",\"date\":\"2012-05-01\",\"exemption\":"
	               "\"Religious\"}]"));
	refuses(HEALTH("\"immunizations\":[{\"vaccine\":\"MMR\",\"date\":\"2012-05-01\"},"
	               "{\"vaccine\":\"Varicella\"}]"),
	        BATON_EMISSING, "health.immunizations[1]: a date or an exemption is required");
	refuses(HEALTH("\"immunizations\":[{\"vaccine\":\"Varicella\",\"exemption\":\"\"}]"),
	        BATON_EVALUE, "health.immunizations[0].exemption: empty");
	refuses(HEALTH("\"immunizations\":[{\"date\":\"2012-05-01\"}]"), BATON_EMISSING,
	        "health.immunizations[0].vaccine: required field missing");
	refuses(HEALTH("\"immunizations\":[],\"allergies\":null"), BATON_ETYPE,
	        "health.allergies: expected an array of strings");
}

static void test_assessments_sped_v2(void **state)
{
	(void)state;
	/* A student absent from a test has no score. */
	accepts("\"assessments\":[{\"name\":\"State Math\",\"subject\":\"Math\","
	        "\"date\":\"2026-03-01\",\"reason_not_tested\":\"Absent\","
	        "\"grade_level\":\"08\"}]");
	refuses("\"assessments\":[{\"name\":\"State Math\",\"subject\":\"Math\","
	        "\"date\":\"2026-03-01\",\"reason_not_tested\":[]}]",
	        BATON_ETYPE, "assessments[0].reason_not_tested: expected a string");
	accepts("\"special_education\":{\"iep\":true}");
	accepts("\"special_education\":{\"iep\":true,\"services\":[\"Speech\"],"
	        "\"setting\":\"Inside regular class 80% or more\",\"hours_per_week\":2.5,"
	        "\"iep_begin_date\":\"2025-09-01\",\"iep_end_date\":\"2026-08-31\","
	        "\"last_evaluation_date\":\"2024-05-10\"}");
	refuses("\"special_education\":{\"iep\":true,\"iep_begin_date\":\"2025-09-01\","
	        "\"iep_end_date\":\"2025-08-31\"}",
	        BATON_EVALUE, "special_education.iep_end_date: before iep_begin_date");
	refuses("\"special_education\":{\"iep\":true,\"hours_per_week\":-1}", BATON_EVALUE,
	        "special_education.hours_per_week: -1 is out of range");
	refuses("\"special_education\":{\"iep\":true,\"last_evaluation_date\":\"2024-13-01\"}",
	        BATON_EVALUE,
	        "special_education.last_evaluation_date: \"2024-13-01\" is not a date");
}

static void test_identity_guardians_v2(void **state)
{
	(void)state;
	accepts("\"guardians\":[{\"name\":\"N\",\"relation\":\"mother\",\"lives_with\":true,"
	        "\"primary_contact\":true,\"emergency_contact\":false,"
	        "\"legal_guardian\":true}]");
	refuses("\"guardians\":[{\"name\":\"N\",\"relation\":\"mother\",\"lives_with\":"
	        "\"yes\"}]",
	        BATON_ETYPE, "guardians[0].lives_with: expected true or false");
	refuses("\"guardians\":[{\"name\":\"N\",\"relation\":\"mother\",\"legal_guardian\":"
	        "1}]",
	        BATON_ETYPE, "guardians[0].legal_guardian: expected true or false");
	/* name_suffix, checked through a whole record of its own. */
	json_t *v = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "student_id", "S-2", "identity",
	                      "given_name", "Luis", "family_name", "Ortega", "birth_date",
	                      "2010-01-02", "name_suffix", "Jr.");
	assert_int_equal(record_validate(v), 0);
	json_object_set_new(json_object_get(v, "identity"), "name_suffix", json_string(""));
	assert_int_equal(record_validate(v), BATON_EVALUE);
	assert_string_equal(baton_diag(),
	                    "identity.name_suffix: empty (leave the key out instead)");
	json_decref(v);
}

static void test_graduation(void **state)
{
	(void)state;
	accepts("\"graduation\":{\"credits_earned\":14.5,\"credits_attempted\":15,"
	        "\"gpa_weighted\":3.85,\"gpa_unweighted\":3.5,\"plan\":\"Recommended\","
	        "\"expected_year\":2029,\"diplomas\":[{\"type\":\"Regular diploma\","
	        "\"date\":\"2029-06-01\",\"level\":\"Honors\",\"description\":\"With "
	        "distinction\"}]}");
	accepts("\"graduation\":{\"expected_year\":2029}");
	accepts("\"graduation\":{\"diplomas\":[]}");
	refuses("\"graduation\":{}", BATON_EMISSING, "graduation: at least one field is required");
	refuses("\"graduation\":[]", BATON_ETYPE, "graduation: expected an object");
	refuses("\"graduation\":{\"expected_year\":2101}", BATON_EVALUE,
	        "graduation.expected_year: 2101 is out of range 1900..2100");
	refuses("\"graduation\":{\"expected_year\":1899}", BATON_EVALUE,
	        "graduation.expected_year: 1899 is out of range");
	refuses("\"graduation\":{\"expected_year\":\"2029\"}", BATON_ETYPE,
	        "graduation.expected_year: expected a year");
	refuses("\"graduation\":{\"expected_year\":2029.0}", BATON_ETYPE,
	        "graduation.expected_year: expected a year");
	refuses("\"graduation\":{\"gpa_weighted\":-0.5}", BATON_EVALUE,
	        "graduation.gpa_weighted: -0.5 is out of range");
	refuses("\"graduation\":{\"diplomas\":[{\"type\":\"Regular\"}]}", BATON_EMISSING,
	        "graduation.diplomas[0].date: required field missing");
	refuses("\"graduation\":{\"diplomas\":[{\"date\":\"2029-06-01\"}]}", BATON_EMISSING,
	        "graduation.diplomas[0].type: required field missing");
	refuses("\"graduation\":{\"class_rank\":3}", BATON_EUNKNOWN,
	        "graduation.class_rank: unknown field");
}

static void test_section_504(void **state)
{
	(void)state;
	accepts("\"section_504\":{\"eligible\":true}");
	accepts("\"section_504\":{\"eligible\":true,\"disability\":\"ADHD\","
	        "\"plan_date\":\"2025-09-10\",\"begin_date\":\"2025-09-10\","
	        "\"end_date\":\"2026-06-10\",\"accommodations\":[\"Extended time\","
	        "\"Preferential seating\"]}");
	refuses("\"section_504\":{\"disability\":\"ADHD\"}", BATON_EMISSING,
	        "section_504.eligible: required field missing");
	refuses("\"section_504\":{\"eligible\":\"true\"}", BATON_ETYPE,
	        "section_504.eligible: expected true or false");
	refuses("\"section_504\":{\"eligible\":true,\"accommodations\":[\"\"]}", BATON_EVALUE,
	        "section_504.accommodations[0]: empty");
	refuses("\"section_504\":{\"eligible\":true,\"begin_date\":\"2025-09-10\","
	        "\"end_date\":\"2025-09-09\"}",
	        BATON_EVALUE, "section_504.end_date: before begin_date");
}

static void test_english_learner(void **state)
{
	(void)state;
	accepts("\"english_learner\":{\"status\":\"Limited\"}");
	accepts("\"english_learner\":{\"status\":\"Limited\",\"home_language\":\"Spanish\","
	        "\"programs\":[{\"name\":\"ESL pull-out\",\"begin_date\":\"2024-09-01\","
	        "\"end_date\":\"2025-06-01\",\"services\":[\"Sheltered instruction\"]}]}");
	refuses("\"english_learner\":{\"home_language\":\"Spanish\"}", BATON_EMISSING,
	        "english_learner.status: required field missing");
	refuses("\"english_learner\":{\"status\":\"Limited\",\"programs\":[{\"name\":\"ESL\"}]}",
	        BATON_EMISSING, "english_learner.programs[0].begin_date: required field missing");
	refuses("\"english_learner\":{\"status\":\"Limited\",\"programs\":[{\"name\":\"ESL\","
	        "\"begin_date\":\"2024-09-01\",\"end_date\":\"2023-06-01\"}]}",
	        BATON_EVALUE, "english_learner.programs[0].end_date: before begin_date");
	refuses("\"english_learner\":{\"status\":\"Limited\",\"programs\":{}}", BATON_ETYPE,
	        "english_learner.programs: expected an array");
}

static void test_homeless(void **state)
{
	(void)state;
	accepts("\"homeless\":{\"begin_date\":\"2025-11-01\"}");
	accepts("\"homeless\":{\"begin_date\":\"2025-11-01\",\"end_date\":\"2026-02-01\","
	        "\"primary_nighttime_residence\":\"Doubled-up\",\"unaccompanied_youth\":false}");
	refuses("\"homeless\":{\"primary_nighttime_residence\":\"Shelter\"}", BATON_EMISSING,
	        "homeless.begin_date: required field missing");
	refuses("\"homeless\":{\"begin_date\":\"2025-11-01\",\"unaccompanied_youth\":\"no\"}",
	        BATON_ETYPE, "homeless.unaccompanied_youth: expected true or false");
	refuses("\"homeless\":{\"begin_date\":\"2025-11-01\",\"end_date\":\"2025-10-01\"}",
	        BATON_EVALUE, "homeless.end_date: before begin_date");
	refuses("\"homeless\":{\"begin_date\":\"2025-11-01\",\"address\":\"1 Main St\"}",
	        BATON_EUNKNOWN, "homeless.address: unknown field");
}

static void test_custody(void **state)
{
	(void)state;
	accepts("\"custody\":[]");
	accepts("\"custody\":[{\"name\":\"Daniel Okafor\",\"restriction\":\"May not pick up "
	        "the student\",\"relation\":\"father\",\"court_order\":\"Case 2025-FL-118\","
	        "\"since\":\"2025-06-30\"},{\"name\":\"R. Smith\",\"restriction\":\"No "
	        "contact\"}]");
	refuses("\"custody\":[{\"restriction\":\"May not pick up the student\"}]", BATON_EMISSING,
	        "custody[0].name: required field missing");
	refuses("\"custody\":[{\"name\":\"D\",\"restriction\":\"No contact\"},{\"name\":\"D\"}]",
	        BATON_EMISSING, "custody[1].restriction: required field missing");
	refuses("\"custody\":[{\"name\":\"D\",\"restriction\":\"No contact\",\"since\":"
	        "\"30/06/2025\"}]",
	        BATON_EVALUE, "custody[0].since: \"30/06/2025\" is not a date");
	refuses("\"custody\":{\"name\":\"D\",\"restriction\":\"No contact\"}", BATON_ETYPE,
	        "custody: expected an array");
	refuses("\"custody\":[{\"name\":\"D\",\"restriction\":\"No contact\",\"phone\":\"5\"}]",
	        BATON_EUNKNOWN, "custody[0].phone: unknown field");
}

static void test_left_out(void **state)
{
	(void)state;
	/* Data minimisation: these are refused by name, never dropped silently. */
	refuses("\"race\":[\"Asian\"]", BATON_EUNKNOWN, "race: unknown field");
	refuses("\"citizenship\":\"US\"", BATON_EUNKNOWN, "citizenship: unknown field");
	refuses("\"free_lunch\":true", BATON_EUNKNOWN, "free_lunch: unknown field");
	refuses("\"guardians\":[{\"name\":\"N\",\"relation\":\"mother\",\"address\":\"1 Main "
	        "St\"}]",
	        BATON_EUNKNOWN, "guardians[0].address: unknown field");
	json_t *v = json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "student_id", "S-2", "identity",
	                      "given_name", "Luis", "family_name", "Ortega", "birth_date",
	                      "2010-01-02", "ssn", "000-00-0000");
	assert_int_equal(record_validate(v), BATON_EUNKNOWN);
	assert_string_equal(baton_diag(), "identity.ssn: unknown field");
	json_decref(v);
}

static void test_sections_alone(void **state)
{
	(void)state;
	/* A received packet's sections are checked one by one, the new ones too. */
	json_t *v = json_loads("[{\"name\":\"D\",\"restriction\":\"No contact\"}]", 0, NULL);
	assert_int_equal(record_validate_section("custody", v), 0);
	json_decref(v);
	v = json_loads("{}", 0, NULL);
	assert_int_equal(record_validate_section("graduation", v), BATON_EMISSING);
	assert_string_equal(baton_diag(),
	                    "graduation: at least one field is required (leave the section out "
	                    "instead)");
	json_decref(v);
	v = json_loads("{\"eligible\":1}", 0, NULL);
	assert_int_equal(record_validate_section("section_504", v), BATON_ETYPE);
	json_decref(v);
	v = json_loads("{\"status\":\"Limited\"}", 0, NULL);
	assert_int_equal(record_validate_section("english_learner", v), 0);
	json_decref(v);
	v = json_loads("{\"begin_date\":\"2025-11-01\"}", 0, NULL);
	assert_int_equal(record_validate_section("homeless", v), 0);
	json_decref(v);
	assert_int_equal(record_validate_section("race", v), BATON_EUNKNOWN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_key_order),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_v1_still_valid),
	    cmocka_unit_test(test_grade_levels),
	    cmocka_unit_test(test_enrollment_v2),
	    cmocka_unit_test(test_transcript_v2),
	    cmocka_unit_test(test_attendance_v2),
	    cmocka_unit_test(test_health_v2),
	    cmocka_unit_test(test_assessments_sped_v2),
	    cmocka_unit_test(test_identity_guardians_v2),
	    cmocka_unit_test(test_graduation),
	    cmocka_unit_test(test_section_504),
	    cmocka_unit_test(test_english_learner),
	    cmocka_unit_test(test_homeless),
	    cmocka_unit_test(test_custody),
	    cmocka_unit_test(test_left_out),
	    cmocka_unit_test(test_sections_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

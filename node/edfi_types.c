/* The types of an Ed-Fi resource's values (see edfi_types.h). */
#include <stdio.h>
#include <string.h>

#include "bti.h"
#include "edfi_types.h"
#include "record.h"

#define PATH_MAX_LEN 200

enum want { W_ANY, W_STRING, W_OBJECT, W_INTEGER, W_DATE, W_BOOLEAN, W_NUMBER, W_ARRAY };

static const char *const booleans[] = {"livesWith", "primaryContactStatus",
                                       "emergencyContactStatus", "legalGuardian", NULL};
static const char *const numbers[] = {"numericGradeEarned", "gradePointAverageValue",
                                      "maxGradePointAverageValue", NULL};
static const char *const arrays[] = {"telephones",
                                     "electronicMails",
                                     "addresses",
                                     "diplomas",
                                     "gradePointAverages",
                                     "scoreResults",
                                     "performanceLevels",
                                     "behaviors",
                                     "earnedAdditionalCredits",
                                     NULL};

static int ends(const char *k, const char *suffix)
{
	size_t n = strlen(k), m = strlen(suffix);
	return n >= m && strcmp(k + n - m, suffix) == 0;
}

static int listed(const char *const *list, const char *k)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], k) == 0)
			return 1;
	return 0;
}

static enum want want_of(const char *k)
{
	if (ends(k, "Descriptor") || ends(k, "UniqueId"))
		return W_STRING;
	if (ends(k, "Reference"))
		return W_OBJECT;
	if (strcmp(k, "schoolId") == 0 || ends(k, "SchoolId") || ends(k, "OrganizationId") ||
	    ends(k, "AgencyId") || strcmp(k, "schoolYear") == 0 || ends(k, "SchoolYear"))
		return W_INTEGER;
	if (ends(k, "Date"))
		return W_DATE;
	if (listed(booleans, k) || ends(k, "Indicator") ||
	    (k[0] == 'i' && k[1] == 's' && k[2] >= 'A' && k[2] <= 'Z'))
		return W_BOOLEAN;
	/* Before "...Credits": earnedAdditionalCredits is a collection, not a number. */
	if (listed(arrays, k))
		return W_ARRAY;
	if (listed(numbers, k) || ends(k, "Credits"))
		return W_NUMBER;
	return W_ANY;
}

/* A real calendar date, or a date-time whose date is one ("2024-05-01T08:00:00Z"). */
static int real_date(const char *s)
{
	char day[11];
	int ymd;
	if (strlen(s) < 10 || (s[10] != '\0' && s[10] != 'T'))
		return 0;
	memcpy(day, s, 10);
	day[10] = '\0';
	return record_date_value(day, &ymd) == 0;
}

static int refuse(const char *where, const char *resource, const char *path, const json_t *v,
                  const char *what)
{
	char *text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
	int r = bti_diag_err(json_is_null(v) || !json_is_string(v) ? BATON_ETYPE : BATON_EVALUE,
	                     "%s: %s.%s: %.60s%s %s", where, resource, path, text ? text : "?",
	                     text && strlen(text) > 60 ? "..." : "", what);
	free(text);
	return r;
}

static int check(const char *where, const char *resource, char *path, size_t len, const char *key,
                 const json_t *v)
{
	const char *k;
	json_t *m;
	size_t i;
	int r;

	if (json_is_null(v))
		return refuse(where, resource, path, v, "is null (leave the key out instead)");
	switch (key ? want_of(key) : W_ANY) {
	case W_STRING:
		if (!json_is_string(v) || json_string_length(v) == 0)
			return refuse(where, resource, path, v, "is not a non-empty string");
		break;
	case W_OBJECT:
		if (!json_is_object(v))
			return refuse(where, resource, path, v, "is not an object (a reference)");
		break;
	case W_INTEGER:
		if (!json_is_integer(v))
			return refuse(where, resource, path, v, "is not an integer");
		break;
	case W_DATE:
		if (!json_is_string(v) || !real_date(json_string_value(v)))
			return refuse(where, resource, path, v, "is not a date (YYYY-MM-DD)");
		break;
	case W_BOOLEAN:
		if (!json_is_boolean(v))
			return refuse(where, resource, path, v, "is not true or false");
		break;
	case W_NUMBER:
		if (!json_is_number(v))
			return refuse(where, resource, path, v, "is not a number");
		break;
	case W_ARRAY:
		if (!json_is_array(v))
			return refuse(where, resource, path, v, "is not an array");
		break;
	case W_ANY:
		break;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, m)
		{
			int n = snprintf(path + len, PATH_MAX_LEN - len, "%s%s", len ? "." : "", k);
			size_t nl = n < 0 || (size_t)n >= PATH_MAX_LEN - len ? PATH_MAX_LEN - 1
			                                                     : len + (size_t)n;
			if ((r = check(where, resource, path, nl, k, m)) != 0)
				return r;
			path[len] = '\0';
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
		{
			int n = snprintf(path + len, PATH_MAX_LEN - len, "[%zu]", i);
			size_t nl = n < 0 || (size_t)n >= PATH_MAX_LEN - len ? PATH_MAX_LEN - 1
			                                                     : len + (size_t)n;
			/* An element of a collection has the collection's element types, not its
			 * own. */
			if ((r = check(where, resource, path, nl, NULL, m)) != 0)
				return r;
			path[len] = '\0';
		}
	}
	return 0;
}

int edfi_check_types(const char *resource, const json_t *obj, const char *where)
{
	char path[PATH_MAX_LEN] = "";
	return check(where, resource, path, 0, NULL, obj);
}

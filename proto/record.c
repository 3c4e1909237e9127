/* Section names, masks and the "all,health" list syntax. */
#include <string.h>

#include "proto_impl.h"

/* By index (the bit of a mask): version 1's nine, then the ones added after. */
static const char *const section_names[BATON_SEC_COUNT] = {
    "assessments",     "attendance", "discipline",        "enrollment",  "guardians",
    "health",          "identity",   "special_education", "transcript",  "custody",
    "english_learner", "graduation", "homeless",          "section_504",
};

/* By ascending bytewise name: the wire order of lists and maps. */
static const baton_section by_name[BATON_SEC_COUNT] = {
    BATON_SEC_ASSESSMENTS,       BATON_SEC_ATTENDANCE,      BATON_SEC_CUSTODY,
    BATON_SEC_DISCIPLINE,        BATON_SEC_ENGLISH_LEARNER, BATON_SEC_ENROLLMENT,
    BATON_SEC_GRADUATION,        BATON_SEC_GUARDIANS,       BATON_SEC_HEALTH,
    BATON_SEC_HOMELESS,          BATON_SEC_IDENTITY,        BATON_SEC_SECTION_504,
    BATON_SEC_SPECIAL_EDUCATION, BATON_SEC_TRANSCRIPT,
};

const char *baton_section_name(baton_section s)
{
	if ((int)s < 0 || s >= BATON_SEC_COUNT)
		return NULL;
	return section_names[s];
}

baton_section baton_section_nth(int i)
{
	return i >= 0 && i < BATON_SEC_COUNT ? by_name[i] : BATON_SEC_COUNT;
}

int baton_section_lookup(const char *name, size_t len, baton_section *s)
{
	for (int i = 0; i < BATON_SEC_COUNT; i++)
		if (strlen(section_names[i]) == len && memcmp(section_names[i], name, len) == 0) {
			*s = (baton_section)i;
			return 0;
		}
	return BATON_ENOTFOUND;
}

int baton_section_sensitive(baton_section s)
{
	return (int)s >= 0 && s < BATON_SEC_COUNT && (BATON_SEC_SENSITIVE_MASK & BATON_SEC_BIT(s));
}

int baton_sections_parse(const char *list, uint32_t *mask)
{
	const char *p = list;

	bti_diag_clear();
	*mask = 0;
	if (list == NULL || *list == '\0')
		return bti_diag_err(BATON_EVALUE, "sections: empty list");
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		baton_section s;
		if (n == 3 && memcmp(p, "all", 3) == 0) {
			*mask |= BATON_SEC_ALL_MASK & ~BATON_SEC_SENSITIVE_MASK;
		} else if (baton_section_lookup(p, n, &s) == 0) {
			*mask |= BATON_SEC_BIT(s);
		} else {
			char names[BATON_SECTIONS_TEXT_MAX + 2 * BATON_SEC_COUNT];
			size_t len = 0;
			for (int i = 0; i < BATON_SEC_COUNT; i++) {
				const char *nm = section_names[by_name[i]];
				memcpy(names + len, ", ", 2);
				memcpy(names + len + 2, nm, strlen(nm) + 1);
				len += 2 + strlen(nm);
			}
			*mask = 0;
			return bti_diag_err(BATON_EVALUE,
			                    "sections: \"%.*s\" is not a section (use all%s)",
			                    (int)n, p, names);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int baton_sections_format(uint32_t mask, char *buf, size_t buflen)
{
	size_t len = 0;

	if (buflen == 0)
		return BATON_EINVAL;
	buf[0] = '\0';
	for (int i = 0; i < BATON_SEC_COUNT; i++) {
		const char *name = section_names[by_name[i]];
		if (!(mask & BATON_SEC_BIT(by_name[i])))
			continue;
		size_t n = strlen(name) + (len ? 1 : 0);
		if (len + n + 1 > buflen)
			return BATON_EINVAL;
		if (len)
			buf[len++] = ',';
		memcpy(buf + len, name, strlen(name) + 1);
		len += strlen(name);
	}
	return 0;
}

/* Section names, masks and the "all,health" list syntax. */
#include <string.h>

#include "proto_impl.h"

static const char *const section_names[BATON_SEC_COUNT] = {
    "assessments", "attendance", "discipline",        "enrollment", "guardians",
    "health",      "identity",   "special_education", "transcript",
};

const char *baton_section_name(baton_section s)
{
	if ((int)s < 0 || s >= BATON_SEC_COUNT)
		return NULL;
	return section_names[s];
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
			*mask = 0;
			return bti_diag_err(
			    BATON_EVALUE,
			    "sections: \"%.*s\" is not a section (use all, assessments, "
			    "attendance, discipline, enrollment, guardians, health, "
			    "identity, special_education, transcript)",
			    (int)n, p);
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
	for (int s = 0; s < BATON_SEC_COUNT; s++) {
		if (!(mask & BATON_SEC_BIT(s)))
			continue;
		size_t n = strlen(section_names[s]) + (len ? 1 : 0);
		if (len + n + 1 > buflen)
			return BATON_EINVAL;
		if (len)
			buf[len++] = ',';
		memcpy(buf + len, section_names[s], strlen(section_names[s]) + 1);
		len += strlen(section_names[s]);
	}
	return 0;
}

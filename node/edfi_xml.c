/*
 * Ed-Fi bulk interchange XML to the Ed-Fi API's JSON resources (edfi_xml.h).
 *
 * Each resource element is read with libxml2's streaming reader into a
 * small tree of its own (bounded by the caps), converted by the schema's
 * tables (edfi_xml_schema.h: for each complex type, each element's kind,
 * type and whether it repeats) and freed before the next one is read.
 *
 * The API's names follow from the schema's: an element's name in camelCase;
 * a descriptor's with "Descriptor" appended; a repeated element is an array
 * under the plural of its name (less its parent's name where it starts
 * with it: Assessment/AssessmentIdentificationCode -> "identificationCodes"),
 * whose items are objects (a repeated descriptor -> [{"gradeLevelDescriptor":
 * ...}]); a reference is an object of its identity's fields, nested
 * references flattened; the common types the API inlines (Name, BirthData,
 * Citizenship, AttendanceEvent, Achievement, DualCredit, StudentBusDetails,
 * and Credits with its role name as prefix: EarnedCredits/CreditType ->
 * "earnedCreditTypeDescriptor") are merged into their parent; values are
 * typed as the schema types them (xs:int, xs:decimal, xs:boolean as JSON
 * numbers and booleans, xs:date checked as YYYY-MM-DD), and a school year
 * "2025-2026" is the API's 2026, under "schoolYearTypeReference" where it is
 * a resource's own field and flattened where it is part of a reference.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#include <baton/error.h>

#include "bti.h"
#include "edfi_xml.h"

enum exk {
	EXK_STRING,
	EXK_INT,
	EXK_DEC,
	EXK_BOOL,
	EXK_DATE,
	EXK_YEAR,
	EXK_DESC,
	EXK_REF,
	EXK_COMMON,
	EXK_IDENTITY,
	EXK_LOOKUP
};

struct exs_child {
	const char *parent; /* the complex type */
	const char *name;   /* the element's local name */
	const char *decl;   /* the type that declares it (parent or a base) */
	const char *type;   /* complex type, descriptor or referenced entity */
	enum exk kind;
	int many; /* maxOccurs > 1 */
};
struct exs_top {
	const char *name, *type;
};
struct exs_identity {
	const char *entity, *fields; /* fields: comma-separated API names */
};

#include "edfi_xml_schema.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The resources this reader hands on: interchange element -> API resource. */
static const char *const carried[] = {
    "Assessment",
    "Calendar",
    "CalendarDate",
    "Contact",
    "Course",
    "CourseTranscript",
    "DisciplineAction",
    "DisciplineIncident",
    "Grade",
    "GradingPeriod",
    "GraduationPlan",
    "LocalEducationAgency",
    "ObjectiveAssessment",
    "Parent",
    "ReportCard",
    "School",
    "Section",
    "Session",
    "Student",
    "StudentAcademicRecord",
    "StudentAssessment",
    "StudentContactAssociation",
    "StudentDisciplineIncidentBehaviorAssociation",
    "StudentEducationOrganizationAssociation",
    "StudentHealth",
    "StudentHomelessProgramAssociation",
    "StudentLanguageInstructionProgramAssociation",
    "StudentParentAssociation",
    "StudentSchoolAssociation",
    "StudentSchoolAttendanceEvent",
    "StudentSection504ProgramAssociation",
    "StudentSpecialEducationProgramAssociation",
};

/* The common types the API merges into their parent. */
static const char *const inlined[] = {
    "Achievement", "AttendanceEvent", "BirthData",         "Citizenship",
    "Credits",     "DualCredit",      "StudentBusDetails", "Name",
};

/* One element as read: its name, text, id/ref attributes and children. */
struct xn {
	char *name;
	char *text;
	size_t tlen;
	char *id, *ref;
	int line;
	unsigned nchild;
	struct xn *first, *last, *next;
};

struct ctx {
	const char *file; /* the file's name, for messages */
	edfi_sink sink;
	edfi_xml_skipped skipped;
	void *arg;
	json_t *ids;      /* id -> identity object (pass 1), shared by the files */
	json_t *reported; /* names already told to skipped */
	size_t nids;
	int pass;    /* 1: remember identities; 2: check; 3: convert and hand on */
	size_t used; /* bytes of the resource being read */
	char xmlerr[256];
	int xmlerr_line;
	int xml_failed; /* libxml2 stopped reading the file */
};

/* ---- names ---------------------------------------------------------- */

/* DS 4 names of the contact entities: looked up as their DS 5 namesakes. */
static const char *ds5_name(const char *name, char *buf, size_t cap)
{
	const char *p = strstr(name, "Parent");
	if (p == NULL || strlen(name) + 2 > cap)
		return name;
	snprintf(buf, cap, "%.*sContact%s", (int)(p - name), name, p + 6);
	return buf;
}

static int cmp_child(const char *parent, const char *name, const struct exs_child *c)
{
	int r = strcmp(parent, c->parent);
	return r != 0 ? r : strcmp(name, c->name);
}

static const struct exs_child *child_row(const char *parent, const char *name)
{
	char buf[128];
	for (int round = 0; round < 2; round++) {
		size_t lo = 0, hi = N_OF(exs_children);
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			int r = cmp_child(parent, name, &exs_children[mid]);
			if (r == 0)
				return &exs_children[mid];
			if (r < 0)
				hi = mid;
			else
				lo = mid + 1;
		}
		const char *alt = ds5_name(name, buf, sizeof(buf));
		if (alt == name)
			break;
		name = alt;
	}
	return NULL;
}

static const char *top_type(const char *name)
{
	char buf[128];
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < N_OF(exs_tops); i++)
			if (strcmp(exs_tops[i].name, name) == 0)
				return exs_tops[i].type;
		const char *alt = ds5_name(name, buf, sizeof(buf));
		if (alt == name)
			break;
		name = alt;
	}
	return NULL;
}

static int is_carried(const char *name)
{
	for (size_t i = 0; i < N_OF(carried); i++)
		if (strcmp(carried[i], name) == 0)
			return 1;
	return 0;
}

static int is_inlined(const char *type)
{
	for (size_t i = 0; i < N_OF(inlined); i++)
		if (strcmp(inlined[i], type) == 0)
			return 1;
	return 0;
}

/* The identity's field names of entity (with DS 4's "parent" for "contact"). */
static int identity_fields(const char *entity, char *out, size_t cap)
{
	char buf[128];
	const char *e = ds5_name(entity, buf, sizeof(buf));
	for (size_t i = 0; i < N_OF(exs_identities); i++) {
		if (strcmp(exs_identities[i].entity, e) != 0)
			continue;
		if (strlen(exs_identities[i].fields) >= cap)
			return -1;
		strcpy(out, exs_identities[i].fields);
		if (e != entity) { /* contactUniqueId -> parentUniqueId */
			char *p;
			while ((p = strstr(out, "contact")) != NULL)
				memcpy(p, "parent", 6), memmove(p + 6, p + 7, strlen(p + 7) + 1);
		}
		return 0;
	}
	return -1;
}

/* camelCase of prefix+name (+ suffix) into out. */
static void api_name(char *out, size_t cap, const char *prefix, const char *name,
                     const char *suffix)
{
	snprintf(out, cap, "%s%s%s", prefix, name, suffix);
	/* A leading acronym is lowered whole: IEPBeginDate -> iepBeginDate. */
	size_t run = 0;
	while (isupper((unsigned char)out[run]))
		run++;
	if (run > 1 && out[run] != 0)
		run--;
	for (size_t i = 0; i < run || i == 0; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

/* The plural of a camelCase name, in place (address -> addresses, category ->
 * categories, status -> statuses; credits stays credits). */
static void pluralize(char *s, size_t cap)
{
	size_t n = strlen(s);
	if (n == 0 || n + 3 >= cap)
		return;
	char last = s[n - 1], before = n > 1 ? s[n - 2] : 0;
	if (last == 'y' && before && !strchr("aeiou", before))
		strcpy(s + n - 1, "ies");
	else if (last == 's' && before != 's' && before != 'u')
		return; /* already plural: earnedAdditionalCredits, partial...Awards */
	else if (last == 's' || last == 'x' || (last == 'h' && (before == 's' || before == 'c')))
		strcpy(s + n, "es");
	else
		strcpy(s + n, "s");
}

/* name less a leading parent (or declaring type) name, when a word follows it. */
static const char *strip_parent(const char *name, const struct exs_child *row)
{
	const char *types[2] = {row->parent, row->decl};
	for (int i = 0; i < 2; i++) {
		size_t n = strlen(types[i]);
		if (strncmp(name, types[i], n) == 0 && isupper((unsigned char)name[n]))
			return name + n;
	}
	return name;
}

/*
 * A collection's item named after its owner, as the API names it: inside an
 * item of a resource, the owner's name or the end of it, where the item's
 * name begins with it, is dropped
 * (Language/LanguageUse -> "uses", RequiredImmunization/ImmunizationDate ->
 * "dates").
 */
static const char *strip_owner(const char *name, const struct exs_child *row)
{
	const char *p = row->parent;
	/* A resource's own collections keep their names (School/SchoolCategory ->
	 * "schoolCategories"); only a collection inside an item is named short. */
	for (size_t i = 0; i < N_OF(exs_tops); i++)
		if (strcmp(exs_tops[i].type, row->parent) == 0)
			return name;
	for (; *p; p++) {
		size_t n = strlen(p);
		if (isupper((unsigned char)*p) && strncmp(name, p, n) == 0 &&
		    isupper((unsigned char)name[n]))
			return name + n;
	}
	return name;
}

/* ---- messages ------------------------------------------------------- */

static void skipped(struct ctx *c, const char *name, int line)
{
	/* Once per name, and at most 1000 names (a hostile file may hold millions);
	 * not while remembering identities (pass 1 reads resources not carried). */
	if (c->skipped == NULL || c->pass == 1 || json_object_get(c->reported, name) != NULL ||
	    json_object_size(c->reported) >= 1000)
		return;
	json_object_set_new(c->reported, name, json_true());
	char where[512];
	snprintf(where, sizeof(where), "%s:%d", c->file, line);
	c->skipped(c->arg, name, where);
}

__attribute__((format(printf, 4, 5))) static int fail(struct ctx *c, int err, int line,
                                                      const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return bti_diag_err(err, "%s:%d: %s", c->file, line, msg);
}

/* ---- the element tree ----------------------------------------------- */

static void xn_free(struct xn *n)
{
	while (n != NULL) {
		struct xn *next = n->next;
		xn_free(n->first);
		free(n->name);
		free(n->text);
		free(n->id);
		free(n->ref);
		free(n);
		n = next;
	}
}

static int charge(struct ctx *c, size_t bytes, int line)
{
	c->used += bytes;
	if (c->used > EDFI_XML_RESOURCE_MAX)
		return fail(c, BATON_EVALUE, line, "a resource element is over %u bytes",
		            EDFI_XML_RESOURCE_MAX);
	return 0;
}

static void xml_error(void *arg, xmlErrorPtr e)
{
	struct ctx *c = arg;
	if (e == NULL || c->xmlerr[0] != 0 || e->level < XML_ERR_ERROR)
		return;
	snprintf(c->xmlerr, sizeof(c->xmlerr), "%s", e->message ? e->message : "XML error");
	size_t n = strlen(c->xmlerr);
	while (n > 0 && (c->xmlerr[n - 1] == '\n' || c->xmlerr[n - 1] == ' '))
		c->xmlerr[--n] = 0;
	c->xmlerr_line = e->line;
}

/* The line of the reader's current node (else of the parser). */
static int node_line(xmlTextReaderPtr rd)
{
	xmlNodePtr node = xmlTextReaderCurrentNode(rd);
	long line = node != NULL ? xmlGetLineNo(node) : -1;
	return line > 0 && line < 0x7fffffff ? (int)line : xmlTextReaderGetParserLineNumber(rd);
}

/* The prolog's bytes, from a file or from memory. */
struct prolog {
	FILE *f;
	const unsigned char *p, *end;
};

static int prolog_next(struct prolog *pr)
{
	if (pr->f != NULL)
		return getc_unlocked(pr->f);
	return pr->p < pr->end ? *pr->p++ : EOF;
}

/*
 * Refuses a DOCTYPE before libxml2 sees it: reads the prolog (a byte order
 * mark, the XML declaration, comments, processing instructions, white space)
 * up to the root element, however long, a byte at a time. Returns 0 (the
 * root element or something that is not a prolog's: the parser decides), or
 * BATON_EVALUE naming the DOCTYPE's line.
 */
static int refuse_doctype(struct ctx *c, struct prolog *pr)
{
	int line = 1, ch = prolog_next(pr);
	if (ch == 0xEF && prolog_next(pr) == 0xBB && prolog_next(pr) == 0xBF)
		ch = prolog_next(pr);
	for (;; ch = prolog_next(pr)) {
		if (ch == '\n') {
			line++;
			continue;
		}
		if (ch == ' ' || ch == '\t' || ch == '\r')
			continue;
		if (ch != '<')
			return 0;
		ch = prolog_next(pr);
		if (ch == '?') { /* up to "?>" */
			int prev = 0;
			while ((ch = prolog_next(pr)) != EOF && !(prev == '?' && ch == '>')) {
				line += ch == '\n';
				prev = ch;
			}
		} else if (ch == '!') {
			char word[8] = {0};
			for (int i = 0; i < 7 && (ch = prolog_next(pr)) != EOF; i++) {
				word[i] = (char)ch;
				if (i == 1 && memcmp(word, "--", 2) == 0)
					break;
			}
			if (memcmp(word, "DOCTYPE", 7) == 0)
				return fail(
				    c, BATON_EVALUE, line,
				    "a DOCTYPE is refused (an interchange file has none; entity "
				    "declarations in one are how XML bombs and external "
				    "entities get in)");
			if (memcmp(word, "--", 2) != 0)
				return 0;
			int p1 = 0, p2 = 0; /* up to "-->" */
			while ((ch = prolog_next(pr)) != EOF &&
			       !(p2 == '-' && p1 == '-' && ch == '>')) {
				line += ch == '\n';
				p2 = p1;
				p1 = ch;
			}
		} else {
			return 0;
		}
		if (ch == EOF)
			return 0;
	}
}

/* Reads the current element (the reader is on its start) and its subtree into *out. */
static int read_element(struct ctx *c, xmlTextReaderPtr rd, struct xn **out)
{
	struct xn *stack[EDFI_XML_DEPTH_MAX + 1];
	int base = xmlTextReaderDepth(rd), top = -1, r = 0;
	*out = NULL;
	c->used = 0;
	for (;;) {
		int type = xmlTextReaderNodeType(rd);
		int line = node_line(rd);
		if (type == XML_READER_TYPE_ELEMENT) {
			int depth = xmlTextReaderDepth(rd) - base;
			if (depth != top + 1)
				return fail(c, BATON_EINTERNAL, line, "reader depth out of step");
			if (xmlTextReaderDepth(rd) >= EDFI_XML_DEPTH_MAX)
				return fail(c, BATON_EVALUE, line, "elements nested over %d deep",
				            EDFI_XML_DEPTH_MAX);
			const char *name = (const char *)xmlTextReaderConstLocalName(rd);
			struct xn *n = calloc(1, sizeof(*n));
			if (n == NULL)
				return BATON_ENOMEM;
			n->line = line;
			n->name = strdup(name ? name : "");
			n->id = (char *)xmlTextReaderGetAttribute(rd, BAD_CAST "id");
			n->ref = (char *)xmlTextReaderGetAttribute(rd, BAD_CAST "ref");
			if (top < 0) {
				*out = n;
			} else {
				struct xn *p = stack[top];
				if (++p->nchild > EDFI_XML_CHILDREN_MAX) {
					xn_free(n);
					return fail(c, BATON_EVALUE, line,
					            "<%s> has over %d child elements", p->name,
					            EDFI_XML_CHILDREN_MAX);
				}
				if (p->last)
					p->last->next = n;
				else
					p->first = n;
				p->last = n;
			}
			if (n->name == NULL)
				return BATON_ENOMEM;
			r = charge(c,
			           sizeof(*n) + strlen(n->name) + (n->id ? strlen(n->id) : 0) +
			               (n->ref ? strlen(n->ref) : 0),
			           line);
			if (r != 0)
				return r;
			if (!xmlTextReaderIsEmptyElement(rd))
				stack[++top] = n;
			else if (top < 0)
				return 0;
		} else if (type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
		           type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) {
			const char *v = (const char *)xmlTextReaderConstValue(rd);
			size_t len = v ? strlen(v) : 0;
			struct xn *p = stack[top];
			if (p->tlen + len > EDFI_XML_TEXT_MAX)
				return fail(c, BATON_EVALUE, line, "<%s>'s text is over %u bytes",
				            p->name, EDFI_XML_TEXT_MAX);
			if ((r = charge(c, len, line)) != 0)
				return r;
			char *t = realloc(p->text, p->tlen + len + 1);
			if (t == NULL)
				return BATON_ENOMEM;
			memcpy(t + p->tlen, v, len);
			p->tlen += len;
			t[p->tlen] = 0;
			p->text = t;
		} else if (type == XML_READER_TYPE_END_ELEMENT) {
			if (--top < 0)
				return 0;
		} else if (type == XML_READER_TYPE_ENTITY_REFERENCE) {
			return fail(c, BATON_EVALUE, line,
			            "an entity reference (entities are refused)");
		}
		int got = xmlTextReaderRead(rd);
		if (got == 0)
			return fail(c, BATON_EVALUE, line, "the file ends inside <%s>",
			            (*out)->name);
		if (got != 1) {
			c->xml_failed = 1; /* the caller names libxml2's error */
			return BATON_EVALUE;
		}
	}
}

/* ---- conversion ----------------------------------------------------- */

/* The text of n without surrounding white space ("" when none), in place. */
static const char *text_of(struct xn *n)
{
	if (n->text == NULL)
		return "";
	char *s = n->text;
	while (*s && isspace((unsigned char)*s))
		s++;
	size_t len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		s[--len] = 0;
	return s;
}

static int valid_date(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	int m = (s[5] - '0') * 10 + s[6] - '0', d = (s[8] - '0') * 10 + s[9] - '0';
	return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

static int scalar(struct ctx *c, struct xn *n, enum exk kind, json_t **out)
{
	const char *s = text_of(n);
	char *end;
	*out = NULL;
	if (n->first != NULL)
		return fail(c, BATON_EVALUE, n->line, "<%s> holds elements where a value belongs",
		            n->name);
	switch (kind) {
	case EXK_INT: {
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (*s == 0 || *end != 0 || errno != 0)
			return fail(c, BATON_EVALUE, n->line, "<%s> is \"%.40s\", not an integer",
			            n->name, s);
		*out = json_integer(v);
		break;
	}
	case EXK_DEC: {
		errno = 0;
		double v = strtod(s, &end);
		if (*s == 0 || *end != 0 || errno != 0 || strchr(s, 'x') || strchr(s, 'X') ||
		    strpbrk(s, "nNiI"))
			return fail(c, BATON_EVALUE, n->line, "<%s> is \"%.40s\", not a number",
			            n->name, s);
		*out = json_real(v);
		break;
	}
	case EXK_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0)
			*out = json_true();
		else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0)
			*out = json_false();
		else
			return fail(c, BATON_EVALUE, n->line,
			            "<%s> is \"%.40s\", not true or false", n->name, s);
		break;
	case EXK_YEAR: /* "2021-2022" -> 2022, as the API gives a school year */
		if (strlen(s) != 9 || s[4] != '-' || strspn(s, "0123456789") != 4 ||
		    strspn(s + 5, "0123456789") != 4 || atoi(s + 5) != atoi(s) + 1)
			return fail(c, BATON_EVALUE, n->line,
			            "<%s> is \"%.40s\", not a school year YYYY-YYYY", n->name, s);
		*out = json_integer(atoi(s + 5));
		break;
	case EXK_DATE:
		if (!valid_date(s))
			return fail(c, BATON_EVALUE, n->line,
			            "<%s> is \"%.40s\", not a YYYY-MM-DD date", n->name, s);
		*out = json_string(s);
		break;
	default:
		*out = json_string(s);
		break;
	}
	if (*out == NULL)
		return fail(c, BATON_EVALUE, n->line, "<%s> is not valid UTF-8 text", n->name);
	return 0;
}

/* Appends item to the array obj[key], made when absent. */
static int push(json_t *obj, const char *key, json_t *item)
{
	json_t *a = json_object_get(obj, key);
	if (a == NULL) {
		a = json_array();
		if (a == NULL || json_object_set_new(obj, key, a) != 0) {
			json_decref(item);
			return BATON_ENOMEM;
		}
	}
	if (!json_is_array(a)) {
		json_decref(item);
		return BATON_EVALUE;
	}
	return json_array_append_new(a, item) == 0 ? 0 : BATON_ENOMEM;
}

/* Copies the keys of from that obj lacks. */
static void merge_missing(json_t *obj, json_t *from)
{
	const char *k;
	json_t *v;
	json_object_foreach(from, k, v)
	{
		if (json_object_get(obj, k) == NULL)
			json_object_set(obj, k, v);
	}
}

#define PENDING "\x01ref"
#define ELEMENT "\x01element" /* the kind of element an identity is of */

static int lookup_identity(struct ctx *c, const char *id, int depth, json_t **out);

/* The identity of the element with id, its pending references resolved. */
static int lookup_identity(struct ctx *c, const char *id, int depth, json_t **out)
{
	*out = NULL;
	json_t *stored = json_object_get(c->ids, id);
	if (stored == NULL || depth > 8)
		return BATON_ENOTFOUND;
	json_t *idn = json_deep_copy(stored);
	if (idn == NULL)
		return BATON_ENOMEM;
	json_t *pend = json_object_get(idn, PENDING);
	if (pend != NULL) {
		json_incref(pend);
		json_object_del(idn, PENDING);
		size_t i;
		json_t *v;
		json_array_foreach(pend, i, v)
		{
			json_t *sub;
			if (lookup_identity(c, json_string_value(v), depth + 1, &sub) == 0) {
				merge_missing(idn, sub);
				json_decref(sub);
			}
		}
		json_decref(pend);
	}
	*out = idn;
	return 0;
}

static int convert_into(struct ctx *c, json_t *obj, struct xn *node, const char *type,
                        const char *prefix, int depth);

/* The kinds of education organization, whose one identity field an
 * EducationOrganizationReference names educationOrganizationId. */
static const char *const edorgs[] = {
    "CommunityOrganization",        "CommunityProvider",
    "EducationOrganizationNetwork", "EducationServiceCenter",
    "LocalEducationAgency",         "OrganizationDepartment",
    "PostSecondaryInstitution",     "School",
    "StateEducationAgency",
};

/* The identity idn (taken from the element with id n->ref) as a reference to
 * entity: its kind must be entity's, or an education organization's kind. */
static int retype(struct ctx *c, struct xn *n, const char *entity, json_t *idn, json_t **out)
{
	char a[128], b[128];
	json_t *el = json_object_get(idn, ELEMENT);
	const char *kind = json_string_value(el);
	*out = NULL;
	if (kind == NULL ||
	    strcmp(ds5_name(kind, a, sizeof(a)), ds5_name(entity, b, sizeof(b))) == 0) {
		json_object_del(idn, ELEMENT);
		*out = idn;
		return 0;
	}
	int sub = 0;
	for (size_t i = 0; strcmp(entity, "EducationOrganization") == 0 && i < N_OF(edorgs); i++)
		sub |= strcmp(kind, edorgs[i]) == 0;
	if (!sub || json_object_size(idn) != 2) {
		int r =
		    fail(c, BATON_EVALUE, n->line, "<%s ref=\"%.60s\"> names a <%.60s>, not a %s",
		         n->name, n->ref, kind, entity);
		json_decref(idn);
		return r;
	}
	json_object_del(idn, ELEMENT);
	json_t *v = json_object_iter_value(json_object_iter(idn));
	json_t *renamed = json_object();
	if (renamed == NULL || json_object_set(renamed, "educationOrganizationId", v) != 0) {
		json_decref(idn);
		json_decref(renamed);
		return BATON_ENOMEM;
	}
	json_decref(idn);
	*out = renamed;
	return 0;
}

/* The identity fields of a reference element to entity. */
static int reference(struct ctx *c, struct xn *n, const char *entity, json_t **out)
{
	json_t *obj = json_object();
	*out = NULL;
	if (obj == NULL)
		return BATON_ENOMEM;
	if (n->ref != NULL && n->first == NULL) {
		json_t *idn;
		int r = lookup_identity(c, n->ref, 0, &idn);
		if (r == BATON_ENOTFOUND && c->pass == 1) {
			/* resolved when the identities are all known */
			json_object_set_new(obj, PENDING, json_string(n->ref));
			*out = obj;
			return 0;
		}
		if (r != 0) {
			json_decref(obj);
			return r == BATON_ENOTFOUND
			           ? fail(c, r, n->line,
			                  "<%s ref=\"%.60s\">: no element has id=\"%.60s\"",
			                  n->name, n->ref, n->ref)
			           : r;
		}
		json_decref(obj);
		return retype(c, n, entity, idn, out);
	}
	for (struct xn *k = n->first; k != NULL; k = k->next) {
		size_t len = strlen(k->name);
		char itype[160];
		if (len > 8 && strcmp(k->name + len - 8, "Identity") == 0 && len < 120) {
			snprintf(itype, sizeof(itype), "%sType", k->name);
			char buf[160];
			const char *t = ds5_name(itype, buf, sizeof(buf));
			int r = convert_into(c, obj, k, t, "", 0);
			if (r != 0) {
				json_decref(obj);
				return r;
			}
		} else {
			char name[300];
			snprintf(name, sizeof(name), "%s/%s", n->name, k->name);
			skipped(c, name, k->line);
		}
	}
	if (json_object_size(obj) == 0) {
		json_decref(obj);
		return fail(c, BATON_EVALUE, n->line,
		            "<%s> holds neither an identity nor ref=", n->name);
	}
	*out = obj;
	return 0;
}

/* Converts node's children (node is of complex type type) into obj. */
static int convert_into(struct ctx *c, json_t *obj, struct xn *node, const char *type,
                        const char *prefix, int depth)
{
	char key[300], buf[300];
	int r = 0;
	if (depth > EDFI_XML_DEPTH_MAX)
		return fail(c, BATON_EVALUE, node->line, "elements nested too deep");
	for (struct xn *k = node->first; k != NULL && r == 0; k = k->next) {
		const struct exs_child *row = child_row(type, k->name);
		int identity = strstr(type, "IdentityType") != NULL;
		if (row == NULL || row->kind == EXK_LOOKUP) {
			snprintf(key, sizeof(key), "%s/%s", node->name, k->name);
			skipped(c, key, k->line);
			continue;
		}
		json_t *v = NULL;
		switch (row->kind) {
		case EXK_COMMON:
		case EXK_IDENTITY:
			if (k->first == NULL && text_of(k)[0] != 0)
				return fail(c, BATON_EVALUE, k->line,
				            "<%s> holds text where elements belong", k->name);
			if (is_inlined(row->type) && !row->many) {
				char pre[200];
				snprintf(pre, sizeof(pre), "%s", prefix);
				if (strcmp(row->type, "Credits") == 0) {
					size_t n = strlen(k->name);
					if (n >= 7 && strcmp(k->name + n - 7, "Credits") == 0)
						snprintf(pre, sizeof(pre), "%s%.*s", prefix,
						         (int)(n - 7), k->name);
				}
				r = convert_into(c, obj, k, row->type, pre, depth + 1);
				continue;
			}
			v = json_object();
			if (v == NULL)
				return BATON_ENOMEM;
			r = convert_into(c, v, k, row->type, "", depth + 1);
			if (r != 0) {
				json_decref(v);
				return r;
			}
			api_name(key, sizeof(key), prefix, strip_parent(k->name, row), "");
			break;
		case EXK_REF:
			if ((r = reference(c, k, row->type, &v)) != 0)
				return r;
			if (identity) { /* a reference within an identity: its fields, flattened */
				json_t *p = json_object_get(v, PENDING);
				if (p != NULL)
					json_object_set(obj, PENDING, p);
				merge_missing(obj, v);
				json_decref(v);
				continue;
			}
			api_name(key, sizeof(key), prefix, k->name, "");
			break;
		case EXK_DESC:
			if ((r = scalar(c, k, row->kind, &v)) != 0)
				return r;
			api_name(key, sizeof(key), prefix, k->name, "Descriptor");
			if (row->many) {
				json_t *item = json_object();
				api_name(buf, sizeof(buf), "", row->type, "Descriptor");
				json_object_set_new(item, buf, v);
				v = item;
			}
			break;
		default:
			if ((r = scalar(c, k, row->kind, &v)) != 0)
				return r;
			api_name(key, sizeof(key), prefix, k->name, "");
			if (row->kind == EXK_YEAR && depth == 0 && !identity && !row->many) {
				/* a resource's school year: "xxxTypeReference": {"schoolYear": N}
				 */
				json_t *ref = json_object();
				if (ref == NULL || json_object_set_new(ref, "schoolYear", v) != 0) {
					json_decref(ref);
					return BATON_ENOMEM;
				}
				v = ref;
				api_name(key, sizeof(key), prefix, k->name, "TypeReference");
			}
			if (row->many) {
				json_t *item = json_object();
				json_object_set_new(item, key, v);
				v = item;
			}
			break;
		}
		if (row->many) {
			if (row->kind == EXK_COMMON)
				api_name(key, sizeof(key), prefix, strip_parent(k->name, row), "");
			else if (row->kind == EXK_DESC || row->kind == EXK_DATE)
				api_name(key, sizeof(key), prefix, strip_owner(k->name, row), "");
			else if (row->kind == EXK_REF) {
				/* [{"xxxReference": {...}}] under "xxxs" */
				json_t *item = json_object();
				json_object_set_new(item, key, v);
				v = item;
				size_t n = strlen(key);
				if (n > 9 && strcmp(key + n - 9, "Reference") == 0)
					key[n - 9] = 0;
			}
			pluralize(key, sizeof(key));
			if (push(obj, key, v) != 0)
				return fail(c, BATON_EVALUE, k->line, "<%s> clashes with %s",
				            k->name, key);
		} else if (json_object_get(obj, key) != NULL) {
			json_decref(v);
			return fail(c, BATON_EVALUE, k->line, "<%s> appears twice in <%s>", k->name,
			            node->name);
		} else if (json_object_set_new(obj, key, v) != 0) {
			return BATON_ENOMEM;
		}
	}
	return r;
}

/* The identity of a converted element of type type, for ids: its own
 * identity fields, from obj or its references. */
static json_t *identity_of(const char *type, json_t *obj)
{
	char fields[512];
	json_t *idn = json_object();
	if (idn == NULL || identity_fields(type, fields, sizeof(fields)) != 0)
		return idn;
	json_t *pend = json_array();
	char *save = NULL;
	for (char *f = strtok_r(fields, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		json_t *v = json_object_get(obj, f);
		if (v == NULL) { /* graduationSchoolYear: graduationSchoolYearTypeReference */
			char ref[300];
			snprintf(ref, sizeof(ref), "%sTypeReference", f);
			v = json_object_get(json_object_get(obj, ref), "schoolYear");
		}
		if (v == NULL) {
			const char *k;
			json_t *sub;
			json_object_foreach(obj, k, sub)
			{
				if (json_is_object(sub) && (v = json_object_get(sub, f)) != NULL)
					break;
			}
		}
		if (v != NULL)
			json_object_set(idn, f, v);
	}
	const char *k;
	json_t *sub;
	json_object_foreach(obj, k, sub)
	{
		json_t *p = json_is_object(sub) ? json_object_get(sub, PENDING) : NULL;
		if (p != NULL)
			json_array_append(pend, p);
	}
	if (json_array_size(pend) > 0)
		json_object_set(idn, PENDING, pend);
	json_decref(pend);
	return idn;
}

static void resource_name(const char *element, char *out, size_t cap)
{
	api_name(out, cap, "", element, "");
	pluralize(out, cap);
}

/* One resource element, read: its identity remembered (pass 1), converted to
 * check it (pass 2), or converted and handed on (pass 3). */
static int resource(struct ctx *c, struct xn *n)
{
	const char *type = top_type(n->name);
	if (type == NULL) {
		skipped(c, n->name, n->line);
		return 0;
	}
	int carry = is_carried(n->name);
	if (c->pass == 1 ? n->id == NULL : !carry) {
		if (c->pass == 2)
			skipped(c, n->name, n->line);
		return 0;
	}
	char buf[160];
	const char *t = ds5_name(type, buf, sizeof(buf));
	json_t *obj = json_object();
	if (obj == NULL)
		return BATON_ENOMEM;
	int r = convert_into(c, obj, n, t, "", 0);
	if (r == 0 && c->pass == 1) {
		if (json_object_get(c->ids, n->id) != NULL)
			r = fail(c, BATON_EVALUE, n->line, "id=\"%.60s\" is used twice", n->id);
		else if (++c->nids > EDFI_XML_IDS_MAX)
			r = fail(c, BATON_EVALUE, n->line, "over %d elements with an id",
			         EDFI_XML_IDS_MAX);
		else {
			json_t *idn = identity_of(n->name, obj);
			if (idn == NULL ||
			    json_object_set_new(idn, ELEMENT, json_string(n->name)) != 0 ||
			    json_object_set_new(c->ids, n->id, idn) != 0)
				r = BATON_ENOMEM;
		}
	} else if (r == 0 && c->pass == 3) {
		char res[160], where[512];
		resource_name(n->name, res, sizeof(res));
		snprintf(where, sizeof(where), "%s:%d", c->file, n->line);
		r = c->sink(c->arg, res, obj, where);
	}
	json_decref(obj);
	return r;
}

/* Reads one file (or buffer) with rd, which it frees. */
static int read_reader(struct ctx *c, xmlTextReaderPtr rd)
{
	int r = 0, got, seen_root = 0;
	if (rd == NULL)
		return bti_diag_err(BATON_EIO, "%s: cannot be opened", c->file);
	c->xmlerr[0] = 0;
	c->xml_failed = 0;
	xmlTextReaderSetStructuredErrorHandler(rd, xml_error, c);
	while (r == 0 && (got = xmlTextReaderRead(rd)) == 1) {
		int type = xmlTextReaderNodeType(rd);
		int line = node_line(rd);
		int depth = xmlTextReaderDepth(rd);
		if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
			r = fail(
			    c, BATON_EVALUE, line,
			    "a DOCTYPE is refused (an interchange file has none; entity "
			    "declarations in one are how XML bombs and external entities get in)");
		} else if (type == XML_READER_TYPE_ENTITY_REFERENCE ||
		           type == XML_READER_TYPE_ENTITY) {
			r = fail(c, BATON_EVALUE, line,
			         "an entity reference (entities are refused)");
		} else if (type == XML_READER_TYPE_ELEMENT && depth == 0) {
			const char *name = (const char *)xmlTextReaderConstLocalName(rd);
			if (name == NULL || strncmp(name, "Interchange", 11) != 0)
				r = fail(c, BATON_EVALUE, line,
				         "the root element <%.60s> is not an Ed-Fi Interchange*",
				         name ? name : "");
			seen_root = 1;
		} else if (type == XML_READER_TYPE_ELEMENT && depth == 1) {
			struct xn *n = NULL;
			r = read_element(c, rd, &n);
			if (r == 0)
				r = resource(c, n);
			xn_free(n);
		} else if (type == XML_READER_TYPE_ELEMENT) {
			r = fail(c, BATON_EINTERNAL, line, "element out of place");
		}
	}
	if (r == 0 && got != 0)
		c->xml_failed = 1;
	if (c->xml_failed && c->xmlerr[0] != 0)
		r = fail(c, BATON_EVALUE, c->xmlerr_line, "not well-formed XML: %s", c->xmlerr);
	else if (c->xml_failed)
		r = fail(c, BATON_EVALUE, xmlTextReaderGetParserLineNumber(rd),
		         "not well-formed XML");
	if (r == 0 && !seen_root)
		r = fail(c, BATON_EVALUE, 1, "no root element: not an XML file");
	xmlFreeTextReader(rd);
	return r;
}

/* Parse options: no entity substitution, no DTD loaded or defaulted, no network. */
#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOBLANKS)

static int read_file(struct ctx *c, const char *path, const char *name)
{
	struct stat st;
	c->file = name;
	/* One descriptor is checked and read, so the file checked is the file
	 * parsed; O_NONBLOCK: a FIFO is refused below, not waited on at open. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return bti_diag_err(BATON_EIO, "%s: %s", name, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return bti_diag_err(BATON_EVALUE, "%s: not a regular file", name);
	}
	int pfd = dup(fd);
	FILE *f = pfd < 0 ? NULL : fdopen(pfd, "rb");
	if (f == NULL) {
		int e = errno;
		if (pfd >= 0)
			close(pfd);
		close(fd);
		return bti_diag_err(BATON_EIO, "%s: %s", name, strerror(e));
	}
	struct prolog pr = {f, NULL, NULL};
	int r = refuse_doctype(c, &pr);
	fclose(f);
	if (r == 0 && lseek(fd, 0, SEEK_SET) != 0)
		r = bti_diag_err(BATON_EIO, "%s: %s", name, strerror(errno));
	if (r == 0)
		r = read_reader(c, xmlReaderForFd(fd, name, NULL, XML_OPTIONS));
	close(fd);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int ctx_init(struct ctx *c, edfi_sink sink, edfi_xml_skipped skipped_cb, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->sink = sink;
	c->skipped = skipped_cb;
	c->arg = arg;
	c->ids = json_object();
	c->reported = json_object();
	if (c->ids == NULL || c->reported == NULL) {
		json_decref(c->ids);
		json_decref(c->reported);
		return BATON_ENOMEM;
	}
	xmlInitParser();
	return 0;
}

static void ctx_free(struct ctx *c)
{
	json_decref(c->ids);
	json_decref(c->reported);
}

int edfi_xml_read_ex(const char *dir, edfi_sink sink, edfi_xml_skipped skipped_cb, void *arg)
{
	if (dir == NULL || sink == NULL)
		return bti_diag_err(BATON_EINVAL, "edfi_xml_read: no directory or sink");
	DIR *d = opendir(dir);
	if (d == NULL)
		return bti_diag_err(BATON_EIO, "%s: %s", dir, strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (len < 5 || strcasecmp(e->d_name + len - 4, ".xml") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nn = realloc(names, cap * sizeof(*names));
			if (nn == NULL) {
				r = BATON_ENOMEM;
				break;
			}
			names = nn;
		}
		if ((names[n] = strdup(e->d_name)) == NULL) {
			r = BATON_ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r == 0 && n == 0)
		r = bti_diag_err(BATON_EVALUE, "%s: no .xml files", dir);
	struct ctx c;
	if (r == 0)
		r = ctx_init(&c, sink, skipped_cb, arg);
	if (r == 0) {
		qsort(names, n, sizeof(*names), cmp_str);
		for (c.pass = 1; c.pass <= 3 && r == 0; c.pass++) {
			for (size_t i = 0; i < n && r == 0; i++) {
				char path[4096];
				if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >=
				    sizeof(path)) {
					r = bti_diag_err(BATON_EIO, "%s: path too long", names[i]);
					break;
				}
				r = read_file(&c, path, names[i]);
			}
		}
		ctx_free(&c);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

int edfi_xml_read(const char *dir, edfi_sink sink, void *arg)
{
	return edfi_xml_read_ex(dir, sink, NULL, arg);
}

int edfi_xml_read_memory(const char *buf, size_t len, const char *name, edfi_sink sink,
                         edfi_xml_skipped skipped_cb, void *arg)
{
	if (buf == NULL || sink == NULL || len > (size_t)0x7fffffff)
		return bti_diag_err(BATON_EINVAL, "edfi_xml_read_memory: no buffer or sink");
	struct ctx c;
	int r = ctx_init(&c, sink, skipped_cb, arg);
	if (r != 0)
		return r;
	for (c.pass = 1; c.pass <= 3 && r == 0; c.pass++) {
		c.file = name ? name : "(memory)";
		struct prolog pr = {NULL, (const unsigned char *)buf,
		                    (const unsigned char *)buf + len};
		r = refuse_doctype(&c, &pr);
		if (r == 0)
			r = read_reader(&c,
			                xmlReaderForMemory(buf, (int)len, NULL, NULL, XML_OPTIONS));
	}
	ctx_free(&c);
	return r;
}

/*
 * The types of an Ed-Fi resource's values, by the API's naming rules: a
 * value of the wrong type is refused by name before anything is mapped, so
 * a mistyped field is never taken for an absent one.
 */
#ifndef BATON_NODE_EDFI_TYPES_H
#define BATON_NODE_EDFI_TYPES_H

#include <jansson.h>

/*
 * Checks every member of obj (the resource's object, at any depth) against
 * the API's types: null nowhere; "...Descriptor" and "...UniqueId" non-empty
 * strings; "...Reference" objects; school and organisation ids and school
 * years integers; "...Date" real dates (a date-time's date counts); the
 * booleans and numbers Baton reads; the collections Baton reads arrays.
 * Returns 0, or BATON_ETYPE / BATON_EVALUE with baton_diag() naming where,
 * the resource, the field's path and its value.
 */
int edfi_check_types(const char *resource, const json_t *obj, const char *where);

/* What edfi_scan finds of a resource object's student (spans of its text, no escapes). */
struct edfi_scan {
	const char *top;   /* the object's own studentUniqueId, or NULL */
	const char *ref;   /* studentReference.studentUniqueId, or NULL */
	const char *first; /* the first "...Reference" member's studentUniqueId, or NULL */
	size_t toplen, reflen, firstlen;
	const char *text; /* the object squeezed into out, or NULL */
	size_t textlen;
	size_t len; /* the object's own bytes in the text scanned */
};

/* Whether the member named k (n bytes) is the API's bookkeeping: id, _etag, link, ... */
int edfi_api_member(const char *k, size_t n);

/*
 * Reads the resource object at raw ('{', within len bytes) without building
 * it: returns 1 when an object starts there (its sc->len bytes, which may
 * be fewer than len) that jansson's json_loadb with JSON_REJECT_DUPLICATES
 * takes and edfi_check_types passes, with *sc set; 0 when it is not, or
 * when this reader cannot tell (a \u escape, an escaped key, an exponent,
 * long numbers, deep nesting, many keys): the caller then parses it with
 * jansson, which names what is wrong. It never says 1 for an object
 * jansson or edfi_check_types refuses.
 *
 * out: NULL, or room for len bytes, where the object is written squeezed
 * (sc->text, sc->textlen): without white space and without the members
 * edfi_api_member names, at any depth; the same value otherwise.
 */
int edfi_scan_object(const char *raw, size_t len, char *out, struct edfi_scan *sc);

/*
 * The studentUniqueId a resource object is kept under: the student's own,
 * its studentReference's, or that of another reference naming a student
 * (studentAcademicRecordReference, ...); NULL for an object of no student.
 * edfi_student_of_scan finds the same in what edfi_scan_object found of its
 * text (*len bytes, not NUL-terminated).
 */
const char *edfi_student_of(const char *resource, const json_t *obj);
const char *edfi_student_of_scan(const char *resource, const struct edfi_scan *sc, size_t *len);

/*
 * json_loadb(text, len, 0, NULL), built straight from the text where it is
 * of the kind edfi_scan_object reads (jansson itself parses the rest): the
 * same values, in the same order, with the same NULL for text jansson
 * refuses. The caller decrefs the result.
 */
json_t *edfi_json_load(const char *text, size_t len);

#endif

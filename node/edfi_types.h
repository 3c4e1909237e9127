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

#endif

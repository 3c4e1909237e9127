/*
 * Reading Ed-Fi data: the API's JSON resources (edfi_read.c) and the bulk
 * interchange XML (edfi_xml.c), each handed one resource object at a time
 * to one sink, so that what is made of them (edfi.c) is written once.
 */
#ifndef BATON_NODE_EDFI_READ_H
#define BATON_NODE_EDFI_READ_H

#include <jansson.h>

/* The most bytes one resource object's JSON may have. */
#define EDFI_OBJECT_MAX (1u << 20)

/*
 * One Ed-Fi resource object, in the Ed-Fi API's JSON shape (as
 * GET /ed-fi/{resource} returns it: camelCase names, collections as arrays
 * under the API's plural names, references as "xxxReference" objects of
 * identity fields, descriptors as full URI strings
 * "uri://ed-fi.org/GradeLevelDescriptor#Ninth grade").
 * resource is the API's resource name ("students", "studentSchoolAssociations",
 * "contacts" or "parents", ...). obj is borrowed (the sink increfs to keep it).
 * where names the object for messages ("students.json[17]",
 * "Student.xml:1234"). Returns 0 to go on, else a BATON_E* code that stops
 * the reader (which then returns it).
 */
#ifndef BATON_EDFI_SINK
#define BATON_EDFI_SINK
typedef int (*edfi_sink)(void *arg, const char *resource, json_t *obj, const char *where);
#endif

/* A directory of RESOURCE.json files (each an array), or one file: an object
 * whose keys are resource names and whose values are arrays. */
int edfi_json_read(const char *path, edfi_sink sink, void *arg);

/* A directory of interchange XML files (Interchange-*.xml or any *.xml). */
int edfi_xml_read(const char *dir, edfi_sink sink, void *arg);

/*
 * Told of a file or key that is not a resource this reader takes, when the
 * caller asked to go on past it: msg names it and says why. Cannot fail.
 */
typedef void (*edfi_note)(void *arg, const char *msg);

/*
 * edfi_json_read, and with note not NULL a file (or a key of one file) that
 * names no resource Baton reads is told to note and skipped instead of
 * being an error (a dry run lists it). Errors (BATON_EVALUE for text that
 * is not the shape above or not JSON, BATON_ETOOBIG for an object over
 * EDFI_OBJECT_MAX, BATON_EIO for a file that cannot be read) set
 * baton_diag() naming the file, the element's index and the byte offset.
 */
int edfi_json_read_notes(const char *path, edfi_sink sink, edfi_note note, void *arg);

struct edfi_scan;

/*
 * A sink that is also given the object's own JSON text in the file (raw,
 * rawlen bytes, API bookkeeping and all), so that it can keep those bytes
 * instead of writing obj out again. Text that edfi_scan_object
 * (edfi_types.h) vouches for is not parsed: obj is NULL and sc holds what
 * the scan found of its student and the text squeezed (valid until the
 * sink returns). Otherwise obj is the parsed text and sc is NULL.
 */
typedef int (*edfi_sink_raw)(void *arg, const char *resource, json_t *obj,
                             const struct edfi_scan *sc, const char *raw, size_t rawlen,
                             const char *where);

/* edfi_json_read_notes with a sink of the object's bytes too. */
int edfi_json_read_raw(const char *path, edfi_sink_raw sink, edfi_note note, void *arg);

/* Predicate: 1 when name is an Ed-Fi API resource name Baton reads. */
int edfi_resource_known(const char *name);

#endif

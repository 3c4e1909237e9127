/*
 * Reading Ed-Fi bulk interchange XML (the Interchange-*.xml files of the
 * Ed-Fi Data Standard) as the Ed-Fi API's JSON resources, so that one
 * mapper serves both the API's JSON and the XML (node/edfi_read.h declares
 * the same sink).
 *
 * The files are read with libxml2's streaming reader, one resource element
 * (a child of the Interchange* root) at a time, with entity substitution,
 * DTD loading and network access off; a file with a DOCTYPE is refused
 * outright (entity declarations are how XML bombs and external entities
 * get in), and the depth, a text's length, an element's children and one
 * resource's size are capped, so memory stays bounded by the cap, not the
 * file. Names are matched by local name only: the namespace carries the
 * Data Standard's version and is ignored. Both kinds of reference are
 * followed: an XxxReference holding an XxxIdentity, and one holding only
 * ref="ID", resolved to the identity of the element with id="ID" in any
 * file of the directory. The directory is read three times: to remember the
 * identity of every element with an id, to convert every resource and so
 * check it, and to convert and hand on: the sink is called only once every
 * file has been read and found good, so a directory refused hands nothing on.
 */
#ifndef BATON_NODE_EDFI_XML_H
#define BATON_NODE_EDFI_XML_H

#include <stddef.h>

#include <jansson.h>

#ifndef BATON_EDFI_SINK
#define BATON_EDFI_SINK
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
typedef int (*edfi_sink)(void *arg, const char *resource, json_t *obj, const char *where);
#endif

/*
 * Told once per name of what the XML held that was not converted: a
 * resource element this reader does not carry ("StudentCTEProgramAssociation"),
 * or an element a resource's schema does not define ("Student/Nickname").
 * where names its first occurrence ("Student.xml:12"). Cannot stop the reader.
 */
typedef void (*edfi_xml_skipped)(void *arg, const char *name, const char *where);

/* The caps on one file's content (a file over one is refused). */
#define EDFI_XML_DEPTH_MAX    32          /* element nesting */
#define EDFI_XML_TEXT_MAX     (64u << 10) /* bytes of one element's text */
#define EDFI_XML_CHILDREN_MAX 4096        /* children of one element */
#define EDFI_XML_RESOURCE_MAX (4u << 20)  /* bytes of one resource element */
#define EDFI_XML_IDS_MAX      2000000     /* elements with an id, in all files */

/*
 * Reads the interchange XML files of the directory dir (every regular file
 * whose name ends in ".xml", in name order) and calls sink with each
 * resource object it carries (students, schools, studentSchoolAssociations,
 * contacts or parents, ... : the resources of node/edfi_read.h's list).
 *
 * Returns 0, the sink's code when it stops the reading, BATON_EIO (dir or a
 * file cannot be read), BATON_EVALUE (a file is not XML, is truncated, is
 * not an Ed-Fi interchange, has a DOCTYPE, breaks a cap, or holds a value of
 * the wrong type: the diag names the file, the line and the element),
 * BATON_ENOTFOUND (a ref="ID" names no element of the directory), or
 * BATON_ENOMEM.
 */
int edfi_xml_read(const char *dir, edfi_sink sink, void *arg);

/* As edfi_xml_read; skipped (may be NULL: not wanted) hears what was not converted. */
int edfi_xml_read_ex(const char *dir, edfi_sink sink, edfi_xml_skipped skipped, void *arg);

/*
 * One file's content, for the fuzzer and tests: reads the interchange XML in
 * buf (named name in messages) as edfi_xml_read reads a file, resolving
 * ref="ID" only within it.
 */
int edfi_xml_read_memory(const char *buf, size_t len, const char *name, edfi_sink sink,
                         edfi_xml_skipped skipped, void *arg);

#endif

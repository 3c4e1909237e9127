/*
 * The Ed-Fi descriptor map: which descriptor URI is which Baton value, per
 * Baton field. The shipped lines (node/edfi_descriptors.map, built into the
 * binary) and a district's own (--descriptor-map FILE), each
 * "baton-field<TAB>baton-value<TAB>descriptor URI"; '#' starts a comment.
 */
#ifndef BATON_NODE_EDFI_MAP_H
#define BATON_NODE_EDFI_MAP_H

typedef struct edfi_map edfi_map;

/*
 * The shipped map, with the lines of file (NULL: none) added; a district's
 * line for a URI the shipped map has replaces it. Returns 0 and *out (free
 * with edfi_map_free), BATON_EVALUE naming the file and line of a bad one,
 * BATON_EIO, BATON_ENOMEM.
 */
int edfi_map_load(edfi_map **out, const char *file);

/*
 * The Baton value of field for the descriptor uri (matched as a whole:
 * namespace and code), or NULL when the map has none.
 */
const char *edfi_map_value(const edfi_map *m, const char *field, const char *uri);

/* The descriptor URI an export writes for field's value, or NULL. */
const char *edfi_map_uri(const edfi_map *m, const char *field, const char *value);

void edfi_map_free(edfi_map *m);

#endif

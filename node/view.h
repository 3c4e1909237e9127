/*
 * What the node's views share: the JSON listings that the command line
 * prints (--json) and the console's API answers are built once, in node/,
 * from one read transaction each.
 */
#ifndef BATON_NODE_VIEW_H
#define BATON_NODE_VIEW_H

#include <jansson.h>

#include "store.h"

/*
 * Sorts the array of objects arr by the integer member key, ascending and
 * stable. 0, or BATON_ENOMEM (arr may then have lost elements).
 */
int view_sort_by(json_t *arr, const char *key);

/*
 * Makes an array, lets fn (called as store_read(st, fn, array)) fill it in
 * one read transaction, and orders it by the integer member key (NULL: as
 * fn filled it). *out is the array (the caller frees it with json_decref),
 * set only on success. 0, BATON_ENOMEM, or fn's or the store's error.
 */
int view_read(store *st, store_fn fn, const char *key, json_t **out);

#endif

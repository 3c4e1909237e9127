/* What the node's views share (view.h). */
#include <stdlib.h>

#include "view.h"

struct sort_item {
	json_int_t key;
	size_t at;
	json_t *v;
};

static int sort_cmp(const void *a, const void *b)
{
	const struct sort_item *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->at < y->at ? -1 : x->at > y->at;
}

int view_sort_by(json_t *arr, const char *key)
{
	size_t n = json_array_size(arr), i;
	struct sort_item *items;
	json_t *v;
	int r = 0;

	if (n < 2)
		return 0;
	if ((items = calloc(n, sizeof(*items))) == NULL)
		return BATON_ENOMEM;
	json_array_foreach(arr, i, v)
	{
		items[i].key = json_integer_value(json_object_get(v, key));
		items[i].at = i;
		items[i].v = json_incref(v);
	}
	qsort(items, n, sizeof(*items), sort_cmp);
	json_array_clear(arr);
	for (i = 0; i < n; i++)
		if (json_array_append_new(arr, items[i].v) != 0)
			r = BATON_ENOMEM;
	free(items);
	return r;
}

int view_read(store *st, store_fn fn, const char *key, json_t **out)
{
	json_t *a = json_array();
	int r = a ? store_read(st, fn, a) : BATON_ENOMEM;
	if (r == 0 && key)
		r = view_sort_by(a, key);
	if (r != 0) {
		json_decref(a);
		return r;
	}
	*out = a;
	return 0;
}

/* Packets and receipts carried by hand (view_files.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <sodium.h>

#include "bti.h"
#include "view_files.h"

struct find_ctx {
	const char *hex;
	size_t n;
	int matches;
	store_outbox *e;
	uint8_t *bytes;
	size_t len;
};

static int find_one(const store_outbox *e, void *arg)
{
	struct find_ctx *x = arg;
	char h[2 * BATON_ID_BYTES + 1];
	bti_hex_encode(e->packet, BATON_ID_BYTES, h);
	if (e->kind != OUT_REFUSAL && strncasecmp(h, x->hex, x->n) == 0) {
		x->matches++;
		*x->e = *e;
	}
	return 0;
}

static int find_fn(store_txn *t, void *arg)
{
	struct find_ctx *x = arg;
	int r;
	x->matches = 0;
	free(x->bytes);
	x->bytes = NULL;
	if ((r = store_outbox_each(t, find_one, x)) != 0 || x->matches != 1 || x->e->file[0])
		return r;
	r = store_packet_get(t, x->e->packet, &x->bytes, &x->len);
	return r == BATON_ENOTFOUND
	           ? bti_diag_err(BATON_EIO, "store: the packet's bytes are missing")
	           : r;
}

int files_outbox_find(store *st, const char *hex, store_outbox *e, uint8_t **bytes, size_t *len)
{
	struct find_ctx x = {.hex = hex, .n = strlen(hex), .e = e};
	int r = store_read(st, find_fn, &x);
	if (r == 0 && x.matches != 1)
		r = x.matches ? bti_diag_err(BATON_EVALUE,
		                             "%s names more than one packet: give more digits", hex)
		              : bti_diag_err(BATON_ENOTFOUND, "no packet %s in the outbox", hex);
	if (r != 0) {
		free(x.bytes);
		return r;
	}
	*bytes = x.bytes;
	*len = x.len;
	return 0;
}

const char *files_import_result(const struct recv_req *q)
{
	if (q->reason != BATON_REASON_ACCEPTED)
		return q->unverified ? "refused" : "rejected";
	if (q->replay)
		return "seen before";
	if (q->kind == BATON_KIND_REQUEST)
		return q->auto_release ? "releasing" : "held for release";
	if (q->review)
		return "held for review";
	return q->unchanged ? "unchanged" : "imported";
}

int files_packet_path(const char *node_dir, char *buf, size_t n)
{
	uint8_t rnd[8];
	char h[2 * sizeof(rnd) + 1];
	int len = snprintf(buf, n, "%s/outbox", node_dir);
	if (len < 0 || (size_t)len >= n)
		return bti_diag_err(BATON_EINVAL, "%s/outbox: path too long", node_dir);
	if (mkdir(buf, 0700) != 0 && errno != EEXIST)
		return bti_diag_err(BATON_EIO, "%s: %s", buf, strerror(errno));
	randombytes_buf(rnd, sizeof(rnd));
	bti_hex_encode(rnd, sizeof(rnd), h);
	len = snprintf(buf, n, "%s/outbox/file-%s.baton", node_dir, h);
	if (len < 0 || (size_t)len >= n || (size_t)len >= sizeof(((store_outbox *)0)->file))
		return bti_diag_err(BATON_EINVAL, "%s/outbox: path too long for the outbox",
		                    node_dir);
	return 0;
}

/* What the transfer files share: the schools' cards and this school's audit head. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bti.h"
#include "directory.h"
#include "transfer_impl.h"

int xfer_own_card(store_txn *t, baton_card *c)
{
	int r = store_own_card(t, c);
	return r == BATON_ENOTFOUND ? bti_diag_err(BATON_EIO, "this node has no card") : r;
}

int xfer_peer_card(store_txn *t, const char *code, baton_card *c)
{
	char by[BATON_NAME_MAX + 1];
	int r = store_peer_card(t, code, c);
	if (r != BATON_ENOTFOUND)
		return r;
	if (store_withdrawn_code(t, code, by) == 0)
		return bti_diag_err(BATON_EVALUE, "%s: its key is withdrawn by %s", code, by);
	if ((r = directory_expired_why(t, code)) != BATON_ENOTFOUND)
		return r;
	return bti_diag_err(BATON_EVALUE, "%s is not a pinned school", code);
}

int xfer_own_head(store_txn *t, const baton_key *k, uint8_t buf[BATON_AUDIT_HEAD_MAX], size_t *len)
{
	uint8_t *p = NULL;
	size_t n = 0;
	int r;
	*len = 0;
	if (k == NULL) /* a replaced key: its heads would outlive it */
		return 0;
	if ((r = store_audit_sign(t, k, NULL)) != 0 ||
	    ((r = store_audit_head(t, &p, &n)) < 0 && r != BATON_ENOTFOUND))
		return r;
	if (r == 0 && n <= BATON_AUDIT_HEAD_MAX) {
		memcpy(buf, p, n);
		*len = n;
	}
	free(p);
	return 0;
}

const char *xfer_hex_id(const uint8_t id[BATON_ID_BYTES])
{
	static _Thread_local char hex[2 * BATON_ID_BYTES + 1];
	return sodium_bin2hex(hex, sizeof(hex), id, BATON_ID_BYTES);
}

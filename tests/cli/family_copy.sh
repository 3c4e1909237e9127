#!/usr/bin/env bash
# The family's signed copy of the record of disclosures, from the family's
# page (tests/web/family_copy.mjs): two running schools; LHS sends S-1001's
# record to RAS over the network under the parent's consent, RAS's receipt
# comes back; the parent signs in with a key file in headless Chromium, opens
# the disclosures, presses "Download a signed copy", and the file downloaded
# verifies with 'baton audit check' and the key line the page shows, and
# against LHS's own log.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the keys two_schools makes
console_schools || done_testing
U=http://127.0.0.1:$WA

check "LHS links the parent's key to S-1001" "$BATON" guardian link S-1001 "$PK" --relation mother --dir "$TMP/lhs"
check "the parent consents to S-1001 going to RAS" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-1001 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections identity,enrollment --yes \
	--out "$TMP/c.consent"
check "LHS sends S-1001 to RAS" "$BATON" send S-1001 --to RAS-204 --consent "$TMP/c.consent" --dir "$TMP/lhs"
check "RAS's receipt comes back" wait_for 120 sh -c "'$BATON' outbox --dir '$TMP/lhs' | grep -q receipted"

node_tap "family copy" family_copy.mjs "$U" "$BATON" "$TMP/lhs" "$TMP" "$TMP/parent.key" "$BATON_PASSPHRASE"

check "LHS's log still verifies, chain intact, after the downloads" \
	sh -c "'$BATON' audit verify --dir '$TMP/lhs' | grep -q 'chain intact'"
done_testing

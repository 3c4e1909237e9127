#!/usr/bin/env bash
# The family's pages (web/family/) with two running schools, in headless
# Chromium at phone size: the whole story of tests/web/family.mjs, from the
# console's invitation to a revocation signed in the page, with the command
# line on each side (a key made in the page used by 'baton consent grant', a
# key made by 'baton guardian keygen' loaded into the page); then what the
# family's page is, served: its message files agree, every word it shows
# comes from them, and its first load stays under 500 KB compressed.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the keys two_schools makes
console_schools || done_testing
U=http://127.0.0.1:$WA

node_tap "family" family.mjs "$U" "$BATON" "$TMP/lhs" "$TMP"

check_out "guardian-enrol .*S-1001" "LHS's audit has the enrolment" "$BATON" audit --student S-1001 --dir "$TMP/lhs"
check_out "guardian-link .*S-1001.* by maria" "and the link, by maria who confirmed it" "$BATON" audit --student S-1001 --dir "$TMP/lhs"
check_out "consent-revoke|revocation" "and the revocation made in the page" "$BATON" audit --student S-1001 --dir "$TMP/lhs"
if [ -s "$TMP/invite.code" ]; then
	check "the node's log names no invitation code" sh -c "! grep -qF -e \"\$(cat '$TMP/invite.code')\" -e '#invite=' '$TMP/lhs.log'"
else
	fail "the browser test wrote the invitation's code"
fi

node_tap "family page" family_page.mjs "$U" "$BATON_SRC/web/family"
done_testing

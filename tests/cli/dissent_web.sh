#!/usr/bin/env bash
# A parent files a statement of disagreement from the family's pages in
# headless Chromium (tests/web/dissent.mjs), with a key made by 'baton
# guardian keygen' and linked by the registrar; the school keeps it and the
# console shows it with the section. First the page's library against the
# statement vectors (tests/web/dissent_crypto.mjs).
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the keys two_schools makes
console_schools || done_testing
U=http://127.0.0.1:$WA

node_tap "statement vectors in the page's library" dissent_crypto.mjs "$BATON_SRC/tests/vectors"

check "LHS links the parent's key to S-1001" "$BATON" guardian link S-1001 "$PK" --relation mother --dir "$TMP/lhs"
node_tap "dissent" dissent.mjs "$U" "$BATON" "$TMP/lhs" "$TMP/parent.key"
check_out 'dissent .*S-1001' "LHS's audit has the statement filed in the page" "$BATON" audit --student S-1001 --dir "$TMP/lhs"
done_testing

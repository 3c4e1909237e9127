#!/usr/bin/env bash
# The family page's cryptography (web/family/crypto.js, in Node.js on the
# page's libsodium) against Baton's test vectors and against the CLI: a key
# made as the page makes it signs with 'baton consent grant', a key of
# 'baton guardian keygen' opens in the page's library and signs consents and
# revocations that 'baton consent show' verifies; wrong passphrases, damaged
# key files and changed consents are refused.
. "$(dirname "$0")/lib.sh"

if ! command -v node >/dev/null || [ ! -d "$BATON_SRC/node_modules/libsodium-wrappers-sumo" ]; then
	echo "ok 1 # SKIP node or node_modules/libsodium-wrappers-sumo missing (make deps)"
	T=1
	done_testing
fi

export BATON_PASSPHRASE="a parent's long passphrase"
two_schools "$TMP/lhs" "$TMP/ras" --no-passphrase
printf '%s\n' "$PK" >"$TMP/parent.key.line"

# grant KEY OUT: the CLI's consent for the sample's first student, Lincoln to Riverside.
grant() {
	"$BATON" consent grant --key "$1" --student S-1001 --from "$TMP/LHS-001.card" \
		--to "$TMP/RAS-204.card" --sections all,health --purpose "Enrollment at Riverside" \
		--expires 30d --out "$2" --yes
}

# ---- the test vectors ----
node_tap "vectors" family_crypto.mjs vectors "$BATON_SRC/tests/vectors"

# ---- a key made as the page makes it, used by the CLI ----
node_tap "page key" family_crypto.mjs makekey "$TMP/page.key"
check "the page's key file is 112 bytes" test "$(wc -c <"$TMP/page.key")" = 112
check_out '^baton-gk1-' "baton guardian pubkey opens the page's key" "$BATON" guardian pubkey "$TMP/page.key"
same "$TMP/page.key.line" "$OUT" "and prints the key line the page computed"
check "baton consent grant --key signs with the page's key" grant "$TMP/page.key" "$TMP/page-cli.consent"
check_out "$(cat "$TMP/page.key.fpr")" "baton consent show verifies it, signed by the page's key (its fingerprint)" \
	"$BATON" consent show "$TMP/page-cli.consent"
check_exit 2 "with a wrong passphrase the CLI does not open the page's key (exit 2)" \
	env BATON_PASSPHRASE="not it" "$BATON" consent grant --key "$TMP/page.key" --student S-1001 \
	--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections transcript --out "$TMP/no.consent" --yes
check "and writes no consent" test ! -e "$TMP/no.consent"

# ---- a key of baton guardian keygen, in the page's library ----
node_tap "CLI key" family_crypto.mjs keys "$TMP/parent.key"
check "a consent signed by the CLI" grant "$TMP/parent.key" "$TMP/cli.consent"
node_tap "page consent" family_crypto.mjs consent "$TMP/parent.key" "$TMP/cli.consent" "$TMP/page.consent"
check_out '^Consent, signature verifies' "baton consent show verifies the consent signed in the page" \
	"$BATON" consent show "$TMP/page.consent"
check_out 'purpose +Inscripción en RAS-204 — año 2027' "and the one whose body the page summarised first, with non-ASCII text" \
	"$BATON" consent show "$TMP/page.consent.utf8"
check_out "$(cat "$TMP/page.consent.id")" "with the id the page gave it" \
	"$BATON" consent show --json "$TMP/page.consent"
check "Lincoln links the parent's key to S-1001" \
	"$BATON" guardian link S-1001 "$PK" --relation mother --dir "$TMP/lhs"
check "Lincoln's node takes the page's consent under its release rules (consent check)" \
	"$BATON" consent check "$TMP/page.consent" --to RAS-204 --dir "$TMP/lhs" --sections transcript
node_tap "page revocation" family_crypto.mjs revoke "$TMP/parent.key" "$TMP/page.consent" "$TMP/page.revoke"
check_out 'signature verifies' "baton consent show verifies the revocation signed in the page" \
	"$BATON" consent show "$TMP/page.revoke"
node_tap "mutation" family_crypto.mjs mutate "$TMP/page.consent"
node_tap "mutation of the CLI's consent" family_crypto.mjs mutate "$TMP/cli.consent"

done_testing

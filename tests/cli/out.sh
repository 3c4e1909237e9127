#!/usr/bin/env bash
# Every --out FILE follows one rule: a name that exists (a file, a symbolic
# link, even one pointing nowhere) is refused, exit 3, "already exists; not
# overwriting it", before anything is recorded; --force replaces the file or
# the link itself, never what a link points to. Checked for send, request,
# release, deny, import --receipt-out and outbox export.
. "$(dirname "$0")/lib.sh"

A=$TMP/lhs B=$TMP/ras
NP=--no-passphrase
export BATON_PASSPHRASE="a long enough passphrase" # the parent's key

two_schools "$A" "$B" $NP
for s in S-1018 S-1019; do
	check "A links the parent to $s" "$BATON" guardian link "$s" "$PK" --dir "$A"
	check "consent for $s" "$BATON" consent grant --key "$TMP/parent.key" --student "$s" \
		--from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
		--out "$TMP/$s.consent"
done

# state NAME: A's audit log and outbox now, to compare.
state() {
	"$BATON" audit --json --dir "$A" >"$TMP/$1.audit" 2>&1
	"$BATON" outbox --json --dir "$A" >"$TMP/$1.outbox" 2>&1
}
unchanged() {
	state after
	if cmp -s "$TMP/before.audit" "$TMP/after.audit" && cmp -s "$TMP/before.outbox" "$TMP/after.outbox"; then
		pass "$1"
	else
		fail "$1" "$(diff "$TMP/before.audit" "$TMP/after.audit")" "$(diff "$TMP/before.outbox" "$TMP/after.outbox")"
	fi
}
EXISTS='already exists; not overwriting it'

# send --out onto an existing file.
echo "the registrar's notes" >"$TMP/notes.txt"
cp "$TMP/notes.txt" "$TMP/notes.orig"
state before
check_err 3 "notes.txt: $EXISTS" "send --out onto an existing file is refused" \
	"$BATON" send S-1018 --to RAS-204 --consent "$TMP/S-1018.consent" --out "$TMP/notes.txt" --dir "$A"
same "$TMP/notes.orig" "$TMP/notes.txt" "the existing file is untouched"
unchanged "the refused send recorded no disclosure and no outbox entry"
check "and left no partial file" test ! -e "$TMP/notes.txt.partial"

# send --out onto a symbolic link, and onto one that points nowhere.
ln -s "$TMP/notes.txt" "$TMP/link.baton"
ln -s "$TMP/nowhere.txt" "$TMP/dangling.baton"
check_err 3 "link.baton: $EXISTS" "send --out onto a symbolic link is refused" \
	"$BATON" send S-1018 --to RAS-204 --consent "$TMP/S-1018.consent" --out "$TMP/link.baton" --dir "$A"
check_err 3 "dangling.baton: $EXISTS" "send --out onto a dangling symbolic link is refused" \
	"$BATON" send S-1018 --to RAS-204 --consent "$TMP/S-1018.consent" --out "$TMP/dangling.baton" --dir "$A"
check "the link's target was not created" test ! -e "$TMP/nowhere.txt"
same "$TMP/notes.orig" "$TMP/notes.txt" "the link's target is untouched"
unchanged "the refused sends recorded nothing"

# --force replaces the link itself, not its target.
check_out '^Sealed' "send --out --force replaces the symbolic link" "$BATON" send S-1018 --to RAS-204 \
	--consent "$TMP/S-1018.consent" --out "$TMP/link.baton" --force --dir "$A"
check "the link is now a regular file" sh -c "[ -f '$TMP/link.baton' ] && [ ! -L '$TMP/link.baton' ]"
same "$TMP/notes.orig" "$TMP/notes.txt" "what the link pointed to is untouched"
check_out "Imported .* as S-1018" "the packet that replaced it imports at B" "$BATON" import \
	"$TMP/link.baton" --receipt-out "$TMP/r1.receipt" --dir "$B"
check_out '^Sealed' "send --out --force replaces an existing file" "$BATON" send S-1019 --to RAS-204 \
	--consent "$TMP/S-1019.consent" --out "$TMP/notes.txt" --force --dir "$A"
check "the file is the packet now" sh -c "! cmp -s '$TMP/notes.orig' '$TMP/notes.txt'"
check_usage() { check_exit 1 "$@"; }
check_usage "--force without --out is a usage error" "$BATON" send S-1019 --to RAS-204 \
	--consent "$TMP/S-1019.consent" --force --dir "$A"

# import --receipt-out: refused before the import, which therefore did not happen.
cp "$TMP/notes.orig" "$TMP/exists.receipt"
run "$BATON" inbox --json --dir "$B"
cp "$OUT" "$TMP/inbox.before"
check_err 3 "exists.receipt: $EXISTS" "import --receipt-out onto an existing file is refused" \
	"$BATON" import "$TMP/notes.txt" --receipt-out "$TMP/exists.receipt" --dir "$B"
run "$BATON" inbox --json --dir "$B"
same "$TMP/inbox.before" "$OUT" "and nothing was imported"
check_out "Imported .* as S-1019" "with a free name it imports" "$BATON" import "$TMP/notes.txt" \
	--receipt-out "$TMP/r2.receipt" --dir "$B"

# request, release and deny.
echo keep >"$TMP/q.baton"
check_err 3 "q.baton: $EXISTS" "request --out onto an existing file is refused" "$BATON" request \
	--from LHS-001 --consent "$TMP/S-1018.consent" --out "$TMP/q.baton" --dir "$B"
check_out "No packets" "and B's outbox gained nothing for it" sh -c "'$BATON' outbox --dir '$B' | grep request || echo 'No packets'"
check_out '^Asked' "request --out --force replaces it" "$BATON" request --from LHS-001 \
	--consent "$TMP/S-1018.consent" --out "$TMP/q.baton" --force --dir "$B"
check_out "held for 'baton release'" "A holds the request" "$BATON" import "$TMP/q.baton" \
	--receipt-out "$TMP/q.receipt" --dir "$A"
run "$BATON" requests --json --dir "$A"
Q=$(sed -n 's/.*"request": "\([0-9a-f]*\)".*/\1/p' "$OUT" | head -n1)
echo keep >"$TMP/t.baton"
state before
check_err 3 "t.baton: $EXISTS" "release --out onto an existing file is refused" "$BATON" release "$Q" \
	--out "$TMP/t.baton" --dir "$A"
unchanged "the refused release recorded nothing"
check_out 'held' "the request is still held" "$BATON" requests --dir "$A"
check_err 3 "t.baton: $EXISTS" "deny --out onto an existing file is refused" "$BATON" deny "$Q" \
	--reason "no such student" --out "$TMP/t.baton" --dir "$A"
check_out 'held' "before the refusal was recorded: the request is still held" "$BATON" requests --dir "$A"
check_out '^Sealed' "release --out --force replaces it" "$BATON" release "$Q" \
	--out "$TMP/t.baton" --force --dir "$A"

# outbox export.
run "$BATON" outbox --json --dir "$A"
P=$(sed -n 's/.*"packet": "\([0-9a-f]*\)".*/\1/p' "$OUT" | head -n1)
check_err 3 "link2.baton: $EXISTS" "outbox export onto a symbolic link is refused" sh -c \
	"ln -s '$TMP/notes.orig' '$TMP/link2.baton' && exec '$BATON' outbox export '$P' --out '$TMP/link2.baton' --dir '$A'"
check_out '^Wrote packet' "outbox export --force replaces the link" "$BATON" outbox export "$P" \
	--out "$TMP/link2.baton" --force --dir "$A"
check "the link is now a regular file" sh -c "[ -f '$TMP/link2.baton' ] && [ ! -L '$TMP/link2.baton' ]"
check "no temporary file is left" sh -c "! ls '$TMP' | grep -q 'tmp\$\\|partial\$'"
# card: the same rule, --force included.
ln -s "$TMP/notes.orig" "$TMP/link3.card"
check_err 3 "link3.card: $EXISTS" "card --out onto a symbolic link is refused" "$BATON" card \
	--out "$TMP/link3.card" --dir "$A"
check_out '^Wrote the card' "card --out --force replaces the link" "$BATON" card --out "$TMP/link3.card" \
	--force --dir "$A"
same "$TMP/LHS-001.card" "$TMP/link3.card" "with the card"
check "what the link pointed to is untouched" grep -qx "the registrar's notes" "$TMP/notes.orig"
check "A's audit log verifies" "$BATON" audit verify --dir "$A"
done_testing

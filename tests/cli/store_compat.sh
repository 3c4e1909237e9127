#!/usr/bin/env bash
# A store written by an earlier build reads the same: the two nodes kept as
# rows in tests/vectors/store (made by mkstore.sh there, with every kind of
# row the store holds) are loaded as they were written, and every read
# command prints what the fixture holds: what the build that wrote them
# printed, except where a listing's layout was changed on purpose since
# (student list, inbox and outbox gained names and dates; audit gained
# each disclosure's legal basis, "consent" for every entry written before
# bases were recorded; student show gained a line for health's lists, "none
# known" or "not recorded" as the record has them), when the fixture
# was updated with the data unchanged. Reading changes no row; the next
# write extends the log, which still verifies.
. "$(dirname "$0")/lib.sh"

tool BATON_STORE_ROWS store_rows || done_testing
V=$BATON_SRC/tests/vectors/store
export BATON_PASSPHRASE="a long enough passphrase" BATON_NOW=1780000000

# same NAME NODE FILE CMD...: CMD on NODE prints what the fixture FILE holds.
same() {
	local what=$1 n=$2 file=$3
	shift 3
	"$BATON" "$@" --dir "$TMP/$n" >"$TMP/got" 2>&1
	if cmp -s "$V/$n.$file.out" "$TMP/got"; then
		pass "$what"
	else
		fail "$what" "$(diff "$V/$n.$file.out" "$TMP/got" | head -n 20)"
	fi
}

for n in lhs ras; do
	check "the $n rows load" sh -c "'$BATON_STORE_ROWS' load '$TMP/$n' <'$V/$n.rows'"
	cp "$V/$n.key" "$TMP/$n/school.key" && chmod 600 "$TMP/$n/school.key"
	same "$n: student list" "$n" student-list student list
	same "$n: audit" "$n" audit audit
	same "$n: audit --json" "$n" audit-json audit --json
	same "$n: audit verify (chain, index and signed heads)" "$n" audit-verify audit verify
	same "$n: peer list" "$n" peer-list peer list
	same "$n: consent list (consents and revocations)" "$n" consent-list consent list
	same "$n: inbox" "$n" inbox inbox
	same "$n: outbox" "$n" outbox outbox
	same "$n: outbox --json" "$n" outbox-json outbox --json
	same "$n: requests --all" "$n" requests---all requests --all
	same "$n: review (records held)" "$n" review review
	same "$n: policy" "$n" policy policy
	for s in S-1018 S-1020 S-1022; do
		same "$n: student show $s (versions, attachments, guardians)" "$n" "show-$s" \
			student show "$s"
	done
	"$BATON_STORE_ROWS" dump "$TMP/$n" >"$TMP/$n.after"
	check "$n: reading changed no row" cmp "$V/$n.rows" "$TMP/$n.after"
done

# The next writes go on from where the earlier build left off.
rec() {
	printf '{"student_id": "S-1099", "identity": {"given_name": "Ada", "family_name": "Okafor", "birth_date": "2011-04-1%s"}, "enrollment": [{"school_name": "Lincoln High School", "school_code": "LHS-001", "entry_date": "2026-08-19", "grade_level": "%s"}]}\n' \
		4 "$1"
}
rec 09 >"$TMP/v1.json"
rec 10 >"$TMP/v2.json"
check "lhs imports another student" "$BATON" student import "$TMP/v1.json" --dir "$TMP/lhs"
check "and a second version of it" "$BATON" student import "$TMP/v2.json" --dir "$TMP/lhs"
check_out 'version 2 of 2' "the versions number on" "$BATON" student show S-1099 --dir "$TMP/lhs"
PK=$(grep -o 'baton-gk1-[a-z0-9]*' "$V/lhs.show-S-1018.out" | head -n1)
check "lhs unlinks a guardian linked by the earlier build" "$BATON" guardian unlink S-1001 "$PK" \
	--dir "$TMP/lhs"
check_out "24 entries, chain unbroken" "lhs's log verifies with the new entries" \
	"$BATON" audit verify --dir "$TMP/lhs"
check_out 'disclosure .*S-1018' "the earlier entries read as before" \
	"$BATON" audit --student S-1018 --dir "$TMP/lhs"
done_testing

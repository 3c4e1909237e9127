#!/usr/bin/env bash
# Guardian links: a restriction (a court order) is never lifted by linking
# the same key again; lifting it takes an unlink, which the audit log shows.
# The FILE.pub a parent hands over is taken where the key line is, by
# 'guardian pubkey' and 'guardian link', and a bad key names what was given.
. "$(dirname "$0")/lib.sh"

N=$TMP/node
KEY=baton-gk1-ivwvufz4yfjt6iuazwl52uetstzlgdqyekiyqevh37tset2dazbafpy
check "init" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$N" --no-passphrase
cat >"$TMP/one.json" <<'JSON'
{"student_id": "S-1", "identity": {"given_name": "Ife", "family_name": "Okafor", "birth_date": "2011-01-01"}}
JSON
check "import" "$BATON" student import "$TMP/one.json" --dir "$N"
check "link the father, restricted" "$BATON" guardian link S-1 "$KEY" --relation father --restricted --dir "$N"
check_err 2 'restricted for S-1.*unlink the key first' "linking again without --restricted is refused" \
	"$BATON" guardian link S-1 "$KEY" --relation father --dir "$N"
check_out 'RESTRICTED' "the restriction stands" "$BATON" student show S-1 --dir "$N"
check "linking again with --restricted is fine" "$BATON" guardian link S-1 "$KEY" --relation father --restricted --dir "$N"
check "unlink" "$BATON" guardian unlink S-1 "$KEY" --dir "$N"
check "link again, unrestricted" "$BATON" guardian link S-1 "$KEY" --relation father --dir "$N"
check_out 'guardian-unlink' "the unlink is in the audit log" "$BATON" audit --student S-1 --dir "$N"
check "the audit log verifies" "$BATON" audit verify --dir "$N"

# ---- the parent's FILE.pub ----
check "a parent makes a key" "$BATON" guardian keygen --out "$TMP/mother.key" --no-passphrase
PUB=$(head -n1 "$TMP/mother.key.pub")
check_out "^$PUB\$" "guardian pubkey of FILE.pub prints its line (a .pub is not secret)" \
	"$BATON" guardian pubkey "$TMP/mother.key.pub"
check_out "^Linked mother key .* to S-1\$" "guardian link takes the FILE.pub" \
	"$BATON" guardian link S-1 "$TMP/mother.key.pub" --relation mother --dir "$N"
check_out "^    $PUB\$" "the linked key is the file's" "$BATON" student show S-1 --dir "$N"
printf 'not a key\n' >"$TMP/bad.pub"
check_err 2 "^baton: $TMP/bad.pub: not a guardian public key line\$" \
	"a .pub without a key line is refused, naming the file" \
	"$BATON" guardian link S-1 "$TMP/bad.pub" --dir "$N"
check_err 2 '^baton: baton-gk1-abc: public key: ' "a bad key line is named as given" \
	"$BATON" guardian link S-1 baton-gk1-abc --dir "$N"
done_testing

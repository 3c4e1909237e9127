#!/usr/bin/env bash
# Makes the stores tests/cli/store_compat.sh opens: two nodes, Lincoln High
# School (lhs) and Riverside Academy (ras), taken through every kind of row
# the store keeps (students and versions, a held record, attachments,
# guardians, peers, consents and a revocation, packets in and out, a request
# each way, receipts, a rekey, the audit log with its heads), then kept as
# rows (tests/tools/store_rows) with what each read command printed.
#
#   tests/vectors/store/mkstore.sh BATON STORE_ROWS
#
# BATON is the build whose stores are kept: the rows are the layout every
# later build must read the same way. Run from the source tree.
set -eu
BATON=$(readlink -f "$1") ROWS=$(readlink -f "$2")
OUTDIR=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$OUTDIR/../../.." && pwd)
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# One instant for everything, so that what a command prints (a consent still
# valid, a time) is the same whenever the test reads it.
export BATON_PASSPHRASE="a long enough passphrase" LC_ALL=C BATON_NOW=1780000000
A=$W/lhs B=$W/ras
cd "$W"

# Eight students of the sample school, one with an attachment.
python3 - "$SRC/tests/data/school.json" >school.json <<'PY'
import json, sys
keep = {"S-1001", "S-1002", "S-1003", "S-1006", "S-1018", "S-1019", "S-1020", "S-1022"}
print(json.dumps([s for s in json.load(open(sys.argv[1])) if s["student_id"] in keep], indent=1))
PY
cp -r "$SRC/tests/data/files" files
python3 - <<'PY' >changed.json
import json
s = [x for x in json.load(open("school.json")) if x["student_id"] in ("S-1020", "S-1022")]
s[0]["identity"]["given_name"] = "Zed"             # not the child on file: held
s[1]["enrollment"][0]["grade_level"] = "10"        # the same child: a new version
print(json.dumps(s, indent=1))
PY

b() { "$BATON" "$@" >/dev/null; }
b init --name "Lincoln High School" --code LHS-001 --dir "$A"
b init --name "Riverside Academy" --code RAS-204 --dir "$B"
b card --dir "$A" --out lhs.card
b card --dir "$B" --out ras.card
b peer add ras.card --dir "$A"
b peer add lhs.card --dir "$B"
b student import school.json --dir "$A"
b student import changed.json --dir "$A"
b guardian keygen --out parent.key
PK=$("$BATON" guardian pubkey parent.key | head -n1)
for s in S-1018 S-1019 S-1022; do
	b guardian link "$s" "$PK" --dir "$A"
	b consent grant --key parent.key --student "$s" --from lhs.card --to ras.card \
		--sections all --yes --out "$s.consent"
done
b guardian link S-1001 "$PK" --relation guardian --restricted --dir "$A"
# A record carried by hand, receipted; one queued for serve, in the store.
b send S-1018 --to RAS-204 --consent S-1018.consent --out t1.baton --dir "$A"
b import t1.baton --receipt-out t1.receipt --dir "$B"
b receipt import t1.receipt --dir "$A"
b send S-1022 --to RAS-204 --consent S-1022.consent --dir "$A"
# A request each way: B asks for S-1019 (held at A), A's request is refused.
b request --from LHS-001 --consent S-1019.consent --note "enrolling Monday" --out q1.baton \
	--dir "$B"
b import q1.baton --receipt-out q1.receipt --dir "$A"
b receipt import q1.receipt --dir "$B"
# A revocation, brought by hand.
b consent revoke --key parent.key S-1019.consent --out r1.revocation
b consent import r1.revocation --dir "$A"
b rekey --card-out lhs2.card --rotation-out lhs.rotation --dir "$A"
b audit sign --dir "$A"
b audit sign --dir "$B"

for n in lhs ras; do
	"$ROWS" dump "$W/$n" >"$OUTDIR/$n.rows"
	cp "$W/$n/school.key" "$OUTDIR/$n.key"
	out() { "$BATON" "$@" --dir "$W/$n" >"$OUTDIR/$n.$1${2:+-$2}.out" 2>&1 || true; }
	out student list
	out audit
	out audit verify
	out peer list
	out consent list
	out inbox
	out outbox
	out requests --all
	out review
	out policy
	for s in S-1018 S-1020 S-1022; do
		"$BATON" student show "$s" --dir "$W/$n" >"$OUTDIR/$n.show-$s.out" 2>&1 || true
	done
	"$BATON" audit --json --dir "$W/$n" >"$OUTDIR/$n.audit-json.out" 2>&1 || true
	"$BATON" outbox --json --dir "$W/$n" >"$OUTDIR/$n.outbox-json.out" 2>&1 || true
done

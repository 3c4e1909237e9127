#!/usr/bin/env bash
# Attachments named by an imported JSON file come from the folder of that
# file only: an absolute path, a '..' component, a symbolic link anywhere on
# the way (the folder, the file), something that is not a regular file, or
# a file in the node directory is refused, with the field and the path
# named, and nothing is imported. The file is opened once, name by name
# without following links, and read from the descriptor that was checked,
# so swapping it for a link while imports run never brings in the link's
# target.
. "$(dirname "$0")/lib.sh"

A=$TMP/lhs
IN=$TMP/in
check "init" "$BATON" init --name "Lincoln High School" --code LHS-001 --dir "$A" --no-passphrase
mkdir -p "$IN/files" "$TMP/outside"
echo "the transcript of S-1001" >"$IN/files/t.pdf"
echo "a secret outside the folder" >"$TMP/outside/secret.txt"

# record FILE PATH: a record of S-1001 with one attachment at PATH.
record() {
	cat >"$1" <<JSON
{"student_id": "S-1001",
 "identity": {"given_name": "Amara", "family_name": "Okafor", "birth_date": "2011-04-17"},
 "transcript": [{"school_year": "2025-2026", "term": "S1", "course_code": "MATH101",
                 "course_title": "Algebra I", "grade": "A-",
                 "credits_attempted": 1.0, "credits_earned": 1.0}],
 "attachments": [{"name": "transcript.pdf", "media_type": "application/pdf",
                  "section": "transcript", "path": "$2"}]}
JSON
}
snapshot() {
	"$BATON" student list --json --dir "$A" >"$TMP/$1.list" 2>&1
	"$BATON" audit --json --dir "$A" >"$TMP/$1.audit" 2>&1
}
snapshot before
unchanged() {
	snapshot after
	if cmp -s "$TMP/before.list" "$TMP/after.list" && cmp -s "$TMP/before.audit" "$TMP/after.audit"; then
		pass "$1"
	else
		fail "$1" "$(diff "$TMP/before.list" "$TMP/after.list")"
	fi
}

# refused NAME PATH REGEX: a record naming PATH is refused, exit 2, one line
# (and does not hang: opening a FIFO by name would wait for a writer forever;
# the bound is one only a hang reaches, also under ASan on a loaded machine).
refused() {
	record "$IN/$1.json" "$2"
	check_err 2 "$1.json: .*attachments\\[0\\]\\.path: .*$3.*; nothing was imported" \
		"refused: $1 ($2)" timeout 120 "$BATON" student import "$IN/$1.json" --dir "$A"
}

refused absolute "$TMP/outside/secret.txt" "must be relative to the JSON file"
refused dotdot "../outside/secret.txt" "leaves the folder of the JSON file"
refused dotdot2 "files/../../outside/secret.txt" "leaves the folder of the JSON file"
refused dotdot-key "../lhs/school.key" "leaves the folder of the JSON file"
ln -s "$TMP/outside/secret.txt" "$IN/files/link.pdf"
refused link-file "files/link.pdf" "link.pdf: is a symbolic link"
ln -s "$TMP/outside" "$IN/linkdir"
refused link-dir "linkdir/secret.txt" "linkdir: is a symbolic link"
ln -s "$A" "$IN/node"
refused link-node "node/school.key" "node: is a symbolic link"
ln -s "$IN/files/t.pdf" "$IN/files/inside-link.pdf"
refused link-inside "files/inside-link.pdf" "inside-link.pdf: is a symbolic link"
mkfifo "$IN/files/fifo.pdf"
refused fifo "files/fifo.pdf" "not a regular file"
refused folder "files" "not a regular file"
refused missing "files/none.pdf" "none.pdf: No such file"
unchanged "nothing was imported by the refused files"

# A JSON file whose folder holds the node directory: the node's files stay home.
record "$TMP/in-parent.json" "lhs/school.key"
check_err 2 "attachments\\[0\\]\\.path: \"lhs/school.key\" is inside the node directory" \
	"an attachment in the node directory is refused" "$BATON" student import "$TMP/in-parent.json" --dir "$A"
unchanged "and nothing was imported"

# Accepted: a plain path, and one with './'.
record "$IN/ok.json" "./files/t.pdf"
check_out "Imported 1 records" "an attachment inside the folder is imported" "$BATON" student import \
	"$IN/ok.json" --dir "$A"
mkdir -p "$TMP/exp"
check "and exported" "$BATON" student export S-1001 --out "$TMP/exp/S-1001.json" --dir "$A"
same "$IN/files/t.pdf" "$TMP/exp/S-1001-files/transcript.pdf" "byte for byte"

# The file swapped for a link to the secret while imports run: each import
# reads either the real file or refuses the link, never the secret.
echo "version two of the transcript" >"$IN/files/v2.pdf"
cp "$IN/files/v2.pdf" "$IN/files/real.pdf"
record "$IN/race.json" "files/swap.pdf"
(
	while :; do
		ln -sf "$TMP/outside/secret.txt" "$IN/files/swap.tmp" && mv -T "$IN/files/swap.tmp" "$IN/files/swap.pdf"
		cp "$IN/files/real.pdf" "$IN/files/swap.tmp2" && mv -T "$IN/files/swap.tmp2" "$IN/files/swap.pdf"
	done
) &
SWAPPER=$!
BG+=($SWAPPER)
leaked=0 imported=0 refusals=0 other=
for i in $(seq 1 40); do
	run "$BATON" student import "$IN/race.json" --dir "$A"
	if [ "$RC" -eq 0 ]; then
		imported=$((imported + 1))
		rm -rf "$TMP/exp2"
		mkdir -p "$TMP/exp2"
		"$BATON" student export S-1001 --out "$TMP/exp2/S-1001.json" --dir "$A" >/dev/null 2>&1
		if cmp -s "$TMP/exp2/S-1001-files/transcript.pdf" "$TMP/outside/secret.txt"; then
			leaked=$((leaked + 1))
		elif ! cmp -s "$TMP/exp2/S-1001-files/transcript.pdf" "$IN/files/real.pdf"; then
			other="import $i: the attachment is neither the file nor the link's target"
		fi
	elif grep -q 'swap.pdf: is a symbolic link\|swap.pdf: No such file' "$ERR"; then
		refusals=$((refusals + 1))
	else
		other=$(cat "$ERR")
	fi
done
kill "$SWAPPER" 2>/dev/null
wait "$SWAPPER" 2>/dev/null
if [ "$leaked" -eq 0 ] && [ -z "$other" ]; then
	pass "40 imports against a file swapped for a link: none read the link's target ($imported imported, $refusals refused)"
else
	fail "imports against a swapped file read the link's target $leaked times" "$other"
fi
check_out 'S-1001' "the student is on file" "$BATON" student list --dir "$A"
run "$BATON" audit --json --dir "$A"
check "the secret never entered the store" sh -c "! grep -rqa 'a secret outside the folder' '$A/db'"
check "A's audit log verifies" "$BATON" audit verify --dir "$A"
done_testing

#!/usr/bin/env bash
# The listener decodes a batch ("BTNB") with the batch codec of
# proto/frame.c (PROTOCOL.md section 10): a batch it refuses gets an empty
# reply and one log line naming what is wrong, and the node goes on
# serving; a well-framed batch gets its "BTNR" reply, one item per packet.
#
# The requests are sent by netpeer's req (tests/tools/netpeer.c, built by
# make), which prints the reply's length and first bytes.
. "$(dirname "$0")/lib.sh"

B=$TMP/ras
free_ports 1 || done_testing
PB=$P0

tool BATON_NETPEER netpeer || done_testing
PEER=$BATON_NETPEER

check "init B" "$BATON" init --name "Riverside Academy" --code RAS-204 \
	--endpoint "tcp://127.0.0.1:$PB" --dir "$B" --no-passphrase
serve_start B "$B" b.log || done_testing

HEAD=42544e4201000000 # "BTNB", version 1, three zero bytes

# bad NAME HEX REGEX: B answers the batch HEX with an empty reply and logs REGEX.
bad() {
	sleep 1.1 # refusals are logged at most once a second
	check_out '^reply 0 bytes$' "$1: an empty reply" "$PEER" req "$PB" "$2"
	check "$1: the log names it" \
		wait_for 120 grep -Eq "serve: a batch of $((${#2} / 2)) bytes refused: batch frame: $3" \
		"$TMP/b.log"
}

bad "no item" "$HEAD" "no item"
bad "batch version 2" 42544e4202000000000000017f "version 2 \(this node reads 1\)"
bad "a reserved byte" 42544e4201000001000000017f "reserved bytes are not zero"
bad "an item past the end" "${HEAD}000000ff01" "item 1 of 255 bytes, 1 left"
bad "an empty item" "${HEAD}000000017f00000000" "item 2 is empty"
bad "a length cut short" "${HEAD}000000017f0000" "2 bytes after item 1, too few for a length"
many=$HEAD
for _ in $(seq 65); do many=${many}000000017f; done
bad "65 items" "$many" "more than 64 items"

# One item that is no packet: framed right, so answered with one empty item (no receipt).
check_out '^reply 12 bytes: 42544e5201000000$' "a well-framed batch gets its reply" \
	"$PEER" req "$PB" "${HEAD}000000017f"
check "B is still running" kill -0 "${SPID[B]}"
check_exit 0 "B stops cleanly" serve_stop B
done_testing

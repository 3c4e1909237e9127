#!/usr/bin/env bash
# baton serve under systemd: with NOTIFY_SOCKET it tells the service manager
# READY=1 once it listens and its outbox worker runs, RELOADING=1 then
# READY=1 around a reload (SIGHUP), and STOPPING=1 when it stops; a socket
# in the abstract namespace ('@') works too. When standard error is the
# journal (JOURNAL_STREAM names its device and inode) every log line starts
# with its syslog priority and carries no time of its own; otherwise lines
# keep their time. The installed unit passes systemd-analyze verify.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs
free_ports 1 || done_testing
PA=$P0

check "init" "$BATON" init --name "Lincoln High School" --code LHS-001 \
	--endpoint "tcp://127.0.0.1:$PA" --dir "$A"

# listen ADDR LOG: collects the datagrams sent to the AF_UNIX socket ADDR
# ('@NAME': abstract), one a line in LOG (newlines inside one as ';').
listen() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
a = sys.argv[1]
s.bind("\0" + a[1:] if a.startswith("@") else a)
open(sys.argv[2] + ".ready", "w").close()
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", ";") + "\n")
' "$1" "$2" &
	BG+=($!)
	disown
	wait_for 30 test -e "$2.ready"
}

# lines_are PATTERN FILE: FILE has lines, all matching the extended regex PATTERN.
lines_are() {
	test -s "$2" && ! grep -Evq -- "$1" "$2"
}

# --- Readiness, reload and stop, on a socket path.
check "the manager's socket listens" listen "$TMP/notify.sock" "$TMP/notify.log"
NOTIFY_SOCKET=$TMP/notify.sock "$BATON" serve --dir "$A" 2>"$TMP/a.log" &
PID=$!
BG+=($PID)
check "READY=1 once serve listens" wait_for 120 grep -qx 'READY=1' "$TMP/notify.log"
check "by then the port takes connections" bash -c "exec 3<>/dev/tcp/127.0.0.1/$PA"
kill -HUP $PID
check "SIGHUP: RELOADING=1" wait_for 60 grep -q '^RELOADING=1;MONOTONIC_USEC=[0-9]*$' "$TMP/notify.log"
check "then READY=1 again, after the reload was done" \
	wait_for 60 sh -c "test \$(grep -cx 'READY=1' '$TMP/notify.log') -eq 2"
check "in that order" sh -c "grep -o '^[A-Z]*' '$TMP/notify.log' | tr '\n' ' ' | grep -qx 'READY RELOADING READY '"
check "the reload took place" grep -q 'serve: reload: school.key is still key' "$TMP/a.log"
kill -TERM $PID
check "SIGTERM: STOPPING=1" wait_for 60 grep -qx 'STOPPING=1' "$TMP/notify.log"
run wait $PID
check "serve ended with exit 0" test "$RC" -eq 0
check "without the journal, lines keep their time" \
	lines_are '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ' "$TMP/a.log"

# --- An abstract socket.
NAME="@baton-test-$$-$RANDOM"
check "an abstract socket listens" listen "$NAME" "$TMP/abstract.log"
NOTIFY_SOCKET=$NAME "$BATON" serve --dir "$A" 2>"$TMP/b.log" &
PID=$!
BG+=($PID)
check "READY=1 on an abstract socket" wait_for 120 grep -qx 'READY=1' "$TMP/abstract.log"
kill -TERM $PID
check "STOPPING=1 on it" wait_for 60 grep -qx 'STOPPING=1' "$TMP/abstract.log"
wait $PID

# --- The journal: priorities, no time of its own.
# A replaced key that does not open is a warning; a reload with school.key
# gone is an error; listening is information.
printf 'not a key\n' >"$A/school.key.old-$(date +%s)"
: >"$TMP/j.log"
JS=$(stat -c %d:%i "$TMP/j.log")
JOURNAL_STREAM=$JS "$BATON" serve --dir "$A" 2>>"$TMP/j.log" &
PID=$!
BG+=($PID)
check "serve started, logging to the journal" wait_for 120 grep -q 'serve: listening' "$TMP/j.log"
mv "$A/school.key" "$A/school.key.away"
kill -HUP $PID
wait_for 60 grep -q 'serve: reload:' "$TMP/j.log"
mv "$A/school.key.away" "$A/school.key"
kill -TERM $PID
wait $PID
check "information is <6>" grep -q '^<6>serve: listening at tcp://' "$TMP/j.log"
check "a key that does not open is a warning, <4>" \
	grep -q '^<4>serve: school.key.old-[0-9]* does not open with this passphrase' "$TMP/j.log"
check "a reload without school.key is an error, <3>" \
	grep -q '^<3>serve: reload: .*school.key: No such file or directory' "$TMP/j.log"
check "stopping is <6>" grep -qx '<6>serve: stopping' "$TMP/j.log"
check "every line starts with its priority and has no time" lines_are '^<[0-7]>[a-z]+: ' "$TMP/j.log"

# JOURNAL_STREAM naming another file: stderr is not the journal.
: >"$TMP/other"
JOURNAL_STREAM=$(stat -c %d:%i "$TMP/other") "$BATON" serve --dir "$A" 2>"$TMP/k.log" &
PID=$!
BG+=($PID)
check "serve started, stderr not the journal" wait_for 120 grep -q 'serve: listening' "$TMP/k.log"
kill -TERM $PID
wait $PID
check "then lines keep their time and no priority" \
	lines_are '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [a-z]+: ' "$TMP/k.log"

# --- The unit, filled in as 'make install' does, naming the binary under test.
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$TMP/unit"
	sed -e "s|@BINDIR@|$(dirname "$BATON")|g" -e "s|@SYSCONFDIR@|/etc|g" \
		"$BATON_SRC/dist/baton@.service.in" >"$TMP/unit/baton@.service"
	sed -i "s|$(dirname "$BATON")/baton |$BATON |" "$TMP/unit/baton@.service"
	ln -s "$TMP/unit/baton@.service" "$TMP/unit/baton@lincoln.service"
	check "the unit is Type=notify, NotifyAccess=main" sh -c \
		"grep -qx 'Type=notify' '$TMP/unit/baton@.service' &&
		 grep -qx 'NotifyAccess=main' '$TMP/unit/baton@.service'"
	# No manual page is installed to check Documentation= against.
	check "systemd-analyze verify passes the unit" \
		systemd-analyze verify --man=no "$TMP/unit/baton@lincoln.service"
else
	pass "systemd-analyze verify passes the unit # SKIP systemd-analyze is not installed"
fi

done_testing

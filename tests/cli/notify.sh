#!/usr/bin/env bash
# The family is told by email: an address on file for a guardian key (bad
# addresses and header injection refused), the school's mail settings, a
# notice queued with a disclosure and with a request, delivered over SMTP
# with STARTTLS to a real mail server (exim, started here on loopback with a
# self-signed certificate, delivering into a directory), holding no student
# name and no record content; the server down: queued, retried by serve,
# delivered when it comes up; a consent about to end; a notice given up
# after 3 days.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase"
A=$TMP/lhs B=$TMP/ras
EXIM=${BATON_EXIM:-/usr/sbin/exim4}
SMTP=$TMP/smtp
free_ports 1 || done_testing
SP=$P0

if [ ! -x "$EXIM" ]; then
	fail "the mail server for this test is missing: $EXIM" "make deps installs exim4-daemon-light"
	done_testing
fi

# The mail server: exim with a configuration of this test's own, as an
# unprivileged user (exim never delivers as root), into $SMTP/mail (Maildir).
mkdir -p "$SMTP/spool" "$SMTP/mail"
check "a self-signed certificate for the mail server" "$BATON" web selfsigned --out "$SMTP" --host localhost
if [ "$(id -u)" = 0 ]; then
	RUNAS=(setpriv --reuid=Debian-exim --regid=Debian-exim --clear-groups)
	EU=Debian-exim EG=Debian-exim
	chmod 711 "$TMP"
	chown -R "$EU:$EG" "$SMTP"
else
	RUNAS=()
	EU=$(id -un) EG=$(id -gn)
fi

# smtp_conf TLS: writes the configuration; TLS "no" offers no STARTTLS.
smtp_conf() {
	cat >"$SMTP/exim.conf" <<CONF
exim_user = $EU
exim_group = $EG
never_users =
keep_environment =
spool_directory = $SMTP/spool
log_file_path = $SMTP/spool/%slog
pid_file_path = $SMTP/spool/exim.pid
primary_hostname = localhost
daemon_smtp_ports = $SP
local_interfaces = 127.0.0.1
tls_advertise_hosts = $([ "$1" = yes ] && echo '*')
tls_certificate = $SMTP/web.crt
tls_privatekey = $SMTP/web.key
acl_smtp_rcpt = acl_rcpt
host_lookup =
deliver_drop_privilege = true

begin acl
acl_rcpt:
  accept

begin routers
all:
  driver = accept
  transport = to_dir

begin transports
to_dir:
  driver = appendfile
  directory = $SMTP/mail
  maildir_format = true
  envelope_to_add = true
  user = $EU
  group = $EG
  mode = 0600
CONF
}

smtp_up() {
	exec 3<>"/dev/tcp/127.0.0.1/$SP"
}

smtp_start() {
	"${RUNAS[@]}" "$EXIM" -C "$SMTP/exim.conf" -bdf -oX "$SP" -odi >/dev/null 2>>"$SMTP/exim.err" &
	SMTP_PID=$!
	BG+=($!)
	wait_for 20 smtp_up && return 0
	fail "the mail server did not start" "$(cat "$SMTP/exim.err" "$SMTP/spool/paniclog" 2>/dev/null)"
	return 1
}

smtp_stop() {
	kill -TERM "$SMTP_PID" 2>/dev/null
	wait "$SMTP_PID" 2>/dev/null
	wait_for 10 sh -c "! exec 3<>/dev/tcp/127.0.0.1/$SP" 2>/dev/null
}

# msgs: the count of messages delivered; last_msg: the newest one's file.
msgs() {
	find "$SMTP/mail/new" -type f 2>/dev/null | wc -l
}
last_msg() {
	ls -t "$SMTP"/mail/new/* | head -n1
}
# subject FILE: the Subject header, decoded (RFC 2047).
subject() {
	perl -MEncode -0777 -ne 'print encode("UTF-8", decode("MIME-Header", $1))
		if /^Subject: (.*?\r?\n(?:[ \t].*?\r?\n)*)/m' "$1"
}
audit_n() {
	"$BATON" audit --dir "$A" | wc -l
}

two_schools "$A" "$B"
check "A links the parent to S-1018" "$BATON" guardian link S-1018 "$PK" --relation mother --dir "$A"
check "A links the parent to S-1019" "$BATON" guardian link S-1019 "$PK" --relation mother --dir "$A"

# The address on file: what is refused leaves nothing behind.
N0=$(audit_n)
check_err 2 'email: .*exactly one' "an address with two '@' is refused" \
	"$BATON" guardian email S-1018 "$PK" 'a@b@family.example' --dir "$A"
check_err 2 'needs a dot' "an address without a domain is refused" \
	"$BATON" guardian email S-1018 "$PK" 'parent@localhost' --dir "$A"
check_err 2 'character 0x0d' "a CR LF header injection is refused" \
	"$BATON" guardian email S-1018 "$PK" $'parent@family.example\r\nBcc: x@evil.example' --dir "$A"
check_err 2 'character 0x0a' "a LF in the domain is refused" \
	"$BATON" guardian email S-1018 "$PK" $'parent@family.example\nBcc: x@evil.example' --dir "$A"
check_err 2 'character 0x3e' "an address that closes the angle brackets is refused" \
	"$BATON" guardian email S-1018 "$PK" 'parent>@family.example' --dir "$A"
check_err 2 '3 to 254' "an address too long is refused" \
	"$BATON" guardian email S-1018 "$PK" "$(printf 'a%.0s' {1..60})@$(printf 'b%.0s' {1..200}).example" --dir "$A"
check_err 2 'no link|not linked|no key' "a key not linked to the student is refused" \
	"$BATON" guardian email S-1020 "$PK" parent@family.example --dir "$A"
check "nothing refused was audited" test "$(audit_n)" -eq "$N0"
check_out 'No email address' "no address on file yet" "$BATON" guardian email S-1018 "$PK" --dir "$A"
check_out 'Set the email address of key .*: parent@family.example' "the registrar sets the address" \
	"$BATON" guardian email S-1018 "$PK" parent@family.example --dir "$A"
check_out 'parent@family.example' "it is shown for the other child of the same key" \
	"$BATON" guardian email S-1019 "$PK" --dir "$A"
check_out 'guardian-email.*set the email address of key' "setting it is audited" "$BATON" audit --dir "$A"
check "the audit log does not hold the address" sh -c "! '$BATON' audit --dir '$A' | grep -q 'parent@'"

# The school's mail settings.
check_err 1 'server smtp://HOST:PORT' "mail set needs --server and --from" "$BATON" mail set --from a@b.example --dir "$A"
check_err 2 'expected smtp://HOST:PORT' "an http server is refused" \
	"$BATON" mail set --server http://localhost:25 --from reg@lhs.example --dir "$A"
check_err 2 'a port of 1 to 65535' "a server without a port is refused" \
	"$BATON" mail set --server smtp://localhost: --from reg@lhs.example --dir "$A"
check_err 2 'from: character 0x0a' "a From with a header in it is refused" \
	"$BATON" mail set --server "smtp://localhost:$SP" --from $'reg@lhs.example\nBcc: x@evil.example' --dir "$A"
check "nothing refused wrote mail.conf" test ! -e "$A/mail.conf"
check_out 'No mail server' "mail show says none is set" "$BATON" mail show --dir "$A"
printf 'a secret password\n' >"$TMP/smtp.pw"
check "mail set with a login" "$BATON" mail set --server "smtp://localhost:$SP" --from registrar@lincoln.example \
	--user registrar --password-file "$TMP/smtp.pw" --ca "$SMTP/web.crt" --dir "$A"
check "mail.conf is 0600" test "$(stat -c %a "$A/mail.conf")" = 600
check_out 'password \(set\)' "mail show says a password is set" "$BATON" mail show --dir "$A"
check "... and never prints it" sh -c "! grep -q 'a secret' '$OUT'"
check_out 'through smtp://localhost' "mail set without a login" "$BATON" mail set --server "smtp://localhost:$SP" \
	--from registrar@lincoln.example --ca "$SMTP/web.crt" --dir "$A"
check "the password is gone from mail.conf" sh -c "! grep -q password '$A/mail.conf'"
check "the console's URL, for the link" "$BATON" web set --listen "127.0.0.1:$((SP + 1))" \
	--url https://lhs.example:8443 --dir "$A"

# A server that offers no STARTTLS is never sent to.
smtp_conf no
smtp_start
check_err 3 'STARTTLS|SSL|TLS' "no STARTTLS: the test message is refused" \
	"$BATON" mail test parent@family.example --dir "$A"
check "... and nothing was delivered" test "$(msgs)" -eq 0
smtp_stop
smtp_conf yes
smtp_start
check_err 2 'character 0x0d' "mail test refuses a header injection" \
	"$BATON" mail test $'parent@family.example\r\nBcc: x@evil.example' --dir "$A"
check_out 'Sent a test message' "mail test over STARTTLS" "$BATON" mail test parent@family.example --dir "$A"
check "the test message arrived" wait_for 20 sh -c "[ \$(find '$SMTP/mail/new' -type f | wc -l) -ge 1 ]"

# A disclosure: queued in its own transaction, sent by flush.
check "the parent consents to S-1018 going to RAS" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-1018 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
	--out "$TMP/c1.consent"
check_out '^Sealed' "A sends S-1018 to RAS" "$BATON" send S-1018 --to RAS-204 --consent "$TMP/c1.consent" \
	--out "$TMP/p1.baton" --dir "$A"
check_out '^1 notices queued' "the disclosure queued one notice" "$BATON" mail show --dir "$A"
M=$(msgs)
check_out '^1 sent, 0 to retry' "mail flush sends it" "$BATON" mail flush --dir "$A"
check "it arrived" wait_for 20 sh -c "[ \$(find '$SMTP/mail/new' -type f | wc -l) -gt $M ]"
F=$(last_msg)
check "to the parent's address" grep -q '^Envelope-to: parent@family.example' "$F"
check "To header" grep -q '^To: <parent@family.example>' "$F"
check "with Date, Message-ID and UTF-8 text" sh -c "grep -q '^Date: ' '$F' && grep -q '^Message-ID: <[0-9a-f]*@lincoln.example>' '$F' && grep -q 'charset=UTF-8' '$F'"
check "saying where the record went" grep -q "sent to Riverside Academy on $(date -u +%Y-%m-%d)" "$F"
check "with the link to the family's page" grep -q '^https://lhs.example:8443/family/' "$F"
subject "$F" >"$TMP/subject"
check "the subject names the school" grep -q 'A notice about a school record at Lincoln High School' "$TMP/subject"
check "no student id, name or record content in the message" sh -c \
	"! grep -Eq 'S-1018|Kai|Levi|ST-1831|2012-11-28' '$F' '$TMP/subject'"
check_out 'family-told.*S-1018.*disclosure notice' "the notice is audited as told" "$BATON" audit --dir "$A"
check "the queue is empty" "$BATON" mail show --dir "$A"
check "... says so" grep -q '^0 notices queued' "$OUT"

# A request arriving.
check "the parent consents to S-1019 going to RAS" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-1019 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
	--out "$TMP/c2.consent"
check "RAS asks for S-1019" "$BATON" request --from LHS-001 --consent "$TMP/c2.consent" \
	--out "$TMP/q2.baton" --dir "$B"
check "A holds the request" "$BATON" import "$TMP/q2.baton" --receipt-out "$TMP/q2.receipt" --dir "$A"
M=$(msgs)
check_out '^1 sent' "the request's notice is sent" "$BATON" mail flush --dir "$A"
check "it arrived" wait_for 20 sh -c "[ \$(find '$SMTP/mail/new' -type f | wc -l) -gt $M ]"
F=$(last_msg)
check "saying who asked" grep -q 'Riverside Academy asked Lincoln High School for a copy' "$F"
check "without the student's name" sh -c "! grep -Eq 'S-1019|Chlo|Achterberg' '$F'"

# The server down: the notice waits, serve retries it and delivers it once the server is up.
smtp_stop
check_out '^Sealed' "A releases S-1019" "$BATON" release "$(sed -n 's/.*"request": "\([0-9a-f]*\)".*/\1/p' \
	<("$BATON" requests --json --dir "$A") | head -n1)" --out "$TMP/p2.baton" --dir "$A"
check_exit 3 "mail flush with the server down fails" env BATON_MAIL_BACKOFF=1 "$BATON" mail flush --dir "$A"
check "... saying it will retry" grep -q '^0 sent, 1 to retry' "$OUT"
check_out '^1 notices queued' "the notice is still queued" "$BATON" mail show --dir "$A"
check "A listens on loopback" "$BATON" endpoint set "tcp://127.0.0.1:$((SP + 2))" --dir "$A" --force
BATON_MAIL_BACKOFF=1 serve_start lhs "$A" lhs.log
check "serve tries and fails while the server is down" wait_for 20 grep -q 'not delivered' "$TMP/lhs.log"
M=$(msgs)
smtp_start
check "serve delivers it once the server is up" wait_for 40 sh -c "[ \$(find '$SMTP/mail/new' -type f | wc -l) -gt $M ]"
check "the queue empties" wait_for 10 sh -c "'$BATON' mail show --dir '$A' | grep -q '^0 notices queued'"
serve_stop lhs
F=$(last_msg)
check "the retried message names the disclosure" grep -q 'sent to Riverside Academy' "$F"
check "serve's log holds no address and no student" sh -c "! grep -Eq 'parent@|S-10|Kai|Chlo' '$TMP/lhs.log'"
check "serve's log counts what it sent" grep -q 'mail: 1 sent' "$TMP/lhs.log"

# A consent that ends within 7 days: the daily look tells the family once.
check "a consent for S-1018 to RAS ending in 5 days" "$BATON" consent grant --key "$TMP/parent.key" \
	--student S-1018 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
	--expires 5d --out "$TMP/c3.consent"
check "A knows it (RAS asks with it)" "$BATON" request --from LHS-001 --consent "$TMP/c3.consent" \
	--out "$TMP/q3.baton" --dir "$B"
check "A holds the request" "$BATON" import "$TMP/q3.baton" --receipt-out "$TMP/q3.receipt" --dir "$A"
M=$(msgs)
check_out '^1 notices queued by the daily look' "the daily look finds the consent ending" "$BATON" mail flush --dir "$A"
check "... and sends its notice with the request's" grep -q '^2 sent' "$OUT"
check "they arrived" wait_for 20 sh -c "[ \$(find '$SMTP/mail/new' -type f | wc -l) -ge $((M + 2)) ]"
check "one says the consent ends soon" sh -c "grep -l 'A consent you signed to release .* to Riverside Academy ends' '$SMTP'/mail/new/* | grep -q ."
check_out '^0 sent, 0 to retry' "the next look does not tell it twice" "$BATON" mail flush --dir "$A"

# Given up after 3 days of tries: dropped and audited as undeliverable.
smtp_stop
check "RAS asks again for S-1018" "$BATON" request --from LHS-001 --consent "$TMP/c3.consent" \
	--note again --out "$TMP/q4.baton" --dir "$B"
check "A holds it" "$BATON" import "$TMP/q4.baton" --receipt-out "$TMP/q4.receipt" --dir "$A"
check_exit 3 "the server is down" "$BATON" mail flush --dir "$A"
check_exit 3 "four days later the notice is given up" env BATON_NOW=$(($(date +%s) + 4 * 86400)) \
	"$BATON" mail flush --dir "$A"
check "... said" grep -q '0 sent, 0 to retry, 1 undeliverable' "$OUT"
check_out 'family-undeliverable.*S-1018.*request notice' "... and audited" "$BATON" audit --dir "$A"
check_out '^0 notices queued' "the queue is empty" "$BATON" mail show --dir "$A"

# The rights pass at 18: a student who turned 18 three days ago is told once;
# one who turned 18 a year ago is not (told then, or before this was kept).
smtp_start
cat >"$TMP/adults.json" <<JSON
[{"student_id": "S-18", "identity": {"given_name": "Nadia", "family_name": "Okafor", "birth_date": "$(date -u -d '-18 years -3 days' +%F)"}},
 {"student_id": "S-19", "identity": {"given_name": "Omar", "family_name": "Lindqvist", "birth_date": "$(date -u -d '-19 years' +%F)"}}]
JSON
check "A imports a student just 18 and one of 19" "$BATON" student import "$TMP/adults.json" --dir "$A"
check "the parent's key linked to S-18" "$BATON" guardian link S-18 "$PK" --relation mother --dir "$A"
check "the parent's key linked to S-19" "$BATON" guardian link S-19 "$PK" --relation mother --dir "$A"
check "the address again" "$BATON" guardian email S-18 "$PK" parent@family.example --dir "$A"
M=$(msgs)
check_out '^1 notices queued by the daily look' "the daily look finds the one who just turned 18" \
	"$BATON" mail flush --dir "$A"
check "... and sends it" grep -q '^1 sent' "$OUT"
check "it arrived" wait_for 20 sh -c "[ \$(find '$SMTP/mail/new' -type f | wc -l) -gt $M ]"
F=$(last_msg)
check "saying the rights have passed to the student" grep -q 'have passed to the student' "$F"
check "without the student's name" sh -c "! grep -Eq 'S-18|Nadia|Okafor' '$F'"
check_out '^0 sent, 0 to retry' "the next look does not tell it again" "$BATON" mail flush --dir "$A"
check "... nor queues anything" sh -c "! grep -q 'daily look' '$OUT'"
check "the student's own key" "$BATON" guardian keygen --out "$TMP/self.key" --no-passphrase
check "linked as self to S-18" "$BATON" guardian link S-18 "$TMP/self.key.pub" --relation self --dir "$A"
check "the student's address" "$BATON" guardian email S-18 "$TMP/self.key.pub" student@family.example --dir "$A"
check "the student consents to S-18 going to RAS" "$BATON" consent grant --key "$TMP/self.key" \
	--student S-18 --from "$TMP/LHS-001.card" --to "$TMP/RAS-204.card" --sections all --yes \
	--role student --out "$TMP/c18.consent"
check "RAS asks for S-18" "$BATON" request --from LHS-001 --consent "$TMP/c18.consent" \
	--out "$TMP/q18.baton" --dir "$B"
check "A holds the request" "$BATON" import "$TMP/q18.baton" --receipt-out "$TMP/q18.receipt" --dir "$A"
M=$(msgs)
check_out '^1 sent' "one notice: to the student, not the parent" "$BATON" mail flush --dir "$A"
check "it arrived" wait_for 20 sh -c "[ \$(find '$SMTP/mail/new' -type f | wc -l) -gt $M ]"
check "to the student's address" grep -q '^Envelope-to: student@family.example' "$(last_msg)"
smtp_stop

# Removing the address: nothing more is queued.
check_out 'Removed the email address' "the registrar removes the address" \
	"$BATON" guardian email S-1018 "$PK" --remove --dir "$A"
check "RAS asks once more" "$BATON" request --from LHS-001 --consent "$TMP/c3.consent" \
	--note "once more" --out "$TMP/q5.baton" --dir "$B"
check "A holds it" "$BATON" import "$TMP/q5.baton" --receipt-out "$TMP/q5.receipt" --dir "$A"
check_out '^0 notices queued' "no notice without an address" "$BATON" mail show --dir "$A"
# The family's own page sets the address: the same rules, through the API.
if tool FAMSIGN famsign && command -v curl >/dev/null && command -v jq >/dev/null; then
	check "a second parent's key (unencrypted: famsign reads it)" "$BATON" guardian keygen --out "$TMP/dad.key" --no-passphrase
	check "linked to S-1018" "$BATON" guardian link S-1018 "$TMP/dad.key.pub" --relation father --dir "$A"
	serve_start lhs "$A" lhs.log
	wait_for 60 grep -q 'web: serving' "$TMP/lhs.log"
	O=http://127.0.0.1:$((SP + 1))
	ch=$(curl -s "$O/api/v1/family/challenge")
	sig=$("$FAMSIGN" "$TMP/dad.key" "$(jq -r .school.id <<<"$ch")" "$O" "$(jq -r .nonce <<<"$ch")")
	jq -cn --arg k "$(head -n1 "$TMP/dad.key.pub")" --arg n "$(jq -r .nonce <<<"$ch")" --arg s "$sig" \
		'{key: $k, nonce: $n, signature: $s}' >"$TMP/login.json"
	curl -s -c "$TMP/dad.jar" -H "Origin: $O" -H 'Content-Type: application/json' \
		--data-binary @"$TMP/login.json" "$O/api/v1/family/session" >"$TMP/session.json"
	CSRF=$(jq -r .csrf "$TMP/session.json")
	check "the father signs in to the family's page" test "${#CSRF}" -eq 64
	# fam METHOD BODY: the family's email route; the body in $TMP/body, the status in $CODE.
	fam() {
		CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" -b "$TMP/dad.jar" -H "Origin: $O" \
			-H "X-CSRF-Token: $CSRF" ${2:+-H 'Content-Type: application/json' --data-binary "$2"} \
			"$O/api/v1/family/email")
	}
	fam GET
	check "GET family/email: none on file" sh -c "[ $CODE = 200 ] && jq -e '.email == null' '$TMP/body'"
	N0=$(audit_n)
	fam PUT '{"email": "dad@family.example\r\nBcc: x@evil.example"}'
	check "PUT family/email refuses a header injection (400)" sh -c "[ $CODE = 400 ] && grep -q 'character 0x0d' '$TMP/body'"
	fam PUT '{"email": "dad"}'
	check "PUT family/email refuses an address without '@' (400)" test "$CODE" = 400
	fam PUT '{"email": 12}'
	check "PUT family/email refuses a number (400)" sh -c "[ $CODE = 400 ] && grep -q 'email:' '$TMP/body'"
	check "nothing refused was audited" test "$(audit_n)" -eq "$N0"
	fam PUT '{"email": "dad@family.example"}'
	check "PUT family/email sets it" sh -c "[ $CODE = 200 ] && jq -e '.email == \"dad@family.example\"' '$TMP/body'"
	check_out 'dad@family.example' "the registrar sees the address the father set" \
		"$BATON" guardian email S-1018 "$TMP/dad.key.pub" --dir "$A"
	fam PUT '{"email": null}'
	check "PUT family/email null removes it" sh -c "[ $CODE = 200 ] && jq -e '.email == null' '$TMP/body'"
	check_out 'No email address' "... and it is gone" "$BATON" guardian email S-1018 "$TMP/dad.key.pub" --dir "$A"
	# The same in the browser, as a parent on a phone.
	if [ -x "${BATON_CHROMIUM:-/usr/bin/chromium}" ] && command -v node >/dev/null &&
		[ -d "$BATON_SRC/node_modules/playwright-core" ]; then
		export BATON_SHOTS=${BATON_SHOTS:-$(dirname "$BATON")/screenshots}
		check "a key for the browser (under the passphrase)" "$BATON" guardian keygen --out "$TMP/mom.key"
		check "linked to S-1018" "$BATON" guardian link S-1018 "$TMP/mom.key.pub" --relation mother --dir "$A"
		node_tap "family page" notify.mjs "$O" "$BATON" "$A" "$TMP/mom.key" "$BATON_PASSPHRASE" S-1018
	else
		echo "ok $((T + 1)) # SKIP Chromium, node or node_modules/playwright-core missing (make deps)"
		T=$((T + 1))
	fi
	serve_stop lhs
fi
# Without a mail server, a notice is still given up after 3 days: the queue cannot grow for ever.
check "the address again" "$BATON" guardian email S-1018 "$PK" parent@family.example --dir "$A"
rm -f "$A/mail.conf" "$A/web.conf"
check "RAS asks for S-1018 yet again" "$BATON" request --from LHS-001 --consent "$TMP/c3.consent" \
	--note "yet again" --out "$TMP/q6.baton" --dir "$B"
check "A holds it" "$BATON" import "$TMP/q6.baton" --receipt-out "$TMP/q6.receipt" --dir "$A"
check_out '^1 notices queued' "its notice is queued, though no server is set" "$BATON" mail show --dir "$A"
check_err 2 'no mail server' "mail flush says no server is set" "$BATON" mail flush --dir "$A"
BATON_NOW=$(($(date +%s) + 4 * 86400)) serve_start lhs "$A" lhs.log
check "serve, 4 days on, gives it up" wait_for 20 grep -q 'mail: 1 undeliverable (no mail server set)' "$TMP/lhs.log"
serve_stop lhs
check_out 'family-undeliverable.*S-1018.*no mail server was set' "... audited" "$BATON" audit --dir "$A"
check_out '^0 notices queued' "the queue is empty" "$BATON" mail show --dir "$A"
# An address removed or changed takes the notices still queued for it along.
check "the address once more" "$BATON" guardian email S-1018 "$PK" parent@family.example --dir "$A"
check "RAS asks for S-1018 a last time" "$BATON" request --from LHS-001 --consent "$TMP/c3.consent" \
	--note "a last time" --out "$TMP/q7.baton" --dir "$B"
check "A holds it" "$BATON" import "$TMP/q7.baton" --receipt-out "$TMP/q7.receipt" --dir "$A"
check_out '^1 notices queued' "its notice is queued for the address" "$BATON" mail show --dir "$A"
check "the registrar changes the address" "$BATON" guardian email S-1018 "$PK" new.parent@family.example --dir "$A"
check_out '^1 notices queued' "the notice stays queued, for the new address" "$BATON" mail show --dir "$A"
check "the family asks for no email" "$BATON" guardian email S-1018 "$PK" --remove --dir "$A"
check_out '^0 notices queued' "the notice queued is not sent to an address no longer on file" \
	"$BATON" mail show --dir "$A"
check_out 'the mail server the family' "baton help mail" "$BATON" help mail

done_testing

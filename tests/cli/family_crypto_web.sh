#!/usr/bin/env bash
# The family's assets as a node serves them: /family/ and /family answer the
# page, every asset under /family/ (libsodium's two files included) comes
# gzip-compressed when the client takes gzip and as is otherwise, the same
# bytes once decompressed, with Vary and the CSP of /family/ (which alone
# allows WebAssembly); then the library in headless Chromium on that CSP
# makes a key and signs, and the CLI takes the key and the consent it made.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a parent's long passphrase"
console_schools || done_testing
URL="http://127.0.0.1:$WA"
NM=$BATON_SRC/node_modules

# get NAME URL [ACCEPT-ENCODING]: the body in $TMP/NAME, the headers in $TMP/NAME.h.
get() {
	local h=()
	[ -n "${3:-}" ] && h=(-H "Accept-Encoding: $3")
	curl -sS --max-time 60 "${h[@]}" -D "$TMP/$1.h" -o "$TMP/$1" "$2"
}

header() { # NAME HEADER: the header's value (lower-case name), without CR
	grep -i "^$2:" "$TMP/$1.h" | head -n1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'
}

# asset URL FILE WHAT: identity and gzip answers of URL both give FILE's bytes.
asset() {
	local url=$1 file=$2 what=$3
	check "$what: answered without Accept-Encoding" get plain "$url"
	same "$file" "$TMP/plain" "$what: the bytes of $(basename "$file"), as is"
	check "$what: not compressed when not asked" test -z "$(header plain content-encoding)"
	check "$what: answered to Accept-Encoding: gzip, deflate, br" get gz "$url" "gzip, deflate, br"
	check "$what: Content-Encoding gzip" test "$(header gz content-encoding)" = gzip
	check "$what: Vary: Accept-Encoding" test "$(header gz vary)" = Accept-Encoding
	check "$what: smaller compressed ($(wc -c <"$TMP/gz") of $(wc -c <"$file") bytes)" \
		test "$(wc -c <"$TMP/gz")" -lt "$(wc -c <"$file")"
	gzip -dc "$TMP/gz" >"$TMP/gz.out" 2>"$TMP/gz.err"
	same "$file" "$TMP/gz.out" "$what: the same bytes once decompressed"
	check "$what: CSP with 'wasm-unsafe-eval'" grep -qi "^content-security-policy:.*script-src 'self' 'wasm-unsafe-eval'" "$TMP/gz.h"
}

asset "$URL/family/" "$BATON_SRC/web/family/index.html" "/family/"
asset "$URL/family/crypto.js" "$BATON_SRC/web/family/crypto.js" "/family/crypto.js"
asset "$URL/family/libsodium-sumo.js" "$NM/libsodium-sumo/dist/modules-sumo/libsodium-sumo.js" "/family/libsodium-sumo.js"
asset "$URL/family/libsodium-wrappers-sumo.js" "$NM/libsodium-wrappers-sumo/dist/modules-sumo/libsodium-wrappers.js" \
	"/family/libsodium-wrappers-sumo.js"
check "/family answers" get nos "$URL/family"
same "$BATON_SRC/web/family/index.html" "$TMP/nos" "/family is the page of /family/"
for ae in "gzip;q=0" "br" "identity" "gzip;q=0.0, *"; do
	check "Accept-Encoding: $ae is answered" get ae "$URL/family/crypto.js" "$ae"
	check "Accept-Encoding: $ae: not compressed" test -z "$(header ae content-encoding)"
done
for ae in "*" "GZIP;q=0.5" "deflate;q=0, gzip;q=1"; do
	check "Accept-Encoding: $ae is answered" get ae "$URL/family/crypto.js" "$ae"
	check "Accept-Encoding: $ae: gzip" test "$(header ae content-encoding)" = gzip
done
check "the console's page" get console "$URL/"
check "the console's CSP does not allow WebAssembly" \
	sh -c '! grep -qi "wasm-unsafe-eval" "$1" && grep -qi "^content-security-policy:" "$1"' sh "$TMP/console.h"
check "an asset is not answered to POST" sh -c 'test "$(curl -s -o /dev/null -w %{http_code} -X POST "$1")" = 405' \
	sh "$URL/family/crypto.js"
check "a family path that is no asset is 404" \
	sh -c 'test "$(curl -s -o /dev/null -w %{http_code} "$1")" = 404' sh "$URL/family/nothing.js"

# What an auditor checks: each file /about lists, fetched as a browser
# fetches it, has the length and BLAKE2b-256 the list gives; the bundle's
# hash recomputed from those files is /about's and 'baton web hash''s; the
# list holds every file under web/family/ and libsodium's two.
check "about answers" get about "$URL/api/v1/family/about"
jq -r '.files[] | .url + " " + (.bytes | tostring) + " " + .hash' "$TMP/about" >"$TMP/files"
want=$(($(find "$BATON_SRC/web/family" -type f | wc -l) + 2))
check "about lists $want files" test "$(wc -l <"$TMP/files")" = "$want"
: >"$TMP/bundle.in"
while read -r u n h; do
	get f "$URL$u" gzip
	gzip -dc "$TMP/f" >"$TMP/f.out" 2>/dev/null || cp "$TMP/f" "$TMP/f.out"
	check "$u: $n bytes, as listed" test "$(wc -c <"$TMP/f.out")" = "$n"
	check "$u: its BLAKE2b-256, as listed" test "$(b2sum -l 256 <"$TMP/f.out" | cut -d' ' -f1)" = "$h"
	{ printf '%s\0' "$u"; perl -e 'print pack("Q>", $ARGV[0])' "$n"; cat "$TMP/f.out"; } >>"$TMP/bundle.in"
done <"$TMP/files"
bundle=$(b2sum -l 256 <"$TMP/bundle.in" | cut -d' ' -f1)
check "the bundle's hash, from the files served, is about's" test "$bundle" = "$(jq -r .bundle "$TMP/about")"
run "$BATON" web hash --files
cp "$OUT" "$TMP/hash.out"
check "and baton web hash prints it" test "$(head -n1 "$TMP/hash.out")" = "$bundle"
check "baton web hash --files lists the same files" \
	test "$(tail -n +2 "$TMP/hash.out" | awk '{print $3, $2, $1}')" = "$(cat "$TMP/files")"

node_tap "browser" family_crypto_web.mjs "$URL" "$TMP"
check_out '^baton-gk1-' "baton guardian pubkey opens the key made in the browser" \
	"$BATON" guardian pubkey "$TMP/browser.key"
same "$TMP/browser.key.line" "$OUT" "the line the browser showed"
check_out '^Consent, signature verifies' "baton consent show verifies the consent signed in the browser" \
	"$BATON" consent show "$TMP/browser.consent"

done_testing

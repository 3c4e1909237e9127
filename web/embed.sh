#!/bin/sh
# Writes a C header holding each file as a byte array, and also gzip-compressed
# (gzip -9n: no name, no time, so the same file gives the same bytes), and the
# table web_assets[] that serves each at its URL with its type, in URL order,
# so the console needs no files at run time. Uses only od, sed, sort and gzip.
#
#   embed.sh ITEM...   ITEM is FILE (served at "/NAME") or URL=FILE;
#                      a URL ending in "/index.html" is served at its folder ("/", "/family/").
set -e
for a in "$@"; do
	f=${a#*=}
	[ -f "$f" ] || { echo "embed.sh: $f: no such file" >&2; exit 1; }
done
list=$(for a in "$@"; do
	case $a in
	*=*) url=${a%%=*} f=${a#*=} ;;
	*) url=/$(basename "$a") f=$a ;;
	esac
	case $url in */index.html) url=${url%index.html} ;; esac
	printf '%s %s\n' "$url" "$f"
done | LC_ALL=C sort)
[ -n "$list" ] || { echo "embed.sh: no files" >&2; exit 1; }
bytes() {
	od -An -v -tx1 | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
}
i=0
echo "$list" | while read -r url f; do
	printf 'static const unsigned char asset_%d[] = {\n' "$i"
	bytes <"$f"
	printf '};\nstatic const unsigned char asset_%d_gz[] = {\n' "$i"
	gzip -9n -c "$f" | bytes
	printf '};\n'
	i=$((i + 1))
done
printf 'static const struct web_asset web_assets[] = {\n'
i=0
echo "$list" | while read -r url f; do
	case $f in
	*.html) type='text/html; charset=utf-8' ;;
	*.js) type='text/javascript; charset=utf-8' ;;
	*.css) type='text/css; charset=utf-8' ;;
	*.json) type='application/json' ;;
	*.svg) type='image/svg+xml' ;;
	*.png) type='image/png' ;;
	*) echo "embed.sh: $f: no type for this name" >&2; exit 1 ;;
	esac
	printf '    {"%s", "%s", asset_%d, sizeof(asset_%d), asset_%d_gz, sizeof(asset_%d_gz)},\n' \
		"$url" "$type" "$i" "$i" "$i" "$i"
	i=$((i + 1))
done
printf '};\n'

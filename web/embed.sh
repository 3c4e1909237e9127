#!/bin/sh
# Writes a C header holding each FILE as a byte array, and the table
# web_assets[] that serves each at "/NAME" ("/" for index.html) with its
# type, so the console needs no files at run time. Uses only od and sed.
set -e
i=0
for f in "$@"; do
	printf 'static const unsigned char asset_%d[] = {\n' "$i"
	od -An -v -tx1 "$f" | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
	printf '};\n'
	i=$((i + 1))
done
printf 'static const struct web_asset web_assets[] = {\n'
i=0
for f in "$@"; do
	name=$(basename "$f")
	case $name in
	*.html) type='text/html; charset=utf-8' ;;
	*.js) type='text/javascript; charset=utf-8' ;;
	*.css) type='text/css; charset=utf-8' ;;
	*.svg) type='image/svg+xml' ;;
	*.png) type='image/png' ;;
	*) echo "embed.sh: $f: no type for this name" >&2; exit 1 ;;
	esac
	url=/$name
	[ "$name" = index.html ] && url=/
	printf '    {"%s", "%s", asset_%d, sizeof(asset_%d)},\n' "$url" "$type" "$i" "$i"
	i=$((i + 1))
done
printf '};\n'

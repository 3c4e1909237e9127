#!/bin/sh
# Writes a C header holding each FILE as a byte array named asset_BASENAME
# (dots and dashes become underscores), so the console needs no files at
# run time. Uses only od and sed.
set -e
for f in "$@"; do
	name=$(basename "$f" | tr '.-' '__')
	printf 'static const unsigned char asset_%s[] = {\n' "$name"
	od -An -v -tx1 "$f" | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'
	printf '};\n'
done

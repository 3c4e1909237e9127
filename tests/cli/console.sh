#!/usr/bin/env bash
# The registrar's console in a real browser (headless Chromium): signing in
# and out, the school at the top, the menu by role, a phone's screen, 200%
# zoom, the keyboard, and axe-core's WCAG audit. Screenshots go to
# BUILD/screenshots.
. "$(dirname "$0")/lib.sh"

export BATON_PASSPHRASE="a long enough passphrase" # the parent's key
console_schools || done_testing
node_tap "console" console.mjs "http://127.0.0.1:$WA"
done_testing

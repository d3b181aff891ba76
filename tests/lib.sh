# lib.sh - what every shell test script shares; source it after setting NAME (the suite's name).
# Sets B (build folder, $1), V (the program), D (test photos) and T (a scratch folder, removed at
# exit unless VIGIL_TEST_KEEP is set), and defines ok, bad, check and finish.
B=${1:-build}
V="$B/vigil"
D=tests/data/images
T=$(mktemp -d "/tmp/vigil-$NAME.XXXXXX")
trap 'chmod -R u+rwx "$T" 2>/dev/null; [ -n "$VIGIL_TEST_KEEP" ] || rm -rf "$T"' EXIT
pass=0
fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
bad() { echo "FAIL - $1"; shift; for l in "$@"; do echo "    $l"; done; fail=$((fail + 1)); }
# check NAME CONDITION-COMMAND...: the test passes when the command succeeds
check() { n=$1; shift; if "$@" >/dev/null 2>&1; then ok "$n"; else bad "$n" "command: $*"; fi; }
# the closing line tests/run.sh adds up
finish() { echo "$NAME: $pass passed, $fail failed"; }

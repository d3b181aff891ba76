#!/bin/sh
# tests/layering.sh [BUILD] - no two core files call each other.
#
# The call graph between the files of core/ is read from the objects: file A uses file B when A
# has an undefined symbol that B defines (nm). Every pair that uses each other in both directions
# is printed, and the check fails. Dependencies must point one way, so each module can be read,
# tested and replaced on its own (issue 14).
#
# tests/layering.sh --self-test compiles a pair that calls each other and a pair that does not,
# and checks that the first is caught and the second passes.
if [ "$1" = "--self-test" ]; then
    t=$(mktemp -d) || exit 2
    mkdir -p "$t/one/core" "$t/two/core/x86"
    printf 'int b(void);\nint a(void) { return b(); }\n' >"$t/a.c"
    printf 'int a(void);\nint b(void) { return 0; }\nint c(void) { return a(); }\n' >"$t/b.c"
    printf 'int b(void);\nint d(void) { return b(); }\n' >"$t/d.c"
    ${CC:-cc} -c "$t/a.c" -o "$t/one/core/a.o" && ${CC:-cc} -c "$t/b.c" -o "$t/one/core/b.o" &&
        ${CC:-cc} -c "$t/d.c" -o "$t/two/core/x86/d.o" && cp "$t/one/core/b.o" "$t/two/core/b.o" || exit 2
    out=$(sh "$0" "$t/one"); r1=$?
    sh "$0" "$t/two" >/dev/null; r2=$?
    rm -rf "$t"
    ok=0
    [ $r1 -eq 1 ] && echo "$out" | grep -q 'core/a.c and core/b.c call each other' &&
        echo "$out" | grep -q 'core/b.c uses a (core/a.c)' || { echo "layering self-test: a mutual pair was not caught: $out"; ok=1; }
    [ $r2 -eq 0 ] || { echo "layering self-test: a one-way dependency was refused"; ok=1; }
    [ $ok -eq 0 ] && echo "layering self-test: ok"
    exit $ok
fi
B=${1:-build}
objs=$(ls "$B"/core/*.o "$B"/core/x86/*.o 2>/dev/null)
[ -n "$objs" ] || { echo "layering: no objects under $B/core (build first)" >&2; exit 2; }

# No pair is allowed: a new one is a design error to fix, not to list here.
ALLOW=""

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
for o in $objs; do
    src=${o#"$B"/}
    src=${src%.o}.c
    nm -g --defined-only "$o" | awk -v f="$src" '{print $NF "\t" f}' >>"$tmp/def"
    nm -u "$o" | awk -v f="$src" '{print $NF "\t" f}' >>"$tmp/use"
done
sort -u "$tmp/def" -o "$tmp/def"
sort -u "$tmp/use" -o "$tmp/use"
# edges "user definer", one per pair of files
join -t "$(printf '\t')" "$tmp/use" "$tmp/def" | awk -F '\t' '$2 != $3 {print $2, $3}' | sort -u >"$tmp/edges"
# a pair is mutual when its reverse is an edge too
awk '{print $2, $1}' "$tmp/edges" | sort -u | comm -12 - "$tmp/edges" | awk '$1 < $2' >"$tmp/mutual"

fail=0
while read -r a b; do
    if [ "$a $b" = "$ALLOW" ] || [ "$b $a" = "$ALLOW" ]; then
        echo "layering: allowed for now (TODO): $a <-> $b"
        continue
    fi
    echo "layering: $a and $b call each other:"
    join -t "$(printf '\t')" "$tmp/use" "$tmp/def" | awk -F '\t' -v a="$a" -v b="$b" \
        '($2 == a && $3 == b) || ($2 == b && $3 == a) {print "    " $2 " uses " $1 " (" $3 ")"}'
    fail=1
done <"$tmp/mutual"
n=$(wc -l <"$tmp/edges")
if [ $fail -eq 0 ]; then
    echo "layering: ok ($n one-way dependencies between core files)"
fi
exit $fail

#!/bin/sh
# tests/layering.sh [BUILD] - no two core files call each other.
#
# The call graph between the files of core/ is read from the objects: file A uses file B when A
# has an undefined symbol that B defines (nm). Every pair that uses each other in both directions
# is printed, and the check fails. Dependencies must point one way, so each module can be read,
# tested and replaced on its own (issue 14).
B=${1:-build}
objs=$(ls "$B"/core/*.o "$B"/core/x86/*.o 2>/dev/null)
[ -n "$objs" ] || { echo "layering: no objects under $B/core (build first)" >&2; exit 2; }

# TODO(issue 14): features.c <-> x86/fast_avx2.c is being untangled in another branch; the lead
# removes this allowance once that is merged.
ALLOW="core/features.c core/x86/fast_avx2.c"

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

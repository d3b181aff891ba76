#!/bin/sh
# docs.sh - the documents keep to what they promise: the README is a guide of at most 16 KB with
# a section per command and a library example that compiles and runs; the relative links of every
# document lead to files that exist; docs/formats.md names every file magic and the journal record
# size the code has.
NAME=docs
. "$(dirname "$0")/lib.sh"

size=$(wc -c < README.md)
check "README.md is at most 16 KB ($size bytes)" test "$size" -le 16384
for c in hash index match scan rooms; do
    check "README.md has a section for vigil $c" grep -q "^### \`vigil $c\`" README.md
done

# relative links: [text](path) and [text](path#anchor), from the document's own folder
broken=""
for doc in README.md HACKING.md bench/README.md docs/*.md bench/results/*.md; do
    [ -f "$doc" ] || { broken="$broken $doc(missing)"; continue; }
    dir=$(dirname "$doc")
    for l in $(grep -o '\](\([^)#: ]*\)\(#[^)]*\)\?)' "$doc" | sed 's/^](//; s/)$//; s/#.*//'); do
        [ -n "$l" ] || continue
        [ -e "$dir/$l" ] || broken="$broken $doc->$l"
    done
done
if [ -z "$broken" ]; then ok "every relative link in the documents leads to a file"
else bad "every relative link in the documents leads to a file" "broken:$broken"; fi

# the README's library example: compiled against this build's library, run on a test photo
awk '/^```c$/ {f = 1; next} /^```$/ {f = 0} f' README.md > "$T/example.c"
cc=cc
san=""
if nm "$B/libvigil.a" 2>/dev/null | grep -q __asan_init; then cc=clang; san="-fsanitize=address,undefined"; fi
img=$(ls "$D"/*.jpg | head -1)
if $cc -std=c11 $san -Iinclude "$T/example.c" "$B/libvigil.a" $(pkg-config --libs vips libxxhash libpng nettle) \
       -fopenmp -lm -lpthread -o "$T/example" 2>"$T/cc.err"; then
    ok "the README's library example compiles"
    out=$("$T/example" "$img" "$T/none.jpg" 2>"$T/err")
    want=$("$V" hash --no-digests "$img" | awk -F'\t' 'NR == 2 {print $2}')
    if [ "$(printf '%s\n' "$out" | awk '{print $1}')" = "$want" ] && grep -q "none.jpg: io:" "$T/err"; then
        ok "the README's library example prints the hash vigil hash prints, and the error of a missing file"
    else bad "the README's library example prints the hash vigil hash prints, and the error of a missing file" \
        "out: $out" "want: $want" "stderr: $(cat "$T/err")"; fi
else
    bad "the README's library example compiles" "$(head -5 "$T/cc.err")"
fi

# docs/formats.md against the code: every magic, and the journal's fixed record size
missing=""
for m in $(grep -ho '#define [A-Z]*MAGIC "[A-Z]*"' core/*.c cli/*.c | sed 's/.*"\(.*\)"/\1/' | sort -u); do
    grep -q "$m" docs/formats.md || missing="$missing $m"
done
check "docs/formats.md names every file magic of the code${missing:+ (missing:$missing)}" test -z "$missing"
n=$(sed -n 's/.*sizeof(jfix) == \([0-9]*\).*/\1/p' cli/scan.h)
check "docs/formats.md gives the journal record's fixed part as the code's $n bytes" grep -q "^\`jfix\` ($n bytes)" docs/formats.md
finish

#!/bin/sh
# cli.sh - end-to-end tests of the vigil program: usage, output formats, exit codes, bad input.
# Usage: tests/cli.sh BUILD_DIR   (prints "ok - NAME" / "FAIL - NAME" and "cli: N passed, N failed")
NAME=cli
. tests/lib.sh

# --- usage and exit codes -------------------------------------------------------------------------
out=$("$V" --version); check "version prints the library version" test "$out" = "vigil $(sed -n 's/.*VIGIL_VERSION_STRING "\(.*\)"/\1/p' include/vigil.h)"
"$V" help hash | grep -q -- "--dihedral"; check "help hash documents options" test $? -eq 0
"$V" >/dev/null 2>&1; check "no command exits 2" test $? -eq 2
"$V" hash >/dev/null 2>&1; check "hash without PATH exits 2" test $? -eq 2
"$V" hash --format xml $D >/dev/null 2>"$T/err"; rc=$?
check "bad --format exits 2 with a message" sh -c "test $rc -eq 2 && grep -q 'unknown --format' '$T/err'"
"$V" hash -j 0 $D >/dev/null 2>&1; check "-j 0 exits 2" test $? -eq 2
"$V" nosuch >/dev/null 2>&1; check "unknown command exits 2" test $? -eq 2
# the command table (cli/main.c): the usage list, `help CMD` and `CMD --help` come from one row
"$V" --help >"$T/usage" 2>&1; rc=$?
check "--help lists every command, exit 0" sh -c "test $rc -eq 0 && for c in hash index match scan rooms; do grep -q \"^  \$c  \" '$T/usage' || exit 1; done"
for c in hash index match scan rooms; do
    "$V" help $c >"$T/h1" 2>&1; r1=$?
    "$V" $c --help >"$T/h2" 2>&1; r2=$?
    "$V" $c -h >"$T/h3" 2>&1; r3=$?
    check "help $c, $c --help and $c -h: exit 0, one text with its usage" sh -c "test $r1$r2$r3 = 000 && grep -q '^Usage' '$T/h1' && cmp -s '$T/h1' '$T/h2' && cmp -s '$T/h1' '$T/h3'"
done
"$V" help nosuch >/dev/null 2>"$T/err"; rc=$?
check "help of an unknown command: exit 2, named" sh -c "test $rc -eq 2 && grep -q 'no such command: nosuch' '$T/err'"

# --- a clean folder -------------------------------------------------------------------------------
"$V" hash --exact --dihedral $D >"$T/out.tsv" 2>"$T/err"; rc=$?
check "clean folder exits 0" test $rc -eq 0
check "clean folder prints nothing on stderr when piped" test ! -s "$T/err"
head -1 "$T/out.tsv" | grep -q "^path	pdq	quality	width	height	size	format	md5	sha1	xxh128	rot90	rot180	rot270	flipx	flipy	flipp	flipm	error	changed$"
check "TSV header names the columns" test $? -eq 0
rows=$(($(wc -l <"$T/out.tsv") - 1))
check "one row per image (7)" test "$rows" -eq 7
# every exact hash and dihedral hash equals the reference tool's vector
miss=$(awk -F'\t' 'NR==FNR { if (FNR > 1) { v[$1] = $2 " " $3 " " $6 " " $7 " " $8 " " $9 " " $10 " " $11 " " $12 }; next }
       FNR > 1 { n = split($1, p, "/"); k = p[n]; got = $2 " " $3 " " $11 " " $12 " " $13 " " $14 " " $15 " " $16 " " $17;
                 if (!(k in v) || v[k] != got) print k }' tests/data/vectors.tsv "$T/out.tsv")
check "vigil hash --exact --dihedral equals the reference vectors" test -z "$miss"
# content digests agree with md5sum, sha1sum and xxhsum -H2 on every file
dig_bad=0
for f in $D/*.jpg $D/*.png $D/*.webp; do
    row=$(awk -F'\t' -v p="$f" '$1 == p' "$T/out.tsv")
    m=$(echo "$row" | cut -f8); s=$(echo "$row" | cut -f9); x=$(echo "$row" | cut -f10)
    [ "$m" = "$(md5sum <"$f" | cut -d' ' -f1)" ] || dig_bad=1
    [ "$s" = "$(sha1sum <"$f" | cut -d' ' -f1)" ] || dig_bad=1
    [ "$x" = "$(xxhsum -H2 "$f" 2>/dev/null | cut -d' ' -f1 | sed 's/^XXH128_//')" ] || dig_bad=1
done
check "md5, sha1 and xxh128 agree with md5sum, sha1sum and xxhsum -H2" test $dig_bad -eq 0

# --- formats --------------------------------------------------------------------------------------
"$V" hash --format jsonl $D >"$T/out.jsonl"
check "jsonl: one valid JSON object per line" python3 -c "
import json,sys
rows=[json.loads(l) for l in open('$T/out.jsonl')]
assert len(rows)==7 and all(len(r['pdq'])==64 and r['error'] is None and r['changed'] is False for r in rows)"
"$V" hash --format csv $D >"$T/out.csv"
check "csv: header and 7 rows of 12 fields" python3 -c "
import csv
rows=list(csv.reader(open('$T/out.csv')))
assert rows[0][:3]==['path','pdq','quality'] and len(rows)==8 and all(len(r)==12 for r in rows)"
ls $D/*.jpg | "$V" hash - >"$T/stdin.tsv"
check "'-' reads paths from stdin" test "$(($(wc -l <"$T/stdin.tsv") - 1))" -eq "$(ls $D/*.jpg | wc -l)"
"$V" hash -o "$T/file.tsv" $D
check "-o writes the file atomically, no temporary left" sh -c "test -s '$T/file.tsv' && ! ls '$T'/file.tsv.tmp.* 2>/dev/null"
"$V" hash -j1 $D | cut -f1-3 >"$T/j1"; "$V" hash -j2 $D | cut -f1-3 >"$T/j2"
check "-j1 and -j2 give identical output in the same order" cmp -s "$T/j1" "$T/j2"

# --- bad input: every file named with a reason, the run goes on -----------------------------------
mkdir -p "$T/seized/sub"
"$B/vigil-tests" --fixtures "$T/seized" >/dev/null
cp $D/opencv-doc__hfs_001.jpg "$T/seized/good.jpg"
cp $D/opencv-doc__box.png "$T/seized/sub/$(printf 'name with spaces \377\376.png')"
cp $D/opencv-doc__left.jpg "$T/seized/sub/no-extension"
cp $D/opencv-doc__right.jpg "$T/seized/sub/comma,quote\".jpg"
cp $D/opencv-doc__hfs_001.jpg "$T/seized/secret.jpg"; chmod 000 "$T/seized/secret.jpg"
ln -s .. "$T/seized/sub/loop"
ln -s /nonexistent "$T/seized/dangling.jpg"
mkfifo "$T/seized/pipe.jpg"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    chmod -R a+rX "$T"; chmod 000 "$T/seized/secret.jpg"; chmod a+rx "$B" "$B/vigil"
    AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
else
    AS=""
fi
$AS "$V" hash "$T/seized" >"$T/bad.tsv" 2>"$T/bad.err"; rc=$?
check "a folder with bad files exits 1" test $rc -eq 1
row() { awk -F'\t' -v p="$1" '{ n = split($1, a, "/"); if (a[n] == p) print }' "$T/bad.tsv"; }
expect() { # NAME ERROR-WORDS
    r=$(row "$1")
    if [ -n "$r" ] && [ -z "$(echo "$r" | cut -f2)" ] && echo "$r" | cut -f11 | grep -q "$2" && grep -q "$1.*$2" "$T/bad.err"; then
        ok "bad input $1: empty hash, error '$2', message on stderr"
    else
        bad "bad input $1" "row: $r" "stderr: $(grep "$1" "$T/bad.err")"
    fi
}
expect empty.jpg "empty file"
expect truncated.jpg "truncated"
expect text.jpg "not a recognised image format"
expect one.png "1x1; PDQ needs at least 5x5"
expect four.png "4x4; PDQ needs at least 5x5"
expect bomb.png "100000x100000.*not decoded"
expect loop "symlink loop"
expect dangling.jpg "dangling symbolic link"
expect pipe.jpg "FIFO"
if [ -n "$AS" ] || [ "$(id -u)" -ne 0 ]; then expect secret.jpg "Permission denied"; fi
good=$(awk -F'\t' 'NR > 1 && length($2) == 64' "$T/bad.tsv" | wc -l)
check "the good files among them are all hashed (5)" test "$good" -eq 5
grep -q 'name with spaces \\xff\\xfe.png	[0-9a-f]\{64\}' "$T/bad.tsv"
check "non-UTF-8 bytes in a path are escaped as \\xHH in TSV and the file is hashed" test $? -eq 0
grep -q 'sub/no-extension	[0-9a-f]\{64\}' "$T/bad.tsv"
check "a file without extension is sniffed by content" test $? -eq 0
$AS "$V" hash --format jsonl "$T/seized" 2>/dev/null >"$T/bad.jsonl"
check "jsonl keeps non-UTF-8 names exactly in path_hex" python3 -c "
import json
rows=[json.loads(l) for l in open('$T/bad.jsonl')]
hx=[bytes.fromhex(r['path_hex']) for r in rows if 'path_hex' in r]
assert len(hx)==1 and hx[0].endswith(b'name with spaces \xff\xfe.png')
assert all((r['pdq'] is None) == (r['error'] is not None) for r in rows)"
$AS "$V" hash --format csv "$T/seized" 2>/dev/null >"$T/bad.csv"
check "csv quotes a name with a comma and a quote" python3 -c "
import csv
rows=list(csv.reader(open('$T/bad.csv', encoding='utf-8', errors='surrogateescape')))
assert any(r[0].endswith('comma,quote\".jpg') and len(r[1])==64 for r in rows)"
"$V" hash "$T/does-not-exist" >/dev/null 2>"$T/err"; rc=$?
check "a missing path exits 1 and is named" sh -c "test $rc -eq 1 && grep -q 'does-not-exist: cannot open: No such file' '$T/err'"

# --- index and match ------------------------------------------------------------------------------
"$V" hash --dihedral $D >"$T/refs.tsv"
"$V" index build -o "$T/v.vgi" --set victims "$T/refs.tsv" 2>"$T/err"
check "index build from vigil hash output" sh -c "grep -q '7 entries added' '$T/err' && test -s '$T/v.vgi'"
"$V" index info "$T/v.vgi" | awk -F'\t' 'NR == 2 && $2 == "victims" && $3 == 7 { ok = 1 } END { exit !ok }'
check "index info reports the set and 7 entries" test $? -eq 0
"$V" index verify "$T/v.vgi" | grep -q ": ok$"
check "index verify says ok" test $? -eq 0
# edited copies: transposed, flipped and rotated images must match their originals with --dihedral
mkdir -p "$T/q"
cp $D/opencv-doc__hfs_001.jpg "$T/q/same.jpg"
"$V" match --index "$T/v.vgi" "$T/q" >"$T/m.tsv"
check "match finds an identical copy at distance 0" awk -F'\t' 'NR == 2 && $6 == 0 && $7 == "orig" && $5 ~ /hfs_001/ { ok = 1 } END { exit !ok }' "$T/m.tsv"
head -1 "$T/m.tsv" | grep -q "^query	query_pdq	index	set	ref_id	distance	transform	ref_quality	labels$"
check "match TSV header" test $? -eq 0
"$V" index export "$T/v.vgi" >"$T/export.tsv"
"$V" index build -o "$T/v2.vgi" --set victims "$T/export.tsv" 2>/dev/null
"$V" index export "$T/v2.vgi" >"$T/export2.tsv"
check "export -> build -> export gives the same entries" cmp -s "$T/export.tsv" "$T/export2.tsv"
"$V" index remove "$T/v2.vgi" "$(awk -F'\t' 'NR == 2 { print $3 }' "$T/export.tsv")" 2>/dev/null
check "index remove tombstones one entry" sh -c "'$V' index info '$T/v2.vgi' | awk -F'\t' 'NR == 2 { exit !(\$3 == 6 && \$6 == 1) }'"
printf '%s new-ref\n' "$(awk -F'\t' 'NR == 2 { print $1 }' "$T/export.tsv")" >"$T/plain.txt"
"$V" index add "$T/v2.vgi" "$T/plain.txt" 2>/dev/null
"$V" match --index "$T/v2.vgi" "$T/plain.txt" | grep -q "	new-ref	0	orig	"
check "index add: a plain-list entry is matched at once, before compact" test $? -eq 0
"$V" index compact "$T/v2.vgi" && "$V" index info "$T/v2.vgi" >"$T/info2"
check "index compact folds the added entry in" awk -F'\t' 'NR == 2 { exit !($3 == 7 && $4 == 7 && $5 == 0 && $6 == 0) }' "$T/info2"
"$V" index build -o "$T/h.vgi" --set hotels $D/opencv-doc__left.jpg 2>/dev/null
"$V" match --index "$T/v.vgi" --index "$T/h.vgi" $D/opencv-doc__left.jpg | tail -n +2 | cut -f4 | sort -u | tr '\n' ' ' >"$T/sets"
check "several --index in one pass report each set" grep -q "hotels victims" "$T/sets"
head -c 300 "$T/v.vgi" >"$T/trunc.vgi"
"$V" match --index "$T/trunc.vgi" $D >/dev/null 2>"$T/err"; rc=$?
check "a truncated index: exit 2 and a message naming the file" sh -c "test $rc -eq 2 && grep -q 'trunc.vgi: corrupt: not a vigil index (300 bytes is too short)' '$T/err'"
cut=$(($(stat -c %s "$T/v.vgi") - 100))
head -c $cut "$T/v.vgi" >"$T/trunc2.vgi"
"$V" index info "$T/trunc2.vgi" >/dev/null 2>"$T/err"; rc=$?
check "an index cut short: the header's size against the file's" sh -c "test $rc -eq 2 && grep -q 'truncated or extended: the header says [0-9]* bytes, the file has $cut' '$T/err'"
"$V" index verify "$T/v.vgi" >/dev/null && test "$(stat -c %a "$T/v.vgi")" = 644
check "index files are written mode 0644, not mkstemp's 0600" test $? -eq 0
"$V" index verify $D/opencv-doc__box.png >/dev/null 2>"$T/err"; rc=$?
check "a PNG given as index: exit 2, not a vigil index" sh -c "test $rc -eq 2 && grep -q 'not a vigil index' '$T/err'"
printf 'pdq,id\nnothex,a\n' >"$T/badlist.csv"
"$V" index build -o "$T/b.vgi" "$T/badlist.csv" 2>"$T/err"; rc=$?
check "a bad list line: exit 1, FILE:LINE and the reason" sh -c "test $rc -eq 1 && grep -q 'badlist.csv:2: .nothex. is not a 64-hex-digit PDQ hash' '$T/err'"

# --- big files, files that change while read, truncated images, JPEG XL --------------------------
# A sparse 1100 MiB file, over the 1 GiB whole-read limit: digested in a stream. The expected
# digests are md5sum's and sha1sum's of 1100 MiB of zeros, computed once (running them here too
# would double the ~5 s this costs).
truncate -s 1100M "$T/big.bin"
"$V" hash -q "$T/big.bin" >"$T/big.tsv" 2>"$T/err"; rc=$?
got=$(awk -F'\t' 'NR == 2 { print $6, $8, $9, $11, $12 }' "$T/big.tsv")
check "a 1100 MiB file: size, md5 and sha1 as md5sum/sha1sum give them, 'not an image', exit 1" test "$rc $got" = \
    "1 1153433600 0b33cbe56db3c181aeadd69f8eb14131 19163b528164a589994922b3523169b9374687c4 format: not a recognised image format false"
rm -f "$T/big.bin"
# the same JPEG and PNG files read whole and streamed (the limit lowered for the test): the same
# rows; a WebP that big is not decoded (libvips's WebP decoder would hold all of it), but digested
"$V" hash -q --dihedral $D/*.jpg $D/*.png >"$T/whole.tsv" 2>/dev/null
VIGIL_TEST_STREAM_ABOVE=1000 "$V" hash -q --dihedral $D/*.jpg $D/*.png >"$T/streamed.tsv" 2>/dev/null
check "hash: JPEG and PNG read whole or streamed, every column the same" cmp -s "$T/whole.tsv" "$T/streamed.tsv"
"$V" index build -o "$T/whole.vgi" "$T/whole.tsv" 2>/dev/null
"$V" match --index "$T/whole.vgi" --format jsonl $D/opencv-doc__box.png >"$T/whole.jsonl" 2>/dev/null
check "an index built from hash output does not take the 'changed' column as a label" sh -c \
    "grep -q '\"distance\":0' '$T/whole.jsonl' && ! grep -q 'changed=' '$T/whole.jsonl'"
VIGIL_TEST_STREAM_ABOVE=1000 "$V" hash -q $D/*.webp >"$T/streamed.tsv" 2>/dev/null
check "hash: a WebP over the whole-read limit: digests, and 'not decoded' with the reason" sh -c \
    "awk -F'\t' 'NR == 2 { print length(\$8), \$11 }' '$T/streamed.tsv' | grep -q '^32 too-large: a webp file over the whole-read limit'"
# a file whose size at open (0) is not what is read: changed, hashed as read
"$V" hash -q --format jsonl /proc/self/status "$D/opencv-doc__box.png" >"$T/changed.jsonl" 2>/dev/null
check "hash: a file that changed while read says changed: true, a steady one false" python3 -c "
import json
r=[json.loads(l) for l in open('$T/changed.jsonl')]
assert r[0]['changed'] is True and r[0]['size'] > 0 and len(r[0]['md5']) == 32, r[0]
assert r[1]['changed'] is False and len(r[1]['pdq']) == 64, r[1]"
mkdir -p "$T/cut"
head -c 12000 $D/opencv-doc__left.jpg >"$T/cut/left.jpg"
head -c 25000 $D/opencv-doc__box.png >"$T/cut/box.png"
cp tests/data/jxl/flower-64.jxl tests/data/jxl/flower-64-container.jxl "$T/cut/"
"$V" hash -q "$T/cut" >"$T/cut.tsv" 2>"$T/err"; rc=$?
cut_row() { awk -F'\t' -v p="$T/cut/$1" '$1 == p { print $7 "|" $11 }' "$T/cut.tsv"; }
check "hash: a folder of truncated and JPEG XL files exits 1" test $rc -eq 1
check "hash: a truncated JPEG is refused, saying where it ends" sh -c \
    "echo '$(cut_row left.jpg)' | grep -q '^jpeg|decode: truncated image: the JPEG ends inside its compressed image data'"
check "hash: a truncated PNG is refused, saying where it ends" sh -c \
    "echo \"$(cut_row box.png)\" | grep -q \"^png|decode: truncated image: the PNG ends inside its 'IDAT' chunk\""
check "hash: JPEG XL (codestream and container) is an unsupported format that says why, not corrupt" sh -c \
    "echo '$(cut_row flower-64.jxl) $(cut_row flower-64-container.jxl)' | grep -q '^jxl|format: JPEG XL: .* jxl|format: JPEG XL: ' &&
     grep -q 'flower-64.jxl: format: JPEG XL: not supported: this libvips marks its JXL loader untrusted' '$T/err'"

# --- the library's surface ------------------------------------------------------------------------
test -f "$B/libvigil.so" || bad "libvigil.so was not built"
leak=$(nm -D --defined-only "$B/libvigil.so" | awk '$2 ~ /^[TDBR]$/ { print $3 }' | grep -v '^vigil_' || true)
check "libvigil.so exports only vigil_* symbols" test -z "$leak"
if [ "$B" = build ]; then
    make -s install DESTDIR="$T/root" PREFIX=/usr >/dev/null 2>&1
    cat >"$T/use.c" <<'EOC'
#include <vigil.h>
#include <stdio.h>
int main(int argc, char **argv) {
    vigil_hash_result r; vigil_error e; char hex[65];
    if (vigil_hash_file(argv[1], NULL, &r, &e)) { printf("%s\n", e.message); return 1; }
    vigil_pdq_to_hex(&r.pdq, hex); printf("%s %s\n", vigil_version(), hex); return 0;
}
EOC
    PKG_CONFIG_PATH="$T/root/usr/lib/pkgconfig" cc -I"$T/root/usr/include" "$T/use.c" -o "$T/use" \
        "$T/root/usr/lib/libvigil.a" $(pkg-config --libs vips libxxhash libpng nettle) -fopenmp -lm 2>"$T/cc.err"
    want=$("$V" hash -q --no-digests $D/opencv-doc__hfs_001.jpg | awk -F'\t' 'NR == 2 { print $2 }')
    check "make install: header + static library + vigil.pc build a program that hashes" \
        sh -c "test -f '$T/root/usr/lib/pkgconfig/vigil.pc' && '$T/use' $D/opencv-doc__hfs_001.jpg | grep -q ' $want\$'"
fi

finish
[ $fail -eq 0 ]

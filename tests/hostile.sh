#!/bin/sh
# hostile.sh - special files where a regular file is expected, and outputs that are not regular
# files or that are inputs: each refused at once with the path and the reason, nothing replaced.
# Every command runs under `timeout 10` (a FIFO must not hang it) and a 4 GiB address-space limit
# (/dev/zero must not be read until memory runs out).
# Usage: tests/hostile.sh BUILD_DIR   (prints "ok - NAME" / "FAIL - NAME" and "hostile: N passed, N failed")
NAME=hostile
. tests/lib.sh

img=$D/opencv-doc__left.jpg
# run LOG CMD...: runs CMD bounded in time and memory, stderr to LOG; sets rc (124: it hung).
# ASan reserves terabytes of address space for its shadow: no address-space limit there.
vm=4194304
nm "$V" 2>/dev/null | grep -q __asan_init && vm=unlimited
run() { log=$1; shift; rc=$( (ulimit -v $vm; timeout 10 "$@" >"$T/stdout" 2>"$log"); echo $?); }
# refused NAME WANT-RC PATTERN: the last run exited WANT-RC and its stderr matches PATTERN
refused() {
    if [ "$rc" -eq "$2" ] && grep -q -- "$3" "$T/err"; then ok "$1"; else bad "$1" "exit $rc (want $2)" "stderr: $(head -3 "$T/err")"; fi
}

mkfifo "$T/fifo"
mkdir "$T/dir"
python3 -c "import socket; socket.socket(socket.AF_UNIX).bind('$T/sock')"
"$V" index build -o "$T/v.vgi" $D 2>/dev/null
"$V" rooms build -j 2 -o "$T/r.vgr" "$img" 2>/dev/null
cp "$T/v.vgi" "$T/v.orig"

# --- special files given as indexes, lists, images, masks ----------------------------------------
run "$T/err" "$V" index info "$T/fifo"
refused "a FIFO as index (info): exit 2 at once, 'is a FIFO'" 2 "fifo: not-a-file: is a FIFO"
run "$T/err" "$V" match --index "$T/fifo" "$img"
refused "a FIFO as index (match): exit 2 at once" 2 "fifo: not-a-file: is a FIFO"
run "$T/err" "$V" scan --index "$T/fifo" -o "$T/scan-fifo" "$img"
refused "a FIFO as index (scan): exit 2 at once" 2 "fifo: not-a-file: is a FIFO"
run "$T/err" "$V" rooms query --index "$T/fifo" "$img"
refused "a FIFO as room index: exit 2 at once" 2 "fifo: not-a-file: is a FIFO"
run "$T/err" "$V" index info "$T/dir"
refused "a directory as index: exit 2, 'is a directory'" 2 "dir: not-a-file: is a directory"
run "$T/err" "$V" index verify "$T/sock"
refused "a socket as index: exit 2, 'is a socket'" 2 "sock: not-a-file: is a socket"
run "$T/err" "$V" rooms info /dev/zero
refused "/dev/zero as room index: exit 2, 'is a character device'" 2 "/dev/zero: not-a-file: is a character device"

run "$T/err" "$V" index build -o "$T/l.vgi" "$T/fifo"
refused "a FIFO as list: skipped with the reason, no hang" 1 "fifo: skipped: a FIFO"
run "$T/err" "$V" index build -o "$T/l.vgi" "$T/sock"
refused "a socket as list: skipped with the reason" 1 "sock: skipped: a socket"
run "$T/err" "$V" match --index "$T/v.vgi" /dev/zero
refused "/dev/zero as a list or image to match: exit 1, 'a character device'" 1 "/dev/zero: skipped: a character device"
head -c 2000000 /dev/zero >"$T/zeros"
run "$T/err" sh -c "VIGIL_MAX_LIST_BYTES=1M '$V' index build -o '$T/l.vgi' - <'$T/zeros'"
refused "a list on standard input is capped (VIGIL_MAX_LIST_BYTES)" 1 "-: more than 1048576 bytes, over the limit; VIGIL_MAX_LIST_BYTES raises it"
"$V" hash $D >"$T/refs.tsv" 2>/dev/null
run "$T/err" env VIGIL_MAX_LIST_BYTES=1K "$V" index build -o "$T/l.vgi" "$T/refs.tsv"
refused "a list file over the cap is refused from its size" 1 "refs.tsv: is [0-9]* bytes, over the limit of 1024"
run "$T/err" env VIGIL_MAX_LIST_BYTES=-5 "$V" index info "$T/v.vgi"
refused "a bad VIGIL_MAX_LIST_BYTES: exit 2, named" 2 "VIGIL_MAX_LIST_BYTES needs a positive number"
run "$T/err" env VIGIL_MAX_LIST_BYTES=64K "$V" index build -o "$T/l.vgi" "$T/refs.tsv"
check "VIGIL_MAX_LIST_BYTES with a suffix lets a small list through" test "$rc" -eq 0

printf 'path,room\n/dev/zero,a\n%s,b\n' "$PWD/$img" >"$T/rooms.csv"
run "$T/err" "$V" rooms build -j 2 -o "$T/r2.vgr" "$T/rooms.csv"
refused "/dev/zero named in a room list: refused, the other image indexed" 1 "/dev/zero: is a character device, not a regular file"
check "... and the room index holds the one good image" sh -c "'$V' rooms info '$T/r2.vgr' | awk -F'\t' 'NR == 2 { exit !(\$2 == 1) }'"
run "$T/err" "$V" rooms query -j 2 --index "$T/r.vgr" --mask-image /dev/zero "$img"
refused "/dev/zero as a mask image: exit 2, 'is a character device'" 2 "/dev/zero: is a character device"
run "$T/err" "$V" rooms query -j 2 --index "$T/r.vgr" --mask-image "$T/fifo" "$img"
refused "a FIFO as a mask image: exit 2 at once" 2 "fifo: is a FIFO"
run "$T/err" "$V" rooms query -j 2 --index "$T/r.vgr" /dev/zero
refused "/dev/zero as a room query: exit 1, named" 1 "/dev/zero: skipped: a character device"

# the report never reads a matched file again (its thumbnail is the scan's): one replaced by a
# FIFO before the reports are rewritten is not waited on, and keeps its thumbnail
mkdir "$T/seized"
cp "$img" "$T/seized/a.jpg"
"$V" scan -j 2 -q --index "$T/v.vgi" -o "$T/out" "$T/seized" >/dev/null 2>&1
rm "$T/seized/a.jpg"; mkfifo "$T/seized/a.jpg"
run "$T/err" "$V" scan -j 2 -q --resume --index "$T/v.vgi" -o "$T/out" "$T/seized"
check "report: a matched file now a FIFO is not waited on; its thumbnail is the one the scan took" \
    sh -c "test $rc -ne 124 && grep -q '\\[0,0,' '$T/out/report.html' && grep -q 'id=\"vigil-t0\">/9j/' '$T/out/report.html'"

# --- outputs that are not regular files ----------------------------------------------------------
# a character device: as root a copy of /dev/null's node in the scratch folder (a regression must
# not replace the machine's /dev/null); otherwise /dev/null itself, which no one else can replace
null=/dev/null
if [ "$(id -u)" -eq 0 ]; then mknod "$T/null" c 1 3 2>/dev/null && null=$T/null || null=; fi
if [ -n "$null" ]; then
    for cmd in "hash -o $null $img" "index build -o $null $img" "match --index $T/v.vgi -o $null $img" \
               "rooms build -o $null $img" "index export $T/v.vgi -o $null"; do
        run "$T/err" "$V" $cmd
        if [ "$rc" -eq 2 ] && grep -q "is a character device: not replaced" "$T/err" && test -c "$null"; then
            ok "-o a character device ($(echo "$cmd" | cut -d' ' -f1-2)): refused, still a device"
        else
            bad "-o a character device: $cmd" "exit $rc" "$(ls -l "$null")" "stderr: $(head -2 "$T/err")"
        fi
    done
else
    echo "# skipped: -o a character device (root without mknod)"
fi

echo "the link's target" >"$T/target"
cp "$T/target" "$T/target.orig"
ln -s "$T/target" "$T/link"
ln -s "$T/v.vgi" "$T/vlink.vgi"
for cmd in "hash -o $T/link $img" "index build -o $T/link $img" "rooms build -o $T/link $img" \
           "index add $T/vlink.vgi $img" "index compact $T/vlink.vgi"; do
    run "$T/err" "$V" $cmd
    l=$(echo "$cmd" | awk '{ for (i = 1; i <= NF; i++) if ($i ~ /link/) print $i }')
    if [ "$rc" -eq 2 ] && grep -q "is a symbolic link: not replaced" "$T/err" && test -L "$l" &&
       cmp -s "$T/target" "$T/target.orig" && cmp -s "$T/v.vgi" "$T/v.orig"; then
        ok "-o a symbolic link ($(echo "$cmd" | cut -d' ' -f1-2)): refused, link and target untouched"
    else
        bad "-o a symbolic link: $cmd" "exit $rc" "stderr: $(head -2 "$T/err")"
    fi
done
for cmd in "hash -o $T/fifo $img" "index build -o $T/fifo $img" "match --index $T/v.vgi -o $T/fifo $img"; do
    run "$T/err" "$V" $cmd
    if [ "$rc" -eq 2 ] && grep -q "fifo: is a FIFO: not replaced" "$T/err" && test -p "$T/fifo"; then
        ok "-o a FIFO ($(echo "$cmd" | cut -d' ' -f1-2)): refused at once, still a FIFO"
    else
        bad "-o a FIFO: $cmd" "exit $rc" "stderr: $(head -2 "$T/err")"
    fi
done
for cmd in "hash -o $T/dir $img" "index build -o $T/dir $img" "rooms build -o $T/dir $img"; do
    run "$T/err" "$V" $cmd
    if [ "$rc" -eq 2 ] && grep -q "dir: is a directory: not replaced" "$T/err" && test -d "$T/dir" && [ -z "$(ls -A "$T/dir")" ]; then
        ok "-o a folder ($(echo "$cmd" | cut -d' ' -f1-2)): refused, the folder untouched"
    else
        bad "-o a folder: $cmd" "exit $rc" "stderr: $(head -2 "$T/err")"
    fi
done
check "no temporary file left beside refused outputs" sh -c "! ls '$T'/*.tmp.* 2>/dev/null"
mkdir "$T/o3"
ln -s "$T/target" "$T/o3/report.html"
run "$T/err" "$V" scan -j 2 -q --index "$T/v.vgi" -o "$T/o3" "$img"
check "scan: a report in OUTDIR that is a symbolic link is refused, its target untouched" \
    sh -c "test $rc -eq 2 && grep -q 'report.html: is a symbolic link' '$T/err' && test -L '$T/o3/report.html' && cmp -s '$T/target' '$T/target.orig'"

# --- outputs that are inputs ---------------------------------------------------------------------
cp "$img" "$T/photo.jpg"
run "$T/err" "$V" hash -o "$T/photo.jpg" "$T/photo.jpg"
check "hash -o PHOTO PHOTO: refused, the photo untouched" \
    sh -c "test $rc -eq 2 && grep -q 'photo.jpg: is also an input' '$T/err' && cmp -s '$T/photo.jpg' '$img'"
cp "$T/refs.tsv" "$T/list.csv"
run "$T/err" "$V" index build -o "$T/list.csv" "$T/list.csv"
check "index build -o LIST LIST: refused, the list untouched" \
    sh -c "test $rc -eq 2 && grep -q 'list.csv: is also an input' '$T/err' && cmp -s '$T/list.csv' '$T/refs.tsv'"
ln "$T/list.csv" "$T/hardlink.csv"
run "$T/err" "$V" index build -o "$T/hardlink.csv" "$T/list.csv"
check "an output that is a hard link to an input: refused" sh -c "test $rc -eq 2 && grep -q 'is also an input' '$T/err'"
run "$T/err" "$V" index export "$T/v.vgi" -o "$T/v.vgi"
check "index export FILE -o FILE: refused, the index untouched" sh -c "test $rc -eq 2 && cmp -s '$T/v.vgi' '$T/v.orig'"
run "$T/err" "$V" match --index "$T/v.vgi" -o "$T/v.vgi" "$img"
check "match -o INDEX: refused, the index untouched" sh -c "test $rc -eq 2 && cmp -s '$T/v.vgi' '$T/v.orig'"
run "$T/err" "$V" index add "$T/v.vgi" -o "$T/list.csv" "$T/list.csv"
check "index add -o INPUT: refused, the list untouched" sh -c "test $rc -eq 2 && cmp -s '$T/list.csv' '$T/refs.tsv'"
run "$T/err" "$V" rooms query -j 2 --index "$T/r.vgr" -o "$T/photo.jpg" "$T/photo.jpg"
check "rooms query -o IMAGE: refused, the image untouched" sh -c "test $rc -eq 2 && cmp -s '$T/photo.jpg' '$img'"
mkdir "$T/ev"; cp "$img" "$T/ev/IMG_0001.jpg"
run "$T/err" "$V" hash -o "$T/ev/IMG_0001.jpg" "$T/ev"
check "an existing file inside an input folder: refused, the photo untouched" \
    sh -c "test $rc -eq 2 && grep -q 'lies in the input folder' '$T/err' && cmp -s '$T/ev/IMG_0001.jpg' '$img'"
run "$T/err" "$V" hash -o "$T/ev/new.tsv" "$T/ev"
check "a new file inside an input folder is allowed" sh -c "test $rc -eq 0 && test -s '$T/ev/new.tsv'"
cp "$T/v.vgi" "$T/ev/self.vgi"
run "$T/err" "$V" index add "$T/ev/self.vgi" "$T/ev/IMG_0001.jpg"
check "index add to an index that lies in an input folder is allowed (it is read first)" test "$rc" -eq 0

# --- a build whose inputs all failed -------------------------------------------------------------
printf 'pdq,id\nnothex,a\n' >"$T/badlist.csv"
cp "$T/v.orig" "$T/v.vgi"
run "$T/err" "$V" index build -o "$T/v.vgi" "$T/badlist.csv" "$T/nonexistent" /dev/zero
check "index build, every input failing, over an index: exit 1, the index byte-identical" \
    sh -c "test $rc -eq 1 && cmp -s '$T/v.vgi' '$T/v.orig' && grep -q 'v.vgi: no entries: every input failed (3 bad inputs or lines, listed above); the index there is left unchanged' '$T/err'"
run "$T/err" "$V" index build -o "$T/none.vgi" "$T/badlist.csv"
check "... and with no index there, none is written" \
    sh -c "test $rc -eq 1 && ! test -e '$T/none.vgi' && grep -q 'no index written' '$T/err'"
cp "$T/r.vgr" "$T/r.orig"
run "$T/err" "$V" rooms build -j 2 -o "$T/r.vgr" "$T/nonexistent" /dev/zero
check "rooms build, every input failing, over a room index: exit 1, byte-identical" \
    sh -c "test $rc -eq 1 && cmp -s '$T/r.vgr' '$T/r.orig' && grep -q 'left unchanged' '$T/err'"

# --- the atomic write reaches the disk: the file, then its folder, are fsync'd ---------------------
if command -v strace >/dev/null && strace -o /dev/null true 2>/dev/null; then
    strace -f -e trace=fsync,fdatasync,rename,openat -o "$T/trace" "$V" hash -o "$T/synced.tsv" "$img" >/dev/null 2>&1
    check "-o: fsync of the file, rename, then fsync of the folder" python3 -c "
import re
t = open('$T/trace').read().splitlines()
ren = [i for i, l in enumerate(t) if 'rename(' in l and 'synced.tsv\")' in l]
assert ren and any('fsync(' in l for l in t[:ren[0]])
fd = [re.search(r'= (\d+)$', l).group(1) for l in t[ren[0]:] if 'openat' in l and '\"$T\"' in l and 'O_DIRECTORY' in l]
assert fd and any(re.search(r'fsync\(%s\)' % fd[0], l) for l in t[ren[0]:])"
else
    echo "# skipped: the fsync trace (no usable strace)"
fi

finish
[ $fail -eq 0 ]

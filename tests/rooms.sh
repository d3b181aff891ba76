#!/bin/sh
# rooms.sh - end-to-end tests of `vigil rooms` and `vigil scan --rooms`: reference lists with hotel
# labels, queries from another framing with an occluder and a mask, unknown places, incremental
# adds, bad inputs, and room matches in the scan's outputs. The geometry itself (true homographies
# between perspective views) is tested in tests/test_rooms.c.
# Usage: tests/rooms.sh BUILD_DIR   (prints "ok - NAME" / "FAIL - NAME" and "rooms: N passed, N failed")
NAME=rooms
. tests/lib.sh
P=tests/data/panoramas
py() { python3 -c "$@"; }

# references: three overlapping bands of the equirectangular photos of two places (near the
# horizon the projection is close to a perspective view); the city is kept back as unknown
mkdir -p "$T/refs" "$T/q" "$T/city"
for p in interior courtyard; do
    i=0
    for x in 0 330 660; do
        vips crop "$P/blender-data__$p.jpg" "$T/refs/$p-$i.jpg" $x 120 364 280
        i=$((i + 1))
    done
done
{
    echo "path,hotel_id,chain,room,note"
    for p in interior courtyard; do for i in 0 1 2; do echo "refs/$p-$i.jpg,$p,Test Chain,r$i,seen from the door"; done; done
} >"$T/rooms.csv"
# a query: another framing of the interior (shifted, zoomed, turned), then a "person" pasted in front
vips crop "$P/blender-data__interior.jpg" "$T/q0.v" 420 150 300 220
vips similarity "$T/q0.v" "$T/q/interior.jpg" --scale 1.4 --angle 6
vips black "$T/person.v" 120 300 --bands 3
vips linear "$T/person.v" "$T/person2.v" 1 90
vips insert "$T/q/interior.jpg" "$T/person2.v" "$T/q/interior-person.jpg" 150 40
vips crop "$P/blender-data__city.jpg" "$T/city/city.jpg" 300 130 360 260

"$V" rooms build -o "$T/rooms.vgr" "$T/rooms.csv" $D >"$T/out" 2>"$T/err"
rc=$?
check "rooms build from a labelled list and a folder: exit 0" test $rc -eq 0
"$V" rooms info "$T/rooms.vgr" >"$T/info"
n=$(awk -F'\t' 'NR == 2 { print $2 }' "$T/info")
check "rooms info: 6 references + 7 distractor photos" test "$n" = 13

"$V" rooms query --index "$T/rooms.vgr" --format jsonl "$T/q/interior.jpg" >"$T/q.jsonl" 2>"$T/err"
rc=$?
check "rooms query: another framing of the room finds it, with its labels" sh -c "test $rc -eq 0 && python3 -c \"
import json,sys
r=[json.loads(l) for l in open('$T/q.jsonl')]
top=r[0]
assert top['rank']==1 and 'hotel_id=interior' in top['labels'] and 'chain=Test_Chain' in top['labels'], top
assert top['inliers']>=12 and top['reference'].endswith('.jpg'), top
rooms=[(x['labels'].split('hotel_id=')[1].split()[0], x['labels'].split('room=')[1].split()[0]) for x in r if x['labels']]
assert len(rooms)==len(set(rooms)), ('one row per room', rooms)
\""
"$V" rooms query --index "$T/rooms.vgr" --format jsonl --mask 150,40,120,300 "$T/q/interior-person.jpg" >"$T/qm.jsonl" 2>"$T/err"
check "rooms query with an occluder and --mask: still the room" py "
import json
r=json.loads(open('$T/qm.jsonl').readline())
assert 'hotel_id=interior' in (r['labels'] or ''), r"
# a white-on-black mask image of the same rectangle
vips black "$T/m0.v" 420 308
vips draw_rect "$T/m0.v" 255 150 40 120 268 --fill
vips copy "$T/m0.v" "$T/mask.png"
"$V" rooms query --index "$T/rooms.vgr" --mask-image "$T/mask.png" "$T/q/interior-person.jpg" >"$T/qi.tsv" 2>"$T/err"
check "rooms query with --mask-image: still the room" grep -q "hotel_id=interior" "$T/qi.tsv"
"$V" rooms query --index "$T/rooms.vgr" --format csv "$T/city/city.jpg" >"$T/qc.csv" 2>"$T/err"
rc=$?
check "a place not in the index: exit 0, one row without a reference" sh -c "test $rc -eq 0 && test \$(wc -l <'$T/qc.csv') -eq 2 && grep -q '^$T/city/city.jpg,[0-9]*,,,,,$' '$T/qc.csv'"

"$V" rooms query --index "$T/rooms.vgr" --mask 1,2,3 "$T/q/interior.jpg" >/dev/null 2>"$T/err"
rc=$?
check "--mask 1,2,3: exit 2, says what a mask is" sh -c "test $rc -eq 2 && grep -q 'mask needs X,Y,W,H' '$T/err'"
"$V" rooms query --index "$T/rooms.vgr" "$T/q/nonexistent.jpg" "$T/q/interior.jpg" >"$T/qx.tsv" 2>"$T/err"
rc=$?
check "a missing query among good ones: exit 1, named, the rest answered" sh -c "test $rc -eq 1 && grep -q 'nonexistent.jpg: cannot open' '$T/err' && grep -q hotel_id=interior '$T/qx.tsv'"
head -c 5000 "$T/rooms.vgr" >"$T/cut.vgr"
"$V" rooms query --index "$T/cut.vgr" "$T/q/interior.jpg" >/dev/null 2>"$T/err"
rc=$?
check "a truncated room index: exit 2, named, says truncated" sh -c "test $rc -eq 2 && grep -q 'cut.vgr: corrupt: truncated or extended' '$T/err'"
cp "$T/rooms.vgr" "$T/flip.vgr"
printf '\377' | dd of="$T/flip.vgr" bs=1 seek=70000 conv=notrunc 2>/dev/null
"$V" rooms query --index "$T/flip.vgr" "$T/q/interior.jpg" >/dev/null 2>"$T/err"
rc=$?
check "a damaged room index: exit 2, checksum mismatch" sh -c "test $rc -eq 2 && grep -q 'flip.vgr: corrupt: checksum mismatch' '$T/err'"
"$V" rooms query --index "$D/opencv-doc__box.png" "$T/q/interior.jpg" >/dev/null 2>"$T/err"
rc=$?
check "an image given as the index: exit 2, not a room index" sh -c "test $rc -eq 2 && grep -q 'not a vigil room index' '$T/err'"
printf 'name,hotel_id\nrefs/interior-0.jpg,x\n' >"$T/nopath.csv"
printf 'broken' >"$T/refs/broken.jpg"
printf 'path,hotel_id\nrefs/broken.jpg,x\nrefs/interior-1.jpg,y,extra\nrefs/interior-2.jpg,z\n' >"$T/bad.csv"
"$V" rooms build -o "$T/bad.vgr" "$T/nopath.csv" "$T/bad.csv" 2>"$T/err"
rc=$?
check "bad list rows and images: exit 1, each named, the good row kept" sh -c "test $rc -eq 1 && grep -q 'nopath.csv: not a room list' '$T/err' &&
    grep -q 'bad.csv:3: 3 fields where the header has 2' '$T/err' && grep -q 'broken.jpg: ' '$T/err' &&
    test \$('$V' rooms info '$T/bad.vgr' | awk -F'\t' 'NR == 2 { print \$2 }') -eq 1"

# one rule for truncated images, as hash and scan have it: references, queries and mask images
# cut short are refused as "truncated image", never used as a partial decode
vips copy "$T/refs/interior-2.jpg" "$T/i2.png"
s=$(wc -c <"$T/refs/interior-1.jpg"); head -c $((s / 2)) "$T/refs/interior-1.jpg" >"$T/cut.jpg"
s=$(wc -c <"$T/i2.png"); head -c $((s / 2)) "$T/i2.png" >"$T/cut.png"
"$V" rooms build -o "$T/cut-refs.vgr" "$T/refs/interior-0.jpg" "$T/cut.jpg" "$T/cut.png" 2>"$T/err"
rc=$?
check "rooms build: truncated JPEG and PNG references refused as 'truncated image', the good one added" sh -c "test $rc -eq 1 &&
    grep -q 'cut.jpg: truncated image: the JPEG ends' '$T/err' && grep -q \"cut.png: truncated image: the PNG ends inside its 'IDAT'\" '$T/err' &&
    test \$('$V' rooms info '$T/cut-refs.vgr' | awk -F'\t' 'NR == 2 { print \$2 }') -eq 1"
"$V" rooms query --index "$T/rooms.vgr" --format jsonl "$T/cut.jpg" "$T/cut.png" "$T/q/interior.jpg" >"$T/qcut.jsonl" 2>"$T/err"
rc=$?
check "rooms query: truncated queries refused the same way, the good one answered" sh -c "test $rc -eq 1 &&
    grep -q 'cut.jpg: truncated image: the JPEG ends' '$T/err' && grep -q 'cut.png: truncated image: the PNG ends' '$T/err' &&
    ! grep -q 'cut.jpg\|cut.png' '$T/qcut.jsonl' && grep -q 'hotel_id=interior' '$T/qcut.jsonl'"
for m in cut.png cut.jpg; do
    "$V" rooms query --index "$T/rooms.vgr" --mask-image "$T/$m" "$T/q/interior-person.jpg" >/dev/null 2>"$T/err"
    rc=$?
    check "rooms query: a truncated mask image ($m) is refused, named, exit 2" sh -c "test $rc -eq 2 &&
        grep -q '$m: not a usable mask image: truncated image: the ' '$T/err'"
done

# incremental: the city added to the existing file is then found
cp "$T/rooms.vgr" "$T/before.vgr"
vips crop "$P/blender-data__city.jpg" "$T/refs/city-0.jpg" 250 110 420 300
"$V" rooms add "$T/rooms.vgr" --labels "hotel_id=city room=7" "$T/refs/city-0.jpg" 2>"$T/err"
rc=$?
"$V" rooms query --index "$T/rooms.vgr" "$T/city/city.jpg" >"$T/qc2.tsv" 2>>"$T/err"
check "rooms add: one more reference, then the city is found" sh -c "test $rc -eq 0 && grep -q 'hotel_id=city room=7' '$T/qc2.tsv' &&
    test \$('$V' rooms info '$T/rooms.vgr' | awk -F'\t' 'NR == 2 { print \$2 }') -eq 14"

# scan: room matches beside hash matches, in results.jsonl, summary.json and the review page
mkdir -p "$T/seized"
cp "$T/q/interior-person.jpg" "$T/q/interior.jpg" "$T/city/city.jpg" "$T/seized/"
cp "$D/opencv-doc__box.png" "$T/seized/"
printf 'not an image' >"$T/seized/junk.jpg"
"$V" hash --format csv "$D/opencv-doc__box.png" >"$T/h.csv"
"$V" index build -o "$T/h.vgi" --set victims "$T/h.csv" 2>/dev/null
"$V" scan --index "$T/h.vgi" --rooms "$T/before.vgr" -o "$T/out1" --quiet "$T/seized" >/dev/null 2>"$T/err"
rc=$?
check "scan --rooms: exit 1 (the junk file), a room match for the interior, none for the city" sh -c "test $rc -eq 1 && python3 -c \"
import json
rs={r['path'].split('/')[-1]: r for r in map(json.loads, open('$T/out1/results.jsonl'))}
m=[x for x in rs['interior.jpg']['matches'] if x['kind']=='room']
assert m and 'hotel_id=interior' in m[0]['labels'] and m[0]['inliers']>=12 and 'distance' not in m[0], m
assert not [x for x in rs['city.jpg']['matches'] if x['kind']=='room'], rs['city.jpg']
assert [x for x in rs['opencv-doc__box.png']['matches'] if x['kind']=='pdq'], 'hash matching still works'
assert rs['junk.jpg']['status']!='ok'
s=json.load(open('$T/out1/summary.json'))
assert any(x.get('min_inliers')==10 and x['matched_files']>=1 for x in s['sets']), s['sets']
\""
check "scan --rooms: the review page has the room index (min 10 inliers) and room matches with inliers" sh -c "grep -q '\"rooms\":true,\"min_inliers\":10' '$T/out1/report.html' && grep -q '\"kind\":\"room\",[^}]*\"inliers\":' '$T/out1/report.html'"
"$V" scan --rooms "$T/before.vgr" --min-inliers 3 -o "$T/out2" --quiet "$T/seized" >/dev/null 2>"$T/err"
rc=$?
check "scan --min-inliers below 4: exit 2" test $rc -eq 2
"$V" scan --rooms "$T/cut.vgr" -o "$T/out3" --quiet "$T/seized" >/dev/null 2>"$T/err"
rc=$?
check "scan with a damaged room index: exit 2, named" sh -c "test $rc -eq 2 && grep -q 'cut.vgr: corrupt' '$T/err'"
finish

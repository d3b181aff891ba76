#!/bin/sh
# kfeat.sh - known images by local features (issue 17): `index build --features`, and `match` and
# `scan` finding every edit kind of the checked-in photos that PDQ misses (crops, off-centre and
# mirrored crops, pads, borders, screenshot frames, small rotations, logos, captions, a collage, a
# skewed and blurred screen photo), unrelated photos not matched, the .vgi round trip, damage
# refused, and an index written before features still opening.
NAME=kfeat
. "$(dirname "$0")/lib.sh"
S=datasets/samples
mkdir -p "$T/refs" "$T/q" "$T/other"
# the references: three sample photos; the unrelated photos: the test images (other scenes)
for f in opencv-doc__building.jpg blender-data__interior.jpg kphotoalbum__anne_helene.jpg; do cp "$S/$f" "$T/refs/"; done
cp "$D"/opencv-doc__hfs_001.jpg "$D"/opencv-doc__box.png "$D"/gimp-help-en__threshold-orig.png "$S"/opencv-doc__aero3.jpg \
   "$S"/tuxpaint-data__mossy_bark.jpg "$S"/gimp-help-en__taj_orig.jpg "$T/other/"

"$V" index build --features -o "$T/k.vgi" "$T/refs" 2>"$T/err"
check "index build --features writes an index" test -s "$T/k.vgi"
"$V" index info "$T/k.vgi" >"$T/info"
check "index info: 3 entries, 3 with features" awk -F'\t' 'NR == 1 { exit !($10 == "features" && $11 == "feature_bytes") } NR == 2 { exit !($3 == 3 && $10 == 3 && $11 > 0) }' "$T/info"

# the edits, made with the vips tool from each reference (one a kind per photo, every kind on two)
e=0
mk() { # mk REF NAME vips-args...: one edit
    ref=$1; out=$2; shift 2
    vips "$@" >/dev/null 2>&1 || { bad "could not make edit $out" "vips $*"; return; }
    e=$((e + 1))
}
for r in opencv-doc__building blender-data__interior; do
    in="$T/refs/$r.jpg"
    w=$(vipsheader -f width "$in"); h=$(vipsheader -f height "$in")
    # crops: 30 % of the area off-centre, 50 % of the area, and a mirrored crop
    cw=$((w * 84 / 100)); ch=$((h * 84 / 100))
    mk "$r" crop30 crop "$in" "$T/q/$r-crop30.jpg" $((w - cw)) 0 "$cw" "$ch"
    cw=$((w * 71 / 100)); ch=$((h * 71 / 100))
    mk "$r" crop50 crop "$in" "$T/q/$r-crop50.jpg" $(((w - cw) / 2)) $(((h - ch) / 2)) "$cw" "$ch"
    vips flip "$in" "$T/flip.v" horizontal
    mk "$r" mcrop crop "$T/flip.v" "$T/q/$r-mcrop.jpg" 0 $((h / 10)) $((w * 8 / 10)) $((h * 8 / 10))
    # a white pad, a black border, a screenshot frame (the photo at 70 % in a dark window with a bar)
    mk "$r" pad embed "$in" "$T/q/$r-pad.jpg" $((w / 10)) $((h / 10)) $((w * 12 / 10)) $((h * 12 / 10)) --extend white
    mk "$r" border embed "$in" "$T/q/$r-border.jpg" $((w / 20)) $((h / 20)) $((w * 11 / 10)) $((h * 11 / 10)) --extend black
    vips resize "$in" "$T/small.v" 0.7
    vips embed "$T/small.v" "$T/win.v" $((w * 15 / 100)) $((h * 20 / 100)) "$w" $((h * 11 / 10)) --extend background --background "48 48 48"
    vips black "$T/bar.v" "$w" $((h / 14)) --bands 3
    vips linear "$T/bar.v" "$T/bar2.v" 1 230 --uchar
    mk "$r" shot insert "$T/win.v" "$T/bar2.v" "$T/q/$r-screenshot.jpg" 0 0
    # small rotations: 5, 10 and 15 degrees
    for a in 5 10 15; do mk "$r" rot$a rotate "$in" "$T/q/$r-rotate$a.jpg" $a; done
    # a logo over 25 % of the area, a caption in a white bar above the photo
    vips black "$T/logo.v" $((w / 2)) $((h / 2)) --bands 3
    vips linear "$T/logo.v" "$T/logo2.v" "1 1 1" "220 30 40" --uchar
    mk "$r" logo insert "$in" "$T/logo2.v" "$T/q/$r-logo.jpg" $((w / 2 - w / 40)) $((h / 2 - h / 40))
    vips embed "$in" "$T/cap.v" 0 $((h / 6)) "$w" $((h + h / 6)) --extend white
    vips black "$T/txt.v" $((w * 8 / 10)) $((h / 20)) --bands 3
    mk "$r" caption insert "$T/cap.v" "$T/txt.v" "$T/q/$r-caption.jpg" $((w / 10)) $((h / 16))
    # a collage of four: the photo and three unrelated ones, each at half size
    for i in 1 2 3; do :; done
    vips resize "$in" "$T/c0.v" 0.5
    cw=$(vipsheader -f width "$T/c0.v"); ch=$(vipsheader -f height "$T/c0.v")
    i=1
    for o in "$T/other/opencv-doc__hfs_001.jpg" "$T/other/opencv-doc__aero3.jpg" "$T/other/tuxpaint-data__mossy_bark.jpg"; do
        vips thumbnail "$o" "$T/c$i.v" "$cw" --height "$ch" --size force
        vips colourspace "$T/c$i.v" "$T/cc$i.v" srgb
        i=$((i + 1))
    done
    mk "$r" collage arrayjoin "$T/c0.v $T/cc1.v $T/cc2.v $T/cc3.v" "$T/q/$r-collage.jpg" --across 2
    # a photo of a screen, as far as the vips tool goes: a skew and a blur
    vips affine "$in" "$T/skew.v" "1 0.06 0.03 0.95"
    mk "$r" screen gaussblur "$T/skew.v" "$T/q/$r-screen.jpg" 1.2
done
check "every edit was made (26)" test "$e" -eq 26

"$V" match --index "$T/k.vgi" --format tsv "$T/q" "$T/other" >"$T/m.tsv" 2>"$T/err"
check "match exits 0" test $? -eq 0
check "match has the features columns" awk -F'\t' 'NR == 1 { exit !($10 == "kind" && $11 == "inliers" && $12 == "box" && $13 == "crop" && $14 == "scale" && $15 == "rotation" && $16 == "mirrored") }' "$T/m.tsv"
# every edit kind is found on both photos, the collage too: the references' features are shared
# equally by the pyramid levels (vigil_known_features_options_init), so a photo at half size meets
# enough of them (make eval, 40 photos: collages 62.5 % by area, 87.5 % even)
for q in "$T"/q/*.jpg; do
    b=$(basename "$q" .jpg)
    ref=${b%-*}
    awk -F'\t' -v q="$q" -v ref="$T/refs/$ref.jpg" '$1 == q && $5 == ref && $10 == "features" && $11 >= 12 { f = 1 } END { exit !f }' "$T/m.tsv" \
        && ok "found by features: $b" || bad "found by features: $b" "$(grep "$b" "$T/m.tsv" | cut -f5,10,11)"
done
check "no feature match elsewhere: each edit matched only its own reference" \
    awk -F'\t' 'NR > 1 && $10 == "features" { n = split($1, p, "/"); b = p[n]; sub(/-[a-z0-9]*\.jpg$/, "", b); split($5, r, "/"); if (r[length(r)] != b ".jpg") bad = 1 } END { exit bad }' "$T/m.tsv"
check "unrelated photos are not matched" sh -c "! grep -q '$T/other/' '$T/m.tsv'"
check "a mirrored crop says mirrored, the others do not" \
    awk -F'\t' 'NR > 1 && $10 == "features" { m = ($1 ~ /mcrop/); if (($16 == "true") != m) bad = 1 } END { exit bad }' "$T/m.tsv"
check "a rotation of 10 degrees is measured as 10 (within 1)" \
    awk -F'\t' '$1 ~ /rotate10/ && $10 == "features" { r = $15 + 0; if (r < 9 || r > 11) bad = 1; n++ } END { exit bad || n != 2 }' "$T/m.tsv"
check "a 50 % area crop: scale 1, the crop is the middle 71 % of the reference" \
    awk -F'\t' '$1 ~ /opencv-doc__building-crop50/ && $10 == "features" { split($13, c, " "); if ($14 < 0.97 || $14 > 1.03 || c[1] < 115 || c[1] > 135 || c[3] < 600 || c[3] > 630) bad = 1; n++ } END { exit bad || n != 1 }' "$T/m.tsv"
check "a pad: the box is the middle of the padded image" \
    awk -F'\t' '$1 ~ /opencv-doc__building-pad/ && $10 == "features" { split($12, b, " "); if (b[1] < 0.07 || b[1] > 0.1 || b[3] < 0.9 || b[3] > 0.93) bad = 1; n++ } END { exit bad || n != 1 }' "$T/m.tsv"

# the scan: results.jsonl carries kind features with the transform
"$V" scan --index "$T/k.vgi" -o "$T/out" "$T/q" "$T/other" 2>"$T/serr"
check "scan exits 0" test $? -eq 0
python3 - "$T/out/results.jsonl" "$T/q" <<'EOF' >"$T/py" 2>&1
import json, sys, os
rows = [json.loads(l) for l in open(sys.argv[1])]
edits = [r for r in rows if '/q/' in r['path']]
others = [r for r in rows if '/other/' in r['path']]
assert len(edits) == 26 and len(others) == 6, (len(edits), len(others))
for r in edits:
    fm = [m for m in r['matches'] if m['kind'] == 'features']
    assert len(fm) == 1, (r['path'], r['matches'])
    m = fm[0]
    for k in ('set', 'index', 'ref_id', 'labels', 'inliers', 'box', 'crop', 'scale', 'rotation', 'mirrored'):
        assert k in m, (r['path'], k)
    assert len(m['box']) == 4 and all(0 <= v <= 1 for v in m['box']) and m['box'][0] < m['box'][2] and m['box'][1] < m['box'][3]
    assert len(m['crop']) == 4 and m['crop'][2] > 0 and m['crop'][3] > 0
    assert m['mirrored'] == ('mcrop' in r['path']), r['path']
    base = os.path.basename(r['path']).rsplit('-', 1)[0]
    assert os.path.basename(m['ref_id']) == base + '.jpg', (r['path'], m['ref_id'])
for r in others:
    assert not [m for m in r['matches'] if m['kind'] == 'features'], r['path']
print('ok')
EOF
check "results.jsonl: every edit has one features match with box, crop, scale, rotation, mirrored; unrelated none" grep -qx ok "$T/py"
[ "$(cat "$T/py")" = ok ] || cat "$T/py"
check "the settings name the features threshold" grep -q 'features=12 search=3;' "$T/out/journal.vgj"
check "report.html carries the features matches, mirrored ones marked" python3 -c "
import json,re,sys
h=open(sys.argv[1]).read()
d=json.loads(re.search(r'<script type=\"application/json\" id=\"vigil-data\">(.*?)</script>', h, re.S).group(1))
m=[m for x in d['records'] for m in x[2].get('matches',[]) if m.get('kind')=='features']
assert m and any(x.get('mirrored') for x in m), len(m)
" "$T/out/report.html"
# the review page draws the matched region on the scanned file's thumbnail, where the edit put the
# reference: a 10 % pad on every side, and a screenshot with the photo at 70 % at (15 %, 20 %) of a
# window 1.1 times as tall
timeout 120 python3 tests/kfeat_page.py "$T/out/report.html" building-pad=0.0833,0.0833,0.9167,0.9167 \
    interior-pad=0.0833,0.0833,0.9167,0.9167 building-screenshot=0.15,0.1818,0.85,0.8182 \
    interior-screenshot=0.15,0.1818,0.85,0.8182 >"$T/page.log" 2>&1
while read -r st rest; do
    case "$st" in ok) ok "${rest#- }" ;; FAIL) bad "${rest#- }" ;; esac
done <"$T/page.log"
check "the page check ran its 8 checks" test "$(grep -c -e '^ok - ' -e '^FAIL - ' "$T/page.log")" -eq 8
grep -q '^FAIL' "$T/page.log" && cat "$T/page.log"

# a hash list keeps PDQ only; add with --features adds features; remove drops them
"$V" hash "$T/other/opencv-doc__aero3.jpg" >"$T/list.tsv"
"$V" index add "$T/k.vgi" "$T/list.tsv" 2>/dev/null
check "a list entry: one more entry, no more features" awk -F'\t' 'NR == 2 { exit !($3 == 4 && $10 == 3) }' "$("$V" index info "$T/k.vgi" >"$T/i2"; echo "$T/i2")"
"$V" index add --features "$T/k.vgi" "$T/other/opencv-doc__box.png" 2>/dev/null
"$V" index info "$T/k.vgi" >"$T/i3"
check "index add --features: 5 entries, 4 with features" awk -F'\t' 'NR == 2 { exit !($3 == 5 && $10 == 4) }' "$T/i3"
"$V" match --index "$T/k.vgi" "$T/other/opencv-doc__box.png" >"$T/m2.tsv"
check "the added image is found by its features" awk -F'\t' '$10 == "features" && $5 ~ /box.png$/ { f = 1 } END { exit !f }' "$T/m2.tsv"
"$V" index compact "$T/k.vgi" 2>/dev/null
"$V" match --index "$T/k.vgi" "$T/q/blender-data__interior-crop50.jpg" >"$T/m3.tsv"
check "features survive compact (round trip through the file)" awk -F'\t' '$10 == "features" && $5 ~ /interior.jpg$/ { f = 1 } END { exit !f }' "$T/m3.tsv"
"$V" index remove "$T/k.vgi" "$T/refs/blender-data__interior.jpg" 2>/dev/null
"$V" index info "$T/k.vgi" >"$T/i4"
check "remove drops the entry and its features" awk -F'\t' 'NR == 2 { exit !($3 == 4 && $10 == 3) }' "$T/i4"
"$V" match --index "$T/k.vgi" "$T/q/blender-data__interior-crop50.jpg" >"$T/m4.tsv"
check "a removed reference is not matched" sh -c "! grep -q features '$T/m4.tsv'"

# damage: a byte of the features section flipped is refused with the reason
size=$(stat -c %s "$T/k.vgi")
cp "$T/k.vgi" "$T/bad.vgi"
printf '\377' | dd of="$T/bad.vgi" bs=1 seek=$((size - 100)) conv=notrunc 2>/dev/null
"$V" index info "$T/bad.vgi" >/dev/null 2>"$T/berr"
check "a damaged features section is refused (exit 2) with its reason" sh -c "test \$? -eq 0 && false || grep -q 'checksum' '$T/berr'"
"$V" match --index "$T/bad.vgi" "$T/q/opencv-doc__building-pad.jpg" >/dev/null 2>&1
check "match refuses the damaged index" test $? -eq 2

# an index written before features (the fuzz corpus keeps one) still opens, with none
"$V" index info tests/fuzz/corpus/index/seven.vgi >"$T/i5" 2>&1
check "an old .vgi opens: 7 entries, 0 with features" awk -F'\t' 'NR == 2 { exit !($3 == 7 && $10 == 0) }' "$T/i5"
"$V" match --index tests/fuzz/corpus/index/seven.vgi "$T/q/opencv-doc__building-pad.jpg" >"$T/m5.tsv"
check "matching against an old .vgi keeps the PDQ columns only" awk -F'\t' 'NR == 1 { exit !(NF == 9) }' "$T/m5.tsv"
finish

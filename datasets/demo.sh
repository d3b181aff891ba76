#!/bin/sh
# demo.sh - the README's main command (`make demo`): an analyst's scan, end to end, on the sample
# photos shipped in datasets/samples (public photos from Debian packages, standing in for the
# real reference sets, which are never shipped):
#   1. builds a victims-style reference set (4 photos, Project VIC category 1) and a hotel-room
#      set (2 photos, with hotel and room labels) with `vigil index build`;
#   2. makes a "seized" folder: edited copies of references (recompressed, resized, flipped,
#      rotated, cropped a little, renamed without extension, duplicated) among unrelated photos
#      and broken files;
#   3. builds a room index (`vigil rooms build`) from three photos of one hotel room (cut from a
#      360-degree photograph of a real room, CC0) and adds to the seized folder another photo of
#      that room: another framing, turned, with a person-sized shape in front;
#   4. runs `vigil scan --rooms` and prints the summary, the matches and where report.html is.
set -eu
B=${1:-build}
V="$B/vigil"
S=datasets/samples
W="$B/demo"
rm -rf "$W"
mkdir -p "$W/refs" "$W/seized/DCIM/100CAMERA" "$W/seized/Downloads" "$W/seized/Pictures/old" "$W/seized/misc"

echo "== 1. reference sets"
{
    echo "pdq,id,category,series"
    n=0
    for f in gcompris-qt-data__categorization__monuments_monument1.webp kphotoalbum__anne_helene.jpg \
        opencv-doc__orange.jpg tuxpaint-data__mossy_bark.jpg; do
        n=$((n + 1))
        "$V" hash -q --exact --no-digests "$S/$f" | awk -F'\t' -v id="V-$n" -v s="demo-$n" 'NR == 2 { print $2 "," id ",1," s }'
    done
} >"$W/refs/victims.csv"
{
    echo "pdq,id,hotel_id,room"
    "$V" hash -q --exact --no-digests "$S/opencv-doc__building.jpg" | awk -F'\t' 'NR == 2 { print $2 ",H-0417-ext,H-0417,lobby" }'
    "$V" hash -q --exact --no-digests "$S/opencv-doc__stuff.jpg" | awk -F'\t' 'NR == 2 { print $2 ",H-0417-312,H-0417,312" }'
} >"$W/refs/hotels.csv"
"$V" index build -o "$W/victims.vgi" --set victims "$W/refs/victims.csv"
"$V" index build -o "$W/hotels.vgi" --set hotels "$W/refs/hotels.csv"

echo "== 2. a seized folder: edited copies among unrelated photos and broken files"
vips jpegsave "$S/opencv-doc__orange.jpg" "$W/seized/DCIM/100CAMERA/IMG_0001.JPG" --Q 35              # recompressed
vips resize "$S/kphotoalbum__anne_helene.jpg" "$W/seized/DCIM/100CAMERA/IMG_0002.JPG[Q=80]" 0.5     # resized
vips flip "$S/gcompris-qt-data__categorization__monuments_monument1.webp" "$W/seized/Downloads/wallpaper.png" horizontal
vips rot "$S/tuxpaint-data__mossy_bark.jpg" "$W/seized/Downloads/texture.jpg[Q=85]" d90           # rotated
w=$(vipsheader -f width "$S/opencv-doc__orange.jpg"); h=$(vipsheader -f height "$S/opencv-doc__orange.jpg")
vips crop "$S/opencv-doc__orange.jpg" "$W/seized/Pictures/fruit.jpg[Q=90]" $((w / 200)) $((h / 200)) $((w - w / 100)) $((h - h / 100))  # cropped 1 %
vips resize "$S/opencv-doc__building.jpg" "$W/seized/Pictures/old/trip.jpg[Q=70]" 0.7            # hotel, resized
cp "$S/opencv-doc__stuff.jpg" "$W/seized/misc/cache_0007"                                          # hotel room, no extension
cp "$W/seized/DCIM/100CAMERA/IMG_0001.JPG" "$W/seized/Pictures/copy of IMG_0001.JPG"               # duplicate content
for f in gimp-help-en__quickie-crop-example-source.jpg gimp-help-en__quickie-scale-example.jpg gimp-help-en__taj_orig.jpg \
    opencv-doc__aero3.jpg opencv-doc__apple.jpg gimp-help-en__little_planet-origin.jpg; do
    cp "$S/$f" "$W/seized/Pictures/"                                                               # unrelated
done
head -c 5000 "$S/kphotoalbum__anne_helene.jpg" >"$W/seized/DCIM/100CAMERA/IMG_0003.JPG"            # truncated
echo "shopping list" >"$W/seized/misc/notes.jpg"                                                     # not an image
: >"$W/seized/misc/empty.png"

echo "== 3. a room index: three photos of hotel H-0417's room 312, and a new photo of that room"
P="$S/blender-data__interior.jpg"
echo "path,hotel_id,chain,room" >"$W/refs/rooms.csv"
for i in 0 1 2; do
    vips crop "$P" "$W/refs/room312-$i.jpg[Q=90]" $((i * 330)) 120 364 280
    echo "room312-$i.jpg,H-0417,Demo Hotels,312" >>"$W/refs/rooms.csv"
done
vips crop "$P" "$W/q.v" 420 150 300 220
vips similarity "$W/q.v" "$W/q2.v" --scale 1.4 --angle 6
vips black "$W/person.v" 120 300 --bands 3
vips linear "$W/person.v" "$W/person2.v" 1 60
vips insert "$W/q2.v" "$W/person2.v" "$W/seized/DCIM/100CAMERA/IMG_0004.JPG[Q=85]" 150 40                 # the room, another view
rm -f "$W"/*.v
"$V" rooms build -o "$W/rooms.vgr" "$W/refs/rooms.csv"
echo "$(find "$W/seized" -type f | wc -l) files in $W/seized"

echo "== 4. vigil scan"
status=0
"$V" scan --index "$W/victims.vgi" --index "$W/hotels.vgi" --rooms "$W/rooms.vgr" -o "$W/out" "$W/seized" >/dev/null || status=$?
python3 - "$W/out" <<'PY'
import json, sys
out = sys.argv[1]
s = json.load(open(out + "/summary.json"))
print("files %d, matched %d, could not be read or decoded %d, duplicates decoded once %d"
      % (s["files"], s["matched_files"], s["failed"], s["duplicates"]))
for r in map(json.loads, open(out + "/results.jsonl")):
    p = r["path"].split("/seized/", 1)[1]
    if r["matches"]:
        m = r["matches"][0]
        if m["kind"] == "room":
            print("  ROOM   %-34s %-8s %-11s %3d inliers     %s" % (p, m["set"], m["ref_id"].split("/")[-1], m["inliers"], m["labels"] or ""))
        else:
            print("  MATCH  %-34s %-8s %-11s distance %2d  %-6s %s" % (p, m["set"], m["ref_id"], m["distance"], m["transform"], m["labels"] or ""))
    elif r["status"] != "ok":
        print("  ERROR  %-34s %s: %s" % (p, r["status"], r["error"]))
    else:
        print("  -      %s" % p)
PY
echo
echo "Results (one JSON line per file): $W/out/results.jsonl"
echo "Project VIC VICS 2.0 export:       $W/out/vics.json"
echo "Review page (thumbnails blurred until revealed): $W/out/report.html"
# exit 1 from the scan means "some files could not be decoded": expected here, they are broken on purpose
[ "$status" -le 1 ]

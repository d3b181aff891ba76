#!/bin/sh
# video.sh - vigil video: bit-exactness with vpdq-hash-video on two public samples, the frame and
# timestamp rules, photos found in slideshows (plain and mirrored), re-encoded and unrelated videos,
# and hostile inputs (empty, audio-only, 100 streams, 10 hours, truncated, corrupt, playlists).
# Videos are made at test time with Debian's ffmpeg from the checked-in photos.
NAME=video
. tests/lib.sh
VD=tests/data/video
command -v ffmpeg >/dev/null 2>&1 || { bad "ffmpeg is installed (tests/install-deps.sh test)"; finish; exit 0; }
ff() { ffmpeg -v error -nostdin -y "$@"; }
# dist HEX HEX: Hamming distance
dist() { python3 -c "import sys; print(bin(int(sys.argv[1],16)^int(sys.argv[2],16)).count('1'))" "$1" "$2"; }

# 1. bit-exact with Meta's tool, every line (frame, quality, hash, timestamp)
for n in test-padded-dimensions doorknob-hd-no-bar; do
    for r in 1 0; do
        "$V" video hash -r $r "$VD/$n.mp4" > "$T/$n.r$r" 2> "$T/err"
        if cmp -s "$T/$n.r$r" "$VD/$n.r$r.txt"; then ok "$n -r $r: identical to vpdq-hash-video ($(wc -l < "$VD/$n.r$r.txt") lines)"
        else bad "$n -r $r identical to vpdq-hash-video" "$(diff "$VD/$n.r$r.txt" "$T/$n.r$r" | head -4)"; fi
    done
done
"$V" video hash "$VD/test-padded-dimensions.mp4" > "$T/def"
check "the default is -r 1" cmp -s "$T/def" "$VD/test-padded-dimensions.r1.txt"
"$V" video hash -o "$T/o.txt" "$VD/test-padded-dimensions.mp4"
check "-o FILE writes the same lines" cmp -s "$T/o.txt" "$VD/test-padded-dimensions.r1.txt"
"$V" video hash "$VD/test-padded-dimensions.mp4" "$VD/doorknob-hd-no-bar.mp4" > "$T/two"
{ echo "# $VD/test-padded-dimensions.mp4"; cat "$VD/test-padded-dimensions.r1.txt"; echo "# $VD/doorknob-hd-no-bar.mp4"; cat "$VD/doorknob-hd-no-bar.r1.txt"; } > "$T/two.want"
check "several videos: each block after '# PATH'" cmp -s "$T/two" "$T/two.want"

# 2. frame and timestamp rules at 25, 29.97 and 30 fps (3 s each): frameMod = (int)(r * fps)
P1=$D/opencv-doc__left.jpg
for rate in 25 30000/1001 30; do
    ff -loop 1 -framerate $rate -t 3 -i "$P1" -vf scale=320:240 -c:v libx264 -pix_fmt yuv420p "$T/r.mp4"
    total=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 "$T/r.mp4")
    "$V" video hash -r 1 "$T/r.mp4" > "$T/r1"; "$V" video hash -r 0 "$T/r.mp4" > "$T/r0"; "$V" video hash -r 0.5 "$T/r.mp4" > "$T/rh"
    want1=$(python3 - "$rate" "$total" 1 <<'EOF'
import sys
from fractions import Fraction
fps = float(Fraction(sys.argv[1])); n = int(sys.argv[2]); r = float(sys.argv[3])
mod = int(r * fps) or 1
print(" ".join("%d@%.3f" % (i, i / fps) for i in range(0, n, mod)))
EOF
)
    wanth=$(python3 - "$rate" "$total" 0.5 <<'EOF'
import sys
from fractions import Fraction
fps = float(Fraction(sys.argv[1])); n = int(sys.argv[2]); r = float(sys.argv[3])
mod = int(r * fps) or 1
print(" ".join("%d@%.3f" % (i, i / fps) for i in range(0, n, mod)))
EOF
)
    got1=$(awk -F, '{printf "%s%s@%s", (NR>1?" ":""), $1, $4}' "$T/r1"); goth=$(awk -F, '{printf "%s%s@%s", (NR>1?" ":""), $1, $4}' "$T/rh")
    if [ "$got1" = "$want1" ] && [ "$goth" = "$wanth" ] && [ "$(wc -l < "$T/r0")" = "$total" ]; then
        ok "$rate fps: -r 1 gives $got1; -r 0.5 and -r 0 ($total frames) as the rule says"
    else bad "$rate fps frame rule" "-r 1 want '$want1' got '$got1'" "-r 0.5 want '$wanth' got '$goth'" "-r 0 $(wc -l < "$T/r0") of $total"; fi
done

# 3. a slideshow: four photos, 2 s each at 25 fps; the third one is found at 4.000 s
set -- "$D/opencv-doc__right.jpg" "$D/opencv-doc__hfs_001.jpg" "$D/gimp-help-en__threshold-orig.png" "$D/opencv-doc__box.png"
i=0; for p in "$@"; do ff -loop 1 -framerate 25 -t 2 -i "$p" -vf "scale=640:480,setsar=1" -c:v libx264 -pix_fmt yuv420p "$T/s$i.mp4"; i=$((i + 1)); done
printf "file '%s'\n" "$T/s0.mp4" "$T/s1.mp4" "$T/s2.mp4" "$T/s3.mp4" > "$T/list"
ff -f concat -safe 0 -i "$T/list" -c copy "$T/show.mp4"
"$V" hash --exact "$3" > "$T/ph" 2>/dev/null
ph=$(awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="pdq") c=i} NR==2{print $c}' "$T/ph")
"$V" video hash "$T/show.mp4" > "$T/show.txt"
first=$(while IFS=, read -r fn q h ts; do [ "$(dist "$ph" "$h")" -le 31 ] && { echo "$ts"; break; }; done < "$T/show.txt")
if [ "$first" = "4.000" ]; then ok "the third photo of a slideshow is found first at 4.000 s"
else bad "photo found at the right second" "first match at '$first' (photo pdq '$ph')"; fi

# 4. a mirrored photo: plain PDQ misses it, the dihedral hashes of the frame find it
ff -loop 1 -framerate 25 -t 2 -i "$3" -vf "hflip,scale=640:480,setsar=1" -c:v libx264 -pix_fmt yuv420p "$T/mirror.mp4"
"$V" video hash --dihedral "$T/mirror.mp4" > "$T/mirror.txt"
line=$(head -1 "$T/mirror.txt")
plain=$(dist "$ph" "$(echo "$line" | cut -d, -f3)")
best=999; for k in 5 6 7 8 9 10 11 12; do d=$(dist "$ph" "$(echo "$line" | cut -d, -f$k)"); [ "$d" -lt "$best" ] && best=$d; done
if [ "$plain" -gt 31 ] && [ "$best" -le 31 ]; then ok "a mirrored photo: plain distance $plain, dihedral $best"
else bad "mirrored photo found with dihedral hashes" "plain $plain, best dihedral $best"; fi

# 5. a re-encoded copy matches at 100 %, an unrelated video at 0 %
ff -i "$T/show.mp4" -vf scale=480:360 -c:v libx264 -crf 30 -r 30 "$T/reenc.mp4"
ff -loop 1 -framerate 25 -t 4 -i "$D/opencv-doc__left.jpg" -vf "scale=640:480,setsar=1" -c:v libx264 -pix_fmt yuv420p "$T/other.mp4"
"$V" video match "$T/reenc.mp4" "$T/show.txt" > "$T/m1"
check "match prints the header query target query_match_pct target_match_pct verdict" \
    sh -c "head -1 '$T/m1' | grep -qx 'query	target	query_match_pct	target_match_pct	verdict'"
check "a re-encoded copy (480x360, crf 30, 30 fps) matches at 100 %" sh -c "tail -1 '$T/m1' | grep -q '	100.000	100.000	match$'"
"$V" video match --format jsonl "$T/other.mp4" "$T/show.mp4" > "$T/m2"
check "an unrelated video matches at 0 % (jsonl)" grep -q '"query_match_pct":0.000,"target_match_pct":0.000,"verdict":"no_match"' "$T/m2"
"$V" video match --distance 0 --query-pct 100 "$T/reenc.mp4" "$T/show.txt" > "$T/m3"
check "--distance and --query-pct change the verdict" sh -c "tail -1 '$T/m3' | grep -q 'no_match$'"
"$V" video match --fast "$T/reenc.mp4" "$T/show.mp4" > "$T/m4"
check "--fast (key frames) gives the same verdict" sh -c "tail -1 '$T/m4' | grep -q '	match$'"
"$V" video hash --fast "$VD/doorknob-hd-no-bar.mp4" > "$T/fast"
check "--fast hashes key frames with the exact hashes of those frames" \
    sh -c "cut -d, -f1-3 '$T/fast' | while read -r l; do grep -q \"^\$l,\" '$VD/doorknob-hd-no-bar.r0.txt' || exit 1; done"

# 5b. video sets: frames as index entries, a query searched through the index
"$V" video hash "$T/show.mp4" "$T/other.mp4" > "$T/two.vpdq"
"$V" index build -o "$T/set.vgi" "$T/two.vpdq" "$D/opencv-doc__box.png" 2> "$T/e"
check "index build takes a multi-video vPDQ file beside an image" grep -q 'entries added' "$T/e"
"$V" index export "$T/set.vgi" --format tsv > "$T/exp" 2>/dev/null
check "a frame entry carries the video as id and video_frames/frame/t labels" \
    grep -q "two.vpdq#$T/show.mp4.*video_frames=[0-9]* frame=100 t=4.000" "$T/exp"
"$V" video match --index "$T/set.vgi" "$T/reenc.mp4" > "$T/ix"
check "the re-encoded copy finds its video through the index at 100 %" \
    sh -c "grep -q 'two.vpdq#$T/show.mp4	100.000	100.000	match$' '$T/ix' && ! grep -q 'other.mp4' '$T/ix'"
"$V" video match --index "$T/set.vgi" --format jsonl "$T/show.mp4" > "$T/ixj"
check "jsonl through the index gives timestamp and distance" grep -q '"verdict":"match","timestamp":0.000,"distance":0}' "$T/ixj"
"$V" video match "$T/show.mp4" "$T/two.vpdq" | tail -n +2 | awk -F'\t' '$3 > 0 || $4 > 0' > "$T/pw"
"$V" video match --index "$T/set.vgi" "$T/show.mp4" | tail -n +2 > "$T/ixq"
check "through the index = pairwise (same rows, same percentages)" cmp -s "$T/pw" "$T/ixq"

# 5c. vigil scan takes videos: frames against image sets (timestamp), video sets (percentages)
mkdir -p "$T/seized"
cp "$T/show.mp4" "$T/mirror.mp4" "$T/other.mp4" "$P1" "$T/seized/"
cp "$T/show.mp4" "$T/seized/copy-of-show.mp4"
"$V" index build -o "$T/photos.vgi" "$3" 2>/dev/null
"$V" index build -o "$T/videos.vgi" "$T/reenc.mp4" 2>/dev/null
"$V" scan -q --index "$T/photos.vgi" --index "$T/videos.vgi" -o "$T/sc" "$T/seized" > /dev/null 2>&1; rc=$?
check "scan of a folder with videos: exit 0" [ $rc = 0 ]
py() { python3 -c "$1"; }
check "a video is one record: media video, duration, frames; the photo found at 4.000 s; the known video at 100 %" py "
import json
rows={r['path'].rsplit('/',1)[1]:r for r in map(json.loads,open('$T/sc/results.jsonl'))}
r=rows['show.mp4']
assert r['media']=='video' and r['duration']==8.0 and r['frames']==200 and r['status']=='ok', r
pm=[m for m in r['matches'] if m['kind']=='pdq']; vm=[m for m in r['matches'] if m['kind']=='video']
assert len(pm)==1 and pm[0]['timestamp']==4.0 and pm[0]['timestamps'][:2]==[4.0,5.0] and pm[0]['distance']<=31, pm
assert len(vm)==1 and vm[0]['query_match_pct']==100.0 and vm[0]['target_match_pct']==100.0 and vm[0]['ref_id'].endswith('reenc.mp4'), vm
assert rows['copy-of-show.mp4']['matches']==r['matches'] and r.get('duplicate'), 'a copy: same matches, the later one marked duplicate'
assert rows['other.mp4']['matches']==[] and rows['other.mp4']['media']=='video'
m=rows['mirror.mp4']['matches']; assert len(m)==1 and m[0]['kind']=='pdq' and m[0]['transform']!='orig' and m[0]['timestamp']==0.0, m
"
check "vics.json lists the videos as Media with their digests" py "
import json
v=json.load(open('$T/sc/vics.json'))['value']
names=sorted(f['FileName'] for m in v for f in m['MediaFiles'])
assert 'show.mp4' in names and 'mirror.mp4' in names and len(v)==5, names
"
check "report.html shows the video's matching frame as a blurred thumbnail" py "
import json,re
h=open('$T/sc/report.html').read()
d=json.loads(re.search(r'<script type=\"application/json\" id=\"vigil-data\">(.*?)</script>', h, re.S).group(1))
rec=[r for r in d['records'] if 'show.mp4' in json.dumps(r[2])]
th=dict(re.findall(r'<script type=\"text/plain\" id=\"vigil-t(\\d+)\">([^<]*)</script>', h))
assert rec and isinstance(rec[0][1], int) and th[str(rec[0][1])].startswith('iVBOR'), rec[:1]
"
VIGIL_TEST_CRASH_AFTER=2 "$V" scan -q -j 1 --index "$T/photos.vgi" --index "$T/videos.vgi" -o "$T/sk" "$T/seized" > /dev/null 2>&1; rc=$?
"$V" scan -q --resume --index "$T/photos.vgi" --index "$T/videos.vgi" -o "$T/sk" "$T/seized" > /dev/null 2>&1
check "killed (SIGKILL) after 2 records, resumed: every video once, results identical" \
    sh -c "[ $rc = 137 ] && sort '$T/sc/results.jsonl' > '$T/a' && sort '$T/sk/results.jsonl' > '$T/b' && cmp -s '$T/a' '$T/b'"

# 6. hostile and damaged inputs: each names the file and the reason, nothing crashes
: > "$T/empty.mp4"
"$V" video hash "$T/empty.mp4" > /dev/null 2> "$T/e"; rc=$?
check "a zero-length file: exit 1, named, 'empty'" sh -c "[ $rc = 1 ] && grep -q 'empty.mp4: empty' '$T/e'"
ff -f lavfi -i "sine=frequency=440:duration=1" -c:a aac "$T/audio.m4a"
"$V" video hash "$T/audio.m4a" > /dev/null 2> "$T/e"; rc=$?
check "an audio-only file: exit 1, 'no video stream'" sh -c "[ $rc = 1 ] && grep -q 'audio.m4a: no video stream (1 stream, 1 of them audio)' '$T/e'"
"$V" video hash "$P1" > /dev/null 2> "$T/e"; rc=$?
check "a JPEG is not a video container" sh -c "[ $rc = 1 ] && grep -q 'not a video container' '$T/e'"
printf '#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:///etc/passwd\n' > "$T/list.m3u8"
printf 'ffconcat version 1.0\nfile /etc/passwd\n' > "$T/cat.ffconcat"
"$V" video hash "$T/list.m3u8" "$T/cat.ffconcat" > /dev/null 2> "$T/e"; rc=$?
check "playlists and concat scripts are refused (they name other files)" sh -c "[ $rc = 1 ] && [ \$(grep -c 'not a video container' '$T/e') = 2 ]"
ins=""; maps=""; i=0; while [ $i -lt 100 ]; do maps="$maps -map 0:v"; i=$((i + 1)); done
ff -f lavfi -i "color=c=red:size=32x32:rate=5" -t 1 $maps -c:v libx264 "$T/streams.mkv"
"$V" video hash "$T/streams.mkv" > /dev/null 2> "$T/e"; rc=$?
check "a 100-stream container is refused before decoding (limit 64)" sh -c "[ $rc = 1 ] && grep -q 'streams.mkv: 100 streams, over the limit of 64' '$T/e'"
"$V" video hash --max-streams 100 "$T/streams.mkv" > "$T/s.txt" 2> "$T/e"
check "--max-streams 100 reads it (its first stream: 5 frames at 5 fps, one line)" sh -c "[ \$(wc -l < '$T/s.txt') = 1 ]"
ff -f lavfi -i "color=c=blue:size=16x16:rate=1" -t 36000 -c:v libx264 -g 600 "$T/long.mkv"
"$V" video hash --max-duration 3600 "$T/long.mkv" > "$T/l.txt" 2> "$T/e"; rc=$?
check "a 10-hour video is refused under --max-duration 3600, no frame hashed" \
    sh -c "[ $rc = 1 ] && grep -q 'long.mkv: the video is 36000 s long, over the limit of 3600 s' '$T/e' && [ ! -s '$T/l.txt' ]"
"$V" video hash --max-decoded 1M "$VD/test-padded-dimensions.mp4" > /dev/null 2> "$T/e"; rc=$?
check "--max-decoded refuses before decoding" sh -c "[ $rc = 1 ] && grep -q 'over the limit of 1048576' '$T/e'"
"$V" video hash --max-pixels 100000 "$VD/doorknob-hd-no-bar.mp4" > /dev/null 2> "$T/e"; rc=$?
check "--max-pixels refuses 1280x720 frames" sh -c "[ $rc = 1 ] && grep -q 'frames are 1280x720, over the limit of 100000 pixels' '$T/e'"
# truncated: the header lists 150 frames, the bytes stop early
ff -i "$VD/test-padded-dimensions.mp4" -c copy -movflags +faststart "$T/fs.mp4"
head -c 30000 "$T/fs.mp4" > "$T/trunc.mp4"
"$V" video hash -r 0 "$T/trunc.mp4" > "$T/t.txt" 2> "$T/e"; rc=$?
n=$(wc -l < "$T/t.txt")
if [ $rc = 1 ] && grep -q 'trunc.mp4: truncated or damaged' "$T/e" && [ "$n" -gt 0 ] && [ "$n" -lt 150 ] &&
   head -n "$n" "$VD/test-padded-dimensions.r0.txt" | cmp -s - "$T/t.txt"; then
    ok "a truncated MP4: the $n frames that decoded (identical to the reference), then exit 1 and why"
else bad "truncated MP4" "rc $rc, $n lines, $(cat "$T/e")"; fi
ff -i "$VD/test-padded-dimensions.mp4" -c copy "$T/v.mkv"
head -c 30000 "$T/v.mkv" > "$T/trunc.mkv"
"$V" video hash -r 0 "$T/trunc.mkv" > "$T/t2.txt" 2> "$T/e"; rc=$?
n=$(wc -l < "$T/t2.txt")
check "a truncated Matroska file: the frames before the cut, exit 1 and why" sh -c "[ $rc = 1 ] && [ $n -gt 0 ] && [ $n -lt 150 ] && grep -q 'trunc.mkv: ' '$T/e'"
head -c 2000 "$VD/test-padded-dimensions.mp4" > "$T/short.mp4"
"$V" video hash "$T/short.mp4" > /dev/null 2> "$T/e"; rc=$?
check "an MP4 cut inside its header: exit 1 and why" sh -c "[ $rc = 1 ] && grep -q 'short.mp4: ' '$T/e'"
cp "$VD/test-padded-dimensions.mp4" "$T/corrupt.mp4"
python3 - "$T/corrupt.mp4" <<'EOF'
import sys, random
p = sys.argv[1]; b = bytearray(open(p, 'rb').read()); random.seed(16)
for i in range(400): b[random.randrange(3000, len(b) - 3000)] = random.randrange(256)
open(p, 'wb').write(b)
EOF
"$V" video hash -r 0 "$T/corrupt.mp4" "$VD/test-padded-dimensions.mp4" > "$T/c.txt" 2> "$T/e"; rc=$?
check "a corrupt MP4 does not crash, the next video is still hashed" sh -c "[ $rc -le 1 ] && grep -q '^# $VD/test-padded-dimensions.mp4' '$T/c.txt' && [ \$(sed -n '/^# tests/,\$p' '$T/c.txt' | wc -l) = 151 ]"
"$V" video hash "$T" > /dev/null 2> "$T/e"; rc=$?
check "a folder is refused, named" sh -c "[ $rc = 1 ] && grep -q 'is a directory' '$T/e'"
"$V" video hash -r -1 "$P1" > /dev/null 2>&1; rc=$?
check "-r -1 is a usage error" [ $rc = 2 ]
printf '0,100,zz,0.000\n' > "$T/bad.txt"
"$V" video match "$T/bad.txt" "$T/show.txt" > /dev/null 2> "$T/e"; rc=$?
check "a bad vPDQ line is named with its line number" sh -c "[ $rc = 1 ] && grep -q 'bad.txt: line 1: not a vPDQ line' '$T/e'"
finish

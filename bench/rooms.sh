#!/bin/sh
# rooms.sh - `make rooms-eval`: the room-recognition evaluation. Rebuilds its data from Debian
# packages on first use (datasets/panoramas.sh: blender-data's 8 panoramas; datasets/eval-photos.tsv:
# the 270 photos whose crops are the distractors), runs build/bench-rooms (tables in
# build/rooms-eval/rooms.md, one row per query in rooms.tsv), then, where Debian's OpenCV
# development packages are installed, the side-by-side comparison with OpenCV's ORB pipeline.
#   ROOMS_CROPS (default 42: about 10,000 reference images), ROOMS_QUERIES (40 per place and condition)
set -eu
B=${1:-build}
PHOTOS=${EVAL_PHOTOS:-$B/eval-photos}
n=$(awk 'NR > 1' datasets/eval-photos.tsv | wc -l)
have=$(ls "$PHOTOS" 2>/dev/null | wc -l)
if [ "$have" -lt "$n" ]; then
    LIST=datasets/eval-photos.tsv DEBS="${DEBS:-$B/photos.debs}" sh datasets/fetch-photos.sh "$PHOTOS"
fi
[ -s "$B/panoramas/blender-data__interior.png" ] || DEBS="${DEBS:-$B/photos.debs}" sh datasets/panoramas.sh "$B/panoramas"
"$B/bench-rooms" --panoramas "$B/panoramas" --photos "$PHOTOS" --out "$B/rooms-eval" \
    --crops "${ROOMS_CROPS:-42}" --queries "${ROOMS_QUERIES:-40}"
cat "$B/rooms-eval/rooms.md"
if [ -f /usr/include/opencv4/opencv2/features2d.hpp ]; then
    # the same kind of images, a smaller reference set: OpenCV compares each query with every reference
    rm -rf "$B/rooms-cv"
    "$B/bench-rooms" --panoramas "$B/panoramas" --photos "$PHOTOS" --out "$B/rooms-cv-eval" --crops 1 --queries 10 \
        --write "$B/rooms-cv" >/dev/null 2>&1
    make --no-print-directory "$B/bench-rooms-opencv" && "$B/bench-rooms-opencv" "$B/rooms-cv" | tee "$B/rooms-eval/opencv.md"
else
    echo "(OpenCV comparison skipped: apt-get install libopencv-features2d-dev libopencv-calib3d-dev libopencv-imgcodecs-dev)"
fi

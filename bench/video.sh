#!/bin/sh
# video.sh [VIDEO...] - vigil video hash against the decode floor, in one run (the VM is noisy:
# compare the ratios). Default videos: the 14 vPDQ samples (../shared/vpdq/videos). Rows: the floor
# `ffmpeg -threads 1 -i X -f null -`, exact mode (-r 1) on one core, two videos at once on two cores
# (two processes, each one thread), --threads 2 (one video, two decoder threads), and --fast.
# Columns: seconds of video hashed per wall second, frames decoded per second (the frames
# in the files, for every mode; fast mode decodes only key frames), and the ratio to the floor.
# Memory held per video: the largest resident set of one `vigil video hash`.
set -eu
V=${VIGIL:-build/vigil}
if [ $# -eq 0 ]; then
    DIR=$(dirname "$0")/../../../shared/vpdq/videos
    [ -d "$DIR" ] || DIR=/work/shared/vpdq/videos
    [ -d "$DIR" ] || DIR=tests/data/video   # a clone without the shared samples: the two copied ones
    set -- "$DIR"/*.mp4
fi
secs=0; frames=0
for f in "$@"; do
    d=$(ffprobe -v error -select_streams v:0 -show_entries format=duration -of csv=p=0 "$f")
    n=$(ffprobe -v error -select_streams v:0 -show_entries stream=nb_frames -of csv=p=0 "$f")
    secs=$(echo "$secs + $d" | bc -l); frames=$((frames + n))
done
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
# measure NAME CMD...: wall and CPU (user + system) seconds of the whole command
measure() { n=$1; shift; /usr/bin/time -f "%e %U %S" -o "$tmp" "$@" > /dev/null; read -r w u s < "$tmp"; eval "w_$n=$w; c_$n=$(echo "$u + $s" | bc -l)"; }
export V
measure floor sh -c 'for f; do ffmpeg -v error -nostdin -threads 1 -i "$f" -f null -; done' sh "$@"
measure exact sh -c 'for f; do "$V" video hash "$f"; done' sh "$@"
# two at once: two processes, each one thread, each half of the list
measure two sh -c 'i=0; for f; do [ $((i % 2)) = 0 ] && "$V" video hash "$f"; i=$((i + 1)); done & i=0; for f; do [ $((i % 2)) = 1 ] && "$V" video hash "$f"; i=$((i + 1)); done; wait' sh "$@"
measure th2 sh -c 'for f; do "$V" video hash --threads 2 "$f"; done' sh "$@"
measure fast sh -c 'for f; do "$V" video hash --fast "$f"; done' sh "$@"
row() { # label wall cpu
    printf '| %s | %.2f | %.2f | %.1f | %.0f | %.2f |\n' "$1" "$2" "$3" "$(echo "$secs / $3" | bc -l)" \
        "$(echo "$frames / $3" | bc -l)" "$(echo "$c_floor / $3" | bc -l)"
}
echo "$# videos, $(printf %.1f "$secs") s of video, $frames frames; $(nproc) cores, load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "Rates per CPU second (user + system), which the other users of the machine do not change; wall seconds beside them."
echo
echo "| mode | wall s | CPU s | video s / CPU s | frames / CPU s | x floor (CPU) |"
echo "|---|---|---|---|---|---|"
row "decode floor: ffmpeg -threads 1 -i X -f null -" "$w_floor" "$c_floor"
row "exact -r 1, 1 thread" "$w_exact" "$c_exact"
row "exact -r 1, 2 videos at once (2 processes)" "$w_two" "$c_two"
row "exact -r 1, --threads 2 (decoder threads)" "$w_th2" "$c_th2"
row "--fast (key frames only), 1 thread" "$w_fast" "$c_fast"
echo
echo "wall: two at once / one at a time: $(echo "$w_exact / $w_two" | bc -l | xargs printf %.2f)x; --threads 2 / 1: $(echo "$w_exact / $w_th2" | bc -l | xargs printf %.2f)x (both need two idle cores)"
seen=""
for f in "$@"; do
    w=$(ffprobe -v error -select_streams v:0 -show_entries stream=width,height -of csv=p=0:s=x "$f")
    case " $seen " in *" $w "*) continue ;; esac; seen="$seen $w"
    rss=$(/usr/bin/time -f %M "$V" video hash "$f" 2>&1 >/dev/null | tail -1)
    rssf=$(/usr/bin/time -f %M "$V" video hash --fast "$f" 2>&1 >/dev/null | tail -1)
    echo "max resident set, one video $w: exact $rss KiB, fast $rssf KiB"
done

#!/bin/sh
# video_set.sh [SIZES] - a query video against video sets of 10,000 to 100,000 videos through the
# index (vigil index build from a vPDQ file; vigil video match --index), cost against the frames
# in the set. Each set: the 14 sample videos' -r 1 hashes plus synthetic videos of 10 frames each,
# 90 % random hashes and 10 % copies of sample frames with 40-60 bits flipped (near misses for the
# radius of 31, which make the index's buckets do real work). Prints a Markdown table.
set -eu
V=${VIGIL:-build/vigil}
DIR=$(dirname "$0")/../../../shared/vpdq
[ -d "$DIR/hashes" ] || DIR=/work/shared/vpdq
SIZES=${*:-10000 30000 100000}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
q="$DIR/hashes/chair-20-sd-bar.r1.txt"
echo "| videos in the set | frames (entries) | index MiB | build s | query s (21 frames, open included) | open only s | matches |"
echo "|---|---|---|---|---|---|---|"
for n in $SIZES; do
    python3 - "$n" "$DIR/hashes" > "$tmp/set.txt" <<'PY'
import sys, random, glob, os
n = int(sys.argv[1]); random.seed(20)
real = []
for p in sorted(glob.glob(os.path.join(sys.argv[2], '*.r1.txt'))):
    lines = [l.strip() for l in open(p) if l.strip()]
    real.append((os.path.basename(p)[:-7], lines))
    print('# ' + os.path.basename(p)[:-7]); print('\n'.join(lines))
frames = [int(l.split(',')[2], 16) for _, ls in real for l in ls]
out = sys.stdout
for v in range(n - len(real)):
    out.write('# synthetic-%d\n' % v)
    for i in range(10):
        if random.random() < 0.1:
            h = random.choice(frames)
            for b in random.sample(range(256), random.randint(40, 60)): h ^= 1 << b
        else:
            h = random.getrandbits(256)
        out.write('%d,100,%064x,%d.000\n' % (i * 30, h, i))
PY
    s=$(date +%s.%N); "$V" index build -o "$tmp/set.vgi" "$tmp/set.txt" 2>/dev/null; e=$(date +%s.%N)
    entries=$("$V" index info "$tmp/set.vgi" | awk -F'\t' 'NR==1{for(i=1;i<=NF;i++) if($i=="entries") c=i} NR==2{print $c}')
    mib=$(du -m "$tmp/set.vgi" | cut -f1)
    s2=$(date +%s.%N); "$V" video match --index "$tmp/set.vgi" "$q" > "$tmp/out"; e2=$(date +%s.%N)
    printf '0,100,%064x,0.000\n' 0 > "$tmp/one.txt"
    s3=$(date +%s.%N); "$V" video match --index "$tmp/set.vgi" "$tmp/one.txt" > /dev/null; e3=$(date +%s.%N)
    printf '| %s | %s | %s | %.2f | %.3f | %.3f | %s |\n' "$n" "$entries" "$mib" "$(echo "$e - $s" | bc -l)" \
        "$(echo "$e2 - $s2" | bc -l)" "$(echo "$e3 - $s3" | bc -l)" "$(($(wc -l < "$tmp/out") - 1))"
done
echo
echo "The matches of the last query:"; echo; sed 's/^/    /' "$tmp/out"

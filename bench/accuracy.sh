#!/bin/sh
# accuracy.sh - distance of vigil's fast and exact modes to Meta's reference tool
# (datasets/pdq-reference-vectors.tsv, made by pdq-photo-hasher) over the photos that
# datasets/fetch-photos.sh rebuilds. Prints per-mode median, p95, max, and the images over 10 bits.
set -eu
B=${1:-build}
PHOTOS=${PHOTOS:-$B/photos}
[ -f "$PHOTOS/mate-backgrounds__Storm.jpg" ] || sh datasets/fetch-photos.sh "$PHOTOS"
for mode in exact fast; do
    flag=""; [ $mode = exact ] && flag="--exact"
    "$B/vigil" hash -q --no-digests $flag "$PHOTOS" 2>/dev/null >"$B/bench/accuracy-$mode.tsv" || true
    awk -F'\t' -v mode=$mode '
        function popc(h,   i, n, d) { n = 0; for (i = 1; i <= 64; i++) { d = index("0123456789abcdef", substr(h, i, 1)) - 1; n += bits[d] } return n }
        function xorhex(a, b,   i, s, x, y) { s = ""; for (i = 1; i <= 64; i++) { x = index("0123456789abcdef", substr(a, i, 1)) - 1; y = index("0123456789abcdef", substr(b, i, 1)) - 1; s = s substr("0123456789abcdef", xor4(x, y) + 1, 1) } return s }
        function xor4(x, y,   r, k) { r = 0; for (k = 1; k <= 8; k *= 2) { if ((int(x / k) % 2) != (int(y / k) % 2)) r += k } return r }
        BEGIN { for (i = 0; i < 16; i++) { c = 0; v = i; while (v) { c += v % 2; v = int(v / 2) } bits[i] = c } n = 0 }
        NR == FNR { if (FNR > 1) { ref[$1] = $2; q[$1] = $3; note[$1] = $13 }; next }
        FNR > 1 { k = $1; sub(".*/", "", k); if (!(k in ref) || $2 == "") next
                  d = popc(xorhex($2, ref[k])); if (note[k] != "") { skipped++; next }
                  ds[++n] = d; if (d == 0) same++; if (d > 10 && q[k] >= 80) over = over " " k "(" d ")" }
        END { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (ds[j] < ds[i]) { t = ds[i]; ds[i] = ds[j]; ds[j] = t }
              printf "accuracy mode=%s images=%d identical=%d median=%d p95=%d max=%d over10_q80=[%s] 16bit_excluded=%d\n",
                     mode, n, same, ds[int((n + 1) / 2)], ds[int(0.95 * n + 0.999)], ds[n], over, skipped }' \
        datasets/pdq-reference-vectors.tsv "$B/bench/accuracy-$mode.tsv"
done

#!/bin/sh
# soak_serve.sh - `make soak-serve SOAK_SECONDS=600`: vigil serve for SOAK_SECONDS under a mix of
# lookups (80 %), photo uploads (10 %) and adds (10 %) from wrk, while the index file is renamed
# over every 5 s (each rename a reload, on top of which the growing add log is applied again).
# Reports the failed requests (wrk's socket errors and non-2xx, and the server's own counts by
# code) and the server's RSS every 10 % of the run. SOAK_N hashes in the index (default 100000).
set -eu
B=${1:-build}
SECS=${SOAK_SECONDS:-600}
N=${SOAK_N:-100000}
THREADS=${THREADS:-$(nproc)}
O="$B/bench/soak"
mkdir -p "$O"
[ -s "$O/base-$N.vgi" ] || "$B/bench-serve" gen "$N" "$O/base-$N.vgi" "$O/q.txt" 20000 256
cp "$O/base-$N.vgi" "$O/soak.vgi"
rm -f "$O/soak.vgi.log"
printf 'soak-token-0123456789abcdef\n' > "$O/tok"
chmod 600 "$O/tok"
rm -f "$O/server.log"
# compaction every 2000 adds: the soak also merges the log into the file, by the server's own writer
"$B/vigil" serve --listen 127.0.0.1:0 -j "$THREADS" --index "$O/soak.vgi" --curation-token-file "$O/tok" \
    --compact-after 2000 2>"$O/server.log" &
SPID=$!
while ! grep -q ready "$O/server.log"; do kill -0 $SPID; sleep 0.1; done
PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$O/server.log")
U=http://127.0.0.1:$PORT
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$SPID/status"; }
echo "bench=soak seconds=$SECS n=$N threads=$THREADS start_rss_kb=$(rss)"
wrk -t1 -c8 -d"${SECS}s" --timeout 10s -s bench/serve.lua "$U" -- mix "$O/q.txt" soak-token-0123456789abcdef \
    datasets/samples/* tests/data/images/* > "$O/wrk.out" 2>&1 &
WP=$!
t=0
step=$((SECS / 10))
[ $step -gt 0 ] || step=1
renames=0
while kill -0 $WP 2>/dev/null; do
    sleep 5
    t=$((t + 5))
    # a new version of the bank from an exchange: the file replaced by rename
    if kill -0 $WP 2>/dev/null; then
        cp "$O/base-$N.vgi" "$O/soak.tmp" && mv "$O/soak.tmp" "$O/soak.vgi"
        renames=$((renames + 1))
    fi
    [ $((t % step)) -lt 5 ] && echo "bench=soak_rss t=$t rss_kb=$(rss) reloads=$(grep -c 'reloaded from' "$O/server.log") compactions=$(grep -c 'merged into' "$O/server.log")"
done
wait $WP || true
echo "bench=soak_wrk $(grep '^wrk ' "$O/wrk.out")"
echo "bench=soak_server_codes $(curl -s "$U/metrics" | sed -n 's/^vigil_http_requests_total{endpoint="\([a-z_]*\)",code="\([0-9a-z]*\)"} \([0-9]*\)/\1_\2=\3/p' | tr '\n' ' ')"
echo "bench=soak_end renames=$renames end_rss_kb=$(rss)"
kill $SPID
wait $SPID

#!/bin/sh
# serve.sh - `vigil serve` as a real server on a free loopback port, driven with curl (and
# tests/serve_client.py where a test needs to hold a connection): every endpoint's answers against
# `vigil match` / `vigil hash` / `vigil rooms query`, bad requests, limits, auth, adds that
# survive kill -9, reloads under load, SIGHUP, compaction and the SIGTERM drain.
NAME=serve
. "$(dirname "$0")/lib.sh"
PY="python3 tests/serve_client.py"
TOK=0123456789abcdef-curation
ALL=fedcba9876543210-everything
printf '%s\n' "$TOK" > "$T/tok"
printf '%s\n' "$ALL" > "$T/all"
chmod 600 "$T/tok" "$T/all"

SPID=""
# start LOG ARGS...: a server on port 0; sets SPID, PORT, U once it says ready
start() {
    log=$1
    shift
    "$V" serve --listen 127.0.0.1:0 -j 2 "$@" 2>"$log" &
    SPID=$!
    i=0
    while [ $i -lt 400 ] && ! grep -q "ready" "$log" 2>/dev/null && kill -0 $SPID 2>/dev/null; do
        sleep 0.05
        i=$((i + 1))
    done
    PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log")
    U=http://127.0.0.1:$PORT
}
stop() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }
# code URL ARGS...: prints the status code, the body in $T/body
code() { u=$1; shift; curl -s -o "$T/body" -w '%{http_code}' "$@" "$u"; }

# ---- references: VICTIMS (numeric ids, one digest-only entry), HOTELS (paths as ids) ----------
"$V" hash --format jsonl "$D" > "$T/h.jsonl"
python3 - "$T" <<'EOF'
import json, sys
t = sys.argv[1]
rows = [json.loads(l) for l in open(t + "/h.jsonl")]
with open(t + "/victims.csv", "w") as f:
    f.write("pdq,id,md5\n")
    for i, r in enumerate(rows[:-1]):
        f.write("%s,%d,\n" % (r["pdq"], 100 + i))
with open(t + "/digests.csv", "w") as f:
    f.write("md5,sha1,id\n%s,%s,900\n" % (rows[-1]["md5"], rows[-1]["sha1"]))
with open(t + "/hashes.txt", "w") as f:
    for r in rows:
        f.write(r["pdq"] + "\n")
EOF
"$V" hash --dihedral --format jsonl "$D" > "$T/hd.jsonl"
python3 - "$T" <<'EOF'
import json, sys
t = sys.argv[1]
rows = [json.loads(l) for l in open(t + "/hd.jsonl")]
names = ["orig", "rot90", "rot180", "rot270", "flipx", "flipy", "flipp", "flipm"]
json.dump({"dihedral": True, "signals": [[r.get(n) or r["pdq"] for n in names] for r in rows]}, open(t + "/dihedral.json", "w"))
open(t + "/dihedral.txt", "w").write("".join(r["pdq"] + "\n" for r in rows))
EOF
"$V" index build -o "$T/a.vgi" --set VICTIMS "$T/victims.csv" "$T/digests.csv" 2>/dev/null
"$V" index build -o "$T/b.vgi" --set HOTELS "$D" 2>/dev/null
"$V" rooms build -o "$T/r.vgr" --labels "hotel_id=7 room=1" "$D/opencv-doc__left.jpg" "$D/opencv-doc__box.png" 2>/dev/null
check "reference indexes built" test -s "$T/a.vgi" -a -s "$T/b.vgi" -a -s "$T/r.vgr"

start "$T/s1.log" --index "$T/a.vgi" --index "$T/b.vgi" --rooms "$T/r.vgr" --curation-token-file "$T/tok" --compact-after 0
check "the server says where it listens and gets ready" test -n "$PORT"
check "it binds to loopback" grep -q "listening on http://127.0.0.1:" "$T/s1.log"
[ "$(code $U/status)" = 200 ] && grep -q I-AM-ALIVE "$T/body" && ok "GET /status: I-AM-ALIVE" || bad "GET /status" "$(cat "$T/body")"
[ "$(code $U/status/live)" = 200 ] && ok "GET /status/live" || bad "GET /status/live"

# ---- lookups against vigil match -------------------------------------------------------------
"$V" match --format jsonl --index "$T/a.vgi" --index "$T/b.vgi" "$D" > "$T/match.jsonl"
"$V" match --format jsonl --dihedral --index "$T/a.vgi" --index "$T/b.vgi" "$D" > "$T/matchd.jsonl"
bad_get=0 bad_post=0 bad_hash=0 n=0
for f in "$D"/*; do
    h=$(python3 -c 'import json,sys; [print(r["pdq"]) for r in map(json.loads, open(sys.argv[1])) if r["path"]==sys.argv[2]]' "$T/h.jsonl" "$f")
    curl -s "$U/m/lookup?signal_type=pdq&signal=$h" > "$T/get.json"
    $PY compare_lookup "$T/get.json" "$T/match.jsonl" "$h" >"$T/cmp.out" || { bad_get=1; cat "$T/cmp.out"; }
    curl -s -F "photo=@$f" "$U/m/lookup" > "$T/post.json"
    python3 -c 'import json,sys; json.dump(json.load(open(sys.argv[1]))["pdq"], open(sys.argv[2],"w"))' "$T/post.json" "$T/post1.json" &&
        $PY compare_lookup "$T/post1.json" "$T/match.jsonl" "$f" >"$T/cmp.out" || { bad_post=1; cat "$T/cmp.out"; }
    curl -s -F "photo=@$f" "$U/h/hash" > "$T/hash.json"
    python3 - "$T/hash.json" "$T/h.jsonl" "$f" <<'EOF' || bad_hash=1
import json, sys
got = json.load(open(sys.argv[1]))
want = [r for r in map(json.loads, open(sys.argv[2])) if r["path"] == sys.argv[3]][0]
for k in ("pdq", "quality", "md5", "sha1"):
    assert got[k] == want[k], (k, got[k], want[k])
EOF
    n=$((n + 1))
done
[ $bad_get = 0 ] && ok "GET /m/lookup of $n hashes = vigil match (banks, ids, distances as strings)" || bad "GET /m/lookup differs from vigil match"
[ $bad_post = 0 ] && ok "POST /m/lookup of $n photos = vigil match" || bad "POST /m/lookup differs from vigil match"
[ $bad_hash = 0 ] && ok "POST /h/hash of $n photos = vigil hash (pdq, quality, md5, sha1)" || bad "POST /h/hash differs from vigil hash"
h1=$(sed -n 1p "$T/hashes.txt")
curl -s "$U/m/lookup?signal_type=pdq&signal=$h1&banks=HOTELS" > "$T/body"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert list(d)==["HOTELS"], d' "$T/body" && ok "banks= restricts the lookup" || bad "banks=" "$(cat "$T/body")"
md5=$(python3 -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1])][-1]["md5"])' "$T/h.jsonl")
curl -s "$U/m/lookup?signal_type=md5&signal=$md5" > "$T/body"
grep -q '"VICTIMS":\[{"bank_content_id":900,"distance":"0"}\]' "$T/body" && ok "signal_type=md5 finds the digest-only entry" || bad "md5 lookup" "$(cat "$T/body")"

# ---- batch, compare, rooms, status endpoints ----------------------------------------------------
python3 -c 'import json,sys; json.dump({"signals":[l.strip() for l in open(sys.argv[1])],"radius":31}, open(sys.argv[2],"w"))' "$T/hashes.txt" "$T/batch.json"
curl -s -XPOST --data-binary @"$T/batch.json" "$U/v/lookup/batch" > "$T/b.out"
python3 - "$T/b.out" "$T/b1.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["pdq"]:
    for ms in r.values():
        for m in ms: del m["transform"]
json.dump(d, open(sys.argv[2], "w"))
EOF
$PY compare_batch "$T/b1.json" "$T/match.jsonl" "$T/hashes.txt" 0 > "$T/cmp.out" && ok "POST /v/lookup/batch = vigil match, query by query" || bad "batch" "$(cat "$T/cmp.out")"
curl -s -XPOST --data-binary @"$T/dihedral.json" "$U/v/lookup/batch" > "$T/bd.out"
$PY compare_batch "$T/bd.out" "$T/matchd.jsonl" "$T/dihedral.txt" 1 > "$T/cmp.out" && ok "batch with dihedral = vigil match --dihedral (with transforms)" || bad "dihedral batch" "$(cat "$T/cmp.out")"
curl -s -XPOST -d "{\"md5\":[\"$md5\"],\"sha1\":[\"0000000000000000000000000000000000000000\"]}" "$U/v/lookup/batch" > "$T/body"
grep -q '"md5":\[{"VICTIMS":\[{"bank_content_id":900,"distance":"0"}\]}\],"sha1":\[{}\]' "$T/body" && ok "batch MD5/SHA-1 lookups" || bad "batch digests" "$(cat "$T/body")"
h2=$(sed -n 2p "$T/hashes.txt")
curl -s -XPOST -d "{\"pdq\":[\"$h1\",\"$h2\"]}" "$U/m/compare" > "$T/body"
want=$(python3 -c 'import sys; a,b=int(sys.argv[1],16),int(sys.argv[2],16); print(bin(a^b).count("1"))' "$h1" "$h2")
grep -q "{\"pdq\":\[false,{\"distance\":$want}\]}" "$T/body" && ok "POST /m/compare: distance $want" || bad "compare" "$(cat "$T/body")"
curl -s -XPOST -d "{\"pdq\":[\"$h1\",\"$h1\"]}" "$U/m/compare" | grep -q '\[true,{"distance":0}\]' && ok "POST /m/compare of a hash with itself" || bad "compare self"
curl -s "$U/m/index/status" | grep -q '"pdq":{"present":true,"built_to":[0-9]*,"size":14}' && ok "GET /m/index/status counts both banks" || bad "index status" "$(curl -s $U/m/index/status)"
curl -s "$U/c/banks" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [b["name"] for b in d]==["VICTIMS","HOTELS"] and d[0]["size"]==6 and d[0]["digests"]==1 and d[0]["matching_enabled_ratio"]==1.0, d' && ok "GET /c/banks" || bad "banks list"
[ "$(code $U/c/bank/HOTELS)" = 200 ] && grep -q '"name":"HOTELS"' "$T/body" && ok "GET /c/bank/NAME" || bad "bank by name"
[ "$(code $U/c/bank/NOPE)" = 404 ] && grep -q '"message":"bank' "$T/body" && ok "an unknown bank is 404 with a message" || bad "unknown bank"
"$V" rooms query --format jsonl --index "$T/r.vgr" "$D/opencv-doc__left.jpg" > "$T/rq.jsonl"
curl -s -F "photo=@$D/opencv-doc__left.jpg" "$U/v/rooms" > "$T/body"
python3 - "$T/body" "$T/rq.jsonl" <<'EOF' && ok "POST /v/rooms = vigil rooms query" || bad "rooms" "$(cat "$T/body")"
import json, sys
got = [(r["name"], r["inliers"]) for r in json.load(open(sys.argv[1]))["rooms"]]
want = [(r.get("reference") or r.get("name") or r.get("ref"), r["inliers"]) for r in map(json.loads, open(sys.argv[2]))]
assert got and [g[1] for g in got] == [w[1] for w in want], (got, want)
EOF
curl -s -F "photo=@$D/opencv-doc__left.jpg" "$U/v/rooms?mask=0,0,100000,100000" | grep -q '"rooms":\[\]' && ok "a room query masked whole finds nothing" || bad "rooms mask"

# ---- bad requests: each a 4xx/5xx with a message, and the service stays up ------------------------
bq() { # NAME WANTCODE URL CURLARGS...
    n=$1 w=$2 u=$3; shift 3
    c=$(code "$u" "$@")
    if [ "$c" = "$w" ] && grep -q '"message":' "$T/body"; then ok "$n: $w"; else bad "$n: got $c, want $w" "$(head -c 300 "$T/body")"; fi
}
bq "malformed hex" 400 "$U/m/lookup?signal_type=pdq&signal=xyz"
bq "63 hex digits" 400 "$U/m/lookup?signal_type=pdq&signal=$(echo "$h1" | cut -c2-)"
bq "unknown signal type" 400 "$U/m/lookup?signal_type=tmk&signal=$h1"
bq "missing signal" 400 "$U/m/lookup?signal_type=pdq"
bq "bad percent escape" 400 "$U/m/lookup?signal_type=pdq&signal=%zz"
bq "lookup by url makes no request" 501 "$U/m/lookup?url=http://192.0.2.1/x.jpg"
bq "hash by url makes no request" 501 "$U/h/hash?url=http://192.0.2.1/x.jpg"
bq "unknown path" 404 "$U/no/such/path"
bq "wrong method" 405 "$U/m/lookup" -X DELETE
bq "upload that is not multipart" 400 "$U/h/hash" -XPOST -H 'Content-Type: image/jpeg' --data-binary @"$D/opencv-doc__left.jpg"
printf -- '--XX\r\nContent-Disposition: form-data; name="photo"\r\n\r\nabc' > "$T/broken"
bq "broken multipart (no closing boundary)" 400 "$U/h/hash" -XPOST -H 'Content-Type: multipart/form-data; boundary=XX' --data-binary @"$T/broken"
bq "multipart without a photo field" 400 "$U/h/hash" -F "picture=@$D/opencv-doc__left.jpg"
printf 'this is not an image\n' > "$T/text.jpg"
bq "a non-image upload" 400 "$U/m/lookup" -F "photo=@$T/text.jpg"
bq "JSON that is not JSON" 400 "$U/m/compare" -XPOST -d '{"pdq":['
bq "batch radius out of range" 400 "$U/v/lookup/batch" -XPOST -d '{"signals":[],"radius":500}'
bq "batch with a bad hash" 400 "$U/v/lookup/batch" -XPOST -d '{"signals":["00"]}'
bq "dihedral batch without 8 hashes" 400 "$U/v/lookup/batch" -XPOST -d "{\"signals\":[\"$h1\"],\"dihedral\":true}"
long=$(python3 -c 'print("a"*40000)')
c=$(curl -s -o /dev/null -w '%{http_code}' "$U/m/lookup?signal_type=pdq&signal=$long")
case $c in 414|431|400) ok "an oversized URL is refused ($c)" ;; *) bad "oversized URL: $c" ;; esac
[ "$(code $U/status)" = 200 ] && ok "the service is still up after the bad requests" || bad "service down after bad requests"

# ---- curation and auth ------------------------------------------------------------------------------
bq "an add without the curation token" 401 "$U/c/bank/VICTIMS/signal" -XPOST -d "{\"pdq\":\"$h1\"}"
bq "an add with a wrong token" 401 "$U/c/bank/VICTIMS/signal" -XPOST -H "Authorization: Bearer ${TOK}x" -d "{\"pdq\":\"$h1\"}"
A="Authorization: Bearer $TOK"
NEW=00000000000000000000000000000000ffffffffffffffffffffffffffffffff
c=$(code "$U/c/bank/VICTIMS/signal" -XPOST -H "$A" -d "{\"pdq\":\"$NEW\",\"note\":\"added by test\"}")
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/body" 2>/dev/null)
[ "$c" = 200 ] && grep -q "\"signals\":{\"pdq\":\"$NEW\"}" "$T/body" && ok "POST /c/bank/NAME/signal adds (id $id)" || bad "add signal: $c" "$(cat "$T/body")"
[ "$id" = 901 ] && ok "a new id follows the bank's highest numeric id" || bad "new id $id, want 901"
curl -s "$U/m/lookup?signal_type=pdq&signal=$NEW" | grep -q "{\"VICTIMS\":\[{\"bank_content_id\":$id,\"distance\":\"0\"}\]}" && ok "the next lookup finds the add" || bad "add not visible"
bq "an add to an unknown bank" 404 "$U/c/bank/NOPE/signal" -XPOST -H "$A" -d "{\"pdq\":\"$NEW\"}"
bq "an add with a bad hash" 400 "$U/c/bank/VICTIMS/signal" -XPOST -H "$A" -d '{"pdq":"abc"}'
bq "an add of an unknown signal type" 400 "$U/c/bank/VICTIMS/signal" -XPOST -H "$A" -d "{\"vmd5\":\"$h1\"}"
c=$(code "$U/c/bank/HOTELS/content" -H "$A" -F "photo=@$D/opencv-doc__right.jpg")
cid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$T/body" 2>/dev/null)
[ "$c" = 200 ] && ok "POST /c/bank/NAME/content adds a photo (id $cid)" || bad "add content: $c" "$(cat "$T/body")"
curl -s -F "photo=@$D/opencv-doc__right.jpg" "$U/m/lookup" | grep -q "{\"bank_content_id\":$cid,\"distance\":\"0\"}" && ok "the added photo is found by upload" || bad "added photo not found"
c=$(code "$U/c/bank/VICTIMS/content/$id" -XDELETE -H "$A")
[ "$c" = 200 ] && grep -q '{"deleted":1}' "$T/body" && ok "DELETE /c/bank/NAME/content/ID" || bad "delete: $c" "$(cat "$T/body")"
curl -s "$U/m/lookup?signal_type=pdq&signal=$NEW" | grep -q '^{}$' && ok "the deleted entry is no longer found" || bad "deleted entry still found"
c=$(code "$U/c/bank/VICTIMS/content/100" -XDELETE -H "$A")
curl -s "$U/m/lookup?signal_type=pdq&signal=$h1" | grep -q '"bank_content_id":100,' && bad "an entry of the file survives its delete" || ok "an entry of the file can be deleted too"
grep -q "note=added_by_test" "$T/a.vgi.log" && ok "the add log holds the change" || bad "add log"
# no request body ever reaches the log
python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.exit(b"JFIF" in d or b"\x89PNG" in d or b"Content-Disposition" in d)' "$T/s1.log" && ok "no image bytes or bodies in the server's log" || bad "image bytes in the log"

# ---- kill -9 during a burst of adds loses no acknowledged add --------------------------------------
$PY burst "$PORT" "$TOK" "$T/acked" 100000 &
BP=$!
i=0
while [ $i -lt 200 ] && [ "$(cat "$T/acked" 2>/dev/null | wc -l)" -lt 150 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 "$SPID"
wait "$SPID" 2>/dev/null
wait "$BP"
start "$T/s2.log" --index "$T/a.vgi" --index "$T/b.vgi" --rooms "$T/r.vgr" --curation-token-file "$T/tok" --compact-after 0
$PY check_acked "$PORT" "$T/acked" > "$T/cmp.out" && ok "kill -9 during adds: every acknowledged add is there after restart ($(cat "$T/cmp.out"))" || bad "acknowledged adds lost" "$(cat "$T/cmp.out")"
curl -s "$U/m/lookup?signal_type=pdq&signal=$NEW" | grep -q '^{}$' && ok "a delete survives the restart too" || bad "delete lost at restart"
grep -q "from its add log" "$T/s2.log" && ok "the log is replayed at start" || bad "no replay message"

# ---- reload: a file renamed over is picked up, under load, with no failed request --------------------
"$V" index build -o "$T/a2.vgi" --set VICTIMS "$T/victims.csv" "$T/digests.csv" 2>/dev/null
printf '%s,777,\n' "$NEW" > "$T/extra.csv.body"
{ echo "pdq,id,md5"; cat "$T/extra.csv.body"; } > "$T/extra.csv"
"$V" index build -o "$T/a3.vgi" --set VICTIMS "$T/victims.csv" "$T/digests.csv" "$T/extra.csv" 2>/dev/null
rm -f "$T/stop"
sed -n 2,6p "$T/hashes.txt" > "$T/live.txt" # in VICTIMS whatever the file: 1 was deleted, 7 is a digest
$PY lookups_during "$PORT" "$T/live.txt" "$T/stop" "$T/load" &
LP=$!
for k in 1 2 3 4 5 6 7 8 9 10; do
    cp "$T/a2.vgi" "$T/a.tmp" && mv "$T/a.tmp" "$T/a.vgi"
    sleep 0.1
    cp "$T/a3.vgi" "$T/a.tmp" && mv "$T/a.tmp" "$T/a.vgi"
    sleep 0.1
done
i=0
while [ $i -lt 100 ] && ! curl -s "$U/m/lookup?signal_type=pdq&signal=$NEW" | grep -q '"bank_content_id":777'; do sleep 0.1; i=$((i + 1)); done
touch "$T/stop"
wait $LP
read okn failn < "$T/load"
[ "$failn" = 0 ] && [ "$okn" -gt 0 ] && ok "20 renames under load: $okn lookups, none failed" || bad "lookups failed during reloads: $okn ok, $failn failed"
curl -s "$U/m/lookup?signal_type=pdq&signal=$NEW" | grep -q '"bank_content_id":777' && ok "the renamed-in file is searched" || bad "renamed file not picked up"
$PY check_acked "$PORT" "$T/acked" > "$T/cmp.out" && ok "the add log is applied on top of the new file" || bad "adds lost at reload" "$(cat "$T/cmp.out")"
grep -q "reloaded from" "$T/s2.log" && ok "the reload is reported" || bad "no reload message"

# ---- the room index renamed over under room queries: none fails, each sees one whole version -------
cp "$T/r.vgr" "$T/r1.vgr"
"$V" rooms build -o "$T/r2.vgr" --labels "hotel_id=8 room=2" "$D/opencv-doc__left.jpg" "$D/opencv-doc__box.png" 2>/dev/null
rm -f "$T/stop"
$PY rooms_during "$PORT" "$D/opencv-doc__left.jpg" "hotel_id=7 room=1|hotel_id=8 room=2" "$T/stop" "$T/rload" &
LP=$!
sleep 0.3
for k in 1 2 3 4 5 6 7 8 9 10; do
    cp "$T/r2.vgr" "$T/r.tmp" && mv "$T/r.tmp" "$T/r.vgr"
    sleep 0.15
    cp "$T/r1.vgr" "$T/r.tmp" && mv "$T/r.tmp" "$T/r.vgr"
    sleep 0.15
done
cp "$T/r2.vgr" "$T/r.tmp" && mv "$T/r.tmp" "$T/r.vgr"
i=0
while [ $i -lt 100 ] && ! curl -s -F "photo=@$D/opencv-doc__left.jpg" "$U/v/rooms" | grep -q 'hotel_id=8'; do sleep 0.1; i=$((i + 1)); done
touch "$T/stop"
wait $LP
read okn failn nlab < "$T/rload"
[ "$failn" = 0 ] && [ "$okn" -gt 0 ] && ok "21 renames of the room index under queries: $okn queries, none failed, each one version" || bad "room queries failed during reloads: $okn ok, $failn failed"
[ "$nlab" = 2 ] && ok "the queries saw both versions of the room index" || bad "queries saw $nlab versions of the room index, want 2"
curl -s -F "photo=@$D/opencv-doc__left.jpg" "$U/v/rooms" | grep -q '"labels":"hotel_id=8 room=2"' && ok "the renamed-in room index is queried" || bad "renamed room index not picked up"
grep -q "room index reloaded from" "$T/s2.log" && ok "the room index reload is reported" || bad "no room index reload message"
curl -s "$U/metrics" | grep -q '^vigil_rooms_reloads_total [1-9]' && ok "GET /metrics counts room index reloads" || bad "no room reloads in /metrics"
# every replaced version is freed by its last request: no descriptor on a deleted file is left
nd=$(ls -l /proc/$SPID/fd 2>/dev/null | grep -c '(deleted)')
[ "$nd" = 0 ] && ok "no old index or room index is held after the reloads" || bad "$nd deleted index files still held open" "$(ls -l /proc/$SPID/fd | grep deleted)"
# a damaged file renamed in is refused once, and the loaded version keeps answering
head -c 300 "$T/r2.vgr" > "$T/r.tmp" && mv "$T/r.tmp" "$T/r.vgr"
sleep 2.5
[ "$(grep -c 'reload of the room index failed' "$T/s2.log")" = 1 ] && ok "a damaged room index is refused and reported once" || bad "damaged room index: $(grep -c 'reload of the room index failed' "$T/s2.log") reports, want 1"
curl -s -F "photo=@$D/opencv-doc__left.jpg" "$U/v/rooms" | grep -q '"labels":"hotel_id=8 room=2"' && ok "the loaded room index keeps answering" || bad "room queries broken by a damaged file"
cp "$T/r1.vgr" "$T/r.tmp" && mv "$T/r.tmp" "$T/r.vgr"
i=0
while [ $i -lt 100 ] && ! curl -s -F "photo=@$D/opencv-doc__left.jpg" "$U/v/rooms" | grep -q 'hotel_id=7'; do sleep 0.1; i=$((i + 1)); done
curl -s -F "photo=@$D/opencv-doc__left.jpg" "$U/v/rooms" | grep -q '"labels":"hotel_id=7 room=1"' && ok "a good file renamed in after a bad one is read" || bad "room index not reloaded after a bad file"
r0=$(curl -s "$U/metrics" | sed -n 's/^vigil_reloads_total{result="ok"} //p')
kill -HUP "$SPID"
i=0
while [ $i -lt 100 ]; do
    r1=$(curl -s "$U/metrics" | sed -n 's/^vigil_reloads_total{result="ok"} //p')
    [ "$r1" -gt "$r0" ] && break
    sleep 0.05
    i=$((i + 1))
done
[ "$r1" -gt "$r0" ] && ok "SIGHUP reloads ($r0 -> $r1)" || bad "SIGHUP did not reload"
curl -s "$U/metrics" > "$T/metrics"
grep -q 'vigil_http_requests_total{endpoint="lookup_get",code="200"} [1-9]' "$T/metrics" &&
    grep -q 'vigil_http_request_duration_seconds_bucket{endpoint="lookup_get",le="+Inf"}' "$T/metrics" &&
    grep -q 'vigil_bank_entries{bank="VICTIMS",part="file"}' "$T/metrics" &&
    grep -q '^vigil_http_requests_in_flight 1$' "$T/metrics" && ok "GET /metrics: requests, latency histogram, bank sizes, in flight (itself)" || bad "metrics" "$(head -5 "$T/metrics")"

# ---- SIGTERM: the request in flight is answered, then exit 0 ---------------------------------------
$PY drain "$PORT" "$SPID" "$D/opencv-doc__left.jpg" > "$T/cmp.out" && ok "SIGTERM drains: the upload in flight is answered ($(cut -c1-15 "$T/cmp.out"))" || bad "drain" "$(cat "$T/cmp.out")"
wait "$SPID"
rc=$?
[ $rc = 0 ] && ok "exit 0 after SIGTERM" || bad "exit $rc after SIGTERM"

# ---- limits, whole-server token, compaction --------------------------------------------------------
start "$T/s3.log" --index "$T/a.vgi" --token-file "$T/all" --max-upload 20K --max-pixels 1000 --compact-after 3
B="Authorization: Bearer $ALL"
bq "every endpoint needs the token" 401 "$U/m/lookup?signal_type=pdq&signal=$h1"
[ "$(code $U/status -H "$B")" = 200 ] && ok "with the token: 200" || bad "token refused"
bq "a body over --max-upload" 413 "$U/h/hash" -H "$B" -F "photo=@$D/opencv-doc__left.jpg"
small=$T/small.png
vips black "$small" 40 40 2>/dev/null || cp "$D/gimp-help-en__threshold-orig.png" "$small"
bq "an image over --max-pixels by its header" 422 "$U/h/hash" -H "$B" -F "photo=@$small"
for k in 1 2 3; do
    curl -s -XPOST -H "$B" -d "{\"pdq\":\"$(python3 -c 'import os; print(os.urandom(32).hex())')\"}" "$U/c/bank/VICTIMS/signal" >/dev/null
done
i=0
while [ $i -lt 100 ] && [ -s "$T/a.vgi.log" ]; do sleep 0.05; i=$((i + 1)); done
[ ! -s "$T/a.vgi.log" ] && ok "--compact-after: the log is merged into the file and emptied" || bad "no compaction"
"$V" index verify "$T/a.vgi" >/dev/null 2>&1 && ok "the compacted file verifies" || bad "compacted file does not verify"
curl -s -H "$B" "$U/c/bank/VICTIMS" | grep -q '"added":0' && ok "after compaction the adds are in the file" || bad "compaction state"
# a second server on the same files: the log is the first one's, so this one serves read-only
S3=$SPID
start "$T/s4.log" --index "$T/a.vgi" --token-file "$T/all"
grep -q "read-only" "$T/s4.log" && ok "a second server on the same files says it serves them read-only" || bad "no read-only notice"
bq "the second server refuses changes" 503 "$U/c/bank/VICTIMS/signal" -XPOST -H "$B" -d "{\"pdq\":\"$NEW\"}"
[ "$(code "$U/m/lookup?signal_type=pdq&signal=$h2" -H "$B")" = 200 ] && grep -q VICTIMS "$T/body" && ok "and answers lookups" || bad "read-only lookups"
stop
SPID=$S3
stop
finish

#!/bin/sh
# archive.sh - scanning inside archives (docs/archives.md): every format by content, nested
# archives and their paths, bombs refused naming the limit, encrypted and damaged archives, names
# that are only names, kill -9 and --resume in the middle of a large archive.
NAME=archive
. "$(dirname "$0")/lib.sh"
wait_for() { i=0; while [ ! -e "$1" ] && [ $i -lt 1500 ]; do sleep 0.02; i=$((i + 1)); done; }
py() { python3 -c "$@"; }
# field FILE.jsonl PATH KEY: the value of KEY in the record of PATH
field() { py "
import json, sys
for l in open('$1'):
    r = json.loads(l)
    if r['path'] == sys.argv[1]:
        v = r.get(sys.argv[2]); print(json.dumps(v) if not isinstance(v, str) else v); break
" "$2" "$3"; }

W="$T/w"
mkdir -p "$W/src/dir" "$W/seized"
cp "$D/opencv-doc__box.png" "$W/src/dir/box.png"
cp "$D/opencv-doc__left.jpg" "$W/src/left.jpg"
BOX=$("$V" hash -q --no-digests "$D/opencv-doc__box.png" | awk -F'\t' 'NR == 2 { print $2 }')
LEFT=$("$V" hash -q --no-digests "$D/opencv-doc__left.jpg" | awk -F'\t' 'NR == 2 { print $2 }')
check "fixture: the photos hash" sh -c "[ ${#BOX} -eq 64 ] && [ ${#LEFT} -eq 64 ]"

# --- every format, told by content (the names say nothing) ------------------------------------------
(
    cd "$W/src" || exit 1
    zip -q -r ../f-zip.bin dir left.jpg
    zip -q -0 -r ../f-zip0.bin dir left.jpg
    tar cf ../f-tar.bin dir left.jpg
    tar czf ../f-tgz.bin dir left.jpg
    tar cjf ../f-tbz.bin dir left.jpg
    tar cJf ../f-txz.bin dir left.jpg
    tar cf - dir left.jpg | zstd -q >../f-tzst.bin
    7z a -bd -bso0 ../f-7z.bin dir left.jpg >/dev/null
    cp left.jpg x-left.jpg
    python3 "$OLDPWD/tests/mkrar.py" ../f-rar.bin dir/box.png x-left.jpg
    python3 "$OLDPWD/tests/mkrar.py" --rar5 ../f-rar5.bin dir/box.png x-left.jpg
)
for f in zip zip0 tar tgz tbz txz tzst 7z rar rar5; do
    a="$W/f-$f.bin"
    "$V" hash -q "$a" >"$T/h-$f.tsv" 2>"$T/h-$f.err"; rc=$?
    member=dir/box.png
    case $f in rar*) member=box.png ;; esac # the RAR writer stores base names
    check "$f: vigil hash lists the photo as ARCHIVE!/$member with its PDQ, exit 0" \
        sh -c "[ $rc -eq 0 ] && awk -F'\t' -v p='$a!/$member' -v h=$BOX '\$1 == p && \$2 == h { f = 1 } END { exit !f }' '$T/h-$f.tsv'"
done
check "each archive's own row: its format, digests, no PDQ" \
    sh -c "awk -F'\t' '\$1 == \"$W/f-tzst.bin\" && \$2 == \"\" && \$7 == \"tar.zst\" && length(\$8) == 32' '$T/h-tzst.tsv' | grep -q . &&
           awk -F'\t' '\$1 == \"$W/f-7z.bin\" && \$7 == \"7z\"' '$T/h-7z.tsv' | grep -q . &&
           awk -F'\t' '\$1 == \"$W/f-rar.bin\" && \$7 == \"rar\"' '$T/h-rar.tsv' | grep -q . &&
           awk -F'\t' '\$1 == \"$W/f-rar5.bin\" && \$7 == \"rar\"' '$T/h-rar5.tsv' | grep -q ."
check "each archive's own digests (taken beside the members' reads) are those of its bytes: MD5, SHA-1, XXH3-128" \
    sh -c "for f in zip zip0 tgz 7z rar rar5; do a='$W/f-'\$f.bin; awk -F'\t' -v p=\"\$a\" '\$1 == p { print \$8, \$9, \$10 }' '$T/h-'\$f.tsv >'$T/dg'
           [ \"\$(cat '$T/dg')\" = \"\$(md5sum <\"\$a\" | cut -d' ' -f1) \$(sha1sum <\"\$a\" | cut -d' ' -f1) \$(xxhsum -H2 <\"\$a\" | cut -d' ' -f1)\" ] || exit 1; done"
check "the members' digests are those of the files themselves" \
    sh -c "[ \"\$(awk -F'\t' '\$1 ~ /box.png\$/ { print \$8 }' '$T/h-txz.tsv')\" = \"$(md5sum <"$D/opencv-doc__box.png" | cut -d' ' -f1)\" ]"
# a stored zip's members are digested by the zip's own pass (core/archive_digest.c) and read by
# the worker (vigil_archive_read_later): the same MD5, SHA-1 and XXH3-128 as the files
check "a stored zip's members: MD5, SHA-1 and XXH3-128 those of the files (taken in the zip's own pass)" \
    sh -c "for m in dir/box.png left.jpg; do awk -F'\t' -v p='$W/f-zip0.bin!/'\$m '\$1 == p { print \$8, \$9, \$10 }' '$T/h-zip0.tsv' >'$T/dm'
           f='$W/src/'\$m; [ \"\$(cat '$T/dm')\" = \"\$(md5sum <\"\$f\" | cut -d' ' -f1) \$(sha1sum <\"\$f\" | cut -d' ' -f1) \$(xxhsum -H2 <\"\$f\" | cut -d' ' -f1)\" ] || exit 1; done"
printf 'plain text\n' | gzip >"$W/notar.gz"
"$V" hash -q "$W/notar.gz" >"$T/h-gz.tsv" 2>/dev/null
check "a gzip stream that holds no tar is a file, not an archive" \
    sh -c "awk -F'\t' 'NR == 2 && \$1 == \"$W/notar.gz\"' '$T/h-gz.tsv' | grep -q . && [ \$(wc -l <'$T/h-gz.tsv') -eq 2 ]"

# --- nested: a photo in a zip in a tar.gz, found with the right path by scan, hash and match -------
(cd "$W/src" && zip -q -0 -r "$W/inner.zip" dir left.jpg)
mkdir -p "$W/t"
cp "$W/inner.zip" "$W/t/"
tar czf "$W/seized/backup.tar.gz" -C "$W/t" inner.zip
printf '%s box-ref\n' "$BOX" >"$T/refs.txt"
"$V" index build -o "$T/refs.vgi" --set known "$T/refs.txt" 2>/dev/null
"$V" scan -q -j 2 --index "$T/refs.vgi" -o "$T/o1" "$W/seized" >/dev/null 2>"$T/o1.err"; rc=$?
P="$W/seized/backup.tar.gz!/inner.zip!/dir/box.png"
check "scan of a zip in a tar.gz: exit 0" test $rc -eq 0
m=$(field "$T/o1/results.jsonl" "$P" matches | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m[0]["ref_id"], m[0]["distance"])')
check "results.jsonl: the known photo matched under $P" test "$m" = "box-ref 0"
check "results.jsonl: the inner zip and the tar.gz have their own records, after their members" \
    sh -c "tail -2 '$T/o1/results.jsonl' | head -1 | grep -q '\"path\":\"$W/seized/backup.tar.gz!/inner.zip\",\"archive\":{\"format\":\"zip\",\"members\":2}' &&
           tail -1 '$T/o1/results.jsonl' | grep -q '\"archive\":{\"format\":\"tar.gz\",\"members\":1}.*\"status\":\"ok\"'"
check "vics.json: the MediaFile's path is the path inside the archive" grep -q "\"FilePath\": \"$P\"" "$T/o1/vics.json"
# the review page's data: [line, thumbnail (base64 JPEG from the hash's decode) or null, record]
check "report.html: the match under its archive path, with its thumbnail from the member's decode" \
    python3 -c "
import json,re,sys
h=open(sys.argv[1]).read()
d=json.loads(re.search(r'<script type=\"application/json\" id=\"vigil-data\">(.*?)</script>', h, re.S).group(1))
r=[x for x in d['records'] if x[2]['path']=='backup.tar.gz!/inner.zip!/dir/box.png' or x[2]['path'].endswith('/backup.tar.gz!/inner.zip!/dir/box.png')]
th=dict(re.findall(r'<script type=\"text/plain\" id=\"vigil-t(\\d+)\">([^<]*)</script>', h))
assert r and isinstance(r[0][1], int) and th[str(r[0][1])].startswith('/9j/'), r[:1]
" "$T/o1/report.html"
"$V" match -q --index "$T/refs.vgi" "$W/seized" >"$T/m1.tsv" 2>/dev/null
check "vigil match: the same path" sh -c "awk -F'\t' '\$1 == \"$P\" && \$5 == \"box-ref\"' '$T/m1.tsv' | grep -q ."
"$V" hash -q "$W/seized" >"$T/h1.tsv"
check "vigil hash: the same paths, members first, then the archives" \
    sh -c "[ \"\$(cut -f1 '$T/h1.tsv' | tail -n +2 | tr '\n' '|')\" = '$W/seized/backup.tar.gz!/inner.zip!/dir/box.png|$W/seized/backup.tar.gz!/inner.zip!/left.jpg|$W/seized/backup.tar.gz!/inner.zip|$W/seized/backup.tar.gz|' ]"
"$V" scan -q --archive-depth 0 --index "$T/refs.vgi" -o "$T/o0" "$W/seized" >/dev/null 2>&1
check "--archive-depth 0: archives are files again (one record, not opened)" \
    sh -c "[ \$(wc -l <'$T/o0/results.jsonl') -eq 1 ]"

# --- videos inside archives: hashed from memory as videos, the same records as the loose file ---------
ffmpeg -nostdin -loglevel error -y -loop 1 -framerate 10 -t 2 -i "$D/opencv-doc__left.jpg" -loop 1 -framerate 10 -t 2 \
    -i "$D/opencv-doc__box.png" -filter_complex "[0]scale=320:240,setsar=1[a];[1]scale=320:240,setsar=1[b];[a][b]concat=n=2:v=1" \
    -c:v libx264 -pix_fmt yuv420p -movflags +faststart "$T/show.mp4"
mkdir -p "$T/vloose" "$T/vz" "$T/vin"
cp "$T/show.mp4" "$T/vloose/"
cp "$T/show.mp4" "$T/vin/"
(cd "$T/vin" && zip -q -0 "$T/vin/vids.zip" show.mp4 && rm show.mp4 && tar czf "$T/vz/outer.tgz" vids.zip)
"$V" index build -o "$T/vids.vgi" --set vids "$T/show.mp4" 2>/dev/null
"$V" scan -q --index "$T/refs.vgi" --index "$T/vids.vgi" -o "$T/ov1" "$T/vloose" >/dev/null 2>&1; rc1=$?
"$V" scan -q --index "$T/refs.vgi" --index "$T/vids.vgi" -o "$T/ov2" "$T/vz" >/dev/null 2>&1; rc2=$?
check "a video in a zip in a tar.gz: exit 0, a video record with the box found at 2 s and the known video at 100 %" \
    py "
import json
assert $rc1 == 0 and $rc2 == 0, ($rc1, $rc2)
r = [json.loads(l) for l in open('$T/ov2/results.jsonl')][0]
assert r['path'] == '$T/vz/outer.tgz!/vids.zip!/show.mp4' and r['media'] == 'video' and r['duration'] == 4.0 and r['frames'] == 40, r
k = {m['kind']: m for m in r['matches']}
assert k['pdq']['ref_id'] == 'box-ref' and k['pdq']['timestamp'] == 2.0 and k['pdq']['timestamps'] == [2.0, 3.0], k
assert k['video']['query_match_pct'] == 100.0 and k['video']['target_match_pct'] == 100.0 and 'duplicate' not in r, k
"
check "... its record is the loose file's, field for field, but for the path" py "
import json
a = json.loads(open('$T/ov1/results.jsonl').readline()); b = json.loads(open('$T/ov2/results.jsonl').readline())
assert a.pop('path') == '$T/vloose/show.mp4' and b.pop('path').endswith('!/show.mp4') and a == b, (a, b)
"
check "... vics.json and report.html: the member's path, and the matching frame as its thumbnail (decoded from memory)" \
    py "
import json,re
v=json.load(open('$T/ov2/vics.json'))['value']
assert '$T/vz/outer.tgz!/vids.zip!/show.mp4' in [f['FilePath'] for m in v for f in m['MediaFiles']], v
h=open('$T/ov2/report.html').read()
d=json.loads(re.search(r'<script type=\"application/json\" id=\"vigil-data\">(.*?)</script>', h, re.S).group(1))
r=[x for x in d['records'] if x[2]['path'].endswith('outer.tgz!/vids.zip!/show.mp4')]
th=dict(re.findall(r'<script type=\"text/plain\" id=\"vigil-t(\\d+)\">([^<]*)</script>', h))
assert r and isinstance(r[0][1], int) and th[str(r[0][1])].startswith('iVBOR'), r[:1]
"
sz=$(wc -c <"$T/show.mp4")
head -c $((sz * 2 / 3)) "$T/show.mp4" >"$T/vin/cut.mp4"
(cd "$T/vin" && zip -q -0 "$T/vcut.zip" cut.mp4)
"$V" scan -q --index "$T/refs.vgi" -o "$T/ov3" "$T/vcut.zip" >/dev/null 2>&1; rc=$?
"$V" scan -q --index "$T/refs.vgi" -o "$T/ov4" "$T/vin/cut.mp4" >/dev/null 2>&1; rc4=$?
check "a truncated video in a zip: the frames before the cut hashed, the damage named, exit 1, as the loose file" \
    py "
import json
assert $rc == 1 and $rc4 == 1, ($rc, $rc4)
r = json.loads(open('$T/ov3/results.jsonl').readline()); a = json.loads(open('$T/ov4/results.jsonl').readline())
assert r['path'] == '$T/vcut.zip!/cut.mp4' and r['media'] == 'video' and r['hashed_frames'] == 2, r
assert r['status'] == 'decode' and 'truncated or damaged: 20 of the 40 frames' in r['error'], r
r.pop('path'); a.pop('path'); assert r == a, (r, a)
"

# --- the depth limit -------------------------------------------------------------------------------
cp "$W/src/left.jpg" "$T/d0.jpg"
prev="$T/d0.jpg"
for k in 1 2 3 4 5; do (cd "$(dirname "$prev")" && zip -q -0 "$T/d$k.zip" "$(basename "$prev")"); prev="$T/d$k.zip"; done
"$V" hash -q "$T/d5.zip" >"$T/hd.tsv" 2>"$T/hd.err"
check "nested 5 deep, default depth 4: the 4th archive is listed but not opened, the limit named" \
    sh -c "grep -q 'd5.zip!/d4.zip!/d3.zip!/d2.zip!/d1.zip	.*depth limit of 4 archives' '$T/hd.tsv' && ! grep -q 'd1.zip!/d0.jpg' '$T/hd.tsv'"
"$V" hash -q "$T/d3.zip" >"$T/hd3.tsv" 2>/dev/null
check "nested 3 deep: the photo at the bottom is found" \
    sh -c "awk -F'\t' '\$1 == \"$T/d3.zip!/d2.zip!/d1.zip!/d0.jpg\" && \$2 == \"$LEFT\"' '$T/hd3.tsv' | grep -q ."

# --- bombs ---------------------------------------------------------------------------------------------
head -c 24000000 /dev/zero >"$T/zeros"
(cd "$T" && zip -q bomb1.zip zeros)
"$V" scan -q --index "$T/refs.vgi" -o "$T/ob1" "$T/bomb1.zip" >/dev/null 2>"$T/ob1.err"; rc=$?
check "a member that expands 1000x is refused, the limit named; exit 1" \
    sh -c "[ $rc -eq 1 ] && grep -q '\"path\":\"$T/bomb1.zip!/zeros\".*expansion-ratio limit of 100 times' '$T/ob1/results.jsonl'"
check "... nothing of it was hashed (no digests of the zeros)" \
    sh -c "! grep -q '\"path\":\"$T/bomb1.zip!/zeros\",.*\"md5\"' '$T/ob1/results.jsonl'"
# a 42-style bomb: 16 zips of 16 zips of 1 MiB of zeros, each level deflated
head -c 1048576 /dev/zero >"$T/b0"
mkdir -p "$T/b1" "$T/b2"
(cd "$T" && zip -q b1/z.zip b0)
for i in $(seq 1 16); do cp "$T/b1/z.zip" "$T/b2/$i.zip"; done
(cd "$T/b2" && zip -q ../b2.zip ./*.zip)
mkdir -p "$T/b3"
for i in $(seq 1 16); do cp "$T/b2.zip" "$T/b3/$i.zip"; done
(cd "$T/b3" && zip -q ../42.zip ./*.zip)
"$V" hash -q "$T/42.zip" >"$T/h42.tsv" 2>"$T/h42.err"; rc=$?
check "a nested (42-style) bomb is refused once the ratio passes, exit 1" \
    sh -c "[ $rc -eq 1 ] && grep -q '^$T/42.zip	.*archive bomb refused: .*expansion-ratio limit of 100' '$T/h42.tsv'"
check "... having read only part of it" sh -c "[ \$(grep -c 'b0	' '$T/h42.tsv') -lt 256 ]"
"$V" scan -q --archive-max-total 50K --index "$T/refs.vgi" -o "$T/ot" "$W/f-tar.bin" >/dev/null 2>&1; rc=$?
check "--archive-max-total: refused past it, that limit named" \
    sh -c "[ $rc -eq 1 ] && grep -q 'total-size limit of 51200 bytes' '$T/ot/results.jsonl'"

# --- encrypted, truncated, corrupt -------------------------------------------------------------------
(cd "$W/src" && zip -q -P secret "$T/enc.zip" dir/box.png left.jpg)
CRC=$(unzip -lv "$T/enc.zip" | awk '$NF == "left.jpg" { print $7 }')
"$V" scan -q --index "$T/refs.vgi" -o "$T/oe" "$T/enc.zip" >/dev/null 2>"$T/oe.err"; rc=$?
check "an encrypted zip: the scan goes on and exits 0" test $rc -eq 0
check "... each member listed as encrypted, with its size, name and stored CRC-32" \
    sh -c "grep -q '\"path\":\"$T/enc.zip!/left.jpg\",\"encrypted\":true,\"crc32\":\"$CRC\",\"size\":24056,' '$T/oe/results.jsonl' &&
           grep -q '\"path\":\"$T/enc.zip!/dir/box.png\",\"encrypted\":true' '$T/oe/results.jsonl' && [ ${#CRC} -eq 8 ]"
(cd "$W/src" && 7z a -bd -bso0 -psecret "$T/enc.7z" dir/box.png >/dev/null && 7z a -bd -bso0 -psecret -mhe=on "$T/ench.7z" left.jpg >/dev/null &&
    7z a -bd -bso0 -tzip -psecret -mem=AES256 "$T/aes.zip" left.jpg >/dev/null)
"$V" scan -q --index "$T/refs.vgi" -o "$T/oe7" "$T/enc.7z" "$T/ench.7z" "$T/aes.zip" >/dev/null 2>&1; rc=$?
check "an encrypted 7z, one with its directory encrypted too, an AES zip: exit 0" test $rc -eq 0
check "... the 7z's member listed as encrypted with its size; the locked 7z as encrypted; AES: no CRC (AE-2 stores 0)" \
    sh -c "grep -q '\"path\":\"$T/enc.7z!/dir/box.png\",\"encrypted\":true,\"crc32\":\"[0-9a-f]*\",\"size\":50728,' '$T/oe7/results.jsonl' &&
           grep -q '\"path\":\"$T/ench.7z\",\"encrypted\":true,\"archive\":{\"format\":\"7z\",\"members\":0}.*\"status\":\"ok\"' '$T/oe7/results.jsonl' &&
           grep -q '\"path\":\"$T/aes.zip!/left.jpg\",\"encrypted\":true,\"size\":24056,' '$T/oe7/results.jsonl'"
# RAR 4 and 5 (tests/mkrar.py): encrypted members with the CRC-32 their headers store, locked headers
CRCBOX=$(python3 -c "import sys,zlib; print('%08x' % zlib.crc32(open(sys.argv[1],'rb').read()))" "$D/opencv-doc__box.png")
# 7z with -p: the CRC-32s sit in its header (LZMA-compressed unless -mhc=off), read by vigil
# (core/sevenz_headers.c): stored and LZMA, LZMA2, solid and not, plain header; -mhe hides them all
CRCLEFT=$(python3 -c "import sys,zlib; print('%08x' % zlib.crc32(open(sys.argv[1],'rb').read()))" "$D/opencv-doc__left.jpg")
mkdir -p "$T/z7"
(cd "$W/src" && for v in "st -mx=0" "lzma -m0=lzma" "lzma2 -m0=lzma2" "nsolid -ms=off" "plainhdr -mhc=off"; do
    set -- $v; 7z a -bd -bso0 -psecret $2 "$T/z7/$1.7z" dir/box.png left.jpg >/dev/null; done
    7z a -bd -bso0 -psecret -mhe=on "$T/z7/hdr.7z" dir/box.png left.jpg >/dev/null)
"$V" scan -q --index "$T/refs.vgi" -o "$T/oz7" "$T/z7" >/dev/null 2>&1; rc=$?
check "encrypted 7z (stored, LZMA, LZMA2, not solid, plain header): each member encrypted with name, size and CRC-32; exit 0" py "
import json
assert $rc == 0, $rc
r = {x['path'][len('$T/z7/'):]: x for x in map(json.loads, open('$T/oz7/results.jsonl'))}
for a in ('st', 'lzma', 'lzma2', 'nsolid', 'plainhdr'):
    for name, crc, size in (('dir/box.png', '$CRCBOX', 50728), ('left.jpg', '$CRCLEFT', 24056)):
        m = r[a + '.7z!/' + name]
        assert m.get('encrypted') is True and m.get('crc32') == crc and m['size'] == size and 'md5' not in m and m['status'] == 'ok', (a, m)
h = r['hdr.7z']
assert h.get('encrypted') is True and h['archive'] == {'format': '7z', 'members': 0} and h['status'] == 'ok', h
assert not [p for p in r if p.startswith('hdr.7z!')], r
"
"$V" hash -q "$T/z7/lzma.7z" >/dev/null 2>"$T/hz7.err"
check "vigil hash of an encrypted 7z: the member's reason gives its size and CRC-32" \
    grep -q "lzma.7z!/left.jpg: encrypted: not read (24056 bytes, CRC-32 $CRCLEFT)" "$T/hz7.err"
mkdir -p "$T/rars"
python3 tests/mkrar.py --encrypt "$T/rars/e4.rar" "$D/opencv-doc__box.png"
python3 tests/mkrar.py --rar5 --encrypt "$T/rars/e5.rar" "$D/opencv-doc__box.png"
python3 tests/mkrar.py --rar5 --encrypt-mac "$T/rars/m5.rar" "$D/opencv-doc__box.png"
python3 tests/mkrar.py --encrypt-headers "$T/rars/h4.rar"
python3 tests/mkrar.py --rar5 --encrypt-headers "$T/rars/h5.rar"
"$V" scan -q --index "$T/refs.vgi" -o "$T/orar" "$T/rars" >/dev/null 2>&1; rc=$?
check "encrypted RAR 4 and RAR 5 members: listed encrypted with size, name and the stored CRC-32, never hashed; exit 0" py "
import json
assert $rc == 0, $rc
r = {x['path'][len('$T/rars/'):]: x for x in map(json.loads, open('$T/orar/results.jsonl'))}
for a in ('e4.rar', 'e5.rar'):
    m = r[a + '!/opencv-doc__box.png']
    assert m.get('encrypted') is True and m['crc32'] == '$CRCBOX' and m['size'] == 50728 and 'md5' not in m and m['status'] == 'ok', m
m = r['m5.rar!/opencv-doc__box.png']
assert m.get('encrypted') is True and 'crc32' not in m and 'md5' not in m, m
"
check "RAR 4 and RAR 5 with encrypted headers: the archive listed as encrypted, no member, not an error" py "
import json
r = {x['path'][len('$T/rars/'):]: x for x in map(json.loads, open('$T/orar/results.jsonl'))}
for a in ('h4.rar', 'h5.rar'):
    assert r[a].get('encrypted') is True and r[a]['archive'] == {'format': 'rar', 'members': 0} and r[a]['status'] == 'ok', r[a]
"
(cd "$W" && zip -q -0 "$T/r5in.zip" f-rar5.bin)
"$V" hash -q "$T/r5in.zip" >"$T/hr5.tsv" 2>/dev/null
check "a RAR 5 inside a zip: its photo found under zip!/rar!/name" \
    sh -c "awk -F'\t' '\$1 == \"$T/r5in.zip!/f-rar5.bin!/box.png\" && \$2 == \"$BOX\"' '$T/hr5.tsv' | grep -q ."
sz=$(wc -c <"$W/f-rar5.bin")
head -c $((sz - 10000)) "$W/f-rar5.bin" >"$T/cut5.rar"
"$V" hash -q "$T/cut5.rar" >"$T/hc5.tsv" 2>"$T/hc5.err"; rc=$?
check "a truncated RAR 5: the member before the cut hashed, the cut one and the archive damaged, exit 1" \
    sh -c "[ $rc -eq 1 ] && awk -F'\t' '\$1 == \"$T/cut5.rar!/box.png\" && \$2 == \"$BOX\"' '$T/hc5.tsv' | grep -q . &&
           grep -q 'cut5.rar!/x-left.jpg: corrupt: rar member damaged' '$T/hc5.err' && grep -q 'cut5.rar: corrupt: rar: damaged or truncated' '$T/hc5.err'"

sz=$(wc -c <"$W/f-7z.bin")
head -c $((sz - 40)) "$W/f-7z.bin" >"$T/cut.7z"
"$V" scan -q --index "$T/refs.vgi" -o "$T/o7" "$T/cut.7z" >/dev/null 2>"$T/o7.err"; rc=$?
check "a truncated 7z: exit 1, its record says it is damaged or truncated" \
    sh -c "[ $rc -eq 1 ] && grep -q '\"path\":\"$T/cut.7z\".*\"status\":\"corrupt\",\"error\":\"7z: damaged or truncated after 0 members' '$T/o7/results.jsonl'"
# libarchive bids on the format from its first 64 KiB out of the gzip stream: the cut comes later
cp "$D"/opencv-doc__right.jpg "$D"/opencv-doc__hfs_001.jpg "$D"/gimp-help-en__threshold-orig.png "$W/src/"
(cd "$W/src" && tar czf "$T/long.tgz" dir left.jpg opencv-doc__right.jpg opencv-doc__hfs_001.jpg gimp-help-en__threshold-orig.png)
sz=$(wc -c <"$T/long.tgz")
head -c $((sz * 9 / 10)) "$T/long.tgz" >"$T/cut.tgz"
"$V" hash -q "$T/cut.tgz" >"$T/hcut.tsv" 2>"$T/hcut.err"; rc=$?
check "a truncated tar.gz: the member before the damage is hashed, then a clear error, exit 1" \
    sh -c "[ $rc -eq 1 ] && awk -F'\t' '\$1 == \"$T/cut.tgz!/dir/box.png\" && \$2 == \"$BOX\"' '$T/hcut.tsv' | grep -q . &&
           grep -q 'cut.tgz: corrupt: tar.gz: damaged or truncated after [1-9] members: truncated gzip input' '$T/hcut.err'"
head -c 2000 "$T/long.tgz" >"$T/short.tgz"
"$V" hash -q "$T/short.tgz" >"$T/hshort.tsv" 2>"$T/hshort.err"; rc=$?
check "a tar.gz cut before its first member: an archive, damaged (not 'not an image'), exit 1" \
    sh -c "[ $rc -eq 1 ] && grep -q 'short.tgz: corrupt: damaged or truncated before its first member' '$T/hshort.err'"
sz=$(wc -c <"$W/f-zip0.bin")
head -c $((sz - 30)) "$W/f-zip0.bin" >"$T/cut.zip"
"$V" hash -q "$T/cut.zip" >"$T/hcz.tsv" 2>"$T/hcz.err"
check "a zip cut in its central directory: the members are read, and it is reported truncated" \
    sh -c "grep -q 'cut.zip!/left.jpg	$LEFT' '$T/hcz.tsv' && grep -q 'cut.zip: corrupt: zip: truncated: no central directory' '$T/hcz.err'"
# a flipped byte in a stored member: caught by the CRC-32 check (vigil's own where names are unique,
# libarchive's where a name repeats), the other member still read
python3 -W ignore - "$D/opencv-doc__box.png" "$D/opencv-doc__left.jpg" "$T/crc1.zip" "$T/crc2.zip" <<'PY'
import sys, zipfile
box, left = sys.argv[1], sys.argv[2]
for out, names in ((sys.argv[3], ("box.png", "left.jpg")), (sys.argv[4], ("a.png", "a.png"))):
    with zipfile.ZipFile(out, "w") as z:
        z.write(box, names[0]); z.write(left, names[1])
    b = bytearray(open(out, "rb").read()); i = b.find(b"IDAT"); b[i + 100] ^= 0x55; open(out, "wb").write(b)
PY
"$V" hash -q "$T/crc1.zip" "$T/crc2.zip" >"$T/hcrc.tsv" 2>"$T/hcrc.err"; rc=$?
check "a damaged stored member fails its CRC-32 (named, exit 1); the next member is read" \
    sh -c "[ $rc -eq 1 ] && grep -q 'crc1.zip!/box.png: corrupt: zip member damaged: its CRC-32 is [0-9a-f]* where the central directory says 90a4402b' '$T/hcrc.err' &&
           grep -q 'crc2.zip!/a.png: corrupt: zip member damaged: ZIP bad CRC' '$T/hcrc.err' &&
           grep -q '^$T/crc1.zip!/left.jpg	$LEFT' '$T/hcrc.tsv' && grep -q '^$T/crc2.zip!/a.png!#2	$LEFT' '$T/hcrc.tsv'"
head -c 3000 /dev/urandom >"$T/junk"
{ printf 'PK\003\004'; cat "$T/junk"; } >"$T/junk.zip"
"$V" hash -q "$T/junk.zip" >/dev/null 2>"$T/junk.err"; rc=$?
check "random bytes after a zip signature: exit 1, the file named with a reason" \
    sh -c "[ $rc -eq 1 ] && grep -q 'junk.zip' '$T/junk.err'"

# --- names are only names ----------------------------------------------------------------------------
mkdir -p "$T/trav/run"
python3 -W ignore - "$T/trav.zip" "$D/opencv-doc__box.png" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.write(sys.argv[2], "../../etc/passwd")
    z.write(sys.argv[2], "/abs/evil.png")
    z.write(sys.argv[2], "a.png")
    z.write(sys.argv[2], "a.png")
PY
(cd "$T/trav/run" && "$OLDPWD/$V" hash -q "$T/trav.zip" >"$T/htrav.tsv" 2>/dev/null)
check "../../etc/passwd is a member's name, hashed in memory, nothing written" \
    sh -c "awk -F'\t' '\$1 == \"$T/trav.zip!/../../etc/passwd\" && \$2 == \"$BOX\"' '$T/htrav.tsv' | grep -q . &&
           [ -z \"\$(ls -A '$T/trav/run')\" ] && [ ! -e '$T/etc' ] && [ ! -e /abs/evil.png ]"
check "a name twice in one archive: both members, the second as NAME!#2" \
    sh -c "grep -q '^$T/trav.zip!/a.png	' '$T/htrav.tsv' && grep -q '^$T/trav.zip!/a.png!#2	' '$T/htrav.tsv'"

# --- kill -9 in the middle of a large archive, then --resume: every member once -----------------------
mkdir -p "$T/many"
for i in $(seq 1 300); do cp "$D/opencv-doc__box.png" "$T/many/p$i.png"; printf 'tail %d' "$i" >>"$T/many/p$i.png"; done
(cd "$T/many" && zip -q -0 "$T/large.zip" ./*.png)
VIGIL_TEST_PAUSE="batch:3:$T/pk" "$V" scan -q -j 1 --index "$T/refs.vgi" -o "$T/ok" "$T/large.zip" >/dev/null 2>&1 &
pid=$!
wait_for "$T/pk.ready"
kill -9 $pid
wait $pid 2>/dev/null
check "fixture: the scan was paused at its third batch and killed" test -e "$T/pk.ready"
"$V" scan -j 1 --resume --index "$T/refs.vgi" -o "$T/ok" "$T/large.zip" >/dev/null 2>"$T/ok.err"; rc=$?
check "--resume after kill -9 in the middle of the archive: exit 0, members already done were kept" \
    sh -c "[ $rc -eq 0 ] && grep -q 'resuming: 128 files already in the journal' '$T/ok.err'"
check "... results.jsonl lists every member exactly once, and the archive once" py "
import json
paths = [json.loads(l)['path'] for l in open('$T/ok/results.jsonl')]
want = ['$T/large.zip!/p%d.png' % i for i in range(1, 301)] + ['$T/large.zip']
assert sorted(paths) == sorted(want), (len(paths), len(set(paths)))
"
check "... and each box copy matched the known photo" \
    sh -c "[ \$(grep -c '\"ref_id\":\"box-ref\"' '$T/ok/results.jsonl') -eq 300 ]"
"$V" scan -q -j 1 --resume --archive-ratio 50 --index "$T/refs.vgi" -o "$T/ok" "$T/large.zip" >/dev/null 2>"$T/ok2.err"; rc=$?
check "--resume with other archive limits is refused (exit 2), saying the options differ" \
    sh -c "[ $rc -eq 2 ] && grep -q 'archives=depth:4,ratio:100' '$T/ok2.err'"

finish

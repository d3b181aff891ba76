#!/bin/sh
# eval.sh - the accuracy harness (bench/eval.c) on the 7 test photos: counts of pairs honour the
# manifest's identity groups, recall rows behave as PDQ is known to, the false-positive bound is
# the Clopper-Pearson one, and the plots are real PNGs.
# Usage: tests/eval.sh BUILD_DIR   (prints "ok - NAME" / "FAIL - NAME" and "eval: N passed, N failed")
NAME=eval
. tests/lib.sh

mkdir -p "$T/edits"
"$B/bench-eval" --photos tests/data/images --manifest tests/data/eval-manifest.tsv --max-side 512 --out "$T" --write-edits "$T/edits" >"$T/stdout" 2>"$T/stderr"
rc=$?
check "bench-eval runs on the test photos (exit 0)" test $rc -eq 0
n_edits=$(python3 -c "
import re; s=open('$T/stdout').read(); m=re.search(r'(\d+) photos, (\d+) edits, (\d+) negative pairs', s); print(m.group(2))" 2>/dev/null)
n_t=$(($(wc -l <"$T/eval.tsv") - 2))
# 7 photos; left.jpg and right.jpg share an identity group: their pairs are neither positive nor
# negative. Every query (each photo's edits but the collage, and the photo itself: n_t of them)
# meets 6 other photos, or 5: 40 per query kind. A collage of photo p holds photos p+1..p+3 (and
# so their groups) too: those pairs are neither; what is left of the 40 is 3+3+2+3+3+3+2 = 19.
npairs=$((n_t * 40 + 19))
check "negative pairs exclude the same identity group and a collage's photos: $n_t x 40 + 19 = $npairs" sh -c "grep -q ', $npairs negative pairs' '$T/stdout' && test '$n_edits' -eq $((7 * n_t))"
check "recall behaves as PDQ is known to: Q90 always found, 40 % crops never, rotations only with dihedral" python3 -c "
import csv
r={x['transform']:x for x in csv.DictReader(open('$T/eval.tsv'),delimiter='\t')}
assert float(r['jpeg q90']['fast_dihedral_31'])==1.0
assert float(r['crop 40% a side (4% left)']['fast_dihedral_31'])<=0.2
assert float(r['rotate 90']['fast_plain_31'])<=0.2 and float(r['rotate 90']['fast_dihedral_31'])>=0.7
assert float(r['greyscale']['fast_dihedral_31'])>=0.85
for x in r.values():  # shares grow with the threshold
    v=[float(x['fast_dihedral_%d' % d]) for d in (16,24,31,40,48)]
    assert v==sorted(v), x
"
# 0 false positives of N at <= 16: the one-sided 95 % bound is 1 - 0.05^(1/N) (2059 pairs: 0.00145)
bound=$(python3 -c "print('%.2g' % (1 - 0.05 ** (1 / $npairs)))")
check "false-positive bound is Clopper-Pearson (0 of $npairs -> $bound)" grep -q "| <= 16 | 0 of $npairs = 0 (95 % bound $bound)" "$T/eval.md"
check "the table names where PDQ fails" grep -q 'crop 40% a side (4% left) \*\*(PDQ fails)\*\*' "$T/eval.md"
check "plots are 1000-pixel-wide PNGs" python3 -c "
import struct
for n in ('roc','hist-fast','hist-fast-dihedral'):
    b=open('$T/%s.png' % n,'rb').read()
    assert b[:8]==b'\x89PNG\r\n\x1a\n' and struct.unpack('>I',b[16:20])[0]==1000, n
"
check "--write-edits: every edit on disk, listed in edits.tsv, and vigil hashes it as eval did" python3 -c "
import csv,subprocess
rows=list(csv.DictReader(open('$T/edits/edits.tsv'),delimiter='\t'))
assert len(rows)==$n_edits
r=[x for x in rows if x['edit']=='jpeg q90' and x['original'].startswith('opencv-doc__box')][0]
out=subprocess.run(['$B/vigil','hash','-q','$T/edits/'+r['file']],capture_output=True,text=True).stdout
assert len(out.splitlines()[1].split('\t')[1])==64
"
finish

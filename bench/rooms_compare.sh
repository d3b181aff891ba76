#!/bin/sh
# rooms_compare.sh OLD_BUILD NEW_BUILD - room queries of two builds on the rooms.sh data (tests/data/panoramas):
# the same references and queries (plus 8 more views, some over 640 px), top two results with inliers,
# for old index + old queries, new + new, and old index + new queries (an index built by an older vigil).
set -e
OLD=${1:?usage: rooms_compare.sh OLD_BUILD NEW_BUILD}; NEW=${2:?usage: rooms_compare.sh OLD_BUILD NEW_BUILD}
T=$(mktemp -d /tmp/vigil-rc.XXXXXX); trap 'rm -rf "$T"' EXIT; mkdir -p $T/refs $T/q
P=tests/data/panoramas
for p in interior courtyard; do i=0; for x in 0 330 660; do vips crop "$P/blender-data__$p.jpg" "$T/refs/$p-$i.jpg" $x 120 364 280; i=$((i+1)); done; done
vips crop "$P/blender-data__interior.jpg" "$T/q0.v" 420 150 300 220
vips similarity "$T/q0.v" "$T/q/interior.jpg" --scale 1.4 --angle 6
vips black "$T/person.v" 120 300 --bands 3; vips linear "$T/person.v" "$T/person2.v" 1 90
vips insert "$T/q/interior.jpg" "$T/person2.v" "$T/q/interior-person.jpg" 150 40
vips crop "$P/blender-data__city.jpg" "$T/q/city.jpg" 300 130 360 260
# more views: other crops, scales and turns of both places, some larger than 640 (shrink-on-load)
n=0
for p in interior courtyard; do for spec in "100 100 500 300 0.9 -4" "500 140 400 260 2.5 3" "250 90 600 330 3.2 0" "700 160 300 220 1.8 10"; do
  set -- $spec; vips crop "$P/blender-data__$p.jpg" "$T/v.v" $1 $2 $3 $4; vips similarity "$T/v.v" "$T/q/$p-view$n.jpg" --scale $5 --angle $6; n=$((n+1)); done; done
for v in old new; do
  if [ $v = old ]; then V=$OLD/vigil; else V=$NEW/vigil; fi
  $V rooms build -o $T/R-$v.vgr $T/refs datasets/samples >/dev/null 2>&1
done
for idx in old new; do for q in old new; do
  if [ $q = old ]; then V=$OLD/vigil; else V=$NEW/vigil; fi
  $V rooms query --index $T/R-$idx.vgr --format jsonl --min-inliers 4 $T/q/*.jpg 2>/dev/null >$T/q-$idx-$q.jsonl || true
done; done
python3 - $T <<'PY'
import json,sys,collections
T=sys.argv[1]
def load(f):
    d=collections.OrderedDict()
    for l in open(f):
        o=json.loads(l); q=o.get('query') or o.get('path') or o.get('image')
        d.setdefault(q.split('/')[-1],[]).append(((o.get('reference') or '-').split('/')[-1], o.get('inliers')))
    return d
r={k:load(f'{T}/q-{k}.jsonl') for k in ['old-old','new-new','old-new']}
qs=sorted(set().union(*[set(x) for x in r.values()]))
print('%-24s %-28s %-28s %-28s'%('query','old index, old query','new index, new query','old index, new query'))
for q in qs:
    print('%-24s'%q, *['%-28s'%(','.join('%s:%s'%(a[:14],b) for a,b in r[k].get(q,[])[:2]) or '-') for k in ['old-old','new-new','old-new']])
PY

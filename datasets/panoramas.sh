#!/bin/sh
# panoramas.sh - the 8 CC0 360-degree equirectangular photographs of Debian's blender-data package
# (Blender's studio lights, HDRIs by Greg Zaal / HDRI Haven; licence in the package's
# studiolights/world/license.txt), as 8-bit sRGB PNGs. blender-data__interior.png is a real hotel
# room: the room-recognition evaluation cuts perspective views from these.
#
#   datasets/panoramas.sh OUTDIR
#
# The package (31 MB) is kept in OUTDIR.debs, so a second run is offline. EXR to PNG: libvips'
# scRGB to sRGB conversion, clipped, no tone mapping (within one grey level of the corpus' copies).
set -eu
OUT=${1:?usage: panoramas.sh OUTDIR}
DEBS=${DEBS:-$OUT.debs}
mkdir -p "$OUT" "$DEBS"
OUT=$(cd "$OUT" && pwd)
DEBS=$(cd "$DEBS" && pwd)
command -v vips >/dev/null || { echo "panoramas.sh: needs the vips command (apt-get install libvips-tools)" >&2; exit 2; }
deb=$(ls "$DEBS"/blender-data_*.deb 2>/dev/null | head -1 || true)
if [ -z "$deb" ]; then
    echo "downloading blender-data" >&2
    ( cd "$DEBS" && apt-get download -q blender-data >/dev/null 2>&1 ) || {
        echo "panoramas.sh: cannot download blender-data (apt-get update first?)" >&2
        exit 2
    }
    deb=$(ls "$DEBS"/blender-data_*.deb | head -1)
fi
tmp=$(mktemp -d "$OUT/.x.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
W=usr/share/blender/datafiles/studiolights/world
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards "./$W/*.exr" "./$W/license.txt"
n=0
for exr in "$tmp/$W"/*.exr; do
    name=$(basename "$exr" .exr)
    dst="$OUT/blender-data__$name.png"
    [ -s "$dst" ] && { n=$((n + 1)); continue; }
    vips colourspace "$exr" "$tmp/$name.v" srgb
    vips extract_band "$tmp/$name.v" "$tmp/$name.png" 0 --n 3
    mv "$tmp/$name.png" "$dst"
    n=$((n + 1))
done
cp "$tmp/$W/license.txt" "$OUT/blender-data-LICENSE.txt"
echo "panoramas.sh: $n panoramas in $OUT" >&2

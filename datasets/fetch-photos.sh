#!/bin/sh
# fetch-photos.sh - builds a folder of real photographs from Debian packages, for benchmarks and
# evaluation. Every photo is listed in datasets/public-photos.tsv (or LIST=datasets/eval-photos.tsv,
# the 270-photo evaluation set) with its package, version, path
# inside the package, licence and SHA-256. Nothing but Debian's archive is contacted.
#
#   datasets/fetch-photos.sh OUTDIR [PACKAGE...]
#
# With PACKAGE names, only photos of those packages are fetched. Packages are downloaded into
# OUTDIR.debs (kept, so a second run is offline; override with DEBS=) and only the listed files are extracted.
# A file whose SHA-256 differs (the archive moved on to a newer version) is kept with a warning.
set -eu
OUT=${1:?usage: fetch-photos.sh OUTDIR [PACKAGE...]}
shift
HERE=$(cd "$(dirname "$0")" && pwd)
LIST=${LIST:-$HERE/public-photos.tsv}
DEBS=${DEBS:-$OUT.debs}
mkdir -p "$OUT" "$DEBS"
DEBS=$(cd "$DEBS" && pwd)
OUT=$(cd "$OUT" && pwd)
want() { [ $# -eq 0 ] && return 0; for p in "$@"; do [ "$p" = "$PKG" ] && return 0; done; return 1; }
pkgs=$(awk -F'\t' 'NR > 1 { print $2 "=" $3 }' "$LIST" | sort -u)
[ -n "$(ls /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial || true)" ] || {
    echo "apt lists are empty: running apt-get update" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq; else sudo apt-get update -qq; fi
}
missing=0
for pv in $pkgs; do
    PKG=${pv%%=*}
    VER=${pv#*=}
    want "$@" || continue
    deb=$(ls "$DEBS/${PKG}"_*.deb 2>/dev/null | head -1 || true)
    if [ -z "$deb" ]; then
        echo "downloading $PKG" >&2
        ( cd "$DEBS" && { apt-get download -q "$PKG=$VER" >/dev/null 2>&1 || apt-get download -q "$PKG" >/dev/null; } )
        deb=$(ls "$DEBS/${PKG}"_*.deb | head -1)
    fi
    # extract only this package's listed files, then give them their corpus names
    tmp=$(mktemp -d "$OUT/.x.XXXXXX")
    awk -F'\t' -v p="$PKG" 'NR > 1 && $2 == p { print "./" $5 }' "$LIST" >"$tmp/paths"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" -T "$tmp/paths" 2>/dev/null || true
    awk -F'\t' -v p="$PKG" 'NR > 1 && $2 == p { print $1 "\t" $5 "\t" $4 }' "$LIST" |
    while IFS="$(printf '\t')" read -r name src sum; do
        if [ ! -f "$tmp/$src" ]; then echo "warning: $PKG has no $src" >&2; continue; fi
        mv "$tmp/$src" "$OUT/$name"
        got=$(sha256sum "$OUT/$name" | cut -d' ' -f1)
        [ "$got" = "$sum" ] || echo "warning: $name differs from the listed SHA-256 (newer package?)" >&2
    done
    rm -rf "$tmp"
done
n=$(find "$OUT" -maxdepth 1 -type f | wc -l)
echo "$n photos in $OUT" >&2

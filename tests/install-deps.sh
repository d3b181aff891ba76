#!/bin/sh
# install-deps.sh [test] - installs the Debian packages vigil needs to build, run the demo and
# benchmark, when any is missing; with "test", also what the test suite drives (headless Chromium
# for the review page, script(1) for a terminal, groff for the man pages). Debian 12 package
# names. Runs apt-get as root, or through sudo.
set -e
PKGS="build-essential pkg-config libvips-dev libvips-tools libxxhash-dev xxhash libpng-dev nettle-dev clang
libclang-rt-14-dev libjpeg-turbo-progs python3 bc valgrind"
[ "${1:-}" = test ] && PKGS="$PKGS chromium bsdutils groff-base"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

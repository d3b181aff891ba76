#!/bin/sh
# install-deps.sh [GROUP...] - installs the Debian 12 packages a make target needs, those missing
# only. Always the build and the demo (compiler, pkg-config, the libraries, the vips command,
# python3, libarchive, libdeflate (CRC-32 of zip members and RAR headers), FFmpeg's libav*, libmicrohttpd for vigil serve); each GROUP adds:
#   test   what the shell suites drive: xxhsum, headless Chromium with chromedriver and Firefox
#          ESR (the review page, driven over WebDriver and Marionette by tests/webdriver.py), script(1),
#          groff and man-db (the man pages), strace (the fsync-order check), zip, unzip,
#          p7zip-full, xz-utils, zstd, bzip2 (the archives tests/archive.sh makes), curl (serve.sh),
#          ffmpeg (test videos), Open MPI (the --mpi scans of tests/mpi.sh; the build links it in
#          when it is there)
#   asan   clang, its sanitizer runtime and OpenMP header (make test-asan)
#   bench  valgrind (callgrind counts), bc, djpeg (the decode floor), zip (bench/archive.sh),
#          wrk and curl (bench-serve), ffmpeg and time (bench/video.sh)
#   fuzz   clang, its libFuzzer runtime and OpenMP header
# A package counts as missing when dpkg does not list it as installed or when the command it is
# there for is not on PATH (reinstalled then). Runs apt-get as root, or through sudo.
set -eu
# package:command (the command that proves it usable; none for libraries)
want="build-essential:cc build-essential:make pkg-config:pkg-config libvips-dev libxxhash-dev libpng-dev
nettle-dev libarchive-dev libdeflate-dev liblzma-dev libvips-tools:vips python3:python3 libmicrohttpd-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev"
for g in "$@"; do
    case $g in
        test) want="$want xxhash:xxhsum chromium:chromium chromium-driver:chromedriver firefox-esr:firefox-esr bsdutils:script groff-base:groff man-db:man strace:strace zip:zip unzip:unzip p7zip-full:7z xz-utils:xz zstd:zstd bzip2:bzip2 curl:curl ffmpeg:ffmpeg libopenmpi-dev:mpicc openmpi-bin:mpirun" ;;
        asan|fuzz) want="$want clang:clang libclang-rt-14-dev libomp-14-dev" ;;
        bench) want="$want valgrind:valgrind bc:bc libjpeg-turbo-progs:djpeg zip:zip wrk:wrk curl:curl ffmpeg:ffmpeg time:/usr/bin/time" ;;
        *) echo "install-deps.sh: unknown group '$g' (known: test asan bench fuzz)" >&2; exit 2 ;;
    esac
done

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
add() { case " $2 " in *" $1 "*) echo "$2" ;; *) echo "$2 $1" ;; esac; }
missing=""
broken=""
for w in $want; do
    p=${w%%:*}
    c=${w#"$p"}; c=${c#:}
    if ! installed "$p"; then
        missing=$(add "$p" "$missing")
    elif [ -n "$c" ] && ! command -v "$c" >/dev/null 2>&1; then
        broken=$(add "$p" "$broken")
    fi
done
[ -z "$missing$broken" ] && exit 0

command -v apt-get >/dev/null 2>&1 || {
    echo "install-deps.sh: no apt-get here (not Debian?); install the equivalents of:$missing$broken" >&2
    exit 2
}
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "install-deps.sh: missing packages:$missing$broken; run as root or install sudo" >&2
        exit 2
    }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ -n "$missing" ]; then
    echo "installing:$missing" >&2
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ -n "$broken" ]; then
    echo "reinstalling (installed, but a command is missing):$broken" >&2
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends --reinstall $broken >/dev/null
fi
# what is still not there after the install, by name
gone=""
for w in $want; do
    p=${w%%:*}
    c=${w#"$p"}; c=${c#:}
    installed "$p" || gone="$gone $p"
    [ -z "$c" ] || command -v "$c" >/dev/null 2>&1 || gone="$gone $c(from $p)"
done
[ -z "$gone" ] || { echo "install-deps.sh: still missing after apt-get install:$gone" >&2; exit 1; }

#!/bin/bash
# fresh-machine.sh - proves that the README's commands work the first time on a Debian 12 machine
# that has none of the build dependencies. Slow (package downloads and four full builds), so not in
# CI: run it by hand, as root, before resolving a change to the set-up.
#
# It builds a minimal Debian 12 root once with debootstrap (variant minbase, plus `make`, which a
# user needs to type `make demo` at all), from the Debian mirror this machine's apt sources name.
# For each command it takes a fresh copy of that root, puts a clean `git clone` of the commit in
# /root/vigil, and runs the command there in a chroot (/proc, /sys, /dev, /dev/pts, /dev/shm
# mounted), as root, with no standard input and a bare environment. The copies share one apt
# package cache, so each downloads nothing twice, but each still installs everything itself.
#
# usage: tests/fresh-machine.sh [--only demo,test,bench-check,ci] [--commit REV] [--work DIR]
#                               [--logs DIR] [--keep] [--rebuild-base] [--timeout SEC] [--mirror URL]
#   --only     the commands to run, comma-separated (default all four; ci is `CI=true sh .ci/run`;
#              also fuzz, not in the default: `make fuzz FUZZ_SECONDS=5`)
#   --commit   what to clone (default HEAD)
#   --work     where the base root, the package cache and the roots go (default /var/tmp/vigil-fresh)
#   --logs     where each command's full log goes (default WORK/logs)
#   --keep     keep each command's root after it ran (default: removed)
#   --rebuild-base  debootstrap again even if WORK holds a base root
#   --timeout  seconds one command may run (default 5400, CI's limit)
#   --mirror   the Debian archive to use (default: the one in /etc/apt/sources.list*)
# Exit status: 0 when every command exited 0, 1 when any failed, 2 on a usage or set-up error.
set -u
main() {
SUITE=bookworm
ALL="demo test bench-check ci"
KNOWN="$ALL fuzz"
only=$ALL
commit=HEAD
work=/var/tmp/vigil-fresh
logs=
keep=0
rebuild=0
limit=5400
mirror=
tail_lines=6

die() { echo "fresh-machine: $*" >&2; exit 2; }
usage() { sed -n '/^# usage:/,/^# Exit status/s/^# \{0,1\}//p' "$0"; exit "${1:-2}"; }

while [ $# -gt 0 ]; do
    case $1 in
        --only) [ $# -ge 2 ] || usage; only=$(echo "$2" | tr ',' ' '); shift 2 ;;
        --commit) [ $# -ge 2 ] || usage; commit=$2; shift 2 ;;
        --work) [ $# -ge 2 ] || usage; work=$2; shift 2 ;;
        --logs) [ $# -ge 2 ] || usage; logs=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        --rebuild-base) rebuild=1; shift ;;
        --timeout) [ $# -ge 2 ] || usage; limit=$2; shift 2 ;;
        --mirror) [ $# -ge 2 ] || usage; mirror=$2; shift 2 ;;
        -h|--help) usage 0 ;;
        *) echo "fresh-machine: unknown option: $1" >&2; usage ;;
    esac
done
for c in $only; do
    case " $KNOWN " in *" $c "*) ;; *) die "--only: unknown command '$c' (known: $KNOWN)" ;; esac
done
case $limit in ''|*[!0-9]*) die "--timeout: not a whole number of seconds: $limit" ;; esac
[ "$(id -u)" -eq 0 ] || die "must run as root (debootstrap, chroot and mount need it)"

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel 2>/dev/null) || die "not inside a git checkout: $0"
rev=$(git -C "$repo" rev-parse --verify --quiet "$commit^{commit}") || die "--commit: no such commit: $commit"
mkdir -p "$work" || die "cannot create the work dir $work"
work=$(cd "$work" && pwd -P)
# mount points are read back from /proc/self/mountinfo, where blanks are escaped: keep them out
case $work in *[[:space:]]*) die "--work: the path must not contain blanks: $work" ;; esac
[ -n "$logs" ] || logs=$work/logs
mkdir -p "$logs" || die "cannot create the log dir $logs"
logs=$(cd "$logs" && pwd -P)

# The mirror: the URI that this machine's apt sources give for the suite itself, and the one for
# its security updates (one-line .list files and deb822 .sources files both).
apt_sources() {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        awk '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
                           print $i, $(i + 1) }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'function flush(  i, j, u, s, nu, ns) {
                 if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no") {
                     nu = split(uris, u, " "); ns = split(suites, s, " ")
                     for (i = 1; i <= nu; i++) for (j = 1; j <= ns; j++) print u[i], s[j]
                 }
                 types = uris = suites = ""; enabled = "yes"
             }
             BEGIN { enabled = "yes" }
             /^[ \t]*#/ { next }
             /^[ \t]*$/ { flush(); next }
             { key = tolower($1); sub(/^[^:]*:[ \t]*/, "") }
             key == "types:" { types = $0 } key == "uris:" { uris = $0 }
             key == "suites:" { suites = $0 } key == "enabled:" { enabled = $0 }
             END { flush() }' "$f"
    done
}
sources=$(apt_sources)
[ -n "$mirror" ] || mirror=$(echo "$sources" | awk -v s="$SUITE" '$2 == s { print $1; exit }')
[ -n "$mirror" ] || die "no Debian mirror for '$SUITE' in /etc/apt/sources.list*: give one with --mirror URL"
security=$(echo "$sources" | awk -v s="$SUITE-security" '$2 == s { print $1; exit }')

command -v debootstrap >/dev/null || {
    echo "fresh-machine: installing debootstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null || die "cannot install debootstrap"
}

base=$work/base
cache=$work/apt-archives
roots=$work/roots
mkdir -p "$cache/partial" "$roots" "$work/debootstrap-cache"

# Everything mounted under a root, deepest first; processes still running in it are ended first
# (their pids read from /proc, so only what this script started in that root is touched).
release_root() {
    local r=$1 p m
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$r" ] && kill -9 "${p#/proc/}" 2>/dev/null
    done
    for m in $(awk -v r="$r" 'index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || echo "fresh-machine: cannot unmount $m" >&2
    done
}
remove_root() {
    local r=$1
    release_root "$r"
    if awk -v r="$r" 'index($5, r "/") == 1 { found = 1 } END { exit !found }' /proc/self/mountinfo; then
        echo "fresh-machine: $r still has mounts; not removing it" >&2
        return 1
    fi
    rm -rf --one-file-system "$r"
}
current=
running=
cleanup() {
    [ -n "$current" ] && { release_root "$current"; [ $keep -eq 1 ] || remove_root "$current"; }
    [ -d "$base.new" ] && remove_root "$base.new"
}
trap cleanup EXIT
# the command runs in the background, so that a signal reaches this trap at once (bash runs traps
# only between foreground commands); timeout passes the signal on to the command
trap 'echo "fresh-machine: interrupted" >&2; [ -n "$running" ] && kill -TERM "$running" 2>/dev/null; exit 2' INT TERM HUP

# The base root, once: debootstrap, then the apt sources a Debian 12 install has.
if [ $rebuild -eq 1 ] || [ ! -f "$base/.fresh-machine-base" ] || [ "$(cat "$base/.fresh-machine-base")" != "$mirror" ]; then
    [ -d "$base" ] && { remove_root "$base" || die "cannot remove the old base $base"; }
    rm -rf --one-file-system "$base.new"
    echo "== base: debootstrap --variant=minbase --include=make $SUITE from $mirror"
    t0=$(date +%s)
    debootstrap --variant=minbase --include=make --cache-dir="$work/debootstrap-cache" \
        "$SUITE" "$base.new" "$mirror" >"$logs/debootstrap.log" 2>&1 ||
        { tail -n 20 "$logs/debootstrap.log" >&2; die "debootstrap failed (log: $logs/debootstrap.log)"; }
    {
        echo "deb $mirror $SUITE main"
        echo "deb $mirror $SUITE-updates main"
        [ -n "$security" ] && echo "deb $security $SUITE-security main"
    } >"$base.new/etc/apt/sources.list"
    rm -f "$base.new"/var/cache/apt/archives/*.deb
    echo "$mirror" >"$base.new/.fresh-machine-base"
    mv "$base.new" "$base"
    echo "   done in $(( $(date +%s) - t0 )) s"
fi
# The point of the exercise: none of the build dependencies may be there before the first run.
preinstalled=$(chroot "$base" dpkg-query -W -f='${Package} ${Status}\n' build-essential gcc pkg-config \
    libvips-dev libxxhash-dev libpng-dev nettle-dev clang python3 2>/dev/null | awk '/ installed$/ { print $1 }' | tr '\n' ' ')
[ -z "$preinstalled" ] || die "the base root $base already has: $preinstalled(use --rebuild-base)"

cmdline() {
    case $1 in
        demo) echo "make demo" ;;
        test) echo "make test" ;;
        bench-check) echo "make bench-check" ;;
        ci) echo "sh .ci/run" ;;
        fuzz) echo "make fuzz FUZZ_SECONDS=5" ;;
    esac
}
# the closing line: the test runner's "N passed, N failed" where there is one, else the last line
closing() {
    local l
    l=$(grep -E '^([a-z0-9-]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
    [ -n "$l" ] || l=$(grep -v '^[[:space:]]*$' "$1" | tail -n 1)
    echo "$l"
}

summary=
failed=0
short=$(git -C "$repo" rev-parse --short "$rev")
for c in $only; do
    r=$roots/$c
    log=$logs/$c.log
    [ -e "$r" ] && { remove_root "$r" || die "cannot remove the old root $r"; }
    echo "== $c: $(cmdline "$c") at $short in a fresh copy of the base root ($r)"
    cp -a "$base" "$r" || die "cannot copy $base to $r"
    current=$r
    git clone -q --no-hardlinks "$repo" "$r/root/vigil" && git -C "$r/root/vigil" checkout -q --detach "$rev" ||
        die "cannot clone $repo at $rev into $r"
    cp -L /etc/resolv.conf "$r/etc/resolv.conf" 2>/dev/null
    # debootstrap writes no /etc/hosts, which every installed machine has: without it "localhost"
    # does not resolve, and chromedriver cannot reach the Chromium it starts
    [ -e "$r/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
    mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
        mount --bind /dev "$r/dev" && mount --bind /dev/pts "$r/dev/pts" &&
        mount -t tmpfs -o mode=1777,nosuid,nodev shm "$r/dev/shm" &&
        mount --bind "$cache" "$r/var/cache/apt/archives" || die "cannot mount the file systems of $r"
    envs="PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root USER=root LOGNAME=root SHELL=/bin/sh"
    [ "$c" = ci ] && envs="$envs CI=true"
    t0=$(date +%s)
    # shellcheck disable=SC2086
    timeout --kill-after=30 "$limit" chroot "$r" /usr/bin/env -i $envs /bin/sh -c "cd /root/vigil && $(cmdline "$c")" \
        </dev/null >"$log" 2>&1 &
    running=$!
    wait "$running"
    rc=$?
    running=
    secs=$(( $(date +%s) - t0 ))
    [ $rc -eq 124 ] || [ $rc -eq 137 ] && echo "fresh-machine: $c ran past $limit s and was stopped" >>"$log"
    release_root "$r"
    [ $keep -eq 1 ] || remove_root "$r"
    current=
    [ $rc -eq 0 ] || failed=1
    echo "   exit $rc, $secs s; last lines of $log:"
    tail -n "$tail_lines" "$log" | sed 's/^/   | /'
    summary="$summary$(printf '  %-12s exit %-3s %6s s   %s' "$c" "$rc" "$secs" "$(closing "$log")")
"
done

echo "== fresh-machine summary: commit $short, Debian $SUITE minbase (+make), each command on its first run"
printf '%s' "$summary"
echo "logs: $logs"
exit $failed
}
# the whole body is read before it runs, so editing this file during a run is harmless
main "$@"

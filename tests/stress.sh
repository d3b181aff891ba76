#!/bin/sh
# stress.sh - vigil among many of itself for STRESS_SECONDS (default 60), meant for the ASan build
# (`make stress` builds build/asan and runs it there):
#   - two scans started together on one OUTDIR, again and again: one of them must be refused;
#   - one scan on its own OUTDIR, kill -9'd at random and resumed;
#   - three `index add` writers on one index, and readers of it (match, index info, index verify,
#     and a scan, which must keep the version it opened when a writer replaces the file);
#   - a killer that sends kill -9 to any of them at random (only to processes of this test).
# At the end: every `index add` that said ok has its entry in the index, the index verifies, the
# resumed scan lists every file exactly once, no process died of anything but our kill -9, and no
# sanitizer report is in any log. Every loop is bounded; the test stops by itself.
# Usage: tests/stress.sh [BUILD_DIR]   (prints "ok - NAME" / "FAIL - NAME" and "stress: N passed, N failed")
NAME=stress
. tests/lib.sh
SECONDS_TO_RUN=${STRESS_SECONDS:-60}
export ASAN_OPTIONS="detect_leaks=0:exitcode=86:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:exitcode=86"
mkdir -p "$T/files" "$T/pids" "$T/logs" "$T/ab" "$T/acked" "$T/lists" "$T/scans"
rnd() { od -An -N2 -tu2 /dev/urandom | tr -d ' \n'; }
now() { date +%s; }
end=$(($(now) + SECONDS_TO_RUN))
say() { echo "$*" >>"$T/logs/events"; }

# the seized files: the test photos (decoded: slow under ASan) and 120 small text files
cp $D/* "$T/files/"
i=1
while [ $i -le 120 ]; do echo "text $i" >"$T/files/t$i.txt"; i=$((i + 1)); done
nfiles=$(ls "$T/files" | wc -l)
"$V" hash --format csv $D >"$T/photos.csv" 2>/dev/null
{ echo md5,id; for i in 1 5 9; do echo "$(md5sum <"$T/files/t$i.txt" | cut -d' ' -f1),t$i"; done; } >"$T/md5.csv"
"$V" index build -o "$T/static.vgi" --set static "$T/photos.csv" "$T/md5.csv" 2>/dev/null
"$V" index build -o "$T/live.vgi" --set live "$T/photos.csv" 2>/dev/null

# run LOOP CMD...: runs vigil in the background under the name LOOP (for the killer) and waits;
# prints its exit status. A status of 128+ other than 137 (our kill -9) is logged as a crash.
run() {
    loop=$1
    shift
    "$V" "$@" >>"$T/logs/$loop.out" 2>>"${LOG:-$T/logs/$loop.log}" &
    p=$!
    echo $p >"$T/pids/$loop"
    { wait $p; } 2>/dev/null # no "Killed" line from the shell
    rc=$?
    rm -f "$T/pids/$loop"
    if [ $rc -ge 128 ] && [ $rc -ne 137 ]; then say "CRASH $loop rc=$rc: $*"; fi
    [ $rc -eq 86 ] && say "SANITIZER $loop: $*"
    return $rc
}
alive() { [ $(now) -lt $end ]; }

writer() {
    k=$1
    n=0
    while alive && [ $n -lt 100000 ]; do
        n=$((n + 1))
        id="w$k-$n"
        # a random PDQ (quality 100) under a unique id
        h=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
        printf 'pdq,id\n%s,%s\n' "$h" "$id" >"$T/lists/$id.csv"
        if run "w$k" index add "$T/live.vgi" "$T/lists/$id.csv"; then echo "$id" >>"$T/acked/w$k"; fi
    done
}

reader() {
    k=$1
    n=0
    while alive && [ $n -lt 100000 ]; do
        n=$((n + 1))
        case $((n % 3)) in
        0) run "r$k" match --index "$T/live.vgi" -j 1 "$T/files/$(ls "$T/files" | head -3 | tail -1)"; rc=$? ;;
        1) run "r$k" index info "$T/live.vgi"; rc=$? ;;
        2) run "r$k" index verify "$T/live.vgi"; rc=$? ;;
        esac
        [ $rc -ne 0 ] && [ $rc -ne 137 ] && say "READER r$k rc=$rc (round $n): $(tail -1 "$T/logs/r$k.log")"
    done
}

# a scan of the index the writers replace: it keeps the version it opened (exit 1: the text files
# do not decode), never stops as if the file had been written in place
scanner() {
    n=0
    while alive && [ $n -lt 10000 ]; do
        n=$((n + 1))
        run s scan -j 1 --quiet --index "$T/live.vgi" -o "$T/scans/$n" "$T/files"
        rc=$?
        [ $rc -ne 1 ] && [ $rc -ne 137 ] && say "READER s rc=$rc (round $n): $(tail -1 "$T/logs/s.log")"
        rm -rf "$T/scans/$n"
    done
}

# two scans at once on one OUTDIR, both --resume: at most one may run, the other is refused
# (exit 2) naming the holder. Both may end well only one after the other: then the second found
# every file done ("resuming: N files already", N all of them).
pair() {
    n=0
    while alive && [ $n -lt 10000 ]; do
        n=$((n + 1))
        o="$T/ab/$n"
        LOG="$T/logs/ab-$n-a.log" run a scan -j 1 --resume --index "$T/static.vgi" -o "$o" "$T/files" &
        pa=$!
        LOG="$T/logs/ab-$n-b.log" run b scan -j 1 --resume --index "$T/static.vgi" -o "$o" "$T/files" &
        pb=$!
        wait $pa
        ra=$?
        wait $pb
        rb=$?
        ran=0
        for r in $ra $rb; do { [ $r -eq 0 ] || [ $r -eq 1 ]; } && ran=$((ran + 1)); done
        [ $ran -gt 1 ] && ! grep -q "resuming: $nfiles files already" "$T/logs/ab-$n-a.log" "$T/logs/ab-$n-b.log" &&
            say "BOTH ran on one OUTDIR at once (round $n: exit $ra and $rb)"
        for x in a b; do
            eval "r=\$r$x"
            [ "$r" -eq 2 ] && ! tail -1 "$T/logs/ab-$n-$x.log" | grep -q 'is in use by another scan (PID [0-9]' &&
                say "REFUSED without naming the holder (round $n, scan $x): $(tail -1 "$T/logs/ab-$n-$x.log")"
        done
        echo "$n $ra $rb" >>"$T/logs/pairs"
        rm -rf "$o"
    done
}

# one scan on its own OUTDIR, resumed after every kill
solo() {
    n=0
    while alive && [ $n -lt 10000 ]; do
        n=$((n + 1))
        run c scan -j 1 --quiet --resume --index "$T/static.vgi" -o "$T/solo" "$T/files"
    done
}

killer() {
    n=0
    while alive && [ $n -lt 100000 ]; do
        n=$((n + 1))
        sleep "0.$(printf '%03d' $(($(rnd) % 900 + 100)))"
        set -- $(ls "$T/pids" 2>/dev/null)
        [ $# -eq 0 ] && continue
        pick=$(($(rnd) % $# + 1))
        eval "loop=\${$pick}"
        p=$(cat "$T/pids/$loop" 2>/dev/null)
        # ours only: a vigil whose command line names this test's folder
        if [ -n "$p" ] && { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q "$T"; then
            kill -9 "$p" 2>/dev/null && echo "$loop" >>"$T/logs/kills"
        fi
    done
}

writer 1 &
loops=$!
writer 2 &
loops="$loops $!"
writer 3 &
loops="$loops $!"
reader 1 &
loops="$loops $!"
reader 2 &
loops="$loops $!"
scanner &
loops="$loops $!"
pair &
loops="$loops $!"
solo &
loops="$loops $!"
killer &
loops="$loops $!"
# a loop that outlives the deadline by 3 minutes hangs: end it and say so
(while [ ! -e "$T/stop" ] && [ $(now) -lt $((end + 180)) ]; do sleep 1; done
[ -e "$T/stop" ] || { touch "$T/hung"; for f in "$T"/pids/*; do
    p=$(cat "$f" 2>/dev/null)
    [ -n "$p" ] && { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q "$T" && kill -9 "$p"
done; }) &
watchdog=$!
wait $loops
touch "$T/stop"
wait $watchdog

check "no loop hung past the deadline" test ! -e "$T/hung"
kills=$(wc -l <"$T/logs/kills" 2>/dev/null || echo 0)
echo "# $kills kill -9 sent: $(sort "$T/logs/kills" 2>/dev/null | uniq -c | tr -s ' \n' ' ')"
acked=$(cat "$T"/acked/* 2>/dev/null | wc -l)
echo "# $acked index add acknowledged; $(wc -l <"$T/logs/pairs" 2>/dev/null || echo 0) rounds of two scans on one OUTDIR"
echo "# $(cat "$T"/logs/s.log 2>/dev/null | grep -c 'was replaced while the scan ran') scans of the written index kept the version they opened while it was replaced"
check "index add ran and was acknowledged many times" test "$acked" -ge 10
"$V" index export "$T/live.vgi" >"$T/export.tsv" 2>"$T/export.err"
cut -f3 "$T/export.tsv" | sort >"$T/present"
cat "$T"/acked/* 2>/dev/null | sort >"$T/want"
lost=$(comm -23 "$T/want" "$T/present" | wc -l)
check "every acknowledged index add entry is in the index ($lost lost)" test "$lost" -eq 0
check "the index verifies" "$V" index verify "$T/live.vgi"
check "two scans on one OUTDIR never both ran" sh -c "! grep -q '^BOTH' '$T/logs/events' 2>/dev/null"
check "... the refused one named the holder" sh -c "! grep -q '^REFUSED' '$T/logs/events' 2>/dev/null"
check "... and one was refused in rounds where neither was killed" \
    sh -c "awk '\$2 != 137 && \$3 != 137 && (\$2 == 2 || \$3 == 2) { r++ } \$2 != 137 && \$3 != 137 { n++ } END { exit !(n == 0 || r == n) }' '$T/logs/pairs'"
check "readers never failed" sh -c "! grep -q '^READER' '$T/logs/events' 2>/dev/null"
check "no process crashed (only our kill -9)" sh -c "! grep -q '^CRASH' '$T/logs/events' 2>/dev/null"
# the scan that was killed again and again: once more, to the end
"$V" scan -j 1 --quiet --resume --index "$T/static.vgi" -o "$T/solo" "$T/files" >/dev/null 2>>"$T/logs/c.log"
rc=$?
check "the killed scan resumes to the end (exit $rc: 0 or 1 wanted)" sh -c "[ $rc -eq 0 ] || [ $rc -eq 1 ]"
check "... and lists each of the $nfiles files exactly once" python3 -c "
import json
rows=[json.loads(l) for l in open('$T/solo/results.jsonl')]
paths=[r['path'] for r in rows]
assert len(paths) == len(set(paths)) == $nfiles, (len(paths), len(set(paths)))"
reports=$(grep -l -e 'ERROR: AddressSanitizer' -e 'runtime error:' -e 'ERROR: LeakSanitizer' -e 'SUMMARY: [A-Za-z]*Sanitizer' \
    "$T"/logs/*.log 2>/dev/null)
check "no sanitizer report in any log ${reports:+($reports)}" test -z "$reports"
[ -s "$T/logs/events" ] && sed 's/^/# /' "$T/logs/events" | head -20
finish
[ $fail -eq 0 ]

#!/bin/sh
# install.sh - `make install` into a DESTDIR, then a program built against what was installed:
# linked to the shared library (found by its SONAME) and statically through
# `pkg-config --static`; both must hash a test photo to its reference vector. Also checks the
# versioned file names, the SONAME, and that the .so exports only vigil_* symbols.
# Usage: tests/install.sh BUILD_DIR   (prints "ok - NAME" / "FAIL - NAME" and "install: N passed, N failed")
NAME=install
. tests/lib.sh
R="$T/root"
P=/usr/local
L="$R$P/lib"
ver=$(sed -n 's/.*VIGIL_VERSION_STRING "\(.*\)"/\1/p' include/vigil.h)
major=${ver%%.*}
# An ASan build (make test-asan) needs its runtime in every program that links it.
cc=${CC:-cc}
san=
if nm "$B/libvigil.a" 2>/dev/null | grep -q __asan; then cc=clang; san="-fsanitize=address,undefined"; fi

make --no-print-directory -s install B="$B" DESTDIR="$R" PREFIX="$P" >"$T/make.log" 2>&1
check "make install DESTDIR=... PREFIX=$P succeeds" test $? -eq 0
check "the library file carries the full version: libvigil.so.$ver" \
    sh -c "test -f '$L/libvigil.so.$ver' && ! test -L '$L/libvigil.so.$ver'"
check "libvigil.so.$major -> libvigil.so.$ver, libvigil.so -> libvigil.so.$major" \
    sh -c "[ \"\$(readlink '$L/libvigil.so.$major')\" = libvigil.so.$ver ] && [ \"\$(readlink '$L/libvigil.so')\" = libvigil.so.$major ]"
check "libvigil.a, vigil.h, vigil.pc and vigil are installed" \
    test -f "$L/libvigil.a" -a -f "$R$P/include/vigil.h" -a -f "$L/pkgconfig/vigil.pc" -a -x "$R$P/bin/vigil"
soname=$(readelf -d "$L/libvigil.so.$ver" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "the SONAME is libvigil.so.$major (readelf -d)" test "$soname" = "libvigil.so.$major"
leak=$(nm -D --defined-only "$L/libvigil.so.$ver" | awk '$2 ~ /^[A-Za-z]$/ && $2 != "A" { print $3 }' | grep -v '^vigil_' || true)
check "the installed .so exports no symbol without the vigil_ prefix" test -z "$leak"
[ -z "$leak" ] || echo "    exported: $(echo $leak | head -c 300)"
check "vigil.pc names the private libraries a static link needs" \
    sh -c "grep -q '^Libs.private: .*-lm' '$L/pkgconfig/vigil.pc' && grep -q '^Requires.private: .*vips' '$L/pkgconfig/vigil.pc'"

# pkg-config reads the installed vigil.pc with its prefix moved into the DESTDIR. (Not
# PKG_CONFIG_SYSROOT_DIR: that would move the -L of vips' own dependencies, such as hdf5's
# private folder, into the DESTDIR too.)
pc() { PKG_CONFIG_PATH="$L/pkgconfig" pkg-config --define-variable=prefix="$R$P" "$@" vigil; }
check "pkg-config --modversion vigil says $ver" test "$(pc --modversion)" = "$ver"
want=$(awk -F'\t' '$1 == "opencv-doc__box.png" { print $2 " " $3 }' tests/data/vectors.tsv)
img="$D/opencv-doc__box.png"

# (a) dynamic: records libvigil.so.MAJOR and runs with the installed library
$cc $san -std=c11 -o "$T/dyn" tests/install/prog.c $(pc --cflags) $(pc --libs) >"$T/dyn.log" 2>&1
check "a program links dynamically with pkg-config --libs vigil" test -x "$T/dyn"
check "... and needs libvigil.so.$major, by its SONAME" sh -c "readelf -d '$T/dyn' | grep -q 'NEEDED.*\\[libvigil.so.$major\\]'"
out=$(LD_LIBRARY_PATH="$L" "$T/dyn" "$img" 2>&1)
check "... and hashes the photo to its reference vector with the installed .so" test "$out" = "$want thumbnail-png=1"
[ "$out" = "$want thumbnail-png=1" ] || echo "    got '$out', want '$want thumbnail-png=1'"
check "... which the loader finds through the libvigil.so.$major link" \
    sh -c "LD_LIBRARY_PATH='$L' ldd '$T/dyn' | grep -q 'libvigil.so.$major => $L/libvigil.so.$major'"

# (b) static: a static-only install (no .so beside the .a), linked through pkg-config --static
cp -R "$R" "$T/static"
rm -f "$T/static$P/lib"/libvigil.so*
spc() { PKG_CONFIG_PATH="$T/static$P/lib/pkgconfig" pkg-config --define-variable=prefix="$T/static$P" "$@" vigil; }
$cc $san -std=c11 -o "$T/nostatic" tests/install/prog.c $(spc --cflags) $(spc --libs) >"$T/nostatic.log" 2>&1
check "without --static the link of libvigil.a fails (its dependencies are private)" test ! -e "$T/nostatic"
$cc $san -std=c11 -o "$T/sta" tests/install/prog.c $(spc --cflags) $(spc --static --libs) >"$T/sta.log" 2>&1
check "a program links libvigil.a with pkg-config --static --libs vigil" test -x "$T/sta"
[ -x "$T/sta" ] || sed -n 1,5p "$T/sta.log"
check "... and needs no libvigil.so" sh -c "! readelf -d '$T/sta' | grep -q 'NEEDED.*libvigil'"
out=$(env -u LD_LIBRARY_PATH "$T/sta" "$img" 2>&1)
check "... and hashes the photo to its reference vector" test "$out" = "$want thumbnail-png=1"
[ "$out" = "$want thumbnail-png=1" ] || echo "    got '$out', want '$want thumbnail-png=1'"

make --no-print-directory -s uninstall B="$B" DESTDIR="$R" PREFIX="$P" >/dev/null 2>&1
left=$(find "$R" ! -type d | sed "s|^$R||")
check "make uninstall removes every file install made" test -z "$left"
[ -z "$left" ] || echo "    left: $left"

finish

# vigil - perceptual hashing, indexing and matching of images. `make help` lists the targets.

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CFLAGS  ?= -O2 -g
# PDQ must not contract a*b+c into FMA (spec section 8), whatever the user's flags say.
WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
BASEFLAGS := -std=c11 -D_GNU_SOURCE -fPIC -fopenmp -ffp-contract=off -fvisibility=hidden -MMD -MP
# FFmpeg's libraries (video, core/video.c): see LIBS_PRIVATE for how a static link takes them.
AV_PKGS := libavformat libavcodec libswscale libavutil
PKGS    := vips libxxhash libpng nettle libarchive libdeflate liblzma $(AV_PKGS)
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALLCFLAGS = $(BASEFLAGS) $(WARNINGS) -Iinclude -Icore $(PKG_CFLAGS) $(CFLAGS)
LDLIBS  := $(PKG_LIBS) -fopenmp -lm -lpthread
# libmicrohttpd is the CLI's alone (vigil serve): linked into the program, never into libvigil.
MHD_CFLAGS := $(shell pkg-config --cflags libmicrohttpd 2>/dev/null)
MHD_LIBS   := $(shell pkg-config --libs libmicrohttpd 2>/dev/null)

ifeq ($(V),1)
Q :=
else
Q := @
endif

B := build
CORE_SRC  := $(wildcard core/*.c)
# The ISA variants build on x86-64 only; elsewhere the portable kernels are the only level.
ARCH      := $(shell uname -m)
X86_SRC   := $(if $(filter x86_64 amd64,$(ARCH)),$(wildcard core/x86/*.c),)
# MPI (`vigil scan --mpi`, cli/scan_mpi.c) where Open MPI's pkg-config or mpicc is found, unless
# MPI=0; cli/scan_nompi.c stands in otherwise, so the plain build needs no MPI.
MPI       ?= 1
MPI_CFLAGS := $(if $(filter 1,$(MPI)),$(shell pkg-config --cflags ompi-c 2>/dev/null || mpicc --showme:compile 2>/dev/null),)
MPI_LIBS   := $(if $(filter 1,$(MPI)),$(shell pkg-config --libs ompi-c 2>/dev/null || mpicc --showme:link 2>/dev/null),)
CLI_SRC   := $(filter-out cli/scan_mpi.c cli/scan_nompi.c,$(wildcard cli/*.c)) $(if $(MPI_LIBS),cli/scan_mpi.c,cli/scan_nompi.c)
TEST_SRC  := $(wildcard tests/*.c)
FUZZERS   := list index image rooms journal roomlist args archive serve video kfeat decisions shard
FUZZBINS  = $(FUZZERS:%=$(B)/fuzz-%)
BENCH_SRC := bench/bench_hash.c

CORE_OBJ  := $(CORE_SRC:%.c=$(B)/%.o) $(X86_SRC:%.c=$(B)/%.o)
CLI_OBJ   := $(CLI_SRC:%.c=$(B)/%.o)
TEST_OBJ  := $(TEST_SRC:%.c=$(B)/%.o)

# The shared library: libvigil.so.MAJOR.MINOR.PATCH with the SONAME libvigil.so.MAJOR, which a
# program records and the loader looks for; libvigil.so is the link-time name (-lvigil).
VERSION := $(shell sed -n 's/.*VIGIL_VERSION_STRING "\(.*\)"/\1/p' include/vigil.h)
SOMAJOR := $(firstword $(subst ., ,$(VERSION)))
SONAME  := libvigil.so.$(SOMAJOR)
LIB     := $(B)/libvigil.a
SOLIB   := $(B)/libvigil.so
SOREAL  := $(B)/libvigil.so.$(VERSION)
VIGIL   := $(B)/vigil
TESTBIN := $(B)/vigil-tests
BENCHBIN:= $(B)/bench-hash

.PHONY: bench-serve bench-serve-run soak-serve soak-serve-run
.PHONY: all man test layering fuzz bench bench-check install uninstall clean help deps deps-test deps-asan deps-bench deps-fuzz sanitize test-asan stress demo eval rooms-eval \
        fuzz-run bench-run bench-check-run eval-run rooms-eval-run demo-run
all: $(VIGIL) $(LIB) $(SOLIB)

$(B)/core/%.o: CFLAGS_EXTRA = -DVIGIL_BUILDING
# -O3: the filter and DCT loops vectorise across independent lanes only (see core/pdq.c).
$(B)/core/pdq.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3
# -O3: the pyramid shrink and the box filter vectorise (SSE2, baseline); the float ranking is
# unchanged, as -ffp-contract=off and no -ffast-math leave every float operation as written.
$(B)/core/features.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3
# -O3: the thumbnail's column sums vectorise (SSE2, baseline; integers, so exact).
$(B)/core/thumb.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3
# -O3: the features' view's luma row vectorises (integers, so exact).
$(B)/core/view.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3
# -O3 as when the portable FAST-9 row test was part of features.o.
$(B)/core/features_fast.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3
# ISA flags per file only: the rest of the build stays baseline x86-64 and runs anywhere.
$(B)/core/x86/hamming_popcnt.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3 -mpopcnt
$(B)/core/x86/hamming_avx2.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3 -mavx2 -mpopcnt
$(B)/core/x86/fast_avx2.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3 -mavx2
$(B)/core/x86/orient_avx2.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3 -mavx2
$(B)/core/x86/md5x2_avx512.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3 -mavx512f -mavx512vl
$(B)/core/x86/hamming_avx512.o: CFLAGS_EXTRA = -DVIGIL_BUILDING -O3 -mavx2 -mavx512f -mavx512vl -mavx512vpopcntdq -mpopcnt

# Without the packages the compiler would stop on a missing glib.h; say what is missing instead.
$(B)/%.o: %.c
	$(if $(PKG_LIBS),,$(error pkg-config finds none of: $(PKGS). Run 'make deps' (Debian 12) or install them))
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALLCFLAGS) $(CFLAGS_EXTRA) -c $< -o $@

# The review page's script and style (cli/review/) as C strings for report_page.c.
$(B)/gen/review_page.h: cli/review/page.js cli/review/page.css
	@mkdir -p $(dir $@)
	$(Q){ for v in js css; do printf 'static const char review_%s[] =\n' $$v; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' cli/review/page.$$v; echo ';'; done; } >$@.tmp && mv $@.tmp $@
$(B)/cli/report_page.o: $(B)/gen/review_page.h
$(B)/cli/report_page.o: CFLAGS_EXTRA = -I$(B)/gen

$(LIB): $(CORE_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(SOREAL): $(CORE_OBJ)
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(SOLIB): $(SOREAL)
	$(Q)ln -sf $(notdir $(SOREAL)) $(B)/$(SONAME) && ln -sf $(SONAME) $@

$(B)/cli/serve_http.o $(B)/cli/cmd_serve.o: CFLAGS_EXTRA = $(MHD_CFLAGS)
$(B)/cli/scan_mpi.o: CFLAGS_EXTRA = $(MPI_CFLAGS)
$(VIGIL): $(CLI_OBJ) $(LIB)
	$(if $(MHD_LIBS),,$(error pkg-config finds no libmicrohttpd (vigil serve). Run 'make deps' (Debian 12) or install it))
	$(Q)$(CC) -o $@ $(CLI_OBJ) $(LIB) $(LDFLAGS) $(LDLIBS) $(MHD_LIBS) $(MPI_LIBS)

# The same program without MPI, for the tests of --mpi's refusal and of a --resume without MPI.
$(B)/vigil-nompi: $(filter-out $(B)/cli/scan_mpi.o $(B)/cli/scan_nompi.o,$(CLI_OBJ)) $(B)/cli/scan_nompi.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS) $(MHD_LIBS)

$(TESTBIN): $(TEST_OBJ) $(B)/bench/views.o $(LIB)
	$(Q)$(CC) -o $@ $(TEST_OBJ) $(B)/bench/views.o $(LIB) $(LDFLAGS) $(LDLIBS)

$(BENCHBIN): $(B)/bench/bench_hash.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/bench-match: $(B)/bench/bench_match.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/bench-serve: $(B)/bench/bench_serve.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/bench-features: $(B)/bench/bench_features.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/bench-kfeat: $(B)/bench/kfeat_bench.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/bench-kfeat-bits: $(B)/bench/kfeat_bits.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/bench-eval: $(B)/bench/eval.o $(B)/bench/plot.o $(B)/bench/stats.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/bench-rooms: $(B)/bench/rooms_eval.o $(B)/bench/stats.o $(B)/bench/views.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(B)/bench-rooms-guard: $(B)/bench/rooms_guard.o $(B)/bench/views.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# Regenerates core/feature_pattern.h from the benchmark photos (see bench/learn_pattern.c).
$(B)/learn-pattern: $(B)/bench/learn_pattern.o $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

# OpenCV side of the room-recognition comparison (bench only): Debian's libopencv-*-dev.
$(B)/bench-rooms-opencv: bench/rooms_opencv.cpp $(LIB)
	$(Q)$(CXX) -O2 -std=c++17 -Iinclude -I/usr/include/opencv4 -o $@ $< $(LIB) \
	    -lopencv_features2d -lopencv_calib3d -lopencv_imgcodecs -lopencv_core $(LDFLAGS) $(LDLIBS)

# FAISS side of the comparison, built only where Debian's libfaiss-dev is installed.
$(B)/bench-faiss: bench/bench_faiss.cpp
	$(Q)$(CXX) -O2 -std=c++17 -o $@ $< -lfaiss -llapack -lblas -fopenmp

# Installs the Debian packages the build needs when any is missing (needs root or sudo).
# make asks pkg-config for the flags once, as it reads this file: on a machine that had none of the
# packages those answers are empty. So every target that installs packages first builds in a
# fresh make ($(MAKE) X-run) that reads this file again, after the install.
# deps is what the build and the demo need; the others add what their targets drive.
deps:
	@sh tests/install-deps.sh
deps-test:
	@sh tests/install-deps.sh test
deps-asan:
	@sh tests/install-deps.sh test asan
deps-bench:
	@sh tests/install-deps.sh bench
deps-fuzz:
	@sh tests/install-deps.sh fuzz

# Fuzz targets linked with the corpus replay driver: `make test` replays tests/fuzz/corpus. The
# CLI's own text readers and writers come from an archive of those CLI objects (the targets that
# use them define cli_warn and cli_prog themselves, so msg.o stays out of them).
FUZZ_CLI := cli/inputs.o cli/parse.o cli/msg.o cli/walk.o cli/output.o cli/outfile.o cli/journal.o cli/archives.o cli/serve_parse.o cli/review.o cli/scan_shard.o cli/thumbs.o
$(B)/libvigil-cli.a: $(FUZZ_CLI:%=$(B)/%)
	$(Q)rm -f $@ && ar rcs $@ $^
$(B)/fuzz-%: $(B)/tests/fuzz/fuzz_%.o $(B)/tests/fuzz/replay.o $(B)/libvigil-cli.a $(LIB)
	$(Q)$(CC) -o $@ $^ $(LDFLAGS) $(LDLIBS)

test: deps-test
	$(Q)$(MAKE) --no-print-directory $(VIGIL) $(B)/vigil-nompi $(TESTBIN) $(SOLIB) $(FUZZBINS) $(B)/bench-eval
	$(Q)$(MAKE) --no-print-directory layering
	$(Q)sh tests/run.sh $(B)

# No two core files call each other: the call graph between core/*.c from nm of their objects.
layering: $(CORE_OBJ)
	$(Q)sh tests/layering.sh --self-test && sh tests/layering.sh $(B)

# libFuzzer + ASan/UBSan builds of the fuzz targets, each run FUZZ_SECONDS on a scratch copy of
# its corpus; crashes land in build/fuzz/ (copy them into tests/fuzz/corpus/ once fixed).
FUZZ_SECONDS ?= 60
fuzz: deps-fuzz
	$(Q)$(MAKE) --no-print-directory fuzz-run
fuzz-run:
	$(Q)mkdir -p build/fuzz
	$(Q)$(MAKE) --no-print-directory B=build/fuzzlib CC=clang \
	    CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined" build/fuzzlib/libvigil.a build/fuzzlib/libvigil-cli.a
	$(Q)for t in $(FUZZERS); do \
	    clang -O1 -g -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude tests/fuzz/fuzz_$$t.c build/fuzzlib/libvigil-cli.a build/fuzzlib/libvigil.a \
	        $(PKG_LIBS) -fopenmp -lm -o build/fuzz/fuzz-$$t || exit 1; \
	    rm -rf build/fuzz/corpus-$$t && cp -r tests/fuzz/corpus/$$t build/fuzz/corpus-$$t; \
	    (cd build/fuzz && ./fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -rss_limit_mb=4096 corpus-$$t \
	        2>&1 | tail -3) || exit 1; \
	done

# ASan+UBSan build of the whole suite in its own tree.
test-asan: deps-asan
	$(Q)$(MAKE) --no-print-directory B=build/asan CC=clang \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" build/asan/vigil build/asan/vigil-nompi build/asan/vigil-tests build/asan/libvigil.so build/asan/bench-eval \
	    $(FUZZERS:%=build/asan/fuzz-%)
	$(Q)ASAN_OPTIONS=detect_leaks=0 sh tests/run.sh build/asan
sanitize: test-asan

# Many vigils at once for STRESS_SECONDS under the ASan build: two scans on one OUTDIR, a scan
# kill -9'd and resumed, three index writers, readers, random kill -9 (tests/stress.sh).
STRESS_SECONDS ?= 60
stress: deps-asan
	$(Q)$(MAKE) --no-print-directory B=build/asan CC=clang \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" build/asan/vigil
	$(Q)STRESS_SECONDS=$(STRESS_SECONDS) sh tests/stress.sh build/asan

bench: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-run
bench-run: $(VIGIL) $(BENCHBIN) $(B)/bench-match $(B)/bench-kfeat
	$(Q)sh bench/run.sh $(B)
	$(Q)sh bench/match.sh $(B)
	$(Q)sh bench/archive.sh $(B)
	$(Q)VIGIL=$(B)/vigil sh bench/video.sh
	$(Q)sh bench/kfeat.sh $(B)
	$(Q)sh bench/scan_thumbs.sh $(B)

# vigil serve over loopback with wrk, against the in-process index in the same run (bench/serve.sh;
# SERVE_N hashes, default 1 M), and the soak: lookups, uploads, adds and reloads for SOAK_SECONDS.
SOAK_SECONDS ?= 600
bench-serve: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-serve-run
bench-serve-run: $(VIGIL) $(B)/bench-serve
	$(Q)sh bench/serve.sh $(B)
soak-serve: deps-bench
	$(Q)$(MAKE) --no-print-directory soak-serve-run
soak-serve-run: $(VIGIL) $(B)/bench-serve
	$(Q)SOAK_SECONDS=$(SOAK_SECONDS) sh bench/soak_serve.sh $(B)

# The guard CI runs: ratios measured in one run against floors, plus the kernel's instruction
# count per comparison from callgrind (repeatable on a noisy machine).
bench-check: deps-bench
	$(Q)$(MAKE) --no-print-directory bench-check-run
bench-check-run: $(B)/bench-match $(B)/bench-rooms-guard
	$(Q)sh bench/check.sh $(B)

# The accuracy evaluation: 270 photos rebuilt from Debian packages (datasets/eval-photos.tsv),
# ~40 edits each, fast/exact x plain/dihedral; tables and PNG plots in build/eval/.
eval: deps
	$(Q)$(MAKE) --no-print-directory eval-run
eval-run: $(B)/bench-eval
	$(Q)sh bench/eval.sh $(B)

# The room-recognition evaluation: views of 8 panoramas among ~10,000 photo crops; OpenCV beside it.
rooms-eval: deps
	$(Q)$(MAKE) --no-print-directory rooms-eval-run
rooms-eval-run: $(B)/bench-rooms
	$(Q)sh bench/rooms.sh $(B)

demo: deps
	$(Q)$(MAKE) --no-print-directory demo-run
demo-run: $(VIGIL)
	$(Q)sh datasets/demo.sh $(B)

# Man pages, made from `vigil help` by docs/man.sh: the help text is their one source.
MANPAGES := vigil vigil-hash vigil-index vigil-match vigil-scan vigil-review vigil-rooms vigil-video vigil-serve
man: $(B)/man/vigil.1
$(B)/man/vigil.1: $(VIGIL) docs/man.sh
	$(Q)sh docs/man.sh $(VIGIL) $(B)/man

# What a static link needs beyond the packages of Requires.private (vigil.pc's Libs.private).
# libarchive and FFmpeg are named here as plain -l flags, not required: for a static link, Debian's
# libarchive.pc lists -lacl and -llz4, whose -dev packages libarchive-dev does not pull in, and
# libavformat asks for the static forms of some forty codec and protocol libraries that Debian
# ships no static package for; a static libvigil.a links their shared libraries instead.
LIBS_PRIVATE := -larchive -fopenmp -lm -lpthread $(shell pkg-config --libs $(AV_PKGS) 2>/dev/null)
PC_REQUIRES := $(filter-out libarchive $(AV_PKGS),$(PKGS))
LIBDIR := $(PREFIX)/lib

install: $(VIGIL) $(LIB) $(SOLIB) $(B)/man/vigil.1
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(MANPAGES:%=$(B)/man/%.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 755 $(VIGIL) $(DESTDIR)$(PREFIX)/bin/vigil
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SOREAL) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(SOREAL)) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libvigil.so
	install -m 644 include/vigil.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES@|$(PC_REQUIRES)|' \
	    -e 's|@LIBS_PRIVATE@|$(LIBS_PRIVATE)|' vigil.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/vigil.pc

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/vigil $(DESTDIR)$(LIBDIR)/libvigil.a $(DESTDIR)$(LIBDIR)/libvigil.so \
	      $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libvigil.so.$(VERSION) \
	      $(DESTDIR)$(PREFIX)/include/vigil.h $(DESTDIR)$(LIBDIR)/pkgconfig/vigil.pc \
	      $(MANPAGES:%=$(DESTDIR)$(PREFIX)/share/man/man1/%.1)

clean:
	rm -rf $(B)

help:
	@echo "Targets:"
	@echo "  all         build build/vigil, build/libvigil.a and build/libvigil.so.$(VERSION) (default)"
	@echo "  test        install missing packages, build, run the test suite"
	@echo "  layering    check that no two core files call each other (part of test)"
	@echo "  test-asan   the same suite built with clang ASan+UBSan (alias: sanitize)"
	@echo "  stress      many vigils at once with random kill -9, under ASan (STRESS_SECONDS, default 60)"
	@echo "  fuzz        libFuzzer on the hash-list and room-list parsers, option values and cells, index,"
	@echo "              room-index and scan-journal readers, image loader (FUZZ_SECONDS each)"
	@echo "  bench       throughput benchmarks (see bench/README.md)"
	@echo "  bench-check the benchmark guard: same-run ratios against floors (CI runs it)"
	@echo "  bench-serve vigil serve with wrk over loopback vs the in-process index (SERVE_N, default 1 M)"
	@echo "  soak-serve  lookups, uploads, adds and reloads against vigil serve (SOAK_SECONDS, default 600)"
	@echo "  eval        PDQ accuracy on 270 photos rebuilt from Debian packages"
	@echo "  rooms-eval  room recognition: panorama views among ~10,000 photo crops; OpenCV beside it"
	@echo "  demo        scan a mock seized folder against two reference sets and a room index"
	@echo "  man         man pages from the commands' help text, into build/man/"
	@echo "  install     install vigil, libvigil (.a, .so.$(VERSION) + links), vigil.h, vigil.pc and the man"
	@echo "              pages under PREFIX=$(PREFIX) (DESTDIR honoured)"
	@echo "  deps        install the missing Debian packages the build and demo need (deps-test, deps-asan,"
	@echo "              deps-bench, deps-fuzz: those the other targets add; see tests/install-deps.sh)"
	@echo "  clean       remove build/"
	@echo "Variables: CC, CFLAGS (default -O2 -g), PREFIX, DESTDIR, V=1 to show commands"

-include $(shell find $(B) -name '*.d' 2>/dev/null)

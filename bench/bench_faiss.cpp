// bench_faiss.cpp - FAISS's binary indexes on the data bench_match dumps, for the side-by-side
// in bench/match.sh: IndexBinaryFlat (exact) and IndexBinaryMultiHash (8 x 32 bits, the
// configuration the FAISS wiki suggests for 256-bit codes), one thread, range search at radius 31.
// Usage: bench-faiss BASE.bin QUERIES.bin
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHash.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <utility>
#include <vector>

static std::vector<uint8_t> load(const char *p)
{
    FILE *f = fopen(p, "rb");
    if (!f) { perror(p); exit(2); }
    std::vector<uint8_t> v;
    uint8_t buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) v.insert(v.end(), buf, buf + n);
    fclose(f);
    return v;
}

static double now()
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

static long rss_kb()
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f) { if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0; fclose(f); }
    return res * 4;
}

typedef std::set<std::pair<long, long>> pairs;

static pairs search(faiss::IndexBinary &idx, const uint8_t *q, long nq, double *secs)
{
    faiss::RangeSearchResult res(nq);
    double t0 = now();
    idx.range_search(nq, q, 32, &res); // FAISS keeps distance < radius: 32 means <= 31
    *secs = now() - t0;
    pairs out;
    for (long i = 0; i < nq; i++)
        for (size_t j = res.lims[i]; j < res.lims[i + 1]; j++) out.insert({i, res.labels[j]});
    return out;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: bench-faiss BASE.bin QUERIES.bin\n"); return 2; }
    omp_set_num_threads(1);
    std::vector<uint8_t> base = load(argv[1]), qs = load(argv[2]);
    long n = (long)base.size() / 32, nq = (long)qs.size() / 32;
    double secs;
    pairs truth;
    {
        long r0 = rss_kb();
        faiss::IndexBinaryFlat flat(256);
        double t0 = now();
        flat.add(n, base.data());
        double build = now() - t0;
        long nflat = nq < 100 ? nq : 100;
        truth = search(flat, qs.data(), nflat, &secs);
        printf("bench=faiss_flat n=%ld queries=%ld q_per_s=%.1f build_s=%.2f bytes_per_entry=%.1f\n", n, nflat, nflat / secs,
               build, (rss_kb() - r0) * 1024.0 / n);
    }
    for (int nflip = 2; nflip <= 3; nflip++) {
        long r0 = rss_kb();
        faiss::IndexBinaryMultiHash mh(256, 8, 32);
        double t0 = now();
        mh.add(n, base.data());
        double build = now() - t0;
        long used = rss_kb() - r0;
        mh.nflip = nflip;
        long nmh = nq < 100 ? nq : 100;
        pairs got = search(mh, qs.data(), nmh, &secs);
        size_t found = 0;
        for (auto &p : truth) found += got.count(p);
        printf("bench=faiss_multihash nhash=8 b=32 nflip=%d n=%ld queries=%ld q_per_s=%.1f recall_pct=%.2f build_s=%.2f "
               "bytes_per_entry=%.1f\n",
               nflip, n, nmh, nmh / secs, truth.empty() ? 100.0 : 100.0 * found / truth.size(), build, used * 1024.0 / n);
    }
    return 0;
}

/* cmd_serve.c - `vigil serve`: the upload-screening service, with Hasher-Matcher-Actioner's HTTP
 * API (docs/serve.md). This file holds the options, the start-up order (listen first, answer
 * /status with 503 while the indexes load), the reload thread (inotify, a 1 s stat check, SIGHUP)
 * and the signal handling (SIGTERM/SIGINT drain and exit 0). */
#include "cli.h"
#include "serve.h"
#include "serve_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void help_serve(FILE *f)
{
    fprintf(f,
            "Usage: vigil serve --index FILE.vgi [--index FILE2.vgi ...] [--rooms R.vgr]\n"
            "                   [--listen 127.0.0.1:8080] [-j N] [--token-file F]\n"
            "                   [--curation-token-file F] [--max-upload BYTES] [--max-pixels N]\n"
            "                   [--radius 31] [--max-connections N] [--timeout S] [--request-timeout S]\n"
            "                   [--compact-after N]\n\n"
            "An HTTP service with the API of Meta's Hasher-Matcher-Actioner (HMA): its paths,\n"
            "parameters and JSON, so an HMA client works unchanged. A bank is an index's --set\n"
            "name. GET /m/lookup?signal_type=pdq&signal=HEX[&banks=A,B] and POST /m/lookup (a\n"
            "multipart upload, field photo) match; POST /h/hash hashes; POST /m/compare,\n"
            "GET /m/index/status, GET /c/banks, GET /c/bank/NAME; POST /c/bank/NAME/signal\n"
            "{\"pdq\":HEX,\"note\":...} and POST /c/bank/NAME/content (an upload) add;\n"
            "DELETE /c/bank/NAME/content/ID deletes; GET /status (503 until the indexes are\n"
            "loaded) and GET /status/live. Beyond HMA: POST /v/lookup/batch (many hashes, dihedral,\n"
            "radius, MD5/SHA-1), POST /v/rooms (an upload with ?mask=X,Y,W,H;...) and GET /metrics\n"
            "(Prometheus). Errors are {\"message\":...} with a 4xx or 5xx code. No request is ever\n"
            "made to another host: GET /h/hash?url= answers 501. See docs/serve.md.\n\n"
            "An add or delete is appended to FILE.vgi.log and synced to disk before the answer, and\n"
            "is searched by the next request; the log is replayed at start and merged into the\n"
            "index file every --compact-after changes. An index or room index file replaced by a\n"
            "rename is read again within 2 s (inotify, and a stat check every second), and on\n"
            "SIGHUP; requests in flight keep the version they started with, and a file that fails\n"
            "its checks is refused (the loaded version stays). SIGTERM or SIGINT stops accepting,\n"
            "answers the requests in flight, and exits 0.\n\n"
            "  --index FILE          a bank (at most 64); its set name is the bank's name\n"
            "  --rooms FILE          a room index (vigil rooms build) for POST /v/rooms,\n"
            "                        reloaded like the index files\n"
            "  --listen HOST:PORT    address to listen on (default 127.0.0.1:8080; [::1]:PORT for\n"
            "                        IPv6; port 0 picks a free one, printed at start)\n"
            "  -j N                  worker threads that answer requests, whichever is free\n"
            "                        (default: the number of cores); sockets are read and\n"
            "                        written by one epoll thread per 4 workers\n"
            "  --token-file F        every endpoint needs Authorization: Bearer TOKEN (the file's\n"
            "                        first line, at least 16 bytes); compared in constant time\n"
            "  --curation-token-file F  the endpoints that change banks need this token; without\n"
            "                        it and --token-file, changing banks is refused (403)\n"
            "  --max-upload BYTES    largest request body (default 32M; suffixes K M G); 413 over\n"
            "  --max-pixels N        largest image by its header (default 100000000), refused\n"
            "                        with 422 before decoding\n"
            "  --radius R            match distance for lookups (default 31; 0-64)\n"
            "  --max-connections N   connections at once (default 1024); more wait in the backlog\n"
            "  --timeout S           an idle connection is closed after S seconds (default 30)\n"
            "  --request-timeout S   a request whose body takes longer is cut (default 60)\n"
            "  --compact-after N     merge the add log into the index file after N changes\n"
            "                        (default 10000; 0 = never)\n\n"
            "Exit status: 0 stopped by SIGTERM or SIGINT, 2 usage, or an index that cannot be\n"
            "opened or an address that cannot be listened on.\n");
}

static srv_config cfg;
static int wake_pipe[2] = {-1, -1};
static atomic_int stopping;
static uint64_t compact_after = 10000;

static char *read_token(const char *path, size_t *len)
{
    char why[256];
    size_t n;
    char *t = cli_read_all(path, 4096, NULL, &n, why, sizeof why);
    if (!t) { cli_warn("%s", why); return NULL; }
    char *nl = memchr(t, '\n', n);
    if (nl) n = (size_t)(nl - t);
    while (n && (t[n - 1] == '\r' || t[n - 1] == ' ' || t[n - 1] == '\t')) n--;
    t[n] = 0;
    if (n < 16) { cli_warn("%s: a token must be at least 16 bytes on the first line", path); free(t); return NULL; }
    struct stat st;
    if (!stat(path, &st) && (st.st_mode & 077)) cli_warn("%s: readable by other users (chmod 600 it)", path);
    *len = n;
    return t;
}

static int parse_listen(const char *s, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    const char *colon = strrchr(s, ':');
    if (!colon) return -1;
    char host[128];
    size_t hl = (size_t)(colon - s);
    if (hl >= sizeof host) return -1;
    memcpy(host, s, hl);
    host[hl] = 0;
    long long port;
    if (cli_strict_int(colon + 1, 0, 65535, &port)) return -1;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        host[hl - 1] = 0;
        if (inet_pton(AF_INET6, host + 1, &a->sin6_addr) != 1) return -1;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        return 0;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)ss;
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) return -1;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    return 0;
}

static double mono(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A file the reload thread watches: a bank's index file or the room index. A file whose reload
 * failed is remembered by its stat, so the same bad file is reported once and not read again
 * every second; a new file at the path (or the same one written again) is tried again. */
typedef struct watched {
    srv_bank *bank;
    srv_rooms *rooms;
    struct stat failed;
    int has_failed, failed_missing;
} watched;
static watched *files;
static int nfiles;

static const char *watched_path(const watched *w) { return w->bank ? srv_bank_path(w->bank) : srv_rooms_path(w->rooms); }

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
           a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

static void reload_one(watched *w, int force)
{
    char why[512];
    const char *path = watched_path(w);
    struct stat st;
    int missing = stat(path, &st) != 0;
    if (!force && w->has_failed && (missing ? w->failed_missing : !w->failed_missing && same_file(&st, &w->failed))) return;
    double t0 = mono();
    int r = w->bank ? srv_bank_reload(w->bank, force, why, sizeof why) : srv_rooms_reload(w->rooms, force, why, sizeof why);
    if (r < 0) {
        if (w->bank) cli_warn("reload of bank %s failed, the loaded version stays: %s", srv_bank_name(w->bank), why);
        else cli_warn("reload of the room index failed, the loaded version stays: %s", why);
        srv_metrics_reload(0);
        w->has_failed = 1;
        w->failed_missing = missing;
        if (!missing) w->failed = st;
    }
    if (r > 0) {
        w->has_failed = 0;
        if (w->bank) {
            srv_snap *s = srv_bank_acquire(w->bank);
            uint64_t live;
            srv_snap_sizes(s, &live, NULL, NULL, NULL);
            srv_snap_release(s);
            cli_warn("bank %s reloaded from %s: %llu entries in %.3f s", srv_bank_name(w->bank), path,
                     (unsigned long long)live, mono() - t0);
        } else {
            srv_rsnap *s = srv_rooms_acquire(w->rooms);
            vigil_rooms_stats rst;
            vigil_rooms_get_stats(srv_rsnap_rooms(s), &rst);
            srv_rsnap_release(s);
            cli_warn("room index reloaded from %s: %llu images in %.3f s", path, (unsigned long long)rst.images,
                     mono() - t0);
        }
        srv_metrics_reload(1);
    }
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static void *reload_thread(void *arg)
{
    (void)arg;
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (in < 0) cli_warn("inotify: %s; index files are checked once a second instead", strerror(errno));
    for (int i = 0; in >= 0 && i < nfiles; i++) {
        char dir[PATH_MAX];
        const char *p = watched_path(&files[i]), *sl = strrchr(p, '/');
        snprintf(dir, sizeof dir, "%.*s", sl ? (sl == p ? 1 : (int)(sl - p)) : 1, sl ? p : ".");
        /* the folder, not the file: a rename over the file replaces the inode a file watch is on */
        if (inotify_add_watch(in, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE) < 0)
            cli_warn("inotify on %s: %s", dir, strerror(errno));
    }
    while (!atomic_load(&stopping)) {
        struct pollfd pf[2] = {{wake_pipe[0], POLLIN, 0}, {in, POLLIN, 0}};
        int n = poll(pf, in >= 0 ? 2 : 1, 1000);
        if (atomic_load(&stopping)) break;
        int force = 0;
        if (n > 0 && (pf[0].revents & POLLIN)) {
            char c[16];
            if (read(wake_pipe[0], c, sizeof c) > 0) force = 1;
        }
        if (n > 0 && in >= 0 && (pf[1].revents & POLLIN)) {
            char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
            ssize_t len;
            while ((len = read(in, buf, sizeof buf)) > 0) {
                for (char *p = buf; p < buf + len;) {
                    struct inotify_event *ev = (struct inotify_event *)p;
                    for (int i = 0; ev->len && i < nfiles; i++)
                        if (!strcmp(ev->name, base_name(watched_path(&files[i])))) reload_one(&files[i], 0);
                    p += sizeof *ev + ev->len;
                }
            }
        }
        /* the stat check: catches what inotify cannot see (network file systems, a full queue) */
        for (int i = 0; i < nfiles; i++) reload_one(&files[i], force);
        for (int i = 0; compact_after && i < cfg.nbanks; i++) {
            if (srv_bank_log_records(cfg.banks[i]) < compact_after) continue;
            char why[512];
            double t0 = mono();
            if (srv_bank_compact(cfg.banks[i], why, sizeof why))
                cli_warn("compaction of bank %s failed, the log keeps every change: %s", srv_bank_name(cfg.banks[i]), why);
            else
                cli_warn("bank %s: add log merged into %s in %.3f s", srv_bank_name(cfg.banks[i]),
                         srv_bank_path(cfg.banks[i]), mono() - t0);
        }
    }
    if (in >= 0) close(in);
    return NULL;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option lo[] = {
        {"index", required_argument, 0, 'i'}, {"rooms", required_argument, 0, 'r'},
        {"listen", required_argument, 0, 'l'}, {"token-file", required_argument, 0, 't'},
        {"curation-token-file", required_argument, 0, 'C'}, {"max-upload", required_argument, 0, 'u'},
        {"max-pixels", required_argument, 0, 'p'}, {"radius", required_argument, 0, 'R'},
        {"max-connections", required_argument, 0, 'c'}, {"timeout", required_argument, 0, 'T'},
        {"request-timeout", required_argument, 0, 'Q'}, {"compact-after", required_argument, 0, 'k'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *idx[64], *rooms = NULL, *listen = "127.0.0.1:8080", *tokf = NULL, *ctokf = NULL;
    int nidx = 0, threads = (int)sysconf(_SC_NPROCESSORS_ONLN), c, radius = 31, maxconn = 1024, timeout = 30, rtimeout = 60;
    uint64_t max_upload = 32u << 20, max_pixels = 100000000;
    if (threads < 1) threads = 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "j:h", lo, NULL)) != -1) {
        switch (c) {
        case 'i':
            if (nidx == 64) { cli_warn("at most 64 --index"); return EXIT_USAGE; }
            idx[nidx++] = optarg;
            break;
        case 'r': rooms = optarg; break;
        case 'l': listen = optarg; break;
        case 't': tokf = optarg; break;
        case 'C': ctokf = optarg; break;
        case 'u': if (cli_parse_u64("--max-upload", optarg, 1024, 1ull << 32, 1, &max_upload)) return EXIT_USAGE; break;
        case 'p': if (cli_parse_u64("--max-pixels", optarg, 25, 1ull << 34, 0, &max_pixels)) return EXIT_USAGE; break;
        case 'R': if (cli_parse_int("--radius", optarg, 0, 64, &radius)) return EXIT_USAGE; break;
        case 'c': if (cli_parse_int("--max-connections", optarg, 1, 65536, &maxconn)) return EXIT_USAGE; break;
        case 'T': if (cli_parse_int("--timeout", optarg, 1, 3600, &timeout)) return EXIT_USAGE; break;
        case 'Q': if (cli_parse_int("--request-timeout", optarg, 1, 3600, &rtimeout)) return EXIT_USAGE; break;
        case 'k': if (cli_parse_u64("--compact-after", optarg, 0, 1ull << 40, 0, &compact_after)) return EXIT_USAGE; break;
        case 'j': if (cli_parse_int("-j", optarg, 1, 1024, &threads)) return EXIT_USAGE; break;
        case 'h': help_serve(stdout); return 0;
        default: help_serve(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) { cli_warn("unexpected argument: %s", argv[optind]); return EXIT_USAGE; }
    if (!nidx) { cli_warn("serve needs at least one --index FILE.vgi"); return EXIT_USAGE; }
    struct sockaddr_storage addr;
    if (parse_listen(listen, &addr)) { cli_warn("--listen: '%s' is not HOST:PORT (an IPv4 address, or [IPv6]:PORT)", listen); return EXIT_USAGE; }
    cfg.radius = radius;
    cfg.max_pixels = max_pixels;
    /* An index is a few large blocks, allocated by a reload and freed by the last request that
     * held the old one. glibc raises its mmap threshold to the size of each large block freed,
     * after which such blocks come from the heap and their pages stay with the process: RSS then
     * grew by one index per reload (bench/results/serve.md). A fixed threshold keeps every block
     * over 256 KiB its own mapping, returned to the system when freed. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    if (tokf && !(cfg.token = read_token(tokf, &cfg.token_len))) return EXIT_USAGE;
    if (ctokf && !(cfg.curation_token = read_token(ctokf, &cfg.curation_token_len))) return EXIT_USAGE;

    /* every thread started from here on inherits the mask: the signals come to sigwait below */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    vigil_error err;
    if (vigil_init(&err)) { cli_warn("%s", err.message); return EXIT_USAGE; }
    if (pipe(wake_pipe)) { cli_warn("pipe: %s", strerror(errno)); return EXIT_USAGE; }

    srv_http_config hc = {&cfg, threads, (unsigned)maxconn, (unsigned)timeout, (double)rtimeout, max_upload, 16384};
    char why[512];
    if (srv_http_start(&hc, (struct sockaddr *)&addr, why, sizeof why)) { cli_warn("--listen %s: %s", listen, why); return EXIT_USAGE; }
    char shown[160];
    snprintf(shown, sizeof shown, "%.*s:%d", (int)(strrchr(listen, ':') - listen), listen, srv_http_port());
    cli_warn("listening on http://%s (%d threads)", shown, threads);

    srv_bank **banks = calloc((size_t)nidx, sizeof *banks);
    if (!banks) { cli_warn("out of memory"); return EXIT_USAGE; }
    for (int i = 0; i < nidx; i++) {
        double t0 = mono();
        if (!(banks[i] = srv_bank_open(idx[i], why, sizeof why))) { cli_warn("%s", why); srv_http_drain(0); return EXIT_USAGE; }
        for (int k = 0; k < i; k++)
            if (!strcmp(srv_bank_name(banks[k]), srv_bank_name(banks[i]))) {
                cli_warn("%s and %s are both set '%s': a bank name must be one index", idx[k], idx[i], srv_bank_name(banks[i]));
                srv_http_drain(0);
                return EXIT_USAGE;
            }
        srv_snap *s = srv_bank_acquire(banks[i]);
        uint64_t live, delta;
        srv_snap_sizes(s, &live, NULL, &delta, NULL);
        srv_snap_release(s);
        cli_warn("bank %s: %s, %llu entries (%llu from its add log) in %.3f s", srv_bank_name(banks[i]), idx[i],
                 (unsigned long long)live, (unsigned long long)delta, mono() - t0);
    }
    if (rooms && !(cfg.rooms = srv_rooms_open(rooms, why, sizeof why))) { cli_warn("%s", why); srv_http_drain(0); return EXIT_USAGE; }
    cfg.banks = banks;
    cfg.nbanks = nidx;
    atomic_thread_fence(memory_order_seq_cst);
    cfg.ready = 1;
    cli_warn("ready");

    files = calloc((size_t)nidx + 1, sizeof *files);
    if (!files) { cli_warn("out of memory"); srv_http_drain(0); return EXIT_USAGE; }
    for (int i = 0; i < nidx; i++) files[nfiles++].bank = banks[i];
    if (cfg.rooms) files[nfiles++].rooms = cfg.rooms;
    pthread_t rt;
    if (pthread_create(&rt, NULL, reload_thread, NULL)) { cli_warn("cannot start the reload thread"); srv_http_drain(0); return EXIT_USAGE; }
    int sig = 0;
    for (;;) {
        if (sigwait(&set, &sig)) continue;
        if (sig == SIGHUP) {
            cli_warn("SIGHUP: reading every index file again");
            if (write(wake_pipe[1], "h", 1) < 0) cli_warn("cannot wake the reload thread: %s", strerror(errno));
            continue;
        }
        break;
    }
    cli_warn("%s: answering the requests in flight, then stopping", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    int left = srv_http_drain(30);
    atomic_store(&stopping, 1);
    if (write(wake_pipe[1], "s", 1) < 0) { /* the thread wakes within 1 s anyway */ }
    pthread_join(rt, NULL);
    if (left) cli_warn("%d requests still in flight after 30 s were cut", left);
    for (int i = 0; i < nidx; i++) srv_bank_free(banks[i]);
    free(banks);
    free(files);
    srv_rooms_free(cfg.rooms);
    free(cfg.token);
    free(cfg.curation_token);
    cli_warn("stopped");
    return 0;
}

/* serve_metrics.c - the counters of `vigil serve` for GET /metrics (Prometheus text format 0.0.4):
 * requests by endpoint and status code, a latency histogram per endpoint, reloads. Lock-free:
 * relaxed atomic adds, so recording costs a request a few nanoseconds. Fixed size: 15 endpoints x
 * 16 codes x 8 bytes + 15 x 16 histogram buckets. */
#include "serve.h"

#include <stdatomic.h>

static const char *const ep_names[SRV_EP_COUNT] = {
    "status", "lookup_get", "lookup_post", "hash", "compare", "index_status", "banks", "bank", "add_signal",
    "add_content", "delete_content", "batch", "rooms", "metrics", "other"};

const char *srv_endpoint_name(int ep)
{
    return ep >= 0 && ep < SRV_EP_COUNT ? ep_names[ep] : "other";
}

static const int codes[] = {200, 201, 400, 401, 403, 404, 405, 408, 413, 414, 415, 422, 431, 500, 501, 503};
#define NCODES (int)(sizeof codes / sizeof codes[0])
/* seconds; the last bucket is +Inf */
static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
                                2.5, 10};
#define NB (int)(sizeof bounds / sizeof bounds[0])

static atomic_ullong requests[SRV_EP_COUNT][NCODES + 1];
static atomic_ullong hist[SRV_EP_COUNT][NB + 1];
static atomic_ullong hist_sum_us[SRV_EP_COUNT];
static atomic_ullong reloads_ok, reloads_failed;
static atomic_llong inflight;

void srv_metrics_inflight(int delta) { atomic_fetch_add_explicit(&inflight, delta, memory_order_relaxed); }

void srv_metrics_record(int ep, int code, double seconds)
{
    if (ep < 0 || ep >= SRV_EP_COUNT) ep = SRV_EP_OTHER;
    int c = NCODES;
    for (int i = 0; i < NCODES; i++)
        if (codes[i] == code) { c = i; break; }
    atomic_fetch_add_explicit(&requests[ep][c], 1, memory_order_relaxed);
    int b = NB;
    for (int i = 0; i < NB; i++)
        if (seconds <= bounds[i]) { b = i; break; }
    atomic_fetch_add_explicit(&hist[ep][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&hist_sum_us[ep], (unsigned long long)(seconds * 1e6), memory_order_relaxed);
}

void srv_metrics_reload(int ok)
{
    atomic_fetch_add_explicit(ok ? &reloads_ok : &reloads_failed, 1, memory_order_relaxed);
}

void srv_metrics_write(srv_buf *b)
{
    srv_buf_str(b, "# HELP vigil_http_requests_total HTTP requests answered, by endpoint and status code.\n"
                   "# TYPE vigil_http_requests_total counter\n");
    for (int e = 0; e < SRV_EP_COUNT; e++)
        for (int c = 0; c <= NCODES; c++) {
            unsigned long long v = atomic_load_explicit(&requests[e][c], memory_order_relaxed);
            if (!v) continue;
            if (c < NCODES)
                srv_buf_fmt(b, "vigil_http_requests_total{endpoint=\"%s\",code=\"%d\"} %llu\n", ep_names[e], codes[c], v);
            else
                srv_buf_fmt(b, "vigil_http_requests_total{endpoint=\"%s\",code=\"other\"} %llu\n", ep_names[e], v);
        }
    srv_buf_str(b, "# HELP vigil_http_request_duration_seconds Time from the request's headers to its answer.\n"
                   "# TYPE vigil_http_request_duration_seconds histogram\n");
    for (int e = 0; e < SRV_EP_COUNT; e++) {
        unsigned long long cum = 0, total = 0;
        for (int i = 0; i <= NB; i++) total += atomic_load_explicit(&hist[e][i], memory_order_relaxed);
        if (!total) continue;
        for (int i = 0; i <= NB; i++) {
            cum += atomic_load_explicit(&hist[e][i], memory_order_relaxed);
            if (i < NB)
                srv_buf_fmt(b, "vigil_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%g\"} %llu\n", ep_names[e],
                            bounds[i], cum);
            else
                srv_buf_fmt(b, "vigil_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %llu\n",
                            ep_names[e], cum);
        }
        srv_buf_fmt(b, "vigil_http_request_duration_seconds_sum{endpoint=\"%s\"} %.6f\n", ep_names[e],
                    (double)atomic_load_explicit(&hist_sum_us[e], memory_order_relaxed) / 1e6);
        srv_buf_fmt(b, "vigil_http_request_duration_seconds_count{endpoint=\"%s\"} %llu\n", ep_names[e], cum);
    }
    srv_buf_fmt(b,
                "# HELP vigil_reloads_total Index files read again after a change, by outcome.\n"
                "# TYPE vigil_reloads_total counter\n"
                "vigil_reloads_total{result=\"ok\"} %llu\nvigil_reloads_total{result=\"failed\"} %llu\n",
                atomic_load(&reloads_ok), atomic_load(&reloads_failed));
    srv_buf_fmt(b,
                "# HELP vigil_http_requests_in_flight Requests read, queued or being answered (this one too).\n"
                "# TYPE vigil_http_requests_in_flight gauge\nvigil_http_requests_in_flight %lld\n",
                (long long)atomic_load(&inflight));
}

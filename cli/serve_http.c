/* serve_http.c - the HTTP layer of `vigil serve` on libmicrohttpd: epoll threads that read and
 * write connections, and a pool of -j worker threads that answer the requests. A body arrives in
 * pieces as the client sends it and is gathered here, bounded by --max-upload, so a slow client
 * costs a buffer, never a worker; idle connections are dropped after --timeout, a whole request
 * after --request-timeout, and the number of connections is capped. Only the gathered request goes
 * to serve_api.c.
 *
 * Why a pool apart from the epoll threads: libmicrohttpd gives each connection to one epoll thread
 * for its life, and a thread takes up to 10 new connections in a row, so a client with a few
 * keep-alive connections (wrk, a load balancer) often has them all on one thread; answering in
 * that thread then left the other cores idle (uploads ran at 48-60 % of `vigil hash`'s rate on
 * the same files, bench/results/serve.md). A complete request is now suspended
 * (MHD_suspend_connection), queued, answered by whichever worker is free, and resumed; its epoll
 * thread writes the answer. The queue holds at most one request per connection. /status and
 * /metrics are answered in the epoll thread, so a health check never waits behind uploads. */
#include "serve_http.h"
#include "cli.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct conn_req {
    double start;
    char *uri;
    srv_buf body;
    int seen, too_large, answered;
    /* a complete request handed to the workers: 1 queued or being answered, 2 answered (rs) */
    atomic_int state;
    struct MHD_Connection *conn;
    char path[1024];
    srv_request rq;
    srv_response rs;
    struct conn_req *next;
} conn_req;

static srv_http_config H;
static struct MHD_Daemon *daemon_;
static atomic_int inflight;
static atomic_int draining;

/* the workers' queue: FIFO, one entry per suspended connection */
static pthread_mutex_t qlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qcond = PTHREAD_COND_INITIALIZER;
static conn_req *qhead, *qtail;
static int qstop;
static pthread_t *workers;
static int nworkers;

static void enqueue(conn_req *r)
{
    pthread_mutex_lock(&qlock);
    r->next = NULL;
    if (qtail) qtail->next = r;
    else qhead = r;
    qtail = r;
    pthread_cond_signal(&qcond);
    pthread_mutex_unlock(&qlock);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&qlock);
        while (!qhead && !qstop) pthread_cond_wait(&qcond, &qlock);
        conn_req *r = qhead;
        if (r) {
            qhead = r->next;
            if (!qhead) qtail = NULL;
        }
        pthread_mutex_unlock(&qlock);
        if (!r) return NULL; /* stopping, and nothing is left to answer */
        srv_handle(H.cfg, &r->rq, &r->rs);
        atomic_store(&r->state, 2);
        MHD_resume_connection(r->conn);
    }
}

static void stop_workers(void)
{
    pthread_mutex_lock(&qlock);
    qstop = 1;
    pthread_cond_broadcast(&qcond);
    pthread_mutex_unlock(&qlock);
    for (int i = 0; i < nworkers; i++) pthread_join(workers[i], NULL);
    free(workers);
    workers = NULL;
    nworkers = 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Called with the raw request line's URI before MHD parses it: the query string is kept as sent,
 * so serve_parse.c decodes it under its own rules. The value becomes the request's state. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    conn_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->start = now();
    r->uri = strdup(uri ? uri : "/");
    atomic_fetch_add(&inflight, 1);
    srv_metrics_inflight(1);
    return r;
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    conn_req *r = *con_cls;
    if (!r) return;
    free(r->uri);
    free(r->body.p);
    free(r->rs.body.p);
    free(r);
    *con_cls = NULL;
    atomic_fetch_sub(&inflight, 1);
    srv_metrics_inflight(-1);
}

static enum MHD_Result reply(struct MHD_Connection *c, conn_req *r, int ep, int code, const char *ctype, srv_buf *body)
{
    if (body->oom || !body->p) {
        free(body->p);
        body->p = NULL;
        body->n = 0;
        if (body->oom) { code = 503; ctype = "application/json"; }
        body->oom = 0;
        srv_buf_str(body, code == 503 ? "{\"message\":\"out of memory\"}\n" : "");
    }
    struct MHD_Response *resp = MHD_create_response_from_buffer(body->n, body->p, MHD_RESPMEM_MUST_FREE);
    if (!resp) { free(body->p); return MHD_NO; }
    body->p = NULL;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (code == 401) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    /* while draining, clients are told not to reuse the connection */
    if (atomic_load(&draining)) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)code, resp);
    MHD_destroy_response(resp);
    r->answered = 1;
    srv_metrics_record(ep, code, now() - r->start);
    return rc;
}

static enum MHD_Result send_error(struct MHD_Connection *c, conn_req *r, int ep, int code, const char *msg)
{
    srv_buf b = {0};
    srv_buf_str(&b, "{\"message\":");
    srv_buf_json_str(&b, msg);
    srv_buf_str(&b, "}\n");
    return reply(c, r, ep, code, "application/json", &b);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)version;
    conn_req *r = *con_cls;
    if (!r) return MHD_NO; /* out of memory in on_uri: drop the connection */
    if (r->answered) { *upload_size = 0; return MHD_YES; }
    int state = atomic_load(&r->state);
    if (state == 2) return reply(c, r, r->rs.endpoint, r->rs.code, r->rs.content_type, &r->rs.body);
    if (state == 1) { *upload_size = 0; return MHD_YES; } /* with a worker (not called while suspended) */
    char *q = strchr(r->uri, '?');
    char *path = r->path;
    if (!r->seen) {
        size_t plen = q ? (size_t)(q - r->uri) : strlen(r->uri);
        if (plen >= sizeof r->path) plen = sizeof r->path - 1;
        memcpy(path, r->uri, plen);
        path[plen] = 0;
    }
    int ep = srv_route_endpoint(method, path);
    if (!r->seen) {
        r->seen = 1;
        /* first call: headers only. A declared length over the limit is refused before any byte
         * of the body is read. */
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            uint64_t n;
            if (cli_strict_u64(cl, 0, UINT64_MAX, 0, &n) == 0 && n > H.max_upload) {
                char m[128];
                snprintf(m, sizeof m, "request body of %llu bytes is over the limit of %llu (--max-upload)",
                         (unsigned long long)n, (unsigned long long)H.max_upload);
                return send_error(c, r, ep, 413, m);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (now() - r->start > H.request_timeout) return MHD_NO; /* a client trickling its body: cut */
        if (!r->too_large) {
            if (r->body.n + *upload_size > H.max_upload) {
                r->too_large = 1;
                free(r->body.p);
                r->body = (srv_buf){0};
            } else srv_buf_add(&r->body, upload, *upload_size);
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->too_large) {
        char m[128];
        snprintf(m, sizeof m, "request body is over the limit of %llu bytes (--max-upload)", (unsigned long long)H.max_upload);
        return send_error(c, r, ep, 413, m);
    }
    if (r->body.oom) return send_error(c, r, ep, 503, "out of memory");
    /* method, URI and header values live in the connection's memory until the request ends */
    srv_request *rq = &r->rq;
    rq->method = method;
    rq->path = path;
    rq->query = q ? q + 1 : "";
    rq->content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    rq->authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    rq->body = r->body.p;
    rq->body_len = r->body.n;
    if (ep == SRV_EP_STATUS || ep == SRV_EP_METRICS || !nworkers) {
        srv_handle(H.cfg, rq, &r->rs);
        return reply(c, r, r->rs.endpoint, r->rs.code, r->rs.content_type, &r->rs.body);
    }
    r->conn = c;
    atomic_store(&r->state, 1);
    MHD_suspend_connection(c);
    enqueue(r);
    return MHD_YES;
}

int srv_http_start(const srv_http_config *cfg, const struct sockaddr *addr, char *why, size_t whylen)
{
    H = *cfg;
    workers = calloc((size_t)cfg->threads, sizeof *workers);
    if (!workers) { snprintf(why, whylen, "out of memory"); return -1; }
    for (nworkers = 0; nworkers < cfg->threads; nworkers++)
        if (pthread_create(&workers[nworkers], NULL, worker, NULL)) {
            stop_workers();
            snprintf(why, whylen, "cannot start %d worker threads", cfg->threads);
            return -1;
        }
    /* reading and writing sockets is light next to answering: one epoll thread per 4 workers */
    unsigned io = (unsigned)(cfg->threads + 3) / 4;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
    if (addr->sa_family == AF_INET6) flags |= MHD_USE_IPv6;
    daemon_ = MHD_start_daemon(flags, 0, NULL, NULL, on_request, NULL,
                               MHD_OPTION_SOCK_ADDR, addr,
                               MHD_OPTION_THREAD_POOL_SIZE, io > 1 ? io : 0u,
                               MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                               MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout,
                               MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)cfg->header_bytes,
                               MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
                               MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
                               MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
                               MHD_OPTION_END);
    if (!daemon_) {
        stop_workers();
        snprintf(why, whylen, "cannot listen (address in use, or not this machine's?)");
        return -1;
    }
    return 0;
}

int srv_http_port(void)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT);
    return i ? (int)i->port : -1;
}

int srv_http_drain(double seconds)
{
    atomic_store(&draining, 1);
    /* stop accepting; what is in flight finishes and is answered */
    MHD_socket s = MHD_quiesce_daemon(daemon_);
    if (s != MHD_INVALID_SOCKET) close(s);
    double end = now() + seconds;
    int left;
    while ((left = atomic_load(&inflight)) > 0 && now() < end) {
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    /* the workers answer what is queued, then end; every connection is resumed before the stop
     * (libmicrohttpd must not be stopped with one suspended) */
    stop_workers();
    MHD_stop_daemon(daemon_);
    daemon_ = NULL;
    return left;
}

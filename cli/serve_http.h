/* serve_http.h - the HTTP layer of `vigil serve` (serve_http.c, libmicrohttpd). */
#ifndef VIGIL_SERVE_HTTP_H
#define VIGIL_SERVE_HTTP_H

#include "serve.h"

#include <sys/socket.h>

typedef struct srv_http_config {
    srv_config *cfg;
    int threads;             /* worker threads that answer requests (plus one epoll thread per 4) */
    unsigned max_connections;
    unsigned timeout;        /* seconds a connection may stay idle */
    double request_timeout;  /* seconds from a request's first line to its last body byte */
    uint64_t max_upload;     /* bytes of body */
    size_t header_bytes;     /* per-connection memory for the request line and headers */
} srv_http_config;

/* Listens on addr and serves with cfg's threads; 0, or -1 with why. */
int srv_http_start(const srv_http_config *cfg, const struct sockaddr *addr, char *why, size_t whylen);
/* The port bound (for --listen HOST:0). */
int srv_http_port(void);
/* Stops accepting, waits up to seconds for the requests in flight to be answered, stops. Returns
 * how many were still in flight at the end. */
int srv_http_drain(double seconds);

#endif

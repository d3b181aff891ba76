/* progress.c - a single self-overwriting status line on stderr, only when it is a terminal. */
#include "cli.h"

#include <time.h>
#include <unistd.h>

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void cli_progress_init(cli_progress *p, int quiet, const char *verb)
{
    *p = (cli_progress){0};
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->start = p->last = cli_now();
    p->verb = verb;
}

void cli_progress_update(cli_progress *p, int force)
{
    if (!p->enabled) return;
    double t = cli_now();
    if (!force && t - p->last < 0.2) return;
    p->last = t;
    double dt = t - p->start > 1e-6 ? t - p->start : 1e-6;
    fprintf(stderr, "\r\033[K%s %llu files (%llu failed)  %.1f files/s  %.1f MB/s", p->verb, p->files,
            p->failed, p->files / dt, p->bytes / dt / 1e6);
    fflush(stderr);
}

void cli_progress_done(cli_progress *p)
{
    if (!p->enabled) return;
    cli_progress_update(p, 1);
    fputc('\n', stderr);
}

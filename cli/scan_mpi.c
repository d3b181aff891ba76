/* scan_mpi.c - the transport of `vigil scan --mpi` (scan_dist.c) over MPI: built, with the MPI
 * compiler flags, only where Open MPI's pkg-config (ompi-c) or mpicc is found; scan_nompi.c
 * stands in for it otherwise. Only the main thread calls MPI (MPI_THREAD_FUNNELED): rank 0's
 * own worker is a thread that never does. Waits poll and sleep instead of spinning in MPI, so a
 * rank waiting for work leaves the cores to the ranks hashing beside it. */
#include "scan_dist.h"

#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct pending { MPI_Request rq; char *buf; } pending;
static pending *sends;
static int nsends, capsends;

int dist_net_available(void) { return 1; }

int dist_net_init(int *rank, int *size, char *why, size_t whylen)
{
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        snprintf(why, whylen, "--mpi: MPI_Init failed (start vigil with mpirun or srun)");
        return -1;
    }
    if (provided < MPI_THREAD_FUNNELED) {
        snprintf(why, whylen, "--mpi: this MPI library does not let a threaded program call it from its main thread (MPI_THREAD_FUNNELED)");
        MPI_Finalize();
        return -1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return 0;
}

int dist_net_bcast_int(int v)
{
    MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return v;
}

int dist_net_min_int(int v)
{
    int r = v;
    MPI_Allreduce(&v, &r, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return r;
}

/* Frees the copies of sends that have gone. */
static void reap(void)
{
    for (int i = 0; i < nsends;) {
        int done = 0;
        MPI_Test(&sends[i].rq, &done, MPI_STATUS_IGNORE);
        if (!done) { i++; continue; }
        free(sends[i].buf);
        sends[i] = sends[--nsends];
    }
}

static int take(MPI_Status *st, char **buf, int *len)
{
    int n = 0;
    MPI_Get_count(st, MPI_BYTE, &n);
    *buf = malloc((size_t)n + 1);
    if (!*buf) return -1;
    MPI_Recv(*buf, n, MPI_BYTE, st->MPI_SOURCE, st->MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    *len = n;
    return 0;
}

int dist_net_poll(int *from, int *tag, char **buf, int *len)
{
    int flag = 0;
    MPI_Status st;
    reap();
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st);
    if (!flag) return 0;
    *from = st.MPI_SOURCE;
    *tag = st.MPI_TAG;
    return take(&st, buf, len) ? 0 : 1;
}

int dist_net_recv(int from, int tag, char **buf, int *len)
{
    long ns = 20000;
    for (;;) {
        int flag = 0;
        MPI_Status st;
        reap();
        MPI_Iprobe(from, tag, MPI_COMM_WORLD, &flag, &st);
        if (flag) return take(&st, buf, len);
        struct timespec t = {0, ns};
        nanosleep(&t, NULL);
        if (ns < 1000000) ns *= 2;
    }
}

int dist_net_send(int to, int tag, const void *buf, int len)
{
    if (nsends == capsends) {
        int c = capsends ? capsends * 2 : 16;
        pending *p = realloc(sends, (size_t)c * sizeof *p);
        if (!p) return -1;
        sends = p;
        capsends = c;
    }
    char *copy = malloc(len ? (size_t)len : 1);
    if (!copy) return -1;
    if (len) memcpy(copy, buf, (size_t)len);
    pending *p = &sends[nsends];
    if (MPI_Isend(copy, len, MPI_BYTE, to, tag, MPI_COMM_WORLD, &p->rq) != MPI_SUCCESS) { free(copy); return -1; }
    p->buf = copy;
    nsends++;
    return 0;
}

void dist_net_finalize(void)
{
    while (nsends) { /* deliver what is left, sleeping rather than spinning */
        reap();
        if (nsends) { struct timespec t = {0, 200000}; nanosleep(&t, NULL); }
    }
    free(sends);
    sends = NULL;
    capsends = 0;
    MPI_Finalize();
}

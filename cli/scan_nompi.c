/* scan_nompi.c - stands in for scan_mpi.c in a vigil built without MPI: --mpi says so and how to
 * get it; a --resume of a scan made with --mpi still runs (one rank, no MPI needed). */
#include "scan_dist.h"

int dist_net_available(void) { return 0; }

int dist_net_init(int *rank, int *size, char *why, size_t whylen)
{
    *rank = 0;
    *size = 1;
    snprintf(why, whylen, "--mpi: this vigil was built without MPI (neither pkg-config ompi-c nor mpicc was found when it was "
             "built); install Open MPI (Debian: libopenmpi-dev openmpi-bin) and rebuild, or split the scan with --shard K/N and "
             "`vigil scan merge`. A --resume of a scan made with --mpi runs without it.");
    return -1;
}

int dist_net_bcast_int(int v) { return v; }
int dist_net_min_int(int v) { return v; }
int dist_net_poll(int *from, int *tag, char **buf, int *len) { (void)from; (void)tag; (void)buf; (void)len; return 0; }
int dist_net_recv(int from, int tag, char **buf, int *len) { (void)from; (void)tag; (void)buf; (void)len; return -1; }
int dist_net_send(int to, int tag, const void *buf, int len) { (void)to; (void)tag; (void)buf; (void)len; return -1; }
void dist_net_finalize(void) {}

/* serve_rooms.c - the room index (.vgr) of `vigil serve`, reloadable as the banks are: the file
 * read into a reference-counted snapshot; a request holds one from start to end, a reload (the
 * file replaced by rename, SIGHUP) reads and checks the new file with no lock held and swaps the
 * pointer under a mutex held for that copy alone, so a swap never fails or blocks a query, and the
 * old index is freed by whichever request ends last. A file that fails its checks is refused and
 * the loaded version kept.
 *
 * Memory: the room index as vigil.h states it (about 78 KB per reference image at 1000 features),
 * two of them while a reload reads the next one, and one more for each old version that a request
 * still holds (a query holds its version for the length of one RANSAC verification). */
#include "serve.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct srv_rsnap {
    atomic_int refs;
    vigil_rooms *r;
};

struct srv_rooms {
    char *path;
    pthread_mutex_t slock; /* guards cur: held only to copy the pointer and take a reference */
    pthread_mutex_t rlock; /* one reload at a time (the reload thread; kept for safety) */
    srv_rsnap *cur;
    atomic_uint_fast64_t reloads;
};

static srv_rsnap *rsnap_open(const char *path, char *why, size_t whylen)
{
    srv_rsnap *s = calloc(1, sizeof *s);
    vigil_error err;
    if (!s) { snprintf(why, whylen, "%s: out of memory", path); return NULL; }
    if (vigil_rooms_open(path, &s->r, &err)) {
        snprintf(why, whylen, "%s: %s", path, err.message);
        free(s);
        return NULL;
    }
    atomic_init(&s->refs, 1);
    return s;
}

srv_rooms *srv_rooms_open(const char *path, char *why, size_t whylen)
{
    srv_rooms *x = calloc(1, sizeof *x);
    if (!x || !(x->path = strdup(path))) { free(x); snprintf(why, whylen, "out of memory"); return NULL; }
    pthread_mutex_init(&x->slock, NULL);
    pthread_mutex_init(&x->rlock, NULL);
    if (!(x->cur = rsnap_open(path, why, whylen))) { srv_rooms_free(x); return NULL; }
    return x;
}

void srv_rooms_free(srv_rooms *x)
{
    if (!x) return;
    srv_rsnap_release(x->cur);
    pthread_mutex_destroy(&x->slock);
    pthread_mutex_destroy(&x->rlock);
    free(x->path);
    free(x);
}

const char *srv_rooms_path(const srv_rooms *x) { return x->path; }
uint64_t srv_rooms_reloads(srv_rooms *x) { return atomic_load(&x->reloads); }

srv_rsnap *srv_rooms_acquire(srv_rooms *x)
{
    pthread_mutex_lock(&x->slock);
    srv_rsnap *s = x->cur;
    atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&x->slock);
    return s;
}

const vigil_rooms *srv_rsnap_rooms(const srv_rsnap *s) { return s->r; }

void srv_rsnap_release(srv_rsnap *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        vigil_rooms_free(s->r);
        free(s);
    }
}

int srv_rooms_reload(srv_rooms *x, int force, char *why, size_t whylen)
{
    pthread_mutex_lock(&x->rlock);
    srv_rsnap *cur = srv_rooms_acquire(x);
    vigil_source_state state = vigil_rooms_source_state(cur->r, NULL);
    srv_rsnap_release(cur);
    int rc = 0;
    if (force || state != VIGIL_SOURCE_SAME) {
        /* the slow part (read and check the whole file) holds no lock that a query takes */
        srv_rsnap *s = rsnap_open(x->path, why, whylen);
        if (!s) rc = -1;
        else {
            pthread_mutex_lock(&x->slock);
            srv_rsnap *old = x->cur;
            x->cur = s;
            pthread_mutex_unlock(&x->slock);
            srv_rsnap_release(old);
            atomic_fetch_add(&x->reloads, 1);
            rc = 1;
        }
    }
    pthread_mutex_unlock(&x->rlock);
    return rc;
}

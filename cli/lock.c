/* lock.c - locks between vigil processes.
 *
 * A scan holds OUTDIR/scan.lock for its whole run, so a second scan or --resume on the same
 * OUTDIR is refused at once, naming the holder (its PID, host and command, which the holder
 * writes into the file). It is an open-file-description lock (F_OFD_SETLK): the kernel drops it
 * when the holder dies, kill -9 included, and, unlike a classic POSIX lock, closing some other
 * descriptor of the same file does not drop it (a scan reads its own OUTDIR when it scans a
 * folder above it).
 *
 * A writer of an index or room index holds flock(LOCK_EX) on the file it replaces, from before
 * it reads it until after the rename of its new version. The rename puts a new file at the path,
 * so a writer that waited on the old one finds, once it has the lock, that the path names another
 * file, and locks that one instead: the second of two `index add` reads the first one's result.
 * Readers take no lock (they need no write access anywhere): they see the old file or the new.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void nap_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) && errno == EINTR) {}
}

/* flock, waiting when another holds it; on NFS an exclusive flock needs a descriptor open for
 * writing, so EBADF retries with one. */
static int lock_exclusive(const char *path, int *fd, int *said)
{
    for (int rw = 0; rw < 2; rw++) {
        if (rw) {
            int w = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
            if (w < 0) return -1;
            close(*fd);
            *fd = w;
        }
        int r = flock(*fd, LOCK_EX | LOCK_NB);
        if (r && errno == EWOULDBLOCK) {
            if (!*said) cli_warn("%s: waiting for another vigil that is writing it", path);
            *said = 1;
            while ((r = flock(*fd, LOCK_EX)) && errno == EINTR) {}
        }
        if (!r) return 0;
        if (errno != EBADF) return -1;
    }
    return -1;
}

int cli_lock_writer(const char *path, int *fd, char *why, size_t whylen)
{
    *fd = -1;
    int said = 0;
    for (;;) {
        struct stat a, b;
        /* nothing to lock where there is no regular file yet; the writer's own checks refuse the rest */
        if (stat(path, &a) || !S_ISREG(a.st_mode)) return 1;
        int f = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (f < 0) {
            if (errno == ENOENT) continue;
            snprintf(why, whylen, "cannot open it to lock it: %s", strerror(errno));
            return -1;
        }
        if (lock_exclusive(path, &f, &said)) {
            snprintf(why, whylen, "cannot lock it (%s): another vigil writing it at the same time could lose this change",
                     strerror(errno));
            close(f);
            return -1;
        }
        if (!fstat(f, &a) && !stat(path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            *fd = f;
            return 0;
        }
        close(f); /* replaced while we waited: lock the new file */
    }
}

void cli_unlock(int fd)
{
    if (fd >= 0) close(fd);
}

/* The command line of process pid ("self" for ours), spaces between the arguments. */
static void cmdline_of(const char *pid, char *out, size_t n)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%s/cmdline", pid);
    out[0] = 0;
    int f = open(p, O_RDONLY | O_CLOEXEC);
    if (f < 0) return;
    ssize_t r = read(f, out, n - 1);
    close(f);
    if (r <= 0) { out[0] = 0; return; }
    while (r > 0 && out[r - 1] == 0) r--;
    for (ssize_t i = 0; i < r; i++)
        if (out[i] == 0 || out[i] == '\n') out[i] = ' ';
    out[r] = 0;
}

/* Who holds the lock, from what it wrote: "PID 123 on HOST: COMMAND". It writes just after it
 * takes the lock, so an empty file is read again for a moment. */
static void describe_holder(int f, char *out, size_t n)
{
    char text[2048] = "";
    for (int tries = 0; tries < 100; tries++) {
        ssize_t r = pread(f, text, sizeof text - 1, 0);
        text[r > 0 ? r : 0] = 0;
        if (r > 0 && strchr(text, '\n')) break;
        nap_ms(10);
    }
    long pid = 0;
    char host[256] = "", me[256] = "", cmd[1024] = "";
    const char *c = strstr(text, "\ncommand: ");
    if (c) snprintf(cmd, sizeof cmd, "%s", c + 10);
    cmd[strcspn(cmd, "\n")] = 0;
    if (sscanf(text, "pid %ld host %255s", &pid, host) < 1 || pid <= 0) {
        snprintf(out, n, "a process that has not yet said which");
        return;
    }
    gethostname(me, sizeof me - 1);
    if (!strcmp(host, me)) { /* the live command line, when it is this machine's */
        char ps[32], live[1024];
        snprintf(ps, sizeof ps, "%ld", pid);
        cmdline_of(ps, live, sizeof live);
        if (live[0]) snprintf(cmd, sizeof cmd, "%s", live);
    }
    snprintf(out, n, "PID %ld on %s: %s", pid, host[0] ? host : "?", cmd[0] ? cmd : "?");
}

int cli_lock_outdir(const char *dir, int *fd, char *why, size_t whylen)
{
    *fd = -1;
    size_t len = strlen(dir) + 16;
    char *path = malloc(len);
    if (!path) { snprintf(why, whylen, "out of memory"); return -1; }
    snprintf(path, len, "%s/scan.lock", dir);
    int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    struct stat st;
    if (f < 0 || fstat(f, &st) || !S_ISREG(st.st_mode)) {
        snprintf(why, whylen, "%s: cannot open the scan's lock file: %s", path, f < 0 ? strerror(errno) : "not a regular file");
        if (f >= 0) close(f);
        free(path);
        return -1;
    }
    struct flock l;
    memset(&l, 0, sizeof l);
    l.l_type = F_WRLCK;
    l.l_whence = SEEK_SET;
    int r = fcntl(f, F_OFD_SETLK, &l);
    if (r && errno == EINVAL) r = flock(f, LOCK_EX | LOCK_NB); /* kernels before 3.15 */
    if (r) {
        int e = errno;
        if (e == EAGAIN || e == EACCES || e == EWOULDBLOCK) {
            char who[1400];
            describe_holder(f, who, sizeof who);
            snprintf(why, whylen, "%s is in use by another scan (%s); wait for it to end, or choose another -o", dir, who);
        } else {
            snprintf(why, whylen, "%s: cannot lock: %s", path, strerror(e));
        }
        close(f);
        free(path);
        return -1;
    }
    free(path);
    char host[256] = "", cmd[1024], text[1400];
    gethostname(host, sizeof host - 1);
    host[strcspn(host, " \n")] = 0;
    cmdline_of("self", cmd, sizeof cmd);
    int n = snprintf(text, sizeof text, "pid %ld host %s\ncommand: %s\n", (long)getpid(), host[0] ? host : "?",
                     cmd[0] ? cmd : "vigil scan");
    if (n > (int)sizeof text - 1) n = (int)sizeof text - 1;
    if (ftruncate(f, 0) || pwrite(f, text, (size_t)n, 0) != n) {} /* only the message of a refused scan needs it */
    *fd = f;
    return 0;
}

void cli_unlock_outdir(int fd)
{
    if (fd < 0) return;
    if (ftruncate(fd, 0)) {} /* a stale PID would only mislead whoever reads the file */
    close(fd);
}

void cli_test_pause(const char *point, unsigned long n)
{
    const char *spec = getenv("VIGIL_TEST_PAUSE");
    size_t pl = strlen(point);
    if (!spec || strncmp(spec, point, pl) || spec[pl] != ':') return;
    char *end;
    unsigned long want = strtoul(spec + pl + 1, &end, 10);
    if (want != n || *end != ':' || !end[1]) return;
    size_t len = strlen(end + 1) + 8;
    char *p = malloc(len);
    if (!p) return;
    snprintf(p, len, "%s.ready", end + 1);
    int f = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (f >= 0) close(f);
    snprintf(p, len, "%s.go", end + 1);
    for (int i = 0; i < 12000 && access(p, F_OK); i++) nap_ms(10); /* at most 2 minutes */
    free(p);
}

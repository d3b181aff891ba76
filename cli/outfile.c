/* outfile.c - where the CLI writes: output targets checked (regular files only, never an input),
 * written to a temporary sibling, fsync'd, renamed into place, and the folder fsync'd. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_output_ok(const char *path, char *why, size_t whylen)
{
    struct stat st;
    if (!path || lstat(path, &st) || S_ISREG(st.st_mode)) return 0;
    snprintf(why, whylen, "%s: is %s: not replaced (an output must be a regular file or not exist yet)", path,
             cli_file_kind(st.st_mode));
    return -1;
}

int cli_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Whether path (which exists) lies somewhere under the folder dir. */
static int inside(const char *path, const char *dir)
{
    char *rp = realpath(path, NULL), *rd = realpath(dir, NULL);
    size_t n = rd ? strlen(rd) : 0;
    int in = rp && rd && (n == 1 || (!strncmp(rp, rd, n) && rp[n] == '/'));
    free(rp);
    free(rd);
    return in;
}

int cli_check_output(const char *path, char *const *inputs, int n, char *why, size_t whylen)
{
    if (cli_output_ok(path, why, whylen)) return -1;
    struct stat out, in;
    if (!path || stat(path, &out)) return 0; /* a file that does not exist yet is no input */
    for (int i = 0; i < n; i++) {
        if (!strcmp(inputs[i], "-") || stat(inputs[i], &in)) continue;
        if (in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
            snprintf(why, whylen, "%s: is also an input (%s): writing it would destroy that input", path, inputs[i]);
            return -1;
        }
        if (S_ISDIR(in.st_mode) && inside(path, inputs[i])) {
            snprintf(why, whylen, "%s: lies in the input folder %s and would be read as an input, then replaced; "
                     "write the output elsewhere", path, inputs[i]);
            return -1;
        }
    }
    return 0;
}

/* The temporary file of the output being written: a walk of an input folder that holds it skips it. */
static struct { int set; dev_t dev; ino_t ino; } own;

int cli_is_own_output(const char *path)
{
    struct stat st;
    return own.set && !stat(path, &st) && st.st_dev == own.dev && st.st_ino == own.ino;
}

FILE *cli_open_output(const char *path, char **tmp, char *why, size_t whylen)
{
    *tmp = NULL;
    if (!path) return stdout;
    if (cli_output_ok(path, why, whylen)) return NULL;
    size_t n = strlen(path) + 32;
    if (!(*tmp = malloc(n))) { snprintf(why, whylen, "out of memory"); return NULL; }
    snprintf(*tmp, n, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        snprintf(why, whylen, "%s: cannot create a temporary file next to it: %s", path, strerror(errno));
        free(*tmp);
        *tmp = NULL;
        return NULL;
    }
    /* mkstemp makes 0600: keep the mode of the file replaced, else the usual 0644 */
    struct stat old;
    fchmod(fd, lstat(path, &old) == 0 ? (old.st_mode & 07777) : 0644);
    if (!fstat(fd, &old)) { own.set = 1; own.dev = old.st_dev; own.ino = old.st_ino; }
    FILE *f = fdopen(fd, "w");
    if (!f) {
        snprintf(why, whylen, "%s: %s", path, strerror(errno));
        close(fd);
        unlink(*tmp);
        free(*tmp);
        *tmp = NULL;
    }
    return f;
}

FILE *cli_open_output_in(const char *dir, const char *name, char **tmp, char *path, size_t pathlen, char *why,
                         size_t whylen)
{
    *tmp = NULL;
    if ((size_t)snprintf(path, pathlen, "%s/%s", dir, name) >= pathlen) {
        snprintf(why, whylen, "%s/%s: path too long", dir, name);
        return NULL;
    }
    return cli_open_output(path, tmp, why, whylen);
}

int cli_commit_output(FILE *f, const char *tmp, const char *path)
{
    if (!tmp) return fflush(f) || ferror(f) ? -1 : 0;
    own.set = 0;
    int bad = fflush(f) || ferror(f) || fsync(fileno(f));
    bad |= fclose(f);
    /* lstat once more: whatever took the name meanwhile, a link or a device is not replaced */
    struct stat st;
    if (!bad && lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) { bad = 1; errno = EEXIST; }
    if (bad || rename(tmp, path)) { int e = errno; unlink(tmp); errno = e; return -1; }
    /* the rename reaches the disk only with its folder */
    char *dir = strdup(path);
    if (dir) {
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) { fsync(dfd); close(dfd); }
        free(dir);
    }
    return 0;
}

/* cli.h - shared pieces of the vigil program: path walking, output formats, messages. */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include "vigil.h"
#include <stdio.h>

#define EXIT_ALL_OK 0
#define EXIT_SOME_FAILED 1
#define EXIT_USAGE 2

extern const char *cli_prog;
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* walk.c: streams the files under the given paths, depth-first, each directory's entries sorted
 * by name. Memory grows with the depth and the widest directory, never with the tree. */
typedef struct cli_walk cli_walk;
cli_walk *cli_walk_new(char **paths, int npaths);
/* Next item: 1 with *path set (malloc'd, caller frees) and *error NULL for a file to process, or
 * *error set (malloc'd) for a path that cannot be processed; 0 at the end. */
int cli_walk_next(cli_walk *w, char **path, char **error);
void cli_walk_free(cli_walk *w);

/* output.c */
typedef enum { FMT_TSV, FMT_CSV, FMT_JSONL } cli_format;
int cli_parse_format(const char *s, cli_format *f);
/* A row writer: call cli_row_begin, then cli_field_* once per column, then cli_row_end.
 * Header names are given once with cli_header. */
typedef struct cli_out {
    FILE *f;
    cli_format fmt;
    const char **names;
    int ncols, col;
} cli_out;
void cli_header(cli_out *o, const char **names, int ncols);
void cli_row_begin(cli_out *o);
void cli_field_str(cli_out *o, const char *s);      /* NULL: empty / JSON null */
void cli_field_path(cli_out *o, const char *s);     /* raw bytes of a file name */
void cli_field_int(cli_out *o, long long v, int present);
void cli_field_raw(cli_out *o, const char *json);   /* JSON: emitted as is (object/array) */
void cli_row_end(cli_out *o);
/* Length of the valid UTF-8 sequence at s (1-4), or 0 for a byte that does not start one. */
int cli_utf8_len(const unsigned char *s);
/* A JSON string literal; bytes that are not valid UTF-8 become U+FFFD and make it return 1. */
int cli_json_str(FILE *f, const char *s);
/* "key":"name" and, when the name is not valid UTF-8, ,"key_hex":"<its bytes>" */
void cli_json_path(FILE *f, const char *key, const char *name);
/* Writes s escaped for a TSV cell: \t \n \r \\ and bytes that are not valid UTF-8 as \xHH. */
void cli_tsv_escape(FILE *f, const char *s);

/* progress.c: one updating line on a terminal, nothing when stderr is not a tty. */
typedef struct cli_progress {
    int enabled;
    double start, last;
    unsigned long long files, bytes, failed, found;
    const char *verb;
} cli_progress;
void cli_progress_init(cli_progress *p, int quiet, const char *verb);
void cli_progress_update(cli_progress *p, int force);
void cli_progress_done(cli_progress *p);
double cli_now(void);

/* inputs.c */
char *cli_read_all(const char *path, size_t *n, char *why, size_t whylen);
int cli_is_list(const char *path);
int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out);
/* One hashed file: walk_error is set for a path the walk could not use (then rc is meaningless),
 * else rc/err/res are vigil_hash_file's. fn owns path (free it). Return non-zero to stop. */
typedef int (*cli_hashed_fn)(char *path, const char *walk_error, vigil_result rc, const vigil_error *err,
                             const vigil_hash_result *res, void *ctx);
void cli_hash_tree(char **paths, int n, const vigil_hash_options *opt, int threads, cli_hashed_fn fn, void *ctx);
/* cmd_hash.c: output file opened as a temporary sibling, renamed into place by commit */
FILE *cli_open_output(const char *path, char **tmp);
int cli_commit_output(FILE *f, const char *tmp, const char *path);

/* lock.c: a writer's exclusive lock on the file it is about to replace (waits for another
 * writer, saying so): 0 locked (*fd to cli_unlock), 1 no regular file there (nothing to lock),
 * -1 failed (why). */
int cli_lock_writer(const char *path, int *fd, char *why, size_t whylen);
void cli_unlock(int fd);
/* A scan's lock on OUTDIR (OUTDIR/scan.lock), never waited for: 0 locked, -1 with why naming
 * the holder (PID, host, command) or the error. */
int cli_lock_outdir(const char *dir, int *fd, char *why, size_t whylen);
void cli_unlock_outdir(int fd);
/* Test hook: with VIGIL_TEST_PAUSE=POINT:N:FILE, the N-th arrival at POINT creates FILE.ready
 * and waits (2 minutes at most) until FILE.go exists, so that a test acts at an exact moment. */
void cli_test_pause(const char *point, unsigned long n);

int cmd_hash(int argc, char **argv);
void help_hash(FILE *f);
int cmd_index(int argc, char **argv);
void help_index(FILE *f);
int cmd_match(int argc, char **argv);
int cmd_scan(int argc, char **argv);
void help_scan(FILE *f);
void help_match(FILE *f);
int cmd_rooms(int argc, char **argv);
void help_rooms(FILE *f);
/* cmd_rooms.c: the features of one image file (read whole, decoded at the working size); err
 * says why not (unreadable, empty, not an image). */
vigil_result cli_features_of_file(const char *path, const vigil_feature_options *fo, vigil_features *f, vigil_error *err);

#endif

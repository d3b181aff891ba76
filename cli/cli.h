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

/* inputs.c: files read by name are opened O_NONBLOCK | O_NOCTTY | O_CLOEXEC and checked with fstat:
 * a directory, FIFO, device or socket is refused naming what it is; sizes are capped. Lists and other
 * text are read whole, up to VIGIL_MAX_LIST_BYTES (default 4 GiB; cli_limits_init reads it); images
 * the CLI reads itself (rooms, masks, report thumbnails) up to the hash default, 1 GiB. */
#define CLI_DEFAULT_MAX_LIST_BYTES (4ull << 30)
#define CLI_LIST_RAISE "VIGIL_MAX_LIST_BYTES raises it"
int cli_limits_init(void); /* 0, or -1 after saying what is wrong with VIGIL_MAX_LIST_BYTES */
uint64_t cli_list_max(void);
uint64_t cli_image_max(void);
const char *cli_file_kind(unsigned mode); /* "a FIFO", "a character device", ... */
/* A descriptor of the regular file path, blocking again after the open, *size from fstat; or -1
 * (why says it: "is a FIFO, not a regular file", "cannot open: ...") or -2 (over max; 0 = none).
 * why may be NULL. */
int cli_open_regular(const char *path, uint64_t max, uint64_t *size, char *why, size_t whylen);
/* All of path ("-" = standard input, under the same cap) in a malloc'd buffer; NULL with why.
 * raise, when not NULL, is added to a message about the cap. */
char *cli_read_all(const char *path, uint64_t max, const char *raise, size_t *n, char *why, size_t whylen);
int cli_is_list(const char *path);
int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out);
/* One hashed file: walk_error is set for a path the walk could not use (then rc is meaningless),
 * else rc/err/res are vigil_hash_file's. fn owns path (free it). Return non-zero to stop. */
typedef int (*cli_hashed_fn)(char *path, const char *walk_error, vigil_result rc, const vigil_error *err,
                             const vigil_hash_result *res, void *ctx);
void cli_hash_tree(char **paths, int n, const vigil_hash_options *opt, int threads, cli_hashed_fn fn, void *ctx);
/* cmd_hash.c: outputs. An output that exists must be a regular file: a symbolic link, device, FIFO,
 * socket or folder there is refused (lstat), never replaced. 0, or -1 with why (naming path). */
int cli_output_ok(const char *path, char *why, size_t whylen);
/* The same, and path must not be one of the inputs (same file) nor, when it exists, lie inside an
 * input folder: writing it would destroy an input. "-" inputs are skipped. */
int cli_check_output(const char *path, char *const *inputs, int n, char *why, size_t whylen);
int cli_same_file(const char *a, const char *b); /* both exist and are one file */
/* -o FILE opened as a temporary sibling (stdout for NULL); commit fsyncs it, renames it into place
 * and fsyncs the folder. NULL with why (naming the path) when it cannot be opened or is refused. */
FILE *cli_open_output(const char *path, char **tmp, char *why, size_t whylen);
int cli_commit_output(FILE *f, const char *tmp, const char *path);
/* Whether path is the temporary file of the output being written (a walk skips it). */
int cli_is_own_output(const char *path);

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

/* cli.h - shared pieces of the vigil program: path walking, output formats, messages. */
#ifndef VIGIL_CLI_H
#define VIGIL_CLI_H

#include "vigil.h"
#include <stdio.h>

#define EXIT_ALL_OK 0
#define EXIT_SOME_FAILED 1
#define EXIT_USAGE 2

/* msg.c: messages, one line on stderr after the program's name. */
extern const char *cli_prog;
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The rules every command's --help states where they apply. */
#define CLI_HELP_LINKS                                                                            \
    "Symbolic links inside a folder are followed while they stay inside the folder given; one\n"  \
    "that leads out of it is not followed but reported as a failure (exit status 1), unless\n"    \
    "--follow-links. A link named on the command line is always followed.\n"
#define CLI_HELP_CELLS                                                                            \
    "In TSV and CSV a text cell (path, id, label, name) that begins with = + - or @ gets a\n"      \
    "leading ' so that a spreadsheet shows it instead of running it as a formula; vigil's list\n" \
    "readers take it off again. Numbers and hashes are never changed.\n"

/* walk.c: streams the files under the given paths, depth-first, each directory's entries sorted
 * by name. Memory grows with the depth and the widest directory, never with the tree. A symbolic
 * link met inside a directory is followed only when it resolves inside the root path it was
 * found under, or when cli_follow_links is set (--follow-links); otherwise it comes back as an
 * error beginning "skipped:". */
extern int cli_follow_links;
typedef struct cli_walk cli_walk;
cli_walk *cli_walk_new(char **paths, int npaths);
/* Next item: 1 with *path set (malloc'd, caller frees) and *error NULL for a file to process, or
 * *error set (malloc'd) for a path that cannot be processed; 0 at the end. */
int cli_walk_next(cli_walk *w, char **path, char **error);
/* Whether the item cli_walk_next returned last was reached through a symbolic link met inside a
 * folder (the link itself or a linked folder on its way). */
int cli_walk_via_link(const cli_walk *w);
/* The root (command-line path or stdin line) the item cli_walk_next returned last was found under. */
const char *cli_walk_root(const cli_walk *w);
void cli_walk_free(cli_walk *w);
/* Parts of a walk (scan --mpi hands them between processes, scan_dist.c): the folders from the
 * root down to one folder (paths and dev/ino, for the loop check) and the names of that folder
 * still to walk, sorted. cli_walk_from walks such a part as the walk of root would (taking p's
 * arrays); cli_walk_split gives away the second half of what is left of the shallowest folder
 * that has names left (of a folder being listed now, never its next name): 1 given, 0 nothing. */
typedef struct cli_walk_part {
    size_t nanc, n;
    char **dirs, **names;
    uint64_t *dev, *ino;
    int via_link;
} cli_walk_part;
cli_walk *cli_walk_from(const char *root, cli_walk_part *p);
int cli_walk_split(cli_walk *w, cli_walk_part *p);
void cli_walk_part_free(cli_walk_part *p);

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
/* Writes s escaped for a TSV cell: \t \n \r \\, and bytes that are not valid UTF-8 or belong to a
 * bidirectional control character as \xHH. */
void cli_tsv_escape(FILE *f, const char *s);
/* The code point when the valid UTF-8 sequence at s is a bidirectional control (U+202A-202E,
 * U+2066-2069, U+200E, U+200F, U+061C), else 0. */
unsigned cli_bidi_control(const unsigned char *s);
/* Whether a TSV/CSV text cell must get a leading ' so that spreadsheets do not run it. */
int cli_cell_needs_guard(const char *s);

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
 * a directory, FIFO, device or socket is refused naming what it is; sizes are capped. Hash lists are
 * streamed and other text (room lists) read whole, up to VIGIL_MAX_LIST_BYTES (default 4 GiB; cli_limits_init reads it); images
 * the CLI reads itself (rooms, masks, report thumbnails) up to 1 GiB. */
#define CLI_DEFAULT_MAX_LIST_BYTES (4ull << 30)
#define CLI_DEFAULT_MAX_IMAGE_BYTES (1ull << 30)
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
/* Parses the list at path ("-" = standard input) in a stream (vigil_list_parse_stream): memory
 * grows with the entries the callbacks keep, not with the list; the cap still holds, as it does for
 * a whole read. 0, or -1 with why (the entries before a failure have been delivered). */
int cli_parse_list(const char *path, vigil_list_entry_fn on_entry, vigil_list_error_fn on_error, void *ctx, char *why,
                   size_t whylen);
int cli_is_list(const char *path);
/* Whether bytes from the start of a file are a text list (not an image): see inputs.c. */
int cli_looks_like_list(const unsigned char *b, size_t n);
/* parse.c: option values, parsed strictly (parse.c says how). cli_parse_* print a message naming the
 * option, the range and the value, and return -1; cli_strict_* are the same tests, silent. */
int cli_parse_int(const char *opt, const char *s, int lo, int hi, int *out);
int cli_strict_int(const char *s, long long lo, long long hi, long long *out);
/* suffixes: K, M, G or T (optionally followed by B or iB) multiply by 1024^1..4 */
int cli_parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, int suffixes, uint64_t *out);
int cli_strict_u64(const char *s, uint64_t lo, uint64_t hi, int suffixes, uint64_t *out);
int cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out);
int cli_strict_double(const char *s, double lo, double hi, double *out);
/* X,Y,W,H in pixels, W and H above 0 */
int cli_parse_rect(const char *opt, const char *s, vigil_rect *r);
int cli_strict_rect(const char *s, vigil_rect *r);
/* "key=value key=value": NULL, or what is wrong with it */
int cli_parse_labels(const char *opt, const char *s);
const char *cli_labels_problem(const char *s);
/* A room list (CSV or TSV with a header naming a path column) in text[0..len), which must have a
 * byte to spare at text[len]; modified in place. fn gets each good row's path (relative to the
 * list's folder) and labels "column=value ...", both malloc'd and then its own; a non-zero return
 * stops. Bad rows are reported as LIST:LINE and counted in *bad. Returns -1 when the list could not
 * be read as a whole or fn stopped it, else 0. */
typedef int (*cli_ref_fn)(char *path, char *labels, void *ctx);
int cli_room_list_parse(const char *list, char *text, size_t len, cli_ref_fn fn, void *ctx, unsigned long long *bad);
/* One hashed file: walk_error is set for a path the walk could not use (then rc is meaningless),
 * else rc/err/res are vigil_hash_file's. fn owns path (free it). Return non-zero to stop. */
typedef int (*cli_hashed_fn)(char *path, const char *walk_error, vigil_result rc, const vigil_error *err,
                             const vigil_hash_result *res, void *ctx);
void cli_hash_tree(char **paths, int n, const vigil_hash_options *opt, int threads, cli_hashed_fn fn, void *ctx);
/* outfile.c: outputs. An output that exists must be a regular file: a symbolic link, device, FIFO,
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
/* cli_open_output of dir/name (a scan's reports); the joined name goes to path[0..pathlen). */
FILE *cli_open_output_in(const char *dir, const char *name, char **tmp, char *path, size_t pathlen, char *why,
                         size_t whylen);
/* Whether path is the temporary file of the output being written (a walk skips it). */
int cli_is_own_output(const char *path);

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

/* The commands, one file each (cmd_NAME.c), dispatched through main.c's table. A command file
 * uses the helpers declared here and the library, never another command's file. */
typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command's name */
    void (*help)(FILE *f);             /* `vigil help NAME`, `vigil NAME --help` */
    const char *summary;               /* its line in `vigil --help` */
} cli_command;
int cmd_hash(int argc, char **argv);
void help_hash(FILE *f);
int cmd_index(int argc, char **argv);
void help_index(FILE *f);
int cmd_match(int argc, char **argv);
void help_match(FILE *f);
int cmd_scan(int argc, char **argv);
void help_scan(FILE *f);
int cmd_rooms(int argc, char **argv);
void help_rooms(FILE *f);
int cmd_serve(int argc, char **argv);
void help_serve(FILE *f);
int cmd_video(int argc, char **argv);
void help_video(FILE *f);
int cmd_review(int argc, char **argv);
void help_review(FILE *f);

#endif

/* archives.h - the walk with archives opened (archives.c): files, and the members of the archives
 * among them (sniffed by content), each an input that is hashed like a file, from memory. Used by
 * `vigil scan`, `vigil hash` and `vigil match`. Paths: docs/archives.md. */
#ifndef VIGIL_CLI_ARCHIVES_H
#define VIGIL_CLI_ARCHIVES_H

#include "cli.h"

enum { CLI_IN_FILE = 0,    /* a file on disk, read by path */
       CLI_IN_MEMBER = 1,  /* an archive member: data in memory, or no data (encrypted, unreadable) */
       CLI_IN_ARCHIVE = 2  /* an archive itself (file or member), after its members: digests only */ };

typedef struct cli_input {
    char *path;            /* malloc'd; outer.zip!/dir/inner.zip!/photo.jpg for a member */
    char *err;             /* a walk error, or "skipped: ..." for a member that is not a file */
    int link, kind;
    uint8_t *data;         /* the bytes of a member or nested archive (NULL: read path) */
    size_t size;
    uint32_t mflags;       /* VIGIL_MEMBER_* */
    uint64_t declared;     /* a member's declared size (VIGIL_MEMBER_SIZE) */
    uint32_t crc32;        /* VIGIL_MEMBER_CRC */
    vigil_result status;   /* not OK: the result whatever hashing says (an archive's damage, a member
                              not read, a nested archive past the depth) */
    vigil_error why;
    char format[12];       /* an archive's format (as vigil_hash_result.format) */
    uint64_t members;
    int have_digests;      /* an outermost archive's record: digests holds its own digests,
                              taken beside the members' reads (vigil_archive_digests) */
    vigil_hash_result digests;
    vigil_digest_ticket *ticket; /* a member's digests, taken in the archive's own pass (or NULL) */
    int later;             /* its bytes are read by cli_input_hash through ticket; size is the
                              member's declared size until then */
} cli_input;

/* The archive options of the commands: --archive-depth N, --archive-ratio N, --archive-max-total
 * SIZE (getopt codes CLI_OPT_ARCHIVE...). */
enum { CLI_OPT_ADEPTH = 0x4101, CLI_OPT_ARATIO, CLI_OPT_ATOTAL };
#define CLI_ARCHIVE_LONGOPTS                                                                    \
    {"archive-depth", required_argument, 0, CLI_OPT_ADEPTH},                                    \
    {"archive-ratio", required_argument, 0, CLI_OPT_ARATIO},                                    \
    {"archive-max-total", required_argument, 0, CLI_OPT_ATOTAL}
#define CLI_HELP_ARCHIVES                                                                         \
    "Archives (zip, tar, tar.gz/bz2/xz/zst, 7z, rar; told by content) are opened and every member\n" \
    "is scanned like a file, from memory (never written to disk), under the path\n"              \
    "ARCHIVE!/MEMBER (outer.zip!/dir/inner.zip!/photo.jpg); the archive gets its own line too,\n"  \
    "with its digests, after its members. See docs/archives.md.\n"
#define CLI_HELP_ARCHIVE_OPTS                                                                      \
    "  --archive-depth N       archives inside archives opened N deep, the outermost counted\n"    \
    "                          (default 4; 0 = archives are not opened, only digested)\n"          \
    "  --archive-ratio N       refuse an archive (bomb) once its members pass N times its size\n"  \
    "                          (default 100; applies above 1 MiB)\n"                               \
    "  --archive-max-total SIZE  refuse an archive once its members pass SIZE bytes (default\n"    \
    "                          64G; K, M, G, T suffixes)\n"
/* The archive options of `vigil hash` and `vigil match` (cli_hash_tree); zero: the defaults. */
extern vigil_archive_options cli_archive_opts;
extern int cli_archives_off;
/* 1 when c was an archive option (parsed into o, *off set for depth 0), -1 bad value (said), 0 not one. */
int cli_archive_option(int c, const char *arg, vigil_archive_options *o, int *off);
/* The archive settings, for a scan's settings string. */
void cli_archive_settings(FILE *f, const vigil_archive_options *o, int off);

/* claim: called with each input's path before its data is read; 1 = done already (skipped), 0 =
 * go on, -1 = stop the walk (cli_awalk_next returns -1). NULL: everything. */
typedef int (*cli_claim_fn)(const char *path, void *ctx);
typedef struct cli_awalk cli_awalk;
/* off: archives are not opened (inputs are files only). */
cli_awalk *cli_awalk_new(char **paths, int n, const vigil_archive_options *o, int off, cli_claim_fn claim, void *ctx);
/* The same walk over the files another source hands out (scan_dist.h's scan_source: the walk, a
 * shard of it, or --mpi's batches): next returns 1 a file (path and err malloc'd), 2 a file that
 * ends the source's batch, 0 no more, -1 fatal with why. */
typedef int (*cli_path_fn)(void *ctx, char **path, char **err, int *link, char *why, size_t whylen);
cli_awalk *cli_awalk_source(cli_path_fn next, void *next_ctx, const vigil_archive_options *o, int off,
                            cli_claim_fn claim, void *ctx);
/* 1 and *in (its fields the caller's: cli_input_free), 0 at the end, -1 when claim said stop or
 * the source failed (cli_awalk_why), CLI_AWALK_BATCH_END (no input) once the members of the file
 * that ended a source's batch are all handed out. */
enum { CLI_AWALK_BATCH_END = 2 };
int cli_awalk_next(cli_awalk *w, cli_input *in);
const char *cli_awalk_why(const cli_awalk *w);
void cli_awalk_free(cli_awalk *w);
void cli_input_free(cli_input *in);

/* Hashes an input like a file (vigil_hash_file, or vigil_hash_memory for bytes in memory; an
 * archive's own record gets its digests only), then applies in->status. With features (not NULL)
 * as vigil_hash_file_features. A member read later (in->later) gets its data, size and, when the
 * read fails, status here: the input is const for the rest. Call it once per input before its
 * data is used. */
vigil_result cli_input_hash(const cli_input *in, const vigil_hash_options *opt, const vigil_features_options *fopt,
                            vigil_hash_result *r, vigil_features *features, vigil_error *ferr, vigil_error *err);
/* The fields an input adds to its results.jsonl object: ,"encrypted":true,... ,"archive":{...} */
void cli_input_json(FILE *f, const cli_input *in);

#endif

/* main.c - the vigil program: dispatches subcommands. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

const char *cli_prog = "vigil";

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cli_prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void usage(FILE *f)
{
    fprintf(f,
            "vigil %s - perceptual hashing and matching of images\n\n"
            "Usage: vigil COMMAND [OPTIONS] ...\n\n"
            "Commands:\n"
            "  hash      PDQ hashes and content digests of image files and folders\n"
            "  index     build and maintain reference indexes (build add remove compact info verify export)\n"
            "  match     match images or hash lists against one or more indexes\n"
            "  scan      scan seized media against reference sets: resumable, with reports\n"
            "  rooms     recognise the room (hotel) a photo was taken in (build add query info)\n"
            "  help CMD  detailed help of a command\n\n"
            "Options: --version, --help\n",
            vigil_version());
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (cli_limits_init()) return EXIT_USAGE;
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("vigil %s\n", vigil_version());
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "help")) {
        if (argc < 3) { usage(stdout); return 0; }
        if (!strcmp(argv[2], "hash")) { help_hash(stdout); return 0; }
        if (!strcmp(argv[2], "index")) { help_index(stdout); return 0; }
        if (!strcmp(argv[2], "match")) { help_match(stdout); return 0; }
        if (!strcmp(argv[2], "scan")) { help_scan(stdout); return 0; }
        if (!strcmp(argv[2], "rooms")) { help_rooms(stdout); return 0; }
        cli_warn("no such command: %s", argv[2]);
        return EXIT_USAGE;
    }
    if (!strcmp(cmd, "hash"))
        return cmd_hash(argc - 1, argv + 1);
    if (!strcmp(cmd, "index"))
        return cmd_index(argc - 1, argv + 1);
    if (!strcmp(cmd, "match"))
        return cmd_match(argc - 1, argv + 1);
    if (!strcmp(cmd, "scan"))
        return cmd_scan(argc - 1, argv + 1);
    if (!strcmp(cmd, "rooms"))
        return cmd_rooms(argc - 1, argv + 1);
    cli_warn("no such command: %s (try 'vigil --help')", cmd);
    return EXIT_USAGE;
}

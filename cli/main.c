/* main.c - the vigil program: finds the command in the table and runs it. A new command is one
 * row here and its cmd_NAME.c (run and help). */
#include "cli.h"

#include <string.h>

static const cli_command commands[] = {
    {"hash", cmd_hash, help_hash, "PDQ hashes and content digests of image files and folders"},
    {"index", cmd_index, help_index, "build and maintain reference indexes (build add remove compact info verify export)"},
    {"match", cmd_match, help_match, "match images or hash lists against one or more indexes"},
    {"scan", cmd_scan, help_scan, "scan seized media against reference sets: resumable, with reports"},
    {"review", cmd_review, help_review, "write the review page's decisions into a scan's results (apply)"},
    {"rooms", cmd_rooms, help_rooms, "recognise the room (hotel) a photo was taken in (build add query info)"},
    {"video", cmd_video, help_video, "vPDQ video hashes (bit-exact with vpdq-hash-video) and video matching (hash match)"},
    {"serve", cmd_serve, help_serve, "HTTP screening service with Hasher-Matcher-Actioner's API"},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const cli_command *find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (!strcmp(commands[i].name, name)) return &commands[i];
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f,
            "vigil %s - perceptual hashing and matching of images\n\n"
            "Usage: vigil COMMAND [OPTIONS] ...\n\n"
            "Commands:\n",
            vigil_version());
    for (size_t i = 0; i < NCOMMANDS; i++) fprintf(f, "  %-8s  %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "  %-8s  %s\n\nOptions: --version, --help\n", "help CMD", "detailed help of a command");
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
        const cli_command *c = find(argv[2]);
        if (!c) { cli_warn("no such command: %s", argv[2]); return EXIT_USAGE; }
        c->help(stdout);
        return 0;
    }
    const cli_command *c = find(cmd);
    if (!c) {
        cli_warn("no such command: %s (try 'vigil --help')", cmd);
        return EXIT_USAGE;
    }
    /* `vigil CMD --help` whatever the command's own parsing (rooms and index take a subcommand first) */
    if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
        c->help(stdout);
        return 0;
    }
    return c->run(argc - 1, argv + 1);
}

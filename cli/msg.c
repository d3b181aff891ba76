/* msg.c - the program's messages: one line on standard error, prefixed with the program's name. */
#include "cli.h"

#include <stdarg.h>

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

/* json_dom_memory.c FILE - the peak memory of reading a VICS export with one of Debian's
 * tree-building JSON libraries, for the choice recorded in core/json.c: the library is fed 256 KiB
 * chunks (the file itself is never held) and still keeps the whole document as a tree. Prints the
 * number of Media and the peak RSS. Bench only, not built by the Makefile; the two headers clash,
 * so one library a build (libjansson-dev, libjson-c-dev):
 *   cc -O2 -DJANSSON -o /tmp/dom-jansson bench/json_dom_memory.c $(pkg-config --cflags --libs jansson)
 *   cc -O2 -DJSONC -o /tmp/dom-json-c bench/json_dom_memory.c $(pkg-config --cflags --libs json-c) */
#include <stdio.h>
#include <sys/resource.h>
#ifdef JANSSON
#include <jansson.h>
#define NAME "jansson"
#else
#include <json-c/json.h>
#define NAME "json-c"
#endif

#ifdef JANSSON
static size_t chunk(void *buf, size_t len, void *f)
{
    return fread(buf, 1, len < (1 << 18) ? len : (1 << 18), f);
}
#endif

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: %s FILE\n", argv[0]); return 2; }
    FILE *f = fopen(argv[1], "rb");
    if (!f) { perror(argv[1]); return 1; }
    size_t media = 0;
#ifdef JANSSON
    json_error_t e;
    json_t *doc = json_load_callback(chunk, f, 0, &e);
    if (!doc) { fprintf(stderr, "jansson: %s at line %d\n", e.text, e.line); return 1; }
    media = json_array_size(json_object_get(doc, "value"));
#else
    json_tokener *tok = json_tokener_new_ex(64);
    static char buf[1 << 18];
    json_object *doc = NULL, *v;
    size_t n;
    while (!doc && (n = fread(buf, 1, sizeof buf, f)) > 0) {
        doc = json_tokener_parse_ex(tok, buf, (int)n);
        if (!doc && json_tokener_get_error(tok) != json_tokener_continue) {
            fprintf(stderr, "json-c: %s\n", json_tokener_error_desc(json_tokener_get_error(tok)));
            return 1;
        }
    }
    if (doc && json_object_object_get_ex(doc, "value", &v)) media = json_object_array_length(v);
#endif
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%s: %zu Media, peak RSS %.0f MiB\n", NAME, media, ru.ru_maxrss / 1024.0);
    return 0;
}

/* test_main.c - the runner: seeds, temp dir, fixtures, and the list of test cases. */
#include "tests.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <vips/vips.h>

int t_failed_checks;
const char *t_data_dir = "tests/data/images";
const char *t_tmp_dir;
static uint64_t rng_state;

uint64_t t_rand(void)
{
    uint64_t x = rng_state;
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return rng_state = x;
}

char *t_path(const char *dir, const char *name)
{
    static char bufs[8][4096];
    static int k;
    char *b = bufs[k++ & 7];
    snprintf(b, 4096, "%s/%s", dir, name);
    return b;
}

int t_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, n, f);
    return fclose(f) || w != n ? -1 : 0;
}

void *t_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc(len > 0 ? (size_t)len : 1);
    *n = fread(p, 1, (size_t)len, f);
    fclose(f);
    return p;
}

static const test_case cases[] = {
#define T(name) {#name, name},
#include "test_list.h"
#undef T
};

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--fixtures")) {
        if (VIPS_INIT(argv[0])) return 2;
        return write_fixtures(argv[2]) ? 2 : 0;
    }
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc) t_data_dir = argv[++i];
        else only = argv[i];
    }
    const char *seed_env = getenv("VIGIL_TEST_SEED");
    rng_state = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid();
    if (!rng_state) rng_state = 1;
    printf("# seed %llu (rerun with VIGIL_TEST_SEED=%llu)\n", (unsigned long long)rng_state,
           (unsigned long long)rng_state);
    char tmpl[] = "/tmp/vigil-tests.XXXXXX";
    t_tmp_dir = mkdtemp(tmpl);
    if (!t_tmp_dir || VIPS_INIT(argv[0])) { printf("cannot set up\n"); return 2; }
    vigil_error err;
    if (vigil_init(&err)) { printf("vigil_init: %s\n", err.message); return 2; }

    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (only) { /* comma-separated substrings */
            int hit = 0;
            char f[256];
            snprintf(f, sizeof f, "%s", only);
            for (char *tok = strtok(f, ","); tok && !hit; tok = strtok(NULL, ",")) hit = strstr(cases[i].name, tok) != NULL;
            if (!hit) continue;
        }
        int before = t_failed_checks;
        cases[i].fn();
        fflush(stdout);
        if (t_failed_checks == before) { printf("ok - %s\n", cases[i].name); passed++; }
        else { printf("FAIL - %s\n", cases[i].name); failed++; }
    }
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t_tmp_dir);
    if (!getenv("VIGIL_TEST_KEEP") && system(cmd)) {}
    const char *label = getenv("VIGIL_TEST_LABEL");
    printf("%s: %d passed, %d failed\n", label ? label : "unit", passed, failed);
    return failed ? 1 : 0;
}

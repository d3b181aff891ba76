/* tests.h - the tiny test framework shared by the test files. */
#ifndef VIGIL_TESTS_H
#define VIGIL_TESTS_H

#include "vigil.h"
#include <stdio.h>

extern int t_failed_checks;
extern const char *t_data_dir;  /* tests/data/images */
extern const char *t_tmp_dir;   /* a fresh temporary directory */

#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        if (!(cond)) {                                                                            \
            t_failed_checks++;                                                                    \
            printf("    check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond);                   \
            printf(__VA_ARGS__);                                                                  \
            printf("\n");                                                                         \
        }                                                                                         \
    } while (0)

typedef struct test_case { const char *name; void (*fn)(void); } test_case;

uint64_t t_rand(void);     /* xorshift, seeded once per run (printed) */
char *t_path(const char *dir, const char *name); /* static buffer rotation; no free */
int t_write_file(const char *path, const void *data, size_t n);
void *t_read_file(const char *path, size_t *n);

#define T(name) void name(void);
#include "test_list.h"
#undef T
int write_fixtures(const char *dir);

void ref_pdq_from_luma(const float *Y, int rows, int cols, vigil_pdq *hash, int *quality, int dihedral_path);

#endif

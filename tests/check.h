/* A minimal test harness: CHECK macros that count failures and print where
 * they happened, and helpers for temporary folders and the shared data. */
#ifndef CBCT_TESTS_CHECK_H
#define CBCT_TESTS_CHECK_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cbct.h"

static int check_failures;
static int check_count;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        check_count++;                                                                  \
        if (!(cond)) {                                                                  \
            check_failures++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);     \
        }                                                                               \
    } while (0)

#define CHECK_MSG(cond, ...)                                                            \
    do {                                                                                \
        check_count++;                                                                  \
        if (!(cond)) {                                                                  \
            check_failures++;                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                               \
            fprintf(stderr, "\n");                                                      \
        }                                                                               \
    } while (0)

/* The call must return CBCT_OK; otherwise print the recorded message. */
#define CHECK_OK(expr)                                                                  \
    do {                                                                                \
        check_count++;                                                                  \
        cbct_status check_s_ = (expr);                                                  \
        if (check_s_ != CBCT_OK) {                                                      \
            check_failures++;                                                           \
            fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #expr,     \
                    cbct_status_name(check_s_), cbct_last_error());                     \
        }                                                                               \
    } while (0)

/* The call must fail with `code` and a message containing `needle`. */
#define CHECK_FAILS(expr, code, needle)                                                 \
    do {                                                                                \
        check_count++;                                                                  \
        cbct_clear_error();                                                             \
        cbct_status check_s_ = (expr);                                                  \
        if (check_s_ != (code) || !strstr(cbct_last_error(), (needle))) {               \
            check_failures++;                                                           \
            fprintf(stderr, "%s:%d: %s: expected %s with '%s', got %s: '%s'\n", __FILE__, \
                    __LINE__, #expr, cbct_status_name(code), (needle),                  \
                    cbct_status_name(check_s_), cbct_last_error());                     \
        }                                                                               \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                           \
    do {                                                                                \
        check_count++;                                                                  \
        double check_a_ = (a), check_b_ = (b);                                          \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                                    \
            check_failures++;                                                           \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g, tol %g\n",   \
                    __FILE__, __LINE__, #a, check_a_, #b, check_b_, (double)(tol));     \
        }                                                                               \
    } while (0)

/* Ends main(): prints a summary line, returns the exit code. */
static inline int check_summary(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, check_count, check_failures);
    return check_failures ? 1 : 0;
}

/* A per-test temporary folder (created), from CBCT_TEST_TMP or /tmp. */
static inline const char *check_tmpdir(void)
{
    static char path[1024];
    const char *env = getenv("CBCT_TEST_TMP");
    snprintf(path, sizeof path, "%s", env && *env ? env : "/tmp/cbct_test");
    mkdir(path, 0755);
    return path;
}

/* path = tmpdir/name */
static inline const char *check_tmpfile(const char *name, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s/%s", check_tmpdir(), name);
    if (n < 0 || (size_t)n >= len) {
        fprintf(stderr, "check_tmpfile: path of '%s' longer than %zu bytes\n", name, len);
        exit(1);
    }
    return buf;
}

/* Random finite float bit patterns (subnormals, negatives, huge values: no
 * NaN or Inf), for bit-exact round trips of file formats. */
static inline void check_random_bits(float *v, size_t n, unsigned long long seed)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t w;
        do {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            w = (uint32_t)(seed >> 32);
        } while (((w >> 23) & 0xff) == 0xff); /* exponent all ones: NaN or Inf */
        memcpy(&v[i], &w, 4);
    }
}

/* Deterministic pseudo-random floats in [-1, 1) (xorshift64*). */
static inline float check_random(unsigned long long *state)
{
    unsigned long long x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return (float)((double)((x * 2685821657736338717ULL) >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

#endif

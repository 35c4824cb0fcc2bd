/*
 * A minimal test harness: CHECK macros that count failures, RUN to call a
 * test, helpers to read the reference vectors. Each test file is one CTest
 * test; it exits non-zero when any CHECK failed.
 */
#ifndef ESPSEC_TEST_H
#define ESPSEC_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espsec/error.h"
#include "espsec/io.h"

static int t_failures;
static int t_checks;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        t_checks++;                                                                  \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            t_failures++;                                                            \
        }                                                                            \
    } while (0)

#define CHECK_OK(expr)                                                                              \
    do {                                                                                            \
        espsec_error_t e_ = {0};                                                                    \
        espsec_err_t r_ = (expr);                                                                   \
        t_checks++;                                                                                 \
        (void)e_;                                                                                   \
        if (r_ != ESPSEC_OK) {                                                                      \
            fprintf(stderr, "%s:%d: %s returned %s\n", __FILE__, __LINE__, #expr, espsec_err_to_name(r_)); \
            t_failures++;                                                                           \
        }                                                                                           \
    } while (0)

#define CHECK_ERR(expr, code)                                                                          \
    do {                                                                                               \
        espsec_err_t r_ = (expr);                                                                      \
        t_checks++;                                                                                    \
        if (r_ != (code)) {                                                                            \
            fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, #expr,         \
                    espsec_err_to_name(r_), espsec_err_to_name(code));                                 \
            t_failures++;                                                                              \
        }                                                                                              \
    } while (0)

/* The message in an espsec_error_t contains the given text. */
#define CHECK_MSG(err, text)                                                                          \
    do {                                                                                              \
        t_checks++;                                                                                   \
        if (strstr((err).msg, (text)) == NULL) {                                                      \
            fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, (err).msg, (text)); \
            t_failures++;                                                                             \
        }                                                                                             \
    } while (0)

#define RUN(fn)                         \
    do {                                \
        int before_ = t_failures;       \
        fn();                           \
        printf("%s %s\n", t_failures == before_ ? "ok  " : "FAIL", #fn); \
    } while (0)

static inline int is_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i]) {
            return 0;
        }
    }
    return 1;
}

static inline int test_done(void)
{
    printf("%d checks, %d failures\n", t_checks, t_failures);
    return t_failures == 0 ? 0 : 1;
}

/* Read tests/vectors/<rel>; aborts the test program when missing (a setup fault). */
static inline uint8_t *vec(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", VECTORS_DIR, rel);
    uint8_t *buf = NULL;
    espsec_error_t err;
    if (espsec_read_file(path, &buf, len, 0, &err) != ESPSEC_OK) {
        fprintf(stderr, "cannot read vector %s: %s\n", path, err.msg);
        exit(2);
    }
    return buf;
}

/* A deterministic pseudo-random generator for tests (xorshift64*). */
static inline uint64_t t_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

#endif

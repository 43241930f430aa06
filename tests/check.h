// check.h — comparisons shared by the test suites. An array that does not match
// fails the test with one line saying how many values are off, the first
// differing index with both values there, and the largest difference and where
// it is, so a broken layer says where and how badly:
//
//   patches: 3 of 192 values differ; first at [17]: got 0.25, want 0.5;
//   largest difference 0.75 at [40] (tolerance: |got - want| <= 0 + 0 * |want|)
//
// The checks are macros so that Criterion reports the caller's file and line.
//
//   expect_floats_equal(name, got, want, n, tol)          |got - want| <= tol
//   expect_floats_close(name, got, want, n, atol, rtol)   |got - want| <= atol + rtol*|want|
//   expect_bytes_equal(name, got, want, n)                unsigned char, exact
//   expect_ints_equal(name, got, want, n)                 int, exact
//
// NaN matches only NaN; an infinity only the same infinity.
#ifndef CHECK_H
#define CHECK_H

#include <math.h>
#include <stddef.h>
#include <string.h>
#include <criterion/criterion.h>

typedef struct {
    long bad;   // how many values are out of tolerance
    long first; // index of the first of them, -1 if none
    double first_got, first_want;
    long worst;      // index of the largest |got - want|, -1 if n == 0
    double max_diff; // the largest |got - want| (infinite if a NaN differs)
} ArrayDiff;

static inline bool diff_value_ok(double got, double want, double atol, double rtol) {
    if (isnan(want) || isnan(got)) return isnan(want) && isnan(got);
    if (isinf(want) || isinf(got)) return got == want;
    return fabs(got - want) <= atol + rtol * fabs(want);
}

// Accumulates one element into d.
static inline void diff_add(ArrayDiff *d, long i, double got, double want, double atol,
                            double rtol) {
    bool ok = diff_value_ok(got, want, atol, rtol);
    double diff = ok && got == want ? 0.0 : fabs(got - want);
    if (!ok && isnan(diff)) diff = INFINITY; // NaN against a number, or inf - inf
    if (d->worst < 0 || diff > d->max_diff) {
        d->worst = i;
        d->max_diff = diff;
    }
    if (!ok) {
        if (d->bad == 0) {
            d->first = i;
            d->first_got = got;
            d->first_want = want;
        }
        d->bad++;
    }
}

static inline ArrayDiff diff_floats(const float *got, const float *want, long n, double atol,
                                    double rtol) {
    ArrayDiff d = {.first = -1, .worst = -1};
    for (long i = 0; i < n; i++) diff_add(&d, i, got[i], want[i], atol, rtol);
    return d;
}

static inline ArrayDiff diff_bytes(const unsigned char *got, const unsigned char *want, long n) {
    ArrayDiff d = {.first = -1, .worst = -1};
    for (long i = 0; i < n; i++) diff_add(&d, i, got[i], want[i], 0.0, 0.0);
    return d;
}

static inline ArrayDiff diff_ints(const int *got, const int *want, long n) {
    ArrayDiff d = {.first = -1, .worst = -1};
    for (long i = 0; i < n; i++) diff_add(&d, i, got[i], want[i], 0.0, 0.0);
    return d;
}

#define EXPECT_DIFF_OK_(name, d, n, atol, rtol)                                                    \
    cr_assert((d).bad == 0,                                                                        \
              "%s: %ld of %ld values differ; first at [%ld]: got %.9g, want %.9g; "                \
              "largest difference %.3g at [%ld] (tolerance: |got - want| <= %g + %g * |want|)",    \
              (name), (d).bad, (long)(n), (d).first, (d).first_got, (d).first_want, (d).max_diff,  \
              (d).worst, (double)(atol), (double)(rtol))

#define expect_floats_close(name, got, want, n, atol, rtol)                                        \
    do {                                                                                           \
        ArrayDiff d_ = diff_floats((got), (want), (long)(n), (atol), (rtol));                      \
        EXPECT_DIFF_OK_(name, d_, n, atol, rtol);                                                  \
    } while (0)

#define expect_floats_equal(name, got, want, n, tol)                                               \
    expect_floats_close(name, got, want, n, tol, 0.0)

#define expect_bytes_equal(name, got, want, n)                                                     \
    do {                                                                                           \
        ArrayDiff d_ = diff_bytes((got), (want), (long)(n));                                       \
        EXPECT_DIFF_OK_(name, d_, n, 0, 0);                                                        \
    } while (0)

#define expect_ints_equal(name, got, want, n)                                                      \
    do {                                                                                           \
        ArrayDiff d_ = diff_ints((got), (want), (long)(n));                                        \
        EXPECT_DIFF_OK_(name, d_, n, 0, 0);                                                        \
    } while (0)

// A message that must mention something (a path, a flag): says what it was instead.
#define expect_mentions(message, part)                                                             \
    cr_assert(strstr((message), (part)) != NULL, "message \"%s\" should mention \"%s\"",           \
              (message), (part))

#endif

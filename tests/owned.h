// owned.h — memory a running test allocates and its suite's .fini frees, even
// when an assertion ends the test early (each Criterion test is a process, so
// the list starts empty in every test).
#ifndef OWNED_H
#define OWNED_H

#include <stdlib.h>
#include <criterion/criterion.h>
#include "error.h"
#include "rng.h"

#define OWNED_MAX 512

static void *owned[OWNED_MAX];
static int owned_count;

// bytes of zeroed memory, freed by owned_release.
static inline void *take(size_t bytes) {
    cr_assert_lt(owned_count, OWNED_MAX);
    return owned[owned_count++] = xcalloc(bytes > 0 ? bytes : 1, 1);
}

static inline float *floats(size_t n) {
    return take(n * sizeof(float));
}

// (n) numbers drawn from N(mean, std²).
static inline float *random_floats(Rng *rng, size_t n, float mean, float std) {
    float *x = floats(n);
    rng_fill_normal(rng, x, (int)n, mean, std);
    return x;
}

static inline void owned_release(void) {
    for (int i = 0; i < owned_count; i++) free(owned[i]);
    owned_count = 0;
}

#endif

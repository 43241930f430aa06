// rng.c — PCG32 (O'Neill, 2014: "PCG: A Family of Simple Fast Space-Efficient
// Statistically Good Algorithms for Random Number Generation") and the
// distributions built on it.
#include "rng.h"

#include <assert.h>
#include <math.h>

static const double TWO_PI = 6.283185307179586;

void rng_seed(Rng *rng, uint64_t seed) {
    // the reference pcg32_srandom_r(seed, initseq = 54)
    rng->state = 0;
    rng->stream = (54u << 1) | 1u;
    rng_u32(rng);
    rng->state += seed;
    rng_u32(rng);
}

uint32_t rng_u32(Rng *rng) {
    uint64_t old = rng->state;
    rng->state = old * 6364136223846793005ULL + rng->stream;
    uint32_t xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    uint32_t rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

int rng_int(Rng *rng, int n) {
    assert(n > 0);
    // reject the top partial range so every value is equally likely
    uint32_t bound = (uint32_t)n;
    uint32_t threshold = (0u - bound) % bound;
    for (;;) {
        uint32_t r = rng_u32(rng);
        if (r >= threshold) return (int)(r % bound);
    }
}

float rng_uniform(Rng *rng) {
    return (float)(rng_u32(rng) >> 8) * (1.0f / 16777216.0f); // 24 bits: exact in float
}

float rng_normal(Rng *rng) {
    // Box–Muller: u1 in (0, 1] keeps the log finite
    double u1 = ((double)rng_u32(rng) + 1.0) / 4294967296.0;
    double u2 = (double)rng_u32(rng) / 4294967296.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2));
}

float rng_trunc_normal(Rng *rng, float std, float lo, float hi) {
    assert(lo <= 0.0f && hi >= 0.0f && lo < hi && std > 0.0f);
    for (;;) {
        float x = std * rng_normal(rng);
        if (x >= lo && x <= hi) return x;
    }
}

void rng_fill_uniform(Rng *rng, float *x, int n, float lo, float hi) {
    for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * rng_uniform(rng);
}

void rng_fill_normal(Rng *rng, float *x, int n, float mean, float std) {
    for (int i = 0; i < n; i++) x[i] = mean + std * rng_normal(rng);
}

void rng_fill_trunc_normal(Rng *rng, float *x, int n, float std, float lo, float hi) {
    for (int i = 0; i < n; i++) x[i] = rng_trunc_normal(rng, std, lo, hi);
}

void rng_shuffle(Rng *rng, int *x, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = rng_int(rng, i + 1);
        int t = x[i];
        x[i] = x[j];
        x[j] = t;
    }
}

void rng_permutation(Rng *rng, int *x, int n) {
    for (int i = 0; i < n; i++) x[i] = i;
    rng_shuffle(rng, x, n);
}

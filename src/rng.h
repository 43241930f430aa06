// rng.h — a seeded random number generator (PCG32) with the draws a ViT needs:
// uniform, normal, truncated normal, integers, shuffles. The same seed gives the
// same numbers on every machine: nothing here depends on the C library's rand().
#ifndef RNG_H
#define RNG_H

#include <stdint.h>

typedef struct {
    uint64_t state;  // advances on every draw
    uint64_t stream; // odd increment, fixed by the seed
} Rng;

void rng_seed(Rng *rng, uint64_t seed);
uint32_t rng_u32(Rng *rng);   // uniform over all 32-bit values
int rng_int(Rng *rng, int n); // uniform in [0, n), n > 0, unbiased
float rng_uniform(Rng *rng);  // uniform in [0, 1)
float rng_normal(Rng *rng);   // mean 0, standard deviation 1
// Normal(0, std) conditioned on [lo, hi] (bounds in the same units as the
// values, as in torch.nn.init.trunc_normal_), by rejection. Requires
// lo <= 0 <= hi, lo < hi.
float rng_trunc_normal(Rng *rng, float std, float lo, float hi);

void rng_fill_uniform(Rng *rng, float *x, int n, float lo, float hi);   // x: (n)
void rng_fill_normal(Rng *rng, float *x, int n, float mean, float std); // x: (n)
void rng_fill_trunc_normal(Rng *rng, float *x, int n, float std, float lo, float hi);

void rng_shuffle(Rng *rng, int *x, int n);     // Fisher–Yates, in place; x: (n)
void rng_permutation(Rng *rng, int *x, int n); // x = a random order of 0..n-1

#endif

// dropout.c — drawing a dropout mask and applying it.
#include "dropout.h"

// region: dropout
// mask (n): 0 with probability p, else 1/(1-p), so that x * mask keeps the
// expected value of x (inverted dropout: nothing to rescale at test time).
void dropout_draw(float *mask, size_t n, float p, Rng *rng) {
    float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) mask[i] = rng_uniform(rng) < p ? 0.0f : keep;
}

// x (n) *= mask (n): dropout forward, and its backward on the gradient.
void dropout_apply(float *x, const float *mask, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= mask[i];
}
// endregion: dropout

// gelu_backward.c — the derivative of the exact GELU, with src/vecmath.h's
// erf and exp so that the loop vectorises; the elements shared out among the
// threads.
#include "gelu.h"

#include "parallel.h"
#include "vecmath.h"

// region: gelu-backward
// Elements lo .. hi-1.
VEC_INLINE void gelu_backward_part(float *dx, const float *dout, const float *x, size_t lo,
                                   size_t hi) {
    // forward: out = x Φ(x) = 0.5 x (1 + erf(x / sqrt 2))
    // d/dx: Φ(x) + x φ(x), φ(x) = exp(-x^2 / 2) / sqrt(2 pi)
    const float inv_sqrt2 = 0.70710678118654752f, inv_sqrt_2pi = 0.39894228040143268f;
#pragma omp simd
    for (size_t i = lo; i < hi; i++) {
        float e = vec_expf(-0.5f * x[i] * x[i]); // exp(-z^2) for z = x / sqrt 2: both need it
        float cdf = 0.5f * (1.0f + vec_erff_given_exp(x[i] * inv_sqrt2, e));
        float pdf = inv_sqrt_2pi * e;
        dx[i] += dout[i] * (cdf + x[i] * pdf);
    }
}

VEC_CLONES
void gelu_backward(float *dx, const float *dout, const float *x, int n) {
    // dx (n) +=, dout (n), x (n)
    if (!parallel_worth()) {
        gelu_backward_part(dx, dout, x, 0, (size_t)n);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        parallel_share((size_t)n, &lo, &hi);
        gelu_backward_part(dx, dout, x, lo, hi);
    }
}
// endregion: gelu-backward

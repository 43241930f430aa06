// gelu_backward.c — the derivative of the exact GELU, with src/vecmath.h's
// erf and exp so that the loop vectorises; the elements shared out among the
// threads.
#include "gelu.h"

#include "vecmath.h"

// region: gelu-backward
VEC_CLONES
void gelu_backward(float *dx, const float *dout, const float *x, int n) {
    // dx (n) +=, dout (n), x (n)
    // forward: out = x Φ(x) = 0.5 x (1 + erf(x / sqrt 2))
    // d/dx: Φ(x) + x φ(x), φ(x) = exp(-x^2 / 2) / sqrt(2 pi)
    const float inv_sqrt2 = 0.70710678118654752f, inv_sqrt_2pi = 0.39894228040143268f;
#pragma omp parallel for simd schedule(static)
    for (int i = 0; i < n; i++) {
        float e = vec_expf(-0.5f * x[i] * x[i]); // exp(-z^2) for z = x / sqrt 2: both need it
        float cdf = 0.5f * (1.0f + vec_erff_given_exp(x[i] * inv_sqrt2, e));
        float pdf = inv_sqrt_2pi * e;
        dx[i] += dout[i] * (cdf + x[i] * pdf);
    }
}
// endregion: gelu-backward

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

// region: gelu-tanh-backward
VEC_CLONES
void gelu_tanh_backward(float *dx, const float *dout, const float *x, int n) {
    // dx (n) +=, dout (n), x (n)
    // forward: out = x s,  s = 0.5 (1 + tanh(u)) = 1 / (1 + e^(-2u)),  u = k (x + a x^3)
    // d/dx: s + x s (1 - s) 2 du/dx,  du/dx = k (1 + 3 a x^2)   (tanh' = 1 - tanh^2 = 4 s (1 - s))
    const float k = 0.79788456080286536f, a = 0.044715f;
#pragma omp parallel for simd schedule(static)
    for (int i = 0; i < n; i++) {
        float x2 = x[i] * x[i], u = k * (x[i] + a * x2 * x[i]);
        float s = 1.0f / (1.0f + vec_expf(-2.0f * u));
        dx[i] += dout[i] * (s + x[i] * s * (1.0f - s) * 2.0f * k * (1.0f + 3.0f * a * x2));
    }
}
// endregion: gelu-tanh-backward

void gelu_form_backward(GeluForm form, float *dx, const float *dout, const float *x, int n) {
    if (form == GELU_TANH)
        gelu_tanh_backward(dx, dout, x, n);
    else
        gelu_backward(dx, dout, x, n);
}

// gelu.c — the exact GELU, through the error function (src/vecmath.h's, which
// vectorises), the elements shared out among the threads.
#include "gelu.h"

#include "parallel.h"
#include "vecmath.h"

// region: gelu-forward
// Elements lo .. hi-1.
VEC_INLINE void gelu_part(float *out, const float *x, size_t lo, size_t hi) {
    const float inv_sqrt2 = 0.70710678118654752f;
#pragma omp simd
    for (size_t i = lo; i < hi; i++) out[i] = 0.5f * x[i] * (1.0f + vec_erff(x[i] * inv_sqrt2));
}

VEC_CLONES
void gelu_forward(float *out, const float *x, int n) {
    // out (n), x (n): out may equal x
    if (!parallel_worth()) {
        gelu_part(out, x, 0, (size_t)n);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        parallel_share((size_t)n, &lo, &hi);
        gelu_part(out, x, lo, hi);
    }
}
// endregion: gelu-forward

// region: gelu-tanh-forward
// 0.5 (1 + tanh(u)) is the logistic function of 2u, so gelu_tanh(x) = x / (1 + e^(-2u)):
// one exponential, and no cancellation for large |u|.
VEC_CLONES
void gelu_tanh_forward(float *out, const float *x, int n) {
    // out (n), x (n): out may equal x
    const float k = 0.79788456080286536f, a = 0.044715f; // sqrt(2/pi)
#pragma omp parallel for simd schedule(static)
    for (int i = 0; i < n; i++) {
        float u = k * (x[i] + a * x[i] * x[i] * x[i]);
        out[i] = x[i] / (1.0f + vec_expf(-2.0f * u));
    }
}
// endregion: gelu-tanh-forward

void gelu_form_forward(GeluForm form, float *out, const float *x, int n) {
    if (form == GELU_TANH)
        gelu_tanh_forward(out, x, n);
    else
        gelu_forward(out, x, n);
}

const char *gelu_form_name(GeluForm form) {
    return form == GELU_TANH ? "tanh" : "erf";
}

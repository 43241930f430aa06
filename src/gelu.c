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

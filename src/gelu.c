// gelu.c — the exact GELU, through the error function (src/vecmath.h's, which
// vectorises), the elements shared out among the threads.
#include "gelu.h"

#include "vecmath.h"

// region: gelu-forward
VEC_CLONES
void gelu_forward(float *out, const float *x, int n) {
    // out (n), x (n): out may equal x
    const float inv_sqrt2 = 0.70710678118654752f;
#pragma omp parallel for simd schedule(static)
    for (int i = 0; i < n; i++) out[i] = 0.5f * x[i] * (1.0f + vec_erff(x[i] * inv_sqrt2));
}
// endregion: gelu-forward

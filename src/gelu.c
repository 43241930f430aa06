// gelu.c — the exact GELU, through the error function.
#include "gelu.h"

#include <math.h>

// region: gelu-forward
void gelu_forward(float *out, const float *x, int n) {
    // out (n), x (n): out may equal x
    const float inv_sqrt2 = 0.70710678118654752f;
    for (int i = 0; i < n; i++) out[i] = 0.5f * x[i] * (1.0f + erff(x[i] * inv_sqrt2));
}
// endregion: gelu-forward

// layernorm.c — layer normalisation over the last dimension, one row at a
// time, the rows shared out among the threads.
#include "layernorm.h"

#include <math.h>
#include <stddef.h>
#include "parallel.h"
#include "vecmath.h"

// region: layernorm-forward
// One row: y (C) from x (C); returns the mean, and 1/sqrt(var + eps) in *rstd.
VEC_INLINE float layernorm_row(float *restrict y, float *rstd, const float *restrict x,
                               const float *restrict weight, const float *restrict bias, int C) {
    float m = 0.0f;
#pragma omp simd reduction(+ : m)
    for (int c = 0; c < C; c++) m += x[c];
    m /= C;
    float v = 0.0f; // the biased variance, as torch
#pragma omp simd reduction(+ : v)
    for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
    v /= C;
    float s = 1.0f / sqrtf(v + LAYERNORM_EPS);
#pragma omp simd
    for (int c = 0; c < C; c++) y[c] = (x[c] - m) * s * weight[c] + bias[c];
    *rstd = s;
    return m;
}

// Rows lo .. hi-1.
VEC_INLINE void layernorm_rows(float *out, float *mean, float *rstd, const float *x,
                               const float *weight, const float *bias, size_t lo, size_t hi,
                               int C) {
    for (size_t r = lo; r < hi; r++) {
        float s, m = layernorm_row(out + r * C, &s, x + r * C, weight, bias, C);
        if (mean != NULL) mean[r] = m;
        if (rstd != NULL) rstd[r] = s;
    }
}

VEC_CLONES
void layernorm_forward(float *out, float *mean, float *rstd, const float *x, const float *weight,
                       const float *bias, int R, int C) {
    // out (R,C), mean (R) or NULL, rstd (R) or NULL, x (R,C), weight (C), bias (C)
    if (!parallel_worth()) {
        layernorm_rows(out, mean, rstd, x, weight, bias, 0, (size_t)R, C);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        parallel_share((size_t)R, &lo, &hi);
        layernorm_rows(out, mean, rstd, x, weight, bias, lo, hi, C);
    }
}
// endregion: layernorm-forward

// layernorm.c — layer normalisation over the last dimension, one row at a time.
#include "layernorm.h"

#include <math.h>
#include <stddef.h>

// region: layernorm-forward
void layernorm_forward(float *out, float *mean, float *rstd, const float *x, const float *weight,
                       const float *bias, int R, int C) {
    // out (R,C), mean (R) or NULL, rstd (R) or NULL, x (R,C), weight (C), bias (C)
    for (int r = 0; r < R; r++) {
        const float *row = x + (size_t)r * C; // (C)
        float *y = out + (size_t)r * C;       // (C)
        float m = 0.0f;
        for (int c = 0; c < C; c++) m += row[c];
        m /= C;
        float v = 0.0f; // the biased variance, as torch
        for (int c = 0; c < C; c++) v += (row[c] - m) * (row[c] - m);
        v /= C;
        float s = 1.0f / sqrtf(v + LAYERNORM_EPS);
        for (int c = 0; c < C; c++) y[c] = (row[c] - m) * s * weight[c] + bias[c];
        if (mean != NULL) mean[r] = m;
        if (rstd != NULL) rstd[r] = s;
    }
}
// endregion: layernorm-forward

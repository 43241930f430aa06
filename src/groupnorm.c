// groupnorm.c — group normalisation, one group of one image at a time (its
// values are contiguous in (B,C,H,W)), the groups shared out among the threads.
#include "groupnorm.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include "vecmath.h"

// region: groupnorm-forward
VEC_CLONES
void groupnorm_forward(float *out, float *mean, float *rstd, const float *x, const float *weight,
                       const float *bias, int B, int C, int H, int W, int G) {
    // out (B,C,H,W), mean (B,G) or NULL, rstd (B,G) or NULL, x (B,C,H,W), weight, bias (C)
    assert(G > 0 && C % G == 0);
    int Cg = C / G, HW = H * W, n = Cg * HW; // channels and values in a group
#pragma omp parallel for schedule(static)
    for (int bg = 0; bg < B * G; bg++) {
        const float *v = x + (size_t)bg * n; // (Cg,H,W): group bg % G of image bg / G
        float *y = out + (size_t)bg * n;
        float m = 0.0f;
#pragma omp simd reduction(+ : m)
        for (int i = 0; i < n; i++) m += v[i];
        m /= n;
        float var = 0.0f; // the biased variance, as torch
#pragma omp simd reduction(+ : var)
        for (int i = 0; i < n; i++) var += (v[i] - m) * (v[i] - m);
        var /= n;
        float s = 1.0f / sqrtf(var + GROUPNORM_EPS);
        for (int k = 0; k < Cg; k++) {
            int c = bg % G * Cg + k;
            float scale = s * weight[c];
#pragma omp simd
            for (int i = k * HW; i < (k + 1) * HW; i++) y[i] = (v[i] - m) * scale + bias[c];
        }
        if (mean != NULL) mean[bg] = m;
        if (rstd != NULL) rstd[bg] = s;
    }
}
// endregion: groupnorm-forward

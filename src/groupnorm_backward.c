// groupnorm_backward.c — the backward pass of group normalisation, from the
// mean and 1/std the forward pass kept.
//
// Within one group of n values, with x̂ = (x - mean)·rstd and g = dout·weight[c]
// (LayerNorm's derivation, over the group instead of a row):
//     dx = rstd·(g - mean(g) - x̂·mean(g·x̂))
//     dweight[c] += Σ dout·x̂ and dbias[c] += Σ dout over the images and positions
// Both group means come from the per-channel sums that dweight and dbias need:
// mean(g) = Σ_c weight[c]·Σ dout / n and mean(g·x̂) = Σ_c weight[c]·Σ dout·x̂ / n,
// so one pass over a group gives all the sums and a second writes dx. The
// groups are shared out among the threads, each thread the same groups for
// every image, and the images taken in order: each thread adds its channels'
// images in order, the same sums whatever the thread count.
#include "groupnorm.h"

#include <stddef.h>
#include "vecmath.h"

// One group of one image, v and d (Cg,HW) its x and dout: dx (Cg,HW) += the
// gradient through the normalisation (if dx is not NULL), and the group's
// channels' dweight, dbias (Cg) += their sums (each may be NULL). weight (Cg).
VEC_INLINE void group_backward(float *dx, float *dweight, float *dbias, const float *d,
                               const float *v, const float *weight, float m, float s, int Cg,
                               int HW) {
    int n = Cg * HW;
    float g_mean = 0.0f, gx_mean = 0.0f; // mean(g) and mean(g·x̂) over the group
    for (int k = 0; k < Cg; k++) {
        const float *dk = d + (size_t)k * HW, *vk = v + (size_t)k * HW; // (HW) each
        float sum = 0.0f, dot = 0.0f;
#pragma omp simd reduction(+ : sum, dot)
        for (int i = 0; i < HW; i++) {
            sum += dk[i];
            dot += dk[i] * (vk[i] - m) * s;
        }
        if (dbias != NULL) dbias[k] += sum;
        if (dweight != NULL) dweight[k] += dot;
        g_mean += weight[k] * sum;
        gx_mean += weight[k] * dot;
    }
    if (dx == NULL) return;
    g_mean /= n;
    gx_mean /= n;
    for (int k = 0; k < Cg; k++) {
        const float *dk = d + (size_t)k * HW, *vk = v + (size_t)k * HW;
        float *xk = dx + (size_t)k * HW; // (HW)
#pragma omp simd
        for (int i = 0; i < HW; i++)
            xk[i] += s * (dk[i] * weight[k] - g_mean - (vk[i] - m) * s * gx_mean);
    }
}

VEC_CLONES
void groupnorm_backward(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                        const float *weight, const float *mean, const float *rstd, int B, int C,
                        int H, int W, int G) {
    // dx (B,C,H,W), dweight, dbias (C): += and each may be NULL; dout, x (B,C,H,W);
    // mean, rstd (B,G)
    // forward: x̂ = (x - mean) * rstd per group, out = x̂ * weight[c] + bias[c]
    int Cg = C / G, HW = H * W, n = Cg * HW;
#pragma omp parallel
    for (int b = 0; b < B; b++) { // through memory in order, image after image
#pragma omp for schedule(static) nowait
        for (int grp = 0; grp < G; grp++) {        // each thread the same groups for every image
            int c0 = grp * Cg;                     // the group's first channel
            size_t at = ((size_t)b * G + grp) * n; // the group's values in image b
            group_backward(dx != NULL ? dx + at : NULL, dweight != NULL ? dweight + c0 : NULL,
                           dbias != NULL ? dbias + c0 : NULL, dout + at, x + at, weight + c0,
                           mean[b * G + grp], rstd[b * G + grp], Cg, HW);
        }
    }
}

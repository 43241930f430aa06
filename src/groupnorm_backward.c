// groupnorm_backward.c — the backward pass of group normalisation, from the
// mean and 1/std the forward pass kept, alone or with the ReLU after it.
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

// The gradient reaching the GroupNorm's output at i: d[i], or, with relu (a
// ReLU after it, whose output is y), d[i] where y[i] > 0 and 0 elsewhere.
VEC_INLINE float reaching(const float *d, const float *y, int i, bool relu) {
    float g = d[i]; // read either way: a select, not a branch
    return relu && !(y[i] > 0.0f) ? 0.0f : g;
}

// One group of one image, v and d (Cg,HW) its x and dout (y (Cg,HW) the ReLU's
// output with relu, else unused): dx (Cg,HW) += the gradient through the
// normalisation (if dx is not NULL), and the group's channels' dweight, dbias
// (Cg) += their sums (each may be NULL). weight (Cg).
VEC_INLINE void group_backward(float *dx, float *dweight, float *dbias, const float *d,
                               const float *y, const float *v, const float *weight, float m,
                               float s, int Cg, int HW, bool relu) {
    int n = Cg * HW;
    float g_mean = 0.0f, gx_mean = 0.0f; // mean(g) and mean(g·x̂) over the group
    for (int k = 0; k < Cg; k++) {
        const float *dk = d + (size_t)k * HW, *vk = v + (size_t)k * HW; // (HW) each
        const float *yk = relu ? y + (size_t)k * HW : NULL;
        float sum = 0.0f, dot = 0.0f;
#pragma omp simd reduction(+ : sum, dot)
        for (int i = 0; i < HW; i++) {
            float dki = reaching(dk, yk, i, relu);
            sum += dki;
            dot += dki * (vk[i] - m) * s;
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
        const float *yk = relu ? y + (size_t)k * HW : NULL;
        float *xk = dx + (size_t)k * HW; // (HW)
#pragma omp simd
        for (int i = 0; i < HW; i++)
            xk[i] +=
                s * (reaching(dk, yk, i, relu) * weight[k] - g_mean - (vk[i] - m) * s * gx_mean);
    }
}

// The groups of image b, shared out among the threads of the parallel region
// that calls it (each thread the same groups for every image).
VEC_INLINE void image_backward(float *dx, float *dweight, float *dbias, const float *dout,
                               const float *y, const float *x, const float *weight,
                               const float *mean, const float *rstd, int b, int C, int HW, int G,
                               bool relu) {
    int Cg = C / G, n = Cg * HW;
#pragma omp for schedule(static) nowait
    for (int grp = 0; grp < G; grp++) {
        int c0 = grp * Cg;                     // the group's first channel
        size_t at = ((size_t)b * G + grp) * n; // the group's values in image b
        group_backward(dx != NULL ? dx + at : NULL, dweight != NULL ? dweight + c0 : NULL,
                       dbias != NULL ? dbias + c0 : NULL, dout + at, relu ? y + at : NULL, x + at,
                       weight + c0, mean[b * G + grp], rstd[b * G + grp], Cg, HW, relu);
    }
}

VEC_CLONES
void groupnorm_backward(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                        const float *weight, const float *mean, const float *rstd, int B, int C,
                        int H, int W, int G) {
    // dx (B,C,H,W), dweight, dbias (C): += and each may be NULL; dout, x (B,C,H,W);
    // mean, rstd (B,G)
    // forward: x̂ = (x - mean) * rstd per group, out = x̂ * weight[c] + bias[c]
#pragma omp parallel
    for (int b = 0; b < B; b++) // through memory in order, image after image
        image_backward(dx, dweight, dbias, dout, NULL, x, weight, mean, rstd, b, C, H * W, G,
                       false);
}

VEC_CLONES
void groupnorm_relu_backward(float *dx, float *dweight, float *dbias, const float *dout,
                             const float *y, const float *x, const float *weight, const float *mean,
                             const float *rstd, int B, int C, int H, int W, int G) {
    // as groupnorm_backward; dout and y (B,C,H,W) the ReLU's output's gradient and output
    // forward: y = max(x̂ * weight[c] + bias[c], 0)
#pragma omp parallel
    for (int b = 0; b < B; b++)
        image_backward(dx, dweight, dbias, dout, y, x, weight, mean, rstd, b, C, H * W, G, true);
}

// layernorm_backward.c — the backward pass of layer normalisation, from the
// mean and 1/std the forward pass kept (as in llm.c): the input's gradient row
// by row, the rows shared out among the threads; the weight's and bias's
// gradients summed over the rows, the columns shared out.
#include "layernorm.h"

#include <omp.h>
#include <stddef.h>
#include "parallel.h"
#include "vecmath.h"

// region: layernorm-backward
// One row: dx (C) += the gradient through the normalisation of x (C), given g = dout (C).
VEC_INLINE void layernorm_row_backward(float *restrict dx, const float *restrict g,
                                       const float *restrict x, const float *restrict weight,
                                       float m, float s, int C) {
    // the two means the gradient of the normalisation needs: of dnorm, and of dnorm * norm
    float dnorm_mean = 0.0f, dnorm_norm_mean = 0.0f;
#pragma omp simd reduction(+ : dnorm_mean, dnorm_norm_mean)
    for (int c = 0; c < C; c++) {
        float norm = (x[c] - m) * s, dnorm = g[c] * weight[c];
        dnorm_mean += dnorm;
        dnorm_norm_mean += dnorm * norm;
    }
    dnorm_mean /= C;
    dnorm_norm_mean /= C;
    // dx = rstd * (dnorm - mean(dnorm) - norm * mean(dnorm * norm))
#pragma omp simd
    for (int c = 0; c < C; c++) {
        float norm = (x[c] - m) * s;
        dx[c] += s * (g[c] * weight[c] - dnorm_mean - norm * dnorm_norm_mean);
    }
}

// Row r's share of dweight (C) += Σ_rows dout * norm and dbias (C) += Σ_rows dout (either
// may be NULL), in columns c0 .. c1-1.
VEC_INLINE void layernorm_params_row(float *restrict dweight, float *restrict dbias,
                                     const float *restrict g, const float *restrict row, float m,
                                     float s, int c0, int c1) {
    if (dbias != NULL) {
#pragma omp simd
        for (int c = c0; c < c1; c++) dbias[c] += g[c];
    }
    if (dweight != NULL) {
#pragma omp simd
        for (int c = c0; c < c1; c++) dweight[c] += g[c] * (row[c] - m) * s;
    }
}

// Rows r0 .. r1-1: dx's rows (when dx is not NULL), and their shares of dweight and
// dbias in columns c0 .. c1-1 (when either is not NULL), the rows in order.
VEC_INLINE void layernorm_backward_rows(float *dx, float *dweight, float *dbias, const float *dout,
                                        const float *x, const float *weight, const float *mean,
                                        const float *rstd, size_t r0, size_t r1, int C, int c0,
                                        int c1) {
    for (size_t r = r0; r < r1; r++) {
        const float *g = dout + r * C, *row = x + r * C; // (C) each
        if (dx != NULL) layernorm_row_backward(dx + r * C, g, row, weight, mean[r], rstd[r], C);
        if (dweight != NULL || dbias != NULL)
            layernorm_params_row(dweight, dbias, g, row, mean[r], rstd[r], c0, c1);
    }
}

VEC_CLONES
void layernorm_backward(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                        const float *weight, const float *mean, const float *rstd, int R, int C) {
    // dx (R,C), dweight (C), dbias (C): += and each may be NULL; dout, x (R,C); mean, rstd (R)
    // forward: norm = (x - mean) * rstd, out = norm * weight + bias
    if (!parallel_worth()) { // one pass over the rows for everything
        layernorm_backward_rows(dx, dweight, dbias, dout, x, weight, mean, rstd, 0, (size_t)R, C, 0,
                                C);
        return;
    }
    // shared: dx by rows; dweight and dbias by columns, each thread adding every row in
    // order, so the sums are the same whatever the thread count
#pragma omp parallel
    {
        size_t lo, hi, c0, c1;
        parallel_share((size_t)R, &lo, &hi);
        parallel_share((size_t)C, &c0, &c1);
        if (dx != NULL)
            layernorm_backward_rows(dx, NULL, NULL, dout, x, weight, mean, rstd, lo, hi, C, 0, 0);
        if (dweight != NULL || dbias != NULL)
            layernorm_backward_rows(NULL, dweight, dbias, dout, x, weight, mean, rstd, 0, (size_t)R,
                                    C, (int)c0, (int)c1);
    }
}
// endregion: layernorm-backward

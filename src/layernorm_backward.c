// layernorm_backward.c — the backward pass of layer normalisation, from the
// mean and 1/std the forward pass kept (as in llm.c): the input's gradient row
// by row, the rows shared out among the threads; the weight's and bias's
// gradients summed over the rows, the columns shared out.
#include "layernorm.h"

#include <omp.h>
#include <stddef.h>
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

// dweight (C) += Σ_rows dout * norm and dbias (C) += Σ_rows dout, either may be NULL. Each
// thread owns a range of columns and adds the rows in order, whatever the thread count.
VEC_CLONES
static void layernorm_params_backward(float *restrict dweight, float *restrict dbias,
                                      const float *restrict dout, const float *restrict x,
                                      const float *mean, const float *rstd, int R, int C) {
#pragma omp parallel
    {
        int threads = omp_get_num_threads(), id = omp_get_thread_num();
        int c0 = C * id / threads, c1 = C * (id + 1) / threads; // this thread's columns
        for (int r = 0; r < R; r++) {
            const float *g = dout + (size_t)r * C, *row = x + (size_t)r * C; // (C) each
            if (dbias != NULL) {
#pragma omp simd
                for (int c = c0; c < c1; c++) dbias[c] += g[c];
            }
            if (dweight != NULL) {
#pragma omp simd
                for (int c = c0; c < c1; c++) dweight[c] += g[c] * (row[c] - mean[r]) * rstd[r];
            }
        }
    }
}

VEC_CLONES
void layernorm_backward(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                        const float *weight, const float *mean, const float *rstd, int R, int C) {
    // dx (R,C), dweight (C), dbias (C): += and each may be NULL; dout, x (R,C); mean, rstd (R)
    // forward: norm = (x - mean) * rstd, out = norm * weight + bias
    if (dx != NULL) {
#pragma omp parallel for schedule(static)
        for (int r = 0; r < R; r++)
            layernorm_row_backward(dx + (size_t)r * C, dout + (size_t)r * C, x + (size_t)r * C,
                                   weight, mean[r], rstd[r], C);
    }
    if (dweight != NULL || dbias != NULL)
        layernorm_params_backward(dweight, dbias, dout, x, mean, rstd, R, C);
}
// endregion: layernorm-backward

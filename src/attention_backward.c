// attention_backward.c — the backward pass of one head of scaled dot-product
// attention: back through the weighted sum of the values, the softmax and the
// scaled scores, each product through matmul; the B batch items (or heads)
// shared out among the threads.
#include "attention.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include "matmul.h"
#include "vecmath.h"

// region: softmax-backward
// In place, per row: datt (T,T) becomes d(scores) for att = softmax(scores):
//     dscores = att ⊙ (datt − rowsum(datt ⊙ att))
static void softmax_backward_rows(float *datt, const float *att, int T) {
    for (int i = 0; i < T; i++) {
        float *d = datt + (size_t)i * T;      // (T)
        const float *a = att + (size_t)i * T; // (T)
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int j = 0; j < T; j++) dot += d[j] * a[j];
#pragma omp simd
        for (int j = 0; j < T; j++) d[j] = a[j] * (d[j] - dot);
    }
}
// endregion: softmax-backward

// region: attention-backward
VEC_CLONES
void attention_backward(float *dq, float *dk, float *dv, float *datt, const float *dout,
                        const float *att, const float *q, const float *k, const float *v, int B,
                        int T, int hs) {
    // dq, dk, dv (B,T,hs) += and each may be NULL; datt (B,T,T) scratch; dout (B,T,hs);
    // att (B,T,T); q, k, v (B,T,hs)
    assert(B > 0 && T > 0 && hs > 0 && datt != NULL);
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        size_t at = (size_t)b * T * hs;      // where this batch's (T,hs) rows start
        float *d = datt + (size_t)b * T * T; // (T,T)
        const float *a = att + (size_t)b * T * T;
        // forward: out = att v
        matmul(d, dout + at, v + at, T, T, hs, MATMUL_BT); // datt = dout · v^T
        if (dv != NULL) matmul(dv + at, a, dout + at, T, hs, T, MATMUL_AT | MATMUL_ACCUMULATE);
        // forward: att = softmax(scores)
        softmax_backward_rows(d, a, T);
        // forward: scores = q k^T / sqrt(hs)
#pragma omp simd
        for (int i = 0; i < T * T; i++) d[i] *= scale;
        if (dq != NULL) matmul(dq + at, d, k + at, T, hs, T, MATMUL_ACCUMULATE); // dscores · k
        if (dk != NULL)
            matmul(dk + at, d, q + at, T, hs, T, MATMUL_AT | MATMUL_ACCUMULATE); // dscores^T · q
    }
}
// endregion: attention-backward

// attention.c — softmax over the rows of a matrix, and scaled dot-product
// attention for one head: scores through matmul, softmax, then the weighted
// sum of the values through matmul again. The B batch items (or heads) are
// shared out among the threads.
#include "attention.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include "matmul.h"
#include "vecmath.h"

// region: softmax
VEC_CLONES
void softmax_rows(float *out, const float *in, int R, int N) {
    // out (R,N), in (R,N); out may equal in
    assert(R > 0 && N > 0);
    // 1. each row minus its largest value: every exponent is at most 0
    for (int r = 0; r < R; r++) {
        const float *x = in + (size_t)r * N; // (N)
        float *y = out + (size_t)r * N;      // (N)
        float max = x[0];
        for (int i = 1; i < N; i++) max = x[i] > max ? x[i] : max;
#pragma omp simd
        for (int i = 0; i < N; i++) y[i] = x[i] - max;
    }
    // 2. exponentials, in (0, 1], the largest exp(0) = 1: all rows in one loop
    size_t n = (size_t)R * N;
#pragma omp simd
    for (size_t i = 0; i < n; i++) out[i] = vec_expf(out[i]);
    // 3. each row divided by its sum
    for (int r = 0; r < R; r++) {
        float *y = out + (size_t)r * N, sum = 0.0f; // (N)
#pragma omp simd reduction(+ : sum)
        for (int i = 0; i < N; i++) sum += y[i];
        float inv = 1.0f / sum;
#pragma omp simd
        for (int i = 0; i < N; i++) y[i] *= inv;
    }
}
// endregion: softmax

// region: attention-forward
VEC_CLONES
void attention_forward(float *out, float *att, const float *q, const float *k, const float *v,
                       int B, int T, int hs) {
    // out (B,T,hs), att (B,T,T); q, k, v (B,T,hs)
    assert(B > 0 && T > 0 && hs > 0);
    float scale = 1.0f / sqrtf((float)hs);
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        size_t at = (size_t)b * T * hs;      // where this batch's (T,hs) rows start
        float *ab = att + (size_t)b * T * T; // (T,T)
        // scores = q k^T / sqrt(hs): how well query i matches key j
        matmul(ab, q + at, k + at, T, T, hs, MATMUL_BT);
#pragma omp simd
        for (int i = 0; i < T * T; i++) ab[i] *= scale;
        // weights: each query's row becomes a distribution over the keys
        softmax_rows(ab, ab, T, T);
        // out = att v: each query gets its weighted mix of the values
        matmul(out + at, ab, v + at, T, hs, T, 0);
    }
}
// endregion: attention-forward

// matmul.c — the matrix product C (M,N) = A (M,K) · B (K,N), optionally with A
// or B stored transposed and optionally added to C: a plain triple loop (the
// definition) and OpenBLAS's sgemm (the fast path).
#include "matmul.h"

#include <assert.h>
#include <cblas.h>
#include <stddef.h>
#include <stdbool.h>

static void check_arguments(int M, int N, int K, int flags) {
    assert(M > 0 && N > 0 && K > 0);
    assert((flags & ~(MATMUL_AT | MATMUL_BT | MATMUL_ACCUMULATE)) == 0);
    (void)M, (void)N, (void)K, (void)flags;
}

// region: matmul-reference
void matmul_reference(float *C, const float *A, const float *B, int M, int N, int K, int flags) {
    // C (M,N); A (M,K), or (K,M) with MATMUL_AT; B (K,N), or (N,K) with MATMUL_BT
    check_arguments(M, N, K, flags);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float sum = 0.0f;
            for (int k = 0; k < K; k++) {
                float a = (flags & MATMUL_AT) ? A[(size_t)k * M + i] : A[(size_t)i * K + k];
                float b = (flags & MATMUL_BT) ? B[(size_t)j * K + k] : B[(size_t)k * N + j];
                sum += a * b; // A[i][k] * B[k][j]
            }
            float *c = &C[(size_t)i * N + j];
            *c = (flags & MATMUL_ACCUMULATE) ? *c + sum : sum;
        }
}
// endregion: matmul-reference

// region: matmul-blas
void matmul(float *C, const float *A, const float *B, int M, int N, int K, int flags) {
    check_arguments(M, N, K, flags);
    // Row-major operands; the leading dimension is the length of a stored row.
    bool at = flags & MATMUL_AT, bt = flags & MATMUL_BT;
    cblas_sgemm(CblasRowMajor, at ? CblasTrans : CblasNoTrans, bt ? CblasTrans : CblasNoTrans, M, N,
                K, 1.0f, A, at ? M : K, B, bt ? K : N, (flags & MATMUL_ACCUMULATE) ? 1.0f : 0.0f, C,
                N);
}
// endregion: matmul-blas

// matmul.c — the matrix product C (M,N) = A (M,K) · B (K,N), optionally with A
// or B stored transposed and optionally added to C: a plain triple loop (the
// definition) and OpenBLAS's sgemm on blocks of rows shared out among the
// OpenMP threads (the fast path).
#include "matmul.h"

#include <assert.h>
#include <cblas.h>
#include <omp.h>
#include <stddef.h>
#include <stdbool.h>
#include "vecmath.h"

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

// Products too small for BLAS go to small_matmul (src/vecmath.h), in registers. B is
// read in place when it is stored (K,N) with N a multiple of 8, else from a packed copy.
VEC_CLONES
static void matmul_small(float *C, const float *A, const float *B, int M, int N, int K, int flags) {
    bool at = flags & MATMUL_AT, bt = flags & MATMUL_BT, accumulate = flags & MATMUL_ACCUMULATE;
    float packed[SMALL_PACKED];
    const float *b = B;
    int ldb = N;
    if (bt || N % 8 != 0) {
        small_pack_b(packed, B, bt ? K : N, N, K, bt, 1.0f);
        b = packed;
        ldb = round_up8(N);
    }
    int ai = at ? 1 : K, ak = at ? M : 1; // A[i][k] is A[i * ai + k * ak]
    small_matmul(C, N, A, ai, ak, b, ldb, M, N, K, accumulate);
}

// region: matmul-blas
// Rows i0 .. i1-1 of C through one single-threaded sgemm. Row-major operands;
// the leading dimension is the length of a stored row.
static void sgemm_rows(float *C, const float *A, const float *B, int i0, int i1, int M, int N,
                       int K, int flags) {
    bool at = flags & MATMUL_AT, bt = flags & MATMUL_BT;
    const float *Ai = at ? A + i0 : A + (size_t)i0 * K; // column i0 of (K,M), or row i0 of (M,K)
    cblas_sgemm(CblasRowMajor, at ? CblasTrans : CblasNoTrans, bt ? CblasTrans : CblasNoTrans,
                i1 - i0, N, K, 1.0f, Ai, at ? M : K, B, bt ? K : N,
                (flags & MATMUL_ACCUMULATE) ? 1.0f : 0.0f, C + (size_t)i0 * N, N);
}

// The threads split C's rows into one block each, and OpenBLAS runs single-threaded
// inside each block: one pool of threads (OpenMP's), not two fighting over the cores.
// A product too small to be worth waking the threads for, or asked for from inside
// threads already running, stays in one block.
void matmul(float *C, const float *A, const float *B, int M, int N, int K, int flags) {
    check_arguments(M, N, K, flags);
    double work = (double)M * N * K; // multiply-adds
    if (work < 32768.0 && K * round_up8(N) <= SMALL_PACKED) {
        matmul_small(C, A, B, M, N, K, flags);
        return;
    }
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    int blocks = work < 65536.0 || omp_in_parallel() ? 1 : omp_get_max_threads();
    if (blocks > M / 8) blocks = M / 8 > 1 ? M / 8 : 1; // at least 8 rows a block
    if (blocks == 1) { // no parallel region: even a team of one costs a system call
        sgemm_rows(C, A, B, 0, M, M, N, K, flags);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int b = 0; b < blocks; b++)
        sgemm_rows(C, A, B, (int)((long)M * b / blocks), (int)((long)M * (b + 1) / blocks), M, N, K,
                   flags);
}
// endregion: matmul-blas

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
    assert((flags & ~(MATMUL_AT | MATMUL_BT | MATMUL_ACCUMULATE | MATMUL_BY_COLUMN)) == 0);
    assert(!(flags & MATMUL_BY_COLUMN) || !(flags & MATMUL_BT));
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

// Rows i..i+3, columns j..j+15 of C = A B in registers, each element's sum
// from 0 over k in order (as matmul_reference), then stored or added:
// a = &A[i][0] (A[i+r][k] = a[r * ai + k * ak]), b = &B[0][j], c = &C[i][j].
VEC_INLINE void column_tile_4x16(float *c, int ldc, const float *a, int ai, int ak, const float *b,
                                 int ldb, int K, bool accumulate) {
    float8 s00 = {0}, s01 = {0}, s10 = {0}, s11 = {0}, s20 = {0}, s21 = {0}, s30 = {0}, s31 = {0};
    for (int k = 0; k < K; k++) {
        const float *bk = b + (size_t)k * ldb, *ak0 = a + (size_t)k * ak; // B[k][j], A[i][k]
        float8 b0 = *(const float8 *)bk, b1 = *(const float8 *)(bk + 8);
        float a0 = ak0[0], a1 = ak0[ai], a2 = ak0[2 * ai], a3 = ak0[3 * ai];
        s00 += a0 * b0, s01 += a0 * b1;
        s10 += a1 * b0, s11 += a1 * b1;
        s20 += a2 * b0, s21 += a2 * b1;
        s30 += a3 * b0, s31 += a3 * b1;
    }
    float8 *sums[4][2] = {{&s00, &s01}, {&s10, &s11}, {&s20, &s21}, {&s30, &s31}};
    for (int r = 0; r < 4; r++) {
        small_store(c + (size_t)r * ldc, 8, sums[r][0], accumulate);
        small_store(c + (size_t)r * ldc + 8, 8, sums[r][1], accumulate);
    }
}

// One element of C = A B, as matmul_reference sums it: for the edges of the tiles.
VEC_INLINE void column_element(float *c, const float *a, int ak, const float *b, int ldb, int K,
                               bool accumulate) {
    float sum = 0.0f;
    for (int k = 0; k < K; k++) sum += a[(size_t)k * ak] * b[(size_t)k * ldb];
    *c = accumulate ? *c + sum : sum;
}

// Rows i0..i1-1 of C = A B with MATMUL_BY_COLUMN: tiles of 4x16, the last
// rows and columns one element at a time.
VEC_CLONES
static void matmul_by_column(float *C, const float *A, const float *B, int i0, int i1, int M, int N,
                             int K, int flags) {
    bool accumulate = flags & MATMUL_ACCUMULATE;
    int ai = (flags & MATMUL_AT) ? 1 : K, ak = (flags & MATMUL_AT) ? M : 1;
    int N16 = N / 16 * 16, i = i0;
    for (; i + 4 <= i1; i += 4)
        for (int j = 0; j < N16; j += 16)
            column_tile_4x16(C + (size_t)i * N + j, N, A + (size_t)i * ai, ai, ak, B + j, N, K,
                             accumulate);
    for (int r = i0; r < i1; r++)
        for (int j = r < i ? N16 : 0; j < N; j++) // rows in tiles: the columns past them
            column_element(C + (size_t)r * N + j, A + (size_t)r * ai, ak, B + j, N, K, accumulate);
}

// region: matmul-blas
// Rows i0 .. i1-1 and columns j0 .. j1-1 of C through one single-threaded sgemm (or
// matmul_by_column, whole rows). Row-major operands; the leading dimension is the
// length of a stored row.
static void sgemm_block(float *C, const float *A, const float *B, int i0, int i1, int j0, int j1,
                        int M, int N, int K, int flags) {
    if (flags & MATMUL_BY_COLUMN) {
        matmul_by_column(C, A, B, i0, i1, M, N, K, flags);
        return;
    }
    bool at = flags & MATMUL_AT, bt = flags & MATMUL_BT;
    const float *Ai = at ? A + i0 : A + (size_t)i0 * K; // column i0 of (K,M), or row i0 of (M,K)
    const float *Bj = bt ? B + (size_t)j0 * K : B + j0; // row j0 of (N,K), or column j0 of (K,N)
    cblas_sgemm(CblasRowMajor, at ? CblasTrans : CblasNoTrans, bt ? CblasTrans : CblasNoTrans,
                i1 - i0, j1 - j0, K, 1.0f, Ai, at ? M : K, Bj, bt ? K : N,
                (flags & MATMUL_ACCUMULATE) ? 1.0f : 0.0f, C + (size_t)i0 * N + j0, N);
}

// The threads split C into one block each, and OpenBLAS runs single-threaded inside
// each block: one pool of threads (OpenMP's), not two fighting over the cores. C is
// cut into blocks of rows, or of columns when it has more columns than rows (a
// layer's few tokens times a wide weight: each thread then reads only its part of
// the weight). A product too small to be worth waking the threads for, or asked for
// from inside threads already running, stays in one block.
void matmul(float *C, const float *A, const float *B, int M, int N, int K, int flags) {
    check_arguments(M, N, K, flags);
    double work = (double)M * N * K; // multiply-adds
    bool by_column = flags & MATMUL_BY_COLUMN;
    if (!by_column && work < 32768.0 && K * round_up8(N) <= SMALL_PACKED) {
        matmul_small(C, A, B, M, N, K, flags);
        return;
    }
    if (!by_column && openblas_get_num_threads() != 1) openblas_set_num_threads(1);
    bool columns = !by_column && N > M; // cut C into blocks of columns
    int cut = columns ? N : M;          // the side cut into blocks
    int blocks = work < 65536.0 || omp_in_parallel() ? 1 : omp_get_max_threads();
    if (blocks > cut / 8) blocks = cut / 8 > 1 ? cut / 8 : 1; // at least 8 rows (columns) a block
    if (blocks == 1) { // no parallel region: even a team of one costs a system call
        sgemm_block(C, A, B, 0, M, 0, N, M, N, K, flags);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int b = 0; b < blocks; b++) {
        int lo = (int)((long)cut * b / blocks), hi = (int)((long)cut * (b + 1) / blocks);
        if (columns)
            sgemm_block(C, A, B, 0, M, lo, hi, M, N, K, flags);
        else
            sgemm_block(C, A, B, lo, hi, 0, N, M, N, K, flags);
    }
}
// endregion: matmul-blas

// matmul.h — the one matrix product every layer goes through:
//
//     C (M,N) = A (M,K) · B (K,N)        (+ C, with MATMUL_ACCUMULATE)
//
// Either operand may be stored transposed: with MATMUL_AT, A is stored as
// (K,M); with MATMUL_BT, B is stored as (N,K) — which is how a Linear weight
// (out, in) is used. All matrices are dense and row-major.
//
// Two implementations with the same contract: matmul_reference is the plain
// triple loop, the readable definition; matmul calls OpenBLAS's cblas_sgemm.
// The tests hold the fast one to the reference.
//
// With MATMUL_BY_COLUMN, matmul computes every element as the reference does,
// k = 0..K-1 added in order from 0 (register tiles of 4 rows x 16 columns,
// not OpenBLAS): the same bits as matmul_reference, so a column of C does not
// depend on where it sits in C or on the other columns. OpenBLAS's does: the
// same column of B gives a slightly different column of C at another place
// in a wider product, which a product of several images side by side
// (conv2d_gemm.h's chunks) must not allow. B may not be stored transposed.
#ifndef MATMUL_H
#define MATMUL_H

enum {
    MATMUL_AT = 1,           // A is stored (K,M)
    MATMUL_BT = 2,           // B is stored (N,K)
    MATMUL_ACCUMULATE = 4,   // add to C instead of overwriting it
    MATMUL_BY_COLUMN = 16,   // each element summed as matmul_reference does (not with BT)
};

void matmul(float *C, const float *A, const float *B, int M, int N, int K, int flags);
void matmul_reference(float *C, const float *A, const float *B, int M, int N, int K, int flags);

#endif

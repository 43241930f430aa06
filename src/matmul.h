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
#ifndef MATMUL_H
#define MATMUL_H

enum {
    MATMUL_AT = 1,           // A is stored (K,M)
    MATMUL_BT = 2,           // B is stored (N,K)
    MATMUL_ACCUMULATE = 4,   // add to C instead of overwriting it
};

void matmul(float *C, const float *A, const float *B, int M, int N, int K, int flags);
void matmul_reference(float *C, const float *A, const float *B, int M, int N, int K, int flags);

#endif

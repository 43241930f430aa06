// test_matmul.c — the matrix product: the reference loop on a case worked by
// hand, and the OpenBLAS path held to the reference for every combination of
// transposes and accumulation, on odd sizes; MATMUL_BY_COLUMN equal to the
// reference bit for bit, wherever a column sits.
#include <signal.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "check.h"
#include "matmul.h"
#include "rng.h"

// ---- by hand -----------------------------------------------------------------------

Test(matmul, a_two_by_two_product_by_hand) {
    const float A[4] = {1, 2, 3, 4}; // [[1,2],[3,4]]
    const float B[4] = {5, 6, 7, 8}; // [[5,6],[7,8]]
    // [[1*5+2*7, 1*6+2*8], [3*5+4*7, 3*6+4*8]]
    const float AB[4] = {19, 22, 43, 50};
    // A^T B = [[1,3],[2,4]] [[5,6],[7,8]]
    const float AtB[4] = {26, 30, 38, 44};
    // A B^T = [[1,2],[3,4]] [[5,7],[6,8]]
    const float ABt[4] = {17, 23, 39, 53};
    // A^T B^T = (B A)^T
    const float AtBt[4] = {23, 31, 34, 46};
    const float *want[4] = {AB, AtB, ABt, AtBt};
    for (int flags = 0; flags < 4; flags++) {
        float C[4] = {-1, -1, -1, -1};
        matmul_reference(C, A, B, 2, 2, 2, flags);
        expect_floats_equal("reference", C, want[flags], 4, 0);
        float D[4] = {-1, -1, -1, -1};
        matmul(D, A, B, 2, 2, 2, flags);
        expect_floats_equal("blas", D, want[flags], 4, 0);
    }
}

Test(matmul, a_non_square_product_by_hand) {
    // (2,3) · (3,1): two dot products
    const float A[6] = {1, 2, 3, -1, 0, 2};
    const float B[3] = {4, 5, 6};
    const float want[2] = {4 + 10 + 18, -4 + 0 + 12};
    float C[2];
    matmul_reference(C, A, B, 2, 1, 3, 0);
    expect_floats_equal("reference", C, want, 2, 0);
    matmul(C, A, B, 2, 1, 3, 0);
    expect_floats_equal("blas", C, want, 2, 0);
}

Test(matmul, accumulate_adds_to_what_is_there) {
    const float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8};
    const float want[4] = {19 + 10, 22 + 20, 43 + 30, 50 + 40};
    float C[4] = {10, 20, 30, 40}, D[4] = {10, 20, 30, 40};
    matmul_reference(C, A, B, 2, 2, 2, MATMUL_ACCUMULATE);
    matmul(D, A, B, 2, 2, 2, MATMUL_ACCUMULATE);
    expect_floats_equal("reference", C, want, 4, 0);
    expect_floats_equal("blas", D, want, 4, 0);
}

Test(matmul, overwrite_ignores_what_was_in_C) {
    const float A[1] = {2}, B[1] = {3};
    float C[1] = {NAN}, D[1] = {NAN};
    matmul_reference(C, A, B, 1, 1, 1, 0);
    matmul(D, A, B, 1, 1, 1, 0);
    cr_assert_eq(C[0], 6.0f);
    cr_assert_eq(D[0], 6.0f);
}

// ---- fast against reference ----------------------------------------------------------

// Every flag combination on M x N x K with random operands; C starts random too,
// so accumulation is checked against the same starting values.
static void expect_blas_matches_reference(int M, int N, int K, unsigned seed) {
    Rng rng;
    rng_seed(&rng, seed);
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C0 = malloc(sizeof(float) * M * N);
    float *fast = malloc(sizeof(float) * M * N), *slow = malloc(sizeof(float) * M * N);
    rng_fill_uniform(&rng, A, M * K, -1, 1);
    rng_fill_uniform(&rng, B, K * N, -1, 1);
    rng_fill_uniform(&rng, C0, M * N, -1, 1);
    for (int flags = 0; flags < 8; flags++) {
        for (int i = 0; i < M * N; i++) fast[i] = slow[i] = C0[i];
        matmul(fast, A, B, M, N, K, flags);
        matmul_reference(slow, A, B, M, N, K, flags);
        char name[96];
        snprintf(name, sizeof name, "%dx%dx%d%s%s%s", M, N, K, flags & MATMUL_AT ? " AT" : "",
                 flags & MATMUL_BT ? " BT" : "", flags & MATMUL_ACCUMULATE ? " ACCUMULATE" : "");
        // float sums of K terms of size <= 1 may round differently in each order
        expect_floats_close(name, fast, slow, M * N, 1e-6 * K, 1e-5);
    }
    free(A), free(B), free(C0), free(fast), free(slow);
}

Test(matmul, blas_matches_reference_on_1x1x1) {
    expect_blas_matches_reference(1, 1, 1, 1);
}

Test(matmul, blas_matches_reference_on_7x5x3) {
    expect_blas_matches_reference(7, 5, 3, 2);
}

Test(matmul, blas_matches_reference_on_33x17x65) {
    expect_blas_matches_reference(33, 17, 65, 3);
}

Test(matmul, blas_matches_reference_on_long_thin_shapes) {
    expect_blas_matches_reference(1, 64, 9, 4);  // one row
    expect_blas_matches_reference(50, 1, 13, 5); // one column
    expect_blas_matches_reference(3, 4, 257, 6); // a long inner dimension
}

Test(matmul, blas_matches_reference_on_a_patch_embedding_shape) {
    // (B*N, Cin*P*P) · (C, Cin*P*P)^T for B=2 Fashion-MNIST images, P=7, C=64
    expect_blas_matches_reference(32, 64, 49, 7);
}

Test(matmul, blas_matches_reference_when_the_threads_share_it) {
    // large enough to be cut among the threads: by rows (tall), by columns (wide)
    expect_blas_matches_reference(300, 20, 40, 8);
    expect_blas_matches_reference(20, 300, 40, 9);
}

// ---- MATMUL_BY_COLUMN ------------------------------------------------------------------

// The register path sums as the reference does: the same bits, with and without A
// transposed and accumulation, on sizes with 4x16 tiles and the rows and columns
// past them (M = 7, N = 37), from inside a parallel region and outside it (where
// matmul shares the rows among the threads).
Test(matmul, by_column_gives_the_references_bits) {
    enum { M = 7, N = 37, K = 300 };
    Rng rng;
    rng_seed(&rng, 8);
    static float A[M * K], B[K * N], C0[M * N], fast[M * N], slow[M * N], big[(8 * M) * N],
        bigA[(8 * M) * K];
    rng_fill_uniform(&rng, A, M * K, -1, 1);
    rng_fill_uniform(&rng, B, K * N, -1, 1);
    rng_fill_uniform(&rng, C0, M * N, -1, 1);
    for (int flags = 0; flags < 8; flags++) {
        if (flags & MATMUL_BT) continue;
        for (int i = 0; i < M * N; i++) fast[i] = slow[i] = C0[i];
        matmul(fast, A, B, M, N, K, flags | MATMUL_BY_COLUMN);
        matmul_reference(slow, A, B, M, N, K, flags);
        expect_floats_equal(flags & MATMUL_AT ? "AT" : "A", fast, slow, M * N, 0);
    }
    // 56 rows, enough to be shared among the threads outside a parallel region
    rng_fill_uniform(&rng, bigA, 8 * M * K, -1, 1);
    float *want = malloc(sizeof big);
    matmul(big, bigA, B, 8 * M, N, K, MATMUL_BY_COLUMN);
    matmul_reference(want, bigA, B, 8 * M, N, K, 0);
    expect_floats_equal("56 rows", big, want, 8 * M * N, 0);
    free(want);
}

// A column of C is the same wherever it sits among other columns: the point of
// MATMUL_BY_COLUMN (OpenBLAS's sgemm does not promise it, and on some shapes
// does not give it).
Test(matmul, by_column_a_column_does_not_depend_on_its_place) {
    enum { M = 16, K = 144, P = 5, N = 64 };
    Rng rng;
    rng_seed(&rng, 9);
    static float A[M * K], X[K * P], B[K * N], C[M * N], alone[M * P];
    rng_fill_uniform(&rng, A, M * K, -1, 1);
    rng_fill_uniform(&rng, X, K * P, -1, 1);
    matmul(alone, A, X, M, P, K, MATMUL_BY_COLUMN);
    for (int at = 0; at + P <= N; at += 9) {
        rng_fill_uniform(&rng, B, K * N, -1, 1);
        for (int k = 0; k < K; k++)
            for (int p = 0; p < P; p++) B[k * N + at + p] = X[k * P + p];
        matmul(C, A, B, M, N, K, MATMUL_BY_COLUMN);
        for (int i = 0; i < M; i++)
            expect_floats_equal("the same columns elsewhere", C + i * N + at, alone + i * P, P, 0);
    }
}

// ---- misuse ------------------------------------------------------------------------

Test(matmul, an_unknown_flag_is_a_programmer_error, .signal = SIGABRT, .init = cr_redirect_stderr) {
    float A[1] = {1}, B[1] = {1}, C[1];
    matmul(C, A, B, 1, 1, 1, 8);
}

Test(matmul, an_empty_size_is_a_programmer_error, .signal = SIGABRT, .init = cr_redirect_stderr) {
    float A[1] = {1}, B[1] = {1}, C[1];
    matmul_reference(C, A, B, 1, 0, 1, 0);
}

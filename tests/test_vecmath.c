// test_vecmath.c — src/vecmath.h: the vectorisable exp and erf held to double
// precision over dense ranges (and compared with what libm's expf and erff
// achieve), the GELU built on them held to the erff formula, and small_matmul
// with strided and transposed operands held to matmul_reference.
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include "check.h"
#include "gelu.h"
#include "matmul.h"
#include "rng.h"
#include "vecmath.h"

// ---- exp and erf ------------------------------------------------------------------

Test(vecmath, exp_is_within_float_epsilon_where_it_is_a_normal_float) {
    double worst = 0.0, worst_libm = 0.0; // relative error
    for (float x = -87.0f; x <= 88.0f; x += 1.0e-3f) {
        double want = exp((double)x);
        worst = fmax(worst, fabs(vec_expf(x) - want) / want);
        worst_libm = fmax(worst_libm, fabs(expf(x) - want) / want);
    }
    cr_log_info("vec_expf: largest relative error %.2g (expf: %.2g)", worst, worst_libm);
    cr_expect_lt(worst, FLT_EPSILON, "largest relative error %.3g", worst); // 1 to 2 ulp
}

Test(vecmath, exp_of_zero_is_one_and_far_below_it_is_zero) {
    cr_expect_eq(vec_expf(0.0f), 1.0f);
    cr_expect_eq(vec_expf(-87.5f), 0.0f);
    cr_expect_eq(vec_expf(-1e4f), 0.0f);
    cr_expect_eq(vec_expf(-INFINITY), 0.0f);
    cr_expect(isfinite(vec_expf(1e4f)), "no overflow to infinity");
}

Test(vecmath, erf_is_within_2e_7_of_the_double_erf) {
    double worst = 0.0, worst_libm = 0.0, at = 0.0;
    for (float x = -6.0f; x <= 6.0f; x += 1.0e-5f) {
        double want = erf((double)x), e = fabs(vec_erff(x) - want);
        if (e > worst) worst = e, at = x;
        worst_libm = fmax(worst_libm, fabs(erff(x) - want));
    }
    cr_log_info("vec_erff: largest error %.2g at %.4f (erff: %.2g)", worst, at, worst_libm);
    cr_expect_lt(worst, 2e-7, "largest error %.3g at x = %.6f", worst, at);
}

Test(vecmath, erf_is_odd_and_saturates) {
    for (float x = 0.0f; x < 8.0f; x += 0.37f) cr_expect_eq(vec_erff(-x), -vec_erff(x));
    cr_expect_eq(vec_erff(0.0f), 0.0f);
    cr_expect_eq(vec_erff(10.0f), 1.0f);
    cr_expect_eq(vec_erff(-30.0f), -1.0f);
}

Test(vecmath, gelu_agrees_with_the_erff_formula_on_a_dense_range) {
    enum { n = 200001 };
    float *x = malloc(sizeof(float) * n), *got = malloc(sizeof(float) * n);
    float *want = malloc(sizeof(float) * n);
    for (int i = 0; i < n; i++) {
        x[i] = -10.0f + 20.0f * (float)i / (n - 1);
        want[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
    }
    gelu_forward(got, x, n);
    // erff and vec_erff are each within 2e-7 of erf, and GELU multiplies by x / 2
    for (int i = 0; i < n; i++)
        cr_assert(fabsf(got[i] - want[i]) <= 2e-7f * fmaxf(1.0f, fabsf(x[i])) + 1e-7f,
                  "gelu(%.6f) = %.9g, the erff formula gives %.9g", x[i], got[i], want[i]);
    free(x), free(got), free(want);
}

// ---- small_matmul ---------------------------------------------------------------------

// C (M,N) at row stride ldc = A · B with A read through strides (ai, ak), B packed by
// small_pack_b from rows ld apart, against matmul_reference on dense copies.
static void expect_small_matmul_matches(int M, int N, int K, bool at, bool bt, unsigned seed) {
    Rng rng;
    rng_seed(&rng, seed);
    int lda = (at ? M : K) + 3, ld = (bt ? K : N) + 5, ldc = N + 2; // strides with gaps
    int arows = at ? K : M, brows = bt ? N : K;
    float *A = malloc(sizeof(float) * arows * lda), *B = malloc(sizeof(float) * brows * ld);
    float *C = malloc(sizeof(float) * M * ldc), *dense_a = malloc(sizeof(float) * M * K);
    float *dense_b = malloc(sizeof(float) * K * N), *want = malloc(sizeof(float) * M * N);
    float packed[SMALL_PACKED], *got = malloc(sizeof(float) * M * N);
    rng_fill_uniform(&rng, A, arows * lda, -1, 1);
    rng_fill_uniform(&rng, B, brows * ld, -1, 1);
    for (int r = 0; r < arows; r++)
        for (int c = 0; c < (at ? M : K); c++) dense_a[r * (at ? M : K) + c] = A[r * lda + c];
    for (int r = 0; r < brows; r++)
        for (int c = 0; c < (bt ? K : N); c++) dense_b[r * (bt ? K : N) + c] = B[r * ld + c];
    matmul_reference(want, dense_a, dense_b, M, N, K, (at ? MATMUL_AT : 0) | (bt ? MATMUL_BT : 0));
    small_pack_b(packed, B, ld, N, K, bt, 1.0f);
    small_matmul(C, ldc, A, at ? 1 : lda, at ? lda : 1, packed, round_up8(N), M, N, K, false);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) got[i * N + j] = C[i * ldc + j];
    expect_floats_close("small_matmul", got, want, M * N, 1e-6 * K, 1e-5);
    free(A), free(B), free(C), free(dense_a), free(dense_b), free(want), free(got);
}

Test(vecmath, small_matmul_matches_the_reference_with_strides_and_transposes) {
    for (int flags = 0; flags < 4; flags++) {
        bool at = flags & 1, bt = flags & 2;
        expect_small_matmul_matches(17, 17, 16, at, bt, 1 + flags); // attention's scores
        expect_small_matmul_matches(17, 16, 17, at, bt, 5 + flags); // its weighted values
        expect_small_matmul_matches(1, 1, 1, at, bt, 9 + flags);
        expect_small_matmul_matches(6, 9, 3, at, bt, 13 + flags); // rows and columns left over
    }
}

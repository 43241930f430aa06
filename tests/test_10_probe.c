// test_10_probe.c — the few-shot linear probe (src/linear_probe.h).
//
// Regularised least squares: on a noiseless linear problem Y = X W with more
// rows than columns, a tiny λ gives W back; λ shrinks it by the amount worked
// out by hand when XᵀX = n·I; λ = 0 on a rank-deficient X is refused, not a
// NaN. The probe: equal to NumPy's solution (tests/fixtures/10_probe.bin,
// tools/reference.py's linear_probe: the paper's recipe in float64) — the
// standardisation, the weights and the test scores — with more images than
// features and with fewer; classes a linear map separates are all predicted
// right; a feature that never changes leaves everything finite.
#include <math.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "check.h"
#include "fixture.h"
#include "linear_probe.h"
#include "owned.h"
#include "rng.h"

static Fixture f;
static LinearProbe probe;

static void unload(void) {
    fixture_free(&f);
    linear_probe_free(&probe);
    owned_release();
}

TestSuite(finetune_probe, .fini = unload);

// Y (n,K) = X (n,D) · W (D,K), in double.
static void multiply(float *Y, const float *X, const float *W, int n, int D, int K) {
    for (int i = 0; i < n; i++)
        for (int k = 0; k < K; k++) {
            double s = 0.0;
            for (int j = 0; j < D; j++) s += (double)X[i * D + j] * W[j * K + k];
            Y[i * K + k] = (float)s;
        }
}

Test(finetune_probe, least_squares_recovers_a_noiseless_linear_map) {
    enum { n = 50, D = 6, K = 3 };
    Rng rng;
    rng_seed(&rng, 20);
    float *X = random_floats(&rng, n * D, 0.0f, 1.0f), *W = random_floats(&rng, D * K, 0.0f, 2.0f);
    float *Y = floats(n * K), *got = floats(D * K);
    multiply(Y, X, W, n, D, K);
    Error err;
    cr_assert(ridge_solve(got, X, Y, n, D, K, 1e-9, &err), "%s", err.message);
    // Y rounded to float, the solve in double: the weights to a few ulp of their size
    expect_floats_equal("W", got, W, D * K, 1e-5);
    // and with λ = 0 exactly (X has full column rank)
    cr_assert(ridge_solve(got, X, Y, n, D, K, 0.0, &err), "%s", err.message);
    expect_floats_equal("W, λ = 0", got, W, D * K, 1e-5);
}

Test(finetune_probe, penalty_shrinks_the_weights_as_worked_by_hand) {
    // X = the n x n identity scaled by s: XᵀX = s²I, so W = s²/(s² + λ) · W_true
    enum { n = 4, K = 2 };
    float X[n * n] = {0}, W[n * K], Y[n * K], got[n * K], want[n * K];
    for (int i = 0; i < n; i++) X[i * n + i] = 3.0f;
    for (int k = 0; k < n * K; k++) W[k] = (float)(k - 3);
    multiply(Y, X, W, n, n, K);
    Error err;
    cr_assert(ridge_solve(got, X, Y, n, n, K, 9.0, &err), "%s", err.message);
    for (int k = 0; k < n * K; k++) want[k] = W[k] * 9.0f / 18.0f;
    expect_floats_equal("W shrunk by half", got, want, n * K, 1e-6);
}

Test(finetune_probe, singular_without_penalty_is_refused) {
    enum { n = 3, D = 5, K = 2 }; // fewer rows than columns: XᵀX has rank 3 < 5
    Rng rng;
    rng_seed(&rng, 21);
    float *X = random_floats(&rng, n * D, 0.0f, 1.0f), *Y = random_floats(&rng, n * K, 0.0f, 1.0f);
    float *W = floats(D * K);
    Error err;
    cr_assert_not(ridge_solve(W, X, Y, n, D, K, 0.0, &err));
    cr_log_info("%s", err.message);
    cr_expect(strstr(err.message, "dposv") != NULL, "%s", err.message);
    // any λ > 0 makes it positive definite
    cr_assert(ridge_solve(W, X, Y, n, D, K, 1e-3, &err), "%s", err.message);
    for (int k = 0; k < D * K; k++) cr_assert(isfinite(W[k]), "W[%d] = %g", k, W[k]);
}

Test(finetune_probe, fewer_images_than_features_solve_the_normal_equations) {
    // n < D: ridge_solve takes the images' side, W = Xᵀ(XXᵀ + λI)⁻¹Y; W must
    // still satisfy the D equations (XᵀX + λI) W = XᵀY, checked in double
    enum { n = 7, D = 30, K = 3 };
    const double l2 = 0.5;
    Rng rng;
    rng_seed(&rng, 22);
    float *X = random_floats(&rng, n * D, 0.0f, 1.0f), *Y = random_floats(&rng, n * K, 0.0f, 1.0f);
    float *W = floats(D * K);
    Error err;
    cr_assert(ridge_solve(W, X, Y, n, D, K, l2, &err), "%s", err.message);
    double worst = 0.0;
    for (int a = 0; a < D; a++)
        for (int k = 0; k < K; k++) {
            double left = l2 * W[a * K + k], right = 0.0;
            for (int i = 0; i < n; i++) {
                double xw = 0.0;
                for (int b = 0; b < D; b++) xw += (double)X[i * D + b] * W[b * K + k];
                left += X[i * D + a] * xw;
                right += (double)X[i * D + a] * Y[i * K + k];
            }
            worst = fmax(worst, fabs(left - right));
        }
    cr_expect(worst < 1e-5, "largest residual of the normal equations %g", worst);
}

// One case of the fixture: fit on "<case>.x" and compare with NumPy.
static void check_case(const char *c, int n) {
    enum { D = 8, K = 3, NT = 20 };
    const float *x = fixture_get_field(&f, c, "x", n, D);
    const float *label_values = fixture_get_field(&f, c, "labels", n);
    double l2 = fixture_get_field(&f, c, "l2", 1)[0];
    int labels[64];
    for (int i = 0; i < n; i++) labels[i] = (int)label_values[i];
    Error err;
    cr_assert(linear_probe_fit(&probe, x, labels, n, D, K, l2, &err), "%s", err.message);
    expect_floats_close("mean", probe.mean, fixture_get_field(&f, c, "mean", D), D, 1e-6, 1e-6);
    expect_floats_close("std", probe.std, fixture_get_field(&f, c, "std", D), D, 1e-6, 1e-6);
    // standardised in float, solved in double: the weights to 1e-5 of the largest
    const float *w = fixture_get_field(&f, c, "w", D + 1, K);
    double big = 0.0;
    for (int k = 0; k < (D + 1) * K; k++) big = fmax(big, fabs(w[k]));
    expect_floats_equal("W", probe.W, w, (D + 1) * K, 1e-5 * big);
    float scores[NT * K];
    const float *test_x = fixture_get_field(&f, c, "test_x", NT, D);
    linear_probe_scores(scores, &probe, test_x, NT);
    expect_floats_close("test scores", scores, fixture_get_field(&f, c, "scores", NT, K), NT * K,
                        1e-4, 1e-4);
    // the predictions are the argmax of NumPy's scores
    const float *want_scores = fixture_get_field(&f, c, "scores", NT, K);
    int predicted[NT], want[NT];
    linear_probe_predict(predicted, &probe, test_x, NT);
    for (int i = 0; i < NT; i++) {
        want[i] = 0;
        for (int k = 1; k < K; k++)
            if (want_scores[i * K + k] > want_scores[i * K + want[i]]) want[i] = k;
    }
    expect_ints_equal("predictions", predicted, want, NT);
    linear_probe_free(&probe);
}

Test(finetune_probe, matches_numpy) {
    fixture_load(&f, "10_probe.bin");
    check_case("probe", 40);  // 40 images, 8 features, λ = 2
    check_case("fewshot", 6); // 6 images, fewer than the 9 columns, λ = 1024
}

Test(finetune_probe, separable_classes_all_right) {
    // four classes, each a tight cluster around its own corner of a 10-d space
    enum { D = 10, K = 4, shots = 5, n = K * shots, NT = 200 };
    Rng rng;
    rng_seed(&rng, 22);
    float *x = floats(n * D), *test = floats(NT * D);
    int labels[n], test_labels[NT];
    for (int i = 0; i < n + NT; i++) {
        int label = i % K;
        float *row = i < n ? x + i * D : test + (i - n) * D;
        for (int j = 0; j < D; j++) row[j] = 0.2f * rng_normal(&rng) + (j == label ? 4.0f : 0.0f);
        if (i < n)
            labels[i] = label;
        else
            test_labels[i - n] = label;
    }
    Error err;
    cr_assert(linear_probe_fit(&probe, x, labels, n, D, K, 1.0, &err), "%s", err.message);
    cr_expect_eq(linear_probe_accuracy(&probe, x, labels, n), 1.0);
    cr_expect_eq(linear_probe_accuracy(&probe, test, test_labels, NT), 1.0);
}

Test(finetune_probe, constant_feature_stays_finite) {
    enum { D = 5, K = 3, n = 9 };
    Rng rng;
    rng_seed(&rng, 23);
    float *x = random_floats(&rng, n * D, 1.0f, 1.0f);
    int labels[n];
    for (int i = 0; i < n; i++) x[i * D + 2] = 7.0f, labels[i] = i % K; // feature 2 never changes
    Error err;
    cr_assert(linear_probe_fit(&probe, x, labels, n, D, K, 1024.0, &err), "%s", err.message);
    cr_expect(probe.std[2] == (float)LINEAR_PROBE_STD_EPS, "std %g", probe.std[2]);
    for (int k = 0; k < (D + 1) * K; k++)
        cr_assert(isfinite(probe.W[k]), "W[%d] = %g", k, probe.W[k]);
    float scores[n * K];
    linear_probe_scores(scores, &probe, x, n);
    for (int k = 0; k < n * K; k++) cr_assert(isfinite(scores[k]), "score %d = %g", k, scores[k]);
}

// test_09_inspect.c — chapter 09's measurements of a trained ViT, held to their
// definitions on cases small enough to work out by hand.
//
// Attention rollout (src/rollout.h): every row of the rollout sums to 1 (each
// layer's matrix is row-stochastic, and so is their product), and identity
// attention in every head and layer rolls out to the identity. Mean attention
// distance (src/attention_distance.h): on a 2x2 grid of patches P pixels
// apart, uniform attention gives the mean distance over all 16 ordered pairs,
// P(0 + 1 + 1 + √2)/4, and on a 3x3 grid the mean over its 81 pairs, counted below;
// identity attention gives 0; a class token in front changes neither.
// Principal components (src/pca.h): orthonormal, and equal up to sign to
// NumPy's (tests/fixtures/09_pca.bin, written by tools/reference.py's pca),
// their variances too. Cosine similarity (src/embed.h): a vector with itself is 1.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "attention_distance.h"
#include "check.h"
#include "embed.h"
#include "fixture.h"
#include "owned.h"
#include "pca.h"
#include "rng.h"
#include "rollout.h"

TestSuite(inspect, .fini = owned_release);

// att (count,T,T): every row a random distribution (softmax of N(0,1) scores).
static void random_attention(float *att, int count, int T, Rng *rng) {
    for (int r = 0; r < count * T; r++) {
        float *row = att + (size_t)r * T;
        double sum = 0.0;
        for (int j = 0; j < T; j++) sum += row[j] = expf(rng_normal(rng));
        for (int j = 0; j < T; j++) row[j] = (float)(row[j] / sum);
    }
}

// att (count,T,T): the identity in each.
static void identity_attention(float *att, int count, int T) {
    for (int c = 0; c < count; c++)
        for (int i = 0; i < T; i++)
            for (int j = 0; j < T; j++) att[((size_t)c * T + i) * T + j] = i == j ? 1.0f : 0.0f;
}

Test(inspect, rollout_rows_sum_to_one) {
    enum { L = 6, NH = 4, T = 17 };
    Rng rng;
    rng_seed(&rng, 9);
    float *att = floats(L * NH * T * T), *out = floats(T * T);
    float *scratch = floats(2 * T * T);
    random_attention(att, L * NH, T, &rng);
    const float *layers[L];
    for (int l = 0; l < L; l++) layers[l] = att + (size_t)l * NH * T * T;
    rollout(out, layers, L, NH, T, scratch);
    float sums[T], ones[T];
    for (int i = 0; i < T; i++) {
        double s = 0.0;
        for (int j = 0; j < T; j++) {
            cr_assert(out[i * T + j] >= 0.0f, "rollout[%d][%d] = %g < 0", i, j, out[i * T + j]);
            s += out[i * T + j];
        }
        sums[i] = (float)s, ones[i] = 1.0f;
    }
    // six products of 17 terms in float: a few ulp of 1
    expect_floats_equal("rollout row sums", sums, ones, T, 1e-5);
    // one layer alone: its rows sum to 1 too, and the diagonal got the residual's 1/2 at least
    rollout(out, layers, 1, NH, T, scratch);
    for (int i = 0; i < T; i++)
        cr_assert(out[i * T + i] >= 0.5f, "diagonal [%d] %g", i, out[i * T + i]);
}

Test(inspect, rollout_of_identity_attention_is_identity) {
    enum { L = 3, NH = 2, T = 5 };
    float *att = floats(L * NH * T * T), *out = floats(T * T);
    float *scratch = floats(2 * T * T), *eye = floats(T * T);
    identity_attention(att, L * NH, T);
    identity_attention(eye, 1, T);
    const float *layers[L];
    for (int l = 0; l < L; l++) layers[l] = att + (size_t)l * NH * T * T;
    rollout(out, layers, L, NH, T, scratch);
    expect_floats_equal("rollout of identity attention", out, eye, T * T, 0.0);
}

Test(inspect, rollout_averages_heads_and_adds_identity) {
    // one layer, two heads on T = 2: head 0 looks at token 1, head 1 at itself
    float att[2 * 2 * 2] = {0, 1, 0, 1, 1, 0, 0, 1}, out[4], scratch[8];
    const float *layers[1] = {att};
    rollout(out, layers, 1, 2, 2, scratch);
    // mean [[.5,.5],[0,1]] + I = [[1.5,.5],[0,2]], rows / 2
    float want[4] = {0.75f, 0.25f, 0.0f, 1.0f};
    expect_floats_equal("one layer", out, want, 4, 1e-7);
}

// Uniform attention over T tokens, count matrices (T,T).
static float *uniform_attention(int count, int T) {
    float *att = floats((size_t)count * T * T);
    for (int i = 0; i < count * T * T; i++) att[i] = 1.0f / T;
    return att;
}

Test(inspect, attention_distance_of_uniform_attention) {
    // 2x2 grid, patches 7 pixels apart: from every patch the distances are 0, 7, 7, 7√2
    double want2 = 7.0 * (0.0 + 1.0 + 1.0 + sqrt(2.0)) / 4.0;
    for (int first = 0; first <= 1; first++) { // with a class token in front, the same
        int T = first + 4;
        float *att = uniform_attention(1, T);
        double got = attention_distance(att, T, first, 2, 7.0);
        cr_expect(fabs(got - want2) < 1e-6, "2x2, first %d: %.9f, want %.9f", first, got, want2);
    }
    // 3x3 grid, 1 pixel apart: the 81 ordered pairs by hand. An offset (dy,dx)
    // occurs (3-|dy|)(3-|dx|) times, so distance 0: 9 pairs, 1: 24, √2: 16,
    // 2: 12, √5: 16, √8: 4
    double want3 = (24 * 1.0 + 16 * sqrt(2.0) + 12 * 2.0 + 16 * sqrt(5.0) + 4 * sqrt(8.0)) / 81.0;
    float *att = uniform_attention(1, 10);
    double got = attention_distance(att, 10, 1, 3, 1.0);
    cr_expect(fabs(got - want3) < 1e-6, "3x3: %.9f, want %.9f", got, want3);
    // every head and image alike: the sum is B·NH copies per head
    enum { B = 3, NH = 2 };
    float *many = uniform_attention(B * NH, 10);
    double sum[NH] = {0};
    attention_distance_heads(sum, many, B, NH, 10, 1, 3, 1.0);
    for (int h = 0; h < NH; h++)
        cr_expect(fabs(sum[h] / B - want3) < 1e-6, "head %d: %.9f", h, sum[h] / B);
}

Test(inspect, attention_distance_of_identity_attention_is_zero) {
    enum { g = 4, T = 1 + g * g };
    float *att = floats(T * T);
    identity_attention(att, 1, T);
    cr_expect_eq(attention_distance(att, T, 1, g, 7.0), 0.0);
    // all of a query's weight on the class token: nothing on the grid, distance 0
    for (int i = 0; i < T * T; i++) att[i] = i % T == 0 ? 1.0f : 0.0f;
    cr_expect_eq(attention_distance(att, T, 1, g, 7.0), 0.0);
}

Test(inspect, patch_distance_by_hand) {
    cr_expect_eq(patch_distance(0, 0, 4, 7.0), 0.0);
    cr_expect_eq(patch_distance(0, 3, 4, 7.0), 21.0);  // along the first row
    cr_expect_eq(patch_distance(0, 12, 4, 7.0), 21.0); // down the first column
    cr_expect(fabs(patch_distance(0, 5, 4, 7.0) - 7.0 * sqrt(2.0)) < 1e-12);
    cr_expect_eq(patch_distance(5, 0, 4, 7.0), patch_distance(0, 5, 4, 7.0));
}

Test(inspect, principal_components_match_numpy) {
    enum { n = 40, d = 12 };
    Fixture f;
    fixture_load(&f, "09_pca.bin");
    const float *x = fixture_get(&f, "pca.x", n, d);
    const float *want = fixture_get(&f, "pca.components", d, d);
    const float *want_var = fixture_get(&f, "pca.variance", d);
    float *got = floats(d * d), var[d];
    Error err;
    cr_assert(pca_fit(got, var, x, n, d, &err), "%s", err.message);
    // the variances: float inputs, double arithmetic, against float64 NumPy
    expect_floats_close("variance", var, want_var, d, 1e-5 * want_var[0], 1e-5);
    // the components up to sign, for the four strong directions and the rest
    // (the noise's eigenvalues are distinct too, though closer: a looser tolerance)
    for (int k = 0; k < d; k++) {
        double dot = 0.0;
        for (int j = 0; j < d; j++) dot += (double)got[k * d + j] * want[k * d + j];
        float sign = dot < 0.0 ? -1.0f : 1.0f, flipped[d];
        for (int j = 0; j < d; j++) flipped[j] = sign * got[k * d + j];
        char name[32];
        snprintf(name, sizeof name, "component %d", k);
        expect_floats_equal(name, flipped, want + k * d, d, k < 4 ? 1e-5 : 1e-3);
    }
    cr_expect(pca_explained(var, d, 4) > 0.95, "four directions explain %.3f",
              pca_explained(var, d, 4));
    cr_expect_eq(pca_explained(var, d, d), 1.0);
    fixture_free(&f);
}

Test(inspect, principal_components_are_orthonormal) {
    enum { n = 30, d = 16 };
    Rng rng;
    rng_seed(&rng, 4);
    float *x = floats(n * d), *pc = floats(d * d), var[d];
    for (int i = 0; i < n * d; i++) x[i] = rng_normal(&rng) * (1.0f + (float)(i % d));
    Error err;
    cr_assert(pca_fit(pc, var, x, n, d, &err), "%s", err.message);
    float gram[d * d], eye[d * d];
    for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++) {
            double s = 0.0;
            for (int j = 0; j < d; j++) s += (double)pc[a * d + j] * pc[b * d + j];
            gram[a * d + b] = (float)s, eye[a * d + b] = a == b ? 1.0f : 0.0f;
        }
    expect_floats_equal("components · componentsᵀ", gram, eye, d * d, 1e-6);
    for (int k = 1; k < d; k++) cr_expect(var[k] <= var[k - 1], "variance %d above %d", k, k - 1);
    // fewer vectors than numbers (n - 1 < d): the last variances are zero, the components still
    // orthonormal
    cr_assert(pca_fit(pc, var, x, 5, d, &err), "%s", err.message);
    for (int k = 4; k < d; k++)
        cr_expect(fabsf(var[k]) < 1e-4f * var[0], "variance %d: %g", k, var[k]);
}

Test(inspect, cosine_similarity_of_a_vector_with_itself_is_one) {
    enum { R = 3, C = 64 };
    Rng rng;
    rng_seed(&rng, 2);
    float x[R * C], sim[R * R];
    for (int i = 0; i < R * C; i++) x[i] = 3.0f * rng_normal(&rng);
    for (int c = 0; c < C; c++) x[2 * C + c] = -x[c]; // row 2 = -row 0
    cosine_similarity_rows(sim, x, R, C);
    float diag[R] = {sim[0], sim[4], sim[8]}, ones[R] = {1, 1, 1};
    expect_floats_equal("cos(x, x)", diag, ones, R, 1e-6);
    cr_expect(fabsf(sim[2] + 1.0f) < 1e-6f, "cos(x, -x) = %g", sim[2]);
    cr_expect(fabsf(sim[1] - sim[3]) == 0.0f, "not symmetric: %g %g", sim[1], sim[3]);
}

// test_03_attention.c — chapter 03: softmax and single-head scaled dot-product
// attention. A case worked by hand; the properties the chapter teaches (rows
// are distributions, equal scores give equal weights, permuting the tokens
// permutes the result when there are no position embeddings); stability on huge
// scores; and attention_forward held to a plain-loop definition on random data.
#include <math.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include "attention.h"
#include "check.h"
#include "linear.h"
#include "rng.h"
#include "standardize.h"

static float *random_floats(Rng *rng, int n, float std) {
    float *x = malloc(sizeof(float) * n);
    rng_fill_normal(rng, x, n, 0.0f, std);
    return x;
}

// Largest |sum of row - 1| over the rows of a (R,N).
static double worst_row_sum_error(const float *a, int R, int N) {
    double worst = 0.0;
    for (int r = 0; r < R; r++) {
        double sum = 0.0;
        for (int i = 0; i < N; i++) sum += a[r * N + i];
        worst = fmax(worst, fabs(sum - 1.0));
    }
    return worst;
}

// ---- softmax -----------------------------------------------------------------------

Test(attention, softmax_by_hand) {
    // exp(0), exp(ln 3) = 1, 3 -> 1/4, 3/4; equal entries -> equal shares
    const float in[2 * 2] = {0.0f, logf(3.0f), 5.0f, 5.0f};
    const float want[2 * 2] = {0.25f, 0.75f, 0.5f, 0.5f};
    float out[4];
    softmax_rows(out, in, 2, 2);
    expect_floats_close("softmax", out, want, 4, 1e-7, 1e-6);
}

Test(attention, softmax_rows_sum_to_one_and_may_work_in_place) {
    Rng rng;
    rng_seed(&rng, 3);
    int R = 7, N = 13;
    float *x = random_floats(&rng, R * N, 4.0f);
    float *out = malloc(sizeof(float) * R * N);
    softmax_rows(out, x, R, N);
    cr_assert_lt(worst_row_sum_error(out, R, N), 1e-6);
    for (int i = 0; i < R * N; i++)
        cr_assert(out[i] > 0.0f && out[i] <= 1.0f, "[%d] = %g", i, out[i]);
    softmax_rows(x, x, R, N); // in place
    expect_floats_equal("softmax in place", x, out, R * N, 0);
    free(x);
    free(out);
}

Test(attention, softmax_of_huge_inputs_has_no_nan) {
    // exp(1e4) overflows a float: only subtracting the row's maximum keeps it finite
    const float in[3 * 3] = {1e4f,  1e4f - 1.0f, -1e4f, // shift of (0, -1, -2e4)
                             1e4f,  1e4f,        1e4f,  // all equal
                             -1e4f, -1e4f,       -1e4f + 2.0f};
    float out[9];
    softmax_rows(out, in, 3, 3);
    float e = expf(-1.0f);
    const float want[9] = {1.0f / (1.0f + e),
                           e / (1.0f + e),
                           0.0f,
                           1.0f / 3,
                           1.0f / 3,
                           1.0f / 3,
                           1.0f / (2.0f + expf(2.0f)),
                           1.0f / (2.0f + expf(2.0f)),
                           expf(2.0f) / (2.0f + expf(2.0f))};
    for (int i = 0; i < 9; i++) cr_assert(isfinite(out[i]), "softmax[%d] = %g", i, out[i]);
    expect_floats_close("softmax of huge inputs", out, want, 9, 1e-7, 1e-6);
}

Test(attention, huge_scores_give_one_hot_weights_not_nan) {
    // q·k of 1e8: the weights are one-hot on the best key, and finite
    const float q[2 * 2] = {1e4f, 1e4f, -1e4f, 0.0f};
    const float k[2 * 2] = {1.0f, 1.0f, -1.0f, -1.0f};
    const float v[2 * 2] = {1.0f, 2.0f, 3.0f, 4.0f};
    float att[4], out[4];
    attention_forward(out, att, q, k, v, 1, 2, 2);
    const float want_att[4] = {1, 0, 0, 1}, want_out[4] = {1, 2, 3, 4};
    expect_floats_equal("weights", att, want_att, 4, 0);
    expect_floats_equal("output", out, want_out, 4, 0);
}

// ---- attention by hand -------------------------------------------------------------

Test(attention, two_tokens_by_hand) {
    // T = 2, hs = 2, so the scale is 1/sqrt(2).
    // query 0 = (sqrt(2) ln 3, 0): scores (ln 3, 0) -> weights (3/4, 1/4)
    // query 1 = (0, 0):            scores (0, 0)    -> weights (1/2, 1/2)
    const float q[4] = {sqrtf(2.0f) * logf(3.0f), 0.0f, 0.0f, 0.0f};
    const float k[4] = {1.0f, 0.0f, 0.0f, 1.0f};
    const float v[4] = {1.0f, 2.0f, 5.0f, 6.0f};
    // out 0 = 3/4 (1,2) + 1/4 (5,6) = (2,3); out 1 = 1/2 (1,2) + 1/2 (5,6) = (3,4)
    const float want_att[4] = {0.75f, 0.25f, 0.5f, 0.5f};
    const float want_out[4] = {2.0f, 3.0f, 3.0f, 4.0f};
    float att[4], out[4];
    attention_forward(out, att, q, k, v, 1, 2, 2);
    expect_floats_close("weights", att, want_att, 4, 1e-6, 1e-6);
    expect_floats_close("output", out, want_out, 4, 1e-6, 1e-6);
}

Test(attention, equal_scores_give_uniform_weights_and_the_mean_value) {
    // every key the same: every score in a row is the same, whatever the query
    Rng rng;
    rng_seed(&rng, 5);
    int T = 5, hs = 8;
    float *q = random_floats(&rng, T * hs, 3.0f);
    float *k = malloc(sizeof(float) * T * hs);
    float *v = random_floats(&rng, T * hs, 1.0f);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < hs; c++) k[t * hs + c] = (float)(c + 1) / hs;
    float att[5 * 5], out[5 * 8], uniform[5 * 5], mean[5 * 8];
    attention_forward(out, att, q, k, v, 1, T, hs);
    for (int i = 0; i < T * T; i++) uniform[i] = 1.0f / T;
    for (int c = 0; c < hs; c++) {
        float sum = 0.0f;
        for (int t = 0; t < T; t++) sum += v[t * hs + c];
        for (int t = 0; t < T; t++) mean[t * hs + c] = sum / T;
    }
    expect_floats_close("weights", att, uniform, T * T, 1e-6, 1e-5);
    expect_floats_close("output", out, mean, T * hs, 1e-6, 1e-5);
    free(q);
    free(k);
    free(v);
}

// ---- against the definition --------------------------------------------------------

// att (T,T) and out (T,hs) by the formula, one sum at a time, in double.
static void attention_by_definition(float *out, float *att, const float *q, const float *k,
                                    const float *v, int T, int hs) {
    for (int i = 0; i < T; i++) {
        double s[64], max = -INFINITY, sum = 0.0;
        for (int j = 0; j < T; j++) {
            s[j] = 0.0;
            for (int c = 0; c < hs; c++) s[j] += (double)q[i * hs + c] * k[j * hs + c];
            s[j] /= sqrt((double)hs);
            max = fmax(max, s[j]);
        }
        for (int j = 0; j < T; j++) sum += exp(s[j] - max);
        for (int j = 0; j < T; j++) att[i * T + j] = (float)(exp(s[j] - max) / sum);
        for (int c = 0; c < hs; c++) {
            double o = 0.0;
            for (int j = 0; j < T; j++) o += (double)att[i * T + j] * v[j * hs + c];
            out[i * hs + c] = (float)o;
        }
    }
}

Test(attention, matches_the_definition_for_every_batch) {
    Rng rng;
    rng_seed(&rng, 11);
    int B = 3, T = 17, hs = 16;
    float *q = random_floats(&rng, B * T * hs, 1.0f);
    float *k = random_floats(&rng, B * T * hs, 1.0f);
    float *v = random_floats(&rng, B * T * hs, 1.0f);
    float *att = malloc(sizeof(float) * B * T * T), *out = malloc(sizeof(float) * B * T * hs);
    float want_att[17 * 17], want_out[17 * 16];
    attention_forward(out, att, q, k, v, B, T, hs);
    for (int b = 0; b < B; b++) {
        int x = b * T * hs;
        attention_by_definition(want_out, want_att, q + x, k + x, v + x, T, hs);
        expect_floats_close("weights", att + b * T * T, want_att, T * T, 1e-6, 1e-4);
        expect_floats_close("output", out + x, want_out, T * hs, 1e-5, 1e-4);
    }
    cr_assert_lt(worst_row_sum_error(att, B * T, T), 1e-5);
    free(q);
    free(k);
    free(v);
    free(att);
    free(out);
}

// ---- permutation equivariance ------------------------------------------------------

typedef struct {
    int T, C, hs;
    float *wq, *wk, *wv; // (hs,C) each
    float *q, *k, *v;    // (T,hs) scratch
} SelfAttention;

static SelfAttention self_attention_new(Rng *rng, int T, int C, int hs) {
    SelfAttention sa = {.T = T, .C = C, .hs = hs};
    sa.wq = random_floats(rng, hs * C, 1.0f / sqrtf((float)C));
    sa.wk = random_floats(rng, hs * C, 1.0f / sqrtf((float)C));
    sa.wv = random_floats(rng, hs * C, 1.0f / sqrtf((float)C));
    sa.q = malloc(sizeof(float) * T * hs);
    sa.k = malloc(sizeof(float) * T * hs);
    sa.v = malloc(sizeof(float) * T * hs);
    return sa;
}

// Single-head self-attention of x (T,C): out (T,hs), att (T,T).
static void self_attention(SelfAttention *sa, float *out, float *att, const float *x) {
    linear_forward(sa->q, x, sa->wq, NULL, sa->T, sa->C, sa->hs);
    linear_forward(sa->k, x, sa->wk, NULL, sa->T, sa->C, sa->hs);
    linear_forward(sa->v, x, sa->wv, NULL, sa->T, sa->C, sa->hs);
    attention_forward(out, att, sa->q, sa->k, sa->v, 1, sa->T, sa->hs);
}

static void self_attention_free(SelfAttention *sa) {
    free(sa->wq);
    free(sa->wk);
    free(sa->wv);
    free(sa->q);
    free(sa->k);
    free(sa->v);
}

// rows (T,width) taken in the order perm: out[i] = in[perm[i]].
static void permute_rows(float *out, const float *in, const int *perm, int T, int width) {
    for (int i = 0; i < T; i++)
        for (int c = 0; c < width; c++) out[i * width + c] = in[perm[i] * width + c];
}

enum { PT = 9, PC = 12, PHS = 6 }; // tokens, width, head size of the permutation tests

Test(attention, permuting_the_tokens_permutes_the_outputs_and_both_axes_of_att) {
    Rng rng;
    rng_seed(&rng, 2021);
    SelfAttention sa = self_attention_new(&rng, PT, PC, PHS);
    float *x = random_floats(&rng, PT * PC, 1.0f);
    int perm[PT];
    rng_permutation(&rng, perm, PT);
    float xp[PT * PC], out[PT * PHS], att[PT * PT], out_p[PT * PHS], att_p[PT * PT];
    permute_rows(xp, x, perm, PT, PC);
    self_attention(&sa, out, att, x);
    self_attention(&sa, out_p, att_p, xp);

    float want_out[PT * PHS], want_att[PT * PT];
    permute_rows(want_out, out, perm, PT, PHS); // output i of the permuted input is output perm[i]
    for (int i = 0; i < PT; i++)
        for (int j = 0; j < PT; j++) want_att[i * PT + j] = att[perm[i] * PT + perm[j]];
    expect_floats_close("outputs of permuted tokens", out_p, want_out, PT * PHS, 1e-6, 1e-5);
    expect_floats_close("weights of permuted tokens", att_p, want_att, PT * PT, 1e-6, 1e-5);
    self_attention_free(&sa);
    free(x);
}

Test(attention, position_embeddings_break_the_equivariance) {
    // the same tokens, but each position adds its own vector: order now matters
    Rng rng;
    rng_seed(&rng, 2021);
    SelfAttention sa = self_attention_new(&rng, PT, PC, PHS);
    float *x = random_floats(&rng, PT * PC, 1.0f);
    float *pos = random_floats(&rng, PT * PC, 1.0f);
    int perm[PT];
    for (int i = 0; i < PT; i++) perm[i] = (i + 1) % PT; // a rotation: moves every token
    float xp[PT * PC], out[PT * PHS], att[PT * PT], out_p[PT * PHS], att_p[PT * PT];
    permute_rows(xp, x, perm, PT, PC);
    for (int i = 0; i < PT * PC; i++) x[i] += pos[i], xp[i] += pos[i];
    self_attention(&sa, out, att, x);
    self_attention(&sa, out_p, att_p, xp);
    float want_out[PT * PHS];
    permute_rows(want_out, out, perm, PT, PHS);
    ArrayDiff d = diff_floats(out_p, want_out, PT * PHS, 1e-6, 1e-5);
    cr_assert_gt(d.max_diff, 0.01, "with positions added, permuting should change the outputs");
    self_attention_free(&sa);
    free(x);
    free(pos);
}

Test(standardize, rows_get_mean_zero_and_variance_one) {
    float x[2 * 4] = {1, 2, 3, 4, -10, 0, 10, 20}; // (2,4)
    standardize_rows(x, 2, 4, 0.0f);
    // row 0: mean 2.5, variance 1.25 -> (x - 2.5) / sqrt(1.25)
    float want0[4] = {-1.5f / sqrtf(1.25f), -0.5f / sqrtf(1.25f), 0.5f / sqrtf(1.25f),
                      1.5f / sqrtf(1.25f)};
    expect_floats_close("row 0", x, want0, 4, 1e-6, 1e-6);
    double mean = 0.0, var = 0.0;
    for (int c = 0; c < 4; c++) mean += x[4 + c] / 4.0;
    for (int c = 0; c < 4; c++) var += (x[4 + c] - mean) * (x[4 + c] - mean) / 4.0;
    cr_expect(fabs(mean) < 1e-6 && fabs(var - 1.0) < 1e-5, "row 1: mean %g, variance %g", mean,
              var);
}

Test(standardize, a_constant_row_becomes_zero_not_nan) {
    float x[3] = {5, 5, 5};
    standardize_rows(x, 1, 3, 1e-5f);
    float zero[3] = {0, 0, 0};
    expect_floats_close("constant row", x, zero, 3, 0.0, 0.0);
}

// test_02_embedding.c — chapter 02: from patches to tokens. The property the
// chapter rests on (a linear layer on patch rows is a convolution with
// kernel = stride = P, with the same weights), the convolution on a case worked
// by hand, the class token and positions in their places, the 2D sin-cos
// embeddings at hand-computed entries, cosine similarity, the learned
// embeddings' initial distribution, and the whole embedding as the chapter
// programs set it up (embedding_add, embedding_init, embedding_project).
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "check.h"
#include "conv2d.h"
#include "embed.h"
#include "linear.h"
#include "patch.h"
#include "rng.h"
#include "tensors.h"

// ---- the patch projection is a strided convolution -----------------------------------

Test(embedding, patch_projection_equals_a_convolution_with_kernel_and_stride_P) {
    enum { B = 2, Cin = 3, H = 12, W = 12, P = 4, C = 5, N = (H / P) * (W / P), D = Cin * P * P };
    Rng rng;
    rng_seed(&rng, 2);
    float images[B * Cin * H * W], weight[C * Cin * P * P], bias[C];
    rng_fill_uniform(&rng, images, B * Cin * H * W, -1, 1);
    rng_fill_uniform(&rng, weight, C * D, -1, 1); // Conv2d (C,Cin,P,P) = Linear (C,D)
    rng_fill_uniform(&rng, bias, C, -1, 1);

    float patches[B * N * D], linear[B * N * C], conv[B * C * N], conv_tokens[B * N * C];
    patchify(patches, images, B, Cin, H, W, P);
    linear_forward(linear, patches, weight, bias, B * N, D, C);
    conv2d_forward(conv, images, weight, bias, B, Cin, H, W, C, P, P, 0);
    // conv (B,C,H/P,W/P) -> (B,N,C): PyTorch's x.flatten(2).transpose(1, 2)
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                conv_tokens[(b * N + n) * C + c] = conv[(b * C + c) * N + n];
    expect_floats_close("linear on patches vs conv2d", linear, conv_tokens, B * N * C, 1e-6, 1e-5);
}

// ---- the linear layer ------------------------------------------------------------

Test(embedding, linear_by_hand_with_and_without_bias) {
    const float in[2 * 3] = {1, 2, 3, 0, -1, 1};     // (R=2, IN=3)
    const float weight[2 * 3] = {1, 0, 1, 2, 1, -1}; // (OUT=2, IN=3)
    const float bias[2] = {10, 20};
    const float no_bias[4] = {4, 1, 1, -2}; // in · weight^T
    const float with_bias[4] = {14, 21, 11, 18};
    float out[4];
    linear_forward(out, in, weight, NULL, 2, 3, 2);
    expect_floats_equal("without bias", out, no_bias, 4, 0);
    linear_forward(out, in, weight, bias, 2, 3, 2);
    expect_floats_equal("with bias", out, with_bias, 4, 0);
}

// ---- convolution by hand -----------------------------------------------------------

Test(embedding, conv2d_output_sizes) {
    cr_assert_eq(conv2d_out_size(224, 16, 16, 0), 14, "ViT-B/16's patch grid");
    cr_assert_eq(conv2d_out_size(28, 7, 7, 0), 4);
    cr_assert_eq(conv2d_out_size(28, 3, 1, 1), 28, "3x3, pad 1 keeps the size");
    cr_assert_eq(conv2d_out_size(3, 2, 2, 1), 2);
    cr_assert_eq(conv2d_out_size(224, 7, 2, 3), 112, "ResNet's stem");
}

Test(embedding, conv2d_with_padding_and_stride_2_by_hand) {
    // in (1,1,3,3) = 1..9; K=2, stride 2, pad 1: Ho = Wo = (3 + 2 - 2)/2 + 1 = 2.
    // Window (i,j) starts at row 2i-1, column 2j-1; the padding is zeros.
    const float in[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    // channel 0: a kernel with no symmetry, so a flipped kernel (true convolution)
    // would give other numbers; channel 1: all ones (the window sums)
    const float weight[2 * 2 * 2] = {1, 10, 100, 1000, 1, 1, 1, 1}; // (Cout=2,Cin=1,2,2)
    const float bias[2] = {0.5f, -1};
    const float want[2 * 2 * 2] = {
        1 * 1000 + 0.5f,           // window on pixel 1 alone, in its corner k11
        2 * 100 + 3 * 1000 + 0.5f, // pixels 2 3 under k10 k11
        4 * 10 + 7 * 1000 + 0.5f,  // pixels 4 7 under k01 k11
        5 * 1 + 6 * 10 + 8 * 100 + 9 * 1000 + 0.5f,
        1 - 1,
        2 + 3 - 1,
        4 + 7 - 1,
        5 + 6 + 8 + 9 - 1,
    };
    float out[8];
    conv2d_forward(out, in, weight, bias, 1, 1, 3, 3, 2, 2, 2, 1);
    expect_floats_equal("conv2d", out, want, 8, 0);
}

Test(embedding, conv2d_sums_over_input_channels_and_keeps_batches_apart) {
    // B=2, Cin=2, 2x2 images, one 1x1 kernel (3, -1): out = 3*channel0 - channel1
    const float in[2 * 2 * 4] = {1, 2, 3, 4, 10, 20, 30, 40, 5, 6, 7, 8, 1, 1, 1, 1};
    const float weight[2] = {3, -1};
    const float want[2 * 4] = {-7, -14, -21, -28, 14, 17, 20, 23};
    float out[8];
    conv2d_forward(out, in, weight, NULL, 2, 2, 2, 2, 1, 1, 1, 0);
    expect_floats_equal("conv2d 1x1", out, want, 8, 0);
}

// ---- tokens ------------------------------------------------------------------------

Test(embedding, tokens_put_the_class_token_first_and_add_positions) {
    enum { B = 2, N = 3, C = 2, T = N + 1 };
    float patch_emb[B * N * C], class_token[C] = {0.5f, -0.5f}, pos[T * C], tokens[B * T * C];
    for (int i = 0; i < B * N * C; i++)
        patch_emb[i] = (float)(100 * (i / (N * C)) + 10 * (i / C % N) + i % C);
    for (int i = 0; i < T * C; i++) pos[i] = 1000.0f * (i / C + 1); // 1000 * (t+1)
    tokens_forward(tokens, patch_emb, class_token, pos, B, N, C);
    const float want[B * T * C] = {
        1000.5f, 999.5f, 2000, 2001, 3010, 3011, 4020, 4021, // image 0
        1000.5f, 999.5f, 2100, 2101, 3110, 3111, 4120, 4121, // image 1: its own patches
    };
    expect_floats_equal("tokens", tokens, want, B * T * C, 0);
}

// ---- 2D sine-cosine position embeddings ------------------------------------------------

Test(embedding, sincos_at_the_origin_is_zeros_and_ones) {
    float pos[2 * 3 * 8];
    posemb_sincos_2d(pos, 2, 3, 8);
    const float want[8] = {0, 0, 1, 1, 0, 0, 1, 1}; // sin 0, cos 0 for x and for y
    expect_floats_equal("patch (0,0)", pos, want, 8, 0);
}

Test(embedding, sincos_by_hand_for_C_8_and_C_16) {
    // C=8: two frequencies, 1 and 1/10000. Patch (y=1, x=2) is number 1*3 + 2 = 5.
    float pos8[2 * 3 * 8];
    posemb_sincos_2d(pos8, 2, 3, 8);
    const float want8[8] = {sinf(2), sinf(2e-4f), cosf(2), cosf(2e-4f),
                            sinf(1), sinf(1e-4f), cosf(1), cosf(1e-4f)};
    expect_floats_close("C=8, patch (1,2)", pos8 + 5 * 8, want8, 8, 1e-7, 1e-6);
    // C=16: omega = 10000^(-i/3) = 1, 0.0464159, 0.00215443, 0.0001.
    // Patch (y=2, x=3) of a 3x4 grid is number 2*4 + 3 = 11. Values from Python's math.
    float pos16[3 * 4 * 16];
    posemb_sincos_2d(pos16, 3, 4, 16);
    const float want16[16] = {
        0.14112001f,  0.13879810f, 0.0064632591f, 0.00029999999f, // sin(3 w)
        -0.98999250f, 0.99032070f, 0.99997911f,   0.99999995f,    // cos(3 w)
        0.90929743f,  0.09269850f, 0.0043088560f, 0.00019999999f, // sin(2 w)
        -0.41614684f, 0.99569422f, 0.99999072f,   0.99999998f,    // cos(2 w)
    };
    expect_floats_close("C=16, patch (2,3)", pos16 + 11 * 16, want16, 16, 1e-7, 1e-6);
}

Test(embedding, sincos_rows_all_have_length_sqrt_of_C_over_2) {
    enum { GH = 14, GW = 14, C = 64 };
    float *pos = malloc(sizeof(float) * GH * GW * C);
    posemb_sincos_2d(pos, GH, GW, C);
    for (int n = 0; n < GH * GW; n++) {
        double s = 0;
        for (int c = 0; c < C; c++) s += (double)pos[n * C + c] * pos[n * C + c];
        // each frequency contributes sin^2 + cos^2 = 1, for x and for y
        cr_assert_float_eq(sqrt(s), sqrt(C / 2.0), 1e-5, "|pos[%d]| = %g", n, sqrt(s));
    }
    free(pos);
}

Test(embedding, sincos_similarity_depends_only_on_the_displacement) {
    // pos(a) . pos(b) = sum_i cos((xa - xb) w_i) + cos((ya - yb) w_i)
    enum { GH = 5, GW = 6, C = 32, N = GH * GW };
    float pos[N * C], sim[N * N];
    posemb_sincos_2d(pos, GH, GW, C);
    cosine_similarity_rows(sim, pos, N, C);
    int a = 0 * GW + 0, b = 1 * GW + 2;   // (0,0) and (1,2)
    int a2 = 3 * GW + 3, b2 = 4 * GW + 5; // (3,3) and (4,5): the same step
    cr_assert_float_eq(sim[a * N + b], sim[a2 * N + b2], 1e-6);
    cr_assert_gt(sim[a * N + a + 1], sim[a * N + a + 2], "a nearer patch is more similar");
}

Test(embedding, sincos_needs_C_divisible_by_4, .signal = SIGABRT, .init = cr_redirect_stderr) {
    float pos[4 * 10];
    posemb_sincos_2d(pos, 2, 2, 10);
}

// ---- cosine similarity -----------------------------------------------------------------

Test(embedding, cosine_similarity_by_hand) {
    const float x[4 * 2] = {1, 0, 1, 1, 0, -2, 0, 0}; // the last row is zero
    const float r = (float)(1 / sqrt(2));
    const float want[4 * 4] = {
        1, r, 0, 0, r, 1, -r, 0, 0, -r, 1, 0, 0, 0, 0, 0,
    };
    float sim[16];
    cosine_similarity_rows(sim, x, 4, 2);
    expect_floats_close("similarity", sim, want, 16, 1e-7, 1e-6);
}

Test(embedding, cosine_similarity_is_symmetric_with_ones_on_the_diagonal) {
    enum { R = 17, C = 33 };
    Rng rng;
    rng_seed(&rng, 5);
    float x[R * C], sim[R * R];
    rng_fill_normal(&rng, x, R * C, 0, 3);
    cosine_similarity_rows(sim, x, R, C);
    for (int i = 0; i < R; i++) {
        cr_assert_float_eq(sim[i * R + i], 1.0f, 1e-6, "sim[%d][%d] = %g", i, i, sim[i * R + i]);
        for (int j = 0; j < R; j++) {
            cr_assert_eq(sim[i * R + j], sim[j * R + i], "sim[%d][%d] != sim[%d][%d]", i, j, j, i);
            cr_assert_leq(fabsf(sim[i * R + j]), 1.0f + 1e-6f);
        }
    }
}

// ---- learned position embeddings at initialisation -------------------------------------

Test(embedding, learned_init_is_a_normal_with_std_0_02_cut_at_0_04) {
    enum { T = 197, C = 768, COUNT = T * C }; // ViT-B/16's position embeddings
    Rng rng;
    rng_seed(&rng, 7);
    float *pos = malloc(sizeof(float) * COUNT);
    posemb_init_learned(pos, T, C, &rng);
    double sum = 0, sum2 = 0, largest = 0;
    for (int i = 0; i < COUNT; i++) {
        sum += pos[i];
        sum2 += (double)pos[i] * pos[i];
        largest = fmax(largest, fabs(pos[i]));
    }
    double mean = sum / COUNT, std = sqrt(sum2 / COUNT - mean * mean);
    cr_assert_leq(largest, 0.04, "a value %g is outside +-0.04", largest);
    cr_assert_gt(largest, 0.039, "the tails reach the cut");
    cr_assert_float_eq(mean, 0.0, 2e-4);
    // Cutting Normal(0, s) at +-2s leaves s * 0.8796: 0.0176 for s = 0.02
    cr_assert_float_eq(std, 0.02 * 0.87963, 0.0003, "std %g", std);
    free(pos);
}

Test(embedding, learned_init_is_the_same_for_the_same_seed) {
    float a[5 * 8], b[5 * 8];
    Rng r1, r2;
    rng_seed(&r1, 11);
    rng_seed(&r2, 11);
    posemb_init_learned(a, 5, 8, &r1);
    posemb_init_learned(b, 5, 8, &r2);
    expect_floats_equal("same seed", a, b, 40, 0);
}

// ---- the whole embedding, as the chapter programs set it up -----------------------------

Test(embedding, vit_b16_embedding_parameters_in_one_allocation) {
    enum { C = 768, Cin = 3, S = 224, P = 16, N = 196, T = 197, D = Cin * P * P };
    Tensors params, acts;
    tensors_init(&params);
    tensors_init(&acts);
    Embedding e;
    embedding_add(&e, &params, &acts, Cin, S, S, P, C);
    tensors_alloc(&params);
    tensors_alloc(&acts);
    cr_assert(e.N == N && e.T == T && e.D == D, "N %d, T %d, D %d", e.N, e.T, e.D);
    // torchvision's vit_b_16: 589,824 + 768 + 768 + 151,296
    cr_assert_eq(params.total, 742656);
    const TensorEntry *weight = tensors_find(&params, "conv_proj.weight");
    cr_assert(weight != NULL && weight->ndim == 4 && weight->shape[1] == Cin);
    cr_assert_eq(tensors_find(&params, "encoder.pos_embedding")->count, 151296);
    cr_assert_eq(*tensors_find(&params, "class_token")->slot, e.class_token);
    cr_assert_eq(e.class_token, e.bias + C);
    cr_assert_eq(acts.total, (size_t)Cin * S * S + N * D + N * C + T * C);
    cr_assert_eq(*tensors_find(&acts, "tokens")->slot, e.tokens);
    tensors_free(&params);
    tensors_free(&acts);
}

// A small embedding of one 1x8x8 image in 4x4 patches, width 6, initialised with seed.
static void small_embedding(Embedding *e, Tensors *params, Tensors *acts, uint64_t seed) {
    tensors_init(params);
    tensors_init(acts);
    embedding_add(e, params, acts, 1, 8, 8, 4, 6);
    tensors_alloc(params);
    tensors_alloc(acts);
    Rng rng;
    rng_seed(&rng, seed);
    embedding_init(e, &rng);
}

Test(embedding, init_draws_weight_bias_then_positions_and_leaves_the_class_token_zero) {
    Tensors params, acts;
    Embedding e;
    small_embedding(&e, &params, &acts, 5);
    enum { C = 6, D = 16, T = 5 };
    float weight[C * D], bias[C], pos[T * C], zero[C] = {0};
    Rng rng;
    rng_seed(&rng, 5);
    float bound = 1.0f / sqrtf((float)D); // PyTorch's Conv2d default: 1/sqrt(fan_in)
    rng_fill_uniform(&rng, weight, C * D, -bound, bound);
    rng_fill_uniform(&rng, bias, C, -bound, bound);
    posemb_init_learned(pos, T, C, &rng);
    expect_floats_equal("weight", e.weight, weight, C * D, 0);
    expect_floats_equal("bias", e.bias, bias, C, 0);
    expect_floats_equal("class token", e.class_token, zero, C, 0);
    expect_floats_equal("positions", e.pos, pos, T * C, 0);
    tensors_free(&params);
    tensors_free(&acts);
}

Test(embedding, project_is_patchify_then_the_linear_layer) {
    Tensors params, acts;
    Embedding e;
    small_embedding(&e, &params, &acts, 6);
    for (int i = 0; i < 64; i++) e.image[i] = (float)((i * 37) % 64) / 64.0f;
    float patches[4 * 16], want[4 * 6];
    patchify(patches, e.image, 1, 1, 8, 8, 4);
    linear_forward(want, patches, e.weight, e.bias, 4, 16, 6);
    embedding_project(&e);
    expect_floats_equal("patches", e.patches, patches, 4 * 16, 0);
    expect_floats_equal("patch embeddings", e.patch_emb, want, 4 * 6, 0);
    tensors_free(&params);
    tensors_free(&acts);
}

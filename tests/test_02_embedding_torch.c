// test_02_embedding_torch.c — chapter 02 against PyTorch
// (tests/fixtures/02_embedding.bin, written by tools/reference.py): nn.Linear
// with and without a bias; nn.Conv2d with K=3, stride 2, padding 1; the patch
// embedding three ways (patchify against torch's unfold order, Conv2d with
// kernel = stride = P, and patchify + linear with the conv weight); the class
// token and position embedding assembly; big_vision's 2D sin-cos position
// embedding; cosine similarity of rows.
#include <criterion/criterion.h>
#include "check.h"
#include "conv2d.h"
#include "embed.h"
#include "fixture.h"
#include "linear.h"
#include "patch.h"

// One float operation or one short dot product: float rounding only.
#define ATOL 1e-6
#define RTOL 1e-5

static Fixture f;

static void load(void) {
    fixture_load(&f, "02_embedding.bin");
}

static void unload(void) {
    fixture_free(&f);
}

TestSuite(embedding_torch, .init = load, .fini = unload);

Test(embedding_torch, linear_equals_nn_linear_with_and_without_bias) {
    enum { R = 6, IN = 12, OUT = 5 };
    float *x = fixture_get(&f, "linear.x", R, IN);
    float out[R * OUT];
    linear_forward(out, x, fixture_get(&f, "linear.weight", OUT, IN),
                   fixture_get(&f, "linear.bias", OUT), R, IN, OUT);
    expect_floats_close("linear.out", out, fixture_get(&f, "linear.out", R, OUT), R * OUT, ATOL,
                        RTOL);
    linear_forward(out, x, fixture_get(&f, "linear_nobias.weight", OUT, IN), NULL, R, IN, OUT);
    expect_floats_close("linear_nobias.out", out, fixture_get(&f, "linear_nobias.out", R, OUT),
                        R * OUT, ATOL, RTOL);
}

Test(embedding_torch, conv2d_equals_nn_conv2d_with_stride_and_padding) {
    enum { B = 2, Cin = 3, H = 7, W = 9, Cout = 4, K = 3, stride = 2, pad = 1, Ho = 4, Wo = 5 };
    cr_assert_eq(conv2d_out_size(H, K, stride, pad), Ho);
    cr_assert_eq(conv2d_out_size(W, K, stride, pad), Wo);
    float out[B * Cout * Ho * Wo];
    conv2d_forward(out, fixture_get(&f, "conv2d.images", B, Cin, H, W),
                   fixture_get(&f, "conv2d.weight", Cout, Cin, K, K),
                   fixture_get(&f, "conv2d.bias", Cout), B, Cin, H, W, Cout, K, stride, pad);
    expect_floats_close("conv2d.out", out, fixture_get(&f, "conv2d.out", B, Cout, Ho, Wo),
                        B * Cout * Ho * Wo, ATOL, RTOL);
}

// The patch embedding of 8x12 images, P=4: N = 2*3 patches of Cin*P*P = 32 numbers.
enum { B = 2, Cin = 2, H = 8, W = 12, P = 4, N = 6, D = Cin * P * P, C = 6, T = N + 1 };

Test(embedding_torch, patchify_takes_torch_unfold_order) {
    float patches[B * N * D];
    patchify(patches, fixture_get(&f, "patch.images", B, Cin, H, W), B, Cin, H, W, P);
    expect_floats_equal("patch.patches", patches, fixture_get(&f, "patch.patches", B, N, D),
                        B * N * D, 0);
}

Test(embedding_torch, patch_conv_equals_nn_conv2d_with_kernel_and_stride_p) {
    float out[B * C * (H / P) * (W / P)];
    conv2d_forward(out, fixture_get(&f, "patch.images", B, Cin, H, W),
                   fixture_get(&f, "patch.weight", C, Cin, P, P), fixture_get(&f, "patch.bias", C),
                   B, Cin, H, W, C, P, P, 0);
    expect_floats_close("patch.conv_out", out,
                        fixture_get(&f, "patch.conv_out", B, C, H / P, W / P), B * C * N, ATOL,
                        RTOL);
}

Test(embedding_torch, patchify_then_linear_equals_the_patch_conv) {
    float patches[B * N * D], emb[B * N * C];
    patchify(patches, fixture_get(&f, "patch.images", B, Cin, H, W), B, Cin, H, W, P);
    // the Conv2d weight (C,Cin,P,P) read as a Linear weight (C, Cin*P*P)
    linear_forward(emb, patches, fixture_get(&f, "patch.weight", C, Cin, P, P),
                   fixture_get(&f, "patch.bias", C), B * N, D, C);
    expect_floats_close("patch.embedding", emb, fixture_get(&f, "patch.embedding", B, N, C),
                        B * N * C, ATOL, RTOL);
}

Test(embedding_torch, tokens_are_class_token_then_patches_plus_positions) {
    float tokens[B * T * C];
    tokens_forward(tokens, fixture_get(&f, "patch.embedding", B, N, C),
                   fixture_get(&f, "tokens.class_token", C), fixture_get(&f, "tokens.pos", T, C), B,
                   N, C);
    // one addition per number, as in torch: the same float, exactly
    expect_floats_equal("tokens.out", tokens, fixture_get(&f, "tokens.out", B, T, C), B * T * C, 0);
}

Test(embedding_torch, sincos_2d_equals_big_vision_on_a_3_by_5_grid) {
    enum { GH = 3, GW = 5, CS = 16 };
    float pos[GH * GW * CS];
    posemb_sincos_2d(pos, GH, GW, CS);
    // the reference is computed in double, then rounded
    expect_floats_close("sincos.pos", pos, fixture_get(&f, "sincos.pos", GH * GW, CS), GH * GW * CS,
                        ATOL, RTOL);
}

Test(embedding_torch, cosine_similarity_equals_torch) {
    enum { R = 6, CX = 5 };
    float sim[R * R];
    cosine_similarity_rows(sim, fixture_get(&f, "cosine.x", R, CX), R, CX);
    expect_floats_close("cosine.sim", sim, fixture_get(&f, "cosine.sim", R, R), R * R, ATOL, RTOL);
}

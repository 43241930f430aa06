// test_07_layers_torch.c — chapter 07's layers against PyTorch
// (tests/fixtures/07_layers.bin, written by tools/reference.py): F.conv2d on
// the ResNet's kernels, strides and paddings (3x3 stride 2 and 1, 7x7 stride
// 2 padding 3, 1x1 stride 1 and 2, with and without bias), the paper's weight
// standardisation in torch ops followed by F.conv2d, nn.GroupNorm with torch's
// own group means and 1/std, F.relu with exact zeros, F.max_pool2d with its
// indices (3x3 stride 2 padding 1; the same on small integers, where most
// windows hold ties; 2x2 stride 2), adaptive average pooling to 1x1, and a
// whole ResNet root (StdConv 7x7/2, GroupNorm, ReLU, max pool 3x3/2, global
// average pool) with its intermediates. Every output and every gradient of the
// loss sum(out * dout) for the inputs and the parameters must agree; torch ran
// in float64 on the float32 values stored, so the reference is exact to float32.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "check.h"
#include "conv2d.h"
#include "conv2d_gemm.h"
#include "error.h"
#include "fixture.h"
#include "global_avgpool.h"
#include "groupnorm.h"
#include "maxpool.h"
#include "owned.h"
#include "relu.h"
#include "weight_standardize.h"

// Float rounding against float64: measured, the largest difference of any
// value is 5.7e-7 of its part's largest |value| (the ResNet root's weight
// gradient, behind six layers); a single layer's are at most 2.4e-7. A value
// passes when |got - want| <= TOL * (largest |want| of its tensor, or of its
// part: expect_like_each): about nine times the measured worst, and far below
// what a wrong term gives (eps inside the square root, a term of a backward
// pass left out, a tie broken the other way: 1e-3 of the scale and more).
#define TOL 5e-6

static Fixture f;

static void load(void) {
    fixture_load(&f, "07_layers.bin");
}

static void unload(void) {
    fixture_free(&f);
    owned_release();
}

TestSuite(layers_torch, .init = load, .fini = unload);

// The tensor "<prefix>.<field>" of this suite's fixture, of the shape given.
#define get(prefix, field, ...) fixture_get_field(&f, prefix, field, __VA_ARGS__)

// got (n) against want (n), "<prefix>.<field>", cut into `blocks` equal
// parts that are each held to their own scale: |got - want| <= TOL * max |want|
// over the part. A tensor whose parts differ in scale by orders of magnitude
// (a channel of tiny weights, a group of tiny variance) is cut into them, so
// the small parts are checked as closely as the large ones.
static void expect_like_each(const char *prefix, const char *field, const float *got,
                             const float *want, size_t n, size_t blocks) {
    char name[128];
    size_t size = n / blocks;
    double worst = 0.0;
    cr_assert_eq(size * blocks, n);
    for (size_t k = 0; k < blocks; k++) {
        const float *g = got + k * size, *w = want + k * size;
        if (blocks == 1)
            snprintf(name, sizeof name, "%s.%s", prefix, field);
        else
            snprintf(name, sizeof name, "%s.%s, part %zu of %zu", prefix, field, k, blocks);
        double scale = 0.0;
        for (size_t i = 0; i < size; i++) scale = fmax(scale, fabs(w[i]));
        cr_expect(scale > 0.0, "%s: every value is zero; the check would prove nothing", name);
        worst = fmax(worst, diff_floats(g, w, (long)size, 0.0, 0.0).max_diff / fmax(scale, 1e-30));
        expect_floats_close(name, g, w, size, TOL * scale, 0.0);
    }
    cr_log_info("%s.%s: largest difference %.2g of the largest value (in %zu parts)", prefix, field,
                worst, blocks);
}

static void expect_like(const char *prefix, const char *field, const float *got, const float *want,
                        size_t n) {
    expect_like_each(prefix, field, got, want, n, 1);
}

// ---- the convolution --------------------------------------------------------------------

Test(layers_torch, conv_equals_f_conv2d_forward_and_backward) {
    static const struct {
        const char *name;
        int B, Cin, H, W, Cout, K, stride, pad;
        bool bias;
    } cases[] = {{"conv_3x3_s2_p1", 2, 3, 7, 9, 4, 3, 2, 1, true},
                 {"conv_3x3_s1_p1", 2, 3, 5, 6, 2, 3, 1, 1, false},
                 {"conv_7x7_s2_p3", 1, 2, 11, 10, 3, 7, 2, 3, false},
                 {"conv_1x1_s1_p0", 2, 5, 3, 4, 6, 1, 1, 0, true},
                 {"conv_1x1_s2_p0", 2, 4, 6, 5, 3, 1, 2, 0, false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = cases[i].name;
        int B = cases[i].B, Cin = cases[i].Cin, H = cases[i].H, W = cases[i].W;
        int Cout = cases[i].Cout, K = cases[i].K, s = cases[i].stride, pad = cases[i].pad;
        int Ho = conv2d_out_size(H, K, s, pad), Wo = conv2d_out_size(W, K, s, pad);
        size_t n_in = (size_t)B * Cin * H * W, n_out = (size_t)B * Cout * Ho * Wo;
        size_t n_w = (size_t)Cout * Cin * K * K;
        const float *x = get(p, "x", B, Cin, H, W), *w = get(p, "weight", Cout, Cin, K, K);
        const float *bias = cases[i].bias ? get(p, "bias", Cout) : NULL;
        const float *dout = get(p, "dout", B, Cout, Ho, Wo);
        float *scratch = floats(conv2d_gemm_scratch_floats(Cin, H, W, K, s, pad));
        float *out = floats(n_out), *direct = floats(n_out), *dx = floats(n_in);
        float *dw = floats(n_w), *db = floats(Cout);
        conv2d_gemm_forward(out, scratch, x, w, bias, B, Cin, H, W, Cout, K, s, pad);
        conv2d_forward(direct, x, w, bias, B, Cin, H, W, Cout, K, s, pad); // chapter 02's, too
        conv2d_gemm_backward(dx, dw, bias ? db : NULL, scratch, dout, x, w, B, Cin, H, W, Cout, K,
                             s, pad);
        const float *want = get(p, "out", B, Cout, Ho, Wo);
        expect_like(p, "out", out, want, n_out);
        expect_like(p, "out (chapter 02's conv2d_forward)", direct, want, n_out);
        expect_like(p, "grad.x", dx, get(p, "grad.x", B, Cin, H, W), n_in);
        expect_like(p, "grad.weight", dw, get(p, "grad.weight", Cout, Cin, K, K), n_w);
        if (bias != NULL) expect_like(p, "grad.bias", db, get(p, "grad.bias", Cout), Cout);
    }
}

// ---- StdConv: weight standardisation, then the convolution -------------------------------

// Channel 3's weights have a standard deviation of about 2e-5, where eps =
// 1e-5 outside the square root changes the standardised weights by a third:
// eps anywhere else, or another eps, fails. Its weight gradient is 1e4 times
// the other channels', so each channel is held to its own scale.
Test(layers_torch, stdconv_equals_the_papers_weight_standardize) {
    enum { B = 2, Cin = 3, H = 6, W = 7, Cout = 4, K = 3, n = Cin * K * K };
    const char *p = "stdconv";
    const float *x = get(p, "x", B, Cin, H, W), *w = get(p, "weight", Cout, Cin, K, K);
    const float *dout = get(p, "dout", B, Cout, H, W);
    float *wstd = floats(Cout * n), *std = floats(Cout), *out = floats(B * Cout * H * W);
    float *scratch = floats(conv2d_gemm_scratch_floats(Cin, H, W, K, 1, 1));
    float *dx = floats(B * Cin * H * W), *dwstd = floats(Cout * n), *dw = floats(Cout * n);
    weight_standardize_forward(wstd, std, w, Cout, n);
    conv2d_gemm_forward(out, scratch, x, wstd, NULL, B, Cin, H, W, Cout, K, 1, 1);
    conv2d_gemm_backward(dx, dwstd, NULL, scratch, dout, x, wstd, B, Cin, H, W, Cout, K, 1, 1);
    weight_standardize_backward(dw, dwstd, wstd, std, Cout, n);
    expect_like_each(p, "std", std, get(p, "std", Cout), Cout, Cout); // each channel its own scale
    expect_like(p, "wstd", wstd, get(p, "wstd", Cout, Cin, K, K), Cout * n);
    expect_like(p, "out", out, get(p, "out", B, Cout, H, W), B * Cout * H * W);
    expect_like(p, "grad.x", dx, get(p, "grad.x", B, Cin, H, W), B * Cin * H * W);
    expect_like(p, "grad.wstd", dwstd, get(p, "grad.wstd", Cout, Cin, K, K), Cout * n);
    expect_like_each(p, "grad.weight", dw, get(p, "grad.weight", Cout, Cin, K, K), Cout * n, Cout);
}

// ---- GroupNorm ----------------------------------------------------------------------------

// Three groups of two channels: one with mean about 2, one of scale 3 around
// -1, one of standard deviation 1e-3 (variance 1e-6 = eps), whose 1/std and
// input gradient are about 1000 times the others': each group is held to its
// own scale.
Test(layers_torch, groupnorm_equals_nn_groupnorm) {
    enum { B = 2, C = 6, H = 3, W = 4, G = 3, n = B * C * H * W };
    const char *p = "groupnorm";
    const float *x = get(p, "x", B, C, H, W), *weight = get(p, "weight", C);
    const float *bias = get(p, "bias", C), *dout = get(p, "dout", B, C, H, W);
    float *out = floats(n), *mean = floats(B * G), *rstd = floats(B * G), *dx = floats(n);
    float *dweight = floats(C), *dbias = floats(C);
    groupnorm_forward(out, mean, rstd, x, weight, bias, B, C, H, W, G);
    groupnorm_backward(dx, dweight, dbias, dout, x, weight, mean, rstd, B, C, H, W, G);
    expect_like(p, "out", out, get(p, "out", B, C, H, W), n);
    expect_like_each(p, "mean", mean, get(p, "mean", B, G), B * G, B * G);
    expect_like_each(p, "rstd", rstd, get(p, "rstd", B, G), B * G, B * G);
    expect_like_each(p, "grad.x", dx, get(p, "grad.x", B, C, H, W), n, B * G); // group by group
    expect_like(p, "grad.weight", dweight, get(p, "grad.weight", C), C);
    expect_like(p, "grad.bias", dbias, get(p, "grad.bias", C), C);
}

// ---- ReLU and pooling -------------------------------------------------------------------------

Test(layers_torch, relu_equals_f_relu_with_zero_gradient_at_zero) {
    enum { n = 40 }; // every seventh value exactly 0
    const float *x = get("relu", "x", n);
    float *out = floats(n), *dx = floats(n);
    relu_forward(out, x, n);
    relu_backward(dx, get("relu", "dout", n), x, n);
    expect_like("relu", "out", out, get("relu", "out", n), n);
    expect_like("relu", "grad.x", dx, get("relu", "grad.x", n), n);
}

static void check_maxpool(const char *p, int B, int C, int H, int W, int K, int stride, int pad) {
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    size_t n_in = (size_t)B * C * H * W, n_out = (size_t)B * C * Ho * Wo;
    const float *x = get(p, "x", B, C, H, W), *indices = get(p, "argmax", B, C, Ho, Wo);
    float *out = floats(n_out), *dx = floats(n_in);
    int *argmax = (int *)floats(n_out), *want = (int *)floats(n_out);
    for (size_t i = 0; i < n_out; i++) want[i] = (int)indices[i];
    maxpool_forward(out, argmax, x, B, C, H, W, K, stride, pad);
    maxpool_backward(dx, get(p, "dout", B, C, Ho, Wo), argmax, B, C, H, W, K, stride, pad);
    expect_like(p, "out", out, get(p, "out", B, C, Ho, Wo), n_out);
    expect_ints_equal(p, argmax, want, n_out);
    expect_like(p, "grad.x", dx, get(p, "grad.x", B, C, H, W), n_in);
}

Test(layers_torch, maxpool_3x3_stride_2_padding_1_equals_f_max_pool2d) {
    check_maxpool("maxpool", 2, 3, 7, 8, 3, 2, 1);
}

Test(layers_torch, maxpool_on_ties_picks_torchs_maximum) {
    check_maxpool("maxpool_ties", 1, 2, 6, 7, 3, 2, 1); // values 0, 1 and 2
}

Test(layers_torch, maxpool_2x2_stride_2_equals_f_max_pool2d) {
    check_maxpool("maxpool_2x2", 1, 2, 6, 5, 2, 2, 0);
}

Test(layers_torch, global_avgpool_equals_adaptive_avg_pool2d) {
    enum { B = 2, C = 3, H = 5, W = 4 };
    const float *x = get("avgpool", "x", B, C, H, W);
    float *out = floats(B * C), *dx = floats(B * C * H * W);
    global_avgpool_forward(out, x, B, C, H, W);
    global_avgpool_backward(dx, get("avgpool", "dout", B, C), B, C, H, W);
    expect_like("avgpool", "out", out, get("avgpool", "out", B, C), B * C);
    expect_like("avgpool", "grad.x", dx, get("avgpool", "grad.x", B, C, H, W), B * C * H * W);
}

// ---- a ResNet root: the layers in a row ----------------------------------------------------

// StdConv 7x7 stride 2 padding 3 (1 -> 8 channels, 16x16 -> 8x8), GroupNorm
// with 4 groups, ReLU (in place), max pooling 3x3 stride 2 padding 1 (-> 4x4),
// global average pooling (-> (2,8)); and back through all of them.
Test(layers_torch, resnet_root_forward_and_backward) {
    enum { B = 2, Cin = 1, S = 16, C = 8, K = 7, G = 4, S2 = 8, S4 = 4, n = Cin * K * K };
    const char *p = "stem";
    const float *x = get(p, "x", B, Cin, S, S), *w = get(p, "conv.weight", C, Cin, K, K);
    const float *gw = get(p, "gn.weight", C), *gb = get(p, "gn.bias", C);
    float *wstd = floats(C * n), *std = floats(C), *conv = floats(B * C * S2 * S2);
    float *scratch = floats(conv2d_gemm_scratch_floats(Cin, S, S, K, 2, 3));
    float *act = floats(B * C * S2 * S2), *mean = floats(B * G), *rstd = floats(B * G);
    float *pool = floats(B * C * S4 * S4), *out = floats(B * C);
    int *argmax = (int *)floats(B * C * S4 * S4);
    weight_standardize_forward(wstd, std, w, C, n);
    conv2d_gemm_forward(conv, scratch, x, wstd, NULL, B, Cin, S, S, C, K, 2, 3);
    groupnorm_forward(act, mean, rstd, conv, gw, gb, B, C, S2, S2, G);
    relu_forward(act, act, B * C * S2 * S2);
    maxpool_forward(pool, argmax, act, B, C, S2, S2, 3, 2, 1);
    global_avgpool_forward(out, pool, B, C, S4, S4);
    expect_like(p, "conv", conv, get(p, "conv", B, C, S2, S2), B * C * S2 * S2);
    expect_like(p, "pool", pool, get(p, "pool", B, C, S4, S4), B * C * S4 * S4);
    expect_like(p, "out", out, get(p, "out", B, C), B * C);

    float *dpool = floats(B * C * S4 * S4), *dact = floats(B * C * S2 * S2);
    float *drelu = floats(B * C * S2 * S2), *dconv = floats(B * C * S2 * S2);
    float *dgw = floats(C), *dgb = floats(C), *dx = floats(B * Cin * S * S);
    float *dwstd = floats(C * n), *dw = floats(C * n);
    global_avgpool_backward(dpool, get(p, "dout", B, C), B, C, S4, S4);
    maxpool_backward(dact, dpool, argmax, B, C, S2, S2, 3, 2, 1);
    relu_backward(drelu, dact, act, B * C * S2 * S2); // act is the ReLU's output
    groupnorm_backward(dconv, dgw, dgb, drelu, conv, gw, mean, rstd, B, C, S2, S2, G);
    conv2d_gemm_backward(dx, dwstd, NULL, scratch, dconv, x, wstd, B, Cin, S, S, C, K, 2, 3);
    weight_standardize_backward(dw, dwstd, wstd, std, C, n);
    expect_like(p, "grad.gn.weight", dgw, get(p, "grad.gn.weight", C), C);
    expect_like(p, "grad.gn.bias", dgb, get(p, "grad.gn.bias", C), C);
    expect_like(p, "grad.conv.weight", dw, get(p, "grad.conv.weight", C, Cin, K, K), C * n);
    expect_like(p, "grad.x", dx, get(p, "grad.x", B, Cin, S, S), B * Cin * S * S);
}

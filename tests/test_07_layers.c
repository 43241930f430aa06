// test_07_layers.c — chapter 07's layers: every backward pass against central
// finite differences of its own forward pass (tests/gradcheck.h), and their
// properties: the convolution through matrix products equals chapter 02's
// direct loops on the ResNet's kernels, strides and paddings, a 1x1
// convolution is a Linear layer on the channels, im2col and col2im are
// adjoint, the convolution runs on slices of a batch in threads at once, and
// in chunks of images per product it gives the per-image results;
// standardised weights have mean 0 and standard deviation 1 and ignore a
// channel's shift and scale; GroupNorm with one group is LayerNorm over the
// image, and its backward pass fused with a ReLU's is the two in turn; max
// pooling's gradient lands on the maximum (the first, on ties); average
// pooling's is dout / (H·W) everywhere.
//
// The finite-difference tolerance is gradcheck.h's, 5e-3 of each tensor's
// largest gradient. Measured here, the largest error of any element is 1.5e-4
// of its tensor's scale (GroupNorm's input gradient; the convolution's and
// StdConv's are below 5e-5): float rounding of L, thirty times inside the
// tolerance. Breaking a term (half of GroupNorm's mean(g·x̂) term, col2im's
// padding offset, a bias gradient halved) fails these checks.
// The inputs of ReLU and max pooling keep every element further than 2h from
// a kink (0, or a tie), where there is no derivative to check.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "conv2d.h"
#include "conv2d_gemm.h"
#include "error.h"
#include "global_avgpool.h"
#include "gradcheck.h"
#include "groupnorm.h"
#include "layernorm.h"
#include "linear.h"
#include "maxpool.h"
#include "owned.h"
#include "relu.h"
#include "rng.h"
#include "weight_standardize.h"

TestSuite(layers, .fini = owned_release);

// ---- the convolution -----------------------------------------------------------------

typedef struct {
    int B, Cin, H, W, Cout, K, stride, pad;
    float *in, *weight, *bias, *out, *r, *scratch; // bias may be NULL; r (B,Cout,Ho,Wo): dout
    float *din, *dweight, *dbias;
} ConvCase;

static size_t conv_out_count(const ConvCase *c) {
    return (size_t)c->B * c->Cout * conv2d_out_size(c->H, c->K, c->stride, c->pad) *
           conv2d_out_size(c->W, c->K, c->stride, c->pad);
}

// A case with random input, weights (1/sqrt(fan_in)), bias if asked, and dout.
static ConvCase conv_case(Rng *rng, int B, int Cin, int H, int W, int Cout, int K, int stride,
                          int pad, bool bias) {
    ConvCase c = {
        .B = B, .Cin = Cin, .H = H, .W = W, .Cout = Cout, .K = K, .stride = stride, .pad = pad};
    size_t n_in = (size_t)B * Cin * H * W, n_w = (size_t)Cout * Cin * K * K;
    c.in = random_floats(rng, n_in, 0, 1);
    c.weight = random_floats(rng, n_w, 0, 1.0f / sqrtf((float)(Cin * K * K)));
    c.bias = bias ? random_floats(rng, Cout, 0, 0.5f) : NULL;
    c.r = random_floats(rng, conv_out_count(&c), 0, 1);
    c.out = floats(conv_out_count(&c));
    c.scratch = floats(conv2d_gemm_scratch_floats(Cin, H, W, K, stride, pad));
    c.din = floats(n_in);
    c.dweight = floats(n_w);
    c.dbias = floats(Cout);
    return c;
}

static double conv_loss(GradCheck *gc) {
    ConvCase *c = gc->ctx;
    conv2d_gemm_forward(c->out, c->scratch, c->in, c->weight, c->bias, c->B, c->Cin, c->H, c->W,
                        c->Cout, c->K, c->stride, c->pad);
    return gradcheck_dot(c->out, c->r, conv_out_count(c));
}

static void conv_grads(GradCheck *gc) {
    ConvCase *c = gc->ctx;
    conv2d_gemm_backward(c->din, c->dweight, c->bias ? c->dbias : NULL, c->scratch, c->r, c->in,
                         c->weight, c->B, c->Cin, c->H, c->W, c->Cout, c->K, c->stride, c->pad);
}

static void check_conv(int B, int Cin, int H, int W, int Cout, int K, int stride, int pad,
                       bool bias, unsigned seed) {
    Rng rng;
    rng_seed(&rng, seed);
    ConvCase c = conv_case(&rng, B, Cin, H, W, Cout, K, stride, pad, bias);
    GradCheck gc = {.loss = conv_loss, .backward = conv_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "conv.in", c.in, c.din, (size_t)B * Cin * H * W);
    gradcheck_tensor(&gc, "conv.weight", c.weight, c.dweight, (size_t)Cout * Cin * K * K);
    if (bias) gradcheck_tensor(&gc, "conv.bias", c.bias, c.dbias, Cout);
    gradcheck_run(&gc);
}

Test(layers, conv_3x3_stride_2_padding_1_backward) {
    check_conv(2, 2, 5, 6, 3, 3, 2, 1, true, 1);
}

Test(layers, conv_7x7_stride_2_padding_3_backward) {
    check_conv(1, 1, 9, 8, 2, 7, 2, 3, false, 2);
}

Test(layers, conv_1x1_backward_without_columns) {
    check_conv(2, 3, 3, 4, 4, 1, 1, 0, true, 3); // the columns are the image itself
}

Test(layers, conv_1x1_stride_2_backward) {
    check_conv(2, 3, 5, 4, 2, 1, 2, 0, false, 4);
}

// The cases the ResNet needs, and odd ones: every output of conv2d_gemm_forward
// against chapter 02's conv2d_forward. The two add the same products in
// different orders (a sum of up to Cin·K·K = 144 terms of size about 1, in
// float): measured, they differ by at most 1.9e-6 (16 channels, 3x3, through
// OpenBLAS); the tolerance is 1e-5 + 1e-5·|want|.
Test(layers, conv_gemm_equals_chapter_02s_direct_convolution) {
    static const struct {
        int B, Cin, H, W, Cout, K, stride, pad;
    } cases[] = {
        {2, 3, 6, 5, 4, 1, 1, 0},     {2, 3, 6, 5, 4, 3, 1, 1}, {2, 3, 7, 8, 4, 3, 2, 1},
        {1, 2, 16, 15, 5, 7, 2, 3},   {2, 4, 7, 6, 3, 1, 2, 0}, {1, 2, 11, 13, 3, 5, 3, 2},
        {2, 3, 7, 9, 2, 2, 2, 0},     {1, 3, 5, 5, 2, 3, 1, 0}, {1, 1, 1, 1, 1, 1, 1, 0},
        {3, 16, 14, 14, 32, 3, 1, 1}, // large enough for OpenBLAS and the threads
    };
    Rng rng;
    rng_seed(&rng, 5);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            ConvCase c =
                conv_case(&rng, cases[i].B, cases[i].Cin, cases[i].H, cases[i].W, cases[i].Cout,
                          cases[i].K, cases[i].stride, cases[i].pad, with_bias);
            size_t n = conv_out_count(&c);
            float *want = floats(n);
            conv2d_forward(want, c.in, c.weight, c.bias, c.B, c.Cin, c.H, c.W, c.Cout, c.K,
                           c.stride, c.pad);
            conv2d_gemm_forward(c.out, c.scratch, c.in, c.weight, c.bias, c.B, c.Cin, c.H, c.W,
                                c.Cout, c.K, c.stride, c.pad);
            char name[96];
            snprintf(name, sizeof name, "%dx%d stride %d padding %d on %dx%d%s", c.K, c.K, c.stride,
                     c.pad, c.H, c.W, with_bias ? ", bias" : "");
            cr_log_info("%s: largest difference %.2g", name,
                        diff_floats(c.out, want, (long)n, 0, 0).max_diff);
            expect_floats_close(name, c.out, want, n, 1e-5, 1e-5);
        }
}

Test(layers, conv_scratch_is_one_images_columns) {
    // 3x3 stride 2 padding 1 on 7x8: Ho = 4, Wo = 4; columns (3·9, 16)
    cr_expect_eq(conv2d_gemm_scratch_floats(3, 7, 8, 3, 2, 1), (size_t)27 * 16);
    cr_expect_eq(conv2d_gemm_scratch_floats(3, 7, 8, 1, 2, 0), (size_t)3 * 4 * 4);
    cr_expect_eq(conv2d_gemm_scratch_floats(3, 7, 8, 1, 1, 1), (size_t)3 * 9 * 10);
    cr_expect_eq(conv2d_gemm_scratch_floats(3, 7, 8, 1, 1, 0), 0, "1x1, stride 1: no columns");
    // and with none, a 1x1 convolution runs forward and backward
    Rng rng;
    rng_seed(&rng, 6);
    ConvCase c = conv_case(&rng, 2, 3, 4, 5, 2, 1, 1, 0, true);
    conv2d_gemm_forward(c.out, NULL, c.in, c.weight, c.bias, 2, 3, 4, 5, 2, 1, 1, 0);
    conv2d_gemm_backward(c.din, c.dweight, c.dbias, NULL, c.r, c.in, c.weight, 2, 3, 4, 5, 2, 1, 1,
                         0);
    float *want = floats(conv_out_count(&c));
    conv2d_forward(want, c.in, c.weight, c.bias, 2, 3, 4, 5, 2, 1, 1, 0);
    expect_floats_close("1x1 without scratch", c.out, want, conv_out_count(&c), 1e-5, 1e-5);
}

// A 1x1 convolution is a Linear layer applied to every pixel's channels: with
// the image transposed to (B,H·W,Cin), linear_forward gives the output
// transposed to (B,H·W,Cout); and the same for every gradient.
Test(layers, conv_1x1_is_linear_on_the_channels) {
    enum { B = 2, Cin = 5, H = 3, W = 4, Cout = 6, HW = H * W };
    Rng rng;
    rng_seed(&rng, 7);
    ConvCase c = conv_case(&rng, B, Cin, H, W, Cout, 1, 1, 0, true);
    float *rows = floats(B * HW * Cin), *lin = floats(B * HW * Cout), *dlin = floats(B * HW * Cout);
    float *drows = floats(B * HW * Cin), *dw = floats(Cout * Cin), *db = floats(Cout);
    for (int b = 0; b < B; b++)
        for (int p = 0; p < HW; p++) {
            for (int i = 0; i < Cin; i++)
                rows[(b * HW + p) * Cin + i] = c.in[(b * Cin + i) * HW + p];
            for (int o = 0; o < Cout; o++)
                dlin[(b * HW + p) * Cout + o] = c.r[(b * Cout + o) * HW + p];
        }
    linear_forward(lin, rows, c.weight, c.bias, B * HW, Cin, Cout);
    linear_backward(drows, dw, db, dlin, rows, c.weight, B * HW, Cin, Cout);
    conv2d_gemm_forward(c.out, c.scratch, c.in, c.weight, c.bias, B, Cin, H, W, Cout, 1, 1, 0);
    conv2d_gemm_backward(c.din, c.dweight, c.dbias, c.scratch, c.r, c.in, c.weight, B, Cin, H, W,
                         Cout, 1, 1, 0);
    float *want = floats(B * Cout * HW), *want_din = floats(B * Cin * HW);
    for (int b = 0; b < B; b++)
        for (int p = 0; p < HW; p++) {
            for (int o = 0; o < Cout; o++)
                want[(b * Cout + o) * HW + p] = lin[(b * HW + p) * Cout + o];
            for (int i = 0; i < Cin; i++)
                want_din[(b * Cin + i) * HW + p] = drows[(b * HW + p) * Cin + i];
        }
    expect_floats_close("out", c.out, want, B * Cout * HW, 1e-6, 1e-5);
    expect_floats_close("din", c.din, want_din, B * Cin * HW, 1e-6, 1e-5);
    expect_floats_close("dweight", c.dweight, dw, Cout * Cin, 1e-6, 1e-5);
    expect_floats_close("dbias", c.dbias, db, Cout, 1e-6, 1e-5);
}

// col2im is im2col's adjoint: <im2col(x), y> = <x, col2im(y)> for any x, y,
// which is what makes the input's gradient right. In double, to rounding.
Test(layers, col2im_is_the_adjoint_of_im2col) {
    static const int cases[][6] = {// Cin, H, W, K, stride, pad
                                   {2, 7, 8, 3, 2, 1},
                                   {1, 11, 10, 7, 2, 3},
                                   {3, 5, 7, 5, 3, 2},
                                   {2, 6, 5, 1, 2, 0}};
    Rng rng;
    rng_seed(&rng, 8);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *k = cases[i];
        size_t n_in = (size_t)k[0] * k[1] * k[2];
        size_t n_cols = conv2d_gemm_scratch_floats(k[0], k[1], k[2], k[3], k[4], k[5]);
        float *x = random_floats(&rng, n_in, 0, 1), *y = random_floats(&rng, n_cols, 0, 1);
        float *cols = floats(n_cols), *back = floats(n_in);
        conv2d_im2col(cols, x, k[0], k[1], k[2], k[3], k[4], k[5]);
        conv2d_col2im(back, y, k[0], k[1], k[2], k[3], k[4], k[5]);
        double left = gradcheck_dot(cols, y, n_cols), right = gradcheck_dot(x, back, n_in);
        cr_expect(fabs(left - right) <= 1e-5 * (1.0 + fabs(left)),
                  "case %zu: <im2col(x), y> = %.9g but <x, col2im(y)> = %.9g", i, left, right);
    }
}

// Two threads run the forward and backward pass on their own halves of a
// batch at once, each with its own scratch and parameter gradients (as the
// models run their slices); their outputs are the whole batch's, and their
// gradients add up to it (float rounding of the sums in another grouping).
Test(layers, conv_runs_on_slices_of_a_batch_in_threads) {
    enum { B = 4, Cin = 8, H = 10, W = 10, Cout = 16, K = 3 };
    Rng rng;
    rng_seed(&rng, 9);
    ConvCase c = conv_case(&rng, B, Cin, H, W, Cout, K, 1, 1, true);
    size_t n_out = conv_out_count(&c), per_image = n_out / B, n_in = (size_t)B * Cin * H * W;
    size_t n_w = (size_t)Cout * Cin * K * K,
           n_scratch = conv2d_gemm_scratch_floats(Cin, H, W, K, 1, 1);
    float *out = floats(n_out), *din = floats(n_in), *dw[2] = {floats(n_w), floats(n_w)};
    float *db[2] = {floats(Cout), floats(Cout)},
          *scratch[2] = {floats(n_scratch), floats(n_scratch)};
    int threads = 0;
#pragma omp parallel num_threads(2)
    {
        int t = omp_get_thread_num(), b0 = t * B / 2, Bt = B / 2;
#pragma omp atomic
        threads++;
        conv2d_gemm_forward(out + b0 * per_image, scratch[t], c.in + b0 * Cin * H * W, c.weight,
                            c.bias, Bt, Cin, H, W, Cout, K, 1, 1);
        conv2d_gemm_backward(din + b0 * Cin * H * W, dw[t], db[t], scratch[t], c.r + b0 * per_image,
                             c.in + b0 * Cin * H * W, c.weight, Bt, Cin, H, W, Cout, K, 1, 1);
    }
    cr_expect_eq(threads, 2, "the test needs two threads");
    for (size_t i = 0; i < n_w; i++) dw[0][i] += dw[1][i];
    for (int i = 0; i < Cout; i++) db[0][i] += db[1][i];
    conv_loss(&(GradCheck){.ctx = &c});
    conv_grads(&(GradCheck){.ctx = &c});
    expect_floats_close("out", out, c.out, n_out, 1e-5, 1e-5);
    expect_floats_close("din", din, c.din, n_in, 1e-5, 1e-5);
    expect_floats_close("dweight", dw[0], c.dweight, n_w, 1e-4, 1e-5);
    expect_floats_close("dbias", db[0], c.dbias, Cout, 1e-4, 1e-5);
}

// ---- the convolution in chunks of images --------------------------------------------------

// The chunked pair against the per-image one, which the tests above hold to
// chapter 02 and to finite differences: every output and gradient, with and
// without bias, on the ResNet's kinds of convolution, with batches that end
// in a part of a chunk (the rest of it zero). The two add the same products
// in other orders and groupings (the gradients sum over several images at
// once); measured, the outputs differ by at most 2e-6 and the weight gradients
// (sums of up to 980 products of size about 1) by 4e-5.
Test(layers, chunked_conv_equals_the_per_image_one) {
    static const struct {
        int B, Cin, H, Cout, K, stride, pad;
    } cases[] = {
        {5, 1, 28, 16, 7, 2, 3},  // the root: 14x14, 4 images a chunk
        {20, 16, 7, 16, 3, 1, 1}, // 7x7, 16 images a chunk: one and a part
        {3, 32, 4, 32, 3, 2, 1},  // 2x2, 64 images a chunk: 3 of them
        {9, 8, 4, 12, 1, 1, 0},   // 1x1: the columns are the image
        {6, 8, 5, 12, 1, 2, 0},   // the projection's 1x1 with stride 2
    };
    Rng rng;
    rng_seed(&rng, 10);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            int B = cases[i].B, Cin = cases[i].Cin, H = cases[i].H, Cout = cases[i].Cout;
            int K = cases[i].K, st = cases[i].stride, pad = cases[i].pad;
            ConvCase c = conv_case(&rng, B, Cin, H, H, Cout, K, st, pad, with_bias);
            size_t n_out = conv_out_count(&c), n_in = (size_t)B * Cin * H * H;
            size_t n_w = (size_t)Cout * Cin * K * K;
            float *scratch = floats(conv2d_gemm_chunk_scratch_floats(Cin, H, H, Cout, K, st, pad));
            float *out = floats(n_out), *din = floats(n_in), *dw = floats(n_w), *db = floats(Cout);
            conv2d_gemm_chunked_forward(out, scratch, c.in, c.weight, c.bias, B, Cin, H, H, Cout, K,
                                        st, pad);
            conv2d_gemm_chunked_backward(din, dw, with_bias ? db : NULL, scratch, c.r, c.in,
                                         c.weight, B, Cin, H, H, Cout, K, st, pad);
            conv_loss(&(GradCheck){.ctx = &c});
            conv_grads(&(GradCheck){.ctx = &c});
            char name[64];
            snprintf(name, sizeof name, "case %zu%s", i, with_bias ? ", bias" : "");
            cr_log_info("%s: largest differences %.2g (out), %.2g (dweight)", name,
                        diff_floats(out, c.out, (long)n_out, 0, 0).max_diff,
                        diff_floats(dw, c.dweight, (long)n_w, 0, 0).max_diff);
            expect_floats_close(name, out, c.out, n_out, 1e-5, 1e-5);
            expect_floats_close(name, din, c.din, n_in, 1e-5, 1e-5);
            expect_floats_close(name, dw, c.dweight, n_w, 1e-4, 1e-5);
            if (with_bias) expect_floats_close(name, db, c.dbias, Cout, 1e-4, 1e-5);
        }
}

// An image's output does not depend on the images that share its chunk: images
// 2..6 alone give the bits they get as part of a batch of 7, where they sit
// elsewhere in their chunks (so a thread's slice of a batch gives the whole
// batch's bits).
Test(layers, chunked_conv_output_does_not_depend_on_the_chunk) {
    enum { B = 7, Cin = 16, H = 4, Cout = 24, K = 3, b0 = 2 };
    Rng rng;
    rng_seed(&rng, 11);
    ConvCase c = conv_case(&rng, B, Cin, H, H, Cout, K, 1, 1, false);
    float *scratch = floats(conv2d_gemm_chunk_scratch_floats(Cin, H, H, Cout, K, 1, 1));
    size_t per_image = conv_out_count(&c) / B;
    float *part = floats(per_image * (B - b0));
    conv2d_gemm_chunked_forward(c.out, scratch, c.in, c.weight, NULL, B, Cin, H, H, Cout, K, 1, 1);
    conv2d_gemm_chunked_forward(part, scratch, c.in + (size_t)b0 * Cin * H * H, c.weight, NULL,
                                B - b0, Cin, H, H, Cout, K, 1, 1);
    expect_floats_equal("images 2..6 alone", part, c.out + b0 * per_image, per_image * (B - b0), 0);
}

// ---- weight standardisation --------------------------------------------------------------

typedef struct {
    int Cout, fan_in;
    float *weight, *wstd, *std, *r, *dweight;
    ConvCase conv; // for the standardised convolution: its weight is wstd, dweight dwstd
} StdCase;

static double standardize_loss(GradCheck *gc) {
    StdCase *c = gc->ctx;
    weight_standardize_forward(c->wstd, c->std, c->weight, c->Cout, c->fan_in);
    return gradcheck_dot(c->wstd, c->r, (size_t)c->Cout * c->fan_in);
}

static void standardize_grads(GradCheck *gc) {
    StdCase *c = gc->ctx;
    weight_standardize_backward(c->dweight, c->r, c->wstd, c->std, c->Cout, c->fan_in);
}

// Weights with a mean and a scale of their own in each channel.
static StdCase std_case(Rng *rng, int Cout, int fan_in) {
    StdCase c = {.Cout = Cout, .fan_in = fan_in};
    c.weight = random_floats(rng, (size_t)Cout * fan_in, 0, 1);
    for (int o = 0; o < Cout; o++)
        for (int i = 0; i < fan_in; i++)
            c.weight[o * fan_in + i] =
                c.weight[o * fan_in + i] * (0.3f + 0.4f * o) + 0.5f - 0.3f * o;
    c.wstd = floats((size_t)Cout * fan_in);
    c.std = floats(Cout);
    c.r = random_floats(rng, (size_t)Cout * fan_in, 0, 1);
    c.dweight = floats((size_t)Cout * fan_in);
    return c;
}

Test(layers, weight_standardize_backward) {
    Rng rng;
    rng_seed(&rng, 10);
    StdCase c = std_case(&rng, 3, 12);
    GradCheck gc = {
        .loss = standardize_loss, .backward = standardize_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "weight_standardize.weight", c.weight, c.dweight, 3 * 12);
    gradcheck_run(&gc);
}

// StdConv: the weights standardised, then the convolution with them; the
// gradient of the raw weights through both.
static double stdconv_loss(GradCheck *gc) {
    StdCase *c = gc->ctx;
    weight_standardize_forward(c->wstd, c->std, c->weight, c->Cout, c->fan_in);
    return conv_loss(&(GradCheck){.ctx = &c->conv});
}

static void stdconv_grads(GradCheck *gc) {
    StdCase *c = gc->ctx;
    memset(c->conv.dweight, 0, (size_t)c->Cout * c->fan_in * sizeof(float)); // dwstd, fresh
    conv_grads(&(GradCheck){.ctx = &c->conv});
    weight_standardize_backward(c->dweight, c->conv.dweight, c->wstd, c->std, c->Cout, c->fan_in);
}

Test(layers, stdconv_backward) {
    Rng rng;
    rng_seed(&rng, 11);
    enum { B = 2, Cin = 2, H = 5, W = 6, Cout = 3, K = 3 };
    StdCase c = std_case(&rng, Cout, Cin * K * K);
    c.conv = conv_case(&rng, B, Cin, H, W, Cout, K, 1, 1, false);
    c.conv.weight = c.wstd;
    GradCheck gc = {
        .loss = stdconv_loss, .backward = stdconv_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "stdconv.in", c.conv.in, c.conv.din, B * Cin * H * W);
    gradcheck_tensor(&gc, "stdconv.weight", c.weight, c.dweight, Cout * Cin * K * K);
    gradcheck_run(&gc);
}

// Each channel comes out with mean 0 and standard deviation σ/(σ + eps); a
// channel shifted and scaled (by a > 0) gives the same standardised weights
// (but for eps, 1e-5 of σ here); and the gradient of every channel sums to 0,
// since a shift of a channel changes nothing.
Test(layers, weight_standardize_properties) {
    enum { Cout = 4, n = 27 };
    Rng rng;
    rng_seed(&rng, 12);
    StdCase c = std_case(&rng, Cout, n);
    weight_standardize_forward(c.wstd, c.std, c.weight, Cout, n);
    for (int o = 0; o < Cout; o++) {
        double mean = 0.0, var = 0.0;
        for (int i = 0; i < n; i++) mean += c.wstd[o * n + i];
        mean /= n;
        for (int i = 0; i < n; i++) var += pow(c.wstd[o * n + i] - mean, 2);
        double sd = sqrt(var / n), want = c.std[o] / (c.std[o] + WEIGHT_STANDARDIZE_EPS);
        cr_expect(fabs(mean) < 1e-6, "channel %d: mean %g", o, mean);
        cr_expect(fabs(sd - want) < 1e-6, "channel %d: std %.9g, want %.9g", o, sd, want);
    }
    float *moved = floats(Cout * n), *again = floats(Cout * n);
    for (int o = 0; o < Cout; o++)
        for (int i = 0; i < n; i++) moved[o * n + i] = 3.0f * c.weight[o * n + i] - 1.5f + o;
    weight_standardize_forward(again, NULL, moved, Cout, n);
    expect_floats_close("shifted and scaled", again, c.wstd, Cout * n, 1e-4, 0);
    weight_standardize_backward(c.dweight, c.r, c.wstd, c.std, Cout, n);
    for (int o = 0; o < Cout; o++) {
        double sum = 0.0, scale = 0.0;
        for (int i = 0; i < n; i++) {
            sum += c.dweight[o * n + i];
            scale = fmax(scale, fabs(c.dweight[o * n + i]));
        }
        cr_expect(fabs(sum) < 1e-5 * n * scale, "channel %d: dweight sums to %g", o, sum);
    }
}

// ---- GroupNorm -------------------------------------------------------------------------

typedef struct {
    int B, C, H, W, G;
    float *x, *weight, *bias, *out, *mean, *rstd, *r;
    float *dx, *dweight, *dbias;
} GroupNormCase;

static GroupNormCase groupnorm_case(Rng *rng, int B, int C, int H, int W, int G) {
    GroupNormCase c = {.B = B, .C = C, .H = H, .W = W, .G = G};
    size_t n = (size_t)B * C * H * W;
    c.x = random_floats(rng, n, 0, 1.5f);
    for (size_t i = 0; i < n; i++) c.x[i] += (float)(i / (H * W) % C) - 2.0f; // a mean per channel
    c.weight = random_floats(rng, C, 1, 0.5f);
    c.bias = random_floats(rng, C, 0, 0.5f);
    c.r = random_floats(rng, n, 0, 1);
    c.out = floats(n);
    c.mean = floats(B * G);
    c.rstd = floats(B * G);
    c.dx = floats(n);
    c.dweight = floats(C);
    c.dbias = floats(C);
    return c;
}

static double groupnorm_loss(GradCheck *gc) {
    GroupNormCase *c = gc->ctx;
    groupnorm_forward(c->out, c->mean, c->rstd, c->x, c->weight, c->bias, c->B, c->C, c->H, c->W,
                      c->G);
    return gradcheck_dot(c->out, c->r, (size_t)c->B * c->C * c->H * c->W);
}

static void groupnorm_grads(GradCheck *gc) {
    GroupNormCase *c = gc->ctx;
    groupnorm_backward(c->dx, c->dweight, c->dbias, c->r, c->x, c->weight, c->mean, c->rstd, c->B,
                       c->C, c->H, c->W, c->G);
}

static void check_groupnorm(int B, int C, int H, int W, int G, unsigned seed) {
    Rng rng;
    rng_seed(&rng, seed);
    GroupNormCase c = groupnorm_case(&rng, B, C, H, W, G);
    GradCheck gc = {
        .loss = groupnorm_loss, .backward = groupnorm_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "groupnorm.x", c.x, c.dx, (size_t)B * C * H * W);
    gradcheck_tensor(&gc, "groupnorm.weight", c.weight, c.dweight, C);
    gradcheck_tensor(&gc, "groupnorm.bias", c.bias, c.dbias, C);
    gradcheck_run(&gc);
}

Test(layers, groupnorm_backward) {
    check_groupnorm(2, 6, 3, 4, 3, 13);
}

Test(layers, groupnorm_backward_one_channel_a_group) {
    check_groupnorm(2, 4, 3, 3, 4, 14);
}

// With one group, GroupNorm normalises each image's C·H·W values together: it
// is LayerNorm over rows of C·H·W (the same eps) with the weight and bias of
// channel c repeated over its H·W positions. Forward and backward agree to
// rounding (the sums run in different orders).
Test(layers, groupnorm_with_one_group_is_layernorm_over_the_image) {
    enum { B = 3, C = 4, H = 3, W = 5, HW = H * W, D = C * HW };
    cr_assert_eq(GROUPNORM_EPS, LAYERNORM_EPS);
    Rng rng;
    rng_seed(&rng, 15);
    GroupNormCase c = groupnorm_case(&rng, B, C, H, W, 1);
    groupnorm_loss(&(GradCheck){.ctx = &c});
    groupnorm_grads(&(GradCheck){.ctx = &c});
    float *lw = floats(D), *lb = floats(D), *out = floats(B * D), *mean = floats(B);
    float *rstd = floats(B), *dx = floats(B * D), *dlw = floats(D), *dlb = floats(D);
    for (int i = 0; i < D; i++) {
        lw[i] = c.weight[i / HW];
        lb[i] = c.bias[i / HW];
    }
    layernorm_forward(out, mean, rstd, c.x, lw, lb, B, D);
    layernorm_backward(dx, dlw, dlb, c.r, c.x, lw, mean, rstd, B, D);
    float *dw = floats(C), *db = floats(C); // LayerNorm's per-position gradients, per channel
    for (int i = 0; i < D; i++) {
        dw[i / HW] += dlw[i];
        db[i / HW] += dlb[i];
    }
    expect_floats_close("out", c.out, out, B * D, 1e-5, 1e-5);
    expect_floats_close("mean", c.mean, mean, B, 1e-6, 1e-5);
    expect_floats_close("rstd", c.rstd, rstd, B, 1e-6, 1e-5);
    expect_floats_close("dx", c.dx, dx, B * D, 1e-5, 1e-5);
    expect_floats_close("dweight", c.dweight, dw, C, 1e-5, 1e-5);
    expect_floats_close("dbias", c.dbias, db, C, 1e-5, 1e-5);
}

// With one channel a group (instance normalisation), weight 1 and bias 0, every
// channel of every image comes out with mean 0 and variance var/(var + eps).
Test(layers, groupnorm_with_a_group_per_channel_normalises_each_channel) {
    enum { B = 2, C = 3, H = 4, W = 4, HW = H * W };
    Rng rng;
    rng_seed(&rng, 16);
    GroupNormCase c = groupnorm_case(&rng, B, C, H, W, C);
    for (int i = 0; i < C; i++) c.weight[i] = 1.0f, c.bias[i] = 0.0f;
    groupnorm_loss(&(GradCheck){.ctx = &c});
    for (int bc = 0; bc < B * C; bc++) {
        double mean = 0.0, var = 0.0;
        for (int i = 0; i < HW; i++) mean += c.out[bc * HW + i];
        mean /= HW;
        for (int i = 0; i < HW; i++) var += pow(c.out[bc * HW + i] - mean, 2);
        var /= HW;
        cr_expect(fabs(mean) < 1e-6, "plane %d: mean %g", bc, mean);
        cr_expect(fabs(var - 1.0) < 1e-5, "plane %d: variance %.9g", bc, var);
    }
}

// The fused backward pass of ReLU(GroupNorm(x)) is relu_backward into a zeroed
// buffer followed by groupnorm_backward: the same numbers, with y the ReLU's
// output or its input (about half of the values negative, so half the gradient
// stopped).
Test(layers, groupnorm_relu_backward_is_relu_backward_then_groupnorm_backward) {
    enum { B = 3, C = 8, H = 5, W = 5, G = 4, n = B * C * H * W };
    Rng rng;
    rng_seed(&rng, 17);
    GroupNormCase c = groupnorm_case(&rng, B, C, H, W, G);
    groupnorm_loss(&(GradCheck){.ctx = &c});
    float *y = floats(n), *dn = floats(n);
    relu_forward(y, c.out, n);
    relu_backward(dn, c.r, y, n);
    groupnorm_backward(c.dx, c.dweight, c.dbias, dn, c.x, c.weight, c.mean, c.rstd, B, C, H, W, G);
    const float *ys[2] = {y, c.out};
    for (int i = 0; i < 2; i++) {
        float *dx = floats(n), *dw = floats(C), *db = floats(C);
        groupnorm_relu_backward(dx, dw, db, c.r, ys[i], c.x, c.weight, c.mean, c.rstd, B, C, H, W,
                                G);
        expect_floats_equal("dx", dx, c.dx, n, 0);
        expect_floats_equal("dweight", dw, c.dweight, C, 0);
        expect_floats_equal("dbias", db, c.dbias, C, 0);
    }
}

// ---- ReLU, max pooling, average pooling ----------------------------------------------------

typedef struct {
    int B, C, H, W, K, stride, pad; // max pooling's; ReLU uses n = B·C·H·W
    float *x, *out, *r, *dx;
    int *argmax;
} PoolCase;

static size_t pool_in_count(const PoolCase *c) {
    return (size_t)c->B * c->C * c->H * c->W;
}

static size_t pool_out_count(const PoolCase *c) {
    return (size_t)c->B * c->C * conv2d_out_size(c->H, c->K, c->stride, c->pad) *
           conv2d_out_size(c->W, c->K, c->stride, c->pad);
}

static double relu_loss(GradCheck *gc) {
    PoolCase *c = gc->ctx;
    relu_forward(c->out, c->x, (int)pool_in_count(c));
    return gradcheck_dot(c->out, c->r, pool_in_count(c));
}

static void relu_grads(GradCheck *gc) {
    PoolCase *c = gc->ctx;
    relu_backward(c->dx, c->r, c->x, (int)pool_in_count(c));
}

Test(layers, relu_backward) {
    Rng rng;
    rng_seed(&rng, 17);
    PoolCase c = {.B = 2, .C = 3, .H = 2, .W = 4};
    size_t n = pool_in_count(&c);
    c.x = floats(n); // |x| in [0.1, 3]: more than 2h from the kink at 0
    for (size_t i = 0; i < n; i++)
        c.x[i] = (rng_uniform(&rng) < 0.5f ? -1.0f : 1.0f) * (0.1f + 2.9f * rng_uniform(&rng));
    c.out = floats(n);
    c.r = random_floats(&rng, n, 0, 1);
    c.dx = floats(n);
    GradCheck gc = {.loss = relu_loss, .backward = relu_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "relu.x", c.x, c.dx, n);
    gradcheck_run(&gc);
}

Test(layers, relu_by_hand_in_place_zero_and_nan) {
    float x[5] = {-1.0f, 0.0f, 2.0f, NAN, -0.5f};
    const float dout[5] = {1, 1, 1, 1, 1}, want[5] = {0, 0, 2, NAN, 0},
                want_dx[5] = {0, 0, 1, 0, 0};
    float dx[5] = {0};
    relu_forward(x, x, 5); // in place
    expect_floats_equal("relu", x, want, 5, 0);
    relu_backward(dx, dout, x, 5); // from the output: the same gradient
    expect_floats_equal("relu'", dx, want_dx, 5, 0);
}

static double maxpool_loss(GradCheck *gc) {
    PoolCase *c = gc->ctx;
    maxpool_forward(c->out, c->argmax, c->x, c->B, c->C, c->H, c->W, c->K, c->stride, c->pad);
    return gradcheck_dot(c->out, c->r, pool_out_count(c));
}

static void maxpool_grads(GradCheck *gc) {
    PoolCase *c = gc->ctx;
    maxpool_backward(c->dx, c->r, c->argmax, c->B, c->C, c->H, c->W, c->K, c->stride, c->pad);
}

static PoolCase maxpool_case(int B, int C, int H, int W, int K, int stride, int pad) {
    PoolCase c = {.B = B, .C = C, .H = H, .W = W, .K = K, .stride = stride, .pad = pad};
    c.x = floats(pool_in_count(&c));
    c.dx = floats(pool_in_count(&c));
    c.out = floats(pool_out_count(&c));
    c.r = floats(pool_out_count(&c));
    c.argmax = take(pool_out_count(&c) * sizeof(int));
    return c;
}

static void check_maxpool(int K, int stride, int pad, unsigned seed) {
    Rng rng;
    rng_seed(&rng, seed);
    PoolCase c = maxpool_case(2, 2, 5, 6, K, stride, pad);
    // the values 0.05 apart, in a random order: a step h <= 0.03 never changes a window's maximum
    int n = (int)pool_in_count(&c), *order = take(n * sizeof(int));
    rng_permutation(&rng, order, n);
    for (int i = 0; i < n; i++) c.x[i] = 0.05f * (order[i] - n / 2);
    rng_fill_normal(&rng, c.r, (int)pool_out_count(&c), 0, 1);
    GradCheck gc = {
        .loss = maxpool_loss, .backward = maxpool_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "maxpool.x", c.x, c.dx, pool_in_count(&c));
    gradcheck_run(&gc);
}

Test(layers, maxpool_3x3_stride_2_padding_1_backward) {
    check_maxpool(3, 2, 1, 18);
}

Test(layers, maxpool_2x2_stride_2_backward) {
    check_maxpool(2, 2, 0, 19);
}

// 1..16 in a 4x4 plane, K = 3, stride 2, padding 1: four windows, each with its
// largest value at its bottom right (the padding never wins); then with 100 at
// (1,1), the one pixel all four windows share, its gradient is the four douts.
Test(layers, maxpool_by_hand_gradient_lands_on_the_maximum) {
    PoolCase c = maxpool_case(1, 1, 4, 4, 3, 2, 1);
    for (int i = 0; i < 16; i++) c.x[i] = (float)(i + 1);
    maxpool_forward(c.out, c.argmax, c.x, 1, 1, 4, 4, 3, 2, 1);
    const float want[4] = {6, 8, 14, 16};
    const int want_at[4] = {5, 7, 13, 15};
    expect_floats_equal("out", c.out, want, 4, 0);
    expect_ints_equal("argmax", c.argmax, want_at, 4);
    c.x[5] = 100.0f;
    maxpool_forward(c.out, c.argmax, c.x, 1, 1, 4, 4, 3, 2, 1);
    const float dout[4] = {1, 2, 3, 4};
    maxpool_backward(c.dx, dout, c.argmax, 1, 1, 4, 4, 3, 2, 1);
    float want_dx[16] = {0};
    want_dx[5] = 10.0f;
    expect_floats_equal("dx", c.dx, want_dx, 16, 0);
}

// A constant plane: every value of a window ties, and torch keeps the first in
// row-by-row order, the window's top left pixel inside the image.
Test(layers, maxpool_ties_go_to_the_first_maximum) {
    PoolCase c = maxpool_case(1, 1, 5, 5, 3, 2, 1);
    for (int i = 0; i < 25; i++) c.x[i] = 1.0f;
    maxpool_forward(c.out, c.argmax, c.x, 1, 1, 5, 5, 3, 2, 1);
    // windows at rows and columns -1, 1, 3: first pixels at 0, 1, 3
    const int first[3] = {0, 1, 3};
    int want_at[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) want_at[i * 3 + j] = first[i] * 5 + first[j];
    expect_ints_equal("argmax", c.argmax, want_at, 9);
}

static double avgpool_loss(GradCheck *gc) {
    PoolCase *c = gc->ctx;
    global_avgpool_forward(c->out, c->x, c->B, c->C, c->H, c->W);
    return gradcheck_dot(c->out, c->r, (size_t)c->B * c->C);
}

static void avgpool_grads(GradCheck *gc) {
    PoolCase *c = gc->ctx;
    global_avgpool_backward(c->dx, c->r, c->B, c->C, c->H, c->W);
}

Test(layers, global_avgpool_backward) {
    Rng rng;
    rng_seed(&rng, 20);
    PoolCase c = {.B = 2, .C = 3, .H = 3, .W = 5};
    c.x = random_floats(&rng, pool_in_count(&c), 0, 1);
    c.dx = floats(pool_in_count(&c));
    c.out = floats(6);
    c.r = random_floats(&rng, 6, 0, 1);
    GradCheck gc = {
        .loss = avgpool_loss, .backward = avgpool_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "global_avgpool.x", c.x, c.dx, pool_in_count(&c));
    gradcheck_run(&gc);
}

// The mean of each plane; its gradient dout / (H·W) at every position.
Test(layers, global_avgpool_by_hand) {
    enum { H = 2, W = 5 };
    float x[2 * H * W], out[2], dx[2 * H * W] = {0};
    for (int i = 0; i < 2 * H * W; i++) x[i] = (float)i; // planes 0..9 and 10..19
    global_avgpool_forward(out, x, 1, 2, H, W);
    const float want[2] = {4.5f, 14.5f}, dout[2] = {1.0f, -3.0f};
    expect_floats_equal("out", out, want, 2, 1e-6);
    global_avgpool_backward(dx, dout, 1, 2, H, W);
    for (int i = 0; i < 2 * H * W; i++)
        cr_expect_float_eq(dx[i], dout[i / (H * W)] / (H * W), 1e-7, "dx[%d] = %g", i, dx[i]);
}

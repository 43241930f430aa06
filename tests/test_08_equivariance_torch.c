// test_08_equivariance_torch.c — chapter 08's convolution with circular padding
// against PyTorch (tests/fixtures/08_conv_circular.bin, written by
// tools/reference.py): nn.Conv2d(..., padding_mode='circular') on 2 images
// 2x8x9 with 3 output channels, 3x3 stride 1 padding 1 with a bias and 5x5
// stride 2 padding 2 without, and F.pad(x, (pad,)*4, mode='circular') for the
// padding alone. H != W, so a wrap that swapped rows and columns, or took
// the wrong side, fails; the equivariance tests (test_08_equivariance.c)
// cannot see such a wrap, since a convolution padded from the wrong place is
// still equivariant. torch ran in float64 on the float32 values stored.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "check.h"
#include "conv2d.h"
#include "conv2d_circular.h"
#include "error.h"
#include "fixture.h"
#include "owned.h"

// As chapter 07's torch tests: |got - want| <= TOL * (largest |want| of the
// tensor). The padding is a copy, exact; the convolution is a sum of up to
// Cin·K·K = 50 products of size about 1 in float, against float64: measured,
// 1.3e-7 of the largest value at most. Padding from one row too far up fails
// both cases (while every equivariance test still passes).
#define TOL 5e-6

static Fixture f;

static void load(void) {
    fixture_load(&f, "08_conv_circular.bin");
}

static void unload(void) {
    fixture_free(&f);
    owned_release();
}

TestSuite(equivariance_torch, .init = load, .fini = unload);

// The tensor "<prefix>.<field>" of this suite's fixture, of the shape given.
#define get(prefix, field, ...) fixture_get_field(&f, prefix, field, __VA_ARGS__)

// got (n) against want (n): |got - want| <= TOL * max |want|.
static void expect_like(const char *prefix, const char *field, const float *got, const float *want,
                        size_t n) {
    char name[128];
    snprintf(name, sizeof name, "%s.%s", prefix, field);
    double scale = 0.0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    cr_assert(scale > 0.0, "%s: every value is zero; the check would prove nothing", name);
    cr_log_info("%s: largest difference %.2g of the largest value", name,
                diff_floats(got, want, (long)n, 0.0, 0.0).max_diff / scale);
    expect_floats_close(name, got, want, n, TOL * scale, 0.0);
}

static void check_case(const char *p, int K, int stride, bool with_bias) {
    enum { B = 2, Cin = 2, H = 8, W = 9, Cout = 3 };
    int pad = K / 2, Hp = H + 2 * pad, Wp = W + 2 * pad;
    int Ho = conv2d_out_size(H, K, stride, pad), Wo = conv2d_out_size(W, K, stride, pad);
    const float *x = get(p, "x", B, Cin, H, W), *w = get(p, "weight", Cout, Cin, K, K);
    const float *bias = with_bias ? get(p, "bias", Cout) : NULL;
    float *padded = floats((size_t)B * Cin * Hp * Wp), *out = floats((size_t)B * Cout * Ho * Wo);
    float *scratch = floats(conv2d_circular_scratch_floats(Cin, H, W, pad));
    pad_circular(padded, x, B * Cin, H, W, pad); // the images' channels one after another
    conv2d_circular_forward(out, scratch, x, w, bias, B, Cin, H, W, Cout, K, stride, pad);
    expect_floats_equal("padded", padded, get(p, "padded", B, Cin, Hp, Wp), B * Cin * Hp * Wp, 0);
    expect_like(p, "out", out, get(p, "out", B, Cout, Ho, Wo), (size_t)B * Cout * Ho * Wo);
}

Test(equivariance_torch, conv_3x3_stride_1_equals_nn_conv2d_circular) {
    check_case("circular_3x3_s1_p1", 3, 1, true);
}

Test(equivariance_torch, conv_5x5_stride_2_equals_nn_conv2d_circular) {
    check_case("circular_5x5_s2_p2", 5, 2, false);
}

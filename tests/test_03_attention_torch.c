// test_03_attention_torch.c — chapter 03 against PyTorch
// (tests/fixtures/03_attention.bin, written by tools/reference.py): softmax
// against F.softmax, on rows far above and far below zero too, and one head of
// scaled dot-product attention against torch's q k^T / sqrt(hs), softmax, · v.
#include <string.h>
#include <criterion/criterion.h>
#include "attention.h"
#include "check.h"
#include "fixture.h"

// A few float operations: float rounding only.
#define ATOL 1e-6
#define RTOL 1e-5

static Fixture f;

static void load(void) {
    fixture_load(&f, "03_attention.bin");
}

static void unload(void) {
    fixture_free(&f);
}

TestSuite(attention_torch, .init = load, .fini = unload);

Test(attention_torch, softmax_equals_f_softmax_even_far_from_zero) {
    enum { R = 4, N = 9 }; // row 2 is about +100, row 3 about -100
    float *x = fixture_get(&f, "softmax.x", R, N);
    float *want = fixture_get(&f, "softmax.out", R, N);
    float out[R * N];
    softmax_rows(out, x, R, N);
    expect_floats_close("softmax.out", out, want, R * N, ATOL, RTOL);
    memcpy(out, x, sizeof out); // in place, as the header allows
    softmax_rows(out, out, R, N);
    expect_floats_close("softmax.out in place", out, want, R * N, ATOL, RTOL);
}

Test(attention_torch, one_head_equals_torch_ops) {
    enum { B = 2, T = 6, hs = 4 };
    float out[B * T * hs], att[B * T * T];
    attention_forward(out, att, fixture_get(&f, "attention.q", B, T, hs),
                      fixture_get(&f, "attention.k", B, T, hs),
                      fixture_get(&f, "attention.v", B, T, hs), B, T, hs);
    expect_floats_close("attention.att", att, fixture_get(&f, "attention.att", B, T, T), B * T * T,
                        ATOL, RTOL);
    expect_floats_close("attention.out", out, fixture_get(&f, "attention.out", B, T, hs),
                        B * T * hs, ATOL, RTOL);
}

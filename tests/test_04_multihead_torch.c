// test_04_multihead_torch.c — chapter 04 against PyTorch
// (tests/fixtures/04_multihead.bin, written by tools/reference.py):
// mha_forward against nn.MultiheadAttention(12, 3 heads, batch_first=True) with
// its own in_proj_weight, in_proj_bias and out_proj, comparing the output and
// every head's attention weights (need_weights, average_attn_weights=False),
// and on the way the input projection and the concatenated heads.
#include <criterion/criterion.h>
#include "check.h"
#include "fixture.h"
#include "mha.h"
#include "tensors.h"

// Two projections and attention in between: a little more float rounding.
#define ATOL 1e-5
#define RTOL 1e-4

// What the test loads and allocates, freed by unload even when it fails.
static Fixture f;
static Tensors acts;

static void unload(void) {
    fixture_free(&f);
    tensors_free(&acts);
}

TestSuite(multihead_torch, .fini = unload);

Test(multihead_torch, mha_equals_nn_multihead_attention) {
    enum { B = 2, T = 6, C = 12, NH = 3 };
    fixture_load(&f, "04_multihead.bin");
    MhaWeights w = {
        .in_proj_weight = fixture_get(&f, "mha.in_proj_weight", 3 * C, C),
        .in_proj_bias = fixture_get(&f, "mha.in_proj_bias", 3 * C),
        .out_proj_weight = fixture_get(&f, "mha.out_proj.weight", C, C),
        .out_proj_bias = fixture_get(&f, "mha.out_proj.bias", C),
    };
    tensors_init(&acts);
    MhaActivations a;
    float *out; // (B,T,C)
    mha_activations_add(&acts, &a, B, T, C, NH, "mha");
    tensors_add(&acts, &out, 3, (int[]){B, T, C}, "out");
    tensors_alloc(&acts);

    mha_forward(out, &a, fixture_get(&f, "mha.x", B, T, C), &w, B, T, C, NH);
    expect_floats_close("mha.qkv", a.qkv, fixture_get(&f, "mha.qkv", B, T, 3 * C), B * T * 3 * C,
                        ATOL, RTOL);
    expect_floats_close("mha.att", a.att, fixture_get(&f, "mha.att", B, NH, T, T), B * NH * T * T,
                        ATOL, RTOL);
    expect_floats_close("mha.concat", a.concat, fixture_get(&f, "mha.concat", B, T, C), B * T * C,
                        ATOL, RTOL);
    expect_floats_close("mha.out", out, fixture_get(&f, "mha.out", B, T, C), B * T * C, ATOL, RTOL);
}

// test_05_encoder_torch.c — chapter 05 against PyTorch (tests/fixtures/05_*.bin,
// written by tools/reference.py): nn.LayerNorm(eps=1e-6) with torch's own row
// means and 1/std, the exact nn.GELU(), the MLP (Linear, GELU, Linear), one
// pre-LN block built like torchvision's EncoderBlock with every intermediate,
// and a whole tiny encoder (2 images 1x28x28, P=7, C=16, 2 heads, MLP 32, 2
// blocks) whose parameters are copied in by their torchvision names, so the
// names are checked too.
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "encoder.h"
#include "fixture.h"
#include "gelu.h"
#include "layernorm.h"
#include "linear.h"

// One layer: float rounding only.
#define ATOL 1e-6
#define RTOL 1e-5
// Whole blocks and the encoder: rounding that adds up through the layers.
#define DEEP_ATOL 1e-5
#define DEEP_RTOL 1e-4

// What a test loads and builds, freed by unload even when the test fails.
static Fixture f;          // 05_encoder.bin: the single layers and the block
static Fixture params, io; // the tiny encoder's parameters, inputs and outputs
static Encoder enc;        // built by the tests that need one

static void load(void) {
    fixture_load(&f, "05_encoder.bin");
}

static void unload(void) {
    fixture_free(&f);
    fixture_free(&params);
    fixture_free(&io);
    encoder_free(&enc);
}

TestSuite(encoder_torch, .init = load, .fini = unload);

// ---- single layers ---------------------------------------------------------------

Test(encoder_torch, layernorm_equals_nn_layernorm) {
    enum { R = 6, C = 10 }; // rows with mean about 3, and one with variance about 1e-4
    float out[R * C], mean[R], rstd[R];
    layernorm_forward(out, mean, rstd, fixture_get(&f, "layernorm.x", R, C),
                      fixture_get(&f, "layernorm.weight", C), fixture_get(&f, "layernorm.bias", C),
                      R, C);
    expect_floats_close("layernorm.out", out, fixture_get(&f, "layernorm.out", R, C), R * C, ATOL,
                        RTOL);
    expect_floats_close("layernorm.mean", mean, fixture_get(&f, "layernorm.mean", R), R, ATOL,
                        RTOL);
    expect_floats_close("layernorm.rstd", rstd, fixture_get(&f, "layernorm.rstd", R), R, ATOL,
                        RTOL);
}

Test(encoder_torch, gelu_equals_exact_nn_gelu) {
    enum { n = 96 }; // -8 to 8 in steps of 0.25, then random values
    float out[n];
    gelu_forward(out, fixture_get(&f, "gelu.x", n), n);
    expect_floats_close("gelu.out", out, fixture_get(&f, "gelu.out", n), n, ATOL, RTOL);
}

Test(encoder_torch, mlp_equals_linear_gelu_linear) {
    enum { R = 5, C = 8, MLP = 12 };
    float fc1[R * MLP], act[R * MLP], out[R * C];
    linear_forward(fc1, fixture_get(&f, "mlp.x", R, C), fixture_get(&f, "mlp.0.weight", MLP, C),
                   fixture_get(&f, "mlp.0.bias", MLP), R, C, MLP);
    gelu_forward(act, fc1, R * MLP);
    linear_forward(out, act, fixture_get(&f, "mlp.3.weight", C, MLP),
                   fixture_get(&f, "mlp.3.bias", C), R, MLP, C);
    expect_floats_close("mlp.fc1", fc1, fixture_get(&f, "mlp.fc1", R, MLP), R * MLP, ATOL, RTOL);
    expect_floats_close("mlp.gelu", act, fixture_get(&f, "mlp.gelu", R, MLP), R * MLP, ATOL, RTOL);
    expect_floats_close("mlp.out", out, fixture_get(&f, "mlp.out", R, C), R * C, ATOL, RTOL);
}

// ---- parameters by name ------------------------------------------------------------

// Copies every tensor of `from` whose name starts with from_prefix into the
// parameter of `to` named to_prefix + the rest, which must exist and have the
// same shape. Returns how many were copied.
static int copy_parameters(Tensors *to, const Fixture *from, const char *from_prefix,
                           const char *to_prefix) {
    int copied = 0;
    size_t skip = strlen(from_prefix);
    for (int i = 0; i < from->count; i++) {
        const FixtureTensor *t = &from->tensors[i];
        if (strncmp(t->name, from_prefix, skip) != 0) continue;
        char name[256];
        snprintf(name, sizeof name, "%s%s", to_prefix, t->name + skip);
        const TensorEntry *e = tensors_find(to, name);
        cr_assert(e != NULL, "%s: %s has no parameter %s to go into", from->path, t->name, name);
        bool same = e->ndim == t->ndim;
        for (int d = 0; same && d < e->ndim; d++) same = e->shape[d] == t->shape[d];
        cr_assert(same, "%s: %s does not have the shape of the parameter %s", from->path, t->name,
                  name);
        memcpy(*e->slot, t->data, t->count * sizeof(float));
        copied++;
    }
    return copied;
}

// ---- one block ---------------------------------------------------------------------

// The block's BlockActivations come from an Encoder with one layer and T = 5
// (8x8 images, P=4); the fixture's "block.*" weights go into its
// encoder.layers.encoder_layer_0.* parameters.
Test(encoder_torch, block_equals_torchvision_encoder_block) {
    enum { B = 2, T = 5, C = 16, NH = 4, MLP = 32 };
    VitConfig cfg = {.image_size = 8,
                     .patch_size = 4,
                     .in_channels = 1,
                     .hidden_dim = C,
                     .mlp_dim = MLP,
                     .num_layers = 1,
                     .num_heads = NH};
    encoder_build(&enc, &cfg, B);
    cr_assert_eq(copy_parameters(&enc.params, &f, "block.", "encoder.layers.encoder_layer_0."), 12,
                 "the block has 12 parameters");
    BlockActivations *a = &enc.a.layers[0];
    block_forward(a->out, a, fixture_get(&f, "block_acts.x", B, T, C), &enc.w.layers[0], B, T, C,
                  MLP, NH);
    struct {
        const char *name;
        const float *got;
        int last; // the last dimension: C, T (attention) or MLP
    } steps[] = {{"block_acts.ln1", a->ln1, C},   {"block_acts.attn_out", a->attn_out, C},
                 {"block_acts.res1", a->res1, C}, {"block_acts.ln2", a->ln2, C},
                 {"block_acts.fc1", a->fc1, MLP}, {"block_acts.gelu", a->gelu, MLP},
                 {"block_acts.fc2", a->fc2, C},   {"block_acts.out", a->out, C}};
    for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++)
        expect_floats_close(steps[s].name, steps[s].got,
                            fixture_get(&f, steps[s].name, B, T, steps[s].last),
                            B * T * steps[s].last, DEEP_ATOL, DEEP_RTOL);
    expect_floats_close("block_acts.att", a->attn.att,
                        fixture_get(&f, "block_acts.att", B, NH, T, T), B * NH * T * T, DEEP_ATOL,
                        DEEP_RTOL);
}

// ---- the whole tiny encoder ---------------------------------------------------------

Test(encoder_torch, tiny_encoder_equals_torchvision_layout_vit) {
    enum { B = 2, Cin = 1, S = 28, P = 7, N = 16, T = N + 1, C = 16, L = 2 };
    VitConfig cfg = {.image_size = S,
                     .patch_size = P,
                     .in_channels = Cin,
                     .hidden_dim = C,
                     .mlp_dim = 32,
                     .num_layers = L,
                     .num_heads = 2};
    encoder_build(&enc, &cfg, B);
    fixture_load(&params, "05_tiny_encoder_params.bin");
    fixture_load(&io, "05_tiny_encoder_io.bin");
    // every fixture tensor into the parameter of that name, and no parameter left out
    cr_assert_eq(copy_parameters(&enc.params, &params, "", ""), params.count);
    for (int i = 0; i < enc.params.count; i++)
        cr_assert(fixture_find(&params, enc.params.entries[i].name) != NULL,
                  "%s: no tensor for the encoder's parameter %s", params.path,
                  enc.params.entries[i].name);

    encoder_forward(&enc, fixture_get(&io, "images", B, Cin, S, S));
    expect_floats_equal("patches", enc.a.patches, fixture_get(&io, "patches", B, N, Cin * P * P),
                        B * N * Cin * P * P, 0);
    expect_floats_close("patch_emb", enc.a.patch_emb, fixture_get(&io, "patch_emb", B, N, C),
                        B * N * C, ATOL, RTOL);
    expect_floats_close("tokens", enc.a.tokens, fixture_get(&io, "tokens", B, T, C), B * T * C,
                        ATOL, RTOL);
    for (int l = 0; l < L; l++) {
        char name[32];
        snprintf(name, sizeof name, "encoder_layer_%d", l);
        expect_floats_close(name, enc.a.layers[l].out, fixture_get(&io, name, B, T, C), B * T * C,
                            DEEP_ATOL, DEEP_RTOL);
    }
    expect_floats_close("out", enc.a.out, fixture_get(&io, "out", B, T, C), B * T * C, DEEP_ATOL,
                        DEEP_RTOL);
}

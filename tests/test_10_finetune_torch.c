// test_10_finetune_torch.c — position-embedding interpolation and the
// rebuilt higher-resolution ViT against torchvision
// (tests/fixtures/10_interpolate.bin, written by tools/reference.py's
// interpolation): torchvision's own interpolate_embeddings (bicubic,
// align_corners=True) on eight pairs of grids of width 5, in float32; and a
// tiny VisionTransformer made for 28x28 images (P=7, C=16, 2 heads, MLP 32,
// 2 layers, 10 classes, random weights) whose state dict went through
// interpolate_embeddings(42, 7) into a VisionTransformer for 42x42 images,
// run in float64: the C model loaded with the 28x28 weights and rebuilt by
// vit_build_resized must get the same positions and the same logits. Then
// the two other pieces of fine-tuning (tests/fixtures/10_finetune.bin, its
// resample_and_sgd): bilinear resampling against torch's interpolate, and SGD
// with momentum against torch.optim.SGD.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "fixture.h"
#include "bilinear.h"
#include "pos_interpolate.h"
#include "sgd.h"
#include "vit_resize.h"

static Fixture f;
static Vit src, big;

static void unload(void) {
    fixture_free(&f);
    vit_free(&src);
    vit_free(&big);
}

TestSuite(finetune_torch, .fini = unload);

Test(finetune_torch, interpolation_matches_torchvision) {
    enum { C = 5 };
    fixture_load(&f, "10_interpolate.bin");
    const int grids[][2] = {{4, 6}, {4, 8}, {3, 7}, {5, 3}, {4, 4}, {1, 3}, {4, 1}, {2, 5}};
    for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
        int g = grids[i][0], n = grids[i][1];
        char name[32], out_name[32];
        snprintf(name, sizeof name, "g%d_n%d.pos", g, n);
        snprintf(out_name, sizeof out_name, "g%d_n%d.out", g, n);
        const float *pos = fixture_get(&f, name, 1 + g * g, C);
        const float *want = fixture_get(&f, out_name, 1 + n * n, C);
        float got[(1 + 8 * 8) * C];
        pos_embedding_interpolate(got, pos, g, n, C);
        // torch in float32 is within 1.5e-6 of float64 here (measured, values up
        // to 2.9); the C code computes in double: twice that
        expect_floats_equal(out_name, got, want, (1 + n * n) * C, 3e-6);
    }
}

static bool same_shape(const TensorEntry *e, const FixtureTensor *t) {
    bool same = e->ndim == t->ndim;
    for (int d = 0; same && d < e->ndim; d++) same = e->shape[d] == t->shape[d];
    return same;
}

Test(finetune_torch, rebuilt_vit_at_42_matches_torchvision) {
    enum { B = 2, S = 42, K = 10, C = 16, T = 37 };
    fixture_load(&f, "10_interpolate.bin");
    VitConfig cfg = {.image_size = 28,
                     .patch_size = 7,
                     .in_channels = 1,
                     .hidden_dim = C,
                     .mlp_dim = 32,
                     .num_layers = 2,
                     .num_heads = 2,
                     .num_classes = K};
    vit_build(&src, &cfg, &(HeadOptions){0}, 0.0f, B);
    int vit_tensors = 0;
    for (int i = 0; i < f.count; i++) vit_tensors += strncmp(f.tensors[i].name, "vit.", 4) == 0;
    cr_assert_eq(vit_tensors, src.params.count, "%s: %d vit.* tensors, the C model has %d", f.path,
                 vit_tensors, src.params.count);
    for (int i = 0; i < src.params.count; i++) {
        const TensorEntry *e = &src.params.entries[i];
        char name[160];
        snprintf(name, sizeof name, "vit.%s", e->name);
        const FixtureTensor *t = fixture_find(&f, name);
        cr_assert(t != NULL && same_shape(e, t), "%s: no tensor %s of the C model's shape", f.path,
                  name);
        memcpy(*e->slot, t->data, e->count * sizeof(float));
    }
    Error err;
    cr_assert(vit_build_resized(&big, &src, S, B, 0.0f, &err), "%s", err.message);
    expect_floats_equal("positions at 42x42", big.w.pos,
                        fixture_get(&f, "vit42.pos_embedding", T, C), T * C, 3e-6);
    vit_forward(&big, fixture_get(&f, "images", B, 1, S, S), NULL, B, 0.0f, false);
    // float32 through two blocks against float64 (as test_06_gradients_torch.c):
    // 1e-5 of the largest logit
    const float *want = fixture_get(&f, "logits", B, K);
    double largest = 0.0;
    for (int k = 0; k < B * K; k++) largest = fmax(largest, fabs(want[k]));
    expect_floats_equal("logits at 42x42", big.ha.logits, want, B * K, 1e-5 * largest);
}

// Bilinear resampling against torch's interpolate(mode="bilinear",
// align_corners=False) in float64 (tests/fixtures/10_finetune.bin): up, to the
// same size, down, and Fashion-MNIST's 28 to chapter 10's 42 and 56.
Test(finetune_torch, bilinear_matches_torch) {
    fixture_load(&f, "10_finetune.bin");
    const float *in = fixture_get(&f, "bilinear.in", 5, 7);
    const struct {
        const char *name;
        int H, W;
    } cases[] = {{"bilinear.up", 9, 11}, {"bilinear.same", 5, 7}, {"bilinear.down", 3, 4}};
    float out[56 * 56];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bilinear_resize(out, in, 5, 7, cases[i].H, cases[i].W);
        expect_floats_equal(cases[i].name, out,
                            fixture_get(&f, cases[i].name, cases[i].H, cases[i].W),
                            cases[i].H * cases[i].W, 1e-6);
    }
    const float *in28 = fixture_get(&f, "bilinear.in28", 28, 28);
    bilinear_resize(out, in28, 28, 28, 42, 42);
    expect_floats_equal("28 -> 42", out, fixture_get(&f, "bilinear.up42", 42, 42), 42 * 42, 1e-6);
    bilinear_resize(out, in28, 28, 28, 56, 56);
    expect_floats_equal("28 -> 56", out, fixture_get(&f, "bilinear.up56", 56, 56), 56 * 56, 1e-6);
}

// SGD with momentum against torch.optim.SGD (momentum 0.9, lr 0.1) over three steps.
Test(finetune_torch, sgd_matches_torch) {
    enum { N = 6, STEPS = 3 };
    fixture_load(&f, "10_finetune.bin");
    float params[N];
    memcpy(params, fixture_get(&f, "sgd.params", N), sizeof params);
    const float *grads = fixture_get(&f, "sgd.grads", STEPS, N);
    Sgd opt;
    sgd_build(&opt, N, 0.9f);
    for (int s = 0; s < STEPS; s++) sgd_step(&opt, params, grads + s * N, 0.1f);
    cr_expect_eq(opt.step, STEPS);
    expect_floats_equal("parameters after 3 steps", params, fixture_get(&f, "sgd.after", N), N,
                        1e-6);
    sgd_free(&opt);
}

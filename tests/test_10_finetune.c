// test_10_finetune.c — position embeddings carried to another grid, and a ViT
// rebuilt at another image size, held to properties that need no reference:
//
// Interpolation (src/pos_interpolate.h): to the same grid it is the identity,
// bit for bit (every fraction is 0, whose cubic weights are exactly 0, 1, 0, 0);
// the class token's row is copied untouched whatever the grids; a constant
// grid stays constant (the four weights sum to 1); with aligned corners the
// four corners of the new grid are the old corners; the weights at the
// fraction 1/2 are Keys' with a = -0.75 worked by hand; every output finite.
// The model (src/vit_resize.h): rebuilt at its own size it gives the same
// logits bit for bit; at 42x42 its weights are the source's, its positions
// the interpolated ones; a size the patch does not divide is refused.
// tests/test_10_finetune_torch.c holds both to torchvision.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "owned.h"
#include "pos_interpolate.h"
#include "rng.h"
#include "vit_resize.h"

static Vit src, big;

static void unload(void) {
    vit_free(&src);
    vit_free(&big);
    owned_release();
}

TestSuite(finetune, .fini = unload);

Test(finetune, same_grid_is_the_identity) {
    enum { C = 7 };
    Rng rng;
    rng_seed(&rng, 10);
    for (int g = 1; g <= 9; g++) {
        int T = 1 + g * g;
        float *pos = random_floats(&rng, (size_t)T * C, 0.0f, 3.0f), *out = floats((size_t)T * C);
        pos_embedding_interpolate(out, pos, g, g, C);
        char name[32];
        snprintf(name, sizeof name, "%dx%d to itself", g, g);
        expect_floats_equal(name, out, pos, T * C, 0.0);
    }
}

Test(finetune, class_token_untouched) {
    enum { C = 6 };
    Rng rng;
    rng_seed(&rng, 11);
    const int grids[][2] = {{4, 6}, {4, 8}, {6, 4}, {1, 5}, {5, 1}, {3, 3}};
    for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
        int g = grids[i][0], n = grids[i][1];
        float *pos = random_floats(&rng, (size_t)(1 + g * g) * C, 0.0f, 1.0f);
        float *out = floats((size_t)(1 + n * n) * C);
        pos_embedding_interpolate(out, pos, g, n, C);
        expect_floats_equal("the class token's row", out, pos, C, 0.0);
        for (int k = 0; k < (1 + n * n) * C; k++)
            cr_assert(isfinite(out[k]), "%d -> %d: out[%d] = %g", g, n, k, out[k]);
    }
}

Test(finetune, constant_grid_stays_constant) {
    enum { C = 3, g = 4, n = 11 };
    float grid[g * g * C], out[n * n * C], want[n * n * C];
    for (int k = 0; k < g * g * C; k++) grid[k] = (float)(k % C) - 2.5f;
    for (int k = 0; k < n * n * C; k++) want[k] = (float)(k % C) - 2.5f;
    bicubic_resize_grid(out, grid, g, n, C);
    // the weights sum to 1 up to float rounding
    expect_floats_equal("a constant grid", out, want, n * n * C, 4e-6);
}

Test(finetune, corners_stay_on_corners) {
    enum { C = 2 };
    Rng rng;
    rng_seed(&rng, 12);
    const int grids[][2] = {{4, 6}, {4, 7}, {7, 4}, {3, 10}, {5, 8}};
    for (size_t i = 0; i < sizeof grids / sizeof grids[0]; i++) {
        int g = grids[i][0], n = grids[i][1];
        float *grid = random_floats(&rng, (size_t)g * g * C, 0.0f, 1.0f);
        float *out = floats((size_t)n * n * C);
        bicubic_resize_grid(out, grid, g, n, C);
        const int corners[4][2] = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
        for (int k = 0; k < 4; k++) {
            int r = corners[k][0], c = corners[k][1];
            const float *got = out + ((size_t)(r * (n - 1)) * n + c * (n - 1)) * C;
            const float *want = grid + ((size_t)(r * (g - 1)) * g + c * (g - 1)) * C;
            // (g-1)/(n-1)·(n-1) in float may land an ulp off g-1: a few ulp of the value
            char name[48];
            snprintf(name, sizeof name, "%d -> %d, corner (%d,%d)", g, n, r, c);
            expect_floats_equal(name, got, want, C, 1e-6);
        }
    }
}

Test(finetune, halfway_weights_by_hand) {
    // 4 -> 7 positions: scale 3/6, so output column c samples x = c/2. At a
    // fraction t = 1/2 the four neighbours are 3/2, 1/2, 1/2, 3/2 away, and
    // Keys' kernel with a = -0.75 gives them
    //   k(1/2) = (a+2)/8 - (a+3)/4 + 1 = 0.15625 - 0.5625 + 1 = 0.59375
    //   k(3/2) = a(27/8 - 90/8 + 96/8 - 32/8) = a/8 = -0.09375
    // On a grid that is 1 in column 0 and 0 elsewhere, each output column is the
    // weight column 0 gets.
    float line[4 * 4], out[7 * 7];
    // a 4x4 grid whose value is its column: out's row 0, column 1 samples x = 1/2
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) line[r * 4 + c] = c == 0 ? 1.0f : 0.0f;
    bicubic_resize_grid(out, line, 4, 7, 1);
    // x = 1/2 between columns 0 and 1: the neighbour at -1 is clamped to column 0
    float want = -0.09375f + 0.59375f; // k(3/2) on column "-1" (= 0) plus k(1/2) on column 0
    cr_expect(fabsf(out[1] - want) < 1e-6f, "got %.9g, want %.9g", out[1], want);
    // x = 3/2: column 0 is the far left neighbour, weight k(3/2)
    cr_expect(fabsf(out[3] - -0.09375f) < 1e-6f, "got %.9g, want -0.09375", out[3]);
    // x = 1: on column 1 exactly, column 0 weighs k(1) = 0
    cr_expect(fabsf(out[2]) < 1e-7f, "got %.9g, want 0", out[2]);
}

// A random small ViT at 28x28: P=7, C=16, 2 heads, MLP 32, 2 layers, 10 classes.
static void random_vit(Vit *m, int B) {
    VitConfig cfg = {.image_size = 28, .patch_size = 7, .in_channels = 1, .hidden_dim = 16,
                     .mlp_dim = 32, .num_layers = 2, .num_heads = 2, .num_classes = 10};
    vit_build(m, &cfg, &(HeadOptions){0}, 0.0f, B);
    Rng rng;
    rng_seed(&rng, 13);
    vit_init(m, &rng);
    // a head that is not zero, so the logits say something
    rng_fill_normal(&rng, m->hw.w, 10 * 16, 0.0f, 0.5f);
    rng_fill_normal(&rng, m->w.pos, 17 * 16, 0.0f, 0.5f);
}

Test(finetune, rebuilt_at_its_own_size_is_the_same_model) {
    enum { B = 3, S = 28 };
    random_vit(&src, B);
    Error err;
    cr_assert(vit_build_resized(&big, &src, S, B, 0.0f, &err), "%s", err.message);
    cr_assert_eq(big.params.total, src.params.total);
    expect_floats_equal("every parameter", big.params.memory, src.params.memory,
                        src.params.total, 0.0);
    Rng rng;
    rng_seed(&rng, 14);
    float *images = random_floats(&rng, B * S * S, 0.0f, 1.0f);
    vit_forward(&src, images, NULL, B, 0.0f, false);
    vit_forward(&big, images, NULL, B, 0.0f, false);
    expect_floats_equal("logits", big.ha.logits, src.ha.logits, B * 10, 0.0);
}

Test(finetune, rebuilt_at_42_keeps_weights_and_interpolates_positions) {
    enum { B = 2, S = 42, C = 16 };
    random_vit(&src, B);
    Error err;
    cr_assert(vit_build_resized(&big, &src, S, B, 0.0f, &err), "%s", err.message);
    cr_assert_eq(big.cfg.image_size, S);
    cr_assert_eq(vit_tokens(&big.cfg), 37);
    for (int i = 0; i < src.params.count; i++) {
        const TensorEntry *e = &src.params.entries[i];
        const TensorEntry *b = tensors_find(&big.params, e->name);
        cr_assert_not_null(b, "%s missing", e->name);
        if (strcmp(e->name, "encoder.pos_embedding") == 0) continue;
        cr_assert_eq(b->count, e->count, "%s", e->name);
        expect_floats_equal(e->name, *b->slot, *e->slot, e->count, 0.0);
    }
    float want[37 * C];
    pos_embedding_interpolate(want, src.w.pos, 4, 6, C);
    expect_floats_equal("encoder.pos_embedding", big.w.pos, want, 37 * C, 0.0);
    Rng rng;
    rng_seed(&rng, 15);
    float *images = random_floats(&rng, B * S * S, 0.0f, 1.0f);
    vit_forward(&big, images, NULL, B, 0.0f, false);
    for (int k = 0; k < B * 10; k++)
        cr_assert(isfinite(big.ha.logits[k]), "logit %d: %g", k, big.ha.logits[k]);
}

Test(finetune, size_the_patch_does_not_divide_is_refused) {
    random_vit(&src, 1);
    Error err;
    cr_assert_not(vit_build_resized(&big, &src, 40, 1, 0.0f, &err));
    cr_log_info("%s", err.message);
    cr_expect(strstr(err.message, "40x40") != NULL, "%s", err.message);
    cr_expect_null(big.params.memory, "nothing built");
}

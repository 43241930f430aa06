// test_05_encoder.c — chapter 05: LayerNorm, GELU, the model configuration
// and its costs, and the encoder. LayerNorm and GELU are checked by hand and
// by their definitions; the parameter counts against torchvision's; the
// encoder by its parameter list (names, shapes, total), by properties (a block
// with zero weights is the identity, images of a batch do not mix, the patch
// embedding is a convolution) and by determinism.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "conv2d.h"
#include "encoder.h"
#include "gelu.h"
#include "layernorm.h"
#include "rng.h"
#include "vit_config.h"

// A small configuration: 8x8 images of 2 channels, P 4 (N 4, T 5), C 12, NH 3.
static VitConfig tiny_config(void) {
    return (VitConfig){.image_size = 8,
                       .patch_size = 4,
                       .in_channels = 2,
                       .hidden_dim = 12,
                       .mlp_dim = 20,
                       .num_layers = 2,
                       .num_heads = 3,
                       .num_classes = 7};
}

static float *random_floats(Rng *rng, int n, float std) {
    float *x = malloc(sizeof(float) * n);
    rng_fill_normal(rng, x, n, 0.0f, std);
    return x;
}

// ---- LayerNorm -------------------------------------------------------------------

Test(layernorm, a_hand_computed_row_with_weight_and_bias) {
    // x = 1 2 3 4: mean 2.5, biased variance 1.25, so (x - mean) / sqrt(1.25 + 1e-6)
    const float x[4] = {1, 2, 3, 4}, weight[4] = {1, 2, 1, -1}, bias[4] = {0, 0, 1, 0.5f};
    double s = 1.0 / sqrt(1.25 + 1e-6);
    const float want[4] = {(float)(-1.5 * s), (float)(2 * -0.5 * s), (float)(0.5 * s + 1),
                           (float)(-1.5 * s + 0.5)};
    float out[4], mean, rstd;
    layernorm_forward(out, &mean, &rstd, x, weight, bias, 1, 4);
    expect_floats_close("layernorm of 1 2 3 4", out, want, 4, 1e-6, 1e-6);
    cr_expect_float_eq(mean, 2.5f, 1e-7);
    cr_expect_float_eq(rstd, (float)s, 1e-6);
}

Test(layernorm, every_row_has_mean_0_and_variance_1_before_the_affine) {
    enum { R = 6, C = 48 };
    Rng rng;
    rng_seed(&rng, 5);
    float *x = random_floats(&rng, R * C, 3.0f);
    for (int i = 0; i < R * C; i++) x[i] += (float)(i / C) * 10.0f; // a different mean per row
    float weight[C], bias[C], out[R * C];
    for (int c = 0; c < C; c++) weight[c] = 1.0f, bias[c] = 0.0f;
    layernorm_forward(out, NULL, NULL, x, weight, bias, R, C);
    for (int r = 0; r < R; r++) {
        double m = 0, v = 0;
        for (int c = 0; c < C; c++) m += out[r * C + c];
        m /= C;
        for (int c = 0; c < C; c++) v += (out[r * C + c] - m) * (out[r * C + c] - m);
        v /= C;
        cr_expect(fabs(m) < 1e-5, "row %d: mean %g, want 0", r, m);
        cr_expect(fabs(v - 1.0) < 1e-4, "row %d: variance %g, want 1", r, v);
    }
    free(x);
}

Test(layernorm, a_constant_row_becomes_the_bias) {
    // variance 0: eps keeps the division finite, and x - mean is 0
    const float x[3] = {7, 7, 7}, weight[3] = {2, 3, 4}, bias[3] = {0.5f, -1, 2};
    float out[3];
    layernorm_forward(out, NULL, NULL, x, weight, bias, 1, 3);
    expect_floats_equal("layernorm of a constant row", out, bias, 3, 0);
}

// ---- GELU --------------------------------------------------------------------------

Test(gelu, known_values) {
    const float x[5] = {0, 1, -1, 3, -3};
    const float want[5] = {0, 0.8413447f, -0.1586553f, 2.9959502f, -0.0040497f};
    float out[5];
    gelu_forward(out, x, 5);
    expect_floats_close("gelu", out, want, 5, 1e-6, 1e-6);
}

Test(gelu, matches_the_erf_formula_in_double) {
    enum { n = 801 };
    float x[n], out[n], want[n];
    for (int i = 0; i < n; i++) {
        x[i] = -8.0f + 16.0f * i / (n - 1);
        want[i] = (float)(0.5 * x[i] * (1.0 + erf(x[i] / sqrt(2.0))));
    }
    gelu_forward(out, x, n);
    expect_floats_close("gelu on [-8, 8]", out, want, n, 1e-6, 1e-6);
}

Test(gelu, works_in_place) {
    float x[3] = {1, -1, 0};
    const float want[3] = {0.8413447f, -0.1586553f, 0};
    gelu_forward(x, x, 3);
    expect_floats_close("gelu in place", x, want, 3, 1e-6, 1e-6);
}

// ---- the configuration and its costs --------------------------------------------

static const VitConfig *variant(const char *name) {
    for (int i = 0; i < vit_variant_count; i++)
        if (strcmp(vit_variants[i].name, name) == 0) return &vit_variants[i].config;
    cr_assert_fail("no variant %s", name);
    return NULL;
}

Test(vit_config, parameter_counts_are_torchvisions) {
    // torchvision.models.vit_*(): sum(p.numel() for p in model.parameters())
    cr_expect_eq(vit_param_count(variant("ViT-B/16")), 86567656LL);
    cr_expect_eq(vit_param_count(variant("ViT-B/32")), 88224232LL);
    cr_expect_eq(vit_param_count(variant("ViT-L/16")), 304326632LL);
    cr_expect_eq(vit_param_count(variant("ViT-L/32")), 306535400LL);
}

Test(vit_config, the_variants_are_the_papers) {
    cr_assert_eq(vit_variant_count, 10);
    const VitConfig *h = variant("ViT-H/32");
    cr_expect(h->hidden_dim == 1280 && h->mlp_dim == 5120 && h->num_heads == 16 &&
              h->num_layers == 32 && h->patch_size == 32);
    for (int i = 0; i < vit_variant_count; i++) {
        const VitConfig *c = &vit_variants[i].config;
        cr_expect(vit_config_check(c, NULL), "%s", vit_variants[i].name);
        cr_expect_eq(c->mlp_dim, 4 * c->hidden_dim, "%s", vit_variants[i].name);
        cr_expect_eq(vit_tokens(c), c->patch_size == 16 ? 197 : 50, "%s", vit_variants[i].name);
    }
}

Test(vit_config, forward_flops_of_vit_b16) {
    // per layer 2T(3C^2 + C^2 + 2 C MLP) + 4 T^2 C = 2,907,909,120 at T 197, C 768;
    // times 12, plus the patch embedding 2 N (3 P^2) C and the head 2 C K
    double want = 12 * 2907909120.0 + 2.0 * 196 * 768 * 768 + 2.0 * 768 * 1000;
    cr_expect_eq(vit_forward_flops(variant("ViT-B/16")), want);
    cr_expect_eq(want, 35127656448.0); // 17.56 G multiply-adds, torchvision's "GFLOPS"
}

Test(vit_config, refuses_bad_sizes_with_a_clear_message) {
    Error err;
    VitConfig c = tiny_config();
    cr_expect(vit_config_check(&c, &err), "%s", err.message);
    c.num_heads = 5;
    cr_expect_not(vit_config_check(&c, &err));
    expect_mentions(err.message, "width 12 is not divisible by 5 heads");
    c = tiny_config();
    c.patch_size = 3;
    cr_expect_not(vit_config_check(&c, &err));
    expect_mentions(err.message, "patch size 3");
    expect_mentions(err.message, "8x8");
    c = tiny_config();
    c.mlp_dim = 0;
    cr_expect_not(vit_config_check(&c, &err));
    expect_mentions(err.message, "MLP width must be in 1..32768, got 0");
    c = tiny_config();
    c.num_layers = 65536; // a checkpoint's metadata could say so: refused before building
    cr_expect_not(vit_config_check(&c, &err));
    expect_mentions(err.message, "number of layers must be in 1..128");
    c = tiny_config();
    c.num_classes = -1;
    cr_expect_not(vit_config_check(&c, &err));
    expect_mentions(err.message, "classes");
}

Test(vit_config, the_field_table_reads_and_writes_every_field) {
    VitConfig c = {0};
    for (int i = 0; i < vit_config_field_count; i++) config_set(&c, &vit_config_fields[i], i + 1);
    cr_expect_eq(c.image_size, 1);
    cr_expect_eq(c.patch_size, 2);
    cr_expect_eq(c.num_classes, vit_config_field_count);
    for (int i = 0; i < vit_config_field_count; i++)
        cr_expect_eq(config_get(&c, &vit_config_fields[i]), i + 1, "%s", vit_config_fields[i].name);
    cr_expect_eq(vit_config_field_count * sizeof(int), sizeof(VitConfig), "every field listed");
}

// ---- the encoder's parameters ------------------------------------------------------

Test(encoder, parameters_and_the_head_add_up_to_the_model_count) {
    VitConfig cfg = tiny_config();
    Encoder enc;
    encoder_build(&enc, &cfg, 1);
    long long head = (long long)cfg.num_classes * cfg.hidden_dim + cfg.num_classes;
    cr_expect_eq((long long)enc.params.total + head, vit_param_count(&cfg));
    cr_expect_eq(enc.params.count, 4 + 12 * cfg.num_layers + 2);
    encoder_free(&enc);
}

static void expect_tensor(const Tensors *t, const char *name, int ndim, const int *shape) {
    const TensorEntry *e = tensors_find(t, name);
    cr_assert_not_null(e, "no tensor %s", name);
    cr_expect_eq(e->ndim, ndim, "%s: %d dimensions, want %d", name, e->ndim, ndim);
    for (int d = 0; d < ndim; d++)
        cr_expect_eq(e->shape[d], shape[d], "%s: dimension %d is %d, want %d", name, d, e->shape[d],
                     shape[d]);
}

Test(encoder, parameter_names_and_shapes_are_torchvisions) {
    VitConfig cfg = tiny_config(); // C 12, MLP 20, T 5, Cin 2, P 4
    Encoder enc;
    encoder_build(&enc, &cfg, 1);
    const Tensors *t = &enc.params;
    expect_tensor(t, "conv_proj.weight", 4, (int[]){12, 2, 4, 4});
    expect_tensor(t, "class_token", 1, (int[]){12});
    expect_tensor(t, "encoder.pos_embedding", 2, (int[]){5, 12});
    const char *l0 = "encoder.layers.encoder_layer_0";
    char name[128];
    snprintf(name, sizeof name, "%s.ln_1.weight", l0);
    expect_tensor(t, name, 1, (int[]){12});
    snprintf(name, sizeof name, "%s.self_attention.in_proj_weight", l0);
    expect_tensor(t, name, 2, (int[]){36, 12});
    snprintf(name, sizeof name, "%s.self_attention.out_proj.bias", l0);
    expect_tensor(t, name, 1, (int[]){12});
    snprintf(name, sizeof name, "%s.mlp.0.weight", l0);
    expect_tensor(t, name, 2, (int[]){20, 12});
    snprintf(name, sizeof name, "%s.mlp.3.weight", l0);
    expect_tensor(t, name, 2, (int[]){12, 20});
    expect_tensor(t, "encoder.layers.encoder_layer_1.ln_2.bias", 1, (int[]){12});
    expect_tensor(t, "encoder.ln.weight", 1, (int[]){12});
    cr_expect_null(tensors_find(t, "encoder.layers.encoder_layer_2.ln_1.weight"));
    cr_expect_null(tensors_find(t, "heads.head.weight"), "the head belongs to chapter 06");
    // the pointers point where the list says
    cr_expect_eq(enc.w.layers[1].fc2_b,
                 t->memory + tensors_find(t, "encoder.layers.encoder_layer_1.mlp.3.bias")->offset);
    encoder_free(&enc);
}

Test(encoder, init_follows_the_recipe) {
    VitConfig cfg = tiny_config();
    Encoder enc;
    encoder_build(&enc, &cfg, 1);
    Rng rng;
    rng_seed(&rng, 1);
    encoder_init(&enc, &rng);
    int C = cfg.hidden_dim, MLP = cfg.mlp_dim;
    const BlockWeights *b = &enc.w.layers[1];
    for (int c = 0; c < C; c++) {
        cr_expect_eq(b->ln1_w[c], 1.0f);
        cr_expect_eq(b->ln2_b[c], 0.0f);
        cr_expect_eq(enc.w.class_token[c], 0.0f);
        cr_expect_eq(enc.w.ln_w[c], 1.0f);
        cr_expect_eq(b->proj_b[c], 0.0f);
    }
    float a = sqrtf(6.0f / (C + MLP)), largest = 0; // Xavier bound of mlp.0
    for (int i = 0; i < MLP * C; i++) largest = fmaxf(largest, fabsf(b->fc1_w[i]));
    cr_expect(largest <= a && largest > 0.5f * a, "mlp.0 weights up to %g, bound %g", largest, a);
    float std = sqrtf(1.0f / (2 * 4 * 4)); // LeCun normal, cut at 2 std
    for (int i = 0; i < C * 2 * 4 * 4; i++) cr_expect(fabsf(enc.w.conv_w[i]) <= 2 * std);
    for (int i = 0; i < 5 * C; i++) cr_expect(fabsf(enc.w.pos[i]) <= 0.04f);
    encoder_free(&enc);
}

// ---- the forward pass ----------------------------------------------------------------

Test(encoder, a_block_with_zero_weights_is_the_identity) {
    VitConfig cfg = tiny_config();
    enum { B = 2 };
    Encoder enc;
    encoder_build(&enc, &cfg, B); // weights all zero
    int T = vit_tokens(&cfg), C = cfg.hidden_dim;
    Rng rng;
    rng_seed(&rng, 2);
    float *x = random_floats(&rng, B * T * C, 1.0f);
    float *out = malloc(sizeof(float) * B * T * C);
    block_forward(out, &enc.a.layers[0], x, &enc.w.layers[0], B, T, C, cfg.mlp_dim, cfg.num_heads);
    expect_floats_equal("block(x) with zero weights", out, x, B * T * C, 0);
    free(x);
    free(out);
    encoder_free(&enc);
}

// Encoder with config cfg, batch B, initialised from seed, run on images.
static void run_encoder(Encoder *enc, const VitConfig *cfg, int B, uint64_t seed,
                        const float *images) {
    Rng rng;
    rng_seed(&rng, seed);
    encoder_build(enc, cfg, B);
    encoder_init(enc, &rng);
    encoder_forward(enc, images);
}

static float *random_images(const VitConfig *cfg, int B, uint64_t seed) {
    Rng rng;
    rng_seed(&rng, seed);
    return random_floats(&rng, B * cfg->in_channels * cfg->image_size * cfg->image_size, 1.0f);
}

Test(encoder, forward_is_deterministic_for_a_seed) {
    VitConfig cfg = tiny_config();
    int n = 2 * vit_tokens(&cfg) * cfg.hidden_dim;
    float *images = random_images(&cfg, 2, 3);
    Encoder a, b, c;
    run_encoder(&a, &cfg, 2, 42, images);
    run_encoder(&b, &cfg, 2, 42, images);
    run_encoder(&c, &cfg, 2, 43, images);
    expect_floats_equal("same seed, same output", a.a.out, b.a.out, n, 0);
    cr_expect(diff_floats(a.a.out, c.a.out, n, 1e-3, 0).bad > 0, "another seed, another output");
    encoder_free(&a);
    encoder_free(&b);
    encoder_free(&c);
    free(images);
}

Test(encoder, output_tokens_are_layer_normalised) {
    VitConfig cfg = tiny_config();
    float *images = random_images(&cfg, 1, 4);
    Encoder enc;
    run_encoder(&enc, &cfg, 1, 7, images);
    int T = vit_tokens(&cfg), C = cfg.hidden_dim;
    for (int t = 0; t < T; t++) {
        double m = 0, v = 0;
        for (int c = 0; c < C; c++) m += enc.a.out[t * C + c] / C;
        for (int c = 0; c < C; c++) v += pow(enc.a.out[t * C + c] - m, 2) / C;
        cr_expect(fabs(m) < 1e-5 && fabs(v - 1) < 1e-3, "token %d: mean %g, variance %g", t, m, v);
    }
    encoder_free(&enc);
    free(images);
}

Test(encoder, images_of_a_batch_do_not_mix) {
    VitConfig cfg = tiny_config();
    int image = cfg.in_channels * cfg.image_size * cfg.image_size;
    int n = vit_tokens(&cfg) * cfg.hidden_dim;
    float *images = random_images(&cfg, 3, 5);
    Encoder batch, one;
    run_encoder(&batch, &cfg, 3, 9, images);
    run_encoder(&one, &cfg, 1, 9, images + 2 * image);
    expect_floats_close("image 2 alone vs in a batch of 3", one.a.out, batch.a.out + 2 * n, n, 1e-5,
                        1e-5);
    encoder_free(&batch);
    encoder_free(&one);
    free(images);
}

Test(encoder, patch_embedding_is_the_convolution) {
    // conv_proj as a Conv2d with kernel = stride = P gives (B,C,H/P,W/P); the
    // encoder's patch_emb is the same numbers as (B,N,C)
    VitConfig cfg = tiny_config();
    int C = cfg.hidden_dim, N = vit_tokens(&cfg) - 1, S = cfg.image_size, P = cfg.patch_size;
    float *images = random_images(&cfg, 2, 6);
    Encoder enc;
    run_encoder(&enc, &cfg, 2, 11, images);
    float *conv = malloc(sizeof(float) * 2 * C * N), *want = malloc(sizeof(float) * 2 * N * C);
    conv2d_forward(conv, images, enc.w.conv_w, enc.w.conv_b, 2, cfg.in_channels, S, S, C, P, P, 0);
    for (int b = 0; b < 2; b++)
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++) want[(b * N + n) * C + c] = conv[(b * C + c) * N + n];
    expect_floats_close("patch_emb vs conv2d", enc.a.patch_emb, want, 2 * N * C, 1e-5, 1e-5);
    free(conv);
    free(want);
    encoder_free(&enc);
    free(images);
}

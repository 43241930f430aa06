// test_11_weights.c — what real pretrained weights need from the library:
//
// GELU's tanh form (the paper's JAX checkpoints) equals torch's
// nn.GELU(approximate='tanh') and its gradient autograd's
// (tests/fixtures/11_gelu_tanh.bin), passes finite differences, and stays
// within 5e-4 of the exact form; a block with it differs from the erf block.
// The form is a checkpoint's metadata "gelu": saved only for tanh, read back,
// "erf" and absent both the exact form, anything else refused; a file of the
// other form does not load into a model. Per-channel normalisation: one number
// (every checkpoint of chapters 06-10: their fixtures load) is every channel's,
// three are one each, other counts and tiny stds are refused. A ViT built for
// inference only gives the same logits bit for bit as one built for training;
// with logits_only (the last block for the class token alone), the same logits
// and class token within rounding, and row 0 of the last layer's attention, and
// with mean pooling (which reads every token) the same bits.
// A metadata value longer than SafetensorsMeta holds (1,000 class names) is
// left out of it and read whole by safetensors_read_meta_text.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "checkpoint.h"
#include "fixture.h"
#include "gelu.h"
#include "gradcheck.h"
#include "owned.h"
#include "rng.h"
#include "safetensors.h"
#include "scratch.h"
#include "vit.h"

static Vit a, b;

static void setup(void) {
    scratch_setup();
}

static void teardown(void) {
    vit_free(&a);
    vit_free(&b);
    owned_release();
    scratch_teardown();
}

TestSuite(weights, .init = setup, .fini = teardown);

// ---- GELU's tanh form ------------------------------------------------------------

Test(weights, gelu_tanh_equals_torch) {
    Fixture f;
    fixture_load(&f, "11_gelu_tanh.bin");
    enum { n = 200 };
    float *x = fixture_get(&f, "gelu_tanh.x", n), *r = fixture_get(&f, "gelu_tanh.r", n);
    float out[n], dx[n] = {0}, exact[n];
    gelu_tanh_forward(out, x, n);
    expect_floats_close("gelu_tanh.out", out, fixture_get(&f, "gelu_tanh.out", n), n, 1e-6, 1e-5);
    gelu_tanh_backward(dx, r, x, n);
    expect_floats_close("gelu_tanh.dx", dx, fixture_get(&f, "gelu_tanh.dx", n), n, 1e-6, 1e-5);
    gelu_form_forward(GELU_ERF, exact, x, n);
    expect_floats_close("gelu_erf.out", exact, fixture_get(&f, "gelu_erf.out", n), n, 1e-6, 1e-5);
    float most = 0.0f;
    for (int i = 0; i < n; i++) most = fmaxf(most, fabsf(out[i] - exact[i]));
    cr_expect(most > 1e-4f && most < 5e-4f,
              "tanh and erf forms differ by %g, expected (1e-4, 5e-4)", most);
    fixture_free(&f);
}

typedef struct {
    int n;
    float *x, *out, *r, *dx;
} GeluCase;

static double gelu_loss(GradCheck *gc) {
    GeluCase *c = gc->ctx;
    gelu_form_forward(GELU_TANH, c->out, c->x, c->n);
    return gradcheck_dot(c->out, c->r, c->n);
}

static void gelu_grads(GradCheck *gc) {
    GeluCase *c = gc->ctx;
    gelu_form_backward(GELU_TANH, c->dx, c->r, c->x, c->n);
}

Test(weights, gelu_tanh_finite_differences) {
    Rng rng;
    rng_seed(&rng, 11);
    enum { n = 48 };
    GeluCase c = {.n = n, .x = floats(n), .out = floats(n), .dx = floats(n)};
    rng_fill_uniform(&rng, c.x, n, -4.0f, 4.0f);
    c.r = random_floats(&rng, n, 0, 1);
    GradCheck gc = {.loss = gelu_loss, .backward = gelu_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "gelu_tanh.x", c.x, c.dx, n);
    gradcheck_run(&gc);
}

// ---- the form in a model and its checkpoint ----------------------------------------

// A ViT of B/16's structure, small: RGB, class token, 3 heads, 2 layers.
static const VitConfig tiny = {.image_size = 32,
                               .patch_size = 8,
                               .in_channels = 3,
                               .hidden_dim = 24,
                               .mlp_dim = 48,
                               .num_layers = 2,
                               .num_heads = 3,
                               .num_classes = 10};

// m's weights all random (the head too, so the logits are not all 0).
static void randomize(Vit *m, uint64_t seed) {
    Rng rng;
    rng_seed(&rng, seed);
    vit_init(m, &rng);
    rng_fill_normal(&rng, m->params.memory, (int)m->params.total, 0.0f, 0.3f);
}

Test(weights, tanh_form_changes_the_logits_and_is_saved) {
    enum { B = 2 };
    Rng rng;
    rng_seed(&rng, 12);
    float *images = random_floats(&rng, (size_t)B * 3 * 32 * 32, 0, 1);
    vit_build(&a, &tiny, &(HeadOptions){0}, 0.0f, B);
    randomize(&a, 1);
    cr_assert_eq(vit_gelu(&a), GELU_ERF, "a ViT is built with the exact GELU");
    vit_forward(&a, images, NULL, B, 0.0f, false);
    float erf_logits[B * 10];
    memcpy(erf_logits, a.ha.logits, sizeof erf_logits);
    vit_set_gelu(&a, GELU_TANH);
    vit_forward(&a, images, NULL, B, 0.0f, false);
    ArrayDiff d = diff_floats(a.ha.logits, erf_logits, B * 10, 0.0, 0.0);
    cr_expect(d.max_diff > 0.0, "the tanh form gave the erf form's logits");

    char path[1024];
    Error err;
    cr_assert(checkpoint_save(scratch_path(path, "tanh.safetensors"), &a.model, 0.5f, 0.5f, &err),
              "%s", err.message);
    SafetensorsMeta meta;
    cr_assert(safetensors_read_meta(path, &meta, &err), "%s", err.message);
    cr_expect_str_eq(safetensors_meta_get(&meta, "gelu"), "tanh");
    Model *m;
    float mean, std;
    const ModelKind *kinds[] = {&vit_kind};
    cr_assert(checkpoint_open(path, kinds, 1, B, 0.0f, &m, &mean, &std, &err), "%s", err.message);
    cr_expect_eq(vit_gelu(vit_of(m)), GELU_TANH);
    model_forward(m, images, NULL, B, 0.0f, false);
    expect_floats_equal("logits reloaded", m->logits, a.ha.logits, B * 10, 0.0);
    m->kind->close(m);
    // a model of the exact form does not take it
    vit_build(&b, &tiny, &(HeadOptions){0}, 0.0f, B);
    cr_expect(!checkpoint_load(path, &b.model, &err));
    expect_mentions(err.message, "GELU's tanh form");
}

Test(weights, exact_form_writes_no_gelu_entry) {
    vit_build(&a, &tiny, &(HeadOptions){0}, 0.0f, 1);
    SafetensorsMeta meta = {0};
    a.model.kind->describe(&a.model, &meta);
    cr_expect_null(safetensors_meta_get(&meta, "gelu"), "chapter 06's files stay as they were");
}

Test(weights, gelu_metadata_values) {
    SafetensorsMeta meta = {0};
    GeluForm form;
    Error err;
    cr_expect(vit_read_gelu(&meta, "m", &form, &err) && form == GELU_ERF, "absent: erf");
    safetensors_meta_set(&meta, "gelu", "erf");
    cr_expect(vit_read_gelu(&meta, "m", &form, &err) && form == GELU_ERF);
    safetensors_meta_set(&meta, "gelu", "tanh");
    cr_expect(vit_read_gelu(&meta, "m", &form, &err) && form == GELU_TANH);
    safetensors_meta_set(&meta, "gelu", "sigmoid");
    cr_expect(!vit_read_gelu(&meta, "m", &form, &err));
    expect_mentions(err.message, "m: metadata \"gelu\" is \"sigmoid\", expected erf or tanh");
}

// ---- inference only ---------------------------------------------------------------

Test(weights, inference_build_gives_the_same_logits) {
    enum { B = 3 };
    Rng rng;
    rng_seed(&rng, 13);
    float *images = random_floats(&rng, (size_t)B * 3 * 32 * 32, 0, 1);
    vit_build(&a, &tiny, &(HeadOptions){0}, 0.1f, B);
    randomize(&a, 2);
    vit_build_inference(&b, &tiny, &(HeadOptions){0}, B);
    cr_assert_eq(b.params.total, a.params.total);
    cr_expect_null(b.grads.memory, "no parameter gradients");
    cr_expect_null(b.dacts.memory, "no activation gradients");
    cr_expect_null(b.model.grads);
    memcpy(b.params.memory, a.params.memory, a.params.total * sizeof(float));
    vit_forward(&a, images, NULL, B, 0.0f, false);
    vit_forward(&b, images, NULL, B, 0.0f, false);
    expect_floats_equal("logits", b.ha.logits, a.ha.logits, B * 10, 0.0);
    vit_forward(&a, images, NULL, 1, 0.0f, false); // a smaller batch than built
    vit_forward(&b, images, NULL, 1, 0.0f, false);
    expect_floats_equal("logits of one image", b.ha.logits, a.ha.logits, 10, 0.0);
}

// Two inference-only copies of one random tiny model, the second with logits_only,
// on the same B random images (3 of them span two threads' slices).
static void logits_only_pair(const HeadOptions *head, int B) {
    Rng rng;
    rng_seed(&rng, 14);
    float *images = random_floats(&rng, (size_t)B * 3 * 32 * 32, 0, 1);
    vit_build_inference(&a, &tiny, head, B);
    randomize(&a, 3);
    vit_build_inference(&b, &tiny, head, B);
    memcpy(b.params.memory, a.params.memory, a.params.total * sizeof(float));
    b.logits_only = true;
    vit_forward(&a, images, NULL, B, 0.0f, false);
    vit_forward(&b, images, NULL, B, 0.0f, false);
}

Test(weights, logits_only_gives_the_same_logits_and_class_rows) {
    enum { B = 3 };
    logits_only_pair(&(HeadOptions){0}, B);
    int T = vit_tokens(&tiny), C = tiny.hidden_dim, NH = tiny.num_heads, L = tiny.num_layers;
    expect_floats_close("logits", b.ha.logits, a.ha.logits, B * 10, 1e-5, 1e-5);
    const float *att_a = a.a.layers[L - 1].attn.att, *att_b = b.a.layers[L - 1].attn.att;
    for (int bh = 0; bh < B * NH; bh++) // row 0 of every head of every image
        expect_floats_close("last layer's class row", att_b + (size_t)bh * T * T,
                            att_a + (size_t)bh * T * T, T, 1e-6, 1e-5);
    for (int i = 0; i < B; i++) // the class token out of the final LayerNorm
        expect_floats_close("class token", b.a.out + (size_t)i * T * C, a.a.out + (size_t)i * T * C,
                            C, 1e-5, 1e-5);
    for (int l = 0; l < L - 1; l++) // the blocks before the last: every token, the same bits
        expect_floats_equal("earlier block", b.a.layers[l].out, a.a.layers[l].out,
                            (size_t)B * T * C, 0.0);
}

Test(weights, logits_only_changes_nothing_with_mean_pooling) {
    enum { B = 2 };
    logits_only_pair(&(HeadOptions){.mean_pool = true}, B);
    expect_floats_equal("logits", b.ha.logits, a.ha.logits, B * 10, 0.0);
}

// ---- per-channel normalisation ----------------------------------------------------

Test(weights, one_number_is_every_channel) {
    // chapter 06's files: one number; the torchvision fixture written in chapter 06
    SafetensorsMeta meta;
    Error err;
    const char *path = FIXTURE_DIR "/06_torchvision_tiny.safetensors";
    cr_assert(safetensors_read_meta(path, &meta, &err), "%s", err.message);
    float mean[3], std[3];
    cr_assert(checkpoint_channel_normalization(&meta, path, 3, mean, std, &err), "%s", err.message);
    for (int c = 0; c < 3; c++) {
        cr_expect_float_eq(mean[c], 0.2860f, 1e-7);
        cr_expect_float_eq(std[c], 0.3530f, 1e-7);
    }
    float mean1, std1; // and chapter 06's own reader still takes it
    cr_expect(checkpoint_normalization(path, &mean1, &std1, &err), "%s", err.message);
}

Test(weights, three_numbers_are_one_each) {
    SafetensorsMeta meta = {0};
    safetensors_meta_set(&meta, "image_mean", "0.485,0.456,0.406");
    safetensors_meta_set(&meta, "image_std", "0.229,0.224,0.225");
    float mean[3], std[3];
    Error err;
    cr_assert(checkpoint_channel_normalization(&meta, "m", 3, mean, std, &err), "%s", err.message);
    float want_mean[] = {0.485f, 0.456f, 0.406f}, want_std[] = {0.229f, 0.224f, 0.225f};
    expect_floats_equal("mean", mean, want_mean, 3, 0.0);
    expect_floats_equal("std", std, want_std, 3, 0.0);
}

Test(weights, bad_channel_lists_are_refused) {
    const char *bad[][2] = {
        {"0.5,0.5", "holds 2 numbers, expected 1 or 3"},
        {"0.5,0.5,0.5,0.5", "expected one number or 3 separated by commas"},
        {"0.5,,0.5", "expected one number or 3"},
        {"0.5,0.5,", "expected one number or 3"},
        {"0.5;0.5;0.5", "expected one number or 3"},
        {"", "expected one number or 3"},
        {"nan,0,0", "expected one number or 3"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        SafetensorsMeta meta = {0};
        safetensors_meta_set(&meta, "image_mean", bad[i][0]);
        safetensors_meta_set(&meta, "image_std", "1");
        float mean[3], std[3];
        Error err;
        cr_expect(!checkpoint_channel_normalization(&meta, "m", 3, mean, std, &err), "%s taken",
                  bad[i][0]);
        expect_mentions(err.message, bad[i][1]);
    }
    SafetensorsMeta meta = {0};
    safetensors_meta_set(&meta, "image_mean", "0.5");
    safetensors_meta_set(&meta, "image_std", "0.2,0,0.2");
    float mean[3], std[3];
    Error err;
    cr_expect(!checkpoint_channel_normalization(&meta, "m", 3, mean, std, &err));
    expect_mentions(err.message, "\"image_std\" must be at least");
}

// ---- long metadata values ---------------------------------------------------------

Test(weights, long_metadata_value_read_whole) {
    enum { LONG = 20000 };
    char *names = take(LONG + 1);
    for (int i = 0; i < LONG; i++) names[i] = i % 10 == 9 ? '\n' : (char)('a' + i % 26);
    // a header written by hand (safetensors_write keeps values to SafetensorsMeta's
    // size), the value's newlines escaped as JSON writes them
    char *json = take(2 * LONG + 200);
    size_t at =
        (size_t)sprintf(json, "{\"__metadata__\":{\"image_size\":\"32\",\"class_names\":\"");
    for (int i = 0; i < LONG; i++) {
        if (names[i] == '\n')
            at += (size_t)sprintf(json + at, "\\n");
        else
            json[at++] = names[i];
    }
    at += (size_t)sprintf(json + at, "\"}}");
    while ((8 + at) % 8 != 0) json[at++] = ' ';
    char path[1024];
    FILE *file = fopen(scratch_path(path, "long.safetensors"), "wb");
    cr_assert_not_null(file);
    unsigned char length[8];
    for (int k = 0; k < 8; k++) length[k] = (unsigned char)((unsigned long long)at >> (8 * k));
    fwrite(length, 1, 8, file);
    fwrite(json, 1, at, file);
    fclose(file);

    SafetensorsMeta meta;
    Error err;
    cr_assert(safetensors_read_meta(path, &meta, &err), "%s", err.message);
    cr_expect_str_eq(safetensors_meta_get(&meta, "image_size"), "32");
    cr_expect_null(safetensors_meta_get(&meta, "class_names"), "too long for SafetensorsMeta");
    Input in;
    cr_assert(input_open_file(&in, path, &err), "%s", err.message);
    char *value;
    cr_assert(safetensors_read_meta_text(&in, "class_names", &value, &err), "%s", err.message);
    cr_assert_not_null(value);
    cr_expect_eq(strlen(value), LONG);
    cr_expect(memcmp(value, names, LONG) == 0, "the value read whole, escapes decoded");
    free(value);
    cr_assert(safetensors_read_meta_text(&in, "image_size", &value, &err), "%s", err.message);
    cr_expect_str_eq(value, "32");
    free(value);
    cr_assert(safetensors_read_meta_text(&in, "nothing", &value, &err), "%s", err.message);
    cr_expect_null(value);
    input_close(&in);
}

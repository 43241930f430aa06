// test_06_training.c — the optimizer, the schedule, clipping, progress, the
// training loop and checkpoints: AdamW against hand-computed numbers and
// torch.optim.AdamW, the decay mask by name, a tiny model overfitting a tiny
// batch, bitwise determinism, resuming, and refusing bad checkpoints.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include "ch06.h"
#include "check.h"
#include "scratch.h"

// ---- AdamW -----------------------------------------------------------------------

// fc.weight (1,2) decays, fc.bias (2) does not: params [w0, w1, b0, b1].
typedef struct {
    Tensors params;
    float *w, *b;
} TwoTensors;

static void two_tensors(TwoTensors *t, const float init[4]) {
    tensors_init(&t->params);
    tensors_add(&t->params, &t->w, 2, (int[]){1, 2}, "fc.weight");
    tensors_add(&t->params, &t->b, 1, (int[]){2}, "fc.bias");
    tensors_alloc(&t->params);
    memcpy(t->params.memory, init, sizeof(float) * 4);
}

Test(adamw, first_step_by_hand) {
    TwoTensors t;
    two_tensors(&t, (float[]){1.0f, 0.5f, -2.0f, 3.0f});
    AdamW opt;
    adamw_build(&opt, &t.params, 0.1f);
    float grads[4] = {0.1f, -0.2f, 0.3f, 0.0f};
    adamw_step(&opt, t.params.memory, grads, 0.01f);
    // Step 1: m = 0.1 g, v = 0.001 g^2, so after the bias corrections m^ = g and
    // v^ = g^2, and the update is lr * g / (|g| + eps) = 0.01 * sign(g) (0 where g = 0).
    // Decay multiplies the weights (not the bias) by 1 - lr * wd = 0.999 first.
    float want[4] = {1.0f * 0.999f - 0.01f * 0.1f / (0.1f + 1e-8f),
                     0.5f * 0.999f + 0.01f * 0.2f / (0.2f + 1e-8f),
                     -2.0f - 0.01f * 0.3f / (0.3f + 1e-8f), 3.0f};
    expect_floats_close("params after one step", t.params.memory, want, 4, 1e-7, 1e-6);
    float m[4] = {0.01f, -0.02f, 0.03f, 0.0f}, v[4] = {1e-5f, 4e-5f, 9e-5f, 0.0f};
    expect_floats_close("m", opt.m, m, 4, 0, 1e-6);
    expect_floats_close("v", opt.v, v, 4, 0, 1e-4); // 1 - 0.999 is 0.00099998 in float
    cr_assert_eq(opt.step, 1);
    adamw_free(&opt);
    tensors_free(&t.params);
}

Test(adamw, matches_torch_optim_adamw) {
    // Computed once with Debian's python3-torch 1.13:
    //   w = torch.tensor([[1.0, 0.5]]); b = torch.tensor([-2.0, 3.0]) (requires_grad)
    //   opt = torch.optim.AdamW([{'params': [w], 'weight_decay': 0.1},
    //                            {'params': [b], 'weight_decay': 0.0}],
    //                           lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    //   then three steps with the gradients below, printing w and b after each.
    const float grads[3][4] = {
        {0.1f, -0.2f, 0.3f, 0.0f}, {-0.05f, 0.4f, 0.1f, -1.0f}, {0.2f, 0.2f, -0.3f, 0.5f}};
    const float torch[3][4] = {{0.989000022f, 0.509500027f, -2.00999999f, 3.0f},
                               {0.985347688f, 0.50532949f, -2.01871061f, 3.00744128f},
                               {0.977781236f, 0.499631763f, -2.01919436f, 3.00972772f}};
    TwoTensors t;
    two_tensors(&t, (float[]){1.0f, 0.5f, -2.0f, 3.0f});
    AdamW opt;
    adamw_build(&opt, &t.params, 0.1f);
    for (int s = 0; s < 3; s++) {
        adamw_step(&opt, t.params.memory, grads[s], 0.01f);
        expect_floats_close("params against torch", t.params.memory, torch[s], 4, 1e-6, 1e-6);
    }
    adamw_free(&opt);
    tensors_free(&t.params);
}

Test(adamw, no_decay_leaves_zero_gradient_params_alone) {
    TwoTensors t;
    two_tensors(&t, (float[]){1.0f, 0.5f, -2.0f, 3.0f});
    AdamW opt;
    adamw_build(&opt, &t.params, 0.0f);
    float zero[4] = {0}, before[4];
    memcpy(before, t.params.memory, sizeof before);
    for (int s = 0; s < 5; s++) adamw_step(&opt, t.params.memory, zero, 0.1f);
    expect_floats_equal("params", t.params.memory, before, 4, 0);
    adamw_free(&opt);
    tensors_free(&t.params);
}

// ---- which parameters decay ------------------------------------------------------

static const VitConfig tiny = {.image_size = 28,
                               .patch_size = 7,
                               .in_channels = 1,
                               .hidden_dim = 16,
                               .mlp_dim = 32,
                               .num_layers = 2,
                               .num_heads = 2,
                               .num_classes = 10};

// Whether the optimizer decays tensor e (all its entries must agree).
static bool decayed(const AdamW *opt, const TensorEntry *e) {
    for (size_t i = 1; i < e->count; i++)
        cr_assert_eq(opt->decays[e->offset + i], opt->decays[e->offset], "%s: mixed mask", e->name);
    return opt->decays[e->offset];
}

Test(adamw, decay_mask_by_name) {
    Vit m;
    HeadOptions head = {.pre_logits = true};
    vit_build(&m, &tiny, &head, 0.0f, 2);
    AdamW opt;
    adamw_build(&opt, &m.params, 0.05f);
    const char *decay[] = {"conv_proj.weight",
                           "encoder.layers.encoder_layer_0.self_attention.in_proj_weight",
                           "encoder.layers.encoder_layer_1.self_attention.out_proj.weight",
                           "encoder.layers.encoder_layer_0.mlp.0.weight",
                           "encoder.layers.encoder_layer_1.mlp.3.weight",
                           "heads.pre_logits.weight",
                           "heads.head.weight"};
    const char *keep[] = {"class_token",
                          "encoder.pos_embedding",
                          "conv_proj.bias",
                          "encoder.layers.encoder_layer_0.ln_1.weight",
                          "encoder.layers.encoder_layer_0.ln_1.bias",
                          "encoder.layers.encoder_layer_1.ln_2.weight",
                          "encoder.layers.encoder_layer_0.self_attention.in_proj_bias",
                          "encoder.layers.encoder_layer_0.mlp.0.bias",
                          "encoder.ln.weight",
                          "encoder.ln.bias",
                          "heads.head.bias"};
    for (size_t i = 0; i < sizeof decay / sizeof decay[0]; i++) {
        const TensorEntry *e = tensors_find(&m.params, decay[i]);
        cr_assert(e != NULL, "no tensor %s", decay[i]);
        cr_assert(decayed(&opt, e), "%s should decay", decay[i]);
    }
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        const TensorEntry *e = tensors_find(&m.params, keep[i]);
        cr_assert(e != NULL, "no tensor %s", keep[i]);
        cr_assert(!decayed(&opt, e), "%s should not decay", keep[i]);
    }
    // and in general: exactly the matrices and kernels, except the position embeddings
    for (int i = 0; i < m.params.count; i++) {
        const TensorEntry *e = &m.params.entries[i];
        bool matrix = e->ndim >= 2 && strcmp(e->name, "encoder.pos_embedding") != 0;
        cr_assert_eq(decayed(&opt, e), matrix, "%s", e->name);
    }
    adamw_free(&opt);
    vit_free(&m);
}

// ---- schedule and clipping -------------------------------------------------------

Test(schedule, warmup_then_cosine) {
    const float peak = 0.002f;
    cr_assert_float_eq(lr_schedule(0, 100, 1100, peak), 0.0f, 1e-12);
    cr_assert_float_eq(lr_schedule(50, 100, 1100, peak), peak / 2, 1e-9);
    cr_assert_float_eq(lr_schedule(100, 100, 1100, peak), peak, 1e-9);
    cr_assert_float_eq(lr_schedule(600, 100, 1100, peak), peak / 2, 1e-9); // cosine midpoint
    cr_assert_float_eq(lr_schedule(1100, 100, 1100, peak), 0.0f, 1e-12);
    cr_assert_float_eq(lr_schedule(5000, 100, 1100, peak), 0.0f, 1e-12);
    // a quarter of the way down: (1 + cos(pi/4)) / 2
    cr_assert_float_eq(lr_schedule(350, 100, 1100, peak), peak * 0.85355339f, 1e-8);
    cr_assert_float_eq(lr_schedule(0, 0, 10, peak), peak, 1e-9); // no warmup
    float previous = peak;
    for (long s = 101; s <= 1100; s++) {
        float lr = lr_schedule(s, 100, 1100, peak);
        cr_assert(lr <= previous, "step %ld: %g after %g", s, lr, previous);
        previous = lr;
    }
}

Test(clip, scales_to_the_max_norm) {
    float g[2] = {3.0f, 4.0f};
    cr_assert_float_eq(clip_grad_norm(g, 2, 1.0f), 5.0f, 1e-6);
    expect_floats_close("clipped", g, ((float[]){0.6f, 0.8f}), 2, 1e-6, 0);
    float h[2] = {3.0f, 4.0f};
    cr_assert_float_eq(clip_grad_norm(h, 2, 10.0f), 5.0f, 1e-6);
    expect_floats_equal("under the max", h, ((float[]){3.0f, 4.0f}), 2, 0);
    cr_assert_float_eq(clip_grad_norm(h, 2, 0.0f), 5.0f, 1e-6);
    expect_floats_equal("no clipping", h, ((float[]){3.0f, 4.0f}), 2, 0);
}

// ---- progress --------------------------------------------------------------------

Test(progress, silent_when_not_a_terminal) {
    FILE *f = tmpfile();
    cr_assert(f != NULL);
    Progress p;
    progress_start(&p, f, "epoch 1/1", 100);
    cr_assert(!p.terminal);
    for (int i = 0; i < 10; i++) progress_update(&p, 10, "loss 0.5");
    cr_assert_eq(p.done, 100);
    cr_assert(progress_finish(&p) >= 0.0);
    cr_assert_eq(ftell(f), 0, "wrote %ld bytes to a file", ftell(f));
    fclose(f);
}

// ---- batches, training, evaluation ------------------------------------------------

// count random 28x28 images with random labels.
static FashionMnist fake_data(int count, uint64_t seed) {
    FashionMnist d = {.count = count, .rows = 28, .cols = 28};
    d.pixels = malloc((size_t)count * 28 * 28);
    d.labels = malloc((size_t)count);
    Rng rng;
    rng_seed(&rng, seed);
    for (int i = 0; i < count * 28 * 28; i++) d.pixels[i] = (unsigned char)rng_int(&rng, 256);
    for (int i = 0; i < count; i++) d.labels[i] = (unsigned char)rng_int(&rng, 10);
    return d;
}

static void free_data(FashionMnist *d) {
    free(d->pixels);
    free(d->labels);
}

// A checkpoint's shape, head and normalisation, as a program reads them.
static bool read_config(const char *path, VitConfig *cfg, HeadOptions *head, float *mean,
                        float *std, Error *err) {
    SafetensorsMeta meta;
    return safetensors_read_meta(path, &meta, err) && vit_read_config(&meta, path, cfg, head, err) &&
           checkpoint_normalization(path, mean, std, err);
}

Test(train, batch_load_normalises) {
    FashionMnist d = fake_data(3, 1);
    d.pixels[2 * 784 + 0] = 0;
    d.pixels[2 * 784 + 1] = 255;
    float images[2 * 784];
    int labels[2], indices[2] = {2, 0};
    batch_load(images, labels, &d, indices, 2, 0.25f, 0.5f);
    cr_assert_float_eq(images[0], -0.5f, 1e-6); // (0 - 0.25) / 0.5
    cr_assert_float_eq(images[1], 1.5f, 1e-6);  // (1 - 0.25) / 0.5
    cr_assert_float_eq(images[784 + 5], (d.pixels[5] / 255.0f - 0.25f) / 0.5f, 1e-6);
    cr_assert_eq(labels[0], d.labels[2]);
    cr_assert_eq(labels[1], d.labels[0]);
    free_data(&d);
}

Test(train, augment_moves_a_pixel_by_at_most_the_shift) {
    enum { B = 64, S = 28 };
    float *images = calloc(B * S * S, sizeof(float)), scratch[S * S];
    for (int b = 0; b < B; b++) images[b * S * S + 10 * S + 5] = 1.0f; // row 10, column 5
    Rng rng;
    rng_seed(&rng, 3);
    batch_augment(images, scratch, B, S, S, 2, true, -0.5f, &rng);
    int mirrored = 0;
    for (int b = 0; b < B; b++) {
        int found = 0, row = -1, col = -1;
        for (int i = 0; i < S * S; i++) {
            float x = images[b * S * S + i];
            cr_assert(x == 0.0f || x == 1.0f || x == -0.5f, "image %d: value %g", b, x);
            if (x == 1.0f) found++, row = i / S, col = i % S;
        }
        cr_assert_eq(found, 1, "image %d: the bright pixel appears %d times", b, found);
        cr_assert(row >= 8 && row <= 12, "image %d: row %d", b, row);
        bool left = col >= 3 && col <= 7, right = col >= 20 && col <= 24; // 27 - 5 = 22
        cr_assert(left || right, "image %d: column %d", b, col);
        mirrored += right;
    }
    cr_assert(mirrored > 16 && mirrored < 48, "%d of %d mirrored", mirrored, B);
    free(images);
}

static TrainOptions tiny_options(int epochs, int batch) {
    return (TrainOptions){.epochs = epochs,
                          .batch = batch,
                          .lr = 3e-3f,
                          .weight_decay = 0.05f,
                          .warmup = 0.5f,
                          .label_smoothing = 0.1f,
                          .clip = 1.0f,
                          .shift = 2,
                          .mirror = true,
                          .image_mean = FASHION_MNIST_MEAN,
                          .image_std = FASHION_MNIST_STD,
                          .seed = 7};
}

static void tiny_model(Vit *m, int B, float dropout, uint64_t seed) {
    HeadOptions head = {0};
    vit_build(m, &tiny, &head, dropout, B);
    Rng rng;
    rng_seed(&rng, seed);
    vit_init(m, &rng);
}

Test(train, tiny_model_overfits_a_tiny_batch) {
    FashionMnist d = fake_data(8, 2);
    Vit m;
    tiny_model(&m, 8, 0.0f, 3);
    TrainOptions o = tiny_options(80, 8); // one step an epoch
    o.label_smoothing = 0.0f;
    o.weight_decay = 0.0f;
    o.shift = 0;
    o.mirror = false;
    o.warmup = 5.0f;
    o.lr = 1e-2f;
    o.clip = 0.0f;
    Trainer t;
    cr_assert(trainer_build(&t, &m.model, &d, 8, &o, NULL));
    EpochResult first = trainer_epoch(&t, NULL), last = first;
    while (t.epoch < o.epochs) last = trainer_epoch(&t, NULL);
    cr_assert_float_eq(first.loss, logf(10.0f), 1e-4, "the zero head starts at ln 10");
    cr_assert(last.loss < 0.05, "loss only fell from %g to %g in %d steps", first.loss, last.loss,
              o.epochs);
    cr_assert_float_eq(evaluate(&m.model, &d, 8, o.image_mean, o.image_std, NULL, NULL), 1.0, 1e-12);
    trainer_free(&t);
    vit_free(&m);
    free_data(&d);
}

// Trains a tiny model on d for `epochs` epochs; leaves the result in m.
static void train_tiny(Vit *m, Trainer *t, const FashionMnist *d, int epochs, float dropout) {
    tiny_model(m, 16, dropout, 5);
    TrainOptions o = tiny_options(epochs, 16);
    cr_assert(trainer_build(t, &m->model, d, d->count, &o, NULL));
    while (t->epoch < epochs) trainer_epoch(t, NULL);
}

Test(train, same_seed_same_parameters_bitwise) {
    train_set_threads(2);
    FashionMnist d = fake_data(40, 4); // batches of 16, 16 and 8
    Vit a, b;
    Trainer ta, tb;
    train_tiny(&a, &ta, &d, 3, 0.1f);
    train_tiny(&b, &tb, &d, 3, 0.1f);
    cr_assert_eq(ta.opt.step, 9);
    cr_assert(memcmp(a.params.memory, b.params.memory, sizeof(float) * a.params.total) == 0,
              "two runs with the same seed differ");
    cr_assert(memcmp(ta.opt.m, tb.opt.m, sizeof(float) * 2 * ta.opt.count) == 0);
    trainer_free(&ta);
    trainer_free(&tb);
    vit_free(&a);
    vit_free(&b);
    free_data(&d);
}

Test(train, refuses_images_of_another_size_naming_both) {
    FashionMnist d = fake_data(4, 1);
    d.rows = d.cols = 10; // a valid IDX file of 10x10 images, say
    Vit m;
    tiny_model(&m, 4, 0.0f, 1);
    Trainer t;
    TrainOptions o = tiny_options(1, 4);
    Error err;
    cr_assert_not(trainer_build(&t, &m.model, &d, 4, &o, &err));
    expect_mentions(err.message, "10x10");
    expect_mentions(err.message, "the model takes 28x28");
    vit_free(&m);
    free_data(&d);
}

Test(train, the_trainer_sees_the_vit_through_its_model) {
    Vit m;
    tiny_model(&m, 3, 0.0f, 1);
    cr_assert_eq(m.model.kind, &vit_kind);
    cr_assert_eq(vit_of(&m.model), &m);
    cr_assert_eq(m.model.params, &m.params);
    cr_assert_eq(m.model.grads, &m.grads);
    cr_assert_eq(m.model.logits, m.ha.logits);
    cr_assert_eq(m.model.dropout_rng, &m.dropout_rng);
    cr_assert_eq(m.model.B, 3);
    cr_assert_eq(m.model.image_size, 28);
    cr_assert_eq(m.model.in_channels, 1);
    cr_assert_eq(m.model.num_classes, 10);
    vit_free(&m);
}

Test(train, evaluate_counts_and_confusion) {
    FashionMnist d = fake_data(37, 6);
    Vit m;
    tiny_model(&m, 8, 0.0f, 1); // zero head: every logit 0, so argmax is class 0
    int confusion[100];
    float *logits = malloc(sizeof(float) * 37 * 10);
    double accuracy = evaluate(&m.model, &d, 37, 0.3f, 0.3f, confusion, logits);
    int zeros = 0, total = 0;
    for (int i = 0; i < 37; i++) zeros += d.labels[i] == 0;
    for (int i = 0; i < 100; i++) total += confusion[i];
    cr_assert_eq(total, 37);
    for (int i = 0; i < 10; i++) {
        int with_label = 0;
        for (int j = 0; j < 37; j++) with_label += d.labels[j] == i;
        cr_assert_eq(confusion[i * 10], with_label, "class %d", i);
    }
    for (int i = 0; i < 10; i++)
        for (int j = 1; j < 10; j++) cr_assert_eq(confusion[i * 10 + j], 0);
    cr_assert_float_eq(accuracy, zeros / 37.0, 1e-12);
    for (int i = 0; i < 370; i++) cr_assert_eq(logits[i], 0.0f);
    free(logits);
    vit_free(&m);
    free_data(&d);
}

// ---- checkpoints -----------------------------------------------------------------

TestSuite(checkpoint, .init = scratch_setup, .fini = scratch_teardown);

Test(checkpoint, state_path) {
    char out[256];
    trainer_state_path(out, sizeof out, "runs/vit.safetensors");
    cr_assert_str_eq(out, "runs/vit.opt.safetensors");
    trainer_state_path(out, sizeof out, "vit.ckpt");
    cr_assert_str_eq(out, "vit.ckpt.opt.safetensors");
}

Test(checkpoint, metadata_has_torchvision_names) {
    Vit m;
    tiny_model(&m, 2, 0.0f, 1);
    char path[1024];
    Error err;
    cr_assert(checkpoint_save(scratch_path(path, "vit.safetensors"), &m.model, 0.25f, 0.5f, &err), "%s",
              err.message);
    SafetensorsMeta meta;
    cr_assert(safetensors_read_meta(path, &meta, &err), "%s", err.message);
    const char *keys[] = {"image_size", "patch_size", "in_channels", "hidden_dim",
                          "mlp_dim",    "num_layers", "num_heads",   "num_classes",
                          "image_mean", "image_std",  "model",       "pool"};
    const char *values[] = {"28", "7", "1", "16", "32", "2", "2", "10", "0.25", "0.5", "vit", "cls"};
    for (int i = 0; i < 12; i++) {
        const char *got = safetensors_meta_get(&meta, keys[i]);
        cr_assert(got != NULL, "no %s", keys[i]);
        cr_assert_str_eq(got, values[i], "%s", keys[i]);
    }
    VitConfig cfg;
    HeadOptions head;
    float mean, std;
    cr_assert(read_config(path, &cfg, &head, &mean, &std, &err), "%s", err.message);
    cr_assert(memcmp(&cfg, &tiny, sizeof cfg) == 0);
    cr_assert(!head.mean_pool && !head.pre_logits);
    cr_assert_float_eq(mean, 0.25f, 0);
    cr_assert_float_eq(std, 0.5f, 0);
    vit_free(&m);
}

Test(checkpoint, round_trip_is_exact) {
    Vit a, b;
    tiny_model(&a, 2, 0.0f, 1);
    tiny_model(&b, 2, 0.0f, 2);
    for (size_t i = 0; i < a.params.total; i++) a.params.memory[i] += 0.001f * (float)i;
    char path[1024];
    Error err;
    cr_assert(checkpoint_save(scratch_path(path, "vit.safetensors"), &a.model, 0.3f, 0.3f, &err));
    cr_assert(checkpoint_load(path, &b.model, &err), "%s", err.message);
    expect_floats_equal("loaded", b.params.memory, a.params.memory, a.params.total, 0);
    vit_free(&a);
    vit_free(&b);
}

Test(checkpoint, open_builds_the_model_from_the_file_alone) {
    Vit a;
    tiny_model(&a, 2, 0.0f, 1);
    Rng rng;
    rng_seed(&rng, 8);
    for (size_t i = 0; i < a.params.total; i++) a.params.memory[i] = rng_normal(&rng) * 0.1f;
    char path[1024];
    Error err;
    cr_assert(checkpoint_save(scratch_path(path, "vit.safetensors"), &a.model, 0.3f, 0.4f, &err));
    const ModelKind *kinds[] = {&vit_kind};
    Model *b;
    float mean, std;
    cr_assert(checkpoint_open(path, kinds, 1, 2, 0.0f, &b, &mean, &std, &err), "%s", err.message);
    cr_assert_eq(b->kind, &vit_kind);
    cr_assert_float_eq(mean, 0.3f, 0);
    cr_assert_float_eq(std, 0.4f, 0);
    float images[2 * 28 * 28];
    for (int i = 0; i < 2 * 28 * 28; i++) images[i] = rng_normal(&rng);
    vit_forward(&a, images, NULL, 2, 0.0f, false);
    model_forward(b, images, NULL, 2, 0.0f, false);
    expect_floats_equal("logits", b->logits, a.ha.logits, 2 * 10, 0);
    b->kind->close(b);
    vit_free(&a);
}

Test(checkpoint, open_refuses_a_kind_it_does_not_know) {
    Vit a;
    tiny_model(&a, 2, 0.0f, 1);
    SafetensorsMeta meta = {0};
    vit_kind.describe(&a.model, &meta);
    safetensors_meta_set(&meta, "model", "hybrid");
    safetensors_meta_set(&meta, "image_mean", "0.3");
    safetensors_meta_set(&meta, "image_std", "0.3");
    char path[1024];
    Error err;
    cr_assert(safetensors_write(scratch_path(path, "h.safetensors"), &a.params, &meta, &err));
    const ModelKind *kinds[] = {&vit_kind};
    Model *b;
    float mean, std;
    cr_assert_not(checkpoint_open(path, kinds, 1, 2, 0.0f, &b, &mean, &std, &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "\"hybrid\"");
    cr_assert_not(checkpoint_load(path, &a.model, &err));
    expect_mentions(err.message, "not \"vit\"");
    vit_free(&a);
}

Test(checkpoint, config_fields_go_through_metadata_and_back) {
    SafetensorsMeta meta = {0};
    config_to_meta(&meta, "", &tiny, vit_config_fields, vit_config_field_count);
    VitConfig back = {0};
    Error err;
    cr_assert(config_from_meta(&back, "", vit_config_fields, vit_config_field_count, &meta, "f", &err),
              "%s", err.message);
    cr_assert(memcmp(&back, &tiny, sizeof back) == 0);
    safetensors_meta_set(&meta, "num_layers", "65536"); // refused before anything is built
    cr_assert_not(
        config_from_meta(&back, "", vit_config_fields, vit_config_field_count, &meta, "f", &err));
    expect_mentions(err.message, "\"num_layers\" is \"65536\"");
    expect_mentions(err.message, "1..128");
}

Test(checkpoint, require_returns_when_the_file_is_there) {
    char path[1024];
    write_whole_file(scratch_path(path, "vit.safetensors"), "x", 1);
    checkpoint_require("ch09_inspect", path, "build/ch06_classifier");
}

Test(checkpoint, require_exits_1_naming_the_command_when_it_is_missing, .exit_code = 1) {
    char path[1024];
    cr_redirect_stderr();
    checkpoint_require("ch09_inspect", scratch_path(path, "none.safetensors"),
                       "build/ch06_classifier");
    cr_assert_fail("checkpoint_require returned for a missing file");
}

Test(checkpoint, refuses_another_shape_and_a_truncated_file) {
    Vit a, wide;
    tiny_model(&a, 2, 0.0f, 1);
    VitConfig cfg = tiny;
    cfg.hidden_dim = 32;
    HeadOptions head = {0};
    vit_build(&wide, &cfg, &head, 0.0f, 2);
    char path[1024], cut[1024];
    Error err;
    cr_assert(checkpoint_save(scratch_path(path, "vit.safetensors"), &a.model, 0.3f, 0.3f, &err));
    cr_assert(!checkpoint_load(path, &wide.model, &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "width 16");
    long size;
    char *bytes = read_whole_file(path, &size);
    write_whole_file(scratch_path(cut, "cut.safetensors"), bytes, (size_t)size - 100);
    free(bytes);
    cr_assert(!checkpoint_load(cut, &a.model, &err));
    expect_mentions(err.message, cut);
    vit_free(&a);
    vit_free(&wide);
}

Test(checkpoint, refuses_metadata_that_is_missing_or_wrong) {
    Vit m;
    tiny_model(&m, 2, 0.0f, 1);
    SafetensorsMeta meta = {0};
    safetensors_meta_set(&meta, "image_size", "28");
    char path[1024];
    Error err;
    cr_assert(safetensors_write(scratch_path(path, "bare.safetensors"), &m.params, &meta, &err));
    VitConfig cfg;
    HeadOptions head;
    float mean, std;
    cr_assert(!read_config(path, &cfg, &head, &mean, &std, &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "patch_size");
    safetensors_meta_set(&meta, "patch_size", "seven");
    cr_assert(safetensors_write(path, &m.params, &meta, &err));
    cr_assert(!read_config(path, &cfg, &head, &mean, &std, &err));
    expect_mentions(err.message, "seven");
    vit_free(&m);
}

Test(checkpoint, resuming_continues_bitwise) {
    FashionMnist d = fake_data(40, 8);
    Vit straight, first, resumed;
    Trainer ts, tf, tr;
    train_tiny(&straight, &ts, &d, 2, 0.1f);
    // the same run, stopped after one epoch, saved, and resumed in a new model
    tiny_model(&first, 16, 0.1f, 5);
    TrainOptions o = tiny_options(2, 16);
    cr_assert(trainer_build(&tf, &first.model, &d, d.count, &o, NULL));
    trainer_epoch(&tf, NULL);
    char path[1024];
    Error err;
    cr_assert(trainer_save(&tf, scratch_path(path, "run.safetensors"), &err), "%s", err.message);
    tiny_model(&resumed, 16, 0.1f, 99); // other weights, overwritten by the checkpoint
    cr_assert(trainer_build(&tr, &resumed.model, &d, d.count, &o, NULL));
    cr_assert(trainer_resume(&tr, path, &err), "%s", err.message);
    cr_assert_eq(tr.epoch, 1);
    cr_assert_eq(tr.opt.step, 3);
    trainer_epoch(&tr, NULL);
    cr_assert(memcmp(straight.params.memory, resumed.params.memory,
                     sizeof(float) * straight.params.total) == 0,
              "the resumed run differs from the straight one");
    cr_assert(memcmp(ts.opt.m, tr.opt.m, sizeof(float) * 2 * ts.opt.count) == 0);
    Trainer other;
    TrainOptions bigger = tiny_options(2, 8); // another batch size: refused
    Vit m8;
    tiny_model(&m8, 8, 0.1f, 5);
    cr_assert(trainer_build(&other, &m8.model, &d, d.count, &bigger, NULL));
    cr_assert(!trainer_resume(&other, path, &err));
    expect_mentions(err.message, "batches of 16");
    trainer_free(&other);
    vit_free(&m8);
    trainer_free(&ts);
    trainer_free(&tf);
    trainer_free(&tr);
    vit_free(&straight);
    vit_free(&first);
    vit_free(&resumed);
    free_data(&d);
}

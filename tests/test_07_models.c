// test_07_models.c — chapter 07's whole models, the hybrid (src/hybrid.h) and
// the CNN (src/cnn.h): the backward pass against central finite differences
// of the mean cross-entropy (tests/gradcheck.h) for a sample of every
// parameter tensor, without dropout and with fixed dropout masks while
// training; a batch shared by two threads gives the one-thread outputs bit for
// bit and its gradients to float rounding; the same bits on every run; and
// checkpoints: saved and opened again with the right kind and the same
// logits, and files whose metadata describes no such model refused, naming
// the file.
//
// The finite differences. A tensor's sample is its first and last SAMPLE/2
// elements (every element of the smaller ones): the query and value biases
// of in_proj_bias, say, not the key biases, whose gradient is 0 (softmax
// does not see a constant added to a row of scores). Each sample is held to
// its whole tensor's largest gradient (gradcheck_window), not its own, which
// may be small enough for float noise to fill. Through a ResNet the step
// meets ReLU kinks and float rounding (tests/test_07_resnet.c measures both),
// so h = 1e-3 as there, an element passes when
//     |analytic - numeric| <= 2e-2 * (its tensor's largest |gradient|)
// and, with .kinks, also when a one-sided difference from the side that
// crossed no kink agrees. Measured with the seeds here: the largest error is
// 4.9e-3 (the hybrid with dropout), no element needing a one-sided difference.
// Over 40 other seeds, 1 hybrid in 40 and 1 CNN in 5 exceed 2e-2 (up to
// 4.7e-2): a step in one of the root's weights moves thousands of ReLU
// inputs downstream, and for a few elements kinks lie within h on both
// sides; once a CNN channel started dead (a sample of zero gradients). This
// checks the wiring of the whole model, where mistakes give errors of order
// 1 (measured: the tokens' dropout mask left out of the hybrid's backward
// pass, a wrong size in the CNN's pooling backward, each fail here);
// tests/test_07_models_torch.c holds every gradient to PyTorch's to 5e-5.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "adamw.h"
#include "check.h"
#include "checkpoint.h"
#include "cnn.h"
#define GRADCHECK_STEP 1e-3f // see above
#define GRADCHECK_TOL  2e-2
#include "gradcheck.h"
#include "hybrid.h"
#include "owned.h"
#include "scratch.h"
#include "vit.h"

#define SAMPLE 16 // elements checked in each parameter tensor

enum { S = 16, K = 10 };

// 16x16 images of one channel. The hybrid's stem: root 8 (7x7 stride 2) ->
// 8x8, pool -> 4x4, one projected unit of width 4, stride 2 -> (16,2,2): 4
// tokens; its encoder C=16, 2 heads, MLP 32, 2 layers. The CNN's body: the
// same root, a unit of width 4 (stride 1), two of width 8 (stride 2: a
// projection, then an identity) -> (32,2,2). GroupNorm in 2 groups.
static const ResNetConfig hybrid_stem = {S, 1, 8, 7, 2, 2, 1, {1}, {4}, {2}};
static const ResNetConfig cnn_body = {S, 1, 8, 7, 2, 2, 2, {1, 2}, {4, 8}, {1, 2}};
static const VitConfig encoder_shape = {
    .hidden_dim = 16, .mlp_dim = 32, .num_layers = 2, .num_heads = 2, .num_classes = K};

// ---- what the running test owns, freed by its .fini even when it fails -----------

static Hybrid hybrid;
static Cnn cnn;
static Model *opened;

static void release(void) {
    owned_release();
    hybrid_free(&hybrid);
    cnn_free(&cnn);
    if (opened != NULL) opened->kind->close(opened);
    opened = NULL;
    scratch_teardown();
}

TestSuite(models, .init = scratch_setup, .fini = release);

// ---- the models ---------------------------------------------------------------------

// Random, non-trivial values for every parameter: LayerNorm and GroupNorm
// weights about 1 (gn3's too, which resnet_init starts at 0), matrices and
// kernels scaled by 1/sqrt(fan_in), everything else about 0.5 (the heads too,
// which the inits start at 0).
static void randomize(const Tensors *params, Rng *rng) {
    for (int i = 0; i < params->count; i++) {
        const TensorEntry *e = &params->entries[i];
        bool norm = (strstr(e->name, "ln") != NULL || strstr(e->name, "gn") != NULL) &&
                    strstr(e->name, ".weight") != NULL;
        bool matrix = e->ndim >= 2 && strcmp(e->name, "encoder.pos_embedding") != 0;
        float std = matrix ? 1.0f / sqrtf((float)(e->count / e->shape[0])) : 0.5f;
        rng_fill_normal(rng, *e->slot, (int)e->count, norm ? 1.0f : 0.0f, std);
    }
}

static Model *build_hybrid(float dropout, int B, Rng *rng) {
    VitConfig encoder = hybrid_encoder_config(&hybrid_stem, &encoder_shape);
    hybrid_build(&hybrid, &hybrid_stem, &encoder, &(HeadOptions){0}, dropout, B);
    hybrid_init(&hybrid, rng);
    randomize(&hybrid.params, rng);
    return &hybrid.model;
}

static Model *build_cnn(float dropout, int B, Rng *rng) {
    cnn_build(&cnn, &cnn_body, K, dropout, B);
    cnn_init(&cnn, rng);
    randomize(&cnn.params, rng);
    return &cnn.model;
}

// B images (B,1,S,S) from N(0,1).
static float *random_images(Rng *rng, int B) {
    return random_floats(rng, (size_t)B * S * S, 0.0f, 1.0f);
}

// B labels (3b + 1) mod K.
static int *labels_for(int B) {
    int *labels = take(sizeof(int) * B);
    for (int b = 0; b < B; b++) labels[b] = (3 * b + 1) % K;
    return labels;
}

// ---- finite differences ---------------------------------------------------------------

typedef struct {
    Model *m;
    int B;
    bool training;
    Rng dropout_start; // the mask generator before the pass: the same masks every time
    const float *images;
    const int *labels;
} ModelCase;

// The mean cross-entropy with label smoothing s of logits (B,K), in double.
static double mean_cross_entropy(const float *logits, const int *labels, int B, double s) {
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K;
        double max = z[0], sum = 0.0, log_p_sum = 0.0;
        for (int k = 1; k < K; k++) max = fmax(max, z[k]);
        for (int k = 0; k < K; k++) sum += exp(z[k] - max);
        for (int k = 0; k < K; k++) log_p_sum += z[k] - max - log(sum);
        total += -(1 - s) * (z[labels[b]] - max - log(sum)) - s / K * log_p_sum;
    }
    return total / B;
}

static double model_loss(GradCheck *gc) {
    ModelCase *c = gc->ctx;
    *c->m->dropout_rng = c->dropout_start;
    float loss = model_forward(c->m, c->images, c->labels, c->B, 0.1f, c->training);
    double exact = mean_cross_entropy(c->m->logits, c->labels, c->B, 0.1);
    cr_assert(fabs(loss - exact) <= 1e-6 * fmax(1.0, exact), "the forward's loss %.9g, want %.9g",
              loss, exact);
    return exact;
}

static void model_grads(GradCheck *gc) {
    ModelCase *c = gc->ctx;
    model_backward(c->m, c->labels, c->B, 0.1f);
}

// The largest |value| of a tensor (n).
static double largest(const float *x, size_t n) {
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

// Every parameter tensor's sample of m (its first and last SAMPLE/2
// elements, or all of it) against finite differences of its loss, each to
// the scale of its whole tensor's largest gradient, in runs of GRADCHECK_MAX.
static void check_model(Model *m, bool training, Rng *rng, const char *what) {
    enum { B = 3 };
    ModelCase c = {.m = m,
                   .B = B,
                   .training = training,
                   .dropout_start = *m->dropout_rng,
                   .images = random_images(rng, B),
                   .labels = labels_for(B)};
    const Tensors *params = m->params, *grads = m->grads;
    const GradCheck empty = {.loss = model_loss, .backward = model_grads, .kinks = true, .ctx = &c};
    GradCheck gc = empty;
    model_loss(&gc); // every tensor's whole gradient, for its scale
    model_grads(&gc);
    double *scale = take(sizeof(double) * params->count), worst = 0.0;
    for (int i = 0; i < params->count; i++)
        scale[i] = largest(*grads->entries[i].slot, grads->entries[i].count);
    size_t checked = 0, at_kinks = 0;
    for (int i = 0; i < params->count; i++) {
        const TensorEntry *p = &params->entries[i], *g = &grads->entries[i];
        cr_assert_str_eq(p->name, g->name);
        size_t n = p->count <= SAMPLE ? p->count : SAMPLE / 2, last = p->count - n;
        gradcheck_window(&gc, p->name, *p->slot, *g->slot, n, scale[i]);
        if (p->count > SAMPLE)
            gradcheck_window(&gc, p->name, *p->slot + last, *g->slot + last, n, scale[i]);
        checked += p->count > SAMPLE ? 2 * n : n;
        if (gc.count + 2 <= GRADCHECK_MAX && i < params->count - 1) continue;
        gradcheck_run(&gc); // full, or the last tensor
        worst = fmax(worst, gc.worst);
        at_kinks += gc.at_kinks;
        gc = empty;
    }
    cr_log_info("%s: %zu elements of %d tensors, the largest error %.2g of its tensor's largest "
                "gradient; %zu passed by a one-sided difference",
                what, checked, params->count, worst, at_kinks);
}

Test(models, hybrid_backward_equals_finite_differences) {
    omp_set_num_threads(1); // thousands of tiny passes: no threads to wake (this process only)
    Rng rng;
    rng_seed(&rng, 41);
    check_model(build_hybrid(0.0f, 3, &rng), false, &rng, "hybrid");
}

Test(models, cnn_backward_equals_finite_differences) {
    omp_set_num_threads(1);
    Rng rng;
    rng_seed(&rng, 42);
    check_model(build_cnn(0.0f, 3, &rng), false, &rng, "cnn");
}

// Dropout while training, the masks drawn afresh each pass from the same
// generator state: the backward pass applies the forward's masks.
Test(models, hybrid_with_dropout_backward_equals_finite_differences) {
    omp_set_num_threads(1);
    Rng rng;
    rng_seed(&rng, 43);
    check_model(build_hybrid(0.3f, 3, &rng), true, &rng, "hybrid with dropout");
}

Test(models, cnn_with_dropout_backward_equals_finite_differences) {
    omp_set_num_threads(1);
    Rng rng;
    rng_seed(&rng, 44);
    check_model(build_cnn(0.3f, 3, &rng), true, &rng, "cnn with dropout");
}

// ---- threads ------------------------------------------------------------------------

static float *copy_floats(const float *x, size_t n) {
    float *y = floats(n);
    memcpy(y, x, n * sizeof(float));
    return y;
}

// A batch of 5 shared by two threads (2 and 3 images) against one thread on
// all of it, dropout on (its masks are drawn before the batch is shared out):
// the same logits and loss, bit for bit (every layer works image by image or
// row by row, and the products are small enough for matmul's register
// kernel, whose rows do not depend on how many there are); each parameter
// gradient, summed in another order, to 1e-5 of its tensor's largest value.
static void check_slices(Model *(*build)(float, int, Rng *), uint64_t seed) {
    enum { B = 5 };
    omp_set_num_threads(2); // before building: one slice per thread (this process only)
    Rng rng;
    rng_seed(&rng, seed);
    Model *m = build(0.2f, B, &rng);
    cr_assert_eq(m->kind == &hybrid_kind ? hybrid.slices : cnn.slices, 2);
    const float *images = random_images(&rng, B);
    const int *labels = labels_for(B);
    Rng start = *m->dropout_rng;
    float *logits[2], *grads[2], loss[2];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run + 1);
        *m->dropout_rng = start; // the same masks
        loss[run] = model_forward(m, images, labels, B, 0.1f, true);
        model_backward(m, labels, B, 0.1f);
        logits[run] = copy_floats(m->logits, B * K);
        grads[run] = copy_floats(m->grads->memory, m->grads->total);
    }
    expect_floats_equal("logits, 2 threads against 1", logits[1], logits[0], B * K, 0.0);
    cr_expect_eq(loss[1], loss[0], "loss with 2 threads %.9g, with 1 %.9g", loss[1], loss[0]);
    for (int i = 0; i < m->grads->count; i++) {
        const TensorEntry *e = &m->grads->entries[i];
        const float *one = grads[0] + e->offset, *two = grads[1] + e->offset;
        expect_floats_close(e->name, two, one, e->count, 1e-5 * largest(one, e->count), 0.0);
    }
}

Test(models, hybrid_in_two_threads_gives_the_one_thread_results) {
    check_slices(build_hybrid, 51);
}

Test(models, cnn_in_two_threads_gives_the_one_thread_results) {
    check_slices(build_cnn, 52);
}

// Three passes on the same batch with two threads and dropout (the same
// masks): the same bits every time, nothing depending on which thread
// finishes first.
static void check_repeatable(Model *(*build)(float, int, Rng *), uint64_t seed) {
    enum { B = 5 };
    omp_set_num_threads(2);
    Rng rng;
    rng_seed(&rng, seed);
    Model *m = build(0.2f, B, &rng);
    const float *images = random_images(&rng, B);
    const int *labels = labels_for(B);
    Rng start = *m->dropout_rng;
    float *logits = NULL, *grads = NULL;
    for (int pass = 0; pass < 3; pass++) {
        *m->dropout_rng = start;
        model_forward(m, images, labels, B, 0.1f, true);
        model_backward(m, labels, B, 0.1f);
        if (pass == 0) {
            logits = copy_floats(m->logits, B * K);
            grads = copy_floats(m->grads->memory, m->grads->total);
            continue;
        }
        cr_expect(memcmp(logits, m->logits, sizeof(float) * B * K) == 0,
                  "pass %d's logits differ from the first pass's", pass);
        cr_expect(memcmp(grads, m->grads->memory, sizeof(float) * m->grads->total) == 0,
                  "pass %d's gradients differ from the first pass's", pass);
    }
}

Test(models, hybrid_gives_the_same_bits_every_time) {
    check_repeatable(build_hybrid, 53);
}

Test(models, cnn_gives_the_same_bits_every_time) {
    check_repeatable(build_cnn, 54);
}

// ---- checkpoints ----------------------------------------------------------------------

static const ModelKind *const kinds[] = {&vit_kind, &hybrid_kind, &cnn_kind};

// Metadata key of path must be want.
static void expect_meta(const char *path, const char *key, const char *want) {
    SafetensorsMeta meta;
    Error err;
    cr_assert(safetensors_read_meta(path, &meta, &err), "%s", err.message);
    const char *got = safetensors_meta_get(&meta, key);
    cr_assert(got != NULL, "%s: no metadata %s", path, key);
    cr_expect_str_eq(got, want, "%s: metadata %s", path, key);
}

// m (random weights) saved, then opened from the file alone as one of the
// three kinds: kind, the normalisation, the same logits bit for bit; and
// loaded back into m.
static void check_round_trip(Model *m, const ModelKind *kind, Rng *rng, char path[1024]) {
    Error err;
    cr_assert(checkpoint_save(scratch_path(path, "model.safetensors"), m, 0.25f, 0.5f, &err), "%s",
              err.message);
    float mean, std;
    cr_assert(checkpoint_open(path, kinds, 3, 2, 0.0f, &opened, &mean, &std, &err), "%s",
              err.message);
    cr_assert_eq(opened->kind, kind, "opened as a %s", opened->kind->name);
    cr_expect(mean == 0.25f && std == 0.5f, "normalisation %g, %g", mean, std);
    const float *images = random_images(rng, 2);
    model_forward(m, images, NULL, 2, 0.0f, false);
    model_forward(opened, images, NULL, 2, 0.0f, false);
    expect_floats_equal("logits of the opened model", opened->logits, m->logits, 2 * K, 0.0);
    cr_assert(checkpoint_load(path, m, &err), "%s", err.message);
    expect_meta(path, "model", kind->name);
}

// With a pre-logits layer: the most metadata a checkpoint has (33 entries).
Test(models, a_saved_hybrid_opens_as_a_hybrid_with_the_same_logits) {
    Rng rng;
    rng_seed(&rng, 55);
    VitConfig encoder = hybrid_encoder_config(&hybrid_stem, &encoder_shape);
    hybrid_build(&hybrid, &hybrid_stem, &encoder, &(HeadOptions){.pre_logits = true}, 0.0f, 2);
    hybrid_init(&hybrid, &rng);
    randomize(&hybrid.params, &rng);
    char path[1024];
    check_round_trip(&hybrid.model, &hybrid_kind, &rng, path);
    // the encoder under torchvision's names, on the map; the stem under "stem."
    const char *keys[] = {"image_size",       "patch_size",          "in_channels",
                          "hidden_dim",       "representation_size", "pool",
                          "stem.image_size",  "stem.root_width",     "stem.stage1_stride",
                          "stem.stage2_units"};
    const char *values[] = {"2", "1", "16", "16", "16", "cls", "16", "8", "2", "0"};
    for (int i = 0; i < 10; i++) expect_meta(path, keys[i], values[i]);
}

Test(models, a_saved_cnn_opens_as_a_cnn_with_the_same_logits) {
    Rng rng;
    rng_seed(&rng, 56);
    char path[1024];
    check_round_trip(build_cnn(0.0f, 2, &rng), &cnn_kind, &rng, path);
    const char *keys[] = {"num_classes",       "body.in_channels",  "body.groups",
                          "body.stage2_units", "body.stage2_width", "body.stage3_units"};
    const char *values[] = {"10", "1", "2", "2", "8", "0"};
    for (int i = 0; i < 6; i++) expect_meta(path, keys[i], values[i]);
}

// m's weights at path with m's metadata, but key set to value.
static void write_with(const char *path, const Model *m, const char *key, const char *value) {
    SafetensorsMeta meta = {0};
    safetensors_meta_set(&meta, "model", m->kind->name);
    m->kind->describe(m, &meta);
    safetensors_meta_set(&meta, "image_mean", "0.3");
    safetensors_meta_set(&meta, "image_std", "0.3");
    safetensors_meta_set(&meta, key, value);
    Error err;
    cr_assert(safetensors_write(path, m->params, &meta, &err), "%s", err.message);
}

// m's file with key = value must not open; the message names the file and says part.
static void expect_refused(const Model *m, const char *key, const char *value, const char *part) {
    char path[1024];
    write_with(scratch_path(path, "bad.safetensors"), m, key, value);
    Error err = {{0}};
    float mean, std;
    cr_assert_not(checkpoint_open(path, kinds, 3, 2, 0.0f, &opened, &mean, &std, &err),
                  "%s = %s was accepted", key, value);
    expect_mentions(err.message, path);
    expect_mentions(err.message, part);
}

Test(models, a_hybrid_whose_metadata_describes_no_hybrid_is_refused) {
    Rng rng;
    rng_seed(&rng, 57);
    const Model *m = build_hybrid(0.0f, 2, &rng);
    expect_refused(m, "stem.root_kernel", "99", "\"stem.root_kernel\" is \"99\"");
    expect_refused(m, "stem.groups", "3", "the stem: root width 8 is not divisible by 3 groups");
    expect_refused(m, "stem.stage2_units", "1", "stage 2 is past the 1 stages");
    expect_refused(m, "image_size", "3", "not the stem's 2x2 map of 16 channels");
    expect_refused(m, "in_channels", "64", "not the stem's 2x2 map of 16 channels");
    expect_refused(m, "patch_size", "2", "in patches of 2");
    expect_refused(m, "model", "resnet", "\"resnet\", which this program does not know");
}

Test(models, a_cnn_whose_metadata_describes_no_cnn_is_refused) {
    Rng rng;
    rng_seed(&rng, 58);
    const Model *m = build_cnn(0.0f, 2, &rng);
    expect_refused(m, "body.num_stages", "5", "\"body.num_stages\" is \"5\"");
    expect_refused(m, "body.stage1_width", "3", "no CNN: width 3 of stage 1");
    expect_refused(m, "num_classes", "0", "\"num_classes\" is \"0\"");
}

// Metadata of a larger model than the file's weights make is refused by the
// sizes alone, before a model is built (a fuzzer's hybrid of MLP width 32768
// would otherwise be built for every input).
Test(models, metadata_of_more_weights_than_the_file_holds_is_refused_before_building) {
    Rng rng;
    rng_seed(&rng, 60);
    expect_refused(build_hybrid(0.0f, 2, &rng), "mlp_dim", "32768",
                   "the metadata describes a hybrid of");
    const Model *c = build_cnn(0.0f, 2, &rng);
    expect_refused(c, "num_classes", "100000", "the metadata describes a CNN of");
    expect_refused(c, "body.stage2_width", "4096", "bytes of tensor data");
}

// A hybrid's file does not load into a CNN, nor into a hybrid of another shape.
Test(models, a_checkpoint_loads_only_into_a_model_of_its_kind_and_shape) {
    Rng rng;
    rng_seed(&rng, 59);
    Model *h = build_hybrid(0.0f, 2, &rng), *c = build_cnn(0.0f, 2, &rng);
    char path[1024];
    Error err;
    cr_assert(checkpoint_save(scratch_path(path, "hybrid.safetensors"), h, 0.3f, 0.3f, &err));
    cr_assert_not(checkpoint_load(path, c, &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "holds a model of kind \"hybrid\", not \"cnn\"");
    hybrid_free(&hybrid);
    VitConfig wider = hybrid_encoder_config(&hybrid_stem, &encoder_shape);
    wider.hidden_dim = 32;
    hybrid_build(&hybrid, &hybrid_stem, &wider, &(HeadOptions){0}, 0.0f, 2);
    cr_assert_not(checkpoint_load(path, &hybrid.model, &err));
    expect_mentions(err.message, path);
    expect_mentions(err.message, "not the model asked for");
}

// Weight decay reaches the convolutions and the linear layers, not the
// GroupNorms' scales (nor any bias), as it spares the LayerNorms'.
Test(models, weight_decay_spares_the_groupnorms) {
    Rng rng;
    rng_seed(&rng, 7);
    Model *m = build_hybrid(0.0f, 2, &rng);
    AdamW opt;
    adamw_build(&opt, m->params, 0.05f);
    for (int i = 0; i < m->params->count; i++) {
        const TensorEntry *e = &m->params->entries[i];
        bool conv = strstr(e->name, "conv") != NULL && strstr(e->name, ".weight") != NULL;
        bool gn = strstr(e->name, "gn") != NULL;
        if (conv) cr_assert(opt.decays[e->offset], "%s should decay", e->name);
        if (gn) cr_assert(!opt.decays[e->offset], "%s should not decay", e->name);
    }
    adamw_free(&opt);
}

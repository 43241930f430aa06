// test_07_models_torch.c — chapter 07's whole models against PyTorch autograd
// (tests/fixtures/07_hybrid_gradients.bin and 07_cnn_gradients.bin, written by
// tools/reference.py's hybrid_gradients and cnn_gradients): its Hybrid (the
// ResNet module as `stem` in front of torchvision's VisionTransformer, 1x1
// patches) and its Cnn (the ResNet as `body`, the mean of each channel, an
// nn.Linear `head`), run in float64 on 3 images 1x16x16 with random weights
// (the heads and gn3's scales too) and cross-entropy with label smoothing 0.1.
// Every parameter goes into hybrid_build's or cnn_build's model by its
// state_dict name, which must match both ways; then model_forward's logits and
// loss and model_backward's gradient of every parameter must agree.
//
// The hybrid: stem root 8 (7x7 stride 2 -> 8x8, pool -> 4x4), one projected
// unit of width 4, stride 2 -> (16,2,2), 2 groups; encoder C=16, 2 heads, MLP
// 32, 2 layers, 10 classes (4 tokens and the class token). The CNN: the same
// root, stage 1 one unit of width 4, stride 1 (a projection), stage 2 two
// units of width 8, stride 2 (a projection, then an identity) -> (32,2,2);
// 2 groups; 10 classes.
//
// And the other way round: a tiny hybrid and CNN that tools/checkpoint_torch.py
// saved from those PyTorch modules, with the metadata the C programs write
// (tests/fixtures/07_hybrid_tiny.safetensors, 07_cnn_tiny.safetensors), open
// here from the files alone (checkpoint_open) and give PyTorch's logits on the
// first four Fashion-MNIST test images (07_tiny_io.bin).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "check.h"
#include "checkpoint.h"
#include "cnn.h"
#include "fixture.h"
#include "hybrid.h"
#include "vit.h"

// Float rounding against float64, through a ResNet and (in the hybrid) two
// blocks: measured, the largest difference of any value is 5.6e-6 of its
// tensor's largest |value| (the hybrid stem's gn2.weight gradient, the
// smallest gradient of all: 8e-3 at most); the CNN's worst 2.7e-6 (stage 1's
// gn3.weight gradient), the logits' 2.7e-7; the logits of the checkpoints
// PyTorch saved 7.5e-7 (hybrid) and 3.3e-7 (CNN). A value passes when
// |got - want| <= TOL * (its tensor's largest |want|): nine times the
// measured worst.
#define TOL 5e-5

enum { B = 3, S = 16, K = 10 };

static const ResNetConfig hybrid_stem = {S, 1, 8, 7, 2, 2, 1, {1}, {4}, {2}};
static const ResNetConfig cnn_body = {S, 1, 8, 7, 2, 2, 2, {1, 2}, {4, 8}, {1, 2}};

static Fixture f;
static Hybrid hybrid;
static Cnn cnn;
static Model *opened;

static void release(void) {
    fixture_free(&f);
    hybrid_free(&hybrid);
    cnn_free(&cnn);
    if (opened != NULL) opened->kind->close(opened);
    opened = NULL;
}

TestSuite(models_torch, .fini = release);

// got (n) against want (n), to TOL of want's largest |value|; returns the
// largest difference in those units.
static double expect_like(const char *name, const float *got, const float *want, size_t n) {
    double scale = 0.0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    cr_expect(scale > 0.0, "%s: every value is zero; the check would prove nothing", name);
    double worst = diff_floats(got, want, (long)n, 0.0, 0.0).max_diff / fmax(scale, 1e-30);
    cr_log_info("%s: largest difference %.2g of the largest value", name, worst);
    expect_floats_close(name, got, want, n, TOL * scale, 0.0);
    return worst;
}

// Every parameter of m from the fixture tensor of its name and shape; the
// fixture holds exactly those, their gradients, images, labels, logits, loss.
static void load_parameters(Model *m) {
    const Tensors *params = m->params;
    cr_assert_eq(f.count, 2 * params->count + 4,
                 "%s: %d tensors, but the C model has %d parameters (and their gradients, "
                 "images, labels, logits, loss)",
                 f.path, f.count, params->count);
    for (int i = 0; i < params->count; i++) {
        const TensorEntry *e = &params->entries[i];
        memcpy(*e->slot, fixture_get_shaped(&f, e->name, e->ndim, e->shape),
               e->count * sizeof(float));
    }
}

// The forward and backward passes of m (built for the fixture's model)
// against the fixture's logits, loss and every parameter's gradient.
static void check_model(Model *m, const char *what) {
    load_parameters(m);
    const float *images = fixture_get(&f, "images", B, 1, S, S);
    const float *label_values = fixture_get(&f, "labels", B);
    int labels[B];
    for (int b = 0; b < B; b++) labels[b] = (int)label_values[b];
    float loss = model_forward(m, images, labels, B, 0.1f, false);
    model_backward(m, labels, B, 0.1f);
    double worst = expect_like("logits", m->logits, fixture_get(&f, "logits", B, K), B * K);
    worst = fmax(worst, expect_like("loss", &loss, fixture_get(&f, "loss", 1), 1));
    for (int i = 0; i < m->grads->count; i++) {
        const TensorEntry *e = &m->grads->entries[i];
        char name[160];
        snprintf(name, sizeof name, "grad.%s", e->name);
        worst = fmax(worst, expect_like(name, *e->slot,
                                        fixture_get_shaped(&f, name, e->ndim, e->shape), e->count));
    }
    cr_log_info("%s against torch: the largest difference %.2g of its tensor's largest value", what,
                worst);
}

Test(models_torch, hybrid_forward_and_backward_equal_pytorch) {
    VitConfig vit = {
        .hidden_dim = 16, .mlp_dim = 32, .num_layers = 2, .num_heads = 2, .num_classes = K};
    VitConfig encoder = hybrid_encoder_config(&hybrid_stem, &vit);
    fixture_load(&f, "07_hybrid_gradients.bin");
    hybrid_build(&hybrid, &hybrid_stem, &encoder, &(HeadOptions){0}, 0.0f, B);
    check_model(&hybrid.model, "hybrid");
}

Test(models_torch, cnn_forward_and_backward_equal_pytorch) {
    fixture_load(&f, "07_cnn_gradients.bin");
    cnn_build(&cnn, &cnn_body, K, 0.0f, B);
    check_model(&cnn.model, "cnn");
}

// ---- checkpoints PyTorch wrote ------------------------------------------------------

// FIXTURE_DIR/file opens as kind, normalised as Fashion-MNIST, and gives the
// logits of 07_tiny_io.bin under "<kind>.logits" on its images.
static void check_checkpoint(const char *file, const ModelKind *kind) {
    enum { N = 4, S28 = 28 };
    char path[1024], name[64];
    snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, file);
    const ModelKind *kinds[] = {&vit_kind, &hybrid_kind, &cnn_kind};
    float mean, std;
    Error err;
    cr_assert(checkpoint_open(path, kinds, 3, N, 0.0f, &opened, &mean, &std, &err), "%s",
              err.message);
    cr_assert_eq(opened->kind, kind, "%s opened as a %s", path, opened->kind->name);
    cr_expect(mean == 0.2860f && std == 0.3530f, "normalisation %g, %g", mean, std);
    fixture_load(&f, "07_tiny_io.bin");
    model_forward(opened, fixture_get(&f, "images", N, 1, S28, S28), NULL, N, 0.0f, false);
    snprintf(name, sizeof name, "%s.logits", kind->name);
    expect_like(name, opened->logits, fixture_get(&f, name, N, K), N * K);
}

Test(models_torch, a_hybrid_pytorch_saved_gives_its_logits) {
    check_checkpoint("07_hybrid_tiny.safetensors", &hybrid_kind);
}

Test(models_torch, a_cnn_pytorch_saved_gives_its_logits) {
    check_checkpoint("07_cnn_tiny.safetensors", &cnn_kind);
}

// test_06_gradients_torch.c — the whole model against PyTorch autograd
// (tests/fixtures/06_gradients*.bin, written by tools/reference.py):
// torchvision's VisionTransformer with a one-channel conv_proj, 3 images
// 1x28x28, P=7, C=16, 2 heads, MLP 32, 2 blocks, 10 classes, random weights
// (the head too) and cross-entropy with label smoothing 0.1, run in float64.
// The parameters go into a Vit by their torchvision names, which must match
// both ways; then the logits, the loss, the gradient of every parameter and
// the gradient of the images must agree. Once with the class token and the
// single linear head, once with mean pooling and the tanh pre-logits layer.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "fixture.h"
#include "vit.h"

enum { B = 3, Cin = 1, S = 28, K = 10 };

// Float rounding through two blocks, against float64: measured, the largest
// difference of any value is 1.2e-6 of its tensor's largest |value| (the
// first block's in_proj_weight gradient), most are a few 1e-7. A value passes
// when |got - want| <= TOL * (largest |want| of its tensor): eight times the
// measured worst, and far below what any wrong term in a backward pass gives.
#define TOL 1e-5

static Fixture f;
static Vit vit;
static float *dimages;

static void unload(void) {
    fixture_free(&f);
    vit_free(&vit);
    free(dimages);
    dimages = NULL;
}

TestSuite(gradients_torch, .fini = unload);

static bool is_data(const char *name) {
    return strcmp(name, "images") == 0 || strcmp(name, "labels") == 0 ||
           strcmp(name, "logits") == 0 || strcmp(name, "loss") == 0 ||
           strncmp(name, "grad.", 5) == 0;
}

static bool same_shape(const TensorEntry *e, const FixtureTensor *t) {
    bool same = e->ndim == t->ndim;
    for (int d = 0; same && d < e->ndim; d++) same = e->shape[d] == t->shape[d];
    return same;
}

// Every parameter of vit from the fixture tensor of the same name, and a
// "grad.<name>" for each; no fixture tensor left over.
static void load_parameters(void) {
    int parameters = 0, gradients = 0;
    for (int i = 0; i < f.count; i++) {
        const char *name = f.tensors[i].name;
        if (strncmp(name, "grad.", 5) == 0 && strcmp(name, "grad.images") != 0) {
            cr_assert_not_null(tensors_find(&vit.params, name + 5),
                               "%s: %s is the gradient of no parameter of the C model", f.path,
                               name);
            gradients++;
        } else if (!is_data(name)) {
            cr_assert_not_null(tensors_find(&vit.params, name),
                               "%s: %s is no parameter of the C model", f.path, name);
            parameters++;
        }
    }
    cr_assert_eq(parameters, vit.params.count, "%s: %d parameters, the C model has %d", f.path,
                 parameters, vit.params.count);
    cr_assert_eq(gradients, vit.params.count);
    for (int i = 0; i < vit.params.count; i++) {
        const TensorEntry *e = &vit.params.entries[i];
        const FixtureTensor *t = fixture_find(&f, e->name);
        cr_assert(t != NULL && same_shape(e, t), "%s: no tensor %s of the C model's shape", f.path,
                  e->name);
        memcpy(*e->slot, t->data, e->count * sizeof(float));
    }
}

// Appends name to the list of mismatches bad (size) if got (n) is off want (n).
static void compare(char *bad, size_t size, const char *name, const float *got, const float *want,
                    size_t n) {
    double scale = 0.0, largest = 0.0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) largest = fmax(largest, fabs((double)got[i] - want[i]));
    largest /= fmax(scale, 1e-30); // in units of the largest value; NaN stays NaN
    cr_log_info("%s: largest difference %.2g of the largest value", name, largest);
    if (largest <= TOL) return;
    size_t used = strlen(bad);
    snprintf(bad + used, size - used, "\n  %s (largest difference %.2g of the largest value)", name,
             largest);
}

static void check_model(const char *file, HeadOptions head) {
    VitConfig cfg = {.image_size = S,
                     .patch_size = 7,
                     .in_channels = Cin,
                     .hidden_dim = 16,
                     .mlp_dim = 32,
                     .num_layers = 2,
                     .num_heads = 2,
                     .num_classes = K};
    fixture_load(&f, file);
    vit_build(&vit, &cfg, &head, 0.0f, B);
    load_parameters();
    const float *images = fixture_get(&f, "images", B, Cin, S, S);
    const float *label_values = fixture_get(&f, "labels", B);
    int labels[B];
    for (int b = 0; b < B; b++) labels[b] = (int)label_values[b];

    float loss = vit_forward(&vit, images, labels, B, 0.1f, false);
    vit_backward(&vit, labels, B, 0.1f);
    size_t n_images = (size_t)B * Cin * S * S;
    dimages = calloc(n_images, sizeof(float));
    encoder_backward(NULL, &vit.da, dimages, vit.da.out, &vit.a, &vit.w, &cfg, B);

    char bad[8192] = "";
    compare(bad, sizeof bad, "logits", vit.ha.logits, fixture_get(&f, "logits", B, K), B * K);
    compare(bad, sizeof bad, "loss", &loss, fixture_get(&f, "loss", 1), 1);
    for (int i = 0; i < vit.grads.count; i++) {
        const TensorEntry *e = &vit.grads.entries[i];
        char name[160];
        snprintf(name, sizeof name, "grad.%s", e->name);
        const FixtureTensor *want = fixture_find(&f, name);
        compare(bad, sizeof bad, name, *e->slot, want->data, e->count);
    }
    compare(bad, sizeof bad, "grad.images", dimages, fixture_get(&f, "grad.images", B, Cin, S, S),
            n_images);
    cr_expect(bad[0] == '\0',
              "%s: these differ from PyTorch by more than %g of their largest value:%s", f.path,
              TOL, bad);
}

Test(gradients_torch, class_token_and_linear_head) {
    check_model("06_gradients.bin", (HeadOptions){0});
}

Test(gradients_torch, mean_pool_and_pre_logits) {
    check_model("06_gradients_mean_pre_logits.bin",
                (HeadOptions){.mean_pool = true, .pre_logits = true});
}

// test_12_mpp_torch.c — masked patch prediction against PyTorch autograd
// (tests/fixtures/12_masked_patch.bin, tools/reference.py's masked_patch): a
// tiny ViT (3 images 1x28x28, P=7, C=16, 2 heads, MLP 32, 2 blocks) with a
// [mask] embedding and a linear head to 8 levels, a fixed corruption pattern
// (every kind in every image). The parameters go in by their names, which
// must match both ways; then the targets (computed here from the normalised
// images), the logits of the corrupted patches, the loss, and the gradient
// of every parameter — the mask token, the head, the patch projection among
// them — must agree.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "check.h"
#include "fixture.h"
#include "mpp.h"
#include "mpp_vit.h"

enum { B = 3, S = 28, N = 16 };

// As test_06_gradients_torch.c (float rounding through two blocks against
// float64, a few 1e-7 of a tensor's largest value; measured here: see the log).
#define TOL 1e-5

static Fixture f;
static MppVit mpp;

static void unload(void) {
    fixture_free(&f);
    mpp_vit_free(&mpp);
}

TestSuite(mpp_torch, .fini = unload);

static bool is_data(const char *name) {
    static const char *const data[] = {"images",  "normalization", "fate", "source",
                                       "targets", "logits",        "loss"};
    for (size_t i = 0; i < sizeof data / sizeof data[0]; i++)
        if (strcmp(name, data[i]) == 0) return true;
    return strncmp(name, "grad.", 5) == 0;
}

// Every parameter from the fixture tensor of the same name; none left over.
static void load_parameters(void) {
    int parameters = 0;
    for (int i = 0; i < f.count; i++) {
        if (is_data(f.tensors[i].name)) continue;
        cr_assert_not_null(tensors_find(&mpp.params, f.tensors[i].name),
                           "%s: %s is no parameter of the C model", f.path, f.tensors[i].name);
        parameters++;
    }
    cr_assert_eq(parameters, mpp.params.count, "%s: %d parameters, the C model has %d", f.path,
                 parameters, mpp.params.count);
    for (int i = 0; i < mpp.params.count; i++) {
        const TensorEntry *e = &mpp.params.entries[i];
        const FixtureTensor *t = fixture_find(&f, e->name);
        cr_assert(t != NULL && t->count == e->count, "%s: no tensor %s of %zu values", f.path,
                  e->name, e->count);
        memcpy(*e->slot, t->data, e->count * sizeof(float));
    }
}

// Appends name to bad (size) if got (n) is off want (n) by more than TOL of want's largest.
static void compare(char *bad, size_t size, const char *name, const float *got, const float *want,
                    size_t n) {
    double scale = 0.0, largest = 0.0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (size_t i = 0; i < n; i++) largest = fmax(largest, fabs((double)got[i] - want[i]));
    largest /= fmax(scale, 1e-30);
    cr_log_info("%s: largest difference %.2g of the largest value", name, largest);
    if (largest <= TOL) return;
    size_t used = strlen(bad);
    snprintf(bad + used, size - used, "\n  %s (largest difference %.2g)", name, largest);
}

Test(mpp_torch, loss_logits_and_every_gradient) {
    fixture_load(&f, "12_masked_patch.bin");
    const float *norm = fixture_get(&f, "normalization", 2);
    VitConfig cfg = {.image_size = S,
                     .patch_size = 7,
                     .in_channels = 1,
                     .hidden_dim = 16,
                     .mlp_dim = 32,
                     .num_layers = 2,
                     .num_heads = 2};
    mpp_vit_build(&mpp, &cfg, norm[0], norm[1], B);
    load_parameters();
    const float *fate = fixture_get(&f, "fate", B, N), *source = fixture_get(&f, "source", B, N);
    for (int i = 0; i < B * N; i++) mpp.fate[i] = (uint8_t)fate[i], mpp.source[i] = (int)source[i];
    const float *images = fixture_get(&f, "images", B, 1, S, S);
    float loss = mpp_vit_forward(&mpp, images, B, NULL);
    mpp_vit_backward(&mpp, B);

    const float *want_targets = fixture_get(&f, "targets", B, N);
    int targets[B * N];
    for (int i = 0; i < B * N; i++) targets[i] = (int)want_targets[i];
    expect_ints_equal("targets", mpp.targets, targets, B * N);
    cr_assert_eq(mpp.R, B * N / 2);
    char bad[8192] = "";
    compare(bad, sizeof bad, "logits", mpp.logits, fixture_get(&f, "logits", mpp.R, 8),
            (size_t)mpp.R * 8);
    compare(bad, sizeof bad, "loss", &loss, fixture_get(&f, "loss", 1), 1);
    for (int i = 0; i < mpp.grads.count; i++) {
        const TensorEntry *e = &mpp.grads.entries[i];
        char name[160];
        snprintf(name, sizeof name, "grad.%s", e->name);
        const FixtureTensor *want = fixture_find(&f, name);
        cr_assert_not_null(want, "%s: no %s", f.path, name);
        compare(bad, sizeof bad, name, *e->slot, want->data, e->count);
    }
    cr_expect(bad[0] == '\0', "%s: these differ from PyTorch by more than %g of their largest:%s",
              f.path, TOL, bad);
}

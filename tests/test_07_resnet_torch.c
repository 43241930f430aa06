// test_07_resnet_torch.c — the whole ResNet of src/resnet.h against a PyTorch
// module built from torch's own nn.Conv2d (its weight standardised by the
// paper's formula in torch ops), nn.GroupNorm (eps 1e-6), F.relu and
// F.max_pool2d (tests/fixtures/07_resnet.bin, written by tools/reference.py's
// resnet_whole). Its state_dict's names are the names resnet_params_add gives,
// so every parameter is loaded by name; then the output feature map and the
// gradient of sum(out * dout) for every parameter and for the images must
// agree. torch ran in float64 on the float32 values stored.
//
// The configuration: 2 images 2x12x12; root 8 channels, 7x7 stride 2 -> 6x6,
// pool -> 3x3; stage 1: one unit of width 4, stride 1 (a projection, 8 -> 16
// channels); stage 2: two units of width 8, stride 2 (a projection, then an
// identity shortcut) -> (32,2,2); 4 groups. Weights random (gn3's scale too).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "check.h"
#include "error.h"
#include "fixture.h"
#include "resnet.h"

// Float rounding against float64, behind up to twenty layers: measured, the
// largest difference of any value is 2.8e-6 of its tensor's largest |value|
// (stage 1's gn2.bias gradient; the output's 5.3e-7, the images' 1.2e-6). A
// value passes when |got - want| <= TOL * (its tensor's largest |want|): seven
// times the measured worst, far below what a wrong term gives (1e-3 of the
// scale and more).
#define TOL 2e-5

static const ResNetConfig cfg = {12, 2, 8, 7, 2, 4, 2, {1, 2}, {4, 8}, {1, 2}};
enum { B = 2 };

static Fixture f;
static Tensors params, grads, acts, dacts;
static float *scratch, *dimages;

static void release(void) {
    fixture_free(&f);
    Tensors *lists[] = {&params, &grads, &acts, &dacts};
    for (int i = 0; i < 4; i++) tensors_free(lists[i]);
    free(scratch);
    free(dimages);
}

TestSuite(resnet_torch, .fini = release);

static double expect_like(const char *name, const float *got, const float *want, size_t n) {
    double scale = 0.0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    cr_expect(scale > 0.0, "%s: every value is zero; the check would prove nothing", name);
    double worst = diff_floats(got, want, (long)n, 0.0, 0.0).max_diff / fmax(scale, 1e-30);
    cr_log_info("%s: largest difference %.2g of the largest value", name, worst);
    expect_floats_close(name, got, want, n, TOL * scale, 0.0);
    return worst;
}

Test(resnet_torch, forward_and_backward_equal_the_pytorch_module) {
    ResNetWeights w, g;
    ResNetActivations a, da;
    fixture_load(&f, "07_resnet.bin");
    Tensors *lists[] = {&params, &grads, &acts, &dacts};
    for (int i = 0; i < 4; i++) tensors_init(lists[i]);
    resnet_params_add(&params, &w, &cfg, "resnet");
    resnet_params_add(&grads, &g, &cfg, "resnet");
    resnet_acts_add(&acts, &a, &cfg, B);
    resnet_acts_add(&dacts, &da, &cfg, B);
    for (int i = 0; i < 4; i++) tensors_alloc(lists[i]);
    scratch = xcalloc(resnet_scratch_floats(&cfg), sizeof(float));
    // every parameter by its name, in the shape the list gives it
    cr_assert_eq(f.count, 2 * params.count + 4, "the fixture holds other tensors than expected");
    for (int i = 0; i < params.count; i++) {
        const TensorEntry *e = &params.entries[i];
        memcpy(*e->slot, fixture_get_shaped(&f, e->name, e->ndim, e->shape),
               e->count * sizeof(float));
    }
    int S = cfg.image_size, C = resnet_out_channels(&cfg), side = resnet_out_side(&cfg);
    size_t pixels = (size_t)B * cfg.in_channels * S * S, n_out = (size_t)B * C * side * side;
    const float *x = fixture_get(&f, "x", B, cfg.in_channels, S, S);
    resnet_forward(&a, &w, &cfg, B, x, scratch);
    double worst =
        expect_like("out", resnet_out(&a, &cfg), fixture_get(&f, "out", B, C, side, side), n_out);

    dimages = xcalloc(pixels, sizeof(float));
    const float *dout = fixture_get(&f, "dout", B, C, side, side);
    resnet_backward(&g, &da, dimages, dout, &a, &w, &cfg, B, scratch);
    worst = fmax(worst, expect_like("grad.x", dimages,
                                    fixture_get(&f, "grad.x", B, cfg.in_channels, S, S), pixels));
    for (int i = 0; i < grads.count; i++) {
        const TensorEntry *e = &grads.entries[i];
        char name[160];
        snprintf(name, sizeof name, "grad.%s", e->name);
        worst = fmax(worst, expect_like(name, *e->slot,
                                        fixture_get_shaped(&f, name, e->ndim, e->shape), e->count));
    }
    cr_log_info("resnet against torch: the largest difference %.2g of its tensor's largest value",
                worst);
}

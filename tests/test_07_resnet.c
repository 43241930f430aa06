// test_07_resnet.c — the ResNet of src/resnet.h: the whole backward pass
// (every parameter and the images) against central finite differences of the
// forward pass (tests/gradcheck.h) on a tiny configuration with both kinds of
// shortcut; the parameter list against resnet_param_count, its names unique;
// the suggested configurations' sizes and costs; the checks on a
// configuration; the paper's initialisation, under which every unit starts as
// ReLU(shortcut); and threads running slices of a batch at once.
//
// Finite differences through a whole ResNet meet two troubles the single
// layers do not: hundreds of ReLU inputs, some of which a step of h carries
// across 0 (no derivative there), and float rounding that GroupNorm on small
// groups and weight standardisation on few weights amplify. Measured on this
// tiny net: with gradcheck.h's h = 1e-2, kinks crossed give errors of 2-7% of
// a tensor's largest gradient; with h = 5e-4, rounding gives 1%; h = 1e-3 is
// the best between them: 4.4e-3 at worst with seed 7, and up to 1.3e-2 with
// seeds 8-10 (a kink or two). So here h = 1e-3 and the tolerance is 2e-2 of
// each tensor's largest gradient: this check is of the wiring (a gradient sent
// to the wrong tensor, a shortcut's gradient left out, a stride or a size
// wrong: errors of order 1), while tests/test_07_layers.c holds each layer's
// mathematics to 5e-3 and tests/test_07_resnet_torch.c holds this whole
// backward pass to PyTorch's.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "check.h"
#include "error.h"
#define GRADCHECK_STEP 1e-3f // see above
#define GRADCHECK_TOL  2e-2
#include "gradcheck.h"
#include "resnet.h"
#include "rng.h"

// 8x8 images of 2 channels; root 4 (3x3, stride 1) -> 8x8, pool -> 4x4; stage 1:
// one unit of width 4, stride 1 (a projection: 4 -> 16 channels); stage 2: two
// units of width 4, stride 2 (a projection, then an identity shortcut) -> (16,2,2).
// Every convolution has at least 4 weights an output channel: with 2, weight
// standardisation makes them ±1 whatever they are, and their gradient 0.
static const ResNetConfig tiny = {8, 2, 4, 3, 1, 2, 2, {1, 2}, {4, 4}, {1, 2}};

typedef struct {
    ResNetConfig cfg;
    int B;
    Tensors params, grads, acts, dacts;
    ResNetWeights w, g;
    ResNetActivations a, da;
    float *images, *dimages, *r, *scratch; // r: dout, (B,Cout,side,side)
} Net;

static Net net;

static void net_free(void) {
    Tensors *lists[] = {&net.params, &net.grads, &net.acts, &net.dacts};
    for (int i = 0; i < 4; i++) tensors_free(lists[i]);
    free(net.images);
    free(net.dimages);
    free(net.r);
    free(net.scratch);
    memset(&net, 0, sizeof net);
}

TestSuite(resnet, .fini = net_free);

static size_t out_count(const Net *n) {
    int side = resnet_out_side(&n->cfg);
    return (size_t)n->B * resnet_out_channels(&n->cfg) * side * side;
}

static void net_build(const ResNetConfig *cfg, int B) {
    net.cfg = *cfg;
    net.B = B;
    Tensors *lists[] = {&net.params, &net.grads, &net.acts, &net.dacts};
    for (int i = 0; i < 4; i++) tensors_init(lists[i]);
    resnet_params_add(&net.params, &net.w, cfg, "stem");
    resnet_params_add(&net.grads, &net.g, cfg, "stem");
    resnet_acts_add(&net.acts, &net.a, cfg, B);
    resnet_acts_add(&net.dacts, &net.da, cfg, B);
    for (int i = 0; i < 4; i++) tensors_alloc(lists[i]);
    size_t pixels = (size_t)B * cfg->in_channels * cfg->image_size * cfg->image_size;
    net.images = xcalloc(pixels, sizeof(float));
    net.dimages = xcalloc(pixels, sizeof(float));
    net.r = xcalloc(out_count(&net), sizeof(float));
    net.scratch = xcalloc(resnet_scratch_floats(cfg), sizeof(float));
}

// Random weights nobody could guess: convolutions N(0,1), GroupNorm scales
// around 1 and shifts around 0 (gn3's too, which the paper starts at 0).
static void net_randomize(Rng *rng) {
    for (int i = 0; i < net.params.count; i++) {
        const TensorEntry *e = &net.params.entries[i];
        bool scale = strstr(e->name, "gn") != NULL && strstr(e->name, ".weight") != NULL;
        bool shift = strstr(e->name, ".bias") != NULL;
        rng_fill_normal(rng, *e->slot, (int)e->count, scale ? 1.0f : 0.0f,
                        scale || shift ? 0.5f : 1.0f);
    }
}

static double net_loss(GradCheck *gc) {
    (void)gc;
    resnet_forward(&net.a, &net.w, &net.cfg, net.B, net.images, net.scratch);
    return gradcheck_dot(resnet_out(&net.a, &net.cfg), net.r, out_count(&net));
}

static void net_grads(GradCheck *gc) {
    (void)gc;
    resnet_backward(&net.g, &net.da, net.dimages, net.r, &net.a, &net.w, &net.cfg, net.B,
                    net.scratch);
}

Test(resnet, backward_equals_finite_differences_for_every_parameter_and_the_images) {
    Rng rng;
    rng_seed(&rng, 7);
    net_build(&tiny, 2);
    net_randomize(&rng);
    size_t pixels = (size_t)net.B * tiny.in_channels * tiny.image_size * tiny.image_size;
    rng_fill_normal(&rng, net.images, (int)pixels, 0.0f, 1.0f);
    rng_fill_normal(&rng, net.r, (int)out_count(&net), 0.0f, 1.0f);
    // gradcheck.h takes up to GRADCHECK_MAX tensors a run: the images, then the
    // parameters in runs of GRADCHECK_MAX
    GradCheck first = {.loss = net_loss, .backward = net_grads, .accumulates = true};
    gradcheck_tensor(&first, "images", net.images, net.dimages, pixels);
    gradcheck_run(&first);
    double worst = first.worst;
    for (int i0 = 0; i0 < net.params.count; i0 += GRADCHECK_MAX) {
        GradCheck gc = {.loss = net_loss, .backward = net_grads, .accumulates = true};
        for (int i = i0; i < net.params.count && i < i0 + GRADCHECK_MAX; i++) {
            const TensorEntry *p = &net.params.entries[i], *d = &net.grads.entries[i];
            gradcheck_tensor(&gc, p->name, *p->slot, *d->slot, p->count);
        }
        gradcheck_run(&gc);
        worst = fmax(worst, gc.worst);
    }
    cr_log_info("resnet: the largest error of any tensor %.2g of its scale", worst);
}

// dout may be the output's own gradient tensor in dacts (as a model's head
// leaves it there): the same gradients.
Test(resnet, dout_may_live_in_dacts) {
    Rng rng;
    rng_seed(&rng, 3);
    net_build(&tiny, 3);
    net_randomize(&rng);
    size_t pixels = (size_t)net.B * tiny.in_channels * tiny.image_size * tiny.image_size;
    rng_fill_normal(&rng, net.images, (int)pixels, 0.0f, 1.0f);
    rng_fill_normal(&rng, net.r, (int)out_count(&net), 0.0f, 1.0f);
    resnet_forward(&net.a, &net.w, &net.cfg, net.B, net.images, net.scratch);
    net_grads(NULL);
    float *want = xcalloc(net.grads.total, sizeof(float));
    memcpy(want, net.grads.memory, net.grads.total * sizeof(float));
    memset(net.grads.memory, 0, net.grads.total * sizeof(float));
    float *dout = resnet_out(&net.da, &net.cfg);
    memcpy(dout, net.r, out_count(&net) * sizeof(float));
    resnet_backward(&net.g, &net.da, NULL, dout, &net.a, &net.w, &net.cfg, net.B, net.scratch);
    expect_floats_equal("grads", net.grads.memory, want, net.grads.total, 0.0);
    free(want);
}

// ---- the lists and the sizes -----------------------------------------------------------------

static void check_list(const ResNetConfig *cfg) {
    Tensors t;
    ResNetWeights w;
    tensors_init(&t);
    resnet_params_add(&t, &w, cfg, NULL);
    cr_expect_eq((long long)t.total, resnet_param_count(cfg), "listed %zu, counted %lld", t.total,
                 resnet_param_count(cfg));
    for (int i = 0; i < t.count; i++)
        cr_expect_eq(tensors_find(&t, t.entries[i].name), &t.entries[i], "%s is listed twice",
                     t.entries[i].name);
    cr_expect_str_eq(t.entries[0].name, "root.conv.weight");
    tensors_free(&t);
}

Test(resnet, the_list_holds_resnet_param_count_parameters_under_unique_names) {
    check_list(&tiny);
    check_list(&resnet_hybrid_stem);
    check_list(&resnet_cnn_body);
    ResNetConfig r50 = {224, 3, 64, 7, 2, 32, 3, {3, 4, 9}, {64, 128, 256}, {1, 2, 2}};
    check_list(&r50); // the paper's R50 hybrid stem
}

Test(resnet, names_follow_the_pytorch_module) {
    Tensors t;
    ResNetWeights w;
    tensors_init(&t);
    resnet_params_add(&t, &w, &tiny, "stem");
    const char *names[] = {"stem.root.conv.weight",
                           "stem.root.gn.weight",
                           "stem.root.gn.bias",
                           "stem.stages.0.units.0.conv1.weight",
                           "stem.stages.0.units.0.gn3.bias",
                           "stem.stages.0.units.0.proj.conv.weight",
                           "stem.stages.0.units.0.proj.gn.bias",
                           "stem.stages.1.units.1.conv2.weight"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_expect_not_null(tensors_find(&t, names[i]), "no %s", names[i]);
    cr_expect_null(tensors_find(&t, "stem.stages.1.units.1.proj.conv.weight"),
                   "an identity shortcut has no projection");
    const TensorEntry *e = tensors_find(&t, "stem.stages.1.units.0.conv2.weight");
    cr_assert_not_null(e);
    cr_expect(e->ndim == 4 && e->shape[0] == 4 && e->shape[1] == 4 && e->shape[2] == 3);
    tensors_free(&t);
}

// The numbers docs and resnet.h quote for the suggested configurations.
Test(resnet, suggested_configurations_have_the_quoted_sizes_and_costs) {
    const ResNetConfig *h = &resnet_hybrid_stem, *c = &resnet_cnn_body;
    cr_assert(resnet_config_check(h, NULL) && resnet_config_check(c, NULL));
    cr_expect_eq(resnet_root_side(h), 14);
    cr_expect_eq(resnet_pool_side(h), 7);
    cr_expect_eq(resnet_out_channels(h), 64);
    cr_expect_eq(resnet_out_side(h), 4);
    cr_expect_eq(resnet_param_count(h), 5744);
    cr_expect_eq(resnet_forward_flops(h), 471680.0);
    cr_expect_eq(resnet_out_channels(c), 256);
    cr_expect_eq(resnet_out_side(c), 2);
    cr_expect_eq(resnet_param_count(c), 218160);
    cr_expect_eq(resnet_param_count(c) + 256 * 10 + 10, 220730); // + a 10-class linear head
    cr_expect_eq(resnet_forward_flops(c) + 2 * 256 * 10, 4143744.0);
}

Test(resnet, config_check_says_what_is_wrong) {
    Error err;
    ResNetConfig c = tiny;
    cr_expect(resnet_config_check(&c, &err), "%s", err.message);
    c.groups = 3;
    cr_expect_not(resnet_config_check(&c, &err));
    cr_expect(strstr(err.message, "groups") != NULL, "%s", err.message);
    c = tiny;
    c.root_kernel = 4;
    cr_expect_not(resnet_config_check(&c, &err));
    cr_expect(strstr(err.message, "odd") != NULL, "%s", err.message);
    c = tiny;
    c.units[2] = 1; // past num_stages
    cr_expect_not(resnet_config_check(&c, &err));
    c = tiny;
    c.units[1] = 0;
    cr_expect_not(resnet_config_check(&c, &err));
    c = tiny;
    c.units[0] = 15; // 17 units
    cr_expect_not(resnet_config_check(&c, &err));
    cr_expect(strstr(err.message, "units") != NULL, "%s", err.message);
    c = tiny;
    c.stride[0] = 5;
    cr_expect_not(resnet_config_check(&c, &err));
    cr_expect(strstr(err.message, "stride of stage 1") != NULL, "%s", err.message);
}

// With gn3's scale at 0 the branch is the constant gn3 bias (0): every unit
// starts as ReLU(shortcut), as the paper's code intends.
Test(resnet, at_initialisation_every_unit_is_relu_of_its_shortcut) {
    Rng rng;
    rng_seed(&rng, 11);
    net_build(&tiny, 2);
    resnet_init(&net.w, &net.cfg, &rng);
    size_t pixels = (size_t)net.B * tiny.in_channels * tiny.image_size * tiny.image_size;
    rng_fill_normal(&rng, net.images, (int)pixels, 0.0f, 1.0f);
    resnet_forward(&net.a, &net.w, &net.cfg, net.B, net.images, net.scratch);
    for (int u = 0; u < resnet_total_units(&net.cfg); u++) {
        ResNetUnitShape sh = resnet_unit_shape(&net.cfg, u);
        const ResNetUnitActivations *a = &net.a.unit[u];
        const float *shortcut = sh.proj ? a->proj : net.a.unit[u - 1].out;
        size_t n = (size_t)net.B * 4 * sh.w * sh.Ho * sh.Ho;
        float *want = xcalloc(n, sizeof(float));
        for (size_t i = 0; i < n; i++) want[i] = fmaxf(shortcut[i], 0.0f);
        expect_floats_equal("unit out", a->out, want, n, 0.0);
        free(want);
    }
    cr_expect(!resnet_unit_shape(&net.cfg, 2).proj && resnet_unit_shape(&net.cfg, 1).proj);
}

// Threads, each on its own slice of the batch with its own activations and
// scratch, as a model runs it: the same output bits as the whole batch at once
// (every layer works image by image), and parameter gradients that add up to
// the whole batch's (to float rounding of the different order of the sums).
Test(resnet, slices_of_a_batch_in_threads_give_the_whole_batch) {
    enum { Bw = 4, halves = 2 };
    Rng rng;
    rng_seed(&rng, 5);
    net_build(&tiny, Bw);
    net_randomize(&rng);
    size_t image = (size_t)tiny.in_channels * tiny.image_size * tiny.image_size;
    size_t per_out = out_count(&net) / Bw;
    rng_fill_normal(&rng, net.images, (int)(Bw * image), 0.0f, 1.0f);
    rng_fill_normal(&rng, net.r, (int)out_count(&net), 0.0f, 1.0f);
    resnet_forward(&net.a, &net.w, &net.cfg, Bw, net.images, net.scratch);
    net_grads(NULL);
    Tensors acts[halves], dacts[halves], grads[halves];
    ResNetActivations a[halves], da[halves];
    ResNetWeights g[halves];
    float *scratch[halves];
    for (int h = 0; h < halves; h++) {
        tensors_init(&acts[h]);
        tensors_init(&dacts[h]);
        tensors_init(&grads[h]);
        resnet_acts_add(&acts[h], &a[h], &tiny, Bw / halves);
        resnet_acts_add(&dacts[h], &da[h], &tiny, Bw / halves);
        resnet_params_add(&grads[h], &g[h], &tiny, NULL);
        tensors_alloc(&acts[h]);
        tensors_alloc(&dacts[h]);
        tensors_alloc(&grads[h]);
        scratch[h] = xcalloc(resnet_scratch_floats(&tiny), sizeof(float));
    }
#pragma omp parallel for num_threads(halves)
    for (int h = 0; h < halves; h++) {
        int b0 = h * Bw / halves, Bs = Bw / halves;
        resnet_forward(&a[h], &net.w, &tiny, Bs, net.images + b0 * image, scratch[h]);
        resnet_backward(&g[h], &da[h], NULL, net.r + b0 * per_out, &a[h], &net.w, &tiny, Bs,
                        scratch[h]);
    }
    double scale = 0.0;
    for (size_t i = 0; i < net.grads.total; i++) scale = fmax(scale, fabs(net.grads.memory[i]));
    float *sum = xcalloc(net.grads.total, sizeof(float));
    for (int h = 0; h < halves; h++) {
        const float *whole = resnet_out(&net.a, &tiny) + h * (Bw / halves) * per_out;
        expect_floats_equal("a half's output", resnet_out(&a[h], &tiny), whole,
                            (Bw / halves) * per_out, 0.0);
        for (size_t i = 0; i < net.grads.total; i++) sum[i] += grads[h].memory[i];
    }
    expect_floats_close("the halves' gradients added", sum, net.grads.memory, net.grads.total,
                        1e-5 * scale, 0.0);
    free(sum);
    for (int h = 0; h < halves; h++) {
        tensors_free(&acts[h]);
        tensors_free(&dacts[h]);
        tensors_free(&grads[h]);
        free(scratch[h]);
    }
}

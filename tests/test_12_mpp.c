// test_12_mpp.c — masked patch prediction (src/mpp.h, src/mpp_vit.h).
//
// The corruption over many draws: exactly half the patches of an image (N
// even; on average half for N odd), of those 80% masked, 10% replaced by
// another patch of the same image, 10% kept, each count within one patch of
// its share in every image; every position equally likely. The targets by
// hand at the level boundaries. The corruption layer and the whole model
// held to finite differences (gradcheck.h); the mask token's gradient is the
// sum over masked patches, and zero when none is masked; the loss's gradient
// reaches the output tokens of corrupted patches only. Pre-training never
// reads the labels: two runs on the same images with other labels end with
// the same bits. A checkpoint opens again as the same model, and its encoder
// goes into a ViT by name.
#include <math.h>
#include <omp.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "check.h"
#include "checkpoint.h"
#include "gradcheck.h"
#include "mpp.h"
#include "mpp_vit.h"
#include "owned.h"
#include "scratch.h"
#include "train.h"

static MppVit mpp;
static Vit vit;

static void unload(void) {
    mpp_vit_free(&mpp);
    vit_free(&vit);
    owned_release();
}

TestSuite(mpp, .fini = unload);

static void unload_scratch(void) {
    unload();
    scratch_teardown();
}

// ---- the corruption ---------------------------------------------------------------

// Counts of each fate in one image's pattern (N): counts[fate].
static void count_fates(int counts[4], const uint8_t *fate, int N) {
    memset(counts, 0, 4 * sizeof(int));
    for (int n = 0; n < N; n++) counts[fate[n]]++;
}

Test(mpp, corruption_proportions_over_many_draws) {
    enum { B = 20000, N = 16 };
    uint8_t *fate = take(B * N);
    int *source = take(sizeof(int) * B * N);
    Rng rng;
    rng_seed(&rng, 1);
    mpp_corruption_draw(fate, source, B, N, &rng);
    long total[4] = {0}, chosen_at[N] = {0};
    for (int b = 0; b < B; b++) {
        int c[4];
        count_fates(c, fate + b * N, N);
        int M = c[MPP_MASKED] + c[MPP_REPLACED] + c[MPP_KEPT];
        cr_assert_eq(M, N / 2, "image %d: %d patches corrupted, not %d", b, M, N / 2);
        // 0.8 M = 6.4: 6 or 7 masked; the 1 or 2 left split in halves
        cr_assert(c[MPP_MASKED] == 6 || c[MPP_MASKED] == 7, "image %d: %d masked", b,
                  c[MPP_MASKED]);
        cr_assert(abs(c[MPP_REPLACED] - c[MPP_KEPT]) <= 1, "image %d: %d replaced, %d kept", b,
                  c[MPP_REPLACED], c[MPP_KEPT]);
        for (int k = 0; k < 4; k++) total[k] += c[k];
        for (int n = 0; n < N; n++) {
            int i = b * N + n;
            chosen_at[n] += fate[i] != MPP_CLEAN;
            if (fate[i] == MPP_REPLACED)
                cr_assert(source[i] != n && source[i] >= 0 && source[i] < N,
                          "image %d patch %d: source %d", b, n, source[i]);
            else
                cr_assert_eq(source[i], n);
        }
    }
    double corrupted = (double)B * N / 2;
    // standard errors: about 4e-4 for the masked share, 3e-4 for the others;
    // the tolerance is 7 of them
    double masked = total[MPP_MASKED] / corrupted, replaced = total[MPP_REPLACED] / corrupted,
           kept = total[MPP_KEPT] / corrupted;
    cr_log_info("masked %.4f replaced %.4f kept %.4f", masked, replaced, kept);
    cr_expect(fabs(masked - 0.8) < 3e-3, "masked share %.4f, want 0.8", masked);
    cr_expect(fabs(replaced - 0.1) < 2e-3, "replaced share %.4f, want 0.1", replaced);
    cr_expect(fabs(kept - 0.1) < 2e-3, "kept share %.4f, want 0.1", kept);
    // every position chosen half the time (standard error 3.5e-3)
    for (int n = 0; n < N; n++)
        cr_expect(fabs(chosen_at[n] / (double)B - 0.5) < 0.025, "patch %d chosen %.4f of the time",
                  n, chosen_at[n] / (double)B);
}

Test(mpp, odd_patch_counts_are_corrupted_half_on_average) {
    enum { B = 20000, N = 49 };
    uint8_t *fate = take(B * N);
    int *source = take(sizeof(int) * B * N);
    Rng rng;
    rng_seed(&rng, 2);
    mpp_corruption_draw(fate, source, B, N, &rng);
    long corrupted = 0, masked = 0;
    for (int b = 0; b < B; b++) {
        int c[4];
        count_fates(c, fate + b * N, N);
        int M = N - c[MPP_CLEAN];
        cr_assert(M == 24 || M == 25, "image %d: %d corrupted", b, M);
        corrupted += M;
        masked += c[MPP_MASKED];
    }
    double share = corrupted / ((double)B * N), mask_share = masked / (double)corrupted;
    cr_expect(fabs(share - 0.5) < 2e-3, "corrupted share %.4f", share);
    cr_expect(fabs(mask_share - 0.8) < 3e-3, "masked share %.4f", mask_share);
}

Test(mpp, same_seed_same_pattern) {
    enum { B = 7, N = 16 };
    uint8_t a[B * N], b[B * N];
    int sa[B * N], sb[B * N];
    Rng r1, r2;
    rng_seed(&r1, 3);
    rng_seed(&r2, 3);
    mpp_corruption_draw(a, sa, B, N, &r1);
    mpp_corruption_draw(b, sb, B, N, &r2);
    expect_bytes_equal("fate", a, b, B * N);
    expect_ints_equal("source", sa, sb, B * N);
}

Test(mpp, stochastic_rounding_is_exact_on_average) {
    Rng rng;
    rng_seed(&rng, 4);
    long sum = 0;
    for (int i = 0; i < 100000; i++) {
        int x = mpp_round(6.4, &rng);
        cr_assert(x == 6 || x == 7);
        sum += x;
    }
    cr_expect(fabs(sum / 100000.0 - 6.4) < 0.01, "mean %.4f", sum / 100000.0);
    cr_expect_eq(mpp_round(8.0, &rng), 8); // whole numbers stay
}

// ---- the targets ------------------------------------------------------------------

Test(mpp, targets_quantise_the_raw_mean_intensity_to_three_bits) {
    // an 8x8 image of four 4x4 patches (16 pixels): level = floor(8 sum / (255 * 16))
    // = floor(sum / 510); patch sums 509 (level 0), 510 (1), 255*16 (white: 7, not 8),
    // and half white half black (mean 0.5: level 4)
    enum { S = 8, P = 4 };
    int pixels[S * S] = {0};
    int sums[4] = {509, 510, 255 * 16, 255 * 8};
    for (int p = 0; p < 4; p++) {
        int left = sums[p];
        for (int i = 0; i < 16; i++) {
            int y = (p / 2) * P + i / P, x = (p % 2) * P + i % P;
            int v = left > 255 ? 255 : left;
            pixels[y * S + x] = v;
            left -= v;
        }
    }
    float image[S * S];
    float mean = FASHION_MNIST_MEAN, std = FASHION_MNIST_STD;
    for (int i = 0; i < S * S; i++) image[i] = ((float)pixels[i] / 255.0f - mean) / std;
    int targets[4];
    mpp_targets(targets, image, 1, 1, S, P, mean, std);
    int want[4] = {0, 1, 7, 4};
    expect_ints_equal("targets", targets, want, 4);
    cr_expect_eq(mpp_classes(1), 8);
    cr_expect_eq(mpp_classes(3), 512); // the paper's RGB: 3 bits per channel
}

Test(mpp, targets_of_several_channels_are_base_eight_digits) {
    // a 2-channel 2x2 image, one patch: channel 0 black (level 0), channel 1 white (7)
    float image[8] = {0, 0, 0, 0, 1, 1, 1, 1}; // mean 0, std 1: the raw pixels
    int target;
    mpp_targets(&target, image, 1, 2, 2, 2, 0.0f, 1.0f);
    cr_expect_eq(target, 0 * 8 + 7);
}

// ---- the corruption layer ---------------------------------------------------------

typedef struct {
    int B, N, C;
    uint8_t *fate;
    int *source;
    float *emb, *mask, *out, *r, *demb, *dmask;
} CorruptCase;

static double corrupt_loss(GradCheck *gc) {
    CorruptCase *c = gc->ctx;
    mpp_corrupt_forward(c->out, c->emb, c->mask, c->fate, c->source, c->B, c->N, c->C);
    return gradcheck_dot(c->out, c->r, (size_t)c->B * c->N * c->C);
}

static void corrupt_grads(GradCheck *gc) {
    CorruptCase *c = gc->ctx;
    mpp_corrupt_backward(c->demb, c->dmask, c->r, c->fate, c->source, c->B, c->N, c->C);
}

static CorruptCase corrupt_case(int seed) {
    enum { B = 3, N = 16, C = 5 };
    Rng rng;
    rng_seed(&rng, (uint64_t)seed);
    CorruptCase c = {.B = B, .N = N, .C = C};
    c.fate = take(B * N);
    c.source = take(sizeof(int) * B * N);
    mpp_corruption_draw(c.fate, c.source, B, N, &rng);
    c.emb = random_floats(&rng, B * N * C, 0, 1);
    c.mask = random_floats(&rng, C, 0, 1);
    c.r = random_floats(&rng, B * N * C, 0, 1);
    c.out = floats(B * N * C);
    c.demb = floats(B * N * C);
    c.dmask = floats(C);
    return c;
}

Test(mpp, corruption_layer_matches_finite_differences) {
    CorruptCase c = corrupt_case(5);
    GradCheck gc = {
        .loss = corrupt_loss, .backward = corrupt_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "emb", c.emb, c.demb, (size_t)c.B * c.N * c.C);
    gradcheck_tensor(&gc, "mask_token", c.mask, c.dmask, c.C);
    gradcheck_run(&gc);
}

Test(mpp, mask_token_gradient_is_the_sum_over_masked_patches) {
    CorruptCase c = corrupt_case(6);
    corrupt_grads(&(GradCheck){.ctx = &c});
    double want[5] = {0};
    int masked = 0;
    for (int i = 0; i < c.B * c.N; i++) {
        if (c.fate[i] != MPP_MASKED) continue;
        masked++;
        for (int k = 0; k < c.C; k++) want[k] += c.r[i * c.C + k];
    }
    cr_assert_gt(masked, 0);
    for (int k = 0; k < c.C; k++)
        cr_expect(fabs(c.dmask[k] - want[k]) < 1e-5, "dmask[%d] %g, want %g", k, c.dmask[k],
                  want[k]);
    // with no patch masked (every masked one kept instead), it gets nothing
    for (int i = 0; i < c.B * c.N; i++)
        if (c.fate[i] == MPP_MASKED) c.fate[i] = MPP_KEPT;
    memset(c.dmask, 0, sizeof(float) * c.C);
    corrupt_grads(&(GradCheck){.ctx = &c});
    for (int k = 0; k < c.C; k++) cr_expect_eq(c.dmask[k], 0.0f);
}

// ---- the whole model --------------------------------------------------------------

static VitConfig tiny_config(void) {
    return (VitConfig){.image_size = 8,
                       .patch_size = 2,
                       .in_channels = 1,
                       .hidden_dim = 8,
                       .mlp_dim = 12,
                       .num_layers = 1,
                       .num_heads = 2,
                       .num_classes = 0};
}

// As test_06_backward.c: LayerNorm weights about 1, matrices by 1/sqrt(fan_in),
// the rest about 0.5, so no gradient is trivially zero (a zero head would stop them).
static void randomize(const Tensors *params, Rng *rng) {
    for (int i = 0; i < params->count; i++) {
        const TensorEntry *e = &params->entries[i];
        bool norm = strstr(e->name, "ln") != NULL && strstr(e->name, ".weight") != NULL;
        bool matrix = e->ndim >= 2 && strcmp(e->name, "encoder.pos_embedding") != 0;
        float std = matrix ? 1.0f / sqrtf((float)(e->count / e->shape[0])) : 0.5f;
        rng_fill_normal(rng, *e->slot, (int)e->count, norm ? 1.0f : 0.0f, std);
    }
}

typedef struct {
    int B;
    float *images;
} MppCase;

static double mpp_loss(GradCheck *gc) {
    MppCase *c = gc->ctx;
    return mpp_vit_forward(&mpp, c->images, c->B, NULL); // the pattern stays
}

static void mpp_grads(GradCheck *gc) {
    MppCase *c = gc->ctx;
    mpp_vit_backward(&mpp, c->B);
}

// A tiny model (16 patches of 2x2) on B random images in [0, 1], with a corruption drawn.
static MppCase tiny_model(int B) {
    Rng rng;
    rng_seed(&rng, 7);
    VitConfig cfg = tiny_config();
    mpp_vit_build(&mpp, &cfg, 0.0f, 1.0f, B + 1); // room for more than B images
    mpp_vit_init(&mpp, &rng);
    randomize(&mpp.params, &rng);
    MppCase c = {.B = B, .images = floats((size_t)B * 64)};
    rng_fill_uniform(&rng, c.images, B * 64, 0.0f, 1.0f);
    mpp_corruption_draw(mpp.fate, mpp.source, B, mpp.N, &rng);
    return c;
}

Test(mpp, whole_model_matches_finite_differences) {
    // one thread: thousands of tiny forward passes, each a parallel region, crawl
    // when the cores are busy; the threads' slices are held to PyTorch in
    // test_12_mpp_torch.c and to these gradients by the test below
    omp_set_num_threads(1);
    MppCase c = tiny_model(3);
    cr_expect_eq((long long)mpp.params.total, vit_param_count(&mpp.cfg) + mpp.cfg.hidden_dim);
    GradCheck gc = {.loss = mpp_loss, .backward = mpp_grads, .accumulates = false, .ctx = &c};
    for (int i = 0; i < mpp.params.count; i++) {
        const TensorEntry *p = &mpp.params.entries[i], *g = &mpp.grads.entries[i];
        cr_assert_str_eq(p->name, g->name);
        gradcheck_tensor(&gc, p->name, *p->slot, *g->slot, p->count);
    }
    gradcheck_run(&gc);
}

Test(mpp, loss_reaches_the_corrupted_patches_tokens_only) {
    MppCase c = tiny_model(3);
    int N = mpp.N, T = N + 1, C = mpp.cfg.hidden_dim;
    mpp_vit_forward(&mpp, c.images, c.B, NULL);
    cr_expect_eq(mpp.R, c.B * N / 2);
    mpp_vit_backward(&mpp, c.B);
    for (int b = 0; b < c.B; b++)
        for (int t = 0; t < T; t++) {
            bool corrupted = t > 0 && mpp.fate[b * N + t - 1] != MPP_CLEAN;
            double norm = 0.0;
            for (int k = 0; k < C; k++) norm += fabs(mpp.da.out[((size_t)b * T + t) * C + k]);
            if (corrupted)
                cr_expect_gt(norm, 0.0, "image %d token %d: corrupted, but no gradient", b, t);
            else
                cr_expect_eq(norm, 0.0, "image %d token %d: not corrupted, gradient %g", b, t,
                             norm);
        }
}

Test(mpp, two_threads_give_the_gradients_of_one) {
    MppCase c = tiny_model(4);
    omp_set_num_threads(1);
    mpp_vit_forward(&mpp, c.images, c.B, NULL);
    mpp_vit_backward(&mpp, c.B);
    float *one = floats(mpp.grads.total);
    memcpy(one, mpp.grads.memory, sizeof(float) * mpp.grads.total);
    omp_set_num_threads(2);
    mpp_vit_forward(&mpp, c.images, c.B, NULL);
    mpp_vit_backward(&mpp, c.B);
    // the slices' sums are added in another order: equal to float rounding
    expect_floats_close("grads", mpp.grads.memory, one, mpp.grads.total, 1e-6, 1e-5);
}

// ---- training, checkpoints, fine-tuning ------------------------------------------

// count 8x8 gray images with random pixels and labels 0..9 from seed.
static FashionMnist tiny_data(int count, int seed) {
    Rng rng;
    rng_seed(&rng, (uint64_t)seed);
    FashionMnist d = {.count = count, .rows = 8, .cols = 8};
    d.pixels = take((size_t)count * 64);
    d.labels = take((size_t)count);
    for (int i = 0; i < count * 64; i++) d.pixels[i] = (unsigned char)rng_int(&rng, 256);
    for (int i = 0; i < count; i++) d.labels[i] = (unsigned char)rng_int(&rng, 10);
    return d;
}

// The weights after two epochs of pre-training on data, from seed 9.
static float *pretrain(const FashionMnist *data, double *accuracy) {
    Rng rng;
    rng_seed(&rng, 9);
    VitConfig cfg = tiny_config();
    mpp_vit_build(&mpp, &cfg, 0.3f, 0.4f, 8);
    mpp_vit_init(&mpp, &rng);
    TrainOptions o = {.epochs = 2,
                      .batch = 8,
                      .lr = 1e-2f,
                      .weight_decay = 0.05f,
                      .warmup = 0.5f,
                      .clip = 1.0f,
                      .image_mean = 0.3f,
                      .image_std = 0.4f,
                      .seed = 1};
    Trainer t;
    Error err;
    cr_assert(trainer_build(&t, &mpp.model, data, data->count, &o, &err), "%s", err.message);
    EpochResult e = {0};
    while (t.epoch < o.epochs) e = trainer_epoch(&t, NULL);
    trainer_free(&t);
    *accuracy = e.accuracy;
    float *weights = floats(mpp.params.total);
    memcpy(weights, mpp.params.memory, sizeof(float) * mpp.params.total);
    mpp_vit_free(&mpp);
    return weights;
}

Test(mpp, pretraining_never_reads_the_labels) {
    FashionMnist a = tiny_data(40, 10), b = a;
    b.labels = take(40); // all zero: other labels, the same images
    double acc_a, acc_b;
    float *wa = pretrain(&a, &acc_a);
    size_t n = vit_param_count(&(VitConfig){.image_size = 8,
                                            .patch_size = 2,
                                            .in_channels = 1,
                                            .hidden_dim = 8,
                                            .mlp_dim = 12,
                                            .num_layers = 1,
                                            .num_heads = 2,
                                            .num_classes = 8}) +
               8;
    float *wb = pretrain(&b, &acc_b);
    expect_floats_equal("weights", wa, wb, n, 0.0f);
    // the trainer's accuracy is the pretext accuracy: a share of patches
    cr_expect(acc_a >= 0.0 && acc_a <= 1.0 && acc_a == acc_b, "accuracy %g and %g", acc_a, acc_b);
}

Test(mpp, checkpoint_opens_again_and_the_encoder_goes_into_a_vit, .init = scratch_setup,
     .fini = unload_scratch) {
    MppCase c = tiny_model(2);
    (void)c;
    char path[256];
    snprintf(path, sizeof path, "%s/mpp.safetensors", scratch_dir);
    Error err;
    cr_assert(checkpoint_save(path, &mpp.model, 0.0f, 1.0f, &err), "%s", err.message);
    const ModelKind *kinds[] = {&mpp_vit_kind};
    Model *m;
    float mean, std;
    cr_assert(checkpoint_open(path, kinds, 1, 2, 0.0f, &m, &mean, &std, &err), "%s", err.message);
    MppVit *back = mpp_vit_of(m);
    cr_expect_eq(back->params.total, mpp.params.total);
    expect_floats_equal("weights", back->params.memory, mpp.params.memory, mpp.params.total, 0.0f);
    m->kind->close(m);
    // chapter 06's loader refuses it: not a "vit"
    const ModelKind *vits[] = {&vit_kind};
    cr_expect(!checkpoint_open(path, vits, 1, 2, 0.0f, &m, &mean, &std, &err));
    // the encoder into a 10-class ViT: every tensor but the head's
    VitConfig cfg = mpp.cfg;
    cfg.num_classes = 10;
    vit_build(&vit, &cfg, &(HeadOptions){0}, 0.0f, 2);
    int copied = mpp_vit_to_vit(&vit, &mpp);
    cr_expect_eq(copied, vit.params.count - 2);
    const TensorEntry *e = tensors_find(&vit.params, "conv_proj.weight");
    expect_floats_equal("conv_proj.weight", *e->slot, mpp.w.conv_w, e->count, 0.0f);
}

// 12_selfsupervised.c — chapter 12: self-supervision by masked patch prediction.
//
// BERT learns language by filling in masked words; the paper tried the same
// on images (its section 4.6 and appendix B.1.2): corrupt half the patch
// embeddings and predict each corrupted patch's mean colour, 3 bits a
// channel. This program pre-trains a ViT of chapter 06's shape that way on
// the 60,000 Fashion-MNIST training images without reading a label, saves it
// (build/models/vit_mpp.safetensors, reused when present), then compares with
// only a few labels: (a) a ViT trained from scratch on them, (b) the
// self-supervised ViT fine-tuned on them, (c) chapter 06's ViT, trained on all
// 60,000 labels, as the upper line; and a linear probe on each one's frozen
// features. Figures: the corrupted inputs with the predicted and true
// intensities, accuracy against labels, the pretext loss and accuracy.
//
//   build/ch12_selfsupervised [--pretrain-epochs 4] [--labels 1000,5000] ...
//   build/ch12_selfsupervised --retrain          pre-train again even if saved
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ch12.h"

enum {
    S = FASHION_MNIST_SIDE,
    K = FASHION_MNIST_CLASSES,
    MAX_BUDGETS = 8,
    MAX_EPOCHS = 1000,
    SHOWN = 6,            // test images in the corruption figure
    PRETEXT_TEST = 2000,  // test images the pretext accuracy is measured on
    PRETEXT_SEED = 12345, // their corruptions: the same every time
};

typedef struct {
    const char *data_dir, *out, *models, *vit_model, *labels;
    int pretrain_epochs, epochs, min_steps, batch, seed, threads, train_limit;
    float lr, finetune_lr, weight_decay, clip, label_smoothing, l2;
    bool retrain;
} Options;

static const char *program = "ch12_selfsupervised";

static _Noreturn void refuse(const char *message) {
    fprintf(stderr, "%s: %s\n", program, message);
    exit(2);
}

// ---- pre-training ----------------------------------------------------------------------

typedef struct {
    int epochs;                                            // logged
    double loss[MAX_EPOCHS + 1], accuracy[MAX_EPOCHS + 1]; // training, by epoch (1-based)
    double test[MAX_EPOCHS + 1]; // pretext accuracy on PRETEXT_TEST test images, 0: at init
    double majority;             // the share of the most common level among them: a guess's score
    double seconds, images_per_s;
    bool reused;
} Pretraining;

static TrainOptions pretrain_options(const Options *opt) {
    return (TrainOptions){.epochs = opt->pretrain_epochs,
                          .batch = opt->batch,
                          .lr = opt->lr,
                          .weight_decay = opt->weight_decay,
                          .warmup = (float)opt->pretrain_epochs / 8.0f,
                          .clip = opt->clip,
                          .image_mean = FASHION_MNIST_MEAN,
                          .image_std = FASHION_MNIST_STD,
                          .seed = opt->seed};
}

// The history beside the model: "vit_mpp.safetensors" -> "vit_mpp.history.txt".
static void history_path(char *out, size_t size, const char *model) {
    size_t n = strlen(model), suffix = strlen(".safetensors");
    if (n > suffix && strcmp(model + n - suffix, ".safetensors") == 0) n -= suffix;
    snprintf(out, size, "%.*s.history.txt", (int)n, model);
}

static bool history_write(const char *path, const Pretraining *p, Error *err) {
    AtomicFile af;
    if (!atomic_open(&af, path, err)) return false;
    fprintf(af.file, "# epoch train_loss train_accuracy test_accuracy (pretext); majority %.6f\n",
            p->majority);
    for (int e = 0; e <= p->epochs; e++)
        fprintf(af.file, "%d %.6f %.6f %.6f\n", e, p->loss[e], p->accuracy[e], p->test[e]);
    return atomic_commit(&af, err);
}

// What history_write wrote; false (p untouched) when it is missing or odd.
static bool history_read(const char *path, Pretraining *p) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return false;
    Pretraining q = {.reused = true, .epochs = -1};
    bool ok = fscanf(f, "# epoch train_loss train_accuracy test_accuracy (pretext); majority %lf",
                     &q.majority) == 1;
    int e;
    double loss, accuracy, test;
    while (ok && fscanf(f, "%d %lf %lf %lf", &e, &loss, &accuracy, &test) == 4) {
        ok = e == q.epochs + 1 && e <= MAX_EPOCHS;
        if (ok) q.epochs = e, q.loss[e] = loss, q.accuracy[e] = accuracy, q.test[e] = test;
    }
    fclose(f);
    if (ok && q.epochs >= 1) *p = q;
    return ok && q.epochs >= 1;
}

// The share of the most common level among the corrupted patches of the first
// count test images (the corruptions of mpp_vit_evaluate): what always
// answering that level would score.
static double majority_share(MppVit *m, const FashionMnist *test, int count) {
    int counts[MPP_LEVELS] = {0}, total = 0;
    float *image = xmalloc(sizeof(float) * S * S);
    int *targets = xmalloc(sizeof(int) * m->N);
    for (int i = 0; i < count; i++) {
        fashion_mnist_normalized(test, i, m->image_mean, m->image_std, image);
        mpp_targets(targets, image, 1, 1, S, m->cfg.patch_size, m->image_mean, m->image_std);
        for (int n = 0; n < m->N; n++) counts[targets[n]]++, total++;
    }
    free(image);
    free(targets);
    int best = 0;
    for (int k = 1; k < MPP_LEVELS; k++) best = counts[k] > counts[best] ? k : best;
    return (double)counts[best] / total;
}

// region: pretrain
// Pre-trains m on the training images with their labels blanked (every label
// 0: the trainer hands them to the model, which never looks), logging the
// pretext loss and accuracy; saves it to path.
static void pretrain(MppVit *m, Pretraining *p, const FashionMnist *train, const FashionMnist *test,
                     const Options *opt, const char *path) {
    FashionMnist unlabelled = *train;
    unlabelled.labels = xcalloc((size_t)train->count, 1);
    TrainOptions o = pretrain_options(opt);
    Trainer t;
    Error err;
    narrate_check(trainer_build(&t, &m->model, &unlabelled, train->count, &o, &err), program, &err);
    int pretext_test = test->count < PRETEXT_TEST ? test->count : PRETEXT_TEST;
    p->test[0] = mpp_vit_evaluate(m, test, pretext_test, PRETEXT_SEED, NULL);
    printf("  at initialisation: pretext accuracy %.4f on %d test images\n", p->test[0],
           pretext_test);
    double start = progress_now();
    while (t.epoch < o.epochs) {
        EpochResult e = trainer_epoch(&t, NULL);
        int k = t.epoch;
        p->loss[k] = e.loss, p->accuracy[k] = e.accuracy;
        p->test[k] = mpp_vit_evaluate(m, test, pretext_test, PRETEXT_SEED, NULL);
        p->images_per_s = e.images_per_s;
        printf("  epoch %2d/%d  pretext loss %.4f  accuracy %.4f  test accuracy %.4f  "
               "%5.0f img/s  %5.1f s\n",
               k, o.epochs, e.loss, e.accuracy, p->test[k], e.images_per_s, e.seconds);
        fflush(stdout);
    }
    p->epochs = o.epochs;
    p->seconds = progress_now() - start;
    trainer_free(&t);
    free(unlabelled.labels);
    narrate_check(checkpoint_save(path, &m->model, o.image_mean, o.image_std, &err), program, &err);
    char history[1024];
    history_path(history, sizeof history, path);
    narrate_check(history_write(history, p, &err), program, &err);
}
// endregion: pretrain

// The self-supervised ViT: loaded from path when it is there, fits and
// --retrain is not given; else pre-trained and saved.
static void pretrained_model(MppVit *m, Pretraining *p, const VitConfig *cfg,
                             const FashionMnist *train, const FashionMnist *test,
                             const Options *opt, const char *path) {
    mpp_vit_build(m, cfg, FASHION_MNIST_MEAN, FASHION_MNIST_STD, opt->batch);
    Rng rng;
    rng_seed(&rng, (uint64_t)opt->seed);
    mpp_vit_init(m, &rng);
    int pretext_test = test->count < PRETEXT_TEST ? test->count : PRETEXT_TEST;
    p->majority = majority_share(m, test, pretext_test);
    Error err;
    char history[1024];
    history_path(history, sizeof history, path);
    if (!opt->retrain && access(path, F_OK) == 0) {
        if (checkpoint_load(path, &m->model, &err)) {
            if (!history_read(history, p)) p->epochs = 0, p->reused = true;
            printf("  reusing %s (%d epochs of pre-training; --retrain pre-trains again%s)\n", path,
                   p->epochs, p->epochs == opt->pretrain_epochs ? "" : " for --pretrain-epochs");
            return;
        }
        printf("  %s: %s; pre-training again\n", path, err.message);
    }
    pretrain(m, p, train, test, opt, path);
}

// ---- fine-tuning with few labels -------------------------------------------------------

typedef struct {
    int labels, epochs;
    long steps;
    double scratch, finetuned;                         // test accuracy of (a) and (b)
    double probe_scratch, probe_ssl, probe_supervised; // linear probes on frozen features
    double seconds[2];
} Budget;

// region: budget
// Chapter 07's budget rule: `epochs` passes over the labelled images, but at
// least `min_steps` steps, so a small set is not also a short run.
static int run_epochs(int count, const Options *opt) {
    long steps_per_epoch = (count + opt->batch - 1) / opt->batch;
    long epochs = (opt->min_steps + steps_per_epoch - 1) / steps_per_epoch;
    return epochs > opt->epochs ? (int)epochs : opt->epochs;
}
// endregion: budget

// region: finetune
// A ViT of cfg for Fashion-MNIST's classes, initialised from seed (its head
// zero), with the pre-trained encoder's weights copied in when from is set;
// trained on the first count labelled images with chapter 06's recipe at
// --finetune-lr; returns its test accuracy. The model is left in v.
static double finetune(Vit *v, const VitConfig *cfg, const MppVit *from,
                       const FashionMnist *labelled, int count, const FashionMnist *test,
                       const Options *opt, double *seconds) {
    VitConfig c = *cfg;
    c.num_classes = K;
    vit_build(v, &c, &(HeadOptions){0}, 0.0f, opt->batch);
    Rng rng;
    rng_seed(&rng, (uint64_t)opt->seed);
    vit_init(v, &rng);
    if (from != NULL) mpp_vit_to_vit(v, from); // everything but the head
    int epochs = run_epochs(count, opt);
    TrainOptions o = {.epochs = epochs,
                      .batch = opt->batch,
                      .lr = opt->finetune_lr,
                      .weight_decay = opt->weight_decay,
                      .warmup = (float)epochs / 8.0f,
                      .label_smoothing = opt->label_smoothing,
                      .clip = opt->clip,
                      .image_mean = FASHION_MNIST_MEAN,
                      .image_std = FASHION_MNIST_STD,
                      .seed = opt->seed};
    Trainer t;
    Error err;
    narrate_check(trainer_build(&t, &v->model, labelled, count, &o, &err), program, &err);
    double start = progress_now();
    while (t.epoch < epochs) trainer_epoch(&t, NULL);
    trainer_free(&t);
    *seconds = progress_now() - start;
    return evaluate(&v->model, test, test->count, o.image_mean, o.image_std, NULL, NULL);
}
// endregion: finetune

// region: features
// A frozen ViT's features of the first count images of data: after the last
// LayerNorm, the class token and the mean of the patch tokens side by side,
// x (count, 2C). Both, because a self-supervised model's class token is never
// asked for anything (its loss reads the patch tokens only).
static float *vit_features(Vit *v, const FashionMnist *data, int count) {
    int C = v->cfg.hidden_dim, T = vit_tokens(&v->cfg), maxB = v->B;
    float *x = xmalloc(sizeof(float) * count * 2 * C),
          *images = xmalloc(sizeof(float) * maxB * S * S);
    int *labels = xmalloc(sizeof(int) * maxB), *indices = xmalloc(sizeof(int) * maxB);
    for (int first = 0; first < count; first += maxB) {
        int B = count - first < maxB ? count - first : maxB;
        for (int b = 0; b < B; b++) indices[b] = first + b;
        batch_load(images, labels, data, indices, B, FASHION_MNIST_MEAN, FASHION_MNIST_STD);
        vit_forward(v, images, NULL, B, 0.0f, false);
        for (int b = 0; b < B; b++) {
            const float *out = v->a.out + (size_t)b * T * C; // (T,C)
            float *row = x + (size_t)(first + b) * 2 * C;
            memcpy(row, out, sizeof(float) * C);
            for (int c = 0; c < C; c++) {
                double sum = 0.0;
                for (int t = 1; t < T; t++) sum += out[t * C + c];
                row[C + c] = (float)(sum / (T - 1));
            }
        }
    }
    free(images);
    free(labels);
    free(indices);
    return x;
}
// endregion: features

// region: probe
// The few-shot linear probe (chapter 10) of v's frozen features: fitted on
// the first count labelled images, tested on test.
static double probe(Vit *v, const FashionMnist *labelled, int count, const FashionMnist *test,
                    float l2) {
    int D = 2 * v->cfg.hidden_dim;
    float *train_x = vit_features(v, labelled, count), *test_x = vit_features(v, test, test->count);
    int *train_y = xmalloc(sizeof(int) * count), *test_y = xmalloc(sizeof(int) * test->count);
    for (int i = 0; i < count; i++) train_y[i] = labelled->labels[i];
    for (int i = 0; i < test->count; i++) test_y[i] = test->labels[i];
    LinearProbe p;
    Error err;
    narrate_check(linear_probe_fit(&p, train_x, train_y, count, D, K, l2, &err), program, &err);
    double accuracy = linear_probe_accuracy(&p, test_x, test_y, test->count);
    linear_probe_free(&p);
    free(train_x), free(test_x), free(train_y), free(test_y);
    return accuracy;
}
// endregion: probe

// region: compare
// The three at one label budget: (a) from scratch and (b) fine-tuned from the
// self-supervised encoder, each tested and probed; the probes of the frozen
// self-supervised encoder and of chapter 06's ViT (c).
static void compare(Budget *r, const VitConfig *cfg, const MppVit *ssl, Vit *supervised,
                    const FashionMnist *labelled, const FashionMnist *test, const Options *opt) {
    Vit v;
    r->epochs = run_epochs(r->labels, opt);
    r->steps = (long)r->epochs * ((r->labels + opt->batch - 1) / opt->batch);
    r->scratch = finetune(&v, cfg, NULL, labelled, r->labels, test, opt, &r->seconds[0]);
    r->probe_scratch = probe(&v, labelled, r->labels, test, opt->l2);
    vit_free(&v);
    r->finetuned = finetune(&v, cfg, ssl, labelled, r->labels, test, opt, &r->seconds[1]);
    mpp_vit_to_vit(&v, ssl); // the frozen self-supervised encoder, as pre-training left it
    r->probe_ssl = probe(&v, labelled, r->labels, test, opt->l2);
    vit_free(&v);
    r->probe_supervised = probe(supervised, labelled, r->labels, test, opt->l2);
    printf("  %6d labels  %3d epochs (%4ld steps)  (a) scratch %.4f (%.0f s)  "
           "(b) self-supervised %.4f (%.0f s)\n"
           "                linear probes: (a) %.4f  (b) frozen %.4f  (c) chapter 06 %.4f\n",
           r->labels, r->epochs, r->steps, r->scratch, r->seconds[0], r->finetuned, r->seconds[1],
           r->probe_scratch, r->probe_ssl, r->probe_supervised);
    fflush(stdout);
}
// endregion: compare

// "1000,5000" into counts (ascending, each 1..limit); returns how many.
static int parse_labels(const char *text, int *counts, int limit) {
    int n = 0;
    const char *p = text;
    char message[200];
    while (*p != '\0') {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        bool ok = end != p && errno == 0 && x >= K && x <= limit && (*end == ',' || *end == '\0') &&
                  (n == 0 || x > counts[n - 1]) && n < MAX_BUDGETS;
        if (!ok) {
            snprintf(message, sizeof message,
                     "--labels %s: expected up to %d ascending numbers of labelled images in "
                     "%d..%d",
                     text, MAX_BUDGETS, K, limit);
            refuse(message);
        }
        counts[n++] = (int)x;
        p = *end == ',' ? end + 1 : end;
    }
    if (n == 0) refuse("--labels: expected at least one number of labelled images");
    return n;
}

// ---- figures ------------------------------------------------------------------------------

static const Rgb masked_color = {31, 119, 180}, replaced_color = {255, 127, 14},
                 kept_color = {44, 160, 44}, unasked_color = {205, 170, 125};

// Patch n's square (P x P at its place on the grid) of tile (S,S,3) set to c,
// or, frame_only, its border of width 1.
static void paint_patch(Rgb *tile, int n, int P, Rgb c, bool frame_only) {
    int G = S / P, y0 = (n / G) * P, x0 = (n % G) * P;
    for (int y = y0; y < y0 + P; y++)
        for (int x = x0; x < x0 + P; x++)
            if (!frame_only || y == y0 || y == y0 + P - 1 || x == x0 || x == x0 + P - 1)
                tile[y * S + x] = c;
}

static Rgb gray(float v) {
    unsigned char g = (unsigned char)lrintf(255.0f * (v < 0 ? 0 : v > 1 ? 1 : v));
    return (Rgb){g, g, g};
}

static void tile_block(Plot *plot, const Rgb *tile) {
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            Rgb c = tile[y * S + x];
            plot_printf(plot, "%d %d %d %d %d\n", x, y, c.r, c.g, c.b);
        }
    plot_end_block(plot);
}

// The four tiles of test image b of the batch m last saw: the image, what the
// encoder was given, the true levels, the predicted levels (corrupted only).
// predicted (N): the level said for each patch, -1 for clean ones.
static void corruption_tiles(Rgb tiles[4][S * S], const MppVit *m, const float *pixels, int b,
                             const int *predicted) {
    int P = m->cfg.patch_size, N = m->N;
    const uint8_t *fate = m->fate + (size_t)b * N;
    const int *source = m->source + (size_t)b * N, *target = m->targets + (size_t)b * N;
    for (int i = 0; i < S * S; i++) tiles[0][i] = tiles[1][i] = gray(pixels[i]);
    int G = S / P;
    for (int n = 0; n < N; n++) {
        if (fate[n] == MPP_REPLACED) { // the other patch's pixels, in this place
            int from = source[n], fy = (from / G) * P, fx = (from % G) * P;
            int y0 = (n / G) * P, x0 = (n % G) * P;
            for (int y = 0; y < P; y++)
                for (int x = 0; x < P; x++)
                    tiles[1][(y0 + y) * S + x0 + x] = gray(pixels[(fy + y) * S + fx + x]);
            paint_patch(tiles[1], n, P, replaced_color, true);
        }
        if (fate[n] == MPP_MASKED) paint_patch(tiles[1], n, P, masked_color, false);
        if (fate[n] == MPP_KEPT) paint_patch(tiles[1], n, P, kept_color, true);
        bool asked = fate[n] != MPP_CLEAN;
        paint_patch(tiles[2], n, P, asked ? gray((target[n] + 0.5f) / MPP_LEVELS) : unasked_color,
                    false);
        paint_patch(tiles[3], n, P,
                    asked ? gray((predicted[n] + 0.5f) / MPP_LEVELS) : unasked_color, false);
    }
}

// The first SHOWN test images, corrupted as the pretext test corrupts them:
// what the encoder is given, and the true and predicted mean intensities.
static void figure_corruption(MppVit *m, const FashionMnist *test, const Options *opt) {
    int n = test->count < SHOWN ? test->count : SHOWN, N = m->N;
    float *images = xmalloc(sizeof(float) * n * S * S), *pixels = xmalloc(sizeof(float) * S * S);
    int labels[SHOWN], indices[SHOWN], *predicted = xmalloc(sizeof(int) * n * N);
    for (int b = 0; b < n; b++) indices[b] = b;
    batch_load(images, labels, test, indices, n, m->image_mean, m->image_std);
    Rng rng;
    rng_seed(&rng, PRETEXT_SEED);
    mpp_vit_forward(m, images, n, &rng);
    for (int i = 0, r = 0; i < n * N; i++)
        predicted[i] = m->fate[i] == MPP_CLEAN
                           ? -1
                           : narrate_argmax(m->logits + (size_t)r++ * MPP_LEVELS, MPP_LEVELS);
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "corruption",
                             "blocks of x y r g b, image by image: the test image, the corrupted "
                             "input, the true and the predicted mean-intensity levels",
                             &err),
                  program, &err);
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot title \"Masked patch prediction: half the patches corrupted, "
                    "their mean intensity (3 bits) predicted\\n{/*0.75 blue: the [mask] "
                    "embedding; orange frame: another patch's embedding; green frame: kept as "
                    "it is; tan: not corrupted, not asked}\" font ',22'\n"
                    "unset key\nunset xtics\nunset ytics\nunset colorbox\nset border lw 0.5\n"
                    "set size ratio -1\nset xrange [-0.5:27.5]\nset yrange [27.5:-0.5]\n"
                    "set title font ',15' offset 0,-0.5\nset ylabel font ',16'\n");
    static const char *const rows[4] = {"test image", "encoder input", "true level", "predicted"};
    Rgb tiles[4][S * S];
    int block = 0;
    for (int b = 0; b < n; b++) {
        fashion_mnist_image(test, b, pixels);
        corruption_tiles(tiles, m, pixels, b, predicted + b * N);
        int right = 0, asked = 0;
        for (int i = 0; i < N; i++)
            if (m->fate[b * N + i] != MPP_CLEAN)
                asked++, right += predicted[b * N + i] == m->targets[b * N + i];
        for (int row = 0; row < 4; row++) {
            tile_block(&plot, tiles[row]);
            double w = 0.92 / n, h = 0.86 / 4;
            plot_script_add(&s,
                            "set lmargin at screen %.4f\nset rmargin at screen %.4f\n"
                            "set tmargin at screen %.4f\nset bmargin at screen %.4f\n",
                            0.07 + b * w + 0.04 * w, 0.07 + (b + 1) * w - 0.04 * w,
                            0.87 - row * h - 0.09 * h, 0.87 - (row + 1) * h + 0.05 * h);
            char title[64] = "";
            if (row == 0) snprintf(title, sizeof title, "%s", fashion_mnist_class_names[labels[b]]);
            if (row == 3) snprintf(title, sizeof title, "%d of %d right", right, asked);
            plot_script_add(
                &s, "set ylabel \"%s\"\nset title \"%s\"\nplot DATA index %d with rgbimage\n",
                b == 0 ? rows[row] : "", title, block++);
        }
    }
    plot_script_add(&s, "unset multiplot\n");
    plot.width = 240 * n + 180;
    plot.height = 4 * 270 + 160;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
    free(images);
    free(pixels);
    free(predicted);
}

// Test accuracy against labelled images: (a), (b) fine-tuned and (c), solid;
// the linear probes of the same three, dashed.
static void figure_labels(const Budget *r, int count, double supervised, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "accuracy_vs_labels",
                             "labels  scratch  self_supervised  supervised  probe_scratch  "
                             "probe_self_supervised  probe_supervised",
                             &err),
                  program, &err);
    for (int i = 0; i < count; i++)
        plot_printf(&plot, "%d %.4f %.4f %.4f %.4f %.4f %.4f\n", r[i].labels, r[i].scratch,
                    r[i].finetuned, supervised, r[i].probe_scratch, r[i].probe_ssl,
                    r[i].probe_supervised);
    PlotScript s = {0};
    plot_script_add(&s,
                    "set title \"Few labels: from scratch, self-supervised first, supervised "
                    "first\\n{/*0.75 fine-tuned (solid): every run %d epochs of its labels or "
                    "%d steps of %d if more; linear probes of the frozen features (dashed)}\" "
                    "font ',22'\n"
                    "set logscale x\nset grid\nset tics font ',16'\n"
                    "set key below horizontal maxrows 2 width 2 font ',16'\n"
                    "set xlabel 'labelled training images' font ',18'\n"
                    "set ylabel 'test accuracy' font ',18'\nset format y '%%.0f%%%%'\n"
                    "set xrange [%g:%g]\nset xtics (",
                    opt->epochs, opt->min_steps, opt->batch, r[0].labels / 1.5,
                    r[count - 1].labels * 1.5);
    char text[32];
    for (int i = 0; i < count; i++)
        plot_script_add(&s, "%s\"%s\" %d", i ? ", " : "",
                        text_with_commas(r[i].labels, text, sizeof text), r[i].labels);
    plot_script_add(
        &s, ")\nplot DATA using 1:($2*100) with linespoints lw 4 pt 7 ps 1.8 lc rgb '#1f77b4' "
            "title '(a) from scratch', \\\n"
            "     DATA using 1:($3*100) with linespoints lw 4 pt 7 ps 1.8 lc rgb '#ff7f0e' "
            "title '(b) self-supervised, fine-tuned', \\\n"
            "     DATA using 1:($4*100) with lines lw 4 lc rgb '#2ca02c' "
            "title '(c) chapter 06 (all 60,000 labels)', \\\n"
            "     DATA using 1:($5*100) with linespoints lw 3 dt 2 pt 6 ps 1.6 lc rgb '#1f77b4' "
            "title 'probe of (a)', \\\n"
            "     DATA using 1:($6*100) with linespoints lw 3 dt 2 pt 6 ps 1.6 lc rgb '#ff7f0e' "
            "title 'probe of (b), frozen before fine-tuning', \\\n"
            "     DATA using 1:($7*100) with linespoints lw 3 dt 2 pt 6 ps 1.6 lc rgb '#2ca02c' "
            "title 'probe of (c)'\n");
    plot.width = 1600;
    plot.height = 1100;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// The pretext loss and accuracy by epoch; the score of always guessing the
// most common level.
static void figure_pretraining(const Pretraining *p, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "pretraining",
                             "epoch  train_loss  train_accuracy  test_accuracy (pretext; epoch 0: "
                             "at initialisation, test only)",
                             &err),
                  program, &err);
    for (int e = 0; e <= p->epochs; e++) {
        if (e == 0)
            plot_printf(&plot, "0 NaN NaN %.4f\n", p->test[0]);
        else
            plot_printf(&plot, "%d %.4f %.4f %.4f\n", e, p->loss[e], p->accuracy[e], p->test[e]);
    }
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot layout 1,2 title \"Pre-training without labels: predicting "
                    "the mean intensity of corrupted patches (8 levels)\" font ',22'\n"
                    "set grid\nset tics font ',16'\nset key font ',16'\nset xlabel 'epoch' "
                    "font ',18'\nset xrange [0:%d]\nset xtics 1\n"
                    "set title 'pretext loss (cross-entropy, corrupted patches)' font ',18'\n"
                    "set key top right\nplot DATA using 1:2 with linespoints lw 4 pt 7 ps 1.6 "
                    "lc rgb '#ff7f0e' title 'training'\n"
                    "set title 'pretext accuracy' font ',18'\nset key top left\n"
                    "set format y '%%.0f%%%%'\nset ylabel 'patches whose level is right' "
                    "font ',16'\n"
                    "plot DATA using 1:($3*100) with linespoints lw 4 pt 7 ps 1.6 lc rgb "
                    "'#ff7f0e' title 'training', \\\n"
                    "     DATA using 1:($4*100) with linespoints lw 4 pt 5 ps 1.6 lc rgb "
                    "'#1f77b4' title 'test (%d images)', \\\n"
                    "     %.4f with lines dt 2 lw 3 lc rgb '#555555' title 'always the most "
                    "common level'\n"
                    "unset multiplot\n",
                    p->epochs, PRETEXT_TEST, 100.0 * p->majority);
    plot.width = 1800;
    plot.height = 800;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// ---- the report --------------------------------------------------------------------------

static void print_table(const Budget *r, int count, double supervised, const Pretraining *p,
                        int test_count) {
    printf("\nTest accuracy (all %d test images):\n\n", test_count);
    printf("  labels | (a) scratch | (b) self-supervised | (c) chapter 06 | probe (a) | "
           "probe (b) | probe (c)\n");
    printf("  -------|-------------|---------------------|----------------|-----------|"
           "-----------|----------\n");
    for (int i = 0; i < count; i++)
        printf("  %6d |    %6.2f%%  |        %6.2f%%      |     %6.2f%%    |  %6.2f%%  |  "
               "%6.2f%%  |  %6.2f%%\n",
               r[i].labels, 100 * r[i].scratch, 100 * r[i].finetuned, 100 * supervised,
               100 * r[i].probe_scratch, 100 * r[i].probe_ssl, 100 * r[i].probe_supervised);
    printf("\n  (b) - (a), what self-supervision gave; (c) - (b), what it left to labels:\n");
    bool ordered = true;
    for (int i = 0; i < count; i++) {
        double gain = r[i].finetuned - r[i].scratch, gap = supervised - r[i].finetuned;
        ordered = ordered && gain > 0 && gap > 0;
        printf("  %6d labels: %+.2f points, %+.2f points (probes: %+.2f, %+.2f)\n", r[i].labels,
               100 * gain, 100 * gap, 100 * (r[i].probe_ssl - r[i].probe_scratch),
               100 * (r[i].probe_supervised - r[i].probe_ssl));
    }
    printf("\n  The paper (ViT-B/16, ImageNet): self-supervised 79.9%%, +2 points over scratch, "
           "4 below\n  supervised pre-training. This miniature %s that order at every budget.\n",
           ordered ? "shows" : "does NOT show");
    if (p->epochs > 0)
        printf("  Pre-training: %d epochs, pretext test accuracy %.2f%% (always the most common "
               "level: %.2f%%).\n",
               p->epochs, 100 * p->test[p->epochs], 100 * p->majority);
}

// ---- the chapter -----------------------------------------------------------------------

static void parse_options(int argc, char **argv, Options *opt) {
    *opt = (Options){.out = "figures/ch12",
                     .models = MODELS_DIR,
                     .vit_model = VIT_MODEL_PATH,
                     .labels = "1000,5000",
                     .pretrain_epochs = 4,
                     .epochs = 10,
                     .min_steps = 400,
                     .batch = 128,
                     .lr = 2e-3f,
                     .finetune_lr = 2e-3f,
                     .weight_decay = 0.05f,
                     .clip = 1.0f,
                     .label_smoothing = 0.1f,
                     .l2 = 10.0};
    CliOption options[] = {
        {"pretrain-epochs", CLI_INT, &opt->pretrain_epochs,
         "epochs of masked patch prediction on the training images", 1, MAX_EPOCHS, "N"},
        {"labels", CLI_STRING, &opt->labels, "labelled training images, ascending: 1000,5000", 0, 0,
         "LIST"},
        {"epochs", CLI_INT, &opt->epochs, "fine-tuning: passes over the labelled images", 1,
         MAX_EPOCHS, "N"},
        {"min-steps", CLI_INT, &opt->min_steps, "fine-tuning: but at least this many steps", 0,
         1000000, "N"},
        {"batch", CLI_INT, &opt->batch, "images per step", 1, 4096, "B"},
        {"lr", CLI_FLOAT, &opt->lr, "pre-training's peak learning rate (AdamW)", 1e-6, 1, "X"},
        {"finetune-lr", CLI_FLOAT, &opt->finetune_lr, "fine-tuning's (the same for (a) and (b))",
         1e-6, 1, "X"},
        {"l2", CLI_FLOAT, &opt->l2, "the linear probes' L2 strength", 1e-6, 1e9, "X"},
        {"train-limit", CLI_INT, &opt->train_limit,
         "pre-train on the first N training images (0: all)", 0, 60000, "N"},
        {"retrain", CLI_SWITCH, &opt->retrain, "pre-train again even if the model is saved", 0, 0,
         NULL},
        {"models", CLI_STRING, &opt->models, "where vit_mpp.safetensors is kept", 0, 0, "DIR"},
        {"vit-model", CLI_STRING, &opt->vit_model, "chapter 06's ViT, the supervised line (c)", 0,
         0, "FILE"},
        {"seed", CLI_INT, &opt->seed, "initial weights, image order, corruptions", 0, 2147483647,
         NULL},
        {"threads", CLI_INT, &opt->threads, "threads (0: all cores)", 0, 256, "N"},
        fashion_mnist_data_option(&opt->data_dir),
        cli_out_option(&opt->out),
    };
    cli_parse_or_exit(argc, argv,
                      "Chapter 12: self-supervision by masked patch prediction, then few labels: "
                      "from scratch, self-supervised, supervised.",
                      options, sizeof options / sizeof options[0]);
}

// Chapter 06's ViT, the supervised line: opened, and its shape the one pre-trained.
static Vit *open_supervised(const Options *opt, const FashionMnist *test, double *accuracy) {
    const ModelKind *kinds[] = {&vit_kind};
    Model *m;
    float mean, std;
    Error err;
    narrate_check(
        checkpoint_open(opt->vit_model, kinds, 1, opt->batch, 0.0f, &m, &mean, &std, &err), program,
        &err);
    narrate_check(model_takes(m, S, S, 1, opt->vit_model, &err), program, &err);
    if (m->num_classes != K || mean != FASHION_MNIST_MEAN || std != FASHION_MNIST_STD) {
        error_set(&err, "%s: not chapter 06's Fashion-MNIST classifier (%d classes)",
                  opt->vit_model, m->num_classes);
        error_exit(program, &err, 1);
    }
    *accuracy = evaluate(m, test, test->count, mean, std, NULL, NULL);
    return vit_of(m);
}

int main(int argc, char **argv) {
    Options opt;
    parse_options(argc, argv, &opt);
    if (opt.threads > 0) train_set_threads(opt.threads);
    checkpoint_require(program, opt.vit_model, "build/ch06_classifier");
    const char *dir = fashion_mnist_dir(opt.data_dir);
    FashionMnist train, test;
    Error err;
    narrate_check(fashion_mnist_load(&train, dir, FASHION_MNIST_TRAIN, &err) &&
                      fashion_mnist_check_size(&train, S, S, &err) &&
                      fashion_mnist_load(&test, dir, FASHION_MNIST_TEST, &err) &&
                      fashion_mnist_check_size(&test, S, S, &err),
                  program, &err);
    int budgets[MAX_BUDGETS], count = parse_labels(opt.labels, budgets, train.count);
    char path[1024];
    snprintf(path, sizeof path, "%s/vit_mpp.safetensors", opt.models);
    narrate_check(plot_dir_check(opt.out, &err), program, &err);
    double start = progress_now(), supervised_accuracy;
    Vit *supervised = open_supervised(&opt, &test, &supervised_accuracy);
    const VitConfig *cfg = &supervised->cfg;
    printf("Chapter 12: self-supervision by masked patch prediction\n\n");
    printf("Chapter 06's ViT (%s, trained on all 60,000 labels): test accuracy %.4f.\n",
           opt.vit_model, supervised_accuracy);
    printf("The self-supervised ViT has its shape: %dx%d patches of %dx%d, width %d, %d layers,\n"
           "%d heads; a [mask] embedding and a linear head to %d mean-intensity levels.\n\n",
           S / cfg->patch_size, S / cfg->patch_size, cfg->patch_size, cfg->patch_size,
           cfg->hidden_dim, cfg->num_layers, cfg->num_heads, MPP_LEVELS);

    FashionMnist pretrain_set = train;
    if (opt.train_limit > 0 && opt.train_limit < train.count) pretrain_set.count = opt.train_limit;
    char images[32];
    printf("1. Pre-training on %s training images, labels never read:\n",
           text_with_commas(pretrain_set.count, images, sizeof images));
    narrate_check(make_dirs(opt.models, &err), program, &err);
    MppVit ssl;
    Pretraining p = {0};
    pretrained_model(&ssl, &p, cfg, &pretrain_set, &test, &opt, path);
    if (!p.reused) printf("  saved to %s (%.0f s)\n", path, p.seconds);

    printf("\n2. Few labels: (a) from scratch, (b) fine-tuned from the self-supervised\n"
           "   encoder, and linear probes of the frozen features (tested on %d images):\n",
           test.count);
    FashionMnist labelled = fashion_mnist_shuffled(&train, opt.seed);
    Budget runs[MAX_BUDGETS] = {0};
    for (int i = 0; i < count; i++) {
        runs[i].labels = budgets[i];
        compare(&runs[i], cfg, &ssl, supervised, &labelled, &test, &opt);
    }
    print_table(runs, count, supervised_accuracy, &p, test.count);

    narrate_check(make_dirs(opt.out, &err), program, &err);
    figure_corruption(&ssl, &test, &opt);
    figure_labels(runs, count, supervised_accuracy, &opt);
    if (p.epochs > 0) figure_pretraining(&p, &opt);
    printf("\nFigures written to %s/: corruption, accuracy_vs_labels%s\n", opt.out,
           p.epochs > 0 ? ", pretraining" : "");
    printf("The whole run: %.1f minutes.\n", (progress_now() - start) / 60.0);
    fashion_mnist_free(&labelled);
    mpp_vit_free(&ssl);
    supervised->model.kind->close(&supervised->model);
    fashion_mnist_free(&train);
    fashion_mnist_free(&test);
    return 0;
}

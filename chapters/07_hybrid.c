// 07_hybrid.c — chapter 07: the hybrid, a ResNet stem whose feature map is
// cut into 1x1 patches, beside a CNN; and how much data each model needs.
//
// Three models on one recipe: chapter 06's ViT (16 patches of 7x7), the
// hybrid (the same 16 tokens, each a position of a ResNet stem's 4x4 map) and
// a CNN (the ResNet carried on, averaged, classified). The program trains the
// three on nested random subsets of the training images (the data-hunger
// experiment), each run under one budget rule, tests every run on the 10,000
// test images, saves the hybrid and the CNN trained on all the images to
// build/models/, and prints one table: parameters, FLOPs, speed, epochs,
// accuracy; chapter 06's ViT (build/models/vit.safetensors) is tested beside them.
//
//   build/ch07_hybrid                  the experiment, the table, the figures
//   build/ch07_hybrid --full           a finer curve: seven sizes
//   build/ch07_hybrid --model hybrid   train one model (vit|hybrid|cnn) on all the images
//   build/ch07_hybrid --grid 7         the hybrid's 7x7 variant: 49 tokens
//   build/ch07_hybrid --eval-only build/models/hybrid.safetensors [--predictions p.csv]
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ch07.h"

enum {
    K = FASHION_MNIST_CLASSES,
    MAX_EPOCHS = 1000,
    MAX_SIZES = 8,
    MAPS_IMAGE = 0, // the test image whose stem maps the figure shows
};

typedef enum { VIT, HYBRID, CNN, MODEL_KINDS } Which;
static const char *const which_names[MODEL_KINDS] = {"vit", "hybrid", "cnn"};
static const char *const which_titles[MODEL_KINDS] = {"ViT", "hybrid", "CNN"};

typedef struct {
    const char *data_dir;    // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    const char *out;         // where the figures go
    const char *model;       // "all", or the one model to train: vit, hybrid, cnn
    const char *vit_model;   // chapter 06's ViT, tested beside the others
    const char *models;      // where the hybrid and the CNN are saved
    const char *sizes;       // the training-set sizes of the experiment, "1000,3000,..."
    const char *eval_only;   // only test this checkpoint (any of the three kinds)
    const char *predictions; // with eval_only: every test image's logits, as a CSV
    int epochs, min_steps, batch, seed, threads, grid, shift;
    float lr, weight_decay, label_smoothing, clip, dropout;
    bool augment, full, small_root, deep_stem;
} Options;

static const char *program = "ch07_hybrid";

// A bad combination of flags: one line, exit 2.
static _Noreturn void refuse(const char *message) {
    fprintf(stderr, "%s: %s\n", program, message);
    exit(2);
}

// ---- the three models ---------------------------------------------------------------

// The root: the paper's 7x7 convolution with stride 2, made for 224x224
// images, or with --small-root a 3x3 one with stride 1 that keeps a 28x28
// image's detail; the max pool follows either.
static ResNetConfig with_root(ResNetConfig c, const Options *opt) {
    if (opt->small_root) c.root_kernel = 3, c.root_stride = 1;
    return c;
}

// The hybrid's stem: one bottleneck unit, or with --deep-stem the CNN's first
// two stages (four units; the paper's hybrids, too, take a ResNet's first
// stages). Its last stage's stride is 2 (the paper's) where that gives the
// --grid, else 1 (the paper's root and a 7x7 grid: 49 tokens).
static ResNetConfig hybrid_stem(const Options *opt) {
    ResNetConfig stem = with_root(opt->deep_stem ? resnet_cnn_body : resnet_hybrid_stem, opt);
    if (opt->deep_stem) { // the CNN's third stage left out
        stem.num_stages = 2;
        stem.units[2] = stem.width[2] = stem.stride[2] = 0;
    }
    int *last = &stem.stride[stem.num_stages - 1];
    for (*last = 2; *last >= 1; (*last)--)
        if (resnet_out_side(&stem) == opt->grid) return stem;
    refuse("--small-root leaves a 14x14 map after the max pool: the hybrid's grid is 7, not 4");
}

static ResNetConfig cnn_body(const Options *opt) {
    return with_root(resnet_cnn_body, opt);
}

// Every model the flags describe fits in memory for batches of --batch B
// (each size an int can index); else one line naming --batch, exit 2.
static void check_batch(const Options *opt) {
    ResNetConfig stem = hybrid_stem(opt), body = cnn_body(opt);
    VitConfig encoder = hybrid_encoder_config(&stem, &vit_small);
    Error err;
    cli_check_or_exit(vit_sizes_check(&vit_small, opt->batch, &err) &&
                          hybrid_sizes_check(&stem, &encoder, opt->batch, &err) &&
                          cnn_sizes_check(&body, K, opt->batch, &err),
                      program, "batch", opt->batch, &err);
}

// region: three-models
// A new model of kind w for batches of B images, initialised from rng.
static Model *model_new(Which w, const Options *opt, Rng *rng) {
    HeadOptions head = {0}; // the class token into a linear classifier
    if (w == VIT) {
        Vit *m = xmalloc(sizeof *m);
        vit_build(m, &vit_small, &head, opt->dropout, opt->batch);
        vit_init(m, rng);
        return &m->model;
    }
    if (w == HYBRID) {
        Hybrid *m = xmalloc(sizeof *m);
        ResNetConfig stem = hybrid_stem(opt);
        VitConfig encoder = hybrid_encoder_config(&stem, &vit_small);
        hybrid_build(m, &stem, &encoder, &head, opt->dropout, opt->batch);
        hybrid_init(m, rng);
        return &m->model;
    }
    Cnn *m = xmalloc(sizeof *m);
    ResNetConfig body = cnn_body(opt);
    cnn_build(m, &body, K, opt->dropout, opt->batch);
    cnn_init(m, rng);
    return &m->model;
}
// endregion: three-models

// Parameters and FLOPs of one image's forward pass, from the shapes.
static void model_costs(Which w, const Options *opt, long long *params, double *flops) {
    ResNetConfig stem = hybrid_stem(opt), body = cnn_body(opt);
    VitConfig encoder = hybrid_encoder_config(&stem, &vit_small);
    switch (w) {
    case VIT:
        *params = vit_param_count(&vit_small);
        *flops = vit_forward_flops(&vit_small);
        return;
    case HYBRID:
        *params = hybrid_param_count(&stem, &encoder);
        *flops = hybrid_forward_flops(&stem, &encoder);
        return;
    default: *params = cnn_param_count(&body, K); *flops = cnn_forward_flops(&body, K);
    }
}

static void narrate_models(const Options *opt) {
    ResNetConfig stem = hybrid_stem(opt), body = cnn_body(opt);
    int side = resnet_out_side(&stem), channels = resnet_out_channels(&stem);
    int k = stem.root_kernel, body_side = resnet_out_side(&body);
    printf("The three models (28x28 gray images, 10 classes):\n");
    printf("  ViT     16 patches of 7x7 -> 17 tokens of width 64 -> 6 blocks -> class token -> "
           "linear\n");
    printf("  hybrid  ResNet stem: %dx%d/%d StdConv (16) + GroupNorm + ReLU, 3x3/2 max pool,\n", k,
           k, stem.root_stride);
    if (opt->deep_stem)
        printf("          the CNN's stages 1, 2 (4 units, strides 1, %d)", stem.stride[1]);
    else
        printf("          one bottleneck unit of width 16, stride %d", stem.stride[0]);
    printf(" -> a %dx%d map of %d channels;\n"
           "          each position a 1x1 patch -> %d tokens of width 64 -> the ViT's 6 blocks "
           "and head\n",
           side, side, channels, side * side + 1);
    printf("  CNN     the same root, then 3 stages of 2 bottleneck units (widths 16, 32, 64;\n"
           "          strides 1, 2, 2) -> a %dx%d map of %d channels -> average -> linear\n",
           body_side, body_side, resnet_out_channels(&body));
    for (Which w = VIT; w < MODEL_KINDS; w++) {
        long long params;
        double flops;
        model_costs(w, opt, &params, &flops);
        char text[32];
        printf("  %-7s %9s parameters, %5.2f MFLOPs an image (forward)\n", which_titles[w],
               text_with_commas((double)params, text, sizeof text), flops / 1e6);
    }
}

// ---- the budget rule and one training run -------------------------------------------

// region: budget
// The budget rule, the same for the three models and every size: `epochs`
// passes over the subset, but at least `min_steps` steps of B images, so that
// a small subset is not also a short run. Warmup: the first eighth of the
// steps (chapter 06: one epoch of eight).
static int run_epochs(int count, const Options *opt) {
    long steps_per_epoch = (count + opt->batch - 1) / opt->batch;
    long epochs = (opt->min_steps + steps_per_epoch - 1) / steps_per_epoch;
    return epochs > opt->epochs ? (int)epochs : opt->epochs;
}
// endregion: budget

typedef struct {
    int epoch; // 1-based
    EpochResult train;
    double test_accuracy;
} EpochLog;

typedef struct {
    Which which;
    int count, epochs;
    long steps;
    double train_loss, train_accuracy, test_accuracy;
    double images_per_s, seconds;
    EpochLog *log; // (epochs) when asked for: the test accuracy after every epoch
} Run;

static TrainOptions train_options(const Options *opt, int epochs) {
    return (TrainOptions){.epochs = epochs,
                          .batch = opt->batch,
                          .lr = opt->lr,
                          .weight_decay = opt->weight_decay,
                          .warmup = (float)epochs / 8.0f,
                          .label_smoothing = opt->label_smoothing,
                          .clip = opt->clip,
                          .shift = train_shift_pixels(opt->augment, opt->shift),
                          .mirror = opt->augment,
                          .image_mean = FASHION_MNIST_MEAN,
                          .image_std = FASHION_MNIST_STD,
                          .seed = opt->seed};
}

// region: one-run
// Trains a new model of kind r->which (initial weights from seed opt->seed) on
// the first r->count images of train under the budget rule; tests it on test
// after the last epoch (after every epoch, printed, when r->log is set). Saves
// it to save unless NULL.
static void train_run(Run *r, const FashionMnist *train, const FashionMnist *test,
                      const Options *opt, const char *save) {
    Rng rng;
    rng_seed(&rng, (uint64_t)opt->seed);
    Model *m = model_new(r->which, opt, &rng);
    r->epochs = run_epochs(r->count, opt);
    TrainOptions o = train_options(opt, r->epochs);
    Trainer t;
    Error err;
    narrate_check(trainer_build(&t, m, train, r->count, &o, &err), program, &err);
    r->steps = t.total_steps;
    double training = 0, start = progress_now(); // seconds in trainer_epoch; in all
    while (t.epoch < r->epochs) {
        EpochResult e = trainer_epoch(&t, NULL);
        training += e.seconds;
        r->train_loss = e.loss, r->train_accuracy = e.accuracy;
        if (r->log == NULL && t.epoch < r->epochs) continue;
        r->test_accuracy = evaluate(m, test, test->count, o.image_mean, o.image_std, NULL, NULL);
        if (r->log == NULL) continue;
        r->log[t.epoch - 1] = (EpochLog){t.epoch, e, r->test_accuracy};
        printf("  %-7s epoch %2d/%d  train loss %.4f  train acc %.4f  test acc %.4f\n",
               which_titles[r->which], t.epoch, r->epochs, e.loss, e.accuracy, r->test_accuracy);
        fflush(stdout);
    }
    r->images_per_s = (double)r->epochs * r->count / training;
    r->seconds = progress_now() - start;
    if (save != NULL)
        narrate_check(checkpoint_save(save, m, o.image_mean, o.image_std, &err), program, &err);
    trainer_free(&t);
    m->kind->close(m);
}
// endregion: one-run

static void narrate_run(const Run *r) {
    char count[32];
    printf("  %-7s %7s images  %3d epochs (%5ld steps)  train loss %.3f acc %.4f  "
           "test acc %.4f  %5.0f img/s  %5.1f s\n",
           which_titles[r->which], text_with_commas(r->count, count, sizeof count), r->epochs,
           r->steps, r->train_loss, r->train_accuracy, r->test_accuracy, r->images_per_s,
           r->seconds);
    fflush(stdout);
}

// ---- the data-hunger experiment ------------------------------------------------------

// "1000,3000,60000" into sizes (ascending, each 1..limit); returns how many.
static int parse_sizes(const char *text, int *sizes, int limit) {
    int n = 0;
    const char *p = text;
    char message[160];
    while (*p != '\0') {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        bool ok = end != p && errno == 0 && x >= 1 && x <= limit && (*end == ',' || *end == '\0') &&
                  (n == 0 || x > sizes[n - 1]) && n < MAX_SIZES;
        if (!ok) {
            snprintf(message, sizeof message,
                     "--sizes %s: expected up to %d ascending numbers of images in 1..%d, "
                     "separated by commas",
                     text, MAX_SIZES, limit);
            refuse(message);
        }
        sizes[n++] = (int)x;
        p = *end == ',' ? end + 1 : end;
    }
    if (n == 0) refuse("--sizes: no sizes given");
    return n;
}

typedef struct {
    int sizes[MAX_SIZES], size_count;
    Run runs[MAX_SIZES][MODEL_KINDS]; // [size][model]
    bool trained[MODEL_KINDS];        // which models this invocation trains
} Experiment;

// The path a trained model of kind w is saved to (the ViT: not saved; chapter 06's is the one).
static const char *save_path(Which w, const Options *opt, char *buf, size_t size) {
    if (w == VIT) return NULL;
    snprintf(buf, size, "%s/%s.safetensors", opt->models, which_names[w]);
    return buf;
}

// region: experiment
// Every model asked for on every subset, smallest first; the runs on the largest
// subset also test after every epoch (the training curves) and are saved.
static void run_experiment(Experiment *x, const FashionMnist *train, const FashionMnist *test,
                           const Options *opt) {
    for (int i = 0; i < x->size_count; i++) {
        bool largest = i == x->size_count - 1;
        for (Which w = VIT; w < MODEL_KINDS; w++) {
            if (!x->trained[w]) continue;
            Run *r = &x->runs[i][w];
            *r = (Run){.which = w, .count = x->sizes[i]};
            if (largest) r->log = xcalloc(run_epochs(r->count, opt), sizeof(EpochLog));
            char path[1024];
            train_run(r, train, test, opt, largest ? save_path(w, opt, path, sizeof path) : NULL);
            narrate_run(r);
        }
    }
}
// endregion: experiment

// ---- chapter 06's ViT, tested here ----------------------------------------------------

typedef struct {
    double accuracy;
    long long params;
    long epochs; // from its optimizer's state beside it; -1 when that is missing
} SavedVit;

static SavedVit test_saved_vit(const char *path, const FashionMnist *test, int B) {
    const ModelKind *kinds[] = {&vit_kind};
    Model *m;
    float mean, std;
    Error err;
    narrate_check(checkpoint_open(path, kinds, 1, B, 0.0f, &m, &mean, &std, &err), program, &err);
    narrate_check(model_takes(m, test->rows, test->cols, 1, path, &err), program, &err);
    SavedVit v = {.accuracy = evaluate(m, test, test->count, mean, std, NULL, NULL),
                  .params = (long long)m->params->total,
                  .epochs = -1};
    char state[1024];
    trainer_state_path(state, sizeof state, path);
    SafetensorsMeta meta;
    long long epochs;
    if (safetensors_read_meta(state, &meta, &err) &&
        meta_long(&meta, "epoch", 0, MAX_EPOCHS, &epochs, state, &err))
        v.epochs = (long)epochs;
    m->kind->close(m);
    return v;
}

// ---- the table -----------------------------------------------------------------------

static void print_table(const Experiment *x, const SavedVit *saved, const Options *opt) {
    const Run *last = x->runs[x->size_count - 1];
    char count[32], params[32];
    printf("\nOn %s training images, the same recipe for all (seed %d):\n\n",
           text_with_commas(x->sizes[x->size_count - 1], count, sizeof count), opt->seed);
    printf("  model               parameters  MFLOPs/image  train img/s  epochs  test accuracy\n");
    for (Which w = VIT; w < MODEL_KINDS; w++) {
        if (!x->trained[w]) continue;
        long long p;
        double flops;
        model_costs(w, opt, &p, &flops);
        printf("  %-18s %11s  %12.2f  %11.0f  %6d  %12.2f%%\n", which_titles[w],
               text_with_commas((double)p, params, sizeof params), flops / 1e6,
               last[w].images_per_s, last[w].epochs, 100.0 * last[w].test_accuracy);
    }
    if (saved == NULL) return;
    char epochs[24] = "?";
    if (saved->epochs >= 0) snprintf(epochs, sizeof epochs, "%ld", saved->epochs);
    printf("  %-18s %11s  %12.2f  %11s  %6s  %12.2f%%\n", "ViT of chapter 06",
           text_with_commas((double)saved->params, params, sizeof params),
           vit_forward_flops(&vit_small) / 1e6, "-", epochs, 100.0 * saved->accuracy);
    printf("\n(The last row is %s, trained by chapter 06 with its own\n"
           "epochs; the rows above were trained here, on this recipe.)\n",
           opt->vit_model);
}

// ---- figures ---------------------------------------------------------------------------

static const char *const which_colors[MODEL_KINDS] = {"#1f77b4", "#ff7f0e", "#2ca02c"};

// Test accuracy against the number of training images (log scale), one line a
// model; the title states the budget rule.
static void figure_data_hunger(const Experiment *x, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "data_hunger",
                             "images  epochs  vit_accuracy  hybrid_accuracy  cnn_accuracy", &err),
                  program, &err);
    for (int i = 0; i < x->size_count; i++)
        plot_printf(&plot, "%d %d %.4f %.4f %.4f\n", x->sizes[i], x->runs[i][HYBRID].epochs,
                    x->runs[i][VIT].test_accuracy, x->runs[i][HYBRID].test_accuracy,
                    x->runs[i][CNN].test_accuracy);
    PlotScript s = {0};
    plot_script_add(
        &s,
        "set title \"Test accuracy (all 10,000 test images) against training images\\n"
        "{/*0.75 every run: %d epochs of its subset, or %d steps of %d images if that "
        "is more; the same recipe for the three; the last epoch's model}\" "
        "font ',22'\n"
        "set logscale x\nset grid\nset tics font ',16'\nset key bottom right font ',18'\n"
        "set xlabel 'training images (nested random subsets of the 60,000)' "
        "font ',18'\nset ylabel 'test accuracy' font ',18'\n"
        "set format y '%%.0f%%%%'\nset xrange [%g:%g]\nset xtics (",
        opt->epochs, opt->min_steps, opt->batch, x->sizes[0] / 1.5,
        x->sizes[x->size_count - 1] * 1.5);
    char count[32];
    for (int i = 0; i < x->size_count; i++)
        plot_script_add(&s, "%s\"%s\" %d", i ? ", " : "",
                        text_with_commas(x->sizes[i], count, sizeof count), x->sizes[i]);
    plot_script_add(&s, ")\nplot ");
    for (Which w = VIT; w < MODEL_KINDS; w++)
        plot_script_add(&s,
                        "%sDATA using 1:($%d*100) with linespoints lw 4 pt 7 ps 1.8 lc rgb '%s' "
                        "title '%s'",
                        w ? ", \\\n     " : "", 3 + w, which_colors[w], which_titles[w]);
    plot_script_add(&s, "\n");
    plot.width = 1600;
    plot.height = 1000;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// The table on the full training set as a picture (without the speeds, which
// differ from run to run: the figures are the same bytes every time).
static void figure_table(const Experiment *x, const SavedVit *saved, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(
        plot_begin(&plot, opt->out, "accuracy_table",
                   "\"model\" \"parameters\" \"MFLOPs/image\" \"epochs\" \"test accuracy\"", &err),
        program, &err);
    const Run *last = x->runs[x->size_count - 1];
    char params[32];
    for (Which w = VIT; w < MODEL_KINDS; w++) {
        long long p;
        double flops;
        model_costs(w, opt, &p, &flops);
        plot_printf(&plot, "\"%s\" \"%s\" \"%.2f\" \"%d\" \"%.2f%%\"\n", which_titles[w],
                    text_with_commas((double)p, params, sizeof params), flops / 1e6, last[w].epochs,
                    100.0 * last[w].test_accuracy);
    }
    plot_printf(&plot, "\"ViT of chapter 06\" \"%s\" \"%.2f\" \"%ld\" \"%.2f%%\"\n",
                text_with_commas((double)saved->params, params, sizeof params),
                vit_forward_flops(&vit_small) / 1e6, saved->epochs, 100.0 * saved->accuracy);
    char count[32];
    PlotScript s = {0};
    plot_script_add(
        &s,
        "set title \"Fashion-MNIST, %s training images, one recipe (AdamW, cosine, label "
        "smoothing %g)\" font ',22'\n"
        "unset border\nunset tics\nunset key\nset xrange [0:5]\nset yrange [-0.5:5.5]\n"
        "set label 1 'model' at 0.1,5 font ',20:Bold'\n"
        "set label 2 'parameters' at 1.7,5 center font ',20:Bold'\n"
        "set label 3 'MFLOPs / image' at 2.6,5 center font ',20:Bold'\n"
        "set label 4 'epochs' at 3.45,5 center font ',20:Bold'\n"
        "set label 5 'test accuracy' at 4.35,5 center font ',20:Bold'\n"
        "set arrow 1 from 0.05,4.5 to 4.95,4.5 nohead lw 2\n"
        "plot DATA using (0.1):(4-$0):1 with labels left font ',20', \\\n"
        "     '' using (1.7):(4-$0):2 with labels center font ',20', \\\n"
        "     '' using (2.6):(4-$0):3 with labels center font ',20', \\\n"
        "     '' using (3.45):(4-$0):4 with labels center font ',20', \\\n"
        "     '' using (4.35):(4-$0):5 with labels center font ',20'\n",
        text_with_commas(x->sizes[x->size_count - 1], count, sizeof count), opt->label_smoothing);
    plot.width = 1600;
    plot.height = 600;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// Training loss and test accuracy after every epoch, the three models side by side.
static void figure_curves(const Experiment *x, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "training_curves",
                             "one block a model (vit, hybrid, cnn): "
                             "epoch train_loss train_accuracy test_accuracy",
                             &err),
                  program, &err);
    const Run *last = x->runs[x->size_count - 1];
    for (Which w = VIT; w < MODEL_KINDS; w++) {
        for (int e = 0; e < last[w].epochs; e++) {
            const EpochLog *l = &last[w].log[e];
            plot_printf(&plot, "%d %.6f %.6f %.6f\n", l->epoch, l->train.loss, l->train.accuracy,
                        l->test_accuracy);
        }
        plot_end_block(&plot);
    }
    char count[32];
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot layout 1,2 title \"Training on %s images: the ViT, the hybrid "
                    "and the CNN\" font ',22'\n"
                    "set grid\nset tics font ',16'\nset xlabel 'epoch' font ',18'\n"
                    "set xtics 1\nset xrange [0.5:%d.5]\nset key font ',16'\n",
                    text_with_commas(x->sizes[x->size_count - 1], count, sizeof count),
                    last[HYBRID].epochs);
    const char *panels[2][3] = {{"training loss (mean over the epoch)", "top right", "2"},
                                {"test accuracy (after the epoch)", "bottom right", "($4*100)"}};
    for (int p = 0; p < 2; p++) {
        plot_script_add(&s, "set title '%s' font ',20'\nset key %s\n%splot ", panels[p][0],
                        panels[p][1], p ? "set format y '%.0f%%'\n" : "");
        for (Which w = VIT; w < MODEL_KINDS; w++)
            plot_script_add(&s,
                            "%sDATA index %d using 1:%s with linespoints lw 4 pt 7 ps 1.5 "
                            "lc rgb '%s' title '%s'",
                            w ? ", \\\n     " : "", w, panels[p][2], which_colors[w],
                            which_titles[w]);
        plot_script_add(&s, "\n");
    }
    plot_script_add(&s, "unset multiplot\n");
    plot.width = 1800;
    plot.height = 750;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// region: receptive-field
// The window of input pixels one position of the stem's map depends on: its
// side, where the window of position 0 starts (negative: in the padding), and
// how far apart the windows of neighbouring positions are (the product of the
// strides). Each layer of kernel k widens the window by (k-1) times the
// stride of all the layers before it; a 1x1 convolution adds nothing.
static void stem_receptive_field(const ResNetConfig *stem, int *side, int *start, int *step) {
    int k[] = {stem->root_kernel, 3, 3};               // root conv, max pool, conv2
    int s[] = {stem->root_stride, 2, stem->stride[0]}; // their strides
    int pad[] = {stem->root_kernel / 2, 1, 1};         // and paddings
    int rf = 1, jump = 1, first = 0;
    for (int i = 0; i < 3; i++) {
        rf += (k[i] - 1) * jump;
        first -= pad[i] * jump;
        jump *= s[i];
    }
    *side = rf;
    *start = first;
    *step = jump;
}
// endregion: receptive-field

// The outline of a w x h rectangle at (x, y), clipped to the image, `t` pixels thick.
static void outline(Image *img, int x, int y, int w, int h, int t, Rgb color) {
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > img->width ? img->width : x + w,
        y1 = y + h > img->height ? img->height : y + h;
    image_fill_rect(img, x0, y0, x1 - x0, t, color);
    image_fill_rect(img, x0, y1 - t, x1 - x0, t, color);
    image_fill_rect(img, x0, y0, t, y1 - y0, color);
    image_fill_rect(img, x1 - t, y0, t, y1 - y0, color);
}

// Channel c of x (C,H,W) as a heatmap of side `tile`, from its own min to max.
static Image channel_tile(const float *x, int c, int H, int W, int tile) {
    const float *plane = x + (size_t)c * H * W;
    float lo = plane[0], hi = plane[0];
    for (int i = 1; i < H * W; i++) {
        lo = plane[i] < lo ? plane[i] : lo;
        hi = plane[i] > hi ? plane[i] : hi;
    }
    Image small = image_heatmap(plane, H, W, lo, hi > lo ? hi : lo + 1.0f);
    Image big = image_upscale(&small, tile / H);
    image_free(&small);
    return big;
}

// The trained hybrid's stem on one test image: the image with the window one
// token sees, the root's channels, the map's channels.
static void figure_stem_maps(const Options *opt, const FashionMnist *test) {
    char path[1024];
    save_path(HYBRID, opt, path, sizeof path);
    const ModelKind *kinds[] = {&hybrid_kind};
    Model *model;
    float mean, std;
    Error err;
    narrate_check(checkpoint_open(path, kinds, 1, 1, 0.0f, &model, &mean, &std, &err), program,
                  &err);
    Hybrid *m = hybrid_of(model);
    float image[28 * 28];
    fashion_mnist_normalized(test, MAPS_IMAGE, mean, std, image);
    model_forward(model, image, NULL, 1, 0.0f, false);
    const ResNetConfig *stem = &m->stem;
    int S = stem->image_size, S1 = resnet_root_side(stem), side = resnet_out_side(stem);
    int Cr = stem->root_width, Cmap = resnet_out_channels(stem), tile = 112;
    int count = 1 + Cr + Cmap;
    Image *tiles = xmalloc(sizeof(Image) * count);
    Image gray = image_from_gray(image, S, S, (0.0f - mean) / std, (1.0f - mean) / std);
    Image big = image_upscale(&gray, tile / S);
    tiles[0] = image_to_rgb(&big);
    int scale = tile / S, rf, start, step;
    stem_receptive_field(stem, &rf, &start, &step);
    int x = (start + step) * scale; // the window of the token at row 1, column 1
    outline(&tiles[0], x, x, rf * scale, rf * scale, 3, (Rgb){255, 40, 40});
    for (int c = 0; c < Cr; c++) tiles[1 + c] = channel_tile(m->x.stem.root_a, c, S1, S1, tile);
    for (int c = 0; c < Cmap; c++)
        tiles[1 + Cr + c] = channel_tile(resnet_out(&m->x.stem, stem), c, side, side, tile);
    Image grid = image_grid(tiles, count, 9, 4, (Rgb){255, 255, 255});
    snprintf(path, sizeof path, "%s/stem_maps.png", opt->out);
    narrate_check(image_write_png(path, &grid, &err), program, &err);
    for (int i = 0; i < count; i++) image_free(&tiles[i]);
    image_free(&gray), image_free(&big), image_free(&grid);
    free(tiles);
    model->kind->close(model);
    printf("  stem_maps.png: test image %d with the %dx%d window of pixels that the token at\n"
           "  row 1, column 1 of the %dx%d map depends on (red; neighbouring tokens' windows are\n"
           "  %d pixels apart); then the root's %d channels (%dx%d) and the map's %d channels\n"
           "  (%dx%d), each drawn from its own min to max.\n",
           MAPS_IMAGE, rf, rf, side, side, step, Cr, S1, S1, Cmap, side, side);
}

// ---- the chapter -----------------------------------------------------------------------

static const char *const default_sizes = "1000,3000,10000,60000";
static const char *const full_sizes = "500,1000,2000,5000,10000,20000,60000";

static void narrate_recipe(const Experiment *x, const Options *opt) {
    TrainOptions o = train_options(opt, 1);
    char augmentation[64] = "off";
    if (o.shift > 0)
        snprintf(augmentation, sizeof augmentation, "shifts of up to %d pixels%s", o.shift,
                 o.mirror ? " and mirror images" : "");
    printf("\nThe recipe, the same for every model and every run: AdamW (lr %g, weight decay %g),\n"
           "batches of %d, warmup over the first eighth of the steps then cosine decay, label\n"
           "smoothing %g, gradients clipped to norm %g, dropout %g, augmentation %s, seed %d.\n",
           opt->lr, opt->weight_decay, opt->batch, opt->label_smoothing, opt->clip, opt->dropout,
           augmentation, opt->seed);
    printf("The budget rule: %d epochs of the training subset, or %d steps if that is more.\n",
           opt->epochs, opt->min_steps);
    printf("Training subsets: the first");
    for (int i = 0; i < x->size_count; i++)
        printf("%s %d", i == 0 ? "" : i + 1 < x->size_count ? "," : " and", x->sizes[i]);
    printf(" images of one fixed random order\nof the training set (each subset holds the smaller "
           "ones). Every run is tested once, after\nits last epoch, on all 10,000 test images: "
           "nothing is chosen by looking at them.\n\n");
}

static void report(const Experiment *x, const SavedVit *saved, const Options *opt,
                   const FashionMnist *test) {
    print_table(x, saved, opt);
    char path[1024];
    for (Which w = HYBRID; w < MODEL_KINDS; w++)
        if (x->trained[w])
            printf("The %s is saved in %s.\n", which_titles[w],
                   save_path(w, opt, path, sizeof path));
    if (saved == NULL) return; // one model: no comparison to draw
    figure_data_hunger(x, opt);
    figure_table(x, saved, opt);
    figure_curves(x, opt);
    printf("\nFigures written to %s/: data_hunger, accuracy_table, training_curves, stem_maps\n",
           opt->out);
    figure_stem_maps(opt, test);
}

static Which parse_model(const char *name) {
    for (Which w = VIT; w < MODEL_KINDS; w++)
        if (strcmp(name, which_names[w]) == 0) return w;
    char message[128];
    snprintf(message, sizeof message, "--model must be vit, hybrid or cnn, got '%s'", name);
    refuse(message);
}

// The defaults, then the command line; refuses bad flags with one line, exit 2.
static void parse_options(int argc, char **argv, Options *opt) {
    *opt = (Options){.out = "figures/ch07",
                     .model = "all",
                     .vit_model = VIT_MODEL_PATH,
                     .models = MODELS_DIR,
                     .sizes = default_sizes,
                     .epochs = 4,
                     .min_steps = 200,
                     .batch = 128,
                     .seed = 0,
                     .grid = 0,
                     .lr = 2e-3f,
                     .weight_decay = 0.05f,
                     .label_smoothing = 0.1f,
                     .clip = 1.0f,
                     .dropout = 0.0f};
    CliOption options[] = {
        {"model", CLI_STRING, &opt->model,
         "train only this model (vit, hybrid or cnn), on all the images unless --sizes", 0, 0,
         "NAME"},
        {"epochs", CLI_INT, &opt->epochs, "the budget rule: epochs of each training subset", 1,
         MAX_EPOCHS, NULL},
        {"min-steps", CLI_INT, &opt->min_steps, "the budget rule: at least this many steps", 0,
         1000000, "N"},
        {"sizes", CLI_STRING, &opt->sizes, "training-set sizes of the experiment, ascending", 0, 0,
         "N,N,..."},
        {"full", CLI_SWITCH, &opt->full, "a finer curve: 500,1000,2000,5000,10000,20000,60000", 0,
         0, NULL},
        {"grid", CLI_INT, &opt->grid,
         "the hybrid's token grid: 4 (16 tokens; 7 with --small-root) or 7 (49)", 4, 7, "4|7"},
        {"batch", CLI_INT, &opt->batch, "images per step B", 1, 4096, "B"},
        {"lr", CLI_FLOAT, &opt->lr, "peak learning rate (AdamW)", 0, 1, NULL},
        {"weight-decay", CLI_FLOAT, &opt->weight_decay, "AdamW's decoupled weight decay", 0, 1,
         NULL},
        {"label-smoothing", CLI_FLOAT, &opt->label_smoothing, "label smoothing s", 0, 0.99, "S"},
        {"clip", CLI_FLOAT, &opt->clip, "largest global gradient norm (0: no clipping)", 0, 1e6,
         NULL},
        train_augment_option(&opt->augment),
        train_shift_option(&opt->shift),
        {"small-root", CLI_SWITCH, &opt->small_root,
         "a root for small images: a 3x3 stride-1 convolution, not the paper's 7x7 stride 2", 0, 0,
         NULL},
        {"deep-stem", CLI_SWITCH, &opt->deep_stem,
         "the hybrid's stem: the CNN's first two stages instead of one unit", 0, 0, NULL},
        {"dropout", CLI_FLOAT, &opt->dropout, "dropout rate while training", 0, 0.9, "P"},
        {"seed", CLI_INT, &opt->seed, "seed for the weights, the subsets, the order and dropout", 0,
         2147483647, NULL},
        {"threads", CLI_INT, &opt->threads, "threads (0: all cores)", 0, 256, "N"},
        {"vit-model", CLI_STRING, &opt->vit_model, "chapter 06's ViT, tested beside the others", 0,
         0, "FILE"},
        {"models", CLI_STRING, &opt->models, "directory the hybrid and the CNN are saved in", 0, 0,
         "DIR"},
        {"eval-only", CLI_STRING, &opt->eval_only,
         "only test this checkpoint (a ViT, a hybrid or a CNN)", 0, 0, "FILE"},
        {"predictions", CLI_STRING, &opt->predictions,
         "with --eval-only: write every test image's logits to this CSV", 0, 0, "FILE"},
        fashion_mnist_data_option(&opt->data_dir),
        cli_out_option(&opt->out),
    };
    cli_parse_or_exit(argc, argv,
                      "Chapter 07: the hybrid (a ResNet stem's map as 1x1 patches) beside a CNN "
                      "and the ViT, and how much data each needs.",
                      options, sizeof options / sizeof options[0]);
    if (opt->grid == 0) opt->grid = opt->small_root ? 7 : 4;
    if (opt->grid != 4 && opt->grid != 7) refuse("--grid must be 4 or 7");
    hybrid_stem(opt); // refuses a grid the root cannot give
    check_batch(opt);
    if (opt->full && opt->sizes != default_sizes) refuse("--full and --sizes do not go together");
    if (opt->full) opt->sizes = full_sizes;
    if (opt->predictions != NULL && opt->eval_only == NULL)
        refuse("--predictions goes with --eval-only FILE");
}

// --eval-only FILE: the test accuracy of a checkpoint of any of the three
// kinds, and with --predictions its logits for every test image (what
// tools/checkpoint_torch.py check compares PyTorch's with).
static void run_eval_only(const Options *opt, const FashionMnist *test) {
    const ModelKind *kinds[] = {&vit_kind, &hybrid_kind, &cnn_kind};
    Model *m;
    float mean, std;
    Error err;
    narrate_check(
        checkpoint_open(opt->eval_only, kinds, 3, opt->batch, 0.0f, &m, &mean, &std, &err) &&
            model_takes(m, test->rows, test->cols, 1, opt->eval_only, &err),
        program, &err);
    if (m->num_classes != K) {
        error_set(&err, "%s: a model for %d classes, not Fashion-MNIST's %d", opt->eval_only,
                  m->num_classes, K);
        error_exit(program, &err, 1);
    }
    if (opt->predictions != NULL) // before the evaluation, not after
        narrate_check(output_check(opt->predictions, &err), program, &err);
    float *logits = xmalloc(sizeof(float) * test->count * K);
    double accuracy = evaluate(m, test, test->count, mean, std, NULL, logits);
    if (opt->predictions != NULL)
        narrate_check(predictions_write(opt->predictions, test, logits, K, &err), program, &err);
    printf("%s (%s): test accuracy %.4f\n", opt->eval_only, m->kind->name, accuracy);
    free(logits);
    m->kind->close(m);
}

// Chapter 06's ViT must exist before hours are spent training the others.
static void require_vit_model(const Options *opt) {
    char command[1100] = "build/ch06_classifier"; // what makes opt->vit_model
    if (strcmp(opt->vit_model, VIT_MODEL_PATH) != 0)
        snprintf(command, sizeof command, "build/ch06_classifier --checkpoint %s", opt->vit_model);
    checkpoint_require(program, opt->vit_model, command);
}

// Which models to train on which sizes: all three on --sizes, or the one of
// --model on all the images (on --sizes if given). Returns how many runs.
static int plan(Experiment *x, const Options *opt, bool all, int train_count) {
    for (Which w = VIT; w < MODEL_KINDS; w++) x->trained[w] = all;
    if (!all) x->trained[parse_model(opt->model)] = true;
    x->size_count = parse_sizes(opt->sizes, x->sizes, train_count);
    if (!all && opt->sizes == default_sizes) x->size_count = 1, x->sizes[0] = train_count;
    return x->size_count * (all ? MODEL_KINDS : 1);
}

// The figures' directory and the models this invocation saves can be written.
static bool outputs_writable(const Experiment *x, const Options *opt, Error *err) {
    if (!plot_dir_check(opt->out, err) || !make_dirs(opt->models, err)) return false;
    for (Which w = VIT; w < MODEL_KINDS; w++) {
        char path[1100];
        if (x->trained[w] && save_path(w, opt, path, sizeof path) != NULL &&
            !output_check(path, err))
            return false;
    }
    return make_dirs(opt->out, err); // last, so a refused run leaves no empty directory
}

int main(int argc, char **argv) {
    Options opt;
    parse_options(argc, argv, &opt);
    if (opt.threads > 0) train_set_threads(opt.threads);
    bool all = strcmp(opt.model, "all") == 0;
    if (all && opt.eval_only == NULL) require_vit_model(&opt);
    const char *dir = fashion_mnist_dir(opt.data_dir);
    FashionMnist train, test;
    Error err;
    narrate_check(fashion_mnist_load(&test, dir, FASHION_MNIST_TEST, &err) &&
                      fashion_mnist_check_size(&test, FASHION_MNIST_SIDE, FASHION_MNIST_SIDE, &err),
                  program, &err);
    if (opt.eval_only != NULL) {
        run_eval_only(&opt, &test);
        fashion_mnist_free(&test);
        return 0;
    }
    narrate_check(
        fashion_mnist_load(&train, dir, FASHION_MNIST_TRAIN, &err) &&
            fashion_mnist_check_size(&train, FASHION_MNIST_SIDE, FASHION_MNIST_SIDE, &err),
        program, &err);
    Experiment x = {0};
    int runs = plan(&x, &opt, all, train.count);
    narrate_check(outputs_writable(&x, &opt, &err), program, &err); // before the first run
    printf("Chapter 07: the hybrid, the CNN and the ViT, and how much data each needs\n\n");
    narrate_models(&opt);
    narrate_recipe(&x, &opt);
    SavedVit saved = {0};
    if (all) {
        saved = test_saved_vit(opt.vit_model, &test, opt.batch);
        printf("Chapter 06's ViT (%s): test accuracy %.4f.\n\n", opt.vit_model, saved.accuracy);
    }
    FashionMnist subsets = fashion_mnist_shuffled(&train, opt.seed);
    double start = progress_now();
    printf("Training:\n");
    run_experiment(&x, &subsets, &test, &opt);
    printf("\n%d run%s in %.1f minutes, testing included.\n", runs, runs > 1 ? "s" : "",
           (progress_now() - start) / 60.0);
    report(&x, all ? &saved : NULL, &opt, &test);
    for (int i = 0; i < x.size_count; i++)
        for (Which w = VIT; w < MODEL_KINDS; w++) free(x.runs[i][w].log);
    fashion_mnist_free(&subsets);
    fashion_mnist_free(&train);
    fashion_mnist_free(&test);
    return 0;
}

// 06_classifier.c — chapter 06: the head, the backward pass, and training.
//
// The encoder of chapter 05 turns an image into tokens; a head turns the class
// token into ten scores, one per kind of clothing. This program builds the
// whole classifier, trains it from random weights on the 60,000 Fashion-MNIST
// training images with AdamW (warmup, cosine decay, clipping, label
// smoothing), reports the test accuracy after every epoch, and draws the
// learning curves, the confusion matrix and a grid of predictions. It saves
// the model after every epoch, by default to build/models/vit.safetensors
// where later chapters find it, in safetensors format that torchvision loads.
//
//   build/ch06_classifier [--epochs 8] [--batch 128] [--lr 2e-3] [--patch 7] ...
//   build/ch06_classifier --checkpoint run.safetensors      save there instead
//   build/ch06_classifier --resume run.safetensors          go on from a saved epoch
//   build/ch06_classifier --eval-only [--checkpoint run.safetensors]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ch06.h"

typedef struct {
    const char *data_dir;    // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    const char *out;         // where the figures go
    const char *checkpoint;  // save here after every epoch (or, with eval_only, load)
    const char *resume;      // continue from this checkpoint
    const char *predictions; // CSV of every test image's logits
    const char *pool;        // "cls" or "mean"
    int epochs, batch, train_limit, seed, threads, shift;
    VitConfig model; // the shape: --width, --heads, --mlp, --layers, --patch
    float lr, weight_decay, warmup, label_smoothing, clip, dropout;
    bool pre_logits, eval_only, augment;
} Options;

enum {
    SIDE = 28,                 // Fashion-MNIST images are SIDE x SIDE
    K = FASHION_MNIST_CLASSES, // classes
    MAX_EPOCHS = 1000,
    GRID_COLUMNS = 8, // the prediction grid: GRID_ROWS - 1 rows of test
    GRID_ROWS = 4,    // images in order, then a row of mistakes
};

static const char *program = "ch06_classifier";

// A bad combination of flags: one line, exit 2.
static _Noreturn void refuse(const char *message) {
    fprintf(stderr, "%s: %s\n", program, message);
    exit(2);
}

// ---- options ---------------------------------------------------------------------

// Flags that cli's ranges cannot judge alone.
static void check_options(const Options *opt) {
    char message[256];
    if (strcmp(opt->pool, "cls") != 0 && strcmp(opt->pool, "mean") != 0) {
        snprintf(message, sizeof message, "--pool must be cls or mean, got '%s'", opt->pool);
        refuse(message);
    }
    vit_config_check_flags(&opt->model, opt->batch, program);
    if (opt->eval_only && opt->resume != NULL)
        refuse("--eval-only and --resume do not go together: --eval-only --checkpoint FILE");
}

// The head the flags describe.
static HeadOptions flags_head(const Options *opt) {
    return (HeadOptions){.mean_pool = strcmp(opt->pool, "mean") == 0,
                         .pre_logits = opt->pre_logits};
}

// A checkpoint's model must take the test images to Fashion-MNIST's classes.
static void check_takes_fashion_mnist(const Model *m, const char *path, const FashionMnist *data) {
    Error err;
    narrate_check(model_takes(m, data->rows, data->cols, 1, data->images_path, &err), program,
                  &err);
    if (m->num_classes != K) {
        error_set(&err, "%s: a model for %d classes, not Fashion-MNIST's %d", path, m->num_classes,
                  K);
        error_exit(program, &err, 1);
    }
}

// The shape of the model a checkpoint holds, to resume training it.
static VitConfig file_config(const char *path, int batch, HeadOptions *head, float *mean,
                             float *std) {
    SafetensorsMeta meta;
    VitConfig cfg = {0}; // filled by vit_read_config, or the program has exited
    Error err;
    narrate_check(safetensors_read_meta(path, &meta, &err) &&
                      vit_read_config(&meta, path, &cfg, head, &err) &&
                      vit_fits_data(&meta, path, &cfg, head, &err) &&
                      checkpoint_normalization(path, mean, std, &err),
                  program, &err);
    Error why;
    if (!vit_sizes_check(&cfg, batch, &why)) {
        error_set(&err, "%s: for batches of %d images (--batch), %s", path, batch, why.message);
        error_exit(program, &err, 1);
    }
    return cfg;
}

// ---- narration -------------------------------------------------------------------

static void narrate_model(const Vit *m) {
    const VitConfig *c = &m->cfg;
    int T = vit_tokens(c), C = c->hidden_dim;
    char params[32];
    printf("The model:\n");
    printf("  input       %dx%d gray images, %d patches of %dx%d: T = %d tokens\n", c->image_size,
           c->image_size, T - 1, c->patch_size, c->patch_size, T);
    printf("  encoder     width C = %d, L = %d pre-LN blocks, NH = %d heads of %d, MLP %d,\n"
           "              then a final LayerNorm\n",
           C, c->num_layers, c->num_heads, C / c->num_heads, c->mlp_dim);
    printf("  head        %s%s -> Linear(%d, %d), zero-initialised\n",
           m->head.mean_pool ? "mean of the patch tokens" : "the class token",
           m->head.pre_logits ? " -> tanh pre-logits layer" : "", C, c->num_classes);
    printf("  parameters  %s, in one allocation (the gradients in another)\n",
           text_with_commas((double)m->params.total, params, sizeof params));
}

static void narrate_training(const Trainer *t, const Options *opt) {
    const TrainOptions *o = &t->o;
    printf("Training:\n");
    printf("  data        %d training images in batches of %d: %ld steps an epoch, %ld in\n"
           "              %d epochs; a new random order every epoch (seed %d)\n",
           t->count, o->batch, t->steps_per_epoch, t->total_steps, o->epochs, o->seed);
    printf("  optimizer   AdamW, beta1 %g, beta2 %g, eps %g; weight decay %g on the\n"
           "              weight matrices only\n",
           t->opt.beta1, t->opt.beta2, t->opt.eps, o->weight_decay);
    printf("  schedule    linear warmup to %g over %ld steps (%g epoch%s), then cosine\n"
           "              decay to 0\n",
           o->lr, t->warmup_steps, o->warmup, o->warmup == 1.0f ? "" : "s");
    printf("  also        gradients clipped to global norm %g; label smoothing %g; dropout %g\n",
           o->clip, o->label_smoothing, opt->dropout);
    printf("  inputs      (pixel/255 - %.4f) / %.4f", o->image_mean, o->image_std);
    if (o->shift > 0)
        printf("; training images shifted by up to %d pixels%s", o->shift,
               o->mirror ? " and\n              mirrored at random" : "");
    printf("\n");
    printf("  threads     %d\n", train_threads());
}

// The loss of the untrained model on one batch: the zero head gives every
// class the same logit, so it is ln K whatever the images.
static void narrate_first_loss(Trainer *t) {
    int B = t->o.batch < t->count ? t->o.batch : t->count;
    for (int b = 0; b < B; b++) t->order[b] = b;
    batch_load(t->images, t->labels, t->data, t->order, B, t->o.image_mean, t->o.image_std);
    float loss = model_forward(t->model, t->images, t->labels, B, t->o.label_smoothing, false);
    printf("Before training, the loss on the first %d images is %.4f: the head starts at\n"
           "zero, so every class gets logit 0, probability 1/%d, and the loss is ln %d = 2.3026.\n",
           B, loss, K, K);
}

// Per-class accuracy and the most frequent confusions, from confusion (K,K).
static void narrate_confusion(const int *confusion) {
    printf("Accuracy by class, and what each is most often mistaken for:\n");
    for (int i = 0; i < K; i++) {
        int total = 0, worst = i == 0 ? 1 : 0;
        for (int j = 0; j < K; j++) {
            total += confusion[i * K + j];
            if (j != i && confusion[i * K + j] > confusion[i * K + worst]) worst = j;
        }
        printf("  %-12s %6.1f%%   %4d taken for %s\n", fashion_mnist_class_names[i],
               100.0 * confusion[i * K + i] / (total > 0 ? total : 1), confusion[i * K + worst],
               fashion_mnist_class_names[worst]);
    }
}

// ---- figures ---------------------------------------------------------------------

typedef struct {
    int epoch; // 1-based
    EpochResult train;
    double test_accuracy;
} EpochLog;

// Training loss, and training and test accuracy, after each epoch. (Not the
// epochs' times: the same run must give the same files.)
static void figure_curves(const char *dir, const EpochLog *log, int n, const VitConfig *cfg) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "training_curves",
                             "epoch  train_loss  train_accuracy  test_accuracy", &err),
                  program, &err);
    for (int i = 0; i < n; i++)
        plot_printf(&plot, "%d %.6f %.6f %.6f\n", log[i].epoch, log[i].train.loss,
                    log[i].train.accuracy, log[i].test_accuracy);
    PlotScript s = {0};
    plot_script_add(
        &s,
        "set multiplot layout 1,2 title \"ViT (C = %d, L = %d, patch %d) on Fashion-MNIST: "
        "final test accuracy %.2f%%\" font ',22'\n"
        "set grid\nset tics font ',16'\nset xlabel 'epoch' font ',18'\n"
        "set xrange [%g:%g]\nset xtics 1\nset key font ',16'\n",
        cfg->hidden_dim, cfg->num_layers, cfg->patch_size, 100.0 * log[n - 1].test_accuracy,
        log[0].epoch - 0.5, log[n - 1].epoch + 0.5);
    if (n > 20) plot_script_add(&s, "set xtics auto\n");
    plot_script_add(&s,
                    "set title 'training loss' font ',20'\nset key top right\nset yrange [0:*]\n"
                    "plot DATA using 1:2 with linespoints lw 4 pt 7 ps 1.5 lc rgb '#1f77b4' "
                    "title 'mean over the epoch'\n"
                    "set title 'accuracy' font ',20'\nset key bottom right\nset yrange [*:100]\n"
                    "set format y '%%.0f%%%%'\n"
                    "plot DATA using 1:($3*100) with linespoints lw 4 pt 5 ps 1.5 lc rgb '#ff7f0e' "
                    "title 'training images (during the epoch)', \\\n"
                    "     '' using 1:($4*100) with linespoints lw 4 pt 7 ps 1.5 lc rgb '#2ca02c' "
                    "title 'test images (after the epoch)'\n"
                    "unset multiplot\n");
    plot.width = 1800;
    plot.height = 750;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// The confusion matrix (row: true class, column: predicted), counts in the cells.
static void figure_confusion(const char *dir, const int *confusion, double accuracy) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "confusion_matrix",
                             "block 0: counts (row = true class, column = predicted); "
                             "block 1: column row count",
                             &err),
                  program, &err);
    int most = 1;
    for (int i = 0; i < K * K; i++) most = confusion[i] > most ? confusion[i] : most;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++)
            plot_printf(&plot, "%d%c", confusion[i * K + j], j + 1 < K ? ' ' : '\n');
    plot_end_block(&plot);
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) plot_printf(&plot, "%d %d %d\n", j, i, confusion[i * K + j]);
    PlotScript s = {0};
    plot_script_add(&s,
                    "set title \"Confusion matrix on the 10,000 test images (accuracy %.2f%%)\" "
                    "font ',22'\nset xtics (",
                    100.0 * accuracy);
    for (int i = 0; i < K; i++)
        plot_script_add(&s, "%s\"%s\" %d", i ? ", " : "", fashion_mnist_class_names[i], i);
    plot_script_add(&s, ") rotate by 40 right font ',16'\nset ytics (");
    for (int i = 0; i < K; i++)
        plot_script_add(&s, "%s\"%s\" %d", i ? ", " : "", fashion_mnist_class_names[i], i);
    plot_script_add(
        &s,
        ") font ',16'\nset xlabel 'predicted class' font ',18'\n"
        "set ylabel 'true class' font ',18'\nset size ratio -1\n"
        "set xrange [-0.5:9.5]\nset yrange [9.5:-0.5]\nset tics scale 0\n"
        "set palette defined (0 '#ffffff', 1 '#c6dbef', 3 '#4292c6', 6 '#08306b')\n"
        "set cbrange [0:%d]\nset cblabel 'images' font ',16'\nset cbtics font ',14'\n"
        "set object 1 rectangle from -0.5,-0.5 to 9.5,9.5 fc rgb '#ffffff' behind\n"
        "plot DATA index 0 matrix with image notitle, \\\n"
        "     '' index 1 using 1:2:($3 > %d ? sprintf('%%d', $3) : '') with labels "
        "tc rgb '#ffffff' font ',15' notitle, \\\n"
        "     '' index 1 using 1:2:($3 > 0 && $3 <= %d ? sprintf('%%d', $3) : '') with labels "
        "tc rgb '#000000' font ',15' notitle\n",
        most, most / 2, most / 2);
    plot.width = 1300;
    plot.height = 1150;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// Which test images the grid shows: the first ones in order, then a row of
// mistakes from after them (or just the next images, if there are too few).
static int grid_images(int *chosen, const FashionMnist *test, const float *logits) {
    int n = 0, in_order = (GRID_ROWS - 1) * GRID_COLUMNS;
    for (int i = 0; i < in_order && i < test->count; i++) chosen[n++] = i;
    for (int i = in_order; i < test->count && n < GRID_ROWS * GRID_COLUMNS; i++)
        if (narrate_argmax(logits + (size_t)i * K, K) != test->labels[i]) chosen[n++] = i;
    for (int i = in_order; i < test->count && n < GRID_ROWS * GRID_COLUMNS; i++)
        if (narrate_argmax(logits + (size_t)i * K, K) == test->labels[i]) chosen[n++] = i;
    return n;
}

// Test images with the predicted class over each; a mistake in red, framed,
// with the true class under the prediction.
static void figure_predictions(const char *dir, const FashionMnist *test, const float *logits) {
    int chosen[GRID_ROWS * GRID_COLUMNS], n = grid_images(chosen, test, logits);
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "predictions",
                             "one block per test image: 28 rows of 28 pixels (0-255); see the .gp",
                             &err),
                  program, &err);
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot layout %d,%d title \"Test images %d-%d in order, then a row of "
                    "mistakes. Over each: the prediction; in red: wrong, with the true class\" "
                    "font ',22' margins 0.01,0.99,0.01,0.86 spacing 0.012,0.095\n"
                    "unset key\nunset tics\nunset colorbox\nset size ratio -1\n"
                    "set palette gray\nset cbrange [0:255]\n"
                    "set xrange [-0.5:27.5]\nset yrange [27.5:-0.5]\n",
                    GRID_ROWS, GRID_COLUMNS, chosen[0], (GRID_ROWS - 1) * GRID_COLUMNS - 1);
    for (int p = 0; p < n; p++) {
        int i = chosen[p], label = test->labels[i];
        int predicted = narrate_argmax(logits + (size_t)i * K, K);
        const unsigned char *pixels = test->pixels + (size_t)i * SIDE * SIDE;
        for (int r = 0; r < SIDE; r++)
            for (int c = 0; c < SIDE; c++)
                plot_printf(&plot, "%d%c", pixels[r * SIDE + c], c + 1 < SIDE ? ' ' : '\n');
        plot_end_block(&plot);
        if (predicted == label)
            plot_script_add(&s,
                            "set title \"%s\" tc rgb '#222222' font ',17'\n"
                            "set border lw 1 lc rgb '#888888'\n",
                            fashion_mnist_class_names[predicted]);
        else
            plot_script_add(&s,
                            "set title \"%s\\n(true: %s)\" tc rgb '#d62728' font ',17'\n"
                            "set border lw 4 lc rgb '#d62728'\n",
                            fashion_mnist_class_names[predicted], fashion_mnist_class_names[label]);
        plot_script_add(&s, "plot DATA index %d matrix with image\n", p);
    }
    plot_script_add(&s, "unset multiplot\n");
    plot.width = 1800;
    plot.height = 1300;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// ---- the chapter -----------------------------------------------------------------

typedef struct {
    const FashionMnist *test;
    int *confusion; // (K,K) after the last evaluation
    float *logits;  // (test count, K) after the last evaluation
    EpochLog *log;  // (epochs) one entry per epoch trained here
    int logged;
} Results;

// region: training-loop
// Trains the remaining epochs; tests after each, and saves if asked to.
static void train_epochs(Trainer *t, Results *r, const Options *opt) {
    const TrainOptions *o = &t->o;
    while (t->epoch < o->epochs) {
        char label[32];
        snprintf(label, sizeof label, "epoch %d/%d", t->epoch + 1, o->epochs);
        Progress progress;
        progress_start(&progress, stdout, label, t->count); // a bar on a terminal only
        EpochResult e = trainer_epoch(t, &progress);
        progress_finish(&progress);
        if (progress.terminal) printf("epoch %d/%d: testing ...", t->epoch, o->epochs);
        fflush(stdout);
        double accuracy = evaluate(t->model, r->test, r->test->count, o->image_mean, o->image_std,
                                   r->confusion, r->logits);
        printf("%sepoch %2d/%d  train loss %.4f  train acc %.4f  test acc %.4f  %5.0f img/s"
               "  %5.1f s\n",
               progress.terminal ? "\r\033[K" : "", t->epoch, o->epochs, e.loss, e.accuracy,
               accuracy, e.images_per_s, e.seconds);
        fflush(stdout);
        r->log[r->logged++] = (EpochLog){.epoch = t->epoch, .train = e, .test_accuracy = accuracy};
        Error err;
        narrate_check(trainer_save(t, opt->checkpoint, &err), program, &err);
    }
}
// endregion: training-loop

// After training: what it gets wrong, the figures, the predictions file.
static void report(const Vit *m, const Results *r, const Options *opt, double accuracy) {
    printf("\n");
    narrate_confusion(r->confusion);
    if (r->logged > 0) figure_curves(opt->out, r->log, r->logged, &m->cfg);
    figure_confusion(opt->out, r->confusion, accuracy);
    figure_predictions(opt->out, r->test, r->logits);
    printf("\nFigures written to %s/: %sconfusion_matrix, predictions\n", opt->out,
           r->logged > 0 ? "training_curves, " : "");
    char state[1024];
    trainer_state_path(state, sizeof state, opt->checkpoint);
    printf("The model is saved in %s (torchvision's names; the optimizer's state\n"
           "for --resume in %s).\n",
           opt->checkpoint, state);
    if (opt->predictions != NULL) {
        Error err;
        narrate_check(predictions_write(opt->predictions, r->test, r->logits, K, &err), program,
                      &err);
        printf("Predictions for every test image: %s\n", opt->predictions);
    }
}

static TrainOptions train_options(const Options *opt, float mean, float std) {
    return (TrainOptions){.epochs = opt->epochs,
                          .batch = opt->batch,
                          .lr = opt->lr,
                          .weight_decay = opt->weight_decay,
                          .warmup = opt->warmup,
                          .label_smoothing = opt->label_smoothing,
                          .clip = opt->clip,
                          .shift = train_shift_pixels(opt->augment, opt->shift),
                          .mirror = opt->augment,
                          .image_mean = mean,
                          .image_std = std,
                          .seed = opt->seed};
}

// Every file the run writes can be written: the figures' directory, the
// checkpoint, the optimizer's state beside it and the predictions. The
// figures' directory is made last, so a refused run leaves none behind.
static bool outputs_writable(const Options *opt, Error *err) {
    char state[1024];
    trainer_state_path(state, sizeof state, opt->checkpoint);
    return plot_dir_check(opt->out, err) &&
           (opt->predictions == NULL || output_check(opt->predictions, err)) &&
           make_parent_dirs(opt->checkpoint, err) && output_check(opt->checkpoint, err) &&
           output_check(state, err) && make_dirs(opt->out, err);
}

// Builds, trains (or resumes) and reports.
static void run_training(const Options *opt, const FashionMnist *train, const FashionMnist *test) {
    HeadOptions head = flags_head(opt);
    float mean = FASHION_MNIST_MEAN, std = FASHION_MNIST_STD;
    VitConfig cfg =
        opt->resume ? file_config(opt->resume, opt->batch, &head, &mean, &std) : opt->model;
    Vit m;
    vit_build(&m, &cfg, &head, opt->dropout, opt->batch);
    Rng rng;
    rng_seed(&rng, (uint64_t)opt->seed);
    vit_init(&m, &rng);
    int count =
        opt->train_limit > 0 && opt->train_limit < train->count ? opt->train_limit : train->count;
    TrainOptions to = train_options(opt, mean, std);
    Trainer t;
    Error err;
    narrate_check(trainer_build(&t, &m.model, train, count, &to, &err), program, &err);
    narrate_check(model_takes(&m.model, test->rows, test->cols, 1, test->images_path, &err),
                  program, &err);
    // the checkpoint to resume from read and checked before anything is written
    if (opt->resume != NULL) narrate_check(trainer_resume(&t, opt->resume, &err), program, &err);
    // only now that the data and the model fit together, and before the first epoch
    narrate_check(outputs_writable(opt, &err), program, &err);
    narrate_model(&m);
    narrate_training(&t, opt);
    if (opt->resume != NULL) {
        printf("Resumed from %s after epoch %d (step %ld); the shape came from its metadata.\n",
               opt->resume, t.epoch, t.opt.step);
    } else {
        narrate_first_loss(&t);
    }
    printf("\n");
    Results r = {.test = test,
                 .confusion = xmalloc(sizeof(int) * K * K),
                 .logits = xmalloc(sizeof(float) * test->count * K),
                 .log = xmalloc(sizeof(EpochLog) * opt->epochs)};
    double start = progress_now();
    train_epochs(&t, &r, opt);
    double accuracy = r.logged > 0
                          ? r.log[r.logged - 1].test_accuracy
                          : evaluate(&m.model, test, test->count, mean, std, r.confusion, r.logits);
    double minutes = (progress_now() - start) / 60.0;
    if (r.logged > 0)
        printf("%d epochs in %.1f minutes, evaluation included.\n", r.logged, minutes);
    report(&m, &r, opt, accuracy);
    printf("\nfinal test accuracy: %.4f\n", accuracy);
    free(r.confusion);
    free(r.logits);
    free(r.log);
    trainer_free(&t);
    vit_free(&m);
}

// --eval-only [--checkpoint FILE]: the test accuracy, and nothing else.
static void run_eval_only(const Options *opt, const FashionMnist *test) {
    checkpoint_require(program, opt->checkpoint, "build/ch06_classifier");
    const ModelKind *kinds[] = {&vit_kind};
    Model *m;
    float mean, std;
    Error err;
    narrate_check(
        checkpoint_open(opt->checkpoint, kinds, 1, opt->batch, 0.0f, &m, &mean, &std, &err),
        program, &err);
    check_takes_fashion_mnist(m, opt->checkpoint, test);
    if (opt->predictions != NULL) // before the evaluation, not after
        narrate_check(output_check(opt->predictions, &err), program, &err);
    float *logits = opt->predictions ? xmalloc(sizeof(float) * test->count * K) : NULL;
    double accuracy = evaluate(m, test, test->count, mean, std, NULL, logits);
    if (logits != NULL)
        narrate_check(predictions_write(opt->predictions, test, logits, K, &err), program, &err);
    printf("test accuracy: %.4f\n", accuracy);
    free(logits);
    m->kind->close(m);
}

// The defaults, then the command line; refuses bad flags with one line, exit 2.
static void parse_options(int argc, char **argv, Options *opt) {
    *opt = (Options){.out = "figures/ch06",
                     .checkpoint = VIT_MODEL_PATH,
                     .pool = "cls",
                     .epochs = 8,
                     .batch = 128,
                     .seed = 0,
                     .model = vit_small,
                     .lr = 2e-3f,
                     .weight_decay = 0.05f,
                     .warmup = 1.0f,
                     .label_smoothing = 0.1f,
                     .clip = 1.0f,
                     .dropout = 0.0f};
    CliOption options[] = {
        {"epochs", CLI_INT, &opt->epochs, "passes over the training images", 1, MAX_EPOCHS, NULL},
        {"batch", CLI_INT, &opt->batch, "images per step B", 1, 4096, "B"},
        {"lr", CLI_FLOAT, &opt->lr, "peak learning rate (AdamW)", 0, 1, NULL},
        {"weight-decay", CLI_FLOAT, &opt->weight_decay, "AdamW's decoupled weight decay", 0, 1,
         NULL},
        {"warmup", CLI_FLOAT, &opt->warmup, "epochs of linear learning-rate warmup", 0, MAX_EPOCHS,
         "EPOCHS"},
        {"label-smoothing", CLI_FLOAT, &opt->label_smoothing, "label smoothing s", 0, 0.99, "S"},
        {"clip", CLI_FLOAT, &opt->clip, "largest global gradient norm (0: no clipping)", 0, 1e6,
         NULL},
        train_augment_option(&opt->augment),
        train_shift_option(&opt->shift),
        {"dropout", CLI_FLOAT, &opt->dropout, "dropout rate while training", 0, 0.9, "P"},
        {"width", CLI_INT, &opt->model.hidden_dim, "width C of the tokens", 1, 1024, "C"},
        {"heads", CLI_INT, &opt->model.num_heads, "attention heads NH (must divide the width)", 1,
         64, "NH"},
        {"mlp", CLI_INT, &opt->model.mlp_dim, "hidden width of the MLP", 1, 4096, NULL},
        {"layers", CLI_INT, &opt->model.num_layers, "encoder blocks L", 1, 64, "L"},
        {"patch", CLI_INT, &opt->model.patch_size, "patch size P (must divide 28)", 1, 28, "P"},
        {"pool", CLI_STRING, &opt->pool, "what the head reads: cls (the class token) or mean", 0, 0,
         "cls|mean"},
        {"pre-logits", CLI_SWITCH, &opt->pre_logits, "a hidden tanh layer before the classifier", 0,
         0, NULL},
        {"seed", CLI_INT, &opt->seed, "seed for the weights, the order and dropout", 0, 2147483647,
         NULL},
        {"threads", CLI_INT, &opt->threads, "threads (0: all cores)", 0, 256, "N"},
        {"train-limit", CLI_INT, &opt->train_limit, "train on the first N images only (0: all)", 0,
         60000, "N"},
        fashion_mnist_data_option(&opt->data_dir),
        cli_out_option(&opt->out),
        {"checkpoint", CLI_STRING, &opt->checkpoint,
         "save the model here after every epoch (with --eval-only: the model to test)", 0, 0,
         "FILE"},
        {"resume", CLI_STRING, &opt->resume, "continue training from this checkpoint", 0, 0,
         "FILE"},
        {"eval-only", CLI_SWITCH, &opt->eval_only, "only test the model of --checkpoint", 0, 0,
         NULL},
        {"predictions", CLI_STRING, &opt->predictions,
         "write every test image's logits to this CSV", 0, 0, "FILE"},
    };
    cli_parse_or_exit(argc, argv,
                      "Chapter 06: the head, the backward pass, and training on Fashion-MNIST.",
                      options, sizeof options / sizeof options[0]);
    check_options(opt);
}

int main(int argc, char **argv) {
    Options opt;
    parse_options(argc, argv, &opt);
    if (opt.threads > 0) train_set_threads(opt.threads);
    const char *dir = fashion_mnist_dir(opt.data_dir);
    FashionMnist train = {0}, test;
    Error err;
    narrate_check(fashion_mnist_load(&test, dir, FASHION_MNIST_TEST, &err), program, &err);
    if (opt.eval_only) {
        run_eval_only(&opt, &test);
    } else {
        narrate_check(fashion_mnist_load(&train, dir, FASHION_MNIST_TRAIN, &err), program, &err);
        printf("Chapter 06: training a ViT on Fashion-MNIST\n\n");
        run_training(&opt, &train, &test);
        fashion_mnist_free(&train);
    }
    fashion_mnist_free(&test);
    return 0;
}

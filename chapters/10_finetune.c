// 10_finetune.c — chapter 10: a trained ViT used after training, as the paper
// uses its pre-trained models (section 3.2 and section 4.1's metrics):
//
//   1. at a higher resolution: Fashion-MNIST enlarged (bilinear) to 42x42 and
//      56x56, the patch size kept, so 6x6 and 8x8 grids of patches; chapter
//      06's model carried there with its position embeddings interpolated in
//      2D, tested as it is, then after a short fine-tune with SGD and momentum;
//   2. few-shot linear probes: the frozen model's pre-logits features of 1, 5,
//      10 and 25 images a class, a linear classifier from them in closed form
//      (regularised least squares to {-1, 1} targets), tested on every test image;
//   3. transfer to classes never seen: a ViT trained on classes 0-4 only,
//      probed with a few images of classes 5-9, beside the same probe on a
//      ViT at initialisation and on the raw pixels.
//
//   build/ch10_finetune                      chapter 06's ViT from build/models
//   build/ch10_finetune --model FILE         another ViT for 28x28 Fashion-MNIST
//   build/ch10_finetune --models DIR         where the transfer ViT is kept (made when missing)
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "ch10.h"

enum {
    K = FASHION_MNIST_CLASSES,
    S = FASHION_MNIST_SIDE, // the images' side before enlarging
    BATCH = 128,            // images per step and per forward pass
    SIZES = 3,              // 28, 42, 56
    SHOT_COUNTS = 4,        // 1, 5, 10, 25 images a class
    MAX_DRAWS = 100,
    LAMBDAS = 7,
    POOL = 10000,       // the shots are drawn from the first POOL training images
    VALIDATION = 50000, // and λ is chosen on training images VALIDATION..
    VAL_COUNT = 2000,   // ..VALIDATION + VAL_COUNT - 1
    SEEN = 5,           // the transfer ViT is trained on classes 0..SEEN-1
    FEATURE_SETS = 4,   // a probe's lines at most: ViTs, the pixels
};
static const int sides[SIZES] = {28, 42, 56};
static const int shot_counts[SHOT_COUNTS] = {1, 5, 10, 25};
static const double lambdas[LAMBDAS] = {1e-2, 1e-1, 1, 10, 100, 1e3, 1e4};

typedef struct {
    const char *data_dir; // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    const char *out;      // where the figures go
    const char *model;    // chapter 06's ViT
    const char *models;   // where the transfer ViT is kept
    int finetune_images;  // images the fine-tune at each size sees (one pass)
    float finetune_lr;    // its peak learning rate
    int draws;            // random draws of the shots for each count
    int test_images;      // test on the first N test images (0: all)
    int transfer_epochs, transfer_limit; // the transfer ViT's training
    bool retrain;                        // train the transfer ViT even when it is saved
    int seed, threads;
} Options;

static const char *program = "ch10_finetune";

// ---- data ------------------------------------------------------------------------------

// The first count images of src enlarged to side x side by bilinear
// resampling, each pixel rounded to a whole value as an image file would
// hold it; labels copied.
static FashionMnist resized(const FashionMnist *src, int count, int side) {
    FashionMnist out = {.count = count, .rows = side, .cols = side};
    out.pixels = xmalloc((size_t)count * side * side);
    out.labels = xmalloc((size_t)count);
    memcpy(out.labels, src->labels, (size_t)count);
    snprintf(out.images_path, sizeof out.images_path, "%s", src->images_path);
    float *in = xmalloc(sizeof(float) * S * S), *big = xmalloc(sizeof(float) * side * side);
    for (int i = 0; i < count; i++) {
        const unsigned char *p = src->pixels + (size_t)i * S * S;
        for (int j = 0; j < S * S; j++) in[j] = p[j];
        bilinear_resize(big, in, S, S, side, side);
        unsigned char *q = out.pixels + (size_t)i * side * side;
        for (int j = 0; j < side * side; j++) q[j] = (unsigned char)lrintf(big[j]);
    }
    free(in), free(big);
    return out;
}

// The images of src whose class is in [lo, hi), among its first count, in
// order, with their classes shifted down by lo (5..9 -> 0..4).
static FashionMnist classes(const FashionMnist *src, int count, int lo, int hi) {
    FashionMnist out = {.rows = src->rows, .cols = src->cols};
    size_t side2 = (size_t)src->rows * src->cols;
    out.pixels = xmalloc(count * side2);
    out.labels = xmalloc((size_t)count);
    snprintf(out.images_path, sizeof out.images_path, "%s", src->images_path);
    for (int i = 0; i < count; i++) {
        if (src->labels[i] < lo || src->labels[i] >= hi) continue;
        memcpy(out.pixels + out.count * side2, src->pixels + i * side2, side2);
        out.labels[out.count++] = (unsigned char)(src->labels[i] - lo);
    }
    return out;
}

// Images first..first+count-1 of src, as a data set of their own.
static FashionMnist slice(const FashionMnist *src, int first, int count) {
    FashionMnist out = *src;
    size_t side2 = (size_t)src->rows * src->cols;
    out.count = count;
    out.pixels = xmalloc(count * side2);
    out.labels = xmalloc((size_t)count);
    memcpy(out.pixels, src->pixels + first * side2, count * side2);
    memcpy(out.labels, src->labels + first, (size_t)count);
    return out;
}

// ---- features ----------------------------------------------------------------------------

// A frozen representation of images: the features of every image of a split.
typedef struct {
    float *x;    // (n,D)
    int *labels; // (n)
    int n;
} Split;

typedef struct {
    char title[96];
    const char *color; // its line in the figure
    int D;
    Split pool, val, test; // shots are drawn from pool; λ chosen on val; tested on test
} FeatureSet;

static void split_free(Split *s) {
    free(s->x), free(s->labels);
    *s = (Split){0};
}

static void feature_set_free(FeatureSet *f) {
    split_free(&f->pool), split_free(&f->val), split_free(&f->test);
}

// region: features
// The paper's representation for few-shot probes: the input of the final
// classifier (the class token after the encoder's last LayerNorm, through the
// pre-logits layer when there is one), for every image of data: (n,C).
static Split vit_features(Vit *m, const FashionMnist *data, float mean, float std) {
    int C = m->cfg.hidden_dim, H = data->rows, W = data->cols;
    Split s = {.x = xmalloc(sizeof(float) * data->count * C),
               .labels = xmalloc(sizeof(int) * data->count),
               .n = data->count};
    float *images = xmalloc(sizeof(float) * m->B * H * W); // (B,1,H,W)
    int *indices = xmalloc(sizeof(int) * m->B);
    for (int first = 0; first < data->count; first += m->B) {
        int B = data->count - first < m->B ? data->count - first : m->B;
        for (int b = 0; b < B; b++) indices[b] = first + b;
        batch_load(images, s.labels + first, data, indices, B, mean, std);
        vit_forward(m, images, NULL, B, 0.0f, false);
        memcpy(s.x + (size_t)first * C, m->ha.hidden, sizeof(float) * B * C);
    }
    free(images), free(indices);
    return s;
}
// endregion: features

// The raw pixels as features, pixel/255: (n, rows·cols).
static Split pixel_features(const FashionMnist *data) {
    size_t D = (size_t)data->rows * data->cols;
    Split s = {.x = xmalloc(sizeof(float) * data->count * D),
               .labels = xmalloc(sizeof(int) * data->count),
               .n = data->count};
    for (size_t i = 0; i < data->count * D; i++) s.x[i] = data->pixels[i] / 255.0f;
    for (int i = 0; i < data->count; i++) s.labels[i] = data->labels[i];
    return s;
}

typedef struct {
    const FashionMnist *pool, *val, *test; // the three splits' images
    float mean, std;                       // the models' input normalisation
} ProbeData;

static FeatureSet vit_feature_set(Vit *m, const ProbeData *d, const char *title,
                                  const char *color) {
    FeatureSet f = {.D = m->cfg.hidden_dim,
                    .color = color,
                    .pool = vit_features(m, d->pool, d->mean, d->std),
                    .val = vit_features(m, d->val, d->mean, d->std),
                    .test = vit_features(m, d->test, d->mean, d->std)};
    snprintf(f.title, sizeof f.title, "%s", title);
    return f;
}

static FeatureSet pixel_feature_set(const ProbeData *d) {
    FeatureSet f = {.D = d->pool->rows * d->pool->cols,
                    .color = "#7f7f7f",
                    .pool = pixel_features(d->pool),
                    .val = pixel_features(d->val),
                    .test = pixel_features(d->test)};
    snprintf(f.title, sizeof f.title, "raw pixels (%d features)", f.D);
    return f;
}

// ---- few-shot probes ---------------------------------------------------------------------

// The test accuracy of the probe at each count of shots, over the draws.
typedef struct {
    double mean[SHOT_COUNTS], lo[SHOT_COUNTS], hi[SHOT_COUNTS]; // in [0, 1]
    double lambda[SHOT_COUNTS];                                 // the L2 strength chosen
} ProbeCurve;

// region: draw-shots
// Draw `draw` of `shots` images a class from the pool's labels (n): chosen
// (shots·K) pool indices, the first `shots` images of each class in a random
// order of the pool. The same seed gives the same images to every feature
// set, so their curves differ by the features alone.
static void draw_shots(int *chosen, int *order, const int *labels, int n, int classes, int shots,
                       int draw, int seed) {
    Rng rng;
    rng_seed(&rng, (uint64_t)seed * 1000003u + (uint64_t)shots * 1009u + (uint64_t)draw);
    rng_permutation(&rng, order, n);
    int taken[K] = {0}, count = 0;
    for (int i = 0; i < n && count < shots * classes; i++) {
        int c = labels[order[i]];
        if (taken[c] < shots) chosen[count++] = order[i], taken[c]++;
    }
}
// endregion: draw-shots

// The features (count,D) and labels of the chosen pool images.
static void gather(float *x, int *y, const Split *pool, const int *chosen, int count, int D) {
    for (int i = 0; i < count; i++) {
        memcpy(x + (size_t)i * D, pool->x + (size_t)chosen[i] * D, sizeof(float) * D);
        y[i] = pool->labels[chosen[i]];
    }
}

// A probe fitted on x (n,D), y (n), at strength l2, scored on split.
static double probe_accuracy(const float *x, const int *y, int n, int D, int classes, double l2,
                             const Split *split) {
    LinearProbe p;
    Error err;
    narrate_check(linear_probe_fit(&p, x, y, n, D, classes, l2, &err), program, &err);
    double accuracy = linear_probe_accuracy(&p, split->x, split->labels, split->n);
    linear_probe_free(&p);
    return accuracy;
}

// region: probe-curve
// For each count of shots: the strength λ with the best mean accuracy over
// the draws on the validation images, then the test accuracy at that λ.
static ProbeCurve probe_curve(const FeatureSet *f, int classes, int draws, int seed) {
    ProbeCurve curve = {0};
    int D = f->D, most = shot_counts[SHOT_COUNTS - 1] * classes;
    float *x = xmalloc(sizeof(float) * most * D); // (shots·classes, D)
    int *y = xmalloc(sizeof(int) * most), *chosen = xmalloc(sizeof(int) * most);
    int *order = xmalloc(sizeof(int) * f->pool.n);
    for (int s = 0; s < SHOT_COUNTS; s++) {
        int n = shot_counts[s] * classes, best = 0;
        double best_val = -1.0;
        for (int l = 0; l < LAMBDAS; l++) {
            double val = 0.0;
            for (int d = 0; d < draws; d++) {
                draw_shots(chosen, order, f->pool.labels, f->pool.n, classes, shot_counts[s], d,
                           seed);
                gather(x, y, &f->pool, chosen, n, D);
                val += probe_accuracy(x, y, n, D, classes, lambdas[l], &f->val) / draws;
            }
            if (val > best_val + 1e-12) best_val = val, best = l;
        }
        curve.lambda[s] = lambdas[best];
        curve.lo[s] = 1.0, curve.hi[s] = 0.0;
        for (int d = 0; d < draws; d++) {
            draw_shots(chosen, order, f->pool.labels, f->pool.n, classes, shot_counts[s], d, seed);
            gather(x, y, &f->pool, chosen, n, D);
            double a = probe_accuracy(x, y, n, D, classes, lambdas[best], &f->test);
            curve.mean[s] += a / draws;
            curve.lo[s] = fmin(curve.lo[s], a), curve.hi[s] = fmax(curve.hi[s], a);
        }
    }
    free(x), free(y), free(chosen), free(order);
    return curve;
}
// endregion: probe-curve

static void print_curves(const FeatureSet *sets, const ProbeCurve *curves, int count, int draws,
                         int test_count) {
    printf("   %-46s", "features");
    for (int s = 0; s < SHOT_COUNTS; s++) {
        char label[16];
        snprintf(label, sizeof label, "%d shot%s", shot_counts[s], shot_counts[s] > 1 ? "s" : "");
        printf("%13s", label);
    }
    for (int i = 0; i < count; i++) {
        printf("\n   %-46s", sets[i].title);
        for (int s = 0; s < SHOT_COUNTS; s++) printf("%12.1f%%", 100.0 * curves[i].mean[s]);
        printf("\n   %-46s", "  lowest and highest draw");
        for (int s = 0; s < SHOT_COUNTS; s++)
            printf("%8.1f-%4.1f", 100.0 * curves[i].lo[s], 100.0 * curves[i].hi[s]);
        printf("\n   %-46s", "  λ chosen on the validation images");
        for (int s = 0; s < SHOT_COUNTS; s++) printf("%13g", curves[i].lambda[s]);
    }
    printf("\n   (mean test accuracy on %d test images over %d draws of the shots)\n", test_count,
           draws);
}

// ---- fine-tuning -------------------------------------------------------------------------

typedef struct {
    int images;     // training images, one pass
    float lr;       // peak learning rate
    float momentum; // SGD's
    float warmup;   // share of the steps warming up
    float clip;     // largest global gradient norm
    int seed;       // the images' order
} FineTune;

// region: fine-tune
// One pass of SGD with momentum over the first ft->images of train (enlarged
// to the model's size), as the paper fine-tunes: no weight decay, gradients
// clipped at global norm 1, linear warmup then cosine decay, no label
// smoothing. Everything is allocated before the first step. Returns the mean
// training loss.
static double fine_tune(Vit *m, const FashionMnist *train, const FineTune *ft, float mean,
                        float std) {
    Model *model = &m->model;
    int B = BATCH, H = train->rows, W = train->cols, count = ft->images;
    long steps = (count + B - 1) / B, warmup = lround(ft->warmup * steps);
    Sgd opt;
    sgd_build(&opt, model->params->total, ft->momentum);
    float *images = xmalloc(sizeof(float) * B * H * W); // (B,1,H,W)
    int *labels = xmalloc(sizeof(int) * B), *order = xmalloc(sizeof(int) * count);
    Rng rng;
    rng_seed(&rng, (uint64_t)ft->seed);
    rng_permutation(&rng, order, count);
    double loss_sum = 0.0;
    for (long s = 0; s < steps; s++) {
        int first = (int)(s * B), n = count - first < B ? count - first : B;
        batch_load(images, labels, train, order + first, n, mean, std);
        loss_sum += (double)model_forward(model, images, labels, n, 0.0f, true) * n;
        model_backward(model, labels, n, 0.0f);
        clip_grad_norm(model->grads->memory, model->grads->total, ft->clip);
        float lr = lr_schedule(s, warmup, steps, ft->lr);
        sgd_step(&opt, model->params->memory, model->grads->memory, lr);
    }
    sgd_free(&opt);
    free(images), free(labels), free(order);
    return loss_sum / count;
}
// endregion: fine-tune

// ---- 1. higher resolution ----------------------------------------------------------------

typedef struct {
    int side, grid, tokens;
    double before, after; // test accuracy as carried over, and after fine-tuning
    double loss, seconds; // the fine-tune's mean training loss and time
} Resolution;

typedef struct {
    Resolution r[SIZES];
    float *sim_trained; // (g0²,g0²) chapter 06's positions' cosine similarity
    float *sim_interp;  // (g²,g²) at the largest size, interpolated
    float *sim_tuned;   // (g²,g²) the same after fine-tuning
    int g0, g;          // their grids
    int patch;          // P, the same at every size
} ResolutionStudy;

// Cosine similarity of the patches' position embeddings (rows 1..N of pos (1+N,C)).
static float *position_similarity(const Vit *m) {
    int g = m->cfg.image_size / m->cfg.patch_size, N = g * g, C = m->cfg.hidden_dim;
    float *sim = xmalloc(sizeof(float) * N * N);
    cosine_similarity_rows(sim, m->w.pos + C, N, C);
    return sim;
}

// The model at one size: carried over (interpolated positions), tested,
// fine-tuned, tested again.
static Resolution at_resolution(ResolutionStudy *study, const Vit *src, const FashionMnist *train,
                                const FashionMnist *test, int side, const FineTune *ft, float mean,
                                float std) {
    int P = src->cfg.patch_size;
    Resolution r = {.side = side, .grid = side / P, .tokens = (side / P) * (side / P) + 1};
    FashionMnist up_test = side == S ? *test : resized(test, test->count, side);
    FashionMnist up_train = side == S ? *train : resized(train, ft->images, side);
    Vit big;
    Error err;
    narrate_check(vit_build_resized(&big, src, side, BATCH, 0.0f, &err), program, &err);
    r.before = evaluate(&big.model, &up_test, up_test.count, mean, std, NULL, NULL);
    bool largest = side == sides[SIZES - 1];
    if (largest) study->sim_interp = position_similarity(&big), study->g = r.grid;
    double start = progress_now();
    r.loss = fine_tune(&big, &up_train, ft, mean, std);
    r.seconds = progress_now() - start;
    r.after = evaluate(&big.model, &up_test, up_test.count, mean, std, NULL, NULL);
    if (largest) study->sim_tuned = position_similarity(&big);
    char grid[32];
    snprintf(grid, sizeof grid, "%dx%d, T = %d", r.grid, r.grid, r.tokens);
    printf("   %2dx%-2d  %-14s%12.2f%%%15.2f%%     (fine-tune: loss %.3f, %.1f s)\n", side, side,
           grid, 100.0 * r.before, 100.0 * r.after, r.loss, r.seconds);
    fflush(stdout);
    vit_free(&big);
    if (side != S) fashion_mnist_free(&up_test), fashion_mnist_free(&up_train);
    return r;
}

static ResolutionStudy resolution_study(const Vit *src, const FashionMnist *train,
                                        const FashionMnist *test, const FineTune *ft, float mean,
                                        float std) {
    ResolutionStudy study = {.sim_trained = position_similarity(src),
                             .g0 = src->cfg.image_size / src->cfg.patch_size,
                             .patch = src->cfg.patch_size};
    printf("   size   patches         carried over  after fine-tuning\n");
    for (int i = 0; i < SIZES; i++)
        study.r[i] = at_resolution(&study, src, train, test, sides[i], ft, mean, std);
    return study;
}

// ---- figures -----------------------------------------------------------------------------

// Test accuracy against the image size: carried over, and fine-tuned.
static void figure_resolution(const ResolutionStudy *study, const FineTune *ft, const char *dir) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "resolution",
                             "side  grid  accuracy_carried_over  accuracy_fine_tuned", &err),
                  program, &err);
    double lo = 1.0, hi = 0.0;
    for (int i = 0; i < SIZES; i++) {
        const Resolution *r = &study->r[i];
        plot_printf(&plot, "%d %d %.6f %.6f\n", r->side, r->grid, r->before, r->after);
        lo = fmin(lo, fmin(r->before, r->after)), hi = fmax(hi, fmax(r->before, r->after));
    }
    int P = study->patch;
    PlotScript s = {0};
    plot_script_add(
        &s,
        "set title \"Chapter 06's ViT (trained at 28x28) at higher resolutions, patch %d kept\\n"
        "{/*0.75 position embeddings interpolated (bicubic); the fine-tune: one pass over %d "
        "enlarged}\\n{/*0.75 training images, SGD with momentum %g, peak learning rate %g}\" "
        "font ',22'\n"
        "set grid\nset tics font ',16'\nset key top right font ',16' box opaque\n"
        "set xlabel 'image side (pixels), and the grid of %dx%d patches' font ',18'\n"
        "set ylabel 'test accuracy' font ',18'\nset format y '%%.0f%%%%'\n"
        "set xrange [%d:%d]\nset yrange [%g:%g]\nset xtics (",
        P, ft->images, ft->momentum, ft->lr, P, P, sides[0] - 4, sides[SIZES - 1] + 4,
        floor(100.0 * lo - 3.0), ceil(100.0 * hi + 8.0));
    for (int i = 0; i < SIZES; i++)
        plot_script_add(&s, "%s\"%d\\n%dx%d\" %d", i ? ", " : "", study->r[i].side,
                        study->r[i].grid, study->r[i].grid, study->r[i].side);
    plot_script_add(
        &s, ")\n"
            "plot DATA using 1:($3*100) with linespoints lw 4 pt 7 ps 2 lc rgb '#1f77b4' "
            "title 'carried over, no further training', \\\n"
            "     '' using 1:($4*100) with linespoints lw 4 pt 5 ps 2 lc rgb '#d62728' "
            "title 'after the short fine-tune at that size', \\\n"
            "     '' using 1:($3*100):(sprintf('%%.1f%%%%', $3*100)) with labels offset 4.5,0 "
            "font ',15' tc rgb '#1f77b4' notitle, \\\n"
            "     '' using 1:($4*100):(sprintf('%%.1f%%%%', $4*100)) with labels offset -2.5,-1.3 "
            "font ',15' tc rgb '#d62728' notitle\n");
    plot.width = 1400;
    plot.height = 950;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// One similarity mosaic in a panel at x0 of the multiplot, width w.
static void similarity_panel(Plot *plot, PlotScript *s, const float *sim, int g, int block,
                             double x0, double w, const char *title) {
    int N = g * g, side = g * (g + 1) - 1;
    plot_mosaic(plot, sim, N, g, g, g);
    plot_end_block(plot);
    plot_script_add(s,
                    "set lmargin at screen %.4f\nset rmargin at screen %.4f\n"
                    "set tmargin at screen 0.80\nset bmargin at screen 0.08\n"
                    "unset object\nset xrange [-0.5:%d-0.5]\nset yrange [%d-0.5:-0.5]\n%s"
                    "set title \"%s\"\nplot DATA index %d matrix with image\n",
                    x0, x0 + w, side, side, mosaic_gaps_script(N, g, g, g), title, block);
}

// The position embeddings' cosine similarity on the grid: trained at 28x28,
// interpolated to the largest size, and after fine-tuning there.
static void figure_similarity(const ResolutionStudy *study, const char *dir) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "posemb_interpolated",
                             "cosine similarity of the patches' position embeddings: trained "
                             "(g0 grid), interpolated to the g grid, fine-tuned; tile p = row p "
                             "on the patch grid",
                             &err),
                  program, &err);
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot title \"Position embeddings carried from a %dx%d grid to %dx%d"
                    "\\n{/*0.75 tile (r, c): cosine similarity of patch (r, c)'s embedding with "
                    "every patch's}\" font ',22'\n%s\nset cbrange [-1:1]\nunset key\n"
                    "set size ratio -1\nunset tics\nset border 0\nunset colorbox\n"
                    "set title font ',18'\n",
                    study->g0, study->g0, study->g, study->g, colormap_viridis_gnuplot());
    char title[128];
    snprintf(title, sizeof title, "trained at 28x28 (%dx%d)", study->g0, study->g0);
    similarity_panel(&plot, &s, study->sim_trained, study->g0, 0, 0.02, 0.28, title);
    snprintf(title, sizeof title, "interpolated to %dx%d", study->g, study->g);
    similarity_panel(&plot, &s, study->sim_interp, study->g, 1, 0.34, 0.28, title);
    plot_script_add(&s, "set colorbox user origin screen 0.955, screen 0.2 size screen 0.012, "
                        "screen 0.5\nset cbtics font ',13'\n");
    snprintf(title, sizeof title, "%dx%d after the fine-tune", study->g, study->g);
    similarity_panel(&plot, &s, study->sim_tuned, study->g, 2, 0.66, 0.28, title);
    plot_script_add(&s, "unset multiplot\n");
    plot.width = 1800;
    plot.height = 760;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

typedef struct {
    const char *title;
    const FeatureSet *sets;
    const ProbeCurve *curves;
    int count;
    int classes;
} ProbePanel;

// The lines' colours: chapter 06's ViT, the transfer ViT, a ViT at initialisation.
static const char *const CHAPTER06_COLOR = "#2ca02c", *const TRANSFER_COLOR = "#d62728",
                         *const INIT_COLOR = "#1f77b4";

// Accuracy against shots a class, a line per feature set, the draws' range as bars.
static void figure_probes(const ProbePanel *panels, int count, int draws, const char *dir) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "fewshot",
                             "for each panel, each feature set a block: shots mean lowest highest "
                             "(test accuracy over the draws)",
                             &err),
                  program, &err);
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot layout 1,%d title \"Few-shot linear probes: regularised least "
                    "squares on frozen features\\n{/*0.75 mean test accuracy over %d draws of the "
                    "shots; bars: the lowest and highest draw}\" font ',22'\n"
                    "set grid\nset tics font ',15'\nset logscale x\nset xrange [0.8:32]\n"
                    "set xtics (1, 5, 10, 25)\nset xlabel 'labelled images a class' font ',17'\n"
                    "set ylabel 'test accuracy' font ',17'\nset format y '%%.0f%%%%'\n"
                    "set yrange [0:100]\nset key bottom right font ',14'\nset title font ',19'\n",
                    count, draws);
    int block = 0;
    for (int p = 0; p < count; p++) {
        const ProbePanel *panel = &panels[p];
        plot_script_add(&s, "set title \"%s\"\nplot ", panel->title);
        for (int i = 0; i < panel->count; i++) {
            for (int k = 0; k < SHOT_COUNTS; k++)
                plot_printf(&plot, "%d %.6f %.6f %.6f\n", shot_counts[k], panel->curves[i].mean[k],
                            panel->curves[i].lo[k], panel->curves[i].hi[k]);
            plot_end_block(&plot);
            plot_script_add(&s,
                            "%sDATA index %d using 1:($2*100):($3*100):($4*100) with yerrorlines "
                            "lw 4 pt 7 ps 1.6 lc rgb '%s' title \"%s\"",
                            i ? ", \\\n     " : "", block++, panel->sets[i].color,
                            panel->sets[i].title);
        }
        plot_script_add(&s, "\n");
    }
    plot_script_add(&s, "unset multiplot\n");
    plot.width = 1900;
    plot.height = 850;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// A ViT of m's shape (classes: its head's) at initialisation, seed.
static Vit *vit_at_init(const Vit *like, int classes, int seed) {
    VitConfig cfg = like->cfg;
    cfg.num_classes = classes;
    Vit *m = xmalloc(sizeof *m);
    vit_build(m, &cfg, &like->head, 0.0f, BATCH);
    Rng rng;
    rng_seed(&rng, (uint64_t)seed);
    vit_init(m, &rng);
    return m;
}

static void vit_delete(Vit *m) {
    vit_free(m);
    free(m);
}

// ---- 3. transfer -------------------------------------------------------------------------

// The transfer ViT's file in --models.
static void transfer_path(char *out, size_t size, const Options *opt) {
    Error err;
    narrate_check(path_join(out, size, opt->models, "vit_classes0to4.safetensors", &err), program,
                  &err);
}

// Whether path names nothing (any other problem is the loader's to report).
static bool missing(const char *path) {
    struct stat st;
    return stat(path, &st) != 0 && errno == ENOENT;
}

// A ViT of chapter 06's shape trained with its recipe (AdamW) on the training
// images of classes 0-4 only, for --transfer-epochs; saved at path.
static void train_transfer_vit(const char *path, const Vit *like, const FashionMnist *train,
                               const Options *opt, float mean, float std) {
    FashionMnist seen = classes(train, train->count, 0, SEEN);
    int count = opt->transfer_limit > 0 && opt->transfer_limit < seen.count ? opt->transfer_limit
                                                                            : seen.count;
    Vit *m = vit_at_init(like, SEEN, opt->seed);
    TrainOptions to = {.epochs = opt->transfer_epochs,
                       .batch = BATCH,
                       .lr = 2e-3f,
                       .weight_decay = 0.05f,
                       .warmup = 1.0f,
                       .label_smoothing = 0.1f,
                       .clip = 1.0f,
                       .image_mean = mean,
                       .image_std = std,
                       .seed = opt->seed};
    Trainer t;
    Error err;
    narrate_check(trainer_build(&t, &m->model, &seen, count, &to, &err), program, &err);
    printf("   training it: %d images of classes 0-4, %d epoch%s of chapter 06's recipe\n", count,
           to.epochs, to.epochs == 1 ? "" : "s");
    while (t.epoch < to.epochs) {
        EpochResult e = trainer_epoch(&t, NULL);
        printf("   epoch %d/%d  train loss %.4f  train acc %.4f  %.1f s\n", t.epoch, to.epochs,
               e.loss, e.accuracy, e.seconds);
        fflush(stdout);
    }
    narrate_check(checkpoint_save(path, &m->model, mean, std, &err), program, &err);
    printf("   saved to %s\n", path);
    trainer_free(&t);
    vit_delete(m);
    fashion_mnist_free(&seen);
}

// The transfer ViT from path, which must be a ViT for 28x28 images and 5 classes.
static Model *open_transfer_vit(const char *path) {
    const ModelKind *kinds[] = {&vit_kind};
    Model *m;
    float mean, std;
    Error err;
    narrate_check(checkpoint_open(path, kinds, 1, BATCH, 0.0f, &m, &mean, &std, &err) &&
                      model_takes(m, S, S, 1, path, &err),
                  program, &err);
    if (m->num_classes != SEEN) {
        error_set(&err,
                  "%s: a model for %d classes, not the %d of chapter 10's transfer ViT (delete "
                  "it, or give --retrain)",
                  path, m->num_classes, SEEN);
        error_exit(program, &err, 1);
    }
    return m;
}

// ---- the chapter -------------------------------------------------------------------------

// Chapter 06's ViT from --model, for 28x28 Fashion-MNIST and its 10 classes.
static Vit *open_trained_vit(const Options *opt, float *mean, float *std) {
    checkpoint_require(program, opt->model, "build/ch06_classifier");
    const ModelKind *kinds[] = {&vit_kind};
    Model *m;
    Error err;
    narrate_check(checkpoint_open(opt->model, kinds, 1, BATCH, 0.0f, &m, mean, std, &err) &&
                      model_takes(m, S, S, 1, opt->model, &err),
                  program, &err);
    if (m->num_classes != K) {
        error_set(&err, "%s: a model for %d classes, not Fashion-MNIST's %d", opt->model,
                  m->num_classes, K);
        error_exit(program, &err, 1);
    }
    Vit *v = vit_of(m);
    for (int i = 1; i < SIZES; i++)
        if (sides[i] % v->cfg.patch_size != 0) {
            error_set(&err, "%s: patch %d does not divide %d, a size this chapter enlarges to",
                      opt->model, v->cfg.patch_size, sides[i]);
            error_exit(program, &err, 1);
        }
    return v;
}

// 2. Probes on all ten classes: chapter 06's ViT, the same shape at
// initialisation, the pixels.
static void probe_all_classes(ProbePanel *panel, FeatureSet *sets, ProbeCurve *curves, Vit *m,
                              const ProbeData *d, const Options *opt) {
    Vit *init = vit_at_init(m, K, opt->seed);
    sets[0] =
        vit_feature_set(m, d, "chapter 06's ViT (trained on all 10 classes)", CHAPTER06_COLOR);
    sets[1] = vit_feature_set(init, d, "the same ViT at initialisation", INIT_COLOR);
    sets[2] = pixel_feature_set(d);
    vit_delete(init);
    for (int i = 0; i < 3; i++) curves[i] = probe_curve(&sets[i], K, opt->draws, opt->seed);
    print_curves(sets, curves, 3, opt->draws, d->test->count);
    *panel = (ProbePanel){
        .title = "all 10 classes", .sets = sets, .curves = curves, .count = 3, .classes = K};
}

// 3. Probes on classes 5-9: the ViT that never saw them, at initialisation,
// the pixels, and chapter 06's ViT (which did see them) as the line above.
static void probe_unseen_classes(ProbePanel *panel, FeatureSet *sets, ProbeCurve *curves,
                                 Model *transfer, Vit *m, const ProbeData *d, const Options *opt) {
    Vit *init = vit_at_init(m, SEEN, opt->seed);
    sets[0] =
        vit_feature_set(vit_of(transfer), d, "ViT trained on classes 0-4 only", TRANSFER_COLOR);
    sets[1] = vit_feature_set(init, d, "the same ViT at initialisation", INIT_COLOR);
    sets[2] = pixel_feature_set(d);
    sets[3] = vit_feature_set(m, d, "chapter 06's ViT (saw classes 5-9 too)", CHAPTER06_COLOR);
    vit_delete(init);
    for (int i = 0; i < FEATURE_SETS; i++)
        curves[i] = probe_curve(&sets[i], K - SEEN, opt->draws, opt->seed);
    print_curves(sets, curves, FEATURE_SETS, opt->draws, d->test->count);
    *panel = (ProbePanel){.title = "classes 5-9, never seen by the transfer ViT",
                          .sets = sets,
                          .curves = curves,
                          .count = FEATURE_SETS,
                          .classes = K - SEEN};
}

// The defaults, then the command line; refuses bad flags with one line, exit 2.
static void parse_options(int argc, char **argv, Options *opt) {
    *opt = (Options){.out = "figures/ch10",
                     .model = VIT_MODEL_PATH,
                     .models = MODELS_DIR,
                     .finetune_images = 10000,
                     .finetune_lr = 0.03f,
                     .draws = 5,
                     .transfer_epochs = 2,
                     .seed = 0};
    CliOption options[] = {
        {"model", CLI_STRING, &opt->model, "chapter 06's ViT (for 28x28 images, 10 classes)", 0, 0,
         "FILE"},
        {"models", CLI_STRING, &opt->models,
         "directory of the transfer ViT (vit_classes0to4.safetensors; trained when missing)", 0, 0,
         "DIR"},
        {"finetune-images", CLI_INT, &opt->finetune_images,
         "training images each fine-tune sees, one pass", BATCH, 60000, "N"},
        {"finetune-lr", CLI_FLOAT, &opt->finetune_lr, "the fine-tune's peak learning rate (SGD)",
         1e-6, 1, NULL},
        {"test-images", CLI_INT, &opt->test_images, "test on the first N test images only (0: all)",
         0, 10000, "N"},
        {"draws", CLI_INT, &opt->draws, "random draws of the shots for each count", 1, MAX_DRAWS,
         NULL},
        {"transfer-epochs", CLI_INT, &opt->transfer_epochs,
         "epochs the transfer ViT trains on classes 0-4", 1, 100, NULL},
        {"transfer-limit", CLI_INT, &opt->transfer_limit,
         "train the transfer ViT on this many images only (0: all of classes 0-4)", 0, 60000, "N"},
        {"retrain", CLI_SWITCH, &opt->retrain, "train the transfer ViT even when it is saved", 0, 0,
         NULL},
        {"seed", CLI_INT, &opt->seed, "seed for the fine-tunes, the draws and the new ViTs", 0,
         2147483647, NULL},
        {"threads", CLI_INT, &opt->threads, "threads (0: all cores)", 0, 256, "N"},
        fashion_mnist_data_option(&opt->data_dir),
        cli_out_option(&opt->out),
    };
    cli_parse_or_exit(argc, argv,
                      "Chapter 10: fine-tuning at a higher resolution, few-shot linear probes, "
                      "and transfer to classes never seen.",
                      options, sizeof options / sizeof options[0]);
}

// The training set, which must hold the shots' pool and the validation images.
static void load_train(FashionMnist *train, const Options *opt) {
    Error err;
    narrate_check(
        fashion_mnist_load(train, fashion_mnist_dir(opt->data_dir), FASHION_MNIST_TRAIN, &err) &&
            fashion_mnist_check_size(train, S, S, &err),
        program, &err);
    if (train->count < VALIDATION + VAL_COUNT) {
        error_set(&err,
                  "%s: %d training images; this chapter draws shots from the first %d and "
                  "chooses the probe's strength on images %d-%d",
                  train->images_path, train->count, POOL, VALIDATION, VALIDATION + VAL_COUNT - 1);
        error_exit(program, &err, 1);
    }
}

int main(int argc, char **argv) {
    Options opt;
    parse_options(argc, argv, &opt);
    if (opt.threads > 0) train_set_threads(opt.threads);
    char transfer_file[1024];
    transfer_path(transfer_file, sizeof transfer_file, &opt);
    float mean, std;
    Vit *m = open_trained_vit(&opt, &mean, &std); // the models checked before the data is read
    bool train_transfer = opt.retrain || missing(transfer_file);
    Model *transfer = train_transfer ? NULL : open_transfer_vit(transfer_file);
    FashionMnist test, train;
    fashion_mnist_load_test_or_exit(&test, program, opt.data_dir, S, 0);
    if (opt.test_images > 0 && opt.test_images < test.count) test.count = opt.test_images;
    load_train(&train, &opt);
    Error err;
    narrate_check(plot_dir_check(opt.out, &err) &&
                      (!train_transfer || (make_parent_dirs(transfer_file, &err) &&
                                           output_check(transfer_file, &err))) &&
                      make_dirs(opt.out, &err),
                  program, &err);
    double start = progress_now();
    printf("Chapter 10: fine-tuning, few-shot probes and transfer\n\n");
    printf("The model: %s, a ViT for %dx%d images, patch %d (a %dx%d grid), width %d, %d layers\n",
           opt.model, S, S, m->cfg.patch_size, S / m->cfg.patch_size, S / m->cfg.patch_size,
           m->cfg.hidden_dim, m->cfg.num_layers);

    FineTune ft = {.images = opt.finetune_images < train.count ? opt.finetune_images : train.count,
                   .lr = opt.finetune_lr,
                   .momentum = 0.9f,
                   .warmup = 0.1f,
                   .clip = 1.0f,
                   .seed = opt.seed};
    printf("\n1. Higher resolution. Test accuracy of the model carried to each size (position\n"
           "   embeddings interpolated, every other weight as trained), then after one pass of\n"
           "   SGD (momentum %g, peak lr %g, batch %d) over %d training images at that size:\n",
           ft.momentum, ft.lr, BATCH, ft.images);
    double part = progress_now();
    ResolutionStudy study = resolution_study(m, &train, &test, &ft, mean, std);
    figure_resolution(&study, &ft, opt.out);
    figure_similarity(&study, opt.out);
    printf("   (%.0f s)\n", progress_now() - part);

    printf("\n2. Few-shot linear probes on the frozen model's features (%d features a picture),\n"
           "   shots drawn from the first %d training images, the L2 strength λ chosen\n"
           "   from %g to %g on training images %d-%d, tested on %d test images:\n",
           m->cfg.hidden_dim, POOL, lambdas[0], lambdas[LAMBDAS - 1], VALIDATION,
           VALIDATION + VAL_COUNT - 1, test.count);
    FashionMnist pool = slice(&train, 0, POOL), val = slice(&train, VALIDATION, VAL_COUNT);
    ProbeData all = {.pool = &pool, .val = &val, .test = &test, .mean = mean, .std = std};
    FeatureSet sets10[FEATURE_SETS], sets5[FEATURE_SETS];
    ProbeCurve curves10[FEATURE_SETS], curves5[FEATURE_SETS];
    ProbePanel panels[2];
    part = progress_now();
    probe_all_classes(&panels[0], sets10, curves10, m, &all, &opt);
    printf("   (%.0f s)\n", progress_now() - part);

    printf("\n3. Transfer to classes never seen: %s\n", transfer_file);
    part = progress_now();
    if (train_transfer) {
        train_transfer_vit(transfer_file, m, &train, &opt, mean, std);
        transfer = open_transfer_vit(transfer_file);
    } else {
        printf("   (saved by an earlier run; --retrain trains it again)\n");
    }
    FashionMnist pool5 = classes(&pool, pool.count, SEEN, K),
                 val5 = classes(&val, val.count, SEEN, K),
                 test5 = classes(&test, test.count, SEEN, K);
    ProbeData unseen = {.pool = &pool5, .val = &val5, .test = &test5, .mean = mean, .std = std};
    probe_unseen_classes(&panels[1], sets5, curves5, transfer, m, &unseen, &opt);
    figure_probes(panels, 2, opt.draws, opt.out);
    printf("   (%.0f s)\n", progress_now() - part);

    printf("\nFigures written to %s/: resolution, posemb_interpolated, fewshot\n", opt.out);
    printf("%.1f minutes in all.\n", (progress_now() - start) / 60.0);
    for (int i = 0; i < 3; i++) feature_set_free(&sets10[i]);
    for (int i = 0; i < FEATURE_SETS; i++) feature_set_free(&sets5[i]);
    free(study.sim_trained), free(study.sim_interp), free(study.sim_tuned);
    transfer->kind->close(transfer);
    m->model.kind->close(&m->model);
    fashion_mnist_free(&pool5), fashion_mnist_free(&val5), fashion_mnist_free(&test5);
    fashion_mnist_free(&pool), fashion_mnist_free(&val);
    fashion_mnist_free(&train), fashion_mnist_free(&test);
    return 0;
}

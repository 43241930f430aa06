// 09_inspect.c — chapter 09: what the trained ViT learned. The paper's
// Figures 6 and 7 on the models of chapter 06: the principal components of
// the patch-embedding filters, the cosine similarity of the learned position
// embeddings on the patch grid, the mean attention distance of every head at
// every depth (trained and at initialisation), and attention rollout drawn over
// test images beside the last layer's own class-token attention. It trains
// nothing: it reads chapter 06's ViT (patch 7, a 4x4 grid) and a ViT with
// patch 4 (a 7x7 grid), which the walkthrough trains for this chapter.
//
//   build/ch09_inspect                 both ViTs from build/models: numbers and four figures
//   build/ch09_inspect --model FILE    one checkpoint of the project's (a ViT or a hybrid)
//   build/ch09_inspect --models DIR    the two ViTs from DIR
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ch09.h"

enum {
    K = FASHION_MNIST_CLASSES,
    S = 28,          // image side
    SAMPLE = 1000,   // the test images the distances and shares are averaged over
    BATCH = 100,     // images per forward pass
    SHOWN_PCS = 16,  // principal components drawn per model
    PC_COLUMNS = 8,  // of them in a row
    SHOWN_RIGHT = 4, // rollout figure: the first 4 test images the first model gets right
    SHOWN_WRONG = 4, // and the first 4 it gets wrong
    SHOWN = SHOWN_RIGHT + SHOWN_WRONG,
    MAX_MODELS = 2,
    MAX_LAYERS = 64, // chapter 06's --layers at most
};
static const double PC_PAD_Y = 0.15;     // a component's row: room above and below its square tile
static const double ROLLOUT_PAD_Y = 0.1; // a rollout row: room for the tile's title

typedef struct {
    const char *data_dir; // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    const char *out;      // where the figures go
    const char *models;   // where chapter 06 and the walkthrough saved the two ViTs
    const char *model;    // one checkpoint to inspect instead (NULL: the two)
    int seed, threads;
} Options;

static const char *program = "ch09_inspect";

// ---- the models ------------------------------------------------------------------------

typedef struct {
    const char *title;   // "ViT, patch 7"
    const char *file;    // in --models
    const char *make;    // the command that makes it in build/models
    const char *make_in; // the same for another directory (%1$s)
} SavedModel;

static const SavedModel saved_models[MAX_MODELS] = {
    {"ViT, patch 7", "vit.safetensors", "build/ch06_classifier",
     "build/ch06_classifier --checkpoint %1$s/vit.safetensors"},
    {"ViT, patch 4", "vit_p4.safetensors",
     "build/ch06_classifier --patch 4 --epochs 3 --checkpoint build/models/vit_p4.safetensors "
     "--out build/ch06_p4",
     "build/ch06_classifier --patch 4 --epochs 3 --checkpoint %1$s/vit_p4.safetensors "
     "--out build/ch06_p4"},
};

// One model under inspection: the trained one and the same shape at
// initialisation, the parts of their encoders this chapter reads, and what
// it measures.
typedef struct {
    char title[64], path[1024];
    Model *m, *m0;              // trained; at initialisation (seed --seed)
    const VitConfig *cfg;       // the encoder's (a hybrid's: patch 1 on its stem's map)
    EncoderWeights *w, *w0;     // their weights
    EncoderActivations *a, *a0; // their activations: the attention weights of the last forward
    bool hybrid;
    int g, N, T, L, NH, C; // g x g = N patches, T = N + 1 tokens
    double spacing;        // pixels between neighbouring patch centres
    float mean, std;       // the input normalisation
    // 1. principal components of the patch embedding (a ViT's only)
    int d;                 // Cin·P·P
    float *pcs, *pc_var;   // (d,d), (d)
    float *pcs0, *pc_var0; // at initialisation
    // 2. cosine similarity of the patches' position embeddings
    float *sim, *sim0; // (N,N)
    // 3. mean attention distance, pixels
    double dist[MAX_LAYERS * 16], dist0[MAX_LAYERS * 16]; // (L,NH) when NH <= 16
    double *dist_heads, *dist0_heads;                     // (L,NH)
    double uniform;                                       // of uniform attention
    // 4. rollout: the share of the class token's weight on the garment's patches
    double ink_rollout, ink_last, ink_patches;
    int correct;    // of the SAMPLE images
    int *predicted; // (SAMPLE)
} Inspected;

// Encoder parts of model m (a ViT or a hybrid).
static void encoder_of(Model *m, const VitConfig **cfg, EncoderWeights **w,
                       EncoderActivations **a) {
    if (m->kind == &vit_kind) {
        Vit *v = vit_of(m);
        *cfg = &v->cfg, *w = &v->w, *a = &v->a;
    } else {
        Hybrid *h = hybrid_of(m);
        *cfg = &h->cfg, *w = &h->w.encoder, *a = &h->x.encoder;
    }
}

// Opens path (a ViT or a hybrid for 28x28 Fashion-MNIST), twice: the second
// copy gets its trainer's initial weights for seed. A CNN, or anything else, is
// refused with one line, exit 1.
static void inspected_open(Inspected *x, const char *path, const char *title, int seed) {
    *x = (Inspected){0};
    snprintf(x->path, sizeof x->path, "%s", path);
    snprintf(x->title, sizeof x->title, "%s", title);
    const ModelKind *kinds[] = {&vit_kind, &hybrid_kind, &cnn_kind};
    Error err;
    narrate_check(checkpoint_open(path, kinds, 3, BATCH, 0.0f, &x->m, &x->mean, &x->std, &err) &&
                      model_takes(x->m, S, S, 1, path, &err),
                  program, &err);
    if (x->m->kind == &cnn_kind) {
        error_set(&err,
                  "%s: a CNN has no patch embedding, position embeddings or attention to "
                  "inspect (give a ViT or a hybrid)",
                  path);
        error_exit(program, &err, 1);
    }
    if (x->m->num_classes != K) {
        error_set(&err, "%s: a model for %d classes, not Fashion-MNIST's %d", path,
                  x->m->num_classes, K);
        error_exit(program, &err, 1);
    }
    float mean, std;
    narrate_check(checkpoint_open(path, kinds, 2, BATCH, 0.0f, &x->m0, &mean, &std, &err), program,
                  &err);
    Rng rng;
    rng_seed(&rng, (uint64_t)seed);
    x->hybrid = x->m->kind == &hybrid_kind;
    if (x->hybrid)
        hybrid_init(hybrid_of(x->m0), &rng);
    else
        vit_init(vit_of(x->m0), &rng);
    encoder_of(x->m, &x->cfg, &x->w, &x->a);
    const VitConfig *cfg0;
    encoder_of(x->m0, &cfg0, &x->w0, &x->a0);
    const VitConfig *c = x->cfg;
    x->g = c->image_size / c->patch_size, x->N = x->g * x->g, x->T = x->N + 1;
    x->L = c->num_layers, x->NH = c->num_heads, x->C = c->hidden_dim;
    if (x->L * x->NH > MAX_LAYERS * 16) {
        error_set(&err, "%s: %d layers of %d heads, more than this chapter draws (%d)", path, x->L,
                  x->NH, MAX_LAYERS * 16);
        error_exit(program, &err, 1);
    }
    x->dist_heads = x->dist, x->dist0_heads = x->dist0;
    x->spacing = (double)S / x->g;
    x->d = c->in_channels * c->patch_size * c->patch_size;
    x->predicted = xmalloc(sizeof(int) * SAMPLE);
}

static void inspected_close(Inspected *x) {
    x->m->kind->close(x->m), x->m0->kind->close(x->m0);
    free(x->pcs), free(x->pc_var), free(x->pcs0), free(x->pc_var0);
    free(x->sim), free(x->sim0), free(x->predicted);
}

// The model's path in --models; it must exist: else one line naming it and
// the command that makes it, exit 1.
static void saved_path(char *path, size_t size, const Options *opt, int which) {
    char command[3200];
    snprintf(path, size, "%s/%s", opt->models, saved_models[which].file);
    if (strcmp(opt->models, MODELS_DIR) == 0)
        snprintf(command, sizeof command, "%s", saved_models[which].make);
    else
        snprintf(command, sizeof command, saved_models[which].make_in, opt->models);
    checkpoint_require(program, path, command);
}

// ---- 1. the patch embedding's principal components --------------------------------------

// region: filters
// The patch embedding's C filters, each a row of Cin·P·P numbers, and their
// principal components; the same for the filters at initialisation.
static void embedding_components(Inspected *x) {
    Error err;
    int C = x->C, d = x->d;
    x->pcs = xmalloc(sizeof(float) * d * d), x->pc_var = xmalloc(sizeof(float) * d);
    x->pcs0 = xmalloc(sizeof(float) * d * d), x->pc_var0 = xmalloc(sizeof(float) * d);
    narrate_check(pca_fit(x->pcs, x->pc_var, x->w->conv_w, C, d, &err), program, &err);
    narrate_check(pca_fit(x->pcs0, x->pc_var0, x->w0->conv_w, C, d, &err), program, &err);
}
// endregion: filters

// ‖W − W0‖ / ‖W0‖ of the patch embedding's filters: how far training moved them.
static double filters_moved(const Inspected *x) {
    size_t n = (size_t)x->C * x->d;
    return l2_distance(x->w->conv_w, x->w0->conv_w, n) / l2_norm(x->w0->conv_w, n);
}

static void print_components(const Inspected *x) {
    int P = x->cfg->patch_size;
    printf("   %s: %d filters of %dx%d = %d numbers. The first components explain\n", x->title,
           x->C, P, P, x->d);
    static const int firsts[] = {1, 2, 3, 5, 10, 20};
    printf("     %-22s", "components");
    for (int k = 0; k < 6; k++)
        if (firsts[k] <= x->d) printf(" %6d", firsts[k]);
    printf("\n     %-22s", "trained");
    for (int k = 0; k < 6; k++)
        if (firsts[k] <= x->d)
            printf(" %5.1f%%", 100.0 * pca_explained(x->pc_var, x->d, firsts[k]));
    printf("\n     %-22s", "at initialisation");
    for (int k = 0; k < 6; k++)
        if (firsts[k] <= x->d)
            printf(" %5.1f%%", 100.0 * pca_explained(x->pc_var0, x->d, firsts[k]));
    printf("\n     of the filters' variance. Training moved the filters by %.0f%% of their size\n"
           "     at initialisation (‖W − W0‖ / ‖W0‖).\n",
           100.0 * filters_moved(x));
}

// ---- 2. position embeddings ----------------------------------------------------------------

// The patches' position embeddings (rows 1..N of pos; row 0 is the class
// token's), each against every other: trained and at initialisation.
static void position_similarity(Inspected *x) {
    x->sim = xmalloc(sizeof(float) * x->N * x->N);
    x->sim0 = xmalloc(sizeof(float) * x->N * x->N);
    cosine_similarity_rows(x->sim, x->w->pos + x->C, x->N, x->C);
    cosine_similarity_rows(x->sim0, x->w0->pos + x->C, x->N, x->C);
}

// The mean similarity of the pairs of patches (i != j) whose grid distance,
// in cells, lies in [lo, hi).
static double mean_similarity(const float *sim, int g, double lo, double hi) {
    double sum = 0.0;
    int count = 0;
    for (int i = 0; i < g * g; i++)
        for (int j = 0; j < g * g; j++) {
            double dist = patch_distance(i, j, g, 1.0);
            if (i != j && dist >= lo && dist < hi) sum += sim[i * g * g + j], count++;
        }
    return count > 0 ? sum / count : 0.0;
}

// The mean similarity of pairs in the same row (or column) at least two cells apart.
static double mean_similarity_line(const float *sim, int g, bool rows) {
    double sum = 0.0;
    int count = 0;
    for (int i = 0; i < g * g; i++)
        for (int j = 0; j < g * g; j++) {
            bool same = rows ? i / g == j / g : i % g == j % g;
            if (same && patch_distance(i, j, g, 1.0) >= 2.0) sum += sim[i * g * g + j], count++;
        }
    return count > 0 ? sum / count : 0.0;
}

static void print_similarity(const Inspected *x) {
    int g = x->g;
    printf("   %s (%dx%d grid): mean cosine similarity of two patches' position embeddings\n",
           x->title, g, g);
    printf("     %-40s %9s %18s\n", "", "trained", "at initialisation");
    const char *labels[] = {"neighbours (1 cell apart)", "diagonal neighbours (1.4 cells)",
                            "2 to 3 cells apart", "more than 3 cells apart"};
    double lo[] = {1.0, 1.4, 2.0, 3.01}, hi[] = {1.01, 1.5, 3.01, 1e9};
    for (int k = 0; k < 4; k++)
        if (k < 3 || g > 3)
            printf("     %-40s %+9.3f %+18.3f\n", labels[k],
                   mean_similarity(x->sim, g, lo[k], hi[k]),
                   mean_similarity(x->sim0, g, lo[k], hi[k]));
    printf("     %-40s %+9.3f %+18.3f\n", "same row, 2 or more cells apart",
           mean_similarity_line(x->sim, g, true), mean_similarity_line(x->sim0, g, true));
    printf("     %-40s %+9.3f %+18.3f\n", "same column, 2 or more cells apart",
           mean_similarity_line(x->sim, g, false), mean_similarity_line(x->sim0, g, false));
}

// ---- 3 and 4. attention: distances, rollout ----------------------------------------------

// Whether patch n of image x (S,S) in [0, 1] holds some of the garment: its
// mean brightness at least 0.1 (the background is black).
static bool ink_patch(const float *image, int g, int n) {
    int P = S / g, r = n / g, c = n % g;
    double sum = 0.0;
    for (int y = 0; y < P; y++)
        for (int col = 0; col < P; col++) sum += image[(r * P + y) * S + c * P + col];
    return sum / (P * P) >= 0.1;
}

// The class token's row of the rollout over the patches, out (N), and of the
// last layer's attention averaged over its heads, last (N), for image b of
// the last forward (activations a).
static void class_attention(float *out, float *last, const Inspected *x,
                            const EncoderActivations *a, int b, float *scratch) {
    int T = x->T, NH = x->NH, L = x->L;
    const float *layers[MAX_LAYERS];
    for (int l = 0; l < L; l++) layers[l] = a->layers[l].attn.att + (size_t)b * NH * T * T;
    float *R = scratch, *rest = scratch + (size_t)T * T; // (T,T), then (2,T,T)
    rollout(R, layers, L, NH, T, rest);
    for (int n = 0; n < x->N; n++) {
        out[n] = R[1 + n];
        double s = 0.0;
        for (int h = 0; h < NH; h++) s += layers[L - 1][(size_t)h * T * T + 1 + n];
        last[n] = (float)(s / NH);
    }
}

// region: distances
// Over the first SAMPLE test images: every head's mean attention distance,
// trained and at initialisation; the trained model's predictions; and the
// share of the class token's rollout and last-layer attention that falls on
// the patches the garment covers.
static void measure_attention(Inspected *x, const FashionMnist *test) {
    int L = x->L, NH = x->NH, N = x->N, T = x->T;
    float *images = xmalloc(sizeof(float) * BATCH * S * S),
          *inputs = xmalloc(sizeof(float) * BATCH * S * S);
    float *scratch = xmalloc(sizeof(float) * 3 * T * T), roll[1024], last[1024];
    assert(N <= 1024);
    memset(x->dist, 0, sizeof x->dist), memset(x->dist0, 0, sizeof x->dist0);
    double ink_roll = 0.0, ink_last = 0.0, ink_count = 0.0;
    for (int first = 0; first < SAMPLE; first += BATCH) {
        for (int b = 0; b < BATCH; b++) {
            fashion_mnist_image(test, first + b, images + (size_t)b * S * S);
            fashion_mnist_normalized(test, first + b, x->mean, x->std, inputs + (size_t)b * S * S);
        }
        model_forward(x->m0, inputs, NULL, BATCH, 0.0f, false);
        for (int l = 0; l < L; l++)
            attention_distance_heads(x->dist0 + l * NH, x->a0->layers[l].attn.att, BATCH, NH, T, 1,
                                     x->g, x->spacing);
        model_forward(x->m, inputs, NULL, BATCH, 0.0f, false);
        for (int l = 0; l < L; l++)
            attention_distance_heads(x->dist + l * NH, x->a->layers[l].attn.att, BATCH, NH, T, 1,
                                     x->g, x->spacing);
        for (int b = 0; b < BATCH; b++) {
            int i = first + b;
            x->predicted[i] = narrate_argmax(x->m->logits + (size_t)b * K, K);
            x->correct += x->predicted[i] == test->labels[i];
            class_attention(roll, last, x, x->a, b, scratch);
            double sum_roll = 0.0, sum_last = 0.0;
            for (int n = 0; n < N; n++) sum_roll += roll[n], sum_last += last[n];
            for (int n = 0; n < N; n++)
                if (ink_patch(images + (size_t)b * S * S, x->g, n)) {
                    ink_roll += roll[n] / sum_roll, ink_last += last[n] / sum_last;
                    ink_count += 1.0 / N;
                }
        }
    }
    for (int k = 0; k < L * NH; k++) x->dist[k] /= SAMPLE, x->dist0[k] /= SAMPLE;
    x->ink_rollout = ink_roll / SAMPLE, x->ink_last = ink_last / SAMPLE;
    x->ink_patches = ink_count / SAMPLE;
    double pairs = 0.0; // uniform attention: the mean distance over all pairs
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) pairs += patch_distance(i, j, x->g, x->spacing);
    x->uniform = pairs / ((double)N * N);
    free(images), free(inputs), free(scratch);
}
// endregion: distances

static void print_distances(const Inspected *x) {
    int L = x->L, NH = x->NH;
    printf("   %s (patch centres %.0f pixels apart; uniform attention: %.1f pixels):\n", x->title,
           x->spacing, x->uniform);
    printf("     %-8s %-34s %s\n", "layer", "trained: heads 1..NH (pixels)", "at initialisation");
    int lo = 0, hi = 0;
    for (int l = 0; l < L; l++) {
        char line[256] = "";
        for (int h = 0; h < NH && h < 8; h++)
            snprintf(line + strlen(line), sizeof line - strlen(line), " %5.1f",
                     x->dist[l * NH + h]);
        double mn = 1e9, mx = 0.0;
        for (int h = 0; h < NH; h++) {
            int k = l * NH + h;
            mn = fmin(mn, x->dist0[k]), mx = fmax(mx, x->dist0[k]);
            if (x->dist[k] < x->dist[lo]) lo = k;
            if (x->dist[k] > x->dist[hi]) hi = k;
        }
        printf("     %-8d %-34s %.1f to %.1f\n", l + 1, line, mn, mx);
    }
    printf("     The most local head: layer %d head %d, %.1f pixels; the most global: layer %d\n"
           "     head %d, %.1f pixels.\n",
           lo / NH + 1, lo % NH + 1, x->dist[lo], hi / NH + 1, hi % NH + 1, x->dist[hi]);
}

// ---- the figures ---------------------------------------------------------------------------

// gnuplot margins that put the next plot in cell (row, col) of a rows x cols
// grid inside the screen box [x0,x1] x [y0,y1] (0 bottom, 1 top), leaving pad
// of the cell's width on each side and pad_y of its height above and below.
static void cell_padded(PlotScript *s, int row, int col, int rows, int cols, double x0, double x1,
                        double y0, double y1, double pad, double pad_y) {
    double w = (x1 - x0) / cols, h = (y1 - y0) / rows;
    plot_script_add(s,
                    "set lmargin at screen %.4f\nset rmargin at screen %.4f\n"
                    "set tmargin at screen %.4f\nset bmargin at screen %.4f\n",
                    x0 + col * w + pad * w, x0 + (col + 1) * w - pad * w, y1 - row * h - pad_y * h,
                    y1 - (row + 1) * h + pad_y * h);
}

// The same with pad on all four sides.
static void cell(PlotScript *s, int row, int col, int rows, int cols, double x0, double x1,
                 double y0, double y1, double pad) {
    cell_padded(s, row, col, rows, cols, x0, x1, y0, y1, pad, pad);
}

static const char *const diverging = "set palette defined (-1 '#2166ac', 0 'white', 1 '#b2182b')\n";

// (1) The first SHOWN_PCS principal components of each ViT's filters, as PxP
// pictures, with the share of variance each explains.
static void figure_components(Inspected *xs, int count, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "embedding_pcs",
                             "for each model, its first principal components of the patch "
                             "embedding's filters, each a PxP matrix",
                             &err),
                  program, &err);
    PlotScript s = {0};
    int models = 0;
    for (int i = 0; i < count; i++) models += !xs[i].hybrid;
    int rows_each = (SHOWN_PCS + PC_COLUMNS - 1) / PC_COLUMNS, rows = models * rows_each;
    plot_script_add(&s,
                    "set multiplot title \"Principal components of the patch-embedding filters "
                    "(the paper's Figure 7, left)\\n{/*0.75 each a unit vector of P·P numbers; "
                    "title: component and the share of the filters' variance it explains}\" "
                    "font ',22'\n"
                    "unset key\nunset xtics\nunset ytics\nset border lw 0.5\nset size noratio\n%s"
                    "set title font ',15' offset 0,-0.6\n",
                    diverging);
    int row0 = 0, block = 0;
    for (int i = 0; i < count; i++) {
        const Inspected *x = &xs[i];
        if (x->hybrid) continue;
        int P = x->cfg->patch_size, shown = SHOWN_PCS < x->d ? SHOWN_PCS : x->d;
        float big = 0.0f;
        for (int k = 0; k < shown * x->d; k++) big = fmaxf(big, fabsf(x->pcs[k]));
        for (int k = 0; k < shown; k++) {
            for (int y = 0; y < P; y++)
                for (int c = 0; c < P; c++)
                    plot_printf(&plot, "%.5g%c", x->pcs[(size_t)k * x->d + y * P + c],
                                c + 1 < P ? ' ' : '\n');
            plot_end_block(&plot);
        }
        double label_y = 0.85 - 0.82 * (row0 + rows_each / 2.0) / rows;
        plot_script_add(&s,
                        "set label 1 \"%s\\n{/*0.8 %d filters}\" at screen 0.05, screen %.4f "
                        "center rotate by 90 font ',18'\n"
                        "set cbrange [%g:%g]\nset xrange [-0.5:%g]\nset yrange [%g:-0.5]\n",
                        x->title, x->C, label_y, -big, big, P - 0.5, P - 0.5);
        for (int k = 0; k < shown; k++) {
            int r = row0 + k / PC_COLUMNS, c = k % PC_COLUMNS;
            cell_padded(&s, r, c, rows, PC_COLUMNS, 0.09, 0.88, 0.03, 0.85, 0.07, PC_PAD_Y);
            if (k == shown - 1) // one colour bar per model, beside its rows
                plot_script_add(&s,
                                "set colorbox user origin screen 0.9, screen %.4f size screen "
                                "0.015, screen %.4f\nset cbtics font ',13'\n",
                                0.85 - 0.82 * (row0 + rows_each) / rows + 0.02,
                                0.82 * rows_each / rows - 0.04);
            else
                plot_script_add(&s, "unset colorbox\n");
            double share =
                pca_explained(x->pc_var, x->d, k + 1) - pca_explained(x->pc_var, x->d, k);
            plot_script_add(&s, "set title \"%d: %.1f%%\"\nplot DATA index %d matrix with image\n",
                            k + 1, 100.0 * share, block++);
            if (k == 0) plot_script_add(&s, "unset label 1\n");
        }
        row0 += rows_each;
    }
    plot_script_add(&s, "unset multiplot\n");
    // Square tiles: a tile is 0.79 * 1700 / 8 * (1 - 2 * 0.07) pixels wide, and a
    // row of them 0.82 of the height / rows, less PC_PAD_Y above and below.
    plot.width = 1700;
    double tile = 0.79 * 1700 / PC_COLUMNS * (1 - 2 * 0.07);
    plot.height = (int)lround(tile / (1 - 2 * PC_PAD_Y) * rows / 0.82);
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// (2) Position-embedding similarity on the patch grid: tile p is row p of the
// (N,N) similarity drawn at patch p's place; at initialisation, then trained.
static void figure_similarity(Inspected *xs, int count, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "posemb_similarity",
                             "for each model: cosine similarity of the patches' position "
                             "embeddings at initialisation, then trained; tile p = row p of "
                             "(N,N) on the patch grid",
                             &err),
                  program, &err);
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot title \"Cosine similarity of the position embeddings (the "
                    "paper's Figure 7, centre)\\n{/*0.75 tile (r, c): the similarity of patch "
                    "(r, c)'s embedding with every patch's, on the patch grid}\" font ',22'\n"
                    "%s\nset cbrange [-1:1]\nset cblabel 'cosine similarity' font ',16'\n"
                    "set size ratio -1\nunset key\nset border 0\nset tics scale 0 font ',13'\n"
                    "set xlabel font ',15'\nset ylabel font ',15'\nset title font ',18'\n",
                    colormap_viridis_gnuplot());
    int block = 0;
    for (int i = 0; i < count; i++) {
        const Inspected *x = &xs[i];
        int g = x->g, side = g * (g + 1) - 1;
        for (int trained = 0; trained < 2; trained++) {
            plot_mosaic(&plot, trained ? x->sim : x->sim0, x->N, g, g, g);
            plot_end_block(&plot);
            cell(&s, i, trained, count, 2, 0.04, 0.9, 0.02, 0.88, 0.07);
            plot_script_add(&s, "set ylabel \"%s\"\nset xlabel \"%s\"\n",
                            trained ? "" : "input patch row",
                            i == count - 1 ? "input patch column" : "");
            plot_script_add(&s,
                            "unset object\nset xrange [-0.5:%d-0.5]\nset yrange [%d-0.5:-0.5]\n%s"
                            "set xtics ()\nset ytics ()\n"
                            "do for [k=1:%d] { set xtics add (sprintf('%%d', k) (k-1)*%d + %g); "
                            "set ytics add (sprintf('%%d', k) (k-1)*%d + %g) }\n",
                            side, side, mosaic_gaps_script(x->N, g, g, g), g, g + 1, (g - 1) / 2.0,
                            g + 1, (g - 1) / 2.0);
            if (trained)
                plot_script_add(&s,
                                "set colorbox user origin screen 0.91, screen %.4f size "
                                "screen 0.015, screen %.4f\n",
                                0.86 - 0.84 * (i + 1) / count + 0.06, 0.84 / count - 0.12);
            else
                plot_script_add(&s, "unset colorbox\n");
            plot_script_add(&s, "set title \"%s, %s\"\nplot DATA index %d matrix with image\n",
                            x->title, trained ? "trained" : "at initialisation", block++);
        }
    }
    plot_script_add(&s, "unset multiplot\n");
    plot.width = 1500;
    plot.height = 140 + 680 * count;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// (3) Mean attention distance against depth, one dot per head: trained (filled)
// and at initialisation (open), a panel per model.
static void figure_distances(Inspected *xs, int count, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "attention_distance",
                             "for each model a block: layer, head, mean attention distance "
                             "trained, at initialisation (pixels)",
                             &err),
                  program, &err);
    double top = 0.0;
    for (int i = 0; i < count; i++) {
        const Inspected *x = &xs[i];
        for (int l = 0; l < x->L; l++)
            for (int h = 0; h < x->NH; h++) {
                int k = l * x->NH + h;
                plot_printf(&plot, "%d %d %.4f %.4f\n", l + 1, h + 1, x->dist[k], x->dist0[k]);
                top = fmax(top, fmax(x->dist[k], x->dist0[k]));
            }
        plot_end_block(&plot);
        top = fmax(top, x->uniform);
    }
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot layout 1,%d title \"Mean attention distance of every head, "
                    "over 1,000 test images (the paper's Figure 7, right)\\n{/*0.75 the "
                    "attention-weighted distance between the centres of a query patch and the "
                    "patches it looks at}\" font ',22'\n"
                    "set grid\nset tics font ',15'\nset xlabel 'network depth (layer)' font ',17'\n"
                    "set ylabel 'mean attention distance (pixels)' font ',17'\n"
                    "set key bottom right font ',15' box opaque\nset yrange [0:%g]\n"
                    "set title font ',19'\n",
                    count, ceil(top / 2.0) * 2.0 + 1.0);
    for (int i = 0; i < count; i++) {
        const Inspected *x = &xs[i];
        plot_script_add(&s,
                        "set xrange [0.5:%d.5]\nset xtics 1\nset title \"%s (%dx%d patches, "
                        "%d heads)\"\nplot %.4f with lines dt 2 lw 2 lc rgb '#777777' title "
                        "'uniform attention (%.1f px)', \\\n"
                        "     DATA index %d using ($1-0.12):4 with points pt 6 ps 2.2 lw 2 lc rgb "
                        "'#ff7f0e' title 'at initialisation', \\\n"
                        "     DATA index %d using ($1+0.12):3 with points pt 7 ps 2.2 lc rgb "
                        "'#1f77b4' title 'trained'\n",
                        x->L, x->title, x->g, x->g, x->NH, x->uniform, x->uniform, i, i);
    }
    plot_script_add(&s, "unset multiplot\n");
    plot.width = 900 * count + 100;
    plot.height = 800;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// The first SHOWN_RIGHT test images model x classifies right and the first
// SHOWN_WRONG it gets wrong: shown (SHOWN).
static int pick_examples(const Inspected *x, const FashionMnist *test, int *shown) {
    int right = 0, wrong = 0;
    for (int i = 0; i < SAMPLE && right + wrong < SHOWN; i++) {
        bool ok = x->predicted[i] == test->labels[i];
        if (ok && right < SHOWN_RIGHT) shown[right++] = i;
        if (!ok && wrong < SHOWN_WRONG) shown[SHOWN_RIGHT + wrong++] = i;
    }
    if (wrong < SHOWN_WRONG) // a model right on all of the sample: more right ones
        for (int i = 0; i < SAMPLE && right + wrong < SHOWN; i++)
            if (x->predicted[i] == test->labels[i] && i > shown[right - 1]) shown[right++] = i;
    return right + wrong;
}

// The colour of a pixel of an overlay: the map's value m in [0, 1] through
// viridis, mixed with the image's gray level so the garment shows through.
static Rgb overlay(float m, float gray) {
    Rgb c = colormap_viridis(m);
    float keep = 0.6f, v = 255.0f * gray * (1.0f - keep);
    return (Rgb){(unsigned char)(keep * c.r + v), (unsigned char)(keep * c.g + v),
                 (unsigned char)(keep * c.b + v)};
}

// One panel of the rollout figure as rgbimage data: the image, or the
// image under the map (N) on its g x g grid, scaled to its largest value.
static void overlay_block(Plot *plot, const float *image, const float *map, int g) {
    float big = 0.0f;
    if (map != NULL)
        for (int n = 0; n < g * g; n++) big = fmaxf(big, map[n]);
    for (int y = 0; y < S; y++)
        for (int c = 0; c < S; c++) {
            float gray = image[y * S + c];
            Rgb p = {(unsigned char)(255 * gray), (unsigned char)(255 * gray),
                     (unsigned char)(255 * gray)};
            if (map != NULL)
                p = overlay(big > 0 ? map[(y * g / S) * g + c * g / S] / big : 0, gray);
            plot_printf(plot, "%d %d %d %d %d\n", c, y, p.r, p.g, p.b);
        }
    plot_end_block(plot);
}

// region: rollout-figure
// (4) Test images (columns), then for each model its attention rollout and
// its last layer's class-token attention over them.
static void figure_rollout(Inspected *xs, int count, const FashionMnist *test, const Options *opt) {
    int shown[SHOWN], n = pick_examples(&xs[0], test, shown), rows = 1 + 2 * count;
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "attention_rollout",
                             "blocks of x y r g b, column by column: the image, then for each "
                             "model its rollout and its last layer's class-token attention",
                             &err),
                  program, &err);
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot title \"What the class token attends to (the paper's Figure "
                    "6): attention rollout through all layers, and the last layer alone\\n{/*0.75 "
                    "%d test images the %s gets right, then %d it gets wrong; the maps scaled "
                    "to their largest value (yellow), over the image}\" font ',22'\n"
                    "unset key\nunset xtics\nunset ytics\nunset colorbox\nset border lw 0.5\n"
                    "set size ratio -1\nset xrange [-0.5:27.5]\nset yrange [27.5:-0.5]\n"
                    "set title font ',14' offset 0,-0.5\nset ylabel font ',15'\n",
                    SHOWN_RIGHT, xs[0].title, SHOWN_WRONG);
    int most = 0;
    for (int k = 0; k < count; k++) most = xs[k].T > most ? xs[k].T : most;
    float image[S * S], roll[1024], last[1024], *scratch = xmalloc(sizeof(float) * 3 * most * most);
    int block = 0;
    for (int j = 0; j < n; j++) {
        int i = shown[j];
        fashion_mnist_image(test, i, image);
        overlay_block(&plot, image, NULL, 1);
        cell_padded(&s, 0, j, rows, n, 0.07, 0.99, 0.01, 0.87, 0.05, ROLLOUT_PAD_Y);
        plot_script_add(&s,
                        "set ylabel \"%s\"\nset title \"#%d %s\"\n"
                        "plot DATA index %d with rgbimage\n",
                        j == 0 ? "test image" : "", i, fashion_mnist_class_names[test->labels[i]],
                        block++);
        for (int k = 0; k < count; k++) {
            Inspected *x = &xs[k];
            float input[S * S];
            fashion_mnist_normalized(test, i, x->mean, x->std, input);
            model_forward(x->m, input, NULL, 1, 0.0f, false);
            class_attention(roll, last, x, x->a, 0, scratch);
            int said = narrate_argmax(x->m->logits, K);
            for (int kind = 0; kind < 2; kind++) {
                overlay_block(&plot, image, kind == 0 ? roll : last, x->g);
                cell_padded(&s, 1 + 2 * k + kind, j, rows, n, 0.07, 0.99, 0.01, 0.87, 0.05,
                            ROLLOUT_PAD_Y);
                char ylabel[160] = "";
                if (j == 0)
                    snprintf(ylabel, sizeof ylabel, "%.63s\\n%s", x->title,
                             kind == 0 ? "rollout" : "last layer");
                char title[64] = "";
                if (kind == 0)
                    snprintf(title, sizeof title, "said %s%s", fashion_mnist_class_names[said],
                             said == test->labels[i] ? "" : " ✗");
                plot_script_add(&s,
                                "set ylabel \"%s\"\nset title \"%s\"\n"
                                "plot DATA index %d with rgbimage\n",
                                ylabel, title, block++);
            }
        }
    }
    free(scratch);
    plot_script_add(&s, "unset multiplot\n");
    // Tiles about square, with room above each for its title: 207 x 209 pixels for
    // eight images and two models.
    plot.width = 230 * n + 160;
    plot.height = 300 * rows + 20;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}
// endregion: rollout-figure

static void print_rollout(const Inspected *x, const FashionMnist *test) {
    int shown[SHOWN], n = pick_examples(x, test, shown);
    printf("   %s: %.1f%% of the first 1,000 test images right. On average the garment covers\n"
           "     %.0f%% of the patches, and they receive %.0f%% of the class token's rollout and\n"
           "     %.0f%% of its last layer's attention to the patches.\n",
           x->title, 100.0 * x->correct / SAMPLE, 100.0 * x->ink_patches, 100.0 * x->ink_rollout,
           100.0 * x->ink_last);
    printf("     The images of the rollout figure (* marks a wrong answer):\n");
    for (int j = 0; j < n; j++) {
        int i = shown[j], said = x->predicted[i];
        printf("     #%-4d %-12s said %-12s%s\n", shown[j],
               fashion_mnist_class_names[test->labels[i]], fashion_mnist_class_names[said],
               said == test->labels[i] ? "" : " *");
    }
}

// ---- the chapter -------------------------------------------------------------------------

// The defaults, then the command line; refuses bad flags with one line, exit 2.
static void parse_options(int argc, char **argv, Options *opt) {
    *opt = (Options){.out = "figures/ch09", .models = MODELS_DIR, .seed = 0};
    CliOption options[] = {
        {"model", CLI_STRING, &opt->model,
         "inspect this checkpoint alone (a ViT or a hybrid) instead of the two ViTs", 0, 0, "FILE"},
        {"models", CLI_STRING, &opt->models,
         "directory of the two ViTs (vit.safetensors, vit_p4.safetensors)", 0, 0, "DIR"},
        {"seed", CLI_INT, &opt->seed,
         "the seed the models were trained with: their initial weights are made again from it", 0,
         2147483647, NULL},
        {"threads", CLI_INT, &opt->threads, "threads (0: all cores)", 0, 256, "N"},
        fashion_mnist_data_option(&opt->data_dir),
        cli_out_option(&opt->out),
    };
    cli_parse_or_exit(argc, argv,
                      "Chapter 09: what the trained ViT learned. Filters, position embeddings, "
                      "attention distance and rollout (the paper's Figures 6 and 7).",
                      options, sizeof options / sizeof options[0]);
}

// The title of a checkpoint given with --model: its file name without the extension.
static const char *title_of(const char *path, char *title, size_t size) {
    const char *base = strrchr(path, '/');
    snprintf(title, size, "%s", base != NULL ? base + 1 : path);
    char *dot = strstr(title, ".safetensors");
    if (dot != NULL && dot != title) *dot = '\0';
    return title;
}

int main(int argc, char **argv) {
    Options opt;
    parse_options(argc, argv, &opt);
    if (opt.threads > 0) train_set_threads(opt.threads);
    char paths[MAX_MODELS][1024], title[64];
    int count = opt.model != NULL ? 1 : MAX_MODELS;
    if (opt.model != NULL)
        snprintf(paths[0], sizeof paths[0], "%s", opt.model);
    else
        for (int i = 0; i < count; i++)
            saved_path(paths[i], sizeof paths[i], &opt, i); // before any work
    FashionMnist test;
    fashion_mnist_load_test_or_exit(&test, program, opt.data_dir, S, 0);
    Error err;
    fashion_mnist_require_test_images(&test, SAMPLE, program);
    narrate_check(make_dirs(opt.out, &err), program, &err);
    Inspected xs[MAX_MODELS];
    for (int i = 0; i < count; i++)
        inspected_open(&xs[i], paths[i],
                       opt.model != NULL ? title_of(opt.model, title, sizeof title)
                                         : saved_models[i].title,
                       opt.seed);
    printf("Chapter 09: what the trained ViT learned\n\n");
    for (int i = 0; i < count; i++) {
        const Inspected *x = &xs[i];
        printf("  %-14s %s: %s, %dx%d patch grid (%d tokens), width %d, %d layers of %d heads;\n"
               "                 at initialisation: the same shape, its trainer's initial weights "
               "(seed %d)\n",
               x->title, x->path, x->hybrid ? "a hybrid" : "a ViT", x->g, x->g, x->T, x->C, x->L,
               x->NH, opt.seed);
    }

    printf("\n1. Principal components of the patch embedding's filters (rows of the\n"
           "   projection, centred; eigenvectors of their covariance through LAPACK):\n");
    int vits = 0;
    for (int i = 0; i < count; i++) {
        if (xs[i].hybrid) {
            printf("   %s: its tokens are 1x1 patches of a %d-channel feature map; its filters\n"
                   "     are not pictures, so they are left out.\n",
                   xs[i].title, xs[i].cfg->in_channels);
            continue;
        }
        embedding_components(&xs[i]);
        print_components(&xs[i]);
        vits++;
    }
    if (vits > 0) figure_components(xs, count, &opt);

    printf(
        "\n2. Position embeddings: cosine similarity between patches, by distance on the grid\n");
    for (int i = 0; i < count; i++) {
        position_similarity(&xs[i]);
        print_similarity(&xs[i]);
    }
    figure_similarity(xs, count, &opt);

    printf("\n3. Mean attention distance of every head over the first 1,000 test images\n");
    for (int i = 0; i < count; i++) {
        measure_attention(&xs[i], &test);
        print_distances(&xs[i]);
    }
    figure_distances(xs, count, &opt);

    printf("\n4. Attention rollout: what the class token gathers, through every layer\n");
    for (int i = 0; i < count; i++) print_rollout(&xs[i], &test);
    figure_rollout(xs, count, &test, &opt);

    printf("\nFigures written to %s/: %sposemb_similarity, attention_distance, attention_rollout\n",
           opt.out, vits > 0 ? "embedding_pcs, " : "");
    for (int i = 0; i < count; i++) inspected_close(&xs[i]);
    fashion_mnist_free(&test);
    return 0;
}

// 08_equivariance.c — chapter 08: translation. A convolution moves with its
// input (equivariance) and a global pool forgets where things were
// (invariance), exactly where the arithmetic allows it; a ViT keeps a coarse
// version of the first, on its patch grid, and loses even that to its
// position embeddings. The program shows each statement on test images,
// measures the equivariance error of every operation against the shift, and
// ends on the trained classifiers of chapters 06 and 07: how their answers
// change when the test images move.
//
//   build/ch08_equivariance              all of it: numbers and three figures
//   build/ch08_equivariance --full       also the ViT trained with shifted images
//   build/ch08_equivariance --models DIR the trained models from DIR
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ch08.h"

enum {
    K = FASHION_MNIST_CLASSES,
    S = 28,         // image side
    SAMPLE = 1000,  // the test images every measurement uses: the first 1,000
    BATCH = 100,    // images per forward pass
    MAX_SHIFT = 14, // the equivariance curves: shifts of 0..14 pixels to the right
    MAX_MOVE = 6,   // the classifiers: shifts of -6..6 pixels along each axis
    MOVES = 2 * MAX_MOVE + 1,
    FILTERS = 8, // the random convolution of the curves: 8 filters of 5x5
    KSIZE = 5,
    SHOWN_IMAGE = 0,  // the test image of the first figure
    MAX_BLOCKS = 128, // the most encoder blocks a checkpoint may have (vit_config.c)
    MAX_OPS = 11 + MAX_BLOCKS,
};

typedef struct {
    const char *data_dir; // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    const char *out;      // where the figures go
    const char *models;   // where chapters 06 and 07 saved their models
    int seed, threads;
    bool full;
} Options;

static const char *program = "ch08_equivariance";

// ---- images ----------------------------------------------------------------------------

// Test images first..first+B-1 as floats in [0, 1]: x (B,1,S,S).
static void load_images(float *x, const FashionMnist *test, int first, int B) {
    for (int b = 0; b < B; b++) fashion_mnist_image(test, first + b, x + (size_t)b * S * S);
}

// out (n) = (x (n) - mean) / std: a model's input.
static void normalize(float *out, const float *x, size_t n, float mean, float std) {
    for (size_t i = 0; i < n; i++) out[i] = (x[i] - mean) / std;
}

// ---- the models of chapters 06 and 07 ------------------------------------------------

typedef struct {
    const char *title;   // "ViT"
    const char *file;    // "vit.safetensors", in --models
    const char *make;    // the command that makes it in build/models
    const char *make_in; // the same for another directory: a format of that directory (%1$s)
} SavedModel;

static const SavedModel saved_models[] = {
    {"ViT", "vit.safetensors", "build/ch06_classifier",
     "build/ch06_classifier --checkpoint %1$s/vit.safetensors"},
    {"hybrid", "hybrid.safetensors", "build/ch07_hybrid",
     "build/ch07_hybrid --models %1$s --vit-model %1$s/vit.safetensors"},
    {"CNN", "cnn.safetensors", "build/ch07_hybrid",
     "build/ch07_hybrid --models %1$s --vit-model %1$s/vit.safetensors"},
    {"ViT, shifted images", "vit_shift.safetensors",
     "build/ch06_classifier --shift 6 --checkpoint build/models/vit_shift.safetensors "
     "--out build/ch06_shift",
     "build/ch06_classifier --shift 6 --checkpoint %1$s/vit_shift.safetensors "
     "--out build/ch06_shift"},
};
enum { VIT_MODEL, HYBRID_MODEL, CNN_MODEL, VIT_SHIFT_MODEL, SAVED_MODELS };

static void model_path(char *path, size_t size, const Options *opt, int which) {
    snprintf(path, size, "%s/%s", opt->models, saved_models[which].file);
}

// Model `which` must exist: else one line naming it and the command that makes it, exit 1.
static void require_model(const Options *opt, int which) {
    char path[1024], command[3200];
    model_path(path, sizeof path, opt, which);
    const SavedModel *s = &saved_models[which];
    if (strcmp(opt->models, MODELS_DIR) == 0)
        snprintf(command, sizeof command, "%s", s->make);
    else
        snprintf(command, sizeof command, s->make_in, opt->models);
    checkpoint_require(program, path, command);
}

// The model `which` for batches of BATCH, or the one-line message naming the
// command that makes it, exit 1.
static Model *open_model(const Options *opt, int which, float *mean, float *std) {
    char path[1024];
    model_path(path, sizeof path, opt, which);
    require_model(opt, which);
    const ModelKind *kinds[] = {&vit_kind, &hybrid_kind, &cnn_kind};
    Model *m;
    Error err;
    narrate_check(checkpoint_open(path, kinds, 3, BATCH, 0.0f, &m, mean, std, &err) &&
                      model_takes(m, S, S, 1, path, &err),
                  program, &err);
    if (m->num_classes != K) {
        error_set(&err, "%s: a model for %d classes, not Fashion-MNIST's %d", path, m->num_classes,
                  K);
        error_exit(program, &err, 1);
    }
    return m;
}

// ---- the operations whose equivariance is measured ----------------------------------------

// One operation f and what its measurement adds up over the sample. Its output
// for one image is `planes` grids of side x side positions, `depth` floats
// each; a shift of the input by s pixels should move it by s / stride
// positions, shifted as the input was (fill). A pooled output (stride 0: one
// position for the whole image) should not move at all: that is invariance.
typedef struct {
    const char *title;
    ShiftFill fill;
    int stride; // input pixels per output position; 0: pooled
    int planes, side, depth;
    float *out;  // (BATCH, planes, side, side, depth) for the shifted images
    float *base; // the same for the unshifted images
    // Over the sample: Σ‖f(x)‖², and for each shift s Σ‖f(T_s x) − T_m f(x)‖² for the
    // two nearest whole moves m = floor(s/stride) and ceil(s/stride) of the output.
    double size, diff[MAX_SHIFT + 1][2];
} Operation;

typedef struct {
    Operation op[MAX_OPS];
    int count;
    int conv, zero, stride2, maxpool, avgpool; // the convolutions' indices in op
    int embed, embed_pos, block0, no_pos;      // the ViT's: block0 + l after block l+1
    int cls, cls_no_pos;                       // its class token, with and without positions
    float *filters;                            // (FILTERS,1,KSIZE,KSIZE) random
    float *padded;                             // (FILTERS,S+2,S+2) for the pool's circular padding
    float *scratch;                            // one image padded for the convolution
    float *inputs;                             // (BATCH,1,S,S) normalised for the ViT
    float *pos;                                // (T,C) the ViT's position embeddings, kept
    Vit *vit;                                  // chapter 06's, opened for BATCH images
    float mean, std;                           // its normalisation
} Lab;

static int add_operation(Lab *lab, const char *title, ShiftFill fill, int stride, int planes,
                         int side, int depth) {
    assert(lab->count < MAX_OPS);
    Operation *op = &lab->op[lab->count];
    *op = (Operation){.title = title,
                      .fill = fill,
                      .stride = stride,
                      .planes = planes,
                      .side = side,
                      .depth = depth};
    size_t n = (size_t)BATCH * planes * side * side * depth;
    op->out = xmalloc(sizeof(float) * n);
    op->base = xmalloc(sizeof(float) * n);
    return lab->count++;
}

static size_t output_floats(const Operation *op) {
    return (size_t)op->planes * op->side * op->side * op->depth;
}

// The random convolution's filters (a fixed seed: the same curves every run),
// uniform in ±1/√(K·K) as PyTorch initialises a Conv2d, and the ViT's
// operations on the patch grid of g x g tokens of width C.
static void lab_build(Lab *lab, Model *vit, float mean, float std, int seed) {
    *lab = (Lab){.vit = vit_of(vit), .mean = mean, .std = std};
    Rng rng;
    rng_seed(&rng, (uint64_t)seed);
    lab->filters = xmalloc(sizeof(float) * FILTERS * KSIZE * KSIZE);
    for (int i = 0; i < FILTERS * KSIZE * KSIZE; i++)
        lab->filters[i] = (2.0f * rng_uniform(&rng) - 1.0f) / KSIZE;
    lab->padded = xmalloc(sizeof(float) * FILTERS * (S + 2) * (S + 2));
    lab->scratch = xmalloc(sizeof(float) * conv2d_circular_scratch_floats(1, S, S, KSIZE / 2));
    lab->inputs = xmalloc(sizeof(float) * BATCH * S * S);
    const VitConfig *cfg = &lab->vit->cfg;
    int P = cfg->patch_size, g = S / P, C = cfg->hidden_dim;
    int half = conv2d_out_size(S, KSIZE, 2, KSIZE / 2);
    lab->pos = xmalloc(sizeof(float) * ((size_t)g * g + 1) * C);
    lab->conv =
        add_operation(lab, "convolution, circular padding", SHIFT_CIRCULAR, 1, FILTERS, S, 1);
    lab->zero = add_operation(lab, "convolution, zero padding", SHIFT_ZERO, 1, FILTERS, S, 1);
    lab->stride2 = add_operation(lab, "convolution, stride 2", SHIFT_CIRCULAR, 2, FILTERS, half, 1);
    lab->maxpool = add_operation(lab, "convolution + 3x3/2 max pool", SHIFT_CIRCULAR, 2, FILTERS,
                                 conv2d_out_size(S + 2, 3, 2, 0), 1);
    lab->avgpool =
        add_operation(lab, "convolution + global average pool", SHIFT_CIRCULAR, 0, FILTERS, 1, 1);
    lab->embed = add_operation(lab, "ViT patch embedding", SHIFT_CIRCULAR, P, 1, g, C);
    lab->embed_pos = add_operation(lab, "+ position embeddings", SHIFT_CIRCULAR, P, 1, g, C);
    static char titles[MAX_BLOCKS][32];
    lab->block0 = lab->count;
    for (int l = 0; l < cfg->num_layers; l++) {
        snprintf(titles[l], sizeof titles[l], "after block %d", l + 1);
        add_operation(lab, titles[l], SHIFT_CIRCULAR, P, 1, g, C);
    }
    lab->no_pos = add_operation(lab, "after the last block, no position embeddings", SHIFT_CIRCULAR,
                                P, 1, g, C);
    // the class token after the final LayerNorm, what the head reads
    lab->cls = add_operation(lab, "class token (what the head reads)", SHIFT_CIRCULAR, 0, 1, 1, C);
    lab->cls_no_pos =
        add_operation(lab, "class token, no position embeddings", SHIFT_CIRCULAR, 0, 1, 1, C);
}

static void lab_free(Lab *lab) {
    for (int i = 0; i < lab->count; i++) free(lab->op[i].out), free(lab->op[i].base);
    free(lab->filters), free(lab->padded), free(lab->scratch), free(lab->inputs), free(lab->pos);
}

// The patch tokens of tokens (B,T,C), T = 1 + N, into out (B,N,C): the class
// token left out.
static void patch_tokens(float *out, const float *tokens, int B, int N, int C) {
    for (int b = 0; b < B; b++)
        memcpy(out + (size_t)b * N * C, tokens + ((size_t)b * (N + 1) + 1) * C,
               sizeof(float) * N * C);
}

// The class token of tokens (B,T,C), T = 1 + N, into out (B,C).
static void class_tokens(float *out, const float *tokens, int B, int N, int C) {
    for (int b = 0; b < B; b++)
        memcpy(out + (size_t)b * C, tokens + (size_t)b * (N + 1) * C, sizeof(float) * C);
}

// The ViT's operations on images x (B,1,S,S) in [0, 1]: its patch embedding,
// the tokens with their positions, the tokens after every block, the class
// token after the final LayerNorm; then again with the position embeddings
// set to zero, the tokens after the last block and the class token.
static void vit_outputs(Lab *lab, const float *x, int B) {
    Vit *v = lab->vit;
    const VitConfig *cfg = &v->cfg;
    int N = (S / cfg->patch_size) * (S / cfg->patch_size), C = cfg->hidden_dim;
    int L = lab->no_pos - lab->block0;
    normalize(lab->inputs, x, (size_t)B * S * S, lab->mean, lab->std);
    model_forward(&v->model, lab->inputs, NULL, B, 0.0f, false);
    memcpy(lab->op[lab->embed].out, v->a.patch_emb, sizeof(float) * B * N * C);
    patch_tokens(lab->op[lab->embed_pos].out, v->a.tokens, B, N, C);
    for (int l = 0; l < L; l++)
        patch_tokens(lab->op[lab->block0 + l].out, v->a.layers[l].out, B, N, C);
    class_tokens(lab->op[lab->cls].out, v->a.out, B, N, C);
    size_t pos_bytes = sizeof(float) * (N + 1) * C;
    memcpy(lab->pos, v->w.pos, pos_bytes);
    memset(v->w.pos, 0, pos_bytes);
    model_forward(&v->model, lab->inputs, NULL, B, 0.0f, false);
    patch_tokens(lab->op[lab->no_pos].out, v->a.layers[cfg->num_layers - 1].out, B, N, C);
    class_tokens(lab->op[lab->cls_no_pos].out, v->a.out, B, N, C);
    memcpy(v->w.pos, lab->pos, pos_bytes);
}

// Every operation on images x (B,1,S,S) in [0, 1], shifted circularly, and
// x_zero, the same images shifted with zero fill (the zero-padded convolution's input).
static void outputs(Lab *lab, const float *x, const float *x_zero, int B) {
    Operation *conv = &lab->op[lab->conv];
    conv2d_circular_forward(conv->out, lab->scratch, x, lab->filters, NULL, B, 1, S, S, FILTERS,
                            KSIZE, 1, KSIZE / 2);
    conv2d_forward(lab->op[lab->zero].out, x_zero, lab->filters, NULL, B, 1, S, S, FILTERS, KSIZE,
                   1, KSIZE / 2);
    conv2d_circular_forward(lab->op[lab->stride2].out, lab->scratch, x, lab->filters, NULL, B, 1, S,
                            S, FILTERS, KSIZE, 2, KSIZE / 2);
    Operation *pool = &lab->op[lab->maxpool];
    for (int b = 0; b < B; b++) { // the root's 3x3/2 pool, padded circularly
        pad_circular(lab->padded, conv->out + (size_t)b * FILTERS * S * S, FILTERS, S, S, 1);
        maxpool_forward(pool->out + (size_t)b * output_floats(pool), NULL, lab->padded, 1, FILTERS,
                        S + 2, S + 2, 3, 2, 0);
    }
    global_avgpool_forward(lab->op[lab->avgpool].out, conv->out, B, FILTERS, S, S);
    vit_outputs(lab, x, B);
}

// Adds operation op's sums for shift s on a batch of B images: its outputs for
// the shifted images against the unshifted ones moved by the two nearest
// whole moves of its grid (not moved at all, for a pooled output).
static void add_errors(Operation *op, int s, int B, float *moved) {
    size_t n = (size_t)B * output_floats(op);
    for (int k = 0; k < 2; k++) {
        int m = op->stride == 0 ? 0 : k == 0 ? s / op->stride : (s + op->stride - 1) / op->stride;
        shift_map(moved, op->base, B * op->planes, op->side, op->side, op->depth, 0, m, op->fill);
        double d = l2_distance(op->out, moved, n);
        op->diff[s][k] += d * d;
    }
}

// The relative equivariance error of op at shift s over the sample.
static double relative_error(const Operation *op, int s) {
    double d = op->diff[s][0] < op->diff[s][1] ? op->diff[s][0] : op->diff[s][1];
    return sqrt(d / op->size);
}

// region: measure
// Every operation on the SAMPLE test images, each shifted right by 0..MAX_SHIFT pixels.
static void measure(Lab *lab, const FashionMnist *test) {
    size_t image = (size_t)S * S, most = 0;
    for (int i = 0; i < lab->count; i++)
        if (output_floats(&lab->op[i]) > most) most = output_floats(&lab->op[i]);
    float *x = xmalloc(sizeof(float) * BATCH * image);
    float *x_circ = xmalloc(sizeof(float) * BATCH * image);
    float *x_zero = xmalloc(sizeof(float) * BATCH * image);
    float *moved = xmalloc(sizeof(float) * BATCH * most);
    for (int first = 0; first < SAMPLE; first += BATCH) {
        load_images(x, test, first, BATCH);
        outputs(lab, x, x, BATCH);
        for (int i = 0; i < lab->count; i++) {
            Operation *op = &lab->op[i];
            memcpy(op->base, op->out, sizeof(float) * BATCH * output_floats(op));
            double size = l2_norm(op->base, BATCH * output_floats(op));
            op->size += size * size;
        }
        for (int s = 0; s <= MAX_SHIFT; s++) {
            shift_map(x_circ, x, BATCH, S, S, 1, 0, s, SHIFT_CIRCULAR);
            shift_map(x_zero, x, BATCH, S, S, 1, 0, s, SHIFT_ZERO);
            outputs(lab, x_circ, x_zero, BATCH);
            for (int i = 0; i < lab->count; i++) add_errors(&lab->op[i], s, BATCH, moved);
        }
    }
    free(x), free(x_circ), free(x_zero), free(moved);
}
// endregion: measure

// ---- one image: seed 004's experiment, the zero-padding band, the ViT's patch grid -----

enum { FIGURE_ROWS = 4 };

// The horizontal Sobel filter: large where brightness changes from left to right.
static const float sobel[3 * 3] = {-1, 0, 1, -2, 0, 2, -1, 0, 1};

// One row of the first figure, each panel a square map: the image, the
// shifted image, the operation f on each, and how far f(shifted) is from
// f(image) moved.
typedef struct {
    float image[S * S], shifted[S * S];                        // (S,S)
    float f_image[S * S], f_shifted[S * S], difference[S * S]; // (side,side)
    int side;      // of the three maps: S for a convolution, g for the patch grid
    int dy, dx;    // the shift
    float biggest; // largest |value| of f(image): the maps' colour range
} FigureRow;

static float largest_abs(const float *x, int n) {
    float m = 0.0f;
    for (int i = 0; i < n; i++) m = fabsf(x[i]) > m ? fabsf(x[i]) : m;
    return m;
}

// The Sobel convolution with circular padding, the image wrapped by (dy,dx);
// the difference is f(shifted) moved back minus f(image).
static void conv_row(FigureRow *r, const float *x, int dy, int dx) {
    float padded[(S + 2) * (S + 2)], back[S * S];
    *r = (FigureRow){.side = S, .dy = dy, .dx = dx};
    memcpy(r->image, x, sizeof r->image);
    shift_map(r->shifted, x, 1, S, S, 1, dy, dx, SHIFT_CIRCULAR);
    conv2d_circular_forward(r->f_image, padded, r->image, sobel, NULL, 1, 1, S, S, 1, 3, 1, 1);
    conv2d_circular_forward(r->f_shifted, padded, r->shifted, sobel, NULL, 1, 1, S, S, 1, 3, 1, 1);
    shift_map(back, r->f_shifted, 1, S, S, 1, -dy, -dx, SHIFT_CIRCULAR);
    for (int i = 0; i < S * S; i++) r->difference[i] = back[i] - r->f_image[i];
    r->biggest = largest_abs(r->f_image, S * S);
}

// A random 5x5 filter with zero padding on a noise image (its border is not
// black, as Fashion-MNIST's is), shifted by (dy,dx) >= 0 with zero fill; the
// difference is f(shifted) minus f(image) shifted the same way.
static void band_row(FigureRow *r, int dy, int dx, Rng *rng) {
    float filter[KSIZE * KSIZE], moved[S * S];
    *r = (FigureRow){.side = S, .dy = dy, .dx = dx};
    for (int i = 0; i < S * S; i++) r->image[i] = rng_uniform(rng);
    for (int i = 0; i < KSIZE * KSIZE; i++) filter[i] = rng_uniform(rng) - 0.5f;
    shift_map(r->shifted, r->image, 1, S, S, 1, dy, dx, SHIFT_ZERO);
    conv2d_forward(r->f_image, r->image, filter, NULL, 1, 1, S, S, 1, KSIZE, 1, KSIZE / 2);
    conv2d_forward(r->f_shifted, r->shifted, filter, NULL, 1, 1, S, S, 1, KSIZE, 1, KSIZE / 2);
    shift_map(moved, r->f_image, 1, S, S, 1, dy, dx, SHIFT_ZERO);
    for (int i = 0; i < S * S; i++) r->difference[i] = r->f_shifted[i] - moved[i];
    r->biggest = largest_abs(r->f_image, S * S);
}

// The largest |difference| of a band row inside rows dy..S-r-1 and columns
// dx..S-r-1 (r = KSIZE/2: where no window reaches the padding in one of the
// two computations and the image in the other), and in the band outside them.
static void band_extremes(const FigureRow *r, float *inside, float *band) {
    int reach = KSIZE / 2;
    *inside = *band = 0.0f;
    for (int y = 0; y < S; y++)
        for (int c = 0; c < S; c++) {
            bool in = y >= r->dy && y < S - reach && c >= r->dx && c < S - reach;
            float *worst = in ? inside : band, d = fabsf(r->difference[y * S + c]);
            if (d > *worst) *worst = d;
        }
}

// Chapter 06's patch embedding of image x (1,S,S) in [0, 1]: its (N,C) tokens
// (the ViT's own activations, valid until its next forward pass).
static const float *embed_image(Lab *lab, const float *x) {
    normalize(lab->inputs, x, S * S, lab->mean, lab->std);
    model_forward(&lab->vit->model, lab->inputs, NULL, 1, 0.0f, false);
    return lab->vit->a.patch_emb;
}

// Channel c of tokens (N,C): out (N).
static void channel_of(float *out, const float *tokens, int N, int C, int c) {
    for (int n = 0; n < N; n++) out[n] = tokens[(size_t)n * C + c];
}

// The channel of the patch embedding that varies most over image x's patches.
static int liveliest_channel(Lab *lab, const float *x) {
    int N = (S / lab->vit->cfg.patch_size) * (S / lab->vit->cfg.patch_size);
    int C = lab->vit->cfg.hidden_dim, best = 0;
    const float *tokens = embed_image(lab, x);
    float column[S * S];
    double best_std = -1.0;
    for (int c = 0; c < C; c++) {
        channel_of(column, tokens, N, C, c);
        double sd = narrate_std(column, N);
        if (sd > best_std) best_std = sd, best = c;
    }
    return best;
}

// The patch embedding (channel c) of x and of x wrapped right by dx; the
// difference is f(shifted) moved back by the whole patches in dx minus f(image).
static void embedding_row(FigureRow *r, Lab *lab, const float *x, int dx, int c) {
    int P = lab->vit->cfg.patch_size, g = S / P, C = lab->vit->cfg.hidden_dim;
    float back[S * S];
    *r = (FigureRow){.side = g, .dx = dx};
    memcpy(r->image, x, sizeof r->image);
    shift_map(r->shifted, x, 1, S, S, 1, 0, dx, SHIFT_CIRCULAR);
    channel_of(r->f_image, embed_image(lab, r->image), g * g, C, c);
    channel_of(r->f_shifted, embed_image(lab, r->shifted), g * g, C, c);
    shift_map(back, r->f_shifted, 1, g, g, 1, 0, -(dx / P), SHIFT_CIRCULAR);
    for (int i = 0; i < g * g; i++) r->difference[i] = back[i] - r->f_image[i];
    r->biggest = largest_abs(r->f_image, g * g);
}

// The four rows of the first figure, each told with its numbers.
static void one_image(Lab *lab, const FashionMnist *test, FigureRow rows[FIGURE_ROWS],
                      const Options *opt) {
    float x[S * S];
    fashion_mnist_image(test, SHOWN_IMAGE, x);
    printf("1. Seed 004's experiment, on test image %d (%s).\n", SHOWN_IMAGE,
           fashion_mnist_class_names[test->labels[SHOWN_IMAGE]]);
    FigureRow *r = &rows[0];
    conv_row(r, x, 4, 6);
    printf("   Shift it by (%d, %d) pixels with wrap-around, then convolve (3x3 Sobel filter,\n"
           "   circular padding); convolve, then shift. Largest difference between the two\n"
           "   maps: %g, of values up to %.3f. Exactly the same numbers.\n",
           r->dy, r->dx, largest_abs(r->difference, S * S), r->biggest);
    Rng rng;
    rng_seed(&rng, (uint64_t)opt->seed + 1);
    r = &rows[1];
    band_row(r, 3, 5, &rng);
    float inside, band;
    band_extremes(r, &inside, &band);
    printf("   With zero padding, and black pixels coming in, on a noise image (its border is\n"
           "   not black): shifted by (%d, %d), a %dx%d filter agrees to %g on rows %d..%d and\n"
           "   columns %d..%d; in the band around them (%d pixels along each edge where a window\n"
           "   meets the padding in one computation and pixels in the other), the two differ\n"
           "   by up to %.3f.\n",
           r->dy, r->dx, KSIZE, KSIZE, inside, r->dy, S - KSIZE / 2 - 1, r->dx, S - KSIZE / 2 - 1,
           KSIZE / 2, band);
    int P = lab->vit->cfg.patch_size, g = S / P, c = liveliest_channel(lab, x);
    embedding_row(&rows[2], lab, x, 1, c);
    embedding_row(&rows[3], lab, x, P, c);
    printf("   Chapter 06's patch embedding (channel %d, the liveliest on this image): shifted by\n"
           "   1 pixel, left where it is on the %dx%d grid of patches (the nearest move, none):\n"
           "   largest difference %.3f of values up to %.3f. Shifted by %d pixels (one patch)\n"
           "   with wrap-around and moved back one patch: %g.\n\n",
           c, g, g, largest_abs(rows[2].difference, g * g), rows[2].biggest, P,
           largest_abs(rows[3].difference, g * g));
}

// ---- the figures -------------------------------------------------------------------------

static void matrix_block(Plot *plot, const float *x, int side) {
    for (int y = 0; y < side; y++)
        for (int c = 0; c < side; c++)
            plot_printf(plot, "%.6g%c", x[y * side + c], c + 1 < side ? ' ' : '\n');
    plot_end_block(plot);
}

// (a) Each row: the image, its shift, the operation on each, and the
// difference: zero for the circular convolution, a band for zero padding, not
// zero for the patch embedding at 1 pixel, zero again at one patch.
static void figure_grid(const FigureRow rows[FIGURE_ROWS], const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "shift_grid",
                             "20 matrices, row by row: image, shifted, f(image), f(shifted), "
                             "the difference",
                             &err),
                  program, &err);
    static const char *const row_titles[FIGURE_ROWS] = {
        "3x3 Sobel filter,\\ncircular padding", "5x5 filter, zero padding,\\non noise",
        "ViT patch embedding\\n(one channel)", "ViT patch embedding\\n(one channel)"};
    static const char *const differences[FIGURE_ROWS] = {
        "f(shifted) moved back\\n− f(image): max %.2g", "f(shifted) − shifted\\nf(image): max %.2g",
        "f(shifted) − f(image)\\n(no move): max %.2g",
        "f(shifted) moved back 1\\n− f(image): max %.2g"};
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot layout %d,5 title \"Shift, then apply f; or apply f, then "
                    "shift\\n{/*0.8 a convolution gives the same map (but at a zero-padded "
                    "border); a patch embedding, only for whole patches}\" font ',22'\n"
                    "unset key\nunset xtics\nunset ytics\nunset colorbox\n"
                    "set size ratio -1\nset title font ',16'\n"
                    "DIVERGING = \"defined (-1 '#2166ac', 0 'white', 1 '#b2182b')\"\n",
                    FIGURE_ROWS);
    for (int r = 0; r < FIGURE_ROWS; r++) {
        const FigureRow *row = &rows[r];
        matrix_block(&plot, row->image, S);
        matrix_block(&plot, row->shifted, S);
        matrix_block(&plot, row->f_image, row->side);
        matrix_block(&plot, row->f_shifted, row->side);
        matrix_block(&plot, row->difference, row->side);
        char shifted[64], difference[96];
        snprintf(shifted, sizeof shifted, "shifted by (%d, %d)\\n%s", row->dy, row->dx,
                 r == 1 ? "black comes in" : "with wrap-around");
        snprintf(difference, sizeof difference, differences[r],
                 largest_abs(row->difference, row->side * row->side));
        const char *titles[5] = {row_titles[r], shifted, "f(image)\\n", "f(shifted)\\n",
                                 difference};
        for (int p = 0; p < 5; p++) {
            int n = p < 2 ? S : row->side;
            plot_script_add(&s, "set xrange [-0.5:%g]\nset yrange [%g:-0.5]\n", n - 0.5, n - 0.5);
            if (p < 2)
                plot_script_add(&s, "unset border\nset palette gray\nset cbrange [0:1]\n");
            else
                plot_script_add(&s,
                                "set border 15 lw 2 lc rgb '#999999'\nset palette @DIVERGING\n"
                                "set cbrange [%g:%g]\n",
                                -row->biggest, row->biggest);
            plot_script_add(&s, "set title \"%s\"\nplot DATA index %d matrix with image\n",
                            titles[p], r * 5 + p);
        }
    }
    plot_script_add(&s, "unset multiplot\n");
    plot.width = 1700;
    plot.height = 1500;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// One curve of a plot command: operation i's column of DATA (the shift is
// column 1), drawn as linespoints with style, in the key as title (NULL: not).
// The first curve after "plot " has no comma before it.
static void add_curve(PlotScript *s, int i, const char *style, const char *title) {
    bool first = s->length >= 5 && strcmp(s->text + s->length - 5, "plot ") == 0;
    plot_script_add(s, "%sDATA using 1:%d with linespoints %s ", first ? "" : ", \
     ",
                    i + 2, style);
    if (title != NULL)
        plot_script_add(s, "title '%s'", title);
    else
        plot_script_add(s, "notitle");
}

// (b) The relative equivariance error against the shift, one line per
// operation: the convolutions on the left, the ViT's on the right.
static void figure_errors(const Lab *lab, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "equivariance_error",
                             "shift, then the relative error of each operation in the order of "
                             "the plot's keys",
                             &err),
                  program, &err);
    for (int s = 0; s <= MAX_SHIFT; s++) {
        plot_printf(&plot, "%d", s);
        for (int i = 0; i < lab->count; i++)
            plot_printf(&plot, " %.6g", relative_error(&lab->op[i], s));
        plot_printf(&plot, "\n");
    }
    PlotScript sc = {0};
    plot_script_add(
        &sc,
        "set multiplot layout 1,2 title \"Equivariance error ‖f(Tx) − T f(x)‖ / ‖f(x)‖ "
        "on 1,000 test images shifted right by s pixels\\n{/*0.75 T moves f's output by "
        "the nearest whole number of its positions (the better of the two); shifts "
        "wrap around unless said}\" font ',22'\n"
        "set grid\nset tics font ',16'\nset xlabel 'shift s (pixels)' font ',18'\n"
        "set xrange [0:%d]\nset xtics 1\nset key top left Left reverse font ',15' spacing 1.1\n",
        MAX_SHIFT);
    plot_script_add(&sc, "set title 'convolutions (8 random 5x5 filters)' font ',20'\n"
                         "set yrange [0:0.5]\nplot ");
    add_curve(&sc, lab->conv, "lw 8 pt 7 ps 1.2 lc rgb '#1f77b4'", lab->op[lab->conv].title);
    add_curve(&sc, lab->zero, "lw 3 pt 7 ps 1.2 lc rgb '#ff7f0e'",
              "convolution, zero padding (zero fill)");
    add_curve(&sc, lab->stride2, "lw 3 pt 7 ps 1.2 lc rgb '#2ca02c'", lab->op[lab->stride2].title);
    add_curve(&sc, lab->maxpool, "lw 3 pt 7 ps 1.2 lc rgb '#d62728'", lab->op[lab->maxpool].title);
    add_curve(&sc, lab->avgpool, "lw 3 pt 6 ps 1.6 dt 2 lc rgb '#9467bd'",
              "convolution + global average pool (0, with the blue)");
    int P = lab->vit->cfg.patch_size, blocks = lab->no_pos - lab->block0;
    plot_script_add(&sc,
                    "\nset title 'chapter 06 ViT (patch %d): its tokens' font ',20'\n"
                    "set xtics add ('P' %d, '2P' %d)\nset key top center\nset yrange [0:2.3]\n"
                    "plot ",
                    P, P, 2 * P);
    add_curve(&sc, lab->embed, "lw 4 pt 7 ps 1.4 lc rgb '#000000'", lab->op[lab->embed].title);
    add_curve(&sc, lab->embed_pos, "lw 3 pt 5 ps 1.2 lc rgb '#8c564b'",
              lab->op[lab->embed_pos].title);
    for (int l = 0; l < blocks; l++) { // light to dark with depth; the first and last in the key
        int light = 200 - 190 * l / (blocks > 1 ? blocks - 1 : 1);
        char style[64], title[64];
        snprintf(style, sizeof style, "lw 3 pt 7 ps 0 lc rgb '#%02x%02xff'", light, light);
        snprintf(title, sizeof title, "%s (2 to %d in between)", lab->op[lab->block0 + l].title, l);
        add_curve(&sc, lab->block0 + l, style,
                  l == 0            ? lab->op[lab->block0].title
                  : l == blocks - 1 ? title
                                    : NULL);
    }
    add_curve(&sc, lab->no_pos, "lw 4 pt 9 ps 1.6 dt 2 lc rgb '#e377c2'",
              lab->op[lab->no_pos].title);
    add_curve(&sc, lab->cls, "lw 3 pt 4 ps 1.4 lc rgb '#17becf'", lab->op[lab->cls].title);
    add_curve(&sc, lab->cls_no_pos, "lw 3 pt 6 ps 1.4 dt 3 lc rgb '#bcbd22'",
              lab->op[lab->cls_no_pos].title);
    plot_script_add(&sc, "\nunset multiplot\n");
    plot.width = 2000;
    plot.height = 850;
    narrate_check(plot_render(&plot, sc.text, &err), program, &err);
}

static void print_errors(const Lab *lab) {
    static const int shown[] = {1, 2, 3, 7, 14};
    char count[32];
    printf("2. The relative equivariance error ‖f(Tx) − T f(x)‖ / ‖f(x)‖ over the first %s test\n"
           "   images, shifted right by s pixels (wrapping around, except where zero fill is\n"
           "   said); T moves f's output by the nearer of the two whole moves of its grid, and\n"
           "   a pooled output not at all:\n\n",
           text_with_commas(SAMPLE, count, sizeof count));
    printf("   %-50s", "operation (output grid step, in pixels)");
    for (int k = 0; k < 5; k++) printf("   s = %-2d", shown[k]);
    printf("\n");
    for (int i = 0; i < lab->count; i++) {
        const Operation *op = &lab->op[i];
        char name[80], step[16] = "pooled";
        if (op->stride > 0) snprintf(step, sizeof step, "%d", op->stride);
        snprintf(name, sizeof name, "%s%s (%s)", op->title,
                 op->fill == SHIFT_ZERO ? ", zero fill" : "", step);
        printf("   %-50s", name);
        for (int k = 0; k < 5; k++) printf(" %8.2g", relative_error(op, shown[k]));
        printf("\n");
    }
    printf("\n");
}

// ---- the trained classifiers, their test images moved -----------------------------------

typedef struct {
    const char *title;
    double accuracy[2][MOVES]; // [axis: 0 left-right, 1 up-down][shift + MAX_MOVE]
    double changed[2][MOVES];  // the share of predictions unlike the unmoved image's
} Invariance;

// The first SAMPLE test images moved by (dy,dx), black coming in, into
// moved->pixels (SAMPLE,S,S); a (SAMPLE,S,S) and b alike are scratch.
static void move_sample(FashionMnist *moved, const FashionMnist *test, int dy, int dx, float *a,
                        float *b) {
    size_t n = (size_t)SAMPLE * S * S;
    for (size_t i = 0; i < n; i++) a[i] = test->pixels[i];
    shift_map(b, a, SAMPLE, S, S, 1, dy, dx, SHIFT_ZERO);
    for (size_t i = 0; i < n; i++) moved->pixels[i] = (unsigned char)b[i];
}

// region: invariance
// Accuracy and changed predictions of model m on the sample moved by every
// shift of -MAX_MOVE..MAX_MOVE along each axis.
static Invariance measure_invariance(Model *m, float mean, float std, const FashionMnist *test) {
    Invariance inv = {0};
    FashionMnist moved = {.count = SAMPLE, .rows = S, .cols = S, .labels = test->labels};
    moved.pixels = xmalloc((size_t)SAMPLE * S * S);
    float *a = xmalloc(sizeof(float) * SAMPLE * S * S),
          *b = xmalloc(sizeof(float) * SAMPLE * S * S);
    float *logits = xmalloc(sizeof(float) * SAMPLE * K);
    int *unmoved = xmalloc(sizeof(int) * SAMPLE);
    evaluate(m, test, SAMPLE, mean, std, NULL, logits);
    for (int i = 0; i < SAMPLE; i++) unmoved[i] = narrate_argmax(logits + (size_t)i * K, K);
    for (int axis = 0; axis < 2; axis++)
        for (int s = -MAX_MOVE; s <= MAX_MOVE; s++) {
            move_sample(&moved, test, axis == 1 ? s : 0, axis == 0 ? s : 0, a, b);
            inv.accuracy[axis][s + MAX_MOVE] = evaluate(m, &moved, SAMPLE, mean, std, NULL, logits);
            int changed = 0;
            for (int i = 0; i < SAMPLE; i++)
                changed += narrate_argmax(logits + (size_t)i * K, K) != unmoved[i];
            inv.changed[axis][s + MAX_MOVE] = (double)changed / SAMPLE;
        }
    free(moved.pixels), free(a), free(b), free(logits), free(unmoved);
    return inv;
}
// endregion: invariance

static void print_invariance(const Invariance *inv, int count) {
    static const int shown[] = {-6, -4, -2, -1, 0, 1, 2, 4, 6};
    static const char *const axes[2] = {"left-right", "up-down"};
    char sample[32];
    printf("3. The trained classifiers on the first %s test images, moved by -%d..%d pixels along\n"
           "   each axis (black comes in):\n",
           text_with_commas(SAMPLE, sample, sizeof sample), MAX_MOVE, MAX_MOVE);
    for (int table = 0; table < 2; table++) {
        printf("\n   %s\n   %-33s",
               table == 0 ? "test accuracy (%)" : "predictions changed by the move (%)",
               "model, move");
        for (int k = 0; k < 9; k++) printf(" %+5d", shown[k]);
        printf("\n");
        for (int i = 0; i < count; i++)
            for (int axis = 0; axis < 2; axis++) {
                char name[64];
                snprintf(name, sizeof name, "%s, %s", inv[i].title, axes[axis]);
                printf("   %-33s", name);
                for (int k = 0; k < 9; k++) {
                    const double *v = table == 0 ? inv[i].accuracy[axis] : inv[i].changed[axis];
                    printf(" %5.1f", 100.0 * v[shown[k] + MAX_MOVE]);
                }
                printf("\n");
            }
    }
    printf("\n");
}

// (c) Accuracy and changed predictions against the move, a colour per model,
// solid left-right, dashed up-down.
static void figure_invariance(const Invariance *inv, int count, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "shift_invariance",
                             "shift, then for each model: accuracy and changed share moved "
                             "left-right, the same moved up-down",
                             &err),
                  program, &err);
    for (int s = -MAX_MOVE; s <= MAX_MOVE; s++) {
        plot_printf(&plot, "%d", s);
        for (int i = 0; i < count; i++)
            for (int axis = 0; axis < 2; axis++)
                plot_printf(&plot, " %.4f %.4f", inv[i].accuracy[axis][s + MAX_MOVE],
                            inv[i].changed[axis][s + MAX_MOVE]);
        plot_printf(&plot, "\n");
    }
    static const char *const colors[SAVED_MODELS] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd"};
    PlotScript sc = {0};
    plot_script_add(&sc,
                    "set multiplot layout 1,2 title \"The trained classifiers on 1,000 test images "
                    "moved by s pixels (black comes in)\\n{/*0.75 solid: moved left-right; dashed: "
                    "up-down}\" font ',22'\n"
                    "set grid\nset tics font ',16'\nset xlabel 'shift s (pixels)' font ',18'\n"
                    "set xrange [%d:%d]\nset xtics 1\nset format y '%%.0f%%%%'\n"
                    "set key font ',16'\n",
                    -MAX_MOVE, MAX_MOVE);
    for (int panel = 0; panel < 2; panel++) {
        plot_script_add(&sc, "set title '%s' font ',20'\nset key %s\nset yrange [0:100]\nplot ",
                        panel == 0 ? "test accuracy" : "predictions changed by the move",
                        panel == 0 ? "bottom center" : "top center");
        for (int i = 0; i < count; i++)
            for (int axis = 0; axis < 2; axis++)
                plot_script_add(&sc,
                                "%sDATA using 1:($%d*100) with linespoints lw 3 pt 7 ps 1.1 dt %d "
                                "lc rgb '%s' title '%s'",
                                i + axis == 0 ? "" : ", \\\n     ", 2 + 4 * i + 2 * axis + panel,
                                axis == 0 ? 1 : 2, colors[i], axis == 0 ? inv[i].title : "");
        plot_script_add(&sc, "\n");
    }
    plot_script_add(&sc, "unset multiplot\n");
    plot.width = 1900;
    plot.height = 800;
    narrate_check(plot_render(&plot, sc.text, &err), program, &err);
}

// ---- the chapter -------------------------------------------------------------------------

// The defaults, then the command line; refuses bad flags with one line, exit 2.
static void parse_options(int argc, char **argv, Options *opt) {
    *opt = (Options){.out = "figures/ch08", .models = MODELS_DIR, .seed = 0};
    CliOption options[] = {
        {"models", CLI_STRING, &opt->models,
         "directory of chapter 06's and 07's models (vit, hybrid, cnn .safetensors)", 0, 0, "DIR"},
        {"full", CLI_SWITCH, &opt->full,
         "also the ViT trained with shifted images (DIR/vit_shift.safetensors)", 0, 0, NULL},
        {"seed", CLI_INT, &opt->seed, "seed for the random filters and the noise image", 0,
         2147483647, NULL},
        {"threads", CLI_INT, &opt->threads, "threads (0: all cores)", 0, 256, "N"},
        fashion_mnist_data_option(&opt->data_dir),
        cli_out_option(&opt->out),
    };
    cli_parse_or_exit(argc, argv,
                      "Chapter 08: translation. Convolution versus attention, shown exactly and "
                      "measured on the trained models.",
                      options, sizeof options / sizeof options[0]);
}

int main(int argc, char **argv) {
    Options opt;
    parse_options(argc, argv, &opt);
    if (opt.threads > 0) train_set_threads(opt.threads);
    int count = opt.full ? SAVED_MODELS : VIT_SHIFT_MODEL;
    for (int i = 0; i < count; i++) require_model(&opt, i); // before any work
    FashionMnist test;
    fashion_mnist_load_test_or_exit(&test, program, opt.data_dir, S, 0);
    Error err;
    fashion_mnist_require_test_images(&test, SAMPLE, program);
    narrate_check(make_dirs(opt.out, &err), program, &err);
    printf("Chapter 08: translation. Convolution versus attention\n\n");

    float mean, std;
    Model *vit = open_model(&opt, VIT_MODEL, &mean, &std);
    Lab lab;
    lab_build(&lab, vit, mean, std, opt.seed);
    FigureRow rows[FIGURE_ROWS];
    one_image(&lab, &test, rows, &opt);
    figure_grid(rows, &opt);
    measure(&lab, &test);
    print_errors(&lab);
    figure_errors(&lab, &opt);
    lab_free(&lab);
    vit->kind->close(vit);

    Invariance inv[SAVED_MODELS];
    for (int i = 0; i < count; i++) {
        Model *m = open_model(&opt, i, &mean, &std);
        inv[i] = measure_invariance(m, mean, std, &test);
        inv[i].title = saved_models[i].title;
        m->kind->close(m);
    }
    print_invariance(inv, count);
    figure_invariance(inv, count, &opt);
    printf("Figures written to %s/: shift_grid, equivariance_error, shift_invariance\n", opt.out);
    fashion_mnist_free(&test);
    return 0;
}

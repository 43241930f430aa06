// 04_multihead.c — chapter 04: multi-head attention.
//
// One head mixes the tokens in one way. Multi-head attention runs NH heads side
// by side, each in its own hs = C/NH dimensional slice of the queries, keys and
// values, then concatenates what they found and mixes it with an output
// projection. This program runs it on the tokens of a Fashion-MNIST picture
// with seeded random weights, prints the shapes at each step, checks that one
// head is chapter 03's attention, counts the parameters and the work for
// several head counts, and draws where each head's class token looks.
//
//   build/ch04_multihead [--width 64] [--heads 4] [--patch 4] [--seed 1] [--out figures/ch04]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ch04.h"

typedef struct {
    const char *data_dir; // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    int index;            // which test image
    int patch;            // P
    int width;            // C
    int heads;            // NH
    int seed;             // for every random weight
    const char *out;      // where the figures go
} Options;

static const char *program = "ch04_multihead";

// ---- the tokens and one multi-head attention layer ----------------------------------

// Chapter 02's embedding (src/embed.c) and one MHA layer: parameters in one
// allocation, activations in another.
typedef struct {
    Embedding e; // image (1,1,H,W) ... tokens (1,T,C)
    int NH;      // heads
    Tensors params, acts;
    MhaWeights mha;       // in_proj (3C,C), (3C); out_proj (C,C), (C)
    float *in_w, *in_b;   // the same, writable
    float *out_w, *out_b; //
    MhaActivations a;     // qkv (1,T,3C) ... concat (1,T,C)
    float *out;           // (1,T,C)
} Model;

static void model_build(Model *m, int H, int W, int P, int C, int NH) {
    m->NH = NH;
    tensors_init(&m->params);
    tensors_init(&m->acts);
    embedding_add(&m->e, &m->params, &m->acts, 1, H, W, P, C);
    int T = m->e.T;
    tensors_add(&m->params, &m->in_w, 2, (int[]){3 * C, C}, "attn.in_proj_weight");
    tensors_add(&m->params, &m->in_b, 1, (int[]){3 * C}, "attn.in_proj_bias");
    tensors_add(&m->params, &m->out_w, 2, (int[]){C, C}, "attn.out_proj.weight");
    tensors_add(&m->params, &m->out_b, 1, (int[]){C}, "attn.out_proj.bias");
    tensors_alloc(&m->params);
    m->mha = (MhaWeights){m->in_w, m->in_b, m->out_w, m->out_b};
    mha_activations_add(&m->acts, &m->a, 1, T, C, NH, "attn");
    tensors_add(&m->acts, &m->out, 3, (int[]){1, T, C}, "out");
    tensors_alloc(&m->acts);
}

// region: init
// The embedding as in chapters 02 and 03; the attention layer as
// torch.nn.MultiheadAttention initialises it: in_proj_weight Xavier-uniform,
// out_proj.weight uniform in ±1/sqrt(C) (a Linear's default), biases zero.
static void model_init(Model *m, Rng *rng) {
    int C = m->e.C;
    embedding_init(&m->e, rng);
    float xavier = sqrtf(6.0f / (float)(C + 3 * C)); // fan_in C, fan_out 3C
    rng_fill_uniform(rng, m->in_w, 3 * C * C, -xavier, xavier);
    rng_fill_uniform(rng, m->out_w, C * C, -1.0f / sqrtf((float)C), 1.0f / sqrtf((float)C));
}
// endregion: init

static void model_free(Model *m) {
    tensors_free(&m->params);
    tensors_free(&m->acts);
}

// tokens (1,T,C) from the image: patches, projection, class token, positions,
// each token standardised.
static void make_tokens(Embedding *e) {
    embedding_project(e);
    tokens_forward(e->tokens, e->patch_emb, e->class_token, e->pos, 1, e->N, e->C);
    standardize_rows(e->tokens, e->T, e->C, 1e-5f);
}

// ---- narration -----------------------------------------------------------------------

static void narrate_shapes(const Model *m) {
    int T = m->e.T, C = m->e.C, NH = m->NH, hs = C / NH;
    printf("  tokens  x                     (B,T,C)     = (1,%d,%d)\n", T, C);
    printf("  qkv = x W_in^T + b_in         (B,T,3C)    = (1,%d,%d)   W_in (3C,C) = (%d,%d)\n", T,
           3 * C, 3 * C, C);
    printf("  split into heads: q, k, v     (B,NH,T,hs) = (1,%d,%d,%d) each\n", NH, T, hs);
    for (int h = 0; h < NH && h < 4; h++)
        printf("    head %d: columns %3d..%3d of q, of k and of v\n", h + 1, h * hs,
               (h + 1) * hs - 1);
    if (NH > 4) printf("    ... head %d: columns %d..%d\n", NH, (NH - 1) * hs, C - 1);
    printf("  weights softmax(q k^T/sqrt(hs)) (B,NH,T,T) = (1,%d,%d,%d): one map per head\n", NH, T,
           T);
    printf("  heads = weights v             (B,NH,T,hs) = (1,%d,%d,%d)\n", NH, T, hs);
    printf("  concat: heads side by side    (B,T,C)     = (1,%d,%d)\n", T, C);
    printf("  out = concat W_out^T + b_out  (B,T,C)     = (1,%d,%d)   W_out (C,C) = (%d,%d)\n", T,
           C, C, C);
}

// What each head's class token looks at: its largest weight, the patch it
// goes to, and the entropy of its row against the uniform ln T.
static void narrate_heads(const Model *m) {
    int T = m->e.T;
    double worst = 0.0;
    for (int r = 0; r < m->NH * T; r++) {
        double sum = 0.0;
        for (int j = 0; j < T; j++) sum += m->a.att[(size_t)r * T + j];
        worst = fmax(worst, fabs(sum - 1.0));
    }
    printf("  all %d rows of the %d maps sum to 1 (largest error %.1g)\n", m->NH * T, m->NH, worst);
    printf("  the class token's row in each head (uniform would be %.3f, entropy ln %d = %.2f):\n",
           1.0 / T, T, log(T));
    for (int h = 0; h < m->NH && h < 8; h++) {
        const float *row = m->a.att + (size_t)h * T * T; // (T): query 0 of head h
        int best = 1 + narrate_argmax(row + 1, T - 1);   // among the patches
        double entropy = 0.0;
        for (int j = 0; j < T; j++) entropy -= row[j] * log(row[j]);
        printf("    head %d: to itself %.3f, most to patch %2d (%.3f), entropy %.2f\n", h + 1,
               row[0], best, row[best], entropy);
    }
}

// region: one-head
// NH = 1, in_proj = [Wq; Wk; Wv], zero biases, out_proj = identity: the layer
// must be chapter 03's single head, q = x Wq^T, ..., attention_forward.
static void compare_with_one_head(const Model *m, Rng *rng) {
    int T = m->e.T, C = m->e.C;
    Tensors params, acts;
    float *in_w, *in_b, *out_w, *out_b;    // (3C,C), (3C), (C,C), (C)
    float *q, *k, *v, *single, *att, *out; // (T,C) x4, (T,T), (T,C)
    MhaActivations a;
    tensors_init(&params);
    tensors_add(&params, &in_w, 2, (int[]){3 * C, C}, "in_proj_weight");
    tensors_add(&params, &in_b, 1, (int[]){3 * C}, "in_proj_bias");
    tensors_add(&params, &out_w, 2, (int[]){C, C}, "out_proj.weight");
    tensors_add(&params, &out_b, 1, (int[]){C}, "out_proj.bias");
    tensors_alloc(&params); // zeros
    tensors_init(&acts);
    float **rows[] = {&q, &k, &v, &single, &out};
    const char *names[] = {"q", "k", "v", "single", "out"};
    for (int i = 0; i < 5; i++) tensors_add(&acts, rows[i], 2, (int[]){T, C}, "%s", names[i]);
    tensors_add(&acts, &att, 2, (int[]){T, T}, "att");
    mha_activations_add(&acts, &a, 1, T, C, 1, "mha");
    tensors_alloc(&acts);

    rng_fill_normal(rng, in_w, 3 * C * C, 0.0f, 1.0f / sqrtf((float)C)); // Wq; Wk; Wv
    for (int c = 0; c < C; c++) out_w[c * C + c] = 1.0f;
    mha_forward(out, &a, m->e.tokens, &(MhaWeights){in_w, in_b, out_w, out_b}, 1, T, C, 1);
    linear_forward(q, m->e.tokens, in_w, NULL, T, C, C); // chapter 03: three projections,
    linear_forward(k, m->e.tokens, in_w + C * C, NULL, T, C, C);
    linear_forward(v, m->e.tokens, in_w + 2 * C * C, NULL, T, C, C);
    attention_forward(single, att, q, k, v, 1, T, C); // then one head of size C
    printf("  mha_forward with NH = 1, in_proj = [Wq; Wk; Wv], out_proj = I, zero biases,\n"
           "  against chapter 03 (three linear_forward, one attention_forward, d_k = %d):\n",
           C);
    printf("    largest difference: weights %.2g, outputs %.2g\n",
           narrate_max_abs_difference(a.att, att, T * T),
           narrate_max_abs_difference(out, single, T * C));
    tensors_free(&params);
    tensors_free(&acts);
}
// endregion: one-head

// region: cost
// The layer's parameters (from the allocation) and its work for several head
// counts: the same weights, cut into more and smaller heads.
static void narrate_cost(const Model *m) {
    long long T = m->e.T, C = m->e.C, params = 0;
    const char *names[] = {"attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj.weight",
                           "attn.out_proj.bias"};
    for (int i = 0; i < 4; i++) params += (long long)tensors_find(&m->params, names[i])->count;
    printf("  parameters of the layer, counted in its allocation: %lld = 4C^2 + 4C = %lld\n",
           params, 4 * C * C + 4 * C);
    printf("  %5s %5s %11s %14s %16s %12s\n", "heads", "hs", "parameters", "projections",
           "q k^T and att v", "map entries");
    printf("  %5s %5s %11s %14s %16s %12s\n", "NH", "C/NH", "4C^2+4C", "4 T C^2", "2 NH T^2 hs",
           "NH T^2");
    for (long long NH = 1; NH <= C; NH++) {
        if (C % NH != 0 || (NH > 16 && NH != m->NH)) continue;
        long long hs = C / NH;
        printf("  %5lld %5lld %11lld %14lld %16lld %12lld%s\n", NH, hs, 4 * C * C + 4 * C,
               4 * T * C * C, 2 * NH * T * T * hs, NH * T * T, NH == m->NH ? "  <- this run" : "");
    }
    printf("  (multiply-adds for one image of T = %lld tokens.) More heads are smaller heads: the\n"
           "  parameters and the products cost the same; only the number of maps grows.\n",
           T);
}
// endregion: cost

// One panel per head (the first 16): the image in gray, and over each patch
// the weight the class token gives it in that head, as a translucent heatmap
// on one colour scale for all heads. Block 0 the pixels; block h the patch
// centres and head h's weights.
static void figure_heads(const char *dir, const Model *m, const char *label, int seed) {
    int T = m->e.T, P = m->e.P, gw = m->e.W / P, shown = m->NH < 16 ? m->NH : 16;
    int columns = shown < 4 ? shown : 4, rows = (shown + columns - 1) / columns;
    Error err;
    Plot plot;
    narrate_check(
        plot_begin(&plot, dir, "class_token_attention",
                   "x y gray (0-255); then per head: patch centre x y, class-token weight", &err),
        program, &err);
    for (int y = 0; y < m->e.H; y++)
        for (int x = 0; x < m->e.W; x++)
            plot_printf(&plot, "%d %d %.0f\n", x, y, 255.0f * m->e.image[y * m->e.W + x]);
    float top = 0.0f;
    for (int h = 0; h < shown; h++) {
        plot_end_block(&plot);
        const float *row = m->a.att + (size_t)h * T * T; // (T): query 0 of head h
        for (int n = 0; n < m->e.N; n++) {
            plot_printf(&plot, "%g %g %.5f\n", (n % gw) * P + (P - 1) / 2.0,
                        (n / gw) * P + (P - 1) / 2.0, row[1 + n]);
            top = fmaxf(top, row[1 + n]);
        }
    }
    char script[8192];
    int used = snprintf(
        script, sizeof script,
        "%s\nset cbrange [0:%.4f]\nset label 1 'weight from the class token' at screen 0.975, screen 0.45 rotate by 90 center\n"
        "set colorbox user origin screen 0.865, screen 0.12 size screen 0.018, screen 0.66\n"
        "set size ratio -1\nunset key\nunset border\nunset tics\n"
        "set cbtics out nomirror font ',16'\nset cbtics add ('uniform 1/T' %.4f)\n"
        "set xrange [-0.5:%d-0.5]\nset yrange [%d-0.5:-0.5]\n"
        "set multiplot layout %d,%d margins 0.02,0.835,0.04,0.84 spacing 0.02,0.08 \\\n"
        "  title \"Where the class token looks, head by head: %d heads of size %d on a %dx%d patch "
        "grid\\n{/*0.8 a Fashion-MNIST %s, RANDOM weights (seed %d): no meaning yet; uniform "
        "would be %.3f}\"\n",
        colormap_viridis_gnuplot(), top, 1.0 / T, m->e.W, m->e.H, rows, columns, m->NH,
        m->e.C / m->NH, gw, m->e.H / P, label, seed, 1.0 / T);
    for (int h = 0; h < shown; h++)
        used += snprintf(script + used, sizeof script - (size_t)used,
                         "set title 'head %d'\n"
                         "plot DATA index 0 using 1:2:3:3:3 with rgbimage, \\\n"
                         "     '' index %d using 1:2:(%g):(%g):3 with boxxyerror "
                         "fs transparent solid 0.65 noborder lc palette\n",
                         h + 1, h + 1, P / 2.0, P / 2.0);
    snprintf(script + used, sizeof script - (size_t)used, "unset multiplot\n");
    plot.width = 420 * columns + 330;
    plot.height = 470 * rows + 170;
    narrate_check(plot_render(&plot, script, &err), program, &err);
}

// ---- the chapter -----------------------------------------------------------------------

// Reads the data and checks every size before anything is printed or written.
static void load_inputs(const Options *opt, FashionMnist *test) {
    Error err;
    if (opt->width % opt->heads != 0) {
        fprintf(stderr, "%s: --heads %d: width %d is not divisible by %d heads\n", program,
                opt->heads, opt->width, opt->heads);
        exit(2);
    }
    fashion_mnist_load_test_or_exit(test, program, opt->data_dir, FASHION_MNIST_SIDE, opt->index);
    cli_check_or_exit(patch_check(test->rows, test->cols, opt->patch, &err), program, "patch",
                      opt->patch, &err);
}

static void run_chapter(const Options *opt, const FashionMnist *test) {
    Model m;
    model_build(&m, test->rows, test->cols, opt->patch, opt->width, opt->heads);
    Rng rng;
    rng_seed(&rng, (uint64_t)opt->seed);
    model_init(&m, &rng);
    const char *label = fashion_mnist_class_names[test->labels[opt->index]];
    fashion_mnist_image(test, opt->index, m.e.image);
    make_tokens(&m.e);
    printf("1. The tokens: Fashion-MNIST test image %d (\"%s\"), P = %d: a %dx%d patch grid,\n"
           "  T = %d tokens of width C = %d, made and standardised as in chapter 03\n",
           opt->index, label, m.e.P, m.e.W / m.e.P, m.e.H / m.e.P, m.e.T, m.e.C);

    printf("\n2. %d heads of size hs = C/NH = %d/%d = %d, side by side\n", m.NH, m.e.C, m.NH,
           m.e.C / m.NH);
    mha_forward(m.out, &m.a, m.e.tokens, &m.mha, 1, m.e.T, m.e.C, m.NH);
    narrate_shapes(&m);
    narrate_heads(&m);
    printf("  These weights are random: what the heads look at means nothing yet (chapter 09\n"
           "  shows a trained model's). What matters here is that each head looks differently.\n");
    figure_heads(opt->out, &m, label, opt->seed);

    printf("\n3. One head is chapter 03's attention\n");
    compare_with_one_head(&m, &rng);

    printf("\n4. What the heads cost\n");
    narrate_cost(&m);
    model_free(&m);
}

int main(int argc, char **argv) {
    Options opt = {.data_dir = NULL,
                   .index = 0,
                   .patch = 4,
                   .width = 64,
                   .heads = 4,
                   .seed = 1,
                   .out = "figures/ch04"};
    CliOption options[] = {
        fashion_mnist_data_option(&opt.data_dir),
        cli_index_option(&opt.index, "which test image"),
        {"patch", CLI_INT, &opt.patch, "patch size P (must divide 28)", 1, 28, "P"},
        {"width", CLI_INT, &opt.width, "model width C", 1, 1024, "C"},
        {"heads", CLI_INT, &opt.heads, "number of heads NH (must divide the width)", 1, 64, "NH"},
        {"seed", CLI_INT, &opt.seed, "seed for every random weight", 0, 2147483647, NULL},
        cli_out_option(&opt.out),
    };
    cli_parse_or_exit(argc, argv, "Chapter 04: multi-head attention.", options,
                      sizeof options / sizeof options[0]);
    FashionMnist test;
    load_inputs(&opt, &test);
    Error err;
    narrate_check(make_dirs(opt.out, &err), program, &err);

    printf("Chapter 04: multi-head attention\n\n");
    run_chapter(&opt, &test);
    printf("\nFigures written to %s/: class_token_attention\n", opt.out);
    fashion_mnist_free(&test);
    return 0;
}

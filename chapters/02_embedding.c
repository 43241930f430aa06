// 02_embedding.c — chapter 02: patches become the Transformer's input tokens.
//
// Each patch row is projected to the model width C by one shared linear layer
// (which is exactly a convolution with kernel = stride = P), a learnable class
// token is put in front, and a position embedding is added so that the model
// can tell the patches apart by place. This program does it to a Fashion-MNIST
// picture with seeded random weights, prints the shapes at each step, and draws
// the projection filters and the position embeddings' similarity.
//
//   build/ch02_embedding [--patch 7] [--width 64] [--seed 1] [--grid 14] [--out figures/ch02]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "ch02.h"

typedef struct {
    const char *data_dir; // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    int index;            // which test image
    int patch;            // P
    int width;            // C
    int seed;             // for every random weight
    int grid;             // patch grid (grid x grid) of the similarity figure
    const char *out;      // where the figures go
} Options;

static const char *program = "ch02_embedding";

// ---- the model's pieces ------------------------------------------------------------

// The embedding (src/embed.c), and what this chapter sets beside it: fixed 2D
// sin-cos position embeddings, and the same projection run as a convolution.
// Parameters in one allocation, activations in another.
typedef struct {
    Embedding e;
    Tensors params, acts;
    float *pos_sincos; // (T,C); row 0, the class token's, stays zero
    float *conv_out;   // (1,C,H/P,W/P)
} Model;

// region: build
static void model_build(Model *m, int Cin, int H, int W, int P, int C) {
    tensors_init(&m->params);
    tensors_init(&m->acts);
    embedding_add(&m->e, &m->params, &m->acts, Cin, H, W, P, C);
    tensors_add(&m->params, &m->pos_sincos, 2, (int[]){m->e.T, C}, "pos_embedding_sincos");
    tensors_add(&m->acts, &m->conv_out, 4, (int[]){1, C, H / P, W / P}, "conv_out");
    tensors_alloc(&m->params);
    tensors_alloc(&m->acts);
}
// endregion: build

static void model_init(Model *m, Rng *rng) {
    Embedding *e = &m->e;
    embedding_init(e, rng);
    posemb_sincos_2d(m->pos_sincos + e->C, e->H / e->P, e->W / e->P, e->C);
}

static void model_free(Model *m) {
    tensors_free(&m->params);
    tensors_free(&m->acts);
}

// ---- narration -----------------------------------------------------------------------

static float norm(const float *x, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)x[i] * x[i];
    return (float)sqrt(s);
}

static void print_values(const char *label, const float *x, int n) {
    printf("  %s", label);
    for (int i = 0; i < n; i++) printf(" %+.4f", x[i]);
    printf(" ...\n");
}

// region: narrate-projection
// Patches, then one linear layer for all of them; then the same weights as a
// Conv2d with kernel = stride = P, whose output (1,C,H/P,W/P) read as (1,N,C)
// must be the same numbers.
static void project_patches(Model *m) {
    Embedding *e = &m->e;
    int N = e->N, C = e->C, D = e->D;
    embedding_project(e);
    printf("  patches                  (B,N,Cin*P*P) = (1,%d,%d)\n", N, D);
    printf("  patch embeddings         (B,N,C)       = (1,%d,%d)   weight (C,Cin*P*P) = (%d,%d)\n",
           N, C, C, D);
    print_values("patch 0's embedding:", e->patch_emb, 6);

    conv2d_forward(m->conv_out, e->image, e->weight, e->bias, 1, e->Cin, e->H, e->W, C, e->P, e->P,
                   0);
    float *conv_tokens = xmalloc(sizeof(float) * N * C); // (1,N,C)
    for (int n = 0; n < N; n++)                          // flatten(2).transpose(1, 2)
        for (int c = 0; c < C; c++) conv_tokens[n * C + c] = m->conv_out[c * N + n];
    printf("  Conv2d(%d -> %d, kernel %d, stride %d) (B,C,H/P,W/P) = (1,%d,%d,%d), as (1,%d,%d)\n",
           e->Cin, C, e->P, e->P, C, e->H / e->P, e->W / e->P, N, C);
    printf("  largest |linear - conv| over all %d numbers: %g (float rounding: the sums run in\n"
           "  another order). The linear projection IS the convolution, with the same weights.\n",
           N * C, narrate_max_abs_difference(e->patch_emb, conv_tokens, N * C));
    free(conv_tokens);
}
// endregion: narrate-projection

// The cosine similarity of patch 0's position embedding with each patch's,
// laid out on the patch grid (its top left corner, at most 7x7).
static void print_similarities(const char *what, const float *pos, int gh, int gw, int C) {
    int N = gh * gw;
    float *sim = xmalloc(sizeof(float) * N * N); // (N,N)
    cosine_similarity_rows(sim, pos, N, C);
    printf("  %s\n", what);
    for (int y = 0; y < gh && y < 7; y++) {
        printf("   ");
        for (int x = 0; x < gw && x < 7; x++) printf(" %+.3f", sim[y * gw + x]); // row 0 of sim
        printf("%s\n", gw > 7 ? " ..." : "");
    }
    free(sim);
}

// ---- figures ---------------------------------------------------------------------------

// The C rows of the weight, each drawn as its (P,P) picture (channel 0), as a
// mosaic of tiles, `columns` a row.
static void figure_filters(const char *dir, const Embedding *e) {
    int P = e->P, columns = (int)ceil(sqrt((double)e->C)), rows = (e->C + columns - 1) / columns;
    double bound = 1.0 / sqrt((double)e->D); // the init's range
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "projection_filters",
                             "the patch projection's filters: each weight row as a PxP tile", &err),
                  program, &err);
    plot_mosaic(&plot, e->weight, e->C, columns, P, P);
    char script[2048];
    snprintf(
        script, sizeof script,
        "set title \"The %d patch-projection filters at initialisation: random noise\\n"
        "{/*0.8 (each a %dx%d weight row, uniform in ±1/√%d as PyTorch initialises a Conv2d)}\"\n"
        "set size ratio -1\nunset key\nunset border\nunset xtics\nunset ytics\n"
        "set palette defined (-1 '#2166ac', 0 'white', 1 '#b2182b')\n"
        "set cbrange [-%g:%g]\nset cbtics %g format '%%.2f'\nset cblabel 'weight'\n"
        "set xrange [-0.5:%d-0.5]\nset yrange [%d-0.5:-0.5]\n%s"
        "plot DATA matrix with image\n",
        e->C, P, P, e->D, bound, bound, bound, columns * (P + 1) - 1, rows * (P + 1) - 1,
        mosaic_gaps_script(e->C, columns, P, P));
    plot.width = 1100;
    plot.height = 1000;
    narrate_check(plot_render(&plot, script, &err), program, &err);
}

// A few dimensions of the 2D sin-cos embedding over a grid x grid patch grid:
// sin(x w_i) varies along the columns only, cos(y w_i) along the rows only.
static void figure_sincos_components(const char *dir, int grid, int C) {
    int F = C / 4, shown = F < 4 ? F : 4; // frequencies shown: i = 0, 2, 4, 8 or 0, 1, ...
    float *pos = xmalloc(sizeof(float) * grid * grid * C); // (grid*grid, C)
    posemb_sincos_2d(pos, grid, grid, C);
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "sincos_components",
                             "2D sin-cos dimensions over the patch grid: one block per panel",
                             &err),
                  program, &err);
    char panels[2048] = "";
    int used = 0;
    for (int k = 0; k < 2 * shown; k++) {
        int i = F >= 8 && k % shown > 0 ? 1 << k % shown : k % shown;
        int dim = k < shown ? i : 3 * F + i; // sin(x w_i) or cos(y w_i)
        for (int y = 0; y < grid; y++) {
            for (int x = 0; x < grid; x++)
                plot_printf(&plot, "%.4f ", pos[(y * grid + x) * C + dim]);
            plot_printf(&plot, "\n");
        }
        plot_end_block(&plot);
        used += snprintf(panels + used, sizeof panels - (size_t)used,
                         "set title \"dim %d: %s(%.3g %s)\"\n"
                         "plot DATA index %d matrix with image\n",
                         dim, k < shown ? "sin" : "cos", pow(10000.0, -(double)i / (F - 1)),
                         k < shown ? "x" : "y", k);
    }
    char script[4096];
    snprintf(
        script, sizeof script,
        "%s\nset cbrange [-1:1]\nunset colorbox\nset size ratio -1\nunset key\nunset tics\n"
        "set xrange [-0.5:%d-0.5]\nset yrange [%d-0.5:-0.5]\n"
        "set multiplot layout 2,%d title \"2D sin-cos position embedding (width %d) on a "
        "%dx%d patch grid\\n{/*0.8 top: some of its sin(x {/Symbol w}) dimensions (x the patch column); bottom: cos(y {/Symbol w}) (y the row); purple -1, yellow +1}\"\n%sunset multiplot\n",
        colormap_viridis_gnuplot(), grid, grid, shown, C, grid, grid, panels);
    plot.width = 1600;
    plot.height = 900;
    narrate_check(plot_render(&plot, script, &err), program, &err);
    free(pos);
}

// Cosine similarity of every position embedding with every other on a grid x
// grid patch grid, learned-at-init next to 2D sin-cos: row p of the (N,N)
// similarity, as a grid x grid heatmap, is drawn at patch p's own place.
static void figure_similarity(const char *dir, int grid, int C, Rng *rng) {
    int N = grid * grid, side = grid * (grid + 1) - 1; // the mosaic is side x side
    float *pos = xmalloc(sizeof(float) * N * C);       // (N,C)
    float *sim = xmalloc(sizeof(float) * N * N);       // (N,N)
    Error err;
    Plot plot;
    narrate_check(
        plot_begin(&plot, dir, "posemb_similarity",
                   "cosine similarity of position embeddings, tile p = row p of (N,N) on the "
                   "patch grid: learned at init; then 2D sin-cos",
                   &err),
        program, &err);
    posemb_init_learned(pos, N, C, rng);
    cosine_similarity_rows(sim, pos, N, C);
    plot_mosaic(&plot, sim, N, grid, grid, grid);
    plot_end_block(&plot);
    posemb_sincos_2d(pos, grid, grid, C);
    cosine_similarity_rows(sim, pos, N, C);
    plot_mosaic(&plot, sim, N, grid, grid, grid);
    char script[4096];
    snprintf(script, sizeof script,
             "%s\nset cbrange [-1:1]\nset cblabel 'cosine similarity'\n"
             "set size ratio -1\nunset key\nset border 0\nset tics scale 0 font ',14'\n"
             "set xrange [-0.5:%d-0.5]\nset yrange [%d-0.5:-0.5]\n%s"
             "set xtics ()\nset ytics ()\n"
             "do for [k=1:%d] { set xtics add (sprintf('%%d', k) (k-1)*%d + %g); "
             "set ytics add (sprintf('%%d', k) (k-1)*%d + %g) }\n"
             "set xlabel 'input patch column'\nset ylabel 'input patch row'\n"
             "set multiplot title \"Cosine similarity of position embeddings, %dx%d patches, width "
             "%d\"\n"
             "set tmargin at screen 0.88\nset bmargin at screen 0.1\n"
             "set lmargin at screen 0.05\nset rmargin at screen 0.45\nunset colorbox\n"
             "set title \"learned 1D, at initialisation\"\nplot DATA index 0 matrix with image\n"
             "set lmargin at screen 0.51\nset rmargin at screen 0.91\nset colorbox\n"
             "set title \"fixed 2D sin-cos\"\nplot DATA index 1 matrix with image\n"
             "unset multiplot\n",
             colormap_viridis_gnuplot(), side, side, mosaic_gaps_script(N, grid, grid, grid), grid,
             grid + 1, (grid - 1) / 2.0, grid + 1, (grid - 1) / 2.0, grid, grid, C);
    plot.width = 2000;
    plot.height = 1050;
    narrate_check(plot_render(&plot, script, &err), program, &err);
    free(sim);
    free(pos);
}

// ---- the chapter -----------------------------------------------------------------------

// Reads the data and checks every size before anything is printed or written.
static void load_inputs(const Options *opt, FashionMnist *test) {
    Error err;
    fashion_mnist_load_test_or_exit(test, program, opt->data_dir, FASHION_MNIST_SIDE, opt->index);
    cli_check_or_exit(patch_check(test->rows, test->cols, opt->patch, &err), program, "patch",
                      opt->patch, &err);
}

// region: narrate-tokens
// The class token in front, then a position embedding added to every token.
static void make_tokens(Embedding *e, const float *pos, const char *which) {
    tokens_forward(e->tokens, e->patch_emb, e->class_token, pos, 1, e->N, e->C);
    printf("  + %-20s pos (T,C) = (%d,%d)  ->  tokens (B,T,C) = (1,%d,%d)\n", which, e->T, e->C,
           e->T, e->C);
    printf("    |patch 0's embedding| %.3f   |its position embedding| %.3f   |token 1| %.3f\n",
           norm(e->patch_emb, e->C), norm(pos + e->C, e->C), norm(e->tokens + e->C, e->C));
}
// endregion: narrate-tokens

static void run_chapter(const Options *opt, const FashionMnist *test) {
    Model m;
    model_build(&m, 1, test->rows, test->cols, opt->patch, opt->width);
    Rng rng;
    rng_seed(&rng, (uint64_t)opt->seed);
    model_init(&m, &rng);
    Embedding *e = &m.e;
    int gh = e->H / e->P, gw = e->W / e->P;

    fashion_mnist_image(test, opt->index, e->image);
    printf("1. The image: Fashion-MNIST test image %d, labelled \"%s\"\n", opt->index,
           fashion_mnist_class_names[test->labels[opt->index]]);
    printf("  image                    (B,Cin,H,W)   = (1,%d,%d,%d)\n", e->Cin, e->H, e->W);
    printf("\n2. Patches, projected to width C = %d (P = %d: a %dx%d grid, N = %d)\n", e->C, e->P,
           gh, gw, e->N);
    project_patches(&m);
    printf(
        "\n3. The class token (C) = (%d) goes in front: T = N + 1 = %d tokens. It starts at zero\n"
        "  and is learned; its final state will stand for the whole image. Then a position\n"
        "  embedding is added to every token, learned (here at its random start) or fixed:\n",
        e->C, e->T);
    make_tokens(e, e->pos, "learned 1D (init)");
    make_tokens(e, m.pos_sincos, "fixed 2D sin-cos");
    printf("\n4. Cosine similarity of patch 0's position embedding with each patch's, on the %dx%d "
           "grid\n",
           gh, gw);
    print_similarities("learned 1D, at initialisation:", e->pos + e->C, gh, gw, e->C);
    print_similarities("fixed 2D sin-cos:", m.pos_sincos + e->C, gh, gw, e->C);
    printf("  Learned ones know nothing yet (chapter 09 looks at them after training); sin-cos\n"
           "  ones are alike for nearby patches by construction.\n");
    printf("\n  %d parameters in one allocation: weight %d, bias %d, class token %d, and %d for\n"
           "  each kind of position embedding\n",
           (int)m.params.total, e->C * e->D, e->C, e->C, e->T * e->C);

    figure_filters(opt->out, e);
    figure_sincos_components(opt->out, opt->grid, e->C);
    figure_similarity(opt->out, opt->grid, e->C, &rng);
    model_free(&m);
}

int main(int argc, char **argv) {
    Options opt = {.data_dir = NULL,
                   .index = 0,
                   .patch = 7,
                   .width = 64,
                   .seed = 1,
                   .grid = 14,
                   .out = "figures/ch02"};
    CliOption options[] = {
        fashion_mnist_data_option(&opt.data_dir),
        cli_index_option(&opt.index, "which test image to embed"),
        {"patch", CLI_INT, &opt.patch, "patch size P (must divide 28)", 1, 28, "P"},
        {"width", CLI_INT, &opt.width, "model width C (a multiple of 4, for the 2D sin-cos)", 8,
         1024, "C"},
        {"seed", CLI_INT, &opt.seed, "seed for every random weight", 0, 2147483647, NULL},
        {"grid", CLI_INT, &opt.grid, "patch grid of the similarity figure (14: 224/16)", 2, 32,
         "G"},
        cli_out_option(&opt.out),
    };
    cli_parse_or_exit(argc, argv, "Chapter 02: patches become tokens.", options,
                      sizeof options / sizeof options[0]);
    if (opt.width % 4 != 0) {
        fprintf(stderr, "%s: --width %d: the 2D sin-cos embedding needs a multiple of 4\n", program,
                opt.width);
        return 2;
    }
    FashionMnist test;
    load_inputs(&opt, &test);
    Error err;
    narrate_check(make_dirs(opt.out, &err), program, &err);

    printf("Chapter 02: embedding\n\n");
    run_chapter(&opt, &test);
    printf("\nFigures written to %s/: projection_filters, sincos_components, posemb_similarity\n",
           opt.out);
    fashion_mnist_free(&test);
    return 0;
}

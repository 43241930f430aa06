// 03_attention.c — chapter 03: scaled dot-product attention, one head.
//
// Every token asks a question (its query), offers a label (its key) and carries
// a message (its value); each token's output is the mix of all the messages,
// weighted by how well its query matches each key. This program does that to
// the tokens of one Fashion-MNIST picture with seeded random weights, prints
// the shapes and a row of weights, measures why the scores are divided by
// sqrt(d_k), and shows that without position embeddings attention cannot tell
// the order of its tokens.
//
//   build/ch03_attention [--dk 16] [--seed 1] [--patch 7] [--index 0] [--out figures/ch03]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ch03.h"

typedef struct {
    const char *data_dir; // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    int index;            // which test image
    int patch;            // P
    int dk;               // the head size d_k (hs)
    int seed;             // for every random weight and draw
    const char *out;      // where the figures go
} Options;

enum {
    WIDTH = 64,       // C, the tokens' width, as in chapter 02
    DRAWS = 200,      // random draws per d_k in the saturation experiment
    DRAW_TOKENS = 17, // tokens per draw: T of a 28x28 image in 7x7 patches
    SWEEP = 21,       // d_k = 2^(i/2) rounded, i = 0..20: 1 .. 1024
};

static const char *program = "ch03_attention";

// ---- the tokens and one head --------------------------------------------------------

// Chapter 02's embedding (src/embed.c) and one attention head: parameters in
// one allocation, activations in another.
typedef struct {
    Embedding e; // image (1,1,H,W) ... tokens (1,T,C)
    int dk;      // the head size
    Tensors params, acts;
    float *wq, *wk, *wv; // (dk,C) each: the head's projections
    float *q, *k, *v;    // (1,T,dk) each
    float *scores, *att; // (1,T,T) each: before and after softmax
    float *out;          // (1,T,dk)
} Head;

static void head_build(Head *h, int H, int W, int P, int C, int dk) {
    h->dk = dk;
    tensors_init(&h->params);
    tensors_init(&h->acts);
    embedding_add(&h->e, &h->params, &h->acts, 1, H, W, P, C);
    int T = h->e.T;
    tensors_add(&h->params, &h->wq, 2, (int[]){dk, C}, "wq");
    tensors_add(&h->params, &h->wk, 2, (int[]){dk, C}, "wk");
    tensors_add(&h->params, &h->wv, 2, (int[]){dk, C}, "wv");
    tensors_alloc(&h->params);
    tensors_add(&h->acts, &h->q, 3, (int[]){1, T, dk}, "q");
    tensors_add(&h->acts, &h->k, 3, (int[]){1, T, dk}, "k");
    tensors_add(&h->acts, &h->v, 3, (int[]){1, T, dk}, "v");
    tensors_add(&h->acts, &h->scores, 3, (int[]){1, T, T}, "scores");
    tensors_add(&h->acts, &h->att, 3, (int[]){1, T, T}, "att");
    tensors_add(&h->acts, &h->out, 3, (int[]){1, T, dk}, "out");
    tensors_alloc(&h->acts);
}

// region: init
// The embedding as chapter 02 initialises it (PyTorch's Conv2d default, zero
// class token, learned positions); the head's projections Normal(0, 1/C), so
// that on unit-variance tokens q, k and v have unit-variance entries.
static void head_init(Head *h, Rng *rng) {
    int C = h->e.C;
    embedding_init(&h->e, rng);
    float std = 1.0f / sqrtf((float)C);
    rng_fill_normal(rng, h->wq, h->dk * C, 0.0f, std);
    rng_fill_normal(rng, h->wk, h->dk * C, 0.0f, std);
    rng_fill_normal(rng, h->wv, h->dk * C, 0.0f, std);
}
// endregion: init

static void head_free(Head *h) {
    tensors_free(&h->params);
    tensors_free(&h->acts);
}

// tokens (1,T,C): the class token in front of patch_emb, positions added
// (pos (T,C), or NULL for none), each token standardised.
static void make_tokens(Embedding *e, const float *pos) {
    float *zeros = xcalloc((size_t)e->T * e->C, sizeof(float)); // (T,C)
    tokens_forward(e->tokens, e->patch_emb, e->class_token, pos ? pos : zeros, 1, e->N, e->C);
    free(zeros);
    standardize_rows(e->tokens, e->T, e->C, 1e-5f);
}

// region: head-forward
// One head of self-attention on x (1,T,C): q, k, v (1,T,dk), then attention.
// The scores are kept too, to be shown; attention_forward computes its own.
static void head_forward(Head *h, const float *x) {
    int T = h->e.T, C = h->e.C, dk = h->dk;
    linear_forward(h->q, x, h->wq, NULL, T, C, dk); // q = x Wq^T
    linear_forward(h->k, x, h->wk, NULL, T, C, dk); // k = x Wk^T
    linear_forward(h->v, x, h->wv, NULL, T, C, dk); // v = x Wv^T
    matmul(h->scores, h->q, h->k, T, T, dk, MATMUL_BT);
    for (int i = 0; i < T * T; i++) h->scores[i] /= sqrtf((float)dk);
    attention_forward(h->out, h->att, h->q, h->k, h->v, 1, T, dk);
}
// endregion: head-forward

// ---- narration -----------------------------------------------------------------------

static void print_row(const char *label, const float *x, int n) {
    printf("  %-9s", label);
    for (int i = 0; i < n; i++) printf(" %6.3f", x[i]);
    printf("%s\n", n < 17 ? "" : " ...");
}

static void narrate_head(const Head *h) {
    int T = h->e.T, dk = h->dk, shown = T < 9 ? T : 9;
    printf("  tokens   x                  (B,T,C)  = (1,%d,%d)\n", T, h->e.C);
    printf("  queries  Q = x Wq^T         (B,T,dk) = (1,%d,%d)   Wq (dk,C) = (%d,%d)\n", T, dk, dk,
           h->e.C);
    printf("  keys     K = x Wk^T         (B,T,dk) = (1,%d,%d)   Wk the same\n", T, dk);
    printf("  values   V = x Wv^T         (B,T,dk) = (1,%d,%d)   Wv the same\n", T, dk);
    printf("  scores   Q K^T / sqrt(dk)   (B,T,T)  = (1,%d,%d)   one per (query, key) pair\n", T,
           T);
    printf("  weights  softmax(scores)    (B,T,T)  = (1,%d,%d)   each row sums to 1\n", T, T);
    printf("  output   weights V          (B,T,dk) = (1,%d,%d)   row i: a mix of the values\n", T,
           dk);
    printf("  the entries of Q and K have std %.3f and %.3f (close to 1, by design)\n\n",
           narrate_std(h->q, T * dk), narrate_std(h->k, T * dk));
    printf("  Row 0, the class token's query against the first %d keys:\n", shown);
    print_row("scores", h->scores, shown);
    print_row("weights", h->att, shown);
    double sum = 0.0;
    for (int j = 0; j < T; j++) sum += h->att[j];
    int best = narrate_argmax(h->att, T);
    printf("  the %d weights of the row sum to %.6f; the largest, %.3f, goes to token %d\n", T, sum,
           h->att[best], best);
}

// ---- why divide by sqrt(d_k) ----------------------------------------------------------

typedef struct {
    int dk;
    double std_raw, std_scaled;   // of the scores q·k and q·k/sqrt(dk)
    double top_raw, top_scaled;   // mean largest softmax weight of a row
    double ent_raw, ent_scaled;   // mean entropy of a row, in nats
    double grad_raw, grad_scaled; // mean |d softmax / d scores| (Frobenius norm)
} Saturation;

// Adds one softmax row p (n) to the sums: largest weight, entropy, and the
// squared Frobenius norm of its Jacobian J = diag(p) - p p^T, which is
// sum p_i^2 - 2 sum p_i^3 + (sum p_i^2)^2.
static void add_row_stats(const float *p, int n, double *top, double *ent, double *grad) {
    double max = 0.0, h = 0.0, s2 = 0.0, s3 = 0.0;
    for (int i = 0; i < n; i++) {
        max = fmax(max, p[i]);
        if (p[i] > 0.0f) h -= p[i] * log(p[i]);
        s2 += (double)p[i] * p[i];
        s3 += (double)p[i] * p[i] * p[i];
    }
    *top += max, *ent += h, *grad += sqrt(fmax(s2 - 2 * s3 + s2 * s2, 0.0));
}

// region: saturation
// DRAWS draws of q, k (T,dk) with Normal(0,1) entries; every row of the
// softmax of q k^T, scaled by 1/sqrt(dk) and not, into the statistics.
static Saturation measure_saturation(int dk, Rng *rng) {
    enum { T = DRAW_TOKENS };
    Saturation s = {.dk = dk};
    float *q = xmalloc(sizeof(float) * T * dk), *k = xmalloc(sizeof(float) * T * dk);
    float raw[T * T], scaled[T * T];
    double sum2 = 0.0;
    for (int d = 0; d < DRAWS; d++) {
        rng_fill_normal(rng, q, T * dk, 0.0f, 1.0f);
        rng_fill_normal(rng, k, T * dk, 0.0f, 1.0f);
        matmul(raw, q, k, T, T, dk, MATMUL_BT); // q·k: variance dk
        for (int i = 0; i < T * T; i++) {
            sum2 += (double)raw[i] * raw[i];
            scaled[i] = raw[i] / sqrtf((float)dk); // variance 1
        }
        softmax_rows(raw, raw, T, T);
        softmax_rows(scaled, scaled, T, T);
        for (int r = 0; r < T; r++) {
            add_row_stats(raw + r * T, T, &s.top_raw, &s.ent_raw, &s.grad_raw);
            add_row_stats(scaled + r * T, T, &s.top_scaled, &s.ent_scaled, &s.grad_scaled);
        }
    }
    double rows = (double)DRAWS * T;
    s.std_raw = sqrt(sum2 / (rows * T)); // the mean is 0
    s.std_scaled = s.std_raw / sqrt(dk);
    s.top_raw /= rows, s.top_scaled /= rows, s.ent_raw /= rows, s.ent_scaled /= rows;
    s.grad_raw /= rows, s.grad_scaled /= rows;
    free(q);
    free(k);
    return s;
}
// endregion: saturation

static void sweep_saturation(Saturation *sweep, int *count, Rng *rng) {
    *count = 0;
    for (int i = 0; i < SWEEP; i++) {
        int dk = (int)lround(pow(2.0, i / 2.0));
        if (*count > 0 && sweep[*count - 1].dk == dk) continue;
        sweep[(*count)++] = measure_saturation(dk, rng);
    }
}

static void narrate_saturation(const Saturation *sweep, int count) {
    printf("  %5s  %17s  %12s  %15s  %15s\n", "", "std of q.k", "std of", "largest weight",
           "|gradient|");
    printf("  %5s  %8s %8s  %12s  %7s %7s  %7s %7s\n", "d_k", "measured", "sqrt(dk)",
           "q.k/sqrt(dk)", "raw", "scaled", "raw", "scaled");
    for (int i = 0; i < count; i++) {
        const Saturation *s = &sweep[i];
        if ((s->dk & (s->dk - 1)) != 0 || (s->dk & 0xAAAAAAAA) != 0) continue; // powers of 4
        printf("  %5d  %8.2f %8.2f  %12.3f  %7.3f %7.3f  %7.3f %7.3f\n", s->dk, s->std_raw,
               sqrt(s->dk), s->std_scaled, s->top_raw, s->top_scaled, s->grad_raw, s->grad_scaled);
    }
}

// ---- permutation equivariance -----------------------------------------------------------

// Largest |out_p[i] - out[perm[i]]| over the rows (T,dk): zero when permuting
// the input tokens just permutes the outputs.
static float equivariance_error(const float *out_p, const float *out, const int *perm, int T,
                                int dk) {
    float worst = 0.0f;
    for (int i = 0; i < T; i++)
        for (int c = 0; c < dk; c++)
            worst = fmaxf(worst, fabsf(out_p[i * dk + c] - out[perm[i] * dk + c]));
    return worst;
}

// region: permutation
// The patches are shuffled (the class token stays first: perm[0] = 0), given
// the position embedding pos (NULL: none) of their new places, and attended
// to. Returns the largest difference from the image's outputs in the same
// order; *cls gets the class token's.
static float shuffle_error(Head *h, const float *pos, const int *perm, float *cls) {
    int T = h->e.T, N = h->e.N, C = h->e.C, dk = h->dk;
    float *out = xmalloc(sizeof(float) * T * dk); // (T,dk) in the image's order
    float *emb = xmalloc(sizeof(float) * N * C);  // (N,C) the patches' embeddings
    embedding_project(&h->e);
    make_tokens(&h->e, pos);
    head_forward(h, h->e.tokens);
    memcpy(out, h->out, sizeof(float) * T * dk);
    memcpy(emb, h->e.patch_emb, sizeof(float) * N * C);
    for (int i = 1; i < T; i++) // token i gets the patch of token perm[i]
        memcpy(h->e.patch_emb + (i - 1) * C, emb + (perm[i] - 1) * C, sizeof(float) * C);
    make_tokens(&h->e, pos);
    head_forward(h, h->e.tokens);
    *cls = equivariance_error(h->out, out, perm, 1, dk); // row 0 only
    float err = equivariance_error(h->out, out, perm, T, dk);
    free(emb);
    free(out);
    return err;
}
// endregion: permutation

static void narrate_permutation(Head *h, Rng *rng) {
    const Embedding *e = &h->e;
    int *perm = xmalloc(sizeof(int) * e->T);
    perm[0] = 0;
    rng_permutation(rng, perm + 1, e->N);
    for (int i = 1; i < e->T; i++) perm[i] += 1;
    float *sincos = xcalloc((size_t)e->T * e->C, sizeof(float)); // row 0: the class token's
    posemb_sincos_2d(sincos + e->C, e->H / e->P, e->W / e->P, e->C);
    printf("  the patches shuffled: token i now holds patch");
    for (int i = 1; i < e->T && i <= 12; i++) printf(" %d", perm[i]);
    printf("%s\n", e->T > 13 ? " ..." : "");
    printf("  largest |output i of the shuffled tokens - output perm[i] of the image|:\n");
    printf("    %-31s %10s %12s\n", "", "all tokens", "class token");
    const char *names[3] = {"no position embeddings", "learned 1D, at init (std 0.02)",
                            "fixed 2D sin-cos"};
    const float *pos[3] = {NULL, e->pos, sincos};
    for (int i = 0; i < 3; i++) {
        float cls, all = shuffle_error(h, pos[i], perm, &cls);
        printf("    %-31s %10.2g %12.2g\n", names[i], all, cls);
    }
    printf("  Without positions the outputs are only permuted (to rounding), and the class\n"
           "  token, which stays in place, gets the same output: it sees a bag of patches.\n");
    free(sincos);
    free(perm);
}

// ---- figures ---------------------------------------------------------------------------

// gnuplot tics for the T tokens: "cls" for token 0, then patch tokens (every
// one for a short sequence, else the first of each row of the patch grid but
// the first, which would touch "cls").
static void token_tics(char *buf, size_t size, int T, int row) {
    int used = snprintf(buf, size, "('cls' 0");
    int step = T <= 20 ? 1 : row;
    for (int t = 1 + (step > 1 ? step : 0); t < T && used < (int)size - 16; t += step)
        used += snprintf(buf + used, size - (size_t)used, ", '%d' %d", t, t);
    snprintf(buf + used, size - (size_t)used, ")");
}

// The image with its patches numbered as tokens, next to the (T,T) attention
// matrix: row i is where token i looks. Block 0 the pixels, block 1 the
// token numbers at the patch centres, block 2 the matrix.
static void figure_attention(const char *dir, const Head *h, const char *label, int dk, int seed) {
    const Embedding *e = &h->e;
    int gw = e->W / e->P, T = e->T;
    Error err;
    Plot plot;
    narrate_check(
        plot_begin(&plot, dir, "attention_matrix",
                   "x y pixel; then patch centres x y token; then the (T,T) attention weights",
                   &err),
        program, &err);
    for (int y = 0; y < e->H; y++)
        for (int x = 0; x < e->W; x++)
            plot_printf(&plot, "%d %d %.4f\n", x, y, e->image[y * e->W + x]);
    plot_end_block(&plot);
    for (int n = 0; n < e->N; n++)
        plot_printf(&plot, "%g %g %d\n", (n % gw) * e->P + (e->P - 1) / 2.0,
                    (n / gw) * e->P + (e->P - 1) / 2.0, n + 1);
    plot_end_block(&plot);
    for (int i = 0; i < T; i++) {
        for (int j = 0; j < T; j++) plot_printf(&plot, "%s%.5f", j ? " " : "", h->att[i * T + j]);
        plot_printf(&plot, "\n");
    }
    char tics[1024], script[4096];
    token_tics(tics, sizeof tics, T, gw);
    snprintf(
        script, sizeof script,
        "set multiplot title \"One attention head on a Fashion-MNIST %s (random weights, d_k = %d, "
        "seed %d)\"\n"
        "# left: the image, each patch labelled with its token number\n"
        "set lmargin at screen 0.03\nset rmargin at screen 0.36\n"
        "set tmargin at screen 0.86\nset bmargin at screen 0.12\n"
        "set size ratio -1\nunset key\nunset border\nunset tics\nunset colorbox\n"
        "set palette gray\nset cbrange [0:1]\n"
        "set xrange [-0.5:%d-0.5]\nset yrange [%d-0.5:-0.5]\n"
        "do for [i=1:%d] { set arrow from i*%d-0.5, graph 0 to i*%d-0.5, graph 1 nohead front lc rgb '#e8543e' lw 1.5 }\n"
        "do for [j=1:%d] { set arrow from graph 0, first j*%d-0.5 to graph 1, first j*%d-0.5 nohead front lc rgb '#e8543e' lw 1.5 }\n"
        "set title 'token n = patch n (token 0: the class token)'\n"
        "plot DATA index 0 using 1:2:3 with image, \\\n"
        "     '' index 1 using 1:2:3 with labels font ',%d' textcolor rgb '#ffd23f'\n"
        "unset arrow\n"
        "# right: the attention weights\n"
        "set lmargin at screen 0.45\nset rmargin at screen 0.88\n"
        "%s\nset cbrange [0:*]\nset colorbox\nset cblabel 'attention weight'\n"
        "set border\nset tics out nomirror font ',14'\n"
        "set xtics %s\nset ytics %s\n"
        "set xrange [-0.5:%d-0.5]\nset yrange [%d-0.5:-0.5]\n"
        "set xlabel 'key token j (looked at)'\nset ylabel 'query token i (looking)'\n"
        "set title 'softmax(Q K^T / sqrt(d_k)): each row sums to 1'\n"
        "plot DATA index 2 matrix with image\n"
        "unset multiplot\n",
        label, dk, seed, e->W, e->H, gw - 1, e->P, e->P, e->H / e->P - 1, e->P, e->P,
        T <= 20 ? 20 : 10, colormap_viridis_gnuplot(), tics, tics, T, T);
    plot.width = 1800;
    plot.height = 860;
    narrate_check(plot_render(&plot, script, &err), program, &err);
}

// Mean largest weight and mean entropy of a softmax row against d_k, with and
// without the 1/sqrt(d_k) scale.
static void figure_saturation(const char *dir, const Saturation *sweep, int count) {
    Error err;
    Plot plot;
    narrate_check(
        plot_begin(&plot, dir, "softmax_saturation",
                   "dk  largest weight: raw scaled  entropy: raw scaled  std q.k: raw scaled  "
                   "|gradient|: raw scaled",
                   &err),
        program, &err);
    for (int i = 0; i < count; i++) {
        const Saturation *s = &sweep[i];
        plot_printf(&plot, "%d %.5f %.5f %.5f %.5f %.4f %.4f %.5f %.5f\n", s->dk, s->top_raw,
                    s->top_scaled, s->ent_raw, s->ent_scaled, s->std_raw, s->std_scaled,
                    s->grad_raw, s->grad_scaled);
    }
    char script[3072];
    snprintf(
        script, sizeof script,
        "set multiplot layout 1,2 title \"Softmax over %d random keys: without the 1/sqrt(d_k) "
        "scale it saturates (mean of %d draws)\"\n"
        "set logscale x 2\nset xrange [1:1024]\nset xtics (1, 4, 16, 64, 256, 1024)\n"
        "set grid\nset key at graph 0.98, graph 0.5 right top opaque box samplen 2\n"
        "set xlabel 'head size d_k'\n"
        "set ylabel 'mean largest weight in a row'\nset yrange [0:1.05]\n"
        "set title 'largest weight (1 = one-hot)'\n"
        "plot DATA using 1:2 with linespoints lw 3 pt 7 lc rgb '#d62728' title 'unscaled: q·k', \\\n"
        "     '' using 1:3 with linespoints lw 3 pt 5 lc rgb '#1f77b4' title 'scaled: q·k / sqrt(d_k)', \\\n"
        "     1.0/%d with lines dt 2 lw 2 lc rgb 'gray40' title 'uniform: 1/%d'\n"
        "set ylabel 'mean entropy of a row (nats)'\nset yrange [0:%g]\n"
        "set key at graph 0.98, graph 0.72 right top opaque box samplen 2\n"
        "set title 'entropy (0 = one-hot)'\n"
        "plot DATA using 1:4 with linespoints lw 3 pt 7 lc rgb '#d62728' title 'unscaled: q·k', \\\n"
        "     '' using 1:5 with linespoints lw 3 pt 5 lc rgb '#1f77b4' title 'scaled: q·k / sqrt(d_k)', \\\n"
        "     log(%d) with lines dt 2 lw 2 lc rgb 'gray40' title 'uniform: ln %d = %.2f'\n"
        "unset multiplot\n",
        DRAW_TOKENS, DRAWS, DRAW_TOKENS, DRAW_TOKENS, log(DRAW_TOKENS) * 1.1, DRAW_TOKENS,
        DRAW_TOKENS, log(DRAW_TOKENS));
    plot.width = 1800;
    plot.height = 800;
    narrate_check(plot_render(&plot, script, &err), program, &err);
}

// ---- the chapter -----------------------------------------------------------------------

// Reads the data and checks every size before anything is printed or written.
static void load_inputs(const Options *opt, FashionMnist *test) {
    Error err;
    fashion_mnist_load_test_or_exit(test, program, opt->data_dir, FASHION_MNIST_SIDE, opt->index);
    cli_check_or_exit(patch_check(test->rows, test->cols, opt->patch, &err), program, "patch",
                      opt->patch, &err);
}

static void run_chapter(const Options *opt, const FashionMnist *test) {
    Head h;
    head_build(&h, test->rows, test->cols, opt->patch, WIDTH, opt->dk);
    Rng rng, draws;
    rng_seed(&rng, (uint64_t)opt->seed);
    rng_seed(&draws, (uint64_t)opt->seed + 1); // the experiment's draws, apart from the weights
    head_init(&h, &rng);
    const char *label = fashion_mnist_class_names[test->labels[opt->index]];
    fashion_mnist_image(test, opt->index, h.e.image);

    printf("1. The tokens: Fashion-MNIST test image %d (\"%s\") as in chapter 02\n", opt->index,
           label);
    printf("  %d patches of %dx%d, projected to C = %d, the class token in front, learned\n"
           "  positions added: T = %d tokens; each standardised to mean 0, variance 1\n",
           h.e.N, h.e.P, h.e.P, h.e.C, h.e.T);
    embedding_project(&h.e);
    make_tokens(&h.e, h.e.pos);
    printf("\n2. One head of size d_k = %d, random weights (seed %d)\n", h.dk, opt->seed);
    head_forward(&h, h.e.tokens);
    narrate_head(&h);
    figure_attention(opt->out, &h, label, opt->dk, opt->seed);

    printf("\n3. Why divide by sqrt(d_k)? q.k sums d_k products of unit variance: its variance "
           "is d_k.\n"
           "  Measured on %d draws of %d random queries and keys (entries Normal(0,1)):\n",
           DRAWS, DRAW_TOKENS);
    Saturation sweep[SWEEP];
    int count;
    sweep_saturation(sweep, &count, &draws);
    narrate_saturation(sweep, count);
    printf("  (largest weight: of a softmax row, 1/%d if uniform, 1 if one-hot; |gradient|: the\n"
           "  size of d weights / d scores, what learning gets through the softmax.)\n"
           "  Unscaled, the scores spread with sqrt(d_k): the softmax turns one-hot and its\n"
           "  gradient vanishes. Scaled, the scores keep std 1 and the softmax stays soft.\n",
           DRAW_TOKENS);
    figure_saturation(opt->out, sweep, count);

    printf("\n4. Attention does not know the order of its tokens\n");
    narrate_permutation(&h, &rng);
    head_free(&h);
}

int main(int argc, char **argv) {
    Options opt = {
        .data_dir = NULL, .index = 0, .patch = 7, .dk = 16, .seed = 1, .out = "figures/ch03"};
    CliOption options[] = {
        fashion_mnist_data_option(&opt.data_dir),
        cli_index_option(&opt.index, "which test image"),
        {"patch", CLI_INT, &opt.patch, "patch size P (must divide 28)", 1, 28, "P"},
        {"dk", CLI_INT, &opt.dk, "head size d_k: the width of queries, keys and values", 1, 1024,
         "D"},
        {"seed", CLI_INT, &opt.seed, "seed for every random weight and draw", 0, 2147483647, NULL},
        cli_out_option(&opt.out),
    };
    cli_parse_or_exit(argc, argv, "Chapter 03: scaled dot-product attention, one head.", options,
                      sizeof options / sizeof options[0]);
    FashionMnist test;
    load_inputs(&opt, &test);
    Error err;
    narrate_check(make_dirs(opt.out, &err), program, &err);

    printf("Chapter 03: attention\n\n");
    run_chapter(&opt, &test);
    printf("\nFigures written to %s/: attention_matrix, softmax_saturation\n", opt.out);
    fashion_mnist_free(&test);
    return 0;
}

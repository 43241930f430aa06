// 05_encoder.c — chapter 05: the Transformer encoder.
//
// Attention lets tokens talk; the encoder block wraps it with what makes a deep
// stack of them trainable: LayerNorm before each part, a GELU MLP after
// attention, and a residual connection around each. This program builds a
// tiny ViT encoder for Fashion-MNIST, normalises one token, compares GELU with
// ReLU, follows the shapes through one block and the sizes through the stack,
// and prints the paper's model variants with their parameters and FLOPs.
//
//   build/ch05_encoder [--width 64] [--heads 4] [--mlp 128] [--layers 6] [--patch 7]
//                      [--seed 0] [--depth 24] [--index 0] [--out figures/ch05]
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ch05.h"

typedef struct {
    const char *data_dir; // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    int index;            // which test image
    VitConfig model;      // the encoder's shape: --width, --heads, --mlp, --layers, --patch
    int seed;             // for the weights
    int depth;            // L of the stack in the activation-size figure
    const char *out;      // where the figures go
} Options;

enum {
    DEPTH_IMAGES = 8, // test images averaged over in the depth figure
};

static const char *program = "ch05_encoder";

// x, with what rounds to -0.0000 printed as 0.0000.
static double tidy(double x) {
    return fabs(x) < 5e-5 ? 0.0 : x;
}

// Root mean square: the typical size of the numbers in x (n).
static double rms_of(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return sqrt(s / n);
}

// The first (up to 6) of x's n values.
static void print_values(const char *label, const float *x, int n) {
    int shown = n < 6 ? n : 6;
    printf("    %-14s", label);
    for (int i = 0; i < shown; i++) printf(" %7.3f", x[i]);
    printf("%s\n", n > shown ? "  ..." : "");
}

// ---- narration -----------------------------------------------------------------

// region: narrate-layernorm
// LayerNorm of one token (C) with unit weight and zero bias: mean 0, std 1.
static void narrate_layernorm(const float *token, int C, int t) {
    float *one = xmalloc(sizeof(float) * C), *zero = xcalloc(C, sizeof(float));
    float *normed = xmalloc(sizeof(float) * C); // (C)
    for (int c = 0; c < C; c++) one[c] = 1.0f;
    layernorm_forward(normed, NULL, NULL, token, one, zero, 1, C);
    printf("  token %d, the patch at the centre of the grid, C = %d numbers:\n", t, C);
    print_values("token", token, C);
    printf("    mean %.4f, standard deviation %.4f\n", tidy(narrate_mean(token, C)),
           narrate_std(token, C));
    printf("  LN(token) = (token - mean) / sqrt(var + 1e-6) * weight + bias, weight 1, bias 0:\n");
    print_values("LN(token)", normed, C);
    printf("    mean %.4f, standard deviation %.4f\n", tidy(narrate_mean(normed, C)),
           narrate_std(normed, C));
    free(one);
    free(zero);
    free(normed);
}
// endregion: narrate-layernorm

static void narrate_gelu(void) {
    const float x[] = {-3, -2, -1, -0.75f, -0.5f, 0, 0.5f, 1, 2, 3};
    enum { n = sizeof x / sizeof x[0] };
    float g[n];
    gelu_forward(g, x, n);
    printf("  %6s %9s %20s\n", "x", "ReLU(x)", "GELU(x) = x Phi(x)");
    for (int i = 0; i < n; i++) printf("  %6.2f %9.4f %20.4f\n", x[i], fmaxf(x[i], 0.0f), g[i]);
    printf("  GELU follows ReLU far from 0 but bends smoothly through it: small negative\n"
           "  inputs give small negative outputs (least -0.170, at x = -0.752), and it has a\n"
           "  slope everywhere, where ReLU's jumps from 0 to 1.\n");
}

// region: narrate-block
// The shapes through one pre-LN block, from the activations it left behind.
static void narrate_block(const BlockActivations *a, const float *x, const VitConfig *cfg, int T) {
    int C = cfg->hidden_dim, MLP = cfg->mlp_dim, NH = cfg->num_heads;
    size_t tc = (size_t)T * C, tm = (size_t)T * MLP; // B = 1
    char btc[32], bt3c[32], btm[32], att[32];
    snprintf(btc, sizeof btc, "(1,%d,%d)", T, C);
    snprintf(bt3c, sizeof bt3c, "(1,%d,%d)", T, 3 * C);
    snprintf(btm, sizeof btm, "(1,%d,%d)", T, MLP);
    snprintf(att, sizeof att, "(1,%d,%d,%d)", NH, T, T);
    printf("  %-36s %-14s %s\n", "step", "shape", "RMS");
    printf("  %-36s %-14s %.3f\n", "x: the tokens z_0", btc, rms_of(x, tc));
    printf("  %-36s %-14s %.3f\n", "LN1(x)", btc, rms_of(a->ln1, tc));
    printf("  %-36s %-14s %.3f\n", "qkv = LN1(x) in_proj^T + b: q|k|v", bt3c,
           rms_of(a->attn.qkv, 3 * tc));
    printf("  %-36s %-14s %s\n", "att = softmax(q k^T / sqrt(hs))", att, "rows sum to 1");
    printf("  %-36s %-14s %.3f\n", "MHA(LN1(x)): heads, out_proj", btc, rms_of(a->attn_out, tc));
    printf("  %-36s %-14s %.3f\n", "z' = x + MHA(LN1(x))", btc, rms_of(a->res1, tc));
    printf("  %-36s %-14s %.3f\n", "LN2(z')", btc, rms_of(a->ln2, tc));
    printf("  %-36s %-14s %.3f\n", "fc1 = mlp.0(LN2(z'))", btm, rms_of(a->fc1, tm));
    printf("  %-36s %-14s %.3f\n", "GELU(fc1)", btm, rms_of(a->gelu, tm));
    printf("  %-36s %-14s %.3f\n", "fc2 = mlp.3(GELU(fc1))", btc, rms_of(a->fc2, tc));
    printf("  %-36s %-14s %.3f\n", "out = z' + fc2", btc, rms_of(a->out, tc));
}
// endregion: narrate-block

// region: narrate-stack
// The residual stream through the stack: its size, and what each block adds.
static void narrate_stack(const Encoder *enc) {
    const VitConfig *cfg = &enc->cfg;
    size_t n = (size_t)enc->B * vit_tokens(cfg) * cfg->hidden_dim;
    printf("  %5s %10s %15s %10s %10s\n", "block", "RMS in", "attention adds", "MLP adds",
           "RMS out");
    const float *x = enc->a.tokens;
    for (int l = 0; l < cfg->num_layers; l++) {
        const BlockActivations *a = &enc->a.layers[l];
        printf("  %5d %10.3f %15.3f %10.3f %10.3f\n", l, rms_of(x, n), rms_of(a->attn_out, n),
               rms_of(a->fc2, n), rms_of(a->out, n));
        x = a->out;
    }
    printf("  final LayerNorm: RMS %.3f\n", rms_of(enc->a.out, n));
}
// endregion: narrate-stack

// The encoder's tensors: how many numbers, and layer 0's names and shapes.
static void narrate_params(const Encoder *enc) {
    const VitConfig *cfg = &enc->cfg;
    long long head = (long long)cfg->num_classes * cfg->hidden_dim + cfg->num_classes;
    char a[32], b[32], c[32], all[32];
    printf("  %d tensors, %s numbers in one allocation; the head of chapter 06 adds\n"
           "  K*C + K = %s, for %s in all (vit_param_count says %s).\n",
           enc->params.count, text_with_commas((double)enc->params.total, a, sizeof a),
           text_with_commas((double)head, b, sizeof b),
           text_with_commas((double)enc->params.total + head, c, sizeof c),
           text_with_commas((double)vit_param_count(cfg), all, sizeof all));
    printf("  Their names are torchvision's, so a checkpoint maps one to one:\n");
    for (int i = 0; i < enc->params.count; i++) {
        const TensorEntry *e = &enc->params.entries[i];
        bool later_layer = strstr(e->name, "encoder_layer_") && !strstr(e->name, "layer_0.");
        if (later_layer) continue; // like layer 0's
        printf("    %-61s (", e->name);
        for (int d = 0; d < e->ndim; d++) printf("%s%d", d ? "," : "", e->shape[d]);
        printf(")\n");
        if (strstr(e->name, "layer_0.mlp.3.bias") && cfg->num_layers > 1)
            printf("    ... the same twelve for encoder_layer_1 to encoder_layer_%d\n",
                   cfg->num_layers - 1);
    }
}

// region: variants-table
static void print_variants(void) {
    printf("  %-10s %6s %6s %6s %6s %7s %13s %8s\n", "model", "layers", "width", "MLP", "heads",
           "tokens", "parameters", "GFLOPs");
    for (int i = 0; i < vit_variant_count; i++) {
        const VitConfig *c = &vit_variants[i].config;
        char params[32];
        printf("  %-10s %6d %6d %6d %6d %7d %13s %8.1f\n", vit_variants[i].name, c->num_layers,
               c->hidden_dim, c->mlp_dim, c->num_heads, vit_tokens(c),
               text_with_commas((double)vit_param_count(c), params, sizeof params),
               vit_forward_flops(c) / 1e9);
    }
}
// endregion: variants-table

// ---- figures -------------------------------------------------------------------

// GELU and ReLU on [-4, 4], and their slopes (GELU's by central differences).
static void figure_gelu(const char *dir) {
    enum { n = 401 };
    float x[n], g[n], xp[n], gp[n], xm[n], gm[n];
    const float h = 1e-2f;
    for (int i = 0; i < n; i++) {
        x[i] = -4.0f + 8.0f * i / (n - 1);
        xp[i] = x[i] + h;
        xm[i] = x[i] - h;
    }
    gelu_forward(g, x, n);
    gelu_forward(gp, xp, n);
    gelu_forward(gm, xm, n);
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "gelu_relu", "x relu gelu relu' gelu'", &err), program,
                  &err);
    for (int i = 0; i < n; i++)
        plot_printf(&plot, "%.3f %.6f %.6f %.0f %.6f\n", x[i], fmaxf(x[i], 0.0f), g[i],
                    x[i] > 0 ? 1.0 : 0.0, (gp[i] - gm[i]) / (2 * h));
    plot.width = 1600;
    plot.height = 700;
    narrate_check(
        plot_render(
            &plot,
            "set multiplot layout 1,2 title \"GELU against ReLU\" font ',20'\n"
            "set grid\nset key top left font ',16'\nset xrange [-4:4]\nset xlabel 'x' font ',16'\n"
            "set tics font ',14'\nset xzeroaxis lt -1\nset yzeroaxis lt -1\n"
            "set title 'the function' font ',18'\nset yrange [-0.5:4]\n"
            "set label 1 'least value -0.170 at x = -0.752' at -0.752,-0.32 center font ',14'\n"
            "set object 1 circle at -0.752,-0.170 size 0.06 fc rgb 'black' fs solid front\n"
            "plot DATA using 1:2 with lines lw 4 lc rgb '#e8543e' title 'ReLU(x) = max(x, 0)', \\\n"
            "     '' using 1:3 with lines lw 4 lc rgb '#1f77b4' title 'GELU(x) = x {/Symbol F}(x)'\n"
            "set title 'its slope' font ',18'\nset yrange [-0.2:1.2]\n"
            "unset label 1\nunset object 1\n"
            "plot DATA using 1:4 with steps lw 4 lc rgb '#e8543e' title \"ReLU'(x)\", \\\n"
            "     '' using 1:5 with lines lw 4 lc rgb '#1f77b4' title \"GELU'(x)\"\n"
            "unset multiplot\n",
            &err),
        program, &err);
}

// Images first..first+B-1 of the test set, normalised: (B,1,28,28).
static float *test_images(const FashionMnist *test, int first, int B) {
    int HW = test->rows * test->cols;
    float *images = xmalloc(sizeof(float) * B * HW);
    for (int b = 0; b < B; b++)
        fashion_mnist_normalized(test, (first + b) % test->count, FASHION_MNIST_MEAN,
                                 FASHION_MNIST_STD, images + (size_t)b * HW);
    return images;
}

// The residual stream's size after each block of a freshly initialised stack of
// `depth` blocks, and the size of what each block adds to it.
static void figure_depth(const char *dir, const VitConfig *tiny, int depth, int seed,
                         const FashionMnist *test) {
    VitConfig cfg = *tiny;
    cfg.num_layers = depth;
    Encoder enc;
    encoder_build(&enc, &cfg, DEPTH_IMAGES);
    Rng rng;
    rng_seed(&rng, (uint64_t)seed);
    encoder_init(&enc, &rng);
    float *images = test_images(test, 0, DEPTH_IMAGES);
    encoder_forward(&enc, images);
    size_t n = (size_t)DEPTH_IMAGES * vit_tokens(&cfg) * cfg.hidden_dim;
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "residual_depth",
                             "block l  RMS(stream after l)  RMS(attention adds)  RMS(MLP adds)  "
                             "RMS(block adds)/RMS(stream before)",
                             &err),
                  program, &err);
    // region: depth-figure
    plot_printf(&plot, "0 %.6f NaN NaN NaN\n", rms_of(enc.a.tokens, n));
    const float *x = enc.a.tokens; // z_0
    float *added = xmalloc(sizeof(float) * n);
    for (int l = 0; l < depth; l++) {
        const BlockActivations *a = &enc.a.layers[l];
        for (size_t i = 0; i < n; i++) added[i] = a->out[i] - x[i];
        plot_printf(&plot, "%d %.6f %.6f %.6f %.6f\n", l + 1, rms_of(a->out, n),
                    rms_of(a->attn_out, n), rms_of(a->fc2, n), rms_of(added, n) / rms_of(x, n));
        x = a->out;
    }
    free(added);
    // endregion: depth-figure
    char script[2048];
    snprintf(
        script, sizeof script,
        "set multiplot layout 1,2 title \"Pre-LN blocks at initialisation: C = %d, %d blocks, "
        "seed %d, %d test images\" font ',18'\n"
        "set grid\nset key top left font ',14'\nset tics font ',14'\n"
        "set xlabel 'blocks applied' font ',16'\nset xrange [0:%d]\n"
        "set title 'sizes (RMS)' font ',16'\nset yrange [0:*]\n"
        "plot DATA using 1:2 with linespoints lw 3 pt 7 lc rgb '#1f77b4' title 'residual stream z_l', \\\n"
        "     '' using 1:3 with linespoints lw 3 pt 5 lc rgb '#e8543e' title 'attention adds', \\\n"
        "     '' using 1:4 with linespoints lw 3 pt 9 lc rgb '#2ca02c' title 'MLP adds'\n"
        "set title 'how much each block changes the stream' font ',16'\n"
        "set ylabel 'RMS(z_l - z_{l-1}) / RMS(z_{l-1})' font ',14'\nset key top right\n"
        "plot DATA using 1:5 with linespoints lw 3 pt 7 lc rgb '#9467bd' title 'relative update'\n"
        "unset multiplot\n",
        cfg.hidden_dim, depth, seed, DEPTH_IMAGES, depth);
    plot.width = 1600;
    plot.height = 700;
    narrate_check(plot_render(&plot, script, &err), program, &err);
    free(images);
    encoder_free(&enc);
}

// Parameters and GFLOPs of the variants, /16 beside /32, log scale.
static void figure_variants(const char *dir) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "variants",
                             "size  params/16 params/32 (millions)  GFLOPs/16 GFLOPs/32", &err),
                  program, &err);
    for (int i = 0; i + 1 < vit_variant_count; i += 2) {
        const VitConfig *p16 = &vit_variants[i].config, *p32 = &vit_variants[i + 1].config;
        char size[16];
        snprintf(size, sizeof size, "%.*s",
                 (int)(strchr(vit_variants[i].name, '/') - vit_variants[i].name),
                 vit_variants[i].name);
        plot_printf(&plot, "%s %.2f %.2f %.2f %.2f\n", size, vit_param_count(p16) / 1e6,
                    vit_param_count(p32) / 1e6, vit_forward_flops(p16) / 1e9,
                    vit_forward_flops(p32) / 1e9);
    }
    plot.width = 1600;
    plot.height = 750;
    narrate_check(
        plot_render(
            &plot,
            "set multiplot layout 1,2 title \"The ViT variants at 224x224, 1000 classes\" font ',20'\n"
            "set style data histograms\nset style histogram clustered gap 1\n"
            "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
            "set logscale y\nset grid ytics\nset key top left font ',14'\nset tics font ',14'\n"
            "set title 'parameters (millions)' font ',16'\nset yrange [1:3000]\n"
            "plot DATA using 2:xtic(1) lc rgb '#1f77b4' title 'patch 16', \\\n"
            "     '' using 3 lc rgb '#ff9f1c' title 'patch 32', \\\n"
            "     '' using ($0-1.0/6):2:(sprintf($2 < 10 ? '%.1f' : '%.0f', $2)) with labels rotate by 90 left offset 0,0.5 font ',14' notitle, \\\n"
            "     '' using ($0+1.0/6):3:(sprintf($3 < 10 ? '%.1f' : '%.0f', $3)) with labels rotate by 90 left offset 0,0.5 font ',14' notitle\n"
            "set title 'GFLOPs per image (multiply-add = 2)' font ',16'\nset yrange [0.5:2000]\n"
            "plot DATA using 4:xtic(1) lc rgb '#1f77b4' title 'patch 16', \\\n"
            "     '' using 5 lc rgb '#ff9f1c' title 'patch 32', \\\n"
            "     '' using ($0-1.0/6):4:(sprintf('%.1f', $4)) with labels rotate by 90 left offset 0,0.5 font ',14' notitle, \\\n"
            "     '' using ($0+1.0/6):5:(sprintf('%.1f', $5)) with labels rotate by 90 left offset 0,0.5 font ',14' notitle\n"
            "unset multiplot\n",
            &err),
        program, &err);
}

// ---- the chapter -----------------------------------------------------------------

static void run_chapter(const Options *opt, const FashionMnist *test, const VitConfig *cfg) {
    int T = vit_tokens(cfg), side = cfg->image_size / cfg->patch_size, C = cfg->hidden_dim;
    Encoder enc;
    encoder_build(&enc, cfg, 1);
    Rng rng;
    rng_seed(&rng, (uint64_t)opt->seed);
    encoder_init(&enc, &rng);
    float *image = test_images(test, opt->index, 1); // (1,1,28,28)
    encoder_forward(&enc, image);
    printf("A tiny ViT encoder for %dx%d Fashion-MNIST images: patch %d (%d patches, T = %d\n"
           "tokens), width C = %d, NH = %d heads of hs = %d, MLP %d, L = %d blocks; weights\n"
           "drawn with seed %d. Test image %d (\"%s\"), its pixels normalised with\n"
           "mean %.4f and std %.4f.\n",
           cfg->image_size, cfg->image_size, cfg->patch_size, T - 1, T, C, cfg->num_heads,
           C / cfg->num_heads, cfg->mlp_dim, cfg->num_layers, opt->seed, opt->index,
           fashion_mnist_class_names[test->labels[opt->index]], FASHION_MNIST_MEAN,
           FASHION_MNIST_STD);
    int t = 1 + (side / 2) * side + side / 2; // the patch at the centre of the grid
    printf("\n1. LayerNorm on one token\n");
    narrate_layernorm(enc.a.tokens + (size_t)t * C, C, t);
    printf("\n2. GELU against ReLU\n");
    narrate_gelu();
    printf("\n3. One pre-LN block (encoder_layer_0), B = 1\n");
    narrate_block(&enc.a.layers[0], enc.a.tokens, cfg, T);
    printf("  The block's output has the shape of its input, so blocks stack.\n");
    printf("\n4. The stack: %d blocks, then a final LayerNorm into (1,%d,%d)\n", cfg->num_layers, T,
           C);
    narrate_stack(&enc);
    printf("  the class token's output, y = LN(z_L^0), which the head of chapter 06 reads:\n");
    print_values("y", enc.a.out, C);
    printf("\n");
    narrate_params(&enc);
    free(image);
    encoder_free(&enc);
}

int main(int argc, char **argv) {
    Options opt = {.data_dir = NULL,
                   .index = 0,
                   .model = vit_small,
                   .seed = 0,
                   .depth = 24,
                   .out = "figures/ch05"};
    CliOption options[] = {
        fashion_mnist_data_option(&opt.data_dir),
        cli_index_option(&opt.index, "which test image to encode"),
        {"width", CLI_INT, &opt.model.hidden_dim, "width C of the tokens", 1, 1024, "C"},
        {"heads", CLI_INT, &opt.model.num_heads, "attention heads NH (must divide the width)", 1,
         64, "NH"},
        {"mlp", CLI_INT, &opt.model.mlp_dim, "hidden width of the MLP", 1, 4096, NULL},
        {"layers", CLI_INT, &opt.model.num_layers, "encoder blocks L", 1, 64, "L"},
        {"patch", CLI_INT, &opt.model.patch_size, "patch size P (must divide 28)", 1, 28, "P"},
        {"seed", CLI_INT, &opt.seed, "seed for the weights", 0, 2147483647, NULL},
        {"depth", CLI_INT, &opt.depth, "blocks in the activation-size figure", 1, 96, "L"},
        cli_out_option(&opt.out),
    };
    cli_parse_or_exit(argc, argv, "Chapter 05: the Transformer encoder.", options,
                      sizeof options / sizeof options[0]);
    vit_config_check_flags(&opt.model, DEPTH_IMAGES, program);
    const VitConfig cfg = opt.model;
    FashionMnist test;
    Error err;
    fashion_mnist_load_test_or_exit(&test, program, opt.data_dir, cfg.image_size, opt.index);
    narrate_check(make_dirs(opt.out, &err), program, &err);

    printf("Chapter 05: the encoder\n\n");
    run_chapter(&opt, &test, &cfg);
    printf("\n5. The model variants (224x224 RGB, 1000 classes; GFLOPs per image,\n"
           "   counting a multiply-add as 2)\n");
    print_variants();
    figure_gelu(opt.out);
    figure_depth(opt.out, &cfg, opt.depth, opt.seed, &test);
    figure_variants(opt.out);
    printf("\nFigures written to %s/: gelu_relu, residual_depth, variants\n", opt.out);
    fashion_mnist_free(&test);
    return 0;
}

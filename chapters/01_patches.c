// 01_patches.c — chapter 01: an image becomes a sequence of patches.
//
// A Transformer reads a sequence of vectors. A ViT gets one from an image by
// cutting it into P x P patches and flattening each. This program does that to
// a Fashion-MNIST picture (and to your own picture with --image), puts the
// patches back to show nothing is lost, and counts what attention would cost
// if every pixel were a token instead.
//
//   build/ch01_patches [--patch 7] [--index 0] [--image photo.jpg] [--out figures/ch01]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ch01.h"

typedef struct {
    const char *data_dir; // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    int index;            // which test image
    int patch;            // P for the Fashion-MNIST image
    const char *image;    // a picture of the user's (PNG or JPEG), or NULL
    int image_patch;      // P for that picture, squared to IMAGE_SIDE
    const char *out;      // where the figures go
} Options;

enum { IMAGE_SIDE = 224 }; // the ViT's usual input size

static const char *program = "ch01_patches";

// ---- narration ---------------------------------------------------------------

// The picture in the terminal, with the patch grid drawn on it.
static void print_ascii(const float *x, int H, int W, int P) { // x: (H,W) in [0,1]
    static const char shades[] = " .:-=+*#%@";
    for (int y = 0; y < H; y++) {
        if (y % P == 0) {
            printf("   ");
            for (int i = 0; i < W + W / P + 1; i++) putchar(i % (P + 1) == 0 ? '+' : '-');
            putchar('\n');
        }
        printf("   ");
        for (int i = 0; i < W; i++) {
            if (i % P == 0) putchar('|');
            putchar(shades[(int)(x[y * W + i] * 9.0f + 0.5f)]);
        }
        printf("|\n");
    }
    printf("   ");
    for (int i = 0; i < W + W / P + 1; i++) putchar(i % (P + 1) == 0 ? '+' : '-');
    putchar('\n');
}

// region: narrate-patches
// Cuts the image (Cin,H,W) into patches, narrates the shapes, checks the round
// trip; returns the patch rows (N, Cin*P*P) for the figures.
static float *cut_into_patches(const float *image, int Cin, int H, int W, int P) {
    int N = patch_count(H, W, P);
    int D = Cin * P * P;
    float *patches = xmalloc(sizeof(float) * N * D);        // (N, D)
    float *restored = xmalloc(sizeof(float) * Cin * H * W); // (Cin, H, W)
    patchify(patches, image, 1, Cin, H, W, P);
    unpatchify(restored, patches, 1, Cin, H, W, P);

    printf("  image   (B,Cin,H,W)   = (1,%d,%d,%d)\n", Cin, H, W);
    printf("  P = %d cuts it into a %d x %d grid: N = %d patches\n", P, H / P, W / P, N);
    printf("  each patch is %d x %d pixels x %d channel%s = %d numbers\n", P, P, Cin,
           Cin == 1 ? "" : "s", D);
    printf("  patches (B,N,Cin*P*P) = (1,%d,%d): a sequence of %d tokens\n", N, D, N);
    printf("  unpatchify(patchify(image)) differs from the image by at most %g\n",
           narrate_max_abs_difference(image, restored, Cin * H * W));
    free(restored);
    return patches;
}
// endregion: narrate-patches

// region: token-counts
// Tokens and attention-map entries for one image, pixels as tokens versus patches.
static void print_token_counts(void) {
    printf("  %-22s %12s %20s\n", "input", "tokens n", "attention entries n^2");
    struct {
        const char *what;
        double tokens;
    } rows[] = {
        {"28x28x1, pixels", 28.0 * 28},
        {"28x28x1, 7x7 patches", 16},
        {"224x224x3, pixels", 224.0 * 224 * 3},
        {"224x224x3, 16x16", 196},
        {"224x224x3, 32x32", 49},
        {"300x300x3, pixels", 300.0 * 300 * 3},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char tokens[32], entries[32];
        printf("  %-22s %12s %20s\n", rows[i].what,
               text_with_commas(rows[i].tokens, tokens, sizeof tokens),
               text_with_commas(rows[i].tokens * rows[i].tokens, entries, sizeof entries));
    }
    double n = 300.0 * 300 * 3;
    printf(
        "  300x300x3 pixels as tokens: 270,000 tokens, %.1f billion entries in ONE attention map,\n"
        "  %.0f GB in float32, for each head of each layer. With 16x16 patches at 224x224:\n"
        "  196 patches (197 tokens with the class token), 38,809 entries.\n",
        n * n / 1e9, n * n * 4 / 1e9);
}
// endregion: token-counts

// region: complexity
// Cost per layer for a sequence of n vectors of width d (Vaswani et al., 2017, table 1).
static void print_layer_complexity(int n, int d, int k) {
    printf("  %-16s %-14s %s\n", "layer", "cost", "for n = 197, d = 768, k = 3");
    printf("  %-16s %-14s %.2e multiply-adds\n", "self-attention", "O(n^2 d)", (double)n * n * d);
    printf("  %-16s %-14s %.2e\n", "recurrent", "O(n d^2)", (double)n * d * d);
    printf("  %-16s %-14s %.2e\n", "convolution", "O(k n d^2)", (double)k * n * d * d);
    printf("  Attention is cheaper than a convolution while n < k d, but grows with the square\n"
           "  of the sequence length: that is why a ViT feeds it patches, not pixels.\n");
}
// endregion: complexity

// ---- figures -----------------------------------------------------------------

// The image (Cin,H,W) with the patch grid and each patch's place in the sequence.
static void figure_patch_grid(const char *dir, const char *name, const float *image, int Cin, int H,
                              int W, int P, const char *title) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, name,
                             "x y pixel (gray, or r g b); then patch centres x y index", &err),
                  program, &err);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            plot_printf(&plot, "%d %d", x, y);
            for (int c = 0; c < Cin; c++)
                plot_printf(&plot, " %.0f", 255.0f * image[(c * H + y) * W + x]);
            plot_printf(&plot, "\n");
        }
    plot_end_block(&plot);
    for (int n = 0; n < patch_count(H, W, P); n++)
        plot_printf(&plot, "%g %g %d\n", (n % (W / P)) * P + (P - 1) / 2.0,
                    (n / (W / P)) * P + (P - 1) / 2.0, n);
    char script[2048];
    snprintf(
        script, sizeof script,
        "set title \"%s\"\n"
        "set size ratio -1\nunset key\nunset colorbox\nunset border\nunset tics\n"
        "set xrange [-0.5:%d-0.5]\nset yrange [%d-0.5:-0.5]\n"
        "set palette gray\n"
        "do for [i=0:%d] { set arrow from i*%d-0.5, graph 0 to i*%d-0.5, graph 1 nohead front lc rgb '#e8543e' lw 2 }\n"
        "do for [j=0:%d] { set arrow from graph 0, first j*%d-0.5 to graph 1, first j*%d-0.5 nohead front lc rgb '#e8543e' lw 2 }\n"
        "plot DATA index 0 using 1:2:%s with %s, \\\n"
        "     DATA index 1 using 1:2:3 with labels font ',%d' textcolor rgb '#ffd23f'\n",
        title, W, H, W / P, P, P, H / P, P, P, Cin == 1 ? "3" : "3:4:5",
        Cin == 1 ? "image" : "rgbimage", patch_count(H, W, P) > 64 ? 9 : 22);
    plot.width = plot.height = 1000;
    narrate_check(plot_render(&plot, script, &err), program, &err);
}

// The patch rows as pictures, in sequence order: what the Transformer is given.
static void figure_patch_sequence(const char *dir, const char *name, const float *patches, int N,
                                  int Cin, int P, int columns) {
    int scale = P < 12 ? 8 : 2;
    Image *tiles = xmalloc(sizeof(Image) * N);
    for (int n = 0; n < N; n++) {
        Image small = image_from_planes(patches + (size_t)n * Cin * P * P, Cin, P, P);
        tiles[n] = image_upscale(&small, scale);
        image_free(&small);
    }
    Image grid = image_grid(tiles, N, columns, 4, (Rgb){255, 255, 255});
    char path[1024];
    Error err;
    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    narrate_check(image_write_png(path, &grid, &err), program, &err);
    for (int n = 0; n < N; n++) image_free(&tiles[n]);
    free(tiles);
    image_free(&grid);
}

// The (N, Cin*P*P) matrix itself, one token per row: what the embedding multiplies.
static void figure_patch_matrix(const char *dir, const float *patches, int N, int D) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, dir, "patch_matrix",
                             "patch rows (N, Cin*P*P) as a matrix, one token per line", &err),
                  program, &err);
    for (int n = 0; n < N; n++) {
        for (int d = 0; d < D; d++) plot_printf(&plot, "%s%.4f", d ? " " : "", patches[n * D + d]);
        plot_printf(&plot, "\n");
    }
    char script[1024];
    snprintf(script, sizeof script,
             "%s\nset title 'The patch sequence as a matrix: one token per row'\n"
             "set xlabel 'number within the patch (channel, row, column): %d in all'\n"
             "set ylabel 'token = patch index'\n"
             "set xrange [-0.5:%d-0.5]\nset yrange [%d-0.5:-0.5]\nset ytics 1\n"
             "set cbrange [0:1]\nset cblabel 'pixel value'\n"
             "plot DATA matrix with image notitle\n",
             colormap_viridis_gnuplot(), D, D, N);
    plot.height = 640;
    narrate_check(plot_render(&plot, script, &err), program, &err);
}

// region: token-figure
// Tokens and attention entries against image side, log scale: pixels as tokens
// (every RGB value a token, as in the 300x300x3 example) versus 16x16 and 32x32 patches.
static void figure_tokens_vs_resolution(const char *dir) {
    Error err;
    Plot plot;
    narrate_check(
        plot_begin(&plot, dir, "tokens_vs_resolution",
                   "side  tokens:pixels p16 p32  entries:pixels p16 p32; then marked examples",
                   &err),
        program, &err);
    for (int side = 32; side <= 1024; side += 32) {
        double pixels = 3.0 * side * side, p16 = (side / 16.0) * (side / 16.0), p32 = p16 / 4;
        plot_printf(&plot, "%d %.0f %.0f %.0f %.6g %.6g %.6g\n", side, pixels, p16, p32,
                    pixels * pixels, p16 * p16, p32 * p32);
    }
    plot_end_block(&plot);
    plot_printf(
        &plot,
        "300 270000 7.29e10 \"300x300x3 as pixels: 270,000 tokens\" \"72.9 billion entries\"\n");
    plot_printf(&plot, "224 196 38416 \"224x224, 16x16 patches: 196\" \"38,416 entries\"\n");
    plot.width = 1600;
    narrate_check(
        plot_render(
            &plot,
            "set multiplot layout 1,2 title \"Why a ViT cuts the image into patches\"\n"
            "set logscale y\nset format y '10^{%L}'\nset grid\nset key bottom right opaque\n"
            "set xlabel 'image side (pixels)'\nset xrange [0:1050]\n"
            "set ylabel 'tokens per image'\nset yrange [1:1e8]\n"
            "plot DATA index 0 using 1:2 with lines lw 3 title 'pixels (x3 channels)', \\\n"
            "     '' index 0 using 1:3 with lines lw 3 title '16x16 patches', \\\n"
            "     '' index 0 using 1:4 with lines lw 3 title '32x32 patches', \\\n"
            "     '' index 1 using 1:2 with points pt 7 ps 2 lc rgb 'black' notitle, \\\n"
            "     '' index 1 using 1:2:4 with labels offset 1,-1 left font ',16' notitle\n"
            "set ylabel 'entries in one attention map (n^2)'\nset yrange [1:1e15]\n"
            "plot DATA index 0 using 1:5 with lines lw 3 title 'pixels (x3 channels)', \\\n"
            "     '' index 0 using 1:6 with lines lw 3 title '16x16 patches', \\\n"
            "     '' index 0 using 1:7 with lines lw 3 title '32x32 patches', \\\n"
            "     '' index 1 using 1:3 with points pt 7 ps 2 lc rgb 'black' notitle, \\\n"
            "     '' index 1 using 1:3:5 with labels offset 1,-1 left font ',16' notitle\n"
            "unset multiplot\n",
            &err),
        program, &err);
}
// endregion: token-figure

// ---- the chapter ---------------------------------------------------------------

// Reads every input and checks every size before anything is printed or written.
static void load_inputs(const Options *opt, FashionMnist *test, Image *photo) {
    Error err;
    fashion_mnist_load_test_or_exit(test, program, opt->data_dir, FASHION_MNIST_SIDE, opt->index);
    cli_check_or_exit(patch_check(test->rows, test->cols, opt->patch, &err), program, "patch",
                      opt->patch, &err);
    if (opt->image == NULL) return;
    cli_check_or_exit(patch_check(IMAGE_SIDE, IMAGE_SIDE, opt->image_patch, &err), program,
                      "image-patch", opt->image_patch, &err);
    narrate_check(image_read(opt->image, 3, photo, &err), program, &err);
}

static void fashion_mnist_part(const Options *opt, const FashionMnist *test) {
    int H = test->rows, W = test->cols, P = opt->patch;
    float *image = xmalloc(sizeof(float) * H * W); // (1,H,W)
    fashion_mnist_image(test, opt->index, image);
    printf("1. The image: Fashion-MNIST test image %d, labelled \"%s\", from %s\n\n", opt->index,
           fashion_mnist_class_names[test->labels[opt->index]], fashion_mnist_dir(opt->data_dir));
    print_ascii(image, H, W, P);
    printf("\n2. Cutting it into patches\n");
    float *patches = cut_into_patches(image, 1, H, W, P);
    int N = patch_count(H, W, P);
    figure_patch_grid(opt->out, "patch_grid", image, 1, H, W, P, "Patches in sequence order");
    figure_patch_sequence(opt->out, "patch_sequence", patches, N, 1, P, N <= 16 ? N : W / P);
    figure_patch_matrix(opt->out, patches, N, P * P);
    free(patches);
    free(image);
}

static void own_image_part(const Options *opt, const Image *photo) {
    int P = opt->image_patch;
    Image square = image_square(photo, IMAGE_SIDE);
    printf("\n   Your image %s (%dx%d) is cropped to its centre square and resized to %dx%d.\n",
           opt->image, photo->width, photo->height, IMAGE_SIDE, IMAGE_SIDE);
    float *planes = xmalloc(sizeof(float) * 3 * IMAGE_SIDE * IMAGE_SIDE); // (3,224,224)
    image_to_planes(&square, planes);
    float *patches = cut_into_patches(planes, 3, IMAGE_SIDE, IMAGE_SIDE, P);
    int N = patch_count(IMAGE_SIDE, IMAGE_SIDE, P);
    figure_patch_grid(opt->out, "patch_grid_image", planes, 3, IMAGE_SIDE, IMAGE_SIDE, P,
                      "Your image in patches, sequence order");
    figure_patch_sequence(opt->out, "patch_sequence_image", patches, N, 3, P, IMAGE_SIDE / P);
    free(patches);
    free(planes);
    image_free(&square);
}

int main(int argc, char **argv) {
    Options opt = {.data_dir = NULL,
                   .index = 0,
                   .patch = 7,
                   .image = NULL,
                   .image_patch = 16,
                   .out = "figures/ch01"};
    CliOption options[] = {
        fashion_mnist_data_option(&opt.data_dir),
        cli_index_option(&opt.index, "which test image to cut"),
        {"patch", CLI_INT, &opt.patch, "patch size P for the 28x28 image (must divide 28)", 1, 28,
         "P"},
        {"image", CLI_STRING, &opt.image, "also cut your own PNG or JPEG picture", 0, 0, "FILE"},
        {"image-patch", CLI_INT, &opt.image_patch, "patch size for that picture, taken at 224x224",
         1, IMAGE_SIDE, "P"},
        cli_out_option(&opt.out),
    };
    cli_parse_or_exit(argc, argv, "Chapter 01: an image becomes a sequence of patches.", options,
                      sizeof options / sizeof options[0]);
    FashionMnist test;
    Image photo = {0};
    load_inputs(&opt, &test, &photo);
    Error err;
    narrate_check(make_dirs(opt.out, &err), program, &err);

    printf("Chapter 01: patches\n\n");
    fashion_mnist_part(&opt, &test);
    if (opt.image) own_image_part(&opt, &photo);
    printf("\n3. Why not one token per pixel?\n");
    print_token_counts();
    printf("\n4. What one layer costs\n");
    print_layer_complexity(197, 768, 3);
    figure_tokens_vs_resolution(opt.out);
    printf(
        "\nFigures written to %s/: patch_grid, patch_sequence, patch_matrix, tokens_vs_resolution%s\n",
        opt.out, opt.image ? ", patch_grid_image, patch_sequence_image" : "");
    image_free(&photo);
    fashion_mnist_free(&test);
    return 0;
}

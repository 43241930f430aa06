// 11_pretrained.c — chapter 11: the paper's ViT-B/16 at 224x224 on real
// pretrained weights. It opens torchvision's vit_b_16 (ImageNet-1k, 81.07%
// top-1) converted by tools/convert_weights.py, or one of the paper's own JAX
// checkpoints converted the same way; makes a photo into what the model takes
// (torchvision's preset: shorter side to 256, centre crop 224, normalised);
// runs the model, prints the top-5 classes, and draws the attention rollout
// over the photo (the paper's Figure 6) and the top-5 beside it.
//
//   build/ch11_pretrained                    the converted weights, scikit-image's cat
//   build/ch11_pretrained --image FILE       your own photo (PNG or JPEG)
//   build/ch11_pretrained --weights FILE     another converted checkpoint
//   build/ch11_pretrained --random           no weights on the machine: the same
//                                            model on random weights (shapes, count, time)
#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "ch11.h"

enum { TOP = 5, TIMED = 3, MAX_LAYERS = 64 };
// scikit-image's sample photo (Debian's python3-skimage): Chelsea the cat, 451x300
#define DEFAULT_PHOTO "/usr/lib/python3/dist-packages/skimage/data/chelsea.png"
#define PHOTO_PACKAGE "python3-skimage"

typedef struct {
    const char *weights, *image, *out;
    bool random;
    int seed, threads;
} Options;

static const char *program = "ch11_pretrained";

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

// ---- the weights ---------------------------------------------------------------------

// region: no-weights
// No converted weights: what to do, in full, and exit 1.
static _Noreturn void explain_weights(const char *path) {
    fprintf(stderr,
            "%s: %s not found: no pretrained weights (--random runs without them)\n"
            "The weights come once from a machine with internet access:\n"
            "  torchvision's ViT-B/16 (ImageNet-1k, 81.07%% top-1, 330 MB):\n"
            "    wget https://download.pytorch.org/models/vit_b_16-c867db91.pth\n"
            "    /usr/bin/python3 tools/convert_weights.py vit_b_16-c867db91.pth %s\n"
            "  or the paper's own (JAX, GELU in its tanh form), for example:\n"
            "    wget https://storage.googleapis.com/vit_models/augreg/"
            "B_16-i21k-300ep-lr_0.001-aug_medium1-wd_0.1-do_0.0-sd_0.0--imagenet2012-steps_20k-"
            "lr_0.01-res_224.npz\n"
            "    /usr/bin/python3 tools/convert_weights.py B_16-...-res_224.npz %s\n"
            "  (tools/convert_weights.py needs Debian's python3-torch and python3-torchvision:\n"
            "  tools/deps.sh python). Without weights, --random runs the same model on\n"
            "  random weights: the shapes, the parameter count and the time, not the answer.\n",
            program, path, path, path);
    exit(1);
}
// endregion: no-weights

// ---- the photo -----------------------------------------------------------------------

// A photo-like picture when there is none: a lit ball on a graded ground, 320x240.
static Image synthetic_photo(void) {
    int W = 320, H = 240;
    Image img = image_new(W, H, 3);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double dx = (x - 200.0) / 70.0, dy = (y - 110.0) / 70.0, r2 = dx * dx + dy * dy;
            double sky = 0.35 + 0.4 * y / H, light = r2 < 1.0 ? 0.35 + 0.6 * sqrt(1.0 - r2) : 0.0;
            double rgb[3] = {r2 < 1.0 ? light : 0.25 * sky, r2 < 1.0 ? 0.55 * light : 0.5 * sky,
                             r2 < 1.0 ? 0.2 * light : sky};
            for (int c = 0; c < 3; c++)
                img.pixels[((size_t)y * W + x) * 3 + c] = (unsigned char)lround(255.0 * rgb[c]);
        }
    return img;
}

// The photo: --image, else the cat (with weights) or the synthetic picture
// (--random, so that the walkthrough's figures are the same on every machine).
static Image load_photo(const Options *opt, const char **name) {
    Error err;
    Image img;
    const char *path = opt->image;
    if (path == NULL && opt->random) {
        *name = "a synthetic picture (320x240)";
        return synthetic_photo();
    }
    if (path == NULL && !file_exists(DEFAULT_PHOTO)) {
        fprintf(stderr,
                "%s: %s not found: the default photo, scikit-image's cat, comes with Debian's %s "
                "(apt-get install %s); or give one with --image FILE (PNG or JPEG)\n",
                program, DEFAULT_PHOTO, PHOTO_PACKAGE, PHOTO_PACKAGE);
        exit(1);
    }
    if (path == NULL) path = DEFAULT_PHOTO;
    narrate_check(image_read(path, 3, &img, &err), program, &err);
    *name = path;
    return img;
}

// ---- what the model is -------------------------------------------------------------

// region: parameters
// Where the parameters are, by part (the paper's Table 1 row made concrete).
static void print_parameters(const Vit *m) {
    const VitConfig *c = &m->cfg;
    long long C = c->hidden_dim, MLP = c->mlp_dim, P = c->patch_size, T = vit_tokens(c);
    long long L = c->num_layers, Cin = c->in_channels;
    long long embed = C * Cin * P * P + C, tokens = C + T * C;
    long long ln = 4 * C, qkv = 3 * C * C + 3 * C, proj = C * C + C, mlp = 2 * MLP * C + MLP + C;
    long long layer = ln + qkv + proj + mlp, total = vit_model_param_count(c, &m->head);
    long long head = total - (embed + tokens + L * layer + 2 * C); // (K,C) + K, and any pre-logits
    printf("   %-44s %12s %7s\n", "part", "parameters", "share");
    const struct {
        const char *what;
        long long n;
    } rows[] = {
        {"patch embedding conv_proj (C,Cin,P,P) + bias", embed},
        {"class token (C) + position embeddings (T,C)", tokens},
        {"per layer: LayerNorms ln_1, ln_2", ln},
        {"per layer: attention in_proj (3C,C) + bias", qkv},
        {"per layer: attention out_proj (C,C) + bias", proj},
        {"per layer: MLP mlp.0 (MLP,C), mlp.3 (C,MLP)", mlp},
        {"all the layers", L * layer},
        {"final LayerNorm encoder.ln", 2 * C},
        {"head heads.head (K,C) + bias", head},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        printf("   %-44s %12lld %6.2f%%\n", rows[i].what, rows[i].n, 100.0 * rows[i].n / total);
    printf("   %-44s %12lld (%.1f MB as float32)\n", "total", total, 4.0 * total / 1e6);
}
// endregion: parameters

// region: flops
// Where the operations of one image go (a multiply-add is 2).
static void print_flops(const VitConfig *c) {
    double C = c->hidden_dim, MLP = c->mlp_dim, T = vit_tokens(c), N = T - 1, L = c->num_layers;
    double P = c->patch_size, total = vit_forward_flops(c);
    const struct {
        const char *what;
        double n;
    } rows[] = {
        {"patch embedding: (N, Cin*P*P) x (Cin*P*P, C)", 2 * N * c->in_channels * P * P * C},
        {"q, k, v: (T,C) x (C,3C), every layer", L * 2 * T * C * 3 * C},
        {"attention q k^T and att v, every layer", L * 4 * T * T * C},
        {"out_proj: (T,C) x (C,C), every layer", L * 2 * T * C * C},
        {"MLP: (T,C) x (C,MLP) x (MLP,C), every layer", L * 4 * T * C * MLP},
        {"head: the class token only", 2 * C * c->num_classes},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        printf("   %-46s %6.2f GFLOP %5.1f%%\n", rows[i].what, rows[i].n / 1e9,
               100.0 * rows[i].n / total);
    printf("   %-46s %6.2f GFLOP\n", "total", total / 1e9);
    double logits = vit_logits_flops(c);
    printf("   %-46s %6.2f GFLOP %5.1f%%\n", "logits only: last block on the class token",
           logits / 1e9, 100.0 * logits / total);
}
// endregion: flops

// ---- where it looks ------------------------------------------------------------------

// region: rollout
// The class token's row of the rollout through every layer, over the N patches:
// out (N), for image 0 of the last forward. Row 0 of Â_L · R reads row 0 of Â_L
// alone: all the last layer holds after a logits_only forward.
static void class_rollout(float *out, const Vit *m) {
    int T = vit_tokens(&m->cfg), L = m->cfg.num_layers, NH = m->cfg.num_heads;
    assert(L <= MAX_LAYERS);
    const float *layers[MAX_LAYERS];
    for (int l = 0; l < L; l++) layers[l] = m->a.layers[l].attn.att; // image 0: (NH,T,T)
    float *R = xmalloc(sizeof(float) * 3 * (size_t)T * T);
    rollout(R, layers, L, NH, T, R + (size_t)T * T);
    memcpy(out, R + 1, sizeof(float) * (size_t)(T - 1)); // row 0, tokens 1..N
    free(R);
}
// endregion: rollout

// The k largest of x (n): their indices in order, into top (k).
static void top_k(int *top, const float *x, int n, int k) {
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            bool taken = false;
            for (int t = 0; t < j; t++) taken |= top[t] == i;
            if (!taken && (best < 0 || x[i] > x[best])) best = i;
        }
        top[j] = best;
    }
}

// ---- the figures ---------------------------------------------------------------------

// (1) The photo as the model sees it, and the rollout over it: g x g cells, viridis,
// half transparent, scaled to its largest value.
static void figure_rollout(const float *map, int g, int S, int L, const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "attention_rollout",
                             "x y r g b alpha: the class token's attention rollout over the "
                             "patch grid, one line per patch, drawn over photo.png",
                             &err),
                  program, &err);
    float big = 0.0f;
    for (int n = 0; n < g * g; n++) big = fmaxf(big, map[n]);
    int cell = S / g;
    for (int r = 0; r < g; r++) {
        for (int c = 0; c < g; c++) {
            Rgb v = colormap_viridis(big > 0 ? map[r * g + c] / big : 0.0f);
            plot_printf(&plot, "%g %g %d %d %d %d\n", c * cell + (cell - 1) / 2.0,
                        (g - 1 - r) * cell + (cell - 1) / 2.0, v.r, v.g, v.b, 160);
        }
        plot_printf(&plot, "\n");
    }
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot layout 1,2 title \"Where ViT-B/16 looks (the paper's Figure "
                    "6): attention rollout through all %d layers\\n{/*0.75 the photo as the "
                    "model sees it (%dx%d), and the class token's rollout over its %dx%d "
                    "patches}\\n{/*0.75 scaled to its largest value (yellow)}\" font ',18'\n"
                    "unset key\nunset xtics\nunset ytics\nunset colorbox\nset border lw 0.5\n"
                    "set size ratio -1\nset xrange [-0.5:%d.5]\nset yrange [-0.5:%d.5]\n"
                    "set title font ',15'\n"
                    "set title 'the photo'\nplot 'photo.png' binary filetype=png with rgbimage\n"
                    "set title 'attention rollout'\n"
                    "plot 'photo.png' binary filetype=png with rgbimage, \\\n"
                    "     DATA using 1:2:3:4:5:6 with rgbalpha\n"
                    "unset multiplot\n",
                    L, S, S, g, g, S - 1, S - 1);
    plot.width = 1200;
    plot.height = 720;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// (2) The photo beside the top-5 as bars.
static void figure_top5(const int *top, const float *probs, const Pretrained *p, bool random,
                        const Options *opt) {
    Error err;
    Plot plot;
    narrate_check(plot_begin(&plot, opt->out, "top5",
                             "rank, probability, class name: the model's five most likely "
                             "classes for photo.png",
                             &err),
                  program, &err);
    for (int j = 0; j < TOP; j++) {
        char name[64];
        snprintf(name, sizeof name, "%s", p->classes[top[j]]);
        for (char *c = name; *c; c++)
            if (*c == '"' || *c == '\\') *c = '\'';
        plot_printf(&plot, "%d %.6f \"%s\"\n", j + 1, probs[top[j]], name);
    }
    PlotScript s = {0};
    plot_script_add(&s,
                    "set multiplot title \"ViT-B/16's top-5 for the photo%s\" font ',18'\n"
                    "unset key\nset border lw 0.5\n"
                    "set lmargin at screen 0.02\nset rmargin at screen 0.38\n"
                    "set tmargin at screen 0.88\nset bmargin at screen 0.08\n"
                    "unset xtics\nunset ytics\nset size ratio -1\n"
                    "plot 'photo.png' binary filetype=png with rgbimage\n"
                    "set size noratio\nset lmargin at screen 0.62\nset rmargin at screen 0.95\n"
                    "set xrange [0:1]\nset yrange [%d.6:0.4]\nset xtics 0.2 font ',12'\n"
                    "set ytics scale 0 font ',14'\nset grid xtics\n"
                    "set xlabel 'probability' font ',14'\nset style fill solid 0.8\n"
                    "plot DATA using (0):1:(0):2:($1-0.35):($1+0.35):ytic(3) with boxxyerrorbars "
                    "lc rgb '#1f77b4', \\\n"
                    "     DATA using 2:1:(sprintf('  %%.1f%%%%', 100*$2)) with labels left "
                    "font ',12'\n"
                    "unset multiplot\n",
                    random ? " {/*0.75 (random weights: a demonstration of the path, not an "
                             "answer)}"
                           : "",
                    TOP);
    plot.width = 1300;
    plot.height = 560;
    narrate_check(plot_render(&plot, s.text, &err), program, &err);
}

// ---- the chapter -----------------------------------------------------------------------

static void parse_options(int argc, char **argv, Options *opt) {
    *opt = (Options){.weights = PRETRAINED_PATH, .out = "figures/ch11", .seed = 0};
    CliOption options[] = {
        {"weights", CLI_STRING, &opt->weights,
         "the converted checkpoint (tools/convert_weights.py)", 0, 0, "FILE"},
        {"random", CLI_SWITCH, &opt->random,
         "ViT-B/16 on random weights instead (no checkpoint needed)", 0, 0, NULL},
        {"image", CLI_STRING, &opt->image,
         "the photo (PNG or JPEG; default: scikit-image's cat, or with --random a synthetic "
         "picture)",
         0, 0, "FILE"},
        {"seed", CLI_INT, &opt->seed, "the random weights' seed (--random)", 0, 2147483647, NULL},
        {"threads", CLI_INT, &opt->threads, "threads (0: all cores)", 0, 256, "N"},
        cli_out_option(&opt->out),
    };
    cli_parse_or_exit(argc, argv,
                      "Chapter 11: ViT-B/16 on pretrained weights: a photo's top-5 and where "
                      "the model looks.",
                      options, sizeof options / sizeof options[0]);
}

// The model: the checkpoint (which must exist), or ViT-B/16 on random weights;
// *load the seconds it took.
static void open_model(Pretrained *p, const Options *opt, double *load) {
    double start = seconds();
    if (opt->random) {
        const VitConfig *b16 = NULL;
        for (int i = 0; i < vit_variant_count; i++)
            if (strcmp(vit_variants[i].name, "ViT-B/16") == 0) b16 = &vit_variants[i].config;
        assert(b16 != NULL);
        pretrained_random(p, b16, 1, (uint64_t)opt->seed);
    } else {
        Error err;
        narrate_check(pretrained_open(p, opt->weights, 1, &err), program, &err);
    }
    *load = seconds() - start;
}

int main(int argc, char **argv) {
    Options opt;
    parse_options(argc, argv, &opt);
    if (opt.threads > 0) train_set_threads(opt.threads);
    Error err;
    narrate_check(plot_dir_check(opt.out, &err), program, &err);
    // what can be refused cheaply first: the weights' presence, the photo; then the model
    if (!opt.random && !file_exists(opt.weights)) explain_weights(opt.weights);
    const char *photo_name;
    Image photo = load_photo(&opt, &photo_name);
    Pretrained p;
    double load;
    open_model(&p, &opt, &load);
    narrate_check(make_dirs(opt.out, &err), program, &err);
    const Vit *m = &p.vit;
    const VitConfig *c = &m->cfg;
    int S = c->image_size, g = S / c->patch_size, N = g * g, K = c->num_classes;

    printf("Chapter 11: ViT-B/16 on pretrained weights\n\n");
    if (opt.random)
        printf("  weights   random (--random, seed %d): the shapes of ViT-B/16, not its answers\n",
               opt.seed);
    else
        printf("  weights   %s, read in %.2f s\n", opt.weights, load);
    printf("  model     %d layers, width %d, %d heads of %d, MLP %d; %dx%d images in %dx%d "
           "patches:\n            %d patches + the class token = %d tokens; %d classes; GELU "
           "%s form\n",
           c->num_layers, c->hidden_dim, c->num_heads, c->hidden_dim / c->num_heads, c->mlp_dim, S,
           S, c->patch_size, c->patch_size, N, N + 1, K, gelu_form_name(vit_gelu(m)));
    printf("  memory    %.0f MB of weights, %.0f MB of activations for one image (inference "
           "only: no gradients)\n",
           4.0 * m->params.total / 1e6, 4.0 * m->acts.total / 1e6);

    printf("\n1. The %s parameters\n", opt.random ? "model's" : "checkpoint's");
    print_parameters(m);
    printf("\n2. One image's operations\n");
    print_flops(c);

    // region: photo-in
    printf("\n3. The photo: %s, %dx%d\n", photo_name, photo.width, photo.height);
    float *input = xmalloc(sizeof(float) * (size_t)c->in_channels * S * S);
    Image seen;
    preprocess_image(input, &photo, p.resize, p.crop, p.mean, p.std, &seen);
    printf("   shorter side to %d (PIL's bilinear, antialiased), centre %dx%d crop, then\n"
           "   (x/255 - mean)/std per channel, mean (%.3f, %.3f, %.3f), std (%.3f, %.3f, %.3f)\n",
           p.resize, p.crop, p.crop, p.mean[0], p.mean[1 % c->in_channels],
           p.mean[2 % c->in_channels], p.std[0], p.std[1 % c->in_channels],
           p.std[2 % c->in_channels]);
    // endregion: photo-in
    char path[1024];
    narrate_check(path_join(path, sizeof path, opt.out, "photo.png", &err) &&
                      image_write_png(path, &seen, &err),
                  program, &err);

    // region: run
    vit_forward(&p.vit, input, NULL, 1, 0.0f, false); // the first run touches every page
    double best = 1e30;
    for (int i = 0; i < TIMED; i++) {
        double t0 = seconds();
        vit_forward(&p.vit, input, NULL, 1, 0.0f, false);
        best = fmin(best, seconds() - t0);
    }
    float *probs = xmalloc(sizeof(float) * (size_t)K);
    softmax_rows(probs, m->ha.logits, 1, K);
    int top[TOP];
    top_k(top, probs, K, TOP);
    // endregion: run
    printf("\n4. The forward pass: %.3f s for one image (the best of %d, %d threads), %.1f "
           "GFLOP/s\n",
           best, TIMED, m->slices, vit_logits_flops(c) / best / 1e9);
    printf("   top-%d of %d classes%s:\n", TOP, K, opt.random ? " (random weights)" : "");
    for (int j = 0; j < TOP; j++)
        printf("   %d. %-40s %6.2f%%  (logit %.3f)\n", j + 1, p.classes[top[j]],
               100.0 * probs[top[j]], m->ha.logits[top[j]]);

    float *map = xmalloc(sizeof(float) * (size_t)N);
    class_rollout(map, m);
    int peak = narrate_argmax(map, N);
    printf("\n5. Where it looks: the class token's attention rollout through %d layers over "
           "the\n   %dx%d patches peaks at row %d, column %d with %.1f%% of it (uniform: %.2f%%)\n",
           c->num_layers, g, g, peak / g + 1, peak % g + 1, 100.0 * map[peak], 100.0 / N);

    figure_rollout(map, g, S, c->num_layers, &opt);
    figure_top5(top, probs, &p, opt.random, &opt);
    printf("\nFigures written to %s/: photo.png, attention_rollout, top5\n", opt.out);
    free(map), free(probs), free(input);
    image_free(&seen), image_free(&photo);
    pretrained_close(&p);
    return 0;
}

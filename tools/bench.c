// bench.c — the C side of `make bench`: how many images per second this
// library trains and evaluates one of the benchmark models at on this machine.
//
// The models and the work are those of tools/bench_torch.py, chosen by --model:
//     vit     chapter 06's ViT: 28x28 images, P = 7, C = 64, 6 layers, 4 heads,
//             MLP 128, 10 classes, the class token into a linear head
//     hybrid  chapter 07's hybrid: resnet_hybrid_stem's (64,4,4) map as 1x1
//             patches into the same encoder and head
//     cnn     chapter 07's CNN: resnet_cnn_body, global average pooling, a
//             linear head
// Batches of 128 real Fashion-MNIST training images (the first 16 batches of
// the training set in file order, used round and round); AdamW at a constant
// learning rate, weight decay as src/adamw.c decides it, no clipping, no
// dropout, no label smoothing. For each thread count 1..N (OpenMP's; OpenBLAS
// runs single-threaded inside the library's threads), after --warmup untimed
// steps:
//     training  = --steps of forward + cross-entropy + backward + AdamW step
//     inference = --steps forward passes without labels
// images/s = steps * 128 / wall time (clock_gettime, monotonic). Output:
//     c vit flop_per_img train=2.15e+07 infer=7.20e+06
//     c vit threads=1 train_img_per_s=2950.3 infer_img_per_s=9120.8 loss=1.234
//     c vit best train_img_per_s=... infer_img_per_s=...
// FLOPs are counted, not measured: the matrix products' 2*M*N*K (see flops()).
//
// --model vitb16 is chapter 11's ViT-B/16 (224x224x3, P = 16, C = 768, 12
// layers, 12 heads, MLP 3072, 1000 classes), inference only
// (vit_build_inference, random weights from SEED, random images), as chapter 11
// classifies: logits_only, the last block for the class token alone. The best of
// --runs passes at batch 1 and at batch 8, after one untimed pass each, for each
// thread count; and at batch 1 also on every token (logits_only off: the work
// torchvision does), its passes alternated with the others. The FLOPs of one
// image, on every token and for the logits alone, come first:
//     c vitb16 flop_per_img infer=3.51e+10 logits=3.29e+10
//     c vitb16 threads=2 ms_batch1=... ms_batch8=... ms_batch1_all_tokens=...
//     c vitb16 best ms_batch1=... ms_batch8=... ms_batch1_all_tokens=...
//     c vitb16 load_ms=... (346 MB checkpoint, in the page cache)
// the last the best of three checkpoint_load of its weights, saved to
// build/bench_vitb16.safetensors first (removed after).
// --peak measures instead what this machine's matrix products can reach:
// OpenBLAS's sgemm on two 2048x2048 matrices with 1..--max-threads threads
// (OpenBLAS's own), for each the best of 10 after one untimed product, and the
// best of those (on an idle machine, all threads; when other programs hold the
// cores, two threads that wait for each other can fall below one), after the name
// of the kernels OpenBLAS chose for this CPU (or OPENBLAS_CORETYPE named):
//     c sgemm core=Haswell
//     c sgemm n=2048 threads=1 gflop_per_s=97.1
//     c sgemm n=2048 threads=2 gflop_per_s=199.8
//     c sgemm n=2048 best gflop_per_s=199.8
//
//   build/bench [--model vit] [--steps 40] [--warmup 5] [--max-threads 2] [--runs 5]
//               [--data DIR] [--peak]
#include <cblas.h>
#include <assert.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ch07.h"

enum { BATCH = 128, BATCHES = 16, SIDE = 28, PEAK_N = 2048, PEAK_RUNS = 10 };
#define LR           1e-3f
#define WEIGHT_DECAY 0.05f
#define SEED         1

typedef struct {
    const char *data_dir; // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    const char *model;    // "vit", "hybrid" or "cnn"
    int steps;            // timed steps, for training and for inference
    int warmup;           // untimed steps before each
    int max_threads;      // thread counts 1..max_threads are tried
    int runs;             // vitb16: timed passes of each batch size, the best kept
    bool peak;            // measure sgemm's rate instead of a model
} Options;

typedef struct {
    float *images; // (BATCHES,B,1,SIDE,SIDE) normalised
    int *labels;   // (BATCHES,B)
} Batches;

static const char *program = "bench";

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// The first BATCHES*BATCH training images, normalised as the chapters do.
static Batches load_batches(const char *dir) {
    FashionMnist train;
    Error err;
    if (!fashion_mnist_load(&train, dir, FASHION_MNIST_TRAIN, &err)) error_exit(program, &err, 1);
    int n = BATCHES * BATCH, pixels = SIDE * SIDE;
    Batches b = {xmalloc(sizeof(float) * n * pixels), xmalloc(sizeof(int) * n)};
    for (int i = 0; i < n; i++) {
        float *x = b.images + (size_t)i * pixels; // (SIDE,SIDE)
        fashion_mnist_normalized(&train, i, FASHION_MNIST_MEAN, FASHION_MNIST_STD, x);
        b.labels[i] = train.labels[i];
    }
    fashion_mnist_free(&train);
    return b;
}

static const float *batch_images(const Batches *b, int i) {
    return b->images + (size_t)(i % BATCHES) * BATCH * SIDE * SIDE;
}

static const int *batch_labels(const Batches *b, int i) {
    return b->labels + (size_t)(i % BATCHES) * BATCH;
}

// The model called name, built for batches of BATCH and initialised from SEED;
// NULL for an unknown name. Freed by m->kind->close(m).
static Model *model_new(const char *name) {
    Rng rng;
    rng_seed(&rng, SEED);
    HeadOptions head = {0};
    if (strcmp(name, "vit") == 0) {
        Vit *m = xmalloc(sizeof *m);
        vit_build(m, &vit_small, &head, 0.0f, BATCH);
        vit_init(m, &rng);
        return &m->model;
    }
    if (strcmp(name, "hybrid") == 0) {
        Hybrid *m = xmalloc(sizeof *m);
        VitConfig encoder = hybrid_encoder_config(&resnet_hybrid_stem, &vit_small);
        hybrid_build(m, &resnet_hybrid_stem, &encoder, &head, 0.0f, BATCH);
        hybrid_init(m, &rng);
        return &m->model;
    }
    if (strcmp(name, "cnn") == 0) {
        Cnn *m = xmalloc(sizeof *m);
        cnn_build(m, &resnet_cnn_body, vit_small.num_classes, 0.0f, BATCH);
        cnn_init(m, &rng);
        return &m->model;
    }
    return NULL;
}

// One training step on batch i; returns the loss.
static float train_step(Model *m, AdamW *opt, const Batches *b, int i) {
    float loss = model_forward(m, batch_images(b, i), batch_labels(b, i), BATCH, 0.0f, true);
    model_backward(m, batch_labels(b, i), BATCH, 0.0f);
    adamw_step(opt, m->params->memory, m->grads->memory, LR);
    return loss;
}

// Training and inference images/s of the model at the current thread count;
// *loss is the last training step's loss.
static void measure(const Options *o, const Batches *b, double *train, double *infer, float *loss) {
    Model *m = model_new(o->model);
    AdamW opt;
    adamw_build(&opt, m->params, WEIGHT_DECAY);

    for (int i = 0; i < o->warmup; i++) train_step(m, &opt, b, i);
    double start = seconds_now();
    for (int i = 0; i < o->steps; i++) *loss = train_step(m, &opt, b, o->warmup + i);
    *train = (double)o->steps * BATCH / (seconds_now() - start);

    for (int i = 0; i < o->warmup; i++) model_forward(m, batch_images(b, i), NULL, BATCH, 0, false);
    start = seconds_now();
    for (int i = 0; i < o->steps; i++)
        model_forward(m, batch_images(b, o->warmup + i), NULL, BATCH, 0.0f, false);
    *infer = (double)o->steps * BATCH / (seconds_now() - start);

    adamw_free(&opt);
    m->kind->close(m);
}

// ---- FLOPs ----------------------------------------------------------------------

// Floating-point operations of one training step per image: the forward pass,
// and twice its products backward (each product Y = X W gives dX and dW, each as
// costly as Y), less the one product a step does not make: the gradient of the
// images, below the first layer (the patch embedding, or the root convolution).
// Normalisations, activations, the loss and AdamW are not counted.
static double train_flops(const char *name, double forward) {
    const VitConfig *v = &vit_small;
    const ResNetConfig *r = strcmp(name, "hybrid") == 0 ? &resnet_hybrid_stem : &resnet_cnn_body;
    double first;
    if (strcmp(name, "vit") == 0) { // patches (N, Cin*P*P) x conv_proj^T
        double N = vit_tokens(v) - 1, P = v->patch_size;
        first = 2 * N * v->in_channels * P * P * v->hidden_dim;
    } else { // root.conv, as resnet_forward_flops counts it
        double S1 = resnet_root_side(r), K = r->root_kernel;
        first = 2 * S1 * S1 * r->root_width * r->in_channels * K * K;
    }
    return 3 * forward - first;
}

// One forward pass per image, as the models count them (vit_forward_flops, ...).
static double forward_flops(const char *name) {
    if (strcmp(name, "vit") == 0) return vit_forward_flops(&vit_small);
    VitConfig encoder = hybrid_encoder_config(&resnet_hybrid_stem, &vit_small);
    if (strcmp(name, "hybrid") == 0) return hybrid_forward_flops(&resnet_hybrid_stem, &encoder);
    return cnn_forward_flops(&resnet_cnn_body, vit_small.num_classes);
}

// ---- ViT-B/16 -----------------------------------------------------------------------

static const VitConfig *vit_b16(void) {
    for (int i = 0; i < vit_variant_count; i++)
        if (strcmp(vit_variants[i].name, "ViT-B/16") == 0) return &vit_variants[i].config;
    assert(0 && "no ViT-B/16 in vit_variants");
    return NULL;
}

// One forward pass of B images, in milliseconds.
static double pass_ms(Vit *m, const float *images, int B) {
    double start = seconds_now();
    vit_forward(m, images, NULL, B, 0.0f, false);
    return 1e3 * (seconds_now() - start);
}

// The best of o->runs forward passes of B images, in milliseconds, after one untimed.
static double best_pass_ms(Vit *m, const float *images, int B, const Options *o) {
    pass_ms(m, images, B);
    double best = 1e30;
    for (int r = 0; r < o->runs; r++) best = fmin(best, pass_ms(m, images, B));
    return best;
}

// The same for one image both ways, the passes alternated so that both meet the
// machine at the same moments: *logits with logits_only, *all on every token.
static void best_batch1_ms(Vit *m, const float *images, const Options *o, double *logits,
                           double *all) {
    *logits = *all = 1e30;
    for (int r = 0; r <= o->runs; r++) { // pass 0 untimed, each way
        m->logits_only = true;
        double ms = pass_ms(m, images, 1);
        if (r > 0) *logits = fmin(*logits, ms);
        m->logits_only = false;
        ms = pass_ms(m, images, 1);
        if (r > 0) *all = fmin(*all, ms);
    }
}

// The best of three checkpoint_load of m's weights saved to path (then removed), in
// milliseconds: the file is in the page cache, so this is the reading, the checks
// and the copying, not the disk.
static double load_ms(Vit *m, const char *path) {
    Error err;
    if (!checkpoint_save(path, &m->model, 0.5f, 0.5f, &err)) error_exit(program, &err, 1);
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        double start = seconds_now();
        if (!checkpoint_load(path, &m->model, &err)) error_exit(program, &err, 1);
        double ms = 1e3 * (seconds_now() - start);
        best = ms < best ? ms : best;
    }
    remove(path);
    return best;
}

// ViT-B/16 inference at batch 1 and 8 (and 1 on every token), for each thread
// count 1..max_threads; and the time to load its weights from a checkpoint.
static void bench_vitb16(const Options *o) {
    enum { B = 8 };
    const VitConfig *cfg = vit_b16();
    size_t pixels = (size_t)cfg->in_channels * cfg->image_size * cfg->image_size;
    Rng rng;
    rng_seed(&rng, SEED);
    omp_set_num_threads(o->max_threads); // one slice per thread, built for the most threads
    Vit m;
    vit_build_inference(&m, cfg, &(HeadOptions){0}, B);
    vit_init(&m, &rng);
    float *images = xmalloc(sizeof(float) * B * pixels); // (B,3,224,224)
    rng_fill_normal(&rng, images, B * pixels, 0.0f, 1.0f);
    printf("c vitb16 flop_per_img infer=%.3e logits=%.3e\n", vit_forward_flops(cfg),
           vit_logits_flops(cfg));
    double best1 = 1e30, best8 = 1e30, best_all = 1e30;
    for (int n = 1; n <= o->max_threads; n++) {
        omp_set_num_threads(n);
        double ms1, all;
        best_batch1_ms(&m, images, o, &ms1, &all);
        m.logits_only = true;
        double ms8 = best_pass_ms(&m, images, B, o);
        printf("c vitb16 threads=%d ms_batch1=%.1f ms_batch8=%.1f ms_batch1_all_tokens=%.1f\n", n,
               ms1, ms8, all);
        fflush(stdout);
        best1 = ms1 < best1 ? ms1 : best1;
        best8 = ms8 < best8 ? ms8 : best8;
        best_all = all < best_all ? all : best_all;
    }
    printf("c vitb16 best ms_batch1=%.1f ms_batch8=%.1f ms_batch1_all_tokens=%.1f\n", best1, best8,
           best_all);
    printf("c vitb16 load_ms=%.1f (%.0f MB checkpoint, in the page cache)\n",
           load_ms(&m, "build/bench_vitb16.safetensors"), m.params.total * 4.0 / 1e6);
    free(images);
    vit_free(&m);
}

// ---- the machine's rate -----------------------------------------------------------

// OpenBLAS's sgemm on PEAK_N x PEAK_N matrices with 1..o->max_threads threads: for
// each the best GFLOP/s of PEAK_RUNS products, after one untimed; and the best.
static void bench_peak(const Options *o) {
    size_t n = PEAK_N, count = n * n;
    float *a = xmalloc(sizeof(float) * count), *b = xmalloc(sizeof(float) * count);
    float *c = xmalloc(sizeof(float) * count);
    Rng rng;
    rng_seed(&rng, SEED);
    rng_fill_uniform(&rng, a, count, -1.0f, 1.0f);
    rng_fill_uniform(&rng, b, count, -1.0f, 1.0f);
    printf("c sgemm core=%s\n", openblas_get_corename());
    double best = 0.0;
    for (int threads = 1; threads <= o->max_threads; threads++) {
        openblas_set_num_threads(threads);
        double rate_best = 0.0;
        for (int r = 0; r <= PEAK_RUNS; r++) {
            double start = seconds_now();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, PEAK_N, PEAK_N, PEAK_N, 1.0f, a,
                        PEAK_N, b, PEAK_N, 0.0f, c, PEAK_N);
            double rate = 2.0 * n * n * n / (seconds_now() - start) / 1e9;
            if (r > 0) rate_best = rate > rate_best ? rate : rate_best; // the first warms up
        }
        printf("c sgemm n=%d threads=%d gflop_per_s=%.1f\n", PEAK_N, threads, rate_best);
        best = rate_best > best ? rate_best : best;
    }
    printf("c sgemm n=%d best gflop_per_s=%.1f\n", PEAK_N, best);
    free(a);
    free(b);
    free(c);
}

int main(int argc, char **argv) {
    Options opt = {.data_dir = NULL,
                   .model = "vit",
                   .steps = 40,
                   .warmup = 5,
                   .max_threads = 2,
                   .runs = 5,
                   .peak = false};
    CliOption options[] = {
        fashion_mnist_data_option(&opt.data_dir),
        {"model", CLI_STRING, &opt.model, "the model: vit, hybrid, cnn or vitb16", 0, 0, "NAME"},
        {"steps", CLI_INT, &opt.steps, "timed steps, for training and for inference", 1, 100000,
         NULL},
        {"warmup", CLI_INT, &opt.warmup, "untimed steps before each measurement", 0, 1000, NULL},
        {"max-threads", CLI_INT, &opt.max_threads, "thread counts 1..N are tried, the best kept", 1,
         256, NULL},
        {"runs", CLI_INT, &opt.runs, "vitb16: timed passes of each batch size, the best kept", 1,
         1000, NULL},
        {"peak", CLI_SWITCH, &opt.peak, "measure OpenBLAS sgemm's GFLOP/s instead of a model", 0, 0,
         NULL},
    };
    cli_parse_or_exit(argc, argv, "Training and inference speed of a benchmark model in C.",
                      options, sizeof options / sizeof options[0]);
    if (opt.peak) {
        bench_peak(&opt);
        return 0;
    }
    if (strcmp(opt.model, "vitb16") == 0) {
        bench_vitb16(&opt);
        return 0;
    }
    Model *probe = model_new(opt.model);
    if (probe == NULL) {
        fprintf(stderr, "%s: --model %s: not vit, hybrid, cnn or vitb16\n", program, opt.model);
        return 2;
    }
    probe->kind->close(probe);
    double forward = forward_flops(opt.model);
    printf("c %s flop_per_img train=%.3e infer=%.3e\n", opt.model, train_flops(opt.model, forward),
           forward);
    Batches b = load_batches(fashion_mnist_dir(opt.data_dir));

    double best_train = 0, best_infer = 0;
    for (int n = 1; n <= opt.max_threads; n++) {
        omp_set_num_threads(n); // the library's matmul keeps OpenBLAS itself at one thread
        double train, infer;
        float loss = 0.0f;
        measure(&opt, &b, &train, &infer, &loss);
        printf("c %s threads=%d train_img_per_s=%.1f infer_img_per_s=%.1f loss=%.3f\n", opt.model,
               n, train, infer, loss);
        fflush(stdout);
        best_train = train > best_train ? train : best_train;
        best_infer = infer > best_infer ? infer : best_infer;
    }
    printf("c %s best train_img_per_s=%.1f infer_img_per_s=%.1f\n", opt.model, best_train,
           best_infer);
    free(b.images);
    free(b.labels);
    return 0;
}

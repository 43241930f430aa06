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
//     c vit threads=1 train_img_per_s=2950.3 infer_img_per_s=9120.8 loss=1.234
//     c vit best train_img_per_s=... infer_img_per_s=...
//
//   build/bench [--model vit] [--steps 40] [--warmup 5] [--max-threads 2] [--data DIR]
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ch07.h"

enum { BATCH = 128, BATCHES = 16, SIDE = 28 };
#define LR           1e-3f
#define WEIGHT_DECAY 0.05f
#define SEED         1

typedef struct {
    const char *data_dir; // Fashion-MNIST directory (NULL: $FASHION_MNIST_DIR or the default)
    const char *model;    // "vit", "hybrid" or "cnn"
    int steps;            // timed steps, for training and for inference
    int warmup;           // untimed steps before each
    int max_threads;      // thread counts 1..max_threads are tried
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

int main(int argc, char **argv) {
    Options opt = {.data_dir = NULL, .model = "vit", .steps = 40, .warmup = 5, .max_threads = 2};
    CliOption options[] = {
        fashion_mnist_data_option(&opt.data_dir),
        {"model", CLI_STRING, &opt.model, "the model: vit, hybrid or cnn", 0, 0, "NAME"},
        {"steps", CLI_INT, &opt.steps, "timed steps, for training and for inference", 1, 100000,
         NULL},
        {"warmup", CLI_INT, &opt.warmup, "untimed steps before each measurement", 0, 1000, NULL},
        {"max-threads", CLI_INT, &opt.max_threads, "thread counts 1..N are tried, the best kept", 1,
         256, NULL},
    };
    cli_parse_or_exit(argc, argv, "Training and inference speed of a benchmark model in C.",
                      options, sizeof options / sizeof options[0]);
    Model *probe = model_new(opt.model);
    if (probe == NULL) {
        fprintf(stderr, "%s: --model %s: not vit, hybrid or cnn\n", program, opt.model);
        return 2;
    }
    probe->kind->close(probe);
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

// pretrained_logits.c — the C side of `make check-pretrained`: a converted
// checkpoint's logits on images already preprocessed, for
// tools/check_pretrained.py to hold against PyTorch.
//
//   build/pretrained_logits MODEL IMAGES OUT
//
// IMAGES is raw little-endian float32 (n,Cin,S,S), the model's own sizes, n
// taken from the file's size; OUT gets the logits (n,K) the same way,
// atomically. One image at a time (a model for batches of 1: ViT-B/16 in
// about 550 MB).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "ch11.h"

static const char *program = "pretrained_logits";

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL IMAGES OUT\n", program);
        return 2;
    }
    Error err;
    Pretrained p;
    double start = seconds();
    clock_t cpu = clock();
    narrate_check(pretrained_open(&p, argv[1], 1, &err), program, &err);
    double loaded = seconds(), load_cpu = (double)(clock() - cpu) / CLOCKS_PER_SEC;
    const VitConfig *cfg = &p.vit.cfg;
    size_t pixels = (size_t)cfg->in_channels * cfg->image_size * cfg->image_size;
    int K = cfg->num_classes;
    Input in;
    narrate_check(input_open_file(&in, argv[2], &err), program, &err);
    if (in.size == 0 || in.size % (pixels * sizeof(float)) != 0) {
        error_set(&err, "%s: %llu bytes, not a whole number of %zu-float images", argv[2], in.size,
                  pixels);
        error_exit(program, &err, 1);
    }
    size_t n = in.size / (pixels * sizeof(float));
    float *image = xmalloc(sizeof(float) * pixels), *logits = xmalloc(sizeof(float) * n * K);
    double forward = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (fread(image, sizeof(float), pixels, in.file) != pixels) {
            error_set(&err, "%s: short read", argv[2]);
            error_exit(program, &err, 1);
        }
        double t0 = seconds();
        vit_forward(&p.vit, image, NULL, 1, 0.0f, false);
        forward += seconds() - t0;
        memcpy(logits + i * K, p.vit.ha.logits, sizeof(float) * K);
    }
    input_close(&in);
    AtomicFile af;
    narrate_check(atomic_open(&af, argv[3], &err), program, &err);
    fwrite(logits, sizeof(float), n * K, af.file);
    narrate_check(atomic_commit(&af, &err), program, &err);
    printf("%s: %zu images through %s: loaded in %.2f s (%.2f s of CPU), %.3f s per image\n",
           program, n, argv[1], loaded - start, load_cpu, forward / (double)n);
    free(image), free(logits);
    pretrained_close(&p);
    return 0;
}

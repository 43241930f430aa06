// fuzz_seeds.c — writes the seed corpora of the fuzz targets (fuzz/corpus/),
// each file made by the library itself where the library writes that format:
// a few tiny valid inputs and a few broken ones per target. `make fuzz-seeds`
// runs it; the output is committed, so a fresh clone fuzzes without it.
//
//   build/fuzz_seeds DIR    (DIR = fuzz/corpus)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stb_image_write.h>
#include <zlib.h>
#include "checkpoint.h"
#include "cnn.h"
#include "files.h"
#include "image.h"
#include "vit.h"

static const char *dir;

// "<dir>/<target>/<name>" (made if need be) into out; returns out.
static char *seed_path(char out[1024], const char *target, const char *name) {
    Error err;
    char sub[1024];
    if (!path_join(sub, sizeof sub, dir, target, &err) || !make_dirs(sub, &err) ||
        !path_join(out, 1024, sub, name, &err))
        error_exit("fuzz_seeds", &err, 1);
    return out;
}

static void write_bytes(const char *target, const char *name, const void *data, size_t n) {
    char path[1024];
    FILE *f = fopen(seed_path(path, target, name), "wb");
    if (f == NULL || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        exit(1);
    }
}

// data gzipped (zlib's gzip header carries no name and no time: reproducible).
static void write_gzip(const char *target, const char *name, const void *data, size_t n) {
    char path[1024];
    gzFile g = gzopen(seed_path(path, target, name), "wb9");
    if (g == NULL || gzwrite(g, data, (unsigned)n) != (int)n || gzclose(g) != Z_OK) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        exit(1);
    }
}

// A file's first `keep` bytes as another seed (a truncated file).
static void write_prefix(const char *target, const char *name, const char *from, long keep) {
    char path[1024];
    FILE *f = fopen(seed_path(path, target, from), "rb");
    unsigned char *buf = xmalloc((size_t)keep);
    if (f == NULL || fread(buf, 1, (size_t)keep, f) != (size_t)keep) {
        fprintf(stderr, "fuzz_seeds: cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    write_bytes(target, name, buf, (size_t)keep);
    free(buf);
}

// Two 28x28 images and their labels, plain and gzipped; a truncated file, a
// file with a byte too many, a bad element type.
static void idx_seeds(void) {
    enum { N = 2, R = 28, HEAD = 16 };
    unsigned char images[HEAD + N * R * R] = {0, 0, 0x08, 3, 0, 0, 0, N, 0, 0, 0, R, 0, 0, 0, R};
    for (int i = 0; i < N * R * R; i++) images[HEAD + i] = (unsigned char)(i * 7 % 256);
    unsigned char labels[8 + N + 1] = {0, 0, 0x08, 1, 0, 0, 0, N, 9, 0, 0};
    write_bytes("idx", "images-2x28x28", images, sizeof images);
    write_gzip("idx", "images-2x28x28.gz", images, sizeof images);
    write_bytes("idx", "labels-2", labels, 8 + N);
    write_gzip("idx", "labels-2.gz", labels, 8 + N);
    write_bytes("idx", "images-truncated", images, HEAD + R * R);
    write_bytes("idx", "labels-extra-byte", labels, 8 + N + 1);
    labels[2] = 0x0d; // float elements
    write_bytes("idx", "labels-float-type", labels, 8 + N);
}

// A tiny ViT and a tiny CNN, random weights; a truncated checkpoint; a header
// that is not JSON.
static void safetensors_seeds(void) {
    Error err;
    char path[1024];
    Rng rng;
    rng_seed(&rng, 1);
    VitConfig cfg = {.image_size = 4, .patch_size = 2, .in_channels = 1, .hidden_dim = 4,
                     .mlp_dim = 4, .num_layers = 1, .num_heads = 2, .num_classes = 3};
    Vit vit;
    vit_build(&vit, &cfg, &(HeadOptions){0}, 0.0f, 1);
    vit_init(&vit, &rng);
    if (!checkpoint_save(seed_path(path, "safetensors", "vit-tiny.safetensors"), &vit.model,
                         0.5f, 0.25f, &err))
        error_exit("fuzz_seeds", &err, 1);
    vit_free(&vit);
    ResNetConfig body = {8, 1, 4, 3, 2, 2, 1, {1}, {2}, {1}};
    Cnn cnn;
    cnn_build(&cnn, &body, 3, 0.0f, 1);
    cnn_init(&cnn, &rng);
    if (!checkpoint_save(seed_path(path, "safetensors", "cnn-tiny.safetensors"), &cnn.model,
                         0.5f, 0.25f, &err))
        error_exit("fuzz_seeds", &err, 1);
    cnn_free(&cnn);
    write_prefix("safetensors", "vit-truncated.safetensors", "vit-tiny.safetensors", 600);
    static const char not_json[] = "\x08\0\0\0\0\0\0\0{\"a\":[1,";
    write_bytes("safetensors", "header-not-json.safetensors", not_json, sizeof not_json - 1);
}

static void jpeg_sink(void *context, void *data, int size) {
    fwrite(data, 1, (size_t)size, context);
}

// A gray and an RGB PNG, a JPEG, a truncated PNG.
static void image_seeds(void) {
    Error err;
    char path[1024];
    Image gray = image_new(5, 4, 1), rgb = image_new(3, 2, 3);
    for (int i = 0; i < 5 * 4; i++) gray.pixels[i] = (unsigned char)(i * 13);
    for (int i = 0; i < 3 * 2 * 3; i++) rgb.pixels[i] = (unsigned char)(i * 29);
    if (!image_write_png(seed_path(path, "image", "gray-5x4.png"), &gray, &err) ||
        !image_write_png(seed_path(path, "image", "rgb-3x2.png"), &rgb, &err))
        error_exit("fuzz_seeds", &err, 1);
    FILE *f = fopen(seed_path(path, "image", "rgb-3x2.jpg"), "wb");
    if (f == NULL || !stbi_write_jpg_to_func(jpeg_sink, f, 3, 2, 3, rgb.pixels, 50) ||
        fclose(f) != 0) {
        fprintf(stderr, "fuzz_seeds: cannot write %s\n", path);
        exit(1);
    }
    write_prefix("image", "gray-truncated.png", "gray-5x4.png", 40);
    image_free(&gray);
    image_free(&rgb);
}

// Command lines, one argument a line, for fuzz/cli.c's table.
static void cli_seeds(void) {
    static const char *lines[][2] = {
        {"good", "--patch\n4\n--lr=0.5\n--augment\n--name\nx\n--index\n12\n--out\nfig"},
        {"help", "--patch\n4\n--help"},
        {"out-of-range", "--patch=29"},
        {"not-a-number", "--lr\n1e-3x"},
        {"nan", "--lr=nan"},
        {"missing-value", "--index"},
        {"unknown", "--patches\n4"},
        {"switch-value", "--augment=yes"},
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        write_bytes("cli", lines[i][0], lines[i][1], strlen(lines[i][1]));
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    dir = argv[1];
    idx_seeds();
    safetensors_seeds();
    image_seeds();
    cli_seeds();
    return 0;
}

// fashion_mnist.c — loads a Fashion-MNIST split (images and labels) and checks
// that the two files belong together.
#include "fashion_mnist.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "files.h"
#include "idx.h"
#include "rng.h"

const char *const fashion_mnist_class_names[FASHION_MNIST_CLASSES] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot",
};

const char *fashion_mnist_dir(const char *flag_value) {
    if (flag_value != NULL && flag_value[0] != '\0') return flag_value;
    const char *env = getenv(FASHION_MNIST_ENV);
    if (env != NULL && env[0] != '\0') return env;
    return FASHION_MNIST_DEFAULT_DIR;
}

// Whether something is at path: anything but "not found" (a file it cannot
// read, a symlink loop) counts, so that reading it says what is wrong.
static bool something_at(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 || errno != ENOENT;
}

// Finds "<dir>/<name>.gz", else "<dir>/<name>" (for unpacked copies).
static bool find_file(char *path, size_t size, const char *dir, const char *name, Error *err) {
    char gz_name[128];
    snprintf(gz_name, sizeof gz_name, "%s.gz", name);
    if (!path_join(path, size, dir, gz_name, err)) return false;
    if (something_at(path)) return true;
    if (!path_join(path, size, dir, name, err)) return false;
    if (something_at(path)) return true;
    return error_set(err,
                     "%s/%s.gz: not found (the data directory is set by --data DIR or $%s; "
                     "on Debian: apt-get install dataset-fashion-mnist)",
                     dir, name, FASHION_MNIST_ENV);
}

static bool read_split_file(const char *dir, const char *prefix, const char *kind, int ndims,
                            IdxArray *out, char *path, size_t path_size, Error *err) {
    char name[96];
    snprintf(name, sizeof name, "%s-%s-idx%d-ubyte", prefix, kind, ndims);
    return find_file(path, path_size, dir, name, err) && idx_read(path, ndims, out, err);
}

static bool labels_valid(const IdxArray *labels, const char *path, Error *err) {
    for (int i = 0; i < labels->dims[0]; i++)
        if (labels->data[i] >= FASHION_MNIST_CLASSES)
            return error_set(err, "%s: label %d of item %d is not a class (0..%d)", path,
                             labels->data[i], i, FASHION_MNIST_CLASSES - 1);
    return true;
}

bool fashion_mnist_load(FashionMnist *out, const char *dir, FashionMnistSplit split, Error *err) {
    const char *prefix = split == FASHION_MNIST_TRAIN ? "train" : "t10k";
    char images_path[1024], labels_path[1024];
    IdxArray images = {0}, labels = {0};
    bool ok =
        read_split_file(dir, prefix, "images", 3, &images, images_path, sizeof images_path, err) &&
        read_split_file(dir, prefix, "labels", 1, &labels, labels_path, sizeof labels_path, err) &&
        labels_valid(&labels, labels_path, err);
    if (ok && images.dims[0] != labels.dims[0])
        ok = error_set(err, "%s: %d labels, but %s has %d images", labels_path, labels.dims[0],
                       images_path, images.dims[0]);
    if (!ok) {
        idx_free(&images);
        idx_free(&labels);
        return false;
    }
    *out = (FashionMnist){
        .count = images.dims[0],
        .rows = images.dims[1],
        .cols = images.dims[2],
        .pixels = images.data,
        .labels = labels.data,
    };
    snprintf(out->images_path, sizeof out->images_path, "%s", images_path);
    return true;
}

bool fashion_mnist_check_size(const FashionMnist *data, int rows, int cols, Error *err) {
    if (data->rows == rows && data->cols == cols) return true;
    return error_set(err, "%s: images of %dx%d, not the %dx%d this program takes",
                     data->images_path[0] ? data->images_path : "the images", data->rows,
                     data->cols, rows, cols);
}

void fashion_mnist_free(FashionMnist *data) {
    free(data->pixels);
    free(data->labels);
    data->pixels = data->labels = NULL;
}

void fashion_mnist_image(const FashionMnist *data, int i, float *out) {
    int n = data->rows * data->cols;
    const unsigned char *src = data->pixels + (size_t)i * n;
    for (int k = 0; k < n; k++) out[k] = src[k] / 255.0f;
}

void fashion_mnist_normalized(const FashionMnist *data, int i, float mean, float std, float *out) {
    int n = data->rows * data->cols;
    const unsigned char *src = data->pixels + (size_t)i * n; // (rows, cols)
    for (int k = 0; k < n; k++) out[k] = ((float)src[k] / 255.0f - mean) / std;
}

CliOption fashion_mnist_data_option(const char **dir) {
    static const char help[] =
        "Fashion-MNIST directory (else $" FASHION_MNIST_ENV ", else " FASHION_MNIST_DEFAULT_DIR ")";
    return (CliOption){"data", CLI_STRING, dir, help, 0, 0, "DIR"};
}

void fashion_mnist_load_test_or_exit(FashionMnist *test, const char *program, const char *data_flag,
                                     int side, int index) {
    assert(index >= 0); // the --index option's range
    Error err;
    if (!fashion_mnist_load(test, fashion_mnist_dir(data_flag), FASHION_MNIST_TEST, &err))
        error_exit(program, &err, 1);
    if (!fashion_mnist_check_size(test, side, side, &err)) {
        fashion_mnist_free(test);
        error_exit(program, &err, 1);
    }
    if (index >= test->count) {
        fprintf(stderr, "%s: --index %d is past the %d test images\n", program, index, test->count);
        fashion_mnist_free(test);
        exit(2);
    }
}

void fashion_mnist_require_test_images(const FashionMnist *test, int count, const char *program) {
    if (test->count >= count) return;
    Error err;
    error_set(&err, "%s: %d test images; this chapter uses the first %d", test->images_path,
              test->count, count);
    error_exit(program, &err, 1);
}

FashionMnist fashion_mnist_shuffled(const FashionMnist *data, int seed) {
    size_t pixels = (size_t)data->rows * data->cols;
    FashionMnist s = {.count = data->count,
                      .rows = data->rows,
                      .cols = data->cols,
                      .pixels = xmalloc(pixels * data->count),
                      .labels = xmalloc(data->count)};
    snprintf(s.images_path, sizeof s.images_path, "%s", data->images_path);
    int *order = xmalloc(sizeof(int) * data->count);
    Rng rng;
    rng_seed(&rng, (uint64_t)seed ^ 0x5eedda7aULL);
    rng_permutation(&rng, order, data->count);
    for (int i = 0; i < data->count; i++) {
        memcpy(s.pixels + pixels * i, data->pixels + pixels * order[i], pixels);
        s.labels[i] = data->labels[order[i]];
    }
    free(order);
    return s;
}

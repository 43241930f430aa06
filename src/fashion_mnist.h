// fashion_mnist.h — the Fashion-MNIST data set (Zalando, 2017): 28x28 grayscale
// pictures of clothes in 10 classes, 60,000 for training and 10,000 for testing.
// Read from the IDX files of Debian's dataset-fashion-mnist package.
#ifndef FASHION_MNIST_H
#define FASHION_MNIST_H

#include <stdbool.h>
#include "cli.h"
#include "error.h"

#define FASHION_MNIST_CLASSES     10
#define FASHION_MNIST_SIDE        28 // H = W of its images
#define FASHION_MNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define FASHION_MNIST_ENV         "FASHION_MNIST_DIR"

// The training set's pixel mean and standard deviation (of pixel/255): what a
// model's input is normalised with.
#define FASHION_MNIST_MEAN 0.2860f
#define FASHION_MNIST_STD  0.3530f

typedef enum { FASHION_MNIST_TRAIN, FASHION_MNIST_TEST } FashionMnistSplit;

typedef struct {
    int count;              // number of images
    int rows, cols;         // 28, 28
    unsigned char *pixels;  // (count, rows, cols), 0 = background, 255 = ink
    unsigned char *labels;  // (count), class index in 0..9
    char images_path[1024]; // the images file it was read from, for messages ("" if made here)
} FashionMnist;

extern const char *const fashion_mnist_class_names[FASHION_MNIST_CLASSES];

// The data directory: the flag's value if given, else $FASHION_MNIST_DIR if
// set and not empty, else FASHION_MNIST_DEFAULT_DIR.
const char *fashion_mnist_dir(const char *flag_value);

// Loads one split from dir (files "<prefix>-images-idx3-ubyte[.gz]" and
// "<prefix>-labels-idx1-ubyte[.gz]", prefix "train" or "t10k"). Checks that
// images and labels agree in count and that every label is a class.
bool fashion_mnist_load(FashionMnist *out, const char *dir, FashionMnistSplit split, Error *err);
void fashion_mnist_free(FashionMnist *data);

// The --data DIR row of a program's options: the Fashion-MNIST directory; left
// NULL, fashion_mnist_dir picks $FASHION_MNIST_DIR or the default.
CliOption fashion_mnist_data_option(const char **dir);

// For the chapter programs: loads the test set from fashion_mnist_dir(data_flag)
// and checks that its images are side x side (the size the program takes) and
// that index (the --index flag, >= 0) is one of them. When one fails, prints
// one line naming the file or the flag and exits (status 1 for the data, 2 for
// the flag).
void fashion_mnist_load_test_or_exit(FashionMnist *test, const char *program, const char *data_flag,
                                     int side, int index);
// For the chapters that measure over the first count test images: unless test
// holds that many, prints one line naming its images file and exits with status 1.
void fashion_mnist_require_test_images(const FashionMnist *test, int count, const char *program);

// Whether data's images are rows x cols, the size a program or a model takes:
// false with "images file: images of 10x10, not the 28x28 this program takes" in err.
bool fashion_mnist_check_size(const FashionMnist *data, int rows, int cols, Error *err);

// A copy of data in a fixed random order (seed): its first n images are a
// random subset of size n, and every such subset holds the smaller ones (the
// label budgets of chapters 07 and 12).
FashionMnist fashion_mnist_shuffled(const FashionMnist *data, int seed);

// Image i as floats in [0, 1]: out (rows, cols).
void fashion_mnist_image(const FashionMnist *data, int i, float *out);
// Image i as a model's input: out (rows, cols) = (pixel/255 - mean) / std,
// usually with FASHION_MNIST_MEAN and FASHION_MNIST_STD.
void fashion_mnist_normalized(const FashionMnist *data, int i, float mean, float std, float *out);

#endif

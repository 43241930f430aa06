// test_idx.c — the IDX reader on files the test writes itself (good ones, gzipped
// and plain, and every kind of broken one), then Fashion-MNIST: the real files
// of Debian's dataset-fashion-mnist, a fake data directory with mistakes in it,
// and where the data directory comes from.
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <criterion/criterion.h>
#include "check.h"
#include "fashion_mnist.h"
#include "idx.h"
#include "scratch.h"

// ---- writing IDX files ----------------------------------------------------------

// An IDX file in memory: magic (0, 0, type, ndims), sizes big-endian, then bytes.
typedef struct {
    unsigned char bytes[4096];
    size_t size;
} IdxBytes;

static void put_u32(IdxBytes *f, uint32_t v) {
    unsigned char b[4] = {v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};
    memcpy(f->bytes + f->size, b, 4);
    f->size += 4;
}

// Header with the given type byte and sizes, then `payload` bytes 0, 1, 2, ... (mod 251).
static IdxBytes idx_bytes(unsigned char type, int ndims, const uint32_t *dims, size_t payload) {
    IdxBytes f = {.bytes = {0, 0, type, (unsigned char)ndims}, .size = 4};
    for (int d = 0; d < ndims; d++) put_u32(&f, dims[d]);
    cr_assert_leq(f.size + payload, sizeof f.bytes);
    for (size_t i = 0; i < payload; i++) f.bytes[f.size++] = (unsigned char)(i % 251);
    return f;
}

static void write_plain(const char *path, const IdxBytes *f) {
    write_whole_file(path, f->bytes, f->size);
}

static void write_gz(const char *path, const void *bytes, size_t size) {
    gzFile gz = gzopen(path, "wb");
    cr_assert_not_null(gz, "cannot create %s", path);
    cr_assert_eq(gzwrite(gz, bytes, (unsigned)size), (int)size);
    cr_assert_eq(gzclose(gz), Z_OK);
}

// Writes f to scratch/name, gzipped if name ends in ".gz"; path gets the full name.
static void write_idx(char path[1024], const char *name, const IdxBytes *f) {
    scratch_path(path, name);
    size_t n = strlen(name);
    if (n > 3 && strcmp(name + n - 3, ".gz") == 0)
        write_gz(path, f->bytes, f->size);
    else
        write_plain(path, f);
}

// idx_read must fail, name the file, and leave out as it was.
static void expect_refused(const char *path, int ndims) {
    IdxArray out;
    memset(&out, 0x5a, sizeof out);
    IdxArray before = out;
    Error err = {{0}};
    bool ok = idx_read(path, ndims, &out, &err);
    if (ok) idx_free(&out);
    cr_assert_not(ok, "%s was accepted", path);
    expect_mentions(err.message, path);
    cr_assert_eq(memcmp(&out, &before, sizeof out), 0, "out was changed by a failed read");
}

TestSuite(idx, .init = scratch_setup, .fini = scratch_teardown);

// ---- good files -------------------------------------------------------------------

static void expect_reads_back(const char *name) {
    const uint32_t dims[3] = {2, 3, 4};
    IdxBytes f = idx_bytes(0x08, 3, dims, 24);
    char path[1024];
    write_idx(path, name, &f);
    IdxArray a;
    Error err;
    cr_assert(idx_read(path, 3, &a, &err), "%s", err.message);
    cr_assert_eq(a.ndims, 3);
    int want_dims[3] = {2, 3, 4};
    expect_ints_equal("dims", a.dims, want_dims, 3);
    expect_bytes_equal("data", a.data, f.bytes + 16, 24);
    idx_free(&a);
    cr_assert_null(a.data, "idx_free should clear the pointer");
}

Test(idx, a_plain_file_reads_back_exactly) {
    expect_reads_back("images-idx3-ubyte");
}

Test(idx, a_gzipped_file_reads_back_exactly) {
    expect_reads_back("images-idx3-ubyte.gz");
}

Test(idx, a_one_dimensional_label_file_reads_back) {
    const uint32_t dims[1] = {300};
    IdxBytes f = idx_bytes(0x08, 1, dims, 300);
    char path[1024];
    write_idx(path, "labels-idx1-ubyte.gz", &f);
    IdxArray a;
    Error err;
    cr_assert(idx_read(path, 1, &a, &err), "%s", err.message);
    cr_assert_eq(a.dims[0], 300);
    expect_bytes_equal("labels", a.data, f.bytes + 8, 300);
    idx_free(&a);
}

// From memory (idx_read_from, what the fuzz target calls): a gzipped file's
// bytes give the same array, read twice from one Input; wrong or cut short,
// they are refused under the name given.
Test(idx, bytes_in_memory_read_as_the_file_does) {
    const uint32_t dims[3] = {2, 3, 4};
    IdxBytes f = idx_bytes(0x08, 3, dims, 24);
    char path[1024];
    write_idx(path, "images-idx3-ubyte.gz", &f);
    long size;
    char *gz = read_whole_file(path, &size);
    Input in;
    Error err;
    cr_assert(input_open_memory(&in, gz, (size_t)size, "in memory", &err), "%s", err.message);
    IdxArray a;
    cr_assert(idx_read_from(&in, 3, &a, &err), "%s", err.message);
    expect_bytes_equal("data", a.data, f.bytes + 16, 24);
    idx_free(&a);
    cr_assert_not(idx_read_from(&in, 1, &a, &err));
    expect_mentions(err.message, "in memory: IDX file has 3 dimensions, expected 1");
    input_close(&in);
    cr_assert(input_open_memory(&in, gz, (size_t)size - 1, "cut", &err), "%s", err.message);
    cr_assert_not(idx_read_from(&in, 3, &a, &err));
    expect_mentions(err.message, "cut: truncated");
    input_close(&in);
    free(gz);
}

// ---- bad files --------------------------------------------------------------------

Test(idx, refuses_a_missing_file) {
    char path[1024];
    expect_refused(scratch_path(path, "no-such-file.gz"), 3);
}

Test(idx, refuses_a_wrong_magic) {
    const uint32_t dims[1] = {4};
    IdxBytes f = idx_bytes(0x08, 1, dims, 4);
    f.bytes[1] = 0x01;
    char path[1024];
    write_idx(path, "magic", &f);
    expect_refused(path, 1);
    write_idx(path, "text", &(IdxBytes){.bytes = "hello, this is not an IDX file\n", .size = 31});
    expect_refused(path, 1);
}

Test(idx, refuses_a_type_other_than_unsigned_byte) {
    const uint32_t dims[1] = {4};
    IdxBytes f = idx_bytes(0x0d, 1, dims, 16); // 0x0d: float32
    char path[1024];
    write_idx(path, "floats.gz", &f);
    expect_refused(path, 1);
}

Test(idx, refuses_the_wrong_number_of_dimensions) {
    const uint32_t dims[3] = {2, 3, 4};
    IdxBytes f = idx_bytes(0x08, 2, dims, 6);
    char path[1024];
    write_idx(path, "two-dims", &f);
    expect_refused(path, 3);
    expect_refused(path, 1);
    IdxBytes none = idx_bytes(0x08, 0, dims, 1); // a scalar: ndims 0
    write_idx(path, "zero-dims", &none);
    expect_refused(path, 1);
}

Test(idx, refuses_a_dimension_of_size_zero) {
    const uint32_t dims[3] = {0, 28, 28};
    IdxBytes f = idx_bytes(0x08, 3, dims, 0);
    char path[1024];
    write_idx(path, "empty.gz", &f);
    expect_refused(path, 3);
}

Test(idx, refuses_a_truncated_header) {
    const uint32_t dims[3] = {2, 3, 4};
    IdxBytes f = idx_bytes(0x08, 3, dims, 24);
    char path[1024];
    f.size = 10; // magic, one size and half of the next
    write_idx(path, "short-header", &f);
    expect_refused(path, 3);
    f.size = 2; // half a magic
    write_idx(path, "short-magic.gz", &f);
    expect_refused(path, 3);
    f.size = 0;
    write_idx(path, "empty-file", &f);
    expect_refused(path, 3);
}

Test(idx, refuses_truncated_data) {
    const uint32_t dims[3] = {2, 3, 4};
    IdxBytes f = idx_bytes(0x08, 3, dims, 23); // one byte short of 24
    char path[1024];
    write_idx(path, "short-data", &f);
    expect_refused(path, 3);
    write_idx(path, "short-data.gz", &f);
    expect_refused(path, 3);
}

Test(idx, refuses_trailing_bytes) {
    const uint32_t dims[3] = {2, 3, 4};
    IdxBytes f = idx_bytes(0x08, 3, dims, 25); // one byte more than 24
    char path[1024];
    write_idx(path, "long-data", &f);
    expect_refused(path, 3);
    write_idx(path, "long-data.gz", &f);
    expect_refused(path, 3);
}

Test(idx, refuses_absurd_sizes_without_trying_to_read_them) {
    char path[1024];
    const uint32_t huge[3] = {65536, 65536, 2}; // 8 GiB
    IdxBytes f = idx_bytes(0x08, 3, huge, 64);
    write_idx(path, "huge.gz", &f);
    expect_refused(path, 3);
    const uint32_t just_over[3] = {1024, 1024, 1025}; // 1 GiB + 1 MiB
    f = idx_bytes(0x08, 3, just_over, 64);
    write_idx(path, "just-over", &f);
    expect_refused(path, 3);
    const uint32_t negative[1] = {0x80000000u}; // negative as an int
    f = idx_bytes(0x08, 1, negative, 64);
    write_idx(path, "negative", &f);
    expect_refused(path, 1);
    const uint32_t wrap[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu}; // overflows any product
    f = idx_bytes(0x08, 3, wrap, 64);
    write_idx(path, "wrap", &f);
    expect_refused(path, 3);
}

// The buffer grows with the data (fuzz/idx.c ran at 95 inputs a second while
// each short file with a large header cost an allocation of up to 1 GiB).
Test(idx, refuses_a_gigabyte_header_over_a_few_bytes) {
    const uint32_t gigabyte[3] = {1024, 1024, 1024};
    IdxBytes f = idx_bytes(0x08, 3, gigabyte, 64);
    char path[1024];
    write_idx(path, "gigabyte-promised", &f);
    expect_refused(path, 3);
    write_idx(path, "gigabyte-promised.gz", &f);
    expect_refused(path, 3);
}

// More than the first 64 KiB buffer: each doubling keeps every byte in place.
Test(idx, reads_a_file_larger_than_the_first_buffer) {
    enum { N = 3000, R = 28 }; // 2.2 MiB
    size_t bytes = (size_t)N * R * R;
    unsigned char *file = malloc(16 + bytes);
    cr_assert_not_null(file);
    memcpy(file, (unsigned char[16]){0, 0, 8, 3, 0, 0, N >> 8, N & 0xff, 0, 0, 0, R, 0, 0, 0, R},
           16);
    for (size_t i = 0; i < bytes; i++) file[16 + i] = (unsigned char)(i * 31 % 255);
    char path[1024];
    scratch_path(path, "large.gz");
    write_gz(path, file, 16 + bytes);
    IdxArray a;
    Error err;
    cr_assert(idx_read(path, 3, &a, &err), "%s", err.message);
    cr_assert_eq(a.dims[0], N);
    cr_assert_eq(memcmp(a.data, file + 16, bytes), 0, "the data differs");
    idx_free(&a);
    free(file);
}

Test(idx, refuses_a_gzip_stream_cut_short) {
    const uint32_t dims[3] = {10, 20, 20};
    IdxBytes f = idx_bytes(0x08, 3, dims, 4000);
    char path[1024];
    write_idx(path, "whole.gz", &f);
    long size;
    char *gz = read_whole_file(path, &size);
    scratch_path(path, "cut.gz");
    write_whole_file(path, gz, (size_t)size / 2);
    free(gz);
    expect_refused(path, 3);
}

// ---- Fashion-MNIST: the real files -----------------------------------------------

TestSuite(fashion_mnist, .init = scratch_setup, .fini = scratch_teardown);

Test(fashion_mnist, class_names_follow_zalando) {
    cr_assert_str_eq(fashion_mnist_class_names[0], "T-shirt/top");
    cr_assert_str_eq(fashion_mnist_class_names[1], "Trouser");
    cr_assert_str_eq(fashion_mnist_class_names[7], "Sneaker");
    cr_assert_str_eq(fashion_mnist_class_names[9], "Ankle boot");
}

Test(fashion_mnist, normalized_is_the_image_less_the_mean_over_the_std) {
    unsigned char pixels[2 * 2 * 3] = {0, 1, 2, 3, 4, 5, 0, 255, 128, 7, 64, 200}; // (2,2,3)
    unsigned char labels[2] = {0, 1};
    FashionMnist data = {.count = 2, .rows = 2, .cols = 3, .pixels = pixels, .labels = labels};
    float x[6], unit[6], want[6];
    fashion_mnist_normalized(&data, 1, FASHION_MNIST_MEAN, FASHION_MNIST_STD, x);
    fashion_mnist_image(&data, 1, unit);
    for (int k = 0; k < 6; k++) want[k] = (unit[k] - FASHION_MNIST_MEAN) / FASHION_MNIST_STD;
    expect_floats_equal("image 1 normalised", x, want, 6, 0.0);
    cr_assert_float_eq(x[0], -0.2860f / 0.3530f, 1e-6f, "a black pixel");
    cr_assert_float_eq(x[1], (1.0f - 0.2860f) / 0.3530f, 1e-6f, "a white pixel");
    fashion_mnist_normalized(&data, 0, 0.5f, 2.0f, x); // any mean and std
    cr_assert_float_eq(x[5], (5 / 255.0f - 0.5f) / 2.0f, 1e-7f);
}

static void expect_real_split(FashionMnistSplit split, int count) {
    FashionMnist data;
    Error err;
    cr_assert(fashion_mnist_load(&data, FASHION_MNIST_DEFAULT_DIR, split, &err), "%s", err.message);
    cr_assert_eq(data.count, count);
    cr_assert_eq(data.rows, 28);
    cr_assert_eq(data.cols, 28);
    // both splits are balanced: count / 10 of each class
    int per_class[FASHION_MNIST_CLASSES] = {0}, want[FASHION_MNIST_CLASSES];
    for (int i = 0; i < data.count; i++) {
        cr_assert_lt(data.labels[i], FASHION_MNIST_CLASSES, "label %d of item %d", data.labels[i],
                     i);
        per_class[data.labels[i]]++;
    }
    for (int k = 0; k < FASHION_MNIST_CLASSES; k++) want[k] = count / 10;
    expect_ints_equal("items per class", per_class, want, FASHION_MNIST_CLASSES);
    // pictures use the whole range: background 0 and full ink 255
    int lo = 255, hi = 0;
    for (long i = 0; i < (long)count * 28 * 28; i++) {
        if (data.pixels[i] < lo) lo = data.pixels[i];
        if (data.pixels[i] > hi) hi = data.pixels[i];
    }
    cr_assert(lo == 0 && hi == 255, "pixel range %d..%d, want 0..255", lo, hi);
    fashion_mnist_free(&data);
}

Test(fashion_mnist, the_real_training_set_loads, .timeout = 60) {
    expect_real_split(FASHION_MNIST_TRAIN, 60000);
}

Test(fashion_mnist, the_real_test_set_loads) {
    expect_real_split(FASHION_MNIST_TEST, 10000);
}

Test(fashion_mnist, the_first_test_picture_is_an_ankle_boot) {
    FashionMnist data;
    Error err;
    cr_assert(fashion_mnist_load(&data, FASHION_MNIST_DEFAULT_DIR, FASHION_MNIST_TEST, &err), "%s",
              err.message);
    cr_assert_eq(data.labels[0], 9);
    cr_assert_str_eq(fashion_mnist_class_names[data.labels[0]], "Ankle boot");
    fashion_mnist_free(&data);
}

// ---- Fashion-MNIST: a fake data directory ---------------------------------------

// Writes t10k-images (count images of 28x28, pixel = (i + k) % 256) and t10k-labels
// (label_count labels i % 10, then `bad_label` at the end if not negative).
static void write_fake_test_split(int count, int label_count, int bad_label, bool gzipped) {
    size_t pixels = (size_t)count * 28 * 28;
    unsigned char *images = malloc(16 + pixels);
    unsigned char head[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)count, 0, 0, 0, 28, 0, 0, 0, 28};
    memcpy(images, head, 16);
    for (int i = 0; i < count; i++)
        for (int k = 0; k < 28 * 28; k++)
            images[16 + (size_t)i * 784 + k] = (unsigned char)((i + k) % 256);
    unsigned char labels[8 + 256] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)label_count};
    for (int i = 0; i < label_count; i++) labels[8 + i] = (unsigned char)(i % 10);
    if (bad_label >= 0) labels[8 + label_count - 1] = (unsigned char)bad_label;
    char path[1024];
    if (gzipped) {
        write_gz(scratch_path(path, "t10k-images-idx3-ubyte.gz"), images, 16 + pixels);
        write_gz(scratch_path(path, "t10k-labels-idx1-ubyte.gz"), labels, 8 + (size_t)label_count);
    } else {
        write_whole_file(scratch_path(path, "t10k-images-idx3-ubyte"), images, 16 + pixels);
        write_whole_file(scratch_path(path, "t10k-labels-idx1-ubyte"), labels,
                         8 + (size_t)label_count);
    }
    free(images);
}

static void expect_load_refused(const char *mention) {
    FashionMnist data;
    Error err = {{0}};
    bool ok = fashion_mnist_load(&data, scratch_dir, FASHION_MNIST_TEST, &err);
    if (ok) fashion_mnist_free(&data);
    cr_assert_not(ok, "the fake data set was accepted");
    expect_mentions(err.message, mention);
}

static void expect_fake_loads(bool gzipped) {
    write_fake_test_split(5, 5, -1, gzipped);
    FashionMnist data;
    Error err;
    cr_assert(fashion_mnist_load(&data, scratch_dir, FASHION_MNIST_TEST, &err), "%s", err.message);
    cr_assert_eq(data.count, 5);
    cr_assert(data.rows == 28 && data.cols == 28);
    unsigned char want_labels[5] = {0, 1, 2, 3, 4};
    expect_bytes_equal("labels", data.labels, want_labels, 5);
    cr_assert_eq(data.pixels[3 * 784 + 10], 13, "image 3, pixel 10");
    float x[784], want[784];
    fashion_mnist_image(&data, 4, x);
    for (int k = 0; k < 784; k++) want[k] = ((4 + k) % 256) / 255.0f;
    expect_floats_equal("image 4 as floats in [0, 1]", x, want, 784, 1e-7);
    fashion_mnist_free(&data);
}

Test(fashion_mnist, a_good_fake_gzipped_directory_loads) {
    expect_fake_loads(true);
}

Test(fashion_mnist, a_good_fake_unpacked_directory_loads) {
    expect_fake_loads(false);
}

Test(fashion_mnist, refuses_more_labels_than_images) {
    write_fake_test_split(5, 6, -1, true);
    expect_load_refused("t10k-labels");
}

Test(fashion_mnist, refuses_fewer_labels_than_images) {
    write_fake_test_split(5, 4, -1, false);
    expect_load_refused(scratch_dir);
}

Test(fashion_mnist, refuses_a_label_that_is_not_a_class) {
    write_fake_test_split(5, 5, 10, true);
    expect_load_refused("t10k-labels");
}

Test(fashion_mnist, a_missing_directory_is_named) {
    char path[1024];
    scratch_path(path, "not-here");
    FashionMnist data;
    Error err = {{0}};
    cr_assert_not(fashion_mnist_load(&data, path, FASHION_MNIST_TRAIN, &err));
    expect_mentions(err.message, path);
}

Test(fashion_mnist, a_missing_labels_file_is_named) {
    write_fake_test_split(5, 5, -1, true);
    char path[1024];
    cr_assert_eq(remove(scratch_path(path, "t10k-labels-idx1-ubyte.gz")), 0);
    expect_load_refused("t10k-labels-idx1-ubyte");
}

// ---- Fashion-MNIST: the chapter programs' loader ----------------------------------

Test(fashion_mnist, load_test_or_exit_loads_and_accepts_the_last_index) {
    write_fake_test_split(5, 5, -1, true);
    FashionMnist data;
    fashion_mnist_load_test_or_exit(&data, "test", scratch_dir, 28, 4);
    cr_assert_eq(data.count, 5);
    fashion_mnist_free(&data);
}

Test(fashion_mnist, load_test_or_exit_exits_2_on_an_index_past_the_images, .exit_code = 2) {
    write_fake_test_split(5, 5, -1, true);
    FashionMnist data;
    fashion_mnist_load_test_or_exit(&data, "test", scratch_dir, 28, 5);
}

Test(fashion_mnist, load_test_or_exit_exits_1_on_a_missing_directory, .exit_code = 1) {
    char path[1024];
    FashionMnist data;
    fashion_mnist_load_test_or_exit(&data, "test", scratch_path(path, "not-here"), 28, 0);
}

// ---- Fashion-MNIST: where the data is ---------------------------------------------

Test(fashion_mnist, dir_prefers_the_flag_then_the_environment_then_the_default) {
    unsetenv(FASHION_MNIST_ENV);
    cr_assert_str_eq(fashion_mnist_dir(NULL), FASHION_MNIST_DEFAULT_DIR);
    cr_assert_str_eq(fashion_mnist_dir("/from/flag"), "/from/flag");
    setenv(FASHION_MNIST_ENV, "/from/env", 1);
    cr_assert_str_eq(fashion_mnist_dir(NULL), "/from/env");
    cr_assert_str_eq(fashion_mnist_dir("/from/flag"), "/from/flag");
    setenv(FASHION_MNIST_ENV, "", 1);
    cr_assert_str_eq(fashion_mnist_dir(NULL), FASHION_MNIST_DEFAULT_DIR,
                     "an empty variable counts as unset");
}

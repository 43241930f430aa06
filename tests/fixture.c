// fixture.c — the reader of the PyTorch reference files (format in fixture.h),
// and its own tests: a file written here is read back, and every way of
// breaking one (a wrong magic, a cut anywhere, bytes after the end, absurd
// sizes, a repeated name) is refused with a message naming the file.
#include "fixture.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include "check.h"
#include "scratch.h"

#define FIXTURE_MAGIC     "VITREF1\n"
#define FIXTURE_MAX_BYTES (64L << 20) // the real ones are a few kB

// ---- parsing --------------------------------------------------------------------

typedef struct {
    const unsigned char *at; // the next unread byte
    size_t left;             // bytes from at to the end of the file
} Cursor;

static bool take_u32(Cursor *c, uint32_t *v) {
    if (c->left < 4) return false;
    *v = (uint32_t)c->at[0] | (uint32_t)c->at[1] << 8 | (uint32_t)c->at[2] << 16 |
         (uint32_t)c->at[3] << 24;
    c->at += 4;
    c->left -= 4;
    return true;
}

// The name of tensor i into t->name.
static bool take_name(Cursor *c, FixtureTensor *t, int i, const char *path, Error *err) {
    uint32_t length;
    if (!take_u32(c, &length) || c->left < length)
        return error_set(err, "%s: truncated in the name of tensor %d", path, i);
    if (length == 0 || length >= sizeof t->name || memchr(c->at, '\0', length) != NULL)
        return error_set(err, "%s: tensor %d has a name of %u bytes (expected 1..%zu, no NUL)",
                         path, i, length, sizeof t->name - 1);
    memcpy(t->name, c->at, length);
    t->name[length] = '\0';
    c->at += length;
    c->left -= length;
    return true;
}

// The shape of t, which must leave room for its data in what is left.
static bool take_shape(Cursor *c, FixtureTensor *t, const char *path, Error *err) {
    uint32_t ndim, dim;
    if (!take_u32(c, &ndim)) return error_set(err, "%s: %s: truncated in the shape", path, t->name);
    if (ndim < 1 || ndim > FIXTURE_MAX_DIMS)
        return error_set(err, "%s: %s: %u dimensions (expected 1..%d)", path, t->name, ndim,
                         FIXTURE_MAX_DIMS);
    t->ndim = (int)ndim;
    t->count = 1;
    for (int d = 0; d < t->ndim; d++) {
        if (!take_u32(c, &dim))
            return error_set(err, "%s: %s: truncated in the shape", path, t->name);
        t->count *= dim; // cannot overflow: count stays below the file size, dim below 2^32
        if (dim == 0 || t->count > c->left / sizeof(float))
            return error_set(err, "%s: %s: dimension %d is %u; the data cannot fit in the file",
                             path, t->name, d, dim);
        t->shape[d] = (int)dim;
    }
    return true;
}

// Tensor i: name, shape and its data decoded into data.
static bool take_tensor(Cursor *c, FixtureTensor *t, float *data, int i, const char *path,
                        Error *err) {
    if (!take_name(c, t, i, path, err) || !take_shape(c, t, path, err)) return false;
    t->data = data;
    for (size_t j = 0; j < t->count; j++) {
        uint32_t bits;
        if (!take_u32(c, &bits)) return error_set(err, "%s: %s: truncated data", path, t->name);
        memcpy(&data[j], &bits, sizeof bits);
    }
    return true;
}

// Parses the whole file, bytes (n), into f (path already set).
static bool parse(Fixture *f, const unsigned char *bytes, size_t n, Error *err) {
    const char *path = f->path;
    if (n < 8 || memcmp(bytes, FIXTURE_MAGIC, 8) != 0)
        return error_set(err, "%s: not a reference file (no \"VITREF1\" magic)", path);
    Cursor c = {bytes + 8, n - 8};
    uint32_t count;
    if (!take_u32(&c, &count)) return error_set(err, "%s: truncated before the tensor count", path);
    if (count == 0 || count > c.left / 17) // a tensor takes at least 17 bytes
        return error_set(err, "%s: %u tensors cannot fit in %zu bytes", path, count, n);
    f->tensors = xcalloc(count, sizeof *f->tensors);
    f->memory = xmalloc(c.left); // more than all the data can take
    f->count = (int)count;
    float *data = f->memory;
    for (int i = 0; i < f->count; i++) {
        FixtureTensor *t = &f->tensors[i];
        if (!take_tensor(&c, t, data, i, path, err)) return false;
        data += t->count;
        for (int j = 0; j < i; j++)
            if (strcmp(f->tensors[j].name, t->name) == 0)
                return error_set(err, "%s: two tensors named %s", path, t->name);
    }
    if (c.left != 0) return error_set(err, "%s: %zu bytes after the last tensor", path, c.left);
    return true;
}

// The whole file into *bytes (free it), its length into *n.
static bool read_bytes(const char *path, unsigned char **bytes, size_t *n, Error *err) {
    FILE *file = fopen(path, "rb");
    if (file == NULL) return error_set(err, "%s: cannot open", path);
    long size = -1;
    if (fseek(file, 0, SEEK_END) == 0) size = ftell(file);
    if (size < 0 || size > FIXTURE_MAX_BYTES || fseek(file, 0, SEEK_SET) != 0) {
        fclose(file);
        return error_set(err, "%s: unreadable, or larger than %ld bytes", path, FIXTURE_MAX_BYTES);
    }
    *bytes = xmalloc(size > 0 ? (size_t)size : 1);
    *n = fread(*bytes, 1, (size_t)size, file);
    fclose(file);
    if (*n != (size_t)size) {
        free(*bytes);
        return error_set(err, "%s: short read", path);
    }
    return true;
}

bool fixture_read(Fixture *f, const char *path, Error *err) {
    *f = (Fixture){0};
    if (snprintf(f->path, sizeof f->path, "%s", path) >= (int)sizeof f->path)
        return error_set(err, "%s: path too long", path);
    unsigned char *bytes;
    size_t n;
    if (!read_bytes(path, &bytes, &n, err)) return false;
    bool ok = parse(f, bytes, n, err);
    free(bytes);
    if (!ok) fixture_free(f);
    return ok;
}

// ---- use in tests ---------------------------------------------------------------

void fixture_load(Fixture *f, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", FIXTURE_DIR, name);
    Error err;
    cr_assert(fixture_read(f, path, &err),
              "%s (run the tests from the repository root; `make reference` writes the files)",
              err.message);
}

const FixtureTensor *fixture_find(const Fixture *f, const char *name) {
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

// "(2,5,16)" into out.
static const char *shape_text(char out[64], int ndim, const int *shape) {
    int n = snprintf(out, 64, "(");
    for (int d = 0; d < ndim && n < 64; d++)
        n += snprintf(out + n, 64 - n, "%s%d", d ? "," : "", shape[d]);
    if (n < 64) snprintf(out + n, 64 - n, ")");
    return out;
}

float *fixture_get_shaped(const Fixture *f, const char *name, int ndim, const int *shape) {
    const FixtureTensor *t = fixture_find(f, name);
    cr_assert(t != NULL, "%s: no tensor named %s", f->path, name);
    bool same = t->ndim == ndim;
    for (int d = 0; same && d < ndim; d++) same = t->shape[d] == shape[d];
    char got[64], want[64];
    cr_assert(same, "%s: tensor %s has shape %s, the test expects %s", f->path, name,
              shape_text(got, t->ndim, t->shape), shape_text(want, ndim, shape));
    return t->data;
}

float *fixture_get_field_shaped(const Fixture *f, const char *prefix, const char *field, int ndim,
                                const int *shape) {
    char name[sizeof f->tensors->name];
    int n = snprintf(name, sizeof name, "%s.%s", prefix, field);
    cr_assert(n < (int)sizeof name, "%s: no tensor can be named %s.%s (too long)", f->path, prefix,
              field);
    return fixture_get_shaped(f, name, ndim, shape);
}

void fixture_free(Fixture *f) {
    free(f->tensors);
    free(f->memory);
    *f = (Fixture){0};
}

// ---- tests of the reader ----------------------------------------------------------

// A reference file being written in memory.
typedef struct {
    unsigned char bytes[512];
    size_t size;
} FileBytes;

static void put_u32(FileBytes *b, uint32_t v) {
    cr_assert_leq(b->size + 4, sizeof b->bytes);
    for (int i = 0; i < 4; i++) b->bytes[b->size++] = (unsigned char)(v >> (8 * i));
}

static void put_tensor(FileBytes *b, const char *name, int ndim, const int *shape) {
    put_u32(b, (uint32_t)strlen(name));
    for (const char *p = name; *p; p++) b->bytes[b->size++] = (unsigned char)*p;
    put_u32(b, (uint32_t)ndim);
    uint32_t count = 1;
    for (int d = 0; d < ndim; d++) {
        put_u32(b, (uint32_t)shape[d]);
        count *= (uint32_t)shape[d];
    }
    for (uint32_t i = 0; i < count; i++) {
        float v = 0.5f * (float)i - 1.0f; // -1, -0.5, 0, ...
        uint32_t bits;
        memcpy(&bits, &v, sizeof bits);
        put_u32(b, bits);
    }
}

// Two tensors: "a.weight" (2,3) and "b" (1).
static FileBytes good_file(void) {
    FileBytes b = {.size = 8};
    memcpy(b.bytes, FIXTURE_MAGIC, 8);
    put_u32(&b, 2);
    put_tensor(&b, "a.weight", 2, (int[]){2, 3});
    put_tensor(&b, "b", 1, (int[]){1});
    return b;
}

// fixture_read on these bytes must fail, name the file and mention `part`.
static void expect_refused(const FileBytes *b, size_t size, const char *part) {
    char path[1024];
    write_whole_file(scratch_path(path, "broken.bin"), b->bytes, size);
    Fixture f;
    Error err = {{0}};
    cr_assert_not(fixture_read(&f, path, &err), "a broken file (%zu bytes) was accepted", size);
    expect_mentions(err.message, path);
    expect_mentions(err.message, part);
    cr_assert_eq(f.count, 0);
    cr_assert_null(f.memory);
}

TestSuite(fixture, .init = scratch_setup, .fini = scratch_teardown);

Test(fixture, reads_back_names_shapes_and_values) {
    char path[1024];
    FileBytes b = good_file();
    write_whole_file(scratch_path(path, "good.bin"), b.bytes, b.size);
    Fixture f;
    Error err;
    cr_assert(fixture_read(&f, path, &err), "%s", err.message);
    cr_assert_eq(f.count, 2);
    const float want[6] = {-1, -0.5f, 0, 0.5f, 1, 1.5f};
    expect_floats_equal("a.weight", fixture_get(&f, "a.weight", 2, 3), want, 6, 0);
    expect_floats_equal("b", fixture_get(&f, "b", 1), want, 1, 0);
    cr_assert_null(fixture_find(&f, "a"));
    fixture_free(&f);
}

Test(fixture, refuses_a_wrong_magic_and_a_missing_file) {
    FileBytes b = good_file();
    b.bytes[6] = '2';
    expect_refused(&b, b.size, "magic");
    Fixture f;
    Error err;
    cr_assert_not(fixture_read(&f, "/nonexistent/x.bin", &err));
    expect_mentions(err.message, "/nonexistent/x.bin");
}

Test(fixture, refuses_a_file_cut_anywhere_or_with_bytes_after_the_end) {
    FileBytes b = good_file();
    for (size_t n = 0; n < b.size; n++) expect_refused(&b, n, "");
    b.bytes[b.size++] = 0;
    expect_refused(&b, b.size, "after the last tensor");
}

Test(fixture, refuses_absurd_counts_and_sizes) {
    FileBytes b = good_file();
    FileBytes wrong = b;
    wrong.bytes[8] = 0; // count 0
    expect_refused(&wrong, wrong.size, "tensors");
    wrong = b;
    wrong.bytes[11] = 0x7f; // count about 2^31
    expect_refused(&wrong, wrong.size, "tensors");
    wrong = b;
    wrong.bytes[12] = 0; // name length 0
    expect_refused(&wrong, wrong.size, "name");
    wrong = b;
    wrong.bytes[24] = 5; // a.weight with 5 dimensions
    expect_refused(&wrong, wrong.size, "5 dimensions");
    wrong = b;
    wrong.bytes[28] = 0; // a.weight (0,3)
    expect_refused(&wrong, wrong.size, "dimension 0 is 0");
    wrong = b;
    wrong.bytes[31] = 0x40; // a.weight (2^30 + 2, 3)
    expect_refused(&wrong, wrong.size, "cannot fit");
}

Test(fixture, refuses_two_tensors_with_the_same_name) {
    FileBytes b = {.size = 8};
    memcpy(b.bytes, FIXTURE_MAGIC, 8);
    put_u32(&b, 2);
    put_tensor(&b, "x", 1, (int[]){2});
    put_tensor(&b, "x", 1, (int[]){2});
    expect_refused(&b, b.size, "two tensors named x");
}

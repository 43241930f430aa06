// fixture.h — reading the PyTorch reference files that tools/reference.py
// writes into tests/fixtures/ (`make reference`), so the tests can hold each
// C layer to torch's own modules without needing Python themselves.
//
// The format (little-endian; also in docs/reference-format.md):
//
//     magic     8 bytes  "VITREF1\n"
//     count     u32      number of tensors
//     count times:
//       name_len  u32     1..127
//       name      name_len bytes, no NUL         "block.ln_1.weight"
//       ndim      u32     1..4
//       dims      ndim u32, each >= 1            PyTorch's layout, e.g. Linear (out, in)
//       data      float32 x product(dims), row-major
//
// and nothing after the last tensor. Names are unique within a file.
//
//   Fixture f;
//   fixture_load(&f, "02_embedding.bin");               // tests/fixtures/02_embedding.bin
//   float *w = fixture_get(&f, "linear.weight", 5, 12);  // must be (5,12)
//   ...
//   fixture_free(&f);
//
// fixture_load and fixture_get fail the running Criterion test with a message
// naming the file (and the tensor) when something is wrong; fixture_read is the
// same parser returning the message instead.
#ifndef FIXTURE_H
#define FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include "error.h"

#define FIXTURE_DIR      "tests/fixtures" // relative to the repository root
#define FIXTURE_MAX_DIMS 4

typedef struct {
    char name[128];
    int ndim;                    // 1..FIXTURE_MAX_DIMS
    int shape[FIXTURE_MAX_DIMS]; // the first ndim are used
    size_t count;                // product of the shape
    float *data;                 // (count), inside the fixture's one allocation
} FixtureTensor;

typedef struct {
    char path[1024];
    int count;
    FixtureTensor *tensors; // (count), in file order
    float *memory;          // every tensor's data, back to back
} Fixture;

// Parses the reference file at path into f; on any problem returns false with
// err saying "<path>: <what is wrong>" and f empty.
bool fixture_read(Fixture *f, const char *path, Error *err);

// Reads FIXTURE_DIR/<name>, failing the current test if it cannot.
void fixture_load(Fixture *f, const char *name);

// The tensor with this name, or NULL.
const FixtureTensor *fixture_find(const Fixture *f, const char *name);

// The data of the tensor with this name, which must have exactly the shape
// given; fails the current test naming the file and the tensor otherwise.
//     float *x = fixture_get(&f, "mha.x", B, T, C);
float *fixture_get_shaped(const Fixture *f, const char *name, int ndim, const int *shape);
#define fixture_get(f, name, ...)                                                                  \
    fixture_get_shaped((f), (name), (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)),             \
                       (int[]){__VA_ARGS__})

// The tensor "<prefix>.<field>", which must have the shape given: for the
// fixtures that keep each case's tensors under its own prefix.
//     float *x = fixture_get_field(&f, "stdconv", "grad.x", B, Cin, H, W);
float *fixture_get_field_shaped(const Fixture *f, const char *prefix, const char *field, int ndim,
                                const int *shape);
#define fixture_get_field(f, prefix, field, ...)                                                   \
    fixture_get_field_shaped((f), (prefix), (field),                                               \
                             (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)),                    \
                             (int[]){__VA_ARGS__})

void fixture_free(Fixture *f);

#endif

// fuzz/idx.c — the IDX reader (idx.h), gzipped or plain: the input is the
// file's bytes (gunzip.h decides by the magic 1f 8b), read as labels (1
// dimension) and as images (3 dimensions).
#include <stdint.h>
#include "fuzz_file.h"
#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file("data-idx-ubyte", data, size);
    for (int ndims = 1; ndims <= IDX_MAX_DIMS; ndims += 2) {
        IdxArray a;
        Error err;
        if (idx_read(path, ndims, &a, &err)) idx_free(&a);
    }
    return 0;
}

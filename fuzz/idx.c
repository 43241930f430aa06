// fuzz/idx.c — the IDX reader (idx.h), gzipped or plain: the input is the
// file's bytes (gunzip.h decides by the magic 1f 8b), read as labels (1
// dimension) and as images (3 dimensions) through idx_read_from, the code
// idx_read runs once the file is open, over the bytes in memory.
#include <stdint.h>
#include <stdlib.h>
#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Input in;
    Error err;
    if (!input_open_memory(&in, data, size, "data-idx-ubyte", &err)) abort();
    for (int ndims = 1; ndims <= IDX_MAX_DIMS; ndims += 2) {
        IdxArray a;
        if (idx_read_from(&in, ndims, &a, &err)) idx_free(&a);
    }
    input_close(&in);
    return 0;
}

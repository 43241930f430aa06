// idx.h — reads IDX files, the format of MNIST and Fashion-MNIST: a 4-byte
// magic (0, 0, type 0x08 = unsigned byte, number of dimensions), one big-endian
// 32-bit size per dimension, then the bytes. Gzipped or plain (gunzip.h reads
// both, checking gzip's CRC and length). Everything is checked before use:
// magic, dimensions, sizes, exact length.
#ifndef IDX_H
#define IDX_H

#include <stdbool.h>
#include "error.h"
#include "files.h"

#define IDX_MAX_DIMS  3
#define IDX_MAX_BYTES (1L << 30) // refuse headers that promise more than 1 GiB

typedef struct {
    int ndims;              // 1 for labels, 3 for images
    int dims[IDX_MAX_DIMS]; // e.g. (count, rows, cols)
    unsigned char *data;    // product of dims bytes, row-major
} IdxArray;

// Reads path, which must hold an unsigned-byte array of `ndims` dimensions.
// On failure returns false with "path: problem" in err and out untouched.
bool idx_read(const char *path, int ndims, IdxArray *out, Error *err);
// The same from an Input (files.h): a file open, or bytes in memory; messages name in->name.
bool idx_read_from(Input *in, int ndims, IdxArray *out, Error *err);
void idx_free(IdxArray *array);

#endif

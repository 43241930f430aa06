// idx.c — a validating reader for IDX files, gzipped or plain.
#include "idx.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "gunzip.h"

// Reads exactly n bytes: 1, or 0 if the data ends first, or -1 with err set
// (a corrupt or unreadable file).
static int read_exact(Gunzip *f, void *buf, long n, Error *err) {
    unsigned char *p = buf;
    while (n > 0) {
        long got = gunzip_read(f, p, n > (1L << 24) ? (1L << 24) : n, err);
        if (got <= 0) return (int)got;
        p += got;
        n -= got;
    }
    return 1;
}

// The payload buffer's first size: 64 KiB, so a small file costs little
// (AddressSanitizer maps and unmaps a 1 MiB block on every call, which made the
// fuzz target 8 times slower), and Fashion-MNIST's 47 MB take 10 doublings.
#define FIRST_BUFFER (1L << 16)

static uint32_t big_endian_u32(const unsigned char b[4]) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

// region: idx-header
// Checks the magic number and reads the sizes. Returns the payload size in
// bytes (at least 1), or 0 (false) with err filled in.
static long read_header(Gunzip *f, const char *path, int ndims, int dims[], Error *err) {
    unsigned char magic[4];
    int got = read_exact(f, magic, 4, err);
    if (got <= 0) return got < 0 ? false : error_set(err, "%s: too short for an IDX header", path);
    if (magic[0] != 0 || magic[1] != 0)
        return error_set(err, "%s: not an IDX file (magic starts %02x %02x, expected 00 00)", path,
                         magic[0], magic[1]);
    if (magic[2] != 0x08)
        return error_set(err, "%s: IDX element type 0x%02x, expected 0x08 (unsigned byte)", path,
                         magic[2]);
    if (magic[3] != ndims)
        return error_set(err, "%s: IDX file has %d dimensions, expected %d", path, magic[3], ndims);
    long bytes = 1;
    for (int d = 0; d < ndims; d++) {
        unsigned char size[4];
        got = read_exact(f, size, 4, err);
        if (got <= 0)
            return got < 0 ? false
                           : error_set(err, "%s: truncated header (size of dimension %d missing)",
                                       path, d);
        uint32_t n = big_endian_u32(size);
        if (n == 0 || n > IDX_MAX_BYTES || bytes * (long)n > IDX_MAX_BYTES)
            return error_set(err, "%s: absurd size %u in dimension %d (at most %ld bytes in all)",
                             path, n, d, IDX_MAX_BYTES);
        dims[d] = (int)n;
        bytes *= n;
    }
    return bytes;
}
// endregion: idx-header

// The data, then the end of the file (for a gzip file, its trailers checked).
// The buffer grows as the data arrives (from FIRST_BUFFER, doubling, up to
// what the header promises), so a short file whose header promises a gigabyte
// costs what it holds, not a gigabyte. Returns the data, or NULL with err set.
static unsigned char *read_payload(Gunzip *f, const char *path, long bytes, Error *err) {
    long have = 0, capacity = 0;
    unsigned char *data = NULL;
    while (have < bytes) {
        if (have == capacity) {
            capacity = capacity == 0 ? FIRST_BUFFER : 2 * capacity;
            if (capacity > bytes) capacity = bytes;
            unsigned char *grown = realloc(data, (size_t)capacity);
            if (grown == NULL) {
                free(data);
                error_set(err, "%s: out of memory for %ld bytes of data", path, capacity);
                return NULL;
            }
            data = grown;
        }
        int got = read_exact(f, data + have, capacity - have, err);
        if (got <= 0) {
            free(data);
            if (got == 0)
                error_set(err, "%s: truncated: the header promises %ld bytes of data", path, bytes);
            return NULL;
        }
        have = capacity;
    }
    unsigned char extra;
    long more = gunzip_read(f, &extra, 1, err);
    if (more != 0) {
        free(data);
        if (more > 0)
            error_set(err, "%s: has data past the %ld bytes its header promises", path, bytes);
        return NULL;
    }
    return data;
}

bool idx_read(const char *path, int ndims, IdxArray *out, Error *err) {
    Input in;
    if (!input_open_file(&in, path, err)) return false;
    bool ok = idx_read_from(&in, ndims, out, err);
    input_close(&in);
    return ok;
}

bool idx_read_from(Input *in, int ndims, IdxArray *out, Error *err) {
    assert(ndims >= 1 && ndims <= IDX_MAX_DIMS);
    const char *path = in->name;
    Gunzip f;
    if (!gunzip_open(&f, in, err)) return false;
    IdxArray a = {.ndims = ndims};
    long bytes = read_header(&f, path, ndims, a.dims, err);
    if (bytes > 0) a.data = read_payload(&f, path, bytes, err);
    gunzip_close(&f);
    if (a.data == NULL) return false;
    *out = a;
    return true;
}

void idx_free(IdxArray *array) {
    free(array->data);
    array->data = NULL;
}

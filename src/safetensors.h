// safetensors.h — checkpoints in the safetensors format (Hugging Face): an
// 8-byte little-endian header length, a JSON header naming every tensor's
// dtype, shape and byte range, and a "__metadata__" object of strings; then
// the raw little-endian data. Here every tensor is F32. A model trained here
// opens in PyTorch (safetensors.torch.load_file, or a few lines of Python),
// and a torchvision VisionTransformer saved this way loads here.
#ifndef SAFETENSORS_H
#define SAFETENSORS_H

#include <stdbool.h>
#include "error.h"
#include "files.h"
#include "tensors.h"

// A hybrid's checkpoint has 33 entries (model, format, 19 of the stem, 8 of
// the encoder, pool, representation_size, image_mean, image_std).
#define SAFETENSORS_MAX_META 64

// A file's metadata: its entries whose values are shorter than 256 bytes (a
// longer one, such as a classifier's 1,000 class names, is read by
// safetensors_read_meta_text).
typedef struct {
    int count;
    char keys[SAFETENSORS_MAX_META][64];
    char values[SAFETENSORS_MAX_META][256];
    unsigned long long data_bytes; // bytes of tensor data in the file read; 0 when made here
} SafetensorsMeta;

// Sets key to value (adds it, or replaces the old value).
void safetensors_meta_set(SafetensorsMeta *meta, const char *key, const char *value);
// The value of key, or NULL.
const char *safetensors_meta_get(const SafetensorsMeta *meta, const char *key);

// Writes every tensor of t under its name, with meta, atomically.
bool safetensors_write(const char *path, const Tensors *t, const SafetensorsMeta *meta, Error *err);

// Reads path's metadata only (to learn the configuration before building a
// model), and how many bytes of tensor data the file holds (its layout checked).
bool safetensors_read_meta(const char *path, SafetensorsMeta *meta, Error *err);

// Fills every tensor of t from path: each must be present, F32, with the same
// shape; the file may not hold tensors t does not have. Refuses a truncated
// file, a bad header, overlapping or out-of-range data with a message naming
// the file and the tensor.
bool safetensors_read(const char *path, Tensors *t, Error *err);

// The same two from an Input (files.h): a file open, or bytes in memory;
// messages name in->name. Each reads from the start of in.
bool safetensors_read_meta_from(Input *in, SafetensorsMeta *meta, Error *err);
bool safetensors_read_from(Input *in, Tensors *t, Error *err);
// The whole value of one metadata key, of any length, into *value (allocated,
// free it; NULL when the file has no such key); the header checked as above.
bool safetensors_read_meta_text(Input *in, const char *key, char **value, Error *err);

#endif

// tensors.h — many named tensors in one allocation. A model lists each tensor
// once — its name, its shape and the pointer that should point at it — and
// tensors_alloc lays them out back to back in one zeroed buffer and sets every
// pointer. The one list serves for allocation, for counting parameters, and
// (with PyTorch's names) for checkpoints and reference files.
#ifndef TENSORS_H
#define TENSORS_H

#include <stddef.h>

#define TENSORS_MAX_DIMS 4

typedef struct {
    char name[128];                // "encoder.ln.weight"
    int ndim;                      // 1..TENSORS_MAX_DIMS
    int shape[TENSORS_MAX_DIMS];   // PyTorch's layout, e.g. Linear (out, in)
    size_t offset;                 // in floats, from the start of memory
    size_t count;                  // product of the shape
    float **slot;                  // set to memory + offset by tensors_alloc
} TensorEntry;

typedef struct {
    TensorEntry *entries;
    int count, capacity;
    int *slots;                    // (2 * capacity) entry numbers by hash of the name, -1 empty
    size_t total;                  // floats in all
    float *memory;                 // (total), after tensors_alloc
} Tensors;

void tensors_init(Tensors *t);
// Appends a tensor; the name is printf-style (`"layer_%d.weight", l`).
void tensors_add(Tensors *t, float **slot, int ndim, const int *shape, const char *name_fmt, ...)
    __attribute__((format(printf, 5, 6)));
// One zeroed allocation for all tensors; sets every slot.
void tensors_alloc(Tensors *t);
// The entry with this exact name, or NULL; as fast for 10 entries as for 10^6
// (a hash table of the names).
const TensorEntry *tensors_find(const Tensors *t, const char *name);
void tensors_free(Tensors *t);

#endif

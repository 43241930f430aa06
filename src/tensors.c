// tensors.c — named tensors laid out back to back in one zeroed allocation.
#include "tensors.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"

void tensors_init(Tensors *t) {
    *t = (Tensors){0};
}

// region: tensors-add
void tensors_add(Tensors *t, float **slot, int ndim, const int *shape, const char *name_fmt, ...) {
    assert(t->memory == NULL && "tensors_add after tensors_alloc");
    assert(slot != NULL && ndim >= 1 && ndim <= TENSORS_MAX_DIMS);
    if (t->count == t->capacity) {
        t->capacity = t->capacity ? 2 * t->capacity : 16;
        TensorEntry *grown = xmalloc(sizeof(TensorEntry) * t->capacity);
        if (t->count > 0) memcpy(grown, t->entries, sizeof(TensorEntry) * t->count);
        free(t->entries);
        t->entries = grown;
    }
    TensorEntry *e = &t->entries[t->count];
    va_list args;
    va_start(args, name_fmt);
    int length = vsnprintf(e->name, sizeof e->name, name_fmt, args);
    va_end(args);
    assert(length >= 0 && (size_t)length < sizeof e->name && "tensor name too long");
    (void)length;
    assert(tensors_find(t, e->name) == NULL && "two tensors with the same name");
    e->ndim = ndim;
    e->count = 1;
    for (int d = 0; d < TENSORS_MAX_DIMS; d++) {
        assert(d >= ndim || shape[d] > 0);
        e->shape[d] = d < ndim ? shape[d] : 0;
        if (d < ndim) e->count *= (size_t)shape[d];
    }
    e->offset = t->total;
    e->slot = slot;
    t->total += e->count;
    t->count++;
}

void tensors_alloc(Tensors *t) {
    assert(t->memory == NULL && "tensors_alloc called twice");
    t->memory = xcalloc(t->total > 0 ? t->total : 1, sizeof(float));
    for (int i = 0; i < t->count; i++) *t->entries[i].slot = t->memory + t->entries[i].offset;
}
// endregion: tensors-add

const TensorEntry *tensors_find(const Tensors *t, const char *name) {
    for (int i = 0; i < t->count; i++)
        if (strcmp(t->entries[i].name, name) == 0) return &t->entries[i];
    return NULL;
}

void tensors_free(Tensors *t) {
    free(t->entries);
    free(t->memory);
    *t = (Tensors){0};
}

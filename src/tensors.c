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

// ---- the names' hash table: 2 * capacity slots, open addressing ----------------

// FNV-1a of name.
static size_t name_hash(const char *name) {
    size_t h = 2166136261u;
    for (const unsigned char *c = (const unsigned char *)name; *c; c++) h = (h ^ *c) * 16777619u;
    return h;
}

// The slot holding name, or the empty slot where it would go.
static int *find_slot(const Tensors *t, const char *name) {
    size_t mask = 2 * (size_t)t->capacity - 1; // capacity is a power of 2
    size_t i = name_hash(name) & mask;
    while (t->slots[i] >= 0 && strcmp(t->entries[t->slots[i]].name, name) != 0) i = (i + 1) & mask;
    return &t->slots[i];
}

// Twice the room for entries, and the table rebuilt for it.
static void grow(Tensors *t) {
    t->capacity = t->capacity ? 2 * t->capacity : 16;
    TensorEntry *grown = xmalloc(sizeof(TensorEntry) * t->capacity);
    if (t->count > 0) memcpy(grown, t->entries, sizeof(TensorEntry) * t->count);
    free(t->entries);
    t->entries = grown;
    free(t->slots);
    t->slots = xmalloc(sizeof(int) * 2 * (size_t)t->capacity);
    for (int i = 0; i < 2 * t->capacity; i++) t->slots[i] = -1;
    for (int i = 0; i < t->count; i++) *find_slot(t, t->entries[i].name) = i;
}

// region: tensors-add
void tensors_add(Tensors *t, float **slot, int ndim, const int *shape, const char *name_fmt, ...) {
    assert(t->memory == NULL && "tensors_add after tensors_alloc");
    assert(slot != NULL && ndim >= 1 && ndim <= TENSORS_MAX_DIMS);
    if (t->count == t->capacity) grow(t);
    TensorEntry *e = &t->entries[t->count];
    va_list args;
    va_start(args, name_fmt);
    int length = vsnprintf(e->name, sizeof e->name, name_fmt, args);
    va_end(args);
    assert(length >= 0 && (size_t)length < sizeof e->name && "tensor name too long");
    (void)length;
    int *named = find_slot(t, e->name);
    assert(*named < 0 && "two tensors with the same name");
    *named = t->count;
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
    if (t->count == 0) return NULL;
    int i = *find_slot(t, name);
    return i < 0 ? NULL : &t->entries[i];
}

void tensors_free(Tensors *t) {
    free(t->entries);
    free(t->slots);
    free(t->memory);
    *t = (Tensors){0};
}

// tensors.c — named tensors laid out back to back in one zeroed allocation.
#define _DEFAULT_SOURCE // madvise
#include "tensors.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

// count zeroed floats. A large block (a model's weights, a batch's activations) is
// asked for in 2 MiB pages, which Linux gives where it can (transparent huge
// pages): ViT-B/16's 346 MB of weights, all read for every image, then need 173
// entries in the page tables instead of 84,500 (docs/bench.md measures what that
// saves). Elsewhere the hint is ignored and the pages are the usual 4 KiB.
static float *zeroed_floats(size_t count) {
    enum { HUGE_PAGE = 2 << 20 };
    if (count < HUGE_PAGE / sizeof(float) || count > (SIZE_MAX - HUGE_PAGE) / sizeof(float))
        return xcalloc(count, sizeof(float)); // small, or more than any allocation
    size_t rounded = (count * sizeof(float) + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    float *p = aligned_alloc(HUGE_PAGE, rounded);
    if (p == NULL) {
        fprintf(stderr, "out of memory allocating %zu bytes\n", rounded);
        exit(1);
    }
#ifdef MADV_HUGEPAGE
    madvise(p, rounded, MADV_HUGEPAGE);
#endif
    memset(p, 0, rounded);
    return p;
}

void tensors_alloc(Tensors *t) {
    assert(t->memory == NULL && "tensors_alloc called twice");
    t->memory = zeroed_floats(t->total > 0 ? t->total : 1);
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

// slices.c — a batch shared among threads: how many, which images each, the
// views of the activations, and the ordered sum of the parameter gradients.
#include "slices.h"

#include <omp.h>

// region: slices
int slices_count(int built, int B) {
    int n = omp_get_max_threads();
    n = n < built ? n : built;
    return n < B ? n : B;
}

int slices_share(int s, int n, int B, int *b0) {
    *b0 = B * s / n;
    return B * (s + 1) / n - *b0;
}

void slices_aim(Tensors *view, const Tensors *whole, int b0, int B) {
    for (int i = 0; i < whole->count; i++) {
        const TensorEntry *e = &whole->entries[i];
        *view->entries[i].slot = whole->memory + e->offset + (size_t)b0 * (e->count / B);
    }
}

void slices_add_gradients(float *total, size_t count, float *const *parts, int n) {
    if (n == 1) return; // slice 0's gradients are already the total
#pragma omp for schedule(static)
    for (size_t i = 0; i < count; i++)
        for (int t = 1; t < n; t++) total[i] += parts[t][i];
}
// endregion: slices

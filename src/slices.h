// slices.h — data parallelism over a batch, for any model: each thread runs
// the whole model on its own slice of the images. A slice sees the model's
// activations and their gradients through views (Tensors listed as the
// model's, aimed at the slice's first image: every activation is (B, ...)),
// and has its own parameter gradients, added into the model's at the end in
// slice order, so that the sum, and so training, is the same bits on every
// run with the same number of threads (slice 0 adds straight into the
// model's gradients).
#ifndef SLICES_H
#define SLICES_H

#include <stddef.h>
#include "tensors.h"

// How many threads share a batch of B images: the threads OpenMP offers, at
// most built (the slices the model was built with), at least one image each.
int slices_count(int built, int B);

// Slice s of n of a batch of B images: *b0 is its first image; returns how many it has.
int slices_share(int s, int n, int B, int *b0);

// Points every tensor of view (listed as whole is, for batches of B images) at
// image b0 of whole's.
void slices_aim(Tensors *view, const Tensors *whole, int b0, int B);

// Called by every thread of a parallel region of n: total (count) += parts[t]
// (count) for t = 1 .. n-1, in that order at every index (parts[0] is unused:
// slice 0's gradients are total itself).
void slices_add_gradients(float *total, size_t count, float *const *parts, int n);

#endif

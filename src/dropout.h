// dropout.h — inverted dropout: while training, each value is zeroed with
// probability p and the others scaled by 1/(1-p), so that nothing changes at
// test time. The mask is drawn once per batch and kept for the backward pass.
#ifndef DROPOUT_H
#define DROPOUT_H

#include <stddef.h>
#include "rng.h"

// mask (n): 0 with probability p, else 1/(1-p).
void dropout_draw(float *mask, size_t n, float p, Rng *rng);
// x (n) *= mask (n): dropout forward, and its backward on the gradient.
void dropout_apply(float *x, const float *mask, size_t n);

#endif

// adamw.h — Adam with decoupled weight decay (Loshchilov and Hutter, 2019),
// over all parameters at once (they are one allocation), with the learning
// rate schedule of the paper's training (linear warmup, then cosine decay to
// zero) and gradient clipping by global norm.
#ifndef ADAMW_H
#define ADAMW_H

#include <stdbool.h>
#include <stddef.h>
#include "tensors.h"

typedef struct {
    float beta1, beta2, eps;   // 0.9, 0.999, 1e-8
    float weight_decay;        // applied as lr * wd * param, only where decays[i]
    size_t count;              // number of parameters
    float *m, *v;              // (count) first and second moment estimates
    unsigned char *decays;     // (count) 1 where weight decay applies
    long step;                 // steps taken
} AdamW;

// Decay applies to weight matrices only: not to biases, norms, the class
// token or position embeddings (decided by name, from params).
void adamw_build(AdamW *opt, const Tensors *params, float weight_decay);
void adamw_free(AdamW *opt);
// One update of params (count) with grads (count) at learning rate lr.
void adamw_step(AdamW *opt, float *params, const float *grads, float lr);

// Scales grads (count) so their global L2 norm is at most max_norm (if
// max_norm > 0); returns the norm before clipping.
float clip_grad_norm(float *grads, size_t count, float max_norm);

// The learning rate at step (0-based) of total: linear warmup from 0 over
// warmup steps to peak, then cosine decay to 0 at total.
float lr_schedule(long step, long warmup, long total, float peak);

#endif

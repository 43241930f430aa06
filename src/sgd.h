// sgd.h — stochastic gradient descent with momentum, the optimizer the paper
// fine-tunes with (its section 4.1 and appendix B.1.1: momentum 0.9, batch 512,
// no weight decay, gradients clipped at global norm 1, cosine decay of the
// learning rate). As PyTorch's torch.optim.SGD without dampening or Nesterov:
//     v ← μ·v + g        p ← p − lr·v
// with v starting at zero, over all parameters at once (one allocation, as
// AdamW's in adamw.h, whose clipping and schedule go with it).
#ifndef SGD_H
#define SGD_H

#include <stddef.h>

typedef struct {
    float momentum;  // μ
    size_t count;    // number of parameters
    float *velocity; // (count) v
    long step;       // steps taken
} Sgd;

void sgd_build(Sgd *opt, size_t count, float momentum);
void sgd_free(Sgd *opt);
// One update of params (count) with grads (count) at learning rate lr.
void sgd_step(Sgd *opt, float *params, const float *grads, float lr);

#endif

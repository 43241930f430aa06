// head.h — the classification head on the encoder's output (B,T,C): pool the
// tokens (the class token, or the mean of the patch tokens), optionally pass
// through a hidden tanh layer (the paper's pre-training "pre-logits"), then a
// linear layer to K logits. torchvision's names: heads.pre_logits, heads.head.
#ifndef HEAD_H
#define HEAD_H

#include <stdbool.h>
#include "rng.h"
#include "tensors.h"

typedef struct {
    bool mean_pool;    // pool the mean of the patch tokens instead of the class token
    bool pre_logits;   // a hidden Linear(C,C) + tanh before the classifier
} HeadOptions;

typedef struct {
    float *pre_w, *pre_b;   // (C,C), (C) heads.pre_logits (when pre_logits)
    float *w, *b;           // (K,C), (K) heads.head
} HeadWeights;

typedef struct {
    float *pooled;   // (B,C) the class token, or the mean of tokens 1..T-1
    float *pre;      // (B,C) pre_logits before tanh (when pre_logits)
    float *hidden;   // (B,C) tanh(pre), or pooled itself without pre_logits
    float *logits;   // (B,K)
    const float *mask; // (B,C) dropout mask multiplied into hidden before the classifier
                       // while training, or NULL (head_acts_add sets NULL; vit_forward sets it)
} HeadActivations;

void head_params_add(Tensors *t, HeadWeights *w, const HeadOptions *opt, int C, int K);
// The paper's fine-tuning start: the classifier zero (every logit 0); the
// pre-logits layer, when there is one, LeCun normal cut at ±2 std, bias 0.
void head_init(HeadWeights *w, const HeadOptions *opt, int C, int K, Rng *rng);
void head_acts_add(Tensors *t, HeadActivations *a, const HeadOptions *opt, int B, int C, int K);

// logits a->logits (B,K) from encoded (B,T,C).
void head_forward(HeadActivations *a, const float *encoded, const HeadWeights *w,
                  const HeadOptions *opt, int B, int T, int C, int K);
// From dlogits (B,K): accumulates into grads and into dencoded (B,T,C);
// da is scratch (overwritten).
void head_backward(float *dencoded, HeadWeights *grads, HeadActivations *da, const float *dlogits,
                   const HeadActivations *a, const HeadWeights *w, const HeadOptions *opt, int B,
                   int T, int C, int K);

#endif

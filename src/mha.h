// mha.h — multi-head self-attention, in torch.nn.MultiheadAttention's layout:
//     qkv  = x · in_proj_weight^T + in_proj_bias     (B,T,3C): q | k | v
//     head h sees columns h*hs .. (h+1)*hs of q, k and v, hs = C/NH
//     each head runs attention_forward; the heads' outputs are concatenated
//     out  = concat · out_proj_weight^T + out_proj_bias   (B,T,C)
#ifndef MHA_H
#define MHA_H

#include "tensors.h"

typedef struct {
    const float *in_proj_weight;    // (3C,C): rows of Wq, then Wk, then Wv
    const float *in_proj_bias;      // (3C)
    const float *out_proj_weight;   // (C,C)
    const float *out_proj_bias;     // (C)
} MhaWeights;

typedef struct {
    float *qkv;      // (B,T,3C) the input projection
    float *q, *k, *v; // (B,NH,T,hs) each, split into heads
    float *att;      // (B,NH,T,T) attention weights of every head
    float *heads;    // (B,NH,T,hs) each head's output
    float *concat;   // (B,T,C) the heads side by side
} MhaActivations;

// Lists the activations in t (names "<prefix>.qkv", ...), to be allocated
// with everything else by tensors_alloc.
void mha_activations_add(Tensors *t, MhaActivations *acts, int B, int T, int C, int NH,
                         const char *prefix);

// out (B,T,C) from x (B,T,C); C % NH == 0.
void mha_forward(float *out, MhaActivations *acts, const float *x, const MhaWeights *w, int B,
                 int T, int C, int NH);

// Only the class token's row of mha_forward, all a classifier reads of the last
// block: out (B,C), image b's class token in row b, from x (B,T,C). The keys and
// values come from every token, the query from token 0 alone. acts->qkv holds
// every token's projection, acts->att row 0 of each head's (T,T) weights,
// acts->concat (B,C) the heads of each class token; q, k, v and heads are unused.
void mha_forward_class(float *out, MhaActivations *acts, const float *x, const MhaWeights *w,
                       int B, int T, int C, int NH);

// Gradients of the parameters, in the layout of MhaWeights.
typedef struct {
    float *in_proj_weight;    // (3C,C)
    float *in_proj_bias;      // (3C)
    float *out_proj_weight;   // (C,C)
    float *out_proj_bias;     // (C)
} MhaGrads;

// The backward pass (the convention: linear.h): dx (B,T,C) and grads += from
// dout (B,T,C); dacts holds scratch gradients of the activations (the shapes
// of acts; overwritten).
void mha_backward(float *dx, MhaGrads *grads, MhaActivations *dacts, const float *dout,
                  const MhaActivations *acts, const float *x, const MhaWeights *w, int B, int T,
                  int C, int NH);

#endif

// backward.h — the backward pass of every layer of chapters 02–05. Each
// function is given the gradient of the loss with respect to its output
// (`dout`), and ADDS (+=) the gradients with respect to its input and its
// parameters into the `d...` buffers, so that a tensor used twice (a residual
// stream) collects both contributions; callers zero the buffers once per step.
// Inputs and activations are those the forward pass saw. Any d-pointer for a
// gradient that is not wanted may be NULL.
//
// One file per layer implements these (linear_backward.c, ...); the forward
// line each backward differentiates is quoted beside it.
#ifndef BACKWARD_H
#define BACKWARD_H

#include "encoder.h"
#include "mha.h"

// linear: out (R,OUT) = in (R,IN) · weight (OUT,IN)^T + bias (OUT)
//   din (R,IN) += dout · weight;  dweight (OUT,IN) += dout^T · in;  dbias (OUT) += Σ_rows dout
void linear_backward(float *din, float *dweight, float *dbias, const float *dout, const float *in,
                     const float *weight, int R, int IN, int OUT);

// layernorm: out = (x - mean) * rstd * weight + bias, per row of C;
// mean, rstd (R) as saved by layernorm_forward.
void layernorm_backward(float *dx, float *dweight, float *dbias, const float *dout, const float *x,
                        const float *weight, const float *mean, const float *rstd, int R, int C);

// gelu: out = x Φ(x);  dx += dout * (Φ(x) + x φ(x))
void gelu_backward(float *dx, const float *dout, const float *x, int n);

// one attention head: att = softmax(q k^T / sqrt(hs)), out = att v
//   datt (B,T,T) is scratch space, overwritten.
void attention_backward(float *dq, float *dk, float *dv, float *datt, const float *dout,
                        const float *att, const float *q, const float *k, const float *v, int B,
                        int T, int hs);

// Gradients of multi-head attention's parameters, torch's layout (mha.h).
typedef struct {
    float *in_proj_weight;    // (3C,C)
    float *in_proj_bias;      // (3C)
    float *out_proj_weight;   // (C,C)
    float *out_proj_bias;     // (C)
} MhaGrads;

// multi-head self-attention; dacts holds scratch gradients of the
// activations (same shapes as acts; overwritten).
void mha_backward(float *dx, MhaGrads *grads, MhaActivations *dacts, const float *dout,
                  const MhaActivations *acts, const float *x, const MhaWeights *w, int B, int T,
                  int C, int NH);

// tokens: tokens[b,0] = class_token + pos[0], tokens[b,1+n] = patch_emb[b,n] + pos[1+n]
void tokens_backward(float *dpatch_emb, float *dclass_token, float *dpos, const float *dtokens,
                     int B, int N, int C);

// one pre-LN block; dacts holds the block's scratch activation gradients
// (overwritten). dx (B,T,C) += ...
void block_backward(float *dx, BlockWeights *grads, BlockActivations *dacts, const float *dout,
                    const float *x, const BlockActivations *acts, const BlockWeights *w, int B,
                    int T, int C, int MLP, int NH);

// The encoder's second half backward: from d(out) (B,T,C) through the final
// LayerNorm and the blocks to dacts->tokens (B,T,C), overwritten. grads += (NULL:
// none wanted); dacts is scratch, but dacts->out is not touched (it may hold dout).
void encoder_blocks_backward(EncoderWeights *grads, EncoderActivations *dacts, const float *dout,
                             const EncoderActivations *acts, const EncoderWeights *w,
                             const VitConfig *cfg, int B);
// The first half backward: from dacts->tokens to the embedding's parameters, and
// to the images (B,Cin,H,W) when dimages is not NULL (+=). The patches in acts
// stand for the images.
void encoder_embed_backward(EncoderWeights *grads, EncoderActivations *dacts, float *dimages,
                            const EncoderActivations *acts, const EncoderWeights *w,
                            const VitConfig *cfg, int B);
// The whole encoder, both halves: from d(out) back to every parameter and to the images.
void encoder_backward(EncoderWeights *grads, EncoderActivations *dacts, float *dimages,
                      const float *dout, const EncoderActivations *acts, const EncoderWeights *w,
                      const VitConfig *cfg, int B);

#endif

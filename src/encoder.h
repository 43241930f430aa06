// encoder.h — the Transformer encoder of the ViT (pre-LN, as in the paper and
// torchvision):
//     x = x + MHA(LN1(x))
//     x = x + MLP(LN2(x)),  MLP(x) = fc2(GELU(fc1(x)))
// stacked L times and followed by a final LayerNorm. Parameters carry
// torchvision's names (`encoder.layers.encoder_layer_0.ln_1.weight`, ...),
// so a checkpoint maps one to one.
#ifndef ENCODER_H
#define ENCODER_H

#include "gelu.h"
#include "mha.h"
#include "rng.h"
#include "tensors.h"
#include "vit_config.h"

typedef struct {
    float *ln1_w, *ln1_b;   // (C) ln_1
    float *qkv_w, *qkv_b;   // (3C,C), (3C) self_attention.in_proj_*
    float *proj_w, *proj_b; // (C,C), (C) self_attention.out_proj.*
    float *ln2_w, *ln2_b;   // (C) ln_2
    float *fc1_w, *fc1_b;   // (MLP,C), (MLP) mlp.0
    float *fc2_w, *fc2_b;   // (C,MLP), (C) mlp.3
    GeluForm gelu;          // not a parameter: the MLP's GELU, GELU_ERF (0) unless set
} BlockWeights;

typedef struct {
    float *conv_w, *conv_b; // (C,Cin,P,P), (C) conv_proj: the patch embedding
    float *class_token;     // (C) class_token
    float *pos;             // (T,C) encoder.pos_embedding
    BlockWeights *layers;   // (L)
    float *ln_w, *ln_b;     // (C) encoder.ln
} EncoderWeights;

typedef struct {
    float *ln1;                 // (B,T,C) LN1(x)
    float *ln1_mean, *ln1_rstd; // (B,T)
    MhaActivations attn;
    float *attn_out;            // (B,T,C) MHA(LN1(x))
    float *res1;                // (B,T,C) x + MHA(LN1(x))
    float *ln2;                 // (B,T,C)
    float *ln2_mean, *ln2_rstd; // (B,T)
    float *fc1;                 // (B,T,MLP) before GELU
    float *gelu;                // (B,T,MLP)
    float *fc2;                 // (B,T,C)
    float *out;                 // (B,T,C) res1 + fc2: the block's output
} BlockActivations;

typedef struct {
    float *patches;           // (B,N,Cin*P*P)
    float *patch_emb;         // (B,N,C)
    float *tokens;            // (B,T,C) class token + patches + positions
    BlockActivations *layers; // (L)
    float *ln_mean, *ln_rstd; // (B,T)
    float *out;               // (B,T,C) after the final LayerNorm
} EncoderActivations;

typedef struct {
    VitConfig cfg;
    int B; // batch size the activations are sized for
    EncoderWeights w;
    EncoderActivations a;
    Tensors params; // every parameter, one allocation
    Tensors acts;   // every activation, one allocation
} Encoder;

// Lists the parameters in t with torchvision's names; w->layers must already
// hold cfg->num_layers entries. Used by encoder_build and by chapter 06's model.
void encoder_params_add(Tensors *t, EncoderWeights *w, const VitConfig *cfg);
// Lists the activations for batch size B in t; a->layers must already hold
// cfg->num_layers entries.
void encoder_acts_add(Tensors *t, EncoderActivations *a, const VitConfig *cfg, int B);

// Lists and allocates parameters (zero) and activations for batch size B.
void encoder_build(Encoder *enc, const VitConfig *cfg, int B);
void encoder_free(Encoder *enc);
// Initialises close to the paper's code (docs/05-encoder.md lists where it
// differs): position embeddings Normal(0, 0.02) cut at ±2 std, Xavier-uniform
// linear weights, zero biases, unit LayerNorm weights, LeCun-normal patch
// embedding cut at ±2 std, zero class token.
void encoder_init(Encoder *enc, Rng *rng);
// The same on weights listed elsewhere (chapter 06's model); cfg gives the sizes.
void encoder_weights_init(EncoderWeights *w, const VitConfig *cfg, Rng *rng);

// The GELU form of every block of w (cfg->num_layers of them).
void encoder_set_gelu(EncoderWeights *w, const VitConfig *cfg, GeluForm form);

// One pre-LN block: out (B,T,C) = block(x (B,T,C)); its MLP's GELU is w->gelu.
void block_forward(float *out, BlockActivations *a, const float *x, const BlockWeights *w, int B,
                   int T, int C, int MLP, int NH);
// The same block for the class tokens alone: out (B,C), image b's class token
// in row b, from x (B,T,C). Its attention reads every token's key and value
// (mha_forward_class); the residuals and the MLP see the B class tokens. Of a,
// ln1 and attn.qkv hold every token, attn.att row 0 of each head's weights, and
// attn_out, res1, ln2 .. out one row per image, as out does; no backward pass.
void block_forward_class(float *out, BlockActivations *a, const float *x, const BlockWeights *w,
                         int B, int T, int C, int MLP, int NH);
// Its backward pass (the convention: linear.h): dx (B,T,C) += from dout
// (B,T,C), grads += (NULL: none wanted); dacts holds the block's scratch
// activation gradients (overwritten), but dacts->out is not touched (it may
// hold dout).
void block_backward(float *dx, BlockWeights *grads, BlockActivations *dacts, const float *dout,
                    const float *x, const BlockActivations *acts, const BlockWeights *w, int B,
                    int T, int C, int MLP, int NH);
// The encoder's first half: images (B,Cin,H,W), values already normalised, to
// the tokens a->tokens (B,T,C): patches, their embedding, the class token and
// the position embeddings.
void encoder_embed(EncoderActivations *a, const EncoderWeights *w, const VitConfig *cfg, int B,
                   const float *images);
// The second half: a->tokens through the L blocks and the final LayerNorm to a->out (B,T,C).
void encoder_blocks(EncoderActivations *a, const EncoderWeights *w, const VitConfig *cfg, int B);
// encoder_blocks for what a class-token head reads, most of a block's work less: the
// last block on the class tokens alone (block_forward_class), then the final
// LayerNorm of each into row 0 of its image in a->out; the other rows of a->out
// keep what they held. Inference only (docs/11-pretrained.md).
void encoder_blocks_class(EncoderActivations *a, const EncoderWeights *w, const VitConfig *cfg,
                          int B);
// The whole encoder, both halves: images to a->out. B may be smaller than the
// batch size the activations were listed for.
void encoder_run(EncoderActivations *a, const EncoderWeights *w, const VitConfig *cfg, int B,
                 const float *images);
// encoder_run on the Encoder's own weights and activations, at its batch size.
void encoder_forward(Encoder *enc, const float *images);

// The backward passes (the convention: linear.h), each the mirror of a forward above.
// The second half: from d(out) (B,T,C) through the final LayerNorm and the
// blocks to dacts->tokens (B,T,C), overwritten. grads += (NULL: none wanted);
// dacts is scratch, but dacts->out is not touched (it may hold dout).
void encoder_blocks_backward(EncoderWeights *grads, EncoderActivations *dacts, const float *dout,
                             const EncoderActivations *acts, const EncoderWeights *w,
                             const VitConfig *cfg, int B);
// The first half: from dacts->tokens to the embedding's parameters, and to
// the images (B,Cin,H,W) when dimages is not NULL (+=). The patches in acts
// stand for the images.
void encoder_embed_backward(EncoderWeights *grads, EncoderActivations *dacts, float *dimages,
                            const EncoderActivations *acts, const EncoderWeights *w,
                            const VitConfig *cfg, int B);
// The whole encoder, both halves: from d(out) back to every parameter and to the images.
void encoder_backward(EncoderWeights *grads, EncoderActivations *dacts, float *dimages,
                      const float *dout, const EncoderActivations *acts, const EncoderWeights *w,
                      const VitConfig *cfg, int B);

#endif

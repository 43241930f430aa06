// encoder.c — the ViT's Transformer encoder: its parameters under
// torchvision's names and shapes, their initialisation, one pre-LN block, and
// the whole encoder from images to normalised tokens.
#include "encoder.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "embed.h"
#include "gelu.h"
#include "layernorm.h"
#include "linear.h"
#include "parallel.h"
#include "patch.h"

// ---- parameters and activations, listed once --------------------------------

// region: block-params
// One encoder block's parameters, named "<p>.ln_1.weight" and so on, in the
// order of torchvision's state_dict.
static void block_params_add(Tensors *t, BlockWeights *w, int C, int MLP, const char *p) {
    int c[] = {C}, qkv_w[] = {3 * C, C}, qkv_b[] = {3 * C}, proj_w[] = {C, C};
    int fc1_w[] = {MLP, C}, fc1_b[] = {MLP}, fc2_w[] = {C, MLP};
    tensors_add(t, &w->ln1_w, 1, c, "%s.ln_1.weight", p);
    tensors_add(t, &w->ln1_b, 1, c, "%s.ln_1.bias", p);
    tensors_add(t, &w->qkv_w, 2, qkv_w, "%s.self_attention.in_proj_weight", p);
    tensors_add(t, &w->qkv_b, 1, qkv_b, "%s.self_attention.in_proj_bias", p);
    tensors_add(t, &w->proj_w, 2, proj_w, "%s.self_attention.out_proj.weight", p);
    tensors_add(t, &w->proj_b, 1, c, "%s.self_attention.out_proj.bias", p);
    tensors_add(t, &w->ln2_w, 1, c, "%s.ln_2.weight", p);
    tensors_add(t, &w->ln2_b, 1, c, "%s.ln_2.bias", p);
    tensors_add(t, &w->fc1_w, 2, fc1_w, "%s.mlp.0.weight", p);
    tensors_add(t, &w->fc1_b, 1, fc1_b, "%s.mlp.0.bias", p);
    tensors_add(t, &w->fc2_w, 2, fc2_w, "%s.mlp.3.weight", p);
    tensors_add(t, &w->fc2_b, 1, c, "%s.mlp.3.bias", p);
}
// endregion: block-params

// region: encoder-params
// Every parameter but the head (chapter 06). torchvision keeps the class token
// as (1,1,C) and the position embeddings as (1,T,C); here they are (C) and
// (T,C), the same numbers.
void encoder_params_add(Tensors *t, EncoderWeights *w, const VitConfig *cfg) {
    int C = cfg->hidden_dim, P = cfg->patch_size, T = vit_tokens(cfg);
    int c[] = {C}, conv[] = {C, cfg->in_channels, P, P}, pos[] = {T, C};
    tensors_add(t, &w->class_token, 1, c, "class_token");
    tensors_add(t, &w->conv_w, 4, conv, "conv_proj.weight");
    tensors_add(t, &w->conv_b, 1, c, "conv_proj.bias");
    tensors_add(t, &w->pos, 2, pos, "encoder.pos_embedding");
    for (int l = 0; l < cfg->num_layers; l++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "encoder.layers.encoder_layer_%d", l);
        block_params_add(t, &w->layers[l], C, cfg->mlp_dim, prefix);
    }
    tensors_add(t, &w->ln_w, 1, c, "encoder.ln.weight");
    tensors_add(t, &w->ln_b, 1, c, "encoder.ln.bias");
}
// endregion: encoder-params

static void block_acts_add(Tensors *t, BlockActivations *a, int B, int T, int C, int MLP, int NH,
                           const char *p) {
    int btc[] = {B, T, C}, bt[] = {B, T}, btm[] = {B, T, MLP};
    char attn[80];
    snprintf(attn, sizeof attn, "%s.attn", p);
    tensors_add(t, &a->ln1, 3, btc, "%s.ln1", p);
    tensors_add(t, &a->ln1_mean, 2, bt, "%s.ln1_mean", p);
    tensors_add(t, &a->ln1_rstd, 2, bt, "%s.ln1_rstd", p);
    mha_activations_add(t, &a->attn, B, T, C, NH, attn);
    tensors_add(t, &a->attn_out, 3, btc, "%s.attn_out", p);
    tensors_add(t, &a->res1, 3, btc, "%s.res1", p);
    tensors_add(t, &a->ln2, 3, btc, "%s.ln2", p);
    tensors_add(t, &a->ln2_mean, 2, bt, "%s.ln2_mean", p);
    tensors_add(t, &a->ln2_rstd, 2, bt, "%s.ln2_rstd", p);
    tensors_add(t, &a->fc1, 3, btm, "%s.fc1", p);
    tensors_add(t, &a->gelu, 3, btm, "%s.gelu", p);
    tensors_add(t, &a->fc2, 3, btc, "%s.fc2", p);
    tensors_add(t, &a->out, 3, btc, "%s.out", p);
}

void encoder_acts_add(Tensors *t, EncoderActivations *a, const VitConfig *cfg, int B) {
    int C = cfg->hidden_dim, P = cfg->patch_size, T = vit_tokens(cfg), N = T - 1;
    int patches[] = {B, N, cfg->in_channels * P * P}, emb[] = {B, N, C}, btc[] = {B, T, C};
    int bt[] = {B, T};
    tensors_add(t, &a->patches, 3, patches, "patches");
    tensors_add(t, &a->patch_emb, 3, emb, "patch_emb");
    tensors_add(t, &a->tokens, 3, btc, "tokens");
    for (int l = 0; l < cfg->num_layers; l++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "encoder_layer_%d", l);
        block_acts_add(t, &a->layers[l], B, T, C, cfg->mlp_dim, cfg->num_heads, prefix);
    }
    tensors_add(t, &a->ln_mean, 2, bt, "ln_mean");
    tensors_add(t, &a->ln_rstd, 2, bt, "ln_rstd");
    tensors_add(t, &a->out, 3, btc, "out");
}

void encoder_build(Encoder *enc, const VitConfig *cfg, int B) {
    assert(vit_config_check(cfg, NULL) && B > 0);
    *enc = (Encoder){.cfg = *cfg, .B = B};
    enc->w.layers = xcalloc(cfg->num_layers, sizeof(BlockWeights));
    enc->a.layers = xcalloc(cfg->num_layers, sizeof(BlockActivations));
    tensors_init(&enc->params);
    tensors_init(&enc->acts);
    encoder_params_add(&enc->params, &enc->w, cfg);
    encoder_acts_add(&enc->acts, &enc->a, cfg, B);
    tensors_alloc(&enc->params);
    tensors_alloc(&enc->acts);
}

void encoder_set_gelu(EncoderWeights *w, const VitConfig *cfg, GeluForm form) {
    for (int l = 0; l < cfg->num_layers; l++) w->layers[l].gelu = form;
}

void encoder_free(Encoder *enc) {
    tensors_free(&enc->params);
    tensors_free(&enc->acts);
    free(enc->w.layers);
    free(enc->a.layers);
    *enc = (Encoder){0};
}

// ---- initialisation ------------------------------------------------------------

// region: init
// Xavier (Glorot) uniform for a Linear weight (out,in): U(-a, a), a = sqrt(6 / (in + out)).
static void xavier_uniform(float *w, int out, int in, Rng *rng) {
    float a = sqrtf(6.0f / (float)(in + out));
    rng_fill_uniform(rng, w, out * in, -a, a);
}

static void fill(float *x, int n, float value) {
    for (int i = 0; i < n; i++) x[i] = value;
}

void encoder_weights_init(EncoderWeights *w, const VitConfig *cfg, Rng *rng) {
    int C = cfg->hidden_dim, MLP = cfg->mlp_dim, T = vit_tokens(cfg);
    int fan_in = cfg->in_channels * cfg->patch_size * cfg->patch_size;
    float std = sqrtf(1.0f / (float)fan_in); // LeCun normal
    rng_fill_trunc_normal(rng, w->conv_w, C * fan_in, std, -2.0f * std, 2.0f * std);
    fill(w->conv_b, C, 0.0f);
    fill(w->class_token, C, 0.0f);
    posemb_init_learned(w->pos, T, C, rng);
    for (int l = 0; l < cfg->num_layers; l++) {
        BlockWeights *b = &w->layers[l];
        fill(b->ln1_w, C, 1.0f);
        fill(b->ln1_b, C, 0.0f);
        fill(b->ln2_w, C, 1.0f);
        fill(b->ln2_b, C, 0.0f);
        xavier_uniform(b->qkv_w, 3 * C, C, rng); // one (3C,C) matrix, as torch
        xavier_uniform(b->proj_w, C, C, rng);
        xavier_uniform(b->fc1_w, MLP, C, rng);
        xavier_uniform(b->fc2_w, C, MLP, rng);
        fill(b->qkv_b, 3 * C, 0.0f);
        fill(b->proj_b, C, 0.0f);
        fill(b->fc1_b, MLP, 0.0f);
        fill(b->fc2_b, C, 0.0f);
    }
    fill(w->ln_w, C, 1.0f);
    fill(w->ln_b, C, 0.0f);
}

void encoder_init(Encoder *enc, Rng *rng) {
    encoder_weights_init(&enc->w, &enc->cfg, rng);
}
// endregion: init

// ---- forward ---------------------------------------------------------------------

// out (n) = x (n) + y (n): a residual connection. out may equal x or y.
static void residual_part(float *out, const float *x, const float *y, size_t lo, size_t hi) {
#pragma omp simd
    for (size_t i = lo; i < hi; i++) out[i] = x[i] + y[i];
}

static void residual_forward(float *out, const float *x, const float *y, size_t n) {
    if (!parallel_worth()) {
        residual_part(out, x, y, 0, n);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        parallel_share(n, &lo, &hi);
        residual_part(out, x, y, lo, hi);
    }
}

// region: block-forward
// The block's second half on R rows: out (R,C) = MLP(LN(a->res1)) + a->res1.
static void mlp_half_forward(float *out, BlockActivations *a, const BlockWeights *w, int R, int C,
                             int MLP) {
    layernorm_forward(a->ln2, a->ln2_mean, a->ln2_rstd, a->res1, w->ln2_w, w->ln2_b, R, C);
    linear_forward(a->fc1, a->ln2, w->fc1_w, w->fc1_b, R, C, MLP);
    gelu_form_forward(w->gelu, a->gelu, a->fc1, R * MLP);
    linear_forward(a->fc2, a->gelu, w->fc2_w, w->fc2_b, R, MLP, C);
    residual_forward(out, a->res1, a->fc2, (size_t)R * C);
}

void block_forward(float *out, BlockActivations *a, const float *x, const BlockWeights *w, int B,
                   int T, int C, int MLP, int NH) {
    // out (B,T,C), x (B,T,C); the weights' shapes are in encoder.h
    int R = B * T; // every token of every image at once
    MhaWeights attn = {w->qkv_w, w->qkv_b, w->proj_w, w->proj_b};
    // 1. z' = MSA(LN(z)) + z
    layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, w->ln1_w, w->ln1_b, R, C);
    mha_forward(a->attn_out, &a->attn, a->ln1, &attn, B, T, C, NH);
    residual_forward(a->res1, x, a->attn_out, (size_t)R * C);
    // 2. out = MLP(LN(z')) + z',  MLP(u) = fc2(GELU(fc1(u)))
    mlp_half_forward(out, a, w, R, C, MLP);
}
// endregion: block-forward

// region: block-forward-class
void block_forward_class(float *out, BlockActivations *a, const float *x, const BlockWeights *w,
                         int B, int T, int C, int MLP, int NH) {
    // out (B,C), x (B,T,C)
    MhaWeights attn = {w->qkv_w, w->qkv_b, w->proj_w, w->proj_b};
    // 1. z' = MSA(LN(z)) + z for each class token: every token's LN (keys and values)
    layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, x, w->ln1_w, w->ln1_b, B * T, C);
    mha_forward_class(a->attn_out, &a->attn, a->ln1, &attn, B, T, C, NH);
    for (int b = 0; b < B; b++) // image b's class token is row b*T of x, row b of the rest
        residual_part(a->res1 + (size_t)b * C, x + (size_t)b * T * C, a->attn_out + (size_t)b * C,
                      0, C);
    // 2. out = MLP(LN(z')) + z' on those B rows
    mlp_half_forward(out, a, w, B, C, MLP);
}
// endregion: block-forward-class

// region: encoder-forward
void encoder_embed(EncoderActivations *a, const EncoderWeights *w, const VitConfig *cfg, int B,
                   const float *images) {
    // images (B,Cin,H,W); the result is a->tokens (B,T,C)
    int Cin = cfg->in_channels, S = cfg->image_size, P = cfg->patch_size;
    int C = cfg->hidden_dim, N = vit_tokens(cfg) - 1;
    // 1. patches, embedded by conv_proj's weight seen as (C, Cin*P*P)
    patchify(a->patches, images, B, Cin, S, S, P);
    linear_forward(a->patch_emb, a->patches, w->conv_w, w->conv_b, B * N, Cin * P * P, C);
    // 2. class token in front, position embeddings added: z_0 (B,T,C)
    tokens_forward(a->tokens, a->patch_emb, w->class_token, w->pos, B, N, C);
}

// Blocks 0 .. n-1, each reading the previous one's output: returns block n-1's
// output (B,T,C), or a->tokens when n is 0.
static const float *blocks_forward(EncoderActivations *a, const EncoderWeights *w,
                                   const VitConfig *cfg, int B, int n) {
    int C = cfg->hidden_dim, T = vit_tokens(cfg);
    const float *x = a->tokens;
    for (int l = 0; l < n; l++) {
        block_forward(a->layers[l].out, &a->layers[l], x, &w->layers[l], B, T, C, cfg->mlp_dim,
                      cfg->num_heads);
        x = a->layers[l].out;
    }
    return x;
}

void encoder_blocks(EncoderActivations *a, const EncoderWeights *w, const VitConfig *cfg, int B) {
    // a->tokens (B,T,C); the result is a->out (B,T,C)
    int C = cfg->hidden_dim, T = vit_tokens(cfg);
    // 3. L blocks
    const float *x = blocks_forward(a, w, cfg, B, cfg->num_layers);
    // 4. the final LayerNorm
    layernorm_forward(a->out, a->ln_mean, a->ln_rstd, x, w->ln_w, w->ln_b, B * T, C);
}

void encoder_blocks_class(EncoderActivations *a, const EncoderWeights *w, const VitConfig *cfg,
                          int B) {
    // a->tokens (B,T,C); the result is row 0 of each image in a->out (B,T,C)
    int C = cfg->hidden_dim, T = vit_tokens(cfg), L = cfg->num_layers;
    // 3. L-1 blocks on every token, the last on the class tokens: (B,C)
    const float *x = blocks_forward(a, w, cfg, B, L - 1);
    BlockActivations *last = &a->layers[L - 1];
    block_forward_class(last->out, last, x, &w->layers[L - 1], B, T, C, cfg->mlp_dim,
                        cfg->num_heads);
    // 4. the final LayerNorm of each class token, into its row of a->out
    for (int b = 0; b < B; b++)
        layernorm_forward(a->out + (size_t)b * T * C, a->ln_mean + (size_t)b * T,
                          a->ln_rstd + (size_t)b * T, last->out + (size_t)b * C, w->ln_w, w->ln_b,
                          1, C);
}

void encoder_run(EncoderActivations *a, const EncoderWeights *w, const VitConfig *cfg, int B,
                 const float *images) {
    encoder_embed(a, w, cfg, B, images);
    encoder_blocks(a, w, cfg, B);
}

void encoder_forward(Encoder *enc, const float *images) {
    encoder_run(&enc->a, &enc->w, &enc->cfg, enc->B, images);
}
// endregion: encoder-forward

// encoder_backward.c — the backward pass of one pre-LN block (the residual
// stream hands its gradient to both branches) and of the whole encoder, from
// d(output tokens) back to every parameter and, if asked, to the images.
#include "encoder.h"

#include <stdbool.h>
#include <stddef.h>
#include "embed.h"
#include "gelu.h"
#include "layernorm.h"
#include "linear.h"
#include "matmul.h"
#include "parallel.h"

// out (n) = 0 (x NULL), out (n) = x (n), or out (n) += x (n) (add): elements lo .. hi-1.
static void move_part(float *restrict out, const float *restrict x, bool add, size_t lo,
                      size_t hi) {
    if (x == NULL) {
#pragma omp simd
        for (size_t i = lo; i < hi; i++) out[i] = 0.0f;
    } else if (add) {
#pragma omp simd
        for (size_t i = lo; i < hi; i++) out[i] += x[i];
    } else {
#pragma omp simd
        for (size_t i = lo; i < hi; i++) out[i] = x[i];
    }
}

// move_part on all n elements, shared out among the threads (parallel.h).
static void move(float *restrict out, const float *restrict x, bool add, size_t n) {
    if (!parallel_worth()) {
        move_part(out, x, add, 0, n);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        parallel_share(n, &lo, &hi);
        move_part(out, x, add, lo, hi);
    }
}

// x (n) = 0, out (n) = x (n), out (n) += x (n)
static void zero(float *x, size_t n) {
    move(x, NULL, false, n);
}

static void copy(float *restrict out, const float *restrict x, size_t n) {
    move(out, x, false, n);
}

static void add(float *restrict out, const float *restrict x, size_t n) {
    move(out, x, true, n);
}

// region: block-backward
void block_backward(float *dx, BlockWeights *grads, BlockActivations *dacts, const float *dout,
                    const float *x, const BlockActivations *acts, const BlockWeights *w, int B,
                    int T, int C, int MLP, int NH) {
    // dx (B,T,C) += or NULL; grads += (NULL: none wanted); dacts scratch, but dacts->out is
    // not touched (it may hold dout); dout, x (B,T,C)
    BlockWeights none = {0};
    BlockWeights *g = grads != NULL ? grads : &none;
    const BlockActivations *a = acts;
    BlockActivations *da = dacts;
    int R = B * T;
    size_t n = (size_t)R * C, m = (size_t)R * MLP;
    // 2. forward: out = res1 + fc2, so both res1 and fc2 get dout
    copy(da->res1, dout, n);
    // forward: fc2 = gelu · fc2_w^T + fc2_b; dgelu is only this, so written (no zeroing)
    matmul(da->gelu, dout, w->fc2_w, R, MLP, C, 0); // dgelu = dout · fc2_w
    linear_backward(NULL, g->fc2_w, g->fc2_b, dout, a->gelu, w->fc2_w, R, MLP, C);
    // forward: gelu = GELU(fc1)
    zero(da->fc1, m);
    gelu_form_backward(w->gelu, da->fc1, da->gelu, a->fc1, R * MLP);
    // forward: fc1 = ln2 · fc1_w^T + fc1_b
    matmul(da->ln2, da->fc1, w->fc1_w, R, C, MLP, 0); // dln2 = dfc1 · fc1_w (written)
    linear_backward(NULL, g->fc1_w, g->fc1_b, da->fc1, a->ln2, w->fc1_w, R, C, MLP);
    // forward: ln2 = LN(res1); adds to the residual's dout
    layernorm_backward(da->res1, g->ln2_w, g->ln2_b, da->ln2, a->res1, w->ln2_w, a->ln2_mean,
                       a->ln2_rstd, R, C);
    // 1. forward: res1 = x + attn_out, so both x and attn_out get dres1
    if (dx != NULL) add(dx, da->res1, n);
    // forward: attn_out = MHA(ln1)
    MhaWeights attn = {w->qkv_w, w->qkv_b, w->proj_w, w->proj_b};
    MhaGrads dattn = {g->qkv_w, g->qkv_b, g->proj_w, g->proj_b};
    zero(da->ln1, n);
    mha_backward(da->ln1, &dattn, &da->attn, da->res1, &a->attn, a->ln1, &attn, B, T, C, NH);
    // forward: ln1 = LN(x)
    layernorm_backward(dx, g->ln1_w, g->ln1_b, da->ln1, x, w->ln1_w, a->ln1_mean, a->ln1_rstd, R,
                       C);
}
// endregion: block-backward

// dimages (B,Cin,S,S) += the patch rows dpatches (B,N,Cin*P*P) put back in
// place: patchify only moves pixels, so each pixel's gradient is its entry.
static void patchify_backward(float *dimages, const float *dpatches, int B, int Cin, int S, int P) {
    int G = S / P, N = G * G, D = Cin * P * P; // G patches per side
    for (int b = 0; b < B; b++)
        for (int n = 0; n < N; n++)
            for (int c = 0; c < Cin; c++)
                for (int y = 0; y < P; y++) {
                    const float *src = dpatches + ((size_t)b * N + n) * D + (c * P + y) * P; // (P)
                    float *dst = dimages + (((size_t)b * Cin + c) * S + (n / G) * P + y) * S +
                                 (n % G) * P; // (P)
                    for (int x = 0; x < P; x++) dst[x] += src[x];
                }
}

// region: encoder-backward
void encoder_blocks_backward(EncoderWeights *grads, EncoderActivations *dacts, const float *dout,
                             const EncoderActivations *acts, const EncoderWeights *w,
                             const VitConfig *cfg, int B) {
    // grads += (NULL: none wanted); dout (B,T,C); the result is dacts->tokens (B,T,C)
    int C = cfg->hidden_dim, T = vit_tokens(cfg), L = cfg->num_layers;
    EncoderWeights none = {0};
    EncoderWeights *g = grads != NULL ? grads : &none;
    EncoderActivations *da = dacts;
    size_t n = (size_t)B * T * C;
    // the residual stream's gradients are added to: each zeroed just before (still in cache)
    // 4. forward: out = LN(x_L)
    zero(da->layers[L - 1].out, n);
    layernorm_backward(da->layers[L - 1].out, g->ln_w, g->ln_b, dout, acts->layers[L - 1].out,
                       w->ln_w, acts->ln_mean, acts->ln_rstd, B * T, C);
    // 3. forward: x_{l+1} = block_l(x_l), x_0 = tokens; so the blocks in reverse
    for (int l = L - 1; l >= 0; l--) {
        const float *x = l > 0 ? acts->layers[l - 1].out : acts->tokens;
        float *dx = l > 0 ? da->layers[l - 1].out : da->tokens;
        zero(dx, n);
        block_backward(dx, grads != NULL ? &grads->layers[l] : NULL, &da->layers[l],
                       da->layers[l].out, x, &acts->layers[l], &w->layers[l], B, T, C, cfg->mlp_dim,
                       cfg->num_heads);
    }
}

void encoder_embed_backward(EncoderWeights *grads, EncoderActivations *dacts, float *dimages,
                            const EncoderActivations *acts, const EncoderWeights *w,
                            const VitConfig *cfg, int B) {
    // grads += (NULL: none wanted); d(tokens) comes in dacts->tokens; dimages += or NULL
    int Cin = cfg->in_channels, S = cfg->image_size, P = cfg->patch_size, D = Cin * P * P;
    int C = cfg->hidden_dim, N = vit_tokens(cfg) - 1;
    EncoderWeights none = {0};
    EncoderWeights *g = grads != NULL ? grads : &none;
    EncoderActivations *da = dacts;
    // 2. forward: tokens = [class_token; patch_emb] + pos
    zero(da->patch_emb, (size_t)B * N * C);
    tokens_backward(da->patch_emb, g->class_token, g->pos, da->tokens, B, N, C);
    // 1. forward: patch_emb = patches · conv_w^T + conv_b, patches = patchify(images)
    if (dimages != NULL) zero(da->patches, (size_t)B * N * D);
    linear_backward(dimages != NULL ? da->patches : NULL, g->conv_w, g->conv_b, da->patch_emb,
                    acts->patches, w->conv_w, B * N, D, C);
    if (dimages != NULL) patchify_backward(dimages, da->patches, B, Cin, S, P);
}

void encoder_backward(EncoderWeights *grads, EncoderActivations *dacts, float *dimages,
                      const float *dout, const EncoderActivations *acts, const EncoderWeights *w,
                      const VitConfig *cfg, int B) {
    encoder_blocks_backward(grads, dacts, dout, acts, w, cfg, B);
    encoder_embed_backward(grads, dacts, dimages, acts, w, cfg, B);
}
// endregion: encoder-backward

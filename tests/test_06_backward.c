// test_06_backward.c — chapter 06: every backward pass against central finite
// differences of its own forward pass. For a layer with output out, the test
// takes the scalar L = Σ out ⊙ R (R a fixed random tensor, so dout = R),
// accumulated in double; for the loss and the whole model, L is the loss. Each
// input and parameter element is nudged by ±h in float and the central
// difference (L(x + h) - L(x - h)) / 2h, taken at h and at h/2 and combined
// (Richardson: (4 D(h/2) - D(h)) / 3, which cancels the h^2 error term), is
// held to the analytic gradient (tests/gradcheck.h). Also: backward passes add to their gradients
// (calling one twice doubles them), and properties of the head, the loss,
// dropout and the whole model.
//
// The tolerance. The library computes in float (about 7 digits), so the step
// cannot be tiny: h = 1e-2 (relative when |x| > 1). Rounding L's float terms
// to 1e-7 then errs by about 1e-7 / h = 1e-5 of the gradient, and after
// Richardson the truncation error is far smaller. Measured, the largest error
// of any element is 2e-4 of its tensor's largest gradient for a single layer,
// and 1.5e-3 for the whole model (the image gradient: small, and behind two
// blocks of float rounding). A plain central difference at h = 1e-2 was
// 2.5e-2 off in the model with dropout: truncation, as a smaller step agreed.
// So an element passes when
//     |analytic - numeric| <= 5e-3 * (the tensor's largest |gradient|)
// three times above the worst noise. Breaking any single term (the 1/sqrt(hs)
// of the scores, LayerNorm's mean(dnorm * norm), GELU's x φ(x), the 1/(T-1) of
// mean pooling, the smoothing's s/K, the dropout mask in the backward, one
// residual branch) gives errors from 1.7e-2 (the s/K) to 0.8 of the scale in
// some tensor: the test fails.
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include "attention.h"
#include "check.h"
#include "embed.h"
#include "encoder.h"
#include "error.h"
#include "gelu.h"
#include "gradcheck.h"
#include "head.h"
#include "layernorm.h"
#include "linear.h"
#include "loss.h"
#include "mha.h"
#include "owned.h"
#include "rng.h"
#include "vit.h"

// ---- what the running test owns, freed by its .fini even when it fails -----------

static Tensors lists[4]; // activation lists of the layers under test
static Encoder encoders[2];
static Vit vit;

static void release(void) {
    owned_release();
    for (int i = 0; i < 4; i++) tensors_free(&lists[i]);
    for (int i = 0; i < 2; i++) encoder_free(&encoders[i]);
    vit_free(&vit);
}

TestSuite(backward, .fini = release);

// ---- the finite-difference check ---------------------------------------------------

// Every tensor of a parameter list, its gradient from the same list in grads.
static void check_parameters(GradCheck *gc, const Tensors *params, const Tensors *grads) {
    cr_assert_eq(params->count, grads->count);
    for (int i = 0; i < params->count; i++) {
        const TensorEntry *p = &params->entries[i], *g = &grads->entries[i];
        cr_assert_str_eq(p->name, g->name);
        gradcheck_tensor(gc, p->name, *p->slot, *g->slot, p->count);
    }
}

// Random, non-trivial values for every parameter: LayerNorm weights about 1,
// matrices scaled by 1/sqrt(fan_in), everything else (biases, class token,
// position embeddings) about 0.5, so no gradient is trivially zero.
static void randomize(const Tensors *params, Rng *rng) {
    for (int i = 0; i < params->count; i++) {
        const TensorEntry *e = &params->entries[i];
        bool norm = strstr(e->name, "ln") != NULL && strstr(e->name, ".weight") != NULL;
        bool matrix = e->ndim >= 2 && strcmp(e->name, "encoder.pos_embedding") != 0;
        float std = matrix ? 1.0f / sqrtf((float)(e->count / e->shape[0])) : 0.5f;
        rng_fill_normal(rng, *e->slot, (int)e->count, norm ? 1.0f : 0.0f, std);
    }
}

// ---- linear, LayerNorm, GELU ---------------------------------------------------------

typedef struct {
    int R, IN, OUT;
    float *in, *weight, *bias, *out, *r; // r (R,OUT): dout
    float *din, *dweight, *dbias;
} LinearCase;

static double linear_loss(GradCheck *gc) {
    LinearCase *c = gc->ctx;
    linear_forward(c->out, c->in, c->weight, c->bias, c->R, c->IN, c->OUT);
    return gradcheck_dot(c->out, c->r, (size_t)c->R * c->OUT);
}

static void linear_grads(GradCheck *gc) {
    LinearCase *c = gc->ctx;
    linear_backward(c->din, c->dweight, c->dbias, c->r, c->in, c->weight, c->R, c->IN, c->OUT);
}

Test(backward, linear) {
    Rng rng;
    rng_seed(&rng, 1);
    enum { R = 4, IN = 6, OUT = 3 };
    LinearCase c = {.R = R, .IN = IN, .OUT = OUT};
    c.in = random_floats(&rng, R * IN, 0, 1);
    c.weight = random_floats(&rng, OUT * IN, 0, 0.5f);
    c.bias = random_floats(&rng, OUT, 0, 0.5f);
    c.r = random_floats(&rng, R * OUT, 0, 1);
    c.out = floats(R * OUT);
    c.din = floats(R * IN);
    c.dweight = floats(OUT * IN);
    c.dbias = floats(OUT);
    GradCheck gc = {.loss = linear_loss, .backward = linear_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "linear.in", c.in, c.din, R * IN);
    gradcheck_tensor(&gc, "linear.weight", c.weight, c.dweight, OUT * IN);
    gradcheck_tensor(&gc, "linear.bias", c.bias, c.dbias, OUT);
    gradcheck_run(&gc);
}

Test(backward, linear_with_null_gradients_computes_the_others) {
    enum { R = 2, IN = 3, OUT = 2 };
    const float in[R * IN] = {1, 2, 3, 4, 5, 6}, weight[OUT * IN] = {1, 0, -1, 2, 1, 0};
    const float dout[R * OUT] = {1, -1, 0.5f, 2};
    float dweight[OUT * IN] = {0}, dbias[OUT] = {0};
    linear_backward(NULL, dweight, dbias, dout, in, weight, R, IN, OUT);
    // dweight = dout^T · in, dbias = column sums of dout
    const float want_dw[OUT * IN] = {3, 4.5f, 6, 7, 8, 9}, want_db[OUT] = {1.5f, 1};
    expect_floats_equal("dweight", dweight, want_dw, OUT * IN, 1e-6);
    expect_floats_equal("dbias", dbias, want_db, OUT, 1e-6);
}

typedef struct {
    int R, C;
    float *x, *weight, *bias, *out, *mean, *rstd, *r;
    float *dx, *dweight, *dbias;
} LayerNormCase;

static double layernorm_loss(GradCheck *gc) {
    LayerNormCase *c = gc->ctx;
    layernorm_forward(c->out, c->mean, c->rstd, c->x, c->weight, c->bias, c->R, c->C);
    return gradcheck_dot(c->out, c->r, (size_t)c->R * c->C);
}

static void layernorm_grads(GradCheck *gc) {
    LayerNormCase *c = gc->ctx;
    layernorm_backward(c->dx, c->dweight, c->dbias, c->r, c->x, c->weight, c->mean, c->rstd, c->R,
                       c->C);
}

Test(backward, layernorm) {
    Rng rng;
    rng_seed(&rng, 2);
    enum { R = 5, C = 8 };
    LayerNormCase c = {.R = R, .C = C};
    c.x = random_floats(&rng, R * C, 0, 1.5f);
    for (int i = 0; i < R * C; i++) c.x[i] += (float)(i / C) - 2.0f; // a mean per row
    c.weight = random_floats(&rng, C, 1, 0.5f);
    c.bias = random_floats(&rng, C, 0, 0.5f);
    c.r = random_floats(&rng, R * C, 0, 1);
    c.out = floats(R * C);
    c.mean = floats(R);
    c.rstd = floats(R);
    c.dx = floats(R * C);
    c.dweight = floats(C);
    c.dbias = floats(C);
    GradCheck gc = {
        .loss = layernorm_loss, .backward = layernorm_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "layernorm.x", c.x, c.dx, R * C);
    gradcheck_tensor(&gc, "layernorm.weight", c.weight, c.dweight, C);
    gradcheck_tensor(&gc, "layernorm.bias", c.bias, c.dbias, C);
    gradcheck_run(&gc);
}

typedef struct {
    int n;
    float *x, *out, *r, *dx;
} GeluCase;

static double gelu_loss(GradCheck *gc) {
    GeluCase *c = gc->ctx;
    gelu_forward(c->out, c->x, c->n);
    return gradcheck_dot(c->out, c->r, c->n);
}

static void gelu_grads(GradCheck *gc) {
    GeluCase *c = gc->ctx;
    gelu_backward(c->dx, c->r, c->x, c->n);
}

Test(backward, gelu) {
    Rng rng;
    rng_seed(&rng, 3);
    enum { n = 48 };
    GeluCase c = {.n = n};
    c.x = floats(n);
    rng_fill_uniform(&rng, c.x, n, -4.0f, 4.0f);
    c.r = random_floats(&rng, n, 0, 1);
    c.out = floats(n);
    c.dx = floats(n);
    GradCheck gc = {.loss = gelu_loss, .backward = gelu_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "gelu.x", c.x, c.dx, n);
    gradcheck_run(&gc);
}

Test(backward, gelu_derivative_by_hand) {
    // d/dx x Φ(x) = Φ(x) + x φ(x): 0.5 at 0; at ±1, Φ(±1) ± φ(1)
    const float x[3] = {0, 1, -1}, ones[3] = {1, 1, 1};
    float dx[3] = {0};
    gelu_backward(dx, ones, x, 3);
    double phi1 = exp(-0.5) / sqrt(2 * 3.14159265358979324), cdf1 = 0.5 * (1 + erf(1 / sqrt(2.0)));
    const float want[3] = {0.5f, (float)(cdf1 + phi1), (float)(1 - cdf1 - phi1)};
    expect_floats_close("gelu'", dx, want, 3, 1e-6, 1e-6);
}

// ---- attention, multi-head attention, tokens -------------------------------------------

typedef struct {
    int B, T, hs;
    float *q, *k, *v, *out, *att, *r;
    float *dq, *dk, *dv, *datt;
} AttentionCase;

static double attention_loss(GradCheck *gc) {
    AttentionCase *c = gc->ctx;
    attention_forward(c->out, c->att, c->q, c->k, c->v, c->B, c->T, c->hs);
    return gradcheck_dot(c->out, c->r, (size_t)c->B * c->T * c->hs);
}

static void attention_grads(GradCheck *gc) {
    AttentionCase *c = gc->ctx;
    attention_backward(c->dq, c->dk, c->dv, c->datt, c->r, c->att, c->q, c->k, c->v, c->B, c->T,
                       c->hs);
}

Test(backward, softmax_and_attention) {
    Rng rng;
    rng_seed(&rng, 4);
    enum { B = 2, T = 5, hs = 4, n = B * T * hs };
    AttentionCase c = {.B = B, .T = T, .hs = hs};
    c.q = random_floats(&rng, n, 0, 1.5f); // scores up to a few units: a peaked softmax
    c.k = random_floats(&rng, n, 0, 1.5f);
    c.v = random_floats(&rng, n, 0, 1);
    c.r = random_floats(&rng, n, 0, 1);
    c.out = floats(n);
    c.att = floats(B * T * T);
    c.datt = floats(B * T * T);
    c.dq = floats(n);
    c.dk = floats(n);
    c.dv = floats(n);
    GradCheck gc = {
        .loss = attention_loss, .backward = attention_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "attention.q", c.q, c.dq, n);
    gradcheck_tensor(&gc, "attention.k", c.k, c.dk, n);
    gradcheck_tensor(&gc, "attention.v", c.v, c.dv, n);
    gradcheck_run(&gc);
}

typedef struct {
    int B, T, C, NH;
    float *x, *out, *r, *dx;
    MhaWeights w;
    MhaGrads g;
    MhaActivations a, da;
} MhaCase;

static double mha_loss(GradCheck *gc) {
    MhaCase *c = gc->ctx;
    mha_forward(c->out, &c->a, c->x, &c->w, c->B, c->T, c->C, c->NH);
    return gradcheck_dot(c->out, c->r, (size_t)c->B * c->T * c->C);
}

static void mha_grads(GradCheck *gc) {
    MhaCase *c = gc->ctx;
    mha_backward(c->dx, &c->g, &c->da, c->r, &c->a, c->x, &c->w, c->B, c->T, c->C, c->NH);
}

static void check_mha(int B, int T, int C, int NH, unsigned seed) {
    Rng rng;
    rng_seed(&rng, seed);
    int n = B * T * C;
    MhaCase c = {.B = B, .T = T, .C = C, .NH = NH};
    c.x = random_floats(&rng, n, 0, 1);
    c.r = random_floats(&rng, n, 0, 1);
    c.out = floats(n);
    c.dx = floats(n);
    float *in_w = random_floats(&rng, 3 * C * C, 0, 0.6f),
          *in_b = random_floats(&rng, 3 * C, 0, 0.5f);
    float *out_w = random_floats(&rng, C * C, 0, 0.35f), *out_b = random_floats(&rng, C, 0, 0.5f);
    c.w = (MhaWeights){in_w, in_b, out_w, out_b};
    c.g = (MhaGrads){floats(3 * C * C), floats(3 * C), floats(C * C), floats(C)};
    mha_activations_add(&lists[0], &c.a, B, T, C, NH, "attn");
    mha_activations_add(&lists[1], &c.da, B, T, C, NH, "dattn");
    tensors_alloc(&lists[0]);
    tensors_alloc(&lists[1]);
    GradCheck gc = {.loss = mha_loss, .backward = mha_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "mha.x", c.x, c.dx, n);
    gradcheck_tensor(&gc, "mha.in_proj_weight", in_w, c.g.in_proj_weight, 3 * C * C);
    gradcheck_tensor(&gc, "mha.in_proj_bias", in_b, c.g.in_proj_bias, 3 * C);
    gradcheck_tensor(&gc, "mha.out_proj.weight", out_w, c.g.out_proj_weight, C * C);
    gradcheck_tensor(&gc, "mha.out_proj.bias", out_b, c.g.out_proj_bias, C);
    gradcheck_run(&gc);
}

Test(backward, multi_head_attention) {
    check_mha(2, 5, 8, 2, 5); // heads of 4: split into q, k, v, attention_backward, merged
}

Test(backward, multi_head_attention_small_heads_in_place) {
    check_mha(2, 5, 16, 2, 6); // heads of 8: read and written in place in qkv (mha.c)
}

typedef struct {
    int B, N, C;
    float *patch_emb, *class_token, *pos, *tokens, *r;
    float *dpatch_emb, *dclass_token, *dpos;
} TokensCase;

static double tokens_loss(GradCheck *gc) {
    TokensCase *c = gc->ctx;
    tokens_forward(c->tokens, c->patch_emb, c->class_token, c->pos, c->B, c->N, c->C);
    return gradcheck_dot(c->tokens, c->r, (size_t)c->B * (c->N + 1) * c->C);
}

static void tokens_grads(GradCheck *gc) {
    TokensCase *c = gc->ctx;
    tokens_backward(c->dpatch_emb, c->dclass_token, c->dpos, c->r, c->B, c->N, c->C);
}

Test(backward, tokens) {
    Rng rng;
    rng_seed(&rng, 6);
    enum { B = 3, N = 4, T = N + 1, C = 5 };
    TokensCase c = {.B = B, .N = N, .C = C};
    c.patch_emb = random_floats(&rng, B * N * C, 0, 1);
    c.class_token = random_floats(&rng, C, 0, 1);
    c.pos = random_floats(&rng, T * C, 0, 1);
    c.r = random_floats(&rng, B * T * C, 0, 1);
    c.tokens = floats(B * T * C);
    c.dpatch_emb = floats(B * N * C);
    c.dclass_token = floats(C);
    c.dpos = floats(T * C);
    GradCheck gc = {.loss = tokens_loss, .backward = tokens_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "tokens.patch_emb", c.patch_emb, c.dpatch_emb, B * N * C);
    gradcheck_tensor(&gc, "tokens.class_token", c.class_token, c.dclass_token, C);
    gradcheck_tensor(&gc, "tokens.pos", c.pos, c.dpos, T * C);
    gradcheck_run(&gc);
}

// ---- one block and the whole encoder ---------------------------------------------------

// 8x8 images of 2 channels, P 4: N 4, T 5; C 8, 2 heads, MLP 12.
static VitConfig tiny_config(int layers) {
    return (VitConfig){.image_size = 8,
                       .patch_size = 4,
                       .in_channels = 2,
                       .hidden_dim = 8,
                       .mlp_dim = 12,
                       .num_layers = layers,
                       .num_heads = 2,
                       .num_classes = 5};
}

// encoders[0] holds the weights and activations, encoders[1] their gradients.
typedef struct {
    VitConfig cfg;
    int B;
    float *x, *dx, *r; // the block's input (B,T,C) or the images (B,Cin,H,W); r: dout (B,T,C)
} EncoderCase;

static double block_loss(GradCheck *gc) {
    EncoderCase *c = gc->ctx;
    BlockActivations *a = &encoders[0].a.layers[0];
    int T = vit_tokens(&c->cfg), C = c->cfg.hidden_dim;
    block_forward(a->out, a, c->x, &encoders[0].w.layers[0], c->B, T, C, c->cfg.mlp_dim,
                  c->cfg.num_heads);
    return gradcheck_dot(a->out, c->r, (size_t)c->B * T * C);
}

static void block_grads(GradCheck *gc) {
    EncoderCase *c = gc->ctx;
    block_backward(c->dx, &encoders[1].w.layers[0], &encoders[1].a.layers[0], c->r, c->x,
                   &encoders[0].a.layers[0], &encoders[0].w.layers[0], c->B, vit_tokens(&c->cfg),
                   c->cfg.hidden_dim, c->cfg.mlp_dim, c->cfg.num_heads);
}

static void build_encoders(EncoderCase *c, Rng *rng) {
    encoder_build(&encoders[0], &c->cfg, c->B);
    encoder_build(&encoders[1], &c->cfg, c->B);
    randomize(&encoders[0].params, rng);
}

Test(backward, pre_ln_block) {
    Rng rng;
    rng_seed(&rng, 7);
    EncoderCase c = {.cfg = tiny_config(1), .B = 2};
    build_encoders(&c, &rng);
    size_t n = (size_t)c.B * vit_tokens(&c.cfg) * c.cfg.hidden_dim;
    c.x = random_floats(&rng, n, 0, 1);
    c.r = random_floats(&rng, n, 0, 1);
    c.dx = floats(n);
    GradCheck gc = {.loss = block_loss, .backward = block_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "block.x", c.x, c.dx, n);
    for (int i = 0; i < encoders[0].params.count; i++) { // the block's 12 parameters
        const TensorEntry *p = &encoders[0].params.entries[i], *g = &encoders[1].params.entries[i];
        if (strncmp(p->name, "encoder.layers.", 15) == 0)
            gradcheck_tensor(&gc, p->name, *p->slot, *g->slot, p->count);
    }
    cr_assert_eq(gc.count, 13);
    gradcheck_run(&gc);
}

static double encoder_loss(GradCheck *gc) {
    EncoderCase *c = gc->ctx;
    encoder_forward(&encoders[0], c->x);
    return gradcheck_dot(encoders[0].a.out, c->r,
                         (size_t)c->B * vit_tokens(&c->cfg) * c->cfg.hidden_dim);
}

static void encoder_grads(GradCheck *gc) {
    EncoderCase *c = gc->ctx;
    encoder_backward(&encoders[1].w, &encoders[1].a, c->dx, c->r, &encoders[0].a, &encoders[0].w,
                     &c->cfg, c->B);
}

Test(backward, whole_encoder_and_the_images) {
    Rng rng;
    rng_seed(&rng, 8);
    EncoderCase c = {.cfg = tiny_config(2), .B = 2};
    build_encoders(&c, &rng);
    size_t n_images = (size_t)c.B * c.cfg.in_channels * c.cfg.image_size * c.cfg.image_size;
    size_t n_out = (size_t)c.B * vit_tokens(&c.cfg) * c.cfg.hidden_dim;
    c.x = random_floats(&rng, n_images, 0, 1);
    c.r = random_floats(&rng, n_out, 0, 1);
    c.dx = floats(n_images);
    GradCheck gc = {
        .loss = encoder_loss, .backward = encoder_grads, .accumulates = true, .ctx = &c};
    check_parameters(&gc, &encoders[0].params, &encoders[1].params);
    gradcheck_tensor(&gc, "images", c.x, c.dx, n_images);
    gradcheck_run(&gc);
}

// ---- the head ---------------------------------------------------------------------------

typedef struct {
    HeadOptions opt;
    int B, T, C, K;
    float *encoded, *dencoded, *r; // r: dlogits (B,K)
    HeadWeights w, g;
    HeadActivations a, da;
} HeadCase;

static double head_loss(GradCheck *gc) {
    HeadCase *c = gc->ctx;
    head_forward(&c->a, c->encoded, &c->w, &c->opt, c->B, c->T, c->C, c->K);
    return gradcheck_dot(c->a.logits, c->r, (size_t)c->B * c->K);
}

static void head_grads(GradCheck *gc) {
    HeadCase *c = gc->ctx;
    head_backward(c->dencoded, &c->g, &c->da, c->r, &c->a, &c->w, &c->opt, c->B, c->T, c->C, c->K);
}

// The head with these options on random tokens and weights; with dropout, a
// fixed mask that drops about half of hidden and doubles the rest.
static void check_head(bool mean_pool, bool pre_logits, bool dropout) {
    Rng rng;
    rng_seed(&rng, 9);
    enum { B = 3, T = 5, C = 6, K = 4 };
    HeadCase c = {.opt = {mean_pool, pre_logits}, .B = B, .T = T, .C = C, .K = K};
    head_params_add(&lists[0], &c.w, &c.opt, C, K);
    head_params_add(&lists[1], &c.g, &c.opt, C, K);
    head_acts_add(&lists[2], &c.a, &c.opt, B, C, K);
    head_acts_add(&lists[3], &c.da, &c.opt, B, C, K);
    for (int i = 0; i < 4; i++) tensors_alloc(&lists[i]);
    randomize(&lists[0], &rng);
    c.encoded = random_floats(&rng, B * T * C, 0, 1);
    c.r = random_floats(&rng, B * K, 0, 1);
    c.dencoded = floats(B * T * C);
    if (dropout) {
        float *mask = floats(B * C);
        for (int i = 0; i < B * C; i++) mask[i] = rng_uniform(&rng) < 0.5f ? 0.0f : 2.0f;
        c.a.mask = mask;
    }
    GradCheck gc = {.loss = head_loss, .backward = head_grads, .accumulates = true, .ctx = &c};
    gradcheck_tensor(&gc, "head.encoded", c.encoded, c.dencoded, B * T * C);
    check_parameters(&gc, &lists[0], &lists[1]);
    gradcheck_run(&gc);
}

Test(backward, head_class_token) {
    check_head(false, false, false);
}

Test(backward, head_class_token_with_pre_logits) {
    check_head(false, true, false);
}

Test(backward, head_mean_pool) {
    check_head(true, false, false);
}

Test(backward, head_mean_pool_with_pre_logits_and_dropout) {
    check_head(true, true, true);
}

Test(backward, head_class_token_with_dropout) {
    check_head(false, false, true);
}

Test(backward, head_names_are_torchvisions) {
    HeadOptions opt = {.pre_logits = true};
    HeadWeights w;
    head_params_add(&lists[0], &w, &opt, 6, 4);
    cr_assert_eq(lists[0].count, 4);
    const char *names[4] = {"heads.pre_logits.weight", "heads.pre_logits.bias", "heads.head.weight",
                            "heads.head.bias"};
    for (int i = 0; i < 4; i++) cr_expect_str_eq(lists[0].entries[i].name, names[i]);
    cr_expect_eq(lists[0].entries[2].shape[0], 4);
    cr_expect_eq(lists[0].entries[2].shape[1], 6);
}

// ---- the loss ----------------------------------------------------------------------------

typedef struct {
    int B, K;
    float smoothing;
    float *logits, *probs, *dlogits;
    const int *labels;
} LossCase;

static double loss_loss(GradCheck *gc) {
    LossCase *c = gc->ctx;
    return cross_entropy_forward(c->probs, c->logits, c->labels, c->B, c->K, c->smoothing);
}

static void loss_grads(GradCheck *gc) {
    LossCase *c = gc->ctx;
    cross_entropy_backward(c->dlogits, c->probs, c->labels, c->B, c->K, c->smoothing);
}

static void check_loss(float smoothing) {
    Rng rng;
    rng_seed(&rng, 10);
    enum { B = 4, K = 6 };
    static const int labels[B] = {0, 5, 2, 2};
    LossCase c = {.B = B, .K = K, .smoothing = smoothing, .labels = labels};
    c.logits = random_floats(&rng, B * K, 0, 2);
    c.probs = floats(B * K);
    c.dlogits = floats(B * K);
    GradCheck gc = {.loss = loss_loss, .backward = loss_grads, .accumulates = false, .ctx = &c};
    gradcheck_tensor(&gc, "cross_entropy.logits", c.logits, c.dlogits, B * K);
    gradcheck_run(&gc);
}

Test(backward, cross_entropy) {
    check_loss(0.0f);
}

Test(backward, cross_entropy_with_label_smoothing) {
    check_loss(0.1f);
}

Test(backward, cross_entropy_by_hand) {
    // equal logits: every p = 1/K, and the loss is log K whatever the smoothing
    const float zeros[8] = {0};
    const int labels[2] = {1, 3};
    float probs[8];
    for (int s = 0; s < 3; s++)
        cr_expect_float_eq(cross_entropy_forward(probs, zeros, labels, 2, 4, 0.1f * s), logf(4.0f),
                           1e-6);
    // logits (log 1, log 3): p = (1/4, 3/4); label 0, s = 0.2: targets 0.9, 0.1
    const float logits[2] = {0.0f, logf(3.0f)};
    const int label[1] = {0};
    float loss = cross_entropy_forward(probs, logits, label, 1, 2, 0.2f);
    cr_expect_float_eq(loss, (float)(-0.9 * log(0.25) - 0.1 * log(0.75)), 1e-6);
    float d[2];
    cross_entropy_backward(d, probs, label, 1, 2, 0.2f);
    cr_expect_float_eq(d[0], 0.25f - 0.9f, 1e-6);
    cr_expect_float_eq(d[1], 0.75f - 0.1f, 1e-6);
}

// ---- the whole model ----------------------------------------------------------------------

typedef struct {
    int B;
    float smoothing;
    bool training;
    Rng dropout_start; // the mask generator's state before the pass, for the same masks
    float *images, *dimages;
    const int *labels;
} VitCase;

// The mean cross-entropy of the model's logits, in double: the scalar whose
// gradient vit_backward gives (torch's definition of label smoothing).
static double mean_cross_entropy(const float *logits, const int *labels, int B, int K, double s) {
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        const float *z = logits + (size_t)b * K;
        double max = z[0], sum = 0.0, log_p_sum = 0.0;
        for (int k = 1; k < K; k++) max = fmax(max, z[k]);
        for (int k = 0; k < K; k++) sum += exp(z[k] - max);
        for (int k = 0; k < K; k++) log_p_sum += z[k] - max - log(sum);
        total += -(1 - s) * (z[labels[b]] - max - log(sum)) - s / K * log_p_sum;
    }
    return total / B;
}

static double vit_loss(GradCheck *gc) {
    VitCase *c = gc->ctx;
    vit.dropout_rng = c->dropout_start;
    float loss = vit_forward(&vit, c->images, c->labels, c->B, c->smoothing, c->training);
    double exact =
        mean_cross_entropy(vit.ha.logits, c->labels, c->B, vit.cfg.num_classes, c->smoothing);
    cr_assert(fabs(loss - exact) <= 1e-6 * fmax(1.0, exact), "vit_forward's loss %.9g, want %.9g",
              loss, exact);
    return exact;
}

// vit_backward's gradients; without dropout, also the images' through encoder_backward.
static void vit_grads(GradCheck *gc) {
    VitCase *c = gc->ctx;
    vit_backward(&vit, c->labels, c->B, c->smoothing);
    if (c->dimages == NULL) return;
    size_t n = (size_t)c->B * vit.cfg.in_channels * vit.cfg.image_size * vit.cfg.image_size;
    memset(c->dimages, 0, n * sizeof(float));
    encoder_backward(NULL, &vit.da, c->dimages, vit.da.out, &vit.a, &vit.w, &vit.cfg, c->B);
}

static void check_vit(HeadOptions head, float dropout, bool image_gradient) {
    Rng rng;
    rng_seed(&rng, 11);
    VitConfig cfg = tiny_config(2);
    enum { B = 3 };
    static const int labels[B] = {4, 0, 2};
    vit_build(&vit, &cfg, &head, dropout, B + 1); // room for more than B images
    vit_init(&vit, &rng);
    randomize(&vit.params, &rng); // a zero head would leave the encoder without gradients
    size_t n = (size_t)B * cfg.in_channels * cfg.image_size * cfg.image_size;
    VitCase c = {.B = B, .smoothing = 0.1f, .training = dropout > 0, .labels = labels};
    c.dropout_start = vit.dropout_rng;
    c.images = random_floats(&rng, n, 0, 1);
    c.dimages = image_gradient ? floats(n) : NULL;
    GradCheck gc = {.loss = vit_loss, .backward = vit_grads, .accumulates = false, .ctx = &c};
    check_parameters(&gc, &vit.params, &vit.grads);
    if (image_gradient) gradcheck_tensor(&gc, "images", c.images, c.dimages, n);
    gradcheck_run(&gc);
}

Test(backward, vit_class_token_and_the_images) {
    check_vit((HeadOptions){0}, 0.0f, true);
}

Test(backward, vit_mean_pool_and_pre_logits_and_the_images) {
    check_vit((HeadOptions){.mean_pool = true, .pre_logits = true}, 0.0f, true);
}

Test(backward, vit_with_dropout_while_training) {
    check_vit((HeadOptions){.pre_logits = true}, 0.3f, false);
}

// ---- the model's properties ----------------------------------------------------------------

Test(backward, vit_lists_parameters_and_gradients_alike) {
    VitConfig cfg = tiny_config(2);
    HeadOptions head = {.pre_logits = true};
    vit_build(&vit, &cfg, &head, 0.1f, 2);
    cr_assert_eq(vit.params.count, vit.grads.count);
    cr_assert_eq(vit.params.total, vit.grads.total);
    for (int i = 0; i < vit.params.count; i++) {
        cr_expect_str_eq(vit.params.entries[i].name, vit.grads.entries[i].name);
        cr_expect_eq(vit.params.entries[i].offset, vit.grads.entries[i].offset);
    }
    cr_expect_not_null(tensors_find(&vit.params, "conv_proj.weight"));
    cr_expect_not_null(tensors_find(&vit.params, "heads.pre_logits.weight"));
    const TensorEntry *last = &vit.params.entries[vit.params.count - 1];
    cr_expect_str_eq(last->name, "heads.head.bias");
    cr_expect_eq(vit.hw.b, vit.params.memory + last->offset);
    cr_expect_eq(vit.dhw.b, vit.grads.memory + last->offset);
    // torchvision's count, plus the pre-logits layer
    int C = cfg.hidden_dim;
    cr_expect_eq((long long)vit.params.total, vit_param_count(&cfg) + C * C + C);
}

Test(backward, vit_init_zero_head_gives_uniform_predictions) {
    VitConfig cfg = tiny_config(2);
    HeadOptions head = {0};
    vit_build(&vit, &cfg, &head, 0.0f, 2);
    Rng rng;
    rng_seed(&rng, 12);
    vit_init(&vit, &rng);
    float *images = random_floats(&rng, 2 * 2 * 8 * 8, 0, 1);
    const int labels[2] = {1, 3};
    float loss = vit_forward(&vit, images, labels, 2, 0.0f, false);
    cr_expect_float_eq(loss, logf(5.0f), 1e-6, "zero head: every class 1/5, loss log 5");
    for (int i = 0; i < 2 * 5; i++) cr_expect_eq(vit.ha.logits[i], 0.0f);
    // only the head learns from the first step: with a zero classifier nothing flows back
    vit_backward(&vit, labels, 2, 0.0f);
    const TensorEntry *head_w = tensors_find(&vit.grads, "heads.head.weight");
    double head_norm = 0.0, rest = 0.0;
    for (size_t i = 0; i < vit.grads.total; i++) {
        bool in_head = i >= head_w->offset;
        double g2 = (double)vit.grads.memory[i] * vit.grads.memory[i];
        head_norm += in_head ? g2 : 0.0;
        rest += in_head ? 0.0 : g2;
    }
    cr_expect_gt(head_norm, 0.0);
    cr_expect_eq(rest, 0.0);
}

Test(backward, dropout_is_seeded_and_off_when_not_training) {
    VitConfig cfg = tiny_config(1);
    HeadOptions head = {0};
    vit_build(&vit, &cfg, &head, 0.5f, 2);
    Rng rng;
    rng_seed(&rng, 13);
    vit_init(&vit, &rng);
    randomize(&vit.params, &rng);
    float *images = random_floats(&rng, 2 * 2 * 8 * 8, 0, 1);
    float *eval = floats(10), *train = floats(10), *again = floats(10);
    Rng start = vit.dropout_rng;
    vit_forward(&vit, images, NULL, 2, 0.0f, true);
    memcpy(train, vit.ha.logits, sizeof(float) * 10);
    vit_forward(&vit, images, NULL, 2, 0.0f, false);
    memcpy(eval, vit.ha.logits, sizeof(float) * 10);
    cr_expect_null(vit.ha.mask);
    vit.dropout_rng = start;
    vit_forward(&vit, images, NULL, 2, 0.0f, true);
    memcpy(again, vit.ha.logits, sizeof(float) * 10);
    expect_floats_equal("same masks, same logits", again, train, 10, 0);
    cr_expect(diff_floats(train, eval, 10, 1e-4, 0).bad > 0, "dropout changed nothing");
    // the masks: 0 or 1/(1-p) = 2, about half of each
    int T = vit_tokens(&cfg), C = cfg.hidden_dim, n = 2 * (T + 1) * C, zeros = 0;
    for (int i = 0; i < n; i++) {
        cr_assert(vit.dropout_mask[i] == 0.0f || vit.dropout_mask[i] == 2.0f);
        zeros += vit.dropout_mask[i] == 0.0f;
    }
    cr_expect(zeros > n / 3 && zeros < 2 * n / 3, "%d of %d dropped at p = 0.5", zeros, n);
}

// Two passes on the same batch, with 2 threads, give the same gradients bit for bit:
// nothing depends on which thread finishes first (no atomic adds, no reductions in
// the threads' order).
Test(backward, vit_gradients_are_the_same_every_time_with_two_threads) {
    VitConfig cfg = {.image_size = 28,
                     .patch_size = 7,
                     .in_channels = 1,
                     .hidden_dim = 32,
                     .mlp_dim = 64,
                     .num_layers = 2,
                     .num_heads = 2,
                     .num_classes = 10};
    enum { B = 24 };
    HeadOptions head = {0};
    int threads = omp_get_max_threads();
    omp_set_num_threads(2); // before vit_build: it makes one slice of the batch per thread
    vit_build(&vit, &cfg, &head, 0.0f, B);
    Rng rng;
    rng_seed(&rng, 15);
    randomize(&vit.params, &rng);
    float *images = random_floats(&rng, (size_t)B * 28 * 28, 0, 1);
    float *first = floats(vit.grads.total);
    int labels[B];
    for (int b = 0; b < B; b++) labels[b] = b % 10;
    for (int pass = 0; pass < 3; pass++) {
        vit_forward(&vit, images, labels, B, 0.1f, true);
        vit_backward(&vit, labels, B, 0.1f);
        if (pass == 0)
            memcpy(first, vit.grads.memory, vit.grads.total * sizeof(float));
        else
            cr_expect(memcmp(first, vit.grads.memory, vit.grads.total * sizeof(float)) == 0,
                      "pass %d's gradients differ from the first pass's", pass);
    }
    omp_set_num_threads(threads);
}

// vit_build_inference: no gradients (empty lists, no Model view of them), and on the
// same weights the same logits as vit_build's model, bit for bit, with two threads
// sharing the batch (freed by .fini: vit_free on a model without gradients).
Test(backward, vit_built_for_inference_gives_the_same_logits) {
    VitConfig cfg = tiny_config(2);
    enum { B = 5 };
    int threads = omp_get_max_threads();
    omp_set_num_threads(2);
    Vit full;
    vit_build(&full, &cfg, &(HeadOptions){0}, 0.0f, B);
    vit_build_inference(&vit, &cfg, &(HeadOptions){0}, B);
    cr_expect_eq(vit.grads.total, 0);
    cr_expect_eq(vit.dacts.total, 0);
    cr_expect_null(vit.model.grads);
    cr_expect_eq(vit.params.total, full.params.total);
    Rng rng;
    rng_seed(&rng, 18);
    randomize(&full.params, &rng);
    memcpy(vit.params.memory, full.params.memory, full.params.total * sizeof(float));
    float *images = random_floats(&rng, (size_t)B * 2 * 8 * 8, 0, 1);
    vit_forward(&full, images, NULL, B, 0.0f, false);
    vit_forward(&vit, images, NULL, B, 0.0f, false);
    expect_floats_equal("logits, inference build", vit.ha.logits, full.ha.logits, B * 5, 0.0);
    vit_free(&full);
    omp_set_num_threads(threads);
}

// With 3 threads the batch is cut into 3 slices of images, each run by its own
// thread with its own parameter gradients; the loss, the logits and the gradients
// are those of the whole batch in one piece (1 thread), to rounding. Dropout on:
// each slice must use its own part of the masks.
Test(backward, vit_slices_of_a_batch_add_up_to_the_whole_batch) {
    VitConfig cfg = tiny_config(2);
    enum { B = 7 };
    int threads = omp_get_max_threads();
    omp_set_num_threads(3);
    vit_build(&vit, &cfg, &(HeadOptions){0}, 0.2f, B);
    Rng rng;
    rng_seed(&rng, 16);
    randomize(&vit.params, &rng);
    float *images = random_floats(&rng, (size_t)B * 2 * 8 * 8, 0, 1);
    float *logits[2] = {floats(B * 5), floats(B * 5)};
    float *grads[2] = {floats(vit.grads.total), floats(vit.grads.total)};
    int labels[B] = {0, 1, 2, 3, 4, 0, 1};
    float loss[2];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run == 0 ? 1 : 3);
        rng_seed(&vit.dropout_rng, 17); // the same masks both times
        loss[run] = vit_forward(&vit, images, labels, B, 0.1f, true);
        vit_backward(&vit, labels, B, 0.1f);
        memcpy(logits[run], vit.ha.logits, sizeof(float) * B * 5);
        memcpy(grads[run], vit.grads.memory, vit.grads.total * sizeof(float));
    }
    omp_set_num_threads(threads);
    cr_expect_float_eq(loss[1], loss[0], 1e-6f, "loss with 3 slices %g, whole %g", loss[1],
                       loss[0]);
    expect_floats_close("logits, 3 slices", logits[1], logits[0], B * 5, 1e-6, 1e-5);
    expect_floats_close("gradients, 3 slices", grads[1], grads[0], vit.grads.total, 1e-6, 1e-5);
}

// One image with two threads: a single slice, run outside any parallel region, whose
// layers share their loops between the threads; the loss, the logits and the
// gradients those of one thread, to rounding. Dropout on.
Test(backward, vit_one_image_on_two_threads_is_the_one_thread_result) {
    VitConfig cfg = tiny_config(2);
    int threads = omp_get_max_threads();
    omp_set_num_threads(2);
    vit_build(&vit, &cfg, &(HeadOptions){0}, 0.2f, 3);
    Rng rng;
    rng_seed(&rng, 19);
    randomize(&vit.params, &rng);
    float *images = random_floats(&rng, 2 * 8 * 8, 0, 1);
    float *logits[2] = {floats(5), floats(5)};
    float *grads[2] = {floats(vit.grads.total), floats(vit.grads.total)};
    int label = 3;
    float loss[2];
    for (int run = 0; run < 2; run++) {
        omp_set_num_threads(run == 0 ? 1 : 2);
        rng_seed(&vit.dropout_rng, 20); // the same masks both times
        loss[run] = vit_forward(&vit, images, &label, 1, 0.1f, true);
        vit_backward(&vit, &label, 1, 0.1f);
        memcpy(logits[run], vit.ha.logits, sizeof(float) * 5);
        memcpy(grads[run], vit.grads.memory, vit.grads.total * sizeof(float));
    }
    omp_set_num_threads(threads);
    cr_expect_float_eq(loss[1], loss[0], 1e-6f, "loss with 2 threads %g, 1 thread %g", loss[1],
                       loss[0]);
    expect_floats_close("logits, 2 threads", logits[1], logits[0], 5, 1e-6, 1e-5);
    expect_floats_close("gradients, 2 threads", grads[1], grads[0], vit.grads.total, 1e-6, 1e-5);
}

Test(backward, vit_on_fewer_images_than_it_was_built_for) {
    // the first image's logits do not depend on the batch around it
    VitConfig cfg = tiny_config(2);
    HeadOptions head = {.mean_pool = true};
    vit_build(&vit, &cfg, &head, 0.0f, 3);
    Rng rng;
    rng_seed(&rng, 14);
    randomize(&vit.params, &rng);
    float *images = random_floats(&rng, 3 * 2 * 8 * 8, 0, 1), *first = floats(5);
    vit_forward(&vit, images, NULL, 3, 0.0f, false);
    memcpy(first, vit.ha.logits, sizeof(float) * 5);
    vit_forward(&vit, images, NULL, 1, 0.0f, false);
    expect_floats_close("logits of image 0", vit.ha.logits, first, 5, 1e-6, 1e-5);
}

// vit.c — the whole classifier: the encoder and the head with their
// parameters, gradients, activations and activation gradients each in one
// allocation made by vit_build; the forward pass to the loss, with dropout
// while training; and the backward pass to every parameter's gradient.
#include "vit.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "embed.h"
#include "error.h"
#include "layernorm.h"
#include "linear.h"
#include "loss.h"
#include "patch.h"

// ---- building ---------------------------------------------------------------------

// region: vit-build
void vit_build(Vit *m, const VitConfig *cfg, const HeadOptions *head, float dropout, int B) {
    assert(vit_config_check(cfg, NULL) && cfg->num_classes > 0 && B > 0);
    assert(dropout >= 0.0f && dropout < 1.0f);
    *m = (Vit){.cfg = *cfg, .head = *head, .dropout = dropout, .B = B};
    int L = cfg->num_layers, C = cfg->hidden_dim, T = vit_tokens(cfg), K = cfg->num_classes;
    m->w.layers = xcalloc(L, sizeof(BlockWeights));
    m->dw.layers = xcalloc(L, sizeof(BlockWeights));
    m->a.layers = xcalloc(L, sizeof(BlockActivations));
    m->da.layers = xcalloc(L, sizeof(BlockActivations));
    Tensors *lists[] = {&m->params, &m->grads, &m->acts, &m->dacts};
    for (int i = 0; i < 4; i++) tensors_init(lists[i]);
    // parameters and their gradients: one list, twice, so the layouts match
    encoder_params_add(&m->params, &m->w, cfg);
    head_params_add(&m->params, &m->hw, head, C, K);
    encoder_params_add(&m->grads, &m->dw, cfg);
    head_params_add(&m->grads, &m->dhw, head, C, K);
    // activations, the softmax, the dropout masks; and the activations' gradients
    encoder_acts_add(&m->acts, &m->a, cfg, B);
    head_acts_add(&m->acts, &m->ha, head, B, C, K);
    tensors_add(&m->acts, &m->probs, 2, (int[]){B, K}, "probs");
    tensors_add(&m->acts, &m->dropout_mask, 1, (int[]){B * (T + 1) * C}, "dropout_mask");
    encoder_acts_add(&m->dacts, &m->da, cfg, B);
    head_acts_add(&m->dacts, &m->dha, head, B, C, K);
    for (int i = 0; i < 4; i++) tensors_alloc(lists[i]);
}
// endregion: vit-build

void vit_free(Vit *m) {
    tensors_free(&m->params);
    tensors_free(&m->grads);
    tensors_free(&m->acts);
    tensors_free(&m->dacts);
    free(m->w.layers);
    free(m->dw.layers);
    free(m->a.layers);
    free(m->da.layers);
    *m = (Vit){0};
}

// region: vit-init
void vit_init(Vit *m, Rng *rng) {
    int C = m->cfg.hidden_dim, K = m->cfg.num_classes;
    encoder_weights_init(&m->w, &m->cfg, rng);
    // the classifier starts at zero, as in the paper's fine-tuning: every logit 0
    memset(m->hw.w, 0, sizeof(float) * K * C);
    memset(m->hw.b, 0, sizeof(float) * K);
    if (m->head.pre_logits) { // LeCun normal, as torchvision and the paper's code
        float std = sqrtf(1.0f / (float)C);
        rng_fill_trunc_normal(rng, m->hw.pre_w, C * C, std, -2.0f * std, 2.0f * std);
        memset(m->hw.pre_b, 0, sizeof(float) * C);
    }
    uint64_t seed = (uint64_t)rng_u32(rng) << 32 | rng_u32(rng);
    rng_seed(&m->dropout_rng, seed);
}
// endregion: vit-init

// ---- forward --------------------------------------------------------------------

// region: dropout
// mask (n): 0 with probability p, else 1/(1-p), so that x * mask keeps the
// expected value of x (inverted dropout: nothing to rescale at test time).
static void dropout_draw(float *mask, size_t n, float p, Rng *rng) {
    float keep = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) mask[i] = rng_uniform(rng) < p ? 0.0f : keep;
}

// x (n) *= mask (n): dropout forward, and its backward on the gradient.
static void dropout_apply(float *x, const float *mask, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] *= mask[i];
}
// endregion: dropout

// region: vit-encode
// encoder_run's steps, with dropout on the tokens when tokens_mask (B,T,C) is set.
static void encode(Vit *m, const float *images, int B, const float *tokens_mask) {
    const VitConfig *cfg = &m->cfg;
    EncoderActivations *a = &m->a;
    const EncoderWeights *w = &m->w;
    int Cin = cfg->in_channels, S = cfg->image_size, P = cfg->patch_size;
    int C = cfg->hidden_dim, T = vit_tokens(cfg), N = T - 1;
    patchify(a->patches, images, B, Cin, S, S, P);
    linear_forward(a->patch_emb, a->patches, w->conv_w, w->conv_b, B * N, Cin * P * P, C);
    tokens_forward(a->tokens, a->patch_emb, w->class_token, w->pos, B, N, C);
    if (tokens_mask != NULL) dropout_apply(a->tokens, tokens_mask, (size_t)B * T * C);
    const float *x = a->tokens;
    for (int l = 0; l < cfg->num_layers; l++) {
        block_forward(a->layers[l].out, &a->layers[l], x, &w->layers[l], B, T, C, cfg->mlp_dim,
                      cfg->num_heads);
        x = a->layers[l].out;
    }
    layernorm_forward(a->out, a->ln_mean, a->ln_rstd, x, w->ln_w, w->ln_b, B * T, C);
}
// endregion: vit-encode

// region: vit-forward
float vit_forward(Vit *m, const float *images, const int *labels, int B, float smoothing,
                  bool training) {
    // images (B,Cin,H,W), labels (B) or NULL; the logits land in m->ha.logits (B,K)
    assert(B > 0 && B <= m->B);
    int C = m->cfg.hidden_dim, T = vit_tokens(&m->cfg), K = m->cfg.num_classes;
    // 1. dropout masks, drawn afresh for every batch: tokens (B,T,C), then the head's (B,C)
    bool drop = training && m->dropout > 0.0f;
    float *tokens_mask = m->dropout_mask, *head_mask = m->dropout_mask + (size_t)m->B * T * C;
    if (drop) {
        dropout_draw(tokens_mask, (size_t)B * T * C, m->dropout, &m->dropout_rng);
        dropout_draw(head_mask, (size_t)B * C, m->dropout, &m->dropout_rng);
    }
    m->ha.mask = drop ? head_mask : NULL; // also tells vit_backward that dropout was on
    // 2. the encoder: normalised tokens (B,T,C)
    encode(m, images, B, drop ? tokens_mask : NULL);
    // 3. the head: logits (B,K)
    head_forward(&m->ha, m->a.out, &m->hw, &m->head, B, T, C, K);
    // 4. the loss, when there are labels
    if (labels == NULL) return 0.0f;
    return cross_entropy_forward(m->probs, m->ha.logits, labels, B, K, smoothing);
}
// endregion: vit-forward

// ---- backward -------------------------------------------------------------------

// region: vit-encode-backward
// encoder_backward's steps, with the tokens' dropout mask (B,T,C) when set, and
// no image gradient; d(out) comes in m->da.out.
static void encode_backward(Vit *m, int B, const float *tokens_mask) {
    const VitConfig *cfg = &m->cfg;
    const EncoderActivations *a = &m->a;
    EncoderActivations *da = &m->da;
    EncoderWeights *g = &m->dw;
    int Cin = cfg->in_channels, P = cfg->patch_size, L = cfg->num_layers;
    int C = cfg->hidden_dim, T = vit_tokens(cfg), N = T - 1;
    size_t n = (size_t)B * T * C;
    for (int l = 0; l < L; l++) memset(da->layers[l].out, 0, n * sizeof(float));
    memset(da->tokens, 0, n * sizeof(float));
    layernorm_backward(da->layers[L - 1].out, g->ln_w, g->ln_b, da->out, a->layers[L - 1].out,
                       m->w.ln_w, a->ln_mean, a->ln_rstd, B * T, C);
    for (int l = L - 1; l >= 0; l--)
        block_backward(l > 0 ? da->layers[l - 1].out : da->tokens, &g->layers[l], &da->layers[l],
                       da->layers[l].out, l > 0 ? a->layers[l - 1].out : a->tokens, &a->layers[l],
                       &m->w.layers[l], B, T, C, cfg->mlp_dim, cfg->num_heads);
    if (tokens_mask != NULL) dropout_apply(da->tokens, tokens_mask, n);
    memset(da->patch_emb, 0, (size_t)B * N * C * sizeof(float));
    tokens_backward(da->patch_emb, g->class_token, g->pos, da->tokens, B, N, C);
    linear_backward(NULL, g->conv_w, g->conv_b, da->patch_emb, a->patches, m->w.conv_w, B * N,
                    Cin * P * P, C);
}
// endregion: vit-encode-backward

// region: vit-backward
void vit_backward(Vit *m, const float *images, const int *labels, int B, float smoothing) {
    // labels (B) as given to vit_forward; images are not needed again (acts hold the patches)
    (void)images;
    assert(B > 0 && B <= m->B);
    int C = m->cfg.hidden_dim, T = vit_tokens(&m->cfg), K = m->cfg.num_classes;
    memset(m->grads.memory, 0, m->grads.total * sizeof(float));
    // 4. the loss: dlogits (B,K)
    cross_entropy_backward(m->dha.logits, m->probs, labels, B, K, smoothing);
    // 3. the head: d(encoder output) (B,T,C) into m->da.out
    memset(m->da.out, 0, (size_t)B * T * C * sizeof(float));
    head_backward(m->da.out, &m->dhw, &m->dha, m->dha.logits, &m->ha, &m->hw, &m->head, B, T, C, K);
    // 2. the encoder, through the tokens' dropout if the forward pass had it
    encode_backward(m, B, m->ha.mask != NULL ? m->dropout_mask : NULL);
}
// endregion: vit-backward

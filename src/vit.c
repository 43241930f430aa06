// vit.c — the whole classifier: the encoder and the head with their
// parameters, gradients, activations and activation gradients each in one
// allocation made by vit_build; the forward pass to the loss, with dropout
// while training; and the backward pass to every parameter's gradient. Each
// thread runs the model on its own slice of the batch (data parallelism).
#include "vit.h"

#include <assert.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "dropout.h"
#include "error.h"
#include "loss.h"
#include "slices.h"

// ---- building ---------------------------------------------------------------------

// The activations of B images: the encoder's, the head's, the softmax and the
// dropout masks; and, for a model that trains, the activations' gradients (an
// inference-only model leaves dacts empty). Listed the same way for the model
// and for every slice's views.
static void list_activations(Tensors *acts, Tensors *dacts, EncoderActivations *a,
                             EncoderActivations *da, HeadActivations *ha, HeadActivations *dha,
                             float **probs, float **dropout_mask, const Vit *m) {
    const VitConfig *cfg = &m->cfg;
    int B = m->B, C = cfg->hidden_dim, T = vit_tokens(cfg), K = cfg->num_classes;
    a->layers = xcalloc(cfg->num_layers, sizeof(BlockActivations));
    da->layers = xcalloc(cfg->num_layers, sizeof(BlockActivations));
    tensors_init(acts);
    tensors_init(dacts);
    encoder_acts_add(acts, a, cfg, B);
    head_acts_add(acts, ha, &m->head, B, C, K);
    tensors_add(acts, probs, 2, (int[]){B, K}, "probs");
    tensors_add(acts, dropout_mask, 1, (int[]){B * (T + 1) * C}, "dropout_mask");
    if (!m->trains) return;
    encoder_acts_add(dacts, da, cfg, B);
    head_acts_add(dacts, dha, &m->head, B, C, K);
}

// Slice s: the lists of views (aimed at images by aim_slice), and its own
// parameter gradients unless it is slice 0 or the model does not train.
static void slice_build(VitSlice *v, const Vit *m, int s) {
    int C = m->cfg.hidden_dim, K = m->cfg.num_classes;
    list_activations(&v->acts, &v->dacts, &v->a, &v->da, &v->ha, &v->dha, &v->probs,
                     &v->dropout_mask, m);
    tensors_init(&v->grads);
    if (!m->trains) return; // no gradients at all
    if (s == 0) {           // adds straight into the model's gradients
        v->dw = m->dw;
        v->dhw = m->dhw;
        return;
    }
    v->dw.layers = xcalloc(m->cfg.num_layers, sizeof(BlockWeights));
    encoder_params_add(&v->grads, &v->dw, &m->cfg);
    head_params_add(&v->grads, &v->dhw, &m->head, C, K);
    tensors_alloc(&v->grads);
}

// region: vit-build
// Parameters always; gradients, activation gradients and the slices' own
// gradients only when the model trains.
static void build(Vit *m, const VitConfig *cfg, const HeadOptions *head, float dropout, int B,
                  bool trains) {
    assert(vit_config_check(cfg, NULL) && cfg->num_classes > 0 && B > 0);
    assert(dropout >= 0.0f && dropout < 1.0f);
    *m = (Vit){.cfg = *cfg, .head = *head, .dropout = dropout, .B = B, .trains = trains};
    int L = cfg->num_layers, C = cfg->hidden_dim, K = cfg->num_classes;
    m->w.layers = xcalloc(L, sizeof(BlockWeights));
    m->dw.layers = xcalloc(L, sizeof(BlockWeights));
    tensors_init(&m->params);
    tensors_init(&m->grads);
    // parameters and their gradients: one list, twice, so the layouts match
    encoder_params_add(&m->params, &m->w, cfg);
    head_params_add(&m->params, &m->hw, head, C, K);
    if (trains) {
        encoder_params_add(&m->grads, &m->dw, cfg);
        head_params_add(&m->grads, &m->dhw, head, C, K);
    }
    // activations, the softmax, the dropout masks; and the activations' gradients
    list_activations(&m->acts, &m->dacts, &m->a, &m->da, &m->ha, &m->dha, &m->probs,
                     &m->dropout_mask, m);
    Tensors *lists[] = {&m->params, &m->acts, &m->grads, &m->dacts}; // the last two to train
    for (int i = 0; i < (trains ? 4 : 2); i++) tensors_alloc(lists[i]);
    // one slice of every batch per thread
    m->slices = omp_get_max_threads();
    m->slice = xcalloc(m->slices, sizeof(VitSlice));
    m->slice_grads = xcalloc(m->slices, sizeof(float *));
    for (int s = 0; s < m->slices; s++) {
        slice_build(&m->slice[s], m, s);
        m->slice_grads[s] = m->slice[s].grads.memory;
    }
    // what the trainer sees
    m->model = (Model){.kind = &vit_kind,
                       .image_size = cfg->image_size,
                       .in_channels = cfg->in_channels,
                       .num_classes = K,
                       .B = B,
                       .params = &m->params,
                       .grads = trains ? &m->grads : NULL,
                       .logits = m->ha.logits,
                       .dropout_rng = &m->dropout_rng};
}

void vit_build(Vit *m, const VitConfig *cfg, const HeadOptions *head, float dropout, int B) {
    build(m, cfg, head, dropout, B, true);
}
// endregion: vit-build

void vit_build_inference(Vit *m, const VitConfig *cfg, const HeadOptions *head, int B) {
    build(m, cfg, head, 0.0f, B, false);
}

void vit_free(Vit *m) {
    for (int s = 0; s < m->slices; s++) {
        VitSlice *v = &m->slice[s];
        tensors_free(&v->acts);
        tensors_free(&v->dacts);
        free(v->a.layers);
        free(v->da.layers);
        if (s > 0) free(v->dw.layers);
        tensors_free(&v->grads);
    }
    free(m->slice);
    free(m->slice_grads);
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
    encoder_weights_init(&m->w, &m->cfg, rng);
    // the classifier starts at zero, as in the paper's fine-tuning: every logit 0
    head_init(&m->hw, &m->head, m->cfg.hidden_dim, m->cfg.num_classes, rng);
    uint64_t seed = (uint64_t)rng_u32(rng) << 32 | rng_u32(rng);
    rng_seed(&m->dropout_rng, seed);
}
// endregion: vit-init

// ---- slices of a batch ------------------------------------------------------------

// region: vit-slices
// Slice s of n of a batch of B images: its views aimed at its images (slices.h);
// *b0 is its first image; returns how many it has.
static int aim_slice(VitSlice *v, const Vit *m, int s, int n, int B, int *b0) {
    int count = slices_share(s, n, B, b0);
    slices_aim(&v->acts, &m->acts, *b0, m->B);
    slices_aim(&v->dacts, &m->dacts, *b0, m->B);
    return count;
}
// endregion: vit-slices

// ---- forward --------------------------------------------------------------------

// region: vit-encode
// The encoder's two halves into a (a slice's views), with dropout on the tokens
// between them when tokens_mask (B,T,C) is set.
static void encode(const Vit *m, EncoderActivations *a, const float *images, int B,
                   const float *tokens_mask) {
    int C = m->cfg.hidden_dim, T = vit_tokens(&m->cfg);
    encoder_embed(a, &m->w, &m->cfg, B, images);
    if (tokens_mask != NULL) dropout_apply(a->tokens, tokens_mask, (size_t)B * T * C);
    if (m->logits_only && !m->head.mean_pool)
        encoder_blocks_class(a, &m->w, &m->cfg, B); // all the head reads: the class tokens
    else
        encoder_blocks(a, &m->w, &m->cfg, B);
}
// endregion: vit-encode

// Thread s of n, on its slice of a batch of B images: the encoder and the head,
// through its part of the dropout masks when drop.
static void thread_forward(Vit *m, int s, int n, const float *images, int B, bool drop) {
    int C = m->cfg.hidden_dim, T = vit_tokens(&m->cfg), K = m->cfg.num_classes;
    size_t pixels = (size_t)m->cfg.in_channels * m->cfg.image_size * m->cfg.image_size;
    float *tokens_mask = m->dropout_mask, *head_mask = m->dropout_mask + (size_t)m->B * T * C;
    VitSlice *v = &m->slice[s];
    int b0, Bs = aim_slice(v, m, s, n, B, &b0);
    v->ha.mask = drop ? head_mask + (size_t)b0 * C : NULL;
    encode(m, &v->a, images + (size_t)b0 * pixels, Bs,
           drop ? tokens_mask + (size_t)b0 * T * C : NULL);
    head_forward(&v->ha, v->a.out, &m->hw, &m->head, Bs, T, C, K);
}

// region: vit-forward
float vit_forward(Vit *m, const float *images, const int *labels, int B, float smoothing,
                  bool training) {
    // images (B,Cin,H,W), labels (B) or NULL; the logits land in m->ha.logits (B,K)
    assert(B > 0 && B <= m->B);
    assert(!(m->logits_only && m->trains) && "logits_only: for inference-only models");
    int C = m->cfg.hidden_dim, T = vit_tokens(&m->cfg), K = m->cfg.num_classes;
    // 1. dropout masks, drawn afresh for every batch: tokens (B,T,C), then the head's (B,C)
    bool drop = training && m->dropout > 0.0f;
    float *tokens_mask = m->dropout_mask, *head_mask = m->dropout_mask + (size_t)m->B * T * C;
    if (drop) {
        dropout_draw(tokens_mask, (size_t)B * T * C, m->dropout, &m->dropout_rng);
        dropout_draw(head_mask, (size_t)B * C, m->dropout, &m->dropout_rng);
    }
    m->ha.mask = drop ? head_mask : NULL; // also tells vit_backward that dropout was on
    // 2. the encoder, then the head: logits (B,K); each thread on its slice of the
    //    images, a single slice outside any parallel region (parallel.h)
    int n = slices_count(m->slices, B);
    if (n == 1) {
        thread_forward(m, 0, 1, images, B, drop);
    } else {
#pragma omp parallel num_threads(n)
        thread_forward(m, omp_get_thread_num(), omp_get_num_threads(), images, B, drop);
    }
    // 3. the loss, when there are labels
    if (labels == NULL) return 0.0f;
    return cross_entropy_forward(m->probs, m->ha.logits, labels, B, K, smoothing);
}
// endregion: vit-forward

// ---- backward -------------------------------------------------------------------

// region: vit-encode-backward
// The encoder's halves backward on slice v's views, into its parameter gradients,
// through the tokens' dropout mask (B,T,C) when set; no image gradient. d(out)
// comes in v->da.out.
static void encode_backward(const Vit *m, VitSlice *v, int B, const float *tokens_mask) {
    int C = m->cfg.hidden_dim, T = vit_tokens(&m->cfg);
    encoder_blocks_backward(&v->dw, &v->da, v->da.out, &v->a, &m->w, &m->cfg, B);
    if (tokens_mask != NULL) dropout_apply(v->da.tokens, tokens_mask, (size_t)B * T * C);
    encoder_embed_backward(&v->dw, &v->da, NULL, &v->a, &m->w, &m->cfg, B);
}
// endregion: vit-encode-backward

// Slice v, images b0 .. b0+B-1: the head and the encoder backward, from d(logits) in
// its view of m->dha.logits to its parameter gradients (zeroed first; slice 0's are the
// model's).
static void slice_backward(Vit *m, VitSlice *v, int b0, int B) {
    int C = m->cfg.hidden_dim, T = vit_tokens(&m->cfg), K = m->cfg.num_classes;
    Tensors *grads = v->grads.memory != NULL ? &v->grads : &m->grads;
    memset(grads->memory, 0, grads->total * sizeof(float));
    bool drop = m->ha.mask != NULL; // the forward pass had dropout
    v->ha.mask = drop ? m->ha.mask + (size_t)b0 * C : NULL;
    memset(v->da.out, 0, (size_t)B * T * C * sizeof(float));
    head_backward(v->da.out, &v->dhw, &v->dha, v->dha.logits, &v->ha, &m->hw, &m->head, B, T, C, K);
    encode_backward(m, v, B, drop ? m->dropout_mask + (size_t)b0 * T * C : NULL);
}

// Thread s of n, on its slice of a batch of B images: its backward pass; then, when
// every slice is done, the slices' parameter gradients added into the model's.
static void thread_backward(Vit *m, int s, int n, int B) {
    VitSlice *v = &m->slice[s];
    int b0, Bs = aim_slice(v, m, s, n, B, &b0);
    slice_backward(m, v, b0, Bs);
#pragma omp barrier
    slices_add_gradients(m->grads.memory, m->grads.total, m->slice_grads, n);
}

// region: vit-backward
void vit_backward(Vit *m, const int *labels, int B, float smoothing) {
    assert(B > 0 && B <= m->B && m->trains && "vit_backward on a model built for inference");
    int K = m->cfg.num_classes;
    // 4. the loss: dlogits (B,K)
    cross_entropy_backward(m->dha.logits, m->probs, labels, B, K, smoothing);
    // 3-2. the head and the encoder, each thread on its slice of the images; then the
    //      slices' parameter gradients added into the model's, in slice order
    int n = slices_count(m->slices, B);
    if (n == 1) {
        thread_backward(m, 0, 1, B);
    } else {
#pragma omp parallel num_threads(n)
        thread_backward(m, omp_get_thread_num(), omp_get_num_threads(), B);
    }
}
// endregion: vit-backward

// ---- the ViT as a Model ------------------------------------------------------------

// region: vit-kind
static float kind_forward(Model *m, const float *images, const int *labels, int B, float smoothing,
                          bool training) {
    return vit_forward(vit_of(m), images, labels, B, smoothing, training);
}

static void kind_backward(Model *m, const int *labels, int B, float smoothing) {
    vit_backward(vit_of(m), labels, B, smoothing);
}

// torchvision's constructor arguments, and "pool" for the head's input.
static void kind_describe(const Model *model, SafetensorsMeta *meta) {
    const Vit *m = (const Vit *)model;
    vit_describe(meta, &m->cfg, &m->head);
    if (vit_gelu(m) != GELU_ERF) safetensors_meta_set(meta, "gelu", gelu_form_name(vit_gelu(m)));
}

static bool kind_fits(const Model *model, const SafetensorsMeta *meta, const char *path,
                      Error *err) {
    const Vit *m = (const Vit *)model;
    VitConfig c;
    HeadOptions head;
    GeluForm gelu;
    if (!vit_read_config(meta, path, &c, &head, err) || !vit_read_gelu(meta, path, &gelu, err))
        return false;
    if (gelu != vit_gelu(m))
        return error_set(err, "%s: holds a ViT whose MLP uses GELU's %s form, not the %s form",
                         path, gelu_form_name(gelu), gelu_form_name(vit_gelu(m)));
    if (memcmp(&c, &m->cfg, sizeof c) == 0 && head.mean_pool == m->head.mean_pool &&
        head.pre_logits == m->head.pre_logits)
        return true;
    return error_set(err,
                     "%s: holds a ViT of width %d, %d layers, %d heads, MLP %d, patch %d, "
                     "%s pooling%s, not the model asked for",
                     path, c.hidden_dim, c.num_layers, c.num_heads, c.mlp_dim, c.patch_size,
                     head.mean_pool ? "mean" : "class-token",
                     head.pre_logits ? ", pre-logits" : "");
}

static Model *kind_open(const SafetensorsMeta *meta, const char *path, int B, float dropout,
                        Error *err) {
    VitConfig cfg;
    HeadOptions head;
    GeluForm gelu;
    if (!vit_read_config(meta, path, &cfg, &head, err) || !vit_read_gelu(meta, path, &gelu, err) ||
        !vit_fits_data(meta, path, &cfg, &head, err))
        return NULL;
    Error why;
    if (!vit_sizes_check(&cfg, B, &why)) {
        error_set(err, "%s: for batches of %d images, %s", path, B, why.message);
        return NULL;
    }
    Vit *m = xmalloc(sizeof *m);
    vit_build(m, &cfg, &head, dropout, B);
    vit_set_gelu(m, gelu);
    return &m->model;
}

static void kind_close(Model *model) {
    Vit *m = vit_of(model);
    vit_free(m);
    free(m);
}

const ModelKind vit_kind = {.name = "vit",
                            .forward = kind_forward,
                            .backward = kind_backward,
                            .describe = kind_describe,
                            .fits = kind_fits,
                            .open = kind_open,
                            .close = kind_close};
// endregion: vit-kind

Vit *vit_of(Model *m) {
    assert(m->kind == &vit_kind);
    return (Vit *)m; // the Model is the Vit's first member
}

void vit_describe(SafetensorsMeta *meta, const VitConfig *cfg, const HeadOptions *head) {
    config_to_meta(meta, "", cfg, vit_config_fields, vit_config_field_count);
    if (head->pre_logits) { // torchvision's representation_size: the pre-logits width, here C
        char text[16];
        snprintf(text, sizeof text, "%d", cfg->hidden_dim);
        safetensors_meta_set(meta, "representation_size", text);
    }
    safetensors_meta_set(meta, "pool", head->mean_pool ? "mean" : "cls");
}

bool vit_fits_data(const SafetensorsMeta *meta, const char *path, const VitConfig *cfg,
                   const HeadOptions *head, Error *err) {
    return checkpoint_fits_data(meta, path, "ViT", vit_model_param_count(cfg, head), err);
}

long long vit_model_param_count(const VitConfig *cfg, const HeadOptions *head) {
    long long C = cfg->hidden_dim;
    return vit_param_count(cfg) + (head->pre_logits ? C * C + C : 0);
}

// region: vit-read-config
bool vit_read_config(const SafetensorsMeta *meta, const char *path, VitConfig *cfg,
                     HeadOptions *head, Error *err) {
    if (!config_from_meta(cfg, "", vit_config_fields, vit_config_field_count, meta, path, err))
        return false;
    Error why;
    if (!vit_config_check(cfg, &why))
        return error_set(err, "%s: the metadata describes no ViT: %s", path, why.message);
    const char *pool = safetensors_meta_get(meta, "pool");
    if (pool != NULL && strcmp(pool, "cls") != 0 && strcmp(pool, "mean") != 0)
        return error_set(err, "%s: metadata \"pool\" is \"%s\", expected cls or mean", path, pool);
    *head = (HeadOptions){.mean_pool = pool != NULL && strcmp(pool, "mean") == 0};
    long long size;
    if (safetensors_meta_get(meta, "representation_size") != NULL) {
        if (!meta_long(meta, "representation_size", cfg->hidden_dim, cfg->hidden_dim, &size, path,
                       err))
            return false;
        head->pre_logits = true;
    }
    return true;
}
// endregion: vit-read-config

// region: vit-gelu
bool vit_read_gelu(const SafetensorsMeta *meta, const char *path, GeluForm *form, Error *err) {
    const char *name = safetensors_meta_get(meta, "gelu");
    *form = name != NULL && strcmp(name, "tanh") == 0 ? GELU_TANH : GELU_ERF;
    if (name == NULL || strcmp(name, "erf") == 0 || strcmp(name, "tanh") == 0) return true;
    return error_set(err, "%s: metadata \"gelu\" is \"%s\", expected erf or tanh", path, name);
}

void vit_set_gelu(Vit *m, GeluForm form) {
    encoder_set_gelu(&m->w, &m->cfg, form);
}

GeluForm vit_gelu(const Vit *m) {
    return m->w.layers[0].gelu;
}
// endregion: vit-gelu

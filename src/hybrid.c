// hybrid.c — the hybrid: the ResNet stem, the encoder on its feature map, and
// the head; its lists of parameters, gradients, activations and their
// gradients, each one allocation; the forward pass with dropout while
// training, the backward pass, each thread on its slice of the batch; and the
// hybrid as a Model, with its checkpoints' metadata.
#include "hybrid.h"

#include <assert.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "dropout.h"
#include "loss.h"
#include "slices.h"
#include "vit.h"

// ---- the configuration ------------------------------------------------------------

VitConfig hybrid_encoder_config(const ResNetConfig *stem, const VitConfig *vit) {
    VitConfig c = *vit;
    c.image_size = resnet_out_side(stem);
    c.patch_size = 1;
    c.in_channels = resnet_out_channels(stem);
    return c;
}

bool hybrid_config_check(const ResNetConfig *stem, const VitConfig *encoder, Error *err) {
    Error why;
    if (!resnet_config_check(stem, &why)) return error_set(err, "the stem: %s", why.message);
    if (!vit_config_check(encoder, &why)) return error_set(err, "the encoder: %s", why.message);
    if (encoder->patch_size != 1 || encoder->image_size != resnet_out_side(stem) ||
        encoder->in_channels != resnet_out_channels(stem))
        return error_set(err,
                         "the encoder takes %dx%d images of %d channels in patches of %d, "
                         "not the stem's %dx%d map of %d channels in 1x1 patches",
                         encoder->image_size, encoder->image_size, encoder->in_channels,
                         encoder->patch_size, resnet_out_side(stem), resnet_out_side(stem),
                         resnet_out_channels(stem));
    return true;
}

long long hybrid_param_count(const ResNetConfig *stem, const VitConfig *encoder) {
    return resnet_param_count(stem) + vit_param_count(encoder);
}

double hybrid_forward_flops(const ResNetConfig *stem, const VitConfig *encoder) {
    return resnet_forward_flops(stem) + vit_forward_flops(encoder);
}

// ---- building ---------------------------------------------------------------------

// The parameters' list: the stem's ("stem.*"), the encoder's, the head's.
static void list_params(Tensors *t, HybridWeights *w, const Hybrid *m) {
    tensors_init(t);
    w->encoder.layers = xcalloc(m->cfg.num_layers, sizeof(BlockWeights));
    resnet_params_add(t, &w->stem, &m->stem, "stem");
    encoder_params_add(t, &w->encoder, &m->cfg);
    head_params_add(t, &w->head, &m->head, m->cfg.hidden_dim, m->cfg.num_classes);
}

// The activations of B images (the stem's, the encoder's, the head's, the
// softmax, the dropout masks) and their gradients; the same for the model and
// for every slice's views.
static void list_activations(HybridActivations *x, const Hybrid *m) {
    const VitConfig *cfg = &m->cfg;
    int B = m->B, C = cfg->hidden_dim, T = vit_tokens(cfg), K = cfg->num_classes;
    x->encoder.layers = xcalloc(cfg->num_layers, sizeof(BlockActivations));
    x->dencoder.layers = xcalloc(cfg->num_layers, sizeof(BlockActivations));
    tensors_init(&x->acts);
    tensors_init(&x->dacts);
    resnet_acts_add(&x->acts, &x->stem, &m->stem, B);
    encoder_acts_add(&x->acts, &x->encoder, cfg, B);
    head_acts_add(&x->acts, &x->head, &m->head, B, C, K);
    tensors_add(&x->acts, &x->probs, 2, (int[]){B, K}, "probs");
    tensors_add(&x->acts, &x->dropout_mask, 1, (int[]){B * (T + 1) * C}, "dropout_mask");
    resnet_acts_add(&x->dacts, &x->dstem, &m->stem, B);
    encoder_acts_add(&x->dacts, &x->dencoder, cfg, B);
    head_acts_add(&x->dacts, &x->dhead, &m->head, B, C, K);
}

static void free_activations(HybridActivations *x) {
    tensors_free(&x->acts);
    tensors_free(&x->dacts);
    free(x->encoder.layers);
    free(x->dencoder.layers);
}

// Slice s: its views, its scratch, and its own parameter gradients unless it is slice 0.
static void slice_build(HybridSlice *v, const Hybrid *m, int s) {
    list_activations(&v->x, m);
    v->scratch = xmalloc(sizeof(float) * resnet_scratch_floats(&m->stem));
    tensors_init(&v->grads);
    if (s == 0) { // adds straight into the model's gradients
        v->dw = m->dw;
        return;
    }
    list_params(&v->grads, &v->dw, m);
    tensors_alloc(&v->grads);
}

void hybrid_build(Hybrid *m, const ResNetConfig *stem, const VitConfig *encoder,
                  const HeadOptions *head, float dropout, int B) {
    assert(hybrid_config_check(stem, encoder, NULL) && encoder->num_classes > 0 && B > 0);
    assert(dropout >= 0.0f && dropout < 1.0f);
    *m = (Hybrid){.stem = *stem, .cfg = *encoder, .head = *head, .dropout = dropout, .B = B};
    // parameters and their gradients: one list, twice, so the layouts match
    list_params(&m->params, &m->w, m);
    list_params(&m->grads, &m->dw, m);
    list_activations(&m->x, m);
    Tensors *lists[] = {&m->params, &m->grads, &m->x.acts, &m->x.dacts};
    for (int i = 0; i < 4; i++) tensors_alloc(lists[i]);
    // one slice of every batch per thread
    m->slices = omp_get_max_threads();
    m->slice = xcalloc(m->slices, sizeof(HybridSlice));
    m->slice_grads = xcalloc(m->slices, sizeof(float *));
    for (int s = 0; s < m->slices; s++) {
        slice_build(&m->slice[s], m, s);
        m->slice_grads[s] = m->slice[s].grads.memory;
    }
    m->model = (Model){.kind = &hybrid_kind,
                       .image_size = stem->image_size,
                       .in_channels = stem->in_channels,
                       .num_classes = encoder->num_classes,
                       .B = B,
                       .params = &m->params,
                       .grads = &m->grads,
                       .logits = m->x.head.logits,
                       .dropout_rng = &m->dropout_rng};
}

void hybrid_free(Hybrid *m) {
    for (int s = 0; s < m->slices; s++) {
        HybridSlice *v = &m->slice[s];
        free_activations(&v->x);
        free(v->scratch);
        if (s > 0) free(v->dw.encoder.layers);
        tensors_free(&v->grads);
    }
    free(m->slice);
    free(m->slice_grads);
    free_activations(&m->x);
    tensors_free(&m->params);
    tensors_free(&m->grads);
    free(m->w.encoder.layers);
    free(m->dw.encoder.layers);
    *m = (Hybrid){0};
}

void hybrid_init(Hybrid *m, Rng *rng) {
    resnet_init(&m->w.stem, &m->stem, rng);
    encoder_weights_init(&m->w.encoder, &m->cfg, rng);
    head_init(&m->w.head, &m->head, m->cfg.hidden_dim, m->cfg.num_classes, rng);
    uint64_t seed = (uint64_t)rng_u32(rng) << 32 | rng_u32(rng);
    rng_seed(&m->dropout_rng, seed);
}

// ---- forward and backward ---------------------------------------------------------

// Slice s of n of a batch of B images: its views aimed at its images; *b0 its
// first image; returns how many it has.
static int aim_slice(HybridSlice *v, const Hybrid *m, int s, int n, int B, int *b0) {
    int count = slices_share(s, n, B, b0);
    slices_aim(&v->x.acts, &m->x.acts, *b0, m->B);
    slices_aim(&v->x.dacts, &m->x.dacts, *b0, m->B);
    return count;
}

// region: hybrid-slice-forward
// One slice, images (B,Cin,S,S): the stem's map (B,Cmap,side,side) becomes the
// encoder's input, each position a 1x1 patch; dropout on the tokens when
// tokens_mask (B,T,C) is set; then the head: logits (B,K).
static void slice_forward(const Hybrid *m, HybridSlice *v, const float *images, int B,
                          const float *tokens_mask) {
    const VitConfig *cfg = &m->cfg;
    int C = cfg->hidden_dim, T = vit_tokens(cfg), K = cfg->num_classes;
    resnet_forward(&v->x.stem, &m->w.stem, &m->stem, B, images, v->scratch);
    const float *map = resnet_out(&v->x.stem, &m->stem); // (B,Cmap,side,side)
    encoder_embed(&v->x.encoder, &m->w.encoder, cfg, B, map);
    if (tokens_mask != NULL) dropout_apply(v->x.encoder.tokens, tokens_mask, (size_t)B * T * C);
    encoder_blocks(&v->x.encoder, &m->w.encoder, cfg, B);
    head_forward(&v->x.head, v->x.encoder.out, &m->w.head, &m->head, B, T, C, K);
}
// endregion: hybrid-slice-forward

// Thread s of n, on its slice of a batch of B images: its forward pass, through its
// part of the dropout masks when drop.
static void thread_forward(Hybrid *m, int s, int n, const float *images, int B, bool drop) {
    int C = m->cfg.hidden_dim, T = vit_tokens(&m->cfg);
    size_t pixels = (size_t)m->stem.in_channels * m->stem.image_size * m->stem.image_size;
    float *tokens_mask = m->x.dropout_mask, *head_mask = m->x.dropout_mask + (size_t)m->B * T * C;
    HybridSlice *v = &m->slice[s];
    int b0, Bs = aim_slice(v, m, s, n, B, &b0);
    v->x.head.mask = drop ? head_mask + (size_t)b0 * C : NULL;
    slice_forward(m, v, images + (size_t)b0 * pixels, Bs,
                  drop ? tokens_mask + (size_t)b0 * T * C : NULL);
}

float hybrid_forward(Hybrid *m, const float *images, const int *labels, int B, float smoothing,
                     bool training) {
    // images (B,Cin,S,S), labels (B) or NULL; the logits land in m->x.head.logits (B,K)
    assert(B > 0 && B <= m->B);
    int C = m->cfg.hidden_dim, T = vit_tokens(&m->cfg), K = m->cfg.num_classes;
    // 1. dropout masks, drawn afresh for every batch: tokens (B,T,C), then the head's (B,C)
    bool drop = training && m->dropout > 0.0f;
    float *tokens_mask = m->x.dropout_mask, *head_mask = m->x.dropout_mask + (size_t)m->B * T * C;
    if (drop) {
        dropout_draw(tokens_mask, (size_t)B * T * C, m->dropout, &m->dropout_rng);
        dropout_draw(head_mask, (size_t)B * C, m->dropout, &m->dropout_rng);
    }
    m->x.head.mask = drop ? head_mask : NULL; // also tells hybrid_backward that dropout was on
    // 2. the stem, the encoder, the head: each thread on its slice of the images, a
    //    single slice outside any parallel region (parallel.h)
    int n = slices_count(m->slices, B);
    if (n == 1) {
        thread_forward(m, 0, 1, images, B, drop);
    } else {
#pragma omp parallel num_threads(n)
        thread_forward(m, omp_get_thread_num(), omp_get_num_threads(), images, B, drop);
    }
    // 3. the loss, when there are labels
    if (labels == NULL) return 0.0f;
    return cross_entropy_forward(m->x.probs, m->x.head.logits, labels, B, K, smoothing);
}

// region: hybrid-slice-backward
// Slice v, images b0 .. b0+B-1: from d(logits) in its view of the model's,
// back through the head, the blocks, the tokens' dropout, the 1x1 patch
// embedding (to the gradient of the stem's map) and the stem, into its
// parameter gradients (zeroed first; slice 0's are the model's).
static void slice_backward(Hybrid *m, HybridSlice *v, int b0, int B) {
    const VitConfig *cfg = &m->cfg;
    int C = cfg->hidden_dim, T = vit_tokens(cfg), K = cfg->num_classes;
    HybridActivations *x = &v->x;
    Tensors *grads = v->grads.memory != NULL ? &v->grads : &m->grads;
    memset(grads->memory, 0, grads->total * sizeof(float));
    bool drop = m->x.head.mask != NULL; // the forward pass had dropout
    x->head.mask = drop ? m->x.head.mask + (size_t)b0 * C : NULL;
    memset(x->dencoder.out, 0, (size_t)B * T * C * sizeof(float));
    head_backward(x->dencoder.out, &v->dw.head, &x->dhead, x->dhead.logits, &x->head, &m->w.head,
                  &m->head, B, T, C, K);
    encoder_blocks_backward(&v->dw.encoder, &x->dencoder, x->dencoder.out, &x->encoder,
                            &m->w.encoder, cfg, B);
    if (drop)
        dropout_apply(x->dencoder.tokens, m->x.dropout_mask + (size_t)b0 * T * C,
                      (size_t)B * T * C);
    float *dmap = resnet_out(&x->dstem, &m->stem); // (B,Cmap,side,side)
    memset(dmap, 0, sizeof(float) * B * cfg->in_channels * cfg->image_size * cfg->image_size);
    encoder_embed_backward(&v->dw.encoder, &x->dencoder, dmap, &x->encoder, &m->w.encoder, cfg, B);
    resnet_backward(&v->dw.stem, &x->dstem, NULL, dmap, &x->stem, &m->w.stem, &m->stem, B,
                    v->scratch);
}
// endregion: hybrid-slice-backward

// Thread s of n, on its slice of a batch of B images: its backward pass; then, when
// every slice is done, the slices' parameter gradients added into the model's.
static void thread_backward(Hybrid *m, int s, int n, int B) {
    HybridSlice *v = &m->slice[s];
    int b0, Bs = aim_slice(v, m, s, n, B, &b0);
    slice_backward(m, v, b0, Bs);
#pragma omp barrier
    slices_add_gradients(m->grads.memory, m->grads.total, m->slice_grads, n);
}

void hybrid_backward(Hybrid *m, const int *labels, int B, float smoothing) {
    assert(B > 0 && B <= m->B);
    // the loss: dlogits (B,K); then each thread on its slice, and the slices'
    // parameter gradients added into the model's in slice order
    cross_entropy_backward(m->x.dhead.logits, m->x.probs, labels, B, m->cfg.num_classes, smoothing);
    int n = slices_count(m->slices, B);
    if (n == 1) {
        thread_backward(m, 0, 1, B);
    } else {
#pragma omp parallel num_threads(n)
        thread_backward(m, omp_get_thread_num(), omp_get_num_threads(), B);
    }
}

// ---- the hybrid as a Model ---------------------------------------------------------

// The stem, the encoder and the head a checkpoint's metadata describes.
static bool read_config(const SafetensorsMeta *meta, const char *path, ResNetConfig *stem,
                        VitConfig *cfg, HeadOptions *head, Error *err) {
    *stem = (ResNetConfig){0};
    if (!config_from_meta(stem, "stem.", resnet_config_fields, resnet_config_field_count, meta,
                          path, err) ||
        !vit_read_config(meta, path, cfg, head, err))
        return false;
    Error why;
    if (!hybrid_config_check(stem, cfg, &why))
        return error_set(err, "%s: the metadata describes no hybrid: %s", path, why.message);
    return true;
}

static float kind_forward(Model *m, const float *images, const int *labels, int B, float smoothing,
                          bool training) {
    return hybrid_forward(hybrid_of(m), images, labels, B, smoothing, training);
}

static void kind_backward(Model *m, const int *labels, int B, float smoothing) {
    hybrid_backward(hybrid_of(m), labels, B, smoothing);
}

static void kind_describe(const Model *model, SafetensorsMeta *meta) {
    const Hybrid *m = (const Hybrid *)model;
    config_to_meta(meta, "stem.", &m->stem, resnet_config_fields, resnet_config_field_count);
    vit_describe(meta, &m->cfg, &m->head);
}

static bool kind_fits(const Model *model, const SafetensorsMeta *meta, const char *path,
                      Error *err) {
    const Hybrid *m = (const Hybrid *)model;
    ResNetConfig stem;
    VitConfig c;
    HeadOptions head;
    if (!read_config(meta, path, &stem, &c, &head, err)) return false;
    if (memcmp(&stem, &m->stem, sizeof stem) == 0 && memcmp(&c, &m->cfg, sizeof c) == 0 &&
        head.mean_pool == m->head.mean_pool && head.pre_logits == m->head.pre_logits)
        return true;
    return error_set(err,
                     "%s: holds a hybrid of a %dx%d map of %d channels, width %d, %d layers, "
                     "not the model asked for",
                     path, c.image_size, c.image_size, c.in_channels, c.hidden_dim, c.num_layers);
}

bool hybrid_sizes_check(const ResNetConfig *stem, const VitConfig *encoder, int B, Error *err) {
    Error why;
    if (!resnet_sizes_check(stem, B, &why)) return error_set(err, "the stem's %s", why.message);
    if (!vit_sizes_check(encoder, B, &why)) return error_set(err, "the encoder's %s", why.message);
    return true;
}

// Whether the file holds the parameters of the shape its metadata describes,
// and that shape fits in memory for batches of B: before anything is built.
static bool fits_file(const SafetensorsMeta *meta, const char *path, const ResNetConfig *stem,
                      const VitConfig *cfg, const HeadOptions *head, int B, Error *err) {
    long long params = resnet_param_count(stem) + vit_model_param_count(cfg, head);
    if (!checkpoint_fits_data(meta, path, "hybrid", params, err)) return false;
    Error why;
    if (!hybrid_sizes_check(stem, cfg, B, &why))
        return error_set(err, "%s: for batches of %d images, %s", path, B, why.message);
    return true;
}

static Model *kind_open(const SafetensorsMeta *meta, const char *path, int B, float dropout,
                        Error *err) {
    ResNetConfig stem;
    VitConfig cfg;
    HeadOptions head;
    if (!read_config(meta, path, &stem, &cfg, &head, err) ||
        !fits_file(meta, path, &stem, &cfg, &head, B, err))
        return NULL;
    Hybrid *m = xmalloc(sizeof *m);
    hybrid_build(m, &stem, &cfg, &head, dropout, B);
    return &m->model;
}

static void kind_close(Model *model) {
    Hybrid *m = hybrid_of(model);
    hybrid_free(m);
    free(m);
}

const ModelKind hybrid_kind = {.name = "hybrid",
                               .forward = kind_forward,
                               .backward = kind_backward,
                               .describe = kind_describe,
                               .fits = kind_fits,
                               .open = kind_open,
                               .close = kind_close};

Hybrid *hybrid_of(Model *m) {
    assert(m->kind == &hybrid_kind);
    return (Hybrid *)m;
}

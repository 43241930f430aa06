// mpp_vit.c — the ViT of masked patch prediction: building it (parameters,
// gradients, activations each in one allocation), the forward pass from
// images to the pretext loss, the backward pass to every parameter, the
// Model around it, and the pretext accuracy on a data set.
#include "mpp_vit.h"

#include <assert.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "embed.h"
#include "error.h"
#include "linear.h"
#include "loss.h"
#include "mpp.h"
#include "narrate.h"
#include "patch.h"
#include "slices.h"
#include "train.h"

// ---- building ---------------------------------------------------------------------

// The parameters (or their gradients): the encoder's, then the mask token and the head.
static void params_add(Tensors *t, EncoderWeights *w, float **mask_token, float **head_w,
                       float **head_b, const VitConfig *cfg) {
    int C = cfg->hidden_dim, K = cfg->num_classes;
    encoder_params_add(t, w, cfg);
    tensors_add(t, mask_token, 1, (int[]){C}, "mask_token");
    tensors_add(t, head_w, 2, (int[]){K, C}, "mpp_head.weight");
    tensors_add(t, head_b, 1, (int[]){K}, "mpp_head.bias");
}

// The activations of B images and their gradients, listed the same way for
// the model and for every slice's views (every one (B, ...)).
static void acts_add(Tensors *acts, Tensors *dacts, EncoderActivations *a, EncoderActivations *da,
                     float **corrupted, float **dcorrupted, const MppVit *m) {
    int L = m->cfg.num_layers, C = m->cfg.hidden_dim;
    a->layers = xcalloc(L, sizeof(BlockActivations));
    da->layers = xcalloc(L, sizeof(BlockActivations));
    tensors_init(acts);
    tensors_init(dacts);
    encoder_acts_add(acts, a, &m->cfg, m->B);
    tensors_add(acts, corrupted, 3, (int[]){m->B, m->N, C}, "corrupted");
    encoder_acts_add(dacts, da, &m->cfg, m->B);
    tensors_add(dacts, dcorrupted, 3, (int[]){m->B, m->N, C}, "corrupted");
}

static void slice_build(MppSlice *v, const MppVit *m, int s) {
    acts_add(&v->acts, &v->dacts, &v->a, &v->da, &v->corrupted, &v->dcorrupted, m);
    tensors_init(&v->grads);
    if (s == 0) { // adds straight into the model's gradients
        v->dw = m->dw;
        v->dmask_token = m->dmask_token;
        return;
    }
    v->dw.layers = xcalloc(m->cfg.num_layers, sizeof(BlockWeights));
    params_add(&v->grads, &v->dw, &v->dmask_token, &v->dhead_w, &v->dhead_b, &m->cfg);
    tensors_alloc(&v->grads);
}

void mpp_vit_build(MppVit *m, const VitConfig *cfg, float mean, float std, int B) {
    *m = (MppVit){.cfg = *cfg, .B = B, .image_mean = mean, .image_std = std};
    m->cfg.num_classes = mpp_classes(cfg->in_channels);
    assert(vit_config_check(&m->cfg, NULL) && B > 0 && std > 0.0f);
    int L = cfg->num_layers, C = cfg->hidden_dim, K = m->cfg.num_classes;
    int N = m->N = vit_tokens(cfg) - 1, R = B * N;
    m->w.layers = xcalloc(L, sizeof(BlockWeights));
    m->dw.layers = xcalloc(L, sizeof(BlockWeights));
    tensors_init(&m->params);
    tensors_init(&m->grads);
    params_add(&m->params, &m->w, &m->mask_token, &m->head_w, &m->head_b, &m->cfg);
    params_add(&m->grads, &m->dw, &m->dmask_token, &m->dhead_w, &m->dhead_b, &m->cfg);
    acts_add(&m->acts, &m->dacts, &m->a, &m->da, &m->corrupted, &m->dcorrupted, m);
    Tensors *h = &m->head_acts; // at most every patch is corrupted: R <= B*N rows
    tensors_init(h);
    tensors_add(h, &m->rows, 2, (int[]){R, C}, "rows");
    tensors_add(h, &m->drows, 2, (int[]){R, C}, "drows");
    tensors_add(h, &m->logits, 2, (int[]){R, K}, "logits");
    tensors_add(h, &m->dlogits, 2, (int[]){R, K}, "dlogits");
    tensors_add(h, &m->probs, 2, (int[]){R, K}, "probs");
    Tensors *lists[] = {&m->params, &m->grads, &m->acts, &m->dacts, h};
    for (int i = 0; i < 5; i++) tensors_alloc(lists[i]);
    m->fate = xcalloc(R, sizeof(uint8_t));
    m->source = xcalloc(R, sizeof(int));
    m->targets = xcalloc(R, sizeof(int));
    m->row_targets = xcalloc(R, sizeof(int));
    m->slices = omp_get_max_threads();
    m->slice = xcalloc(m->slices, sizeof(MppSlice));
    m->slice_grads = xcalloc(m->slices, sizeof(float *));
    for (int s = 0; s < m->slices; s++) {
        slice_build(&m->slice[s], m, s);
        m->slice_grads[s] = m->slice[s].grads.memory;
    }
    m->model = (Model){.kind = &mpp_vit_kind,
                       .image_size = cfg->image_size,
                       .in_channels = cfg->in_channels,
                       .num_classes = K,
                       .B = B,
                       .params = &m->params,
                       .grads = &m->grads,
                       .logits = m->logits, // (R,K): one row per corrupted patch
                       .dropout_rng = &m->rng};
}

void mpp_vit_free(MppVit *m) {
    for (int s = 0; s < m->slices; s++) {
        MppSlice *v = &m->slice[s];
        tensors_free(&v->acts);
        tensors_free(&v->dacts);
        free(v->a.layers);
        free(v->da.layers);
        if (s > 0) free(v->dw.layers);
        tensors_free(&v->grads);
    }
    free(m->slice);
    free(m->slice_grads);
    Tensors *lists[] = {&m->params, &m->grads, &m->acts, &m->dacts, &m->head_acts};
    for (int i = 0; i < 5; i++) tensors_free(lists[i]);
    free(m->w.layers);
    free(m->dw.layers);
    free(m->a.layers);
    free(m->da.layers);
    free(m->fate);
    free(m->source);
    free(m->targets);
    free(m->row_targets);
    *m = (MppVit){0};
}

void mpp_vit_init(MppVit *m, Rng *rng) {
    encoder_weights_init(&m->w, &m->cfg, rng);
    int C = m->cfg.hidden_dim, K = m->cfg.num_classes;
    posemb_init_learned(m->mask_token, 1, C, rng);
    memset(m->head_w, 0, sizeof(float) * K * C);
    memset(m->head_b, 0, sizeof(float) * K);
    uint64_t seed = (uint64_t)rng_u32(rng) << 32 | rng_u32(rng);
    rng_seed(&m->rng, seed);
}

// ---- forward --------------------------------------------------------------------

// region: mpp-embed
// The encoder on slice v's images (B of them, from image b0): patches and
// their embedding, the corruption, the class token and positions, the blocks.
static void slice_forward(const MppVit *m, MppSlice *v, const float *images, int b0, int B) {
    const VitConfig *cfg = &m->cfg;
    int S = cfg->image_size, P = cfg->patch_size, Cin = cfg->in_channels;
    int C = cfg->hidden_dim, N = m->N;
    size_t first = (size_t)b0 * N;
    patchify(v->a.patches, images, B, Cin, S, S, P);
    linear_forward(v->a.patch_emb, v->a.patches, m->w.conv_w, m->w.conv_b, B * N, Cin * P * P, C);
    mpp_corrupt_forward(v->corrupted, v->a.patch_emb, m->mask_token, m->fate + first,
                        m->source + first, B, N, C);
    tokens_forward(v->a.tokens, v->corrupted, m->w.class_token, m->w.pos, B, N, C);
    encoder_blocks(&v->a, &m->w, cfg, B);
}
// endregion: mpp-embed

// Thread s of n, on its slice of a batch of B images: its views aimed at them, and
// the encoder.
static void thread_forward(MppVit *m, int s, int n, const float *images, int B) {
    const VitConfig *cfg = &m->cfg;
    size_t pixels = (size_t)cfg->in_channels * cfg->image_size * cfg->image_size;
    MppSlice *v = &m->slice[s];
    int b0, Bs = slices_share(s, n, B, &b0);
    slices_aim(&v->acts, &m->acts, b0, m->B);
    slices_aim(&v->dacts, &m->dacts, b0, m->B);
    slice_forward(m, v, images + (size_t)b0 * pixels, b0, Bs);
}

// region: mpp-forward
float mpp_vit_forward(MppVit *m, const float *images, int B, Rng *rng) {
    // images (B,Cin,S,S); the loss over the R corrupted patches
    assert(B > 0 && B <= m->B);
    const VitConfig *cfg = &m->cfg;
    int C = cfg->hidden_dim, K = cfg->num_classes, N = m->N;
    // 1. the corruption (drawn for the whole batch at once: the same for any
    //    number of threads) and every patch's target
    if (rng != NULL) mpp_corruption_draw(m->fate, m->source, B, N, rng);
    mpp_targets(m->targets, images, B, cfg->in_channels, cfg->image_size, cfg->patch_size,
                m->image_mean, m->image_std);
    // 2. the encoder, each thread on its slice of the images, a single slice outside
    //    any parallel region (parallel.h)
    int n = slices_count(m->slices, B);
    if (n == 1) {
        thread_forward(m, 0, 1, images, B);
    } else {
#pragma omp parallel num_threads(n)
        thread_forward(m, omp_get_thread_num(), omp_get_num_threads(), images, B);
    }
    // 3. the head on the corrupted patches' tokens, and the cross-entropy over them
    m->R = mpp_gather_forward(m->rows, m->row_targets, m->a.out, m->targets, m->fate, B, N, C);
    linear_forward(m->logits, m->rows, m->head_w, m->head_b, m->R, C, K);
    return cross_entropy_forward(m->probs, m->logits, m->row_targets, m->R, K, 0.0f);
}
// endregion: mpp-forward

// ---- backward -------------------------------------------------------------------

// region: mpp-backward
// Slice v's encoder backward, from d(out) in its view of m->da.out to its
// parameter gradients: the blocks, the positions and class token, the
// corruption (the mask token, the embeddings it copied), the patch embedding.
static void slice_backward(const MppVit *m, MppSlice *v, int b0, int B) {
    const VitConfig *cfg = &m->cfg;
    int P = cfg->patch_size, D = cfg->in_channels * P * P, C = cfg->hidden_dim, N = m->N;
    size_t first = (size_t)b0 * N;
    encoder_blocks_backward(&v->dw, &v->da, v->da.out, &v->a, &m->w, cfg, B);
    // forward: tokens = [class_token; corrupted] + pos
    memset(v->dcorrupted, 0, sizeof(float) * B * N * C);
    tokens_backward(v->dcorrupted, v->dw.class_token, v->dw.pos, v->da.tokens, B, N, C);
    // forward: corrupted = the mask token, or patch_emb[source]
    memset(v->da.patch_emb, 0, sizeof(float) * B * N * C);
    mpp_corrupt_backward(v->da.patch_emb, v->dmask_token, v->dcorrupted, m->fate + first,
                         m->source + first, B, N, C);
    // forward: patch_emb = patches · conv_w^T + conv_b
    linear_backward(NULL, v->dw.conv_w, v->dw.conv_b, v->da.patch_emb, v->a.patches, m->w.conv_w,
                    B * N, D, C);
}

// Thread s of n, on its slice of a batch of B images: its backward pass; then, when
// every slice is done, the slices' parameter gradients added into the model's.
static void thread_backward(MppVit *m, int s, int n, int B) {
    MppSlice *v = &m->slice[s];
    int b0, Bs = slices_share(s, n, B, &b0);
    slices_aim(&v->acts, &m->acts, b0, m->B);
    slices_aim(&v->dacts, &m->dacts, b0, m->B);
    if (s > 0) memset(v->grads.memory, 0, v->grads.total * sizeof(float));
    slice_backward(m, v, b0, Bs);
#pragma omp barrier
    slices_add_gradients(m->grads.memory, m->grads.total, m->slice_grads, n);
}

void mpp_vit_backward(MppVit *m, int B) {
    assert(B > 0 && B <= m->B);
    int C = m->cfg.hidden_dim, K = m->cfg.num_classes, N = m->N, T = N + 1;
    memset(m->grads.memory, 0, m->grads.total * sizeof(float));
    // 3. the loss and the head: dlogits (R,K), drows (R,C), scattered into d(out) (B,T,C);
    //    the tokens of clean patches and the class token get exactly zero
    cross_entropy_backward(m->dlogits, m->probs, m->row_targets, m->R, K, 0.0f);
    memset(m->drows, 0, sizeof(float) * m->R * C);
    linear_backward(m->drows, m->dhead_w, m->dhead_b, m->dlogits, m->rows, m->head_w, m->R, C, K);
    memset(m->da.out, 0, sizeof(float) * B * T * C);
    mpp_gather_backward(m->da.out, m->drows, m->fate, B, N, C);
    // 2-1. the encoder, each thread on its slice; then the slices' gradients added in order
    int n = slices_count(m->slices, B);
    if (n == 1) {
        thread_backward(m, 0, 1, B);
    } else {
#pragma omp parallel num_threads(n)
        thread_backward(m, omp_get_thread_num(), omp_get_num_threads(), B);
    }
}
// endregion: mpp-backward

// ---- accuracy -------------------------------------------------------------------

int mpp_vit_correct(const MppVit *m, int B, double *per_image) {
    int K = m->cfg.num_classes, N = m->N, r = 0, correct = 0;
    for (int b = 0; b < B; b++) {
        int mine = 0, rows = 0;
        for (int n = 0; n < N; n++) {
            if (m->fate[(size_t)b * N + n] == MPP_CLEAN) continue;
            mine += narrate_argmax(m->logits + (size_t)r * K, K) == m->row_targets[r];
            r++, rows++;
        }
        correct += mine;
        if (per_image != NULL) per_image[b] = rows > 0 ? (double)mine / rows : 0.0;
    }
    return correct;
}

double mpp_vit_evaluate(MppVit *m, const FashionMnist *data, int count, uint64_t seed,
                        double *loss) {
    assert(count > 0 && count <= data->count);
    int maxB = m->B, pixels = data->rows * data->cols;
    float *images = xmalloc(sizeof(float) * maxB * pixels);
    int *labels = xmalloc(sizeof(int) * maxB), *indices = xmalloc(sizeof(int) * maxB);
    Rng rng;
    rng_seed(&rng, seed);
    long correct = 0, rows = 0;
    double loss_sum = 0.0;
    for (int first = 0; first < count; first += maxB) {
        int B = count - first < maxB ? count - first : maxB;
        for (int b = 0; b < B; b++) indices[b] = first + b;
        batch_load(images, labels, data, indices, B, m->image_mean, m->image_std);
        loss_sum += (double)mpp_vit_forward(m, images, B, &rng) * m->R;
        correct += mpp_vit_correct(m, B, NULL);
        rows += m->R;
    }
    free(images);
    free(labels);
    free(indices);
    if (loss != NULL) *loss = loss_sum / rows;
    return (double)correct / rows;
}

int mpp_vit_to_vit(Vit *v, const MppVit *m) {
    int copied = 0;
    for (int i = 0; i < v->params.count; i++) {
        const TensorEntry *e = &v->params.entries[i];
        const TensorEntry *from = tensors_find(&m->params, e->name);
        if (from == NULL) continue;
        assert(from->count == e->count);
        memcpy(*e->slot, *from->slot, sizeof(float) * e->count);
        copied++;
    }
    return copied;
}

// ---- the model for the trainer and checkpoints -------------------------------------

// region: mpp-kind
static float kind_forward(Model *m, const float *images, const int *labels, int B, float smoothing,
                          bool training) {
    (void)labels, (void)smoothing, (void)training; // self-supervised: no labels
    MppVit *v = mpp_vit_of(m);
    return mpp_vit_forward(v, images, B, &v->rng);
}

static void kind_backward(Model *m, const int *labels, int B, float smoothing) {
    (void)labels, (void)smoothing;
    mpp_vit_backward(mpp_vit_of(m), B);
}

// The batch's pretext accuracy times B: the trainer divides its sum over an
// epoch by the images, giving the share of corrupted patches predicted right.
static double kind_correct(Model *m, const int *labels, int B) {
    (void)labels;
    MppVit *v = mpp_vit_of(m);
    return v->R > 0 ? (double)mpp_vit_correct(v, B, NULL) / v->R * B : 0.0;
}

// endregion: mpp-kind

static void kind_describe(const Model *model, SafetensorsMeta *meta) {
    const MppVit *m = (const MppVit *)model;
    vit_describe(meta, &m->cfg, &(HeadOptions){0});
}

static bool kind_fits(const Model *model, const SafetensorsMeta *meta, const char *path,
                      Error *err) {
    const MppVit *m = (const MppVit *)model;
    VitConfig c;
    HeadOptions head;
    if (!vit_read_config(meta, path, &c, &head, err)) return false;
    if (memcmp(&c, &m->cfg, sizeof c) == 0) return true;
    return error_set(err,
                     "%s: holds a ViT of width %d, %d layers, %d heads, MLP %d, patch %d, "
                     "%d classes, not the model asked for",
                     path, c.hidden_dim, c.num_layers, c.num_heads, c.mlp_dim, c.patch_size,
                     c.num_classes);
}

static Model *kind_open(const SafetensorsMeta *meta, const char *path, int B, float dropout,
                        Error *err) {
    (void)dropout;
    VitConfig cfg;
    HeadOptions head;
    if (!vit_read_config(meta, path, &cfg, &head, err)) return NULL;
    if (cfg.num_classes != mpp_classes(cfg.in_channels)) {
        error_set(err, "%s: a masked-patch model has %d classes for %d channel(s), not %d", path,
                  mpp_classes(cfg.in_channels), cfg.in_channels, cfg.num_classes);
        return NULL;
    }
    if (!checkpoint_fits_data(meta, path, "masked-patch ViT",
                              vit_param_count(&cfg) + cfg.hidden_dim, err))
        return NULL;
    Error why;
    if (!vit_sizes_check(&cfg, B, &why)) {
        error_set(err, "%s: for batches of %d images, %s", path, B, why.message);
        return NULL;
    }
    // checkpoint_open has checked the normalisation the metadata holds
    const char *mean = safetensors_meta_get(meta, "image_mean");
    const char *std = safetensors_meta_get(meta, "image_std");
    MppVit *m = xmalloc(sizeof *m);
    mpp_vit_build(m, &cfg, mean ? strtof(mean, NULL) : 0.0f, std ? strtof(std, NULL) : 1.0f, B);
    return &m->model;
}

static void kind_close(Model *model) {
    MppVit *m = mpp_vit_of(model);
    mpp_vit_free(m);
    free(m);
}

const ModelKind mpp_vit_kind = {.name = "vit_mpp",
                                .forward = kind_forward,
                                .backward = kind_backward,
                                .correct = kind_correct,
                                .describe = kind_describe,
                                .fits = kind_fits,
                                .open = kind_open,
                                .close = kind_close};

MppVit *mpp_vit_of(Model *m) {
    assert(m->kind == &mpp_vit_kind);
    return (MppVit *)m; // the Model is the MppVit's first member
}

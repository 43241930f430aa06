// cnn.c — the CNN: the ResNet body, global average pooling and a linear head;
// its lists, its forward and backward passes, each thread on its slice of the
// batch; and the CNN as a Model, with its checkpoints' metadata.
#include "cnn.h"

#include <assert.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "dropout.h"
#include "global_avgpool.h"
#include "linear.h"
#include "loss.h"
#include "slices.h"

long long cnn_param_count(const ResNetConfig *body, int num_classes) {
    long long Cout = resnet_out_channels(body);
    return resnet_param_count(body) + num_classes * Cout + num_classes;
}

double cnn_forward_flops(const ResNetConfig *body, int num_classes) {
    return resnet_forward_flops(body) + 2.0 * resnet_out_channels(body) * num_classes;
}

// ---- building ---------------------------------------------------------------------

static void list_params(Tensors *t, CnnWeights *w, const Cnn *m) {
    int K = m->num_classes, Cout = resnet_out_channels(&m->body);
    tensors_init(t);
    resnet_params_add(t, &w->body, &m->body, "body");
    tensors_add(t, &w->head_w, 2, (int[]){K, Cout}, "head.weight");
    tensors_add(t, &w->head_b, 1, (int[]){K}, "head.bias");
}

static void list_activations(CnnActivations *x, const Cnn *m) {
    int B = m->B, K = m->num_classes, Cout = resnet_out_channels(&m->body);
    tensors_init(&x->acts);
    tensors_init(&x->dacts);
    resnet_acts_add(&x->acts, &x->body, &m->body, B);
    tensors_add(&x->acts, &x->pooled, 2, (int[]){B, Cout}, "pooled");
    tensors_add(&x->acts, &x->logits, 2, (int[]){B, K}, "logits");
    tensors_add(&x->acts, &x->probs, 2, (int[]){B, K}, "probs");
    tensors_add(&x->acts, &x->dropout_mask, 2, (int[]){B, Cout}, "dropout_mask");
    resnet_acts_add(&x->dacts, &x->dbody, &m->body, B);
    tensors_add(&x->dacts, &x->dpooled, 2, (int[]){B, Cout}, "pooled");
    tensors_add(&x->dacts, &x->dlogits, 2, (int[]){B, K}, "logits");
}

static void slice_build(CnnSlice *v, const Cnn *m, int s) {
    list_activations(&v->x, m);
    v->scratch = xmalloc(sizeof(float) * resnet_scratch_floats(&m->body));
    tensors_init(&v->grads);
    if (s == 0) { // adds straight into the model's gradients
        v->dw = m->dw;
        return;
    }
    list_params(&v->grads, &v->dw, m);
    tensors_alloc(&v->grads);
}

void cnn_build(Cnn *m, const ResNetConfig *body, int num_classes, float dropout, int B) {
    assert(resnet_config_check(body, NULL) && num_classes > 0 && B > 0);
    assert(dropout >= 0.0f && dropout < 1.0f);
    *m = (Cnn){.body = *body, .num_classes = num_classes, .dropout = dropout, .B = B};
    list_params(&m->params, &m->w, m);
    list_params(&m->grads, &m->dw, m);
    list_activations(&m->x, m);
    Tensors *lists[] = {&m->params, &m->grads, &m->x.acts, &m->x.dacts};
    for (int i = 0; i < 4; i++) tensors_alloc(lists[i]);
    m->slices = omp_get_max_threads();
    m->slice = xcalloc(m->slices, sizeof(CnnSlice));
    m->slice_grads = xcalloc(m->slices, sizeof(float *));
    for (int s = 0; s < m->slices; s++) {
        slice_build(&m->slice[s], m, s);
        m->slice_grads[s] = m->slice[s].grads.memory;
    }
    m->model = (Model){.kind = &cnn_kind,
                       .image_size = body->image_size,
                       .in_channels = body->in_channels,
                       .num_classes = num_classes,
                       .B = B,
                       .params = &m->params,
                       .grads = &m->grads,
                       .logits = m->x.logits,
                       .dropout_rng = &m->dropout_rng};
}

void cnn_free(Cnn *m) {
    for (int s = 0; s < m->slices; s++) {
        tensors_free(&m->slice[s].x.acts);
        tensors_free(&m->slice[s].x.dacts);
        free(m->slice[s].scratch);
        tensors_free(&m->slice[s].grads);
    }
    free(m->slice);
    free(m->slice_grads);
    Tensors *lists[] = {&m->params, &m->grads, &m->x.acts, &m->x.dacts};
    for (int i = 0; i < 4; i++) tensors_free(lists[i]);
    *m = (Cnn){0};
}

void cnn_init(Cnn *m, Rng *rng) {
    resnet_init(&m->w.body, &m->body, rng);
    int Cout = resnet_out_channels(&m->body);
    memset(m->w.head_w, 0, sizeof(float) * m->num_classes * Cout);
    memset(m->w.head_b, 0, sizeof(float) * m->num_classes);
    uint64_t seed = (uint64_t)rng_u32(rng) << 32 | rng_u32(rng);
    rng_seed(&m->dropout_rng, seed);
}

// ---- forward and backward ---------------------------------------------------------

static int aim_slice(CnnSlice *v, const Cnn *m, int s, int n, int B, int *b0) {
    int count = slices_share(s, n, B, b0);
    slices_aim(&v->x.acts, &m->x.acts, *b0, m->B);
    slices_aim(&v->x.dacts, &m->x.dacts, *b0, m->B);
    return count;
}

// region: cnn-slice-forward
// One slice, images (B,Cin,S,S): the body's map (B,Cout,side,side), each
// channel's mean (B,Cout), dropout on it when mask (B,Cout) is set, logits (B,K).
static void slice_forward(const Cnn *m, CnnSlice *v, const float *images, int B,
                          const float *mask) {
    int K = m->num_classes, Cout = resnet_out_channels(&m->body), side = resnet_out_side(&m->body);
    resnet_forward(&v->x.body, &m->w.body, &m->body, B, images, v->scratch);
    global_avgpool_forward(v->x.pooled, resnet_out(&v->x.body, &m->body), B, Cout, side, side);
    if (mask != NULL) dropout_apply(v->x.pooled, mask, (size_t)B * Cout);
    linear_forward(v->x.logits, v->x.pooled, m->w.head_w, m->w.head_b, B, Cout, K);
}
// endregion: cnn-slice-forward

// Thread s of n, on its slice of a batch of B images: its forward pass, through its
// part of the dropout mask when drop.
static void thread_forward(Cnn *m, int s, int n, const float *images, int B, bool drop) {
    int Cout = resnet_out_channels(&m->body);
    size_t pixels = (size_t)m->body.in_channels * m->body.image_size * m->body.image_size;
    CnnSlice *v = &m->slice[s];
    int b0, Bs = aim_slice(v, m, s, n, B, &b0);
    slice_forward(m, v, images + (size_t)b0 * pixels, Bs,
                  drop ? m->x.dropout_mask + (size_t)b0 * Cout : NULL);
}

float cnn_forward(Cnn *m, const float *images, const int *labels, int B, float smoothing,
                  bool training) {
    // images (B,Cin,S,S), labels (B) or NULL; the logits land in m->x.logits (B,K)
    assert(B > 0 && B <= m->B);
    int Cout = resnet_out_channels(&m->body);
    bool drop = training && m->dropout > 0.0f;
    if (drop) dropout_draw(m->x.dropout_mask, (size_t)B * Cout, m->dropout, &m->dropout_rng);
    int n = slices_count(m->slices, B); // a single slice outside any parallel region (parallel.h)
    if (n == 1) {
        thread_forward(m, 0, 1, images, B, drop);
    } else {
#pragma omp parallel num_threads(n)
        thread_forward(m, omp_get_thread_num(), omp_get_num_threads(), images, B, drop);
    }
    m->dropped = drop; // the backward pass applies the same mask
    if (labels == NULL) return 0.0f;
    return cross_entropy_forward(m->x.probs, m->x.logits, labels, B, m->num_classes, smoothing);
}

// region: cnn-slice-backward
// Slice v, images b0 .. b0+B-1: from d(logits) in its view of the model's,
// back through the head, the dropout, the pooling and the body, into its
// parameter gradients (zeroed first; slice 0's are the model's).
static void slice_backward(Cnn *m, CnnSlice *v, int b0, int B) {
    int K = m->num_classes, Cout = resnet_out_channels(&m->body), side = resnet_out_side(&m->body);
    CnnActivations *x = &v->x;
    Tensors *grads = v->grads.memory != NULL ? &v->grads : &m->grads;
    memset(grads->memory, 0, grads->total * sizeof(float));
    memset(x->dpooled, 0, sizeof(float) * B * Cout);
    linear_backward(x->dpooled, v->dw.head_w, v->dw.head_b, x->dlogits, x->pooled, m->w.head_w, B,
                    Cout, K);
    if (m->dropped)
        dropout_apply(x->dpooled, m->x.dropout_mask + (size_t)b0 * Cout, (size_t)B * Cout);
    float *dmap = resnet_out(&x->dbody, &m->body); // (B,Cout,side,side)
    memset(dmap, 0, sizeof(float) * B * Cout * side * side);
    global_avgpool_backward(dmap, x->dpooled, B, Cout, side, side);
    resnet_backward(&v->dw.body, &x->dbody, NULL, dmap, &x->body, &m->w.body, &m->body, B,
                    v->scratch);
}
// endregion: cnn-slice-backward

// Thread s of n, on its slice of a batch of B images: its backward pass; then, when
// every slice is done, the slices' parameter gradients added into the model's.
static void thread_backward(Cnn *m, int s, int n, int B) {
    CnnSlice *v = &m->slice[s];
    int b0, Bs = aim_slice(v, m, s, n, B, &b0);
    slice_backward(m, v, b0, Bs);
#pragma omp barrier
    slices_add_gradients(m->grads.memory, m->grads.total, m->slice_grads, n);
}

void cnn_backward(Cnn *m, const int *labels, int B, float smoothing) {
    assert(B > 0 && B <= m->B);
    cross_entropy_backward(m->x.dlogits, m->x.probs, labels, B, m->num_classes, smoothing);
    int n = slices_count(m->slices, B);
    if (n == 1) {
        thread_backward(m, 0, 1, B);
    } else {
#pragma omp parallel num_threads(n)
        thread_backward(m, omp_get_thread_num(), omp_get_num_threads(), B);
    }
}

// ---- the CNN as a Model ------------------------------------------------------------

static bool read_config(const SafetensorsMeta *meta, const char *path, ResNetConfig *body,
                        int *num_classes, Error *err) {
    *body = (ResNetConfig){0};
    long long K;
    if (!config_from_meta(body, "body.", resnet_config_fields, resnet_config_field_count, meta,
                          path, err) ||
        !meta_long(meta, "num_classes", 1, 100000, &K, path, err))
        return false;
    Error why;
    if (!resnet_config_check(body, &why))
        return error_set(err, "%s: the metadata describes no CNN: %s", path, why.message);
    *num_classes = (int)K;
    return true;
}

static float kind_forward(Model *m, const float *images, const int *labels, int B, float smoothing,
                          bool training) {
    return cnn_forward(cnn_of(m), images, labels, B, smoothing, training);
}

static void kind_backward(Model *m, const int *labels, int B, float smoothing) {
    cnn_backward(cnn_of(m), labels, B, smoothing);
}

static void kind_describe(const Model *model, SafetensorsMeta *meta) {
    const Cnn *m = (const Cnn *)model;
    config_to_meta(meta, "body.", &m->body, resnet_config_fields, resnet_config_field_count);
    char text[16];
    snprintf(text, sizeof text, "%d", m->num_classes);
    safetensors_meta_set(meta, "num_classes", text);
}

static bool kind_fits(const Model *model, const SafetensorsMeta *meta, const char *path,
                      Error *err) {
    const Cnn *m = (const Cnn *)model;
    ResNetConfig body;
    int K;
    if (!read_config(meta, path, &body, &K, err)) return false;
    if (memcmp(&body, &m->body, sizeof body) == 0 && K == m->num_classes) return true;
    return error_set(err, "%s: holds a CNN of %d stages, %d classes, not the model asked for", path,
                     body.num_stages, K);
}

bool cnn_sizes_check(const ResNetConfig *body, int num_classes, int B, Error *err) {
    if (!resnet_sizes_check(body, B, err)) return false;
    long long Cout = resnet_out_channels(body);
    if ((long long)num_classes * Cout <= VIT_MAX_ELEMENTS) return true;
    return error_set(
        err, "head.weight (K,Cout) would hold %lld elements, more than the %lld an int indexes",
        (long long)num_classes * Cout, VIT_MAX_ELEMENTS);
}

// Whether the file holds the parameters of the shape its metadata describes,
// and that shape fits in memory for batches of B: before anything is built.
static bool fits_file(const SafetensorsMeta *meta, const char *path, const ResNetConfig *body,
                      int K, int B, Error *err) {
    if (!checkpoint_fits_data(meta, path, "CNN", cnn_param_count(body, K), err)) return false;
    Error why;
    if (!cnn_sizes_check(body, K, B, &why))
        return error_set(err, "%s: for batches of %d images, %s", path, B, why.message);
    return true;
}

static Model *kind_open(const SafetensorsMeta *meta, const char *path, int B, float dropout,
                        Error *err) {
    ResNetConfig body;
    int K;
    if (!read_config(meta, path, &body, &K, err) || !fits_file(meta, path, &body, K, B, err))
        return NULL;
    Cnn *m = xmalloc(sizeof *m);
    cnn_build(m, &body, K, dropout, B);
    return &m->model;
}

static void kind_close(Model *model) {
    Cnn *m = cnn_of(model);
    cnn_free(m);
    free(m);
}

const ModelKind cnn_kind = {.name = "cnn",
                            .forward = kind_forward,
                            .backward = kind_backward,
                            .describe = kind_describe,
                            .fits = kind_fits,
                            .open = kind_open,
                            .close = kind_close};

Cnn *cnn_of(Model *m) {
    assert(m->kind == &cnn_kind);
    return (Cnn *)m;
}

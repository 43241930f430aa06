// pretrained.c — a converted checkpoint opened for inference: its metadata
// read and checked before anything is built, the weights read straight into
// the parameters; or the same model on random weights.
#include "pretrained.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "checkpoint.h"
#include "rng.h"

// ImageNet's per-channel mean and standard deviation, as torchvision's preset.
static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};

// torchvision's preset for 224: resize to 256; other sizes in proportion.
static int default_resize(int crop) {
    return (int)lround(crop * 256.0 / 224.0);
}

// "class 0", "class 1", ... into p->names and p->classes (K).
static void numbered_classes(Pretrained *p, int K) {
    p->names = xmalloc((size_t)K * 16); // "class 99999" and its NUL fit
    p->classes = xmalloc(sizeof(char *) * (size_t)K);
    for (int k = 0; k < K; k++) {
        snprintf(p->names + (size_t)k * 16, 16, "class %d", k % 100000);
        p->classes[k] = p->names + (size_t)k * 16;
    }
}

// The K names of text (one per line; taken over by p), or numbered names when
// text is NULL.
static bool split_classes(Pretrained *p, char *text, int K, const char *path, Error *err) {
    if (text == NULL) {
        numbered_classes(p, K);
        return true;
    }
    int lines = 1;
    for (const char *c = text; *c; c++) lines += *c == '\n';
    if (lines != K) {
        free(text);
        return error_set(err, "%s: metadata \"class_names\" holds %d names, the head %d classes",
                         path, lines, K);
    }
    p->names = text;
    p->classes = xmalloc(sizeof(char *) * (size_t)K);
    char *at = text;
    for (int k = 0; k < K; k++) {
        p->classes[k] = at;
        at += strcspn(at, "\n");
        *at++ = '\0'; // the last name's '\0' is the text's own
    }
    return true;
}

// The preprocessing sizes of meta: crop_size must be the model's image size.
static bool read_sizes(Pretrained *p, const SafetensorsMeta *meta, const char *path, int S,
                       Error *err) {
    long long resize = default_resize(S), crop = S;
    if (safetensors_meta_get(meta, "crop_size") != NULL &&
        !meta_long(meta, "crop_size", S, S, &crop, path, err))
        return false;
    if (safetensors_meta_get(meta, "resize_size") != NULL &&
        !meta_long(meta, "resize_size", S, 16 * S, &resize, path, err))
        return false;
    p->resize = (int)resize, p->crop = (int)crop;
    return true;
}

// Every parameter of p is finite.
static bool weights_finite(const Pretrained *p, const char *path, Error *err) {
    const Tensors *t = &p->vit.params;
    for (int i = 0; i < t->count; i++) {
        const TensorEntry *e = &t->entries[i];
        const float *x = t->memory + e->offset; // (e->count)
        for (size_t k = 0; k < e->count; k++)
            if (!isfinite(x[k]))
                return error_set(err, "%s: tensor %s: element %zu is %g; weights must be finite",
                                 path, e->name, k, x[k]);
    }
    return true;
}

// region: pretrained-open
// The metadata, all of it checked; then the model built and its weights read.
static bool open_from(Pretrained *p, Input *in, int B, Error *err) {
    const char *path = in->name;
    SafetensorsMeta meta;
    VitConfig cfg;
    HeadOptions head;
    GeluForm gelu;
    Error why;
    if (!safetensors_read_meta_from(in, &meta, err) ||
        !vit_read_config(&meta, path, &cfg, &head, err) ||
        !vit_read_gelu(&meta, path, &gelu, err) || !vit_fits_data(&meta, path, &cfg, &head, err))
        return false;
    if (!vit_sizes_check(&cfg, B, &why))
        return error_set(err, "%s: for batches of %d images, %s", path, B, why.message);
    p->mean = xmalloc(sizeof(float) * (size_t)cfg.in_channels);
    p->std = xmalloc(sizeof(float) * (size_t)cfg.in_channels);
    char *names;
    if (!checkpoint_channel_normalization(&meta, path, cfg.in_channels, p->mean, p->std, err) ||
        !read_sizes(p, &meta, path, cfg.image_size, err) ||
        !safetensors_read_meta_text(in, "class_names", &names, err) ||
        !split_classes(p, names, cfg.num_classes, path, err))
        return false;
    vit_build_inference(&p->vit, &cfg, &head, B);
    p->vit.logits_only = true;
    vit_set_gelu(&p->vit, gelu);
    return safetensors_read_from(in, &p->vit.params, err) && weights_finite(p, path, err);
}

bool pretrained_open(Pretrained *p, const char *path, int B, Error *err) {
    *p = (Pretrained){0};
    Input in;
    if (!input_open_file(&in, path, err)) return false;
    bool ok = open_from(p, &in, B, err);
    input_close(&in);
    if (!ok) pretrained_close(p);
    return ok;
}
// endregion: pretrained-open

void pretrained_random(Pretrained *p, const VitConfig *cfg, int B, uint64_t seed) {
    assert(vit_config_check(cfg, NULL) && vit_sizes_check(cfg, B, NULL));
    *p = (Pretrained){0};
    int Cin = cfg->in_channels, C = cfg->hidden_dim, K = cfg->num_classes;
    vit_build_inference(&p->vit, cfg, &(HeadOptions){0}, B);
    p->vit.logits_only = true;
    Rng rng;
    rng_seed(&rng, seed);
    vit_init(&p->vit, &rng);
    // a zero head gives every class the same score: a random one, LeCun normal
    rng_fill_normal(&rng, p->vit.hw.w, K * C, 0.0f, 1.0f / sqrtf((float)C));
    p->mean = xmalloc(sizeof(float) * (size_t)Cin);
    p->std = xmalloc(sizeof(float) * (size_t)Cin);
    for (int c = 0; c < Cin; c++)
        p->mean[c] = imagenet_mean[c % 3], p->std[c] = imagenet_std[c % 3];
    p->crop = cfg->image_size, p->resize = default_resize(cfg->image_size);
    numbered_classes(p, K);
}

void pretrained_close(Pretrained *p) {
    if (p->vit.params.entries != NULL) vit_free(&p->vit);
    free(p->mean);
    free(p->std);
    free(p->names);
    free(p->classes);
    *p = (Pretrained){0};
}

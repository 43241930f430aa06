// adamw.c — AdamW over one flat parameter buffer, the decay mask decided from
// the tensors' names, gradient clipping by global norm, and the learning-rate
// schedule (linear warmup, then cosine decay to zero).
#include "adamw.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "error.h"

static const double PI = 3.14159265358979323846;

// region: decay-mask
// Whether a parameter is a weight matrix (Linear or Conv2d): its name ends in
// "weight" ("conv_proj.weight", "...in_proj_weight", "heads.head.weight",
// "stem.root.conv.weight") and it is not a LayerNorm's or a GroupNorm's scale
// ("...ln_1.weight", "encoder.ln.weight", "...gn1.weight", "...proj.gn.weight").
// Biases, the class token and the position embeddings do not end in "weight".
static bool decays_by_name(const char *name) {
    size_t n = strlen(name);
    if (n < 6 || strcmp(name + n - 6, "weight") != 0) return false;
    const char *end = name + n - 6; // "ln_1.weight": the module is the part before ".weight"
    if (end > name && end[-1] == '.') end--;
    const char *module = end;
    while (module > name && module[-1] != '.') module--;
    bool norm = strncmp(module, "ln", 2) == 0 || strncmp(module, "gn", 2) == 0 ||
                strstr(module, "norm") != NULL;
    return !norm && module < end;
}
// endregion: decay-mask

void adamw_build(AdamW *opt, const Tensors *params, float weight_decay) {
    assert(params->memory != NULL && weight_decay >= 0.0f);
    size_t count = params->total;
    *opt = (AdamW){
        .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = weight_decay, .count = count};
    opt->m = xcalloc(2 * count, sizeof(float)); // m and v side by side: one allocation
    opt->v = opt->m + count;
    opt->decays = xcalloc(count, 1);
    for (int i = 0; i < params->count; i++) {
        const TensorEntry *e = &params->entries[i];
        memset(opt->decays + e->offset, decays_by_name(e->name), e->count);
    }
}

void adamw_free(AdamW *opt) {
    free(opt->m);
    free(opt->decays);
    *opt = (AdamW){0};
}

// region: adamw-step
void adamw_step(AdamW *opt, float *params, const float *grads, float lr) {
    opt->step++;
    // bias corrections: m and v start at 0, so early averages are too small
    double bc1 = 1.0 - pow(opt->beta1, (double)opt->step);
    double bc2 = 1.0 - pow(opt->beta2, (double)opt->step);
    float step_size = (float)(lr / bc1), sqrt_bc2 = (float)sqrt(bc2);
    float b1 = opt->beta1, b2 = opt->beta2, eps = opt->eps, decay = lr * opt->weight_decay;
    float *m = opt->m, *v = opt->v;
    const unsigned char *decays = opt->decays;
    long n = (long)opt->count;
#pragma omp parallel for schedule(static)
    for (long i = 0; i < n; i++) {
        float g = grads[i];
        if (decays[i]) params[i] -= decay * params[i]; // decoupled: not through m and v
        m[i] = b1 * m[i] + (1.0f - b1) * g;
        v[i] = b2 * v[i] + (1.0f - b2) * g * g;
        params[i] -= step_size * m[i] / (sqrtf(v[i]) / sqrt_bc2 + eps);
    }
}
// endregion: adamw-step

// region: clip
float clip_grad_norm(float *grads, size_t count, float max_norm) {
    double sum = 0.0; // in double, in one fixed order: the same norm on every run
    for (size_t i = 0; i < count; i++) sum += (double)grads[i] * grads[i];
    float norm = (float)sqrt(sum);
    if (max_norm > 0.0f && norm > max_norm) {
        float scale = max_norm / (norm + 1e-6f); // as torch.nn.utils.clip_grad_norm_
        for (size_t i = 0; i < count; i++) grads[i] *= scale;
    }
    return norm;
}
// endregion: clip

// region: schedule
float lr_schedule(long step, long warmup, long total, float peak) {
    assert(step >= 0 && warmup >= 0 && total > 0);
    if (step < warmup) return peak * (float)step / (float)warmup;
    if (step >= total) return 0.0f;
    double progress = (double)(step - warmup) / (double)(total - warmup); // 0 .. 1
    return (float)(peak * 0.5 * (1.0 + cos(PI * progress)));
}
// endregion: schedule

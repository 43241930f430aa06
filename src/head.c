// head.c — the classification head: pooling the encoder's tokens (the class
// token, or the mean of the patch tokens), the optional tanh pre-logits layer,
// optional dropout, and the linear classifier; forward and backward.
#include "head.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "linear.h"

// region: head-params
// torchvision's names: heads.pre_logits (when representation_size is set), heads.head.
void head_params_add(Tensors *t, HeadWeights *w, const HeadOptions *opt, int C, int K) {
    *w = (HeadWeights){0};
    if (opt->pre_logits) {
        tensors_add(t, &w->pre_w, 2, (int[]){C, C}, "heads.pre_logits.weight");
        tensors_add(t, &w->pre_b, 1, (int[]){C}, "heads.pre_logits.bias");
    }
    tensors_add(t, &w->w, 2, (int[]){K, C}, "heads.head.weight");
    tensors_add(t, &w->b, 1, (int[]){K}, "heads.head.bias");
}
// endregion: head-params

void head_init(HeadWeights *w, const HeadOptions *opt, int C, int K, Rng *rng) {
    memset(w->w, 0, sizeof(float) * K * C);
    memset(w->b, 0, sizeof(float) * K);
    if (!opt->pre_logits) return;
    float std = sqrtf(1.0f / (float)C);
    rng_fill_trunc_normal(rng, w->pre_w, C * C, std, -2.0f * std, 2.0f * std);
    memset(w->pre_b, 0, sizeof(float) * C);
}

void head_acts_add(Tensors *t, HeadActivations *a, const HeadOptions *opt, int B, int C, int K) {
    *a = (HeadActivations){0};
    tensors_add(t, &a->pooled, 2, (int[]){B, C}, "head.pooled");
    if (opt->pre_logits) tensors_add(t, &a->pre, 2, (int[]){B, C}, "head.pre");
    tensors_add(t, &a->hidden, 2, (int[]){B, C}, "head.hidden");
    tensors_add(t, &a->logits, 2, (int[]){B, K}, "head.logits");
}

// region: head-forward
void head_forward(HeadActivations *a, const float *encoded, const HeadWeights *w,
                  const HeadOptions *opt, int B, int T, int C, int K) {
    // encoded (B,T,C); a->logits (B,K)
    assert(T >= 2 && K > 0);
    size_t n = (size_t)B * C;
    // 1. pooled (B,C): the class token, or the mean of the patch tokens 1..T-1
    for (int b = 0; b < B; b++) {
        const float *tokens = encoded + (size_t)b * T * C; // (T,C)
        float *p = a->pooled + (size_t)b * C;              // (C)
        if (!opt->mean_pool) {
            memcpy(p, tokens, sizeof(float) * C);
            continue;
        }
        memset(p, 0, sizeof(float) * C);
        for (int t = 1; t < T; t++)
            for (int c = 0; c < C; c++) p[c] += tokens[(size_t)t * C + c];
        for (int c = 0; c < C; c++) p[c] /= (float)(T - 1);
    }
    // 2. hidden (B,C) = tanh(pooled · pre_w^T + pre_b), or pooled itself
    if (opt->pre_logits) {
        linear_forward(a->pre, a->pooled, w->pre_w, w->pre_b, B, C, C);
        for (size_t i = 0; i < n; i++) a->hidden[i] = tanhf(a->pre[i]);
    } else {
        memcpy(a->hidden, a->pooled, sizeof(float) * n);
    }
    // 3. dropout (training), then the classifier: logits (B,K)
    if (a->mask != NULL)
        for (size_t i = 0; i < n; i++) a->hidden[i] *= a->mask[i];
    linear_forward(a->logits, a->hidden, w->w, w->b, B, C, K);
}
// endregion: head-forward

// region: head-backward
void head_backward(float *dencoded, HeadWeights *grads, HeadActivations *da, const float *dlogits,
                   const HeadActivations *a, const HeadWeights *w, const HeadOptions *opt, int B,
                   int T, int C, int K) {
    // dencoded (B,T,C) += or NULL; grads += (NULL: none wanted); da scratch, but da->logits
    // is not touched (it may hold dlogits); dlogits (B,K)
    HeadWeights none = {0};
    HeadWeights *g = grads != NULL ? grads : &none;
    size_t n = (size_t)B * C;
    // 3. forward: logits = hidden · w^T + b, hidden multiplied by the dropout mask
    memset(da->hidden, 0, sizeof(float) * n);
    linear_backward(da->hidden, g->w, g->b, dlogits, a->hidden, w->w, B, C, K);
    if (a->mask != NULL)
        for (size_t i = 0; i < n; i++) da->hidden[i] *= a->mask[i];
    // 2. forward: hidden = tanh(pre), pre = pooled · pre_w^T + pre_b; tanh' = 1 - tanh^2
    //    (from pre: hidden may hold the dropped-out values)
    if (opt->pre_logits) {
        for (size_t i = 0; i < n; i++) {
            float h = tanhf(a->pre[i]);
            da->pre[i] = da->hidden[i] * (1.0f - h * h);
        }
        memset(da->pooled, 0, sizeof(float) * n);
        linear_backward(da->pooled, g->pre_w, g->pre_b, da->pre, a->pooled, w->pre_w, B, C, C);
    } else {
        memcpy(da->pooled, da->hidden, sizeof(float) * n);
    }
    // 1. forward: pooled = encoded[:,0], or the mean of encoded[:,1..T-1]
    if (dencoded == NULL) return;
    int first = opt->mean_pool ? 1 : 0, last = opt->mean_pool ? T - 1 : 0; // pooled tokens
    float share = 1.0f / (float)(last - first + 1);
    for (int b = 0; b < B; b++) {
        const float *dp = da->pooled + (size_t)b * C; // (C)
        for (int t = first; t <= last; t++) {
            float *d = dencoded + ((size_t)b * T + t) * C; // (C)
            for (int c = 0; c < C; c++) d[c] += share * dp[c];
        }
    }
}
// endregion: head-backward

// mha_backward.c — the backward pass of multi-head self-attention: the output
// projection, the heads' concatenation undone, every head's attention, the
// split into heads undone, and the input projection; for small heads the middle
// three at once, in place (heads_backward, the mirror of mha.c's heads_forward).
#include "mha.h"

#include <assert.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "attention.h"
#include "linear.h"
#include "matmul.h"
#include "parallel.h"
#include "vecmath.h"

// Moves head-sized pieces between rows (B,T,width), columns offset + h*hs ..,
// and heads (B,NH,T,hs): to_heads is the forward's split, !to_heads its merge.
static void move_heads(float *rows, float *heads, int B, int T, int NH, int hs, int width,
                       int offset, bool to_heads) {
#pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++) {
                float *r = rows + ((size_t)b * T + t) * width + offset + h * hs; // (hs)
                float *x = heads + (((size_t)b * NH + h) * T + t) * hs;          // (hs)
                memcpy(to_heads ? x : r, to_heads ? r : x, sizeof(float) * hs);
            }
}

// region: heads-backward
// The backward of mha.c's heads_forward: for heads that suit small_matmul, every
// head reads q, k, v in qkv and its d(out) in dconcat where they lie, and writes
// dq, dk, dv straight into dqkv (written, not added: each number belongs to one
// head). The same steps as attention_backward.
// Heads bh = lo .. hi-1 (head h of image b is bh = b*NH + h).
VEC_INLINE void heads_backward_part(float *dqkv, float *datt, const float *dconcat,
                                    const float *att, const float *qkv, size_t lo, size_t hi, int T,
                                    int C, int NH) {
    // dqkv (B,T,3C) written; datt (B,NH,T,T) scratch; dconcat (B,T,C); att (B,NH,T,T)
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    for (int bh = (int)lo; bh < (int)hi; bh++) {
        int b = bh / NH, h = bh % NH;
        size_t at = (size_t)b * T * 3 * C + h * hs;
        const float *q = qkv + at, *k = q + C, *v = q + 2 * C; // (T,hs), rows 3C apart
        float *dq = dqkv + at, *dk = dq + C, *dv = dq + 2 * C; // the same
        const float *g = dconcat + (size_t)b * T * C + h * hs; // d(out) (T,hs), rows C apart
        const float *a = att + (size_t)bh * T * T;             // (T,T)
        float *d = datt + (size_t)bh * T * T;                  // (T,T)
        float vt[SMALL_PACKED];                                // (hs, T rounded up to 8)
        // forward: out = att v
        small_pack_b(vt, v, 3 * C, T, hs, true, 1.0f);
        small_matmul(d, T, g, C, 1, vt, round_up8(T), T, T, hs, false); // datt = dout v^T
        small_matmul(dv, 3 * C, a, 1, T, g, C, T, hs, T, false);        // dv = att^T dout
        // forward: att = softmax(scores), scores = q k^T / sqrt(hs):
        // dscores = att ⊙ (datt − rowsum(datt ⊙ att)) / sqrt(hs)
        for (int i = 0; i < T; i++) {
            float *di = d + (size_t)i * T, dot = 0.0f; // (T)
            const float *ai = a + (size_t)i * T;       // (T)
#pragma omp simd reduction(+ : dot)
            for (int j = 0; j < T; j++) dot += di[j] * ai[j];
#pragma omp simd
            for (int j = 0; j < T; j++) di[j] = ai[j] * (di[j] - dot) * scale;
        }
        small_matmul(dq, 3 * C, d, T, 1, k, 3 * C, T, hs, T, false); // dq = dscores k
        small_matmul(dk, 3 * C, d, 1, T, q, 3 * C, T, hs, T, false); // dk = dscores^T q
    }
}

// All B*NH heads, shared out among the threads (parallel.h).
VEC_CLONES
static void heads_backward(float *dqkv, float *datt, const float *dconcat, const float *att,
                           const float *qkv, int B, int T, int C, int NH) {
    size_t n = (size_t)B * NH;
    if (!parallel_worth()) {
        heads_backward_part(dqkv, datt, dconcat, att, qkv, 0, n, T, C, NH);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        parallel_share(n, &lo, &hi);
        heads_backward_part(dqkv, datt, dconcat, att, qkv, lo, hi, T, C, NH);
    }
}
// endregion: heads-backward

// region: mha-backward
void mha_backward(float *dx, MhaGrads *grads, MhaActivations *dacts, const float *dout,
                  const MhaActivations *acts, const float *x, const MhaWeights *w, int B, int T,
                  int C, int NH) {
    // dx (B,T,C) += or NULL; grads += (NULL: none wanted); dacts scratch; dout, x (B,T,C)
    assert(C % NH == 0 && "the width must be divisible by the number of heads");
    int hs = C / NH, R = B * T;
    MhaGrads none = {0};
    MhaGrads *g = grads != NULL ? grads : &none;
    // 5. forward: out = concat · out_proj_weight^T + out_proj_bias
    matmul(dacts->concat, dout, w->out_proj_weight, R, C, C, 0); // dconcat = dout · W (written)
    linear_backward(NULL, g->out_proj_weight, g->out_proj_bias, dout, acts->concat,
                    w->out_proj_weight, R, C, C);
    if (small_head_fits(T, hs)) {
        // 4-2. small heads, as mha_forward ran them: dqkv straight from dconcat
        heads_backward(dacts->qkv, dacts->att, dacts->concat, acts->att, acts->qkv, B, T, C, NH);
    } else {
        // 4. forward: concat = merge(heads): dheads = split(dconcat)
        move_heads(dacts->concat, dacts->heads, B, T, NH, hs, C, 0, true);
        // 3. forward: heads = attention(q, k, v), every head on its own
        size_t n = (size_t)R * C; // = B*NH*T*hs
        memset(dacts->q, 0, n * sizeof(float));
        memset(dacts->k, 0, n * sizeof(float));
        memset(dacts->v, 0, n * sizeof(float));
        attention_backward(dacts->q, dacts->k, dacts->v, dacts->att, dacts->heads, acts->att,
                           acts->q, acts->k, acts->v, B * NH, T, hs);
        // 2. forward: q, k, v = split(qkv): dqkv = merge(dq, dk, dv)
        move_heads(dacts->qkv, dacts->q, B, T, NH, hs, 3 * C, 0, false);
        move_heads(dacts->qkv, dacts->k, B, T, NH, hs, 3 * C, C, false);
        move_heads(dacts->qkv, dacts->v, B, T, NH, hs, 3 * C, 2 * C, false);
    }
    // 1. forward: qkv = x · in_proj_weight^T + in_proj_bias
    linear_backward(dx, g->in_proj_weight, g->in_proj_bias, dacts->qkv, x, w->in_proj_weight, R, C,
                    3 * C);
}
// endregion: mha-backward

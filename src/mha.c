// mha.c — multi-head self-attention: one input projection to queries, keys and
// values for all heads at once, a split into NH heads of size hs = C/NH,
// single-head attention on every head, the heads concatenated back and an
// output projection; small heads skip the split and the concatenation and are
// computed where they lie (heads_forward). Layout and results as
// torch.nn.MultiheadAttention's.
#include "mha.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include "attention.h"
#include "linear.h"
#include "parallel.h"
#include "vecmath.h"

void mha_activations_add(Tensors *t, MhaActivations *acts, int B, int T, int C, int NH,
                         const char *prefix) {
    assert(C % NH == 0 && "the width must be divisible by the number of heads");
    int hs = C / NH;
    tensors_add(t, &acts->qkv, 3, (int[]){B, T, 3 * C}, "%s.qkv", prefix);
    tensors_add(t, &acts->q, 4, (int[]){B, NH, T, hs}, "%s.q", prefix);
    tensors_add(t, &acts->k, 4, (int[]){B, NH, T, hs}, "%s.k", prefix);
    tensors_add(t, &acts->v, 4, (int[]){B, NH, T, hs}, "%s.v", prefix);
    tensors_add(t, &acts->att, 4, (int[]){B, NH, T, T}, "%s.att", prefix);
    tensors_add(t, &acts->heads, 4, (int[]){B, NH, T, hs}, "%s.heads", prefix);
    tensors_add(t, &acts->concat, 3, (int[]){B, T, C}, "%s.concat", prefix);
}

// region: split-heads
// Rows bt = lo .. hi-1 of every image's tokens (row bt is token t of image b,
// bt = b*T + t): q, k, v (B,NH,T,hs) from qkv (B,T,3C), torch's
// view(B,T,3,NH,hs) and transpose.
static void split_rows(float *q, float *k, float *v, const float *qkv, size_t lo, size_t hi,
                       int T, int C, int NH) {
    int hs = C / NH;
    float *parts[3] = {q, k, v};
    for (size_t bt = lo; bt < hi; bt++) {
        size_t b = bt / T, t = bt % T;
        const float *row = qkv + bt * 3 * C; // (3C): q | k | v
        for (int p = 0; p < 3; p++)
            for (int h = 0; h < NH; h++) {
                float *dst = parts[p] + ((b * NH + h) * T + t) * hs; // (hs)
                memcpy(dst, row + p * C + h * hs, sizeof(float) * hs);
            }
    }
}

// All B*T rows, shared out among the threads (parallel.h).
static void split_heads(float *q, float *k, float *v, const float *qkv, int B, int T, int C,
                        int NH) {
    size_t n = (size_t)B * T;
    if (!parallel_worth()) {
        split_rows(q, k, v, qkv, 0, n, T, C, NH);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        parallel_share(n, &lo, &hi);
        split_rows(q, k, v, qkv, lo, hi, T, C, NH);
    }
}
// endregion: split-heads

// Rows bt = lo .. hi-1 of concat (B,T,C) from heads (B,NH,T,hs): head h fills
// columns h*hs .. (h+1)*hs.
static void merge_rows(float *concat, const float *heads, size_t lo, size_t hi, int T, int C,
                       int NH) {
    int hs = C / NH;
    for (size_t bt = lo; bt < hi; bt++) {
        size_t b = bt / T, t = bt % T;
        for (int h = 0; h < NH; h++)
            memcpy(concat + bt * C + h * hs, heads + ((b * NH + h) * T + t) * hs,
                   sizeof(float) * hs);
    }
}

// All B*T rows, shared out among the threads (parallel.h).
static void merge_heads(float *concat, const float *heads, int B, int T, int C, int NH) {
    size_t n = (size_t)B * T;
    if (!parallel_worth()) {
        merge_rows(concat, heads, 0, n, T, C, NH);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        parallel_share(n, &lo, &hi);
        merge_rows(concat, heads, lo, hi, T, C, NH);
    }
}

// region: heads-forward
// Steps 2-4 at once for heads that suit small_matmul (src/vecmath.h): every head
// reads its queries, keys and values where they lie in qkv (rows 3C apart) and
// writes its output straight into its columns of concat, so nothing is copied. The
// same three steps as attention_forward, with the keys scaled instead of the scores.
// Heads bh = lo .. hi-1 (head h of image b is bh = b*NH + h).
VEC_INLINE void heads_forward_part(float *concat, float *att, const float *qkv, size_t lo,
                                   size_t hi, int T, int C, int NH) {
    // concat (B,T,C), att (B,NH,T,T), qkv (B,T,3C)
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    for (int bh = (int)lo; bh < (int)hi; bh++) {
        int b = bh / NH, h = bh % NH;
        const float *q = qkv + (size_t)b * T * 3 * C + h * hs, *k = q + C, *v = q + 2 * C; // (T,hs)
        float *a = att + (size_t)bh * T * T;                                               // (T,T)
        float *out = concat + (size_t)b * T * C + h * hs; // (T,hs), rows C apart
        float kt[SMALL_PACKED];                           // (hs, T rounded up to 8)
        // scores = q (k / sqrt(hs))^T, each row then a distribution over the keys
        small_pack_b(kt, k, 3 * C, T, hs, true, scale);
        small_matmul(a, T, q, 3 * C, 1, kt, round_up8(T), T, T, hs, false);
        softmax_rows(a, a, T, T);
        // out = att v
        small_matmul(out, C, a, T, 1, v, 3 * C, T, hs, T, false);
    }
}

// All B*NH heads, shared out among the threads (parallel.h).
VEC_CLONES
static void heads_forward(float *concat, float *att, const float *qkv, int B, int T, int C,
                          int NH) {
    size_t n = (size_t)B * NH;
    if (!parallel_worth()) {
        heads_forward_part(concat, att, qkv, 0, n, T, C, NH);
        return;
    }
#pragma omp parallel
    {
        size_t lo, hi;
        parallel_share(n, &lo, &hi);
        heads_forward_part(concat, att, qkv, lo, hi, T, C, NH);
    }
}
// endregion: heads-forward

// region: mha-forward
void mha_forward(float *out, MhaActivations *acts, const float *x, const MhaWeights *w, int B,
                 int T, int C, int NH) {
    // out (B,T,C), x (B,T,C)
    assert(C % NH == 0 && "the width must be divisible by the number of heads");
    int hs = C / NH;
    // 1. queries, keys and values of every head in one product: qkv (B,T,3C)
    linear_forward(acts->qkv, x, w->in_proj_weight, w->in_proj_bias, B * T, C, 3 * C);
    if (small_head_fits(T, hs)) {
        // 2-4. small heads: attention on each, read and written in place
        heads_forward(acts->concat, acts->att, acts->qkv, B, T, C, NH);
    } else {
        // 2. split into heads: q, k, v (B,NH,T,hs)
        split_heads(acts->q, acts->k, acts->v, acts->qkv, B, T, C, NH);
        // 3. every head is one single-head attention: B*NH of them, independent
        attention_forward(acts->heads, acts->att, acts->q, acts->k, acts->v, B * NH, T, hs);
        // 4. the heads side by side again: concat (B,T,C)
        merge_heads(acts->concat, acts->heads, B, T, C, NH);
    }
    // 5. the output projection mixes the heads: out (B,T,C)
    linear_forward(out, acts->concat, w->out_proj_weight, w->out_proj_bias, B * T, C, C);
}
// endregion: mha-forward

// region: mha-forward-class
// Steps 2-4 of mha_forward for the class token's query alone, read in place in
// qkv as heads_forward reads it: head h of image b attends from token 0 to every
// token. Row 0 of each head's weights into att (B,NH,T,T); the heads of image
// b's class token into row b of concat (B,C).
static void class_heads_forward(float *concat, float *att, const float *qkv, int B, int T, int C,
                                int NH) {
    int hs = C / NH;
    float scale = 1.0f / sqrtf((float)hs);
    for (int bh = 0; bh < B * NH; bh++) {
        int b = bh / NH, h = bh % NH;
        const float *q = qkv + (size_t)b * T * 3 * C + h * hs; // token 0's query (hs)
        float *a = att + (size_t)bh * T * T;                   // row 0 of the head's (T,T)
        float *out = concat + (size_t)b * C + h * hs;          // (hs)
        // scores = q (k / sqrt(hs))^T over every token, then a distribution over them
        for (int t = 0; t < T; t++) {
            const float *k = q + (size_t)t * 3 * C + C; // token t's key (hs)
            float sum = 0.0f;
            for (int j = 0; j < hs; j++) sum += q[j] * (k[j] * scale);
            a[t] = sum;
        }
        softmax_rows(a, a, 1, T);
        // out = att v: the values weighted by row 0
        for (int j = 0; j < hs; j++) out[j] = 0.0f;
        for (int t = 0; t < T; t++) {
            const float *v = q + (size_t)t * 3 * C + 2 * C; // token t's value (hs)
            for (int j = 0; j < hs; j++) out[j] += a[t] * v[j];
        }
    }
}

void mha_forward_class(float *out, MhaActivations *acts, const float *x, const MhaWeights *w, int B,
                       int T, int C, int NH) {
    // out (B,C), x (B,T,C)
    assert(C % NH == 0 && "the width must be divisible by the number of heads");
    // 1. queries, keys and values of every token, as mha_forward: qkv (B,T,3C)
    linear_forward(acts->qkv, x, w->in_proj_weight, w->in_proj_bias, B * T, C, 3 * C);
    // 2-4. every head from the class token alone: concat (B,C)
    class_heads_forward(acts->concat, acts->att, acts->qkv, B, T, C, NH);
    // 5. the output projection of those B rows: out (B,C)
    linear_forward(out, acts->concat, w->out_proj_weight, w->out_proj_bias, B, C, C);
}
// endregion: mha-forward-class

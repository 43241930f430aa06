// mha.c — multi-head self-attention: one input projection to queries, keys and
// values for all heads at once, a split into NH heads of size hs = C/NH,
// single-head attention on every head, the heads concatenated back and an
// output projection. Layout and results as torch.nn.MultiheadAttention's.
#include "mha.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>
#include "attention.h"
#include "linear.h"

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
// q, k, v (B,NH,T,hs) from qkv (B,T,3C): torch's view(B,T,3,NH,hs) and transpose.
static void split_heads(float *q, float *k, float *v, const float *qkv, int B, int T, int C,
                        int NH) {
    int hs = C / NH;
    float *parts[3] = {q, k, v};
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++) {
            const float *row = qkv + ((size_t)b * T + t) * 3 * C; // (3C): q | k | v
            for (int p = 0; p < 3; p++)
                for (int h = 0; h < NH; h++) {
                    float *dst = parts[p] + (((size_t)b * NH + h) * T + t) * hs; // (hs)
                    memcpy(dst, row + p * C + h * hs, sizeof(float) * hs);
                }
        }
}
// endregion: split-heads

// concat (B,T,C) from heads (B,NH,T,hs): head h fills columns h*hs .. (h+1)*hs.
static void merge_heads(float *concat, const float *heads, int B, int T, int C, int NH) {
    int hs = C / NH;
    for (int b = 0; b < B; b++)
        for (int t = 0; t < T; t++)
            for (int h = 0; h < NH; h++)
                memcpy(concat + ((size_t)b * T + t) * C + h * hs,
                       heads + (((size_t)b * NH + h) * T + t) * hs, sizeof(float) * hs);
}

// region: mha-forward
void mha_forward(float *out, MhaActivations *acts, const float *x, const MhaWeights *w, int B,
                 int T, int C, int NH) {
    // out (B,T,C), x (B,T,C)
    assert(C % NH == 0 && "the width must be divisible by the number of heads");
    int hs = C / NH;
    // 1. queries, keys and values of every head in one product: qkv (B,T,3C)
    linear_forward(acts->qkv, x, w->in_proj_weight, w->in_proj_bias, B * T, C, 3 * C);
    // 2. split into heads: q, k, v (B,NH,T,hs)
    split_heads(acts->q, acts->k, acts->v, acts->qkv, B, T, C, NH);
    // 3. every head is one single-head attention: B*NH of them, independent
    attention_forward(acts->heads, acts->att, acts->q, acts->k, acts->v, B * NH, T, hs);
    // 4. the heads side by side again: concat (B,T,C)
    merge_heads(acts->concat, acts->heads, B, T, C, NH);
    // 5. the output projection mixes the heads: out (B,T,C)
    linear_forward(out, acts->concat, w->out_proj_weight, w->out_proj_bias, B * T, C, C);
}
// endregion: mha-forward

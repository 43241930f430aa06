// embed_backward.c — the backward pass of the token assembly: the class token
// and the position embeddings collect the gradients of every image.
#include "embed.h"

#include <stddef.h>

// region: tokens-backward
void tokens_backward(float *dpatch_emb, float *dclass_token, float *dpos, const float *dtokens,
                     int B, int N, int C) {
    // dpatch_emb (B,N,C), dclass_token (C), dpos (T,C): += and each may be NULL; dtokens (B,T,C)
    int T = N + 1;
    for (int b = 0; b < B; b++) {
        const float *d = dtokens + (size_t)b * T * C; // (T,C)
        // forward: tokens[b,0] = class_token + pos[0]
        if (dclass_token != NULL)
            for (int c = 0; c < C; c++) dclass_token[c] += d[c];
        // forward: tokens[b,t] = ... + pos[t], every t, so pos collects all of dtokens[b]
        if (dpos != NULL)
            for (int i = 0; i < T * C; i++) dpos[i] += d[i];
        // forward: tokens[b,1+n] = patch_emb[b,n] + pos[1+n]
        if (dpatch_emb != NULL) {
            float *dp = dpatch_emb + (size_t)b * N * C; // (N,C)
            for (int i = 0; i < N * C; i++) dp[i] += d[C + i];
        }
    }
}
// endregion: tokens-backward
